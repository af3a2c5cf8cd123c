/*
 * org_cgi.c: CGI/1.1 scripts (RFC 3875) under cgi_bin.
 *
 * Model: one request, one child process.  org_cgi_handle forks and execs
 * the script in a process group of its own (working directory: the
 * script's directory; environment: org_env_build; default signal
 * dispositions, empty signal mask, nothing open but 0/1/2), then pumps:
 * with poll() it writes the request body to the script's stdin while it
 * reads stdout and stderr, so a script that answers before it reads its
 * input, or never reads it, cannot deadlock with origind.  Once stdout
 * holds a complete response head (lib/cgihdr.c), the head becomes the MHD
 * response's status and fields and the rest of stdout is streamed by a
 * content-reader callback that keeps the same pump running (the body
 * keeps flowing to stdin, stderr keeps being logged, one cgi.stderr line
 * per line).  cgi_timeout bounds the whole run, from fork to the end of
 * the stream: past it the process group gets SIGKILL and the request a
 * 504, or, once the head is sent, a truncated (error-ended) stream.
 *
 * However the request ends (complete, failed, timed out, client gone,
 * HEAD, response never queued), the end is the same function, run_end:
 * it kills whatever is left of the script's process group (SIGKILL, sent
 * before the leader is reaped so that its pid, the group's id, cannot
 * have been reused), reaps the script and closes the pipes.  A script's
 * background processes therefore never outlive its request.
 *
 * Threads: everything runs on the connection's thread (MHD thread-per-
 * connection, so the reader may block in poll).  A struct cgi_run belongs
 * to org_cgi_handle until the response exists, then to the response (its
 * free callback).  Between fork and execve the child calls only
 * async-signal-safe functions.  Every descriptor is O_CLOEXEC, so scripts
 * forked by other connections' threads do not inherit our pipes.  This
 * file assumes that SIGCHLD keeps its default disposition (not SIG_IGN,
 * no SA_NOCLDWAIT) and that no other thread waits for any child (-1):
 * each script is reaped here, by pid.  SIGPIPE needs no process-wide
 * setting: writes to stdin block it for the thread and consume it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgihdr.h"
#include "log.h"
#include "org.h"
#include "upath.h"

#define BLOCK_SIZE      (16 * 1024)           /* MHD's read size for the body */
#define HEAD_CAP        (CGI_MAX_HEAD + BLOCK_SIZE) /* stdout kept before the head ends */
#define STDIN_CHUNK     (64 * 1024)
#define ERR_LINE_MAX    1024                  /* longer stderr lines are logged in pieces */
#define ERR_LINES_MAX   1000                  /* stderr lines logged per request */
#define EXIT_GRACE_MS   1000                  /* wait for an exit after stdout's EOF */

enum { PUMP_ERROR = -2, PUMP_TIMEOUT = -1, PUMP_EOF = 0, PUMP_DATA = 1 };

struct cgi_run {
	pid_t pid;              /* the script, leader of its group; -1: none */
	int in, out, err;       /* our ends of its stdin/stdout/stderr; -1: closed */
	struct org_req *r;      /* bytes_out; used only before run_end */
	const char *body;       /* r's body, fed to stdin */
	size_t body_len, body_off;
	long long timeout_ms, deadline_ms; /* deadline on the monotonic clock */
	char *head;             /* stdout read up to and with the head */
	size_t head_len;        /* bytes in head */
	size_t sent;            /* bytes of head[] past the head already streamed */
	size_t head_used;       /* the response head's length in head[] */
	char errline[ERR_LINE_MAX + 1];
	size_t errlen;
	unsigned errlines;
	char id[sizeof ((struct org_req *)0)->id];
	char script[256];       /* script_name, for log lines */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
closefd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Decode one search word at *q (up to '+' or the end) into *p, moving
 * both on (past the '+', past the word's NUL).  false when the word is
 * empty or holds a bad escape or %00. */
static bool
decode_word(const char **q, char **p)
{
	const char *s = *q;
	char *d = *p;

	if (*s == '+' || *s == '\0')
		return false;
	for (; *s != '+' && *s != '\0'; s++) {
		if (*s == '%') {
			int hi = upath_hexval((unsigned char)s[1]);
			int lo = hi < 0 ? -1 : upath_hexval((unsigned char)s[2]);

			if (lo < 0 || (hi | lo) == 0)
				return false;
			*d++ = (char)(hi * 16 + lo);
			s += 2;
		} else {
			*d++ = *s;
		}
	}
	*d++ = '\0';
	*q = *s == '+' ? s + 1 : s;
	*p = d;
	return true;
}

/* argv for execve: the script, then (RFC 3875 4.4) the search words of a
 * query without an unencoded '=': "a+b%20c" gives "a", "b c".  When a
 * word cannot be made (empty, bad escape, %00) there are no words at all,
 * as 4.4 asks.  One malloc'd block; NULL when out of memory. */
static char **
build_argv(const char *script, const char *query)
{
	size_t nw = 0, qlen = 0, slen = strlen(script), w;
	char **argv, *p;
	const char *q = query;

	if (query != NULL && *query != '\0' && strchr(query, '=') == NULL) {
		qlen = strlen(query);
		nw = 1;
		for (; *q; q++)
			nw += *q == '+';
	}
	argv = malloc((nw + 2) * sizeof *argv + slen + 1 + qlen + 1);
	if (argv == NULL)
		return NULL;
	p = (char *)(argv + nw + 2);
	memcpy(p, script, slen + 1);
	argv[0] = p;
	p += slen + 1;
	argv[nw + 1] = NULL;
	for (w = 1, q = query; w <= nw; w++) {
		argv[w] = p;
		if (!decode_word(&q, &p)) {
			argv[1] = NULL; /* execve stops at the first NULL */
			break;
		}
	}
	return argv;
}

/* The directory part of an absolute path, malloc'd ("/" for "/x"). */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* ---- the child ------------------------------------------------------------ */

/* Async-signal-safe: a fixed message and errno in decimal, on stderr
 * (by then the pipe to origind's log), then exit 127 ("cannot run"). */
static void __attribute__((noreturn))
child_fail(const char *step, int errnum)
{
	static const char pre[] = "origind: cannot run the CGI script: ";
	static const char mid[] = " failed, errno ";
	char num[16];
	size_t n = sizeof num;
	unsigned v = (unsigned)errnum;
	ssize_t ign;

	num[--n] = '\n';
	do {
		num[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && n > 0);
	ign = write(2, pre, sizeof pre - 1);
	ign = write(2, step, strlen(step));
	ign = write(2, mid, sizeof mid - 1);
	ign = write(2, num + n, sizeof num - n);
	(void)ign;
	_exit(127);
}

/* Between fork and execve: only async-signal-safe calls (and syscall(),
 * a bare system call).  fds[] are the
 * child's ends of stdin, stdout, stderr (O_CLOEXEC, any numbers). */
static void __attribute__((noreturn))
child(const char *path, const char *dir, char *const argv[], char *const envp[],
      const int fds[3], int maxfd)
{
	static const struct sigaction dfl; /* SIG_DFL, empty mask, no flags */
	/* the kernel's struct sigaction, all zero (SIG_DFL, no flags, empty
	 * mask, whatever the architecture's field order), for the signals
	 * glibc keeps for itself (32, 33): they may come ignored from our
	 * parent (GNU make ignores them) and glibc's sigaction refuses them */
	static const unsigned long kdfl[8];
	sigset_t none;
	int i, moved[3];

	(void)setpgid(0, 0);
	for (i = 1; i < NSIG; i++)
		if (sigaction(i, &dfl, NULL) < 0 && i != SIGKILL && i != SIGSTOP)
			(void)syscall(SYS_rt_sigaction, i, kdfl, NULL, (size_t)(NSIG - 1) / 8);
	/* first above 2 (so that no dup2 below overwrites another's source),
	 * then into place; dup2's copies are not close-on-exec */
	for (i = 0; i < 3; i++) {
		moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (moved[i] < 0)
			child_fail("fcntl", errno);
	}
	for (i = 0; i < 3; i++)
		if (dup2(moved[i], i) < 0)
			child_fail("dup2", errno);
	if (close_range(3, ~0U, 0) < 0)
		for (i = 3; i < maxfd; i++)
			(void)close(i);
	if (chdir(dir) < 0)
		child_fail("chdir", errno);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, argv, envp);
	child_fail("execve", errno);
}

/* Fork the script, its stdio on three new pipes; our ends go to c.
 * Signals are blocked around fork so that none of origind's handlers
 * runs in the child before it has reset them. */
static int
run_start(struct cgi_run *c, const char *path, const char *dir, char **argv,
          char **envp, struct org_reply *out)
{
	int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } }, kid[3], i, maxfd = 65536;
	int rc = -1, saved;
	struct rlimit rl;
	sigset_t all, old;

	for (i = 0; i < 3; i++)
		if (pipe2(p[i], O_CLOEXEC) < 0) {
			snprintf(out->detail, sizeof out->detail, "pipe: %s", strerror(errno));
			goto close_pipes;
		}
	kid[0] = p[0][0];
	kid[1] = p[1][1];
	kid[2] = p[2][1];
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (1u << 20))
		maxfd = (int)rl.rlim_cur;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	c->pid = fork();
	if (c->pid == 0)
		child(path, dir, argv, envp, kid, maxfd);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (c->pid < 0) {
		snprintf(out->detail, sizeof out->detail, "fork: %s", strerror(saved));
		goto close_pipes;
	}
	/* also here: kill(-pid) must find the group even if the child has
	 * not run yet (EACCES once it has exec'd: it had set it itself) */
	(void)setpgid(c->pid, c->pid);
	c->in = p[0][1];
	c->out = p[1][0];
	c->err = p[2][0];
	p[0][1] = p[1][0] = p[2][0] = -1;
	for (i = 0; i < 3; i++) {
		int fd = i == 0 ? c->in : i == 1 ? c->out : c->err;

		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	}
	if (c->body_len == 0)
		closefd(&c->in);
	rc = 0;
close_pipes:
	for (i = 0; i < 3; i++) {
		closefd(&p[i][0]);
		closefd(&p[i][1]);
	}
	return rc;
}

/* ---- the pump ------------------------------------------------------------ */

static void
err_emit(struct cgi_run *c)
{
	size_t i;

	if (c->errlen > 0 && c->errline[c->errlen - 1] == '\r')
		c->errlen--;
	for (i = 0; i < c->errlen; i++)
		if (c->errline[i] == '\0')
			c->errline[i] = '?';
	c->errline[c->errlen] = '\0';
	c->errlen = 0;
	if (c->errlines < ERR_LINES_MAX)
		LOG_WARN("cgi.stderr", "id=%s script=%s line=%s", c->id, log_q(c->script),
		         log_q(c->errline));
	else if (c->errlines == ERR_LINES_MAX)
		LOG_WARN("cgi.stderr", "id=%s script=%s dropped=more_than_%d_lines", c->id,
		         log_q(c->script), ERR_LINES_MAX);
	if (c->errlines <= ERR_LINES_MAX)
		c->errlines++;
}

static void
err_feed(struct cgi_run *c, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			err_emit(c);
			continue;
		}
		c->errline[c->errlen++] = buf[i];
		if (c->errlen == ERR_LINE_MAX)
			err_emit(c);
	}
}

/* Read what stderr holds now (a bounded amount); at EOF log the last
 * partial line and close it. */
static void
read_stderr(struct cgi_run *c)
{
	char buf[4096];
	int rounds;

	for (rounds = 0; rounds < 16 && c->err >= 0; rounds++) {
		ssize_t n = read(c->err, buf, sizeof buf);

		if (n > 0) {
			err_feed(c, buf, (size_t)n);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			return;
		} else {
			if (c->errlen > 0)
				err_emit(c);
			closefd(&c->err);
		}
	}
}

/* write() to a pipe whose reader may be gone, without SIGPIPE whatever
 * the process's disposition: blocked for this thread around the call,
 * and the signal the write raised, if any, consumed. */
static ssize_t
write_nosigpipe(int fd, const void *buf, size_t n)
{
	sigset_t pipeset, old;
	static const struct timespec zero;
	ssize_t k;
	int saved;

	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipeset, &old);
	k = write(fd, buf, n);
	saved = errno;
	if (k < 0 && saved == EPIPE && !sigismember(&old, SIGPIPE))
		while (sigtimedwait(&pipeset, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return k;
}

/* Feed stdin what it takes now; close it after the last byte, or when
 * the script closed its end (the rest of the body is dropped). */
static void
write_body(struct cgi_run *c)
{
	while (c->body_off < c->body_len) {
		size_t n = c->body_len - c->body_off;
		ssize_t k = write_nosigpipe(c->in, c->body + c->body_off,
		                            n > STDIN_CHUNK ? STDIN_CHUNK : n);

		if (k > 0) {
			c->body_off += (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return;
		LOG_DEBUG("cgi.stdin", "id=%s script=%s unread=%zu why=%s", c->id,
		          log_q(c->script), c->body_len - c->body_off,
		          log_q(k < 0 ? strerror(errno) : "short write"));
		break;
	}
	closefd(&c->in);
}

/* Wait until stdout has bytes (up to max of them into dst: PUMP_DATA,
 * *got set), reaches EOF (PUMP_EOF), the deadline passes (PUMP_TIMEOUT)
 * or poll/read fail (PUMP_ERROR); meanwhile feed stdin and log stderr. */
static int
pump(struct cgi_run *c, char *dst, size_t max, size_t *got)
{
	if (max == 0)
		return PUMP_ERROR;
	for (;;) {
		struct pollfd p[3];
		nfds_t n = 0, iout, iin = 3, ierr = 3;
		long long left = c->deadline_ms - now_ms();

		if (left <= 0 || ORG_STOPPING())
			return PUMP_TIMEOUT;
		if (left > ORG_POLL_SLICE_MS)
			left = ORG_POLL_SLICE_MS;
		p[n] = (struct pollfd){ .fd = c->out, .events = POLLIN };
		iout = n++;
		if (c->in >= 0) {
			p[n] = (struct pollfd){ .fd = c->in, .events = POLLOUT };
			iin = n++;
		}
		if (c->err >= 0) {
			p[n] = (struct pollfd){ .fd = c->err, .events = POLLIN };
			ierr = n++;
		}
		if (poll(p, n, left > INT_MAX ? INT_MAX : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return PUMP_ERROR;
		}
		if (iin < n && p[iin].revents != 0)
			write_body(c);
		if (ierr < n && p[ierr].revents != 0)
			read_stderr(c);
		if (p[iout].revents != 0) {
			ssize_t k = read(c->out, dst, max);

			if (k > 0) {
				*got = (size_t)k;
				return PUMP_DATA;
			}
			if (k == 0)
				return PUMP_EOF;
			if (errno != EAGAIN && errno != EINTR)
				return PUMP_ERROR;
		}
	}
}

/* Kill what is left of the script's group, reap the script, log the rest
 * of its stderr, close everything, free c.  Any state, any path. */
static void
run_end(struct cgi_run *c)
{
	int st;

	if (c == NULL)
		return;
	if (c->pid > 0) {
		if (kill(-c->pid, SIGKILL) < 0)
			(void)kill(c->pid, SIGKILL);
		while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
			;
		c->pid = -1;
	}
	if (c->err >= 0)
		read_stderr(c); /* what the script wrote before it died */
	if (c->errlen > 0)
		err_emit(c);
	closefd(&c->in);
	closefd(&c->out);
	closefd(&c->err);
	free(c->head);
	free(c);
}

/* A run for r, not started yet; NULL when out of memory. */
static struct cgi_run *
run_new(struct org_req *r, const char *script_name)
{
	struct cgi_run *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->pid = -1;
	c->in = c->out = c->err = -1;
	c->r = r;
	c->body = r->body;
	c->body_len = r->body != NULL ? r->body_len : 0;
	c->timeout_ms = r->srv->o.cgi_timeout;
	c->deadline_ms = now_ms() + c->timeout_ms;
	snprintf(c->id, sizeof c->id, "%s", r->id);
	snprintf(c->script, sizeof c->script, "%s", script_name);
	c->head = malloc(HEAD_CAP);
	if (c->head == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

/* "exit 3", "signal SEGV": how the script ended, from waitid's siginfo. */
static void
describe_end(const siginfo_t *si, char *buf, size_t len)
{
	if (si->si_code == CLD_EXITED) {
		snprintf(buf, len, "exit %d", si->si_status);
	} else {
		const char *abbr = sigabbrev_np(si->si_status);

		if (abbr != NULL)
			snprintf(buf, len, "signal %s", abbr);
		else
			snprintf(buf, len, "signal %d", si->si_status);
	}
}

/* Wait up to ms for the script to end, logging its stderr meanwhile (a
 * script blocked on a full stderr pipe would never end).  It is not
 * reaped (WNOWAIT): run_end kills its group first.  0 and *si when it
 * ended, -1 when it still runs. */
static int
wait_end(struct cgi_run *c, long long ms, siginfo_t *si)
{
	long long end = now_ms() + ms, left;
	int step = 1;

	for (;;) {
		struct pollfd p = { .fd = c->err, .events = POLLIN };

		memset(si, 0, sizeof *si);
		if (waitid(P_PID, (id_t)c->pid, si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si->si_pid == c->pid)
			return 0;
		left = end - now_ms();
		if (left <= 0)
			return -1;
		if (poll(&p, c->err >= 0 ? 1 : 0, left < step ? (int)left : step) > 0)
			read_stderr(c);
		if (step < 32)
			step *= 2;
	}
}

/* ---- the response -------------------------------------------------------- */

static ssize_t
reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct cgi_run *c = cls;
	size_t got = 0;

	(void)pos;
	if (c->head != NULL) {
		/* body bytes that came with the head go first */
		got = c->head_len - c->head_used - c->sent;
		if (got > max)
			got = max;
		memcpy(buf, c->head + c->head_used + c->sent, got);
		c->sent += got;
		if (c->head_used + c->sent == c->head_len) {
			free(c->head);
			c->head = NULL;
		}
		if (got > 0) {
			c->r->bytes_out += got;
			return (ssize_t)got;
		}
	}
	if (c->out < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	switch (pump(c, buf, max, &got)) {
	case PUMP_DATA:
		c->r->bytes_out += got;
		return (ssize_t)got;
	case PUMP_EOF:
		closefd(&c->out);
		return MHD_CONTENT_READER_END_OF_STREAM;
	case PUMP_TIMEOUT:
		LOG_WARN("cgi.timeout", "id=%s script=%s timeout_ms=%lld phase=body "
		         "bytes_out=%llu", c->id, log_q(c->script), c->timeout_ms,
		         (unsigned long long)c->r->bytes_out);
		if (kill(-c->pid, SIGKILL) < 0)
			(void)kill(c->pid, SIGKILL);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	default:
		LOG_WARN("cgi.fail", "id=%s script=%s phase=body why=%s", c->id,
		         log_q(c->script), log_q(strerror(errno)));
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static void
reader_free(void *cls)
{
	run_end(cls);
}

/* MHD wants NUL-terminated strings; it copies them. */
static void
add_field(struct MHD_Response *resp, const struct cgi_run *c, const char *name,
          size_t nlen, const char *value, size_t vlen)
{
	char *s = malloc(nlen + vlen + 2), shown[72];
	bool ok = false;

	if (s != NULL) {
		memcpy(s, name, nlen);
		s[nlen] = '\0';
		memcpy(s + nlen + 1, value, vlen);
		s[nlen + 1 + vlen] = '\0';
		ok = MHD_add_response_header(resp, s, s + nlen + 1) == MHD_YES;
		free(s);
	}
	if (!ok) {
		snprintf(shown, sizeof shown, "%.*s", (int)(nlen < 64 ? nlen : 64), name);
		LOG_WARN("cgi.header", "id=%s script=%s dropped=%s", c->id, log_q(c->script),
		         log_q(shown));
	}
}

/* The response from a parsed head; the rest of stdout is its body.  A
 * local redirect (RFC 3875 6.2.2: Location "/path", no Status) is not
 * reprocessed inside origind: it is answered as a 302 with that Location
 * (cgihdr already gives it 302), which a client follows to the same
 * place; re-dispatching would need main.c's routing, for one round trip
 * saved.  The Status reason phrase is not passed (MHD writes its own). */
static struct MHD_Response *
make_response(struct cgi_run *c, const struct cgi_head *h)
{
	struct MHD_Response *resp;
	size_t i;

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK_SIZE, reader, c,
	                                         reader_free);
	if (resp == NULL)
		return NULL;
	if (h->content_type != NULL)
		add_field(resp, c, "Content-Type", 12, h->content_type, h->content_type_len);
	if (h->location != NULL)
		add_field(resp, c, "Location", 8, h->location, h->location_len);
	for (i = 0; i < h->nfields; i++)
		add_field(resp, c, h->fields[i].name, h->fields[i].nlen, h->fields[i].value,
		          h->fields[i].vlen);
	return resp;
}

/* The script's answer is unusable: 502, logged with out->detail. */
static int
bad_gateway(const struct cgi_run *c, struct org_reply *out)
{
	out->status = 502;
	LOG_WARN("cgi.fail", "id=%s script=%s status=502 why=%s", c->id, log_q(c->script),
	         log_q(out->detail));
	return -1;
}

/* Pump until stdout holds a complete head.  0 with *h filled, else -1
 * with out's status and detail (502, 504) set and the failure logged. */
static int
read_head(struct cgi_run *c, struct cgi_head *h, struct org_reply *out)
{
	struct err e = { 0 };
	siginfo_t si;
	char how[48];
	const char *phase;
	long long left;
	int rc;

	for (;;) {
		size_t got = 0;

		switch (pump(c, c->head + c->head_len, HEAD_CAP - c->head_len, &got)) {
		case PUMP_DATA:
			break;
		case PUMP_TIMEOUT:
			out->status = 504;
			snprintf(out->detail, sizeof out->detail, "no response head within %lld ms",
			         c->timeout_ms);
			LOG_WARN("cgi.timeout", "id=%s script=%s timeout_ms=%lld phase=head",
			         c->id, log_q(c->script), c->timeout_ms);
			return -1;
		case PUMP_EOF:
			phase = c->head_len == 0 ? "before output" : "before the end of its head";
			left = c->deadline_ms - now_ms();
			if (wait_end(c, left < 0 ? 0 : left < EXIT_GRACE_MS ? left : EXIT_GRACE_MS,
			             &si) == 0) {
				describe_end(&si, how, sizeof how);
				snprintf(out->detail, sizeof out->detail, "%s %s", how, phase);
			} else {
				snprintf(out->detail, sizeof out->detail, "closed stdout %s", phase);
			}
			return bad_gateway(c, out);
		default:
			snprintf(out->detail, sizeof out->detail, "reading stdout: %s",
			         strerror(errno));
			return bad_gateway(c, out);
		}
		c->head_len += got;
		if (c->head_len < CGI_MAX_HEAD &&
		    memchr(c->head + c->head_len - got, '\n', got) == NULL)
			continue; /* no new line: the parse cannot change */
		rc = cgi_head_parse(c->head, c->head_len, h, &e);
		if (rc == 1) {
			c->head_used = h->head_len;
			return 0;
		}
		if (rc < 0) {
			snprintf(out->detail, sizeof out->detail, "malformed header: %s", e.msg);
			return bad_gateway(c, out);
		}
	}
}

/* Run the script for r (see org.h).  Returns once the head is parsed:
 * out->resp streams the rest and owns the child; or out->resp is NULL,
 * out->status 500/502/504 with out->detail, and the child is reaped. */
void
org_cgi_handle(struct org_req *r, const char *script_filename, const char *script_name,
               const char *path_info, struct org_reply *out)
{
	char **env, **argv, *dir;
	struct cgi_run *c;
	struct cgi_head h;

	out->status = 500;
	out->resp = NULL;
	out->detail[0] = '\0';
	env = org_env_build(r, script_name, path_info, script_filename);
	argv = build_argv(script_filename, r->query);
	dir = dir_of(script_filename);
	c = run_new(r, script_name);
	if (env == NULL || argv == NULL || dir == NULL || c == NULL) {
		snprintf(out->detail, sizeof out->detail, "out of memory");
		LOG_WARN("cgi.fail", "id=%s script=%s status=500 why=out_of_memory", r->id,
		         log_q(script_name));
		goto end_run;
	}
	if (run_start(c, script_filename, dir, argv, env, out) < 0) {
		LOG_WARN("cgi.fail", "id=%s script=%s status=500 why=%s", c->id,
		         log_q(c->script), log_q(out->detail));
		goto end_run;
	}
	LOG_DEBUG("cgi.start", "id=%s script=%s pid=%ld", c->id, log_q(c->script),
	          (long)c->pid);
	if (read_head(c, &h, out) < 0)
		goto end_run;
	out->resp = make_response(c, &h);
	if (out->resp == NULL) {
		snprintf(out->detail, sizeof out->detail, "cannot create the response");
		goto end_run;
	}
	out->status = h.status;
	goto free_args; /* c belongs to the response now */
end_run:
	run_end(c);
free_args:
	free(dir);
	free(argv);
	org_env_free(env);
}
