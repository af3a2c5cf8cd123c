/*
 * test_prom.c: the Prometheus text pieces (lib/prom.c) and edged's metrics
 * (edged/edg_metrics.c, compiled in: it is not part of libedge).
 *
 * prom: label values and HELP text escaped as the text format says
 * (backslash, double quote, line feed; HELP leaves quotes alone), float
 * formatting (shortest that reads back, +Inf / -Inf / NaN), the buffer
 * across many growths, histograms (bucket edges inclusive, cumulative
 * counts, +Inf equal to _count, _sum in seconds, labels with le last,
 * stripes added together, eight threads observing at once).
 *
 * metrics: a whole scrape parsed back line by line by a small checker of
 * the exposition syntax (comment lines, "name{labels} value", every
 * family typed once before its samples and its samples together, no
 * series twice, histogram buckets non-decreasing up to +Inf == _count),
 * then every counter's movement after requests, origin exchanges and
 * handshakes of known kinds, with edg_cache_stats() and edg_alog_counts()
 * faked here; the cache and Redis sections only when they are on.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../edged/edg_metrics.c"

/* one suite: Criterion 2.4 leaks a little for a second suite in the same
 * binary, which LeakSanitizer reports under make SAN=1 */
TestSuite(prom, .timeout = 60);

/* ---- fakes for what edg_metrics.c reads from the rest of edged ------------------ */

static struct edg_cache_stats fake_cs;
static unsigned long long fake_written, fake_dropped;

void
edg_cache_stats(struct edg_server *srv, struct edg_cache_stats *st)
{
	(void)srv;
	*st = fake_cs;
}

void
edg_alog_counts(unsigned long long *written, unsigned long long *dropped)
{
	*written = fake_written;
	*dropped = fake_dropped;
}

/* ---- helpers ------------------------------------------------------------------------ */

/* What a buffer holds now, as a string (the buffer is emptied). */
static char *
take(struct prom_buf *b)
{
	size_t len;
	char *s = prom_buf_take(b, &len);

	cr_assert_not_null(s);
	cr_assert_eq(strlen(s), len);
	return s;
}

#define TEXT_IS(b, want) do { \
	char *got_ = take(b); \
	cr_assert_str_eq(got_, want); \
	free(got_); \
} while (0)

static char *
fmt(double v)
{
	static char out[64];

	prom_fmt_float(out, sizeof out, v);
	return out;
}

/* ---- an exposition checker ------------------------------------------------------------ */

#define MAXFAM 256
#define MAXSER 4096

struct fam {
	char name[128];
	char type[16];
	bool help, typed, sampled;
};

struct parsed {
	struct fam fam[MAXFAM];
	size_t nfam;
	char *series[MAXSER];   /* "name{labels}" as written */
	double val[MAXSER];
	size_t n;
};

static bool
name_start(char c, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

static bool
name_char(char c, bool colon)
{
	return name_start(c, colon) || (c >= '0' && c <= '9');
}

/* The length of a metric (colon) or label name at s, 0 if none. */
static size_t
name_len(const char *s, bool colon)
{
	size_t n = 0;

	if (!name_start(s[0], colon))
		return 0;
	while (name_char(s[n], colon))
		n++;
	return n;
}

static struct fam *
fam_find(struct parsed *p, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < p->nfam; i++)
		if (strlen(p->fam[i].name) == len && memcmp(p->fam[i].name, name, len) == 0)
			return &p->fam[i];
	return NULL;
}

static struct fam *
fam_get(struct parsed *p, const char *name, size_t len)
{
	struct fam *f = fam_find(p, name, len);

	if (f != NULL)
		return f;
	cr_assert_lt(p->nfam, MAXFAM);
	cr_assert_lt(len, sizeof f->name);
	f = &p->fam[p->nfam++];
	memset(f, 0, sizeof *f);
	memcpy(f->name, name, len);
	return f;
}

/* A sample value: a float strtod reads whole, or +Inf / -Inf / NaN. */
static bool
parse_value(const char *s, double *v)
{
	char *end;

	if (strcmp(s, "+Inf") == 0) {
		*v = INFINITY;
		return true;
	}
	if (strcmp(s, "-Inf") == 0) {
		*v = -INFINITY;
		return true;
	}
	if (strcmp(s, "NaN") == 0) {
		*v = NAN;
		return true;
	}
	if (*s == '\0' || strchr("+-.0123456789", *s) == NULL)
		return false;
	*v = strtod(s, &end);
	return *end == '\0';
}

/* Check the whole of text; fill p with every series and value. */
static void
parse(const char *text, struct parsed *p)
{
	const char *line = text, *nl;
	struct fam *cur = NULL;        /* the family whose samples are being read */
	double last_bucket = -1, inf_bucket = -1;
	unsigned lineno = 0;

	memset(p, 0, sizeof *p);
	cr_assert_gt(strlen(text), 0);
	cr_assert_eq(text[strlen(text) - 1], '\n', "the last line must end with a line feed");
	for (; *line != '\0'; line = nl + 1) {
		char buf[1024], *s, *sp;
		size_t len, n;
		struct fam *f;
		double v;

		lineno++;
		nl = strchr(line, '\n');
		len = (size_t)(nl - line);
		cr_assert_lt(len, sizeof buf, "line %u too long", lineno);
		memcpy(buf, line, len);
		buf[len] = '\0';
		cr_assert_gt(len, 0, "empty line %u", lineno);
		if (strncmp(buf, "# HELP ", 7) == 0 || strncmp(buf, "# TYPE ", 7) == 0) {
			bool help = buf[2] == 'H';

			s = buf + 7;
			n = name_len(s, true);
			cr_assert_gt(n, 0, "line %u: no metric name: %s", lineno, buf);
			cr_assert_eq(s[n], ' ', "line %u: %s", lineno, buf);
			f = fam_get(p, s, n);
			cr_assert(!f->sampled, "line %u: %s after its samples", lineno, buf);
			s += n + 1;
			if (help) {
				cr_assert(!f->help, "line %u: second HELP for %s", lineno, f->name);
				f->help = true;
				/* only \\ and \n are escapes in a docstring */
				for (; *s != '\0'; s++)
					if (*s == '\\') {
						cr_assert(s[1] == '\\' || s[1] == 'n',
						          "line %u: bad escape in HELP", lineno);
						s++;
					}
			} else {
				cr_assert(!f->typed, "line %u: second TYPE for %s", lineno, f->name);
				cr_assert(strcmp(s, "counter") == 0 || strcmp(s, "gauge") == 0 ||
				          strcmp(s, "histogram") == 0 || strcmp(s, "summary") == 0 ||
				          strcmp(s, "untyped") == 0, "line %u: type '%s'", lineno, s);
				f->typed = true;
				snprintf(f->type, sizeof f->type, "%s", s);
				if (strcmp(s, "counter") == 0)
					cr_assert(n > 6 && strcmp(f->name + n - 6, "_total") == 0,
					          "counter %s does not end in _total", f->name);
			}
			continue;
		}
		if (buf[0] == '#')
			continue; /* a comment */

		/* name{label="value",...} value */
		n = name_len(buf, true);
		cr_assert_gt(n, 0, "line %u: no metric name: %s", lineno, buf);
		f = fam_find(p, buf, n);
		if (f == NULL || !f->typed) {
			/* a histogram's series: the family without the suffix */
			static const char *const sfx[] = { "_bucket", "_sum", "_count" };
			size_t i;

			for (i = 0; i < 3 && (f == NULL || !f->typed); i++) {
				size_t k = strlen(sfx[i]);

				if (n > k && memcmp(buf + n - k, sfx[i], k) == 0)
					f = fam_find(p, buf, n - k);
			}
			cr_assert(f != NULL && f->typed && strcmp(f->type, "histogram") == 0,
			          "line %u: sample of an undeclared family: %s", lineno, buf);
		}
		cr_assert(f->help, "line %u: %s has no HELP", lineno, f->name);
		if (cur != f) {
			cr_assert(!f->sampled, "line %u: samples of %s are not together", lineno,
			          f->name);
			cur = f;
			last_bucket = inf_bucket = -1;
		}
		f->sampled = true;
		s = buf + n;
		if (*s == '{') {
			s++;
			while (*s != '}') {
				size_t ln = name_len(s, false);

				cr_assert_gt(ln, 0, "line %u: label name: %s", lineno, buf);
				cr_assert(strncmp(s, "__", 2) != 0, "line %u: reserved label", lineno);
				s += ln;
				cr_assert(s[0] == '=' && s[1] == '"', "line %u: %s", lineno, buf);
				for (s += 2; *s != '"'; s++) {
					cr_assert_neq(*s, '\0', "line %u: unterminated value", lineno);
					if (*s == '\\') {
						cr_assert(s[1] == '\\' || s[1] == '"' || s[1] == 'n',
						          "line %u: bad escape in a label value", lineno);
						s++;
					}
				}
				s++;
				if (*s == ',')
					s++;
				else
					cr_assert_eq(*s, '}', "line %u: %s", lineno, buf);
			}
			s++;
		}
		cr_assert_eq(*s, ' ', "line %u: no value: %s", lineno, buf);
		sp = s;
		cr_assert(parse_value(s + 1, &v), "line %u: bad value '%s'", lineno, s + 1);
		*sp = '\0';
		cr_assert_lt(p->n, MAXSER);
		for (size_t i = 0; i < p->n; i++)
			cr_assert_str_neq(p->series[i], buf, "line %u: series twice: %s", lineno, buf);
		p->series[p->n] = strdup(buf);
		p->val[p->n++] = v;

		/* histograms: cumulative buckets up to +Inf, then _count equal */
		if (strcmp(f->type, "histogram") == 0) {
			if (strstr(buf, "_bucket{") != NULL) {
				cr_assert_geq(v, last_bucket, "line %u: buckets not cumulative", lineno);
				last_bucket = v;
				if (strstr(buf, "le=\"+Inf\"") != NULL)
					inf_bucket = v;
			} else if (n > 6 && strncmp(buf + n - 6, "_count", 6) == 0) {
				cr_assert_geq(inf_bucket, 0, "line %u: _count before +Inf", lineno);
				cr_assert_eq(v, inf_bucket, "line %u: _count != +Inf bucket", lineno);
				last_bucket = inf_bucket = -1;
			}
		}
	}
}

static void
parsed_free(struct parsed *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->series[i]);
	p->n = 0;
}

static bool
has(const struct parsed *p, const char *series)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->series[i], series) == 0)
			return true;
	return false;
}

static double
get(const struct parsed *p, const char *series)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->series[i], series) == 0)
			return p->val[i];
	cr_assert_fail("no series %s", series);
	return 0;
}

/* How many series start with prefix. */
static size_t
count_prefix(const struct parsed *p, const char *prefix)
{
	size_t i, k = 0;

	for (i = 0; i < p->n; i++)
		k += strncmp(p->series[i], prefix, strlen(prefix)) == 0;
	return k;
}

/* ---- prom: the text pieces -------------------------------------------------------------- */

Test(prom, label_escaping)
{
	struct prom_buf b;

	prom_buf_init(&b);
	prom_label_value(&b, "plain");
	TEXT_IS(&b, "plain");
	prom_label_value(&b, "a\\b\"c\nd");
	TEXT_IS(&b, "a\\\\b\\\"c\\nd");
	prom_label_value(&b, "\\\\\"\"\n\n");
	TEXT_IS(&b, "\\\\\\\\\\\"\\\"\\n\\n");
	prom_label_value(&b, "");
	TEXT_IS(&b, "");
	/* anything else, UTF-8 and tabs included, is written as it is */
	prom_label_value(&b, "caf\xc3\xa9\t{x}=,");
	TEXT_IS(&b, "caf\xc3\xa9\t{x}=,");
	prom_sample_u(&b, "m_total",
	              (struct prom_label[]){ { "path", "/a\"b\\c\n" }, { "x", NULL } }, 2, 3);
	TEXT_IS(&b, "m_total{path=\"/a\\\"b\\\\c\\n\",x=\"\"} 3\n");
}

Test(prom, heads)
{
	struct prom_buf b;

	prom_buf_init(&b);
	prom_head(&b, "a_total", PROM_COUNTER, "Plain \"quoted\" text.");
	TEXT_IS(&b, "# HELP a_total Plain \"quoted\" text.\n# TYPE a_total counter\n");
	prom_head(&b, "g", PROM_GAUGE, "back\\slash\nand line");
	TEXT_IS(&b, "# HELP g back\\\\slash\\nand line\n# TYPE g gauge\n");
	prom_head(&b, "h_seconds", PROM_HISTOGRAM, "");
	TEXT_IS(&b, "# HELP h_seconds \n# TYPE h_seconds histogram\n");
	prom_head(&b, "u", PROM_UNTYPED, "x");
	TEXT_IS(&b, "# HELP u x\n# TYPE u untyped\n");
}

Test(prom, samples_and_floats)
{
	struct prom_buf b;

	prom_buf_init(&b);
	prom_sample_u(&b, "x", NULL, 0, 0);
	prom_sample_u(&b, "x", NULL, 0, 18446744073709551615ull);
	prom_sample_u(&b, "y", (struct prom_label[]){ { "a", "1" } }, 1, 7);
	prom_sample_f(&b, "z", (struct prom_label[]){ { "a", "1" }, { "b", "2" } }, 2, 0.75);
	TEXT_IS(&b, "x 0\nx 18446744073709551615\ny{a=\"1\"} 7\nz{a=\"1\",b=\"2\"} 0.75\n");

	cr_assert_str_eq(fmt(0), "0");
	cr_assert_str_eq(fmt(1), "1");
	cr_assert_str_eq(fmt(0.1), "0.1");
	cr_assert_str_eq(fmt(0.001), "0.001");
	cr_assert_str_eq(fmt(0.0025), "0.0025");
	cr_assert_str_eq(fmt(30), "30");
	cr_assert_str_eq(fmt(-2.5), "-2.5");
	cr_assert_str_eq(fmt(1717171717.5), "1717171717.5");
	cr_assert_str_eq(fmt(INFINITY), "+Inf");
	cr_assert_str_eq(fmt(-INFINITY), "-Inf");
	cr_assert_str_eq(fmt(NAN), "NaN");
	/* one that needs all 17 digits still reads back exactly */
	cr_assert_eq(strtod(fmt(0.1 + 0.2), NULL), 0.1 + 0.2);
	cr_assert_eq(strtod(fmt(1.0 / 3), NULL), 1.0 / 3);
	cr_assert_eq(strtod(fmt(1e300), NULL), 1e300);
	cr_assert_eq(strtod(fmt(5e-324), NULL), 5e-324);
}

Test(prom, buffer_growth)
{
	struct prom_buf b;
	char *s, want[64];
	size_t len, i;

	/* nothing written: an empty string, not NULL */
	prom_buf_init(&b);
	s = prom_buf_take(&b, &len);
	cr_assert_not_null(s);
	cr_assert_eq(len, 0);
	cr_assert_str_eq(s, "");
	free(s);

	/* many growths, by small pieces and by one formatted piece larger
	 * than the room left */
	prom_buf_init(&b);
	for (i = 0; i < 20000; i++)
		prom_printf(&b, "line_%zu %zu\n", i, i * 3);
	char big[10000];
	memset(big, 'q', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	prom_printf(&b, "%s\n", big);
	prom_put(&b, "end", 3);
	cr_assert(!b.oom);
	s = prom_buf_take(&b, &len);
	cr_assert_not_null(s);
	cr_assert_eq(strlen(s), len);
	cr_assert_eq(strncmp(s, "line_0 0\nline_1 3\n", 18), 0);
	snprintf(want, sizeof want, "line_19999 %d\n", 19999 * 3);
	cr_assert_not_null(strstr(s, want));
	cr_assert_eq(memcmp(s + len - 3, "end", 3), 0);
	cr_assert_eq(s[len - 4], '\n');
	cr_assert_eq(s[len - 5], 'q');
	free(s);
	/* the buffer is empty again after a take */
	cr_assert_null(b.p);
	cr_assert_eq(b.len, 0);

	/* prom_buf_free on a used buffer; an oom buffer takes as NULL */
	prom_buf_init(&b);
	prom_puts(&b, "x");
	prom_buf_free(&b);
	prom_buf_init(&b);
	b.oom = true;
	prom_puts(&b, "x");
	cr_assert_null(prom_buf_take(&b, &len));
	cr_assert_eq(len, 0);
}

static const uint64_t b3[] = { 1, 5, 10 };

Test(prom, histogram_buckets)
{
	struct prom_hist h = PROM_HIST_INIT(b3, 1e3);
	struct prom_buf b;
	static const uint64_t obs[] = { 0, 1, 2, 5, 6, 10, 11, 1000 };
	size_t i;

	cr_assert_eq(h.n, 3);
	for (i = 0; i < sizeof obs / sizeof obs[0]; i++)
		prom_hist_observe(&h, obs[i]);
	/* bounds are inclusive: 1 is in le=1, 5 in le=5, 10 in le=10 */
	cr_assert_eq(h.count[0], 2);
	cr_assert_eq(h.count[1], 2);
	cr_assert_eq(h.count[2], 2);
	cr_assert_eq(h.count[3], 2);
	cr_assert_eq(h.sum, 1035);
	prom_buf_init(&b);
	prom_hist_write(&b, "t_seconds", NULL, 0, &h);
	TEXT_IS(&b,
	        "t_seconds_bucket{le=\"0.001\"} 2\n"
	        "t_seconds_bucket{le=\"0.005\"} 4\n"
	        "t_seconds_bucket{le=\"0.01\"} 6\n"
	        "t_seconds_bucket{le=\"+Inf\"} 8\n"
	        "t_seconds_sum 1.035\n"
	        "t_seconds_count 8\n");

	/* labels come first, le last; an empty histogram is all zeros */
	prom_hist_init(&h, b3, 3, 1e6);
	prom_hist_write(&b, "r_seconds", (struct prom_label[]){ { "op", "g\"et" } }, 1, &h);
	TEXT_IS(&b,
	        "r_seconds_bucket{op=\"g\\\"et\",le=\"1e-06\"} 0\n"
	        "r_seconds_bucket{op=\"g\\\"et\",le=\"5e-06\"} 0\n"
	        "r_seconds_bucket{op=\"g\\\"et\",le=\"1e-05\"} 0\n"
	        "r_seconds_bucket{op=\"g\\\"et\",le=\"+Inf\"} 0\n"
	        "r_seconds_sum{op=\"g\\\"et\"} 0\n"
	        "r_seconds_count{op=\"g\\\"et\"} 0\n");

	/* only +Inf: every observation lands there */
	prom_hist_init(&h, b3, 0, 1);
	prom_hist_observe(&h, 0);
	prom_hist_observe(&h, 7);
	prom_hist_write(&b, "o", NULL, 0, &h);
	TEXT_IS(&b, "o_bucket{le=\"+Inf\"} 2\no_sum 7\no_count 2\n");
}

Test(prom, histogram_many_bounds)
{
	uint64_t le[PROM_HIST_MAX + 5];
	struct prom_hist h;
	unsigned i;

	for (i = 0; i < PROM_HIST_MAX + 5; i++)
		le[i] = (i + 1) * 10;
	/* more bounds than fit: clipped, the rest counts as above the last */
	prom_hist_init(&h, le, PROM_HIST_MAX + 5, 1);
	cr_assert_eq(h.n, PROM_HIST_MAX);
	for (i = 0; i <= (PROM_HIST_MAX + 5) * 10; i++)
		prom_hist_observe(&h, i);
	cr_assert_eq(h.count[0], 11);  /* 0..10 */
	for (i = 1; i < PROM_HIST_MAX; i++)
		cr_assert_eq(h.count[i], 10, "bucket %u", i);
	cr_assert_eq(h.count[PROM_HIST_MAX], 50);
}

Test(prom, histogram_stripes_add)
{
	struct prom_hist a = PROM_HIST_INIT(b3, 1), c = PROM_HIST_INIT(b3, 1),
	                 sum = PROM_HIST_INIT(b3, 1);
	struct prom_buf b;

	prom_hist_observe(&a, 1);
	prom_hist_observe(&a, 100);
	prom_hist_observe(&c, 3);
	prom_hist_observe(&c, 9);
	prom_hist_observe(&c, 9);
	prom_hist_add(&sum, &a);
	prom_hist_add(&sum, &c);
	prom_buf_init(&b);
	prom_hist_write(&b, "s", NULL, 0, &sum);
	TEXT_IS(&b, "s_bucket{le=\"1\"} 1\ns_bucket{le=\"5\"} 2\ns_bucket{le=\"10\"} 4\n"
	            "s_bucket{le=\"+Inf\"} 5\ns_sum 122\ns_count 5\n");
}

#define NTHREADS 8
#define PER_THREAD (12 * 20000)

static struct prom_hist shared_h = PROM_HIST_INIT(b3, 1);

static void *
observer(void *arg)
{
	uint64_t k = (uint64_t)(uintptr_t)arg, i;

	for (i = 0; i < PER_THREAD; i++)
		prom_hist_observe(&shared_h, (i + k) % 12);
	return NULL;
}

Test(prom, histogram_threads)
{
	pthread_t th[NTHREADS];
	unsigned long long total = 0, i;

	for (i = 0; i < NTHREADS; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, observer, (void *)(uintptr_t)i), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i <= shared_h.n; i++)
		total += shared_h.count[i];
	cr_assert_eq(total, (unsigned long long)NTHREADS * PER_THREAD, "lost observations");
	/* values 0..11 evenly: 0,1 | 2..5 | 6..10 | 11 */
	cr_assert_eq(shared_h.count[0], total / 12 * 2);
	cr_assert_eq(shared_h.count[3], total / 12);
	cr_assert_eq(shared_h.sum, total / 12 * 66);
}

/* ---- metrics: edged's whole exposition --------------------------------------------------- */

static struct edg_server srv;

static void
server_init(void)
{
	memset(&srv, 0, sizeof srv);
	pthread_mutex_init(&srv.conns_mu, NULL);
	memset(&fake_cs, 0, sizeof fake_cs);
	fake_written = fake_dropped = 0;
}

static void
scrape(struct parsed *p)
{
	char *text = NULL;
	size_t len = edg_metrics_render(&srv, &text);

	cr_assert_not_null(text);
	cr_assert_eq(strlen(text), len);
	parse(text, p);
	free(text);
}

static struct edg_req
req(const char *result, unsigned kind, unsigned status, int64_t ttfb_ms)
{
	struct edg_req r;

	memset(&r, 0, sizeof r);
	r.result = result;
	r.local_kind = kind;
	r.status = status;
	r.t0 = 5000;
	r.t_queued = ttfb_ms < 0 ? 0 : 5000 + ttfb_ms;
	return r;
}

#define REQ(res, sc) "edged_requests_total{result=\"" res "\",status_class=\"" sc "\"}"
#define DELTA(before, after, series) (get(after, series) - get(before, series))

Test(prom, metrics_origin_busy_and_viewer_timeouts)
{
	static struct parsed p0, p1;

	server_init();
	scrape(&p0);
	edg_metrics_origin(1000, HC_BUSY, 0);
	edg_metrics_viewer_timeout("body");
	edg_metrics_viewer_timeout("body");
	edg_metrics_viewer_timeout("response");
	edg_metrics_viewer_timeout("handshake+head");
	edg_metrics_viewer_timeout("head");
	edg_metrics_viewer_timeout("idle");
	srv.uploading = 3;
	scrape(&p1);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_errors_total{cause=\"busy\"}"), 1);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_errors_total{cause=\"io\"}"), 0);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_requests_total{status_class=\"none\"}"), 1);
	cr_assert_eq(DELTA(&p0, &p1, "edged_viewer_timeouts_total{waiting_for=\"body\"}"), 2);
	cr_assert_eq(DELTA(&p0, &p1, "edged_viewer_timeouts_total{waiting_for=\"response\"}"), 1);
	cr_assert_eq(DELTA(&p0, &p1, "edged_viewer_timeouts_total{waiting_for=\"head\"}"), 2);
	cr_assert_eq(DELTA(&p0, &p1, "edged_viewer_timeouts_total{waiting_for=\"idle\"}"), 1);
	cr_assert_eq(get(&p1, "edged_origin_uploads"), 3);
}

Test(prom, metrics_scrape_without_cache)
{
	static struct parsed p;
	size_t i;

	server_init();
	scrape(&p);
	/* every result x status class, zeros included */
	cr_assert_eq(count_prefix(&p, "edged_requests_total{"), 9 * 5);
	cr_assert_eq(count_prefix(&p, "edged_origin_requests_total{"), 5);
	cr_assert_eq(count_prefix(&p, "edged_origin_errors_total{"), 9);
	cr_assert_eq(count_prefix(&p, "edged_viewer_timeouts_total{"), 4);
	cr_assert_eq(count_prefix(&p, "edged_tls_handshakes_total{"), 10);
	cr_assert(has(&p, "edged_tls_handshakes_total{version=\"TLSv1.3\",resumed=\"false\"}"));
	cr_assert(has(&p, "edged_origin_errors_total{cause=\"5xx\"}"));
	cr_assert(has(&p, "edged_request_duration_seconds_bucket{le=\"0.001\"}"));
	cr_assert(has(&p, "edged_request_duration_seconds_bucket{le=\"60\"}"));
	cr_assert(has(&p, "edged_origin_latency_seconds_bucket{le=\"+Inf\"}"));
	/* no cache: no cache, memory tier or Redis families */
	cr_assert_eq(count_prefix(&p, "edged_cache_"), 0);
	cr_assert_eq(count_prefix(&p, "edged_memory_cache_"), 0);
	cr_assert_eq(count_prefix(&p, "edged_redis_"), 0);
	cr_assert_eq(get(&p, "edged_draining"), 0);
	cr_assert_eq(get(&p, "edged_inflight_requests"), 0);
	cr_assert_eq(get(&p, "edged_viewer_connections"), 0);
	cr_assert_eq(get(&p, "edged_access_log_lines_total"), 0);
	cr_assert_gt(get(&p, "edged_start_time_seconds"), 1.6e9);
	for (i = 0; i < p.n; i++)
		if (strncmp(p.series[i], "edged_build_info{version=\"" EDGED_VERSION "\",", 26 +
		            strlen(EDGED_VERSION) + 2) == 0)
			break;
	cr_assert_lt(i, p.n, "no edged_build_info with version " EDGED_VERSION);
	cr_assert_eq(p.val[i], 1);
	parsed_free(&p);
}

Test(prom, metrics_counters_move)
{
	static struct parsed p0, p1;
	static struct edg_req r; /* 5.6 KiB: off the stack (-Wframe-larger-than) */
	gnutls_session_t s;

	server_init();
	scrape(&p0);

	r = req("Hit from edged", EDG_LOCAL_NONE, 200, 3);
	r.bytes_in = 100;
	r.bytes_out = 1000;
	r.head_out = 200;
	edg_metrics_request(&r);
	r = req("Miss from edged", EDG_LOCAL_NONE, 404, 40);
	r.bytes_in = 50;
	r.bytes_out = 10;
	edg_metrics_request(&r);
	{
		static struct edg_req rh = { .result = "RefreshHit from edged", .status = 304,
		                             .t0 = 1, .t_queued = 2 };

		edg_metrics_request(&rh);
	}
	r = req("Error from edged", EDG_LOCAL_ORIGIN_ERROR, 502, 20000);
	edg_metrics_request(&r);
	r = req(NULL, EDG_LOCAL_REDIRECT, 301, 0);
	edg_metrics_request(&r);
	r = req(NULL, EDG_LOCAL_DENIED, 403, 0);
	edg_metrics_request(&r);
	r = req(NULL, EDG_LOCAL_INVALID, 400, 0);
	edg_metrics_request(&r);
	r = req(NULL, EDG_LOCAL_INVALID, 505, 0);
	edg_metrics_request(&r);
	r = req("Something from edged", EDG_LOCAL_NONE, 200, 100000);
	edg_metrics_request(&r);
	/* nothing answered: the viewer left; no time to first byte */
	r = req(NULL, EDG_LOCAL_NONE, 0, -1);
	r.aborted = true;
	r.bytes_in = 7;
	edg_metrics_request(&r);
	/* answered, then broken */
	r = req("Miss from edged", EDG_LOCAL_NONE, 200, 1);
	r.aborted = true;
	edg_metrics_request(&r);

	edg_metrics_origin(5, HC_OK, 200);
	edg_metrics_origin(12, HC_OK, 503);
	edg_metrics_origin(2, HC_OK, 500);
	edg_metrics_origin(0, HC_CONNECT, 0);
	edg_metrics_origin(30000, HC_TIMEOUT, 0);
	edg_metrics_origin(70000, HC_OK, 304);
	edg_metrics_origin(-3, HC_VERIFY, 0);
	edg_metrics_origin(1, (enum hc_fail)99, 0);

	edg_metrics_handshake_failed();
	edg_metrics_handshake_failed();
	/* a session that never shook hands has no version: "other" */
	cr_assert_eq(gnutls_init(&s, GNUTLS_SERVER), GNUTLS_E_SUCCESS);
	edg_metrics_tls(s);
	gnutls_deinit(s);

	srv.inflight = 5;
	srv.nconns = 2;
	srv.draining = true;
	fake_written = 11;
	fake_dropped = 2;
	scrape(&p1);

	cr_assert_eq(DELTA(&p0, &p1, REQ("hit", "2xx")), 1);
	cr_assert_eq(DELTA(&p0, &p1, REQ("miss", "4xx")), 1);
	cr_assert_eq(DELTA(&p0, &p1, REQ("miss", "2xx")), 1);
	cr_assert_eq(DELTA(&p0, &p1, REQ("refresh_hit", "3xx")), 1);
	cr_assert_eq(DELTA(&p0, &p1, REQ("error", "5xx")), 1);
	cr_assert_eq(DELTA(&p0, &p1, REQ("redirect", "3xx")), 1);
	cr_assert_eq(DELTA(&p0, &p1, REQ("denied", "4xx")), 1);
	cr_assert_eq(DELTA(&p0, &p1, REQ("invalid", "4xx")), 1);
	cr_assert_eq(DELTA(&p0, &p1, REQ("invalid", "5xx")), 1);
	cr_assert_eq(DELTA(&p0, &p1, REQ("other", "2xx")), 1);
	cr_assert_eq(DELTA(&p0, &p1, REQ("none", "none")), 1);
	{
		double total = 0;

		for (size_t i = 0; i < p1.n; i++)
			if (strncmp(p1.series[i], "edged_requests_total{", 21) == 0)
				total += p1.val[i];
		cr_assert_eq(total, 11, "11 requests in all");
	}
	cr_assert_eq(DELTA(&p0, &p1, "edged_requests_aborted_total"), 2);
	cr_assert_eq(DELTA(&p0, &p1, "edged_viewer_bytes_received_total"), 157);
	cr_assert_eq(DELTA(&p0, &p1, "edged_viewer_bytes_sent_total"), 1210); /* heads too */

	/* ttfb: 3, 40, 1, 20000, 0, 0, 0, 0, 100000, 1 ms (the one with
	 * nothing queued not observed) */
	cr_assert_eq(DELTA(&p0, &p1, "edged_request_duration_seconds_count"), 10);
	cr_assert_eq(DELTA(&p0, &p1, "edged_request_duration_seconds_bucket{le=\"0.001\"}"), 6);
	cr_assert_eq(DELTA(&p0, &p1, "edged_request_duration_seconds_bucket{le=\"0.005\"}"), 7);
	cr_assert_eq(DELTA(&p0, &p1, "edged_request_duration_seconds_bucket{le=\"0.05\"}"), 8);
	cr_assert_eq(DELTA(&p0, &p1, "edged_request_duration_seconds_bucket{le=\"10\"}"), 8);
	cr_assert_eq(DELTA(&p0, &p1, "edged_request_duration_seconds_bucket{le=\"30\"}"), 9);
	cr_assert_eq(DELTA(&p0, &p1, "edged_request_duration_seconds_bucket{le=\"60\"}"), 9);
	cr_assert_eq(DELTA(&p0, &p1, "edged_request_duration_seconds_bucket{le=\"+Inf\"}"), 10);
	cr_assert_float_eq(DELTA(&p0, &p1, "edged_request_duration_seconds_sum"), 120.045, 1e-9);

	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_requests_total{status_class=\"2xx\"}"), 1);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_requests_total{status_class=\"3xx\"}"), 1);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_requests_total{status_class=\"5xx\"}"), 2);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_requests_total{status_class=\"none\"}"), 4);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_errors_total{cause=\"5xx\"}"), 2);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_errors_total{cause=\"connect\"}"), 1);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_errors_total{cause=\"timeout\"}"), 1);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_errors_total{cause=\"verify\"}"), 1);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_errors_total{cause=\"io\"}"), 1);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_errors_total{cause=\"tls\"}"), 0);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_latency_seconds_count"), 8);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_latency_seconds_bucket{le=\"0.001\"}"), 3);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_latency_seconds_bucket{le=\"0.005\"}"), 5);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_latency_seconds_bucket{le=\"30\"}"), 7);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_latency_seconds_bucket{le=\"60\"}"), 7);
	cr_assert_float_eq(DELTA(&p0, &p1, "edged_origin_latency_seconds_sum"), 100.02, 1e-9);

	cr_assert_eq(DELTA(&p0, &p1, "edged_tls_handshake_failures_total"), 2);
	cr_assert_eq(DELTA(&p0, &p1,
	                   "edged_tls_handshakes_total{version=\"other\",resumed=\"false\"}"), 1);

	cr_assert_eq(get(&p1, "edged_inflight_requests"), 5);
	cr_assert_eq(get(&p1, "edged_viewer_connections"), 2);
	cr_assert_eq(get(&p1, "edged_draining"), 1);
	cr_assert_eq(get(&p1, "edged_access_log_lines_total"), 11);
	cr_assert_eq(get(&p1, "edged_access_log_dropped_total"), 2);
	parsed_free(&p0);
	parsed_free(&p1);
}

Test(prom, metrics_cache_and_redis)
{
	static struct parsed p;
	unsigned i;

	server_init();
	fake_cs.on = true;
	fake_cs.hit = 7;
	fake_cs.stale = 2;
	fake_cs.refresh = 3;
	fake_cs.miss = 4;
	fake_cs.bypass = 5;
	fake_cs.stored = 6;
	fake_cs.collapsed = 8;
	fake_cs.invalidated = 9;
	fake_cs.bans = 10;
	fake_cs.bans_active = 4;
	fake_cs.ban_hits = 11;
	fake_cs.inval_poll_failures = 13;
	fake_cs.corrupt = 12;
	fake_cs.mem.hits = 3;
	fake_cs.mem.misses = 1;
	fake_cs.mem.evictions = 17;
	fake_cs.mem.bytes = 123456;
	fake_cs.mem.entries = 42;
	fake_cs.mem.budget = 64u << 20;
	scrape(&p);
	cr_assert_eq(get(&p, "edged_cache_lookups_total{result=\"hit\"}"), 7);
	cr_assert_eq(get(&p, "edged_cache_lookups_total{result=\"stale\"}"), 2);
	cr_assert_eq(get(&p, "edged_cache_lookups_total{result=\"revalidated\"}"), 3);
	cr_assert_eq(get(&p, "edged_cache_lookups_total{result=\"miss\"}"), 4);
	cr_assert_eq(get(&p, "edged_cache_lookups_total{result=\"bypass\"}"), 5);
	cr_assert_eq(get(&p, "edged_cache_stored_total"), 6);
	cr_assert_eq(get(&p, "edged_cache_collapsed_total"), 8);
	cr_assert_eq(get(&p, "edged_cache_invalidated_total"), 9);
	cr_assert_eq(get(&p, "edged_invalidations_total"), 10);
	cr_assert_eq(get(&p, "edged_invalidations_active"), 4);
	cr_assert_eq(get(&p, "edged_invalidation_poll_failures_total"), 13);
	cr_assert_eq(get(&p, "edged_cache_ban_hits_total"), 11);
	cr_assert_eq(get(&p, "edged_cache_corrupt_total"), 12);
	cr_assert_eq(get(&p, "edged_memory_cache_hits_total"), 3);
	cr_assert_eq(get(&p, "edged_memory_cache_misses_total"), 1);
	cr_assert_eq(get(&p, "edged_memory_cache_evictions_total"), 17);
	cr_assert_eq(get(&p, "edged_memory_cache_bytes"), 123456);
	cr_assert_eq(get(&p, "edged_memory_cache_entries"), 42);
	cr_assert_eq(get(&p, "edged_memory_cache_budget_bytes"), 64 << 20);
	cr_assert_eq(get(&p, "edged_memory_cache_hit_ratio"), 0.75);
	cr_assert_eq(count_prefix(&p, "edged_redis_"), 0, "no Redis configured");
	parsed_free(&p);

	/* no lookups yet: a ratio of 0, not NaN */
	fake_cs.mem.hits = fake_cs.mem.misses = 0;
	fake_cs.has_redis = true;
	fake_cs.redis.state = RSTORE_STATE_UP;
	fake_cs.redis.calls = 99;
	fake_cs.redis.timeouts = 1;
	fake_cs.redis.io_errors = 2;
	fake_cs.redis.reply_errors = 3;
	fake_cs.redis.pool_timeouts = 4;
	fake_cs.redis.fail_fast = 5;
	fake_cs.redis.open = 3;
	for (i = 0; i < RSTORE_LAT_N; i++)
		fake_cs.redis.lat[i] = i + 1;   /* 66 in all */
	fake_cs.redis.lat_sum_us = 12345;
	scrape(&p);
	cr_assert_eq(get(&p, "edged_memory_cache_hit_ratio"), 0);
	cr_assert_eq(get(&p, "edged_redis_up"), 1);
	cr_assert_eq(get(&p, "edged_redis_calls_total"), 99);
	cr_assert_eq(get(&p, "edged_redis_errors_total{kind=\"timeout\"}"), 1);
	cr_assert_eq(get(&p, "edged_redis_errors_total{kind=\"io\"}"), 2);
	cr_assert_eq(get(&p, "edged_redis_errors_total{kind=\"reply\"}"), 3);
	cr_assert_eq(get(&p, "edged_redis_errors_total{kind=\"pool_timeout\"}"), 4);
	cr_assert_eq(get(&p, "edged_redis_errors_total{kind=\"fail_fast\"}"), 5);
	cr_assert_eq(get(&p, "edged_redis_connections"), 3);
	/* rstore's microsecond bounds as seconds, cumulative */
	cr_assert_eq(get(&p, "edged_redis_latency_seconds_bucket{le=\"0.0001\"}"), 1);
	cr_assert_eq(get(&p, "edged_redis_latency_seconds_bucket{le=\"0.00025\"}"), 3);
	cr_assert_eq(get(&p, "edged_redis_latency_seconds_bucket{le=\"0.001\"}"), 10);
	cr_assert_eq(get(&p, "edged_redis_latency_seconds_bucket{le=\"0.1\"}"), 55);
	cr_assert_eq(get(&p, "edged_redis_latency_seconds_bucket{le=\"+Inf\"}"), 66);
	cr_assert_eq(get(&p, "edged_redis_latency_seconds_count"), 66);
	cr_assert_float_eq(get(&p, "edged_redis_latency_seconds_sum"), 0.012345, 1e-12);
	cr_assert_eq(count_prefix(&p, "edged_redis_latency_seconds_bucket{"), RSTORE_LAT_N);
	parsed_free(&p);

	/* down, or not reached yet: 0 */
	fake_cs.redis.state = RSTORE_STATE_DOWN;
	scrape(&p);
	cr_assert_eq(get(&p, "edged_redis_up"), 0);
	parsed_free(&p);
	fake_cs.redis.state = RSTORE_STATE_UNKNOWN;
	scrape(&p);
	cr_assert_eq(get(&p, "edged_redis_up"), 0);
	parsed_free(&p);
}

/* Many threads finishing requests at once (each keeps to a stripe, some
 * share one): nothing is lost. */
#define MT 24
#define MT_REQS 20000

static void *
finisher(void *arg)
{
	static __thread struct edg_req r; /* 5.6 KiB: off the stack (-Wframe-larger-than) */
	int i;

	(void)arg;
	for (i = 0; i < MT_REQS; i++) {
		r = req("Hit from edged", EDG_LOCAL_NONE, 200, i % 7);
		r.bytes_out = 3;
		edg_metrics_request(&r);
		edg_metrics_origin(i % 50, HC_OK, 200);
	}
	return NULL;
}

Test(prom, metrics_threads)
{
	static struct parsed p0, p1;
	pthread_t th[MT];
	int i;

	server_init();
	scrape(&p0);
	for (i = 0; i < MT; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, finisher, NULL), 0);
	for (i = 0; i < MT; i++)
		pthread_join(th[i], NULL);
	scrape(&p1);
	cr_assert_eq(DELTA(&p0, &p1, REQ("hit", "2xx")), MT * MT_REQS);
	cr_assert_eq(DELTA(&p0, &p1, "edged_viewer_bytes_sent_total"), 3.0 * MT * MT_REQS);
	cr_assert_eq(DELTA(&p0, &p1, "edged_request_duration_seconds_count"), MT * MT_REQS);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_requests_total{status_class=\"2xx\"}"),
	             MT * MT_REQS);
	cr_assert_eq(DELTA(&p0, &p1, "edged_origin_latency_seconds_count"), MT * MT_REQS);
	parsed_free(&p0);
	parsed_free(&p1);
}
