/*
 * criterion/criterion.h, the shim: the part of Criterion's API that the
 * unit tests use, for the ThreadSanitizer build (make SAN=thread unit)
 * only.  Criterion itself cannot start under TSan: BoxFort, its sandbox,
 * maps a shared arena at random fixed addresses between 0x2000'0000'0000
 * and 0x7f00'0000'0000, which TSan reserves for its shadow and metadata,
 * so every try fails and Criterion aborts with "Could not initialize
 * inheritable arena" (Snaipe/Criterion issue #274, open).  The same test
 * sources build against this header instead (found first through -I; it
 * declares itself a system header, so warnings inside the macros are
 * treated as with the real one) and link with runner.c, which runs each test in its own
 * forked process as Criterion does: suite .init, test .init, the test,
 * test .fini, suite .fini, killed after .timeout.
 *
 * A failed cr_assert_* ends the test (its .fini still run); a failed
 * cr_expect_* marks it failed and lets it go on; both print the file, the
 * line, the expression and the message.
 */
#ifndef CRSHIM_CRITERION_H
#define CRSHIM_CRITERION_H

#pragma GCC system_header

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct crshim_opts {
	void (*init)(void);
	void (*fini)(void);
	double timeout;          /* seconds; 0: none */
	bool disabled;
	const char *description;
};

void crshim_register(const char *suite, const char *name, void (*fn)(void),
                     const struct crshim_opts *o);
void crshim_suite(const char *suite, const struct crshim_opts *o);
/* a failed cr_expect_*: the test goes on, failed */
void crshim_failed(const char *file, int line, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* a failed cr_assert_*: the test ends */
void crshim_fatal(const char *file, int line, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn));
void crshim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool crshim_str_eq(const char *a, const char *b);

#define CRSHIM_ID(s, n, x) crshim_##s##_##n##_##x

#define Test(suite, name, ...) \
	static void CRSHIM_ID(suite, name, fn)(void); \
	static const struct crshim_opts CRSHIM_ID(suite, name, opts) = { __VA_ARGS__ }; \
	__attribute__((constructor)) static void CRSHIM_ID(suite, name, reg)(void) \
	{ \
		crshim_register(#suite, #name, CRSHIM_ID(suite, name, fn), \
		                &CRSHIM_ID(suite, name, opts)); \
	} \
	static void CRSHIM_ID(suite, name, fn)(void)

#define TestSuite(suite, ...) \
	static const struct crshim_opts crshim_suite_##suite = { __VA_ARGS__ }; \
	__attribute__((constructor)) static void crshim_suite_reg_##suite(void) \
	{ \
		crshim_suite(#suite, &crshim_suite_##suite); \
	}

/* the message, when given, is a format string literal and its arguments:
 * " " in front of it makes the format never empty */
#define CRSHIM_CHECK(fatal, cond, what, ...) \
	do { \
		if (!(cond)) { \
			if (fatal) \
				crshim_fatal(__FILE__, __LINE__, (what), " " __VA_ARGS__); \
			else \
				crshim_failed(__FILE__, __LINE__, (what), " " __VA_ARGS__); \
		} \
	} while (0)

#define cr_assert(c, ...) CRSHIM_CHECK(true, (c), #c, __VA_ARGS__)
#define cr_expect(c, ...) CRSHIM_CHECK(false, (c), #c, __VA_ARGS__)
#define cr_assert_not(c, ...) CRSHIM_CHECK(true, !(c), "!(" #c ")", __VA_ARGS__)
#define cr_expect_not(c, ...) CRSHIM_CHECK(false, !(c), "!(" #c ")", __VA_ARGS__)
#define cr_assert_fail(...) CRSHIM_CHECK(true, false, "cr_assert_fail", __VA_ARGS__)

#define CRSHIM_CMP(fatal, a, op, b, ...) \
	CRSHIM_CHECK(fatal, (a) op (b), #a " " #op " " #b, __VA_ARGS__)
#define cr_assert_eq(a, b, ...) CRSHIM_CMP(true, a, ==, b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) CRSHIM_CMP(true, a, !=, b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...) CRSHIM_CMP(true, a, <, b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) CRSHIM_CMP(true, a, <=, b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...) CRSHIM_CMP(true, a, >, b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) CRSHIM_CMP(true, a, >=, b, __VA_ARGS__)
#define cr_expect_eq(a, b, ...) CRSHIM_CMP(false, a, ==, b, __VA_ARGS__)
#define cr_expect_neq(a, b, ...) CRSHIM_CMP(false, a, !=, b, __VA_ARGS__)
#define cr_expect_lt(a, b, ...) CRSHIM_CMP(false, a, <, b, __VA_ARGS__)
#define cr_expect_leq(a, b, ...) CRSHIM_CMP(false, a, <=, b, __VA_ARGS__)
#define cr_expect_gt(a, b, ...) CRSHIM_CMP(false, a, >, b, __VA_ARGS__)
#define cr_expect_geq(a, b, ...) CRSHIM_CMP(false, a, >=, b, __VA_ARGS__)

#define cr_assert_null(p, ...) CRSHIM_CHECK(true, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_expect_null(p, ...) CRSHIM_CHECK(false, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...) \
	CRSHIM_CHECK(true, (p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_expect_not_null(p, ...) \
	CRSHIM_CHECK(false, (p) != NULL, #p " != NULL", __VA_ARGS__)

#define cr_assert_str_eq(a, b, ...) \
	CRSHIM_CHECK(true, crshim_str_eq((a), (b)), #a " equals " #b, __VA_ARGS__)
#define cr_expect_str_eq(a, b, ...) \
	CRSHIM_CHECK(false, crshim_str_eq((a), (b)), #a " equals " #b, __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...) \
	CRSHIM_CHECK(true, !crshim_str_eq((a), (b)), #a " differs from " #b, __VA_ARGS__)
#define cr_expect_str_neq(a, b, ...) \
	CRSHIM_CHECK(false, !crshim_str_eq((a), (b)), #a " differs from " #b, __VA_ARGS__)

#define cr_assert_float_eq(a, b, eps, ...) \
	CRSHIM_CHECK(true, fabs((double)(a) - (double)(b)) <= (eps), \
	             #a " == " #b " within " #eps, __VA_ARGS__)
#define cr_expect_arr_eq(a, b, n, ...) \
	CRSHIM_CHECK(false, memcmp((a), (b), (n)) == 0, #a " and " #b " hold the same bytes", \
	             __VA_ARGS__)

#define cr_log_info(...) crshim_log(__VA_ARGS__)

#endif
