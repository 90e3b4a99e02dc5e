/* SPDX-License-Identifier: GPL-2.0 */
/*
 * carveout: the in-kernel API, for drivers that want contiguous buffers
 * from carveout's per-node regions.  Build against it with
 * -I<carveout>/module and KBUILD_EXTRA_SYMBOLS=<carveout>/Module.symvers.
 *
 * Every allocation records its call site; /sys/kernel/debug/carveout/callers
 * lists live in-kernel buffers by call site, so a client that unloads with
 * buffers outstanding shows up there.
 */
#ifndef _CARVEOUT_KAPI_H
#define _CARVEOUT_KAPI_H

#include <linux/dma-direction.h>
#include <linux/types.h>

struct carveout_buf;
struct device;
struct dma_buf;

struct carveout_buf *carveout_alloc(size_t size, size_t align, int nid,
				    u32 policy, u32 flags);
void carveout_free(struct carveout_buf *buf);
phys_addr_t carveout_phys(const struct carveout_buf *buf);
void *carveout_vaddr(const struct carveout_buf *buf);
size_t carveout_size(const struct carveout_buf *buf);
int carveout_nid(const struct carveout_buf *buf);
int carveout_map(struct carveout_buf *buf, struct device *dev,
		 enum dma_data_direction dir, dma_addr_t *addr);
int carveout_unmap(struct carveout_buf *buf, struct device *dev,
		   dma_addr_t addr);
struct dma_buf *carveout_export(struct carveout_buf *buf, int flags);

#endif /* _CARVEOUT_KAPI_H */
