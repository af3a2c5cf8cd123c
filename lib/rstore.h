/*
 * rstore.h: the Redis storage layer of edged's shared cache, over hiredis
 * 0.14: GET, SET with a TTL, DEL, PING, through a small pool of
 * connections, failing open.
 *
 *     struct rstore *rs;
 *     if (rstore_init(&rs, "redis://127.0.0.1:6379/0", &opts, &e) < 0)
 *             exit(2);                       e.msg names what is wrong
 *     switch (rstore_get(rs, key, klen, &val, &vlen)) {
 *     case RSTORE_OK:          ... use val[0..vlen), then free(val)
 *     case RSTORE_ABSENT:      a miss
 *     case RSTORE_UNAVAILABLE: Redis is down, slow or refusing: treat as a
 *                              miss and go to the origin (fail open)
 *     }
 *     rstore_set(rs, key, klen, body, blen, ttl_ms);
 *     rstore_free(rs);
 *
 * URLs (the `redis` key), scheme case-insensitive:
 *     redis://[[user]:password@]host[:port][/db]    port 6379, db 0
 *     unix://[[user]:password@]/path/to/socket[?db=N]
 * host is a name, an IPv4 address or [IPv6]; db a number (redis:// also
 * takes ?db=N instead of /db).  user and password are percent-decoded
 * (write '@' '/' ':' '%' '?' '#' and blanks as %40 %2F %3A %25 %3F %23
 * %20); a password alone is sent as AUTH password, with a user as AUTH
 * user password (Redis 6 ACL).  An empty password means no AUTH.  A unix
 * socket path is taken as written, up to '?'.  rediss:// (TLS) is refused:
 * hiredis 0.14 has no TLS, so keep Redis on loopback, a unix socket or a
 * private network.  Errors and logs never show the password ("***").
 *
 * Timeouts: every call returns within timeout_ms, waiting for a
 * connection, connecting, AUTH and SELECT included, plus an allowance of
 * 1 ms per bytes_per_ms bytes of value moved (so a 32 MiB value gets about
 * 0.5 s more by default); no single wait for Redis (connect, a write, a
 * read) lasts longer than timeout_ms even then.  Not bounded: resolving a
 * host name (getaddrinfo, on each new connection); use an IP address or a
 * unix socket.
 *
 * Fail-open: a call that cannot complete (refused, reset, closed, timed
 * out, protocol error, or a server-wide error reply: LOADING, BUSY,
 * MASTERDOWN, NOAUTH, failed AUTH or SELECT) returns RSTORE_UNAVAILABLE
 * and marks the store down: its connection and every idle one are closed,
 * and for a backoff (backoff_min_ms, doubled after each failed attempt up
 * to backoff_max_ms, "equal jitter": a random delay in [b/2, b]) every
 * call returns RSTORE_UNAVAILABLE at once, without I/O.  When the backoff
 * ends, one caller (the probe) connects and runs its call; the others
 * keep failing fast until its reply comes back, which marks the store up.
 * An error reply that concerns one command (OOM and READONLY refusing a
 * write, WRONGTYPE, ...) fails that call only: the connection is in sync
 * and GETs may still work, so it stays, counted in reply_errors.  A call
 * that had to wait for a connection and then timed out with less than
 * half of timeout_ms left for Redis says nothing about Redis (the wait ate
 * its time): it fails, its connection is closed, and nothing else changes
 * (counted in pool_timeouts).  A Redis that closed an idle pooled
 * connection (a restart, its `timeout` setting) is no outage either: the
 * connection is replaced, and a call whose request met the close before
 * any reply byte is sent again once, on a new connection.
 *
 * Large values (max_value set): Redis is not trusted to hold only what
 * edged wrote, so no value may make a call (or Redis) work on more than
 * about max_value bytes.  rstore_get sends GETRANGE key 0 max_value
 * instead of GET: Redis copies at most max_value + 1 bytes into its reply,
 * where a GET of a 512 MiB value would keep it busy (and the caller
 * waiting, then timing out as if Redis were down) before the first byte.
 * A reply whose header ("$<len>", its first bytes) announces more than
 * max_value bytes is RSTORE_TOO_LARGE (counted in too_large) before any
 * of it is buffered: the connection, out of step with Redis now (the rest
 * is on its way), is closed and replaced by the next call, and nothing
 * else changes (Redis answered: no outage).  And whatever the command, a
 * reply announced or grown past max_value + 64 KiB, or an array where a
 * GET or GETRANGE wants a string, is a protocol error before hiredis
 * buffers it (hiredis 0.14 keeps a whole reply in memory, and callocs an
 * array's slots from its header): only a broken or hostile server sends
 * one, so the connection is closed and the store marked down.
 *
 * Logging (lib/log.h), one line per state change, never one per call:
 *     warn  redis.down   redis=URL reason=... retry_in_ms=N
 *     info  redis.up     redis=URL down_ms=N failed_fast=N attempts=N
 *                        (also the first time Redis answers after init)
 *     warn  redis.still_down ...      at most once per log_interval_ms
 *     warn  redis.error_reply redis=URL count=N error=...   at most once
 *                        per log_interval_ms (count: since the last line)
 *     debug redis.attempt_failed      each failed probe
 *
 * Threads: every function but rstore_init/rstore_free may be called from
 * any number of threads at once.  Calls share pool_size connections
 * (hiredis contexts are not thread-safe, so each is used by one call at a
 * time); a call that finds them all busy waits in line for one, within its
 * deadline, and a connection given back goes straight to the call that
 * has waited longest (first come, first served).  A mutex guards the pool
 * and the state and is never held across I/O.
 */
#ifndef EDGED_RSTORE_H
#define EDGED_RSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct rstore; /* opaque; hiredis stays inside rstore.c */

/* What a call did.  Only these values are ever returned, and
 * RSTORE_TOO_LARGE by rstore_get alone. */
enum rstore_res {
	RSTORE_OK = 0,            /* done (GET: found) */
	RSTORE_ABSENT = 1,        /* GET: no such key (or it expired) */
	RSTORE_TOO_LARGE = 2,     /* GET: the value is over max_value: not read */
	RSTORE_UNAVAILABLE = -1,  /* not done: fail open */
};

/* Zero fields take the default shown.  The names in quotes are the config
 * keys that will set them. */
struct rstore_opts {
	const char *key;          /* config key named in errors: "redis" */
	int timeout_ms;           /* "redis_timeout": 50 (1..60000) */
	int pool_size;            /* "redis_pool_size": 8 (1..1024) */
	int backoff_min_ms;       /* 100 (1..backoff_max_ms) */
	int backoff_max_ms;       /* 5000 (..3600000) */
	int log_interval_ms;      /* 60000; < 0: no periodic lines */
	int bytes_per_ms;         /* value bytes per ms of allowance: 65536
	                           * (64 MiB/s); < 0: no allowance */
	size_t max_value;         /* the largest value rstore_get reads (0: no
	                           * limit); see "Large values" above */
};

/* A parsed URL.  Strings are NUL-terminated. */
struct rstore_url {
	bool unix_socket;
	char host[256];           /* TCP: name or address (IPv6 without []) */
	int port;                 /* TCP: 1..65535 */
	char path[108];           /* unix: absolute socket path */
	char user[128];           /* "" when none */
	char password[256];       /* "" when none (no AUTH) */
	int db;                   /* 0..INT_MAX (SELECT when not 0) */
};

/* Parse url into *u.  Returns 0, or -1 with e saying what is wrong:
 * "key 'redis': 'redis://:***@h:0': port '0' is not in 1-65535".  key
 * names the config key (NULL: "redis"). */
int rstore_url_parse(const char *url, const char *key, struct rstore_url *u, struct err *e);

/* u as a URL without its password (":***@" when it has one), for logs. */
void rstore_url_label(const struct rstore_url *u, char *buf, size_t len);

/* Make a store for url.  Does not connect: Redis may be down at start
 * (the first call connects; rstore_ping checks now).  Returns 0 and *out,
 * or -1 with e (ERR_USAGE: the URL or an option is bad). */
int rstore_init(struct rstore **out, const char *url, const struct rstore_opts *opts,
                struct err *e);

/* Close every connection and free rs.  No call may be running. */
void rstore_free(struct rstore *rs);

/* GET key[0..klen).  RSTORE_OK: *val is a malloc'd copy of the value (the
 * caller frees it with free(); a NUL follows its vlen bytes, not counted),
 * RSTORE_ABSENT, RSTORE_TOO_LARGE (only with max_value set: the value has
 * more than max_value bytes and was not read) or RSTORE_UNAVAILABLE: *val
 * is NULL, *vlen 0.  With max_value set, an empty value reads as
 * RSTORE_ABSENT (GETRANGE answers "" for both). */
enum rstore_res rstore_get(struct rstore *rs, const void *key, size_t klen, char **val,
                           size_t *vlen);

/* GETRANGE key start end (inclusive offsets): up to cap bytes of the value
 * into buf, their count in *n.  RSTORE_ABSENT when the key does not exist
 * or the range is past its end (Redis answers "" for both).  The cache
 * uses it to check that a memory-tier entry is still the one in Redis
 * (its checksum) without moving the whole value. */
enum rstore_res rstore_getrange(struct rstore *rs, const void *key, size_t klen, size_t start,
                                size_t end, void *buf, size_t cap, size_t *n);

/* SET key value PX ttl_ms (ttl_ms 0: no expiry; must not be negative).
 * Binary safe; the value is written from val without a copy. */
enum rstore_res rstore_set(struct rstore *rs, const void *key, size_t klen, const void *val,
                           size_t vlen, int64_t ttl_ms);

/* The same with the value val[0..vlen) followed by tail[0..tlen) (a MAC
 * appended without copying the value). */
enum rstore_res rstore_set_tail(struct rstore *rs, const void *key, size_t klen,
                                const void *val, size_t vlen, const void *tail, size_t tlen,
                                int64_t ttl_ms);

/* DEL keys[0..n) (lengths lens[0..n)) in one command; *deleted (when not
 * NULL) gets how many existed.  n == 0 is RSTORE_OK without I/O. */
enum rstore_res rstore_del(struct rstore *rs, const void *const *keys, const size_t *lens,
                           size_t n, long long *deleted);

/* PING, through the same path as the other calls (backoff included): for
 * a start-up check or a health endpoint.  Returns 0, or -1 with e saying
 * why: "redis://127.0.0.1:6379/0: AUTH failed: WRONGPASS ...",
 * "...: down for 812 ms (connect: Connection refused), next attempt in
 * 150 ms". */
int rstore_ping(struct rstore *rs, struct err *e);

#define RSTORE_LAT_N 11
extern const int rstore_lat_le_us[RSTORE_LAT_N - 1];

enum rstore_state {
	RSTORE_STATE_UNKNOWN,     /* no call has finished yet */
	RSTORE_STATE_UP,
	RSTORE_STATE_DOWN,
};

/* Counters since rstore_init, for metrics.  Each is read atomically; the
 * set is not one snapshot. */
struct rstore_stats {
	enum rstore_state state;
	unsigned long long calls;        /* get + set + del + ping calls */
	unsigned long long hits, misses; /* GET found / absent */
	unsigned long long too_large;    /* GET: values over max_value, not read
	                                  * (the connection closed, no outage) */
	unsigned long long unavailable;  /* calls that returned UNAVAILABLE, of which: */
	unsigned long long fail_fast;    /*   refused without I/O during a backoff */
	unsigned long long pool_timeouts;/*   no free connection before the deadline,
	                                  *   or too little time left after the wait */
	unsigned long long timeouts;     /*   Redis did not answer in time */
	unsigned long long io_errors;    /*   refused, reset, closed, protocol
	                                  *   (replies over max_value included) */
	unsigned long long reply_errors; /*   error replies (fatal or not) */
	unsigned long long connects;     /* connections opened (AUTH/SELECT done) */
	unsigned long long connect_failures; /* attempts that failed */
	unsigned long long stale;        /* pooled connections found closed, replaced */
	unsigned long long downs;        /* transitions to down */
	/* answered calls by time taken (take, connect, exchange): lat[i] for
	 * at most rstore_lat_le_us[i] microseconds, the last for the rest */
	unsigned long long lat[RSTORE_LAT_N], lat_sum_us;
	int open, idle;                  /* connections now: all, idle in the pool */
	int backoff_ms;                  /* the current backoff step (0 when up) */
	int64_t down_for_ms;             /* 0 when not down */
	char last_error[160];            /* the last failure, "" if none */
};

void rstore_stats(struct rstore *rs, struct rstore_stats *st);

/* Any other command, argv[0] its name (argv[i] lens[i] bytes each),
 * through the same pool, deadline and fail-open rules.  RSTORE_OK with
 * *reply (free it with freeReplyObject), or RSTORE_UNAVAILABLE (an error
 * reply included; *reply NULL). */
struct redisReply;
enum rstore_res rstore_command(struct rstore *rs, int argc, const void *const *argv,
                               const size_t *lens, struct redisReply **reply);

/* "ok", "absent", "too-large", "unavailable" */
const char *rstore_res_name(enum rstore_res r);

#endif
