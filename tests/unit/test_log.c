/*
 * test_log.c: log lines are one key=value line each, levels filter before
 * arguments are evaluated, and values that need quoting get it.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* SIGHUP changes the level while viewer threads log: every read of it is
 * atomic (under make SAN=thread, ThreadSanitizer fails this test if one
 * is not).  Once the level is set, the setting thread's next line obeys
 * it. */
static int stop_logging;
static unsigned long busy_evaluated;

static int
busy_side_effect(void)
{
	__atomic_add_fetch(&busy_evaluated, 1, __ATOMIC_RELAXED);
	return 1;
}

static void *
logger(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	while (!__atomic_load_n(&stop_logging, __ATOMIC_RELAXED)) {
		LOG_DEBUG("busy", "n=%lu x=%d", n, busy_side_effect());
		LOG_INFO("busy", "n=%lu", n);
		n++;
	}
	return NULL;
}

Test(log, level_changes_while_threads_log)
{
	pthread_t th[4];
	int devnull = open("/dev/null", O_WRONLY), i;
	time_t t_end;

	(void)drain();
	cr_assert_geq(devnull, 0);
	log_init("tlog", LOG_LVL_INFO, devnull);
	for (i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, logger, NULL), 0);
	/* flip until the loggers have logged at debug level a while (bounded) */
	t_end = time(NULL) + 10;
	for (i = 0; __atomic_load_n(&busy_evaluated, __ATOMIC_RELAXED) < 1000 && time(NULL) < t_end;
	     i++)
		log_set_level(i % 2 ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	log_set_level(LOG_LVL_ERROR);
	cr_expect_geq(__atomic_load_n(&busy_evaluated, __ATOMIC_RELAXED), 1000,
	              "the loggers never logged at debug level in 10 s");
	cr_expect_eq(log_level_get(), LOG_LVL_ERROR);
	evaluated = 0;
	LOG_WARN("quiet", "x=%d", side_effect());
	cr_expect_eq(evaluated, 0, "a warn line's arguments evaluated at level error");
	__atomic_store_n(&stop_logging, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	cr_log_info("debug lines evaluated by 4 threads while the level flipped %d times: %lu",
	            i, __atomic_load_n(&busy_evaluated, __ATOMIC_RELAXED));
	close(devnull);
}

Test(log, level_names)
{
	(void)drain();
	cr_expect_eq(log_level_parse("debug"), LOG_LVL_DEBUG);
	cr_expect_eq(log_level_parse("WARN"), LOG_LVL_WARN);
	cr_expect_eq(log_level_parse("verbose"), -1);
	cr_expect_str_eq(log_level_name(LOG_LVL_ERROR), "error");
}
