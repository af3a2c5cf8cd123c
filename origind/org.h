/*
 * org.h: what origind's parts share.
 *
 * origind is step 4 of the six: an HTTPS origin that decrypts a request,
 * processes it (static file, CGI script, FastCGI application) and encrypts
 * the response.  main.c owns the daemon (libmicrohttpd in thread-per-
 * connection mode, so a handler may block: each connection has its own
 * thread), TLS, request validation, body collection, dispatch, the trace
 * and the /_origind/ endpoints.  The handlers run once the whole request
 * body is in memory (bounded by max_body_size) and fill a struct org_reply.
 *
 * Threads: one per connection; struct org_server is read-only after start
 * except the stats (own mutex).  A struct org_req belongs to its
 * connection's thread and is freed in MHD's request-completed callback.
 */
#ifndef EDGED_ORG_H
#define EDGED_ORG_H

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "org_keys.h"

struct org_opts { ORG_KEYS(CFG_FIELD) };

/* A FastCGI application: requests under prefix go to it. */
struct org_fcgi_backend {
	char prefix[256];        /* "/php/" or "/app" */
	bool is_unix;
	char path[108];          /* unix socket path */
	char host[256];          /* TCP host */
	int port;
	struct org_fcgi_pool *pool; /* kept connections (org_fcgi.c) */
};

/* A Cache-Control rule: the longest matching prefix wins. */
struct org_cc_rule {
	char prefix[256];
	char value[256];
};

struct org_server {
	struct org_opts o;
	char docroot_real[4096];   /* realpath(docroot), "" when none */
	char cgi_real[4096];       /* realpath(cgi_bin), "" when none */
	struct org_fcgi_backend *fcgi;
	size_t nfcgi;
	struct org_cc_rule *cc;
	size_t ncc;
	char server_port[8];       /* SERVER_PORT */
	pthread_mutex_t stats_mu;  /* the stats, kept only with introspection on */
	struct org_stat *stats;    /* per path counts, in arrival order */
	size_t nstats, capstats;
	uint32_t *stat_slots;      /* hash slots: index + 1 into stats, 0 empty */
	unsigned long long stats_other; /* paths past the cap */
	unsigned long long requests;
};

/* The connection's TLS facts, as mod_ssl names them for CGI. */
struct org_tls {
	char protocol[16];       /* SSL_PROTOCOL: "TLSv1.3" */
	char cipher[96];         /* SSL_CIPHER: GnuTLS suite name */
	char sni[256];           /* SSL_TLS_SNI, "" if none sent */
	bool resumed;            /* SSL_SESSION_RESUMED: "Resumed" / "Initial" */
	char client_verify[256];  /* SSL_CLIENT_VERIFY: NONE, SUCCESS, FAILED:why */
	char client_s_dn[512];   /* SSL_CLIENT_S_DN, "" without a client cert */
	char client_i_dn[512];   /* SSL_CLIENT_I_DN */
};

#define ORG_REQ_MAGIC 0x6f726771u

struct org_req {
	unsigned magic;
	struct org_server *srv;
	struct MHD_Connection *conn;
	char *target;            /* raw request-target, as received */
	const char *method;      /* owned by MHD, valid for the request */
	const char *version;     /* "HTTP/1.1" */
	char *path;              /* normalized (org_path.h): decoded, no dot-segment, no "//" */
	const char *query;       /* raw query (after '?'), "" if none */
	const char *host;        /* Host header value, NULL if none */
	const char *content_type;/* Content-Type header, NULL if none */
	long long content_length;/* declared, -1 if none (chunked) */
	char *body;              /* the whole request body */
	size_t body_len, body_cap;
	bool too_large;          /* body passed max_body_size: 413 */
	const char *allow;       /* Allow for a 405 (NULL: "GET, HEAD") */
	bool validated;          /* first handler call done */
	struct org_tls tls;
	char remote_addr[INET6_ADDRSTRLEN];
	unsigned remote_port;
	char server_addr[INET6_ADDRSTRLEN];
	/* trace */
	const char *handler;     /* "static", "cgi", "fastcgi", "internal" */
	unsigned status;
	uint64_t t_start_ns, t_processed_ns;
	uint64_t bytes_out;      /* body bytes handed to MHD */
	char id[20];             /* request id for log lines */
};

/* What a handler produces.  On success resp is set (MHD takes it through
 * MHD_queue_response; main.c destroys its reference).  On failure resp is
 * NULL and status is the error to answer (502, 504, 404...), with detail
 * saying why for the log. */
struct org_reply {
	unsigned status;
	struct MHD_Response *resp;
	char detail[160];
};

/* ---- org_env.c: CGI/1.1 meta-variables (RFC 3875 section 4.1) ------------ */

/* Build the environment for a gateway request: every RFC 3875
 * meta-variable, HTTPS=on and mod_ssl's SSL_* facts, and HTTP_* for the
 * request's header fields (never HTTP_PROXY, never Content-Type/Length,
 * which have their own variables).  script_name is the URL path of the
 * script, path_info what follows it ("" if none), script_filename the file
 * (NULL for FastCGI apps without one).  Returns a NULL-terminated array of
 * malloc'd "NAME=value" strings (free with org_env_free), NULL when out of
 * memory. */
char **org_env_build(const struct org_req *r, const char *script_name,
                     const char *path_info, const char *script_filename);
void org_env_free(char **env);

/* ---- org_cgi.c: CGI/1.1 scripts under cgi_bin ----------------------------- */

/* Run script (an executable under cgi_real) for r.  Body on stdin, the
 * response head parsed, the rest streamed.  Exit before output or bad
 * headers: 502; past cgi_timeout: its process group is killed, 504. */
void org_cgi_handle(struct org_req *r, const char *script_filename,
                    const char *script_name, const char *path_info,
                    struct org_reply *out);

/* ---- org_fcgi.c: FastCGI responder client --------------------------------- */

void org_fcgi_handle(struct org_req *r, struct org_fcgi_backend *b,
                     const char *script_name, const char *path_info,
                     struct org_reply *out);
void org_fcgi_backend_free(struct org_fcgi_backend *b);

/* ---- org_static.c --------------------------------------------------------- */

void org_static_handle(struct org_req *r, struct org_reply *out);

/* ---- helpers in main.c ---------------------------------------------------- */

/* Add the Cache-Control of the longest matching cache_control rule. */
void org_add_cache_control(const struct org_server *srv, const char *path,
                           struct MHD_Response *resp);

/* Monotonic clock in ns. */
uint64_t org_now_ns(void);

/* Set once origind is stopping: CGI and FastCGI waits end (as timeouts)
 * so that connection threads finish and scripts are killed. */
extern int org_stopping;
#define ORG_STOPPING() __atomic_load_n(&org_stopping, __ATOMIC_ACQUIRE)
/* Longest single poll() while waiting on a script or an application, so
 * that a stop is noticed promptly. */
#define ORG_POLL_SLICE_MS 200

#endif
