/*
 * fuzz_rurl.c: libFuzzer target for the `redis` URL parser (lib/rstore.c,
 * rstore_url_parse).  Input: the URL (cut at a NUL).
 *
 * Checked beyond "no crash": a URL that parses has a port in 1-65535 and a
 * host (TCP) or an absolute path (unix), a password whenever it has a
 * user, and a label that masks the password; rewritten canonically (user
 * and password %-encoded) it parses to the same fields.  A URL that fails
 * gets an error naming the key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s %-encoded but for RFC 3986's unreserved characters. */
static void
pct(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, len - o, "%%%02X", c);
	}
	out[o] = '\0';
}

static void
canonical(const struct rstore_url *u, char *out, size_t len)
{
	char user[400], pass[800], auth[1300] = "";

	if (u->password[0] != '\0') {
		pct(u->user, user, sizeof user);
		pct(u->password, pass, sizeof pass);
		snprintf(auth, sizeof auth, "%s:%s@", user, pass);
	}
	if (u->unix_socket)
		snprintf(out, len, "unix://%s%s?db=%d", auth, u->path, u->db);
	else if (strchr(u->host, ':') != NULL)
		snprintf(out, len, "redis://%s[%s]:%d/%d", auth, u->host, u->port, u->db);
	else
		snprintf(out, len, "redis://%s%s:%d/%d", auth, u->host, u->port, u->db);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1), label[600], again[2000], masked[160];
	const char *after;
	struct rstore_url u, v;
	struct err e = { 0, "" };

	if (url == NULL)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	if (rstore_url_parse(url, "redis", &u, &e) < 0) {
		if (strncmp(e.msg, "key 'redis': ", 13) != 0 || e.code != ERR_USAGE)
			abort();
		free(url);
		return 0;
	}
	if (u.unix_socket ? u.path[0] != '/' || u.host[0] != '\0'
	                  : u.host[0] == '\0' || u.port < 1 || u.port > 65535 || u.path[0] != '\0')
		abort();
	if (u.db < 0 || (u.user[0] != '\0' && u.password[0] == '\0'))
		abort();
	rstore_url_label(&u, label, sizeof label);
	after = label + (u.unix_socket ? 7 : 8);
	if (u.password[0] != '\0') {
		snprintf(masked, sizeof masked, "%s:***@", u.user);
		if (strncmp(after, masked, strlen(masked)) != 0)
			abort();
	} else if (u.unix_socket ? after[0] != '/' : strchr(after, '@') != NULL) {
		abort();
	}
	canonical(&u, again, sizeof again);
	if (rstore_url_parse(again, "redis", &v, &e) < 0)
		abort();
	if (v.unix_socket != u.unix_socket || strcmp(v.host, u.host) != 0 || v.port != u.port ||
	    strcmp(v.path, u.path) != 0 || strcmp(v.user, u.user) != 0 ||
	    strcmp(v.password, u.password) != 0 || v.db != u.db)
		abort();
	free(url);
	return 0;
}
