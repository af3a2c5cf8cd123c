/*
 * test_mcache.c: the memory tier.  Objects (decoding, refusing damaged
 * blobs, reference counts: a blob outlives its eviction while a caller
 * holds it), put/get/replace, deletion with and without the identity
 * check, LRU order (a get refreshes), the budget at every step and the
 * oversized rule at its boundary, URI drops, clear, a disabled cache, an
 * object offered to two caches, table growth, and 8 threads hammering a
 * small cache, after which the counters, the entries and the objects
 * alive must all agree.  Frees are observed through mobj_live(): a ref
 * leaked or dropped twice shows there (LeakSanitizer does not report from
 * Criterion 2.4's test workers; ASan still catches a use after free).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mcache.h"

TestSuite(mcache, .timeout = 120);

/* ---- helpers ------------------------------------------------------------ */

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* A pseudo-random digest for n (SHA-256-like: every byte varies). */
static void
digest(unsigned n, unsigned char d[CKEY_DIGEST_LEN])
{
	uint64_t x = mix(n * 4 + 1);
	int i;

	for (i = 0; i < CKEY_DIGEST_LEN; i += 8) {
		x = mix(x);
		memcpy(d + i, &x, 8);
	}
}

static void
uri_digest(unsigned n, unsigned char d[CKEY_DIGEST_LEN])
{
	digest(n + 0x40000000u, d);
}

/* A valid response blob stored under key: body_len bytes of fill. */
static unsigned char *
blob(const unsigned char key[CKEY_DIGEST_LEN], size_t body_len, unsigned char fill,
     size_t *len)
{
	struct centry_src s;
	struct err e;
	unsigned char *b, *body;
	size_t need;

	memset(&s, 0, sizeof s);
	s.m.kind = CENTRY_RESPONSE;
	s.m.status = 200;
	s.m.response_time = 1764324000;
	s.m.date = 1764324000;
	s.m.lifetime = 60;
	memcpy(s.m.key, key, CKEY_DIGEST_LEN);
	body = malloc(body_len + 1);
	cr_assert_not_null(body);
	memset(body, fill, body_len);
	s.body = body;
	s.body_len = body_len;
	cr_assert_eq(centry_encode(&s, NULL, 0, &need, &e), 0, "%s", e.msg);
	b = malloc(need);
	cr_assert_not_null(b);
	cr_assert_eq(centry_encode(&s, b, need, len, &e), 0, "%s", e.msg);
	free(body);
	return b;
}

/* The object for key n, URI u, with a body of body_len bytes of fill. */
static struct mobj *
mk(unsigned n, unsigned u, size_t body_len, unsigned char fill)
{
	unsigned char key[CKEY_DIGEST_LEN], uri[CKEY_DIGEST_LEN], *b;
	struct mobj *o;
	struct err e;
	size_t len;

	digest(n, key);
	uri_digest(u, uri);
	b = blob(key, body_len, fill, &len);
	o = mobj_new(b, len, key, uri, &e);
	cr_assert_not_null(o, "mobj_new: %s", e.msg);
	return o;
}

static struct mobj *
get(struct mcache *mc, unsigned n)
{
	unsigned char key[CKEY_DIGEST_LEN];

	digest(n, key);
	return mcache_get(mc, key);
}

/* Whether key n is in mc (a get: it refreshes the entry). */
static bool
has(struct mcache *mc, unsigned n)
{
	struct mobj *o = get(mc, n);

	mobj_unref(o);
	return o != NULL;
}

static bool
del(struct mcache *mc, unsigned n, const struct mobj *o)
{
	unsigned char key[CKEY_DIGEST_LEN];

	digest(n, key);
	return mcache_del(mc, key, o);
}

static size_t
live(void)
{
	size_t n;

	mobj_live(&n, NULL);
	return n;
}

static struct mcache_stats
stats(struct mcache *mc)
{
	struct mcache_stats st;

	mcache_stats(mc, &st);
	return st;
}

static bool
body_is(const struct mobj *o, size_t body_len, unsigned char fill)
{
	size_t i;

	if (o->ce.body_len != body_len)
		return false;
	for (i = 0; i < body_len; i++)
		if ((unsigned char)o->ce.body[i] != fill)
			return false;
	return true;
}

/* Blob bytes of a response with no fields and a body of n bytes. */
#define BLEN(n) (CENTRY_HEAD_FIXED + (size_t)(n))

/* ---- objects ------------------------------------------------------------- */

Test(mcache, object_decodes_and_counts)
{
	size_t n0 = live(), b0, b1;
	unsigned char key[CKEY_DIGEST_LEN], uri[CKEY_DIGEST_LEN];
	struct mobj *o;

	mobj_live(NULL, &b0);
	o = mk(1, 2, 100, 'x');
	digest(1, key);
	uri_digest(2, uri);
	cr_assert_eq(o->len, BLEN(100));
	cr_assert_eq(o->ce.blob, o->blob);
	cr_assert_eq(o->ce.m.status, 200);
	cr_assert(body_is(o, 100, 'x'));
	cr_assert_eq(memcmp(o->key, key, sizeof key), 0);
	cr_assert_eq(memcmp(o->uri, uri, sizeof uri), 0);
	cr_assert_eq(atomic_load(&o->checked_ms), 0);
	cr_assert_eq(live(), n0 + 1);
	mobj_live(NULL, &b1);
	cr_assert_eq(b1 - b0, MCACHE_COST(BLEN(100)));
	mobj_ref(o);
	mobj_unref(o);
	cr_assert_eq(live(), n0 + 1, "one ref left");
	mobj_release_cb(o);
	cr_assert_eq(live(), n0, "freed at the last unref");
	mobj_live(NULL, &b1);
	cr_assert_eq(b1, b0);
	mobj_unref(NULL);
}

Test(mcache, damaged_blobs_refused)
{
	unsigned char key[CKEY_DIGEST_LEN], *b, *c;
	size_t len, n0 = live();
	struct err e;

	digest(7, key);
	b = blob(key, 10, 'a', &len);

	c = malloc(len);
	memcpy(c, b, len);
	c[len - 1] ^= 1; /* a body byte: checksum mismatch */
	memset(&e, 0, sizeof e);
	cr_assert_null(mobj_new(c, len, key, key, &e));
	cr_assert_eq(e.code, ERR_FAIL);
	cr_assert_neq(e.msg[0], '\0');

	c = malloc(len);
	memcpy(c, b, len);
	cr_assert_null(mobj_new(c, len - 1, key, key, &e), "truncated");

	c = malloc(len);
	memcpy(c, b, len);
	c[0] = 'X';
	cr_assert_null(mobj_new(c, len, key, key, NULL), "another magic, e NULL");

	cr_assert_null(mobj_new(malloc(1), 0, key, key, &e), "empty");
	cr_assert_eq(live(), n0, "refused blobs are freed (ASan checks)");
	free(b);
}

/* ---- put, get, refs ---------------------------------------------------------- */

Test(mcache, put_get_and_refs)
{
	struct mcache *mc = mcache_new(1 << 20, 1);
	struct mobj *o, *g;
	struct mcache_stats st;
	size_t n0 = live();

	cr_assert_not_null(mc);
	o = mk(1, 1, 50, 'o');
	cr_assert(mcache_put(mc, o));
	st = stats(mc);
	cr_assert_eq(st.entries, 1);
	cr_assert_eq(st.bytes, MCACHE_COST(BLEN(50)));
	cr_assert_eq(st.puts, 1);
	mobj_unref(o);
	cr_assert_eq(live(), n0 + 1, "the cache holds its own ref");

	g = get(mc, 1);
	cr_assert_eq(g, o);
	cr_assert_null(get(mc, 2));
	st = stats(mc);
	cr_assert_eq(st.hits, 1);
	cr_assert_eq(st.misses, 1);

	cr_assert(del(mc, 1, NULL));
	cr_assert_null(get(mc, 1));
	cr_assert_eq(live(), n0 + 1, "the caller's ref keeps it alive");
	cr_assert(body_is(g, 50, 'o'), "still readable after its removal");
	atomic_store(&g->checked_ms, 1234);
	mobj_release_cb(g);
	cr_assert_eq(live(), n0, "freed after both refs are gone");
	st = stats(mc);
	cr_assert_eq(st.entries, 0);
	cr_assert_eq(st.bytes, 0);
	cr_assert_eq(st.removed, 1);
	cr_assert(!del(mc, 1, NULL), "nothing left to delete");
	mcache_free(mc);
}

Test(mcache, replace_and_identity_del)
{
	struct mcache *mc = mcache_new(1 << 20, 4);
	struct mobj *a = mk(5, 1, 10, 'a'), *b = mk(5, 1, 20, 'b'), *g;
	struct mcache_stats st;
	size_t n0 = live();

	cr_assert(mcache_put(mc, a));
	cr_assert(mcache_put(mc, b));
	st = stats(mc);
	cr_assert_eq(st.entries, 1);
	cr_assert_eq(st.bytes, MCACHE_COST(BLEN(20)));
	cr_assert_eq(st.removed, 1, "the replaced entry counts as removed");
	g = get(mc, 5);
	cr_assert_eq(g, b);
	cr_assert(body_is(g, 20, 'b'));
	mobj_unref(g);

	mobj_unref(a);
	cr_assert_eq(live(), n0 - 1, "the replaced object's cache ref was dropped");

	cr_assert(!del(mc, 5, a), "a stale object does not remove a newer one");
	cr_assert(!del(mc, 6, b), "nor does an object under another key");
	cr_assert_eq(get(mc, 5), b);
	mobj_unref(b);
	cr_assert(del(mc, 5, b));
	cr_assert(!del(mc, 5, b));
	cr_assert_null(get(mc, 5));
	mobj_unref(b);
	cr_assert_eq(live(), n0 - 2);
	mcache_free(mc);
}

Test(mcache, put_twice_takes_one_ref)
{
	struct mcache *mc = mcache_new(1 << 20, 0);
	struct mobj *o = mk(3, 3, 0, 0);
	size_t n0 = live();

	cr_assert(mcache_put(mc, o));
	cr_assert(mcache_put(mc, o));
	cr_assert_eq(stats(mc).entries, 1);
	cr_assert_eq(stats(mc).puts, 2);
	mobj_unref(o);
	cr_assert(del(mc, 3, o));
	cr_assert_eq(live(), n0 - 1, "no ref leaked by the second put");
	mcache_free(mc);
}

Test(mcache, one_cache_at_a_time)
{
	struct mcache *a = mcache_new(1 << 20, 2), *b = mcache_new(1 << 20, 2);
	struct mobj *o = mk(9, 9, 5, 'z');

	cr_assert(mcache_put(a, o));
	cr_assert(!mcache_put(b, o), "o is in a");
	cr_assert_eq(stats(b).rejected, 1);
	cr_assert_null(get(b, 9));
	cr_assert(del(a, 9, o));
	cr_assert(mcache_put(b, o), "o left a");
	cr_assert_eq(get(b, 9), o);
	mobj_unref(o);
	mobj_unref(o);
	mcache_free(a);
	mcache_free(b);
}

Test(mcache, free_keeps_held_objects)
{
	struct mcache *mc = mcache_new(1 << 20, 8);
	struct mobj *g;
	size_t n0 = live();
	unsigned i;

	for (i = 0; i < 20; i++) {
		struct mobj *o = mk(i, 0, i, (unsigned char)i);

		cr_assert(mcache_put(mc, o));
		mobj_unref(o);
	}
	cr_assert_eq(live(), n0 + 20);
	g = get(mc, 7);
	cr_assert_not_null(g);
	mcache_free(mc);
	cr_assert_eq(live(), n0 + 1);
	cr_assert(body_is(g, 7, 7));
	mobj_unref(g);
	cr_assert_eq(live(), n0);
	mcache_free(NULL);
}

/* ---- LRU and budget ---------------------------------------------------------- */

Test(mcache, lru_order)
{
	size_t c = MCACHE_COST(BLEN(100));
	struct mcache *mc = mcache_new(4 * c + c / 2, 1); /* 4 fit, not 5 */
	struct mcache_stats st;
	struct mobj *o, *d = NULL;
	unsigned i;

	for (i = 1; i <= 4; i++) { /* A=1 B=2 C=3 D=4 */
		o = mk(i, 0, 100, 'l');
		cr_assert(mcache_put(mc, o));
		if (i == 4)
			d = o;
		else
			mobj_unref(o);
	}
	cr_assert_eq(stats(mc).evictions, 0);
	cr_assert(has(mc, 1), "A is now the most recently used: B C D A");

	o = mk(5, 0, 100, 'l'); /* E evicts B */
	cr_assert(mcache_put(mc, o));
	mobj_unref(o);
	cr_assert(!has(mc, 2), "B was the least recently used");
	st = stats(mc);
	cr_assert_eq(st.evictions, 1);
	cr_assert_eq(st.entries, 4);
	cr_assert_eq(st.bytes, 4 * c);

	o = mk(6, 0, 100, 'l'); /* F evicts C: D A E F */
	cr_assert(mcache_put(mc, o));
	mobj_unref(o);
	cr_assert(!has(mc, 3));

	/* Putting D again refreshes it (no get): A E F D.  Then an object
	 * costing two slots evicts A and E. */
	cr_assert(mcache_put(mc, d));
	mobj_unref(d);
	o = mk(7, 0, 2 * c - MCACHE_COST(BLEN(0)), 'w');
	cr_assert_eq(o->cost, 2 * c, "4.5c - 4c < 2c: must evict two");
	cr_assert(mcache_put(mc, o));
	mobj_unref(o);
	cr_assert(!has(mc, 1));
	cr_assert(!has(mc, 5));
	cr_assert(has(mc, 6));
	cr_assert(has(mc, 4));
	cr_assert(has(mc, 7));
	st = stats(mc);
	cr_assert_eq(st.evictions, 4);
	cr_assert_eq(st.entries, 3);
	cr_assert_leq(st.bytes, st.budget);
	mcache_free(mc);
}

Test(mcache, oversized_refused_at_the_boundary)
{
	size_t budget = 64 * 1024, share = budget / 2, max_len;
	struct mcache *mc = mcache_new(budget, 2);
	struct mobj *o;
	size_t n0 = live();

	max_len = share / 2 - sizeof(struct mobj) - MCACHE_OVERHEAD;
	cr_assert(mcache_fits(mc, max_len));
	cr_assert(!mcache_fits(mc, max_len + 1));
	cr_assert(!mcache_fits(mc, SIZE_MAX));

	o = mk(1, 0, max_len - CENTRY_HEAD_FIXED + 1, 'b');
	cr_assert_eq(o->len, max_len + 1);
	cr_assert(!mcache_put(mc, o));
	cr_assert_eq(stats(mc).rejected, 1);
	cr_assert_eq(stats(mc).entries, 0);
	mobj_unref(o);
	cr_assert_eq(live(), n0, "a refused object is left to its caller");

	o = mk(1, 0, max_len - CENTRY_HEAD_FIXED, 'b');
	cr_assert(mcache_put(mc, o));
	cr_assert_eq(stats(mc).bytes, share / 2);
	mobj_unref(o);
	mcache_free(mc);

	/* 3 shards are 4: the limit is budget / 4 / 2 */
	mc = mcache_new(budget, 3);
	cr_assert(mcache_fits(mc, budget / 8 - sizeof(struct mobj) - MCACHE_OVERHEAD));
	cr_assert(!mcache_fits(mc, budget / 8 - sizeof(struct mobj) - MCACHE_OVERHEAD + 1));
	mcache_free(mc);
}

Test(mcache, budget_never_exceeded)
{
	static const unsigned shard_counts[] = { 1, 4 };
	size_t budget = 64 * 1024, k;
	uint64_t r = 42;

	for (k = 0; k < 2; k++) {
		struct mcache *mc = mcache_new(budget, shard_counts[k]);
		size_t n0 = live(), maxb = budget / shard_counts[k] / 2 - MCACHE_COST(BLEN(0));
		struct mcache_stats st;
		size_t sum = 0, count = 0;
		unsigned i;

		for (i = 0; i < 3000; i++) {
			struct mobj *o;

			r = mix(r);
			o = mk((unsigned)(r % 300), 0, (size_t)(r >> 32) % (maxb + 1), 'q');
			cr_assert(mcache_put(mc, o));
			mobj_unref(o);
			st = stats(mc);
			cr_assert_leq(st.bytes, budget, "after put %u: %zu bytes", i, st.bytes);
			if (i % 7 == 0)
				del(mc, (unsigned)(r >> 16) % 300, NULL);
		}
		st = stats(mc);
		cr_assert_gt(st.evictions, 0);
		for (i = 0; i < 300; i++) {
			struct mobj *o = get(mc, i);

			if (o != NULL) {
				sum += o->cost;
				count++;
				cr_assert(body_is(o, o->len - CENTRY_HEAD_FIXED, 'q'));
			}
			mobj_unref(o);
		}
		cr_assert_eq(count, st.entries);
		cr_assert_eq(sum, st.bytes);
		cr_assert_eq(live(), n0 + count, "only the entries are alive");
		cr_assert_eq(st.puts, 3000);
		mcache_free(mc);
		cr_assert_eq(live(), n0);
	}
}

Test(mcache, table_grows)
{
	struct mcache *mc = mcache_new(64 << 20, 2);
	struct mobj *o;
	unsigned i;

	for (i = 0; i < 20000; i++) {
		o = mk(i, i % 5, i % 64, (unsigned char)i);
		cr_assert(mcache_put(mc, o));
		mobj_unref(o);
	}
	cr_assert_eq(stats(mc).entries, 20000);
	cr_assert_eq(stats(mc).evictions, 0);
	for (i = 0; i < 20000; i++) {
		o = get(mc, i);
		cr_assert_not_null(o, "key %u", i);
		cr_assert(body_is(o, i % 64, (unsigned char)i));
		mobj_unref(o);
	}
	for (i = 0; i < 20000; i += 2)
		cr_assert(del(mc, i, NULL));
	cr_assert_eq(stats(mc).entries, 10000);
	cr_assert_eq(mcache_drop_uri(mc, (const unsigned char[CKEY_DIGEST_LEN]){ 0 }), 0);
	mcache_free(mc);
}

/* ---- drop_uri, clear, disabled ---------------------------------------------- */

Test(mcache, drop_uri_removes_every_variant)
{
	struct mcache *mc = mcache_new(1 << 20, 4);
	unsigned char u[CKEY_DIGEST_LEN];
	struct mobj *held;
	size_t n0 = live();
	unsigned i;

	for (i = 0; i < 12; i++) { /* keys 0..7: URI 100; 8..11: URI 101 */
		struct mobj *o = mk(i, i < 8 ? 100 : 101, i, 'v');

		cr_assert(mcache_put(mc, o));
		mobj_unref(o);
	}
	held = get(mc, 3);
	uri_digest(100, u);
	cr_assert_eq(mcache_drop_uri(mc, u), 8);
	for (i = 0; i < 12; i++)
		cr_assert_eq(has(mc, i), i >= 8, "key %u", i);
	cr_assert_eq(stats(mc).entries, 4);
	cr_assert_eq(stats(mc).removed, 8);
	cr_assert_eq(stats(mc).bytes, MCACHE_COST(BLEN(8)) + MCACHE_COST(BLEN(9)) +
	                              MCACHE_COST(BLEN(10)) + MCACHE_COST(BLEN(11)));
	cr_assert_eq(live(), n0 + 5, "4 entries and the one held");
	cr_assert_eq(mcache_drop_uri(mc, u), 0);
	uri_digest(102, u);
	cr_assert_eq(mcache_drop_uri(mc, u), 0);
	mobj_unref(held);
	cr_assert_eq(live(), n0 + 4);
	mcache_free(mc);
}

Test(mcache, clear)
{
	struct mcache *mc = mcache_new(1 << 20, 4);
	struct mcache_stats st;
	struct mobj *held;
	size_t n0 = live();
	unsigned i;

	for (i = 0; i < 10; i++) {
		struct mobj *o = mk(i, i, 10, 'c');

		cr_assert(mcache_put(mc, o));
		mobj_unref(o);
	}
	held = get(mc, 4);
	mcache_clear(mc);
	st = stats(mc);
	cr_assert_eq(st.entries, 0);
	cr_assert_eq(st.bytes, 0);
	cr_assert_eq(st.removed, 10);
	cr_assert_eq(live(), n0 + 1);
	for (i = 0; i < 10; i++)
		cr_assert(!has(mc, i));
	cr_assert(mcache_put(mc, held), "an object cleared out may be put back");
	cr_assert(has(mc, 4));
	mobj_unref(held);
	mcache_free(mc);
	cr_assert_eq(live(), n0);
}

Test(mcache, budget_zero_disables)
{
	struct mcache *mc = mcache_new(0, 0);
	struct mcache_stats st;
	struct mobj *o = mk(1, 1, 0, 0);
	size_t n0 = live();

	cr_assert(!mcache_fits(mc, 0));
	cr_assert(!mcache_put(mc, o));
	cr_assert_null(get(mc, 1));
	st = stats(mc);
	cr_assert_eq(st.rejected, 1);
	cr_assert_eq(st.puts, 0);
	cr_assert_eq(st.misses, 1);
	cr_assert_eq(st.entries, 0);
	cr_assert_eq(st.budget, 0);
	mobj_unref(o);
	cr_assert_eq(live(), n0 - 1);
	mcache_free(mc);
}

/* ---- threads ---------------------------------------------------------------- */

#define NTHREADS 8
#define NOPS     100000
#define NKEYS    256
#define NURIS    16
#define NHELD    4

static struct mcache *stress_mc;
static unsigned char *tmpl[NKEYS];       /* one blob per key, copied for each put */
static size_t tmpl_len[NKEYS];
static atomic_ullong stress_puts, stress_bad;

static size_t
stress_body(unsigned k)
{
	return (k * 37u) % 2500u;
}

static unsigned char
stress_fill(unsigned k)
{
	return (unsigned char)(k * 7u + 1u);
}

static bool
stress_ok(const struct mobj *o, unsigned k)
{
	unsigned char key[CKEY_DIGEST_LEN];

	digest(k, key);
	return memcmp(o->key, key, sizeof key) == 0 &&
	       memcmp(o->ce.m.key, key, sizeof key) == 0 &&
	       body_is(o, stress_body(k), stress_fill(k));
}

static void *
stress_thread(void *arg)
{
	uint64_t r = mix((uintptr_t)arg);
	unsigned char key[CKEY_DIGEST_LEN], uri[CKEY_DIGEST_LEN];
	struct mobj *held[NHELD] = { 0 }, *o;
	unsigned long long puts = 0, bad = 0;
	unsigned i, k, op, h;

	for (i = 0; i < NOPS; i++) {
		r = mix(r);
		k = (unsigned)(r % NKEYS);
		op = (unsigned)(r >> 32) % 100;
		h = (unsigned)(r >> 48) % NHELD;
		digest(k, key);
		if (op < 50) { /* a hit, kept for a while */
			o = mcache_get(stress_mc, key);
			if (o != NULL) {
				bad += !stress_ok(o, k);
				mobj_unref(held[h]);
				held[h] = o;
			}
		} else if (op < 80) { /* a fresh object from "Redis" */
			unsigned char *b = malloc(tmpl_len[k]);

			memcpy(b, tmpl[k], tmpl_len[k]);
			uri_digest(k % NURIS, uri);
			o = mobj_new(b, tmpl_len[k], key, uri, NULL);
			bad += o == NULL;
			if (o != NULL) {
				puts++;
				mcache_put(stress_mc, o);
				mobj_unref(o);
			}
		} else if (op < 88) { /* drop what we hold if it is still there */
			if (held[h] != NULL) {
				mcache_del(stress_mc, held[h]->key, held[h]);
				mobj_unref(held[h]);
				held[h] = NULL;
			}
		} else if (op < 95) {
			mcache_del(stress_mc, key, NULL);
		} else if (op < 99) { /* put back an object we hold */
			if (held[h] != NULL) {
				puts++;
				mcache_put(stress_mc, held[h]);
			}
		} else if ((r >> 40) % 8 == 0) {
			uri_digest(k % NURIS, uri);
			mcache_drop_uri(stress_mc, uri);
		} else {
			struct mcache_stats st;

			mcache_stats(stress_mc, &st);
			bad += st.bytes > st.budget;
		}
	}
	for (h = 0; h < NHELD; h++)
		mobj_unref(held[h]);
	atomic_fetch_add(&stress_puts, puts);
	atomic_fetch_add(&stress_bad, bad);
	return NULL;
}

Test(mcache, threads)
{
	pthread_t t[NTHREADS];
	struct mcache_stats st;
	size_t n0 = live(), sum = 0, count = 0;
	uintptr_t i;
	unsigned k;

	for (k = 0; k < NKEYS; k++) {
		unsigned char key[CKEY_DIGEST_LEN];

		digest(k, key);
		tmpl[k] = blob(key, stress_body(k), stress_fill(k), &tmpl_len[k]);
	}
	stress_mc = mcache_new(256 * 1024, 4); /* about 100 of the 256 keys fit */
	cr_assert_not_null(stress_mc);
	for (i = 0; i < NTHREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, stress_thread, (void *)i), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);

	cr_assert_eq(atomic_load(&stress_bad), 0, "wrong objects or budget overruns seen");
	st = stats(stress_mc);
	cr_log_info("hits %llu misses %llu puts %llu rejected %llu evictions %llu removed %llu "
	            "entries %zu bytes %zu", st.hits, st.misses, st.puts, st.rejected,
	            st.evictions, st.removed, st.entries, st.bytes);
	cr_assert_leq(st.bytes, st.budget);
	cr_assert_eq(st.puts + st.rejected, atomic_load(&stress_puts));
	cr_assert_gt(st.evictions, 0);
	cr_assert_gt(st.hits, 0);
	for (k = 0; k < NKEYS; k++) {
		struct mobj *o = get(stress_mc, k);

		if (o != NULL) {
			cr_assert(stress_ok(o, k));
			sum += o->cost;
			count++;
		}
		mobj_unref(o);
	}
	cr_assert_eq(count, st.entries);
	cr_assert_eq(sum, st.bytes);
	cr_assert_eq(live(), n0 + count, "every object not in the cache was freed");
	mcache_free(stress_mc);
	cr_assert_eq(live(), n0);
	for (k = 0; k < NKEYS; k++)
		free(tmpl[k]);
}
