/*
 * test_ckey.c: cache keys.  Tables of requests and the exact canonical
 * text each must give (path escapes and dot-segments, host case and ports,
 * query none / all / allow-list with sorting, duplicates and empty values,
 * headers missing versus empty, cookies with spaces and quotes), tables of
 * request pairs that must share a key and pairs that must not, the digests
 * and ids against an independent SHA-256, buffer limits, policy errors,
 * Vary parsing and variant keys with their value normalization.
 */
#include <criterion/criterion.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckey.h"

TestSuite(ckey, .timeout = 30);

static char canon[CKEY_CANON_SIZE];
static struct ckey key;
static struct err e;

/* ---- helpers ------------------------------------------------------------ */

/* Split "a,b,c" (NULL: empty) into v; the strings live in store. */
static size_t
split_list(const char *s, const char **v, char *store, size_t cap)
{
	size_t n = 0;
	char *p;

	if (s == NULL)
		return 0;
	snprintf(store, cap, "%s", s);
	for (p = strtok(store, ","); p != NULL; p = strtok(NULL, ","))
		v[n++] = p;
	return n;
}

static struct ckey_policy *
policy(enum ckey_query q, const char *qn, const char *hn, const char *cn)
{
	static char s1[1024], s2[1024], s3[1024];
	const char *a[70], *b[70], *c[70];
	struct ckey_conf conf = { q, a, 0, b, 0, c, 0 };
	struct ckey_policy *p;

	conf.n_query = split_list(qn, a, s1, sizeof s1);
	conf.n_headers = split_list(hn, b, s2, sizeof s2);
	conf.n_cookies = split_list(cn, c, s3, sizeof s3);
	p = ckey_policy_new(&conf, &e);
	cr_assert_not_null(p, "policy: %s", e.msg);
	return p;
}

/* Header fields from "Name:value\nName:value" (the value is everything
 * after the ':', spaces included; a line without ':' has a NULL value). */
static size_t
parse_fields(const char *spec, struct ckey_field *f, size_t max)
{
	size_t n = 0;
	const char *p = spec;

	while (p != NULL && *p != '\0' && n < max) {
		const char *end = strchr(p, '\n'), *colon;
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		colon = memchr(p, ':', len);
		f[n].name = p;
		f[n].nlen = colon != NULL ? (size_t)(colon - p) : len;
		f[n].value = colon != NULL ? colon + 1 : NULL;
		f[n].vlen = colon != NULL ? len - f[n].nlen - 1 : 0;
		n++;
		p = end != NULL ? end + 1 : NULL;
	}
	return n;
}

struct rq {
	const char *method;
	const char *host;
	bool https;
	const char *target;
	const char *fields;
};

/* The canonical text of r's key under p (a static string), NULL on -1. */
static const char *
build(const struct ckey_policy *p, const struct rq *r)
{
	static char out[CKEY_CANON_SIZE + 1];
	struct ckey_field f[64];
	struct ckey_req req = { r->method ? r->method : "GET", r->host, strlen(r->host),
		                r->https, r->target, strlen(r->target), f, 0, CKEY_SCHEME_NONE };

	req.nfields = parse_fields(r->fields, f, 64);
	memset(&e, 0, sizeof e);
	if (ckey_build(p, &req, canon, sizeof canon, &key, &e) < 0)
		return NULL;
	memcpy(out, canon, key.len);
	out[key.len] = '\0';
	return out;
}

static const char *
build_simple(const struct ckey_policy *p, const char *host, const char *target,
             const char *fields)
{
	struct rq r = { "GET", host, true, target, fields };

	return build(p, &r);
}

static void
sha256_id(const char *s, size_t n, char *id)
{
	unsigned char d[CKEY_DIGEST_LEN];

	cr_assert_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, s, n, d), 0);
	ckey_format_id(d, id);
}

/* ---- the key text, part by part ----------------------------------------- */

Test(ckey, path_normalization)
{
	static const struct {
		const char *target, *want;
	} cases[] = {
		{ "/", "p1:/" },
		{ "/a%41", "p3:/aA" },
		{ "/%7e%7E%5f%2D", "p5:/~~_-" },
		{ "/%30%39%61%5A", "p5:/09aZ" },
		{ "/%2f", "p4:/%2F" },
		{ "/%2F", "p4:/%2F" },
		{ "/a%20b", "p6:/a%20b" },
		{ "/%e2%82%ac", "p10:/%E2%82%AC" },
		{ "/a+b", "p4:/a+b" },
		{ "/%2b", "p4:/%2B" },
		{ "/%3f%23", "p7:/%3F%23" },
		{ "/%25", "p4:/%25" },
		{ "/%2541", "p6:/%2541" },
		/* dot-segments are not resolved ... */
		{ "/../x", "p5:/../x" },
		{ "/./x", "p4:/./x" },
		{ "/a/b/../c", "p9:/a/b/../c" },
		{ "//a//b", "p6://a//b" },
		/* ... and an escaped one never becomes one */
		{ "/%2e%2e/x", "p9:/%2E%2E/x" },
		{ "/.%2e/x", "p9:/%2E%2E/x" },
		{ "/%2E./x", "p9:/%2E%2E/x" },
		{ "/%2e/x", "p6:/%2E/x" },
		{ "/x/%2e", "p6:/x/%2E" },
		{ "/x/%2e%2e", "p9:/x/%2E%2E" },
		{ "/x/%2e%2e/", "p10:/x/%2E%2E/" },
		{ "/a.%2e", "p4:/a.." },
		{ "/%2e%2e%2e", "p4:/..." },
		{ "/%2ex", "p3:/.x" },
		{ "/%2e%2Ehtaccess", "p11:/..htaccess" },
		{ "/%5F%2D%2E%7E", "p5:/_-.~" },
		/* a malformed escape: the path is kept raw, under another tag */
		{ "/a%zz", "P5:/a%zz" },
		{ "/a%4", "P4:/a%4" },
		{ "/a%", "P3:/a%" },
		{ "/%%41", "P5:/%%41" },
		{ "/%41%g1", "P7:/%41%g1" },
		/* bytes the URI grammar forbids are kept as they are */
		{ "/a b", "p4:/a b" },
		{ "/\xc3\xa9", "p3:/\xc3\xa9" },
		/* absolute-form */
		{ "http://Example.com/%41", "p2:/A" },
		{ "HTTPS://h:8443/x/y", "p4:/x/y" },
		{ "https://h", "p1:/" },
		{ "http://h?x=1", "p1:/" },
		{ "*", "p1:*" },
	};
	struct ckey_policy *p = policy(CKEY_QUERY_NONE, NULL, NULL, NULL);
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char want[256];
		const char *got = build_simple(p, "h", cases[i].target, NULL);

		snprintf(want, sizeof want, "ckey1 GET h1:h %s q- H0: C0:", cases[i].want);
		cr_expect(got != NULL && strcmp(got, want) == 0, "[%s]: got [%s], want [%s]",
		          cases[i].target, got ? got : e.msg, want);
	}
	ckey_policy_free(p);
}

Test(ckey, host_normalization)
{
	static const struct {
		const char *host;
		bool https;
		const char *want;
	} cases[] = {
		{ "example.com", true, "h11:example.com" },
		{ "Example.COM", true, "h11:example.com" },
		{ "example.com:443", true, "h11:example.com" },
		{ "example.com:443", false, "h15:example.com:443" },
		{ "example.com:80", false, "h11:example.com" },
		{ "example.com:80", true, "h14:example.com:80" },
		{ "example.com:", true, "h11:example.com" },
		{ "example.com:", false, "h11:example.com" },
		{ "example.com:0443", true, "h11:example.com" },
		{ "example.com:00080", false, "h11:example.com" },
		{ "example.com:08080", true, "h16:example.com:8080" },
		{ "example.com:8443", true, "h16:example.com:8443" },
		{ "h:0", true, "h3:h:0" },
		{ "h:000", true, "h3:h:0" },
		{ "[::1]:443", true, "h5:[::1]" },
		{ "[::1]", true, "h5:[::1]" },
		{ "[::1]:", true, "h5:[::1]" },
		{ "[FE80::1]:8443", true, "h14:[fe80::1]:8443" },
		{ "example.com.", true, "h12:example.com." },
		{ "", true, "h0:" },
		{ "h:x", true, "h3:h:x" },
		{ "h:44x", true, "h5:h:44x" },
		{ "::1", true, "h3:::1" },
		{ "EXAMPLE.com:443x", true, "h16:example.com:443x" },
	};
	struct ckey_policy *p = policy(CKEY_QUERY_NONE, NULL, NULL, NULL);
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rq r = { "GET", cases[i].host, cases[i].https, "/", NULL };
		char want[256];
		const char *got = build(p, &r);

		snprintf(want, sizeof want, "ckey1 GET %s p1:/ q- H0: C0:", cases[i].want);
		cr_expect(got != NULL && strcmp(got, want) == 0, "[%s] https=%d: got [%s], want [%s]",
		          cases[i].host, cases[i].https, got ? got : e.msg, want);
	}
	ckey_policy_free(p);
}

struct qcase {
	const char *target, *want;
};

static void
expect_query(const struct ckey_policy *p, const struct qcase *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char want[512];
		const char *got = build_simple(p, "h", cases[i].target, NULL);
		const char *t = strchr(cases[i].target, '?');
		size_t plen = t ? (size_t)(t - cases[i].target) : strlen(cases[i].target);

		snprintf(want, sizeof want, "ckey1 GET h1:h p%zu:%.*s %s H0: C0:", plen, (int)plen,
		         cases[i].target, cases[i].want);
		cr_expect(got != NULL && strcmp(got, want) == 0, "[%s]: got [%s], want [%s]",
		          cases[i].target, got ? got : e.msg, want);
	}
}

Test(ckey, query_all)
{
	static const struct qcase cases[] = {
		{ "/p", "q0:" },
		{ "/p?", "q0:" },
		{ "/p?&&", "q0:" },
		{ "/p?a=1", "q1:1:a=1:1" },
		{ "/p?b=2&a=1", "q2:1:a=1:11:b=1:2" },
		{ "/p?a=1&b=2", "q2:1:a=1:11:b=1:2" },
		/* same name: their order is kept */
		{ "/p?a=2&b=0&a=1", "q3:1:a=1:21:a=1:11:b=1:0" },
		{ "/p?a=1&a=2", "q2:1:a=1:11:a=1:2" },
		/* empty values and missing '=' */
		{ "/p?a", "q1:1:a!" },
		{ "/p?a=", "q1:1:a=0:" },
		{ "/p?a&a=", "q2:1:a!1:a=0:" },
		{ "/p?a&&b&", "q2:1:a!1:b!" },
		{ "/p?=x", "q1:0:=1:x" },
		{ "/p?=", "q1:0:=0:" },
		/* the value is everything after the first '=' */
		{ "/p?a=b=c", "q1:1:a=3:b=c" },
		/* escapes: unreserved decoded, others upper-cased, never split on */
		{ "/p?%61=%31", "q1:1:a=1:1" },
		{ "/p?a=%2f%7e", "q1:1:a=4:%2F~" },
		{ "/p?a%3Db=1", "q1:5:a%3Db=1:1" },
		{ "/p?a=1%26b=2", "q1:1:a=7:1%26b=2" },
		{ "/p?a=+", "q1:1:a=1:+" },
		{ "/p?a=%20", "q1:1:a=3:%20" },
		/* byte order of normalized names: upper case first, prefix first */
		{ "/p?a=1&B=2", "q2:1:B=1:21:a=1:1" },
		{ "/p?ab=1&a=2", "q2:1:a=1:22:ab=1:1" },
		{ "/p?%62=1&a=2", "q2:1:a=1:21:b=1:1" },
		{ "/p?%7E=1&z=2", "q2:1:z=1:21:~=1:1" },
		{ "/p?%2F=1&0=2", "q2:3:%2F=1:11:0=1:2" },
		/* a malformed escape keeps the query raw and unsorted */
		{ "/p?b=1&a=%zz", "Q9:b=1&a=%zz" },
		{ "/p?a=%4", "Q4:a=%4" },
		/* a fragment-like '#' is only a byte */
		{ "/p?a=1#x", "q1:1:a=3:1#x" },
	};
	struct ckey_policy *p = policy(CKEY_QUERY_ALL, NULL, NULL, NULL);

	expect_query(p, cases, sizeof cases / sizeof cases[0]);
	ckey_policy_free(p);
}

Test(ckey, query_none)
{
	static const struct qcase cases[] = {
		{ "/p", "q-" },
		{ "/p?", "q-" },
		{ "/p?a=1&b=2", "q-" },
		{ "/p?a=%zz", "q-" },
	};
	struct ckey_policy *p = policy(CKEY_QUERY_NONE, "a", NULL, NULL);

	expect_query(p, cases, sizeof cases / sizeof cases[0]);
	ckey_policy_free(p);
}

Test(ckey, query_allow_list)
{
	static const struct qcase cases[] = {
		{ "/p", "q0:" },
		{ "/p?x=1&y=2", "q0:" },
		{ "/p?c=3&b=2&a=1&a=0", "q3:1:a=1:11:a=1:01:c=1:3" },
		{ "/p?%61=1&%63", "q2:1:a=1:11:c!" },
		{ "/p?A=1&a=2", "q1:1:a=1:2" },
		{ "/p?ab=1&a", "q1:1:a!" },
		{ "/p?%2F=1", "q1:3:%2F=1:1" },
		{ "/p?%2f=1", "q1:3:%2F=1:1" },
		{ "/p?utm_source=x&a=", "q1:1:a=0:" },
	};
	/* names given escaped or not are normalized too; duplicates ignored */
	struct ckey_policy *p = policy(CKEY_QUERY_ALLOW, "c,%61,a,%2f", NULL, NULL);

	expect_query(p, cases, sizeof cases / sizeof cases[0]);
	ckey_policy_free(p);
}

/* What goes to the origin on a cacheable request: what the key holds. */
Test(ckey, forward_query)
{
	static const struct {
		const char *in, *none, *all, *allow;
	} t[] = {
		{ "", "", "", "" },
		{ "x=1", "", "x=1", "" },
		{ "b=2&evil=1&a=A&c", "", "b=2&evil=1&a=A&c", "b=2&a=A" },
		{ "a&&b=&%61=3", "", "a&&b=&%61=3", "a&b=&%61=3" },
		{ "ab=1&a=2&A=3", "", "ab=1&a=2&A=3", "a=2" },
	};
	struct ckey_policy *pn = policy(CKEY_QUERY_NONE, NULL, NULL, NULL),
	                   *pa = policy(CKEY_QUERY_ALL, NULL, NULL, NULL),
	                   *pl = policy(CKEY_QUERY_ALLOW, "a,b", NULL, NULL);
	char out[64];
	size_t i, n;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		n = ckey_forward_query(pn, t[i].in, strlen(t[i].in), out);
		cr_assert_eq(n, 0, "none: '%s'", t[i].in);
		n = ckey_forward_query(pa, t[i].in, strlen(t[i].in), out);
		out[n] = '\0';
		cr_assert_str_eq(out, t[i].all, "all: '%s'", t[i].in);
		n = ckey_forward_query(pl, t[i].in, strlen(t[i].in), out);
		out[n] = '\0';
		cr_assert_str_eq(out, t[i].allow, "allow a,b: '%s'", t[i].in);
	}
	ckey_policy_free(pn);
	ckey_policy_free(pa);
	ckey_policy_free(pl);
}

/* The scheme is keyed only when asked, so keys without it stay as they
 * were. */
Test(ckey, scheme)
{
	struct ckey_policy *p = policy(CKEY_QUERY_ALL, NULL, NULL, NULL);
	struct ckey_req r = { "GET", "h", 1, true, "/x", 2, NULL, 0, CKEY_SCHEME_NONE };
	struct ckey a, b, c;

	cr_assert_eq(ckey_build(p, &r, canon, sizeof canon, &a, &e), 0);
	cr_assert(strncmp(canon, "ckey1 GET h1:h", 14) == 0);
	r.scheme = CKEY_SCHEME_HTTPS;
	cr_assert_eq(ckey_build(p, &r, canon, sizeof canon, &b, &e), 0);
	cr_assert(strncmp(canon, "ckey1 GET s5:https h1:h", 23) == 0);
	r.scheme = CKEY_SCHEME_HTTP;
	cr_assert_eq(ckey_build(p, &r, canon, sizeof canon, &c, &e), 0);
	cr_assert(memcmp(a.digest, b.digest, CKEY_DIGEST_LEN) != 0);
	cr_assert(memcmp(b.digest, c.digest, CKEY_DIGEST_LEN) != 0);
	cr_assert(memcmp(b.uri_digest, c.uri_digest, CKEY_DIGEST_LEN) != 0);
	ckey_policy_free(p);
}

Test(ckey, query_mode_setting)
{
	const char *none[] = { "none" }, *all[] = { "all" }, *two[] = { "all", "x" },
	           *one[] = { "page" };

	cr_expect_eq(ckey_query_mode(NULL, 0), CKEY_QUERY_NONE);
	cr_expect_eq(ckey_query_mode(none, 1), CKEY_QUERY_NONE);
	cr_expect_eq(ckey_query_mode(all, 1), CKEY_QUERY_ALL);
	cr_expect_eq(ckey_query_mode(two, 2), CKEY_QUERY_ALLOW);
	cr_expect_eq(ckey_query_mode(one, 1), CKEY_QUERY_ALLOW);
}

Test(ckey, headers)
{
	static const struct {
		const char *fields, *want;
	} cases[] = {
		{ NULL, "H2:6:accept!7:x-token!" },
		{ "Accept:", "H2:6:accept=0:7:x-token!" },
		{ "Accept:   ", "H2:6:accept=0:7:x-token!" },
		{ "Accept", "H2:6:accept=0:7:x-token!" }, /* NULL value: empty */
		{ "Accept:text/html", "H2:6:accept=9:text/html7:x-token!" },
		{ "ACCEPT: \ttext/html \t", "H2:6:accept=9:text/html7:x-token!" },
		{ "accept:a\nX-Other:z\nAccept:b", "H2:6:accept=4:a, b7:x-token!" },
		{ "accept:a\naccept:", "H2:6:accept=3:a, 7:x-token!" },
		{ "X-Token:T1\nAccept:A  B", "H2:6:accept=4:A  B7:x-token=2:T1" },
		{ "X-Token:t1", "H2:6:accept!7:x-token=2:t1" },
		{ "X-Token-2:t1\nX-Toke:t", "H2:6:accept!7:x-token!" },
	};
	struct ckey_policy *p = policy(CKEY_QUERY_NONE, NULL, "X-Token,Accept,accept", NULL);
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char want[512];
		const char *got = build_simple(p, "h", "/", cases[i].fields);

		snprintf(want, sizeof want, "ckey1 GET h1:h p1:/ q- %s C0:", cases[i].want);
		cr_expect(got != NULL && strcmp(got, want) == 0, "[%s]: got [%s], want [%s]",
		          cases[i].fields, got ? got : e.msg, want);
	}
	ckey_policy_free(p);

	/* a Cookie header in the key joins its lines with "; " */
	p = policy(CKEY_QUERY_NONE, NULL, "cookie", NULL);
	cr_expect_str_eq(build_simple(p, "h", "/", "Cookie:a=1\nCookie: b=2"),
	                 "ckey1 GET h1:h p1:/ q- H1:6:cookie=8:a=1; b=2 C0:");
	ckey_policy_free(p);
}

Test(ckey, cookies)
{
	static const struct {
		const char *fields, *want;
	} cases[] = {
		{ NULL, "C2:4:lang!3:sid!" },
		{ "Cookie:sid=1; lang=en", "C2:4:lang=2:en3:sid=1:1" },
		{ "Cookie:lang=en;sid=1", "C2:4:lang=2:en3:sid=1:1" },
		{ "Cookie:  sid = 1 ;  lang=en ; ", "C2:4:lang=2:en3:sid=1:1" },
		{ "Cookie:sid=", "C2:4:lang!3:sid=0:" },
		{ "Cookie:sid", "C2:4:lang!3:sid!" },            /* no '=': no name */
		{ "Cookie:=sid", "C2:4:lang!3:sid!" },
		{ "Cookie:sid=\"a b\"", "C2:4:lang!3:sid=5:\"a b\"" },
		{ "Cookie:sid=\"1\"", "C2:4:lang!3:sid=3:\"1\"" },
		{ "Cookie:sid=a=b", "C2:4:lang!3:sid=3:a=b" },
		{ "Cookie:SID=1; sidx=2; xsid=3", "C2:4:lang!3:sid!" },
		{ "Cookie:sid=1; sid=2", "C3:4:lang!3:sid=1:13:sid=1:2" },
		{ "Cookie:sid=1\ncookie:lang=fr; sid=2", "C3:4:lang=2:fr3:sid=1:13:sid=1:2" },
		{ "X-Cookie:sid=1\nCookies:sid=2", "C2:4:lang!3:sid!" },
		{ "Cookie:;;sid=1;;", "C2:4:lang!3:sid=1:1" },
		{ "Cookie:", "C2:4:lang!3:sid!" },
		{ "Cookie", "C2:4:lang!3:sid!" },
		{ "Cookie:sid=\t9\t", "C2:4:lang!3:sid=1:9" },
	};
	struct ckey_policy *p = policy(CKEY_QUERY_NONE, NULL, NULL, "sid,lang,sid");
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char want[512];
		const char *got = build_simple(p, "h", "/", cases[i].fields);

		snprintf(want, sizeof want, "ckey1 GET h1:h p1:/ q- H0: %s", cases[i].want);
		cr_expect(got != NULL && strcmp(got, want) == 0, "[%s]: got [%s], want [%s]",
		          cases[i].fields, got ? got : e.msg, want);
	}
	ckey_policy_free(p);
}

Test(ckey, methods)
{
	struct ckey_policy *p = policy(CKEY_QUERY_ALL, NULL, NULL, NULL);
	struct rq get = { "GET", "h", true, "/x?a=1", NULL }, head = get, post = get;
	char id[CKEY_ID_LEN + 1];
	static const char *const not_cached[] = { "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
		                                  "get", "head", "GETX", "" };
	size_t i;

	cr_assert_not_null(build(p, &get));
	snprintf(id, sizeof id, "%s", key.id);
	head.method = "HEAD";
	cr_assert_not_null(build(p, &head));
	cr_expect_str_eq(key.id, id);
	cr_expect(ckey_method_cached("GET"));
	cr_expect(ckey_method_cached("HEAD"));
	for (i = 0; i < sizeof not_cached / sizeof not_cached[0]; i++) {
		post.method = not_cached[i];
		cr_expect_null(build(p, &post), "%s", not_cached[i]);
		cr_expect_not_null(strstr(e.msg, "not cached"), "%s", e.msg);
		cr_expect_not(ckey_method_cached(not_cached[i]));
	}
	cr_expect_not(ckey_method_cached(NULL));
	ckey_policy_free(p);
}

/* ---- equivalence and unambiguity ---------------------------------------- */

enum { POL_NONE, POL_ALL, POL_ALLOW, POL_FULL, NPOL };

static struct ckey_policy *
policy_n(int which)
{
	switch (which) {
	case POL_NONE:
		return policy(CKEY_QUERY_NONE, NULL, NULL, NULL);
	case POL_ALL:
		return policy(CKEY_QUERY_ALL, NULL, NULL, NULL);
	case POL_ALLOW:
		return policy(CKEY_QUERY_ALLOW, "a,b", NULL, NULL);
	default:
		return policy(CKEY_QUERY_ALL, NULL, "accept,x-v", "sid,t");
	}
}

struct pair {
	int pol;
	struct rq a, b;
};

/* Requests that mean the same thing share a key. */
static const struct pair same[] = {
	{ POL_NONE, { "GET", "h", true, "/%41", NULL }, { "GET", "h", true, "/A", NULL } },
	{ POL_NONE, { "GET", "h", true, "/%2f", NULL }, { "GET", "h", true, "/%2F", NULL } },
	{ POL_NONE, { "GET", "H.Test", true, "/", NULL }, { "GET", "h.test", true, "/", NULL } },
	{ POL_NONE, { "GET", "h:443", true, "/", NULL }, { "GET", "h", true, "/", NULL } },
	{ POL_NONE, { "GET", "h:80", false, "/", NULL }, { "GET", "h", true, "/", NULL } },
	{ POL_NONE, { "GET", "h", true, "/?a=1", NULL }, { "GET", "h", true, "/?b=2", NULL } },
	{ POL_NONE, { "GET", "h", true, "/x", "Accept:a" }, { "GET", "h", true, "/x", NULL } },
	{ POL_NONE, { "HEAD", "h", true, "/", NULL }, { "GET", "h", true, "/", NULL } },
	{ POL_NONE, { "GET", "h", true, "https://other/x", NULL },
	  { "GET", "h", true, "/x", NULL } },
	{ POL_NONE, { "GET", "h", true, "/%2e%2e/", NULL }, { "GET", "h", true, "/.%2E/", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?b=2&a=1", NULL }, { "GET", "h", true, "/?a=1&b=2", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?a=1&&b=2&", NULL },
	  { "GET", "h", true, "/?b=2&a=1", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?", NULL }, { "GET", "h", true, "/", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?%61=%7e", NULL }, { "GET", "h", true, "/?a=~", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?a=%2f", NULL }, { "GET", "h", true, "/?a=%2F", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?a=1&c=3&a=2", NULL },
	  { "GET", "h", true, "/?c=3&a=1&a=2", NULL } },
	{ POL_ALLOW, { "GET", "h", true, "/?utm=1&a=1", NULL }, { "GET", "h", true, "/?a=1", NULL } },
	{ POL_ALLOW, { "GET", "h", true, "/?b=1&z=2&a=1", NULL },
	  { "GET", "h", true, "/?a=1&b=1", NULL } },
	{ POL_FULL, { "GET", "h", true, "/", "Accept:a, b" },
	  { "GET", "h", true, "/", "Accept:a\naccept:b" } },
	{ POL_FULL, { "GET", "h", true, "/", "Accept: a " }, { "GET", "h", true, "/", "Accept:a" } },
	{ POL_FULL, { "GET", "h", true, "/", "Cookie:sid=1; t=2; other=3" },
	  { "GET", "h", true, "/", "Cookie:t=2\nCookie: sid=1" } },
	{ POL_FULL, { "GET", "h", true, "/", "Cookie:sid=1\nX-Other:1" },
	  { "GET", "h", true, "/", "Cookie:  sid=1  " } },
};

/* Requests that differ must not. */
static const struct pair differ[] = {
	{ POL_NONE, { "GET", "a.com", true, "/b", NULL }, { "GET", "a.com/b", true, "/", NULL } },
	{ POL_NONE, { "GET", "h", true, "/a%2Fb", NULL }, { "GET", "h", true, "/a/b", NULL } },
	{ POL_NONE, { "GET", "h", true, "/%2e%2e/x", NULL }, { "GET", "h", true, "/../x", NULL } },
	{ POL_NONE, { "GET", "h", true, "/%2e/x", NULL }, { "GET", "h", true, "/./x", NULL } },
	{ POL_NONE, { "GET", "h", true, "/a/../b", NULL }, { "GET", "h", true, "/b", NULL } },
	{ POL_NONE, { "GET", "h", true, "/a%zz", NULL }, { "GET", "h", true, "/a%25zz", NULL } },
	{ POL_NONE, { "GET", "h", true, "/%%41", NULL }, { "GET", "h", true, "/%A", NULL } },
	{ POL_NONE, { "GET", "h", true, "/A", NULL }, { "GET", "h", true, "/a", NULL } },
	{ POL_NONE, { "GET", "h:8443", true, "/", NULL }, { "GET", "h", true, "/", NULL } },
	{ POL_NONE, { "GET", "h:443", false, "/", NULL }, { "GET", "h", false, "/", NULL } },
	{ POL_NONE, { "GET", "h.", true, "/", NULL }, { "GET", "h", true, "/", NULL } },
	{ POL_NONE, { "GET", "h", true, "/ q- H0: C0:", NULL }, { "GET", "h", true, "/", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?a=1&b=2", NULL }, { "GET", "h", true, "/?a=1%26b=2", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?a=", NULL }, { "GET", "h", true, "/?a", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?a=1&a=2", NULL }, { "GET", "h", true, "/?a=2&a=1", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?a=+", NULL }, { "GET", "h", true, "/?a=%20", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?a=b=c", NULL }, { "GET", "h", true, "/?a=b&c", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?a=%zz", NULL }, { "GET", "h", true, "/?a=%25zz", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?A=1", NULL }, { "GET", "h", true, "/?a=1", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?a=1", NULL }, { "GET", "h", true, "/?a=1&a=1", NULL } },
	{ POL_ALL, { "GET", "h", true, "/?1:a=1:1", NULL }, { "GET", "h", true, "/?1=a", NULL } },
	{ POL_ALL, { "GET", "h", true, "/", NULL }, { "GET", "h", true, "/?=", NULL } },
	{ POL_ALL, { "GET", "h", true, "/a?b", NULL }, { "GET", "h", true, "/a%3Fb", NULL } },
	{ POL_ALLOW, { "GET", "h", true, "/?a=1", NULL }, { "GET", "h", true, "/?a=2", NULL } },
	{ POL_ALLOW, { "GET", "h", true, "/?a=1", NULL }, { "GET", "h", true, "/?b=1", NULL } },
	{ POL_FULL, { "GET", "h", true, "/", "Accept:" }, { "GET", "h", true, "/", NULL } },
	{ POL_FULL, { "GET", "h", true, "/", "Accept:a" }, { "GET", "h", true, "/", "X-V:a" } },
	{ POL_FULL, { "GET", "h", true, "/", "Accept:a" }, { "GET", "h", true, "/", "Accept:A" } },
	{ POL_FULL, { "GET", "h", true, "/", "Accept:a,b" },
	  { "GET", "h", true, "/", "Accept:a, b" } },
	{ POL_FULL, { "GET", "h", true, "/", "Accept:=1:x7:x-v=1:y" },
	  { "GET", "h", true, "/", "Accept:\nX-V:y" } },
	{ POL_FULL, { "GET", "h", true, "/", "Cookie:sid=" }, { "GET", "h", true, "/", NULL } },
	{ POL_FULL, { "GET", "h", true, "/", "Cookie:sid=1" }, { "GET", "h", true, "/", "Cookie:t=1" } },
	{ POL_FULL, { "GET", "h", true, "/", "Cookie:sid=1" },
	  { "GET", "h", true, "/", "Cookie:sid=\"1\"" } },
	{ POL_FULL, { "GET", "h", true, "/", "Cookie:sid=1; sid=2" },
	  { "GET", "h", true, "/", "Cookie:sid=2; sid=1" } },
	{ POL_FULL, { "GET", "h", true, "/", "Cookie:sid=1; t=2" },
	  { "GET", "h", true, "/", "Cookie:sid=1%3B t=2" } },
	{ POL_FULL, { "GET", "h", true, "/", "Cookie:sid=1!3:t=1:2" },
	  { "GET", "h", true, "/", "Cookie:sid=1; t=2" } },
	{ POL_FULL, { "GET", "h", true, "/", "Accept:x\nCookie:sid=1" },
	  { "GET", "h", true, "/", "Accept:x; sid=1" } },
	{ POL_FULL, { "GET", "h", true, "/?x", "Accept:1" },
	  { "GET", "h", true, "/?x=", "Accept:1" } },
};

static void
check_pairs(const struct pair *pairs, size_t n, bool want_same)
{
	struct ckey_policy *pols[NPOL];
	size_t i;
	int j;

	for (j = 0; j < NPOL; j++)
		pols[j] = policy_n(j);
	for (i = 0; i < n; i++) {
		char a[4096], ida[CKEY_ID_LEN + 1];
		const char *b;

		cr_assert_not_null(build(pols[pairs[i].pol], &pairs[i].a), "%zu: %s", i, e.msg);
		snprintf(a, sizeof a, "%s", canon);
		a[key.len] = '\0';
		snprintf(ida, sizeof ida, "%s", key.id);
		b = build(pols[pairs[i].pol], &pairs[i].b);
		cr_assert_not_null(b, "%zu: %s", i, e.msg);
		if (want_same) {
			cr_expect_str_eq(a, b, "pair %zu must share a key", i);
			cr_expect_str_eq(ida, key.id, "pair %zu", i);
		} else {
			cr_expect_str_neq(a, b, "pair %zu must not share a key: [%s]", i, a);
			cr_expect_str_neq(ida, key.id, "pair %zu", i);
		}
	}
	for (j = 0; j < NPOL; j++)
		ckey_policy_free(pols[j]);
}

Test(ckey, equivalent_requests_share_a_key)
{
	check_pairs(same, sizeof same / sizeof same[0], true);
}

Test(ckey, different_requests_never_share_a_key)
{
	check_pairs(differ, sizeof differ / sizeof differ[0], false);
}

/* Every pair of a family of tricky requests gets its own key. */
Test(ckey, family_all_distinct)
{
	static const char *const targets[] = {
		"/", "/a", "/a/", "/a?=", "/a?a", "/a?a=", "/a?a&a", "/a?a=1", "/a?a=1&b",
		"/a?a=1%26b", "/a?a%3D1", "/a%3Fa=1", "/a?%2F", "/a?/", "/a%2F", "/%2e", "/.",
		"/a?a=1&a=1", "/a?aa=1", "/a?a=11", "/a?1", "/a?1:a!", "/a 1:a!", "/a%", "/a%25",
		"/a?%", "/a?%25",
	};
	static const char *const fields[] = {
		NULL, "Accept:", "Accept:x", "X-V:", "Accept:\nX-V:", "Cookie:sid=", "Cookie:t=",
		"Cookie:sid=\nCookie:sid=", "Cookie:sid=;t=", "Accept:,", "Accept:\nAccept:",
		"Accept:0:", "Accept:!",
	};
	enum { NT = sizeof targets / sizeof targets[0], NF = sizeof fields / sizeof fields[0] };
	static char ids[NT * NF][CKEY_ID_LEN + 1];
	struct ckey_policy *p = policy_n(POL_FULL);
	size_t i, j, n = 0;

	for (i = 0; i < NT; i++)
		for (j = 0; j < NF; j++) {
			struct rq r = { "GET", "h", true, targets[i], fields[j] };

			cr_assert_not_null(build(p, &r), "%s", e.msg);
			snprintf(ids[n++], sizeof ids[0], "%s", key.id);
		}
	/* none of these is equivalent to another ("Accept:\nAccept:" joins to
	 * ", ", "Accept:," stays ","), so every id must be unique */
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			cr_expect_str_neq(ids[i], ids[j], "%s+%s vs %s+%s", targets[i / NF],
			                  fields[i % NF] ? fields[i % NF] : "-", targets[j / NF],
			                  fields[j % NF] ? fields[j % NF] : "-");
	ckey_policy_free(p);
}

/* ---- digests, ids, buffers ---------------------------------------------- */

Test(ckey, digest_and_id)
{
	struct ckey_policy *p = policy_n(POL_FULL);
	const char *got = build_simple(p, "h", "/x?b=1&a=2", "Accept:y\nCookie:sid=9");
	char id[CKEY_ID_LEN + 1], uri_id[CKEY_ID_LEN + 1], want_uri[CKEY_ID_LEN + 1];
	unsigned char uri_digest[CKEY_DIGEST_LEN];

	cr_assert_not_null(got, "%s", e.msg);
	cr_expect_str_eq(got, "ckey1 GET h1:h p2:/x q2:1:a=1:21:b=1:1 H2:6:accept=1:y3:x-v! "
	                      "C2:3:sid=1:91:t!");
	sha256_id(got, strlen(got), id);
	cr_expect_str_eq(key.id, id);
	cr_expect_eq(strlen(key.id), CKEY_ID_LEN);
	cr_expect_eq(strncmp(key.id, "edged:v1:", 9), 0);
	cr_expect_eq(key.len, strlen(got));
	/* the URI part ends where the headers begin */
	cr_expect_eq(key.uri_len, (size_t)(strstr(got, " H2:") - got));
	sha256_id(got, key.uri_len, want_uri);
	ckey_format_id(key.uri_digest, uri_id);
	cr_expect_str_eq(uri_id, want_uri);
	memcpy(uri_digest, key.uri_digest, sizeof uri_digest);
	/* other headers and cookies: another key, the same URI */
	cr_assert_not_null(build_simple(p, "h", "/x?a=2&b=1", "Accept:z"));
	cr_expect_str_neq(key.id, id);
	cr_expect_eq(memcmp(key.uri_digest, uri_digest, sizeof uri_digest), 0);
	ckey_policy_free(p);
}

Test(ckey, format_id)
{
	unsigned char d[CKEY_DIGEST_LEN];
	char id[CKEY_ID_LEN + 1];
	size_t i;

	for (i = 0; i < sizeof d; i++)
		d[i] = (unsigned char)(i * 8);
	ckey_format_id(d, id);
	cr_expect_str_eq(id, "edged:v1:00081018202830384048505860687078"
	                     "80889098a0a8b0b8c0c8d0d8e0e8f0f8");
}

Test(ckey, buffer_limits)
{
	struct ckey_policy *p = policy_n(POL_FULL);
	struct ckey_field f[2] = { { "Accept", 6, "a", 1 }, { "Cookie", 6, "t=1; sid=2", 10 } };
	const char *t = "/p/%7e?z=1&%61=2&m";
	struct ckey_req r = { "GET", "Host:443", 8, true, t, strlen(t), f, 2, CKEY_SCHEME_NONE };
	struct ckey full;
	char small[512];
	size_t cap;

	cr_assert_eq(ckey_build(p, &r, canon, sizeof canon, &full, &e), 0, "%s", e.msg);
	cr_assert_lt(full.len, sizeof small);
	/* every buffer shorter than the key fails; one that fits it is enough */
	for (cap = 0; cap < full.len; cap++) {
		memset(&e, 0, sizeof e);
		cr_expect_eq(ckey_build(p, &r, small, cap, &key, &e), -1, "cap %zu", cap);
		cr_expect_not_null(strstr(e.msg, "longer than"), "cap %zu: %s", cap, e.msg);
	}
	cr_expect_eq(ckey_build(p, &r, small, full.len, &key, &e), 0, "%s", e.msg);
	cr_expect_str_eq(key.id, full.id);
	cr_expect_eq(memcmp(small, canon, full.len), 0);
	ckey_policy_free(p);
}

/* A 16 KiB head built to make the key as long as possible fits in
 * CKEY_CANON_SIZE. */
Test(ckey, worst_case_fits_canon_size)
{
	static char target[8192], cookie[8192], buf[CKEY_CANON_SIZE];
	struct ckey_policy *p = policy(CKEY_QUERY_ALL, NULL, "cookie", "a");
	struct ckey_field f[1] = { { "Cookie", 6, cookie, 0 } };
	struct ckey_req r = { "GET", "h", 1, true, target, 0, f, 1, CKEY_SCHEME_NONE };
	size_t i, n = 0;

	/* 256 one-letter parameters without values, then a long path */
	n += (size_t)snprintf(target, sizeof target, "/?");
	for (i = 0; i < CKEY_MAX_PARAMS; i++)
		n += (size_t)snprintf(target + n, sizeof target - n, "a&");
	memmove(target + (sizeof target - 1 - n), target, n);
	memset(target, 'x', sizeof target - 1 - n);
	target[0] = '/';
	target[sizeof target - 1] = '\0';
	r.target_len = strlen(target);
	/* "a=;a=;..." counts in the header and once per cookie */
	for (i = 0; i + 3 < sizeof cookie - 1; i += 3)
		memcpy(cookie + i, "a=;", 3);
	f[0].vlen = i;
	cr_assert_eq(ckey_build(p, &r, buf, sizeof buf, &key, &e), 0, "%s", e.msg);
	cr_expect_gt(key.len, 30000);
	cr_expect_lt(key.len, CKEY_CANON_SIZE);
	ckey_policy_free(p);
}

Test(ckey, parameter_limit)
{
	static char target[16384];
	struct ckey_policy *all = policy(CKEY_QUERY_ALL, NULL, NULL, NULL);
	struct ckey_policy *allow = policy(CKEY_QUERY_ALLOW, "k", NULL, NULL);
	size_t i, n = (size_t)snprintf(target, sizeof target, "/?");

	for (i = 0; i < CKEY_MAX_PARAMS; i++)
		n += (size_t)snprintf(target + n, sizeof target - n, "p%zu=%zu&", i, i);
	cr_expect_not_null(build_simple(all, "h", target, NULL), "%s", e.msg);
	snprintf(target + n, sizeof target - n, "one=more");
	cr_expect_null(build_simple(all, "h", target, NULL));
	cr_expect_not_null(strstr(e.msg, "query parameters"), "%s", e.msg);
	/* parameters an allow-list drops do not count */
	cr_expect_not_null(build_simple(allow, "h", target, NULL), "%s", e.msg);
	ckey_policy_free(all);
	ckey_policy_free(allow);
}

/* ---- policies ------------------------------------------------------------ */

Test(ckey, policy_errors)
{
	static const struct {
		enum ckey_query q;
		const char *qn, *hn, *cn, *want;
	} cases[] = {
		{ CKEY_QUERY_ALLOW, "a&b", NULL, NULL, "cache_key_query: 'a&b'" },
		{ CKEY_QUERY_ALLOW, "a=b", NULL, NULL, "cache_key_query: 'a=b'" },
		{ CKEY_QUERY_ALLOW, "a#", NULL, NULL, "cache_key_query" },
		{ CKEY_QUERY_ALLOW, "%zz", NULL, NULL, "cache_key_query: '%zz'" },
		{ CKEY_QUERY_ALLOW, "x%4", NULL, NULL, "cache_key_query" },
		{ CKEY_QUERY_NONE, NULL, "X Bad", NULL, "cache_key_headers: 'X Bad'" },
		{ CKEY_QUERY_NONE, NULL, "a:b", NULL, "cache_key_headers" },
		{ CKEY_QUERY_NONE, NULL, "ok,b\xc3\xa9", NULL, "cache_key_headers" },
		{ CKEY_QUERY_NONE, NULL, NULL, "a=b", "cache_key_cookies: 'a=b'" },
		{ CKEY_QUERY_NONE, NULL, NULL, "a;b", "cache_key_cookies" },
		{ CKEY_QUERY_NONE, NULL, NULL, "a b", "cache_key_cookies" },
	};
	static char s[3][64];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *a[8], *b[8], *c[8];
		struct ckey_conf conf = { cases[i].q, a, 0, b, 0, c, 0 };

		conf.n_query = split_list(cases[i].qn, a, s[0], sizeof s[0]);
		conf.n_headers = split_list(cases[i].hn, b, s[1], sizeof s[1]);
		conf.n_cookies = split_list(cases[i].cn, c, s[2], sizeof s[2]);
		memset(&e, 0, sizeof e);
		cr_expect_null(ckey_policy_new(&conf, &e), "%zu", i);
		cr_expect_eq(e.code, ERR_USAGE, "%zu", i);
		cr_expect_not_null(strstr(e.msg, cases[i].want), "%zu: %s", i, e.msg);
	}
}

Test(ckey, policy_empty_names_and_limits)
{
	const char *empty[] = { "" }, *null[] = { NULL };
	const char *many[CKEY_MAX_NAMES + 1];
	static char names[CKEY_MAX_NAMES + 1][8];
	struct ckey_conf c = { CKEY_QUERY_ALLOW, empty, 1, NULL, 0, NULL, 0 };
	struct ckey_policy *p;
	size_t i;

	cr_expect_null(ckey_policy_new(&c, &e));
	c.query_names = null;
	cr_expect_null(ckey_policy_new(&c, &e));
	c.query = CKEY_QUERY_NONE;
	c.headers = empty;
	c.n_headers = 1;
	cr_expect_null(ckey_policy_new(&c, &e));
	for (i = 0; i <= CKEY_MAX_NAMES; i++) {
		snprintf(names[i], sizeof names[i], "h%zu", i);
		many[i] = names[i];
	}
	c.headers = many;
	c.n_headers = CKEY_MAX_NAMES + 1;
	cr_expect_null(ckey_policy_new(&c, &e));
	cr_expect_not_null(strstr(e.msg, "more than"), "%s", e.msg);
	c.n_headers = CKEY_MAX_NAMES;
	p = ckey_policy_new(&c, &e);
	cr_expect_not_null(p, "%s", e.msg);
	ckey_policy_free(p);
	ckey_policy_free(NULL);
	/* a query allow-list is ignored unless the mode is ALLOW */
	c.query = CKEY_QUERY_ALL;
	c.query_names = empty;
	c.n_query = 1;
	c.n_headers = 0;
	p = ckey_policy_new(&c, &e);
	cr_expect_not_null(p, "%s", e.msg);
	ckey_policy_free(p);
}

/* The order of a list and its duplicates do not change keys. */
Test(ckey, policy_order_independent)
{
	struct ckey_policy *a = policy(CKEY_QUERY_ALLOW, "b,a", "X-B,x-a", "s,r");
	struct ckey_policy *b = policy(CKEY_QUERY_ALLOW, "a,b,a,%62", "x-a,X-A,x-b", "r,s,r");
	const char *f = "X-A:1\nX-B:2\nCookie:r=1; s=2";
	char ka[4096];

	cr_assert_not_null(build_simple(a, "h", "/?b=2&a=1&c=3", f), "%s", e.msg);
	snprintf(ka, sizeof ka, "%s", build_simple(a, "h", "/?b=2&a=1&c=3", f));
	cr_expect_str_eq(build_simple(b, "h", "/?b=2&a=1&c=3", f), ka);
	cr_expect_str_eq(ka, "ckey1 GET h1:h p1:/ q2:1:a=1:11:b=1:2 H2:3:x-a=1:13:x-b=1:2 "
	                     "C2:1:r=1:11:s=1:2");
	ckey_policy_free(a);
	ckey_policy_free(b);
}

/* ---- Vary ----------------------------------------------------------------- */

/* Parse Vary lines given as "v1|v2|..." and return the names joined by
 * ',' (or "*" / "ERR: msg"). */
static const char *
vary(const char *lines)
{
	static char out[1024], store[1024], buf[1024];
	struct ckey_span v[16], names[CKEY_MAX_NAMES];
	size_t nv = 0, nn, i, o = 0;
	char *p, *save;
	int rc;

	snprintf(store, sizeof store, "%s", lines);
	for (p = strtok_r(store, "|", &save); p != NULL; p = strtok_r(NULL, "|", &save)) {
		v[nv].p = p;
		v[nv++].len = strlen(p);
	}
	memset(&e, 0, sizeof e);
	rc = ckey_vary_parse(v, nv, buf, sizeof buf, names, CKEY_MAX_NAMES, &nn, &e);
	if (rc == 1)
		return "*";
	if (rc < 0) {
		snprintf(out, sizeof out, "ERR: %s", e.msg);
		return out;
	}
	out[0] = '\0';
	for (i = 0; i < nn; i++)
		o += (size_t)snprintf(out + o, sizeof out - o, "%s%.*s", i ? "," : "",
		                      (int)names[i].len, names[i].p);
	return out;
}

Test(ckey, vary_parse)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "Accept-Encoding", "accept-encoding" },
		{ "Accept-Encoding, Accept-Language", "accept-encoding,accept-language" },
		{ "accept-language,ACCEPT-ENCODING", "accept-encoding,accept-language" },
		{ "Origin|Accept-Encoding", "accept-encoding,origin" },
		{ " , Origin ,, origin,\tORIGIN\t", "origin" },
		{ "", "" },
		{ " , ", "" },
		{ "*", "*" },
		{ "Accept, *", "*" },
		{ "Accept| * ", "*" },
		{ "bad name, *", "*" },
		{ "Accept, bad name", "ERR: Vary: 'bad name' is not a field name" },
		{ "Accept;q=1", "ERR: Vary: 'Accept;q=1'" },
		{ "a,b,c,B,A", "a,b,c" },
		{ "x-b,x-a,x-ab,x", "x,x-a,x-ab,x-b" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = vary(cases[i].in);

		cr_expect(strncmp(got, cases[i].want, strlen(cases[i].want)) == 0 &&
		                  (strncmp(cases[i].want, "ERR", 3) == 0 ||
		                   strlen(got) == strlen(cases[i].want)),
		          "[%s]: got [%s], want [%s]", cases[i].in, got, cases[i].want);
	}
}

Test(ckey, vary_parse_limits)
{
	static char line[8192], buf[16];
	struct ckey_span v = { line, 0 }, names[CKEY_MAX_NAMES + 2];
	size_t i, n = 0, nn;

	for (i = 0; i < CKEY_MAX_NAMES; i++)
		n += (size_t)snprintf(line + n, sizeof line - n, "h%zu,", i);
	v.len = n;
	cr_expect_str_eq(vary(line), vary(line)); /* deterministic */
	cr_expect_eq(strncmp(vary(line), "ERR", 3) != 0, 1, "%s", vary(line));
	snprintf(line + n, sizeof line - n, "one-more");
	cr_expect_not_null(strstr(vary(line), "more than"), "%s", vary(line));
	/* max below CKEY_MAX_NAMES is honoured, and a small buffer reported */
	v.len = strlen(line);
	cr_expect_eq(ckey_vary_parse(&v, 1, line + 4096, 4096, names, 3, &nn, &e), -1);
	cr_expect_not_null(strstr(e.msg, "more than 3"), "%s", e.msg);
	cr_expect_eq(ckey_vary_parse(&v, 1, buf, sizeof buf, names, CKEY_MAX_NAMES, &nn, &e), -1);
	cr_expect_not_null(strstr(e.msg, "longer than"), "%s", e.msg);
	/* duplicates do not use up the limit */
	n = 0;
	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(line + n, sizeof line - n, "Accept,");
	v.len = n;
	cr_expect_eq(ckey_vary_parse(&v, 1, line + 4096, 4096, names, 1, &nn, &e), 0, "%s",
	             e.msg);
	cr_expect_eq(nn, 1);
}

struct vcase {
	const char *names;  /* comma-separated, lower-case */
	const char *fields;
	const char *want;   /* the items part */
};

/* The variant text of fields under a primary built from "/" (for the
 * primary's hex) with vary_id. */
static const char *
variant(const char *names, const char *fields, uint64_t vary_id)
{
	static char out[4096], store[512], id[CKEY_ID_LEN + 1];
	struct ckey_policy *p = policy(CKEY_QUERY_NONE, NULL, NULL, NULL);
	struct ckey_field f[32];
	struct ckey_span nm[CKEY_MAX_NAMES];
	struct ckey primary, v;
	char *s, *save;
	size_t n = 0, nf = parse_fields(fields, f, 32);
	static char buf[4096];

	cr_assert_not_null(build_simple(p, "h", "/", NULL));
	primary = key;
	snprintf(store, sizeof store, "%s", names);
	for (s = strtok_r(store, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save)) {
		nm[n].p = s;
		nm[n++].len = strlen(s);
	}
	cr_assert_eq(ckey_variant(&primary, vary_id, nm, n, f, nf, buf, sizeof buf, &v, &e), 0, "%s",
	             e.msg);
	cr_assert_lt(v.len, sizeof out);
	memcpy(out, buf, v.len);
	out[v.len] = '\0';
	cr_expect_eq(memcmp(v.uri_digest, primary.uri_digest, CKEY_DIGEST_LEN), 0);
	sha256_id(out, v.len, id);
	cr_expect_str_eq(v.id, id);
	key = v;
	ckey_policy_free(p);
	return out;
}

Test(ckey, variant_values)
{
	static const struct vcase cases[] = {
		{ "accept-encoding", NULL, "1:15:accept-encoding!" },
		{ "accept-encoding", "Accept-Encoding:", "1:15:accept-encoding=0:" },
		{ "accept-encoding", "Accept-Encoding: , ,", "1:15:accept-encoding=0:" },
		{ "accept-encoding", "Accept-Encoding:gzip", "1:15:accept-encoding=4:gzip" },
		{ "accept-encoding", "Accept-Encoding: GZip , BR ",
		  "1:15:accept-encoding=8:gzip, br" },
		{ "accept-encoding", "Accept-Encoding:gzip,br",
		  "1:15:accept-encoding=8:gzip, br" },
		{ "accept-encoding", "Accept-Encoding:gzip\naccept-encoding:  br",
		  "1:15:accept-encoding=8:gzip, br" },
		{ "accept-encoding", "Accept-Encoding:gzip ; q=0.5,,br;Q=1",
		  "1:15:accept-encoding=18:gzip;q=0.5, br;q=1" },
		{ "accept-language", "Accept-Language:en-US,  FR;q=0.5",
		  "1:15:accept-language=15:en-us, fr;q=0.5" },
		{ "accept-charset", "Accept-Charset:UTF-8", "1:14:accept-charset=5:utf-8" },
		/* Accept: list, but case kept; quoted strings untouched */
		{ "accept", "Accept:Text/HTML ;  Level=1 ,  */*",
		  "1:6:accept=22:Text/HTML;Level=1, */*" },
		{ "accept", "Accept:a/b;p=\"x , Y ;  z\", c/d",
		  "1:6:accept=23:a/b;p=\"x , Y ;  z\", c/d" },
		{ "accept", "Accept:a/b;p=\"\\\" ,\" ,c/d", "1:6:accept=17:a/b;p=\"\\\" ,\", c/d" },
		{ "accept", "Accept:a  b", "1:6:accept=3:a b" },
		/* a quote left open ends with its line, whose OWS is trimmed */
		{ "accept", "Accept:a;p=\"x  \t", "1:6:accept=6:a;p=\"x" },
		{ "accept", "Accept:a;p=\"x ,\nAccept:b", "1:6:accept=11:a;p=\"x ,, b" },
		{ "accept-encoding", "Accept-Encoding:gzip;x=\"A B\"",
		  "1:15:accept-encoding=12:gzip;x=\"A B\"" },
		/* other fields: lines joined, trimmed, otherwise as sent */
		{ "user-agent", "User-Agent: Mozilla/5.0 (X11, Linux)  ",
		  "1:10:user-agent=24:Mozilla/5.0 (X11, Linux)" },
		{ "x-a", "X-A:a\nX-A:B", "1:3:x-a=4:a, B" },
		{ "cookie", "Cookie:a=1\nCookie:b=2", "1:6:cookie=8:a=1; b=2" },
		{ "origin,x-a", "X-A:1", "2:6:origin!3:x-a=1:1" },
		{ "origin,x-a", "Origin:\nX-A:1", "2:6:origin=0:3:x-a=1:1" },
		{ "ORIGIN", "origin:o", "1:6:origin=1:o" },
	};
	size_t i;

	/* "vary1 <primary hex> <id hex> " then the items */
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = variant(cases[i].names, cases[i].fields, 42);

		cr_expect_str_eq(strchr(strchr(strchr(got, ' ') + 1, ' ') + 1, ' ') + 1,
		                 cases[i].want, "[%s] [%s]: got [%s]", cases[i].names,
		                 cases[i].fields, got);
		cr_expect_eq(strncmp(got, "vary1 ", 6), 0);
		cr_expect_eq(strncmp(got + 6 + 64, " 000000000000002a ", 18), 0, "%s", got);
	}
}

Test(ckey, variant_keys_differ_and_match)
{
	char a[CKEY_ID_LEN + 1], b[CKEY_ID_LEN + 1];
	struct ckey_policy *p = policy(CKEY_QUERY_NONE, NULL, NULL, NULL);
	struct ckey p1, p2, v1, v2;
	struct ckey_span nm = { "accept-encoding", 15 };
	struct ckey_field f = { "Accept-Encoding", 15, "gzip", 4 };
	char buf[1024];

	/* the same request, the same variant */
	snprintf(a, sizeof a, "%s", (variant("accept-encoding", "Accept-Encoding:gzip, br", 1),
	                             key.id));
	snprintf(b, sizeof b, "%s", (variant("accept-encoding", "Accept-Encoding: GZIP,BR", 1),
	                             key.id));
	cr_expect_str_eq(a, b);
	/* another vary_id (a new index): another key */
	variant("accept-encoding", "Accept-Encoding:gzip, br", 2);
	cr_expect_str_neq(key.id, a);
	/* absent and empty differ; order of list elements matters */
	snprintf(a, sizeof a, "%s", (variant("accept-encoding", NULL, 1), key.id));
	variant("accept-encoding", "Accept-Encoding:", 1);
	cr_expect_str_neq(key.id, a);
	snprintf(a, sizeof a, "%s", (variant("accept-encoding", "Accept-Encoding:br, gzip", 1),
	                             key.id));
	variant("accept-encoding", "Accept-Encoding:gzip, br", 1);
	cr_expect_str_neq(key.id, a);
	/* another primary: another variant */
	cr_assert_not_null(build_simple(p, "h", "/a", NULL));
	p1 = key;
	cr_assert_not_null(build_simple(p, "h", "/b", NULL));
	p2 = key;
	cr_assert_eq(ckey_variant(&p1, 7, &nm, 1, &f, 1, buf, sizeof buf, &v1, &e), 0);
	cr_assert_eq(ckey_variant(&p2, 7, &nm, 1, &f, 1, buf, sizeof buf, &v2, &e), 0);
	cr_expect_str_neq(v1.id, v2.id);
	cr_expect_str_neq(v1.id, p1.id);
	/* no room */
	cr_expect_eq(ckey_variant(&p1, 7, &nm, 1, &f, 1, buf, 20, &v1, &e), -1);
	cr_expect_not_null(strstr(e.msg, "longer than"), "%s", e.msg);
	/* a variant with no names is still its own key */
	cr_assert_eq(ckey_variant(&p1, 7, NULL, 0, &f, 1, buf, sizeof buf, &v1, &e), 0);
	cr_expect_str_neq(v1.id, p1.id);
	ckey_policy_free(p);
}
