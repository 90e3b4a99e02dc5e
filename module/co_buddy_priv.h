/* SPDX-License-Identifier: GPL-2.0 */
/*
 * co_buddy_priv.h - primitives shared by the buddy allocator's files
 *
 * Only co_buddy.c (setup, alloc, free), co_buddy_stats.c (queries, stats,
 * free-block walks) and co_buddy_check.c (consistency checker) include this
 * header; everyone else uses co_buddy.h.  It holds the per-order
 * hierarchical bitmap operations and the block arithmetic, all static
 * inline, so the three files share them without calling each other.
 *
 * The co_hbm_*() helpers work on one struct co_buddy_area and cannot name
 * the arena lock; their callers hold &co_buddy.lock (and assert it).
 */
#ifndef _CARVEOUT_CO_BUDDY_PRIV_H
#define _CARVEOUT_CO_BUDDY_PRIV_H

#include "co_buddy.h"

/*
 * A page count that shifts to a u64 byte address and leaves room for
 * start_pfn + nr_pages.
 */
#define CO_BUDDY_MAX_PFN	(U64_MAX >> PAGE_SHIFT)

/* ---------------------------------------------------------------------- */
/* Hierarchical bitmap of one order                                        */
/* ---------------------------------------------------------------------- */

/*
 * co_hbm_set - mark slot @i free.  Propagates upward only while the word it
 * lands in was empty.  Example: setting slot 130 sets bit 2 of word 2 of
 * level 0; if that word was 0, bit 2 of word 0 of level 1 is set, and so on.
 */
static inline void co_hbm_set(struct co_buddy_area *a, unsigned long i)
{
	unsigned int l;

	for (l = 0; l < a->levels; l++) {
		unsigned long *w = &a->map[l][i / BITS_PER_LONG];
		bool was_empty = !*w;

		*w |= BIT(i % BITS_PER_LONG);
		if (!was_empty)
			break;
		i /= BITS_PER_LONG;
	}
}

/*
 * co_hbm_clear - mark slot @i not free; clears summary bits of words that
 * become empty.  Example: clearing slot 130 when it is the only bit of
 * word 2 of level 0 also clears bit 2 of word 0 of level 1.
 */
static inline void co_hbm_clear(struct co_buddy_area *a, unsigned long i)
{
	unsigned int l;

	for (l = 0; l < a->levels; l++) {
		unsigned long *w = &a->map[l][i / BITS_PER_LONG];

		*w &= ~BIT(i % BITS_PER_LONG);
		if (*w)
			break;
		i /= BITS_PER_LONG;
	}
}

/* co_hbm_test - whether slot @i holds a free block (false past the end). */
static inline bool co_hbm_test(const struct co_buddy_area *a, unsigned long i)
{
	return i < a->nbits && test_bit(i, a->map[0]);
}

/*
 * co_hbm_first - lowest free slot or a->nbits if none.  One __ffs() per
 * level: the top word names the first non-empty word of the level below.
 * Example: two levels, top word 0b100 -> word 2 of level 0; if that word
 * is 0b1000, the slot is 2 * 64 + 3 = 131.
 */
static inline unsigned long co_hbm_first(const struct co_buddy_area *a)
{
	unsigned int l = a->levels - 1;
	unsigned long i = 0;

	if (!a->map[l][0])
		return a->nbits;
	for (;;) {
		i = i * BITS_PER_LONG + __ffs(a->map[l][i]);
		if (!l)
			return i;
		l--;
	}
}

/* ---------------------------------------------------------------------- */
/* Block arithmetic                                                        */
/* ---------------------------------------------------------------------- */

/*
 * co_buddy_slot - slot of the block of @order starting at @pfn.
 * Example: arena starting at pfn 0x105, order 2: base = 0x41, so the block
 * at pfn 0x108 is slot 0x42 - 0x41 = 1.  Slot 0 (pfn 0x104) straddles the
 * arena start and is never free.
 */
static inline unsigned long co_buddy_slot(const struct co_buddy *b,
					  unsigned long pfn, unsigned int order)
{
	return (pfn >> order) - b->area[order].base;
}

/*
 * co_buddy_buddy_pfn - the buddy of the order-@order block at @pfn.
 * Example: order 1, pfn 0x10c -> 0x10e; pfn 0x10e -> 0x10c.  Their parent
 * is the order-2 block at pfn & ~(2 << order - 1) = 0x10c.
 */
static inline unsigned long co_buddy_buddy_pfn(unsigned long pfn,
					       unsigned int order)
{
	return pfn ^ (1UL << order);
}

/*
 * co_buddy_piece_order - order of the largest aligned block starting at
 * @pfn that fits in [@pfn, @end) and does not exceed @max_order.
 * Example: pfn 0x106, end 0x120: 0x106 is 2-aligned (order 1) although 0x1a
 * pages remain, so the piece is [0x106, 0x108); next 0x108 gives order 3.
 */
static inline unsigned int co_buddy_piece_order(unsigned long pfn,
						unsigned long end,
						unsigned int max_order)
{
	unsigned int order = ilog2(end - pfn);

	if (pfn)
		order = min_t(unsigned int, order, __ffs(pfn));
	return min(order, max_order);
}

/*
 * __co_buddy_free_order_at - order of the free block starting at @pfn, or
 * -1 if none starts there.  Only orders @pfn is aligned to can start there.
 * Example: pfn 0x108 is tested at orders 3, 2, 1, 0 (if max_order >= 3).
 */
static inline int __co_buddy_free_order_at(struct co_buddy *b,
					   unsigned long pfn)
{
	unsigned int top = b->max_order;
	int order;

	lockdep_assert_held(&b->lock);
	if (pfn)
		top = min_t(unsigned int, top, __ffs(pfn));
	for (order = top; order >= 0; order--)
		if (co_hbm_test(&b->area[order], co_buddy_slot(b, pfn, order)))
			return order;
	return -1;
}

/* ---------------------------------------------------------------------- */
/* Free blocks (co_buddy.c and co_buddy_clean.c put blocks back)           */
/* ---------------------------------------------------------------------- */

/*
 * __co_buddy_free_block - put a block back and coalesce it upward.
 * The merged block is inside the arena because both halves are.
 */
static inline void __co_buddy_free_block(struct co_buddy *b,
					 unsigned long pfn, unsigned int order)
{
	struct co_buddy_area *a;

	lockdep_assert_held(&b->lock);
	while (order < b->max_order) {
		unsigned long buddy = co_buddy_buddy_pfn(pfn, order);
		unsigned long slot;

		a = &b->area[order];
		slot = co_buddy_slot(b, buddy, order);
		if (!co_hbm_test(a, slot))
			break;
		co_hbm_clear(a, slot);
		a->nr_free--;
		pfn &= ~(1UL << order);
		order++;
	}
	a = &b->area[order];
	co_hbm_set(a, co_buddy_slot(b, pfn, order));
	a->nr_free++;
}

/* __co_buddy_free_range - free [@start, @end) as maximal aligned blocks. */
static inline void __co_buddy_free_range(struct co_buddy *b,
					 unsigned long start, unsigned long end)
{
	lockdep_assert_held(&b->lock);
	while (start < end) {
		unsigned int order = co_buddy_piece_order(start, end,
							  b->max_order);

		__co_buddy_free_block(b, start, order);
		start += 1UL << order;
	}
}

/* ---------------------------------------------------------------------- */
/* Clean pages                                                             */
/* ---------------------------------------------------------------------- */

/*
 * __co_buddy_clean_take - forget that pages [@rel, @rel + @nr) (arena
 * relative) hold zeros, because they are about to be handed out.  Returns
 * how many of them did.  Example: clean bits 0b0110 at rel 0, nr 4: two
 * runs are not clean, one run of two is, returns 2 and clears both bits.
 */
static inline unsigned long __co_buddy_clean_take(struct co_buddy *b,
						  unsigned long rel,
						  unsigned long nr)
{
	unsigned long end = rel + nr, i = rel, e, n = 0;

	lockdep_assert_held(&b->lock);
	while (b->clean_pages) {
		i = find_next_bit(b->clean, end, i);
		if (i >= end)
			break;
		e = find_next_zero_bit(b->clean, end, i);
		bitmap_clear(b->clean, i, e - i);
		n += e - i;
		i = e;
	}
	b->clean_pages -= n;
	return n;
}

#endif /* _CARVEOUT_CO_BUDDY_PRIV_H */
