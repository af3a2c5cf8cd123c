/*
 * edg.h: what edged's files share.  main.c owns start-up, the listeners,
 * the slow-client watchdog and the request state machine; edg_tls.c the
 * viewer TLS (security policies, certificates chosen by SNI); edg_proxy.c
 * the origin leg (origin URLs, the request head sent upstream, response
 * header filtering).
 */
#ifndef EDGED_EDG_H
#define EDGED_EDG_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cfg.h"
#include "edg_keys.h"
#include "err.h"
#include "hclient.h"
#include "hresp.h"
#include "mcache.h"
#include "rstore.h"
#include "tconn.h"

struct edg_opts {
	EDG_KEYS(CFG_FIELD)
};

/* ---- viewer TLS (edg_tls.c) --------------------------------------------- */

/* The GnuTLS priority string of a CloudFront security policy name, NULL
 * for an unknown name. */
const char *edg_policy_priority(const char *name);

/* Load every cert/key pair (cert[i] with key[i]) for SNI selection and
 * make it the table handshakes use; the first pair is the default.
 * Errors name the file.  Warns about expired or not-yet-valid
 * certificates (start-up: edg_certs_build with strict false, then
 * edg_certs_install). */
int edg_certs_load(const struct cfg_list *certs, const struct cfg_list *keys,
                   const struct cfg_list *ocsp, struct err *e);
/* At exit, once no handshake can run: the current table and every retired
 * one. */
void edg_certs_free(void);

/* One complete certificate table, immutable once built. */
struct edg_certs;

/* Load and check every pair (the key belongs to its certificate, the
 * files parse) into a new table without installing it; NULL with e set
 * (naming the file) when any pair fails.  strict (SIGHUP): a certificate
 * that is expired or not yet valid is an error, unless the same
 * certificate is already being served (then it is only warned about, as
 * at start-up).  ocsp (empty, or one per certificate, "-" for none): the
 * OCSP response stapled for each pair, refused when it does not parse, is
 * about another certificate, is not "good", is badly signed or outdated
 * (an outdated one already stapled is only warned about on SIGHUP). */
struct edg_certs *edg_certs_build(const struct cfg_list *certs, const struct cfg_list *keys,
                                  const struct cfg_list *ocsp, bool strict, struct err *e);
size_t edg_certs_count(const struct edg_certs *t);
/* Publish t for the handshakes that start from now on (an atomic pointer
 * swap; handshakes under way keep the pair they picked) and log its
 * pairs.  The table t replaces is retired: GnuTLS keeps using the pair it
 * was given until the handshake ends, so a retired table is freed only
 * by a later install (or edg_certs_free) once it was retired more than
 * keep_ms ago.  Main thread only. */
void edg_certs_install(struct edg_certs *t, int64_t keep_ms);
/* Free a table that was never installed. */
void edg_certs_discard(struct edg_certs *t);

/* libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK2: the pair whose names
 * match the SNI, else the default pair, with its OCSP response if any. */
int edg_cert_select(gnutls_session_t s, const struct gnutls_cert_retr_st *info,
                    gnutls_pcert_st **pcert, unsigned int *pcert_length,
                    gnutls_ocsp_data_st **ocsp, unsigned int *ocsp_length,
                    gnutls_privkey_t *pkey, unsigned int *flags);

/* ---- the origin leg (edg_proxy.c) --------------------------------------- */

/* One origin URL and the endpoints the protocol policy may use. */
struct edg_origin {
	const char *key;        /* "origin" or "origin_failover", for messages */
	char url[1024];
	char host[256];         /* without brackets */
	char prefix[1024];      /* path prefix from the URL, no trailing '/' */
	struct hc_origin *https, *http; /* NULL when the policy never uses it */
	char https_host_hdr[300], http_host_hdr[300]; /* Host: host[:port] */
};

enum edg_opp { EDG_OPP_HTTPS, EDG_OPP_HTTP, EDG_OPP_MATCH };

/* Parse url (o->key names it in errors) into o->host and o->prefix, the
 * scheme into *https and the port (explicit or the scheme's) into *port. */
int edg_origin_parse(struct edg_origin *o, const char *url, bool *https, int *port,
                     struct err *e);

/* Parse url into o and set up its endpoints for the policy. */
int edg_origin_init(struct edg_origin *o, const char *key, const char *url,
                    const struct edg_opts *opts, enum edg_opp policy, struct err *e);
void edg_origin_free(struct edg_origin *o);

/* What the request head toward the origin needs to know. */
struct edg_fwd {
	struct MHD_Connection *conn;
	const char *method;
	const char *target;      /* as the viewer sent it */
	const char *prefix;      /* origin path prefix */
	const char *host;        /* Host value to send */
	const char *client_ip;
	bool viewer_tls;
	const char *via;         /* "1.1 node (edged)" */
	const char *request_id;
	long long content_length; /* -1: none */
	bool chunked;            /* the viewer's body is chunked */
	bool head_only;          /* forwarded as HEAD */
	bool strip_cond;         /* a fetch for the cache: drop If-* and Range (the
	                          * cache asks itself) and the fields that could
	                          * poison an entry unless keyed */
	const struct cfg_list *keyed; /* cache_key_headers */
	bool keep_range;         /* ... but forward Range and If-Range (a miss) */
	const char *extra;       /* more fields, "Name: value\r\n" each, or NULL */
};

/* The request head for the origin, malloc'd, in *out / *len: hop-by-hop
 * fields (and those named by Connection) dropped, X-Forwarded-For
 * appended to, X-Forwarded-Proto / Via / X-Edge-Request-Id set.  0 or -1
 * (out of memory, or the result over 256 KiB). */
int edg_build_head(const struct edg_fwd *f, char **out, size_t *len);

/* True for a response field the edge must not pass to the viewer: hop-by-
 * hop fields, the fields the origin's Connection names, and the framing
 * libmicrohttpd writes itself (Content-Length, Transfer-Encoding). */
bool edg_skip_response_field(const struct hresp *r, const struct hresp_field *f);

/* True when a request-target path climbs out of the path prefix ("..")
 * or the target is not origin-form; writes the upstream target. */
int edg_upstream_target(const char *prefix, const char *target, char *out, size_t outlen);
/* The longest upstream target edg_build_head writes (a heap buffer: threads
 * have 256 KiB stacks). */
#define EDG_TARGET_MAX 16384
/* 0 when edg_build_head can write the upstream target of target, else -1
 * (it climbs out of the prefix, or is longer than EDG_TARGET_MAX). */
int edg_upstream_target_check(const char *prefix, const char *target);

/* Fields that end at the next hop whatever Connection says (RFC 9110
 * 7.6.1: Connection, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade,
 * Proxy-*), and Content-Length (framing edged redoes): never forwarded. */
bool edg_hop_by_hop(const char *name, size_t nlen);

/* A comma-separated list in value (one field line) holds token, case-
 * insensitively. */
bool edg_list_has(const char *value, size_t vlen, const char *token);

/* ---- the server and one request (main.c) ----------------------------------- */

#define REQ_MAGIC 0xed9e0001u

/* Why the edge answered a request itself (edg_req.local_kind). */
enum {
	EDG_LOCAL_NONE,
	EDG_LOCAL_INVALID,       /* refused request: 4xx/5xx from validation */
	EDG_LOCAL_REDIRECT,      /* 301 to HTTPS */
	EDG_LOCAL_DENIED,        /* 403 https-only */
	EDG_LOCAL_ORIGIN_ERROR,  /* 502/504 */
};

/* One viewer connection, for the slow-client watchdog. */
struct edg_conn {
	struct edg_conn *prev, *next;
	int fd;
	int64_t deadline_ms;   /* 0: nothing to wait for */
	const char *what;      /* "handshake+head", "head", "idle", "body", "response" */
	const char *fired;     /* what the watchdog cut the connection for, or NULL */
	/* "response": the viewer's progress, checked at each deadline */
	bool sending;
	uint64_t acked0, acked;  /* TCP bytes acknowledged when the answer was
	                          * queued; since then */
	int64_t t_progress;      /* the viewer last took a byte (or had all) */
	int64_t t_check;         /* last check */
	int64_t blocked_ms;      /* time bytes were waiting for the viewer */
	bool tls_counted;      /* edg_metrics_tls() done */
	bool requested;        /* a request arrived (else: handshake failed) */
};

struct edg_listener {
	struct edg_server *srv;
	bool tls;
};

struct edg_server {
	struct edg_opts o;
	enum edg_opp opp;
	struct edg_origin primary, failover;
	bool has_failover;
	char via[320];          /* "1.1 node (edged)" */
	char loop_mark[300];    /* " node (edged)" as found in a looping Via */
	const char *priority;
	int https_port;
	struct edg_listener l_https, l_http;
	struct MHD_Daemon *d_https, *d_http;

	pthread_mutex_t conns_mu;
	struct edg_conn *conns;
	unsigned long nconns;
	unsigned long inflight;  /* requests between uri_log and completed */
	unsigned long uploading; /* origin exchanges sending a body still
	                          * arriving (atomic; main.c upload_share) */
	pthread_t watchdog;
	bool stopping;

	struct edg_cache *cache;  /* NULL when cache = false */
	struct edg_inval *inval;  /* invalidations (with the cache) */

	/* operations (edg_ops.h) */
	int argc;                 /* the command line, for SIGHUP */
	char **argv;
	struct edg_hpol *hpol;    /* current response-header policy (atomic) */
	struct edg_hpol *hpol_old;/* retired ones, freed at exit */
	bool draining;            /* SIGTERM: /healthz 503, Connection: close */
	struct MHD_Daemon *d_admin;
	struct edg_admin *admin;
	char node[256];           /* node_name */
	char *access_log;         /* the open access log's path, or NULL */
};

struct edg_req {
	unsigned magic;
	struct edg_server *srv;
	bool tls;                /* arrived over HTTPS */
	struct MHD_Connection *conn;
	struct edg_conn *vc;
	char *target;            /* request-target: as received until first_call
	                          * validates it, then its normal form (lib/upath:
	                          * origin-form, dot-segments resolved), which is
	                          * keyed, matched against bans and forwarded */
	char *fwd_target;        /* the target sent to the origin when it is not
	                         * target: a cacheable request's query cut to
	                         * its keyed parameters (malloc'd), or NULL */
	const char *raw_uri;     /* libmicrohttpd's copy of the received target
	                          * (until first_call: for its true length) */
	const char *method;
	char id[40];
	char client_ip[64];
	char host[300];          /* the viewer's Host (or absolute-form authority) */
	bool validated;
	bool head_only;          /* HEAD: no response body */
	bool retryable;          /* GET/HEAD without a body */
	long long content_length;
	bool chunked;

	unsigned local_status;   /* answer from the edge itself (redirect, 403) */
	const char *local_why;
	char *location;          /* the redirect's Location (malloc'd) */

	struct edg_origin *org;  /* the origin in use */
	char *head;              /* request head for the origin */
	size_t head_len;
	bool began;              /* hc_begin succeeded */
	bool failed;             /* origin failure: answer 502/504 */
	enum hc_fail fail;
	char why[300];
	bool too_large;          /* chunked body over the limit */
	bool abandoned;          /* the origin answered (or failed) before the
	                          * whole body was sent: the rest is dropped */
	long long body_sent;     /* request body bytes received */
	int64_t body_t0;         /* when the body began to be awaited (ms) */
	int64_t body_paused;     /* ms spent since on edged's side (origin I/O) */
	bool buffering;          /* the body is read whole before the origin leg */
	bool uploading;          /* counted in srv->uploading */
	char *body_buf;          /* ... into this (malloc'd) */
	size_t body_len, body_cap;

	unsigned status;
	uint64_t bytes_out;
	int64_t t0;

	/* the cache (edg_cache.c) */
	bool fwd_get;            /* a HEAD sent upstream as GET (a cacheable miss) */
	bool strip_cond;         /* the viewer's validators and Range not forwarded */
	bool keep_range;         /* ... except Range / If-Range (a miss for a range) */
	char *extra;             /* extra request fields for the origin (malloc'd) */
	uint64_t pre_read;       /* body bytes already read from the origin that a
	                          * reader replays first (counted in the length) */
	struct edg_creq *c;      /* cache state; NULL when the cache is not used */

	/* what was answered, for the metrics and the access log (set by
	 * edg_queue and the origin reader) */
	const char *result;      /* the X-Cache value sent ("Hit from edged",
	                          * "Error from edged", ...), NULL: none */
	unsigned local_kind;     /* EDG_LOCAL_*: why the edge answered itself */
	char ctype[128];         /* Content-Type answered, "" none */
	long long resp_len;      /* Content-Length answered, -1 unknown */
	long long range_start, range_end; /* from Content-Range, else -1 */
	int64_t t_queued;        /* when the answer was queued (ms, monotonic) */
	uint64_t bytes_in;       /* request head + body bytes from the viewer */
	uint64_t head_out;       /* response head bytes (estimated) */
	bool origin_fetched;     /* an origin exchange answered (or failed) for r */
	bool aborted;            /* the viewer went away (or the response broke)
	                          * before the answer was complete */
	char tls_proto[16];      /* "TLSv1.3", "" over plain HTTP */
	const char *version;     /* "HTTP/1.1" or "HTTP/1.0" (static) */
	char tls_cipher[48];     /* OpenSSL-style name, as CloudFront logs it */
	unsigned client_port;

	/* last and not zeroed at allocation (4 KiB; hc_begin sets it up):
	 * valid once began */
	struct hc_exchange x;
};

/* Answers and origin I/O that main.c offers the cache (edg_cache.c). */

/* Queue resp (status) for r and destroy it: the header policy applied,
 * Connection: close while draining, and what the metrics and the access
 * log want recorded (xcache: the X-Cache value the response carries, or
 * NULL; len its Content-Length, -1 unknown). */
enum MHD_Result edg_queue(struct edg_req *r, struct MHD_Response *resp, unsigned status,
                          const char *xcache, long long len);

/* A one-line text answer from the edge itself (close: end the connection). */
enum MHD_Result edg_send_local(struct edg_req *r, unsigned status, const char *why, bool close,
                               const char *xcache);
/* 502/504 for r->fail, with X-Cache: Error from edged. */
enum MHD_Result edg_send_origin_error(struct edg_req *r);
/* Send the request to the origin (primary, then failover) and read the
 * response head into r->x.resp.  0, or -1 with r->fail / r->why. */
int edg_fetch_head(struct edg_req *r);
/* libmicrohttpd body reader streaming the origin's body (cls: the request). */
ssize_t edg_body_reader(void *cls, uint64_t pos, char *buf, size_t max);
/* Queue the origin's response (r->x.resp) for the viewer: hop-by-hop
 * fields dropped, Via / X-Edge-Request-Id / X-Cache / Cache-Status added,
 * the body from reader(cls) (NULL: edg_body_reader with r).  fr frees cls
 * (may be NULL). */
enum MHD_Result edg_queue_origin(struct edg_req *r, MHD_ContentReaderCallback reader, void *cls,
                                 MHD_ContentReaderFreeCallback fr, const char *xcache,
                                 const char *cache_status);
int64_t edg_now_ms(void);

/* ---- the cache (edg_cache.c) ---------------------------------------------- */

/* Set up the cache from the cache keys of srv->o (srv->cache stays NULL
 * when cache = false).  Errors name the key. */
int edg_cache_init(struct edg_server *srv, struct err *e);
/* false when background refreshes are still running (then the cache and
 * the origins they use must stay allocated). */
bool edg_cache_free(struct edg_server *srv);
/* True when r goes through the cache (GET or HEAD without a body). */
bool edg_cache_applies(const struct edg_req *r);
/* Answer r from the cache, revalidating or fetching as RFC 9111 says. */
enum MHD_Result edg_cache_respond(struct edg_req *r);
/* After the origin's head for an unsafe method: invalidate the target URI
 * and the same-origin Location / Content-Location (RFC 9111 4.4). */
void edg_cache_invalidate(struct edg_req *r);
/* The request ended: r->c released, a collapsed fetch's waiters woken. */
void edg_cache_end(struct edg_req *r);
/* SIGTERM: wait (until until_ms) for background refreshes to finish. */
void edg_cache_drain(struct edg_server *srv, int64_t until_ms);

/* Counters for the metrics (all zero when the cache is off). */
struct edg_cache_stats {
	bool on;
	unsigned long long hit, stale, refresh, miss, stored, collapsed, bypass, corrupt,
	                   invalidated, bans, ban_hits, inval_poll_failures, store_refused;
	unsigned long long mac_failed, too_large; /* of corrupt: no valid MAC, over the cap */
	size_t store_held, store_held_max;  /* in-flight store bytes, their limit */
	size_t bans_active;
	struct mcache_stats mem;
	bool has_redis;
	struct rstore_stats redis;
};
void edg_cache_stats(struct edg_server *srv, struct edg_cache_stats *st);
/* PING Redis (0 when there is none). */
int edg_cache_ping(struct edg_server *srv, struct err *e);

#endif
