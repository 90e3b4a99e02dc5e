// SPDX-License-Identifier: GPL-2.0
/*
 * co_slab_stats.c - per-class statistics of a slab set
 *
 * A snapshot of one class is consistent: it is taken under the class lock,
 * with each CPU's lock taken in turn to read its magazine and counters.
 * The fast paths change the per-CPU counters without the class lock, so a
 * snapshot of a set in use is exact only for what the class lock protects
 * (slabs and their lists); objs_in_use, objs_cached and requested_bytes
 * may be off by the operations that raced with it.  Classes are
 * snapshotted one after the other, never all at once.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "co_slab_priv.h"

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
	st->mag_size = cls->mag_cap;
	st->mag_batch = cls->mag_batch;
	/* Racing fast paths on CPUs read earlier can make a sum negative. */
	live = max(live, 0L);
	req = max(req, 0L);
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
