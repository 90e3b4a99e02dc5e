// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: user mappings of buffers.
 *
 * The mmap offset of a buffer encodes its handle (handle << CO_MMAP_SHIFT,
 * so a buffer may span 1 TiB).  Pages go in as real refcounted pages, not
 * a PFN map, so get_user_pages() works on the mapping (O_DIRECT, io_uring
 * fixed buffers) and takes page references that keep the memory from the
 * next owner (co_buffer.c holds a freed buffer back while they last).
 * They go in at mmap, and again from the fault handler after anything
 * zapped them (MADV_DONTNEED, a fork, a partial unmap), as on a shared
 * file mapping.  Each mapping holds a buffer reference through its vm_ops
 * (open on fork and split, close on unmap); the mapping also pins the file
 * and so the module.
 *
 * Locks: see carveout.h; mmap_lock is held around everything here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>

#include <linux/carveout.h>

#include "carveout.h"
#include "co_compat.h"

/* Pages inserted per vm_insert_pages() call. */
#define CO_MMAP_BATCH	32

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
 * the mapping (O_DIRECT, io_uring fixed buffers).  The caller's vm_ops
 * bring pages back with co_buffer_fault(); VM_MIXEDMAP, set here, lets
 * them do so under the mmap read lock.
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
	/* A batch on the stack: no allocation per mmap. */
	struct page *pages[CO_MMAP_BATCH];
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
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP | VM_MIXEDMAP);

	while (done < nr) {
		batch = min_t(unsigned long, nr - done, CO_MMAP_BATCH);
		for (i = 0; i < batch; i++)
			pages[i] = pfn_to_page(pfn + done + i);
		left = batch;
		ret = vm_insert_pages(vma, vma->vm_start + (done << PAGE_SHIFT),
				      pages, &left);
		if (ret)
			break;
		done += batch;
	}
	return ret;
}

/**
 * co_buffer_fault() - bring a page of a buffer back into a mapping
 * @buf: the buffer
 * @vmf: the fault; the low bits of its page offset (CO_MMAP_PGOFF_MASK)
 *	are the page index inside the buffer
 *
 * The page goes in as a real refcounted page, as at mmap.
 *
 * Context: page fault, mmap or VMA read lock held.
 * Return: VM_FAULT_NOPAGE, or VM_FAULT_SIGBUS / VM_FAULT_OOM.
 */
vm_fault_t co_buffer_fault(struct co_buffer *buf, struct vm_fault *vmf)
{
	unsigned long idx = vmf->pgoff & CO_MMAP_PGOFF_MASK;
	int ret;

	if (idx >= co_buffer_span(buf))
		return VM_FAULT_SIGBUS;
	ret = vm_insert_page(vmf->vma, vmf->address,
			     pfn_to_page(PFN_DOWN(buf->phys) + idx));
	switch (ret) {
	case 0:
	case -EBUSY:	/* another thread mapped it first */
		return VM_FAULT_NOPAGE;
	case -ENOMEM:
		return VM_FAULT_OOM;
	default:
		return VM_FAULT_SIGBUS;
	}
}

static vm_fault_t co_vm_fault(struct vm_fault *vmf)
{
	return co_buffer_fault(vmf->vma->vm_private_data, vmf);
}

static void co_vm_open(struct vm_area_struct *vma)
{
	struct co_buffer *buf = vma->vm_private_data;

	co_buffer_get(buf);
	atomic_inc(&buf->nr_mmaps);
}

static void co_vm_close(struct vm_area_struct *vma)
{
	struct co_buffer *buf = vma->vm_private_data;

	atomic_dec(&buf->nr_mmaps);
	co_buffer_put(buf);
}

static const struct vm_operations_struct co_vm_ops = {
	.open	= co_vm_open,
	.close	= co_vm_close,
	.fault	= co_vm_fault,
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
	atomic_inc(&buf->nr_mmaps);
	return 0;
}
