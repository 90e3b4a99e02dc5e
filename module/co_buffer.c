// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: a buffer's life.
 *
 * A buffer is a physically contiguous range of one node's region (see
 * co_place.c for where).  It is zeroed before anyone sees it.
 * Write-combined and uncached buffers are always whole pages, and their
 * kernel mapping has the same memory type while they live, so no page is
 * ever mapped with two types.  Their memory comes converted from a pool or
 * is converted after zeroing, and goes back to the pool (co_memtype.c).
 *
 * Ownership (see carveout.h): the owner's handle, every mmap, every
 * exported dma-buf and every in-kernel user hold a reference.  Freeing the
 * handle kills the buffer: its MAP mappings go at once, while CPU mappings
 * and dma-bufs keep the memory until they go.  The last reference gives
 * the memory back and uncharges the owner.
 *
 * No page reaches a new owner while anyone else can still reach it.
 * Mappings hold the buffer's pages as ordinary refcounted pages (co_mmap.c),
 * so get_user_pages() users (a pipe after vmsplice, io_uring fixed
 * buffers, O_DIRECT, RDMA, VFIO) hold the page, not the buffer.  When the
 * last buffer reference goes while a page still has a reference beyond
 * carveout's own and one per user page table entry, the buffer is held
 * back (co_buffer_hold()): it keeps its memory, its owner's charge and its
 * place in the node's counters, shows as held in debugfs, and pins the
 * module.  Nothing in the kernel calls back when an ordinary page's count
 * drops (only ZONE_DEVICE pages have ->page_free; page_pool polls its
 * in-flight pages from a delayed work too), so a delayed work looks again:
 * 10 ms after the last hold, backing off to once a second while anything
 * is held, never when nothing is.  The memory returns at most about a
 * second after the last outside reference went.
 *
 * Every live buffer, held ones included, is in the registry, so debugfs
 * and the revocation of DMA mappings can find them all.  It is sharded per
 * CPU, as the page allocator's per-CPU lists are: a buffer goes into the
 * xarray of the CPU that allocated it, under that xarray's own lock, and
 * leaves it from whatever CPU frees it, so allocations on different CPUs
 * share no lock or cache line.  Removal also takes co_buffers_rwsem for
 * reading (a per-CPU counter, no shared write); a walker takes it for
 * writing and may then use, and sleep on, any buffer it finds (its lock,
 * its fields), since none can go meanwhile.  A walk resumes from a
 * position, the CPU and the id in its shard (co_buffers_find()).
 *
 * Buffers come from a cache of their own (co_buffer_cachep), not a kmalloc
 * size class.
 *
 * Locks: see carveout.h.  co_held_lock protects co_held_list and the
 * scan's delay.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/percpu-rwsem.h>
#include <linux/workqueue.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include <linux/carveout.h>

#include "carveout.h"
#include "co_compat.h"

/*
 * The registry: per CPU, live buffers by id (see the top).  Ids are handed
 * out cyclically (@next, under the xarray's lock), so within a shard a new
 * buffer sorts after every older one until the ids wrap.
 */
struct co_buffer_shard {
	struct xarray xa;
	u32 next;
};

static DEFINE_PER_CPU(struct co_buffer_shard, co_buffers);
/* Removal (read) against walkers (write); see the top and carveout.h. */
DEFINE_STATIC_PERCPU_RWSEM(co_buffers_rwsem);
static struct kmem_cache *co_buffer_cachep;

/* Buffers whose pages are still referenced from outside (see the top). */
static LIST_HEAD(co_held_list);
/* Protects co_held_list and co_held_delay; taken alone. */
static DEFINE_MUTEX(co_held_lock);
static unsigned long co_held_delay;
atomic64_t co_held_bytes;
static void co_held_scan(struct work_struct *work);
static DECLARE_DELAYED_WORK(co_held_work, co_held_scan);
#define CO_HELD_MIN_DELAY	max(HZ / 100, 1)
#define CO_HELD_MAX_DELAY	HZ

/*
 * Zero the buffer through the kernel's linear mapping, unless its memory
 * was zeroed in the background since its last owner freed it (co_zero.c).
 */
static int co_buffer_zero(struct co_buffer *buf)
{
	u8 *p = phys_to_virt(buf->phys);
	u64 done, chunk;

	if (buf->clean)
		return 0;
	atomic64_add(buf->granted, &buf->node->sync_zeroed);
	for (done = 0; done < buf->granted; done += chunk) {
		chunk = min_t(u64, buf->granted - done, SZ_1M);
		memset(p + done, 0, chunk);
		if (done + chunk < buf->granted) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

/*
 * The memory goes back where it came from: memory of the buffer's own
 * write-combined or uncached type to its pool (or, converted back, to the
 * arena), anything else to its arena or slab.
 */
static void co_buffer_give_back(struct co_buffer *buf)
{
	if (buf->converted)
		co_memtype_release(buf);
	else
		co_place_release(buf);
	co_zero_kick(buf->node, buf->granted);
}

/* Enter @buf into the registry of the CPU it is allocated on. */
static int co_buffers_add(struct co_buffer *buf)
{
	struct co_buffer_shard *sh;
	int ret;

	buf->shard = raw_smp_processor_id();
	sh = per_cpu_ptr(&co_buffers, buf->shard);
	ret = xa_alloc_cyclic(&sh->xa, &buf->id, buf, xa_limit_32b, &sh->next,
			      GFP_KERNEL_ACCOUNT);
	return ret < 0 ? ret : 0;
}

static void co_buffers_del(struct co_buffer *buf)
{
	percpu_down_read(&co_buffers_rwsem);
	xa_erase(&per_cpu_ptr(&co_buffers, buf->shard)->xa, buf->id);
	percpu_up_read(&co_buffers_rwsem);
}

/**
 * co_buffers_walk_begin() - start a walk of every live buffer
 *
 * Until co_buffers_walk_end() no buffer leaves the registry, so the
 * buffers co_buffers_find() returns may be used, their locks taken.
 * Buffers may still be added.
 *
 * Context: process context, sleeps (a grace period, when no walk ran
 * lately); the buffers' frees wait for the walk to end.
 */
void co_buffers_walk_begin(void)
{
	percpu_down_write(&co_buffers_rwsem);
}

/**
 * co_buffers_walk_end() - end a walk started with co_buffers_walk_begin()
 *
 * Context: process context.
 */
void co_buffers_walk_end(void)
{
	percpu_up_write(&co_buffers_rwsem);
}

/**
 * co_buffers_find() - the live buffer at or after a walk position
 * @pos: position to start at (0 for the first); set to the found
 *	buffer's position, or to CO_BUFFERS_END when there is none
 *
 * A position is the CPU whose shard holds the buffer (high 32 bits) and
 * its id there (low 32 bits; ids start at 1), so a walk resumes where it
 * stopped after the lock was dropped.
 *
 * Context: between co_buffers_walk_begin() and co_buffers_walk_end().
 * Return: the buffer, or NULL past the last one.
 */
struct co_buffer *co_buffers_find(u64 *pos)
{
	unsigned long id = lower_32_bits(*pos);
	unsigned int cpu = upper_32_bits(*pos);
	struct co_buffer *buf;

	percpu_rwsem_assert_held(&co_buffers_rwsem);
	for (; cpu < nr_cpu_ids; cpu++, id = 0) {
		if (!cpu_possible(cpu))
			continue;
		buf = xa_find(&per_cpu_ptr(&co_buffers, cpu)->xa, &id, U32_MAX,
			      XA_PRESENT);
		if (buf) {
			*pos = (u64)cpu << 32 | id;
			return buf;
		}
	}
	*pos = CO_BUFFERS_END;
	return NULL;
}

/**
 * co_buffer_alloc() - allocate a zeroed buffer
 * @f: the owner; the buffer takes a reference to it
 * @req: the request (validated by the caller)
 *
 * Context: process context, sleeps.
 * Return: the buffer with one reference, or an ERR_PTR: -EINVAL (bad node
 * or policy), -ENODEV (strict node without a region), -EDQUOT (file or
 * user limit), -ENOMEM (no node could serve), -EINTR (killed while
 * zeroing).
 */
struct co_buffer *co_buffer_alloc(struct co_file *f,
				  const struct co_alloc_req *req)
{
	unsigned long limit_pfn = 0;
	struct co_buffer *buf;
	struct co_node *cn;
	u64 charge;
	int ret;

	might_sleep();
	/* Without a translating IOMMU the device must reach the bytes. */
	if (req->dev && !co_dev_translated(req->dev))
		limit_pfn = PHYS_PFN(min_t(u64, dma_get_mask(req->dev),
					   U64_MAX - PAGE_SIZE) + 1);

	/*
	 * Whole pages are charged here; a slab object is not, its slab's
	 * pages were charged when the slab took them (co_file_slab()).
	 */
	charge = co_use_slab(req) ? 0 : PAGE_ALIGN(req->size);
	if (charge && !co_charge(f, charge))
		return ERR_PTR(-EDQUOT);

	buf = co_should_fail(sizeof(*buf)) ? NULL :
	      kmem_cache_zalloc(co_buffer_cachep, co_file_gfp(f));
	if (!buf) {
		co_uncharge(f, charge);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&buf->ref);
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->held_link);
	INIT_LIST_HEAD(&buf->maps);
	INIT_LIST_HEAD(&buf->attachments);
	buf->size = req->size;
	buf->flags = req->flags;
	buf->caller = req->caller;
	buf->pid = task_tgid_nr(current);
	/* As get_task_comm() does since 6.13: without the task lock. */
	strscpy_pad(buf->comm, current->comm, sizeof(buf->comm));

	ret = co_place(f, buf, req, limit_pfn);
	if (ret)
		goto fail;
	cn = buf->node;
	if (!buf->slab && buf->granted != charge) {
		/* A slab request that fell back to pages: charge them now. */
		if (!co_charge(f, buf->granted)) {
			ret = -EDQUOT;
			goto give_back;
		}
		charge = buf->granted;
	}
	ret = co_buffer_zero(buf);
	if (ret)
		goto give_back;
	ret = co_memtype_set(buf);
	if (ret)
		goto give_back;

	buf->owner = f;
	ret = co_buffers_add(buf);
	if (ret < 0) {
		ret = -ENOMEM;
		goto give_back;
	}
	kref_get(&f->ref);
	atomic64_inc(&cn->alloc_count);
	atomic64_inc(&cn->nr_buffers);
	atomic64_add(buf->size, &cn->requested);
	atomic64_add(buf->granted, &cn->granted);
	return buf;

give_back:
	co_buffer_give_back(buf);
fail:
	co_uncharge(f, charge);
	mutex_destroy(&buf->lock);
	kmem_cache_free(co_buffer_cachep, buf);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_IF_KUNIT(co_buffer_alloc);

/*
 * Does anyone beyond carveout (one reference per page) and the user page
 * tables (one per entry) still hold one of @buf's pages?  A page table
 * entry takes its reference before it counts in the mapcount and drops it
 * after, so a racing map or unmap can only make this say yes.
 */
static bool co_buffer_referenced(struct co_buffer *buf)
{
	unsigned long pfn = PFN_DOWN(buf->phys);
	unsigned long end = pfn + co_buffer_span(buf);
	struct page *page;

	for (; pfn < end; pfn++) {
		page = pfn_to_page(pfn);
		if (page_ref_count(page) > 1 + co_page_mapcount(page))
			return true;
		if (!(pfn % 1024))
			cond_resched();
	}
	return false;
}

/* The memory goes back: the end of a buffer's life. */
static void co_buffer_finish(struct co_buffer *buf)
{
	struct co_node *cn = buf->node;
	struct co_file *f = buf->owner;

	co_buffers_del(buf);
	co_buffer_give_back(buf);

	atomic64_dec(&cn->nr_buffers);
	atomic64_sub(buf->size, &cn->requested);
	atomic64_sub(buf->granted, &cn->granted);
	atomic64_inc(&cn->free_count);
	/* A slab object's pages are uncharged when its slab gives them back. */
	if (!buf->slab)
		co_uncharge(f, buf->granted);
	mutex_destroy(&buf->lock);
	kmem_cache_free(co_buffer_cachep, buf);
	co_file_put(f);
}

/* Keep @buf's memory until its pages are free of outside references. */
static void co_buffer_hold(struct co_buffer *buf)
{
	WRITE_ONCE(buf->held, true);
	atomic64_add(buf->granted, &co_held_bytes);
	mutex_lock(&co_held_lock);
	/* The module stays while memory is held (see co_held_scan()). */
	if (list_empty(&co_held_list))
		__module_get(THIS_MODULE);
	list_add_tail(&buf->held_link, &co_held_list);
	co_held_delay = CO_HELD_MIN_DELAY;
	mod_delayed_work(system_long_wq, &co_held_work, co_held_delay);
	mutex_unlock(&co_held_lock);
	pr_debug("holding %llu bytes at %pa: pages still referenced\n",
		 buf->granted, &buf->phys);
}

/*
 * Give back the held buffers nobody references any more; look again later,
 * less and less often, while any is left.  The module reference the first
 * hold took goes with the last buffer, after it is finished;
 * co_buffers_exit() waits for this work to return.
 */
static void co_held_scan(struct work_struct *work)
{
	struct co_buffer *buf, *tmp;
	LIST_HEAD(done);
	bool empty;

	mutex_lock(&co_held_lock);
	list_for_each_entry_safe(buf, tmp, &co_held_list, held_link)
		if (!co_buffer_referenced(buf))
			list_move_tail(&buf->held_link, &done);
	empty = list_empty(&co_held_list);
	if (!empty) {
		if (list_empty(&done))
			co_held_delay = min_t(unsigned long, co_held_delay * 2,
					      CO_HELD_MAX_DELAY);
		queue_delayed_work(system_long_wq, &co_held_work,
				   co_held_delay);
	}
	mutex_unlock(&co_held_lock);

	if (list_empty(&done))
		return;
	list_for_each_entry_safe(buf, tmp, &done, held_link) {
		atomic64_sub(buf->granted, &co_held_bytes);
		co_buffer_finish(buf);
	}
	if (empty)
		module_put(THIS_MODULE);
}

static void co_buffer_release(struct kref *ref)
{
	struct co_buffer *buf = container_of(ref, struct co_buffer, ref);

	/*
	 * Nobody can add a mapping without a reference; a walker may still
	 * look at the list (and a revocation empty it) under the lock.
	 */
	if (!list_empty_careful(&buf->maps)) {
		mutex_lock(&buf->lock);
		co_dma_unmap_all(buf);
		mutex_unlock(&buf->lock);
	}
	WARN_ON_ONCE(!list_empty_careful(&buf->attachments));

	if (co_buffer_referenced(buf))
		co_buffer_hold(buf);
	else
		co_buffer_finish(buf);
}

/**
 * co_buffers_init() - set up the registry and the buffer cache
 *
 * Context: module load, before any buffer is allocated.
 * Return: 0 or -ENOMEM.
 */
int co_buffers_init(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		xa_init_flags(&per_cpu_ptr(&co_buffers, cpu)->xa, XA_FLAGS_ALLOC1);
	co_buffer_cachep = KMEM_CACHE(co_buffer, 0);
	return co_buffer_cachep ? 0 : -ENOMEM;
}

/**
 * co_buffers_exit() - wait for the held-memory work at unload
 *
 * Held memory pins the module, so nothing is held any more; the work that
 * finished the last held buffer may still be returning.  Also the undo of
 * co_buffers_init().
 *
 * Context: module load failure or unload.
 */
void co_buffers_exit(void)
{
	struct xarray *xa;
	unsigned int cpu;

	cancel_delayed_work_sync(&co_held_work);
	WARN_ON_ONCE(!list_empty(&co_held_list));
	for_each_possible_cpu(cpu) {
		xa = &per_cpu_ptr(&co_buffers, cpu)->xa;
		WARN_ON_ONCE(!xa_empty(xa));
		xa_destroy(xa);
	}
	kmem_cache_destroy(co_buffer_cachep);
}

/**
 * co_buffer_put() - drop a reference; the last one frees the memory
 * @buf: the buffer
 *
 * Context: process context.
 */
void co_buffer_put(struct co_buffer *buf)
{
	kref_put(&buf->ref, co_buffer_release);
}
EXPORT_SYMBOL_IF_KUNIT(co_buffer_put);

/**
 * co_buffer_kill() - the owner gave the buffer up: remove its DMA mappings
 * @buf: the buffer
 *
 * CPU mappings and dma-bufs keep the memory; devices mapped through MAP
 * lose their addresses now.
 *
 * Context: process context.
 */
void co_buffer_kill(struct co_buffer *buf)
{
	mutex_lock(&buf->lock);
	buf->dead = true;
	co_dma_unmap_all(buf);
	mutex_unlock(&buf->lock);
}
EXPORT_SYMBOL_IF_KUNIT(co_buffer_kill);
