/*
 * test_org_path.c: origind's request-path normalization (origind/org_path.c,
 * RFC 3986 5.2.4 and 6.2.2; slashes merged; above the root refused).
 *
 * origind's sources are not in libedge.a: the module is included here
 * whole (it has no dependency beyond libc).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../origind/org_path.c"

static int
norm(const char *t, char *out, size_t len, const char **q)
{
	memset(out, 'X', len);
	return org_path_normalize(t, out, len, q);
}

#define N(t, want) do { \
	char out_[256]; \
	const char *q_; \
	cr_assert_eq(norm(t, out_, sizeof out_, &q_), ORG_PATH_OK, "'%s'", t); \
	cr_assert_str_eq(out_, want, "'%s'", t); \
} while (0)

#define R(t, res) do { \
	char out_[256]; \
	cr_assert_eq(norm(t, out_, sizeof out_, NULL), res, "'%s'", t); \
} while (0)

Test(org_path, plain)
{
	N("/", "/");
	N("/a", "/a");
	N("/a/", "/a/");
	N("/a/b.html", "/a/b.html");
	N("/php/hello.php", "/php/hello.php");
	N("/a.b/c..d/...", "/a.b/c..d/...");
	N("/.hidden", "/.hidden");
	N("/..x/x..", "/..x/x..");
}

Test(org_path, slashes_merged)
{
	N("//php/hello.php", "/php/hello.php");
	N("///php///hello.php", "/php/hello.php");
	N("/php//hello.php", "/php/hello.php");
	N("/a//", "/a/");
	N("//", "/");
	N("/%2F/php%2F%2fx.php", "/php/x.php");
}

Test(org_path, dot_segments)
{
	/* RFC 3986 5.2.4's examples, rooted */
	N("/a/b/c/./../../g", "/a/g");
	N("/mid/content=5/../6", "/mid/6");
	N("/./php/x.php", "/php/x.php");
	N("/a/../php/x.php", "/php/x.php");
	N("/a/./b/.", "/a/b/");
	N("/a/b/..", "/a/");
	N("/a/..", "/");
	N("/.", "/");
	N("/a/.//../b", "/b");
	N("/a/b/../../c/", "/c/");
}

Test(org_path, escapes_decoded)
{
	N("/%70hp/hello.php", "/php/hello.php");
	N("/%70%68%70/hello%2Ephp", "/php/hello.php");
	N("/%2e/php/x.php", "/php/x.php");
	N("/a/%2e%2E/php/x.php", "/php/x.php");
	N("/a/.%2e/php/x.php", "/php/x.php");
	N("/a%2f..%2Fphp/x.php", "/php/x.php");
	N("/%41%42", "/AB");
	N("/sp%20ace", "/sp ace");
	N("/%25", "/%");
	N("/%25%32%46", "/%2F"); /* decoded once: %25 is '%', not the start of an escape */
	N("/%7e%7E", "/~~");
}

Test(org_path, query_and_forms)
{
	char out[64];
	const char *q = NULL;

	cr_assert_eq(norm("//php/x.php?a=1&b=/../", out, sizeof out, &q), ORG_PATH_OK);
	cr_assert_str_eq(out, "/php/x.php");
	cr_assert_str_eq(q, "a=1&b=/../");
	cr_assert_eq(norm("/x", out, sizeof out, &q), ORG_PATH_OK);
	cr_assert_str_eq(q, "");
	cr_assert_eq(norm("/x?", out, sizeof out, &q), ORG_PATH_OK);
	cr_assert_str_eq(q, "");
	cr_assert_eq(norm("/?x", out, sizeof out, &q), ORG_PATH_OK);
	cr_assert_str_eq(out, "/");
	cr_assert_str_eq(q, "x");
	N("https://origin.test//php/x.php", "/php/x.php");
	N("HTTP://origin.test/a/../php/x.php", "/php/x.php");
	N("https://origin.test", "/");
	N("https://origin.test?q", "/");
	N("*", "/*");
	N("", "/");
}

Test(org_path, refused)
{
	R("/..", ORG_PATH_ABOVE);
	R("/../x", ORG_PATH_ABOVE);
	R("/a/../..", ORG_PATH_ABOVE);
	R("/a/../../x", ORG_PATH_ABOVE);
	R("//../x", ORG_PATH_ABOVE);
	R("/%2e%2e/x", ORG_PATH_ABOVE);
	R("/a%2F..%2F..%2Fx", ORG_PATH_ABOVE);
	R("/./../x", ORG_PATH_ABOVE);
	R("https://h/../x", ORG_PATH_ABOVE);
	R("/%00", ORG_PATH_BAD);
	R("/a%00b", ORG_PATH_BAD);
	R("/%", ORG_PATH_BAD);
	R("/%4", ORG_PATH_BAD);
	R("/%4?x", ORG_PATH_BAD); /* the escape may not run into the query */
	R("/%g0", ORG_PATH_BAD);
	R("/%0g", ORG_PATH_BAD);
	R("/%%41", ORG_PATH_BAD);
}

Test(org_path, room)
{
	static const char *t[] = { "", "*", "/", "//", "/a/.", "/a/..", "/a/b/", "/%41/",
	                           "https://h", "x/y/.", "./", "../a" };
	char out[64];
	size_t i;

	/* strlen + 2 is always enough; one byte less may not be */
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		int rc = norm(t[i], out, strlen(t[i]) + 2, NULL);

		cr_assert(rc == ORG_PATH_OK || rc == ORG_PATH_ABOVE, "'%s': %d", t[i], rc);
	}
	cr_assert_eq(norm("/abc", out, 4, NULL), ORG_PATH_LONG);
	cr_assert_eq(norm("/abc", out, 5, NULL), ORG_PATH_OK);
	cr_assert_str_eq(out, "/abc");
	cr_assert_eq(norm("/", out, 1, NULL), ORG_PATH_LONG);
	cr_assert_eq(norm("/", out, 2, NULL), ORG_PATH_OK);
}

Test(org_path, idempotent)
{
	static const char *t[] = { "//php/x.php", "/a/./b/../c/", "/%70hp//x", "/%25/%2541",
	                           "*", "/a b/%7e", "/x/..%2f.%2fy" };
	char a[128], b[128];
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		cr_assert_eq(norm(t[i], a, sizeof a, NULL), ORG_PATH_OK, "'%s'", t[i]);
		/* a normalized path holds no escape to decode again only when it
		 * has no '%': re-normalizing it is then the identity */
		if (strchr(a, '%') != NULL)
			continue;
		cr_assert_eq(norm(a, b, sizeof b, NULL), ORG_PATH_OK, "'%s'", a);
		cr_assert_str_eq(a, b, "'%s' normalized twice", t[i]);
	}
}

Test(org_path, under)
{
	cr_assert(org_path_under("/a/b", "/a"));
	cr_assert(org_path_under("/a/b", "/a/"));
	cr_assert(org_path_under("/a", "/a"));
	cr_assert(org_path_under("/a", "/a/"));
	cr_assert(org_path_under("/a/", "/a"));
	cr_assert(!org_path_under("/ab", "/a"));
	cr_assert(!org_path_under("/ab", "/a/"));
	cr_assert(!org_path_under("/", "/a"));
	cr_assert(org_path_under("/anything", "/"));
	cr_assert(org_path_under("/", "/"));
	cr_assert(org_path_under("/srv/cgi-bin/x.cgi", "/srv/cgi-bin"));
	cr_assert(!org_path_under("/srv/cgi-bin2/x.cgi", "/srv/cgi-bin"));
}
