/*
 * cachepol.c: see cachepol.h for the model and every rule chosen where the
 * RFCs leave a choice.  Everything here is a pure function of its
 * arguments: parsers walk the caller's bytes exactly once, bounded by the
 * length given (never by a NUL), and write only into the caller's structs.
 * Arithmetic on times saturates, so hostile dates or Age values can never
 * overflow: every duration ends up in [0, 2^31].
 */
#include <string.h>
#include <strings.h>

#include "cachepol.h"

/* ---- small helpers ------------------------------------------------------ */

static bool
is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool
is_token(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return n > 0;
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_ows((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_ows((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Split the list v[0..n) at commas (no quoted strings: for token lists):
 * the next element, trimmed and possibly empty, from *pos on.  False when
 * none is left. */
static bool
next_element(const char *v, size_t n, size_t *pos, const char **el, size_t *len)
{
	const char *comma;

	if (*pos >= n)
		return false;
	*el = v + *pos;
	comma = memchr(*el, ',', n - *pos);
	*len = comma != NULL ? (size_t)(comma - *el) : n - *pos;
	*pos += *len + 1;
	trim(el, len);
	return true;
}

/* name[0..nlen) equals the lower-case string want, in any case */
static bool
name_is(const char *name, size_t nlen, const char *want)
{
	return strlen(want) == nlen && strncasecmp(name, want, nlen) == 0;
}

static int64_t
clamp_delta(int64_t v)
{
	return v < 0 ? 0 : v > CACHEPOL_DELTA_MAX ? CACHEPOL_DELTA_MAX : v;
}

/* a - b, saturated to the int64_t range (caller times can be anything) */
static int64_t
sub_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* delta-seconds (RFC 9111 1.2.2): 1*DIGIT, saturating at 2^31.  With
 * plus, a Surrogate-Control "+extension" suffix of digits is allowed and
 * ignored.  Returns -1 when s[0..n) is not one. */
static int64_t
delta_seconds(const char *s, size_t n, bool plus)
{
	int64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n && is_digit((unsigned char)s[i]); i++)
		if (v < CACHEPOL_DELTA_MAX)
			v = v * 10 + (s[i] - '0');
	if (i == 0)
		return -1;
	if (i < n && plus && s[i] == '+' && i + 1 < n) {
		size_t j;

		for (j = i + 1; j < n && is_digit((unsigned char)s[j]); j++)
			;
		i = j;
	}
	return i == n ? clamp_delta(v) : -1;
}

/* ---- configuration ------------------------------------------------------ */

void
cachepol_config_default(struct cachepol_config *c)
{
	memset(c, 0, sizeof *c);
	c->ttl_max = CACHEPOL_DELTA_MAX;
	c->error_caching_ttl = 10;
	c->heuristic_max = 86400;
	c->heuristic_percent = 10;
	c->keep = 86400;
	c->cdn_cache_control = true;
	c->surrogate_control = true;
}

/* ---- field-name lists --------------------------------------------------- */

bool
cachepol_names_has(const char *list, const char *name, size_t nlen)
{
	const char *p = list;

	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t l = end != NULL ? (size_t)(end - p) : strlen(p);

		if (l == nlen && strncasecmp(p, name, nlen) == 0)
			return true;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return false;
}

/* Append name (lower-cased) to list unless it is there.  False when it
 * does not fit. */
static bool
names_add(char *list, const char *name, size_t nlen)
{
	size_t used = strlen(list), i;

	if (cachepol_names_has(list, name, nlen))
		return true;
	if (used + (used > 0) + nlen + 1 > CACHEPOL_NAMES_MAX)
		return false;
	if (used > 0)
		list[used++] = ',';
	for (i = 0; i < nlen; i++)
		list[used++] = (char)lower((unsigned char)name[i]);
	list[used] = '\0';
	return true;
}

/* Add the #field-name list s[0..n) to list.  False when an element is not
 * a token, the list is empty, or it does not fit: the caller then falls
 * back to the unqualified directive.  Elements already added stay. */
static bool
names_parse(char *list, const char *s, size_t n)
{
	size_t i = 0, added = 0;

	while (i < n) {
		size_t st, e;

		while (i < n && (is_ows((unsigned char)s[i]) || s[i] == ','))
			i++;
		if (i == n)
			break;
		for (st = i; i < n && is_tchar((unsigned char)s[i]); i++)
			;
		e = i;
		while (i < n && is_ows((unsigned char)s[i]))
			i++;
		if (e == st || (i < n && s[i] != ','))
			return false;
		if (!names_add(list, s + st, e - st))
			return false;
		added++;
	}
	return added > 0;
}

/* ---- Cache-Control ------------------------------------------------------ */

void
cachepol_cc_init(struct cachepol_cc *cc)
{
	memset(cc, 0, sizeof *cc);
}

enum vkind { V_NONE, V_TOKEN, V_QUOTED };

/* A directive that takes delta-seconds: the first occurrence counts. */
struct delta_dir {
	const char *name;
	uint32_t bit, bad;
	size_t off;
};

#define DD(n, b, f) { n, CACHEPOL_CC_##b, CACHEPOL_CC_##b##_BAD, offsetof(struct cachepol_cc, f) }
static const struct delta_dir delta_dirs[] = {
	DD("max-age", MAX_AGE, max_age),
	DD("s-maxage", S_MAXAGE, s_maxage),
	DD("max-stale", MAX_STALE, max_stale),
	DD("min-fresh", MIN_FRESH, min_fresh),
	DD("stale-while-revalidate", SWR, swr),
	DD("stale-if-error", SIE, sie),
};
#undef DD

/* Flag directives.  restrict: set even when malformed or given an
 * argument (the safe reading); otherwise only in the clean bare form. */
static const struct {
	const char *name;
	uint32_t bit;
	bool restrict_;
} flag_dirs[] = {
	{ "no-store", CACHEPOL_CC_NO_STORE, true },
	{ "must-revalidate", CACHEPOL_CC_MUST_REVALIDATE, true },
	{ "proxy-revalidate", CACHEPOL_CC_PROXY_REVALIDATE, true },
	{ "no-transform", CACHEPOL_CC_NO_TRANSFORM, true },
	{ "only-if-cached", CACHEPOL_CC_ONLY_IF_CACHED, true },
	{ "public", CACHEPOL_CC_PUBLIC, false },
	{ "must-understand", CACHEPOL_CC_MUST_UNDERSTAND, false },
	{ "immutable", CACHEPOL_CC_IMMUTABLE, false },
};

static int64_t *
delta_field(struct cachepol_cc *cc, const struct delta_dir *d)
{
	return (int64_t *)(void *)((char *)cc + d->off);
}

/* no-cache / private, with or without a field-name list */
static void
qualified(struct cachepol_cc *cc, uint32_t bare, uint32_t fields, char *list, enum vkind k,
          const char *v, size_t vl, bool bad)
{
	if (bad || k == V_NONE || !names_parse(list, v, vl))
		cc->flags |= bare;
	else
		cc->flags |= fields;
}

/* Record one directive.  bad: the element was malformed. */
static void
apply(struct cachepol_cc *cc, const char *n, size_t nl, enum vkind k, const char *v, size_t vl,
      bool bad, bool surrogate)
{
	size_t i;

	for (i = 0; i < sizeof delta_dirs / sizeof delta_dirs[0]; i++) {
		const struct delta_dir *d = &delta_dirs[i];
		int64_t x;

		if (!name_is(n, nl, d->name))
			continue;
		if (cc->flags & (d->bit | d->bad))
			return; /* the first occurrence counts */
		if (!bad && k == V_NONE && d->bit == CACHEPOL_CC_MAX_STALE) {
			cc->flags |= d->bit; /* bare max-stale: any staleness */
			*delta_field(cc, d) = CACHEPOL_DELTA_MAX;
			return;
		}
		x = bad || k == V_NONE ? -1 : delta_seconds(v, vl, surrogate);
		if (x < 0) {
			cc->flags |= d->bad;
		} else {
			cc->flags |= d->bit;
			*delta_field(cc, d) = x;
		}
		return;
	}
	for (i = 0; i < sizeof flag_dirs / sizeof flag_dirs[0]; i++)
		if (name_is(n, nl, flag_dirs[i].name)) {
			if (flag_dirs[i].restrict_ || (!bad && k == V_NONE))
				cc->flags |= flag_dirs[i].bit;
			return;
		}
	if (name_is(n, nl, "no-cache"))
		qualified(cc, CACHEPOL_CC_NO_CACHE, CACHEPOL_CC_NO_CACHE_FIELDS, cc->no_cache_names, k,
		          v, vl, bad);
	else if (name_is(n, nl, "private"))
		qualified(cc, CACHEPOL_CC_PRIVATE, CACHEPOL_CC_PRIVATE_FIELDS, cc->private_names, k, v,
		          vl, bad);
	else if (surrogate && name_is(n, nl, "no-store-remote"))
		cc->flags |= CACHEPOL_CC_NO_STORE; /* a CDN is a remote surrogate */
}

/* Index just past the end of the element that starts at i: the next comma
 * outside a quoted string, or n. */
static size_t
skip_element(const char *v, size_t n, size_t i)
{
	bool q = false;

	for (; i < n; i++) {
		if (q && v[i] == '\\')
			i++;
		else if (v[i] == '"')
			q = !q;
		else if (!q && v[i] == ',')
			break;
	}
	return i < n ? i : n;
}

/* qdtext / quoted-pair bytes: HTAB, SP, VCHAR, obs-text */
static bool
is_qtext(unsigned char c)
{
	return c == '\t' || (c >= ' ' && c != 0x7f);
}

/* Cache-Control = #( token [ "=" ( token / quoted-string ) ] ) */
static void
cc_parse(struct cachepol_cc *cc, const char *v, size_t n, bool surrogate)
{
	size_t i = 0;

	while (i < n) {
		size_t ns, nl, j, vl = 0;
		const char *val = NULL;
		enum vkind k = V_NONE;
		bool bad = false;

		if (is_ows((unsigned char)v[i]) || v[i] == ',') {
			i++;
			continue;
		}
		for (ns = i; i < n && is_tchar((unsigned char)v[i]); i++)
			;
		nl = i - ns;
		if (nl > 0 && i < n && v[i] == '=') {
			i++;
			if (i < n && v[i] == '"') {
				size_t vs = ++i;

				k = V_QUOTED;
				while (i < n && v[i] != '"') {
					if (!is_qtext((unsigned char)v[i]))
						bad = true;
					i += v[i] == '\\' ? 2 : 1;
				}
				if (i >= n) { /* unterminated */
					i = n;
					bad = true;
				}
				val = v + vs;
				vl = i - vs;
				if (i < n)
					i++; /* closing quote */
			} else {
				size_t vs = i;

				k = V_TOKEN;
				while (i < n && is_tchar((unsigned char)v[i]))
					i++;
				val = v + vs;
				vl = i - vs;
				bad = vl == 0;
			}
		}
		for (j = i; j < n && is_ows((unsigned char)v[j]); j++)
			;
		if (nl == 0 || (j < n && v[j] != ',')) {
			bad = true; /* e.g. "max-age =5", "max-age= 5", junk */
			j = skip_element(v, n, j);
		}
		i = j;
		if (nl > 0)
			apply(cc, v + ns, nl, k, val, vl, bad, surrogate);
	}
}

void
cachepol_cc_parse(struct cachepol_cc *cc, const char *v, size_t vlen)
{
	cc_parse(cc, v, vlen, false);
}

/* ---- Structured Fields (RFC 8941) for CDN-Cache-Control ----------------- */

enum sftype { SF_INT, SF_DEC, SF_STR, SF_TOK, SF_BIN, SF_BOOL, SF_DATE, SF_DSTR, SF_INNER };

struct sfp {
	const char *s;
	size_t n, i;
};

struct sfval {
	enum sftype t;
	int64_t i; /* integer, or boolean 0/1 */
};

static bool
sf_lcalpha(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
sf_alpha(unsigned char c)
{
	return sf_lcalpha(c) || (c >= 'A' && c <= 'Z');
}

static void
sf_sp(struct sfp *p)
{
	while (p->i < p->n && p->s[p->i] == ' ')
		p->i++;
}

static void
sf_ows(struct sfp *p)
{
	while (p->i < p->n && is_ows((unsigned char)p->s[p->i]))
		p->i++;
}

static int
sf_key(struct sfp *p, size_t *ks, size_t *kl)
{
	unsigned char c;

	if (p->i >= p->n)
		return -1;
	c = (unsigned char)p->s[p->i];
	if (!sf_lcalpha(c) && c != '*')
		return -1;
	*ks = p->i++;
	while (p->i < p->n) {
		c = (unsigned char)p->s[p->i];
		if (!sf_lcalpha(c) && !is_digit(c) && !strchr("_-.*", c))
			break;
		p->i++;
	}
	*kl = p->i - *ks;
	return 0;
}

/* sf-integer or sf-decimal */
static int
sf_number(struct sfp *p, struct sfval *v)
{
	bool neg = false;
	size_t digits = 0, frac = 0;
	int64_t x = 0;

	if (p->s[p->i] == '-') {
		neg = true;
		p->i++;
	}
	v->t = SF_INT;
	while (p->i < p->n) {
		unsigned char c = (unsigned char)p->s[p->i];

		if (is_digit(c)) {
			if (v->t == SF_INT && ++digits > 15)
				return -1;
			if (v->t == SF_DEC && ++frac > 3)
				return -1;
			if (v->t == SF_INT)
				x = x * 10 + (c - '0');
		} else if (c == '.' && v->t == SF_INT) {
			if (digits == 0 || digits > 12)
				return -1;
			v->t = SF_DEC;
		} else {
			break;
		}
		p->i++;
	}
	if (digits == 0 || (v->t == SF_DEC && frac == 0))
		return -1;
	v->i = neg ? -x : x;
	return 0;
}

static int
sf_bare(struct sfp *p, struct sfval *v)
{
	unsigned char c;

	if (p->i >= p->n)
		return -1;
	c = (unsigned char)p->s[p->i];
	if (c == '-' || is_digit(c))
		return sf_number(p, v);
	if (c == '"') {
		v->t = SF_STR;
		for (p->i++; p->i < p->n; p->i++) {
			c = (unsigned char)p->s[p->i];
			if (c == '\\') {
				if (++p->i >= p->n || (p->s[p->i] != '"' && p->s[p->i] != '\\'))
					return -1;
			} else if (c == '"') {
				p->i++;
				return 0;
			} else if (c < 0x20 || c > 0x7e) {
				return -1;
			}
		}
		return -1;
	}
	if (sf_alpha(c) || c == '*') {
		v->t = SF_TOK;
		for (p->i++; p->i < p->n; p->i++) {
			c = (unsigned char)p->s[p->i];
			if (!is_tchar(c) && c != ':' && c != '/')
				break;
		}
		return 0;
	}
	if (c == ':') {
		v->t = SF_BIN;
		for (p->i++; p->i < p->n; p->i++) {
			c = (unsigned char)p->s[p->i];
			if (c == ':') {
				p->i++;
				return 0;
			}
			if (!sf_alpha(c) && !is_digit(c) && c != '+' && c != '/' && c != '=')
				return -1;
		}
		return -1;
	}
	if (c == '?') {
		v->t = SF_BOOL;
		if (p->i + 1 >= p->n || (p->s[p->i + 1] != '0' && p->s[p->i + 1] != '1'))
			return -1;
		v->i = p->s[p->i + 1] == '1';
		p->i += 2;
		return 0;
	}
	if (c == '@') { /* RFC 9651 Date */
		p->i++;
		if (p->i >= p->n || sf_number(p, v) < 0 || v->t != SF_INT)
			return -1;
		v->t = SF_DATE;
		return 0;
	}
	if (c == '%') { /* RFC 9651 Display String */
		v->t = SF_DSTR;
		if (++p->i >= p->n || p->s[p->i] != '"')
			return -1;
		for (p->i++; p->i < p->n; p->i++) {
			c = (unsigned char)p->s[p->i];
			if (c == '"') {
				p->i++;
				return 0;
			}
			if (c < 0x20 || c > 0x7e)
				return -1;
			if (c == '%') {
				size_t k;

				for (k = 1; k <= 2; k++)
					if (p->i + k >= p->n ||
					    !strchr("0123456789abcdef", p->s[p->i + k]) ||
					    p->s[p->i + k] == '\0')
						return -1;
				p->i += 2;
			}
		}
		return -1;
	}
	return -1;
}

static int
sf_params(struct sfp *p)
{
	while (p->i < p->n && p->s[p->i] == ';') {
		size_t ks, kl;
		struct sfval v;

		p->i++;
		sf_sp(p);
		if (sf_key(p, &ks, &kl) < 0)
			return -1;
		if (p->i < p->n && p->s[p->i] == '=') {
			p->i++;
			if (sf_bare(p, &v) < 0)
				return -1;
		}
	}
	return 0;
}

static int
sf_item(struct sfp *p, struct sfval *v)
{
	if (sf_bare(p, v) < 0)
		return -1;
	return sf_params(p);
}

static int
sf_inner(struct sfp *p, struct sfval *v)
{
	p->i++; /* '(' */
	for (;;) {
		struct sfval x;

		sf_sp(p);
		if (p->i >= p->n)
			return -1;
		if (p->s[p->i] == ')') {
			p->i++;
			v->t = SF_INNER;
			return sf_params(p);
		}
		if (sf_item(p, &x) < 0)
			return -1;
		if (p->i >= p->n || (p->s[p->i] != ' ' && p->s[p->i] != ')'))
			return -1;
	}
}

/* One dictionary member: key k, value v (t == SF_BOOL, i == 1 when bare).
 * Later members overwrite earlier ones (RFC 8941 4.2.2).  -1 when a known
 * directive has a value it cannot take: the field is then ignored. */
static int
sf_apply(struct cachepol_cc *cc, const char *k, size_t kl, const struct sfval *v)
{
	size_t i;

	for (i = 0; i < sizeof delta_dirs / sizeof delta_dirs[0]; i++) {
		const struct delta_dir *d = &delta_dirs[i];

		if (!name_is(k, kl, d->name))
			continue;
		if (v->t != SF_INT || v->i < 0)
			return -1;
		cc->flags = (cc->flags & ~d->bad) | d->bit;
		*delta_field(cc, d) = clamp_delta(v->i);
		return 0;
	}
	for (i = 0; i < sizeof flag_dirs / sizeof flag_dirs[0]; i++)
		if (name_is(k, kl, flag_dirs[i].name)) {
			if (v->t != SF_BOOL)
				return -1;
			if (v->i)
				cc->flags |= flag_dirs[i].bit;
			else
				cc->flags &= ~flag_dirs[i].bit;
			return 0;
		}
	if (name_is(k, kl, "no-cache") || name_is(k, kl, "private")) {
		uint32_t bit = name_is(k, kl, "no-cache") ? CACHEPOL_CC_NO_CACHE : CACHEPOL_CC_PRIVATE;

		/* a field-name list is not defined for targeted fields: any
		 * value but false is the unqualified, stricter form */
		if (v->t == SF_BOOL && v->i == 0)
			cc->flags &= ~bit;
		else
			cc->flags |= bit;
	}
	return 0;
}

int
cachepol_cc_parse_sf(struct cachepol_cc *cc, const char *v, size_t vlen)
{
	struct sfp p = { v, vlen, 0 };
	bool any = false;

	sf_sp(&p);
	if (p.i == p.n)
		return 0;
	for (;;) {
		size_t ks, kl;
		struct sfval val = { SF_BOOL, 1 };

		if (sf_key(&p, &ks, &kl) < 0)
			return -1;
		if (p.i < p.n && p.s[p.i] == '=') {
			p.i++;
			if (p.i < p.n && p.s[p.i] == '(') {
				if (sf_inner(&p, &val) < 0)
					return -1;
			} else if (sf_item(&p, &val) < 0) {
				return -1;
			}
		} else if (sf_params(&p) < 0) {
			return -1;
		}
		if (sf_apply(cc, v + ks, kl, &val) < 0)
			return -1;
		any = true;
		sf_ows(&p);
		if (p.i == p.n)
			break;
		if (p.s[p.i] != ',')
			return -1;
		p.i++;
		sf_ows(&p);
		if (p.i == p.n)
			return -1; /* trailing comma */
	}
	return any ? 1 : 0;
}

/* ---- HTTP-date (RFC 9110 5.6.7) ----------------------------------------- */

static const char months[12][4] = { "jan", "feb", "mar", "apr", "may", "jun",
                                    "jul", "aug", "sep", "oct", "nov", "dec" };
static const char wdays[7][10] = { "sunday",   "monday", "tuesday", "wednesday",
                                   "thursday", "friday", "saturday" };

/* Days since 1970-01-01 of a proleptic Gregorian date (the usual era
 * arithmetic: 400-year eras of 146097 days, years starting in March). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
	static const unsigned dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

/* n digits at s, or -1 */
static int
digits(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* month name (any case) at s: 1-12, or 0 */
static unsigned
month_at(const char *s)
{
	unsigned i;

	for (i = 0; i < 12; i++)
		if (strncasecmp(s, months[i], 3) == 0)
			return i + 1;
	return 0;
}

static bool
wday3_at(const char *s)
{
	unsigned i;

	for (i = 0; i < 7; i++)
		if (strncasecmp(s, wdays[i], 3) == 0)
			return true;
	return false;
}

/* "HH:MM:SS" at s into seconds of the day, or -1 */
static int64_t
time_at(const char *s)
{
	int h = digits(s, 2), m = digits(s + 3, 2), sec = digits(s + 6, 2);

	if (s[2] != ':' || s[5] != ':' || h < 0 || m < 0 || sec < 0 || h > 23 || m > 59 ||
	    sec > 60)
		return -1;
	return (int64_t)h * 3600 + m * 60 + sec; /* 60: a leap second */
}

static int
make_time(int64_t y, unsigned m, int d, int64_t tod, int64_t *t)
{
	if (m == 0 || d < 1 || (unsigned)d > days_in_month(y, m) || tod < 0)
		return -1;
	*t = days_from_civil(y, m, (unsigned)d) * 86400 + tod;
	return 0;
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
static int
imf_fixdate(const char *s, size_t n, int64_t *t)
{
	int y;

	if (n != 29 || !wday3_at(s) || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
	    s[11] != ' ' || s[16] != ' ' || s[25] != ' ' || strncasecmp(s + 26, "GMT", 3) != 0)
		return -1;
	y = digits(s + 12, 4);
	if (y < 0)
		return -1;
	return make_time(y, month_at(s + 8), digits(s + 5, 2), time_at(s + 17), t);
}

/* rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT" */
static int
rfc850(const char *s, size_t n, int64_t ref, int64_t *t)
{
	const char *comma = memchr(s, ',', n);
	size_t wl, i;
	int yy;
	int64_t y, ry;
	unsigned m;

	if (comma == NULL)
		return -1;
	wl = (size_t)(comma - s);
	for (i = 0; i < 7; i++)
		if (name_is(s, wl, wdays[i]))
			break;
	if (i == 7 || n - wl != 24)
		return -1;
	s = comma; /* ", 06-Nov-94 08:49:37 GMT" */
	if (s[1] != ' ' || s[4] != '-' || s[8] != '-' || s[11] != ' ' || s[20] != ' ' ||
	    strncasecmp(s + 21, "GMT", 3) != 0)
		return -1;
	yy = digits(s + 9, 2);
	if (yy < 0)
		return -1;
	/* RFC 9110 5.6.7: more than 50 years ahead of now means the past
	 * century; without a reference, 70-99 are 19xx and 00-69 20xx */
	if (ref == CACHEPOL_TIME_NONE) {
		y = yy >= 70 ? 1900 + yy : 2000 + yy;
	} else {
		unsigned rm, rd;

		civil_from_days((ref >= 0 ? ref : ref - 86399) / 86400, &ry, &rm, &rd);
		y = ry - ((ry % 100) + 100) % 100 + yy;
		if (y > ry + 50)
			y -= 100;
		else if (y <= ry - 50)
			y += 100;
	}
	m = month_at(s + 5);
	return make_time(y, m, digits(s + 2, 2), time_at(s + 12), t);
}

/* asctime-date: "Sun Nov  6 08:49:37 1994" */
static int
asctime_date(const char *s, size_t n, int64_t *t)
{
	int d, y;

	if (n != 24 || !wday3_at(s) || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' ||
	    s[19] != ' ')
		return -1;
	d = s[8] == ' ' ? digits(s + 9, 1) : digits(s + 8, 2);
	y = digits(s + 20, 4);
	if (y < 0)
		return -1;
	return make_time(y, month_at(s + 4), d, time_at(s + 11), t);
}

int
cachepol_date_parse(const char *s, size_t len, int64_t ref, int64_t *t)
{
	trim(&s, &len);
	if (len < 24 || len > 40)
		return -1;
	if (s[3] == ',')
		return imf_fixdate(s, len, t);
	if (s[3] == ' ')
		return asctime_date(s, len, t);
	return rfc850(s, len, ref, t);
}

int
cachepol_date_format(int64_t t, char *out)
{
	static const char wd[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char mo[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int64_t days, secs, y;
	unsigned m, d;
	char *p = out;
	int w;

	out[0] = '\0';
	/* year 0000-9999: days -719528 .. 2932896 */
	if (t < INT64_C(-62167219200) || t > INT64_C(253402300799))
		return -1;
	days = (t >= 0 ? t : t - 86399) / 86400;
	secs = t - days * 86400;
	civil_from_days(days, &y, &m, &d);
	w = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
	memcpy(p, wd[w], 3);
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	*p++ = (char)('0' + d / 10);
	*p++ = (char)('0' + d % 10);
	*p++ = ' ';
	memcpy(p, mo[m - 1], 3);
	p += 3;
	*p++ = ' ';
	*p++ = (char)('0' + y / 1000);
	*p++ = (char)('0' + y / 100 % 10);
	*p++ = (char)('0' + y / 10 % 10);
	*p++ = (char)('0' + y % 10);
	*p++ = ' ';
	*p++ = (char)('0' + secs / 36000);
	*p++ = (char)('0' + secs / 3600 % 10);
	*p++ = ':';
	*p++ = (char)('0' + secs % 3600 / 600);
	*p++ = (char)('0' + secs % 3600 / 60 % 10);
	*p++ = ':';
	*p++ = (char)('0' + secs % 60 / 10);
	*p++ = (char)('0' + secs % 10);
	memcpy(p, " GMT", 5);
	return 0;
}

/* ---- requests ----------------------------------------------------------- */

void
cachepol_req_init(struct cachepol_req *q, const char *m, size_t mlen)
{
	static const struct {
		const char *name;
		enum cachepol_method m;
	} known[] = {
		{ "GET", CACHEPOL_M_GET },         { "HEAD", CACHEPOL_M_HEAD },
		{ "POST", CACHEPOL_M_POST },       { "OPTIONS", CACHEPOL_M_OPTIONS },
		{ "TRACE", CACHEPOL_M_TRACE },
	};
	size_t i;

	memset(q, 0, sizeof *q);
	q->method = CACHEPOL_M_OTHER;
	for (i = 0; i < sizeof known / sizeof known[0]; i++) /* methods are case-sensitive */
		if (strlen(known[i].name) == mlen && memcmp(m, known[i].name, mlen) == 0)
			q->method = known[i].m;
	cachepol_cc_init(&q->cc);
}

/* Whether the #token list v holds the element want (any case). */
static bool
list_has(const char *v, size_t n, const char *want)
{
	size_t pos = 0, e;
	const char *el;

	while (next_element(v, n, &pos, &el, &e))
		if (name_is(el, e, want))
			return true;
	return false;
}

/* Keep line *n of a list field in a[max] and count it (past max the
 * count still grows, so the field can be known to be too long). */
static void
push_span(struct cachepol_span *a, unsigned max, unsigned *n, const char *v, size_t vl)
{
	if (*n < max) {
		a[*n].p = v;
		a[*n].len = vl;
	}
	if (*n != (unsigned)-1)
		(*n)++;
}

void
cachepol_req_field(struct cachepol_req *q, const char *name, size_t nlen, const char *value,
                   size_t vlen)
{
	if (name_is(name, nlen, "cache-control")) {
		cachepol_cc_parse(&q->cc, value, vlen);
		q->has_cc = true;
	} else if (name_is(name, nlen, "pragma")) {
		q->pragma_no_cache |= list_has(value, vlen, "no-cache");
	} else if (name_is(name, nlen, "authorization")) {
		q->authorization = true;
	} else if (name_is(name, nlen, "cookie")) {
		q->cookie |= vlen > 0;
	} else if (name_is(name, nlen, "if-none-match")) {
		push_span(q->inm, CACHEPOL_COND_LINES, &q->n_inm, value, vlen);
	} else if (name_is(name, nlen, "if-match")) {
		push_span(q->im, CACHEPOL_COND_LINES, &q->n_im, value, vlen);
	} else if (name_is(name, nlen, "if-modified-since")) {
		push_span(&q->ims, 1, &q->n_ims, value, vlen);
	} else if (name_is(name, nlen, "if-unmodified-since")) {
		push_span(&q->ius, 1, &q->n_ius, value, vlen);
	}
}

/* ---- responses ---------------------------------------------------------- */

void
cachepol_resp_init(struct cachepol_resp *r, unsigned status, int64_t request_time,
                   int64_t response_time)
{
	memset(r, 0, sizeof *r);
	r->status = status;
	r->request_time = request_time;
	r->response_time = response_time;
	r->date = response_time;
	r->expires = CACHEPOL_TIME_NONE;
	r->last_modified = CACHEPOL_TIME_NONE;
	cachepol_cc_init(&r->cc);
	cachepol_cc_init(&r->cc_plain);
	cachepol_cc_init(&r->cc_cdn);
	cachepol_cc_init(&r->cc_sur);
}

/* Age: the first element of the first line, when it is delta-seconds. */
static int64_t
age_value(const char *v, size_t n)
{
	size_t pos = 0, e;
	const char *el;

	return next_element(v, n, &pos, &el, &e) ? delta_seconds(el, e, false) : -1;
}

void
cachepol_resp_field(struct cachepol_resp *r, const char *name, size_t nlen, const char *value,
                    size_t vlen)
{
	const char *v = value;
	size_t n = vlen;
	int64_t t;

	trim(&v, &n);
	if (name_is(name, nlen, "cache-control")) {
		cachepol_cc_parse(&r->cc_plain, v, n);
	} else if (name_is(name, nlen, "cdn-cache-control")) {
		int rc = r->cdn_state < 0 ? -1 : cachepol_cc_parse_sf(&r->cc_cdn, v, n);

		r->cdn_lines++;
		if (rc < 0)
			r->cdn_state = -1;
		else if (rc == 0)
			r->cdn_empty++;
		else
			r->cdn_state = 1;
	} else if (name_is(name, nlen, "surrogate-control")) {
		cc_parse(&r->cc_sur, v, n, true);
		r->sur_seen = true;
	} else if (name_is(name, nlen, "date")) {
		if (!r->date_seen && cachepol_date_parse(v, n, r->response_time, &t) == 0) {
			r->date = t;
			r->has_date = true;
		}
		r->date_seen = true;
	} else if (name_is(name, nlen, "expires")) {
		if (!r->has_expires && cachepol_date_parse(v, n, r->response_time, &t) == 0)
			r->expires = t;
		r->has_expires = true;
	} else if (name_is(name, nlen, "last-modified")) {
		if (!r->lm_seen && cachepol_date_parse(v, n, r->response_time, &t) == 0)
			r->last_modified = t;
		r->lm_seen = true;
	} else if (name_is(name, nlen, "age")) {
		if (!r->age_seen && (t = age_value(v, n)) >= 0) {
			r->age = t;
			r->has_age = true;
		}
		r->age_seen = true;
	} else if (name_is(name, nlen, "etag")) {
		if (!r->etag_seen && n < sizeof r->etag) {
			memcpy(r->etag, v, n);
			r->etag[n] = '\0';
		}
		r->etag_seen = true;
	} else if (name_is(name, nlen, "vary")) {
		r->vary_star |= list_has(v, n, "*");
	} else if (name_is(name, nlen, "set-cookie")) {
		r->set_cookie = true;
	} else if (name_is(name, nlen, "connection")) {
		size_t pos = 0, e;
		const char *el;

		/* only a token can name a field; anything else matches none */
		while (next_element(v, n, &pos, &el, &e))
			if (is_token(el, e) && !names_add(r->conn_names, el, e))
				r->names_overflow = true;
	}
}

void
cachepol_resp_done(struct cachepol_resp *r, const struct cachepol_config *cfg)
{
	const uint32_t sur_bits =
		CACHEPOL_CC_MAX_AGE | CACHEPOL_CC_MAX_AGE_BAD | CACHEPOL_CC_NO_STORE;

	/* an empty line among several makes the combined value ", x" or
	 * "x, ": a parse error (RFC 8941 4.2) */
	if (r->cdn_state == 1 && r->cdn_empty > 0)
		r->cdn_state = -1;
	if (cfg->cdn_cache_control && r->cdn_state == 1) {
		r->cc = r->cc_cdn;
		r->cc_src = CACHEPOL_SRC_CDN_CACHE_CONTROL;
	} else if (cfg->surrogate_control && (r->cc_sur.flags & sur_bits)) {
		/* Surrogate-Control defines only these (Edge Architecture 1.0) */
		cachepol_cc_init(&r->cc);
		r->cc.flags = r->cc_sur.flags & sur_bits;
		r->cc.max_age = r->cc_sur.max_age;
		r->cc_src = CACHEPOL_SRC_SURROGATE_CONTROL;
	} else {
		r->cc = r->cc_plain;
		r->cc_src = CACHEPOL_SRC_CACHE_CONTROL;
	}
}

/* ---- freshness and age -------------------------------------------------- */

bool
cachepol_heuristic_status(unsigned status)
{
	switch (status) {
	case 200: case 203: case 204: case 206: case 300: case 301: case 308:
	case 404: case 405: case 410: case 414: case 501:
		return true;
	default:
		return false;
	}
}

/* Final status codes whose requirements this cache knows (RFC 9110 15),
 * for must-understand.  206 and 304 are not stored at all. */
static bool
status_understood(unsigned s)
{
	return (s >= 200 && s <= 205) || (s >= 300 && s <= 303) || s == 307 || s == 308 ||
	       (s >= 400 && s <= 417) || s == 421 || s == 422 || s == 426 ||
	       (s >= 500 && s <= 505);
}

void
cachepol_freshness(const struct cachepol_resp *r, const struct cachepol_config *cfg,
                   struct cachepol_fresh *f)
{
	const struct cachepol_cc *cc = &r->cc;
	bool allowed;

	f->heuristic = false;
	if (cc->flags & (CACHEPOL_CC_S_MAXAGE | CACHEPOL_CC_S_MAXAGE_BAD)) {
		f->src = CACHEPOL_F_S_MAXAGE;
		f->lifetime = cc->flags & CACHEPOL_CC_S_MAXAGE ? cc->s_maxage : 0;
	} else if (cc->flags & (CACHEPOL_CC_MAX_AGE | CACHEPOL_CC_MAX_AGE_BAD)) {
		f->src = CACHEPOL_F_MAX_AGE;
		f->lifetime = cc->flags & CACHEPOL_CC_MAX_AGE ? cc->max_age : 0;
	} else if (r->has_expires && r->cc_src == CACHEPOL_SRC_CACHE_CONTROL) {
		/* an invalid Expires is in the past (RFC 9111 5.3) */
		f->src = CACHEPOL_F_EXPIRES;
		f->lifetime = r->expires == CACHEPOL_TIME_NONE ?
			0 : clamp_delta(sub_sat(r->expires, r->date));
	} else {
		f->heuristic = true;
		allowed = cachepol_heuristic_status(r->status) || (cc->flags & CACHEPOL_CC_PUBLIC);
		if (r->status >= 400 && cfg->error_caching_ttl > 0 &&
		    (allowed || cfg->error_ttl_any_status)) {
			f->src = CACHEPOL_F_ERROR;
			f->lifetime = clamp_delta(cfg->error_caching_ttl);
			return; /* the operator's own number: not clamped again */
		}
		if (!allowed) {
			f->src = CACHEPOL_F_NONE;
			f->lifetime = 0;
			f->heuristic = false;
			return;
		}
		if (cfg->ttl_default > 0) {
			f->src = CACHEPOL_F_DEFAULT;
			f->lifetime = clamp_delta(cfg->ttl_default);
		} else if (r->last_modified != CACHEPOL_TIME_NONE) {
			int64_t span = clamp_delta(sub_sat(r->date, r->last_modified));

			f->src = CACHEPOL_F_LAST_MOD;
			f->lifetime = span * (cfg->heuristic_percent > 100 ? 100 :
			                      (int64_t)cfg->heuristic_percent) / 100;
			if (f->lifetime > cfg->heuristic_max)
				f->lifetime = clamp_delta(cfg->heuristic_max);
		} else {
			f->src = CACHEPOL_F_NONE;
			f->lifetime = 0;
			f->heuristic = false;
			return;
		}
	}
	if (f->lifetime < cfg->ttl_min)
		f->lifetime = clamp_delta(cfg->ttl_min);
	if (f->lifetime > cfg->ttl_max)
		f->lifetime = clamp_delta(cfg->ttl_max);
}

void
cachepol_age(const struct cachepol_resp *r, int64_t now, struct cachepol_age *a)
{
	a->apparent_age = clamp_delta(sub_sat(r->response_time, r->date));
	a->response_delay = clamp_delta(sub_sat(r->response_time, r->request_time));
	a->corrected_age_value = clamp_delta(r->age + a->response_delay);
	a->corrected_initial_age = max64(a->apparent_age, a->corrected_age_value);
	a->resident_time = clamp_delta(sub_sat(now, r->response_time));
	a->current_age = clamp_delta(a->corrected_initial_age + a->resident_time);
}

/* ---- storing ------------------------------------------------------------ */

static bool
has_validator(const struct cachepol_resp *r)
{
	return r->etag[0] != '\0' || r->last_modified != CACHEPOL_TIME_NONE;
}

/* Directives that forbid serving stale (RFC 9111 4.2.4, 5.2.2.10). */
static bool
stale_forbidden(const struct cachepol_cc *cc)
{
	return (cc->flags & (CACHEPOL_CC_MUST_REVALIDATE | CACHEPOL_CC_PROXY_REVALIDATE |
	                     CACHEPOL_CC_S_MAXAGE | CACHEPOL_CC_S_MAXAGE_BAD |
	                     CACHEPOL_CC_NO_CACHE)) != 0;
}

/* The longest time past its lifetime r may be served stale without the
 * client asking: stale-while-revalidate, stale-if-error, cfg's default. */
static int64_t
stale_window(const struct cachepol_resp *r, const struct cachepol_config *cfg)
{
	int64_t w = clamp_delta(cfg->stale_if_error);

	if (stale_forbidden(&r->cc))
		return 0;
	if (r->cc.flags & CACHEPOL_CC_SWR)
		w = max64(w, r->cc.swr);
	if (r->cc.flags & CACHEPOL_CC_SIE)
		w = max64(w, r->cc.sie);
	return w;
}

enum cachepol_store
cachepol_storable(const struct cachepol_resp *r, const struct cachepol_req *q,
                  const struct cachepol_config *cfg)
{
	uint32_t fl = r->cc.flags;
	bool understood = status_understood(r->status);
	struct cachepol_fresh f;
	struct cachepol_age a;

	if (q->method != CACHEPOL_M_GET)
		return CACHEPOL_NS_METHOD;
	if (r->status < 200 || r->status > 599 || r->status == 206 || r->status == 304)
		return CACHEPOL_NS_STATUS;
	if ((fl & CACHEPOL_CC_MUST_UNDERSTAND) && !understood)
		return CACHEPOL_NS_MUST_UNDERSTAND;
	if ((fl & CACHEPOL_CC_NO_STORE) && !(fl & CACHEPOL_CC_MUST_UNDERSTAND))
		return CACHEPOL_NS_NO_STORE;
	if (q->cc.flags & CACHEPOL_CC_NO_STORE)
		return CACHEPOL_NS_REQ_NO_STORE;
	if (fl & CACHEPOL_CC_PRIVATE)
		return CACHEPOL_NS_PRIVATE;
	if (q->authorization &&
	    !(fl & (CACHEPOL_CC_PUBLIC | CACHEPOL_CC_S_MAXAGE | CACHEPOL_CC_MUST_REVALIDATE)))
		return CACHEPOL_NS_AUTHORIZATION;
	if (q->cookie && !cfg->cookies_keyed && !(fl & (CACHEPOL_CC_PUBLIC | CACHEPOL_CC_S_MAXAGE)) &&
	    !(r->cc_src != CACHEPOL_SRC_CACHE_CONTROL && (fl & CACHEPOL_CC_MAX_AGE)))
		return CACHEPOL_NS_COOKIE;
	if (r->vary_star)
		return CACHEPOL_NS_VARY_STAR;
	if (r->set_cookie && !cfg->cache_set_cookie)
		return CACHEPOL_NS_SET_COOKIE;
	if (r->names_overflow)
		return CACHEPOL_NS_CONNECTION;
	if (!(fl & (CACHEPOL_CC_PUBLIC | CACHEPOL_CC_MAX_AGE | CACHEPOL_CC_MAX_AGE_BAD |
	            CACHEPOL_CC_S_MAXAGE | CACHEPOL_CC_S_MAXAGE_BAD)) &&
	    !(r->has_expires && r->cc_src == CACHEPOL_SRC_CACHE_CONTROL) &&
	    !cachepol_heuristic_status(r->status) &&
	    !(cfg->error_ttl_any_status && cfg->error_caching_ttl > 0 && r->status >= 400))
		return CACHEPOL_NS_NOT_CACHEABLE;
	/* Storable, but worthless when every use needs the origin and there is
	 * no validator to make that use cheap. */
	if (!has_validator(r)) {
		cachepol_freshness(r, cfg, &f);
		cachepol_age(r, r->response_time, &a);
		if ((fl & CACHEPOL_CC_NO_CACHE) ||
		    (f.lifetime <= a.current_age && stale_window(r, cfg) == 0))
			return CACHEPOL_NS_STALE;
	}
	return CACHEPOL_STORE;
}

const char *
cachepol_store_str(enum cachepol_store s)
{
	static const char *const str[] = {
		[CACHEPOL_STORE] = "stored",
		[CACHEPOL_NS_METHOD] = "method",
		[CACHEPOL_NS_STATUS] = "status",
		[CACHEPOL_NS_NO_STORE] = "no-store",
		[CACHEPOL_NS_REQ_NO_STORE] = "req-no-store",
		[CACHEPOL_NS_PRIVATE] = "private",
		[CACHEPOL_NS_MUST_UNDERSTAND] = "must-understand",
		[CACHEPOL_NS_AUTHORIZATION] = "authorization",
		[CACHEPOL_NS_COOKIE] = "cookie",
		[CACHEPOL_NS_VARY_STAR] = "vary-star",
		[CACHEPOL_NS_SET_COOKIE] = "set-cookie",
		[CACHEPOL_NS_NOT_CACHEABLE] = "not-cacheable",
		[CACHEPOL_NS_CONNECTION] = "connection-list",
		[CACHEPOL_NS_STALE] = "stale-no-validator",
	};

	return (unsigned)s < sizeof str / sizeof str[0] ? str[s] : "unknown";
}

int64_t
cachepol_store_ttl(const struct cachepol_resp *r, const struct cachepol_fresh *f,
                   const struct cachepol_config *cfg, int64_t now)
{
	struct cachepol_age a;
	int64_t left, w;

	cachepol_age(r, now, &a);
	left = f->lifetime > a.current_age ? f->lifetime - a.current_age : 0;
	w = stale_window(r, cfg);
	if (has_validator(r))
		w = max64(w, clamp_delta(cfg->keep));
	return max64(left + w, 1);
}

bool
cachepol_store_field(const struct cachepol_resp *r, const char *name, size_t nlen)
{
	static const char *const never[] = {
		"connection", "keep-alive", "proxy-connection", "te", "transfer-encoding",
		"upgrade", "trailer", "proxy-authenticate", "proxy-authentication-info",
		"proxy-authorization",
	};
	size_t i;

	for (i = 0; i < sizeof never / sizeof never[0]; i++)
		if (name_is(name, nlen, never[i]))
			return false;
	if (cachepol_names_has(r->conn_names, name, nlen))
		return false;
	if ((r->cc.flags & CACHEPOL_CC_NO_CACHE_FIELDS) &&
	    cachepol_names_has(r->cc.no_cache_names, name, nlen))
		return false;
	if ((r->cc.flags & CACHEPOL_CC_PRIVATE_FIELDS) &&
	    cachepol_names_has(r->cc.private_names, name, nlen))
		return false;
	return true;
}

bool
cachepol_update_field(const struct cachepol_resp *r304, const char *name, size_t nlen)
{
	return !name_is(name, nlen, "content-length") && cachepol_store_field(r304, name, nlen);
}

/* ---- using a stored response -------------------------------------------- */

bool
cachepol_is_origin_error(unsigned status)
{
	return status == 500 || status == 502 || status == 503 || status == 504;
}

enum cachepol_action
cachepol_on_miss(const struct cachepol_req *q)
{
	return q->cc.flags & CACHEPOL_CC_ONLY_IF_CACHED ? CACHEPOL_GATEWAY_TIMEOUT : CACHEPOL_FETCH;
}

void
cachepol_use(const struct cachepol_resp *s, const struct cachepol_fresh *f,
             const struct cachepol_req *q, const struct cachepol_config *cfg, int64_t now,
             struct cachepol_use *u)
{
	const struct cachepol_cc *rq = &q->cc;
	struct cachepol_age a;
	int64_t staleness, sie;
	bool req_no_cache, forbidden = stale_forbidden(&s->cc);

	cachepol_age(s, now, &a);
	u->age = a.current_age;
	u->lifetime = f->lifetime;
	u->remaining = f->lifetime - a.current_age;
	u->stale = u->remaining <= 0; /* fresh: lifetime > current_age (RFC 9111 4.2) */
	u->serve_on_error = false;
	staleness = -u->remaining;
	req_no_cache = (rq->flags & CACHEPOL_CC_NO_CACHE) ||
	               (cfg->honor_pragma && !q->has_cc && q->pragma_no_cache);

	if (s->cc.flags & CACHEPOL_CC_NO_CACHE) {
		u->action = CACHEPOL_REVALIDATE;
		u->detail = "no-cache";
	} else if (req_no_cache) {
		u->action = CACHEPOL_REVALIDATE;
		u->detail = "req-no-cache";
	} else if ((rq->flags & CACHEPOL_CC_MAX_AGE) && u->age > rq->max_age) {
		u->action = CACHEPOL_REVALIDATE;
		u->detail = "req-max-age";
	} else if ((rq->flags & CACHEPOL_CC_MIN_FRESH) && u->remaining < rq->min_fresh) {
		u->action = CACHEPOL_REVALIDATE;
		u->detail = "req-min-fresh";
	} else if (!u->stale) {
		u->action = CACHEPOL_HIT;
		u->detail = "fresh";
	} else if (forbidden) {
		u->action = CACHEPOL_REVALIDATE;
		u->detail = "must-revalidate";
	} else if ((rq->flags & CACHEPOL_CC_MAX_STALE) && staleness <= rq->max_stale) {
		u->action = CACHEPOL_HIT_STALE;
		u->detail = "max-stale";
	} else if ((s->cc.flags & CACHEPOL_CC_SWR) && staleness <= s->cc.swr) {
		u->action = CACHEPOL_STALE_REVALIDATE;
		u->detail = "stale-while-revalidate";
	} else {
		u->action = CACHEPOL_REVALIDATE;
		u->detail = "stale";
	}
	if (u->action == CACHEPOL_REVALIDATE) {
		if (!u->stale) {
			/* fresh, but the client asked for validation: if the
			 * origin cannot answer, the fresh copy still may */
			u->serve_on_error = !(s->cc.flags & CACHEPOL_CC_NO_CACHE);
		} else if (!forbidden) {
			sie = clamp_delta(cfg->stale_if_error);
			if (s->cc.flags & CACHEPOL_CC_SIE)
				sie = max64(sie, s->cc.sie);
			if (rq->flags & CACHEPOL_CC_SIE)
				sie = max64(sie, rq->sie);
			u->serve_on_error = staleness <= sie && sie > 0;
		}
		if (rq->flags & CACHEPOL_CC_ONLY_IF_CACHED) {
			u->action = CACHEPOL_GATEWAY_TIMEOUT;
			u->detail = "only-if-cached";
		}
	}
}

/* ---- entity-tags and conditional requests ------------------------------- */

/* Parse one entity-tag at s[*i..n): [W/] DQUOTE *etagc DQUOTE.  Sets the
 * opaque-tag span (quotes included) and weakness; -1 when malformed. */
static int
etag_at(const char *s, size_t n, size_t *i, size_t *os, size_t *ol, bool *weak)
{
	size_t j = *i;

	*weak = false;
	if (j + 1 < n && s[j] == 'W' && s[j + 1] == '/') {
		*weak = true;
		j += 2;
	}
	if (j >= n || s[j] != '"')
		return -1;
	*os = j++;
	while (j < n && s[j] != '"') {
		unsigned char c = (unsigned char)s[j];

		if (c < 0x21 || c == 0x7f) /* etagc: %x21 / %x23-7E / obs-text */
			return -1;
		j++;
	}
	if (j >= n)
		return -1;
	*ol = ++j - *os;
	*i = j;
	return 0;
}

bool
cachepol_etag_match(const char *a, size_t alen, const char *b, size_t blen, bool weak)
{
	size_t ia = 0, ib = 0, as, al, bs, bl;
	bool aw, bw;

	trim(&a, &alen);
	trim(&b, &blen);
	if (etag_at(a, alen, &ia, &as, &al, &aw) < 0 || ia != alen ||
	    etag_at(b, blen, &ib, &bs, &bl, &bw) < 0 || ib != blen)
		return false;
	if (!weak && (aw || bw))
		return false;
	return al == bl && memcmp(a + as, b + bs, al) == 0;
}

int
cachepol_etag_list_match(const struct cachepol_span *lines, unsigned n, const char *etag,
                         size_t elen, bool weak)
{
	unsigned l;
	int found = 0;

	if (n > CACHEPOL_COND_LINES)
		return -1;
	for (l = 0; l < n; l++) {
		const char *s = lines[l].p;
		size_t len = lines[l].len, i = 0;

		for (;;) {
			size_t os, ol;
			bool w;

			while (i < len && (is_ows((unsigned char)s[i]) || s[i] == ','))
				i++;
			if (i >= len)
				break;
			if (s[i] == '*') {
				i++;
				found = 1;
			} else {
				size_t st = i;

				if (etag_at(s, len, &i, &os, &ol, &w) < 0)
					return -1;
				if (cachepol_etag_match(s + st, i - st, etag, elen, weak))
					found = 1;
			}
			while (i < len && is_ows((unsigned char)s[i]))
				i++;
			if (i < len && s[i] != ',')
				return -1;
		}
	}
	return found;
}

enum cachepol_cond
cachepol_conditional(const struct cachepol_resp *s, const struct cachepol_req *q,
                     const struct cachepol_config *cfg)
{
	size_t elen = strlen(s->etag);
	int64_t t, lm;

	if (q->method != CACHEPOL_M_GET && q->method != CACHEPOL_M_HEAD)
		return CACHEPOL_COND_FULL;
	if (q->n_im > 0 || q->n_ius > 0) {
		if (!cfg->evaluate_if_match)
			return CACHEPOL_COND_FORWARD;
		/* RFC 9110 13.2.2 steps 1 and 2 */
		if (q->n_im > 0) {
			if (cachepol_etag_list_match(q->im, q->n_im, s->etag, elen, false) != 1)
				return CACHEPOL_COND_412;
		} else if (q->n_ius == 1 && s->last_modified != CACHEPOL_TIME_NONE &&
		           cachepol_date_parse(q->ius.p, q->ius.len, s->response_time, &t) == 0 &&
		           s->last_modified > t) {
			return CACHEPOL_COND_412;
		}
	}
	if (q->n_inm > 0)
		return cachepol_etag_list_match(q->inm, q->n_inm, s->etag, elen, true) == 1 ?
			CACHEPOL_COND_304 : CACHEPOL_COND_FULL;
	if (q->n_ims != 1 || cachepol_date_parse(q->ims.p, q->ims.len, s->response_time, &t) < 0)
		return CACHEPOL_COND_FULL;
	/* RFC 9111 4.3.2: Last-Modified, else Date, else when received (which
	 * is what s->date holds without a Date) */
	lm = s->last_modified != CACHEPOL_TIME_NONE ? s->last_modified : s->date;
	return lm <= t ? CACHEPOL_COND_304 : CACHEPOL_COND_FULL;
}

bool
cachepol_304_field(const char *name, size_t nlen)
{
	static const char *const keep[] = {
		"cache-control", "content-location", "date", "etag", "expires", "vary",
		"last-modified",
	};
	size_t i;

	for (i = 0; i < sizeof keep / sizeof keep[0]; i++)
		if (name_is(name, nlen, keep[i]))
			return true;
	return false;
}

bool
cachepol_if_range(const struct cachepol_resp *s, const char *v, size_t vlen)
{
	int64_t t;

	trim(&v, &vlen);
	if (vlen > 0 && v[0] == '"') /* strong comparison only (RFC 9110 13.1.5) */
		return cachepol_etag_match(v, vlen, s->etag, strlen(s->etag), false);
	if (vlen > 1 && v[0] == 'W' && v[1] == '/')
		return false;
	/* a date: only an exact match with a strong Last-Modified, i.e. one at
	 * least a second older than the stored Date (RFC 9110 8.8.2.2) */
	if (cachepol_date_parse(v, vlen, s->response_time, &t) < 0 ||
	    s->last_modified == CACHEPOL_TIME_NONE || !s->has_date)
		return false;
	return t == s->last_modified && s->date > s->last_modified;
}

/* ---- invalidation ------------------------------------------------------- */

bool
cachepol_invalidates(const char *m, size_t mlen, unsigned status)
{
	static const char *const safe[] = { "GET", "HEAD", "OPTIONS", "TRACE" };
	size_t i;

	if (status < 200 || status > 399)
		return false;
	for (i = 0; i < sizeof safe / sizeof safe[0]; i++)
		if (strlen(safe[i]) == mlen && memcmp(m, safe[i], mlen) == 0)
			return false;
	return true;
}

/* Split authority a[0..n) into host and port (default dport).  False when
 * it has userinfo, a bad port or an unclosed IPv6 literal. */
static bool
split_authority(const char *a, size_t n, const char **h, size_t *hl, long *port, long dport)
{
	size_t i, colon = n;

	if (memchr(a, '@', n) != NULL)
		return false;
	if (n > 0 && a[0] == '[') {
		const char *rb = memchr(a, ']', n);

		if (rb == NULL)
			return false;
		i = (size_t)(rb - a) + 1;
		if (i < n && a[i] != ':')
			return false;
		colon = i;
	} else {
		for (i = 0; i < n; i++)
			if (a[i] == ':')
				colon = i;
	}
	*h = a;
	*hl = colon;
	*port = dport;
	if (colon < n) {
		long p = 0;

		if (colon + 1 == n) /* "host:" means the default port */
			return *hl > 0;
		for (i = colon + 1; i < n; i++) {
			if (!is_digit((unsigned char)a[i]) || p > 65535)
				return false;
			p = p * 10 + (a[i] - '0');
		}
		if (p > 65535)
			return false;
		*port = p;
	}
	return *hl > 0;
}

static bool
same_authority(const char *scheme, const char *a, size_t al, const char *b, size_t bl)
{
	long dport = strcasecmp(scheme, "https") == 0 ? 443 : 80, pa, pb;
	const char *ha, *hb;
	size_t hal, hbl;

	return split_authority(a, al, &ha, &hal, &pa, dport) &&
	       split_authority(b, bl, &hb, &hbl, &pb, dport) && pa == pb && hal == hbl &&
	       strncasecmp(ha, hb, hal) == 0;
}

/* RFC 3986 5.2.4, in place: the output never overtakes the input. */
static size_t
remove_dot_segments(char *b, size_t n)
{
	size_t r = 0, w = 0;

	while (r < n) {
		size_t left = n - r;

		if (left >= 3 && memcmp(b + r, "../", 3) == 0) {
			r += 3;
		} else if (left >= 2 && memcmp(b + r, "./", 2) == 0) {
			r += 2;
		} else if (left >= 3 && memcmp(b + r, "/./", 3) == 0) {
			r += 2;
		} else if (left == 2 && memcmp(b + r, "/.", 2) == 0) {
			r += 1;
			b[r] = '/';
		} else if ((left >= 4 && memcmp(b + r, "/../", 4) == 0) ||
		           (left == 3 && memcmp(b + r, "/..", 3) == 0)) {
			/* the prefix becomes "/", and the last output segment goes */
			r += left == 3 ? 2 : 3;
			b[r] = '/';
			while (w > 0 && b[w - 1] != '/')
				w--;
			if (w > 0)
				w--;
		} else if ((left == 1 && b[r] == '.') || (left == 2 && memcmp(b + r, "..", 2) == 0)) {
			r = n;
		} else {
			if (b[r] == '/')
				b[w++] = b[r++];
			while (r < n && b[r] != '/')
				b[w++] = b[r++];
		}
	}
	return w;
}

/* Append s[0..n) at out + *w; false when out is full. */
static bool
put(char *out, size_t outsz, size_t *w, const char *s, size_t n)
{
	if (n == 0)
		return true;
	if (n >= outsz - *w)
		return false;
	memcpy(out + *w, s, n);
	*w += n;
	return true;
}

int
cachepol_invalidation_target(const char *scheme, const char *authority, const char *req_path,
                             const char *uri, size_t ulen, char *out, size_t outsz)
{
	const char *hash, *q, *path = uri;
	size_t i, plen, qlen, w = 0;
	bool absolute = false; /* had an authority: the path is absolute */

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	trim(&uri, &ulen);
	if ((hash = memchr(uri, '#', ulen)) != NULL)
		ulen = (size_t)(hash - uri);
	for (i = 0; i < ulen; i++)
		if ((unsigned char)uri[i] <= ' ' || uri[i] == 0x7f)
			return 0;
	if (ulen == 0)
		return 0;
	/* scheme ":" (RFC 3986 3.1), before any '/', '?' */
	for (i = 0; i < ulen && uri[i] != ':' && uri[i] != '/' && uri[i] != '?'; i++)
		;
	if (i < ulen && uri[i] == ':') {
		if (i != strlen(scheme) || strncasecmp(uri, scheme, i) != 0)
			return 0;
		uri += i + 1;
		ulen -= i + 1;
		if (ulen < 2 || uri[0] != '/' || uri[1] != '/')
			return 0;
	}
	path = uri;
	plen = ulen;
	if (ulen >= 2 && uri[0] == '/' && uri[1] == '/') {
		const char *a = uri + 2, *end = a;

		while (end < uri + ulen && *end != '/' && *end != '?')
			end++;
		if (!same_authority(scheme, authority, strlen(authority), a, (size_t)(end - a)))
			return 0;
		path = end;
		plen = ulen - (size_t)(end - uri);
		absolute = true;
	}
	q = memchr(path, '?', plen);
	qlen = q != NULL ? plen - (size_t)(q - path) : 0;
	plen -= qlen;
	if (plen > 0 && path[0] == '/') {
		if (!put(out, outsz, &w, path, plen))
			return -1;
	} else if (absolute) { /* "https://host" or "https://host?q" */
		if (!put(out, outsz, &w, "/", 1))
			return -1;
	} else {
		/* relative: merge with the request path (RFC 3986 5.2.3) */
		const char *rq = strchr(req_path, '?');
		size_t bl = rq != NULL ? (size_t)(rq - req_path) : strlen(req_path);

		if (plen > 0)
			while (bl > 0 && req_path[bl - 1] != '/')
				bl--;
		if (bl == 0 && !put(out, outsz, &w, "/", 1))
			return -1;
		if (!put(out, outsz, &w, req_path, bl) || !put(out, outsz, &w, path, plen))
			return -1;
	}
	/* the merged path starts with '/', and so does its normalised form */
	w = remove_dot_segments(out, w);
	if (!put(out, outsz, &w, q, qlen))
		return -1;
	out[w] = '\0';
	return 1;
}
