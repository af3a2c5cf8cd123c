/*
 * test_centry.c: the cache entry format.  Round trips (no fields, 128
 * fields, empty, binary and 5 MiB bodies, variant indexes), the byte layout
 * at its documented offsets, the head-then-body path, 304 refreshes, every
 * rule the encoder enforces, and every kind of damage the decoder must
 * report rather than misread: truncation at each byte, each byte flipped,
 * another magic or version, and counts and lengths that would overflow or
 * overrun, with the checksum recomputed so the structural checks are hit.
 * CRC-32C is checked against the standard check value and both of its
 * implementations against each other.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "centry.h"

TestSuite(centry, .timeout = 60);

static struct err e;

/* ---- helpers ------------------------------------------------------------ */

static struct centry_meta
meta(void)
{
	struct centry_meta m;
	size_t i;

	memset(&m, 0, sizeof m);
	m.kind = CENTRY_RESPONSE;
	m.flags = CENTRY_F_MUST_REVALIDATE;
	m.status = 200;
	m.request_time = 1764324000;
	m.response_time = 1764324001;
	m.date = 1764323999;
	m.age = 5;
	m.lifetime = 3600;
	m.stale_while_revalidate = 60;
	m.stale_if_error = 86400;
	m.vary_id = 0;
	for (i = 0; i < sizeof m.key; i++)
		m.key[i] = (unsigned char)(0xa0 + i);
	return m;
}

/* Encode s with both passes into a fresh exact-size buffer. */
static unsigned char *
encode(const struct centry_src *s, size_t *len)
{
	unsigned char *b;
	size_t need, got;

	cr_assert_eq(centry_encode(s, NULL, 0, &need, &e), 0, "size: %s", e.msg);
	b = malloc(need ? need : 1);
	cr_assert_not_null(b);
	cr_assert_eq(centry_encode(s, b, need, &got, &e), 0, "encode: %s", e.msg);
	cr_assert_eq(got, need);
	*len = got;
	return b;
}

static bool
span_is(const char *p, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

static void
expect_meta_eq(const struct centry_meta *a, const struct centry_meta *b)
{
	cr_expect_eq(a->kind, b->kind);
	cr_expect_eq(a->flags, b->flags);
	cr_expect_eq(a->status, b->status);
	cr_expect_eq(a->request_time, b->request_time);
	cr_expect_eq(a->response_time, b->response_time);
	cr_expect_eq(a->date, b->date);
	cr_expect_eq(a->age, b->age);
	cr_expect_eq(a->lifetime, b->lifetime);
	cr_expect_eq(a->stale_while_revalidate, b->stale_while_revalidate);
	cr_expect_eq(a->stale_if_error, b->stale_if_error);
	cr_expect_eq(a->vary_id, b->vary_id);
	cr_expect_eq(a->gen, b->gen);
	cr_expect_eq(memcmp(a->key, b->key, sizeof a->key), 0);
}

/* Decode b and check the view against s, then re-encode the view and
 * expect the same bytes. */
static void
expect_round_trip(const struct centry_src *s, const unsigned char *b, size_t len)
{
	struct centry c;
	struct ckey_field f, *fields;
	struct ckey_span vary[CENTRY_MAX_VARY];
	struct centry_src again;
	unsigned char *b2;
	size_t it = 0, i = 0, len2;

	cr_assert_eq(centry_decode(b, len, &c, &e), 0, "decode: %s", e.msg);
	expect_meta_eq(&c.m, &s->m);
	cr_assert_eq(c.nfields, s->nfields);
	cr_assert_eq(c.nvary, s->nvary);
	cr_assert_eq(c.body_len, s->body_len);
	cr_assert_eq(c.blob, b);
	cr_assert_eq(c.len, len);
	cr_assert_eq((const unsigned char *)c.body + c.body_len, b + len, "the body ends the blob");
	if (s->body_len > 0)
		cr_assert_eq(memcmp(c.body, s->body, s->body_len), 0);
	fields = calloc(c.nfields + 1, sizeof *fields);
	cr_assert_not_null(fields);
	while (centry_field(&c, &it, &f)) {
		const char *v = s->fields[i].value ? s->fields[i].value : "";

		cr_assert_lt(i, s->nfields);
		cr_expect_eq(f.nlen, s->fields[i].nlen);
		cr_expect_eq(memcmp(f.name, s->fields[i].name, f.nlen), 0);
		cr_expect_eq(f.name[f.nlen], '\0', "names are NUL-terminated");
		cr_expect_eq(f.vlen, s->fields[i].value ? s->fields[i].vlen : 0);
		cr_expect_eq(memcmp(f.value, v, f.vlen), 0);
		cr_expect_eq(f.value[f.vlen], '\0', "values are NUL-terminated");
		fields[i++] = f;
	}
	cr_expect_eq(i, s->nfields);
	cr_expect_not(centry_field(&c, &it, &f), "the iterator stays at the end");
	cr_assert_eq(centry_vary(&c, vary, CENTRY_MAX_VARY), s->nvary);
	for (i = 0; i < s->nvary; i++) {
		cr_expect_eq(vary[i].len, s->vary[i].len);
		cr_expect_eq(memcmp(vary[i].p, s->vary[i].p, vary[i].len), 0);
		cr_expect_eq(vary[i].p[vary[i].len], '\0');
	}
	again.m = c.m;
	again.fields = fields;
	again.nfields = c.nfields;
	again.vary = vary;
	again.nvary = c.nvary;
	again.body = c.body;
	again.body_len = c.body_len;
	b2 = encode(&again, &len2);
	cr_expect_eq(len2, len);
	cr_expect_eq(memcmp(b2, b, len), 0, "decode then encode gives the same bytes");
	free(b2);
	free(fields);
}

/* A small response: 3 fields, 1 Vary name, a 5-byte body. */
static const struct ckey_field small_fields[] = {
	{ "Content-Type", 12, "text/plain", 10 },
	{ "ETag", 4, "\"v1\"", 4 },
	{ "Vary", 4, "Accept-Encoding", 15 },
};
static const struct ckey_span small_vary[] = { { "accept-encoding", 15 } };

static struct centry_src
small_src(void)
{
	struct centry_src s = { meta(), small_fields, 3, small_vary, 1, "hello", 5 };

	s.m.vary_id = 0x0102030405060708ull;
	s.m.gen = 0xa1b2c3d4u; /* the invalidation generation round-trips */
	return s;
}

static void
set32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Recompute the checksum of a blob the test has edited. */
static void
fix_crc(unsigned char *b, size_t len)
{
	set32(b + 8, centry_crc32c(centry_crc32c(0, b, 8), b + 12, len - 12));
}

static void
set64(unsigned char *p, uint64_t v)
{
	set32(p, (uint32_t)v);
	set32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ---- round trips ---------------------------------------------------------- */

Test(centry, round_trip_small)
{
	struct centry_src s = small_src();
	size_t len;
	unsigned char *b = encode(&s, &len);

	cr_expect_eq(len, CENTRY_HEAD_FIXED + (8 + 13 + 11) + (8 + 5 + 5) + (8 + 5 + 16) +
	                      (4 + 16) + 5);
	expect_round_trip(&s, b, len);
	free(b);
}

Test(centry, round_trip_no_fields_empty_body)
{
	struct centry_src s = { meta(), NULL, 0, NULL, 0, NULL, 0 };
	size_t len;
	unsigned char *b = encode(&s, &len);
	struct centry c;

	cr_expect_eq(len, CENTRY_HEAD_FIXED);
	expect_round_trip(&s, b, len);
	cr_assert_eq(centry_decode(b, len, &c, &e), 0);
	cr_expect_not_null(c.body, "an empty body is still a valid pointer");
	free(b);
}

Test(centry, round_trip_128_fields)
{
	static struct ckey_field f[128];
	static char names[128][32], values[128][300];
	struct centry_src s = { meta(), f, 128, NULL, 0, "x", 1 };
	struct centry c;
	struct ckey_field got;
	size_t len, i;
	unsigned char *b;

	for (i = 0; i < 128; i++) {
		snprintf(names[i], sizeof names[i], "X-Field-%zu", i);
		memset(values[i], 'a' + (int)(i % 26), i * 2);
		values[i][i * 2] = '\0';
		f[i] = (struct ckey_field){ names[i], strlen(names[i]), values[i], i * 2 };
	}
	f[7].value = NULL; /* a NULL value is empty */
	f[7].vlen = 99;
	b = encode(&s, &len);
	f[7].vlen = 0;
	expect_round_trip(&s, b, len);
	cr_assert_eq(centry_decode(b, len, &c, &e), 0);
	cr_expect(centry_get(&c, "x-field-127", &got));
	cr_expect_eq(got.vlen, 254);
	cr_expect(centry_get(&c, "X-FIELD-7", &got));
	cr_expect_eq(got.vlen, 0);
	cr_expect_not(centry_get(&c, "X-Field-128", &got));
	cr_expect_not(centry_get(&c, "X-Field-1 ", &got));
	free(b);
}

Test(centry, round_trip_binary_body)
{
	unsigned char body[512];
	struct centry_src s = small_src();
	size_t len, i;
	unsigned char *b;

	for (i = 0; i < sizeof body; i++)
		body[i] = (unsigned char)(i * 7);
	body[0] = '\0';
	s.body = body;
	s.body_len = sizeof body;
	b = encode(&s, &len);
	expect_round_trip(&s, b, len);
	free(b);
}

Test(centry, round_trip_5mib_body)
{
	size_t n = 5 * 1024 * 1024, len, i;
	unsigned char *body = malloc(n), *b;
	struct centry_src s = small_src();
	uint32_t x = 2463534242u;

	cr_assert_not_null(body);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		body[i] = (unsigned char)x;
	}
	s.body = body;
	s.body_len = n;
	b = encode(&s, &len);
	cr_expect_eq(len, n + (len - n));
	expect_round_trip(&s, b, len);
	/* one flipped bit anywhere in the body is caught */
	b[len - n / 2] ^= 0x10;
	cr_expect_eq(centry_decode(b, len, &(struct centry){ 0 }, &e), CENTRY_ECORRUPT);
	cr_expect_not_null(strstr(e.msg, "checksum"), "%s", e.msg);
	free(b);
	free(body);
}

Test(centry, round_trip_meta_extremes)
{
	struct centry_src s = small_src();
	size_t len;
	unsigned char *b;

	s.m.request_time = INT64_MIN;
	s.m.response_time = INT64_MAX;
	s.m.date = -1;
	s.m.age = INT64_MAX;
	s.m.lifetime = 0;
	s.m.stale_while_revalidate = INT64_MAX;
	s.m.stale_if_error = 0;
	s.m.vary_id = UINT64_MAX;
	s.m.flags = CENTRY_F_ALL;
	s.m.status = 599;
	b = encode(&s, &len);
	expect_round_trip(&s, b, len);
	free(b);
}

Test(centry, variant_index)
{
	static const struct ckey_span names[] = { { "accept-encoding", 15 }, { "origin", 6 } };
	struct centry_src s = { meta(), NULL, 0, names, 2, NULL, 0 };
	struct ckey_span got[4];
	struct centry c;
	size_t len;
	unsigned char *b;

	s.m.kind = CENTRY_VARIANTS;
	s.m.flags = 0;
	s.m.status = 0;
	s.m.vary_id = 0xfeedfacecafebeefull;
	b = encode(&s, &len);
	expect_round_trip(&s, b, len);
	cr_assert_eq(centry_decode(b, len, &c, &e), 0);
	cr_expect_eq(c.m.kind, CENTRY_VARIANTS);
	/* fewer slots than names: filled as far as they go, count still full */
	cr_expect_eq(centry_vary(&c, got, 1), 2);
	cr_expect(span_is(got[0].p, got[0].len, "accept-encoding"));
	free(b);
}

/* The documented layout, byte for byte where it is fixed. */
Test(centry, layout)
{
	struct centry_src s = small_src();
	size_t len, p;
	unsigned char *b = encode(&s, &len);

	cr_expect_eq(memcmp(b, "EDGC", 4), 0);
	cr_expect_eq(b[4] | b[5] << 8, 1, "version");
	cr_expect_eq(b[6] | b[7] << 8, 1, "kind");
	cr_expect_eq(b[12], CENTRY_F_MUST_REVALIDATE);
	cr_expect_eq(get64(b + 16), len, "total");
	cr_expect_eq(b[24] | b[25] << 8, 200, "status");
	cr_expect_eq(b[26] | b[27], 0);
	cr_expect_eq(b[28], 3, "nfields");
	cr_expect_eq(b[32], 1, "nvary");
	cr_expect_eq((uint32_t)b[36] | (uint32_t)b[37] << 8 | (uint32_t)b[38] << 16 |
	             (uint32_t)b[39] << 24, 0xa1b2c3d4u, "gen");
	cr_expect_eq(get64(b + 40), 1764324000u, "request_time");
	cr_expect_eq(get64(b + 48), 1764324001u, "response_time");
	cr_expect_eq(get64(b + 56), 1764323999u, "date");
	cr_expect_eq(get64(b + 64), 5, "age");
	cr_expect_eq(get64(b + 72), 3600, "lifetime");
	cr_expect_eq(get64(b + 80), 60, "stale_while_revalidate");
	cr_expect_eq(get64(b + 88), 86400, "stale_if_error");
	cr_expect_eq(get64(b + 96), 0x0102030405060708ull, "vary_id");
	cr_expect_eq(get64(b + 104), 5, "body_len");
	cr_expect_eq(b[112], 0xa0, "key");
	cr_expect_eq(b[143], 0xa0 + 31);
	p = CENTRY_HEAD_FIXED;
	cr_expect_eq(b[p] | b[p + 4] << 8, 12 | 10 << 8, "first field's lengths");
	cr_expect_eq(memcmp(b + p + 8, "Content-Type\0text/plain\0", 24), 0);
	p = len - 5 - (4 + 16);
	cr_expect_eq(b[p], 15, "Vary name length");
	cr_expect_eq(memcmp(b + p + 4, "accept-encoding\0hello", 21), 0);
	cr_expect_eq(get64(b + 8) & 0xffffffffu,
	             centry_crc32c(centry_crc32c(0, b, 8), b + 12, len - 12));
	free(b);
}

Test(centry, head_then_body)
{
	struct centry_src s = small_src();
	size_t len, head, head2;
	unsigned char *whole = encode(&s, &len), *b = malloc(len + 100);

	cr_assert_not_null(b);
	cr_assert_eq(centry_encode_head(&s, NULL, 0, &head, &e), 0, "%s", e.msg);
	cr_expect_eq(head, len - 5);
	cr_expect_eq(centry_encode_head(&s, b, head - 1, &head2, &e), -1);
	cr_assert_eq(centry_encode_head(&s, b, len + 100, &head2, &e), 0, "%s", e.msg);
	cr_expect_eq(head2, head);
	memcpy(b + head, "hello", 5);
	centry_seal(b, head, 5);
	cr_expect_eq(memcmp(b, whole, len), 0, "the same bytes as centry_encode");
	/* a body whose length was not known: the head is written for 0 bytes */
	s.body_len = 0;
	cr_assert_eq(centry_encode_head(&s, b, len + 100, &head2, &e), 0);
	cr_expect_eq(head2, head);
	memcpy(b + head, "hello, world", 12);
	centry_seal(b, head, 12);
	s.body = "hello, world";
	s.body_len = 12;
	expect_round_trip(&s, b, head + 12);
	free(b);
	free(whole);
}

Test(centry, refresh_from_304)
{
	struct centry_src s = small_src();
	struct ckey_field nf[] = { { "Content-Type", 12, "text/plain", 10 },
		                   { "ETag", 4, "\"v1\"", 4 },
		                   { "Cache-Control", 13, "max-age=60", 10 },
		                   { "Vary", 4, "Accept-Encoding", 15 } };
	struct centry_meta m;
	struct centry c, r;
	struct ckey_field f;
	size_t len, need, got;
	unsigned char *b = encode(&s, &len), *copy = malloc(len), *out;

	cr_assert_not_null(copy);
	memcpy(copy, b, len);
	cr_assert_eq(centry_decode(b, len, &c, &e), 0);
	m = c.m;
	m.response_time += 100;
	m.request_time += 99;
	m.date += 100;
	m.age = 0;
	m.lifetime = 60;
	cr_assert_eq(centry_refresh(&c, &m, nf, 4, NULL, 0, &need, &e), 0, "%s", e.msg);
	out = malloc(need);
	cr_assert_not_null(out);
	cr_expect_eq(centry_refresh(&c, &m, nf, 4, out, need - 1, &got, &e), -1);
	cr_expect_not_null(strstr(e.msg, "needs"), "%s", e.msg);
	cr_assert_eq(centry_refresh(&c, &m, nf, 4, out, need, &got, &e), 0, "%s", e.msg);
	cr_expect_eq(got, need);
	cr_assert_eq(centry_decode(out, got, &r, &e), 0, "%s", e.msg);
	expect_meta_eq(&r.m, &m);
	cr_expect_eq(r.nfields, 4);
	cr_expect(centry_get(&r, "cache-control", &f));
	cr_expect(span_is(f.value, f.vlen, "max-age=60"));
	cr_expect(span_is(r.body, r.body_len, "hello"));
	cr_expect_eq(r.nvary, 1);
	cr_expect_eq(memcmp(b, copy, len), 0, "the old entry is untouched");
	/* bad new fields are refused like any encode */
	nf[2].value = "a\r\nb";
	nf[2].vlen = 4;
	cr_expect_eq(centry_refresh(&c, &m, nf, 4, NULL, 0, &need, &e), -1);
	free(out);
	free(copy);
	free(b);
}

/* ---- what the encoder refuses -------------------------------------------- */

Test(centry, encoder_rules)
{
	static char longname[CENTRY_MAX_NAME + 2], longvalue[CENTRY_MAX_VALUE + 2];
	static struct ckey_field many[CENTRY_MAX_FIELDS + 1];
	static const struct ckey_span two[] = { { "b", 1 }, { "a", 1 } },
	                              dup[] = { { "a", 1 }, { "a", 1 } },
	                              upper[] = { { "Accept", 6 } }, empty[] = { { "", 0 } },
	                              prefix[] = { { "ab", 2 }, { "a", 1 } },
	                              sp[] = { { "a b", 3 } };
	const struct {
		const char *what;
		struct ckey_field f;
		const struct ckey_span *vary;
		size_t nvary;
	} cases[] = {
		{ "name with space", { "X Y", 3, "v", 1 }, NULL, 0 },
		{ "empty name", { "", 0, "v", 1 }, NULL, 0 },
		{ "name with colon", { "X:", 2, "v", 1 }, NULL, 0 },
		{ "name with NUL", { "X\0Y", 3, "v", 1 }, NULL, 0 },
		{ "value with CR", { "X", 1, "a\rb", 3 }, NULL, 0 },
		{ "value with LF", { "X", 1, "a\nb", 3 }, NULL, 0 },
		{ "value with NUL", { "X", 1, "a\0b", 3 }, NULL, 0 },
		{ "value with DEL", { "X", 1, "a\x7f", 2 }, NULL, 0 },
		{ "value with ^A", { "X", 1, "\x01", 1 }, NULL, 0 },
		{ "name too long", { longname, CENTRY_MAX_NAME + 1, "v", 1 }, NULL, 0 },
		{ "value too long", { "X", 1, longvalue, CENTRY_MAX_VALUE + 1 }, NULL, 0 },
		{ "vary out of order", { "X", 1, "v", 1 }, two, 2 },
		{ "vary duplicate", { "X", 1, "v", 1 }, dup, 2 },
		{ "vary upper case", { "X", 1, "v", 1 }, upper, 1 },
		{ "vary empty", { "X", 1, "v", 1 }, empty, 1 },
		{ "vary prefix after", { "X", 1, "v", 1 }, prefix, 2 },
		{ "vary not a token", { "X", 1, "v", 1 }, sp, 1 },
	};
	struct centry_src s;
	size_t i, len;

	memset(longname, 'n', sizeof longname - 1);
	memset(longvalue, 'v', sizeof longvalue - 1);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		s = (struct centry_src){ meta(), &cases[i].f, 1, cases[i].vary, cases[i].nvary,
			                 NULL, 0 };
		cr_expect_eq(centry_encode(&s, NULL, 0, &len, &e), -1, "%s", cases[i].what);
	}
	/* the longest name and value allowed are fine, and obs-text and HTAB */
	s = (struct centry_src){ meta(), &(struct ckey_field){ longname, CENTRY_MAX_NAME,
		                                               longvalue, CENTRY_MAX_VALUE },
		                 1, NULL, 0, NULL, 0 };
	cr_expect_eq(centry_encode(&s, NULL, 0, &len, &e), 0, "%s", e.msg);
	s.fields = &(struct ckey_field){ "X", 1, "\t\x80\xff ~", 5 };
	cr_expect_eq(centry_encode(&s, NULL, 0, &len, &e), 0, "%s", e.msg);
	/* too many fields */
	for (i = 0; i <= CENTRY_MAX_FIELDS; i++)
		many[i] = (struct ckey_field){ "X", 1, "", 0 };
	s = (struct centry_src){ meta(), many, CENTRY_MAX_FIELDS, NULL, 0, NULL, 0 };
	cr_expect_eq(centry_encode(&s, NULL, 0, &len, &e), 0, "%s", e.msg);
	s.nfields++;
	cr_expect_eq(centry_encode(&s, NULL, 0, &len, &e), -1);
	cr_expect_not_null(strstr(e.msg, "header fields"), "%s", e.msg);
}

Test(centry, encoder_meta_rules)
{
	static const struct ckey_span one[] = { { "a", 1 } };
	struct centry_src ok = small_src(), s;
	size_t len, i;
	unsigned char buf[1024];

	for (i = 0; i < 15; i++) {
		s = ok;
		switch (i) {
		case 0: s.m.kind = 0; break;
		case 1: s.m.kind = 3; break;
		case 2: s.m.flags = 0x10; break;
		case 3: s.m.flags = 0x80000000u; break;
		case 4: s.m.status = 199; break;
		case 5: s.m.status = 600; break;
		case 6: s.m.status = 0; break;
		case 7: s.m.age = -1; break;
		case 8: s.m.lifetime = -1; break;
		case 9: s.m.stale_while_revalidate = INT64_MIN; break;
		case 10: s.m.stale_if_error = -5; break;
		case 11: /* an index with a status */
			s.m.kind = CENTRY_VARIANTS;
			s.nfields = 0;
			s.body_len = 0;
			s.m.flags = 0;
			break;
		case 12: /* an index with a body */
			s.m.kind = CENTRY_VARIANTS;
			s.m.status = 0;
			s.m.flags = 0;
			s.nfields = 0;
			break;
		case 13: /* an index without names */
			s.m.kind = CENTRY_VARIANTS;
			s.m.status = 0;
			s.m.flags = 0;
			s.nfields = 0;
			s.body_len = 0;
			s.nvary = 0;
			break;
		case 14: /* an index with fields */
			s.m.kind = CENTRY_VARIANTS;
			s.m.status = 0;
			s.m.flags = 0;
			s.body_len = 0;
			s.vary = one;
			break;
		}
		memset(&e, 0, sizeof e);
		cr_expect_eq(centry_encode(&s, NULL, 0, &len, &e), -1, "case %zu", i);
		cr_expect_neq(e.msg[0], '\0', "case %zu", i);
	}
	/* a buffer one byte short of the entry */
	cr_assert_eq(centry_encode(&ok, NULL, 0, &len, &e), 0);
	cr_assert_lt(len, sizeof buf);
	for (i = 0; i < len; i++)
		cr_expect_eq(centry_encode(&ok, buf, i, &len, &e), -1, "cap %zu", i);
	cr_expect_eq(centry_encode(&ok, buf, len, &len, &e), 0);
}

/* ---- what the decoder refuses --------------------------------------------- */

/* Cut at every byte, the blob is refused; and it still is with its length
 * fields edited to match and the checksum recomputed, unless the cut falls
 * in the body (a shorter body, consistently labelled, is a valid entry). */
Test(centry, truncated_at_every_byte)
{
	struct centry_src s = small_src();
	struct centry c;
	size_t len, n;
	unsigned char *b = encode(&s, &len);

	for (n = 0; n < len; n++) {
		unsigned char *cut = malloc(n ? n : 1); /* exact size: ASan sees overreads */
		int rc;

		cr_assert_not_null(cut);
		memcpy(cut, b, n);
		memset(&e, 0, sizeof e);
		rc = centry_decode(cut, n, &c, &e);
		cr_expect_lt(rc, 0, "cut at %zu", n);
		cr_expect_neq(e.msg[0], '\0', "cut at %zu", n);
		if (n >= 4)
			cr_expect_eq(rc, CENTRY_ECORRUPT, "cut at %zu: %d %s", n, rc, e.msg);
		if (n >= CENTRY_HEAD_FIXED) {
			set64(cut + 16, n);
			set64(cut + 104, get64(cut + 104) - (len - n));
			fix_crc(cut, n);
			rc = centry_decode(cut, n, &c, &e);
			cr_expect_eq(rc, n < len - 5 ? CENTRY_ECORRUPT : 0, "fixed cut at %zu", n);
		}
		free(cut);
	}
	/* a byte too many */
	b = realloc(b, len + 1);
	cr_assert_not_null(b);
	b[len] = 0;
	cr_expect_eq(centry_decode(b, len + 1, &c, &e), CENTRY_ECORRUPT);
	cr_expect_not_null(strstr(e.msg, "says it has"), "%s", e.msg);
	free(b);
}

Test(centry, every_byte_flipped)
{
	struct centry_src s = small_src();
	struct centry c;
	size_t len, i;
	unsigned char *b = encode(&s, &len);
	static const unsigned char masks[] = { 0x01, 0x80, 0xff };
	size_t m;

	for (i = 0; i < len; i++)
		for (m = 0; m < sizeof masks; m++) {
			int rc;

			b[i] ^= masks[m];
			rc = centry_decode(b, len, &c, &e);
			b[i] ^= masks[m];
			if (i < 4)
				cr_expect_eq(rc, CENTRY_ENOTENTRY, "byte %zu", i);
			else if (i < 6)
				cr_expect_eq(rc, CENTRY_EVERSION, "byte %zu", i);
			else
				cr_expect_eq(rc, CENTRY_ECORRUPT, "byte %zu ^ %x: %d", i, masks[m], rc);
		}
	cr_expect_eq(centry_decode(b, len, &c, &e), 0);
	free(b);
}

Test(centry, magic_and_version)
{
	struct centry_src s = small_src();
	struct centry c;
	size_t len;
	unsigned char *b = encode(&s, &len);

	/* another version with a valid checksum: reported, not parsed */
	b[4] = 2;
	fix_crc(b, len);
	cr_expect_eq(centry_decode(b, len, &c, &e), CENTRY_EVERSION);
	cr_expect_not_null(strstr(e.msg, "version 2"), "%s", e.msg);
	b[4] = 0;
	fix_crc(b, len);
	cr_expect_eq(centry_decode(b, len, &c, &e), CENTRY_EVERSION);
	b[4] = 1;
	b[5] = 1;
	cr_expect_eq(centry_decode(b, len, &c, &e), CENTRY_EVERSION);
	b[5] = 0;
	/* another magic */
	memcpy(b, "EDGX", 4);
	fix_crc(b, len);
	cr_expect_eq(centry_decode(b, len, &c, &e), CENTRY_ENOTENTRY);
	cr_expect_not_null(strstr(e.msg, "not an edged"), "%s", e.msg);
	cr_expect_eq(centry_decode("", 0, &c, &e), CENTRY_ENOTENTRY);
	cr_expect_eq(centry_decode("E", 1, &c, &e), CENTRY_ECORRUPT);
	cr_expect_eq(centry_decode("X", 1, &c, &e), CENTRY_ENOTENTRY);
	cr_expect_eq(centry_decode("EDGC\x01", 5, &c, &e), CENTRY_ECORRUPT);
	cr_expect_eq(centry_decode("EDGC\x02\x00", 6, &c, &e), CENTRY_EVERSION);
	cr_expect_eq(centry_decode("{\"json\": 1}", 11, &c, &e), CENTRY_ENOTENTRY);
	free(b);
}

/* Damage with a valid checksum, so the structural checks are what
 * catches it: each edit is applied to a fresh copy of the small entry. */
Test(centry, structure_with_valid_checksum)
{
	struct centry_src s = small_src();
	size_t len;
	unsigned char *orig = encode(&s, &len);
	const size_t f0 = CENTRY_HEAD_FIXED;                /* first field record */
	const size_t v0 = len - 5 - (4 + 16);               /* the Vary record */
	const struct {
		const char *what;
		size_t off;     /* where */
		int width;      /* 1, 2, 4 or 8 bytes */
		uint64_t value;
	} edits[] = {
		{ "kind 0", 6, 2, 0 },
		{ "kind 3", 6, 2, 3 },
		{ "flags unknown", 12, 4, 0x100 },
		{ "total huge", 16, 8, UINT64_MAX },
		{ "total one more", 16, 8, 0 }, /* value set below */
		{ "status 0", 24, 2, 0 },
		{ "status 999", 24, 2, 999 },
		{ "reserved 16", 26, 2, 1 },
		{ "nfields huge", 28, 4, UINT32_MAX },
		{ "nfields over max", 28, 4, CENTRY_MAX_FIELDS + 1 },
		{ "nfields one more", 28, 4, 4 },
		{ "nfields one less", 28, 4, 2 },
		{ "nvary huge", 32, 4, UINT32_MAX },
		{ "nvary one more", 32, 4, 2 },
		{ "nvary none", 32, 4, 0 },
		{ "age < 0", 64, 8, UINT64_MAX },
		{ "lifetime < 0", 72, 8, (uint64_t)INT64_MIN },
		{ "swr < 0", 80, 8, UINT64_MAX },
		{ "sie < 0", 88, 8, UINT64_MAX - 1 },
		{ "body_len huge", 104, 8, UINT64_MAX },
		{ "body_len one more", 104, 8, 6 },
		{ "body_len one less", 104, 8, 4 },
		{ "body_len 0", 104, 8, 0 },
		{ "name length huge", f0, 4, UINT32_MAX },
		{ "name length 0", f0, 4, 0 },
		{ "name length over max", f0, 4, CENTRY_MAX_NAME + 1 },
		{ "name length +1", f0, 4, 13 },
		{ "value length huge", f0 + 4, 4, UINT32_MAX },
		{ "value length over max", f0 + 4, 4, CENTRY_MAX_VALUE + 1 },
		{ "value length +1", f0 + 4, 4, 11 },
		{ "value length -1", f0 + 4, 4, 9 },
		{ "name NUL missing", f0 + 8 + 12, 1, 'x' },
		{ "name byte", f0 + 8 + 1, 1, ' ' },
		{ "name NUL inside", f0 + 8 + 1, 1, 0 },
		{ "value NUL missing", f0 + 8 + 13 + 10, 1, 'x' },
		{ "value CR", f0 + 8 + 13 + 1, 1, '\r' },
		{ "value NUL inside", f0 + 8 + 13 + 1, 1, 0 },
		{ "vary length huge", v0, 4, UINT32_MAX },
		{ "vary length 0", v0, 4, 0 },
		{ "vary length +1", v0, 4, 16 },
		{ "vary upper case", v0 + 4, 1, 'A' },
		{ "vary NUL missing", v0 + 4 + 15, 1, 'h' },
		{ "vary space", v0 + 4 + 3, 1, ' ' },
	};
	size_t i;

	for (i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		unsigned char *b = malloc(len);
		struct centry c;
		uint64_t v = edits[i].value;
		int k;

		memcpy(b, orig, len);
		if (strcmp(edits[i].what, "total one more") == 0)
			v = len + 1;
		for (k = 0; k < edits[i].width; k++)
			b[edits[i].off + (size_t)k] = (unsigned char)(v >> (8 * k));
		fix_crc(b, len);
		memset(&e, 0, sizeof e);
		cr_expect_eq(centry_decode(b, len, &c, &e), CENTRY_ECORRUPT, "%s", edits[i].what);
		cr_expect_neq(e.msg[0], '\0', "%s", edits[i].what);
		free(b);
	}
	/* and the original still decodes */
	cr_expect_eq(centry_decode(orig, len, &(struct centry){ 0 }, &e), 0);
	free(orig);
}

/* Vary names out of order or duplicated, built by hand with a valid CRC. */
Test(centry, vary_order_enforced)
{
	static const struct ckey_span ab[] = { { "a", 1 }, { "b", 1 } };
	struct centry_src s = { meta(), NULL, 0, ab, 2, NULL, 0 };
	struct centry c;
	size_t len;
	unsigned char *b = encode(&s, &len);

	cr_assert_eq(centry_decode(b, len, &c, &e), 0);
	b[CENTRY_HEAD_FIXED + 4] = 'b'; /* "b", "b" */
	fix_crc(b, len);
	cr_expect_eq(centry_decode(b, len, &c, &e), CENTRY_ECORRUPT);
	b[CENTRY_HEAD_FIXED + 4 + 6 + 4 - 4] = 'a'; /* "b", "a" */
	fix_crc(b, len);
	cr_expect_eq(centry_decode(b, len, &c, &e), CENTRY_ECORRUPT);
	free(b);
}

/* ---- CRC-32C --------------------------------------------------------------- */

/* bit by bit, straight from the definition */
static uint32_t
crc_ref(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

Test(centry, crc32c)
{
	static unsigned char buf[4096 + 16];
	size_t i, off, n;

	cr_expect_eq(centry_crc32c(0, "123456789", 9), 0xe3069283u, "the CRC-32C check value");
	cr_expect_eq(centry_crc32c(0, "", 0), 0);
	for (i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 131 + (i >> 7));
	for (off = 0; off < 9; off++)
		for (n = 0; n + off <= sizeof buf; n += n < 64 ? 1 : 397) {
			uint32_t want = crc_ref(buf + off, n);

			centry_crc_force_soft = 0;
			cr_expect_eq(centry_crc32c(0, buf + off, n), want, "off %zu n %zu", off, n);
			centry_crc_force_soft = 1;
			cr_expect_eq(centry_crc32c(0, buf + off, n), want, "soft off %zu n %zu", off, n);
			/* chaining: a then b is the CRC of ab */
			cr_expect_eq(centry_crc32c(centry_crc32c(0, buf + off, n / 3), buf + off + n / 3,
			                           n - n / 3),
			             want);
			centry_crc_force_soft = 0;
		}
}

/* ---- with ckey ------------------------------------------------------------- */

/* The Vary names ckey_vary_parse gives are what an index stores, and the
 * index's names build the same variant key as the parsed ones. */
Test(centry, index_from_vary_parse)
{
	static const struct ckey_span vary_lines[] = { { "Origin, Accept-Encoding", 23 },
		                                       { "accept-encoding , X-Ab, x-a", 27 } };
	static const struct ckey_field req[] = { { "Accept-Encoding", 15, "gzip, br", 8 },
		                                 { "Origin", 6, "https://a.test", 14 } };
	char names_buf[256], canon[1024];
	struct ckey_span names[CKEY_MAX_NAMES], stored[CENTRY_MAX_VARY];
	struct ckey primary, v1, v2;
	struct centry_src s = { meta(), NULL, 0, names, 0, NULL, 0 };
	struct centry c;
	size_t nn, len;
	unsigned char *b;

	memset(&primary, 0, sizeof primary);
	ckey_format_id(primary.digest, primary.id);
	cr_assert_eq(ckey_vary_parse(vary_lines, 2, names_buf, sizeof names_buf, names,
	                             CKEY_MAX_NAMES, &nn, &e), 0, "%s", e.msg);
	cr_assert_eq(nn, 4);
	s.nvary = nn;
	s.m.kind = CENTRY_VARIANTS;
	s.m.status = 0;
	s.m.flags = 0;
	s.m.vary_id = 99;
	b = encode(&s, &len);
	cr_assert_eq(centry_decode(b, len, &c, &e), 0, "%s", e.msg);
	cr_assert_eq(centry_vary(&c, stored, CENTRY_MAX_VARY), 4);
	cr_assert_eq(ckey_variant(&primary, c.m.vary_id, names, nn, req, 2, canon, sizeof canon,
	                          &v1, &e), 0);
	cr_assert_eq(ckey_variant(&primary, c.m.vary_id, stored, 4, req, 2, canon, sizeof canon,
	                          &v2, &e), 0);
	cr_expect_str_eq(v1.id, v2.id);
	cr_expect(span_is(stored[0].p, stored[0].len, "accept-encoding"));
	cr_expect(span_is(stored[3].p, stored[3].len, "x-ab"));
	free(b);
}

/* ---- keyed MAC (cache_secret_file) ----------------------------------------- */

static const char SECRET[] = "0123456789abcdef0123456789abcdef"; /* 32 bytes */
static const char RKEY[] = "edged:v1:abababababababababababababababababababababababababababababababab";

/* A small response entry followed by its tag under RKEY: *vlen bytes. */
static unsigned char *
tagged(size_t *blen, size_t *vlen)
{
	static const struct ckey_field f[] = { { "Content-Type", 12, "text/plain", 10 } };
	struct centry_src s = { .m = meta(), .fields = f, .nfields = 1, .body = "forged?",
	                        .body_len = 7 };
	unsigned char *b = encode(&s, blen);

	b = realloc(b, *blen + CENTRY_MAC_LEN);
	cr_assert_not_null(b);
	cr_assert_eq(centry_mac(SECRET, 32, RKEY, strlen(RKEY), b, *blen, b + *blen, &e), 0, "%s",
	             e.msg);
	*vlen = *blen + CENTRY_MAC_LEN;
	return b;
}

Test(centry, mac_known_answer)
{
	/* python3: hmac.new(secret, b"edged-entry-mac-1\0" + struct.pack("<I",
	 * len(key)) + key + blob, hashlib.sha256) */
	static const char want[] =
	    "a5cbc4bc53b1790f807c9a3419eb174efc5905a06ad42e1f5389f4d84c413981";
	unsigned char tag[CENTRY_MAC_LEN];
	char hex[2 * CENTRY_MAC_LEN + 1];
	size_t i;

	cr_assert_eq(centry_mac(SECRET, 32, RKEY, strlen(RKEY), "hello, entry", 12, tag, &e), 0);
	for (i = 0; i < CENTRY_MAC_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", tag[i]);
	cr_expect_str_eq(hex, want);
}

Test(centry, mac_round_trip)
{
	size_t blen, vlen, got = 1;
	unsigned char *v = tagged(&blen, &vlen);
	struct centry c;

	cr_assert_eq(centry_mac_check(SECRET, 32, RKEY, strlen(RKEY), v, vlen, &got, &e), 0, "%s",
	             e.msg);
	cr_expect_eq(got, blen);
	cr_assert_eq(centry_decode(v, got, &c, &e), 0, "%s", e.msg);
	cr_expect_eq(c.body_len, 7);
	cr_expect_eq(memcmp(c.body, "forged?", 7), 0);
	/* the CRC the memory tier rechecks is where it always was, over the
	 * blob alone */
	{
		uint32_t crc = centry_crc32c(centry_crc32c(0, v, 8), v + 12, blen - 12);

		cr_expect_eq(v[8] | v[9] << 8 | v[10] << 16 | (uint32_t)v[11] << 24, crc);
	}
	/* a tagged value read by a node without a secret is refused, not misread */
	cr_expect_eq(centry_decode(v, vlen, &c, &e), CENTRY_ECORRUPT);
	free(v);
}

Test(centry, mac_refuses_every_change)
{
	size_t blen, vlen, i, got;
	unsigned char *v = tagged(&blen, &vlen);
	char other[sizeof RKEY];
	char secret2[33];

	/* each byte of the blob or the tag flipped */
	for (i = 0; i < vlen; i++) {
		v[i] ^= 0x20;
		got = 1;
		cr_assert_eq(centry_mac_check(SECRET, 32, RKEY, strlen(RKEY), v, vlen, &got, &e),
		             CENTRY_EMAC, "byte %zu flipped", i);
		cr_assert_eq(got, 0);
		v[i] ^= 0x20;
	}
	/* the same value under another key (one hex digit off, or shorter) */
	memcpy(other, RKEY, sizeof RKEY);
	other[sizeof RKEY - 2] = 'c';
	cr_expect_eq(centry_mac_check(SECRET, 32, other, strlen(other), v, vlen, &got, &e),
	             CENTRY_EMAC);
	cr_expect_eq(centry_mac_check(SECRET, 32, RKEY, strlen(RKEY) - 1, v, vlen, &got, &e),
	             CENTRY_EMAC);
	/* another secret, or the same one longer */
	memcpy(secret2, SECRET, 32);
	secret2[0] = 'X';
	cr_expect_eq(centry_mac_check(secret2, 32, RKEY, strlen(RKEY), v, vlen, &got, &e),
	             CENTRY_EMAC);
	memcpy(secret2, SECRET, 32);
	secret2[32] = 'x';
	cr_expect_eq(centry_mac_check(secret2, 33, RKEY, strlen(RKEY), v, vlen, &got, &e),
	             CENTRY_EMAC);
	/* the blob alone (a node without a secret wrote it), cut tags, short
	 * values */
	cr_expect_eq(centry_mac_check(SECRET, 32, RKEY, strlen(RKEY), v, blen, &got, &e),
	             CENTRY_EMAC);
	for (i = 0; i < vlen; i++)
		cr_assert_eq(centry_mac_check(SECRET, 32, RKEY, strlen(RKEY), v, i, &got, &e),
		             CENTRY_EMAC, "%zu bytes", i);
	cr_expect_eq(centry_mac_check(SECRET, 32, RKEY, strlen(RKEY), NULL, 0, &got, &e),
	             CENTRY_EMAC);
	/* still good after all that */
	cr_expect_eq(centry_mac_check(SECRET, 32, RKEY, strlen(RKEY), v, vlen, &got, &e), 0);
	free(v);
}

Test(centry, mac_secret_length)
{
	unsigned char tag[CENTRY_MAC_LEN];
	size_t got;

	cr_expect_eq(centry_mac(SECRET, 31, RKEY, strlen(RKEY), "x", 1, tag, &e), -1);
	cr_expect_eq(centry_mac_check(SECRET, 31, RKEY, strlen(RKEY), tag, sizeof tag, &got, &e),
	             CENTRY_EMAC, "a short secret verifies nothing");
	cr_expect_eq(centry_mac(SECRET, 32, "", 0, "", 0, tag, &e), 0, "empty key and blob");
}

Test(centry, mac_large_blob)
{
	size_t n = 8u << 20, got;
	unsigned char *v = malloc(n + CENTRY_MAC_LEN);

	cr_assert_not_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = (unsigned char)(i * 7);
	cr_assert_eq(centry_mac(SECRET, 32, RKEY, strlen(RKEY), v, n, v + n, &e), 0);
	cr_expect_eq(centry_mac_check(SECRET, 32, RKEY, strlen(RKEY), v, n + CENTRY_MAC_LEN, &got,
	                              &e), 0);
	cr_expect_eq(got, n);
	v[n / 2] ^= 1;
	cr_expect_eq(centry_mac_check(SECRET, 32, RKEY, strlen(RKEY), v, n + CENTRY_MAC_LEN, &got,
	                              &e), CENTRY_EMAC);
	free(v);
}
