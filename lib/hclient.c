/*
 * hclient.c: see hclient.h.
 *
 * Model: an exchange owns its connection (x->c) from hc_begin to hc_end;
 * nobody else touches it, so all I/O runs without a lock, bounded by
 * tconn's deadlines.  x->buf holds the response head from its first byte
 * and, behind it, whatever body bytes came with the head or (chunked
 * bodies) were read to be decoded; x->resp's spans point into it, so it is
 * never moved once the final head is parsed.  Bodies with a length or
 * ending at close are read straight into the caller's buffer once the
 * buffered bytes are gone: no copy, and never a byte past the body.
 *
 * Reuse: a connection goes back to the pool only when its response was
 * read to the end with nothing after it, the response allows it
 * (hresp_reusable) and the request was complete (a chunked request body
 * is complete once hc_send_end sent its last chunk).  Any byte left in
 * x->buf after the body, or arriving on an idle connection
 * (tconn_idle_broken), is a framing disagreement: that connection is
 * closed, never reused.
 *
 * Limit: o->nopen counts the connections open to the origin, busy and
 * idle.  An exchange holds one place (x->slot) from hc_begin (a place
 * taken, or an idle connection's place taken over) to hc_end, which hands
 * it to the pool with the connection or gives it up when the connection
 * closes.  An idle connection closed by the pool gives up its own place.
 * Every place given up, and every connection pooled, wakes the threads
 * waiting in slot_get for one (o->freed).
 *
 * Threads and locks: struct hc_origin is shared by every thread talking
 * to the origin.  o->mu guards the idle array (newest last, so sorted by
 * idle_since_ms), nopen and the counters, and is held only to copy entries
 * in or out: every check (tconn_idle_broken) and close happens after it is
 * released.  The TLS settings (o->tls) lock themselves.
 */
#include <limits.h>
#include <poll.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hclient.h"

#define SWEEP_MAX    8    /* expired idle connections taken out per pool visit */
#define HEAD_MAX     (HRESP_MAX_HEAD + HC_BUF) /* x->buf while reading heads */
#define COALESCE_MAX 8192 /* chunks this small go out in one write with their framing */

const char *
hc_fail_name(enum hc_fail f)
{
	static const char *n[] = { "ok", "connect", "tls", "verify", "timeout",
	                           "protocol", "closed", "io", "busy" };

	return (unsigned)f < sizeof n / sizeof n[0] ? n[f] : "?";
}

int
hc_origin_init(struct hc_origin *o, const struct hc_origin_opts *opts, struct err *e)
{
	const char *name;
	bool v6;

	memset(o, 0, sizeof *o);
	if (opts->host == NULL || opts->host[0] == '\0' || strlen(opts->host) >= sizeof o->host)
		return err_set(e, ERR_USAGE, "origin host '%s': empty or longer than %zu bytes",
		               opts->host ? opts->host : "", sizeof o->host - 1);
	if (opts->port < 1 || opts->port > 65535)
		return err_set(e, ERR_USAGE, "origin port %d: not in 1-65535", opts->port);
	if (opts->connection_attempts < 1 || opts->connect_timeout_ms < 1 ||
	    opts->response_timeout_ms < 1 || opts->keepalive_timeout_ms < 0)
		return err_set(e, ERR_USAGE, "origin %s: connection attempts and timeouts must be "
		               "positive (keep-alive timeout: 0 or more)", opts->host);
	o->https = opts->https;
	snprintf(o->host, sizeof o->host, "%s", opts->host);
	o->port = opts->port;
	v6 = strchr(o->host, ':') != NULL;
	snprintf(o->label, sizeof o->label, "%s://%s%s%s:%d", o->https ? "https" : "http",
	         v6 ? "[" : "", o->host, v6 ? "]" : "", o->port);
	o->connect_timeout_ms = opts->connect_timeout_ms;
	o->connection_attempts = opts->connection_attempts;
	o->response_timeout_ms = opts->response_timeout_ms;
	o->keepalive_timeout_ms = opts->keepalive_timeout_ms;
	o->max_idle = opts->max_idle;
	o->max_conns = opts->max_conns;
	if (o->max_idle > 0 && (o->idle = calloc(o->max_idle, sizeof *o->idle)) == NULL) {
		err_set(e, ERR_FAIL, "%s: out of memory for %zu idle connections", o->label,
		        o->max_idle);
		goto fail;
	}
	/* origin_sni is the name the origin's certificate carries, so it is
	 * verified as well as sent */
	name = opts->sni != NULL && opts->sni[0] != '\0' ? opts->sni : o->host;
	if (o->https && tconn_tls_init(&o->tls, opts->ca_file, opts->cert_file, opts->key_file,
	                               opts->min_tls, opts->priority, name, name, e) < 0)
		goto fail;
	pthread_mutex_init(&o->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* tconn_now_ms's clock */
		pthread_cond_init(&o->freed, &ca);
		pthread_condattr_destroy(&ca);
	}
	return 0;
fail:
	free(o->idle);
	memset(o, 0, sizeof *o);
	return -1;
}

void
hc_origin_free(struct hc_origin *o)
{
	size_t i;

	for (i = 0; i < o->nidle; i++)
		tconn_close(&o->idle[i].c);
	free(o->idle);
	if (o->https)
		tconn_tls_free(&o->tls);
	pthread_cond_destroy(&o->freed);
	pthread_mutex_destroy(&o->mu);
	memset(o, 0, sizeof *o);
}

/* ---- the pool ------------------------------------------------------------ */

static void
count(struct hc_origin *o, unsigned long long *counter)
{
	pthread_mutex_lock(&o->mu);
	(*counter)++;
	pthread_mutex_unlock(&o->mu);
}

/* Under o->mu: move the idle connections past the keep-alive timeout (the
 * oldest come first) into out, at most SWEEP_MAX.  The caller closes them
 * once it has unlocked. */
static size_t
sweep_locked(struct hc_origin *o, int64_t now, struct hc_idle *out)
{
	size_t n = 0;

	while (n < SWEEP_MAX && n < o->nidle &&
	       now - o->idle[n].idle_since_ms > o->keepalive_timeout_ms)
		n++;
	if (n == 0)
		return 0;
	memcpy(out, o->idle, n * sizeof *out);
	memmove(o->idle, o->idle + n, (o->nidle - n) * sizeof *o->idle);
	o->nidle -= n;
	return n;
}

/* n connections were closed: their places are free. */
static void
conns_gone(struct hc_origin *o, size_t n)
{
	if (n == 0)
		return;
	pthread_mutex_lock(&o->mu);
	o->nopen = o->nopen > n ? o->nopen - n : 0;
	pthread_cond_broadcast(&o->freed);
	pthread_mutex_unlock(&o->mu);
}

static void
close_all(struct hc_origin *o, struct hc_idle *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		tconn_close(&v[i].c);
	conns_gone(o, n);
}

void
hc_origin_counts(struct hc_origin *o, size_t *open, size_t *idle)
{
	pthread_mutex_lock(&o->mu);
	*open = o->nopen;
	*idle = o->nidle;
	pthread_mutex_unlock(&o->mu);
}

/* The newest idle connection that is still fresh and unbroken, into *c;
 * false when there is none.  The others met on the way are closed. */
static bool
pool_take(struct hc_origin *o, struct tconn *c)
{
	struct hc_idle old[SWEEP_MAX], got;

	if (o->keepalive_timeout_ms == 0 || o->max_idle == 0)
		return false;
	for (;;) {
		int64_t now = tconn_now_ms();
		size_t nold;
		bool have;

		pthread_mutex_lock(&o->mu);
		nold = sweep_locked(o, now, old);
		have = o->nidle > 0;
		if (have)
			got = o->idle[--o->nidle];
		pthread_mutex_unlock(&o->mu);
		close_all(o, old, nold);
		if (!have)
			return false;
		if (now - got.idle_since_ms <= o->keepalive_timeout_ms &&
		    !tconn_idle_broken(&got.c)) {
			*c = got.c;
			return true;
		}
		tconn_close(&got.c);
		conns_gone(o, 1);
	}
}

/* Keep c (and its place under max_conns) for the next exchange, or close
 * it when the pool is full. */
static void
pool_put(struct hc_origin *o, struct tconn *c)
{
	struct hc_idle old[SWEEP_MAX];
	int64_t now = tconn_now_ms();
	size_t nold;
	bool kept = false;

	pthread_mutex_lock(&o->mu);
	nold = sweep_locked(o, now, old);
	if (o->nidle < o->max_idle) {
		o->idle[o->nidle].c = *c;
		o->idle[o->nidle].idle_since_ms = now;
		o->nidle++;
		kept = true;
		pthread_cond_broadcast(&o->freed); /* a waiter may take it */
	}
	pthread_mutex_unlock(&o->mu);
	close_all(o, old, nold);
	if (!kept) {
		tconn_close(c);
		conns_gone(o, 1);
	}
}

/* ---- failures ------------------------------------------------------------ */

/* What a tconn failure on an open connection means for the exchange. */
static enum hc_fail
io_fail(enum tconn_fail f)
{
	switch (f) {
	case TCONN_TIMEOUT:
		return HC_TIMEOUT;
	case TCONN_TLS:
		return HC_TLS;
	case TCONN_VERIFY:
		return HC_VERIFY;
	case TCONN_CLOSED:
		return HC_CLOSED;
	case TCONN_RESOLVE:
	case TCONN_REFUSED:
		return HC_CONNECT;
	default:
		return HC_IO;
	}
}

/* While connecting, everything but a timeout or TLS is "connect"; an
 * origin that hangs up in the middle of the TLS handshake (after TCP
 * connected) is a TLS failure, though one worth another attempt. */
static enum hc_fail
connect_fail(enum tconn_fail f, bool https)
{
	enum hc_fail h = io_fail(f);

	if (h == HC_CLOSED && https)
		return HC_TLS;
	return h == HC_CLOSED || h == HC_IO ? HC_CONNECT : h;
}

static int
xfail(struct hc_exchange *x, enum hc_fail f, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Fail the exchange: x->fail = f, e = "<origin label>: <message>". */
static int
xfail(struct hc_exchange *x, enum hc_fail f, struct err *e, const char *fmt, ...)
{
	char msg[sizeof e->msg];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	x->fail = f;
	return err_set(e, ERR_FAIL, "%s: %s", x->o->label, msg);
}

/* May the exchange go on?  Not after a failure, nor without a connection. */
static int
usable(struct hc_exchange *x, struct err *e)
{
	if (x->fail != HC_OK)
		return err_set(e, ERR_FAIL, "%s: the exchange already failed (%s)", x->o->label,
		               hc_fail_name(x->fail));
	if (!x->have_conn)
		return xfail(x, HC_IO, e, "no connection (hc_begin was not called, or hc_end "
		             "was)");
	return 0;
}

static int buf_resize(struct hc_exchange *x, size_t cap, struct err *e);

/* ---- connecting and sending ---------------------------------------------- */

/* A place for a new connection under max_conns, into x->slot: 0 when
 * taken, 1 when an idle connection appeared meanwhile (take that one
 * instead), -1 (HC_BUSY) when none came free within connect_timeout_ms. */
static int
slot_get(struct hc_exchange *x, struct err *e)
{
	struct hc_origin *o = x->o;
	int64_t deadline = tconn_deadline(o->connect_timeout_ms);
	bool waited = false;
	int rc = 0;

	pthread_mutex_lock(&o->mu);
	for (;;) {
		struct timespec ts;

		if (o->max_conns == 0 || o->nopen < o->max_conns) {
			o->nopen++;
			x->slot = true;
			break;
		}
		if (o->nidle > 0) {
			rc = 1;
			break;
		}
		if (tconn_now_ms() >= deadline) {
			o->busy++;
			rc = -1;
			break;
		}
		if (!waited)
			o->waited++;
		waited = true;
		ts.tv_sec = (time_t)(deadline / 1000);
		ts.tv_nsec = (long)(deadline % 1000) * 1000000L;
		pthread_cond_timedwait(&o->freed, &o->mu, &ts);
	}
	pthread_mutex_unlock(&o->mu);
	if (rc < 0)
		return xfail(x, HC_BUSY, e, "all %zu connections to the origin are in use; none "
		             "came free within %d ms", o->max_conns, o->connect_timeout_ms);
	return rc;
}

/* Give x's place under max_conns up (its connection is closed, or never
 * opened). */
static void
slot_put(struct hc_exchange *x)
{
	if (!x->slot)
		return;
	x->slot = false;
	conns_gone(x->o, 1);
}

/* A new connection into x->c: up to connection_attempts tries, but none
 * after a TLS or certificate failure (the next would fail the same). */
static int
open_fresh(struct hc_exchange *x, struct err *e)
{
	struct hc_origin *o = x->o;
	struct err te = { 0, "" };
	int i;

	for (i = 1;; i++) {
		if (tconn_open(&x->c, o->host, o->port, o->https ? &o->tls : NULL,
		               o->connect_timeout_ms, &te) == 0)
			break;
		if (x->c.fail == TCONN_VERIFY || x->c.fail == TCONN_TLS ||
		    i >= o->connection_attempts) {
			if (i == 1)
				return xfail(x, connect_fail(x->c.fail, o->https), e, "%s", te.msg);
			return xfail(x, connect_fail(x->c.fail, o->https), e, "%s (%d attempts)",
			             te.msg, i);
		}
	}
	x->have_conn = true;
	x->reused = false;
	if (x->t_connect_ms < 0)
		x->t_connect_ms = tconn_now_ms() - x->t_begin;
	count(o, &o->opened);
	return 0;
}

static int
send_all(struct hc_exchange *x, const void *p, size_t n, struct err *e)
{
	struct err te = { 0, "" };

	if (tconn_write(&x->c, p, n, tconn_deadline(x->o->response_timeout_ms), &te) < 0)
		return xfail(x, io_fail(x->c.fail), e, "%s", te.msg);
	return 0;
}

/* Only a request safe to send twice, on a connection that came from the
 * pool (which the origin may have dropped meanwhile), is sent again. */
static bool
may_retry(const struct hc_exchange *x)
{
	return x->reused && x->retryable && !x->body_sent && x->req_head != NULL;
}

/* The reused connection died before any response byte: close it, send the
 * head again on a new one. */
static int
retry_fresh(struct hc_exchange *x, struct err *e)
{
	tconn_close(&x->c);
	x->have_conn = false;
	x->reused = false;
	x->fail = HC_OK;
	count(x->o, &x->o->retried);
	if (open_fresh(x, e) < 0)
		return -1;
	return send_all(x, x->req_head, x->req_head_len, e);
}

int
hc_begin(struct hc_exchange *x, struct hc_origin *o, const char *head, size_t head_len,
         bool head_request, bool retryable, struct err *e)
{
	memset(x, 0, sizeof *x);
	x->o = o;
	x->c.fd = -1;
	x->req_head = head;
	x->req_head_len = head_len;
	x->head_request = head_request;
	x->retryable = retryable;
	x->t_begin = tconn_now_ms();
	x->t_connect_ms = -1;
	x->t_first_byte_ms = -1;
	for (;;) {
		int rc;

		if (pool_take(o, &x->c)) {
			x->have_conn = true;
			x->reused = true;
			x->slot = true; /* the idle connection's place */
			x->t_connect_ms = tconn_now_ms() - x->t_begin;
			count(o, &o->reused);
			break;
		}
		rc = slot_get(x, e);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue; /* a connection was pooled meanwhile */
		if (open_fresh(x, e) < 0) {
			slot_put(x);
			return -1;
		}
		break;
	}
	if (send_all(x, head, head_len, e) == 0)
		return 0;
	/* a write that fails at once on a pooled connection: the origin
	 * dropped it while idle (a timeout is the origin being slow: no) */
	if (!may_retry(x) || (x->c.fail != TCONN_CLOSED && x->c.fail != TCONN_IO))
		return -1;
	return retry_fresh(x, e);
}

void
hc_set_body_chunked(struct hc_exchange *x)
{
	x->body_chunked = true;
}

int
hc_send_body(struct hc_exchange *x, const void *data, size_t len, struct err *e)
{
	char small[32 + COALESCE_MAX];
	int n;

	if (usable(x, e) < 0)
		return -1;
	if (len == 0)
		return 0; /* an empty chunk would be the last one */
	x->body_sent = true;
	if (!x->body_chunked) {
		if (send_all(x, data, len, e) < 0)
			goto failed;
		return 0;
	}
	n = snprintf(small, 32, "%zx\r\n", len);
	if (len <= COALESCE_MAX) {
		memcpy(small + n, data, len);
		memcpy(small + n + len, "\r\n", 2);
		if (send_all(x, small, (size_t)n + len + 2, e) < 0)
			goto failed;
		return 0;
	}
	if (send_all(x, small, (size_t)n, e) < 0 || send_all(x, data, len, e) < 0 ||
	    send_all(x, "\r\n", 2, e) < 0)
		goto failed;
	return 0;
failed:
	x->send_failed = true; /* the origin may have answered and closed */
	return -1;
}

bool
hc_answer_started(struct hc_exchange *x)
{
	struct pollfd p;
	struct err te = { 0, "" };
	ssize_t n;

	if (!x->have_conn || x->fail != HC_OK)
		return false;
	p = (struct pollfd){ .fd = x->c.fd, .events = POLLIN };
	if ((x->c.tls == NULL || gnutls_record_check_pending(x->c.tls) == 0) &&
	    poll(&p, 1, 0) <= 0)
		return false;
	if (x->buf == NULL && buf_resize(x, HC_BUF, &te) < 0)
		return false;
	if (x->len == x->cap)
		return true;
	/* a deadline of now: one non-blocking read */
	n = tconn_read(&x->c, x->buf + x->len, x->cap - x->len, tconn_now_ms(), &te);
	if (n > 0) {
		x->len += (size_t)n;
		return true;
	}
	if (n < 0 && x->c.fail == TCONN_TIMEOUT) { /* only TLS housekeeping came */
		x->c.fail = TCONN_OK;
		return false;
	}
	return true; /* end of stream or an error: hc_read_head will say which */
}

void
hc_abandon_body(struct hc_exchange *x)
{
	x->body_abandoned = true;
}

/* The chunked body ends here: body_chunked goes back to false, so that
 * hc_end can tell a chunked request body that was never finished (the
 * origin still waits for the rest of it: the connection cannot be reused). */
int
hc_send_end(struct hc_exchange *x, struct err *e)
{
	if (usable(x, e) < 0)
		return -1;
	if (!x->body_chunked)
		return 0;
	x->body_sent = true;
	if (send_all(x, "0\r\n\r\n", 5, e) < 0)
		return -1;
	x->body_chunked = false;
	return 0;
}

/* ---- the response -------------------------------------------------------- */

static ssize_t
sock_read(struct hc_exchange *x, void *buf, size_t len, struct err *e)
{
	struct err te = { 0, "" };
	ssize_t n;

	n = tconn_read(&x->c, buf, len, tconn_deadline(x->o->response_timeout_ms), &te);
	if (n < 0)
		return xfail(x, io_fail(x->c.fail), e, "%s", te.msg);
	return n;
}

static int
buf_resize(struct hc_exchange *x, size_t cap, struct err *e)
{
	char *nb = realloc(x->buf, cap);

	if (nb == NULL)
		return xfail(x, HC_IO, e, "out of memory for a %zu-byte response buffer", cap);
	x->buf = nb;
	x->cap = cap;
	return 0;
}

/* A final head is in x->resp: set up reading its body. */
static int
head_done(struct hc_exchange *x, struct err *e)
{
	struct err pe = { 0, "" };

	/* chunked bodies are read into x->buf behind the head, which stays */
	if (x->cap - x->resp.head_len < HC_BUF) {
		if (buf_resize(x, x->resp.head_len + HC_BUF, e) < 0)
			return -1;
		if (hresp_parse(x->buf, x->len, &x->resp, &pe) != 1) /* re-point the spans */
			return xfail(x, HC_PROTOCOL, e, "response head: %s", pe.msg);
	}
	x->off = x->resp.head_len;
	x->req_head = NULL; /* the caller may free it now */
	x->body = hresp_body(&x->resp, x->head_request);
	switch (x->body) {
	case HRESP_BODY_NONE:
		x->body_done = true;
		break;
	case HRESP_BODY_LENGTH:
		x->left = x->resp.content_length;
		x->body_done = x->left == 0;
		break;
	case HRESP_BODY_CHUNKED:
		hchunk_init(&x->chunk);
		break;
	case HRESP_BODY_CLOSE:
		break;
	}
	if (!x->reused)
		tconn_save_session(&x->c); /* TLS 1.3 tickets come with the first records */
	return 0;
}

int
hc_read_head(struct hc_exchange *x, struct err *e)
{
	struct err te = { 0, "" };
	bool any = false; /* a response byte came on this connection */
	ssize_t n;
	int rc;

	/* after a failed body send, the origin's early answer may be waiting */
	if (x->fail != HC_OK && x->send_failed && x->have_conn) {
		x->fail = HC_OK;
		x->c.fail = TCONN_OK;
		x->body_abandoned = true;
	}
	if (usable(x, e) < 0)
		return -1;
	if (x->buf == NULL && buf_resize(x, HC_BUF, e) < 0)
		return -1;
	any = x->len > 0; /* hc_answer_started may have read the first bytes */
	for (;;) {
		if (x->len > 0) {
			rc = hresp_parse(x->buf, x->len, &x->resp, &te);
			if (rc < 0)
				return xfail(x, HC_PROTOCOL, e, "malformed response head: %s", te.msg);
			if (rc == 1 && x->resp.status == 101)
				return xfail(x, HC_PROTOCOL, e, "101 Switching Protocols, but no "
				             "upgrade was asked for");
			if (rc == 1 && x->resp.status >= 200)
				return head_done(x, e);
			if (rc == 1) { /* 100 Continue, 103 Early Hints: skip */
				x->len -= x->resp.head_len;
				memmove(x->buf, x->buf + x->resp.head_len, x->len);
				continue;
			}
		}
		if (x->len == x->cap) {
			if (x->cap >= HEAD_MAX)
				return xfail(x, HC_PROTOCOL, e, "response head longer than %d bytes",
				             HRESP_MAX_HEAD);
			if (buf_resize(x, x->cap * 2 < HEAD_MAX ? x->cap * 2 : HEAD_MAX, e) < 0)
				return -1;
		}
		n = tconn_read(&x->c, x->buf + x->len, x->cap - x->len,
		               tconn_deadline(x->o->response_timeout_ms), &te);
		if (n > 0) {
			if (x->t_first_byte_ms < 0)
				x->t_first_byte_ms = tconn_now_ms() - x->t_begin;
			any = true;
			x->len += (size_t)n;
			continue;
		}
		if (!any && may_retry(x) && (n == 0 || x->c.fail == TCONN_CLOSED)) {
			if (retry_fresh(x, e) < 0)
				return -1;
			continue;
		}
		if (n == 0)
			return xfail(x, HC_CLOSED, e, "%s closed the connection %s", x->c.peer,
			             any ? "in the middle of the response head" :
			             "without a response");
		return xfail(x, io_fail(x->c.fail), e, "%s", te.msg);
	}
}

/* Body bytes that came with earlier reads, at most len of them. */
static size_t
take_buffered(struct hc_exchange *x, void *buf, size_t len)
{
	size_t n = x->len - x->off;

	if (n > len)
		n = len;
	memcpy(buf, x->buf + x->off, n);
	x->off += n;
	return n;
}

static ssize_t
read_chunked(struct hc_exchange *x, char *buf, size_t len, struct err *e)
{
	struct err pe = { 0, "" };

	for (;;) {
		const char *out;
		size_t outlen, consumed, feed;
		ssize_t n;
		int rc;

		if (x->off == x->len) {
			x->off = x->len = x->resp.head_len;
			n = sock_read(x, x->buf + x->len, x->cap - x->len, e);
			if (n < 0)
				return -1;
			if (n == 0)
				return xfail(x, HC_CLOSED, e, "%s closed the connection before the "
				             "end of the chunked body (after %llu bytes)", x->c.peer,
				             (unsigned long long)x->chunk.total);
			x->len += (size_t)n;
		}
		/* never decode more data than the caller can take */
		feed = x->len - x->off < len ? x->len - x->off : len;
		rc = hchunk_feed(&x->chunk, x->buf + x->off, feed, &consumed, &out, &outlen, &pe);
		if (rc < 0)
			return xfail(x, HC_PROTOCOL, e, "%s", pe.msg);
		x->off += consumed;
		if (outlen > 0) {
			memcpy(buf, out, outlen);
			x->body_bytes += outlen;
			return (ssize_t)outlen;
		}
		if (rc == 1) {
			x->body_done = true;
			return 0;
		}
	}
}

ssize_t
hc_read_body(struct hc_exchange *x, void *buf, size_t len, struct err *e)
{
	ssize_t n;

	if (usable(x, e) < 0)
		return -1;
	if (x->resp.head_len == 0)
		return xfail(x, HC_IO, e, "no response head yet (call hc_read_head first)");
	if (x->body_done || len == 0)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	switch (x->body) {
	case HRESP_BODY_LENGTH:
		if (len > x->left)
			len = (size_t)x->left;
		n = (ssize_t)take_buffered(x, buf, len);
		if (n == 0) {
			n = sock_read(x, buf, len, e);
			if (n < 0)
				return -1;
			if (n == 0)
				return xfail(x, HC_CLOSED, e, "%s closed the connection after %llu of "
				             "%llu body bytes", x->c.peer,
				             (unsigned long long)x->body_bytes,
				             (unsigned long long)x->resp.content_length);
		}
		x->left -= (uint64_t)n;
		x->body_done = x->left == 0;
		break;
	case HRESP_BODY_CLOSE:
		n = (ssize_t)take_buffered(x, buf, len);
		if (n == 0) {
			n = sock_read(x, buf, len, e);
			if (n < 0)
				return -1;
			if (n == 0) {
				x->body_done = true;
				return 0;
			}
		}
		break;
	case HRESP_BODY_CHUNKED:
		return read_chunked(x, buf, len, e);
	default: /* HRESP_BODY_NONE is done from the start */
		return 0;
	}
	x->body_bytes += (uint64_t)n;
	return n;
}

void
hc_end(struct hc_exchange *x)
{
	struct hc_origin *o = x->o;

	if (x->have_conn) {
		bool keep = x->fail == HC_OK && x->body_done && x->off == x->len &&
		            !x->body_chunked && !x->body_abandoned &&
		            hresp_reusable(&x->resp, x->head_request) &&
		            o->keepalive_timeout_ms > 0 && o->max_idle > 0;

		if (keep) {
			x->slot = false; /* the pool has it now */
			pool_put(o, &x->c);
		} else {
			tconn_close(&x->c);
		}
		x->have_conn = false;
		x->c.fd = -1;
		x->c.tls = NULL;
	}
	slot_put(x);
	free(x->buf);
	x->buf = NULL;
	x->cap = x->len = x->off = 0;
}
