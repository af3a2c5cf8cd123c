/*
 * err.h: the error record every fallible call in edged fills.
 *
 * A function that can fail returns 0 on success or -1 on failure and, on
 * failure, writes one human-readable line into a caller-owned struct err
 * (the hiredis context model).  The line names what failed and where: the
 * file, the key and line, the argument.  code is a small category so that
 * callers can map errors to exit codes without parsing text.
 */
#ifndef EDGED_ERR_H
#define EDGED_ERR_H

#include <stdarg.h>

enum err_code {
	ERR_NONE = 0,
	ERR_USAGE = 2,   /* bad argument, flag or config value: exit 2 */
	ERR_FAIL = 1,    /* the operation itself failed: exit 1 */
};

struct err {
	int code;
	char msg[768];
};

/* Fill e (if not NULL) with code and a printf-formatted message.  Always
 * returns -1 so that callers can write `return err_set(e, ...)`. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix e->msg with a formatted context ("file.pem: " + old message). */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
