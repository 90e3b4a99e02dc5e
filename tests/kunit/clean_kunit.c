// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the buddy allocator's clean pages (suite
 * carveout_buddy_clean, module/co_buddy_clean.c): which free pages are known
 * to hold zeros, how zeroing steps pick them, and that no allocation ever
 * reports a page clean that was handed out since it was last zeroed.
 *
 * Arenas use fake PFNs, as in buddy_kunit.c: zeroing "steps" here only call
 * co_buddy_zero_begin()/co_buddy_zero_end(), nothing is written.  The same
 * file builds in the userspace harness (tests/harness).
 */
#include <kunit/test.h>

#include "../../module/co_buddy.h"

#define CLEAN_START	0x100000UL

static struct co_buddy *clean_arena(struct kunit *test, unsigned long nr)
{
	struct co_buddy *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_EQ(test, co_buddy_init(b, CLEAN_START, nr), 0);
	return b;
}

/* Zero steps of at most 2^@order pages until nothing is dirty; steps run. */
static unsigned int clean_all(struct kunit *test, struct co_buddy *b,
			      unsigned int order)
{
	unsigned long pfn, nr;
	unsigned int steps = 0;

	while (!co_buddy_zero_begin(b, order, &pfn, &nr)) {
		KUNIT_EXPECT_LE(test, nr, 1UL << order);
		KUNIT_EXPECT_TRUE(test, co_buddy_contains(b, pfn));
		co_buddy_zero_end(b);
		KUNIT_ASSERT_LT(test, ++steps, 100000U);
	}
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	return steps;
}

/* A new arena is dirty; zeroing steps make all of it clean. */
static void clean_test_fresh(struct kunit *test)
{
	struct co_buddy *b = clean_arena(test, 1024);
	unsigned long pfn;
	bool clean = true;

	KUNIT_EXPECT_EQ(test, co_buddy_clean_pages(b), 0UL);
	KUNIT_EXPECT_EQ(test, co_buddy_dirty_pages(b), 1024UL);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc_clean(b, 16, 0, 0, &pfn, &clean), 0);
	KUNIT_EXPECT_FALSE(test, clean);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 16), 0);

	/* 1024 pages in steps of 16: 64 steps, then nothing is left. */
	KUNIT_EXPECT_EQ(test, clean_all(test, b, 4), 64U);
	KUNIT_EXPECT_EQ(test, co_buddy_clean_pages(b), 1024UL);
	KUNIT_EXPECT_EQ(test, co_buddy_dirty_pages(b), 0UL);
	co_buddy_destroy(b);
}

/* Clean pages are handed out as clean once, then are dirty when freed. */
static void clean_test_alloc_clears(struct kunit *test)
{
	struct co_buddy *b = clean_arena(test, 256);
	unsigned long pfn, pfn2;
	bool clean = false;

	clean_all(test, b, 8);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc_clean(b, 256, 0, 0, &pfn, &clean), 0);
	KUNIT_EXPECT_TRUE(test, clean);
	KUNIT_EXPECT_EQ(test, co_buddy_clean_pages(b), 0UL);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 256), 0);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc_clean(b, 256, 0, 0, &pfn, &clean), 0);
	KUNIT_EXPECT_FALSE(test, clean);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 256), 0);

	/* The plain allocation clears the bits too (slab pages take it). */
	clean_all(test, b, 8);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 1, 0, 0, &pfn), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_clean_pages(b), 255UL);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 1), 0);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc_clean(b, 2, 0, 0, &pfn2, &clean), 0);
	KUNIT_EXPECT_EQ(test, pfn2, pfn);
	KUNIT_EXPECT_FALSE(test, clean);	/* one page of two was used */
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn2, 2), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	co_buddy_destroy(b);
}

/* Of two free blocks of the order, the clean one is taken. */
static void clean_test_prefers_clean(struct kunit *test)
{
	struct co_buddy *b = clean_arena(test, 16);
	unsigned long p[4], e;
	bool clean;
	int i;

	clean_all(test, b, 4);
	for (i = 0; i < 4; i++) {
		KUNIT_ASSERT_EQ(test, co_buddy_alloc_clean(b, 4, 0, 0, &p[i], &clean), 0);
		KUNIT_EXPECT_TRUE(test, clean);
		KUNIT_EXPECT_EQ(test, p[i], CLEAN_START + 4 * i);
	}
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, p[0], 4), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, p[2], 4), 0);
	clean_all(test, b, 4);
	/* Dirty the lower block again: pages 0..3 used and freed. */
	KUNIT_ASSERT_EQ(test, co_buddy_alloc_clean(b, 4, 0, 0, &e, &clean), 0);
	KUNIT_EXPECT_EQ(test, e, CLEAN_START);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, e, 4), 0);

	KUNIT_ASSERT_EQ(test, co_buddy_alloc_clean(b, 4, 0, 0, &e, &clean), 0);
	KUNIT_EXPECT_EQ(test, e, CLEAN_START + 8);
	KUNIT_EXPECT_TRUE(test, clean);
	/* Only the dirty one is left: taken, and said to be dirty. */
	KUNIT_ASSERT_EQ(test, co_buddy_alloc_clean(b, 4, 0, 0, &p[0], &clean), 0);
	KUNIT_EXPECT_EQ(test, p[0], CLEAN_START);
	KUNIT_EXPECT_FALSE(test, clean);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	co_buddy_free(b, p[0], 4);
	co_buddy_free(b, e, 4);
	co_buddy_free(b, p[1], 4);
	co_buddy_free(b, p[3], 4);
	co_buddy_destroy(b);
}

/*
 * A step covers free pages only, leaves the free lists alone, and marks
 * clean only what is still free when it ends.
 */
static void clean_test_step(struct kunit *test)
{
	struct co_buddy *b = clean_arena(test, 32);
	struct co_buddy_stats *before, *after;
	unsigned long x, pfn, nr, p2;

	before = kunit_kzalloc(test, sizeof(*before), GFP_KERNEL);
	after = kunit_kzalloc(test, sizeof(*after), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	KUNIT_ASSERT_NOT_NULL(test, after);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 16, 0, 0, &x), 0);
	co_buddy_get_stats(b, before);
	KUNIT_ASSERT_EQ(test, co_buddy_zero_begin(b, 2, &pfn, &nr), 0);
	KUNIT_EXPECT_EQ(test, pfn, CLEAN_START + 16);
	KUNIT_EXPECT_EQ(test, nr, 4UL);
	KUNIT_EXPECT_EQ(test, co_buddy_zero_begin(b, 2, &p2, &nr), -EBUSY);
	co_buddy_get_stats(b, after);
	KUNIT_EXPECT_EQ(test, after->free_pages, before->free_pages);
	KUNIT_EXPECT_EQ(test, after->largest_free_pages,
			before->largest_free_pages);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	/* Frees during a step are fine: they are not in its range. */
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, x, 16), 0);
	co_buddy_zero_end(b);
	KUNIT_EXPECT_EQ(test, co_buddy_clean_pages(b), 4UL);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	/* The next step goes on after the last one, then wraps around. */
	KUNIT_ASSERT_EQ(test, co_buddy_zero_begin(b, 2, &pfn, &nr), 0);
	KUNIT_EXPECT_EQ(test, pfn, CLEAN_START + 20);
	co_buddy_zero_end(b);
	KUNIT_EXPECT_EQ(test, clean_all(test, b, 2), 6U);
	KUNIT_EXPECT_EQ(test, co_buddy_clean_pages(b), 32UL);
	KUNIT_EXPECT_EQ(test, co_buddy_zero_begin(b, 2, &pfn, &nr), -ENOENT);
	co_buddy_destroy(b);
}

/*
 * Random allocations, frees and zeroing steps against a shadow of what each
 * page holds: an allocation said to be clean must only get pages that were
 * zeroed after their last allocation.
 */
static void clean_test_random(struct kunit *test)
{
	enum { NR = 512, LIVE = 64 };
	struct clean_live { unsigned long pfn, nr; } *live;
	bool *zeroed = kunit_kcalloc(test, NR, sizeof(bool), GFP_KERNEL);
	struct co_buddy *b = clean_arena(test, NR);
	unsigned long pfn, nr, i, k;
	u64 x = 0x9e3779b97f4a7c15ULL;
	unsigned int step, said_clean = 0;
	bool clean;

	live = kunit_kcalloc(test, LIVE, sizeof(*live), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, zeroed);
	KUNIT_ASSERT_NOT_NULL(test, live);
	for (step = 0; step < 20000; step++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = x % LIVE;
		if ((x >> 20) % 3 == 0) {
			if (co_buddy_zero_begin(b, (x >> 30) % 5, &pfn, &nr))
				continue;
			for (i = 0; i < nr; i++)
				zeroed[pfn - CLEAN_START + i] = true;
			co_buddy_zero_end(b);
		} else if (live[k].nr) {
			KUNIT_ASSERT_EQ(test, co_buddy_free(b, live[k].pfn,
							    live[k].nr), 0);
			live[k].nr = 0;
		} else {
			nr = 1 + (x >> 40) % 40;
			if (co_buddy_alloc_clean(b, nr, 0, 0, &pfn, &clean))
				continue;
			for (i = 0; i < nr; i++) {
				bool *z = &zeroed[pfn - CLEAN_START + i];

				if (clean)
					KUNIT_ASSERT_TRUE(test, *z);
				*z = false;
			}
			said_clean += clean;
			live[k].pfn = pfn;
			live[k].nr = nr;
		}
		if (!(step % 1000))
			KUNIT_ASSERT_EQ(test, co_buddy_check(b), 0);
	}
	/* The test means something only if both kinds were handed out. */
	KUNIT_EXPECT_GT(test, said_clean, 100U);
	for (k = 0; k < LIVE; k++)
		if (live[k].nr)
			co_buddy_free(b, live[k].pfn, live[k].nr);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	co_buddy_destroy(b);
}

static struct kunit_case clean_cases[] = {
	KUNIT_CASE(clean_test_fresh),
	KUNIT_CASE(clean_test_alloc_clears),
	KUNIT_CASE(clean_test_prefers_clean),
	KUNIT_CASE(clean_test_step),
	KUNIT_CASE(clean_test_random),
	{}
};

struct kunit_suite carveout_buddy_clean_suite = {
	.name = "carveout_buddy_clean",
	.test_cases = clean_cases,
};
