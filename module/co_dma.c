// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: streaming DMA mappings of buffers for devices.
 *
 * Userspace names a device by its bus name (MAP, UNMAP, SYNC, the DEVICE
 * placement policy); in-kernel users pass the device.  Each mapping made
 * through MAP keeps a reference to its device and belongs to the handle:
 * freeing the handle removes it (a device must not keep an IOVA to memory
 * its owner gave up).  Without a translating IOMMU a device reaches only
 * memory below its DMA mask, and MAP refuses buffers above it.
 *
 * A buffer has at most one mapping a device may write (see
 * co_dma_has_writer()), counting dma-buf attachments too, and at most
 * CARVEOUT_MAP_MAX_TO_DEVICE mappings through MAP for DMA_TO_DEVICE: each
 * spends the device's IOVA space (or swiotlb slots) as large as the
 * buffer, so what one owner can take stays proportional to what it holds.
 *
 * Who may map which device through MAP is decided in co_access.c; each
 * mapping records why it was allowed (enum co_map_grant), and
 * co_dma_revoke() removes the mappings made through MAP that lost their
 * grant (the device's driver changed, the device went, the admin's list
 * changed).  In-kernel mappings (the kapi) belong to their driver and are
 * never revoked.
 *
 * An IOMMU domain with a flush queue (lazy invalidation, Debian's default)
 * keeps translating an unmapped address until its IOTLB is flushed, up to
 * some milliseconds later; by then the memory may have a new owner.  Every
 * unmap here and in the exporter is followed by co_dma_flush_lazy().
 *
 * Locks: see carveout.h.  Every function here runs under co_buffer.lock
 * or takes it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/slab.h>

#include <linux/carveout.h>

#include "carveout.h"

/*
 * Serialises streaming maps and unmaps.  dma_unmap_*() gives the IOVA back
 * (at once, or from the flush queue's timer) before the DMA-API debug code
 * drops its record of the mapping; a map on another CPU in between can get
 * the same IOVA, and the first unmap then drops the new mapping's record,
 * whose next sync is reported as memory never mapped.  Innermost: taken
 * under co_buffer.lock, nothing is taken under it.
 */
static DEFINE_MUTEX(co_iova_mutex);

/**
 * co_iova_lock() - enter a streaming map or unmap
 *
 * Context: process context; see co_iova_mutex.
 */
void co_iova_lock(void)
{
	mutex_lock(&co_iova_mutex);
}

/**
 * co_iova_unlock() - leave a streaming map or unmap
 *
 * Context: process context, after co_iova_lock().
 */
void co_iova_unlock(void)
{
	mutex_unlock(&co_iova_mutex);
}

/**
 * co_find_device() - find a device by its name on the PCI or platform bus
 * @name: e.g. "0000:00:03.0", optionally prefixed "pci:" or "platform:"
 *
 * Context: process context.
 * Return: the device with a reference held, or NULL.
 */
struct device *co_find_device(const char *name)
{
	struct device *dev = NULL;

	if (!strncmp(name, "platform:", 9))
		return bus_find_device_by_name(&platform_bus_type, NULL, name + 9);
	if (!strncmp(name, "pci:", 4))
		name += 4;
#ifdef CONFIG_PCI
	dev = bus_find_device_by_name(&pci_bus_type, NULL, name);
#endif
	if (!dev)
		dev = bus_find_device_by_name(&platform_bus_type, NULL, name);
	return dev;
}
EXPORT_SYMBOL_IF_KUNIT(co_find_device);

/**
 * co_dev_translated() - does a device reach memory through a translating
 *	IOMMU?
 * @dev: the device
 *
 * Context: any.
 * Return: true when an IOMMU domain other than identity translates for it.
 */
bool co_dev_translated(struct device *dev)
{
	struct iommu_domain *dom;

	if (!device_iommu_mapped(dev))
		return false;
	dom = iommu_get_domain_for_dev(dev);
	return dom && dom->type != IOMMU_DOMAIN_IDENTITY;
}

/**
 * co_dma_has_writer() - may a device write the buffer already?
 * @buf: the buffer
 *
 * Streaming mappings a device may write must not overlap (the DMA API's
 * cache maintenance cannot serve two writers of one cache line): a buffer
 * has at most one mapping that is not DMA_TO_DEVICE, through MAP or a
 * dma-buf attachment.
 *
 * Context: @buf->lock held.
 * Return: true when a mapping other than DMA_TO_DEVICE exists.
 */
bool co_dma_has_writer(struct co_buffer *buf)
{
	struct co_dmabuf_att *a;
	struct co_dma_map *m;

	lockdep_assert_held(&buf->lock);
	list_for_each_entry(m, &buf->maps, link)
		if (m->dir != DMA_TO_DEVICE)
			return true;
	list_for_each_entry(a, &buf->attachments, link)
		if (a->mapped && a->dir != DMA_TO_DEVICE)
			return true;
	return false;
}

/**
 * co_dma_flush_lazy() - make an unmap take effect now
 * @dev: the device just unmapped
 *
 * Flushes the IOTLB of @dev's domain when it invalidates lazily, so the
 * device can no longer reach what it had mapped.
 *
 * Context: process context.
 */
void co_dma_flush_lazy(struct device *dev)
{
	struct iommu_domain *dom = iommu_get_domain_for_dev(dev);

	if (dom && dom->type == IOMMU_DOMAIN_DMA_FQ)
		iommu_flush_iotlb_all(dom);
}

/* Unmap @m, a mapping of @buf (@buf->lock held). */
static void co_dma_unmap_one(struct co_buffer *buf, struct co_dma_map *m)
{
	co_iova_lock();
	dma_unmap_page_attrs(m->dev, m->addr, buf->granted, m->dir, 0);
	co_iova_unlock();
	co_dma_flush_lazy(m->dev);
}

/**
 * co_dma_unmap_all() - remove every mapping made through MAP
 * @buf: the buffer
 *
 * Context: @buf->lock held.
 */
void co_dma_unmap_all(struct co_buffer *buf)
{
	struct co_dma_map *m, *tmp;

	lockdep_assert_held(&buf->lock);
	list_for_each_entry_safe(m, tmp, &buf->maps, link) {
		co_dma_unmap_one(buf, m);
		list_del(&m->link);
		put_device(m->dev);
		kfree(m);
		co_map_drop(buf->owner);
	}
}

/* TO_DEVICE mappings made through MAP: counted against the cap. */
static unsigned int co_dma_nr_user_readers(struct co_buffer *buf)
{
	struct co_dma_map *m;
	unsigned int n = 0;

	lockdep_assert_held(&buf->lock);
	list_for_each_entry(m, &buf->maps, link)
		if (m->dir == DMA_TO_DEVICE && m->grant != CO_GRANT_KERNEL)
			n++;
	return n;
}

/* May one more mapping in direction @dir be added to @buf? */
static int co_dma_may_add(struct co_buffer *buf, enum dma_data_direction dir,
			  enum co_map_grant grant)
{
	lockdep_assert_held(&buf->lock);
	if (buf->dead)
		return -ENOENT;
	if (dir != DMA_TO_DEVICE && co_dma_has_writer(buf))
		return -EBUSY;
	if (dir == DMA_TO_DEVICE && grant != CO_GRANT_KERNEL &&
	    co_dma_nr_user_readers(buf) >= CARVEOUT_MAP_MAX_TO_DEVICE)
		return -ENOSPC;
	return 0;
}

/**
 * co_dma_revoke() - remove the mappings made through MAP that match
 * @match: true for a mapping to remove; never sees in-kernel mappings
 * @arg: passed to @match
 *
 * Walks every live buffer.  The mappings are removed through the DMA API
 * at once (the device still has the DMA configuration they were made
 * with); their device references are dropped after the walk.  The owner's
 * later UNMAP and SYNC of them find nothing (ENOENT).
 *
 * Context: process context; the caller serialises against new MAPs of
 * the devices @match selects (co_access_lock).
 * Return: how many mappings were removed.
 */
unsigned int co_dma_revoke(co_dma_match_fn match, const void *arg)
{
	struct co_dma_map *m, *tmp;
	struct co_buffer *buf;
	unsigned int n = 0;
	LIST_HEAD(gone);
	u64 pos;

	/* Buffers added meanwhile have no MAP mapping: MAP waits for us. */
	co_buffers_walk_begin();
	for (pos = 0; (buf = co_buffers_find(&pos)); pos++) {
		mutex_lock(&buf->lock);
		list_for_each_entry_safe(m, tmp, &buf->maps, link) {
			if (m->grant == CO_GRANT_KERNEL || !match(m, arg))
				continue;
			co_dma_unmap_one(buf, m);
			list_move_tail(&m->link, &gone);
			n++;
		}
		mutex_unlock(&buf->lock);
	}
	co_buffers_walk_end();
	list_for_each_entry_safe(m, tmp, &gone, link) {
		put_device(m->dev);
		kfree(m);
	}
	return n;
}

/**
 * co_dma_map_grant() - map a buffer for a device (streaming DMA)
 * @buf: the buffer
 * @dev: the device; the mapping keeps a reference to it
 * @dir: DMA direction
 * @grant: why the mapping is allowed: CO_GRANT_KERNEL for the in-kernel
 *	API, else what co_access.c decided for MAP
 * @addr: the address the device uses
 *
 * Context: process context.
 * Return: 0; -EMFILE when the owner holds carveout.max_maps mappings;
 * -ENOENT when the handle was freed; -ERANGE when the device,
 * with no IOMMU translating, cannot reach the buffer (allocate with the
 * DEVICE policy to place it below the device's mask); -EBUSY when @dir
 * lets the device write and another such mapping exists; -ENOSPC when
 * @dir is DMA_TO_DEVICE, @grant is not CO_GRANT_KERNEL and the buffer has
 * CARVEOUT_MAP_MAX_TO_DEVICE such mappings already; -ENOMEM when the
 * mapping failed.
 */
int co_dma_map_grant(struct co_buffer *buf, struct device *dev,
		     enum dma_data_direction dir, enum co_map_grant grant,
		     dma_addr_t *addr)
{
	struct co_dma_map *m;
	int ret;

	if (!co_dev_translated(dev) &&
	    buf->phys + buf->granted - 1 > dma_get_mask(dev)) {
		dev_dbg(dev, "carveout: buffer at %pa above DMA mask %#llx\n",
			&buf->phys, dma_get_mask(dev));
		return -ERANGE;
	}
	ret = co_map_take(buf->owner);
	if (ret)
		return ret;
	m = co_kzalloc(sizeof(*m), co_file_gfp(buf->owner));
	if (!m) {
		co_map_drop(buf->owner);
		return -ENOMEM;
	}
	mutex_lock(&buf->lock);
	ret = co_dma_may_add(buf, dir, grant);
	if (ret)
		goto out;
	co_iova_lock();
	m->addr = dma_map_page_attrs(dev, co_phys_page(buf->phys),
				     offset_in_page(buf->phys), buf->granted,
				     dir, 0);
	co_iova_unlock();
	if (dma_mapping_error(dev, m->addr)) {
		ret = -ENOMEM;
		goto out;
	}
	m->dev = get_device(dev);
	m->dir = dir;
	m->grant = grant;
	list_add_tail(&m->link, &buf->maps);
	*addr = m->addr;
	m = NULL;
out:
	mutex_unlock(&buf->lock);
	if (ret)
		co_map_drop(buf->owner);
	kfree(m);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(co_dma_map_grant);

/**
 * co_dma_map() - map a buffer for a device, for an in-kernel user
 * @buf: the buffer
 * @dev: the device; the mapping keeps a reference to it
 * @dir: DMA direction
 * @addr: the address the device uses
 *
 * The mapping belongs to the caller: it is never revoked (the driver
 * unmaps it before its device goes) and is not counted against
 * CARVEOUT_MAP_MAX_TO_DEVICE.
 *
 * Context: process context.
 * Return: as co_dma_map_grant().
 */
int co_dma_map(struct co_buffer *buf, struct device *dev,
	       enum dma_data_direction dir, dma_addr_t *addr)
{
	return co_dma_map_grant(buf, dev, dir, CO_GRANT_KERNEL, addr);
}
EXPORT_SYMBOL_IF_KUNIT(co_dma_map);

/**
 * co_dma_unmap() - remove one DMA mapping
 * @buf: the buffer
 * @dev: the device
 * @addr: the address MAP returned
 *
 * Context: process context.
 * Return: 0, or -ENOENT when no such mapping exists.
 */
int co_dma_unmap(struct co_buffer *buf, struct device *dev, dma_addr_t addr)
{
	struct co_dma_map *m;

	mutex_lock(&buf->lock);
	list_for_each_entry(m, &buf->maps, link) {
		if (m->dev == dev && m->addr == addr) {
			co_dma_unmap_one(buf, m);
			list_del(&m->link);
			mutex_unlock(&buf->lock);
			put_device(m->dev);
			kfree(m);
			co_map_drop(buf->owner);
			return 0;
		}
	}
	mutex_unlock(&buf->lock);
	return -ENOENT;
}
EXPORT_SYMBOL_IF_KUNIT(co_dma_unmap);

/**
 * co_dma_sync() - hand a byte range to the CPU or to the device(s)
 * @buf: the buffer
 * @for_cpu: true: for the CPU; false: for the device
 * @offset: first byte
 * @len: bytes (validated by the caller)
 * @addr: the mapping to sync, or 0 for every mapping: those made through
 *	MAP in direction @dir, and the mapped dma-buf attachments, each in
 *	the direction its importer chose
 * @dir: direction; must be the mapping's
 *
 * Context: process context.
 * Return: 0; -ENOENT when @addr names no mapping (or there is none);
 * -EINVAL when @dir is not the mapping's direction.
 */
int co_dma_sync(struct co_buffer *buf, bool for_cpu, u64 offset, u64 len,
		dma_addr_t addr, enum dma_data_direction dir)
{
	struct co_dma_map *m;
	int ret = -ENOENT;

	mutex_lock(&buf->lock);
	list_for_each_entry(m, &buf->maps, link) {
		if (addr && m->addr != addr)
			continue;
		if (m->dir != dir) {
			if (addr) {
				ret = -EINVAL;
				break;
			}
			continue;
		}
		if (for_cpu)
			dma_sync_single_range_for_cpu(m->dev, m->addr, offset,
						      len, m->dir);
		else
			dma_sync_single_range_for_device(m->dev, m->addr,
							 offset, len, m->dir);
		ret = 0;
	}
	/* Attachments see the dma-buf, which starts at the buffer's page. */
	if (!addr && co_dmabuf_sync(buf, for_cpu,
				    offset + offset_in_page(buf->phys), len))
		ret = 0;
	mutex_unlock(&buf->lock);
	return ret;
}
