/*
 * cgihdr.c: see cgihdr.h.  Stateless: each call parses from the start of
 * the buffer (heads are small; the caller calls again when more arrives).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "cgihdr.h"

static bool
is_tchar(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
name_is(const char *n, size_t nl, const char *want)
{
	return strlen(want) == nl && strncasecmp(n, want, nl) == 0;
}

static bool
dropped(const char *n, size_t nl)
{
	static const char *hop[] = { "connection", "keep-alive", "transfer-encoding",
	                             "content-length", "upgrade", "te", "trailer",
	                             "proxy-connection" };
	size_t i;

	for (i = 0; i < sizeof hop / sizeof hop[0]; i++)
		if (name_is(n, nl, hop[i]))
			return true;
	return false;
}

int
cgi_head_parse(const char *buf, size_t len, struct cgi_head *h, struct err *e)
{
	size_t pos = 0;
	bool have_status = false;

	memset(h, 0, sizeof *h);
	for (;;) {
		const char *line = buf + pos, *nl, *colon, *v, *end;
		size_t ll;

		nl = memchr(line, '\n', len - pos);
		if (nl == NULL) {
			if (len >= CGI_MAX_HEAD)
				return err_set(e, ERR_FAIL, "response head longer than %d bytes",
				               CGI_MAX_HEAD);
			return 0;
		}
		if ((size_t)(nl - buf) + 1 > CGI_MAX_HEAD)
			return err_set(e, ERR_FAIL, "response head longer than %d bytes",
			               CGI_MAX_HEAD);
		ll = (size_t)(nl - line);
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		pos = (size_t)(nl - buf) + 1;
		if (ll == 0)
			break; /* the blank line */
		colon = memchr(line, ':', ll);
		if (colon == NULL || colon == line)
			return err_set(e, ERR_FAIL, "malformed header line (no field name and ':')");
		for (v = line; v < colon; v++)
			if (!is_tchar((unsigned char)*v))
				return err_set(e, ERR_FAIL, "bad character in header field name");
		v = colon + 1;
		end = line + ll;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		for (const char *p = v; p < end; p++) {
			unsigned char c = (unsigned char)*p;

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return err_set(e, ERR_FAIL, "control character in header field value");
		}
		{
			size_t nlen = (size_t)(colon - line), vlen = (size_t)(end - v);

			if (name_is(line, nlen, "status")) {
				unsigned st = 0;
				size_t i;

				if (have_status)
					return err_set(e, ERR_FAIL, "Status given twice");
				for (i = 0; i < 3 && i < vlen && isdigit((unsigned char)v[i]); i++)
					st = st * 10 + (unsigned)(v[i] - '0');
				if (i != 3 || st < 200 || st > 599 || (vlen > 3 && v[3] != ' '))
					return err_set(e, ERR_FAIL, "bad Status '%.*s' (want 200-599 and "
					               "a reason)", (int)(vlen > 40 ? 40 : vlen), v);
				h->status = st;
				have_status = true;
				if (vlen > 4) {
					h->reason = v + 4;
					h->reason_len = vlen - 4;
				}
			} else if (name_is(line, nlen, "location")) {
				if (h->location != NULL)
					return err_set(e, ERR_FAIL, "Location given twice");
				if (vlen == 0)
					return err_set(e, ERR_FAIL, "empty Location");
				h->location = v;
				h->location_len = vlen;
				h->local_redirect = v[0] == '/' && (vlen < 2 || v[1] != '/');
			} else if (name_is(line, nlen, "content-type")) {
				if (h->content_type != NULL)
					return err_set(e, ERR_FAIL, "Content-Type given twice");
				h->content_type = v;
				h->content_type_len = vlen;
			} else if (!dropped(line, nlen)) {
				if (h->nfields == CGI_MAX_FIELDS)
					return err_set(e, ERR_FAIL, "more than %d header fields",
					               CGI_MAX_FIELDS);
				h->fields[h->nfields].name = line;
				h->fields[h->nfields].nlen = nlen;
				h->fields[h->nfields].value = v;
				h->fields[h->nfields].vlen = vlen;
				h->nfields++;
			}
		}
	}
	if (!have_status && h->location == NULL && h->content_type == NULL)
		return err_set(e, ERR_FAIL, "no Content-Type, Location or Status field");
	if (!have_status)
		h->status = h->location != NULL ? 302 : 200;
	h->head_len = pos;
	return 1;
}
