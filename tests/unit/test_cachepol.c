/*
 * test_cachepol.c: the shared-cache policy (lib/cachepol).  Most cases
 * replay the HTTP WG cache-tests suite (cache-tests.fyi) as pure decisions:
 * a response is stored at T0 (request and response at the same instant, as
 * on a local network), then a second request arrives PAUSE seconds later
 * and the outcome is "cached" (served without the origin), "validate"
 * (stored, but the origin must be asked) or "not stored".  Headers are
 * written as "Name: value" lines in which "@N" stands for the IMF-fixdate
 * of T0 + N, like cache-tests' numeric header values.  The rest covers the
 * parsers directly (Cache-Control, CDN-Cache-Control, HTTP-date), the Age
 * arithmetic of RFC 9111 4.2.3, conditional requests, 304 updates and
 * invalidation targets.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachepol.h"

TestSuite(cachepol, .timeout = 30);

#define T0    INT64_C(1700000000) /* Tue, 14 Nov 2023 22:13:20 GMT */
#define PAUSE 3                   /* cache-tests' pause_after */

static struct cachepol_config cfg;

static void
setup_cfg(void)
{
	cachepol_config_default(&cfg);
}

/* Expand "@N" (N a signed integer) in s into the HTTP-date of T0 + N. */
static void
expand(const char *s, char *out, size_t outsz)
{
	size_t w = 0;

	while (*s != '\0' && w + 40 < outsz) {
		if (*s == '@' && (s[1] == '-' || (s[1] >= '0' && s[1] <= '9'))) {
			char *end;
			long long off = strtoll(s + 1, &end, 10);

			cr_assert_eq(cachepol_date_format(T0 + off, out + w), 0);
			w += CACHEPOL_DATE_LEN;
			s = end;
		} else {
			out[w++] = *s++;
		}
	}
	out[w] = '\0';
}

/* Feed "Name: value\n..." lines to a callback. */
typedef void (*field_fn)(void *obj, const char *n, size_t nl, const char *v, size_t vl);

static char linebuf[8][4096]; /* request spans must outlive the helper */
static unsigned linebuf_next;

static void
feed(const char *lines, field_fn fn, void *obj)
{
	char *buf = linebuf[linebuf_next++ % 8], *p, *next;

	expand(lines != NULL ? lines : "", buf, sizeof linebuf[0]);
	for (p = buf; *p != '\0'; p = next) {
		char *nl = strchr(p, '\n'), *colon, *v;

		next = nl != NULL ? nl + 1 : p + strlen(p);
		if (nl != NULL)
			*nl = '\0';
		colon = strchr(p, ':');
		cr_assert_not_null(colon, "header line without colon: [%s]", p);
		for (v = colon + 1; *v == ' '; v++)
			;
		fn(obj, p, (size_t)(colon - p), v, strlen(v));
	}
}

static void
resp_cb(void *obj, const char *n, size_t nl, const char *v, size_t vl)
{
	cachepol_resp_field(obj, n, nl, v, vl);
}

static void
req_cb(void *obj, const char *n, size_t nl, const char *v, size_t vl)
{
	cachepol_req_field(obj, n, nl, v, vl);
}

static void
mkresp(struct cachepol_resp *r, unsigned status, const char *hdrs, int64_t t0, int64_t t1)
{
	cachepol_resp_init(r, status, t0, t1);
	feed(hdrs, resp_cb, r);
	cachepol_resp_done(r, &cfg);
}

static void
mkreq(struct cachepol_req *q, const char *method, const char *hdrs)
{
	cachepol_req_init(q, method, strlen(method));
	feed(hdrs, req_cb, q);
}

/* ---- the cache-tests scenario ------------------------------------------- */

/* cache-tests' "not_cached" is NOSTORE or VALIDATE: stored but fresh at
 * first, a response without a validator is fetched again in full */
enum outcome { NOSTORE, CACHED, VALIDATE, TIMEOUT };
static const char *const outcome_str[] = { "not stored", "cached", "validate", "504" };

struct scenario {
	const char *id;
	unsigned status;          /* 0: 200 */
	const char *resp;         /* response header lines */
	const char *req1;         /* request headers of the storing request */
	int pause;                /* seconds between the two requests */
	const char *req2;         /* request headers of the second request */
	enum outcome want;
};

static enum outcome
run(const struct scenario *s, struct cachepol_use *u)
{
	struct cachepol_resp r;
	struct cachepol_req q1, q2;
	struct cachepol_fresh f;

	mkreq(&q1, "GET", s->req1);
	mkresp(&r, s->status ? s->status : 200, s->resp, T0, T0);
	if (cachepol_storable(&r, &q1, &cfg) != CACHEPOL_STORE)
		return NOSTORE;
	cachepol_freshness(&r, &cfg, &f);
	mkreq(&q2, "GET", s->req2);
	cachepol_use(&r, &f, &q2, &cfg, T0 + s->pause, u);
	switch (u->action) {
	case CACHEPOL_HIT:
	case CACHEPOL_HIT_STALE:
	case CACHEPOL_STALE_REVALIDATE:
		return CACHED;
	case CACHEPOL_GATEWAY_TIMEOUT:
		return TIMEOUT;
	default:
		return VALIDATE;
	}
}

static void
run_table(const struct scenario *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct cachepol_use u;
		enum outcome got = run(&t[i], &u);

		cr_expect_eq(got, t[i].want, "%s: want %s, got %s", t[i].id, outcome_str[t[i].want],
		             outcome_str[got]);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* cc-freshness.mjs and cc-parse.mjs (strict mode: ttl_default 0) */
Test(cachepol, cache_tests_cc_freshness, .init = setup_cfg)
{
	static const struct scenario t[] = {
		{ "freshness-none", 0, "", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-max-age", 0, "Cache-Control: max-age=3600", NULL, PAUSE, NULL, CACHED },
		{ "freshness-max-age-quoted", 0, "Cache-Control: max-age=\"3600\"", NULL, PAUSE, NULL, CACHED },
		{ "freshness-max-age-single-quoted", 0, "Cache-Control: max-age='3600'", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-max-age-ignore-quoted", 0, "Cache-Control: extension=\"max-age=100\", max-age=1", NULL, PAUSE, NULL, VALIDATE },
		{ "freshness-max-age-ignore-quoted-rev", 0, "Cache-Control: max-age=1, extension=\"max-age=100\"", NULL, PAUSE, NULL, VALIDATE },
		{ "freshness-max-age-ignore-quoted-all", 0, "Cache-Control: extension=\"max-age=100\", max-age=\"1\"", NULL, PAUSE, NULL, VALIDATE },
		{ "freshness-max-age-ignore-quoted-all-rev", 0, "Cache-Control: max-age=\"1\", extension=\"max-age=100\"", NULL, PAUSE, NULL, VALIDATE },
		{ "freshness-max-age-space-before-equals", 0, "Cache-Control: max-age =100", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-max-age-space-after-equals", 0, "Cache-Control: max-age= 100", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-max-age-0", 0, "Cache-Control: max-age=0", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-max-age-a100", 0, "Cache-Control: max-age=a100", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-max-age-100a", 0, "Cache-Control: max-age=100a", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-max-age-negative", 0, "Cache-Control: max-age=-100", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-max-age-max", 0, "Cache-Control: max-age=2147483648", NULL, PAUSE, NULL, CACHED },
		{ "freshness-max-age-max-plus", 0, "Cache-Control: max-age=99999999999", NULL, PAUSE, NULL, CACHED },
		{ "freshness-max-age-age", 0, "Date: @0\nCache-Control: max-age=10\nAge: 15", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-max-age-expires", 0, "Cache-Control: max-age=3600\nExpires: @-10000\nDate: @0", NULL, PAUSE, NULL, CACHED },
		{ "freshness-max-age-expires-invalid", 0, "Cache-Control: max-age=3600\nExpires: 0\nDate: @0", NULL, PAUSE, NULL, CACHED },
		{ "freshness-max-age-0-expires", 0, "Expires: @10000\nCache-Control: max-age=0\nDate: @0", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-max-age-extension", 0, "Cache-Control: foobar, max-age=3600", NULL, PAUSE, NULL, CACHED },
		{ "freshness-max-age-case-insenstive", 0, "Cache-Control: MaX-aGe=3600", NULL, PAUSE, NULL, CACHED },
		{ "freshness-s-maxage-shared", 0, "Cache-Control: s-maxage=3600", NULL, PAUSE, NULL, CACHED },
		{ "freshness-max-age-s-maxage-shared-longer", 0, "Cache-Control: max-age=3600, s-maxage=1", NULL, PAUSE, NULL, VALIDATE },
		{ "freshness-max-age-s-maxage-shared-longer-reversed", 0, "Cache-Control: s-maxage=1, max-age=3600", NULL, PAUSE, NULL, VALIDATE },
		{ "freshness-max-age-s-maxage-shared-longer-multiple", 0, "Cache-Control: max-age=3600\nCache-Control: s-maxage=1", NULL, PAUSE, NULL, VALIDATE },
		{ "freshness-max-age-s-maxage-shared-shorter", 0, "Cache-Control: max-age=1, s-maxage=3600", NULL, PAUSE, NULL, CACHED },
		/* cc-parse.mjs: first occurrence wins (documented) */
		{ "freshness-max-age-two-fresh-stale-sameline", 0, "Cache-Control: max-age=1800, max-age=1", NULL, PAUSE, NULL, CACHED },
		{ "freshness-max-age-two-fresh-stale-sepline", 0, "Cache-Control: max-age=1800\nCache-Control: max-age=1", NULL, PAUSE, NULL, CACHED },
		{ "freshness-max-age-two-stale-fresh-sameline", 0, "Cache-Control: max-age=1, max-age=1800", NULL, PAUSE, NULL, VALIDATE },
		{ "freshness-max-age-two-stale-fresh-sepline", 0, "Cache-Control: max-age=1\nCache-Control: max-age=1800", NULL, PAUSE, NULL, VALIDATE },
		{ "freshness-max-age-leading-zero", 0, "Cache-Control: max-age=003600", NULL, PAUSE, NULL, CACHED },
		{ "freshness-max-age-decimal-zero", 0, "Cache-Control: max-age=3600.0", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-max-age-decimal-five", 0, "Cache-Control: max-age=3600.5", NULL, PAUSE, NULL, NOSTORE },
		/* a validator keeps a stale response for revalidation */
		{ "max-age-0-etag", 0, "Cache-Control: max-age=0\nETag: \"x\"", NULL, PAUSE, NULL, VALIDATE },
		{ "max-age-bad-etag", 0, "Cache-Control: max-age=a100\nETag: \"x\"", NULL, PAUSE, NULL, VALIDATE },
	};

	run_table(t, N(t));
}

/* expires-freshness.mjs and expires-parse.mjs */
Test(cachepol, cache_tests_expires, .init = setup_cfg)
{
	static const struct scenario t[] = {
		{ "freshness-expires-future", 0, "Expires: @2592000\nDate: @0", NULL, PAUSE, NULL, CACHED },
		{ "freshness-expires-past", 0, "Expires: @-2592000\nDate: @0", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-expires-present", 0, "Expires: @0\nDate: @0", NULL, 0, NULL, NOSTORE },
		{ "freshness-expires-old-date", 0, "Expires: @300\nDate: @400", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-expires-wrong-case-weekday", 0, "Expires: THU, 18 Aug 2050 02:01:18 GMT\nDate: @0", NULL, PAUSE, NULL, CACHED },
		{ "freshness-expires-wrong-case-month", 0, "Expires: Thu, 18 AUG 2050 02:01:18 GMT\nDate: @0", NULL, PAUSE, NULL, CACHED },
		{ "freshness-expires-wrong-case-tz", 0, "Expires: Thu, 18 Aug 2050 02:01:18 gMT\nDate: @0", NULL, PAUSE, NULL, CACHED },
		{ "freshness-expires-invalid", 0, "Expires: 0\nDate: @0", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-expires-invalid-utc", 0, "Expires: Thu, 18 Aug 2050 02:01:18 UTC\nDate: @0", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-expires-invalid-2-digit-year", 0, "Expires: Thu, 18 Aug 50 02:01:18 GMT\nDate: @0", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-expires-invalid-no-comma", 0, "Expires: Thu 18 Aug 2050 02:01:18 GMT\nDate: @0", NULL, PAUSE, NULL, NOSTORE },
		{ "freshness-expires-invalid-multiple-spaces", 0, "Expires: Thu, 18  Aug  2050 02:01:18 GMT\nDate: @0", NULL, 0, NULL, NOSTORE },
		{ "freshness-expires-invalid-date-dashes", 0, "Expires: Thu, 18-Aug-2050 02:01:18 GMT\nDate: @0", NULL, 0, NULL, NOSTORE },
		{ "freshness-expires-invalid-time-periods", 0, "Expires: Thu, 18 Aug 2050 02.01.18 GMT\nDate: @0", NULL, 0, NULL, NOSTORE },
		{ "freshness-expires-invalid-1-digit-hour", 0, "Expires: Thu, 18 Aug 2050 2:01:18 GMT\nDate: @0", NULL, 0, NULL, NOSTORE },
		{ "freshness-expires-invalid-date", 0, "Date: foo\nExpires: @10", NULL, 0, NULL, CACHED },
		{ "freshness-expires-age-slow-date", 0, "Date: @-10\nExpires: @10\nAge: 25", NULL, 0, NULL, NOSTORE },
		{ "freshness-expires-age-fast-date", 0, "Date: @10\nExpires: @20\nAge: 15", NULL, 0, NULL, NOSTORE },
		{ "expires-rfc850", 0, "Expires: Thursday, 18-Aug-50 02:01:18 GMT\nDate: @0", NULL, PAUSE, NULL, CACHED },
		{ "expires-asctime", 0, "Expires: Thu Aug 18 02:01:18 2050\nDate: @0", NULL, PAUSE, NULL, CACHED },
		{ "expires-first-line-counts", 0, "Expires: @3600\nExpires: @-3600\nDate: @0", NULL, PAUSE, NULL, CACHED },
	};

	run_table(t, N(t));
}

/* cc-response.mjs, authorization.mjs, pragma.mjs, other.mjs */
Test(cachepol, cache_tests_response_directives, .init = setup_cfg)
{
	static const struct scenario t[] = {
		{ "cc-resp-private-shared", 0, "Cache-Control: private, max-age=3600", NULL, 0, NULL, NOSTORE },
		{ "cc-resp-no-store", 0, "Cache-Control: no-store", NULL, 0, NULL, NOSTORE },
		{ "cc-resp-no-store-case-insensitive", 0, "Cache-Control: No-StOrE", NULL, 0, NULL, NOSTORE },
		{ "cc-resp-no-store-fresh", 0, "Cache-Control: max-age=10000, no-store\nExpires: @10000\nDate: @0", NULL, 0, NULL, NOSTORE },
		{ "cc-resp-no-cache", 0, "Cache-Control: max-age=10000, no-cache\nExpires: @10000\nDate: @0", NULL, 0, NULL, NOSTORE },
		{ "cc-resp-no-cache-case-insensitive", 0, "Cache-Control: max-age=10000, No-CaChE\nExpires: @10000\nDate: @0", NULL, 0, NULL, NOSTORE },
		{ "cc-resp-no-cache-revalidate", 0, "Cache-Control: no-cache\nETag: \"abcd\"", NULL, 0, NULL, VALIDATE },
		{ "cc-resp-no-cache-revalidate-fresh", 0, "Cache-Control: max-age=10000, no-cache\nExpires: @10000\nDate: @0\nETag: \"abcd\"", NULL, 0, NULL, VALIDATE },
		{ "headers-omit-no-cache-single", 0, "Cache-Control: no-cache=\"a\"\na: 1\nb: 2\nCache-Control: max-age=3600\nDate: @0", NULL, PAUSE, NULL, CACHED },
		{ "cc-resp-must-revalidate-fresh", 0, "Cache-Control: max-age=10000, must-revalidate\nETag: \"abcd\"", NULL, 0, NULL, CACHED },
		{ "cc-resp-must-revalidate-stale", 0, "Cache-Control: max-age=2, must-revalidate\nETag: \"abcd\"", NULL, PAUSE, NULL, VALIDATE },
		{ "other-authorization", 0, "Expires: @2592000\nDate: @0", "Authorization: FOO", PAUSE, NULL, NOSTORE },
		{ "other-authorization-public", 0, "Cache-Control: max-age=3600, public\nDate: @0", "Authorization: FOO", PAUSE, NULL, CACHED },
		{ "other-authorization-must-revalidate", 0, "Cache-Control: max-age=3600, must-revalidate\nDate: @0", "Authorization: FOO", PAUSE, NULL, CACHED },
		{ "other-authorization-smaxage", 0, "Cache-Control: s-maxage=3600\nDate: @0", "Authorization: FOO", PAUSE, NULL, CACHED },
		{ "pragma-request-no-cache", 0, "Cache-Control: max-age=3600", NULL, 0, "Pragma: no-cache", CACHED },
		{ "pragma-request-extension", 0, "Cache-Control: max-age=3600", NULL, 0, "Pragma: unrecognised-extension", CACHED },
		{ "pragma-response-no-cache", 0, "Cache-Control: max-age=3600\nPragma: no-cache", NULL, 0, NULL, CACHED },
		{ "pragma-response-no-cache-heuristic", 0, "Last-Modified: @-10000\nPragma: no-cache", NULL, 0, NULL, CACHED },
		{ "pragma-response-extension", 0, "Cache-Control: max-age=3600\nPragma: unrecognised-extension", NULL, 0, NULL, CACHED },
		{ "other-heuristic-content-disposition-attachment", 0, "Last-Modified: @-100000\nDate: @0\nContent-Disposition: attachment; filename=example.txt", NULL, 0, NULL, CACHED },
		{ "other-set-cookie (cache_set_cookie off)", 0, "Cache-Control: max-age=3600\nSet-Cookie: a=b", NULL, 0, NULL, NOSTORE },
		{ "other-cookie", 0, "Cache-Control: max-age=3600", NULL, 0, "Cookie: a=b", CACHED },
		{ "vary-star", 0, "Cache-Control: max-age=3600\nVary: Accept, *", NULL, 0, NULL, NOSTORE },
		{ "vary-named", 0, "Cache-Control: max-age=3600\nVary: Accept-Encoding", NULL, 0, NULL, CACHED },
		{ "must-understand-no-store-200", 0, "Cache-Control: must-understand, no-store, max-age=60", NULL, 0, NULL, CACHED },
		{ "must-understand-no-store-299", 299, "Cache-Control: must-understand, no-store, max-age=60", NULL, 0, NULL, NOSTORE },
		{ "must-understand-bad-form", 0, "Cache-Control: must-understand=1, no-store, max-age=60", NULL, 0, NULL, NOSTORE },
		{ "private-field-names", 0, "Cache-Control: private=\"Set-Token\", max-age=60", NULL, 0, NULL, CACHED },
		{ "private-malformed", 0, "Cache-Control: private=\"a b\", max-age=60", NULL, 0, NULL, NOSTORE },
		{ "no-store-with-argument", 0, "Cache-Control: no-store=1, max-age=60", NULL, 0, NULL, NOSTORE },
		{ "no-store-malformed", 0, "Cache-Control: no-store junk, max-age=60", NULL, 0, NULL, NOSTORE },
		{ "public-with-argument", 0, "Cache-Control: public=1", "Authorization: x", 0, NULL, NOSTORE },
		{ "public-allows-storing", 0, "Cache-Control: public\nETag: \"a\"", NULL, 0, NULL, VALIDATE },
	};

	run_table(t, N(t));
}

/* cc-request.mjs and RFC 9111 5.2.1 for a shared cache */
Test(cachepol, cache_tests_request_directives, .init = setup_cfg)
{
	static const char fresh[] =
		"Expires: @100000\nCache-Control: max-age=100000\nLast-Modified: @0\nDate: @0";
	static const struct scenario t[] = {
		{ "ccreq-ma0", 0, fresh, NULL, PAUSE, "Cache-Control: max-age=0", VALIDATE },
		{ "ccreq-ma1", 0, fresh, NULL, PAUSE, "Cache-Control: max-age=1", VALIDATE },
		{ "ccreq-ma-young-enough", 0, fresh, NULL, PAUSE, "Cache-Control: max-age=3", CACHED },
		{ "ccreq-magreaterage", 0, "Cache-Control: max-age=3600\nAge: 1800", NULL, 0, "Cache-Control: max-age=600", VALIDATE },
		{ "ccreq-max-stale", 0, "Cache-Control: max-age=1", NULL, PAUSE, "Cache-Control: max-stale=1000", CACHED },
		/* deviation (a "check" test): stale on arrival and without a
		 * validator, it is not stored at all, so max-stale finds nothing */
		{ "ccreq-max-stale-age", 0, "Cache-Control: max-age=1500\nAge: 2000", NULL, 0, "Cache-Control: max-stale=1000", NOSTORE },
		{ "ccreq-max-stale-age-validator", 0, "Cache-Control: max-age=1500\nAge: 2000\nETag: \"v\"", NULL, 0, "Cache-Control: max-stale=1000", CACHED },
		{ "ccreq-max-stale-too-stale", 0, "Cache-Control: max-age=1500\nAge: 2000", NULL, 0, "Cache-Control: max-stale=100", NOSTORE },
		{ "ccreq-max-stale-bare", 0, "Cache-Control: max-age=1\nETag: \"e\"", NULL, 1000, "Cache-Control: max-stale", CACHED },
		{ "ccreq-max-stale-must-revalidate", 0, "Cache-Control: max-age=1, must-revalidate\nETag: \"e\"", NULL, PAUSE, "Cache-Control: max-stale=1000", VALIDATE },
		{ "ccreq-max-stale-s-maxage", 0, "Cache-Control: s-maxage=1\nETag: \"e\"", NULL, PAUSE, "Cache-Control: max-stale=1000", VALIDATE },
		{ "ccreq-min-fresh", 0, "Cache-Control: max-age=1500", NULL, 0, "Cache-Control: min-fresh=2000", VALIDATE },
		{ "ccreq-min-fresh-age", 0, "Cache-Control: max-age=1500\nAge: 1000", NULL, 0, "Cache-Control: min-fresh=1000", VALIDATE },
		{ "ccreq-min-fresh-ok", 0, "Cache-Control: max-age=1500", NULL, 0, "Cache-Control: min-fresh=1000", CACHED },
		{ "ccreq-no-cache", 0, "Cache-Control: max-age=3600", NULL, 0, "Cache-Control: no-cache", VALIDATE },
		{ "ccreq-no-cache-lm", 0, "Cache-Control: max-age=3600\nLast-Modified: @-10000\nDate: @0", NULL, 0, "Cache-Control: no-cache", VALIDATE },
		{ "ccreq-no-store (served: RFC 9111 5.2.1.5)", 0, "Cache-Control: max-age=3600", NULL, 0, "Cache-Control: no-store", CACHED },
		{ "ccreq-no-store on the storing request", 0, "Cache-Control: max-age=3600", "Cache-Control: no-store", 0, NULL, NOSTORE },
		{ "ccreq-oic-fresh", 0, "Cache-Control: max-age=3600", NULL, 0, "Cache-Control: only-if-cached", CACHED },
		{ "ccreq-oic-stale", 0, "Cache-Control: max-age=1\nETag: \"e\"", NULL, PAUSE, "Cache-Control: only-if-cached", TIMEOUT },
		{ "ccreq-unknown-directive", 0, "Cache-Control: max-age=3600", NULL, 0, "Cache-Control: foo=bar, baz", CACHED },
		{ "ccreq-bad-max-age-ignored", 0, "Cache-Control: max-age=3600", NULL, PAUSE, "Cache-Control: max-age=abc", CACHED },
		{ "ccreq-bad-min-fresh-ignored", 0, "Cache-Control: max-age=3600", NULL, PAUSE, "Cache-Control: min-fresh=-5", CACHED },
		{ "ccreq-first-max-age", 0, "Cache-Control: max-age=3600", NULL, PAUSE, "Cache-Control: max-age=100\nCache-Control: max-age=0", CACHED },
	};

	run_table(t, N(t));
}

/* heuristic-freshness.mjs and status.mjs */
Test(cachepol, cache_tests_status_and_heuristics, .init = setup_cfg)
{
	static const struct {
		unsigned status;
		bool heuristic;  /* reused on heuristic freshness */
	} h[] = {
		{ 200, true },  { 201, false }, { 202, false }, { 203, true },  { 204, true },
		{ 403, false }, { 404, true },  { 405, true },  { 410, true },  { 414, true },
		{ 501, true },  { 502, false }, { 503, false }, { 504, false }, { 599, false },
		{ 300, true },  { 301, true },  { 308, true },  { 302, false }, { 500, false },
	};
	static const unsigned explicit_ok[] = { 200, 203, 204, 299, 301, 302, 303, 307, 308, 400,
	                                         404, 410, 499, 500, 502, 503, 504, 599 };
	static const char fresh[] =
		"Expires: @100000\nCache-Control: max-age=100000\nLast-Modified: @0\nDate: @0";
	static const char stale[] = "Expires: @-5000\nLast-Modified: @-100000\nDate: @0";
	size_t i;

	for (i = 0; i < N(h); i++) {
		struct scenario s = { "heuristic", h[i].status, "Last-Modified: @-86400\nDate: @0",
		                      NULL, 0, NULL, h[i].heuristic ? CACHED : NOSTORE };
		struct cachepol_use u;

		cr_expect_eq(run(&s, &u), s.want, "heuristic-%u", h[i].status);
		cr_expect_eq(cachepol_heuristic_status(h[i].status) || h[i].status == 300 ||
		                     h[i].status == 301 || h[i].status == 308,
		             h[i].heuristic, "status %u", h[i].status);
	}
	{
		struct scenario pub = { "heuristic-599-public", 599,
		                        "Last-Modified: @-86400\nDate: @0\nCache-Control: public",
		                        NULL, 0, NULL, CACHED };
		struct cachepol_use u;

		cr_expect_eq(run(&pub, &u), CACHED);
	}
	for (i = 0; i < N(explicit_ok); i++) {
		struct scenario sf = { "status-fresh", explicit_ok[i], fresh, NULL, PAUSE, NULL, CACHED };
		struct scenario ss = { "status-stale", explicit_ok[i], stale, NULL, PAUSE, NULL, VALIDATE };
		struct cachepol_use u;

		cr_expect_eq(run(&sf, &u), CACHED, "status-%u-fresh", explicit_ok[i]);
		cr_expect_eq(run(&ss, &u), VALIDATE, "status-%u-stale", explicit_ok[i]);
	}
}

/* cc-stale.mjs and stale.mjs: stale-while-revalidate, stale-if-error */
Test(cachepol, cache_tests_stale, .init = setup_cfg)
{
	static const struct {
		const char *id, *resp, *req2;
		int pause;
		enum cachepol_action action;
		bool on_error;
	} t[] = {
		{ "stale-close (no permission)", "Cache-Control: max-age=2\nETag: \"a\"", NULL, PAUSE, CACHEPOL_REVALIDATE, false },
		{ "stale-sie-close", "Cache-Control: max-age=2, stale-if-error=60", NULL, PAUSE, CACHEPOL_REVALIDATE, true },
		{ "stale-close-must-revalidate", "Cache-Control: max-age=2, must-revalidate, stale-if-error=60\nETag: \"a\"", NULL, PAUSE, CACHEPOL_REVALIDATE, false },
		{ "stale-close-proxy-revalidate", "Cache-Control: max-age=2, proxy-revalidate, stale-if-error=60\nETag: \"a\"", NULL, PAUSE, CACHEPOL_REVALIDATE, false },
		{ "stale-close-no-cache", "Cache-Control: max-age=2, no-cache, stale-if-error=60\nETag: \"a\"", NULL, PAUSE, CACHEPOL_REVALIDATE, false },
		{ "stale-close-s-maxage=2", "Cache-Control: max-age=2, s-maxage=2, stale-if-error=60\nETag: \"a\"", NULL, PAUSE, CACHEPOL_REVALIDATE, false },
		{ "stale-if-error-cc-response", "Cache-Control: max-age=0, stale-if-error=3600", NULL, 0, CACHEPOL_REVALIDATE, true },
		{ "stale-if-error-cc-response-expired", "Cache-Control: max-age=0, stale-if-error=1", NULL, PAUSE, CACHEPOL_REVALIDATE, false },
		{ "stale-if-error-cc-request", "Cache-Control: max-age=0\nETag: \"a\"", "Cache-Control: stale-if-error=3600", 0, CACHEPOL_REVALIDATE, true },
		{ "stale-if-error-cc-request-expired", "Cache-Control: max-age=0\nETag: \"a\"", "Cache-Control: stale-if-error=1", PAUSE, CACHEPOL_REVALIDATE, false },
		{ "stale-while-revalidate", "Cache-Control: max-age=0, stale-while-revalidate=3600\nETag: \"abc\"", NULL, 0, CACHEPOL_STALE_REVALIDATE, false },
		{ "swr-window-over", "Cache-Control: max-age=1, stale-while-revalidate=2\nETag: \"abc\"", NULL, 4, CACHEPOL_REVALIDATE, false },
		{ "swr-window-edge", "Cache-Control: max-age=1, stale-while-revalidate=2\nETag: \"abc\"", NULL, 3, CACHEPOL_STALE_REVALIDATE, false },
		{ "swr-must-revalidate", "Cache-Control: max-age=0, stale-while-revalidate=3600, must-revalidate\nETag: \"abc\"", NULL, 0, CACHEPOL_REVALIDATE, false },
		{ "fresh-but-client-no-cache", "Cache-Control: max-age=60", "Cache-Control: no-cache", 0, CACHEPOL_REVALIDATE, true },
	};
	size_t i;

	for (i = 0; i < N(t); i++) {
		struct scenario s = { t[i].id, 0, t[i].resp, NULL, t[i].pause, t[i].req2, CACHED };
		struct cachepol_use u;

		memset(&u, 0, sizeof u);
		(void)run(&s, &u);
		cr_expect_eq(u.action, t[i].action, "%s: action %d, want %d", t[i].id, u.action,
		             t[i].action);
		cr_expect_eq(u.serve_on_error, t[i].on_error, "%s: serve_on_error", t[i].id);
	}
	/* the operator's own stale-if-error window ("serve stale when the origin
	 * is down") applies only where nothing forbids stale */
	cfg.stale_if_error = 300;
	{
		struct scenario a = { "cfg-sie", 0, "Cache-Control: max-age=2\nETag: \"a\"", NULL, PAUSE, NULL, VALIDATE };
		struct scenario b = { "cfg-sie-mr", 0, "Cache-Control: max-age=2, must-revalidate\nETag: \"a\"", NULL, PAUSE, NULL, VALIDATE };
		struct cachepol_use u;

		cr_expect_eq(run(&a, &u), VALIDATE);
		cr_expect(u.serve_on_error);
		cr_expect_eq(run(&b, &u), VALIDATE);
		cr_expect_not(u.serve_on_error);
	}
}

/* cdn-cache-control.mjs (RFC 9213) and surrogate-control.mjs */
Test(cachepol, cache_tests_targeted_fields, .init = setup_cfg)
{
	static const struct scenario t[] = {
		{ "cdn-max-age", 0, "CDN-Cache-Control: max-age=3600", NULL, PAUSE, NULL, CACHED },
		{ "cdn-max-age-max", 0, "CDN-Cache-Control: max-age=2147483648", NULL, PAUSE, NULL, CACHED },
		{ "cdn-max-age-max-plus", 0, "CDN-Cache-Control: max-age=99999999999", NULL, PAUSE, NULL, CACHED },
		{ "cdn-max-age-age", 0, "Date: @0\nCDN-Cache-Control: max-age=3600\nAge: 7200", NULL, PAUSE, NULL, NOSTORE },
		{ "cdn-max-age-space-before-equals", 0, "Cache-Control: max-age=1\nCDN-Cache-Control: max-age =100", NULL, PAUSE, NULL, VALIDATE },
		{ "cdn-max-age-space-after-equals", 0, "Cache-Control: max-age=1\nCDN-Cache-Control: max-age= 100", NULL, PAUSE, NULL, VALIDATE },
		{ "cdn-max-age-0", 0, "CDN-Cache-Control: max-age=0", NULL, PAUSE, NULL, NOSTORE },
		{ "cdn-max-age-extension", 0, "CDN-Cache-Control: foobar, max-age=3600", NULL, PAUSE, NULL, CACHED },
		{ "cdn-max-age-case-insensitive (not an sf-key)", 0, "CDN-Cache-Control: MaX-aGe=3600", NULL, PAUSE, NULL, NOSTORE },
		{ "cdn-max-age-expires", 0, "CDN-Cache-Control: max-age=3600\nExpires: @-10000\nDate: @0", NULL, PAUSE, NULL, CACHED },
		{ "cdn-max-age-cc-max-age-invalid-expires", 0, "CDN-Cache-Control: max-age=3600\nExpires: 0\nDate: @0", NULL, PAUSE, NULL, CACHED },
		{ "cdn-max-age-0-expires", 0, "CDN-Cache-Control: max-age=0\nExpires: @10000\nDate: @0", NULL, PAUSE, NULL, NOSTORE },
		{ "cdn-max-age-short-cc-max-age", 0, "Cache-Control: max-age=1\nCDN-Cache-Control: max-age=3600", NULL, PAUSE, NULL, CACHED },
		{ "cdn-max-age-long-cc-max-age", 0, "Cache-Control: max-age=3600\nCDN-Cache-Control: max-age=1", NULL, PAUSE, NULL, VALIDATE },
		{ "cdn-private", 0, "CDN-Cache-Control: private\nCache-Control: max-age=10000\nExpires: @10000\nDate: @0", NULL, 0, NULL, NOSTORE },
		{ "cdn-no-cache", 0, "CDN-Cache-Control: no-cache\nCache-Control: max-age=10000\nExpires: @10000\nDate: @0", NULL, 0, NULL, NOSTORE },
		{ "cdn-no-cache-etag", 0, "CDN-Cache-Control: no-cache\nCache-Control: max-age=10000\nETag: \"e\"", NULL, 0, NULL, VALIDATE },
		{ "cdn-no-store-cc-fresh", 0, "Cache-Control: max-age=10000\nCDN-Cache-Control: no-store\nExpires: @10000\nDate: @0", NULL, PAUSE, NULL, NOSTORE },
		{ "cdn-fresh-cc-nostore", 0, "Cache-Control: no-store\nCDN-Cache-Control: max-age=10000", NULL, PAUSE, NULL, CACHED },
		{ "cdn-cc-invalid-sh-type-unknown", 0, "CDN-Cache-Control: max-age=10000, &&&&&\nCache-Control: no-store", NULL, PAUSE, NULL, NOSTORE },
		{ "cdn-cc-invalid-sh-type-wrong", 0, "CDN-Cache-Control: max-age=\"10000\"\nCache-Control: no-store", NULL, PAUSE, NULL, NOSTORE },
		{ "cdn-empty-line-among-others", 0, "CDN-Cache-Control: max-age=3600\nCDN-Cache-Control: \nCache-Control: no-store", NULL, PAUSE, NULL, NOSTORE },
		{ "cdn-two-lines-last-wins", 0, "CDN-Cache-Control: max-age=1\nCDN-Cache-Control: max-age=3600", NULL, PAUSE, NULL, CACHED },
		{ "surrogate-max-age", 0, "Surrogate-Control: max-age=3600", NULL, PAUSE, NULL, CACHED },
		{ "surrogate-max-age-space-before-equals", 0, "Cache-Control: max-age=1\nSurrogate-Control: max-age =100", NULL, PAUSE, NULL, NOSTORE },
		{ "surrogate-max-age-space-after-equals", 0, "Cache-Control: max-age=1\nSurrogate-Control: max-age= 100", NULL, PAUSE, NULL, NOSTORE },
		{ "surrogate-max-age-0", 0, "Surrogate-Control: max-age=0", NULL, PAUSE, NULL, NOSTORE },
		{ "surrogate-max-age-extension", 0, "Surrogate-Control: foobar, max-age=3600", NULL, PAUSE, NULL, CACHED },
		{ "surrogate-max-age-case-insensitive", 0, "Surrogate-Control: MaX-aGe=3600", NULL, PAUSE, NULL, CACHED },
		{ "surrogate-max-age-expires", 0, "Surrogate-Control: max-age=3600\nExpires: @-10000\nDate: @0", NULL, PAUSE, NULL, CACHED },
		{ "surrogate-max-age-cc-max-age-invalid-expires", 0, "Surrogate-Control: max-age=3600\nExpires: 0\nDate: @0", NULL, PAUSE, NULL, CACHED },
		{ "surrogate-max-age-0-expires", 0, "Surrogate-Control: max-age=0\nExpires: @10000\nDate: @0", NULL, PAUSE, NULL, NOSTORE },
		{ "surrogate-max-age-short-cc-max-age", 0, "Cache-Control: max-age=1\nSurrogate-Control: max-age=3600", NULL, PAUSE, NULL, CACHED },
		{ "surrogate-max-age-long-cc-max-age", 0, "Cache-Control: max-age=3600\nSurrogate-Control: max-age=1", NULL, PAUSE, NULL, VALIDATE },
		{ "surrogate-max-age-age", 0, "Surrogate-Control: max-age=3600\nAge: 12000", NULL, PAUSE, NULL, NOSTORE },
		{ "surrogate-no-store", 0, "Surrogate-Control: no-store", NULL, PAUSE, NULL, NOSTORE },
		{ "surrogate-no-store-cc-fresh", 0, "Cache-Control: max-age=10000\nSurrogate-Control: no-store\nExpires: @10000\nDate: @0", NULL, PAUSE, NULL, NOSTORE },
		{ "surrogate-no-store-remote", 0, "Cache-Control: max-age=10000\nSurrogate-Control: no-store-remote", NULL, PAUSE, NULL, NOSTORE },
		{ "surrogate-esi-only", 0, "Surrogate-Control: content=\"ESI/1.0\"\nCache-Control: max-age=60", NULL, PAUSE, NULL, CACHED },
		{ "surrogate-extension-plus", 0, "Surrogate-Control: max-age=30+60", NULL, 20, NULL, CACHED },
	};

	run_table(t, N(t));
	/* turned off, the targeted fields change nothing */
	cfg.cdn_cache_control = false;
	cfg.surrogate_control = false;
	{
		static const struct scenario off[] = {
			{ "cdn-off", 0, "Cache-Control: no-store\nCDN-Cache-Control: max-age=10000", NULL, PAUSE, NULL, NOSTORE },
			{ "surrogate-off", 0, "Cache-Control: max-age=3600\nSurrogate-Control: no-store", NULL, PAUSE, NULL, CACHED },
		};

		run_table(off, N(off));
	}
}

/* ---- Cache-Control parser ----------------------------------------------- */

static struct cachepol_cc
cc_of(const char *v)
{
	struct cachepol_cc cc;

	cachepol_cc_init(&cc);
	cachepol_cc_parse(&cc, v, strlen(v));
	return cc;
}

Test(cachepol, cc_parse_values)
{
	static const struct {
		const char *v;
		uint32_t want, absent;
		int64_t max_age, s_maxage;
	} t[] = {
		{ "max-age=60, s-maxage=120, public", CACHEPOL_CC_MAX_AGE | CACHEPOL_CC_S_MAXAGE | CACHEPOL_CC_PUBLIC, 0, 60, 120 },
		{ "MAX-AGE=\"60\"", CACHEPOL_CC_MAX_AGE, CACHEPOL_CC_MAX_AGE_BAD, 60, 0 },
		{ "max-age=0", CACHEPOL_CC_MAX_AGE, 0, 0, 0 },
		{ "max-age=2147483647", CACHEPOL_CC_MAX_AGE, 0, 2147483647, 0 },
		{ "max-age=2147483649", CACHEPOL_CC_MAX_AGE, 0, CACHEPOL_DELTA_MAX, 0 },
		{ "max-age=999999999999999999999999999", CACHEPOL_CC_MAX_AGE, 0, CACHEPOL_DELTA_MAX, 0 },
		{ "max-age", CACHEPOL_CC_MAX_AGE_BAD, CACHEPOL_CC_MAX_AGE, 0, 0 },
		{ "max-age=", CACHEPOL_CC_MAX_AGE_BAD, CACHEPOL_CC_MAX_AGE, 0, 0 },
		{ "max-age=\"\"", CACHEPOL_CC_MAX_AGE_BAD, CACHEPOL_CC_MAX_AGE, 0, 0 },
		{ "max-age=\"6 0\"", CACHEPOL_CC_MAX_AGE_BAD, CACHEPOL_CC_MAX_AGE, 0, 0 },
		{ "max-age=\"60", CACHEPOL_CC_MAX_AGE_BAD, CACHEPOL_CC_MAX_AGE, 0, 0 },
		{ "max-age=+60", CACHEPOL_CC_MAX_AGE_BAD, CACHEPOL_CC_MAX_AGE, 0, 0 },
		{ "max-age=60;x", CACHEPOL_CC_MAX_AGE_BAD, CACHEPOL_CC_MAX_AGE, 0, 0 },
		{ "max-age=60 s-maxage=5", CACHEPOL_CC_MAX_AGE_BAD, CACHEPOL_CC_S_MAXAGE, 0, 0 },
		{ ",,, max-age=7 ,,", CACHEPOL_CC_MAX_AGE, 0, 7, 0 },
		{ "s-maxage=abc, max-age=9", CACHEPOL_CC_S_MAXAGE_BAD | CACHEPOL_CC_MAX_AGE, CACHEPOL_CC_S_MAXAGE, 9, 0 },
		{ "x=\"a,b\\\"c, max-age=5\", max-age=6", CACHEPOL_CC_MAX_AGE, 0, 6, 0 },
		{ "foo=\"unterminated, max-age=5", 0, CACHEPOL_CC_MAX_AGE | CACHEPOL_CC_MAX_AGE_BAD, 0, 0 },
		{ "\"junk\", max-age=5", CACHEPOL_CC_MAX_AGE, 0, 5, 0 },
		{ "=5, max-age=5", CACHEPOL_CC_MAX_AGE, 0, 5, 0 },
		{ "no-store, no-cache, must-revalidate, proxy-revalidate, no-transform, immutable",
		  CACHEPOL_CC_NO_STORE | CACHEPOL_CC_NO_CACHE | CACHEPOL_CC_MUST_REVALIDATE |
		  CACHEPOL_CC_PROXY_REVALIDATE | CACHEPOL_CC_NO_TRANSFORM | CACHEPOL_CC_IMMUTABLE, 0, 0, 0 },
		{ "must-revalidate=\"x\"", CACHEPOL_CC_MUST_REVALIDATE, 0, 0, 0 },
		{ "immutable=1, public=\"\"", 0, CACHEPOL_CC_IMMUTABLE | CACHEPOL_CC_PUBLIC, 0, 0 },
		{ "stale-while-revalidate=30, stale-if-error=\"600\"", CACHEPOL_CC_SWR | CACHEPOL_CC_SIE, 0, 0, 0 },
		{ "stale-while-revalidate=x", CACHEPOL_CC_SWR_BAD, CACHEPOL_CC_SWR, 0, 0 },
		{ "", 0, ~UINT32_C(0), 0, 0 },
		{ " , ,\t,", 0, ~UINT32_C(0), 0, 0 },
		{ "only-if-cached, max-stale, min-fresh=5", CACHEPOL_CC_ONLY_IF_CACHED | CACHEPOL_CC_MAX_STALE | CACHEPOL_CC_MIN_FRESH, 0, 0, 0 },
	};
	size_t i;

	for (i = 0; i < N(t); i++) {
		struct cachepol_cc cc = cc_of(t[i].v);

		cr_expect_eq(cc.flags & t[i].want, t[i].want, "[%s]: flags %#x lack %#x", t[i].v,
		             cc.flags, t[i].want);
		cr_expect_eq(cc.flags & t[i].absent & ~t[i].want, 0, "[%s]: flags %#x", t[i].v,
		             cc.flags);
		if (cc.flags & CACHEPOL_CC_MAX_AGE)
			cr_expect_eq(cc.max_age, t[i].max_age, "[%s]: max-age %lld", t[i].v,
			             (long long)cc.max_age);
		if (cc.flags & CACHEPOL_CC_S_MAXAGE)
			cr_expect_eq(cc.s_maxage, t[i].s_maxage, "[%s]", t[i].v);
	}
}

Test(cachepol, cc_parse_request_values)
{
	struct cachepol_cc cc = cc_of("max-stale, min-fresh=\"15\", stale-if-error=99");

	cr_expect_eq(cc.max_stale, CACHEPOL_DELTA_MAX);
	cr_expect_eq(cc.min_fresh, 15);
	cr_expect_eq(cc.sie, 99);
	cc = cc_of("max-stale=abc");
	cr_expect(cc.flags & CACHEPOL_CC_MAX_STALE_BAD);
	cr_expect_not(cc.flags & CACHEPOL_CC_MAX_STALE);
	cc = cc_of("max-stale=10, max-stale");
	cr_expect_eq(cc.max_stale, 10, "the first occurrence counts");
}

Test(cachepol, cc_parse_accumulates_lines)
{
	struct cachepol_cc cc;

	cachepol_cc_init(&cc);
	cachepol_cc_parse(&cc, "public", 6);
	cachepol_cc_parse(&cc, "max-age=30", 10);
	cachepol_cc_parse(&cc, "max-age=5, no-cache=\"x-a\"", 25);
	cachepol_cc_parse(&cc, "no-cache=\"X-B\"", 14);
	cr_expect(cc.flags & CACHEPOL_CC_PUBLIC);
	cr_expect_eq(cc.max_age, 30);
	cr_expect(cc.flags & CACHEPOL_CC_NO_CACHE_FIELDS);
	cr_expect_not(cc.flags & CACHEPOL_CC_NO_CACHE);
	cr_expect_str_eq(cc.no_cache_names, "x-a,x-b");
	/* a later unqualified no-cache wins over the lists */
	cachepol_cc_parse(&cc, "no-cache", 8);
	cr_expect(cc.flags & CACHEPOL_CC_NO_CACHE);
	/* only the bytes given are read: the 'max-age=1' after len is not */
	cc = cc_of("");
	cachepol_cc_parse(&cc, "public, max-age=1", 6);
	cr_expect_eq(cc.flags, CACHEPOL_CC_PUBLIC);
}

Test(cachepol, cc_parse_field_names)
{
	static const struct {
		const char *v;
		uint32_t bits;
		const char *nc, *pr;
	} t[] = {
		{ "no-cache=\"Set-Cookie, X-Foo\"", CACHEPOL_CC_NO_CACHE_FIELDS, "set-cookie,x-foo", "" },
		{ "no-cache=Set-Cookie", CACHEPOL_CC_NO_CACHE_FIELDS, "set-cookie", "" },
		{ "no-cache=\"a,,b, a\"", CACHEPOL_CC_NO_CACHE_FIELDS, "a,b", "" },
		{ "no-cache=\"\"", CACHEPOL_CC_NO_CACHE, "", "" },
		{ "no-cache=\"a b\"", CACHEPOL_CC_NO_CACHE, NULL, "" },
		{ "no-cache=\"a\\\"b\"", CACHEPOL_CC_NO_CACHE, NULL, "" },
		{ "no-cache=", CACHEPOL_CC_NO_CACHE, "", "" },
		{ "private=\"Authorization-Info\"", CACHEPOL_CC_PRIVATE_FIELDS, "", "authorization-info" },
		{ "private=\"x\", private", CACHEPOL_CC_PRIVATE | CACHEPOL_CC_PRIVATE_FIELDS, "", "x" },
		{ "private=\"a b\"", CACHEPOL_CC_PRIVATE, "", NULL },
	};
	char big[1024];
	size_t i;

	for (i = 0; i < N(t); i++) {
		struct cachepol_cc cc = cc_of(t[i].v);
		uint32_t q = CACHEPOL_CC_NO_CACHE | CACHEPOL_CC_NO_CACHE_FIELDS | CACHEPOL_CC_PRIVATE |
		             CACHEPOL_CC_PRIVATE_FIELDS;

		cr_expect_eq(cc.flags & q, t[i].bits, "[%s]: %#x", t[i].v, cc.flags);
		if (t[i].nc != NULL)
			cr_expect_str_eq(cc.no_cache_names, t[i].nc, "[%s]", t[i].v);
		if (t[i].pr != NULL)
			cr_expect_str_eq(cc.private_names, t[i].pr, "[%s]", t[i].v);
	}
	/* a list longer than CACHEPOL_NAMES_MAX falls back to plain no-cache */
	strcpy(big, "no-cache=\"");
	for (i = 0; i < 40; i++)
		snprintf(big + strlen(big), sizeof big - strlen(big), "x-long-name-%zu, ", i);
	strcat(big, "z\"");
	cr_expect(cc_of(big).flags & CACHEPOL_CC_NO_CACHE);
	cr_expect(cachepol_names_has("a,set-cookie,b", "Set-Cookie", 10));
	cr_expect_not(cachepol_names_has("a,set-cookies", "Set-Cookie", 10));
	cr_expect_not(cachepol_names_has("", "a", 1));
}

Test(cachepol, sf_dictionary)
{
	static const struct {
		const char *v;
		int rc;
	} t[] = {
		{ "max-age=60", 1 },
		{ "", 0 },
		{ "   ", 0 },
		{ "max-age=60,", -1 },
		{ ",max-age=60", -1 },
		{ "max-age=60;a=1, no-store", 1 },
		{ "a=(1 2 \"x\");p, b=?0", 1 },
		{ "a=(1 2", -1 },
		{ "max-age=1.5", -1 },
		{ "max-age=-1", -1 },
		{ "max-age=\"60\"", -1 },
		{ "max-age=abc", -1 },
		{ "x=:aGVsbG8=:", 1 },
		{ "x=:aGV$bG8=:", -1 },
		{ "x=@1659578233", 1 },
		{ "x=%\"caf%c3%a9\"", 1 },
		{ "x=%\"caf%C3%A9\"", -1 },
		{ "x=1234567890123456", -1 },
		{ "x=123456789012345", 1 },
		{ "x=1.2345", -1 },
		{ "x=1234567890123.5", -1 },
		{ "x=\"a\\qb\"", -1 },
		{ "x=\"tab\tin\"", -1 },
		{ "Max-Age=5", -1 },
		{ "*x=tok/en:1", 1 },
		{ "no-store=?2", -1 },
		{ "public=1", -1 },
		{ "private=\"set-cookie\"", 1 },
		{ "a=1\t,\tb=2", 1 },
		{ "a=1 b=2", -1 },
		{ "&&&&&", -1 },
	};
	struct cachepol_cc cc;
	size_t i;

	for (i = 0; i < N(t); i++) {
		int rc;

		cachepol_cc_init(&cc);
		rc = cachepol_cc_parse_sf(&cc, t[i].v, strlen(t[i].v));
		cr_expect_eq(rc, t[i].rc, "[%s]: %d, want %d", t[i].v, rc, t[i].rc);
	}
	cachepol_cc_init(&cc);
	cr_expect_eq(cachepol_cc_parse_sf(&cc, "no-store=?0, max-age=5, max-age=7, private", 42), 1);
	cr_expect_not(cc.flags & CACHEPOL_CC_NO_STORE, "?0 is false");
	cr_expect_eq(cc.max_age, 7, "later keys overwrite (RFC 8941 4.2.2)");
	cr_expect(cc.flags & CACHEPOL_CC_PRIVATE);
	cr_expect_eq(cachepol_cc_parse_sf(&cc, "max-age=99999999999", 19), 1);
	cr_expect_eq(cc.max_age, CACHEPOL_DELTA_MAX);
}

/* ---- HTTP-date ---------------------------------------------------------- */

Test(cachepol, date_parse)
{
	static const struct {
		const char *s;
		int64_t t; /* -1: invalid */
	} t[] = {
		{ "Sun, 06 Nov 1994 08:49:37 GMT", 784111777 },
		{ "Sunday, 06-Nov-94 08:49:37 GMT", 784111777 },
		{ "Sun Nov  6 08:49:37 1994", 784111777 },
		{ "Sun Nov 06 08:49:37 1994", 784111777 },
		{ "  Sun, 06 Nov 1994 08:49:37 GMT\t", 784111777 },
		{ "sun, 06 nov 1994 08:49:37 gmt", 784111777 },
		{ "SUNDAY, 06-NOV-94 08:49:37 GMT", 784111777 },
		{ "Thu, 01 Jan 1970 00:00:00 GMT", 0 },
		{ "Wed, 31 Dec 1969 23:59:59 GMT", -1 - 0 * 1 },
		{ "Tue, 29 Feb 2000 12:00:00 GMT", 951825600 },
		{ "Fri, 31 Dec 9999 23:59:59 GMT", INT64_C(253402300799) },
		{ "Sat, 31 Dec 2016 23:59:60 GMT", INT64_C(1483228800) },
		{ "Mon, 29 Feb 1900 00:00:00 GMT", -2 },
		{ "Mon, 31 Apr 2020 00:00:00 GMT", -2 },
		{ "Mon, 00 Apr 2020 00:00:00 GMT", -2 },
		{ "Mon, 01 Apr 2020 24:00:00 GMT", -2 },
		{ "Mon, 01 Apr 2020 23:60:00 GMT", -2 },
		{ "Mon, 01 Apr 2020 23:59:61 GMT", -2 },
		{ "Mon, 01 Abc 2020 00:00:00 GMT", -2 },
		{ "Xyz, 01 Apr 2020 00:00:00 GMT", -2 },
		{ "Thu, 18 Aug 2050 02:01:18 UTC", -2 },
		{ "Thu, 18 Aug 50 02:01:18 GMT", -2 },
		{ "Thu 18 Aug 2050 02:01:18 GMT", -2 },
		{ "Thu, 18  Aug  2050 02:01:18 GMT", -2 },
		{ "Thu, 18-Aug-2050 02:01:18 GMT", -2 },
		{ "Thu, 18 Aug 2050 02.01.18 GMT", -2 },
		{ "Thu, 18 Aug 2050 2:01:18 GMT", -2 },
		{ "Thu, 18 Aug 2050 02:01:18 GMT junk", -2 },
		{ "Thu, 18 Aug 2050 02:01:18 +0000", -2 },
		{ "Thu, 18 Aug +050 02:01:18 GMT", -2 },
		{ "Thursday, 18-Aug-2050 02:01:18 GMT", -2 },
		{ "Thurs, 18-Aug-50 02:01:18 GMT", -2 },
		{ "Thu Aug 18 02:01:18 50", -2 },
		{ "0", -2 },
		{ "-1", -2 },
		{ "", -2 },
	};
	size_t i;

	for (i = 0; i < N(t); i++) {
		int64_t got = 12345;
		int rc = cachepol_date_parse(t[i].s, strlen(t[i].s), T0, &got);

		if (t[i].t == -2) {
			cr_expect_eq(rc, -1, "[%s] should be invalid, got %lld", t[i].s, (long long)got);
		} else {
			cr_expect_eq(rc, 0, "[%s] should parse", t[i].s);
			cr_expect_eq(got, t[i].t, "[%s]: %lld, want %lld", t[i].s, (long long)got,
			             (long long)t[i].t);
		}
	}
}

Test(cachepol, date_rfc850_century)
{
	int64_t t, t2;

	/* reference 2023: 73 is 2073 (50 years ahead), 74 is 1974 */
	cr_assert_eq(cachepol_date_parse("Sunday, 01-Jan-73 00:00:00 GMT", 30, T0, &t), 0);
	cr_assert_eq(cachepol_date_parse("Sun, 01 Jan 2073 00:00:00 GMT", 29, T0, &t2), 0);
	cr_expect_eq(t, t2);
	cr_assert_eq(cachepol_date_parse("Tuesday, 01-Jan-74 00:00:00 GMT", 31, T0, &t), 0);
	cr_assert_eq(cachepol_date_parse("Tue, 01 Jan 1974 00:00:00 GMT", 29, T0, &t2), 0);
	cr_expect_eq(t, t2);
	/* without a reference: 70-99 are 19xx, 00-69 20xx */
	cr_assert_eq(cachepol_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", 30,
	                                 CACHEPOL_TIME_NONE, &t), 0);
	cr_expect_eq(t, 784111777);
	cr_assert_eq(cachepol_date_parse("Friday, 01-Jan-21 00:00:00 GMT", 30,
	                                 CACHEPOL_TIME_NONE, &t), 0);
	cr_expect_eq(t, 1609459200);
	/* a length that excludes the last byte makes it invalid */
	cr_expect_eq(cachepol_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", 28, T0, &t), -1);
}

Test(cachepol, date_format)
{
	static const struct {
		int64_t t;
		const char *s;
	} t[] = {
		{ 0, "Thu, 01 Jan 1970 00:00:00 GMT" },
		{ 784111777, "Sun, 06 Nov 1994 08:49:37 GMT" },
		{ -1, "Wed, 31 Dec 1969 23:59:59 GMT" },
		{ 951825600, "Tue, 29 Feb 2000 12:00:00 GMT" },
		{ T0, "Tue, 14 Nov 2023 22:13:20 GMT" },
		{ INT64_C(253402300799), "Fri, 31 Dec 9999 23:59:59 GMT" },
		{ INT64_C(-62167219200), "Sat, 01 Jan 0000 00:00:00 GMT" },
	};
	char buf[CACHEPOL_DATE_LEN + 1];
	int64_t x, back;
	size_t i;

	for (i = 0; i < N(t); i++) {
		cr_expect_eq(cachepol_date_format(t[i].t, buf), 0);
		cr_expect_str_eq(buf, t[i].s);
	}
	cr_expect_eq(cachepol_date_format(INT64_C(253402300800), buf), -1);
	cr_expect_str_eq(buf, "");
	cr_expect_eq(cachepol_date_format(INT64_MIN, buf), -1);
	/* round trip, including the weekday, over 400 years in odd steps */
	for (x = INT64_C(-2208988800); x < INT64_C(10413792000); x += 86400 * 37 + 3607) {
		cr_assert_eq(cachepol_date_format(x, buf), 0);
		cr_assert_eq(cachepol_date_parse(buf, strlen(buf), T0, &back), 0, "%s", buf);
		cr_assert_eq(back, x, "%s", buf);
	}
}

/* ---- Age (RFC 9111 4.2.3) ----------------------------------------------- */

Test(cachepol, age_arithmetic, .init = setup_cfg)
{
	struct cachepol_resp r;
	struct cachepol_age a;

	/* sent at 100, received at 110, generated at 105, 20 s old on arrival */
	mkresp(&r, 200, "Age: 20", 100, 110);
	cachepol_resp_field(&r, "Date", 4, "Thu, 01 Jan 1970 00:01:45 GMT", 29);
	cachepol_age(&r, 200, &a);
	cr_expect_eq(a.apparent_age, 5);
	cr_expect_eq(a.response_delay, 10);
	cr_expect_eq(a.corrected_age_value, 30);
	cr_expect_eq(a.corrected_initial_age, 30);
	cr_expect_eq(a.resident_time, 90);
	cr_expect_eq(a.current_age, 120);
	/* a Date far behind wins over a small Age */
	mkresp(&r, 200, "Age: 1", 100, 110);
	cachepol_resp_field(&r, "Date", 4, "Thu, 01 Jan 1970 00:00:10 GMT", 29);
	cachepol_age(&r, 110, &a);
	cr_expect_eq(a.apparent_age, 100);
	cr_expect_eq(a.corrected_initial_age, 100);
	/* a Date in the future (clock skew) gives no negative age */
	mkresp(&r, 200, "Date: @500", T0, T0);
	cachepol_age(&r, T0 + 7, &a);
	cr_expect_eq(a.apparent_age, 0);
	cr_expect_eq(a.current_age, 7);
	/* no Date: the time received; a clock that went back: no resident time */
	mkresp(&r, 200, "", T0 - 2, T0);
	cachepol_age(&r, T0 - 100, &a);
	cr_expect_eq(a.apparent_age, 0);
	cr_expect_eq(a.resident_time, 0);
	cr_expect_eq(a.current_age, 2);
	/* a response received before it was requested: no negative delay */
	mkresp(&r, 200, "Age: 3", T0 + 5, T0);
	cachepol_age(&r, T0, &a);
	cr_expect_eq(a.response_delay, 0);
	cr_expect_eq(a.current_age, 3);
	/* everything saturates at 2^31 */
	mkresp(&r, 200, "Age: 99999999999", T0, T0);
	cachepol_age(&r, INT64_MAX, &a);
	cr_expect_eq(a.corrected_initial_age, CACHEPOL_DELTA_MAX);
	cr_expect_eq(a.current_age, CACHEPOL_DELTA_MAX);
	mkresp(&r, 200, "Date: Sat, 01 Jan 0000 00:00:00 GMT", INT64_MIN, INT64_MAX);
	cachepol_age(&r, INT64_MIN, &a);
	cr_expect_eq(a.apparent_age, CACHEPOL_DELTA_MAX);
	cr_expect_eq(a.response_delay, CACHEPOL_DELTA_MAX);
	cr_expect_eq(a.current_age, CACHEPOL_DELTA_MAX);
}

/* age-parse.mjs: what an Age field is taken to be */
Test(cachepol, age_parse, .init = setup_cfg)
{
	static const struct {
		const char *hdrs;
		int64_t age;
	} t[] = {
		{ "Age: 7200", 7200 },
		{ "Age: 007200", 7200 },
		{ "Age: abc", 0 },
		{ "Age: -7200", 0 },
		{ "Age: 7200.0", 0 },
		{ "Age: 7200,0", 7200 },
		{ "Age: 0,7200", 0 },
		{ "Age: 0, 0", 0 },
		{ "Age: 7200, 7200", 7200 },
		{ "Age: 7200\nAge: 0", 7200 },
		{ "Age: 0\nAge: 7200", 0 },
		{ "Age: abc\nAge: 7200", 0 },
		{ "Age: ", 0 },
		{ "Age: 2147483648", CACHEPOL_DELTA_MAX },
		{ "Age: 99999999999999999999", CACHEPOL_DELTA_MAX },
	};
	size_t i;

	for (i = 0; i < N(t); i++) {
		struct cachepol_resp r;
		struct cachepol_age a;

		mkresp(&r, 200, t[i].hdrs, T0, T0);
		cachepol_age(&r, T0, &a);
		cr_expect_eq(a.current_age, t[i].age, "[%s]: %lld", t[i].hdrs, (long long)a.current_age);
	}
}

/* ---- freshness ---------------------------------------------------------- */

Test(cachepol, freshness_lifetime, .init = setup_cfg)
{
	static const struct {
		const char *id;
		unsigned status;
		const char *hdrs;
		int64_t ttl_default, ttl_min, ttl_max;
		int64_t lifetime;
		enum cachepol_fsrc src;
		bool heuristic;
	} t[] = {
		{ "s-maxage wins", 200, "Cache-Control: max-age=10, s-maxage=5\nExpires: @100", 0, 0, CACHEPOL_DELTA_MAX, 5, CACHEPOL_F_S_MAXAGE, false },
		{ "bad s-maxage", 200, "Cache-Control: s-maxage=x, max-age=10", 0, 0, CACHEPOL_DELTA_MAX, 0, CACHEPOL_F_S_MAXAGE, false },
		{ "max-age over Expires", 200, "Cache-Control: max-age=10\nExpires: @100\nDate: @0", 0, 0, CACHEPOL_DELTA_MAX, 10, CACHEPOL_F_MAX_AGE, false },
		{ "Expires - Date", 200, "Expires: @100\nDate: @-20", 0, 0, CACHEPOL_DELTA_MAX, 120, CACHEPOL_F_EXPIRES, false },
		{ "Expires without Date", 200, "Expires: @100", 0, 0, CACHEPOL_DELTA_MAX, 100, CACHEPOL_F_EXPIRES, false },
		{ "Expires invalid", 200, "Expires: -1\nDate: @0", 0, 0, CACHEPOL_DELTA_MAX, 0, CACHEPOL_F_EXPIRES, false },
		{ "Expires before Date", 200, "Expires: @-100\nDate: @0", 0, 0, CACHEPOL_DELTA_MAX, 0, CACHEPOL_F_EXPIRES, false },
		{ "ttl_min raises", 200, "Cache-Control: max-age=10", 0, 60, CACHEPOL_DELTA_MAX, 60, CACHEPOL_F_MAX_AGE, false },
		{ "ttl_max lowers", 200, "Cache-Control: max-age=1000", 0, 0, 300, 300, CACHEPOL_F_MAX_AGE, false },
		{ "ttl_max over ttl_min", 200, "Cache-Control: max-age=1000", 0, 500, 300, 300, CACHEPOL_F_MAX_AGE, false },
		{ "ttl_default", 200, "", 86400, 0, CACHEPOL_DELTA_MAX, 86400, CACHEPOL_F_DEFAULT, true },
		{ "ttl_default clamped", 200, "", 86400, 0, 3600, 3600, CACHEPOL_F_DEFAULT, true },
		{ "ttl_default not for 201", 201, "", 86400, 0, CACHEPOL_DELTA_MAX, 0, CACHEPOL_F_NONE, false },
		{ "ttl_default for public 201", 201, "Cache-Control: public", 86400, 0, CACHEPOL_DELTA_MAX, 86400, CACHEPOL_F_DEFAULT, true },
		{ "heuristic 10%", 200, "Last-Modified: @-86400\nDate: @0", 0, 0, CACHEPOL_DELTA_MAX, 8640, CACHEPOL_F_LAST_MOD, true },
		{ "heuristic capped", 200, "Last-Modified: @-8640000\nDate: @0", 0, 0, CACHEPOL_DELTA_MAX, 86400, CACHEPOL_F_LAST_MOD, true },
		{ "heuristic without Date", 200, "Last-Modified: @-1000", 0, 0, CACHEPOL_DELTA_MAX, 100, CACHEPOL_F_LAST_MOD, true },
		{ "Last-Modified in the future", 200, "Last-Modified: @1000\nDate: @0", 0, 0, CACHEPOL_DELTA_MAX, 0, CACHEPOL_F_LAST_MOD, true },
		{ "heuristic raised by ttl_min", 200, "Last-Modified: @-50\nDate: @0", 0, 30, CACHEPOL_DELTA_MAX, 30, CACHEPOL_F_LAST_MOD, true },
		{ "nothing", 200, "", 0, 0, CACHEPOL_DELTA_MAX, 0, CACHEPOL_F_NONE, false },
		{ "ttl_min does not invent freshness", 201, "", 0, 60, CACHEPOL_DELTA_MAX, 0, CACHEPOL_F_NONE, false },
		{ "error ttl 404", 404, "Last-Modified: @-86400", 86400, 60, CACHEPOL_DELTA_MAX, 10, CACHEPOL_F_ERROR, true },
		{ "error ttl not 503", 503, "", 0, 0, CACHEPOL_DELTA_MAX, 0, CACHEPOL_F_NONE, false },
		{ "error ttl public 503", 503, "Cache-Control: public", 0, 0, CACHEPOL_DELTA_MAX, 10, CACHEPOL_F_ERROR, true },
		{ "explicit 503", 503, "Cache-Control: max-age=5", 0, 0, CACHEPOL_DELTA_MAX, 5, CACHEPOL_F_MAX_AGE, false },
		{ "CDN ignores Expires", 200, "CDN-Cache-Control: public\nExpires: @100", 0, 0, CACHEPOL_DELTA_MAX, 0, CACHEPOL_F_NONE, false },
		{ "CDN s-maxage", 200, "CDN-Cache-Control: s-maxage=7, max-age=9", 0, 0, CACHEPOL_DELTA_MAX, 7, CACHEPOL_F_S_MAXAGE, false },
		{ "Surrogate max-age", 200, "Surrogate-Control: max-age=40\nCache-Control: s-maxage=5", 0, 0, CACHEPOL_DELTA_MAX, 40, CACHEPOL_F_MAX_AGE, false },
	};
	size_t i;

	for (i = 0; i < N(t); i++) {
		struct cachepol_resp r;
		struct cachepol_fresh f;

		setup_cfg();
		cfg.ttl_default = t[i].ttl_default;
		cfg.ttl_min = t[i].ttl_min;
		cfg.ttl_max = t[i].ttl_max;
		mkresp(&r, t[i].status, t[i].hdrs, T0, T0);
		cachepol_freshness(&r, &cfg, &f);
		cr_expect_eq(f.lifetime, t[i].lifetime, "%s: lifetime %lld", t[i].id,
		             (long long)f.lifetime);
		cr_expect_eq(f.src, t[i].src, "%s: src %d", t[i].id, f.src);
		cr_expect_eq(f.heuristic, t[i].heuristic, "%s: heuristic", t[i].id);
	}
	/* CloudFront-style error caching for any error status */
	{
		struct cachepol_resp r;
		struct cachepol_req q;
		struct cachepol_fresh f;

		setup_cfg();
		cfg.error_ttl_any_status = true;
		mkresp(&r, 503, "", T0, T0);
		mkreq(&q, "GET", NULL);
		cachepol_freshness(&r, &cfg, &f);
		cr_expect_eq(f.lifetime, 10);
		cr_expect_eq(cachepol_storable(&r, &q, &cfg), CACHEPOL_STORE);
		cfg.error_caching_ttl = 0;
		cachepol_freshness(&r, &cfg, &f);
		cr_expect_eq(f.src, CACHEPOL_F_NONE);
		cr_expect_eq(cachepol_storable(&r, &q, &cfg), CACHEPOL_NS_NOT_CACHEABLE);
	}
}

/* ---- storing ------------------------------------------------------------ */

Test(cachepol, storable_reasons, .init = setup_cfg)
{
	static const struct {
		const char *method;
		unsigned status;
		const char *req, *resp;
		enum cachepol_store want;
		const char *str;
	} t[] = {
		{ "GET", 200, NULL, "Cache-Control: max-age=60", CACHEPOL_STORE, "stored" },
		{ "HEAD", 200, NULL, "Cache-Control: max-age=60", CACHEPOL_NS_METHOD, "method" },
		{ "POST", 200, NULL, "Cache-Control: max-age=60\nContent-Location: /x", CACHEPOL_NS_METHOD, "method" },
		{ "get", 200, NULL, "Cache-Control: max-age=60", CACHEPOL_NS_METHOD, "method" },
		{ "GET", 206, NULL, "Cache-Control: max-age=60", CACHEPOL_NS_STATUS, "status" },
		{ "GET", 304, NULL, "Cache-Control: max-age=60", CACHEPOL_NS_STATUS, "status" },
		{ "GET", 103, NULL, "Cache-Control: max-age=60", CACHEPOL_NS_STATUS, "status" },
		{ "GET", 200, NULL, "Cache-Control: no-store, max-age=60", CACHEPOL_NS_NO_STORE, "no-store" },
		{ "GET", 200, "Cache-Control: no-store", "Cache-Control: max-age=60", CACHEPOL_NS_REQ_NO_STORE, "req-no-store" },
		{ "GET", 200, NULL, "Cache-Control: private", CACHEPOL_NS_PRIVATE, "private" },
		{ "GET", 299, NULL, "Cache-Control: must-understand, max-age=60", CACHEPOL_NS_MUST_UNDERSTAND, "must-understand" },
		{ "GET", 200, "Authorization: Basic x", "Cache-Control: max-age=60", CACHEPOL_NS_AUTHORIZATION, "authorization" },
		{ "GET", 200, "Cookie: sid=a", "Cache-Control: max-age=60", CACHEPOL_NS_COOKIE, "cookie" },
		{ "GET", 200, "Cookie: sid=a", "Last-Modified: @-1000", CACHEPOL_NS_COOKIE, "cookie" },
		{ "GET", 200, "Cookie: sid=a", "Cache-Control: public, max-age=60", CACHEPOL_STORE, "stored" },
		{ "GET", 200, "Cookie: sid=a", "Cache-Control: s-maxage=60", CACHEPOL_STORE, "stored" },
		{ "GET", 200, "Cookie: sid=a", "CDN-Cache-Control: max-age=60", CACHEPOL_STORE, "stored" },
		{ "GET", 200, "Cookie: sid=a", "Surrogate-Control: max-age=60", CACHEPOL_STORE, "stored" },
		{ "GET", 200, "Cookie:", "Cache-Control: max-age=60", CACHEPOL_STORE, "stored" },
		{ "GET", 200, NULL, "Cache-Control: max-age=60\nVary: *", CACHEPOL_NS_VARY_STAR, "vary-star" },
		{ "GET", 200, NULL, "Cache-Control: max-age=60\nSet-Cookie: a=b", CACHEPOL_NS_SET_COOKIE, "set-cookie" },
		{ "GET", 403, NULL, "ETag: \"x\"", CACHEPOL_NS_NOT_CACHEABLE, "not-cacheable" },
		{ "GET", 201, NULL, "Last-Modified: @-1000", CACHEPOL_NS_NOT_CACHEABLE, "not-cacheable" },
		{ "GET", 201, NULL, "Cache-Control: max-age=60", CACHEPOL_STORE, "stored" },
		{ "GET", 200, NULL, "Cache-Control: max-age=0", CACHEPOL_NS_STALE, "stale-no-validator" },
		{ "GET", 200, NULL, "Cache-Control: max-age=0, stale-while-revalidate=5", CACHEPOL_STORE, "stored" },
		{ "GET", 200, NULL, "Cache-Control: max-age=0, stale-if-error=5", CACHEPOL_STORE, "stored" },
		{ "GET", 200, NULL, "Cache-Control: max-age=0, must-revalidate, stale-if-error=5", CACHEPOL_NS_STALE, "stale-no-validator" },
		{ "GET", 200, NULL, "Cache-Control: max-age=0\nLast-Modified: @-5", CACHEPOL_STORE, "stored" },
		{ "GET", 200, NULL, "Expires: 0\nETag: \"x\"", CACHEPOL_STORE, "stored" },
		{ "GET", 404, NULL, "", CACHEPOL_STORE, "stored" },
		{ "GET", 200, NULL, "Cache-Control: max-age=60\nConnection: a, b", CACHEPOL_STORE, "stored" },
	};
	size_t i;

	for (i = 0; i < N(t); i++) {
		struct cachepol_resp r;
		struct cachepol_req q;
		enum cachepol_store s;

		mkreq(&q, t[i].method, t[i].req);
		mkresp(&r, t[i].status, t[i].resp, T0, T0);
		s = cachepol_storable(&r, &q, &cfg);
		cr_expect_eq(s, t[i].want, "%s %u [%s]: %s, want %s", t[i].method, t[i].status,
		             t[i].resp, cachepol_store_str(s), cachepol_store_str(t[i].want));
		cr_expect_str_eq(cachepol_store_str(t[i].want), t[i].str);
	}
	cr_expect_str_eq(cachepol_store_str((enum cachepol_store)99), "unknown");
	/* cookies in the key: a response to a request with Cookie is as any */
	cfg.cookies_keyed = true;
	{
		struct cachepol_resp r;
		struct cachepol_req q;

		mkreq(&q, "GET", "Cookie: sid=a");
		mkresp(&r, 200, "Cache-Control: max-age=60", T0, T0);
		cr_expect_eq(cachepol_storable(&r, &q, &cfg), CACHEPOL_STORE);
	}
	cfg.cookies_keyed = false;
	/* Set-Cookie stored when the operator says so */
	cfg.cache_set_cookie = true;
	{
		struct cachepol_resp r;
		struct cachepol_req q;

		mkreq(&q, "GET", NULL);
		mkresp(&r, 200, "Cache-Control: max-age=60\nSet-Cookie: a=b", T0, T0);
		cr_expect_eq(cachepol_storable(&r, &q, &cfg), CACHEPOL_STORE);
	}
}

Test(cachepol, storable_connection_overflow, .init = setup_cfg)
{
	struct cachepol_resp r;
	struct cachepol_req q;
	char v[1024];
	size_t i;

	mkreq(&q, "GET", NULL);
	mkresp(&r, 200, "Cache-Control: max-age=60", T0, T0);
	cr_expect_eq(cachepol_storable(&r, &q, &cfg), CACHEPOL_STORE);
	v[0] = '\0';
	for (i = 0; i < 30; i++)
		snprintf(v + strlen(v), sizeof v - strlen(v), "%sx-field-%zu", i ? ", " : "", i);
	cachepol_resp_field(&r, "Connection", 10, v, strlen(v));
	cr_expect(r.names_overflow);
	cr_expect_eq(cachepol_storable(&r, &q, &cfg), CACHEPOL_NS_CONNECTION);
}

Test(cachepol, store_ttl, .init = setup_cfg)
{
	static const struct {
		const char *hdrs;
		int after;
		int64_t ttl;
	} t[] = {
		{ "Cache-Control: max-age=100", 0, 100 },
		{ "Cache-Control: max-age=100", 40, 60 },
		{ "Cache-Control: max-age=100\nAge: 30", 0, 70 },
		{ "Cache-Control: max-age=100\nETag: \"e\"", 0, 100 + 86400 },
		{ "Cache-Control: max-age=100, stale-while-revalidate=50, stale-if-error=200", 0, 300 },
		{ "Cache-Control: max-age=100, stale-while-revalidate=500, stale-if-error=200", 0, 600 },
		{ "Cache-Control: max-age=100, must-revalidate, stale-while-revalidate=50", 0, 100 },
		{ "Cache-Control: max-age=100, s-maxage=100, stale-if-error=50", 0, 100 },
		{ "Cache-Control: max-age=0\nLast-Modified: @-9", 0, 86400 },
		{ "Cache-Control: max-age=100", 500, 1 },
	};
	size_t i;

	for (i = 0; i < N(t); i++) {
		struct cachepol_resp r;
		struct cachepol_fresh f;
		int64_t ttl;

		mkresp(&r, 200, t[i].hdrs, T0, T0);
		cachepol_freshness(&r, &cfg, &f);
		ttl = cachepol_store_ttl(&r, &f, &cfg, T0 + t[i].after);
		cr_expect_eq(ttl, t[i].ttl, "[%s] +%d: %lld", t[i].hdrs, t[i].after, (long long)ttl);
	}
}

Test(cachepol, store_and_update_fields, .init = setup_cfg)
{
	static const struct {
		const char *name;
		bool store, update;
	} t[] = {
		{ "Content-Type", true, true },
		{ "Content-Length", true, false },
		{ "content-length", true, false },
		{ "ETag", true, true },
		{ "Set-Cookie", true, true },
		{ "Cache-Control", true, true },
		{ "X-Frame-Options", true, true },
		{ "Content-Encoding", true, true },
		{ "Connection", false, false },
		{ "Keep-Alive", false, false },
		{ "Proxy-Connection", false, false },
		{ "TE", false, false },
		{ "Transfer-Encoding", false, false },
		{ "Upgrade", false, false },
		{ "Trailer", false, false },
		{ "Proxy-Authenticate", false, false },
		{ "Proxy-Authentication-Info", false, false },
		{ "Proxy-Authorization", false, false },
		{ "WWW-Authenticate", true, true },
		{ "A", false, false },       /* Connection: a, b */
		{ "b", false, false },
		{ "c", true, true },
		{ "X-Secret", false, false }, /* no-cache="x-secret" */
		{ "X-User", false, false },   /* private="X-User" */
		{ "X-Users", true, true },
	};
	struct cachepol_resp r;
	size_t i;

	mkresp(&r, 200,
	       "Cache-Control: max-age=60, no-cache=\"x-secret\"\nConnection: a, b\n"
	       "Cache-Control: private=\"X-User\"",
	       T0, T0);
	for (i = 0; i < N(t); i++) {
		size_t n = strlen(t[i].name);

		cr_expect_eq(cachepol_store_field(&r, t[i].name, n), t[i].store, "store %s", t[i].name);
		cr_expect_eq(cachepol_update_field(&r, t[i].name, n), t[i].update, "update %s",
		             t[i].name);
	}
}

/* ---- using stored responses --------------------------------------------- */

Test(cachepol, use_numbers, .init = setup_cfg)
{
	struct cachepol_resp r;
	struct cachepol_req q;
	struct cachepol_fresh f;
	struct cachepol_use u;

	mkresp(&r, 200, "Cache-Control: max-age=600\nDate: @0\nAge: 30", T0, T0);
	cachepol_freshness(&r, &cfg, &f);
	mkreq(&q, "GET", NULL);
	cachepol_use(&r, &f, &q, &cfg, T0 + 100, &u);
	cr_expect_eq(u.action, CACHEPOL_HIT);
	cr_expect_eq(u.age, 130, "Age to send");
	cr_expect_eq(u.lifetime, 600);
	cr_expect_eq(u.remaining, 470);
	cr_expect_not(u.stale);
	cr_expect_str_eq(u.detail, "fresh");
	/* exactly at the lifetime the response is stale (lifetime > age) */
	cachepol_use(&r, &f, &q, &cfg, T0 + 570, &u);
	cr_expect(u.stale);
	cr_expect_eq(u.remaining, 0);
	cr_expect_eq(u.action, CACHEPOL_REVALIDATE);
	cr_expect_str_eq(u.detail, "stale");
	cachepol_use(&r, &f, &q, &cfg, T0 + 569, &u);
	cr_expect_eq(u.action, CACHEPOL_HIT);
	/* nothing stored */
	cr_expect_eq(cachepol_on_miss(&q), CACHEPOL_FETCH);
	mkreq(&q, "GET", "Cache-Control: only-if-cached");
	cr_expect_eq(cachepol_on_miss(&q), CACHEPOL_GATEWAY_TIMEOUT);
	cr_expect(cachepol_is_origin_error(500));
	cr_expect(cachepol_is_origin_error(504));
	cr_expect_not(cachepol_is_origin_error(501));
	cr_expect_not(cachepol_is_origin_error(404));
}

Test(cachepol, use_pragma_option, .init = setup_cfg)
{
	struct scenario a = { "pragma-honoured", 0, "Cache-Control: max-age=3600", NULL, 0, "Pragma: no-cache", VALIDATE };
	struct scenario b = { "pragma-with-cc", 0, "Cache-Control: max-age=3600", NULL, 0, "Pragma: no-cache\nCache-Control: max-stale=5", CACHED };
	struct scenario c = { "pragma-other", 0, "Cache-Control: max-age=3600", NULL, 0, "Pragma: x, No-Cache", VALIDATE };
	struct cachepol_use u;

	cfg.honor_pragma = true;
	cr_expect_eq(run(&a, &u), VALIDATE);
	cr_expect_str_eq(u.detail, "req-no-cache");
	cr_expect_eq(run(&b, &u), CACHED);
	cr_expect_eq(run(&c, &u), VALIDATE);
}

/* ---- conditional requests ----------------------------------------------- */

Test(cachepol, conditional, .init = setup_cfg)
{
	static const char stored[] =
		"Cache-Control: max-age=100000\nDate: @0\nLast-Modified: @-3000\nETag: \"abcdef\"";
	static const struct {
		const char *id, *method, *resp, *req;
		bool eval;
		enum cachepol_cond want;
	} t[] = {
		{ "conditional-etag-strong-respond", "GET", stored, "If-None-Match: \"abcdef\"", false, CACHEPOL_COND_304 },
		{ "HEAD too", "HEAD", stored, "If-None-Match: \"abcdef\"", false, CACHEPOL_COND_304 },
		{ "not for POST", "POST", stored, "If-None-Match: \"abcdef\"", false, CACHEPOL_COND_FULL },
		{ "multiple-first", "GET", stored, "If-None-Match: \"abcdef\", \"1234\", \"5678\"", false, CACHEPOL_COND_304 },
		{ "multiple-second", "GET", stored, "If-None-Match: \"1234\", \"abcdef\", \"5678\"", false, CACHEPOL_COND_304 },
		{ "multiple-last", "GET", stored, "If-None-Match: \"1234\", \"5678\", \"abcdef\"", false, CACHEPOL_COND_304 },
		{ "two lines", "GET", stored, "If-None-Match: \"1234\"\nIf-None-Match: \"abcdef\"", false, CACHEPOL_COND_304 },
		{ "weak request tag", "GET", stored, "If-None-Match: W/\"abcdef\"", false, CACHEPOL_COND_304 },
		{ "star", "GET", stored, "If-None-Match: *", false, CACHEPOL_COND_304 },
		{ "no match", "GET", stored, "If-None-Match: \"zzz\"", false, CACHEPOL_COND_FULL },
		{ "unquoted request tag", "GET", stored, "If-None-Match: abcdef", false, CACHEPOL_COND_FULL },
		{ "lowercase w/", "GET", stored, "If-None-Match: w/\"abcdef\"", false, CACHEPOL_COND_FULL },
		{ "malformed list", "GET", stored, "If-None-Match: \"abcdef\" \"x\"", false, CACHEPOL_COND_FULL },
		{ "conditional-etag-precedence", "GET", stored, "If-None-Match: \"abcdef\"\nIf-Modified-Since: @-1", false, CACHEPOL_COND_304 },
		{ "INM fails, IMS ignored", "GET", stored, "If-None-Match: \"zzz\"\nIf-Modified-Since: @0", false, CACHEPOL_COND_FULL },
		{ "conditional-lm-fresh", "GET", stored, "If-Modified-Since: @-3000", false, CACHEPOL_COND_304 },
		{ "conditional-lm-fresh-earlier", "GET", stored, "If-Modified-Since: @-2000", false, CACHEPOL_COND_304 },
		{ "IMS before LM", "GET", stored, "If-Modified-Since: @-3001", false, CACHEPOL_COND_FULL },
		{ "IMS invalid", "GET", stored, "If-Modified-Since: yesterday", false, CACHEPOL_COND_FULL },
		{ "IMS twice", "GET", stored, "If-Modified-Since: @0\nIf-Modified-Since: @0", false, CACHEPOL_COND_FULL },
		{ "IMS rfc850", "GET", stored, "If-Modified-Since: Tuesday, 14-Nov-23 21:23:20 GMT", false, CACHEPOL_COND_304 },
		{ "IMS not for POST", "POST", stored, "If-Modified-Since: @0", false, CACHEPOL_COND_FULL },
		{ "conditional-lm-fresh-no-lm", "GET", "Cache-Control: max-age=10000\nDate: @0", "If-Modified-Since: @-3000", false, CACHEPOL_COND_FULL },
		{ "no LM: Date used", "GET", "Cache-Control: max-age=10000\nDate: @-5000", "If-Modified-Since: @-3000", false, CACHEPOL_COND_304 },
		{ "no LM, no Date: time received", "GET", "Cache-Control: max-age=10000", "If-Modified-Since: @0", false, CACHEPOL_COND_304 },
		{ "weak stored tag", "GET", "ETag: W/\"abcdef\"", "If-None-Match: W/\"abcdef\"", false, CACHEPOL_COND_304 },
		{ "weak stored, strong request", "GET", "ETag: W/\"abcdef\"", "If-None-Match: \"abcdef\"", false, CACHEPOL_COND_304 },
		{ "comma inside a tag", "GET", "ETag: \"a,b\"", "If-None-Match: \"x\", \"a,b\"", false, CACHEPOL_COND_304 },
		{ "obs-text tag", "GET", "ETag: \"abcdef\xc3\xbc\"", "If-None-Match: \"abcdef\xc3\xbc\"", false, CACHEPOL_COND_304 },
		{ "unquoted stored tag", "GET", "ETag: abcdef", "If-None-Match: abcdef", false, CACHEPOL_COND_FULL },
		{ "no stored tag, star", "GET", "Cache-Control: max-age=1", "If-None-Match: *", false, CACHEPOL_COND_304 },
		{ "If-Match goes to the origin", "GET", stored, "If-Match: \"abcdef\"", false, CACHEPOL_COND_FORWARD },
		{ "IUS goes to the origin", "GET", stored, "If-Unmodified-Since: @0", false, CACHEPOL_COND_FORWARD },
		{ "If-Match matches", "GET", stored, "If-Match: \"abcdef\"", true, CACHEPOL_COND_FULL },
		{ "If-Match star", "GET", stored, "If-Match: *", true, CACHEPOL_COND_FULL },
		{ "If-Match fails", "GET", stored, "If-Match: \"x\"", true, CACHEPOL_COND_412 },
		{ "If-Match is strong", "GET", stored, "If-Match: W/\"abcdef\"", true, CACHEPOL_COND_412 },
		{ "If-Match then INM", "GET", stored, "If-Match: \"abcdef\"\nIf-None-Match: \"abcdef\"", true, CACHEPOL_COND_304 },
		{ "IUS after LM", "GET", stored, "If-Unmodified-Since: @-100", true, CACHEPOL_COND_FULL },
		{ "IUS before LM", "GET", stored, "If-Unmodified-Since: @-4000", true, CACHEPOL_COND_412 },
		{ "IUS ignored with If-Match", "GET", stored, "If-Match: \"abcdef\"\nIf-Unmodified-Since: @-4000", true, CACHEPOL_COND_FULL },
		{ "IUS invalid", "GET", stored, "If-Unmodified-Since: soon", true, CACHEPOL_COND_FULL },
	};
	size_t i;

	for (i = 0; i < N(t); i++) {
		struct cachepol_resp r;
		struct cachepol_req q;
		enum cachepol_cond c;

		cfg.evaluate_if_match = t[i].eval;
		mkresp(&r, 200, t[i].resp, T0, T0);
		mkreq(&q, t[i].method, t[i].req);
		c = cachepol_conditional(&r, &q, &cfg);
		cr_expect_eq(c, t[i].want, "%s: %d, want %d", t[i].id, c, t[i].want);
	}
}

Test(cachepol, conditional_line_limit, .init = setup_cfg)
{
	struct cachepol_resp r;
	struct cachepol_req q;
	unsigned i;

	mkresp(&r, 200, "ETag: \"a\"", T0, T0);
	mkreq(&q, "GET", NULL);
	for (i = 0; i <= CACHEPOL_COND_LINES; i++)
		cachepol_req_field(&q, "If-None-Match", 13, "\"a\"", 3);
	cr_expect_eq(q.n_inm, CACHEPOL_COND_LINES + 1);
	cr_expect_eq(cachepol_etag_list_match(q.inm, q.n_inm, "\"a\"", 3, true), -1);
	cr_expect_eq(cachepol_conditional(&r, &q, &cfg), CACHEPOL_COND_FULL);
}

Test(cachepol, etag_compare)
{
	static const struct {
		const char *a, *b;
		bool weak, strong;
	} t[] = {
		/* RFC 9110 8.8.3.2's table */
		{ "W/\"1\"", "W/\"1\"", true, false },
		{ "W/\"1\"", "W/\"2\"", false, false },
		{ "W/\"1\"", "\"1\"", true, false },
		{ "\"1\"", "\"1\"", true, true },
		{ "\"\"", "\"\"", true, true },
		{ "\"1\"", "1", false, false },
		{ "\"1", "\"1", false, false },
		{ "\"1\"x", "\"1\"x", false, false },
		{ "\"a b\"", "\"a b\"", false, false },
		{ " \"1\" ", "\"1\"", true, true },
	};
	size_t i;

	for (i = 0; i < N(t); i++) {
		size_t al = strlen(t[i].a), bl = strlen(t[i].b);

		cr_expect_eq(cachepol_etag_match(t[i].a, al, t[i].b, bl, true), t[i].weak, "weak %s %s",
		             t[i].a, t[i].b);
		cr_expect_eq(cachepol_etag_match(t[i].a, al, t[i].b, bl, false), t[i].strong,
		             "strong %s %s", t[i].a, t[i].b);
	}
}

Test(cachepol, response_304_fields)
{
	static const struct {
		const char *n;
		bool keep;
	} t[] = {
		{ "Cache-Control", true }, { "content-location", true }, { "Date", true },
		{ "ETag", true },          { "Expires", true },          { "Vary", true },
		{ "Last-Modified", true }, { "Content-Type", false },     { "Content-Length", false },
		{ "Set-Cookie", false },   { "X-Foo", false },
	};
	size_t i;

	for (i = 0; i < N(t); i++)
		cr_expect_eq(cachepol_304_field(t[i].n, strlen(t[i].n)), t[i].keep, "%s", t[i].n);
}

Test(cachepol, if_range, .init = setup_cfg)
{
	struct cachepol_resp r;
	char lm[CACHEPOL_DATE_LEN + 1];

	mkresp(&r, 200, "ETag: \"v1\"\nLast-Modified: @-100\nDate: @0", T0, T0);
	cachepol_date_format(T0 - 100, lm);
	cr_expect(cachepol_if_range(&r, "\"v1\"", 4));
	cr_expect_not(cachepol_if_range(&r, "\"v2\"", 4));
	cr_expect_not(cachepol_if_range(&r, "W/\"v1\"", 6));
	cr_expect(cachepol_if_range(&r, lm, strlen(lm)));
	cr_expect_not(cachepol_if_range(&r, "garbage", 7));
	/* Last-Modified equal to Date is weak: no Range on a date */
	mkresp(&r, 200, "Last-Modified: @0\nDate: @0", T0, T0);
	cachepol_date_format(T0, lm);
	cr_expect_not(cachepol_if_range(&r, lm, strlen(lm)));
	mkresp(&r, 200, "Last-Modified: @-100", T0, T0);
	cachepol_date_format(T0 - 100, lm);
	cr_expect_not(cachepol_if_range(&r, lm, strlen(lm)), "no Date: cannot tell");
}

/* ---- a 304 freshens the stored response (update304.mjs) ----------------- */

Test(cachepol, refresh_after_304, .init = setup_cfg)
{
	struct cachepol_resp r, r304, merged;
	struct cachepol_req q;
	struct cachepol_fresh f;
	struct cachepol_use u;

	mkreq(&q, "GET", NULL);
	mkresp(&r, 200, "Cache-Control: max-age=1\nDate: @0\nETag: \"e1\"\nContent-Length: 10", T0, T0);
	cr_assert_eq(cachepol_storable(&r, &q, &cfg), CACHEPOL_STORE);
	cachepol_freshness(&r, &cfg, &f);
	cachepol_use(&r, &f, &q, &cfg, T0 + PAUSE, &u);
	cr_expect_eq(u.action, CACHEPOL_REVALIDATE);
	/* the 304 arrives at T0+4 with a new lifetime; what it may replace */
	mkresp(&r304, 304, "Cache-Control: max-age=3600\nDate: @4\nETag: \"e1\"\nContent-Length: 0",
	       T0 + PAUSE, T0 + 4);
	cr_expect(cachepol_update_field(&r304, "Cache-Control", 13));
	cr_expect_not(cachepol_update_field(&r304, "Content-Length", 14));
	/* the merged head, summarised with the revalidation's times, is fresh */
	mkresp(&merged, 200, "Cache-Control: max-age=3600\nDate: @4\nETag: \"e1\"\nContent-Length: 10",
	       T0 + PAUSE, T0 + 4);
	cachepol_freshness(&merged, &cfg, &f);
	cachepol_use(&merged, &f, &q, &cfg, T0 + 10, &u);
	cr_expect_eq(u.action, CACHEPOL_HIT);
	cr_expect_eq(u.age, 7, "1 s of response delay + 6 s resident");
}

/* ---- invalidation (invalidation.mjs) ------------------------------------ */

Test(cachepol, invalidates)
{
	static const struct {
		const char *m;
		unsigned status;
		bool want;
	} t[] = {
		{ "POST", 200, true },    { "PUT", 204, true },     { "DELETE", 301, true },
		{ "M-SEARCH", 200, true },{ "PATCH", 303, true },   { "post", 200, true },
		{ "POST", 500, false },   { "POST", 404, false },   { "POST", 100, false },
		{ "GET", 200, false },    { "HEAD", 200, false },   { "OPTIONS", 200, false },
		{ "TRACE", 200, false },  { "PUT", 399, true },     { "PUT", 400, false },
	};
	size_t i;

	for (i = 0; i < N(t); i++)
		cr_expect_eq(cachepol_invalidates(t[i].m, strlen(t[i].m), t[i].status), t[i].want,
		             "%s %u", t[i].m, t[i].status);
}

Test(cachepol, invalidation_target)
{
	static const struct {
		const char *scheme, *auth, *path, *uri;
		int rc;
		const char *out;
	} t[] = {
		{ "https", "example.com", "/a/b?x=1", "location_target", 1, "/a/location_target" },
		{ "https", "example.com", "/a/b", "/c?d=1#frag", 1, "/c?d=1" },
		{ "https", "example.com", "/a/b", "https://example.com/z", 1, "/z" },
		{ "https", "example.com", "/a/b", "HTTPS://EXAMPLE.com:443/z", 1, "/z" },
		{ "https", "example.com:443", "/a/b", "https://example.com/z", 1, "/z" },
		{ "https", "example.com", "/a/b", "https://example.com:8443/z", 0, "" },
		{ "https", "example.com", "/a/b", "http://example.com/z", 0, "" },
		{ "http", "example.com", "/a/b", "http://example.com:80/z", 1, "/z" },
		{ "https", "example.com", "/a/b", "//example.com/z?q", 1, "/z?q" },
		{ "https", "example.com", "/a/b", "//other.example/z", 0, "" },
		{ "https", "example.com", "/a/b/c", "../x", 1, "/a/x" },
		{ "https", "example.com", "/a/b/c", "./x/../y", 1, "/a/b/y" },
		{ "https", "example.com", "/a/b/c", "/x/./y/../../z", 1, "/z" },
		{ "https", "example.com", "/a/b/c", "../../../../x", 1, "/x" },
		{ "https", "example.com", "/a/b/c", "/a/..", 1, "/" },
		{ "https", "example.com", "/a/b/c", "/a/.", 1, "/a/" },
		{ "https", "example.com", "/a/b/c?old", "?q=1", 1, "/a/b/c?q=1" },
		{ "https", "example.com", "/a/b", "https://example.com", 1, "/" },
		{ "https", "example.com", "/a/b", "https://example.com?x", 1, "/?x" },
		{ "https", "example.com", "/a/b", "https://user@example.com/", 0, "" },
		{ "https", "example.com", "/a/b", "", 0, "" },
		{ "https", "example.com", "/a/b", "#only", 0, "" },
		{ "https", "example.com", "/a/b", "mailto:x@example.com", 0, "" },
		{ "https", "example.com", "/a/b", "https:/z", 0, "" },
		{ "https", "example.com", "/a/b", "/with space", 0, "" },
		{ "https", "[::1]:8443", "/", "https://[::1]:8443/p", 1, "/p" },
		{ "https", "[::1]:8443", "/", "https://[::1]/p", 0, "" },
		{ "https", "example.com", "/a/b", "https://example.com:99999/z", 0, "" },
		{ "https", "example.com", "/a/b", "https://example.com:/z", 1, "/z" },
		{ "https", "example.com", "", "x", 1, "/x" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < N(t); i++) {
		int rc = cachepol_invalidation_target(t[i].scheme, t[i].auth, t[i].path, t[i].uri,
		                                      strlen(t[i].uri), out, sizeof out);

		cr_expect_eq(rc, t[i].rc, "[%s] from %s: %d", t[i].uri, t[i].path, rc);
		if (rc == 1)
			cr_expect_str_eq(out, t[i].out, "[%s] from %s", t[i].uri, t[i].path);
	}
	cr_expect_eq(cachepol_invalidation_target("https", "h", "/", "/abcdefgh", 9, out, 9), -1);
	cr_expect_eq(cachepol_invalidation_target("https", "h", "/", "/abcdefgh", 9, out, 10), 1);
	cr_expect_str_eq(out, "/abcdefgh");
	cr_expect_eq(cachepol_invalidation_target("https", "h", "/", "/a", 2, out, 0), -1);
}
