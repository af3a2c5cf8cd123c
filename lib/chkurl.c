/*
 * chkurl.c: see chkurl.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "chkurl.h"

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Port text of length n: digits only, 1-65535. */
static int
parse_port(const char *s, size_t n, int *port)
{
	size_t i;
	long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* A host of length n, brackets already removed when v6 is set: checked and
 * copied (lower case) into out.  1 for an IP literal, 0 for a DNS name,
 * -1 with e filled. */
static int
parse_host(const char *s, size_t n, int v6, char *out, size_t outlen, const char *what,
           struct err *e)
{
	unsigned char buf[16];
	size_t i, label = 0;
	int digits_dots = 1;

	if (n == 0)
		return err_set(e, ERR_USAGE, "%s: no host name", what);
	if (n >= outlen || n > 253)
		return err_set(e, ERR_USAGE, "%s: host name longer than 253 characters", what);
	memcpy(out, s, n);
	out[n] = '\0';
	if (v6) {
		if (inet_pton(AF_INET6, out, buf) != 1)
			return err_set(e, ERR_USAGE, "%s: '[%s]' is not an IPv6 address", what, out);
		for (i = 0; i < n; i++)
			out[i] = (char)tolower((unsigned char)out[i]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];

		if (c == '.') {
			if (label == 0)
				return err_set(e, ERR_USAGE, "%s: host '%s' has an empty label", what,
				               out);
			label = 0;
			continue;
		}
		if (c == ':')
			return err_set(e, ERR_USAGE, "%s: write an IPv6 address in brackets: "
			               "[%s]", what, out);
		if (!isalnum(c) && c != '-' && c != '_')
			return err_set(e, ERR_USAGE, "%s: character '%c' is not allowed in a host "
			               "name (letters, digits, '-', '_' and '.')", what,
			               isprint(c) ? c : '?');
		if (!isdigit(c))
			digits_dots = 0;
		out[i] = (char)tolower(c);
		label++;
	}
	if (label == 0)
		return err_set(e, ERR_USAGE, "%s: host '%s' ends with a dot", what, out);
	if (digits_dots) {
		if (inet_pton(AF_INET, out, buf) != 1)
			return err_set(e, ERR_USAGE, "%s: '%s' is not an IPv4 address", what, out);
		return 1;
	}
	return 0;
}

int
chkurl_parse(const char *s, struct chkurl *u, struct err *e)
{
	const char *p, *h, *hend, *t;
	size_t n, tl;
	int v6 = 0, rc;
	char what[200];

	memset(u, 0, sizeof *u);
	snprintf(what, sizeof what, "URL '%.160s%s'", s, strlen(s) > 160 ? "..." : "");
	if (strncasecmp(s, "https://", 8) != 0) {
		if (strncasecmp(s, "http://", 7) == 0)
			return err_set(e, ERR_USAGE, "%s: edgecheck checks HTTPS edges: use "
			               "https:// (plain HTTP is --http-port)", what);
		return err_set(e, ERR_USAGE, "%s: not an https:// URL", what);
	}
	p = s + 8;
	/* the authority ends at the first '/', '?' or '#' */
	n = strcspn(p, "/?#");
	if (memchr(p, '@', n) != NULL)
		return err_set(e, ERR_USAGE, "%s: user information (user@) is not "
		               "supported", what);
	t = p + n;
	if (n > 0 && p[0] == '[') {
		const char *rb = memchr(p, ']', n);

		if (rb == NULL)
			return err_set(e, ERR_USAGE, "%s: '[' without ']'", what);
		v6 = 1;
		h = p + 1;
		hend = rb;
		p = rb + 1;
		if (p < t && *p != ':')
			return err_set(e, ERR_USAGE, "%s: unexpected text after ']'", what);
	} else {
		const char *colon = memchr(p, ':', n);

		if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon + 1 - p)) != NULL)
			return err_set(e, ERR_USAGE, "%s: write an IPv6 address in brackets "
			               "(https://[::1]:8443/)", what);
		h = p;
		hend = colon ? colon : t;
		p = hend;
	}
	rc = parse_host(h, (size_t)(hend - h), v6, u->host, sizeof u->host, what, e);
	if (rc < 0)
		return -1;
	u->is_ip = rc;
	u->port = 443;
	if (p < t) { /* ":port" */
		if (parse_port(p + 1, (size_t)(t - p - 1), &u->port) < 0)
			return err_set(e, ERR_USAGE, "%s: port '%.*s' is not a number in "
			               "1-65535", what, (int)(t - p - 1), p + 1);
	}
	if (u->port == 443)
		snprintf(u->authority, sizeof u->authority, "%s%s%s", v6 ? "[" : "", u->host,
		         v6 ? "]" : "");
	else
		snprintf(u->authority, sizeof u->authority, "%s%s%s:%d", v6 ? "[" : "",
		         u->host, v6 ? "]" : "", u->port);
	/* the target: path and query, up to a fragment */
	tl = strcspn(t, "#");
	for (n = 0; n < tl; n++) {
		unsigned char c = (unsigned char)t[n];

		if (c <= 0x20 || c >= 0x7f)
			return err_set(e, ERR_USAGE, "%s: %s in the path or query (write it "
			               "%%-encoded)", what, c == ' ' ? "a space" :
			               c >= 0x80 ? "a non-ASCII byte" : "a control byte");
		if (c == '%' && (n + 2 >= tl || !is_hex(t[n + 1]) || !is_hex(t[n + 2])))
			return err_set(e, ERR_USAGE, "%s: bad %%-escape in the path or query",
			               what);
	}
	/* the limit holds for the target as stored, a '/' added in front
	 * included, so that the URL rebuilt from it parses again */
	if (tl + (tl == 0 || t[0] == '?') > CHKURL_MAX_TARGET - 2)
		return err_set(e, ERR_USAGE, "%s: path and query longer than %d bytes", what,
		               CHKURL_MAX_TARGET - 2);
	if (tl == 0 || t[0] == '?') /* "" -> "/", "?q" -> "/?q" */
		snprintf(u->target, sizeof u->target, "/%.*s", (int)tl, t);
	else
		snprintf(u->target, sizeof u->target, "%.*s", (int)tl, t);
	return 0;
}

int
chkurl_resolve_parse(const char *s, struct chkresolve *r, struct err *e)
{
	const char *p = s, *h, *hend, *colon, *a;
	size_t al;
	int v6 = 0;
	unsigned char buf[16];
	char what[200];

	memset(r, 0, sizeof *r);
	snprintf(what, sizeof what, "--resolve '%.160s%s'", s, strlen(s) > 160 ? "..." : "");
	if (*p == '[') {
		const char *rb = strchr(p, ']');

		if (rb == NULL || rb[1] != ':')
			return err_set(e, ERR_USAGE, "%s: want HOST:PORT:ADDR", what);
		v6 = 1;
		h = p + 1;
		hend = rb;
		p = rb + 1;
	} else {
		h = p;
		hend = strchr(p, ':');
		if (hend == NULL)
			return err_set(e, ERR_USAGE, "%s: want HOST:PORT:ADDR", what);
		p = hend;
	}
	/* p is at the ':' before the port */
	colon = strchr(p + 1, ':');
	if (colon == NULL)
		return err_set(e, ERR_USAGE, "%s: want HOST:PORT:ADDR", what);
	if (parse_host(h, (size_t)(hend - h), v6, r->host, sizeof r->host, what, e) < 0)
		return -1;
	if (parse_port(p + 1, (size_t)(colon - p - 1), &r->port) < 0)
		return err_set(e, ERR_USAGE, "%s: port '%.*s' is not a number in "
		               "1-65535", what, (int)(colon - p - 1), p + 1);
	a = colon + 1;
	al = strlen(a);
	if (al >= 2 && a[0] == '[' && a[al - 1] == ']') {
		a++;
		al -= 2;
	}
	if (al == 0 || al >= sizeof r->addr)
		return err_set(e, ERR_USAGE, "%s: ADDR must be an IP address", what);
	memcpy(r->addr, a, al);
	r->addr[al] = '\0';
	if (inet_pton(AF_INET, r->addr, buf) != 1 && inet_pton(AF_INET6, r->addr, buf) != 1)
		return err_set(e, ERR_USAGE, "%s: '%s' is not an IP address", what,
		               r->addr);
	return 0;
}

int
chkurl_bust(const char *target, const char *nonce, char *out, size_t len, struct err *e)
{
	size_t i, nl = strlen(nonce), tl = strlen(target);
	const char *q = strchr(target, '?');
	const char *sep = q == NULL ? "?" : q[1] == '\0' ? "" : "&";
	int n;

	if (nl == 0 || nl > 64)
		return err_set(e, ERR_FAIL, "nonce '%s': 1-64 characters", nonce);
	for (i = 0; i < nl; i++)
		if (!isalnum((unsigned char)nonce[i]) && nonce[i] != '-' && nonce[i] != '_')
			return err_set(e, ERR_FAIL, "nonce '%s': letters, digits, '-', '_' only",
			               nonce);
	n = snprintf(out, len, "%s%sedgecheck=%s", target, sep, nonce);
	if (n < 0 || (size_t)n >= len || tl == 0)
		return err_set(e, ERR_FAIL, "target '%.40s...': no room for the cache-busting "
		               "query", target);
	return 0;
}
