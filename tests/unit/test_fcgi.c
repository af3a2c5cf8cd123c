/*
 * test_fcgi.c: the FastCGI 1.0 wire format (lib/fcgi.c): record headers
 * and BEGIN_REQUEST against the specification's byte layout, END_REQUEST
 * decoding, name-value pairs at the 1/4-byte length boundary (0, 127,
 * 128, huge) in round trips, and the record reader fed a stream of
 * records whole, byte by byte and in random splits, with padding, empty
 * records, a bad version and the largest record.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi.h"

TestSuite(fcgi, .timeout = 20);

static struct err e;

Test(fcgi, header_layout)
{
	uint8_t b[8];
	struct fcgi_header h;

	cr_assert_eq(fcgi_header_encode(b, FCGI_STDOUT, 0x1234, 0xabcd, 7, &e), 0);
	cr_expect_eq(b[0], 1);
	cr_expect_eq(b[1], FCGI_STDOUT);
	cr_expect_eq(b[2], 0x12);
	cr_expect_eq(b[3], 0x34);
	cr_expect_eq(b[4], 0xab);
	cr_expect_eq(b[5], 0xcd);
	cr_expect_eq(b[6], 7);
	cr_expect_eq(b[7], 0);
	cr_assert_eq(fcgi_header_decode(b, &h, &e), 0);
	cr_expect_eq(h.version, 1);
	cr_expect_eq(h.type, FCGI_STDOUT);
	cr_expect_eq(h.request_id, 0x1234);
	cr_expect_eq(h.content_length, 0xabcd);
	cr_expect_eq(h.padding_length, 7);
}

Test(fcgi, header_round_trip_extremes)
{
	static const unsigned types[] = { 1, 3, 6, 11, 255 };
	static const unsigned ids[] = { 0, 1, 255, 256, 65535 };
	static const size_t lens[] = { 0, 1, 255, 256, 65535 };
	uint8_t b[8];
	struct fcgi_header h;
	size_t i;

	for (i = 0; i < 5; i++) {
		cr_assert_eq(fcgi_header_encode(b, types[i], ids[i], lens[i], 255 - i, &e), 0);
		cr_assert_eq(fcgi_header_decode(b, &h, &e), 0);
		cr_expect_eq(h.type, types[i]);
		cr_expect_eq(h.request_id, ids[i]);
		cr_expect_eq(h.content_length, lens[i]);
		cr_expect_eq(h.padding_length, 255 - i);
	}
}

Test(fcgi, header_refuses_what_does_not_fit)
{
	uint8_t b[8];

	cr_expect_eq(fcgi_header_encode(b, 6, 1, 65536, 0, &e), -1);
	cr_expect_not_null(strstr(e.msg, "65536"), "%s", e.msg);
	cr_expect_eq(fcgi_header_encode(b, 6, 1, 0, 256, &e), -1);
	cr_expect_not_null(strstr(e.msg, "padding"), "%s", e.msg);
	cr_expect_eq(fcgi_header_encode(b, 6, 65536, 0, 0, &e), -1);
	cr_expect_eq(fcgi_header_encode(b, 256, 1, 0, 0, &e), -1);
	cr_expect_eq(e.code, ERR_FAIL);
	/* a NULL err is allowed */
	cr_expect_eq(fcgi_header_encode(b, 6, 1, 70000, 0, NULL), -1);
}

Test(fcgi, header_bad_version)
{
	const uint8_t b[8] = { 2, 6, 0, 1, 0, 0, 0, 0 };
	const uint8_t http[8] = { 'H', 'T', 'T', 'P', '/', '1', '.', '1' };
	struct fcgi_header h;

	cr_expect_eq(fcgi_header_decode(b, &h, &e), -1);
	cr_expect_not_null(strstr(e.msg, "version 2"), "%s", e.msg);
	cr_expect_eq(fcgi_header_decode(http, &h, &e), -1);
}

Test(fcgi, begin_request_layout)
{
	uint8_t b[16];
	static const uint8_t want[16] = { 1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0 };

	memset(b, 0xee, sizeof b);
	cr_assert_eq(fcgi_begin_request_encode(b, 1, FCGI_RESPONDER, FCGI_KEEP_CONN, &e), 0);
	cr_expect_arr_eq(b, want, 16);
	cr_assert_eq(fcgi_begin_request_encode(b, 0x0102, FCGI_FILTER, 0, &e), 0);
	cr_expect_eq(b[2], 1);
	cr_expect_eq(b[3], 2);
	cr_expect_eq(b[9], FCGI_FILTER);
	cr_expect_eq(b[10], 0);
	cr_expect_eq(fcgi_begin_request_encode(b, 1, 70000, 0, &e), -1);
	cr_expect_eq(fcgi_begin_request_encode(b, 1, 1, 256, &e), -1);
}

Test(fcgi, end_request_decode)
{
	static const uint8_t body[8] = { 0x80, 0, 1, 2, FCGI_OVERLOADED, 0, 0, 0 };
	struct fcgi_end_request er;

	cr_assert_eq(fcgi_end_request_decode(body, 8, &er, &e), 0);
	cr_expect_eq(er.app_status, 0x80000102u);
	cr_expect_eq(er.protocol_status, FCGI_OVERLOADED);
	cr_expect_str_eq(fcgi_protocol_status_name(er.protocol_status), "OVERLOADED");
	cr_expect_str_eq(fcgi_protocol_status_name(FCGI_REQUEST_COMPLETE), "REQUEST_COMPLETE");
	cr_expect_str_eq(fcgi_protocol_status_name(FCGI_CANT_MPX_CONN), "CANT_MPX_CONN");
	cr_expect_str_eq(fcgi_protocol_status_name(FCGI_UNKNOWN_ROLE), "UNKNOWN_ROLE");
	cr_expect_str_eq(fcgi_protocol_status_name(9), "unknown");
	cr_expect_eq(fcgi_end_request_decode(body, 7, &er, &e), -1);
	cr_expect_not_null(strstr(e.msg, "7 bytes"), "%s", e.msg);
	cr_expect_eq(fcgi_end_request_decode(body, 9, &er, &e), -1);
}

/* encode then decode a pair with these lengths; check the size and the
 * length bytes' form */
static void
nv_round_trip(size_t nlen, size_t vlen)
{
	char *name = malloc(nlen + 1), *value = malloc(vlen + 1);
	size_t need = fcgi_nv_size(nlen, vlen), used = 0, dn, dv, du, i;
	size_t want = (nlen < 128 ? 1 : 4) + (vlen < 128 ? 1 : 4) + nlen + vlen;
	uint8_t *buf = malloc(need + 1);
	const uint8_t *pn, *pv;

	cr_assert(name && value && buf);
	for (i = 0; i < nlen; i++)
		name[i] = (char)('A' + i % 26);
	for (i = 0; i < vlen; i++)
		value[i] = (char)(i * 7);
	cr_assert_eq(need, want, "size for %zu/%zu: %zu, want %zu", nlen, vlen, need, want);
	cr_assert_eq(fcgi_nv_encode(buf, need, name, nlen, value, vlen, &used, &e), 0, "%s",
	             e.msg);
	cr_expect_eq(used, need);
	if (nlen >= 128) {
		cr_expect(buf[0] & 0x80, "4-byte name length has the high bit");
		cr_expect_eq(((size_t)(buf[0] & 0x7f) << 24 | (size_t)buf[1] << 16 |
		              (size_t)buf[2] << 8 | buf[3]), nlen);
	} else {
		cr_expect_eq(buf[0], nlen);
	}
	cr_assert_eq(fcgi_nv_decode(buf, used, &pn, &dn, &pv, &dv, &du, &e), 0, "%s", e.msg);
	cr_expect_eq(dn, nlen);
	cr_expect_eq(dv, vlen);
	cr_expect_eq(du, used);
	cr_expect(memcmp(pn, name, nlen) == 0);
	cr_expect(memcmp(pv, value, vlen) == 0);
	/* every shorter prefix is cut short */
	if (used < 600) {
		for (i = 0; i < used; i++)
			cr_expect_eq(fcgi_nv_decode(buf, i, &pn, &dn, &pv, &dv, &du, &e), -1,
			             "prefix %zu of %zu", i, used);
	} else {
		cr_expect_eq(fcgi_nv_decode(buf, used - 1, &pn, &dn, &pv, &dv, &du, &e), -1);
		cr_expect_eq(fcgi_nv_decode(buf, 3, &pn, &dn, &pv, &dv, &du, &e), -1);
	}
	/* too small a buffer: refused */
	cr_expect_eq(fcgi_nv_encode(buf, need - 1, name, nlen, value, vlen, &used, &e), -1);
	free(name);
	free(value);
	free(buf);
}

Test(fcgi, nv_lengths)
{
	static const size_t lens[] = { 0, 1, 127, 128, 129, 255, 256, 65535, 65536, 300000 };
	size_t i, j;

	for (i = 0; i < sizeof lens / sizeof lens[0]; i++)
		for (j = 0; j < sizeof lens / sizeof lens[0]; j++)
			if (lens[i] + lens[j] <= 400000)
				nv_round_trip(lens[i], lens[j]);
}

Test(fcgi, nv_known_bytes)
{
	uint8_t buf[32];
	size_t used;
	static const uint8_t want[] = { 4, 3, 'H', 'O', 'S', 'T', 'a', '.', 'b' };

	cr_assert_eq(fcgi_nv_encode(buf, sizeof buf, "HOST", 4, "a.b", 3, &used, &e), 0);
	cr_expect_eq(used, sizeof want);
	cr_expect_arr_eq(buf, want, sizeof want);
	/* an empty value: one zero length byte */
	cr_assert_eq(fcgi_nv_encode(buf, sizeof buf, "X", 1, "", 0, &used, &e), 0);
	cr_expect_eq(used, 3);
	cr_expect_eq(buf[1], 0);
}

Test(fcgi, nv_huge)
{
	uint8_t buf[16];
	size_t used;

	/* lengths past 31 bits cannot be written (nothing is read from the
	 * pointers: the length check comes first) */
	cr_expect_eq(fcgi_nv_size(0x80000000u, 1), 0);
	cr_expect_eq(fcgi_nv_size(1, 0x80000000u), 0);
	cr_expect_eq(fcgi_nv_size(0x7fffffffu, 0), 4 + 1 + 0x7fffffffu);
	cr_expect_eq(fcgi_nv_encode(buf, sizeof buf, "x", 0x80000000u, "y", 1, &used, &e), -1);
	cr_expect_not_null(strstr(e.msg, "too long"), "%s", e.msg);
}

Test(fcgi, nv_decode_claims_more_than_there_is)
{
	/* a 4-byte name length of 2^31-1 in a 10-byte buffer */
	static const uint8_t b[] = { 0xff, 0xff, 0xff, 0xff, 1, 'a', 'b', 'c', 'd', 'e' };
	static const uint8_t b2[] = { 0x80, 0, 0, 1, 0x80, 0, 0, 5, 'a', 'b' };
	const uint8_t *pn, *pv;
	size_t nl, vl, used;

	cr_expect_eq(fcgi_nv_decode(b, sizeof b, &pn, &nl, &pv, &vl, &used, &e), -1);
	cr_expect_eq(fcgi_nv_decode(b2, sizeof b2, &pn, &nl, &pv, &vl, &used, &e), -1);
	cr_expect_eq(fcgi_nv_decode(b2, 0, &pn, &nl, &pv, &vl, &used, &e), -1);
}

/* ---- the reader ---------------------------------------------------------- */

struct rec {
	unsigned type, id;
	size_t len, pad;
};

/* A stream of records; content byte i of record r is (r * 31 + i) & 0xff. */
static uint8_t *
make_stream(const struct rec *recs, size_t n, size_t *len)
{
	size_t total = 0, i, j, pos = 0;
	uint8_t *s;

	for (i = 0; i < n; i++)
		total += 8 + recs[i].len + recs[i].pad;
	s = malloc(total ? total : 1);
	cr_assert_not_null(s);
	for (i = 0; i < n; i++) {
		cr_assert_eq(fcgi_header_encode(s + pos, recs[i].type, recs[i].id, recs[i].len,
		                                recs[i].pad, &e), 0);
		pos += 8;
		for (j = 0; j < recs[i].len; j++)
			s[pos++] = (uint8_t)((i * 31 + j) & 0xff);
		memset(s + pos, 0xaa, recs[i].pad);
		pos += recs[i].pad;
	}
	*len = total;
	return s;
}

static void
check_rec(const struct fcgi_record *got, const struct rec *want, size_t idx)
{
	size_t j;

	cr_assert_eq(got->type, want->type, "record %zu type", idx);
	cr_assert_eq(got->request_id, want->id, "record %zu id", idx);
	cr_assert_eq(got->content_length, want->len, "record %zu length", idx);
	for (j = 0; j < want->len; j++)
		if (got->content[j] != (uint8_t)((idx * 31 + j) & 0xff))
			cr_assert_fail("record %zu byte %zu differs", idx, j);
}

/* Feed the stream in pieces: sizes from next_piece(); every record must
 * come out whole and in order, nothing else. */
static void
feed_stream(const struct rec *recs, size_t n, size_t (*next_piece)(size_t left))
{
	static struct fcgi_reader rd;
	size_t len, pos = 0, got = 0;
	uint8_t *s = make_stream(recs, n, &len);

	fcgi_reader_init(&rd);
	cr_expect(fcgi_reader_idle(&rd));
	while (pos < len) {
		size_t piece = next_piece(len - pos), off = 0;

		while (off < piece || piece == 0) {
			const struct fcgi_record *rec;
			size_t used;

			cr_assert_eq(fcgi_reader_feed(&rd, s + pos + off, piece - off, &used, &rec, &e),
			             0, "%s", e.msg);
			off += used;
			if (rec != NULL) {
				cr_assert_lt(got, n, "more records than sent");
				check_rec(rec, &recs[got], got);
				got++;
			} else {
				cr_assert_eq(off, piece, "no record yet, but input left unread");
			}
			if (piece == 0)
				break;
		}
		pos += piece;
	}
	cr_expect_eq(got, n, "records out: %zu, want %zu", got, n);
	cr_expect(fcgi_reader_idle(&rd), "the reader holds a partial record at the end");
	free(s);
}

static size_t
piece_all(size_t left)
{
	return left;
}

static size_t
piece_one(size_t left)
{
	(void)left;
	return 1;
}

static size_t
piece_random(size_t left)
{
	size_t n;

	switch (rand() % 4) {
	case 0: n = (size_t)rand() % 9; break;           /* around a header */
	case 1: n = (size_t)rand() % 300; break;
	case 2: n = (size_t)rand() % 70000; break;       /* across records */
	default: n = 1; break;
	}
	return n > left ? left : n;
}

static const struct rec mixed[] = {
	{ FCGI_STDOUT, 1, 5, 3 },
	{ FCGI_STDERR, 1, 0, 0 },
	{ FCGI_STDOUT, 1, 65535, 255 },
	{ FCGI_STDERR, 1, 17, 7 },
	{ FCGI_UNKNOWN_TYPE, 0, 8, 0 },
	{ FCGI_STDOUT, 1, 0, 0 },
	{ FCGI_STDOUT, 1, 1, 255 },
	{ FCGI_END_REQUEST, 1, 8, 0 },
	{ FCGI_STDOUT, 65535, 1000, 0 },
};

Test(fcgi, reader_whole)
{
	feed_stream(mixed, sizeof mixed / sizeof mixed[0], piece_all);
}

Test(fcgi, reader_byte_by_byte)
{
	feed_stream(mixed, sizeof mixed / sizeof mixed[0], piece_one);
}

Test(fcgi, reader_random_splits)
{
	int round;

	srand(12345);
	for (round = 0; round < 40; round++)
		feed_stream(mixed, sizeof mixed / sizeof mixed[0], piece_random);
}

Test(fcgi, reader_many_small_random)
{
	struct rec recs[300];
	size_t i;
	int round;

	srand(777);
	for (round = 0; round < 10; round++) {
		for (i = 0; i < 300; i++) {
			recs[i].type = 1 + (unsigned)rand() % 11;
			recs[i].id = (unsigned)rand() % 3;
			recs[i].len = rand() % 5 == 0 ? 0 : (size_t)rand() % 2000;
			recs[i].pad = (size_t)rand() % 256;
		}
		feed_stream(recs, 300, piece_random);
	}
}

Test(fcgi, reader_empty_feed)
{
	static struct fcgi_reader rd;
	const struct fcgi_record *rec;
	size_t used = 99;

	fcgi_reader_init(&rd);
	cr_expect_eq(fcgi_reader_feed(&rd, (const uint8_t *)"", 0, &used, &rec, &e), 0);
	cr_expect_eq(used, 0);
	cr_expect_null(rec);
}

Test(fcgi, reader_bad_version_is_final)
{
	static struct fcgi_reader rd;
	const struct fcgi_record *rec;
	size_t used, len;
	struct rec one = { FCGI_STDOUT, 1, 4, 0 };
	uint8_t *s = make_stream(&one, 1, &len);
	uint8_t bad[8];

	fcgi_reader_init(&rd);
	cr_assert_eq(fcgi_reader_feed(&rd, s, len, &used, &rec, &e), 0);
	cr_assert_not_null(rec);
	memcpy(bad, s, 8);
	bad[0] = 0; /* version 0 */
	/* the bad header in two pieces: the first is fine, the second fails */
	cr_expect_eq(fcgi_reader_feed(&rd, bad, 5, &used, &rec, &e), 0);
	cr_expect_eq(used, 5);
	cr_expect_eq(fcgi_reader_feed(&rd, bad + 5, 3, &used, &rec, &e), -1);
	cr_expect_not_null(strstr(e.msg, "version 0"), "%s", e.msg);
	cr_expect_not(fcgi_reader_idle(&rd));
	/* a good record after it is refused too: no resynchronising */
	cr_expect_eq(fcgi_reader_feed(&rd, s, len, &used, &rec, &e), -1);
	cr_expect_null(rec);
	/* init makes it usable again */
	fcgi_reader_init(&rd);
	cr_expect_eq(fcgi_reader_feed(&rd, s, len, &used, &rec, &e), 0);
	cr_expect_not_null(rec);
	free(s);
}

Test(fcgi, reader_http_answer_is_not_fastcgi)
{
	static struct fcgi_reader rd;
	const struct fcgi_record *rec;
	const char *http = "HTTP/1.1 400 Bad Request\r\n\r\n";
	size_t used;

	fcgi_reader_init(&rd);
	cr_expect_eq(fcgi_reader_feed(&rd, (const uint8_t *)http, strlen(http), &used, &rec, &e),
	             -1);
	cr_expect_eq(used, 8, "the header was consumed before it was judged");
}

Test(fcgi, reader_largest_record_bounded)
{
	/* 65535 + 255: the biggest record; the reader holds it in its own
	 * buffer, and yields exactly its content */
	struct rec big[2] = { { FCGI_STDOUT, 1, FCGI_MAX_CONTENT, FCGI_MAX_PADDING },
	                      { FCGI_STDOUT, 1, FCGI_MAX_CONTENT, FCGI_MAX_PADDING } };

	cr_expect_eq(sizeof ((struct fcgi_reader *)0)->body,
	             (size_t)FCGI_MAX_CONTENT + FCGI_MAX_PADDING);
	feed_stream(big, 2, piece_all);
	feed_stream(big, 2, piece_random);
}

Test(fcgi, params_stream_decodes)
{
	/* what a server sends: pairs back to back; decode them all */
	static const char *pairs[][2] = { { "REQUEST_METHOD", "GET" },
	                                  { "QUERY_STRING", "" },
	                                  { "HTTP_X_LONG", NULL },
	                                  { "HTTPS", "on" } };
	char longv[1000];
	uint8_t buf[2048];
	size_t pos = 0, used, i, nl, vl;
	const uint8_t *pn, *pv;

	memset(longv, 'v', sizeof longv - 1);
	longv[sizeof longv - 1] = '\0';
	pairs[2][1] = longv;
	for (i = 0; i < 4; i++) {
		cr_assert_eq(fcgi_nv_encode(buf + pos, sizeof buf - pos, pairs[i][0],
		                            strlen(pairs[i][0]), pairs[i][1], strlen(pairs[i][1]),
		                            &used, &e), 0);
		pos += used;
	}
	for (i = 0, used = 0; i < 4; i++) {
		size_t u;

		cr_assert_eq(fcgi_nv_decode(buf + used, pos - used, &pn, &nl, &pv, &vl, &u, &e), 0);
		cr_expect_eq(nl, strlen(pairs[i][0]));
		cr_expect(memcmp(pn, pairs[i][0], nl) == 0);
		cr_expect_eq(vl, strlen(pairs[i][1]));
		cr_expect(memcmp(pv, pairs[i][1], vl) == 0);
		used += u;
	}
	cr_expect_eq(used, pos);
}
