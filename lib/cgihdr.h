/*
 * cgihdr.h: the response head a CGI script or FastCGI application writes
 * (RFC 3875 section 6): header fields up to a blank line, then the body.
 *
 * The parser works on a buffer that grows as output arrives: it answers
 * "need more", "malformed" or "done" and, when done, how many bytes the
 * head used.  Pointers in the result point into the caller's buffer.
 */
#ifndef EDGED_CGIHDR_H
#define EDGED_CGIHDR_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define CGI_MAX_FIELDS 64
#define CGI_MAX_HEAD   (64 * 1024) /* a longer head is malformed */

struct cgi_field {
	const char *name;
	size_t nlen;
	const char *value; /* leading and trailing blanks trimmed */
	size_t vlen;
};

struct cgi_head {
	unsigned status;          /* Status, else 302 with Location, else 200 */
	const char *reason;       /* Status's reason phrase, NULL if none */
	size_t reason_len;
	const char *location;     /* Location value, NULL if none */
	size_t location_len;
	bool local_redirect;      /* Location is a local path ("/...") */
	const char *content_type; /* NULL if none */
	size_t content_type_len;
	struct cgi_field fields[CGI_MAX_FIELDS]; /* the others, to pass on */
	size_t nfields;
	size_t head_len;          /* bytes of the buffer the head used */
};

/* Parse the head at the start of buf[0..len).  Lines end in LF or CRLF.
 * Returns 1 with *h filled when the blank line was found, 0 when more
 * output is needed (and len < CGI_MAX_HEAD), -1 when malformed: bad field
 * name, control bytes in a value, a bad Status, no Content-Type, Location
 * or Status field at all, too many fields, or a head over CGI_MAX_HEAD.
 * Hop-by-hop and framing fields (Connection, Keep-Alive, Transfer-Encoding,
 * Content-Length, Upgrade, TE, Trailer, Proxy-Connection) are dropped: the
 * server frames the response itself. */
int cgi_head_parse(const char *buf, size_t len, struct cgi_head *h,
                   struct err *e);

#endif
