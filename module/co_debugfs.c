// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: debugfs, /sys/kernel/debug/carveout/.
 *
 *   summary            regions, totals, limits
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
 * create files are ignored.
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

static const char *const co_mode_names[] = { "cached", "wc", "uncached", "?" };

static void co_summary_node(struct seq_file *m, struct co_node *cn,
			    const struct co_node_stats *st)
{
	seq_printf(m, "%4d  %6u  %10llu  %10llu  %10llu  %7lld  %12lld  %10lld\n",
		   cn->nid, cn->nr_pieces, st->region_bytes >> 10,
		   st->free_bytes >> 10, st->largest_free >> 10,
		   atomic64_read(&cn->nr_buffers),
		   atomic64_read(&cn->requested) >> 10,
		   atomic64_read(&cn->granted) >> 10);
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
	seq_puts(m, "node  pieces   region_kB     free_kB  largest_kB  buffers  requested_kB  granted_kB\n");
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
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(co_summary);

static int co_buffers_show(struct seq_file *m, void *v)
{
	struct co_buffer *buf;
	struct co_dma_map *map;

	seq_puts(m, "handle  node  phys                size        granted     mode      pid    comm              mmaps  owner  caller / mappings\n");
	mutex_lock(&co_buffers_lock);
	list_for_each_entry(buf, &co_buffers, link) {
		seq_printf(m, "%6u  %4d  %#018llx  %10llu  %10llu  %-8s  %5d  %-16s  %5u  %5d",
			   buf->handle, buf->node->nid, (u64)buf->phys,
			   buf->size, buf->granted,
			   co_mode_names[buf->flags & CARVEOUT_ALLOC_CACHE_MASK],
			   buf->pid, buf->comm, buf->nr_mmaps, buf->owner->pid);
		if (buf->caller_sym)
			seq_printf(m, "  %s", buf->caller_sym);
		if (buf->slab)
			seq_puts(m, "  slab");
		mutex_lock(&buf->lock);
		list_for_each_entry(map, &buf->maps, link)
			seq_printf(m, "  %s:%s@%pad", dev_driver_string(map->dev),
				   dev_name(map->dev), &map->addr);
		if (!list_empty(&buf->attachments))
			seq_puts(m, "  dma-buf");
		mutex_unlock(&buf->lock);
		seq_putc(m, '\n');
	}
	mutex_unlock(&co_buffers_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(co_buffers);

/* Live in-kernel buffers grouped by call site. */
static int co_callers_show(struct seq_file *m, void *v)
{
	struct co_buffer *buf, *b2;
	u64 bytes;
	int n;

	seq_puts(m, "# buffers      bytes  call site\n");
	mutex_lock(&co_buffers_lock);
	list_for_each_entry(buf, &co_buffers, link) {
		if (!buf->caller_sym)
			continue;
		/* Print each call site at its first buffer only. */
		n = 0;
		list_for_each_entry(b2, &co_buffers, link) {
			if (b2 == buf)
				break;
			if (b2->caller == buf->caller)
				n++;
		}
		if (n)
			continue;
		bytes = 0;
		b2 = buf;
		list_for_each_entry_from(b2, &co_buffers, link) {
			if (b2->caller == buf->caller) {
				n++;
				bytes += b2->granted;
			}
		}
		seq_printf(m, "%9d %10llu  %s\n", n, bytes, buf->caller_sym);
	}
	mutex_unlock(&co_buffers_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(co_callers);

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

static int co_freemap_one(unsigned long pfn, unsigned int order, void *priv)
{
	seq_printf(priv, "%#lx %u\n", pfn, order);
	return 0;
}

/* Every free block: first pfn and order, in address order per piece. */
static int co_freemap_show(struct seq_file *m, void *v)
{
	struct co_node *cn = m->private;
	struct co_piece *p;

	co_for_each_piece(cn, p)
		co_piece_walk_free(p, p->start_pfn, co_freemap_one, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(co_freemap);

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

static int co_slabinfo_show(struct seq_file *m, void *v)
{
	struct co_node *cn = m->private;
	struct co_slab_class_stats st;
	struct co_file *f;
	unsigned int c;

	seq_puts(m, "# owner_pid comm             objsize active cached  total slab_pages per_slab full partial empty\n");
	mutex_lock(&co_files_lock);
	list_for_each_entry(f, &co_files, link) {
		if (!f->slab[cn->nid])
			continue;
		for (c = 0; c < co_slab_nr_classes(); c++) {
			co_slab_get_stats(f->slab[cn->nid], c, &st);
			if (!st.objs_total)
				continue;
			seq_printf(m, "%11d %-16s %7zu %6lu %6lu %6lu %10u %8u %4lu %7lu %5lu\n",
				   f->pid, f->comm, st.obj_size, st.objs_in_use,
				   st.objs_cached, st.objs_total, st.slab_pages,
				   st.objs_per_slab, st.slabs_full,
				   st.slabs_partial, st.slabs_empty);
		}
	}
	mutex_unlock(&co_files_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(co_slabinfo);

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
