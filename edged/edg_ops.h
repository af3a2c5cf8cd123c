/*
 * edg_ops.h: operating edged.  The metrics (edg_metrics.c), the CloudFront-
 * format access log (edg_alog.c), the admin listener with invalidations
 * and health (edg_admin.c), SIGHUP reloads (edg_reload.c) and the
 * response-header policy (edg_hpol.c).
 *
 * The request path calls in at fixed points: edg_metrics_tls() once per
 * viewer connection when its first request arrives, edg_metrics_origin()
 * after each origin exchange's head (or failure), and, when a request
 * ends (libmicrohttpd's completed callback, on the request's thread),
 * edg_metrics_request() then edg_alog_request().  Everything they read is
 * in struct edg_req (edg.h); none of them blocks.
 */
#ifndef EDGED_EDG_OPS_H
#define EDGED_EDG_OPS_H

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edg.h"
#include "err.h"
#include "hclient.h"

/* ---- metrics (edg_metrics.c) ---------------------------------------------- */

/* One viewer TLS connection's first request: its version and whether the
 * handshake resumed a session. */
void edg_metrics_tls(gnutls_session_t s);
/* One origin exchange: the time from sending the request to its response
 * head (or to the failure), fail HC_OK or the failure class, status the
 * origin's (0 on failure). */
void edg_metrics_origin(int64_t ms, enum hc_fail fail, unsigned status);
/* A request ended (r->status, r->result, r->bytes_in/out ...). */
void edg_metrics_request(const struct edg_req *r);
/* Viewer TLS handshakes that failed (counted by the watchdog / conn_cb). */
void edg_metrics_handshake_failed(void);
/* The watchdog cut a viewer connection waiting for what ("head", "body",
 * "response", ...: edg_conn.what). */
void edg_metrics_viewer_timeout(const char *what);
/* The Prometheus text exposition of every metric, malloc'd in *out (its
 * length returned; 0 and *out NULL when out of memory).  Reads the cache's
 * counters through edg_cache_stats(). */
size_t edg_metrics_render(struct edg_server *srv, char **out);

/* ---- access log (edg_alog.c) ----------------------------------------------- */

/* Open path ("-": standard output) and start the writer thread; writes
 * the #Version / #Fields header when the file is new or empty.  Errors
 * name the key access_log and the file. */
int edg_alog_open(struct edg_server *srv, const char *path, struct err *e);
/* Format r's line and queue it for the writer (never blocks on I/O; a
 * full queue drops the line and counts it). */
void edg_alog_request(const struct edg_req *r);
/* SIGUSR1: reopen the file (logrotate moved it away). */
void edg_alog_reopen(void);
/* Flush what is queued, stop the writer, close the file. */
void edg_alog_close(void);
/* Lines written and dropped so far (for the metrics). */
void edg_alog_counts(unsigned long long *written, unsigned long long *dropped);

/* ---- response-header policy (edg_hpol.c) ----------------------------------- */

struct edg_hpol;
/* Build the policy of opts (hsts, add_header, remove_header).  Errors
 * name the key. */
struct edg_hpol *edg_hpol_build(const struct edg_opts *o, struct err *e);
/* The configuration's check of hsts, add_header and remove_header values
 * as they are set (lib/cfg.h's cfg_spec.check), so a bad one is reported
 * with its FILE:LINE or flag. */
int edg_hpol_check(const char *key, const char *value, struct err *e);
/* Apply the server's current policy to a response about to be queued:
 * HSTS on HTTPS answers only (RFC 6797 7.2), added fields replace the
 * response's own, removed fields dropped. */
void edg_hpol_apply(struct edg_server *srv, const struct edg_req *r, struct MHD_Response *resp);
/* Make p the current policy (the old one is kept until exit: answers in
 * flight may still read it). */
void edg_hpol_install(struct edg_server *srv, struct edg_hpol *p);
void edg_hpol_free_all(struct edg_server *srv);

/* ---- SIGHUP (edg_reload.c) ------------------------------------------------- */

/* edged's configuration table (main.c), for re-reading it. */
const struct cfg_spec *edg_cfg_spec(void);

/* Re-read the configuration (the same argv) and the certificates: new
 * handshakes get the new certificates, connections open carry on.  A bad
 * file or key keeps everything as it was, with a log line naming it.
 * Keys that cannot change while running are reported, not applied.
 * 0 when applied, -1 when refused. */
int edg_reload(struct edg_server *srv, int argc, char **argv);

/* ---- admin listener (edg_admin.c) ------------------------------------------ */

int edg_admin_start(struct edg_server *srv, struct err *e);
void edg_admin_stop(struct edg_server *srv);

#endif
