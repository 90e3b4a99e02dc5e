// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: placement, which node and which memory a request gets.
 *
 * The nodes are tried in the policy's order: the wanted node first (the
 * caller's, the named one, or the device's), then, unless the policy is
 * strict, the others by node distance.  On a node, a sub-page request is
 * one object of the owner's private slab caches (so a page never holds two
 * owners' data) and anything else whole pages from the first piece that
 * has a fitting block.  A write-combined or uncached request takes a
 * block of its node's pool of that type first (co_memtype.c), and when a
 * node cannot serve a request of any type while its pools hold memory,
 * the pools are drained back to the arena and the node is tried again.
 * numastat counts as the page allocator's does.
 *
 * When no node in the policy's order can serve a request, the nodes whose
 * regions may grow (co_elastic.c) are asked, in the same order, for one
 * more piece large enough for it, and the request is tried there again.
 * Pieces are walked under rcu_read_lock(): a piece being given back is
 * skipped, and a block taken from one that started retiring during the
 * walk is freed again (see the top of co_elastic.c).
 *
 * A sub-page buffer's mapping (and its IOMMU mapping) covers its whole
 * page, so a page must hold only zeros and its owner's objects: a page is
 * zeroed when it starts serving an owner's slab.  The slab core does not
 * say which page is new to a slab, so co_slab_pages records, per page, the
 * owner (co_file.id, never reused) whose slab it last served; the first
 * object on a page whose record is another owner's (or none) zeroes the
 * page, under the owner's lock so that no other object of the owner on it
 * is handed out before.  Whole-page buffers erase their pages' records:
 * their next owner wrote there.
 *
 * Locks: see carveout.h; only the owner's, the core's, co_slab_pages' and
 * (through co_memtype.c) the node's pool lock are taken here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/slab.h>
#include <linux/topology.h>

#include <linux/carveout.h>

#include "carveout.h"

/* pfn -> xa_mk_value(co_file.id) of the owner whose slab the page serves. */
static DEFINE_XARRAY(co_slab_pages);

/*
 * The nodes to try for each wanted node, computed once at load as the page
 * allocator's zonelists are: row w (w < nr_node_ids) is co_pick_nodes()'s
 * order for a request that wants node w; row nr_node_ids serves a wanted
 * node beyond the possible ones.  Each row has co_nr_nodes entries.
 */
static int *co_fallback;

/* The node a request wants (its policy's), or -EINVAL. */
static int co_want_node(const struct co_alloc_req *req)
{
	int want;

	switch (req->policy) {
	case CARVEOUT_POLICY_LOCAL:
		return numa_node_id();
	case CARVEOUT_POLICY_STRICT:
	case CARVEOUT_POLICY_PREFERRED:
		if (req->nid < 0 || req->nid >= MAX_NUMNODES)
			return -EINVAL;
		return req->nid;
	case CARVEOUT_POLICY_DEVICE:
		if (!req->dev)
			return -EINVAL;
		want = dev_to_node(req->dev);
		return want == NUMA_NO_NODE ? numa_node_id() : want;
	default:
		return -EINVAL;
	}
}

/**
 * co_pick_nodes() - the nodes to try for a request, best first
 * @req: the request
 * @order: filled with node ids
 * @max: room in @order
 *
 * The wanted node (the policy's) comes first, then, unless the policy is
 * strict, every other node with a region by increasing distance.
 *
 * Context: any.
 * Return: number of nodes in @order; -EINVAL for a bad node or policy,
 * -ENODEV when a strict request names a node without a region.
 */
int co_pick_nodes(const struct co_alloc_req *req, int *order, int max)
{
	int want = co_want_node(req), n = 0, i, j;
	struct co_node *cn;

	if (want < 0)
		return want;
	if (req->policy == CARVEOUT_POLICY_STRICT) {
		if (!co_node_find(want))
			return -ENODEV;
		order[0] = want;
		return 1;
	}
	if (co_node_find(want) && n < max)
		order[n++] = want;
	co_for_each_node(cn) {
		if (n >= max)
			break;
		if (cn->nid == want)
			continue;
		/* Insertion by distance from the wanted node. */
		for (i = n; i > 0 && order[i - 1] != want &&
		     node_distance(want, order[i - 1]) >
			     node_distance(want, cn->nid); i--)
			;
		for (j = n; j > i; j--)
			order[j] = order[j - 1];
		order[i] = cn->nid;
		n++;
	}
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(co_pick_nodes);

/**
 * co_place_init() - compute the order of nodes for every wanted node
 *
 * Context: module load, after co_regions_init().
 * Return: 0 or -ENOMEM.
 */
int co_place_init(void)
{
	struct co_alloc_req req = { .policy = CARVEOUT_POLICY_PREFERRED };
	unsigned int rows = nr_node_ids + 1, cols = max(co_nr_nodes, 1U);
	unsigned int r;

	co_fallback = kcalloc(rows * cols, sizeof(*co_fallback), GFP_KERNEL);
	if (!co_fallback)
		return -ENOMEM;
	for (r = 0; r < rows; r++) {
		req.nid = r;
		WARN_ON_ONCE(co_pick_nodes(&req, co_fallback + r * cols,
					   cols) != co_nr_nodes);
	}
	return 0;
}

/*
 * The nodes to try for @req, from the table (no allocation, no sorting):
 * points *@order at them, or at *@one for a strict request.
 */
static int co_place_order(const struct co_alloc_req *req, const int **order,
			  int *one)
{
	int want = co_want_node(req);

	if (want < 0)
		return want;
	if (req->policy == CARVEOUT_POLICY_STRICT) {
		if (!co_node_find(want))
			return -ENODEV;
		*one = want;
		*order = one;
		return 1;
	}
	*order = co_fallback + min_t(unsigned int, want, nr_node_ids) *
			       co_nr_nodes;
	return co_nr_nodes;
}

/**
 * co_use_slab() - is a request served from the owner's slab caches?
 * @req: the request
 *
 * Sub-page, cached requests without a large alignment are; everything
 * else gets whole pages.
 *
 * Context: any.
 * Return: true for a slab object.
 */
bool co_use_slab(const struct co_alloc_req *req)
{
	return req->size <= co_slab_max_size() &&
	       !(req->flags & (CARVEOUT_ALLOC_PAGES | CARVEOUT_ALLOC_CACHE_MASK)) &&
	       (!req->align || req->align <= CO_SLAB_ALIGN);
}

/* @buf got @nr pages at @pfn of @p; the reserve may say no. */
static int co_node_took(struct co_file *f, struct co_node *cn,
			struct co_buffer *buf, struct co_piece *p,
			unsigned long pfn, unsigned long nr)
{
	/* The node's reserve is not for everyone (co_owner.c). */
	if (!co_reserve_ok(f, cn, 0)) {
		WARN_ON_ONCE(co_buddy_free(&p->buddy, pfn, nr));
		co_zero_kick(cn, (u64)nr << PAGE_SHIFT);
		co_elastic_freed(p);
		return -ENOMEM;
	}
	buf->piece = p;
	buf->phys = PFN_PHYS(pfn);
	buf->granted = (u64)nr << PAGE_SHIFT;
	return 0;
}

/* Take the memory for @buf on @cn; fills phys, granted, piece or slab. */
static int co_node_take(struct co_file *f, struct co_node *cn,
			struct co_buffer *buf, const struct co_alloc_req *req,
			unsigned long limit_pfn)
{
	unsigned long pfn, nr, align;
	bool got;
	struct co_slab_set *s;
	struct co_piece *p;
	u64 addr;

	/* A pooled block of the request's memory type, already converted. */
	if (!co_memtype_take(cn, buf, req, limit_pfn))
		return 0;
	if (co_use_slab(req)) {
		s = co_file_slab(f, cn);
		if (s && (!limit_pfn || cn->pieces[0].start_pfn +
			  cn->pieces[0].nr_pages <= limit_pfn) &&
		    !co_slab_alloc(s, req->size, &addr)) {
			buf->slab = s;
			buf->phys = addr;
			buf->granted = co_slab_class_size(req->size);
			return 0;
		}
		/* Fall back to whole pages. */
	}
	nr = DIV_ROUND_UP(req->size, PAGE_SIZE);
	align = req->align > PAGE_SIZE ? req->align >> PAGE_SHIFT : 0;
	rcu_read_lock();
	co_for_each_piece(cn, p) {
		/*
		 * The allocation may sleep (a zeroing step it waits for), so it
		 * runs outside the read-side section, holding the piece's users
		 * count instead: a piece with users is not given back
		 * (co_elastic.c).
		 */
		atomic_inc(&p->users);
		rcu_read_unlock();
		got = !co_buddy_alloc_clean(&p->buddy, nr, align, limit_pfn,
					    &pfn, &buf->clean);
		/* Started retiring meanwhile: give the block back. */
		if (got && READ_ONCE(p->state) != CO_PIECE_LIVE) {
			WARN_ON_ONCE(co_buddy_free(&p->buddy, pfn, nr));
			co_zero_kick(cn, (u64)nr << PAGE_SHIFT);
			got = false;
		}
		/* Orders the arena's state before the count (co_elastic.c). */
		smp_mb__before_atomic();
		atomic_dec(&p->users);
		if (got)
			return co_node_took(f, cn, buf, p, pfn, nr);
		rcu_read_lock();
	}
	rcu_read_unlock();
	return -ENOMEM;
}

/* Zero each page @buf spans that did not serve @f's slab until now. */
static int co_slab_pages_claim(struct co_file *f, struct co_buffer *buf)
{
	unsigned long pfn = PHYS_PFN(buf->phys);
	unsigned long last = PHYS_PFN(buf->phys + buf->granted - 1);
	void *mine = xa_mk_value(f->id);
	int ret = 0;

	for (; pfn <= last && !ret; pfn++) {
		if (xa_load(&co_slab_pages, pfn) == mine)
			continue;
		mutex_lock(&f->lock);
		if (xa_load(&co_slab_pages, pfn) != mine) {
			clear_page(pfn_to_kaddr(pfn));
			/* Publishes the zeroing to the lockless check above. */
			ret = xa_err(xa_store(&co_slab_pages, pfn, mine,
					      GFP_KERNEL));
		}
		mutex_unlock(&f->lock);
	}
	return ret;
}

/* Whole pages serve no slab any more. */
static void co_slab_pages_forget(struct co_buffer *buf)
{
	unsigned long first = PHYS_PFN(buf->phys), idx;
	void *entry;

	xa_for_each_range(&co_slab_pages, idx, entry, first,
			  first + (buf->granted >> PAGE_SHIFT) - 1)
		xa_erase(&co_slab_pages, idx);
}

/**
 * co_place_exit() - forget the slab page records and the node orders
 *
 * Context: module load failure or unload, no buffer left.
 */
void co_place_exit(void)
{
	xa_destroy(&co_slab_pages);
	kfree(co_fallback);
	co_fallback = NULL;
}

/**
 * co_place_release() - give a buffer's memory back to its arena or slab
 * @buf: the buffer, placed by co_place()
 *
 * Context: any.
 */
void co_place_release(struct co_buffer *buf)
{
	if (buf->slab) {
		WARN_ON_ONCE(co_slab_free(buf->slab, buf->phys, buf->size));
	} else {
		WARN_ON_ONCE(co_buddy_free(&buf->piece->buddy,
					   PHYS_PFN(buf->phys),
					   buf->granted >> PAGE_SHIFT));
		co_elastic_freed(buf->piece);
	}
}

/* Grow a node of @order by a piece for @req and take @buf from it. */
static int co_place_grow(struct co_file *f, struct co_buffer *buf,
			 const struct co_alloc_req *req,
			 unsigned long limit_pfn, const int *order, int n)
{
	u64 need = max(PAGE_ALIGN(req->size), req->align);
	struct co_node *cn;
	int i;

	for (i = 0; i < n; i++) {
		cn = co_node_find(order[i]);
		if (co_elastic_grow(cn, need, GFP_KERNEL))
			continue;
		if (!co_node_take(f, cn, buf, req, limit_pfn))
			return i;
	}
	return -ENOMEM;
}

/**
 * co_place() - take memory for a buffer
 * @f: the owner (its slab caches serve sub-page requests)
 * @buf: the buffer; fills node, phys, granted and piece or slab
 * @req: the request
 * @limit_pfn: first page the memory must stay below (0: no limit)
 *
 * Tries the nodes in the policy's order (co_pick_nodes(), computed at load
 * by co_place_init()) and counts what
 * numastat counts.  A node that cannot serve the request gives its pooled
 * write-combined and uncached memory back to its arena and is tried once
 * more (co_memtype_drain()).
 *
 * A sub-page buffer's pages hold only zeros and @f's objects when this
 * returns (see the top of this file).
 *
 * Context: process context.
 * Return: 0, -EINVAL or -ENODEV (see co_pick_nodes()), -ENOMEM.
 */
int co_place(struct co_file *f, struct co_buffer *buf,
	     const struct co_alloc_req *req, unsigned long limit_pfn)
{
	struct co_node *cn;
	const int *order;
	int n, i, ret, one;

	n = co_place_order(req, &order, &one);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		cn = co_node_find(order[i]);
		if (!co_node_take(f, cn, buf, req, limit_pfn))
			break;
		/* Memory kept converted in the pools goes back, then again. */
		if (co_memtype_drain(cn) &&
		    !co_node_take(f, cn, buf, req, limit_pfn))
			break;
		atomic64_inc(&cn->fail_count);
	}
	if (i == n) {
		i = co_place_grow(f, buf, req, limit_pfn, order, n);
		if (i < 0)
			return i;
		cn = co_node_find(order[i]);
	}
	if (buf->slab) {
		ret = co_slab_pages_claim(f, buf);
		if (ret) {
			co_place_release(buf);
			return ret;
		}
	} else {
		co_slab_pages_forget(buf);
	}

	/* numastat: the first node in @order is the one the policy wanted. */
	buf->node = cn;
	if (i == 0) {
		atomic64_inc(&cn->numa_hit);
	} else {
		atomic64_inc(&cn->numa_miss);
		atomic64_inc(&co_node_find(order[0])->numa_foreign);
	}
	atomic64_inc(cn->nid == numa_node_id() ? &cn->local_node :
						  &cn->other_node);
	co_elastic_allocated(cn);
	return 0;
}
