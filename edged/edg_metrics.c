/* edg_metrics.c: PLACEHOLDER until the metrics land (see edg_ops.h). */
#include <stdlib.h>
#include "edg_ops.h"
void edg_metrics_tls(gnutls_session_t s) { (void)s; }
void edg_metrics_origin(int64_t ms, enum hc_fail fail, unsigned status) { (void)ms; (void)fail; (void)status; }
void edg_metrics_request(const struct edg_req *r) { (void)r; }
void edg_metrics_handshake_failed(void) {}
size_t edg_metrics_render(struct edg_server *srv, char **out) { (void)srv; *out = NULL; return 0; }
