/*
 * fuzz_chkurl.c: libFuzzer target for edgecheck's command-line text
 * (lib/chkurl.c): https URLs, --resolve entries, the cache-busting target.
 * Input: url '\n' resolve (each cut at a NUL).
 *
 * Checked beyond "no crash": a URL that parses has a host, a port in
 * 1-65535, a target that starts with '/' and holds only visible ASCII, an
 * authority that ends in ":port" exactly when the port is not 443; rebuilt
 * as "https://" + authority + target it parses to the same fields; its
 * cache-busting target starts with the target and ends with the nonce.  A
 * --resolve entry that parses has a host, a port and an address, and
 * "host:port:addr" (brackets for an IPv6 host) parses the same.  Every
 * failure is a usage error naming the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chkurl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_url(const char *s)
{
	struct chkurl u, v;
	struct err e = { 0, "" };
	char again[CHKURL_MAX_TARGET + 400], port[16], bust[CHKURL_MAX_TARGET + 64];
	size_t i, al, pl;

	if (chkurl_parse(s, &u, &e) < 0) {
		if (e.code != ERR_USAGE || strncmp(e.msg, "URL '", 5) != 0)
			abort();
		return;
	}
	if (u.host[0] == '\0' || u.port < 1 || u.port > 65535 || u.target[0] != '/')
		abort();
	for (i = 0; u.target[i] != '\0'; i++)
		if ((unsigned char)u.target[i] <= 0x20 || (unsigned char)u.target[i] >= 0x7f ||
		    u.target[i] == '#')
			abort();
	snprintf(port, sizeof port, ":%d", u.port);
	al = strlen(u.authority);
	pl = strlen(port);
	if ((u.port != 443) != (al > pl && strcmp(u.authority + al - pl, port) == 0))
		abort();
	snprintf(again, sizeof again, "https://%s%s", u.authority, u.target);
	if (chkurl_parse(again, &v, &e) < 0)
		abort();
	if (strcmp(u.host, v.host) != 0 || u.port != v.port || strcmp(u.target, v.target) != 0 ||
	    strcmp(u.authority, v.authority) != 0 || u.is_ip != v.is_ip)
		abort();
	if (chkurl_bust(u.target, "n0nce", bust, sizeof bust, &e) == 0) {
		size_t tl = strlen(u.target), bl = strlen(bust);

		if (strncmp(bust, u.target, tl) != 0 || bl < 15 ||
		    strcmp(bust + bl - 15, "edgecheck=n0nce") != 0 || strchr(bust, '?') == NULL)
			abort();
	}
}

static void
check_resolve(const char *s)
{
	struct chkresolve r, q;
	struct err e = { 0, "" };
	char again[400];

	if (chkurl_resolve_parse(s, &r, &e) < 0) {
		if (e.code != ERR_USAGE || strncmp(e.msg, "--resolve '", 11) != 0)
			abort();
		return;
	}
	if (r.host[0] == '\0' || r.port < 1 || r.port > 65535 || r.addr[0] == '\0')
		abort();
	if (strchr(r.host, ':') != NULL)
		snprintf(again, sizeof again, "[%s]:%d:%s", r.host, r.port, r.addr);
	else
		snprintf(again, sizeof again, "%s:%d:%s", r.host, r.port, r.addr);
	if (chkurl_resolve_parse(again, &q, &e) < 0)
		abort();
	if (strcmp(r.host, q.host) != 0 || r.port != q.port || strcmp(r.addr, q.addr) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *nl;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	nl = strchr(buf, '\n');
	if (nl != NULL)
		*nl = '\0';
	check_url(buf);
	check_resolve(nl != NULL ? nl + 1 : "");
	free(buf);
	return 0;
}
