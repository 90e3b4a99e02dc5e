// SPDX-License-Identifier: GPL-2.0
/*
 * co_slab_check.c - consistency checker of a slab set
 *
 * co_slab_set_check() verifies the invariants listed in co_slab.c on a
 * quiescent set, one class at a time under its class lock: every slab on
 * the right list with bitmaps matching its counters, in the directory and a
 * live buddy allocation of the class's slab size; magazine objects neither
 * FREE nor LIVE and in one magazine only; the objects out of the slabs
 * equal to LIVE objects plus magazine objects; the per-CPU counters adding
 * up to the LIVE bits and requested sizes.  Finally the directory must hold
 * exactly the slabs on the lists.  It changes nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "co_slab_priv.h"

/**
 * struct co_slab_tally - what the checker counted in one class
 * @live_bits: LIVE objects in the slabs.
 * @req_bits: requested bytes of the LIVE objects.
 * @free_objs: FREE objects in the slabs.
 * @nr_mag: objects in magazines (entries of the caller's array).
 * @live: sum of the per-CPU live counters.
 * @req: sum of the per-CPU requested counters.
 */
struct co_slab_tally {
	unsigned long live_bits;
	u64 req_bits;
	unsigned long free_objs;
	unsigned long nr_mag;
	long live;
	long req;
};

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

/* Check one slab of class @c on list @state; count its LIVE objects. */
static int __co_slab_check_slab(struct co_slab_set *s, unsigned int c,
				struct co_slab *slab, enum co_slab_state state,
				struct co_slab_tally *t)
{
	struct co_slab_class *cls = &s->cls[c];
	unsigned long *fm = co_slab_free_map(slab);
	unsigned long *lm = co_slab_live_map(s, slab);
	struct co_slab __rcu **slot;
	unsigned int w, tail, idx;

	lockdep_assert_held(&cls->lock);
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
		t->req_bits += req;
		t->live_bits++;
	}
	t->free_objs += slab->nr_free;
	return 0;
}

/* Walk the three lists of class @c; adds the number of slabs to @nr_slabs. */
static int __co_slab_check_lists(struct co_slab_set *s, unsigned int c,
				 struct co_slab_tally *t,
				 unsigned long *nr_slabs)
{
	struct co_slab_class *cls = &s->cls[c];
	static const enum co_slab_state states[] = {
		CO_SLAB_FULL, CO_SLAB_PARTIAL, CO_SLAB_EMPTY,
	};
	struct list_head *lists[] = { &cls->full, &cls->partial, &cls->empty };
	unsigned long counts[] = { cls->nr_full, cls->nr_partial,
				   cls->nr_empty };
	struct co_slab *slab;
	unsigned int l;
	int ret;

	lockdep_assert_held(&cls->lock);
	for (l = 0; l < ARRAY_SIZE(lists); l++) {
		unsigned long n = 0;

		list_for_each_entry(slab, lists[l], node) {
			ret = __co_slab_check_slab(s, c, slab, states[l], t);
			if (ret)
				return ret;
			n++;
		}
		if (n != counts[l])
			return co_slab_bad(s, c, "list %u has %lu slabs, counter %lu",
					   l, n, counts[l]);
		*nr_slabs += n;
	}
	if (t->free_objs != cls->nr_free_objs)
		return co_slab_bad(s, c, "%lu FREE objects, counter %lu",
				   t->free_objs, cls->nr_free_objs);
	return 0;
}

/*
 * Copy every CPU's class-@c magazine into @mags and sum the counters; then
 * each magazine object must be in a slab, neither FREE nor LIVE, and in
 * one magazine only.
 */
static int __co_slab_check_mags(struct co_slab_set *s, unsigned int c,
				u64 *mags, struct co_slab_tally *t)
{
	struct co_slab *slab;
	unsigned int idx;
	unsigned long i;
	int cpu;

	lockdep_assert_held(&s->cls[c].lock);
	for_each_possible_cpu(cpu) {
		struct co_slab_pcpu *pc = per_cpu_ptr(s->pcpu, cpu);
		struct co_slab_mag *m = &pc->mag[c];
		u64 *obj = co_slab_mag_obj(s, pc, c);

		spin_lock(&pc->lock);
		t->live += m->live;
		t->req += m->requested;
		for (i = 0; i < m->nr && i < s->cls[c].mag_cap; i++)
			mags[t->nr_mag++] = obj[i];
		i = m->nr;
		spin_unlock(&pc->lock);
		if (i > s->cls[c].mag_cap)
			return co_slab_bad(s, c, "cpu %d magazine holds %lu",
					   cpu, i);
	}
	for (i = 0; i < t->nr_mag; i++) {
		slab = co_slab_find(s, c, mags[i], &idx);
		if (!slab)
			return co_slab_bad(s, c, "magazine object %#llx has no slab",
					   mags[i]);
		if (test_bit(idx, co_slab_free_map(slab)) ||
		    test_bit(idx, co_slab_live_map(s, slab)))
			return co_slab_bad(s, c, "magazine object %#llx is FREE or LIVE",
					   mags[i]);
	}
	sort(mags, t->nr_mag, sizeof(*mags), co_slab_cmp_u64, NULL);
	for (i = 1; i < t->nr_mag; i++)
		if (mags[i] == mags[i - 1])
			return co_slab_bad(s, c, "object %#llx in two magazines",
					   mags[i]);
	return 0;
}

/* Check class @c; @mags has room for every CPU's magazine. */
static int __co_slab_check_class(struct co_slab_set *s, unsigned int c,
				 u64 *mags, unsigned long *nr_slabs)
{
	struct co_slab_class *cls = &s->cls[c];
	struct co_slab_tally t = { 0 };
	int ret;

	lockdep_assert_held(&cls->lock);
	ret = __co_slab_check_lists(s, c, &t, nr_slabs);
	if (!ret)
		ret = __co_slab_check_mags(s, c, mags, &t);
	if (ret)
		return ret;
	if (__co_slab_used(cls) != t.live_bits + t.nr_mag)
		return co_slab_bad(s, c, "%lu objects out of slabs, %lu LIVE + %lu in magazines",
				   __co_slab_used(cls), t.live_bits, t.nr_mag);
	if (t.live < 0 || (unsigned long)t.live != t.live_bits)
		return co_slab_bad(s, c, "live counters say %ld, %lu LIVE bits",
				   t.live, t.live_bits);
	if (t.req < 0 || (u64)t.req != t.req_bits)
		return co_slab_bad(s, c, "requested counters say %ld, objects %llu",
				   t.req, t.req_bits);
	return 0;
}

/* Slabs in the directory. */
static void __co_slab_count_dir(struct co_slab_set *s, unsigned long *n)
{
	unsigned long i, j;

	lockdep_assert_held(&s->dir_lock);
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
	mags = kmalloc_array(nr_cpu_ids * CO_SLAB_MAG_MAX, sizeof(*mags),
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
