/*
 * fuzz_org_path.c: libFuzzer target for origind's request-path
 * normalization (origind/org_path.c, included whole: origind's sources are
 * not in libedge.a).  Input: the request-target (cut at a NUL).
 *
 * Checked beyond "no crash", for a path that normalizes with room
 * strlen + 2 (which must always be enough):
 *   - it starts with '/', holds no empty, "." or ".." segment, and is no
 *     longer than the input + 1;
 *   - written back with '%' and '?' escaped it normalizes to itself (one
 *     form: the routing decision cannot change on a second look);
 *   - the query pointer lies in the input, after a '?' or at its end;
 *   - the path is under itself and under "/".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../origind/org_path.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_shape(const char *p, size_t in_len)
{
	const char *s = p;
	size_t len = strlen(p);

	if (p[0] != '/' || len > in_len + 1)
		abort();
	while (*s != '\0') { /* each segment between two '/' (or the end) */
		const char *e = strchr(s + 1, '/');
		size_t l = e ? (size_t)(e - s - 1) : strlen(s + 1);

		if (e != NULL && l == 0)
			abort(); /* "//" */
		if ((l == 1 && s[1] == '.') || (l == 2 && s[1] == '.' && s[2] == '.'))
			abort();
		if (e == NULL)
			break;
		s = e;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1), *out, *again, *back;
	const char *q = NULL;
	size_t len, i, o = 0;
	int rc;

	if (t == NULL)
		return 0;
	memcpy(t, data, size);
	t[size] = '\0';
	len = strlen(t);
	out = malloc(len + 2);
	back = malloc(3 * (len + 2) + 1);
	again = malloc(3 * (len + 2) + 3);
	if (out == NULL || back == NULL || again == NULL)
		goto out;
	rc = org_path_normalize(t, out, len + 2, &q);
	if (rc == ORG_PATH_LONG)
		abort();
	if (rc != ORG_PATH_OK)
		goto out;
	if (q < t || q > t + len || (q < t + len && q[-1] != '?') ||
	    (q == t + len && strchr(t, '?') != NULL && q[-1] != '?'))
		abort();
	check_shape(out, len);
	if (!org_path_under(out, out) || !org_path_under(out, "/"))
		abort();
	for (i = 0; out[i] != '\0'; i++) {
		if (out[i] == '%' || out[i] == '?') {
			o += (size_t)sprintf(back + o, "%%%02X", (unsigned char)out[i]);
		} else {
			back[o++] = out[i];
		}
	}
	back[o] = '\0';
	if (org_path_normalize(back, again, o + 2, NULL) != ORG_PATH_OK || strcmp(again, out) != 0)
		abort();
out:
	free(t);
	free(out);
	free(back);
	free(again);
	return 0;
}
