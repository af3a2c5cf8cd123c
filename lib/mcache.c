/*
 * mcache.c: the memory tier (see mcache.h).
 *
 * Each shard is a struct mcache_shard on its own cache lines: a mutex
 * that guards everything in it, the bucket array, the LRU list (a
 * circular list through struct mlink, its sentinel in the shard: next is
 * the most recently used, prev the least) and the counters.
 *
 * Leaving a shard: every path that takes an object out (detach) does it
 * under the lock, marks o->shard LEAVING and threads o onto a local list
 * through o->dnext; after the unlock, release() walks that list, clears
 * each mark and drops the cache's ref.  The list cannot live in hnext or
 * lru: once the lock is released a caller holding its own ref may put the
 * object again, which rewrites those links.  The mark is what keeps it
 * from doing so while the object is still on the list (dnext would be
 * rewritten by a second detach): mcache_put claims o->shard with a
 * compare-and-swap from NULL, under the shard lock, so an object in
 * another cache or still leaving is refused, and an object in this shard
 * is found under its key.  dnext is read before the mark is cleared.
 *
 * Growing a table: a put that leaves more entries than buckets in its
 * shard doubles the array after its unlock: the new array is allocated
 * unlocked, the chains moved under the lock (if nobody grew it
 * meanwhile), and the old array freed unlocked.  Out of memory, the
 * table simply stays as it is (longer chains, still correct).
 */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "mcache.h"

#define MIN_BBITS 4  /* 16 buckets per shard at first */
#define MAX_BBITS 30

struct mcache_shard {
	pthread_mutex_t mu;
	struct mobj **buckets;     /* nbuckets chains through hnext */
	size_t nbuckets;           /* 1 << bbits */
	unsigned bbits;
	uint64_t mul;              /* the cache's bucket multiplier */
	struct mlink lru;          /* sentinel: next MRU, prev LRU */
	size_t budget;             /* this shard's share */
	size_t bytes, entries;
	unsigned long long hits, misses, puts, evictions, removed;
} __attribute__((aligned(64)));

struct mcache {
	struct mcache_shard *shards;
	unsigned nshards;
	unsigned sbits;            /* nshards == 1 << sbits */
	uint64_t mul;              /* shard multiplier (odd) */
	size_t budget;
	size_t max_cost;           /* largest cost kept: share / 2 */
	atomic_ullong rejected;
};

/* o->shard of an object on a release list.  Never dereferenced. */
static char leaving_tag;
#define LEAVING ((struct mcache_shard *)(void *)&leaving_tag)

static atomic_size_t live_count, live_bytes;

#define lru_obj(l) ((struct mobj *)(void *)((char *)(l) - offsetof(struct mobj, lru)))

/* ---- objects ------------------------------------------------------------- */

struct mobj *
mobj_new(unsigned char *blob, size_t len, const unsigned char key[CKEY_DIGEST_LEN],
         const unsigned char uri[CKEY_DIGEST_LEN], struct err *e)
{
	struct centry ce;
	struct mobj *o;

	if (centry_decode(blob, len, &ce, e) < 0) {
		free(blob);
		return NULL;
	}
	o = calloc(1, sizeof *o);
	if (o == NULL) {
		free(blob);
		err_set(e, ERR_FAIL, "mcache: out of memory");
		return NULL;
	}
	o->blob = blob;
	o->len = len;
	o->ce = ce;
	memcpy(o->key, key, CKEY_DIGEST_LEN);
	memcpy(o->uri, uri, CKEY_DIGEST_LEN);
	atomic_init(&o->checked_ms, 0);
	atomic_init(&o->bans_ok, 0);
	atomic_init(&o->refs, 1);
	o->cost = MCACHE_COST(len);
	atomic_init(&o->shard, NULL);
	atomic_fetch_add_explicit(&live_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&live_bytes, o->cost, memory_order_relaxed);
	return o;
}

void
mobj_ref(struct mobj *o)
{
	atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
}

void
mobj_unref(struct mobj *o)
{
	int was;

	if (o == NULL)
		return;
	/* acq_rel rather than release plus an acquire fence at zero: the
	 * same on x86, and ThreadSanitizer understands it */
	was = atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel);
	assert(was > 0);
	if (was != 1)
		return;
	atomic_fetch_sub_explicit(&live_count, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&live_bytes, o->cost, memory_order_relaxed);
	free((void *)o->blob);
	free(o);
}

void
mobj_release_cb(void *cls)
{
	mobj_unref(cls);
}

void
mobj_live(size_t *count, size_t *bytes)
{
	if (count != NULL)
		*count = atomic_load_explicit(&live_count, memory_order_relaxed);
	if (bytes != NULL)
		*bytes = atomic_load_explicit(&live_bytes, memory_order_relaxed);
}

/* ---- shards: everything here runs under s->mu ----------------------------- */

static uint64_t
load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

/* Multiply-shift: the top bits of the product of a key word and an odd
 * multiplier drawn at random (so crafted keys cannot aim at one chain). */
static struct mcache_shard *
shard_of(const struct mcache *mc, const unsigned char *key)
{
	if (mc->sbits == 0)
		return mc->shards;
	return &mc->shards[(load64(key) * mc->mul) >> (64 - mc->sbits)];
}

static size_t
bucket_of(const struct mcache_shard *s, const unsigned char *key)
{
	return (size_t)((load64(key + 8) * s->mul) >> (64 - s->bbits));
}

/* The link that points at key's entry, or at NULL at the end of its chain. */
static struct mobj **
chain_find(struct mcache_shard *s, const unsigned char *key)
{
	struct mobj **pp = &s->buckets[bucket_of(s, key)];

	while (*pp != NULL && memcmp((*pp)->key, key, CKEY_DIGEST_LEN) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

static void
lru_del(struct mlink *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
}

static void
lru_push(struct mcache_shard *s, struct mlink *l)
{
	l->prev = &s->lru;
	l->next = s->lru.next;
	s->lru.next->prev = l;
	s->lru.next = l;
}

static void
lru_touch(struct mcache_shard *s, struct mobj *o)
{
	if (s->lru.next != &o->lru) {
		lru_del(&o->lru);
		lru_push(s, &o->lru);
	}
}

/* Take the entry *pp out of s onto the release list *dead. */
static void
detach(struct mcache_shard *s, struct mobj **pp, struct mobj **dead)
{
	struct mobj *o = *pp;

	*pp = o->hnext;
	o->hnext = NULL;
	lru_del(&o->lru);
	s->bytes -= o->cost;
	s->entries--;
	atomic_store(&o->shard, LEAVING);
	o->dnext = *dead;
	*dead = o;
}

/* The same for an entry known by its address. */
static void
detach_obj(struct mcache_shard *s, struct mobj *o, struct mobj **dead)
{
	struct mobj **pp = &s->buckets[bucket_of(s, o->key)];

	while (*pp != o)
		pp = &(*pp)->hnext;
	detach(s, pp, dead);
}

/* After the unlock: drop the cache's ref of every object on the list. */
static void
release(struct mobj *dead)
{
	struct mobj *o, *next;

	for (o = dead; o != NULL; o = next) {
		next = o->dnext;
		o->dnext = NULL;
		atomic_store(&o->shard, NULL);
		mobj_unref(o);
	}
}

static void
shard_grow(struct mcache_shard *s)
{
	struct mobj **nb, **old, *o, *next;
	size_t n, i, b;
	bool need;

	pthread_mutex_lock(&s->mu);
	n = s->nbuckets;
	need = s->entries > n && s->bbits < MAX_BBITS;
	pthread_mutex_unlock(&s->mu);
	if (!need)
		return;
	nb = calloc(2 * n, sizeof *nb);
	if (nb == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	if (s->nbuckets != n) { /* another put grew it */
		pthread_mutex_unlock(&s->mu);
		free(nb);
		return;
	}
	old = s->buckets;
	s->buckets = nb;
	s->nbuckets = 2 * n;
	s->bbits++;
	for (i = 0; i < n; i++) {
		for (o = old[i]; o != NULL; o = next) {
			next = o->hnext;
			b = bucket_of(s, o->key);
			o->hnext = nb[b];
			nb[b] = o;
		}
	}
	pthread_mutex_unlock(&s->mu);
	free(old);
}

/* ---- the cache ----------------------------------------------------------- */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Two random odd multipliers: getrandom, or the clock and an address. */
static void
seeds(uint64_t out[2], const void *salt)
{
	struct timespec ts;
	uint64_t x;

	if (getrandom(out, 2 * sizeof out[0], GRND_NONBLOCK) != 2 * sizeof out[0]) {
		clock_gettime(CLOCK_REALTIME, &ts);
		x = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		x ^= (uint64_t)(uintptr_t)salt;
		out[0] = splitmix64(&x);
		out[1] = splitmix64(&x);
	}
	out[0] |= 1;
	out[1] |= 1;
}

struct mcache *
mcache_new(size_t budget, unsigned shards)
{
	struct mcache *mc;
	struct mcache_shard *s;
	uint64_t mul[2];
	unsigned i, n = 1, bits = 0;

	if (shards == 0)
		shards = MCACHE_SHARDS;
	if (shards > MCACHE_MAX_SHARDS)
		shards = MCACHE_MAX_SHARDS;
	while (n < shards) {
		n <<= 1;
		bits++;
	}
	mc = calloc(1, sizeof *mc);
	if (mc == NULL)
		return NULL;
	mc->shards = aligned_alloc(64, n * sizeof *mc->shards);
	if (mc->shards == NULL) {
		free(mc);
		return NULL;
	}
	memset(mc->shards, 0, n * sizeof *mc->shards);
	seeds(mul, mc);
	mc->nshards = n;
	mc->sbits = bits;
	mc->mul = mul[0];
	mc->budget = budget;
	mc->max_cost = budget / n / 2;
	atomic_init(&mc->rejected, 0);
	for (i = 0; i < n; i++) {
		s = &mc->shards[i];
		s->buckets = calloc((size_t)1 << MIN_BBITS, sizeof *s->buckets);
		if (s->buckets == NULL) {
			while (i-- > 0) {
				pthread_mutex_destroy(&mc->shards[i].mu);
				free(mc->shards[i].buckets);
			}
			free(mc->shards);
			free(mc);
			return NULL;
		}
		pthread_mutex_init(&s->mu, NULL);
		s->nbuckets = (size_t)1 << MIN_BBITS;
		s->bbits = MIN_BBITS;
		s->mul = mul[1];
		s->lru.next = s->lru.prev = &s->lru;
		s->budget = budget / n;
	}
	return mc;
}

/* Take every entry of s onto *dead; returns how many. */
static size_t
shard_empty(struct mcache_shard *s, struct mobj **dead)
{
	size_t i, n = s->entries;

	for (i = 0; i < s->nbuckets; i++)
		while (s->buckets[i] != NULL)
			detach(s, &s->buckets[i], dead);
	return n;
}

void
mcache_free(struct mcache *mc)
{
	struct mobj *dead = NULL;
	unsigned i;

	if (mc == NULL)
		return;
	for (i = 0; i < mc->nshards; i++) {
		shard_empty(&mc->shards[i], &dead);
		pthread_mutex_destroy(&mc->shards[i].mu);
		free(mc->shards[i].buckets);
	}
	release(dead);
	free(mc->shards);
	free(mc);
}

bool
mcache_fits(const struct mcache *mc, size_t len)
{
	return len <= SIZE_MAX - sizeof(struct mobj) - MCACHE_OVERHEAD &&
	       MCACHE_COST(len) <= mc->max_cost;
}

bool
mcache_put(struct mcache *mc, struct mobj *o)
{
	struct mcache_shard *s = shard_of(mc, o->key), *expect = NULL;
	struct mobj **pp, *dead = NULL;
	bool grow;

	if (o->cost > mc->max_cost)
		goto reject;
	pthread_mutex_lock(&s->mu);
	pp = chain_find(s, o->key);
	if (*pp == o) { /* already here */
		lru_touch(s, o);
		s->puts++;
		pthread_mutex_unlock(&s->mu);
		return true;
	}
	if (!atomic_compare_exchange_strong(&o->shard, &expect, s)) {
		pthread_mutex_unlock(&s->mu); /* in another cache, or leaving */
		goto reject;
	}
	if (*pp != NULL) {
		detach(s, pp, &dead);
		s->removed++;
	}
	while (s->bytes + o->cost > s->budget && s->lru.prev != &s->lru) {
		detach_obj(s, lru_obj(s->lru.prev), &dead);
		s->evictions++;
	}
	pp = &s->buckets[bucket_of(s, o->key)];
	o->hnext = *pp;
	*pp = o;
	lru_push(s, &o->lru);
	s->bytes += o->cost;
	s->entries++;
	s->puts++;
	mobj_ref(o);
	grow = s->entries > s->nbuckets;
	pthread_mutex_unlock(&s->mu);
	release(dead);
	if (grow)
		shard_grow(s);
	return true;
reject:
	atomic_fetch_add_explicit(&mc->rejected, 1, memory_order_relaxed);
	return false;
}

struct mobj *
mcache_get(struct mcache *mc, const unsigned char key[CKEY_DIGEST_LEN])
{
	struct mcache_shard *s = shard_of(mc, key);
	struct mobj *o;

	pthread_mutex_lock(&s->mu);
	o = *chain_find(s, key);
	if (o != NULL) {
		lru_touch(s, o);
		mobj_ref(o);
		s->hits++;
	} else {
		s->misses++;
	}
	pthread_mutex_unlock(&s->mu);
	return o;
}

bool
mcache_del(struct mcache *mc, const unsigned char key[CKEY_DIGEST_LEN], const struct mobj *o)
{
	struct mcache_shard *s = shard_of(mc, key);
	struct mobj **pp, *dead = NULL;

	pthread_mutex_lock(&s->mu);
	pp = chain_find(s, key);
	if (*pp == NULL || (o != NULL && *pp != o)) {
		pthread_mutex_unlock(&s->mu);
		return false;
	}
	detach(s, pp, &dead);
	s->removed++;
	pthread_mutex_unlock(&s->mu);
	release(dead);
	return true;
}

size_t
mcache_drop_uri(struct mcache *mc, const unsigned char uri[CKEY_DIGEST_LEN])
{
	struct mcache_shard *s;
	struct mobj *dead;
	struct mlink *l, *next;
	size_t n = 0;
	unsigned i;

	for (i = 0; i < mc->nshards; i++) {
		s = &mc->shards[i];
		dead = NULL;
		pthread_mutex_lock(&s->mu);
		for (l = s->lru.next; l != &s->lru; l = next) {
			next = l->next;
			if (memcmp(lru_obj(l)->uri, uri, CKEY_DIGEST_LEN) == 0) {
				detach_obj(s, lru_obj(l), &dead);
				s->removed++;
				n++;
			}
		}
		pthread_mutex_unlock(&s->mu);
		release(dead);
	}
	return n;
}

void
mcache_clear(struct mcache *mc)
{
	struct mcache_shard *s;
	struct mobj *dead;
	unsigned i;

	for (i = 0; i < mc->nshards; i++) {
		s = &mc->shards[i];
		dead = NULL;
		pthread_mutex_lock(&s->mu);
		s->removed += shard_empty(s, &dead);
		pthread_mutex_unlock(&s->mu);
		release(dead);
	}
}

void
mcache_stats(struct mcache *mc, struct mcache_stats *st)
{
	struct mcache_shard *s;
	unsigned i;

	memset(st, 0, sizeof *st);
	for (i = 0; i < mc->nshards; i++) {
		s = &mc->shards[i];
		pthread_mutex_lock(&s->mu);
		st->hits += s->hits;
		st->misses += s->misses;
		st->puts += s->puts;
		st->evictions += s->evictions;
		st->removed += s->removed;
		st->bytes += s->bytes;
		st->entries += s->entries;
		pthread_mutex_unlock(&s->mu);
	}
	st->rejected = atomic_load_explicit(&mc->rejected, memory_order_relaxed);
	st->budget = mc->budget;
}
