/* edg_alog.c: PLACEHOLDER until the access log lands (see edg_ops.h). */
#include "edg_ops.h"
int edg_alog_open(struct edg_server *srv, const char *path, struct err *e) { (void)srv; (void)path; (void)e; return 0; }
void edg_alog_request(const struct edg_req *r) { (void)r; }
void edg_alog_reopen(void) {}
void edg_alog_close(void) {}
void edg_alog_counts(unsigned long long *w, unsigned long long *d) { *w = 0; *d = 0; }
