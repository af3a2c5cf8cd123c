/*
 * ckey.c: see ckey.h for the key grammar and every normalization rule.
 *
 * The canonical text is written straight into the caller's buffer by a
 * small writer that notes overflow instead of failing at each step; each
 * length-prefixed part is measured first by the same function that writes
 * it (a NULL output pointer only counts), so nothing is copied twice and
 * nothing is allocated.  Query parameters are sorted as records of raw
 * spans on the stack, compared by their normalized names as they are
 * decoded, so only the final text is ever written: a buffer the key fits
 * in is always enough.
 *
 * No global state; a policy is read-only once built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "ckey.h"
#include "hreq.h"

struct ckey_policy {
	enum ckey_query query;
	struct ckey_span *query_names; /* normalized, sorted, unique */
	size_t n_query;
	struct ckey_span *headers;     /* lower-case, sorted, unique */
	size_t n_headers;
	struct ckey_span *cookies;     /* sorted, unique */
	size_t n_cookies;
};

/* ---- characters --------------------------------------------------------- */

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 3986 2.3 */
static bool
is_unreserved(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static bool
span_eq(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && (al == 0 || memcmp(a, b, al) == 0);
}

static bool
span_caseeq(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && (al == 0 || strncasecmp(a, b, al) == 0);
}

/* memcmp order, a shorter prefix first */
static int
span_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl;
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_ows(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_ows((*s)[*n - 1]))
		(*n)--;
}

/* ---- percent-encoding normalization (RFC 3986 6.2.2.1-2) ---------------- */

/* True when every '%' in s[0..n) starts a "%XX" escape. */
static bool
escapes_valid(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '%' &&
		    (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0))
			return false;
	return true;
}

/* Normalize s[0..n) (valid escapes only) into out, or only count when out
 * is NULL: unreserved escapes decoded, other escapes' hex upper-cased.
 * Returns the normalized length (never more than n). */
static size_t
pct_norm(const char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int v = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);

			if (is_unreserved((unsigned char)v)) {
				if (out != NULL)
					out[o] = (char)v;
				o++;
			} else {
				if (out != NULL) {
					out[o] = '%';
					out[o + 1] = hex[v >> 4];
					out[o + 2] = hex[v & 15];
				}
				o += 3;
			}
			i += 2;
			continue;
		}
		if (out != NULL)
			out[o] = s[i];
		o++;
	}
	return o;
}

/* A path segment that would decode to "." or ".." with at least one of its
 * dots escaped: it keeps every dot as "%2E" (see ckey.h). */
static bool
escaped_dot_segment(const char *s, size_t n)
{
	size_t i, dots = 0;
	bool escaped = false;

	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			dots++;
		} else if (s[i] == '%' && i + 2 < n && s[i + 1] == '2' && lower(s[i + 2]) == 'e') {
			dots++;
			escaped = true;
			i += 2;
		} else {
			return false;
		}
	}
	return escaped && (dots == 1 || dots == 2);
}

/* pct_norm for a path: segment by segment, with the dot-segment rule. */
static size_t
path_norm(const char *s, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		size_t seg = i, end;
		const char *slash = memchr(s + i, '/', n - i);

		end = slash != NULL ? (size_t)(slash - s) : n;
		if (escaped_dot_segment(s + seg, end - seg)) {
			size_t k, dots = 0;

			for (k = seg; k < end; k += s[k] == '.' ? 1 : 3)
				dots++;
			if (out != NULL)
				memcpy(out + o, dots == 1 ? "%2E" : "%2E%2E", dots * 3);
			o += dots * 3;
		} else {
			o += pct_norm(s + seg, end - seg, out != NULL ? out + o : NULL);
		}
		if (end < n) {
			if (out != NULL)
				out[o] = '/';
			o++;
		}
		i = end + 1;
	}
	return o;
}

/* ---- the writer --------------------------------------------------------- */

struct wbuf {
	char *p;
	size_t len, cap;
	bool over; /* something did not fit: the key is abandoned */
};

/* Room for n more bytes at w->p + w->len, or NULL (and over set). */
static char *
room(struct wbuf *w, size_t n)
{
	if (w->over || n > w->cap - w->len) {
		w->over = true;
		return NULL;
	}
	return w->p + w->len;
}

static void
put(struct wbuf *w, const char *s, size_t n)
{
	char *d = room(w, n);

	if (d != NULL && n > 0) {
		memcpy(d, s, n);
		w->len += n;
	}
}

static void
puts_(struct wbuf *w, const char *s)
{
	put(w, s, strlen(s));
}

static void
put_num(struct wbuf *w, size_t v)
{
	char num[24];
	size_t i = sizeof num;

	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	put(w, num + i, sizeof num - i);
}

/* ns(x): length, ':', x */
static void
put_ns(struct wbuf *w, const char *s, size_t n)
{
	put_num(w, n);
	put(w, ":", 1);
	put(w, s, n);
}

/* A length-prefixed part made by fn(arg, out): measured with out NULL,
 * then written in place. */
typedef size_t (*emit_fn)(const void *arg, char *out);

static void
put_ns_fn(struct wbuf *w, emit_fn fn, const void *arg)
{
	size_t n = fn(arg, NULL);
	char *d;

	put_num(w, n);
	put(w, ":", 1);
	d = room(w, n);
	if (d != NULL) {
		fn(arg, d);
		w->len += n;
	}
}


/* ---- policy ------------------------------------------------------------- */

static int
cmp_span(const void *a, const void *b)
{
	const struct ckey_span *x = a, *y = b;

	return span_cmp(x->p, x->len, y->p, y->len);
}

static void
free_list(struct ckey_span *l, size_t n)
{
	size_t i;

	for (i = 0; l != NULL && i < n; i++)
		free((void *)(uintptr_t)l[i].p);
	free(l);
}

enum list_kind { LIST_QUERY, LIST_HEADER, LIST_COOKIE };

static bool
name_ok(enum list_kind kind, const char *s, size_t len)
{
	if (kind == LIST_QUERY)
		return len > 0 && strcspn(s, "&=#") == len && escapes_valid(s, len);
	return hreq_is_token(s, len);
}

/* Copy, check, normalize, sort and de-duplicate one cache_key_* list. */
static int
make_list(enum list_kind kind, const char *const *v, size_t n, struct ckey_span **out,
          size_t *nout, struct err *e)
{
	static const char *const setting[] = { "cache_key_query", "cache_key_headers",
		                               "cache_key_cookies" };
	static const char *const what[] = { "query parameter", "header field", "cookie" };
	struct ckey_span *l;
	size_t i, j, k;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	if (n > CKEY_MAX_NAMES)
		return err_set(e, ERR_USAGE, "%s: more than %d names", setting[kind],
		               CKEY_MAX_NAMES);
	l = calloc(n, sizeof *l);
	if (l == NULL)
		return err_set(e, ERR_FAIL, "%s: out of memory", setting[kind]);
	for (i = 0; i < n; i++) {
		const char *s = v[i] != NULL ? v[i] : "";
		size_t len = strlen(s);
		char *c;

		if (!name_ok(kind, s, len)) {
			free_list(l, i);
			return err_set(e, ERR_USAGE, "%s: '%s' is not a valid %s name",
			               setting[kind], s, what[kind]);
		}
		c = malloc(len + 1);
		if (c == NULL) {
			free_list(l, i);
			return err_set(e, ERR_FAIL, "%s: out of memory", setting[kind]);
		}
		if (kind == LIST_QUERY) {
			len = pct_norm(s, len, c);
		} else {
			for (k = 0; k < len; k++)
				c[k] = kind == LIST_HEADER ? lower(s[k]) : s[k];
		}
		c[len] = '\0';
		l[i].p = c;
		l[i].len = len;
	}
	qsort(l, n, sizeof *l, cmp_span);
	for (i = 0, j = 0; i < n; i++) {
		if (j > 0 && span_eq(l[j - 1].p, l[j - 1].len, l[i].p, l[i].len)) {
			free((void *)(uintptr_t)l[i].p);
			continue;
		}
		l[j++] = l[i];
	}
	*out = l;
	*nout = j;
	return 0;
}

struct ckey_policy *
ckey_policy_new(const struct ckey_conf *c, struct err *e)
{
	struct ckey_policy *p = calloc(1, sizeof *p);

	if (p == NULL) {
		err_set(e, ERR_FAIL, "cache key policy: out of memory");
		return NULL;
	}
	p->query = c->query;
	if ((c->query == CKEY_QUERY_ALLOW &&
	     make_list(LIST_QUERY, c->query_names, c->n_query, &p->query_names, &p->n_query,
	               e) < 0) ||
	    make_list(LIST_HEADER, c->headers, c->n_headers, &p->headers, &p->n_headers, e) < 0 ||
	    make_list(LIST_COOKIE, c->cookies, c->n_cookies, &p->cookies, &p->n_cookies, e) < 0) {
		ckey_policy_free(p);
		return NULL;
	}
	return p;
}

void
ckey_policy_free(struct ckey_policy *p)
{
	if (p == NULL)
		return;
	free_list(p->query_names, p->n_query);
	free_list(p->headers, p->n_headers);
	free_list(p->cookies, p->n_cookies);
	free(p);
}

enum ckey_query
ckey_query_mode(const char *const *v, size_t n)
{
	if (n == 0 || (n == 1 && v[0] != NULL && strcmp(v[0], "none") == 0))
		return CKEY_QUERY_NONE;
	if (n == 1 && v[0] != NULL && strcmp(v[0], "all") == 0)
		return CKEY_QUERY_ALL;
	return CKEY_QUERY_ALLOW;
}

bool
ckey_method_cached(const char *method)
{
	return method != NULL && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
}

/* ---- host, path -------------------------------------------------------- */

struct host_arg {
	const char *s;
	size_t n;
	bool https;
};

/* The host lower-cased; a port that is empty or the scheme's default
 * dropped, another port without its leading zeros.  Anything after the
 * host that is not ":digits" is kept as sent (lower-cased). */
static size_t
host_emit(const void *arg, char *out)
{
	const struct host_arg *h = arg;
	size_t hlen = h->n, i, o = 0, plen = 0;
	const char *port = NULL;

	if (h->n > 0 && h->s[0] == '[') {
		const char *rb = memchr(h->s, ']', h->n);

		if (rb != NULL && (size_t)(rb - h->s) + 1 < h->n && rb[1] == ':')
			hlen = (size_t)(rb - h->s) + 1;
	} else {
		const char *c = memchr(h->s, ':', h->n);

		if (c != NULL && memchr(c + 1, ':', h->n - (size_t)(c - h->s) - 1) == NULL)
			hlen = (size_t)(c - h->s);
	}
	if (hlen < h->n) {
		port = h->s + hlen + 1;
		plen = h->n - hlen - 1;
		for (i = 0; i < plen; i++)
			if (port[i] < '0' || port[i] > '9')
				hlen = h->n; /* not a port: keep it all */
	}
	if (hlen < h->n) {
		while (plen > 1 && port[0] == '0') {
			port++;
			plen--;
		}
		if (plen == 0 || span_eq(port, plen, h->https ? "443" : "80", h->https ? 3 : 2))
			plen = 0;
	}
	for (i = 0; i < hlen; i++) {
		if (out != NULL)
			out[o] = lower(h->s[i]);
		o++;
	}
	if (hlen < h->n && plen > 0) {
		if (out != NULL) {
			out[o] = ':';
			memcpy(out + o + 1, port, plen);
		}
		o += plen + 1;
	}
	return o;
}

/* A span written as a path, a query name or value, or lower-cased. */
struct str_arg {
	const char *s;
	size_t n;
	enum { AS_PATH, AS_QUERY, AS_LOWER } as;
};

static size_t
str_emit(const void *arg, char *out)
{
	const struct str_arg *a = arg;
	size_t i;

	if (a->as == AS_PATH)
		return path_norm(a->s, a->n, out);
	if (a->as == AS_QUERY)
		return pct_norm(a->s, a->n, out);
	for (i = 0; out != NULL && i < a->n; i++)
		out[i] = lower(a->s[i]);
	return a->n;
}

/* Split a request-target into path and query (query NULL when there is
 * no '?').  Absolute-form loses its scheme and authority. */
static void
split_target(const char *t, size_t n, struct str_arg *path, struct str_arg *query)
{
	const char *q;
	size_t skip = 0;

	if (n >= 7 && strncasecmp(t, "http://", 7) == 0)
		skip = 7;
	else if (n >= 8 && strncasecmp(t, "https://", 8) == 0)
		skip = 8;
	if (skip > 0) {
		while (skip < n && t[skip] != '/' && t[skip] != '?')
			skip++;
		t += skip;
		n -= skip;
	}
	q = memchr(t, '?', n);
	path->as = AS_PATH;
	query->as = AS_QUERY;
	path->s = t;
	path->n = q != NULL ? (size_t)(q - t) : n;
	query->s = q != NULL ? q + 1 : NULL;
	query->n = q != NULL ? n - path->n - 1 : 0;
	if (path->n == 0) {
		path->s = "/";
		path->n = 1;
	}
}

/* ---- query ------------------------------------------------------------- */

/* The bytes of pct_norm(s) one at a time, so normalized names can be
 * compared without writing them anywhere. */
struct norm_it {
	const char *s;
	size_t n, i;
	char pend[2]; /* the hex digits of an escape being handed out */
	int npend;
};

static int
norm_next(struct norm_it *t)
{
	static const char hex[] = "0123456789ABCDEF";
	int v;

	if (t->npend > 0)
		return (unsigned char)t->pend[2 - t->npend--];
	if (t->i >= t->n)
		return -1;
	if (t->s[t->i] != '%')
		return (unsigned char)t->s[t->i++];
	v = hexval(t->s[t->i + 1]) * 16 + hexval(t->s[t->i + 2]);
	t->i += 3;
	if (is_unreserved((unsigned char)v))
		return v;
	t->pend[0] = hex[v >> 4];
	t->pend[1] = hex[v & 15];
	t->npend = 2;
	return '%';
}

/* span_cmp of pct_norm(a) and pct_norm(b); with norm_b false b is taken
 * as it is (a policy name, normalized already). */
static int
norm_cmp(const char *a, size_t an, const char *b, size_t bn, bool norm_b)
{
	struct norm_it x = { a, an, 0, { 0, 0 }, 0 }, y = { b, bn, 0, { 0, 0 }, 0 };

	for (;;) {
		int ca = norm_next(&x), cb;

		if (norm_b)
			cb = norm_next(&y);
		else
			cb = y.i < bn ? (unsigned char)b[y.i++] : -1;

		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (ca < 0)
			return 0;
	}
}

struct param {
	const char *name, *value; /* raw, valid escapes */
	size_t nlen, vlen;
	bool has_value;
	size_t order;             /* position in the query: ties keep it */
};

static int
cmp_param(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = norm_cmp(x->name, x->nlen, y->name, y->nlen, true);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool
allowed(const struct ckey_policy *pol, const char *name, size_t nlen)
{
	size_t lo = 0, hi = pol->n_query;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = norm_cmp(name, nlen, pol->query_names[mid].p, pol->query_names[mid].len,
		                 false);

		if (c == 0)
			return true;
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The q part.  Returns 0, or -1 with e filled for too many parameters. */
static int
put_query(struct wbuf *w, const struct ckey_policy *pol, const struct str_arg *q,
          struct err *e)
{
	struct param ps[CKEY_MAX_PARAMS];
	size_t np = 0, i = 0, order = 0;

	if (pol->query == CKEY_QUERY_NONE) {
		puts_(w, " q-");
		return 0;
	}
	if (!escapes_valid(q->s != NULL ? q->s : "", q->n)) {
		puts_(w, " Q");
		put_ns(w, q->s, q->n);
		return 0;
	}
	while (q->s != NULL && i <= q->n) {
		const char *piece = q->s + i, *amp = memchr(piece, '&', q->n - i), *eq;
		size_t plen = amp != NULL ? (size_t)(amp - piece) : q->n - i;
		struct param pr;

		i += plen + 1;
		if (plen == 0)
			continue;
		eq = memchr(piece, '=', plen);
		pr.name = piece;
		pr.nlen = eq != NULL ? (size_t)(eq - piece) : plen;
		pr.has_value = eq != NULL;
		pr.value = eq != NULL ? eq + 1 : "";
		pr.vlen = eq != NULL ? plen - pr.nlen - 1 : 0;
		pr.order = order++;
		if (pol->query == CKEY_QUERY_ALLOW && !allowed(pol, pr.name, pr.nlen))
			continue;
		if (np == CKEY_MAX_PARAMS)
			return err_set(e, ERR_FAIL, "more than %d query parameters in the key",
			               CKEY_MAX_PARAMS);
		ps[np++] = pr;
	}
	qsort(ps, np, sizeof *ps, cmp_param);
	puts_(w, " q");
	put_num(w, np);
	put(w, ":", 1);
	for (i = 0; i < np; i++) {
		struct str_arg n = { ps[i].name, ps[i].nlen, AS_QUERY },
		               v = { ps[i].value, ps[i].vlen, AS_QUERY };

		put_ns_fn(w, str_emit, &n);
		if (ps[i].has_value) {
			put(w, "=", 1);
			put_ns_fn(w, str_emit, &v);
		} else {
			put(w, "!", 1);
		}
	}
	return 0;
}

size_t
ckey_forward_query(const struct ckey_policy *pol, const char *q, size_t n, char *out)
{
	size_t i = 0, o = 0;

	if (pol->query == CKEY_QUERY_NONE)
		return 0;
	if (pol->query == CKEY_QUERY_ALL) {
		memcpy(out, q, n);
		return n;
	}
	while (i <= n) {
		const char *piece = q + i, *amp = memchr(piece, '&', n - i), *eq;
		size_t plen = amp != NULL ? (size_t)(amp - piece) : n - i;

		i += plen + 1;
		if (plen == 0)
			continue;
		eq = memchr(piece, '=', plen);
		if (!allowed(pol, piece, eq != NULL ? (size_t)(eq - piece) : plen))
			continue;
		if (o > 0)
			out[o++] = '&';
		memcpy(out + o, piece, plen);
		o += plen;
	}
	return o;
}

/* ---- header values ---------------------------------------------------- */

enum value_mode {
	VALUE_AS_SENT, /* lines trimmed and joined */
	VALUE_LIST,    /* list elements normalized */
	VALUE_LIST_CI, /* the same, lower-cased outside quoted strings */
};

struct value_arg {
	const struct ckey_field *f;
	size_t nf;
	const char *name; /* lower-case */
	size_t nlen;
	enum value_mode mode;
};

struct out {
	char *p;
	size_t n;
};

static void
emit(struct out *o, char c)
{
	if (o->p != NULL)
		o->p[o->n] = c;
	o->n++;
}

static void
emit_s(struct out *o, const char *s, size_t n)
{
	if (o->p != NULL && n > 0)
		memcpy(o->p + o->n, s, n);
	o->n += n;
}

/* One field line of a list field (RFC 9110 5.6.1): elements split on ','
 * outside quoted strings, OWS around ',' and ';' dropped, other OWS runs
 * one SP, empty elements dropped.  *any says whether an element was
 * written already (by this or an earlier line). */
static void
list_line(struct out *o, const char *s, size_t n, bool ci, bool *any)
{
	bool in_q = false, esc = false, started = false, ws = false, semi = false;
	size_t i;

	trim(&s, &n); /* OWS around a line is not part of it, even in a quote */
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (in_q) {
			emit(o, c);
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_q = false;
			continue;
		}
		if (c == ',') {
			started = ws = semi = false;
			continue;
		}
		if (is_ows(c)) {
			ws = true;
			continue;
		}
		if (!started) {
			if (*any)
				emit_s(o, ", ", 2);
			started = *any = true;
		} else if (ws && !semi && c != ';') {
			emit(o, ' ');
		}
		ws = false;
		semi = c == ';';
		emit(o, ci ? lower(c) : c);
		in_q = c == '"';
	}
}

/* The request's value of one header: every line with that name, joined
 * (", ", or "; " for Cookie), per mode. */
static size_t
value_emit(const void *arg, char *out)
{
	const struct value_arg *a = arg;
	struct out o = { out, 0 };
	bool any = false, cookie = span_caseeq(a->name, a->nlen, "cookie", 6);
	size_t i;

	for (i = 0; i < a->nf; i++) {
		const char *v = a->f[i].value != NULL ? a->f[i].value : "";
		size_t vl = a->f[i].value != NULL ? a->f[i].vlen : 0;

		if (!span_caseeq(a->f[i].name, a->f[i].nlen, a->name, a->nlen))
			continue;
		if (a->mode != VALUE_AS_SENT) {
			list_line(&o, v, vl, a->mode == VALUE_LIST_CI, &any);
			continue;
		}
		trim(&v, &vl);
		if (any)
			emit_s(&o, cookie ? "; " : ", ", 2);
		any = true;
		emit_s(&o, v, vl);
	}
	return o.n;
}

static bool
has_field(const struct ckey_field *f, size_t nf, const char *name, size_t nlen)
{
	size_t i;

	for (i = 0; i < nf; i++)
		if (span_caseeq(f[i].name, f[i].nlen, name, nlen))
			return true;
	return false;
}

/* One header item: ns(lower-case name), then '=' ns(value) or '!'. */
static void
put_header_item(struct wbuf *w, const struct ckey_field *f, size_t nf, const char *name,
                size_t nlen, enum value_mode mode)
{
	struct value_arg a = { f, nf, name, nlen, mode };
	struct str_arg n = { name, nlen, AS_LOWER };

	put_ns_fn(w, str_emit, &n);
	if (!has_field(f, nf, name, nlen)) {
		put(w, "!", 1);
		return;
	}
	put(w, "=", 1);
	put_ns_fn(w, value_emit, &a);
}

/* ---- cookies ------------------------------------------------------------ */

struct cookie_it {
	const struct ckey_field *f;
	size_t nf, fi;
	const char *p; /* rest of the current Cookie line */
	size_t left;
	bool in_line;
};

/* The next cookie pair with a name (a '='), trimmed. */
static bool
cookie_next(struct cookie_it *it, struct ckey_span *name, struct ckey_span *value)
{
	for (;;) {
		const char *pair, *semi, *eq;
		size_t plen;

		if (!it->in_line) {
			while (it->fi < it->nf &&
			       !span_caseeq(it->f[it->fi].name, it->f[it->fi].nlen, "cookie", 6))
				it->fi++;
			if (it->fi == it->nf)
				return false;
			it->p = it->f[it->fi].value != NULL ? it->f[it->fi].value : "";
			it->left = it->f[it->fi].value != NULL ? it->f[it->fi].vlen : 0;
			it->fi++;
			it->in_line = true;
		}
		pair = it->p;
		semi = memchr(pair, ';', it->left);
		plen = semi != NULL ? (size_t)(semi - pair) : it->left;
		if (semi != NULL) {
			it->p = semi + 1;
			it->left -= plen + 1;
		} else {
			it->in_line = false;
		}
		eq = memchr(pair, '=', plen);
		if (eq == NULL)
			continue; /* no name (RFC 6265bis 5.6) */
		name->p = pair;
		name->len = (size_t)(eq - pair);
		value->p = eq + 1;
		value->len = plen - name->len - 1;
		trim(&name->p, &name->len);
		trim(&value->p, &value->len);
		return true;
	}
}

/* The C part: or, with w NULL, only the number of items. */
static size_t
put_cookies(struct wbuf *w, const struct ckey_policy *pol, const struct ckey_field *f,
            size_t nf)
{
	size_t i, items = 0;

	for (i = 0; i < pol->n_cookies; i++) {
		const struct ckey_span *want = &pol->cookies[i];
		struct cookie_it it = { f, nf, 0, NULL, 0, false };
		struct ckey_span n, v;
		size_t found = 0;

		while (cookie_next(&it, &n, &v)) {
			if (!span_eq(n.p, n.len, want->p, want->len))
				continue;
			found++;
			if (w != NULL) {
				put_ns(w, want->p, want->len);
				put(w, "=", 1);
				put_ns(w, v.p, v.len);
			}
		}
		if (found == 0 && w != NULL) {
			put_ns(w, want->p, want->len);
			put(w, "!", 1);
		}
		items += found > 0 ? found : 1;
	}
	return items;
}

/* ---- keys --------------------------------------------------------------- */

void
ckey_format_id(const unsigned char digest[CKEY_DIGEST_LEN], char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	memcpy(out, CKEY_PREFIX, sizeof CKEY_PREFIX - 1);
	out += sizeof CKEY_PREFIX - 1;
	for (i = 0; i < CKEY_DIGEST_LEN; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[2 * CKEY_DIGEST_LEN] = '\0';
}

static int
sha256(const char *s, size_t n, unsigned char *out, struct err *e)
{
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, s, n, out) < 0)
		return err_set(e, ERR_FAIL, "cache key: SHA-256 failed");
	return 0;
}

static int
too_long(struct err *e, size_t cap)
{
	return err_set(e, ERR_FAIL, "cache key longer than its %zu-byte buffer", cap);
}

int
ckey_build(const struct ckey_policy *p, const struct ckey_req *r, char *canon, size_t cap,
           struct ckey *k, struct err *e)
{
	struct wbuf w = { canon, 0, cap, false };
	struct host_arg host = { r->host != NULL ? r->host : "", r->host != NULL ? r->host_len : 0,
		                 r->https };
	struct str_arg path, query;
	size_t i;

	if (!ckey_method_cached(r->method))
		return err_set(e, ERR_FAIL, "method %s is not cached",
		               r->method != NULL ? r->method : "(none)");
	split_target(r->target != NULL ? r->target : "", r->target != NULL ? r->target_len : 0,
	             &path, &query);
	/* the scheme only when asked (viewer_protocol_policy allow-all), so
	 * that keys without it stay what they were */
	puts_(&w, r->scheme == CKEY_SCHEME_HTTPS ? "ckey1 GET s5:https h" :
	          r->scheme == CKEY_SCHEME_HTTP ? "ckey1 GET s4:http h" : "ckey1 GET h");
	put_ns_fn(&w, host_emit, &host);
	if (escapes_valid(path.s, path.n)) {
		puts_(&w, " p");
		put_ns_fn(&w, str_emit, &path);
	} else {
		puts_(&w, " P");
		put_ns(&w, path.s, path.n);
	}
	if (put_query(&w, p, &query, e) < 0)
		return -1;
	k->uri_len = w.len;
	puts_(&w, " H");
	put_num(&w, p->n_headers);
	put(&w, ":", 1);
	for (i = 0; i < p->n_headers; i++)
		put_header_item(&w, r->fields, r->nfields, p->headers[i].p, p->headers[i].len,
		                VALUE_AS_SENT);
	puts_(&w, " C");
	put_num(&w, put_cookies(NULL, p, r->fields, r->nfields));
	put(&w, ":", 1);
	put_cookies(&w, p, r->fields, r->nfields);
	if (w.over)
		return too_long(e, cap);
	k->len = w.len;
	if (sha256(canon, k->uri_len, k->uri_digest, e) < 0 ||
	    sha256(canon, k->len, k->digest, e) < 0)
		return -1;
	ckey_format_id(k->digest, k->id);
	return 0;
}

/* Vary names whose values edged normalizes as lists (see ckey.h). */
static enum value_mode
vary_mode(const char *name, size_t nlen)
{
	if (span_caseeq(name, nlen, "accept", 6))
		return VALUE_LIST;
	if (span_caseeq(name, nlen, "accept-charset", 14) ||
	    span_caseeq(name, nlen, "accept-encoding", 15) ||
	    span_caseeq(name, nlen, "accept-language", 15))
		return VALUE_LIST_CI;
	return VALUE_AS_SENT;
}

int
ckey_variant(const struct ckey *primary, uint64_t vary_id, const struct ckey_span *names,
             size_t nnames, const struct ckey_field *fields, size_t nfields, char *canon,
             size_t cap, struct ckey *out, struct err *e)
{
	struct wbuf w = { canon, 0, cap, false };
	char head[6 + 2 * CKEY_DIGEST_LEN + 1 + 16 + 2];
	size_t i;

	snprintf(head, sizeof head, "vary1 %s %016llx ", primary->id + sizeof CKEY_PREFIX - 1,
	         (unsigned long long)vary_id);
	puts_(&w, head);
	put_num(&w, nnames);
	put(&w, ":", 1);
	for (i = 0; i < nnames; i++)
		put_header_item(&w, fields, nfields, names[i].p, names[i].len,
		                vary_mode(names[i].p, names[i].len));
	if (w.over)
		return too_long(e, cap);
	if (sha256(canon, w.len, out->digest, e) < 0)
		return -1;
	memcpy(out->uri_digest, primary->uri_digest, CKEY_DIGEST_LEN);
	out->uri_len = primary->uri_len;
	out->len = w.len;
	ckey_format_id(out->digest, out->id);
	return 0;
}

/* ---- Vary -------------------------------------------------------------- */

/* Add name (lower-cased into buf) to names unless it is there already. */
static int
vary_add(const char *el, size_t len, char *buf, size_t cap, size_t *used,
         struct ckey_span *names, size_t max, size_t *n, struct err *e)
{
	size_t i, j;

	for (i = 0; i < *n; i++)
		if (span_caseeq(names[i].p, names[i].len, el, len))
			return 0;
	if (*n == max)
		return err_set(e, ERR_FAIL, "Vary lists more than %zu names", max);
	if (len > cap - *used)
		return err_set(e, ERR_FAIL, "Vary names longer than %zu bytes", cap);
	for (j = 0; j < len; j++)
		buf[*used + j] = lower(el[j]);
	names[*n].p = buf + *used;
	names[*n].len = len;
	*used += len;
	(*n)++;
	return 0;
}

/* The next element of a comma-separated list value, trimmed (possibly
 * empty).  Returns false when the value is used up. */
struct elem_it {
	const char *s;
	size_t left;
	bool done;
};

static bool
elem_next(struct elem_it *it, const char **el, size_t *len)
{
	const char *comma;

	if (it->done)
		return false;
	comma = memchr(it->s, ',', it->left);
	*el = it->s;
	*len = comma != NULL ? (size_t)(comma - it->s) : it->left;
	if (comma != NULL) {
		it->left -= *len + 1;
		it->s = comma + 1;
	} else {
		it->done = true;
	}
	trim(el, len);
	return true;
}

static struct elem_it
elem_begin(const struct ckey_span *v)
{
	struct elem_it it = { v->p != NULL ? v->p : "", v->p != NULL ? v->len : 0, false };

	return it;
}

int
ckey_vary_parse(const struct ckey_span *values, size_t nvalues, char *buf, size_t cap,
                struct ckey_span *names, size_t max, size_t *nnames, struct err *e)
{
	size_t i, n = 0, used = 0, len;
	const char *el;

	if (max > CKEY_MAX_NAMES)
		max = CKEY_MAX_NAMES;
	*nnames = 0;
	for (i = 0; i < nvalues; i++) {
		struct elem_it it = elem_begin(&values[i]);

		while (elem_next(&it, &el, &len))
			if (len == 1 && el[0] == '*')
				return 1;
	}
	for (i = 0; i < nvalues; i++) {
		struct elem_it it = elem_begin(&values[i]);

		while (elem_next(&it, &el, &len)) {
			if (len == 0)
				continue;
			if (!hreq_is_token(el, len))
				return err_set(e, ERR_FAIL, "Vary: '%.*s' is not a field name",
				               (int)(len > 40 ? 40 : len), el);
			if (vary_add(el, len, buf, cap, &used, names, max, &n, e) < 0)
				return -1;
		}
	}
	qsort(names, n, sizeof *names, cmp_span);
	*nnames = n;
	return 0;
}
