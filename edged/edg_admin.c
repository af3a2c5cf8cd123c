/*
 * edg_admin.c: the admin listener (admin_listen, plain HTTP, one thread):
 *
 *   GET  /healthz                  200 {"status":"ok",...}, 503 draining
 *   GET  /metrics                  Prometheus text (edg_metrics.c)
 *   POST /invalidations            {"paths": ["/a.html", "/img/x*"]} -> 201
 *   GET  /invalidations            recent ones, newest first
 *   GET  /invalidations/<id>       one, InProgress or Completed
 *
 * A bearer admin_token, when set, is required for all but /healthz; it
 * must be set when admin_listen is not a loopback address (start-up
 * refuses otherwise).  It is compared in constant time whatever its
 * length: both sides go through HMAC-SHA-256 under a key drawn at start,
 * and the two 32-byte digests are compared without an early exit.
 * Answers are JSON (cJSON) but /metrics.
 *
 * A web page in a browser on the same host must not reach the API
 * (CSRF, DNS rebinding), token or not: every request must carry a Host
 * that names this listener (localhost, *.localhost, an IP literal, or a
 * name in admin_hosts; else 421), and POST /invalidations takes
 * Content-Type: application/json only (415), which no form and no
 * cross-origin fetch can send without a CORS preflight, which is refused.
 *
 * One thread per admin connection (at most 64).  The health check's
 * origin probe is a verified TLS connection (TCP for
 * an http:// origin), made at most once a second whatever the polling
 * rate; Redis gets a PING (bounded by redis_timeout).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "adminreq.h"
#include "cJSON.h"
#include "edg_inval.h"
#include "edg_ops.h"
#include "log.h"
#include "srv.h"
#include "tconn.h"

#define ADMIN_BODY_MAX (1024 * 1024)

struct edg_admin {
	struct edg_server *srv;
	pthread_mutex_t mu;      /* the probe cache */
	int64_t probed_ms;
	bool origin_up;
	char origin_why[200];
	unsigned char mac_key[32];   /* HMAC key for the token comparison */
	unsigned char tok_mac[32];   /* HMAC-SHA-256 of admin_token under mac_key */
};

struct admin_req {
	char *body;
	size_t len;
	bool too_big;
};

static bool
loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) ||
		       (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && a->sin6_addr.s6_addr[12] == 127);
	}
	return false;
}

/* Queue body (malloc'd, freed here); location: a Location field, or NULL. */
static enum MHD_Result
answer_at(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len,
          const char *location)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"edged admin\"");
	if (status == 405)
		MHD_add_response_header(resp, "Allow", "GET, POST");
	if (status == 415)
		MHD_add_response_header(resp, "Accept-Post", "application/json");
	if (location != NULL)
		MHD_add_response_header(resp, "Location", location);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
answer(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len)
{
	return answer_at(c, status, type, body, len, NULL);
}

static enum MHD_Result
answer_json(struct MHD_Connection *c, unsigned status, char *json)
{
	if (json == NULL)
		return MHD_NO;
	return answer(c, status, "application/json", json, strlen(json));
}

/* {"error": msg} */
static enum MHD_Result
answer_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "error", msg);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return answer_json(c, status, s);
}

/* The Authorization field against the token, in constant time whatever
 * either length: the digests of both (fixed size) are compared, every
 * byte, so neither the first differing byte nor the token's length shows
 * in the time taken. */
static bool
authorized(struct edg_admin *a, struct MHD_Connection *c)
{
	const char *h;
	unsigned char got[32], diff = 0;
	size_t i;

	if (a->srv->o.admin_token == NULL)
		return true;
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, a->mac_key, sizeof a->mac_key, h, strlen(h),
	                     got) < 0)
		return false;
	for (i = 0; i < sizeof got; i++)
		diff |= (unsigned char)(got[i] ^ a->tok_mac[i]);
	return diff == 0;
}

static enum MHD_Result
count_host(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	(void)value;
	if (strcasecmp(key, "Host") == 0)
		(*(unsigned *)cls)++;
	return MHD_YES;
}

/* Log a refused request, naming the client and why. */
static void
refused(struct MHD_Connection *c, const char *event, const char *method, const char *url,
        const char *host)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char ip[64];

	srv_addr_text(ci ? ci->client_addr : NULL, ip, sizeof ip, NULL);
	if (host != NULL)
		LOG_WARN(event, "client=%s method=%s path=%s host=%s", ip, log_q(method),
		         log_q(url), log_q(host));
	else
		LOG_WARN(event, "client=%s method=%s path=%s", ip, log_q(method), log_q(url));
}

/* The Host check of every request: false when it passes, else true with
 * the refusal queued (its result in *ret). */
static bool
host_refused(struct edg_admin *a, struct MHD_Connection *c, const char *version,
             const char *method, const char *url, enum MHD_Result *ret)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	unsigned nhost = 0;

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_host, &nhost);
	if (nhost > 1) {
		refused(c, "admin.host_refused", method, url, h);
		*ret = answer_error(c, 400, "more than one Host field");
		return true;
	}
	if (h == NULL) {
		if (strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
			return false; /* HTTP/1.0 may omit it (no browser does) */
		refused(c, "admin.host_refused", method, url, NULL);
		*ret = answer_error(c, 400, "an HTTP/1.1 request needs a Host field");
		return true;
	}
	if (adminreq_host_ok(h, (const char *const *)a->srv->o.admin_hosts.v,
	                     a->srv->o.admin_hosts.n))
		return false;
	refused(c, "admin.host_refused", method, url, h);
	*ret = answer_error(c, 421, "this Host does not name the admin listener: use "
	                            "localhost, an IP address, or a name listed in admin_hosts");
	return true;
}

/* Origin reachability, probed at most once a second. */
static void
probe_origin(struct edg_admin *a, bool *up, char *why, size_t wlen)
{
	struct edg_server *srv = a->srv;
	struct hc_origin *ep = srv->primary.https ? srv->primary.https : srv->primary.http;
	int64_t now = tconn_now_ms();

	pthread_mutex_lock(&a->mu);
	if (a->probed_ms == 0 || now - a->probed_ms >= 1000) {
		struct tconn c;
		struct err e = { 0, "" };
		int ms = srv->o.origin_connect_timeout < 2000 ? (int)srv->o.origin_connect_timeout
		                                              : 2000;

		memset(&c, 0, sizeof c);
		c.fd = -1;
		if (ep == NULL) {
			a->origin_up = false;
			snprintf(a->origin_why, sizeof a->origin_why, "no origin endpoint");
		} else if (tconn_open(&c, ep->host, ep->port, ep->https ? &ep->tls : NULL, ms, &e) == 0) {
			a->origin_up = true;
			a->origin_why[0] = '\0';
			tconn_close(&c);
		} else {
			a->origin_up = false;
			snprintf(a->origin_why, sizeof a->origin_why, "%s", e.msg);
		}
		a->probed_ms = tconn_now_ms();
	}
	*up = a->origin_up;
	snprintf(why, wlen, "%s", a->origin_why);
	pthread_mutex_unlock(&a->mu);
}

static enum MHD_Result
healthz(struct edg_admin *a, struct MHD_Connection *c)
{
	struct edg_server *srv = a->srv;
	struct edg_cache_stats st;
	bool draining = __atomic_load_n(&srv->draining, __ATOMIC_ACQUIRE), up;
	cJSON *o = cJSON_CreateObject();
	char why[200];

	cJSON_AddStringToObject(o, "status", draining ? "draining" : "ok");
	cJSON_AddStringToObject(o, "node", srv->node);
	edg_cache_stats(srv, &st);
	if (!st.on || !st.has_redis) {
		cJSON_AddStringToObject(o, "redis", "off");
	} else {
		struct err e = { 0, "" };

		if (edg_cache_ping(srv, &e) == 0) {
			cJSON_AddStringToObject(o, "redis", "up");
		} else {
			cJSON_AddStringToObject(o, "redis", "down");
			cJSON_AddStringToObject(o, "redis_error", e.msg);
		}
	}
	probe_origin(a, &up, why, sizeof why);
	cJSON_AddStringToObject(o, "origin", up ? "up" : "down");
	if (!up)
		cJSON_AddStringToObject(o, "origin_error", why);
	cJSON_AddNumberToObject(o, "inflight",
	                        (double)__atomic_load_n(&srv->inflight, __ATOMIC_RELAXED));
	{
		char *s = cJSON_PrintUnformatted(o);

		cJSON_Delete(o);
		return answer_json(c, draining ? 503 : 200, s);
	}
}

/* The paths of {"paths": [...]} or CloudFront's {"InvalidationBatch":
 * {"Paths": {"Items": [...]}}}. */
static const cJSON *
paths_of(const cJSON *doc)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "paths");

	if (p == NULL) {
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(doc, "InvalidationBatch");
		const cJSON *ps = cJSON_GetObjectItemCaseSensitive(b ? b : doc, "Paths");

		p = cJSON_GetObjectItemCaseSensitive(ps, "Items");
	}
	return p;
}

static enum MHD_Result
create(struct edg_admin *a, struct MHD_Connection *c, struct admin_req *q)
{
	struct edg_server *srv = a->srv;
	cJSON *doc;
	const cJSON *p, *it;
	const char **paths = NULL;
	size_t n = 0, max;
	char *json = NULL, id[EDG_INVAL_ID_LEN + 1];
	struct err e = { 0, "" };
	int rc;

	if (!adminreq_json_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"))) {
		LOG_INFO("admin.invalidation_refused", "why=\"Content-Type is not "
		         "application/json\" type=%s",
		         log_q(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type")));
		return answer_error(c, 415, "Content-Type must be application/json: nothing was "
		                            "invalidated");
	}
	if (q->too_big)
		return answer_error(c, 413, "request body larger than 1 MiB");
	if (srv->inval == NULL)
		return answer_error(c, 409, "the cache is off (cache = false): nothing to invalidate");
	doc = cJSON_ParseWithLength(q->body ? q->body : "", q->len);
	if (doc == NULL)
		return answer_error(c, 400, "the body is not JSON: want {\"paths\": [\"/path\", "
		                            "\"/prefix*\"]}");
	p = paths_of(doc);
	if (!cJSON_IsArray(p)) {
		cJSON_Delete(doc);
		return answer_error(c, 400, "no \"paths\" array: want {\"paths\": [\"/path\", "
		                            "\"/prefix*\"]}");
	}
	paths = calloc((size_t)cJSON_GetArraySize(p) + 1, sizeof *paths);
	if (paths == NULL) {
		cJSON_Delete(doc);
		return MHD_NO;
	}
	cJSON_ArrayForEach(it, p) {
		if (!cJSON_IsString(it)) {
			free(paths);
			cJSON_Delete(doc);
			return answer_error(c, 400, "every item of \"paths\" must be a string");
		}
		paths[n++] = it->valuestring;
	}
	max = (size_t)srv->o.invalidation_max_paths_active;
	if (n > max) {
		free(paths);
		cJSON_Delete(doc);
		LOG_INFO("admin.invalidation_refused", "paths=%zu limit=%zu", n, max);
		snprintf(e.msg, sizeof e.msg, "%zu paths in one call, above "
		         "invalidation_max_paths_active (%zu): nothing was invalidated", n, max);
		return answer_error(c, 413, e.msg);
	}
	rc = edg_inval_create(srv->inval, paths, n, max, id, &json, &e);
	free(paths);
	cJSON_Delete(doc);
	switch (rc) {
	case EDG_INVAL_OK: {
		char loc[64];

		snprintf(loc, sizeof loc, "/invalidations/%s", id);
		return answer_at(c, 201, "application/json", json, strlen(json), loc);
	}
	case EDG_INVAL_BAD:
		LOG_INFO("admin.invalidation_refused", "why=%s", log_q(e.msg));
		return answer_error(c, 400, e.msg);
	case EDG_INVAL_FULL:
		LOG_WARN("admin.invalidation_refused", "paths=%zu limit=%zu why=%s", n, max,
		         log_q(e.msg));
		return answer_error(c, 429, e.msg);
	default:
		LOG_WARN("admin.invalidation_failed", "why=%s", log_q(e.msg));
		return answer_error(c, 503, e.msg[0] ? e.msg : "unavailable");
	}
}

static enum MHD_Result
route(struct edg_admin *a, struct MHD_Connection *c, const char *url, const char *method,
      const char *version, struct admin_req *q)
{
	struct edg_server *srv = a->srv;
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	char *json = NULL;
	enum MHD_Result ret;
	int rc;

	if (host_refused(a, c, version, method, url, &ret))
		return ret;
	if (strcmp(url, "/healthz") == 0)
		return get ? healthz(a, c) : answer_error(c, 405, "GET only");
	if (!authorized(a, c)) {
		refused(c, "admin.unauthorized", method, url, NULL);
		return answer_error(c, 401, "a valid bearer token (admin_token) is required");
	}
	if (strcmp(url, "/metrics") == 0) {
		char *text = NULL;
		size_t n;

		if (!get)
			return answer_error(c, 405, "GET only");
		n = edg_metrics_render(srv, &text);
		if (text == NULL)
			return MHD_NO;
		return answer(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, n);
	}
	if (strcmp(url, "/invalidations") == 0) {
		if (strcmp(method, "POST") == 0)
			return create(a, c, q);
		if (!get)
			return answer_error(c, 405, "GET or POST");
		if (srv->inval == NULL)
			return answer_error(c, 409, "the cache is off (cache = false)");
		rc = edg_inval_list(srv->inval, &json);
		return rc == EDG_INVAL_OK ? answer_json(c, 200, json)
		                          : answer_error(c, 503, "Redis is unavailable");
	}
	if (strncmp(url, "/invalidations/", 15) == 0) {
		if (!get)
			return answer_error(c, 405, "GET only");
		if (srv->inval == NULL)
			return answer_error(c, 409, "the cache is off (cache = false)");
		rc = edg_inval_get(srv->inval, url + 15, &json);
		if (rc == EDG_INVAL_OK)
			return answer_json(c, 200, json);
		if (rc == EDG_INVAL_NOT_FOUND)
			return answer_error(c, 404, "no such invalidation");
		return answer_error(c, 503, "Redis is unavailable");
	}
	return answer_error(c, 404, "unknown path: try /healthz, /metrics, /invalidations");
}

static enum MHD_Result
admin_cb(void *cls, struct MHD_Connection *c, const char *url, const char *method,
         const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
	struct edg_admin *a = cls;
	struct admin_req *q = *req_cls;

	if (q == NULL) {
		q = calloc(1, sizeof *q);
		if (q == NULL)
			return MHD_NO;
		*req_cls = q;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (q->too_big || q->len + n > ADMIN_BODY_MAX) {
			q->too_big = true;
			return MHD_YES;
		}
		{
			char *b = realloc(q->body, q->len + n + 1);

			if (b == NULL)
				return MHD_NO;
			q->body = b;
		}
		memcpy(q->body + q->len, upload, n);
		q->len += n;
		q->body[q->len] = '\0';
		return MHD_YES;
	}
	return route(a, c, url, method, version, q);
}

static void
admin_done(void *cls, struct MHD_Connection *c, void **req_cls,
           enum MHD_RequestTerminationCode toe)
{
	struct admin_req *q = *req_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (q != NULL) {
		free(q->body);
		free(q);
		*req_cls = NULL;
	}
}

int
edg_admin_start(struct edg_server *srv, struct err *e)
{
	struct sockaddr_storage ss;
	/* a thread per connection: a health check waiting on a dead origin
	 * (up to 2 s) does not hold a metrics scrape up */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	                 MHD_USE_POLL | MHD_USE_ERROR_LOG;
	int port = 0;
	struct edg_admin *a;
	const char *addr = srv->o.admin_listen;
	size_t i;

	if (addr == NULL || strcmp(addr, "off") == 0) {
		LOG_INFO("admin.off", "msg=\"admin_listen = off: no /healthz, /metrics or "
		         "/invalidations\"");
		return 0;
	}
	if (srv_listen_addr("admin_listen", addr, &ss, &flags, &port, e) < 0)
		return -1;
	if (!loopback(&ss) && srv->o.admin_token == NULL)
		return err_set(e, ERR_USAGE, "key 'admin_listen': %s is not a loopback address, so "
		               "key 'admin_token' must be set (a bearer token for the admin API)",
		               addr);
	if (srv->o.admin_token != NULL && strlen(srv->o.admin_token) < 16)
		return err_set(e, ERR_USAGE, "key 'admin_token': at least 16 characters");
	for (i = 0; i < srv->o.admin_hosts.n; i++) {
		const char *h = srv->o.admin_hosts.v[i];

		if (!adminreq_dns_name(h, strlen(h)))
			return err_set(e, ERR_USAGE, "key 'admin_hosts': '%s' is not a host name "
			               "(letters, digits, '-' and '.'; no port)", h);
	}
	a = calloc(1, sizeof *a);
	if (a == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	a->srv = srv;
	if (srv->o.admin_token != NULL &&
	    (gnutls_rnd(GNUTLS_RND_KEY, a->mac_key, sizeof a->mac_key) < 0 ||
	     gnutls_hmac_fast(GNUTLS_MAC_SHA256, a->mac_key, sizeof a->mac_key,
	                      srv->o.admin_token, strlen(srv->o.admin_token), a->tok_mac) < 0)) {
		free(a);
		return err_set(e, ERR_FAIL, "key 'admin_token': cannot derive its digest (GnuTLS)");
	}
	pthread_mutex_init(&a->mu, NULL);
	srv->d_admin = MHD_start_daemon(
		flags, (uint16_t)port, NULL, NULL, admin_cb, a,
		MHD_OPTION_EXTERNAL_LOGGER, srv_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, 64u,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024),
		MHD_OPTION_CONNECTION_TIMEOUT, 10u,
		MHD_OPTION_NOTIFY_COMPLETED, admin_done, a,
		MHD_OPTION_END);
	if (srv->d_admin == NULL) {
		pthread_mutex_destroy(&a->mu);
		free(a);
		return err_set(e, ERR_FAIL, "key 'admin_listen': cannot listen on %s: %s", addr,
		               errno ? strerror(errno) : "libmicrohttpd refused the settings");
	}
	srv->admin = a;
	LOG_INFO("admin.listening", "addr=%s token=%s", addr,
	         srv->o.admin_token ? "required" : "none");
	return 0;
}

void
edg_admin_stop(struct edg_server *srv)
{
	if (srv->d_admin != NULL)
		MHD_stop_daemon(srv->d_admin);
	srv->d_admin = NULL;
	if (srv->admin != NULL) {
		pthread_mutex_destroy(&srv->admin->mu);
		free(srv->admin);
		srv->admin = NULL;
	}
}
