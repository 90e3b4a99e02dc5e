// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: the debugfs listings that walk many objects: buffers,
 * callers, node<N>/slabinfo and node<N>/freemap (see co_debugfs.c).
 *
 * They walk with a cursor (a buffer id, an owner id, a piece and page)
 * and take their lock per read() chunk or per small batch, never for the
 * whole walk: a reader holds up allocations for no longer than one page
 * of output takes, and a listing that outgrows the seq_file buffer is not
 * redone from the start.
 *
 * Locks: see carveout.h.
 */
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include <linux/carveout.h>

#include "carveout.h"

static const char *const co_mode_names[] = { "cached", "wc", "uncached", "?" };

/* The live buffer at the lowest position >= *pos, or NULL past the last. */
static struct co_buffer *co_buffer_at(loff_t *pos)
{
	u64 at = *pos;
	struct co_buffer *buf;

	buf = co_buffers_find(&at);
	*pos = at;
	return buf;
}

/* A walk (co_buffers_walk_begin()) runs from here to co_buffers_stop(). */
static void *co_buffers_start(struct seq_file *m, loff_t *pos)
{
	co_buffers_walk_begin();
	return *pos ? co_buffer_at(pos) : SEQ_START_TOKEN;
}

static void *co_buffers_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return co_buffer_at(pos);
}

static void co_buffers_stop(struct seq_file *m, void *v)
{
	co_buffers_walk_end();
}

static int co_buffers_show(struct seq_file *m, void *v)
{
	struct co_buffer *buf = v;
	struct co_dma_map *map;
	const char *sym;

	if (v == SEQ_START_TOKEN) {
		seq_puts(m, "handle  node  phys                size        granted     mode      pid    comm              mmaps  owner  caller / mappings\n");
		return 0;
	}
	seq_printf(m, "%6u  %4d  %#018llx  %10llu  %10llu  %-8s  %5d  %-16s  %5u  %5d",
		   buf->handle, buf->node->nid, (u64)buf->phys,
		   buf->size, buf->granted,
		   co_mode_names[buf->flags & CARVEOUT_ALLOC_CACHE_MASK],
		   buf->pid, buf->comm, atomic_read(&buf->nr_mmaps),
		   buf->owner->pid);
	sym = READ_ONCE(buf->caller_sym);
	if (sym)
		seq_printf(m, "  %s", sym);
	else if (buf->caller)
		seq_printf(m, "  %pS", buf->caller);
	if (buf->slab)
		seq_puts(m, "  slab");
	if (READ_ONCE(buf->held))
		seq_puts(m, "  held");
	mutex_lock(&buf->lock);
	list_for_each_entry(map, &buf->maps, link)
		seq_printf(m, "  %s:%s@%pad", dev_driver_string(map->dev),
			   dev_name(map->dev), &map->addr);
	if (!list_empty(&buf->attachments))
		seq_puts(m, "  dma-buf");
	mutex_unlock(&buf->lock);
	seq_putc(m, '\n');
	return 0;
}

static const struct seq_operations co_buffers_sops = {
	.start = co_buffers_start,
	.next = co_buffers_next,
	.stop = co_buffers_stop,
	.show = co_buffers_show,
};

static int co_buffers_open(struct inode *inode, struct file *file)
{
	return seq_open(file, &co_buffers_sops);
}

const struct file_operations co_buffers_fops = {
	.owner = THIS_MODULE,
	.open = co_buffers_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release,
};

/*
 * One call site of in-kernel buffers, while "callers" is read: its name
 * (NULL while its module is loaded: printed with %pS).
 */
struct co_site {
	const char *name;
	u64 bytes;
	unsigned int n;
};

#define CO_CALLERS_BATCH	64

struct co_site_rec {
	unsigned long caller;
	const char *name;
	u64 bytes;
};

/*
 * Gather the in-kernel buffers among the next batch of live buffers from
 * position *@pos on, in one walk; *@pos moves past them.  Returns how
 * many buffers were looked at (0 at the end), *@n how many were gathered.
 */
static unsigned int co_callers_batch(struct co_site_rec *rec,
				     unsigned int *n, u64 *pos)
{
	struct co_buffer *buf;
	unsigned int seen = 0;

	*n = 0;
	co_buffers_walk_begin();
	while (seen < CO_CALLERS_BATCH && (buf = co_buffers_find(pos))) {
		seen++;
		(*pos)++;
		if (!buf->caller)
			continue;
		rec[(*n)++] = (struct co_site_rec) {
			.caller = (unsigned long)buf->caller,
			.name = READ_ONCE(buf->caller_sym),
			.bytes = buf->granted,
		};
	}
	co_buffers_walk_end();
	return seen;
}

static int co_callers_add(struct xarray *sites, const struct co_site_rec *r)
{
	struct co_site *s = xa_load(sites, r->caller);
	int ret;

	if (!s) {
		s = kzalloc(sizeof(*s), GFP_KERNEL);
		if (!s)
			return -ENOMEM;
		s->name = r->name;
		ret = xa_err(xa_store(sites, r->caller, s, GFP_KERNEL));
		if (ret) {
			kfree(s);
			return ret;
		}
	}
	if (!s->name)
		s->name = r->name;
	s->n++;
	s->bytes += r->bytes;
	return 0;
}

/*
 * Live in-kernel buffers grouped by call site.  The buffers are gathered
 * a batch at a time, the walk ended between batches; call-site names
 * live until unload.
 */
static int co_callers_show(struct seq_file *m, void *v)
{
	struct co_site_rec *rec;
	unsigned long caller;
	unsigned int n, i;
	u64 pos = 0;
	struct co_site *s;
	struct xarray sites;
	int ret = 0;

	rec = kmalloc_array(CO_CALLERS_BATCH, sizeof(*rec), GFP_KERNEL);
	if (!rec)
		return -ENOMEM;
	xa_init(&sites);
	while (!ret && co_callers_batch(rec, &n, &pos))
		for (i = 0; i < n && !ret; i++)
			ret = co_callers_add(&sites, &rec[i]);
	seq_puts(m, "# buffers      bytes  call site\n");
	xa_for_each(&sites, caller, s) {
		if (!ret && s->name)
			seq_printf(m, "%9u %10llu  %s\n", s->n, s->bytes, s->name);
		else if (!ret)
			seq_printf(m, "%9u %10llu  %pS\n", s->n, s->bytes,
				   (void *)caller);
		kfree(s);
	}
	xa_destroy(&sites);
	kfree(rec);
	return ret;
}

static int co_callers_open(struct inode *inode, struct file *file)
{
	return single_open(file, co_callers_show, NULL);
}

const struct file_operations co_callers_fops = {
	.owner = THIS_MODULE,
	.open = co_callers_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

/*
 * freemap: every free block of a node, "first_pfn order", per piece in
 * address order.  Blocks are fetched a batch at a time under the arena
 * lock; the position is the piece and the page to resume at.
 */
#define CO_FREEMAP_BATCH	64
#define CO_POS_PIECE_SHIFT	40

struct co_freemap_iter {
	struct co_node *cn;
	unsigned int piece, n, i;
	unsigned long start;
	struct {
		unsigned long pfn;
		unsigned int order;
	} blk[CO_FREEMAP_BATCH];
};

static loff_t co_freemap_pos(unsigned int piece, unsigned long off)
{
	return (loff_t)piece << CO_POS_PIECE_SHIFT | off;
}

static int co_freemap_take(unsigned long pfn, unsigned int order, void *priv)
{
	struct co_freemap_iter *it = priv;

	it->blk[it->n].pfn = pfn;
	it->blk[it->n].order = order;
	return ++it->n == CO_FREEMAP_BATCH;
}

/* Fetch the next batch from *pos on; *pos becomes its first block's. */
static void *co_freemap_fill(struct co_freemap_iter *it, loff_t *pos)
{
	unsigned int i = *pos >> CO_POS_PIECE_SHIFT;
	unsigned long off = *pos & (BIT_ULL(CO_POS_PIECE_SHIFT) - 1);
	struct co_piece *p;

	it->n = 0;
	it->i = 0;
	/* Pieces come and go (co_elastic.c): walk the live ones under RCU. */
	rcu_read_lock();
	for (; i < co_node_slots(it->cn); i++, off = 0) {
		p = &it->cn->pieces[i];
		if (!co_piece_live(p) || off >= p->nr_pages)
			continue;
		co_piece_walk_free(p, p->start_pfn + off, co_freemap_take, it);
		if (it->n) {
			it->start = p->start_pfn;
			rcu_read_unlock();
			it->piece = i;
			*pos = co_freemap_pos(i, it->blk[0].pfn - p->start_pfn);
			return &it->blk[0];
		}
	}
	rcu_read_unlock();
	*pos = co_freemap_pos(i, 0);
	return NULL;
}

static void *co_freemap_start(struct seq_file *m, loff_t *pos)
{
	return co_freemap_fill(m->private, pos);
}

static void *co_freemap_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct co_freemap_iter *it = m->private;
	unsigned long end = it->blk[it->i].pfn + BIT(it->blk[it->i].order);

	if (++it->i < it->n) {
		*pos = co_freemap_pos(it->piece, it->blk[it->i].pfn - it->start);
		return &it->blk[it->i];
	}
	*pos = co_freemap_pos(it->piece, end - it->start);
	return co_freemap_fill(it, pos);
}

static void co_freemap_stop(struct seq_file *m, void *v)
{
}

static int co_freemap_show(struct seq_file *m, void *v)
{
	struct co_freemap_iter *it = m->private;

	seq_printf(m, "%#lx %u\n", it->blk[it->i].pfn, it->blk[it->i].order);
	return 0;
}

static const struct seq_operations co_freemap_sops = {
	.start = co_freemap_start,
	.next = co_freemap_next,
	.stop = co_freemap_stop,
	.show = co_freemap_show,
};

static int co_freemap_open(struct inode *inode, struct file *file)
{
	struct co_freemap_iter *it;

	it = __seq_open_private(file, &co_freemap_sops, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->cn = inode->i_private;
	return 0;
}

const struct file_operations co_freemap_fops = {
	.owner = THIS_MODULE,
	.open = co_freemap_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

/*
 * slabinfo: one record per owner with caches on the node, by owner id;
 * co_files_lock is held from start to stop (one read() chunk).
 */
struct co_slabinfo_iter {
	struct co_node *cn;
};

/* The owner with caches on the node and the lowest id >= *pos. */
static struct co_file *co_slab_owner_at(struct co_node *cn, loff_t *pos)
{
	struct co_file *f, *best = NULL;

	list_for_each_entry(f, &co_files, link)
		if (f->slab[cn->nid] && f->id >= (u64)*pos &&
		    (!best || f->id < best->id))
			best = f;
	*pos = best ? best->id : LLONG_MAX;
	return best;
}

static void *co_slabinfo_start(struct seq_file *m, loff_t *pos)
{
	struct co_slabinfo_iter *it = m->private;

	mutex_lock(&co_files_lock);
	return *pos ? co_slab_owner_at(it->cn, pos) : SEQ_START_TOKEN;
}

static void *co_slabinfo_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct co_slabinfo_iter *it = m->private;

	++*pos;
	return co_slab_owner_at(it->cn, pos);
}

static void co_slabinfo_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&co_files_lock);
}

static int co_slabinfo_show(struct seq_file *m, void *v)
{
	struct co_slabinfo_iter *it = m->private;
	struct co_slab_class_stats st;
	struct co_file *f = v;
	unsigned int c;

	if (v == SEQ_START_TOKEN) {
		seq_puts(m, "# owner_pid comm             objsize active cached  total slab_pages per_slab full partial empty\n");
		return 0;
	}
	for (c = 0; c < co_slab_nr_classes(); c++) {
		co_slab_get_stats(f->slab[it->cn->nid], c, &st);
		if (!st.objs_total)
			continue;
		seq_printf(m, "%11d %-16s %7zu %6lu %6lu %6lu %10u %8u %4lu %7lu %5lu\n",
			   f->pid, f->comm, st.obj_size, st.objs_in_use,
			   st.objs_cached, st.objs_total, st.slab_pages,
			   st.objs_per_slab, st.slabs_full, st.slabs_partial,
			   st.slabs_empty);
	}
	return 0;
}

static const struct seq_operations co_slabinfo_sops = {
	.start = co_slabinfo_start,
	.next = co_slabinfo_next,
	.stop = co_slabinfo_stop,
	.show = co_slabinfo_show,
};

static int co_slabinfo_open(struct inode *inode, struct file *file)
{
	struct co_slabinfo_iter *it;

	it = __seq_open_private(file, &co_slabinfo_sops, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->cn = inode->i_private;
	return 0;
}

const struct file_operations co_slabinfo_fops = {
	.owner = THIS_MODULE,
	.open = co_slabinfo_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

