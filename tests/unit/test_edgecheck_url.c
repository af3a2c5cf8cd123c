/*
 * test_edgecheck_url.c: edgecheck's command-line text (lib/chkurl.c): https
 * URLs (hosts, IPv6 literals, ports, Host authority, targets, fragments,
 * refused shapes), --resolve HOST:PORT:ADDR entries, and the
 * cache-busting target.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "chkurl.h"

TestSuite(chkurl, .timeout = 10);

struct good {
	const char *in, *host, *authority, *target;
	int port, is_ip;
};

Test(chkurl, good_urls)
{
	static const struct good t[] = {
		{ "https://edge.test/", "edge.test", "edge.test", "/", 443, 0 },
		{ "https://edge.test", "edge.test", "edge.test", "/", 443, 0 },
		{ "HTTPS://Edge.Test:8443", "edge.test", "edge.test:8443", "/", 8443, 0 },
		{ "https://edge.test:443/a", "edge.test", "edge.test", "/a", 443, 0 },
		{ "https://edge.test:8443/a/b.html?x=1&y=%20", "edge.test", "edge.test:8443",
		  "/a/b.html?x=1&y=%20", 8443, 0 },
		{ "https://edge.test?q", "edge.test", "edge.test", "/?q", 443, 0 },
		{ "https://edge.test/p#frag", "edge.test", "edge.test", "/p", 443, 0 },
		{ "https://127.0.0.1:8443/", "127.0.0.1", "127.0.0.1:8443", "/", 8443, 1 },
		{ "https://[::1]:8443/x", "::1", "[::1]:8443", "/x", 8443, 1 },
		{ "https://[2001:DB8::1]/", "2001:db8::1", "[2001:db8::1]", "/", 443, 1 },
		{ "https://my_host-1.example:1/", "my_host-1.example", "my_host-1.example:1", "/",
		  1, 0 },
		{ "https://e:65535", "e", "e:65535", "/", 65535, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct chkurl u;
		struct err e = { 0, "" };

		cr_assert_eq(chkurl_parse(t[i].in, &u, &e), 0, "%s: %s", t[i].in, e.msg);
		cr_expect_str_eq(u.host, t[i].host, "%s", t[i].in);
		cr_expect_str_eq(u.authority, t[i].authority, "%s", t[i].in);
		cr_expect_str_eq(u.target, t[i].target, "%s", t[i].in);
		cr_expect_eq(u.port, t[i].port, "%s", t[i].in);
		cr_expect_eq(u.is_ip, t[i].is_ip, "%s", t[i].in);
	}
}

struct bad {
	const char *in, *why;
};

Test(chkurl, bad_urls)
{
	static const struct bad t[] = {
		{ "http://edge.test/", "use https://" },
		{ "ftp://edge.test/", "not an https:// URL" },
		{ "edge.test", "not an https:// URL" },
		{ "https://", "no host name" },
		{ "https:///x", "no host name" },
		{ "https://:8443/", "no host name" },
		{ "https://user@edge.test/", "user information" },
		{ "https://edge.test:0/", "port '0'" },
		{ "https://edge.test:65536/", "port '65536'" },
		{ "https://edge.test:/", "port ''" },
		{ "https://edge.test:+80/", "port '+80'" },
		{ "https://edge.test:80x/", "port '80x'" },
		{ "https://edge.test:123456/", "port '123456'" },
		{ "https://[::1/", "'[' without ']'" },
		{ "https://[::1]x/", "after ']'" },
		{ "https://[zz::1]/", "not an IPv6 address" },
		{ "https://::1/", "in brackets" },
		{ "https://1.2.3/", "not an IPv4 address" },
		{ "https://999.1.1.1/", "not an IPv4 address" },
		{ "https://a..b/", "empty label" },
		{ "https://.a/", "empty label" },
		{ "https://a./", "ends with a dot" },
		{ "https://a b/", "character ' '" },
		{ "https://a/b c", "a space" },
		{ "https://a/b\tc", "a control byte" },
		{ "https://a/\xc3\xa9", "a non-ASCII byte" },
		{ "https://a/%zz", "bad %-escape" },
		{ "https://a/%4", "bad %-escape" },
		{ "https://a/%", "bad %-escape" },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct chkurl u;
		struct err e = { 0, "" };

		cr_assert_eq(chkurl_parse(t[i].in, &u, &e), -1, "%s parsed", t[i].in);
		cr_expect_eq(e.code, ERR_USAGE, "%s", t[i].in);
		cr_expect(strstr(e.msg, t[i].why) != NULL, "%s: '%s' does not say '%s'", t[i].in,
		          e.msg, t[i].why);
		cr_expect(strncmp(e.msg, "URL '", 5) == 0, "%s: '%s' does not name the URL",
		          t[i].in, e.msg);
	}
}

Test(chkurl, long_target)
{
	char url[CHKURL_MAX_TARGET + 64];
	struct chkurl u;
	struct err e = { 0, "" };
	size_t n;

	strcpy(url, "https://a/");
	n = strlen(url);
	memset(url + n, 'x', CHKURL_MAX_TARGET - 3);
	url[n + CHKURL_MAX_TARGET - 3] = '\0';
	cr_assert_eq(chkurl_parse(url, &u, &e), 0, "%s", e.msg);
	cr_expect_eq(strlen(u.target), CHKURL_MAX_TARGET - 2);
	strcat(url, "y");
	cr_assert_eq(chkurl_parse(url, &u, &e), -1);
	cr_expect(strstr(e.msg, "longer than") != NULL, "%s", e.msg);
}

Test(chkurl, resolve)
{
	struct chkresolve r;
	struct err e = { 0, "" };

	cr_assert_eq(chkurl_resolve_parse("edge.test:8443:127.0.0.1", &r, &e), 0, "%s", e.msg);
	cr_expect_str_eq(r.host, "edge.test");
	cr_expect_eq(r.port, 8443);
	cr_expect_str_eq(r.addr, "127.0.0.1");
	cr_assert_eq(chkurl_resolve_parse("Edge.Test:443:::1", &r, &e), 0, "%s", e.msg);
	cr_expect_str_eq(r.host, "edge.test");
	cr_expect_str_eq(r.addr, "::1");
	cr_assert_eq(chkurl_resolve_parse("edge.test:443:[2001:db8::5]", &r, &e), 0, "%s", e.msg);
	cr_expect_str_eq(r.addr, "2001:db8::5");
	cr_assert_eq(chkurl_resolve_parse("[::1]:8443:127.0.0.1", &r, &e), 0, "%s", e.msg);
	cr_expect_str_eq(r.host, "::1");
	cr_expect_eq(r.port, 8443);
}

Test(chkurl, resolve_bad)
{
	static const struct bad t[] = {
		{ "edge.test", "want HOST:PORT:ADDR" },
		{ "edge.test:8443", "want HOST:PORT:ADDR" },
		{ ":8443:127.0.0.1", "no host name" },
		{ "edge.test::127.0.0.1", "port ''" },
		{ "edge.test:0:127.0.0.1", "port '0'" },
		{ "edge.test:x:127.0.0.1", "port 'x'" },
		{ "edge.test:8443:", "must be an IP address" },
		{ "edge.test:8443:[]", "must be an IP address" },
		{ "edge.test:8443:localhost", "'localhost' is not an IP address" },
		{ "edge.test:8443:1.2.3", "not an IP address" },
		{ "[::1:8443:127.0.0.1", "want HOST:PORT:ADDR" },
		{ "a b:1:127.0.0.1", "character ' '" },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct chkresolve r;
		struct err e = { 0, "" };

		cr_assert_eq(chkurl_resolve_parse(t[i].in, &r, &e), -1, "%s parsed", t[i].in);
		cr_expect_eq(e.code, ERR_USAGE, "%s", t[i].in);
		cr_expect(strstr(e.msg, t[i].why) != NULL, "%s: '%s' does not say '%s'", t[i].in,
		          e.msg, t[i].why);
		cr_expect(strncmp(e.msg, "--resolve '", 11) == 0, "%s: '%s'", t[i].in, e.msg);
	}
}

Test(chkurl, bust)
{
	char out[64];
	struct err e = { 0, "" };

	cr_assert_eq(chkurl_bust("/", "abc", out, sizeof out, &e), 0, "%s", e.msg);
	cr_expect_str_eq(out, "/?edgecheck=abc");
	cr_assert_eq(chkurl_bust("/a?x=1", "abc", out, sizeof out, &e), 0);
	cr_expect_str_eq(out, "/a?x=1&edgecheck=abc");
	cr_assert_eq(chkurl_bust("/a?", "a-b_c", out, sizeof out, &e), 0);
	cr_expect_str_eq(out, "/a?edgecheck=a-b_c");
	cr_expect_eq(chkurl_bust("/", "", out, sizeof out, &e), -1);
	cr_expect_eq(chkurl_bust("/", "a&b", out, sizeof out, &e), -1);
	cr_expect_eq(chkurl_bust("", "a", out, sizeof out, &e), -1);
	/* "/" + "?edgecheck=" + 5 = 17 bytes and a NUL */
	cr_expect_eq(chkurl_bust("/", "12345", out, 17, &e), -1);
	cr_expect_eq(chkurl_bust("/", "12345", out, 18, &e), 0);
	cr_expect_str_eq(out, "/?edgecheck=12345");
}
