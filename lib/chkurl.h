/*
 * chkurl.h: the text edgecheck takes from its command line: the edge's
 * https URL, curl-style --resolve entries, and the cache-busting target
 * derived from the URL.
 *
 * Pure functions, no allocation, no global state: unit tested and fuzzed.
 *
 *   https://HOST[:PORT][/path][?query]     HOST: a DNS name or an IP
 *                                          (IPv6 in brackets); PORT: 443
 *   HOST:PORT:ADDR                         connect to ADDR (IPv4, or IPv6
 *                                          with or without brackets) for
 *                                          HOST:PORT
 */
#ifndef EDGED_CHKURL_H
#define EDGED_CHKURL_H

#include <stddef.h>

#include "err.h"

#define CHKURL_MAX_TARGET 2048

struct chkurl {
	char host[256];      /* DNS name (lower case) or IP literal, no brackets */
	int port;            /* 1-65535; 443 when the URL gives none */
	char authority[300]; /* the Host field: host, [v6], ":port" unless 443 */
	char target[CHKURL_MAX_TARGET]; /* path and query; "/" when empty */
	int is_ip;           /* host is an IP literal (no SNI) */
};

/* Parse an https URL.  Refused with ERR_USAGE and a reason: another
 * scheme, user info, an empty or malformed host, a bad port, spaces,
 * control or non-ASCII bytes (write them %-encoded), a target over
 * CHKURL_MAX_TARGET.  A fragment is dropped (never sent). */
int chkurl_parse(const char *s, struct chkurl *u, struct err *e);

struct chkresolve {
	char host[256];      /* lower case, no brackets */
	int port;
	char addr[64];       /* numeric IP, no brackets */
};

/* Parse HOST:PORT:ADDR ([v6] allowed for HOST and ADDR). */
int chkurl_resolve_parse(const char *s, struct chkresolve *r, struct err *e);

/* target with "edgecheck=NONCE" added to its query (after '?' or '&'):
 * a URL no cache has seen.  nonce: 1-64 letters, digits, '-' or '_'.
 * -1 when out (size len) is too small or nonce is bad. */
int chkurl_bust(const char *target, const char *nonce, char *out, size_t len,
                struct err *e);

#endif
