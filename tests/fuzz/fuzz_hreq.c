/*
 * fuzz_hreq.c: libFuzzer target for request-head validation and path
 * decoding.  Input: method '\n' target '\n' version '\n' then header lines
 * "name:value" separated by '\n' (values may hold any byte but '\n').
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *lines[3], *p, *nl, out[512];
	struct hreq h;
	struct hreq_limits lim = { 256, 4096 };
	const char *q;
	int i;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	for (i = 0; i < 3; i++) {
		nl = memchr(p, '\n', size - (size_t)(p - buf));
		if (nl == NULL) {
			free(buf);
			return 0;
		}
		*nl = '\0';
		lines[i] = p;
		p = nl + 1;
	}
	hreq_begin(&h, lines[0], lines[1], strlen(lines[1]), lines[2]);
	while ((size_t)(p - buf) < size) {
		char *end = memchr(p, '\n', size - (size_t)(p - buf)), *colon;

		if (end == NULL)
			end = buf + size;
		colon = memchr(p, ':', (size_t)(end - p));
		if (colon != NULL)
			hreq_field(&h, p, (size_t)(colon - p), colon + 1, (size_t)(end - colon - 1));
		p = end + 1;
	}
	if (hreq_finish(&h, &lim) == 0)
		(void)hreq_decode_path(lines[1], out, sizeof out, &q);
	(void)hreq_decode_path(lines[1], out, 8, NULL);
	free(buf);
	return 0;
}
