/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kunit/test.h - minimal userspace KUnit for the carveout harness
 *
 * Enough of include/kunit/test.h for tests/kunit/{buddy,slab}_kunit.c to
 * build unchanged in userspace; the harness runner (main.c) walks the
 * suites and prints TAP.  ASSERTs abort the case with longjmp(), memory from
 * kunit_kzalloc() and friends is freed after each case.
 */
#ifndef _KUNIT_TEST_H
#define _KUNIT_TEST_H

#include <setjmp.h>
#include <stdarg.h>

#define KUNIT_PARAM_DESC_SIZE	128

struct kunit_shim_res;

struct kunit {
	const char *name;
	int failed;
	int skipped;
	jmp_buf abort;
	const void *param_value;
	struct kunit_shim_res *res;
};

struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
	const void *(*generate_params)(const void *prev, char *desc);
};

struct kunit_suite {
	const char name[256];
	int (*suite_init)(struct kunit_suite *suite);
	void (*suite_exit)(struct kunit_suite *suite);
	int (*init)(struct kunit *test);
	void (*exit)(struct kunit *test);
	struct kunit_case *test_cases;
};

#define KUNIT_CASE(f)			{ .run_case = f, .name = #f }
#define KUNIT_CASE_PARAM(f, gen)	{ .run_case = f, .name = #f, \
					  .generate_params = gen }
#define KUNIT_CASE_SLOW(f)		KUNIT_CASE(f)

#define KUNIT_ARRAY_PARAM(name, array, get_desc)				\
	static const void *name##_gen_params(const void *prev, char *desc)	\
	{									\
		typeof((array)[0]) *__next = prev ?				\
			((typeof(__next))prev) + 1 : (array);			\
		if (__next - (array) < (long)ARRAY_SIZE((array))) {		\
			void (*__get_desc)(typeof(__next), char *) = get_desc;	\
			if (__get_desc)						\
				__get_desc(__next, desc);			\
			return __next;						\
		}								\
		return NULL;							\
	}

void kunit_shim_fail(struct kunit *test, const char *file, int line,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void *kunit_kzalloc(struct kunit *test, size_t size, gfp_t gfp);
void kunit_shim_log(struct kunit *test, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define kunit_kcalloc(t, n, sz, gfp)	kunit_kzalloc(t, (n) * (sz), gfp)
#define kunit_kmalloc_array(t, n, sz, gfp) kunit_kzalloc(t, (n) * (sz), gfp)
#define kunit_info(t, fmt, ...)	kunit_shim_log(t, fmt, ##__VA_ARGS__)
#define kunit_err(t, fmt, ...)	kunit_shim_log(t, fmt, ##__VA_ARGS__)
#define kunit_skip(t, fmt, ...)						\
	do {								\
		kunit_shim_log(t, "SKIP " fmt, ##__VA_ARGS__);		\
		(t)->skipped = 1;					\
		longjmp((t)->abort, 1);					\
	} while (0)

/* Messages of the _MSG variants; no format attribute so "" is fine. */
void kunit_shim_msg(struct kunit *test, const char *fmt, ...);

#define __KUNIT_FAIL(t, assert, ...)					\
	do {								\
		kunit_shim_fail(t, __FILE__, __LINE__, __VA_ARGS__);	\
		if (assert)						\
			longjmp((t)->abort, 1);				\
	} while (0)

#define __KUNIT_BIN(t, assert, a, op, b, ...)				\
	do {								\
		long long __a = (long long)(a), __b = (long long)(b);	\
		if (!(__a op __b)) {					\
			kunit_shim_fail(t, __FILE__, __LINE__,		\
				"Expected %s %s %s, but %s == %lld (%#llx), %s == %lld (%#llx)", \
				#a, #op, #b, #a, __a, __a, #b, __b, __b); \
			kunit_shim_msg(t, __VA_ARGS__);			\
			if (assert)					\
				longjmp((t)->abort, 1);			\
		}							\
	} while (0)

#define __KUNIT_TRUE(t, assert, c, ...)					\
	do {								\
		if (!(c)) {						\
			kunit_shim_fail(t, __FILE__, __LINE__,		\
					"Expected %s", #c);		\
			kunit_shim_msg(t, __VA_ARGS__);			\
			if (assert)					\
				longjmp((t)->abort, 1);			\
		}							\
	} while (0)

#define KUNIT_FAIL(t, fmt, ...)	__KUNIT_FAIL(t, 0, fmt, ##__VA_ARGS__)

#define KUNIT_EXPECT_EQ(t, a, b)	__KUNIT_BIN(t, 0, a, ==, b, "")
#define KUNIT_EXPECT_NE(t, a, b)	__KUNIT_BIN(t, 0, a, !=, b, "")
#define KUNIT_EXPECT_LT(t, a, b)	__KUNIT_BIN(t, 0, a, <, b, "")
#define KUNIT_EXPECT_LE(t, a, b)	__KUNIT_BIN(t, 0, a, <=, b, "")
#define KUNIT_EXPECT_GT(t, a, b)	__KUNIT_BIN(t, 0, a, >, b, "")
#define KUNIT_EXPECT_GE(t, a, b)	__KUNIT_BIN(t, 0, a, >=, b, "")
#define KUNIT_EXPECT_TRUE(t, c)		__KUNIT_TRUE(t, 0, c, "")
#define KUNIT_EXPECT_FALSE(t, c)	__KUNIT_TRUE(t, 0, !(c), "")
#define KUNIT_EXPECT_NULL(t, p)		__KUNIT_TRUE(t, 0, (p) == NULL, "")
#define KUNIT_EXPECT_NOT_NULL(t, p)	__KUNIT_TRUE(t, 0, (p) != NULL, "")
#define KUNIT_EXPECT_PTR_EQ(t, a, b)	__KUNIT_TRUE(t, 0, (a) == (b), "")

#define KUNIT_ASSERT_EQ(t, a, b)	__KUNIT_BIN(t, 1, a, ==, b, "")
#define KUNIT_ASSERT_NE(t, a, b)	__KUNIT_BIN(t, 1, a, !=, b, "")
#define KUNIT_ASSERT_LT(t, a, b)	__KUNIT_BIN(t, 1, a, <, b, "")
#define KUNIT_ASSERT_LE(t, a, b)	__KUNIT_BIN(t, 1, a, <=, b, "")
#define KUNIT_ASSERT_GT(t, a, b)	__KUNIT_BIN(t, 1, a, >, b, "")
#define KUNIT_ASSERT_GE(t, a, b)	__KUNIT_BIN(t, 1, a, >=, b, "")
#define KUNIT_ASSERT_TRUE(t, c)		__KUNIT_TRUE(t, 1, c, "")
#define KUNIT_ASSERT_FALSE(t, c)	__KUNIT_TRUE(t, 1, !(c), "")
#define KUNIT_ASSERT_NOT_NULL(t, p)	__KUNIT_TRUE(t, 1, (p) != NULL, "")
#define KUNIT_ASSERT_NOT_ERR_OR_NULL(t, p) KUNIT_ASSERT_NOT_NULL(t, p)

#define KUNIT_EXPECT_EQ_MSG(t, a, b, fmt, ...) \
	__KUNIT_BIN(t, 0, a, ==, b, fmt, ##__VA_ARGS__)
#define KUNIT_ASSERT_EQ_MSG(t, a, b, fmt, ...) \
	__KUNIT_BIN(t, 1, a, ==, b, fmt, ##__VA_ARGS__)
#define KUNIT_EXPECT_TRUE_MSG(t, c, fmt, ...) \
	__KUNIT_TRUE(t, 0, c, fmt, ##__VA_ARGS__)
#define KUNIT_ASSERT_TRUE_MSG(t, c, fmt, ...) \
	__KUNIT_TRUE(t, 1, c, fmt, ##__VA_ARGS__)

#endif /* _KUNIT_TEST_H */
