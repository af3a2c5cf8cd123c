/*
 * org_static.c: static files from docroot (RFC 9110 sections 8.8, 13, 14).
 *
 * The request path arrives normalized (org_path.h: decoded, dot-segments
 * resolved, slashes merged; above the root refused); the file is then
 * resolved with realpath(3) and must stay inside docroot, so a symlink
 * that leaves it is refused (403), and a script (under cgi_bin, where a
 * FastCGI prefix maps, or named in static_deny) is refused (403) whatever
 * name reached it.  Validators: a strong ETag from
 * size and modification time, and Last-Modified.  Preconditions are
 * evaluated in RFC 9110 13.2.2's order: If-Match, If-Unmodified-Since,
 * If-None-Match, If-Modified-Since, then If-Range with Range.  One byte
 * range is served as 206; several are answered with the whole file (RFC
 * 9110 14.2 allows ignoring Range); an unsatisfiable one gets 416.
 *
 * Runs on the connection's thread; the file descriptor is handed to the
 * response, which closes it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hrange.h"
#include "org.h"
#include "org_path.h"

static const struct {
	const char *ext, *type;
} types[] = {
	{ "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" }, { "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" }, { "json", "application/json" },
	{ "txt", "text/plain; charset=utf-8" }, { "xml", "application/xml" },
	{ "csv", "text/csv; charset=utf-8" }, { "md", "text/markdown; charset=utf-8" },
	{ "svg", "image/svg+xml" }, { "png", "image/png" }, { "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" }, { "gif", "image/gif" }, { "webp", "image/webp" },
	{ "avif", "image/avif" }, { "ico", "image/vnd.microsoft.icon" },
	{ "woff", "font/woff" }, { "woff2", "font/woff2" }, { "ttf", "font/ttf" },
	{ "otf", "font/otf" }, { "pdf", "application/pdf" }, { "wasm", "application/wasm" },
	{ "mp4", "video/mp4" }, { "webm", "video/webm" }, { "mp3", "audio/mpeg" },
	{ "ogg", "audio/ogg" }, { "zip", "application/zip" }, { "gz", "application/gzip" },
	{ "tar", "application/x-tar" }, { "m3u8", "application/vnd.apple.mpegurl" },
	{ "ts", "video/mp2t" },
};

static const char *
content_type(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t i;

	if (dot != NULL && (slash == NULL || dot > slash))
		for (i = 0; i < sizeof types / sizeof types[0]; i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

static void
http_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* IMF-fixdate, RFC 850 and asctime (RFC 9110 5.6.7); -1 if none fits. */
static time_t
parse_date(const char *s)
{
	static const char *fmts[] = { "%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
	                              "%a %b %e %H:%M:%S %Y" };
	size_t i;

	for (i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		struct tm tm;
		const char *end;

		memset(&tm, 0, sizeof tm);
		end = strptime(s, fmts[i], &tm);
		if (end != NULL && *end == '\0')
			return timegm(&tm);
	}
	return (time_t)-1;
}

/* Does list (an If-Match / If-None-Match value) match etag?  weak: the
 * weak comparison (W/ prefixes ignored), else strong (no W/ at all). */
static bool
etag_match(const char *list, const char *etag, bool weak)
{
	const char *p = list;
	size_t el = strlen(etag);

	while (*p != '\0') {
		bool is_weak = false;
		const char *q;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0) {
			is_weak = true;
			p += 2;
		}
		if (*p != '"')
			return false; /* malformed: no match */
		q = strchr(p + 1, '"');
		if (q == NULL)
			return false;
		if ((size_t)(q - p + 1) == el && strncmp(p, etag, el) == 0 && (weak || !is_weak))
			return true;
		p = q + 1;
	}
	return false;
}

static const char *
hdr(struct org_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* The decoded path as a Location path: percent-encoded again, and with
 * one leading slash, so "//host" cannot become another site's URL. */
static void
encode_path(const char *path, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	while (path[0] == '/' && path[1] == '/')
		path++;
	for (; *path && o + 4 < len; path++) {
		unsigned char c = (unsigned char)*path;

		if (isalnum(c) || strchr("/-._~!$&'()*+,;=:@", c) != NULL) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

/* Why real (a resolved regular file inside the docroot) is a script that
 * must never go out as bytes, or NULL when it may.  Checked on the file's
 * real path, so that neither the URL's spelling nor a symlink matters:
 * under cgi_bin; where a FastCGI prefix maps (its docroot-relative real
 * path matches a prefix, or it lies under what docroot + prefix resolves
 * to, when that is a symlink to elsewhere in the docroot); or a name
 * ending with a static_deny suffix.  Not inlined: its 12 KiB of path
 * buffers and the caller's would make one frame over the 16 KiB limit. */
static __attribute__((noinline)) const char *
script_file(const struct org_server *srv, const char *real)
{
	const char *rel = real + strlen(srv->docroot_real);
	const char *base = strrchr(real, '/');
	size_t i, bl;

	if (srv->cgi_real[0] != '\0' && org_path_under(real, srv->cgi_real))
		return "file under cgi_bin";
	for (i = 0; i < srv->nfcgi; i++) {
		const char *pre = srv->fcgi[i].prefix;
		char want[PATH_MAX * 2], mapped[PATH_MAX];
		size_t pl = strlen(pre);

		if (strncmp(rel, pre, pl) == 0)
			return "file where a fastcgi prefix maps";
		while (pl > 1 && pre[pl - 1] == '/')
			pl--;
		snprintf(want, sizeof want, "%s%.*s", srv->docroot_real, (int)pl, pre);
		if (realpath(want, mapped) != NULL && org_path_under(real, mapped))
			return "file where a fastcgi prefix maps";
	}
	base = base != NULL ? base + 1 : real;
	bl = strlen(base);
	for (i = 0; i < srv->o.static_deny.n; i++) {
		const char *suf = srv->o.static_deny.v[i];
		size_t sl = strlen(suf);

		if (sl <= bl && strcasecmp(base + bl - sl, suf) == 0)
			return "file name in static_deny";
	}
	return NULL;
}

static struct MHD_Response *
empty_response(void)
{
	return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
}

static void
add_validators(struct MHD_Response *resp, const char *etag, const char *lm)
{
	MHD_add_response_header(resp, "ETag", etag);
	MHD_add_response_header(resp, "Last-Modified", lm);
	MHD_add_response_header(resp, "Accept-Ranges", "bytes");
}

void
org_static_handle(struct org_req *r, struct org_reply *out)
{
	const struct org_server *srv = r->srv;
	const char *root = srv->docroot_real, *v;
	/* want: root + path; a longer one would fail realpath() (ENAMETOOLONG) */
	char want[PATH_MAX + NAME_MAX + 2], real[PATH_MAX], etag[96], lm[64];
	size_t rl = strlen(root), pl = strlen(r->path);
	struct stat st;
	off_t off = 0, len;
	int fd, rng = 0;
	time_t t;
	struct MHD_Response *resp;

	out->status = 404;
	snprintf(want, sizeof want, "%s%s", root, r->path);
	if (realpath(want, real) == NULL) {
		out->status = errno == EACCES ? 403 : 404;
		return;
	}
	if (strncmp(real, root, rl) != 0 || (real[rl] != '/' && real[rl] != '\0')) {
		out->status = 403; /* a symlink out of docroot */
		snprintf(out->detail, sizeof out->detail, "path leaves docroot");
		return;
	}
	if (stat(real, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		char loc[PATH_MAX + 16];

		if (pl == 0 || r->path[pl - 1] != '/') {
			/* /dir -> /dir/, as every web server does */
			resp = empty_response();
			if (resp == NULL)
				return;
			encode_path(r->path, loc, sizeof loc - 2);
			snprintf(loc + strlen(loc), sizeof loc - strlen(loc), "/%s%s",
			         *r->query ? "?" : "", r->query);
			MHD_add_response_header(resp, "Location", loc);
			out->status = 301;
			out->resp = resp;
			return;
		}
		if (srv->o.index == NULL || strchr(srv->o.index, '/') != NULL)
			return;
		snprintf(want, sizeof want, "%s/%s", real, srv->o.index);
		if (realpath(want, real) == NULL || strncmp(real, root, rl) != 0 ||
		    real[rl] != '/' || stat(real, &st) < 0)
			return;
	}
	if (!S_ISREG(st.st_mode))
		return;
	if ((v = script_file(srv, real)) != NULL) {
		out->status = 403;
		snprintf(out->detail, sizeof out->detail, "%s", v);
		return;
	}
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		out->status = errno == EACCES ? 403 : 404;
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	snprintf(etag, sizeof etag, "\"%llx-%llx%09lx\"", (unsigned long long)st.st_size,
	         (unsigned long long)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec);
	http_date(st.st_mtim.tv_sec, lm, sizeof lm);
	/* preconditions, RFC 9110 13.2.2 */
	if ((v = hdr(r, "If-Match")) != NULL) {
		if (!etag_match(v, etag, false))
			goto precondition_failed;
	} else if ((v = hdr(r, "If-Unmodified-Since")) != NULL) {
		t = parse_date(v);
		if (t != (time_t)-1 && st.st_mtim.tv_sec > t)
			goto precondition_failed;
	}
	if ((v = hdr(r, "If-None-Match")) != NULL) {
		if (etag_match(v, etag, true))
			goto not_modified;
	} else if ((v = hdr(r, "If-Modified-Since")) != NULL) {
		t = parse_date(v);
		if (t != (time_t)-1 && st.st_mtim.tv_sec <= t)
			goto not_modified;
	}
	len = st.st_size;
	if ((v = hdr(r, "Range")) != NULL && strcmp(r->method, "GET") == 0) {
		const char *ir = hdr(r, "If-Range");
		bool use = true;

		if (ir != NULL) /* a strong ETag match, or the exact date */
			use = ir[0] == '"' ? etag_match(ir, etag, false) :
			                     (t = parse_date(ir)) != (time_t)-1 && t == st.st_mtim.tv_sec;
		if (use) {
			uint64_t o64 = 0, l64 = 0;

			rng = hrange_parse(v, strlen(v), (uint64_t)st.st_size, &o64, &l64);
			off = (off_t)o64;
			if (rng == HRANGE_OK)
				len = (off_t)l64;
		}
	}
	if (rng < 0) {
		char cr[64];

		close(fd);
		resp = empty_response();
		if (resp == NULL)
			return;
		snprintf(cr, sizeof cr, "bytes */%lld", (long long)st.st_size);
		MHD_add_response_header(resp, "Content-Range", cr);
		out->status = 416;
		out->resp = resp;
		return;
	}
	resp = MHD_create_response_from_fd_at_offset64((uint64_t)len, fd, (uint64_t)off);
	if (resp == NULL) {
		close(fd);
		out->status = 500;
		return;
	}
	add_validators(resp, etag, lm);
	MHD_add_response_header(resp, "Content-Type", content_type(real));
	org_add_cache_control(srv, r->path, resp);
	if (rng > 0) {
		char cr[96];

		snprintf(cr, sizeof cr, "bytes %lld-%lld/%lld", (long long)off,
		         (long long)(off + len - 1), (long long)st.st_size);
		MHD_add_response_header(resp, "Content-Range", cr);
		out->status = 206;
	} else {
		out->status = 200;
	}
	r->bytes_out = strcmp(r->method, "HEAD") == 0 ? 0 : (uint64_t)len;
	out->resp = resp;
	return;

not_modified:
	close(fd);
	resp = empty_response();
	if (resp == NULL)
		return;
	/* libmicrohttpd 0.9.75 writes "Content-Length: 0" on this 304 whatever
	 * we add (RFC 9110 8.6 wants none or the 200's); known, see README */
	add_validators(resp, etag, lm);
	org_add_cache_control(srv, r->path, resp);
	out->status = 304;
	out->resp = resp;
	return;

precondition_failed:
	close(fd);
	resp = empty_response();
	if (resp == NULL)
		return;
	out->status = 412;
	out->resp = resp;
}
