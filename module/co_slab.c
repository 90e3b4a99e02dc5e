// SPDX-License-Identifier: GPL-2.0
/*
 * co_slab.c - sub-page buffers carved from co_buddy blocks: the design,
 * set creation and destruction
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
 * Per-CPU magazines make the common alloc and free touch only CPU-local
 * data: alloc pops an object and sets its LIVE bit; free looks the
 * descriptor up under RCU, clears the LIVE bit with test_and_clear_bit() and
 * pushes the object.  A clear LIVE bit means a double or invalid free: the
 * slow path then re-checks under the class lock and rejects it with -EINVAL,
 * changing nothing.  A magazine holds up to CO_SLAB_MAG_BYTES of objects
 * (CO_SLAB_MAG_MIN .. CO_SLAB_MAG_MAX of them: 64 of 64 bytes, 16 of 1 KiB,
 * 4 of 3584 bytes), so that alloc and free in bursts of up to half a
 * magazine stay on the fast path; the slow paths move half a magazine
 * between it and the slabs, and an allocation that finds the buddy
 * exhausted first pulls the class's objects back from every CPU's magazine.
 *
 * The owner (struct co_slab_owner) is charged for every page a slab takes
 * from the buddy, before it takes them, and uncharged when they go back;
 * its charge callback may refuse a grow.  Objects are not charged one by
 * one: a live object pins its whole slab, and the magazines and the empty
 * reserve sit in slab pages too, so the pages are what the owner holds.
 * The set's own metadata is allocated with the owner's gfp flags
 * (GFP_KERNEL_ACCOUNT for a set made on behalf of a user).
 *
 * Kernel memory per slab: the descriptor is ~48 bytes + 2 bitmaps + 2 bytes
 * per object (~190 bytes for a 64-object slab of 64-byte objects, 4.7% of
 * its 4 KiB; ~1% or less for classes >= 256 bytes).  Per set: the classes
 * (~3 KiB), 8 bytes of directory per 512 arena pages plus 4 KiB per
 * directory leaf in use, and the per-CPU magazines (~4.9 KiB per CPU: 551
 * slots of 8 bytes and 19 counters).
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
 * Files (each calls only the ones below it; co_slab_priv.h has the shared
 * structures, the lock order and the magazine rules):
 *  - co_slab.c: this note, co_slab_set_create*(), co_slab_set_destroy();
 *  - co_slab_mag.c: co_slab_alloc(), co_slab_free(), co_slab_drain();
 *  - co_slab_stats.c and co_slab_check.c: statistics and the checker;
 *  - co_slab_class.c: size classes, slabs, the directory.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "co_slab_priv.h"

/**
 * co_slab_set_create_owned() - create the caches of one owner, who pays
 * @b: arena the slabs come from; must outlive the set
 * @name: for messages, copied (may be NULL)
 * @owner: charge callbacks and metadata flags, copied; NULL: nobody is
 *	charged and metadata is GFP_KERNEL
 *
 * Context: Process context, may sleep.
 * Return: the set, or NULL on -ENOMEM.
 */
struct co_slab_set *co_slab_set_create_owned(struct co_buddy *b,
					     const char *name,
					     const struct co_slab_owner *owner)
{
	gfp_t gfp = owner ? owner->gfp : GFP_KERNEL;
	struct co_slab_set *s;
	unsigned int c, slots = 0;
	int cpu;

	might_sleep();
	BUILD_BUG_ON(CO_SLAB_MAG_MIN < 2 || CO_SLAB_MAG_MIN > CO_SLAB_MAG_MAX);

	s = kzalloc(sizeof(*s), gfp);
	if (!s)
		return NULL;
	s->buddy = b;
	strscpy(s->name, name ? name : "", sizeof(s->name));
	if (owner)
		s->owner = *owner;
	s->owner.gfp = gfp;
	mutex_init(&s->dir_lock);
	s->nr_leaves = DIV_ROUND_UP(b->nr_pages, CO_SLAB_LEAF_SLOTS);
	s->dir = kvcalloc(s->nr_leaves, sizeof(*s->dir), gfp);
	if (!s->dir)
		goto err_free_set;
	for (c = 0; c < CO_SLAB_NR_CLASSES; c++) {
		co_slab_class_init(&s->cls[c], c);
		s->cls[c].mag_off = slots;
		slots += s->cls[c].mag_cap;
	}
	s->pcpu = __alloc_percpu_gfp(struct_size_t(struct co_slab_pcpu, obj,
						   slots),
				     __alignof__(struct co_slab_pcpu), gfp);
	if (!s->pcpu)
		goto err_free_dir;
	for_each_possible_cpu(cpu)
		spin_lock_init(&per_cpu_ptr(s->pcpu, cpu)->lock);
	return s;

err_free_dir:
	kvfree(s->dir);
err_free_set:
	mutex_destroy(&s->dir_lock);
	kfree(s);
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(co_slab_set_create_owned);

/**
 * co_slab_set_create() - create the caches of one owner, charged to nobody
 * @b: arena the slabs come from; must outlive the set
 * @name: for messages, copied (may be NULL)
 *
 * Context: Process context, may sleep.
 * Return: the set, or NULL on -ENOMEM.
 */
struct co_slab_set *co_slab_set_create(struct co_buddy *b, const char *name)
{
	return co_slab_set_create_owned(b, name, NULL);
}
EXPORT_SYMBOL_IF_KUNIT(co_slab_set_create);

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
