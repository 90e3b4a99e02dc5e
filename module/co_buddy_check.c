// SPDX-License-Identifier: GPL-2.0
/*
 * co_buddy_check.c - consistency checker of a buddy arena
 *
 * co_buddy_check() verifies every invariant listed in co_buddy.c against the
 * metadata, under the arena lock: the bitmap levels summarise each other and
 * match the per-order counts; the in-use and head bitmaps agree with the
 * counters; an address-order walk finds every page either in an in-use run
 * that starts with a head or in exactly one free block, with no block left
 * uncoalesced; the byte accounting is within a page per allocation; clean
 * bits are on free pages only and agree with their count.  It is
 * a debugging aid for the tests, the fuzzer and debugfs: O(arena /
 * BITS_PER_LONG + free blocks * orders), and it changes nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "co_buddy_priv.h"

#define co_buddy_bad(b, fmt, ...)					\
	({								\
		const struct co_buddy *__b = (b);			\
									\
		pr_err("buddy [%#lx+%#lx] check: " fmt "\n",		\
		       __b->start_pfn, __b->nr_pages, ##__VA_ARGS__);	\
		-EUCLEAN;						\
	})

/* Level @l of @a: no bits past @nbits, summary bits match level @l - 1. */
static bool co_hbm_level_ok(const struct co_buddy_area *a, unsigned int l,
			    unsigned long nbits)
{
	unsigned long words = BITS_TO_LONGS(nbits), tail = nbits % BITS_PER_LONG;
	unsigned long i;

	if (tail && (a->map[l][words - 1] & ~(BIT(tail) - 1)))
		return false;
	if (l + 1 == a->levels)
		return words == 1;
	for (i = 0; i < words; i++)
		if (!a->map[l][i] != !test_bit(i, a->map[l + 1]))
			return false;
	return true;
}

/* Per order: set bits match nr_free, every level is well formed. */
static int __co_buddy_check_maps(struct co_buddy *b)
{
	unsigned int order, l;

	lockdep_assert_held(&b->lock);
	for (order = 0; order <= b->max_order; order++) {
		struct co_buddy_area *a = &b->area[order];
		unsigned long nbits = a->nbits;
		unsigned int set = bitmap_weight(a->map[0], nbits);

		if (set != a->nr_free)
			return co_buddy_bad(b, "order %u: %u bits set but nr_free %lu",
					    order, set, a->nr_free);
		for (l = 0; l < a->levels; l++) {
			if (!co_hbm_level_ok(a, l, nbits))
				return co_buddy_bad(b, "order %u level %u: stray or summary bits",
						    order, l);
			nbits = BITS_TO_LONGS(nbits);
		}
	}
	return 0;
}

/* Free, in-use and head counts agree with the counters; heads are in use. */
static int __co_buddy_check_pages(struct co_buddy *b, unsigned long *used)
{
	unsigned long free_cnt = 0, w;
	unsigned int order;

	lockdep_assert_held(&b->lock);
	for (order = 0; order <= b->max_order; order++)
		free_cnt += b->area[order].nr_free << order;
	if (free_cnt != b->free_pages)
		return co_buddy_bad(b, "free blocks hold %lu pages, free_pages %lu",
				    free_cnt, b->free_pages);

	for (w = 0; w < BITS_TO_LONGS(b->nr_pages); w++)
		if (b->head[w] & ~b->inuse[w])
			return co_buddy_bad(b, "head bit on a free page near rel %lu",
					    w * BITS_PER_LONG);
	*used = bitmap_weight(b->inuse, b->nr_pages);
	if (*used + b->free_pages != b->nr_pages)
		return co_buddy_bad(b, "%lu pages in use + %lu free != %lu",
				    *used, b->free_pages, b->nr_pages);
	if (bitmap_weight(b->head, b->nr_pages) != b->nr_allocs)
		return co_buddy_bad(b, "%u heads but %lu allocations",
				    bitmap_weight(b->head, b->nr_pages),
				    b->nr_allocs);
	return 0;
}

/* Clean bits: only on free pages, as many as counted (co_buddy_clean.c). */
static int __co_buddy_check_clean(struct co_buddy *b)
{
	unsigned long w;

	lockdep_assert_held(&b->lock);
	for (w = 0; w < BITS_TO_LONGS(b->nr_pages); w++)
		if (b->clean[w] & b->inuse[w])
			return co_buddy_bad(b, "clean bit on an in-use page near rel %lu",
					    w * BITS_PER_LONG);
	if (bitmap_weight(b->clean, b->nr_pages) != b->clean_pages)
		return co_buddy_bad(b, "%u clean bits but clean_pages %lu",
				    bitmap_weight(b->clean, b->nr_pages),
				    b->clean_pages);
	if (b->zero_pages &&
	    (b->zero_pfn < b->start_pfn || b->zero_pages > b->nr_pages ||
	     b->zero_pfn - b->start_pfn > b->nr_pages - b->zero_pages))
		return co_buddy_bad(b, "zeroing %#lx+%lu outside the arena",
				    b->zero_pfn, b->zero_pages);
	return 0;
}

/*
 * The free block of order @o at @pfn: not also free at a lower order,
 * inside the arena, no page of it in use, its buddy not free (coalesced).
 */
static int __co_buddy_check_block(struct co_buddy *b, unsigned long pfn,
				  unsigned int o)
{
	unsigned long rel = pfn - b->start_pfn, end = rel + (1UL << o);
	unsigned int other;

	lockdep_assert_held(&b->lock);
	for (other = 0; other < o; other++)
		if (co_hbm_test(&b->area[other], co_buddy_slot(b, pfn, other)))
			return co_buddy_bad(b, "pfn %#lx free at orders %u and %u",
					    pfn, other, o);
	if (pfn + (1UL << o) > b->end_pfn)
		return co_buddy_bad(b, "free block %#lx order %u past the end",
				    pfn, o);
	if (find_next_bit(b->inuse, end, rel) < end)
		return co_buddy_bad(b, "free block %#lx order %u has in-use pages",
				    pfn, o);
	if (o < b->max_order &&
	    co_hbm_test(&b->area[o],
			co_buddy_slot(b, co_buddy_buddy_pfn(pfn, o), o)))
		return co_buddy_bad(b, "block %#lx and its buddy free at order %u",
				    pfn, o);
	return 0;
}

/*
 * Address-order walk: in-use runs start with a head, free blocks tile the
 * rest, and the blocks seen per order match the counters.
 */
static int __co_buddy_check_walk(struct co_buddy *b)
{
	unsigned long seen[CO_BUDDY_NR_ORDERS] = { 0 };
	unsigned long pfn = b->start_pfn, free_walk = 0;
	unsigned int order;
	int ret, o;

	lockdep_assert_held(&b->lock);
	while (pfn < b->end_pfn) {
		unsigned long rel = pfn - b->start_pfn;

		if (test_bit(rel, b->inuse)) {
			if (!test_bit(rel, b->head))
				return co_buddy_bad(b, "in-use run at pfn %#lx has no head",
						    pfn);
			pfn = b->start_pfn +
			      find_next_zero_bit(b->inuse, b->nr_pages, rel);
			continue;
		}
		o = __co_buddy_free_order_at(b, pfn);
		if (o < 0)
			return co_buddy_bad(b, "pfn %#lx neither in use nor in a free block",
					    pfn);
		ret = __co_buddy_check_block(b, pfn, o);
		if (ret)
			return ret;
		seen[o]++;
		free_walk += 1UL << o;
		pfn += 1UL << o;
	}
	for (order = 0; order <= b->max_order; order++)
		if (seen[order] != b->area[order].nr_free)
			return co_buddy_bad(b, "order %u: walk saw %lu blocks, nr_free %lu",
					    order, seen[order],
					    b->area[order].nr_free);
	if (free_walk != b->free_pages)
		return co_buddy_bad(b, "walk found %lu free pages, expected %lu",
				    free_walk, b->free_pages);
	return 0;
}

/* Allocation counters and byte accounting, given @used pages in use. */
static int __co_buddy_check_bytes(struct co_buddy *b, unsigned long used)
{
	u64 granted = (u64)used << PAGE_SHIFT;

	lockdep_assert_held(&b->lock);
	if (b->nr_alloc_ok - b->nr_free_ok != b->nr_allocs)
		return co_buddy_bad(b, "%llu allocs - %llu frees != %lu live",
				    b->nr_alloc_ok, b->nr_free_ok,
				    b->nr_allocs);
	if (b->requested_bytes > granted)
		return co_buddy_bad(b, "requested %llu bytes > granted %llu",
				    b->requested_bytes, granted);
	if (granted - b->requested_bytes >=
	    (u64)max(b->nr_allocs, 1UL) * PAGE_SIZE)
		return co_buddy_bad(b, "waste %llu bytes >= a page per allocation (%lu)",
				    granted - b->requested_bytes,
				    b->nr_allocs);
	return 0;
}

/**
 * co_buddy_check() - verify every invariant of the arena
 * @b: arena
 *
 * O(arena / BITS_PER_LONG + free blocks * orders); a debugging aid.
 *
 * Context: Does not sleep; holds the arena lock for the whole walk.
 * Return: 0, or -EUCLEAN after a pr_err() naming the broken invariant.
 */
int co_buddy_check(struct co_buddy *b)
{
	unsigned long used = 0;
	int ret;

	spin_lock(&b->lock);
	ret = __co_buddy_check_maps(b);
	if (!ret)
		ret = __co_buddy_check_pages(b, &used);
	if (!ret)
		ret = __co_buddy_check_walk(b);
	if (!ret)
		ret = __co_buddy_check_bytes(b, used);
	if (!ret)
		ret = __co_buddy_check_clean(b);
	spin_unlock(&b->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_check);
