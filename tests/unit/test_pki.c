/*
 * test_pki.c: edgecert's internals: argument validation (key types, DNS
 * names, IPs, NAMEs, times), certificates signed for every key type with
 * the extensions TLS stacks check, verification against the right and the
 * wrong CA, expiry, and crash-safe writes.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pki.h"
#include "tls.h"

static void
setup(void)
{
	struct err e;

	cr_assert_eq(tls_init(&e), 0, "%s", e.msg);
}

static void
teardown(void)
{
	tls_deinit();
}

TestSuite(pki, .init = setup, .fini = teardown, .timeout = 60);

Test(pki, keytypes)
{
	enum pki_keytype t;
	struct err e;

	cr_assert_eq(pki_keytype_parse("ed25519", &t, &e), 0);
	cr_expect_eq(t, PKI_KEY_ED25519);
	cr_expect_str_eq(pki_keytype_name(PKI_KEY_RSA_3072), "rsa-3072");
	cr_expect_eq(pki_keytype_parse("rsa-1024", &t, &e), -1);
	cr_expect_eq(e.code, ERR_USAGE);
	cr_expect_str_eq(e.msg, "unknown key type 'rsa-1024' (use one of "
	                        "ecdsa-p256|ecdsa-p384|rsa-2048|rsa-3072|ed25519)");
}

Test(pki, dns_names)
{
	static const char *ok[] = { "edge.test", "*.edge.test", "localhost", "origind",
	                            "a-b.c-d.e", "xn--bcher-kva.example", "1.2.3.4.nip.io" };
	static const char *bad[] = { "", "a..b", ".a.b", "-a.b", "a-.b", "a_b.c", "*.com",
	                             "a.*.b", "*a.b.c", "trailing.", "sp ace.test", "é.test",
	                             "*." };
	char out[256], label[70], longname[300];
	struct err e;
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		cr_expect_eq(pki_check_dns(ok[i], out, &e), 0, "%s: %s", ok[i], e.msg);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_expect_eq(pki_check_dns(bad[i], out, &e), -1, "'%s' accepted", bad[i]);
		cr_expect_eq(e.code, ERR_USAGE);
	}
	cr_assert_eq(pki_check_dns("Edge.TEST", out, &e), 0);
	cr_expect_str_eq(out, "edge.test", "names are lower-cased");
	memset(label, 'a', 64);
	strcpy(label + 64, ".test");
	cr_expect_eq(pki_check_dns(label, out, &e), -1, "64-character label accepted");
	cr_expect_str_eq(e.msg + strlen(e.msg) - 36, "a label is longer than 63 characters");
	label[0] = '.'; /* now 63 a's after the dot... */
	cr_expect_eq(pki_check_dns(label + 1, out, &e), 0, "63-character label refused");
	for (i = 0; i < 254; i++)
		longname[i] = (i % 10 == 9) ? '.' : 'a';
	longname[254] = '\0';
	cr_expect_eq(pki_check_dns(longname, out, &e), -1, "254-character name accepted");
}

Test(pki, ips)
{
	unsigned char ip[16];
	size_t len;
	struct err e;

	cr_assert_eq(pki_parse_ip("127.0.0.1", ip, &len, &e), 0);
	cr_expect_eq(len, 4);
	cr_expect_eq(ip[0], 127);
	cr_assert_eq(pki_parse_ip("::1", ip, &len, &e), 0);
	cr_expect_eq(len, 16);
	cr_expect_eq(ip[15], 1);
	cr_expect_eq(pki_parse_ip("256.0.0.1", ip, &len, &e), -1);
	cr_expect_str_eq(e.msg, "bad IP address '256.0.0.1'");
	cr_expect_eq(pki_parse_ip("localhost", ip, &len, &e), -1);
	cr_expect_eq(pki_parse_ip("[::1]", ip, &len, &e), -1);
}

Test(pki, names)
{
	static const char *ok[] = { "edge.test", "client1", "origin_a-b", "127.0.0.1" };
	static const char *bad[] = { "", "ca", "../x", "a/b", ".hidden", "-x", "x.chain",
	                             "a b", "x\n" };
	struct err e;
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		cr_expect_eq(pki_check_name(ok[i], &e), 0, "%s: %s", ok[i], e.msg);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(pki_check_name(bad[i], &e), -1, "'%s' accepted", bad[i]);
}

Test(pki, times)
{
	time_t t;
	char buf[32];
	struct err e;

	cr_assert_eq(pki_parse_time("2020-01-01", &t, &e), 0);
	cr_expect_eq(t, 1577836800);
	cr_assert_eq(pki_parse_time("2020-01-01T12:30:00Z", &t, &e), 0);
	cr_expect_eq(t, 1577881800);
	cr_expect_str_eq(pki_fmt_time(t, buf, sizeof buf), "2020-01-01T12:30:00Z");
	cr_expect_eq(pki_parse_time("2020-13-01", &t, &e), -1);
	cr_expect_eq(pki_parse_time("01/02/2020", &t, &e), -1);
	cr_expect_eq(pki_parse_time("2020-01-01T25:00:00Z", &t, &e), -1);
	cr_expect_eq(pki_parse_time("2020-01-01x", &t, &e), -1);
	cr_expect_eq(pki_parse_time("2026-02-30", &t, &e), -1, "February 30th accepted");
	cr_expect_str_eq(e.msg, "bad time '2026-02-30': no such date or time");
	cr_expect_eq(pki_parse_time("2024-02-29", &t, &e), 0, "leap day refused");
	cr_expect_eq(pki_parse_time("2026-04-31T00:00:00Z", &t, &e), -1);
	cr_expect_eq(pki_parse_time("", &t, &e), -1);
}

struct pair {
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
};

static struct pair
make_ca(enum pki_keytype kt, const char *cn)
{
	struct pki_req r = { 0 };
	struct pair p;
	struct err e;

	r.cn = cn;
	r.ca = true;
	r.not_before = time(NULL) - 3600;
	r.not_after = time(NULL) + 86400 * 10;
	cr_assert_eq(pki_key_new(kt, &p.key, &e), 0, "%s", e.msg);
	cr_assert_eq(pki_sign(&r, p.key, NULL, NULL, &p.crt, &e), 0, "%s", e.msg);
	return p;
}

static struct pair
make_leaf(enum pki_keytype kt, struct pair *ca, time_t nb, time_t na, bool client)
{
	static char *dns[] = { (char *)"edge.test", (char *)"*.edge.test" };
	static char *ip[] = { (char *)"127.0.0.1", (char *)"::1" };
	struct pki_req r = { 0 };
	struct pair p;
	struct err e;

	r.cn = "edge.test";
	r.dns = dns;
	r.ndns = 2;
	r.ip = ip;
	r.nip = 2;
	r.client = client;
	r.not_before = nb;
	r.not_after = na;
	cr_assert_eq(pki_key_new(kt, &p.key, &e), 0, "%s", e.msg);
	cr_assert_eq(pki_sign(&r, p.key, ca->crt, ca->key, &p.crt, &e), 0, "%s", e.msg);
	return p;
}

static void
pair_free(struct pair *p)
{
	gnutls_x509_crt_deinit(p->crt);
	gnutls_x509_privkey_deinit(p->key);
}

static void
check_every_type(enum pki_keytype kt)
{
	struct pair ca = make_ca(kt, "Test CA");
	time_t now = time(NULL);
	struct pair leaf = make_leaf(kt, &ca, now - 60, now + 86400, false);
	struct pki_sans s;
	unsigned char serial[32], ski[64], aki[64];
	size_t sl = sizeof serial, skil = sizeof ski, akil = sizeof aki;
	unsigned crit, bits, usage;
	char cn[64];
	struct err e;

	cr_expect_eq(pki_keytype_of_crt(leaf.crt, &bits), kt, "%s", pki_keytype_name(kt));
	cr_expect_eq(pki_keytype_of_crt(ca.crt, NULL), kt);
	cr_expect(pki_is_ca(ca.crt));
	cr_expect_not(pki_is_ca(leaf.crt));
	cr_expect(pki_has_purpose(leaf.crt, GNUTLS_KP_TLS_WWW_SERVER));
	cr_expect_not(pki_has_purpose(leaf.crt, GNUTLS_KP_TLS_WWW_CLIENT));
	cr_expect(tls_key_matches(leaf.crt, leaf.key));
	cr_expect_not(tls_key_matches(leaf.crt, ca.key));
	cr_assert_eq(gnutls_x509_crt_get_serial(leaf.crt, serial, &sl), 0);
	cr_expect_eq(sl, 16, "serial is %zu bytes", sl);
	cr_expect_eq(serial[0] & 0x80, 0, "serial must be positive");
	cr_expect_neq(serial[0], 0, "no leading zero octet");
	cr_assert_eq(gnutls_x509_crt_get_subject_key_id(ca.crt, ski, &skil, &crit), 0);
	cr_assert_eq(gnutls_x509_crt_get_authority_key_id(leaf.crt, aki, &akil, &crit), 0);
	cr_expect_eq(akil, skil);
	cr_expect_eq(memcmp(aki, ski, akil), 0, "leaf AKI must be the CA's SKI");
	cr_assert_eq(gnutls_x509_crt_get_key_usage(ca.crt, &usage, &crit), 0);
	cr_expect(usage & GNUTLS_KEY_KEY_CERT_SIGN);
	cr_expect(crit);
	cr_assert_eq(gnutls_x509_crt_get_key_usage(leaf.crt, &usage, &crit), 0);
	cr_expect_not(usage & GNUTLS_KEY_KEY_CERT_SIGN);
	cr_expect(usage & GNUTLS_KEY_DIGITAL_SIGNATURE);
	cr_assert_eq(pki_get_sans(leaf.crt, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(s.ndns, 2, "ndns=%zu nip=%zu", s.ndns, s.nip);
	cr_expect_str_eq(s.dns[1], "*.edge.test");
	cr_assert_eq(s.nip, 2);
	cr_expect_str_eq(s.ip[0], "127.0.0.1");
	cr_expect_str_eq(s.ip[1], "::1");
	pki_sans_free(&s);
	pki_get_cn(leaf.crt, cn, sizeof cn);
	cr_expect_str_eq(cn, "edge.test");
	cr_expect_eq(pki_verify(&leaf.crt, 1, ca.crt, &e), 0, "%s", e.msg);
	cr_expect_eq(pki_verify(&ca.crt, 1, ca.crt, &e), 0, "%s", e.msg);
	{
		struct pair other = make_ca(kt, "Test CA");

		cr_expect_eq(pki_verify(&leaf.crt, 1, other.crt, &e), -1,
		             "verified under a different CA with the same name");
		pair_free(&other);
	}
	pair_free(&leaf);
	pair_free(&ca);
}

Test(pki, every_key_type_p256) { check_every_type(PKI_KEY_ECDSA_P256); }
Test(pki, every_key_type_p384) { check_every_type(PKI_KEY_ECDSA_P384); }
Test(pki, every_key_type_rsa2048) { check_every_type(PKI_KEY_RSA_2048); }
Test(pki, every_key_type_rsa3072) { check_every_type(PKI_KEY_RSA_3072); }
Test(pki, every_key_type_ed25519) { check_every_type(PKI_KEY_ED25519); }

Test(pki, client_purpose)
{
	struct pair ca = make_ca(PKI_KEY_ECDSA_P256, "CA");
	struct pair c = make_leaf(PKI_KEY_ECDSA_P256, &ca, time(NULL) - 60,
	                          time(NULL) + 3600, true);

	cr_expect(pki_has_purpose(c.crt, GNUTLS_KP_TLS_WWW_CLIENT));
	cr_expect_not(pki_has_purpose(c.crt, GNUTLS_KP_TLS_WWW_SERVER));
	pair_free(&c);
	pair_free(&ca);
}

Test(pki, expired_and_future_fail_verification)
{
	struct pair ca = make_ca(PKI_KEY_ECDSA_P256, "CA");
	time_t now = time(NULL);
	struct pair old = make_leaf(PKI_KEY_ECDSA_P256, &ca, now - 86400 * 30, now - 86400,
	                            false);
	struct pair future = make_leaf(PKI_KEY_ECDSA_P256, &ca, now + 86400, now + 86400 * 30,
	                               false);
	struct err e;

	cr_expect_eq(pki_verify(&old.crt, 1, ca.crt, &e), -1);
	cr_expect_not_null(strstr(e.msg, "expired"), "%s", e.msg);
	cr_expect_eq(pki_verify(&future.crt, 1, ca.crt, &e), -1);
	cr_expect_not_null(strstr(e.msg, "not yet valid"), "%s", e.msg);
	pair_free(&old);
	pair_free(&future);
	pair_free(&ca);
}

Test(pki, leaf_needs_issuer)
{
	struct pki_req r = { 0 };
	gnutls_x509_privkey_t k;
	gnutls_x509_crt_t c;
	struct err e;

	r.cn = "x";
	r.not_before = time(NULL);
	r.not_after = r.not_before + 10;
	cr_assert_eq(pki_key_new(PKI_KEY_ECDSA_P256, &k, &e), 0);
	cr_expect_eq(pki_sign(&r, k, NULL, NULL, &c, &e), -1);
	cr_expect_null(c);
	gnutls_x509_privkey_deinit(k);
}

Test(pki, pem_export_is_pkcs8_and_reloads)
{
	struct pair ca = make_ca(PKI_KEY_ED25519, "CA");
	gnutls_datum_t d = { NULL, 0 };
	char path[] = "/tmp/edged-pki-XXXXXX";
	gnutls_x509_privkey_t back;
	int fd;
	struct err e;

	cr_assert_eq(pki_key_pem(ca.key, &d, &e), 0);
	cr_expect_not_null(memmem(d.data, d.size, "-----BEGIN PRIVATE KEY-----", 27));
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	cr_assert_eq(pki_write_atomic(path, d.data, d.size, 0600, &e), 0, "%s", e.msg);
	cr_assert_eq(tls_load_key(path, &back, &e), 0, "%s", e.msg);
	cr_expect(tls_key_matches(ca.crt, back));
	gnutls_x509_privkey_deinit(back);
	unlink(path);
	gnutls_free(d.data);
	pair_free(&ca);
}

Test(pki, atomic_write)
{
	char dir[] = "/tmp/edged-pki-XXXXXX", path[256];
	struct stat st;
	struct err e;
	DIR *d;
	struct dirent *de;
	int n = 0;
	FILE *f;
	char buf[32] = "";

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/k.key", dir);
	cr_assert_eq(pki_write_atomic(path, "one", 3, 0600, &e), 0, "%s", e.msg);
	cr_assert_eq(pki_write_atomic(path, "second", 6, 0600, &e), 0, "%s", e.msg);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	cr_expect_eq(st.st_size, 6);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_expect_not_null(fgets(buf, sizeof buf, f));
	fclose(f);
	cr_expect_str_eq(buf, "second");
	snprintf(path, sizeof path, "%s/c.pem", dir);
	cr_assert_eq(pki_write_atomic(path, "x", 1, 0644, &e), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0644);
	d = opendir(dir);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	cr_expect_eq(n, 2, "temporary files left behind");
	snprintf(path, sizeof path, "%s/k.key", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/c.pem", dir);
	unlink(path);
	rmdir(dir);
	cr_expect_eq(pki_write_atomic("/nonexistent-dir/x.key", "x", 1, 0600, &e), -1);
	cr_expect_str_eq(e.msg, "/nonexistent-dir/x.key: cannot write in /nonexistent-dir: "
	                        "No such file or directory");
}

Test(pki, fingerprint_and_serial_text)
{
	struct pair ca = make_ca(PKI_KEY_ECDSA_P256, "CA");
	char fp[128], serial[64];

	pki_fingerprint(ca.crt, fp, sizeof fp);
	cr_expect_eq(strlen(fp), 32 * 3 - 1);
	cr_expect_eq(fp[2], ':');
	pki_serial_hex(ca.crt, serial, sizeof serial);
	cr_expect_eq(strlen(serial), 32);
	pair_free(&ca);
}
