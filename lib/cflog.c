/*
 * cflog.c: CloudFront standard log lines (see cflog.h).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cflog.h"

const char cflog_header[] =
	"#Version: 1.0\n"
	"#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem "
	"sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type "
	"x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for "
	"ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status "
	"fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type "
	"sc-content-type sc-content-len sc-range-start sc-range-end\n";

/* True for a byte that goes into the log as %XX. */
static bool
needs_escape(unsigned char c, enum cflog_esc how)
{
	if (c <= 0x20 || c >= 0x7f)
		return true;
	switch (c) {
	case '"': case '<': case '>': case '\\': case '^': case '`':
	case '{': case '|': case '}':
		return true;
	case '%':
		return how == CFLOG_ESC_TEXT;
	default:
		return false;
	}
}

size_t
cflog_escape(char *out, size_t cap, const char *s, size_t n, enum cflog_esc how)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, w = 0;

	if (s == NULL || n == 0) {
		if (cap >= 1)
			out[0] = '-';
		return 1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!needs_escape(c, how)) {
			if (w + 1 <= cap)
				out[w] = (char)c;
			w++;
			continue;
		}
		/* all three bytes or none: a cut value never ends in half an escape */
		if (w + 3 <= cap) {
			out[w] = '%';
			out[w + 1] = hex[c >> 4];
			out[w + 2] = hex[c & 15];
		} else if (w < cap) {
			cap = w; /* nothing more fits: stop writing */
		}
		w += 3;
	}
	return w;
}

void
cflog_split_target(const char *target, const char **stem, size_t *stem_len,
                   const char **query, size_t *query_len)
{
	const char *p = target != NULL ? target : "", *q;

	*query = NULL;
	*query_len = 0;
	if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
		/* absolute-form (RFC 9112 3.2.2): the log wants the path */
		p = strchr(p, ':') + 3;
		p += strcspn(p, "/?");
		if (*p != '/') {
			*stem = "/";
			*stem_len = 1;
			if (*p == '?') {
				*query = p + 1;
				*query_len = strlen(p + 1);
			}
			return;
		}
	}
	q = strchr(p, '?');
	*stem = p;
	*stem_len = q != NULL ? (size_t)(q - p) : strlen(p);
	if (q != NULL) {
		*query = q + 1;
		*query_len = strlen(q + 1);
	}
}

/* ---- result types ----------------------------------------------------------- */

/* The response type X-Cache names ("Hit from edged" -> "Hit"), NULL for
 * none or an unknown value. */
static const char *
xcache_type(const char *x)
{
	static const char *const types[] = { "Hit", "RefreshHit", "Miss", "Error" };
	size_t i, n;

	if (x == NULL)
		return NULL;
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		n = strlen(types[i]);
		if (strncmp(x, types[i], n) == 0 && (x[n] == ' ' || x[n] == '\0'))
			return types[i];
	}
	return NULL;
}

void
cflog_classify(const struct cflog_outcome *o, const char **result,
               const char **response_result, const char **detailed)
{
	const char *resp;

	switch (o->local) {
	case CFLOG_LOCAL_REDIRECT:
		resp = "Redirect";
		break;
	case CFLOG_LOCAL_INVALID:
	case CFLOG_LOCAL_DENIED:
	case CFLOG_LOCAL_ORIGIN_ERROR:
		resp = "Error";
		break;
	default:
		resp = xcache_type(o->xcache);
		if (resp == NULL)
			resp = o->status == 0 ? "Error" : "Miss";
		/* CloudFront counts a 4xx/5xx as an error whoever made it */
		if (o->status >= 400)
			resp = "Error";
		break;
	}
	if (o->status == 0)
		resp = "Error"; /* nothing was answered */
	*response_result = resp;
	*result = o->aborted ? "Error" : resp;
	if (strcmp(*result, "Error") != 0) {
		*detailed = *result;
		return;
	}
	if (o->origin_error != NULL)
		*detailed = o->origin_error;
	else if (o->local == CFLOG_LOCAL_INVALID)
		*detailed = o->status == 405 || o->status == 501 ? "InvalidRequestMethod" :
		            o->status == 431 ? "InvalidRequestHeader" : "InvalidRequest";
	else if (o->aborted)
		*detailed = "ClientCommError";
	else
		*detailed = "Error";
}

/* ---- the line ------------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
	unsigned fields;   /* written so far */
	bool oom;
};

static bool
reserve(struct buf *b, size_t more)
{
	size_t want;
	char *np;

	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	want = b->cap ? b->cap : 512;
	while (want < b->len + more + 1)
		want *= 2;
	np = realloc(b->p, want);
	if (np == NULL) {
		b->oom = true;
		return false;
	}
	b->p = np;
	b->cap = want;
	return true;
}

/* One field (escaped), after a tab unless it is the first. */
static void
field_n(struct buf *b, const char *s, size_t n, enum cflog_esc how)
{
	size_t need = cflog_escape(NULL, 0, s, n, how);

	if (!reserve(b, need + 1))
		return;
	if (b->fields++ > 0)
		b->p[b->len++] = '\t';
	b->len += cflog_escape(b->p + b->len, need, s, n, how);
}

static void
field(struct buf *b, const char *s)
{
	field_n(b, s, s != NULL ? strlen(s) : 0, CFLOG_ESC_TEXT);
}

/* A field printf-formatted by the caller (digits, dates: nothing to
 * escape, but it still goes through the escaper so that no field can
 * ever break the line). */
static void
field_num(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
field_num(struct buf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof tmp)
		n = (int)sizeof tmp - 1;
	field_n(b, tmp, (size_t)n, CFLOG_ESC_TEXT);
}

static void
field_ll(struct buf *b, long long v)
{
	if (v < 0)
		field(b, NULL);
	else
		field_num(b, "%lld", v);
}

/* Milliseconds as seconds with three decimals (CloudFront's time-taken). */
static void
field_secs(struct buf *b, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	field_num(b, "%" PRId64 ".%03d", ms / 1000, (int)(ms % 1000));
}

char *
cflog_line(const struct cflog_rec *r, size_t *len)
{
	struct buf b = { NULL, 0, 0, 0, false };
	const char *stem, *query;
	size_t stem_len, query_len;
	struct tm tm;
	time_t t = r->end;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	cflog_split_target(r->target, &stem, &stem_len, &query, &query_len);

	field_num(&b, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	field_num(&b, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	field(&b, r->edge_location);
	field_num(&b, "%" PRIu64, r->sc_bytes);
	field(&b, r->c_ip);
	field(&b, r->method);
	field(&b, r->host);
	field_n(&b, stem, stem_len, CFLOG_ESC_URI);
	field_num(&b, "%03u", r->status % 1000);
	field(&b, r->referer);
	field(&b, r->user_agent);
	field_n(&b, query, query_len, CFLOG_ESC_URI);
	field(&b, r->cookie);
	field(&b, r->result_type);
	field(&b, r->request_id);
	field(&b, r->host_header);
	field(&b, r->protocol);
	field_num(&b, "%" PRIu64, r->cs_bytes);
	field_secs(&b, r->time_taken_ms);
	field(&b, r->forwarded_for);
	field(&b, r->ssl_protocol);
	field(&b, r->ssl_cipher);
	field(&b, r->response_result_type);
	field(&b, r->protocol_version);
	field(&b, NULL); /* fle-status: no field-level encryption */
	field(&b, NULL); /* fle-encrypted-fields */
	if (r->c_port == 0)
		field(&b, NULL);
	else
		field_num(&b, "%u", r->c_port);
	if (r->ttfb_ms < 0)
		field(&b, NULL);
	else
		field_secs(&b, r->ttfb_ms);
	field(&b, r->detailed_result_type);
	field(&b, r->content_type);
	field_ll(&b, r->content_len);
	field_ll(&b, r->range_start);
	field_ll(&b, r->range_end);
	if (!reserve(&b, 1)) {
		free(b.p);
		return NULL;
	}
	b.p[b.len++] = '\n';
	b.p[b.len] = '\0';
	*len = b.len;
	return b.p;
}
