// SPDX-License-Identifier: GPL-2.0
/*
 * co_slab_class.c - size classes and the slabs of a class
 *
 * The bottom layer of the slab caches (see co_slab.c for the design): the
 * size-class table and the geometry of each class's slabs, slab
 * descriptors and the per-set directory that maps a PFN to its slab, the
 * full/partial/empty lists with their FREE bitmaps, and the two places a
 * class talks to the buddy: __co_slab_grow() takes a new slab from it and
 * __co_slab_trim() gives empty slabs back.  Nothing here knows about the
 * per-CPU magazines.
 *
 * Locking (see co_slab_priv.h): the __co_slab_*() helpers run under the
 * class lock and assert it; co_slab_find() runs under the class lock or
 * rcu_read_lock().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "co_slab_priv.h"

static const unsigned short co_slab_sizes[CO_SLAB_NR_CLASSES] = {
	64, 128, 192, 256, 320, 384, 448, 512,
	640, 768, 896, 1024, 1280, 1536, 1792, 2048,
	2560, 3072, 3584,
};

/* ---------------------------------------------------------------------- */
/* Size classes                                                            */
/* ---------------------------------------------------------------------- */

/**
 * co_slab_max_size() - largest request the slab caches serve
 *
 * Context: Any.
 * Return: the size of the largest class; larger buffers come from the buddy.
 */
size_t co_slab_max_size(void)
{
	return co_slab_sizes[CO_SLAB_NR_CLASSES - 1];
}
EXPORT_SYMBOL_IF_KUNIT(co_slab_max_size);

/**
 * co_slab_nr_classes() - number of size classes
 *
 * Context: Any.
 * Return: CO_SLAB_NR_CLASSES.
 */
unsigned int co_slab_nr_classes(void)
{
	return CO_SLAB_NR_CLASSES;
}
EXPORT_SYMBOL_IF_KUNIT(co_slab_nr_classes);

/**
 * co_slab_class_index() - size class serving a request
 * @size: request in bytes, 1 .. co_slab_max_size()
 *
 * In units of 64 bytes (m = DIV_ROUND_UP(size, 64)): m <= 8 maps to class
 * m - 1; above, each doubling (8, 16] (16, 32] (32, 64] has four classes
 * 5/8, 6/8, 7/8 and 8/8 of its top.  Example: 1100 bytes -> m = 18, in
 * (16, 32] with step 4 -> DIV_ROUND_UP(18, 4) = 5 -> first class of that
 * doubling (1280 bytes), index 12.
 *
 * Context: Any.
 * Return: class index, or CO_SLAB_NR_CLASSES if @size is 0 or too large.
 */
unsigned int co_slab_class_index(size_t size)
{
	unsigned long m;
	unsigned int shift;

	if (!size || size > co_slab_max_size())
		return CO_SLAB_NR_CLASSES;
	m = DIV_ROUND_UP(size, CO_SLAB_ALIGN);
	if (m <= 8)
		return m - 1;
	shift = fls_long(m - 1) - 3;
	return 8 + 4 * (shift - 1) + DIV_ROUND_UP(m, 1UL << shift) - 5;
}
EXPORT_SYMBOL_IF_KUNIT(co_slab_class_index);

/**
 * co_slab_class_size() - bytes granted for a request
 * @size: request in bytes
 *
 * Context: Any.
 * Return: the class size, or 0 if @size is 0 or above co_slab_max_size().
 */
size_t co_slab_class_size(size_t size)
{
	unsigned int c = co_slab_class_index(size);

	return c < CO_SLAB_NR_CLASSES ? co_slab_sizes[c] : 0;
}
EXPORT_SYMBOL_IF_KUNIT(co_slab_class_size);

/**
 * co_slab_prev_size() - largest request the next smaller class serves
 * @c: class index < CO_SLAB_NR_CLASSES
 *
 * Context: Any.
 * Return: the size of class @c - 1, or 0 for the first class.
 */
unsigned int co_slab_prev_size(unsigned int c)
{
	return c ? co_slab_sizes[c - 1] : 0;
}

/**
 * co_slab_class_init() - set up class @c of a new set
 * @cls: the class, zeroed
 * @c: its index < CO_SLAB_NR_CLASSES
 *
 * Slab geometry: the smallest page count that holds whole objects, doubled
 * until it holds at least CO_SLAB_MIN_OBJS.  Example: 640-byte objects,
 * gcd(640, 4096) = 128 -> 5 pages, 32 objects, aligned to 8 pages.
 *
 * Context: Any; @cls is not yet visible to anyone else.
 */
void co_slab_class_init(struct co_slab_class *cls, unsigned int c)
{
	unsigned int size = co_slab_sizes[c];
	unsigned int pages = size / gcd(size, PAGE_SIZE);

	BUILD_BUG_ON(ARRAY_SIZE(co_slab_sizes) != CO_SLAB_NR_CLASSES);
	while (pages * PAGE_SIZE / size < CO_SLAB_MIN_OBJS)
		pages *= 2;
	mutex_init(&cls->lock);
	cls->size = size;
	cls->pages = pages;
	cls->blk_pages = roundup_pow_of_two(pages);
	cls->objs = pages * PAGE_SIZE / size;
	cls->words = BITS_TO_LONGS(cls->objs);
	cls->recip = DIV_ROUND_UP_ULL(1ULL << 32, size);
	cls->mag_cap = clamp_t(unsigned int, CO_SLAB_MAG_BYTES / size,
			       CO_SLAB_MAG_MIN, CO_SLAB_MAG_MAX);
	cls->mag_batch = cls->mag_cap / 2;
	/* co_slab_div() is exact only while slab bytes * size < 2^32 */
	WARN_ON_ONCE((u64)pages * PAGE_SIZE * size >= (1ULL << 32));
	INIT_LIST_HEAD(&cls->full);
	INIT_LIST_HEAD(&cls->partial);
	INIT_LIST_HEAD(&cls->empty);
}

/* ---------------------------------------------------------------------- */
/* Finding an object's slab                                                */
/* ---------------------------------------------------------------------- */

/*
 * co_slab_div - @off / size for an offset inside a slab, by multiplying with
 * the rounded-up reciprocal.  off * recip / 2^32 exceeds off / size by less
 * than off / 2^32, which is below 1 / size (the smallest distance from a
 * non-integral quotient to the next integer) as long as off * size < 2^32;
 * slabs are at most 8 pages and objects < 4 KiB, so off * size < 2^27.
 * Example: size 640, recip = 6710887; off 1920 -> 1920 * 6710887 >> 32 = 3.
 */
static inline unsigned int co_slab_div(const struct co_slab_class *cls,
				       u64 off)
{
	return (off * cls->recip) >> 32;
}

/**
 * co_slab_find() - descriptor and index of the class-@c object at @addr
 * @s: set
 * @c: class index < CO_SLAB_NR_CLASSES
 * @addr: physical byte address, trusted no further than its type
 * @idx: returns the object index inside the slab
 *
 * Context: Caller holds rcu_read_lock() or the class lock (the descriptor
 * may be freed, after a grace period, once neither is held).
 * Return: the descriptor, or NULL if @addr is not the start of an object
 * of a slab of class @c of @s.
 */
struct co_slab *co_slab_find(struct co_slab_set *s, unsigned int c,
			     u64 addr, unsigned int *idx)
{
	struct co_slab_class *cls = &s->cls[c];
	unsigned long pfn = addr >> PAGE_SHIFT, slab_pfn;
	struct co_slab __rcu **slot;
	struct co_slab *slab;
	u64 off;

	if (!co_buddy_contains(s->buddy, pfn))
		return NULL;
	slab_pfn = pfn & ~((unsigned long)cls->blk_pages - 1);
	if (slab_pfn < s->buddy->start_pfn)
		return NULL;
	slot = co_slab_dir_slot(s, slab_pfn);
	if (!slot)
		return NULL;
	slab = rcu_dereference_check(*slot, lockdep_is_held(&cls->lock));
	if (!slab || slab->class != c)
		return NULL;
	off = addr - ((u64)slab_pfn << PAGE_SHIFT);
	if (off >= (u64)cls->objs * cls->size)
		return NULL;
	*idx = co_slab_div(cls, off);
	if ((u64)*idx * cls->size != off)
		return NULL;
	return slab;
}

/* ---------------------------------------------------------------------- */
/* Slab lists                                                              */
/* ---------------------------------------------------------------------- */

/* __co_slab_relist - move @slab to the list matching its nr_free. */
static void __co_slab_relist(struct co_slab_class *cls, struct co_slab *slab,
			     enum co_slab_state old)
{
	enum co_slab_state now = co_slab_state(cls, slab);

	lockdep_assert_held(&cls->lock);
	if (now == old)
		return;
	switch (old) {
	case CO_SLAB_FULL:
		cls->nr_full--;
		break;
	case CO_SLAB_PARTIAL:
		cls->nr_partial--;
		break;
	case CO_SLAB_EMPTY:
		cls->nr_empty--;
		break;
	}
	switch (now) {
	case CO_SLAB_FULL:
		cls->nr_full++;
		list_move(&slab->node, &cls->full);
		break;
	case CO_SLAB_PARTIAL:
		cls->nr_partial++;
		list_move(&slab->node, &cls->partial);
		break;
	case CO_SLAB_EMPTY:
		cls->nr_empty++;
		list_move(&slab->node, &cls->empty);
		break;
	}
}

/**
 * __co_slab_get_obj() - take the lowest FREE object of @slab
 * @cls: class of @slab
 * @slab: a slab with at least one FREE object
 *
 * Context: Caller holds @cls->lock.
 * Return: the object index; the object is now neither FREE nor LIVE.
 */
unsigned int __co_slab_get_obj(struct co_slab_class *cls,
			       struct co_slab *slab)
{
	enum co_slab_state old = co_slab_state(cls, slab);
	unsigned int idx;

	lockdep_assert_held(&cls->lock);
	idx = find_first_bit(co_slab_free_map(slab), cls->objs);
	__clear_bit(idx, co_slab_free_map(slab));
	slab->nr_free--;
	cls->nr_free_objs--;
	__co_slab_relist(cls, slab, old);
	return idx;
}

/**
 * __co_slab_put_obj() - make object @idx of @slab FREE again
 * @cls: class of @slab
 * @slab: its slab
 * @idx: object index; the object is neither FREE nor LIVE
 *
 * Context: Caller holds @cls->lock.
 */
void __co_slab_put_obj(struct co_slab_class *cls, struct co_slab *slab,
		       unsigned int idx)
{
	enum co_slab_state old = co_slab_state(cls, slab);

	lockdep_assert_held(&cls->lock);
	__set_bit(idx, co_slab_free_map(slab));
	slab->nr_free++;
	cls->nr_free_objs++;
	__co_slab_relist(cls, slab, old);
}

/**
 * __co_slab_used() - objects of a class out of its slabs
 * @cls: class
 *
 * Context: Caller holds @cls->lock.
 * Return: objects held by the owner or parked in magazines.
 */
unsigned long __co_slab_used(struct co_slab_class *cls)
{
	lockdep_assert_held(&cls->lock);
	return (cls->nr_full + cls->nr_partial + cls->nr_empty) * cls->objs -
	       cls->nr_free_objs;
}

/* ---------------------------------------------------------------------- */
/* Growing from and trimming to the buddy                                  */
/* ---------------------------------------------------------------------- */

/*
 * Make sure the directory leaf covering @pfn exists.  Leaves are installed
 * once and never removed before the set is destroyed, so a racing grow of
 * another class that installs it first wins and our copy is freed.
 */
static int co_slab_dir_populate(struct co_slab_set *s, unsigned long pfn)
{
	unsigned long rel = (pfn - s->buddy->start_pfn) / CO_SLAB_LEAF_SLOTS;
	struct co_slab_leaf *leaf;

	/* Acquire: pairs with the release below (another class's grow). */
	if (smp_load_acquire(&s->dir[rel]))
		return 0;
	leaf = kzalloc(sizeof(*leaf), s->owner.gfp);
	if (!leaf)
		return -ENOMEM;
	mutex_lock(&s->dir_lock);
	if (!s->dir[rel]) {
		/* Publish the zeroed leaf to lockless lookups. */
		smp_store_release(&s->dir[rel], leaf);
		leaf = NULL;
	}
	mutex_unlock(&s->dir_lock);
	kfree(leaf);
	return 0;
}

/* The owner no longer pays for @pages pages that went back to the buddy. */
static void co_slab_uncharge(struct co_slab_set *s, unsigned long pages)
{
	if (s->owner.uncharge)
		s->owner.uncharge(s->owner.priv, s->buddy, pages);
}

/**
 * __co_slab_grow() - add an empty slab to class @c
 * @s: set
 * @c: class index
 *
 * Takes CO_SLAB_MIN_OBJS or more objects' worth of pages from the buddy,
 * aligned to the class's power-of-two block, and publishes the descriptor
 * in the directory.  The owner is charged for the pages first and may
 * refuse them.
 *
 * Context: Caller holds the class lock; may sleep.
 * Return: the new slab (on the empty list); ERR_PTR(-ENOMEM) if memory
 * ran out, or the error of the owner's charge callback.
 */
struct co_slab *__co_slab_grow(struct co_slab_set *s, unsigned int c)
{
	struct co_slab_class *cls = &s->cls[c];
	struct co_slab *slab;
	unsigned long pfn;
	int ret;

	lockdep_assert_held(&cls->lock);
	slab = kzalloc(struct_size(slab, map, 2 * cls->words) +
		       cls->objs * sizeof(u16), s->owner.gfp);
	if (!slab)
		return ERR_PTR(-ENOMEM);
	ret = s->owner.charge ?
	      s->owner.charge(s->owner.priv, s->buddy, cls->pages) : 0;
	if (ret)
		goto err_free_slab;
	ret = -ENOMEM;
	if (co_buddy_alloc(s->buddy, cls->pages, cls->blk_pages, 0, &pfn))
		goto err_uncharge;
	if (co_slab_dir_populate(s, pfn))
		goto err_free_pages;

	slab->pfn = pfn;
	slab->class = c;
	slab->nr_free = cls->objs;
	bitmap_set(co_slab_free_map(slab), 0, cls->objs);
	list_add(&slab->node, &cls->empty);
	cls->nr_empty++;
	cls->nr_free_objs += cls->objs;
	rcu_assign_pointer(*co_slab_dir_slot(s, pfn), slab);
	return slab;

err_free_pages:
	co_buddy_free(s->buddy, pfn, cls->pages);
err_uncharge:
	co_slab_uncharge(s, cls->pages);
err_free_slab:
	kfree(slab);
	return ERR_PTR(ret);
}

/**
 * __co_slab_trim() - return empty slabs beyond @keep to the buddy
 * @s: set
 * @c: class index
 * @keep: empty slabs to keep (CO_SLAB_EMPTY_RESERVE, or 0 on destroy)
 *
 * The descriptors are freed after an RCU grace period, so a fast path that
 * found one under rcu_read_lock() can still read it (and then fails to
 * claim the object, whose LIVE bit is clear).
 *
 * Context: Caller holds the class lock.
 */
void __co_slab_trim(struct co_slab_set *s, unsigned int c, unsigned long keep)
{
	struct co_slab_class *cls = &s->cls[c];
	struct co_slab __rcu **slot;
	struct co_slab *slab;

	lockdep_assert_held(&cls->lock);
	while (cls->nr_empty > keep) {
		slab = list_first_entry(&cls->empty, struct co_slab, node);
		list_del(&slab->node);
		cls->nr_empty--;
		cls->nr_free_objs -= cls->objs;
		slot = co_slab_dir_slot(s, slab->pfn);
		RCU_INIT_POINTER(*slot, NULL);
		WARN_ON_ONCE(co_buddy_free(s->buddy, slab->pfn, cls->pages));
		co_slab_uncharge(s, cls->pages);
		kfree_rcu(slab, rcu);
	}
}

