/*
 * cflog.h: lines of CloudFront's standard (access) log format, the
 * formatting alone: no I/O, no libmicrohttpd.  edged's access log
 * (edged/edg_alog.c) fills a struct cflog_rec per request and queues the
 * line cflog_line() makes.
 *
 * The format (W3C extended, as CloudFront writes it): a "#Version: 1.0"
 * line, a "#Fields:" line naming the 33 fields, then one line per request
 * with the fields in that order, separated by one tab.  An empty or
 * unknown value is a single "-".  Date and time are UTC.
 *
 * Values that come from the viewer or the origin (the request-target,
 * Referer, User-Agent, Cookie, X-Forwarded-For, Host, Content-Type, the
 * method) are percent-encoded where they could break the line or the
 * field: every byte below 0x21 (space, tab, CR, LF and the other control
 * characters), DEL and every byte above it (non-ASCII, UTF-8 included),
 * and the characters " < > \ ^ ` { | } become %XX (upper-case hex), as
 * CloudFront URL-encodes them.  The request-target's stem and query are
 * already URL-encoded by the viewer, so their '%' is kept as sent (one
 * decode gives the URL as a server sees it); in the header values '%'
 * itself is encoded as %25 too, so one decode gives back the exact value.
 * No field ever holds a raw tab, CR or LF.
 */
#ifndef EDGED_CFLOG_H
#define EDGED_CFLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CFLOG_NFIELDS 33

/* The two header lines, each ending in "\n". */
extern const char cflog_header[];

/* How a value is escaped (see the top of the file). */
enum cflog_esc {
	CFLOG_ESC_URI,  /* request-target parts: '%' kept */
	CFLOG_ESC_TEXT, /* header values and everything else: '%' encoded */
};

/* Escape s[0..n) into out (at most cap bytes, no NUL added); returns the
 * length the whole escaped value needs, so a result over cap means out
 * holds a prefix (never a partial %XX).  An empty value is "-". */
size_t cflog_escape(char *out, size_t cap, const char *s, size_t n, enum cflog_esc how);

/* The path (*stem, *stem_len) and query (*query, *query_len, without the
 * '?', NULL when there is none) of a request-target: origin-form "/a?b",
 * absolute-form "https://host/a?b" (the authority dropped; no path is
 * "/"), or anything else ("*") as it is. */
void cflog_split_target(const char *target, const char **stem, size_t *stem_len,
                        const char **query, size_t *query_len);

/* Why the edge answered a request itself (mirrors edged's EDG_LOCAL_*). */
enum cflog_local {
	CFLOG_LOCAL_NONE,
	CFLOG_LOCAL_INVALID,      /* refused request (400, 405, 413, 431, 501 ...) */
	CFLOG_LOCAL_REDIRECT,     /* 301 to HTTPS */
	CFLOG_LOCAL_DENIED,       /* 403 for plain HTTP under https-only */
	CFLOG_LOCAL_ORIGIN_ERROR, /* 502/504: the origin failed */
};

/* What happened to a request, for the three result-type fields. */
struct cflog_outcome {
	const char *xcache;       /* X-Cache sent ("Hit from edged", "Miss from
	                           * edged", ...), NULL: none */
	enum cflog_local local;
	unsigned status;          /* status answered, 0: none */
	const char *origin_error; /* detailed type of an origin failure
	                           * ("OriginConnectError"), NULL: none */
	bool aborted;             /* the viewer went away, or the answer broke
	                           * off, before it was complete */
};

/* x-edge-result-type, x-edge-response-result-type and
 * x-edge-detailed-result-type as CloudFront sets them:
 *   response: Hit / RefreshHit / Miss from X-Cache, Redirect for the
 *     edge's 301, Error for a refused request, an origin failure, a 4xx
 *     or 5xx (also from the origin or the cache) or no answer at all;
 *   result: the same, but Error when the viewer did not get the whole
 *     answer (CloudFront: "Error" here and not in the response type means
 *     the client disconnected);
 *   detailed: the result unless it is Error; then origin_error, or
 *     InvalidRequestMethod (405, 501), InvalidRequestHeader (431),
 *     InvalidRequest (other refusals), ClientCommError (the viewer went
 *     away), else Error.
 * The strings are static. */
void cflog_classify(const struct cflog_outcome *o, const char **result,
                    const char **response_result, const char **detailed);

/* One request.  Strings may be NULL or "" ("-" is written); numbers
 * documented as -1 (or 0) for "none" are written as "-". */
struct cflog_rec {
	time_t end;                  /* the request's end (UTC date and time) */
	const char *edge_location;   /* x-edge-location: the node name */
	uint64_t sc_bytes;           /* response head + body bytes */
	const char *c_ip;
	const char *method;
	const char *host;            /* cs(Host) */
	const char *target;          /* raw request-target: cs-uri-stem and
	                              * cs-uri-query come from it */
	unsigned status;             /* 0: written as 000 (no answer) */
	const char *referer, *user_agent;
	const char *cookie;
	const char *result_type;
	const char *request_id;
	const char *host_header;     /* x-host-header */
	const char *protocol;        /* "https" / "http" */
	uint64_t cs_bytes;           /* request head + body bytes */
	int64_t time_taken_ms;       /* written in seconds, 3 decimals */
	const char *forwarded_for;   /* the viewer's X-Forwarded-For */
	const char *ssl_protocol;    /* "TLSv1.3", "" over plain HTTP */
	const char *ssl_cipher;
	const char *response_result_type;
	const char *protocol_version; /* "HTTP/1.1" */
	unsigned c_port;             /* 0: - */
	int64_t ttfb_ms;             /* time to first byte, -1: - */
	const char *detailed_result_type;
	const char *content_type;
	long long content_len;       /* -1: - */
	long long range_start, range_end; /* -1: - */
};

/* The line of r ("\n"-terminated, NUL after it), malloc'd; its length
 * (without the NUL) in *len.  NULL when out of memory. */
char *cflog_line(const struct cflog_rec *r, size_t *len);

#endif
