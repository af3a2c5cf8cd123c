/*
 * edg_inval.c: invalidations (the admin API's POST /invalidations) shared
 * by every node through Redis, as bans checked against entry generations
 * (lib/banlist.h): nothing walks the keyspace, and a wildcard costs what
 * one path costs.
 *
 * Redis keys (all under "edged:inv:"):
 *   gen             INCR counter: one generation per invalidation
 *   bans            zset, score gen, member "<gen> <e|w> <path>"
 *   rec:<id>        "<gen>\n<json record>", expiring after the retention
 *   list            zset, score gen, member id: recent invalidations
 *   times           zset, score creation ms, member gen: for pruning
 *   floor           entries with a gen below it are gone (pruned bans)
 *   nodes           hash, node -> "<gen applied> <ms>": heartbeats, for
 *                   InProgress / Completed
 * A Lua script makes an invalidation atomically (a poller never sees the
 * counter without its bans).  Each node's poller runs a second script
 * every invalidation_poll: heartbeat, floor, bans newer than its cursor.
 *
 * Without Redis the same model runs inside the process: generations and
 * records are local and every invalidation is Completed at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "banlist.h"
#include "cJSON.h"
#include "edg_inval.h"
#include "log.h"
#include "rstore.h"

#define LOCAL_RECORDS 100
#define MAX_PATHS     3000

/* KEYS: gen bans rec list times floor; ARGV: now, retention, id, record,
 * the most bans in force, then the members.  Bans older than the
 * retention go first (the floor rises past them); then either the whole
 * invalidation fits under the cap and is made, or nothing is: {0, bans in
 * force}, else {1, its generation}. */
static const char CREATE_LUA[] =
	"local now, ret = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
	"local old = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now - ret)\n"
	"if #old > 0 then\n"
	"  local f = 0\n"
	"  for _, v in ipairs(old) do if tonumber(v) > f then f = tonumber(v) end end\n"
	"  redis.call('SET', KEYS[6], f)\n"
	"  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', f)\n"
	"  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', f)\n"
	"  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - ret)\n"
	"end\n"
	"local active = redis.call('ZCARD', KEYS[2])\n"
	"if active + #ARGV - 5 > tonumber(ARGV[5]) then return {0, active} end\n"
	"local g = redis.call('INCR', KEYS[1])\n"
	"for i = 6, #ARGV do redis.call('ZADD', KEYS[2], g, g .. ' ' .. ARGV[i]) end\n"
	"redis.call('SET', KEYS[3], g .. '\\n' .. ARGV[4], 'PX', ARGV[2])\n"
	"redis.call('ZADD', KEYS[4], g, ARGV[3])\n"
	"redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -1001)\n"
	"redis.call('ZADD', KEYS[5], ARGV[1], g)\n"
	"return {1, g}\n";

static const char POLL_LUA[] =
	"redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3])\n"
	"local f = redis.call('GET', KEYS[2]) or '0'\n"
	"local b = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ARGV[2], '+inf', 'LIMIT', 0, "
	"5000)\n"
	"return {f, b}\n";

struct local_rec {
	char id[EDG_INVAL_ID_LEN + 1];
	uint64_t gen;
	char *json;
};

/* Without Redis: when each invalidation was made, for the retention (what
 * the "times" zset is with Redis). */
struct local_time {
	uint64_t gen;
	int64_t ms;
};

struct edg_inval {
	struct rstore *rs;       /* NULL: this node alone */
	char node[256];
	int64_t poll_ms, retention_ms;
	struct banlist bl;
	uint64_t cursor;         /* poller: every ban <= cursor is in bl */
	uint64_t stamp;          /* atomic: newest generation known to exist */
	uint64_t created, polls, poll_failures; /* atomics, for the metrics */

	pthread_mutex_t mu;      /* local records and gen; the poller's stop */
	pthread_cond_t cv;
	bool stop, running;
	pthread_t th;
	uint64_t local_gen;
	struct local_rec recs[LOCAL_RECORDS];
	size_t nrec;
	struct local_time *times; /* ascending gen */
	size_t ntimes, captimes;
	bool warned_down;
};

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
stamp_raise(struct edg_inval *iv, uint64_t g)
{
	uint64_t cur = __atomic_load_n(&iv->stamp, __ATOMIC_RELAXED);

	while (g > cur && !__atomic_compare_exchange_n(&iv->stamp, &cur, g, false,
	                                               __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

uint32_t
edg_inval_stamp(struct edg_inval *iv)
{
	return iv == NULL ? 0 : (uint32_t)__atomic_load_n(&iv->stamp, __ATOMIC_ACQUIRE);
}

uint64_t
edg_inval_epoch(struct edg_inval *iv)
{
	return iv == NULL ? 0 : banlist_changes(&iv->bl);
}

bool
edg_inval_banned(struct edg_inval *iv, const char *target, uint32_t gen)
{
	const char *p;
	size_t n;

	if (iv == NULL)
		return false;
	p = banlist_target_path(target, &n);
	return banlist_banned(&iv->bl, p, n, gen);
}

/* One ban member "<gen> <e|w> <path>" into the list. */
static void
apply_member(struct edg_inval *iv, const char *s, size_t len, uint64_t *gen)
{
	char *end, path[BANLIST_PATH_MAX];
	unsigned long long g;

	errno = 0;
	g = strtoull(s, &end, 10);
	if (errno != 0 || end == s || (size_t)(end - s) + 3 > len || end[0] != ' ' ||
	    (end[1] != 'e' && end[1] != 'w') || end[2] != ' ')
		return;
	len -= (size_t)(end + 3 - s);
	if (len >= sizeof path)
		return;
	memcpy(path, end + 3, len);
	path[len] = '\0';
	if (banlist_add(&iv->bl, g, path, end[1] == 'w') < 0)
		LOG_WARN("invalidation.oom", "gen=%llu", g);
	*gen = g;
}

/* One poll: heartbeat, floor, new bans.  0, or -1 (Redis unavailable). */
static int
poll_once(struct edg_inval *iv)
{
	char cur[24], now[24];
	const void *av[9] = { "EVAL", POLL_LUA, "3", "edged:inv:nodes", "edged:inv:floor",
	                      "edged:inv:bans", iv->node, cur, now };
	size_t al[9], i;
	redisReply *r = NULL;
	uint64_t last = 0, floor;

	snprintf(cur, sizeof cur, "%" PRIu64, iv->cursor);
	snprintf(now, sizeof now, "%lld", (long long)wall_ms());
	for (i = 0; i < 9; i++)
		al[i] = strlen(av[i]);
	__atomic_add_fetch(&iv->polls, 1, __ATOMIC_RELAXED);
	if (rstore_command(iv->rs, 9, av, al, &r) != RSTORE_OK) {
		__atomic_add_fetch(&iv->poll_failures, 1, __ATOMIC_RELAXED);
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		LOG_WARN("invalidation.poll_reply", "msg=\"unexpected reply from Redis\"");
		freeReplyObject(r);
		return -1;
	}
	floor = strtoull(r->element[0]->str, NULL, 10);
	if (floor > 0 && banlist_set_floor(&iv->bl, floor) > 0)
		LOG_INFO("invalidation.floor", "gen=%" PRIu64, floor);
	for (i = 0; i < r->element[1]->elements; i++) {
		const redisReply *m = r->element[1]->element[i];

		if (m->type == REDIS_REPLY_STRING)
			apply_member(iv, m->str, m->len, &last);
	}
	if (r->element[1]->elements >= 5000 && last > 0)
		last--; /* cut inside a generation: read it again next time */
	if (last > iv->cursor)
		iv->cursor = last;
	if (floor > iv->cursor)
		iv->cursor = floor;
	stamp_raise(iv, iv->cursor);
	freeReplyObject(r);
	return 0;
}

static void *
poller(void *arg)
{
	struct edg_inval *iv = arg;

	pthread_mutex_lock(&iv->mu);
	while (!iv->stop) {
		struct timespec ts;
		int rc;

		pthread_mutex_unlock(&iv->mu);
		rc = poll_once(iv);
		pthread_mutex_lock(&iv->mu);
		if (rc < 0 && !iv->warned_down) {
			LOG_WARN("invalidation.poll_failed", "msg=\"Redis unavailable: new "
			         "invalidations from other nodes wait until it is back\"");
			iv->warned_down = true;
		} else if (rc == 0 && iv->warned_down) {
			LOG_INFO("invalidation.poll_resumed", "cursor=%" PRIu64, iv->cursor);
			iv->warned_down = false;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += iv->poll_ms / 1000;
		ts.tv_nsec += (iv->poll_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!iv->stop &&
		       pthread_cond_timedwait(&iv->cv, &iv->mu, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&iv->mu);
	return NULL;
}

int
edg_inval_init(struct edg_inval **out, struct rstore *rs, const char *node, int64_t poll_ms,
               int64_t retention_ms, struct err *e)
{
	struct edg_inval *iv = calloc(1, sizeof *iv);
	pthread_condattr_t ca;

	*out = NULL;
	if (iv == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	iv->rs = rs;
	snprintf(iv->node, sizeof iv->node, "%s", node);
	iv->poll_ms = poll_ms > 0 ? poll_ms : 200;
	iv->retention_ms = retention_ms;
	banlist_init(&iv->bl);
	pthread_mutex_init(&iv->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&iv->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (rs != NULL) {
		/* the bans made while this node was away, before the first request */
		(void)poll_once(iv);
		if (pthread_create(&iv->th, NULL, poller, iv) != 0) {
			edg_inval_free(iv);
			return err_set(e, ERR_FAIL, "cannot start the invalidation poller");
		}
		iv->running = true;
	}
	*out = iv;
	return 0;
}

void
edg_inval_free(struct edg_inval *iv)
{
	size_t i;

	if (iv == NULL)
		return;
	if (iv->running) {
		pthread_mutex_lock(&iv->mu);
		iv->stop = true;
		pthread_cond_broadcast(&iv->cv);
		pthread_mutex_unlock(&iv->mu);
		pthread_join(iv->th, NULL);
	}
	for (i = 0; i < iv->nrec; i++)
		free(iv->recs[i].json);
	free(iv->times);
	banlist_free(&iv->bl);
	pthread_cond_destroy(&iv->cv);
	pthread_mutex_destroy(&iv->mu);
	free(iv);
}

void
edg_inval_counts(struct edg_inval *iv, unsigned long long *created, size_t *bans,
                 unsigned long long *poll_failures)
{
	*created = iv ? __atomic_load_n(&iv->created, __ATOMIC_RELAXED) : 0;
	*bans = iv ? banlist_count(&iv->bl) : 0;
	*poll_failures = iv ? __atomic_load_n(&iv->poll_failures, __ATOMIC_RELAXED) : 0;
}

/* ---- the admin API's side ------------------------------------------------------ */

static void
make_id(char *id)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[EDG_INVAL_ID_LEN];
	size_t i;
	FILE *f = fopen("/dev/urandom", "rb");

	if (f == NULL || fread(rnd, 1, sizeof rnd, f) != sizeof rnd) {
		uint64_t x = (uint64_t)wall_ms() * 6364136223846793005ull + (uint64_t)getpid();

		for (i = 0; i < sizeof rnd; i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
			rnd[i] = (unsigned char)(x >> 33);
	}
	if (f != NULL)
		fclose(f);
	id[0] = 'I';
	for (i = 1; i < EDG_INVAL_ID_LEN; i++)
		id[i] = abc[rnd[i] % (sizeof abc - 1)];
	id[EDG_INVAL_ID_LEN] = '\0';
}

static void
iso_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* The status of generation gen: Completed when every node heard from in
 * the last few polls has applied it. */
static const char *
status_of(struct edg_inval *iv, uint64_t gen)
{
	const void *av[2] = { "HGETALL", "edged:inv:nodes" };
	size_t al[2] = { 7, 15 }, i;
	redisReply *r = NULL;
	int64_t now = wall_ms(), live = iv->poll_ms * 5 + 1000;
	bool done = true;

	if (iv->rs == NULL)
		return "Completed";
	if (rstore_command(iv->rs, 2, av, al, &r) != RSTORE_OK)
		return "InProgress";
	if (r->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i + 1 < r->elements; i += 2) {
			const redisReply *v = r->element[i + 1];
			unsigned long long g;
			long long seen;

			if (v->type != REDIS_REPLY_STRING ||
			    sscanf(v->str, "%llu %lld", &g, &seen) != 2)
				continue;
			if (now - seen > live)
				continue; /* a node gone: it will catch up when it returns */
			if (g < gen)
				done = false;
		}
	}
	freeReplyObject(r);
	return done ? "Completed" : "InProgress";
}

/* The record text (JSON without status) plus status, as the answer. */
static char *
with_status(const char *json, const char *status)
{
	cJSON *o = cJSON_Parse(json);
	char *s;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "status", status);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* The refusal of n paths when active are in force and max_active allowed. */
static void
full(size_t n, size_t active, size_t max_active, struct err *e)
{
	err_set(e, ERR_USAGE, "%zu paths would make %zu invalidation paths in force, above "
	        "invalidation_max_paths_active (%zu): nothing was invalidated; retry once "
	        "older ones have passed invalidation_retention, or use a wildcard", n,
	        active + n, max_active);
}

/* Without Redis: drop what passed the retention (the floor rises past it),
 * then make generation *gen with its n bans, or nothing when they do not
 * fit under max_active (EDG_INVAL_FULL).  Under iv->mu, so two calls
 * cannot both fit in the room left for one. */
static int
local_make(struct edg_inval *iv, const char (*norm)[BANLIST_PATH_MAX], const bool *wild,
           size_t n, size_t max_active, int64_t now, uint64_t *gen, struct err *e)
{
	size_t k = 0, active, i;
	int rc = EDG_INVAL_OK;

	pthread_mutex_lock(&iv->mu);
	while (k < iv->ntimes && iv->times[k].ms <= now - iv->retention_ms)
		k++;
	if (k > 0) {
		uint64_t floor = iv->times[k - 1].gen;

		memmove(iv->times, iv->times + k, (iv->ntimes - k) * sizeof *iv->times);
		iv->ntimes -= k;
		if (banlist_set_floor(&iv->bl, floor) > 0)
			LOG_INFO("invalidation.floor", "gen=%" PRIu64, floor);
	}
	active = banlist_count(&iv->bl);
	if (active + n > max_active) {
		full(n, active, max_active, e);
		rc = EDG_INVAL_FULL;
		goto out;
	}
	if (iv->ntimes == iv->captimes) {
		size_t cap = iv->captimes ? iv->captimes * 2 : 16;
		struct local_time *t = realloc(iv->times, cap * sizeof *t);

		if (t == NULL) {
			err_set(e, ERR_FAIL, "out of memory");
			rc = EDG_INVAL_UNAVAILABLE;
			goto out;
		}
		iv->times = t;
		iv->captimes = cap;
	}
	*gen = ++iv->local_gen;
	iv->times[iv->ntimes].gen = *gen;
	iv->times[iv->ntimes].ms = now;
	iv->ntimes++;
	for (i = 0; i < n; i++)
		if (banlist_add(&iv->bl, *gen, norm[i], wild[i]) < 0)
			LOG_WARN("invalidation.oom", "gen=%" PRIu64, *gen);
out:
	pthread_mutex_unlock(&iv->mu);
	return rc;
}

int
edg_inval_create(struct edg_inval *iv, const char *const *paths, size_t n, size_t max_active,
                 char *id, char **json, struct err *e)
{
	char when[40], now_s[24], ret_s[24], max_s[24];
	char (*norm)[BANLIST_PATH_MAX] = NULL;
	bool *wild = NULL;
	cJSON *rec = NULL, *arr;
	char *rec_text = NULL, **members = NULL;
	const void **av = NULL;
	size_t *al = NULL, i;
	int64_t now = wall_ms();
	uint64_t gen = 0;
	int rc = EDG_INVAL_UNAVAILABLE;

	*json = NULL;
	if (n == 0)
		return err_set(e, ERR_USAGE, "\"paths\" is empty"), EDG_INVAL_BAD;
	if (n > MAX_PATHS)
		return err_set(e, ERR_USAGE, "%zu paths: at most %d in one invalidation", n,
		               MAX_PATHS), EDG_INVAL_BAD;
	norm = malloc(n * sizeof *norm);
	wild = calloc(n, sizeof *wild);
	members = calloc(n, sizeof *members);
	av = calloc(n + 14, sizeof *av);
	al = calloc(n + 14, sizeof *al);
	if (norm == NULL || wild == NULL || members == NULL || av == NULL || al == NULL) {
		err_set(e, ERR_FAIL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *why;

		if (banlist_path_check(paths[i], strlen(paths[i]), norm[i], &wild[i], &why) < 0) {
			err_set(e, ERR_USAGE, "path '%s' %s", paths[i], why);
			rc = EDG_INVAL_BAD;
			goto out;
		}
	}
	make_id(id);
	iso_time(now, when, sizeof when);
	rec = cJSON_CreateObject();
	arr = cJSON_CreateArray();
	if (rec == NULL || arr == NULL) {
		cJSON_Delete(arr);
		err_set(e, ERR_FAIL, "out of memory");
		goto out;
	}
	cJSON_AddStringToObject(rec, "id", id);
	cJSON_AddStringToObject(rec, "createTime", when);
	cJSON_AddStringToObject(rec, "node", iv->node);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(paths[i]));
	cJSON_AddItemToObject(rec, "paths", arr);
	if (iv->rs != NULL) {
		redisReply *r = NULL;
		char rk[64];

		rec_text = cJSON_PrintUnformatted(rec);
		snprintf(rk, sizeof rk, "edged:inv:rec:%s", id);
		snprintf(now_s, sizeof now_s, "%lld", (long long)now);
		snprintf(ret_s, sizeof ret_s, "%lld", (long long)iv->retention_ms);
		snprintf(max_s, sizeof max_s, "%zu", max_active);
		av[0] = "EVAL";
		av[1] = CREATE_LUA;
		av[2] = "6";
		av[3] = "edged:inv:gen";
		av[4] = "edged:inv:bans";
		av[5] = rk;
		av[6] = "edged:inv:list";
		av[7] = "edged:inv:times";
		av[8] = "edged:inv:floor";
		av[9] = now_s;
		av[10] = ret_s;
		/* ARGV[1..5] = now, retention, id, record, cap; then the members */
		av[11] = id;
		av[12] = rec_text;
		av[13] = max_s;
		if (rec_text == NULL) {
			err_set(e, ERR_FAIL, "out of memory");
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (asprintf(&members[i], "%c %s", wild[i] ? 'w' : 'e', norm[i]) < 0) {
				members[i] = NULL;
				err_set(e, ERR_FAIL, "out of memory");
				goto out;
			}
		}
		for (i = 0; i < 14; i++)
			al[i] = strlen(av[i]);
		for (i = 0; i < n; i++) {
			av[14 + i] = members[i];
			al[14 + i] = strlen(members[i]);
		}
		if (rstore_command(iv->rs, (int)(14 + n), av, al, &r) != RSTORE_OK) {
			err_set(e, ERR_FAIL, "Redis is unavailable: the invalidation could not "
			        "reach the other nodes; nothing was invalidated, try again");
			goto out;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_INTEGER ||
		    r->element[1]->type != REDIS_REPLY_INTEGER || r->element[1]->integer < 0 ||
		    (r->element[0]->integer == 1 && r->element[1]->integer == 0)) {
			freeReplyObject(r);
			err_set(e, ERR_FAIL, "unexpected reply from Redis");
			goto out;
		}
		if (r->element[0]->integer != 1) {
			full(n, (size_t)r->element[1]->integer, max_active, e);
			freeReplyObject(r);
			rc = EDG_INVAL_FULL;
			goto out;
		}
		gen = (uint64_t)r->element[1]->integer;
		freeReplyObject(r);
		/* this node applies its own at once; the others within a poll */
		for (i = 0; i < n; i++)
			if (banlist_add(&iv->bl, gen, norm[i], wild[i]) < 0)
				LOG_WARN("invalidation.oom", "gen=%" PRIu64, gen);
	} else if ((rc = local_make(iv, (const char (*)[BANLIST_PATH_MAX])norm, wild, n,
	                            max_active, now, &gen, e)) != EDG_INVAL_OK) {
		goto out;
	}
	stamp_raise(iv, gen);
	__atomic_add_fetch(&iv->created, 1, __ATOMIC_RELAXED);
	if (iv->rs == NULL) {
		char *text = cJSON_PrintUnformatted(rec);

		pthread_mutex_lock(&iv->mu);
		if (iv->nrec == LOCAL_RECORDS) {
			free(iv->recs[0].json);
			memmove(iv->recs, iv->recs + 1, (LOCAL_RECORDS - 1) * sizeof *iv->recs);
			iv->nrec--;
		}
		snprintf(iv->recs[iv->nrec].id, sizeof iv->recs[iv->nrec].id, "%s", id);
		iv->recs[iv->nrec].gen = gen;
		iv->recs[iv->nrec].json = text;
		iv->nrec++;
		pthread_mutex_unlock(&iv->mu);
	}
	LOG_INFO("invalidation.created", "id=%s gen=%" PRIu64 " paths=%zu first=%s", id, gen, n,
	         log_q(paths[0]));
	cJSON_AddStringToObject(rec, "status", status_of(iv, gen));
	*json = cJSON_PrintUnformatted(rec);
	rc = *json != NULL ? EDG_INVAL_OK : EDG_INVAL_UNAVAILABLE;
out:
	if (members != NULL)
		for (i = 0; i < n; i++)
			free(members[i]);
	free(members);
	free(rec_text);
	cJSON_Delete(rec);
	free(norm);
	free(wild);
	free(av);
	free(al);
	return rc;
}

int
edg_inval_get(struct edg_inval *iv, const char *id, char **json)
{
	redisReply *r = NULL;
	char rk[64];
	const void *av[2] = { "GET", rk };
	size_t al[2], i;
	int rc = EDG_INVAL_NOT_FOUND;

	*json = NULL;
	if (strlen(id) != EDG_INVAL_ID_LEN || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") !=
	                                          EDG_INVAL_ID_LEN)
		return EDG_INVAL_NOT_FOUND;
	if (iv->rs == NULL) {
		pthread_mutex_lock(&iv->mu);
		for (i = 0; i < iv->nrec; i++)
			if (strcmp(iv->recs[i].id, id) == 0) {
				*json = with_status(iv->recs[i].json, "Completed");
				rc = *json != NULL ? EDG_INVAL_OK : EDG_INVAL_UNAVAILABLE;
			}
		pthread_mutex_unlock(&iv->mu);
		return rc;
	}
	snprintf(rk, sizeof rk, "edged:inv:rec:%s", id);
	al[0] = 3;
	al[1] = strlen(rk);
	if (rstore_command(iv->rs, 2, av, al, &r) != RSTORE_OK)
		return EDG_INVAL_UNAVAILABLE;
	if (r->type == REDIS_REPLY_STRING) {
		char *nl = memchr(r->str, '\n', r->len);
		uint64_t gen = strtoull(r->str, NULL, 10);

		if (nl != NULL) {
			*json = with_status(nl + 1, status_of(iv, gen));
			rc = *json != NULL ? EDG_INVAL_OK : EDG_INVAL_UNAVAILABLE;
		}
	}
	freeReplyObject(r);
	return rc;
}

int
edg_inval_list(struct edg_inval *iv, char **json)
{
	cJSON *o = cJSON_CreateObject(), *items = cJSON_CreateArray();
	int rc = EDG_INVAL_OK;
	size_t i;

	*json = NULL;
	if (o == NULL || items == NULL) {
		cJSON_Delete(o);
		cJSON_Delete(items);
		return EDG_INVAL_UNAVAILABLE;
	}
	cJSON_AddItemToObject(o, "items", items);
	if (iv->rs == NULL) {
		pthread_mutex_lock(&iv->mu);
		for (i = iv->nrec; i-- > 0;) {
			cJSON *rec = cJSON_Parse(iv->recs[i].json);

			if (rec != NULL) {
				cJSON_AddStringToObject(rec, "status", "Completed");
				cJSON_AddItemToArray(items, rec);
			}
		}
		pthread_mutex_unlock(&iv->mu);
	} else {
		const void *av[5] = { "ZREVRANGE", "edged:inv:list", "0", "99" };
		size_t al[4] = { 9, 14, 1, 2 };
		redisReply *r = NULL;

		if (rstore_command(iv->rs, 4, av, al, &r) != RSTORE_OK) {
			rc = EDG_INVAL_UNAVAILABLE;
		} else {
			for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
				char *one = NULL;
				cJSON *rec;

				if (r->element[i]->type != REDIS_REPLY_STRING ||
				    edg_inval_get(iv, r->element[i]->str, &one) != EDG_INVAL_OK)
					continue;
				rec = cJSON_Parse(one);
				free(one);
				if (rec != NULL)
					cJSON_AddItemToArray(items, rec);
			}
			freeReplyObject(r);
		}
	}
	cJSON_AddNumberToObject(o, "quantity", cJSON_GetArraySize(items));
	if (rc == EDG_INVAL_OK) {
		*json = cJSON_PrintUnformatted(o);
		if (*json == NULL)
			rc = EDG_INVAL_UNAVAILABLE;
	}
	cJSON_Delete(o);
	return rc;
}
