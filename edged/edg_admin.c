/* edg_admin.c: PLACEHOLDER until the admin listener lands. */
#include "edg_ops.h"
int edg_admin_start(struct edg_server *srv, struct err *e) { (void)srv; (void)e; return 0; }
void edg_admin_stop(struct edg_server *srv) { (void)srv; }
