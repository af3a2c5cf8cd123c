/*
 * edg_hpol.c: the response-header policy, as CloudFront's response headers
 * policies: an optional Strict-Transport-Security on HTTPS answers, fields
 * set on every answer (replacing the origin's) and fields removed.
 *
 * The policy is immutable once built; SIGHUP builds a new one and swaps
 * the pointer (answers being built may still read the old one, so retired
 * policies are kept until exit: a few hundred bytes per reload).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edg_ops.h"
#include "hreq.h"
#include "log.h"

struct edg_hpol {
	struct edg_hpol *older;  /* the retired list */
	char *hsts;              /* NULL: none */
	size_t nadd, nrm;
	char **add_name, **add_value;
	char **rm;
};

/* Fields libmicrohttpd writes itself or that frame the message: neither
 * set nor removed by the policy. */
static bool
framing(const char *name, size_t n)
{
	static const char *const names[] = {
		"content-length", "transfer-encoding", "connection", "keep-alive",
		"upgrade", "te", "trailer", "date",
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0)
			return true;
	return false;
}

/* A field value: visible bytes, blanks and obs-text, no CR, LF or NUL,
 * not starting or ending with a blank. */
static bool
field_value(const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return n == 0 || (s[0] != ' ' && s[0] != '\t' && s[n - 1] != ' ' && s[n - 1] != '\t');
}

static void
hpol_free(struct edg_hpol *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nadd; i++) {
		free(p->add_name[i]);
		free(p->add_value[i]);
	}
	for (i = 0; i < p->nrm; i++)
		free(p->rm[i]);
	free(p->add_name);
	free(p->add_value);
	free(p->rm);
	free(p->hsts);
	free(p);
}

/* RFC 6797 6.1: max-age is required, includeSubDomains and preload are
 * the other directives browsers know. */
static bool
hsts_ok(const char *v)
{
	const char *p = v;
	bool max_age = false;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		n = strcspn(p, ";");
		if (n == 0)
			break;
		if (strncasecmp(p, "max-age=", 8) == 0) {
			const char *d = p + 8;
			size_t k = 0;

			if (*d == '"')
				d++;
			while (d[k] >= '0' && d[k] <= '9')
				k++;
			if (k == 0 || k > 10)
				return false;
			max_age = true;
		}
		p += n;
	}
	return max_age && field_value(v);
}

/* One add_header item: the name's length in *nlen, the value in *val. */
static int
check_add(const char *item, size_t *nlen, const char **val, struct err *e)
{
	const char *colon = strchr(item, ':'), *v;
	size_t n = colon != NULL ? (size_t)(colon - item) : 0;

	if (colon == NULL || !hreq_is_token(item, n))
		return err_set(e, ERR_USAGE, "'%s' is not \"Name: value\" with a field name "
		               "before the colon", item);
	if (framing(item, n))
		return err_set(e, ERR_USAGE, "'%.*s' frames the message and is the edge's to "
		               "write", (int)n, item);
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!field_value(v))
		return err_set(e, ERR_USAGE, "the value of '%.*s' holds a control character or "
		               "a trailing blank", (int)n, item);
	*nlen = n;
	*val = v;
	return 0;
}

/* One remove_header name. */
static int
check_rm(const char *name, size_t n, struct err *e)
{
	if (!hreq_is_token(name, n))
		return err_set(e, ERR_USAGE, "'%.*s' is not a field name", (int)n, name);
	if (framing(name, n))
		return err_set(e, ERR_USAGE, "'%.*s' frames the message and cannot be removed",
		               (int)n, name);
	return 0;
}

int
edg_hpol_check(const char *key, const char *value, struct err *e)
{
	if (strcmp(key, "hsts") == 0) {
		if (!hsts_ok(value))
			return err_set(e, ERR_USAGE, "'%s' is not a Strict-Transport-Security value "
			               "(it needs max-age=SECONDS, e.g. \"max-age=31536000; "
			               "includeSubDomains\")", value);
		return 0;
	}
	if (strcmp(key, "add_header") == 0) {
		size_t n;
		const char *v;

		return check_add(value, &n, &v, e);
	}
	if (strcmp(key, "remove_header") == 0) {
		const char *s = value;

		while (*s != '\0') { /* the list's items, as lib/cfg.c splits them */
			size_t n = strcspn(s, ",");
			const char *a = s, *b = s + n;

			while (a < b && (*a == ' ' || *a == '\t'))
				a++;
			while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
				b--;
			if (b > a && check_rm(a, (size_t)(b - a), e) < 0)
				return -1;
			s += n;
			if (*s == ',')
				s++;
		}
	}
	return 0;
}

struct edg_hpol *
edg_hpol_build(const struct edg_opts *o, struct err *e)
{
	struct edg_hpol *p = calloc(1, sizeof *p);
	size_t i;

	if (p == NULL) {
		err_set(e, ERR_FAIL, "out of memory");
		return NULL;
	}
	if (o->hsts != NULL) {
		if (edg_hpol_check("hsts", o->hsts, e) < 0) {
			err_prefix(e, "key 'hsts': ");
			goto fail;
		}
		if ((p->hsts = strdup(o->hsts)) == NULL)
			goto oom;
	}
	if (o->add_header.n > 0) {
		p->add_name = calloc(o->add_header.n, sizeof *p->add_name);
		p->add_value = calloc(o->add_header.n, sizeof *p->add_value);
		if (p->add_name == NULL || p->add_value == NULL)
			goto oom;
	}
	for (i = 0; i < o->add_header.n; i++) {
		const char *item = o->add_header.v[i], *v;
		size_t n;

		if (check_add(item, &n, &v, e) < 0) {
			err_prefix(e, "key 'add_header': ");
			goto fail;
		}
		if ((p->add_name[i] = strndup(item, n)) == NULL || (p->add_value[i] = strdup(v)) == NULL)
			goto oom;
		p->nadd++;
	}
	if (o->remove_header.n > 0 &&
	    (p->rm = calloc(o->remove_header.n, sizeof *p->rm)) == NULL)
		goto oom;
	for (i = 0; i < o->remove_header.n; i++) {
		const char *name = o->remove_header.v[i];

		if (check_rm(name, strlen(name), e) < 0) {
			err_prefix(e, "key 'remove_header': ");
			goto fail;
		}
		if ((p->rm[i] = strdup(name)) == NULL)
			goto oom;
		p->nrm++;
	}
	return p;
oom:
	err_set(e, ERR_FAIL, "out of memory");
fail:
	hpol_free(p);
	return NULL;
}

struct found {
	const char *name;
	char *key, *value;       /* the first field whose name matches */
};

static enum MHD_Result
find_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct found *f = cls;

	(void)kind;
	if (strcasecmp(key, f->name) != 0)
		return MHD_YES;
	f->key = strdup(key);
	f->value = strdup(value ? value : "");
	return MHD_NO;
}

/* Remove every field called name (any case) from resp.  libmicrohttpd's
 * MHD_del_response_header wants the name as it was added, byte for byte,
 * and the value: find both first. */
static void
drop(struct MHD_Response *resp, const char *name)
{
	int guard;

	for (guard = 0; guard < 64; guard++) {
		struct found f = { name, NULL, NULL };
		bool gone;

		MHD_get_response_headers(resp, find_field, &f);
		if (f.key == NULL || f.value == NULL) {
			free(f.key);
			free(f.value);
			return;
		}
		gone = MHD_del_response_header(resp, f.key, f.value) == MHD_YES;
		free(f.key);
		free(f.value);
		if (!gone)
			return;
	}
}

void
edg_hpol_apply(struct edg_server *srv, const struct edg_req *r, struct MHD_Response *resp)
{
	const struct edg_hpol *p = __atomic_load_n(&srv->hpol, __ATOMIC_ACQUIRE);
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrm; i++)
		drop(resp, p->rm[i]);
	for (i = 0; i < p->nadd; i++) {
		drop(resp, p->add_name[i]);
		MHD_add_response_header(resp, p->add_name[i], p->add_value[i]);
	}
	/* the edge owns the field once hsts is set: the origin's goes, and
	 * ours is not sent over plain HTTP (RFC 6797 7.2) */
	if (p->hsts != NULL) {
		drop(resp, "Strict-Transport-Security");
		if (r->tls)
			MHD_add_response_header(resp, "Strict-Transport-Security", p->hsts);
	}
}

void
edg_hpol_install(struct edg_server *srv, struct edg_hpol *p)
{
	struct edg_hpol *old;

	if (p != NULL && p->hsts == NULL && p->nadd == 0 && p->nrm == 0) {
		hpol_free(p); /* nothing to do on the hot path */
		p = NULL;
	}
	old = __atomic_exchange_n(&srv->hpol, p, __ATOMIC_ACQ_REL);
	if (old != NULL) {
		old->older = srv->hpol_old;
		srv->hpol_old = old;
	}
}

void
edg_hpol_free_all(struct edg_server *srv)
{
	struct edg_hpol *p = srv->hpol, *next;

	srv->hpol = NULL;
	hpol_free(p);
	for (p = srv->hpol_old; p != NULL; p = next) {
		next = p->older;
		hpol_free(p);
	}
	srv->hpol_old = NULL;
}
