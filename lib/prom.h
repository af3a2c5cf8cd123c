/*
 * prom.h: the pieces of a Prometheus text exposition (format 0.0.4):
 * an append buffer, # HELP / # TYPE heads, sample lines with escaped
 * label values, and a histogram with fixed buckets that the hot path can
 * observe into without a lock.
 *
 *     struct prom_buf b;
 *     prom_buf_init(&b);
 *     prom_head(&b, "x_requests_total", PROM_COUNTER, "Requests answered.");
 *     prom_sample_u(&b, "x_requests_total",
 *                   (struct prom_label[]){ { "code", "200" } }, 1, n200);
 *     ...
 *     text = prom_buf_take(&b, &len);    NULL when out of memory
 *
 * The writers never fail one by one: an allocation failure marks the
 * buffer, the rest is ignored, and prom_buf_take() reports it once.
 *
 * Text format (prometheus.io, "Exposition formats"): one sample a line,
 * "name{label="value",...} value"; label values escape backslash, double
 * quote and line feed (\\ \" \n); HELP text escapes backslash and line
 * feed; a histogram is name_bucket{le="..."} lines, cumulative and ending
 * with le="+Inf", then name_sum and name_count; the last line ends with a
 * line feed.  Names are the caller's constants and are not checked here.
 */
#ifndef EDGED_PROM_H
#define EDGED_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the append buffer ------------------------------------------------------ */

struct prom_buf {
	char *p;          /* always NUL-terminated once something was written */
	size_t len, cap;
	bool oom;         /* an allocation failed: everything since was dropped */
};

void prom_buf_init(struct prom_buf *b);
void prom_buf_free(struct prom_buf *b);
/* Append n bytes of s / a formatted string. */
void prom_put(struct prom_buf *b, const char *s, size_t n);
void prom_puts(struct prom_buf *b, const char *s);
void prom_printf(struct prom_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The text (malloc'd, NUL-terminated, *len bytes without the NUL); the
 * buffer is empty again.  NULL (and *len 0) when an allocation failed on
 * the way; the buffer is freed either way. */
char *prom_buf_take(struct prom_buf *b, size_t *len);

/* ---- metric families and samples ---------------------------------------------- */

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM, PROM_UNTYPED };

/* "# HELP name help" (help escaped) and "# TYPE name type". */
void prom_head(struct prom_buf *b, const char *name, enum prom_type t, const char *help);

struct prom_label {
	const char *name, *value;
};

/* value escaped for a label: \ " and line feed. */
void prom_label_value(struct prom_buf *b, const char *value);

/* One sample line: name{l[0],...,l[nl-1]} v.  nl 0: no braces. */
void prom_sample_u(struct prom_buf *b, const char *name, const struct prom_label *l, size_t nl,
                   unsigned long long v);
void prom_sample_f(struct prom_buf *b, const char *name, const struct prom_label *l, size_t nl,
                   double v);
/* A float as the format wants it: the shortest %g that reads back the
 * same double, "+Inf", "-Inf", "NaN".  out holds at least 32 bytes. */
void prom_fmt_float(char *out, size_t outlen, double v);

/* ---- histograms with fixed buckets -------------------------------------------- */

#define PROM_HIST_MAX 24   /* upper bounds at most (the +Inf bucket is extra) */

/* Observations are integers in some unit (milliseconds, microseconds) so
 * that both the buckets and the sum can be counted with atomic adds; le
 * and _sum are written divided by scale (1000: milliseconds as seconds).
 * A division, not a multiplication by 1e-3: 5 / 1e6 is the double nearest
 * 5e-06, 5 * 1e-6 is not, and le values must read as the round numbers. */
struct prom_hist {
	const uint64_t *le;   /* upper bounds (inclusive), ascending, n of them */
	unsigned n;           /* <= PROM_HIST_MAX */
	double scale;
	/* per bucket, not cumulative: count[i] for le[i-1] < v <= le[i],
	 * count[n] for v > le[n-1] */
	unsigned long long count[PROM_HIST_MAX + 1];
	unsigned long long sum;   /* in units */
};

/* A static initialiser: bounds an array (not a pointer) of uint64_t. */
#define PROM_HIST_INIT(bounds, sc) \
	{ .le = (bounds), .n = sizeof(bounds) / sizeof((bounds)[0]), .scale = (sc) }

/* Zero h and set its buckets (n clipped to PROM_HIST_MAX). */
void prom_hist_init(struct prom_hist *h, const uint64_t *le, unsigned n, double scale);
/* Count one observation v (relaxed atomic adds: any thread, no lock). */
void prom_hist_observe(struct prom_hist *h, uint64_t v);
/* Add h's counts and sum into into (same buckets), reading h atomically:
 * to sum stripes, or to snapshot a histogram other threads observe into. */
void prom_hist_add(struct prom_hist *into, const struct prom_hist *h);
/* name_bucket{l..., le="..."} for every bound and +Inf (cumulative),
 * name_sum{l...} and name_count{l...} (the +Inf bucket's count, so the
 * two always agree).  Reads h plainly: render a snapshot (prom_hist_add)
 * of a histogram that is still being observed into. */
void prom_hist_write(struct prom_buf *b, const char *name, const struct prom_label *l, size_t nl,
                     const struct prom_hist *h);

#endif
