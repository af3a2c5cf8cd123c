/*
 * tls.h: GnuTLS set-up shared by edged, origind and the tools.
 *
 * Loading certificates, keys and CA bundles with errors that name the file
 * and give GnuTLS's reason; checking that a key belongs to its certificate;
 * compiling priority strings with the position of the first bad token.
 * Every loader returns 0 or -1 with a filled struct err.  Objects returned
 * through pointers belong to the caller (deinit them with GnuTLS).
 */
#ifndef EDGED_TLS_H
#define EDGED_TLS_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <time.h>

#include "err.h"

/* The TLS 1.2/1.3 signature algorithms the servers (edged's viewer
 * policies, origind's default) accept, for priority strings built from
 * NONE: GnuTLS's SIGN-ALL without SHA-1 (RSA-SHA1, ECDSA-SHA1), in its
 * order.  TLS 1.0 and 1.1 (edged's two legacy policies only) have no
 * signature_algorithms and sign with MD5+SHA-1 / SHA-1 by protocol. */
#define TLS_SIGNS \
	"+SIGN-RSA-SHA256:+SIGN-RSA-PSS-SHA256:+SIGN-RSA-PSS-RSAE-SHA256:" \
	"+SIGN-ECDSA-SHA256:+SIGN-ECDSA-SECP256R1-SHA256:+SIGN-EdDSA-Ed25519:" \
	"+SIGN-RSA-SHA384:+SIGN-RSA-PSS-SHA384:+SIGN-RSA-PSS-RSAE-SHA384:" \
	"+SIGN-ECDSA-SHA384:+SIGN-ECDSA-SECP384R1-SHA384:+SIGN-EdDSA-Ed448:" \
	"+SIGN-RSA-SHA512:+SIGN-RSA-PSS-SHA512:+SIGN-RSA-PSS-RSAE-SHA512:" \
	"+SIGN-ECDSA-SHA512:+SIGN-ECDSA-SECP521R1-SHA512"

/* gnutls_global_init with a version check; call once per process. */
int tls_init(struct err *e);
void tls_deinit(void);

/* Read a whole file into d (gnutls_free(d->data) when done). */
int tls_read_file(const char *path, gnutls_datum_t *d, struct err *e);

/* All certificates of a PEM (or DER) file, in file order.  Free with
 * tls_free_certs.  A file with no certificate is an error. */
int tls_load_certs(const char *path, gnutls_x509_crt_t **list, unsigned *n,
                   struct err *e);
void tls_free_certs(gnutls_x509_crt_t *list, unsigned n);

/* An unencrypted private key (PKCS#8, PKCS#1 or SEC1; PEM or DER). */
int tls_load_key(const char *path, gnutls_x509_privkey_t *key, struct err *e);

/* 1 when key is the private half of crt's public key, 0 when not. */
int tls_key_matches(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key);

/* What tls_cred_add_pair learnt about the pair it loaded. */
struct tls_pair_info {
	time_t not_before, not_after; /* of the leaf */
	unsigned chain_len;           /* certificates in the file */
};

/* Add a certificate chain file + key file to cred (as the next pair for
 * SNI selection).  Fails, naming the file, if either cannot be read or
 * parsed, or if the key does not belong to the first certificate. */
int tls_cred_add_pair(gnutls_certificate_credentials_t cred,
                      const char *cert_path, const char *key_path,
                      struct tls_pair_info *info, struct err *e);

/* Trust the CA certificates in path (NULL: the system store).  A file
 * without certificates is an error. */
int tls_cred_set_ca(gnutls_certificate_credentials_t cred, const char *path,
                    struct err *e);

/* Compile a priority string; the error shows where it stops making sense. */
int tls_priority_init(const char *prio, gnutls_priority_t *out, struct err *e);

#endif
