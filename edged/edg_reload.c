/* edg_reload.c: PLACEHOLDER until SIGHUP reloads land (see edg_ops.h). */
#include "edg_ops.h"
int edg_reload(struct edg_server *srv, int argc, char **argv) { (void)srv; (void)argc; (void)argv; return -1; }
