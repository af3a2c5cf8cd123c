/*
 * test_tickets.c: rotating session-ticket keys, with real GnuTLS
 * handshakes in memory (no sockets, no clock): a ticket resumes under its
 * own key and under the next one (the previous key), not after a second
 * rotation, in TLS 1.2 and 1.3; and the ClientHello scanner finds the
 * tickets in hand-built messages and refuses malformed ones.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "log.h"
#include "pki.h"
#include "tickets.h"
#include "tls.h"

/* ---- an in-memory client/server pair ------------------------------------ */

struct pipe {
	unsigned char buf[65536];
	size_t len;
};

struct end {
	gnutls_session_t s;
	struct pipe *in, *out;
};

static ssize_t
push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct end *e = p;

	if (len > sizeof e->out->buf - e->out->len) {
		gnutls_transport_set_errno(e->s, ENOSPC);
		return -1;
	}
	memcpy(e->out->buf + e->out->len, data, len);
	e->out->len += len;
	return (ssize_t)len;
}

static ssize_t
pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct end *e = p;

	if (e->in->len == 0) {
		gnutls_transport_set_errno(e->s, EAGAIN);
		return -1;
	}
	if (len > e->in->len)
		len = e->in->len;
	memcpy(data, e->in->buf, len);
	memmove(e->in->buf, e->in->buf + len, e->in->len - len);
	e->in->len -= len;
	return (ssize_t)len;
}

static gnutls_certificate_credentials_t server_cred, client_cred;

static void
setup(void)
{
	struct pki_req r = { 0 };
	gnutls_x509_privkey_t k;
	gnutls_x509_crt_t c;
	struct err e;

	cr_assert_eq(tls_init(&e), 0);
	log_init("test_tickets", LOG_LVL_WARN, 2);
	r.cn = "tickets.test";
	r.ca = true;
	r.not_before = time(NULL) - 10;
	r.not_after = time(NULL) + 3600;
	cr_assert_eq(pki_key_new(PKI_KEY_ECDSA_P256, &k, &e), 0);
	cr_assert_eq(pki_sign(&r, k, NULL, NULL, &c, &e), 0);
	cr_assert_eq(gnutls_certificate_allocate_credentials(&server_cred), 0);
	cr_assert_eq(gnutls_certificate_set_x509_key(server_cred, &c, 1, k), 0);
	cr_assert_eq(gnutls_certificate_allocate_credentials(&client_cred), 0);
	gnutls_x509_crt_deinit(c);
	gnutls_x509_privkey_deinit(k);
	/* an hour: the thread never rotates during a test; tickets_rotate does */
	cr_assert_eq(tickets_start(3600000, &e), 0, "%s", e.msg);
}

static void
teardown(void)
{
	tickets_stop();
	gnutls_certificate_free_credentials(server_cred);
	gnutls_certificate_free_credentials(client_cred);
	tls_deinit();
}

TestSuite(tickets, .init = setup, .fini = teardown, .timeout = 30);

/* One connection with version prio; resume from *sess when it holds data.
 * Returns whether it resumed; *sess gets the client's new session data. */
static bool
connect_once(const char *prio, gnutls_datum_t *sess)
{
	/* two 64 KiB pipes: static (frames stay under 16 KiB), emptied here */
	static struct pipe c2s, s2c;
	struct end cl = { NULL, &s2c, &c2s }, sv = { NULL, &c2s, &s2c };
	int rc_c = GNUTLS_E_AGAIN, rc_s = GNUTLS_E_AGAIN, i;
	char byte;
	ssize_t n = 0;
	bool resumed;

	c2s.len = 0;
	s2c.len = 0;
	cr_assert_eq(gnutls_init(&sv.s, GNUTLS_SERVER), 0);
	cr_assert_eq(gnutls_init(&cl.s, GNUTLS_CLIENT), 0);
	cr_assert_eq(gnutls_priority_set_direct(sv.s, prio, NULL), 0);
	cr_assert_eq(gnutls_priority_set_direct(cl.s, prio, NULL), 0);
	cr_assert_eq(gnutls_credentials_set(sv.s, GNUTLS_CRD_CERTIFICATE, server_cred), 0);
	cr_assert_eq(gnutls_credentials_set(cl.s, GNUTLS_CRD_CERTIFICATE, client_cred), 0);
	cr_assert_eq(tickets_enable(sv.s), 0);
	if (sess->data != NULL)
		cr_assert_eq(gnutls_session_set_data(cl.s, sess->data, sess->size), 0);
	gnutls_transport_set_ptr(sv.s, &sv);
	gnutls_transport_set_ptr(cl.s, &cl);
	gnutls_transport_set_push_function(sv.s, push);
	gnutls_transport_set_pull_function(sv.s, pull);
	gnutls_transport_set_push_function(cl.s, push);
	gnutls_transport_set_pull_function(cl.s, pull);
	for (i = 0; i < 100 && (rc_c != 0 || rc_s != 0); i++) {
		if (rc_c != 0)
			rc_c = gnutls_handshake(cl.s);
		if (rc_s != 0)
			rc_s = gnutls_handshake(sv.s);
		cr_assert(rc_c == 0 || rc_c == GNUTLS_E_AGAIN, "client: %s", gnutls_strerror(rc_c));
		cr_assert(rc_s == 0 || rc_s == GNUTLS_E_AGAIN, "server: %s", gnutls_strerror(rc_s));
	}
	cr_assert_eq(rc_c, 0);
	cr_assert_eq(rc_s, 0);
	/* a byte of data carries TLS 1.3's NewSessionTicket to the client */
	cr_assert_eq(gnutls_record_send(sv.s, "x", 1), 1);
	for (i = 0; i < 10 && (n = gnutls_record_recv(cl.s, &byte, 1)) == GNUTLS_E_AGAIN; i++)
		;
	cr_assert_eq(n, 1, "record_recv: %s", gnutls_strerror((int)n));
	resumed = gnutls_session_is_resumed(cl.s) != 0;
	cr_assert_eq(resumed, gnutls_session_is_resumed(sv.s) != 0);
	if (sess->data != NULL)
		gnutls_free(sess->data);
	sess->data = NULL;
	cr_assert_eq(gnutls_session_get_data2(cl.s, sess), 0);
	gnutls_deinit(cl.s);
	gnutls_deinit(sv.s);
	return resumed;
}

#define TLS12 "NORMAL:-VERS-ALL:+VERS-TLS1.2"
#define TLS13 "NORMAL:-VERS-ALL:+VERS-TLS1.3"

static void
rotation_case(const char *prio)
{
	gnutls_datum_t first = { NULL, 0 }, again = { NULL, 0 };

	cr_assert_not(connect_once(prio, &first), "a first connection resumed");
	again.data = gnutls_malloc(first.size);
	memcpy(again.data, first.data, first.size);
	again.size = first.size;
	cr_assert(connect_once(prio, &again), "no resumption under the same key");
	gnutls_free(again.data);

	tickets_rotate();
	again.data = gnutls_malloc(first.size);
	memcpy(again.data, first.data, first.size);
	again.size = first.size;
	cr_assert(connect_once(prio, &again), "a ticket from before one rotation did not resume");
	gnutls_free(again.data);

	tickets_rotate();
	again.data = gnutls_malloc(first.size);
	memcpy(again.data, first.data, first.size);
	again.size = first.size;
	cr_assert_not(connect_once(prio, &again), "a ticket from before two rotations resumed");
	gnutls_free(again.data);
	gnutls_free(first.data);
	cr_assert_eq(tickets_generation(), 3);
}

Test(tickets, tls12_previous_key_resumes_older_does_not)
{
	rotation_case(TLS12);
}

Test(tickets, tls13_previous_key_resumes_older_does_not)
{
	rotation_case(TLS13);
}

/* A resumption under the previous key hands out tickets under that key:
 * they resume until the next rotation, then no more. */
Test(tickets, ticket_renewed_under_previous_key_lives_until_next_rotation)
{
	gnutls_datum_t sess = { NULL, 0 };

	cr_assert_not(connect_once(TLS13, &sess));
	tickets_rotate();
	cr_assert(connect_once(TLS13, &sess)); /* previous key; a new ticket under it */
	cr_assert(connect_once(TLS13, &sess));
	tickets_rotate();
	cr_assert_not(connect_once(TLS13, &sess));
	cr_assert(connect_once(TLS13, &sess)); /* the full handshake gave a current ticket */
	gnutls_free(sess.data);
}

/* ---- the ClientHello scanner ---------------------------------------------- */

struct seen {
	unsigned char first[4][16];
	size_t len[4];
	int n;
	int stop_after;
};

static int
seen_cb(void *ctx, const unsigned char *t, size_t len)
{
	struct seen *s = ctx;

	if (s->n < 4) {
		memcpy(s->first[s->n], t, 16);
		s->len[s->n] = len;
	}
	s->n++;
	return s->stop_after != 0 && s->n >= s->stop_after;
}

/* A ClientHello body: version, random, empty session id, one suite, null
 * compression, then the extensions block given. */
static size_t
hello(unsigned char *out, const unsigned char *exts, size_t elen)
{
	size_t o = 0;

	out[o++] = 3;
	out[o++] = 3;
	memset(out + o, 0xaa, 32);
	o += 32;
	out[o++] = 0;             /* session id */
	out[o++] = 0;
	out[o++] = 2;             /* suites */
	out[o++] = 0x13;
	out[o++] = 0x01;
	out[o++] = 1;             /* compression */
	out[o++] = 0;
	out[o++] = (unsigned char)(elen >> 8);
	out[o++] = (unsigned char)elen;
	if (elen > 0)
		memcpy(out + o, exts, elen);
	return o + elen;
}

Test(tickets, scanner_finds_tls12_and_tls13_tickets)
{
	unsigned char ext[256], msg[512];
	size_t o = 0, i;
	struct seen s = { .n = 0 };

	/* session_ticket (35): a 20-byte ticket of 0x11 */
	ext[o++] = 0; ext[o++] = 35; ext[o++] = 0; ext[o++] = 20;
	memset(ext + o, 0x11, 20);
	o += 20;
	/* pre_shared_key (41): identities 18 bytes (0x22) and 4 bytes (too
	 * short to be a GnuTLS ticket), then a binder list */
	ext[o++] = 0; ext[o++] = 41;
	ext[o++] = 0; ext[o++] = 2 + (2 + 18 + 4) + (2 + 4 + 4) + 2 + 33;
	ext[o++] = 0; ext[o++] = (2 + 18 + 4) + (2 + 4 + 4);
	ext[o++] = 0; ext[o++] = 18;
	memset(ext + o, 0x22, 18);
	o += 18;
	memset(ext + o, 0, 4); o += 4;
	ext[o++] = 0; ext[o++] = 4;
	memset(ext + o, 0x33, 4); o += 4;
	memset(ext + o, 0, 4); o += 4;
	ext[o++] = 0; ext[o++] = 33; ext[o++] = 32;
	memset(ext + o, 0x44, 32);
	o += 32;
	cr_assert_eq(tickets_in_client_hello(msg, hello(msg, ext, o), seen_cb, &s), 2);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.len[0], 20);
	cr_assert_eq(s.len[1], 18);
	for (i = 0; i < 16; i++) {
		cr_assert_eq(s.first[0][i], 0x11);
		cr_assert_eq(s.first[1][i], 0x22);
	}
	/* the callback stops the scan */
	memset(&s, 0, sizeof s);
	s.stop_after = 1;
	cr_assert_eq(tickets_in_client_hello(msg, hello(msg, ext, o), seen_cb, &s), 1);
}

Test(tickets, scanner_no_tickets_and_malformed)
{
	unsigned char ext[64], msg[256];
	size_t o = 0, n;
	struct seen s = { .n = 0 };

	/* no extensions at all */
	n = hello(msg, NULL, 0) - 2;
	cr_assert_eq(tickets_in_client_hello(msg, n, seen_cb, &s), 0);
	/* an empty session_ticket extension (asks for a ticket, offers none) */
	ext[o++] = 0; ext[o++] = 35; ext[o++] = 0; ext[o++] = 0;
	cr_assert_eq(tickets_in_client_hello(msg, hello(msg, ext, o), seen_cb, &s), 0);
	/* pre_shared_key whose identity runs past its list */
	o = 0;
	ext[o++] = 0; ext[o++] = 41; ext[o++] = 0; ext[o++] = 8;
	ext[o++] = 0; ext[o++] = 6; ext[o++] = 0; ext[o++] = 30;
	memset(ext + o, 0, 4); o += 4;
	cr_assert_eq(tickets_in_client_hello(msg, hello(msg, ext, o), seen_cb, &s), -1);
	/* identity list longer than the extension */
	o = 0;
	ext[o++] = 0; ext[o++] = 41; ext[o++] = 0; ext[o++] = 2;
	ext[o++] = 0; ext[o++] = 9;
	cr_assert_eq(tickets_in_client_hello(msg, hello(msg, ext, o), seen_cb, &s), -1);
	/* cut inside the fixed part, and not TLS */
	cr_assert_eq(tickets_in_client_hello(msg, 20, seen_cb, &s), -1);
	n = hello(msg, ext, o);
	msg[0] = 2;
	cr_assert_eq(tickets_in_client_hello(msg, n, seen_cb, &s), -1);
	cr_assert_eq(s.n, 0);
}
