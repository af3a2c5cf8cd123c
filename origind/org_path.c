/*
 * org_path.c: request paths to the one form origind routes on (org_path.h).
 *
 * One pass over the target's path, segment by segment: each %XX is
 * decoded as it is read (so %2F ends a segment and %2E%2E is ".."), and a
 * segment is judged when it ends: empty (a '/' run) and "." are dropped,
 * ".." drops the segment before it (or fails: above the root), anything
 * else is kept.  Segments are written in place into out, which never
 * holds more than the input's length + 1, so the caller can size it.
 * No allocation, no state: safe from any thread.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "org_path.h"
#include "upath.h"

int
org_path_normalize(const char *target, char *out, size_t outlen, const char **query)
{
	const char *p = target, *end;
	size_t o = 0, seg;  /* out[0..o) is the kept path, without a trailing '/' */
	bool slash_end = true; /* the last segment was empty, "." or ".." */
	bool sep = false;      /* the last segment ended with a '/' */

	if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
		p = strstr(p, "//") + 2;
		p += strcspn(p, "/?");
	}
	end = p + strcspn(p, "?");
	if (query != NULL)
		*query = *end == '?' ? end + 1 : end;
	if (outlen < 2)
		return ORG_PATH_LONG;
	while (p < end) {
		/* one segment: from here to the next '/' (raw or %2F) */
		if (o + 1 >= outlen)
			return ORG_PATH_LONG;
		out[o] = '/';
		seg = o + 1;
		sep = false;
		for (; p < end; p++) {
			int c = (unsigned char)*p;

			if (c == '%') {
				int hi = p + 1 < end ? upath_hexval(p[1]) : -1;
				int lo = hi >= 0 && p + 2 < end ? upath_hexval(p[2]) : -1;

				if (lo < 0)
					return ORG_PATH_BAD;
				c = hi * 16 + lo;
				if (c == 0)
					return ORG_PATH_BAD;
				p += 2;
			}
			if (c == '/') {
				p++;
				sep = true;
				break;
			}
			if (seg + 1 >= outlen)
				return ORG_PATH_LONG;
			out[seg++] = (char)c;
		}
		/* the segment is out[o+1 .. seg) */
		if (seg == o + 1 || (seg == o + 2 && out[o + 1] == '.')) {
			slash_end = true; /* empty or "." */
		} else if (seg == o + 3 && out[o + 1] == '.' && out[o + 2] == '.') {
			if (o == 0)
				return ORG_PATH_ABOVE;
			while (out[--o] != '/')
				;
			slash_end = true;
		} else {
			o = seg;
			slash_end = false;
		}
	}
	if (sep) /* "/a/": an empty segment after the last '/' */
		slash_end = true;
	if (slash_end || o == 0) {
		if (o + 1 >= outlen)
			return ORG_PATH_LONG;
		out[o++] = '/';
	}
	out[o] = '\0';
	return ORG_PATH_OK;
}

bool
org_path_under(const char *path, const char *dir)
{
	size_t l = strlen(dir);

	while (l > 0 && dir[l - 1] == '/')
		l--;
	return strncmp(path, dir, l) == 0 && (path[l] == '/' || path[l] == '\0');
}
