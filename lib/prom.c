/*
 * prom.c: Prometheus text exposition pieces (see prom.h).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

/* ---- the append buffer ------------------------------------------------------ */

void
prom_buf_init(struct prom_buf *b)
{
	memset(b, 0, sizeof *b);
}

void
prom_buf_free(struct prom_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* Room for more bytes and the NUL after them; false once out of memory. */
static bool
reserve(struct prom_buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (more < b->cap - b->len)
		return true;
	if (more > (size_t)-1 / 4 - b->len) {
		b->oom = true;
		return false;
	}
	/* doubling: a whole scrape is a few dozen KiB, built in a few steps */
	cap = b->cap ? b->cap : 4096;
	while (cap - b->len <= more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void
prom_put(struct prom_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
prom_puts(struct prom_buf *b, const char *s)
{
	prom_put(b, s, strlen(s));
}

void
prom_printf(struct prom_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!reserve(b, 128))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->p[b->len] = '\0';
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		/* did not fit: grow to the size vsnprintf asked for, again */
		if (!reserve(b, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

char *
prom_buf_take(struct prom_buf *b, size_t *len)
{
	char *p = b->p;

	if (b->oom || (p == NULL && !reserve(b, 0))) {
		prom_buf_free(b);
		*len = 0;
		return NULL;
	}
	p = b->p;
	p[b->len] = '\0';
	*len = b->len;
	memset(b, 0, sizeof *b);
	return p;
}

/* ---- metric families and samples ---------------------------------------------- */

void
prom_head(struct prom_buf *b, const char *name, enum prom_type t, const char *help)
{
	static const char *const type[] = { "counter", "gauge", "histogram", "untyped" };
	const char *s;

	prom_puts(b, "# HELP ");
	prom_puts(b, name);
	prom_put(b, " ", 1);
	/* HELP text escapes only backslash and line feed (a quote is plain) */
	for (s = help; *s != '\0'; s++) {
		if (*s == '\\')
			prom_put(b, "\\\\", 2);
		else if (*s == '\n')
			prom_put(b, "\\n", 2);
		else
			prom_put(b, s, 1);
	}
	prom_printf(b, "\n# TYPE %s %s\n", name,
	            (unsigned)t < sizeof type / sizeof type[0] ? type[t] : "untyped");
}

void
prom_label_value(struct prom_buf *b, const char *value)
{
	const char *s = value, *run = value;

	/* copy runs of plain bytes at once: label values are mostly plain */
	for (; *s != '\0'; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" :
		                  NULL;

		if (esc == NULL)
			continue;
		prom_put(b, run, (size_t)(s - run));
		prom_put(b, esc, 2);
		run = s + 1;
	}
	prom_put(b, run, (size_t)(s - run));
}

/* name, then {labels} (le appended last when given) */
static void
series(struct prom_buf *b, const char *name, const char *suffix, const struct prom_label *l,
       size_t nl, const char *le)
{
	size_t i;

	prom_puts(b, name);
	if (suffix != NULL)
		prom_puts(b, suffix);
	if (nl == 0 && le == NULL)
		return;
	prom_put(b, "{", 1);
	for (i = 0; i < nl; i++) {
		if (i > 0)
			prom_put(b, ",", 1);
		prom_puts(b, l[i].name);
		prom_put(b, "=\"", 2);
		prom_label_value(b, l[i].value != NULL ? l[i].value : "");
		prom_put(b, "\"", 1);
	}
	if (le != NULL) {
		if (nl > 0)
			prom_put(b, ",", 1);
		prom_puts(b, "le=\"");
		prom_puts(b, le);
		prom_put(b, "\"", 1);
	}
	prom_put(b, "}", 1);
}

void
prom_sample_u(struct prom_buf *b, const char *name, const struct prom_label *l, size_t nl,
              unsigned long long v)
{
	series(b, name, NULL, l, nl, NULL);
	prom_printf(b, " %llu\n", v);
}

void
prom_fmt_float(char *out, size_t outlen, double v)
{
	int prec;

	if (isnan(v)) {
		snprintf(out, outlen, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, outlen, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* the shortest of 15..17 significant digits that reads back as v:
	 * 0.1 stays "0.1" rather than 0.10000000000000001 */
	for (prec = 15; prec < 17; prec++) {
		snprintf(out, outlen, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
	snprintf(out, outlen, "%.17g", v);
}

void
prom_sample_f(struct prom_buf *b, const char *name, const struct prom_label *l, size_t nl,
              double v)
{
	char num[40];

	prom_fmt_float(num, sizeof num, v);
	series(b, name, NULL, l, nl, NULL);
	prom_printf(b, " %s\n", num);
}

/* ---- histograms with fixed buckets -------------------------------------------- */

void
prom_hist_init(struct prom_hist *h, const uint64_t *le, unsigned n, double scale)
{
	memset(h, 0, sizeof *h);
	h->le = le;
	h->n = n < PROM_HIST_MAX ? n : PROM_HIST_MAX;
	h->scale = scale;
}

void
prom_hist_observe(struct prom_hist *h, uint64_t v)
{
	unsigned lo = 0, hi = h->n;

	/* the first bound >= v (binary search; n is small, but this runs on
	 * every request) */
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (v <= h->le[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	__atomic_add_fetch(&h->count[lo], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&h->sum, (unsigned long long)v, __ATOMIC_RELAXED);
}

void
prom_hist_add(struct prom_hist *into, const struct prom_hist *h)
{
	unsigned i, n = into->n < h->n ? into->n : h->n;

	for (i = 0; i < n; i++)
		into->count[i] += __atomic_load_n(&h->count[i], __ATOMIC_RELAXED);
	/* h's overflow bucket and any bucket past into's last bound */
	for (; i <= h->n; i++)
		into->count[into->n] += __atomic_load_n(&h->count[i], __ATOMIC_RELAXED);
	into->sum += __atomic_load_n(&h->sum, __ATOMIC_RELAXED);
}

void
prom_hist_write(struct prom_buf *b, const char *name, const struct prom_label *l, size_t nl,
                const struct prom_hist *h)
{
	unsigned long long cum = 0;
	char le[40];
	unsigned i;

	for (i = 0; i <= h->n; i++) {
		cum += h->count[i];
		if (i < h->n)
			prom_fmt_float(le, sizeof le, (double)h->le[i] / h->scale);
		else
			snprintf(le, sizeof le, "+Inf");
		series(b, name, "_bucket", l, nl, le);
		prom_printf(b, " %llu\n", cum);
	}
	prom_fmt_float(le, sizeof le, (double)h->sum / h->scale);
	series(b, name, "_sum", l, nl, NULL);
	prom_printf(b, " %s\n", le);
	series(b, name, "_count", l, nl, NULL);
	prom_printf(b, " %llu\n", cum);
}
