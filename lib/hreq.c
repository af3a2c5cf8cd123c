/*
 * hreq.c: see hreq.h.  The rules, each with its source:
 *   method      a token (RFC 9110 9.1); TRACE and CONNECT refused: 405
 *   target      origin-form "/...", absolute-form "http(s)://...", or "*"
 *               for OPTIONS (RFC 9112 3.2); only URI characters, valid
 *               %XX escapes, no fragment; too long: 414
 *   fields      a token name, a value without control bytes other than
 *               HTAB: no NUL, CR or LF (RFC 9110 5.5)
 *   Host        exactly one in HTTP/1.1, a valid authority (RFC 9112 3.2):
 *               a DNS name (labels of 1-63 bytes, 253 in all), a dotted-
 *               quad IPv4 or an [IPv6] literal, an optional port <= 65535
 *   framing     Content-Length once, digits only; never together with
 *               Transfer-Encoding; Transfer-Encoding only in HTTP/1.1, and
 *               only "chunked" (RFC 9112 6.1-6.3): anything else 501
 *   Expect      only 100-continue (RFC 9110 10.1.1): else 417
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hreq.h"
#include "upath.h"

static bool
tchar(unsigned char c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

bool
hreq_is_token(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!tchar((unsigned char)s[i]))
			return false;
	return true;
}

static void
bad(struct hreq *h, unsigned status, const char *why)
{
	if (h->status != 0)
		return; /* keep the first problem */
	h->status = status;
	snprintf(h->why, sizeof h->why, "%s", why);
}

void
hreq_begin(struct hreq *h, const char *method, const char *target,
           size_t target_len, const char *version)
{
	memset(h, 0, sizeof *h);
	h->method = method;
	h->target = target;
	h->target_len = target_len;
	h->version = version;
	h->content_length = -1;
}

static bool
name_is(const char *n, size_t nl, const char *want)
{
	return strlen(want) == nl && strncasecmp(n, want, nl) == 0;
}

/* A host name as DNS has them (RFC 1123 2.1, RFC 9110 4.2.3 asks for no
 * more): labels of 1-63 letters, digits, '-' (not first or last) and '_'
 * (found in real names), at most 253 bytes, one trailing '.' allowed;
 * a name whose last label is all digits must be a dotted-quad IPv4
 * address, each part 0-255.  No percent-escapes: a reg-name that needs
 * them names nothing DNS can resolve. */
static bool
valid_host_name(const char *s, size_t n)
{
	size_t i, start = 0, parts = 0;
	bool digits_only = true, all_numeric = true;

	if (n > 0 && s[n - 1] == '.')
		n--; /* the root label */
	if (n == 0 || n > 253)
		return false;
	for (i = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)s[i] : '.';

		if (c == '.') {
			size_t len = i - start;

			if (len == 0 || len > 63 || s[start] == '-' || s[i - 1] == '-')
				return false;
			if (!digits_only)
				all_numeric = false;
			else if (len > 3 || strtoul(s + start, NULL, 10) > 255)
				all_numeric = false;
			parts++;
			start = i + 1;
			digits_only = true;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return false;
		if (!isdigit(c))
			digits_only = false;
	}
	/* the last label all digits: an IPv4 address or nothing */
	for (i = n; i > 0 && s[i - 1] != '.'; i--)
		;
	for (; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return true;
	return all_numeric && parts == 4;
}

/* reg-name (a DNS name) / IPv4 / [IPv6], then an optional :port (0-65535) */
bool
hreq_valid_authority(const char *s, size_t n)
{
	size_t i = 0;
	unsigned long port = 0;

	if (n == 0)
		return true; /* "Host:" empty is allowed (RFC 9112 3.2) */
	if (s[0] == '[') {
		char lit[64];
		struct in6_addr a6;

		for (i = 1; i < n && s[i] != ']'; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
				return false;
		if (i == n || i == 1 || i - 1 >= sizeof lit)
			return false;
		memcpy(lit, s + 1, i - 1);
		lit[i - 1] = '\0';
		if (inet_pton(AF_INET6, lit, &a6) != 1)
			return false;
		i++;
	} else {
		while (i < n && s[i] != ':')
			i++;
		if (!valid_host_name(s, i))
			return false;
	}
	if (i == n)
		return true;
	if (s[i] != ':')
		return false;
	for (i++; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		port = port * 10 + (unsigned long)(s[i] - '0');
		if (port > 65535)
			return false;
	}
	return true;
}

/* Trim optional whitespace around a list element. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

static void
transfer_encoding(struct hreq *h, const char *v, size_t vl)
{
	size_t start = 0, i, elements = 0;

	h->n_te++;
	for (i = 0; i <= vl; i++) {
		const char *el;
		size_t n;

		if (i < vl && v[i] != ',')
			continue;
		el = v + start;
		n = i - start;
		start = i + 1;
		trim(&el, &n);
		if (n == 0)
			continue; /* empty list elements are ignored (RFC 9110 5.6.1) */
		elements++;
		if (h->te_chunked) {
			bad(h, 400, "chunked is not the last transfer coding");
			return;
		}
		if (n == 7 && strncasecmp(el, "chunked", 7) == 0) {
			h->te_chunked = true;
			continue;
		}
		if (!hreq_is_token(el, n)) {
			bad(h, 400, "malformed Transfer-Encoding");
			return;
		}
		bad(h, 501, "transfer coding not implemented");
		return;
	}
	if (elements == 0) {
		bad(h, 400, "empty Transfer-Encoding");
		return;
	}
	/* libmicrohttpd frames a body as chunked only for the exact value
	 * "chunked" (any case): "chunked " or ",chunked" would have it read
	 * until the connection closes while we forward a chunked body, two
	 * views of one message.  Refuse every spelling but the plain one. */
	if (h->te_chunked && (vl != 7 || strncasecmp(v, "chunked", 7) != 0))
		bad(h, 400, "Transfer-Encoding: chunked written in an unusual way");
}

void
hreq_field(struct hreq *h, const char *name, size_t nlen, const char *value,
           size_t vlen)
{
	size_t i;

	if (!hreq_is_token(name, nlen)) {
		bad(h, 400, "bad header field name");
		return;
	}
	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)value[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			bad(h, 400, c == 0 ? "NUL in a header field" :
			            c == '\r' ? "bare CR in a header field" :
			                        "control character in a header field");
			return;
		}
	}
	if (name_is(name, nlen, "host")) {
		h->n_host++;
		h->host = value;
		h->host_len = vlen;
		if (h->n_host > 1)
			bad(h, 400, "more than one Host field");
		else if (!hreq_valid_authority(value, vlen))
			bad(h, 400, "malformed Host");
	} else if (name_is(name, nlen, "content-length")) {
		long long v = 0;

		h->n_cl++;
		if (h->n_cl > 1) {
			bad(h, 400, "more than one Content-Length");
			return;
		}
		if (vlen == 0) {
			bad(h, 400, "empty Content-Length");
			return;
		}
		for (i = 0; i < vlen; i++) {
			if (!isdigit((unsigned char)value[i])) {
				bad(h, 400, "malformed Content-Length");
				return;
			}
			if (__builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, value[i] - '0', &v)) {
				bad(h, 400, "Content-Length out of range");
				return;
			}
		}
		h->content_length = v;
	} else if (name_is(name, nlen, "transfer-encoding")) {
		transfer_encoding(h, value, vlen);
	} else if (name_is(name, nlen, "expect")) {
		const char *v = value;
		size_t n = vlen;

		trim(&v, &n);
		if (n == 12 && strncasecmp(v, "100-continue", 12) == 0)
			h->expect_continue = true;
		else
			bad(h, 417, "unsupported expectation");
	}
}

static bool
uri_char(unsigned char c)
{
	return isalnum(c) || (c != 0 && strchr("-._~!$&'()*+,;=:@/?%[]", c) != NULL);
}

static void
check_target(struct hreq *h, const struct hreq_limits *l)
{
	const char *t = h->target;
	size_t n = h->target_len, i;

	if (n == 0) {
		bad(h, 400, "empty request-target");
		return;
	}
	if (l->max_target > 0 && n > l->max_target) {
		bad(h, 414, "request-target too long");
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c == '#') {
			bad(h, 400, "fragment in request-target");
			return;
		}
		if (!uri_char(c)) {
			bad(h, 400, "invalid character in request-target");
			return;
		}
		if (c == '%' && (i + 2 >= n || !isxdigit((unsigned char)t[i + 1]) ||
		                 !isxdigit((unsigned char)t[i + 2]))) {
			bad(h, 400, "bad percent-escape in request-target");
			return;
		}
	}
	if (t[0] == '/')
		return;
	if (n == 1 && t[0] == '*') {
		if (strcmp(h->method, "OPTIONS") != 0)
			bad(h, 400, "'*' target is only for OPTIONS");
		return;
	}
	if ((n > 7 && strncasecmp(t, "http://", 7) == 0) ||
	    (n > 8 && strncasecmp(t, "https://", 8) == 0))
		return;
	bad(h, 400, "request-target is not origin-form or absolute-form");
}

unsigned
hreq_finish(struct hreq *h, const struct hreq_limits *l)
{
	bool http11 = h->version != NULL && strcmp(h->version, "HTTP/1.1") == 0;

	if (!hreq_is_token(h->method, strlen(h->method))) {
		h->status = 0;
		bad(h, 400, "method is not a token");
		return h->status;
	}
	if (strcmp(h->method, "TRACE") == 0 || strcmp(h->method, "CONNECT") == 0) {
		h->status = 0;
		bad(h, 405, "method not allowed");
		return h->status;
	}
	check_target(h, l);
	if (h->status != 0)
		return h->status;
	if (http11 && h->n_host == 0)
		bad(h, 400, "no Host field in an HTTP/1.1 request");
	if (h->n_te > 0 && h->n_cl > 0)
		bad(h, 400, "both Content-Length and Transfer-Encoding");
	if (h->n_te > 0 && !http11)
		bad(h, 400, "Transfer-Encoding in an HTTP/1.0 request");
	if (h->n_te > 0 && !h->te_chunked)
		bad(h, 400, "Transfer-Encoding without chunked last");
	if (h->status == 0 && l->max_body >= 0 && h->content_length > l->max_body)
		bad(h, 413, "request body larger than the limit");
	return h->status;
}

int
hreq_decode_path(const char *target, char *out, size_t outlen,
                 const char **query)
{
	const char *p = target, *end;
	size_t o = 0;

	if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
		p = strstr(p, "//") + 2;
		p += strcspn(p, "/?");
	}
	end = p + strcspn(p, "?");
	if (query != NULL)
		*query = *end == '?' ? end + 1 : end;
	if (outlen < 2)
		return -1;
	if (p == end || *p != '/')
		out[o++] = '/'; /* "http://h" or "http://h?q" means "/" */
	for (; p < end; p++) {
		int c = (unsigned char)*p;

		if (c == '%') {
			int hi = upath_hexval(p[1]), lo = hi < 0 ? -1 : upath_hexval(p[2]);

			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			if (c == 0)
				return -1;
			p += 2;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
		out[o] = '\0';
		/* resolve "/." and "/.." as each segment ends */
		if (c == '/' || p + 1 == end) {
			size_t seg_end = c == '/' ? o - 1 : o, s = seg_end;

			while (s > 0 && out[s - 1] != '/')
				s--;
			if (seg_end - s == 1 && out[s] == '.') {
				o = s; /* drop "." (keeps the '/' before it) */
			} else if (seg_end - s == 2 && out[s] == '.' && out[s + 1] == '.') {
				if (s <= 1)
					return -1; /* above the root */
				o = s - 1;
				while (o > 0 && out[o - 1] != '/')
					o--;
			}
		}
	}
	out[o] = '\0';
	return 0;
}
