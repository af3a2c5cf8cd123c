/*
 * test_cfg.c: the configuration module, through a spec with every key type:
 * defaults, valid files, flags over files, and every kind of bad input,
 * each of which must name the file, line and key (or the flag) and why.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"

#define T_KEYS(X) \
	X(name, CFG_STR, "S", "dflt", 0, 0, NULL, 0, "a string") \
	X(count, CFG_INT, "N", "3", 1, 10, NULL, 0, "an int in 1..10") \
	X(any_int, CFG_INT, "N", "0", 0, 0, NULL, 0, "an int without bounds") \
	X(trace, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, "a bool") \
	X(timeout, CFG_DURATION, "D", "30s", 1, 86400000, NULL, 0, "a duration") \
	X(max_size, CFG_SIZE, "SIZE", "32MiB", 0, 0, NULL, 0, "a size") \
	X(policy, CFG_ENUM, "P", "redirect-to-https", 0, 0, \
	  "redirect-to-https|https-only|allow-all", 0, "an enum") \
	X(headers, CFG_LIST, "H", "accept,accept-language", 0, 0, NULL, 0, "a list") \
	X(listen, CFG_ADDR, "ADDR", "127.0.0.1:8443", 0, 0, NULL, 0, "an address") \
	X(secret, CFG_STR, "S", NULL, 0, 0, NULL, CFG_NOFILE, "flag only") \
	X(origin, CFG_STR, "URL", NULL, 0, 0, NULL, 0, "optional")

struct t_opts { T_KEYS(CFG_FIELD) };
#define T_ROW(...) CFG_ROW(struct t_opts, __VA_ARGS__)
static const struct cfg_key t_keys[] = { T_KEYS(T_ROW) };
static const struct cfg_spec spec = {
	"tprog", "[options]", "A test program.", t_keys,
	sizeof t_keys / sizeof t_keys[0], 0, 1, true, NULL,
};

static struct t_opts o;

static void
setup(void)
{
	struct err e;

	memset(&o, 0, sizeof o);
	cr_assert_eq(cfg_defaults(&spec, &o, &e), 0);
}

static void
teardown(void)
{
	cfg_free(&spec, &o);
}

TestSuite(cfg, .init = setup, .fini = teardown, .timeout = 10);

/* Load text as a config file named "t.conf"; returns the rc, e filled. */
static int
load(const char *text, struct err *e)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	cr_assert_not_null(f);
	rc = cfg_load_stream(&spec, &o, f, "t.conf", e);
	fclose(f);
	return rc;
}

/* The load must fail with exactly this message. */
static void
load_fails(const char *text, const char *want)
{
	struct err e = { 0, "" };

	cr_assert_eq(load(text, &e), -1, "expected failure for: %s", text);
	cr_expect_eq(e.code, ERR_USAGE);
	cr_expect_str_eq(e.msg, want);
}

Test(cfg, defaults)
{
	cr_expect_str_eq(o.name, "dflt");
	cr_expect_eq(o.count, 3);
	cr_expect_eq(o.trace, false);
	cr_expect_eq(o.timeout, 30000);
	cr_expect_eq(o.max_size, 32LL << 20);
	cr_expect_str_eq(o.policy, "redirect-to-https");
	cr_assert_eq(o.headers.n, 2);
	cr_expect_str_eq(o.headers.v[0], "accept");
	cr_expect_str_eq(o.headers.v[1], "accept-language");
	cr_expect_str_eq(o.listen, "127.0.0.1:8443");
	cr_expect_null(o.origin);
}

Test(cfg, valid_file)
{
	struct err e = { 0, "" };
	const char *text =
		"; a comment\n"
		"# another\n"
		"\n"
		"name = hello world\n"
		"count=7\n"
		"  trace = yes\n"            /* leading blanks are fine */
		"timeout = 1h30m\n"
		"max_size = 64k ; inline comment\n"
		"policy = https-only\n"
		"headers = x-a, x-b\n"
		"headers = x-c\n"
		"listen = [::1]:9443\n"
		"origin = \"https://o.test/ ; not a comment\"\n";

	cr_assert_eq(load(text, &e), 0, "%s", e.msg);
	cr_expect_str_eq(o.name, "hello world");
	cr_expect_eq(o.count, 7);
	cr_expect_eq(o.trace, true);
	cr_expect_eq(o.timeout, 5400000);
	cr_expect_eq(o.max_size, 65536);
	cr_expect_str_eq(o.policy, "https-only");
	cr_assert_eq(o.headers.n, 3);
	cr_expect_str_eq(o.headers.v[0], "x-a");
	cr_expect_str_eq(o.headers.v[2], "x-c");
	cr_expect_str_eq(o.listen, "[::1]:9443");
}

Test(cfg, crlf_and_empty_values)
{
	struct err e = { 0, "" };

	cr_assert_eq(load("name =\r\nheaders =\r\ncount = 2\r\n", &e), 0, "%s", e.msg);
	cr_expect_null(o.name, "an empty value unsets a string");
	cr_expect_eq(o.headers.n, 0, "an empty value empties a list");
	cr_expect_eq(o.count, 2);
}

Test(cfg, unknown_key_suggests)
{
	load_fails("count = 2\ncoutn = 3\n",
	           "t.conf:2: unknown key 'coutn' (did you mean 'count'?)");
	load_fails("zzzzzz = 1\n", "t.conf:1: unknown key 'zzzzzz'");
}

Test(cfg, bad_values_name_line_key_and_why)
{
	load_fails("\n\ncount = abc\n", "t.conf:3: key 'count': 'abc' is not an integer");
	load_fails("count = 11\n", "t.conf:1: key 'count': '11' is out of range (1..10)");
	load_fails("count = 0\n", "t.conf:1: key 'count': '0' is out of range (1..10)");
	load_fails("count = 99999999999999999999\n",
	           "t.conf:1: key 'count': '99999999999999999999' is out of range");
	load_fails("count = 3x\n", "t.conf:1: key 'count': '3x' is not an integer");
	load_fails("policy =\n", "t.conf:1: key 'policy': empty value (use one of "
	           "redirect-to-https|https-only|allow-all)");
	load_fails("trace = maybe\n",
	           "t.conf:1: key 'trace': 'maybe' is not a boolean (use true/false, "
	           "yes/no, on/off, 1/0)");
	load_fails("timeout = 5 minutes\n",
	           "t.conf:1: key 'timeout': '5 minutes' is not a duration (units: ms, s, "
	           "m, h, d, w)");
	load_fails("timeout = 0s\n",
	           "t.conf:1: key 'timeout': '0s' is out of range (1ms..86400000ms)");
	load_fails("max_size = 12 parsecs\n",
	           "t.conf:1: key 'max_size': '12 parsecs' is not a size (units: k, M, G, "
	           "T; all binary)");
	load_fails("policy = https_only\n",
	           "t.conf:1: key 'policy': 'https_only' is not one of "
	           "redirect-to-https|https-only|allow-all");
	load_fails("listen = 8443\n",
	           "t.conf:1: key 'listen': '8443' is not an address (write host:port or "
	           ":port)");
	load_fails("listen = ::1:8443\n",
	           "t.conf:1: key 'listen': '::1:8443': put IPv6 addresses in brackets "
	           "([::1]:8443)");
	load_fails("listen = 127.0.0.1:70000\n",
	           "t.conf:1: key 'listen': '127.0.0.1:70000': port must be 1-65535");
}

Test(cfg, duplicate_key)
{
	load_fails("name = a\n# x\nname = b\n",
	           "t.conf:3: key 'name' is set twice (first on line 1)");
}

Test(cfg, sections_are_refused)
{
	load_fails("[edge]\nname = a\n",
	           "t.conf:2: key 'name' is under section [edge]; tprog config files have "
	           "no sections");
}

Test(cfg, syntax_errors)
{
	load_fails("name = a\njust some words\n",
	           "t.conf:2: syntax error (expected 'key = value')");
	load_fails("[unclosed\n", "t.conf:1: syntax error (expected 'key = value')");
}

Test(cfg, flag_only_key_in_file)
{
	load_fails("secret = x\n",
	           "t.conf:1: key 'secret' can only be given on the command line");
}

Test(cfg, long_line_and_nul)
{
	char *big = malloc(6000);
	struct err e = { 0, "" };
	FILE *f;

	cr_assert_not_null(big);
	memset(big, 'a', 5998);
	memcpy(big, "name = ", 7);
	big[5998] = '\n';
	big[5999] = '\0';
	load_fails(big, "t.conf:1: line too long (over 4096 characters)");
	/* longer than inih's 200-byte buffer but within ours: parsed whole */
	memset(big, 'v', 1000);
	memcpy(big, "name = ", 7);
	memcpy(big + 990, " ; cmt\n", 8);
	cr_assert_eq(load(big, &e), 0, "%s", e.msg);
	cr_expect_eq(strlen(o.name), 983);
	cr_expect_eq(o.name[982], 'v');
	memcpy(big, "nxme = ", 7);
	load_fails(big, "t.conf:1: unknown key 'nxme' (did you mean 'name'?)");
	free(big);

	f = fmemopen((void *)"name = a\0b\n", 11, "r");
	cr_assert_eq(cfg_load_stream(&spec, &o, f, "t.conf", &e), -1);
	cr_expect_str_eq(e.msg, "t.conf:1: NUL byte in line");
	fclose(f);
}

Test(cfg, error_stops_at_first_problem)
{
	/* the bad count on line 2 is reported, not the later unknown key */
	load_fails("name = a\ncount = x\nbogus = 1\n",
	           "t.conf:2: key 'count': 'x' is not an integer");
}

Test(cfg, missing_file)
{
	struct err e = { 0, "" };

	cr_assert_eq(cfg_load_file(&spec, &o, "/nonexistent/x.conf", &e), -1);
	cr_expect_str_eq(e.msg, "/nonexistent/x.conf: cannot open config file: No such "
	                        "file or directory");
}

/* ---- command line ---- */

static int
argv_parse(struct err *e, char ***pos, int *npos, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	const char *a;

	va_start(ap, npos);
	while ((a = va_arg(ap, const char *)) != NULL)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	cfg_free(&spec, &o);
	memset(&o, 0, sizeof o);
	return cfg_parse_argv(&spec, &o, argc, argv, pos, npos, e);
}

Test(cfg, flags_all_forms)
{
	struct err e = { 0, "" };
	char **pos = NULL;
	int n = 0;

	cr_assert_eq(argv_parse(&e, &pos, &n, "--name", "x y", "--count=9", "--trace",
	                        "--timeout", "250ms", "--max_size", "1G", "--headers", "a",
	                        "--headers=b,c", "positional", "--secret", "s", NULL),
	             0, "%s", e.msg);
	cr_expect_str_eq(o.name, "x y");
	cr_expect_eq(o.count, 9);
	cr_expect_eq(o.trace, true);
	cr_expect_eq(o.timeout, 250);
	cr_expect_eq(o.max_size, 1LL << 30);
	cr_assert_eq(o.headers.n, 3, "flags replace the default list, then append");
	cr_expect_str_eq(o.headers.v[0], "a");
	cr_expect_str_eq(o.headers.v[2], "c");
	cr_assert_eq(n, 1);
	cr_expect_str_eq(pos[0], "positional");
	cr_expect_str_eq(o.secret, "s");
	free(pos);
}

Test(cfg, no_bool_and_double_dash)
{
	struct err e = { 0, "" };
	char **pos = NULL;
	int n = 0;

	cr_assert_eq(argv_parse(&e, &pos, &n, "--no-trace", "--", "--count", NULL), 0,
	             "%s", e.msg);
	cr_expect_eq(o.trace, false);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(pos[0], "--count", "after --, everything is positional");
	free(pos);
}

Test(cfg, flags_win_over_file)
{
	char path[] = "/tmp/edged-cfg-XXXXXX";
	int fd = mkstemp(path);
	struct err e = { 0, "" };
	char **pos = NULL;
	int n = 0;
	const char *text = "name = fromfile\ncount = 4\nheaders = f1\nheaders = f2\n";

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_eq(argv_parse(&e, &pos, &n, "--count", "5", "-c", path, "--headers", "cli",
	                        NULL),
	             0, "%s", e.msg);
	unlink(path);
	cr_expect_str_eq(o.name, "fromfile");
	cr_expect_eq(o.count, 5);
	cr_assert_eq(o.headers.n, 1, "a list flag replaces the file's list");
	cr_expect_str_eq(o.headers.v[0], "cli");
	free(pos);
}

Test(cfg, config_file_error_comes_back)
{
	char path[] = "/tmp/edged-cfg-XXXXXX";
	int fd = mkstemp(path);
	struct err e = { 0, "" };
	char **pos = NULL, want[256];
	int n = 0;

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "count = 100\n", 12), 12);
	close(fd);
	cr_expect_eq(argv_parse(&e, &pos, &n, "--config", path, NULL), -1);
	unlink(path);
	snprintf(want, sizeof want, "%s:1: key 'count': '100' is out of range (1..10)", path);
	cr_expect_str_eq(e.msg, want);
	free(pos);
}

static void
argv_fails(const char *want, ...)
{
	char *argv[32];
	int argc = 0, n = 0;
	char **pos = NULL;
	struct err e = { 0, "" };
	va_list ap;
	const char *a;

	va_start(ap, want);
	while ((a = va_arg(ap, const char *)) != NULL)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	cfg_free(&spec, &o);
	memset(&o, 0, sizeof o);
	cr_assert_eq(cfg_parse_argv(&spec, &o, argc, argv, &pos, &n, &e), -1,
	             "expected failure: %s", want);
	cr_expect_eq(e.code, ERR_USAGE);
	cr_expect_str_eq(e.msg, want);
	free(pos);
}

Test(cfg, bad_flags)
{
	argv_fails("unknown option '--cuont' (did you mean --count?)", "--cuont", "1", NULL);
	argv_fails("unknown option '--wholly-unrelated' (see tprog --help)",
	           "--wholly-unrelated", NULL);
	argv_fails("unknown option '-x' (options are spelled --name)", "-x", NULL);
	argv_fails("option '--count' needs a value (N)", "--count", NULL);
	argv_fails("option '--count': '0x10' is not an integer", "--count", "0x10", NULL);
	argv_fails("option '--count' given twice", "--count", "1", "--count", "2", NULL);
	argv_fails("option '--trace': 'maybe' is not a boolean (use true/false, yes/no, "
	           "on/off, 1/0)", "--trace=maybe", NULL);
	argv_fails("option '--no-count': --count is not a boolean", "--no-count", NULL);
	argv_fails("too many arguments: 'b' (usage: tprog [options])", "a", "b", NULL);
	argv_fails("option '-c' needs a file name", "-c", NULL);
	argv_fails("--config given twice", "-c", "/dev/null", "--config=/dev/null", NULL);
	argv_fails("unknown option '--tarce' (did you mean --trace?)", "--tarce", NULL);
	argv_fails("option '--policy' needs a non-empty value", "--policy=", NULL);
	argv_fails("option '--name' needs a non-empty value", "--name", "", NULL);
}

Test(cfg, dash_and_underscore_spellings)
{
	struct err e = { 0, "" };

	cr_assert_eq(argv_parse(&e, NULL, NULL, "--max-size", "2k", NULL), 0, "%s", e.msg);
	cr_expect_eq(o.max_size, 2048);
	cr_expect_not_null(cfg_find(&spec, "max-size"));
	cr_expect_not_null(cfg_find(&spec, "max_size"));
	cr_expect_null(cfg_find(&spec, "max"));
	cr_expect_null(cfg_find(&spec, "max_size_"));
}

#define R_KEYS(X) \
	X(dir, CFG_STR, "DIR", NULL, 0, 0, NULL, CFG_REQUIRED, "required dir")
struct r_opts { R_KEYS(CFG_FIELD) };
#define R_ROW(...) CFG_ROW(struct r_opts, __VA_ARGS__)
static const struct cfg_key r_keys[] = { R_KEYS(R_ROW) };

Test(cfg, required_and_positional_counts)
{
	struct cfg_spec rs = { "rprog", "NAME --dir DIR", NULL, r_keys, 1, 1, 1, false, NULL };
	struct r_opts r = { 0 };
	struct err e = { 0, "" };
	char *argv[] = { (char *)"name", NULL }, *argv2[] = { (char *)"--dir", (char *)"d", NULL };
	char *argv3[] = { (char *)"--config", (char *)"x", NULL };
	char **pos = NULL;
	int n;

	cr_expect_eq(cfg_parse_argv(&rs, &r, 1, argv, &pos, &n, &e), -1);
	cr_expect_str_eq(e.msg, "missing required --dir");
	cfg_free(&rs, &r);
	cr_expect_eq(cfg_parse_argv(&rs, &r, 2, argv2, &pos, &n, &e), -1);
	cr_expect_str_eq(e.msg, "missing argument (usage: rprog NAME --dir DIR)");
	cfg_free(&rs, &r);
	cr_expect_eq(cfg_parse_argv(&rs, &r, 2, argv3, &pos, &n, &e), -1);
	cr_expect_str_eq(e.msg, "unknown option '--config' (see rprog --help)",
	                 "a spec without config files has no --config");
	cfg_free(&rs, &r);
}

Test(cfg, help_lists_every_key_with_default)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	size_t i;

	cfg_print_help(&spec, f);
	fclose(f);
	{ /* read it as a person does: wrapped lines joined by one blank */
		char *r = buf, *w = buf;

		while (*r) {
			if (*r == '\n') {
				while (r[1] == ' ')
					r++;
				*w++ = ' ';
				r++;
				continue;
			}
			*w++ = *r++;
		}
		*w = '\0';
	}
	for (i = 0; i < spec.nkeys; i++) {
		char flag[64], *p;

		snprintf(flag, sizeof flag, "--%s", spec.keys[i].name);
		for (p = flag + 2; *p; p++)
			if (*p == '_')
				*p = '-';
		cr_expect_not_null(strstr(buf, flag), "help lacks %s", flag);
		cr_expect_not_null(strstr(buf, spec.keys[i].help), "help lacks %s's text", flag);
		if (spec.keys[i].def != NULL && *spec.keys[i].def) {
			char d[128];

			snprintf(d, sizeof d, "[default: %s]", spec.keys[i].def);
			cr_expect_not_null(strstr(buf, d), "help lacks %s", d);
		}
	}
	cr_expect_not_null(strstr(buf, "(command line only)"));
	cr_expect_not_null(strstr(buf, "Usage: tprog [options]"));
	free(buf);
}

Test(cfg, print_round_trips)
{
	struct err e = { 0, "" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	struct t_opts saved;

	cr_assert_eq(load("name = n1\ncount = 8\ntimeout = 1500ms\nmax_size = 3MiB\n"
	                  "headers = a, b\ntrace = on\n", &e), 0, "%s", e.msg);
	f = open_memstream(&buf, &len);
	cfg_print(&spec, &o, f);
	fclose(f);
	saved = o;
	memset(&o, 0, sizeof o);
	/* secret is command-line only: drop its line before loading */
	{
		char *p = strstr(buf, "secret =");

		cr_assert_not_null(p);
		memset(p, ' ', strcspn(p, "\n"));
		*p = '#';
	}
	cr_assert_eq(load(buf, &e), 0, "%s\n%s", e.msg, buf);
	cr_expect_str_eq(o.name, "n1");
	cr_expect_eq(o.count, 8);
	cr_expect_eq(o.timeout, 1500);
	cr_expect_eq(o.max_size, 3 << 20);
	cr_expect_eq(o.trace, true);
	cr_assert_eq(o.headers.n, 2);
	cr_expect_str_eq(o.headers.v[1], "b");
	cfg_free(&spec, &saved);
	free(buf);
}

/* ---- value parsers ---- */

Test(cfg, durations)
{
	static const struct { const char *s; long long ms; } ok[] = {
		{ "0", 0 }, { "30", 30000 }, { "250ms", 250 }, { "30s", 30000 },
		{ "5m", 300000 }, { "2h", 7200000 }, { "30d", 2592000000LL },
		{ "1w", 604800000 }, { "1h30m", 5400000 }, { "1m30s500ms", 90500 },
	};
	static const char *bad[] = { "", "s", "-5s", "5 s", "5x", "1.5s", "5s3",
	                             "99999999999999999999d", "9223372036854775807d", " 5s" };
	size_t i;
	long long ms;
	struct err e;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		cr_expect_eq(cfg_parse_duration(ok[i].s, &ms, &e), 0, "%s: %s", ok[i].s, e.msg);
		cr_expect_eq(ms, ok[i].ms, "%s", ok[i].s);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(cfg_parse_duration(bad[i], &ms, &e), -1, "'%s' accepted", bad[i]);
}

Test(cfg, sizes)
{
	static const struct { const char *s; long long b; } ok[] = {
		{ "0", 0 }, { "512", 512 }, { "512b", 512 }, { "64k", 65536 }, { "64KiB", 65536 },
		{ "32MiB", 32LL << 20 }, { "32m", 32LL << 20 }, { "1G", 1LL << 30 },
		{ "2TB", 2LL << 40 },
	};
	static const char *bad[] = { "", "k", "-1", "1.5M", "1 M", "1Q", "9999999999999T" };
	size_t i;
	long long b;
	struct err e;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		cr_expect_eq(cfg_parse_size(ok[i].s, &b, &e), 0, "%s: %s", ok[i].s, e.msg);
		cr_expect_eq(b, ok[i].b, "%s", ok[i].s);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(cfg_parse_size(bad[i], &b, &e), -1, "'%s' accepted", bad[i]);
}

Test(cfg, addresses)
{
	char host[64];
	int port;
	struct err e;

	cr_assert_eq(cfg_parse_addr("127.0.0.1:8443", host, sizeof host, &port, &e), 0);
	cr_expect_str_eq(host, "127.0.0.1");
	cr_expect_eq(port, 8443);
	cr_assert_eq(cfg_parse_addr("[::1]:9", host, sizeof host, &port, &e), 0);
	cr_expect_str_eq(host, "::1");
	cr_assert_eq(cfg_parse_addr(":80", host, sizeof host, &port, &e), 0);
	cr_expect_str_eq(host, "");
	cr_assert_eq(cfg_parse_addr("*:80", host, sizeof host, &port, &e), 0);
	cr_expect_str_eq(host, "");
	cr_assert_eq(cfg_parse_addr("origin.test:443", host, sizeof host, &port, &e), 0);
	cr_expect_str_eq(host, "origin.test");
	cr_expect_eq(cfg_parse_addr("[::1]", host, sizeof host, &port, &e), -1);
	cr_expect_eq(cfg_parse_addr("[zz]:1", host, sizeof host, &port, &e), -1);
	cr_expect_eq(cfg_parse_addr("h:0", host, sizeof host, &port, &e), -1);
	cr_expect_eq(cfg_parse_addr("h:", host, sizeof host, &port, &e), -1);
	cr_expect_eq(cfg_parse_addr("h st:1", host, sizeof host, &port, &e), -1);
	cr_expect_eq(cfg_parse_addr("a/b:1", host, sizeof host, &port, &e), -1);
	cr_expect_eq(cfg_parse_addr("averyveryverylonghostname.example:1", host, 8, &port, &e),
	             -1);
}

Test(cfg, ints_and_bools)
{
	long long v;
	bool b;
	struct err e;

	cr_expect_eq(cfg_parse_int("-42", &v, &e), 0);
	cr_expect_eq(v, -42);
	cr_expect_eq(cfg_parse_int("9223372036854775807", &v, &e), 0);
	cr_expect_eq(cfg_parse_int("9223372036854775808", &v, &e), -1);
	cr_expect_eq(cfg_parse_int("", &v, &e), -1);
	cr_expect_eq(cfg_parse_int("-", &v, &e), -1);
	cr_expect_eq(cfg_parse_int(" 1", &v, &e), -1);
	cr_expect_eq(cfg_parse_bool("ON", &b, &e), 0);
	cr_expect_eq(b, true);
	cr_expect_eq(cfg_parse_bool("0", &b, &e), 0);
	cr_expect_eq(b, false);
	cr_expect_eq(cfg_parse_bool("", &b, &e), -1);
	cr_expect_eq(cfg_parse_bool("2", &b, &e), -1);
}
