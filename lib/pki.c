/*
 * pki.c: see pki.h.  Stateless; safe from any thread after tls_init().
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pki.h"

static const struct {
	const char *name;
	gnutls_pk_algorithm_t pk;
	unsigned bits;
} keytypes[] = {
	[PKI_KEY_ECDSA_P256] = { "ecdsa-p256", GNUTLS_PK_ECDSA, 256 },
	[PKI_KEY_ECDSA_P384] = { "ecdsa-p384", GNUTLS_PK_ECDSA, 384 },
	[PKI_KEY_RSA_2048] = { "rsa-2048", GNUTLS_PK_RSA, 2048 },
	[PKI_KEY_RSA_3072] = { "rsa-3072", GNUTLS_PK_RSA, 3072 },
	[PKI_KEY_ED25519] = { "ed25519", GNUTLS_PK_EDDSA_ED25519, 256 },
};

int
pki_keytype_parse(const char *s, enum pki_keytype *t, struct err *e)
{
	size_t i;

	for (i = 0; i < sizeof keytypes / sizeof keytypes[0]; i++)
		if (strcmp(s, keytypes[i].name) == 0) {
			*t = (enum pki_keytype)i;
			return 0;
		}
	return err_set(e, ERR_USAGE, "unknown key type '%s' (use one of %s)", s,
	               PKI_KEYTYPES);
}

const char *
pki_keytype_name(enum pki_keytype t)
{
	if ((size_t)t < sizeof keytypes / sizeof keytypes[0])
		return keytypes[t].name;
	return "other";
}

enum pki_keytype
pki_keytype_of_crt(gnutls_x509_crt_t crt, unsigned *bits)
{
	unsigned b = 0;
	int pk = gnutls_x509_crt_get_pk_algorithm(crt, &b);

	if (bits != NULL)
		*bits = b;
	if (pk == GNUTLS_PK_RSA && b == 2048)
		return PKI_KEY_RSA_2048;
	if (pk == GNUTLS_PK_RSA && b == 3072)
		return PKI_KEY_RSA_3072;
	if (pk == GNUTLS_PK_EDDSA_ED25519)
		return PKI_KEY_ED25519;
	if (pk == GNUTLS_PK_ECDSA) {
		gnutls_ecc_curve_t curve;
		gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };

		if (gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, &x, &y) < 0)
			return PKI_KEY_OTHER;
		gnutls_free(x.data);
		gnutls_free(y.data);
		if (curve == GNUTLS_ECC_CURVE_SECP256R1)
			return PKI_KEY_ECDSA_P256;
		if (curve == GNUTLS_ECC_CURVE_SECP384R1)
			return PKI_KEY_ECDSA_P384;
	}
	return PKI_KEY_OTHER;
}

int
pki_key_new(enum pki_keytype t, gnutls_x509_privkey_t *key, struct err *e)
{
	unsigned bits;
	int rc;

	if ((size_t)t >= sizeof keytypes / sizeof keytypes[0])
		return err_set(e, ERR_USAGE, "cannot generate a key of this type");
	switch (t) {
	case PKI_KEY_ECDSA_P256:
		bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
		break;
	case PKI_KEY_ECDSA_P384:
		bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1);
		break;
	case PKI_KEY_ED25519:
		bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519);
		break;
	default:
		bits = keytypes[t].bits;
	}
	rc = gnutls_x509_privkey_init(key);
	if (rc < 0)
		return err_set(e, ERR_FAIL, "key: %s", gnutls_strerror(rc));
	rc = gnutls_x509_privkey_generate2(*key, keytypes[t].pk, bits, 0, NULL, 0);
	if (rc < 0) {
		gnutls_x509_privkey_deinit(*key);
		*key = NULL;
		return err_set(e, ERR_FAIL, "generating a %s key: %s", keytypes[t].name,
		               gnutls_strerror(rc));
	}
	return 0;
}

int
pki_key_pem(gnutls_x509_privkey_t key, gnutls_datum_t *out, struct err *e)
{
	int rc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
	                                           GNUTLS_PKCS_PLAIN, out);

	if (rc < 0)
		return err_set(e, ERR_FAIL, "exporting key: %s", gnutls_strerror(rc));
	return 0;
}

int
pki_crt_pem(gnutls_x509_crt_t crt, gnutls_datum_t *out, struct err *e)
{
	int rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, out);

	if (rc < 0)
		return err_set(e, ERR_FAIL, "exporting certificate: %s", gnutls_strerror(rc));
	return 0;
}

int
pki_check_dns(const char *name, char *out, struct err *e)
{
	size_t len = strlen(name), i, label = 0, dots = 0;
	const char *p = name;

	if (len == 0)
		return err_set(e, ERR_USAGE, "empty DNS name");
	if (len > 253)
		return err_set(e, ERR_USAGE, "DNS name '%.40s...' is longer than 253 characters",
		               name);
	if (strncmp(p, "*.", 2) == 0)
		p += 2; /* one leading wildcard label */
	if (*p == '\0' || *p == '.')
		return err_set(e, ERR_USAGE, "bad DNS name '%s': empty label", name);
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.') {
			if (label == 0 || p[1] == '\0')
				return err_set(e, ERR_USAGE, "bad DNS name '%s': empty label%s", name,
				               p[1] == '\0' ? " (no trailing dot)" : "");
			if (p[-1] == '-')
				return err_set(e, ERR_USAGE,
				               "bad DNS name '%s': a label ends with '-'", name);
			label = 0;
			dots++;
			continue;
		}
		if (c == '*')
			return err_set(e, ERR_USAGE,
			               "bad DNS name '%s': '*' only as the whole first label", name);
		if (!isalnum(c) && c != '-')
			return err_set(e, ERR_USAGE,
			               "bad DNS name '%s': character '%c' is not allowed "
			               "(letters, digits, '-' and '.')", name, isprint(c) ? c : '?');
		if (c == '-' && label == 0)
			return err_set(e, ERR_USAGE,
			               "bad DNS name '%s': a label starts with '-'", name);
		if (++label > 63)
			return err_set(e, ERR_USAGE,
			               "bad DNS name '%s': a label is longer than 63 characters",
			               name);
	}
	if (p[-1] == '-')
		return err_set(e, ERR_USAGE, "bad DNS name '%s': a label ends with '-'", name);
	if (name[0] == '*' && dots < 1)
		return err_set(e, ERR_USAGE,
		               "bad DNS name '%s': a wildcard needs two labels after it", name);
	if (out != NULL) {
		for (i = 0; i <= len; i++)
			out[i] = (char)tolower((unsigned char)name[i]);
	}
	return 0;
}

int
pki_parse_ip(const char *s, unsigned char ip[16], size_t *len, struct err *e)
{
	if (inet_pton(AF_INET, s, ip) == 1) {
		*len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip) == 1) {
		*len = 16;
		return 0;
	}
	return err_set(e, ERR_USAGE, "bad IP address '%s'", s);
}

int
pki_check_name(const char *name, struct err *e)
{
	size_t len = strlen(name), i;

	if (len == 0 || len > 200)
		return err_set(e, ERR_USAGE, "bad NAME '%.40s': 1 to 200 characters", name);
	if (name[0] == '.' || name[0] == '-')
		return err_set(e, ERR_USAGE, "bad NAME '%s': must not start with '%c'", name,
		               name[0]);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return err_set(e, ERR_USAGE,
			               "bad NAME '%s': only letters, digits, '.', '_' and '-' "
			               "(it becomes a file name)", name);
	}
	if (strcmp(name, "ca") == 0)
		return err_set(e, ERR_USAGE, "bad NAME 'ca': reserved for the CA's files");
	if (len >= 6 && strcmp(name + len - 6, ".chain") == 0)
		return err_set(e, ERR_USAGE, "bad NAME '%s': must not end in '.chain'", name);
	return 0;
}

int
pki_parse_time(const char *s, time_t *t, struct err *e)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof tm);
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end != NULL && *end == 'T')
		end = strptime(end + 1, "%H:%M:%S", &tm);
	if (end != NULL && (*end == 'Z' || *end == 'z'))
		end++;
	if (end == NULL || *end != '\0' || strlen(s) < 10)
		return err_set(e, ERR_USAGE,
		               "bad time '%s' (write 2026-01-31 or 2026-01-31T12:00:00Z, UTC)", s);
	{
		struct tm want = tm, back;

		*t = timegm(&tm);
		/* strptime takes 2026-02-30; timegm would roll it to March */
		if (*t == (time_t)-1 || gmtime_r(t, &back) == NULL ||
		    back.tm_year != want.tm_year || back.tm_mon != want.tm_mon ||
		    back.tm_mday != want.tm_mday || back.tm_hour != want.tm_hour ||
		    back.tm_min != want.tm_min || back.tm_sec != want.tm_sec)
			return err_set(e, ERR_USAGE, "bad time '%s': no such date or time", s);
	}
	return 0;
}

const char *
pki_fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "?");
	return buf;
}

/* Pick the digest the signer's key wants (SHA-384 for P-384...). */
static gnutls_digest_algorithm_t
sign_digest(gnutls_privkey_t key)
{
	gnutls_pubkey_t pub;
	gnutls_digest_algorithm_t dig = GNUTLS_DIG_SHA256;
	unsigned mand = 0;

	if (gnutls_pubkey_init(&pub) < 0)
		return dig;
	if (gnutls_pubkey_import_privkey(pub, key, 0, 0) == 0 &&
	    gnutls_pubkey_get_preferred_hash_algorithm(pub, &dig, &mand) < 0)
		dig = GNUTLS_DIG_SHA256;
	gnutls_pubkey_deinit(pub);
	if (dig == GNUTLS_DIG_SHA1 || dig == GNUTLS_DIG_UNKNOWN)
		dig = GNUTLS_DIG_SHA256;
	return dig;
}

#define TRY(call, what) \
	do { \
		int rc_ = (call); \
		if (rc_ < 0) { \
			err_set(e, ERR_FAIL, "%s: %s", what, gnutls_strerror(rc_)); \
			goto out; \
		} \
	} while (0)

int
pki_sign(const struct pki_req *r, gnutls_x509_privkey_t key,
         gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key,
         gnutls_x509_crt_t *out, struct err *e)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_privkey_t signer = NULL;
	unsigned char serial[16], keyid[64];
	size_t i, idlen = sizeof keyid;
	unsigned usage;
	int ret = -1, pk;

	*out = NULL;
	if (issuer == NULL && !r->ca)
		return err_set(e, ERR_FAIL, "a leaf certificate needs an issuer");
	TRY(gnutls_x509_crt_init(&crt), "certificate");
	TRY(gnutls_x509_crt_set_version(crt, 3), "version");
	TRY(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial), "serial");
	serial[0] &= 0x7f;  /* positive (RFC 5280 4.1.2.2) */
	serial[0] |= 0x01;  /* and a full 16 bytes: no leading zero octet */
	TRY(gnutls_x509_crt_set_serial(crt, serial, sizeof serial), "serial");
	TRY(gnutls_x509_crt_set_activation_time(crt, r->not_before), "not before");
	TRY(gnutls_x509_crt_set_expiration_time(crt, r->not_after), "not after");
	TRY(gnutls_x509_crt_set_key(crt, key), "public key");
	if (r->cn != NULL && *r->cn != '\0')
		TRY(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, r->cn,
		                                  (unsigned)strlen(r->cn)),
		    "common name");
	for (i = 0; i < r->ndns; i++)
		TRY(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, r->dns[i],
		                                         (unsigned)strlen(r->dns[i]),
		                                         GNUTLS_FSAN_APPEND),
		    "DNS subjectAltName");
	for (i = 0; i < r->nip; i++) {
		unsigned char ip[16];
		size_t iplen;

		if (pki_parse_ip(r->ip[i], ip, &iplen, e) < 0)
			goto out;
		TRY(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip,
		                                         (unsigned)iplen, GNUTLS_FSAN_APPEND),
		    "IP subjectAltName");
	}
	pk = gnutls_x509_privkey_get_pk_algorithm(key);
	if (r->ca) {
		/* CA:TRUE, pathlen 0: it signs leaves, not other CAs. */
		TRY(gnutls_x509_crt_set_basic_constraints(crt, 1, 0), "basicConstraints");
		usage = GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN |
		        GNUTLS_KEY_DIGITAL_SIGNATURE;
	} else {
		TRY(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "basicConstraints");
		usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
		if (pk == GNUTLS_PK_RSA)
			usage |= GNUTLS_KEY_KEY_ENCIPHERMENT;
		TRY(gnutls_x509_crt_set_key_purpose_oid(crt,
		                                        r->client ? GNUTLS_KP_TLS_WWW_CLIENT :
		                                                    GNUTLS_KP_TLS_WWW_SERVER,
		                                        0),
		    "extKeyUsage");
	}
	TRY(gnutls_x509_crt_set_key_usage(crt, usage), "keyUsage");
	TRY(gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA1, keyid, &idlen),
	    "key id");
	TRY(gnutls_x509_crt_set_subject_key_id(crt, keyid, idlen), "subjectKeyIdentifier");
	if (issuer != NULL) {
		unsigned char aki[64];
		size_t akilen = sizeof aki;
		unsigned crit;

		TRY(gnutls_x509_crt_get_subject_key_id(issuer, aki, &akilen, &crit),
		    "issuer has no subjectKeyIdentifier");
		TRY(gnutls_x509_crt_set_authority_key_id(crt, aki, akilen),
		    "authorityKeyIdentifier");
	} else {
		TRY(gnutls_x509_crt_set_authority_key_id(crt, keyid, idlen),
		    "authorityKeyIdentifier");
	}
	TRY(gnutls_privkey_init(&signer), "signer");
	TRY(gnutls_privkey_import_x509(signer, issuer_key ? issuer_key : key, 0), "signer");
	TRY(gnutls_x509_crt_privkey_sign(crt, issuer ? issuer : crt, signer,
	                                 sign_digest(signer), 0),
	    "signing");
	/* Hand back a re-imported copy: GnuTLS caches some parsed fields
	 * (subjectAltNames among them) only on import, so a certificate built
	 * in memory answers differently from the same one read from a file. */
	{
		gnutls_datum_t der = { NULL, 0 };

		TRY(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), "export");
		ret = gnutls_x509_crt_init(out);
		if (ret == 0)
			ret = gnutls_x509_crt_import(*out, &der, GNUTLS_X509_FMT_DER);
		gnutls_free(der.data);
		if (ret < 0) {
			if (*out != NULL)
				gnutls_x509_crt_deinit(*out);
			*out = NULL;
			err_set(e, ERR_FAIL, "re-import: %s", gnutls_strerror(ret));
			ret = -1;
			goto out;
		}
	}
	ret = 0;
out:
	if (signer != NULL)
		gnutls_privkey_deinit(signer);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return ret;
}

static int
push(char ***v, size_t *n, const char *s, size_t len)
{
	char **nv = realloc(*v, (*n + 1) * sizeof *nv);

	if (nv == NULL)
		return -1;
	*v = nv;
	nv[*n] = strndup(s, len);
	if (nv[*n] == NULL)
		return -1;
	(*n)++;
	return 0;
}

int
pki_get_sans(gnutls_x509_crt_t crt, struct pki_sans *s, struct err *e)
{
	unsigned i;

	memset(s, 0, sizeof *s);
	for (i = 0;; i++) {
		char buf[512];
		size_t len = sizeof buf;
		unsigned crit;
		int t = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &len, &crit);

		if (t == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (t == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue; /* absurdly long name: skip it */
		if (t < 0) {
			pki_sans_free(s);
			return err_set(e, ERR_FAIL, "subjectAltName: %s", gnutls_strerror(t));
		}
		if (t == GNUTLS_SAN_DNSNAME) {
			if (push(&s->dns, &s->ndns, buf, len) < 0)
				goto oom;
		} else if (t == GNUTLS_SAN_IPADDRESS) {
			char txt[INET6_ADDRSTRLEN];

			if (inet_ntop(len == 4 ? AF_INET : AF_INET6, buf, txt, sizeof txt) == NULL)
				continue;
			if (push(&s->ip, &s->nip, txt, strlen(txt)) < 0)
				goto oom;
		}
	}
	return 0;
oom:
	pki_sans_free(s);
	return err_set(e, ERR_FAIL, "out of memory");
}

void
pki_sans_free(struct pki_sans *s)
{
	size_t i;

	for (i = 0; i < s->ndns; i++)
		free(s->dns[i]);
	for (i = 0; i < s->nip; i++)
		free(s->ip[i]);
	free(s->dns);
	free(s->ip);
	memset(s, 0, sizeof *s);
}

bool
pki_has_purpose(gnutls_x509_crt_t crt, const char *oid)
{
	unsigned i;

	for (i = 0;; i++) {
		char buf[128];
		size_t len = sizeof buf;
		int rc = gnutls_x509_crt_get_key_purpose_oid(crt, i, buf, &len, NULL);

		if (rc < 0)
			return false;
		if (strcmp(buf, oid) == 0)
			return true;
	}
}

bool
pki_is_ca(gnutls_x509_crt_t crt)
{
	unsigned crit, ca = 0;
	int pathlen;

	return gnutls_x509_crt_get_basic_constraints(crt, &crit, &ca, &pathlen) >= 0 && ca;
}

void
pki_get_cn(gnutls_x509_crt_t crt, char *buf, size_t len)
{
	size_t l = len;

	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf,
	                                  &l) < 0)
		buf[0] = '\0';
}

int
pki_verify(gnutls_x509_crt_t *chain, unsigned n, gnutls_x509_crt_t ca,
           struct err *e)
{
	gnutls_x509_trust_list_t tl;
	gnutls_datum_t txt = { NULL, 0 };
	unsigned status = 0;
	int rc;

	rc = gnutls_x509_trust_list_init(&tl, 0);
	if (rc < 0)
		return err_set(e, ERR_FAIL, "trust list: %s", gnutls_strerror(rc));
	/* The list must own its copy: deinit(tl, 1) frees it. */
	{
		gnutls_x509_crt_t copy;
		gnutls_datum_t der = { NULL, 0 };

		if (gnutls_x509_crt_export2(ca, GNUTLS_X509_FMT_DER, &der) < 0 ||
		    gnutls_x509_crt_init(&copy) < 0) {
			gnutls_free(der.data);
			gnutls_x509_trust_list_deinit(tl, 1);
			return err_set(e, ERR_FAIL, "CA certificate: cannot copy");
		}
		rc = gnutls_x509_crt_import(copy, &der, GNUTLS_X509_FMT_DER);
		gnutls_free(der.data);
		if (rc < 0 || gnutls_x509_trust_list_add_cas(tl, &copy, 1, 0) != 1) {
			gnutls_x509_crt_deinit(copy);
			gnutls_x509_trust_list_deinit(tl, 1);
			return err_set(e, ERR_FAIL, "CA certificate: cannot add");
		}
	}
	rc = gnutls_x509_trust_list_verify_crt2(tl, chain, n, NULL, 0, 0, &status, NULL);
	gnutls_x509_trust_list_deinit(tl, 1);
	if (rc < 0)
		return err_set(e, ERR_FAIL, "verification failed: %s", gnutls_strerror(rc));
	if (status == 0)
		return 0;
	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &txt,
	                                                 0) == 0) {
		err_set(e, ERR_FAIL, "%s", (char *)txt.data);
		gnutls_free(txt.data);
		return -1;
	}
	return err_set(e, ERR_FAIL, "not trusted (status 0x%x)", status);
}

void
pki_fingerprint(gnutls_x509_crt_t crt, char *buf, size_t len)
{
	unsigned char fp[32];
	size_t fl = sizeof fp, i, o = 0;

	buf[0] = '\0';
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fl) < 0)
		return;
	for (i = 0; i < fl && o + 4 <= len; i++)
		o += (size_t)snprintf(buf + o, len - o, i ? ":%02X" : "%02X", fp[i]);
}

void
pki_serial_hex(gnutls_x509_crt_t crt, char *buf, size_t len)
{
	unsigned char s[64];
	size_t sl = sizeof s, i, o = 0;

	buf[0] = '\0';
	if (gnutls_x509_crt_get_serial(crt, s, &sl) < 0)
		return;
	for (i = 0; i < sl && o + 3 <= len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%02x", s[i]);
}

int
pki_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                 struct err *e)
{
	char tmp[4096], dir[4096];
	const char *p = data;
	int fd, saved;

	if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
		return err_set(e, ERR_FAIL, "%s: path too long", path);
	fd = mkstemp(tmp); /* 0600 from the start: a key is never readable */
	if (fd < 0) {
		snprintf(dir, sizeof dir, "%s", path);
		return err_set(e, ERR_FAIL, "%s: cannot write in %s: %s", path, dirname(dir),
		               strerror(errno));
	}
	if (fchmod(fd, mode) < 0)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	/* make the rename itself durable */
	snprintf(dir, sizeof dir, "%s", path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return err_set(e, ERR_FAIL, "%s: cannot write: %s", path, strerror(saved));
}
