/*
 * cachepol.h: the policy of edged's shared cache (RFC 9111 "HTTP Caching",
 * with the parts of RFC 9110 it leans on, RFC 5861 stale-while-revalidate
 * and stale-if-error, RFC 9213 CDN-Cache-Control).  Pure decisions: no I/O,
 * no allocation, no global state, and no clock: every time is int64_t Unix
 * seconds passed in by the caller, so the same inputs always give the same
 * answer (and the tests are deterministic).
 *
 * The cache uses it in five places:
 *
 *   1. A request arrives.  Summarise it:
 *          cachepol_req_init(&q, method, mlen);
 *          for each request field: cachepol_req_field(&q, name, nlen, value, vlen);
 *      (Cache-Control, Pragma, Authorization and the conditional fields are
 *      noted; the conditional values are kept as spans into the caller's
 *      buffer, which must outlive q.)
 *
 *   2. Nothing stored for the key: cachepol_on_miss(&q, &cfg) says fetch,
 *      or 504 for only-if-cached.
 *
 *   3. An origin response arrives (request sent at t0, head received at t1).
 *      Summarise it and ask whether to store it:
 *          cachepol_resp_init(&r, status, t0, t1);
 *          for each response field: cachepol_resp_field(&r, name, nlen, value, vlen);
 *          cachepol_resp_done(&r, &cfg);
 *          why = cachepol_storable(&r, &q, &cfg);        CACHEPOL_STORE or the reason not
 *          cachepol_freshness(&r, &cfg, &f);             lifetime, heuristic or not
 *          ttl = cachepol_store_ttl(&r, &f, &cfg, t1);   the Redis entry's TTL
 *      and store only the fields cachepol_store_field(&r, name, nlen) keeps.
 *      struct cachepol_resp is plain data without pointers: the cache may
 *      keep it beside the entry or rebuild it from the stored fields.
 *
 *   4. A stored response is found for a request:
 *          cachepol_use(&stored, &f, &q, &cfg, now, &u);
 *      says serve it fresh, serve it stale (and maybe refresh it in the
 *      background), revalidate it with the origin, or answer 504; with the
 *      Age to send and whether stale-if-error allows it when the origin
 *      fails (cachepol_is_origin_error()).  When serving it,
 *      cachepol_conditional(&stored, &q, &cfg) says whether the viewer gets
 *      a 304 (only fields cachepol_304_field() keeps), a 412, the full
 *      response, or whether the request must go to the origin.
 *
 *   5. The origin answers a revalidation with 304: replace every stored field
 *      whose name cachepol_update_field(&r304, name, nlen) accepts with the
 *      304's lines of that name, keep the others, then rebuild the summary
 *      from the merged fields with the revalidation's times (RFC 9111 3.2,
 *      4.3.4).  An unsafe request answered 2xx/3xx invalidates its URI
 *      (cachepol_invalidates()) and the same-origin Location /
 *      Content-Location (cachepol_invalidation_target(), RFC 9111 4.4).
 *
 * Rules where the RFCs leave a choice, each with its reason:
 *   - Directive names are case-insensitive; arguments may be tokens or
 *     quoted strings (RFC 9111 5.2: "recipients ought to accept both
 *     forms"); `max-age="60"` is 60.  A comma inside quotes is not a
 *     separator, so `ext="max-age=9", max-age=1` is max-age=1.
 *   - delta-seconds is 1*DIGIT; leading zeros are fine; a larger value than
 *     2^31 becomes 2147483648 (RFC 9111 1.2.2).
 *   - A freshness directive (max-age, s-maxage) that is present but not a
 *     valid delta-seconds (`max-age=-1`, `=1.5`, `='60'`, `=`, `max-age =60`,
 *     bare `max-age`) makes the response stale (lifetime 0), as RFC 9111
 *     4.2.1 encourages; it is not ignored, so ttl_default never revives it.
 *     The cache-tests suite requires "not cached" for each of these.
 *   - Duplicate directives: the first occurrence counts, across all field
 *     lines (RFC 9111 4.2.1 offers "first occurrence" or "stale"; cache-tests
 *     only checks).  no-cache and private are the exception: the unqualified
 *     form anywhere wins, and field-name lists add up.
 *   - A malformed element whose name is a restricting directive (no-store,
 *     no-cache, private, must-revalidate, proxy-revalidate) still restricts;
 *     one that relaxes (public, must-understand, immutable) counts only when
 *     well formed and without an argument.  Unknown directives are ignored.
 *   - no-cache="a, b" (or the token form no-cache=a): the response may be
 *     served without revalidation, but fields a and b are not stored
 *     (RFC 9111 5.2.2.4 and 3.1; cache-tests headers-omit-*).  private="a":
 *     stored without field a (RFC 9111 5.2.2.7).  A list that is malformed,
 *     empty or longer than CACHEPOL_NAMES_MAX acts as the unqualified form.
 *   - Request directives with a malformed value are ignored: they only
 *     express the client's preference, and the issue wants garbage never to
 *     bypass the cache.  Bare max-stale means any staleness.
 *   - Pragma is ignored in requests and responses (RFC 9111 5.4 deprecates
 *     it; cache-tests pragma-request-no-cache expects a hit).  With
 *     cfg.honor_pragma, request `Pragma: no-cache` without any request
 *     Cache-Control acts as no-cache (the RFC 7234 rule).
 *   - Request no-store: the response is not stored, but a stored response
 *     may still answer (RFC 9111 5.2.1.5).
 *   - Age: the first element of the first Age line, if it is 1*DIGIT
 *     (clamped to 2^31); anything else (`abc`, `-5`, `1.5`, empty) counts as
 *     absent, i.e. 0 (RFC 9111 4.2.3 "age_value ... or 0, if not
 *     available").
 *   - Expires: the first line counts; an invalid date ("0", "-1", a
 *     two-digit year, UTC, ...) means already expired (RFC 9111 5.3).  Date
 *     invalid or absent: the time the response was received (RFC 9110
 *     6.6.1).  HTTP-dates accept the three formats of RFC 9110 5.6.7 with
 *     exact spacing, with day and month names and "GMT" in any case
 *     (cache-tests "should" accept THU / AUG / gMT); the weekday is not
 *     checked against the date.  RFC 850 two-digit years more than 50 years
 *     ahead of the reference time are taken as the previous century.
 *   - Freshness for this shared cache (RFC 9111 4.2.1): s-maxage, else
 *     max-age, else Expires - Date; then clamped to [ttl_min, ttl_max].
 *     Without explicit freshness a lifetime is assigned only where RFC 9111
 *     4.2.2 allows a heuristic (status heuristically cacheable by RFC 9110
 *     15.1: 200 203 204 206 300 301 308 404 405 410 414 501, or `public`):
 *       error status (>= 400) and error_caching_ttl > 0: error_caching_ttl;
 *       ttl_default > 0: ttl_default;
 *       else, with Last-Modified: heuristic_percent (10) % of Date -
 *       Last-Modified, at most heuristic_max (1 day);
 *       else 0.
 *     All of these count as heuristic.  cfg.error_ttl_any_status extends
 *     error_caching_ttl to every 4xx/5xx (CloudFront's behaviour); it is off
 *     by default because cache-tests requires 403, 502, 503 and 504 without
 *     freshness not to be reused.
 *   - Targeted fields (RFC 9213): a valid, non-empty CDN-Cache-Control
 *     (parsed as a Structured Fields Dictionary, RFC 8941) replaces
 *     Cache-Control and Expires for this cache; the whole field is ignored
 *     on a parse error or when a known directive has the wrong type
 *     (`max-age="60"`, `max-age=1.5`, `max-age=-1`).  Then Surrogate-Control
 *     (Edge Architecture 1.0), read like Cache-Control, when it holds
 *     max-age, no-store or no-store-remote.  Both can be turned off.
 *   - Not stored (shared cache, RFC 9111 3): methods other than GET (a HEAD
 *     answer has no content to serve GETs; POST caching is not supported);
 *     1xx, 206 (no partial storage) and 304 (it only freshens); no-store in
 *     the response (unless must-understand with a status this cache
 *     understands, RFC 9111 5.2.2.3) or in the request; unqualified private;
 *     must-understand with a status not understood; Authorization in the
 *     request without public, s-maxage or must-revalidate (RFC 9111 3.5);
 *     Cookie in the request, unless the response has explicit shared
 *     freshness (public, s-maxage, or max-age in CDN-Cache-Control or
 *     Surrogate-Control) or cfg.cookies_keyed: a page an origin personalised
 *     from the cookie, stored heuristically under a cookie-less key, would
 *     be served to everyone (cache deception);
 *     Vary: * (never matches, RFC 9111 4.1); Set-Cookie unless
 *     cfg.cache_set_cookie; none of public / Expires / max-age / s-maxage /
 *     heuristically cacheable status; a Connection list too long to track;
 *     and, as useless, a response without a validator (ETag or
 *     Last-Modified) that could never be served without a full fetch:
 *     unqualified no-cache, or stale on arrival with no stale-while-
 *     revalidate / stale-if-error window.  (So a client's max-stale cannot
 *     reach such a response: cache-tests' ccreq-max-stale-age, a "check",
 *     is given up to save a Redis write per uncacheable miss.)
 *   - Stale responses are never served when must-revalidate,
 *     proxy-revalidate or s-maxage (shared cache: RFC 9111 5.2.2.10) or
 *     unqualified no-cache is present, not even with the client's max-stale
 *     or stale-if-error (RFC 9111 4.2.4).
 *   - Conditional requests (RFC 9111 4.3.2, RFC 9110 13.2.2): If-None-Match
 *     (weak comparison, `*`, lists) wins over If-Modified-Since, which
 *     counts only for GET and HEAD and compares with Last-Modified, else
 *     Date, else the time received.  If-Match and If-Unmodified-Since "are
 *     not applicable to a cache" (RFC 9111 4.3.2), so a request with either
 *     goes to the origin, unless cfg.evaluate_if_match evaluates them
 *     against the stored response (412 when they fail), as a gateway may.
 *     A malformed If-None-Match matches nothing; a malformed
 *     If-Modified-Since is ignored.
 */
#ifndef EDGED_CACHEPOL_H
#define EDGED_CACHEPOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHEPOL_DELTA_MAX  INT64_C(2147483648)  /* 2^31: delta-seconds saturate here */
#define CACHEPOL_TIME_NONE  INT64_MIN            /* "no such time" */
#define CACHEPOL_NAMES_MAX  128  /* bytes of a field-name list kept (lower case, "a,b") */
#define CACHEPOL_ETAG_MAX   192  /* longest ETag kept for conditional requests */
#define CACHEPOL_DATE_LEN   29   /* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define CACHEPOL_COND_LINES 8    /* If-None-Match / If-Match lines tracked */

/* ---- operator settings -------------------------------------------------- */

struct cachepol_config {
	int64_t ttl_default;       /* lifetime without explicit freshness where a
	                            * heuristic is allowed; 0 = strict RFC (the
	                            * Last-Modified heuristic) */
	int64_t ttl_min;           /* every computed lifetime is clamped to */
	int64_t ttl_max;           /* [ttl_min, ttl_max] (error TTL excepted) */
	int64_t error_caching_ttl; /* 4xx/5xx without explicit freshness; 0 = off */
	bool error_ttl_any_status; /* also for statuses not heuristically cacheable */
	int64_t heuristic_max;     /* cap of the Last-Modified heuristic */
	unsigned heuristic_percent;/* of Date - Last-Modified */
	int64_t keep;              /* extra Redis TTL for entries with a validator,
	                            * so that they can be revalidated once stale */
	int64_t stale_if_error;    /* window when the origin sets none (operator's
	                            * "serve stale when disconnected"); 0 = off */
	bool cache_set_cookie;     /* store responses carrying Set-Cookie */
	bool cookies_keyed;        /* the cache key holds cookies: a response to a
	                            * request with Cookie is stored as any other */
	bool honor_pragma;         /* request Pragma: no-cache (RFC 7234 rule) */
	bool cdn_cache_control;    /* honour CDN-Cache-Control (RFC 9213) */
	bool surrogate_control;    /* honour Surrogate-Control */
	bool evaluate_if_match;    /* answer If-Match / If-Unmodified-Since (412) */
};

/* Fill c with the defaults: ttl_default 0, ttl_min 0, ttl_max 2^31,
 * error_caching_ttl 10, error_ttl_any_status false, heuristic 10 % capped at
 * 86400, keep 86400, stale_if_error 0, cache_set_cookie false, honor_pragma
 * false, cdn_cache_control and surrogate_control true, evaluate_if_match
 * false. */
void cachepol_config_default(struct cachepol_config *c);

/* ---- Cache-Control ------------------------------------------------------ */

/* Directive bits of struct cachepol_cc.flags.  *_BAD: present, but the
 * argument is not valid (response: stale; request: ignored). */
enum {
	CACHEPOL_CC_NO_STORE         = 1u << 0,
	CACHEPOL_CC_NO_CACHE         = 1u << 1,  /* unqualified */
	CACHEPOL_CC_NO_CACHE_FIELDS  = 1u << 2,  /* no-cache="names" */
	CACHEPOL_CC_PRIVATE          = 1u << 3,  /* unqualified */
	CACHEPOL_CC_PRIVATE_FIELDS   = 1u << 4,  /* private="names" */
	CACHEPOL_CC_PUBLIC           = 1u << 5,
	CACHEPOL_CC_MUST_REVALIDATE  = 1u << 6,
	CACHEPOL_CC_PROXY_REVALIDATE = 1u << 7,
	CACHEPOL_CC_MUST_UNDERSTAND  = 1u << 8,
	CACHEPOL_CC_NO_TRANSFORM     = 1u << 9,
	CACHEPOL_CC_IMMUTABLE        = 1u << 10,
	CACHEPOL_CC_ONLY_IF_CACHED   = 1u << 11,
	CACHEPOL_CC_MAX_AGE          = 1u << 12,
	CACHEPOL_CC_MAX_AGE_BAD      = 1u << 13,
	CACHEPOL_CC_S_MAXAGE         = 1u << 14,
	CACHEPOL_CC_S_MAXAGE_BAD     = 1u << 15,
	CACHEPOL_CC_MAX_STALE        = 1u << 16,
	CACHEPOL_CC_MAX_STALE_BAD    = 1u << 17,
	CACHEPOL_CC_MIN_FRESH        = 1u << 18,
	CACHEPOL_CC_MIN_FRESH_BAD    = 1u << 19,
	CACHEPOL_CC_SWR              = 1u << 20, /* stale-while-revalidate */
	CACHEPOL_CC_SWR_BAD          = 1u << 21,
	CACHEPOL_CC_SIE              = 1u << 22, /* stale-if-error */
	CACHEPOL_CC_SIE_BAD          = 1u << 23,
};

/* The directives of one or more field lines.  Values are valid only when
 * their bit is set (and the _BAD bit is not); they are in [0, 2^31]. */
struct cachepol_cc {
	uint32_t flags;
	int64_t max_age, s_maxage, max_stale, min_fresh, swr, sie;
	char no_cache_names[CACHEPOL_NAMES_MAX]; /* "a,b" lower case, NUL-terminated */
	char private_names[CACHEPOL_NAMES_MAX];
};

/* Empty directive set. */
void cachepol_cc_init(struct cachepol_cc *cc);

/* Add the directives of one Cache-Control field line v[0..vlen) to cc
 * (call once per line, in order).  Never fails: what cannot be parsed is
 * handled as described at the top.  Reads only v[0..vlen). */
void cachepol_cc_parse(struct cachepol_cc *cc, const char *v, size_t vlen);

/* Parse one CDN-Cache-Control line as an RFC 8941 Dictionary into cc.
 * Returns 1 when the line is valid and non-empty, 0 when valid and empty,
 * -1 when the field must be ignored (cc is then unspecified). */
int cachepol_cc_parse_sf(struct cachepol_cc *cc, const char *v, size_t vlen);

/* True when name[0..nlen) (any case) is in the list (lower-case "a,b"). */
bool cachepol_names_has(const char *list, const char *name, size_t nlen);

/* ---- HTTP-date ---------------------------------------------------------- */

/* Parse an HTTP-date (IMF-fixdate, RFC 850 or asctime; surrounding OWS
 * allowed) into *t.  ref is "now" for RFC 850 two-digit years: the year
 * within 50 years of it (CACHEPOL_TIME_NONE: 70-99 are 19xx, 00-69 20xx).
 * Returns 0, or -1 when s[0..len) is not a valid date. */
int cachepol_date_parse(const char *s, size_t len, int64_t ref, int64_t *t);

/* Write t as an IMF-fixdate and a NUL into out[CACHEPOL_DATE_LEN + 1].
 * Returns 0, or -1 (out = "") when the year is outside 0000-9999. */
int cachepol_date_format(int64_t t, char *out);

/* ---- requests ----------------------------------------------------------- */

enum cachepol_method {
	CACHEPOL_M_GET, CACHEPOL_M_HEAD, CACHEPOL_M_POST, CACHEPOL_M_OPTIONS,
	CACHEPOL_M_TRACE, CACHEPOL_M_OTHER,
};

struct cachepol_span {
	const char *p;
	size_t len;
};

struct cachepol_req {
	enum cachepol_method method;
	struct cachepol_cc cc;        /* request Cache-Control */
	bool has_cc;                  /* at least one Cache-Control line */
	bool pragma_no_cache;         /* Pragma: no-cache seen */
	bool authorization;           /* Authorization present */
	bool cookie;                  /* a non-empty Cookie present */
	/* conditional fields, as spans into the caller's buffer */
	struct cachepol_span inm[CACHEPOL_COND_LINES], im[CACHEPOL_COND_LINES];
	unsigned n_inm, n_im;         /* lines seen (may exceed the array: then
	                               * the field counts as malformed) */
	struct cachepol_span ims, ius;/* first line; n_* counts the lines */
	unsigned n_ims, n_ius;
};

/* Start summarising a request with method m[0..mlen) (case-sensitive, RFC
 * 9110 9.1). */
void cachepol_req_init(struct cachepol_req *q, const char *m, size_t mlen);

/* Note one request field line (any name: uninteresting ones are skipped). */
void cachepol_req_field(struct cachepol_req *q, const char *name, size_t nlen,
                        const char *value, size_t vlen);

/* ---- responses ---------------------------------------------------------- */

/* Where the directives that rule this cache came from. */
enum cachepol_ccsrc {
	CACHEPOL_SRC_CACHE_CONTROL,
	CACHEPOL_SRC_CDN_CACHE_CONTROL,
	CACHEPOL_SRC_SURROGATE_CONTROL,
};

struct cachepol_resp {
	unsigned status;
	int64_t request_time, response_time; /* caller's clock */
	struct cachepol_cc cc;       /* effective directives (after cachepol_resp_done) */
	enum cachepol_ccsrc cc_src;
	int64_t date;                /* Date, or response_time when absent/invalid */
	bool has_date;               /* a valid Date was received */
	bool has_expires;            /* an Expires line was received */
	int64_t expires;             /* its value; CACHEPOL_TIME_NONE when invalid */
	int64_t last_modified;       /* CACHEPOL_TIME_NONE when absent/invalid */
	bool has_age;
	int64_t age;                 /* Age value (0 when absent or invalid) */
	char etag[CACHEPOL_ETAG_MAX];/* first ETag line, NUL-terminated ("" none) */
	bool vary_star;              /* Vary contains "*" */
	bool set_cookie;             /* Set-Cookie present */
	bool names_overflow;         /* a Connection list was too long */
	char conn_names[CACHEPOL_NAMES_MAX]; /* names listed in Connection */
	/* parse state (private) */
	struct cachepol_cc cc_plain, cc_cdn, cc_sur;
	int cdn_state;               /* 0 none, 1 valid non-empty, 2 empty, -1 invalid */
	unsigned cdn_lines, cdn_empty;
	bool sur_seen, date_seen, lm_seen, age_seen, etag_seen;
};

/* Start summarising a response with this status to a request sent at
 * request_time whose head arrived at response_time. */
void cachepol_resp_init(struct cachepol_resp *r, unsigned status, int64_t request_time,
                        int64_t response_time);

/* Note one response field line (any name). */
void cachepol_resp_field(struct cachepol_resp *r, const char *name, size_t nlen,
                         const char *value, size_t vlen);

/* Finish: choose the effective directives (targeted fields, RFC 9213). */
void cachepol_resp_done(struct cachepol_resp *r, const struct cachepol_config *cfg);

/* ---- freshness and age -------------------------------------------------- */

enum cachepol_fsrc {
	CACHEPOL_F_S_MAXAGE, CACHEPOL_F_MAX_AGE, CACHEPOL_F_EXPIRES, /* explicit */
	CACHEPOL_F_ERROR,      /* error_caching_ttl */
	CACHEPOL_F_DEFAULT,    /* ttl_default */
	CACHEPOL_F_LAST_MOD,   /* Last-Modified heuristic */
	CACHEPOL_F_NONE,       /* no explicit freshness, no heuristic allowed: 0 */
};

struct cachepol_fresh {
	int64_t lifetime;         /* seconds, clamped, in [0, 2^31] */
	enum cachepol_fsrc src;
	bool heuristic;           /* not explicit (RFC 9111 4.2.2) */
};

/* Freshness lifetime of r for this shared cache (RFC 9111 4.2.1, 4.2.2). */
void cachepol_freshness(const struct cachepol_resp *r, const struct cachepol_config *cfg,
                        struct cachepol_fresh *f);

/* The terms of RFC 9111 4.2.3, all in [0, 2^31]. */
struct cachepol_age {
	int64_t apparent_age, response_delay, corrected_age_value, corrected_initial_age,
	        resident_time, current_age;
};

/* Compute the age of r at time now. */
void cachepol_age(const struct cachepol_resp *r, int64_t now, struct cachepol_age *a);

/* True for status codes heuristically cacheable by default (RFC 9110 15.1). */
bool cachepol_heuristic_status(unsigned status);

/* ---- storing ------------------------------------------------------------ */

enum cachepol_store {
	CACHEPOL_STORE = 0,        /* "stored" */
	CACHEPOL_NS_METHOD,        /* request method not cached */
	CACHEPOL_NS_STATUS,        /* 1xx, 206, 304 */
	CACHEPOL_NS_NO_STORE,      /* no-store in the response */
	CACHEPOL_NS_REQ_NO_STORE,  /* no-store in the request */
	CACHEPOL_NS_PRIVATE,
	CACHEPOL_NS_MUST_UNDERSTAND,
	CACHEPOL_NS_AUTHORIZATION,
	CACHEPOL_NS_COOKIE,        /* Cookie in the request, the cookies not keyed,
	                            * and no explicit shared freshness */
	CACHEPOL_NS_VARY_STAR,
	CACHEPOL_NS_SET_COOKIE,
	CACHEPOL_NS_NOT_CACHEABLE, /* nothing allows storing (RFC 9111 3, last item) */
	CACHEPOL_NS_CONNECTION,    /* Connection list too long to honour */
	CACHEPOL_NS_STALE,         /* no validator and never usable without a full
	                            * fetch: no-cache, or stale on arrival with no
	                            * stale window ("stale-no-validator") */
};

/* Whether the shared cache may store r, the response to q. */
enum cachepol_store cachepol_storable(const struct cachepol_resp *r, const struct cachepol_req *q,
                                      const struct cachepol_config *cfg);

/* A short token for logs and Cache-Status: "stored", or the reason it was
 * not ("no-store", "private", ...): Cache-Status: edged; fwd=miss; detail=... */
const char *cachepol_store_str(enum cachepol_store s);

/* The Redis TTL for r stored at time now with freshness f: the freshness
 * left, plus the longest of stale-while-revalidate, stale-if-error (origin
 * or cfg) and, when r has a validator, cfg->keep; at least 1. */
int64_t cachepol_store_ttl(const struct cachepol_resp *r, const struct cachepol_fresh *f,
                           const struct cachepol_config *cfg, int64_t now);

/* Whether a field of r named name[0..nlen) is stored: false for hop-by-hop
 * fields (Connection and the names it lists, Keep-Alive, Proxy-Connection,
 * TE, Transfer-Encoding, Upgrade, Trailer), Proxy-Authenticate,
 * Proxy-Authentication-Info, Proxy-Authorization (RFC 9111 3.1), and the
 * names of a qualified no-cache or private. */
bool cachepol_store_field(const struct cachepol_resp *r, const char *name, size_t nlen);

/* Whether a field of the 304 r304 named name replaces the stored lines of
 * that name (RFC 9111 3.2): what cachepol_store_field keeps, except
 * Content-Length. */
bool cachepol_update_field(const struct cachepol_resp *r304, const char *name, size_t nlen);

/* ---- using a stored response -------------------------------------------- */

enum cachepol_action {
	CACHEPOL_FETCH,            /* nothing usable stored: go to the origin */
	CACHEPOL_HIT,              /* fresh: serve it */
	CACHEPOL_HIT_STALE,        /* stale, but the client's max-stale allows it */
	CACHEPOL_STALE_REVALIDATE, /* serve stale now, revalidate in the background */
	CACHEPOL_REVALIDATE,       /* validate with the origin before use */
	CACHEPOL_GATEWAY_TIMEOUT,  /* only-if-cached and nothing usable: 504 */
};

struct cachepol_use {
	enum cachepol_action action;
	int64_t age;              /* current age: the Age field to send */
	int64_t lifetime;
	int64_t remaining;        /* lifetime - age; < 0 when stale */
	bool stale;
	bool serve_on_error;      /* on REVALIDATE: the stored response may answer
	                           * when the origin fails (cachepol_is_origin_error) */
	const char *detail;       /* why: "fresh", "stale", "req-no-cache", ... */
};

/* What to do with stored response s (freshness f) for request q at now. */
void cachepol_use(const struct cachepol_resp *s, const struct cachepol_fresh *f,
                  const struct cachepol_req *q, const struct cachepol_config *cfg, int64_t now,
                  struct cachepol_use *u);

/* With nothing stored: CACHEPOL_FETCH, or CACHEPOL_GATEWAY_TIMEOUT for
 * only-if-cached (RFC 9111 5.2.1.7). */
enum cachepol_action cachepol_on_miss(const struct cachepol_req *q);

/* True when an origin answer counts as an error for stale-if-error (RFC 5861
 * 4: 500, 502, 503, 504); a failed connection or timeout also does. */
bool cachepol_is_origin_error(unsigned status);

/* ---- conditional requests ----------------------------------------------- */

enum cachepol_cond {
	CACHEPOL_COND_FULL,        /* no applicable condition or it passed: full response */
	CACHEPOL_COND_304,         /* 304 Not Modified */
	CACHEPOL_COND_412,         /* 412 Precondition Failed (evaluate_if_match only) */
	CACHEPOL_COND_FORWARD,     /* If-Match / If-Unmodified-Since: ask the origin */
};

/* Evaluate q's preconditions against stored response s (RFC 9111 4.3.2,
 * RFC 9110 13.2.2). */
enum cachepol_cond cachepol_conditional(const struct cachepol_resp *s, const struct cachepol_req *q,
                                        const struct cachepol_config *cfg);

/* Whether a stored field goes into a 304 made from the cache (RFC 9110
 * 15.4.5): Cache-Control, Content-Location, Date, ETag, Expires, Vary and
 * Last-Modified (useful to caches when there is no ETag). */
bool cachepol_304_field(const char *name, size_t nlen);

/* Entity-tag comparison of two entity-tags (RFC 9110 8.8.3.2): weak (W/
 * ignored) or strong (both strong and equal).  Malformed tags never match. */
bool cachepol_etag_match(const char *a, size_t alen, const char *b, size_t blen, bool weak);

/* Whether If-None-Match / If-Match list lines match the entity-tag etag:
 * 1 match, 0 no match, -1 malformed list.  "*" matches any stored response. */
int cachepol_etag_list_match(const struct cachepol_span *lines, unsigned n, const char *etag,
                             size_t elen, bool weak);

/* If-Range (RFC 9110 13.1.5): true when the Range may be served from s. */
bool cachepol_if_range(const struct cachepol_resp *s, const char *v, size_t vlen);

/* ---- invalidation ------------------------------------------------------- */

/* True when a response with this status to method m[0..mlen) invalidates
 * the target URI: an unsafe method (anything but GET, HEAD, OPTIONS, TRACE)
 * and a non-error status, 2xx or 3xx (RFC 9111 4.4). */
bool cachepol_invalidates(const char *m, size_t mlen, unsigned status);

/* Resolve a Location or Content-Location value uri[0..ulen) against the
 * request (scheme "https"/"http", authority "host[:port]", path with query
 * "/a/b?x").  Returns 1 with the same-origin path (and query, no fragment)
 * in out as a NUL-terminated string, 0 when the URI is of another origin or
 * unusable, -1 when out (outsz bytes) is too small. */
int cachepol_invalidation_target(const char *scheme, const char *authority, const char *req_path,
                                 const char *uri, size_t ulen, char *out, size_t outsz);

#endif
