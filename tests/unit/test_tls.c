/*
 * test_tls.c: the GnuTLS helpers' errors name the file and the reason,
 * keys are matched to their certificates, priority strings are checked.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pki.h"
#include "tls.h"

static char dir[64];
static char ca_pem[128], ca_key[128], other_key[128], junk[128], empty[128];

static void
write_file(const char *path, const void *data, size_t len)
{
	struct err e;

	cr_assert_eq(pki_write_atomic(path, data, len, 0600, &e), 0, "%s", e.msg);
}

static void
setup(void)
{
	struct pki_req r = { 0 };
	gnutls_x509_privkey_t k, k2;
	gnutls_x509_crt_t c;
	gnutls_datum_t d;
	struct err e;

	cr_assert_eq(tls_init(&e), 0);
	snprintf(dir, sizeof dir, "/tmp/edged-tls-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", dir);
	snprintf(ca_key, sizeof ca_key, "%s/ca.key", dir);
	snprintf(other_key, sizeof other_key, "%s/other.key", dir);
	snprintf(junk, sizeof junk, "%s/junk.pem", dir);
	snprintf(empty, sizeof empty, "%s/empty.pem", dir);
	r.cn = "CA";
	r.ca = true;
	r.not_before = time(NULL) - 10;
	r.not_after = time(NULL) + 3600;
	cr_assert_eq(pki_key_new(PKI_KEY_ECDSA_P256, &k, &e), 0);
	cr_assert_eq(pki_key_new(PKI_KEY_ECDSA_P256, &k2, &e), 0);
	cr_assert_eq(pki_sign(&r, k, NULL, NULL, &c, &e), 0);
	cr_assert_eq(pki_crt_pem(c, &d, &e), 0);
	write_file(ca_pem, d.data, d.size);
	gnutls_free(d.data);
	cr_assert_eq(pki_key_pem(k, &d, &e), 0);
	write_file(ca_key, d.data, d.size);
	gnutls_free(d.data);
	cr_assert_eq(pki_key_pem(k2, &d, &e), 0);
	write_file(other_key, d.data, d.size);
	gnutls_free(d.data);
	write_file(junk, "-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n",
	           66);
	write_file(empty, "", 0);
	gnutls_x509_crt_deinit(c);
	gnutls_x509_privkey_deinit(k);
	gnutls_x509_privkey_deinit(k2);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
	tls_deinit();
}

TestSuite(tls, .init = setup, .fini = teardown, .timeout = 30);

Test(tls, pair_loads)
{
	gnutls_certificate_credentials_t cred;
	struct tls_pair_info info;
	struct err e;

	cr_assert_eq(gnutls_certificate_allocate_credentials(&cred), 0);
	cr_expect_eq(tls_cred_add_pair(cred, ca_pem, ca_key, &info, &e), 0, "%s", e.msg);
	cr_expect_eq(info.chain_len, 1);
	cr_expect_gt(info.not_after, time(NULL));
	gnutls_certificate_free_credentials(cred);
}

Test(tls, mismatched_key_names_both_files)
{
	gnutls_certificate_credentials_t cred;
	struct err e;
	char want[512];

	cr_assert_eq(gnutls_certificate_allocate_credentials(&cred), 0);
	cr_expect_eq(tls_cred_add_pair(cred, ca_pem, other_key, NULL, &e), -1);
	snprintf(want, sizeof want, "%s: key does not belong to the certificate in %s",
	         other_key, ca_pem);
	cr_expect_str_eq(e.msg, want);
	gnutls_certificate_free_credentials(cred);
}

Test(tls, file_errors_name_the_file)
{
	gnutls_x509_crt_t *list;
	gnutls_x509_privkey_t k;
	unsigned n;
	struct err e;
	char want[512];

	cr_expect_eq(tls_load_certs("/nonexistent/x.pem", &list, &n, &e), -1);
	cr_expect_str_eq(e.msg, "/nonexistent/x.pem: No such file or directory");
	cr_expect_eq(tls_load_certs(dir, &list, &n, &e), -1);
	snprintf(want, sizeof want, "%s: is a directory", dir);
	cr_expect_str_eq(e.msg, want);
	cr_expect_eq(tls_load_certs(junk, &list, &n, &e), -1);
	cr_expect_eq(strncmp(e.msg, junk, strlen(junk)), 0, "%s", e.msg);
	cr_expect_eq(tls_load_certs(empty, &list, &n, &e), -1);
	snprintf(want, sizeof want, "%s: no certificate found", empty);
	cr_expect_eq(strncmp(e.msg, want, strlen(want)), 0, "%s", e.msg);
	cr_expect_eq(tls_load_key(ca_pem, &k, &e), -1);
	snprintf(want, sizeof want, "%s: not a private key", ca_pem);
	cr_expect_eq(strncmp(e.msg, want, strlen(want)), 0, "%s", e.msg);
	cr_expect_eq(tls_load_key("/nonexistent/k", &k, &e), -1);
	cr_expect_str_eq(e.msg, "/nonexistent/k: No such file or directory");
}

Test(tls, trust_file)
{
	gnutls_certificate_credentials_t cred;
	struct err e;

	cr_assert_eq(gnutls_certificate_allocate_credentials(&cred), 0);
	cr_expect_eq(tls_cred_set_ca(cred, ca_pem, &e), 0, "%s", e.msg);
	cr_expect_eq(tls_cred_set_ca(cred, empty, &e), -1);
	cr_expect_not_null(strstr(e.msg, "no certificate found"), "%s", e.msg);
	gnutls_certificate_free_credentials(cred);
}

Test(tls, priorities)
{
	gnutls_priority_t p;
	struct err e;

	cr_assert_eq(tls_priority_init("NORMAL:-VERS-ALL:+VERS-TLS1.3", &p, &e), 0, "%s",
	             e.msg);
	gnutls_priority_deinit(p);
	cr_expect_eq(tls_priority_init("NORMAL:+BOGUS-THING", &p, &e), -1);
	cr_expect_null(p);
	cr_expect_eq(e.code, ERR_USAGE);
	cr_expect_str_eq(e.msg, "TLS priority 'NORMAL:+BOGUS-THING': invalid at "
	                        "'+BOGUS-THING'");
}
