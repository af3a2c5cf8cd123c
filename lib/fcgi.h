/*
 * fcgi.h: the FastCGI 1.0 wire format (the FastCGI Specification, Open
 * Market, 1996), as a web server (the client side) needs it: record
 * headers, the BEGIN_REQUEST and END_REQUEST bodies, name-value pairs and
 * an incremental record reader.
 *
 * A record is an 8-byte header (version 1, type, requestId,
 * contentLength, paddingLength, reserved), contentLength bytes of content
 * and paddingLength bytes of padding: at most 8 + 65535 + 255 bytes.
 * Everything here is pure computation on caller buffers: no I/O, no
 * allocation, no global state; any thread may use it.
 */
#ifndef EDGED_FCGI_H
#define EDGED_FCGI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define FCGI_VERSION_1     1
#define FCGI_HEADER_LEN    8
#define FCGI_MAX_CONTENT   65535
#define FCGI_MAX_PADDING   255
#define FCGI_MAX_RECORD    (FCGI_HEADER_LEN + FCGI_MAX_CONTENT + FCGI_MAX_PADDING)
#define FCGI_NULL_REQUEST_ID 0    /* management records */
#define FCGI_NV_MAX_LEN    0x7fffffffu /* a name or value length (31 bits) */

enum fcgi_type {
	FCGI_BEGIN_REQUEST = 1,
	FCGI_ABORT_REQUEST = 2,
	FCGI_END_REQUEST = 3,
	FCGI_PARAMS = 4,
	FCGI_STDIN = 5,
	FCGI_STDOUT = 6,
	FCGI_STDERR = 7,
	FCGI_DATA = 8,
	FCGI_GET_VALUES = 9,
	FCGI_GET_VALUES_RESULT = 10,
	FCGI_UNKNOWN_TYPE = 11,
};

enum fcgi_role { FCGI_RESPONDER = 1, FCGI_AUTHORIZER = 2, FCGI_FILTER = 3 };

#define FCGI_KEEP_CONN 1 /* BEGIN_REQUEST flag: do not close after the reply */

enum fcgi_protocol_status {
	FCGI_REQUEST_COMPLETE = 0,
	FCGI_CANT_MPX_CONN = 1,
	FCGI_OVERLOADED = 2,
	FCGI_UNKNOWN_ROLE = 3,
};

struct fcgi_header {
	unsigned version;
	unsigned type;
	unsigned request_id;
	size_t content_length;
	size_t padding_length;
};

struct fcgi_end_request {
	uint32_t app_status;       /* the application's exit status */
	unsigned protocol_status;  /* enum fcgi_protocol_status (or other) */
};

/* Write a record header (version 1) into out[0..8).  Fails when type or
 * request_id do not fit their fields (255, 65535), content_length is over
 * 65535 or padding_length over 255. */
int fcgi_header_encode(uint8_t *out, unsigned type, unsigned request_id,
                       size_t content_length, size_t padding_length,
                       struct err *e);

/* Read a record header from in[0..8).  Fails on a version other than 1
 * (the fields are still filled, for the message). */
int fcgi_header_decode(const uint8_t *in, struct fcgi_header *h, struct err *e);

/* Write a whole BEGIN_REQUEST record (header and 8-byte body, 16 bytes)
 * into out: role (FCGI_RESPONDER...) and flags (FCGI_KEEP_CONN or 0). */
int fcgi_begin_request_encode(uint8_t *out, unsigned request_id, unsigned role,
                              unsigned flags, struct err *e);

/* Decode an END_REQUEST body (content of exactly 8 bytes). */
int fcgi_end_request_decode(const uint8_t *content, size_t len,
                            struct fcgi_end_request *er, struct err *e);

/* "REQUEST_COMPLETE", "CANT_MPX_CONN", "OVERLOADED", "UNKNOWN_ROLE", else
 * "unknown". */
const char *fcgi_protocol_status_name(unsigned status);

/* Bytes the name-value pair needs: a length takes 1 byte below 128, else
 * 4 (high bit set); 0 when a length is over FCGI_NV_MAX_LEN. */
size_t fcgi_nv_size(size_t nlen, size_t vlen);

/* Encode one name-value pair into out (cap bytes); *used is its size.
 * Fails when a length is over FCGI_NV_MAX_LEN or cap is too small
 * (nothing written then). */
int fcgi_nv_encode(uint8_t *out, size_t cap, const char *name, size_t nlen,
                   const char *value, size_t vlen, size_t *used, struct err *e);

/* Decode the name-value pair at the start of in[0..len): name and value
 * point into in, *used is the pair's size.  Fails when the pair is cut
 * short (len too small for its lengths or bytes). */
int fcgi_nv_decode(const uint8_t *in, size_t len, const uint8_t **name,
                   size_t *nlen, const uint8_t **value, size_t *vlen,
                   size_t *used, struct err *e);

/* A complete record, as the reader yields it. */
struct fcgi_record {
	unsigned type;
	unsigned request_id;
	const uint8_t *content;  /* into the reader: valid until its next feed */
	size_t content_length;   /* padding already dropped */
};

/* The incremental record reader: bytes go in as they arrive, in pieces of
 * any size, and come out as whole records.  Memory is bounded by the
 * struct itself (one record at most). */
struct fcgi_reader {
	uint8_t hdr[FCGI_HEADER_LEN];
	size_t hdr_have;         /* header bytes so far */
	struct fcgi_header h;    /* decoded once hdr_have == 8 */
	size_t body_have;        /* content + padding bytes so far */
	bool failed;             /* a bad header was seen: every feed fails */
	struct fcgi_record rec;
	uint8_t body[FCGI_MAX_CONTENT + FCGI_MAX_PADDING];
};

/* Start (or restart) a reader. */
void fcgi_reader_init(struct fcgi_reader *rd);

/* Consume bytes of in[0..len) up to the end of the next record: *used is
 * how many.  *rec is that record when it is now complete (content valid
 * until the next feed), else NULL (then *used == len).  Fails on a bad
 * version, and forever after: the stream cannot be resynchronised. */
int fcgi_reader_feed(struct fcgi_reader *rd, const uint8_t *in, size_t len,
                     size_t *used, const struct fcgi_record **rec,
                     struct err *e);

/* True when the reader is between records (no partial record held). */
bool fcgi_reader_idle(const struct fcgi_reader *rd);

#endif
