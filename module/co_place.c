// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: placement, which node and which memory a request gets.
 *
 * The nodes are tried in the policy's order: the wanted node first (the
 * caller's, the named one, or the device's), then, unless the policy is
 * strict, the others by node distance.  On a node, a sub-page request is
 * one object of the owner's private slab caches (so a page never holds two
 * owners' data) and anything else whole pages from the first piece that
 * has a fitting block.  numastat counts as the page allocator's does.
 *
 * Locks: see carveout.h; only the owner's and the core's are taken here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cleanup.h>
#include <linux/device.h>
#include <linux/slab.h>
#include <linux/topology.h>

#include <linux/carveout.h>

#include "carveout.h"

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
	int want, n = 0, i, j;
	struct co_node *cn;

	switch (req->policy) {
	case CARVEOUT_POLICY_LOCAL:
		want = numa_node_id();
		break;
	case CARVEOUT_POLICY_STRICT:
	case CARVEOUT_POLICY_PREFERRED:
		if (req->nid < 0 || req->nid >= MAX_NUMNODES)
			return -EINVAL;
		want = req->nid;
		break;
	case CARVEOUT_POLICY_DEVICE:
		if (!req->dev)
			return -EINVAL;
		want = dev_to_node(req->dev);
		if (want == NUMA_NO_NODE)
			want = numa_node_id();
		break;
	default:
		return -EINVAL;
	}
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

/* Take the memory for @buf on @cn; fills phys, granted, piece or slab. */
static int co_node_take(struct co_file *f, struct co_node *cn,
			struct co_buffer *buf, const struct co_alloc_req *req,
			unsigned long limit_pfn)
{
	unsigned long pfn, nr, align;
	struct co_slab_set *s;
	struct co_piece *p;
	u64 addr;

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
	co_for_each_piece(cn, p) {
		if (!co_buddy_alloc(&p->buddy, nr, align, limit_pfn, &pfn)) {
			buf->piece = p;
			buf->phys = PFN_PHYS(pfn);
			buf->granted = (u64)nr << PAGE_SHIFT;
			return 0;
		}
	}
	return -ENOMEM;
}

/**
 * co_place_release() - give a buffer's memory back to its arena or slab
 * @buf: the buffer, placed by co_place()
 *
 * Context: any.
 */
void co_place_release(struct co_buffer *buf)
{
	if (buf->slab)
		WARN_ON_ONCE(co_slab_free(buf->slab, buf->phys, buf->size));
	else
		WARN_ON_ONCE(co_buddy_free(&buf->piece->buddy,
					   PHYS_PFN(buf->phys),
					   buf->granted >> PAGE_SHIFT));
}

/**
 * co_place() - take memory for a buffer
 * @f: the owner (its slab caches serve sub-page requests)
 * @buf: the buffer; fills node, phys, granted and piece or slab
 * @req: the request
 * @limit_pfn: first page the memory must stay below (0: no limit)
 *
 * Tries the nodes in the policy's order (co_pick_nodes()) and counts what
 * numastat counts.
 *
 * Context: process context.
 * Return: 0, -EINVAL or -ENODEV (see co_pick_nodes()), -ENOMEM.
 */
int co_place(struct co_file *f, struct co_buffer *buf,
	     const struct co_alloc_req *req, unsigned long limit_pfn)
{
	int *order __free(kfree) = NULL;
	struct co_node *cn;
	int n, i;

	order = kmalloc_array(max(co_nr_nodes, 1U), sizeof(*order), GFP_KERNEL);
	if (!order)
		return -ENOMEM;
	n = co_pick_nodes(req, order, co_nr_nodes);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		cn = co_node_find(order[i]);
		if (!co_node_take(f, cn, buf, req, limit_pfn))
			break;
		atomic64_inc(&cn->fail_count);
	}
	if (i == n)
		return -ENOMEM;

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
	return 0;
}
