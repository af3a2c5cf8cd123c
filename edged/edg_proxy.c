/*
 * edg_proxy.c: the origin leg's text: origin URLs and their endpoints,
 * the request head edged sends upstream, and which response fields it
 * passes back (RFC 9110 7.6: hop-by-hop fields go no further).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edg.h"
#include "hreq.h"

/* ---- origin URLs ---------------------------------------------------------- */

int
edg_origin_parse(struct edg_origin *o, const char *url, bool *https, int *port,
                 struct err *e)
{
	const char *p, *hs, *he, *ps;
	size_t hl;

	if (strncasecmp(url, "https://", 8) == 0) {
		*https = true;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		*https = false;
		p = url + 7;
	} else {
		return err_set(e, ERR_USAGE, "key '%s': '%s' is not an http:// or https:// URL",
		               o->key, url);
	}
	if (strpbrk(p, "@#? \t\r\n") != NULL)
		return err_set(e, ERR_USAGE, "key '%s': '%s': no user info, query, fragment or "
		               "spaces in an origin URL", o->key, url);
	if (*p == '[') { /* IPv6 literal */
		hs = p + 1;
		he = strchr(hs, ']');
		if (he == NULL)
			return err_set(e, ERR_USAGE, "key '%s': '%s': unclosed '['", o->key, url);
		ps = he + 1;
	} else {
		hs = p;
		he = p + strcspn(p, ":/");
		ps = he;
	}
	hl = (size_t)(he - hs);
	if (hl == 0 || hl >= sizeof o->host)
		return err_set(e, ERR_USAGE, "key '%s': '%s': no host (or too long)", o->key, url);
	memcpy(o->host, hs, hl);
	o->host[hl] = '\0';
	*port = *https ? 443 : 80;
	if (*ps == ':') {
		char *end;
		long v = strtol(ps + 1, &end, 10);

		if (end == ps + 1 || v < 1 || v > 65535 || (*end != '\0' && *end != '/'))
			return err_set(e, ERR_USAGE, "key '%s': '%s': bad port", o->key, url);
		*port = (int)v;
		ps = end;
	}
	if (*ps != '\0' && *ps != '/')
		return err_set(e, ERR_USAGE, "key '%s': '%s': unexpected '%c' after the host",
		               o->key, url, *ps);
	snprintf(o->prefix, sizeof o->prefix, "%s", ps);
	hl = strlen(o->prefix);
	while (hl > 0 && o->prefix[hl - 1] == '/')
		o->prefix[--hl] = '\0';
	if (hl > 0) {
		char dec[1024];

		if (hreq_decode_path(o->prefix, dec, sizeof dec, NULL) < 0 ||
		    strcmp(dec, o->prefix) != 0)
			return err_set(e, ERR_USAGE, "key '%s': '%s': the path prefix must be a plain "
			               "path (no dot-segments or escapes)", o->key, url);
	}
	return 0;
}

static void
host_header(char *out, size_t len, const char *host, int port, int default_port)
{
	bool v6 = strchr(host, ':') != NULL;

	if (port == default_port)
		snprintf(out, len, v6 ? "[%s]" : "%s", host);
	else
		snprintf(out, len, v6 ? "[%s]:%d" : "%s:%d", host, port);
}

static int
endpoint(struct hc_origin **out, const struct edg_origin *o, bool https, int port,
         const struct edg_opts *opts, struct err *e)
{
	struct hc_origin_opts h = {
		.https = https,
		.host = o->host,
		.port = port,
		.ca_file = opts->origin_ca,
		.cert_file = opts->origin_client_cert,
		.key_file = opts->origin_client_key,
		.min_tls = opts->origin_min_tls,
		.sni = opts->origin_sni,
		.connect_timeout_ms = (int)opts->origin_connect_timeout,
		.connection_attempts = (int)opts->origin_connection_attempts,
		.response_timeout_ms = (int)opts->origin_response_timeout,
		.keepalive_timeout_ms = (int)opts->origin_keepalive_timeout,
		.max_idle = (size_t)opts->origin_max_idle,
		.max_conns = (size_t)opts->origin_max_connections,
	};

	*out = calloc(1, sizeof **out);
	if (*out == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	if (hc_origin_init(*out, &h, e) < 0) {
		free(*out);
		*out = NULL;
		return err_prefix(e, "TLS to %s: ", o->key);
	}
	return 0;
}

int
edg_origin_init(struct edg_origin *o, const char *key, const char *url,
                const struct edg_opts *opts, enum edg_opp policy, struct err *e)
{
	bool https;
	int port, hport, pport;

	memset(o, 0, sizeof *o);
	o->key = key;
	snprintf(o->url, sizeof o->url, "%s", url);
	if (edg_origin_parse(o, url, &https, &port, e) < 0)
		return -1;
	if (policy == EDG_OPP_HTTPS && !https)
		return err_set(e, ERR_USAGE, "key '%s': '%s' is plain http:// but "
		               "origin_protocol_policy is https-only; write https:// (edged "
		               "never sends a viewer's request in the clear by accident)", key, url);
	if (policy == EDG_OPP_HTTP && https)
		return err_set(e, ERR_USAGE, "key '%s': '%s' is https:// but "
		               "origin_protocol_policy is http-only", key, url);
	hport = opts->origin_https_port ? (int)opts->origin_https_port : https ? port : 443;
	pport = opts->origin_http_port ? (int)opts->origin_http_port : !https ? port : 80;
	if (policy != EDG_OPP_HTTP) {
		if (endpoint(&o->https, o, true, policy == EDG_OPP_HTTPS ? port : hport, opts, e) < 0)
			return -1;
		host_header(o->https_host_hdr, sizeof o->https_host_hdr, o->host,
		            o->https->port, 443);
	}
	if (policy != EDG_OPP_HTTPS) {
		if (endpoint(&o->http, o, false, policy == EDG_OPP_HTTP ? port : pport, opts,
		             e) < 0)
			return -1;
		host_header(o->http_host_hdr, sizeof o->http_host_hdr, o->host, o->http->port, 80);
	}
	return 0;
}

void
edg_origin_free(struct edg_origin *o)
{
	if (o->https != NULL) {
		hc_origin_free(o->https);
		free(o->https);
	}
	if (o->http != NULL) {
		hc_origin_free(o->http);
		free(o->http);
	}
	o->https = o->http = NULL;
}

/* ---- field lists ---------------------------------------------------------- */

bool
edg_list_has(const char *value, size_t vlen, const char *token)
{
	size_t tl = strlen(token), i = 0;

	while (i < vlen) {
		size_t s, e;

		while (i < vlen && (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
			i++;
		s = i;
		while (i < vlen && value[i] != ',')
			i++;
		e = i;
		while (e > s && (value[e - 1] == ' ' || value[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(value + s, token, tl) == 0)
			return true;
	}
	return false;
}

/* Fields that end at the next hop whatever Connection says (RFC 9110
 * 7.6.1), plus the Proxy-* family and the framing we redo ourselves. */
bool
edg_hop_by_hop(const char *name, size_t nlen)
{
	static const char *const hop[] = { "connection", "keep-alive", "te", "trailer",
	                                   "transfer-encoding", "upgrade",
	                                   "proxy-connection", "content-length" };
	size_t i;

	if (nlen >= 6 && strncasecmp(name, "proxy-", 6) == 0)
		return true;
	for (i = 0; i < sizeof hop / sizeof hop[0]; i++)
		if (strlen(hop[i]) == nlen && strncasecmp(name, hop[i], nlen) == 0)
			return true;
	return false;
}

bool
edg_skip_response_field(const struct hresp *r, const struct hresp_field *f)
{
	const struct hresp_field *c;
	char name[128];

	if (edg_hop_by_hop(f->name, f->nlen))
		return true;
	if (f->nlen >= sizeof name)
		return false;
	memcpy(name, f->name, f->nlen);
	name[f->nlen] = '\0';
	for (c = hresp_next(r, "Connection", NULL); c; c = hresp_next(r, "Connection", c))
		if (edg_list_has(c->value, c->vlen, name))
			return true;
	return false;
}

/* ---- the request head ----------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
	bool bad;
};

#define HEAD_MAX (256 * 1024)

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->bad)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 2048;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > HEAD_MAX || (np = realloc(b->p, cap)) == NULL) {
			b->bad = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
field(struct buf *b, const char *name, const char *value)
{
	puts_(b, name);
	put(b, ": ", 2);
	puts_(b, value);
	put(b, "\r\n", 2);
}

struct walk {
	const struct edg_fwd *f;
	struct buf *b;
	struct buf xff;          /* X-Forwarded-For values so far */
	char conn_names[1024];   /* the viewer's Connection values, joined */
	size_t cnl;
};

static enum MHD_Result
collect_connection(void *cls, enum MHD_ValueKind kind, const char *key, size_t ksz,
                   const char *value, size_t vsz)
{
	struct walk *w = cls;

	(void)kind;
	if (ksz == 10 && strcasecmp(key, "connection") == 0 && value != NULL &&
	    w->cnl + vsz + 2 < sizeof w->conn_names) {
		memcpy(w->conn_names + w->cnl, value, vsz);
		w->cnl += vsz;
		w->conn_names[w->cnl++] = ',';
		w->conn_names[w->cnl] = '\0';
	}
	return MHD_YES;
}

static bool
is(const char *key, size_t ksz, const char *name)
{
	return strlen(name) == ksz && strcasecmp(key, name) == 0;
}

/* The fields a cache evaluates itself, never forwarded on its fetches
 * (RFC 9111 4.3.1: the cache's own validators go instead). */
static bool
conditional(const char *key, size_t ksz)
{
	static const char *const names[] = { "if-none-match", "if-modified-since", "if-match",
	                                      "if-unmodified-since", "if-range", "range" };
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == ksz && strcasecmp(key, names[i]) == 0)
			return true;
	return false;
}

/* Request fields that commonly change what an origin answers (the host
 * or path it thinks it serves, the method it runs) although no cache keys
 * on them: forwarded on a fetch for the cache, a viewer could poison the
 * entry every other viewer gets.  They are dropped from the cache's
 * fetches unless cache_key_headers names them (then they are in the key).
 * Requests that bypass the cache forward them as any other field. */
static bool
unkeyed_risky(const struct edg_fwd *f, const char *key, size_t ksz)
{
	static const char *const names[] = {
		"x-forwarded-host", "x-forwarded-server", "x-forwarded-scheme", "x-forwarded-port",
		"x-forwarded-prefix", "x-host", "x-original-url", "x-rewrite-url",
		"x-original-host", "x-http-method-override", "x-http-method", "x-method-override",
		"forwarded",
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == ksz && strcasecmp(key, names[i]) == 0)
			break;
	if (i == sizeof names / sizeof names[0])
		return false;
	if (f->keyed != NULL)
		for (i = 0; i < f->keyed->n; i++)
			if (strlen(f->keyed->v[i]) == ksz && strcasecmp(f->keyed->v[i], key) == 0)
				return false;
	return true;
}

static enum MHD_Result
copy_field(void *cls, enum MHD_ValueKind kind, const char *key, size_t ksz,
           const char *value, size_t vsz)
{
	struct walk *w = cls;
	static const char *const ours[] = { "host", "expect", "x-forwarded-proto",
	                                     "x-edge-request-id" };
	size_t i;

	(void)kind;
	if (value == NULL)
		value = "";
	if (edg_hop_by_hop(key, ksz))
		return MHD_YES;
	for (i = 0; i < sizeof ours / sizeof ours[0]; i++)
		if (strlen(ours[i]) == ksz && strcasecmp(key, ours[i]) == 0)
			return MHD_YES;
	if (w->cnl > 0 && edg_list_has(w->conn_names, w->cnl, key))
		return MHD_YES;
	if (w->f->strip_cond && (conditional(key, ksz) || unkeyed_risky(w->f, key, ksz)) &&
	    !(w->f->keep_range && (is(key, ksz, "range") || is(key, ksz, "if-range"))))
		return MHD_YES;
	if (ksz == 15 && strcasecmp(key, "x-forwarded-for") == 0) {
		if (vsz > 0) {
			if (w->xff.len > 0)
				put(&w->xff, ", ", 2);
			put(&w->xff, value, vsz);
		}
		return MHD_YES;
	}
	put(w->b, key, ksz);
	put(w->b, ": ", 2);
	put(w->b, value, vsz);
	put(w->b, "\r\n", 2);
	return MHD_YES;
}

int
edg_upstream_target(const char *prefix, const char *target, char *out, size_t outlen)
{
	const char *t = target;
	char dec[8192];
	int n;

	if (strncasecmp(t, "http://", 7) == 0 || strncasecmp(t, "https://", 8) == 0) {
		/* absolute-form: what follows the authority is the target */
		t = strchr(t, ':') + 3;
		t += strcspn(t, "/?");
		if (*t == '\0')
			t = "/";
	}
	if (strcmp(t, "*") == 0) {
		n = snprintf(out, outlen, "%s", prefix[0] ? prefix : "*");
		return n < 0 || (size_t)n >= outlen ? -1 : 0;
	}
	/* with a prefix, a path must not climb out of it ("/../", "%2e%2e") */
	if (prefix[0] != '\0' && hreq_decode_path(t, dec, sizeof dec, NULL) < 0)
		return -1;
	n = snprintf(out, outlen, "%s%s%s", prefix, *t == '?' ? "/" : "", t);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
edg_upstream_target_check(const char *prefix, const char *target)
{
	char *out = malloc(EDG_TARGET_MAX);
	int rc = out == NULL ? -1 : edg_upstream_target(prefix, target, out, EDG_TARGET_MAX);

	free(out);
	return rc;
}

int
edg_build_head(const struct edg_fwd *f, char **out, size_t *len)
{
	struct buf b = { NULL, 0, 0, false };
	struct walk w = { f, &b, { NULL, 0, 0, false }, "", 0 };
	char *target = malloc(EDG_TARGET_MAX), num[32];

	if (target == NULL ||
	    edg_upstream_target(f->prefix, f->target, target, EDG_TARGET_MAX) < 0) {
		free(target);
		return -1;
	}
	puts_(&b, f->head_only ? "HEAD" : f->method);
	put(&b, " ", 1);
	puts_(&b, target);
	free(target);
	put(&b, " HTTP/1.1\r\n", 11);
	field(&b, "Host", f->host);
	MHD_get_connection_values_n(f->conn, MHD_HEADER_KIND, collect_connection, &w);
	MHD_get_connection_values_n(f->conn, MHD_HEADER_KIND, copy_field, &w);
	if (w.xff.len > 0)
		put(&w.xff, ", ", 2);
	puts_(&w.xff, f->client_ip);
	if (!w.xff.bad)
		field(&b, "X-Forwarded-For", w.xff.p);
	free(w.xff.p);
	field(&b, "X-Forwarded-Proto", f->viewer_tls ? "https" : "http");
	field(&b, "Via", f->via);
	field(&b, "X-Edge-Request-Id", f->request_id);
	if (f->extra != NULL)
		puts_(&b, f->extra);
	if (f->chunked) {
		field(&b, "Transfer-Encoding", "chunked");
	} else if (f->content_length >= 0) {
		snprintf(num, sizeof num, "%lld", f->content_length);
		field(&b, "Content-Length", num);
	} else if (strcmp(f->method, "POST") == 0 || strcmp(f->method, "PUT") == 0 ||
	           strcmp(f->method, "PATCH") == 0) {
		field(&b, "Content-Length", "0");
	}
	put(&b, "\r\n", 2);
	if (b.bad) {
		free(b.p);
		return -1;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
