/*
 * fuzz_cgihdr.c: libFuzzer target for the CGI response-head parser.  The
 * input is a script's stdout.  cgi_head_parse must accept, refuse or ask
 * for more, never crash or read outside the buffer (the copy is exactly
 * size bytes, so ASan sees any overread), and its answers must hold
 * together: a parsed head lies inside the buffer, every pointer of the
 * result points into the head, status is 200-599, and every prefix of a
 * complete head shorter than it asks for more.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgihdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_span(const char *buf, const struct cgi_head *h, const char *p, size_t len)
{
	if (p == NULL)
		return;
	if (p < buf || p + len > buf + h->head_len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgi_head h, h2;
	struct err e;
	char *buf;
	size_t i;
	int rc;

	buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	rc = cgi_head_parse(buf, size, &h, &e);
	if (rc == 0 && size >= CGI_MAX_HEAD)
		abort(); /* "need more" only below the limit */
	if (rc == 1) {
		if (h.head_len == 0 || h.head_len > size || h.head_len > CGI_MAX_HEAD)
			abort();
		if (buf[h.head_len - 1] != '\n')
			abort();
		if (h.status < 200 || h.status > 599 || h.nfields > CGI_MAX_FIELDS)
			abort();
		if (h.location == NULL && h.local_redirect)
			abort();
		check_span(buf, &h, h.reason, h.reason_len);
		check_span(buf, &h, h.location, h.location_len);
		check_span(buf, &h, h.content_type, h.content_type_len);
		for (i = 0; i < h.nfields; i++) {
			check_span(buf, &h, h.fields[i].name, h.fields[i].nlen);
			check_span(buf, &h, h.fields[i].value, h.fields[i].vlen);
			if (h.fields[i].nlen == 0)
				abort();
		}
		/* the head alone parses the same; one byte less needs more (the
		 * blank line is its last line) */
		if (cgi_head_parse(buf, h.head_len, &h2, &e) != 1 || h2.head_len != h.head_len ||
		    h2.status != h.status || h2.nfields != h.nfields)
			abort();
		if (cgi_head_parse(buf, h.head_len - 1, &h2, &e) != 0)
			abort();
	}
	free(buf);
	return 0;
}
