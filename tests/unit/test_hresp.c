/*
 * test_hresp.c: the origin-response head parser and the chunked decoder.
 * Heads as real servers send them (nginx-like, chunked, close-delimited,
 * 304, interim 1xx then the final answer), every malformed class the
 * parser refuses, the framing rules of RFC 9112 6.3 (duplicate
 * Content-Length, Transfer-Encoding with Content-Length, Connection,
 * HTTP/1.0 keep-alive) and the size limits.  The chunked decoder is fed
 * whole, byte by byte and in random splits from a fixed seed, and must
 * decode the same every way.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hresp.h"

TestSuite(hresp, .timeout = 30);

static struct hresp r;
static struct err e;

static int
parse_n(const char *s, size_t n)
{
	memset(&e, 0, sizeof e);
	return hresp_parse(s, n, &r, &e);
}

static int
parse(const char *s)
{
	return parse_n(s, strlen(s));
}

static bool
span_is(const char *p, size_t len, const char *want)
{
	return p != NULL && len == strlen(want) && memcmp(p, want, len) == 0;
}

/* The value of the first field named name, as a string ("" for absent). */
static const char *
value(const char *name)
{
	static char buf[256];
	const struct hresp_field *f = hresp_get(&r, name);

	if (f == NULL)
		return "";
	snprintf(buf, sizeof buf, "%.*s", (int)f->vlen, f->value);
	return buf;
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

static void
expect_ok(const char *s)
{
	int rc = parse(s);

	cr_expect_eq(rc, 1, "want 1 for [%s], got %d (%s)", s, rc, e.msg);
}

/* Every strict prefix of a complete head needs more; the whole parses. */
static void
expect_prefixes_need_more(const char *s)
{
	size_t n = strlen(s), i;

	cr_assert_eq(parse(s), 1, "[%s]: %s", s, e.msg);
	n = r.head_len;
	for (i = 0; i < n; i++)
		cr_expect_eq(parse_n(s, i), 0, "prefix %zu of [%s]: %s", i, s, e.msg);
}

Test(hresp, nginx_like)
{
	const char *s = "HTTP/1.1 200 OK\r\n"
	                "Server: nginx/1.22.1\r\n"
	                "Date: Sat, 28 Nov 2026 10:00:00 GMT\r\n"
	                "Content-Type: text/html\r\n"
	                "Content-Length: 615\r\n"
	                "Last-Modified: Tue, 11 Apr 2023 01:45:34 GMT\r\n"
	                "Connection: keep-alive\r\n"
	                "ETag: \"6434bbbe-267\"\r\n"
	                "Accept-Ranges: bytes\r\n"
	                "\r\n"
	                "<!DOCTYPE html>";

	cr_assert_eq(parse(s), 1, "%s", e.msg);
	cr_expect_eq(r.minor, 1);
	cr_expect_eq(r.status, 200);
	cr_expect(span_is(r.reason, r.reason_len, "OK"));
	cr_expect_eq(r.nfields, 8);
	cr_expect_str_eq(s + r.head_len, "<!DOCTYPE html>");
	cr_expect(span_is(r.fields[0].name, r.fields[0].nlen, "Server"));
	cr_expect(span_is(r.fields[0].value, r.fields[0].vlen, "nginx/1.22.1"));
	cr_expect_str_eq(value("etag"), "\"6434bbbe-267\"");
	cr_expect_str_eq(value("CONTENT-TYPE"), "text/html");
	cr_expect(r.has_content_length);
	cr_expect_eq(r.content_length, 615);
	cr_expect_not(r.chunked);
	cr_expect_not(r.close_delimited);
	cr_expect_not(r.te_and_cl);
	cr_expect_not(r.conn_close);
	cr_expect(r.keep_alive);
	cr_expect_eq(hresp_body(&r, false), HRESP_BODY_LENGTH);
	cr_expect_eq(hresp_body(&r, true), HRESP_BODY_NONE);
	cr_expect(hresp_reusable(&r, false));
	expect_prefixes_need_more(s);
}

Test(hresp, te_chunked_head)
{
	const char *s = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\n"
	                "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n"
	                "Vary: Accept-Encoding\r\n\r\n1a\r\n";

	cr_assert_eq(parse(s), 1, "%s", e.msg);
	cr_expect(r.chunked);
	cr_expect_not(r.has_content_length);
	cr_expect_not(r.close_delimited);
	cr_expect_eq(hresp_body(&r, false), HRESP_BODY_CHUNKED);
	cr_expect(hresp_reusable(&r, false));
	cr_expect_str_eq(s + r.head_len, "1a\r\n");
	expect_prefixes_need_more(s);

	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"), 1);
	cr_expect(r.chunked);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
	                   "Transfer-Encoding: chunked\r\n\r\n"), 1);
	cr_expect(r.chunked);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked ,\r\n\r\n"), 1);
	cr_expect(r.chunked);
}

Test(hresp, close_delimited)
{
	/* neither field: the body runs to the close */
	cr_assert_eq(parse("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello"), 1);
	cr_expect_eq(r.minor, 0);
	cr_expect(r.close_delimited);
	cr_expect(r.conn_close);
	cr_expect_eq(hresp_body(&r, false), HRESP_BODY_CLOSE);
	cr_expect_not(hresp_reusable(&r, false));
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n"), 1);
	cr_expect(r.close_delimited);
	cr_expect_not(r.conn_close);
	cr_expect_not(hresp_reusable(&r, false));
	/* a transfer coding other than chunked last (RFC 9112 6.3 rule 4) */
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), 1);
	cr_expect(r.close_delimited);
	cr_expect_not(r.chunked);
	cr_expect_eq(hresp_body(&r, false), HRESP_BODY_CLOSE);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), 1);
	cr_expect(r.close_delimited);
	cr_expect_not(r.chunked);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	                   "Transfer-Encoding: identity\r\n\r\n"), 1);
	cr_expect(r.close_delimited);
	cr_expect_not(r.chunked);
}

Test(hresp, not_modified_and_no_content)
{
	const char *s = "HTTP/1.1 304 Not Modified\r\nDate: Sat, 28 Nov 2026 10:00:00 GMT\r\n"
	                "ETag: \"abc\"\r\nCache-Control: max-age=60\r\n\r\n"
	                "HTTP/1.1 200 OK\r\n";

	cr_assert_eq(parse(s), 1, "%s", e.msg);
	cr_expect_eq(r.status, 304);
	cr_expect_str_eq(s + r.head_len, "HTTP/1.1 200 OK\r\n");
	cr_expect(hresp_no_body(r.status, false));
	cr_expect_eq(hresp_body(&r, false), HRESP_BODY_NONE);
	cr_expect(hresp_reusable(&r, false));
	/* a 304 may carry the Content-Length of the representation */
	cr_assert_eq(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n"), 1);
	cr_expect_eq(hresp_body(&r, false), HRESP_BODY_NONE);
	cr_assert_eq(parse("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"), 1);
	cr_expect_eq(hresp_body(&r, false), HRESP_BODY_NONE);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 1);
	cr_expect_eq(hresp_body(&r, false), HRESP_BODY_LENGTH);
	cr_expect_eq(r.content_length, 0);
}

Test(hresp, no_body_rule)
{
	cr_expect(hresp_no_body(100, false));
	cr_expect(hresp_no_body(101, false));
	cr_expect(hresp_no_body(103, false));
	cr_expect(hresp_no_body(199, false));
	cr_expect(hresp_no_body(204, false));
	cr_expect(hresp_no_body(304, false));
	cr_expect(hresp_no_body(200, true));
	cr_expect(hresp_no_body(404, true));
	cr_expect_not(hresp_no_body(200, false));
	cr_expect_not(hresp_no_body(205, false));
	cr_expect_not(hresp_no_body(301, false));
	cr_expect_not(hresp_no_body(404, false));
	cr_expect_not(hresp_no_body(500, false));
	/* HEAD: no body even with chunked or close-delimited framing */
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), 1);
	cr_expect_eq(hresp_body(&r, true), HRESP_BODY_NONE);
	cr_expect(hresp_reusable(&r, true));
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\n\r\n"), 1);
	cr_expect_eq(hresp_body(&r, true), HRESP_BODY_NONE);
	cr_expect(hresp_reusable(&r, true));
	cr_expect_not(hresp_reusable(&r, false));
}

Test(hresp, interim_then_final)
{
	const char *s = "HTTP/1.1 100 Continue\r\n\r\n"
	                "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n"
	                "Link: </script.js>; rel=preload; as=script\r\n\r\n"
	                "HTTP/1.1 201 Created\r\nLocation: /x/1\r\nContent-Length: 2\r\n\r\nok";
	unsigned seen[4];
	size_t off = 0, n = 0;

	/* the caller's loop from hresp.h */
	for (;;) {
		cr_assert_eq(parse(s + off), 1, "at %zu: %s", off, e.msg);
		cr_assert_lt(n, 4);
		seen[n++] = r.status;
		if (r.status / 100 != 1 || r.status == 101)
			break;
		cr_expect_eq(hresp_body(&r, false), HRESP_BODY_NONE);
		if (r.status == 103) {
			const struct hresp_field *f = hresp_next(&r, "link", NULL);

			cr_assert_not_null(f);
			cr_expect(span_is(f->value, f->vlen, "</style.css>; rel=preload; as=style"));
			f = hresp_next(&r, "link", f);
			cr_assert_not_null(f);
			cr_expect(span_is(f->value, f->vlen, "</script.js>; rel=preload; as=script"));
			cr_expect_null(hresp_next(&r, "link", f));
		}
		off += r.head_len;
	}
	cr_assert_eq(n, 3);
	cr_expect_eq(seen[0], 100);
	cr_expect_eq(seen[1], 103);
	cr_expect_eq(seen[2], 201);
	cr_expect_eq(hresp_body(&r, false), HRESP_BODY_LENGTH);
	cr_expect_str_eq(s + off + r.head_len, "ok");
	/* 101 is final for the loop, and never reusable */
	cr_assert_eq(parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                   "Connection: Upgrade\r\n\r\n"), 1);
	cr_expect_not(hresp_reusable(&r, false));
}

Test(hresp, status_line_forms)
{
	cr_assert_eq(parse("HTTP/1.1 200\r\n\r\n"), 1, "%s", e.msg);
	cr_expect_eq(r.status, 200);
	cr_expect_not_null(r.reason);
	cr_expect_eq(r.reason_len, 0);
	cr_assert_eq(parse("HTTP/1.1 200 \r\n\r\n"), 1, "%s", e.msg);
	cr_expect_eq(r.reason_len, 0);
	cr_assert_eq(parse("HTTP/1.1 404 Not  Found\there \r\n\r\n"), 1, "%s", e.msg);
	cr_expect(span_is(r.reason, r.reason_len, "Not  Found\there "));
	cr_assert_eq(parse("HTTP/1.0 503 Service Unavailable\r\n\r\n"), 1);
	cr_expect_eq(r.minor, 0);
	cr_expect_eq(r.status, 503);
	cr_assert_eq(parse("HTTP/1.1 200 D\xc3\xa9j\xc3\xa0 vu\r\n\r\n"), 1); /* obs-text */
	cr_assert_eq(parse("HTTP/1.1 100 Continue\r\n\r\n"), 1);
	cr_assert_eq(parse("HTTP/1.1 599 x\r\n\r\n"), 1);
	cr_assert_eq(parse("HTTP/1.1 299 x\r\n\r\n"), 1);
	expect_prefixes_need_more("HTTP/1.1 200\r\n\r\n");
}

Test(hresp, status_line_malformed)
{
	expect_bad("HTTP/1.2 200 OK\r\n\r\n", "not an HTTP/1.0 or HTTP/1.1 response");
	expect_bad("HTTP/2 200 OK\r\n\r\n", "not an HTTP");
	expect_bad("HTTP/2.0 200 OK\r\n\r\n", "not an HTTP");
	expect_bad("http/1.1 200 OK\r\n\r\n", "not an HTTP");
	expect_bad("HTTP/1.10 200 OK\r\n\r\n", "not an HTTP");
	expect_bad(" HTTP/1.1 200 OK\r\n\r\n", "not an HTTP");
	expect_bad("\r\nHTTP/1.1 200 OK\r\n\r\n", "not an HTTP");
	expect_bad("HTTP/1.1  200 OK\r\n\r\n", "status code is not three digits");
	expect_bad("HTTP/1.1 20 OK\r\n\r\n", "status code is not three digits");
	expect_bad("HTTP/1.1 2000 OK\r\n\r\n", "status code is not three digits");
	expect_bad("HTTP/1.1 20x OK\r\n\r\n", "status code is not three digits");
	expect_bad("HTTP/1.1 200\tOK\r\n\r\n", "status code is not three digits");
	expect_bad("HTTP/1.1 200OK\r\n\r\n", "status code is not three digits");
	expect_bad("HTTP/1.1 099 Low\r\n\r\n", "out of range");
	expect_bad("HTTP/1.1 000 Zero\r\n\r\n", "out of range");
	expect_bad("HTTP/1.1 600 High\r\n\r\n", "out of range");
	expect_bad("HTTP/1.1 999 High\r\n\r\n", "out of range");
	expect_bad("HTTP/1.1\r\n\r\n", "not an HTTP");
	expect_bad("HTTP/1.1 \r\n\r\n", "malformed status line");
	expect_bad("HTTP/1.1 2\r\n\r\n", "malformed status line");
	expect_bad("HTTP/1.1 200 O\x01K\r\n\r\n", "control character 0x01 in the reason");
	expect_bad("HTTP/1.1 200 O\x7fK\r\n\r\n", "control character 0x7f");
	{
		static const char nul[] = "HTTP/1.1 200 O\0K\r\n\r\n";

		cr_expect_eq(parse_n(nul, sizeof nul - 1), -1);
		cr_expect_not_null(strstr(e.msg, "NUL in the reason"), "%s", e.msg);
	}
	expect_bad("HTTP/1.1 200 O\rK\r\n\r\n", "CR not followed by LF");
	/* a non-HTTP peer is refused from its first bytes */
	expect_bad("SSH-2.0-OpenSSH", "not an HTTP");
	expect_bad("ICY", "not an HTTP");
	expect_bad("\x15\x03\x03", "not an HTTP");
	expect_bad("HTTP/1.1-", "not an HTTP");
}

Test(hresp, incomplete_needs_more)
{
	static const char *partial[] = {
		"", "H", "HTTP/1.", "HTTP/1.1", "HTTP/1.1 ", "HTTP/1.1 200 OK",
		"HTTP/1.1 200 OK\r", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nServer: x",
		"HTTP/1.1 200 OK\r\nServer: x\r\n", "HTTP/1.1 200 OK\r\nServer: x\r\n\r",
		"HTTP/1.1 200 OK\nServer: x\n",
		/* malformed lines are only judged once the head is complete */
		"HTTP/1.1 2x0 OK\r\nServer : x\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof partial / sizeof partial[0]; i++)
		cr_expect_eq(parse(partial[i]), 0, "[%s]: %s", partial[i], e.msg);
}

Test(hresp, line_ends)
{
	const char *s = "HTTP/1.1 200 OK\nServer: a\nContent-Length: 3\n\nabc";

	cr_assert_eq(parse(s), 1, "%s", e.msg);
	cr_expect_str_eq(s + r.head_len, "abc");
	cr_expect_str_eq(value("server"), "a");
	cr_expect_eq(r.content_length, 3);
	expect_prefixes_need_more(s);
	s = "HTTP/1.1 200 OK\r\nServer: a\nX: b\r\n\nrest";
	cr_assert_eq(parse(s), 1, "%s", e.msg);
	cr_expect_str_eq(s + r.head_len, "rest");
	cr_expect_str_eq(value("x"), "b");
	s = "HTTP/1.1 200 OK\nX: b\n\r\nrest";
	cr_assert_eq(parse(s), 1, "%s", e.msg);
	cr_expect_str_eq(s + r.head_len, "rest");
	expect_prefixes_need_more("HTTP/1.1 200 OK\r\nServer: a\nX: b\r\n\n");
	expect_bad("HTTP/1.1 200 OK\r\nX: a\r\r\n\r\n", "CR not followed by LF");
	expect_bad("HTTP/1.1 200 OK\r\r\n\r\n", "CR not followed by LF");
	expect_bad("HTTP/1.1 200 OK\r\nX: a\rY: b\r\n\r\n", "CR not followed by LF");
	expect_bad("HTTP/1.1 200 OK\r\n\rX: a\r\n\r\n", "header field name");
}

Test(hresp, field_values)
{
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nX-A:   a b \t\r\nX-B:\r\nX-C:\t \r\n"
	                   "X-D:\tx\ty\r\nX-E: caf\xc3\xa9\r\nX-F:v\r\n\r\n"), 1, "%s", e.msg);
	cr_expect_str_eq(value("x-a"), "a b");
	cr_expect(span_is(hresp_get(&r, "x-b")->value, hresp_get(&r, "x-b")->vlen, ""));
	cr_expect_eq(hresp_get(&r, "x-c")->vlen, 0);
	cr_expect_str_eq(value("x-d"), "x\ty");
	cr_expect_str_eq(value("x-e"), "caf\xc3\xa9");
	cr_expect_str_eq(value("x-f"), "v");
	cr_expect_eq(r.nfields, 6);
	/* a ':' in the value is just a byte of it */
	cr_assert_eq(parse("HTTP/1.1 302 Found\r\nLocation: https://a.test:8443/x\r\n\r\n"), 1);
	cr_expect_str_eq(value("location"), "https://a.test:8443/x");
	/* all token characters are allowed in a name */
	expect_ok("HTTP/1.1 200 OK\r\n!#$%&'*+-.^_`|~09azAZ: x\r\n\r\n");
}

Test(hresp, field_malformed)
{
	expect_bad("HTTP/1.1 200 OK\r\nServer : x\r\n\r\n", "whitespace between field name and ':'");
	expect_bad("HTTP/1.1 200 OK\r\nServer\t: x\r\n\r\n", "whitespace between");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", "whitespace between");
	expect_bad("HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n", "obs-fold");
	expect_bad("HTTP/1.1 200 OK\r\nX-A: a\r\n\tb\r\n\r\n", "obs-fold");
	expect_bad("HTTP/1.1 200 OK\r\n Server: x\r\n\r\n", "obs-fold");
	expect_bad("HTTP/1.1 200 OK\r\nServer x\r\n\r\n", "without ':'");
	expect_bad("HTTP/1.1 200 OK\r\n: x\r\n\r\n", "empty header field name");
	expect_bad("HTTP/1.1 200 OK\r\nX y: z\r\n\r\n", "bad character in header field name");
	expect_bad("HTTP/1.1 200 OK\r\nX(y): z\r\n\r\n", "bad character");
	expect_bad("HTTP/1.1 200 OK\r\nX\"y: z\r\n\r\n", "bad character");
	expect_bad("HTTP/1.1 200 OK\r\nX\xc3\xa9: z\r\n\r\n", "bad character");
	expect_bad("HTTP/1.1 200 OK\r\nX: a\x01" "b\r\n\r\n", "control character 0x01");
	expect_bad("HTTP/1.1 200 OK\r\nX: a\x1f\r\n\r\n", "control character 0x1f");
	expect_bad("HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n", "control character 0x7f");
	expect_bad("HTTP/1.1 200 OK\r\nX: \x0b\r\n\r\n", "control character 0x0b");
	expect_bad("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "CR not followed by LF");
	{
		static const char nul[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n";

		cr_expect_eq(parse_n(nul, sizeof nul - 1), -1);
		cr_expect_not_null(strstr(e.msg, "NUL in a header field value"), "%s", e.msg);
		cr_expect_eq(parse_n(nul, 21), 0); /* still incomplete */
	}
}

Test(hresp, content_length_rules)
{
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n"), 1, "%s", e.msg);
	cr_expect(r.has_content_length);
	cr_expect_eq(r.content_length, 5);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length:5\r\n\r\n"), 1);
	cr_expect_eq(r.content_length, 5);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 5,5 ,  5\r\nContent-Length: 5\r\n"
	                   "\r\n"), 1);
	cr_expect_eq(r.content_length, 5);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n"), 1);
	cr_expect_eq(r.content_length, 7);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 5, 005\r\n\r\n"), 1);
	cr_expect_eq(r.content_length, 5);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n"), 1);
	cr_expect_eq(r.content_length, 9223372036854775807ULL);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 1);
	cr_expect(r.has_content_length);
	cr_expect_not(r.close_delimited);

	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	           "conflicting Content-Length");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", "conflicting");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 50\r\n\r\n",
	           "conflicting");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "empty Content-Length");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\n", "empty Content-Length");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 5,,5\r\n\r\n", "empty Content-Length");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", "malformed Content-Length");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "malformed");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", "malformed");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\n", "malformed");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 5;q\r\n\r\n", "malformed");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: \"5\"\r\n\r\n", "malformed");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n", "malformed");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n",
	           "out of range");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n",
	           "out of range");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\n",
	           "out of range");
	/* Content-Length counts in a 304 too: a bad one is still refused */
	expect_bad("HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n", "malformed");
}

Test(hresp, transfer_encoding_and_content_length)
{
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
	                   "Transfer-Encoding: chunked\r\n\r\n"), 1, "%s", e.msg);
	cr_expect(r.te_and_cl);
	cr_expect(r.chunked);
	cr_expect_not(r.has_content_length);
	cr_expect_eq(r.content_length, 0);
	cr_expect_eq(hresp_body(&r, false), HRESP_BODY_CHUNKED);
	cr_expect_not(hresp_reusable(&r, false));
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	                   "Content-Length: 10\r\n\r\n"), 1, "%s", e.msg);
	cr_expect(r.te_and_cl);
	cr_expect(r.chunked);
	cr_expect_not(r.has_content_length);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
	                   "Content-Length: 10\r\n\r\n"), 1, "%s", e.msg);
	cr_expect(r.te_and_cl);
	cr_expect(r.close_delimited);
	cr_expect_eq(hresp_body(&r, false), HRESP_BODY_CLOSE);
	/* the ignored Content-Length must still be well formed */
	expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1x\r\n\r\n",
	           "malformed Content-Length");
	expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1, 2\r\n\r\n",
	           "conflicting");
}

Test(hresp, transfer_encoding_malformed)
{
	expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
	           "chunked applied more than once");
	expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	           "Transfer-Encoding: chunked\r\n\r\n", "more than once");
	expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip, chunked\r\n\r\n",
	           "more than once");
	expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", "empty Transfer-Encoding");
	expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: , ,\r\n\r\n", "empty Transfer-Encoding");
	expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: \"chunked\"\r\n\r\n",
	           "malformed Transfer-Encoding");
	expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", "malformed");
	expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip chunked\r\n\r\n", "malformed");
	expect_bad("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	           "Transfer-Encoding in an HTTP/1.0 response");
	expect_bad("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
	           "HTTP/1.0");
	/* "xchunked" is some other coding: close-delimited */
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n"), 1);
	cr_expect_not(r.chunked);
	cr_expect(r.close_delimited);
}

Test(hresp, connection_tokens)
{
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n"), 1);
	cr_expect(r.conn_close);
	cr_expect_not(hresp_reusable(&r, false));
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\n"
	                   "Content-Length: 1\r\n\r\n"), 1);
	cr_expect(r.conn_close);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: Close\r\n"
	                   "Content-Length: 1\r\n\r\n"), 1);
	cr_expect(r.conn_close);
	cr_expect(r.keep_alive);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nConnection: ,  ,close,\r\n\r\n"), 1);
	cr_expect(r.conn_close);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nConnection: closed, x-close\r\n"
	                   "Content-Length: 1\r\n\r\n"), 1);
	cr_expect_not(r.conn_close);
	cr_expect(hresp_reusable(&r, false));
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nConnection:\r\nContent-Length: 1\r\n\r\n"), 1);
	cr_expect_not(r.conn_close);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nX-Connection: close\r\nContent-Length: 1\r\n\r\n"),
	             1);
	cr_expect_not(r.conn_close);
	expect_bad("HTTP/1.1 200 OK\r\nConnection: keep alive\r\n\r\n", "malformed Connection");
	expect_bad("HTTP/1.1 200 OK\r\nConnection: \"close\"\r\n\r\n", "malformed Connection");
}

Test(hresp, http10_keep_alive)
{
	cr_assert_eq(parse("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n"), 1);
	cr_expect(r.conn_close);
	cr_expect_not(hresp_reusable(&r, false));
	cr_assert_eq(parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
	                   "Keep-Alive: timeout=5, max=100\r\nContent-Length: 2\r\n\r\n"), 1);
	cr_expect_not(r.conn_close);
	cr_expect(r.keep_alive);
	cr_expect(hresp_reusable(&r, false));
	/* keep-alive but no length: the close still ends the body */
	cr_assert_eq(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n"), 1);
	cr_expect_not(r.conn_close);
	cr_expect(r.close_delimited);
	cr_expect_not(hresp_reusable(&r, false));
	cr_assert_eq(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n"
	                   "Content-Length: 2\r\n\r\n"), 1);
	cr_expect(r.conn_close);
	/* a Keep-Alive field alone is not the Connection token */
	cr_assert_eq(parse("HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\n"),
	             1);
	cr_expect(r.conn_close);
	cr_assert_eq(parse("HTTP/1.0 304 Not Modified\r\nConnection: keep-alive\r\n\r\n"), 1);
	cr_expect(hresp_reusable(&r, false));
}

Test(hresp, get_and_next)
{
	const struct hresp_field *f;
	int n = 0;

	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX: y\r\nset-cookie: b=2\r\n"
	                   "SET-COOKIE: c=3\r\nContent-Length: 0\r\n\r\n"), 1);
	cr_expect_str_eq(value("Set-Cookie"), "a=1");
	cr_expect_null(hresp_get(&r, "Set-Cookie2"));
	cr_expect_null(hresp_get(&r, "Set"));
	cr_expect_null(hresp_get(&r, ""));
	for (f = hresp_next(&r, "set-cookie", NULL); f != NULL; f = hresp_next(&r, "set-cookie", f)) {
		static const char *want[] = { "a=1", "b=2", "c=3" };

		cr_assert_lt(n, 3);
		cr_expect(span_is(f->value, f->vlen, want[n]), "cookie %d", n);
		n++;
	}
	cr_expect_eq(n, 3);
	f = hresp_get(&r, "x");
	cr_assert_not_null(f);
	cr_expect_eq(f, &r.fields[1]);
	cr_expect_null(hresp_next(&r, "x", f));
}

/* A head "HTTP/1.1 200 OK\r\n" + n fields "X-nnnn: v\r\n" + "\r\n". */
static char *
many_fields(size_t n)
{
	char *s = malloc(32 + n * 16), *p = s;
	size_t i;

	p += sprintf(p, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < n; i++)
		p += sprintf(p, "X-%04zu: v\r\n", i);
	strcpy(p, "\r\n");
	return s;
}

Test(hresp, field_count_limit)
{
	char *s = many_fields(HRESP_MAX_FIELDS);

	cr_expect_eq(parse(s), 1, "%s", e.msg);
	cr_expect_eq(r.nfields, HRESP_MAX_FIELDS);
	free(s);
	s = many_fields(HRESP_MAX_FIELDS + 1);
	expect_bad(s, "more than 128 header fields");
	free(s);
	/* blank-valued and repeated fields count too */
	s = many_fields(1000);
	expect_bad(s, "more than 128");
	free(s);
}

/* A head of exactly n bytes: one long field pads it. */
static char *
head_of(size_t n, size_t extra)
{
	static const char pre[] = "HTTP/1.1 200 OK\r\nX: ", post[] = "\r\n\r\n";
	char *s = malloc(n + extra + 1);
	size_t pad = n - (sizeof pre - 1) - (sizeof post - 1);

	memcpy(s, pre, sizeof pre - 1);
	memset(s + sizeof pre - 1, 'a', pad);
	memcpy(s + sizeof pre - 1 + pad, post, sizeof post - 1);
	memset(s + n, 'b', extra); /* a body after the head */
	s[n + extra] = '\0';
	return s;
}

Test(hresp, head_size_limit)
{
	char *s = head_of(HRESP_MAX_HEAD, 0);

	cr_expect_eq(parse(s), 1, "%s", e.msg);
	cr_expect_eq(r.head_len, HRESP_MAX_HEAD);
	cr_expect_eq(parse_n(s, HRESP_MAX_HEAD - 1), 0);
	free(s);
	s = head_of(HRESP_MAX_HEAD, 100000); /* the body may run past the limit */
	cr_expect_eq(parse(s), 1, "%s", e.msg);
	cr_expect_eq(r.head_len, HRESP_MAX_HEAD);
	free(s);
	s = head_of(HRESP_MAX_HEAD + 1, 0);
	expect_bad(s, "longer than 65536 bytes");
	cr_expect_eq(parse_n(s, HRESP_MAX_HEAD - 1), 0);
	cr_expect_eq(parse_n(s, HRESP_MAX_HEAD), -1); /* it can no longer fit */
	free(s);
	s = head_of(200000, 0);
	expect_bad(s, "longer than");
	free(s);
	s = head_of(HRESP_MAX_HEAD - 10, 0);
	expect_prefixes_need_more(s);
	free(s);
}

Test(hresp, error_record_untouched_on_success)
{
	struct err e2 = { 0, "" };

	cr_expect_eq(hresp_parse("HTTP/1.1 200 OK\r\n\r\n", 19, &r, &e2), 1);
	cr_expect_eq(e2.code, 0);
	cr_expect_eq(hresp_parse("HTTP/1.1 200 OK\r\n", 17, &r, &e2), 0);
	cr_expect_eq(e2.code, 0);
	cr_expect_eq(hresp_parse("HTTP/1.1 2 OK\r\n\r\n", 17, &r, NULL), -1);
}

/* ---- chunked ------------------------------------------------------------ */

/* Decode in[0..len), fed in pieces of step bytes (0: all at once; SIZE_MAX:
 * sizes from *seed), into out.  Returns the last result; *used is where the
 * decoder stopped (the end of the body after 1).  Checks the feed contract
 * on every call. */
static int
decode(const char *in, size_t len, size_t step, unsigned *seed, char *out, size_t *outn,
       size_t *used, struct hchunk *c, struct err *err)
{
	size_t off = 0;
	int rc = 0;

	hchunk_init(c);
	*outn = 0;
	do {
		size_t piece = len - off, pos = 0;

		if (step == SIZE_MAX) {
			*seed = *seed * 1103515245u + 12345u;
			piece = 1 + (*seed >> 16) % 23;
		} else if (step > 0) {
			piece = step;
		}
		if (piece > len - off)
			piece = len - off;
		do { /* the caller loop: until this piece is used up */
			const char *o;
			size_t n, olen;

			rc = hchunk_feed(c, in + off + pos, piece - pos, &n, &o, &olen, err);
			if (rc < 0) {
				*used = off + pos + n;
				return -1;
			}
			cr_assert_leq(n, piece - pos);
			if (rc == 0 && piece - pos > 0)
				cr_assert_gt(n, 0, "no progress at %zu", off + pos);
			if (olen > 0) {
				cr_assert_eq(o + olen, in + off + pos + n, "span does not end at consumed");
				memcpy(out + *outn, o, olen);
				*outn += olen;
			} else {
				cr_assert_null(o);
			}
			pos += n;
			if (rc == 1) {
				*used = off + pos;
				return 1;
			}
		} while (pos < piece);
		off += piece;
	} while (off < len);
	*used = off;
	return rc;
}

static int
decode_str(const char *in, size_t step, char *out, size_t *outn, size_t *used)
{
	struct hchunk c;
	unsigned seed = 1;

	memset(&e, 0, sizeof e);
	return decode(in, strlen(in), step, &seed, out, outn, used, &c, &e);
}

/* Expect in to decode to want, ending with 1 at *rest, every way it is fed. */
static void
chunk_ok(const char *in, const char *want, const char *rest)
{
	static const size_t steps[] = { 0, 1, 2, 3, 7, SIZE_MAX };
	char out[4096];
	size_t i, outn, used;

	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		int rc = decode_str(in, steps[i], out, &outn, &used);

		cr_expect_eq(rc, 1, "[%s] step %zu: rc %d (%s)", in, steps[i], rc, e.msg);
		cr_expect_eq(outn, strlen(want), "[%s] step %zu: %zu bytes", in, steps[i], outn);
		cr_expect(outn == strlen(want) && memcmp(out, want, outn) == 0, "[%s] step %zu: '%.*s'",
		          in, steps[i], (int)outn, out);
		cr_expect_str_eq(in + used, rest, "[%s] step %zu", in, steps[i]);
	}
}

/* Expect in to fail with a message mentioning want, every way it is fed. */
static void
chunk_bad(const char *in, const char *want)
{
	static const size_t steps[] = { 0, 1, 5, SIZE_MAX };
	char out[4096];
	size_t i, outn, used, first_used = 0;

	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		int rc = decode_str(in, steps[i], out, &outn, &used);

		cr_expect_eq(rc, -1, "[%s] step %zu: rc %d", in, steps[i], rc);
		cr_expect_not_null(strstr(e.msg, want), "[%s]: '%s' lacks '%s'", in, e.msg, want);
		if (i == 0)
			first_used = used;
		cr_expect_eq(used, first_used, "[%s] step %zu fails elsewhere", in, steps[i]);
	}
}

/* Expect in to be a valid but unfinished chunked body. */
static void
chunk_more(const char *in)
{
	char out[4096];
	size_t outn, used;

	cr_expect_eq(decode_str(in, 0, out, &outn, &used), 0, "[%s]: %s", in, e.msg);
	cr_expect_eq(decode_str(in, 1, out, &outn, &used), 0, "[%s]: %s", in, e.msg);
}

Test(hresp, chunked_normal)
{
	chunk_ok("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", "");
	chunk_ok("5\r\nhello\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n", "hello", "HTTP/1.1 200 OK\r\n");
	chunk_ok("0\r\n\r\n", "", "");
	chunk_ok("000\r\n\r\nx", "", "x");
	chunk_ok("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij", "");
	chunk_ok("1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n", "\r\n", ""); /* CR and LF as data */
	chunk_ok("0005\r\nhello\r\n0\r\n\r\n", "hello", "");
	chunk_ok("0000000000000005\r\nhello\r\n0\r\n\r\n", "hello", ""); /* 16 digits */
}

Test(hresp, chunked_binary_data)
{
	static const char in[] = "3\r\na\0b\r\n0\r\n\r\n";
	char out[16];
	size_t outn, used;
	struct hchunk c;
	unsigned seed = 3;

	cr_assert_eq(decode(in, sizeof in - 1, 1, &seed, out, &outn, &used, &c, &e), 1, "%s",
	             e.msg);
	cr_expect_eq(outn, 3);
	cr_expect_eq(memcmp(out, "a\0b", 3), 0);
	cr_expect_eq(used, sizeof in - 1);
	cr_expect_eq(c.total, 3);
}

Test(hresp, chunked_extensions)
{
	chunk_ok("5;name=value\r\nhello\r\n0\r\n\r\n", "hello", "");
	chunk_ok("5;a\r\nhello\r\n0;last\r\n\r\n", "hello", "");
	chunk_ok("5 ; a = b ; c\t;d=e\r\nhello\r\n0\r\n\r\n", "hello", "");
	chunk_ok("5  \t;  a \t =  b  \t;c\r\nhello\r\n0\r\n\r\n", "hello", "");
	chunk_ok("5;a=\"x;y\\\"z\\\\\"\r\nhello\r\n0\r\n\r\n", "hello", "");
	chunk_ok("5;a=\"\"\r\nhello\r\n0\r\n\r\n", "hello", "");
	chunk_ok("5;a=\"q\" ;b\r\nhello\r\n0\r\n\r\n", "hello", "");
	chunk_ok("5;a=\"\xc3\xa9\t \"\r\nhello\r\n0\r\n\r\n", "hello", "");
	chunk_ok("5;!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~\r\nhello\r\n0\r\n\r\n", "hello", "");
	chunk_ok("5;a=b\nhello\n0;c=\"d\"\n\n", "hello", "");
}

Test(hresp, chunked_extensions_malformed)
{
	chunk_bad("5;\r\nhello\r\n0\r\n\r\n", "bad chunk extension");
	chunk_bad("5;=x\r\nhello\r\n0\r\n\r\n", "bad chunk extension");
	chunk_bad("5;a=\r\nhello\r\n0\r\n\r\n", "bad chunk extension");
	chunk_bad("5;a b\r\nhello\r\n0\r\n\r\n", "bad chunk extension");
	chunk_bad("5;a=b c\r\nhello\r\n0\r\n\r\n", "bad chunk extension");
	chunk_bad("5;a=b=c\r\nhello\r\n0\r\n\r\n", "bad chunk extension");
	chunk_bad("5;a \r\nhello\r\n0\r\n\r\n", "bad chunk extension");
	chunk_bad("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", "bad chunk extension");
	chunk_bad("5;a=\"x\r\nhello\r\n0\r\n\r\n", "quoted-string");
	chunk_bad("5;a=\"x\\\r\nhello\r\n0\r\n\r\n", "quoted-string");
	chunk_bad("5;a=\"x\x01\"\r\nhello\r\n0\r\n\r\n", "quoted-string");
	chunk_bad("5;a(b)\r\nhello\r\n0\r\n\r\n", "bad chunk extension");
	chunk_bad("5;a\x7f\r\nhello\r\n0\r\n\r\n", "bad chunk extension");
	chunk_bad("5;a\rb\r\nhello\r\n0\r\n\r\n", "CR not followed by LF");
}

Test(hresp, chunked_trailers)
{
	chunk_ok("5\r\nhello\r\n0\r\nExpires: Sat, 28 Nov 2026 10:00:00 GMT\r\n"
	         "X-Checksum: abc\r\n\r\nnext", "hello", "next");
	chunk_ok("0\r\nX:\r\n\r\n", "", "");
	chunk_ok("0\r\nX: a\tb \xc3\xa9\r\n\r\n", "", "");
	chunk_ok("0\nX: 1\nY: 2\n\nz", "", "z");
	chunk_ok("0\r\nX: 1\nY: 2\r\n\n", "", "");
	chunk_bad("0\r\n X: 1\r\n\r\n", "obs-fold");
	chunk_bad("0\r\nX: 1\r\n\tmore\r\n\r\n", "obs-fold");
	chunk_bad("0\r\nX : 1\r\n\r\n", "bad trailer field name");
	chunk_bad("0\r\nNoColon\r\n\r\n", "bad trailer field name");
	chunk_bad("0\r\n: x\r\n\r\n", "bad trailer field name");
	chunk_bad("0\r\nX: a\x01\r\n\r\n", "control character in a trailer field");
	chunk_bad("0\r\nX: a\rb\r\n\r\n", "CR not followed by LF in a trailer field");
	chunk_bad("0\r\n\rx", "CR not followed by LF after the trailer section");
	chunk_more("0\r\nX: 1\r\n");
	chunk_more("0\r\nX: 1\r\n\r");
	chunk_more("0\r\n");
}

Test(hresp, chunked_bare_lf)
{
	chunk_ok("5\nhello\n6\n world\n0\n\n", "hello world", "");
	chunk_ok("5\r\nhello\n6\n world\r\n0\n\r\n", "hello world", "");
}

Test(hresp, chunked_chunk_size_rules)
{
	chunk_bad("g\r\n", "bad chunk-size");
	chunk_bad("\r\nhello\r\n", "bad chunk-size");
	chunk_bad("\nhello\r\n", "bad chunk-size");
	chunk_bad("-5\r\nhello\r\n", "bad chunk-size");
	chunk_bad("+5\r\nhello\r\n", "bad chunk-size");
	chunk_bad("0x5\r\nhello\r\n", "bad chunk-size");
	chunk_bad(" 5\r\nhello\r\n", "bad chunk-size");
	chunk_bad(";a\r\nhello\r\n", "bad chunk-size");
	chunk_bad("5g\r\nhello\r\n", "bad chunk-size");
	chunk_bad("5 \r\nhello\r\n0\r\n\r\n", "bad chunk extension");
	chunk_bad("5 5\r\nhello\r\n", "bad chunk extension");
	chunk_bad("5\rhello\r\n", "CR not followed by LF after the chunk-size");
	chunk_bad("5\r\nhello\r\n\r\n", "bad chunk-size"); /* a blank line, no size */
	chunk_bad("5\r\nhello\r\nzz\r\n", "bad chunk-size");
}

Test(hresp, chunked_size_overflow)
{
	char out[8];
	size_t outn, used;
	struct hchunk c;
	unsigned seed = 1;

	/* 2^62 exactly is allowed: the data simply has not arrived */
	cr_expect_eq(decode("4000000000000000\r\nab", 20, 0, &seed, out, &outn, &used, &c, &e), 0);
	cr_expect_eq(outn, 2);
	cr_expect_eq(c.size, (UINT64_C(1) << 62) - 2);
	chunk_bad("4000000000000001\r\n", "chunk-size larger than 2^62");
	chunk_bad("7fffffffffffffff\r\n", "larger than 2^62");
	chunk_bad("FFFFFFFFFFFFFFFF\r\n", "larger than 2^62");
	chunk_bad("10000000000000000\r\n", "longer than 16 hex digits"); /* 2^64 */
	chunk_bad("ffffffffffffffffffffffffffffffff1\r\n", "larger than 2^62");
	chunk_bad("00000000000000001\r\n", "longer than 16 hex digits");
	chunk_bad("000000000000000000000\r\n\r\n", "longer than 16 hex digits");
}

Test(hresp, chunked_missing_crlf_after_data)
{
	chunk_bad("5\r\nhelloX\r\n0\r\n\r\n", "no CRLF after chunk data");
	chunk_bad("5\r\nhello world\r\n0\r\n\r\n", "no CRLF after chunk data");
	chunk_bad("5\r\nhello\r\r\n0\r\n\r\n", "no CRLF after chunk data");
	chunk_bad("5\r\nhello\rX", "no CRLF after chunk data");
	chunk_bad("5\r\nhello0\r\n\r\n", "no CRLF after chunk data");
	chunk_bad("3\r\nhello\r\n0\r\n\r\n", "no CRLF after chunk data"); /* size too small */
	chunk_more("5\r\nhello");
	chunk_more("5\r\nhello\r");
	chunk_more("5\r\nhel");
	chunk_more("5;a=\"b");
	chunk_more("");
}

Test(hresp, chunked_line_limit)
{
	char in[HCHUNK_MAX_LINE + 64];
	size_t k = HCHUNK_MAX_LINE - 4, outn, used; /* "1;" + k + "\r\n" = 4096 */
	char out[8];

	memcpy(in, "1;", 2);
	memset(in + 2, 'a', k);
	strcpy(in + 2 + k, "\r\nx\r\n0\r\n\r\n");
	cr_expect_eq(decode_str(in, 0, out, &outn, &used), 1, "%s", e.msg);
	cr_expect_eq(decode_str(in, 1, out, &outn, &used), 1, "%s", e.msg);
	memset(in + 2, 'a', k + 1);
	strcpy(in + 2 + k + 1, "\r\nx\r\n0\r\n\r\n");
	chunk_bad(in, "chunk-size line too long");
	/* a bare LF line end of the same length fits with one more byte of name */
	memset(in + 2, 'a', k + 1);
	strcpy(in + 2 + k + 1, "\nx\r\n0\r\n\r\n");
	cr_expect_eq(decode_str(in, 0, out, &outn, &used), 1, "%s", e.msg);
	/* the limit applies to every chunk line, the last one too */
	memcpy(in, "0;", 2);
	memset(in + 2, 'a', k + 1);
	strcpy(in + 2 + k + 1, "\r\n\r\n");
	chunk_bad(in, "chunk-size line too long");
}

Test(hresp, chunked_trailer_limit)
{
	static char in[HCHUNK_MAX_TRAILER + 64];
	char out[8];
	size_t outn, used, n;

	/* "0\r\n" then one trailer line and the blank line: exactly 16 KiB */
	n = HCHUNK_MAX_TRAILER - strlen("X: \r\n\r\n");
	strcpy(in, "0\r\nX: ");
	memset(in + 6, 'v', n);
	strcpy(in + 6 + n, "\r\n\r\n");
	cr_expect_eq(decode_str(in, 0, out, &outn, &used), 1, "%s", e.msg);
	cr_expect_eq(used, strlen(in));
	memset(in + 6, 'v', n + 1);
	strcpy(in + 6 + n + 1, "\r\n\r\n");
	chunk_bad(in, "trailer section too long");
}

Test(hresp, chunked_sticky_states)
{
	struct hchunk c;
	const char *o;
	size_t n, olen;

	hchunk_init(&c);
	cr_expect_eq(hchunk_feed(&c, "", 0, &n, &o, &olen, &e), 0);
	cr_expect_eq(n, 0);
	cr_expect_eq(hchunk_feed(&c, "z\r\n", 3, &n, &o, &olen, &e), -1);
	cr_expect_eq(hchunk_feed(&c, "0\r\n\r\n", 5, &n, &o, &olen, &e), -1);
	cr_expect_not_null(strstr(e.msg, "already failed"), "%s", e.msg);
	hchunk_init(&c);
	cr_expect_eq(hchunk_feed(&c, "0\r\n\r\nrest", 9, &n, &o, &olen, &e), 1);
	cr_expect_eq(n, 5);
	cr_expect_eq(hchunk_feed(&c, "rest", 4, &n, &o, &olen, &e), 1);
	cr_expect_eq(n, 0);
	cr_expect_eq(olen, 0);
	/* a zeroed struct is a fresh decoder too */
	memset(&c, 0, sizeof c);
	cr_expect_eq(hchunk_feed(&c, "2\r\nhi", 5, &n, &o, &olen, &e), 0);
	cr_expect_eq(olen, 2);
	cr_expect_eq(n, 5);
	cr_expect_eq(memcmp(o, "hi", 2), 0);
}

Test(hresp, chunked_one_span_per_call)
{
	static const char in[] = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
	struct hchunk c;
	const char *o;
	size_t n, olen, off = 0;

	hchunk_init(&c);
	cr_assert_eq(hchunk_feed(&c, in, sizeof in - 1, &n, &o, &olen, &e), 0);
	cr_expect(olen == 5 && memcmp(o, "hello", 5) == 0);
	cr_expect_eq(o, in + 3); /* zero-copy: a span of the input */
	off += n;
	cr_assert_eq(hchunk_feed(&c, in + off, sizeof in - 1 - off, &n, &o, &olen, &e), 0);
	cr_expect(olen == 6 && memcmp(o, " world", 6) == 0);
	off += n;
	cr_assert_eq(hchunk_feed(&c, in + off, sizeof in - 1 - off, &n, &o, &olen, &e), 1);
	cr_expect_eq(olen, 0);
	cr_expect_eq(off + n, sizeof in - 1);
	cr_expect_eq(c.total, 11);
}

/* ---- property: random bodies, random splits ------------------------------- */

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *
eol(void)
{
	return rnd(4) == 0 ? "\n" : "\r\n";
}

/* A random valid chunked body of random data into enc; the data into raw. */
static void
random_body(char *enc, size_t *enclen, char *raw, size_t *rawlen)
{
	static const char *exts[] = { "", ";a", ";a=b", " ;x=\"q\\\"t;\"", ";n=1;m=\"\"",
	                              "\t; z" };
	unsigned chunks = rnd(8), i;
	char *p = enc;

	*rawlen = 0;
	for (i = 0; i < chunks; i++) {
		unsigned size = 1 + rnd(rnd(3) == 0 ? 2000 : 40), j;

		p += sprintf(p, rnd(2) ? "%x%s%s" : "%X%s%s", size, exts[rnd(6)], eol());
		for (j = 0; j < size; j++) {
			char b = (char)rnd(256);

			*p++ = b;
			raw[(*rawlen)++] = b;
		}
		p += sprintf(p, "%s", eol());
	}
	p += sprintf(p, "%s0%s%s", rnd(3) == 0 ? "00" : "", exts[rnd(6)], eol());
	for (i = rnd(3); i > 0; i--)
		p += sprintf(p, "X-T%u: v %u%s", i, rnd(1000), eol());
	p += sprintf(p, "%s", eol());
	*enclen = (size_t)(p - enc);
}

Test(hresp, chunked_random_splits_decode_the_same)
{
	static char enc[8 * 2100 + 1024], raw[8 * 2100], out[sizeof enc];
	int round;

	for (round = 0; round < 300; round++) {
		size_t enclen, rawlen, outn, used, step;
		unsigned seed = (unsigned)round;
		struct hchunk c;

		random_body(enc, &enclen, raw, &rawlen);
		/* something after the body must be left alone */
		memcpy(enc + enclen, "HTTP/1.1", 8);
		for (step = 0; step < 4; step++) {
			size_t how = step == 0 ? 0 : step == 1 ? 1 : step == 2 ? SIZE_MAX : 4096;
			int rc = decode(enc, enclen + 8, how, &seed, out, &outn, &used, &c, &e);

			cr_assert_eq(rc, 1, "round %d feed %zu: %s", round, how, e.msg);
			cr_assert_eq(used, enclen, "round %d feed %zu", round, how);
			cr_assert_eq(outn, rawlen, "round %d feed %zu", round, how);
			cr_assert_eq(memcmp(out, raw, rawlen), 0, "round %d feed %zu", round, how);
			cr_assert_eq(c.total, rawlen);
		}
	}
}

Test(hresp, chunked_random_corruption_fails_alike)
{
	static char enc[8 * 2100 + 1024], raw[8 * 2100], out1[sizeof enc], out2[sizeof enc];
	int round;

	for (round = 0; round < 300; round++) {
		size_t enclen, rawlen, n1, n2, u1, u2;
		unsigned seed = (unsigned)round;
		struct hchunk c;
		struct err e1, e2;
		int rc1, rc2;

		random_body(enc, &enclen, raw, &rawlen);
		enc[rnd((unsigned)enclen)] = (char)rnd(256);
		rc1 = decode(enc, enclen, 0, &seed, out1, &n1, &u1, &c, &e1);
		rc2 = decode(enc, enclen, SIZE_MAX, &seed, out2, &n2, &u2, &c, &e2);
		cr_assert_eq(rc1, rc2, "round %d", round);
		cr_assert_eq(u1, u2, "round %d", round);
		cr_assert_eq(n1, n2, "round %d", round);
		cr_assert_eq(memcmp(out1, out2, n1), 0, "round %d", round);
		if (rc1 < 0)
			cr_assert_str_eq(e1.msg, e2.msg);
	}
}
