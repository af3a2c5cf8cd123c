/*
 * tls.c: see tls.h.  No global state besides GnuTLS's own; every function
 * may be called from any thread once tls_init() has run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "rnd.h"
#include "tls.h"

#define TLS_MIN_GNUTLS "3.7.0"

int
tls_init(struct err *e)
{
	int rc;

	if (gnutls_check_version(TLS_MIN_GNUTLS) == NULL)
		return err_set(e, ERR_FAIL, "GnuTLS %s is too old (need %s or later)",
		               gnutls_check_version(NULL), TLS_MIN_GNUTLS);
	if (rnd_ready(e) < 0)
		return -1;
	rc = gnutls_global_init();
	if (rc < 0)
		return err_set(e, ERR_FAIL, "GnuTLS initialisation failed: %s",
		               gnutls_strerror(rc));
	return 0;
}

void
tls_deinit(void)
{
	gnutls_global_deinit();
}

int
tls_read_file(const char *path, gnutls_datum_t *d, struct err *e)
{
	struct stat st;
	int rc;

	/* gnutls_load_file says only "error in file"; find errno ourselves. */
	if (stat(path, &st) < 0)
		return err_set(e, ERR_FAIL, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return err_set(e, ERR_FAIL, "%s: is a directory", path);
	errno = 0;
	rc = gnutls_load_file(path, d);
	if (rc < 0)
		return err_set(e, ERR_FAIL, "%s: cannot read: %s", path,
		               errno ? strerror(errno) : gnutls_strerror(rc));
	return 0;
}

static int
is_pem(const gnutls_datum_t *d)
{
	return d->size > 10 && memmem(d->data, d->size, "-----BEGIN", 10) != NULL;
}

int
tls_load_certs(const char *path, gnutls_x509_crt_t **list, unsigned *n,
               struct err *e)
{
	gnutls_datum_t d = { NULL, 0 };
	int rc;

	if (tls_read_file(path, &d, e) < 0)
		return -1;
	rc = gnutls_x509_crt_list_import2(list, n, &d,
	                                  is_pem(&d) ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER,
	                                  0);
	gnutls_free(d.data);
	if (rc == GNUTLS_E_BASE64_DECODING_ERROR || rc == GNUTLS_E_ASN1_DER_ERROR ||
	    rc == GNUTLS_E_NO_CERTIFICATE_FOUND || rc == GNUTLS_E_ASN1_TAG_ERROR ||
	    (rc >= 0 && *n == 0))
		return err_set(e, ERR_FAIL, "%s: no certificate found (%s)", path,
		               rc < 0 ? gnutls_strerror(rc) : "empty file");
	if (rc < 0)
		return err_set(e, ERR_FAIL, "%s: cannot parse certificate: %s", path,
		               gnutls_strerror(rc));
	return 0;
}

void
tls_free_certs(gnutls_x509_crt_t *list, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
}

int
tls_load_key(const char *path, gnutls_x509_privkey_t *key, struct err *e)
{
	gnutls_datum_t d = { NULL, 0 };
	int rc;

	if (tls_read_file(path, &d, e) < 0)
		return -1;
	rc = gnutls_x509_privkey_init(key);
	if (rc < 0) {
		gnutls_free(d.data);
		return err_set(e, ERR_FAIL, "%s: %s", path, gnutls_strerror(rc));
	}
	rc = gnutls_x509_privkey_import2(*key, &d,
	                                 is_pem(&d) ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER,
	                                 NULL, GNUTLS_PKCS_PLAIN);
	gnutls_free(d.data);
	if (rc < 0) {
		gnutls_x509_privkey_deinit(*key);
		*key = NULL;
		if (rc == GNUTLS_E_DECRYPTION_FAILED)
			return err_set(e, ERR_FAIL, "%s: key is encrypted; edged needs an "
			               "unencrypted key", path);
		return err_set(e, ERR_FAIL, "%s: not a private key: %s", path,
		               gnutls_strerror(rc));
	}
	return 0;
}

int
tls_key_matches(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	unsigned char a[64], b[64];
	size_t la = sizeof a, lb = sizeof b;

	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a, &la) < 0 ||
	    gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b, &lb) < 0)
		return 0;
	return la == lb && memcmp(a, b, la) == 0;
}

int
tls_cred_add_pair(gnutls_certificate_credentials_t cred, const char *cert_path,
                  const char *key_path, struct tls_pair_info *info,
                  struct err *e)
{
	gnutls_x509_crt_t *crts = NULL;
	gnutls_x509_privkey_t key = NULL;
	unsigned n = 0;
	int rc, ret = -1;

	if (tls_load_certs(cert_path, &crts, &n, e) < 0)
		return -1;
	if (tls_load_key(key_path, &key, e) < 0)
		goto out;
	if (!tls_key_matches(crts[0], key)) {
		err_set(e, ERR_FAIL, "%s: key does not belong to the certificate in %s",
		        key_path, cert_path);
		goto out;
	}
	rc = gnutls_certificate_set_x509_key(cred, crts, n, key);
	if (rc < 0) {
		err_set(e, ERR_FAIL, "%s + %s: %s", cert_path, key_path, gnutls_strerror(rc));
		goto out;
	}
	if (info != NULL) {
		info->not_before = gnutls_x509_crt_get_activation_time(crts[0]);
		info->not_after = gnutls_x509_crt_get_expiration_time(crts[0]);
		info->chain_len = n;
	}
	ret = 0;
out:
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	tls_free_certs(crts, n);
	return ret;
}

int
tls_cred_set_ca(gnutls_certificate_credentials_t cred, const char *path,
                struct err *e)
{
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0;
	int rc;

	if (path == NULL) {
		rc = gnutls_certificate_set_x509_system_trust(cred);
		if (rc <= 0)
			return err_set(e, ERR_FAIL, "system trust store: %s",
			               rc < 0 ? gnutls_strerror(rc) : "no certificates");
		return 0;
	}
	/* Parse it ourselves first for an error that names the file. */
	if (tls_load_certs(path, &crts, &n, e) < 0)
		return -1;
	rc = gnutls_certificate_set_x509_trust(cred, crts, (int)n);
	tls_free_certs(crts, n);
	if (rc < 0)
		return err_set(e, ERR_FAIL, "%s: %s", path, gnutls_strerror(rc));
	return 0;
}

int
tls_priority_init(const char *prio, gnutls_priority_t *out, struct err *e)
{
	const char *pos = NULL;
	int rc = gnutls_priority_init2(out, prio, &pos, 0);

	if (rc < 0) {
		*out = NULL;
		if (rc == GNUTLS_E_INVALID_REQUEST && pos != NULL)
			return err_set(e, ERR_USAGE, "TLS priority '%s': invalid at '%s'",
			               prio, pos);
		return err_set(e, ERR_USAGE, "TLS priority '%s': %s", prio,
		               gnutls_strerror(rc));
	}
	return 0;
}
