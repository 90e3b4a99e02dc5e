// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: user mappings of buffers.
 *
 * The mmap offset of a buffer encodes its handle (handle << CO_MMAP_SHIFT,
 * so a buffer may span 1 TiB).  Pages go in as real pages, not a PFN map,
 * so get_user_pages() works on the mapping (O_DIRECT, io_uring fixed
 * buffers).  Each mapping holds a buffer reference through its vm_ops
 * (open on fork and split, close on unmap); the mapping also pins the file
 * and so the module.
 *
 * Locks: see carveout.h; mmap_lock is held around everything here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/slab.h>

#include <linux/carveout.h>

#include "carveout.h"
#include "co_compat.h"

/**
 * co_buffer_span() - pages a buffer spans
 * @buf: the buffer (a sub-page object spans its page)
 *
 * Context: any.
 * Return: the number of pages its mapping covers.
 */
unsigned long co_buffer_span(const struct co_buffer *buf)
{
	return PFN_UP(buf->phys + buf->granted) - PFN_DOWN(buf->phys);
}

/**
 * co_buffer_mmap() - insert a buffer's pages into a user mapping
 * @buf: the buffer
 * @vma: the mapping
 * @pgoff: page offset inside the buffer of the mapping's first page
 *
 * Pages go in as real pages (not a PFN map), so get_user_pages() works on
 * the mapping (O_DIRECT, io_uring fixed buffers).
 *
 * Context: process context, mmap lock held.
 * Return: 0, -EINVAL for a private mapping or a bounds violation, or the
 * error of vm_insert_pages().
 */
int co_buffer_mmap(struct co_buffer *buf, struct vm_area_struct *vma,
		   unsigned long pgoff)
{
	unsigned long span = co_buffer_span(buf);
	unsigned long nr = vma_pages(vma), done = 0, batch, left, i;
	unsigned long pfn = PFN_DOWN(buf->phys) + pgoff;
	struct page **pages;
	int ret = 0;

	/* Shared only (read-only shared mappings clear VM_SHARED). */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (pgoff >= span || nr > span - pgoff)
		return -EINVAL;
	switch (buf->flags & CARVEOUT_ALLOC_CACHE_MASK) {
	case CARVEOUT_ALLOC_WC:
		vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
		break;
	case CARVEOUT_ALLOC_UNCACHED:
		vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
		break;
	}
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);

	pages = kmalloc_array(min(nr, 512UL), sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	while (done < nr) {
		batch = min(nr - done, 512UL);
		for (i = 0; i < batch; i++)
			pages[i] = pfn_to_page(pfn + done + i);
		left = batch;
		ret = vm_insert_pages(vma, vma->vm_start + (done << PAGE_SHIFT),
				      pages, &left);
		if (ret)
			break;
		done += batch;
	}
	kfree(pages);
	return ret;
}

static void co_vm_open(struct vm_area_struct *vma)
{
	struct co_buffer *buf = vma->vm_private_data;

	co_buffer_get(buf);
	mutex_lock(&buf->lock);
	buf->nr_mmaps++;
	mutex_unlock(&buf->lock);
}

static void co_vm_close(struct vm_area_struct *vma)
{
	struct co_buffer *buf = vma->vm_private_data;

	mutex_lock(&buf->lock);
	buf->nr_mmaps--;
	mutex_unlock(&buf->lock);
	co_buffer_put(buf);
}

static const struct vm_operations_struct co_vm_ops = {
	.open	= co_vm_open,
	.close	= co_vm_close,
};

/**
 * co_mmap_handle() - map the buffer a mapping's offset names
 * @f: the owner whose handle the offset encodes
 * @vma: the new mapping
 *
 * Context: process context, mmap lock held.
 * Return: 0, -EINVAL for an offset that names no buffer or a bad range.
 */
int co_mmap_handle(struct co_file *f, struct vm_area_struct *vma)
{
	const unsigned int shift = CO_MMAP_SHIFT - PAGE_SHIFT;
	unsigned long handle = vma->vm_pgoff >> shift;
	struct co_buffer *buf;
	int ret;

	if (handle > CO_HANDLE_MAX)
		return -EINVAL;
	buf = co_file_lookup(f, handle);
	if (!buf)
		return -EINVAL;
	ret = co_buffer_mmap(buf, vma, vma->vm_pgoff & ((1UL << shift) - 1));
	if (ret) {
		co_buffer_put(buf);
		return ret;
	}
	/* The lookup reference now belongs to the mapping. */
	vma->vm_private_data = buf;
	vma->vm_ops = &co_vm_ops;
	mutex_lock(&buf->lock);
	buf->nr_mmaps++;
	mutex_unlock(&buf->lock);
	return 0;
}
