// SPDX-License-Identifier: GPL-2.0
/*
 * co_slab_mag.c - allocation and free of slab objects
 *
 * The common alloc and free touch only CPU-local data: a per-CPU magazine of
 * &co_slab_class.mag_cap objects per class.  When it is empty (alloc) or full
 * (free), or the free cannot be proven valid without the class lock, the
 * slow path takes the class lock, works on the slabs through
 * co_slab_class.c and moves half a magazine (&co_slab_class.mag_batch
 * objects) into or out of it.  An allocation that finds the buddy exhausted pulls the class's
 * objects back from every CPU's magazine before it fails; co_slab_drain()
 * does the same for every class.
 *
 * The magazine rules and the lock order are written with struct
 * co_slab_mag and at the top of co_slab_priv.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "co_slab_priv.h"

/* ---------------------------------------------------------------------- */
/* Moving objects between magazines and slabs (class lock held)            */
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
		u64 *obj = co_slab_mag_obj(s, pc, c);

		spin_lock(&pc->lock);
		while (m->nr)
			__co_slab_unpark(s, c, obj[--m->nr]);
		spin_unlock(&pc->lock);
	}
}

/*
 * __co_slab_mag_refill - account an allocation of @size on @pc and park up
 * to @n refill objects in its magazine.  Returns how many were parked; the
 * caller returns the rest to their slab.
 */
static unsigned int __co_slab_mag_refill(struct co_slab_set *s,
					 struct co_slab_pcpu *pc,
					 unsigned int c, size_t size,
					 const u64 *refill, unsigned int n)
{
	struct co_slab_mag *m = &pc->mag[c];
	u64 *obj = co_slab_mag_obj(s, pc, c);
	unsigned int i;

	lockdep_assert_held(&pc->lock);
	m->live++;
	m->requested += size;
	for (i = 0; i < n && m->nr < s->cls[c].mag_cap; i++)
		obj[m->nr++] = refill[i];
	return i;
}

/*
 * __co_slab_mag_flush - account a free of @size on @pc; if its magazine is
 * full, take its &co_slab_class.mag_batch oldest objects out into @flush.
 * Returns how many were taken; the caller returns them to their slabs.
 */
static unsigned int __co_slab_mag_flush(struct co_slab_set *s,
					struct co_slab_pcpu *pc,
					unsigned int c, size_t size, u64 *flush)
{
	struct co_slab_mag *m = &pc->mag[c];
	u64 *obj = co_slab_mag_obj(s, pc, c);
	unsigned int n;

	lockdep_assert_held(&pc->lock);
	m->live--;
	m->requested -= size;
	if (m->nr < s->cls[c].mag_cap)
		return 0;
	for (n = 0; n < s->cls[c].mag_batch; n++)
		flush[n] = obj[n];
	m->nr -= n;
	memmove(obj, obj + n, m->nr * sizeof(*obj));
	return n;
}

/* ---------------------------------------------------------------------- */
/* Allocation                                                              */
/* ---------------------------------------------------------------------- */

/*
 * __co_slab_pick - a slab with a FREE object: partial first, then empty,
 * then a new one; when the buddy is out of pages, objects parked in other
 * CPUs' magazines are pulled back before giving up.
 */
static struct co_slab *__co_slab_pick(struct co_slab_set *s, unsigned int c,
				      int *err)
{
	struct co_slab_class *cls = &s->cls[c];
	struct co_slab *slab;

	lockdep_assert_held(&cls->lock);
	slab = list_first_entry_or_null(&cls->partial, struct co_slab, node);
	if (!slab)
		slab = list_first_entry_or_null(&cls->empty, struct co_slab,
						node);
	if (slab)
		return slab;
	slab = __co_slab_grow(s, c);
	if (!IS_ERR(slab))
		return slab;
	/* Out of pages, or the owner refused them: that is the error. */
	*err = PTR_ERR(slab);
	__co_slab_drain_class(s, c);
	slab = list_first_entry_or_null(&cls->partial, struct co_slab, node);
	if (!slab)
		slab = list_first_entry_or_null(&cls->empty, struct co_slab,
						node);
	return slab;
}

static int co_slab_alloc_slow(struct co_slab_set *s, unsigned int c,
			      size_t size, u64 *addr)
{
	struct co_slab_class *cls = &s->cls[c];
	u64 refill[CO_SLAB_MAG_MAX / 2];
	unsigned int i, n = 0, idx;
	struct co_slab_pcpu *pc;
	struct co_slab *slab;
	int err = -ENOMEM;

	mutex_lock(&cls->lock);
	slab = __co_slab_pick(s, c, &err);
	if (!slab) {
		cls->nr_fail++;
		mutex_unlock(&cls->lock);
		return err;
	}
	idx = __co_slab_get_obj(cls, slab);
	co_slab_req(s, slab)[idx] = size;
	set_bit(idx, co_slab_live_map(s, slab));
	*addr = co_slab_obj_addr(cls, slab, idx);
	while (n < cls->mag_batch && slab->nr_free)
		refill[n++] = co_slab_obj_addr(cls, slab,
					       __co_slab_get_obj(cls, slab));

	pc = raw_cpu_ptr(s->pcpu);
	spin_lock(&pc->lock);
	i = __co_slab_mag_refill(s, pc, c, size, refill, n);
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
 * Return: 0, -EINVAL for size 0, -E2BIG above co_slab_max_size(), -ENOMEM
 * when the buddy is out of pages, or the error of the owner's charge
 * callback when it refused a new slab (struct co_slab_owner).
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
		u64 a = co_slab_mag_obj(s, pc, c)[--m->nr];

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

/* ---------------------------------------------------------------------- */
/* Free                                                                    */
/* ---------------------------------------------------------------------- */

/* Why @addr/@size is not a LIVE object of class @c; claims it if it is. */
static const char *__co_slab_claim(struct co_slab_set *s, unsigned int c,
				   u64 addr, size_t size,
				   struct co_slab **slabp, unsigned int *idx)
{
	struct co_slab *slab;

	lockdep_assert_held(&s->cls[c].lock);
	slab = co_slab_find(s, c, addr, idx);
	if (!slab)
		return "no such object";
	if (!test_bit(*idx, co_slab_live_map(s, slab)))
		return "not allocated";
	if (co_slab_req(s, slab)[*idx] != size)
		return "wrong size";
	if (!test_and_clear_bit(*idx, co_slab_live_map(s, slab)))
		return "not allocated";
	*slabp = slab;
	return NULL;
}

static int co_slab_free_slow(struct co_slab_set *s, unsigned int c, u64 addr,
			     size_t size)
{
	struct co_slab_class *cls = &s->cls[c];
	u64 flush[CO_SLAB_MAG_MAX / 2];
	struct co_slab_pcpu *pc;
	struct co_slab *slab;
	unsigned int i, n, idx;
	const char *why;

	mutex_lock(&cls->lock);
	why = __co_slab_claim(s, c, addr, size, &slab, &idx);
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
	n = __co_slab_mag_flush(s, pc, c, size, flush);
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
		if (m->nr < s->cls[c].mag_cap &&
		    co_slab_req(s, slab)[idx] == size &&
		    test_and_clear_bit(idx, co_slab_live_map(s, slab))) {
			co_slab_mag_obj(s, pc, c)[m->nr++] = addr;
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

