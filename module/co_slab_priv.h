/* SPDX-License-Identifier: GPL-2.0 */
/*
 * co_slab_priv.h - data structures and helpers shared by the slab files
 *
 * Only the co_slab*.c files include this header; everyone else sees
 * struct co_slab_set as an opaque pointer through co_slab.h.  The files and
 * their layers (each calls only into the layers below it):
 *
 *   co_slab.c        set create/destroy, the design note
 *   co_slab_mag.c    alloc and free: per-CPU magazines, slow paths, drain
 *   co_slab_stats.c  per-class statistics
 *   co_slab_check.c  consistency checker
 *   co_slab_class.c  size classes, slab descriptors and the directory, the
 *                    slab lists, growing from and trimming to the buddy
 *
 * Lock order (outermost first), within one set:
 *
 *   co_slab_class.lock (mutex)
 *     -> co_slab_set.dir_lock (mutex)
 *     -> co_slab_pcpu.lock (spinlock)
 *     -> co_buddy.lock (spinlock, see co_buddy.h)
 *     -> whatever the owner's charge/uncharge callbacks take (struct
 *        co_slab_owner: never a lock of this set)
 *
 * The three inner locks never nest inside each other; each is also taken
 * alone (the per-CPU lock on the alloc and free fast paths, the directory
 * lock by the checker, the buddy lock by every co_buddy_*() call).  No path
 * holds two class locks or two per-CPU locks at once.  The slab layer takes
 * its locks inside its co_slab_*() calls and releases them before it
 * returns; callers may hold mutexes of their own but no spinlock, because
 * the slow paths sleep on the class mutex.  What each lock protects is
 * written with the structures below; __co_slab_*() helpers expect the class
 * lock (or, for __co_slab_mag_*(), the per-CPU lock) and assert it.
 */
#ifndef _CARVEOUT_CO_SLAB_PRIV_H
#define _CARVEOUT_CO_SLAB_PRIV_H

#include "co_slab.h"

/* Directory slots per leaf: one leaf covers 512 arena pages. */
#define CO_SLAB_LEAF_SLOTS	512
/* A slab holds at least this many objects. */
#define CO_SLAB_MIN_OBJS	4

/**
 * struct co_slab - descriptor of one slab (kept outside the slab)
 * @node: on one of the class lists; class lock.
 * @pfn: first page (constant).
 * @nr_free: number of FREE objects; class lock.
 * @class: size class index (constant).
 * @rcu: for kfree_rcu(): the fast paths look descriptors up under
 *	rcu_read_lock() only.
 * @map: FREE bitmap (words [0, n), class lock) then LIVE bitmap
 *	(words [n, 2n), atomic bitops only, see struct co_slab_mag), n =
 *	BITS_TO_LONGS(objects per slab), then one u16 per object: the size
 *	requested for it (written by the allocating path before the object is
 *	handed out, stable while LIVE).
 *
 * Each object is in exactly one state: FREE (in its slab), LIVE (held by
 * the owner), or parked in one per-CPU magazine (neither bit set).
 */
struct co_slab {
	struct list_head node;
	unsigned long pfn;
	unsigned int nr_free;
	unsigned int class;
	struct rcu_head rcu;
	unsigned long map[];
};

/**
 * struct co_slab_class - one size class of a set
 * @lock: the class lock (mutex).  Protects the lists and counters below,
 *	the FREE bitmaps and nr_free of the class's slabs, and the directory
 *	slots of the class's slabs (set in __co_slab_grow(), cleared in
 *	__co_slab_trim()).  Outermost slab lock, see the lock order above;
 *	held across co_buddy_alloc()/co_buddy_free() and while the per-CPU
 *	locks are taken one at a time to move objects in or out of magazines.
 * @size: object size (constant).
 * @pages: pages per slab (constant).
 * @blk_pages: pages rounded up to a power of two, the slab alignment
 *	(constant).
 * @objs: objects per slab (constant).
 * @words: words per bitmap in a descriptor (constant).
 * @recip: DIV_ROUND_UP(2^32, @size), to divide offsets without a div
 *	(constant).
 * @mag_cap: objects a magazine of the class holds (constant).
 * @mag_batch: objects a slow path moves at a time, @mag_cap / 2
 *	(constant).
 * @mag_off: where the class's magazine slots start in
 *	&co_slab_pcpu.obj (constant).
 * @full: slabs with no FREE object.
 * @partial: slabs with some FREE objects.
 * @empty: slabs with only FREE objects.
 * @nr_full: length of @full.
 * @nr_partial: length of @partial.
 * @nr_empty: length of @empty.
 * @nr_free_objs: FREE objects over all slabs.
 * @nr_fail: failed allocations.
 * @nr_invalid: rejected frees.
 */
struct co_slab_class {
	struct mutex lock;	/* see the kernel-doc above */
	unsigned int size;
	unsigned int pages;
	unsigned int blk_pages;
	unsigned int objs;
	unsigned int words;
	u32 recip;
	unsigned int mag_cap;
	unsigned int mag_batch;
	unsigned int mag_off;
	struct list_head full;
	struct list_head partial;
	struct list_head empty;
	unsigned long nr_full;
	unsigned long nr_partial;
	unsigned long nr_empty;
	unsigned long nr_free_objs;
	u64 nr_fail;
	u64 nr_invalid;
};

/**
 * struct co_slab_mag - per-CPU object cache of one class
 * @nr: objects in the magazine's slots (co_slab_mag_obj()).
 * @live: LIVE objects allocated minus freed on this CPU (may be negative
 *	on one CPU; only the sum over CPUs is meaningful).
 * @requested: bytes requested minus bytes freed on this CPU (ditto).
 *
 * The objects themselves (addresses, neither FREE nor LIVE in their slab)
 * are &co_slab_class.mag_cap slots of &co_slab_pcpu.obj.
 *
 * Protected by the &co_slab_pcpu.lock of its CPU.  The magazine rules:
 *
 *  - Fast paths take only the per-CPU lock (and rcu_read_lock() for the
 *    descriptor): alloc pops an object and sets its LIVE bit; free clears
 *    the LIVE bit with test_and_clear_bit() and pushes the object.  LIVE
 *    bits change only through atomic bitops, so of two racing frees of one
 *    object exactly one wins; the loser takes the slow path and is
 *    rejected there under the class lock.
 *  - Objects move between a magazine and the FREE bitmaps only with the
 *    class lock held and the per-CPU lock taken inside it: refill (slow
 *    alloc, &co_slab_class.mag_batch objects), flush (slow free of a
 *    full magazine, the oldest &co_slab_class.mag_batch objects) and drain (every CPU,
 *    one at a time: co_slab_drain(), or an allocation that found the buddy
 *    exhausted).
 *  - A task picks its CPU's magazines with raw_cpu_ptr() and may migrate
 *    before it takes the lock; it then simply uses another CPU's magazine
 *    under that CPU's lock (also fine on PREEMPT_RT).
 */
struct co_slab_mag {
	unsigned int nr;
	long live;
	long requested;
};

/**
 * struct co_slab_pcpu - per-CPU part of a set
 * @lock: the per-CPU lock (spinlock).  Protects @mag; normally taken by
 *	its own CPU on the fast paths, by others only to refill, flush, drain
 *	or read the magazines (see struct co_slab_mag).  Innermost with the
 *	buddy lock and the directory lock: nothing is taken while holding it.
 * @mag: one magazine per class.
 * @obj: every class's magazine slots, &co_slab_class.mag_cap of them from
 *	&co_slab_class.mag_off on.
 */
struct co_slab_pcpu {
	spinlock_t lock;	/* see the kernel-doc above */
	struct co_slab_mag mag[CO_SLAB_NR_CLASSES];
	u64 obj[];
};

/**
 * struct co_slab_leaf - one directory leaf
 * @slot: descriptor of the slab starting at each of 512 consecutive arena
 *	pages, or NULL.  Set with rcu_assign_pointer() and cleared under the
 *	class lock of the slab's class; read under rcu_read_lock() or that
 *	class lock.
 */
struct co_slab_leaf {
	struct co_slab __rcu *slot[CO_SLAB_LEAF_SLOTS];
};

/**
 * struct co_slab_set - all size classes of one owner
 * @buddy: where slabs come from (constant).
 * @name: for messages (constant).
 * @pcpu: per-CPU magazines (pointer constant; contents under each CPU's
 *	&co_slab_pcpu.lock).
 * @dir_lock: serialises installing directory leaves.  Taken inside a class
 *	lock (grow) or alone (checker); nothing nests inside it.
 * @nr_leaves: size of @dir (constant).
 * @dir: directory leaves, indexed by (slab pfn - arena start) / 512;
 *	entries only go from NULL to a zeroed leaf, under @dir_lock with
 *	smp_store_release(), and are read with smp_load_acquire() without
 *	any lock; leaves live until co_slab_set_destroy().
 * @owner: who pays for the slabs' pages and the metadata (constant; see
 *	struct co_slab_owner).  Charged in __co_slab_grow() before the
 *	pages leave the buddy, uncharged in __co_slab_trim() after they went
 *	back, both under the class lock.
 * @cls: the size classes, each with its own lock.
 */
struct co_slab_set {
	struct co_buddy *buddy;
	char name[32];
	struct co_slab_owner owner;
	struct co_slab_pcpu __percpu *pcpu;
	struct mutex dir_lock;	/* see the kernel-doc above */
	unsigned long nr_leaves;
	struct co_slab_leaf **dir;
	struct co_slab_class cls[CO_SLAB_NR_CLASSES];
};

/* The slots of class @c's magazine on @pc. */
static inline u64 *co_slab_mag_obj(struct co_slab_set *s,
				   struct co_slab_pcpu *pc, unsigned int c)
{
	return pc->obj + s->cls[c].mag_off;
}

enum co_slab_state { CO_SLAB_FULL, CO_SLAB_PARTIAL, CO_SLAB_EMPTY };

/* ---------------------------------------------------------------------- */
/* Descriptor accessors                                                    */
/* ---------------------------------------------------------------------- */

static inline unsigned long *co_slab_free_map(struct co_slab *slab)
{
	return slab->map;
}

static inline unsigned long *co_slab_live_map(struct co_slab_set *s,
					      struct co_slab *slab)
{
	return slab->map + s->cls[slab->class].words;
}

static inline u16 *co_slab_req(struct co_slab_set *s, struct co_slab *slab)
{
	return (u16 *)(slab->map + 2 * s->cls[slab->class].words);
}

/*
 * co_slab_obj_addr - byte address of object @idx.  Example: 640-byte class,
 * slab at pfn 0x1000: object 3 is at 0x1000000 + 3 * 640 = 0x1000780.
 */
static inline u64 co_slab_obj_addr(struct co_slab_class *cls,
				   struct co_slab *slab, unsigned int idx)
{
	return ((u64)slab->pfn << PAGE_SHIFT) + (u64)idx * cls->size;
}

/*
 * co_slab_dir_slot - directory slot of the slab starting at @slab_pfn, or
 * NULL if its leaf was never installed.  Example: arena at pfn 0x200003,
 * slab at 0x200405: rel 0x402 -> leaf 2, slot 2.
 */
static inline struct co_slab __rcu **co_slab_dir_slot(struct co_slab_set *s,
						      unsigned long slab_pfn)
{
	unsigned long rel = slab_pfn - s->buddy->start_pfn;
	struct co_slab_leaf *leaf;

	/* Pairs with the release in __co_slab_grow(): see a zeroed leaf. */
	leaf = smp_load_acquire(&s->dir[rel / CO_SLAB_LEAF_SLOTS]);
	if (!leaf)
		return NULL;
	return &leaf->slot[rel % CO_SLAB_LEAF_SLOTS];
}

/*
 * co_slab_state - the list @slab belongs on by its FREE count.  Example:
 * 4 objects per slab: nr_free 0 -> full, 1..3 -> partial, 4 -> empty.
 * Caller holds the class lock (nr_free changes under it).
 */
static inline enum co_slab_state co_slab_state(struct co_slab_class *cls,
					       struct co_slab *slab)
{
	lockdep_assert_held(&cls->lock);
	if (!slab->nr_free)
		return CO_SLAB_FULL;
	return slab->nr_free == cls->objs ? CO_SLAB_EMPTY : CO_SLAB_PARTIAL;
}

/* co_slab_class.c: size classes, slabs and the directory */
unsigned int co_slab_prev_size(unsigned int c);
void co_slab_class_init(struct co_slab_class *cls, unsigned int c);
struct co_slab *co_slab_find(struct co_slab_set *s, unsigned int c,
			     u64 addr, unsigned int *idx);
unsigned int __co_slab_get_obj(struct co_slab_class *cls,
			       struct co_slab *slab);
void __co_slab_put_obj(struct co_slab_class *cls, struct co_slab *slab,
		       unsigned int idx);
struct co_slab *__co_slab_grow(struct co_slab_set *s, unsigned int c);
void __co_slab_trim(struct co_slab_set *s, unsigned int c, unsigned long keep);
unsigned long __co_slab_used(struct co_slab_class *cls);

#endif /* _CARVEOUT_CO_SLAB_PRIV_H */
