// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: a buffer's life.
 *
 * A buffer is a physically contiguous range of one node's region (see
 * co_place.c for where).  It is zeroed before anyone sees it.
 * Write-combined and uncached buffers are always whole pages, and their
 * kernel mapping is switched to the same memory type while they live, so no
 * page is ever mapped with two types.
 *
 * Ownership (see carveout.h): the owner's handle, every mmap, every
 * exported dma-buf and every in-kernel user hold a reference.  Freeing the
 * handle kills the buffer: its MAP mappings go at once, while CPU mappings
 * and dma-bufs keep the memory until they go.  The last reference gives
 * the memory back and uncharges the owner.
 *
 * Locks: see carveout.h.  co_buffers_lock protects co_buffers, the list of
 * live buffers (for debugfs).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#ifdef CONFIG_X86
#include <asm/set_memory.h>
#endif

#include <linux/carveout.h>

#include "carveout.h"

LIST_HEAD(co_buffers);
/* Protects co_buffers; see carveout.h for the order. */
DEFINE_MUTEX(co_buffers_lock);

/* Zero the buffer through the kernel's linear mapping. */
static int co_buffer_zero(struct co_buffer *buf)
{
	u8 *p = phys_to_virt(buf->phys);
	u64 done, chunk;

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

static int co_set_memtype(struct co_buffer *buf, bool restore)
{
#ifdef CONFIG_X86
	unsigned long va = (unsigned long)phys_to_virt(buf->phys);
	int nr = buf->granted >> PAGE_SHIFT;

	switch (buf->flags & CARVEOUT_ALLOC_CACHE_MASK) {
	case CARVEOUT_ALLOC_WC:
		return restore ? set_memory_wb(va, nr) : set_memory_wc(va, nr);
	case CARVEOUT_ALLOC_UNCACHED:
		return restore ? set_memory_wb(va, nr) : set_memory_uc(va, nr);
	default:
		return 0;
	}
#else
	return (buf->flags & CARVEOUT_ALLOC_CACHE_MASK) ? -EOPNOTSUPP : 0;
#endif
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

	charge = co_use_slab(req) ? co_slab_class_size(req->size) :
				    PAGE_ALIGN(req->size);
	if (!co_charge(f, charge))
		return ERR_PTR(-EDQUOT);

	buf = co_kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf) {
		co_uncharge(f, charge);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&buf->ref);
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->maps);
	INIT_LIST_HEAD(&buf->attachments);
	buf->size = req->size;
	buf->flags = req->flags;
	buf->caller = req->caller;
	buf->caller_sym = req->caller_sym;
	buf->pid = task_tgid_nr(current);
	get_task_comm(buf->comm, current);

	ret = co_place(f, buf, req, limit_pfn);
	if (ret)
		goto fail;
	cn = buf->node;
	if (buf->granted != charge) {
		/* A slab request that fell back to pages. */
		co_uncharge(f, charge);
		charge = 0;
		if (!co_charge(f, buf->granted)) {
			ret = -EDQUOT;
			goto give_back;
		}
		charge = buf->granted;
	}
	ret = co_buffer_zero(buf);
	if (ret)
		goto give_back;
	ret = co_set_memtype(buf, false);
	if (ret)
		goto give_back;

	atomic64_inc(&cn->alloc_count);
	atomic64_inc(&cn->nr_buffers);
	atomic64_add(buf->size, &cn->requested);
	atomic64_add(buf->granted, &cn->granted);

	kref_get(&f->ref);
	buf->owner = f;
	mutex_lock(&co_buffers_lock);
	list_add_tail(&buf->link, &co_buffers);
	mutex_unlock(&co_buffers_lock);
	return buf;

give_back:
	co_place_release(buf);
fail:
	co_uncharge(f, charge);
	mutex_destroy(&buf->lock);
	kfree(buf);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_IF_KUNIT(co_buffer_alloc);

static void co_buffer_release(struct kref *ref)
{
	struct co_buffer *buf = container_of(ref, struct co_buffer, ref);
	struct co_node *cn = buf->node;
	struct co_file *f = buf->owner;

	mutex_lock(&co_buffers_lock);
	list_del(&buf->link);
	mutex_unlock(&co_buffers_lock);

	mutex_lock(&buf->lock);
	co_dma_unmap_all(buf);
	WARN_ON_ONCE(!list_empty(&buf->attachments));
	mutex_unlock(&buf->lock);

	if (co_set_memtype(buf, true))
		pr_err_ratelimited("cannot restore the memory type of %pa; leaking %llu bytes\n",
				   &buf->phys, buf->granted);
	else
		co_place_release(buf);

	atomic64_dec(&cn->nr_buffers);
	atomic64_sub(buf->size, &cn->requested);
	atomic64_sub(buf->granted, &cn->granted);
	atomic64_inc(&cn->free_count);
	co_uncharge(f, buf->granted);
	mutex_destroy(&buf->lock);
	kfree(buf);
	co_file_put(f);
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
