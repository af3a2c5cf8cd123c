/*
 * edg_metrics.c: edged's Prometheus metrics (see edg_ops.h; the text
 * pieces are lib/prom.c, the admin listener serves the result).
 *
 * The request path only adds to counters: relaxed atomic adds, no lock,
 * no allocation.  The counters it touches on every request live in
 * stripes, each on its own cache lines, and a thread keeps to one stripe
 * (picked round-robin the first time it counts), so threads answering at
 * the same time rarely write the same line.  A scrape sums the stripes.
 * The cache's, the access log's and the server's own numbers are read
 * when a scrape asks for them.
 *
 * Label sets are fixed and every combination is written, zeros included,
 * so a series exists (and rate() works) from the first scrape on:
 *   result of edged_requests_total, from X-Cache (r->result) and else
 *   r->local_kind: hit ("Hit from edged", stale answers included),
 *   refresh_hit ("RefreshHit": revalidated with a 304), miss ("Miss":
 *   from the origin, cache bypasses and cache = false included), error
 *   ("Error": the origin failed, 502/504), redirect (301 to HTTPS),
 *   denied (403 https-only), invalid (refused by validation), other (an
 *   answer none of these describe) and none (no answer queued: the
 *   viewer went away first);
 *   status_class: 2xx, 3xx, 4xx, 5xx, none (no answer, or out of range).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edg_ops.h"
#include "prom.h"
#include "version.h"

/* ---- label sets ----------------------------------------------------------------- */

enum { RES_HIT, RES_REFRESH_HIT, RES_MISS, RES_ERROR, RES_REDIRECT, RES_DENIED, RES_INVALID,
       RES_OTHER, RES_NONE, RES_N };
static const char *const res_name[RES_N] = {
	"hit", "refresh_hit", "miss", "error", "redirect", "denied", "invalid", "other", "none",
};

enum { SC_2XX, SC_3XX, SC_4XX, SC_5XX, SC_NONE, SC_N };
static const char *const sc_name[SC_N] = { "2xx", "3xx", "4xx", "5xx", "none" };

/* origin failure causes: enum hc_fail's (HC_CONNECT .. HC_BUSY at 0 ..
 * HC_BUSY - 1), then 5xx answers */
#define CAUSE_5XX HC_BUSY
#define CAUSE_N (HC_BUSY + 1)
_Static_assert(HC_CONNECT == 1 && HC_BUSY == 8, "enum hc_fail changed: update cause_name");
static const char *const cause_name[CAUSE_N] = {
	"connect", "tls", "verify", "timeout", "protocol", "closed", "io", "busy", "5xx",
};

/* what the watchdog cut viewer connections for (edg_conn.what) */
enum { VT_HEAD, VT_IDLE, VT_BODY, VT_RESPONSE, VT_N };
static const char *const vt_name[VT_N] = { "head", "idle", "body", "response" };

enum { V_TLS10, V_TLS11, V_TLS12, V_TLS13, V_OTHER, V_N };
static const char *const ver_name[V_N] = { "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "other" };

/* Request and origin times, in milliseconds (what edg_now_ms() counts):
 * 1 ms to a minute, past origin_response_timeout's 30 s default. */
static const uint64_t ms_bounds[] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
};

/* ---- the counters ----------------------------------------------------------------- */

#define NSTRIPE 16

struct stripe {
	unsigned long long req[RES_N][SC_N];
	unsigned long long bytes_in, bytes_out, aborted;
	struct prom_hist ttfb;                 /* ms */
	unsigned long long origin[SC_N];       /* none: failed before a head */
	unsigned long long origin_err[CAUSE_N];
	struct prom_hist origin_lat;           /* ms */
	unsigned long long tls[V_N][2];        /* [version][resumed] */
} __attribute__((aligned(64)));

static struct stripe stripes[NSTRIPE] = {
	[0 ... NSTRIPE - 1] = {
		.ttfb = PROM_HIST_INIT(ms_bounds, 1e3),
		.origin_lat = PROM_HIST_INIT(ms_bounds, 1e3),
	},
};

static unsigned long long handshake_failures;
static unsigned long long viewer_timeouts[VT_N];
static unsigned next_stripe;
static __thread unsigned my_stripe; /* 0: none yet, else index + 1 */
static double start_time;           /* Unix time, seconds */

/* The process's start (near enough: when the program is loaded). */
__attribute__((constructor)) static void
note_start(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	start_time = (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1e3;
}

static struct stripe *
stripe(void)
{
	if (my_stripe == 0)
		my_stripe = __atomic_fetch_add(&next_stripe, 1, __ATOMIC_RELAXED) % NSTRIPE + 1;
	return &stripes[my_stripe - 1];
}

#define ADD(p, v) __atomic_add_fetch(&(p), (v), __ATOMIC_RELAXED)

static unsigned
status_class(unsigned status)
{
	return status >= 200 && status < 600 ? status / 100 - 2 : SC_NONE;
}

static unsigned
result_of(const struct edg_req *r)
{
	const char *x = r->result;

	if (x != NULL) {
		/* the constant X-Cache strings edg_cache.c and main.c send */
		if (strcmp(x, "Hit from edged") == 0)
			return RES_HIT;
		if (strcmp(x, "Miss from edged") == 0)
			return RES_MISS;
		if (strcmp(x, "RefreshHit from edged") == 0)
			return RES_REFRESH_HIT;
		if (strcmp(x, "Error from edged") == 0)
			return RES_ERROR;
		return RES_OTHER;
	}
	switch (r->local_kind) {
	case EDG_LOCAL_REDIRECT: return RES_REDIRECT;
	case EDG_LOCAL_DENIED: return RES_DENIED;
	case EDG_LOCAL_INVALID: return RES_INVALID;
	case EDG_LOCAL_ORIGIN_ERROR: return RES_ERROR;
	default: break;
	}
	return r->status == 0 ? RES_NONE : RES_OTHER;
}

/* ---- the request path ---------------------------------------------------------------- */

void
edg_metrics_tls(gnutls_session_t s)
{
	struct stripe *st = stripe();
	unsigned v;

	switch (gnutls_protocol_get_version(s)) {
	case GNUTLS_TLS1_0: v = V_TLS10; break;
	case GNUTLS_TLS1_1: v = V_TLS11; break;
	case GNUTLS_TLS1_2: v = V_TLS12; break;
	case GNUTLS_TLS1_3: v = V_TLS13; break;
	default: v = V_OTHER; break;
	}
	ADD(st->tls[v][gnutls_session_is_resumed(s) != 0], 1);
}

void
edg_metrics_origin(int64_t ms, enum hc_fail fail, unsigned status)
{
	struct stripe *st = stripe();

	prom_hist_observe(&st->origin_lat, ms > 0 ? (uint64_t)ms : 0);
	if (fail != HC_OK) {
		/* a class this file does not know yet counts as io */
		unsigned c = fail >= HC_CONNECT && fail <= HC_BUSY ? (unsigned)fail - 1 : HC_IO - 1;

		ADD(st->origin[SC_NONE], 1);
		ADD(st->origin_err[c], 1);
		return;
	}
	ADD(st->origin[status_class(status)], 1);
	if (status >= 500)
		ADD(st->origin_err[CAUSE_5XX], 1);
}

void
edg_metrics_request(const struct edg_req *r)
{
	struct stripe *st = stripe();

	ADD(st->req[result_of(r)][status_class(r->status)], 1);
	if (r->bytes_in > 0)
		ADD(st->bytes_in, r->bytes_in);
	/* the body and the head (edg_queue counts the head's fields) */
	if (r->bytes_out + r->head_out > 0)
		ADD(st->bytes_out, r->bytes_out + r->head_out);
	if (r->aborted)
		ADD(st->aborted, 1);
	/* time to the answer's head: nothing was queued, nothing to time */
	if (r->t_queued > 0)
		prom_hist_observe(&st->ttfb,
		                  r->t_queued > r->t0 ? (uint64_t)(r->t_queued - r->t0) : 0);
}

void
edg_metrics_handshake_failed(void)
{
	ADD(handshake_failures, 1);
}

void
edg_metrics_viewer_timeout(const char *what)
{
	unsigned v = strcmp(what, "idle") == 0 ? VT_IDLE : strcmp(what, "body") == 0 ? VT_BODY :
	             strcmp(what, "response") == 0 ? VT_RESPONSE : VT_HEAD;

	ADD(viewer_timeouts[v], 1);
}

/* ---- the exposition ------------------------------------------------------------------ */

/* A family of one unlabelled sample. */
static void
one_u(struct prom_buf *b, const char *name, enum prom_type t, const char *help,
      unsigned long long v)
{
	prom_head(b, name, t, help);
	prom_sample_u(b, name, NULL, 0, v);
}

static void
one_f(struct prom_buf *b, const char *name, enum prom_type t, const char *help, double v)
{
	prom_head(b, name, t, help);
	prom_sample_f(b, name, NULL, 0, v);
}

/* The stripes summed (each counter read atomically; the sum is not one
 * instant, which a scrape does not need). */
static void
sum_stripes(struct stripe *t)
{
	unsigned i, a, c;

	memset(t, 0, sizeof *t);
	prom_hist_init(&t->ttfb, ms_bounds, sizeof ms_bounds / sizeof ms_bounds[0], 1e3);
	prom_hist_init(&t->origin_lat, ms_bounds, sizeof ms_bounds / sizeof ms_bounds[0], 1e3);
#define LD(f) __atomic_load_n(&s->f, __ATOMIC_RELAXED)
	for (i = 0; i < NSTRIPE; i++) {
		const struct stripe *s = &stripes[i];

		for (a = 0; a < RES_N; a++)
			for (c = 0; c < SC_N; c++)
				t->req[a][c] += LD(req[a][c]);
		t->bytes_in += LD(bytes_in);
		t->bytes_out += LD(bytes_out);
		t->aborted += LD(aborted);
		prom_hist_add(&t->ttfb, &s->ttfb);
		for (c = 0; c < SC_N; c++)
			t->origin[c] += LD(origin[c]);
		for (c = 0; c < CAUSE_N; c++)
			t->origin_err[c] += LD(origin_err[c]);
		prom_hist_add(&t->origin_lat, &s->origin_lat);
		for (a = 0; a < V_N; a++)
			for (c = 0; c < 2; c++)
				t->tls[a][c] += LD(tls[a][c]);
	}
#undef LD
}

static void
render_requests(struct prom_buf *b, const struct stripe *t)
{
	unsigned a, c;

	prom_head(b, "edged_requests_total", PROM_COUNTER,
	          "Viewer requests finished, by how they were answered (result: hit, "
	          "refresh_hit, miss, error, redirect, denied, invalid, other, none) and the "
	          "answer's status class.");
	for (a = 0; a < RES_N; a++)
		for (c = 0; c < SC_N; c++)
			prom_sample_u(b, "edged_requests_total",
			              (struct prom_label[]){ { "result", res_name[a] },
			                                     { "status_class", sc_name[c] } },
			              2, t->req[a][c]);
	prom_head(b, "edged_request_duration_seconds", PROM_HISTOGRAM,
	          "Time from a viewer request's arrival to its answer's head being queued "
	          "(time to first byte).");
	prom_hist_write(b, "edged_request_duration_seconds", NULL, 0, &t->ttfb);
	one_u(b, "edged_viewer_bytes_received_total", PROM_COUNTER,
	      "Request bytes (head and body) received from viewers.", t->bytes_in);
	one_u(b, "edged_viewer_bytes_sent_total", PROM_COUNTER,
	      "Response bytes sent to viewers (heads, as counted by edged, and bodies).", t->bytes_out);
	one_u(b, "edged_requests_aborted_total", PROM_COUNTER,
	      "Viewer requests that ended before their answer was complete (the viewer "
	      "went away or the response broke).", t->aborted);

	prom_head(b, "edged_origin_requests_total", PROM_COUNTER,
	          "Origin exchanges, by the origin's status class (none: failed before a "
	          "response head).");
	for (c = 0; c < SC_N; c++)
		prom_sample_u(b, "edged_origin_requests_total",
		              (struct prom_label[]){ { "status_class", sc_name[c] } }, 1,
		              t->origin[c]);
	prom_head(b, "edged_origin_errors_total", PROM_COUNTER,
	          "Origin exchanges that failed (cause: connect, tls, verify, timeout, protocol, "
	          "closed, io, busy: origin_max_connections in use) or answered with a 5xx "
	          "status.");
	for (c = 0; c < CAUSE_N; c++)
		prom_sample_u(b, "edged_origin_errors_total",
		              (struct prom_label[]){ { "cause", cause_name[c] } }, 1,
		              t->origin_err[c]);
	prom_head(b, "edged_origin_latency_seconds", PROM_HISTOGRAM,
	          "Time from sending a request to the origin to its response head (or to the "
	          "failure).");
	prom_hist_write(b, "edged_origin_latency_seconds", NULL, 0, &t->origin_lat);

	prom_head(b, "edged_tls_handshakes_total", PROM_COUNTER,
	          "Viewer TLS connections that sent a request, by protocol version and "
	          "whether the handshake resumed a session.");
	for (a = 0; a < V_N; a++)
		for (c = 0; c < 2; c++)
			prom_sample_u(b, "edged_tls_handshakes_total",
			              (struct prom_label[]){ { "version", ver_name[a] },
			                                     { "resumed", c ? "true" : "false" } },
			              2, t->tls[a][c]);
	one_u(b, "edged_tls_handshake_failures_total", PROM_COUNTER,
	      "Viewer TLS handshakes that failed.",
	      __atomic_load_n(&handshake_failures, __ATOMIC_RELAXED));
	prom_head(b, "edged_viewer_timeouts_total", PROM_COUNTER,
	          "Viewer connections the watchdog closed, by what it waited for (head: the "
	          "TLS handshake and request head, header_timeout; idle: the next request, "
	          "connection_timeout; body: the request body, body_timeout and "
	          "body_min_rate; response: the viewer to take its answer, send_timeout and "
	          "send_min_rate).");
	for (c = 0; c < VT_N; c++)
		prom_sample_u(b, "edged_viewer_timeouts_total",
		              (struct prom_label[]){ { "waiting_for", vt_name[c] } }, 1,
		              __atomic_load_n(&viewer_timeouts[c], __ATOMIC_RELAXED));
}

static void
render_cache(struct prom_buf *b, const struct edg_cache_stats *st)
{
	static const char *const look[] = { "hit", "stale", "revalidated", "miss", "bypass" };
	const unsigned long long nlook[] = { st->hit, st->stale, st->refresh, st->miss,
	                                     st->bypass };
	const struct mcache_stats *m = &st->mem;
	unsigned i;

	prom_head(b, "edged_cache_lookups_total", PROM_COUNTER,
	          "Cache decisions: hit (fresh), stale (served stale: max-stale, "
	          "stale-while-revalidate, stale-if-error), revalidated (a 304 refreshed the "
	          "entry, background refreshes included), miss (fetched whole), bypass (not "
	          "looked up).");
	for (i = 0; i < sizeof look / sizeof look[0]; i++)
		prom_sample_u(b, "edged_cache_lookups_total",
		              (struct prom_label[]){ { "result", look[i] } }, 1, nlook[i]);
	one_u(b, "edged_cache_stored_total", PROM_COUNTER,
	      "Responses stored in the cache.", st->stored);
	one_u(b, "edged_cache_collapsed_total", PROM_COUNTER,
	      "Requests that waited for another request's fetch of the same key instead of "
	      "fetching it themselves.", st->collapsed);
	one_u(b, "edged_cache_invalidated_total", PROM_COUNTER,
	      "Entries dropped because an unsafe request invalidated their URI "
	      "(RFC 9111 4.4).", st->invalidated);
	one_u(b, "edged_invalidations_total", PROM_COUNTER,
	      "Invalidations (bans) received through the admin API.", st->bans);
	one_u(b, "edged_invalidations_active", PROM_GAUGE,
	      "Invalidations (bans) in force (not yet past their retention).",
	      (unsigned long long)st->bans_active);
	one_u(b, "edged_invalidation_poll_failures_total", PROM_COUNTER,
	      "Polls for other nodes' invalidations that failed (Redis unavailable).",
	      st->inval_poll_failures);
	one_u(b, "edged_cache_ban_hits_total", PROM_COUNTER,
	      "Stored entries refused because an invalidation (ban) covers them.",
	      st->ban_hits);
	one_u(b, "edged_cache_corrupt_total", PROM_COUNTER,
	      "Stored entries refused because they did not decode or verify.", st->corrupt);
	one_u(b, "edged_cache_store_refused_total", PROM_COUNTER,
	      "Responses streamed uncached because the bytes held by stores in flight "
	      "had reached store_memory_limit.", st->store_refused);
	one_u(b, "edged_cache_store_held_bytes", PROM_GAUGE,
	      "Bytes held by stores in flight (responses received whole before they "
	      "become entries).", (unsigned long long)st->store_held);
	one_u(b, "edged_cache_store_memory_limit_bytes", PROM_GAUGE,
	      "The bound on bytes held by stores in flight (store_memory_limit).",
	      (unsigned long long)st->store_held_max);
	one_u(b, "edged_cache_mac_failures_total", PROM_COUNTER,
	      "Of those, values in Redis without a valid MAC (cache_secret_file): forged, "
	      "copied from another key, or written with another secret or none.",
	      st->mac_failed);
	one_u(b, "edged_cache_oversized_total", PROM_COUNTER,
	      "Of those, values in Redis over max_object_size + 256 KiB, refused unread.",
	      st->too_large);

	one_u(b, "edged_memory_cache_bytes", PROM_GAUGE,
	      "Bytes the memory tier's entries cost (blobs and overhead).",
	      (unsigned long long)m->bytes);
	one_u(b, "edged_memory_cache_entries", PROM_GAUGE,
	      "Entries in the memory tier.", (unsigned long long)m->entries);
	one_u(b, "edged_memory_cache_budget_bytes", PROM_GAUGE,
	      "The memory tier's byte budget (memory_cache_size).",
	      (unsigned long long)m->budget);
	one_u(b, "edged_memory_cache_hits_total", PROM_COUNTER,
	      "Memory tier lookups that found an entry.", m->hits);
	one_u(b, "edged_memory_cache_misses_total", PROM_COUNTER,
	      "Memory tier lookups that found nothing.", m->misses);
	one_u(b, "edged_memory_cache_evictions_total", PROM_COUNTER,
	      "Memory tier entries evicted to make room.", m->evictions);
	one_f(b, "edged_memory_cache_hit_ratio", PROM_GAUGE,
	      "Memory tier hits / (hits + misses) since start, 0 before any lookup.",
	      m->hits + m->misses > 0 ? (double)m->hits / (double)(m->hits + m->misses) : 0);
}

static void
render_redis(struct prom_buf *b, const struct rstore_stats *rs)
{
	static const char *const kind[] = { "timeout", "io", "reply", "pool_timeout",
	                                    "fail_fast" };
	const unsigned long long nkind[] = { rs->timeouts, rs->io_errors, rs->reply_errors,
	                                     rs->pool_timeouts, rs->fail_fast };
	uint64_t le[RSTORE_LAT_N - 1];
	struct prom_hist h;
	unsigned i;

	one_u(b, "edged_redis_up", PROM_GAUGE,
	      "1 when the last Redis call succeeded, 0 when Redis is down or not reached yet.",
	      rs->state == RSTORE_STATE_UP);
	one_u(b, "edged_redis_calls_total", PROM_COUNTER,
	      "Redis calls (get, set, del, ping and other commands).", rs->calls);
	prom_head(b, "edged_redis_errors_total", PROM_COUNTER,
	          "Redis calls that failed, by kind: timeout (no answer in time), io (refused, "
	          "reset, closed, protocol), reply (error reply), pool_timeout (no free "
	          "connection in time), fail_fast (refused without I/O during a backoff).");
	for (i = 0; i < sizeof kind / sizeof kind[0]; i++)
		prom_sample_u(b, "edged_redis_errors_total",
		              (struct prom_label[]){ { "kind", kind[i] } }, 1, nkind[i]);
	/* rstore's bounds are ints, in microseconds */
	for (i = 0; i < RSTORE_LAT_N - 1; i++)
		le[i] = (uint64_t)rstore_lat_le_us[i];
	prom_hist_init(&h, le, RSTORE_LAT_N - 1, 1e6);
	for (i = 0; i < RSTORE_LAT_N; i++)
		h.count[i] = rs->lat[i];
	h.sum = rs->lat_sum_us;
	prom_head(b, "edged_redis_latency_seconds", PROM_HISTOGRAM,
	          "Time answered Redis calls took (waiting for a connection, connecting, "
	          "the exchange).");
	prom_hist_write(b, "edged_redis_latency_seconds", NULL, 0, &h);
	one_u(b, "edged_redis_connections", PROM_GAUGE,
	      "Open connections to Redis (idle in the pool or in use).",
	      rs->open > 0 ? (unsigned long long)rs->open : 0);
}

/* The connections open to each origin endpoint (busy + idle, idle), and
 * the uploads holding one while their body still arrives. */
static void
render_origin_conns(struct prom_buf *b, struct edg_server *srv)
{
	struct hc_origin *ep[4] = { srv->primary.https, srv->primary.http, NULL, NULL };
	unsigned i, n = 2;

	if (srv->has_failover) {
		ep[n++] = srv->failover.https;
		ep[n++] = srv->failover.http;
	}
	prom_head(b, "edged_origin_connections", PROM_GAUGE,
	          "Connections open to each origin endpoint (state: open counts busy and "
	          "idle ones, at most origin_max_connections; idle: pooled).");
	for (i = 0; i < n; i++) {
		size_t open, idle;

		if (ep[i] == NULL)
			continue;
		hc_origin_counts(ep[i], &open, &idle);
		prom_sample_u(b, "edged_origin_connections",
		              (struct prom_label[]){ { "origin", ep[i]->label },
		                                     { "state", "open" } }, 2, open);
		prom_sample_u(b, "edged_origin_connections",
		              (struct prom_label[]){ { "origin", ep[i]->label },
		                                     { "state", "idle" } }, 2, idle);
	}
	one_u(b, "edged_origin_uploads", PROM_GAUGE,
	      "Origin connections held by request bodies still arriving from viewers (at "
	      "most half of origin_max_connections).",
	      __atomic_load_n(&srv->uploading, __ATOMIC_RELAXED));
}

size_t
edg_metrics_render(struct edg_server *srv, char **out)
{
	struct stripe t;
	struct edg_cache_stats cs;
	unsigned long long written, dropped, nconns;
	struct prom_buf b;
	size_t len;

	prom_buf_init(&b);
	sum_stripes(&t);
	render_requests(&b, &t);

	edg_cache_stats(srv, &cs);
	if (cs.on)
		render_cache(&b, &cs);
	if (cs.has_redis)
		render_redis(&b, &cs.redis);

	edg_alog_counts(&written, &dropped);
	one_u(&b, "edged_access_log_lines_total", PROM_COUNTER,
	      "Access log lines written.", written);
	one_u(&b, "edged_access_log_dropped_total", PROM_COUNTER,
	      "Access log lines dropped because the writer's queue was full.", dropped);

	pthread_mutex_lock(&srv->conns_mu);
	nconns = srv->nconns;
	pthread_mutex_unlock(&srv->conns_mu);
	one_u(&b, "edged_inflight_requests", PROM_GAUGE,
	      "Viewer requests begun and not yet finished.",
	      __atomic_load_n(&srv->inflight, __ATOMIC_RELAXED));
	one_u(&b, "edged_viewer_connections", PROM_GAUGE, "Open viewer connections.", nconns);
	render_origin_conns(&b, srv);
	one_u(&b, "edged_draining", PROM_GAUGE,
	      "1 while draining after SIGTERM (new connections are told to close).",
	      __atomic_load_n(&srv->draining, __ATOMIC_RELAXED));
	prom_head(&b, "edged_build_info", PROM_GAUGE,
	          "Always 1; the labels say which edged and libraries run.");
	prom_sample_u(&b, "edged_build_info",
	              (struct prom_label[]){ { "version", EDGED_VERSION },
	                                     { "gnutls", gnutls_check_version(NULL) },
	                                     { "libmicrohttpd", MHD_get_version() } },
	              3, 1);
	one_f(&b, "edged_start_time_seconds", PROM_GAUGE,
	      "When edged started, in seconds since the Unix epoch.", start_time);

	*out = prom_buf_take(&b, &len);
	return len;
}
