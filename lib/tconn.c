/*
 * tconn.c: see tconn.h.  Sockets are non-blocking; every wait is a poll()
 * bounded by the caller's absolute deadline, so no origin can hold a
 * thread longer than the timeouts edged was given.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tconn.h"
#include "tls.h"

/* X25519 first, AES-GCM before ChaCha20 (5x slower in Debian 12's
 * GnuTLS), ECDHE and AEAD only. */
#define BASE_PRIORITY \
	"NONE:%s+ECDHE-ECDSA:+ECDHE-RSA:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" \
	"+AEAD:+SIGN-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+COMP-NULL:" \
	"+CTYPE-X509"

const char *
tconn_fail_name(enum tconn_fail f)
{
	static const char *n[] = { "ok", "resolve", "refused", "timeout", "tls",
	                           "verify", "closed", "io" };

	return (unsigned)f < sizeof n / sizeof n[0] ? n[f] : "?";
}

int64_t
tconn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
tconn_deadline(int ms)
{
	return tconn_now_ms() + ms;
}

static bool
is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int
tconn_tls_init(struct tconn_tls *t, const char *ca_file, const char *cert_file,
               const char *key_file, const char *min_tls, const char *priority,
               const char *sni, const char *verify_name, struct err *e)
{
	char prio[1024];
	int rc;

	memset(t, 0, sizeof *t);
	pthread_mutex_init(&t->mu, NULL);
	if (min_tls == NULL || strcmp(min_tls, "TLSv1.2") == 0)
		snprintf(prio, sizeof prio, BASE_PRIORITY, "+VERS-TLS1.3:+VERS-TLS1.2:");
	else if (strcmp(min_tls, "TLSv1.3") == 0)
		snprintf(prio, sizeof prio, BASE_PRIORITY, "+VERS-TLS1.3:");
	else
		return err_set(e, ERR_USAGE, "minimum TLS version '%s': use TLSv1.2 or TLSv1.3",
		               min_tls);
	if (tls_priority_init(priority ? priority : prio, &t->prio, e) < 0)
		return -1;
	rc = gnutls_certificate_allocate_credentials(&t->cred);
	if (rc < 0)
		return err_set(e, ERR_FAIL, "TLS credentials: %s", gnutls_strerror(rc));
	if (tls_cred_set_ca(t->cred, ca_file, e) < 0)
		goto fail;
	if ((cert_file == NULL) != (key_file == NULL)) {
		err_set(e, ERR_USAGE, "a client certificate needs both a certificate and a key");
		goto fail;
	}
	if (cert_file != NULL && tls_cred_add_pair(t->cred, cert_file, key_file, NULL, e) < 0)
		goto fail;
	/* SNI carries host names only (RFC 6066 3): never an IP literal */
	snprintf(t->sni, sizeof t->sni, "%s", sni && !is_ip(sni) ? sni : "");
	snprintf(t->verify_name, sizeof t->verify_name, "%s", verify_name);
	return 0;
fail:
	tconn_tls_free(t);
	return -1;
}

void
tconn_tls_free(struct tconn_tls *t)
{
	if (t->cred != NULL)
		gnutls_certificate_free_credentials(t->cred);
	if (t->prio != NULL)
		gnutls_priority_deinit(t->prio);
	gnutls_free(t->ticket.data);
	pthread_mutex_destroy(&t->mu);
	memset(t, 0, sizeof *t);
}

int
tconn_wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		int64_t left = deadline - tconn_now_ms();
		int rc;

		if (left <= 0)
			return 0;
		rc = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

static int
fail(struct tconn *c, enum tconn_fail why, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
fail(struct tconn *c, enum tconn_fail why, struct err *e, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->fail = why;
	return err_set(e, ERR_FAIL, "%s", msg);
}

static int
connect_one(struct tconn *c, const struct addrinfo *ai, int64_t deadline, struct err *e)
{
	int fd, one = 1, soerr = 0, rc;
	socklen_t sl = sizeof soerr;
	char host[INET6_ADDRSTRLEN], serv[8];

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            ai->ai_protocol);
	if (fd < 0)
		return fail(c, TCONN_IO, e, "socket: %s", strerror(errno));
	getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, serv, sizeof serv,
	            NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(c->peer, sizeof c->peer, "%s%s%s:%s", ai->ai_family == AF_INET6 ? "[" : "",
	         host, ai->ai_family == AF_INET6 ? "]" : "", serv);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		int err = errno;

		close(fd);
		return fail(c, TCONN_REFUSED, e, "connect %s: %s", c->peer, strerror(err));
	}
	rc = tconn_wait_fd(fd, POLLOUT, deadline);
	if (rc == 0) {
		close(fd);
		return fail(c, TCONN_TIMEOUT, e, "connect %s: timed out", c->peer);
	}
	if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
		close(fd);
		return fail(c, TCONN_REFUSED, e, "connect %s: %s", c->peer,
		            strerror(soerr ? soerr : errno));
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	return 0;
}

static int
handshake(struct tconn *c, int64_t deadline, struct err *e)
{
	struct tconn_tls *t = c->tcfg;
	gnutls_session_t s;
	int rc;

	rc = gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (rc < 0)
		return fail(c, TCONN_TLS, e, "TLS: %s", gnutls_strerror(rc));
	c->tls = s;
	gnutls_priority_set(s, t->prio);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, t->cred);
	if (t->sni[0] != '\0')
		gnutls_server_name_set(s, GNUTLS_NAME_DNS, t->sni, strlen(t->sni));
	/* chain, dates and name are checked inside the handshake */
	gnutls_session_set_verify_cert(s, t->verify_name, 0);
	gnutls_transport_set_int(s, c->fd);
	pthread_mutex_lock(&t->mu);
	if (t->ticket.data != NULL)
		gnutls_session_set_data(s, t->ticket.data, t->ticket.size);
	pthread_mutex_unlock(&t->mu);
	for (;;) {
		rc = gnutls_handshake(s);
		if (rc == GNUTLS_E_SUCCESS)
			break;
		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
			int w = tconn_wait_fd(c->fd, gnutls_record_get_direction(s) ? POLLOUT : POLLIN,
			                deadline);

			if (w == 0)
				return fail(c, TCONN_TIMEOUT, e, "TLS handshake with %s: timed out",
				            c->peer);
			if (w < 0)
				return fail(c, TCONN_IO, e, "TLS handshake with %s: %s", c->peer,
				            strerror(errno));
			continue;
		}
		if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
			gnutls_datum_t out = { NULL, 0 };
			unsigned st = gnutls_session_get_verify_cert_status(s);
			char why[256];

			size_t wl;

			gnutls_certificate_verification_status_print(st, GNUTLS_CRT_X509, &out, 0);
			snprintf(why, sizeof why, "%s", out.data ? (char *)out.data : "untrusted");
			gnutls_free(out.data);
			wl = strlen(why);
			while (wl > 0 && (why[wl - 1] == ' ' || why[wl - 1] == '.'))
				why[--wl] = '\0';
			return fail(c, TCONN_VERIFY, e, "origin certificate for '%s' at %s "
			            "rejected: %s", t->verify_name, c->peer, why);
		}
		/* the origin went away mid-handshake: a connection failure (worth
		 * another attempt), not a TLS disagreement */
		if (rc == GNUTLS_E_PULL_ERROR || rc == GNUTLS_E_PUSH_ERROR ||
		    rc == GNUTLS_E_PREMATURE_TERMINATION)
			return fail(c, TCONN_CLOSED, e, "TLS handshake with %s: connection %s",
			            c->peer, rc == GNUTLS_E_PREMATURE_TERMINATION ? "closed" :
			            errno ? strerror(errno) : "lost");
		if (gnutls_error_is_fatal(rc))
			return fail(c, TCONN_TLS, e, "TLS handshake with %s: %s", c->peer,
			            gnutls_strerror(rc));
	}
	c->resumed = gnutls_session_is_resumed(s) != 0;
	pthread_mutex_lock(&t->mu);
	if (c->resumed)
		t->resumed++;
	else
		t->full++;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

int
tconn_open(struct tconn *c, const char *host, int port, struct tconn_tls *tls,
           int timeout_ms, struct err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	char serv[8];
	int64_t deadline = tconn_deadline(timeout_ms);
	int rc;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->tcfg = tls;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	snprintf(serv, sizeof serv, "%d", port);
	rc = getaddrinfo(host, serv, &hints, &res);
	if (rc != 0)
		return fail(c, TCONN_RESOLVE, e, "resolve %s: %s", host, gai_strerror(rc));
	rc = -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		rc = connect_one(c, ai, deadline, e);
		if (rc == 0 || c->fail == TCONN_TIMEOUT)
			break;
	}
	freeaddrinfo(res);
	if (rc < 0)
		return -1;
	if (tls != NULL && handshake(c, deadline, e) < 0) {
		enum tconn_fail f = c->fail;

		tconn_close(c);
		c->fail = f;
		return -1;
	}
	return 0;
}

int
tconn_write(struct tconn *c, const void *buf, size_t len, int64_t deadline_ms,
            struct err *e)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n;

		if (c->tls != NULL)
			n = gnutls_record_send(c->tls, p, len);
		else
			n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if ((c->tls != NULL && (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)) ||
		    (c->tls == NULL && n < 0 && (errno == EAGAIN || errno == EINTR))) {
			int w = tconn_wait_fd(c->fd, POLLOUT, deadline_ms);

			if (w == 0)
				return fail(c, TCONN_TIMEOUT, e, "write to %s: timed out", c->peer);
			if (w < 0)
				return fail(c, TCONN_IO, e, "write to %s: %s", c->peer, strerror(errno));
			continue;
		}
		if (c->tls != NULL)
			return fail(c, TCONN_CLOSED, e, "write to %s: %s", c->peer,
			            gnutls_strerror((int)n));
		return fail(c, errno == EPIPE || errno == ECONNRESET ? TCONN_CLOSED : TCONN_IO, e,
		            "write to %s: %s", c->peer, strerror(errno));
	}
	return 0;
}

ssize_t
tconn_read(struct tconn *c, void *buf, size_t len, int64_t deadline_ms, struct err *e)
{
	for (;;) {
		ssize_t n;

		if (c->tls != NULL) {
			n = gnutls_record_recv(c->tls, buf, len);
			if (n >= 0)
				return n;
			if (n == GNUTLS_E_REHANDSHAKE)
				return fail(c, TCONN_TLS, e, "%s asked to renegotiate: refused",
				            c->peer);
			if (n == GNUTLS_E_PREMATURE_TERMINATION)
				return fail(c, TCONN_CLOSED, e, "%s closed the connection without "
				            "close_notify", c->peer);
			if (n == GNUTLS_E_PULL_ERROR) /* the socket's recv() failed, as below */
				return fail(c, errno == ECONNRESET ? TCONN_CLOSED : TCONN_IO, e,
				            "read from %s: %s", c->peer, strerror(errno));
			if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED)
				return fail(c, gnutls_error_is_fatal((int)n) ? TCONN_TLS : TCONN_IO, e,
				            "read from %s: %s", c->peer, gnutls_strerror((int)n));
		} else {
			n = recv(c->fd, buf, len, 0);
			if (n >= 0)
				return n;
			if (errno != EAGAIN && errno != EINTR)
				return fail(c, errno == ECONNRESET ? TCONN_CLOSED : TCONN_IO, e,
				            "read from %s: %s", c->peer, strerror(errno));
		}
		{
			int w = tconn_wait_fd(c->fd, POLLIN, deadline_ms);

			if (w == 0)
				return fail(c, TCONN_TIMEOUT, e, "read from %s: timed out", c->peer);
			if (w < 0)
				return fail(c, TCONN_IO, e, "read from %s: %s", c->peer, strerror(errno));
		}
	}
}

bool
tconn_idle_broken(struct tconn *c)
{
	struct pollfd p = { c->fd, POLLIN, 0 };

	if (c->fd < 0)
		return true;
	if (c->tls != NULL && gnutls_record_check_pending(c->tls) > 0)
		return true; /* data nobody asked for */
	if (poll(&p, 1, 0) == 0)
		return false;
	/* readable while idle: EOF, a reset, an alert, or junk: all unusable */
	return true;
}

void
tconn_save_session(struct tconn *c)
{
	gnutls_datum_t d = { NULL, 0 };

	if (c->tls == NULL || c->resumed)
		return;
	if (gnutls_protocol_get_version(c->tls) == GNUTLS_TLS1_3 &&
	    !(gnutls_session_get_flags(c->tls) & GNUTLS_SFLAGS_SESSION_TICKET))
		return; /* no ticket yet */
	if (gnutls_session_get_data2(c->tls, &d) < 0)
		return;
	pthread_mutex_lock(&c->tcfg->mu);
	gnutls_free(c->tcfg->ticket.data);
	c->tcfg->ticket = d;
	pthread_mutex_unlock(&c->tcfg->mu);
}

void
tconn_close(struct tconn *c)
{
	if (c->tls != NULL) {
		/* best effort close_notify; never wait for the peer's */
		gnutls_bye(c->tls, GNUTLS_SHUT_WR);
		gnutls_deinit(c->tls);
		c->tls = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
