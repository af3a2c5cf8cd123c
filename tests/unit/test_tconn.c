/*
 * test_tconn.c: the origin transport against a real GnuTLS server run in a
 * thread of the test: verified handshakes, every verification failure
 * with its reason, refused and timed-out connects, a handshake that never
 * comes, resumption, and a server's renegotiation request refused.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pki.h"
#include "tconn.h"
#include "tls.h"

enum behaviour { SERVE, SILENT, RENEGOTIATE };

struct server {
	int lfd, port;
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t ticket_key;
	enum behaviour how;
	int conns;           /* connections to serve, then exit */
	pthread_t th;
};

static char dir[64], ca_pem[128];
static gnutls_x509_crt_t ca_crt;
static gnutls_x509_privkey_t ca_key;

static void
write_pem(const char *path, gnutls_x509_crt_t c, gnutls_x509_privkey_t k)
{
	gnutls_datum_t d;
	struct err e;

	if (c != NULL) {
		cr_assert_eq(pki_crt_pem(c, &d, &e), 0);
	} else {
		cr_assert_eq(pki_key_pem(k, &d, &e), 0);
	}
	cr_assert_eq(pki_write_atomic(path, d.data, d.size, 0600, &e), 0, "%s", e.msg);
	gnutls_free(d.data);
}

/* A leaf for names, valid from nb to na, written as NAME.pem/NAME.key. */
static void
make_leaf(const char *name, const char *dns, const char *ip, time_t nb, time_t na)
{
	char *dv[] = { (char *)dns }, *iv[] = { (char *)ip }, path[256];
	struct pki_req r = { 0 };
	gnutls_x509_privkey_t k;
	gnutls_x509_crt_t c;
	struct err e;

	r.cn = name;
	r.dns = dv;
	r.ndns = dns ? 1 : 0;
	r.ip = iv;
	r.nip = ip ? 1 : 0;
	r.not_before = nb;
	r.not_after = na;
	cr_assert_eq(pki_key_new(PKI_KEY_ECDSA_P256, &k, &e), 0);
	cr_assert_eq(pki_sign(&r, k, ca_crt, ca_key, &c, &e), 0, "%s", e.msg);
	snprintf(path, sizeof path, "%s/%s.pem", dir, name);
	write_pem(path, c, NULL);
	snprintf(path, sizeof path, "%s/%s.key", dir, name);
	write_pem(path, NULL, k);
	gnutls_x509_crt_deinit(c);
	gnutls_x509_privkey_deinit(k);
}

static void
setup(void)
{
	struct pki_req r = { 0 };
	struct err e;
	time_t now = time(NULL);

	cr_assert_eq(tls_init(&e), 0);
	snprintf(dir, sizeof dir, "/tmp/edged-tconn-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	r.cn = "Test CA";
	r.ca = true;
	r.not_before = now - 3600;
	r.not_after = now + 86400;
	cr_assert_eq(pki_key_new(PKI_KEY_ECDSA_P256, &ca_key, &e), 0);
	cr_assert_eq(pki_sign(&r, ca_key, NULL, NULL, &ca_crt, &e), 0);
	snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", dir);
	write_pem(ca_pem, ca_crt, NULL);
	make_leaf("good", "origin.test", "127.0.0.1", now - 60, now + 3600);
	make_leaf("old", "origin.test", "127.0.0.1", now - 7200, now - 3600);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
	gnutls_x509_crt_deinit(ca_crt);
	gnutls_x509_privkey_deinit(ca_key);
	tls_deinit();
}

TestSuite(tconn, .init = setup, .fini = teardown, .timeout = 30);

static void *
serve(void *arg)
{
	struct server *s = arg;
	int i;

	for (i = 0; i < s->conns; i++) {
		int fd = accept(s->lfd, NULL, NULL);
		gnutls_session_t ss;
		char buf[256];

		if (fd < 0)
			break;
		if (s->how == SILENT) { /* accept, then say nothing */
			sleep(3);
			close(fd);
			continue;
		}
		gnutls_init(&ss, GNUTLS_SERVER);
		gnutls_priority_set_direct(ss, s->how == RENEGOTIATE ?
		                           "NORMAL:-VERS-ALL:+VERS-TLS1.2" : "NORMAL", NULL);
		gnutls_credentials_set(ss, GNUTLS_CRD_CERTIFICATE, s->cred);
		gnutls_session_ticket_enable_server(ss, &s->ticket_key);
		gnutls_transport_set_int(ss, fd);
		if (gnutls_handshake(ss) == 0) {
			if (s->how == RENEGOTIATE) {
				gnutls_rehandshake(ss); /* a HelloRequest */
				(void)gnutls_record_recv(ss, buf, sizeof buf);
			} else {
				ssize_t n = gnutls_record_recv(ss, buf, sizeof buf);

				if (n > 0)
					gnutls_record_send(ss, buf, (size_t)n); /* echo */
				gnutls_bye(ss, GNUTLS_SHUT_WR);
			}
		}
		gnutls_deinit(ss);
		close(fd);
	}
	return NULL;
}

static void
start_server(struct server *s, const char *leaf, enum behaviour how, int conns)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	char cp[256], kp[256];
	struct err e;

	memset(s, 0, sizeof *s);
	s->how = how;
	s->conns = conns;
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(listen(s->lfd, 8), 0);
	getsockname(s->lfd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	gnutls_certificate_allocate_credentials(&s->cred);
	snprintf(cp, sizeof cp, "%s/%s.pem", dir, leaf);
	snprintf(kp, sizeof kp, "%s/%s.key", dir, leaf);
	cr_assert_eq(tls_cred_add_pair(s->cred, cp, kp, NULL, &e), 0, "%s", e.msg);
	gnutls_session_ticket_key_generate(&s->ticket_key);
	pthread_create(&s->th, NULL, serve, s);
}

static void
stop_server(struct server *s)
{
	shutdown(s->lfd, SHUT_RDWR);
	pthread_join(s->th, NULL);
	close(s->lfd);
	gnutls_certificate_free_credentials(s->cred);
	gnutls_free(s->ticket_key.data);
}

static struct tconn_tls tt;

static void
tls_for(const char *name)
{
	struct err e;

	cr_assert_eq(tconn_tls_init(&tt, ca_pem, NULL, NULL, "TLSv1.2", NULL, name, name, &e),
	             0, "%s", e.msg);
}

/* One echo round trip over c. */
static void
echo(struct tconn *c)
{
	struct err e;
	char buf[16] = "";

	cr_assert_eq(tconn_write(c, "ping", 4, tconn_deadline(2000), &e), 0, "%s", e.msg);
	cr_assert_eq(tconn_read(c, buf, sizeof buf, tconn_deadline(2000), &e), 4, "%s", e.msg);
	cr_expect_eq(memcmp(buf, "ping", 4), 0);
}

Test(tconn, verified_by_name_and_by_ip)
{
	struct server s;
	struct tconn c;
	struct err e;

	start_server(&s, "good", SERVE, 2);
	tls_for("origin.test");
	cr_assert_eq(tconn_open(&c, "127.0.0.1", s.port, &tt, 2000, &e), 0, "%s", e.msg);
	echo(&c);
	tconn_close(&c);
	tconn_tls_free(&tt);
	tls_for("127.0.0.1"); /* IP SAN; no SNI is sent for an IP */
	cr_expect_str_eq(tt.sni, "");
	cr_assert_eq(tconn_open(&c, "127.0.0.1", s.port, &tt, 2000, &e), 0, "%s", e.msg);
	echo(&c);
	tconn_close(&c);
	tconn_tls_free(&tt);
	stop_server(&s);
}

Test(tconn, wrong_name_is_refused)
{
	struct server s;
	struct tconn c;
	struct err e;

	start_server(&s, "good", SERVE, 1);
	tls_for("other.test");
	cr_assert_eq(tconn_open(&c, "127.0.0.1", s.port, &tt, 2000, &e), -1);
	cr_expect_eq(c.fail, TCONN_VERIFY);
	cr_expect_not_null(strstr(e.msg, "other.test"), "%s", e.msg);
	cr_expect_not_null(strstr(e.msg, "does not match"), "%s", e.msg);
	cr_expect_eq(c.fd, -1);
	tconn_tls_free(&tt);
	stop_server(&s);
}

Test(tconn, expired_is_refused)
{
	struct server s;
	struct tconn c;
	struct err e;

	start_server(&s, "old", SERVE, 1);
	tls_for("origin.test");
	cr_assert_eq(tconn_open(&c, "127.0.0.1", s.port, &tt, 2000, &e), -1);
	cr_expect_eq(c.fail, TCONN_VERIFY);
	cr_expect_not_null(strstr(e.msg, "expired"), "%s", e.msg);
	tconn_tls_free(&tt);
	stop_server(&s);
}

Test(tconn, untrusted_is_refused)
{
	struct server s;
	struct tconn c;
	struct err e;

	start_server(&s, "good", SERVE, 1);
	/* trust only the leaf's own file: not a CA that signed it */
	{
		char other[256];

		snprintf(other, sizeof other, "%s/old.pem", dir);
		cr_assert_eq(tconn_tls_init(&tt, other, NULL, NULL, NULL, NULL, "origin.test",
		                            "origin.test", &e), 0, "%s", e.msg);
	}
	cr_assert_eq(tconn_open(&c, "127.0.0.1", s.port, &tt, 2000, &e), -1);
	cr_expect_eq(c.fail, TCONN_VERIFY);
	cr_expect_not_null(strstr(e.msg, "not trusted") ? e.msg : strstr(e.msg, "issuer"),
	                   "%s", e.msg);
	tconn_tls_free(&tt);
	stop_server(&s);
}

Test(tconn, refused_and_handshake_timeout)
{
	struct server s;
	struct tconn c;
	struct err e;
	int64_t t0;
	int port;

	start_server(&s, "good", SILENT, 1);
	port = s.port;
	tls_for("origin.test");
	t0 = tconn_now_ms();
	cr_assert_eq(tconn_open(&c, "127.0.0.1", port, &tt, 500, &e), -1);
	cr_expect_eq(c.fail, TCONN_TIMEOUT, "%s", e.msg);
	/* a bound, not a speed: the silent server hangs up after 3 s */
	cr_log_info("a silent server: gave up after %lld ms (deadline 500 ms)",
	            (long long)(tconn_now_ms() - t0));
	cr_expect_lt(tconn_now_ms() - t0, 2900, "the deadline was not kept");
	stop_server(&s);
	cr_assert_eq(tconn_open(&c, "127.0.0.1", port, &tt, 500, &e), -1);
	cr_expect_eq(c.fail, TCONN_REFUSED, "%s", e.msg);
	cr_expect_eq(tconn_open(&c, "no-such-host.invalid", 443, &tt, 500, &e), -1);
	cr_expect_eq(c.fail, TCONN_RESOLVE, "%s", e.msg);
	tconn_tls_free(&tt);
}

Test(tconn, resumption)
{
	struct server s;
	struct tconn c;
	struct err e;

	start_server(&s, "good", SERVE, 2);
	tls_for("origin.test");
	cr_assert_eq(tconn_open(&c, "127.0.0.1", s.port, &tt, 2000, &e), 0, "%s", e.msg);
	cr_expect_not(c.resumed);
	echo(&c); /* the TLS 1.3 ticket arrives with the first records */
	tconn_save_session(&c);
	tconn_close(&c);
	cr_assert_eq(tconn_open(&c, "127.0.0.1", s.port, &tt, 2000, &e), 0, "%s", e.msg);
	cr_expect(c.resumed, "second connection was not resumed");
	echo(&c);
	tconn_close(&c);
	cr_expect_eq(tt.full, 1);
	cr_expect_eq(tt.resumed, 1);
	tconn_tls_free(&tt);
	stop_server(&s);
}

Test(tconn, renegotiation_is_refused)
{
	struct server s;
	struct tconn c;
	struct err e;
	char buf[16];

	start_server(&s, "good", RENEGOTIATE, 1);
	tls_for("origin.test");
	cr_assert_eq(tconn_open(&c, "127.0.0.1", s.port, &tt, 2000, &e), 0, "%s", e.msg);
	cr_expect_eq(tconn_read(&c, buf, sizeof buf, tconn_deadline(2000), &e), -1);
	cr_expect_eq(c.fail, TCONN_TLS);
	cr_expect_not_null(strstr(e.msg, "renegotiate: refused"), "%s", e.msg);
	tconn_close(&c);
	tconn_tls_free(&tt);
	stop_server(&s);
}

Test(tconn, min_tls_and_bad_settings)
{
	struct err e;

	cr_expect_eq(tconn_tls_init(&tt, ca_pem, NULL, NULL, "TLSv1.1", NULL, "a", "a", &e), -1);
	cr_expect_str_eq(e.msg, "minimum TLS version 'TLSv1.1': use TLSv1.2 or TLSv1.3");
	cr_expect_eq(tconn_tls_init(&tt, "/nonexistent/ca.pem", NULL, NULL, NULL, NULL, "a",
	                            "a", &e), -1);
	cr_expect_str_eq(e.msg, "/nonexistent/ca.pem: No such file or directory");
	cr_expect_eq(tconn_tls_init(&tt, ca_pem, ca_pem, NULL, NULL, NULL, "a", "a", &e), -1);
	cr_expect_eq(e.code, ERR_USAGE);
}
