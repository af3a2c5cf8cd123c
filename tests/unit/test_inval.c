/*
 * test_inval.c: edged/edg_inval.c without Redis (the memory tier alone):
 * the cap on invalidation paths in force (invalidation_max_paths_active)
 * makes a whole invalidation or none of it, also when calls race; and the
 * retention drops old invalidations (the floor rises past them), which
 * makes room under the cap.  (With Redis the same rules run in the create
 * script: tests/integration/t0477.)
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../edged/edg_inval.c"

static void
quiet(void)
{
	log_init("test_inval", LOG_LVL_ERROR, 2);
}

TestSuite(inval, .init = quiet, .timeout = 30);

static struct edg_inval *
local(int64_t retention_ms)
{
	struct edg_inval *iv = NULL;
	struct err e = { 0, "" };

	cr_assert_eq(edg_inval_init(&iv, NULL, "node-t", 200, retention_ms, &e), 0, "%s", e.msg);
	return iv;
}

/* Invalidate paths (a NULL-terminated list) under the cap max; the result. */
static int
make(struct edg_inval *iv, size_t max, struct err *e, ...)
{
	const char *paths[16];
	char id[EDG_INVAL_ID_LEN + 1], *json = NULL;
	size_t n = 0;
	va_list ap;
	int rc;

	va_start(ap, e);
	while (n < 16 && (paths[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	rc = edg_inval_create(iv, paths, n, max, id, &json, e);
	cr_assert_eq(json != NULL, rc == EDG_INVAL_OK);
	free(json);
	return rc;
}

static size_t
bans(struct edg_inval *iv)
{
	unsigned long long created, failures;
	size_t n;

	edg_inval_counts(iv, &created, &n, &failures);
	return n;
}

Test(inval, cap_takes_all_or_nothing)
{
	struct edg_inval *iv = local(3600000);
	struct err e = { 0, "" };

	cr_assert_eq(make(iv, 5, &e, "/a", "/b", "/img/*", NULL), EDG_INVAL_OK, "%s", e.msg);
	cr_assert_eq(make(iv, 5, &e, "/d", "/e", "/f", NULL), EDG_INVAL_FULL);
	cr_expect_not_null(strstr(e.msg, "invalidation_max_paths_active (5)"), "%s", e.msg);
	cr_expect_not_null(strstr(e.msg, "nothing was invalidated"), "%s", e.msg);
	cr_expect_eq(bans(iv), 3, "the refused call left bans behind");
	cr_expect(edg_inval_banned(iv, "/a", 0));
	cr_expect(edg_inval_banned(iv, "/img/x.png", 0));
	cr_expect(!edg_inval_banned(iv, "/d", 0), "a path of the refused call was banned");
	cr_expect(!edg_inval_banned(iv, "/f", 0), "a path of the refused call was banned");
	cr_assert_eq(make(iv, 5, &e, "/d", "/e", NULL), EDG_INVAL_OK, "%s", e.msg);
	cr_expect_eq(bans(iv), 5);
	cr_assert_eq(make(iv, 5, &e, "/g", NULL), EDG_INVAL_FULL);
	cr_expect_eq(bans(iv), 5);
	/* a larger cap (another node's setting) lets it in */
	cr_assert_eq(make(iv, 6, &e, "/g", NULL), EDG_INVAL_OK, "%s", e.msg);
	edg_inval_free(iv);
}

/* Past the retention an invalidation is dropped: its bans go, the floor
 * covers what they covered (every entry older is refetched), and the room
 * is free again. */
Test(inval, retention_frees_room)
{
	struct edg_inval *iv = local(100);
	struct err e = { 0, "" };
	uint32_t before;

	before = edg_inval_stamp(iv);
	cr_assert_eq(make(iv, 3, &e, "/a", "/b", "/c", NULL), EDG_INVAL_OK, "%s", e.msg);
	cr_assert_eq(make(iv, 3, &e, "/d", NULL), EDG_INVAL_FULL);
	usleep(200 * 1000); /* past the 100 ms retention: a lower bound, safe on a busy machine */
	cr_assert_eq(make(iv, 3, &e, "/d", NULL), EDG_INVAL_OK, "%s", e.msg);
	cr_expect_eq(bans(iv), 1, "the expired bans are still there");
	cr_expect(edg_inval_banned(iv, "/zzz", before), "an entry older than the dropped "
	          "invalidation is not refetched");
	cr_expect(edg_inval_banned(iv, "/d", before));
	cr_expect(!edg_inval_banned(iv, "/a", edg_inval_stamp(iv)),
	          "an entry fetched after everything is banned");
	edg_inval_free(iv);
}

/* Many calls at once under a cap of 5: exactly 5 one-path invalidations
 * get in, never more. */
#define RACERS 16
static struct edg_inval *shared;
static int accepted, refused_n;

static void *
racer(void *arg)
{
	char path[16];
	struct err e = { 0, "" };
	int rc;

	snprintf(path, sizeof path, "/p%d", (int)(intptr_t)arg);
	rc = make(shared, 5, &e, path, NULL);
	if (rc == EDG_INVAL_OK)
		__atomic_add_fetch(&accepted, 1, __ATOMIC_RELAXED);
	else if (rc == EDG_INVAL_FULL)
		__atomic_add_fetch(&refused_n, 1, __ATOMIC_RELAXED);
	return NULL;
}

Test(inval, racing_calls_never_pass_the_cap)
{
	pthread_t th[RACERS];
	int i;

	shared = local(3600000);
	for (i = 0; i < RACERS; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, racer, (void *)(intptr_t)i), 0);
	for (i = 0; i < RACERS; i++)
		pthread_join(th[i], NULL);
	cr_expect_eq(accepted, 5);
	cr_expect_eq(refused_n, RACERS - 5);
	cr_expect_eq(bans(shared), 5);
	edg_inval_free(shared);
}
