/*
 * mcache.h: the in-process memory tier of edged's shared cache: recently
 * used entries (centry blobs, see centry.h) kept in RAM in front of Redis,
 * under a byte budget, evicted least-recently-used first.
 *
 *     o = mobj_new(blob, len, key, uri, &e);   takes blob; NULL: refused
 *     mcache_put(mc, o);                       the cache takes its own ref
 *     mobj_unref(o);                           ours
 *     ...
 *     if ((o = mcache_get(mc, key)) != NULL) { a hit: a new ref
 *             ... serve o->ce.body straight from the blob, then
 *             mobj_unref(o) (or hand o to libmicrohttpd with
 *             mobj_release_cb as the buffer's free callback)
 *     }
 *
 * Objects: a struct mobj is one immutable blob, decoded once
 * (centry_decode) when it is made, and reference-counted: the cache holds
 * one ref while the object is in it, every mcache_get hands out another.
 * So an object evicted, replaced or deleted while a response is still
 * being sent from it stays alive until that response lets it go; the
 * blob is freed at the last unref, whoever drops it.  mobj_live() counts
 * the objects alive, in the cache or not (memory the budget does not see).
 * The memory tier knows nothing of freshness: the caller reads o->ce.m,
 * records in o->checked_ms when it last confirmed o against Redis, and
 * removes an object it finds stale with mcache_del(mc, key, o), which
 * leaves alone a newer object another thread has put meanwhile.
 *
 * Budget: an object costs MCACHE_COST(len): its blob, its struct mobj and
 * MCACHE_OVERHEAD bytes for the allocator's headers and its hash slot.
 * The budget is split evenly between the shards, and each shard keeps
 * its entries' costs within its share (budget / shards) at every moment:
 * a put evicts from the least-recently-used end of its shard until the
 * new object fits, then links it.  An object costing more than half a
 * shard's share is not kept at all (mcache_put returns false; see
 * mcache_fits), so one large object can never empty a shard.  With 16
 * shards and a 256 MiB budget that is 8 MiB; larger objects are served
 * from Redis only.  Budget 0 disables the cache: every put is refused,
 * every get misses.
 *
 * Layout: shards, each with one mutex, a hash table of chains through
 * the objects themselves (power-of-two buckets, doubled when the entries
 * outnumber them, the arrays allocated and freed outside the lock; never
 * shrunk) and an intrusive doubly
 * linked LRU list, most recently used first.  A key's shard and bucket
 * come from two 64-bit words of its SHA-256 digest, each multiplied by a
 * random odd number drawn at mcache_new (multiply-shift hashing), so that
 * keys crafted to share low bits do not pile up in one shard or chain.
 * mcache_get, the hit path, allocates nothing: one lock, a short chain
 * walk comparing 32-byte digests, a move to the LRU head, an atomic
 * increment, one unlock.  An object leaves its shard (evicted, replaced,
 * deleted, dropped, cleared) under the lock, on a list threaded through
 * the objects, and the cache's refs are dropped after the unlock: no blob
 * is ever freed under a shard lock.  An object is in at most one cache at
 * a time; putting it into another, or back while it is on its way out, is
 * refused.
 *
 * Threads: every function but mcache_new and mcache_free may be called
 * from any number of threads at once.  mobj_ref and mobj_unref are
 * atomic and may be called from any thread at any time, during or after
 * mcache_free too.
 * Statistics are counted under the shard locks (rejected with an atomic)
 * and summed shard by shard: each shard's part is exact, the sum is not
 * one snapshot.
 */
#ifndef EDGED_MCACHE_H
#define EDGED_MCACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "centry.h"
#include "ckey.h"
#include "err.h"

#define MCACHE_OVERHEAD   64   /* bytes counted per object besides the blob and
                                * its struct mobj (two malloc headers, a
                                * bucket slot, slack) */
#define MCACHE_SHARDS     16   /* mcache_new's default */
#define MCACHE_MAX_SHARDS 4096

/* What an object of len blob bytes costs against the budget. */
#define MCACHE_COST(len) ((size_t)(len) + sizeof(struct mobj) + MCACHE_OVERHEAD)

struct mcache;
struct mcache_shard;

/* A link of the LRU list (private). */
struct mlink {
	struct mlink *prev, *next;
};

/* An immutable, reference-counted cache entry blob. */
struct mobj {
	const unsigned char *blob;           /* owned; freed at the last unref */
	size_t len;
	struct centry ce;                    /* decoded view into blob */
	unsigned char key[CKEY_DIGEST_LEN];  /* digest it is stored under */
	unsigned char uri[CKEY_DIGEST_LEN];  /* URI digest (ckey uri_digest) */
	_Atomic int64_t checked_ms;          /* the caller's: last time confirmed
	                                      * against Redis; 0 at mobj_new */
	_Atomic uint64_t bans_ok;            /* the caller's: newest invalidation
	                                      * generation it was found clear of;
	                                      * 0 at mobj_new */

	/* private: */
	atomic_int refs;
	size_t cost;                         /* MCACHE_COST(len) */
	struct mobj *hnext;                  /* hash chain (under the shard lock) */
	struct mlink lru;                    /* LRU list (under the shard lock) */
	struct mobj *dnext;                  /* on its way out (see mcache.c) */
	_Atomic(struct mcache_shard *) shard;/* the shard it is in, NULL, or the
	                                      * "leaving" mark */
};

/* Take ownership of blob (malloc'd, len bytes) and decode it into a new
 * object with one ref, to be stored under key for the URI uri (both
 * CKEY_DIGEST_LEN bytes, not NULL, copied; not compared with the blob's
 * own key).  Returns NULL with e filled (e may be
 * NULL), the blob freed, when centry_decode refuses it (e says why, as
 * centry_decode does) or out of memory. */
struct mobj *mobj_new(unsigned char *blob, size_t len, const unsigned char key[CKEY_DIGEST_LEN],
                      const unsigned char uri[CKEY_DIGEST_LEN], struct err *e);

void mobj_ref(struct mobj *o);

/* Drop a ref; the last frees the blob and the object.  NULL is ignored. */
void mobj_unref(struct mobj *o);

/* mobj_unref(cls), with the signature of libmicrohttpd's
 * MHD_ContentReaderFreeCallback, for
 * MHD_create_response_from_buffer_with_free_callback_cls. */
void mobj_release_cb(void *cls);

/* Objects alive (made by mobj_new and not yet freed), in a cache or held
 * by callers only, and the sum of their MCACHE_COST.  Either may be NULL. */
void mobj_live(size_t *count, size_t *bytes);

/* A cache of budget bytes in shards shards (0: MCACHE_SHARDS; rounded up
 * to a power of two, at most MCACHE_MAX_SHARDS).  NULL out of memory. */
struct mcache *mcache_new(size_t budget, unsigned shards);

/* Drop the cache's refs and free it.  No other call on mc may be running;
 * objects callers still hold stay alive until they unref them. */
void mcache_free(struct mcache *mc);

/* True when an object of len blob bytes would be kept by mcache_put:
 * MCACHE_COST(len) <= budget / shards / 2.  Lets a caller skip building an
 * object the memory tier would refuse. */
bool mcache_fits(const struct mcache *mc, size_t len);

/* Insert o under o->key, taking a ref of its own, as the most recently
 * used entry of its shard; an entry already under that key is replaced
 * (its ref dropped), and least-recently-used entries are evicted until the
 * shard is within its share of the budget.  Putting an object that is
 * already there only refreshes it.  Returns true if o is now in the cache,
 * false (counted in rejected; o untouched) when it does not fit (see
 * mcache_fits), the cache is disabled, or o is in another cache. */
bool mcache_put(struct mcache *mc, struct mobj *o);

/* The object under key, with a new ref for the caller (who unrefs it), now
 * the most recently used of its shard; NULL on a miss. */
struct mobj *mcache_get(struct mcache *mc, const unsigned char key[CKEY_DIGEST_LEN]);

/* Remove the entry under key; when o is not NULL, only if that entry is o
 * (so a caller dropping an object it found stale never removes a newer one
 * put meanwhile).  o is only compared, never dereferenced.  True if an
 * entry was removed. */
bool mcache_del(struct mcache *mc, const unsigned char key[CKEY_DIGEST_LEN],
                const struct mobj *o);

/* Remove every entry whose uri is uri (all the variants of one URI, and
 * its variant index); returns how many.  Walks every entry of every shard
 * (one shard locked at a time): for invalidations, not per request. */
size_t mcache_drop_uri(struct mcache *mc, const unsigned char uri[CKEY_DIGEST_LEN]);

/* Remove every entry. */
void mcache_clear(struct mcache *mc);

struct mcache_stats {
	unsigned long long hits, misses; /* mcache_get */
	unsigned long long puts;         /* mcache_put calls that kept their object */
	unsigned long long rejected;     /* ... that did not */
	unsigned long long evictions;    /* entries evicted to make room */
	unsigned long long removed;      /* entries replaced, deleted, dropped, cleared */
	size_t bytes;                    /* MCACHE_COST of the entries in the cache */
	size_t entries;
	size_t budget;
};

void mcache_stats(struct mcache *mc, struct mcache_stats *st);

#endif
