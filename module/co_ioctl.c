// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: the ioctl dispatcher and its commands.
 *
 * The ABI (uapi/linux/carveout.h) grows the iommufd way: an ioctl number
 * names a command only, every argument starts with its size, and each
 * command has a minimum size (its first version) and the size the kernel
 * knows.  One table maps command numbers to both sizes and a handler; the
 * dispatcher reads the caller's size, refuses sizes below the minimum
 * (EINVAL), and copies the argument with copy_struct_from_user(): fields
 * the caller does not know read as zero (the default), bytes the kernel
 * does not know must be zero (E2BIG).  Handlers validate every field, act,
 * and copy results back with co_ucmd_respond(), which writes
 * min(caller's size, kernel's size) bytes and leaves the size field as the
 * caller gave it.  Whatever a result makes visible (a handle, a dma-buf
 * fd) is published only after the last copy to the caller succeeded.
 *
 * Locks: see carveout.h; handlers take no lock across a user copy.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>

#include <linux/carveout.h>

#include "carveout.h"
#include "heap/co_heap.h"

/* Most free blocks one FREEMAP call reports: bounds the arena lock hold. */
#define CO_FREEMAP_BATCH	256

static_assert(offsetofend(struct carveout_info, user_limit) == CARVEOUT_INFO_MIN_SIZE);
static_assert(sizeof(struct carveout_alloc) == CARVEOUT_ALLOC_MIN_SIZE);
static_assert(sizeof(struct carveout_handle) == CARVEOUT_HANDLE_MIN_SIZE);
static_assert(sizeof(struct carveout_map) == CARVEOUT_MAP_MIN_SIZE);
static_assert(sizeof(struct carveout_sync) == CARVEOUT_SYNC_MIN_SIZE);
static_assert(sizeof(struct carveout_export) == CARVEOUT_EXPORT_MIN_SIZE);
static_assert(offsetofend(struct carveout_stats, free_blocks) ==
	      CARVEOUT_STATS_MIN_SIZE);
static_assert(sizeof(struct carveout_resize) == CARVEOUT_RESIZE_MIN_SIZE);
static_assert(sizeof(struct carveout_freemap) == CARVEOUT_FREEMAP_MIN_SIZE);
static_assert(sizeof(struct carveout_slabinfo) == CARVEOUT_SLABINFO_MIN_SIZE);
static_assert(ARRAY_SIZE(((struct carveout_stats *)0)->free_blocks) ==
	      CO_STATS_ORDERS);
static_assert((O_CLOEXEC | O_RDWR) == CARVEOUT_EXPORT_FLAGS);

/* Every argument structure, so the dispatcher can keep one on its stack. */
union co_ioctl_arg {
	struct carveout_info info;
	struct carveout_alloc alloc;
	struct carveout_handle handle;
	struct carveout_map map;
	struct carveout_sync sync;
	struct carveout_export export;
	struct carveout_stats stats;
	struct carveout_freemap freemap;
	struct carveout_slabinfo slabinfo;
	struct carveout_resize resize;
};

static bool co_is_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

/* Are the @size - @from last bytes of the @size bytes at @s all zero? */
static bool co_zero_from(const void *s, size_t size, size_t from)
{
	return co_is_zero((const u8 *)s + from, size - from);
}

/* A device name field must hold a NUL-terminated string. */
static bool co_name_ok(const char *name, size_t len)
{
	return strnlen(name, len) < len;
}

/**
 * co_ucmd_copy_in() - read a size-prefixed ioctl argument
 * @uc: the call; @uc->uarg and @uc->cmd set, @uc->usize filled here
 * @min_size: the command's first-version size
 * @ksize: the size the kernel knows
 *
 * Context: process context, may fault.
 * Return: 0, -EFAULT, -EINVAL for a size below @min_size, -E2BIG for
 * non-zero bytes past @ksize.
 */
VISIBLE_IF_KUNIT int co_ucmd_copy_in(struct co_ucmd *uc, u32 min_size,
				     u32 ksize)
{
	if (get_user(uc->usize, (const u32 __user *)uc->uarg))
		return -EFAULT;
	if (uc->usize < min_size)
		return -EINVAL;
	uc->ksize = ksize;
	return copy_struct_from_user(uc->cmd, ksize, uc->uarg, uc->usize);
}
EXPORT_SYMBOL_IF_KUNIT(co_ucmd_copy_in);

/**
 * co_ucmd_respond() - copy a command's results back to the caller
 * @uc: the call
 *
 * Writes min(caller's size, kernel's size) bytes; the size field goes back
 * as the caller gave it.
 *
 * Context: process context, may fault.
 * Return: 0 or -EFAULT.
 */
VISIBLE_IF_KUNIT int co_ucmd_respond(struct co_ucmd *uc)
{
	if (copy_to_user(uc->uarg, uc->cmd, min(uc->usize, uc->ksize)))
		return -EFAULT;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(co_ucmd_respond);

static int co_info_nodes(struct carveout_info *info)
{
	struct carveout_node_info ni;
	struct co_node_stats *st;
	struct co_node *cn;
	u32 n = 0;
	int ret = 0;

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	co_for_each_node(cn) {
		ret = co_node_get_stats(cn, st);
		if (ret)
			break;
		info->total_bytes += st->region_bytes;
		info->floor_bytes += READ_ONCE(cn->floor);
		info->ceiling_bytes += max(READ_ONCE(cn->ceiling),
					   st->region_bytes);
		info->max_alloc = max(info->max_alloc, st->largest_free);
		if (n < info->nodes_cap) {
			ni = (struct carveout_node_info) {
				.node = cn->nid,
				.nr_pieces = co_node_live_pieces(cn),
				.region_bytes = st->region_bytes,
				.free_bytes = st->free_bytes,
				.largest_free = st->largest_free,
			};
			if (copy_to_user(u64_to_user_ptr(info->nodes_ptr +
							 n * sizeof(ni)),
					 &ni, sizeof(ni))) {
				ret = -EFAULT;
				break;
			}
		}
		n++;
	}
	info->nr_nodes = n;
	kfree(st);
	return ret;
}

/*
 * Does carveout_heap serve heaps?  Asked through symbol_get(), so carveout
 * neither needs that module (absent where the kernel has no heap API) nor
 * holds it.
 */
static bool co_dma_heaps(void)
{
	typeof(carveout_heap_count) *count = symbol_get(carveout_heap_count);
	unsigned int n;

	if (!count)
		return false;
	n = count();
	symbol_put(carveout_heap_count);
	return n;
}

/* What limits this file and what it holds (CARVEOUT_CAP_LIMITS). */
static void co_info_limits(struct carveout_info *info, struct co_file *f)
{
	struct co_node *cn;

	info->file_limit = READ_ONCE(co_file_limit);
	info->user_limit = READ_ONCE(co_user_limit);
	info->file_bytes = atomic64_read(&f->bytes);
	info->user_bytes = atomic64_read(&f->user->bytes);
	info->eff_user_limit = co_file_user_limit(f);
	co_for_each_node(cn)
		info->reserve_bytes += co_reserve_bytes(cn);
	info->max_handles = READ_ONCE(co_max_handles);
	info->nr_handles = atomic_read(&f->nr_handles);
	info->max_maps = READ_ONCE(co_max_maps);
	info->nr_maps = atomic_read(&f->nr_maps);
	if (f->privileged)
		info->owner_flags |= CARVEOUT_OWNER_PRIVILEGED;
}

static int co_cmd_info(struct co_ucmd *uc)
{
	struct carveout_info *info = uc->cmd;
	struct co_file *f = uc->f;
	int ret;

	if (info->flags || (info->nodes_cap && !info->nodes_ptr) ||
	    info->caps || info->page_size || info->nr_nodes || info->slab_max ||
	    !co_zero_from(info, sizeof(*info),
			  offsetof(struct carveout_info, total_bytes)))
		return -EINVAL;
	info->caps = CARVEOUT_CAP_NUMA | CARVEOUT_CAP_SLAB |
		     CARVEOUT_CAP_DMA_MAP | CARVEOUT_CAP_DMABUF |
		     CARVEOUT_CAP_FREEMAP | CARVEOUT_CAP_LIMITS |
		     CARVEOUT_CAP_PREZERO | CARVEOUT_CAP_ELASTIC;
	if (IS_ENABLED(CONFIG_X86))
		info->caps |= CARVEOUT_CAP_WC | CARVEOUT_CAP_UNCACHED;
	if (capable(CAP_SYS_ADMIN))
		info->caps |= CARVEOUT_CAP_PHYS;
	if (co_dma_heaps())
		info->caps |= CARVEOUT_CAP_DMA_HEAP;
	info->page_size = PAGE_SIZE;
	info->slab_max = co_slab_max_size();
	co_info_limits(info, f);
	ret = co_info_nodes(info);
	if (ret)
		return ret;
	return co_ucmd_respond(uc);
}

/* Validate ALLOC's input; look up the DEVICE policy's device. */
static int co_alloc_check(struct carveout_alloc *a, struct device **dev)
{
	u64 largest = co_regions_largest_piece();

	if ((a->flags & ~CARVEOUT_ALLOC_FLAGS) ||
	    (a->flags & CARVEOUT_ALLOC_CACHE_MASK) == CARVEOUT_ALLOC_CACHE_MASK ||
	    !co_zero_from(a, sizeof(*a),
			  offsetof(struct carveout_alloc, handle)))
		return -EINVAL;
	if (!a->length || (a->align & (a->align - 1)) ||
	    a->policy > CARVEOUT_POLICY_MAX ||
	    !co_name_ok(a->device, sizeof(a->device)))
		return -EINVAL;
	if (a->length > largest || a->align > largest)
		return -EFBIG;
	if (a->policy != CARVEOUT_POLICY_DEVICE)
		return co_is_zero(a->device, sizeof(a->device)) ? 0 : -EINVAL;
	*dev = co_find_device(a->device);
	return *dev ? 0 : -ENODEV;
}

static void co_alloc_undo(struct co_file *f, u32 handle,
			  struct co_buffer *buf)
{
	xa_erase(&f->handles, handle);
	co_handle_drop(f);
	co_buffer_kill(buf);
	co_buffer_put(buf);
}

static int co_cmd_alloc(struct co_ucmd *uc)
{
	struct carveout_alloc *a = uc->cmd;
	struct co_file *f = uc->f;
	struct co_alloc_req req = { };
	struct device *dev = NULL;
	struct co_buffer *buf;
	u32 handle;
	int ret;

	ret = co_alloc_check(a, &dev);
	if (ret)
		return ret;
	req = (struct co_alloc_req) {
		.size = a->length, .align = a->align, .nid = a->node,
		.policy = a->policy, .flags = a->flags, .dev = dev,
	};
	/* Counted before the memory is taken: past max_handles, EMFILE. */
	ret = co_handle_take(f);
	if (ret) {
		put_device(dev);
		return ret;
	}
	buf = co_buffer_alloc(f, &req);
	put_device(dev);
	if (IS_ERR(buf)) {
		co_handle_drop(f);
		return PTR_ERR(buf);
	}

	/*
	 * Reserve a handle (cyclically: a handle just freed is not reused
	 * soon, so stale handles and mmap offsets name no new buffer), tell
	 * the caller, and only then publish the buffer under it.  Until
	 * then FREE and mmap see no buffer there.
	 */
	ret = xa_alloc_cyclic(&f->handles, &handle, NULL,
			      XA_LIMIT(1, CO_HANDLE_MAX), &f->next_handle,
			      GFP_KERNEL);
	if (ret < 0) {
		co_handle_drop(f);
		co_buffer_kill(buf);
		co_buffer_put(buf);
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	buf->handle = handle;
	a->handle = handle;
	a->out_node = buf->node->nid;
	a->granted = buf->granted;
	a->mmap_offset = (u64)handle << CO_MMAP_SHIFT;
	a->page_offset = offset_in_page(buf->phys);
	if (capable(CAP_SYS_ADMIN))
		a->phys_addr = buf->phys;
	ret = co_ucmd_respond(uc);
	if (ret) {
		co_alloc_undo(f, handle, buf);
		return ret;
	}
	WARN_ON_ONCE(xa_err(xa_store(&f->handles, handle, buf, GFP_KERNEL)));
	return 0;
}

static int co_cmd_free(struct co_ucmd *uc)
{
	struct carveout_handle *h = uc->cmd;
	struct co_file *f = uc->f;
	struct co_buffer *buf;

	if (h->flags || h->reserved)
		return -EINVAL;
	/* A handle ALLOC reserved but has not published yet is not there. */
	xa_lock(&f->handles);
	buf = xa_load(&f->handles, h->handle);
	if (buf)
		__xa_erase(&f->handles, h->handle);
	xa_unlock(&f->handles);
	if (!buf)
		return -ENOENT;
	co_handle_drop(f);
	co_buffer_kill(buf);
	co_buffer_put(buf);
	return 0;
}

static bool co_dir_ok(u32 dir)
{
	return dir == CARVEOUT_DMA_BIDIRECTIONAL || dir == CARVEOUT_DMA_TO_DEVICE ||
	       dir == CARVEOUT_DMA_FROM_DEVICE;
}

/* The uapi values are those of enum dma_data_direction. */
static enum dma_data_direction co_dir(u32 dir)
{
	BUILD_BUG_ON(CARVEOUT_DMA_BIDIRECTIONAL != DMA_BIDIRECTIONAL);
	BUILD_BUG_ON(CARVEOUT_DMA_TO_DEVICE != DMA_TO_DEVICE);
	BUILD_BUG_ON(CARVEOUT_DMA_FROM_DEVICE != DMA_FROM_DEVICE);
	return (enum dma_data_direction)dir;
}

static int co_map_one(struct co_ucmd *uc, struct co_buffer *buf,
		      struct device *dev)
{
	struct carveout_map *m = uc->cmd;
	dma_addr_t addr;
	int ret;

	ret = co_access_map(buf, dev, co_dir(m->direction), &addr);
	if (ret)
		return ret;
	m->dma_addr = addr;
	m->dma_mask = dma_get_mask(dev);
	ret = co_ucmd_respond(uc);
	if (ret)
		co_dma_unmap(buf, dev, addr);
	return ret;
}

static int co_cmd_map_common(struct co_ucmd *uc, bool map)
{
	struct carveout_map *m = uc->cmd;
	struct co_buffer *buf;
	struct device *dev;
	int ret;

	if (m->flags || !co_dir_ok(m->direction) ||
	    !co_name_ok(m->device, sizeof(m->device)) || !m->device[0] ||
	    m->dma_mask || (map && m->dma_addr))
		return -EINVAL;
	/* A device that may write is write access to the buffer. */
	if (map && m->direction != CARVEOUT_DMA_TO_DEVICE &&
	    !(uc->mode & FMODE_WRITE))
		return -EACCES;
	buf = co_file_lookup(uc->f, m->handle);
	if (!buf)
		return -ENOENT;
	dev = co_find_device(m->device);
	if (!dev) {
		ret = -ENODEV;
	} else {
		ret = map ? co_map_one(uc, buf, dev) :
			    co_dma_unmap(buf, dev, m->dma_addr);
		put_device(dev);
	}
	co_buffer_put(buf);
	return ret;
}

static int co_cmd_map(struct co_ucmd *uc)
{
	return co_cmd_map_common(uc, true);
}

static int co_cmd_unmap(struct co_ucmd *uc)
{
	return co_cmd_map_common(uc, false);
}

static int co_cmd_sync(struct co_ucmd *uc)
{
	struct carveout_sync *s = uc->cmd;
	struct co_buffer *buf;
	u64 len;
	int ret;

	if ((s->flags != CARVEOUT_SYNC_FOR_CPU &&
	     s->flags != CARVEOUT_SYNC_FOR_DEVICE) || !co_dir_ok(s->direction))
		return -EINVAL;
	buf = co_file_lookup(uc->f, s->handle);
	if (!buf)
		return -ENOENT;
	len = s->length;
	if (!len && s->offset < buf->granted)
		len = buf->granted - s->offset;
	if (s->offset >= buf->granted || len > buf->granted - s->offset)
		ret = -EINVAL;
	else
		ret = co_dma_sync(buf, s->flags == CARVEOUT_SYNC_FOR_CPU,
				  s->offset, len, s->dma_addr,
				  co_dir(s->direction));
	co_buffer_put(buf);
	return ret;
}

static int co_cmd_export(struct co_ucmd *uc)
{
	struct carveout_export *e = uc->cmd;
	struct dma_buf *dmabuf;
	struct co_buffer *buf;
	int ret, fd;

	/* O_RDONLY (0) or O_RDWR, and O_CLOEXEC: nothing else. */
	if ((e->flags & ~CARVEOUT_EXPORT_FLAGS) || e->fd)
		return -EINVAL;
	/* As mmap: a file opened read-only cannot give write access. */
	if ((e->flags & O_RDWR) && !(uc->mode & FMODE_WRITE))
		return -EACCES;
	buf = co_file_lookup(uc->f, e->handle);
	if (!buf)
		return -ENOENT;
	dmabuf = co_buffer_export(buf, e->flags);
	co_buffer_put(buf);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	fd = get_unused_fd_flags(e->flags & O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	e->fd = fd;
	ret = co_ucmd_respond(uc);
	if (ret) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return ret;
	}
	fd_install(fd, dmabuf->file);
	return 0;
}

static void co_stats_counters(struct carveout_stats *s, struct co_node *cn)
{
	s->requested_bytes = atomic64_read(&cn->requested);
	s->granted_bytes = atomic64_read(&cn->granted);
	s->nr_buffers = atomic64_read(&cn->nr_buffers);
	s->alloc_count = atomic64_read(&cn->alloc_count);
	s->free_count = atomic64_read(&cn->free_count);
	s->fail_count = atomic64_read(&cn->fail_count);
	s->numa_hit = atomic64_read(&cn->numa_hit);
	s->numa_miss = atomic64_read(&cn->numa_miss);
	s->numa_foreign = atomic64_read(&cn->numa_foreign);
	s->local_node = atomic64_read(&cn->local_node);
	s->other_node = atomic64_read(&cn->other_node);
	s->prezeroed_bytes = atomic64_read(&cn->prezeroed);
	s->prezero_ns = atomic64_read(&cn->prezero_ns);
	s->sync_zeroed_bytes = atomic64_read(&cn->sync_zeroed);
}

static void co_stats_elastic(struct carveout_stats *s, struct co_node *cn)
{
	s->floor_bytes = READ_ONCE(cn->floor);
	s->ceiling_bytes = max(READ_ONCE(cn->ceiling), s->region_bytes);
	s->low_wmark = READ_ONCE(cn->low_wmark);
	s->high_wmark = READ_ONCE(cn->high_wmark);
	s->piece_bytes = READ_ONCE(cn->piece_bytes);
	s->shrink_delay_ms = READ_ONCE(cn->shrink_delay_ms);
	s->nr_elastic = atomic_read(&cn->nr_elastic);
	s->grow_count = atomic64_read(&cn->grow_count);
	s->grow_bytes = atomic64_read(&cn->grow_bytes);
	s->shrink_count = atomic64_read(&cn->shrink_count);
	s->shrink_bytes = atomic64_read(&cn->shrink_bytes);
	s->grow_fail_count = atomic64_read(&cn->grow_fail_count);
	s->last_fail = READ_ONCE(cn->last_fail);
	s->last_fail_bytes = READ_ONCE(cn->last_fail_bytes);
}

/**
 * co_stats_fill() - a node's figures, as CARVEOUT_IOC_STATS reports them
 * @s: filled from @nr_orders on; the header (size, flags, node) is the
 *	caller's
 * @nid: the node
 *
 * Context: process context.
 * Return: 0, -ENODEV (no region on @nid) or -ENOMEM.
 */
int co_stats_fill(struct carveout_stats *s, unsigned int nid)
{
	struct co_node_stats *st;
	struct co_node *cn;
	int ret;

	cn = co_node_find(nid);
	if (!cn)
		return -ENODEV;
	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	ret = co_node_get_stats(cn, st);
	if (!ret) {
		s->region_bytes = st->region_bytes;
		s->free_bytes = st->free_bytes;
		s->largest_free = st->largest_free;
		s->nr_orders = st->nr_orders;
		s->clean_bytes = st->clean_bytes;
		memcpy(s->free_blocks, st->free_blocks, sizeof(s->free_blocks));
		co_stats_counters(s, cn);
		co_stats_elastic(s, cn);
	}
	kfree(st);
	return ret;
}

static int co_cmd_stats(struct co_ucmd *uc)
{
	struct carveout_stats *s = uc->cmd;
	int ret;

	if (s->flags || !co_zero_from(s, sizeof(*s),
				      offsetof(struct carveout_stats, nr_orders)))
		return -EINVAL;
	ret = co_stats_fill(s, s->node);
	return ret ?: co_ucmd_respond(uc);
}

/* FREEMAP's walk: collects up to @cap blocks, then notes where to resume. */
struct co_freemap_walk {
	struct carveout_free_block *blocks;
	unsigned long base;
	u32 n;
	u32 cap;
	u64 next;
};

static int co_freemap_one(unsigned long pfn, unsigned int order, void *priv)
{
	struct co_freemap_walk *w = priv;

	if (w->n == w->cap) {
		w->next = pfn - w->base;
		return 1;
	}
	w->blocks[w->n++] = (struct carveout_free_block) {
		.offset = pfn - w->base, .order = order,
	};
	return 0;
}

static int co_cmd_freemap(struct co_ucmd *uc)
{
	struct carveout_freemap *fm = uc->cmd;
	struct co_freemap_walk w = { };
	struct co_piece *p;
	struct co_node *cn;
	int ret;

	if (fm->flags || !fm->blocks_cap ||
	    !co_zero_from(fm, sizeof(*fm),
			  offsetof(struct carveout_freemap, nr_blocks)))
		return -EINVAL;
	cn = co_node_find(fm->node);
	if (!cn)
		return -ENODEV;
	w.cap = min_t(u32, fm->blocks_cap, CO_FREEMAP_BATCH);
	w.blocks = kcalloc(w.cap, sizeof(*w.blocks), GFP_KERNEL);
	if (!w.blocks)
		return -ENOMEM;
	/* Piece @fm->piece is the node's live piece of that rank. */
	rcu_read_lock();
	p = co_piece_nth(cn, fm->piece, &fm->nr_pieces);
	if (p && fm->start <= p->nr_pages) {
		fm->piece_pages = p->nr_pages;
		w.base = p->start_pfn;
		w.next = p->nr_pages;
		co_piece_walk_free(p, p->start_pfn + fm->start,
				   co_freemap_one, &w);
	}
	rcu_read_unlock();
	if (!fm->piece_pages) {
		kfree(w.blocks);
		return -EINVAL;
	}
	fm->nr_blocks = w.n;
	fm->next = w.next;
	ret = -EFAULT;
	if (!copy_to_user(u64_to_user_ptr(fm->blocks_ptr), w.blocks,
			  w.n * sizeof(*w.blocks)))
		ret = co_ucmd_respond(uc);
	kfree(w.blocks);
	return ret;
}

static void co_slabinfo_fill(struct co_slab_set *set,
			     struct carveout_slab_class *out, u32 n)
{
	struct co_slab_class_stats st;
	u32 c;

	for (c = 0; c < n; c++) {
		co_slab_get_stats(set, c, &st);
		out[c] = (struct carveout_slab_class) {
			.obj_size = st.obj_size,
			.objs_per_slab = st.objs_per_slab,
			.slab_pages = st.slab_pages,
			.objs_in_use = st.objs_in_use,
			.objs_cached = st.objs_cached,
			.objs_total = st.objs_total,
			.slabs_full = st.slabs_full,
			.slabs_partial = st.slabs_partial,
			.slabs_empty = st.slabs_empty,
		};
	}
}

static int co_cmd_slabinfo(struct co_ucmd *uc)
{
	struct carveout_slabinfo *si = uc->cmd;
	struct carveout_slab_class *out;
	struct co_file *f = uc->f;
	struct co_node *cn;
	u32 n;
	int ret = 0;

	if (si->flags || si->nr_classes || si->reserved ||
	    (si->classes_cap && !si->classes_ptr))
		return -EINVAL;
	cn = co_node_find(si->node);
	if (!cn)
		return -ENODEV;
	si->nr_classes = co_slab_nr_classes();
	n = min(si->classes_cap, si->nr_classes);
	out = kcalloc(max(n, 1U), sizeof(*out), GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	mutex_lock(&f->lock);
	if (f->slab[cn->nid])
		co_slabinfo_fill(f->slab[cn->nid], out, n);
	mutex_unlock(&f->lock);
	if (copy_to_user(u64_to_user_ptr(si->classes_ptr), out,
			 n * sizeof(*out)))
		ret = -EFAULT;
	kfree(out);
	return ret ? ret : co_ucmd_respond(uc);
}

static int co_cmd_resize(struct co_ucmd *uc)
{
	struct carveout_resize *rs = uc->cmd;
	struct co_resize r;
	struct co_node *cn;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if ((rs->flags & ~CARVEOUT_RESIZE_FLAGS) || rs->region_bytes)
		return -EINVAL;
	cn = co_node_find(rs->node);
	if (!cn)
		return -ENODEV;
	r = (struct co_resize) {
		.floor = rs->floor, .ceiling = rs->ceiling,
		.low_wmark = rs->low_wmark, .high_wmark = rs->high_wmark,
		.piece_bytes = rs->piece_bytes,
		.shrink_delay_ms = rs->shrink_delay_ms, .set = rs->flags,
	};
	ret = co_elastic_resize(cn, &r);
	rs->floor = READ_ONCE(cn->floor);
	rs->region_bytes = READ_ONCE(cn->bytes);
	rs->ceiling = max(READ_ONCE(cn->ceiling), rs->region_bytes);
	rs->low_wmark = READ_ONCE(cn->low_wmark);
	rs->high_wmark = READ_ONCE(cn->high_wmark);
	rs->piece_bytes = READ_ONCE(cn->piece_bytes);
	rs->shrink_delay_ms = READ_ONCE(cn->shrink_delay_ms);
	/* Even a floor that could not be raised reports where it stands. */
	if (ret && ret != -ENOMEM)
		return ret;
	return co_ucmd_respond(uc) ?: ret;
}

/**
 * struct co_ioctl_op - one command of the table
 * @min_size: the argument's first-version size (CARVEOUT_*_MIN_SIZE)
 * @size: the argument's size as this kernel knows it
 * @execute: the handler; @min_size <= caller's size, argument copied in
 */
struct co_ioctl_op {
	u32 min_size;
	u32 size;
	int (*execute)(struct co_ucmd *uc);
};

#define CO_OP(cmd, type, min, fn) \
	[CARVEOUT_CMD_##cmd - CARVEOUT_CMD_INFO] = { \
		.min_size = (min), .size = sizeof(type), .execute = (fn) }

static const struct co_ioctl_op co_ioctl_ops[] = {
	CO_OP(INFO, struct carveout_info, CARVEOUT_INFO_MIN_SIZE, co_cmd_info),
	CO_OP(ALLOC, struct carveout_alloc, CARVEOUT_ALLOC_MIN_SIZE,
	      co_cmd_alloc),
	CO_OP(FREE, struct carveout_handle, CARVEOUT_HANDLE_MIN_SIZE,
	      co_cmd_free),
	CO_OP(MAP, struct carveout_map, CARVEOUT_MAP_MIN_SIZE, co_cmd_map),
	CO_OP(UNMAP, struct carveout_map, CARVEOUT_MAP_MIN_SIZE, co_cmd_unmap),
	CO_OP(SYNC, struct carveout_sync, CARVEOUT_SYNC_MIN_SIZE, co_cmd_sync),
	CO_OP(EXPORT, struct carveout_export, CARVEOUT_EXPORT_MIN_SIZE,
	      co_cmd_export),
	CO_OP(STATS, struct carveout_stats, CARVEOUT_STATS_MIN_SIZE,
	      co_cmd_stats),
	CO_OP(FREEMAP, struct carveout_freemap, CARVEOUT_FREEMAP_MIN_SIZE,
	      co_cmd_freemap),
	CO_OP(SLABINFO, struct carveout_slabinfo, CARVEOUT_SLABINFO_MIN_SIZE,
	      co_cmd_slabinfo),
	CO_OP(RESIZE, struct carveout_resize, CARVEOUT_RESIZE_MIN_SIZE,
	      co_cmd_resize),
};

/**
 * co_ioctl() - dispatch an ioctl of /dev/carveout
 * @file: the open file
 * @cmd: _IO(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_*)
 * @arg: user pointer to the size-prefixed argument
 *
 * Context: process context.
 * Return: 0 or a negative errno; -ENOTTY for an unknown command.
 */
long co_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	unsigned int nr = _IOC_NR(cmd) - CARVEOUT_CMD_INFO;
	const struct co_ioctl_op *op;
	union co_ioctl_arg buf;
	struct co_ucmd uc = {
		.f = file->private_data,
		.mode = file->f_mode,
		.uarg = (void __user *)arg,
		.cmd = &buf,
	};
	int ret;

	if (cmd != _IO(CARVEOUT_IOC_MAGIC, _IOC_NR(cmd)) ||
	    nr >= ARRAY_SIZE(co_ioctl_ops))
		return -ENOTTY;
	op = &co_ioctl_ops[nr];
	ret = co_ucmd_copy_in(&uc, op->min_size, op->size);
	if (ret)
		return ret;
	return op->execute(&uc);
}
