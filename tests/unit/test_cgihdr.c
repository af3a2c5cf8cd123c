/*
 * test_cgihdr.c: the CGI response-head parser (RFC 3875 section 6): valid
 * heads with LF and CRLF, Status, Location (302, local redirect),
 * Content-Type, the fields passed on and the hop-by-hop ones dropped,
 * every malformed case, "need more" for an incomplete head, and the
 * CGI_MAX_HEAD bound.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgihdr.h"

TestSuite(cgihdr, .timeout = 10);

static struct cgi_head h;
static struct err e;

static int
parse(const char *s)
{
	memset(&e, 0, sizeof e);
	return cgi_head_parse(s, strlen(s), &h, &e);
}

static bool
span_is(const char *p, size_t len, const char *want)
{
	return p != NULL && len == strlen(want) && memcmp(p, want, len) == 0;
}

/* The value of passed field NAME (exact case), NULL if absent. */
static const struct cgi_field *
field(const char *name)
{
	size_t i;

	for (i = 0; i < h.nfields; i++)
		if (span_is(h.fields[i].name, h.fields[i].nlen, name))
			return &h.fields[i];
	return NULL;
}

/* Expect a parse failure whose message mentions want. */
static void
expect_bad(const char *s, const char *want)
{
	int rc = parse(s);

	cr_expect_eq(rc, -1, "want -1 for [%s], got %d", s, rc);
	cr_expect_eq(e.code, ERR_FAIL, "code for [%s]", s);
	cr_expect_not_null(strstr(e.msg, want), "message for [%s]: '%s' lacks '%s'", s, e.msg,
	                   want);
}

Test(cgihdr, content_type_only_lf)
{
	const char *s = "Content-Type: text/html\n\n<p>hi</p>";

	cr_assert_eq(parse(s), 1, "%s", e.msg);
	cr_expect_eq(h.status, 200);
	cr_expect(span_is(h.content_type, h.content_type_len, "text/html"));
	cr_expect_null(h.location);
	cr_expect_null(h.reason);
	cr_expect_not(h.local_redirect);
	cr_expect_eq(h.nfields, 0);
	cr_expect_eq(h.head_len, strlen("Content-Type: text/html\n\n"));
	cr_expect_str_eq(s + h.head_len, "<p>hi</p>");
}

Test(cgihdr, crlf_and_mixed_endings)
{
	const char *s = "Content-Type: text/plain\r\nX-A: 1\nX-B: 2\r\n\r\nbody";

	cr_assert_eq(parse(s), 1, "%s", e.msg);
	cr_expect(span_is(h.content_type, h.content_type_len, "text/plain"));
	cr_expect_eq(h.nfields, 2);
	cr_assert_not_null(field("X-A"));
	cr_expect(span_is(field("X-A")->value, field("X-A")->vlen, "1"));
	cr_expect(span_is(field("X-B")->value, field("X-B")->vlen, "2"), "no CR kept");
	cr_expect_str_eq(s + h.head_len, "body");
}

Test(cgihdr, blank_line_with_lone_cr)
{
	const char *s = "Content-Type: a/b\n\r\nrest";

	cr_assert_eq(parse(s), 1);
	cr_expect_str_eq(s + h.head_len, "rest");
}

Test(cgihdr, empty_body_and_value_trimming)
{
	const char *s = "Content-Type:   text/plain ; charset=utf-8 \t\nX-Empty:\nX-Tab:\tv\t\n\n";

	cr_assert_eq(parse(s), 1, "%s", e.msg);
	cr_expect(span_is(h.content_type, h.content_type_len, "text/plain ; charset=utf-8"));
	cr_assert_not_null(field("X-Empty"));
	cr_expect_eq(field("X-Empty")->vlen, 0);
	cr_expect(span_is(field("X-Tab")->value, field("X-Tab")->vlen, "v"));
	cr_expect_eq(h.head_len, strlen(s));
}

Test(cgihdr, names_are_case_insensitive)
{
	cr_assert_eq(parse("content-TYPE: x/y\nSTATUS: 404 Not Found\nlocation: /z\n\n"), 1,
	             "%s", e.msg);
	cr_expect_eq(h.status, 404);
	cr_expect(span_is(h.content_type, h.content_type_len, "x/y"));
	cr_expect(span_is(h.location, h.location_len, "/z"));
	cr_expect_eq(h.nfields, 0);
}

Test(cgihdr, status_with_reason)
{
	cr_assert_eq(parse("Status: 201 Created\nContent-Type: text/plain\n\n"), 1, "%s",
	             e.msg);
	cr_expect_eq(h.status, 201);
	cr_expect(span_is(h.reason, h.reason_len, "Created"));
}

Test(cgihdr, status_without_reason)
{
	cr_assert_eq(parse("Status: 204\n\n"), 1, "%s", e.msg);
	cr_expect_eq(h.status, 204);
	cr_expect_null(h.reason);
	cr_expect_null(h.content_type);
}

Test(cgihdr, status_alone_is_enough)
{
	cr_assert_eq(parse("Status: 500 Oops\r\n\r\n"), 1);
	cr_expect_eq(h.status, 500);
}

Test(cgihdr, status_bounds)
{
	cr_expect_eq(parse("Status: 200 OK\n\n"), 1);
	cr_expect_eq(h.status, 200);
	cr_expect_eq(parse("Status: 599 Edge\n\n"), 1);
	cr_expect_eq(h.status, 599);
	expect_bad("Status: 199 Low\n\n", "bad Status");
	expect_bad("Status: 600 High\n\n", "bad Status");
	expect_bad("Status: 100 Continue\n\n", "bad Status");
}

Test(cgihdr, bad_status_values)
{
	expect_bad("Status: OK\n\n", "bad Status");
	expect_bad("Status: 20\n\n", "bad Status");
	expect_bad("Status: 2000\n\n", "bad Status");
	expect_bad("Status: 200OK\n\n", "bad Status");
	expect_bad("Status:\n\n", "bad Status");
	expect_bad("Status: -20\n\n", "bad Status");
	expect_bad("Status: 2x0 Hm\n\n", "bad Status");
	expect_bad("Status: 200 A\nStatus: 201 B\n\n", "Status given twice");
}

Test(cgihdr, location_absolute_is_302)
{
	cr_assert_eq(parse("Location: https://example.test/x?y=1\n\n"), 1, "%s", e.msg);
	cr_expect_eq(h.status, 302);
	cr_expect(span_is(h.location, h.location_len, "https://example.test/x?y=1"));
	cr_expect_not(h.local_redirect);
	cr_expect_null(h.content_type);
}

Test(cgihdr, location_local_redirect)
{
	cr_assert_eq(parse("Location: /other/path?q\n\n"), 1, "%s", e.msg);
	cr_expect_eq(h.status, 302);
	cr_expect(h.local_redirect);
	cr_assert_eq(parse("Location: /\n\n"), 1);
	cr_expect(h.local_redirect);
}

Test(cgihdr, location_network_path_is_not_local)
{
	cr_assert_eq(parse("Location: //evil.test/x\n\n"), 1);
	cr_expect_not(h.local_redirect, "//host is another host, not a local path");
	cr_expect_eq(h.status, 302);
}

Test(cgihdr, location_with_status_keeps_status)
{
	cr_assert_eq(parse("Status: 301 Moved Permanently\nLocation: /new\n\n"), 1);
	cr_expect_eq(h.status, 301);
	cr_expect(span_is(h.location, h.location_len, "/new"));
	cr_assert_eq(parse("Location: /new\nStatus: 307 Temporary\n\n"), 1);
	cr_expect_eq(h.status, 307, "order does not matter");
}

Test(cgihdr, location_errors)
{
	expect_bad("Location:\n\n", "empty Location");
	expect_bad("Location:   \n\n", "empty Location");
	expect_bad("Location: /a\nLocation: /b\n\n", "Location given twice");
}

Test(cgihdr, content_type_twice)
{
	expect_bad("Content-Type: a/b\nContent-Type: c/d\n\n", "Content-Type given twice");
}

Test(cgihdr, other_fields_passed_in_order)
{
	const char *s = "Content-Type: text/plain\nSet-Cookie: a=1\nX-Custom: yes\n"
	                "Set-Cookie: b=2\nCache-Control: no-store\n\n";

	cr_assert_eq(parse(s), 1, "%s", e.msg);
	cr_assert_eq(h.nfields, 4);
	cr_expect(span_is(h.fields[0].name, h.fields[0].nlen, "Set-Cookie"));
	cr_expect(span_is(h.fields[0].value, h.fields[0].vlen, "a=1"));
	cr_expect(span_is(h.fields[1].name, h.fields[1].nlen, "X-Custom"));
	cr_expect(span_is(h.fields[2].value, h.fields[2].vlen, "b=2"));
	cr_expect(span_is(h.fields[3].name, h.fields[3].nlen, "Cache-Control"));
}

Test(cgihdr, hop_by_hop_fields_dropped)
{
	const char *s = "Content-Type: text/plain\nConnection: close\nKeep-Alive: 5\n"
	                "Transfer-Encoding: chunked\nContent-Length: 12\nUpgrade: h2c\n"
	                "TE: trailers\nTrailer: X\nProxy-Connection: keep-alive\n"
	                "CONTENT-LENGTH: 3\nX-Kept: 1\n\n";

	cr_assert_eq(parse(s), 1, "%s", e.msg);
	cr_expect_eq(h.nfields, 1, "only X-Kept is passed, got %zu", h.nfields);
	cr_expect_not_null(field("X-Kept"));
}

Test(cgihdr, names_that_only_look_hop_by_hop_are_kept)
{
	cr_assert_eq(parse("Content-Type: a/b\nTEx: 1\nConnections: 2\nX-Connection: 3\n\n"),
	             1);
	cr_expect_eq(h.nfields, 3);
}

Test(cgihdr, tchar_names)
{
	cr_assert_eq(parse("Content-Type: a/b\nX!#$%&'*+-.^_`|~9: v\n\n"), 1, "%s", e.msg);
	cr_expect_eq(h.nfields, 1);
}

Test(cgihdr, value_may_hold_colons_and_high_bytes)
{
	cr_assert_eq(parse("Content-Type: a/b\nX-Url: http://h:1/p\nX-Utf: caf\xc3\xa9\n\n"),
	             1, "%s", e.msg);
	cr_expect(span_is(field("X-Url")->value, field("X-Url")->vlen, "http://h:1/p"));
	cr_expect(span_is(field("X-Utf")->value, field("X-Utf")->vlen, "caf\xc3\xa9"));
}

Test(cgihdr, malformed_lines)
{
	expect_bad("no colon here\n\n", "malformed header line");
	expect_bad("Content-Type: a/b\nno colon\n\n", "malformed header line");
	expect_bad(": empty name\n\n", "malformed header line");
	expect_bad("Content Type: a/b\n\n", "bad character in header field name");
	expect_bad("Content-Type : a/b\n\n", "bad character in header field name");
	expect_bad(" Content-Type: a/b\n\n", "bad character in header field name");
	expect_bad("\tContent-Type: a/b\n\n", "bad character in header field name");
	expect_bad("X(y): 1\nContent-Type: a/b\n\n", "bad character in header field name");
	expect_bad("X\xc3\xa9: 1\nContent-Type: a/b\n\n", "bad character in header field name");
	/* an obsolete folded line starts with a blank: refused, not joined */
	expect_bad("Content-Type: a/b\nX-A: 1\n  continued\n\n", "malformed header line");
	/* HTTP status line, as from an nph- script: not a CGI head */
	expect_bad("HTTP/1.1 200 OK\nContent-Type: a/b\n\n", "malformed header line");
	expect_bad("HTTP/1.1: 200\nContent-Type: a/b\n\n", "bad character");
}

Test(cgihdr, control_bytes_in_values)
{
	expect_bad("Content-Type: a/b\nX-A: a\rb\n\n", "control character");
	expect_bad("Content-Type: a/b\nX-A: a\x01" "b\n\n", "control character");
	expect_bad("Content-Type: a/b\nX-A: a\x7f\n\n", "control character");
	expect_bad("Content-Type: a/b\x1b[31m\n\n", "control character");
	/* a tab inside a value is fine */
	cr_expect_eq(parse("Content-Type: a/b\nX-A: a\tb\n\n"), 1);
}

Test(cgihdr, nul_in_value_or_name)
{
	static const char v[] = "Content-Type: a/b\nX-A: a\0b\n\n";
	static const char n[] = "Content-Type: a/b\nX\0A: 1\n\n";

	cr_expect_eq(cgi_head_parse(v, sizeof v - 1, &h, &e), -1);
	cr_expect_not_null(strstr(e.msg, "control character"), "%s", e.msg);
	cr_expect_eq(cgi_head_parse(n, sizeof n - 1, &h, &e), -1);
	cr_expect_not_null(strstr(e.msg, "bad character"), "%s", e.msg);
}

Test(cgihdr, no_useful_field)
{
	expect_bad("X-Only: 1\n\n", "no Content-Type, Location or Status");
	expect_bad("\n", "no Content-Type, Location or Status");
	expect_bad("\r\nbody", "no Content-Type, Location or Status");
	expect_bad("Connection: close\n\n", "no Content-Type, Location or Status");
}

Test(cgihdr, incomplete_needs_more)
{
	cr_expect_eq(parse(""), 0);
	cr_expect_eq(parse("Content-Type"), 0);
	cr_expect_eq(parse("Content-Type: text/plain"), 0);
	cr_expect_eq(parse("Content-Type: text/plain\n"), 0);
	cr_expect_eq(parse("Content-Type: text/plain\r\n"), 0);
	cr_expect_eq(parse("Content-Type: text/plain\r\n\r"), 0);
	cr_expect_eq(parse("Content-Type: text/plain\nX-A: 1"), 0);
	/* an error in a complete line is reported at once */
	expect_bad("bad line\nContent-Type", "malformed header line");
}

Test(cgihdr, every_prefix_of_a_valid_head)
{
	const char *s = "Status: 201 Created\r\nContent-Type: text/plain\r\nX-A: 1\r\n\r\nbody";
	size_t full = strlen(s) - 4, i;

	for (i = 0; i < full; i++)
		cr_expect_eq(cgi_head_parse(s, i, &h, &e), 0, "prefix of %zu bytes", i);
	for (i = full; i <= strlen(s); i++) {
		cr_expect_eq(cgi_head_parse(s, i, &h, &e), 1, "prefix of %zu bytes", i);
		cr_expect_eq(h.head_len, full);
	}
}

Test(cgihdr, field_count_limit)
{
	char buf[8192];
	size_t o = 0;
	int i;

	o += (size_t)snprintf(buf + o, sizeof buf - o, "Content-Type: a/b\n");
	for (i = 0; i < CGI_MAX_FIELDS; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "X-%d: %d\n", i, i);
	snprintf(buf + o, sizeof buf - o, "\n");
	cr_assert_eq(parse(buf), 1, "%d fields are allowed: %s", CGI_MAX_FIELDS, e.msg);
	cr_expect_eq(h.nfields, CGI_MAX_FIELDS);
	snprintf(buf + o, sizeof buf - o, "X-last: 1\n\n");
	expect_bad(buf, "more than");
}

Test(cgihdr, dropped_fields_do_not_count)
{
	char buf[8192];
	size_t o = 0;
	int i;

	for (i = 0; i < CGI_MAX_FIELDS; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "X-%d: %d\n", i, i);
	for (i = 0; i < 10; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "Connection: close\n");
	snprintf(buf + o, sizeof buf - o, "Content-Type: a/b\n\n");
	cr_expect_eq(parse(buf), 1, "%s", e.msg);
}

/* A head of exactly n bytes: Content-Type then one X-Pad field. */
static char *
head_of(size_t n)
{
	static const char pre[] = "Content-Type: a/b\nX-Pad: ";
	char *b = malloc(n + 16);
	size_t pad = n - (sizeof pre - 1) - 2;

	cr_assert_not_null(b);
	memcpy(b, pre, sizeof pre - 1);
	memset(b + sizeof pre - 1, 'p', pad);
	memcpy(b + sizeof pre - 1 + pad, "\n\nbody", 7);
	return b;
}

Test(cgihdr, head_up_to_the_limit)
{
	char *b = head_of(CGI_MAX_HEAD);

	cr_expect_eq(cgi_head_parse(b, strlen(b), &h, &e), 1, "%s", e.msg);
	cr_expect_eq(h.head_len, (size_t)CGI_MAX_HEAD);
	free(b);
}

Test(cgihdr, head_over_the_limit)
{
	char *b = head_of(CGI_MAX_HEAD + 1);

	cr_expect_eq(cgi_head_parse(b, strlen(b), &h, &e), -1);
	cr_expect_not_null(strstr(e.msg, "longer than"), "%s", e.msg);
	free(b);
}

Test(cgihdr, unterminated_at_the_limit)
{
	char *b = malloc(CGI_MAX_HEAD + 100);
	size_t n;

	cr_assert_not_null(b);
	/* one endless line: need more until CGI_MAX_HEAD bytes, then malformed */
	memset(b, 'x', CGI_MAX_HEAD + 100);
	memcpy(b, "X-Long: ", 8);
	cr_expect_eq(cgi_head_parse(b, CGI_MAX_HEAD - 1, &h, &e), 0);
	cr_expect_eq(cgi_head_parse(b, CGI_MAX_HEAD, &h, &e), -1);
	cr_expect_not_null(strstr(e.msg, "longer than"), "%s", e.msg);
	/* many complete lines but no blank one: the same (dropped fields, so
	 * that the field count limit does not come first) */
	for (n = 0; n + 8 <= CGI_MAX_HEAD + 100; n += 8)
		memcpy(b + n, "TE: xx\r\n", 8);
	cr_expect_eq(cgi_head_parse(b, CGI_MAX_HEAD - 8, &h, &e), 0);
	cr_expect_eq(cgi_head_parse(b, CGI_MAX_HEAD + 16, &h, &e), -1);
	cr_expect_not_null(strstr(e.msg, "longer than"), "%s", e.msg);
	free(b);
}

Test(cgihdr, null_err_is_allowed)
{
	cr_expect_eq(cgi_head_parse("bad\n\n", 5, &h, NULL), -1);
	cr_expect_eq(cgi_head_parse("Status: 200\n\n", 13, &h, NULL), 1);
}
