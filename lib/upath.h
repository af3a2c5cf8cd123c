/*
 * upath.h: the one normal form of a request-target, made once when a
 * request arrives, then keyed, matched against invalidations and sent to
 * the origin, so that the cache, the bans and the origin can never read
 * two spellings of one URL two ways.
 *
 * RFC 3986 syntax-based normalization:
 *   6.2.2.1  the hex digits of a percent-escape upper-cased ("%2f" -> "%2F")
 *   6.2.2.2  a percent-escape of an unreserved character (ALPHA, DIGIT,
 *            '-', '.', '_', '~') decoded ("%41" -> "A", "%2e" -> ".")
 *   6.2.2.3  dot-segments removed (5.2.4), after the decoding, so "%2e%2E"
 *            is "..", like "..": "/a/./b" -> "/a/b", "/a/b/../c" -> "/a/c",
 *            "/a/.." -> "/"; a ".." with no segment left to remove (the
 *            path climbs above the root: "/..", "/a/../..") is an error,
 *            not clamped to "/" as 5.2.4 would
 *   6.2.3    an empty path is "/"
 * Nothing else changes: repeated '/' stay (an origin may give "//" a
 * meaning), '+' and "%20" differ, "%2F" stays escaped (it is not a
 * separator), reserved and sub-delim characters stay as sent.  The query
 * gets 6.2.2.1-2 only.  The result is a fixed point: normalizing it again
 * gives it back.
 *
 * No allocation, no global state.
 */
#ifndef EDGED_UPATH_H
#define EDGED_UPATH_H

#include <stddef.h>

enum upath_err {
	UPATH_OK = 0,
	UPATH_ABOVE_ROOT = -1,  /* ".." past the root */
	UPATH_BAD_ESCAPE = -2,  /* '%' not followed by two hex digits */
	UPATH_NOT_PATH = -3,    /* not "/..." (nor absolute-form, for targets) */
	UPATH_NO_ROOM = -4,     /* out too small */
};

/* Normalize the path p[0..n) (it starts with '/', no query) into out
 * (NUL-terminated; outlen >= n + 2 always suffices); *outn gets its length.
 * UPATH_OK or an error (then out holds nothing useful). */
int upath_path(const char *p, size_t n, char *out, size_t outlen, size_t *outn);

/* Normalize a request-target: origin-form "/path?query" or absolute-form
 * "http(s)://authority/path?query" (the authority dropped: the caller
 * takes it as the host) into origin-form "path[?query]" in out.  *pathn
 * (may be NULL) gets the length of the path part.  outlen >= n + 2
 * always suffices. */
int upath_target(const char *t, size_t n, char *out, size_t outlen, size_t *outn,
                 size_t *pathn);

/* 6.2.2.1-2 only (no dot-segment removal) on s[0..n) into out; outlen >=
 * n + 1 always suffices. */
int upath_escapes(const char *s, size_t n, char *out, size_t outlen, size_t *outn);

/* The value of hex digit c (either case), or -1. */
int upath_hexval(int c);

/* What an error means, for a 400's reason. */
const char *upath_strerror(int err);

#endif
