/*
 * ckey.h: cache keys for the shared cache (RFC 9111 section 2, 4.1).
 *
 * A primary key names what a request asks for: the method class, the host,
 * the path, the query (per cache_key_query) and the request headers and
 * cookies that cache_key_headers and cache_key_cookies name.  A secondary
 * (variant) key adds the request's values of the header fields a stored
 * response's Vary names.  Each key has a canonical text form, readable in
 * logs and tests, and the SHA-256 of that text, whose hex form is the Redis
 * key ("edged:v1:<64 hex>", 73 bytes whatever the request's size).
 *
 * Canonical primary key (every variable part length-prefixed, every list
 * counted, so the text decodes one way only: two requests that are not
 * equivalent under the rules below never share a key):
 *
 *     ckey1 GET [s<ns scheme> ]h<ns host> p<ns path> q... H<n>:<items> C<n>:<items>
 *
 *   ns(x)    decimal length of x, ':', then x ("11:example.com")
 *   item     ns(name) then '=' ns(value), or '!' when there is no value
 *            (a query parameter without '=', a header or cookie absent)
 *   q part   "q-" when cache_key_query = none; "q<n>:<items>" with the
 *            parameters kept; "Q<ns raw query>" when the query holds a '%'
 *            not followed by two hex digits (kept byte for byte, unsplit)
 *   p part   "p<ns path>" normalized; "P<ns raw path>" for such a path
 *
 * e.g. "ckey1 GET h11:example.com p6:/a/b.c q2:1:a=1:11:b! H1:6:accept=3:x/y C1:3:sid!"
 * ckey_build stops after the q part for the URI key (uri_len, uri_digest):
 * what every variant of one URI shares, for invalidations.
 *
 * Normalization (documented choices):
 *   method   GET and HEAD are one class, "GET"; any other method is not
 *            cached and gets no key (-1)
 *   host     ASCII lower-cased; ":443" removed for https, ":80" for http;
 *            an empty port (":") removed, leading zeros of a port dropped;
 *            a trailing dot and IPv6 spellings kept as sent.  The scheme
 *            itself is not in the key (as CloudFront): an http:// and an
 *            https:// request for one URL share it, unless the caller asks
 *            (ckey_req.scheme: "s5:https ", under viewer_protocol_policy
 *            allow-all, where an origin may answer each scheme its way).
 *   path     RFC 3986 6.2.2.1-2: "%XX" of an unreserved character (ALPHA,
 *            DIGIT, - . _ ~) decoded ("%41" -> "A"), the hex digits of every
 *            other escape upper-cased ("%2f" -> "%2F").  Dot-segments are
 *            not resolved here: edged hands ckey a target already in its
 *            normal form (lib/upath: dot-segments resolved, "/a/../b" is
 *            "/b" before it is keyed and forwarded), on which this is the
 *            identity.  Given a raw target, a segment that would decode to
 *            "." or ".." keeps its dots escaped ("/%2e%2E/" and "/.%2e/" ->
 *            "/%2E%2E/", never ".."), so decoding never makes a dot-segment
 *            the origin did not
 *            get.  An absolute-form target ("https://h/p?q") keys its path
 *            and query (its authority is the caller's host); an empty path
 *            is "/" (RFC 3986 6.2.3).  No other byte changes: a raw byte the
 *            URI grammar forbids (edged refuses those earlier) stays raw.
 *   query    split on '&', each parameter at its first '='; names and values
 *            normalized as the path (so "%3D" and "%26" stay escaped and
 *            never split); empty parameters ("a=1&&b") dropped; "a" and
 *            "a=" differ; '+' and "%20" differ (form encoding is the
 *            origin's business).  all: every parameter, sorted by name
 *            (bytes, as CloudFront normalizes query order) so "?a=1&b=2"
 *            and "?b=2&a=1" share a key; parameters with the same name
 *            keep their order ("?a=1&a=2" and "?a=2&a=1" differ).  Allow-
 *            list: only the listed names (case-sensitive), the same way.
 *            none: the query is ignored.  At most CKEY_MAX_PARAMS kept
 *            parameters, else no key (-1: not cached).
 *   headers  each name listed (case-insensitive; sorted, lower-cased): its
 *            field lines joined with ", " ("; " for Cookie), each with
 *            leading and trailing SP/HTAB trimmed, values otherwise as
 *            sent; an absent header ("!") differs from an empty one ("=0:").
 *   cookies  every Cookie field line, split on ';'; each pair trimmed of
 *            SP/HTAB and split at its first '='; a pair without '=' has no
 *            name (RFC 6265bis) and never matches.  Names case-sensitive;
 *            values as sent, DQUOTEs included ("a=\"1\"" and "a=1" differ).
 *            Each listed name: every value it has, in order, or '!'.
 *
 * Variant key (Vary, RFC 9111 4.1): ckey_vary_parse turns a response's
 * Vary values into a canonical name list (lower-case, sorted, no
 * duplicates; '*' reported to the caller, which must not store).  The
 * variant text is "vary1 <primary hex> <vary_id as 16 hex> <n>:<items>",
 * one item per name, its value normalized so that requests meaning the
 * same share a variant (what RFC 9111 4.1 permits):
 *   - field lines joined with ", " ("; " for Cookie), each trimmed of OWS;
 *   - Accept, Accept-Charset, Accept-Encoding, Accept-Language (list
 *     fields): empty elements dropped, OWS around ',' and ';' removed,
 *     other runs of OWS made one SP, elements joined with ", "; quoted
 *     strings untouched;
 *   - Accept-Charset, Accept-Encoding, Accept-Language (case-insensitive
 *     values) also lower-cased outside quoted strings;
 *   - an absent field ('!') never matches a present one, even empty.
 * vary_id is a random number the cache picks when it stores a variant
 * index (see centry.h): deleting the index orphans every variant keyed
 * under the old id, so an invalidation cannot be undone by a new index.
 *
 * Threads: a policy is immutable after ckey_policy_new and may be shared by
 * every thread.  Building a key allocates nothing: the caller supplies the
 * buffer for the canonical text (too small: -1, the request is then simply
 * not cached).
 */
#ifndef EDGED_CKEY_H
#define EDGED_CKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CKEY_DIGEST_LEN 32                 /* SHA-256 */
#define CKEY_PREFIX     "edged:v1:"
#define CKEY_ID_LEN     (9 + 2 * CKEY_DIGEST_LEN) /* "edged:v1:" + hex */
#define CKEY_MAX_PARAMS 256                /* query parameters kept in a key */
#define CKEY_MAX_NAMES  64                 /* names in one policy list, in Vary */
#define CKEY_CANON_SIZE (64 * 1024)        /* a canonical buffer that fits the
                                            * key of any request head up to
                                            * 16 KiB (see ckey_build) */

/* A span of bytes, not NUL-terminated unless said. */
struct ckey_span {
	const char *p;
	size_t len;
};

/* A header field, as libmicrohttpd's MHD_get_connection_values_n hands it
 * out (value NULL counts as empty). */
struct ckey_field {
	const char *name;
	size_t nlen;
	const char *value;
	size_t vlen;
};

enum ckey_query {
	CKEY_QUERY_NONE,  /* the query is not part of the key */
	CKEY_QUERY_ALL,   /* every parameter, sorted by name */
	CKEY_QUERY_ALLOW, /* the listed parameters only, sorted by name */
};

/* What the cache_key_* settings say.  Lists may be empty; their order and
 * duplicates do not matter. */
struct ckey_conf {
	enum ckey_query query;
	const char *const *query_names; /* CKEY_QUERY_ALLOW: parameter names */
	size_t n_query;
	const char *const *headers;     /* request header names */
	size_t n_headers;
	const char *const *cookies;     /* cookie names */
	size_t n_cookies;
};

struct ckey_policy;

/* The request a key is built for.  Spans point into the caller's memory
 * and are only read during the call. */
enum ckey_scheme {
	CKEY_SCHEME_NONE = 0,            /* not in the key */
	CKEY_SCHEME_HTTP,
	CKEY_SCHEME_HTTPS,
};

struct ckey_req {
	const char *method;              /* NUL-terminated */
	const char *host;                /* the Host value edged uses (or the
	                                  * absolute-form authority) */
	size_t host_len;
	bool https;                      /* the default port is 443, else 80 */
	const char *target;              /* request-target as received */
	size_t target_len;
	const struct ckey_field *fields; /* every request header field */
	size_t nfields;
	enum ckey_scheme scheme;         /* keyed when not NONE: "s5:https" */
};

struct ckey {
	unsigned char digest[CKEY_DIGEST_LEN];     /* SHA-256 of the canonical text */
	unsigned char uri_digest[CKEY_DIGEST_LEN]; /* SHA-256 of its first uri_len
	                                            * bytes (the same for a variant) */
	char id[CKEY_ID_LEN + 1];                  /* "edged:v1:<hex digest>" */
	size_t len;                                /* canonical text length */
	size_t uri_len;                            /* its URI part (primary only) */
};

/* Compile the cache_key_* settings.  Header names must be tokens, cookie
 * names tokens, query names non-empty without '&', '=', '#' or a bad '%'
 * escape; at most CKEY_MAX_NAMES per list.  Returns NULL with e filled
 * (ERR_USAGE naming the setting) on a bad name, or ERR_FAIL out of memory.
 * Free with ckey_policy_free. */
struct ckey_policy *ckey_policy_new(const struct ckey_conf *c, struct err *e);

void ckey_policy_free(struct ckey_policy *p);

/* The mode a cache_key_query list means: ["none"] or empty is NONE, ["all"]
 * ALL, anything else an allow-list of those names. */
enum ckey_query ckey_query_mode(const char *const *v, size_t n);

/* The query to send the origin on a cacheable request: what the key holds
 * and nothing else (CloudFront's rule: an unkeyed parameter reflected by
 * the origin would be stored for everyone).  q[0..n) is the query of a
 * normal-form target (no '?'); out (n bytes suffice) gets, for all, q
 * itself; for none, nothing; for an allow-list, the listed parameters in
 * their order, joined by '&'.  Returns the length written. */
size_t ckey_forward_query(const struct ckey_policy *p, const char *q, size_t n, char *out);

/* True for the methods that have a cache key: GET and HEAD. */
bool ckey_method_cached(const char *method);

/* Build r's primary key under p: the canonical text into canon (cap bytes,
 * not NUL-terminated, k->len bytes long), its digests and id into *k.
 * Nothing but the final text is written, so a buffer the key fits in is
 * enough.  The text is at most about three times the request head plus the
 * policy's names (a cookie listed in both cache_key_headers and
 * cache_key_cookies counts three times, a bare "a&" parameter becomes
 * "1:a!"), so CKEY_CANON_SIZE fits any head up to 16 KiB, edged's default
 * max_header_size.  Returns 0, or -1 with e filled when the method is not
 * cached, the text does not fit in cap, more than CKEY_MAX_PARAMS
 * parameters are kept, or hashing fails (the request is then not cached).
 * To invalidate the URI of an unsafe request, build its key with method
 * "GET". */
int ckey_build(const struct ckey_policy *p, const struct ckey_req *r, char *canon,
               size_t cap, struct ckey *k, struct err *e);

/* Parse the values of a response's Vary fields (one span per field line)
 * into names: lower-cased into buf (cap bytes), sorted, without
 * duplicates, each span in names[] pointing into buf.  Returns 0 with
 * *nnames set (0 when Vary lists nothing), 1 when '*' is listed (the
 * response must not be stored), -1 with e filled for an element that is
 * not a token, more than max (or CKEY_MAX_NAMES) names, or no room. */
int ckey_vary_parse(const struct ckey_span *values, size_t nvalues, char *buf, size_t cap,
                    struct ckey_span *names, size_t max, size_t *nnames, struct err *e);

/* Build the variant key of request fields[0..nfields) for the response
 * stored under primary with Vary names[0..nnames) (as ckey_vary_parse or a
 * variant index gives them) and the index's vary_id: canonical text into
 * canon (cap bytes), digest and id into *out (uri fields copied from
 * primary).  Returns 0, or -1 with e filled when the text does not fit or
 * hashing fails. */
int ckey_variant(const struct ckey *primary, uint64_t vary_id,
                 const struct ckey_span *names, size_t nnames,
                 const struct ckey_field *fields, size_t nfields, char *canon, size_t cap,
                 struct ckey *out, struct err *e);

/* Write "edged:v1:" and the lower-case hex of digest, NUL-terminated, into
 * out (CKEY_ID_LEN + 1 bytes). */
void ckey_format_id(const unsigned char digest[CKEY_DIGEST_LEN], char *out);

#endif
