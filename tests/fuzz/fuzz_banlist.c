/*
 * fuzz_banlist.c: libFuzzer target for lib/banlist.c's invalidation path
 * check and request-target path.  An accepted path starts with '/', holds
 * no '*', blank, control or non-ASCII byte; an exact one is the normal
 * form (lib/upath) of the input's path, and a ban made of it matches that
 * normal form, the form requests are matched in; a wildcard's prefix
 * matches itself and anything after it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "banlist.h"
#include "upath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[BANLIST_PATH_MAX];
	char *s = malloc(size + 1);
	const char *why = NULL, *p;
	struct banlist bl;
	size_t n, i;
	bool w;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	p = banlist_target_path(s, &n);
	if (n > strlen(p))
		abort();
	if (banlist_path_check((const char *)data, size, out, &w, &why) == 0) {
		static char norm[BANLIST_PATH_MAX + 2];
		size_t q = strcspn(s, "?"), nn = 0;

		n = strlen(out);
		if (out[0] != '/' || n >= BANLIST_PATH_MAX)
			abort();
		for (i = 0; i < n; i++)
			if ((unsigned char)out[i] <= 0x20 || (unsigned char)out[i] >= 0x7f ||
			    out[i] == '*' || out[i] == '?')
				abort();
		if (!w && strlen(s) == size &&
		    (upath_path(s, q, norm, sizeof norm, &nn) != UPATH_OK || nn != n ||
		     memcmp(norm, out, n) != 0))
			abort(); /* an exact ban is the path's normal form */
		banlist_init(&bl);
		if (banlist_add(&bl, 1, out, w) == 0 && !banlist_banned(&bl, out, n, 0))
			abort(); /* the ban covers the normal form it was made of */
		banlist_free(&bl);
	} else if (why == NULL) {
		abort();
	}
	free(s);
	return 0;
}
