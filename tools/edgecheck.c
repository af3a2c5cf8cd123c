/*
 * edgecheck: walks the six HTTPS steps through a running edge and says,
 * step by step, what it saw.
 *
 *   edgecheck URL --ca FILE [--resolve HOST:PORT:ADDR]... [--http-port N]
 *             [--also URL]... [--timeout 10s] [--json] [--require-origind]
 *
 *   1  viewer TLS: version, cipher, chain verified against --ca for the
 *      URL's host, days until the leaf expires
 *   2  the URL with a fresh "edgecheck=<nonce>" query: X-Cache Miss
 *   3  the edge reached the origin over TLS: origind's /_origind/session
 *      through the edge, and its /_origind/stats counter for the path
 *   4  what origind saw of the origin leg (decrypt, process, encrypt)
 *   5  the same URL again: X-Cache Hit with Age; origin counter unchanged
 *   6  the viewer's two bodies are the same (sha256, Content-Length)
 *   R  a client-initiated TLS 1.2 renegotiation is refused
 *   H  plain HTTP on --http-port is handled by the viewer policy
 *   A  every --also edge serves the object as a Hit (shared cache)
 *
 * Every request goes through lib/hclient (verified TLS, deadlines); the
 * step 1 and R probes drive their own GnuTLS sessions over lib/tconn so
 * that they can see alerts and the negotiated parameters.  An origin that
 * is not origind makes steps 3 and 4 say so and pass, unless
 * --require-origind.
 *
 * Exit codes: 0 every step holds, 1 a step failed, 2 usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cfg.h"
#include "chkurl.h"
#include "hclient.h"
#include "hreq.h"
#include "hresp.h"
#include "tconn.h"
#include "tls.h"
#include "version.h"

/* ---- options ------------------------------------------------------------- */

#define CHK_KEYS(X) \
	X(ca, CFG_STR, "FILE", NULL, 0, 0, NULL, CFG_REQUIRED, \
	  "CA certificates (PEM) the edge's chain must verify against") \
	X(resolve, CFG_LIST, "HOST:PORT:ADDR", NULL, 0, 0, NULL, 0, \
	  "connect to ADDR for HOST:PORT, as curl --resolve") \
	X(http_port, CFG_INT, "PORT", "0", 0, 65535, NULL, 0, \
	  "also check a plain-HTTP GET on this port of the URL's host (step H) " \
	  "[0: skip]") \
	X(also, CFG_LIST, "URL", NULL, 0, 0, NULL, CFG_NOSPLIT, \
	  "another edge sharing the cache (https://host:port; its path is not used): " \
	  "the object must be a Hit there with the same body (step A)") \
	X(timeout, CFG_DURATION, "DURATION", "10s", 100, 600000, NULL, 0, \
	  "limit for each connect + handshake and each wait for an answer") \
	X(require_origind, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, \
	  "fail steps 3 and 4 when the origin is not origind (default: say so and go on)") \
	X(json, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, \
	  "print one JSON object with every step's facts instead of the report")

struct chk_opts { CHK_KEYS(CFG_FIELD) };
#define CHK_ROW(...) CFG_ROW(struct chk_opts, __VA_ARGS__)
static const struct cfg_key chk_keys[] = { CHK_KEYS(CHK_ROW) };

static const struct cfg_spec chk_spec = {
	"edgecheck", "URL --ca FILE [options]",
	"Check the round trip through an HTTPS edge (edged) step by step: viewer "
	"TLS, a fresh URL that misses and reaches the origin over TLS, what the "
	"origin (origind) saw, the same URL served as a Hit, identical bodies, "
	"renegotiation refused, plain HTTP per the viewer policy, and the shared "
	"cache on other edges. Exit 0 when every step holds, 1 when one does not "
	"(each failing step says why in one line), 2 for bad arguments.",
	chk_keys, sizeof chk_keys / sizeof chk_keys[0], 1, 1, false, NULL,
};

/* ---- state ---------------------------------------------------------------- */

enum st { ST_PASS, ST_FAIL, ST_SKIP, ST_NOTRUN };

struct step {
	char id[8];
	char title[160];
	cJSON *facts;            /* an object: facts in the order found */
	enum st state;
	char why[700];           /* "step 5: ..." when it failed or was skipped */
};

#define MAX_STEPS 48

struct edge {
	const char *given;       /* the URL as typed */
	struct chkurl u;
	char addr[64];           /* from --resolve; "" = resolve u.host */
	struct hc_origin hc;
	bool hc_ready;
};

struct chk {
	struct chk_opts *o;
	int timeout_ms;
	struct edge *edges;      /* [0]: the URL, then every --also */
	size_t nedges;
	struct chkresolve *res;
	size_t nres;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio_any, prio_12;
	char nonce[33];
	char target[CHKURL_MAX_TARGET + 64];  /* the cache-busting object */
	char path[CHKURL_MAX_TARGET];         /* its decoded path (origind's stats key) */
	char tls_version[32];                 /* what step 1 negotiated */
	bool miss_ok;                         /* step 2 got the object */
	char miss_sha[65];
	struct step steps[MAX_STEPS];
	size_t nsteps;
};

/* One response, as the viewer got it. */
#define KEEP_MAX (256 * 1024)

struct fetch {
	bool done;               /* a complete response was read */
	char fail[700];          /* why not */
	unsigned status;
	char reason[64];
	char xcache[128], age[32], cc[256], via[256], location[512], server[128];
	bool has_cl;
	uint64_t cl;
	uint64_t body_len;
	char sha[65];
	char *body;              /* the first KEEP_MAX bytes, NUL-terminated */
	size_t kept;
};

static void
fetch_free(struct fetch *f)
{
	free(f->body);
	memset(f, 0, sizeof *f);
}

/* ---- steps ---------------------------------------------------------------- */

static struct step *
step_new(struct chk *k, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct step *
step_new(struct chk *k, const char *id, const char *fmt, ...)
{
	struct step *s = &k->steps[k->nsteps < MAX_STEPS - 1 ? k->nsteps++ : k->nsteps];
	va_list ap;

	memset(s, 0, sizeof *s);
	snprintf(s->id, sizeof s->id, "%s", id);
	va_start(ap, fmt);
	vsnprintf(s->title, sizeof s->title, fmt, ap);
	va_end(ap);
	s->facts = cJSON_CreateObject();
	s->state = ST_PASS;
	return s;
}

/* Record why the step failed (the first reason wins). */
static void
step_fail(struct step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
step_fail(struct step *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->state == ST_FAIL)
		return;
	s->state = ST_FAIL;
	n = snprintf(s->why, sizeof s->why, "step %s: ", s->id);
	va_start(ap, fmt);
	vsnprintf(s->why + n, sizeof s->why - (size_t)n, fmt, ap);
	va_end(ap);
}

static void
step_state(struct step *s, enum st st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
step_state(struct step *s, enum st st, const char *fmt, ...)
{
	va_list ap;

	s->state = st;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof s->why, fmt, ap);
	va_end(ap);
}

static void
fact(struct step *s, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fact(struct step *s, const char *key, const char *fmt, ...)
{
	char v[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof v, fmt, ap);
	va_end(ap);
	cJSON_DeleteItemFromObjectCaseSensitive(s->facts, key);
	cJSON_AddStringToObject(s->facts, key, v);
}

static void
fact_num(struct step *s, const char *key, double v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(s->facts, key);
	cJSON_AddNumberToObject(s->facts, key, v);
}

static void
fact_bool(struct step *s, const char *key, bool v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(s->facts, key);
	cJSON_AddBoolToObject(s->facts, key, v);
}

/* ---- plumbing ------------------------------------------------------------- */

static const char *
connect_host(const struct edge *ed)
{
	return ed->addr[0] != '\0' ? ed->addr : ed->u.host;
}

static const char *
resolve_addr(const struct chk *k, const char *host, int port)
{
	size_t i;

	for (i = 0; i < k->nres; i++)
		if (k->res[i].port == port && strcmp(k->res[i].host, host) == 0)
			return k->res[i].addr;
	return NULL;
}

static void
hex(const unsigned char *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	out[2 * n] = '\0';
}

static void
field(const struct hresp *r, const char *name, char *out, size_t len)
{
	const struct hresp_field *f = hresp_get(r, name);

	if (f == NULL) {
		out[0] = '\0';
		return;
	}
	snprintf(out, len, "%.*s", (int)f->vlen, f->value);
}

/* GET target from edge o with Host authority: everything the viewer got. */
static void
http_get(struct hc_origin *o, const char *authority, const char *target,
         struct fetch *f)
{
	struct hc_exchange x;
	struct err e = { 0, "" };
	char head[CHKURL_MAX_TARGET + 512];
	static char buf[16384]; /* edgecheck fetches one thing at a time */
	unsigned char dig[32];
	gnutls_hash_hd_t h = NULL;
	ssize_t n;
	int hl;

	memset(f, 0, sizeof *f);
	hl = snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	              "User-Agent: edgecheck/" EDGED_VERSION "\r\nAccept: */*\r\n\r\n",
	              target, authority);
	if (hl < 0 || (size_t)hl >= sizeof head) {
		snprintf(f->fail, sizeof f->fail, "request head too long");
		return;
	}
	if (hc_begin(&x, o, head, (size_t)hl, false, true, &e) < 0 ||
	    hc_read_head(&x, &e) < 0) {
		snprintf(f->fail, sizeof f->fail, "%s", e.msg);
		hc_end(&x);
		return;
	}
	f->status = x.resp.status;
	snprintf(f->reason, sizeof f->reason, "%.*s", (int)x.resp.reason_len, x.resp.reason);
	field(&x.resp, "X-Cache", f->xcache, sizeof f->xcache);
	field(&x.resp, "Age", f->age, sizeof f->age);
	field(&x.resp, "Cache-Control", f->cc, sizeof f->cc);
	field(&x.resp, "Via", f->via, sizeof f->via);
	field(&x.resp, "Location", f->location, sizeof f->location);
	field(&x.resp, "Server", f->server, sizeof f->server);
	f->has_cl = x.resp.has_content_length;
	f->cl = x.resp.content_length;
	f->body = malloc(KEEP_MAX + 1);
	if (f->body == NULL || gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0) {
		snprintf(f->fail, sizeof f->fail, "out of memory");
		hc_end(&x);
		return;
	}
	while ((n = hc_read_body(&x, buf, sizeof buf, &e)) > 0) {
		size_t take = (size_t)n;

		gnutls_hash(h, buf, (size_t)n);
		f->body_len += (uint64_t)n;
		if (take > KEEP_MAX - f->kept)
			take = KEEP_MAX - f->kept;
		memcpy(f->body + f->kept, buf, take);
		f->kept += take;
	}
	f->body[f->kept] = '\0';
	gnutls_hash_deinit(h, dig);
	hex(dig, sizeof dig, f->sha);
	if (n < 0)
		snprintf(f->fail, sizeof f->fail, "the body was cut short after %" PRIu64
		         " bytes: %s", f->body_len, e.msg);
	else
		f->done = true;
	hc_end(&x);
}

static void
edge_get(struct edge *ed, const char *target, struct fetch *f)
{
	http_get(&ed->hc, ed->u.authority, target, f);
}

/* "200 OK", or the reason a request failed */
static const char *
status_text(const struct fetch *f, char *buf, size_t len)
{
	if (!f->done && f->status == 0)
		snprintf(buf, len, "no answer: %s", f->fail);
	else
		snprintf(buf, len, "%u%s%s", f->status, f->reason[0] ? " " : "", f->reason);
	return buf;
}

/* ---- TLS probes (steps 1 and R) --------------------------------------------- */

struct hs {
	int rc;                  /* GnuTLS code of the failure, 0 when done */
	int alert;               /* alert received, -1 for none */
	bool timeout;
	unsigned verify;         /* verification status when that failed */
	char why[600];
};

/* Run (or re-run) the handshake on c->tls until it ends or the deadline. */
static int
drive_handshake(struct tconn *c, int64_t deadline, struct hs *h)
{
	gnutls_session_t s = c->tls;
	int rc;

	h->alert = -1;
	for (;;) {
		rc = gnutls_handshake(s);
		if (rc == GNUTLS_E_SUCCESS)
			return h->rc = 0;
		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
			int w = tconn_wait_fd(c->fd, gnutls_record_get_direction(s) ? POLLOUT : POLLIN,
			                deadline);

			if (w == 0) {
				h->timeout = true;
				h->rc = GNUTLS_E_TIMEDOUT;
				snprintf(h->why, sizeof h->why, "no answer within the timeout");
				return -1;
			}
			if (w < 0) {
				h->rc = GNUTLS_E_PULL_ERROR;
				snprintf(h->why, sizeof h->why, "%s", strerror(errno));
				return -1;
			}
			continue;
		}
		if (rc == GNUTLS_E_GOT_APPLICATION_DATA) {
			char junk[4096];

			(void)gnutls_record_recv(s, junk, sizeof junk);
			continue;
		}
		if (rc == GNUTLS_E_WARNING_ALERT_RECEIVED) {
			h->alert = (int)gnutls_alert_get(s);
			if (h->alert == GNUTLS_A_NO_RENEGOTIATION) {
				h->rc = rc;
				snprintf(h->why, sizeof h->why, "alert no_renegotiation");
				return -1;
			}
			continue;
		}
		h->rc = rc;
		if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED) {
			h->alert = (int)gnutls_alert_get(s);
			snprintf(h->why, sizeof h->why, "alert %s",
			         gnutls_alert_get_name((gnutls_alert_description_t)h->alert));
		} else if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
			gnutls_datum_t out = { NULL, 0 };
			size_t l;

			h->verify = gnutls_session_get_verify_cert_status(s);
			gnutls_certificate_verification_status_print(h->verify, GNUTLS_CRT_X509,
			                                             &out, 0);
			snprintf(h->why, sizeof h->why, "%s",
			         out.data ? (char *)out.data : "not trusted");
			gnutls_free(out.data);
			l = strlen(h->why);
			while (l > 0 && (h->why[l - 1] == ' ' || h->why[l - 1] == '.'))
				h->why[--l] = '\0';
		} else if (rc == GNUTLS_E_PREMATURE_TERMINATION || rc == GNUTLS_E_PULL_ERROR ||
		           rc == GNUTLS_E_PUSH_ERROR) {
			snprintf(h->why, sizeof h->why, "the connection was closed");
		} else {
			snprintf(h->why, sizeof h->why, "%s", gnutls_strerror(rc));
		}
		return -1;
	}
}

/* TCP to the edge, then a verified handshake with prio.  c->tls is set
 * (also on a failed handshake, for what it learnt): tconn_close() it. */
static int
tls_open(struct chk *k, struct edge *ed, gnutls_priority_t prio, struct tconn *c,
         struct hs *h)
{
	struct err e = { 0, "" };
	gnutls_session_t s;
	int64_t deadline = tconn_deadline(k->timeout_ms);
	int rc;

	memset(h, 0, sizeof *h);
	h->alert = -1;
	if (tconn_open(c, connect_host(ed), ed->u.port, NULL, k->timeout_ms, &e) < 0) {
		h->rc = GNUTLS_E_PULL_ERROR;
		snprintf(h->why, sizeof h->why, "%s", e.msg);
		return -1;
	}
	rc = gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (rc < 0) {
		h->rc = rc;
		snprintf(h->why, sizeof h->why, "%s", gnutls_strerror(rc));
		return -1;
	}
	c->tls = s;
	gnutls_priority_set(s, prio);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, k->cred);
	if (!ed->u.is_ip)
		gnutls_server_name_set(s, GNUTLS_NAME_DNS, ed->u.host, strlen(ed->u.host));
	gnutls_session_set_verify_cert(s, ed->u.host, 0);
	gnutls_transport_set_int(s, c->fd);
	return drive_handshake(c, deadline, h);
}

static void
crt_dn(gnutls_x509_crt_t crt, bool issuer, char *out, size_t len)
{
	size_t l = len;
	int rc = issuer ? gnutls_x509_crt_get_issuer_dn(crt, out, &l)
	                : gnutls_x509_crt_get_dn(crt, out, &l);

	if (rc < 0)
		snprintf(out, len, "?");
}

/* The leaf the edge presented: subject, issuer, SANs, expiry. */
static void
leaf_facts(struct step *s, gnutls_session_t tls, time_t *expires)
{
	const gnutls_datum_t *peers;
	unsigned n = 0, i;
	gnutls_x509_crt_t crt;
	char dn[512], san[300], all[1024] = "";
	size_t o = 0;

	*expires = 0;
	peers = gnutls_certificate_get_peers(tls, &n);
	if (peers == NULL || n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) == 0) {
		crt_dn(crt, false, dn, sizeof dn);
		fact(s, "certificate", "%s", dn);
		crt_dn(crt, true, dn, sizeof dn);
		fact(s, "issuer", "%s", dn);
		for (i = 0; o + 2 < sizeof all; i++) {
			size_t sl = sizeof san - 1;
			unsigned type;
			int rc = gnutls_x509_crt_get_subject_alt_name2(crt, i, san, &sl, &type, NULL);
			char ip[64];

			if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE || rc < 0)
				break;
			if (type == GNUTLS_SAN_DNSNAME) {
				san[sl] = '\0';
			} else if (type == GNUTLS_SAN_IPADDRESS) {
				if (inet_ntop(sl == 4 ? AF_INET : AF_INET6, san, ip, sizeof ip) == NULL)
					continue;
				snprintf(san, sizeof san, "%s", ip);
			} else {
				continue;
			}
			o += (size_t)snprintf(all + o, sizeof all - o, "%s%s", o ? ", " : "", san);
		}
		if (o > 0)
			fact(s, "names", "%s", all);
		*expires = gnutls_x509_crt_get_expiration_time(crt);
	}
	fact_num(s, "chain_length", n);
	gnutls_x509_crt_deinit(crt);
}

static void
step_tls(struct chk *k, struct edge *ed, struct step *s)
{
	struct tconn c;
	struct hs h;
	time_t exp = 0, now = time(NULL);
	const char *v;

	fact(s, "connected_to", "%s:%d", connect_host(ed), ed->u.port);
	fact(s, "server_name", "%s%s", ed->u.host, ed->u.is_ip ? " (an IP: no SNI)" : "");
	if (tls_open(k, ed, k->prio_any, &c, &h) < 0) {
		if (c.tls != NULL)
			leaf_facts(s, c.tls, &exp);
		if (h.verify != 0)
			step_fail(s, "the edge's certificate is not valid for %s under --ca %s: %s",
			          ed->u.host, k->o->ca, h.why);
		else if (c.tls == NULL)
			step_fail(s, "cannot connect to %s:%d: %s", connect_host(ed), ed->u.port,
			          h.why);
		else
			step_fail(s, "TLS handshake with %s:%d failed: %s", connect_host(ed),
			          ed->u.port, h.why);
		tconn_close(&c);
		return;
	}
	v = gnutls_protocol_get_name(gnutls_protocol_get_version(c.tls));
	if (v != NULL && strncmp(v, "TLS", 3) == 0)
		snprintf(k->tls_version, sizeof k->tls_version, "TLSv%s", v + 3);
	else
		snprintf(k->tls_version, sizeof k->tls_version, "%s", v ? v : "?");
	fact(s, "version", "%s", k->tls_version);
	fact(s, "cipher", "%s", gnutls_ciphersuite_get(c.tls));
	fact_bool(s, "resumed", gnutls_session_is_resumed(c.tls) != 0);
	leaf_facts(s, c.tls, &exp);
	fact(s, "chain_verified", "yes, against %s, for %s", k->o->ca, ed->u.host);
	if (exp > 0) {
		char t[40];
		struct tm tm;
		long days = (long)((exp - now) / 86400);

		gmtime_r(&exp, &tm);
		strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
		fact(s, "expires", "%s", t);
		fact_num(s, "days_to_expiry", (double)days);
		if (days < 0)
			step_fail(s, "the edge's certificate expired %ld days ago", -days);
	}
	tconn_close(&c);
}

/* Read one response on a probe connection: 1 complete and the connection
 * may carry on, 0 complete but the server ends the connection, -1 error. */
static int
probe_response(struct chk *k, struct tconn *c, unsigned *status, char *why, size_t wl)
{
	static char buf[32768]; /* edgecheck probes one connection at a time */
	size_t len = 0;
	struct hresp r;
	struct err e = { 0, "" };
	int64_t deadline = tconn_deadline(k->timeout_ms);
	uint64_t need;
	int rc;

	for (;;) {
		ssize_t n;

		rc = hresp_parse(buf, len, &r, &e);
		if (rc < 0) {
			snprintf(why, wl, "malformed response: %s", e.msg);
			return -1;
		}
		if (rc == 1 && (r.status >= 200 || r.status == 101))
			break;
		if (rc == 1) { /* 1xx: drop it */
			memmove(buf, buf + r.head_len, len - r.head_len);
			len -= r.head_len;
			continue;
		}
		if (len == sizeof buf) {
			snprintf(why, wl, "response head too large");
			return -1;
		}
		n = tconn_read(c, buf + len, sizeof buf - len, deadline, &e);
		if (n <= 0) {
			snprintf(why, wl, "%s", n == 0 ? "the connection closed before an answer"
			                               : e.msg);
			return -1;
		}
		len += (size_t)n;
	}
	*status = r.status;
	switch (hresp_body(&r, false)) {
	case HRESP_BODY_NONE:
		break;
	case HRESP_BODY_LENGTH:
		need = r.content_length;
		len -= r.head_len;
		while (len < need) {
			ssize_t n = tconn_read(c, buf, sizeof buf, deadline, &e);

			if (n <= 0) {
				snprintf(why, wl, "body cut short");
				return -1;
			}
			len += (size_t)n;
		}
		break;
	case HRESP_BODY_CHUNKED: {
		struct hchunk ch;
		size_t off = r.head_len, used;
		const char *out;
		size_t outl;

		hchunk_init(&ch);
		for (;;) {
			while (off < len) {
				rc = hchunk_feed(&ch, buf + off, len - off, &used, &out, &outl, &e);
				if (rc < 0) {
					snprintf(why, wl, "bad chunked body: %s", e.msg);
					return -1;
				}
				off += used;
				if (rc == 1)
					goto done;
			}
			{
				ssize_t n = tconn_read(c, buf, sizeof buf, deadline, &e);

				if (n <= 0) {
					snprintf(why, wl, "body cut short");
					return -1;
				}
				len = (size_t)n;
				off = 0;
			}
		}
	}
	case HRESP_BODY_CLOSE:
		return 0;
	}
done:
	return hresp_reusable(&r, false) ? 1 : 0;
}

static void
step_reneg(struct chk *k, struct edge *ed, struct step *s)
{
	struct tconn c;
	struct hs h;
	char head[CHKURL_MAX_TARGET + 256], why[600] = "";
	unsigned status = 0;
	struct err e = { 0, "" };
	int hl, rc;

	fact(s, "method", "client-initiated renegotiation (gnutls_handshake again) on a "
	     "TLS 1.2 session");
	if (tls_open(k, ed, k->prio_12, &c, &h) < 0) {
		if (c.tls == NULL) {
			step_fail(s, "cannot connect to %s:%d: %s", connect_host(ed), ed->u.port, h.why);
		} else {
			/* step 1 connected: the edge just will not speak TLS 1.2 */
			fact(s, "tls_1_2", "refused by the edge (%s)", h.why);
			fact(s, "result", "not applicable: the edge speaks %s only, which has no "
			     "renegotiation", k->tls_version[0] ? k->tls_version : "TLS 1.3");
		}
		tconn_close(&c);
		return;
	}
	fact(s, "session", "TLSv1.2 %s", gnutls_ciphersuite_get(c.tls));
	if (!gnutls_safe_renegotiation_status(c.tls)) {
		step_fail(s, "the edge does not support secure renegotiation (RFC 5746): cannot "
		          "prove that it refuses renegotiation");
		tconn_close(&c);
		return;
	}
	hl = snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
	              "edgecheck/" EDGED_VERSION "\r\n\r\n", ed->u.target, ed->u.authority);
	if (tconn_write(&c, head, (size_t)hl, tconn_deadline(k->timeout_ms), &e) < 0) {
		step_fail(s, "request on the TLS 1.2 session failed: %s", e.msg);
		tconn_close(&c);
		return;
	}
	rc = probe_response(k, &c, &status, why, sizeof why);
	if (rc < 0) {
		step_fail(s, "request on the TLS 1.2 session failed: %s", why);
		tconn_close(&c);
		return;
	}
	fact(s, "request", "GET %s -> %u", ed->u.target, status);
	if (rc == 0) {
		/* the server ends each connection after its answer: try on a fresh
		 * session, before any request */
		tconn_close(&c);
		fact(s, "note", "the server closes the connection after each answer: "
		     "renegotiating right after the handshake of a new session");
		if (tls_open(k, ed, k->prio_12, &c, &h) < 0) {
			step_fail(s, "cannot open a second TLS 1.2 session: %s", h.why);
			tconn_close(&c);
			return;
		}
	}
	memset(&h, 0, sizeof h);
	rc = drive_handshake(&c, tconn_deadline(k->timeout_ms), &h);
	if (rc == 0) {
		fact(s, "result", "renegotiation completed");
		step_fail(s, "the edge accepted a client-initiated TLS renegotiation (it must "
		          "refuse it)");
	} else if (h.rc == GNUTLS_E_SAFE_RENEGOTIATION_FAILED) {
		step_fail(s, "GnuTLS would not renegotiate with this server (%s): cannot tell",
		          gnutls_strerror(h.rc));
	} else {
		fact(s, "result", "refused: %s", h.why);
	}
	tconn_close(&c);
}

/* ---- origind introspection ------------------------------------------------ */

struct ostats {
	bool ok;
	double requests;
	double count;            /* for k->path, -1 when the path is not listed */
};

static void
get_stats(struct chk *k, struct ostats *st)
{
	struct fetch f;
	char t[128];
	cJSON *j, *r, *paths, *c;

	memset(st, 0, sizeof *st);
	st->count = -1;
	snprintf(t, sizeof t, "/_origind/stats?edgecheck=%s", k->nonce);
	edge_get(&k->edges[0], t, &f);
	if (f.done && f.status == 200 && (j = cJSON_Parse(f.body)) != NULL) {
		r = cJSON_GetObjectItemCaseSensitive(j, "requests");
		paths = cJSON_GetObjectItemCaseSensitive(j, "paths");
		if (cJSON_IsNumber(r) && cJSON_IsObject(paths)) {
			st->ok = true;
			st->requests = r->valuedouble;
			c = cJSON_GetObjectItemCaseSensitive(paths, k->path);
			if (cJSON_IsNumber(c))
				st->count = c->valuedouble;
		}
		cJSON_Delete(j);
	}
	fetch_free(&f);
}

/* Origin requests for the object between two snapshots: by its path when
 * by_path (origind lists it), else by the total less extra, the
 * introspection requests in between (the later stats request included). */
static double
origin_delta(const struct ostats *a, const struct ostats *b, int extra, bool by_path)
{
	if (by_path)
		return b->count - (a->count < 0 ? 0 : a->count);
	return b->requests - a->requests - extra;
}

static const char *
jstr(cJSON *j, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- the round trip ------------------------------------------------------- */

static void
fetch_facts(struct step *s, const char *target, const struct fetch *f)
{
	char st[800];

	fact(s, "request", "GET %s", target);
	fact(s, "status", "%s", status_text(f, st, sizeof st));
	if (f->status == 0)
		return;
	fact(s, "x_cache", "%s", f->xcache[0] ? f->xcache : "(none)");
	if (f->age[0])
		fact(s, "age", "%s", f->age);
	if (f->cc[0])
		fact(s, "cache_control", "%s", f->cc);
	if (f->via[0])
		fact(s, "via", "%s", f->via);
	if (f->done) {
		fact_num(s, "body_bytes", (double)f->body_len);
		fact(s, "body_sha256", "%s", f->sha);
	}
}

/* A request that must give a complete 2xx answer; false (and the step
 * failed) when it did not. */
static bool
answered(struct step *s, const char *target, const struct fetch *f)
{
	if (f->status == 0) {
		step_fail(s, "GET %s through the edge failed: %s", target, f->fail);
		return false;
	}
	if (!f->done) {
		step_fail(s, "GET %s: %s", target, f->fail);
		return false;
	}
	if (f->status >= 500 && strncasecmp(f->xcache, "Error", 5) == 0) {
		step_fail(s, "GET %s answered %u %s (X-Cache: %s): the edge could not fetch from "
		          "the origin", target, f->status, f->reason, f->xcache);
		return false;
	}
	if (f->status < 200 || f->status > 299) {
		step_fail(s, "GET %s answered %u %s, want a 2xx object to cache", target,
		          f->status, f->reason);
		return false;
	}
	return true;
}

static bool
is_origind(const struct fetch *f, cJSON **j)
{
	const char *srv;

	*j = NULL;
	if (!f->done || f->status != 200)
		return false;
	*j = cJSON_Parse(f->body);
	srv = *j ? jstr(*j, "server") : NULL;
	if (srv != NULL && strncmp(srv, "origind/", 8) == 0 && jstr(*j, "tls_version"))
		return true;
	cJSON_Delete(*j);
	*j = NULL;
	return false;
}

static void
not_origind(struct chk *k, struct step *s, const struct fetch *sess)
{
	char st[800];

	fact(s, "session_probe", "GET /_origind/session -> %s", status_text(sess, st, sizeof st));
	/* origind answers its own 404 there when introspection is off */
	if (sess->status == 404 && strncmp(sess->server, "origind/", 8) == 0) {
		fact(s, "origin", "%s, introspection off", sess->server);
		if (k->o->require_origind)
			step_fail(s, "the origin is origind with introspection off: start it with "
			          "'introspection = on' (--introspection) to show the origin leg "
			          "(--require-origind)");
		else
			step_state(s, ST_SKIP, "the origin is origind with introspection off: "
			           "start it with 'introspection = on' (--introspection) to show "
			           "the origin leg");
		return;
	}
	if (k->o->require_origind)
		step_fail(s, "origin is not origind: cannot show the origin leg (--require-origind)");
	else
		step_state(s, ST_SKIP, "origin is not origind: cannot show the origin leg");
}

static void
round_trip(struct chk *k, bool tls_ok)
{
	struct edge *ed = &k->edges[0];
	struct step *s2, *s3, *s4, *s5, *s6;
	struct fetch miss, hit, sess;
	struct ostats st0, st1, st2;
	cJSON *sj = NULL;
	bool origind = false, miss_ok, hit_ok, by_path;
	double d;
	char t[160];
	size_t i;

	s2 = step_new(k, "2", "edge cache: a fresh URL is a Miss");
	s3 = step_new(k, "3", "edge -> origin over TLS (the miss reached the origin)");
	s4 = step_new(k, "4", "origin: decrypt, process, encrypt (as origind saw it)");
	s5 = step_new(k, "5", "edge cache: the same URL again is a Hit");
	s6 = step_new(k, "6", "viewer decrypts: the Miss and the Hit bodies match");
	if (!tls_ok) {
		struct step *all[] = { s2, s3, s4, s5, s6 };

		for (i = 0; i < 5; i++)
			step_state(all[i], ST_NOTRUN, "not run: step 1 failed");
		return;
	}
	memset(&miss, 0, sizeof miss);
	memset(&hit, 0, sizeof hit);
	memset(&sess, 0, sizeof sess);

	/* 2: the miss */
	get_stats(k, &st0);
	edge_get(ed, k->target, &miss);
	fetch_facts(s2, k->target, &miss);
	miss_ok = answered(s2, k->target, &miss);
	if (miss_ok && strcmp(miss.xcache, "Miss from edged") != 0) {
		if (miss.xcache[0] == '\0')
			step_fail(s2, "no X-Cache in the answer: is %s an edged?", ed->given);
		else
			step_fail(s2, "expected X-Cache: Miss from edged for a URL never asked "
			          "before, got '%s' (does the cache key ignore the query? see "
			          "cache_key_query)", miss.xcache);
	}

	/* 3 and 4: the origin leg, as origind tells it */
	snprintf(t, sizeof t, "/_origind/session?edgecheck=%s", k->nonce);
	edge_get(ed, t, &sess);
	get_stats(k, &st1);
	origind = is_origind(&sess, &sj);
	if (!miss_ok) {
		step_state(s3, ST_NOTRUN, "not run: no answer in step 2");
		step_state(s4, ST_NOTRUN, "not run: no answer in step 2");
		if (sess.status >= 500 || sess.status == 0) {
			/* the origin is down or unreachable: say so in step 3 */
			char st[800];

			fact(s3, "session_probe", "GET %s -> %s%s%s", t,
			     status_text(&sess, st, sizeof st), sess.xcache[0] ? ", X-Cache: " : "",
			     sess.xcache);
			step_fail(s3, "the edge did not reach the origin over TLS: GET %s answered "
			          "%s", t, st);
		}
	} else if (!origind && (sess.status >= 500 || sess.status == 0)) {
		char st[800];

		step_fail(s3, "GET %s through the edge: %s%s%s", t,
		          status_text(&sess, st, sizeof st), sess.xcache[0] ? ", X-Cache: " : "",
		          sess.xcache);
		step_state(s4, ST_NOTRUN, "not run: step 3 failed");
	} else if (!origind) {
		fact(s3, "origin_reached", "yes (the Miss was fetched: %u)", miss.status);
		not_origind(k, s3, &sess);
		not_origind(k, s4, &sess);
	} else {
		const char *ver = jstr(sj, "tls_version"), *ci = jstr(sj, "cipher"),
		           *sni = jstr(sj, "sni"), *ra = jstr(sj, "remote_addr"),
		           *cdn = jstr(sj, "client_s_dn");
		cJSON *port = cJSON_GetObjectItemCaseSensitive(sj, "remote_port");
		cJSON *res = cJSON_GetObjectItemCaseSensitive(sj, "resumed");

		fact(s3, "origin", "%s", jstr(sj, "server"));
		fact(s3, "origin_leg", "%s %s (origind's view of the edge's connection)",
		     ver, ci ? ci : "?");
		if (strncmp(ver, "TLS", 3) != 0)
			step_fail(s3, "origind reports tls_version '%s' for the edge's connection", ver);
		if (!st0.ok || !st1.ok) {
			step_fail(s3, "origind's /_origind/stats through the edge did not answer");
		} else {
			/* by path when origind counted the miss there; an edge with an
			 * origin path prefix makes origind see another path: then by
			 * the total */
			by_path = st1.count >= 0 && origin_delta(&st0, &st1, 2, true) >= 1;
			d = origin_delta(&st0, &st1, 2, by_path);
			if (by_path)
				fact(s3, "origin_counter", "%s: %.0f -> %.0f", k->path,
				     st0.count < 0 ? 0 : st0.count, st1.count);
			else
				fact(s3, "origin_counter", "requests %.0f -> %.0f (%s: %.0f, the edge "
				     "may add a path prefix)", st0.requests, st1.requests, k->path,
				     st1.count < 0 ? 0 : st1.count);
			if (d < 1)
				step_fail(s3, "origind's counter for %s did not increase after the "
				          "Miss: the answer did not come from this origin", k->path);
		}
		fact(s4, "server", "%s", jstr(sj, "server"));
		fact(s4, "decrypt", "%s, %s, SNI %s, resumed %s", ver, ci ? ci : "?",
		     sni && sni[0] ? sni : "(none: IP origin)", cJSON_IsTrue(res) ? "yes" : "no");
		fact(s4, "peer", "%s:%.0f (the edge)", ra ? ra : "?",
		     cJSON_IsNumber(port) ? port->valuedouble : 0);
		if (cdn && cdn[0])
			fact(s4, "client_certificate", "%s (mutual TLS)", cdn);
		fact(s4, "process", "GET %s -> %u%s%s", k->path, miss.status,
		     miss.cc[0] ? ", Cache-Control: " : "", miss.cc);
		fact(s4, "encrypt", "%" PRIu64 " body bytes, back over %s", miss.body_len, ver);
	}

	/* 5: the hit */
	edge_get(ed, k->target, &hit);
	get_stats(k, &st2);
	fetch_facts(s5, k->target, &hit);
	hit_ok = answered(s5, k->target, &hit);
	if (!miss_ok) {
		step_state(s5, ST_NOTRUN, "not run: no answer in step 2");
	} else if (hit_ok && hit.xcache[0] == '\0') {
		step_fail(s5, "no X-Cache in the answer: is %s an edged?", ed->given);
	} else if (hit_ok && strcmp(hit.xcache, "Hit from edged") != 0) {
		const char *hint = "is the cache enabled?";

		if (strncmp(hit.xcache, "RefreshHit", 10) == 0)
			hint = "the entry was already stale: give the object a freshness "
			       "lifetime, e.g. Cache-Control: max-age=60";
		else if (strstr(miss.cc, "no-store") || strstr(miss.cc, "private") ||
		         strstr(miss.cc, "no-cache"))
			hint = "the origin's Cache-Control forbids reuse";
		else if (miss.cc[0] == '\0')
			hint = "is the cache enabled? the origin sent no Cache-Control, so "
			       "freshness is heuristic";
		step_fail(s5, "expected X-Cache: Hit from edged, got '%s' (%s)",
		          hit.xcache[0] ? hit.xcache : "(none)", hint);
	} else if (hit_ok) {
		size_t dl = strspn(hit.age, "0123456789");

		if (hit.age[0] == '\0')
			step_fail(s5, "the Hit has no Age header");
		else if (hit.age[dl] != '\0')
			step_fail(s5, "the Hit's Age '%s' is not a number", hit.age);
	}
	if (miss_ok && origind && st0.ok && st1.ok && st2.ok) {
		by_path = st1.count >= 0 && origin_delta(&st0, &st1, 2, true) >= 1;
		d = origin_delta(&st1, &st2, 1, by_path);
		if (by_path)
			fact(s5, "origin_counter", "%s: %.0f -> %.0f%s", k->path, st1.count,
			     st2.count, d == 0 ? " (unchanged)" : "");
		else
			fact(s5, "origin_counter", "requests %.0f -> %.0f", st1.requests,
			     st2.requests);
		if (d != 0 && s5->state == ST_PASS)
			step_fail(s5, "origind's counter for %s went from %.0f to %.0f: the Hit "
			          "reached the origin (or other traffic did)", k->path,
			          by_path ? st1.count : st1.requests, by_path ? st2.count
			                                                    : st2.requests);
	}

	/* 6: the bodies */
	if (!miss_ok || !hit_ok || !miss.done || !hit.done) {
		step_state(s6, ST_NOTRUN, "not run: step 2 or 5 has no body");
	} else {
		fact(s6, "miss_body", "%" PRIu64 " bytes, sha256 %s%s", miss.body_len, miss.sha,
		     miss.has_cl ? "" : " (no Content-Length)");
		fact(s6, "hit_body", "%" PRIu64 " bytes, sha256 %s%s", hit.body_len, hit.sha,
		     hit.has_cl ? "" : " (no Content-Length)");
		if (miss.has_cl && miss.cl != miss.body_len)
			step_fail(s6, "the Miss said Content-Length %" PRIu64 " but carried %" PRIu64
			          " bytes", miss.cl, miss.body_len);
		else if (hit.has_cl && hit.cl != hit.body_len)
			step_fail(s6, "the Hit said Content-Length %" PRIu64 " but carried %" PRIu64
			          " bytes", hit.cl, hit.body_len);
		else if (strcmp(miss.sha, hit.sha) != 0)
			step_fail(s6, "the Hit's body differs from the Miss's (%" PRIu64 " vs %" PRIu64
			          " bytes, sha256 %.12s... vs %.12s...)", hit.body_len, miss.body_len,
			          hit.sha, miss.sha);
		else
			fact_bool(s6, "equal", true);
	}

	k->miss_ok = miss_ok && miss.done;
	snprintf(k->miss_sha, sizeof k->miss_sha, "%s", miss.sha);
	cJSON_Delete(sj);
	fetch_free(&miss);
	fetch_free(&hit);
	fetch_free(&sess);
}

/* A: the shared cache on every --also edge */
static void
step_also(struct chk *k)
{
	size_t i;

	for (i = 1; i < k->nedges; i++) {
		struct edge *a = &k->edges[i];
		struct step *sa;
		struct fetch f;
		char id[8];

		snprintf(id, sizeof id, "A%zu", i);
		sa = step_new(k, k->nedges > 2 ? id : "A", "shared cache: %s serves it as a Hit",
		              a->given);
		if (a->addr[0])
			fact(sa, "connected_to", "%s:%d", a->addr, a->u.port);
		if (!k->miss_ok) {
			step_state(sa, ST_NOTRUN, k->steps[0].state == ST_PASS ?
			           "not run: no answer in step 2" : "not run: step 1 failed");
			continue;
		}
		edge_get(a, k->target, &f);
		fetch_facts(sa, k->target, &f);
		if (answered(sa, k->target, &f)) {
			if (strcmp(f.xcache, "Hit from edged") != 0)
				step_fail(sa, "expected X-Cache: Hit from edged on %s, got '%s' (%s)",
				          a->given, f.xcache[0] ? f.xcache : "(none)",
				          strcmp(a->u.host, k->edges[0].u.host) != 0 ?
				          "the host is part of the cache key: use the same host name "
				          "as the URL" : "do the edges share one Redis?");
			else if (strcmp(f.sha, k->miss_sha) != 0)
				step_fail(sa, "the body on %s differs from the Miss's (sha256 %.12s... vs "
				          "%.12s...)", a->given, f.sha, k->miss_sha);
			else
				fact_bool(sa, "same_body", true);
		}
		fetch_free(&f);
	}
}

static void
step_http(struct chk *k, struct step *s)
{
	struct edge *ed = &k->edges[0];
	struct hc_origin o;
	struct hc_origin_opts oo;
	struct err e = { 0, "" };
	struct fetch f;
	const char *addr = resolve_addr(k, ed->u.host, (int)k->o->http_port);
	char auth[300], st[800];
	bool v6 = strchr(ed->u.host, ':') != NULL;

	if (addr == NULL)
		addr = connect_host(ed);
	snprintf(auth, sizeof auth, "%s%s%s:%lld", v6 ? "[" : "", ed->u.host, v6 ? "]" : "",
	         k->o->http_port);
	memset(&oo, 0, sizeof oo);
	oo.https = false;
	oo.host = addr;
	oo.port = (int)k->o->http_port;
	oo.connect_timeout_ms = k->timeout_ms;
	oo.connection_attempts = 1;
	oo.response_timeout_ms = k->timeout_ms;
	fact(s, "request", "GET http://%s%s (connecting to %s)", auth, ed->u.target, addr);
	if (hc_origin_init(&o, &oo, &e) < 0) {
		step_fail(s, "%s", e.msg);
		return;
	}
	http_get(&o, auth, ed->u.target, &f);
	hc_origin_free(&o);
	fact(s, "status", "%s", status_text(&f, st, sizeof st));
	if (f.status == 0) {
		step_fail(s, "plain HTTP GET to %s:%lld failed: %s", addr, k->o->http_port, f.fail);
	} else if (f.status == 301 || f.status == 302 || f.status == 307 || f.status == 308) {
		fact(s, "location", "%s", f.location);
		if (strncasecmp(f.location, "https://", 8) != 0)
			step_fail(s, "plain HTTP got a %u redirect to '%s', not to https://", f.status,
			          f.location);
		else
			fact(s, "policy", "redirect-to-https");
	} else if (f.status == 403) {
		fact(s, "policy", "https-only (403)");
	} else if (f.status >= 200 && f.status <= 299) {
		fact(s, "policy", "allow-all (served over plain HTTP)");
		if (f.xcache[0])
			fact(s, "x_cache", "%s", f.xcache);
	} else {
		step_fail(s, "plain HTTP GET answered %u %s: neither a redirect to https, a 403 "
		          "nor the content", f.status, f.reason);
	}
	fetch_free(&f);
}

/* ---- output --------------------------------------------------------------- */

static const char *
st_name(enum st st)
{
	static const char *n[] = { "PASS", "FAIL", "SKIP", "NOT RUN" };

	return n[st];
}

static void
print_text(struct chk *k)
{
	size_t i, nfail = 0, nskip = 0, nnotrun = 0;
	struct edge *ed = &k->edges[0];

	printf("edgecheck %s", ed->given);
	if (ed->addr[0])
		printf(" (connecting to %s:%d)", ed->addr, ed->u.port);
	printf("\nobject %s\n", k->target);
	for (i = 0; i < k->nsteps; i++) {
		struct step *s = &k->steps[i];
		cJSON *f;
		int w;

		w = printf("\n%-2s %s ", s->id, s->title);
		printf("%.*s %s\n", w < 70 ? 70 - w : 1,
		       "..........................................................................",
		       st_name(s->state));
		cJSON_ArrayForEach(f, s->facts) {
			char key[64];
			size_t j;

			snprintf(key, sizeof key, "%s", f->string);
			for (j = 0; key[j]; j++)
				if (key[j] == '_')
					key[j] = ' ';
			if (cJSON_IsString(f))
				printf("   %-18s %s\n", key, f->valuestring);
			else if (cJSON_IsBool(f))
				printf("   %-18s %s\n", key, cJSON_IsTrue(f) ? "yes" : "no");
			else
				printf("   %-18s %.0f\n", key, f->valuedouble);
		}
		if (s->why[0])
			printf("   %s\n", s->why);
		nfail += s->state == ST_FAIL;
		nskip += s->state == ST_SKIP;
		nnotrun += s->state == ST_NOTRUN;
	}
	printf("\n");
	if (nfail == 0 && nnotrun == 0) {
		if (nskip == 0)
			printf("PASS: all %zu checks hold\n", k->nsteps);
		else
			printf("PASS: %zu checks hold, %zu skipped\n", k->nsteps - nskip, nskip);
		return;
	}
	printf("FAIL: %zu of %zu checks failed", nfail, k->nsteps);
	if (nnotrun > 0)
		printf(", %zu not run", nnotrun);
	printf("\n");
	for (i = 0; i < k->nsteps; i++)
		if (k->steps[i].state == ST_FAIL)
			printf("%s\n", k->steps[i].why);
}

static void
print_json(struct chk *k, bool ok)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	struct edge *ed = &k->edges[0];
	size_t i;
	char *out;

	cJSON_AddStringToObject(root, "url", ed->given);
	if (ed->addr[0])
		cJSON_AddStringToObject(root, "connect", ed->addr);
	cJSON_AddStringToObject(root, "object", k->target);
	cJSON_AddBoolToObject(root, "ok", ok);
	arr = cJSON_AddArrayToObject(root, "steps");
	for (i = 0; i < k->nsteps; i++) {
		struct step *s = &k->steps[i];
		cJSON *j = cJSON_CreateObject();
		static const char *nm[] = { "pass", "fail", "skip", "not_run" };

		cJSON_AddStringToObject(j, "step", s->id);
		cJSON_AddStringToObject(j, "title", s->title);
		cJSON_AddBoolToObject(j, "ok", s->state == ST_PASS || s->state == ST_SKIP);
		cJSON_AddStringToObject(j, "state", nm[s->state]);
		if (s->why[0])
			cJSON_AddStringToObject(j, "why", s->why);
		cJSON_AddItemToObject(j, "facts", s->facts);
		s->facts = NULL;
		cJSON_AddItemToArray(arr, j);
	}
	out = cJSON_Print(root);
	puts(out);
	free(out);
	cJSON_Delete(root);
	for (i = 0; i < k->nsteps; i++)
		if (k->steps[i].state == ST_FAIL)
			fprintf(stderr, "edgecheck: %s\n", k->steps[i].why);
}

/* ---- main ----------------------------------------------------------------- */

static int
setup(struct chk *k, const char *url, struct err *e)
{
	struct chk_opts *o = k->o;
	unsigned char rnd[16];
	size_t i;
	int rc;

	k->timeout_ms = (int)o->timeout;
	k->nres = o->resolve.n;
	k->res = calloc(k->nres ? k->nres : 1, sizeof *k->res);
	k->nedges = 1 + o->also.n;
	k->edges = calloc(k->nedges, sizeof *k->edges);
	if (k->res == NULL || k->edges == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	for (i = 0; i < k->nres; i++)
		if (chkurl_resolve_parse(o->resolve.v[i], &k->res[i], e) < 0)
			return -1;
	for (i = 0; i < k->nedges; i++) {
		struct edge *ed = &k->edges[i];
		const char *a;

		ed->given = i == 0 ? url : o->also.v[i - 1];
		if (chkurl_parse(ed->given, &ed->u, e) < 0)
			return i == 0 ? -1 : err_prefix(e, "--also: ");
		a = resolve_addr(k, ed->u.host, ed->u.port);
		if (a != NULL)
			snprintf(ed->addr, sizeof ed->addr, "%s", a);
	}
	rc = gnutls_certificate_allocate_credentials(&k->cred);
	if (rc < 0)
		return err_set(e, ERR_FAIL, "TLS credentials: %s", gnutls_strerror(rc));
	if (tls_cred_set_ca(k->cred, o->ca, e) < 0) {
		e->code = ERR_USAGE;
		return err_prefix(e, "--ca: ");
	}
	if (tls_priority_init("NORMAL", &k->prio_any, e) < 0 ||
	    tls_priority_init("NORMAL:-VERS-ALL:+VERS-TLS1.2", &k->prio_12, e) < 0)
		return -1;
	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd) < 0)
		return err_set(e, ERR_FAIL, "no random bytes for the cache-busting query");
	hex(rnd, sizeof rnd, k->nonce);
	if (chkurl_bust(k->edges[0].u.target, k->nonce, k->target, sizeof k->target, e) < 0)
		return err_set(e, ERR_USAGE, "URL '%s': %s", url, e->msg);
	if (hreq_decode_path(k->target, k->path, sizeof k->path, NULL) < 0)
		return err_set(e, ERR_USAGE, "URL '%s': bad path (a %%00, a bad escape, or "
		               "'..' above the root)", url);
	for (i = 0; i < k->nedges; i++) {
		struct edge *ed = &k->edges[i];
		struct hc_origin_opts oo;

		memset(&oo, 0, sizeof oo);
		oo.https = true;
		oo.host = connect_host(ed);
		oo.port = ed->u.port;
		oo.ca_file = o->ca;
		oo.priority = "NORMAL";
		oo.sni = ed->u.host;
		oo.connect_timeout_ms = k->timeout_ms;
		oo.connection_attempts = 1;
		oo.response_timeout_ms = k->timeout_ms;
		if (hc_origin_init(&ed->hc, &oo, e) < 0)
			return -1;
		ed->hc_ready = true;
	}
	return 0;
}

static void
teardown(struct chk *k)
{
	size_t i;

	for (i = 0; i < k->nsteps; i++)
		cJSON_Delete(k->steps[i].facts);
	for (i = 0; k->edges != NULL && i < k->nedges; i++)
		if (k->edges[i].hc_ready)
			hc_origin_free(&k->edges[i].hc);
	free(k->edges);
	free(k->res);
	if (k->cred != NULL)
		gnutls_certificate_free_credentials(k->cred);
	if (k->prio_any != NULL)
		gnutls_priority_deinit(k->prio_any);
	if (k->prio_12 != NULL)
		gnutls_priority_deinit(k->prio_12);
}

int
main(int argc, char **argv)
{
	struct chk_opts o;
	static struct chk k; /* 88 KiB: not on the stack */
	struct err e = { 0, "" };
	char **pos = NULL;
	int npos = 0, rc, status;
	struct step *s1, *sr, *sh;
	size_t i;
	bool ok = true;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("edgecheck %s (GnuTLS %s)\n", EDGED_VERSION, gnutls_check_version(NULL));
		return 0;
	}
	memset(&o, 0, sizeof o);
	memset(&k, 0, sizeof k);
	rc = cfg_parse_argv(&chk_spec, &o, argc - 1, argv + 1, &pos, &npos, &e);
	if (rc == CFG_EXIT) {
		status = 0;
		goto out;
	}
	if (rc < 0) {
		fprintf(stderr, "edgecheck: %s\n", e.msg);
		status = 2;
		goto out;
	}
	if (tls_init(&e) < 0) {
		fprintf(stderr, "edgecheck: %s\n", e.msg);
		status = 1;
		goto out;
	}
	k.o = &o;
	if (setup(&k, pos[0], &e) < 0) {
		fprintf(stderr, "edgecheck: %s\n", e.msg);
		status = e.code == ERR_USAGE ? 2 : 1;
		teardown(&k);
		tls_deinit();
		goto out;
	}

	s1 = step_new(&k, "1", "viewer TLS: %s", k.edges[0].u.authority);
	step_tls(&k, &k.edges[0], s1);
	round_trip(&k, s1->state == ST_PASS);
	sr = step_new(&k, "R", "the edge refuses TLS renegotiation");
	if (s1->state == ST_PASS)
		step_reneg(&k, &k.edges[0], sr);
	else
		step_state(sr, ST_NOTRUN, "not run: step 1 failed");
	sh = step_new(&k, "H", "plain HTTP is handled by the viewer policy");
	if (o.http_port > 0)
		step_http(&k, sh);
	else
		step_state(sh, ST_SKIP, "skipped: no --http-port");
	if (k.nedges == 1)
		step_state(step_new(&k, "A", "shared cache on other edges"), ST_SKIP,
		           "skipped: no --also");
	else
		step_also(&k);

	for (i = 0; i < k.nsteps; i++)
		if (k.steps[i].state == ST_FAIL || k.steps[i].state == ST_NOTRUN)
			ok = false;
	if (o.json)
		print_json(&k, ok);
	else
		print_text(&k);
	fflush(stdout);
	status = ok ? 0 : 1;
	teardown(&k);
	tls_deinit();
out:
	free(pos);
	cfg_free(&chk_spec, &o);
	return status;
}
