/*
 * log.c: see log.h.  State is set once by log_init() before threads start;
 * log_write() only reads it; the level alone may change later
 * (log_set_level(), atomically: the macros read it in every thread).  Each line is formatted into a stack buffer
 * and written with a single write(2) (atomic for lines under PIPE_BUF on
 * pipes, and appended whole on files opened O_APPEND).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int log_level_cur = LOG_LVL_INFO;
static const char *log_prog = "edged";
static int log_fd = 2;

static const char *names[] = { "error", "warn", "info", "debug" };

void
log_init(const char *prog, enum log_level level, int fd)
{
	log_prog = prog;
	log_set_level(level);
	log_fd = fd;
}

void
log_set_level(enum log_level level)
{
	__atomic_store_n(&log_level_cur, (int)level, __ATOMIC_RELAXED);
}

int
log_level_parse(const char *s)
{
	int i;

	for (i = 0; i < 4; i++)
		if (strcasecmp(s, names[i]) == 0)
			return i;
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return (unsigned)level < 4 ? names[level] : "?";
}

const char *
log_q(const char *s)
{
	static __thread char ring[8][256];
	static __thread unsigned next;
	char *out = ring[next++ % 8];
	size_t o = 0, cap = sizeof ring[0];
	const unsigned char *p = (const unsigned char *)s;
	int need;

	if (s == NULL)
		return "-";
	need = (*p == '\0');
	for (; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f)
			need = 1;
	if (!need) {
		snprintf(out, cap, "%s", s);
		if (strlen(s) >= cap)
			memcpy(out + cap - 4, "...", 4);
		return out;
	}
	out[o++] = '"';
	for (p = (const unsigned char *)s; *p && o < cap - 8; p++) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (*p < ' ' || *p == 0x7f) {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p);
		} else {
			out[o++] = (char)*p;
		}
	}
	if (*p) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

void
log_vwrite(enum log_level level, const char *event, const char *fmt, va_list ap)
{
	char line[4096];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int r;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof line, "ts=%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof line - n, ".%03dZ level=%s prog=%s event=%s",
	             (int)(tv.tv_usec / 1000), log_level_name(level), log_prog, event);
	if (r > 0)
		n += (size_t)r;
	if (n < sizeof line - 2 && fmt != NULL && *fmt != '\0') {
		line[n++] = ' ';
		r = vsnprintf(line + n, sizeof line - n, fmt, ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (n > sizeof line - 2)
		n = sizeof line - 2; /* cut, but always end the line */
	line[n++] = '\n';
	/* a failed log write has nowhere to be reported; retry EINTR only */
	while (write(log_fd, line, n) < 0 && errno == EINTR)
		;
}

void
log_write(enum log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, event, fmt, ap);
	va_end(ap);
}
