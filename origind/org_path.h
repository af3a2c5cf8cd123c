/*
 * org_path.h: the one form of a request path that origind routes on.
 *
 * origind maps paths to files, so the form it routes on must be the form
 * the file system sees: every %XX decoded (%2F is a '/', %2E a '.'),
 * dot-segments removed (RFC 3986 5.2.4) and runs of '/' merged into one.
 * The same string then picks the handler (/_origind/, a FastCGI prefix,
 * /cgi-bin/, static), names the file, becomes SCRIPT_NAME/PATH_INFO,
 * matches cache_control rules and is counted in the stats: no spelling
 * of a path can reach another handler than the canonical one does.
 */
#ifndef EDGED_ORG_PATH_H
#define EDGED_ORG_PATH_H

#include <stdbool.h>
#include <stddef.h>

enum org_path_res {
	ORG_PATH_OK = 0,
	ORG_PATH_BAD = -1,   /* a '%' without two hex digits, or %00 */
	ORG_PATH_ABOVE = -2, /* a ".." segment climbs above the root */
	ORG_PATH_LONG = -3,  /* out has no room (outlen < strlen(target) + 2 never) */
};

/* Normalize the path of request-target (origin-form, or absolute-form
 * whose scheme and authority are skipped; anything else gets a leading
 * '/') into out: it starts with '/', has no empty, "." or ".." segment,
 * and ends with '/' when the target's path did (or ended in a dot-
 * segment).  The query is not included; *query (if not NULL) points at it
 * in target, "" when none.  outlen >= strlen(target) + 2 always suffices.
 * Returns ORG_PATH_OK or a negative enum org_path_res (out is then
 * undefined). */
int org_path_normalize(const char *target, char *out, size_t outlen, const char **query);

/* Is path (normalized) equal to, or under, dir (a normalized path with
 * or without its trailing '/')?  "/a/b" is under "/a" and "/a/", not
 * under "/ab"; everything is under "/".  Also for file-system paths. */
bool org_path_under(const char *path, const char *dir);

#endif
