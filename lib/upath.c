/*
 * upath.c: see upath.h.  One pass: each segment is written '/' first and
 * its escapes normalized as it is copied; when a segment ends and reads
 * "." or "..", it is taken back out (with the segment before it, for
 * "..").
 */
#include <string.h>
#include <strings.h>

#include "upath.h"

int
upath_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Copy s[0..n) to out + *o with 6.2.2.1-2 applied, stopping before the
 * byte stop (-1: none).  Returns the bytes of s consumed, or -1 with *err. */
static long
copy_norm(const char *s, size_t n, char *out, size_t outlen, size_t *o, int stop,
          int *err)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n && (unsigned char)s[i] != stop; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi = -1, lo = -1;

			if (i + 2 < n) {
				hi = upath_hexval((unsigned char)s[i + 1]);
				lo = upath_hexval((unsigned char)s[i + 2]);
			}
			if (hi < 0 || lo < 0) {
				*err = UPATH_BAD_ESCAPE;
				return -1;
			}
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
			if (!unreserved(c)) {
				if (*o + 3 >= outlen) {
					*err = UPATH_NO_ROOM;
					return -1;
				}
				out[(*o)++] = '%';
				out[(*o)++] = hex[c >> 4];
				out[(*o)++] = hex[c & 15];
				continue;
			}
		}
		if (*o + 1 >= outlen) {
			*err = UPATH_NO_ROOM;
			return -1;
		}
		out[(*o)++] = (char)c;
	}
	return (long)i;
}

int
upath_path(const char *p, size_t n, char *out, size_t outlen, size_t *outn)
{
	size_t i = 0, o = 0;
	int err = UPATH_OK;

	if (outlen < 2)
		return UPATH_NO_ROOM;
	if (n == 0) {
		out[0] = '/';
		out[1] = '\0';
		*outn = 1;
		return UPATH_OK;
	}
	if (p[0] != '/')
		return UPATH_NOT_PATH;
	while (i < n) {
		size_t s;
		long used;

		/* p[i] is the '/' that starts a segment */
		if (o + 1 >= outlen)
			return UPATH_NO_ROOM;
		out[o++] = '/';
		s = o;
		i++;
		used = copy_norm(p + i, n - i, out, outlen, &o, '/', &err);
		if (used < 0)
			return err;
		i += (size_t)used;
		if (o - s == 1 && out[s] == '.') {
			o = s - 1;                      /* drop "/." */
		} else if (o - s == 2 && out[s] == '.' && out[s + 1] == '.') {
			o = s - 1;                      /* drop "/.." ... */
			if (o == 0)
				return UPATH_ABOVE_ROOT;
			while (out[o - 1] != '/')       /* ... and the segment before */
				o--;
			o--;
		} else {
			continue;
		}
		/* a dot-segment last: the path ends with the '/' before it */
		if (i >= n)
			out[o++] = '/';
	}
	out[o] = '\0';
	*outn = o;
	return UPATH_OK;
}

int
upath_target(const char *t, size_t n, char *out, size_t outlen, size_t *outn, size_t *pathn)
{
	size_t pl, o;
	const char *q;
	int err = UPATH_OK;

	if ((n >= 7 && strncasecmp(t, "http://", 7) == 0) ||
	    (n >= 8 && strncasecmp(t, "https://", 8) == 0)) {
		size_t a = (size_t)((const char *)memchr(t, ':', n) - t) + 3;

		while (a < n && t[a] != '/' && t[a] != '?')
			a++;
		t += a;
		n -= a;
	} else if (n == 0 || t[0] != '/') {
		return UPATH_NOT_PATH;
	}
	q = memchr(t, '?', n);
	pl = q != NULL ? (size_t)(q - t) : n;
	err = upath_path(t, pl, out, outlen, &o);
	if (err != UPATH_OK)
		return err;
	if (pathn != NULL)
		*pathn = o;
	if (q != NULL) {
		if (o + 1 >= outlen)
			return UPATH_NO_ROOM;
		out[o++] = '?';
		if (copy_norm(q + 1, n - pl - 1, out, outlen, &o, -1, &err) < 0)
			return err;
	}
	out[o] = '\0';
	*outn = o;
	return UPATH_OK;
}

int
upath_escapes(const char *s, size_t n, char *out, size_t outlen, size_t *outn)
{
	size_t o = 0;
	int err = UPATH_OK;

	if (outlen < 1)
		return UPATH_NO_ROOM;
	if (copy_norm(s, n, out, outlen, &o, -1, &err) < 0)
		return err;
	out[o] = '\0';
	*outn = o;
	return UPATH_OK;
}

const char *
upath_strerror(int err)
{
	switch (err) {
	case UPATH_OK:
		return "ok";
	case UPATH_ABOVE_ROOT:
		return "path climbs above the root";
	case UPATH_BAD_ESCAPE:
		return "bad percent-escape";
	case UPATH_NOT_PATH:
		return "not an origin-form or absolute-form target";
	case UPATH_NO_ROOM:
		return "target too long";
	}
	return "invalid target";
}
