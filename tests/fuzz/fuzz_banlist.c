/*
 * fuzz_banlist.c: libFuzzer target for lib/banlist.c's invalidation path
 * check and request-target path.  An accepted path starts with '/', holds
 * no '*', blank, control or non-ASCII byte, and is a prefix of the input;
 * a ban made of it matches the input's own path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "banlist.h"

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
		n = strlen(out);
		if (out[0] != '/' || memcmp(out, data, n) != 0 || n >= BANLIST_PATH_MAX)
			abort();
		for (i = 0; i < n; i++)
			if ((unsigned char)out[i] <= 0x20 || (unsigned char)out[i] >= 0x7f ||
			    out[i] == '*' || out[i] == '?')
				abort();
		banlist_init(&bl);
		if (banlist_add(&bl, 1, out, w) == 0 &&
		    !banlist_banned(&bl, (const char *)data, strcspn(s, "?"), 0) && strlen(s) == size)
			abort(); /* the ban must cover the path it was made from */
		banlist_free(&bl);
	} else if (why == NULL) {
		abort();
	}
	free(s);
	return 0;
}
