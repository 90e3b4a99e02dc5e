/* SPDX-License-Identifier: GPL-2.0 */
/*
 * carveout's in-kernel API, for drivers that want physically contiguous,
 * zeroed buffers from carveout's per-node regions.
 *
 * A client module builds with -I<carveout>/module/include and
 * -I<carveout>/uapi (for the CARVEOUT_POLICY_* and CARVEOUT_ALLOC_* values)
 * and KBUILD_EXTRA_SYMBOLS=<carveout build>/Module.symvers, and includes
 * <carveout/kapi.h>.  Nothing else of carveout's is on its include path.
 *
 * Every allocation records its call site; /sys/kernel/debug/carveout/callers
 * lists live in-kernel buffers by call site, so a client that unloads with
 * buffers outstanding shows up there by name.
 */
#ifndef _CARVEOUT_KAPI_H
#define _CARVEOUT_KAPI_H

#include <linux/dma-direction.h>
#include <linux/types.h>

#include <linux/carveout.h>

struct carveout_kbuf;
struct device;
struct dma_buf;

struct carveout_kbuf *carveout_kbuf_alloc(size_t size, size_t align, int nid,
					  u32 policy, u32 flags);
void carveout_kbuf_free(struct carveout_kbuf *buf);
phys_addr_t carveout_kbuf_phys(const struct carveout_kbuf *buf);
void *carveout_kbuf_vaddr(const struct carveout_kbuf *buf);
size_t carveout_kbuf_size(const struct carveout_kbuf *buf);
int carveout_kbuf_nid(const struct carveout_kbuf *buf);
int carveout_kbuf_map(struct carveout_kbuf *buf, struct device *dev,
		      enum dma_data_direction dir, dma_addr_t *addr);
int carveout_kbuf_unmap(struct carveout_kbuf *buf, struct device *dev,
			dma_addr_t addr);
struct dma_buf *carveout_kbuf_export(struct carveout_kbuf *buf, int flags);

/* A node's figures, the same as CARVEOUT_IOC_STATS reports. */
int carveout_node_stats(int nid, struct carveout_stats *st);

/* A buffer of the calling task's (charged to its user), as a dma-buf. */
struct dma_buf *carveout_dmabuf_alloc(size_t size, int nid, u32 policy,
				      u32 fd_flags);

/*
 * A driver that lets userspace drive its device (BAR mappings, command
 * queues fed with DMA addresses) opts the device in, so users of
 * /dev/carveout may MAP buffers for it without CAP_SYS_ADMIN.  Call it
 * from probe; the opt-in ends when the driver unbinds or the device goes
 * (carveout then removes the mappings made under it, before remove() runs),
 * or at carveout_dev_disallow_map().  It counts only for a device an IOMMU
 * translates: elsewhere MAP would reveal physical addresses, and only
 * CAP_SYS_ADMIN or the admin's map_allow list permit it.  Using these
 * functions makes the driver depend on carveout.ko.
 */
int carveout_dev_allow_map(struct device *dev);
void carveout_dev_disallow_map(struct device *dev);

#endif /* _CARVEOUT_KAPI_H */
