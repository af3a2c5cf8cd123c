/*
 * edg_tls.c: the viewer side's TLS: CloudFront's security policies as
 * explicit GnuTLS priority strings, and certificate/key pairs chosen by
 * the SNI of each handshake.
 *
 * Policies: libmicrohttpd's default priority is "NORMAL" (TLS 1.0 and CBC
 * on), so edged always passes one of these.  Each names its versions, key
 * exchanges, ciphers and MACs from NONE, so a newer GnuTLS cannot widen
 * them (signature algorithms too: TLS_SIGNS, no SHA-1, where SIGN-ALL
 * would let a client talk the server into SHA-1 signatures).  GnuTLS has
 * one cipher list for TLS 1.2 and 1.3, so where
 * CloudFront allows a cipher under one version only (TLSv1.2_2025 and
 * TLSv1.3_2025 drop ChaCha20-Poly1305 for TLS 1.2 / altogether) the
 * stricter reading is used.  The README has the table.
 *
 * Certificates: libmicrohttpd asks edg_cert_select() during each
 * handshake (MHD_OPTION_HTTPS_CERT_CALLBACK2, GnuTLS's retrieve_function3:
 * the chain, the key and the pair's OCSP response, which GnuTLS staples
 * when the client asked with status_request and the response's
 * nextUpdate has not passed).  A table of pairs is built
 * whole and checked (start-up, SIGHUP), then published with one atomic
 * pointer swap and never changed; the callback reads the pointer once and
 * takes no lock.  GnuTLS uses the pcert and key the callback returns for
 * the rest of that handshake without copying them, so a replaced table is
 * kept ("retired") until no handshake can still hold it: longer than
 * header_timeout, after which the watchdog has ended any handshake begun
 * before the swap.
 */
#define _GNU_SOURCE
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "edg.h"
#include "log.h"
#include "tls.h"

#define GROUPS "+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1"
#define TAIL   TLS_SIGNS ":" GROUPS ":+COMP-NULL:+CTYPE-X509:%SERVER_PRECEDENCE"

static const struct {
	const char *name;
	const char *prio;
} policies[] = {
	{ "TLSv1_2016",
	  "NONE:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0:"
	  "+ECDHE-ECDSA:+ECDHE-RSA:+RSA:"
	  "+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CBC:+AES-256-CBC:"
	  "+AEAD:+SHA256:+SHA384:+SHA1:" TAIL },
	{ "TLSv1.1_2016",
	  "NONE:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1:"
	  "+ECDHE-ECDSA:+ECDHE-RSA:+RSA:"
	  "+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CBC:+AES-256-CBC:"
	  "+AEAD:+SHA256:+SHA384:+SHA1:" TAIL },
	{ "TLSv1.2_2018",
	  "NONE:+VERS-TLS1.3:+VERS-TLS1.2:+ECDHE-ECDSA:+ECDHE-RSA:+RSA:"
	  "+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CBC:+AES-256-CBC:"
	  "+AEAD:+SHA256:+SHA384:" TAIL },
	{ "TLSv1.2_2019",
	  "NONE:+VERS-TLS1.3:+VERS-TLS1.2:+ECDHE-ECDSA:+ECDHE-RSA:"
	  "+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CBC:+AES-256-CBC:"
	  "+AEAD:+SHA256:+SHA384:" TAIL },
	{ "TLSv1.2_2021",
	  "NONE:+VERS-TLS1.3:+VERS-TLS1.2:+ECDHE-ECDSA:+ECDHE-RSA:"
	  "+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AEAD:" TAIL },
	{ "TLSv1.2_2025",
	  "NONE:+VERS-TLS1.3:+VERS-TLS1.2:+ECDHE-ECDSA:+ECDHE-RSA:"
	  "+AES-128-GCM:+AES-256-GCM:+AEAD:" TAIL },
	{ "TLSv1.3_2025",
	  "NONE:+VERS-TLS1.3:+ECDHE-ECDSA:+ECDHE-RSA:"
	  "+AES-128-GCM:+AES-256-GCM:+AEAD:" TAIL },
};

const char *
edg_policy_priority(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof policies / sizeof policies[0]; i++)
		if (strcmp(policies[i].name, name) == 0)
			return policies[i].prio;
	return NULL;
}

/* ---- certificates --------------------------------------------------------- */

struct pair {
	gnutls_pcert_st *pcert;   /* the chain, leaf first */
	unsigned npcert;
	gnutls_privkey_t key;
	char **names;             /* DNS names of the leaf (SANs, else CN) */
	unsigned nnames, capnames;
	char *file;               /* the chain's file, for the log */
	time_t not_after;         /* of the leaf */
	gnutls_ocsp_data_st ocsp; /* response.data NULL: nothing to staple */
	char *ocsp_file;
};

struct edg_certs {
	struct pair *pairs;
	size_t npairs;
	struct edg_certs *older;  /* the retired list (main thread only) */
	int64_t retired_ms;       /* when it stopped being current */
};

/* The table new handshakes read (one atomic load per handshake), and the
 * tables it replaced, which handshakes begun before the swap may still
 * use.  Only the main thread (start-up, SIGHUP, exit) writes either. */
static struct edg_certs *cur;
static struct edg_certs *retired;

static void
pair_free(struct pair *p)
{
	unsigned i;

	for (i = 0; i < p->npcert; i++)
		gnutls_pcert_deinit(&p->pcert[i]);
	free(p->pcert);
	if (p->key != NULL)
		gnutls_privkey_deinit(p->key);
	for (i = 0; i < p->nnames; i++)
		free(p->names[i]);
	free(p->names);
	free(p->file);
	gnutls_free(p->ocsp.response.data);
	free(p->ocsp_file);
	memset(p, 0, sizeof *p);
}

static void
table_free(struct edg_certs *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->npairs; i++)
		pair_free(&t->pairs[i]);
	free(t->pairs);
	free(t);
}

static void
add_name(struct pair *p, const char *name)
{
	char *copy;

	if (p->nnames == p->capnames) {
		unsigned cap = p->capnames ? p->capnames * 2 : 8;
		char **nv = realloc(p->names, cap * sizeof *nv);

		if (nv == NULL)
			return;
		p->names = nv;
		p->capnames = cap;
	}
	if ((copy = strdup(name)) != NULL)
		p->names[p->nnames++] = copy;
}

static void
collect_names(struct pair *p, gnutls_x509_crt_t leaf)
{
	char buf[256];
	unsigned i, type;
	size_t len;
	int rc;

	for (i = 0;; i++) {
		len = sizeof buf;
		rc = gnutls_x509_crt_get_subject_alt_name2(leaf, i, buf, &len, &type, NULL);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc < 0 || type != GNUTLS_SAN_DNSNAME || len == 0 || len >= sizeof buf)
			continue;
		buf[len] = '\0';
		add_name(p, buf);
	}
	if (p->nnames == 0) { /* an old certificate: the CN is the name */
		len = sizeof buf;
		if (gnutls_x509_crt_get_dn_by_oid(leaf, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
		                                  buf, &len) == 0 && len > 0)
			add_name(p, buf);
	}
}

/* Is the leaf (DER) one of the current table's leaves? */
static bool
being_served(const gnutls_datum_t *der)
{
	const struct edg_certs *t = __atomic_load_n(&cur, __ATOMIC_ACQUIRE);
	size_t i;

	for (i = 0; t != NULL && i < t->npairs; i++) {
		const gnutls_datum_t *d = &t->pairs[i].pcert[0].cert;

		if (d->size == der->size && memcmp(d->data, der->data, der->size) == 0)
			return true;
	}
	return false;
}

static const char *
utc(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

/* Load one pair.  strict: an expired or not-yet-valid leaf that is not
 * already being served is an error rather than a warning. */
static int
load_pair(struct pair *p, const char *cert_path, const char *key_path, bool strict,
          struct err *e)
{
	gnutls_x509_crt_t *crts = NULL;
	gnutls_x509_privkey_t xkey = NULL;
	unsigned n = 0, i;
	time_t now = time(NULL), nb, na;
	char when[40];
	int rc;

	if (tls_load_certs(cert_path, &crts, &n, e) < 0)
		return -1;
	if (tls_load_key(key_path, &xkey, e) < 0)
		goto fail;
	if (!tls_key_matches(crts[0], xkey)) {
		err_set(e, ERR_USAGE, "%s: the key does not belong to the certificate in %s",
		        key_path, cert_path);
		goto fail;
	}
	p->pcert = calloc(n, sizeof *p->pcert);
	if (p->pcert == NULL || (p->file = strdup(cert_path)) == NULL) {
		err_set(e, ERR_FAIL, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		rc = gnutls_pcert_import_x509(&p->pcert[i], crts[i], 0);
		if (rc < 0) {
			err_set(e, ERR_USAGE, "%s: certificate %u: %s", cert_path, i + 1,
			        gnutls_strerror(rc));
			goto fail;
		}
		p->npcert++;
	}
	nb = gnutls_x509_crt_get_activation_time(crts[0]);
	na = gnutls_x509_crt_get_expiration_time(crts[0]);
	p->not_after = na;
	if (na <= now || nb > now) {
		bool expired = na <= now;

		if (strict && !being_served(&p->pcert[0].cert)) {
			err_set(e, ERR_USAGE, "%s: the certificate %s %s; every handshake would "
			        "fail with it", cert_path, expired ? "expired on" : "is not valid "
			        "before", utc(expired ? na : nb, when, sizeof when));
			goto fail;
		}
		if (expired)
			LOG_WARN("cert.expired", "file=%s not_after=%s", log_q(cert_path),
			         utc(na, when, sizeof when));
		else
			LOG_WARN("cert.not_yet_valid", "file=%s not_before=%s", log_q(cert_path),
			         utc(nb, when, sizeof when));
	}
	collect_names(p, crts[0]);
	if ((rc = gnutls_privkey_init(&p->key)) < 0 ||
	    (rc = gnutls_privkey_import_x509(p->key, xkey,
	                                     GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE)) < 0) {
		err_set(e, ERR_USAGE, "%s: %s", key_path, gnutls_strerror(rc));
		goto fail;
	}
	xkey = NULL; /* owned by p->key now */
	tls_free_certs(crts, n);
	return 0;
fail:
	if (xkey != NULL)
		gnutls_x509_privkey_deinit(xkey);
	tls_free_certs(crts, n);
	pair_free(p);
	return -1;
}

/* Is this OCSP response (DER) stapled by the current table? */
static bool
ocsp_being_served(const gnutls_datum_t *der)
{
	const struct edg_certs *t = __atomic_load_n(&cur, __ATOMIC_ACQUIRE);
	size_t i;

	for (i = 0; t != NULL && i < t->npairs; i++) {
		const gnutls_datum_t *d = &t->pairs[i].ocsp.response;

		if (d->data != NULL && d->size == der->size &&
		    memcmp(d->data, der->data, der->size) == 0)
			return true;
	}
	return false;
}

static const char *
ocsp_verify_reason(unsigned v)
{
	if (v & GNUTLS_OCSP_VERIFY_SIGNER_NOT_FOUND)
		return "no signer: neither the issuer nor a certificate it signed";
	if (v & GNUTLS_OCSP_VERIFY_SIGNER_KEYUSAGE_ERROR)
		return "the responder certificate lacks the OCSP signing purpose";
	if (v & GNUTLS_OCSP_VERIFY_UNTRUSTED_SIGNER)
		return "the responder certificate is not signed by the issuer";
	if (v & GNUTLS_OCSP_VERIFY_INSECURE_ALGORITHM)
		return "insecure signature algorithm";
	if (v & GNUTLS_OCSP_VERIFY_SIGNATURE_FAILURE)
		return "bad signature";
	if (v & (GNUTLS_OCSP_VERIFY_CERT_NOT_ACTIVATED | GNUTLS_OCSP_VERIFY_CERT_EXPIRED))
		return "the responder certificate is not valid now";
	return "verification failed";
}

/* Without nextUpdate a response is trusted this long after thisUpdate (as
 * GnuTLS does when it loads OCSP files itself). */
#define OCSP_NO_NEXT_UPDATE_S (15 * 24 * 3600)

/* Load the DER (or PEM) OCSP response in path for pair p: it must parse,
 * be successful, be about p's leaf, say "good", be current (thisUpdate not
 * ahead of us, nextUpdate not behind) and, when the chain holds the
 * issuer, be signed by it or by a responder it certified.  strict
 * (SIGHUP): an outdated response is refused unless it is the one being
 * stapled now (then warned about and not stapled); at start every problem
 * is an error. */
static int
load_ocsp(struct pair *p, const char *path, bool strict, struct err *e)
{
	gnutls_datum_t d = { NULL, 0 };
	gnutls_ocsp_resp_t resp = NULL;
	gnutls_x509_crt_t leaf = NULL, issuer = NULL;
	time_t now = time(NULL), this_upd = -1, next_upd = -1, rev = -1, valid_until;
	unsigned status = 0, verify = 0, idx;
	char when[40];
	int rc, ret = -1;

	if ((p->ocsp_file = strdup(path)) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	if (tls_read_file(path, &d, e) < 0)
		return -1;
	if ((rc = gnutls_ocsp_resp_init(&resp)) < 0 ||
	    (rc = gnutls_x509_crt_init(&leaf)) < 0 ||
	    (rc = gnutls_x509_crt_import(leaf, &p->pcert[0].cert, GNUTLS_X509_FMT_DER)) < 0) {
		err_set(e, ERR_FAIL, "%s: %s", path, gnutls_strerror(rc));
		goto out;
	}
	rc = gnutls_ocsp_resp_import2(resp, &d,
	                              d.size > 10 && memmem(d.data, d.size, "-----BEGIN", 10) ?
	                              GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER);
	if (rc < 0) {
		err_set(e, ERR_USAGE, "%s: not an OCSP response (%s)", path, gnutls_strerror(rc));
		goto out;
	}
	if ((rc = gnutls_ocsp_resp_get_status(resp)) != GNUTLS_OCSP_RESP_SUCCESSFUL) {
		err_set(e, ERR_USAGE, "%s: the OCSP response is not a successful one (responder "
		        "status %d)", path, rc);
		goto out;
	}
	/* the single response about our leaf (serial and issuer hashes) */
	for (idx = 0;; idx++) {
		rc = gnutls_ocsp_resp_check_crt(resp, idx, leaf);
		if (rc == 0 || rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
	}
	if (rc != 0) {
		err_set(e, ERR_USAGE, "%s: the OCSP response is not about the certificate in %s "
		        "(another serial number or issuer)", path, p->file);
		goto out;
	}
	rc = gnutls_ocsp_resp_get_single(resp, idx, NULL, NULL, NULL, NULL, &status,
	                                 &this_upd, &next_upd, &rev, NULL);
	if (rc < 0) {
		err_set(e, ERR_USAGE, "%s: %s", path, gnutls_strerror(rc));
		goto out;
	}
	if (status == GNUTLS_OCSP_CERT_REVOKED) {
		err_set(e, ERR_USAGE, "%s: the OCSP response says the certificate in %s was "
		        "revoked on %s", path, p->file, utc(rev, when, sizeof when));
		goto out;
	}
	if (status != GNUTLS_OCSP_CERT_GOOD) {
		err_set(e, ERR_USAGE, "%s: the OCSP response says the certificate in %s is "
		        "unknown to the responder", path, p->file);
		goto out;
	}
	if (p->npcert > 1) {
		if ((rc = gnutls_x509_crt_init(&issuer)) < 0 ||
		    (rc = gnutls_x509_crt_import(issuer, &p->pcert[1].cert,
		                                 GNUTLS_X509_FMT_DER)) < 0 ||
		    (rc = gnutls_ocsp_resp_verify_direct(resp, issuer, &verify, 0)) < 0) {
			err_set(e, ERR_USAGE, "%s: cannot check the OCSP response's signature: %s",
			        path, gnutls_strerror(rc));
			goto out;
		}
		if (verify != 0) {
			err_set(e, ERR_USAGE, "%s: the OCSP response's signature does not verify "
			        "against the issuer in %s: %s", path, p->file,
			        ocsp_verify_reason(verify));
			goto out;
		}
	} else {
		LOG_WARN("ocsp.unverified", "file=%s cert=%s msg=\"the chain holds no issuer: "
		         "the response's signature is not checked\"", log_q(path), log_q(p->file));
	}
	if (this_upd > now + 300) {
		err_set(e, ERR_USAGE, "%s: the OCSP response is not valid before %s (thisUpdate)",
		        path, utc(this_upd, when, sizeof when));
		goto out;
	}
	valid_until = next_upd != -1 ? next_upd : this_upd + OCSP_NO_NEXT_UPDATE_S;
	if (valid_until <= now) {
		if (strict && ocsp_being_served(&d)) {
			/* not stapled (GnuTLS skips it past exptime) */
			LOG_WARN("ocsp.expired", "file=%s next_update=%s", log_q(path),
			         utc(valid_until, when, sizeof when));
		} else {
			err_set(e, ERR_USAGE, "%s: the OCSP response expired on %s (%s); fetch a "
			        "fresh one", path, utc(valid_until, when, sizeof when),
			        next_upd != -1 ? "nextUpdate" : "thisUpdate + 15 days");
			goto out;
		}
	}
	p->ocsp.version = 0;
	p->ocsp.response = d;
	p->ocsp.exptime = valid_until;
	d.data = NULL;
	ret = 0;
out:
	gnutls_free(d.data);
	if (resp != NULL)
		gnutls_ocsp_resp_deinit(resp);
	if (leaf != NULL)
		gnutls_x509_crt_deinit(leaf);
	if (issuer != NULL)
		gnutls_x509_crt_deinit(issuer);
	return ret;
}

struct edg_certs *
edg_certs_build(const struct cfg_list *certs, const struct cfg_list *keys,
                const struct cfg_list *ocsp, bool strict, struct err *e)
{
	struct edg_certs *t;
	size_t i;

	if (certs->n != keys->n) {
		err_set(e, ERR_USAGE, "keys 'cert' and 'key': %zu certificate(s) but %zu key(s); "
		        "give them in pairs, in the same order", certs->n, keys->n);
		return NULL;
	}
	if (certs->n == 0) {
		err_set(e, ERR_USAGE, "key 'cert': no certificate given");
		return NULL;
	}
	if (ocsp->n != 0 && ocsp->n != certs->n) {
		err_set(e, ERR_USAGE, "keys 'cert' and 'ocsp_file': %zu certificate(s) but %zu "
		        "OCSP file(s); give one per certificate, in the same order ('-' for "
		        "none)", certs->n, ocsp->n);
		return NULL;
	}
	t = calloc(1, sizeof *t);
	if (t == NULL || (t->pairs = calloc(certs->n, sizeof *t->pairs)) == NULL) {
		free(t);
		err_set(e, ERR_FAIL, "out of memory");
		return NULL;
	}
	for (i = 0; i < certs->n; i++) {
		if (load_pair(&t->pairs[i], certs->v[i], keys->v[i], strict, e) < 0) {
			table_free(t);
			err_prefix(e, "key 'cert': ");
			return NULL;
		}
		t->npairs++;
		if (ocsp->n != 0 && strcmp(ocsp->v[i], "-") != 0 &&
		    load_ocsp(&t->pairs[i], ocsp->v[i], strict, e) < 0) {
			table_free(t);
			err_prefix(e, "key 'ocsp_file': ");
			return NULL;
		}
	}
	return t;
}

size_t
edg_certs_count(const struct edg_certs *t)
{
	return t != NULL ? t->npairs : 0;
}

void
edg_certs_discard(struct edg_certs *t)
{
	table_free(t);
}

void
edg_certs_install(struct edg_certs *t, int64_t keep_ms)
{
	struct edg_certs *old, **pp;
	int64_t now = edg_now_ms();
	time_t wall = time(NULL);
	size_t i;

	for (i = 0; i < t->npairs; i++) {
		const struct pair *p = &t->pairs[i];
		long long left = (long long)(p->not_after - wall);
		char until[40];

		/* whole days, rounded down (-1: expired less than a day ago) */
		left = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
		LOG_INFO("cert.loaded", "file=%s names=%u first=%s default=%s days_left=%lld "
		         "ocsp=%s ocsp_next_update=%s", log_q(p->file), p->nnames,
		         log_q(p->nnames ? p->names[0] : ""), i == 0 ? "yes" : "no", left,
		         p->ocsp.response.data != NULL ? log_q(p->ocsp_file) : "none",
		         p->ocsp.response.data != NULL ? utc(p->ocsp.exptime, until, sizeof until) :
		         "-");
	}
	old = __atomic_exchange_n(&cur, t, __ATOMIC_ACQ_REL);
	if (old != NULL) {
		old->retired_ms = now;
		old->older = retired;
		retired = old;
	}
	/* a handshake that read an old table started before it was retired,
	 * and the watchdog ends handshakes older than header_timeout */
	for (pp = &retired; *pp != NULL;) {
		struct edg_certs *r = *pp;

		if (now - r->retired_ms > keep_ms) {
			*pp = r->older;
			LOG_DEBUG("cert.table_freed", "pairs=%zu retired_ms_ago=%lld", r->npairs,
			          (long long)(now - r->retired_ms));
			table_free(r);
		} else {
			pp = &r->older;
		}
	}
}

int
edg_certs_load(const struct cfg_list *certs, const struct cfg_list *keys,
               const struct cfg_list *ocsp, struct err *e)
{
	struct edg_certs *t = edg_certs_build(certs, keys, ocsp, false, e);

	if (t == NULL)
		return -1;
	edg_certs_install(t, 0);
	return 0;
}

void
edg_certs_free(void)
{
	struct edg_certs *t = __atomic_exchange_n(&cur, NULL, __ATOMIC_ACQ_REL), *next;

	table_free(t);
	for (t = retired; t != NULL; t = next) {
		next = t->older;
		table_free(t);
	}
	retired = NULL;
}

/* Does certificate name pattern match host (RFC 6125: a wildcard only as
 * the whole left-most label, matching exactly one label)? */
static bool
name_matches(const char *pattern, const char *host)
{
	if (pattern[0] == '*' && pattern[1] == '.') {
		const char *dot = strchr(host, '.');

		return dot != NULL && dot != host && strcasecmp(pattern + 1, dot) == 0;
	}
	return strcasecmp(pattern, host) == 0;
}

int
edg_cert_select(gnutls_session_t s, const struct gnutls_cert_retr_st *info,
                gnutls_pcert_st **pcert, unsigned int *pcert_length,
                gnutls_ocsp_data_st **ocsp, unsigned int *ocsp_length,
                gnutls_privkey_t *pkey, unsigned int *flags)
{
	/* once: a reload may swap the table meanwhile, this handshake keeps
	 * the one it read (retired tables outlive it) */
	const struct edg_certs *t = __atomic_load_n(&cur, __ATOMIC_ACQUIRE);
	const struct pair *pairs;
	char sni[256];
	size_t len = sizeof sni, i, j, pick = 0, npairs;
	unsigned type;

	(void)info;
	*flags = 0; /* the table owns everything returned */
	if (t == NULL || t->npairs == 0)
		return -1;
	pairs = t->pairs;
	npairs = t->npairs;
	if (gnutls_server_name_get(s, sni, &len, &type, 0) == 0 && type == GNUTLS_NAME_DNS &&
	    len > 0 && len < sizeof sni) {
		sni[len] = '\0';
		/* an exact name beats a wildcard, whatever the order of the pairs */
		for (i = 0; i < npairs && pick == 0; i++)
			for (j = 0; j < pairs[i].nnames && pick == 0; j++)
				if (pairs[i].names[j][0] != '*' &&
				    strcasecmp(pairs[i].names[j], sni) == 0)
					pick = i + 1;
		for (i = 0; i < npairs && pick == 0; i++)
			for (j = 0; j < pairs[i].nnames && pick == 0; j++)
				if (name_matches(pairs[i].names[j], sni))
					pick = i + 1;
		pick = pick ? pick - 1 : 0;
	}
	*pcert = pairs[pick].pcert;
	*pcert_length = pairs[pick].npcert;
	*pkey = pairs[pick].key;
	/* a const table: GnuTLS only reads what it is given */
	*ocsp = pairs[pick].ocsp.response.data != NULL ? (gnutls_ocsp_data_st *)&pairs[pick].ocsp :
	        NULL;
	*ocsp_length = pairs[pick].ocsp.response.data != NULL ? 1 : 0;
	return 0;
}
