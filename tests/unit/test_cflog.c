/*
 * test_cflog.c: CloudFront standard log lines (lib/cflog.c): the header,
 * the 33 fields in CloudFront's order, "-" for empty values, the
 * URL-encoding of values that could hold blanks, tabs or non-ASCII, the
 * request-target split into stem and query, and the result types.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cflog.h"

static char *
esc(const char *s, enum cflog_esc how)
{
	static char out[1024];
	size_t n = cflog_escape(out, sizeof out - 1, s, s ? strlen(s) : 0, how);

	cr_assert_lt(n, sizeof out, "escaped value too long for the test buffer");
	out[n] = '\0';
	return out;
}

/* Split a line (without its "\n") into its tab-separated fields. */
static int
split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line, *t;

	for (;;) {
		cr_assert_lt(n, max, "more than %d fields", max);
		f[n++] = p;
		t = strchr(p, '\t');
		if (t == NULL)
			break;
		*t = '\0';
		p = t + 1;
	}
	return n;
}

static struct cflog_rec
sample(void)
{
	struct cflog_rec r;

	memset(&r, 0, sizeof r);
	r.end = 1717245296; /* 2024-06-01 12:34:56 UTC */
	r.edge_location = "edge-a";
	r.sc_bytes = 1234;
	r.c_ip = "192.0.2.10";
	r.method = "GET";
	r.host = "www.example.com";
	r.target = "/img/a b.png?size=large&x=%41";
	r.status = 200;
	r.referer = "https://ref.example/page one";
	r.user_agent = "Mozilla/5.0 (X11; \"quoted\")";
	r.cookie = "a=1; b=2";
	r.result_type = "Hit";
	r.request_id = "abc-1";
	r.host_header = "www.example.com";
	r.protocol = "https";
	r.cs_bytes = 321;
	r.time_taken_ms = 1502;
	r.forwarded_for = NULL;
	r.ssl_protocol = "TLSv1.3";
	r.ssl_cipher = "TLS_AES_128_GCM_SHA256";
	r.response_result_type = "Hit";
	r.protocol_version = "HTTP/1.1";
	r.c_port = 54321;
	r.ttfb_ms = 7;
	r.detailed_result_type = "Hit";
	r.content_type = "image/png";
	r.content_len = 1000;
	r.range_start = -1;
	r.range_end = -1;
	return r;
}

Test(cflog, header_names_33_fields_in_cloudfronts_order)
{
	const char *fields = strstr(cflog_header, "#Fields: ");
	char buf[2048];
	int n;

	cr_assert_eq(strncmp(cflog_header, "#Version: 1.0\n#Fields: ", 23), 0);
	cr_assert_not_null(fields);
	snprintf(buf, sizeof buf, "%s", fields + 9);
	cr_assert_eq(buf[strlen(buf) - 1], '\n');
	buf[strlen(buf) - 1] = '\0';
	cr_assert_eq(strcmp(buf,
		"date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem "
		"sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type "
		"x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for "
		"ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version "
		"fle-status fle-encrypted-fields c-port time-to-first-byte "
		"x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start "
		"sc-range-end"), 0, "fields line: %s", buf);
	n = 0;
	for (char *p = strtok(buf, " "); p != NULL; p = strtok(NULL, " "))
		n++;
	cr_assert_eq(n, CFLOG_NFIELDS);
	/* exactly two lines */
	cr_assert_eq(strchr(strchr(cflog_header, '\n') + 1, '\n')[1], '\0');
}

Test(cflog, line_fields_in_order)
{
	struct cflog_rec r = sample();
	char *line, *f[64];
	size_t len;
	int n;

	line = cflog_line(&r, &len);
	cr_assert_not_null(line);
	cr_assert_eq(len, strlen(line));
	cr_assert_eq(line[len - 1], '\n');
	cr_assert_null(strchr(line, '\r'));
	cr_assert_eq(strchr(line, '\n'), line + len - 1, "one line");
	line[len - 1] = '\0';
	n = split(line, f, 64);
	cr_assert_eq(n, CFLOG_NFIELDS);
	cr_assert_str_eq(f[0], "2024-06-01");
	cr_assert_str_eq(f[1], "12:34:56");
	cr_assert_str_eq(f[2], "edge-a");
	cr_assert_str_eq(f[3], "1234");
	cr_assert_str_eq(f[4], "192.0.2.10");
	cr_assert_str_eq(f[5], "GET");
	cr_assert_str_eq(f[6], "www.example.com");
	cr_assert_str_eq(f[7], "/img/a%20b.png");
	cr_assert_str_eq(f[8], "200");
	cr_assert_str_eq(f[9], "https://ref.example/page%20one");
	cr_assert_str_eq(f[10], "Mozilla/5.0%20(X11;%20%22quoted%22)");
	cr_assert_str_eq(f[11], "size=large&x=%41"); /* the viewer's encoding kept */
	cr_assert_str_eq(f[12], "a=1;%20b=2");
	cr_assert_str_eq(f[13], "Hit");
	cr_assert_str_eq(f[14], "abc-1");
	cr_assert_str_eq(f[15], "www.example.com");
	cr_assert_str_eq(f[16], "https");
	cr_assert_str_eq(f[17], "321");
	cr_assert_str_eq(f[18], "1.502");
	cr_assert_str_eq(f[19], "-");
	cr_assert_str_eq(f[20], "TLSv1.3");
	cr_assert_str_eq(f[21], "TLS_AES_128_GCM_SHA256");
	cr_assert_str_eq(f[22], "Hit");
	cr_assert_str_eq(f[23], "HTTP/1.1");
	cr_assert_str_eq(f[24], "-");
	cr_assert_str_eq(f[25], "-");
	cr_assert_str_eq(f[26], "54321");
	cr_assert_str_eq(f[27], "0.007");
	cr_assert_str_eq(f[28], "Hit");
	cr_assert_str_eq(f[29], "image/png");
	cr_assert_str_eq(f[30], "1000");
	cr_assert_str_eq(f[31], "-");
	cr_assert_str_eq(f[32], "-");
	free(line);
}

Test(cflog, empty_values_are_dashes)
{
	struct cflog_rec r;
	char *line, *f[64];
	size_t len;
	int n, i;

	memset(&r, 0, sizeof r);
	r.content_len = r.range_start = r.range_end = -1;
	r.ttfb_ms = -1;
	line = cflog_line(&r, &len);
	cr_assert_not_null(line);
	line[len - 1] = '\0';
	n = split(line, f, 64);
	cr_assert_eq(n, CFLOG_NFIELDS);
	cr_assert_str_eq(f[0], "1970-01-01");
	cr_assert_str_eq(f[1], "00:00:00");
	cr_assert_str_eq(f[3], "0");
	cr_assert_str_eq(f[7], "-", "no target: no stem");
	cr_assert_str_eq(f[8], "000", "no answer: status 000");
	cr_assert_str_eq(f[17], "0");
	cr_assert_str_eq(f[18], "0.000");
	for (i = 0; i < n; i++) {
		if (i == 0 || i == 1 || i == 3 || i == 8 || i == 17 || i == 18)
			continue;
		cr_assert_str_eq(f[i], "-", "field %d: '%s'", i + 1, f[i]);
	}
	free(line);
}

Test(cflog, range_and_numbers)
{
	struct cflog_rec r = sample();
	char *line, *f[64];
	size_t len;

	r.status = 206;
	r.content_len = 10;
	r.range_start = 0;
	r.range_end = 9;
	r.time_taken_ms = 0;
	r.ttfb_ms = 12345;
	r.sc_bytes = 18446744073709551615ULL;
	line = cflog_line(&r, &len);
	line[len - 1] = '\0';
	split(line, f, 64);
	cr_assert_str_eq(f[3], "18446744073709551615");
	cr_assert_str_eq(f[8], "206");
	cr_assert_str_eq(f[18], "0.000");
	cr_assert_str_eq(f[27], "12.345");
	cr_assert_str_eq(f[30], "10");
	cr_assert_str_eq(f[31], "0");
	cr_assert_str_eq(f[32], "9");
	free(line);
}

Test(cflog, escaping)
{
	cr_assert_str_eq(esc("", CFLOG_ESC_TEXT), "-");
	cr_assert_str_eq(esc(NULL, CFLOG_ESC_TEXT), "-");
	cr_assert_str_eq(esc("curl/8.0", CFLOG_ESC_TEXT), "curl/8.0");
	cr_assert_str_eq(esc("a b", CFLOG_ESC_TEXT), "a%20b");
	cr_assert_str_eq(esc("a\tb", CFLOG_ESC_TEXT), "a%09b");
	cr_assert_str_eq(esc("a\r\nb", CFLOG_ESC_TEXT), "a%0D%0Ab");
	cr_assert_str_eq(esc("\x01\x1f\x7f", CFLOG_ESC_TEXT), "%01%1F%7F");
	cr_assert_str_eq(esc("say \"hi\"", CFLOG_ESC_TEXT), "say%20%22hi%22");
	cr_assert_str_eq(esc("back\\slash", CFLOG_ESC_TEXT), "back%5Cslash");
	cr_assert_str_eq(esc("<>^`{|}", CFLOG_ESC_TEXT), "%3C%3E%5E%60%7B%7C%7D");
	/* UTF-8 "é" is two bytes, both encoded */
	cr_assert_str_eq(esc("caf\xc3\xa9", CFLOG_ESC_TEXT), "caf%C3%A9");
	/* header values: '%' too, so one decode gives the value back */
	cr_assert_str_eq(esc("100%", CFLOG_ESC_TEXT), "100%25");
	cr_assert_str_eq(esc("a%20b", CFLOG_ESC_TEXT), "a%2520b");
	/* URI parts: already encoded by the viewer */
	cr_assert_str_eq(esc("/a%20b", CFLOG_ESC_URI), "/a%20b");
	cr_assert_str_eq(esc("/a b\"", CFLOG_ESC_URI), "/a%20b%22");
	/* what CloudFront keeps as is */
	cr_assert_str_eq(esc("a=1;b=2&c=(x)+y,z'~*!$:@[]#", CFLOG_ESC_TEXT),
	                 "a=1;b=2&c=(x)+y,z'~*!$:@[]#");
}

Test(cflog, escape_length_and_cut)
{
	char out[16];
	size_t n;

	/* the length is always the whole escaped value's */
	cr_assert_eq(cflog_escape(NULL, 0, "a b", 3, CFLOG_ESC_TEXT), 5);
	cr_assert_eq(cflog_escape(NULL, 0, "", 0, CFLOG_ESC_TEXT), 1);
	/* a cut never leaves half an escape */
	memset(out, 'Z', sizeof out);
	n = cflog_escape(out, 4, "ab c", 4, CFLOG_ESC_TEXT);
	cr_assert_eq(n, 6);
	cr_assert_eq(memcmp(out, "abZZ", 4), 0, "got %.4s", out);
	memset(out, 'Z', sizeof out);
	n = cflog_escape(out, 5, "ab cd", 5, CFLOG_ESC_TEXT);
	cr_assert_eq(n, 7);
	cr_assert_eq(memcmp(out, "ab%20", 5), 0);
	/* nothing after the cut, even if it would fit */
	memset(out, 'Z', sizeof out);
	n = cflog_escape(out, 4, "ab\tcd", 5, CFLOG_ESC_TEXT);
	cr_assert_eq(n, 7);
	cr_assert_eq(memcmp(out, "abZZ", 4), 0);
}

static void
expect_split(const char *target, const char *stem, const char *query)
{
	const char *s, *q;
	size_t sl, ql;

	cflog_split_target(target, &s, &sl, &q, &ql);
	cr_assert_eq(sl, strlen(stem), "'%s': stem '%.*s', want '%s'", target, (int)sl, s, stem);
	cr_assert_eq(strncmp(s, stem, sl), 0, "'%s': stem '%.*s'", target, (int)sl, s);
	if (query == NULL) {
		cr_assert_null(q, "'%s': a query where there is none", target);
	} else {
		cr_assert_not_null(q, "'%s': no query", target);
		cr_assert_eq(ql, strlen(query), "'%s': query '%.*s'", target, (int)ql, q);
		cr_assert_eq(strncmp(q, query, ql), 0);
	}
}

Test(cflog, split_target)
{
	expect_split("/", "/", NULL);
	expect_split("/a/b.html", "/a/b.html", NULL);
	expect_split("/a?x=1&y=2", "/a", "x=1&y=2");
	expect_split("/a?", "/a", "");
	expect_split("/a?x=1?y", "/a", "x=1?y");
	expect_split("*", "*", NULL);
	expect_split("https://edge.test:8443/p/q?z=9", "/p/q", "z=9");
	expect_split("HTTP://edge.test", "/", NULL);
	expect_split("http://edge.test?k=v", "/", "k=v");
	expect_split("", "", NULL);
	expect_split(NULL, "", NULL);
}

Test(cflog, query_without_question_mark_and_empty_query)
{
	struct cflog_rec r = sample();
	char *line, *f[64];
	size_t len;

	r.target = "/search?q=a b&lang=\xc3\xa9";
	line = cflog_line(&r, &len);
	line[len - 1] = '\0';
	split(line, f, 64);
	cr_assert_str_eq(f[7], "/search");
	cr_assert_str_eq(f[11], "q=a%20b&lang=%C3%A9");
	free(line);

	r.target = "/empty?";
	line = cflog_line(&r, &len);
	line[len - 1] = '\0';
	split(line, f, 64);
	cr_assert_str_eq(f[7], "/empty");
	cr_assert_str_eq(f[11], "-");
	free(line);
}

Test(cflog, hostile_values_stay_one_line_of_33_fields)
{
	struct cflog_rec r = sample();
	char *line, *f[64];
	size_t len;

	r.method = "G\tET";
	r.host = "h\r\nx";
	r.target = "/p\tq?r\ns";
	r.referer = "\t\t";
	r.user_agent = "ua\n";
	r.cookie = "c=\r";
	r.forwarded_for = "1.2.3.4,\t5.6.7.8";
	r.content_type = "text/html; charset=utf-8";
	r.edge_location = "node\t1";
	line = cflog_line(&r, &len);
	cr_assert_eq(strchr(line, '\n'), line + len - 1);
	cr_assert_null(strchr(line, '\r'));
	line[len - 1] = '\0';
	cr_assert_eq(split(line, f, 64), CFLOG_NFIELDS);
	cr_assert_str_eq(f[2], "node%091");
	cr_assert_str_eq(f[5], "G%09ET");
	cr_assert_str_eq(f[6], "h%0D%0Ax");
	cr_assert_str_eq(f[7], "/p%09q");
	cr_assert_str_eq(f[11], "r%0As");
	cr_assert_str_eq(f[9], "%09%09");
	cr_assert_str_eq(f[19], "1.2.3.4,%095.6.7.8");
	cr_assert_str_eq(f[29], "text/html;%20charset=utf-8");
	free(line);
}

static void
expect_class(struct cflog_outcome o, const char *res, const char *resp, const char *det)
{
	const char *a, *b, *c;

	cflog_classify(&o, &a, &b, &c);
	cr_assert_str_eq(a, res, "x-edge-result-type");
	cr_assert_str_eq(b, resp, "x-edge-response-result-type");
	cr_assert_str_eq(c, det, "x-edge-detailed-result-type");
}

Test(cflog, result_types)
{
	struct cflog_outcome o = { "Hit from edged", CFLOG_LOCAL_NONE, 200, NULL, false };

	expect_class(o, "Hit", "Hit", "Hit");
	o.xcache = "RefreshHit from edged";
	expect_class(o, "RefreshHit", "RefreshHit", "RefreshHit");
	o.xcache = "Miss from edged";
	expect_class(o, "Miss", "Miss", "Miss");
	o.status = 206;
	expect_class(o, "Miss", "Miss", "Miss");
	/* 4xx/5xx from the origin (or the cache) are errors, as CloudFront logs them */
	o.status = 404;
	expect_class(o, "Error", "Error", "Error");
	o.xcache = "Hit from edged";
	o.status = 503;
	expect_class(o, "Error", "Error", "Error");
	/* the viewer went away mid-answer: CloudFront's Error / not-Error pair */
	o.status = 200;
	o.aborted = true;
	expect_class(o, "Error", "Hit", "ClientCommError");
	/* ... and the origin broke off the body */
	o.xcache = "Miss from edged";
	o.origin_error = "OriginReadError";
	expect_class(o, "Error", "Miss", "OriginReadError");
}

Test(cflog, result_types_of_the_edges_own_answers)
{
	struct cflog_outcome o = { NULL, CFLOG_LOCAL_REDIRECT, 301, NULL, false };

	expect_class(o, "Redirect", "Redirect", "Redirect");
	o.local = CFLOG_LOCAL_INVALID;
	o.status = 400;
	expect_class(o, "Error", "Error", "InvalidRequest");
	o.status = 413;
	expect_class(o, "Error", "Error", "InvalidRequest");
	o.status = 405;
	expect_class(o, "Error", "Error", "InvalidRequestMethod");
	o.status = 501;
	expect_class(o, "Error", "Error", "InvalidRequestMethod");
	o.status = 431;
	expect_class(o, "Error", "Error", "InvalidRequestHeader");
	o.local = CFLOG_LOCAL_DENIED;
	o.status = 403;
	expect_class(o, "Error", "Error", "Error");
	o.local = CFLOG_LOCAL_ORIGIN_ERROR;
	o.xcache = "Error from edged";
	o.status = 502;
	o.origin_error = "OriginConnectError";
	expect_class(o, "Error", "Error", "OriginConnectError");
	o.status = 504;
	o.origin_error = "OriginReadError";
	expect_class(o, "Error", "Error", "OriginReadError");
	/* nothing answered at all */
	o.local = CFLOG_LOCAL_NONE;
	o.xcache = NULL;
	o.status = 0;
	o.origin_error = NULL;
	expect_class(o, "Error", "Error", "Error");
	o.aborted = true;
	expect_class(o, "Error", "Error", "ClientCommError");
}
