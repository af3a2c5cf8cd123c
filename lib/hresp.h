/*
 * hresp.h: what an origin sends back to the edge's own HTTP/1.1 client:
 * the response head (RFC 9112 sections 2-6, RFC 9110 sections 5 and 15)
 * and the chunked transfer coding of its body (RFC 9112 section 7.1).
 *
 * The head parser works on a buffer that grows as bytes arrive, like
 * cgihdr: it answers "need more", "malformed" or "done", and when done
 * how many bytes the head used and how the body is framed.  Spans in the
 * result point into the caller's buffer.  It is strict: whatever could
 * make two parsers disagree about where this response ends (and the next
 * one starts) is refused rather than guessed at.
 *
 * The chunked decoder is a byte-driven state machine: the caller feeds
 * whatever the socket gave, in any split, and gets the decoded data as
 * spans of its own input (no copy).  No allocation, no global state.
 *
 * The client's loop, with buf holding what was read so far:
 *
 *     for (;;) {
 *         rc = hresp_parse(buf, len, &r, &e);   read more while 0, fail on -1
 *         if (r.status / 100 != 1 || r.status == 101)
 *             break;                        a final response (101: we never
 *         drop r.head_len bytes of buf;     ask to upgrade, so it is an error)
 *     }                                     1xx (100, 103): interim, skip it
 *     switch (hresp_body(&r, method_was_head)) ...
 */
#ifndef EDGED_HRESP_H
#define EDGED_HRESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define HRESP_MAX_HEAD   (64 * 1024) /* a longer head is malformed */
#define HRESP_MAX_FIELDS 128

struct hresp_field {
	const char *name;  /* a token, as sent (compare case-insensitively) */
	size_t nlen;
	const char *value; /* leading and trailing SP/HTAB trimmed */
	size_t vlen;
};

struct hresp {
	unsigned minor;          /* HTTP/1.minor: 0 or 1 */
	unsigned status;         /* 100-599 */
	const char *reason;      /* reason phrase, possibly empty (never NULL) */
	size_t reason_len;
	struct hresp_field fields[HRESP_MAX_FIELDS]; /* every field, in order */
	size_t nfields;
	size_t head_len;         /* bytes of buf the head used, blank line included */

	/* Framing from the header fields (RFC 9112 6.3).  They describe the
	 * body only when it has one: see hresp_no_body() and hresp_body(). */
	bool has_content_length; /* a valid Content-Length that counts */
	uint64_t content_length; /* its value (0 when !has_content_length) */
	bool chunked;            /* Transfer-Encoding whose last coding is chunked */
	bool te_and_cl;          /* both were sent: Content-Length was ignored, and
	                          * the connection must not be reused */
	bool close_delimited;    /* the body ends when the origin closes: neither
	                          * field, or a Transfer-Encoding not ending in
	                          * chunked */
	bool conn_close;         /* "close" in Connection, or HTTP/1.0 without
	                          * "keep-alive" in Connection */
	bool keep_alive;         /* "keep-alive" in Connection */
};

/* How the body of a response is delimited, once hresp_no_body() and the
 * header fields are both taken into account. */
enum hresp_body {
	HRESP_BODY_NONE,    /* no body at all: the next response follows */
	HRESP_BODY_LENGTH,  /* exactly content_length bytes */
	HRESP_BODY_CHUNKED, /* feed hchunk_feed() until it returns 1 */
	HRESP_BODY_CLOSE,   /* everything until the origin closes */
};

/* Parse the response head at the start of buf[0..len).  Returns 1 with *r
 * filled when the head is complete (1xx heads too: the caller skips them
 * and parses again after r->head_len bytes), 0 when more bytes are needed,
 * -1 with e filled when malformed or over HRESP_MAX_HEAD / HRESP_MAX_FIELDS.
 * *r is only meaningful after 1.  Each call scans buf from the start. */
int hresp_parse(const char *buf, size_t len, struct hresp *r, struct err *e);

/* True when a response with this status to a request (HEAD or not) has no
 * body whatever its header fields say: 1xx, 204, 304, or any answer to
 * HEAD (RFC 9110 6.4.1, RFC 9112 6.3 rule 1). */
bool hresp_no_body(unsigned status, bool head_request);

/* The body framing of parsed response r to a request that was HEAD or not
 * (RFC 9112 6.3; the edge never sends CONNECT, so no tunnel case). */
enum hresp_body hresp_body(const struct hresp *r, bool head_request);

/* True when the connection may carry another request once this final
 * response's body has been read: no "close", no Transfer-Encoding with
 * Content-Length, not 101, and a body that does not end at close. */
bool hresp_reusable(const struct hresp *r, bool head_request);

/* The first field named name (case-insensitive), NULL when there is none. */
const struct hresp_field *hresp_get(const struct hresp *r, const char *name);

/* The next field named name after prev (from the first when prev is NULL),
 * NULL when there are no more:
 *     for (f = hresp_next(r, "Set-Cookie", NULL); f; f = hresp_next(r, "Set-Cookie", f)) */
const struct hresp_field *hresp_next(const struct hresp *r, const char *name,
                                     const struct hresp_field *prev);

/* ---- chunked transfer coding ------------------------------------------ */

#define HCHUNK_MAX_LINE    4096        /* a chunk-size line, extensions and all */
#define HCHUNK_MAX_TRAILER (16 * 1024) /* the whole trailer section */
#define HCHUNK_MAX_SIZE    (UINT64_C(1) << 62) /* the largest chunk-size */

struct hchunk {
	int state;          /* private: where in the grammar the decoder is */
	unsigned digits;    /* hex digits of the chunk-size so far */
	uint64_t size;      /* chunk-size being read, then bytes of data left */
	size_t line;        /* bytes of the current chunk-size line */
	size_t trailer;     /* bytes of the trailer section */
	uint64_t total;     /* decoded bytes handed out so far */
};

/* Start decoding a chunked body. */
void hchunk_init(struct hchunk *c);

/* Decode from in[0..len): sets *consumed to the bytes used and *out and
 * *outlen to a span of in holding decoded data (NULL and 0 when none; at
 * most one per call, and it ends at in + *consumed).  Returns 0 when more
 * calls are needed (*consumed > 0 whenever len > 0), 1 once the last chunk
 * and the trailer section (discarded) are complete: in + *consumed is then
 * the first byte after the body.  -1 with e filled on malformed input; the
 * decoder then stays failed.  Any split of the input decodes the same. */
int hchunk_feed(struct hchunk *c, const char *in, size_t len, size_t *consumed,
                const char **out, size_t *outlen, struct err *e);

#endif
