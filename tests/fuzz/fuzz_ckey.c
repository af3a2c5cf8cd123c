/*
 * fuzz_ckey.c: libFuzzer target for cache keys.
 *
 * Input: one flag byte (bits 0-1 cache_key_query: none, all, allow-list,
 * all; bit 2 https; bit 3 HEAD), then lines: host, request-target, query
 * allow-list, header names, cookie names (comma-separated), then request
 * header fields "name:value", and "@value" lines that are the values of a
 * response's Vary.  Checked for every input that builds a key:
 *   - the canonical text follows the grammar of ckey.h exactly (so it
 *     decodes one way only), uri_len ends its query part, the id is
 *     "edged:v1:" + SHA-256 of the text, uri_digest that of the prefix;
 *   - a buffer of exactly k.len bytes builds the same key, one byte less
 *     fails;
 *   - equivalent requests share the key: the host upper-cased, the default
 *     port added, an unlisted header added, an unreserved path byte
 *     percent-encoded, escapes' hex lower-cased, two differently named
 *     query parameters swapped (all), the header fields in reverse order
 *     where no listed name repeats;
 *   - a different path does not: one more byte changes the key;
 *   - Vary names come back lower-case tokens, sorted and unique, and the
 *     variant text follows its grammar; OWS around a varied value does not
 *     change the variant.
 * Any broken invariant abort()s.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <gnutls/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ckey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXF 64

struct input {
	struct ckey_req r;
	struct ckey_field f[MAXF];
	struct ckey_span vary[MAXF];
	size_t nvary;
	const char *lists[3];
	size_t list_len[3];
};

/* ---- the grammar ------------------------------------------------------- */

struct rd {
	const char *p;
	size_t n, i;
};

static bool
lit(struct rd *r, const char *s)
{
	size_t n = strlen(s);

	if (r->n - r->i < n || memcmp(r->p + r->i, s, n) != 0)
		return false;
	r->i += n;
	return true;
}

/* decimal without leading zeros, then ':' */
static bool
num(struct rd *r, size_t *v)
{
	size_t start = r->i;

	*v = 0;
	while (r->i < r->n && r->p[r->i] >= '0' && r->p[r->i] <= '9') {
		if (*v > SIZE_MAX / 10 - 10)
			return false;
		*v = *v * 10 + (size_t)(r->p[r->i++] - '0');
	}
	if (r->i == start || (r->p[start] == '0' && r->i - start > 1))
		return false;
	return lit(r, ":");
}

static bool
ns(struct rd *r)
{
	size_t v;

	if (!num(r, &v) || r->n - r->i < v)
		return false;
	r->i += v;
	return true;
}

static bool
items(struct rd *r)
{
	size_t n, k;

	if (!num(r, &n))
		return false;
	for (k = 0; k < n; k++) {
		if (!ns(r))
			return false;
		if (lit(r, "!"))
			continue;
		if (!lit(r, "=") || !ns(r))
			return false;
	}
	return true;
}

static void
check_primary(const char *t, const struct ckey *k)
{
	struct rd r = { t, k->len, 0 };

	if (!lit(&r, "ckey1 GET h") || !ns(&r))
		abort();
	if (!lit(&r, " p") && !lit(&r, " P"))
		abort();
	if (!ns(&r))
		abort();
	if (lit(&r, " Q")) {
		if (!ns(&r))
			abort();
	} else if (!lit(&r, " q-") && !(lit(&r, " q") && items(&r))) {
		abort();
	}
	if (r.i != k->uri_len)
		abort();
	if (!lit(&r, " H") || !items(&r) || !lit(&r, " C") || !items(&r) || r.i != r.n)
		abort();
}

static void
check_variant(const char *t, const struct ckey *v, const struct ckey *primary)
{
	struct rd r = { t, v->len, 0 };
	size_t i;

	if (!lit(&r, "vary1 ") || r.n - r.i < 64 + 1 + 16 + 1 ||
	    memcmp(t + 6, primary->id + 9, 64) != 0)
		abort();
	r.i += 64;
	if (!lit(&r, " "))
		abort();
	for (i = 0; i < 16; i++)
		if (!isxdigit((unsigned char)t[r.i + i]))
			abort();
	r.i += 16;
	if (!lit(&r, " ") || !items(&r) || r.i != r.n)
		abort();
}

static void
check_id(const char *t, size_t n, const unsigned char *digest, const char *id)
{
	unsigned char d[CKEY_DIGEST_LEN];
	char want[CKEY_ID_LEN + 1];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, t, n, d) < 0 || memcmp(d, digest, sizeof d) != 0)
		abort();
	if (id != NULL) {
		ckey_format_id(d, want);
		if (strcmp(want, id) != 0)
			abort();
	}
}

/* ---- building ------------------------------------------------------------ */

static char canon[CKEY_CANON_SIZE], canon2[CKEY_CANON_SIZE];

static int
build(const struct ckey_policy *p, const struct ckey_req *r, struct ckey *k)
{
	struct err e;

	return ckey_build(p, r, canon2, sizeof canon2, k, &e);
}

static void
expect_same(const struct ckey_policy *p, const struct ckey_req *r, const struct ckey *k)
{
	struct ckey k2;

	if (build(p, r, &k2) != 0 || strcmp(k2.id, k->id) != 0)
		abort();
}

static bool
listed(const struct input *in, const char *name, size_t n)
{
	const char *l = in->lists[1];
	size_t left = in->list_len[1];

	if (n == 6 && strncasecmp(name, "cookie", 6) == 0)
		return true;
	while (left > 0) {
		const char *c = memchr(l, ',', left);
		size_t len = c != NULL ? (size_t)(c - l) : left;

		if (len == n && strncasecmp(l, name, n) == 0)
			return true;
		left -= len + (c != NULL);
		l += len + (c != NULL);
	}
	return false;
}

static bool
valid_escapes(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '%' &&
		    (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
		     !isxdigit((unsigned char)s[i + 2])))
			return false;
	return true;
}

/* The metamorphic checks: each rewrites the request into a copy. */
static void
equivalents(const struct ckey_policy *p, struct input *in, enum ckey_query q,
            const struct ckey *k)
{
	static char host[1024], target[4096];
	struct ckey_req r = in->r;
	struct ckey_field f[MAXF + 1];
	size_t i, plen, n;
	const char *qm;

	/* host upper-cased; the default port added */
	if (r.host_len + 4 < sizeof host) {
		for (i = 0; i < r.host_len; i++)
			host[i] = (char)toupper((unsigned char)r.host[i]);
		r.host = host;
		expect_same(p, &r, k);
		if (memchr(host, ':', r.host_len) == NULL && memchr(host, '[', r.host_len) == NULL) {
			memcpy(host + r.host_len, r.https ? ":443" : ":80", r.https ? 4 : 3);
			r.host_len += r.https ? 4 : 3;
			expect_same(p, &r, k);
		}
		r = in->r;
	}
	/* an unlisted header added */
	if (!listed(in, "x-fuzz-unlisted", 15) && r.nfields < MAXF) {
		memcpy(f, r.fields, r.nfields * sizeof *f);
		f[r.nfields] = (struct ckey_field){ "X-Fuzz-Unlisted", 15, "1", 1 };
		r.fields = f;
		r.nfields++;
		expect_same(p, &r, k);
		r = in->r;
	}
	/* the fields reversed, when no listed name appears twice */
	for (i = 0; i < r.nfields; i++) {
		size_t j;

		for (j = i + 1; j < r.nfields; j++)
			if (r.fields[i].nlen == r.fields[j].nlen &&
			    strncasecmp(r.fields[i].name, r.fields[j].name, r.fields[i].nlen) == 0 &&
			    listed(in, r.fields[i].name, r.fields[i].nlen))
				break;
		if (j < r.nfields)
			break;
		f[r.nfields - 1 - i] = r.fields[i];
	}
	if (i == r.nfields) {
		r.fields = f;
		expect_same(p, &r, k);
		r = in->r;
	}
	/* origin-form path edits, only where the path's escapes are valid */
	if (r.target_len == 0 || r.target[0] != '/' || r.target_len + 3 > sizeof target)
		return;
	qm = memchr(r.target, '?', r.target_len);
	plen = qm != NULL ? (size_t)(qm - r.target) : r.target_len;
	if (valid_escapes(r.target, plen)) {
		/* an unreserved letter or digit encoded; the escapes' hex lower-cased */
		for (i = 0; i < plen; i++) {
			if (r.target[i] == '%') {
				i += 2;
				continue;
			}
			if (isalnum((unsigned char)r.target[i]))
				break;
		}
		if (i < plen) {
			memcpy(target, r.target, i);
			snprintf(target + i, 4, "%%%02X", (unsigned char)r.target[i]);
			memcpy(target + i + 3, r.target + i + 1, r.target_len - i - 1);
			r.target = target;
			r.target_len += 2;
			expect_same(p, &r, k);
			r = in->r;
		}
		memcpy(target, r.target, r.target_len);
		for (i = 0; i < plen; i++)
			if (target[i] == '%') {
				target[i + 1] = (char)tolower((unsigned char)target[i + 1]);
				target[i + 2] = (char)tolower((unsigned char)target[i + 2]);
				i += 2;
			}
		r.target = target;
		expect_same(p, &r, k);
		r = in->r;
	}
	/* a byte more in the path is another key */
	memcpy(target, r.target, plen);
	target[plen] = 'x';
	memcpy(target + plen + 1, r.target + plen, r.target_len - plen);
	r.target = target;
	r.target_len++;
	{
		struct ckey k2;

		if (build(p, &r, &k2) == 0 && strcmp(k2.id, k->id) == 0)
			abort();
	}
	r = in->r;
	/* two leading parameters with different plain names swapped */
	if (q == CKEY_QUERY_ALL && qm != NULL &&
	    valid_escapes(qm + 1, r.target_len - (size_t)(qm + 1 - r.target))) {
		const char *a = qm + 1, *end = r.target + r.target_len;
		const char *amp = memchr(a, '&', (size_t)(end - a)), *b, *amp2;
		size_t alen, blen, an, bn;

		if (amp == NULL)
			return;
		b = amp + 1;
		amp2 = memchr(b, '&', (size_t)(end - b));
		alen = (size_t)(amp - a);
		blen = amp2 != NULL ? (size_t)(amp2 - b) : (size_t)(end - b);
		for (an = 0; an < alen && a[an] != '='; an++)
			;
		for (bn = 0; bn < blen && b[bn] != '='; bn++)
			;
		if (alen == 0 || blen == 0 || memchr(a, '%', alen + 1 + blen) != NULL ||
		    (an == bn && memcmp(a, b, an) == 0))
			return;
		n = (size_t)(a - r.target);
		memcpy(target, r.target, n);
		memcpy(target + n, b, blen);
		target[n + blen] = '&';
		memcpy(target + n + blen + 1, a, alen);
		memcpy(target + n + blen + 1 + alen, b + blen, (size_t)(end - b - blen));
		r.target = target;
		expect_same(p, &r, k);
	}
}

static void
vary_checks(const struct input *in, const struct ckey *k)
{
	static char names_buf[8192], vbuf[CKEY_CANON_SIZE], ows[32768];
	struct ckey_span names[CKEY_MAX_NAMES];
	struct ckey_field f[MAXF];
	struct ckey v, v2;
	struct err e;
	size_t nn, i, j;
	int rc;

	rc = ckey_vary_parse(in->vary, in->nvary, names_buf, sizeof names_buf, names,
	                     CKEY_MAX_NAMES, &nn, &e);
	if (rc != 0)
		return;
	for (i = 0; i < nn; i++) {
		if (names[i].len == 0)
			abort();
		for (j = 0; j < names[i].len; j++)
			if (isupper((unsigned char)names[i].p[j]) || names[i].p[j] == ',' ||
			    names[i].p[j] == ' ')
				abort();
		if (i > 0) {
			int c = memcmp(names[i - 1].p, names[i].p,
			               names[i - 1].len < names[i].len ? names[i - 1].len : names[i].len);

			if (c > 0 || (c == 0 && names[i - 1].len >= names[i].len))
				abort(); /* sorted, unique */
		}
	}
	if (ckey_variant(k, 42, names, nn, in->r.fields, in->r.nfields, vbuf, sizeof vbuf, &v,
	                 &e) != 0)
		return;
	check_variant(vbuf, &v, k);
	check_id(vbuf, v.len, v.digest, v.id);
	/* OWS around every value changes nothing */
	for (i = 0, j = 0; i < in->r.nfields; i++) {
		f[i] = in->r.fields[i];
		if (f[i].value == NULL || j + f[i].vlen + 3 > sizeof ows)
			continue;
		memcpy(ows + j, " \t", 2);
		memcpy(ows + j + 2, f[i].value, f[i].vlen);
		ows[j + 2 + f[i].vlen] = ' ';
		f[i].value = ows + j;
		f[i].vlen += 3;
		j += f[i].vlen;
	}
	if (ckey_variant(k, 42, names, nn, f, in->r.nfields, vbuf, sizeof vbuf, &v2, &e) != 0 ||
	    strcmp(v.id, v2.id) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ckey_query modes[] = { CKEY_QUERY_NONE, CKEY_QUERY_ALL,
		                                 CKEY_QUERY_ALLOW, CKEY_QUERY_ALL };
	static struct input in;
	const char *lists[3][CKEY_MAX_NAMES + 1];
	static char store[3][4096];
	struct ckey_conf conf;
	struct ckey_policy *p;
	struct ckey k, k2;
	struct err e;
	char *copy, *s, *end, *line[6], *host = NULL, *target = NULL;
	size_t nl = 0, i;
	int flags;

	if (size == 0 || size > 16384)
		return 0;
	flags = data[0];
	copy = malloc(size);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	s = copy;
	end = copy + size - 1;
	*end = '\0';
	memset(&in, 0, sizeof in);
	while (nl < 6) {
		char *n = memchr(s, '\n', (size_t)(end - s));

		line[nl++] = s;
		if (n == NULL) {
			s = end;
			break;
		}
		*n = '\0';
		s = n + 1;
	}
	while (nl < 6)
		line[nl++] = end;
	/* the rest: fields and Vary values */
	while (s < end) {
		char *n = memchr(s, '\n', (size_t)(end - s)), *colon;
		size_t len = n != NULL ? (size_t)(n - s) : (size_t)(end - s);

		if (len > 0 && s[0] == '@' && in.nvary < MAXF) {
			in.vary[in.nvary++] = (struct ckey_span){ s + 1, len - 1 };
		} else if (in.r.nfields < MAXF) {
			struct ckey_field *f = &in.f[in.r.nfields++];

			colon = memchr(s, ':', len);
			f->name = s;
			f->nlen = colon != NULL ? (size_t)(colon - s) : len;
			f->value = colon != NULL ? colon + 1 : NULL;
			f->vlen = colon != NULL ? len - f->nlen - 1 : 0;
		}
		s += len + 1;
	}
	in.r.method = flags & 8 ? "HEAD" : "GET";
	in.r.https = (flags & 4) != 0;
	/* host and target in buffers of their exact size, so ASan sees any
	 * read past them */
	in.r.host_len = strlen(line[0]);
	in.r.target_len = strlen(line[1]);
	host = malloc(in.r.host_len ? in.r.host_len : 1);
	target = malloc(in.r.target_len ? in.r.target_len : 1);
	if (host == NULL || target == NULL)
		goto out;
	memcpy(host, line[0], in.r.host_len);
	memcpy(target, line[1], in.r.target_len);
	in.r.host = host;
	in.r.target = target;
	in.r.fields = in.f;
	memset(&conf, 0, sizeof conf);
	conf.query = modes[flags & 3];
	for (i = 0; i < 3; i++) {
		size_t n = 0;
		char *t, *save;

		in.lists[i] = line[2 + i];
		in.list_len[i] = strlen(line[2 + i]);
		snprintf(store[i], sizeof store[i], "%.*s", (int)in.list_len[i], in.lists[i]);
		for (t = strtok_r(store[i], ",", &save); t != NULL && n <= CKEY_MAX_NAMES;
		     t = strtok_r(NULL, ",", &save))
			lists[i][n++] = t;
		if (i == 0) {
			conf.query_names = lists[0];
			conf.n_query = n;
		} else if (i == 1) {
			conf.headers = lists[1];
			conf.n_headers = n;
		} else {
			conf.cookies = lists[2];
			conf.n_cookies = n;
		}
	}
	p = ckey_policy_new(&conf, &e);
	if (p == NULL)
		goto out;
	if (ckey_build(p, &in.r, canon, sizeof canon, &k, &e) == 0) {
		if (k.len > sizeof canon || k.uri_len > k.len)
			abort();
		check_primary(canon, &k);
		check_id(canon, k.len, k.digest, k.id);
		check_id(canon, k.uri_len, k.uri_digest, NULL);
		/* exactly k.len bytes are enough, one less is not */
		if (ckey_build(p, &in.r, canon2, k.len, &k2, &e) != 0 || strcmp(k2.id, k.id) != 0 ||
		    memcmp(canon, canon2, k.len) != 0)
			abort();
		if (k.len > 0 && ckey_build(p, &in.r, canon2, k.len - 1, &k2, &e) == 0)
			abort();
		equivalents(p, &in, conf.query, &k);
		vary_checks(&in, &k);
	}
	ckey_policy_free(p);
out:
	free(host);
	free(target);
	free(copy);
	return 0;
}
