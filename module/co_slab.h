/* SPDX-License-Identifier: GPL-2.0 */
/*
 * co_slab.h - sub-page buffers carved from co_buddy blocks
 *
 * A cache set holds one cache per size class for one owner; objects are
 * named by physical byte address (pfn << PAGE_SHIFT | offset).  The set is
 * opaque here; co_slab.c has the design note and the map of the co_slab_*.c
 * files, co_slab_priv.h the structures, what each lock protects and the
 * lock order.
 *
 * Locking, as seen by a caller: every co_slab_*() function takes the locks
 * it needs and releases them before it returns.  They are the innermost
 * locks of carveout apart from co_buddy.lock (struct co_buddy in
 * co_buddy.h), which they take inside their own.  The slow paths of
 * co_slab_alloc() and co_slab_free(), and everything else that can sleep,
 * sleep on a mutex: call them from process context, holding no spinlock.
 */
#ifndef _CARVEOUT_CO_SLAB_H
#define _CARVEOUT_CO_SLAB_H

#include "co_buddy.h"

/* Every object size and object start is a multiple of a cache line. */
#define CO_SLAB_ALIGN		64
/* 64 .. 512 in steps of 64, then four classes per doubling up to 3584. */
#define CO_SLAB_NR_CLASSES	19
/*
 * A magazine (per CPU per class) holds up to CO_SLAB_MAG_BYTES of objects,
 * at least CO_SLAB_MAG_MIN and at most CO_SLAB_MAG_MAX of them; the slow
 * paths move half a magazine between it and the slabs at a time.
 */
#define CO_SLAB_MAG_BYTES	16384
#define CO_SLAB_MAG_MIN		4
#define CO_SLAB_MAG_MAX		64
/* Empty slabs a class keeps instead of returning them to the buddy. */
#define CO_SLAB_EMPTY_RESERVE	1

struct co_slab_set;

/**
 * struct co_slab_owner - who pays for a set's memory
 * @charge: called before a new slab takes @pages pages of @b; returns 0,
 *	or a negative errno to refuse the grow.  The allocation then uses
 *	objects the class already has (magazines are drained first) or fails
 *	with that errno.  Called with the class lock held: it may sleep, take
 *	co_buddy locks one at a time, and must not call back into the set.
 * @uncharge: called after a slab gave @pages pages back to @b, with the
 *	same locks held; never refuses
 * @priv: passed to both
 * @gfp: flags for the set's own metadata: the set, its per-CPU part, its
 *	directory and slab descriptors (GFP_KERNEL_ACCOUNT charges them to
 *	the memory cgroup of the task that causes them)
 *
 * Either callback may be NULL.  The pages a set holds are the pages of its
 * slabs: objects in use, objects parked in per-CPU magazines and the
 * CO_SLAB_EMPTY_RESERVE empty slabs all sit in charged pages, so what is
 * charged is what the owner keeps out of the arena.
 */
struct co_slab_owner {
	int (*charge)(void *priv, struct co_buddy *b, unsigned long pages);
	void (*uncharge)(void *priv, struct co_buddy *b, unsigned long pages);
	void *priv;
	gfp_t gfp;
};

/**
 * struct co_slab_class_stats - one size class of one set
 *
 * Filled by co_slab_get_stats().  Every object of the class is in use,
 * cached or free in a slab:
 * @objs_total = @objs_in_use + @objs_cached + free objects, exactly on a
 * quiescent set (the per-CPU counts are read without stopping the fast
 * paths).
 *
 * @obj_size: object (granted) size in bytes.
 * @slab_pages: pages per slab.
 * @objs_per_slab: objects per slab.
 * @mag_size: objects one CPU's magazine holds.
 * @mag_batch: objects a slow path moves into or out of a magazine.
 * @objs_in_use: objects held by the owner.
 * @objs_cached: objects parked in per-CPU magazines.
 * @objs_total: objects in all slabs of the class.
 * @slabs_full: slabs with no free object (magazine objects count as used).
 * @slabs_partial: slabs with some free objects.
 * @slabs_empty: slabs with only free objects (the reserve).
 * @requested_bytes: bytes asked for by objects in use.
 * @granted_bytes: @objs_in_use * @obj_size.
 * @nr_fail: allocations that failed for lack of pages.
 * @nr_invalid: rejected frees.
 */
struct co_slab_class_stats {
	size_t obj_size;
	unsigned int slab_pages;
	unsigned int objs_per_slab;
	unsigned int mag_size;
	unsigned int mag_batch;
	unsigned long objs_in_use;
	unsigned long objs_cached;
	unsigned long objs_total;
	unsigned long slabs_full;
	unsigned long slabs_partial;
	unsigned long slabs_empty;
	u64 requested_bytes;
	u64 granted_bytes;
	u64 nr_fail;
	u64 nr_invalid;
};

struct co_slab_set *co_slab_set_create(struct co_buddy *b, const char *name);
struct co_slab_set *co_slab_set_create_owned(struct co_buddy *b,
					     const char *name,
					     const struct co_slab_owner *owner);
int co_slab_set_destroy(struct co_slab_set *s);
int co_slab_alloc(struct co_slab_set *s, size_t size, u64 *addr);
int co_slab_free(struct co_slab_set *s, u64 addr, size_t size);
size_t co_slab_max_size(void);
size_t co_slab_class_size(size_t size);
unsigned int co_slab_class_index(size_t size);
unsigned int co_slab_nr_classes(void);
void co_slab_drain(struct co_slab_set *s);
int co_slab_set_check(struct co_slab_set *s);
void co_slab_get_stats(struct co_slab_set *s, unsigned int class,
		       struct co_slab_class_stats *st);

/* KUnit suite in tests/kunit/, registered by tests/kunit/main_kunit.c */
struct kunit_suite;
extern struct kunit_suite carveout_slab_suite;

#endif /* _CARVEOUT_CO_SLAB_H */
