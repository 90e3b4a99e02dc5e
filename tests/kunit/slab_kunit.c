// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the carveout slab caches (suite carveout_slab).
 *
 * Each case builds a buddy arena over fake PFNs and one or more cache sets on
 * it.  The same file builds in the userspace harness (tests/harness).
 * carveout_slab_suite is registered by tests/kunit/main_kunit.c.
 */
#include <kunit/test.h>

#include "../../module/co_slab.h"

#define SLAB_TEST_START	0x200003UL

static u64 slab_rand(u64 *state)
{
	u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static struct co_buddy *slab_buddy(struct kunit *test, unsigned long nr)
{
	struct co_buddy *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_EQ(test, co_buddy_init(b, SLAB_TEST_START, nr), 0);
	return b;
}

static struct co_slab_set *slab_set(struct kunit *test, struct co_buddy *b,
				    const char *name)
{
	struct co_slab_set *s = co_slab_set_create(b, name);

	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_EQ(test, co_slab_set_check(s), 0);
	return s;
}

static void slab_finish(struct kunit *test, struct co_slab_set *s,
			struct co_buddy *b)
{
	KUNIT_EXPECT_EQ(test, co_slab_set_check(s), 0);
	KUNIT_EXPECT_EQ(test, co_slab_set_destroy(s), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free_pages(b), b->nr_pages);
	co_buddy_destroy(b);
}

static void slab_test_classes(struct kunit *test)
{
	unsigned int n = co_slab_nr_classes(), waste_ppm = 0;
	size_t size, prev = 0, cls;

	KUNIT_EXPECT_EQ(test, co_slab_class_size(0), 0);
	KUNIT_EXPECT_EQ(test, co_slab_class_size(co_slab_max_size() + 1), 0);
	KUNIT_EXPECT_GE(test, co_slab_max_size(), 2048);
	KUNIT_EXPECT_EQ(test, co_slab_class_index(0), n);
	for (size = 1; size <= co_slab_max_size(); size++) {
		cls = co_slab_class_size(size);
		KUNIT_ASSERT_GE(test, cls, size);
		KUNIT_ASSERT_EQ(test, cls % CO_SLAB_ALIGN, 0);
		KUNIT_ASSERT_LT(test, co_slab_class_index(size), n);
		if (cls != prev) {
			/* new class: the previous one was too small */
			KUNIT_ASSERT_EQ(test, co_slab_class_size(size - 1), prev);
			if (prev)
				KUNIT_ASSERT_EQ(test, co_slab_class_index(size),
						co_slab_class_index(size - 1) + 1);
			else
				KUNIT_ASSERT_EQ(test, co_slab_class_index(size), 0);
			/* mean waste over requests (prev, cls], in ppm */
			waste_ppm += (cls - prev - 1) * 1000000 / 2 / cls;
			prev = cls;
		}
	}
	KUNIT_EXPECT_EQ(test, co_slab_class_index(co_slab_max_size()), n - 1);
	/* average internal waste per class <= 12.5% */
	kunit_info(test, "mean waste %u.%u%% over %u classes\n",
		   waste_ppm / n / 10000, waste_ppm / n / 1000 % 10, n);
	KUNIT_EXPECT_LE(test, waste_ppm / n, 125000);
}

static void slab_test_geometry(struct kunit *test)
{
	struct co_buddy *b = slab_buddy(test, 512);
	struct co_slab_set *s = slab_set(test, b, "geometry");
	struct co_slab_class_stats st;
	unsigned int c;

	for (c = 0; c < co_slab_nr_classes(); c++) {
		co_slab_get_stats(s, c, &st);
		KUNIT_EXPECT_EQ(test, st.obj_size % CO_SLAB_ALIGN, 0);
		/* no tail waste, at least 4 objects */
		KUNIT_EXPECT_EQ(test, st.objs_per_slab * st.obj_size,
				st.slab_pages * PAGE_SIZE);
		KUNIT_EXPECT_GE(test, st.objs_per_slab, 4);
		KUNIT_EXPECT_LE(test, st.slab_pages, 8);
		KUNIT_EXPECT_EQ(test, st.objs_total, 0);
	}
	co_slab_get_stats(s, co_slab_nr_classes(), &st);
	KUNIT_EXPECT_EQ(test, st.obj_size, 0);
	slab_finish(test, s, b);
}

static void slab_test_each_class(struct kunit *test)
{
	struct co_buddy *b = slab_buddy(test, 512);
	struct co_slab_set *s = slab_set(test, b, "each");
	struct co_slab_class_stats st;
	unsigned int c;
	size_t size;
	u64 addr;

	for (c = 0; c < co_slab_nr_classes(); c++) {
		co_slab_get_stats(s, c, &st);
		size = st.obj_size;
		KUNIT_ASSERT_EQ(test, co_slab_alloc(s, size, &addr), 0);
		KUNIT_EXPECT_EQ(test, addr % CO_SLAB_ALIGN, 0);
		KUNIT_EXPECT_TRUE(test, co_buddy_contains(b, addr >> PAGE_SHIFT));
		KUNIT_EXPECT_TRUE(test, co_buddy_contains(b, (addr + size - 1) >>
							  PAGE_SHIFT));
		co_slab_get_stats(s, c, &st);
		KUNIT_EXPECT_EQ(test, st.objs_in_use, 1);
		KUNIT_EXPECT_EQ(test, st.requested_bytes, size);
		KUNIT_EXPECT_EQ(test, st.granted_bytes, size);
		KUNIT_EXPECT_EQ(test, co_slab_set_check(s), 0);
		KUNIT_EXPECT_EQ(test, co_slab_free(s, addr, size), 0);
		co_slab_get_stats(s, c, &st);
		KUNIT_EXPECT_EQ(test, st.objs_in_use, 0);
	}
	co_slab_drain(s);
	slab_finish(test, s, b);
}

static void slab_test_bad_sizes(struct kunit *test)
{
	struct co_buddy *b = slab_buddy(test, 64);
	struct co_slab_set *s = slab_set(test, b, "sizes");
	u64 addr;

	KUNIT_EXPECT_EQ(test, co_slab_alloc(s, 0, &addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, co_slab_alloc(s, co_slab_max_size() + 1, &addr),
			-E2BIG);
	KUNIT_EXPECT_EQ(test, co_slab_alloc(s, SIZE_MAX, &addr), -E2BIG);
	slab_finish(test, s, b);
}

static int slab_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Objects of mixed sizes never overlap and never share a cache line. */
static void slab_test_no_overlap(struct kunit *test)
{
	struct co_buddy *b = slab_buddy(test, 2048);
	struct co_slab_set *s = slab_set(test, b, "overlap");
	unsigned int i, n = 600;
	u64 *addr, *key, seed = 7;
	size_t *size;

	addr = kunit_kcalloc(test, n, sizeof(*addr), GFP_KERNEL);
	key = kunit_kcalloc(test, n, sizeof(*key), GFP_KERNEL);
	size = kunit_kcalloc(test, n, sizeof(*size), GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, addr && key && size);
	for (i = 0; i < n; i++) {
		size[i] = 1 + slab_rand(&seed) % co_slab_max_size();
		KUNIT_ASSERT_EQ(test, co_slab_alloc(s, size[i], &addr[i]), 0);
		KUNIT_ASSERT_EQ(test, addr[i] % CO_SLAB_ALIGN, 0);
		/* key: address with the class size in the low 12 bits */
		key[i] = addr[i] << 12 | co_slab_class_size(size[i]);
	}
	KUNIT_EXPECT_EQ(test, co_slab_set_check(s), 0);
	sort(key, n, sizeof(*key), slab_cmp_u64, NULL);
	for (i = 1; i < n; i++)
		KUNIT_EXPECT_LE(test, (key[i - 1] >> 12) + (key[i - 1] & 0xfff),
				key[i] >> 12);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, co_slab_free(s, addr[i], size[i]), 0);
	co_slab_drain(s);
	slab_finish(test, s, b);
}

static void slab_expect_invalid(struct kunit *test, struct co_slab_set *s,
				u64 addr, size_t size)
{
	unsigned int c = co_slab_class_index(size);
	struct co_slab_class_stats before, after;

	if (c >= co_slab_nr_classes())
		c = 0;
	co_slab_get_stats(s, c, &before);
	KUNIT_EXPECT_EQ(test, co_slab_free(s, addr, size), -EINVAL);
	co_slab_get_stats(s, c, &after);
	KUNIT_EXPECT_EQ(test, after.objs_in_use, before.objs_in_use);
	KUNIT_EXPECT_EQ(test, after.objs_cached, before.objs_cached);
	KUNIT_EXPECT_EQ(test, after.requested_bytes, before.requested_bytes);
	if (co_slab_class_index(size) < co_slab_nr_classes())
		KUNIT_EXPECT_EQ(test, after.nr_invalid, before.nr_invalid + 1);
	KUNIT_EXPECT_EQ(test, co_slab_set_check(s), 0);
}

static void slab_test_invalid_free(struct kunit *test)
{
	struct co_buddy *b = slab_buddy(test, 256);
	struct co_slab_set *s = slab_set(test, b, "invalid");
	unsigned long pfn;
	u64 a, c, d;

	KUNIT_ASSERT_EQ(test, co_slab_alloc(s, 100, &a), 0);
	KUNIT_ASSERT_EQ(test, co_slab_alloc(s, 100, &c), 0);
	KUNIT_ASSERT_EQ(test, co_slab_alloc(s, 1000, &d), 0);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(b, 1, 0, 0, &pfn), 0);

	slab_expect_invalid(test, s, a + 64, 100);	/* middle */
	slab_expect_invalid(test, s, a, 1000);		/* wrong class */
	slab_expect_invalid(test, s, d, 100);		/* wrong class */
	slab_expect_invalid(test, s, a, 0);		/* size 0 */
	slab_expect_invalid(test, s, a, co_slab_max_size() + 1);
	slab_expect_invalid(test, s, 0, 64);		/* outside arena */
	slab_expect_invalid(test, s, (u64)pfn << PAGE_SHIFT, 64); /* raw page */
	slab_expect_invalid(test, s, c + 2 * 128, 100);	/* never allocated */

	/* double free while the object sits in a magazine */
	KUNIT_EXPECT_EQ(test, co_slab_free(s, a, 100), 0);
	slab_expect_invalid(test, s, a, 100);
	/* double free after the object went back to its slab */
	co_slab_drain(s);
	slab_expect_invalid(test, s, a, 100);
	slab_expect_invalid(test, s, c, 128);		/* wrong size */
	slab_expect_invalid(test, s, c, 99);		/* wrong size */
	KUNIT_EXPECT_EQ(test, co_slab_free(s, c, 100), 0);
	KUNIT_EXPECT_EQ(test, co_slab_free(s, d, 1000), 0);
	slab_expect_invalid(test, s, d, 1000);
	KUNIT_EXPECT_EQ(test, co_buddy_free(b, pfn, 1), 0);
	slab_finish(test, s, b);
}

/* Two owners never share a page. */
static void slab_test_private_sets(struct kunit *test)
{
	struct co_buddy *b = slab_buddy(test, 512);
	struct co_slab_set *s1 = slab_set(test, b, "one");
	struct co_slab_set *s2 = slab_set(test, b, "two");
	u64 a1[40], a2[40];
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(a1); i++) {
		KUNIT_ASSERT_EQ(test, co_slab_alloc(s1, 64 + i * 20, &a1[i]), 0);
		KUNIT_ASSERT_EQ(test, co_slab_alloc(s2, 64 + i * 20, &a2[i]), 0);
	}
	for (i = 0; i < ARRAY_SIZE(a1); i++)
		for (j = 0; j < ARRAY_SIZE(a2); j++)
			KUNIT_EXPECT_NE(test, a1[i] >> PAGE_SHIFT,
					a2[j] >> PAGE_SHIFT);
	/* an object of one set is not an object of the other */
	slab_expect_invalid(test, s2, a1[0], 64);
	for (i = 0; i < ARRAY_SIZE(a1); i++) {
		KUNIT_EXPECT_EQ(test, co_slab_free(s1, a1[i], 64 + i * 20), 0);
		KUNIT_EXPECT_EQ(test, co_slab_free(s2, a2[i], 64 + i * 20), 0);
	}
	KUNIT_EXPECT_EQ(test, co_slab_set_check(s1), 0);
	KUNIT_EXPECT_EQ(test, co_slab_set_destroy(s1), 0);
	slab_finish(test, s2, b);
}

/* Partial slabs are preferred; surplus empty slabs go back to the buddy. */
static void slab_test_reserve(struct kunit *test)
{
	struct co_buddy *b = slab_buddy(test, 256);
	struct co_slab_set *s = slab_set(test, b, "reserve");
	struct co_slab_class_stats st;
	unsigned int i, n = 64 * 5;
	u64 *addr;

	addr = kunit_kcalloc(test, n, sizeof(*addr), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, co_slab_alloc(s, 64, &addr[i]), 0);
	co_slab_get_stats(s, 0, &st);
	KUNIT_EXPECT_EQ(test, st.objs_in_use, n);
	KUNIT_EXPECT_GE(test, st.objs_total, n);
	KUNIT_EXPECT_LE(test, st.slabs_full + st.slabs_partial, 6);
	KUNIT_EXPECT_EQ(test, co_buddy_free_pages(b),
			256 - st.slabs_full - st.slabs_partial - st.slabs_empty);

	/* free every other object: slabs become partial */
	for (i = 0; i < n; i += 2)
		KUNIT_ASSERT_EQ(test, co_slab_free(s, addr[i], 64), 0);
	co_slab_drain(s);
	co_slab_get_stats(s, 0, &st);
	KUNIT_EXPECT_EQ(test, st.objs_cached, 0);
	KUNIT_EXPECT_GE(test, st.slabs_partial, 5);
	/* new objects fill the holes instead of new slabs */
	for (i = 0; i < n; i += 2)
		KUNIT_ASSERT_EQ(test, co_slab_alloc(s, 64, &addr[i]), 0);
	co_slab_get_stats(s, 0, &st);
	KUNIT_EXPECT_LE(test, st.slabs_full + st.slabs_partial, 6);
	KUNIT_EXPECT_EQ(test, co_slab_set_check(s), 0);

	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, co_slab_free(s, addr[i], 64), 0);
	co_slab_drain(s);
	co_slab_get_stats(s, 0, &st);
	KUNIT_EXPECT_EQ(test, st.objs_in_use, 0);
	KUNIT_EXPECT_EQ(test, st.slabs_full + st.slabs_partial, 0);
	KUNIT_EXPECT_LE(test, st.slabs_empty, CO_SLAB_EMPTY_RESERVE);
	KUNIT_EXPECT_EQ(test, co_buddy_free_pages(b), 256 - st.slabs_empty);
	slab_finish(test, s, b);
}

static void slab_test_destroy_busy(struct kunit *test)
{
	struct co_buddy *b = slab_buddy(test, 64);
	struct co_slab_set *s = slab_set(test, b, "busy");
	u64 a, c;

	KUNIT_ASSERT_EQ(test, co_slab_alloc(s, 300, &a), 0);
	KUNIT_ASSERT_EQ(test, co_slab_alloc(s, 3000, &c), 0);
	KUNIT_EXPECT_EQ(test, co_slab_set_destroy(s), -EBUSY);
	/* the set is still intact and usable */
	KUNIT_EXPECT_EQ(test, co_slab_set_check(s), 0);
	KUNIT_EXPECT_EQ(test, co_slab_free(s, a, 300), 0);
	KUNIT_EXPECT_EQ(test, co_slab_set_destroy(s), -EBUSY);
	KUNIT_EXPECT_EQ(test, co_slab_free(s, c, 3000), 0);
	slab_finish(test, s, b);
}

static void slab_test_exhaustion(struct kunit *test)
{
	struct co_buddy *b = slab_buddy(test, 9);
	struct co_slab_set *s = slab_set(test, b, "exhaust");
	struct co_slab_class_stats st;
	unsigned int c = co_slab_class_index(2048), n = 0, i;
	u64 addr[64];

	while (n < ARRAY_SIZE(addr) && !co_slab_alloc(s, 2048, &addr[n]))
		n++;
	KUNIT_EXPECT_LT(test, n, ARRAY_SIZE(addr));
	co_slab_get_stats(s, c, &st);
	KUNIT_EXPECT_EQ(test, st.nr_fail, 1);
	KUNIT_EXPECT_EQ(test, n, st.objs_total);
	/* at most one slab's worth of pages left in the buddy */
	KUNIT_EXPECT_LT(test, co_buddy_free_pages(b), st.slab_pages * 2);
	KUNIT_EXPECT_EQ(test, co_slab_set_check(s), 0);
	KUNIT_EXPECT_EQ(test, co_buddy_check(b), 0);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, co_slab_free(s, addr[i], 2048), 0);
	/* recovered: a full-size allocation works again */
	co_slab_drain(s);
	KUNIT_EXPECT_EQ(test, co_slab_alloc(s, 2048, &addr[0]), 0);
	KUNIT_EXPECT_EQ(test, co_slab_free(s, addr[0], 2048), 0);
	slab_finish(test, s, b);
}

static void slab_test_stats(struct kunit *test)
{
	struct co_buddy *b = slab_buddy(test, 128);
	struct co_slab_set *s = slab_set(test, b, "stats");
	struct co_slab_class_stats st;
	unsigned int c = co_slab_class_index(600), i;
	u64 addr[10];

	for (i = 0; i < ARRAY_SIZE(addr); i++)
		KUNIT_ASSERT_EQ(test, co_slab_alloc(s, 580 + i, &addr[i]), 0);
	co_slab_get_stats(s, c, &st);
	KUNIT_EXPECT_EQ(test, st.obj_size, 640);
	KUNIT_EXPECT_EQ(test, st.objs_in_use, 10);
	KUNIT_EXPECT_EQ(test, st.requested_bytes, 10 * 580 + 45);
	KUNIT_EXPECT_EQ(test, st.granted_bytes, 10 * 640);
	KUNIT_EXPECT_EQ(test, st.objs_total,
			(st.slabs_full + st.slabs_partial + st.slabs_empty) *
			st.objs_per_slab);
	KUNIT_EXPECT_LE(test, st.objs_in_use + st.objs_cached, st.objs_total);
	for (i = 0; i < ARRAY_SIZE(addr); i++)
		KUNIT_ASSERT_EQ(test, co_slab_free(s, addr[i], 580 + i), 0);
	co_slab_get_stats(s, c, &st);
	KUNIT_EXPECT_EQ(test, st.objs_in_use, 0);
	KUNIT_EXPECT_EQ(test, st.requested_bytes, 0);
	co_slab_drain(s);
	co_slab_get_stats(s, c, &st);
	KUNIT_EXPECT_EQ(test, st.objs_cached, 0);
	slab_finish(test, s, b);
}

/*
 * Expected snapshot of a class after the first allocation of a fresh set:
 * the slow path takes one object and parks up to a magazine batch more
 * in a magazine, all from one new slab.
 */
static void slab_expect_first_alloc(struct kunit *test,
				    const struct co_slab_class_stats *st)
{
	unsigned long parked = min_t(unsigned long, st->mag_batch,
				     st->objs_per_slab - 1);
	bool full = st->objs_per_slab == 1 + parked;

	KUNIT_EXPECT_EQ(test, st->objs_in_use, 1);
	KUNIT_EXPECT_EQ(test, st->objs_cached, parked);
	KUNIT_EXPECT_EQ(test, st->objs_total, st->objs_per_slab);
	KUNIT_EXPECT_EQ(test, st->slabs_full, full ? 1 : 0);
	KUNIT_EXPECT_EQ(test, st->slabs_partial, full ? 0 : 1);
	KUNIT_EXPECT_EQ(test, st->slabs_empty, 0);
}

/* Pages of the buddy held by the set's slabs, by the class snapshots. */
static unsigned long slab_stats_pages(const struct co_slab_class_stats *st,
				      unsigned int n)
{
	unsigned long pages = 0;
	unsigned int c;

	for (c = 0; c < n; c++)
		pages += (st[c].slabs_full + st[c].slabs_partial +
			  st[c].slabs_empty) * st[c].slab_pages;
	return pages;
}

/* Snapshots of every class of @s, in class order. */
static void slab_all_stats(struct co_slab_set *s,
			   struct co_slab_class_stats *st, unsigned int n)
{
	unsigned int c;

	for (c = 0; c < n; c++)
		co_slab_get_stats(s, c, &st[c]);
}

/* Every class's statistics through alloc, free and drain. */
static void slab_test_class_stats(struct kunit *test)
{
	static const size_t sizes[] = { 64, 600, 2048, 3584 };
	struct co_buddy *b = slab_buddy(test, 256);
	struct co_slab_set *s = slab_set(test, b, "classes");
	unsigned int n = co_slab_nr_classes(), c, i, hit;
	unsigned long reserve = min(1, CO_SLAB_EMPTY_RESERVE);
	struct co_slab_class_stats *st;
	u64 addr[ARRAY_SIZE(sizes)];

	st = kunit_kcalloc(test, n, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		KUNIT_ASSERT_EQ(test, co_slab_alloc(s, sizes[i], &addr[i]), 0);

	slab_all_stats(s, st, n);
	for (c = 0, hit = 0; c < n; c++) {
		KUNIT_EXPECT_EQ(test, co_slab_class_index(st[c].obj_size), c);
		KUNIT_EXPECT_EQ(test, st[c].objs_per_slab * st[c].obj_size,
				st[c].slab_pages * PAGE_SIZE);
		if (hit < ARRAY_SIZE(sizes) &&
		    co_slab_class_index(sizes[hit]) == c) {
			slab_expect_first_alloc(test, &st[c]);
			hit++;
			continue;
		}
		KUNIT_EXPECT_EQ(test, st[c].objs_in_use, 0);
		KUNIT_EXPECT_EQ(test, st[c].objs_cached, 0);
		KUNIT_EXPECT_EQ(test, st[c].objs_total, 0);
	}
	KUNIT_EXPECT_EQ(test, hit, ARRAY_SIZE(sizes));
	KUNIT_EXPECT_EQ(test, slab_stats_pages(st, n),
			b->nr_pages - co_buddy_free_pages(b));

	/* Freed objects go to a magazine; drain empties the magazines. */
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		KUNIT_ASSERT_EQ(test, co_slab_free(s, addr[i], sizes[i]), 0);
	slab_all_stats(s, st, n);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		c = co_slab_class_index(sizes[i]);
		KUNIT_EXPECT_EQ(test, st[c].objs_in_use, 0);
		KUNIT_EXPECT_EQ(test, st[c].objs_cached,
				1 + min_t(unsigned long, st[c].mag_batch,
					  st[c].objs_per_slab - 1));
	}
	co_slab_drain(s);
	slab_all_stats(s, st, n);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		c = co_slab_class_index(sizes[i]);
		KUNIT_EXPECT_EQ(test, st[c].objs_cached, 0);
		KUNIT_EXPECT_EQ(test, st[c].slabs_full + st[c].slabs_partial, 0);
		KUNIT_EXPECT_EQ(test, st[c].slabs_empty, reserve);
		KUNIT_EXPECT_EQ(test, st[c].objs_total,
				reserve * st[c].objs_per_slab);
	}
	KUNIT_EXPECT_EQ(test, slab_stats_pages(st, n),
			b->nr_pages - co_buddy_free_pages(b));
	slab_finish(test, s, b);
}

/* Random alloc/free/invalid/drain against a model, checker after each op. */
#define SLAB_RANDOM_OPS		2000
#define SLAB_RANDOM_LIVE	200

struct slab_model {
	u64 addr[SLAB_RANDOM_LIVE];
	size_t size[SLAB_RANDOM_LIVE];
	unsigned int live;
};

static void slab_random_step(struct kunit *test, struct co_slab_set *s,
			     struct slab_model *m, u64 *seed)
{
	u64 r = slab_rand(seed), a;
	unsigned int k, i;
	size_t size;
	int ret;

	if (m->live && (r % 16 < 6 || m->live == SLAB_RANDOM_LIVE)) {
		k = (r >> 8) % m->live;
		a = m->addr[k];
		size = m->size[k];
		KUNIT_ASSERT_EQ(test, co_slab_free(s, a, size), 0);
		m->addr[k] = m->addr[--m->live];
		m->size[k] = m->size[m->live];
		if ((r >> 20) % 4 == 0)	/* double free */
			KUNIT_ASSERT_EQ(test, co_slab_free(s, a, size), -EINVAL);
		return;
	}
	if (r % 16 == 6 && m->live) {
		k = (r >> 8) % m->live;
		a = m->addr[k] + CO_SLAB_ALIGN * (1 + (r >> 20) % 3);
		for (i = 0; i < m->live; i++)
			if (m->addr[i] == a)
				return;
		KUNIT_ASSERT_EQ(test, co_slab_free(s, a, m->size[k]), -EINVAL);
		return;
	}
	if (r % 16 == 7) {
		co_slab_drain(s);
		return;
	}
	size = 1 + (r >> 8) % ((r >> 40) % 4 ? 512 : co_slab_max_size());
	ret = co_slab_alloc(s, size, &a);
	if (ret) {
		KUNIT_ASSERT_EQ(test, ret, -ENOMEM);
		return;
	}
	KUNIT_ASSERT_EQ(test, a % CO_SLAB_ALIGN, 0);
	for (i = 0; i < m->live; i++)
		KUNIT_ASSERT_TRUE(test,
				  a + co_slab_class_size(size) <= m->addr[i] ||
				  m->addr[i] + co_slab_class_size(m->size[i]) <= a);
	m->addr[m->live] = a;
	m->size[m->live++] = size;
}

static void slab_test_random(struct kunit *test)
{
	struct co_buddy *b = slab_buddy(test, 300);
	struct co_slab_set *s = slab_set(test, b, "random");
	struct slab_model *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	u64 seed = 0x51ab;
	int op;

	KUNIT_ASSERT_NOT_NULL(test, m);
	for (op = 0; op < SLAB_RANDOM_OPS; op++) {
		slab_random_step(test, s, m, &seed);
		KUNIT_ASSERT_EQ_MSG(test, co_slab_set_check(s), 0, "op %d", op);
		KUNIT_ASSERT_EQ_MSG(test, co_buddy_check(b), 0, "op %d", op);
	}
	while (m->live) {
		m->live--;
		KUNIT_ASSERT_EQ(test, co_slab_free(s, m->addr[m->live],
						   m->size[m->live]), 0);
	}
	slab_finish(test, s, b);
}

/* An owner with a page budget: counts what a set charges and gives back. */
struct slab_payer {
	unsigned long budget;	/* pages the owner may hold */
	unsigned long charged;	/* pages it holds now */
	unsigned long refused;	/* grows it refused */
	struct co_buddy *b;	/* the arena every call must name */
	bool wrong_arena;
};

static int slab_payer_charge(void *priv, struct co_buddy *b,
			     unsigned long pages)
{
	struct slab_payer *p = priv;

	p->wrong_arena |= b != p->b;
	if (p->charged + pages > p->budget) {
		p->refused++;
		return -EDQUOT;
	}
	p->charged += pages;
	return 0;
}

static void slab_payer_uncharge(void *priv, struct co_buddy *b,
				unsigned long pages)
{
	struct slab_payer *p = priv;

	p->wrong_arena |= b != p->b;
	p->charged -= pages;
}

/* Pages in the slabs of every class of @s. */
static unsigned long slab_pages_held(struct co_slab_set *s)
{
	struct co_slab_class_stats st;
	unsigned long pages = 0;
	unsigned int c;

	for (c = 0; c < co_slab_nr_classes(); c++) {
		co_slab_get_stats(s, c, &st);
		pages += st.slab_pages *
			 (st.slabs_full + st.slabs_partial + st.slabs_empty);
	}
	return pages;
}

/*
 * The owner pays for slab pages, not objects: 64 objects of 64 bytes fill
 * one page and are charged one page; freeing 63 of them leaves the page
 * charged (the last object pins it), and so does the empty-slab reserve;
 * a grow the owner refuses fails with its errno and leaves nothing
 * charged; destroying the set gives everything back.
 */
static void slab_test_owner_charge(struct kunit *test)
{
	struct co_buddy *b = slab_buddy(test, 64);
	struct slab_payer pay = { .budget = 1, .b = b };
	struct co_slab_owner owner = {
		.charge = slab_payer_charge, .uncharge = slab_payer_uncharge,
		.priv = &pay, .gfp = GFP_KERNEL_ACCOUNT,
	};
	struct co_slab_set *s = co_slab_set_create_owned(b, "payer", &owner);
	unsigned int i, n, per_page = PAGE_SIZE / 64, nr_big = 80;
	u64 *addr, *big, extra;
	int ret = 0;

	KUNIT_ASSERT_NOT_NULL(test, s);
	addr = kunit_kcalloc(test, per_page, sizeof(*addr), GFP_KERNEL);
	big = kunit_kcalloc(test, nr_big, sizeof(*big), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	KUNIT_ASSERT_NOT_NULL(test, big);
	for (i = 0; i < per_page; i++)
		KUNIT_ASSERT_EQ(test, co_slab_alloc(s, 64, &addr[i]), 0);
	KUNIT_EXPECT_EQ(test, pay.charged, 1);
	KUNIT_EXPECT_EQ(test, slab_pages_held(s), pay.charged);
	/* The page is full and the budget spent: the owner refuses more. */
	KUNIT_EXPECT_EQ(test, co_slab_alloc(s, 64, &extra), -EDQUOT);
	KUNIT_EXPECT_EQ(test, pay.refused, 1);
	/* A 640-byte slab is 5 pages: refused, nothing left charged. */
	KUNIT_EXPECT_EQ(test, co_slab_alloc(s, 600, &extra), -EDQUOT);
	KUNIT_EXPECT_EQ(test, pay.charged, 1);
	KUNIT_EXPECT_EQ(test, co_buddy_free_pages(b), 64 - 1);

	for (i = 1; i < per_page; i++)
		KUNIT_ASSERT_EQ(test, co_slab_free(s, addr[i], 64), 0);
	co_slab_drain(s);
	KUNIT_EXPECT_EQ(test, pay.charged, 1);
	KUNIT_ASSERT_EQ(test, co_slab_free(s, addr[0], 64), 0);
	co_slab_drain(s);
	/* The empty reserve still holds the page, and is still charged. */
	KUNIT_EXPECT_EQ(test, pay.charged, CO_SLAB_EMPTY_RESERVE);
	KUNIT_EXPECT_EQ(test, slab_pages_held(s), pay.charged);

	/* Out of pages after the owner agreed: the charge is undone. */
	pay.budget = 1000;
	for (n = 0; n < nr_big; n++) {
		ret = co_slab_alloc(s, 3584, &big[n]);
		if (ret)
			break;
	}
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	KUNIT_EXPECT_GT(test, n, 0);
	KUNIT_EXPECT_EQ(test, slab_pages_held(s), pay.charged);
	KUNIT_EXPECT_EQ(test, co_buddy_free_pages(b), 64 - pay.charged);
	KUNIT_EXPECT_FALSE(test, pay.wrong_arena);
	KUNIT_EXPECT_EQ(test, co_slab_set_check(s), 0);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, co_slab_free(s, big[i], 3584), 0);
	KUNIT_EXPECT_EQ(test, co_slab_set_destroy(s), 0);
	KUNIT_EXPECT_EQ(test, pay.charged, 0);
	KUNIT_EXPECT_EQ(test, co_buddy_free_pages(b), 64);
	co_buddy_destroy(b);
}

static struct kunit_case slab_test_cases[] = {
	KUNIT_CASE(slab_test_classes),
	KUNIT_CASE(slab_test_geometry),
	KUNIT_CASE(slab_test_each_class),
	KUNIT_CASE(slab_test_bad_sizes),
	KUNIT_CASE(slab_test_no_overlap),
	KUNIT_CASE(slab_test_invalid_free),
	KUNIT_CASE(slab_test_private_sets),
	KUNIT_CASE(slab_test_reserve),
	KUNIT_CASE(slab_test_destroy_busy),
	KUNIT_CASE(slab_test_exhaustion),
	KUNIT_CASE(slab_test_stats),
	KUNIT_CASE(slab_test_class_stats),
	KUNIT_CASE(slab_test_random),
	KUNIT_CASE(slab_test_owner_charge),
	{}
};

struct kunit_suite carveout_slab_suite = {
	.name = "carveout_slab",
	.test_cases = slab_test_cases,
};
