// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the carveout buddy allocator (suite carveout_buddy).
 *
 * Arenas use fake PFNs: the allocator never touches the pages, so a test can
 * manage e.g. 0x100000.. without owning that memory.  The same file builds
 * in the userspace harness (tests/harness) against a minimal KUnit shim.
 * carveout_buddy_suite is registered by tests/kunit/main_kunit.c.
 */
#include <kunit/test.h>

#include "../../module/co_buddy.h"

struct buddy_arena_param {
	unsigned long start;
	unsigned long nr;
	const char *desc;
};

/* Odd sizes and starts: unaligned both ends, tiny, one page, power of 2. */
static const struct buddy_arena_param buddy_arenas[] = {
	{ 0x100000, 1024, "aligned 1024" },
	{ 0x100000, 1, "one page" },
	{ 0x100001, 3, "three odd" },
	{ 0x100003, 1000, "odd start 1000" },
	{ 0x1007ff, 4097, "start 0x7ff mod 2k, 4097" },
	{ 0x0, 777, "pfn 0, 777" },
	{ 0x12345, 2049, "0x12345 + 2049" },
	{ 0xfffff, 513, "straddles 0x100000" },
};

static void buddy_arena_desc(const struct buddy_arena_param *p, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", p->desc);
}

KUNIT_ARRAY_PARAM(buddy_arena, buddy_arenas, buddy_arena_desc);

/* Deterministic PRNG (xorshift64*), identical in kernel and harness. */
static u64 buddy_rand(u64 *state)
{
	u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static struct co_buddy *buddy_new(struct kunit *test, unsigned long start,
				  unsigned long nr)
{
	struct co_buddy *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_EQ(test, co_buddy_init(b, start, nr), 0);
	KUNIT_ASSERT_EQ(test, co_buddy_check(b), 0);
	return b;
}

/* Number of maximal aligned blocks (the seeding) of [start, start + nr). */
static unsigned long buddy_nr_seeds(struct co_buddy *b)
{
	unsigned long pfn = b->start_pfn, n = 0;

	while (pfn < b->end_pfn) {
		unsigned int order = ilog2(b->end_pfn - pfn);

		if (pfn)
			order = min_t(unsigned int, order, __ffs(pfn));
		order = min(order, co_buddy_max_order(b));
		pfn += 1UL << order;
		n++;
	}
	return n;
}

static unsigned long buddy_nr_free_blocks(struct co_buddy *b)
{
	struct co_buddy_stats st;
	unsigned long n = 0;
	unsigned int o;

	co_buddy_get_stats(b, &st);
	for (o = 0; o < CO_BUDDY_NR_ORDERS; o++)
		n += st.nr_free[o];
	return n;
}

/* Fully free and fully coalesced: exactly the seeding blocks. */
static void buddy_expect_pristine(struct kunit *test, struct co_buddy *b)
{
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free_pages(b), b->nr_pages);
	KUNIT_EXPECT_EQ(test, buddy_nr_free_blocks(b), buddy_nr_seeds(b));
}

struct buddy_walk {
	unsigned long next;
	unsigned long pages;
	unsigned long blocks;
	unsigned long stop_after;
	bool bad;
};

static int buddy_walk_fn(unsigned long pfn, unsigned int order, void *priv)
{
	struct buddy_walk *w = priv;

	if (pfn < w->next || (pfn & ((1UL << order) - 1)))
		w->bad = true;
	w->next = pfn + (1UL << order);
	w->pages += 1UL << order;
	w->blocks++;
	return w->stop_after && w->blocks >= w->stop_after;
}

static void buddy_test_init_geometry(struct kunit *test)
{
	const struct buddy_arena_param *p = test->param_value;
	struct co_buddy *b = buddy_new(test, p->start, p->nr);
	struct buddy_walk w = { .next = p->start };
	unsigned int order = co_buddy_max_order(b);
	unsigned long first;

	KUNIT_EXPECT_EQ(test, co_buddy_free_pages(b), p->nr);
	/* max order: a block of it fits, none of the next order does */
	first = ALIGN(p->start, 1UL << order);
	KUNIT_EXPECT_LE(test, first + (1UL << order), p->start + p->nr);
	first = ALIGN(p->start, 2UL << order);
	KUNIT_EXPECT_GT(test, first + (2UL << order), p->start + p->nr);

	KUNIT_EXPECT_EQ(test, co_buddy_walk_free(b, buddy_walk_fn, &w), 0);
	KUNIT_EXPECT_FALSE(test, w.bad);
	KUNIT_EXPECT_EQ(test, w.pages, p->nr);
	KUNIT_EXPECT_EQ(test, w.blocks, buddy_nr_seeds(b));
	KUNIT_EXPECT_TRUE(test, co_buddy_contains(b, p->start));
	KUNIT_EXPECT_TRUE(test, co_buddy_contains(b, p->start + p->nr - 1));
	KUNIT_EXPECT_FALSE(test, co_buddy_contains(b, p->start + p->nr));
	if (p->start)
		KUNIT_EXPECT_FALSE(test, co_buddy_contains(b, p->start - 1));
	/* metadata budget: 0.2% of the arena (fixed part dominates below) */
	if (p->nr >= 1024)
		KUNIT_EXPECT_LE(test, co_buddy_metadata_bytes(b) * 500,
				p->nr * PAGE_SIZE);
	co_buddy_destroy(b);
}

static void buddy_test_init_invalid(struct kunit *test)
{
	struct co_buddy *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, co_buddy_init(b, 0x1000, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, co_buddy_init(b, 0, 1UL << CO_BUDDY_NR_ORDERS),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, co_buddy_init(b, ULONG_MAX - 4, 8), -EINVAL);
	/* destroy after a failed init (or twice) does nothing */
	co_buddy_destroy(b);
	KUNIT_ASSERT_EQ(test, co_buddy_init(b, 0x1000, 10), 0);
	co_buddy_destroy(b);
	co_buddy_destroy(b);
}

/* 1 GiB arena: one 512 MiB block, beyond MAX_PAGE_ORDER. */
static void buddy_test_large_orders(struct kunit *test)
{
	unsigned long nr = (1UL << 30) / PAGE_SIZE, pfn, pfn2;
	struct co_buddy *b = buddy_new(test, 0x400000, nr);

	KUNIT_EXPECT_EQ(test, co_buddy_max_order(b), ilog2(nr));
	KUNIT_EXPECT_LE(test, co_buddy_metadata_bytes(b) * 500, nr * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, nr / 2, 0, 0, &pfn), 0);
	KUNIT_EXPECT_EQ(test, pfn, 0x400000);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, nr / 2, nr / 2, 0, &pfn2), 0);
	KUNIT_EXPECT_EQ(test, pfn2, 0x400000 + nr / 2);
	KUNIT_EXPECT_EQ(test, co_buddy_free_pages(b), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_alloc(b, 1, 0, 0, &pfn2), -ENOMEM);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, nr / 2), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, 0x400000 + nr / 2, nr / 2), 0);
	buddy_expect_pristine(test, b);
	co_buddy_destroy(b);
}

static void buddy_test_split_coalesce(struct kunit *test)
{
	struct co_buddy *b = buddy_new(test, 0x100000, 1024);
	struct co_buddy_stats st;
	unsigned long pfn, pfn2;
	unsigned int o;

	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 1, 0, 0, &pfn), 0);
	KUNIT_EXPECT_EQ(test, pfn, 0x100000);
	co_buddy_get_stats(b, &st);
	for (o = 0; o < 10; o++)
		KUNIT_EXPECT_EQ(test, st.nr_free[o], 1);
	KUNIT_EXPECT_EQ(test, st.nr_free[10], 0);
	KUNIT_EXPECT_EQ(test, st.largest_free_order, 9);

	/* the order-0 buddy is taken next (lowest address, best fit) */
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 1, 0, 0, &pfn2), 0);
	KUNIT_EXPECT_EQ(test, pfn2, 0x100001);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);

	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 1), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn2, 1), 0);
	co_buddy_get_stats(b, &st);
	KUNIT_EXPECT_EQ(test, st.nr_free[10], 1);
	KUNIT_EXPECT_EQ(test, st.largest_free_pages, 1024);
	buddy_expect_pristine(test, b);
	co_buddy_destroy(b);
}

static void buddy_test_exhaust_recover(struct kunit *test)
{
	const struct buddy_arena_param *p = test->param_value;
	struct co_buddy *b = buddy_new(test, p->start, p->nr);
	unsigned long *pfns, i, n = 0, pfn;
	u64 seed = 42;

	pfns = kunit_kcalloc(test, p->nr, sizeof(*pfns), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pfns);
	while (!co_buddy_alloc(b, 1, 0, 0, &pfn)) {
		KUNIT_ASSERT_LT(test, n, p->nr);
		KUNIT_EXPECT_TRUE(test, co_buddy_contains(b, pfn));
		pfns[n++] = pfn;
	}
	KUNIT_EXPECT_EQ(test, n, p->nr);
	KUNIT_EXPECT_EQ(test, co_buddy_free_pages(b), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);

	/* free in random order; the arena must coalesce completely */
	for (i = n; i > 1; i--) {
		unsigned long j = buddy_rand(&seed) % i, t = pfns[i - 1];

		pfns[i - 1] = pfns[j];
		pfns[j] = t;
	}
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_EQ(test, co_buddy_free(b, pfns[i], 1), 0);
		if (i % 64 == 0)
			KUNIT_ASSERT_EQ(test, co_buddy_check(b), 0);
	}
	buddy_expect_pristine(test, b);

	/* and the largest block is available again */
	KUNIT_EXPECT_EQ(test, co_buddy_alloc(b, 1UL << co_buddy_max_order(b),
					     0, 0, &pfn), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn,
					    1UL << co_buddy_max_order(b)), 0);
	co_buddy_destroy(b);
}

static void buddy_test_exact_sizes(struct kunit *test)
{
	struct co_buddy *b = buddy_new(test, 0x100003, 3000);
	unsigned long pfn[48], n, free = 3000;
	struct co_buddy_stats *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, st);
	for (n = 1; n < ARRAY_SIZE(pfn); n++) {
		KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, n, 0, 0, &pfn[n]), 0);
		free -= n;
		KUNIT_EXPECT_EQ(test, co_buddy_free_pages(b), free);
	}
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	co_buddy_get_stats(b, st);
	KUNIT_EXPECT_EQ(test, st->requested_bytes, st->granted_bytes);
	KUNIT_EXPECT_EQ(test, st->nr_allocs, ARRAY_SIZE(pfn) - 1);
	for (n = 3; n < ARRAY_SIZE(pfn); n += 2) {
		KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn[n], n + 1), -EINVAL);
		KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn[n], n - 1), -EINVAL);
		KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn[n], n), 0);
	}
	for (n = 2; n < ARRAY_SIZE(pfn); n += 2)
		KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn[n], n), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn[1], 1), 0);
	buddy_expect_pristine(test, b);

	/* byte sizes: waste < 1 page per allocation */
	KUNIT_ASSERT_EQ(test, co_buddy_alloc_bytes(b, 5000, 0, 0, &pfn[0]), 0);
	co_buddy_get_stats(b, st);
	KUNIT_EXPECT_EQ(test, st->requested_bytes, 5000);
	KUNIT_EXPECT_EQ(test, st->granted_bytes, 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free_bytes(b, pfn[0], 5000), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_alloc_bytes(b, 0, 0, 0, &pfn[0]),
			-EINVAL);
	buddy_expect_pristine(test, b);
	co_buddy_destroy(b);
}

static void buddy_test_alignment(struct kunit *test)
{
	const struct buddy_arena_param *p = test->param_value;
	struct co_buddy *b = buddy_new(test, p->start, p->nr);
	unsigned long align, pfn, free = p->nr;
	unsigned int max = co_buddy_max_order(b);

	KUNIT_EXPECT_EQ(test, co_buddy_alloc(b, 1, 3, 0, &pfn), -EINVAL);
	KUNIT_EXPECT_EQ(test, co_buddy_alloc(b, 1, 12, 0, &pfn), -EINVAL);
	KUNIT_EXPECT_EQ(test, co_buddy_alloc(b, 1, 2UL << max, 0, &pfn),
			-ENOMEM);
	for (align = 1; align <= (1UL << max); align <<= 1) {
		if (co_buddy_alloc(b, 1, align, 0, &pfn))
			break;
		KUNIT_EXPECT_EQ(test, pfn % align, 0);
		/* alignment does not cost pages: the rest stays free */
		free--;
		KUNIT_EXPECT_EQ(test, co_buddy_free_pages(b), free);
		KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	}
	/* the first (largest-order) allocations always succeed */
	KUNIT_EXPECT_GT(test, align, 1UL << (max / 2));
	/* release everything by walking the in-use heads */
	for (pfn = b->start_pfn; pfn < b->end_pfn; pfn++)
		if (co_buddy_is_allocation(b, pfn, 1))
			KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 1), 0);
	buddy_expect_pristine(test, b);

	/* 2 MiB aligned 3 MiB buffer, as the module asks for huge pages */
	if (max >= 10) {
		KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 768, 512, 0, &pfn), 0);
		KUNIT_EXPECT_EQ(test, pfn % 512, 0);
		KUNIT_EXPECT_EQ(test, co_buddy_free_pages(b), p->nr - 768);
		KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 768), 0);
	}
	buddy_expect_pristine(test, b);
	co_buddy_destroy(b);
}

static void buddy_test_limit(struct kunit *test)
{
	unsigned long start = 0x100005, nr = 1500, limit = start + 200;
	struct co_buddy *b = buddy_new(test, start, nr);
	unsigned long pfn, used = 0;

	KUNIT_EXPECT_EQ(test, co_buddy_alloc(b, 1, 0, start, &pfn), -ENOMEM);
	KUNIT_EXPECT_EQ(test, co_buddy_alloc(b, 1, 0, start - 5, &pfn),
			-ENOMEM);
	KUNIT_EXPECT_EQ(test, co_buddy_alloc(b, 4, 0, start + 3, &pfn),
			-ENOMEM);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 1, 0, start + 1, &pfn), 0);
	KUNIT_EXPECT_EQ(test, pfn, start);
	used++;
	/* fill everything below the limit with 3-page buffers */
	while (!co_buddy_alloc(b, 3, 0, limit, &pfn)) {
		KUNIT_EXPECT_LE(test, pfn + 3, limit);
		used += 3;
	}
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	/* each 3-page buffer leaves at most its 1-page tail below the limit */
	KUNIT_EXPECT_GE(test, used * 4 / 3 + 8, limit - start);
	/* without a limit (or a limit past the end) there is plenty */
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 3, 0, 0, &pfn), 0);
	KUNIT_EXPECT_GE(test, pfn, limit - 3);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 3), 0);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 3, 0, ULONG_MAX, &pfn), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 3), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	for (pfn = start; pfn < start + nr; pfn++) {
		if (co_buddy_is_allocation(b, pfn, 1))
			KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 1), 0);
		else if (co_buddy_is_allocation(b, pfn, 3))
			KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 3), 0);
	}
	buddy_expect_pristine(test, b);
	co_buddy_destroy(b);
}

static void buddy_expect_invalid(struct kunit *test, struct co_buddy *b,
				 unsigned long pfn, unsigned long nr)
{
	struct co_buddy_stats *before, *after;

	before = kunit_kzalloc(test, sizeof(*before), GFP_KERNEL);
	after = kunit_kzalloc(test, sizeof(*after), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	KUNIT_ASSERT_NOT_NULL(test, after);
	co_buddy_get_stats(b, before);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, nr), -EINVAL);
	co_buddy_get_stats(b, after);
	KUNIT_EXPECT_EQ(test, after->nr_invalid, before->nr_invalid + 1);
	KUNIT_EXPECT_EQ(test, after->free_pages, before->free_pages);
	KUNIT_EXPECT_EQ(test, after->nr_allocs, before->nr_allocs);
	KUNIT_EXPECT_EQ(test, after->requested_bytes, before->requested_bytes);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
}

static void buddy_test_invalid_free(struct kunit *test)
{
	unsigned long start = 0x100001, nr = 700, a, c, d;
	struct co_buddy *b = buddy_new(test, start, nr);

	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 5, 0, 0, &a), 0);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 8, 0, 0, &c), 0);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 1, 0, 0, &d), 0);

	buddy_expect_invalid(test, b, a + 5, 1);	/* never allocated */
	buddy_expect_invalid(test, b, a + 1, 4);	/* middle */
	buddy_expect_invalid(test, b, a, 4);		/* too small */
	buddy_expect_invalid(test, b, a, 6);		/* too big */
	buddy_expect_invalid(test, b, c, 9);		/* spans into next */
	buddy_expect_invalid(test, b, a, 0);		/* zero */
	buddy_expect_invalid(test, b, start - 1, 1);	/* below */
	buddy_expect_invalid(test, b, start + nr, 1);	/* above */
	buddy_expect_invalid(test, b, start + nr - 1, 2);	/* past end */
	buddy_expect_invalid(test, b, start, ULONG_MAX);	/* wraps */
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, c, 8), 0);
	buddy_expect_invalid(test, b, c, 8);		/* double free */
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, a, 5), 0);
	buddy_expect_invalid(test, b, a, 5);		/* double free */
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, d, 1), 0);
	buddy_expect_invalid(test, b, d, 1);
	buddy_expect_pristine(test, b);
	co_buddy_destroy(b);
}

static void buddy_test_stats(struct kunit *test)
{
	struct co_buddy *b = buddy_new(test, 0x100000, 1024);
	struct co_buddy_stats st;
	unsigned long pfn, x;

	co_buddy_get_stats(b, &st);
	KUNIT_EXPECT_EQ(test, st.unusable_index[0], 0);
	KUNIT_EXPECT_EQ(test, st.unusable_index[10], 0);
	KUNIT_EXPECT_EQ(test, st.unusable_index[11], 1000);
	KUNIT_EXPECT_EQ(test, st.nr_alloc_ok, 0);

	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 1, 0, 0, &pfn), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_alloc(b, 2048, 0, 0, &x), -ENOMEM);
	co_buddy_get_stats(b, &st);
	KUNIT_EXPECT_EQ(test, st.free_pages, 1023);
	/* free blocks of orders 0..9, one each */
	KUNIT_EXPECT_EQ(test, st.unusable_index[0], 0);
	KUNIT_EXPECT_EQ(test, st.unusable_index[9], (1023 - 512) * 1000 / 1023);
	KUNIT_EXPECT_EQ(test, st.unusable_index[10], 1000);
	KUNIT_EXPECT_EQ(test, st.largest_free_order, 9);
	KUNIT_EXPECT_EQ(test, st.nr_alloc_ok, 1);
	KUNIT_EXPECT_EQ(test, st.nr_fail, 1);
	KUNIT_EXPECT_EQ(test, st.nr_allocs, 1);
	KUNIT_EXPECT_EQ(test, st.granted_bytes, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, st.metadata_bytes, co_buddy_metadata_bytes(b));

	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 1023, 0, 0, &x), -ENOMEM);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 512, 0, 0, &x), 0);
	co_buddy_get_stats(b, &st);
	KUNIT_EXPECT_EQ(test, st.free_pages, 511);
	KUNIT_EXPECT_EQ(test, st.largest_free_pages, 256);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, x, 512), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 1), 0);
	co_buddy_get_stats(b, &st);
	KUNIT_EXPECT_EQ(test, st.nr_free_ok, 2);
	KUNIT_EXPECT_EQ(test, st.nr_allocs, 0);
	KUNIT_EXPECT_EQ(test, st.requested_bytes, 0);
	KUNIT_EXPECT_EQ(test, st.granted_bytes, 0);

	/* nothing free: everything unusable */
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 1024, 0, 0, &x), 0);
	co_buddy_get_stats(b, &st);
	KUNIT_EXPECT_EQ(test, st.unusable_index[0], 1000);
	KUNIT_EXPECT_EQ(test, st.largest_free_order, -1);
	KUNIT_EXPECT_EQ(test, st.largest_free_pages, 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, x, 1024), 0);
	buddy_expect_pristine(test, b);
	co_buddy_destroy(b);
}

static void buddy_test_walker(struct kunit *test)
{
	struct co_buddy *b = buddy_new(test, 0x100003, 1000);
	struct buddy_walk w = { .next = 0x100003 };
	unsigned long pfn;
	int i;

	for (i = 0; i < 20; i++)
		KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 1 + i % 5, 0, 0, &pfn),
				0);
	KUNIT_EXPECT_EQ(test, co_buddy_walk_free(b, buddy_walk_fn, &w), 0);
	KUNIT_EXPECT_FALSE(test, w.bad);
	KUNIT_EXPECT_EQ(test, w.pages, co_buddy_free_pages(b));
	KUNIT_EXPECT_EQ(test, w.blocks, buddy_nr_free_blocks(b));

	memset(&w, 0, sizeof(w));
	w.next = 0x100003;
	w.stop_after = 3;
	KUNIT_EXPECT_EQ(test, co_buddy_walk_free(b, buddy_walk_fn, &w), 1);
	KUNIT_EXPECT_EQ(test, w.blocks, 3);
	for (pfn = b->start_pfn; pfn < b->end_pfn; pfn++)
		for (i = 1; i <= 5; i++)
			if (co_buddy_is_allocation(b, pfn, i))
				KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, i),
						0);
	buddy_expect_pristine(test, b);
	co_buddy_destroy(b);
}

/*
 * A walk resumed page by page, from block ends and from inside blocks,
 * reports each free block once: the cursor of FREEMAP.
 */
static void buddy_test_walker_resume(struct kunit *test)
{
	struct co_buddy *b = buddy_new(test, 0x100003, 1000);
	struct buddy_walk all = { .next = 0x100003 }, w = { };
	unsigned long pfn, from;
	int i;

	for (i = 0; i < 20; i++)
		KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 1 + i % 5, 0, 0, &pfn),
				0);
	KUNIT_ASSERT_EQ(test, co_buddy_walk_free(b, buddy_walk_fn, &all), 0);

	/* One block per call, resumed at the end of the last one. */
	w.next = 0x100003;
	for (from = b->start_pfn; from < b->end_pfn; from = w.next) {
		w.stop_after = w.blocks + 1;
		if (!co_buddy_walk_free_from(b, from, buddy_walk_fn, &w))
			break;
	}
	KUNIT_EXPECT_FALSE(test, w.bad);
	KUNIT_EXPECT_EQ(test, w.blocks, all.blocks);
	KUNIT_EXPECT_EQ(test, w.pages, all.pages);

	/* From inside a free block: that block is skipped, not split. */
	for (pfn = b->start_pfn; pfn < b->end_pfn; pfn++) {
		struct buddy_walk one = { .next = pfn, .stop_after = 1 };

		co_buddy_walk_free_from(b, pfn, buddy_walk_fn, &one);
		KUNIT_EXPECT_FALSE(test, one.bad);
	}
	for (pfn = b->start_pfn; pfn < b->end_pfn; pfn++)
		for (i = 1; i <= 5; i++)
			if (co_buddy_is_allocation(b, pfn, i))
				KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, i),
						0);
	buddy_expect_pristine(test, b);
	co_buddy_destroy(b);
}

/* The checker notices corruption of each kind of metadata. */
static void buddy_test_checker(struct kunit *test)
{
	struct co_buddy *b = buddy_new(test, 0x100001, 300);
	unsigned long pfn, save;

	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 3, 0, 0, &pfn), 0);
	KUNIT_ASSERT_EQ(test, co_buddy_check(b), 0);

	save = b->inuse[0];
	b->inuse[0] ^= 1UL << 10;	/* a free page marked in use */
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), -EUCLEAN);
	b->inuse[0] = save;

	save = b->head[0];
	b->head[0] ^= 1UL << (pfn + 1 - b->start_pfn);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), -EUCLEAN);
	b->head[0] = save;

	save = b->area[0].map[0][0];
	b->area[0].map[0][0] ^= 1UL << 40;	/* stray free bit */
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), -EUCLEAN);
	b->area[0].map[0][0] = save;

	b->area[1].nr_free++;
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), -EUCLEAN);
	b->area[1].nr_free--;

	b->requested_bytes += PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), -EUCLEAN);
	b->requested_bytes -= PAGE_SIZE;

	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 3), 0);
	buddy_expect_pristine(test, b);
	co_buddy_destroy(b);
}

/*
 * Random operations against a reference model: a byte per page (0 free,
 * 1 head, 2 tail) and the list of live allocations.  The checker runs after
 * every operation; the model decides whether a free is valid and whether an
 * allocation could have succeeded (a fully free aligned block exists).
 */
#define BUDDY_RANDOM_OPS	3000
#define BUDDY_RANDOM_LIVE	128

struct buddy_model {
	unsigned long start, nr;
	u8 *page;
	unsigned long pfn[BUDDY_RANDOM_LIVE];
	unsigned long len[BUDDY_RANDOM_LIVE];
	unsigned int live;
};

static bool buddy_model_fits(struct buddy_model *m, unsigned long nr,
			     unsigned long align, unsigned long limit)
{
	unsigned int order = order_base_2(nr);
	unsigned long blk, p, i, end = m->start + m->nr;

	if (align > 1)
		order = max_t(unsigned int, order, ilog2(align));
	blk = 1UL << order;
	if (limit && limit < end)
		end = limit;
	for (p = ALIGN(m->start, blk); p + nr <= end &&
	     p + blk <= m->start + m->nr; p += blk) {
		for (i = 0; i < blk && !m->page[p + i - m->start]; i++)
			;
		if (i == blk)
			return true;
	}
	return false;
}

static void buddy_random_step(struct kunit *test, struct co_buddy *b,
			      struct buddy_model *m, u64 *seed)
{
	unsigned long r = buddy_rand(seed), nr, align = 0, limit = 0, pfn, i;
	unsigned int k;
	int ret;

	if (m->live && (r % 8 < 3 || m->live == BUDDY_RANDOM_LIVE)) {
		k = (r >> 8) % m->live;
		KUNIT_ASSERT_EQ(test, co_buddy_free(b, m->pfn[k], m->len[k]), 0);
		for (i = 0; i < m->len[k]; i++)
			m->page[m->pfn[k] - m->start + i] = 0;
		m->pfn[k] = m->pfn[--m->live];
		m->len[k] = m->len[m->live];
		return;
	}
	if (r % 8 == 3) {
		/* random free: valid only if it names a live allocation */
		pfn = m->start + (r >> 8) % (m->nr + 4) - 2;
		nr = 1 + (r >> 24) % 9;
		for (k = 0; k < m->live; k++)
			if (m->pfn[k] == pfn && m->len[k] == nr)
				return;
		KUNIT_ASSERT_EQ(test, co_buddy_free(b, pfn, nr), -EINVAL);
		return;
	}
	nr = 1 + (r >> 8) % ((r >> 40) % 4 ? 8 : 70);
	if ((r >> 20) % 4 == 0)
		align = 1UL << ((r >> 24) % 8);
	if ((r >> 30) % 5 == 0)
		limit = m->start + (r >> 32) % (m->nr + 8);
	ret = co_buddy_alloc(b, nr, align, limit, &pfn);
	if (ret) {
		KUNIT_ASSERT_EQ(test, ret, -ENOMEM);
		KUNIT_ASSERT_FALSE(test, buddy_model_fits(m, nr, align, limit));
		return;
	}
	KUNIT_ASSERT_TRUE(test, pfn >= m->start && pfn + nr <= m->start + m->nr);
	if (align > 1)
		KUNIT_ASSERT_EQ(test, pfn % align, 0);
	if (limit)
		KUNIT_ASSERT_LE(test, pfn + nr, limit);
	for (i = 0; i < nr; i++) {
		KUNIT_ASSERT_EQ(test, m->page[pfn - m->start + i], 0);
		m->page[pfn - m->start + i] = i ? 2 : 1;
	}
	m->pfn[m->live] = pfn;
	m->len[m->live++] = nr;
}

static void buddy_test_random(struct kunit *test)
{
	const struct buddy_arena_param *p = test->param_value;
	struct co_buddy *b = buddy_new(test, p->start, p->nr);
	struct buddy_model *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	u64 seed = 0x5eed0000 + p->nr;
	unsigned long free_pages;
	int op;

	KUNIT_ASSERT_NOT_NULL(test, m);
	m->start = p->start;
	m->nr = p->nr;
	m->page = kunit_kzalloc(test, p->nr, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m->page);
	for (op = 0; op < BUDDY_RANDOM_OPS; op++) {
		buddy_random_step(test, b, m, &seed);
		KUNIT_ASSERT_EQ_MSG(test, co_buddy_check(b), 0, "op %d", op);
		free_pages = 0;
		for (int i = 0; i < m->nr; i++)
			free_pages += !m->page[i];
		KUNIT_ASSERT_EQ(test, co_buddy_free_pages(b), free_pages);
	}
	while (m->live) {
		m->live--;
		KUNIT_ASSERT_EQ(test, co_buddy_free(b, m->pfn[m->live],
						    m->len[m->live]), 0);
	}
	buddy_expect_pristine(test, b);
	co_buddy_destroy(b);
}

static struct kunit_case buddy_test_cases[] = {
	KUNIT_CASE_PARAM(buddy_test_init_geometry, buddy_arena_gen_params),
	KUNIT_CASE(buddy_test_init_invalid),
	KUNIT_CASE(buddy_test_large_orders),
	KUNIT_CASE(buddy_test_split_coalesce),
	KUNIT_CASE_PARAM(buddy_test_exhaust_recover, buddy_arena_gen_params),
	KUNIT_CASE(buddy_test_exact_sizes),
	KUNIT_CASE_PARAM(buddy_test_alignment, buddy_arena_gen_params),
	KUNIT_CASE(buddy_test_limit),
	KUNIT_CASE(buddy_test_invalid_free),
	KUNIT_CASE(buddy_test_stats),
	KUNIT_CASE(buddy_test_walker),
	KUNIT_CASE(buddy_test_walker_resume),
	KUNIT_CASE(buddy_test_checker),
	KUNIT_CASE_PARAM(buddy_test_random, buddy_arena_gen_params),
	{}
};

struct kunit_suite carveout_buddy_suite = {
	.name = "carveout_buddy",
	.test_cases = buddy_test_cases,
};
