// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: CARVEOUT_IOC_RESIZE, a node's floor, ceiling and watermarks
 * changed at run time (see co_elastic.c for what they mean).
 *
 * The floor is made of whole pieces.  Raising it first turns elastic
 * pieces into floor pieces, then takes new ones from the page allocator
 * (failing with -ENOMEM, the floor left at what could be had, when there
 * is no contiguous memory); lowering it turns floor pieces into elastic
 * ones, from the last slot down, which then go back once idle.  Slot 0
 * (it holds every sub-page slab) and reserve_mem= pieces stay floor.
 *
 * Locks: co_node.grow_lock, then the arenas' (carveout.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/mutex.h>

#include <linux/carveout.h>

#include "carveout.h"

/* Raise the floor to at least @floor bytes; grow_lock held. */
static int co_floor_raise(struct co_node *cn, u64 floor)
{
	struct co_piece *p;
	u64 want, piece;
	int ret;

	co_for_each_piece(cn, p) {
		if (cn->floor >= floor)
			return 0;
		if (!p->elastic)
			continue;
		WRITE_ONCE(p->elastic, false);
		atomic_dec(&cn->nr_elastic);
		WRITE_ONCE(cn->floor, cn->floor + ((u64)p->nr_pages << PAGE_SHIFT));
	}
	while (cn->floor < floor) {
		want = floor - cn->floor;
		piece = min(want, cn->piece_bytes);
		ret = co_grow_floor(cn, piece);
		if (ret) {
			pr_err("node %d: cannot raise the floor to %llu MiB: no free contiguous %llu MiB (floor stays %llu MiB)\n",
			       cn->nid, floor >> 20, piece >> 20,
			       cn->floor >> 20);
			return ret == -EINTR ? ret : -ENOMEM;
		}
	}
	return 0;
}

/* Lower the floor toward @floor bytes by whole pieces; grow_lock held. */
static void co_floor_lower(struct co_node *cn, u64 floor)
{
	struct co_piece *p;
	unsigned int i;
	u64 bytes;

	for (i = cn->nr_pieces; i-- > 1;) {
		p = &cn->pieces[i];
		if (!co_piece_live(p) || p->elastic || p->reserved_mem)
			continue;
		bytes = (u64)p->nr_pages << PAGE_SHIFT;
		if (cn->floor < floor + bytes)
			continue;
		WRITE_ONCE(p->elastic, true);
		WRITE_ONCE(p->free_since, 0);
		atomic_inc(&cn->nr_elastic);
		WRITE_ONCE(cn->floor, cn->floor - bytes);
	}
}

static int co_resize_check(struct co_node *cn, const struct co_resize *r)
{
	u64 floor = r->set & CARVEOUT_RESIZE_FLOOR ? r->floor : cn->floor;
	u64 top = r->set & CARVEOUT_RESIZE_CEILING ? r->ceiling : cn->ceiling;

	if (top < floor)
		return -EINVAL;
	if ((r->set & CARVEOUT_RESIZE_WMARKS) && r->low_wmark &&
	    r->high_wmark && r->low_wmark > r->high_wmark)
		return -EINVAL;
	if ((r->set & CARVEOUT_RESIZE_PIECE) && !r->piece_bytes)
		return -EINVAL;
	return 0;
}

static void co_resize_limits(struct co_node *cn, const struct co_resize *r)
{
	u64 block = (u64)pageblock_nr_pages << PAGE_SHIFT;

	if (r->set & CARVEOUT_RESIZE_CEILING)
		WRITE_ONCE(cn->ceiling, r->ceiling);
	if (r->set & CARVEOUT_RESIZE_WMARKS) {
		WRITE_ONCE(cn->low_wmark, r->low_wmark);
		WRITE_ONCE(cn->high_wmark, r->high_wmark);
	}
	if (r->set & CARVEOUT_RESIZE_PIECE)
		WRITE_ONCE(cn->piece_bytes, ALIGN(r->piece_bytes, block));
	if (r->set & CARVEOUT_RESIZE_DELAY)
		WRITE_ONCE(cn->shrink_delay_ms, r->shrink_delay_ms);
}

/**
 * co_elastic_resize() - change a node's limits
 * @cn: the node
 * @r: the new values and which of them apply
 *
 * Context: process context, sleeps.
 * Return: 0; -EINVAL for a ceiling below the floor or crossed watermarks;
 * -ENOMEM when the floor could not be raised (logged); -EINTR.
 */
int co_elastic_resize(struct co_node *cn, const struct co_resize *r)
{
	unsigned long next = ULONG_MAX;
	int ret;

	if (mutex_lock_killable(&cn->grow_lock))
		return -EINTR;
	ret = co_resize_check(cn, r);
	if (ret)
		goto out;
	co_resize_limits(cn, r);
	if (r->set & CARVEOUT_RESIZE_FLOOR) {
		if (r->floor > cn->floor)
			ret = co_floor_raise(cn, r->floor);
		else
			co_floor_lower(cn, r->floor);
	}
	if (r->set & CARVEOUT_RESIZE_SHRINK)
		co_elastic_shrink(cn, false, ULONG_MAX, NULL);
	else
		co_elastic_shrink(cn, true, ULONG_MAX, &next);
	/* A run still queued with the old delay: run now, it re-arms. */
	if (r->set & CARVEOUT_RESIZE_DELAY)
		next = 0;
out:
	mutex_unlock(&cn->grow_lock);
	co_elastic_kick(cn, next);
	return ret;
}
