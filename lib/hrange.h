/*
 * hrange.h: the Range request field (RFC 9110 14.1.2, 14.2) for one byte
 * range, as origind's static files and edged's cache serve it.
 *
 * Only a single range of the "bytes" unit is served as 206; several
 * ranges, another unit or a field that does not parse are ignored (the
 * whole representation is sent: RFC 9110 14.2 lets a server ignore Range),
 * and a syntactically valid range that starts at or after the end (or a
 * suffix of zero bytes) is unsatisfiable: 416.  Accepted forms, with
 * optional SP/HTAB around the range:
 *     bytes=first-last   bytes=first-   bytes=-suffix
 * The unit is case-insensitive (RFC 9110 14.1); numbers are 1*DIGIT, at
 * most 18 digits (larger ones make the field invalid: ignored).
 */
#ifndef EDGED_HRANGE_H
#define EDGED_HRANGE_H

#include <stddef.h>
#include <stdint.h>

enum hrange_res {
	HRANGE_IGNORE = 0,        /* send the whole representation (200) */
	HRANGE_OK = 1,            /* 206 with [*off, *off + *len) */
	HRANGE_UNSATISFIABLE = -1 /* 416 with Content-Range: bytes * / size */
};

/* Judge the Range value v[0..vlen) against a representation of size bytes. */
enum hrange_res hrange_parse(const char *v, size_t vlen, uint64_t size, uint64_t *off,
                             uint64_t *len);

#endif
