/*
 * cfg.c: table-driven configuration (see cfg.h for the model).
 *
 * Files are read with inih through our own line reader, which gives every
 * handler call its line number, refuses over-long lines and NUL bytes
 * instead of letting inih split or truncate them, and strips leading
 * blanks so that inih's continuation lines cannot silently glue an
 * indented line onto the previous key.  Flags are parsed here.  Each key
 * may be set once per source (file or command line); a flag replaces what
 * the file said, and a repeated list flag appends.
 *
 * Single-threaded by contract; no global state.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "version.h"

#define CFG_MAX_LINE 4096 /* longest line we accept from a file */

static void *
slot(void *out, const struct cfg_key *k)
{
	return (char *)out + k->off;
}

static const void *
cslot(const void *out, const struct cfg_key *k)
{
	return (const char *)out + k->off;
}

static bool
has_bounds(const struct cfg_key *k)
{
	return k->min < k->max;
}

/* Compare a file key or flag spelling with a key name: '-' and '_' match. */
static bool
name_eq(const char *key, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char a = key[i], b = s[i];

		if (a == '\0')
			return false;
		if (b == '-')
			b = '_';
		if (a != b)
			return false;
	}
	return key[n] == '\0';
}

const struct cfg_key *
cfg_find(const struct cfg_spec *spec, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < spec->nkeys; i++)
		if (name_eq(spec->keys[i].name, name, n))
			return &spec->keys[i];
	return NULL;
}

/* Edit distance between two short strings (optimal string alignment: a
 * swap of two neighbours costs 1, so --dsn suggests --dns), for "did you
 * mean".  '-' in a counts as '_'. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned short d[66][66]; /* at most 128: 8.7 KiB of stack, not 35 */

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned short)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned short)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			char ca = a[i - 1] == '-' ? '_' : a[i - 1];
			unsigned short best = (unsigned short)(d[i - 1][j - 1] + (ca != b[j - 1]));

			if (d[i - 1][j] + 1 < best)
				best = (unsigned short)(d[i - 1][j] + 1);
			if (d[i][j - 1] + 1 < best)
				best = (unsigned short)(d[i][j - 1] + 1);
			if (i > 1 && j > 1) {
				char pa = a[i - 2] == '-' ? '_' : a[i - 2];

				if (ca == b[j - 2] && pa == b[j - 1] && d[i - 2][j - 2] + 1 < best)
					best = (unsigned short)(d[i - 2][j - 2] + 1);
			}
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

static const char *
suggest(const struct cfg_spec *spec, const char *name)
{
	const char *best = NULL;
	size_t i, bestd = 3;

	for (i = 0; i < spec->nkeys; i++) {
		size_t d = distance(name, spec->keys[i].name);

		if (d < bestd) {
			bestd = d;
			best = spec->keys[i].name;
		}
	}
	return best;
}

/* ---- value parsers ---------------------------------------------------- */

int
cfg_parse_int(const char *s, long long *out, struct err *e)
{
	const char *p = s;
	long long v = 0;
	bool neg = false;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return err_set(e, ERR_USAGE, "'%s' is not an integer", s);
	for (; isdigit((unsigned char)*p); p++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, *p - '0', &v))
			return err_set(e, ERR_USAGE, "'%s' is out of range", s);
	}
	if (*p != '\0')
		return err_set(e, ERR_USAGE, "'%s' is not an integer", s);
	*out = neg ? -v : v;
	return 0;
}

int
cfg_parse_bool(const char *s, bool *out, struct err *e)
{
	static const char *yes[] = { "true", "yes", "on", "1" };
	static const char *no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return err_set(e, ERR_USAGE,
	               "'%s' is not a boolean (use true/false, yes/no, on/off, 1/0)", s);
}

/* Read one run of digits into *v; returns the end or NULL on overflow. */
static const char *
digits(const char *p, long long *v)
{
	*v = 0;
	for (; isdigit((unsigned char)*p); p++)
		if (__builtin_mul_overflow(*v, 10, v) ||
		    __builtin_add_overflow(*v, *p - '0', v))
			return NULL;
	return p;
}

int
cfg_parse_duration(const char *s, long long *ms, struct err *e)
{
	static const struct { const char *u; long long ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "w", 604800000 },
	};
	const char *p = s;
	long long total = 0, v, part;
	size_t i;

	if (!isdigit((unsigned char)*p))
		return err_set(e, ERR_USAGE,
		               "'%s' is not a duration (e.g. 500ms, 30s, 5m, 2h, 30d)", s);
	p = digits(p, &v);
	if (p == NULL)
		return err_set(e, ERR_USAGE, "'%s' is out of range", s);
	if (*p == '\0') { /* bare number: seconds */
		if (__builtin_mul_overflow(v, 1000, ms))
			return err_set(e, ERR_USAGE, "'%s' is out of range", s);
		return 0;
	}
	for (;;) {
		size_t best = SIZE_MAX, bestlen = 0;

		for (i = 0; i < sizeof units / sizeof units[0]; i++) {
			size_t n = strlen(units[i].u);

			/* longest match first: "ms" before "m" */
			if (strncmp(p, units[i].u, n) == 0 && n > bestlen) {
				best = i;
				bestlen = n;
			}
		}
		if (best == SIZE_MAX)
			return err_set(e, ERR_USAGE,
			               "'%s' is not a duration (units: ms, s, m, h, d, w)", s);
		if (__builtin_mul_overflow(v, units[best].ms, &part) ||
		    __builtin_add_overflow(total, part, &total))
			return err_set(e, ERR_USAGE, "'%s' is out of range", s);
		p += bestlen;
		if (*p == '\0')
			break;
		if (!isdigit((unsigned char)*p))
			return err_set(e, ERR_USAGE,
			               "'%s' is not a duration (e.g. 500ms, 30s, 1h30m)", s);
		p = digits(p, &v);
		if (p == NULL)
			return err_set(e, ERR_USAGE, "'%s' is out of range", s);
		if (*p == '\0')
			return err_set(e, ERR_USAGE,
			               "'%s': a number inside a duration needs a unit", s);
	}
	*ms = total;
	return 0;
}

int
cfg_parse_size(const char *s, long long *bytes, struct err *e)
{
	static const struct { const char *u; int shift; } units[] = {
		{ "", 0 }, { "b", 0 },
		{ "k", 10 }, { "kb", 10 }, { "kib", 10 },
		{ "m", 20 }, { "mb", 20 }, { "mib", 20 },
		{ "g", 30 }, { "gb", 30 }, { "gib", 30 },
		{ "t", 40 }, { "tb", 40 }, { "tib", 40 },
	};
	const char *p;
	long long v;
	size_t i;

	if (!isdigit((unsigned char)*s))
		return err_set(e, ERR_USAGE,
		               "'%s' is not a size (e.g. 512, 64k, 32MiB, 1G)", s);
	p = digits(s, &v);
	if (p == NULL)
		return err_set(e, ERR_USAGE, "'%s' is out of range", s);
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcasecmp(p, units[i].u) == 0) {
			if (v > (LLONG_MAX >> units[i].shift))
				return err_set(e, ERR_USAGE, "'%s' is out of range", s);
			*bytes = v << units[i].shift;
			return 0;
		}
	}
	return err_set(e, ERR_USAGE,
	               "'%s' is not a size (units: k, M, G, T; all binary)", s);
}

int
cfg_parse_addr(const char *s, char *host, size_t hostlen, int *port,
               struct err *e)
{
	const char *colon, *h = s;
	size_t hl;
	long long p;
	unsigned char buf[16];
	char tmp[64];

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return err_set(e, ERR_USAGE,
			               "'%s' is not an address (write [v6addr]:port)", s);
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
		if (hl == 0 || hl >= sizeof tmp)
			return err_set(e, ERR_USAGE, "'%s': bad IPv6 address", s);
		memcpy(tmp, h, hl);
		tmp[hl] = '\0';
		if (inet_pton(AF_INET6, tmp, buf) != 1)
			return err_set(e, ERR_USAGE, "'%s': '%s' is not an IPv6 address", s, tmp);
	} else {
		size_t i;

		colon = strrchr(s, ':');
		if (colon == NULL)
			return err_set(e, ERR_USAGE,
			               "'%s' is not an address (write host:port or :port)", s);
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl) != NULL)
			return err_set(e, ERR_USAGE,
			               "'%s': put IPv6 addresses in brackets ([::1]:8443)", s);
		for (i = 0; i < hl; i++)
			if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' &&
			    !(s[i] == '*' && hl == 1))
				return err_set(e, ERR_USAGE, "'%s': bad host name", s);
		if (hl == 1 && s[0] == '*')
			hl = 0; /* "*:port" means all addresses */
	}
	if (cfg_parse_int(colon + 1, &p, NULL) < 0 || p < 1 || p > 65535)
		return err_set(e, ERR_USAGE, "'%s': port must be 1-65535", s);
	if (hl >= hostlen)
		return err_set(e, ERR_USAGE, "'%s': host name too long", s);
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

/* ---- setting values ---------------------------------------------------- */

static int
enum_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);
	const char *p = choices;

	while (p != NULL && *p != '\0') {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, v, n) == 0)
			return 1;
		p = bar ? bar + 1 : NULL;
	}
	return 0;
}

static void
list_clear(struct cfg_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
list_add(struct cfg_list *l, const char *s, size_t n, struct err *e)
{
	char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);

	if (nv == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	l->v = nv;
	l->v[l->n] = strndup(s, n);
	if (l->v[l->n] == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	l->n++;
	return 0;
}

static int
check_bounds(const struct cfg_key *k, long long v, const char *text,
             struct err *e)
{
	if (!has_bounds(k) || (v >= k->min && v <= k->max))
		return 0;
	switch (k->type) {
	case CFG_DURATION:
		return err_set(e, ERR_USAGE, "'%s' is out of range (%lldms..%lldms)",
		               text, k->min, k->max);
	case CFG_SIZE:
		return err_set(e, ERR_USAGE, "'%s' is out of range (%lld..%lld bytes)",
		               text, k->min, k->max);
	default:
		return err_set(e, ERR_USAGE, "'%s' is out of range (%lld..%lld)",
		               text, k->min, k->max);
	}
}

/* Store text as the value of k.  Strings are copied. */
static int
set_value(const struct cfg_key *k, void *out, const char *v, struct err *e)
{
	void *p = slot(out, k);
	long long n;

	switch (k->type) {
	case CFG_STR:
	case CFG_ENUM:
	case CFG_ADDR: {
		char **sp = p, *dup;

		if (*v == '\0' && k->type == CFG_ENUM)
			return err_set(e, ERR_USAGE, "empty value (use one of %s)", k->choices);
		if (*v == '\0') { /* "key =" unsets */
			free(*sp);
			*sp = NULL;
			return 0;
		}
		if (k->type == CFG_ENUM && !enum_ok(k->choices, v))
			return err_set(e, ERR_USAGE, "'%s' is not one of %s", v, k->choices);
		if (k->type == CFG_ADDR) {
			char host[256];
			int port;

			if (cfg_parse_addr(v, host, sizeof host, &port, e) < 0)
				return -1;
		}
		dup = strdup(v);
		if (dup == NULL)
			return err_set(e, ERR_FAIL, "out of memory");
		free(*sp);
		*sp = dup;
		return 0;
	}
	case CFG_INT:
		if (cfg_parse_int(v, &n, e) < 0 || check_bounds(k, n, v, e) < 0)
			return -1;
		*(long long *)p = n;
		return 0;
	case CFG_DURATION:
		if (cfg_parse_duration(v, &n, e) < 0 || check_bounds(k, n, v, e) < 0)
			return -1;
		*(long long *)p = n;
		return 0;
	case CFG_SIZE:
		if (cfg_parse_size(v, &n, e) < 0 || check_bounds(k, n, v, e) < 0)
			return -1;
		*(long long *)p = n;
		return 0;
	case CFG_BOOL:
		return cfg_parse_bool(v, (bool *)p, e);
	case CFG_LIST: {
		struct cfg_list *l = p;
		const char *s = v;

		if (*v == '\0') { /* "key =" empties the list */
			list_clear(l);
			return 0;
		}
		if (k->flags & CFG_NOSPLIT)
			return list_add(l, v, strlen(v), e);
		while (*s != '\0') { /* comma-separated items, blanks trimmed */
			const char *end = strchr(s, ','), *a = s, *b;

			if (end == NULL)
				end = s + strlen(s);
			b = end;
			while (a < b && isspace((unsigned char)*a))
				a++;
			while (b > a && isspace((unsigned char)b[-1]))
				b--;
			if (b > a && list_add(l, a, (size_t)(b - a), e) < 0)
				return -1;
			s = *end ? end + 1 : end;
		}
		return 0;
	}
	}
	return err_set(e, ERR_FAIL, "bad key type");
}

/* The program's own check of a value just set (not of an empty one). */
static int
checked(const struct cfg_spec *spec, const struct cfg_key *k, const char *v, struct err *e)
{
	if (spec->check == NULL || *v == '\0')
		return 0;
	return spec->check(k->name, v, e);
}

int
cfg_set(const struct cfg_spec *spec, void *out, const char *name,
        const char *value, struct err *e)
{
	const struct cfg_key *k = cfg_find(spec, name);

	if (k == NULL)
		return err_set(e, ERR_USAGE, "unknown key '%s'", name);
	if (set_value(k, out, value, e) < 0 || checked(spec, k, value, e) < 0)
		return err_prefix(e, "key '%s': ", k->name);
	return 0;
}

void
cfg_free(const struct cfg_spec *spec, void *out)
{
	size_t i;

	for (i = 0; i < spec->nkeys; i++) {
		const struct cfg_key *k = &spec->keys[i];
		void *p = slot(out, k);

		switch (k->type) {
		case CFG_STR:
		case CFG_ENUM:
		case CFG_ADDR:
			free(*(char **)p);
			*(char **)p = NULL;
			break;
		case CFG_LIST:
			list_clear(p);
			break;
		default:
			break;
		}
	}
}

int
cfg_defaults(const struct cfg_spec *spec, void *out, struct err *e)
{
	size_t i;

	for (i = 0; i < spec->nkeys; i++) {
		const struct cfg_key *k = &spec->keys[i];

		if (k->def == NULL)
			continue;
		if (set_value(k, out, k->def, e) < 0)
			return err_prefix(e, "%s: default of key '%s': ", spec->prog, k->name);
	}
	return 0;
}

int
cfg_check_required(const struct cfg_spec *spec, const void *out, struct err *e)
{
	size_t i;

	for (i = 0; i < spec->nkeys; i++) {
		const struct cfg_key *k = &spec->keys[i];
		const void *p = cslot(out, k);
		bool set = true;

		if (!(k->flags & CFG_REQUIRED))
			continue;
		if (k->type == CFG_STR || k->type == CFG_ENUM || k->type == CFG_ADDR)
			set = *(char *const *)p != NULL;
		else if (k->type == CFG_LIST)
			set = ((const struct cfg_list *)p)->n > 0;
		if (!set) {
			char flag[128];
			size_t j;

			snprintf(flag, sizeof flag, "%s", k->name);
			for (j = 0; flag[j]; j++)
				if (flag[j] == '_')
					flag[j] = '-';
			if (spec->config_file && !(k->flags & CFG_NOFILE))
				return err_set(e, ERR_USAGE,
				               "missing required --%s (or '%s =' in the config file)",
				               flag, k->name);
			return err_set(e, ERR_USAGE, "missing required --%s", flag);
		}
	}
	return 0;
}

/* ---- files ------------------------------------------------------------- */

struct file_ctx {
	const struct cfg_spec *spec;
	void *out;
	const char *name;
	FILE *f;
	int line;        /* line last handed to inih */
	int err_line;    /* line of our first error, 0 if none */
	struct err *e;
	int *set_on;     /* per key: line it was set on, 0 if not yet */
	char section[128]; /* last [section] seen, for long lines */
	char *buf;
	size_t cap;
};

static int handler(void *user, const char *section, const char *name,
                   const char *value);

/* A line longer than inih's compiled-in buffer (INI_MAX_LINE, 200 in
 * Debian's build) would be split by inih.  Such lines are parsed here
 * with inih's rules (first '=' or ':', ';' after a blank starts a comment)
 * and handed to the same handler; inih then sees an empty line. */
static void
long_line(struct file_ctx *c, char *p)
{
	char *sep, *name, *val, *end;

	if (*p == ';' || *p == '#')
		return;
	if (*p == '[') {
		err_set(c->e, ERR_USAGE, "%s:%d: section line too long", c->name, c->line);
		c->err_line = c->line;
		return;
	}
	sep = strpbrk(p, "=:");
	if (sep == NULL) {
		err_set(c->e, ERR_USAGE, "%s:%d: syntax error (expected 'key = value')",
		        c->name, c->line);
		c->err_line = c->line;
		return;
	}
	*sep = '\0';
	name = p;
	for (end = sep; end > name && isspace((unsigned char)end[-1]); end--)
		end[-1] = '\0';
	for (val = sep + 1; isspace((unsigned char)*val); val++)
		;
	for (end = val; *end; end++)
		if (*end == ';' && end > val && isspace((unsigned char)end[-1])) {
			*end = '\0';
			break;
		}
	for (end = val + strlen(val); end > val && isspace((unsigned char)end[-1]); end--)
		end[-1] = '\0';
	handler(c, c->section, name, val);
}

/* inih reader: one physical line per call, so inih's line count and ours
 * agree.  Refuses what inih would mangle. */
static char *
reader(char *str, int num, void *stream)
{
	struct file_ctx *c = stream;
	ssize_t n;
	char *p;

	if (c->err_line != 0)
		return NULL; /* stop at our first error */
	n = getline(&c->buf, &c->cap, c->f);
	if (n < 0)
		return NULL;
	c->line++;
	if ((size_t)n != strlen(c->buf)) {
		err_set(c->e, ERR_USAGE, "%s:%d: NUL byte in line", c->name, c->line);
		c->err_line = c->line;
		return NULL;
	}
	while (n > 0 && (c->buf[n - 1] == '\n' || c->buf[n - 1] == '\r'))
		c->buf[--n] = '\0';
	if (n > CFG_MAX_LINE) {
		err_set(c->e, ERR_USAGE, "%s:%d: line too long (over %d characters)",
		        c->name, c->line, CFG_MAX_LINE);
		c->err_line = c->line;
		return NULL;
	}
	for (p = c->buf; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '[') { /* remember the section for long_line() */
		char *close = strchr(p, ']');

		snprintf(c->section, sizeof c->section, "%.*s",
		         close ? (int)(close - p - 1) : 0, p + 1);
	}
	if (n >= num - 1) {
		long_line(c, p);
		if (c->err_line != 0)
			return NULL;
		snprintf(str, (size_t)num, "\n");
		return str;
	}
	snprintf(str, (size_t)num, "%s\n", p);
	return str;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct file_ctx *c = user;
	const struct cfg_key *k;
	char unq[CFG_MAX_LINE];
	size_t vl = strlen(value), idx;

	if (c->err_line != 0)
		return 1;
	if (section != NULL && *section != '\0') {
		err_set(c->e, ERR_USAGE,
		        "%s:%d: key '%s' is under section [%s]; %s config files have "
		        "no sections", c->name, c->line, name, section, c->spec->prog);
		goto fail;
	}
	k = cfg_find(c->spec, name);
	if (k == NULL) {
		const char *s = suggest(c->spec, name);

		if (s != NULL)
			err_set(c->e, ERR_USAGE, "%s:%d: unknown key '%s' (did you mean '%s'?)",
			        c->name, c->line, name, s);
		else
			err_set(c->e, ERR_USAGE, "%s:%d: unknown key '%s'", c->name, c->line, name);
		goto fail;
	}
	if (k->flags & CFG_NOFILE) {
		err_set(c->e, ERR_USAGE,
		        "%s:%d: key '%s' can only be given on the command line",
		        c->name, c->line, k->name);
		goto fail;
	}
	idx = (size_t)(k - c->spec->keys);
	if (c->set_on[idx] != 0 && k->type != CFG_LIST) {
		err_set(c->e, ERR_USAGE, "%s:%d: key '%s' is set twice (first on line %d)",
		        c->name, c->line, k->name, c->set_on[idx]);
		goto fail;
	}
	if (k->type == CFG_LIST && c->set_on[idx] == 0)
		list_clear(slot(c->out, k)); /* the file replaces the default */
	c->set_on[idx] = c->line;
	/* "value" in double quotes: the quotes are not part of it */
	if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"' && vl < sizeof unq) {
		memcpy(unq, value + 1, vl - 2);
		unq[vl - 2] = '\0';
		value = unq;
	}
	if (set_value(k, c->out, value, c->e) < 0 || checked(c->spec, k, value, c->e) < 0) {
		err_prefix(c->e, "%s:%d: key '%s': ", c->name, c->line, k->name);
		goto fail;
	}
	return 1;
fail:
	c->err_line = c->line;
	return 0;
}

int
cfg_load_stream(const struct cfg_spec *spec, void *out, FILE *f,
                const char *name, struct err *e)
{
	struct file_ctx c = { .spec = spec, .out = out, .name = name, .f = f, .e = e };
	int rc;

	c.set_on = calloc(spec->nkeys + 1, sizeof *c.set_on);
	if (c.set_on == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	rc = ini_parse_stream(reader, &c, handler, &c);
	free(c.buf);
	free(c.set_on);
	if (rc > 0 && (c.err_line == 0 || rc < c.err_line))
		return err_set(e, ERR_USAGE,
		               "%s:%d: syntax error (expected 'key = value')", name, rc);
	if (c.err_line != 0)
		return -1;
	if (rc != 0)
		return err_set(e, ERR_FAIL, "%s: cannot read", name);
	if (ferror(f))
		return err_set(e, ERR_FAIL, "%s: read error: %s", name, strerror(errno));
	return 0;
}

int
cfg_load_file(const struct cfg_spec *spec, void *out, const char *path,
              struct err *e)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (f == NULL)
		return err_set(e, ERR_USAGE, "%s: cannot open config file: %s", path,
		               strerror(errno));
	rc = cfg_load_stream(spec, out, f, path, e);
	fclose(f);
	return rc;
}

/* ---- command line ------------------------------------------------------ */

static int
unknown_flag(const struct cfg_spec *spec, const char *arg, size_t n,
             struct err *e)
{
	char name[128];
	const char *s;
	size_t i;

	if (n >= sizeof name)
		n = sizeof name - 1;
	memcpy(name, arg, n);
	name[n] = '\0';
	for (i = 0; name[i]; i++)
		if (name[i] == '-')
			name[i] = '_';
	s = suggest(spec, name);
	if (s != NULL) {
		char sug[128];

		snprintf(sug, sizeof sug, "%s", s);
		for (i = 0; sug[i]; i++)
			if (sug[i] == '_')
				sug[i] = '-';
		return err_set(e, ERR_USAGE, "unknown option '--%.*s' (did you mean --%s?)",
		               (int)n, arg, sug);
	}
	return err_set(e, ERR_USAGE, "unknown option '--%.*s' (see %s --help)",
	               (int)n, arg, spec->prog);
}

int
cfg_parse_argv(const struct cfg_spec *spec, void *out, int argc, char **argv,
               char ***pos_argv, int *pos_argc, struct err *e)
{
	const char *config = NULL;
	bool *flagged = NULL, ended = false;
	int i, npos = 0, rc = -1;
	char **pos = NULL;

	if (cfg_defaults(spec, out, e) < 0)
		return -1;
	/* First pass: --help, --version, --config. */
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			cfg_print_help(spec, stdout);
			return CFG_EXIT;
		}
		if (strcmp(a, "--version") == 0) {
			printf("%s %s\n", spec->prog, EDGED_VERSION);
			return CFG_EXIT;
		}
		if (!spec->config_file)
			continue;
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
		    strncmp(a, "--config=", 9) == 0) {
			const char *v = a[1] == 'c' ? argv[i + 1] :
			                a[8] == '=' ? a + 9 : argv[i + 1];

			if (v == NULL)
				return err_set(e, ERR_USAGE, "option '%s' needs a file name", a);
			if (config != NULL)
				return err_set(e, ERR_USAGE, "--config given twice");
			config = v;
			if (a[1] == 'c' || a[8] != '=')
				i++;
		}
	}
	if (config != NULL && cfg_load_file(spec, out, config, e) < 0)
		return -1;

	flagged = calloc(spec->nkeys + 1, sizeof *flagged);
	pos = calloc((size_t)argc + 1, sizeof *pos);
	if (flagged == NULL || pos == NULL) {
		err_set(e, ERR_FAIL, "out of memory");
		goto out;
	}
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *val = NULL;
		const struct cfg_key *k;
		bool negated = false;
		size_t n, idx;
		char kname[128];

		if (ended || a[0] != '-' || a[1] == '\0') {
			pos[npos++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			ended = true;
			continue;
		}
		if (spec->config_file && (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0)) {
			i++;
			continue;
		}
		if (spec->config_file && strncmp(a, "--config=", 9) == 0)
			continue;
		if (a[1] != '-') {
			err_set(e, ERR_USAGE, "unknown option '%s' (options are spelled --name)", a);
			goto out;
		}
		name = a + 2;
		eq = strchr(name, '=');
		n = eq ? (size_t)(eq - name) : strlen(name);
		if (n == 0 || n >= sizeof kname) {
			err_set(e, ERR_USAGE, "bad option '%s'", a);
			goto out;
		}
		memcpy(kname, name, n);
		kname[n] = '\0';
		k = cfg_find(spec, kname);
		if (k == NULL && strncmp(kname, "no-", 3) == 0) {
			k = cfg_find(spec, kname + 3);
			if (k != NULL && (k->type != CFG_BOOL || eq != NULL)) {
				if (eq != NULL)
					err_set(e, ERR_USAGE, "option '--%s' takes no value", kname);
				else
					err_set(e, ERR_USAGE, "option '--%s': --%s is not a boolean",
					        kname, kname + 3);
				goto out;
			}
			negated = k != NULL;
		}
		if (k == NULL) {
			unknown_flag(spec, name, n, e);
			goto out;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (k->type == CFG_BOOL)
			val = negated ? "false" : "true";
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			err_set(e, ERR_USAGE, "option '--%s' needs a value (%s)", kname,
			        k->meta ? k->meta : "see --help");
			goto out;
		}
		if (*val == '\0' && k->type != CFG_LIST) {
			err_set(e, ERR_USAGE, "option '--%s' needs a non-empty value", kname);
			goto out;
		}
		idx = (size_t)(k - spec->keys);
		if (flagged[idx] && k->type != CFG_LIST) {
			err_set(e, ERR_USAGE, "option '--%s' given twice", kname);
			goto out;
		}
		if (!flagged[idx] && k->type == CFG_LIST)
			list_clear(slot(out, k)); /* flags replace the file's list */
		flagged[idx] = true;
		if (set_value(k, out, val, e) < 0 || checked(spec, k, val, e) < 0) {
			err_prefix(e, "option '--%s': ", kname);
			goto out;
		}
	}
	if (npos < spec->args_min || npos > spec->args_max) {
		if (spec->args_max == 0)
			err_set(e, ERR_USAGE, "unexpected argument '%s' (usage: %s %s)",
			        pos[0], spec->prog, spec->usage);
		else if (npos < spec->args_min)
			err_set(e, ERR_USAGE, "missing argument (usage: %s %s)", spec->prog,
			        spec->usage);
		else
			err_set(e, ERR_USAGE, "too many arguments: '%s' (usage: %s %s)",
			        pos[spec->args_max], spec->prog, spec->usage);
		goto out;
	}
	if (cfg_check_required(spec, out, e) < 0)
		goto out;
	rc = CFG_OK;
out:
	if (rc == CFG_OK && pos_argv != NULL) {
		*pos_argv = pos;
		*pos_argc = npos;
		pos = NULL;
	} else if (rc == CFG_OK && pos_argc != NULL) {
		*pos_argc = npos;
	}
	free(pos);
	free(flagged);
	return rc;
}

/* ---- help and printing ------------------------------------------------- */

static void
format_duration(long long ms, char *buf, size_t len)
{
	static const struct { const char *u; long long ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
	};
	size_t i;

	for (i = 0; i < 4; i++)
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(buf, len, "%lld%s", ms / units[i].ms, units[i].u);
			return;
		}
	snprintf(buf, len, "%lldms", ms);
}

static void
format_size(long long b, char *buf, size_t len)
{
	static const char *units[] = { "TiB", "GiB", "MiB", "KiB" };
	int shift[] = { 40, 30, 20, 10 };
	size_t i;

	for (i = 0; i < 4; i++)
		if (b != 0 && b % (1LL << shift[i]) == 0) {
			snprintf(buf, len, "%lld%s", b >> shift[i], units[i]);
			return;
		}
	snprintf(buf, len, "%lld", b);
}

/* Print text wrapped at 78 columns, every line indented by ind. */
static void
wrap(FILE *f, const char *text, int ind, int first_col)
{
	int col = first_col;
	const char *p = text;

	while (*p != '\0') {
		const char *sp = strchr(p, ' ');
		int wl = sp ? (int)(sp - p) : (int)strlen(p);

		if (col > ind && col + 1 + wl > 78) {
			fprintf(f, "\n%*s", ind, "");
			col = ind;
		} else if (col > ind) {
			fputc(' ', f);
			col++;
		} else if (col < ind) {
			fprintf(f, "%*s", ind - col, "");
			col = ind;
		}
		fprintf(f, "%.*s", wl, p);
		col += wl;
		p += wl;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

void
cfg_print_help(const struct cfg_spec *spec, FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s %s\n\n", spec->prog, spec->usage);
	if (spec->summary != NULL) {
		wrap(f, spec->summary, 0, 0);
		fputc('\n', f);
	}
	if (spec->config_file)
		fprintf(f, "Options (each is also a key in the -c/--config FILE, with _ for -;\n"
		           "flags win over the file):\n");
	else
		fprintf(f, "Options:\n");
	for (i = 0; i < spec->nkeys; i++) {
		const struct cfg_key *k = &spec->keys[i];
		char head[160], more[1024], flag[128];
		size_t j;
		int len;

		snprintf(flag, sizeof flag, "%s", k->name);
		for (j = 0; flag[j]; j++)
			if (flag[j] == '_')
				flag[j] = '-';
		if (k->type == CFG_BOOL && k->def != NULL && strcmp(k->def, "true") == 0)
			len = snprintf(head, sizeof head, "  --[no-]%s", flag);
		else if (k->type == CFG_BOOL)
			len = snprintf(head, sizeof head, "  --%s", flag);
		else
			len = snprintf(head, sizeof head, "  --%s %s", flag,
			               k->meta ? k->meta : "VALUE");
		fputs(head, f);
		if (len > 27) {
			fputc('\n', f);
			len = 0;
		}
		more[0] = '\0';
		j = 0;
		if (k->flags & CFG_REQUIRED)
			j += (size_t)snprintf(more + j, sizeof more - j, " (required)");
		if (k->type == CFG_LIST)
			j += (size_t)snprintf(more + j, sizeof more - j, " (repeatable)");
		if (k->type == CFG_ENUM)
			j += (size_t)snprintf(more + j, sizeof more - j, " [%s]", k->choices);
		if (k->def != NULL && *k->def != '\0')
			j += (size_t)snprintf(more + j, sizeof more - j, " [default: %s]", k->def);
		if (k->flags & CFG_NOFILE && spec->config_file)
			j += (size_t)snprintf(more + j, sizeof more - j, " (command line only)");
		if (k->flags & CFG_RELOAD)
			snprintf(more + j, sizeof more - j, " (reloaded on SIGHUP)");
		{
			char text[2048];

			snprintf(text, sizeof text, "%s%s", k->help, more);
			wrap(f, text, 29, len);
		}
	}
	fprintf(f, "  -h, --help                 print this help\n"
	           "  --version                  print the version\n");
	if (spec->config_file)
		fprintf(f, "  -c, --config FILE          read settings from an INI file\n");
}

void
cfg_print(const struct cfg_spec *spec, const void *out, FILE *f)
{
	size_t i, j;

	for (i = 0; i < spec->nkeys; i++) {
		const struct cfg_key *k = &spec->keys[i];
		const void *p = cslot(out, k);
		char buf[64];

		switch (k->type) {
		case CFG_STR:
		case CFG_ENUM:
		case CFG_ADDR:
			fprintf(f, "%s = %s\n", k->name,
			        *(char *const *)p ? *(char *const *)p : "");
			break;
		case CFG_INT:
			fprintf(f, "%s = %lld\n", k->name, *(const long long *)p);
			break;
		case CFG_BOOL:
			fprintf(f, "%s = %s\n", k->name, *(const bool *)p ? "true" : "false");
			break;
		case CFG_DURATION:
			format_duration(*(const long long *)p, buf, sizeof buf);
			fprintf(f, "%s = %s\n", k->name, buf);
			break;
		case CFG_SIZE:
			format_size(*(const long long *)p, buf, sizeof buf);
			fprintf(f, "%s = %s\n", k->name, buf);
			break;
		case CFG_LIST: {
			const struct cfg_list *l = p;

			if (l->n == 0)
				fprintf(f, "%s =\n", k->name);
			for (j = 0; j < l->n; j++)
				fprintf(f, "%s = %s\n", k->name, l->v[j]);
			break;
		}
		}
	}
}
