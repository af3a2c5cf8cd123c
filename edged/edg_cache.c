/*
 * edg_cache.c: edged's shared cache (RFC 9111), steps 2 and 5 of the six.
 *
 * Three tiers: the in-process memory tier (lib/mcache.c: immutable,
 * reference-counted entry blobs handed to libmicrohttpd without a copy),
 * Redis (lib/rstore.c: shared by every node, failing open), the origin.
 * The decisions are lib/cachepol.c's, the keys lib/ckey.c's, the entry
 * format lib/centry.c's; this file puts them together on the request path:
 *
 *   edg_cache_respond()  GET/HEAD: key, lookup (memory, Redis, variant),
 *                        then per cachepol_use: serve (200/206/304/416),
 *                        serve stale and refresh in the background,
 *                        revalidate, or fetch (collapsed: one fetch per key)
 *   fetch()              the origin leg for the cache: the viewer's
 *                        validators and Range are not forwarded (the cache
 *                        evaluates them), a HEAD goes as GET so that the
 *                        answer can be stored, a stored entry's validators
 *                        go instead; 304 refreshes the entry (RefreshHit),
 *                        an error may let the stale entry answer
 *   store_*()            a storable response is written into one blob as
 *                        it streams to the viewer (tee) or before it is
 *                        served (HEAD, Range, conditional requests), and
 *                        committed only when the whole body arrived
 *   edg_cache_invalidate() unsafe methods (RFC 9111 4.4)
 *
 * A memory-tier entry older than memory_cache_recheck is checked against
 * Redis before use by reading the 4 checksum bytes of the stored blob
 * (GETRANGE): a node whose copy was invalidated or replaced elsewhere
 * drops it within that time, at the cost of one small round trip per hot
 * object per interval.  While Redis is down the memory tier keeps serving.
 *
 * Threads: libmicrohttpd runs one thread per connection, so a request may
 * block on Redis (bounded by redis_timeout) or on a collapsed fetch
 * (bounded by origin_response_timeout) without holding anyone else up.
 * c->mu guards the collapsing table and the background-refresh count and
 * is never held across I/O.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cachepol.h"
#include "centry.h"
#include "ckey.h"
#include "edg.h"
#include "edg_inval.h"
#include "edg_ops.h"
#include "hrange.h"
#include "log.h"
#include "mcache.h"
#include "rstore.h"

#define MAX_FIELDS   128  /* request fields a cacheable request may have */
#define MAX_STORED   256  /* response fields an entry may keep */
#define FL_BUCKETS   256
#define MAX_BG       64   /* background refreshes at once */
#define PASS_SLOTS   4096 /* keys remembered as not storable (hit-for-pass) */
#define PASS_LOCKS   16
#define PASS_MS      60000 /* for this long */
#define IDX_EXTRA_TTL 86400 /* a variant index lives this much longer than the
                             * variant last stored under it */
#define HEAD_ROOM    (256 * 1024) /* an entry's head and tag, at most: a value
                                   * read from Redis may be max_object_size +
                                   * this, a larger one is refused unread */
#define REFUSED_WINDOW_MS 60000 /* cache.entry_refused: at most REFUSED_BURST */
#define REFUSED_BURST     10    /* lines per window, the rest counted */

/* One fetch in progress for a key (request collapsing). */
struct flight {
	struct flight *next;
	unsigned char key[CKEY_DIGEST_LEN];
	int refs;                /* leader + waiters, under c->mu */
	bool done;
	struct mobj *obj;        /* the stored result (a ref), or NULL */
	pthread_cond_t cv;
};

struct edg_cache {
	struct edg_server *srv;
	struct cachepol_config pol;
	struct ckey_policy *kp;
	struct mcache *mem;
	struct rstore *rs;       /* NULL: no Redis */
	char redis_label[300];
	/* cache_secret_file: values in Redis carry a MAC (lib/centry.h) */
	unsigned char secret[CENTRY_SECRET_MAX];
	size_t secret_len;       /* 0: none, Redis is trusted */
	size_t max_value;        /* the largest value read from or written to Redis */
	int64_t refused_since;   /* rate of cache.entry_refused lines, under mu */
	unsigned refused_n;
	unsigned long long refused_quiet, n_mac_failed, n_too_large;
	size_t max_object;
	int64_t recheck_ms;
	int64_t wait_ms;         /* a collapsed request waits at most this */
	bool key_scheme;         /* allow-all: http and https keyed apart */
	bool key_port;           /* forward_host: the Host's port is forwarded,
	                          * so it is keyed */
	bool filter_query;       /* forward only the keyed query parameters */

	/* keys whose last response could not be stored: their misses are not
	 * collapsed (waiting for a response that will not be shared only
	 * serialises the viewers), as Varnish's hit-for-miss */
	pthread_mutex_t pass_mu[PASS_LOCKS];
	struct pass_slot {
		unsigned char key[16];
		int64_t until_ms;
	} pass[PASS_SLOTS];

	pthread_mutex_t mu;
	pthread_cond_t bg_cv;
	struct flight *fl[FL_BUCKETS];
	unsigned bg_running;

	unsigned long long n_hit, n_stale, n_refresh, n_miss, n_stored, n_collapsed,
	                   n_bypass, n_corrupt, n_invalidated, n_bans, n_ban_hits,
	                   n_store_refused;
	/* bytes held by stores in flight (responses being received whole
	 * before they become entries), bounded by store_memory_limit */
	size_t held, held_max;
	int64_t held_warned_ms;
};

/* A response being written into an entry blob. */
struct store {
	struct edg_cache *c;
	bool active;
	unsigned char *acc;      /* head, then the body so far */
	size_t cap, head_len, body_len;
	size_t limit;            /* body bytes allowed (max_object_size) */
	unsigned char key[CKEY_DIGEST_LEN], uri[CKEY_DIGEST_LEN];
	char id[CKEY_ID_LEN + 1];
	int64_t ttl;             /* seconds */
	unsigned char *idx;      /* a new variant index to write with it */
	size_t idx_len;
	unsigned char idx_key[CKEY_DIGEST_LEN];
	char idx_id[CKEY_ID_LEN + 1];
};

/* Per request (r->c). */
struct edg_creq {
	struct cachepol_req q;
	struct ckey key;         /* primary */
	struct ckey vkey;        /* the variant key when the entry varies */
	size_t nfields;
	bool too_many;
	bool pass;               /* hit-for-pass: not collapsed, no Redis lookup */
	const char *range, *if_range;
	struct mobj *idx;        /* variant index found (a ref) */
	struct flight *flight;   /* leading a fetch for key */
	struct store st;
	/* what a tee reader still owes the viewer from a buffer */
	unsigned char *replay;
	size_t replay_off, replay_len;
	bool commit_at_eof;
	char cs[200];            /* Cache-Status */
	uint32_t gen;            /* invalidation generation at the lookup */
	/* last: not zeroed (4 KiB) */
	struct ckey_field fields[MAX_FIELDS];
};

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static bool
name_is(const char *name, size_t nlen, const char *lit)
{
	return strlen(lit) == nlen && strncasecmp(name, lit, nlen) == 0;
}

/* ---- start-up ------------------------------------------------------------- */

/* Read the secret of cache_secret_file (path; NULL: none) into c. */
static int
load_secret(struct edg_cache *c, const char *path, struct err *e)
{
	unsigned char buf[CENTRY_SECRET_MAX + 3];
	struct stat sb;
	size_t n = 0;
	int fd, rc = -1;

	if (path == NULL) {
		LOG_INFO("cache.entry_mac", "state=off msg=\"entries in Redis are trusted as they "
		         "are (see cache_secret_file)\"");
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_USAGE, "key 'cache_secret_file': cannot open %s: %s", path,
		               strerror(errno));
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		err_set(e, ERR_USAGE, "key 'cache_secret_file': %s is not a regular file", path);
		goto out;
	}
	while (n < sizeof buf) {
		ssize_t r = read(fd, buf + n, sizeof buf - n);

		if (r == 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(e, ERR_USAGE, "key 'cache_secret_file': reading %s: %s", path,
			        strerror(errno));
			goto out;
		}
		n += (size_t)r;
	}
	if (n == sizeof buf) {
		err_set(e, ERR_USAGE, "key 'cache_secret_file': %s holds more than %d bytes", path,
		        CENTRY_SECRET_MAX);
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\n') /* a final newline is not part of it */
		n -= n > 1 && buf[n - 2] == '\r' ? 2 : 1;
	if (n < CENTRY_SECRET_MIN || n > CENTRY_SECRET_MAX) {
		err_set(e, ERR_USAGE, "key 'cache_secret_file': %s holds %zu bytes; a secret has "
		        "%d to %d (e.g. openssl rand -hex 32 >FILE)", path, n, CENTRY_SECRET_MIN,
		        CENTRY_SECRET_MAX);
		goto out;
	}
	memcpy(c->secret, buf, n);
	c->secret_len = n;
	LOG_INFO("cache.entry_mac", "state=on file=%s bytes=%zu", log_q(path), n);
	if (sb.st_mode & S_IROTH)
		LOG_WARN("cache.secret_readable", "file=%s msg=\"every local user can read it: "
		         "chmod o-r\"", log_q(path));
	rc = 0;
out:
	gnutls_memset(buf, 0, sizeof buf);
	close(fd);
	return rc;
}

int
edg_cache_init(struct edg_server *srv, struct err *e)
{
	const struct edg_opts *o = &srv->o;
	struct edg_cache *c;
	struct ckey_conf kc = { 0 };
	pthread_condattr_t ca;
	size_t i;

	if (!o->cache)
		return 0;
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	c->srv = srv;
	cachepol_config_default(&c->pol);
	c->pol.ttl_default = o->ttl_default / 1000;
	c->pol.ttl_min = o->ttl_min / 1000;
	c->pol.ttl_max = o->ttl_max / 1000;
	c->pol.error_caching_ttl = o->error_caching_ttl / 1000;
	c->pol.error_ttl_any_status = o->error_caching_any_status;
	c->pol.stale_if_error = o->stale_if_error / 1000;
	c->pol.cache_set_cookie = o->cache_set_cookie;
	c->held_max = (size_t)o->store_memory_limit;
	c->key_scheme = o->viewer_protocol_policy != NULL &&
	                strcmp(o->viewer_protocol_policy, "allow-all") == 0 &&
	                o->listen_http != NULL;
	c->key_port = o->forward_host;
	c->pol.cookies_keyed = o->cache_key_cookies.n > 0;
	for (size_t h = 0; h < o->cache_key_headers.n; h++)
		if (strcasecmp(o->cache_key_headers.v[h], "cookie") == 0)
			c->pol.cookies_keyed = true;
	if (c->pol.ttl_min > c->pol.ttl_max) {
		free(c);
		return err_set(e, ERR_USAGE, "key 'ttl_min' is larger than 'ttl_max'");
	}
	kc.query = ckey_query_mode((const char *const *)o->cache_key_query.v,
	                           o->cache_key_query.n);
	if (kc.query == CKEY_QUERY_ALLOW) {
		kc.query_names = (const char *const *)o->cache_key_query.v;
		kc.n_query = o->cache_key_query.n;
	}
	kc.headers = (const char *const *)o->cache_key_headers.v;
	kc.n_headers = o->cache_key_headers.n;
	kc.cookies = (const char *const *)o->cache_key_cookies.v;
	kc.n_cookies = o->cache_key_cookies.n;
	c->filter_query = kc.query != CKEY_QUERY_ALL &&
	                  strcmp(o->origin_request_query, "keyed") == 0;
	c->kp = ckey_policy_new(&kc, e);
	if (c->kp == NULL) {
		free(c);
		return -1;
	}
	c->max_object = (size_t)o->max_object_size;
	c->recheck_ms = o->memory_cache_recheck;
	c->wait_ms = o->origin_response_timeout;
	c->mem = mcache_new((size_t)o->memory_cache_size, 0);
	if (c->mem == NULL) {
		ckey_policy_free(c->kp);
		free(c);
		return err_set(e, ERR_FAIL, "out of memory");
	}
	if (o->redis != NULL) {
		struct rstore_opts ro = { 0 };
		struct rstore_url u;

		ro.key = "redis";
		ro.timeout_ms = (int)o->redis_timeout;
		ro.pool_size = (int)o->redis_pool_size;
		c->max_value = c->max_object + HEAD_ROOM;
		ro.max_value = c->max_value;
		if (load_secret(c, o->cache_secret_file, e) < 0 ||
		    rstore_url_parse(o->redis, "redis", &u, e) < 0 ||
		    rstore_init(&c->rs, o->redis, &ro, e) < 0) {
			mcache_free(c->mem);
			ckey_policy_free(c->kp);
			free(c);
			return -1;
		}
		rstore_url_label(&u, c->redis_label, sizeof c->redis_label);
	}
	pthread_mutex_init(&c->mu, NULL);
	for (i = 0; i < PASS_LOCKS; i++)
		pthread_mutex_init(&c->pass_mu[i], NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->bg_cv, &ca);
	pthread_condattr_destroy(&ca);
	for (i = 0; i < FL_BUCKETS; i++)
		c->fl[i] = NULL;
	srv->cache = c;
	LOG_INFO("cache", "redis=%s memory_cache_size=%lld max_object_size=%lld ttl_default=%lld "
	         "key_query=%s key_headers=%zu key_cookies=%zu",
	         c->rs ? c->redis_label : "off", o->memory_cache_size, o->max_object_size,
	         (long long)c->pol.ttl_default,
	         kc.query == CKEY_QUERY_ALL ? "all" : kc.query == CKEY_QUERY_NONE ? "none" :
	         "allow-list", kc.n_headers, kc.n_cookies);
	if (c->rs != NULL) {
		struct err pe = { 0, "" };

		if (rstore_ping(c->rs, &pe) < 0)
			LOG_WARN("cache.redis_unavailable", "why=%s msg=\"serving from the origin "
			         "until Redis answers\"", log_q(pe.msg));
	}
	return edg_inval_init(&srv->inval, c->rs, srv->node, o->invalidation_poll,
	                      o->invalidation_retention, e);
}

void
edg_cache_drain(struct edg_server *srv, int64_t until_ms)
{
	struct edg_cache *c = srv->cache;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	while (c->bg_running > 0 && edg_now_ms() < until_ms) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&c->bg_cv, &c->mu, &ts);
	}
	pthread_mutex_unlock(&c->mu);
}

void
edg_cache_stats(struct edg_server *srv, struct edg_cache_stats *st)
{
	struct edg_cache *c = srv->cache;

	memset(st, 0, sizeof *st);
	if (c == NULL)
		return;
	st->on = true;
#define LD(f, g) st->f = __atomic_load_n(&c->g, __ATOMIC_RELAXED)
	LD(hit, n_hit);
	LD(stale, n_stale);
	LD(refresh, n_refresh);
	LD(miss, n_miss);
	LD(stored, n_stored);
	LD(collapsed, n_collapsed);
	LD(bypass, n_bypass);
	LD(corrupt, n_corrupt);
	LD(store_refused, n_store_refused);
	st->store_held = __atomic_load_n(&c->held, __ATOMIC_RELAXED);
	st->store_held_max = c->held_max;
	LD(mac_failed, n_mac_failed);
	LD(too_large, n_too_large);
	LD(invalidated, n_invalidated);
	LD(ban_hits, n_ban_hits);
#undef LD
	{
		unsigned long long created, pf;
		size_t nb;

		edg_inval_counts(srv->inval, &created, &nb, &pf);
		st->bans = created;
		st->bans_active = nb;
		st->inval_poll_failures = pf;
	}
	if (c->mem != NULL)
		mcache_stats(c->mem, &st->mem);
	if (c->rs != NULL) {
		st->has_redis = true;
		rstore_stats(c->rs, &st->redis);
	}
}

int
edg_cache_ping(struct edg_server *srv, struct err *e)
{
	struct edg_cache *c = srv->cache;

	if (c == NULL || c->rs == NULL)
		return 0;
	return rstore_ping(c->rs, e);
}

bool
edg_cache_free(struct edg_server *srv)
{
	struct edg_cache *c = srv->cache;

	if (c == NULL)
		return true;
	/* background refreshes hold c: wait for them (bounded) */
	edg_cache_drain(srv, edg_now_ms() + c->srv->o.origin_response_timeout + 1000);
	pthread_mutex_lock(&c->mu);
	if (c->bg_running > 0) {
		/* still running past the bound: leak c (and the origins they
		 * use) rather than free them under them */
		pthread_mutex_unlock(&c->mu);
		LOG_WARN("cache.refresh_abandoned", "running=%u", c->bg_running);
		return false;
	}
	pthread_mutex_unlock(&c->mu);
	LOG_INFO("cache.totals", "hit=%llu stale=%llu refresh=%llu miss=%llu stored=%llu "
	         "collapsed=%llu bypass=%llu corrupt=%llu invalidated=%llu", c->n_hit,
	         c->n_stale, c->n_refresh, c->n_miss, c->n_stored, c->n_collapsed, c->n_bypass,
	         c->n_corrupt, c->n_invalidated);
	edg_inval_free(srv->inval); /* its poller uses c->rs */
	srv->inval = NULL;
	if (c->rs != NULL)
		rstore_free(c->rs);
	gnutls_memset(c->secret, 0, sizeof c->secret);
	mcache_free(c->mem);
	ckey_policy_free(c->kp);
	pthread_mutex_destroy(&c->mu);
	for (size_t i = 0; i < PASS_LOCKS; i++)
		pthread_mutex_destroy(&c->pass_mu[i]);
	pthread_cond_destroy(&c->bg_cv);
	free(c);
	srv->cache = NULL;
	return true;
}

#define COUNT(c, f) __atomic_add_fetch(&(c)->f, 1, __ATOMIC_RELAXED)

/* ---- request collapsing ---------------------------------------------------- */

/* Join the fetch for key, or start one (*leader). */
static struct flight *
flight_join(struct edg_cache *c, const unsigned char *key, bool *leader)
{
	struct flight *f;
	pthread_condattr_t ca;

	pthread_mutex_lock(&c->mu);
	for (f = c->fl[key[0]]; f != NULL; f = f->next)
		if (memcmp(f->key, key, CKEY_DIGEST_LEN) == 0) {
			f->refs++;
			*leader = false;
			pthread_mutex_unlock(&c->mu);
			return f;
		}
	f = calloc(1, sizeof *f);
	if (f != NULL) {
		memcpy(f->key, key, CKEY_DIGEST_LEN);
		f->refs = 1;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&f->cv, &ca);
		pthread_condattr_destroy(&ca);
		f->next = c->fl[key[0]];
		c->fl[key[0]] = f;
	}
	*leader = true;
	pthread_mutex_unlock(&c->mu);
	return f;
}

/* The leader is done (obj: what it stored, or NULL): wake the waiters and
 * let later requests start their own fetch. */
static void
flight_finish(struct edg_cache *c, struct flight *f, struct mobj *obj)
{
	struct flight **pp;

	pthread_mutex_lock(&c->mu);
	if (!f->done) {
		f->done = true;
		if (obj != NULL) {
			mobj_ref(obj);
			f->obj = obj;
		}
		for (pp = &c->fl[f->key[0]]; *pp != NULL; pp = &(*pp)->next)
			if (*pp == f) {
				*pp = f->next;
				break;
			}
		pthread_cond_broadcast(&f->cv);
	}
	pthread_mutex_unlock(&c->mu);
}

static void
flight_put(struct edg_cache *c, struct flight *f)
{
	struct mobj *o = NULL;
	bool last;

	pthread_mutex_lock(&c->mu);
	last = --f->refs == 0;
	if (last)
		o = f->obj;
	pthread_mutex_unlock(&c->mu);
	if (last) {
		pthread_cond_destroy(&f->cv);
		free(f);
		mobj_unref(o);
	}
}

/* Wait for the leader, at most c->wait_ms.  Returns its object (a ref) or
 * NULL. */
static struct mobj *
flight_wait(struct edg_cache *c, struct flight *f)
{
	struct timespec ts;
	struct mobj *o = NULL;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += c->wait_ms / 1000;
	ts.tv_nsec += (c->wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	while (!f->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&f->cv, &c->mu, &ts);
	if (f->obj != NULL) {
		o = f->obj;
		mobj_ref(o);
	}
	pthread_mutex_unlock(&c->mu);
	return o;
}

/* ---- hit-for-pass ---------------------------------------------------------- */

static size_t
pass_slot(const unsigned char *key)
{
	return ((size_t)key[2] << 8 | key[3]) % PASS_SLOTS;
}

/* Remember (ms > 0) or forget (ms == 0) that key's responses are not
 * stored. */
static void
pass_set(struct edg_cache *c, const unsigned char *key, int64_t ms)
{
	size_t i = pass_slot(key);
	struct pass_slot *p = &c->pass[i];

	pthread_mutex_lock(&c->pass_mu[i % PASS_LOCKS]);
	if (ms > 0) {
		memcpy(p->key, key, sizeof p->key);
		p->until_ms = edg_now_ms() + ms;
	} else if (memcmp(p->key, key, sizeof p->key) == 0) {
		p->until_ms = 0;
	}
	pthread_mutex_unlock(&c->pass_mu[i % PASS_LOCKS]);
}

static bool
pass_marked(struct edg_cache *c, const unsigned char *key)
{
	size_t i = pass_slot(key);
	const struct pass_slot *p = &c->pass[i];
	bool marked;

	pthread_mutex_lock(&c->pass_mu[i % PASS_LOCKS]);
	marked = p->until_ms > edg_now_ms() && memcmp(p->key, key, sizeof p->key) == 0;
	pthread_mutex_unlock(&c->pass_mu[i % PASS_LOCKS]);
	return marked;
}

/* Is a reason for not storing the response's own (not the request's)? */
static bool
response_reason(enum cachepol_store why, unsigned status)
{
	switch (why) {
	case CACHEPOL_NS_METHOD:
	case CACHEPOL_NS_REQ_NO_STORE:
	case CACHEPOL_NS_AUTHORIZATION:
		return false;
	default:
		return status != 206 && status != 304;
	}
}

/* ---- the tiers --------------------------------------------------------------- */

/* Does an invalidation newer than response o cover r's path?  (Variant
 * indexes are never banned: the variants they lead to are.)  An
 * invalidated entry is gone: not served stale either. */
static bool
banned(struct edg_req *r, struct mobj *o)
{
	uint64_t epoch;

	if (o->ce.m.kind != CENTRY_RESPONSE)
		return false;
	/* found clear since the last ban: an entry's path is fixed by its key,
	 * so the answer holds until the next ban */
	epoch = edg_inval_epoch(r->srv->inval);
	if (atomic_load_explicit(&o->bans_ok, memory_order_relaxed) >= epoch)
		return false;
	if (!edg_inval_banned(r->srv->inval, r->target, o->ce.m.gen)) {
		atomic_store_explicit(&o->bans_ok, epoch, memory_order_relaxed);
		return false;
	}
	COUNT(r->srv->cache, n_ban_hits);
	LOG_DEBUG("cache.invalidated_entry", "id=%s gen=%u", r->id, o->ce.m.gen);
	return true;
}

/* Log that the value under id was refused (why): at most REFUSED_BURST
 * lines per REFUSED_WINDOW_MS, whoever fills Redis with bad values; the
 * next line logged says how many were not. */
static void
entry_refused(struct edg_cache *c, const char *id, const char *why)
{
	int64_t now = edg_now_ms();
	unsigned long long quiet = 0;
	bool log = false;

	pthread_mutex_lock(&c->mu);
	if (now - c->refused_since >= REFUSED_WINDOW_MS) {
		c->refused_since = now;
		c->refused_n = 0;
	}
	if (c->refused_n < REFUSED_BURST) {
		c->refused_n++;
		log = true;
		quiet = c->refused_quiet;
		c->refused_quiet = 0;
	} else {
		c->refused_quiet++;
	}
	pthread_mutex_unlock(&c->mu);
	if (log)
		LOG_WARN("cache.entry_refused", "key=%s why=%s not_logged=%llu", id, log_q(why),
		         quiet);
}

/* The entry under k: the memory tier (rechecked against Redis when old),
 * then Redis (then kept in memory).  NULL: a miss, Redis down included. */
static struct mobj *
tier_get(struct edg_req *r, const unsigned char *digest, const char *id,
         const unsigned char *uri, bool redis)
{
	struct edg_cache *c = r->srv->cache;
	struct mobj *o = mcache_get(c->mem, digest);
	struct err e = { 0, "" };
	char *val;
	size_t vlen;
	int64_t now;

	if (o != NULL) {
		int64_t seen = atomic_load(&o->checked_ms);
		unsigned char crc[4];
		size_t n;

		now = edg_now_ms();
		if (banned(r, o)) {
			/* an invalidation covers it: Redis may hold a newer copy */
			mcache_del(c->mem, digest, o);
			mobj_unref(o);
			goto redis;
		}
		if (c->rs == NULL || now - seen < c->recheck_ms ||
		    !atomic_compare_exchange_strong(&o->checked_ms, &seen, now))
			return o; /* fresh enough, or another thread is checking it */
		switch (rstore_getrange(c->rs, id, CKEY_ID_LEN, 8, 11, crc, sizeof crc, &n)) {
		case RSTORE_OK:
			if (n == 4 && memcmp(crc, o->blob + 8, 4) == 0)
				return o;
			break;
		case RSTORE_UNAVAILABLE:
			return o; /* Redis down: the memory tier keeps serving */
		case RSTORE_ABSENT:
		case RSTORE_TOO_LARGE:
			break;
		}
		/* invalidated or replaced elsewhere */
		mcache_del(c->mem, digest, o);
		mobj_unref(o);
	}
redis:
	if (c->rs == NULL || !redis)
		return NULL;
	switch (rstore_get(c->rs, id, CKEY_ID_LEN, &val, &vlen)) {
	case RSTORE_OK:
		break;
	case RSTORE_TOO_LARGE:
		COUNT(c, n_too_large);
		COUNT(c, n_corrupt);
		entry_refused(c, id, "value over max_object_size + 256 KiB: not read");
		return NULL;
	default:
		return NULL;
	}
	if (c->secret_len > 0) {
		size_t blen;

		if (centry_mac_check(c->secret, c->secret_len, id, CKEY_ID_LEN, val, vlen, &blen,
		                     &e) < 0) {
			free(val);
			COUNT(c, n_mac_failed);
			COUNT(c, n_corrupt);
			entry_refused(c, id, e.msg);
			return NULL;
		}
		vlen = blen; /* the tag stays behind the blob, unused */
	}
	o = mobj_new((unsigned char *)val, vlen, digest, uri, &e);
	if (o == NULL || memcmp(o->ce.m.key, digest, CKEY_DIGEST_LEN) != 0) {
		COUNT(c, n_corrupt);
		entry_refused(c, id, o == NULL ? e.msg : "stored under another key");
		mobj_unref(o);
		return NULL;
	}
	if (banned(r, o)) {
		mobj_unref(o);
		return NULL;
	}
	atomic_store(&o->checked_ms, edg_now_ms());
	mcache_put(c->mem, o);
	return o;
}

/* Write blob to Redis under id for ttl seconds, followed by its MAC when
 * there is a secret.  A value too large to be read back is not written. */
static void
redis_put(struct edg_cache *c, const char *id, const void *blob, size_t len, int64_t ttl)
{
	unsigned char tag[CENTRY_MAC_LEN];
	struct err e = { 0, "" };
	size_t tlen = c->secret_len > 0 ? sizeof tag : 0;

	if (c->rs == NULL)
		return;
	if (len > c->max_value - tlen) {
		LOG_DEBUG("cache.store_skipped", "key=%s bytes=%zu why=\"over max_object_size + "
		          "256 KiB\"", id, len);
		return;
	}
	if (tlen > 0 && centry_mac(c->secret, c->secret_len, id, CKEY_ID_LEN, blob, len, tag,
	                           &e) < 0) {
		LOG_WARN("cache.store_failed", "key=%s why=%s", id, log_q(e.msg));
		return;
	}
	if (rstore_set_tail(c->rs, id, CKEY_ID_LEN, blob, len, tag, tlen, ttl * 1000) !=
	    RSTORE_OK)
		LOG_DEBUG("cache.store_failed", "key=%s bytes=%zu", id, len);
}

/* ---- building entries --------------------------------------------------------- */

/* Take n bytes of the in-flight store budget; false (counted, warned at
 * most every 10 s) when it would go over store_memory_limit. */
static bool
held_take(struct edg_cache *c, size_t n)
{
	size_t cur = __atomic_load_n(&c->held, __ATOMIC_RELAXED);
	int64_t now, last;

	do {
		if (n > c->held_max || cur > c->held_max - n)
			goto refused;
	} while (!__atomic_compare_exchange_n(&c->held, &cur, cur + n, true, __ATOMIC_RELAXED,
	                                      __ATOMIC_RELAXED));
	return true;
refused:
	COUNT(c, n_store_refused);
	now = edg_now_ms();
	last = __atomic_load_n(&c->held_warned_ms, __ATOMIC_RELAXED);
	if (now - last >= 10000 &&
	    __atomic_compare_exchange_n(&c->held_warned_ms, &last, now, false, __ATOMIC_RELAXED,
	                                __ATOMIC_RELAXED))
		LOG_WARN("cache.store_memory_full", "held=%zu want=%zu store_memory_limit=%zu "
		         "action=\"streamed uncached\"", cur, n, c->held_max);
	return false;
}

static void
held_give(struct edg_cache *c, size_t n)
{
	__atomic_sub_fetch(&c->held, n, __ATOMIC_RELAXED);
}

/* The buffer leaves the store (freed, or handed on): its bytes leave the
 * budget. */
static void
store_unhold(struct store *st)
{
	if (st->acc != NULL && st->cap > 0)
		held_give(st->c, st->cap);
	st->cap = 0;
}

static void
store_drop(struct store *st)
{
	store_unhold(st);
	free(st->acc);
	free(st->idx);
	st->acc = NULL;
	st->idx = NULL;
	st->active = false;
}

/* Make room for n more body bytes; false when over the limit. */
static bool
store_room(struct store *st, size_t n)
{
	size_t need;
	unsigned char *p;

	if (st->body_len + n > st->limit)
		return false;
	need = st->head_len + st->body_len + n;
	if (need <= st->cap)
		return true;
	if (st->cap > SIZE_MAX / 2)
		return false;
	need = need < st->cap * 2 ? st->cap * 2 : need;
	if (need > st->head_len + st->limit)
		need = st->head_len + st->limit;
	if (!held_take(st->c, need - st->cap))
		return false;
	p = realloc(st->acc, need);
	if (p == NULL) {
		held_give(st->c, need - st->cap);
		return false;
	}
	st->acc = p;
	st->cap = need;
	return true;
}

static void
store_body(struct store *st, const void *data, size_t n)
{
	if (!st->active)
		return;
	if (!store_room(st, n)) {
		LOG_DEBUG("cache.not_stored", "key=%s why=\"body over max_object_size\"", st->id);
		store_drop(st);
		return;
	}
	memcpy(st->acc + st->head_len + st->body_len, data, n);
	st->body_len += n;
}

/* Seal and publish: memory tier, then Redis.  Returns the object (a ref)
 * or NULL. */
static struct mobj *
store_commit(struct store *st)
{
	struct edg_cache *c = st->c;
	struct err e = { 0, "" };
	struct mobj *o, *ix;
	size_t len = st->head_len + st->body_len;

	if (!st->active)
		return NULL;
	centry_seal(st->acc, st->head_len, st->body_len);
	store_unhold(st); /* from here the memory tier accounts for it */
	o = mobj_new(st->acc, len, st->key, st->uri, &e);
	st->acc = NULL;
	st->active = false;
	if (o == NULL) {
		LOG_WARN("cache.not_stored", "key=%s why=%s", st->id, log_q(e.msg));
		store_drop(st);
		return NULL;
	}
	atomic_store(&o->checked_ms, edg_now_ms());
	mcache_put(c->mem, o);
	if (st->idx != NULL) {
		ix = mobj_new(st->idx, st->idx_len, st->idx_key, st->uri, &e);
		st->idx = NULL;
		if (ix != NULL) {
			atomic_store(&ix->checked_ms, edg_now_ms());
			mcache_put(c->mem, ix);
			/* the index outlives its variants: a variant stored
			 * later under it must not find it expired */
			redis_put(c, st->idx_id, ix->blob, ix->len, st->ttl + IDX_EXTRA_TTL);
			mobj_unref(ix);
		}
	}
	redis_put(c, st->id, o->blob, o->len, st->ttl);
	COUNT(c, n_stored);
	LOG_DEBUG("cache.stored", "key=%s bytes=%zu ttl=%lld", st->id, st->body_len,
	          (long long)st->ttl);
	return o;
}

/* Summarise the origin's response head h (request sent at t0, head at
 * t1). */
static void
summarise(const struct hresp *h, int64_t t0, int64_t t1, const struct cachepol_config *pol,
          struct cachepol_resp *rp)
{
	size_t i;

	cachepol_resp_init(rp, h->status, t0, t1);
	for (i = 0; i < h->nfields; i++)
		cachepol_resp_field(rp, h->fields[i].name, h->fields[i].nlen, h->fields[i].value,
		                    h->fields[i].vlen);
	cachepol_resp_done(rp, pol);
}

/* A response field kept in an entry: not hop-by-hop or framing, not Age
 * (recomputed on every hit), and what the policy keeps. */
static bool
keep_field(const struct cachepol_resp *rp, const char *name, size_t nlen)
{
	if (name_is(name, nlen, "content-length") || name_is(name, nlen, "transfer-encoding") ||
	    name_is(name, nlen, "age"))
		return false;
	return cachepol_store_field(rp, name, nlen);
}

static void
fill_meta(struct centry_meta *m, const struct cachepol_resp *rp,
          const struct cachepol_fresh *f)
{
	m->status = rp->status;
	m->request_time = rp->request_time;
	m->response_time = rp->response_time;
	m->date = rp->date;
	m->age = rp->age;
	m->lifetime = f->lifetime;
	m->flags = 0;
	if (rp->cc.flags & CACHEPOL_CC_NO_CACHE)
		m->flags |= CENTRY_F_NO_CACHE;
	if (rp->cc.flags & (CACHEPOL_CC_MUST_REVALIDATE | CACHEPOL_CC_PROXY_REVALIDATE |
	                    CACHEPOL_CC_S_MAXAGE))
		m->flags |= CENTRY_F_MUST_REVALIDATE;
	if (f->heuristic)
		m->flags |= CENTRY_F_HEURISTIC;
	m->stale_while_revalidate = (rp->cc.flags & CACHEPOL_CC_SWR) &&
	                            !(rp->cc.flags & CACHEPOL_CC_SWR_BAD) ? rp->cc.swr : 0;
	m->stale_if_error = (rp->cc.flags & CACHEPOL_CC_SIE) &&
	                    !(rp->cc.flags & CACHEPOL_CC_SIE_BAD) ? rp->cc.sie : 0;
}

/* The variant key of the request fields[0..n) under primary for Vary
 * names[0..nn) and vary_id: a stack buffer first, CKEY_CANON_SIZE when the
 * text is larger.  0 or -1. */
static int
variant_key(const struct ckey *primary, uint64_t vary_id, const struct ckey_span *names,
            size_t nn, const struct ckey_field *fields, size_t n, struct ckey *out)
{
	struct err e = { 0, "" };
	char small[4096], *canon;
	int rc;

	if (ckey_variant(primary, vary_id, names, nn, fields, n, small, sizeof small, out, &e) == 0)
		return 0;
	canon = malloc(CKEY_CANON_SIZE);
	if (canon == NULL)
		return -1;
	rc = ckey_variant(primary, vary_id, names, nn, fields, n, canon, CKEY_CANON_SIZE, out, &e);
	free(canon);
	return rc;
}

/* Same Vary names (as centry_vary and ckey_vary_parse give them)? */
static bool
same_names(const struct ckey_span *a, size_t na, const struct ckey_span *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].len != b[i].len || memcmp(a[i].p, b[i].p, a[i].len) != 0)
			return false;
	return true;
}

/* Start an entry for the origin's response h (summary rp) to the request
 * whose primary key is key and fields fields[0..n).  idx: the variant index
 * found for key (or NULL).  same: a background refresh's stale entry, whose
 * key (and variant) the new one takes when it varies on the same fields.
 * Returns 0 (st->active), or -1 with *why. */
static int
store_begin(struct store *st, struct edg_cache *c, const struct hresp *h,
            const struct cachepol_resp *rp, const struct ckey *key, const struct mobj *idx,
            const struct ckey_field *fields, size_t n, const struct mobj *same,
            uint64_t body_hint, uint32_t gen, const char **why)
{
	struct cachepol_fresh f;
	struct centry_src src;
	struct ckey_field kept[MAX_STORED];
	struct ckey_span vv[16], names[CKEY_MAX_NAMES];
	char vbuf[2048];
	size_t nk = 0, nv = 0, nnames = 0, i, cap;
	struct err e = { 0, "" };
	uint64_t vary_id = 0;
	bool new_index = false;

	memset(st, 0, sizeof *st);
	st->c = c;
	st->limit = c->max_object;
	if (body_hint != UINT64_MAX && body_hint > st->limit) {
		*why = "too-large";
		return -1;
	}
	for (i = 0; i < h->nfields; i++) {
		const struct hresp_field *hf = &h->fields[i];

		if (name_is(hf->name, hf->nlen, "vary")) {
			if (nv == sizeof vv / sizeof vv[0]) {
				*why = "vary";
				return -1;
			}
			vv[nv].p = hf->value;
			vv[nv++].len = hf->vlen;
		}
		if (!keep_field(rp, hf->name, hf->nlen))
			continue;
		if (nk == MAX_STORED) {
			*why = "too-many-fields";
			return -1;
		}
		kept[nk].name = hf->name;
		kept[nk].nlen = hf->nlen;
		kept[nk].value = hf->value;
		kept[nk++].vlen = hf->vlen;
	}
	if (nv > 0) {
		int rc = ckey_vary_parse(vv, nv, vbuf, sizeof vbuf, names, CKEY_MAX_NAMES, &nnames,
		                         &e);

		if (rc != 0) {
			*why = rc > 0 ? "vary-star" : "vary";
			return -1;
		}
	}
	cachepol_freshness(rp, &c->pol, &f);
	memset(&src, 0, sizeof src);
	src.m.kind = CENTRY_RESPONSE;
	fill_meta(&src.m, rp, &f);
	src.m.gen = gen;
	src.fields = kept;
	src.nfields = nk;
	st->ttl = cachepol_store_ttl(rp, &f, &c->pol, now_s());
	memcpy(st->uri, key->uri_digest, CKEY_DIGEST_LEN);
	if (same != NULL) {
		struct ckey_span on[CKEY_MAX_NAMES];
		size_t no = centry_vary(&same->ce, on, CKEY_MAX_NAMES);

		if (!same_names(on, no, names, nnames)) {
			*why = "vary-changed";
			return -1;
		}
		memcpy(st->key, same->key, CKEY_DIGEST_LEN);
		ckey_format_id(st->key, st->id);
		src.m.vary_id = same->ce.m.vary_id;
		src.vary = names;
		src.nvary = nnames;
	} else if (nnames > 0) {
		struct ckey vk;
		struct ckey_span inames[CKEY_MAX_NAMES];
		size_t ni = 0;

		if (idx != NULL) {
			ni = centry_vary(&idx->ce, inames, CKEY_MAX_NAMES);
			if (same_names(inames, ni, names, nnames))
				vary_id = idx->ce.m.vary_id;
		}
		if (vary_id == 0) {
			new_index = true;
			if (gnutls_rnd(GNUTLS_RND_NONCE, &vary_id, sizeof vary_id) < 0 || vary_id == 0)
				vary_id = (uint64_t)edg_now_ms() * 2654435761u + 1;
		}
		if (variant_key(key, vary_id, names, nnames, fields, n, &vk) < 0) {
			*why = "vary";
			return -1;
		}
		memcpy(st->key, vk.digest, CKEY_DIGEST_LEN);
		memcpy(st->id, vk.id, sizeof st->id);
		src.m.vary_id = vary_id;
		src.vary = names;
		src.nvary = nnames;
		if (!new_index) {
			/* written again with the variant, to extend its TTL */
			st->idx = malloc(idx->len);
			if (st->idx == NULL) {
				*why = "out-of-memory";
				return -1;
			}
			memcpy(st->idx, idx->blob, idx->len);
			st->idx_len = idx->len;
			memcpy(st->idx_key, key->digest, CKEY_DIGEST_LEN);
			memcpy(st->idx_id, key->id, sizeof st->idx_id);
		} else {
			struct centry_src is;
			size_t ilen;

			memset(&is, 0, sizeof is);
			is.m.kind = CENTRY_VARIANTS;
			is.m.vary_id = vary_id;
			memcpy(is.m.key, key->digest, CKEY_DIGEST_LEN);
			is.vary = names;
			is.nvary = nnames;
			if (centry_encode(&is, NULL, 0, &ilen, &e) < 0 ||
			    (st->idx = malloc(ilen)) == NULL ||
			    centry_encode(&is, st->idx, ilen, &st->idx_len, &e) < 0) {
				store_drop(st);
				*why = "entry-format";
				return -1;
			}
			memcpy(st->idx_key, key->digest, CKEY_DIGEST_LEN);
			memcpy(st->idx_id, key->id, sizeof st->idx_id);
		}
	} else {
		memcpy(st->key, key->digest, CKEY_DIGEST_LEN);
		memcpy(st->id, key->id, sizeof st->id);
	}
	memcpy(src.m.key, st->key, CKEY_DIGEST_LEN);
	src.body_len = 0;
	if (centry_encode_head(&src, NULL, 0, &st->head_len, &e) < 0) {
		store_drop(st);
		*why = "entry-format";
		LOG_DEBUG("cache.not_stored", "key=%s why=%s", st->id, log_q(e.msg));
		return -1;
	}
	cap = st->head_len + (body_hint != UINT64_MAX ? (size_t)body_hint : 16384);
	if (!held_take(c, cap)) {
		store_drop(st);
		*why = "store-memory";
		return -1;
	}
	st->acc = malloc(cap);
	st->cap = cap;
	if (st->acc == NULL) {
		held_give(c, cap);
		st->cap = 0;
	}
	if (st->acc == NULL ||
	    centry_encode_head(&src, st->acc, cap, &st->head_len, &e) < 0) {
		store_drop(st);
		*why = "entry-format";
		return -1;
	}
	st->active = true;
	return 0;
}

/* ---- serving an entry ----------------------------------------------------------- */

/* The stored response's summary, as cachepol_use wants it. */
static void
entry_summary(const struct mobj *o, const struct cachepol_config *pol,
              struct cachepol_resp *sr, struct cachepol_fresh *f)
{
	const struct centry_meta *m = &o->ce.m;
	struct ckey_field fl;
	size_t it;

	cachepol_resp_init(sr, m->status, m->request_time, m->response_time);
	for (it = 0; centry_field(&o->ce, &it, &fl);)
		cachepol_resp_field(sr, fl.name, fl.nlen, fl.value, fl.vlen);
	cachepol_resp_done(sr, pol);
	sr->age = m->age;
	sr->has_age = m->age > 0;
	f->lifetime = m->lifetime;
	f->heuristic = (m->flags & CENTRY_F_HEURISTIC) != 0;
	f->src = f->heuristic ? CACHEPOL_F_DEFAULT : CACHEPOL_F_MAX_AGE;
}

static void
add_common(struct edg_req *r, struct MHD_Response *resp, const char *stored_via, int64_t age,
           const char *xcache, const char *cs)
{
	char num[24];

	if (stored_via != NULL) {
		char *v = NULL;

		if (asprintf(&v, "%s, %s", stored_via, r->srv->via) > 0) {
			MHD_add_response_header(resp, "Via", v);
			free(v);
		}
	} else {
		MHD_add_response_header(resp, "Via", r->srv->via);
	}
	snprintf(num, sizeof num, "%lld", (long long)age);
	MHD_add_response_header(resp, "Age", num);
	MHD_add_response_header(resp, "X-Edge-Request-Id", r->id);
	MHD_add_response_header(resp, "X-Cache", xcache);
	MHD_add_response_header(resp, "Cache-Status", cs);
}

/* Serve stored response o (summary sr) with this age. */
static enum MHD_Result
serve_entry(struct edg_req *r, struct mobj *o, const struct cachepol_resp *sr, int64_t age,
            const char *xcache, const char *cs)
{
	struct edg_creq *cr = r->c;
	struct edg_cache *c = r->srv->cache;
	const struct centry *ce = &o->ce;
	struct MHD_Response *resp;
	struct ckey_field fl, via = { NULL, 0, NULL, 0 };
	unsigned status = ce->m.status;
	uint64_t off = 0, len = ce->body_len;
	char cr_hdr[80];
	bool only304 = false;
	size_t it;

	switch (cachepol_conditional(sr, &cr->q, &c->pol)) {
	case CACHEPOL_COND_304:
		status = 304;
		only304 = true;
		len = 0;
		break;
	case CACHEPOL_COND_412:
		return edg_send_local(r, 412, "precondition failed", false, xcache);
	default:
		break;
	}
	cr_hdr[0] = '\0';
	if (!only304 && cr->range != NULL && !r->head_only && status == 200 &&
	    (cr->if_range == NULL || cachepol_if_range(sr, cr->if_range, strlen(cr->if_range)))) {
		switch (hrange_parse(cr->range, strlen(cr->range), ce->body_len, &off, &len)) {
		case HRANGE_OK:
			status = 206;
			snprintf(cr_hdr, sizeof cr_hdr, "bytes %llu-%llu/%zu", (unsigned long long)off,
			         (unsigned long long)(off + len - 1), ce->body_len);
			break;
		case HRANGE_UNSATISFIABLE:
			status = 416;
			off = 0;
			len = 0;
			snprintf(cr_hdr, sizeof cr_hdr, "bytes */%zu", ce->body_len);
			break;
		case HRANGE_IGNORE:
			off = 0;
			len = ce->body_len;
			break;
		}
	}
	if (len > 0) {
		mobj_ref(o);
		resp = MHD_create_response_from_buffer_with_free_callback_cls(
			(size_t)len, (void *)(ce->body + off), mobj_release_cb, o);
		if (resp == NULL) {
			mobj_unref(o);
			return MHD_NO;
		}
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (resp == NULL)
			return MHD_NO;
	}
	for (it = 0; centry_field(ce, &it, &fl);) {
		if (only304 && !cachepol_304_field(fl.name, fl.nlen))
			continue;
		if (name_is(fl.name, fl.nlen, "via")) {
			if (via.name == NULL)
				via = fl;
			continue;
		}
		if (status == 416 && (name_is(fl.name, fl.nlen, "content-type") ||
		                      name_is(fl.name, fl.nlen, "content-encoding")))
			continue;
		MHD_add_response_header(resp, fl.name, fl.value);
	}
	if (cr_hdr[0] != '\0')
		MHD_add_response_header(resp, "Content-Range", cr_hdr);
	add_common(r, resp, via.name != NULL ? via.value : NULL, age, xcache, cs);
	r->bytes_out = r->head_only ? 0 : len;
	return edg_queue(r, resp, status, xcache, (long long)len);
}

/* ---- the origin leg -------------------------------------------------------------- */

/* libmicrohttpd body reader for a response the cache is storing: first
 * what was buffered already (replay), then the origin's body, copied into
 * the entry as it passes; the entry is committed at the end of the body,
 * never when it was cut short. */
static ssize_t
tee_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct edg_req *r = cls;
	struct edg_creq *cr = r->c;
	struct edg_cache *c = r->srv->cache;
	ssize_t n;

	if (cr->replay_off < cr->replay_len) {
		size_t k = cr->replay_len - cr->replay_off;

		if (k > max)
			k = max;
		memcpy(buf, cr->replay + cr->replay_off, k);
		cr->replay_off += k;
		r->bytes_out += k;
		return (ssize_t)k;
	}
	n = edg_body_reader(r, pos, buf, max);
	if (n > 0) {
		store_body(&cr->st, buf, (size_t)n);
		/* libmicrohttpd stops calling at the announced length: the
		 * last byte of a Content-Length body is the end */
		if (!(r->x.body == HRESP_BODY_LENGTH && r->x.left == 0))
			return n;
	}
	if ((n == MHD_CONTENT_READER_END_OF_STREAM || n > 0) && cr->commit_at_eof) {
		struct mobj *o = store_commit(&cr->st);

		cr->commit_at_eof = false;
		if (cr->flight != NULL)
			flight_finish(c, cr->flight, o);
		mobj_unref(o);
	} else if (n < 0 && cr->st.active) {
		LOG_INFO("cache.not_stored", "id=%s key=%s why=\"origin body cut short\"", r->id,
		         cr->st.id);
		store_drop(&cr->st);
	}
	return n;
}

/* The request fields the cache's fetch adds: the stored entry's
 * validators (RFC 9111 4.3.1). */
static void
set_validators(struct edg_req *r, const struct mobj *o)
{
	struct ckey_field et, lm;
	bool has_et = centry_get(&o->ce, "ETag", &et), has_lm = centry_get(&o->ce,
	                                                                    "Last-Modified", &lm);

	free(r->extra);
	r->extra = NULL;
	if (has_et && has_lm)
		(void)!asprintf(&r->extra, "If-None-Match: %s\r\nIf-Modified-Since: %s\r\n",
		                et.value, lm.value);
	else if (has_et)
		(void)!asprintf(&r->extra, "If-None-Match: %s\r\n", et.value);
	else if (has_lm)
		(void)!asprintf(&r->extra, "If-Modified-Since: %s\r\n", lm.value);
}

/* The summary and freshness of old's status with fields f[0..n) after a
 * revalidation (t0, t1) answered by rh (its Age counts). */
static void
merged_summary(struct edg_cache *c, const struct mobj *old, const struct ckey_field *f,
               size_t n, const struct hresp *rh, int64_t t0, int64_t t1,
               struct cachepol_resp *sr, struct cachepol_fresh *fr)
{
	size_t i;

	cachepol_resp_init(sr, old->ce.m.status, t0, t1);
	for (i = 0; i < n; i++)
		cachepol_resp_field(sr, f[i].name, f[i].nlen, f[i].value, f[i].vlen);
	for (i = 0; i < rh->nfields; i++)
		if (name_is(rh->fields[i].name, rh->fields[i].nlen, "age"))
			cachepol_resp_field(sr, "Age", 3, rh->fields[i].value, rh->fields[i].vlen);
	cachepol_resp_done(sr, &c->pol);
	cachepol_freshness(sr, &c->pol, fr);
}

/* old's body with fields f[0..n) and the summary sr as a new object (not
 * published), or NULL. */
static struct mobj *
refreshed_obj(struct edg_cache *c, const struct mobj *old, const struct ckey_field *f, size_t n,
              const struct cachepol_resp *sr, const struct cachepol_fresh *fr, uint32_t gen)
{
	struct centry_meta m = old->ce.m;
	struct err e = { 0, "" };
	unsigned char *blob;
	size_t len;

	(void)c;
	fill_meta(&m, sr, fr);
	m.status = old->ce.m.status;
	m.gen = gen; /* confirmed by a revalidation that began at gen */
	if (centry_refresh(&old->ce, &m, f, n, NULL, 0, &len, &e) < 0 ||
	    (blob = malloc(len)) == NULL) {
		LOG_DEBUG("cache.refresh_failed", "why=%s", log_q(e.msg));
		return NULL;
	}
	if (centry_refresh(&old->ce, &m, f, n, blob, len, &len, &e) < 0) {
		free(blob);
		return NULL;
	}
	return mobj_new(blob, len, old->key, old->uri, &e);
}

/* Is this field one a shared entry never takes from a 304? */
static bool
viewer_only(const struct edg_cache *c, const char *name, size_t nlen)
{
	return !c->pol.cache_set_cookie &&
	       (name_is(name, nlen, "set-cookie") || name_is(name, nlen, "set-cookie2"));
}

/* Merge a 304 (rh) into stored entry old (RFC 9111 3.2, 4.3.4).
 *
 * The shared entry, what later viewers get, never gains from a 304 a
 * field that would have kept the response out of the cache: Set-Cookie
 * (unless cache_set_cookie) stays out of it (one viewer's session must
 * not be replayed to everyone), and when the merged response is no longer
 * storable (a new private, no-store, Vary: *, ...) nothing is published
 * and old leaves both tiers: the origin no longer lets it be shared.
 *
 * Returns the shared entry, published (a ref), or NULL.  *mine (when mine
 * is not NULL) gets what the viewer who asked is answered: the merged
 * response with every field of the 304, its Set-Cookie included (a ref,
 * never published; the shared entry itself when the two are the same),
 * with its summary in *sr; NULL when it could not be made. */
static struct mobj *
refresh_entry(struct edg_cache *c, const struct mobj *old, const struct hresp *rh, int64_t t0,
              int64_t t1, uint32_t gen, struct mobj **mine, struct cachepol_resp *sr)
{
	struct cachepol_resp r304, srs;
	struct cachepol_req q;
	struct cachepol_fresh f, fs;
	struct ckey_field *merged, *shared, fl;
	enum cachepol_store why;
	struct mobj *o = NULL;
	size_t n = 0, ns = 0, it, i;

	if (mine != NULL)
		*mine = NULL;
	/* two field lists of MAX_STORED: on the heap (frames stay small) */
	merged = malloc(2 * MAX_STORED * sizeof *merged);
	if (merged == NULL)
		return NULL;
	shared = merged + MAX_STORED;
	summarise(rh, t0, t1, &c->pol, &r304);
	for (it = 0; centry_field(&old->ce, &it, &fl);) {
		bool replaced = false;

		for (i = 0; i < rh->nfields && !replaced; i++)
			replaced = rh->fields[i].nlen == fl.nlen &&
			           strncasecmp(rh->fields[i].name, fl.name, fl.nlen) == 0 &&
			           cachepol_update_field(&r304, fl.name, fl.nlen);
		if (!replaced && n < MAX_STORED)
			merged[n++] = fl;
	}
	for (i = 0; i < rh->nfields && n < MAX_STORED; i++) {
		const struct hresp_field *hf = &rh->fields[i];

		if (!cachepol_update_field(&r304, hf->name, hf->nlen) ||
		    name_is(hf->name, hf->nlen, "age") || name_is(hf->name, hf->nlen, "content-length"))
			continue;
		merged[n].name = hf->name;
		merged[n].nlen = hf->nlen;
		merged[n].value = hf->value;
		merged[n++].vlen = hf->vlen;
	}
	for (i = 0; i < n; i++)
		if (!viewer_only(c, merged[i].name, merged[i].nlen))
			shared[ns++] = merged[i];

	/* the shared entry: storable as a whole response would have to be
	 * (judged on the response: the request's own Authorization or
	 * no-store do not unmake an entry others stored) */
	merged_summary(c, old, shared, ns, rh, t0, t1, &srs, &fs);
	cachepol_req_init(&q, "GET", 3);
	why = cachepol_storable(&srs, &q, &c->pol);
	if (why == CACHEPOL_STORE) {
		o = refreshed_obj(c, old, shared, ns, &srs, &fs, gen);
		if (o != NULL) {
			atomic_store(&o->checked_ms, edg_now_ms());
			mcache_put(c->mem, o);
			if (c->rs != NULL) {
				char id[CKEY_ID_LEN + 1];

				ckey_format_id(o->key, id);
				redis_put(c, id, o->blob, o->len,
				          cachepol_store_ttl(&srs, &fs, &c->pol, now_s()));
			}
		}
	} else {
		LOG_INFO("cache.refresh_unstorable", "status=304 why=%s action=dropped",
		         cachepol_store_str(why));
		mcache_del(c->mem, old->key, old);
		if (c->rs != NULL) {
			char id[CKEY_ID_LEN + 1];
			const void *keys[1] = { id };
			size_t lens[1] = { CKEY_ID_LEN };

			ckey_format_id(old->key, id);
			(void)rstore_del(c->rs, keys, lens, 1, NULL);
		}
	}
	if (mine == NULL) {
		free(merged);
		return o;
	}
	if (o != NULL && ns == n) {
		*sr = srs;
		mobj_ref(o);
		*mine = o;
		free(merged);
		return o;
	}
	/* this viewer's own answer: the 304's fields, all of them */
	merged_summary(c, old, merged, n, rh, t0, t1, sr, &f);
	*mine = refreshed_obj(c, old, merged, n, sr, &f, gen);
	free(merged);
	return o;
}

/* Serve a stale entry because the origin failed (stale-if-error). */
static enum MHD_Result
serve_stale_on_error(struct edg_req *r, struct mobj *o, const char *what)
{
	struct edg_cache *c = r->srv->cache;
	struct cachepol_resp sr;
	struct cachepol_fresh f;
	struct cachepol_age a;

	entry_summary(o, &c->pol, &sr, &f);
	cachepol_age(&sr, now_s(), &a);
	snprintf(r->c->cs, sizeof r->c->cs, "edged; hit; ttl=%lld; detail=stale-if-error-%s",
	         (long long)(f.lifetime - a.current_age), what);
	LOG_DEBUG("cache.stale_if_error", "id=%s origin=%s", r->id, what);
	COUNT(c, n_stale);
	return serve_entry(r, o, &sr, a.current_age, "Hit from edged", r->c->cs);
}

/* A HEAD sent as GET whose answer is not stored: read a body of up to
 * DRAIN_MAX bytes to its end so that the origin connection can be reused;
 * a larger one is cut (the connection closes). */
#define DRAIN_MAX (1024 * 1024)
static void
drain_small(struct edg_req *r)
{
	char buf[4096]; /* discarded: small reads cost nothing here (256 KiB stacks) */
	struct err e = { 0, "" };
	size_t total = 0;
	ssize_t n;

	if (r->x.body == HRESP_BODY_NONE ||
	    (r->x.body == HRESP_BODY_LENGTH && r->x.left > DRAIN_MAX))
		return;
	while (total <= DRAIN_MAX && (n = hc_read_body(&r->x, buf, sizeof buf, &e)) > 0)
		total += (size_t)n;
}

/* Go to the origin for r: a miss (stale NULL) or a revalidation of stale
 * (whose use u says whether it may answer on an origin error).  fwd is the
 * Cache-Status fwd reason. */
static enum MHD_Result
fetch(struct edg_req *r, struct mobj *stale, const struct cachepol_use *u, const char *fwd)
{
	struct edg_cache *c = r->srv->cache;
	struct edg_creq *cr = r->c;
	struct cachepol_resp rp;
	const struct hresp *h;
	enum cachepol_store why;
	const char *nwhy = NULL;
	int64_t t0, t1;
	uint64_t hint;
	bool tee;

	r->fwd_get = r->head_only;
	r->strip_cond = true;
	/* a range on a miss goes to the origin as asked (a large object is
	 * not fetched whole for a few bytes); a 206 is not stored, a 200 is
	 * stored and the range answered from it */
	r->keep_range = stale == NULL && cr->range != NULL && !r->head_only;
	if (stale != NULL)
		set_validators(r, stale);
	t0 = now_s();
	if (edg_fetch_head(r) < 0) {
		if (stale != NULL && u->serve_on_error)
			return serve_stale_on_error(r, stale, hc_fail_name(r->fail));
		return edg_send_origin_error(r);
	}
	t1 = now_s();
	h = &r->x.resp;
	if (stale != NULL && h->status == 304) {
		struct cachepol_resp sr;
		struct cachepol_age a;
		struct mobj *mine, *o = refresh_entry(c, stale, h, t0, t1, r->c->gen, &mine, &sr);
		enum MHD_Result ret;

		COUNT(c, n_refresh);
		if (mine == NULL) { /* serve the old one; it was just validated */
			entry_summary(stale, &c->pol, &sr, &(struct cachepol_fresh){ 0 });
			mine = stale;
			mobj_ref(mine);
			if (o == NULL) {
				o = stale;
				mobj_ref(o);
			}
		}
		cachepol_age(&sr, now_s(), &a);
		snprintf(cr->cs, sizeof cr->cs, "edged; fwd=%s; fwd-status=304", fwd);
		ret = serve_entry(r, mine, &sr, a.current_age, "RefreshHit from edged", cr->cs);
		/* waiters get the shared entry only (NULL: they fetch for
		 * themselves), never this viewer's own fields */
		if (cr->flight != NULL)
			flight_finish(c, cr->flight, o);
		mobj_unref(mine);
		mobj_unref(o);
		return ret;
	}
	if (stale != NULL && u->serve_on_error && cachepol_is_origin_error(h->status)) {
		char what[16];

		snprintf(what, sizeof what, "%u", h->status);
		return serve_stale_on_error(r, stale, what);
	}
	COUNT(c, n_miss);
	summarise(h, t0, t1, &c->pol, &rp);
	if (r->fwd_get) /* a HEAD asked as GET: its answer is a GET's */
		cr->q.method = CACHEPOL_M_GET;
	why = cachepol_storable(&rp, &cr->q, &c->pol);
	if (r->fwd_get)
		cr->q.method = CACHEPOL_M_HEAD;
	if (why != CACHEPOL_STORE)
		nwhy = cachepol_store_str(why);
	hint = r->x.body == HRESP_BODY_LENGTH ? r->x.left :
	       r->x.body == HRESP_BODY_NONE ? 0 : UINT64_MAX;
	if (nwhy == NULL)
		(void)store_begin(&cr->st, c, h, &rp, &cr->key, cr->idx, cr->fields, cr->nfields,
		                  NULL, hint, cr->gen, &nwhy); /* on failure nwhy says why */
	if (nwhy != NULL) {
		if (stale == NULL && response_reason(why, h->status))
			pass_set(c, cr->key.digest, PASS_MS);
		snprintf(cr->cs, sizeof cr->cs, "edged; fwd=%s; fwd-status=%u; detail=%s", fwd,
		         h->status, nwhy);
		LOG_DEBUG("cache.not_stored", "id=%s key=%s status=%u why=%s", r->id, cr->key.id,
		          h->status, nwhy);
		if (cr->flight != NULL)
			flight_finish(c, cr->flight, NULL);
		if (r->fwd_get)
			drain_small(r);
		return edg_queue_origin(r, NULL, NULL, NULL, "Miss from edged", cr->cs);
	}
	pass_set(c, cr->key.digest, 0);
	snprintf(cr->cs, sizeof cr->cs, "edged; fwd=%s; fwd-status=%u; stored", fwd, h->status);
	tee = !r->head_only && cr->range == NULL && cr->q.n_inm == 0 && cr->q.n_ims == 0 &&
	      hint != 0;
	if (!tee) {
		/* HEAD, Range or a conditional request: the whole body first, then
		 * answer from the entry */
		char buf[8192]; /* not 32 KiB: threads have 256 KiB stacks */
		struct err e = { 0, "" };
		ssize_t n;

		while ((n = hc_read_body(&r->x, buf, sizeof buf, &e)) > 0) {
			unsigned char *p;
			size_t have;

			if (store_room(&cr->st, (size_t)n)) {
				store_body(&cr->st, buf, (size_t)n);
				continue;
			}
			/* over max_object_size: keep what was read for the viewer */
			have = cr->st.head_len + cr->st.body_len;
			p = realloc(cr->st.acc, have + (size_t)n);
			if (p == NULL) {
				n = -1;
				break;
			}
			memcpy(p + have, buf, (size_t)n);
			cr->replay = p;
			cr->replay_off = cr->st.head_len;
			cr->replay_len = have + (size_t)n;
			r->pre_read = cr->replay_len - cr->replay_off;
			store_unhold(&cr->st);
			cr->st.acc = NULL;
			store_drop(&cr->st);
			break;
		}
		if (cr->st.active && n < 0) {
			store_drop(&cr->st);
			r->fail = r->x.fail;
			snprintf(r->why, sizeof r->why, "%s", e.msg);
			if (cr->flight != NULL)
				flight_finish(c, cr->flight, NULL);
			return edg_send_origin_error(r);
		}
		if (cr->st.active) {
			struct mobj *o = store_commit(&cr->st);
			struct cachepol_age a;
			enum MHD_Result ret;

			if (cr->flight != NULL)
				flight_finish(c, cr->flight, o);
			if (o != NULL) {
				cachepol_age(&rp, now_s(), &a);
				ret = serve_entry(r, o, &rp, a.current_age, "Miss from edged", cr->cs);
				mobj_unref(o);
				return ret;
			}
			snprintf(cr->cs, sizeof cr->cs, "edged; fwd=%s; fwd-status=%u", fwd,
			         h->status);
			return edg_send_local(r, 502, "cannot store the response", false,
			                      "Error from edged");
		}
		/* over max_object_size: what was read goes first, then the rest */
		if (cr->flight != NULL)
			flight_finish(c, cr->flight, NULL);
		snprintf(cr->cs, sizeof cr->cs, "edged; fwd=%s; fwd-status=%u; detail=too-large",
		         fwd, h->status);
		return edg_queue_origin(r, tee_reader, r, NULL, "Miss from edged", cr->cs);
	}
	cr->commit_at_eof = true;
	return edg_queue_origin(r, tee_reader, r, NULL, "Miss from edged", cr->cs);
}

/* ---- background refresh (stale-while-revalidate) ---------------------------------- */

struct bg {
	struct edg_cache *c;
	struct edg_origin *org;
	bool https;
	char *head;
	size_t head_len;
	struct mobj *old;
	struct flight *flight;
	uint32_t gen;
	char id[40];
};

static void *
bg_main(void *arg)
{
	struct bg *b = arg;
	struct edg_cache *c = b->c;
	struct hc_exchange x;
	struct err e = { 0, "" };
	struct hc_origin *ep = b->https ? b->org->https : b->org->http;
	struct mobj *o = NULL;
	int64_t t0 = now_s(), t1, t_ms = edg_now_ms();

	memset(&x, 0, sizeof x);
	if (hc_begin(&x, ep, b->head, b->head_len, false, true, &e) < 0 ||
	    hc_send_end(&x, &e) < 0 || hc_read_head(&x, &e) < 0) {
		edg_metrics_origin(edg_now_ms() - t_ms, x.fail != HC_OK ? x.fail : HC_PROTOCOL, 0);
		LOG_INFO("cache.refresh_failed", "id=%s class=%s why=%s", b->id,
		         hc_fail_name(x.fail), log_q(e.msg));
		goto out;
	}
	edg_metrics_origin(edg_now_ms() - t_ms, HC_OK, x.resp.status);
	t1 = now_s();
	if (x.resp.status == 304) {
		struct cachepol_resp sr;

		o = refresh_entry(c, b->old, &x.resp, t0, t1, b->gen, NULL, &sr);
		COUNT(c, n_refresh);
	} else {
		/* a new full response replaces the entry when it is storable
		 * under the same key (same Vary names); else the stale one ages
		 * out */
		struct cachepol_resp rp;
		struct cachepol_req q;
		struct store st;
		struct ckey k;
		const char *why = NULL;
		char buf[4096]; /* not 32 KiB: a 256 KiB stack; a refresh is not hurried */
		ssize_t n = 0;

		summarise(&x.resp, t0, t1, &c->pol, &rp);
		cachepol_req_init(&q, "GET", 3);
		memset(&k, 0, sizeof k);
		memcpy(k.digest, b->old->key, CKEY_DIGEST_LEN);
		memcpy(k.uri_digest, b->old->uri, CKEY_DIGEST_LEN);
		ckey_format_id(k.digest, k.id);
		if (cachepol_storable(&rp, &q, &c->pol) != CACHEPOL_STORE ||
		    store_begin(&st, c, &x.resp, &rp, &k, NULL, NULL, 0, b->old,
		                x.body == HRESP_BODY_LENGTH ? x.left : UINT64_MAX, b->gen,
		                &why) < 0) {
			LOG_DEBUG("cache.refresh_not_stored", "id=%s status=%u why=%s", b->id,
			          x.resp.status, why ? why : "not storable");
			goto out;
		}
		while (st.active && (n = hc_read_body(&x, buf, sizeof buf, &e)) > 0)
			store_body(&st, buf, (size_t)n);
		if (st.active && n == 0)
			o = store_commit(&st);
		store_drop(&st);
	}
	LOG_DEBUG("cache.refreshed", "id=%s status=%u stored=%s", b->id, x.resp.status,
	          o ? "yes" : "no");
out:
	hc_end(&x);
	flight_finish(c, b->flight, o);
	flight_put(c, b->flight);
	mobj_unref(o);
	mobj_unref(b->old);
	free(b->head);
	free(b);
	pthread_mutex_lock(&c->mu);
	c->bg_running--;
	pthread_cond_broadcast(&c->bg_cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Refresh old in the background, once per key at a time. */
static void
bg_refresh(struct edg_req *r, struct mobj *old)
{
	struct edg_cache *c = r->srv->cache;
	struct edg_server *srv = r->srv;
	struct edg_origin *org = &srv->primary;
	struct flight *f;
	struct bg *b;
	pthread_attr_t at;
	pthread_t t;
	bool leader;
	const char *host_hdr;
	bool https = org->https != NULL && (org->http == NULL || r->tls);
	struct edg_fwd fw;

	f = flight_join(c, old->key, &leader);
	if (f == NULL)
		return;
	if (!leader) { /* a fetch or refresh is already under way */
		flight_put(c, f);
		return;
	}
	b = calloc(1, sizeof *b);
	pthread_mutex_lock(&c->mu);
	if (b == NULL || c->bg_running >= MAX_BG || srv->stopping) {
		pthread_mutex_unlock(&c->mu);
		free(b);
		flight_finish(c, f, NULL);
		flight_put(c, f);
		return;
	}
	c->bg_running++;
	pthread_mutex_unlock(&c->mu);
	host_hdr = https ? org->https_host_hdr : org->http_host_hdr;
	set_validators(r, old);
	memset(&fw, 0, sizeof fw);
	fw.conn = r->conn;
	fw.method = "GET";
	fw.target = r->fwd_target != NULL ? r->fwd_target : r->target;
	fw.prefix = org->prefix;
	fw.host = srv->o.forward_host ? r->host : host_hdr;
	fw.client_ip = r->client_ip;
	fw.viewer_tls = r->tls;
	fw.via = srv->via;
	fw.request_id = r->id;
	fw.content_length = -1;
	fw.strip_cond = true;
	fw.keyed = &srv->o.cache_key_headers;
	fw.extra = r->extra;
	b->c = c;
	b->org = org;
	b->https = https;
	b->old = old;
	mobj_ref(old);
	b->flight = f;
	b->gen = r->c->gen;
	snprintf(b->id, sizeof b->id, "%s", r->id);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	if (edg_build_head(&fw, &b->head, &b->head_len) < 0 ||
	    pthread_create(&t, &at, bg_main, b) != 0) {
		pthread_attr_destroy(&at);
		free(b->head);
		mobj_unref(old);
		free(b);
		flight_finish(c, f, NULL);
		flight_put(c, f);
		pthread_mutex_lock(&c->mu);
		c->bg_running--;
		pthread_cond_broadcast(&c->bg_cv);
		pthread_mutex_unlock(&c->mu);
		return;
	}
	pthread_attr_destroy(&at);
	LOG_DEBUG("cache.refresh_started", "id=%s", r->id);
}

/* ---- the request path ------------------------------------------------------------- */

bool
edg_cache_applies(const struct edg_req *r)
{
	return r->method != NULL && (strcmp(r->method, "GET") == 0 || r->head_only) &&
	       r->content_length <= 0 && !r->chunked && !r->failed;
}

static enum MHD_Result
collect_field(void *cls, enum MHD_ValueKind kind, const char *key, size_t ksz,
              const char *value, size_t vsz)
{
	struct edg_creq *cr = cls;

	(void)kind;
	if (value == NULL) {
		value = "";
		vsz = 0;
	}
	if (cr->nfields == MAX_FIELDS) {
		cr->too_many = true;
		return MHD_NO;
	}
	cr->fields[cr->nfields].name = key;
	cr->fields[cr->nfields].nlen = ksz;
	cr->fields[cr->nfields].value = value;
	cr->fields[cr->nfields++].vlen = vsz;
	cachepol_req_field(&cr->q, key, ksz, value, vsz);
	if (ksz == 5 && strcasecmp(key, "range") == 0 && cr->range == NULL)
		cr->range = value;
	if (ksz == 8 && strcasecmp(key, "if-range") == 0 && cr->if_range == NULL)
		cr->if_range = value;
	return MHD_YES;
}

/* Keep in cr->fields only what goes to the origin: hop-by-hop fields and
 * those the viewer's Connection names are dropped from the request sent
 * upstream (edg_build_head), so they must not select a key or a variant
 * either ("Connection: Accept-Language" would otherwise store the
 * origin's default language under the French variant).  The request's
 * directives to the cache itself (cr->q) were taken from every field. */
static void
forwarded_only(struct edg_creq *cr)
{
	char conn[1024];
	size_t cn = 0, i, n = 0;

	for (i = 0; i < cr->nfields; i++) {
		const struct ckey_field *f = &cr->fields[i];

		if (name_is(f->name, f->nlen, "connection") && cn + f->vlen + 2 < sizeof conn) {
			memcpy(conn + cn, f->value, f->vlen);
			cn += f->vlen;
			conn[cn++] = ',';
		}
	}
	cr->q.cookie = false;
	for (i = 0; i < cr->nfields; i++) {
		const struct ckey_field *f = &cr->fields[i];

		if (edg_hop_by_hop(f->name, f->nlen) ||
		    (cn > 0 && edg_list_has(conn, cn, f->name)))
			continue;
		if (name_is(f->name, f->nlen, "cookie") && f->vlen > 0)
			cr->q.cookie = true;
		cr->fields[n++] = *f;
	}
	cr->nfields = n;
}

/* The entry for r: under its primary key, or through a variant index. */
static struct mobj *
find(struct edg_req *r, bool *vary_miss)
{
	struct edg_cache *c = r->srv->cache;
	struct edg_creq *cr = r->c;
	struct ckey_span names[CKEY_MAX_NAMES];
	struct mobj *o;
	size_t n;

	*vary_miss = false;
	/* a key whose responses are not stored (hit-for-pass) costs no Redis
	 * round trip: it goes straight to the origin for PASS_MS */
	cr->pass = pass_marked(c, cr->key.digest);
	o = tier_get(r, cr->key.digest, cr->key.id, cr->key.uri_digest, !cr->pass);
	if (o == NULL || o->ce.m.kind == CENTRY_RESPONSE)
		return o;
	mobj_unref(cr->idx);
	cr->idx = o;
	n = centry_vary(&o->ce, names, CKEY_MAX_NAMES);
	if (variant_key(&cr->key, o->ce.m.vary_id, names, n, cr->fields, cr->nfields,
	                &cr->vkey) < 0)
		return NULL;
	o = tier_get(r, cr->vkey.digest, cr->vkey.id, cr->key.uri_digest, !cr->pass);
	if (o != NULL && o->ce.m.kind != CENTRY_RESPONSE) {
		mobj_unref(o);
		o = NULL;
	}
	*vary_miss = o == NULL;
	return o;
}

/* Does the object a collapsed fetch stored answer r (same key, or the
 * variant r's fields select)? */
static bool
answers(struct edg_req *r, const struct mobj *o)
{
	struct edg_creq *cr = r->c;
	struct ckey_span names[CKEY_MAX_NAMES];
	struct ckey vk;
	size_t n;

	if (o->ce.m.kind != CENTRY_RESPONSE)
		return false;
	if (memcmp(o->key, cr->key.digest, CKEY_DIGEST_LEN) == 0)
		return true;
	if (o->ce.nvary == 0)
		return false;
	n = centry_vary(&o->ce, names, CKEY_MAX_NAMES);
	return variant_key(&cr->key, o->ce.m.vary_id, names, n, cr->fields, cr->nfields, &vk) == 0 &&
	       memcmp(vk.digest, o->key, CKEY_DIGEST_LEN) == 0;
}

/* The part of a Host value that goes into the key: the name without any
 * port.  The port is the edge's listener, not part of what the origin
 * serves, so nodes listening on different ports share entries. */
static size_t
key_host_len(const char *host)
{
	const char *colon;

	if (host[0] == '[') {
		const char *e = strchr(host, ']');

		return e != NULL ? (size_t)(e - host) + 1 : strlen(host);
	}
	colon = strchr(host, ':');
	return colon != NULL ? (size_t)(colon - host) : strlen(host);
}

/* The primary key of method on r's host for target with request fields
 * fields[0..n) (scheme: r's, when the cache keys it; else the one given):
 * a stack buffer first, CKEY_CANON_SIZE when the text is larger (the
 * largest heads).  0, or -1 with e. */
static int
scheme_key(struct edg_cache *c, struct edg_req *r, const char *method, const char *target,
           const struct ckey_field *fields, size_t n, enum ckey_scheme scheme,
           struct ckey *out, struct err *e)
{
	struct ckey_req kr;
	char small[4096], *canon;
	int rc;

	kr.method = method;
	kr.host = r->host;
	/* the port is the edge's listener, not part of what the origin serves
	 * (nodes on different ports share entries), unless it is forwarded */
	kr.host_len = c->key_port ? strlen(r->host) : key_host_len(r->host);
	kr.https = r->tls;
	kr.scheme = c->key_scheme ? scheme : CKEY_SCHEME_NONE;
	kr.target = target;
	kr.target_len = strlen(target);
	kr.fields = fields;
	kr.nfields = n;
	if (ckey_build(c->kp, &kr, small, sizeof small, out, e) == 0)
		return 0;
	canon = malloc(CKEY_CANON_SIZE);
	if (canon == NULL)
		return -1;
	rc = ckey_build(c->kp, &kr, canon, CKEY_CANON_SIZE, out, e);
	free(canon);
	return rc;
}

static int
primary_key(struct edg_cache *c, struct edg_req *r, const char *method, const char *target,
            const struct ckey_field *fields, size_t n, struct ckey *out, struct err *e)
{
	return scheme_key(c, r, method, target, fields, n,
	                  r->tls ? CKEY_SCHEME_HTTPS : CKEY_SCHEME_HTTP, out, e);
}

/* What the origin is sent on a cacheable request: r->target with only the
 * keyed query parameters (r->fwd_target, when that differs). */
static void
forward_target(struct edg_cache *c, struct edg_req *r)
{
	const char *q = strchr(r->target, '?');
	size_t pl, n;

	if (!c->filter_query || q == NULL)
		return;
	pl = (size_t)(q - r->target);
	free(r->fwd_target);
	r->fwd_target = malloc(strlen(r->target) + 1);
	if (r->fwd_target == NULL)
		return;
	memcpy(r->fwd_target, r->target, pl + 1);
	n = ckey_forward_query(c->kp, q + 1, strlen(q + 1), r->fwd_target + pl + 1);
	r->fwd_target[n > 0 ? pl + 1 + n : pl] = '\0';
	if (strcmp(r->fwd_target, r->target) != 0)
		LOG_DEBUG("cache.query_filtered", "id=%s target=%s forwarded=%s", r->id,
		          log_q(r->target), log_q(r->fwd_target));
}

/* Not cached: straight to the origin, as without a cache. */
static enum MHD_Result
bypass(struct edg_req *r, const char *detail)
{
	struct edg_cache *c = r->srv->cache;

	COUNT(c, n_bypass);
	snprintf(r->c->cs, sizeof r->c->cs, "edged; fwd=bypass; detail=%s", detail);
	if (edg_fetch_head(r) < 0)
		return edg_send_origin_error(r);
	return edg_queue_origin(r, NULL, NULL, NULL, "Miss from edged", r->c->cs);
}

enum MHD_Result
edg_cache_respond(struct edg_req *r)
{
	struct edg_cache *c = r->srv->cache;
	struct edg_creq *cr;
	struct err e = { 0, "" };
	struct mobj *o;
	struct cachepol_resp sr;
	struct cachepol_fresh f;
	struct cachepol_use u;
	enum MHD_Result ret;
	bool collapsed = false, vary_miss;

	cr = malloc(sizeof *cr);
	if (cr != NULL)
		memset(cr, 0, offsetof(struct edg_creq, fields));
	if (cr == NULL) {
		if (edg_fetch_head(r) < 0)
			return edg_send_origin_error(r);
		return edg_queue_origin(r, NULL, NULL, NULL, "Miss from edged", NULL);
	}
	r->c = cr;
	/* before the lookup: an entry this request stores was fetched after
	 * every invalidation this node knows of */
	cr->gen = edg_inval_stamp(r->srv->inval);
	cachepol_req_init(&cr->q, r->method, strlen(r->method));
	MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, collect_field, cr);
	if (cr->too_many)
		return bypass(r, "too-many-fields");
	forwarded_only(cr);
	if ((cr->q.n_im > 0 || cr->q.n_ius > 0) && !c->pol.evaluate_if_match)
		return bypass(r, "if-match");
	if (primary_key(c, r, r->method, r->target, cr->fields, cr->nfields, &cr->key, &e) < 0) {
		LOG_DEBUG("cache.no_key", "id=%s why=%s", r->id, log_q(e.msg));
		return bypass(r, "key");
	}
	forward_target(c, r);
again:
	o = find(r, &vary_miss);
	if (o != NULL) {
		entry_summary(o, &c->pol, &sr, &f);
		cachepol_use(&sr, &f, &cr->q, &c->pol, now_s(), &u);
		switch (u.action) {
		case CACHEPOL_HIT:
		case CACHEPOL_HIT_STALE:
			if (u.action == CACHEPOL_HIT)
				COUNT(c, n_hit);
			else
				COUNT(c, n_stale);
			snprintf(cr->cs, sizeof cr->cs, "edged; hit; ttl=%lld%s", (long long)u.remaining,
			         u.action == CACHEPOL_HIT_STALE ? "; detail=max-stale" : "");
			ret = serve_entry(r, o, &sr, u.age, "Hit from edged", cr->cs);
			mobj_unref(o);
			return ret;
		case CACHEPOL_STALE_REVALIDATE:
			COUNT(c, n_stale);
			bg_refresh(r, o);
			snprintf(cr->cs, sizeof cr->cs, "edged; hit; ttl=%lld; "
			         "detail=stale-while-revalidate", (long long)u.remaining);
			ret = serve_entry(r, o, &sr, u.age, "Hit from edged", cr->cs);
			mobj_unref(o);
			return ret;
		case CACHEPOL_GATEWAY_TIMEOUT:
			mobj_unref(o);
			snprintf(cr->cs, sizeof cr->cs, "edged; fwd=miss; detail=only-if-cached");
			return edg_send_local(r, 504, "only-if-cached and no usable stored response",
			                      false, "Miss from edged");
		case CACHEPOL_REVALIDATE:
			/* RFC 9211: "request" when the request's directives ruled
			 * the stored response out, "stale" otherwise (no-cache
			 * included: it is to be validated as if stale) */
			ret = fetch(r, o, &u, strncmp(u.detail, "req-", 4) == 0 ? "request" : "stale");
			mobj_unref(o);
			return ret;
		case CACHEPOL_FETCH:
			mobj_unref(o);
			break;
		}
	}
	if (cachepol_on_miss(&cr->q) == CACHEPOL_GATEWAY_TIMEOUT)
		return edg_send_local(r, 504, "only-if-cached and nothing stored", false,
		                      "Miss from edged");
	if (!collapsed && !cr->pass) {
		bool leader;
		struct flight *fl = flight_join(c, cr->key.digest, &leader);

		if (fl != NULL && !leader) {
			COUNT(c, n_collapsed);
			o = flight_wait(c, fl);
			flight_put(c, fl);
			collapsed = true;
			if (o != NULL && answers(r, o)) {
				entry_summary(o, &c->pol, &sr, &f);
				cachepol_use(&sr, &f, &cr->q, &c->pol, now_s(), &u);
				if (u.action == CACHEPOL_HIT || u.action == CACHEPOL_HIT_STALE) {
					snprintf(cr->cs, sizeof cr->cs, "edged; hit; ttl=%lld; "
					         "detail=collapsed", (long long)u.remaining);
					ret = serve_entry(r, o, &sr, u.age, "Hit from edged", cr->cs);
					mobj_unref(o);
					return ret;
				}
			}
			mobj_unref(o);
			goto again;
		}
		cr->flight = fl;
	}
	return fetch(r, NULL, NULL, vary_miss ? "vary-miss" : "miss");
}

void
edg_cache_end(struct edg_req *r)
{
	struct edg_cache *c = r->srv->cache;
	struct edg_creq *cr = r->c;

	if (cr->flight != NULL) {
		flight_finish(c, cr->flight, NULL); /* no-op when already finished */
		flight_put(c, cr->flight);
	}
	if (cr->st.active)
		LOG_DEBUG("cache.not_stored", "id=%s key=%s why=\"viewer left before the end\"",
		          r->id, cr->st.id);
	store_drop(&cr->st);
	free(cr->replay);
	mobj_unref(cr->idx);
	free(cr);
	r->c = NULL;
}

/* ---- invalidation (RFC 9111 4.4) ----------------------------------------------------- */

/* Drop the entries of target (a path with query) on r's host; fields are
 * the request's (for cache_key_headers / cookies). */
static void
invalidate_target(struct edg_req *r, const char *target, const struct edg_creq *fields)
{
	struct edg_cache *c = r->srv->cache;
	struct ckey k;
	struct err e = { 0, "" };
	const void *keys[1];
	size_t lens[1];

	/* both schemes when they are keyed apart */
	for (int s = CKEY_SCHEME_HTTP; s <= CKEY_SCHEME_HTTPS; s++) {
		if (!c->key_scheme && s == CKEY_SCHEME_HTTP)
			continue;
		if (scheme_key(c, r, "GET", target, fields->fields, fields->nfields,
		               (enum ckey_scheme)s, &k, &e) < 0)
			return;
		mcache_del(c->mem, k.digest, NULL);
		mcache_drop_uri(c->mem, k.uri_digest);
		if (c->rs == NULL)
			continue;
		keys[0] = k.id;
		lens[0] = CKEY_ID_LEN;
		if (rstore_del(c->rs, keys, lens, 1, NULL) != RSTORE_OK)
			/* Redis is down (its state change is logged once, by
			 * rstore): other nodes keep their copy until it expires */
			LOG_DEBUG("cache.invalidation_failed", "id=%s target=%s", r->id,
			          log_q(target));
	}
	COUNT(c, n_invalidated);
	LOG_DEBUG("cache.invalidated", "id=%s target=%s key=%s", r->id, log_q(target), k.id);
}

void
edg_cache_invalidate(struct edg_req *r)
{
	const struct hresp *h = &r->x.resp;
	struct edg_creq *fc;
	char path[8192], *tpath = NULL; /* 8 KiB each: one on the heap (256 KiB stacks) */
	size_t i;
	bool have_tpath;

	if (r->method == NULL || !cachepol_invalidates(r->method, strlen(r->method), h->status))
		return;
	/* the request's fields, collected once for every target */
	fc = malloc(sizeof *fc);
	if (fc == NULL)
		return;
	memset(fc, 0, offsetof(struct edg_creq, fields));
	cachepol_req_init(&fc->q, "GET", 3);
	MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, collect_field, fc);
	invalidate_target(r, r->target, fc);
	have_tpath = (tpath = malloc(8192)) != NULL &&
	             edg_upstream_target("", r->target, tpath, 8192) == 0;
	for (i = 0; i < h->nfields && have_tpath; i++) {
		const struct hresp_field *hf = &h->fields[i];

		if (!name_is(hf->name, hf->nlen, "location") &&
		    !name_is(hf->name, hf->nlen, "content-location"))
			continue;
		if (cachepol_invalidation_target(r->tls ? "https" : "http", r->host, tpath,
		                                 hf->value, hf->vlen, path, sizeof path) == 1)
			invalidate_target(r, path, fc);
	}
	free(tpath);
	free(fc);
}
