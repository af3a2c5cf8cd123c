/*
 * edged: the HTTPS edge.  Steps 1, 3, 5 and 6 of the six: viewers speak
 * TLS to edged (libmicrohttpd + GnuTLS, certificates chosen by SNI,
 * CloudFront's security policies), edged forwards each request to the
 * origin over a second TLS connection that it verifies (lib/hclient.c over
 * lib/tconn.c), and streams the answer back.
 *
 * Concurrency model: libmicrohttpd in thread-per-connection mode.  A
 * request waiting on a slow origin blocks only its own connection's
 * thread; every other viewer connection has its own thread and carries
 * on (tests/integration/t0460).  max_connections bounds the threads, each
 * with a small stack.  The origin leg uses blocking sockets bounded by
 * deadlines, so no thread waits longer than the origin timeouts.
 *
 * Every request passes through:
 *   uri_log()     allocates struct edg_req, keeps the raw request-target,
 *                 arms the head deadline (slowloris watchdog)
 *   access() #1   the head validated (lib/hreq.c + size + loop checks):
 *                 400/405/413/414/417/431/501/508 and close; the plain-
 *                 HTTP listener's policy (301/403); the upstream head built
 *   access() #2.. request body: kept whole up to body_buffer_size, else
 *                 streamed to the origin as it arrives; the watchdog's
 *                 body deadline (body_timeout, body_min_rate) rearmed
 *   access() last a kept body sent; origin response head read (failover,
 *                 502/503/504 mapping); the response queued with a body
 *                 reader that streams from the origin connection, and
 *                 the viewer watched while it takes it (send_timeout)
 *   completed()   the origin exchange ended (connection pooled or closed)
 * A response is never queued in the first call: libmicrohttpd then
 * closes the connection (it cannot know the body was empty).
 *
 * Threads and locks: srv is read-only after start except the connection
 * registry (conns_mu), shared with the watchdog thread.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "edg.h"
#include "edg_ops.h"
#include "hreq.h"
#include "log.h"
#include "srv.h"
#include "tickets.h"
#include "tls.h"
#include "upath.h"
#include "version.h"

#define EDG_ROW(...) CFG_ROW(struct edg_opts, __VA_ARGS__)
static const struct cfg_key edg_keys[] = { EDG_KEYS(EDG_ROW) };
static const struct cfg_spec edg_spec = {
	"edged", "--origin URL --cert FILE --key FILE [options]",
	"The HTTPS edge: viewers speak TLS to edged, which forwards each request to "
	"the origin over a second TLS connection whose certificate it verifies, and "
	"streams the answer back. TLS renegotiation is refused on both legs.",
	edg_keys, sizeof edg_keys / sizeof edg_keys[0], 0, 0, true, edg_hpol_check,
};

const struct cfg_spec *
edg_cfg_spec(void)
{
	return &edg_spec;
}

static int64_t
now_ms(void)
{
	return tconn_now_ms();
}

int64_t
edg_now_ms(void)
{
	return tconn_now_ms();
}

static void conn_arm_send(struct edg_server *srv, struct edg_conn *vc);

/* ---- small responses from the edge itself --------------------------------- */

static void
edge_headers(struct edg_req *r, struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Via", r->srv->via);
	MHD_add_response_header(resp, "X-Edge-Request-Id", r->id);
}

/* Queue a one-line text answer from the edge; close ends the connection
 * (framing or validation errors). */
enum MHD_Result
edg_send_local(struct edg_req *r, unsigned status, const char *why, bool close,
           const char *xcache)
{
	char body[512];
	struct MHD_Response *resp;
	int n;

	n = snprintf(body, sizeof body, "%u %s%s%s\n", status, srv_reason(status),
	             why && *why ? ": " : "", why ? why : "");
	if (n < 0 || (size_t)n >= sizeof body)
		n = (int)strlen(body);
	resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Server", "edged");
	if (xcache != NULL)
		MHD_add_response_header(resp, "X-Cache", xcache);
	edge_headers(r, resp);
	if (status == 405)
		MHD_add_response_header(resp, "Allow",
		                        "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH");
	if (status == 301 && r->location != NULL)
		MHD_add_response_header(resp, "Location", r->location);
	if (close)
		MHD_add_response_header(resp, "Connection", "close");
	r->bytes_out = r->head_only ? 0 : (uint64_t)n;
	if (r->local_kind == EDG_LOCAL_NONE)
		r->local_kind = status == 301 ? EDG_LOCAL_REDIRECT :
		                status == 403 ? EDG_LOCAL_DENIED : EDG_LOCAL_INVALID;
	return edg_queue(r, resp, status, xcache, n);
}

static enum MHD_Result
head_size(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	uint64_t *n = cls;

	(void)kind;
	*n += strlen(key) + 4 + (value ? strlen(value) : 0);
	return MHD_YES;
}

/* The Content-Range "bytes A-B/N" of resp into r->range_start/end. */
static void
note_range(struct edg_req *r, struct MHD_Response *resp)
{
	const char *cr = MHD_get_response_header(resp, "Content-Range");
	unsigned long long a, b;

	r->range_start = r->range_end = -1;
	if (cr != NULL && sscanf(cr, "bytes %llu-%llu/", &a, &b) == 2) {
		r->range_start = (long long)a;
		r->range_end = (long long)b;
	}
}

enum MHD_Result
edg_queue(struct edg_req *r, struct MHD_Response *resp, unsigned status, const char *xcache,
          long long len)
{
	const char *ct;
	enum MHD_Result ret;

	edg_hpol_apply(r->srv, r, resp);
	if (__atomic_load_n(&r->srv->draining, __ATOMIC_RELAXED) &&
	    MHD_get_response_header(resp, "Connection") == NULL)
		MHD_add_response_header(resp, "Connection", "close");
	r->status = status;
	r->result = xcache;
	r->resp_len = len;
	ct = MHD_get_response_header(resp, "Content-Type");
	snprintf(r->ctype, sizeof r->ctype, "%s", ct != NULL ? ct : "");
	note_range(r, resp);
	/* the head libmicrohttpd will write: status line, our fields, Date,
	 * the framing field and the blank line (for sc-bytes and metrics) */
	r->head_out = 15 + strlen(srv_reason(status)) + 2 + 28 +
	              (MHD_get_response_header(resp, "Date") == NULL ? 37 : 0);
	if (len >= 0) { /* "Content-Length: N\r\n" instead of chunked */
		char num[24];

		r->head_out = r->head_out - 28 + 18 + (uint64_t)snprintf(num, sizeof num, "%lld", len);
	}
	MHD_get_response_headers(resp, head_size, &r->head_out);
	r->t_queued = now_ms();
	conn_arm_send(r->srv, r->vc); /* slow read: the viewer must take it */
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The viewer's answer when the origin leg failed. */
enum MHD_Result
edg_send_origin_error(struct edg_req *r)
{
	unsigned status = r->fail == HC_TIMEOUT ? 504 : r->fail == HC_BUSY ? 503 : 502;
	const char *what;

	switch (r->fail) {
	case HC_CONNECT: what = "cannot connect to the origin"; break;
	case HC_TLS: what = "TLS failure with the origin"; break;
	case HC_VERIFY: what = "the origin's certificate failed verification"; break;
	case HC_TIMEOUT: what = "the origin did not answer in time"; break;
	case HC_PROTOCOL: what = "the origin sent a malformed response"; break;
	case HC_CLOSED: what = "the origin closed the connection"; break;
	case HC_BUSY: what = "every connection to the origin is in use "
	                     "(origin_max_connections)"; break;
	default: what = "error talking to the origin"; break;
	}
	LOG_WARN("origin.failed", "id=%s status=%u class=%s origin=%s why=%s", r->id, status,
	         hc_fail_name(r->fail), log_q(r->org ? r->org->url : "-"), log_q(r->why));
	r->local_kind = EDG_LOCAL_ORIGIN_ERROR;
	return edg_send_local(r, status, what, false, "Error from edged");
}

/* ---- the slow-client watchdog ----------------------------------------------- */

static void
conn_arm(struct edg_server *srv, struct edg_conn *vc, int64_t deadline, const char *what,
         bool only_sooner)
{
	if (vc == NULL)
		return;
	pthread_mutex_lock(&srv->conns_mu);
	if (!only_sooner || vc->deadline_ms == 0 || deadline < vc->deadline_ms) {
		vc->deadline_ms = deadline;
		vc->what = what;
		vc->sending = false;
	}
	pthread_mutex_unlock(&srv->conns_mu);
}

/* TCP bytes the viewer has acknowledged on fd so far (0 when unknown). */
static uint64_t
tcp_acked(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;

	memset(&ti, 0, sizeof ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked)
		return 0;
	return ti.tcpi_bytes_acked;
}

static int64_t
send_check_ms(const struct edg_server *srv)
{
	return srv->o.send_timeout < 1000 ? srv->o.send_timeout : 1000;
}

/* An answer is queued: from now on the viewer must take its bytes (slow
 * read), checked by send_progress at every deadline. */
static void
conn_arm_send(struct edg_server *srv, struct edg_conn *vc)
{
	uint64_t acked;
	int64_t now;

	if (vc == NULL)
		return;
	acked = tcp_acked(vc->fd);
	now = now_ms();
	pthread_mutex_lock(&srv->conns_mu);
	vc->deadline_ms = now + send_check_ms(srv);
	vc->what = "response";
	vc->sending = true;
	vc->acked0 = acked;
	vc->acked = 0;
	vc->t_progress = vc->t_check = now;
	vc->blocked_ms = 0;
	pthread_mutex_unlock(&srv->conns_mu);
}

/* Under conns_mu, at a sending connection's deadline: has the viewer kept
 * up?  Bytes waiting in the socket (SIOCOUTQ) that the viewer does not
 * acknowledge for send_timeout, or fewer than send_min_rate a second over
 * the time bytes were waiting for it (past send_timeout's grace), and it
 * is too slow.  An empty send queue means edged (the origin) is the slow
 * side: that time is not held against the viewer.  true (and the next
 * check armed) while it keeps up. */
static bool
send_progress(struct edg_server *srv, struct edg_conn *c, int64_t now)
{
	uint64_t acked = tcp_acked(c->fd);
	long long rate = srv->o.send_min_rate;
	int64_t timeout = srv->o.send_timeout;
	int outq = 0;

	if (ioctl(c->fd, SIOCOUTQ, &outq) < 0)
		outq = 0;
	acked = acked >= c->acked0 ? acked - c->acked0 : 0;
	if (outq > 0)
		c->blocked_ms += now - c->t_check;
	if (outq <= 0 || acked > c->acked)
		c->t_progress = now;
	c->acked = acked;
	c->t_check = now;
	if (now - c->t_progress >= timeout)
		return false;
	if (rate > 0 && c->blocked_ms > timeout &&
	    (int64_t)(acked * 1000 / (uint64_t)rate) < c->blocked_ms - timeout)
		return false;
	c->deadline_ms = now + send_check_ms(srv);
	return true;
}

/* Every 200 ms: connections that have not completed a handshake, a
 * request head or a request body by their deadline, and those whose
 * viewer does not take its answer (send_progress), are shut down.
 * libmicrohttpd resets its own idle timeout on every byte, so a client
 * sending (or reading) one byte a second would otherwise hold a thread for
 * ever.  The registry entry is removed (under conns_mu) before
 * libmicrohttpd closes the socket, so the fd shut down here is always the
 * connection's own.  A request body cut short cannot get a 408:
 * libmicrohttpd 0.9.75 queues a response only before the body or after
 * all of it (MHD_queue_response, connection.c), so the connection is
 * closed and the request logged with 408 (completed_cb). */
static void *
watchdog_main(void *arg)
{
	struct edg_server *srv = arg;

	for (;;) {
		struct timespec ts = { 0, 200 * 1000000L };
		struct edg_conn *c;
		int64_t now;

		nanosleep(&ts, NULL);
		now = now_ms();
		pthread_mutex_lock(&srv->conns_mu);
		if (srv->stopping) {
			pthread_mutex_unlock(&srv->conns_mu);
			return NULL;
		}
		for (c = srv->conns; c != NULL; c = c->next) {
			if (c->deadline_ms == 0 || now < c->deadline_ms)
				continue;
			if (c->sending && send_progress(srv, c, now))
				continue;
			if (c->sending)
				LOG_INFO("viewer.timeout", "fd=%d waiting_for=%s acked=%llu blocked_ms=%lld",
				         c->fd, c->what, (unsigned long long)c->acked,
				         (long long)c->blocked_ms);
			else
				LOG_INFO("viewer.timeout", "fd=%d waiting_for=%s", c->fd, c->what);
			edg_metrics_viewer_timeout(c->what);
			if (c->sending) {
				/* a reset: the unsent answer is dropped at close, not
				 * kept trickling out of an orphaned socket */
				struct linger lg = { 1, 0 };

				setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
			}
			shutdown(c->fd, SHUT_RDWR);
			c->fired = c->what;
			c->deadline_ms = 0;
			c->sending = false;
		}
		pthread_mutex_unlock(&srv->conns_mu);
	}
}

static void
conn_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
        enum MHD_ConnectionNotificationCode toe)
{
	struct edg_listener *l = cls;
	struct edg_server *srv = l->srv;
	const union MHD_ConnectionInfo *ci;
	struct edg_conn *vc;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		if (l->tls) {
			ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
			if (ci != NULL && ci->tls_session != NULL)
				tickets_enable(ci->tls_session);
		}
		vc = calloc(1, sizeof *vc);
		if (vc == NULL)
			return;
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		vc->fd = ci ? ci->connect_fd : -1;
		vc->deadline_ms = now_ms() + srv->o.header_timeout;
		vc->what = l->tls ? "handshake+head" : "head";
		pthread_mutex_lock(&srv->conns_mu);
		vc->next = srv->conns;
		if (srv->conns != NULL)
			srv->conns->prev = vc;
		srv->conns = vc;
		srv->nconns++;
		pthread_mutex_unlock(&srv->conns_mu);
		*socket_context = vc;
		return;
	}
	vc = *socket_context;
	if (vc == NULL)
		return;
	/* a TLS connection that never got as far as a request: a failed (or
	 * abandoned) handshake */
	if (l->tls && !vc->requested)
		edg_metrics_handshake_failed();
	pthread_mutex_lock(&srv->conns_mu);
	if (vc->prev != NULL)
		vc->prev->next = vc->next;
	else
		srv->conns = vc->next;
	if (vc->next != NULL)
		vc->next->prev = vc->prev;
	srv->nconns--;
	pthread_mutex_unlock(&srv->conns_mu);
	free(vc);
	*socket_context = NULL;
}

/* ---- the request path ----------------------------------------------------- */

static void *
uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct edg_listener *l = cls;
	struct edg_req *r = malloc(sizeof *r);
	const union MHD_ConnectionInfo *ci;
	static unsigned long long seq;

	if (r == NULL)
		return NULL;
	/* everything but the origin exchange, which hc_begin initialises */
	memset(r, 0, offsetof(struct edg_req, x));
	r->x.fail = HC_OK;
	r->magic = REQ_MAGIC;
	r->srv = l->srv;
	__atomic_add_fetch(&l->srv->inflight, 1, __ATOMIC_RELEASE);
	r->tls = l->tls;
	r->conn = conn;
	r->target = strdup(uri ? uri : "");
	r->raw_uri = uri;
	r->content_length = -1;
	r->t0 = now_ms();
	snprintf(r->id, sizeof r->id, "%llx-%llx", (unsigned long long)getpid(),
	         __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	r->vc = ci ? ci->socket_context : NULL;
	/* the request line is in: the rest of the head must follow promptly */
	conn_arm(r->srv, r->vc, now_ms() + r->srv->o.header_timeout, "head", true);
	return r;
}

struct hdr_walk {
	struct hreq *h;
	struct edg_req *r;
	size_t head_bytes;
	bool loop;
	const char *end;     /* where the last line's value (or the version) ended */
	bool hidden;         /* bytes between two lines that no field holds */
};

/* Do min..max NUL bytes (and nothing else) lie between end and next? */
static bool
gap_ok(const char *end, const char *next, size_t min, size_t max)
{
	size_t i;

	if (end == NULL || next == NULL || next < end + min || next > end + max)
		return false;
	for (i = 0; end + i < next; i++)
		if (end[i] != '\0')
			return false;
	return true;
}

static enum MHD_Result
walk_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
            const char *value, size_t value_size)
{
	struct hdr_walk *w = cls;

	(void)kind;
	/* libmicrohttpd 0.9.75 keeps each field where it read it, CR and LF
	 * overwritten with NULs, and measures names and values with strlen:
	 * a NUL in a line hides the rest of it.  A line read whole ends one
	 * (LF) or two (CRLF) NULs after its value, where the next begins. */
	if (!gap_ok(w->end, key, 1, 2))
		w->hidden = true;
	w->end = value != NULL ? value + value_size : NULL;
	hreq_field(w->h, key, key_size, value ? value : "", value ? value_size : 0);
	w->head_bytes += key_size + 4 + (value ? value_size : 0);
	if (value != NULL && key_size == 3 && strcasecmp(key, "via") == 0 &&
	    strstr(value, w->r->srv->loop_mark) != NULL)
		w->loop = true;
	return MHD_YES;
}

/* The Host to redirect to: the viewer's host without its port, then the
 * HTTPS port unless it is 443. */
static void
make_location(struct edg_req *r)
{
	char host[300];
	size_t n, cap = strlen(r->target) + sizeof host + 16;

	r->location = malloc(cap);
	if (r->location == NULL)
		return;
	snprintf(host, sizeof host, "%s", r->host);
	if (host[0] == '[') {
		char *e = strchr(host, ']');

		if (e != NULL)
			e[1] = '\0';
	} else {
		host[strcspn(host, ":")] = '\0';
	}
	n = (size_t)snprintf(r->location, cap, "https://%s", host);
	if (r->srv->https_port != 443)
		n += (size_t)snprintf(r->location + n, cap - n, ":%d", r->srv->https_port);
	/* the path and query (of an absolute-form target too) */
	if (edg_upstream_target("", r->target, r->location + n, cap - n) < 0 ||
	    r->location[n] != '/')
		snprintf(r->location + n, cap - n, "/");
}

/* The endpoint for this request and the Host to send it. */
static struct hc_origin *
pick_endpoint(struct edg_req *r, struct edg_origin *o, const char **host_hdr)
{
	bool https = o->https != NULL && (o->http == NULL || r->tls);

	*host_hdr = https ? o->https_host_hdr : o->http_host_hdr;
	return https ? o->https : o->http;
}

/* Open (or reuse) a connection to origin o and send the head.  0, or -1
 * with r->fail / r->why. */
static int
begin_on(struct edg_req *r, struct edg_origin *o)
{
	struct edg_server *srv = r->srv;
	const char *host_hdr;
	struct hc_origin *ep = pick_endpoint(r, o, &host_hdr);
	struct edg_fwd f = {
		.conn = r->conn,
		.method = r->fwd_get ? "GET" : r->method,
		.target = r->fwd_target != NULL ? r->fwd_target : r->target,
		.prefix = o->prefix,
		.host = srv->o.forward_host ? r->host : host_hdr,
		.client_ip = r->client_ip,
		.viewer_tls = r->tls,
		.via = srv->via,
		.request_id = r->id,
		.content_length = r->content_length,
		.chunked = r->chunked,
		.head_only = r->head_only && !r->fwd_get,
		.strip_cond = r->strip_cond,
		.keyed = &srv->o.cache_key_headers,
		.keep_range = r->keep_range,
		.extra = r->extra,
	};
	struct err e = { 0, "" };

	free(r->head);
	r->head = NULL;
	r->org = o;
	if (edg_build_head(&f, &r->head, &r->head_len) < 0) {
		r->fail = HC_PROTOCOL;
		snprintf(r->why, sizeof r->why, "cannot build the request head");
		return -1;
	}
	if (r->began)
		hc_end(&r->x);
	r->began = false;
	if (hc_begin(&r->x, ep, r->head, r->head_len, f.head_only, r->retryable, &e) < 0) {
		r->fail = r->x.fail;
		snprintf(r->why, sizeof r->why, "%s", e.msg);
		hc_end(&r->x);
		return -1;
	}
	r->began = true;
	if (r->chunked)
		hc_set_body_chunked(&r->x);
	return 0;
}

/* Begin with the primary origin, then the failover when the primary
 * cannot be reached. */
static int
begin_exchange(struct edg_req *r)
{
	struct edg_server *srv = r->srv;

	if (begin_on(r, &srv->primary) == 0)
		return 0;
	if (!srv->has_failover)
		return -1;
	LOG_WARN("origin.failover", "id=%s class=%s from=%s to=%s why=%s", r->id,
	         hc_fail_name(r->fail), log_q(srv->primary.url), log_q(srv->failover.url),
	         log_q(r->why));
	return begin_on(r, &srv->failover);
}

/* The methods CloudFront forwards; anything else (lower-case "get",
 * WebDAV, ...) gets 501 at the edge. */
static bool
known_method(const char *m)
{
	static const char *const ok[] = { "GET", "HEAD", "POST", "PUT", "DELETE",
	                                   "OPTIONS", "PATCH" };
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strcmp(m, ok[i]) == 0)
			return true;
	return false;
}

static bool
absolute_form(const char *target)
{
	return strncasecmp(target, "http://", 7) == 0 || strncasecmp(target, "https://", 8) == 0;
}

/* First call: validation and the viewer policy.  0 to go on, -1 after
 * queueing an error (the connection then closes). */
/* The viewer connection's TLS version and cipher (as CloudFront logs
 * them: OpenSSL names), and the handshake counted once per connection. */
static void
note_tls(struct edg_req *r)
{
	const union MHD_ConnectionInfo *ci;
	gnutls_session_t s;
	const char *v, *c;

	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return;
	s = ci->tls_session;
	v = gnutls_protocol_get_name(gnutls_protocol_get_version(s));
	if (v != NULL && strncmp(v, "TLS1.", 5) == 0) /* as CloudFront and OpenSSL */
		snprintf(r->tls_proto, sizeof r->tls_proto, "TLSv%s", v + 3);
	else
		snprintf(r->tls_proto, sizeof r->tls_proto, "%s", v != NULL ? v : "");
	switch (gnutls_cipher_get(s)) {
	case GNUTLS_CIPHER_AES_128_GCM:
		c = gnutls_protocol_get_version(s) == GNUTLS_TLS1_3 ? "TLS_AES_128_GCM_SHA256" :
		    gnutls_kx_get(s) == GNUTLS_KX_ECDHE_ECDSA ? "ECDHE-ECDSA-AES128-GCM-SHA256" :
		    gnutls_kx_get(s) == GNUTLS_KX_ECDHE_RSA ? "ECDHE-RSA-AES128-GCM-SHA256" :
		    "AES128-GCM-SHA256";
		break;
	case GNUTLS_CIPHER_AES_256_GCM:
		c = gnutls_protocol_get_version(s) == GNUTLS_TLS1_3 ? "TLS_AES_256_GCM_SHA384" :
		    gnutls_kx_get(s) == GNUTLS_KX_ECDHE_ECDSA ? "ECDHE-ECDSA-AES256-GCM-SHA384" :
		    gnutls_kx_get(s) == GNUTLS_KX_ECDHE_RSA ? "ECDHE-RSA-AES256-GCM-SHA384" :
		    "AES256-GCM-SHA384";
		break;
	case GNUTLS_CIPHER_CHACHA20_POLY1305:
		c = gnutls_protocol_get_version(s) == GNUTLS_TLS1_3 ?
		    "TLS_CHACHA20_POLY1305_SHA256" :
		    gnutls_kx_get(s) == GNUTLS_KX_ECDHE_ECDSA ? "ECDHE-ECDSA-CHACHA20-POLY1305" :
		    "ECDHE-RSA-CHACHA20-POLY1305";
		break;
	default:
		c = gnutls_cipher_get_name(gnutls_cipher_get(s));
		break;
	}
	snprintf(r->tls_cipher, sizeof r->tls_cipher, "%s", c != NULL ? c : "");
	if (r->vc != NULL) {
		r->vc->requested = true;
		if (!r->vc->tls_counted) {
			r->vc->tls_counted = true;
			edg_metrics_tls(s);
		}
	}
}

/* Replace r->target by its normal form (lib/upath.h), the one form that
 * is keyed, matched against invalidations and sent to the origin; a path
 * that climbs above the root is refused (400). */
static int
normalize_target(struct edg_req *r, enum MHD_Result *ret)
{
	size_t n = strlen(r->target), outn;
	char *norm = malloc(n + 2);
	int rc;

	if (norm == NULL) {
		*ret = MHD_NO;
		return -1;
	}
	rc = upath_target(r->target, n, norm, n + 2, &outn, NULL);
	if (rc != UPATH_OK) {
		free(norm);
		LOG_INFO("request.refused", "id=%s status=400 why=%s method=%s target=%s "
		         "client=%s", r->id, log_q(upath_strerror(rc)), log_q(r->method),
		         log_q(r->target), r->client_ip);
		*ret = edg_send_local(r, 400, upath_strerror(rc), true, NULL);
		return -1;
	}
	if (strcmp(norm, r->target) != 0)
		LOG_DEBUG("request.normalized", "id=%s target=%s normal=%s", r->id,
		          log_q(r->target), log_q(norm));
	free(r->target);
	r->target = norm;
	return 0;
}

static int
first_call(struct edg_req *r, const char *method, const char *version,
           enum MHD_Result *ret)
{
	struct edg_server *srv = r->srv;
	const union MHD_ConnectionInfo *ci;
	struct hreq h;
	struct hdr_walk w = { &h, r, 0, false, NULL, false };
	struct hreq_limits lim = { (size_t)srv->o.max_url_length, srv->o.max_body_size };
	unsigned status;

	conn_arm(srv, r->vc, 0, NULL, false); /* the head is complete */
	r->method = method;
	r->version = version != NULL && strcmp(version, "HTTP/1.0") == 0 ? "HTTP/1.0" : "HTTP/1.1";
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	srv_addr_text(ci ? ci->client_addr : NULL, r->client_ip, sizeof r->client_ip,
	              &r->client_port);
	if (r->tls)
		note_tls(r);
	hreq_begin(&h, method, r->target, strlen(r->target), version);
	if (version != NULL && version[0] != '\0')
		w.end = version + strlen(version);
	MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, walk_header, &w);
	/* the last line's terminator, then the empty line's */
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (ci == NULL || !gap_ok(w.end, method + ci->header_size, 2, 4))
		w.hidden = true;
	r->bytes_in = ci != NULL ? ci->header_size :
	              w.head_bytes + strlen(method) + strlen(r->target) + 13;
	status = hreq_finish(&h, &lim);
	if (status == 0 && w.hidden) {
		/* a NUL byte (RFC 9110 5.5) or a folded line (RFC 9112 5.2):
		 * the head is not what the fields say.  (A NUL right before a
		 * bare LF ends its line the way CR LF would, hiding nothing:
		 * that one is not seen.) */
		status = 400;
		snprintf(h.why, sizeof h.why, "NUL byte or obs-fold in the request head");
	}
	/* the request line: "METHOD SP target SP version", the target copied
	 * by uri_log with strlen */
	if (status == 0 && version != NULL && r->raw_uri != NULL && version > r->raw_uri &&
	    strlen(r->target) != (size_t)(version - 1 - r->raw_uri)) {
		status = 400;
		snprintf(h.why, sizeof h.why, "NUL byte in the request-target");
	}
	if (status == 0 && w.head_bytes + strlen(method) + strlen(r->target) + 12 >
	                       (size_t)srv->o.max_header_size) {
		status = 431;
		snprintf(h.why, sizeof h.why, "request head larger than max_header_size");
	}
	if (status == 0 && edg_upstream_target_check(srv->primary.prefix, r->target) < 0) {
		status = 400;
		snprintf(h.why, sizeof h.why, "path climbs out of the origin path");
	}
	if (status == 0 && !known_method(method)) {
		status = 501;
		snprintf(h.why, sizeof h.why, "method not supported by the edge");
	}
	if (status == 0 && absolute_form(r->target)) {
		const char *a = strchr(r->target, ':') + 3;

		if (!hreq_valid_authority(a, strcspn(a, "/?"))) {
			status = 400;
			snprintf(h.why, sizeof h.why, "malformed authority in the request-target");
		}
	}
	if (status == 0 && w.loop) {
		status = 508;
		snprintf(h.why, sizeof h.why, "request already passed through this edge (Via)");
	}
	if (status != 0) {
		LOG_INFO("request.refused", "id=%s status=%u why=%s method=%s target=%s client=%s",
		         r->id, status, log_q(h.why), log_q(method), log_q(r->target),
		         r->client_ip);
		*ret = edg_send_local(r, status, h.why, true, NULL);
		return -1;
	}
	if (absolute_form(r->target)) {
		/* absolute-form: its authority is the host (RFC 9112 3.2.2) */
		const char *a = strchr(r->target, ':') + 3;

		snprintf(r->host, sizeof r->host, "%.*s", (int)strcspn(a, "/?"), a);
	} else if (h.n_host > 0) {
		snprintf(r->host, sizeof r->host, "%.*s", (int)h.host_len, h.host);
	}
	if (strcmp(r->target, "*") != 0 && normalize_target(r, ret) < 0)
		return -1;
	r->content_length = h.content_length;
	r->chunked = h.te_chunked;
	r->head_only = strcmp(method, "HEAD") == 0;
	r->retryable = (strcmp(method, "GET") == 0 || r->head_only) &&
	               r->content_length <= 0 && !r->chunked;
	if (!r->tls && srv->o.viewer_protocol_policy != NULL &&
	    strcmp(srv->o.viewer_protocol_policy, "allow-all") != 0) {
		if (strcmp(srv->o.viewer_protocol_policy, "https-only") == 0) {
			r->local_status = 403;
			r->local_why = "this site is served over HTTPS only";
		} else {
			r->local_status = 301;
			if (r->host[0] == '\0') {
				r->local_status = 400;
				r->local_why = "no Host to redirect to";
			} else {
				make_location(r);
			}
		}
	}
	return 0;
}

/* The origin's body broke after the viewer got the head: end the viewer's
 * connection with a TCP reset.  libmicrohttpd closes it cleanly otherwise
 * (FIN, and close_notify over TLS), and a body without a length (HTTP/1.0
 * viewers get no chunked framing) would then look complete.  connect() to
 * AF_UNSPEC disconnects a TCP socket with a reset (Linux, connect(2)) and
 * leaves the descriptor to libmicrohttpd, whose next write fails. */
static void
viewer_reset(struct edg_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr sa = { .sa_family = AF_UNSPEC };

	if (ci != NULL && ci->connect_fd != MHD_INVALID_SOCKET)
		(void)connect(ci->connect_fd, &sa, sizeof sa);
}

/* libmicrohttpd's body reader: stream from the origin connection. */
ssize_t
edg_body_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct edg_req *r = cls;
	struct err e = { 0, "" };
	ssize_t n;

	(void)pos;
	n = hc_read_body(&r->x, buf, max, &e);
	if (n > 0) {
		r->bytes_out += (uint64_t)n;
		return n;
	}
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	LOG_WARN("origin.body_failed", "id=%s class=%s origin=%s bytes=%llu why=%s", r->id,
	         hc_fail_name(r->x.fail), log_q(r->org ? r->org->url : "-"),
	         (unsigned long long)r->bytes_out, log_q(e.msg));
	viewer_reset(r);
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static bool
failover_status(unsigned s)
{
	return s == 500 || s == 502 || s == 503 || s == 504;
}

static int
fetch_head(struct edg_req *r)
{
	struct edg_server *srv = r->srv;
	struct err e = { 0, "" };

	if (!r->began && !r->failed && begin_exchange(r) < 0)
		r->failed = true;
	if (r->failed)
		return -1;
	if ((!r->abandoned && hc_send_end(&r->x, &e) < 0) || hc_read_head(&r->x, &e) < 0) {
		r->fail = r->x.fail;
		snprintf(r->why, sizeof r->why, "%s", e.msg);
		if (r->retryable && srv->has_failover && r->org == &srv->primary) {
			LOG_WARN("origin.failover", "id=%s class=%s why=%s", r->id,
			         hc_fail_name(r->fail), log_q(r->why));
			if (begin_on(r, &srv->failover) == 0 && hc_read_head(&r->x, &e) == 0)
				return 0;
			if (r->began)
				r->fail = r->x.fail, snprintf(r->why, sizeof r->why, "%s", e.msg);
		}
		r->failed = true;
		return -1;
	}
	if (r->retryable && srv->has_failover && r->org == &srv->primary &&
	    failover_status(r->x.resp.status)) {
		LOG_WARN("origin.failover", "id=%s status=%u from=%s to=%s", r->id,
		         r->x.resp.status, log_q(srv->primary.url), log_q(srv->failover.url));
		if (begin_on(r, &srv->failover) < 0) {
			r->failed = true;
			return -1;
		}
		if (hc_read_head(&r->x, &e) < 0) {
			r->fail = r->x.fail;
			snprintf(r->why, sizeof r->why, "%s", e.msg);
			r->failed = true;
			return -1;
		}
	}
	return 0;
}

int
edg_fetch_head(struct edg_req *r)
{
	int64_t t = now_ms();
	int rc = fetch_head(r);

	r->origin_fetched = true;
	edg_metrics_origin(now_ms() - t, rc < 0 ? r->fail : HC_OK, rc < 0 ? 0 : r->x.resp.status);
	return rc;
}

enum MHD_Result
edg_queue_origin(struct edg_req *r, MHD_ContentReaderCallback reader, void *cls,
                 MHD_ContentReaderFreeCallback fr, const char *xcache,
                 const char *cache_status)
{
	struct edg_server *srv = r->srv;
	const struct hresp *h = &r->x.resp;
	struct MHD_Response *resp;
	size_t i;
	bool via_done = false;

	if (reader == NULL) {
		reader = edg_body_reader;
		cls = r;
		fr = NULL;
	}
	if (r->x.body == HRESP_BODY_NONE || r->head_only)
		/* HEAD keeps the origin's Content-Length (libmicrohttpd writes it
		 * and sends no body).  Without one, and on a 304, libmicrohttpd
		 * 0.9.75 writes "Content-Length: 0" whatever we do: an unknown size
		 * makes it send a chunked terminator, which would desynchronise
		 * the viewer, and a real length a body it has not got. */
		resp = MHD_create_response_from_callback(
			r->head_only && h->has_content_length ? h->content_length : 0,
			4096, reader, cls, fr);
	else
		resp = MHD_create_response_from_callback(
			r->x.body == HRESP_BODY_LENGTH ? r->x.left + r->pre_read : MHD_SIZE_UNKNOWN,
			32 * 1024, reader, cls, fr);
	if (resp == NULL) {
		if (fr != NULL)
			fr(cls);
		return MHD_NO;
	}
	for (i = 0; i < h->nfields; i++) {
		const struct hresp_field *f = &h->fields[i];
		char name[256], *value;

		if (edg_skip_response_field(h, f) || f->nlen >= sizeof name)
			continue;
		memcpy(name, f->name, f->nlen);
		name[f->nlen] = '\0';
		value = strndup(f->value, f->vlen);
		if (value == NULL)
			continue;
		if (f->nlen == 3 && strcasecmp(name, "via") == 0 && !via_done) {
			/* our hop goes last in the list */
			char *v = NULL;

			if (asprintf(&v, "%s, %s", value, srv->via) > 0) {
				MHD_add_response_header(resp, name, v);
				free(v);
			}
			via_done = true;
		} else if (MHD_add_response_header(resp, name, value) != MHD_YES) {
			LOG_DEBUG("response.field_dropped", "id=%s name=%s", r->id, log_q(name));
		}
		free(value);
	}
	if (!via_done)
		MHD_add_response_header(resp, "Via", srv->via);
	MHD_add_response_header(resp, "X-Edge-Request-Id", r->id);
	if (xcache != NULL)
		MHD_add_response_header(resp, "X-Cache", xcache);
	if (cache_status != NULL)
		MHD_add_response_header(resp, "Cache-Status", cache_status);
	return edg_queue(r, resp, h->status, xcache,
	                 h->has_content_length ? (long long)h->content_length : -1);
}

/* ---- the request body ---------------------------------------------------- */

/* When the watchdog cuts the body off: body_timeout after now (the gap),
 * or, with body_min_rate, when the bytes so far fall behind that rate
 * counted from body_timeout after the body began (Apache mod_reqtimeout's
 * MinRate), leaving out the time edged spent on the origin leg. */
static int64_t
body_deadline(const struct edg_req *r)
{
	const struct edg_opts *o = &r->srv->o;
	int64_t d = now_ms() + o->body_timeout;

	if (o->body_min_rate > 0) {
		int64_t rd = r->body_t0 + r->body_paused + o->body_timeout +
		             r->body_sent * 1000 / o->body_min_rate;

		if (rd < d)
			d = rd;
	}
	return d;
}

/* The head is accepted and a body follows: its deadline armed, and
 * whether it is read whole first (body_buffer_size). */
static void
body_begin(struct edg_req *r)
{
	long long cap = r->srv->o.body_buffer_size;

	if (r->content_length <= 0 && !r->chunked)
		return;
	r->body_t0 = now_ms();
	r->buffering = cap > 0 && (r->chunked || r->content_length <= cap);
	conn_arm(r->srv, r->vc, body_deadline(r), "body", false);
}

/* Body bytes for the origin exchange under way (begun): stop sending when
 * the origin has already answered, or when sending fails. */
static void
body_to_origin(struct edg_req *r, const char *data, size_t n)
{
	struct err e = { 0, "" };

	if (r->abandoned || n == 0)
		return;
	/* an origin refusing the upload answers before it has all of it
	 * (RFC 9112 9.5): stop sending, read the rest from the viewer, and
	 * relay that answer */
	if (hc_answer_started(&r->x)) {
		LOG_INFO("origin.early_answer", "id=%s body_sent=%lld", r->id,
		         r->body_sent - (long long)n);
		r->abandoned = true;
		hc_abandon_body(&r->x);
		return;
	}
	if (hc_send_body(&r->x, data, n, &e) < 0) {
		LOG_INFO("origin.body_send_failed", "id=%s class=%s why=%s", r->id,
		         hc_fail_name(r->x.fail), log_q(e.msg));
		r->abandoned = true;
		hc_abandon_body(&r->x);
	}
}

/* The buffered body: now the origin leg begins (a complete chunked body
 * goes with a Content-Length), and the kept bytes go first.  -1 when it
 * cannot (r->failed). */
static int
body_flush(struct edg_req *r, bool complete)
{
	if (complete && r->chunked && r->body_len > 0) {
		r->chunked = false;
		r->content_length = (long long)r->body_len;
	}
	if (!r->began && begin_exchange(r) < 0) {
		r->failed = true;
		return -1;
	}
	body_to_origin(r, r->body_buf, r->body_len);
	free(r->body_buf);
	r->body_buf = NULL;
	r->body_len = r->body_cap = 0;
	r->buffering = false;
	return 0;
}

/* Keep n body bytes for body_flush; false when they do not fit in
 * body_buffer_size (a chunked body that outgrew it). */
static bool
body_keep(struct edg_req *r, const char *data, size_t n)
{
	size_t cap = (size_t)r->srv->o.body_buffer_size;

	if (r->body_len + n > cap)
		return false;
	if (r->body_len + n > r->body_cap) {
		size_t want = r->body_cap ? r->body_cap : 16384;
		char *nb;

		while (want < r->body_len + n)
			want *= 2;
		if (want > cap)
			want = cap;
		nb = realloc(r->body_buf, want);
		if (nb == NULL)
			return false; /* stream it instead */
		r->body_buf = nb;
		r->body_cap = want;
	}
	memcpy(r->body_buf + r->body_len, data, n);
	r->body_len += n;
	return true;
}

/* A body still arriving is about to hold an origin connection: at most
 * half of origin_max_connections may be held so (at least one), so that
 * slow uploads, however many, leave the other half to the requests that
 * are complete (GETs, buffered bodies).  false: refused (503 once the
 * body is read, or the connection cut by the body timeouts). */
static bool
upload_share(struct edg_req *r)
{
	struct edg_server *srv = r->srv;
	unsigned long max = (unsigned long)srv->o.origin_max_connections / 2;

	if (srv->o.origin_max_connections == 0)
		return true;
	if (max == 0)
		max = 1;
	if (__atomic_add_fetch(&srv->uploading, 1, __ATOMIC_ACQ_REL) > max) {
		__atomic_sub_fetch(&srv->uploading, 1, __ATOMIC_ACQ_REL);
		r->fail = HC_BUSY;
		snprintf(r->why, sizeof r->why, "%lu uploads already hold half of "
		         "origin_max_connections", max);
		LOG_WARN("upload.refused", "id=%s uploads=%lu origin_max_connections=%lld "
		         "content_length=%lld", r->id, max, srv->o.origin_max_connections,
		         r->content_length);
		return false;
	}
	r->uploading = true;
	return true;
}

/* The upload no longer holds its share (its body is complete, or the
 * request ended). */
static void
upload_done(struct edg_req *r)
{
	if (!r->uploading)
		return;
	r->uploading = false;
	__atomic_sub_fetch(&r->srv->uploading, 1, __ATOMIC_ACQ_REL);
}

/* n more body bytes from the viewer. */
static void
body_chunk(struct edg_req *r, const char *data, size_t n)
{
	r->body_sent += (long long)n;
	if (r->srv->o.max_body_size >= 0 && r->body_sent > r->srv->o.max_body_size)
		r->too_large = true; /* chunked: no declared length to refuse early */
	if (r->local_status != 0 || r->failed || r->too_large || r->abandoned)
		return; /* read and dropped */
	if (r->buffering) {
		if (body_keep(r, data, n))
			return;
		/* too large to hold: stream from here, what was kept first */
		r->buffering = false;
		if (!upload_share(r) || body_flush(r, false) < 0) {
			upload_done(r);
			r->failed = true;
			return;
		}
	}
	if (!r->began && (!upload_share(r) || begin_exchange(r) < 0)) {
		upload_done(r);
		r->failed = true;
		return;
	}
	body_to_origin(r, data, n);
}

/* Last call: finish the upload, read the origin's answer, queue it (or
 * let the cache answer). */
static enum MHD_Result
respond(struct edg_req *r)
{
	if (r->srv->cache != NULL && edg_cache_applies(r))
		return edg_cache_respond(r);
	if (r->buffering && body_flush(r, true) < 0)
		return edg_send_origin_error(r);
	if (edg_fetch_head(r) < 0)
		return edg_send_origin_error(r);
	if (r->srv->cache != NULL)
		edg_cache_invalidate(r);
	return edg_queue_origin(r, NULL, NULL, NULL, "Miss from edged", NULL);
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size,
          void **req_cls)
{
	struct edg_req *r = *req_cls;
	enum MHD_Result ret = MHD_YES;

	(void)cls;
	(void)url;
	(void)conn;
	if (r == NULL || r->magic != REQ_MAGIC || r->target == NULL)
		return MHD_NO; /* out of memory in uri_log */
	if (!r->validated) {
		r->validated = true;
		if (first_call(r, method, version, &ret) < 0)
			return ret;
		body_begin(r);
		return MHD_YES; /* answer on a later call (see the top of the file) */
	}
	if (*upload_data_size > 0) {
		int64_t t_in = now_ms();

		/* the time spent here (on the origin) is not the viewer's */
		conn_arm(r->srv, r->vc, 0, NULL, false);
		body_chunk(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		r->body_paused += now_ms() - t_in;
		conn_arm(r->srv, r->vc, body_deadline(r), "body", false);
		return MHD_YES;
	}
	conn_arm(r->srv, r->vc, 0, NULL, false); /* the body (if any) is complete */
	upload_done(r);
	if (r->too_large) {
		LOG_INFO("request.refused", "id=%s status=413 why=\"chunked body over "
		         "max_body_size\"", r->id);
		return edg_send_local(r, 413, "request body larger than the limit", true, NULL);
	}
	if (r->local_status != 0)
		return edg_send_local(r, r->local_status, r->local_why, false, NULL);
	return respond(r);
}

static void
completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct edg_req *r = *req_cls;
	struct edg_listener *l = cls;
	const char *fired = NULL;

	(void)conn;
	if (r == NULL || r->magic != REQ_MAGIC)
		return;
	if (r->vc != NULL) {
		pthread_mutex_lock(&l->srv->conns_mu);
		fired = r->vc->fired;
		r->vc->fired = NULL;
		pthread_mutex_unlock(&l->srv->conns_mu);
	}
	if (fired != NULL && strcmp(fired, "body") == 0) {
		/* nothing was answered (it cannot be before the body ends): logged
		 * as 408, as nginx does; an origin exchange under way is closed
		 * below, never pooled (its response was not read) */
		LOG_INFO("request.body_timeout", "id=%s received=%lld expected=%lld ms=%lld "
		         "origin=%s client=%s", r->id, r->body_sent, r->content_length,
		         (long long)(now_ms() - r->body_t0),
		         r->began ? "abandoned" : "never contacted", r->client_ip);
		if (r->status == 0) {
			r->status = 408;
			r->local_kind = EDG_LOCAL_INVALID;
		}
	} else if (fired != NULL && strcmp(fired, "response") == 0) {
		LOG_INFO("request.send_timeout", "id=%s status=%u sent=%llu ms=%lld client=%s",
		         r->id, r->status, (unsigned long long)r->bytes_out,
		         (long long)(now_ms() - r->t_queued), r->client_ip);
	}
	if (r->c != NULL)
		edg_cache_end(r);
	if (r->began)
		hc_end(&r->x);
	upload_done(r);
	if (r->body_sent > 0)
		r->bytes_in += (uint64_t)r->body_sent;
	r->aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK;
	edg_metrics_request(r);
	edg_alog_request(r);
	/* the next request may idle up to connection_timeout, then must send
	 * its head within header_timeout */
	conn_arm(l->srv, r->vc, now_ms() + l->srv->o.connection_timeout +
	                        l->srv->o.header_timeout, "idle", false);
	LOG_DEBUG("request", "id=%s method=%s target=%s status=%u bytes=%llu ms=%lld "
	          "result=%s", r->id, log_q(r->method ? r->method : "-"), log_q(r->target),
	          r->status, (unsigned long long)r->bytes_out, (long long)(now_ms() - r->t0),
	          toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" : "aborted");
	__atomic_sub_fetch(&l->srv->inflight, 1, __ATOMIC_RELEASE);
	r->magic = 0;
	free(r->target);
	free(r->fwd_target);
	free(r->head);
	free(r->location);
	free(r->extra);
	free(r->body_buf);
	free(r);
	*req_cls = NULL;
}

/* ---- start-up ----------------------------------------------------------------- */

static struct MHD_Daemon *
start_listener(struct edg_server *srv, struct edg_listener *l, const char *key,
               const char *addr, struct err *e)
{
	struct sockaddr_storage ss;
	/* poll(), not select(): select is libmicrohttpd's default for its
	 * per-connection threads and costs more per wake-up (and fails past
	 * FD_SETSIZE descriptors) */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	                 MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_ITC; /* ITC: quiesce */
	struct MHD_Daemon *d;
	int port = 0;
	/* the pool holds the request head, the read buffer and the response
	 * head built from the origin's (up to HRESP_MAX_HEAD) */
	size_t mem = (size_t)srv->o.max_header_size * 2 + HRESP_MAX_HEAD + 32768;
	struct MHD_OptionItem tlsopts[3] = {
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (srv_listen_addr(key, addr, &ss, &flags, &port, e) < 0)
		return NULL;
	if (l->tls) {
		flags |= MHD_USE_TLS;
		srv->https_port = port;
		tlsopts[0].option = MHD_OPTION_HTTPS_CERT_CALLBACK2;
		tlsopts[0].ptr_value = (void *)edg_cert_select;
		tlsopts[1].option = MHD_OPTION_HTTPS_PRIORITIES;
		tlsopts[1].ptr_value = (void *)srv->priority;
	}
	d = MHD_start_daemon(
		flags, (uint16_t)port, NULL, NULL, access_cb, l,
		MHD_OPTION_EXTERNAL_LOGGER, srv_mhd_log, NULL, /* first, to catch the rest */
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_ARRAY, tlsopts,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->o.max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)srv->o.max_connections_per_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(srv->o.connection_timeout / 1000),
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024),
		/* strict mode sends its own answers to some bad requests twice
		 * over (status line and head repeated) and drops others without a
		 * word: edged judges every request itself (lib/hreq.c) instead */
		MHD_OPTION_STRICT_FOR_CLIENT, (int)0,
		MHD_OPTION_URI_LOG_CALLBACK, uri_log, l,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, l,
		MHD_OPTION_NOTIFY_CONNECTION, conn_cb, l,
		MHD_OPTION_UNESCAPE_CALLBACK, srv_no_unescape, NULL,
		MHD_OPTION_END);
	if (d == NULL)
		err_set(e, ERR_FAIL, "key '%s': cannot listen on %s: %s", key, addr,
		        errno ? strerror(errno) : "libmicrohttpd refused the settings");
	return d;
}

static int
setup(struct edg_server *srv, struct err *e)
{
	struct edg_opts *o = &srv->o;
	char node[256];
	gnutls_priority_t prio;
	struct edg_hpol *hpol;
	const char *p;

	if (o->origin_protocol_policy == NULL)
		srv->opp = strncasecmp(o->origin, "https://", 8) == 0 ? EDG_OPP_HTTPS : EDG_OPP_HTTP;
	else if (strcmp(o->origin_protocol_policy, "https-only") == 0)
		srv->opp = EDG_OPP_HTTPS;
	else if (strcmp(o->origin_protocol_policy, "http-only") == 0)
		srv->opp = EDG_OPP_HTTP;
	else
		srv->opp = EDG_OPP_MATCH;
	if ((o->origin_client_cert == NULL) != (o->origin_client_key == NULL))
		return err_set(e, ERR_USAGE, "keys 'origin_client_cert' and 'origin_client_key' "
		               "go together");
	if (edg_origin_init(&srv->primary, "origin", o->origin, o, srv->opp, e) < 0)
		return -1;
	if (o->origin_failover != NULL) {
		if (edg_origin_init(&srv->failover, "origin_failover", o->origin_failover, o,
		                    srv->opp, e) < 0)
			return -1;
		srv->has_failover = true;
	}
	if (o->node_name != NULL) {
		snprintf(node, sizeof node, "%s", o->node_name);
	} else if (gethostname(node, sizeof node) != 0) {
		snprintf(node, sizeof node, "edged");
	}
	node[sizeof node - 1] = '\0';
	if (strpbrk(node, " \t\r\n,()") != NULL || node[0] == '\0')
		return err_set(e, ERR_USAGE, "key 'node_name': '%s' must be a token (no spaces, "
		               "commas or parentheses)", node);
	snprintf(srv->via, sizeof srv->via, "1.1 %s (edged)", node);
	snprintf(srv->loop_mark, sizeof srv->loop_mark, " %s (edged)", node);
	if (o->tls_priority != NULL) {
		p = o->tls_priority;
		if (tls_priority_init(p, &prio, e) < 0)
			return err_prefix(e, "key 'tls_priority': ");
	} else {
		p = edg_policy_priority(o->security_policy);
		if (p == NULL)
			return err_set(e, ERR_USAGE, "key 'security_policy': unknown policy '%s'",
			               o->security_policy);
		if (tls_priority_init(p, &prio, e) < 0)
			return err_prefix(e, "security_policy %s: ", o->security_policy);
	}
	gnutls_priority_deinit(prio);
	srv->priority = p;
	if (MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK2) != MHD_YES)
		return err_set(e, ERR_FAIL, "this libmicrohttpd lacks MHD_OPTION_HTTPS_CERT_CALLBACK2 "
		               "(built with GnuTLS < 3.6.3?)");
	if (edg_certs_load(&o->cert, &o->key, &o->ocsp_file, e) < 0)
		return -1;
	if (tickets_start(o->ticket_key_rotation, e) < 0)
		return -1;
	snprintf(srv->node, sizeof srv->node, "%s", node);
	hpol = edg_hpol_build(o, e);
	if (hpol == NULL)
		return -1;
	edg_hpol_install(srv, hpol);
	return edg_cache_init(srv, e);
}

/* SIGTERM: stop accepting, let the requests in flight finish (up to
 * drain_timeout; their answers say Connection: close), then stop (closing
 * idle connections).  /healthz answers 503 from the start. */
static bool
drain(struct edg_server *srv)
{
	int64_t t0 = now_ms(), until = t0 + srv->o.drain_timeout;
	unsigned long left;
	MHD_socket fd;

	__atomic_store_n(&srv->draining, true, __ATOMIC_RELEASE);
	LOG_INFO("drain.begin", "inflight=%lu drain_timeout_ms=%lld",
	         __atomic_load_n(&srv->inflight, __ATOMIC_ACQUIRE),
	         (long long)srv->o.drain_timeout);

	/* the listening sockets are ours to close once quiesced */
	if (srv->d_https != NULL && (fd = MHD_quiesce_daemon(srv->d_https)) != MHD_INVALID_SOCKET)
		close(fd);
	if (srv->d_http != NULL && (fd = MHD_quiesce_daemon(srv->d_http)) != MHD_INVALID_SOCKET)
		close(fd);
	/* idle keep-alive connections do not hold the exit up: only requests */
	while (now_ms() < until && __atomic_load_n(&srv->inflight, __ATOMIC_ACQUIRE) > 0) {
		struct timespec ts = { 0, 50 * 1000000L };

		nanosleep(&ts, NULL);
	}
	edg_cache_drain(srv, until);
	left = __atomic_load_n(&srv->inflight, __ATOMIC_ACQUIRE);
	if (left > 0) {
		LOG_WARN("drain.timeout", "inflight=%lu ms=%lld msg=\"drain_timeout passed; "
		         "cutting the requests still in flight\"", left, (long long)(now_ms() - t0));
		return false;
	}
	LOG_INFO("drain.done", "ms=%lld", (long long)(now_ms() - t0));
	return true;
}

int
main(int argc, char **argv)
{
	struct edg_server *srv = calloc(1, sizeof *srv);
	struct err e = { 0, "" };
	sigset_t set;
	int rc, sig = 0, status = 1;
	bool watchdog = false;

	if (srv == NULL)
		return 1;
	rc = cfg_parse_argv(&edg_spec, &srv->o, argc - 1, argv + 1, NULL, NULL, &e);
	if (rc != CFG_OK) {
		if (rc < 0)
			fprintf(stderr, "edged: %s\n", e.msg);
		status = rc == CFG_EXIT ? 0 : 2;
		goto out_cfg;
	}
	log_init("edged", (enum log_level)log_level_parse(srv->o.log_level), 2);
	signal(SIGPIPE, SIG_IGN);
#ifdef __GLIBC__
	/* Large buffers (an entry loaded from Redis, a body being stored) are
	 * mmap()ed and go back to the system when freed.  glibc otherwise
	 * raises its mmap threshold after the first such free (up to 32 MiB)
	 * and keeps what later ones free in its per-thread arenas: a burst of
	 * hits on 20 MiB entries left edged 330 MiB above its start RSS
	 * (tests/integration/t0481).  Setting the threshold stops that. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads inherit the mask */
	pthread_mutex_init(&srv->conns_mu, NULL);
	if (tls_init(&e) < 0 || setup(srv, &e) < 0) {
		fprintf(stderr, "edged: %s\n", e.msg);
		status = e.code == ERR_USAGE ? 2 : 1;
		goto out;
	}
	srv->argc = argc;
	srv->argv = argv;
	if (srv->o.access_log != NULL && edg_alog_open(srv, srv->o.access_log, &e) < 0) {
		fprintf(stderr, "edged: %s\n", e.msg);
		goto out;
	}
	if (edg_admin_start(srv, &e) < 0) {
		fprintf(stderr, "edged: %s\n", e.msg);
		status = e.code == ERR_USAGE ? 2 : 1;
		goto out;
	}
	srv->l_https.srv = srv;
	srv->l_https.tls = true;
	srv->l_http.srv = srv;
	srv->l_http.tls = false;
	if (pthread_create(&srv->watchdog, NULL, watchdog_main, srv) != 0) {
		fprintf(stderr, "edged: cannot start the watchdog thread\n");
		goto out;
	}
	watchdog = true;
	srv->d_https = start_listener(srv, &srv->l_https, "listen_https", srv->o.listen_https,
	                              &e);
	if (srv->d_https != NULL && srv->o.listen_http != NULL)
		srv->d_http = start_listener(srv, &srv->l_http, "listen_http", srv->o.listen_http,
		                             &e);
	if (srv->d_https == NULL || (srv->o.listen_http != NULL && srv->d_http == NULL)) {
		fprintf(stderr, "edged: %s\n", e.msg);
		goto out;
	}
	LOG_INFO("listening", "https=%s http=%s policy=%s security_policy=%s origin=%s "
	         "origin_policy=%s failover=%s", srv->o.listen_https,
	         srv->o.listen_http ? srv->o.listen_http : "off", srv->o.viewer_protocol_policy,
	         srv->o.tls_priority ? "custom" : srv->o.security_policy,
	         log_q(srv->o.origin),
	         srv->opp == EDG_OPP_HTTPS ? "https-only" :
	         srv->opp == EDG_OPP_HTTP ? "http-only" : "match-viewer",
	         srv->has_failover ? srv->o.origin_failover : "off");
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			edg_reload(srv, argc, argv);
			continue;
		}
		if (sig == SIGUSR1) {
			edg_alog_reopen();
			continue;
		}
		break;
	}
	LOG_INFO("stopping", "signal=%d", sig);
	if ((sig == SIGTERM && !drain(srv)) ||
	    (sig != SIGTERM && __atomic_load_n(&srv->inflight, __ATOMIC_ACQUIRE) > 0)) {
		/* requests still in flight: their threads may be blocked on the
		 * origin for up to origin_response_timeout and would hold
		 * MHD_stop_daemon up, so cut them by exiting (after the access
		 * log's queue is written) */
		edg_admin_stop(srv);
		edg_alog_close();
		LOG_INFO("stopped", "cut=%lu", __atomic_load_n(&srv->inflight, __ATOMIC_ACQUIRE));
		_exit(0);
	}
	status = 0;
out:
	if (srv->d_http != NULL)
		MHD_stop_daemon(srv->d_http);
	if (srv->d_https != NULL)
		MHD_stop_daemon(srv->d_https);
	edg_admin_stop(srv);
	edg_alog_close();
	tickets_stop();
	if (watchdog) {
		pthread_mutex_lock(&srv->conns_mu);
		srv->stopping = true;
		pthread_mutex_unlock(&srv->conns_mu);
		pthread_join(srv->watchdog, NULL);
	}
	if (!edg_cache_free(srv))
		return status; /* a refresh still uses srv: exit without freeing */
	edg_origin_free(&srv->primary);
	edg_origin_free(&srv->failover);
	edg_certs_free();
	edg_hpol_free_all(srv);
	pthread_mutex_destroy(&srv->conns_mu);
	tls_deinit();
out_cfg:
	cfg_free(&edg_spec, &srv->o);
	free(srv);
	return status;
}
