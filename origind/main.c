/*
 * origind: the HTTPS origin gateway, step 4 of the six (decrypt, process,
 * encrypt), runnable on its own and as the demo's and the tests' origin.
 *
 * Model: libmicrohttpd with TLS (GnuTLS) in thread-per-connection mode, so
 * a handler may block on a script or a FastCGI app without stalling other
 * connections; max_connections bounds the threads.  Every request passes
 * through:
 *   uri_log()      MHD's first look: allocates struct org_req, keeps the
 *                  raw request-target (before any unescaping)
 *   access() #1    TLS facts; mutual TLS enforced (403 before anything
 *                  else); the head validated (lib/hreq.c): 400/405/413/
 *                  414/417/501 and close; the path normalized (org_path.h:
 *                  the one form every later step routes on)
 *   access() #2..  body collected up to max_body_size
 *   access() last  dispatch: /_origind/, FastCGI prefixes, /cgi-bin/,
 *                  static files; the reply queued
 *   completed()    trace of the encrypt step, stats, free
 * TLS session tickets are enabled per connection (libmicrohttpd 0.9.75
 * enables no resumption by itself) from the connection-start callback,
 * under keys that rotate every ticket_key_rotation (lib/tickets.c).
 * Renegotiation: libmicrohttpd closes the connection on GNUTLS_E_REHANDSHAKE
 * and origind never starts a handshake again, so a renegotiation attempt
 * never completes.
 *
 * Threads and locks: srv is read-only after start, except srv->stats
 * (stats_mu).  Each org_req belongs to one connection thread.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "hreq.h"
#include "log.h"
#include "org.h"
#include "org_path.h"
#include "srv.h"
#include "tickets.h"
#include "tls.h"
#include "version.h"

#define ORG_ROW(...) CFG_ROW(struct org_opts, __VA_ARGS__)
static const struct cfg_key org_keys[] = { ORG_KEYS(ORG_ROW) };
static const struct cfg_spec org_spec = {
	"origind", "--cert FILE --key FILE [--docroot DIR] [options]",
	"An HTTPS origin that shows step 4 of the six: it decrypts each request, "
	"processes it (a static file, a CGI/1.1 script or a FastCGI application) "
	"and encrypts the response. --trace logs the three steps with their facts.",
	org_keys, sizeof org_keys / sizeof org_keys[0], 0, 0, true, NULL,
};

int org_stopping;

struct org_stat {
	char *path;
	unsigned long long count;
};

uint64_t
org_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double
ms_since(uint64_t t0)
{
	return (double)(org_now_ns() - t0) / 1e6;
}

/* ---- responses ---------------------------------------------------------- */

/* Queue a small text error page; close says whether the connection must
 * end (framing or validation errors). */
static enum MHD_Result
send_error(struct org_req *r, unsigned status, const char *why, bool close)
{
	char body[256];
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int n;

	n = snprintf(body, sizeof body, "%u %s%s%s\n", status, srv_reason(status),
	             why && *why ? ": " : "", why ? why : "");
	resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Server", "origind/" EDGED_VERSION);
	if (status == 405)
		MHD_add_response_header(resp, "Allow", r->allow ? r->allow : "GET, HEAD");
	if (close)
		MHD_add_response_header(resp, "Connection", "close");
	r->status = status;
	r->bytes_out = (uint64_t)n;
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
send_json(struct org_req *r, cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len;

	cJSON_Delete(j);
	if (s == NULL)
		return send_error(r, 500, "out of memory", false);
	len = strlen(s);
	resp = MHD_create_response_from_buffer(len, s, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Server", "origind/" EDGED_VERSION);
	r->status = 200;
	r->bytes_out = len;
	ret = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

void
org_add_cache_control(const struct org_server *srv, const char *path,
                      struct MHD_Response *resp)
{
	const struct org_cc_rule *best = NULL;
	size_t i, bestlen = 0;

	for (i = 0; i < srv->ncc; i++) {
		size_t l = strlen(srv->cc[i].prefix);

		if (strncmp(path, srv->cc[i].prefix, l) == 0 && (best == NULL || l > bestlen)) {
			best = &srv->cc[i];
			bestlen = l;
		}
	}
	if (best != NULL)
		MHD_add_response_header(resp, "Cache-Control", best->value);
}

/* ---- TLS facts -------------------------------------------------------------- */

static void
tls_facts(struct org_req *r, gnutls_session_t s, bool want_client)
{
	struct org_tls *t = &r->tls;
	const char *v = gnutls_protocol_get_name(gnutls_protocol_get_version(s));
	const char *cs = gnutls_ciphersuite_get(s);
	size_t len = sizeof t->sni;
	unsigned type, status = 0, n = 0;
	const gnutls_datum_t *peers;

	/* mod_ssl spells versions "TLSv1.3"; GnuTLS says "TLS1.3" */
	if (v != NULL && strncmp(v, "TLS", 3) == 0)
		snprintf(t->protocol, sizeof t->protocol, "TLSv%s", v + 3);
	else
		snprintf(t->protocol, sizeof t->protocol, "%s", v ? v : "unknown");
	snprintf(t->cipher, sizeof t->cipher, "%s", cs ? cs : "unknown");
	if (gnutls_server_name_get(s, t->sni, &len, &type, 0) != 0 ||
	    type != GNUTLS_NAME_DNS)
		t->sni[0] = '\0';
	t->resumed = gnutls_session_is_resumed(s) != 0;
	snprintf(t->client_verify, sizeof t->client_verify, "NONE");
	peers = gnutls_certificate_get_peers(s, &n);
	if (peers == NULL || n == 0)
		return;
	if (want_client) {
		gnutls_typed_vdata_st purpose = {
			.type = GNUTLS_DT_KEY_PURPOSE_OID,
			.data = (void *)GNUTLS_KP_TLS_WWW_CLIENT,
		};
		int rc = gnutls_certificate_verify_peers(s, &purpose, 1, &status);

		if (rc < 0) {
			snprintf(t->client_verify, sizeof t->client_verify, "FAILED:%s",
			         gnutls_strerror(rc));
		} else if (status != 0) {
			gnutls_datum_t out = { NULL, 0 };

			gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
			                                             &out, 0);
			snprintf(t->client_verify, sizeof t->client_verify, "FAILED:%s",
			         out.data ? (char *)out.data : "untrusted");
			gnutls_free(out.data);
		} else {
			snprintf(t->client_verify, sizeof t->client_verify, "SUCCESS");
		}
	}
	{
		gnutls_x509_crt_t crt;
		size_t dl;

		if (gnutls_x509_crt_init(&crt) < 0)
			return;
		if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) == 0) {
			dl = sizeof t->client_s_dn;
			if (gnutls_x509_crt_get_dn(crt, t->client_s_dn, &dl) < 0)
				t->client_s_dn[0] = '\0';
			dl = sizeof t->client_i_dn;
			if (gnutls_x509_crt_get_issuer_dn(crt, t->client_i_dn, &dl) < 0)
				t->client_i_dn[0] = '\0';
		}
		gnutls_x509_crt_deinit(crt);
	}
}

/* ---- stats ------------------------------------------------------------------ */

/* Requests per path, only with introspection on.  A request costs one
 * hash and at most STAT_PROBES slot looks under stats_mu, whatever came
 * before: an open-addressing table of STAT_SLOTS slots (index + 1 into
 * srv->stats, 0 empty), kept under a third full by the cap, with a hash
 * seeded at start so that a client cannot pick colliding paths.  Past
 * MAX_STAT_PATHS paths, a path longer than STAT_PATH_MAX, or a probe run
 * longer than STAT_PROBES, a new path is counted under "(other)". */
#define MAX_STAT_PATHS 10000
#define STAT_SLOTS     32768   /* a power of two, > 3 * MAX_STAT_PATHS */
#define STAT_PROBES    64
#define STAT_PATH_MAX  1024

static uint64_t stat_seed;

static uint64_t
stat_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u ^ stat_seed;

	for (; *s != '\0'; s++) { /* FNV-1a, then splitmix64's finalizer */
		h ^= (unsigned char)*s;
		h *= 0x100000001b3u;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebu;
	return h ^ (h >> 31);
}

static void
stats_count(struct org_server *srv, const char *path)
{
	size_t i, slot, free_slot = STAT_SLOTS;
	uint64_t h = stat_hash(path);

	pthread_mutex_lock(&srv->stats_mu);
	srv->requests++;
	if (srv->stat_slots == NULL &&
	    (srv->stat_slots = calloc(STAT_SLOTS, sizeof *srv->stat_slots)) == NULL)
		goto other;
	for (i = 0; i < STAT_PROBES; i++) {
		uint32_t e;

		slot = (size_t)(h + i) & (STAT_SLOTS - 1);
		e = srv->stat_slots[slot];
		if (e == 0) {
			free_slot = slot;
			break;
		}
		if (strcmp(srv->stats[e - 1].path, path) == 0) {
			srv->stats[e - 1].count++;
			goto out;
		}
	}
	if (free_slot == STAT_SLOTS || srv->nstats >= MAX_STAT_PATHS ||
	    strlen(path) > STAT_PATH_MAX)
		goto other;
	if (srv->nstats == srv->capstats) {
		size_t cap = srv->capstats ? srv->capstats * 2 : 64;
		struct org_stat *ns = realloc(srv->stats, cap * sizeof *ns);

		if (ns == NULL)
			goto other;
		srv->stats = ns;
		srv->capstats = cap;
	}
	srv->stats[srv->nstats].path = strdup(path);
	if (srv->stats[srv->nstats].path == NULL)
		goto other;
	srv->stats[srv->nstats].count = 1;
	srv->stat_slots[free_slot] = (uint32_t)++srv->nstats;
	goto out;
other:
	srv->stats_other++;
out:
	pthread_mutex_unlock(&srv->stats_mu);
}

static enum MHD_Result
serve_stats(struct org_req *r)
{
	struct org_server *srv = r->srv;
	cJSON *j = cJSON_CreateObject(), *paths;
	size_t i;

	pthread_mutex_lock(&srv->stats_mu);
	cJSON_AddNumberToObject(j, "requests", (double)srv->requests);
	paths = cJSON_AddObjectToObject(j, "paths");
	for (i = 0; i < srv->nstats; i++)
		cJSON_AddNumberToObject(paths, srv->stats[i].path, (double)srv->stats[i].count);
	if (srv->stats_other > 0)
		cJSON_AddNumberToObject(paths, "(other)", (double)srv->stats_other);
	pthread_mutex_unlock(&srv->stats_mu);
	return send_json(r, j);
}

static enum MHD_Result
serve_session(struct org_req *r)
{
	cJSON *j = cJSON_CreateObject();
	const struct org_tls *t = &r->tls;

	cJSON_AddStringToObject(j, "tls_version", t->protocol);
	cJSON_AddStringToObject(j, "cipher", t->cipher);
	cJSON_AddStringToObject(j, "sni", t->sni);
	cJSON_AddBoolToObject(j, "resumed", t->resumed);
	cJSON_AddStringToObject(j, "client_verify", t->client_verify);
	cJSON_AddStringToObject(j, "client_s_dn", t->client_s_dn);
	cJSON_AddStringToObject(j, "client_i_dn", t->client_i_dn);
	cJSON_AddStringToObject(j, "remote_addr", r->remote_addr);
	cJSON_AddNumberToObject(j, "remote_port", r->remote_port);
	cJSON_AddStringToObject(j, "server", "origind/" EDGED_VERSION);
	return send_json(r, j);
}

/* ---- the request path ---------------------------------------------------- */

static void *
uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct org_req *r = calloc(1, sizeof *r);
	static unsigned long long seq;

	if (r == NULL)
		return NULL;
	r->magic = ORG_REQ_MAGIC;
	r->srv = cls;
	r->conn = conn;
	r->target = strdup(uri ? uri : "");
	r->content_length = -1;
	r->t_start_ns = org_now_ns();
	snprintf(r->id, sizeof r->id, "%llx-%llx", (unsigned long long)getpid(),
	         __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	return r;
}

struct hdr_walk {
	struct hreq *h;
	struct org_req *r;
	size_t head_bytes; /* name: value CRLF of every field */
};

static enum MHD_Result
walk_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
            const char *value, size_t value_size)
{
	struct hdr_walk *w = cls;

	(void)kind;
	hreq_field(w->h, key, key_size, value ? value : "", value ? value_size : 0);
	w->head_bytes += key_size + 4 + (value ? value_size : 0);
	if (key_size == 12 && strcasecmp(key, "content-type") == 0)
		w->r->content_type = value;
	return MHD_YES;
}

/* First call: TLS facts, mutual TLS, validation.  Returns 0 to go on,
 * or -1 after queueing an error (or when the connection must die). */
static int
first_call(struct org_req *r, const char *method, const char *version,
           enum MHD_Result *ret)
{
	struct org_server *srv = r->srv;
	const union MHD_ConnectionInfo *ci;
	struct hreq h;
	struct hdr_walk w = { &h, r, 0 };
	struct hreq_limits lim = { (size_t)srv->o.max_url_length, srv->o.max_body_size };
	unsigned status;
	const char *q = "";
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	r->method = method;
	r->version = version;
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	srv_addr_text(ci ? ci->client_addr : NULL, r->remote_addr, sizeof r->remote_addr,
	          &r->remote_port);
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL && getsockname(ci->connect_fd, (struct sockaddr *)&ss, &sl) == 0)
		srv_addr_text((struct sockaddr *)&ss, r->server_addr, sizeof r->server_addr, NULL);
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL) {
		*ret = MHD_NO; /* no TLS: cannot happen on an HTTPS-only daemon */
		return -1;
	}
	tls_facts(r, ci->tls_session, srv->o.client_ca != NULL);
	if (srv->o.trace)
		LOG_INFO("trace", "id=%s step=decrypt tls=%s cipher=%s sni=%s client=%s "
		         "client_verify=%s resumed=%s peer=%s:%u", r->id, r->tls.protocol,
		         r->tls.cipher, log_q(r->tls.sni), log_q(r->tls.client_s_dn),
		         log_q(r->tls.client_verify), r->tls.resumed ? "yes" : "no",
		         r->remote_addr, r->remote_port);
	r->handler = "internal";
	if (srv->o.client_ca != NULL && strcmp(r->tls.client_verify, "SUCCESS") != 0) {
		LOG_WARN("client_cert.refused", "id=%s peer=%s verify=%s", r->id,
		         r->remote_addr, log_q(r->tls.client_verify));
		*ret = send_error(r, 403, "a valid client certificate is required", true);
		return -1;
	}
	hreq_begin(&h, method, r->target, strlen(r->target), version);
	MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, walk_header, &w);
	status = hreq_finish(&h, &lim);
	if (status == 0 && w.head_bytes + strlen(method) + strlen(r->target) + 12 >
	                       (size_t)srv->o.max_header_size) {
		status = 431;
		snprintf(h.why, sizeof h.why, "request head larger than max_header_size");
	}
	if (status == 0) { /* the one form every later step uses (org_path.h) */
		size_t room = strlen(r->target) + 2;
		int pr;

		r->path = malloc(room);
		if (r->path == NULL) {
			*ret = MHD_NO;
			return -1;
		}
		pr = org_path_normalize(r->target, r->path, room, &q);
		if (pr != ORG_PATH_OK) {
			free(r->path);
			r->path = NULL;
			status = 400;
			snprintf(h.why, sizeof h.why, "%s", pr == ORG_PATH_ABOVE ?
			         "path climbs above the root" : "bad path");
		}
	}
	if (status != 0) {
		if (status == 405)
			r->allow = "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH";
		LOG_INFO("request.refused", "id=%s status=%u why=%s method=%s target=%s", r->id,
		         status, log_q(h.why), log_q(method), log_q(r->target));
		*ret = send_error(r, status, h.why, true);
		return -1;
	}
	r->query = q;
	if (h.n_host > 0) {
		char *host = strndup(h.host, h.host_len);

		r->host = host; /* freed with the request */
	}
	r->content_length = h.content_length;
	return 0;
}

/* The longest FastCGI prefix that matches path. */
static struct org_fcgi_backend *
fcgi_match(struct org_server *srv, const char *path)
{
	struct org_fcgi_backend *best = NULL;
	size_t i, bl = 0;

	for (i = 0; i < srv->nfcgi; i++) {
		size_t l = strlen(srv->fcgi[i].prefix);

		if (strncmp(path, srv->fcgi[i].prefix, l) == 0 && l > bl) {
			best = &srv->fcgi[i];
			bl = l;
		}
	}
	return best;
}

/* /cgi-bin/NAME/rest: find NAME under cgi_bin; 0 with the script's real
 * path, or the status to answer. */
static unsigned
cgi_resolve(struct org_server *srv, const char *path, char *file, size_t flen,
            char *script_name, size_t snlen, const char **path_info)
{
	const char *name = path + strlen("/cgi-bin/");
	size_t nl = strcspn(name, "/");
	char want[PATH_MAX + 256], real[PATH_MAX];
	struct stat st;

	if (nl == 0 || nl > 255 || (nl <= 2 && name[0] == '.'))
		return 404;
	snprintf(want, sizeof want, "%s/%.*s", srv->cgi_real, (int)nl, name);
	if (realpath(want, real) == NULL)
		return 404;
	/* the script must stay inside cgi_bin (no symlink out) */
	if (strncmp(real, srv->cgi_real, strlen(srv->cgi_real)) != 0 ||
	    real[strlen(srv->cgi_real)] != '/')
		return 403;
	if (stat(real, &st) < 0 || !S_ISREG(st.st_mode))
		return 404;
	if (access(real, X_OK) != 0)
		return 403;
	snprintf(file, flen, "%s", real);
	snprintf(script_name, snlen, "/cgi-bin/%.*s", (int)nl, name);
	*path_info = name + nl;
	return 0;
}

static bool
known_method(const char *m)
{
	static const char *ok[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS",
	                            "PATCH" };
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strcmp(m, ok[i]) == 0)
			return true;
	return false;
}

static enum MHD_Result
dispatch(struct org_req *r)
{
	struct org_server *srv = r->srv;
	struct org_reply rep = { 0, NULL, "" };
	struct org_fcgi_backend *fb;
	enum MHD_Result ret;
	bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;

	if (srv->o.introspection)
		stats_count(srv, r->path);
	if (!known_method(r->method))
		return send_error(r, 501, "method not implemented", false);
	if (srv->o.introspection && strncmp(r->path, "/_origind/", 10) == 0) {
		r->handler = "internal";
		if (!get)
			return send_error(r, 405, NULL, false);
		if (strcmp(r->path, "/_origind/session") == 0)
			return serve_session(r);
		if (strcmp(r->path, "/_origind/stats") == 0)
			return serve_stats(r);
		return send_error(r, 404, NULL, false);
	}
	fb = fcgi_match(srv, r->path);
	if (fb != NULL) {
		r->handler = "fastcgi";
		org_fcgi_handle(r, fb, r->path, "", &rep);
	} else if (srv->cgi_real[0] != '\0' && strncmp(r->path, "/cgi-bin/", 9) == 0) {
		char file[PATH_MAX], sname[300];
		const char *pinfo = "";
		unsigned st;

		r->handler = "cgi";
		st = cgi_resolve(srv, r->path, file, sizeof file, sname, sizeof sname, &pinfo);
		if (st != 0)
			return send_error(r, st, NULL, false);
		org_cgi_handle(r, file, sname, pinfo, &rep);
	} else if (srv->docroot_real[0] != '\0') {
		r->handler = "static";
		if (!get)
			return send_error(r, 405, NULL, false);
		org_static_handle(r, &rep);
	} else {
		return send_error(r, 404, NULL, false);
	}
	r->t_processed_ns = org_now_ns();
	if (rep.resp == NULL) {
		/* the CGI and FastCGI handlers log their failures themselves */
		if (rep.detail[0] != '\0' && strcmp(r->handler, "static") == 0)
			LOG_WARN("handler.failed", "id=%s handler=%s status=%u why=%s", r->id,
			         r->handler, rep.status, log_q(rep.detail));
		return send_error(r, rep.status ? rep.status : 500, NULL, false);
	}
	if (MHD_get_response_header(rep.resp, "Server") == NULL)
		MHD_add_response_header(rep.resp, "Server", "origind/" EDGED_VERSION);
	r->status = rep.status;
	ret = MHD_queue_response(r->conn, rep.status, rep.resp);
	MHD_destroy_response(rep.resp);
	return ret;
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size,
          void **req_cls)
{
	struct org_req *r = *req_cls;
	enum MHD_Result ret = MHD_YES;

	(void)cls;
	(void)url;
	if (r == NULL || r->magic != ORG_REQ_MAGIC || r->target == NULL)
		return MHD_NO; /* out of memory in uri_log */
	if (!r->validated) {
		r->validated = true;
		if (first_call(r, method, version, &ret) < 0)
			return ret;
		/* Answer on a later call: a response queued in the first call makes
		 * libmicrohttpd close the connection (it cannot know the body was
		 * empty).  When a body comes, it sends 100 Continue after this. */
		(void)conn;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		if (r->too_large || (long long)(r->body_len + n) > r->srv->o.max_body_size) {
			/* a chunked body has no declared length: drop the rest and
			 * answer 413 once it has been read */
			r->too_large = true;
			*upload_data_size = 0;
			return MHD_YES;
		}
		if (r->body_len + n + 1 > r->body_cap) {
			size_t cap = r->body_cap ? r->body_cap : 16384;
			char *nb;

			while (cap < r->body_len + n + 1)
				cap *= 2;
			nb = realloc(r->body, cap);
			if (nb == NULL)
				return MHD_NO;
			r->body = nb;
			r->body_cap = cap;
		}
		memcpy(r->body + r->body_len, upload_data, n);
		r->body_len += n;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->too_large) {
		LOG_INFO("request.refused", "id=%s status=413 why=\"chunked body over "
		         "max_body_size\"", r->id);
		return send_error(r, 413, "request body larger than the limit", true);
	}
	return dispatch(r);
}

static void
completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct org_req *r = *req_cls;
	struct org_server *srv = cls;

	(void)conn;
	if (r == NULL || r->magic != ORG_REQ_MAGIC)
		return;
	if (srv->o.trace && r->validated) {
		uint64_t now = org_now_ns();

		if (r->t_processed_ns == 0)
			r->t_processed_ns = now;
		LOG_INFO("trace", "id=%s step=process handler=%s method=%s path=%s status=%u "
		         "ms=%.3f", r->id, r->handler ? r->handler : "-", log_q(r->method),
		         log_q(r->path ? r->path : r->target), r->status,
		         (double)(r->t_processed_ns - r->t_start_ns) / 1e6);
		LOG_INFO("trace", "id=%s step=encrypt bytes=%llu ms=%.3f result=%s", r->id,
		         (unsigned long long)r->bytes_out,
		         (double)(now - r->t_processed_ns) / 1e6,
		         toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" : "aborted");
	}
	(void)ms_since;
	r->magic = 0;
	free(r->target);
	free(r->path);
	free((char *)r->host);
	free(r->body);
	free(r);
	*req_cls = NULL;
}

static void
conn_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
        enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci;

	(void)cls;
	(void)socket_context;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci != NULL && ci->tls_session != NULL)
		tickets_enable(ci->tls_session);
}

/* ---- start-up ---------------------------------------------------------------- */

/* PREFIX=VALUE: PREFIX normalized as request paths are (org_path.h), so
 * that it matches them: "//php/" is "/php/". */
static int
parse_prefix_rule(const char *item, char *prefix, size_t plen, const char **rest,
                  const char *key, struct err *e)
{
	const char *eq = strchr(item, '=');
	char raw[512];

	if (eq == NULL || item[0] != '/' || (size_t)(eq - item) >= plen)
		return err_set(e, ERR_USAGE, "key '%s': '%s' is not PREFIX=VALUE with PREFIX "
		               "starting with '/'", key, item);
	memcpy(raw, item, (size_t)(eq - item));
	raw[eq - item] = '\0';
	if (strchr(raw, '?') != NULL ||
	    org_path_normalize(raw, prefix, plen, NULL) != ORG_PATH_OK)
		return err_set(e, ERR_USAGE, "key '%s': '%s': PREFIX is not a path (no '?', "
		               "no bad %%-escape, no '..' above the root)", key, item);
	*rest = eq + 1;
	return 0;
}

static int
setup_routes(struct org_server *srv, struct err *e)
{
	struct org_opts *o = &srv->o;
	size_t i;

	if (o->docroot != NULL) {
		struct stat st;

		errno = 0;
		if (realpath(o->docroot, srv->docroot_real) == NULL ||
		    stat(srv->docroot_real, &st) < 0)
			return err_set(e, ERR_USAGE, "key 'docroot': %s: %s", o->docroot,
			               strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return err_set(e, ERR_USAGE, "key 'docroot': %s: not a directory",
			               o->docroot);
	}
	if (o->cgi_bin != NULL) {
		struct stat st;

		errno = 0;
		if (realpath(o->cgi_bin, srv->cgi_real) == NULL ||
		    stat(srv->cgi_real, &st) < 0)
			return err_set(e, ERR_USAGE, "key 'cgi_bin': %s: %s", o->cgi_bin,
			               strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return err_set(e, ERR_USAGE, "key 'cgi_bin': %s: not a directory",
			               o->cgi_bin);
	}
	if (srv->cgi_real[0] != '\0' && srv->docroot_real[0] != '\0' &&
	    org_path_under(srv->docroot_real, srv->cgi_real))
		return err_set(e, ERR_USAGE, "key 'cgi_bin': %s holds the docroot %s: every "
		               "file there is a script, none could be served", srv->cgi_real,
		               srv->docroot_real);
	for (i = 0; i < o->static_deny.n; i++)
		if (strchr(o->static_deny.v[i], '/') != NULL)
			return err_set(e, ERR_USAGE, "key 'static_deny': '%s' is not a file-name "
			               "suffix (it has a '/')", o->static_deny.v[i]);
	srv->cc = calloc(o->cache_control.n + 1, sizeof *srv->cc);
	srv->fcgi = calloc(o->fastcgi.n + 1, sizeof *srv->fcgi);
	if (srv->cc == NULL || srv->fcgi == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	for (i = 0; i < o->cache_control.n; i++) {
		const char *v;

		if (parse_prefix_rule(o->cache_control.v[i], srv->cc[i].prefix,
		                      sizeof srv->cc[i].prefix, &v, "cache_control", e) < 0)
			return -1;
		if (*v == '\0' || strlen(v) >= sizeof srv->cc[i].value || strpbrk(v, "\r\n"))
			return err_set(e, ERR_USAGE, "key 'cache_control': bad value in '%s'",
			               o->cache_control.v[i]);
		snprintf(srv->cc[i].value, sizeof srv->cc[i].value, "%s", v);
		srv->ncc++;
	}
	for (i = 0; i < o->fastcgi.n; i++) {
		struct org_fcgi_backend *b = &srv->fcgi[i];
		const char *v;

		if (parse_prefix_rule(o->fastcgi.v[i], b->prefix, sizeof b->prefix, &v,
		                      "fastcgi", e) < 0)
			return -1;
		if (strncmp(v, "unix:", 5) == 0) {
			if (v[5] != '/' || strlen(v + 5) >= sizeof b->path)
				return err_set(e, ERR_USAGE, "key 'fastcgi': '%s': unix:/absolute/path "
				               "(at most %zu characters)", o->fastcgi.v[i],
				               sizeof b->path - 1);
			b->is_unix = true;
			snprintf(b->path, sizeof b->path, "%s", v + 5);
		} else if (cfg_parse_addr(v, b->host, sizeof b->host, &b->port, e) < 0 ||
		           b->host[0] == '\0') {
			return err_set(e, ERR_USAGE, "key 'fastcgi': '%s': want unix:/path or "
			               "host:port", o->fastcgi.v[i]);
		}
		srv->nfcgi++;
	}
	return 0;
}

static char *
read_text(const char *path, struct err *e)
{
	gnutls_datum_t d = { NULL, 0 };
	char *s;

	if (tls_read_file(path, &d, e) < 0)
		return NULL;
	s = malloc(d.size + 1);
	if (s != NULL) {
		memcpy(s, d.data, d.size);
		s[d.size] = '\0';
	}
	gnutls_free(d.data);
	return s;
}

/* Check the TLS material with errors that name the file, before handing
 * it to libmicrohttpd (whose errors do not). */
static int
check_tls(struct org_server *srv, struct err *e)
{
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	struct tls_pair_info info;
	int rc;

	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return err_set(e, ERR_FAIL, "out of memory");
	rc = tls_cred_add_pair(cred, srv->o.cert, srv->o.key, &info, e);
	if (rc == 0 && srv->o.client_ca != NULL)
		rc = tls_cred_set_ca(cred, srv->o.client_ca, e);
	gnutls_certificate_free_credentials(cred);
	if (rc < 0)
		return -1;
	if (info.not_after <= time(NULL))
		LOG_WARN("cert.expired", "file=%s", log_q(srv->o.cert));
	if (tls_priority_init(srv->o.tls_priority, &prio, e) < 0)
		return err_prefix(e, "key 'tls_priority': ");
	gnutls_priority_deinit(prio);
	return 0;
}

static struct MHD_Daemon *
start(struct org_server *srv, struct err *e)
{
	char *cert = NULL, *key = NULL, *ca = NULL;
	struct sockaddr_storage ss;
	struct MHD_Daemon *d = NULL;
	unsigned flags = MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
	                 MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int port;
	size_t mem;
	struct MHD_OptionItem trust[2] = {
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (srv_listen_addr("listen_https", srv->o.listen_https, &ss, &flags, &port, e) < 0)
		return NULL;
	snprintf(srv->server_port, sizeof srv->server_port, "%d", port);
	if ((cert = read_text(srv->o.cert, e)) == NULL || (key = read_text(srv->o.key, e)) == NULL ||
	    (srv->o.client_ca != NULL && (ca = read_text(srv->o.client_ca, e)) == NULL))
		goto out;
	/* headers live in the connection's memory pool with the read buffer */
	mem = (size_t)srv->o.max_header_size * 2 + 32768;
	if (ca != NULL) { /* libmicrohttpd then asks clients for a certificate */
		trust[0].option = MHD_OPTION_HTTPS_MEM_TRUST;
		trust[0].ptr_value = ca;
	}
	d = MHD_start_daemon(
		flags, (uint16_t)port, NULL, NULL, access_cb, srv,
		MHD_OPTION_EXTERNAL_LOGGER, srv_mhd_log, NULL, /* first, to catch the rest */
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
		MHD_OPTION_HTTPS_PRIORITIES, srv->o.tls_priority,
		MHD_OPTION_ARRAY, trust,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->o.max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)srv->o.max_connections_per_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(srv->o.connection_timeout / 1000),
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
		/* strict mode answers some bad requests itself, twice over (a
		 * second status line after its own): lib/hreq.c judges instead */
		MHD_OPTION_STRICT_FOR_CLIENT, (int)0,
		MHD_OPTION_URI_LOG_CALLBACK, uri_log, srv,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, srv,
		MHD_OPTION_NOTIFY_CONNECTION, conn_cb, srv,
		MHD_OPTION_UNESCAPE_CALLBACK, srv_no_unescape, NULL,
		MHD_OPTION_END);
	if (d == NULL)
		err_set(e, ERR_FAIL, "cannot listen on %s: %s", srv->o.listen_https,
		        errno ? strerror(errno) : "libmicrohttpd refused the settings");
out:
	free(cert);
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	free(ca);
	return d;
}

int
main(int argc, char **argv)
{
	struct org_server *srv = calloc(1, sizeof *srv);
	struct MHD_Daemon *d = NULL;
	struct err e = { 0, "" };
	sigset_t set;
	int rc, sig = 0, status = 1;
	size_t i;

	if (srv == NULL)
		return 1;
	rc = cfg_parse_argv(&org_spec, &srv->o, argc - 1, argv + 1, NULL, NULL, &e);
	if (rc != CFG_OK) {
		if (rc < 0)
			fprintf(stderr, "origind: %s\n", e.msg);
		status = rc == CFG_EXIT ? 0 : 2;
		goto out_cfg;
	}
	log_init("origind", (enum log_level)log_level_parse(srv->o.log_level), 2);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads inherit the mask */
	pthread_mutex_init(&srv->stats_mu, NULL);
	if (getrandom(&stat_seed, sizeof stat_seed, 0) != (ssize_t)sizeof stat_seed)
		stat_seed = org_now_ns() ^ (uint64_t)getpid() << 32;
	if (tls_init(&e) < 0 || setup_routes(srv, &e) < 0 || check_tls(srv, &e) < 0) {
		fprintf(stderr, "origind: %s\n", e.msg);
		status = e.code == ERR_USAGE ? 2 : 1;
		goto out;
	}
	if (tickets_start(srv->o.ticket_key_rotation, &e) < 0) {
		fprintf(stderr, "origind: %s\n", e.msg);
		goto out;
	}
	d = start(srv, &e);
	if (d == NULL) {
		fprintf(stderr, "origind: %s\n", e.msg);
		goto out;
	}
	LOG_INFO("listening", "addr=%s docroot=%s cgi_bin=%s fastcgi=%zu mtls=%s trace=%s "
	         "introspection=%s", srv->o.listen_https, log_q(srv->docroot_real),
	         log_q(srv->cgi_real), srv->nfcgi, srv->o.client_ca ? "on" : "off",
	         srv->o.trace ? "on" : "off", srv->o.introspection ? "on" : "off");
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			LOG_INFO("sighup", "msg=\"origind reads its settings at start only\"");
			continue;
		}
		break;
	}
	LOG_INFO("stopping", "signal=%d", sig);
	__atomic_store_n(&org_stopping, 1, __ATOMIC_RELEASE);
	MHD_stop_daemon(d);
	status = 0;
out:
	for (i = 0; i < srv->nfcgi; i++)
		org_fcgi_backend_free(&srv->fcgi[i]);
	free(srv->fcgi);
	free(srv->cc);
	for (i = 0; i < srv->nstats; i++)
		free(srv->stats[i].path);
	free(srv->stats);
	free(srv->stat_slots);
	tickets_stop();
	pthread_mutex_destroy(&srv->stats_mu);
	tls_deinit();
out_cfg:
	cfg_free(&org_spec, &srv->o);
	free(srv);
	return status;
}
