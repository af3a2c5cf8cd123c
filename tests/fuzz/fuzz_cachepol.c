/*
 * fuzz_cachepol.c: libFuzzer target for the shared-cache policy's parsers
 * and decisions.  The input is used three ways, each on an exact-size copy
 * so that ASan sees any read past the length given:
 *   - as one field value for the Cache-Control, CDN-Cache-Control and
 *     HTTP-date parsers, the entity-tag list matcher and the invalidation
 *     target resolver;
 *   - as "Name: value" lines (split at LF) fed to both a response and a
 *     request summary, which then go through every decision.
 * Invariants (any break abort()s):
 *   - every duration is in [0, 2^31]; a directive is never both valid and
 *     _BAD; field-name lists are lower-case tokens, comma-separated, within
 *     CACHEPOL_NAMES_MAX;
 *   - a parsed date formats back to an IMF-fixdate that parses to the same
 *     time;
 *   - an entity-tag that matches strongly matches weakly;
 *   - decisions are consistent: fresh means HIT or a revalidation asked for
 *     by a directive, stale-serving actions only for stale responses, the
 *     Redis TTL at least 1, enum results in range;
 *   - a resolved invalidation target starts with '/', fits the buffer and
 *     holds no "." or ".." path segment.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachepol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BITS_KNOWN ((uint32_t)((1u << 24) - 1))

static void
check_delta(int64_t v)
{
	if (v < 0 || v > CACHEPOL_DELTA_MAX)
		abort();
}

static void
check_names(const char *list)
{
	size_t n = strnlen(list, CACHEPOL_NAMES_MAX), i;

	if (n >= CACHEPOL_NAMES_MAX)
		abort(); /* not terminated */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)list[i];

		if (c == ',' ? (i == 0 || i + 1 == n || list[i + 1] == ',') :
		               (c <= ' ' || c >= 0x7f || (c >= 'A' && c <= 'Z') || c == '"'))
			abort();
	}
}

static void
check_cc(const struct cachepol_cc *cc)
{
	static const uint32_t pairs[][2] = {
		{ CACHEPOL_CC_MAX_AGE, CACHEPOL_CC_MAX_AGE_BAD },
		{ CACHEPOL_CC_S_MAXAGE, CACHEPOL_CC_S_MAXAGE_BAD },
		{ CACHEPOL_CC_MAX_STALE, CACHEPOL_CC_MAX_STALE_BAD },
		{ CACHEPOL_CC_MIN_FRESH, CACHEPOL_CC_MIN_FRESH_BAD },
		{ CACHEPOL_CC_SWR, CACHEPOL_CC_SWR_BAD },
		{ CACHEPOL_CC_SIE, CACHEPOL_CC_SIE_BAD },
	};
	size_t i;

	if (cc->flags & ~BITS_KNOWN)
		abort();
	for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
		if ((cc->flags & pairs[i][0]) && (cc->flags & pairs[i][1]))
			abort();
	check_delta(cc->max_age);
	check_delta(cc->s_maxage);
	check_delta(cc->max_stale);
	check_delta(cc->min_fresh);
	check_delta(cc->swr);
	check_delta(cc->sie);
	check_names(cc->no_cache_names);
	check_names(cc->private_names);
	if (cc->no_cache_names[0] != '\0' && !(cc->flags & (CACHEPOL_CC_NO_CACHE_FIELDS |
	                                                   CACHEPOL_CC_NO_CACHE)))
		abort();
}

static void
check_date(const char *s, size_t n)
{
	char buf[CACHEPOL_DATE_LEN + 1];
	int64_t t, back;

	if (cachepol_date_parse(s, n, INT64_C(1700000000), &t) != 0)
		return;
	if (cachepol_date_format(t, buf) != 0 || strlen(buf) != CACHEPOL_DATE_LEN)
		abort();
	if (cachepol_date_parse(buf, CACHEPOL_DATE_LEN, CACHEPOL_TIME_NONE, &back) != 0 || back != t)
		abort();
	(void)cachepol_date_parse(s, n, CACHEPOL_TIME_NONE, &t);
}

static void
check_target(const char *s, size_t n)
{
	char out[96];
	int rc = cachepol_invalidation_target("https", "example.com", "/a/b/c?q", s, n, out,
	                                      sizeof out);
	size_t len, i, seg;

	if (rc < -1 || rc > 1)
		abort();
	if (rc != 1)
		return;
	len = strnlen(out, sizeof out);
	if (len == sizeof out || out[0] != '/')
		abort();
	/* no "." or ".." segment left in the path */
	for (i = 0, seg = 0; i <= len && out[i] != '?'; i++) {
		if (i == len || out[i] == '/') {
			size_t sl = i - seg;

			if ((sl == 1 && out[seg] == '.') || (sl == 2 && out[seg] == '.' && out[seg + 1] == '.'))
				abort();
			seg = i + 1;
		}
	}
}

struct both {
	struct cachepol_resp r;
	struct cachepol_req q;
};

/* Feed buf's "Name: value" lines to a response and a request summary. */
static void
feed_lines(struct both *b, const char *buf, size_t size)
{
	size_t i = 0;

	while (i < size) {
		const char *line = buf + i, *colon, *v;
		const char *nl = memchr(line, '\n', size - i);
		size_t ll = nl != NULL ? (size_t)(nl - line) : size - i;

		i += ll + 1;
		colon = memchr(line, ':', ll);
		if (colon == NULL)
			continue;
		v = colon + 1;
		cachepol_resp_field(&b->r, line, (size_t)(colon - line), v,
		                    ll - (size_t)(v - line));
		cachepol_req_field(&b->q, line, (size_t)(colon - line), v, ll - (size_t)(v - line));
	}
}

static void
check_decisions(const char *buf, size_t size, const uint8_t *data)
{
	static struct both b;
	struct cachepol_config cfg;
	struct cachepol_fresh f;
	struct cachepol_age a;
	struct cachepol_use u;
	enum cachepol_store st;
	enum cachepol_cond c;
	int64_t t1 = INT64_C(1700000000), now, ttl;
	unsigned status = 100 + (size > 0 ? data[0] : 0) * 2;
	unsigned k;

	cachepol_config_default(&cfg);
	if (size > 1) { /* let the input pick the operator's switches too */
		cfg.ttl_default = data[1] & 1 ? 3600 : 0;
		cfg.ttl_min = data[1] & 2 ? 60 : 0;
		cfg.honor_pragma = data[1] & 4;
		cfg.evaluate_if_match = data[1] & 8;
		cfg.error_ttl_any_status = data[1] & 16;
		cfg.cdn_cache_control = !(data[1] & 32);
		cfg.stale_if_error = data[1] & 64 ? 30 : 0;
	}
	now = t1 + (size > 2 ? (int64_t)data[2] * 97 : 0);
	cachepol_resp_init(&b.r, status, t1 - 1, t1);
	cachepol_req_init(&b.q, "GET", 3);
	feed_lines(&b, buf, size);
	cachepol_resp_done(&b.r, &cfg);
	check_cc(&b.r.cc);
	check_cc(&b.q.cc);
	check_delta(b.r.age);
	check_names(b.r.conn_names);
	if (strnlen(b.r.etag, sizeof b.r.etag) == sizeof b.r.etag)
		abort();

	cachepol_freshness(&b.r, &cfg, &f);
	check_delta(f.lifetime);
	if ((unsigned)f.src > CACHEPOL_F_NONE || (f.src == CACHEPOL_F_NONE && f.lifetime != 0))
		abort();
	cachepol_age(&b.r, now, &a);
	check_delta(a.apparent_age);
	check_delta(a.response_delay);
	check_delta(a.corrected_age_value);
	check_delta(a.corrected_initial_age);
	check_delta(a.resident_time);
	check_delta(a.current_age);
	if (a.current_age < a.corrected_initial_age)
		abort();

	st = cachepol_storable(&b.r, &b.q, &cfg);
	if ((unsigned)st > CACHEPOL_NS_STALE || cachepol_store_str(st)[0] == 'u')
		abort();
	ttl = cachepol_store_ttl(&b.r, &f, &cfg, now);
	if (ttl < 1)
		abort();

	cachepol_use(&b.r, &f, &b.q, &cfg, now, &u);
	if ((unsigned)u.action > CACHEPOL_GATEWAY_TIMEOUT || u.action == CACHEPOL_FETCH ||
	    u.detail == NULL || u.age != a.current_age || u.remaining != f.lifetime - u.age ||
	    u.stale != (u.remaining <= 0))
		abort();
	if (u.action == CACHEPOL_HIT && u.stale)
		abort();
	if ((u.action == CACHEPOL_HIT_STALE || u.action == CACHEPOL_STALE_REVALIDATE) && !u.stale)
		abort();
	if (u.serve_on_error && u.action != CACHEPOL_REVALIDATE &&
	    u.action != CACHEPOL_GATEWAY_TIMEOUT)
		abort();
	if ((u.action == CACHEPOL_HIT_STALE || u.action == CACHEPOL_STALE_REVALIDATE) &&
	    (b.r.cc.flags & (CACHEPOL_CC_MUST_REVALIDATE | CACHEPOL_CC_PROXY_REVALIDATE |
	                     CACHEPOL_CC_S_MAXAGE | CACHEPOL_CC_NO_CACHE)))
		abort();
	if (cachepol_on_miss(&b.q) != CACHEPOL_FETCH && cachepol_on_miss(&b.q) != CACHEPOL_GATEWAY_TIMEOUT)
		abort();

	c = cachepol_conditional(&b.r, &b.q, &cfg);
	if ((unsigned)c > CACHEPOL_COND_FORWARD || (c == CACHEPOL_COND_412 && !cfg.evaluate_if_match))
		abort();
	(void)cachepol_if_range(&b.r, buf, size);
	k = b.q.n_inm < CACHEPOL_COND_LINES ? b.q.n_inm : CACHEPOL_COND_LINES;
	if (cachepol_etag_list_match(b.q.inm, k, b.r.etag, strlen(b.r.etag), false) == 1 &&
	    cachepol_etag_list_match(b.q.inm, k, b.r.etag, strlen(b.r.etag), true) != 1)
		abort();
	(void)cachepol_store_field(&b.r, buf, size);
	(void)cachepol_update_field(&b.r, buf, size);
	(void)cachepol_304_field(buf, size);
	(void)cachepol_invalidates(buf, size, status);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cachepol_cc cc;
	struct cachepol_span sp[3];
	char *buf;
	size_t third = size / 3;
	int rc;

	buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);

	cachepol_cc_init(&cc);
	cachepol_cc_parse(&cc, buf, size);
	check_cc(&cc);
	cachepol_cc_init(&cc);
	rc = cachepol_cc_parse_sf(&cc, buf, size);
	if (rc < -1 || rc > 1)
		abort();
	if (rc >= 0)
		check_cc(&cc);
	check_date(buf, size);
	check_target(buf, size);
	if (cachepol_etag_match(buf, size, buf, size, false) &&
	    !cachepol_etag_match(buf, size, buf, size, true))
		abort();
	sp[0].p = buf;
	sp[0].len = third;
	sp[1].p = buf + third;
	sp[1].len = third;
	sp[2].p = buf + 2 * third;
	sp[2].len = size - 2 * third;
	rc = cachepol_etag_list_match(sp, 3, "\"x\"", 3, true);
	if (rc < -1 || rc > 1)
		abort();
	check_decisions(buf, size, data);
	free(buf);
	return 0;
}
