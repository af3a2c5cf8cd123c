/*
 * tickets.c: see tickets.h.
 *
 * What GnuTLS does by itself (3.7.9, lib/stek.c): the 64-byte key given to
 * gnutls_session_ticket_enable_server() is a master key that is never used
 * directly.  Each session derives the key it encrypts with as
 * SHA3-512(be64(t) || master), t = floor(now / (3 * expiration)), where
 * expiration is gnutls_db_set_cache_expiration()'s value (6 h by default:
 * a new derived key every 18 h, on wall-clock boundaries), and decrypts
 * with the key for t or t - 1, chosen by the ticket's first 16 bytes (the
 * derived key's name).  So gnutls_db_set_cache_expiration() does drive a
 * rotation, but of keys that all come from one master held for the whole
 * life of the process: whoever reads that master from memory can derive
 * every past and future key and open every ticket ever issued (a TLS 1.2
 * ticket holds the session's master secret).  The period is also tied to
 * the ticket lifetime (3x) and to wall-clock multiples, and cannot be
 * shorter than 3 s.
 *
 * So the master itself rotates here: a new random one every `rotation`,
 * the one before kept as "previous", the one before that wiped.  GnuTLS
 * takes one master per session, before the handshake; to let a ticket
 * made under the previous master resume, a handshake hook sees the
 * ClientHello before GnuTLS parses it (GNUTLS_HOOK_PRE, called before
 * read_client_hello in _gnutls_recv_handshake), and when one of its
 * tickets carries a key name derived from the previous master (for the
 * time steps around now, computed as GnuTLS does), gives that session the
 * previous master instead; GnuTLS then decrypts with it as usual.  A
 * session that resumed that way also issues its new tickets under the
 * previous master (one master per session), which resume until the next
 * rotation; after that the client makes a full handshake.  A ticket
 * matching neither master gets a full handshake, as any unknown ticket.
 * If a later GnuTLS changed its derivation, tickets made under the
 * previous master would no longer be recognised: resumption across one
 * rotation would stop (t0415 fails), never anything worse.
 */
#define _GNU_SOURCE
#include <gnutls/crypto.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "tickets.h"

#define KEY_SIZE  64 /* GnuTLS's TICKET_MASTER_KEY_SIZE */
#define NAME_SIZE 16 /* the key name that starts every GnuTLS ticket */

#define EXT_SESSION_TICKET  35
#define EXT_PRE_SHARED_KEY  41

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static pthread_t thread;
static bool running, stopping;
static unsigned char cur[KEY_SIZE], prev[KEY_SIZE];
static bool have_cur, have_prev;
static unsigned long long generation;
static int64_t period_ms;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A new current key; the current one becomes previous (keep_prev) or is
 * wiped with it.  Called with mu held. */
static void
rotate_locked(bool keep_prev)
{
	unsigned char k[KEY_SIZE];

	if (gnutls_rnd(GNUTLS_RND_KEY, k, sizeof k) < 0) {
		/* the old keys stay; the next rotation tries again */
		LOG_ERROR("ticket_key.rotate_failed", "msg=\"no random bytes\"");
		return;
	}
	if (keep_prev && have_cur)
		memcpy(prev, cur, KEY_SIZE);
	else
		gnutls_memset(prev, 0, KEY_SIZE);
	have_prev = keep_prev && have_cur;
	memcpy(cur, k, KEY_SIZE);
	have_cur = true;
	gnutls_memset(k, 0, sizeof k);
	generation++;
	LOG_INFO("ticket_key.rotated", "generation=%llu previous_kept=%s rotation_ms=%lld",
	         generation, have_prev ? "yes" : "no", (long long)period_ms);
}

void
tickets_rotate(void)
{
	pthread_mutex_lock(&mu);
	rotate_locked(true);
	pthread_mutex_unlock(&mu);
}

unsigned long long
tickets_generation(void)
{
	unsigned long long g;

	pthread_mutex_lock(&mu);
	g = generation;
	pthread_mutex_unlock(&mu);
	return g;
}

static void *
rotator(void *arg)
{
	int64_t due = mono_ms() + period_ms, now;
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&mu);
	while (!stopping) {
		now = mono_ms();
		if (now >= due) {
			/* late by a whole period or more (the process was stopped):
			 * the previous key is older than two periods, drop it too */
			rotate_locked(now - due < period_ms);
			due = now - due < period_ms ? due + period_ms : now + period_ms;
			continue;
		}
		ts.tv_sec = (time_t)(due / 1000);
		ts.tv_nsec = (long)(due % 1000) * 1000000L;
		pthread_cond_timedwait(&cv, &mu, &ts);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

int
tickets_start(int64_t rotation_ms, struct err *e)
{
	pthread_condattr_t ca;

	if (rotation_ms <= 0)
		return err_set(e, ERR_USAGE, "ticket key rotation must be positive");
	pthread_mutex_lock(&mu);
	period_ms = rotation_ms;
	stopping = false;
	rotate_locked(false);
	pthread_mutex_unlock(&mu);
	if (!have_cur)
		return err_set(e, ERR_FAIL, "cannot make a session ticket key");
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&thread, NULL, rotator, NULL) != 0) {
		pthread_cond_destroy(&cv);
		return err_set(e, ERR_FAIL, "cannot start the ticket key thread");
	}
	running = true;
	return 0;
}

void
tickets_stop(void)
{
	if (running) {
		pthread_mutex_lock(&mu);
		stopping = true;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&mu);
		pthread_join(thread, NULL);
		pthread_cond_destroy(&cv);
		running = false;
	}
	pthread_mutex_lock(&mu);
	gnutls_memset(cur, 0, KEY_SIZE);
	gnutls_memset(prev, 0, KEY_SIZE);
	have_cur = have_prev = false;
	pthread_mutex_unlock(&mu);
}

/* ---- finding the tickets in a ClientHello ------------------------------- */

struct scan {
	int (*cb)(void *ctx, const unsigned char *ticket, size_t len);
	void *ctx;
	int found;
	bool stopped, bad;
};

static int
offer(struct scan *sc, const unsigned char *t, size_t len)
{
	if (len < NAME_SIZE)
		return 0;
	sc->found++;
	if (sc->cb(sc->ctx, t, len) != 0) {
		sc->stopped = true;
		return -1;
	}
	return 0;
}

static unsigned
be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static int
ext_cb(void *ctx, unsigned tls_id, const unsigned char *d, unsigned n)
{
	struct scan *sc = ctx;
	size_t ids, off, len;

	if (tls_id == EXT_SESSION_TICKET)
		return offer(sc, d, n);
	if (tls_id != EXT_PRE_SHARED_KEY)
		return 0;
	/* OfferedPsks: PskIdentity identities<7..2^16-1>, then the binders;
	 * PskIdentity: opaque identity<1..2^16-1>, uint32 obfuscated age */
	if (n < 2 || (ids = be16(d)) > n - 2) {
		sc->bad = true;
		return -1;
	}
	for (off = 2; off < 2 + ids; off += 2 + len + 4) {
		if (2 + ids - off < 2 || (len = be16(d + off)) + 4 > 2 + ids - off - 2) {
			sc->bad = true;
			return -1;
		}
		if (offer(sc, d + off + 2, len) < 0)
			return -1;
	}
	return 0;
}

int
tickets_in_client_hello(const unsigned char *msg, size_t len,
                        int (*cb)(void *ctx, const unsigned char *ticket, size_t len),
                        void *ctx)
{
	struct scan sc = { cb, ctx, 0, false, false };
	gnutls_datum_t d = { (unsigned char *)msg, (unsigned)len };
	int rc;

	if (msg == NULL || len > 0xffffff)
		return -1;
	rc = gnutls_ext_raw_parse(&sc, ext_cb, &d, GNUTLS_EXT_RAW_FLAG_TLS_CLIENT_HELLO);
	if (sc.stopped)
		return sc.found;
	if (sc.bad || (rc < 0 && rc != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE))
		return -1;
	return sc.found;
}

/* ---- per session --------------------------------------------------------- */

struct match {
	unsigned char key[KEY_SIZE];
	unsigned char names[3][NAME_SIZE];
	unsigned nnames;
	bool found;
};

/* GnuTLS's derived key name for time step t (lib/stek.c's totp_sha3). */
static bool
derived_name(const unsigned char master[KEY_SIZE], uint64_t t, unsigned char name[NAME_SIZE])
{
	unsigned char in[8 + KEY_SIZE], out[64];
	int i;

	for (i = 0; i < 8; i++)
		in[i] = (unsigned char)(t >> (56 - 8 * i));
	memcpy(in + 8, master, KEY_SIZE);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA3_512, in, sizeof in, out) < 0) {
		gnutls_memset(in, 0, sizeof in);
		return false;
	}
	memcpy(name, out, NAME_SIZE);
	gnutls_memset(in, 0, sizeof in);
	gnutls_memset(out, 0, sizeof out);
	return true;
}

static int
match_cb(void *ctx, const unsigned char *ticket, size_t len)
{
	struct match *m = ctx;
	unsigned i;

	(void)len;
	for (i = 0; i < m->nnames; i++)
		if (memcmp(ticket, m->names[i], NAME_SIZE) == 0) {
			m->found = true;
			return 1;
		}
	return 0;
}

static int
hello_hook(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
           const gnutls_datum_t *msg)
{
	struct match m;
	uint64_t step, t;
	time_t now = time(NULL);
	bool have;

	if (htype != GNUTLS_HANDSHAKE_CLIENT_HELLO || when != GNUTLS_HOOK_PRE || !incoming ||
	    msg == NULL || msg->data == NULL || now <= 0)
		return 0;
	memset(&m, 0, sizeof m);
	pthread_mutex_lock(&mu);
	if ((have = have_prev))
		memcpy(m.key, prev, KEY_SIZE);
	pthread_mutex_unlock(&mu);
	if (!have)
		return 0;
	/* the time steps GnuTLS may have used (its current one, the one
	 * before, and the next in case a boundary passes meanwhile) */
	step = (uint64_t)now / (3 * TICKETS_LIFETIME_S);
	for (t = step > 1 ? step - 1 : 1; t <= step + 1; t++)
		if (derived_name(m.key, t, m.names[m.nnames]))
			m.nnames++;
	if (tickets_in_client_hello(msg->data, msg->size, match_cb, &m) > 0 && m.found) {
		gnutls_datum_t k = { m.key, KEY_SIZE };

		/* fails only on a second ClientHello (after a
		 * HelloRetryRequest) once a key was used: keep that one */
		if (gnutls_session_ticket_enable_server(s, &k) == 0)
			LOG_DEBUG("ticket_key.previous", "msg=\"a ticket made under the previous "
			          "key: this handshake decrypts with it\"");
	}
	gnutls_memset(&m, 0, sizeof m);
	return 0;
}

int
tickets_enable(gnutls_session_t s)
{
	unsigned char k[KEY_SIZE];
	gnutls_datum_t d = { k, KEY_SIZE };
	bool have;
	int rc;

	pthread_mutex_lock(&mu);
	have = have_cur;
	memcpy(k, cur, KEY_SIZE);
	pthread_mutex_unlock(&mu);
	if (!have)
		return GNUTLS_E_INVALID_REQUEST;
	gnutls_db_set_cache_expiration(s, TICKETS_LIFETIME_S);
	rc = gnutls_session_ticket_enable_server(s, &d);
	gnutls_memset(k, 0, sizeof k);
	if (rc == 0)
		gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_PRE,
		                                   hello_hook);
	return rc;
}
