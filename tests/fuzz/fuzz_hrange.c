/*
 * fuzz_hrange.c: libFuzzer target for lib/hrange.c.  The first 8 bytes are
 * the representation's size, the rest the Range value.  A 206 range must
 * lie inside the representation and be non-empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hrange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t total = 0, off = 0, len = 0;
	enum hrange_res r;

	if (size < 8)
		return 0;
	memcpy(&total, data, 8);
	total %= UINT64_C(1) << 50;
	r = hrange_parse((const char *)data + 8, size - 8, total, &off, &len);
	if (r == HRANGE_OK && (len == 0 || off >= total || len > total - off))
		abort();
	return 0;
}
