// SPDX-License-Identifier: GPL-2.0
/*
 * co_buddy.c - page-granular buddy allocator over an arena of PFNs:
 * setup, allocation and free
 *
 * The arena is "nr_pages pages starting at start_pfn", of any size and any
 * start.  Blocks are naturally aligned in absolute PFN terms (a block of
 * order k has pfn % 2^k == 0); the free lists are seeded with the maximal
 * aligned blocks of the arena and orders go up to the largest such block
 * (co_buddy_max_order()), not capped at MAX_PAGE_ORDER.
 *
 * The pages are handed to devices and userspace, so the allocator never
 * writes to or even computes a pointer into them: every piece of metadata
 * lives in one kvcalloc()ed array of bitmap words:
 *
 *  - per order a hierarchical free bitmap (struct co_buddy_area): level 0 has
 *    one bit per block slot, level l + 1 one bit per non-zero word of level l,
 *    up to a single top word.  Finding the lowest free block of an order is
 *    one __ffs() per level, inserting or removing a block touches at most one
 *    word per level.
 *  - an in-use bitmap and an allocation-head bitmap, one bit per page, used
 *    to validate frees (never allocated, double, wrong size, middle of an
 *    allocation, outside the arena) without trusting the caller.
 *  - a clean bitmap, one bit per page: free pages known to hold only zeros
 *    (co_buddy_clean.c).
 *
 * Size: per order o about nr_pages / 2^o bits (+1/63 for the upper levels),
 * so all orders together take ~2 bits per page, plus 3 bits per page for the
 * in-use, head and clean bitmaps: ~5.1 bits per page = 0.0155% of the arena
 * with 4 KiB pages (1 GiB arena: ~163 KiB), far below the 0.2% budget.  A linked
 * free list would need a node per free block outside the memory, i.e. a
 * per-page array of at least 8 bytes (0.2%), and gives no cheap
 * "lowest address first" order.
 *
 * Policy: best fit by order, lowest address within the order, except that
 * a block known to hold zeros among the next few of the order is taken
 * before a lower one that is not (co_buddy_clean.c).  Low-first
 * packing keeps the top of the arena in large blocks (fights fragmentation)
 * and makes the optional upper PFN limit trivial: if the lowest free block of
 * an order is above the limit, every block of that order is.
 *
 * Exact sizes: a request for n pages takes the smallest block of order
 * order_base_2(n) (or the alignment order if larger), keeps the first n pages
 * and frees the tail as maximal aligned blocks, so at most 0 pages are wasted
 * (plus < 1 page for byte-sized requests).  A free takes the exact range and
 * splits it into maximal aligned blocks, each coalesced upward with its buddy
 * (pfn ^ 2^order) while the buddy is free.
 *
 * Invariants (verified by co_buddy_check() in co_buddy_check.c):
 *  - every page is either in use or covered by exactly one free block;
 *  - no free block has a free buddy of the same order (coalescing complete);
 *  - each upper bitmap level summarises the level below;
 *  - head bits are a subset of in-use bits and mark the start of every run;
 *  - counters (free pages, per-order counts, live allocations, bytes) agree.
 *
 * Files: this one changes the arena; co_buddy_stats.c reads it (queries,
 * statistics, free-block walks); co_buddy_check.c verifies it.  They share
 * only the static inline primitives of co_buddy_priv.h and call nothing in
 * each other.  Locking: the arena lock, documented with struct co_buddy in
 * co_buddy.h; every __co_buddy_*() helper runs with it held.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "co_buddy_priv.h"

/* ---------------------------------------------------------------------- */
/* Setup                                                                   */
/* ---------------------------------------------------------------------- */

/* Largest order of an aligned block inside [start, start + nr). */
static unsigned int co_buddy_calc_max_order(unsigned long start,
					    unsigned long nr)
{
	unsigned int order = min_t(unsigned int, ilog2(nr),
				   CO_BUDDY_NR_ORDERS - 1);

	for (; order > 0; order--) {
		unsigned long first = ALIGN(start, 1UL << order);

		if (first + (1UL << order) <= start + nr)
			break;
	}
	return order;
}

/* Words of all levels of an order with @nbits slots; fills levels if @a. */
static size_t co_hbm_words(unsigned long nbits, struct co_buddy_area *a)
{
	unsigned int levels = 1;
	size_t words = BITS_TO_LONGS(nbits);

	while (nbits > BITS_PER_LONG) {
		nbits = BITS_TO_LONGS(nbits);
		words += BITS_TO_LONGS(nbits);
		levels++;
	}
	if (a)
		a->levels = levels;
	return words;
}

/* Point the in-use, head and per-order bitmaps into the @b->meta words. */
static void co_buddy_layout(struct co_buddy *b, unsigned long page_words)
{
	unsigned long *w = b->meta;
	unsigned int order, l;

	b->inuse = w;
	w += page_words;
	b->head = w;
	w += page_words;
	b->clean = w;
	w += page_words;
	for (order = 0; order <= b->max_order; order++) {
		struct co_buddy_area *a = &b->area[order];
		unsigned long nbits = a->nbits;

		for (l = 0; l < a->levels; l++) {
			a->map[l] = w;
			w += BITS_TO_LONGS(nbits);
			nbits = BITS_TO_LONGS(nbits);
		}
	}
}

/**
 * co_buddy_init() - set up an arena and mark all of it free
 * @b: arena to initialise (embedded by the caller, contents ignored)
 * @start_pfn: first PFN
 * @nr_pages: number of pages, any count >= 1
 *
 * Allocates all metadata (see co_buddy_metadata_bytes()); the pages
 * themselves are never touched.
 *
 * Context: Process context, may sleep.
 * Return: 0, -EINVAL for an empty, oversized or wrapping range, or -ENOMEM.
 */
int co_buddy_init(struct co_buddy *b, unsigned long start_pfn,
		  unsigned long nr_pages)
{
	unsigned long page_words;
	unsigned int order;
	size_t words;

	might_sleep();
	memset(b, 0, sizeof(*b));
	if (!nr_pages || nr_pages >= BIT(CO_BUDDY_NR_ORDERS) ||
	    start_pfn > CO_BUDDY_MAX_PFN - nr_pages)
		return -EINVAL;

	spin_lock_init(&b->lock);
	b->start_pfn = start_pfn;
	b->end_pfn = start_pfn + nr_pages;
	b->nr_pages = nr_pages;
	b->max_order = co_buddy_calc_max_order(start_pfn, nr_pages);

	b->area = kcalloc(b->max_order + 1, sizeof(*b->area), GFP_KERNEL);
	if (!b->area)
		return -ENOMEM;

	page_words = BITS_TO_LONGS(nr_pages);
	words = 3 * page_words;
	for (order = 0; order <= b->max_order; order++) {
		struct co_buddy_area *a = &b->area[order];

		a->base = start_pfn >> order;
		a->nbits = ((b->end_pfn - 1) >> order) - a->base + 1;
		words += co_hbm_words(a->nbits, a);
	}

	b->meta = kvcalloc(words, sizeof(unsigned long), GFP_KERNEL);
	if (!b->meta)
		goto err_free_area;
	b->meta_bytes = words * sizeof(unsigned long) +
			(b->max_order + 1) * sizeof(*b->area);
	co_buddy_layout(b, page_words);

	spin_lock(&b->lock);
	__co_buddy_free_range(b, b->start_pfn, b->end_pfn);
	b->free_pages = nr_pages;
	spin_unlock(&b->lock);
	return 0;

err_free_area:
	kfree(b->area);
	b->area = NULL;
	return -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_init);

/**
 * co_buddy_destroy() - free the metadata of an arena
 * @b: arena passed to co_buddy_init() (a failed init or a second destroy
 *	is a no-op)
 *
 * The caller must have freed every allocation; if pages are still allocated
 * this WARNs once and frees the metadata anyway (the pages are not ours).
 *
 * Context: Process context, may sleep.  No concurrent users of @b.
 */
void co_buddy_destroy(struct co_buddy *b)
{
	might_sleep();
	if (!b->meta)
		return;
	WARN_ON_ONCE(b->free_pages != b->nr_pages);
	kvfree(b->meta);
	kfree(b->area);
	b->meta = NULL;
	b->area = NULL;
	b->inuse = NULL;
	b->head = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_destroy);

/* ---------------------------------------------------------------------- */
/* Allocation                                                              */
/* ---------------------------------------------------------------------- */

/* Free blocks of one order looked at for a clean one before the lowest. */
#define CO_BUDDY_CLEAN_PROBE	8

/* Whether the first @nr pages at @p are all known to hold zeros. */
static bool __co_buddy_is_clean(struct co_buddy *b, unsigned long p,
				unsigned long nr)
{
	unsigned long rel = p - b->start_pfn;

	return find_next_zero_bit(b->clean, rel + nr, rel) >= rel + nr;
}

/*
 * __co_buddy_pick - slot of the block of order @order to hand out for
 * @nr_pages ending at or below @limit: the lowest one, unless one of the
 * next CO_BUDDY_CLEAN_PROBE free blocks of the order is clean and it is
 * not (zeroing is then skipped).  @a->nbits if none fits.
 */
static unsigned long __co_buddy_pick(struct co_buddy *b, unsigned int order,
				     unsigned long nr_pages,
				     unsigned long limit)
{
	struct co_buddy_area *a = &b->area[order];
	unsigned long first = co_hbm_first(a), slot = first, p;
	unsigned int probe;

	p = (a->base + first) << order;
	if (p + nr_pages > limit)
		return a->nbits;
	if (b->clean_pages < nr_pages || __co_buddy_is_clean(b, p, nr_pages))
		return first;
	for (probe = 0; probe < CO_BUDDY_CLEAN_PROBE; probe++) {
		slot = find_next_bit(a->map[0], a->nbits, slot + 1);
		if (slot >= a->nbits)
			break;
		p = (a->base + slot) << order;
		if (p + nr_pages > limit)
			break;
		if (__co_buddy_is_clean(b, p, nr_pages))
			return slot;
	}
	return first;
}

/*
 * __co_buddy_take - a free block of the smallest order >= @order whose
 * first @nr_pages pages end at or below @limit (see __co_buddy_pick()).
 * Removes it and returns its order, or -1.
 */
static int __co_buddy_take(struct co_buddy *b, unsigned int order,
			   unsigned long nr_pages, unsigned long limit,
			   unsigned long *pfn)
{
	lockdep_assert_held(&b->lock);
	for (; order <= b->max_order; order++) {
		struct co_buddy_area *a = &b->area[order];
		unsigned long slot;

		if (!a->nr_free)
			continue;
		slot = __co_buddy_pick(b, order, nr_pages, limit);
		if (slot >= a->nbits)
			continue;
		co_hbm_clear(a, slot);
		a->nr_free--;
		*pfn = (a->base + slot) << order;
		return order;
	}
	return -1;
}

static int co_buddy_do_alloc(struct co_buddy *b, unsigned long nr_pages,
			     unsigned long align_pages, unsigned long limit_pfn,
			     u64 bytes, unsigned long *pfn, bool *clean)
{
	unsigned long nr_clean;
	unsigned long limit = b->end_pfn, seq = 0;
	bool wait = false;
	unsigned int order;
	unsigned long p;
	int got;

	if (!nr_pages || (align_pages > 1 && !is_power_of_2(align_pages)))
		return -EINVAL;
	if (limit_pfn)
		limit = min(limit, limit_pfn);

	spin_lock(&b->lock);
	if (nr_pages > b->nr_pages || limit <= b->start_pfn)
		goto fail;
	order = order_base_2(nr_pages);
	if (align_pages > 1)
		order = max_t(unsigned int, order, ilog2(align_pages));
	if (order > b->max_order)
		goto fail;
	got = __co_buddy_take(b, order, nr_pages, limit, &p);
	if (got < 0)
		goto fail;

	bitmap_set(b->inuse, p - b->start_pfn, nr_pages);
	__set_bit(p - b->start_pfn, b->head);
	nr_clean = __co_buddy_clean_take(b, p - b->start_pfn, nr_pages);
	if (b->zero_pages && p < b->zero_pfn + b->zero_pages &&
	    b->zero_pfn < p + nr_pages) {
		wait = true;
		seq = b->zero_seq;
	}
	b->free_pages -= 1UL << got;
	__co_buddy_free_range(b, p + nr_pages, p + (1UL << got));
	b->free_pages += (1UL << got) - nr_pages;
	b->nr_allocs++;
	b->requested_bytes += bytes;
	b->nr_alloc_ok++;
	spin_unlock(&b->lock);
	/* Zeroing is writing to some of these pages: let it finish. */
	if (wait)
		wait_var_event(&b->zero_seq, READ_ONCE(b->zero_seq) != seq);
	*pfn = p;
	if (clean)
		*clean = nr_clean == nr_pages;
	return 0;

fail:
	b->nr_fail++;
	spin_unlock(&b->lock);
	return -ENOMEM;
}

/**
 * co_buddy_alloc() - allocate physically contiguous pages
 * @b: arena
 * @nr_pages: pages wanted, any count >= 1 (not rounded to a power of two:
 *	the unused tail of the block goes back to the free lists)
 * @align_pages: 0 or 1 for no alignment, else a power of two; the returned
 *	PFN is a multiple of it
 * @limit_pfn: 0, or the PFN the allocation must end at or below (exclusive)
 * @pfn: returns the first PFN
 *
 * Takes the lowest free block of the smallest sufficient order (or a clean
 * one close to it, see __co_buddy_pick()).  The pages are no longer known
 * to be clean afterwards, whichever way they are allocated.
 *
 * Context: Process context (the arena lock is a plain spin_lock(), so not
 * from IRQ or softirq context).  Sleeps only when the pages it takes are
 * being zeroed in the background at that moment, until that step ends
 * (co_buddy_zero_begin(): at most 2^max_order pages of memset).
 * Return: 0, -EINVAL for a zero count or a bad alignment, -ENOMEM if no
 * block fits.
 */
int co_buddy_alloc(struct co_buddy *b, unsigned long nr_pages,
		   unsigned long align_pages, unsigned long limit_pfn,
		   unsigned long *pfn)
{
	if (nr_pages > CO_BUDDY_MAX_PFN)
		return -ENOMEM;
	return co_buddy_do_alloc(b, nr_pages, align_pages, limit_pfn,
				 (u64)nr_pages << PAGE_SHIFT, pfn, NULL);
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_alloc);

/**
 * co_buddy_alloc_clean() - allocate pages and say whether they hold zeros
 * @b: arena
 * @nr_pages: as for co_buddy_alloc()
 * @align_pages: as for co_buddy_alloc()
 * @limit_pfn: as for co_buddy_alloc()
 * @pfn: returns the first PFN
 * @clean: returns true if every page was known to hold only zeros
 *	(co_buddy_zero_end()), so the caller need not zero them
 *
 * Among the lowest free blocks of the order it takes, a clean one is
 * preferred (__co_buddy_pick()).
 *
 * Context: as co_buddy_alloc().
 * Return: as co_buddy_alloc().
 */
int co_buddy_alloc_clean(struct co_buddy *b, unsigned long nr_pages,
			 unsigned long align_pages, unsigned long limit_pfn,
			 unsigned long *pfn, bool *clean)
{
	*clean = false;
	if (nr_pages > CO_BUDDY_MAX_PFN)
		return -ENOMEM;
	return co_buddy_do_alloc(b, nr_pages, align_pages, limit_pfn,
				 (u64)nr_pages << PAGE_SHIFT, pfn, clean);
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_alloc_clean);

/**
 * co_buddy_alloc_bytes() - allocate pages for a byte count
 * @b: arena
 * @bytes: bytes wanted (>= 1), rounded up to whole pages
 * @align_pages: as for co_buddy_alloc()
 * @limit_pfn: as for co_buddy_alloc()
 * @pfn: returns the first PFN
 *
 * Same as co_buddy_alloc() but accounts @bytes as requested, so the
 * statistics show the internal fragmentation.  Free with
 * co_buddy_free_bytes() and the same @bytes.
 *
 * Context: as co_buddy_alloc().
 * Return: as co_buddy_alloc().
 */
int co_buddy_alloc_bytes(struct co_buddy *b, u64 bytes,
			 unsigned long align_pages, unsigned long limit_pfn,
			 unsigned long *pfn)
{
	if (bytes > (CO_BUDDY_MAX_PFN << PAGE_SHIFT))
		return -ENOMEM;
	return co_buddy_do_alloc(b, DIV_ROUND_UP_ULL(bytes, PAGE_SIZE),
				 align_pages, limit_pfn, bytes, pfn, NULL);
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_alloc_bytes);

/* ---------------------------------------------------------------------- */
/* Free                                                                    */
/* ---------------------------------------------------------------------- */

/* Why [pfn, pfn + nr) is not a live allocation, or NULL if it is one. */
static const char *__co_buddy_bad_free(struct co_buddy *b, unsigned long pfn,
				       unsigned long nr)
{
	unsigned long rel, end;

	lockdep_assert_held(&b->lock);
	if (!nr)
		return "zero pages";
	if (pfn < b->start_pfn || pfn >= b->end_pfn ||
	    nr > b->end_pfn - pfn)
		return "outside the arena";
	rel = pfn - b->start_pfn;
	end = rel + nr;
	if (!test_bit(rel, b->head))
		return test_bit(rel, b->inuse) ? "middle of an allocation" :
						 "not allocated";
	if (find_next_zero_bit(b->inuse, end, rel) < end)
		return "size larger than the allocation";
	if (find_next_bit(b->head, end, rel + 1) < end)
		return "size spans several allocations";
	if (end < b->nr_pages && test_bit(end, b->inuse) &&
	    !test_bit(end, b->head))
		return "size smaller than the allocation";
	return NULL;
}

static int co_buddy_do_free(struct co_buddy *b, unsigned long pfn,
			    unsigned long nr, u64 bytes)
{
	const char *why;

	spin_lock(&b->lock);
	why = __co_buddy_bad_free(b, pfn, nr);
	if (why) {
		b->nr_invalid++;
		spin_unlock(&b->lock);
		co_report("buddy [%#lx+%#lx]: invalid free of pfn %#lx, %lu pages: %s\n",
			  b->start_pfn, b->nr_pages, pfn, nr, why);
		return -EINVAL;
	}
	bitmap_clear(b->inuse, pfn - b->start_pfn, nr);
	__clear_bit(pfn - b->start_pfn, b->head);
	__co_buddy_free_range(b, pfn, pfn + nr);
	b->free_pages += nr;
	b->nr_allocs--;
	b->requested_bytes -= min(bytes, b->requested_bytes);
	b->nr_free_ok++;
	spin_unlock(&b->lock);
	return 0;
}

/**
 * co_buddy_free() - free an allocation
 * @b: arena
 * @pfn: first PFN, as returned by co_buddy_alloc()
 * @nr_pages: the exact count passed to co_buddy_alloc()
 *
 * A range that is not exactly one live allocation (never allocated, double
 * free, wrong size, middle of an allocation, outside the arena) is reported
 * (ratelimited), counted in &co_buddy_stats.nr_invalid and otherwise ignored.
 *
 * Context: Process context, does not sleep.
 * Return: 0 or -EINVAL.
 */
int co_buddy_free(struct co_buddy *b, unsigned long pfn,
		  unsigned long nr_pages)
{
	return co_buddy_do_free(b, pfn, nr_pages, (u64)nr_pages << PAGE_SHIFT);
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_free);

/**
 * co_buddy_free_bytes() - free an allocation made by co_buddy_alloc_bytes()
 * @b: arena
 * @pfn: first PFN
 * @bytes: the byte count passed to co_buddy_alloc_bytes()
 *
 * Context: Process context, does not sleep.
 * Return: 0 or -EINVAL, as co_buddy_free().
 */
int co_buddy_free_bytes(struct co_buddy *b, unsigned long pfn, u64 bytes)
{
	if (!bytes || bytes > (CO_BUDDY_MAX_PFN << PAGE_SHIFT))
		return co_buddy_do_free(b, pfn, 0, 0);
	return co_buddy_do_free(b, pfn, DIV_ROUND_UP_ULL(bytes, PAGE_SIZE),
				bytes);
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_free_bytes);

/**
 * co_buddy_is_allocation() - whether a range is exactly one live allocation
 * @b: arena
 * @pfn: first PFN
 * @nr_pages: page count
 *
 * Context: Process context, does not sleep; takes the arena lock.
 * Return: true if co_buddy_free(@b, @pfn, @nr_pages) would succeed.
 */
bool co_buddy_is_allocation(struct co_buddy *b, unsigned long pfn,
			    unsigned long nr_pages)
{
	bool ret;

	spin_lock(&b->lock);
	ret = !__co_buddy_bad_free(b, pfn, nr_pages);
	spin_unlock(&b->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_is_allocation);
