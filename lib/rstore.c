/*
 * rstore.c: see rstore.h.  The only file of edged that includes hiredis.
 *
 * Model: hiredis makes the connections (redisConnectWithTimeout,
 * redisConnectUnixWithTimeout) and parses the replies (its redisReader);
 * the I/O between is ours, on the context's descriptor switched to
 * non-blocking: requests are written with sendmsg() straight from the
 * caller's buffers (RESP framing in a small header array, so a 32 MiB
 * value is never copied, and MSG_NOSIGNAL, so a dead Redis never raises
 * SIGPIPE), and every wait is a poll() bounded by the call's absolute
 * deadline and by timeout_ms.  That bounds a whole call, where hiredis's
 * redisSetTimeout would bound each read() on its own.  Once the deadline
 * has passed, a wait still takes one look (poll with no timeout) before
 * it gives up, so that a thread the scheduler kept away past its deadline
 * does not call Redis slow when the reply is there.
 *
 * Threads and locks: rs->mu guards the pool (the idle list, the count of
 * open connections) and the up/down state, and is held only to change
 * them: connecting, every read and write, closing and logging happen
 * after it is released (log lines are formatted under it and written
 * after).  A call takes a connection (struct rconn) out of the pool, or a
 * free slot to open one in, uses it alone, and puts it back.  Every taker
 * queues as a struct waiter on its own stack, and serve_locked() hands
 * what comes free to the oldest one, waking it on its own condition
 * variable: with a pool much smaller than the number of threads, a call
 * that gives a connection back cannot grab it again ahead of the others
 * (with one shared condition and a free-for-all, 16 threads on 4
 * connections saw waits of 70 ms and more; in line, a few ms at most).
 * Counters are atomics, updated without the lock.
 *
 * Generations: rs->gen grows at each transition to down, and a connection
 * carries the generation it was opened in.  Only a connection of the
 * current generation can change the state, so the failures of calls that
 * were in flight when Redis went away (or that finish after it came back)
 * count once, and connections from before an outage are closed when they
 * come back instead of being pooled.  While down, a probe is the only call
 * holding a connection of the current generation.
 *
 * A pooled connection is checked before use with a zero-timeout poll():
 * a Redis that closed it (restart, its `timeout` setting) makes it
 * readable, and it is replaced without any change of state.  When the
 * close races with our request (nothing of the reply came back, the
 * connection came from the pool), the call reconnects and sends it once
 * more: GET, SET, DEL and PING can all be repeated.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "log.h"
#include "rstore.h"

#define RBUF        (64 * 1024) /* bytes read from Redis per recv() */
#define IOV_CHUNK   512         /* iovecs per sendmsg() (Linux allows 1024) */
#define SMALL_ARGC  8           /* commands this small frame on the stack */
#define HDR_MAX     48          /* "*<10 digits>\r\n$<20 digits>\r\n" at most */
#define BIG_REPLY   (256 * 1024) /* a reader that held a larger reply is renewed */
#define REPLY_SLACK (64 * 1024) /* a reply may exceed max_value by this much */

struct rconn {
	redisContext *c;          /* NULL: not connected (a slot to open) */
	uint64_t gen;             /* rs->gen it belongs to */
	struct rconn *next;       /* idle list */
	char buf[RBUF];           /* replies land here, then in c->reader */
};

struct counters {
	unsigned long long calls, hits, misses, too_large, unavailable, fail_fast,
	    pool_timeouts, timeouts, io_errors, reply_errors, connects, connect_failures,
	    stale, downs;
	unsigned long long lat[RSTORE_LAT_N], lat_sum_us; /* answered calls */
};



struct rstore {
	/* set by rstore_init, read-only after */
	struct rstore_url url;
	char label[512];
	int timeout_ms, pool_size, backoff_min_ms, backoff_max_ms, log_interval_ms,
	    bytes_per_ms;
	size_t max_value;         /* 0: no limit */
	size_t max_reply;         /* max_value + REPLY_SLACK, 0: no limit */

	pthread_condattr_t cattr; /* CLOCK_MONOTONIC, for the waiters' conditions */

	pthread_mutex_t mu;       /* guards every field down to the counters */
	struct waiter *wq, *wq_tail; /* calls waiting for a connection, oldest first */
	struct rconn *idle;       /* connected and unused, newest first */
	int nidle;
	int open;                 /* connections and slots taken (idle included) */
	enum rstore_state state;
	uint64_t gen;
	bool probing;             /* a call is trying Redis after a backoff */
	int backoff_ms;           /* the current step; 0 when not down */
	int64_t retry_at;         /* while down: no attempt before */
	int64_t down_since;
	int64_t still_logged, reply_logged; /* when those lines were last written */
	unsigned long long attempts;      /* failed attempts in this outage */
	unsigned long long fast_at_down;  /* n.fail_fast when it began */
	unsigned long long reply_unlogged; /* error replies since the last line */
	uint64_t rng;
	char last_error[160];

	struct counters n;        /* atomics, no lock */
};

/* Why a call failed. */
enum fclass { FC_TIMEOUT = 1, FC_IO, FC_REPLY, FC_TOOBIG };

struct fail {
	enum fclass cls;
	bool fatal;               /* FC_REPLY: the server cannot serve at all */
	bool retryable;           /* closed or reset before any reply byte */
	char why[160];
};

#define COUNT(rs, field) __atomic_add_fetch(&(rs)->n.field, 1, __ATOMIC_RELAXED)

const int rstore_lat_le_us[RSTORE_LAT_N - 1] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
};

/* Count one answered call that took us microseconds. */
static void
lat_count(struct rstore *rs, int64_t us)
{
	int i = 0;

	while (i < RSTORE_LAT_N - 1 && us > rstore_lat_le_us[i])
		i++;
	__atomic_add_fetch(&rs->n.lat[i], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rs->n.lat_sum_us, (unsigned long long)us, __ATOMIC_RELAXED);
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
rstore_res_name(enum rstore_res r)
{
	return r == RSTORE_OK ? "ok" : r == RSTORE_ABSENT ? "absent"
	       : r == RSTORE_TOO_LARGE ? "too-large" : "unavailable";
}

/* ---- URLs ------------------------------------------------------------------ */

/* Where the user info of a URL is: rest is what follows "scheme://".
 * redis:// ends it at the last '@' (a host and a db hold none, so a
 * password may hold raw '@' and '/'); unix:// has none when the path
 * follows at once, else it ends at the first "@/".  Returns its length
 * (the '@' not counted) or -1 when there is none; *bad when unix:// has
 * something that is neither. */
static ssize_t
userinfo_len(const char *rest, bool unix_socket, bool *bad)
{
	const char *at;

	*bad = false;
	if (!unix_socket) {
		at = strrchr(rest, '@');
		return at ? at - rest : -1;
	}
	if (rest[0] == '/')
		return -1;
	at = strstr(rest, "@/");
	if (at == NULL) {
		*bad = true;
		return -1;
	}
	return at - rest;
}

/* url as it may be shown: the password replaced by ***, control bytes by
 * '?', cut to fit out. */
static void
shown_url(const char *url, char *out, size_t len)
{
	const char *sep = strstr(url, "://"), *rest, *colon;
	ssize_t ul;
	bool bad;
	size_t o;

	snprintf(out, len, "%s", url);
	if (sep == NULL && (colon = strrchr(url, '@')) != NULL) /* not a URL: hide all */
		snprintf(out, len, "***%s", colon);
	if (sep != NULL) {
		rest = sep + 3;
		ul = userinfo_len(rest, strncasecmp(url, "unix:", 5) == 0, &bad);
		if (bad && (colon = strrchr(rest, '@')) != NULL)
			ul = colon - rest; /* a broken unix:// URL: hide what may be one */
		if (ul >= 0) {
			colon = memchr(rest, ':', (size_t)ul);
			if (colon != NULL)
				snprintf(out, len, "%.*s:***%s", (int)(colon - url), url, rest + ul);
			else
				snprintf(out, len, "%.*s***%s", (int)(rest - url), url, rest + ul);
		}
	}
	for (o = 0; out[o] != '\0'; o++)
		if ((unsigned char)out[o] < 0x20 || out[o] == 0x7f)
			out[o] = '?';
}

/* Percent-decode s[0..n) into out (size len).  -1 on a bad or %00
 * escape, or when it does not fit. */
static int
pct_decode(const char *s, size_t n, char *out, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			char hex[3];

			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return -1;
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			hex[2] = '\0';
			c = (int)strtol(hex, NULL, 16);
			if (c == 0)
				return -1;
			i += 2;
		}
		if (o + 1 >= len)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* A decimal number s[0..n), all digits, 0..max. */
static bool
number(const char *s, size_t n, long max, long *v)
{
	size_t i;

	*v = 0;
	if (n == 0 || n > 10)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return *v <= max;
}

#define URL_FAIL(...) err_set(e, ERR_USAGE, "key '%s': '%s': " __VA_ARGS__)

/* s[0..n) into out (size len) as the URL's part what (host, socket path);
 * hint: how to write one. */
static int
url_part(char *out, size_t len, const char *s, size_t n, const char *what, const char *hint,
         const char *key, const char *shown, struct err *e)
{
	if (n == 0)
		return URL_FAIL("no %s (write %s)", key, shown, what, hint);
	if (n >= len)
		return URL_FAIL("the %s is longer than %zu bytes", key, shown, what, len - 1);
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* "?db=N" at q (q[0] == '?'). */
static int
parse_query(const char *q, struct rstore_url *u, bool have_db, const char *key,
            const char *shown, struct err *e)
{
	long v;

	if (strncmp(q + 1, "db=", 3) != 0)
		return URL_FAIL("unknown parameter '%.*s' (the only one is db=N)", key, shown,
		                (int)strcspn(q + 1, "=&"), q + 1);
	if (have_db)
		return URL_FAIL("the database is given twice (path and ?db=)", key, shown);
	if (!number(q + 4, strlen(q + 4), INT_MAX, &v))
		return URL_FAIL("database '%s' is not a number from 0 to %d", key, shown, q + 4,
		                INT_MAX);
	u->db = (int)v;
	return 0;
}

static int
parse_userinfo(const char *ui, size_t n, struct rstore_url *u, const char *key,
               const char *shown, struct err *e)
{
	const char *colon = memchr(ui, ':', n);

	if (colon == NULL)
		return URL_FAIL("user info without ':' (a password alone is written "
		                ":password@, with a user user:password@)", key, shown);
	if (pct_decode(ui, (size_t)(colon - ui), u->user, sizeof u->user) < 0)
		return URL_FAIL("bad user name (a %%-escape that is not %%XX, %%00, or over %zu "
		                "bytes)", key, shown, sizeof u->user - 1);
	if (pct_decode(colon + 1, n - (size_t)(colon + 1 - ui), u->password,
	               sizeof u->password) < 0)
		return URL_FAIL("bad password (a %%-escape that is not %%XX, %%00, or over %zu "
		                "bytes; write '%%' as %%25)", key, shown, sizeof u->password - 1);
	if (u->user[0] != '\0' && u->password[0] == '\0')
		return URL_FAIL("user '%s' has no password", key, shown, u->user);
	return 0;
}

static int
parse_tcp(const char *p, struct rstore_url *u, const char *key, const char *shown,
          struct err *e)
{
	const char *hs, *he;
	size_t i;
	long v;

	if (*p == '[') {
		hs = p + 1;
		he = strchr(hs, ']');
		if (he == NULL)
			return URL_FAIL("unclosed '[' in the host", key, shown);
		p = he + 1;
		for (i = 0; hs + i < he; i++)
			if (!isxdigit((unsigned char)hs[i]) && hs[i] != ':' && hs[i] != '.')
				return URL_FAIL("'%.*s' is not an IPv6 address", key, shown,
				                (int)(he - hs), hs);
		if (memchr(hs, ':', (size_t)(he - hs)) == NULL)
			return URL_FAIL("'[%.*s]' is not an IPv6 address", key, shown,
			                (int)(he - hs), hs);
	} else {
		hs = p;
		he = p + strcspn(p, ":/?#");
		p = he;
		for (i = 0; hs + i < he; i++) {
			char c = hs[i];

			if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
			    !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_')
				return URL_FAIL("character '%c' is not allowed in a host name "
				                "(letters, digits, '-', '.', '_'; [v6] for IPv6)",
				                key, shown, c);
		}
	}
	if (url_part(u->host, sizeof u->host, hs, (size_t)(he - hs), "host",
	             "redis://host:port/db", key, shown, e) < 0)
		return -1;
	u->port = 6379;
	if (*p == ':') {
		size_t pl = strcspn(p + 1, "/?#");

		if (pl == 0)
			return URL_FAIL("empty port after ':'", key, shown);
		if (!number(p + 1, pl, 65535, &v) || v == 0)
			return URL_FAIL("port '%.*s' is not a number from 1 to 65535", key, shown,
			                (int)pl, p + 1);
		u->port = (int)v;
		p += 1 + pl;
	}
	if (*p == '/') {
		size_t dl = strcspn(p + 1, "?#");

		if (dl > 0 && !number(p + 1, dl, INT_MAX, &v))
			return URL_FAIL("database '%.*s' is not a number from 0 to %d", key, shown,
			                (int)dl, p + 1, INT_MAX);
		u->db = dl > 0 ? (int)v : 0;
		p += 1 + dl;
		if (*p == '?')
			return parse_query(p, u, dl > 0, key, shown, e);
	} else if (*p == '?') {
		return parse_query(p, u, false, key, shown, e);
	}
	if (*p != '\0')
		return URL_FAIL("unexpected '%c' after host[:port][/db] (no fragments)", key, shown,
		                *p);
	return 0;
}

int
rstore_url_parse(const char *url, const char *key, struct rstore_url *u, struct err *e)
{
	char shown[300];
	const char *rest, *p;
	ssize_t ul;
	bool bad;
	size_t i, pl;

	memset(u, 0, sizeof *u);
	key = key != NULL ? key : "redis";
	if (url == NULL || url[0] == '\0')
		return err_set(e, ERR_USAGE, "key '%s': empty (use redis://host:port/db or "
		               "unix:///path/to/socket)", key);
	shown_url(url, shown, sizeof shown);
	for (i = 0; url[i] != '\0'; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
			return URL_FAIL("blanks or control characters (in a password, write them "
			                "%%-escaped: a blank is %%20)", key, shown);
	if (strncasecmp(url, "redis://", 8) == 0) {
		rest = url + 8;
	} else if (strncasecmp(url, "unix://", 7) == 0) {
		rest = url + 7;
		u->unix_socket = true;
	} else if (strncasecmp(url, "rediss://", 9) == 0) {
		return URL_FAIL("TLS to Redis (rediss://) is not supported: hiredis 0.14 has no "
		                "TLS; use redis:// to a Redis on loopback or a private network, "
		                "or unix://", key, shown);
	} else if ((p = strstr(url, "://")) != NULL) {
		return URL_FAIL("unknown scheme '%.*s' (use redis:// or unix://)", key, shown,
		                (int)(p - url), url);
	} else {
		return URL_FAIL("not a Redis URL (use redis://host:port/db or "
		                "unix:///path/to/socket)", key, shown);
	}
	ul = userinfo_len(rest, u->unix_socket, &bad);
	if (bad)
		return URL_FAIL("unix:// is followed by /path or by user:password@/path", key,
		                shown);
	if (ul >= 0) {
		if (parse_userinfo(rest, (size_t)ul, u, key, shown, e) < 0)
			return -1;
		rest += ul + 1;
	}
	if (!u->unix_socket)
		return parse_tcp(rest, u, key, shown, e);
	pl = strcspn(rest, "?");
	if (url_part(u->path, sizeof u->path, rest, rest[0] == '/' && pl > 1 ? pl : 0,
	             "socket path", "unix:///path/to/socket", key, shown, e) < 0)
		return -1;
	if (rest[pl] == '?')
		return parse_query(rest + pl, u, false, key, shown, e);
	return 0;
}

void
rstore_url_label(const struct rstore_url *u, char *buf, size_t len)
{
	char auth[160] = "";

	if (u->password[0] != '\0')
		snprintf(auth, sizeof auth, "%s:***@", u->user);
	if (u->unix_socket) {
		if (u->db != 0)
			snprintf(buf, len, "unix://%s%s?db=%d", auth, u->path, u->db);
		else
			snprintf(buf, len, "unix://%s%s", auth, u->path);
	} else {
		bool v6 = strchr(u->host, ':') != NULL;

		snprintf(buf, len, "redis://%s%s%s%s:%d/%d", auth, v6 ? "[" : "", u->host,
		         v6 ? "]" : "", u->port, u->db);
	}
}

/* ---- life cycle -------------------------------------------------------------- */

static int
opt(int v, int def)
{
	return v == 0 ? def : v;
}

int
rstore_init(struct rstore **out, const char *url, const struct rstore_opts *opts,
            struct err *e)
{
	static const struct rstore_opts none;
	struct rstore *rs;
	const char *key;

	*out = NULL;
	if (opts == NULL)
		opts = &none;
	key = opts->key != NULL ? opts->key : "redis";
	if ((rs = calloc(1, sizeof *rs)) == NULL)
		return err_set(e, ERR_FAIL, "key '%s': out of memory", key);
	if (rstore_url_parse(url, key, &rs->url, e) < 0)
		goto fail;
	rs->timeout_ms = opt(opts->timeout_ms, 50);
	rs->pool_size = opt(opts->pool_size, 8);
	rs->backoff_min_ms = opt(opts->backoff_min_ms, 100);
	rs->backoff_max_ms = opt(opts->backoff_max_ms, 5000);
	rs->log_interval_ms = opt(opts->log_interval_ms, 60000);
	rs->bytes_per_ms = opt(opts->bytes_per_ms, 65536);
	rs->max_value = opts->max_value;
	if (rs->max_value > SIZE_MAX / 2) {
		err_set(e, ERR_USAGE, "key '%s': max_value %zu is too large", key, rs->max_value);
		goto fail;
	}
	rs->max_reply = rs->max_value > 0 ? rs->max_value + REPLY_SLACK : 0;
	if (rs->timeout_ms < 1 || rs->timeout_ms > 60000) {
		err_set(e, ERR_USAGE, "redis_timeout: %d ms is not in 1 ms..60 s", rs->timeout_ms);
		goto fail;
	}
	if (rs->pool_size < 1 || rs->pool_size > 1024) {
		err_set(e, ERR_USAGE, "redis_pool_size: %d is not in 1..1024", rs->pool_size);
		goto fail;
	}
	if (rs->backoff_min_ms < 1 || rs->backoff_max_ms > 3600000 ||
	    rs->backoff_min_ms > rs->backoff_max_ms) {
		err_set(e, ERR_USAGE, "redis backoff: %d..%d ms must be within 1 ms..1 h and "
		        "rising", rs->backoff_min_ms, rs->backoff_max_ms);
		goto fail;
	}
	rstore_url_label(&rs->url, rs->label, sizeof rs->label);
	pthread_mutex_init(&rs->mu, NULL);
	pthread_condattr_init(&rs->cattr);
	pthread_condattr_setclock(&rs->cattr, CLOCK_MONOTONIC);
	rs->state = RSTORE_STATE_UNKNOWN;
	rs->rng = (uint64_t)now_ms() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)rs;
	rs->rng |= 1;
	rs->still_logged = rs->reply_logged = INT64_MIN / 2;
	*out = rs;
	return 0;
fail:
	free(rs);
	return -1;
}

static void
conn_close(struct rconn *k)
{
	if (k->c != NULL)
		redisFree(k->c);
	k->c = NULL;
}

void
rstore_free(struct rstore *rs)
{
	struct rconn *k;

	if (rs == NULL)
		return;
	assert(rs->open == rs->nidle); /* no call running */
	while ((k = rs->idle) != NULL) {
		rs->idle = k->next;
		conn_close(k);
		free(k);
	}
	pthread_condattr_destroy(&rs->cattr);
	pthread_mutex_destroy(&rs->mu);
	free(rs);
}

/* ---- I/O with deadlines ------------------------------------------------------- */

/* Wait for events on fd until the deadline, and never longer than
 * timeout_ms in one go: 1 ready (or an error to be read), 0 timed out, -1
 * poll failed. */
static int
wait_fd(int fd, short events, int64_t deadline, int timeout_ms)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int rc;

		if (left < 0)
			left = 0; /* one last look: the thread may have been descheduled */
		if (left > timeout_ms)
			left = timeout_ms;
		rc = poll(&p, 1, (int)left);
		if (rc > 0)
			return 1;
		if (rc == 0)
			return 0;
		if (errno != EINTR || left == 0)
			return -1;
	}
}

static int
fail_set(struct fail *f, enum fclass cls, bool retryable, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
fail_set(struct fail *f, enum fclass cls, bool retryable, const char *fmt, ...)
{
	va_list ap;

	f->cls = cls;
	f->fatal = false;
	f->retryable = retryable;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof f->why, fmt, ap);
	va_end(ap);
	return -1;
}

/* A command: argv[i][0..lens[i]) for i < argc, argument tail_arg (when
 * not 0) followed by tail[0..tail_len). */
struct cmd {
	int argc;
	const void *const *argv;
	const size_t *lens;
	const char *name;         /* for messages */
	bool sized_reply;         /* a bulk reply: extend the deadline by its size */
	bool want_string;         /* GET, GETRANGE: an array reply is a protocol error */
	size_t max_bulk;          /* GET: a longer bulk reply is FC_TOOBIG (0: none) */
	int tail_arg;
	const void *tail;
	size_t tail_len;
};

/* Write cmd in RESP, from the caller's buffers.  The frame: "*argc\r\n",
 * then per argument "$len\r\n" data "\r\n"; each argument's header is
 * merged with the CRLF that ends the one before. */
static int
send_cmd(struct rstore *rs, struct rconn *k, const struct cmd *cm, int64_t deadline,
         struct fail *f)
{
	char hsmall[SMALL_ARGC][HDR_MAX], *hdr = hsmall[0];
	struct iovec vsmall[2 * SMALL_ARGC + 2], *iov = vsmall;
	size_t niov = 0, idx = 0;
	int i, fd = k->c->fd, rc = -1;

	if (cm->argc > SMALL_ARGC) {
		hdr = malloc((size_t)cm->argc * HDR_MAX);
		iov = malloc((2 * (size_t)cm->argc + 2) * sizeof *iov);
		if (hdr == NULL || iov == NULL) {
			fail_set(f, FC_IO, false, "%s: out of memory framing %d arguments", cm->name,
			         cm->argc);
			goto out;
		}
	}
	for (i = 0; i < cm->argc; i++) {
		char *h = hdr + (size_t)i * HDR_MAX;
		bool tail = i > 0 && i == cm->tail_arg && cm->tail_len > 0;
		size_t len = cm->lens[i] + (tail ? cm->tail_len : 0);
		int hl = i == 0 ? snprintf(h, HDR_MAX, "*%d\r\n$%zu\r\n", cm->argc, len)
		                : snprintf(h, HDR_MAX, "\r\n$%zu\r\n", len);

		iov[niov].iov_base = h;
		iov[niov++].iov_len = (size_t)hl;
		iov[niov].iov_base = (void *)(uintptr_t)cm->argv[i];
		iov[niov++].iov_len = cm->lens[i];
		if (tail) {
			iov[niov].iov_base = (void *)(uintptr_t)cm->tail;
			iov[niov++].iov_len = cm->tail_len;
		}
	}
	iov[niov].iov_base = (void *)(uintptr_t)"\r\n";
	iov[niov++].iov_len = 2;
	while (idx < niov) {
		struct msghdr m = { .msg_iov = iov + idx,
		                    .msg_iovlen = niov - idx < IOV_CHUNK ? niov - idx : IOV_CHUNK };
		ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);

		if (w < 0) {
			int ready;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				fail_set(f, FC_IO, errno == EPIPE || errno == ECONNRESET,
				         "%s: sending: %s", cm->name, strerror(errno));
				goto out;
			}
			ready = wait_fd(fd, POLLOUT, deadline, rs->timeout_ms);
			if (ready == 0) {
				fail_set(f, FC_TIMEOUT, false, "%s: timed out sending (%d ms)",
				         cm->name, rs->timeout_ms);
				goto out;
			}
			if (ready < 0) {
				fail_set(f, FC_IO, false, "%s: poll: %s", cm->name, strerror(errno));
				goto out;
			}
			continue;
		}
		while (idx < niov && (size_t)w >= iov[idx].iov_len) {
			w -= (ssize_t)iov[idx].iov_len;
			idx++;
		}
		if (idx < niov) {
			iov[idx].iov_base = (char *)iov[idx].iov_base + w;
			iov[idx].iov_len -= (size_t)w;
		}
	}
	rc = 0;
out:
	if (hdr != hsmall[0])
		free(hdr);
	if (iov != vsmall)
		free(iov);
	return rc;
}

/* The size of a bulk reply from its first bytes ("$123\r\n"), or -1 (up
 * to 18 digits: more would overflow, and no value is that large). */
static long long
bulk_size(const char *p, size_t n)
{
	long long v = 0;
	size_t i;

	if (n < 3 || p[0] != '$')
		return -1;
	for (i = 1; i < n && i < 19 && p[i] >= '0' && p[i] <= '9'; i++)
		v = v * 10 + (p[i] - '0');
	return i > 1 && i < n && p[i] == '\r' ? v : -1;
}

static bool
big_reply(const redisReply *r)
{
	return (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_ERROR) &&
	       r->len > BIG_REPLY;
}

/* Read one reply into *out.  A bulk reply (cm->sized_reply) moves the
 * deadline by the allowance for its size, once its header is in.  With
 * max_reply set, a reply announced or grown larger is refused before
 * hiredis buffers it (the connection is then out of sync: the caller
 * closes it), and so is an array where a string is wanted. */
static int
read_reply(struct rstore *rs, struct rconn *k, const struct cmd *cm, int64_t deadline,
           redisReply **out, struct fail *f)
{
	redisContext *c = k->c;
	char head[24];
	size_t hn = 0, got = 0;
	bool any = false, headed = false;
	bool sized = !cm->sized_reply || rs->bytes_per_ms < 0;

	for (;;) {
		void *r = NULL;
		ssize_t n;

		if (any && redisGetReplyFromReader(c, &r) != REDIS_OK)
			return fail_set(f, FC_IO, false, "%s: protocol error: %s", cm->name,
			                c->errstr);
		if (r != NULL) {
			*out = r;
			/* the reader keeps a buffer as large as the reply until its
			 * next one: give a large one back now */
			if (big_reply(r) && c->reader->pos == c->reader->len) {
				redisReader *fresh = redisReaderCreate();

				if (fresh != NULL) {
					redisReaderFree(c->reader);
					c->reader = fresh;
				}
			}
			return 0;
		}
		n = recv(c->fd, k->buf, sizeof k->buf, 0);
		if (n > 0) {
			any = true;
			got += (size_t)n;
			if (!headed) {
				size_t m = (size_t)n < sizeof head - hn ? (size_t)n : sizeof head - hn;
				long long size;

				memcpy(head + hn, k->buf, m);
				hn += m;
				size = bulk_size(head, hn);
				if (size >= 0 || hn == sizeof head || head[0] != '$') {
					headed = true;
					if (cm->want_string && head[0] == '*')
						return fail_set(f, FC_IO, false, "%s: protocol error: "
						                "an array where a string was expected",
						                cm->name);
					if (cm->max_bulk > 0 && size > (long long)cm->max_bulk)
						return fail_set(f, FC_TOOBIG, false, "%s: a value of "
						                "%lld bytes (the limit is %zu)",
						                cm->name, size, cm->max_bulk);
					if (rs->max_reply > 0 && size > (long long)rs->max_reply)
						return fail_set(f, FC_IO, false, "%s: a reply of %lld "
						                "bytes (the limit is %zu)", cm->name,
						                size, rs->max_reply);
					if (!sized && size > 0)
						deadline += size / rs->bytes_per_ms;
				}
			}
			if (rs->max_reply > 0 && got > rs->max_reply)
				return fail_set(f, FC_IO, false, "%s: a reply over %zu bytes",
				                cm->name, rs->max_reply);
			if (redisReaderFeed(c->reader, k->buf, (size_t)n) != REDIS_OK)
				return fail_set(f, FC_IO, false, "%s: reader: %s", cm->name,
				                c->reader->errstr);
			continue;
		}
		if (n == 0)
			return fail_set(f, FC_IO, !any, "%s: connection closed by Redis", cm->name);
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int w = wait_fd(c->fd, POLLIN, deadline, rs->timeout_ms);

			if (w == 0)
				return fail_set(f, FC_TIMEOUT, false, "%s: no reply within %d ms",
				                cm->name, rs->timeout_ms);
			if (w < 0)
				return fail_set(f, FC_IO, false, "%s: poll: %s", cm->name,
				                strerror(errno));
			continue;
		}
		return fail_set(f, FC_IO, !any && errno == ECONNRESET, "%s: reading: %s",
		                cm->name, strerror(errno));
	}
}

/* Error replies after which Redis serves nothing on this connection. */
static bool
fatal_reply(const char *s)
{
	static const char *const pre[] = { "LOADING", "BUSY", "MASTERDOWN", "NOAUTH",
	                                   "WRONGPASS", "ERR max number of clients",
	                                   "ERR Protocol error" };
	size_t i;

	for (i = 0; i < sizeof pre / sizeof pre[0]; i++)
		if (strncmp(s, pre[i], strlen(pre[i])) == 0)
			return true;
	return false;
}

/* Send cm and read its reply.  An error reply is a failure (FC_REPLY, with
 * fatal set for the server-wide ones); *out is then NULL. */
static int
exchange(struct rstore *rs, struct rconn *k, const struct cmd *cm, int64_t deadline,
         redisReply **out, struct fail *f)
{
	*out = NULL;
	if (send_cmd(rs, k, cm, deadline, f) < 0 || read_reply(rs, k, cm, deadline, out, f) < 0)
		return -1;
	if ((*out)->type == REDIS_REPLY_ERROR) {
		fail_set(f, FC_REPLY, false, "%s: %.*s", cm->name, (int)(*out)->len, (*out)->str);
		f->fatal = fatal_reply((*out)->str);
		freeReplyObject(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* A command whose reply must be +OK (AUTH, SELECT). */
static int
setup_cmd(struct rstore *rs, struct rconn *k, int argc, const void *const *argv,
          const size_t *lens, const char *name, int64_t deadline, struct fail *f)
{
	struct cmd cm = { .argc = argc, .argv = argv, .lens = lens, .name = name };
	redisReply *r;
	bool ok;

	if (exchange(rs, k, &cm, deadline, &r, f) < 0) {
		if (f->cls == FC_REPLY) { /* "AUTH: WRONGPASS ..." -> "AUTH failed: WRONGPASS ..." */
			char said[sizeof f->why];

			memcpy(said, f->why, sizeof said);
			snprintf(f->why, sizeof f->why, "%s failed:%s", name, strchr(said, ' '));
			f->fatal = true;
		}
		return -1;
	}
	ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
	freeReplyObject(r);
	if (!ok)
		return fail_set(f, FC_IO, false, "%s: unexpected reply", name);
	return 0;
}

/* Connect k within the deadline: TCP or unix, then AUTH and SELECT. */
static int
conn_open(struct rstore *rs, struct rconn *k, int64_t deadline, struct fail *f)
{
	const struct rstore_url *u = &rs->url;
	int64_t left = deadline - now_ms();
	struct timeval tv;
	redisContext *c;
	int fl;

	if (left <= 0)
		return fail_set(f, FC_TIMEOUT, false, "connect: no time left (%d ms)",
		                rs->timeout_ms);
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	c = u->unix_socket ? redisConnectUnixWithTimeout(u->path, tv)
	                   : redisConnectWithTimeout(u->host, u->port, tv);
	if (c == NULL)
		return fail_set(f, FC_IO, false, "connect: out of memory");
	k->c = c;
	if (c->err)
		return fail_set(f, strstr(c->errstr, "timed out") ? FC_TIMEOUT : FC_IO, false,
		                "connect: %s", c->errstr);
	/* our poll() loops drive it; no child process inherits it */
	fl = fcntl(c->fd, F_GETFL);
	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(c->fd, F_SETFD, FD_CLOEXEC) < 0)
		return fail_set(f, FC_IO, false, "connect: fcntl: %s", strerror(errno));
	if (u->password[0] != '\0') {
		const void *av[3] = { "AUTH", u->user, u->password };
		size_t al[3] = { 4, strlen(u->user), strlen(u->password) };
		int argc = 3;

		if (u->user[0] == '\0') { /* AUTH password */
			av[1] = av[2];
			al[1] = al[2];
			argc = 2;
		}
		if (setup_cmd(rs, k, argc, av, al, "AUTH", deadline, f) < 0)
			return -1;
	}
	if (u->db != 0) {
		char db[16];
		const void *av[2] = { "SELECT", db };
		size_t al[2] = { 6, (size_t)snprintf(db, sizeof db, "%d", u->db) };

		if (setup_cmd(rs, k, 2, av, al, "SELECT", deadline, f) < 0)
			return -1;
	}
	COUNT(rs, connects);
	return 0;
}

/* Is this idle connection closed, or holding bytes nobody asked for? */
static bool
idle_broken(struct rconn *k)
{
	struct pollfd p = { .fd = k->c->fd, .events = POLLIN };

	return poll(&p, 1, 0) != 0;
}

/* ---- the pool and the state ------------------------------------------------- */

enum took { TOOK_NONE, TOOK_CONN, TOOK_SLOT, TOOK_FAST, TOOK_BUSY };

/* A call in line for a connection.  It lives on the caller's stack and is
 * in rs->wq from take() until it is served. */
struct waiter {
	struct waiter *next;
	enum took got;            /* TOOK_NONE until served */
	struct rconn *conn;       /* TOOK_CONN */
	uint64_t gen;             /* TOOK_SLOT: the generation when granted */
	bool probe;               /* TOOK_SLOT: this call is the probe */
	bool sleeping;            /* cv is set up and waited on */
	pthread_cond_t cv;
};

static int
jitter_locked(struct rstore *rs, int b)
{
	rs->rng ^= rs->rng << 13;
	rs->rng ^= rs->rng >> 7;
	rs->rng ^= rs->rng << 17;
	return b / 2 + (int)(rs->rng % (uint64_t)(b - b / 2 + 1));
}

/* Under rs->mu: serve the waiting calls, oldest first, with what is free.
 * Up: an idle connection, else a slot to open one in, else they wait
 * (first come, first served: a call that gives a connection back cannot
 * take it again ahead of those waiting).  Down: all fail fast, but the
 * first when the backoff is over and a slot is free: it is the probe. */
static void
serve_locked(struct rstore *rs)
{
	struct waiter *w;
	int64_t now = 0;

	while ((w = rs->wq) != NULL) {
		if (rs->state == RSTORE_STATE_DOWN) {
			if (now == 0)
				now = now_ms();
			if (!rs->probing && now >= rs->retry_at && rs->open < rs->pool_size) {
				w->got = TOOK_SLOT;
				w->gen = rs->gen;
				w->probe = rs->probing = true;
				rs->open++;
			} else {
				w->got = TOOK_FAST;
			}
		} else if (rs->idle != NULL) {
			w->got = TOOK_CONN;
			w->conn = rs->idle;
			rs->idle = w->conn->next;
			rs->nidle--;
		} else if (rs->open < rs->pool_size) {
			w->got = TOOK_SLOT;
			w->gen = rs->gen;
			rs->open++;
		} else {
			break;
		}
		rs->wq = w->next;
		if (rs->wq == NULL)
			rs->wq_tail = NULL;
		if (w->sleeping)
			pthread_cond_signal(&w->cv);
	}
}

/* Under rs->mu: take w out of the line (it timed out). */
static void
unqueue_locked(struct rstore *rs, struct waiter *w)
{
	struct waiter **pp, *prev = NULL;

	for (pp = &rs->wq; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			if (rs->wq_tail == w)
				rs->wq_tail = prev;
			return;
		}
	}
}

/* Get in line and wait until the deadline for a connection from the pool,
 * or a slot to open one in (its generation in *gen), or word that Redis
 * is down (TOOK_FAST).  TOOK_BUSY: nothing came free in time.  *waited:
 * the call had to sleep for it. */
static enum took
take(struct rstore *rs, int64_t deadline, struct rconn **out, uint64_t *gen, bool *probe,
     bool *waited)
{
	struct waiter w = { .got = TOOK_NONE };

	pthread_mutex_lock(&rs->mu);
	if (rs->wq_tail != NULL)
		rs->wq_tail->next = &w;
	else
		rs->wq = &w;
	rs->wq_tail = &w;
	serve_locked(rs);
	*waited = w.got == TOOK_NONE;
	if (w.got == TOOK_NONE) {
		struct timespec ts = { deadline / 1000, (deadline % 1000) * 1000000 };

		pthread_cond_init(&w.cv, &rs->cattr);
		w.sleeping = true;
		while (w.got == TOOK_NONE) {
			if (now_ms() >= deadline) {
				unqueue_locked(rs, &w);
				w.got = TOOK_BUSY;
				break;
			}
			pthread_cond_timedwait(&w.cv, &rs->mu, &ts);
		}
		pthread_cond_destroy(&w.cv);
	}
	pthread_mutex_unlock(&rs->mu);
	*out = w.conn;
	*gen = w.got == TOOK_CONN ? w.conn->gen : w.gen;
	*probe = w.probe;
	return w.got;
}

/* Under rs->mu: the line for the transition to up, into msg. */
static void
up_locked(struct rstore *rs, char *msg, size_t len, const char **ev)
{
	int64_t now = now_ms();

	if (rs->state == RSTORE_STATE_DOWN)
		snprintf(msg, len, "redis=%s down_ms=%lld failed_fast=%llu attempts=%llu",
		         log_q(rs->label), (long long)(now - rs->down_since),
		         __atomic_load_n(&rs->n.fail_fast, __ATOMIC_RELAXED) - rs->fast_at_down,
		         rs->attempts + 1);
	else
		snprintf(msg, len, "redis=%s", log_q(rs->label));
	*ev = "redis.up";
	rs->state = RSTORE_STATE_UP;
	rs->backoff_ms = 0;
	rs->attempts = 0;
}

/* Give k back after a reply came (reply_err: a non-fatal error reply, or
 * NULL), or closed when drop (the reply was refused unread, so the
 * connection is out of sync).  A probe's reply, or the first reply after
 * init, marks the store up. */
static void
put(struct rstore *rs, struct rconn *k, bool probe, const char *reply_err, bool drop)
{
	char msg[512];
	const char *ev = NULL;
	int lvl = LOG_LVL_INFO;
	bool keep;

	pthread_mutex_lock(&rs->mu);
	if (probe)
		rs->probing = false;
	if (k->gen == rs->gen && rs->state != RSTORE_STATE_UP)
		up_locked(rs, msg, sizeof msg, &ev);
	keep = k->gen == rs->gen && rs->state == RSTORE_STATE_UP && !drop;
	if (keep) {
		k->next = rs->idle;
		rs->idle = k;
		rs->nidle++;
	} else {
		rs->open--;
	}
	if (reply_err != NULL) {
		int64_t now = now_ms();

		rs->reply_unlogged++;
		snprintf(rs->last_error, sizeof rs->last_error, "%s", reply_err);
		if (ev == NULL && rs->log_interval_ms >= 0 &&
		    now - rs->reply_logged >= rs->log_interval_ms) {
			snprintf(msg, sizeof msg, "redis=%s count=%llu error=%s", log_q(rs->label),
			         rs->reply_unlogged, log_q(reply_err));
			ev = "redis.error_reply";
			lvl = LOG_LVL_WARN;
			rs->reply_logged = now;
			rs->reply_unlogged = 0;
		}
	}
	serve_locked(rs);
	pthread_mutex_unlock(&rs->mu);
	if (ev != NULL)
		LOG_AT(lvl, ev, "%s", msg);
	if (!keep) {
		conn_close(k);
		free(k);
	}
}

/* Give back a failed connection (or slot: k may be NULL) and close it.
 * When it belongs to the current generation and the failure is Redis's
 * (blame), Redis is down: every idle connection is closed too, and the
 * backoff starts (or, after a failed probe, doubles). */
static void
put_failed(struct rstore *rs, struct rconn *k, uint64_t gen, bool probe, bool blame,
           const struct fail *f)
{
	struct rconn *drop = NULL;
	char msg[512];
	const char *ev = NULL;
	int lvl = LOG_LVL_WARN;
	int64_t now = now_ms();
	bool went_down = false;
	int delay;

	pthread_mutex_lock(&rs->mu);
	if (probe)
		rs->probing = false;
	rs->open--;
	snprintf(rs->last_error, sizeof rs->last_error, "%s", f->why);
	if (blame && gen == rs->gen) {
		if (rs->state != RSTORE_STATE_DOWN) {
			rs->state = RSTORE_STATE_DOWN;
			rs->gen++;
			rs->down_since = rs->still_logged = now;
			rs->attempts = 0;
			rs->fast_at_down = __atomic_load_n(&rs->n.fail_fast, __ATOMIC_RELAXED);
			rs->backoff_ms = rs->backoff_min_ms;
			drop = rs->idle;
			rs->idle = NULL;
			rs->open -= rs->nidle;
			rs->nidle = 0;
			COUNT(rs, downs);
			ev = "redis.down";
			went_down = true;
		} else {
			rs->attempts++;
			rs->backoff_ms = rs->backoff_ms > rs->backoff_max_ms / 2 ? rs->backoff_max_ms
			                                                        : rs->backoff_ms * 2;
			ev = "redis.attempt_failed";
			lvl = LOG_LVL_DEBUG;
			if (rs->log_interval_ms >= 0 && now - rs->still_logged >= rs->log_interval_ms) {
				ev = "redis.still_down";
				lvl = LOG_LVL_WARN;
				rs->still_logged = now;
			}
		}
		delay = jitter_locked(rs, rs->backoff_ms);
		rs->retry_at = now + delay;
		snprintf(msg, sizeof msg, "redis=%s reason=%s retry_in_ms=%d", log_q(rs->label),
		         log_q(f->why), delay);
		if (!went_down) { /* still_down, attempt_failed: how long, how many */
			size_t l = strlen(msg);

			snprintf(msg + l, sizeof msg - l,
			         " down_ms=%lld attempts=%llu failed_fast=%llu",
			         (long long)(now - rs->down_since), rs->attempts + 1,
			         __atomic_load_n(&rs->n.fail_fast, __ATOMIC_RELAXED) -
			             rs->fast_at_down);
		}
	}
	serve_locked(rs);
	pthread_mutex_unlock(&rs->mu);
	if (ev != NULL)
		LOG_AT(lvl, ev, "%s", msg);
	if (k != NULL) {
		conn_close(k);
		free(k);
	}
	while (drop != NULL) {
		k = drop;
		drop = k->next;
		conn_close(k);
		free(k);
	}
}

/* ---- calls ---------------------------------------------------------------------- */

/* Run cm through the pool: take a connection (or open one), exchange,
 * give it back.  payload: value bytes sent (for the deadline).  Returns 0
 * with *out (the caller frees it), or -1 with f (f->cls 0: failed fast or
 * the pool stayed busy), counted. */
static int
run(struct rstore *rs, const struct cmd *cm, size_t payload, redisReply **out,
    struct fail *f)
{
	int64_t deadline = now_ms() + rs->timeout_ms, t_io = 0;
	int64_t t_us = now_us();
	struct rconn *k;
	uint64_t gen;
	bool probe, reused, waited, blame;
	int tries;

	COUNT(rs, calls);
	*out = NULL;
	f->cls = 0;
	f->why[0] = '\0';
	if (rs->bytes_per_ms > 0)
		deadline += (int64_t)(payload / (size_t)rs->bytes_per_ms);
	switch (take(rs, deadline, &k, &gen, &probe, &waited)) {
	case TOOK_FAST:
		COUNT(rs, fail_fast);
		COUNT(rs, unavailable);
		return -1;
	case TOOK_BUSY:
		COUNT(rs, pool_timeouts);
		COUNT(rs, unavailable);
		snprintf(f->why, sizeof f->why, "all %d connections busy for %d ms",
		         rs->pool_size, rs->timeout_ms);
		return -1;
	case TOOK_CONN:
		if (idle_broken(k)) {
			COUNT(rs, stale);
			conn_close(k);
		}
		break;
	case TOOK_SLOT:
		k = malloc(sizeof *k);
		if (k == NULL) {
			fail_set(f, FC_IO, false, "out of memory for a connection");
			goto failed;
		}
		k->c = NULL;
		k->gen = gen;
		break;
	case TOOK_NONE:
		assert(!"take() serves every call");
	}
	t_io = now_ms();
	for (tries = 0;; tries++) {
		reused = k->c != NULL;
		if (!reused && conn_open(rs, k, deadline, f) < 0) {
			COUNT(rs, connect_failures);
			goto failed;
		}
		if (exchange(rs, k, cm, deadline, out, f) == 0)
			break;
		if (f->cls == FC_REPLY && !f->fatal) {
			COUNT(rs, reply_errors);
			COUNT(rs, unavailable);
			put(rs, k, probe, f->why, false);
			return -1;
		}
		if (f->cls == FC_TOOBIG) { /* Redis answered: only the value is bad */
			put(rs, k, probe, NULL, true);
			lat_count(rs, now_us() - t_us);
			return -1;
		}
		if (!(reused && f->retryable && tries == 0))
			goto failed;
		/* Redis closed this pooled connection as we sent: once more, anew */
		COUNT(rs, stale);
		conn_close(k);
	}
	put(rs, k, probe, NULL, false);
	lat_count(rs, now_us() - t_us);
	return 0;
failed:
	/* A call that waited for its connection and then ran out of time had
	 * less than half a timeout for Redis: no verdict on Redis. */
	blame = !(waited && f->cls == FC_TIMEOUT && deadline - t_io < rs->timeout_ms / 2);
	if (!blame)
		COUNT(rs, pool_timeouts);
	else if (f->cls == FC_TIMEOUT)
		COUNT(rs, timeouts);
	else if (f->cls == FC_REPLY)
		COUNT(rs, reply_errors);
	else
		COUNT(rs, io_errors);
	COUNT(rs, unavailable);
	put_failed(rs, k, gen, probe, blame, f);
	return -1;
}

/* A reply of a type the command never gives: count it as a protocol error
 * (the connection was already given back; the next call sorts it out). */
static enum rstore_res
odd_reply(struct rstore *rs, redisReply *r)
{
	freeReplyObject(r);
	COUNT(rs, io_errors);
	COUNT(rs, unavailable);
	return RSTORE_UNAVAILABLE;
}

enum rstore_res
rstore_get(struct rstore *rs, const void *key, size_t klen, char **val, size_t *vlen)
{
	char end[24];
	const void *av[4] = { "GET", key, "0", end };
	size_t al[4] = { 3, klen, 1, 0 };
	struct cmd cm = { .argc = 2, .argv = av, .lens = al, .name = "GET", .sized_reply = true,
	                  .want_string = true, .max_bulk = rs->max_value };
	struct fail f;
	redisReply *r;

	*val = NULL;
	*vlen = 0;
	if (rs->max_value > 0) { /* Redis moves max_value + 1 bytes at most */
		av[0] = cm.name = "GETRANGE";
		al[0] = 8;
		al[3] = (size_t)snprintf(end, sizeof end, "%zu", rs->max_value);
		cm.argc = 4;
	}
	if (run(rs, &cm, 0, &r, &f) < 0) {
		if (f.cls != FC_TOOBIG)
			return RSTORE_UNAVAILABLE;
		COUNT(rs, too_large);
		return RSTORE_TOO_LARGE;
	}
	if (r->type == REDIS_REPLY_NIL || (rs->max_value > 0 && r->type == REDIS_REPLY_STRING &&
	                                   r->len == 0)) {
		freeReplyObject(r);
		COUNT(rs, misses);
		return RSTORE_ABSENT;
	}
	if (r->type != REDIS_REPLY_STRING)
		return odd_reply(rs, r);
	/* hiredis allocates str with malloc (hi_malloc): the caller's now */
	*val = r->str;
	*vlen = r->len;
	r->str = NULL;
	freeReplyObject(r);
	COUNT(rs, hits);
	return RSTORE_OK;
}

enum rstore_res
rstore_getrange(struct rstore *rs, const void *key, size_t klen, size_t start, size_t end,
                void *buf, size_t cap, size_t *n)
{
	char a[24], b[24];
	const void *av[4] = { "GETRANGE", key, a, b };
	size_t al[4] = { 8, klen, 0, 0 };
	struct cmd cm = { .argc = 4, .argv = av, .lens = al, .name = "GETRANGE",
	                  .want_string = true };
	redisReply *r;
	struct fail f;

	*n = 0;
	al[2] = (size_t)snprintf(a, sizeof a, "%zu", start);
	al[3] = (size_t)snprintf(b, sizeof b, "%zu", end);
	if (run(rs, &cm, 0, &r, &f) < 0)
		return RSTORE_UNAVAILABLE;
	if (r->type != REDIS_REPLY_STRING)
		return odd_reply(rs, r);
	/* a missing key and a range past its end both read as "" */
	if (r->len == 0) {
		freeReplyObject(r);
		COUNT(rs, misses);
		return RSTORE_ABSENT;
	}
	*n = r->len < cap ? r->len : cap;
	memcpy(buf, r->str, *n);
	freeReplyObject(r);
	COUNT(rs, hits);
	return RSTORE_OK;
}

enum rstore_res
rstore_set_tail(struct rstore *rs, const void *key, size_t klen, const void *val, size_t vlen,
                const void *tail, size_t tlen, int64_t ttl_ms)
{
	char ttl[24];
	const void *av[5] = { "SET", key, val, "PX", ttl };
	size_t al[5] = { 3, klen, vlen, 2, 0 };
	struct cmd cm = { .argc = ttl_ms > 0 ? 5 : 3, .argv = av, .lens = al, .name = "SET",
	                  .tail_arg = 2, .tail = tail, .tail_len = tlen };
	struct fail f;
	redisReply *r;
	bool ok;

	assert(ttl_ms >= 0);
	assert(tlen == 0 || tail != NULL);
	al[4] = (size_t)snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
	if (run(rs, &cm, vlen + tlen, &r, &f) < 0)
		return RSTORE_UNAVAILABLE;
	ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
	if (!ok)
		return odd_reply(rs, r);
	freeReplyObject(r);
	return RSTORE_OK;
}

enum rstore_res
rstore_set(struct rstore *rs, const void *key, size_t klen, const void *val, size_t vlen,
           int64_t ttl_ms)
{
	return rstore_set_tail(rs, key, klen, val, vlen, NULL, 0, ttl_ms);
}

enum rstore_res
rstore_del(struct rstore *rs, const void *const *keys, const size_t *lens, size_t n,
           long long *deleted)
{
	const void **av;
	size_t *al, i;
	struct cmd cm;
	struct fail f;
	redisReply *r;
	int rc;

	if (deleted != NULL)
		*deleted = 0;
	if (n == 0)
		return RSTORE_OK;
	if (n >= INT_MAX / 2)
		return RSTORE_UNAVAILABLE;
	av = malloc((n + 1) * sizeof *av);
	al = malloc((n + 1) * sizeof *al);
	if (av == NULL || al == NULL) {
		free(av);
		free(al);
		COUNT(rs, calls);
		COUNT(rs, io_errors);
		COUNT(rs, unavailable);
		return RSTORE_UNAVAILABLE;
	}
	av[0] = "DEL";
	al[0] = 3;
	for (i = 0; i < n; i++) {
		av[i + 1] = keys[i];
		al[i + 1] = lens[i];
	}
	cm = (struct cmd){ .argc = (int)n + 1, .argv = av, .lens = al, .name = "DEL" };
	rc = run(rs, &cm, 0, &r, &f);
	free(av);
	free(al);
	if (rc < 0)
		return RSTORE_UNAVAILABLE;
	if (r->type != REDIS_REPLY_INTEGER)
		return odd_reply(rs, r);
	if (deleted != NULL)
		*deleted = r->integer;
	freeReplyObject(r);
	return RSTORE_OK;
}

int
rstore_ping(struct rstore *rs, struct err *e)
{
	const void *av[1] = { "PING" };
	size_t al[1] = { 4 };
	struct cmd cm = { .argc = 1, .argv = av, .lens = al, .name = "PING" };
	struct fail f;
	redisReply *r;
	bool ok;

	if (run(rs, &cm, 0, &r, &f) == 0) {
		ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
		if (!ok) {
			odd_reply(rs, r);
			return err_set(e, ERR_FAIL, "%s: PING: unexpected reply", rs->label);
		}
		freeReplyObject(r);
		return 0;
	}
	if (f.why[0] == '\0') { /* failed fast: say why from the state */
		int64_t now = now_ms();

		pthread_mutex_lock(&rs->mu);
		err_set(e, ERR_FAIL, "%s: down for %lld ms (%s), next attempt in %lld ms",
		        rs->label, (long long)(now - rs->down_since), rs->last_error,
		        (long long)(rs->retry_at > now ? rs->retry_at - now : 0));
		pthread_mutex_unlock(&rs->mu);
		return -1;
	}
	return err_set(e, ERR_FAIL, "%s: %s", rs->label, f.why);
}

void
rstore_stats(struct rstore *rs, struct rstore_stats *st)
{
	const struct counters *n = &rs->n;

	memset(st, 0, sizeof *st);
#define LD(f) st->f = __atomic_load_n(&n->f, __ATOMIC_RELAXED)
	LD(calls);
	LD(hits);
	LD(misses);
	LD(too_large);
	LD(unavailable);
	LD(fail_fast);
	LD(pool_timeouts);
	LD(timeouts);
	LD(io_errors);
	LD(reply_errors);
	LD(connects);
	LD(connect_failures);
	LD(stale);
	LD(downs);
	LD(lat_sum_us);
	for (int i = 0; i < RSTORE_LAT_N; i++)
		LD(lat[i]);
#undef LD
	pthread_mutex_lock(&rs->mu);
	st->state = rs->state;
	st->open = rs->open;
	st->idle = rs->nidle;
	st->backoff_ms = rs->state == RSTORE_STATE_DOWN ? rs->backoff_ms : 0;
	st->down_for_ms = rs->state == RSTORE_STATE_DOWN ? now_ms() - rs->down_since : 0;
	snprintf(st->last_error, sizeof st->last_error, "%s", rs->last_error);
	pthread_mutex_unlock(&rs->mu);
}

enum rstore_res
rstore_command(struct rstore *rs, int argc, const void *const *argv, const size_t *lens,
               struct redisReply **reply)
{
	struct cmd cm = { .argc = argc, .argv = argv, .lens = lens, .name = "command",
	                  .sized_reply = true };
	struct fail f;

	*reply = NULL;
	if (run(rs, &cm, 0, reply, &f) < 0)
		return RSTORE_UNAVAILABLE;
	if ((*reply)->type == REDIS_REPLY_ERROR) {
		freeReplyObject(*reply);
		*reply = NULL;
		COUNT(rs, reply_errors);
		COUNT(rs, unavailable);
		return RSTORE_UNAVAILABLE;
	}
	return RSTORE_OK;
}
