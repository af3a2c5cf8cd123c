/*
 * edg_alog.c: the access log, one line per request in CloudFront's
 * standard log format (lib/cflog.c formats; see edg_ops.h for the calls).
 *
 * Request threads never touch the file.  edg_alog_request() formats the
 * line on the request's own thread (libmicrohttpd's completed callback,
 * where the request's header fields can still be read) and appends it to
 * a bounded queue: access_log_queue lines, and at most ALOG_MAX_BYTES of
 * text so that long cookies cannot pile up without limit.  A full queue
 * drops the line and counts it, and one warn line at most every 10 s says
 * how many were dropped: logged by the request thread that drops when the
 * last warning is old enough (the writer may be the thing that is stuck,
 * in a write to a full disk or pipe), else by the writer once it is due.
 *
 * One writer thread takes the queued lines in batches and writes each
 * batch with one write(2) to a file opened with O_APPEND, so that a batch
 * lands whole at the end of the file even if something else appends too.
 * A line waits at most ALOG_FLUSH_MS (or less when a batch fills up).  The
 * queue lock is held only to move line pointers, never during I/O.
 *
 * SIGUSR1 (edg_alog_reopen, from the main thread) asks the writer to
 * reopen the path: the lines queued before the signal are written to the
 * old file first (they belong to the period that was rotated), then the
 * new file is opened (and given the header when it is empty) and the old
 * descriptor closed.  A failed open keeps the old descriptor, with a warn
 * line: nothing is lost either way.  "-" (standard output) always gets
 * the header at start and is never reopened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cflog.h"
#include "edg.h"
#include "edg_ops.h"
#include "log.h"
#include "srv.h"

#define ALOG_FLUSH_MS 100           /* longest a line waits in the queue */
#define ALOG_BATCH_LINES 512        /* ... or until this many are queued (at most
                                     * half the queue) */
#define ALOG_BATCH_BYTES (256 * 1024)
#define ALOG_TAKE 1024              /* lines per write(2) */
#define ALOG_MAX_BYTES (64u << 20)  /* queued text, whatever the line count */
#define ALOG_WARN_MS 10000          /* one drop / write-error warning per 10 s */

struct alog_line {
	char *p;
	size_t n;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;          /* the writer waits here (CLOCK_MONOTONIC) */
	bool cv_init;
	/* under mu */
	struct alog_line *ring;
	size_t cap, head, count;    /* head: the oldest line */
	size_t batch;               /* lines that wake the writer early */
	size_t bytes;
	int64_t oldest_ms;          /* when the oldest queued line arrived */
	bool stop, reopen;
	/* read without mu (atomic) */
	bool accepting;
	unsigned long long written, dropped;
	unsigned long long unreported; /* drops not yet in a warn line */
	int64_t last_warn_ms;       /* the last drop warning */
	/* set by edg_alog_open, then the writer's alone */
	bool started;
	pthread_t thr;
	int fd;
	bool torn;                  /* a failed write left half a line in the file */
	bool is_stdout;
	char *path;
	struct edg_server *srv;
} A = { .mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

static int64_t
mono_ms(void)
{
	return edg_now_ms();
}

/* ---- the file ----------------------------------------------------------------- */

/* Write all of p[0..n): 0, or -1 with errno (and *done, when not NULL,
 * the bytes that did go out). */
static int
write_some(int fd, const char *p, size_t n, size_t *done)
{
	size_t w = 0;

	while (w < n) {
		ssize_t k = write(fd, p + w, n - w);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (done != NULL)
				*done = w;
			return -1;
		}
		w += (size_t)k;
	}
	if (done != NULL)
		*done = w;
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	return write_some(fd, p, n, NULL);
}

/* The #Version / #Fields lines when fd is a new or empty file, or not a
 * regular file at all (a pipe, a terminal: the reader starts with us). */
static int
header_if_empty(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (S_ISREG(st.st_mode) && st.st_size > 0)
		return 0;
	return write_all(fd, cflog_header, strlen(cflog_header));
}

/* Open path for appending (0640: the log holds addresses and cookies),
 * with the header if it is empty.  The descriptor, or -1 with errno. */
static int
open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	int saved;

	if (fd < 0)
		return -1;
	if (header_if_empty(fd) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* SIGUSR1, on the writer thread: the new file in, the old one out. */
static void
reopen_now(void)
{
	int fd = open_log(A.path);

	if (fd < 0) {
		LOG_WARN("access_log.reopen_failed", "file=%s error=%s msg=\"still writing to the "
		         "file open before\"", log_q(A.path), log_q(strerror(errno)));
		return;
	}
	close(A.fd);
	A.fd = fd;
	A.torn = false;
	LOG_INFO("access_log.reopened", "file=%s", log_q(A.path));
}

/* One batch in one write(2).  The lines are freed.  Returns how many
 * could not be written (whole or in part). */
static size_t
write_batch(struct alog_line *b, size_t k, char **wbuf, size_t *wcap)
{
	size_t i, total = 0, off = 0, done = 0, bad = 0;

	/* end the line a failed write cut, so that the next ones parse */
	if (A.torn) {
		if (write_all(A.fd, "\n", 1) < 0) {
			for (i = 0; i < k; i++)
				free(b[i].p);
			return k;
		}
		A.torn = false;
	}
	for (i = 0; i < k; i++)
		total += b[i].n;
	if (total > *wcap) {
		char *np = realloc(*wbuf, total);

		if (np == NULL) {
			/* no room to join them: one write each, still whole lines */
			for (i = 0; i < k; i++) {
				if (write_some(A.fd, b[i].p, b[i].n, &done) < 0) {
					bad++;
					A.torn = A.torn || done > 0;
				}
				free(b[i].p);
			}
			return bad;
		}
		*wbuf = np;
		*wcap = total;
	}
	for (i = 0; i < k; i++) {
		memcpy(*wbuf + off, b[i].p, b[i].n);
		off += b[i].n;
		free(b[i].p);
	}
	if (write_some(A.fd, *wbuf, total, &done) == 0)
		return 0;
	/* the lines wholly written count as written */
	for (i = 0, off = 0; i < k && off + b[i].n <= done; i++)
		off += b[i].n;
	A.torn = done > off;
	return k - i;
}

/* The warn line for the drops not yet reported, unless one was logged
 * less than ALOG_WARN_MS ago.  Any thread: the compare-and-swap on the
 * time picks one when several drop at once. */
static void
report_drops(int64_t now)
{
	int64_t prev = __atomic_load_n(&A.last_warn_ms, __ATOMIC_RELAXED);
	unsigned long long n;

	if (now - prev < ALOG_WARN_MS || __atomic_load_n(&A.unreported, __ATOMIC_RELAXED) == 0)
		return;
	if (!__atomic_compare_exchange_n(&A.last_warn_ms, &prev, now, false, __ATOMIC_RELAXED,
	                                 __ATOMIC_RELAXED))
		return;
	n = __atomic_exchange_n(&A.unreported, 0ULL, __ATOMIC_RELAXED);
	if (n > 0)
		LOG_WARN("access_log.dropped", "lines=%llu total=%llu queue=%zu msg=\"the "
		         "access-log queue was full (access_log_queue); lines dropped\"", n,
		         __atomic_load_n(&A.dropped, __ATOMIC_RELAXED), A.cap);
}

/* ---- the writer thread ---------------------------------------------------------- */

static void
wait_until(int64_t deadline_ms)
{
	struct timespec ts;
	int64_t now = mono_ms();

	if (deadline_ms <= now)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)((deadline_ms - now) / 1000);
	ts.tv_nsec += (long)((deadline_ms - now) % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&A.cv, &A.mu, &ts);
}

static void *
writer_main(void *arg)
{
	static struct alog_line batch[ALOG_TAKE]; /* one writer thread; 16 KiB off its stack */
	char *wbuf = NULL;
	size_t wcap = 0;
	bool reopening = false;     /* a SIGUSR1 waits for the old file's lines */
	size_t for_old = 0;         /* lines still due to the old file */
	bool werr_warned = false;
	int64_t last_werr = 0;
	int werr = 0;
	unsigned long long werr_lines = 0;

	(void)arg;
	pthread_mutex_lock(&A.mu);
	for (;;) {
		int64_t now = mono_ms();
		bool flush;

		if (A.reopen && !reopening) {
			A.reopen = false;
			reopening = true;
			for_old = A.count;
		}
		flush = A.stop || (reopening && for_old > 0) || A.count >= A.batch ||
		        A.bytes >= ALOG_BATCH_BYTES ||
		        (A.count > 0 && now >= A.oldest_ms + ALOG_FLUSH_MS);
		if (A.count > 0 && flush) {
			size_t k = 0, bad;

			while (k < ALOG_TAKE && A.count > 0 && (!reopening || k < for_old)) {
				batch[k] = A.ring[A.head];
				A.ring[A.head].p = NULL;
				A.head = (A.head + 1) % A.cap;
				A.count--;
				A.bytes -= batch[k].n;
				k++;
			}
			if (reopening)
				for_old -= k;
			if (A.count > 0)
				A.oldest_ms = now; /* the rest is newer: at most one more wait */
			pthread_mutex_unlock(&A.mu);
			bad = write_batch(batch, k, &wbuf, &wcap);
			if (bad > 0 && werr == 0)
				werr = errno;
			__atomic_add_fetch(&A.written, (unsigned long long)(k - bad), __ATOMIC_RELAXED);
			__atomic_add_fetch(&A.dropped, (unsigned long long)bad, __ATOMIC_RELAXED);
			werr_lines += bad;
			pthread_mutex_lock(&A.mu);
			continue;
		}
		if (reopening) {
			reopening = false;
			pthread_mutex_unlock(&A.mu);
			reopen_now();
			pthread_mutex_lock(&A.mu);
			continue;
		}
		if (A.stop && A.count == 0)
			break;
		/* warnings: on the first event, then at most every ALOG_WARN_MS */
		if (__atomic_load_n(&A.unreported, __ATOMIC_RELAXED) > 0 &&
		    now - __atomic_load_n(&A.last_warn_ms, __ATOMIC_RELAXED) >= ALOG_WARN_MS) {
			pthread_mutex_unlock(&A.mu);
			report_drops(now);
			pthread_mutex_lock(&A.mu);
			continue;
		}
		if (werr_lines > 0 && (!werr_warned || now - last_werr >= ALOG_WARN_MS)) {
			unsigned long long n = werr_lines;
			int err = werr;

			werr_lines = 0;
			werr = 0;
			werr_warned = true;
			last_werr = now;
			pthread_mutex_unlock(&A.mu);
			LOG_WARN("access_log.write_failed", "file=%s lines=%llu error=%s",
			         log_q(A.is_stdout ? "-" : A.path), n, log_q(strerror(err)));
			pthread_mutex_lock(&A.mu);
			continue;
		}
		/* sleep until there is something to do */
		if (A.count > 0)
			wait_until(A.oldest_ms + ALOG_FLUSH_MS);
		else if (__atomic_load_n(&A.unreported, __ATOMIC_RELAXED) > 0)
			wait_until(__atomic_load_n(&A.last_warn_ms, __ATOMIC_RELAXED) + ALOG_WARN_MS);
		else if (werr_lines > 0)
			wait_until(last_werr + ALOG_WARN_MS);
		else
			pthread_cond_wait(&A.cv, &A.mu);
	}
	pthread_mutex_unlock(&A.mu);
	free(wbuf);
	if (werr_lines > 0)
		LOG_WARN("access_log.write_failed", "file=%s lines=%llu error=%s",
		         log_q(A.is_stdout ? "-" : A.path), werr_lines, log_q(strerror(werr)));
	return NULL;
}

/* ---- start and stop ----------------------------------------------------------- */

int
edg_alog_open(struct edg_server *srv, const char *path, struct err *e)
{
	pthread_condattr_t ca;
	int saved;

	if (A.started)
		return err_set(e, ERR_USAGE, "key 'access_log': already open");
	A.is_stdout = strcmp(path, "-") == 0;
	A.path = strdup(path);
	if (A.path == NULL)
		return err_set(e, ERR_FAIL, "key 'access_log': out of memory");
	if (A.is_stdout) {
		/* always the header: standard output is often shared (with
		 * stderr, or a collector's pipe across restarts), and the W3C
		 * format lets the directives start a block anywhere */
		A.fd = STDOUT_FILENO;
		if (write_all(A.fd, cflog_header, strlen(cflog_header)) < 0) {
			saved = errno;
			goto fail_open;
		}
	} else {
		A.fd = open_log(path);
		if (A.fd < 0) {
			saved = errno;
			goto fail_open;
		}
	}
	A.cap = srv->o.access_log_queue > 0 ? (size_t)srv->o.access_log_queue : 16;
	A.ring = calloc(A.cap, sizeof *A.ring);
	if (A.ring == NULL) {
		err_set(e, ERR_FAIL, "key 'access_log_queue': cannot allocate %zu entries", A.cap);
		goto fail;
	}
	/* a small queue must not fill up while the writer waits for the
	 * flush interval */
	A.batch = A.cap / 2 < ALOG_BATCH_LINES ? A.cap / 2 : ALOG_BATCH_LINES;
	A.head = A.count = A.bytes = 0;
	A.last_warn_ms = mono_ms() - ALOG_WARN_MS; /* the first drop warns at once */
	A.stop = A.reopen = false;
	A.srv = srv;
	if (!A.cv_init) {
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&A.cv, &ca);
		pthread_condattr_destroy(&ca);
		A.cv_init = true;
	}
	__atomic_store_n(&A.accepting, true, __ATOMIC_RELEASE);
	if (pthread_create(&A.thr, NULL, writer_main, NULL) != 0) {
		__atomic_store_n(&A.accepting, false, __ATOMIC_RELEASE);
		err_set(e, ERR_FAIL, "key 'access_log': cannot start the writer thread");
		goto fail;
	}
	A.started = true;
	srv->access_log = A.path;
	LOG_INFO("access_log.open", "file=%s queue=%zu", log_q(path), A.cap);
	return 0;

fail_open:
	err_set(e, saved == ENOENT || saved == ENOTDIR || saved == EACCES || saved == EISDIR ||
	           saved == EROFS || saved == ELOOP ? ERR_USAGE : ERR_FAIL,
	        "key 'access_log': cannot open %s: %s", path, strerror(saved));
fail:
	if (A.fd >= 0 && !A.is_stdout)
		close(A.fd);
	A.fd = -1;
	free(A.ring);
	A.ring = NULL;
	free(A.path);
	A.path = NULL;
	return -1;
}

void
edg_alog_reopen(void)
{
	if (!A.started)
		return;
	if (A.is_stdout) {
		LOG_INFO("access_log.reopen_skipped", "file=- msg=\"standard output is not reopened\"");
		return;
	}
	pthread_mutex_lock(&A.mu);
	A.reopen = true;
	pthread_cond_signal(&A.cv);
	pthread_mutex_unlock(&A.mu);
}

void
edg_alog_close(void)
{
	size_t i;

	if (!A.started)
		return;
	pthread_mutex_lock(&A.mu);
	__atomic_store_n(&A.accepting, false, __ATOMIC_RELEASE);
	A.stop = true;
	pthread_cond_signal(&A.cv);
	pthread_mutex_unlock(&A.mu);
	pthread_join(A.thr, NULL);
	A.started = false;
	if (!A.is_stdout)
		close(A.fd);
	A.fd = -1;
	for (i = 0; i < A.cap; i++)
		free(A.ring[i].p); /* none left: the writer drained the queue */
	free(A.ring);
	A.ring = NULL;
	LOG_INFO("access_log.closed", "file=%s written=%llu dropped=%llu", log_q(A.path),
	         __atomic_load_n(&A.written, __ATOMIC_RELAXED),
	         __atomic_load_n(&A.dropped, __ATOMIC_RELAXED));
	if (A.srv != NULL && A.srv->access_log == A.path)
		A.srv->access_log = NULL;
	free(A.path);
	A.path = NULL;
}

void
edg_alog_counts(unsigned long long *written, unsigned long long *dropped)
{
	*written = __atomic_load_n(&A.written, __ATOMIC_RELAXED);
	*dropped = __atomic_load_n(&A.dropped, __ATOMIC_RELAXED);
}

/* ---- one request's line ------------------------------------------------------- */

/* Every value of request field name, joined by sep (Cookie and
 * X-Forwarded-For may come in several lines), malloc'd; NULL for none. */
struct collect {
	const char *name;
	const char *sep;
	char *p;
	size_t len;
	bool oom;
};

static enum MHD_Result
collect_cb(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
           const char *value, size_t value_size)
{
	struct collect *c = cls;
	size_t sl = strlen(c->sep), need;
	char *np;

	(void)kind;
	if (key == NULL || value == NULL || strlen(c->name) != key_size ||
	    strncasecmp(key, c->name, key_size) != 0 || c->oom)
		return MHD_YES;
	need = c->len + (c->len > 0 ? sl : 0) + value_size + 1;
	np = realloc(c->p, need);
	if (np == NULL) {
		c->oom = true;
		return MHD_YES;
	}
	c->p = np;
	if (c->len > 0) {
		memcpy(c->p + c->len, c->sep, sl);
		c->len += sl;
	}
	memcpy(c->p + c->len, value, value_size);
	c->len += value_size;
	c->p[c->len] = '\0';
	return MHD_YES;
}

static char *
joined(struct MHD_Connection *conn, const char *name, const char *sep)
{
	struct collect c = { name, sep, NULL, 0, false };

	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, collect_cb, &c);
	return c.p;
}

/* The response head's size when main.c did not record it (head_out 0):
 * the status line, the end of the head, and the fields edged always
 * writes (Date, Via, X-Edge-Request-Id, X-Cache, Content-Type, the
 * framing, Content-Range; Server / Cache-Control / Location on the edge's
 * own answers).  A lower bound: the origin's other fields are not known
 * here any more. */
static uint64_t
head_estimate(const struct edg_req *r)
{
	const char *reason;
	uint64_t n;

	if (r->head_out > 0)
		return r->head_out;
	if (r->status == 0)
		return 0;
	reason = MHD_get_reason_phrase_for(r->status);
	n = sizeof "HTTP/1.1 200 \r\n" - 1 + strlen(reason != NULL ? reason : "");
	n += sizeof "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" - 1;
	n += sizeof "Via: \r\n" - 1 + strlen(r->srv->via);
	n += sizeof "X-Edge-Request-Id: \r\n" - 1 + strlen(r->id);
	if (r->result != NULL)
		n += sizeof "X-Cache: \r\n" - 1 + strlen(r->result);
	if (r->ctype[0] != '\0')
		n += sizeof "Content-Type: \r\n" - 1 + strlen(r->ctype);
	if (r->resp_len >= 0) {
		char d[24];

		n += sizeof "Content-Length: \r\n" - 1 +
		     (uint64_t)snprintf(d, sizeof d, "%lld", r->resp_len);
	} else if (!r->head_only && r->status >= 200 && r->status != 204 && r->status != 304) {
		n += sizeof "Transfer-Encoding: chunked\r\n" - 1;
	}
	if (r->range_start >= 0)
		n += sizeof "Content-Range: bytes -/\r\n" - 1 + 3 * 8; /* three numbers, roughly */
	if (r->local_kind != EDG_LOCAL_NONE) {
		n += sizeof "Cache-Control: no-store\r\nServer: edged\r\n" - 1;
		if (r->location != NULL && r->status == 301)
			n += sizeof "Location: \r\n" - 1 + strlen(r->location);
	}
	return n + 2; /* the empty line */
}

/* CloudFront's detailed type of an origin failure, NULL when the origin
 * did not fail this request. */
static const char *
origin_error(const struct edg_req *r)
{
	if (r->local_kind == EDG_LOCAL_ORIGIN_ERROR) {
		switch (r->fail) {
		case HC_CONNECT:
		case HC_TLS:
		case HC_VERIFY:
			return "OriginConnectError";
		case HC_TIMEOUT:
			/* no exchange began: the connection (or its handshake)
			 * timed out; else the origin was slow to answer */
			return r->began ? "OriginReadError" : "OriginConnectError";
		case HC_PROTOCOL:
			return "OriginInvalidResponseError";
		default:
			return "OriginCommError";
		}
	}
	/* the answer broke off because the origin's body did (r->x is valid
	 * once began, and its fail field from the start) */
	if (r->aborted && r->began && r->x.fail != HC_OK)
		return "OriginReadError";
	return NULL;
}

static enum cflog_local
local_of(unsigned k)
{
	switch (k) {
	case EDG_LOCAL_INVALID: return CFLOG_LOCAL_INVALID;
	case EDG_LOCAL_REDIRECT: return CFLOG_LOCAL_REDIRECT;
	case EDG_LOCAL_DENIED: return CFLOG_LOCAL_DENIED;
	case EDG_LOCAL_ORIGIN_ERROR: return CFLOG_LOCAL_ORIGIN_ERROR;
	default: return CFLOG_LOCAL_NONE;
	}
}

void
edg_alog_request(const struct edg_req *r)
{
	struct cflog_outcome o;
	struct cflog_rec c;
	char ipbuf[64], *cookie, *xff, *line;
	const char *host;
	unsigned port = r->client_port;
	int64_t now;
	size_t n;
	bool dropped = false;

	if (!__atomic_load_n(&A.accepting, __ATOMIC_ACQUIRE))
		return;
	now = mono_ms();
	memset(&c, 0, sizeof c);
	memset(&o, 0, sizeof o);
	o.xcache = r->result;
	o.local = local_of(r->local_kind);
	o.status = r->status;
	o.origin_error = origin_error(r);
	o.aborted = r->aborted;
	cflog_classify(&o, &c.result_type, &c.response_result_type, &c.detailed_result_type);

	/* a request refused before its first access call has no address yet */
	if (r->client_ip[0] == '\0') {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		srv_addr_text(ci ? ci->client_addr : NULL, ipbuf, sizeof ipbuf, &port);
		c.c_ip = ipbuf;
	} else {
		c.c_ip = r->client_ip;
	}
	host = r->host[0] != '\0' ? r->host :
	       MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	cookie = r->srv->o.access_log_cookies ? joined(r->conn, MHD_HTTP_HEADER_COOKIE, "; ")
	                                      : NULL;
	xff = joined(r->conn, "X-Forwarded-For", ", ");

	c.end = time(NULL);
	c.edge_location = r->srv->node;
	c.sc_bytes = head_estimate(r) + r->bytes_out;
	c.method = r->method;
	c.host = host;
	c.target = r->target;
	c.status = r->status;
	c.referer = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_REFERER);
	c.user_agent = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                           MHD_HTTP_HEADER_USER_AGENT);
	c.cookie = cookie;
	c.request_id = r->id;
	c.host_header = host;
	c.protocol = r->tls ? "https" : "http";
	c.cs_bytes = r->bytes_in;
	c.time_taken_ms = now - r->t0;
	c.forwarded_for = xff;
	c.ssl_protocol = r->tls_proto; /* "TLSv1.3", as CloudFront logs it */
	c.ssl_cipher = r->tls_cipher;
	c.protocol_version = r->version != NULL ? r->version : "HTTP/1.1";
	c.c_port = port;
	c.ttfb_ms = r->t_queued > 0 ? r->t_queued - r->t0 : -1;
	c.content_type = r->ctype;
	c.content_len = r->resp_len;
	c.range_start = r->range_start;
	c.range_end = r->range_end;
	if (r->status == 0) {
		/* nothing was answered: edg_queue never ran */
		c.content_len = c.range_start = c.range_end = -1;
		c.ttfb_ms = -1;
	}

	line = cflog_line(&c, &n);
	free(cookie);
	free(xff);
	pthread_mutex_lock(&A.mu);
	if (line == NULL || !__atomic_load_n(&A.accepting, __ATOMIC_RELAXED) ||
	    A.count == A.cap || A.bytes + n > ALOG_MAX_BYTES) {
		dropped = true;
		pthread_cond_signal(&A.cv); /* the writer must drain (and may report) */
	} else {
		A.ring[(A.head + A.count) % A.cap] = (struct alog_line){ line, n };
		if (A.count++ == 0) {
			A.oldest_ms = now;
			pthread_cond_signal(&A.cv);
		} else if (A.count == A.batch ||
		           (A.bytes < ALOG_BATCH_BYTES && A.bytes + n >= ALOG_BATCH_BYTES)) {
			pthread_cond_signal(&A.cv);
		}
		A.bytes += n;
	}
	pthread_mutex_unlock(&A.mu);
	if (dropped) {
		free(line);
		__atomic_add_fetch(&A.dropped, 1ULL, __ATOMIC_RELAXED);
		__atomic_add_fetch(&A.unreported, 1ULL, __ATOMIC_RELAXED);
		report_drops(now);
	}
}
