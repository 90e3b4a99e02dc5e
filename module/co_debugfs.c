// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: debugfs, /sys/kernel/debug/carveout/.
 *
 *   summary            regions, totals, limits, pools of converted
 *                      (write-combined, uncached) memory
 *   buffers            every live buffer: node, size, owner, mode, mappings
 *   callers            live in-kernel buffers by allocation call site
 *   fail/              fault injection attribute (CONFIG_FAULT_INJECTION)
 *   node<N>/buddyinfo  free blocks per order and piece (as /proc/buddyinfo)
 *   node<N>/slabinfo   per owner and size class: objects and slabs
 *   node<N>/fragmentation  unusable-free index per order (as
 *                      extfrag/unusable_index), largest free block,
 *                      requested vs granted bytes
 *   node<N>/numastat   hit, miss, foreign, local, other (as numastat)
 *   node<N>/freemap    every free block: "first_pfn order"
 *
 * All files are read-only for root.  debugfs is best effort: failures to
 * create files are ignored.  The listings that walk many objects (buffers,
 * callers, slabinfo, freemap) are in co_debugfs_walk.c; the files here
 * print counters or one snapshot per piece.
 *
 * Locks: see carveout.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include <linux/carveout.h>

#include "carveout.h"

static struct dentry *co_debugfs_root;

static void co_summary_node(struct seq_file *m, struct co_node *cn,
			    const struct co_node_stats *st)
{
	seq_printf(m, "%4d  %6u  %10llu  %10llu  %10llu  %7lld  %12lld  %10lld  %10llu  %10llu\n",
		   cn->nid, co_node_live_pieces(cn), st->region_bytes >> 10,
		   st->free_bytes >> 10, st->largest_free >> 10,
		   atomic64_read(&cn->nr_buffers),
		   atomic64_read(&cn->requested) >> 10,
		   atomic64_read(&cn->granted) >> 10,
		   co_memtype_pool_bytes(cn, CO_MEMTYPE_WC) >> 10,
		   co_memtype_pool_bytes(cn, CO_MEMTYPE_UC) >> 10);
}

static int co_summary_show(struct seq_file *m, void *v)
{
	struct co_node_stats *st;
	u64 total = 0, free = 0;
	struct co_node *cn;

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	seq_printf(m, "page_size:   %lu\n", PAGE_SIZE);
	seq_printf(m, "slab_max:    %zu\n", co_slab_max_size());
	seq_printf(m, "file_limit:  %lu\n", co_file_limit);
	seq_printf(m, "user_limit:  %lu\n", co_user_limit);
	seq_printf(m, "nodes:       %u\n", co_nr_nodes);
	seq_puts(m, "node  pieces   region_kB     free_kB  largest_kB  buffers  requested_kB  granted_kB  wc_pool_kB  uc_pool_kB\n");
	co_for_each_node(cn) {
		if (co_node_get_stats(cn, st))
			break;
		total += st->region_bytes;
		free += st->free_bytes;
		co_summary_node(m, cn, st);
	}
	kfree(st);
	seq_printf(m, "total_kB:    %llu\nfree_kB:     %llu\n", total >> 10,
		   free >> 10);
	/* Freed buffers whose pages are still referenced from outside. */
	seq_printf(m, "held_kB:     %lld\n", atomic64_read(&co_held_bytes) >> 10);
	/* set_memory_*() calls: each one flushes every CPU's TLB. */
	seq_printf(m, "memtype_conversions: %llu\n", co_memtype_conversions());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(co_summary);

static void co_buddyinfo_piece(struct co_piece *p, unsigned int i,
			       const struct co_buddy_stats *st, void *priv)
{
	struct seq_file *m = priv;
	unsigned int o;

	seq_printf(m, "Node %d, piece %u, pfn %#lx+%lu ", p->node->nid, i,
		   st->start_pfn, st->nr_pages);
	for (o = 0; o <= st->max_order; o++)
		seq_printf(m, " %6lu", st->nr_free[o]);
	seq_putc(m, '\n');
}

static int co_buddyinfo_show(struct seq_file *m, void *v)
{
	return co_node_walk_pieces(m->private, co_buddyinfo_piece, m);
}

DEFINE_SHOW_ATTRIBUTE(co_buddyinfo);

static void co_fragmentation_piece(struct co_piece *p, unsigned int i,
				   const struct co_buddy_stats *st, void *priv)
{
	struct seq_file *m = priv;
	unsigned int o;

	seq_printf(m, "piece %u: pfn %#lx+%lu free_pages %lu largest_free_pages %lu allocs %lu requested %llu granted %llu alloc_ok %llu free_ok %llu fail %llu invalid %llu metadata %zu\n",
		   i, st->start_pfn, st->nr_pages, st->free_pages,
		   st->largest_free_pages, st->nr_allocs, st->requested_bytes,
		   st->granted_bytes, st->nr_alloc_ok, st->nr_free_ok,
		   st->nr_fail, st->nr_invalid, st->metadata_bytes);
	seq_printf(m, "piece %u unusable_index:", i);
	for (o = 0; o <= st->max_order; o++)
		seq_printf(m, " %u.%03u", st->unusable_index[o] / 1000,
			   st->unusable_index[o] % 1000);
	seq_putc(m, '\n');
}

static int co_fragmentation_show(struct seq_file *m, void *v)
{
	struct co_node *cn = m->private;
	int ret;

	ret = co_node_walk_pieces(cn, co_fragmentation_piece, m);
	if (!ret)
		seq_printf(m, "node requested %lld granted %lld\n",
			   atomic64_read(&cn->requested),
			   atomic64_read(&cn->granted));
	return ret;
}

DEFINE_SHOW_ATTRIBUTE(co_fragmentation);

static int co_numastat_show(struct seq_file *m, void *v)
{
	struct co_node *cn = m->private;

	seq_printf(m, "numa_hit %lld\nnuma_miss %lld\nnuma_foreign %lld\nlocal_node %lld\nother_node %lld\n",
		   atomic64_read(&cn->numa_hit), atomic64_read(&cn->numa_miss),
		   atomic64_read(&cn->numa_foreign),
		   atomic64_read(&cn->local_node),
		   atomic64_read(&cn->other_node));
	seq_printf(m, "alloc %lld\nfree %lld\nfail %lld\n",
		   atomic64_read(&cn->alloc_count),
		   atomic64_read(&cn->free_count),
		   atomic64_read(&cn->fail_count));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(co_numastat);

/* Floor, size, ceiling, watermarks and the growth history of a node. */
static int co_elastic_show(struct seq_file *m, void *v)
{
	struct co_node *cn = m->private;

	seq_printf(m, "floor_kB %llu\nregion_kB %llu\nceiling_kB %llu\n",
		   READ_ONCE(cn->floor) >> 10, READ_ONCE(cn->bytes) >> 10,
		   READ_ONCE(cn->ceiling) >> 10);
	seq_printf(m, "low_wmark_kB %llu\nhigh_wmark_kB %llu\npiece_kB %llu\nshrink_delay_ms %u\n",
		   READ_ONCE(cn->low_wmark) >> 10,
		   READ_ONCE(cn->high_wmark) >> 10,
		   READ_ONCE(cn->piece_bytes) >> 10,
		   READ_ONCE(cn->shrink_delay_ms));
	seq_printf(m, "elastic_pieces %d\ngrow_count %lld\ngrow_kB %lld\nshrink_count %lld\nshrink_kB %lld\ngrow_fail %lld\n",
		   atomic_read(&cn->nr_elastic),
		   atomic64_read(&cn->grow_count),
		   atomic64_read(&cn->grow_bytes) >> 10,
		   atomic64_read(&cn->shrink_count),
		   atomic64_read(&cn->shrink_bytes) >> 10,
		   atomic64_read(&cn->grow_fail_count));
	seq_printf(m, "last_fail %s\nlast_fail_kB %llu\n",
		   co_grow_fail_name(READ_ONCE(cn->last_fail)),
		   READ_ONCE(cn->last_fail_bytes) >> 10);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(co_elastic);

/* Background zeroing (co_zero.c): what is clean, what it cost. */
static int co_zeroing_show(struct seq_file *m, void *v)
{
	struct co_node *cn = m->private;
	u64 done = atomic64_read(&cn->prezeroed);
	u64 ns = atomic64_read(&cn->prezero_ns);
	struct co_node_stats *st;
	int ret;

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	ret = co_node_get_stats(cn, st);
	if (!ret) {
		seq_printf(m, "clean_kB %llu\ndirty_kB %llu\n",
			   st->clean_bytes >> 10,
			   (st->free_bytes - st->clean_bytes) >> 10);
		seq_printf(m, "prezeroed_kB %llu\nprezero_us %llu\nprezero_MBps %llu\n",
			   done >> 10, div_u64(ns, NSEC_PER_USEC),
			   ns ? div64_u64(done * (NSEC_PER_SEC / SZ_1M), ns) : 0);
		seq_printf(m, "sync_zeroed_kB %lld\n",
			   atomic64_read(&cn->sync_zeroed) >> 10);
	}
	kfree(st);
	return ret;
}
DEFINE_SHOW_ATTRIBUTE(co_zeroing);

/**
 * co_debugfs_init() - create /sys/kernel/debug/carveout/
 *
 * Context: module load, after the regions exist.
 */
void co_debugfs_init(void)
{
	struct co_node *cn;
	char name[16];

	co_debugfs_root = debugfs_create_dir("carveout", NULL);
	debugfs_create_file("summary", 0400, co_debugfs_root, NULL,
			    &co_summary_fops);
	debugfs_create_file("buffers", 0400, co_debugfs_root, NULL,
			    &co_buffers_fops);
	debugfs_create_file("callers", 0400, co_debugfs_root, NULL,
			    &co_callers_fops);
	co_fault_debugfs(co_debugfs_root);
	co_for_each_node(cn) {
		snprintf(name, sizeof(name), "node%d", cn->nid);
		cn->dir = debugfs_create_dir(name, co_debugfs_root);
		debugfs_create_file("buddyinfo", 0400, cn->dir, cn,
				    &co_buddyinfo_fops);
		debugfs_create_file("slabinfo", 0400, cn->dir, cn,
				    &co_slabinfo_fops);
		debugfs_create_file("fragmentation", 0400, cn->dir, cn,
				    &co_fragmentation_fops);
		debugfs_create_file("freemap", 0400, cn->dir, cn,
				    &co_freemap_fops);
		debugfs_create_file("numastat", 0400, cn->dir, cn,
				    &co_numastat_fops);
		debugfs_create_file("zeroing", 0400, cn->dir, cn,
				    &co_zeroing_fops);
		debugfs_create_file("elastic", 0400, cn->dir, cn,
				    &co_elastic_fops);
	}
}

/**
 * co_debugfs_exit() - remove /sys/kernel/debug/carveout/
 *
 * Context: module unload.
 */
void co_debugfs_exit(void)
{
	debugfs_remove(co_debugfs_root);
}
