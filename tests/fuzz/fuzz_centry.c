/*
 * fuzz_centry.c: libFuzzer target for the cache entry format.
 *
 * The first input byte picks the mode, the rest is the data:
 *   bit 0  write the correct checksum into the data first (else almost
 *          nothing passes the CRC and the structure is never reached);
 *   bit 1  also write the data's true length into the total-length field;
 *   bit 2  instead treat the data as a recipe ("name:value" lines, "~name"
 *          Vary lines, the first line the body) and encode it.
 * Whatever the decoder gets (a copy of exactly the right size, so ASan
 * sees any overread) it must accept or refuse with a documented code and a
 * message; an accepted blob's view must lie inside it, its names and
 * values be NUL-terminated, the body end the blob, and re-encoding the
 * view (whole, head then seal, or as a refresh) give the same bytes; one
 * byte less must be refused.  A recipe the encoder accepts must decode to
 * what went in.  The MAC (centry_mac_check) refuses whatever bytes come
 * in as a tagged value, and accepts an encoded recipe tagged with
 * centry_mac, but not once one byte of it (chosen by the data) is changed
 * or under another key.  Any broken invariant abort()s.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "centry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SECRET[] = "fuzz-secret-fuzz-secret-fuzz-secret!";
static const char KEY[] = "edged:v1:fuzz";

static void
put_le(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
check_inside(const struct centry *c, const char *p, size_t n)
{
	const char *b = (const char *)c->blob;

	if (p < b || p > b + c->len || n > (size_t)(b + c->len - p))
		abort();
}

/* Re-encode the view c three ways and compare with its blob. */
static void
reencode(const struct centry *c)
{
	static struct ckey_field fields[CENTRY_MAX_FIELDS];
	struct ckey_span vary[CENTRY_MAX_VARY];
	struct centry_src s;
	struct ckey_field f;
	struct centry c2;
	struct err e;
	unsigned char *b;
	size_t it = 0, n = 0, len, head;

	while (centry_field(c, &it, &f)) {
		if (n >= c->nfields)
			abort();
		check_inside(c, f.name, f.nlen + 1);
		check_inside(c, f.value, f.vlen + 1);
		if (f.name[f.nlen] != '\0' || f.value[f.vlen] != '\0' || f.nlen == 0)
			abort();
		fields[n++] = f;
	}
	if (n != c->nfields || centry_vary(c, vary, CENTRY_MAX_VARY) != c->nvary)
		abort();
	for (it = 0; it < c->nvary; it++) {
		check_inside(c, vary[it].p, vary[it].len + 1);
		if (vary[it].p[vary[it].len] != '\0')
			abort();
	}
	check_inside(c, c->body, c->body_len);
	if (c->body + c->body_len != (const char *)c->blob + c->len)
		abort();
	s = (struct centry_src){ c->m, fields, n, vary, c->nvary, c->body, c->body_len };
	if (centry_encode(&s, NULL, 0, &len, &e) != 0 || len != c->len)
		abort();
	b = malloc(len);
	if (b == NULL)
		return;
	if (centry_encode(&s, b, len, &len, &e) != 0 || memcmp(b, c->blob, len) != 0)
		abort();
	memset(b, 0xaa, len);
	if (centry_encode_head(&s, b, len, &head, &e) != 0 || head + c->body_len != len)
		abort();
	memcpy(b + head, c->body, c->body_len);
	centry_seal(b, head, c->body_len);
	if (memcmp(b, c->blob, len) != 0)
		abort();
	memset(b, 0x55, len);
	if (centry_refresh(c, &c->m, fields, n, b, len, &len, &e) != 0 ||
	    memcmp(b, c->blob, len) != 0)
		abort();
	if (centry_decode(b, len, &c2, &e) != 0 || c2.nfields != c->nfields)
		abort();
	free(b);
}

static void
decode_bytes(const unsigned char *data, size_t size, int mode)
{
	struct centry c;
	struct err e;
	unsigned char *buf = malloc(size ? size : 1);
	int rc;

	if (buf == NULL)
		return;
	memcpy(buf, data, size);
	if ((mode & 2) && size >= CENTRY_HEAD_FIXED)
		put_le(buf + 16, size, 8);
	if ((mode & 1) && size >= 12)
		put_le(buf + 8, centry_crc32c(centry_crc32c(0, buf, 8), buf + 12, size - 12), 4);
	{
		size_t blen = 1;

		if (centry_mac_check(SECRET, sizeof SECRET - 1, KEY, sizeof KEY - 1, buf, size,
		                     &blen, &e) != CENTRY_EMAC || blen != 0)
			abort(); /* no forgery from the data alone */
	}
	e.msg[0] = '\0';
	rc = centry_decode(buf, size, &c, &e);
	if (rc != 0 && rc != CENTRY_ENOTENTRY && rc != CENTRY_EVERSION && rc != CENTRY_ECORRUPT)
		abort();
	if (rc != 0 && e.msg[0] == '\0')
		abort();
	if (rc == 0) {
		if (c.blob != buf || c.len != size)
			abort();
		reencode(&c);
		if (centry_decode(buf, size - 1, &c, &e) == 0)
			abort();
	}
	free(buf);
}

/* The data as a recipe: body, then "name:value" and "~vary" lines. */
static void
encode_recipe(const unsigned char *data, size_t size)
{
	static struct ckey_field fields[CENTRY_MAX_FIELDS + 1];
	struct ckey_span vary[CENTRY_MAX_VARY + 1];
	struct centry_src s;
	struct centry c;
	struct err e;
	const char *p = (const char *)data, *end = p + size, *nl;
	unsigned char *b;
	size_t len, i, nf = 0, nv = 0;

	memset(&s, 0, sizeof s);
	s.m.kind = CENTRY_RESPONSE;
	s.m.status = 200;
	if (size >= 2) {
		s.m.status = 200 + (data[0] | data[1] << 8) % 400;
		s.m.flags = data[0] & CENTRY_F_ALL;
		s.m.lifetime = data[1];
		s.m.vary_id = data[0];
	}
	nl = memchr(p, '\n', size);
	s.body = p;
	s.body_len = nl != NULL ? (size_t)(nl - p) : size;
	p = nl != NULL ? nl + 1 : end;
	while (p < end) {
		const char *colon;
		size_t n;

		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[0] == '~' && nv <= CENTRY_MAX_VARY) {
			vary[nv++] = (struct ckey_span){ p + 1, n - 1 };
		} else if (nf <= CENTRY_MAX_FIELDS) {
			colon = memchr(p, ':', n);
			fields[nf].name = p;
			fields[nf].nlen = colon != NULL ? (size_t)(colon - p) : n;
			fields[nf].value = colon != NULL ? colon + 1 : NULL;
			fields[nf].vlen = colon != NULL ? n - fields[nf].nlen - 1 : 0;
			nf++;
		}
		p += n + 1;
	}
	s.fields = fields;
	s.nfields = nf;
	s.vary = vary;
	s.nvary = nv;
	if (nv > 0 && nf == 0 && s.body_len == 0 && size >= 1 && (data[0] & 0x80)) {
		s.m.kind = CENTRY_VARIANTS; /* try an index too */
		s.m.status = 0;
		s.m.flags = 0;
	}
	if (centry_encode(&s, NULL, 0, &len, &e) != 0)
		return;
	b = malloc(len);
	if (b == NULL)
		return;
	if (centry_encode(&s, b, len, &len, &e) != 0 || centry_decode(b, len, &c, &e) != 0)
		abort();
	if (c.nfields != nf || c.nvary != nv || c.body_len != s.body_len ||
	    memcmp(c.body, s.body, s.body_len) != 0 || c.m.status != s.m.status ||
	    c.m.flags != s.m.flags || c.m.kind != s.m.kind)
		abort();
	for (i = 0; i < nf; i++) {
		char name[CENTRY_MAX_NAME + 1];
		struct ckey_field f;
		size_t j = 0;

		/* centry_get finds the first field of that name, case-insensitively */
		memcpy(name, fields[i].name, fields[i].nlen);
		name[fields[i].nlen] = '\0';
		while (fields[j].nlen != fields[i].nlen ||
		       strncasecmp(fields[j].name, name, fields[i].nlen) != 0)
			j++;
		if (!centry_get(&c, name, &f) || f.vlen != fields[j].vlen ||
		    (f.vlen > 0 && memcmp(f.value, fields[j].value, f.vlen) != 0))
			abort();
	}
	reencode(&c);
	{
		unsigned char *v = malloc(len + CENTRY_MAC_LEN);
		size_t blen, at = size > 0 ? data[size - 1] * 7u % (len + CENTRY_MAC_LEN) : 0;

		if (v != NULL) {
			memcpy(v, b, len);
			if (centry_mac(SECRET, sizeof SECRET - 1, KEY, sizeof KEY - 1, v, len, v + len,
			               &e) != 0 ||
			    centry_mac_check(SECRET, sizeof SECRET - 1, KEY, sizeof KEY - 1, v,
			                     len + CENTRY_MAC_LEN, &blen, &e) != 0 || blen != len ||
			    centry_mac_check(SECRET, sizeof SECRET - 1, KEY, sizeof KEY - 2, v,
			                     len + CENTRY_MAC_LEN, &blen, &e) != CENTRY_EMAC)
				abort();
			v[at] ^= 1;
			if (centry_mac_check(SECRET, sizeof SECRET - 1, KEY, sizeof KEY - 1, v,
			                     len + CENTRY_MAC_LEN, &blen, &e) != CENTRY_EMAC)
				abort();
			free(v);
		}
	}
	free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 4)
		encode_recipe(data + 1, size - 1);
	else
		decode_bytes(data + 1, size - 1, data[0]);
	return 0;
}
