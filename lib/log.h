/*
 * log.h: structured log lines on stderr.
 *
 * One line per event:  ts=2026-11-28T10:20:30.123Z level=info prog=edged
 * event=cert.loaded file=/etc/edged/edge.pem days_left=89
 * The caller writes the key=value pairs after the event name; values that
 * may hold blanks or quotes go through log_q(), which quotes and escapes
 * them.  The macros test the level before evaluating their arguments, and
 * each line is written with one write(2), so lines from several threads
 * never interleave.  The level may change while threads log (SIGHUP):
 * it is read and written atomically.
 */
#ifndef EDGED_LOG_H
#define EDGED_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern int log_level_cur; /* through log_level_get() and log_set_level() only */

/* Set the program name and level.  fd is where lines go (2 = stderr).
 * Before any other thread logs. */
void log_init(const char *prog, enum log_level level, int fd);
/* Change the level, from any thread, while others log. */
void log_set_level(enum log_level level);

static inline int
log_level_get(void)
{
	return __atomic_load_n(&log_level_cur, __ATOMIC_RELAXED);
}

/* "error", "warn", "info", "debug" -> level; -1 if unknown. */
int log_level_parse(const char *s);
const char *log_level_name(enum log_level level);

void log_write(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vwrite(enum log_level level, const char *event, const char *fmt,
                va_list ap);

/* Quote s for a log value when it needs it (blank, quote, '=', control
 * byte, empty): "a b" -> "\"a b\"".  Returns a pointer into a small
 * per-thread ring of buffers, valid for the next 7 calls in this thread;
 * long values are cut with "...". */
const char *log_q(const char *s);

#define LOG_AT(lvl, ev, ...) \
	do { \
		if (log_level_get() >= (lvl)) \
			log_write((lvl), (ev), __VA_ARGS__); \
	} while (0)
#define LOG_ERROR(ev, ...) LOG_AT(LOG_LVL_ERROR, ev, __VA_ARGS__)
#define LOG_WARN(ev, ...)  LOG_AT(LOG_LVL_WARN, ev, __VA_ARGS__)
#define LOG_INFO(ev, ...)  LOG_AT(LOG_LVL_INFO, ev, __VA_ARGS__)
#define LOG_DEBUG(ev, ...) LOG_AT(LOG_LVL_DEBUG, ev, __VA_ARGS__)

#endif
