/*
 * hrange.c: one byte range (see hrange.h).
 */
#include <stdbool.h>
#include <strings.h>

#include "hrange.h"

static bool
ows(char c)
{
	return c == ' ' || c == '\t';
}

/* 1*DIGIT at *p (at most 18 digits), advancing *p.  -1 when none or too long. */
static int
number(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	while (*p < end && **p >= '0' && **p <= '9') {
		if (*p - s >= 18)
			return -1;
		n = n * 10 + (uint64_t)(**p - '0');
		(*p)++;
	}
	if (*p == s)
		return -1;
	*v = n;
	return 0;
}

enum hrange_res
hrange_parse(const char *v, size_t vlen, uint64_t size, uint64_t *off, uint64_t *len)
{
	const char *p = v, *end = v + vlen;
	uint64_t a, b;
	bool has_last;

	if (vlen < 6 || strncasecmp(v, "bytes=", 6) != 0)
		return HRANGE_IGNORE;
	p += 6;
	while (p < end && ows(*p))
		p++;
	while (end > p && ows(end[-1]))
		end--;
	if (p == end)
		return HRANGE_IGNORE;
	if (*p == '-') { /* suffix-range: the last N bytes */
		p++;
		if (number(&p, end, &b) < 0 || p != end)
			return HRANGE_IGNORE;
		if (b == 0 || size == 0)
			return HRANGE_UNSATISFIABLE;
		if (b > size)
			b = size;
		*off = size - b;
		*len = b;
		return HRANGE_OK;
	}
	if (number(&p, end, &a) < 0 || p == end || *p != '-')
		return HRANGE_IGNORE;
	p++;
	has_last = p < end;
	if (has_last && (number(&p, end, &b) < 0 || b < a))
		return HRANGE_IGNORE;
	if (p != end)
		return HRANGE_IGNORE; /* several ranges (','), or junk */
	if (a >= size)
		return HRANGE_UNSATISFIABLE;
	if (!has_last || b >= size)
		b = size - 1;
	*off = a;
	*len = b - a + 1;
	return HRANGE_OK;
}
