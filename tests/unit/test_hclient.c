/*
 * test_hclient.c: the origin HTTP/1.1 client against real sockets.  A
 * scripted server runs in threads of the test (one per accepted
 * connection, plain TCP or GnuTLS): each connection follows a script of
 * reads and writes, and records every byte the client sent.  Covered:
 * body framing (length, chunked in awkward splits, close-delimited,
 * HEAD, 204/304), interim 1xx, 101, malformed and long heads, cut
 * bodies, keep-alive reuse and expiry, the pool's limits and threads
 * sharing it, the retry of a GET on a pooled connection the origin
 * dropped (on the read and on the write side) and no retry for a POST,
 * refused connects, response timeouts, chunked request bodies, and over
 * TLS verification by name and by IP, resumption, resets, and a
 * certificate failure that is not retried; an origin answering before the
 * request body is sent (noticed, relayed, not pooled), and a TLS 1.3
 * session ticket that is not taken for such an answer.  max_conns: a full
 * origin makes hc_begin wait (for a pooled connection or a freed place)
 * and then fail with HC_BUSY without connecting; failures, closes and
 * expiries give places back.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "hclient.h"
#include "pki.h"
#include "tls.h"

/* ---- the scripted server -------------------------------------------------
 *
 * A script is a NULL-terminated list of steps for one connection:
 *   "r"       read up to the end of a request head
 *   "k"       read up to the end of a chunked request body
 *   "u<text>" read until text comes (after what was read so far)
 *   "w<text>" write text
 *   "s<ms>"   sleep
 *   "c"       close (TLS: close_notify first)
 *   "x"       wait for a byte of a new request, then reset the connection
 *   "X"       reset the connection at once
 * After the last step the connection waits for the client to close it. */

#define MAXC 4
#define SCRIPT(...) ((const char *const[]){ __VA_ARGS__, NULL })

enum { SRV_TLS = 1 };

struct srv;

struct sconn {
	struct srv *s;
	int fd;
	gnutls_session_t tls;
	const char *const *script;
	char *rx;             /* every byte received */
	size_t rlen, rcap, mark;
	bool eof;             /* the client closed it */
	pthread_t th;
};

struct srv {
	int lfd, port;
	unsigned flags;
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t tkey;
	const char *const *scripts[MAXC];
	struct sconn conns[MAXC];
	int accepted;
	pthread_t th;
};

static ssize_t
srv_more(struct sconn *k)
{
	ssize_t n;

	if (k->rcap - k->rlen < 4096) {
		k->rcap = k->rcap ? k->rcap * 2 : 65536;
		k->rx = realloc(k->rx, k->rcap);
	}
	if (k->tls != NULL)
		n = gnutls_record_recv(k->tls, k->rx + k->rlen, k->rcap - k->rlen - 1);
	else
		n = recv(k->fd, k->rx + k->rlen, k->rcap - k->rlen - 1, 0);
	if (n > 0) {
		k->rlen += (size_t)n;
		k->rx[k->rlen] = '\0';
	} else if (n == 0) {
		k->eof = true;
	}
	return n;
}

/* Read until pat shows up at or after from; mark goes after it. */
static bool
srv_until(struct sconn *k, size_t from, const char *pat)
{
	for (;;) {
		char *p = k->rlen > from ? memmem(k->rx + from, k->rlen - from, pat, strlen(pat))
		                         : NULL;

		if (p != NULL) {
			k->mark = (size_t)(p - k->rx) + strlen(pat);
			return true;
		}
		if (srv_more(k) <= 0)
			return false;
	}
}

static void
srv_write(struct sconn *k, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = k->tls ? gnutls_record_send(k->tls, p, n) : send(k->fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void *
sconn_main(void *arg)
{
	struct sconn *k = arg;
	const char *const *st;
	bool reset = false;

	if (k->s->flags & SRV_TLS) {
		gnutls_init(&k->tls, GNUTLS_SERVER | GNUTLS_NO_SIGNAL);
		gnutls_priority_set_direct(k->tls, "NORMAL", NULL);
		gnutls_credentials_set(k->tls, GNUTLS_CRD_CERTIFICATE, k->s->cred);
		gnutls_session_ticket_enable_server(k->tls, &k->s->tkey);
		gnutls_transport_set_int(k->tls, k->fd);
		if (gnutls_handshake(k->tls) < 0)
			goto out;
	}
	for (st = k->script; *st != NULL; st++) {
		const char *a = *st;

		if (a[0] == 'r' && !srv_until(k, k->mark, "\r\n\r\n"))
			goto out;
		if (a[0] == 'k' && !srv_until(k, k->mark - 2, "\r\n0\r\n\r\n"))
			goto out;
		if (a[0] == 'u' && !srv_until(k, k->mark, a + 1))
			goto out;
		if (a[0] == 'w')
			srv_write(k, a + 1, strlen(a + 1));
		if (a[0] == 's')
			usleep((useconds_t)atoi(a + 1) * 1000);
		if (a[0] == 'c')
			goto out;
		if (a[0] == 'x' || a[0] == 'X') {
			struct linger l = { 1, 0 };

			if (a[0] == 'x' && k->rlen == k->mark)
				srv_more(k);
			setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
			reset = true;
			goto out;
		}
	}
	while (srv_more(k) > 0)
		;
out:
	if (k->tls != NULL) {
		if (!reset && !k->eof)
			gnutls_bye(k->tls, GNUTLS_SHUT_WR);
		gnutls_deinit(k->tls);
		k->tls = NULL;
	}
	close(k->fd);
	return NULL;
}

static void *
srv_main(void *arg)
{
	static const char *const none[] = { NULL };
	struct srv *s = arg;
	int i, n;

	for (;;) {
		struct timeval tv = { 5, 0 };
		int one = 1, fd = accept(s->lfd, NULL, NULL);
		struct sconn *k;

		if (fd < 0)
			break;
		i = __atomic_fetch_add(&s->accepted, 1, __ATOMIC_SEQ_CST);
		if (i >= MAXC) {
			close(fd);
			continue;
		}
		k = &s->conns[i];
		k->s = s;
		k->fd = fd;
		k->script = s->scripts[i] ? s->scripts[i] : none;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv); /* never hang */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		pthread_create(&k->th, NULL, sconn_main, k);
	}
	n = __atomic_load_n(&s->accepted, __ATOMIC_SEQ_CST);
	for (i = 0; i < n && i < MAXC; i++)
		pthread_join(s->conns[i].th, NULL);
	return NULL;
}

static char dir[64], ca_pem[128];

/* Listen on 127.0.0.1, port 0; the scripts in ap (up to a NULL) are for
 * the first, second ... connection accepted. */
static void
srv_start(struct srv *s, unsigned flags, va_list ap)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	int i;

	memset(s, 0, sizeof *s);
	s->flags = flags;
	for (i = 0; i < MAXC; i++) {
		s->scripts[i] = va_arg(ap, const char *const *);
		if (s->scripts[i] == NULL)
			break;
	}
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(s->lfd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(listen(s->lfd, 16), 0);
	getsockname(s->lfd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	if (flags & SRV_TLS) {
		char cp[256], kp[256];
		struct err e;

		gnutls_certificate_allocate_credentials(&s->cred);
		snprintf(cp, sizeof cp, "%s/good.pem", dir);
		snprintf(kp, sizeof kp, "%s/good.key", dir);
		cr_assert_eq(tls_cred_add_pair(s->cred, cp, kp, NULL, &e), 0, "%s", e.msg);
		gnutls_session_ticket_key_generate(&s->tkey);
	}
	pthread_create(&s->th, NULL, srv_main, s);
}

/* Stop accepting and wait for every connection's script to end (they end
 * when the client closes, so free the origin first). */
static void
srv_stop(struct srv *s)
{
	shutdown(s->lfd, SHUT_RDWR);
	pthread_join(s->th, NULL);
	close(s->lfd);
	if (s->flags & SRV_TLS) {
		gnutls_certificate_free_credentials(s->cred);
		gnutls_free(s->tkey.data);
	}
}

static void
srv_free(struct srv *s)
{
	int i;

	for (i = 0; i < MAXC; i++)
		free(s->conns[i].rx);
}

/* ---- the client side -----------------------------------------------------
 *
 * Each test (a process of its own) uses one server srv, one origin orig
 * made from op, and puts each exchange's outcome in got. */

#define GET "GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n"
#define OK2 "wHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#define YES "wHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes"

struct result {
	int rc;                /* 0, or -1 from the call that failed */
	enum hc_fail fail;
	unsigned status;
	char body[4096];
	size_t blen;
	char field[1024];      /* the value of want_field, "" when absent */
	char msg[768];
	int64_t t_first_byte_ms;
};

static struct srv srv;
static struct hc_origin orig;
static struct hc_origin_opts op;
static struct result got;

static struct hc_origin_opts
opts_for(int port)
{
	return (struct hc_origin_opts){
		.host = "127.0.0.1",
		.port = port,
		.ca_file = ca_pem,
		/* generous: these bound calls that must succeed on a busy machine;
		 * the tests of the timeouts set their own */
		.connect_timeout_ms = 5000,
		.connection_attempts = 1,
		.response_timeout_ms = 10000,
		.keepalive_timeout_ms = 5000,
		.max_idle = 4,
	};
}

/* Start srv with the scripts that follow (up to a NULL); op = its defaults. */
static void
serve(unsigned flags, ...)
{
	va_list ap;

	va_start(ap, flags);
	srv_start(&srv, flags, ap);
	va_end(ap);
	op = opts_for(srv.port);
	op.https = flags & SRV_TLS;
}

static void
origin(void)
{
	struct err e;

	cr_assert_eq(hc_origin_init(&orig, &op, &e), 0, "%s", e.msg);
}

/* Close the origin's connections, then wait for the server's scripts. */
static void
stop(void)
{
	hc_origin_free(&orig);
	srv_stop(&srv);
}

static void
fini(void)
{
	srv_free(&srv);
}

/* One whole exchange into got, the body read rdsz bytes at a time. */
static void
fetch_x(const char *head, bool head_req, bool retryable, size_t rdsz, const char *want_field)
{
	struct result *g = &got;
	struct hc_exchange x;
	struct err e = { 0, "" };
	char b[4096];

	memset(g, 0, sizeof *g);
	if (rdsz > sizeof b)
		rdsz = sizeof b;
	g->rc = hc_begin(&x, &orig, head, strlen(head), head_req, retryable, &e);
	if (g->rc == 0)
		g->rc = hc_read_head(&x, &e);
	if (g->rc == 0) {
		const struct hresp_field *f = want_field ? hresp_get(&x.resp, want_field) : NULL;

		g->status = x.resp.status;
		if (f != NULL)
			snprintf(g->field, sizeof g->field, "%.*s", (int)f->vlen, f->value);
		for (;;) {
			ssize_t n = hc_read_body(&x, b, rdsz, &e);

			if (n < 0)
				g->rc = -1;
			if (n <= 0)
				break;
			cr_assert_leq((size_t)n, rdsz);
			cr_assert_leq(g->blen + (size_t)n, sizeof g->body - 1);
			memcpy(g->body + g->blen, b, (size_t)n);
			g->blen += (size_t)n;
		}
		if (g->rc == 0)
			cr_expect_eq(x.body_bytes, g->blen);
	}
	g->fail = x.fail;
	g->t_first_byte_ms = x.t_first_byte_ms;
	if (g->rc < 0) {
		snprintf(g->msg, sizeof g->msg, "%s", e.msg);
		cr_expect_neq(x.fail, HC_OK, "failed without a reason: %s", e.msg);
	} else {
		cr_expect_eq(x.fail, HC_OK);
	}
	hc_end(&x);
	hc_end(&x); /* twice is safe */
}

static void
fetch(const char *head)
{
	fetch_x(head, false, true, 4096, NULL);
}

static void
expect_ok(unsigned status, const char *body)
{
	cr_expect_eq(got.rc, 0, "%s", got.msg);
	cr_expect_eq(got.status, status);
	cr_expect_eq(got.blen, strlen(body), "body '%s', want '%s'", got.body, body);
	cr_expect_str_eq(got.body, body);
}

static void
expect_fail(enum hc_fail f, const char *in_msg)
{
	cr_expect_eq(got.rc, -1);
	cr_expect_eq(got.fail, f, "fail %s, want %s: %s", hc_fail_name(got.fail),
	             hc_fail_name(f), got.msg);
	cr_expect_not_null(strstr(got.msg, in_msg), "'%s' not in '%s'", in_msg, got.msg);
}

/* How many exchanges opened, reused and retried a connection. */
static void
expect_counts(unsigned long long opened, unsigned long long reused,
              unsigned long long retried)
{
	cr_expect_eq(orig.opened, opened, "opened %llu, want %llu", orig.opened, opened);
	cr_expect_eq(orig.reused, reused, "reused %llu, want %llu", orig.reused, reused);
	cr_expect_eq(orig.retried, retried, "retried %llu, want %llu", orig.retried, retried);
}

/* How many times pat occurs in what connection i received. */
static int
occurs(int i, const char *pat)
{
	const char *p = srv.conns[i].rx;
	int n = 0;

	while (p != NULL && (p = strstr(p, pat)) != NULL) {
		n++;
		p += strlen(pat);
	}
	return n;
}

/* ---- plain HTTP ---------------------------------------------------------- */

TestSuite(hclient, .fini = fini, .timeout = 20);

Test(hclient, content_length_body)
{
	char label[64];

	serve(0, SCRIPT("r", "wHTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhel", "s20",
	                "wlo world"), NULL);
	origin();
	snprintf(label, sizeof label, "http://127.0.0.1:%d", srv.port);
	cr_expect_str_eq(orig.label, label);
	fetch_x(GET, false, true, 2, NULL); /* buffered, then socket reads */
	expect_ok(200, "hello world");
	cr_expect_geq(got.t_first_byte_ms, 0);
	cr_expect_eq(orig.nidle, 1, "a complete keep-alive response is pooled");
	cr_expect_eq(orig.opened, 1);
	stop();
	cr_expect_str_eq(srv.conns[0].rx, GET, "the head went out as given");
}

Test(hclient, chunked_body_split_awkwardly)
{
	serve(0, SCRIPT("r", "wHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r",
	                "s15", "w\nhello\r\n1", "s15",
	                "w0;ext=1\r\n0123456789abcdef\r\n0\r", "s15",
	                "w\nX-Trailer: t\r\n\r\n"), NULL);
	origin();
	fetch_x(GET, false, true, 3, NULL);
	expect_ok(200, "hello0123456789abcdef");
	cr_expect_eq(orig.nidle, 1, "the whole chunked body was read: pooled");
	stop();
}

Test(hclient, close_delimited_body)
{
	serve(0, SCRIPT("r", "wHTTP/1.1 200 OK\r\n\r\nabc", "s15", "wdef", "c"), NULL);
	origin();
	fetch(GET);
	expect_ok(200, "abcdef");
	cr_expect_eq(orig.nidle, 0, "a body that ends at close leaves nothing to reuse");
	stop();
}

Test(hclient, head_response_has_no_body)
{
	serve(0, SCRIPT("r", "wHTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", "r", OK2),
	      NULL);
	origin();
	fetch_x("HEAD / HTTP/1.1\r\nHost: origin.test\r\n\r\n", true, true, 4096,
	        "Content-Length");
	expect_ok(200, "");
	cr_expect_str_eq(got.field, "1000");
	cr_expect_eq(orig.nidle, 1);
	fetch(GET); /* the same connection: no 1000 bytes were waited for */
	expect_ok(200, "ok");
	expect_counts(1, 1, 0);
	stop();
}

Test(hclient, no_body_for_204_and_304)
{
	serve(0, SCRIPT("r", "wHTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
	                "r", "wHTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n"
	                "ETag: \"v1\"\r\n\r\n", "r", OK2), NULL);
	origin();
	fetch(GET);
	expect_ok(204, "");
	fetch(GET);
	expect_ok(304, "");
	fetch(GET);
	expect_ok(200, "ok");
	expect_counts(1, 2, 0);
	stop();
	cr_expect_eq(occurs(0, "GET / "), 3);
}

Test(hclient, interim_responses_skipped)
{
	serve(0, SCRIPT("r", "wHTTP/1.1 100 Continue\r\n\r\n", "s15",
	                "wHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
	                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: yes\r\n\r\nok"),
	      NULL);
	origin();
	fetch_x(GET, false, true, 4096, "Link");
	expect_ok(200, "ok");
	cr_expect_str_eq(got.field, "", "the 103's fields are not the final response's");
	cr_expect_eq(orig.nidle, 1);
	stop();
}

Test(hclient, switching_protocols_is_an_error)
{
	serve(0, SCRIPT("r", "wHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                "Connection: upgrade\r\n\r\n"), NULL);
	origin();
	fetch(GET);
	expect_fail(HC_PROTOCOL, "101");
	cr_expect_eq(orig.nidle, 0);
	stop();
}

Test(hclient, malformed_heads)
{
	char label[64];

	serve(0, SCRIPT("r", "wHTTP/1.1 200 OK\r\nBad Header\r\n\r\n"),
	      SCRIPT("r", "wSSH-2.0-OpenSSH_9.2\r\n"), NULL);
	origin();
	snprintf(label, sizeof label, "http://127.0.0.1:%d: malformed response head", srv.port);
	fetch(GET);
	expect_fail(HC_PROTOCOL, label);
	fetch(GET); /* refused at once, no waiting for a blank line */
	expect_fail(HC_PROTOCOL, "not an HTTP/1.0 or HTTP/1.1 response");
	cr_expect_eq(orig.nidle, 0);
	cr_expect_eq(orig.opened, 2);
	stop();
}

Test(hclient, bodies_cut_short_or_malformed)
{
	serve(0, SCRIPT("r", "wHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd", "c"),
	      SCRIPT("r", "wHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	             "5\r\nhello\r\n", "c"),
	      SCRIPT("r", "wHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	             "2\r\nhi\r\nzz\r\n"), NULL);
	origin();
	fetch(GET);
	expect_fail(HC_CLOSED, "after 4 of 10 body bytes");
	cr_expect_eq(got.blen, 4, "what came is handed out before the failure");
	fetch(GET);
	expect_fail(HC_CLOSED, "before the end of the chunked body");
	cr_expect_str_eq(got.body, "hello");
	fetch(GET);
	expect_fail(HC_PROTOCOL, "chunked body");
	cr_expect_str_eq(got.body, "hi");
	cr_expect_eq(orig.nidle, 0);
	stop();
}

/* "wHTTP/1.1 200 OK\r\n", nfields fields of 1000 bytes, then tail. */
static char *
long_head(int nfields, const char *tail)
{
	size_t cap = 64 + (size_t)nfields * 1024 + strlen(tail), len;
	char *w = malloc(cap);
	int i;

	len = (size_t)snprintf(w, cap, "wHTTP/1.1 200 OK\r\n");
	for (i = 0; i < nfields; i++)
		len += (size_t)snprintf(w + len, cap - len, "X-F%03d: %0990d\r\n", i, i);
	snprintf(w + len, cap - len, "%s", tail);
	return w;
}

Test(hclient, long_heads)
{
	char *h20 = long_head(20, "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
	char *h70 = long_head(70, "Content-Length: 0\r\n\r\n");

	/* 20 kB: the buffer grows, and keeps room behind the head for the body */
	serve(0, SCRIPT("r", h20, "r", OK2, "r", h70), NULL);
	origin();
	fetch_x(GET, false, true, 4096, "X-F019");
	expect_ok(200, "abc");
	cr_expect_eq(strlen(got.field), 990);
	cr_expect_eq(atoi(got.field), 19);
	fetch(GET);
	expect_ok(200, "ok");
	cr_expect_eq(orig.reused, 1);
	fetch(GET); /* 70 kB: over HRESP_MAX_HEAD */
	expect_fail(HC_PROTOCOL, "longer than");
	stop();
	free(h20);
	free(h70);
}

Test(hclient, keep_alive_reuse)
{
	serve(0, SCRIPT("r", OK2, "r", YES), NULL);
	origin();
	fetch(GET);
	expect_ok(200, "ok");
	fetch(GET);
	expect_ok(200, "yes");
	expect_counts(1, 1, 0);
	stop();
	cr_expect_eq(__atomic_load_n(&srv.accepted, __ATOMIC_SEQ_CST), 1);
	cr_expect_eq(occurs(0, "GET / "), 2);
}

Test(hclient, dropped_pooled_connection_retried_for_get)
{
	/* the origin reads the second request, then closes without a word */
	serve(0, SCRIPT("r", OK2, "r", "c"), SCRIPT("r", YES), NULL);
	origin();
	fetch(GET);
	expect_ok(200, "ok");
	fetch(GET);
	expect_ok(200, "yes");
	expect_counts(2, 1, 1);
	stop();
	cr_expect_eq(__atomic_load_n(&srv.accepted, __ATOMIC_SEQ_CST), 2);
	cr_expect_str_eq(srv.conns[1].rx, GET, "the same head was sent again");
}

Test(hclient, dropped_pooled_connection_not_retried_for_post)
{
	static const char post[] = "POST / HTTP/1.1\r\nHost: origin.test\r\n"
	                   "Content-Length: 0\r\n\r\n";

	serve(0, SCRIPT("r", OK2, "r", "c"), SCRIPT("r", YES), NULL);
	origin();
	fetch(GET);
	expect_ok(200, "ok");
	fetch_x(post, false, false, 4096, NULL);
	expect_fail(HC_CLOSED, "without a response");
	expect_counts(1, 1, 0);
	stop();
	cr_expect_eq(__atomic_load_n(&srv.accepted, __ATOMIC_SEQ_CST), 1, "the POST was not sent twice");
}

Test(hclient, write_failure_on_pooled_connection_retried)
{
	static const char pre[] = "GET /big HTTP/1.1\r\nX-Pad: ";
	size_t pad = 16 << 20, hl = sizeof pre - 1 + pad + 4;
	char *big = malloc(hl + 1);

	/* a head larger than the socket buffers (the origin reads none of it,
	 * so its receive buffer does not grow): the write is still going on
	 * when the origin resets the pooled connection */
	memcpy(big, pre, sizeof pre - 1);
	memset(big + sizeof pre - 1, 'a', pad);
	memcpy(big + hl - 4, "\r\n\r\n", 5);
	serve(0, SCRIPT("r", OK2, "x"), SCRIPT("r", YES), NULL);
	origin();
	fetch(GET);
	expect_ok(200, "ok");
	fetch(big);
	expect_ok(200, "yes");
	expect_counts(2, 1, 1);
	stop();
	cr_expect_eq(srv.conns[1].rlen, hl, "the whole head went out again");
	free(big);
}

Test(hclient, connection_refused)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	char want[96];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* a port that was just free and has no listener */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	getsockname(fd, (struct sockaddr *)&a, &al);
	close(fd);
	op = opts_for(ntohs(a.sin_port));
	op.connection_attempts = 3;
	origin();
	fetch(GET);
	snprintf(want, sizeof want, "http://127.0.0.1:%d: connect ", op.port);
	expect_fail(HC_CONNECT, want);
	cr_expect_not_null(strstr(got.msg, "(3 attempts)"), "%s", got.msg);
	cr_expect_eq(orig.opened, 0);
	hc_origin_free(&orig);
}

Test(hclient, response_timeouts)
{
	int64_t t0, took;

	serve(0, SCRIPT("r"),
	      SCRIPT("r", "wHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"), NULL);
	op.response_timeout_ms = 300;
	origin();
	t0 = tconn_now_ms();
	fetch(GET); /* no answer at all */
	took = tconn_now_ms() - t0;
	expect_fail(HC_TIMEOUT, "timed out");
	cr_log_info("no answer: gave up after %lld ms (response_timeout 300 ms)", (long long)took);
	cr_expect_geq(took, 280);
	cr_expect_lt(took, 300 + 5000, "it did not give up"); /* a bound, not a speed */
	cr_expect_eq(got.t_first_byte_ms, -1);
	t0 = tconn_now_ms();
	fetch(GET); /* the body stops coming */
	took = tconn_now_ms() - t0;
	expect_fail(HC_TIMEOUT, "timed out");
	cr_expect_str_eq(got.body, "ab");
	cr_log_info("a stalled body: gave up after %lld ms", (long long)took);
	cr_expect_geq(took, 280);
	cr_expect_lt(took, 300 + 5000, "it did not give up");
	cr_expect_eq(orig.nidle, 0);
	stop();
}

Test(hclient, keepalive_timeout_expires)
{
	serve(0, SCRIPT("r", OK2), SCRIPT("r", YES), NULL);
	op.keepalive_timeout_ms = 100;
	origin();
	fetch(GET);
	expect_ok(200, "ok");
	cr_expect_eq(orig.nidle, 1);
	usleep(150 * 1000);
	fetch(GET); /* the idle one is too old, though still open */
	expect_ok(200, "yes");
	expect_counts(2, 0, 0);
	cr_expect_eq(orig.nidle, 1, "the old one was closed, the new one kept");
	stop();
	cr_expect_eq(occurs(0, "GET / "), 1);
}

Test(hclient, no_pooling_when_keepalive_is_zero)
{
	serve(0, SCRIPT("r", OK2), SCRIPT("r", YES), NULL);
	op.keepalive_timeout_ms = 0;
	origin();
	fetch(GET);
	expect_ok(200, "ok");
	cr_expect_eq(orig.nidle, 0);
	fetch(GET);
	expect_ok(200, "yes");
	cr_expect_eq(orig.opened, 2);
	stop();
}

Test(hclient, pool_keeps_at_most_max_idle)
{
	struct hc_exchange x1, x2;
	struct err e;
	char b[8];

	serve(0, SCRIPT("r", OK2), SCRIPT("r", OK2), NULL);
	op.max_idle = 1;
	origin();
	cr_assert_eq(hc_begin(&x1, &orig, GET, strlen(GET), false, true, &e), 0, "%s", e.msg);
	cr_assert_eq(hc_begin(&x2, &orig, GET, strlen(GET), false, true, &e), 0, "%s", e.msg);
	cr_assert_eq(hc_read_head(&x1, &e), 0, "%s", e.msg);
	cr_assert_eq(hc_read_head(&x2, &e), 0, "%s", e.msg);
	cr_expect_eq(hc_read_body(&x1, b, sizeof b, &e), 2);
	cr_expect_eq(hc_read_body(&x1, b, sizeof b, &e), 0);
	cr_expect_eq(hc_read_body(&x2, b, sizeof b, &e), 2);
	cr_expect_eq(hc_read_body(&x2, b, sizeof b, &e), 0);
	hc_end(&x1);
	hc_end(&x2);
	cr_expect_eq(orig.opened, 2);
	cr_expect_eq(orig.nidle, 1);
	stop();
}

static int threads_ok;

static void *
three_gets(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 3; i++) {
		struct hc_exchange x;
		struct err e;
		char b[8];

		if (hc_begin(&x, &orig, GET, strlen(GET), false, true, &e) == 0 &&
		    hc_read_head(&x, &e) == 0 && hc_read_body(&x, b, sizeof b, &e) == 2 &&
		    hc_read_body(&x, b, sizeof b, &e) == 0)
			__atomic_fetch_add(&threads_ok, 1, __ATOMIC_SEQ_CST);
		hc_end(&x);
	}
	return NULL;
}

Test(hclient, threads_share_an_origin)
{
#define R12 "r", OK2, "r", OK2, "r", OK2, "r", OK2, "r", OK2, "r", OK2
	pthread_t th[4];
	int i;

	/* whichever connection serves whichever request: 12 answers each */
	serve(0, SCRIPT(R12, R12), SCRIPT(R12, R12), SCRIPT(R12, R12), SCRIPT(R12, R12), NULL);
	origin();
	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, three_gets, NULL);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	cr_expect_eq(threads_ok, 12);
	cr_expect_leq(orig.opened, 4);
	cr_expect_eq(orig.opened + orig.reused, 12);
	cr_expect_eq(orig.nidle, orig.opened, "every connection went back to the pool");
	stop();
#undef R12
}

/* ---- max_conns: connections open to one origin, busy and idle ---------- */

static void
expect_open(size_t open, size_t idle)
{
	size_t o, i;

	hc_origin_counts(&orig, &o, &i);
	cr_expect_eq(o, open, "open %zu, want %zu", o, open);
	cr_expect_eq(i, idle, "idle %zu, want %zu", i, idle);
}

/* Read x's response to the end (2 body bytes) and end it. */
static void
finish(struct hc_exchange *x)
{
	struct err e;
	char b[8];

	cr_expect_eq(hc_read_head(x, &e), 0, "%s", e.msg);
	cr_expect_gt(hc_read_body(x, b, sizeof b, &e), 0);
	cr_expect_eq(hc_read_body(x, b, sizeof b, &e), 0);
	hc_end(x);
}

Test(hclient, max_conns_full_gives_busy_after_connect_timeout)
{
	struct hc_exchange x1, x2;
	struct err e = { 0, "" };
	int64_t t0, waited;

	serve(0, SCRIPT("r", OK2, "r", YES), NULL);
	op.max_conns = 1;
	op.connect_timeout_ms = 300;
	origin();
	cr_assert_eq(hc_begin(&x1, &orig, GET, strlen(GET), false, true, &e), 0, "%s", e.msg);
	expect_open(1, 0);
	t0 = tconn_now_ms();
	cr_expect_eq(hc_begin(&x2, &orig, GET, strlen(GET), false, true, &e), -1);
	waited = tconn_now_ms() - t0;
	cr_expect_eq(x2.fail, HC_BUSY, "fail %s", hc_fail_name(x2.fail));
	cr_expect_str_eq(hc_fail_name(HC_BUSY), "busy");
	cr_expect_not_null(strstr(e.msg, "all 1 connections to the origin are in use"), "%s",
	                   e.msg);
	/* it waited for the connect timeout, and never touched the network */
	cr_expect_geq(waited, 250, "gave up after %lld ms", (long long)waited);
	cr_expect_eq(__atomic_load_n(&srv.accepted, __ATOMIC_SEQ_CST), 1);
	cr_expect_eq(orig.waited, 1);
	cr_expect_eq(orig.busy, 1);
	hc_end(&x2);
	expect_open(1, 0); /* the refused exchange held no place */
	finish(&x1);
	expect_open(1, 1); /* pooled: still open, still counted */
	fetch(GET);        /* the pooled one, no wait */
	expect_ok(200, "yes");
	expect_counts(1, 1, 0);
	cr_expect_eq(orig.waited, 1);
	stop();
	cr_expect_eq(__atomic_load_n(&srv.accepted, __ATOMIC_SEQ_CST), 1);
}

static struct hc_exchange held;

/* 200 ms later: end the held exchange without reading its answer (the
 * connection is closed, its place freed). */
static void *
drop_held(void *arg)
{
	(void)arg;
	usleep(200 * 1000);
	hc_end(&held);
	return NULL;
}

/* 200 ms later: read the held exchange's answer (the connection is
 * pooled). */
static void *
finish_held(void *arg)
{
	(void)arg;
	usleep(200 * 1000);
	finish(&held);
	return NULL;
}

Test(hclient, max_conns_waiter_gets_a_closed_connections_place)
{
	struct err e = { 0, "" };
	pthread_t th;

	serve(0, SCRIPT("r"), SCRIPT("r", YES), NULL);
	op.max_conns = 1;
	op.connect_timeout_ms = 5000;
	origin();
	cr_assert_eq(hc_begin(&held, &orig, GET, strlen(GET), false, true, &e), 0, "%s", e.msg);
	pthread_create(&th, NULL, drop_held, NULL);
	fetch(GET); /* waits until the place is free, then opens a new connection */
	pthread_join(th, NULL);
	expect_ok(200, "yes");
	expect_counts(2, 0, 0);
	cr_expect_eq(orig.waited, 1);
	cr_expect_eq(orig.busy, 0);
	expect_open(1, 1);
	stop();
}

Test(hclient, max_conns_waiter_takes_a_pooled_connection)
{
	struct err e = { 0, "" };
	pthread_t th;

	serve(0, SCRIPT("r", OK2, "r", YES), NULL);
	op.max_conns = 1;
	op.connect_timeout_ms = 5000;
	origin();
	cr_assert_eq(hc_begin(&held, &orig, GET, strlen(GET), false, true, &e), 0, "%s", e.msg);
	pthread_create(&th, NULL, finish_held, NULL);
	fetch(GET); /* waits, then takes the connection the other one pooled */
	pthread_join(th, NULL);
	expect_ok(200, "yes");
	expect_counts(1, 1, 0);
	cr_expect_eq(orig.waited, 1);
	expect_open(1, 1);
	stop();
	cr_expect_eq(__atomic_load_n(&srv.accepted, __ATOMIC_SEQ_CST), 1);
}

Test(hclient, max_conns_places_freed_by_failures_and_the_pool)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* refused connects give their place back: the third still tries */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	getsockname(fd, (struct sockaddr *)&a, &al);
	close(fd);
	op = opts_for(ntohs(a.sin_port));
	op.max_conns = 1;
	origin();
	fetch(GET);
	expect_fail(HC_CONNECT, "connect");
	fetch(GET);
	expect_fail(HC_CONNECT, "connect");
	expect_open(0, 0);
	hc_origin_free(&orig);

	/* a connection closed by the origin, and one expired in the pool,
	 * give theirs back too */
	serve(0, SCRIPT("r", "wHTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"),
	      SCRIPT("r", OK2), SCRIPT("r", YES), NULL);
	op.max_conns = 1;
	op.connect_timeout_ms = 300;
	op.keepalive_timeout_ms = 100;
	origin();
	fetch(GET);
	expect_ok(200, "ok");
	expect_open(0, 0);
	fetch(GET);
	expect_ok(200, "ok");
	expect_open(1, 1);
	usleep(250 * 1000);
	fetch(GET); /* the idle one expired: closed, its place taken anew */
	expect_ok(200, "yes");
	expect_counts(3, 0, 0);
	cr_expect_eq(orig.busy, 0);
	stop();
}

Test(hclient, not_pooled_after_close_or_extra_bytes)
{
	serve(0, SCRIPT("r", "wHTTP/1.1 200 OK\r\nConnection: close\r\n"
	                "Content-Length: 2\r\n\r\nok"),
	      SCRIPT("r", "wHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"),
	      SCRIPT("r", "wHTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
	      SCRIPT("r", "wHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	             "2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n"), NULL);
	origin();
	fetch(GET);
	expect_ok(200, "ok");
	cr_expect_eq(orig.nidle, 0, "Connection: close");
	fetch(GET);
	expect_ok(200, "ok");
	cr_expect_eq(orig.nidle, 0, "bytes after the body");
	fetch(GET);
	expect_ok(200, "ok");
	cr_expect_eq(orig.nidle, 0, "HTTP/1.0 without keep-alive");
	fetch(GET);
	expect_ok(200, "ok");
	cr_expect_eq(orig.nidle, 0, "bytes after the chunked body");
	cr_expect_eq(orig.opened, 4);
	stop();
}

Test(hclient, chunked_request_body)
{
	static const char head[] = "POST /up HTTP/1.1\r\nHost: origin.test\r\n"
	                   "Transfer-Encoding: chunked\r\n\r\n";
	struct hc_exchange x;
	struct err e;
	char big[10000], b[8], *want;
	size_t wl;

	memset(big, 'z', sizeof big);
	serve(0, SCRIPT("r", "k", "wHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
	      NULL);
	origin();
	cr_assert_eq(hc_begin(&x, &orig, head, strlen(head), false, false, &e), 0, "%s", e.msg);
	hc_set_body_chunked(&x);
	cr_assert_eq(hc_send_body(&x, "hello", 5, &e), 0, "%s", e.msg);
	cr_assert_eq(hc_send_body(&x, "", 0, &e), 0, "%s", e.msg); /* not a last chunk */
	cr_assert_eq(hc_send_body(&x, big, sizeof big, &e), 0, "%s", e.msg);
	cr_assert_eq(hc_send_body(&x, "world!!", 7, &e), 0, "%s", e.msg);
	cr_assert_eq(hc_send_end(&x, &e), 0, "%s", e.msg);
	cr_assert_eq(hc_read_head(&x, &e), 0, "%s", e.msg);
	cr_expect_eq(x.resp.status, 201);
	cr_expect_eq(hc_read_body(&x, b, sizeof b, &e), 0);
	hc_end(&x);
	cr_expect_eq(orig.nidle, 1, "request and response complete: pooled");
	stop();
	wl = strlen(head) + 64 + sizeof big;
	want = malloc(wl);
	wl = (size_t)snprintf(want, wl, "%s5\r\nhello\r\n2710\r\n%.*s\r\n7\r\nworld!!\r\n0\r\n\r\n",
	                      head, (int)sizeof big, big);
	cr_expect_eq(srv.conns[0].rlen, wl);
	cr_expect_eq(memcmp(srv.conns[0].rx, want, wl), 0, "the chunked body is framed");
	free(want);
}

Test(hclient, unfinished_chunked_request_not_pooled)
{
	static const char head[] = "POST /up HTTP/1.1\r\nHost: origin.test\r\n"
	                   "Transfer-Encoding: chunked\r\n\r\n";
	struct hc_exchange x;
	struct err e;
	char b[8];

	/* the origin answers early; its request body is still open */
	serve(0, SCRIPT("r", "wHTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n"), NULL);
	origin();
	cr_assert_eq(hc_begin(&x, &orig, head, strlen(head), false, false, &e), 0, "%s", e.msg);
	hc_set_body_chunked(&x);
	cr_assert_eq(hc_send_body(&x, "abc", 3, &e), 0, "%s", e.msg);
	cr_assert_eq(hc_read_head(&x, &e), 0, "%s", e.msg);
	cr_expect_eq(x.resp.status, 413);
	cr_expect_eq(hc_read_body(&x, b, sizeof b, &e), 0);
	hc_end(&x);
	cr_expect_eq(orig.nidle, 0);
	stop();
}

Test(hclient, names_labels_and_settings)
{
	struct err e;

	op = opts_for(8080);
	cr_expect_str_eq(hc_fail_name(HC_OK), "ok");
	cr_expect_str_eq(hc_fail_name(HC_CONNECT), "connect");
	cr_expect_str_eq(hc_fail_name(HC_TLS), "tls");
	cr_expect_str_eq(hc_fail_name(HC_VERIFY), "verify");
	cr_expect_str_eq(hc_fail_name(HC_TIMEOUT), "timeout");
	cr_expect_str_eq(hc_fail_name(HC_PROTOCOL), "protocol");
	cr_expect_str_eq(hc_fail_name(HC_CLOSED), "closed");
	cr_expect_str_eq(hc_fail_name(HC_IO), "io");
	op.host = "::1";
	origin();
	cr_expect_str_eq(orig.label, "http://[::1]:8080");
	cr_expect_str_eq(orig.host, "::1");
	hc_origin_free(&orig);
	op.max_idle = 0;
	origin();
	cr_expect_null(orig.idle);
	hc_origin_free(&orig);
	op.connection_attempts = 0;
	cr_expect_eq(hc_origin_init(&orig, &op, &e), -1);
	cr_expect_eq(e.code, ERR_USAGE);
	op = opts_for(0);
	cr_expect_eq(hc_origin_init(&orig, &op, &e), -1);
	cr_expect_not_null(strstr(e.msg, "port 0"), "%s", e.msg);
}

/* ---- HTTPS --------------------------------------------------------------- */

static gnutls_x509_crt_t ca_crt;
static gnutls_x509_privkey_t ca_key;

static void
write_pem(const char *path, gnutls_x509_crt_t c, gnutls_x509_privkey_t k)
{
	gnutls_datum_t d;
	struct err e;

	if (c != NULL) {
		cr_assert_eq(pki_crt_pem(c, &d, &e), 0);
	} else {
		cr_assert_eq(pki_key_pem(k, &d, &e), 0);
	}
	cr_assert_eq(pki_write_atomic(path, d.data, d.size, 0600, &e), 0, "%s", e.msg);
	gnutls_free(d.data);
}

/* A CA, and good.pem/good.key for origin.test and 127.0.0.1 signed by it. */
static void
tls_setup(void)
{
	char *dns[] = { (char *)"origin.test" }, *ip[] = { (char *)"127.0.0.1" }, path[256];
	struct pki_req r = { 0 };
	gnutls_x509_privkey_t k;
	gnutls_x509_crt_t c;
	struct err e;
	time_t now = time(NULL);

	cr_assert_eq(tls_init(&e), 0);
	snprintf(dir, sizeof dir, "/tmp/edged-hclient-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	r.cn = "Test CA";
	r.ca = true;
	r.not_before = now - 3600;
	r.not_after = now + 86400;
	cr_assert_eq(pki_key_new(PKI_KEY_ECDSA_P256, &ca_key, &e), 0);
	cr_assert_eq(pki_sign(&r, ca_key, NULL, NULL, &ca_crt, &e), 0);
	snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", dir);
	write_pem(ca_pem, ca_crt, NULL);
	memset(&r, 0, sizeof r);
	r.cn = "good";
	r.dns = dns;
	r.ndns = 1;
	r.ip = ip;
	r.nip = 1;
	r.not_before = now - 60;
	r.not_after = now + 3600;
	cr_assert_eq(pki_key_new(PKI_KEY_ECDSA_P256, &k, &e), 0);
	cr_assert_eq(pki_sign(&r, k, ca_crt, ca_key, &c, &e), 0, "%s", e.msg);
	snprintf(path, sizeof path, "%s/good.pem", dir);
	write_pem(path, c, NULL);
	snprintf(path, sizeof path, "%s/good.key", dir);
	write_pem(path, NULL, k);
	gnutls_x509_crt_deinit(c);
	gnutls_x509_privkey_deinit(k);
}

static void
tls_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
	gnutls_x509_crt_deinit(ca_crt);
	gnutls_x509_privkey_deinit(ca_key);
	tls_deinit();
}

static void
tls_fini(void)
{
	srv_free(&srv);
	tls_teardown();
}

TestSuite(hclient_tls, .init = tls_setup, .fini = tls_fini, .timeout = 20);

Test(hclient_tls, verified_reuse_and_resumption)
{
	char label[64];

	serve(SRV_TLS,
	      SCRIPT("r", "wHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "r",
	             "wHTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye"),
	      SCRIPT("r", OK2), NULL);
	op.sni = "origin.test"; /* the certificate's name, not the IP */
	origin();
	snprintf(label, sizeof label, "https://127.0.0.1:%d", srv.port);
	cr_expect_str_eq(orig.label, label);
	cr_expect_str_eq(orig.tls.sni, "origin.test");
	cr_expect_str_eq(orig.tls.verify_name, "origin.test");
	fetch(GET);
	expect_ok(200, "hello");
	fetch(GET);
	expect_ok(200, "bye");
	cr_expect_eq(orig.reused, 1);
	cr_expect_eq(orig.nidle, 0);
	fetch(GET); /* a new connection, resumed from the saved ticket */
	expect_ok(200, "ok");
	cr_expect_eq(orig.opened, 2);
	cr_expect_eq(orig.tls.full, 1);
	cr_expect_eq(orig.tls.resumed, 1, "the session was saved after the first response");
	stop();
}

Test(hclient_tls, ip_origin_and_retry_after_close)
{
	serve(SRV_TLS, SCRIPT("r", OK2, "r", "c"), SCRIPT("r", YES), NULL);
	op.sni = NULL; /* verified against the IP, no SNI sent */
	origin();
	cr_expect_str_eq(orig.tls.sni, "");
	cr_expect_str_eq(orig.tls.verify_name, "127.0.0.1");
	fetch(GET);
	expect_ok(200, "ok");
	fetch(GET);
	expect_ok(200, "yes");
	expect_counts(2, 1, 1);
	stop();
}

Test(hclient_tls, reset_is_closed_not_tls)
{
	static const char post[] = "POST / HTTP/1.1\r\nHost: origin.test\r\n"
	                   "Content-Length: 0\r\n\r\n";

	/* TCP resets under TLS: a retried GET, then a POST that fails "closed" */
	serve(SRV_TLS, SCRIPT("r", OK2, "r", "X"), SCRIPT("r", YES, "r", "X"), NULL);
	op.sni = "origin.test";
	origin();
	fetch(GET);
	expect_ok(200, "ok");
	fetch(GET);
	expect_ok(200, "yes");
	cr_expect_eq(orig.retried, 1);
	fetch_x(post, false, false, 4096, NULL);
	expect_fail(HC_CLOSED, "reset");
	expect_counts(2, 2, 1);
	stop();
}

Test(hclient_tls, verify_failure_not_retried)
{
	char want[64];

	serve(SRV_TLS, NULL);
	op.sni = "other.test";
	op.connection_attempts = 3;
	origin();
	fetch(GET);
	snprintf(want, sizeof want, "https://127.0.0.1:%d: ", srv.port);
	expect_fail(HC_VERIFY, want);
	cr_expect_not_null(strstr(got.msg, "other.test"), "%s", got.msg);
	cr_expect_null(strstr(got.msg, "attempts"), "%s", got.msg);
	cr_expect_eq(__atomic_load_n(&srv.accepted, __ATOMIC_SEQ_CST), 1,
	             "a certificate failure is not tried again");
	cr_expect_eq(orig.opened, 0);
	stop();
}

Test(hclient_tls, bad_ca_file_named)
{
	struct err e;

	op = opts_for(443);
	op.https = true;
	op.ca_file = "/nonexistent/ca.pem";
	cr_expect_eq(hc_origin_init(&orig, &op, &e), -1);
	cr_expect_not_null(strstr(e.msg, "/nonexistent/ca.pem"), "%s", e.msg);
}

/* ---- an origin that answers before the request body is all sent -------- */

/* The origin refuses an upload after reading its head (413, close): the
 * client notices before sending any body, reads that answer, and does not
 * pool the connection (the body it announced was never sent). */
static void
early_answer(unsigned flags)
{
	static const char post[] = "POST /up HTTP/1.1\r\nHost: origin.test\r\n"
	                           "Content-Length: 1000000\r\n\r\n";
	struct hc_exchange x;
	struct err e = { 0, "" };
	char buf[64];
	int i;

	serve(flags, SCRIPT("r", "wHTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n"
	                         "Connection: close\r\n\r\nbig!", "c"), NULL);
	if (flags & SRV_TLS)
		op.sni = "origin.test";
	origin();
	cr_assert_eq(hc_begin(&x, &orig, post, sizeof post - 1, false, false, &e), 0, "%s", e.msg);
	for (i = 0; i < 200 && !hc_answer_started(&x); i++)
		usleep(5000);
	cr_assert(i < 200, "the early answer was never noticed");
	hc_abandon_body(&x);
	cr_assert_eq(hc_read_head(&x, &e), 0, "%s", e.msg);
	cr_expect_eq(x.resp.status, 413);
	cr_expect_eq(hc_read_body(&x, buf, sizeof buf, &e), 4);
	cr_expect_eq(memcmp(buf, "big!", 4), 0);
	hc_end(&x);
	cr_expect_eq(orig.nidle, 0, "a connection with an unsent body is never pooled");
	stop();
}

Test(hclient, early_answer_during_upload)
{
	early_answer(0);
}

Test(hclient_tls, early_answer_during_upload)
{
	early_answer(SRV_TLS);
}

/* TLS 1.3 session tickets arrive unasked after the handshake: they are
 * not an answer, so the upload goes on and the real answer comes after.
 * (The origin answers once the body is in, not after a delay: a busy
 * machine could otherwise stretch the client's wait past it.) */
Test(hclient_tls, session_ticket_is_not_an_answer)
{
	static const char post[] = "POST /up HTTP/1.1\r\nHost: origin.test\r\n"
	                           "Content-Length: 5\r\n\r\n";
	struct hc_exchange x;
	struct err e = { 0, "" };
	char buf[16];

	serve(SRV_TLS, SCRIPT("r", "uhello", OK2), NULL);
	op.sni = "origin.test";
	origin();
	cr_assert_eq(hc_begin(&x, &orig, post, sizeof post - 1, false, false, &e), 0, "%s", e.msg);
	usleep(100000); /* the tickets are in by now; the answer is not */
	cr_expect(!hc_answer_started(&x), "a session ticket was taken for an answer");
	cr_assert_eq(hc_send_body(&x, "hello", 5, &e), 0, "%s", e.msg);
	cr_assert_eq(hc_send_end(&x, &e), 0, "%s", e.msg);
	cr_assert_eq(hc_read_head(&x, &e), 0, "%s", e.msg);
	cr_expect_eq(x.resp.status, 200);
	cr_expect_eq(hc_read_body(&x, buf, sizeof buf, &e), 2);
	hc_end(&x);
	stop();
}
