// SPDX-License-Identifier: GPL-2.0
/*
 * co_buddy.c - page-granular buddy allocator over an arena of PFNs
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
 *
 * Size: per order o about nr_pages / 2^o bits (+1/63 for the upper levels),
 * so all orders together take ~2 bits per page, plus 2 bits per page for the
 * in-use and head bitmaps: ~4.1 bits per page = 0.0125% of the arena with
 * 4 KiB pages (1 GiB arena: ~130 KiB), far below the 0.2% budget.  A linked
 * free list would need a node per free block outside the memory, i.e. a
 * per-page array of at least 8 bytes (0.2%), and gives no cheap
 * "lowest address first" order.
 *
 * Policy: best fit by order, lowest address within the order.  Low-first
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
 * Invariants (verified by co_buddy_check()):
 *  - every page is either in use or covered by exactly one free block;
 *  - no free block has a free buddy of the same order (coalescing complete);
 *  - each upper bitmap level summarises the level below;
 *  - head bits are a subset of in-use bits and mark the start of every run;
 *  - counters (free pages, per-order counts, live allocations, bytes) agree.
 *
 * Lock order:
 *   co_slab_class.lock (mutex, co_slab.c)
 *     -> co_buddy.lock (spinlock, this file)
 *
 * co_buddy.lock protects all mutable state of one arena (bitmaps, counters).
 * It is a plain spin_lock: callers are process context and the allocator is
 * never called from interrupts.  Nothing is called with it held except the
 * co_buddy_walk_free() callback, which must not sleep.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

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

/* co_hbm_clear - mark slot @i not free; clears summary bits of empty words. */
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

static inline bool co_hbm_test(const struct co_buddy_area *a, unsigned long i)
{
	return i < a->nbits && test_bit(i, a->map[0]);
}

/*
 * co_hbm_first - lowest free slot or a->nbits if none.  One __ffs() per
 * level: the top word names the first non-empty word of the level below.
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
/* Small buddy primitives                                                  */
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

/* Order of the free block starting at @pfn, or -1 if none starts there. */
static int __co_buddy_free_order_at(const struct co_buddy *b, unsigned long pfn)
{
	unsigned int top = b->max_order;
	int order;

	if (pfn)
		top = min_t(unsigned int, top, __ffs(pfn));
	for (order = top; order >= 0; order--)
		if (co_hbm_test(&b->area[order], co_buddy_slot(b, pfn, order)))
			return order;
	return -1;
}

/*
 * __co_buddy_free_block - put a block back and coalesce it upward.
 * The merged block is inside the arena because both halves are.
 */
static void __co_buddy_free_block(struct co_buddy *b, unsigned long pfn,
				  unsigned int order)
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
static void __co_buddy_free_range(struct co_buddy *b, unsigned long start,
				  unsigned long end)
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
	unsigned int order, l;
	size_t words;
	unsigned long *w;

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
	words = 2 * page_words;
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

	w = b->meta;
	b->inuse = w;
	w += page_words;
	b->head = w;
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

/*
 * __co_buddy_take - lowest free block of the smallest order >= @order whose
 * first @nr_pages pages end at or below @limit.  Removes it and returns its
 * order, or -1.
 */
static int __co_buddy_take(struct co_buddy *b, unsigned int order,
			   unsigned long nr_pages, unsigned long limit,
			   unsigned long *pfn)
{
	lockdep_assert_held(&b->lock);
	for (; order <= b->max_order; order++) {
		struct co_buddy_area *a = &b->area[order];
		unsigned long slot, p;

		if (!a->nr_free)
			continue;
		slot = co_hbm_first(a);
		p = (a->base + slot) << order;
		if (p + nr_pages > limit)
			continue;
		co_hbm_clear(a, slot);
		a->nr_free--;
		*pfn = p;
		return order;
	}
	return -1;
}

static int co_buddy_do_alloc(struct co_buddy *b, unsigned long nr_pages,
			     unsigned long align_pages, unsigned long limit_pfn,
			     u64 bytes, unsigned long *pfn)
{
	unsigned long limit = b->end_pfn;
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
	b->free_pages -= 1UL << got;
	__co_buddy_free_range(b, p + nr_pages, p + (1UL << got));
	b->free_pages += (1UL << got) - nr_pages;
	b->nr_allocs++;
	b->requested_bytes += bytes;
	b->nr_alloc_ok++;
	spin_unlock(&b->lock);
	*pfn = p;
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
 * Takes the lowest free block of the smallest sufficient order.
 *
 * Context: Process context, does not sleep (the arena lock is a plain
 * spin_lock(), so not from IRQ or softirq context).
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
				 (u64)nr_pages << PAGE_SHIFT, pfn);
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_alloc);

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
 * Context: Process context, does not sleep.
 * Return: as co_buddy_alloc().
 */
int co_buddy_alloc_bytes(struct co_buddy *b, u64 bytes,
			 unsigned long align_pages, unsigned long limit_pfn,
			 unsigned long *pfn)
{
	if (bytes > (CO_BUDDY_MAX_PFN << PAGE_SHIFT))
		return -ENOMEM;
	return co_buddy_do_alloc(b, DIV_ROUND_UP_ULL(bytes, PAGE_SIZE),
				 align_pages, limit_pfn, bytes, pfn);
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

/* ---------------------------------------------------------------------- */
/* Queries and statistics                                                  */
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

/*
 * End of the free block that contains @pfn without starting there, or 0 if
 * there is none.  Blocks are naturally aligned, so the candidates are
 * @pfn rounded down to each order: with @pfn 0x1003, an order-2 block at
 * 0x1000 contains it and the walk resumes at 0x1004.
 */
static unsigned long __co_buddy_block_end(const struct co_buddy *b,
					  unsigned long pfn)
{
	unsigned long head;
	unsigned int order;

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

/* ---------------------------------------------------------------------- */
/* Checker                                                                 */
/* ---------------------------------------------------------------------- */

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

static int __co_buddy_check_maps(struct co_buddy *b)
{
	unsigned int order, l;

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

static int __co_buddy_check(struct co_buddy *b)
{
	unsigned long seen[CO_BUDDY_NR_ORDERS] = { 0 };
	unsigned long pfn, free_walk = 0, free_cnt = 0, used, w;
	unsigned int order;
	int ret, o;

	lockdep_assert_held(&b->lock);
	ret = __co_buddy_check_maps(b);
	if (ret)
		return ret;

	for (order = 0; order <= b->max_order; order++)
		free_cnt += b->area[order].nr_free << order;
	if (free_cnt != b->free_pages)
		return co_buddy_bad(b, "free blocks hold %lu pages, free_pages %lu",
				    free_cnt, b->free_pages);

	for (w = 0; w < BITS_TO_LONGS(b->nr_pages); w++)
		if (b->head[w] & ~b->inuse[w])
			return co_buddy_bad(b, "head bit on a free page near rel %lu",
					    w * BITS_PER_LONG);
	used = bitmap_weight(b->inuse, b->nr_pages);
	if (used + b->free_pages != b->nr_pages)
		return co_buddy_bad(b, "%lu pages in use + %lu free != %lu",
				    used, b->free_pages, b->nr_pages);
	if (bitmap_weight(b->head, b->nr_pages) != b->nr_allocs)
		return co_buddy_bad(b, "%u heads but %lu allocations",
				    bitmap_weight(b->head, b->nr_pages),
				    b->nr_allocs);

	/* Address-order walk: in-use runs start with a head, free blocks tile. */
	pfn = b->start_pfn;
	while (pfn < b->end_pfn) {
		unsigned long rel = pfn - b->start_pfn, end;
		unsigned int other;

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
		for (other = 0; other < (unsigned int)o; other++)
			if (co_hbm_test(&b->area[other],
					co_buddy_slot(b, pfn, other)))
				return co_buddy_bad(b, "pfn %#lx free at orders %u and %d",
						    pfn, other, o);
		end = rel + (1UL << o);
		if (pfn + (1UL << o) > b->end_pfn)
			return co_buddy_bad(b, "free block %#lx order %d past the end",
					    pfn, o);
		if (find_next_bit(b->inuse, end, rel) < end)
			return co_buddy_bad(b, "free block %#lx order %d has in-use pages",
					    pfn, o);
		if ((unsigned int)o < b->max_order &&
		    co_hbm_test(&b->area[o],
				co_buddy_slot(b, co_buddy_buddy_pfn(pfn, o), o)))
			return co_buddy_bad(b, "block %#lx and its buddy free at order %d",
					    pfn, o);
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

	if (b->nr_alloc_ok - b->nr_free_ok != b->nr_allocs)
		return co_buddy_bad(b, "%llu allocs - %llu frees != %lu live",
				    b->nr_alloc_ok, b->nr_free_ok,
				    b->nr_allocs);
	if (b->requested_bytes > (u64)used << PAGE_SHIFT)
		return co_buddy_bad(b, "requested %llu bytes > granted %llu",
				    b->requested_bytes,
				    (u64)used << PAGE_SHIFT);
	if (((u64)used << PAGE_SHIFT) - b->requested_bytes >=
	    (u64)max(b->nr_allocs, 1UL) * PAGE_SIZE)
		return co_buddy_bad(b, "waste %llu bytes >= a page per allocation (%lu)",
				    ((u64)used << PAGE_SHIFT) - b->requested_bytes,
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
	int ret;

	spin_lock(&b->lock);
	ret = __co_buddy_check(b);
	spin_unlock(&b->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(co_buddy_check);
