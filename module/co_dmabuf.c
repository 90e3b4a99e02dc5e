// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: the dma-buf exporter.
 *
 * An exported buffer is one dma-buf; the dma-buf holds a buffer reference
 * until its release.  Each attachment gets the buffer as a table of
 * contiguous chunks, mapped for the importer on map_dma_buf; a mapping the
 * importer may write counts under the one-writer rule (co_dma.c).  CPU
 * access through the dma-buf (DMA_BUF_IOCTL_SYNC) syncs every mapped
 * attachment whole; carveout's SYNC syncs a byte range of them
 * (co_dmabuf_sync()).
 *
 * Locks: see carveout.h; attachments are protected by co_buffer.lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "carveout.h"

/* A scatterlist entry holds at most UINT_MAX bytes: 1 GiB at most. */
#define CO_SG_CHUNK	SZ_1G

/*
 * Length of the segment at @pos (at most @left bytes) that @dev accepts:
 * no longer than its max_seg_size, not across its segment boundary, and,
 * when more follows, whole pages where the limits allow.
 */
static u64 co_sg_seg_len(struct device *dev, phys_addr_t pos, u64 left)
{
	unsigned long mask = dma_get_seg_boundary(dev);
	u64 len = min3(left, (u64)dma_get_max_seg_size(dev), (u64)CO_SG_CHUNK);

	/* Bytes up to the next boundary (none when the mask is all ones). */
	if (mask != ULONG_MAX)
		len = min_t(u64, len, ((pos | mask) + 1) - pos);
	if (len < left && len > PAGE_SIZE)
		len = round_down(pos + len, PAGE_SIZE) - pos;
	return len;
}

/**
 * co_dmabuf_build_sgt() - describe a range as segments a device accepts
 * @sgt: the table to allocate and fill
 * @dev: the importing device (its max_seg_size and segment boundary)
 * @start: first byte, physical
 * @size: bytes
 *
 * The segments follow one another in address order and together cover the
 * range.  The DMA API can merge them again within the same limits.
 *
 * Context: process context.
 * Return: 0 or -ENOMEM.
 */
VISIBLE_IF_KUNIT int co_dmabuf_build_sgt(struct sg_table *sgt,
					 struct device *dev, phys_addr_t start,
					 u64 size)
{
	unsigned int nents = 0, i;
	struct scatterlist *sg;
	u64 done, len;
	int ret;

	for (done = 0; done < size; done += len, nents++)
		len = co_sg_seg_len(dev, start + done, size - done);
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL_ACCOUNT);
	if (ret)
		return ret;
	done = 0;
	for_each_sgtable_sg(sgt, sg, i) {
		len = co_sg_seg_len(dev, start + done, size - done);
		sg_set_page(sg, co_phys_page(start + done), len,
			    offset_in_page(start + done));
		done += len;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(co_dmabuf_build_sgt);

static int co_dmabuf_attach(struct dma_buf *dmabuf,
			    struct dma_buf_attachment *att)
{
	struct co_buffer *buf = dmabuf->priv;
	struct co_dmabuf_att *a;
	int ret;

	a = co_kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a)
		return -ENOMEM;
	/* The dma-buf's pages (see co_buffer_export()). */
	ret = co_dmabuf_build_sgt(&a->sgt, att->dev,
				  PFN_PHYS(PFN_DOWN(buf->phys)), dmabuf->size);
	if (ret) {
		kfree(a);
		return ret;
	}
	a->dev = att->dev;
	att->priv = a;
	mutex_lock(&buf->lock);
	list_add_tail(&a->link, &buf->attachments);
	mutex_unlock(&buf->lock);
	return 0;
}

static void co_dmabuf_detach(struct dma_buf *dmabuf,
			     struct dma_buf_attachment *att)
{
	struct co_buffer *buf = dmabuf->priv;
	struct co_dmabuf_att *a = att->priv;

	mutex_lock(&buf->lock);
	list_del(&a->link);
	mutex_unlock(&buf->lock);
	sg_free_table(&a->sgt);
	kfree(a);
}

static struct sg_table *co_dmabuf_map(struct dma_buf_attachment *att,
				      enum dma_data_direction dir)
{
	struct co_buffer *buf = att->dmabuf->priv;
	struct co_dmabuf_att *a = att->priv;
	int ret;

	mutex_lock(&buf->lock);
	if (dir != DMA_TO_DEVICE && co_dma_has_writer(buf)) {
		mutex_unlock(&buf->lock);
		return ERR_PTR(-EBUSY);
	}
	co_iova_lock();
	ret = dma_map_sgtable(att->dev, &a->sgt, dir, 0);
	co_iova_unlock();
	if (!ret) {
		a->mapped = true;
		a->dir = dir;
		a->cur = a->sgt.sgl;
		a->cur_i = 0;
		a->cur_start = 0;
	}
	mutex_unlock(&buf->lock);
	return ret ? ERR_PTR(ret) : &a->sgt;
}

static void co_dmabuf_unmap(struct dma_buf_attachment *att,
			    struct sg_table *sgt, enum dma_data_direction dir)
{
	struct co_buffer *buf = att->dmabuf->priv;
	struct co_dmabuf_att *a = att->priv;

	mutex_lock(&buf->lock);
	a->mapped = false;
	mutex_unlock(&buf->lock);
	co_iova_lock();
	dma_unmap_sgtable(att->dev, sgt, dir, 0);
	co_iova_unlock();
	co_dma_flush_lazy(att->dev);
}

/*
 * Syncs bytes [@off, @off + @len) of the dma-buf in @a's mapping: the
 * DMA segments that hold them, each over its part of the range.  The walk
 * starts at the segment where the previous one stopped (@a->cur), or at
 * the first when the range lies before it: a CPU going through a buffer
 * in order pays one segment per sync, not a walk of the table.
 */
static void co_dmabuf_sync_range(struct co_dmabuf_att *a, bool for_cpu,
				 u64 off, u64 len)
{
	struct scatterlist *sg = a->cur;
	unsigned int i = a->cur_i;
	u64 start = a->cur_start, seg, n;

	if (off < start) {
		sg = a->sgt.sgl;
		i = 0;
		start = 0;
	}
	for (; i < a->sgt.nents; i++, start += seg, sg = sg_next(sg)) {
		seg = sg_dma_len(sg);
		if (off >= start + seg)
			continue;
		a->cur = sg;
		a->cur_i = i;
		a->cur_start = start;
		n = min_t(u64, len, start + seg - off);
		if (for_cpu)
			dma_sync_single_range_for_cpu(a->dev, sg_dma_address(sg),
						      off - start, n, a->dir);
		else
			dma_sync_single_range_for_device(a->dev,
							 sg_dma_address(sg),
							 off - start, n, a->dir);
		off += n;
		len -= n;
		if (!len)
			break;
	}
}

/**
 * co_dmabuf_sync() - hand bytes of an exported buffer to the CPU or to the
 *	importers
 * @buf: the buffer
 * @for_cpu: true: for the CPU; false: for the devices
 * @offset: first byte, in the dma-buf (the buffer starts at its page
 *	offset in it)
 * @len: bytes, within the dma-buf
 *
 * Syncs every mapped attachment, each in the direction it was mapped
 * with: the whole table at once when the range is the whole dma-buf (CPU
 * access through the dma-buf), else only the segments the range covers
 * (carveout's SYNC), so a small range costs as little as the DMA API
 * allows whatever the buffer's size.
 *
 * Context: @buf->lock held.
 * Return: how many attachments were synced.
 */
unsigned int co_dmabuf_sync(struct co_buffer *buf, bool for_cpu, u64 offset,
			    u64 len)
{
	u64 size = (u64)co_buffer_span(buf) << PAGE_SHIFT;
	struct co_dmabuf_att *a;
	unsigned int n = 0;

	lockdep_assert_held(&buf->lock);
	list_for_each_entry(a, &buf->attachments, link) {
		if (!a->mapped)
			continue;
		n++;
		if (offset || len != size)
			co_dmabuf_sync_range(a, for_cpu, offset, len);
		else if (for_cpu)
			dma_sync_sgtable_for_cpu(a->dev, &a->sgt, a->dir);
		else
			dma_sync_sgtable_for_device(a->dev, &a->sgt, a->dir);
	}
	return n;
}

static int co_dmabuf_cpu_access(struct dma_buf *dmabuf, bool begin)
{
	struct co_buffer *buf = dmabuf->priv;

	mutex_lock(&buf->lock);
	co_dmabuf_sync(buf, begin, 0, dmabuf->size);
	mutex_unlock(&buf->lock);
	return 0;
}

static int co_dmabuf_begin_cpu(struct dma_buf *dmabuf,
			       enum dma_data_direction dir)
{
	return co_dmabuf_cpu_access(dmabuf, true);
}

static int co_dmabuf_end_cpu(struct dma_buf *dmabuf,
			     enum dma_data_direction dir)
{
	return co_dmabuf_cpu_access(dmabuf, false);
}

static vm_fault_t co_dmabuf_fault(struct vm_fault *vmf)
{
	return co_buffer_fault(vmf->vma->vm_private_data, vmf);
}

/* The dma-buf file, which the mapping holds, holds the buffer. */
static const struct vm_operations_struct co_dmabuf_vm_ops = {
	.fault	= co_dmabuf_fault,
};

static int co_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct co_buffer *buf = dmabuf->priv;
	int ret;

	/* A sub-page object shares its page with its owner's other objects. */
	if (buf->slab)
		return -EINVAL;
	ret = co_buffer_mmap(buf, vma, vma->vm_pgoff);
	if (ret)
		return ret;
	vma->vm_private_data = buf;
	vma->vm_ops = &co_dmabuf_vm_ops;
	return 0;
}

/* The dma-buf starts at the first page the buffer spans. */
static int co_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct co_buffer *buf = dmabuf->priv;

	iosys_map_set_vaddr(map, phys_to_virt(PFN_PHYS(PFN_DOWN(buf->phys))));
	return 0;
}

static void co_dmabuf_release(struct dma_buf *dmabuf)
{
	co_buffer_put(dmabuf->priv);
}

static const struct dma_buf_ops co_dmabuf_ops = {
	.attach			= co_dmabuf_attach,
	.detach			= co_dmabuf_detach,
	.map_dma_buf		= co_dmabuf_map,
	.unmap_dma_buf		= co_dmabuf_unmap,
	.begin_cpu_access	= co_dmabuf_begin_cpu,
	.end_cpu_access		= co_dmabuf_end_cpu,
	.mmap			= co_dmabuf_mmap,
	.vmap			= co_dmabuf_vmap,
	.release		= co_dmabuf_release,
};

/**
 * co_buffer_export() - export a buffer as a dma-buf
 * @buf: the buffer; the dma-buf takes a reference
 * @flags: O_RDWR / O_CLOEXEC for the dma-buf file
 *
 * Context: process context.
 * Return: the dma-buf (the caller installs its fd), or an ERR_PTR.
 */
struct dma_buf *co_buffer_export(struct co_buffer *buf, int flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp);
	struct dma_buf *dmabuf;

	exp.owner = THIS_MODULE;
	exp.ops = &co_dmabuf_ops;
	/*
	 * Whole pages, a sub-page buffer too (importers such as i915 and xe
	 * require it): its page holds only zeros and the owner's objects
	 * (co_place.c), and the buffer sits at its page offset in the
	 * dma-buf.
	 */
	exp.size = co_buffer_span(buf) << PAGE_SHIFT;
	exp.flags = flags;
	exp.priv = buf;
	if (co_should_fail(exp.size))
		return ERR_PTR(-ENOMEM);
	co_buffer_get(buf);
	dmabuf = dma_buf_export(&exp);
	if (IS_ERR(dmabuf))
		co_buffer_put(buf);
	return dmabuf;
}
