/*
 * banlist.c: invalidation bans checked against entry generations (see
 * banlist.h for the model).
 */
#include <stdlib.h>
#include <string.h>

#include "banlist.h"
#include "upath.h"

int
banlist_path_check(const char *p, size_t n, char *out, bool *wildcard, const char **why)
{
	size_t i, q;
	int rc;

	*wildcard = false;
	out[0] = '\0';
	if (n == 0 || p[0] != '/') {
		*why = "must start with '/'";
		return -1;
	}
	for (q = 0; q < n && p[q] != '?'; q++)
		;
	if (q >= BANLIST_PATH_MAX) {
		*why = "longer than 4095 bytes";
		return -1;
	}
	for (i = 0; i < q; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch <= 0x20 || ch >= 0x7f) {
			*why = "holds a blank, control or non-ASCII byte (percent-encode it)";
			return -1;
		}
		if (ch == '*' && i + 1 != q) {
			*why = "has '*' before its end (a wildcard may only end a path)";
			return -1;
		}
		if (ch == '#') {
			*why = "holds a fragment ('#')";
			return -1;
		}
	}
	if (q > 0 && p[q - 1] == '*') {
		*wildcard = true;
		q--;
	}
	/* the path's normal form, as every request-target has it (lib/upath):
	 * "/%6Ceak.pdf" and "/a/../leak.pdf" ban "/leak.pdf".  A wildcard's
	 * unfinished last segment ("/img/..*" covers "/img/..x") keeps its
	 * dots: only the escapes of that part are normalized. */
	if (*wildcard) {
		size_t k = q, hn = 0, tn = 0;

		while (p[k - 1] != '/')
			k--;
		rc = upath_path(p, k, out, BANLIST_PATH_MAX, &hn);
		if (rc == UPATH_OK)
			rc = upath_escapes(p + k, q - k, out + hn, BANLIST_PATH_MAX - hn, &tn);
	} else {
		size_t on = 0;

		rc = upath_path(p, q, out, BANLIST_PATH_MAX, &on);
	}
	if (rc != UPATH_OK) {
		out[0] = '\0';
		*why = rc == UPATH_ABOVE_ROOT ? "climbs above the root ('..')" :
		       rc == UPATH_BAD_ESCAPE ? "holds a bad percent-escape" : "is too long";
		return -1;
	}
	return 0;
}

const char *
banlist_target_path(const char *target, size_t *len)
{
	const char *p = target, *s;

	if (p[0] != '/' && (s = strstr(p, "://")) != NULL) {
		p = s + 3;
		p += strcspn(p, "/?");
		if (*p != '/') {
			*len = 1;
			return "/";
		}
	}
	*len = strcspn(p, "?");
	return p;
}

void
banlist_init(struct banlist *bl)
{
	memset(bl, 0, sizeof *bl);
	pthread_rwlock_init(&bl->lk, NULL);
}

void
banlist_free(struct banlist *bl)
{
	size_t i;

	for (i = 0; i < bl->n; i++)
		free(bl->v[i].path);
	free(bl->v);
	pthread_rwlock_destroy(&bl->lk);
	memset(bl, 0, sizeof *bl);
}

/* Index of the first ban with gen > g (the list ascends by gen). */
static size_t
first_after(const struct banlist *bl, uint64_t g)
{
	size_t lo = 0, hi = bl->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bl->v[mid].gen <= g)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
banlist_add(struct banlist *bl, uint64_t gen, const char *path, bool wildcard)
{
	size_t len = strlen(path), i;
	struct ban b;
	int rc = 0;

	pthread_rwlock_wrlock(&bl->lk);
	if (gen < __atomic_load_n(&bl->floor, __ATOMIC_RELAXED))
		goto out; /* older than everything kept: the floor covers it */
	/* the same ban seen twice (our own, then from the shared list) */
	for (i = first_after(bl, gen - 1); i < bl->n && bl->v[i].gen == gen; i++)
		if (bl->v[i].wildcard == wildcard && bl->v[i].len == len &&
		    memcmp(bl->v[i].path, path, len) == 0)
			goto out;
	if (bl->n == bl->cap) {
		size_t cap = bl->cap ? bl->cap * 2 : 16;
		struct ban *v = realloc(bl->v, cap * sizeof *v);

		if (v == NULL) {
			rc = -1;
			goto out;
		}
		bl->v = v;
		bl->cap = cap;
	}
	b.gen = gen;
	b.wildcard = wildcard;
	b.len = len;
	b.path = malloc(len + 1);
	if (b.path == NULL) {
		rc = -1;
		goto out;
	}
	memcpy(b.path, path, len + 1);
	/* keep the order when a ban arrives behind a newer one */
	i = first_after(bl, gen);
	memmove(&bl->v[i + 1], &bl->v[i], (bl->n - i) * sizeof *bl->v);
	bl->v[i] = b;
	bl->n++;
	__atomic_add_fetch(&bl->changes, 1, __ATOMIC_RELEASE);
	if (gen > __atomic_load_n(&bl->max_gen, __ATOMIC_RELAXED))
		__atomic_store_n(&bl->max_gen, gen, __ATOMIC_RELEASE);
out:
	pthread_rwlock_unlock(&bl->lk);
	return rc;
}

size_t
banlist_set_floor(struct banlist *bl, uint64_t floor)
{
	size_t k, i;

	pthread_rwlock_wrlock(&bl->lk);
	if (floor <= __atomic_load_n(&bl->floor, __ATOMIC_RELAXED)) {
		pthread_rwlock_unlock(&bl->lk);
		return 0;
	}
	__atomic_store_n(&bl->floor, floor, __ATOMIC_RELEASE);
	__atomic_add_fetch(&bl->changes, 1, __ATOMIC_RELEASE);
	k = first_after(bl, floor);
	for (i = 0; i < k; i++)
		free(bl->v[i].path);
	memmove(bl->v, bl->v + k, (bl->n - k) * sizeof *bl->v);
	bl->n -= k;
	pthread_rwlock_unlock(&bl->lk);
	return k;
}

bool
banlist_banned(struct banlist *bl, const char *path, size_t len, uint64_t gen)
{
	bool hit = false;
	size_t i;

	if (gen < __atomic_load_n(&bl->floor, __ATOMIC_ACQUIRE))
		return true;
	if (gen >= __atomic_load_n(&bl->max_gen, __ATOMIC_ACQUIRE))
		return false; /* nothing newer than the entry: the common case */
	pthread_rwlock_rdlock(&bl->lk);
	/* the floor may have risen (and taken the bans below it) meanwhile */
	hit = gen < __atomic_load_n(&bl->floor, __ATOMIC_RELAXED);
	for (i = first_after(bl, gen); i < bl->n && !hit; i++) {
		const struct ban *b = &bl->v[i];

		hit = b->wildcard ? b->len <= len && memcmp(b->path, path, b->len) == 0
		                  : b->len == len && memcmp(b->path, path, len) == 0;
	}
	pthread_rwlock_unlock(&bl->lk);
	return hit;
}

size_t
banlist_count(struct banlist *bl)
{
	size_t n;

	pthread_rwlock_rdlock(&bl->lk);
	n = bl->n;
	pthread_rwlock_unlock(&bl->lk);
	return n;
}

uint64_t
banlist_changes(struct banlist *bl)
{
	return __atomic_load_n(&bl->changes, __ATOMIC_ACQUIRE);
}
