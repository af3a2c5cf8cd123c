/*
 * fuzz_chunked.c: libFuzzer target for the chunked-body decoder.  The input
 * is what an origin sent after a "Transfer-Encoding: chunked" head.  It is
 * decoded three ways: in one piece, byte by byte, and in pieces of 1-64
 * bytes whose sizes come from a hash of the input.  All three must give
 * the same result (done, need more or failed), stop at the same byte, and
 * produce the same decoded bytes; every call must keep the hchunk_feed
 * contract (progress whenever it returns 0 with input left, a data span
 * that lies in the input and ends where consumption ends, "done" and
 * "failed" that stay so).  Any difference abort()s.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hresp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	int rc;          /* the last answer */
	size_t stop;     /* input bytes consumed when it came */
	size_t outn;     /* decoded bytes */
	uint64_t total;  /* the decoder's own count */
	struct err e;
};

/* Feed one piece through the caller's loop.  Returns the last answer. */
static int
feed_piece(struct hchunk *c, const char *in, size_t len, struct run *run, char *out)
{
	size_t pos = 0;
	int rc;

	do {
		const char *o;
		size_t n, olen;

		rc = hchunk_feed(c, in + pos, len - pos, &n, &o, &olen, &run->e);
		if (n > len - pos)
			abort();
		run->stop += n;
		if (rc < 0)
			return rc;
		if (rc == 0 && pos < len && n == 0)
			abort(); /* no progress: the caller would spin */
		if (olen > 0) {
			if (rc != 0 || o < in + pos || o + olen != in + pos + n)
				abort();
			memcpy(out + run->outn, o, olen);
			run->outn += olen;
		} else if (o != NULL) {
			abort();
		}
		pos += n;
	} while (rc == 0 && pos < len);
	return rc;
}

/* Decode data[0..size) in pieces: piece 0 means all at once, 1 byte by
 * byte, anything else pseudo-random sizes seeded by it. */
static void
decode(const char *data, size_t size, uint32_t piece, struct run *run, char *out)
{
	struct hchunk c;
	size_t off = 0;
	uint32_t x = piece;

	memset(run, 0, sizeof *run);
	hchunk_init(&c);
	do {
		size_t n = size - off;

		if (piece == 1) {
			n = 1;
		} else if (piece > 1) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			n = 1 + x % 64;
		}
		if (n > size - off)
			n = size - off;
		run->rc = feed_piece(&c, data + off, n, run, out);
		off += n;
	} while (run->rc == 0 && off < size);
	run->total = c.total;
	if (run->rc != 0) {
		const char *o;
		size_t n, olen;
		struct err e2;

		/* done and failed are for good */
		if (hchunk_feed(&c, data, size, &n, &o, &olen, &e2) != run->rc || n != 0 ||
		    olen != 0)
			abort();
	}
}

static int
same(const struct run *a, const char *oa, const struct run *b, const char *ob)
{
	if (a->rc != b->rc || a->stop != b->stop || a->outn != b->outn || a->total != b->total)
		return 0;
	if (a->rc < 0 && strcmp(a->e.msg, b->e.msg) != 0)
		return 0;
	return memcmp(oa, ob, a->outn) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *o1, *o2, *o3;
	struct run r1, r2, r3;
	uint32_t seed = 2166136261u;
	size_t i;

	in = malloc(size ? size : 1);
	o1 = malloc(size ? size : 1);
	o2 = malloc(size ? size : 1);
	o3 = malloc(size ? size : 1);
	if (in == NULL || o1 == NULL || o2 == NULL || o3 == NULL)
		goto out;
	memcpy(in, data, size); /* exactly size bytes: ASan sees any overread */
	for (i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;
	decode(in, size, 0, &r1, o1);
	decode(in, size, 1, &r2, o2);
	decode(in, size, seed | 2, &r3, o3);
	if (!same(&r1, o1, &r2, o2) || !same(&r1, o1, &r3, o3))
		abort();
	if (r1.outn > size || r1.total != r1.outn || r1.stop > size)
		abort();
	if (r1.rc == 0 && r1.stop != size)
		abort(); /* "need more" only once everything was used */
out:
	free(in);
	free(o1);
	free(o2);
	free(o3);
	return 0;
}
