/*
 * pki.h: the X.509 work behind edgecert (and edgecheck's certificate
 * facts), on GnuTLS's X.509 API.
 *
 * Key generation for the five key types we support, certificate requests
 * turned into signed CA or leaf certificates with the extensions a TLS
 * stack expects (basicConstraints, keyUsage, extKeyUsage, SAN, SKI/AKI,
 * random positive 16-byte serials), verification of a certificate against
 * a CA, the facts inspect prints, and crash-safe file writes.
 *
 * All functions return 0 or -1 with a filled struct err; objects returned
 * through pointers belong to the caller.
 */
#ifndef EDGED_PKI_H
#define EDGED_PKI_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"

enum pki_keytype {
	PKI_KEY_ECDSA_P256,
	PKI_KEY_ECDSA_P384,
	PKI_KEY_RSA_2048,
	PKI_KEY_RSA_3072,
	PKI_KEY_ED25519,
	PKI_KEY_OTHER, /* found in a certificate, not one we generate */
};

#define PKI_KEYTYPES "ecdsa-p256|ecdsa-p384|rsa-2048|rsa-3072|ed25519"

int pki_keytype_parse(const char *s, enum pki_keytype *t, struct err *e);
const char *pki_keytype_name(enum pki_keytype t);

/* The key type of a certificate's public key, and its size in bits. */
enum pki_keytype pki_keytype_of_crt(gnutls_x509_crt_t crt, unsigned *bits);

int pki_key_new(enum pki_keytype t, gnutls_x509_privkey_t *key, struct err *e);

/* PEM exports; free out->data with gnutls_free. Keys are PKCS#8. */
int pki_key_pem(gnutls_x509_privkey_t key, gnutls_datum_t *out, struct err *e);
int pki_crt_pem(gnutls_x509_crt_t crt, gnutls_datum_t *out, struct err *e);

/* A DNS name fit for a subjectAltName: LDH labels of 1-63 characters, 253
 * in all, at least one dot unless "localhost", an optional leading "*."
 * wildcard label, no trailing dot.  Lower-cased copy in out (size 256). */
int pki_check_dns(const char *name, char *out, struct err *e);

/* An IPv4 or IPv6 address as raw bytes (4 or 16). */
int pki_parse_ip(const char *s, unsigned char ip[16], size_t *len,
                 struct err *e);

/* A NAME usable as a file stem in the directory: 1-200 of [A-Za-z0-9._-],
 * not starting with '.' or '-', not "ca", not ending in ".chain". */
int pki_check_name(const char *name, struct err *e);

/* "2026-01-31", "2026-01-31T12:00:00Z" (UTC) -> time_t. */
int pki_parse_time(const char *s, time_t *t, struct err *e);
/* time_t -> "2026-01-31T12:00:00Z" into buf (size >= 21). */
const char *pki_fmt_time(time_t t, char *buf, size_t len);

struct pki_req {
	const char *cn;
	char **dns;     /* validated names, see pki_check_dns */
	size_t ndns;
	char **ip;      /* textual addresses */
	size_t nip;
	bool ca;        /* a CA certificate (self-signed when issuer is NULL) */
	bool client;    /* clientAuth instead of serverAuth */
	time_t not_before, not_after;
};

/* Build and sign a certificate for key.  issuer/issuer_key NULL: self-
 * signed (r->ca must be set).  *out is the caller's. */
int pki_sign(const struct pki_req *r, gnutls_x509_privkey_t key,
             gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key,
             gnutls_x509_crt_t *out, struct err *e);

/* The subjectAltNames of crt: DNS names and IP addresses as text.  Free
 * with pki_sans_free. */
struct pki_sans {
	char **dns;
	size_t ndns;
	char **ip;
	size_t nip;
};
int pki_get_sans(gnutls_x509_crt_t crt, struct pki_sans *s, struct err *e);
void pki_sans_free(struct pki_sans *s);

/* Purposes found in extKeyUsage. */
bool pki_has_purpose(gnutls_x509_crt_t crt, const char *oid);
bool pki_is_ca(gnutls_x509_crt_t crt);

/* The certificate's common name into buf ("" if none). */
void pki_get_cn(gnutls_x509_crt_t crt, char *buf, size_t len);

/* Does chain[0..n) verify up to ca at the current time?  On failure the
 * reason (GnuTLS's words: expired, signer not found...) is in e. */
int pki_verify(gnutls_x509_crt_t *chain, unsigned n, gnutls_x509_crt_t ca,
               struct err *e);

/* SHA-256 fingerprint as "AB:CD:..." (buf >= 96). */
void pki_fingerprint(gnutls_x509_crt_t crt, char *buf, size_t len);
/* Serial as lower-case hex (buf >= 41). */
void pki_serial_hex(gnutls_x509_crt_t crt, char *buf, size_t len);

/* Write data to path through a temporary file in the same directory,
 * fsync'd and renamed over path, created with mode (0600 for keys): a
 * reader sees the old file or the new one, never a part. */
int pki_write_atomic(const char *path, const void *data, size_t len,
                     mode_t mode, struct err *e);

#endif
