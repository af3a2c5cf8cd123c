/*
 * org_env.c: the CGI/1.1 meta-variables (RFC 3875 section 4.1) shared by
 * the CGI and FastCGI handlers, plus HTTPS=on and mod_ssl's SSL_* names.
 *
 * Request header fields become HTTP_* variables, except: Content-Type and
 * Content-Length (CONTENT_TYPE, CONTENT_LENGTH), Proxy (HTTP_PROXY would
 * set a script's outgoing proxy: "httpoxy"), Authorization and
 * Proxy-Authorization (RFC 3875 4.1.18), and any name holding a character
 * other than a letter, digit or '-' (Foo_Bar would masquerade as Foo-Bar).
 * Repeated fields are joined with ", " ("; " for Cookie), as 4.1.18 asks.
 *
 * Runs on the connection's thread; allocates everything it returns.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "org.h"
#include "version.h"

struct envb {
	char **v;
	size_t n, cap;
	bool oom;
};

static void
env_add(struct envb *b, const char *name, const char *val, size_t vlen)
{
	char *s;

	if (b->oom)
		return;
	if (b->n + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		char **nv = realloc(b->v, cap * sizeof *nv);

		if (nv == NULL) {
			b->oom = true;
			return;
		}
		b->v = nv;
		b->cap = cap;
	}
	if (asprintf(&s, "%s=%.*s", name, (int)vlen, val) < 0) {
		b->oom = true;
		return;
	}
	b->v[b->n++] = s;
	b->v[b->n] = NULL;
}

static void
env_set(struct envb *b, const char *name, const char *val)
{
	env_add(b, name, val ? val : "", val ? strlen(val) : 0);
}

/* Find an existing NAME= entry, to join a repeated header into it. */
static char **
env_find(struct envb *b, const char *name)
{
	size_t i, nl = strlen(name);

	for (i = 0; i < b->n; i++)
		if (strncmp(b->v[i], name, nl) == 0 && b->v[i][nl] == '=')
			return &b->v[i];
	return NULL;
}

struct hdr_ctx {
	struct envb *b;
};

static enum MHD_Result
each_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
            const char *value, size_t value_size)
{
	struct hdr_ctx *c = cls;
	char name[5 + 256];
	size_t i;
	char **old;

	(void)kind;
	if (key_size == 0 || key_size > 250 || value == NULL)
		return MHD_YES;
	if (strcasecmp(key, "content-type") == 0 || strcasecmp(key, "content-length") == 0 ||
	    strcasecmp(key, "proxy") == 0 || strcasecmp(key, "authorization") == 0 ||
	    strcasecmp(key, "proxy-authorization") == 0)
		return MHD_YES;
	memcpy(name, "HTTP_", 5);
	for (i = 0; i < key_size; i++) {
		unsigned char ch = (unsigned char)key[i];

		if (ch == '-')
			name[5 + i] = '_';
		else if (isalnum(ch))
			name[5 + i] = (char)toupper(ch);
		else
			return MHD_YES; /* '_' or anything odd: not passed */
	}
	name[5 + key_size] = '\0';
	old = env_find(c->b, name);
	if (old != NULL) {
		char *joined;
		const char *sep = strcmp(name, "HTTP_COOKIE") == 0 ? "; " : ", ";

		if (asprintf(&joined, "%s%s%.*s", *old, sep, (int)value_size, value) < 0) {
			c->b->oom = true;
			return MHD_NO;
		}
		free(*old);
		*old = joined;
		return MHD_YES;
	}
	env_add(c->b, name, value, value_size);
	return MHD_YES;
}

/* SERVER_NAME: the Host header's host part, else server_name, else the
 * machine's name (RFC 3875 4.1.14). */
static void
server_name(const struct org_req *r, char *out, size_t len)
{
	const char *h = r->host;

	if (h != NULL && *h != '\0') {
		const char *end;

		if (*h == '[') {
			end = strchr(h, ']');
			end = end ? end + 1 : h + strlen(h);
		} else {
			end = strchr(h, ':');
			if (end == NULL)
				end = h + strlen(h);
		}
		snprintf(out, len, "%.*s", (int)(end - h), h);
		return;
	}
	if (r->srv->o.server_name != NULL) {
		snprintf(out, len, "%s", r->srv->o.server_name);
		return;
	}
	if (gethostname(out, len) != 0)
		snprintf(out, len, "localhost");
	out[len - 1] = '\0';
}

char **
org_env_build(const struct org_req *r, const char *script_name,
              const char *path_info, const char *script_filename)
{
	struct envb b = { 0 };
	struct hdr_ctx hc = { &b };
	char buf[4352];

	env_set(&b, "GATEWAY_INTERFACE", "CGI/1.1");
	env_set(&b, "SERVER_SOFTWARE", "origind/" EDGED_VERSION);
	env_set(&b, "SERVER_PROTOCOL", r->version);
	server_name(r, buf, 256);
	env_set(&b, "SERVER_NAME", buf);
	env_set(&b, "SERVER_PORT", r->srv->server_port);
	env_set(&b, "SERVER_ADDR", r->server_addr);
	env_set(&b, "REQUEST_METHOD", r->method);
	env_set(&b, "REQUEST_URI", r->target);
	env_set(&b, "REQUEST_SCHEME", "https");
	env_set(&b, "QUERY_STRING", r->query);
	env_set(&b, "SCRIPT_NAME", script_name);
	env_set(&b, "PATH_INFO", path_info);
	if (path_info != NULL && *path_info != '\0' && r->srv->docroot_real[0] != '\0') {
		snprintf(buf, sizeof buf, "%s%s", r->srv->docroot_real, path_info);
		env_set(&b, "PATH_TRANSLATED", buf);
	}
	if (script_filename != NULL)
		env_set(&b, "SCRIPT_FILENAME", script_filename);
	if (r->srv->docroot_real[0] != '\0')
		env_set(&b, "DOCUMENT_ROOT", r->srv->docroot_real);
	env_set(&b, "REMOTE_ADDR", r->remote_addr);
	env_set(&b, "REMOTE_HOST", r->remote_addr);
	snprintf(buf, sizeof buf, "%u", r->remote_port);
	env_set(&b, "REMOTE_PORT", buf);
	if (r->body_len > 0 || r->content_length >= 0) {
		snprintf(buf, sizeof buf, "%zu", r->body_len);
		env_set(&b, "CONTENT_LENGTH", buf);
	}
	if (r->content_type != NULL)
		env_set(&b, "CONTENT_TYPE", r->content_type);
	/* TLS, with mod_ssl's names */
	env_set(&b, "HTTPS", "on");
	env_set(&b, "SSL_PROTOCOL", r->tls.protocol);
	env_set(&b, "SSL_CIPHER", r->tls.cipher);
	if (r->tls.sni[0] != '\0')
		env_set(&b, "SSL_TLS_SNI", r->tls.sni);
	env_set(&b, "SSL_SESSION_RESUMED", r->tls.resumed ? "Resumed" : "Initial");
	env_set(&b, "SSL_CLIENT_VERIFY", r->tls.client_verify);
	if (r->tls.client_s_dn[0] != '\0') {
		env_set(&b, "SSL_CLIENT_S_DN", r->tls.client_s_dn);
		env_set(&b, "SSL_CLIENT_I_DN", r->tls.client_i_dn);
	}
	/* a sane PATH for scripts that run other programs */
	env_set(&b, "PATH", "/usr/local/bin:/usr/bin:/bin");
	MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, each_header, &hc);
	if (b.oom) {
		if (b.v != NULL) {
			b.v[b.n] = NULL;
			org_env_free(b.v);
		}
		return NULL;
	}
	return b.v;
}

void
org_env_free(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}
