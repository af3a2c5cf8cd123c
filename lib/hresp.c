/*
 * hresp.c: see hresp.h.  The head parser is stateless: each call first
 * looks for the blank line that ends the head (a cheap memchr walk, so a
 * caller that calls again on every read stays fast) and only parses once
 * the whole head is there.  The first bytes are checked at once against
 * "HTTP/1.x " so a peer that does not speak HTTP/1 fails early.  The
 * rules, each with its source:
 *   status line  HTTP/1.0 or HTTP/1.1, SP, three digits 100-599, then
 *                nothing, SP, or SP and a reason of HTAB/SP/VCHAR/obs-text
 *                (RFC 9112 4; RFC 9110 15)
 *   line ends    CRLF or a bare LF (RFC 9112 2.2); any other CR is refused
 *   fields       a token name right before ':' (no whitespace: RFC 9112
 *                5.1), OWS, a value of HTAB/SP/VCHAR/obs-text, OWS; no
 *                obs-fold, so no line may start with SP or HTAB (RFC 9112
 *                5.2); at most HRESP_MAX_FIELDS, head at most HRESP_MAX_HEAD
 *   framing      RFC 9112 6.1-6.3: Content-Length is 1*DIGIT, a list of
 *                identical values or repeated identical fields counting
 *                once, anything else refused; Transfer-Encoding is a list
 *                of tokens with chunked at most once, chunked last means
 *                chunked, anything else means close-delimited; with both,
 *                Transfer-Encoding wins and te_and_cl is set; in HTTP/1.0
 *                Transfer-Encoding means faulty framing, so it is refused
 *   Connection   a list of tokens; "close" and "keep-alive" are noted
 *                (RFC 9110 7.6.1, RFC 9112 9.3)
 *
 * The chunked decoder is one state per point of the RFC 9112 7.1 grammar
 * where the next byte's meaning differs; it looks at one byte at a time
 * (except chunk data, handed out as a span of the input), so how the input
 * is split cannot change what it decodes.
 */
#include <string.h>
#include <strings.h>

#include "hresp.h"

static bool
is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* HTAB, SP, VCHAR or obs-text: a byte of a field value or reason phrase */
static bool
is_text(unsigned char c)
{
	return c == '\t' || (c >= ' ' && c != 0x7f);
}

static bool
is_token(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

static bool
name_is(const char *n, size_t nl, const char *want)
{
	return strlen(want) == nl && strncasecmp(n, want, nl) == 0;
}

static int
bad_byte(struct err *e, const char *where, unsigned char c)
{
	if (c == '\0')
		return err_set(e, ERR_FAIL, "NUL in %s", where);
	if (c == '\r')
		return err_set(e, ERR_FAIL, "CR not followed by LF in %s", where);
	return err_set(e, ERR_FAIL, "control character 0x%02x in %s", c, where);
}

/* The length of the head (through its blank line) if buf[0..w) holds one,
 * else 0.  The first line is the status line, never blank (see start_ok). */
static size_t
head_end(const char *buf, size_t w)
{
	const char *p = buf, *nl;

	while ((nl = memchr(p, '\n', w - (size_t)(p - buf))) != NULL) {
		size_t i = (size_t)(nl - buf) + 1; /* where the next line starts */

		if (i < w && buf[i] == '\n')
			return i + 1;
		if (i + 1 < w && buf[i] == '\r' && buf[i + 1] == '\n')
			return i + 2;
		p = nl + 1;
	}
	return 0;
}

/* Whether buf[0..len) can still start "HTTP/1.0 " or "HTTP/1.1 ". */
static bool
start_ok(const char *buf, size_t len)
{
	static const char http[] = "HTTP/1.";
	size_t i;

	for (i = 0; i < len && i < 9; i++) {
		if (i < 7 && buf[i] != http[i])
			return false;
		if (i == 7 && buf[i] != '0' && buf[i] != '1')
			return false;
		if (i == 8 && buf[i] != ' ')
			return false;
	}
	return true;
}

/* Trim optional whitespace around a list element or value. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_ows((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_ows((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Split v[0..vl) at commas: the next element (trimmed, possibly empty)
 * starting at *pos, advancing *pos past it.  False when none is left. */
static bool
next_element(const char *v, size_t vl, size_t *pos, const char **el, size_t *n)
{
	const char *comma;

	if (*pos > vl)
		return false;
	*el = v + *pos;
	comma = memchr(*el, ',', vl - *pos);
	*n = comma != NULL ? (size_t)(comma - *el) : vl - *pos;
	*pos += *n + 1;
	trim(el, n);
	return true;
}

static int
status_line(const char *l, size_t ll, struct hresp *r, struct err *e)
{
	size_t i;

	if (ll < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') ||
	    l[8] != ' ')
		return err_set(e, ERR_FAIL, "malformed status line (want 'HTTP/1.x NNN')");
	r->minor = (unsigned)(l[7] - '0');
	for (i = 9; i < 12; i++) {
		if (l[i] < '0' || l[i] > '9')
			return err_set(e, ERR_FAIL, "status code is not three digits");
		r->status = r->status * 10 + (unsigned)(l[i] - '0');
	}
	if (r->status < 100 || r->status > 599)
		return err_set(e, ERR_FAIL, "status code %u out of range 100-599", r->status);
	if (ll > 12 && l[12] != ' ')
		return err_set(e, ERR_FAIL, "status code is not three digits");
	r->reason = l + (ll > 12 ? 13 : 12);
	r->reason_len = ll > 12 ? ll - 13 : 0;
	for (i = 0; i < r->reason_len; i++)
		if (!is_text((unsigned char)r->reason[i]))
			return bad_byte(e, "the reason phrase", (unsigned char)r->reason[i]);
	return 0;
}

/* What the framing fields said, gathered while the fields are read. */
struct framing {
	bool cl_seen, te_seen, te_last_chunked, te_chunked_seen;
	bool close, keep_alive;
};

static int
content_length(struct hresp *r, const char *v, size_t vl, struct err *e)
{
	const char *el;
	size_t n, pos = 0, i;

	while (next_element(v, vl, &pos, &el, &n)) {
		uint64_t x = 0;

		if (n == 0)
			return err_set(e, ERR_FAIL, "empty Content-Length");
		for (i = 0; i < n; i++) {
			if (el[i] < '0' || el[i] > '9')
				return err_set(e, ERR_FAIL, "malformed Content-Length '%.*s'",
				               (int)(vl > 40 ? 40 : vl), v);
			uint64_t d = (uint64_t)(el[i] - '0');

			if (x > ((uint64_t)INT64_MAX - d) / 10)
				return err_set(e, ERR_FAIL, "Content-Length out of range");
			x = x * 10 + d;
		}
		if (r->has_content_length && x != r->content_length)
			return err_set(e, ERR_FAIL, "conflicting Content-Length values");
		r->has_content_length = true;
		r->content_length = x;
	}
	return 0;
}

static int
transfer_encoding(struct framing *f, const char *v, size_t vl, struct err *e)
{
	const char *el;
	size_t n, pos = 0, codings = 0;

	f->te_seen = true;
	while (next_element(v, vl, &pos, &el, &n)) {
		if (n == 0)
			continue; /* empty list elements are ignored (RFC 9110 5.6.1) */
		if (!is_token(el, n))
			return err_set(e, ERR_FAIL, "malformed Transfer-Encoding '%.*s'",
			               (int)(vl > 40 ? 40 : vl), v);
		codings++;
		f->te_last_chunked = name_is(el, n, "chunked");
		if (f->te_last_chunked) {
			if (f->te_chunked_seen)
				return err_set(e, ERR_FAIL, "chunked applied more than once");
			f->te_chunked_seen = true;
		}
	}
	if (codings == 0)
		return err_set(e, ERR_FAIL, "empty Transfer-Encoding");
	return 0;
}

static int
connection(struct framing *f, const char *v, size_t vl, struct err *e)
{
	const char *el;
	size_t n, pos = 0;

	while (next_element(v, vl, &pos, &el, &n)) {
		if (n == 0)
			continue;
		if (!is_token(el, n))
			return err_set(e, ERR_FAIL, "malformed Connection '%.*s'",
			               (int)(vl > 40 ? 40 : vl), v);
		if (name_is(el, n, "close"))
			f->close = true;
		else if (name_is(el, n, "keep-alive"))
			f->keep_alive = true;
	}
	return 0;
}

static int
field_line(const char *l, size_t ll, struct hresp *r, struct framing *f, struct err *e)
{
	const char *colon, *v;
	size_t nlen, vl, i;

	if (is_ows((unsigned char)l[0]))
		return err_set(e, ERR_FAIL, "line starts with whitespace (obs-fold is refused)");
	colon = memchr(l, ':', ll);
	if (colon == NULL)
		return err_set(e, ERR_FAIL, "header line without ':'");
	nlen = (size_t)(colon - l);
	if (nlen == 0)
		return err_set(e, ERR_FAIL, "empty header field name");
	if (is_ows((unsigned char)l[nlen - 1]))
		return err_set(e, ERR_FAIL, "whitespace between field name and ':'");
	if (!is_token(l, nlen))
		return err_set(e, ERR_FAIL, "bad character in header field name");
	v = colon + 1;
	vl = ll - nlen - 1;
	for (i = 0; i < vl; i++)
		if (!is_text((unsigned char)v[i]))
			return bad_byte(e, "a header field value", (unsigned char)v[i]);
	trim(&v, &vl);
	if (r->nfields == HRESP_MAX_FIELDS)
		return err_set(e, ERR_FAIL, "more than %d header fields", HRESP_MAX_FIELDS);
	r->fields[r->nfields++] = (struct hresp_field){ l, nlen, v, vl };
	if (name_is(l, nlen, "content-length")) {
		f->cl_seen = true;
		return content_length(r, v, vl, e);
	}
	if (name_is(l, nlen, "transfer-encoding"))
		return transfer_encoding(f, v, vl, e);
	if (name_is(l, nlen, "connection"))
		return connection(f, v, vl, e);
	return 0;
}

int
hresp_parse(const char *buf, size_t len, struct hresp *r, struct err *e)
{
	size_t w = len < HRESP_MAX_HEAD ? len : HRESP_MAX_HEAD, end, pos = 0;
	struct framing f = { 0 };
	bool first = true;

	if (!start_ok(buf, len))
		return err_set(e, ERR_FAIL, "not an HTTP/1.0 or HTTP/1.1 response");
	if (len == 0)
		return 0;
	end = head_end(buf, w);
	if (end == 0) {
		if (len >= HRESP_MAX_HEAD)
			return err_set(e, ERR_FAIL, "response head longer than %d bytes",
			               HRESP_MAX_HEAD);
		return 0;
	}
	memset(r, 0, sizeof *r);
	while (pos < end) {
		const char *l = buf + pos, *nl = memchr(l, '\n', end - pos);
		size_t ll = (size_t)(nl - l);

		pos += ll + 1;
		if (ll > 0 && l[ll - 1] == '\r')
			ll--;
		if (first) {
			if (status_line(l, ll, r, e) < 0)
				return -1;
			first = false;
		} else if (ll > 0 && field_line(l, ll, r, &f, e) < 0) {
			return -1;
		}
	}
	r->head_len = end;
	if (f.te_seen) {
		if (r->minor == 0)
			return err_set(e, ERR_FAIL, "Transfer-Encoding in an HTTP/1.0 response");
		if (f.cl_seen) {
			r->te_and_cl = true;
			r->has_content_length = false;
			r->content_length = 0;
		}
		r->chunked = f.te_last_chunked;
		r->close_delimited = !f.te_last_chunked;
	} else {
		r->close_delimited = !r->has_content_length;
	}
	r->keep_alive = f.keep_alive;
	r->conn_close = f.close || (r->minor == 0 && !f.keep_alive);
	return 1;
}

bool
hresp_no_body(unsigned status, bool head_request)
{
	return head_request || (status >= 100 && status < 200) || status == 204 ||
	       status == 304;
}

enum hresp_body
hresp_body(const struct hresp *r, bool head_request)
{
	if (hresp_no_body(r->status, head_request))
		return HRESP_BODY_NONE;
	if (r->chunked)
		return HRESP_BODY_CHUNKED;
	if (r->has_content_length)
		return HRESP_BODY_LENGTH;
	return HRESP_BODY_CLOSE;
}

bool
hresp_reusable(const struct hresp *r, bool head_request)
{
	return !r->conn_close && !r->te_and_cl && r->status != 101 &&
	       hresp_body(r, head_request) != HRESP_BODY_CLOSE;
}

const struct hresp_field *
hresp_next(const struct hresp *r, const char *name, const struct hresp_field *prev)
{
	size_t i = prev == NULL ? 0 : (size_t)(prev - r->fields) + 1;

	for (; i < r->nfields; i++)
		if (name_is(r->fields[i].name, r->fields[i].nlen, name))
			return &r->fields[i];
	return NULL;
}

const struct hresp_field *
hresp_get(const struct hresp *r, const char *name)
{
	return hresp_next(r, name, NULL);
}

/* ---- chunked transfer coding ------------------------------------------ */

enum {
	C_SIZE,      /* chunk-size: hex digits, the first one required */
	C_SIZE_WS,   /* BWS after the size: only ";" may follow */
	C_EXT_PRE,   /* after ";": BWS, then an extension name */
	C_EXT_NAME,  /* in a name: more of it, BWS, "=", ";" or the line end */
	C_EXT_POST,  /* BWS after a name: "=" or ";" */
	C_EXT_VPRE,  /* after "=": BWS, then a token or a quoted-string */
	C_EXT_TOKEN, /* in a token value: more of it, BWS, ";" or the line end */
	C_EXT_QUOTE, /* in a quoted-string */
	C_EXT_QPAIR, /* after a backslash in it */
	C_EXT_QEND,  /* after its closing quote: BWS, ";" or the line end */
	C_EXT_VPOST, /* BWS after a value: ";" */
	C_SIZE_LF,   /* CR ended the size line: LF must follow */
	C_DATA,      /* chunk-data: c->size bytes left */
	C_DATA_END,  /* after the data: CR LF or LF */
	C_DATA_LF,   /* CR after the data: LF must follow */
	C_TR_START,  /* start of a trailer line or of the final blank line */
	C_TR_NAME,   /* in a trailer field name, up to ':' */
	C_TR_VALUE,  /* in its value, up to the line end */
	C_TR_LF,     /* CR ended a trailer line: LF must follow */
	C_END_LF,    /* CR of the final blank line: LF must follow */
	C_DONE,
	C_FAILED,
};

void
hchunk_init(struct hchunk *c)
{
	memset(c, 0, sizeof *c);
	c->state = C_SIZE;
}

static int
hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int
fail(struct hchunk *c, struct err *e, const char *what, unsigned char ch)
{
	c->state = C_FAILED;
	return err_set(e, ERR_FAIL, "chunked body: %s (byte 0x%02x after %llu decoded bytes)",
	               what, ch, (unsigned long long)c->total);
}

/* The size line ended: data follows, or the trailer after the last chunk. */
static int
size_line_done(struct hchunk *c)
{
	return c->size == 0 ? C_TR_START : C_DATA;
}

/* One byte of a chunk-size line (size, extensions, line end). */
static int
size_byte(struct hchunk *c, unsigned char ch, struct err *e)
{
	int v;

	if (++c->line > HCHUNK_MAX_LINE)
		return fail(c, e, "chunk-size line too long", ch);
	switch (c->state) {
	case C_SIZE:
		v = hexval(ch);
		if (v >= 0) {
			if (c->digits == 16)
				return fail(c, e, "chunk-size longer than 16 hex digits", ch);
			if (c->size > (HCHUNK_MAX_SIZE - (uint64_t)v) >> 4)
				return fail(c, e, "chunk-size larger than 2^62", ch);
			c->size = c->size << 4 | (uint64_t)v;
			c->digits++;
			return 0;
		}
		if (c->digits == 0)
			return fail(c, e, "bad chunk-size", ch);
		if (is_ows(ch))
			c->state = C_SIZE_WS;
		else if (ch == ';')
			c->state = C_EXT_PRE;
		else if (ch == '\r')
			c->state = C_SIZE_LF;
		else if (ch == '\n')
			c->state = size_line_done(c);
		else
			return fail(c, e, "bad chunk-size", ch);
		return 0;
	case C_SIZE_WS:
	case C_EXT_POST:
	case C_EXT_VPOST:
		if (is_ows(ch))
			return 0;
		if (ch == ';')
			c->state = C_EXT_PRE;
		else if (ch == '=' && c->state == C_EXT_POST)
			c->state = C_EXT_VPRE;
		else
			return fail(c, e, "bad chunk extension", ch);
		return 0;
	case C_EXT_PRE:
	case C_EXT_VPRE:
		if (is_ows(ch))
			return 0;
		if (is_tchar(ch))
			c->state = c->state == C_EXT_PRE ? C_EXT_NAME : C_EXT_TOKEN;
		else if (ch == '"' && c->state == C_EXT_VPRE)
			c->state = C_EXT_QUOTE;
		else
			return fail(c, e, "bad chunk extension", ch);
		return 0;
	case C_EXT_NAME:
	case C_EXT_TOKEN:
	case C_EXT_QEND:
		if (is_tchar(ch) && c->state != C_EXT_QEND)
			return 0;
		if (is_ows(ch))
			c->state = c->state == C_EXT_NAME ? C_EXT_POST : C_EXT_VPOST;
		else if (ch == '=' && c->state == C_EXT_NAME)
			c->state = C_EXT_VPRE;
		else if (ch == ';')
			c->state = C_EXT_PRE;
		else if (ch == '\r')
			c->state = C_SIZE_LF;
		else if (ch == '\n')
			c->state = size_line_done(c);
		else
			return fail(c, e, "bad chunk extension", ch);
		return 0;
	case C_EXT_QUOTE:
		if (ch == '"')
			c->state = C_EXT_QEND;
		else if (ch == '\\')
			c->state = C_EXT_QPAIR;
		else if (!is_text(ch))
			return fail(c, e, "bad byte in a chunk extension's quoted-string", ch);
		return 0;
	case C_EXT_QPAIR:
		if (!is_text(ch))
			return fail(c, e, "bad byte in a chunk extension's quoted-string", ch);
		c->state = C_EXT_QUOTE;
		return 0;
	default: /* C_SIZE_LF */
		if (ch != '\n')
			return fail(c, e, "CR not followed by LF after the chunk-size", ch);
		c->state = size_line_done(c);
		return 0;
	}
}

/* One byte of the trailer section (or the blank line that ends the body). */
static int
trailer_byte(struct hchunk *c, unsigned char ch, struct err *e)
{
	if (++c->trailer > HCHUNK_MAX_TRAILER)
		return fail(c, e, "trailer section too long", ch);
	switch (c->state) {
	case C_TR_START:
		if (ch == '\r')
			c->state = C_END_LF;
		else if (ch == '\n')
			c->state = C_DONE;
		else if (is_tchar(ch))
			c->state = C_TR_NAME;
		else if (is_ows(ch))
			return fail(c, e, "trailer line starts with whitespace (obs-fold)", ch);
		else
			return fail(c, e, "bad trailer field name", ch);
		return 0;
	case C_TR_NAME:
		if (ch == ':')
			c->state = C_TR_VALUE;
		else if (!is_tchar(ch))
			return fail(c, e, "bad trailer field name", ch);
		return 0;
	case C_TR_VALUE:
		if (ch == '\r')
			c->state = C_TR_LF;
		else if (ch == '\n')
			c->state = C_TR_START;
		else if (!is_text(ch))
			return fail(c, e, "control character in a trailer field", ch);
		return 0;
	case C_TR_LF:
		if (ch != '\n')
			return fail(c, e, "CR not followed by LF in a trailer field", ch);
		c->state = C_TR_START;
		return 0;
	default: /* C_END_LF */
		if (ch != '\n')
			return fail(c, e, "CR not followed by LF after the trailer section", ch);
		c->state = C_DONE;
		return 0;
	}
}

int
hchunk_feed(struct hchunk *c, const char *in, size_t len, size_t *consumed,
            const char **out, size_t *outlen, struct err *e)
{
	size_t i = 0;

	*consumed = 0;
	*out = NULL;
	*outlen = 0;
	if (c->state == C_FAILED)
		return err_set(e, ERR_FAIL, "chunked body: decoder already failed");
	if (c->state == C_DONE)
		return 1;
	while (i < len) {
		unsigned char ch = (unsigned char)in[i];
		int rc;

		if (c->state == C_DATA) {
			size_t n = len - i;

			if (n > c->size)
				n = (size_t)c->size;
			*out = in + i;
			*outlen = n;
			c->size -= n;
			c->total += n;
			if (c->size == 0)
				c->state = C_DATA_END;
			*consumed = i + n;
			return 0;
		}
		i++;
		if (c->state <= C_SIZE_LF) {
			rc = size_byte(c, ch, e);
		} else if (c->state >= C_TR_START) {
			rc = trailer_byte(c, ch, e);
		} else { /* C_DATA_END, C_DATA_LF */
			rc = 0;
			if (ch == '\r' && c->state == C_DATA_END) {
				c->state = C_DATA_LF;
			} else if (ch == '\n') {
				c->state = C_SIZE; /* the next chunk-size line */
				c->digits = 0;
				c->size = 0;
				c->line = 0;
			} else {
				rc = fail(c, e, "no CRLF after chunk data", ch);
			}
		}
		if (rc < 0) {
			*consumed = i;
			return -1;
		}
		if (c->state == C_DONE) {
			*consumed = i;
			return 1;
		}
	}
	*consumed = i;
	return 0;
}
