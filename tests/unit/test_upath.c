/*
 * test_upath.c: the normal form of a request-target (lib/upath.c, RFC 3986
 * 5.2.4 and 6.2.2).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "upath.h"

static int
norm(const char *in, char *out, size_t outlen)
{
	size_t n = 0, pn = 0;
	int rc = upath_target(in, strlen(in), out, outlen, &n, &pn);

	if (rc == UPATH_OK) {
		cr_assert_eq(n, strlen(out), "'%s': length %zu, string %zu", in, n, strlen(out));
		cr_assert_leq(pn, n);
	}
	return rc;
}

#define NORM(in, want) do { \
	char out_[512]; \
	cr_assert_eq(norm(in, out_, sizeof out_), UPATH_OK, "'%s' refused", in); \
	cr_assert_str_eq(out_, want, "'%s' -> '%s', want '%s'", in, out_, want); \
} while (0)

#define BAD(in, err) do { \
	char out_[512]; \
	cr_assert_eq(norm(in, out_, sizeof out_), err, "'%s': want error %d", in, err); \
} while (0)

Test(upath, unchanged)
{
	NORM("/", "/");
	NORM("/a/b.html", "/a/b.html");
	NORM("/a//b", "/a//b");          /* repeated slashes stay */
	NORM("/a/b/", "/a/b/");
	NORM("/a+b%20c", "/a+b%20c");    /* '+' and %20 differ */
	NORM("/a%2Fb", "/a%2Fb");        /* %2F is not a separator */
	NORM("/..a/b..", "/..a/b..");    /* not dot-segments */
	NORM("/.../x", "/.../x");
	NORM("/a;b=c/d:e@f!$&'()*,", "/a;b=c/d:e@f!$&'()*,");
}

Test(upath, escapes)
{
	NORM("/%6Ceak.pdf", "/leak.pdf");
	NORM("/%41%7a%30%2d%2E%5f%7E", "/Az0-._~");
	NORM("/a%2fb", "/a%2Fb");
	NORM("/%c3%a9", "/%C3%A9");
	NORM("/%00", "/%00");
	NORM("/a?%6b=%2f%41", "/a?k=%2FA");
	BAD("/%", UPATH_BAD_ESCAPE);
	BAD("/%4", UPATH_BAD_ESCAPE);
	BAD("/%4/", UPATH_BAD_ESCAPE);
	BAD("/%zz", UPATH_BAD_ESCAPE);
	BAD("/a?q=%G1", UPATH_BAD_ESCAPE);
}

Test(upath, dot_segments)
{
	NORM("/a/./b", "/a/b");
	NORM("/a/b/../c", "/a/c");
	NORM("/a/b/..", "/a/");
	NORM("/a/..", "/");
	NORM("/a/.", "/a/");
	NORM("/.", "/");
	NORM("/./", "/");
	NORM("/a/b/c/./../../g", "/a/g");
	NORM("/a/%2e%2E/b", "/b");
	NORM("/a/.%2e", "/");
	NORM("/a/%2E/b", "/a/b");
	NORM("//..", "/");
	NORM("/a//../b", "/a/b");
	NORM("/a/..?x=/../..", "/?x=/../..");  /* the query is not a path */
	BAD("/..", UPATH_ABOVE_ROOT);
	BAD("/../a", UPATH_ABOVE_ROOT);
	BAD("/a/../..", UPATH_ABOVE_ROOT);
	BAD("/%2e%2e/etc/passwd", UPATH_ABOVE_ROOT);
	BAD("/a/./../../b", UPATH_ABOVE_ROOT);
}

Test(upath, absolute_form)
{
	NORM("http://example.com", "/");
	NORM("https://example.com?x", "/?x");
	NORM("HTTPS://example.com:8443/a/../b?c", "/b?c");
	NORM("http://h/%7euser/", "/~user/");
	BAD("https://h/..", UPATH_ABOVE_ROOT);
	BAD("*", UPATH_NOT_PATH);
	BAD("a/b", UPATH_NOT_PATH);
	BAD("", UPATH_NOT_PATH);
}

Test(upath, room)
{
	char out[8];
	size_t n;

	cr_assert_eq(upath_target("/abcdef", 7, out, sizeof out, &n, NULL), UPATH_OK);
	cr_assert_str_eq(out, "/abcdef");
	cr_assert_eq(upath_target("/abcdefg", 8, out, sizeof out, &n, NULL), UPATH_NO_ROOM);
	cr_assert_eq(upath_target("/a%2f", 5, out, 5, &n, NULL), UPATH_NO_ROOM);
	cr_assert_eq(upath_path("", 0, out, sizeof out, &n), UPATH_OK);
	cr_assert_str_eq(out, "/");
}

/* The normal form is a fixed point, and never longer than its input plus
 * the '/' an empty path gains. */
Test(upath, idempotent)
{
	static const char *in[] = {
		"/a/./b/../c%2f%7e?x=%2e%2E", "/%2E%2E%2F", "/a/b/c/../../..", "//a//b/..//",
		"/.%2E./x", "/~%7E/%25/%2525", "/a/..?", "https://h",
	};
	size_t i;

	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		char a[256], b[256];
		size_t na, nb;

		cr_assert_eq(upath_target(in[i], strlen(in[i]), a, sizeof a, &na, NULL), UPATH_OK,
		             "%s", in[i]);
		cr_assert_eq(upath_target(a, na, b, sizeof b, &nb, NULL), UPATH_OK, "%s", a);
		cr_assert_str_eq(a, b, "'%s' -> '%s' -> '%s'", in[i], a, b);
	}
}
