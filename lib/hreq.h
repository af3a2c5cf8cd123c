/*
 * hreq.h: validation of an HTTP/1.1 request head (RFC 9110, RFC 9112),
 * done by edged and origind themselves in the first handler call, before
 * any body is read and before anything reaches an origin, script or file.
 *
 * libmicrohttpd parses the head; it accepts much that a server must
 * refuse (two Host fields, Content-Length with Transfer-Encoding, control
 * bytes in values, odd targets).  The caller feeds the method, target,
 * version and every header field (with lengths, so embedded NULs show)
 * and gets a verdict: 0, or the status to answer with a reason.
 *
 * Also: decoding the path of a request-target for mapping to files.
 * No allocation, no global state.
 */
#ifndef EDGED_HREQ_H
#define EDGED_HREQ_H

#include <stdbool.h>
#include <stddef.h>

struct hreq_limits {
	size_t max_target;   /* longer request-target: 414 */
	long long max_body;  /* larger Content-Length: 413 (<0: no limit) */
};

struct hreq {
	const char *method, *target, *version;
	size_t target_len;
	int n_host;
	const char *host;    /* the Host value (last seen) */
	size_t host_len;
	int n_cl;
	long long content_length; /* -1 when absent */
	int n_te;
	bool te_chunked;     /* the request body is chunked */
	bool expect_continue;
	unsigned status;     /* first problem found while feeding fields */
	char why[160];
};

/* Start checking a request. */
void hreq_begin(struct hreq *h, const char *method, const char *target,
                size_t target_len, const char *version);

/* Feed one header field. */
void hreq_field(struct hreq *h, const char *name, size_t nlen,
                const char *value, size_t vlen);

/* The verdict: 0 when the request may be served, else the status (400,
 * 405 for TRACE/CONNECT, 413, 414, 417, 501 for a transfer coding we do
 * not implement) with h->why saying what was wrong. */
unsigned hreq_finish(struct hreq *h, const struct hreq_limits *l);

/* True when s[0..n) is a valid Host value / authority (RFC 9110 7.2): a
 * DNS host name (labels of 1-63 letters, digits, '-' inside, '_'; at most
 * 253 bytes; one trailing '.'), a dotted-quad IPv4 or an [IPv6] literal,
 * then an optional :port (0-65535); no user info, no percent-escapes.
 * Empty is valid (RFC 9112 3.2). */
bool hreq_valid_authority(const char *s, size_t n);

/* True when method is a token (RFC 9110 5.6.2). */
bool hreq_is_token(const char *s, size_t n);

/* Decode the path of target (origin-form or absolute-form) into out
 * (size outlen): percent-decoded, dot-segments removed (RFC 3986 5.2.4),
 * repeated slashes kept.  The query is not included; *query (if not NULL)
 * points at it in target ("" when none).  Returns 0, or -1 for %00, a bad
 * escape, a path that climbs above the root, or no room. */
int hreq_decode_path(const char *target, char *out, size_t outlen,
                     const char **query);

#endif
