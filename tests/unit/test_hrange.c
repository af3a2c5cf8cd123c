/*
 * test_hrange.c: one byte range against a representation (lib/hrange.c,
 * RFC 9110 14.1.2 and 14.2).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "hrange.h"

static enum hrange_res
judge(const char *v, uint64_t size, uint64_t *off, uint64_t *len)
{
	*off = 999;
	*len = 999;
	return hrange_parse(v, strlen(v), size, off, len);
}

#define OK(v, size, o, l) do { \
	uint64_t off_, len_; \
	cr_assert_eq(judge(v, size, &off_, &len_), HRANGE_OK, "'%s' of %llu", v, \
	             (unsigned long long)(size)); \
	cr_assert_eq(off_, (uint64_t)(o), "'%s': offset %llu", v, (unsigned long long)off_); \
	cr_assert_eq(len_, (uint64_t)(l), "'%s': length %llu", v, (unsigned long long)len_); \
} while (0)

#define IS(v, size, res) do { \
	uint64_t off_, len_; \
	cr_assert_eq(judge(v, size, &off_, &len_), res, "'%s' of %llu", v, \
	             (unsigned long long)(size)); \
} while (0)

Test(hrange, first_last)
{
	OK("bytes=0-0", 10, 0, 1);
	OK("bytes=0-9", 10, 0, 10);
	OK("bytes=2-5", 10, 2, 4);
	OK("bytes=9-9", 10, 9, 1);
	/* a last position past the end is cut to the end (RFC 9110 14.1.2) */
	OK("bytes=5-1000", 10, 5, 5);
	OK("bytes=0-18446744073", 10, 0, 10);
}

Test(hrange, open_ended_and_suffix)
{
	OK("bytes=3-", 10, 3, 7);
	OK("bytes=-3", 10, 7, 3);
	OK("bytes=-10", 10, 0, 10);
	OK("bytes=-99", 10, 0, 10); /* a suffix longer than the body: all of it */
}

Test(hrange, spelling)
{
	OK("BYTES=1-2", 10, 1, 2);  /* the unit is case-insensitive */
	OK("Bytes= 1-2 ", 10, 1, 2); /* OWS around the range */
	OK("bytes=\t1-2\t", 10, 1, 2);
	OK("bytes=007-008", 10, 7, 2);
}

Test(hrange, unsatisfiable)
{
	IS("bytes=10-", 10, HRANGE_UNSATISFIABLE);
	IS("bytes=10-20", 10, HRANGE_UNSATISFIABLE);
	IS("bytes=-0", 10, HRANGE_UNSATISFIABLE);
	IS("bytes=0-0", 0, HRANGE_UNSATISFIABLE);
	IS("bytes=-5", 0, HRANGE_UNSATISFIABLE);
}

Test(hrange, ignored)
{
	IS("", 10, HRANGE_IGNORE);
	IS("bytes=", 10, HRANGE_IGNORE);
	IS("bytes=-", 10, HRANGE_IGNORE);
	IS("bytes=a-b", 10, HRANGE_IGNORE);
	IS("bytes=5-2", 10, HRANGE_IGNORE);     /* last before first: invalid */
	IS("bytes=1-2,4-5", 10, HRANGE_IGNORE); /* several ranges: the whole body */
	IS("bytes=1-2,", 10, HRANGE_IGNORE);
	IS("bytes=1--2", 10, HRANGE_IGNORE);
	IS("bytes=+1-2", 10, HRANGE_IGNORE);
	IS("bytes=1 -2", 10, HRANGE_IGNORE);
	IS("items=1-2", 10, HRANGE_IGNORE);     /* another unit */
	IS("bytes 1-2", 10, HRANGE_IGNORE);
	IS("bytes=1234567890123456789-", 10, HRANGE_IGNORE); /* 19 digits */
	IS("bytes=-1234567890123456789", 10, HRANGE_IGNORE);
}

Test(hrange, not_nul_terminated)
{
	char v[] = "bytes=1-2XXXX";
	uint64_t off, len;

	/* only the given length is read */
	cr_assert_eq(hrange_parse(v, 9, 10, &off, &len), HRANGE_OK);
	cr_assert_eq(off, 1);
	cr_assert_eq(len, 2);
	cr_assert_eq(hrange_parse(v, 10, 10, &off, &len), HRANGE_IGNORE);
}
