// SPDX-License-Identifier: GPL-2.0
/*
 * co_slab.c - sub-page buffers carved from co_buddy blocks
 *
 * Size classes are multiples of a cache line (CO_SLAB_ALIGN = 64) so two
 * buffers never share a line: 64 .. 512 in steps of 64, then four classes
 * per doubling (640 768 896 1024, 1280 .. 2048, 2560 3072 3584).  Mean
 * internal waste over uniformly distributed request sizes is ~11.6% averaged
 * over the classes (the 64-byte minimum dominates; it is 8% from 256 up).
 *
 * A slab is one co_buddy allocation of lcm(size, PAGE_SIZE) / PAGE_SIZE
 * pages (doubled until it holds >= 4 objects), so every slab is cut into
 * objects with no tail waste: 640-byte objects use 5-page slabs, 3584-byte
 * objects 7-page slabs.  Non-power-of-two slabs are possible because the
 * buddy hands out exact page counts.  Slabs are requested aligned to the
 * next power of two of their size, so the slab holding an address is found
 * by masking the PFN: slab_pfn = pfn & ~(blk_pages - 1).
 *
 * Devices DMA into the objects, so nothing is stored in them: each slab has
 * a descriptor (struct co_slab, kmalloc()ed) with two bitmaps, FREE (object
 * is in the slab) and LIVE (object is held by the owner), and the requested
 * size of each object (u16), so a free with the wrong size is rejected and
 * the requested-bytes statistic is exact.  An object that is neither FREE
 * nor LIVE sits in a per-CPU magazine.  The descriptor of a slab is found
 * through a per-set two-level directory indexed by the slab's first PFN
 * (leaves of 512 slots are allocated on demand and live until the set is
 * destroyed).  Descriptors are freed with kfree_rcu(), so the fast path can
 * look them up under rcu_read_lock() only.
 *
 * Each class keeps its slabs on three lists (full, partial, empty) by the
 * number of FREE objects.  Allocation takes partial slabs first, then an
 * empty one, then a new slab from the buddy; a slab that becomes empty goes
 * back to the buddy unless the class keeps fewer than CO_SLAB_EMPTY_RESERVE
 * empty slabs.
 *
 * Per-CPU magazines (CO_SLAB_MAG_SIZE objects per class) make the common
 * alloc and free touch only CPU-local data: alloc pops an object and sets its
 * LIVE bit; free looks the descriptor up under RCU, clears the LIVE bit with
 * test_and_clear_bit() and pushes the object.  A clear LIVE bit means a
 * double or invalid free: the slow path then re-checks under the class lock
 * and rejects it with -EINVAL, changing nothing.  Magazines are small (72
 * bytes per class per CPU) because each open file has its own set; the slow
 * paths move CO_SLAB_MAG_BATCH objects between a magazine and the slabs, and
 * an allocation that finds the buddy exhausted first pulls the class's
 * objects back from every CPU's magazine.
 *
 * Kernel memory per slab: the descriptor is ~48 bytes + 2 bitmaps + 2 bytes
 * per object (~190 bytes for a 64-object slab of 64-byte objects, 4.7% of
 * its 4 KiB; ~1% or less for classes >= 256 bytes).  Per set: the classes
 * (~3 KiB), 8 bytes of directory per 512 arena pages plus 4 KiB per
 * directory leaf in use, and the per-CPU magazines (~1.4 KiB per CPU).
 *
 * Invariants (co_slab_set_check(), on a quiescent set):
 *  - FREE and LIVE are disjoint; nr_free counts FREE; lists match nr_free;
 *  - each magazine object belongs to a slab of its class and is neither
 *    FREE nor LIVE, and appears once;
 *  - per slab, objects not FREE = LIVE + in magazines;
 *  - the directory holds exactly the set's slabs, each a live buddy
 *    allocation of the class's slab size;
 *  - per-CPU counters add up to the number of LIVE bits.
 *
 * Lock order:
 *   co_slab_class.lock (mutex: slab lists, FREE bitmaps, nr_free, class
 *                       counters, directory slots of the class's slabs)
 *     -> co_slab_set.dir_lock (mutex: installing directory leaves)
 *     -> co_slab_pcpu.lock (spinlock: the CPU's magazines and counters)
 *     -> co_buddy.lock (spinlock, co_buddy.c)
 *
 * The per-CPU lock is a real spinlock, as for the page allocator's per-CPU
 * lists: a task picks its CPU's magazines with raw_cpu_ptr() and takes that
 * lock, so the lock is normally uncontended and a migration in between only
 * means using another CPU's magazines, under their lock (also fine on
 * PREEMPT_RT, where nothing here runs with preemption disabled).
 * co_slab_drain(), the checker and the statistics take other CPUs' locks to
 * look at their magazines.  Two per-CPU locks are never held together.  LIVE
 * bits are changed only with atomic bitops.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "co_slab.h"

#define CO_SLAB_LEAF_SLOTS	512
#define CO_SLAB_MIN_OBJS	4

static const unsigned short co_slab_sizes[CO_SLAB_NR_CLASSES] = {
	64, 128, 192, 256, 320, 384, 448, 512,
	640, 768, 896, 1024, 1280, 1536, 1792, 2048,
	2560, 3072, 3584,
};

/**
 * struct co_slab - descriptor of one slab (kept outside the slab)
 * @node: on one of the class lists; class lock.
 * @pfn: first page (constant).
 * @nr_free: number of FREE objects; class lock.
 * @class: size class index (constant).
 * @rcu: for kfree_rcu().
 * @map: FREE bitmap (words [0, n), class lock) then LIVE bitmap
 *	(words [n, 2n), atomic bitops), n = BITS_TO_LONGS(objects per slab),
 *	then one u16 per object: the size requested for it (written by the
 *	allocating CPU before the object is handed out, stable while LIVE).
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
 * @lock: protects everything below except the constant geometry.
 * @size: object size (constant).
 * @pages: pages per slab (constant).
 * @blk_pages: pages rounded up to a power of two, the slab alignment.
 * @objs: objects per slab (constant).
 * @words: words per bitmap in a descriptor (constant).
 * @recip: DIV_ROUND_UP(2^32, @size), to divide offsets without a div.
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
 * @nr: objects in @obj.
 * @live: LIVE objects allocated minus freed on this CPU.
 * @requested: bytes requested minus bytes freed on this CPU.
 * @obj: object addresses; neither FREE nor LIVE in their slab.
 *
 * Protected by &co_slab_pcpu.lock.
 */
struct co_slab_mag {
	unsigned int nr;
	long live;
	long requested;
	u64 obj[CO_SLAB_MAG_SIZE];
};

/**
 * struct co_slab_pcpu - per-CPU part of a set
 * @lock: protects @mag; taken by its CPU on the fast path.
 * @mag: one magazine per class.
 */
struct co_slab_pcpu {
	spinlock_t lock;	/* see the kernel-doc above */
	struct co_slab_mag mag[CO_SLAB_NR_CLASSES];
};

struct co_slab_leaf {
	struct co_slab __rcu *slot[CO_SLAB_LEAF_SLOTS];
};

/**
 * struct co_slab_set - all size classes of one owner
 * @buddy: where slabs come from (constant).
 * @name: for messages (constant).
 * @pcpu: per-CPU magazines.
 * @dir_lock: serialises installing directory leaves.
 * @nr_leaves: size of @dir (constant).
 * @dir: directory leaves, indexed by (slab pfn - arena start) / 512;
 *	entries only go from NULL to a leaf (smp_store_release()).
 * @cls: the size classes.
 */
struct co_slab_set {
	struct co_buddy *buddy;
	char name[32];
	struct co_slab_pcpu __percpu *pcpu;
	struct mutex dir_lock;	/* see the kernel-doc above */
	unsigned long nr_leaves;
	struct co_slab_leaf **dir;
	struct co_slab_class cls[CO_SLAB_NR_CLASSES];
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

/* Largest request the next smaller class serves (0 for the first). */
static unsigned int co_slab_prev_size(unsigned int c)
{
	return c ? co_slab_sizes[c - 1] : 0;
}

/* Slab geometry: smallest page count that holds whole objects, >= 4. */
static void co_slab_class_init(struct co_slab_class *cls, unsigned int size)
{
	unsigned int pages = size / gcd(size, PAGE_SIZE);

	while (pages * PAGE_SIZE / size < CO_SLAB_MIN_OBJS)
		pages *= 2;
	mutex_init(&cls->lock);
	cls->size = size;
	cls->pages = pages;
	cls->blk_pages = roundup_pow_of_two(pages);
	cls->objs = pages * PAGE_SIZE / size;
	cls->words = BITS_TO_LONGS(cls->objs);
	cls->recip = DIV_ROUND_UP_ULL(1ULL << 32, size);
	/* co_slab_div() is exact only while slab bytes * size < 2^32 */
	WARN_ON_ONCE((u64)pages * PAGE_SIZE * size >= (1ULL << 32));
	INIT_LIST_HEAD(&cls->full);
	INIT_LIST_HEAD(&cls->partial);
	INIT_LIST_HEAD(&cls->empty);
}

/* ---------------------------------------------------------------------- */
/* Descriptors and directory                                               */
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

static inline u64 co_slab_obj_addr(struct co_slab_class *cls,
				   struct co_slab *slab, unsigned int idx)
{
	return ((u64)slab->pfn << PAGE_SHIFT) + (u64)idx * cls->size;
}

static struct co_slab __rcu **co_slab_dir_slot(struct co_slab_set *s,
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

/*
 * co_slab_find - descriptor and index of the class-@c object at @addr.
 * Caller holds rcu_read_lock() or the class lock.
 */
static struct co_slab *co_slab_find(struct co_slab_set *s, unsigned int c,
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

enum co_slab_state { CO_SLAB_FULL, CO_SLAB_PARTIAL, CO_SLAB_EMPTY };

static enum co_slab_state co_slab_state(struct co_slab_class *cls,
					struct co_slab *slab)
{
	if (!slab->nr_free)
		return CO_SLAB_FULL;
	return slab->nr_free == cls->objs ? CO_SLAB_EMPTY : CO_SLAB_PARTIAL;
}

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

/* __co_slab_get_obj - take the lowest FREE object of @slab. */
static unsigned int __co_slab_get_obj(struct co_slab_class *cls,
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

/* __co_slab_put_obj - make object @idx of @slab FREE again. */
static void __co_slab_put_obj(struct co_slab_class *cls, struct co_slab *slab,
			      unsigned int idx)
{
	enum co_slab_state old = co_slab_state(cls, slab);

	lockdep_assert_held(&cls->lock);
	__set_bit(idx, co_slab_free_map(slab));
	slab->nr_free++;
	cls->nr_free_objs++;
	__co_slab_relist(cls, slab, old);
}

/* __co_slab_grow - add an empty slab to class @c. */
static struct co_slab *__co_slab_grow(struct co_slab_set *s, unsigned int c)
{
	struct co_slab_class *cls = &s->cls[c];
	struct co_slab __rcu **slot;
	unsigned long rel, pfn;
	struct co_slab_leaf *leaf;
	struct co_slab *slab;

	lockdep_assert_held(&cls->lock);
	slab = kzalloc(struct_size(slab, map, 2 * cls->words) +
		       cls->objs * sizeof(u16), GFP_KERNEL);
	if (!slab)
		return NULL;
	if (co_buddy_alloc(s->buddy, cls->pages, cls->blk_pages, 0, &pfn))
		goto err_free_slab;

	rel = (pfn - s->buddy->start_pfn) / CO_SLAB_LEAF_SLOTS;
	/* Acquire: pairs with the release below (another class's grow). */
	if (!smp_load_acquire(&s->dir[rel])) {
		leaf = kzalloc(sizeof(*leaf), GFP_KERNEL);
		if (!leaf)
			goto err_free_pages;
		mutex_lock(&s->dir_lock);
		if (!s->dir[rel]) {
			/* Publish the zeroed leaf to lockless lookups. */
			smp_store_release(&s->dir[rel], leaf);
			leaf = NULL;
		}
		mutex_unlock(&s->dir_lock);
		kfree(leaf);
	}

	slab->pfn = pfn;
	slab->class = c;
	slab->nr_free = cls->objs;
	bitmap_set(co_slab_free_map(slab), 0, cls->objs);
	list_add(&slab->node, &cls->empty);
	cls->nr_empty++;
	cls->nr_free_objs += cls->objs;
	slot = co_slab_dir_slot(s, pfn);
	rcu_assign_pointer(*slot, slab);
	return slab;

err_free_pages:
	co_buddy_free(s->buddy, pfn, cls->pages);
err_free_slab:
	kfree(slab);
	return NULL;
}

/* __co_slab_trim - return empty slabs beyond @keep to the buddy. */
static void __co_slab_trim(struct co_slab_set *s, unsigned int c,
			   unsigned long keep)
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
		kfree_rcu(slab, rcu);
	}
}

/* ---------------------------------------------------------------------- */
/* Set lifetime                                                            */
/* ---------------------------------------------------------------------- */

/**
 * co_slab_set_create() - create the caches of one owner
 * @b: arena the slabs come from; must outlive the set
 * @name: for messages, copied (may be NULL)
 *
 * Context: Process context, may sleep.
 * Return: the set, or NULL on -ENOMEM.
 */
struct co_slab_set *co_slab_set_create(struct co_buddy *b, const char *name)
{
	struct co_slab_set *s;
	unsigned int c;
	int cpu;

	might_sleep();
	BUILD_BUG_ON(ARRAY_SIZE(co_slab_sizes) != CO_SLAB_NR_CLASSES);
	BUILD_BUG_ON(CO_SLAB_MAG_BATCH > CO_SLAB_MAG_SIZE);

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	s->buddy = b;
	strscpy(s->name, name ? name : "", sizeof(s->name));
	mutex_init(&s->dir_lock);
	s->nr_leaves = DIV_ROUND_UP(b->nr_pages, CO_SLAB_LEAF_SLOTS);
	s->dir = kvcalloc(s->nr_leaves, sizeof(*s->dir), GFP_KERNEL);
	if (!s->dir)
		goto err_free_set;
	s->pcpu = alloc_percpu(struct co_slab_pcpu);
	if (!s->pcpu)
		goto err_free_dir;
	for_each_possible_cpu(cpu)
		spin_lock_init(&per_cpu_ptr(s->pcpu, cpu)->lock);
	for (c = 0; c < CO_SLAB_NR_CLASSES; c++)
		co_slab_class_init(&s->cls[c], co_slab_sizes[c]);
	return s;

err_free_dir:
	kvfree(s->dir);
err_free_set:
	mutex_destroy(&s->dir_lock);
	kfree(s);
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(co_slab_set_create);

/* Objects of class @c held by the owner or parked in magazines. */
static unsigned long __co_slab_used(struct co_slab_class *cls)
{
	lockdep_assert_held(&cls->lock);
	return (cls->nr_full + cls->nr_partial + cls->nr_empty) * cls->objs -
	       cls->nr_free_objs;
}

/**
 * co_slab_set_destroy() - free a set whose objects have all been freed
 * @s: set
 *
 * Drains the magazines first.  If objects are still in use nothing is
 * freed: the leak is reported and the set stays valid.
 *
 * Context: Process context, may sleep.  No concurrent users of @s.
 * Return: 0, or -EBUSY if objects are still allocated.
 */
int co_slab_set_destroy(struct co_slab_set *s)
{
	unsigned long leaked = 0, leaves = 0;
	unsigned int c;

	might_sleep();
	co_slab_drain(s);
	for (c = 0; c < CO_SLAB_NR_CLASSES; c++) {
		mutex_lock(&s->cls[c].lock);
		leaked += __co_slab_used(&s->cls[c]);
		mutex_unlock(&s->cls[c].lock);
	}
	if (leaked) {
		pr_err("slab set %s: %lu objects still allocated, not destroyed\n",
		       s->name, leaked);
		return -EBUSY;
	}
	for (c = 0; c < CO_SLAB_NR_CLASSES; c++) {
		mutex_lock(&s->cls[c].lock);
		__co_slab_trim(s, c, 0);
		mutex_unlock(&s->cls[c].lock);
		mutex_destroy(&s->cls[c].lock);
	}
	for (leaves = 0; leaves < s->nr_leaves; leaves++)
		kfree(s->dir[leaves]);
	kvfree(s->dir);
	free_percpu(s->pcpu);
	mutex_destroy(&s->dir_lock);
	kfree(s);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(co_slab_set_destroy);

/* ---------------------------------------------------------------------- */
/* Alloc and free                                                          */
/* ---------------------------------------------------------------------- */

/* Return magazine object @addr of class @c to its slab. */
static void __co_slab_unpark(struct co_slab_set *s, unsigned int c, u64 addr)
{
	struct co_slab *slab;
	unsigned int idx;

	lockdep_assert_held(&s->cls[c].lock);
	slab = co_slab_find(s, c, addr, &idx);
	if (WARN_ON_ONCE(!slab))
		return;
	__co_slab_put_obj(&s->cls[c], slab, idx);
}

/* Return every CPU's magazine objects of class @c to their slabs. */
static void __co_slab_drain_class(struct co_slab_set *s, unsigned int c)
{
	int cpu;

	lockdep_assert_held(&s->cls[c].lock);
	for_each_possible_cpu(cpu) {
		struct co_slab_pcpu *pc = per_cpu_ptr(s->pcpu, cpu);
		struct co_slab_mag *m = &pc->mag[c];

		spin_lock(&pc->lock);
		while (m->nr)
			__co_slab_unpark(s, c, m->obj[--m->nr]);
		spin_unlock(&pc->lock);
	}
}

/*
 * __co_slab_pick - a slab with a FREE object: partial first, then empty,
 * then a new one; when the buddy is out of pages, objects parked in other
 * CPUs' magazines are pulled back before giving up.
 */
static struct co_slab *__co_slab_pick(struct co_slab_set *s, unsigned int c)
{
	struct co_slab_class *cls = &s->cls[c];
	struct co_slab *slab;

	lockdep_assert_held(&cls->lock);
	slab = list_first_entry_or_null(&cls->partial, struct co_slab, node);
	if (!slab)
		slab = list_first_entry_or_null(&cls->empty, struct co_slab,
						node);
	if (!slab)
		slab = __co_slab_grow(s, c);
	if (!slab) {
		__co_slab_drain_class(s, c);
		slab = list_first_entry_or_null(&cls->partial, struct co_slab,
						node);
	}
	if (!slab)
		slab = list_first_entry_or_null(&cls->empty, struct co_slab,
						node);
	return slab;
}

static int co_slab_alloc_slow(struct co_slab_set *s, unsigned int c,
			      size_t size, u64 *addr)
{
	struct co_slab_class *cls = &s->cls[c];
	u64 refill[CO_SLAB_MAG_BATCH];
	unsigned int i, n = 0, idx;
	struct co_slab_pcpu *pc;
	struct co_slab_mag *m;
	struct co_slab *slab;

	mutex_lock(&cls->lock);
	slab = __co_slab_pick(s, c);
	if (!slab) {
		cls->nr_fail++;
		mutex_unlock(&cls->lock);
		return -ENOMEM;
	}
	idx = __co_slab_get_obj(cls, slab);
	co_slab_req(s, slab)[idx] = size;
	set_bit(idx, co_slab_live_map(s, slab));
	*addr = co_slab_obj_addr(cls, slab, idx);
	while (n < CO_SLAB_MAG_BATCH && slab->nr_free)
		refill[n++] = co_slab_obj_addr(cls, slab,
					       __co_slab_get_obj(cls, slab));

	pc = raw_cpu_ptr(s->pcpu);
	spin_lock(&pc->lock);
	m = &pc->mag[c];
	m->live++;
	m->requested += size;
	for (i = 0; i < n && m->nr < CO_SLAB_MAG_SIZE; i++)
		m->obj[m->nr++] = refill[i];
	spin_unlock(&pc->lock);

	for (; i < n; i++)
		__co_slab_unpark(s, c, refill[i]);
	mutex_unlock(&cls->lock);
	return 0;
}

/**
 * co_slab_alloc() - allocate a cache-line aligned sub-page buffer
 * @s: set
 * @size: bytes, 1 .. co_slab_max_size(); co_slab_class_size(@size) are
 *	granted
 * @addr: returns the physical byte address of the buffer
 *
 * Context: Process context, may sleep (only when the magazine is empty).
 * Return: 0, -EINVAL for size 0, -E2BIG above co_slab_max_size(), -ENOMEM.
 */
int co_slab_alloc(struct co_slab_set *s, size_t size, u64 *addr)
{
	unsigned int c = co_slab_class_index(size), idx;
	struct co_slab_pcpu *pc;
	struct co_slab_mag *m;
	struct co_slab *slab;

	if (!size)
		return -EINVAL;
	if (c >= CO_SLAB_NR_CLASSES)
		return -E2BIG;

	pc = raw_cpu_ptr(s->pcpu);
	spin_lock(&pc->lock);
	m = &pc->mag[c];
	if (m->nr) {
		u64 a = m->obj[--m->nr];

		rcu_read_lock();
		slab = co_slab_find(s, c, a, &idx);
		if (!WARN_ON_ONCE(!slab)) {
			co_slab_req(s, slab)[idx] = size;
			set_bit(idx, co_slab_live_map(s, slab));
		}
		rcu_read_unlock();
		m->live++;
		m->requested += size;
		spin_unlock(&pc->lock);
		*addr = a;
		return 0;
	}
	spin_unlock(&pc->lock);

	might_sleep();
	return co_slab_alloc_slow(s, c, size, addr);
}
EXPORT_SYMBOL_IF_KUNIT(co_slab_alloc);

static int co_slab_free_slow(struct co_slab_set *s, unsigned int c, u64 addr,
			     size_t size)
{
	struct co_slab_class *cls = &s->cls[c];
	u64 flush[CO_SLAB_MAG_BATCH];
	unsigned int i, n = 0, idx;
	const char *why = NULL;
	struct co_slab_pcpu *pc;
	struct co_slab_mag *m;
	struct co_slab *slab;

	mutex_lock(&cls->lock);
	slab = co_slab_find(s, c, addr, &idx);
	if (!slab)
		why = "no such object";
	else if (!test_bit(idx, co_slab_live_map(s, slab)))
		why = "not allocated";
	else if (co_slab_req(s, slab)[idx] != size)
		why = "wrong size";
	else if (!test_and_clear_bit(idx, co_slab_live_map(s, slab)))
		why = "not allocated";
	if (why) {
		cls->nr_invalid++;
		mutex_unlock(&cls->lock);
		co_report("slab set %s: invalid free of %#llx size %zu: %s\n",
			  s->name, addr, size, why);
		return -EINVAL;
	}
	__co_slab_put_obj(cls, slab, idx);

	pc = raw_cpu_ptr(s->pcpu);
	spin_lock(&pc->lock);
	m = &pc->mag[c];
	m->live--;
	m->requested -= size;
	if (m->nr == CO_SLAB_MAG_SIZE) {
		for (n = 0; n < CO_SLAB_MAG_BATCH; n++)
			flush[n] = m->obj[n];
		m->nr -= n;
		memmove(m->obj, m->obj + n, m->nr * sizeof(m->obj[0]));
	}
	spin_unlock(&pc->lock);

	for (i = 0; i < n; i++)
		__co_slab_unpark(s, c, flush[i]);
	__co_slab_trim(s, c, CO_SLAB_EMPTY_RESERVE);
	mutex_unlock(&cls->lock);
	return 0;
}

/**
 * co_slab_free() - free a buffer from co_slab_alloc()
 * @s: set that allocated it
 * @addr: address returned by co_slab_alloc()
 * @size: the size passed to co_slab_alloc()
 *
 * Addresses that are not a live object of this set (double free, never
 * allocated, inside an object, another set's object) and sizes other than
 * the one allocated are reported (ratelimited) and rejected without changing
 * anything.
 *
 * Context: Process context, may sleep (only on the slow path).
 * Return: 0 or -EINVAL.
 */
int co_slab_free(struct co_slab_set *s, u64 addr, size_t size)
{
	unsigned int c = co_slab_class_index(size), idx;
	struct co_slab_pcpu *pc;
	struct co_slab_mag *m;
	struct co_slab *slab;
	bool done = false;

	if (c >= CO_SLAB_NR_CLASSES) {
		co_report("slab set %s: free of %#llx with bad size %zu\n",
			  s->name, addr, size);
		return -EINVAL;
	}

	rcu_read_lock();
	slab = co_slab_find(s, c, addr, &idx);
	if (slab) {
		pc = raw_cpu_ptr(s->pcpu);
		spin_lock(&pc->lock);
		m = &pc->mag[c];
		if (m->nr < CO_SLAB_MAG_SIZE &&
		    co_slab_req(s, slab)[idx] == size &&
		    test_and_clear_bit(idx, co_slab_live_map(s, slab))) {
			m->obj[m->nr++] = addr;
			m->live--;
			m->requested -= size;
			done = true;
		}
		spin_unlock(&pc->lock);
	}
	rcu_read_unlock();
	if (done)
		return 0;

	might_sleep();
	return co_slab_free_slow(s, c, addr, size);
}
EXPORT_SYMBOL_IF_KUNIT(co_slab_free);

/**
 * co_slab_drain() - flush all magazines, release surplus empty slabs
 * @s: set
 *
 * Context: Process context, may sleep.
 */
void co_slab_drain(struct co_slab_set *s)
{
	unsigned int c;

	might_sleep();
	for (c = 0; c < CO_SLAB_NR_CLASSES; c++) {
		mutex_lock(&s->cls[c].lock);
		__co_slab_drain_class(s, c);
		__co_slab_trim(s, c, CO_SLAB_EMPTY_RESERVE);
		mutex_unlock(&s->cls[c].lock);
	}
}
EXPORT_SYMBOL_IF_KUNIT(co_slab_drain);

/* ---------------------------------------------------------------------- */
/* Statistics and checker                                                  */
/* ---------------------------------------------------------------------- */

/**
 * co_slab_get_stats() - snapshot one size class of a set
 * @s: set
 * @class: class index < co_slab_nr_classes()
 * @st: filled in (zeroed for a bad @class)
 *
 * Context: Process context, may sleep.
 */
void co_slab_get_stats(struct co_slab_set *s, unsigned int class,
		       struct co_slab_class_stats *st)
{
	struct co_slab_class *cls;
	long live = 0, req = 0;
	int cpu;

	memset(st, 0, sizeof(*st));
	if (class >= CO_SLAB_NR_CLASSES)
		return;
	cls = &s->cls[class];

	mutex_lock(&cls->lock);
	for_each_possible_cpu(cpu) {
		struct co_slab_pcpu *pc = per_cpu_ptr(s->pcpu, cpu);

		spin_lock(&pc->lock);
		live += pc->mag[class].live;
		req += pc->mag[class].requested;
		st->objs_cached += pc->mag[class].nr;
		spin_unlock(&pc->lock);
	}
	st->obj_size = cls->size;
	st->slab_pages = cls->pages;
	st->objs_per_slab = cls->objs;
	st->objs_in_use = live;
	st->slabs_full = cls->nr_full;
	st->slabs_partial = cls->nr_partial;
	st->slabs_empty = cls->nr_empty;
	st->objs_total = (cls->nr_full + cls->nr_partial + cls->nr_empty) *
			 cls->objs;
	st->requested_bytes = req;
	st->granted_bytes = (u64)live * cls->size;
	st->nr_fail = cls->nr_fail;
	st->nr_invalid = cls->nr_invalid;
	mutex_unlock(&cls->lock);
}
EXPORT_SYMBOL_IF_KUNIT(co_slab_get_stats);

#define co_slab_bad(s, c, fmt, ...)					\
	({								\
		pr_err("slab set %s class %u check: " fmt "\n",		\
		       (s)->name, (c), ##__VA_ARGS__);			\
		-EUCLEAN;						\
	})

static int co_slab_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Check one slab of class @c on list @state; returns objects not FREE. */
static int __co_slab_check_slab(struct co_slab_set *s, unsigned int c,
				struct co_slab *slab, enum co_slab_state state,
				unsigned long *live, u64 *req_sum)
{
	struct co_slab_class *cls = &s->cls[c];
	unsigned long *fm = co_slab_free_map(slab);
	unsigned long *lm = co_slab_live_map(s, slab);
	struct co_slab __rcu **slot;
	unsigned int w, tail, idx;

	if (slab->class != c)
		return co_slab_bad(s, c, "slab %#lx has class %u", slab->pfn,
				   slab->class);
	if (co_slab_state(cls, slab) != state)
		return co_slab_bad(s, c, "slab %#lx nr_free %u on the wrong list",
				   slab->pfn, slab->nr_free);
	if (bitmap_weight(fm, cls->objs) != slab->nr_free)
		return co_slab_bad(s, c, "slab %#lx: %u FREE bits, nr_free %u",
				   slab->pfn, bitmap_weight(fm, cls->objs),
				   slab->nr_free);
	tail = cls->objs % BITS_PER_LONG;
	if (tail && ((fm[cls->words - 1] | lm[cls->words - 1]) &
		     ~(BIT(tail) - 1)))
		return co_slab_bad(s, c, "slab %#lx: bits beyond the last object",
				   slab->pfn);
	for (w = 0; w < cls->words; w++)
		if (fm[w] & lm[w])
			return co_slab_bad(s, c, "slab %#lx: object both FREE and LIVE",
					   slab->pfn);
	if (slab->pfn & (cls->blk_pages - 1))
		return co_slab_bad(s, c, "slab %#lx misaligned", slab->pfn);
	slot = co_slab_dir_slot(s, slab->pfn);
	if (!slot || rcu_access_pointer(*slot) != slab)
		return co_slab_bad(s, c, "slab %#lx missing from the directory",
				   slab->pfn);
	if (!co_buddy_is_allocation(s->buddy, slab->pfn, cls->pages))
		return co_slab_bad(s, c, "slab %#lx is not a buddy allocation of %u pages",
				   slab->pfn, cls->pages);
	for_each_set_bit(idx, lm, cls->objs) {
		u16 req = co_slab_req(s, slab)[idx];

		if (req <= co_slab_prev_size(c) || req > cls->size)
			return co_slab_bad(s, c, "slab %#lx object %u: requested %u",
					   slab->pfn, idx, req);
		*req_sum += req;
		(*live)++;
	}
	return 0;
}

static int __co_slab_check_class(struct co_slab_set *s, unsigned int c,
				 u64 *mags, unsigned long *nr_slabs)
{
	struct co_slab_class *cls = &s->cls[c];
	static const enum co_slab_state states[] = {
		CO_SLAB_FULL, CO_SLAB_PARTIAL, CO_SLAB_EMPTY,
	};
	struct list_head *lists[] = { &cls->full, &cls->partial, &cls->empty };
	unsigned long counts[] = { cls->nr_full, cls->nr_partial,
				   cls->nr_empty };
	unsigned long live_bits = 0, free_objs = 0, nr_mag = 0, i;
	long live = 0, req = 0;
	u64 req_bits = 0;
	struct co_slab *slab;
	unsigned int l, idx;
	int cpu, ret;

	lockdep_assert_held(&cls->lock);
	for (l = 0; l < ARRAY_SIZE(lists); l++) {
		unsigned long n = 0;

		list_for_each_entry(slab, lists[l], node) {
			ret = __co_slab_check_slab(s, c, slab, states[l],
						   &live_bits, &req_bits);
			if (ret)
				return ret;
			free_objs += slab->nr_free;
			n++;
		}
		if (n != counts[l])
			return co_slab_bad(s, c, "list %u has %lu slabs, counter %lu",
					   l, n, counts[l]);
		*nr_slabs += n;
	}
	if (free_objs != cls->nr_free_objs)
		return co_slab_bad(s, c, "%lu FREE objects, counter %lu",
				   free_objs, cls->nr_free_objs);

	for_each_possible_cpu(cpu) {
		struct co_slab_pcpu *pc = per_cpu_ptr(s->pcpu, cpu);
		struct co_slab_mag *m = &pc->mag[c];

		spin_lock(&pc->lock);
		live += m->live;
		req += m->requested;
		for (i = 0; i < m->nr && i < CO_SLAB_MAG_SIZE; i++)
			mags[nr_mag++] = m->obj[i];
		i = m->nr;
		spin_unlock(&pc->lock);
		if (i > CO_SLAB_MAG_SIZE)
			return co_slab_bad(s, c, "cpu %d magazine holds %lu",
					   cpu, i);
	}
	for (i = 0; i < nr_mag; i++) {
		slab = co_slab_find(s, c, mags[i], &idx);
		if (!slab)
			return co_slab_bad(s, c, "magazine object %#llx has no slab",
					   mags[i]);
		if (test_bit(idx, co_slab_free_map(slab)) ||
		    test_bit(idx, co_slab_live_map(s, slab)))
			return co_slab_bad(s, c, "magazine object %#llx is FREE or LIVE",
					   mags[i]);
	}
	sort(mags, nr_mag, sizeof(*mags), co_slab_cmp_u64, NULL);
	for (i = 1; i < nr_mag; i++)
		if (mags[i] == mags[i - 1])
			return co_slab_bad(s, c, "object %#llx in two magazines",
					   mags[i]);

	if (__co_slab_used(cls) != live_bits + nr_mag)
		return co_slab_bad(s, c, "%lu objects out of slabs, %lu LIVE + %lu in magazines",
				   __co_slab_used(cls), live_bits, nr_mag);
	if (live < 0 || (unsigned long)live != live_bits)
		return co_slab_bad(s, c, "live counters say %ld, %lu LIVE bits",
				   live, live_bits);
	if (req < 0 || (u64)req != req_bits)
		return co_slab_bad(s, c, "requested counters say %ld, objects %llu",
				   req, req_bits);
	return 0;
}

static void __co_slab_count_dir(struct co_slab_set *s, unsigned long *n)
{
	unsigned long i, j;

	*n = 0;
	for (i = 0; i < s->nr_leaves; i++) {
		struct co_slab_leaf *leaf = s->dir[i];

		if (!leaf)
			continue;
		for (j = 0; j < CO_SLAB_LEAF_SLOTS; j++)
			if (rcu_access_pointer(leaf->slot[j]))
				(*n)++;
	}
}

/**
 * co_slab_set_check() - verify every invariant of a set
 * @s: set
 *
 * The caller must keep other users of @s quiet for the duration (objects
 * moving between magazines and owners would look inconsistent).
 *
 * Context: Process context, may sleep.
 * Return: 0, -ENOMEM, or -EUCLEAN after a pr_err() naming the broken
 * invariant.
 */
int co_slab_set_check(struct co_slab_set *s)
{
	unsigned long nr_slabs = 0, in_dir;
	unsigned int c;
	u64 *mags;
	int ret = 0;

	might_sleep();
	mags = kmalloc_array(nr_cpu_ids * CO_SLAB_MAG_SIZE, sizeof(*mags),
			     GFP_KERNEL);
	if (!mags)
		return -ENOMEM;
	for (c = 0; c < CO_SLAB_NR_CLASSES && !ret; c++) {
		mutex_lock(&s->cls[c].lock);
		ret = __co_slab_check_class(s, c, mags, &nr_slabs);
		mutex_unlock(&s->cls[c].lock);
	}
	kfree(mags);
	if (ret)
		return ret;

	mutex_lock(&s->dir_lock);
	__co_slab_count_dir(s, &in_dir);
	mutex_unlock(&s->dir_lock);
	if (in_dir != nr_slabs) {
		pr_err("slab set %s check: directory holds %lu slabs, lists %lu\n",
		       s->name, in_dir, nr_slabs);
		return -EUCLEAN;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(co_slab_set_check);
