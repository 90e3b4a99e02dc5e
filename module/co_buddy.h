/* SPDX-License-Identifier: GPL-2.0 */
/*
 * co_buddy.h - page-granular buddy allocator over an arena of PFNs
 *
 * The arena is "nr_pages pages starting at start_pfn"; the allocator never
 * touches the pages themselves, all metadata lives in kvcalloc()ed bitmaps.
 * The design note is in co_buddy.c (setup, alloc, free); co_buddy_clean.c
 * keeps track of free pages known to hold zeros; co_buddy_stats.c
 * holds the queries, statistics and free-block walks, co_buddy_check.c the
 * consistency checker.  The arena lock is documented with struct co_buddy
 * below.
 */
#ifndef _CARVEOUT_CO_BUDDY_H
#define _CARVEOUT_CO_BUDDY_H

#include "co_internal.h"

/*
 * Orders 0 .. CO_BUDDY_NR_ORDERS - 1 are representable, so an arena may hold
 * up to 2^31 pages (8 TiB with 4 KiB pages).  The orders an arena actually
 * uses stop at co_buddy_max_order().
 */
#define CO_BUDDY_NR_ORDERS	32
/* Levels of a per-order hierarchical bitmap: 64^6 bits covers 2^32 blocks. */
#define CO_BUDDY_HBM_LEVELS	6

/**
 * struct co_buddy_area - free blocks of one order
 * @nr_free: number of free blocks of this order.
 * @base: block index (pfn >> order) of slot 0; slots are absolute-aligned.
 * @nbits: number of slots (blocks of this order overlapping the arena).
 * @levels: number of bitmap levels; level @levels - 1 is a single word.
 * @map: hierarchical free bitmap.  @map[0] has one bit per slot (set = a free
 *	block of this order starts there); bit i of @map[l + 1] is set iff word
 *	i of @map[l] is non-zero.
 *
 * @nr_free and the bitmap words are protected by &co_buddy.lock; @base,
 * @nbits, @levels and the @map pointers are constant.
 */
struct co_buddy_area {
	unsigned long nr_free;
	unsigned long base;
	unsigned long nbits;
	unsigned int levels;
	unsigned long *map[CO_BUDDY_HBM_LEVELS];
};

/**
 * struct co_buddy - one arena
 * @lock: the arena lock (spinlock_t).  Protects the contents of @area
 *	(free bitmaps, per-order counts), @inuse, @head and the counters
 *	@free_pages .. @nr_invalid.  The geometry (@start_pfn, @end_pfn,
 *	@nr_pages, @max_order, @meta_bytes and the bitmap pointers) is
 *	constant between co_buddy_init() and co_buddy_destroy() and read
 *	without it.
 *
 *	Every co_buddy_*() function that reads or changes protected state
 *	takes and releases the lock itself; it is never held when one returns.
 *	The __co_buddy_*() helpers run with it held and assert that with
 *	lockdep_assert_held().  It is a plain spin_lock(): the allocator runs
 *	in process context and never from interrupts.
 *
 *	Lock order: the innermost lock of carveout.  Callers may hold their
 *	own locks, mutexes included (the slab layer calls in with
 *	&co_slab_class.lock held, see co_slab_priv.h), but never the lock of
 *	another arena.  Nothing runs under it except the co_buddy_walk_fn
 *	callback of co_buddy_walk_free(), which must not sleep and must not
 *	call into the same arena.
 * @start_pfn: first PFN of the arena (constant).
 * @end_pfn: first PFN after the arena (constant).
 * @nr_pages: @end_pfn - @start_pfn (constant).
 * @max_order: largest order of a naturally aligned block inside the arena.
 * @area: per-order free bitmaps, @max_order + 1 entries.
 * @inuse: one bit per page, set while the page is allocated.
 * @head: one bit per page, set on the first page of each allocation.
 * @clean: one bit per page, set while the page is free and known to hold
 *	only zeros: set by co_buddy_zero_end(), cleared when the page is
 *	handed out by any allocation.  Never set on an in-use page.
 * @clean_pages: set bits in @clean.
 * @zero_pfn: first page of the free range being zeroed
 *	(co_buddy_zero_begin()), valid while @zero_pages is not 0.
 * @zero_pages: pages of that range, 0 when none is being zeroed.
 * @zero_seq: count of co_buddy_zero_end() calls; an allocation that took
 *	pages of the range being zeroed waits for it to change.
 * @zero_cursor: where co_buddy_zero_begin() looks next (arena relative).
 * @free_pages: pages in free blocks.
 * @nr_allocs: live allocations (set bits in @head).
 * @requested_bytes: bytes callers asked for, summed over live allocations.
 * @nr_alloc_ok: successful allocations (cumulative).
 * @nr_free_ok: successful frees (cumulative).
 * @nr_fail: failed allocations (cumulative).
 * @nr_invalid: rejected frees (cumulative).
 * @meta: single allocation holding every bitmap word.
 * @meta_bytes: bytes of metadata (@meta, @area).
 */
struct co_buddy {
	spinlock_t lock;	/* see the kernel-doc above */
	unsigned long start_pfn;
	unsigned long end_pfn;
	unsigned long nr_pages;
	unsigned int max_order;
	struct co_buddy_area *area;
	unsigned long *inuse;
	unsigned long *head;
	unsigned long *clean;
	unsigned long clean_pages;
	unsigned long zero_pfn;
	unsigned long zero_pages;
	unsigned long zero_seq;
	unsigned long zero_cursor;
	unsigned long free_pages;
	unsigned long nr_allocs;
	u64 requested_bytes;
	u64 nr_alloc_ok;
	u64 nr_free_ok;
	u64 nr_fail;
	u64 nr_invalid;
	unsigned long *meta;
	size_t meta_bytes;
};

/**
 * struct co_buddy_stats - snapshot of an arena, see co_buddy_get_stats()
 * @start_pfn: first PFN of the arena.
 * @nr_pages: pages in the arena.
 * @max_order: largest order the arena can hold.
 * @free_pages: free pages.
 * @clean_pages: free pages known to hold only zeros.
 * @largest_free_order: order of the largest free block, -1 if none.
 * @largest_free_pages: pages in the largest free block, 0 if none.
 * @nr_free: free blocks per order (like /proc/buddyinfo).
 * @unusable_index: per order, the share of free memory that cannot satisfy an
 *	allocation of that order, x1000 (as mm/vmstat.c unusable_free_index();
 *	1000 when nothing is free).
 * @nr_allocs: live allocations.
 * @requested_bytes: bytes asked for by live allocations.
 * @granted_bytes: bytes reserved for live allocations; the difference to
 *	@requested_bytes is internal fragmentation (< 1 page per allocation).
 * @nr_alloc_ok: successful allocations.
 * @nr_free_ok: successful frees.
 * @nr_fail: failed allocations.
 * @nr_invalid: rejected (invalid or double) frees.
 * @metadata_bytes: bytes of metadata.
 */
struct co_buddy_stats {
	unsigned long start_pfn;
	unsigned long nr_pages;
	unsigned int max_order;
	unsigned long free_pages;
	unsigned long clean_pages;
	int largest_free_order;
	unsigned long largest_free_pages;
	unsigned long nr_free[CO_BUDDY_NR_ORDERS];
	unsigned int unusable_index[CO_BUDDY_NR_ORDERS];
	unsigned long nr_allocs;
	u64 requested_bytes;
	u64 granted_bytes;
	u64 nr_alloc_ok;
	u64 nr_free_ok;
	u64 nr_fail;
	u64 nr_invalid;
	size_t metadata_bytes;
};

/*
 * Callback of co_buddy_walk_free(): one free block of 2^@order pages at
 * @pfn.  Return 0 to continue the walk, anything else stops it.  Runs with
 * &co_buddy.lock held: must not sleep or call into the arena.
 */
typedef int (*co_buddy_walk_fn)(unsigned long pfn, unsigned int order,
				void *priv);

int co_buddy_init(struct co_buddy *b, unsigned long start_pfn,
		  unsigned long nr_pages);
void co_buddy_destroy(struct co_buddy *b);
int co_buddy_alloc(struct co_buddy *b, unsigned long nr_pages,
		   unsigned long align_pages, unsigned long limit_pfn,
		   unsigned long *pfn);
int co_buddy_alloc_clean(struct co_buddy *b, unsigned long nr_pages,
			 unsigned long align_pages, unsigned long limit_pfn,
			 unsigned long *pfn, bool *clean);
int co_buddy_free(struct co_buddy *b, unsigned long pfn,
		  unsigned long nr_pages);
int co_buddy_zero_begin(struct co_buddy *b, unsigned int max_order,
			unsigned long *pfn, unsigned long *nr_pages);
void co_buddy_zero_end(struct co_buddy *b);
unsigned long co_buddy_clean_pages(struct co_buddy *b);
unsigned long co_buddy_dirty_pages(struct co_buddy *b);
int co_buddy_alloc_bytes(struct co_buddy *b, u64 bytes,
			 unsigned long align_pages, unsigned long limit_pfn,
			 unsigned long *pfn);
int co_buddy_free_bytes(struct co_buddy *b, unsigned long pfn, u64 bytes);
void co_buddy_get_stats(struct co_buddy *b, struct co_buddy_stats *st);
int co_buddy_check(struct co_buddy *b);
bool co_buddy_contains(const struct co_buddy *b, unsigned long pfn);
bool co_buddy_is_allocation(struct co_buddy *b, unsigned long pfn,
			    unsigned long nr_pages);
unsigned long co_buddy_free_pages(struct co_buddy *b);
unsigned int co_buddy_max_order(const struct co_buddy *b);
size_t co_buddy_metadata_bytes(const struct co_buddy *b);
int co_buddy_walk_free(struct co_buddy *b, co_buddy_walk_fn fn, void *priv);
int co_buddy_walk_free_from(struct co_buddy *b, unsigned long from,
			    co_buddy_walk_fn fn, void *priv);

/* KUnit suite in tests/kunit/, registered by tests/kunit/main_kunit.c */
struct kunit_suite;
extern struct kunit_suite carveout_buddy_suite;
extern struct kunit_suite carveout_buddy_clean_suite;

#endif /* _CARVEOUT_CO_BUDDY_H */
