/*
 * runner.c: main() of a unit-test program built against the Criterion
 * shim (criterion/criterion.h here; why: see there).  Runs every test
 * registered by Test() in its own forked process, at most --jobs N at a
 * time, in registration order, prints one line per test and a synthesis
 * line as Criterion does, and exits 1 when any test failed, crashed or
 * timed out.  --filter GLOB (fnmatch on "suite/name") picks tests.
 *
 * A test's process: the suite's .init, the test's .init, the test, the
 * test's .fini, the suite's .fini; a failed cr_assert_* in the test's own
 * thread jumps to the .fini calls (in another thread: the process exits).
 * It exits 0 (passed) or 1 (failed); ThreadSanitizer's exit code 66
 * (TSAN_OPTIONS from the Makefile) or a signal fails it too.  .timeout is
 * multiplied by CRSHIM_TIMEOUT_SCALE (default 5: the code runs 5-15 times
 * slower under TSan) and enforced with alarm().
 */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "criterion/criterion.h"

struct test {
	const char *suite, *name;
	void (*fn)(void);
	const struct crshim_opts *o;
	pid_t pid;
	double t0;
};

struct suite {
	const char *name;
	const struct crshim_opts *o;
};

static struct test *tests;
static size_t ntests, captests;
static struct suite *suites;
static size_t nsuites, capsuites;

/* in a test's process */
static int failed;               /* atomic */
static pthread_t test_thread;
static sigjmp_buf after_test;

void
crshim_register(const char *suite, const char *name, void (*fn)(void),
                const struct crshim_opts *o)
{
	if (ntests == captests) {
		captests = captests ? captests * 2 : 64;
		tests = realloc(tests, captests * sizeof *tests);
		if (tests == NULL)
			abort();
	}
	tests[ntests++] = (struct test){ suite, name, fn, o, 0, 0 };
}

void
crshim_suite(const char *suite, const struct crshim_opts *o)
{
	if (nsuites == capsuites) {
		capsuites = capsuites ? capsuites * 2 : 8;
		suites = realloc(suites, capsuites * sizeof *suites);
		if (suites == NULL)
			abort();
	}
	suites[nsuites++] = (struct suite){ suite, o };
}

bool
crshim_str_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void
report(bool fatal, const char *file, int line, const char *what, const char *fmt, va_list ap)
{
	char msg[2048];
	int n;

	n = snprintf(msg, sizeof msg, "%s:%d: %s: %s", file, line,
	             fatal ? "Assertion failed" : "Expectation failed", what);
	if (n > 0 && (size_t)n + 1 < sizeof msg && fmt[1] != '\0') {
		msg[n++] = ':'; /* fmt is " " and the test's message */
		n += vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	}
	if (n < 0 || (size_t)n >= sizeof msg - 1)
		n = (int)sizeof msg - 2;
	msg[n++] = '\n';
	if (write(2, msg, (size_t)n) < 0) {
		/* nothing more to do */
	}
	__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
}

void
crshim_failed(const char *file, int line, const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(false, file, line, what, fmt, ap);
	va_end(ap);
}

void
crshim_fatal(const char *file, int line, const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(true, file, line, what, fmt, ap);
	va_end(ap);
	if (pthread_equal(pthread_self(), test_thread))
		siglongjmp(after_test, 1);
	_exit(1);
}

void
crshim_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const struct crshim_opts *
suite_of(const char *name)
{
	size_t i;

	for (i = 0; i < nsuites; i++)
		if (strcmp(suites[i].name, name) == 0)
			return suites[i].o;
	return NULL;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The test's process. */
static const struct test *cur;           /* the test of this process */
static const struct crshim_opts *cur_suite;

static void
child(const struct test *t)
{
	double timeout;
	const char *scale = getenv("CRSHIM_TIMEOUT_SCALE");

	cur = t;
	cur_suite = suite_of(t->suite);
	timeout = t->o->timeout > 0 ? t->o->timeout : cur_suite ? cur_suite->timeout : 0;
	if (timeout > 0)
		alarm((unsigned)ceil(timeout * (scale != NULL ? atof(scale) : 5)));
	test_thread = pthread_self();
	if (sigsetjmp(after_test, 0) == 0) {
		if (cur_suite != NULL && cur_suite->init != NULL)
			cur_suite->init();
		if (cur->o->init != NULL)
			cur->o->init();
		cur->fn();
	}
	if (sigsetjmp(after_test, 0) == 0) {
		if (cur->o->fini != NULL)
			cur->o->fini();
		if (cur_suite != NULL && cur_suite->fini != NULL)
			cur_suite->fini();
	}
	fflush(NULL);
	exit(__atomic_load_n(&failed, __ATOMIC_RELAXED) ? 1 : 0);
}

static void
usage(void)
{
	fprintf(stderr, "usage: TEST [--jobs N] [--filter GLOB]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *filter = NULL;
	size_t next = 0, running = 0, i, passed = 0, bad = 0, crashed = 0, ran = 0;
	long jobs = 1;
	int a;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--jobs") == 0 && a + 1 < argc)
			jobs = strtol(argv[++a], NULL, 10);
		else if (strncmp(argv[a], "--jobs=", 7) == 0)
			jobs = strtol(argv[a] + 7, NULL, 10);
		else if (strcmp(argv[a], "--filter") == 0 && a + 1 < argc)
			filter = argv[++a];
		else if (strncmp(argv[a], "--filter=", 9) == 0)
			filter = argv[a] + 9;
		else
			usage();
	}
	if (jobs < 1)
		jobs = 1;
	fflush(NULL);
	for (;;) {
		int st;
		pid_t pid;

		while (next < ntests && running < (size_t)jobs) {
			struct test *t = &tests[next++];
			const struct crshim_opts *s = suite_of(t->suite);
			char full[512];

			snprintf(full, sizeof full, "%s/%s", t->suite, t->name);
			if (t->o->disabled || (s != NULL && s->disabled) ||
			    (filter != NULL && fnmatch(filter, full, 0) != 0))
				continue;
			t->t0 = now();
			t->pid = fork();
			if (t->pid < 0) {
				perror("fork");
				return 1;
			}
			if (t->pid == 0)
				child(t);
			running++;
			ran++;
		}
		if (running == 0)
			break;
		pid = waitpid(-1, &st, 0);
		if (pid < 0) {
			perror("waitpid");
			return 1;
		}
		for (i = 0; i < next; i++) {
			struct test *t = &tests[i];
			double secs;

			if (t->pid != pid)
				continue;
			running--;
			secs = now() - t->t0;
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
				passed++;
				printf("[PASS] %s::%s: (%.2fs)\n", t->suite, t->name, secs);
			} else if (WIFEXITED(st)) {
				bad++;
				printf("[FAIL] %s::%s: exit code %d%s (%.2fs)\n", t->suite, t->name,
				       WEXITSTATUS(st),
				       WEXITSTATUS(st) == 66 ? " (a ThreadSanitizer report)" : "", secs);
			} else {
				crashed++;
				printf("[FAIL] %s::%s: %s (%.2fs)\n", t->suite, t->name,
				       WTERMSIG(st) == SIGALRM ? "timed out" : strsignal(WTERMSIG(st)),
				       secs);
			}
			fflush(stdout);
			t->pid = 0;
		}
	}
	printf("[====] Synthesis: Tested: %zu | Passing: %zu | Failing: %zu | Crashing: %zu\n",
	       ran, passed, bad, crashed);
	return bad + crashed > 0 ? 1 : 0;
}
