/*
 * org_fcgi.c: the FastCGI responder client (FastCGI 1.0, lib/fcgi.c).
 *
 * Model: one request, one exchange on one connection to the application,
 * request id 1 (no multiplexing).  org_fcgi_handle takes a kept
 * connection from the backend's pool, or connects (unix or TCP, bounded
 * by a timeout, TCP_NODELAY), then pumps with poll(): it writes
 * BEGIN_REQUEST (RESPONDER, FCGI_KEEP_CONN), the PARAMS stream (the
 * org_env_build variables, whole pairs per record when they fit), an
 * empty PARAMS, the body as STDIN records and an empty STDIN, while it
 * reads records back, so an application that answers before it reads its
 * input, or never reads it, cannot deadlock with origind.  STDOUT carries
 * a CGI response: once its head is complete (lib/cgihdr.c) it becomes the
 * MHD response's status and fields, and a content-reader callback keeps
 * the same pump running to stream the rest.  STDERR is logged line by
 * line.  END_REQUEST ends the response.  cgi_timeout bounds the whole
 * exchange: past it the connection is closed, the request gets 504 (or,
 * once the head is sent, a truncated stream).
 *
 * Connections: after a clean END_REQUEST, with every byte of the request
 * sent and nothing after the record, the connection goes back to the
 * pool (at most POOL_MAX_IDLE idle per backend); any other end closes it.
 * Before reuse a non-blocking peek drops connections the application has
 * closed.  A write failure or an early close on a reused connection
 * before any response byte (the application dropped it while idle) is
 * retried once on a fresh connection (an early close only for GET, HEAD
 * and OPTIONS, which are safe to send twice).  A kept connection ties up
 * an application worker (php-fpm serves one connection per child, and a
 * kept one stays bound to its child), so a connection is not kept while a
 * fresh connection of the same backend still waits for its answer: that
 * waiter may be queued behind the very worker the idle connection holds.
 *
 * Threads and locks: everything of a request runs on its connection's
 * thread (MHD thread-per-connection, so the pump may block in poll).
 * Several threads share a backend: its pool is created lazily with an
 * atomic compare-and-swap on b->pool, and its idle list and waiter count
 * are guarded by the pool's mutex (held only to push or pop, and to close
 * a dropped descriptor).  A struct fx belongs to org_fcgi_handle until
 * the response exists, then to the response (its free callback, which
 * pools or closes the connection whatever happened).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cgihdr.h"
#include "fcgi.h"
#include "log.h"
#include "org.h"

#define REQ_ID          1
#define POOL_MAX_IDLE   8                /* idle connections kept per backend */
#define IDLE_MAX_MS     60000            /* an idle connection older is closed */
#define CONNECT_MAX_MS  10000            /* connect() bound, within cgi_timeout */
#define BLOCK_SIZE      (64 * 1024)      /* MHD's buffer for the body */
#define HEAD_CAP        (CGI_MAX_HEAD + FCGI_MAX_CONTENT) /* STDOUT kept before the head ends */
#define RBUF_SIZE       (32 * 1024)
#define ERR_LINE_MAX    1024             /* longer stderr lines are logged in pieces */
#define ERR_LINES_MAX   1000             /* stderr lines logged per request */

/* What the pump stopped for. */
enum { EV_NONE = -1, EV_STDOUT, EV_END, EV_EOF, EV_TIMEOUT, EV_PROTO, EV_ERROR };

struct idle_conn {
	int fd;
	long long since_ms;
};

struct org_fcgi_pool {
	pthread_mutex_t mu;
	struct idle_conn idle[POOL_MAX_IDLE]; /* a stack: the newest on top */
	size_t nidle;
	unsigned fresh_waiting;  /* new connections with no answer byte yet */
};

/* One request's exchange with the application. */
struct fx {
	struct org_fcgi_backend *b;
	struct org_fcgi_pool *pool; /* NULL when it could not be made: no reuse */
	struct org_req *r;       /* bytes_out; used only before the free callback */
	int fd;                  /* -1: none (closed or back in the pool) */
	bool reused;             /* fd came from the pool */
	bool waiting;            /* counted in pool->fresh_waiting */
	bool may_retry;          /* first attempt: a dead reused connection may be retried */
	bool repeatable;         /* GET, HEAD, OPTIONS: safe to send twice */
	long long timeout_ms, deadline_ms; /* on the monotonic clock */
	/* to the application */
	uint8_t *pre;            /* BEGIN_REQUEST, PARAMS..., empty PARAMS */
	size_t pre_len, pre_off;
	const char *body;        /* r's body, sent as STDIN */
	size_t body_len, body_off;
	uint8_t rh[FCGI_HEADER_LEN]; /* the STDIN record header being sent */
	size_t rh_off;           /* FCGI_HEADER_LEN: none pending */
	size_t rec_left;         /* body bytes left in that record */
	bool last_rec;           /* that record is the empty STDIN */
	bool out_done;           /* the empty STDIN is sent */
	int out_errno;           /* a write failed: the application is gone */
	/* from the application */
	uint8_t rbuf[RBUF_SIZE];
	size_t r_off, r_len;
	bool got_any;            /* a byte came back on this connection */
	bool eof;
	int eof_errno;           /* 0 for a plain close */
	const uint8_t *pend;     /* STDOUT content not passed on yet (in rd) */
	size_t pend_len;
	bool ended;              /* END_REQUEST seen */
	struct fcgi_end_request end;
	char why[200];           /* protocol or system error, for EV_PROTO/EV_ERROR */
	char *head;              /* STDOUT up to and with the head */
	size_t head_len, head_used, head_sent;
	char errline[ERR_LINE_MAX + 1];
	size_t errlen;
	unsigned errlines;
	char id[sizeof ((struct org_req *)0)->id];
	char name[400];          /* "unix:/path" or "host:port", for log lines */
	struct fcgi_reader rd;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the pool ------------------------------------------------------------- */

/* The backend's pool, made on first use (two threads may race: the loser
 * frees its copy).  NULL when out of memory: the request goes on unpooled. */
static struct org_fcgi_pool *
pool_of(struct org_fcgi_backend *b)
{
	struct org_fcgi_pool *p = __atomic_load_n(&b->pool, __ATOMIC_ACQUIRE);
	struct org_fcgi_pool *expected = NULL;

	if (p != NULL)
		return p;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		goto free_p;
	if (__atomic_compare_exchange_n(&b->pool, &expected, p, false, __ATOMIC_ACQ_REL,
	                                __ATOMIC_ACQUIRE))
		return p;
	pthread_mutex_destroy(&p->mu);
free_p:
	free(p);
	return expected;
}

/* An idle connection that the application still holds open, -1 if none.
 * Those it has closed (peek: EOF), that hold stray bytes or an error, or
 * that idled past IDLE_MAX_MS are closed on the way. */
static int
pool_take(struct org_fcgi_pool *p, const char *name)
{
	long long now = now_ms();
	int fd = -1;

	if (p == NULL)
		return -1;
	pthread_mutex_lock(&p->mu);
	while (p->nidle > 0) {
		struct idle_conn ic = p->idle[--p->nidle];
		char c;
		ssize_t k = 0;

		if (now - ic.since_ms <= IDLE_MAX_MS) {
			k = recv(ic.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
			if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				fd = ic.fd;
				break;
			}
		}
		LOG_DEBUG("fcgi.drop", "backend=%s fd=%d why=%s", log_q(name), ic.fd,
		          now - ic.since_ms > IDLE_MAX_MS ? "idle_too_long" :
		          k == 0 ? "closed_by_app" : k > 0 ? "stray_bytes" : "error");
		close(ic.fd);
	}
	pthread_mutex_unlock(&p->mu);
	return fd;
}

/* Keep fd for the next request, or close it when the pool is full or a
 * fresh connection waits (it may wait for the worker fd holds). */
static void
pool_put(struct org_fcgi_pool *p, int fd, const char *name)
{
	long long now = now_ms();
	bool kept = false;
	size_t i, j;

	if (p != NULL) {
		pthread_mutex_lock(&p->mu);
		for (i = j = 0; i < p->nidle; i++) { /* expire the old ones */
			if (now - p->idle[i].since_ms > IDLE_MAX_MS)
				close(p->idle[i].fd);
			else
				p->idle[j++] = p->idle[i];
		}
		p->nidle = j;
		if (p->fresh_waiting == 0 && p->nidle < POOL_MAX_IDLE) {
			p->idle[p->nidle++] = (struct idle_conn){ fd, now };
			kept = true;
		}
		pthread_mutex_unlock(&p->mu);
	}
	LOG_DEBUG("fcgi.release", "backend=%s fd=%d kept=%s", log_q(name), fd,
	          kept ? "yes" : "no");
	if (!kept)
		close(fd);
}

/* This exchange no longer counts as a fresh connection waiting. */
static void
unwait(struct fx *x)
{
	if (!x->waiting)
		return;
	x->waiting = false;
	pthread_mutex_lock(&x->pool->mu);
	x->pool->fresh_waiting--;
	pthread_mutex_unlock(&x->pool->mu);
}

/* Done with the connection: into the pool when keep, else closed. */
static void
release(struct fx *x, bool keep)
{
	unwait(x);
	if (x->fd < 0)
		return;
	if (keep)
		pool_put(x->pool, x->fd, x->name);
	else
		close(x->fd);
	x->fd = -1;
}

/* ---- connecting ------------------------------------------------------------ */

/* Wait for a non-blocking connect on fd to finish by deadline.  0, or -1
 * with errno (ETIMEDOUT when it did not). */
static int
connect_wait(int fd, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		long long left = deadline - now_ms();
		int rc, soerr = 0;
		socklen_t sl = sizeof soerr;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -1;
		if (rc == 0)
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			return -1;
		if (soerr != 0) {
			errno = soerr;
			return -1;
		}
		return 0;
	}
}

static int
connect_unix(struct fx *x, long long deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, saved;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", x->b->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	for (;;) {
		struct timespec ts = { 0, 5 * 1000000 };

		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return fd;
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS) {
			if (connect_wait(fd, deadline) == 0)
				return fd;
			break;
		}
		if (errno != EAGAIN)
			break;
		/* the listener's backlog is full: wait for room */
		if (now_ms() >= deadline) {
			errno = ETIMEDOUT;
			break;
		}
		nanosleep(&ts, NULL);
	}
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int
connect_tcp(struct fx *x, long long deadline)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char port[16];
	int fd = -1, rc, saved = ECONNREFUSED, one = 1;

	snprintf(port, sizeof port, "%d", x->b->port);
	rc = getaddrinfo(x->b->host, port, &hints, &res);
	if (rc != 0) {
		snprintf(x->why, sizeof x->why, "%s", gai_strerror(rc));
		errno = 0;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		            ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && connect_wait(fd, deadline) == 0))
			break;
		saved = errno;
		close(fd);
		fd = -1;
		if (saved == ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = saved;
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* A connection for x: a pooled one (unless fresh), else a new one.  0, or
 * -1 with out set (502, or 504 when connecting timed out). */
static int
conn_get(struct fx *x, bool fresh, struct org_reply *out)
{
	long long deadline = x->deadline_ms, t0 = now_ms();

	if (!fresh) {
		x->fd = pool_take(x->pool, x->name);
		if (x->fd >= 0) {
			x->reused = true;
			LOG_DEBUG("fcgi.connect", "id=%s backend=%s fd=%d reused=yes", x->id,
			          log_q(x->name), x->fd);
			return 0;
		}
	}
	x->reused = false;
	if (deadline > t0 + CONNECT_MAX_MS)
		deadline = t0 + CONNECT_MAX_MS;
	x->why[0] = '\0';
	x->fd = x->b->is_unix ? connect_unix(x, deadline) : connect_tcp(x, deadline);
	if (x->fd < 0) {
		out->status = errno == ETIMEDOUT ? 504 : 502;
		snprintf(out->detail, sizeof out->detail, "connect %s: %s", x->name,
		         x->why[0] != '\0' ? x->why : strerror(errno));
		return -1;
	}
	if (x->pool != NULL) {
		pthread_mutex_lock(&x->pool->mu);
		x->pool->fresh_waiting++;
		pthread_mutex_unlock(&x->pool->mu);
		x->waiting = true;
	}
	LOG_DEBUG("fcgi.connect", "id=%s backend=%s fd=%d reused=no ms=%lld", x->id,
	          log_q(x->name), x->fd, now_ms() - t0);
	return 0;
}

/* ---- the request's records ------------------------------------------------ */

/* BEGIN_REQUEST, the PARAMS stream from env ("NAME=value", split at the
 * first '='), and the empty PARAMS, into x->pre.  Pairs are not split
 * across records when they fit one (php-fpm decodes each PARAMS record on
 * its own); a pair longer than a record is, as the specification allows.
 * 0, or -1 with out set (500). */
static int
build_pre(struct fx *x, char **env, struct org_reply *out)
{
	size_t i, total = 0, npairs = 0, cap, pos, rs = 0, rl = 0, scap = 0, ssz;
	bool open = false;
	uint8_t *scratch = NULL;
	struct err e;
	int rc = -1;

	for (i = 0; env[i] != NULL; i++) {
		const char *eq = strchr(env[i], '=');
		size_t sz;

		if (eq == NULL)
			continue;
		sz = fcgi_nv_size((size_t)(eq - env[i]), strlen(eq + 1));
		if (sz == 0) {
			snprintf(out->detail, sizeof out->detail, "variable too long for FastCGI");
			goto fail;
		}
		total += sz;
		npairs++;
		if (sz > scap)
			scap = sz;
	}
	cap = 16 + total + FCGI_HEADER_LEN * (npairs + total / FCGI_MAX_CONTENT + 2);
	x->pre = malloc(cap);
	scratch = malloc(scap ? scap : 1);
	if (x->pre == NULL || scratch == NULL) {
		snprintf(out->detail, sizeof out->detail, "out of memory");
		goto fail;
	}
	if (fcgi_begin_request_encode(x->pre, REQ_ID, FCGI_RESPONDER, FCGI_KEEP_CONN, &e) < 0)
		goto fcgi_error;
	pos = 16;
	for (i = 0; env[i] != NULL; i++) {
		const char *eq = strchr(env[i], '=');
		size_t done = 0;

		if (eq == NULL)
			continue;
		if (fcgi_nv_encode(scratch, scap, env[i], (size_t)(eq - env[i]), eq + 1,
		                   strlen(eq + 1), &ssz, &e) < 0)
			goto fcgi_error;
		if (open && rl + ssz > FCGI_MAX_CONTENT) {
			if (fcgi_header_encode(x->pre + rs, FCGI_PARAMS, REQ_ID, rl, 0, &e) < 0)
				goto fcgi_error;
			open = false;
		}
		while (done < ssz) {
			size_t n;

			if (open && rl == FCGI_MAX_CONTENT) {
				if (fcgi_header_encode(x->pre + rs, FCGI_PARAMS, REQ_ID, rl, 0, &e) < 0)
					goto fcgi_error;
				open = false;
			}
			if (!open) {
				rs = pos;
				pos += FCGI_HEADER_LEN;
				rl = 0;
				open = true;
			}
			n = ssz - done;
			if (n > FCGI_MAX_CONTENT - rl)
				n = FCGI_MAX_CONTENT - rl;
			memcpy(x->pre + pos, scratch + done, n);
			pos += n;
			rl += n;
			done += n;
		}
	}
	if (open && fcgi_header_encode(x->pre + rs, FCGI_PARAMS, REQ_ID, rl, 0, &e) < 0)
		goto fcgi_error;
	if (fcgi_header_encode(x->pre + pos, FCGI_PARAMS, REQ_ID, 0, 0, &e) < 0)
		goto fcgi_error;
	pos += FCGI_HEADER_LEN;
	x->pre_len = pos;
	rc = 0;
	goto free_scratch;
fcgi_error:
	snprintf(out->detail, sizeof out->detail, "%s", e.msg);
fail:
	out->status = 500;
free_scratch:
	free(scratch);
	return rc;
}

/* Send what the socket takes now: the rest of pre, then the body as STDIN
 * records, then the empty STDIN.  0, or -1 with errno when the write
 * failed (the application closed the connection). */
static int
write_some(struct fx *x)
{
	while (!x->out_done) {
		struct iovec iov[2];
		struct msghdr m = { .msg_iov = iov };
		size_t k, hk;
		ssize_t sent;

		if (x->pre_off < x->pre_len) {
			iov[m.msg_iovlen++] = (struct iovec){ x->pre + x->pre_off,
			                                      x->pre_len - x->pre_off };
		} else {
			if (x->rh_off == FCGI_HEADER_LEN && x->rec_left == 0) {
				size_t n = x->body_len - x->body_off;

				if (n > FCGI_MAX_CONTENT)
					n = FCGI_MAX_CONTENT;
				(void)fcgi_header_encode(x->rh, FCGI_STDIN, REQ_ID, n, 0, NULL);
				x->rh_off = 0;
				x->rec_left = n;
				x->last_rec = n == 0;
			}
			if (x->rh_off < FCGI_HEADER_LEN)
				iov[m.msg_iovlen++] = (struct iovec){ x->rh + x->rh_off,
				                                      FCGI_HEADER_LEN - x->rh_off };
			if (x->rec_left > 0)
				iov[m.msg_iovlen++] = (struct iovec){ (char *)x->body + x->body_off,
				                                      x->rec_left };
		}
		sent = sendmsg(x->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (sent < 0)
			return -1;
		k = (size_t)sent;
		if (x->pre_off < x->pre_len) {
			x->pre_off += k;
			continue;
		}
		hk = FCGI_HEADER_LEN - x->rh_off;
		if (hk > k)
			hk = k;
		x->rh_off += hk;
		k -= hk;
		x->body_off += k;
		x->rec_left -= k;
		if (x->rh_off == FCGI_HEADER_LEN && x->rec_left == 0 && x->last_rec)
			x->out_done = true;
	}
	return 0;
}

/* ---- the application's records -------------------------------------------- */

static void
err_emit(struct fx *x)
{
	size_t i;

	if (x->errlen > 0 && x->errline[x->errlen - 1] == '\r')
		x->errlen--;
	for (i = 0; i < x->errlen; i++)
		if (x->errline[i] == '\0')
			x->errline[i] = '?';
	x->errline[x->errlen] = '\0';
	x->errlen = 0;
	if (x->errlines < ERR_LINES_MAX)
		LOG_WARN("fcgi.stderr", "id=%s backend=%s line=%s", x->id, log_q(x->name),
		         log_q(x->errline));
	else if (x->errlines == ERR_LINES_MAX)
		LOG_WARN("fcgi.stderr", "id=%s backend=%s dropped=more_than_%d_lines", x->id,
		         log_q(x->name), ERR_LINES_MAX);
	if (x->errlines <= ERR_LINES_MAX)
		x->errlines++;
}

static void
err_feed(struct fx *x, const uint8_t *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			err_emit(x);
			continue;
		}
		x->errline[x->errlen++] = (char)buf[i];
		if (x->errlen == ERR_LINE_MAX)
			err_emit(x);
	}
}

/* What a record means for the exchange: an EV_ to stop the pump for, or
 * EV_NONE to go on. */
static int
on_record(struct fx *x, const struct fcgi_record *rec)
{
	struct err e;

	if (rec->request_id == FCGI_NULL_REQUEST_ID) {
		LOG_DEBUG("fcgi.management", "id=%s backend=%s type=%u", x->id, log_q(x->name),
		          rec->type);
		return EV_NONE;
	}
	if (rec->request_id != REQ_ID) {
		snprintf(x->why, sizeof x->why, "record of type %u for request id %u, want %u",
		         rec->type, rec->request_id, REQ_ID);
		return EV_PROTO;
	}
	switch (rec->type) {
	case FCGI_STDOUT:
		if (rec->content_length == 0)
			return EV_NONE; /* the end of STDOUT: END_REQUEST follows */
		x->pend = rec->content;
		x->pend_len = rec->content_length;
		return EV_STDOUT;
	case FCGI_STDERR:
		err_feed(x, rec->content, rec->content_length);
		return EV_NONE;
	case FCGI_END_REQUEST:
		if (fcgi_end_request_decode(rec->content, rec->content_length, &x->end, &e) < 0) {
			snprintf(x->why, sizeof x->why, "%s", e.msg);
			return EV_PROTO;
		}
		x->ended = true;
		if (x->errlen > 0)
			err_emit(x);
		return EV_END;
	default:
		snprintf(x->why, sizeof x->why, "unexpected record type %u", rec->type);
		return EV_PROTO;
	}
}

/* Run the exchange until something for the caller: STDOUT content (in
 * x->pend), END_REQUEST, the connection's end, the deadline, a protocol
 * or system error (x->why).  Meanwhile the request keeps being written
 * and STDERR keeps being logged. */
static int
pump(struct fx *x)
{
	for (;;) {
		struct pollfd p;
		long long left;
		int rc, ev;

		while (x->r_off < x->r_len) {
			const struct fcgi_record *rec;
			size_t used;
			struct err e;

			if (fcgi_reader_feed(&x->rd, x->rbuf + x->r_off, x->r_len - x->r_off, &used,
			                     &rec, &e) < 0) {
				snprintf(x->why, sizeof x->why, "%s", e.msg);
				return EV_PROTO;
			}
			x->r_off += used;
			if (rec != NULL && (ev = on_record(x, rec)) != EV_NONE)
				return ev;
		}
		if (x->eof)
			return EV_EOF;
		left = x->deadline_ms - now_ms();
		if (left <= 0 || ORG_STOPPING())
			return EV_TIMEOUT;
		if (left > ORG_POLL_SLICE_MS)
			left = ORG_POLL_SLICE_MS;
		p = (struct pollfd){ .fd = x->fd, .events = POLLIN };
		if (!x->out_done && x->out_errno == 0)
			p.events |= POLLOUT;
		rc = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			snprintf(x->why, sizeof x->why, "poll: %s", strerror(errno));
			return EV_ERROR;
		}
		if (rc == 0)
			continue;
		if ((p.revents & (POLLOUT | POLLERR | POLLHUP)) && !x->out_done &&
		    x->out_errno == 0 && write_some(x) < 0) {
			x->out_errno = errno;
			LOG_DEBUG("fcgi.write", "id=%s backend=%s unsent=%zu why=%s", x->id,
			          log_q(x->name), x->body_len - x->body_off,
			          log_q(strerror(errno)));
		}
		if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
			ssize_t k = recv(x->fd, x->rbuf, sizeof x->rbuf, MSG_DONTWAIT);

			if (k > 0) {
				x->r_off = 0;
				x->r_len = (size_t)k;
				x->got_any = true;
				unwait(x);
			} else if (k == 0) {
				x->eof = true;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				x->eof = true;
				x->eof_errno = errno;
			}
		}
	}
}

/* True when the connection may serve another request: a clean
 * END_REQUEST, the whole request sent, nothing read past the record. */
static bool
reusable(const struct fx *x)
{
	return x->ended && x->end.protocol_status == FCGI_REQUEST_COMPLETE && x->out_done &&
	       x->out_errno == 0 && !x->eof && x->r_off == x->r_len &&
	       fcgi_reader_idle(&x->rd);
}

/* "closed the connection" or "reading: Connection reset by peer". */
static void
describe_eof(const struct fx *x, char *buf, size_t len, const char *when)
{
	if (x->eof_errno != 0)
		snprintf(buf, len, "connection lost %s: %s", when, strerror(x->eof_errno));
	else if (x->out_errno != 0 && !x->got_any)
		snprintf(buf, len, "the application closed the connection %s (write: %s)", when,
		         strerror(x->out_errno));
	else
		snprintf(buf, len, "the application closed the connection %s", when);
}

/* Pump until STDOUT holds a complete response head.  0 with *h filled;
 * 1 when a dead reused connection should be retried; -1 with out's
 * status and detail set. */
static int
read_head(struct fx *x, struct cgi_head *h, struct org_reply *out)
{
	struct err e = { 0 };
	int rc;

	out->status = 502;
	for (;;) {
		switch (pump(x)) {
		case EV_STDOUT:
			break;
		case EV_END:
			if (x->end.protocol_status != FCGI_REQUEST_COMPLETE) {
				if (x->end.protocol_status == FCGI_OVERLOADED)
					out->status = 503;
				snprintf(out->detail, sizeof out->detail, "the application refused the "
				         "request: %s (protocol status %u)",
				         fcgi_protocol_status_name(x->end.protocol_status),
				         x->end.protocol_status);
			} else {
				snprintf(out->detail, sizeof out->detail, "request ended (app status "
				         "%u) %s", (unsigned)x->end.app_status, x->head_len == 0 ?
				         "without output" : "before the end of the response head");
			}
			return -1;
		case EV_EOF:
			if (x->may_retry && x->reused && !x->got_any &&
			    (x->out_errno != 0 || x->repeatable))
				return 1;
			describe_eof(x, out->detail, sizeof out->detail, x->head_len == 0 ?
			             "before any output" : "before the end of the response head");
			return -1;
		case EV_TIMEOUT:
			out->status = 504;
			snprintf(out->detail, sizeof out->detail, "no response head within %lld ms",
			         x->timeout_ms);
			return -1;
		case EV_PROTO:
			snprintf(out->detail, sizeof out->detail, "protocol error: %s", x->why);
			return -1;
		default:
			snprintf(out->detail, sizeof out->detail, "%s", x->why);
			return -1;
		}
		if (x->pend_len > HEAD_CAP - x->head_len) { /* cannot happen: parse bounds it */
			snprintf(out->detail, sizeof out->detail, "malformed header: head too long");
			return -1;
		}
		memcpy(x->head + x->head_len, x->pend, x->pend_len);
		x->head_len += x->pend_len;
		if (x->head_len < CGI_MAX_HEAD &&
		    memchr(x->head + x->head_len - x->pend_len, '\n', x->pend_len) == NULL) {
			x->pend_len = 0;
			continue; /* no new line: the parse cannot change */
		}
		x->pend_len = 0;
		rc = cgi_head_parse(x->head, x->head_len, h, &e);
		if (rc == 1) {
			x->head_used = h->head_len;
			return 0;
		}
		if (rc < 0) {
			snprintf(out->detail, sizeof out->detail, "malformed header: %s", e.msg);
			return -1;
		}
	}
}

/* ---- the exchange's life -------------------------------------------------- */

static bool
safe_to_repeat(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	       strcmp(method, "OPTIONS") == 0;
}

static struct fx *
fx_new(struct org_req *r, struct org_fcgi_backend *b)
{
	struct fx *x = calloc(1, sizeof *x);

	if (x == NULL)
		return NULL;
	x->head = malloc(HEAD_CAP);
	if (x->head == NULL) {
		free(x);
		return NULL;
	}
	x->b = b;
	x->pool = pool_of(b);
	x->r = r;
	x->fd = -1;
	x->timeout_ms = r->srv->o.cgi_timeout;
	x->deadline_ms = now_ms() + x->timeout_ms;
	x->body = r->body;
	x->body_len = r->body != NULL ? r->body_len : 0;
	x->rh_off = FCGI_HEADER_LEN;
	x->repeatable = safe_to_repeat(r->method);
	fcgi_reader_init(&x->rd);
	snprintf(x->id, sizeof x->id, "%s", r->id);
	if (b->is_unix)
		snprintf(x->name, sizeof x->name, "unix:%s", b->path);
	else if (strchr(b->host, ':') != NULL)
		snprintf(x->name, sizeof x->name, "[%s]:%d", b->host, b->port);
	else
		snprintf(x->name, sizeof x->name, "%s:%d", b->host, b->port);
	return x;
}

/* Forget the connection and everything sent or read on it (not the
 * request's records, nor stderr's state), for a retry. */
static void
fx_rewind(struct fx *x)
{
	release(x, false);
	x->pre_off = 0;
	x->body_off = 0;
	x->rh_off = FCGI_HEADER_LEN;
	x->rec_left = 0;
	x->last_rec = false;
	x->out_done = false;
	x->out_errno = 0;
	x->r_off = x->r_len = 0;
	x->got_any = false;
	x->eof = false;
	x->eof_errno = 0;
	x->pend_len = 0;
	x->ended = false;
	x->head_len = 0;
	fcgi_reader_init(&x->rd);
}

/* Close (or pool) the connection, log the rest of stderr, free x. */
static void
fx_free(struct fx *x)
{
	if (x == NULL)
		return;
	release(x, false);
	if (x->errlen > 0)
		err_emit(x);
	free(x->pre);
	free(x->head);
	free(x);
}

/* ---- the response -------------------------------------------------------- */

static ssize_t
reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct fx *x = cls;
	size_t n;

	(void)pos;
	if (x->head != NULL) {
		/* body bytes that came with the head go first */
		n = x->head_len - x->head_used - x->head_sent;
		if (n > max)
			n = max;
		memcpy(buf, x->head + x->head_used + x->head_sent, n);
		x->head_sent += n;
		if (x->head_used + x->head_sent == x->head_len) {
			free(x->head);
			x->head = NULL;
		}
		if (n > 0) {
			x->r->bytes_out += n;
			return (ssize_t)n;
		}
	}
	if (x->ended)
		return MHD_CONTENT_READER_END_OF_STREAM;
	while (x->pend_len == 0) {
		switch (pump(x)) {
		case EV_STDOUT:
			break;
		case EV_END:
			if (x->end.protocol_status != FCGI_REQUEST_COMPLETE) {
				LOG_WARN("fcgi.fail", "id=%s backend=%s phase=body why=%s", x->id,
				         log_q(x->name),
				         log_q(fcgi_protocol_status_name(x->end.protocol_status)));
				release(x, false);
				return MHD_CONTENT_READER_END_WITH_ERROR;
			}
			release(x, reusable(x));
			return MHD_CONTENT_READER_END_OF_STREAM;
		case EV_EOF:
			describe_eof(x, x->why, sizeof x->why, "before the end of the response");
			goto fail;
		case EV_TIMEOUT:
			snprintf(x->why, sizeof x->why, "no complete response within %lld ms",
			         x->timeout_ms);
			LOG_WARN("fcgi.timeout", "id=%s backend=%s timeout_ms=%lld phase=body "
			         "bytes_out=%llu", x->id, log_q(x->name), x->timeout_ms,
			         (unsigned long long)x->r->bytes_out);
			goto fail;
		case EV_PROTO: {
			char tmp[sizeof x->why];

			snprintf(tmp, sizeof tmp, "%s", x->why);
			snprintf(x->why, sizeof x->why, "protocol error: %s", tmp);
			goto fail;
		}
		default:
			goto fail;
		}
	}
	n = x->pend_len < max ? x->pend_len : max;
	memcpy(buf, x->pend, n);
	x->pend += n;
	x->pend_len -= n;
	x->r->bytes_out += n;
	return (ssize_t)n;
fail:
	LOG_WARN("fcgi.fail", "id=%s backend=%s phase=body bytes_out=%llu why=%s", x->id,
	         log_q(x->name), (unsigned long long)x->r->bytes_out, log_q(x->why));
	release(x, false);
	x->ended = true; /* nothing more to read */
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void
reader_free(void *cls)
{
	struct fx *x = cls;

	if (x->fd >= 0)
		LOG_DEBUG("fcgi.abort", "id=%s backend=%s why=\"response not read to its end\"",
		          x->id, log_q(x->name));
	fx_free(x); /* an unfinished exchange: its connection is closed */
}

static void
add_field(struct MHD_Response *resp, const struct fx *x, const char *name, size_t nlen,
          const char *value, size_t vlen)
{
	char *s = malloc(nlen + vlen + 2), shown[72];

	if (s == NULL)
		goto fail;
	memcpy(s, name, nlen);
	s[nlen] = '\0';
	memcpy(s + nlen + 1, value, vlen);
	s[nlen + 1 + vlen] = '\0';
	if (MHD_add_response_header(resp, s, s + nlen + 1) != MHD_YES)
		goto free_s;
	free(s);
	return;
free_s:
	free(s);
fail:
	snprintf(shown, sizeof shown, "%.*s", (int)(nlen < 64 ? nlen : 64), name);
	LOG_WARN("fcgi.header", "id=%s backend=%s dropped=%s", x->id, log_q(x->name),
	         log_q(shown));
}

/* The response from a parsed head; the rest of STDOUT is its body.  As
 * for CGI, a local redirect is answered as a 302 with its Location. */
static struct MHD_Response *
make_response(struct fx *x, const struct cgi_head *h)
{
	struct MHD_Response *resp;
	size_t i;

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK_SIZE, reader, x,
	                                         reader_free);
	if (resp == NULL)
		return NULL;
	if (h->content_type != NULL)
		add_field(resp, x, "Content-Type", 12, h->content_type, h->content_type_len);
	if (h->location != NULL)
		add_field(resp, x, "Location", 8, h->location, h->location_len);
	for (i = 0; i < h->nfields; i++)
		add_field(resp, x, h->fields[i].name, h->fields[i].nlen, h->fields[i].value,
		          h->fields[i].vlen);
	return resp;
}

/* Send r to application b (SCRIPT_FILENAME: docroot + script_name when a
 * docroot is set) and answer with its response, streamed.  On failure
 * out->resp is NULL, out->status 502 (503 OVERLOADED, 504 past
 * cgi_timeout, 500 out of memory) and out->detail says why. */
void
org_fcgi_handle(struct org_req *r, struct org_fcgi_backend *b, const char *script_name,
                const char *path_info, struct org_reply *out)
{
	char **env = NULL, *filename = NULL;
	struct fx *x = NULL;
	struct cgi_head h;
	int attempt, rc;

	out->status = 500;
	out->resp = NULL;
	out->detail[0] = '\0';
	if (r->srv->docroot_real[0] != '\0' &&
	    asprintf(&filename, "%s%s", r->srv->docroot_real, script_name) < 0) {
		filename = NULL;
		snprintf(out->detail, sizeof out->detail, "out of memory");
		goto fail;
	}
	env = org_env_build(r, script_name, path_info, filename);
	x = fx_new(r, b);
	if (env == NULL || x == NULL) {
		snprintf(out->detail, sizeof out->detail, "out of memory");
		goto fail;
	}
	if (build_pre(x, env, out) < 0)
		goto fail;
	for (attempt = 0;; attempt++) {
		x->may_retry = attempt == 0;
		if (conn_get(x, attempt > 0, out) < 0)
			goto fail;
		rc = read_head(x, &h, out);
		if (rc == 0)
			break;
		if (rc < 0)
			goto fail;
		/* a dead kept connection: once more on a new one */
		describe_eof(x, out->detail, sizeof out->detail, "before any output");
		LOG_DEBUG("fcgi.retry", "id=%s backend=%s why=%s", x->id, log_q(x->name),
		          log_q(out->detail));
		out->detail[0] = '\0';
		fx_rewind(x);
	}
	out->resp = make_response(x, &h);
	if (out->resp == NULL) {
		out->status = 500;
		snprintf(out->detail, sizeof out->detail, "cannot create the response");
		goto fail;
	}
	out->status = h.status;
	LOG_DEBUG("fcgi.head", "id=%s backend=%s status=%u reused=%s", x->id, log_q(x->name),
	          h.status, x->reused ? "yes" : "no");
	goto free_env; /* x belongs to the response now */
fail:
	LOG_WARN("fcgi.fail", "id=%s backend=%s status=%u why=%s", r->id,
	         x != NULL ? log_q(x->name) : "-", out->status, log_q(out->detail));
	fx_free(x);
free_env:
	org_env_free(env);
	free(filename);
}

/* Close the backend's kept connections and free its pool.  At shutdown,
 * once no request runs. */
void
org_fcgi_backend_free(struct org_fcgi_backend *b)
{
	struct org_fcgi_pool *p = b->pool;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nidle; i++)
		close(p->idle[i].fd);
	pthread_mutex_destroy(&p->mu);
	free(p);
	b->pool = NULL;
}
