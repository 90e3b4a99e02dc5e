// SPDX-License-Identifier: GPL-2.0
/*
 * co_buddy_clean.c - free pages known to hold only zeros
 *
 * Memory is handed out zeroed.  Zeroing at allocation time makes a large
 * allocation as slow as writing all of it, so free memory is zeroed ahead
 * of need instead (by co_zero.c) and remembered as clean in the arena's
 * @clean bitmap, one bit per page.  Zeroing happens in place, on pages
 * that stay free, one step of at most 2^max_order pages at a time:
 *
 *  - co_buddy_zero_begin() finds a free page that is not clean and notes
 *    the aligned range of at most 2^max_order free pages around it as
 *    being zeroed; the caller then writes zeros to it without the lock;
 *  - co_buddy_zero_end() sets the clean bit of every page of the range
 *    that is still free and wakes allocations waiting for the step;
 *  - every allocation clears the clean bits of what it takes
 *    (__co_buddy_clean_take() in co_buddy_do_alloc()) and reports whether
 *    all of them were set.  If it took pages of the range being zeroed, it
 *    waits for co_buddy_zero_end() before returning, so no zero is ever
 *    written to a page its new owner can reach, and reports them dirty (it
 *    cleared their bits first; the caller zeroes again).
 *
 * So a clean bit is only ever set on a free page that was written with
 * zeros after its last owner let go of it.  Free pages are reachable by no
 * owner (no mapping, pin or DMA mapping is left, see co_buffer.c), and the
 * zeroing writes through the kernel's cached linear mapping, the only
 * mapping free pages have.  The free lists never change for zeroing:
 * statistics, free maps and the largest free block read the same whether
 * or not it runs.
 *
 * Bits describe pages, not blocks: they survive coalescing and splitting.
 * Locking: the arena lock (co_buddy.h), as for the rest of the arena.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "co_buddy_priv.h"

/* First page at or after @rel that is free and not clean, or nr_pages. */
static unsigned long __co_buddy_next_dirty(struct co_buddy *b,
					   unsigned long rel)
{
	lockdep_assert_held(&b->lock);
	while (rel < b->nr_pages) {
		rel = find_next_zero_bit(b->clean, b->nr_pages, rel);
		if (rel >= b->nr_pages || !test_bit(rel, b->inuse))
			break;
		rel = find_next_zero_bit(b->inuse, b->nr_pages, rel);
	}
	return min(rel, b->nr_pages);
}

/* Order of the free block containing free page @pfn, and its first page. */
static int __co_buddy_block_of(struct co_buddy *b, unsigned long pfn,
			       unsigned long *start)
{
	unsigned int o;

	lockdep_assert_held(&b->lock);
	for (o = 0; o <= b->max_order; o++) {
		unsigned long s = pfn & ~((1UL << o) - 1);

		if (s < b->start_pfn || s + (1UL << o) > b->end_pfn)
			break;
		if (co_hbm_test(&b->area[o], co_buddy_slot(b, s, o))) {
			*start = s;
			return o;
		}
	}
	return -1;
}

/**
 * co_buddy_zero_begin() - pick free pages to zero
 * @b: arena
 * @max_order: at most 2^@max_order pages
 * @pfn: returns the first page
 * @nr_pages: returns the number of pages (a power of two)
 *
 * Looks from where the last step stopped, wrapping around.  The caller
 * writes zeros to the pages, then calls co_buddy_zero_end(); allocations
 * that take any of them meanwhile wait for that.  One step at a time per
 * arena.
 *
 * Context: Process context, does not sleep.
 * Return: 0, -EBUSY if a step is under way, -ENOENT if every free page is
 * clean.
 */
int co_buddy_zero_begin(struct co_buddy *b, unsigned int max_order,
			unsigned long *pfn, unsigned long *nr_pages)
{
	unsigned long rel, bs = 0, s;
	int o, ret = -ENOENT;
	unsigned int z;

	spin_lock(&b->lock);
	if (b->zero_pages) {
		ret = -EBUSY;
		goto out;
	}
	if (b->free_pages == b->clean_pages)
		goto out;
	rel = __co_buddy_next_dirty(b, b->zero_cursor);
	if (rel >= b->nr_pages)
		rel = __co_buddy_next_dirty(b, 0);
	o = rel < b->nr_pages ?
	    __co_buddy_block_of(b, b->start_pfn + rel, &bs) : -1;
	if (WARN_ON_ONCE(o < 0))
		goto out;
	z = min_t(unsigned int, o, max_order);
	s = (b->start_pfn + rel) & ~((1UL << z) - 1);
	b->zero_pfn = s;
	b->zero_pages = 1UL << z;
	b->zero_cursor = s + b->zero_pages - b->start_pfn;
	*pfn = s;
	*nr_pages = b->zero_pages;
	ret = 0;
out:
	spin_unlock(&b->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_zero_begin);

/**
 * co_buddy_zero_end() - the pages of co_buddy_zero_begin() hold zeros
 * @b: arena
 *
 * Marks those of them that are still free clean; the others were taken by
 * an allocation meanwhile, which counted them dirty and waits for this.
 *
 * Context: Process context, does not sleep.
 */
void co_buddy_zero_end(struct co_buddy *b)
{
	unsigned long rel, end, e;

	spin_lock(&b->lock);
	if (WARN_ON_ONCE(!b->zero_pages)) {
		spin_unlock(&b->lock);
		return;
	}
	rel = b->zero_pfn - b->start_pfn;
	end = rel + b->zero_pages;
	while (rel < end) {
		rel = find_next_zero_bit(b->inuse, end, rel);
		if (rel >= end)
			break;
		e = find_next_bit(b->inuse, end, rel);
		__co_buddy_clean_take(b, rel, e - rel);
		bitmap_set(b->clean, rel, e - rel);
		b->clean_pages += e - rel;
		rel = e;
	}
	b->zero_pages = 0;
	WRITE_ONCE(b->zero_seq, b->zero_seq + 1);
	spin_unlock(&b->lock);
	wake_up_var(&b->zero_seq);
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_zero_end);

/**
 * co_buddy_clean_pages() - free pages known to hold only zeros
 * @b: arena
 *
 * Context: Process context, does not sleep.
 * Return: the count.
 */
unsigned long co_buddy_clean_pages(struct co_buddy *b)
{
	unsigned long n;

	spin_lock(&b->lock);
	n = b->clean_pages;
	spin_unlock(&b->lock);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_clean_pages);

/**
 * co_buddy_dirty_pages() - free pages that are not known to be clean
 * @b: arena
 *
 * Context: Process context, does not sleep.
 * Return: the count.
 */
unsigned long co_buddy_dirty_pages(struct co_buddy *b)
{
	unsigned long n;

	spin_lock(&b->lock);
	n = b->free_pages - b->clean_pages;
	spin_unlock(&b->lock);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_dirty_pages);
