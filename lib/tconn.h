/*
 * tconn.h: one client connection to an origin, plain TCP or TLS over
 * GnuTLS, with deadlines on every operation.
 *
 * This is the transport under edged's HTTP/1.1 origin client (and
 * edgecheck's probes).  TLS is verified (chain against the configured
 * trust, name against the origin's host name or IP, validity dates) inside
 * the handshake, so a connection that exists is a verified one; failures
 * say why (untrusted, name mismatch, expired).  Renegotiation is refused:
 * a HelloRequest from the server ends the connection with an error, and
 * we never start a handshake again.  Sessions resume from a per-origin
 * ticket cache (struct tconn_tls).
 *
 * Blocking sockets driven by poll() with an absolute deadline; one
 * connection is used by one thread at a time.  struct tconn_tls is shared
 * by every connection to one origin and is thread-safe.
 */
#ifndef EDGED_TCONN_H
#define EDGED_TCONN_H

#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Why a connection attempt failed, for metrics and the status to answer. */
enum tconn_fail {
	TCONN_OK = 0,
	TCONN_RESOLVE,  /* host name did not resolve */
	TCONN_REFUSED,  /* connection refused / unreachable */
	TCONN_TIMEOUT,  /* connect, handshake, read or write deadline passed */
	TCONN_TLS,      /* TLS protocol failure (incl. renegotiation refused) */
	TCONN_VERIFY,   /* certificate not trusted, wrong name, expired */
	TCONN_CLOSED,   /* the peer closed the connection */
	TCONN_IO,       /* other socket error */
};

const char *tconn_fail_name(enum tconn_fail f);

/* TLS settings shared by every connection to one origin. */
struct tconn_tls {
	gnutls_certificate_credentials_t cred; /* trust (+ optional client cert) */
	gnutls_priority_t prio;
	char sni[256];          /* server name sent ("" for an IP origin) */
	char verify_name[256];  /* name or IP checked against the certificate */
	pthread_mutex_t mu;     /* guards the resumption ticket */
	gnutls_datum_t ticket;  /* last session data, for resumption */
	unsigned long long resumed, full; /* handshake counters */
};

/* Set up TLS for an origin: trust ca_file (NULL: system store), optional
 * client certificate (cert_file/key_file, both or neither), minimum
 * version "TLSv1.2" or "TLSv1.3", an optional extra priority string
 * (NULL: X25519 first, AES-GCM before ChaCha20, AEAD only), the SNI and
 * verification name.  Errors name the file or setting. */
int tconn_tls_init(struct tconn_tls *t, const char *ca_file, const char *cert_file,
                   const char *key_file, const char *min_tls, const char *priority,
                   const char *sni, const char *verify_name, struct err *e);
void tconn_tls_free(struct tconn_tls *t);

struct tconn {
	int fd;
	gnutls_session_t tls;   /* NULL for plain TCP */
	struct tconn_tls *tcfg;
	bool resumed;
	enum tconn_fail fail;   /* reason of the last failure */
	char peer[64];          /* "addr:port" connected to */
};

/* Connect to host:port (resolving it), within timeout_ms, and when tls is
 * not NULL do a verified handshake within the same deadline.  Returns 0,
 * or -1 with c->fail and e saying why. */
int tconn_open(struct tconn *c, const char *host, int port, struct tconn_tls *tls,
               int timeout_ms, struct err *e);

/* Write all of buf before the absolute deadline (tconn_deadline()). */
int tconn_write(struct tconn *c, const void *buf, size_t len, int64_t deadline_ms,
                struct err *e);

/* Read up to len bytes before the deadline: >0 bytes, 0 at a clean end of
 * stream, -1 on error/timeout (c->fail says which). */
ssize_t tconn_read(struct tconn *c, void *buf, size_t len, int64_t deadline_ms,
                   struct err *e);

/* Has the peer closed, or sent something unasked, while idle?  For pooled
 * connections before reuse.  Never blocks. */
bool tconn_idle_broken(struct tconn *c);

/* Save the session for resumption (call after the first response, when a
 * TLS 1.3 ticket has arrived). */
void tconn_save_session(struct tconn *c);

void tconn_close(struct tconn *c);

/* Monotonic milliseconds, and now + ms. */
int64_t tconn_now_ms(void);
int64_t tconn_deadline(int ms);

/* Wait until fd is ready for events (POLLIN, POLLOUT) or the deadline
 * (tconn_now_ms() time) passes: 1 ready, 0 timeout, -1 error. */
int tconn_wait_fd(int fd, short events, int64_t deadline);

#endif
