// SPDX-License-Identifier: GPL-2.0
/*
 * co_buddy_stats.c - read-only views of a buddy arena: queries, statistics
 * and free-block walks
 *
 * Everything here reads struct co_buddy and changes nothing: constant
 * geometry (co_buddy_contains(), co_buddy_max_order(),
 * co_buddy_metadata_bytes()) is read without the lock; counters, the
 * per-order free counts and the free bitmaps are read under the arena lock
 * (struct co_buddy in co_buddy.h).  The walkers hand each free block to a
 * callback under that lock and can resume from a PFN, so a reader of a
 * large arena (debugfs, the FREEMAP ioctl) can keep each lock hold short.
 *
 * The fragmentation index follows mm/vmstat.c's unusable_free_index().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "co_buddy_priv.h"

/* ---------------------------------------------------------------------- */
/* Queries                                                                 */
/* ---------------------------------------------------------------------- */

/**
 * co_buddy_contains() - whether @pfn is inside the arena
 * @b: arena
 * @pfn: PFN to test
 *
 * Context: Any; reads only constant geometry.
 * Return: true if start_pfn <= @pfn < start_pfn + nr_pages.
 */
bool co_buddy_contains(const struct co_buddy *b, unsigned long pfn)
{
	return pfn >= b->start_pfn && pfn < b->end_pfn;
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_contains);

/**
 * co_buddy_free_pages() - number of free pages
 * @b: arena
 *
 * Context: Process context, does not sleep; takes the arena lock.
 * Return: free pages at the time of the call.
 */
unsigned long co_buddy_free_pages(struct co_buddy *b)
{
	unsigned long n;

	spin_lock(&b->lock);
	n = b->free_pages;
	spin_unlock(&b->lock);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_free_pages);

/**
 * co_buddy_max_order() - largest block order the arena can hold
 * @b: arena
 *
 * Context: Any; constant after co_buddy_init().
 * Return: the order of the largest naturally aligned block in the arena.
 */
unsigned int co_buddy_max_order(const struct co_buddy *b)
{
	return b->max_order;
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_max_order);

/**
 * co_buddy_metadata_bytes() - memory used for the arena's metadata
 * @b: arena
 *
 * Context: Any; constant after co_buddy_init().
 * Return: bytes of kernel memory allocated by co_buddy_init().
 */
size_t co_buddy_metadata_bytes(const struct co_buddy *b)
{
	return b->meta_bytes;
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_metadata_bytes);

/* ---------------------------------------------------------------------- */
/* Statistics                                                              */
/* ---------------------------------------------------------------------- */

/**
 * co_buddy_get_stats() - snapshot the arena statistics
 * @b: arena
 * @st: filled in
 *
 * Context: Process context, does not sleep; takes the arena lock.
 */
void co_buddy_get_stats(struct co_buddy *b, struct co_buddy_stats *st)
{
	unsigned int order, k;

	memset(st, 0, sizeof(*st));
	st->largest_free_order = -1;

	spin_lock(&b->lock);
	st->start_pfn = b->start_pfn;
	st->nr_pages = b->nr_pages;
	st->max_order = b->max_order;
	st->free_pages = b->free_pages;
	st->clean_pages = b->clean_pages;
	for (order = 0; order <= b->max_order; order++) {
		st->nr_free[order] = b->area[order].nr_free;
		if (st->nr_free[order])
			st->largest_free_order = order;
	}
	st->nr_allocs = b->nr_allocs;
	st->requested_bytes = b->requested_bytes;
	st->granted_bytes = (u64)(b->nr_pages - b->free_pages) << PAGE_SHIFT;
	st->nr_alloc_ok = b->nr_alloc_ok;
	st->nr_free_ok = b->nr_free_ok;
	st->nr_fail = b->nr_fail;
	st->nr_invalid = b->nr_invalid;
	st->metadata_bytes = b->meta_bytes;
	spin_unlock(&b->lock);

	if (st->largest_free_order >= 0)
		st->largest_free_pages = 1UL << st->largest_free_order;

	/* mm/vmstat.c fill_contig_page_info() + unusable_free_index() */
	for (order = 0; order < CO_BUDDY_NR_ORDERS; order++) {
		u64 suitable = 0;

		if (!st->free_pages) {
			st->unusable_index[order] = 1000;
			continue;
		}
		for (k = order; k <= st->max_order; k++)
			suitable += (u64)st->nr_free[k] << (k - order);
		st->unusable_index[order] =
			div64_u64((st->free_pages - (suitable << order)) * 1000ULL,
				  st->free_pages);
	}
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_get_stats);

/* ---------------------------------------------------------------------- */
/* Free-block walks                                                        */
/* ---------------------------------------------------------------------- */

/*
 * End of the free block that contains @pfn without starting there, or 0 if
 * there is none.  Blocks are naturally aligned, so the candidates are
 * @pfn rounded down to each order: with @pfn 0x1003, an order-2 block at
 * 0x1000 contains it and the walk resumes at 0x1004.
 */
static unsigned long __co_buddy_block_end(struct co_buddy *b,
					  unsigned long pfn)
{
	unsigned long head;
	unsigned int order;

	lockdep_assert_held(&b->lock);
	for (order = 1; order <= b->max_order; order++) {
		head = ALIGN_DOWN(pfn, 1UL << order);
		if (head < b->start_pfn)
			break;
		if (co_hbm_test(&b->area[order], co_buddy_slot(b, head, order)))
			return head + (1UL << order);
	}
	return 0;
}

/**
 * co_buddy_walk_free_from() - call @fn for free blocks from a page on
 * @b: arena
 * @from: first PFN of interest; a free block that starts before it is
 *	skipped, so a walk resumed at the end of the last block reported
 *	never reports a block twice
 * @fn: callback; returns 0 to continue, anything else stops the walk
 * @priv: passed to @fn
 *
 * Context: Takes the arena lock for the walk; @fn must not sleep and must
 * not call into @b.  Callers that walk large arenas stop after a bounded
 * number of blocks and resume later, to keep the lock hold short.
 * Return: 0, or the first non-zero value returned by @fn.
 */
int co_buddy_walk_free_from(struct co_buddy *b, unsigned long from,
			    co_buddy_walk_fn fn, void *priv)
{
	unsigned long pfn = max(from, b->start_pfn), end;
	int ret = 0;

	spin_lock(&b->lock);
	while (pfn < b->end_pfn) {
		unsigned long rel = pfn - b->start_pfn;
		int order;

		if (test_bit(rel, b->inuse)) {
			pfn = b->start_pfn +
			      find_next_zero_bit(b->inuse, b->nr_pages, rel);
			continue;
		}
		order = __co_buddy_free_order_at(b, pfn);
		if (order < 0) {
			end = __co_buddy_block_end(b, pfn);
			if (WARN_ON_ONCE(!end))
				break;
			pfn = end;
			continue;
		}
		ret = fn(pfn, order, priv);
		if (ret)
			break;
		pfn += 1UL << order;
	}
	spin_unlock(&b->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_walk_free_from);

/**
 * co_buddy_walk_free() - call @fn for every free block, by address
 * @b: arena
 * @fn: callback; returns 0 to continue, anything else stops the walk
 * @priv: passed to @fn
 *
 * Context: as co_buddy_walk_free_from().
 * Return: 0, or the first non-zero value returned by @fn.
 */
int co_buddy_walk_free(struct co_buddy *b, co_buddy_walk_fn fn, void *priv)
{
	return co_buddy_walk_free_from(b, b->start_pfn, fn, priv);
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_walk_free);
