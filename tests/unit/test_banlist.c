/*
 * test_banlist.c: invalidation paths and bans against entry generations
 * (lib/banlist.c).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "banlist.h"

static int
check(const char *p, char *out, bool *w, const char **why)
{
	return banlist_path_check(p, strlen(p), out, w, why);
}

Test(banlist, paths_accepted)
{
	char out[BANLIST_PATH_MAX];
	const char *why = NULL;
	bool w;

	cr_assert_eq(check("/index.html", out, &w, &why), 0);
	cr_assert_str_eq(out, "/index.html");
	cr_assert(!w);
	cr_assert_eq(check("/img/*", out, &w, &why), 0);
	cr_assert_str_eq(out, "/img/");
	cr_assert(w);
	cr_assert_eq(check("/*", out, &w, &why), 0);
	cr_assert_str_eq(out, "/");
	cr_assert(w);
	/* the query is ignored, a '*' in it too */
	cr_assert_eq(check("/a.html?v=1&x=*", out, &w, &why), 0);
	cr_assert_str_eq(out, "/a.html");
	cr_assert(!w);
	cr_assert_eq(check("/img*?v=1", out, &w, &why), 0);
	cr_assert_str_eq(out, "/img");
	cr_assert(w);
	cr_assert_eq(check("/caf%C3%A9.html", out, &w, &why), 0);
}

/* A ban path takes the normal form requests get (lib/upath), so no
 * spelling of a URL escapes its ban. */
Test(banlist, paths_normalized)
{
	char out[BANLIST_PATH_MAX];
	const char *why = NULL;
	bool w;

	cr_assert_eq(check("/%6Ceak.pdf", out, &w, &why), 0);
	cr_assert_str_eq(out, "/leak.pdf");
	cr_assert_eq(check("/a/../leak.pdf", out, &w, &why), 0);
	cr_assert_str_eq(out, "/leak.pdf");
	cr_assert_eq(check("/./caf%c3%a9.html", out, &w, &why), 0);
	cr_assert_str_eq(out, "/caf%C3%A9.html");
	cr_assert_eq(check("/sta%74ic/./img/*", out, &w, &why), 0);
	cr_assert_str_eq(out, "/static/img/");
	cr_assert(w);
	/* a wildcard's unfinished segment keeps its dots: "/img/..*" covers
	 * "/img/..x", not everything */
	cr_assert_eq(check("/img/..*", out, &w, &why), 0);
	cr_assert_str_eq(out, "/img/..");
	cr_assert(w);
	cr_assert_eq(check("/img/%2e*", out, &w, &why), 0);
	cr_assert_str_eq(out, "/img/.");
	cr_assert_eq(check("/a/../*", out, &w, &why), 0);
	cr_assert_str_eq(out, "/");
	cr_assert_eq(check("/../x", out, &w, &why), -1);
	cr_assert_eq(check("/%2e%2e/*", out, &w, &why), -1);
	cr_assert_eq(check("/a%2", out, &w, &why), -1);
	cr_assert_not_null(why);
}

Test(banlist, paths_refused)
{
	static const char *const bad[] = {
		"", "index.html", "*", "/a*b", "/**", "/a b", "/a\tb", "/caf\xc3\xa9",
		"/a#frag", "http://host/a",
	};
	char out[BANLIST_PATH_MAX];
	const char *why;
	bool w;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		cr_assert_eq(check(bad[i], out, &w, &why), -1, "'%s' accepted", bad[i]);
		cr_assert_not_null(why, "'%s': no reason", bad[i]);
	}
	{
		char big[BANLIST_PATH_MAX + 10];

		memset(big, 'a', sizeof big - 1);
		big[0] = '/';
		big[sizeof big - 1] = '\0';
		cr_assert_eq(check(big, out, &w, &why), -1);
	}
}

Test(banlist, target_path)
{
	size_t n;
	const char *p;

	p = banlist_target_path("/a/b?c=d", &n);
	cr_assert_eq(n, 4);
	cr_assert_eq(strncmp(p, "/a/b", n), 0);
	p = banlist_target_path("https://h.example:8443/x?y", &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(strncmp(p, "/x", n), 0);
	p = banlist_target_path("http://h.example?q", &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(p[0], '/');
}

Test(banlist, generations)
{
	struct banlist bl;

	banlist_init(&bl);
	/* no ban: nothing is banned, whatever its generation */
	cr_assert(!banlist_banned(&bl, "/a", 2, 0));
	cr_assert_eq(banlist_add(&bl, 5, "/a", false), 0);
	/* an entry stored before gen 5 is banned, one at or after is not */
	cr_assert(banlist_banned(&bl, "/a", 2, 0));
	cr_assert(banlist_banned(&bl, "/a", 2, 4));
	cr_assert(!banlist_banned(&bl, "/a", 2, 5));
	cr_assert(!banlist_banned(&bl, "/a", 2, 6));
	/* exact: neither a longer nor a shorter path */
	cr_assert(!banlist_banned(&bl, "/ab", 3, 0));
	cr_assert(!banlist_banned(&bl, "/", 1, 0));
	/* a prefix */
	cr_assert_eq(banlist_add(&bl, 7, "/img/", true), 0);
	cr_assert(banlist_banned(&bl, "/img/x.png", 10, 6));
	cr_assert(banlist_banned(&bl, "/img/", 5, 6));
	cr_assert(!banlist_banned(&bl, "/img", 4, 6));
	cr_assert(!banlist_banned(&bl, "/img/x.png", 10, 7));
	/* case-sensitive */
	cr_assert(!banlist_banned(&bl, "/IMG/x.png", 10, 0));
	/* the same ban twice is kept once (no change); one arriving late keeps
	 * the order and is a change, though the newest generation is the same */
	{
		uint64_t c0 = banlist_changes(&bl);

		cr_assert_eq(banlist_add(&bl, 7, "/img/", true), 0);
		cr_assert_eq(banlist_changes(&bl), c0);
		cr_assert_eq(banlist_add(&bl, 6, "/late", false), 0);
		cr_assert_gt(banlist_changes(&bl), c0);
	}
	cr_assert_eq(banlist_count(&bl), 3);
	cr_assert(banlist_banned(&bl, "/late", 5, 5));
	cr_assert(!banlist_banned(&bl, "/late", 5, 6));
	banlist_free(&bl);
}

Test(banlist, floor)
{
	struct banlist bl;

	banlist_init(&bl);
	banlist_add(&bl, 1, "/a", false);
	banlist_add(&bl, 2, "/b", false);
	banlist_add(&bl, 3, "/", true);
	cr_assert_eq(banlist_set_floor(&bl, 2), 2);
	cr_assert_eq(banlist_count(&bl), 1);
	/* entries older than the floor are gone whatever their path */
	cr_assert(banlist_banned(&bl, "/zzz", 4, 1));
	cr_assert(!banlist_banned(&bl, "/zzz", 4, 3));
	cr_assert(banlist_banned(&bl, "/zzz", 4, 2)); /* the / * ban, gen 3 */
	/* a ban below the floor is not kept; lowering the floor does nothing */
	cr_assert_eq(banlist_add(&bl, 1, "/old", false), 0);
	cr_assert_eq(banlist_count(&bl), 1);
	cr_assert_eq(banlist_set_floor(&bl, 1), 0);
	banlist_free(&bl);
}

Test(banlist, wildcard_cost_is_one_item)
{
	struct banlist bl;

	banlist_init(&bl);
	banlist_add(&bl, 1, "/", true);
	cr_assert_eq(banlist_count(&bl), 1);
	cr_assert(banlist_banned(&bl, "/anything/at/all", 16, 0));
	banlist_free(&bl);
}

struct race {
	struct banlist *bl;
	int stop;
	unsigned long checks;
};

static void *
reader(void *arg)
{
	struct race *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		/* gen 0 entries under /k/ are banned once gen 1 exists */
		if (__atomic_load_n(&r->bl->max_gen, __ATOMIC_ACQUIRE) >= 1)
			cr_assert(banlist_banned(r->bl, "/k/x", 4, 0));
		__atomic_add_fetch(&r->checks, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

Test(banlist, readers_while_adding)
{
	struct banlist bl;
	struct race r = { &bl, 0, 0 };
	pthread_t th[4];
	char p[32];
	int i;

	banlist_init(&bl);
	banlist_add(&bl, 1, "/k/", true);
	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, reader, &r);
	while (__atomic_load_n(&r.checks, __ATOMIC_RELAXED) == 0)
		sched_yield();
	for (i = 2; i < 20000; i++) {
		snprintf(p, sizeof p, "/p%d", i);
		cr_assert_eq(banlist_add(&bl, (uint64_t)i, p, false), 0);
		if (i % 1000 == 0)
			banlist_set_floor(&bl, (uint64_t)i - 500);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	cr_assert_gt(r.checks, 0);
	banlist_free(&bl);
}
