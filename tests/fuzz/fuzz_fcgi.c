/*
 * fuzz_fcgi.c: libFuzzer target for what origind reads from a FastCGI
 * application: the record reader and name-value pair decoding.  The first
 * byte seeds the split of the rest into pieces; the stream is fed once
 * whole and once in those pieces, and both feeds must yield the same
 * records (type, id, content) and fail at the same point.  Each record's
 * content is decoded as name-value pairs (as PARAMS or GET_VALUES_RESULT
 * would be) and as an END_REQUEST body; every decoded pair must lie in
 * the content and survive an encode/decode round trip.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECS 4096

struct seen {
	unsigned type, id;
	size_t len;
	uint32_t sum;
};

static struct fcgi_reader rd;
static struct seen whole[MAX_RECS];

static uint32_t
sum_of(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void
check_pairs(const uint8_t *c, size_t len)
{
	size_t pos = 0;
	struct err e;

	while (pos < len) {
		const uint8_t *n, *v, *n2, *v2;
		size_t nl, vl, used, nl2, vl2, used2, need;
		uint8_t *buf;

		if (fcgi_nv_decode(c + pos, len - pos, &n, &nl, &v, &vl, &used, &e) < 0)
			return;
		if (used == 0 || used > len - pos || n < c + pos || n + nl > c + len ||
		    v < n + nl || v + vl > c + len || n + nl + vl != c + pos + used)
			abort();
		need = fcgi_nv_size(nl, vl);
		if (need == 0 || need > used)
			abort(); /* the canonical form is never longer */
		buf = malloc(need);
		if (buf == NULL)
			return;
		if (fcgi_nv_encode(buf, need, (const char *)n, nl, (const char *)v, vl, &used2,
		                   &e) < 0 || used2 != need)
			abort();
		if (fcgi_nv_decode(buf, need, &n2, &nl2, &v2, &vl2, &used2, &e) < 0 ||
		    used2 != need || nl2 != nl || vl2 != vl || memcmp(n2, n, nl) != 0 ||
		    memcmp(v2, v, vl) != 0)
			abort();
		free(buf);
		pos += used;
	}
}

/* Feed in[0..len) in pieces (piece sizes from the seed; 0: whole); record
 * what comes out into out (when not NULL) or compare with whole[].
 * Returns the number of records; *failed_at the offset of a failure
 * (len when none). */
static size_t
feed(const uint8_t *in, size_t len, unsigned seed, struct seen *out, size_t nwhole,
     size_t *failed_at)
{
	size_t pos = 0, nrec = 0;
	struct err e;

	fcgi_reader_init(&rd);
	*failed_at = len;
	while (pos < len) {
		size_t piece = len - pos, off = 0;

		if (seed != 0) {
			seed = seed * 1103515245u + 12345u;
			piece = 1 + (seed >> 16) % (seed & 0x100 ? 9 : 3000);
			if (piece > len - pos)
				piece = len - pos;
		}
		while (off < piece) {
			const struct fcgi_record *rec;
			size_t used;

			if (fcgi_reader_feed(&rd, in + pos + off, piece - off, &used, &rec, &e) < 0) {
				*failed_at = pos + off + used;
				return nrec;
			}
			if (used > piece - off)
				abort();
			off += used;
			if (rec == NULL) {
				if (off != piece)
					abort();
				continue;
			}
			if (rec->content_length > FCGI_MAX_CONTENT || rec->type > 255 ||
			    rec->request_id > 65535)
				abort();
			if (out != NULL && nrec < MAX_RECS) {
				struct fcgi_end_request er;

				out[nrec] = (struct seen){ rec->type, rec->request_id,
				                           rec->content_length,
				                           sum_of(rec->content, rec->content_length) };
				check_pairs(rec->content, rec->content_length);
				if (fcgi_end_request_decode(rec->content, rec->content_length, &er, &e) == 0 &&
				    rec->content_length != 8)
					abort();
			} else if (out == NULL && nrec < MAX_RECS && nrec < nwhole) {
				if (whole[nrec].type != rec->type || whole[nrec].id != rec->request_id ||
				    whole[nrec].len != rec->content_length ||
				    whole[nrec].sum != sum_of(rec->content, rec->content_length))
					abort();
			}
			nrec++;
		}
		pos += piece;
	}
	return nrec;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n1, n2, f1, f2;
	unsigned seed;
	uint8_t *s;

	if (size < 1)
		return 0;
	seed = data[0] | 1u;
	s = malloc(size - 1 ? size - 1 : 1);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1); /* exact size: ASan sees any overread */
	n1 = feed(s, size - 1, 0, whole, 0, &f1);
	n2 = feed(s, size - 1, seed, NULL, n1, &f2);
	if (n1 != n2)
		abort();
	/* a failure is a bad header: both feeds stop at its end */
	if (f1 != f2)
		abort();
	free(s);
	return 0;
}
