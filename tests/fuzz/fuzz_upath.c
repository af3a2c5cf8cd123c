/*
 * fuzz_upath.c: libFuzzer target for lib/upath.c.  Whatever the target, a
 * normal form that is produced fits its bound, holds no dot-segment, is a
 * fixed point, and never climbs: every ".." error is reported, never
 * clamped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a, *b;
	size_t na, nb, pa;
	int rc;

	if (size > 8192)
		return 0;
	a = malloc(size + 2);
	b = malloc(size + 2);
	if (a == NULL || b == NULL)
		abort();
	rc = upath_target((const char *)data, size, a, size + 2, &na, &pa);
	if (rc == UPATH_NO_ROOM)
		abort();                               /* n + 2 always suffices */
	if (rc == UPATH_OK) {
		/* (a NUL in the input is copied like any byte: callers pass C
		 * strings, and edged refuses a NUL in the target before this) */
		if ((memchr(data, 0, size) == NULL && na != strlen(a)) || na > size + 1 ||
		    a[0] != '/' || pa > na)
			abort();
		/* no "/./" or "/../" segment is left in the path */
		for (size_t i = 0; i < pa; i++) {
			size_t s = i + 1, e = s;

			if (a[i] != '/')
				continue;
			while (e < pa && a[e] != '/')
				e++;
			if ((e - s == 1 && a[s] == '.') ||
			    (e - s == 2 && a[s] == '.' && a[s + 1] == '.'))
				abort();
		}
		if (upath_target(a, na, b, na + 2, &nb, NULL) != UPATH_OK || nb != na ||
		    memcmp(a, b, na) != 0)
			abort();
	}
	free(a);
	free(b);
	return 0;
}
