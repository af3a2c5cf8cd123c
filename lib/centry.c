/*
 * centry.c: see centry.h for the layout.  The encoder and the decoder
 * share one set of rules (meta_check, name_ok, value_ok, vary_ok), so a
 * blob the decoder accepts is exactly one the encoder could have written:
 * every byte of it is either a field of the view or fixed by a rule
 * (zeros, NULs, lengths), which is what makes decode-then-encode an
 * identity (the fuzz target checks it).
 *
 * Lengths read from a blob are only ever compared with the bytes left,
 * never added to a position first, so no count or length can overflow.
 *
 * CRC-32C: the SSE4.2 instruction eight bytes at a time where the CPU has
 * it (about 8 GB/s), else slicing-by-8 tables built once under
 * pthread_once.  Both give the same values (unit tests cross-check them).
 */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "centry.h"
#include "hreq.h"

/* ---- little-endian fields -------------------------------------------- */

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Offsets in the fixed head (centry.h). */
enum {
	OFF_MAGIC = 0, OFF_VERSION = 4, OFF_KIND = 6, OFF_CRC = 8, OFF_FLAGS = 12,
	OFF_TOTAL = 16, OFF_STATUS = 24, OFF_ZERO16 = 26, OFF_NFIELDS = 28, OFF_NVARY = 32,
	OFF_GEN = 36, OFF_REQUEST_TIME = 40, OFF_RESPONSE_TIME = 48, OFF_DATE = 56,
	OFF_AGE = 64, OFF_LIFETIME = 72, OFF_SWR = 80, OFF_SIE = 88, OFF_VARY_ID = 96,
	OFF_BODY_LEN = 104, OFF_KEY = 112,
};

/* ---- CRC-32C ------------------------------------------------------------- */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_table[j][i] = (crc_table[j - 1][i] >> 8) ^
			                  crc_table[0][crc_table[j - 1][i] & 0xff];
}

/* crc is the running (inverted) register */
static uint32_t
crc_soft(uint32_t crc, const unsigned char *p, size_t n)
{
	pthread_once(&crc_once, crc_init);
	while (n >= 8) {
		uint32_t lo = crc ^ get32(p), hi = get32(p + 4);

		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t crc, const unsigned char *p, size_t n)
{
	uint64_t c = crc;

	while (n >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}
#endif

int centry_crc_force_soft;

uint32_t
centry_crc32c(uint32_t crc, const void *p, size_t n)
{
	crc = ~crc;
#if defined(__x86_64__)
	if (!centry_crc_force_soft && __builtin_cpu_supports("sse4.2"))
		return ~crc_hw(crc, p, n);
#endif
	return ~crc_soft(crc, p, n);
}

/* The checksum of a blob: everything but its CRC field. */
static uint32_t
blob_crc(const unsigned char *b, size_t len)
{
	return centry_crc32c(centry_crc32c(0, b, OFF_CRC), b + OFF_CRC + 4, len - OFF_CRC - 4);
}

/* ---- rules shared by the encoder and the decoder ----------------------- */

static bool
name_ok(const char *s, size_t n)
{
	return n >= 1 && n <= CENTRY_MAX_NAME && hreq_is_token(s, n);
}

/* HTAB, SP, VCHAR, obs-text (RFC 9110 5.5) */
static bool
value_ok(const char *s, size_t n)
{
	size_t i;

	if (n > CENTRY_MAX_VALUE)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c != '\t' && (c < ' ' || c == 0x7f))
			return false;
	}
	return true;
}

/* a lower-case token after prev (NULL for the first) */
static bool
vary_ok(const char *s, size_t n, const char *prev, size_t plen)
{
	size_t i;
	int c;

	if (!name_ok(s, n))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return false;
	if (prev == NULL)
		return true;
	c = memcmp(prev, s, plen < n ? plen : n);
	return c < 0 || (c == 0 && plen < n);
}

static int
meta_check(const struct centry_meta *m, size_t nfields, size_t nvary, size_t body_len,
           struct err *e)
{
	if (m->kind != CENTRY_RESPONSE && m->kind != CENTRY_VARIANTS)
		return err_set(e, ERR_FAIL, "unknown entry kind %d", (int)m->kind);
	if (nfields > CENTRY_MAX_FIELDS)
		return err_set(e, ERR_FAIL, "%zu header fields (at most %d)", nfields,
		               CENTRY_MAX_FIELDS);
	if (nvary > CENTRY_MAX_VARY)
		return err_set(e, ERR_FAIL, "%zu Vary names (at most %d)", nvary, CENTRY_MAX_VARY);
	if (m->age < 0 || m->lifetime < 0 || m->stale_while_revalidate < 0 ||
	    m->stale_if_error < 0)
		return err_set(e, ERR_FAIL, "negative age, lifetime or stale window");
	if (m->kind == CENTRY_VARIANTS) {
		if (m->status != 0 || m->flags != 0 || nfields != 0 || body_len != 0 || nvary == 0)
			return err_set(e, ERR_FAIL, "a variant index has Vary names and nothing "
			                            "else (no status, flags, fields or body)");
		return 0;
	}
	if ((m->flags & ~CENTRY_F_ALL) != 0)
		return err_set(e, ERR_FAIL, "unknown flags 0x%x", m->flags & ~CENTRY_F_ALL);
	if (m->status < 200 || m->status > 599)
		return err_set(e, ERR_FAIL, "status %u is not 200-599", m->status);
	return 0;
}

/* ---- encoder ------------------------------------------------------------- */

/* Check s and compute the head's size. */
static int
src_check(const struct centry_src *s, size_t *head_len, struct err *e)
{
	size_t i, n = CENTRY_HEAD_FIXED;

	if (meta_check(&s->m, s->nfields, s->nvary, s->body_len, e) < 0)
		return -1;
	for (i = 0; i < s->nfields; i++) {
		const struct ckey_field *f = &s->fields[i];
		const char *v = f->value != NULL ? f->value : "";
		size_t vlen = f->value != NULL ? f->vlen : 0;

		if (!name_ok(f->name, f->nlen))
			return err_set(e, ERR_FAIL, "header field %zu: bad name", i);
		if (!value_ok(v, vlen))
			return err_set(e, ERR_FAIL, "header field %zu (%.*s): bad value", i,
			               (int)f->nlen, f->name);
		n += 8 + f->nlen + 1 + vlen + 1;
	}
	for (i = 0; i < s->nvary; i++) {
		if (!vary_ok(s->vary[i].p, s->vary[i].len, i > 0 ? s->vary[i - 1].p : NULL,
		             i > 0 ? s->vary[i - 1].len : 0))
			return err_set(e, ERR_FAIL, "Vary name %zu: not a lower-case token after "
			                            "the one before", i);
		n += 4 + s->vary[i].len + 1;
	}
	*head_len = n;
	return 0;
}

static unsigned char *
write_head(const struct centry_src *s, unsigned char *b)
{
	const struct centry_meta *m = &s->m;
	unsigned char *p = b + CENTRY_HEAD_FIXED;
	size_t i;

	memset(b, 0, CENTRY_HEAD_FIXED);
	memcpy(b + OFF_MAGIC, CENTRY_MAGIC, 4);
	put16(b + OFF_VERSION, CENTRY_VERSION);
	put16(b + OFF_KIND, (uint16_t)m->kind);
	put32(b + OFF_FLAGS, m->flags);
	put16(b + OFF_STATUS, (uint16_t)m->status);
	put32(b + OFF_NFIELDS, (uint32_t)s->nfields);
	put32(b + OFF_NVARY, (uint32_t)s->nvary);
	put64(b + OFF_REQUEST_TIME, (uint64_t)m->request_time);
	put64(b + OFF_RESPONSE_TIME, (uint64_t)m->response_time);
	put64(b + OFF_DATE, (uint64_t)m->date);
	put64(b + OFF_AGE, (uint64_t)m->age);
	put64(b + OFF_LIFETIME, (uint64_t)m->lifetime);
	put64(b + OFF_SWR, (uint64_t)m->stale_while_revalidate);
	put64(b + OFF_SIE, (uint64_t)m->stale_if_error);
	put64(b + OFF_VARY_ID, m->vary_id);
	put32(b + OFF_GEN, m->gen);
	memcpy(b + OFF_KEY, m->key, CKEY_DIGEST_LEN);
	for (i = 0; i < s->nfields; i++) {
		const struct ckey_field *f = &s->fields[i];
		size_t vlen = f->value != NULL ? f->vlen : 0;

		put32(p, (uint32_t)f->nlen);
		put32(p + 4, (uint32_t)vlen);
		p += 8;
		memcpy(p, f->name, f->nlen);
		p[f->nlen] = '\0';
		p += f->nlen + 1;
		if (vlen > 0)
			memcpy(p, f->value, vlen);
		p[vlen] = '\0';
		p += vlen + 1;
	}
	for (i = 0; i < s->nvary; i++) {
		put32(p, (uint32_t)s->vary[i].len);
		memcpy(p + 4, s->vary[i].p, s->vary[i].len);
		p[4 + s->vary[i].len] = '\0';
		p += 4 + s->vary[i].len + 1;
	}
	return p;
}

int
centry_encode_head(const struct centry_src *s, void *out, size_t cap, size_t *head_len,
                   struct err *e)
{
	size_t n;

	if (src_check(s, &n, e) < 0)
		return -1;
	*head_len = n;
	if (out == NULL)
		return 0;
	if (cap < n)
		return err_set(e, ERR_FAIL, "entry head needs %zu bytes, buffer has %zu", n, cap);
	write_head(s, out);
	return 0;
}

void
centry_seal(void *blob, size_t head_len, size_t body_len)
{
	unsigned char *b = blob;
	size_t len = head_len + body_len;

	put64(b + OFF_BODY_LEN, body_len);
	put64(b + OFF_TOTAL, len);
	put32(b + OFF_CRC, blob_crc(b, len));
}

int
centry_encode(const struct centry_src *s, void *out, size_t cap, size_t *len, struct err *e)
{
	size_t head;

	if (src_check(s, &head, e) < 0)
		return -1;
	if (s->body_len > SIZE_MAX - head)
		return err_set(e, ERR_FAIL, "entry larger than memory");
	*len = head + s->body_len;
	if (out == NULL)
		return 0;
	if (cap < *len)
		return err_set(e, ERR_FAIL, "entry needs %zu bytes, buffer has %zu", *len, cap);
	write_head(s, out);
	if (s->body_len > 0)
		memcpy((unsigned char *)out + head, s->body, s->body_len);
	centry_seal(out, head, s->body_len);
	return 0;
}

/* ---- decoder ------------------------------------------------------------- */

static int corrupt(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
corrupt(struct err *e, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err_set(e, ERR_FAIL, "%s", msg);
	return CENTRY_ECORRUPT;
}

/* Walk the header fields from *at; leaves *at after the last. */
static int
walk_fields(const unsigned char *b, size_t len, size_t *at, size_t n, struct err *e)
{
	size_t i, p = *at;

	for (i = 0; i < n; i++) {
		size_t nlen, vlen;

		if (len - p < 8)
			return corrupt(e, "header field %zu cut at byte %zu", i, len);
		nlen = get32(b + p);
		vlen = get32(b + p + 4);
		p += 8;
		if (nlen < 1 || nlen > CENTRY_MAX_NAME || vlen > CENTRY_MAX_VALUE)
			return corrupt(e, "header field %zu: length out of range at byte %zu", i, p);
		if (len - p < nlen + 1 + vlen + 1)
			return corrupt(e, "header field %zu cut at byte %zu", i, len);
		if (!name_ok((const char *)b + p, nlen) || b[p + nlen] != '\0')
			return corrupt(e, "header field %zu: bad name at byte %zu", i, p);
		p += nlen + 1;
		if (!value_ok((const char *)b + p, vlen) || b[p + vlen] != '\0')
			return corrupt(e, "header field %zu: bad value at byte %zu", i, p);
		p += vlen + 1;
	}
	*at = p;
	return 0;
}

static int
walk_vary(const unsigned char *b, size_t len, size_t *at, size_t n, struct err *e)
{
	size_t i, p = *at, plen = 0;
	const char *prev = NULL;

	for (i = 0; i < n; i++) {
		size_t vl;

		if (len - p < 4)
			return corrupt(e, "Vary name %zu cut at byte %zu", i, len);
		vl = get32(b + p);
		p += 4;
		if (vl > CENTRY_MAX_NAME || len - p < vl + 1)
			return corrupt(e, "Vary name %zu: bad length at byte %zu", i, p);
		if (!vary_ok((const char *)b + p, vl, prev, plen) || b[p + vl] != '\0')
			return corrupt(e, "Vary name %zu: not a lower-case token in order at byte %zu",
			               i, p);
		prev = (const char *)b + p;
		plen = vl;
		p += vl + 1;
	}
	*at = p;
	return 0;
}

int
centry_decode(const void *blob, size_t len, struct centry *c, struct err *e)
{
	const unsigned char *b = blob;
	struct centry_meta *m = &c->m;
	uint64_t total, body_len;
	size_t nfields, nvary, at;
	unsigned version;

	if (len < 4 || memcmp(b, CENTRY_MAGIC, 4) != 0) {
		if (len < 4 && len > 0 && memcmp(b, CENTRY_MAGIC, len) == 0)
			return corrupt(e, "truncated entry: %zu bytes", len);
		err_set(e, ERR_FAIL, "not an edged cache entry");
		return CENTRY_ENOTENTRY;
	}
	if (len < OFF_KIND)
		return corrupt(e, "truncated entry: %zu bytes", len);
	version = get16(b + OFF_VERSION);
	if (version != CENTRY_VERSION) {
		err_set(e, ERR_FAIL, "entry format version %u (this edged reads %d)", version,
		        CENTRY_VERSION);
		return CENTRY_EVERSION;
	}
	if (len < CENTRY_HEAD_FIXED)
		return corrupt(e, "truncated entry: %zu bytes (the head alone is %zu)", len,
		               (size_t)CENTRY_HEAD_FIXED);
	total = get64(b + OFF_TOTAL);
	if (total != len)
		return corrupt(e, "entry of %zu bytes says it has %llu", len,
		               (unsigned long long)total);
	if (get32(b + OFF_CRC) != blob_crc(b, len))
		return corrupt(e, "entry checksum mismatch (%zu bytes)", len);
	if (get16(b + OFF_ZERO16) != 0)
		return corrupt(e, "reserved bytes set at %zu", (size_t)OFF_ZERO16);
	m->kind = (enum centry_kind)get16(b + OFF_KIND);
	m->flags = get32(b + OFF_FLAGS);
	m->status = get16(b + OFF_STATUS);
	m->request_time = (int64_t)get64(b + OFF_REQUEST_TIME);
	m->response_time = (int64_t)get64(b + OFF_RESPONSE_TIME);
	m->date = (int64_t)get64(b + OFF_DATE);
	m->age = (int64_t)get64(b + OFF_AGE);
	m->lifetime = (int64_t)get64(b + OFF_LIFETIME);
	m->stale_while_revalidate = (int64_t)get64(b + OFF_SWR);
	m->stale_if_error = (int64_t)get64(b + OFF_SIE);
	m->vary_id = get64(b + OFF_VARY_ID);
	m->gen = get32(b + OFF_GEN);
	memcpy(m->key, b + OFF_KEY, CKEY_DIGEST_LEN);
	nfields = get32(b + OFF_NFIELDS);
	nvary = get32(b + OFF_NVARY);
	body_len = get64(b + OFF_BODY_LEN);
	if (meta_check(m, nfields, nvary, body_len > len ? len : (size_t)body_len, e) < 0)
		return CENTRY_ECORRUPT;
	at = CENTRY_HEAD_FIXED;
	c->fields_at = at;
	if (walk_fields(b, len, &at, nfields, e) < 0)
		return CENTRY_ECORRUPT;
	c->vary_at = at;
	if (walk_vary(b, len, &at, nvary, e) < 0)
		return CENTRY_ECORRUPT;
	if (body_len != len - at)
		return corrupt(e, "body of %llu bytes where %zu are left",
		               (unsigned long long)body_len, len - at);
	c->nfields = nfields;
	c->nvary = nvary;
	c->body = (const char *)b + at;
	c->body_len = (size_t)body_len;
	c->blob = b;
	c->len = len;
	return 0;
}

/* ---- views --------------------------------------------------------------- */

bool
centry_field(const struct centry *c, size_t *it, struct ckey_field *f)
{
	size_t p = *it == 0 ? c->fields_at : *it;
	size_t nlen, vlen;

	if (p >= c->vary_at)
		return false;
	nlen = get32(c->blob + p);
	vlen = get32(c->blob + p + 4);
	f->name = (const char *)c->blob + p + 8;
	f->nlen = nlen;
	f->value = f->name + nlen + 1;
	f->vlen = vlen;
	*it = p + 8 + nlen + 1 + vlen + 1;
	return true;
}

bool
centry_get(const struct centry *c, const char *name, struct ckey_field *f)
{
	size_t it = 0, n = strlen(name);

	while (centry_field(c, &it, f))
		if (f->nlen == n && strncasecmp(f->name, name, n) == 0)
			return true;
	return false;
}

size_t
centry_vary(const struct centry *c, struct ckey_span *names, size_t max)
{
	size_t i, p = c->vary_at;

	for (i = 0; i < c->nvary && i < max; i++) {
		names[i].len = get32(c->blob + p);
		names[i].p = (const char *)c->blob + p + 4;
		p += 4 + names[i].len + 1;
	}
	return c->nvary;
}

int
centry_refresh(const struct centry *old, const struct centry_meta *m,
               const struct ckey_field *fields, size_t nfields, void *out, size_t cap,
               size_t *len, struct err *e)
{
	struct ckey_span vary[CENTRY_MAX_VARY];
	struct centry_src s;

	s.m = *m;
	s.fields = fields;
	s.nfields = nfields;
	s.nvary = centry_vary(old, vary, CENTRY_MAX_VARY);
	s.vary = vary;
	s.body = old->body;
	s.body_len = old->body_len;
	return centry_encode(&s, out, cap, len, e);
}

/* ---- keyed MAC ------------------------------------------------------------ */

#define MAC_LABEL "edged-entry-mac-1" /* and its NUL */

/* gnutls_hmac_fast takes one buffer: the key and the blob (up to
 * max_object_size) would have to be copied together first, so the tag is
 * made in steps instead. */
int
centry_mac(const void *secret, size_t slen, const void *key, size_t klen, const void *blob,
           size_t len, unsigned char tag[CENTRY_MAC_LEN], struct err *e)
{
	gnutls_hmac_hd_t h;
	unsigned char kl[4];
	int rc;

	if (slen < CENTRY_SECRET_MIN || klen > UINT32_MAX)
		return err_set(e, ERR_FAIL, "entry MAC: secret shorter than %d bytes, or key too "
		               "long", CENTRY_SECRET_MIN);
	put32(kl, (uint32_t)klen);
	rc = gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, secret, slen);
	if (rc < 0)
		return err_set(e, ERR_FAIL, "entry MAC: %s", gnutls_strerror(rc));
	if ((rc = gnutls_hmac(h, MAC_LABEL, sizeof MAC_LABEL)) < 0 ||
	    (rc = gnutls_hmac(h, kl, sizeof kl)) < 0 ||
	    (klen > 0 && (rc = gnutls_hmac(h, key, klen)) < 0) ||
	    (len > 0 && (rc = gnutls_hmac(h, blob, len)) < 0)) {
		gnutls_hmac_deinit(h, NULL);
		return err_set(e, ERR_FAIL, "entry MAC: %s", gnutls_strerror(rc));
	}
	gnutls_hmac_deinit(h, tag);
	return 0;
}

int
centry_mac_check(const void *secret, size_t slen, const void *key, size_t klen,
                 const void *val, size_t vlen, size_t *blob_len, struct err *e)
{
	unsigned char want[CENTRY_MAC_LEN];
	const unsigned char *got;
	unsigned diff = 0;
	size_t i;

	*blob_len = 0;
	if (vlen < CENTRY_MAC_LEN) {
		err_set(e, ERR_FAIL, "value of %zu bytes: no room for a MAC", vlen);
		return CENTRY_EMAC;
	}
	if (centry_mac(secret, slen, key, klen, val, vlen - CENTRY_MAC_LEN, want, e) < 0)
		return CENTRY_EMAC;
	got = (const unsigned char *)val + vlen - CENTRY_MAC_LEN;
	for (i = 0; i < CENTRY_MAC_LEN; i++) /* constant time */
		diff |= (unsigned)(want[i] ^ got[i]);
	if (diff != 0) {
		err_set(e, ERR_FAIL, "MAC mismatch (not written under this key by a node "
		        "with this cache secret)");
		return CENTRY_EMAC;
	}
	*blob_len = vlen - CENTRY_MAC_LEN;
	return 0;
}
