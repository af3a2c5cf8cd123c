/*
 * banlist.h: invalidations as a list of bans, checked against an entry's
 * generation when it is about to be used, never by walking the cache.
 *
 * Every invalidation takes the next generation number G (a counter shared
 * through Redis) and adds one ban per path: "entries stored before G whose
 * path is P (or starts with P, for P*) are gone".  Every entry records the
 * highest generation its node knew when the fetch that made it began.  An
 * entry of generation g is banned when a ban with G > g matches its path,
 * or when g < the floor (bans older than the retention are dropped and
 * the floor raised to their generation: entries that old are refetched
 * once).  A wildcard costs one list item whether it covers ten objects or
 * ten million; an entry pays the scan of the bans newer than itself only,
 * and nothing (one atomic load) when no ban is newer.
 *
 * Paths follow CloudFront's rules: they start with '/', '*' may only end
 * one (then it matches every path with that prefix, "/ *" without the blank everything), a
 * query string is ignored, and they are matched case-sensitively against
 * the path of the request-target's normal form (lib/upath.h: escapes of
 * unreserved characters decoded, hex upper-cased, dot-segments removed),
 * the form edged keys and forwards; a ban path is normalized the same
 * way, so no spelling of a URL escapes its ban.
 *
 * Thread safety: banlist_add / banlist_set_floor (one writer at a time)
 * and banlist_banned (any thread) may run concurrently (a rwlock, taken
 * only when some ban is newer than the entry).
 */
#ifndef EDGED_BANLIST_H
#define EDGED_BANLIST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BANLIST_PATH_MAX 4096

/* Check an invalidation path p[0..n) and write its normal form (the
 * query dropped, '*' removed: the prefix; lib/upath's normal form, a
 * wildcard's unfinished last segment with its escapes normalized only) into out (BANLIST_PATH_MAX
 * bytes, NUL-terminated), *wildcard true for a prefix.  0, or -1 with
 * *why saying what is wrong ("must start with '/'", ...). */
int banlist_path_check(const char *p, size_t n, char *out, bool *wildcard, const char **why);

/* The path part of a request-target (origin-form, or absolute-form's path
 * after the authority; "/" when absolute-form has none): *len bytes from
 * the returned pointer, up to '?' or the end. */
const char *banlist_target_path(const char *target, size_t *len);

struct ban {
	uint64_t gen;
	bool wildcard;
	size_t len;
	char *path;
};

struct banlist {
	pthread_rwlock_t lk;
	struct ban *v;           /* ascending gen */
	size_t n, cap;
	uint64_t max_gen;        /* atomic: the newest ban's gen (0: none) */
	uint64_t floor;          /* atomic: entries with gen < floor are banned */
	uint64_t changes;        /* atomic: bumped by every add and floor rise */
};

void banlist_init(struct banlist *bl);
void banlist_free(struct banlist *bl);

/* Add a ban (path in normal form, from banlist_path_check).  gen must not
 * be below the newest ban's; a ban already present (same gen and path) is
 * not added twice.  0, or -1 when out of memory. */
int banlist_add(struct banlist *bl, uint64_t gen, const char *path, bool wildcard);

/* Raise the floor to floor and drop the bans at or below it.  Returns how
 * many were dropped. */
size_t banlist_set_floor(struct banlist *bl, uint64_t floor);

/* Is an entry of generation gen for path[0..len) banned? */
bool banlist_banned(struct banlist *bl, const char *path, size_t len, uint64_t gen);

size_t banlist_count(struct banlist *bl);

/* A number that changes whenever the answer of banlist_banned may: an
 * entry found clear when it read C stays clear while it reads C. */
uint64_t banlist_changes(struct banlist *bl);

#endif
