/*
 * edg_tls.c: the viewer side's TLS: CloudFront's security policies as
 * explicit GnuTLS priority strings, and certificate/key pairs chosen by
 * the SNI of each handshake.
 *
 * Policies: libmicrohttpd's default priority is "NORMAL" (TLS 1.0 and CBC
 * on), so edged always passes one of these.  Each names its versions, key
 * exchanges, ciphers and MACs from NONE, so a newer GnuTLS cannot widen
 * them.  GnuTLS has one cipher list for TLS 1.2 and 1.3, so where
 * CloudFront allows a cipher under one version only (TLSv1.2_2025 and
 * TLSv1.3_2025 drop ChaCha20-Poly1305 for TLS 1.2 / altogether) the
 * stricter reading is used.  The README has the table.
 *
 * Certificates: libmicrohttpd asks edg_cert_select() during each
 * handshake (MHD_OPTION_HTTPS_CERT_CALLBACK).  The table is built once at
 * start-up and read-only afterwards, so the callback takes no lock.
 */
#define _GNU_SOURCE
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
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
#define TAIL   "+SIGN-ALL:" GROUPS ":+COMP-NULL:+CTYPE-X509:%SERVER_PRECEDENCE"

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
};

static struct pair *pairs;
static size_t npairs;

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
	memset(p, 0, sizeof *p);
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

static int
load_pair(struct pair *p, const char *cert_path, const char *key_path, struct err *e)
{
	gnutls_x509_crt_t *crts = NULL;
	gnutls_x509_privkey_t xkey = NULL;
	unsigned n = 0, i;
	time_t now = time(NULL);
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
	if (gnutls_x509_crt_get_expiration_time(crts[0]) <= now)
		LOG_WARN("cert.expired", "file=%s", log_q(cert_path));
	else if (gnutls_x509_crt_get_activation_time(crts[0]) > now)
		LOG_WARN("cert.not_yet_valid", "file=%s", log_q(cert_path));
	collect_names(p, crts[0]);
	p->pcert = calloc(n, sizeof *p->pcert);
	if (p->pcert == NULL) {
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

int
edg_certs_load(const struct cfg_list *certs, const struct cfg_list *keys, struct err *e)
{
	size_t i;

	if (certs->n != keys->n)
		return err_set(e, ERR_USAGE, "keys 'cert' and 'key': %zu certificate(s) but "
		               "%zu key(s); give them in pairs, in the same order",
		               certs->n, keys->n);
	pairs = calloc(certs->n, sizeof *pairs);
	if (pairs == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	for (i = 0; i < certs->n; i++) {
		if (load_pair(&pairs[i], certs->v[i], keys->v[i], e) < 0) {
			edg_certs_free();
			return err_prefix(e, "key 'cert': ");
		}
		npairs++;
		LOG_INFO("cert.loaded", "file=%s names=%u first=%s default=%s",
		         log_q(certs->v[i]), pairs[i].nnames,
		         log_q(pairs[i].nnames ? pairs[i].names[0] : ""), i == 0 ? "yes" : "no");
	}
	return 0;
}

void
edg_certs_free(void)
{
	size_t i;

	for (i = 0; i < npairs; i++)
		pair_free(&pairs[i]);
	free(pairs);
	pairs = NULL;
	npairs = 0;
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
edg_cert_select(gnutls_session_t s, const gnutls_datum_t *req_ca_dn, int nreqs,
                const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                gnutls_pcert_st **pcert, unsigned int *pcert_length,
                gnutls_privkey_t *pkey)
{
	char sni[256];
	size_t len = sizeof sni, i, j, pick = 0;
	unsigned type;

	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (npairs == 0)
		return -1;
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
	return 0;
}
