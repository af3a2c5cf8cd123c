/*
 * test_log.c: log lines are one key=value line each, levels filter before
 * arguments are evaluated, and values that need quoting get it.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int fds[2];

static void
setup(void)
{
	cr_assert_eq(pipe(fds), 0);
	log_init("tlog", LOG_LVL_INFO, fds[1]);
}

TestSuite(log, .init = setup, .timeout = 10);

static char *
drain(void)
{
	static char buf[8192];
	ssize_t n;

	close(fds[1]);
	n = read(fds[0], buf, sizeof buf - 1);
	buf[n < 0 ? 0 : n] = '\0';
	close(fds[0]);
	return buf;
}

static int evaluated;

static int
side_effect(void)
{
	evaluated++;
	return 1;
}

Test(log, line_format)
{
	char *out;

	LOG_INFO("cert.loaded", "file=%s days=%d", "/x/edge.pem", 89);
	out = drain();
	cr_assert_eq(strncmp(out, "ts=", 3), 0, "%s", out);
	/* ts=YYYY-MM-DDTHH:MM:SS.mmmZ */
	cr_expect_eq(out[7], '-');
	cr_expect_eq(out[13], 'T');
	cr_expect_eq(out[26], 'Z', "%s", out);
	cr_expect_not_null(strstr(out, " level=info prog=tlog event=cert.loaded "
	                               "file=/x/edge.pem days=89\n"), "%s", out);
	cr_expect_eq(strchr(out, '\n'), out + strlen(out) - 1, "exactly one line");
}

Test(log, levels_filter_without_evaluating)
{
	char *out;

	evaluated = 0;
	LOG_DEBUG("noisy", "x=%d", side_effect());
	cr_expect_eq(evaluated, 0, "debug arguments evaluated at info level");
	LOG_WARN("careful", "x=%d", side_effect());
	cr_expect_eq(evaluated, 1);
	out = drain();
	cr_expect_null(strstr(out, "noisy"));
	cr_expect_not_null(strstr(out, "level=warn prog=tlog event=careful x=1"));
}

Test(log, quoting)
{
	(void)drain();
	cr_expect_str_eq(log_q("plain"), "plain");
	cr_expect_str_eq(log_q(""), "\"\"");
	cr_expect_str_eq(log_q(NULL), "-");
	cr_expect_str_eq(log_q("a b"), "\"a b\"");
	cr_expect_str_eq(log_q("k=v"), "\"k=v\"");
	cr_expect_str_eq(log_q("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
	cr_expect_str_eq(log_q("bell\a"), "\"bell\\x07\"");
}

Test(log, quoting_ring_survives_several_calls)
{
	const char *a, *b;

	(void)drain();
	a = log_q("first one");
	b = log_q("second one");
	cr_expect_str_eq(a, "\"first one\"");
	cr_expect_str_eq(b, "\"second one\"");
}

Test(log, long_values_are_cut_not_overflowed)
{
	char big[2000];
	const char *q;

	(void)drain();
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	q = log_q(big);
	cr_expect_lt(strlen(q), 256);
	cr_expect_str_eq(q + strlen(q) - 3, "...");
	big[10] = ' ';
	q = log_q(big);
	cr_expect_lt(strlen(q), 256);
	cr_expect_str_eq(q + strlen(q) - 4, "...\"");
}

Test(log, huge_line_still_ends_with_newline)
{
	static char big[10000];
	char *out;

	memset(big, 'y', sizeof big - 1);
	LOG_ERROR("big", "v=%s", big);
	out = drain();
	cr_expect_eq(out[strlen(out) - 1], '\n');
	cr_expect_lt(strlen(out), 4097);
}

Test(log, level_names)
{
	(void)drain();
	cr_expect_eq(log_level_parse("debug"), LOG_LVL_DEBUG);
	cr_expect_eq(log_level_parse("WARN"), LOG_LVL_WARN);
	cr_expect_eq(log_level_parse("verbose"), -1);
	cr_expect_str_eq(log_level_name(LOG_LVL_ERROR), "error");
}
