/*
 * fuzz_hresp.c: libFuzzer target for the origin-response head parser.  The
 * input is what an origin sent.  hresp_parse must accept, refuse or ask for
 * more, never crash or read outside the buffer (the copy is exactly size
 * bytes, so ASan sees any overread), and its answers must hold together:
 *   - "need more" only below HRESP_MAX_HEAD;
 *   - a parsed head lies inside the buffer and ends in LF; every span of
 *     the result (reason, names, values) lies inside the head; names are
 *     tokens, values hold no CR, LF or NUL and are trimmed;
 *   - the framing facts agree with each other and with hresp_body();
 *   - the head alone parses the same, and every shorter prefix of it asks
 *     for more; without a complete head, growing prefixes go from "need
 *     more" to "malformed" at most once and never back;
 *   - hresp_get / hresp_next find exactly the fields with a name.
 * Any broken invariant abort()s.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hresp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_span(const char *buf, size_t head_len, const char *p, size_t len)
{
	if (p == NULL || p < buf || p > buf + head_len || len > (size_t)(buf + head_len - p))
		abort();
}

static void
check_framing(const struct hresp *r)
{
	int kinds = r->chunked + r->has_content_length + r->close_delimited;

	if (kinds != 1)
		abort(); /* exactly one way to find the end of a body */
	if (r->te_and_cl && r->has_content_length)
		abort();
	if (!r->has_content_length && r->content_length != 0)
		abort();
	if (r->content_length > (uint64_t)INT64_MAX)
		abort();
	if (r->minor == 0 && (r->chunked || r->te_and_cl))
		abort();
	if (r->minor == 0 && !r->keep_alive && !r->conn_close)
		abort();
	if (hresp_body(r, true) != HRESP_BODY_NONE)
		abort();
	switch (hresp_body(r, false)) {
	case HRESP_BODY_NONE:
		if (!hresp_no_body(r->status, false))
			abort();
		break;
	case HRESP_BODY_LENGTH:
		if (!r->has_content_length)
			abort();
		break;
	case HRESP_BODY_CHUNKED:
		if (!r->chunked)
			abort();
		break;
	case HRESP_BODY_CLOSE:
		if (!r->close_delimited || hresp_reusable(r, false))
			abort();
		break;
	}
	if (hresp_reusable(r, false) && (r->conn_close || r->te_and_cl))
		abort();
}

static void
check_lookup(const struct hresp *r)
{
	char name[64];
	size_t i, j;

	for (i = 0; i < r->nfields; i++) {
		const struct hresp_field *f = &r->fields[i], *g;
		size_t want = 0, got = 0;

		if (f->nlen >= sizeof name)
			continue;
		memcpy(name, f->name, f->nlen);
		name[f->nlen] = '\0';
		g = hresp_get(r, name);
		if (g == NULL || g > f || strncasecmp(g->name, name, f->nlen) != 0)
			abort();
		for (j = 0; j < r->nfields; j++)
			want += r->fields[j].nlen == f->nlen &&
			        strncasecmp(r->fields[j].name, name, f->nlen) == 0;
		for (g = hresp_next(r, name, NULL); g != NULL; g = hresp_next(r, name, g))
			if (++got > r->nfields)
				abort();
		if (got != want)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hresp r, r2;
	struct err e;
	char *buf;
	size_t i, j;
	int rc;

	buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	rc = hresp_parse(buf, size, &r, &e);
	if (rc < -1 || rc > 1)
		abort();
	if (rc == 0 && size >= HRESP_MAX_HEAD)
		abort(); /* "need more" only below the limit */
	if (rc == 1) {
		if (r.head_len == 0 || r.head_len > size || r.head_len > HRESP_MAX_HEAD)
			abort();
		if (buf[r.head_len - 1] != '\n')
			abort();
		if (r.status < 100 || r.status > 599 || r.minor > 1 || r.nfields > HRESP_MAX_FIELDS)
			abort();
		check_span(buf, r.head_len, r.reason, r.reason_len);
		for (i = 0; i < r.reason_len; i++)
			if (r.reason[i] == '\r' || r.reason[i] == '\n' || r.reason[i] == '\0')
				abort();
		for (i = 0; i < r.nfields; i++) {
			const struct hresp_field *f = &r.fields[i];

			check_span(buf, r.head_len, f->name, f->nlen);
			check_span(buf, r.head_len, f->value, f->vlen);
			if (f->nlen == 0)
				abort();
			for (j = 0; j < f->nlen; j++)
				if ((unsigned char)f->name[j] <= ' ' || f->name[j] == ':' ||
				    (unsigned char)f->name[j] >= 0x7f)
					abort();
			for (j = 0; j < f->vlen; j++)
				if (f->value[j] == '\r' || f->value[j] == '\n' || f->value[j] == '\0')
					abort();
			if (f->vlen > 0 && (f->value[0] == ' ' || f->value[0] == '\t' ||
			                    f->value[f->vlen - 1] == ' ' ||
			                    f->value[f->vlen - 1] == '\t'))
				abort();
		}
		check_framing(&r);
		check_lookup(&r);
		/* the head alone parses the same; every prefix of it needs more */
		if (hresp_parse(buf, r.head_len, &r2, &e) != 1 || r2.head_len != r.head_len ||
		    r2.status != r.status || r2.nfields != r.nfields ||
		    r2.content_length != r.content_length || r2.chunked != r.chunked ||
		    r2.close_delimited != r.close_delimited || r2.conn_close != r.conn_close)
			abort();
		for (i = 0; i < r.head_len; i++)
			if (hresp_parse(buf, i, &r2, &e) != 0)
				abort();
	} else {
		/* as the buffer grows, the answer goes from "need more" to one
		 * final answer and never changes again (bounded, for speed) */
		int state = 0;

		for (i = 0; i < size && i < 2048; i++) {
			int p = hresp_parse(buf, i, &r2, &e);

			if (p == 1 || (state == -1 && p != -1))
				abort();
			state = p;
		}
		if (state == -1 && rc != -1)
			abort();
	}
	free(buf);
	return 0;
}
