/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * carveout: physically contiguous DMA buffers from per-node reserved regions.
 *
 * Userspace opens /dev/carveout and issues the ioctls below.  Every argument
 * structure starts with its own size (so it can grow: the kernel reads it
 * with copy_struct_from_user() semantics, zero-filling fields an older
 * caller does not know and rejecting non-zero fields it does not know) and a
 * flags word.  Unknown flag bits, non-zero reserved fields and non-zero
 * output fields on input are rejected with EINVAL; unknown commands with
 * ENOTTY.  Pointers travel as __u64.
 *
 * Buffers are named by a handle that is private to the open file.  A buffer
 * is mapped with mmap(2) at the offset CARVEOUT_IOC_ALLOC returned.
 */
#ifndef _UAPI_LINUX_CARVEOUT_H
#define _UAPI_LINUX_CARVEOUT_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define CARVEOUT_IOC_MAGIC	0xC5

/* Longest device name MAP and the DEVICE policy accept, with its NUL. */
#define CARVEOUT_DEV_NAME_LEN	64

/* Capabilities reported by CARVEOUT_IOC_INFO. */
#define CARVEOUT_CAP_NUMA	0x1ULL	/* per-node regions, policies */
#define CARVEOUT_CAP_SLAB	0x2ULL	/* sub-page buffers */
#define CARVEOUT_CAP_DMA_MAP	0x4ULL	/* MAP/UNMAP/SYNC */
#define CARVEOUT_CAP_DMABUF	0x8ULL	/* EXPORT */
#define CARVEOUT_CAP_WC		0x10ULL	/* write-combine mmap */
#define CARVEOUT_CAP_UNCACHED	0x20ULL	/* uncached mmap */
#define CARVEOUT_CAP_PHYS	0x40ULL	/* caller may see physical addresses */

/**
 * struct carveout_node_info - one node's region, filled by CARVEOUT_IOC_INFO
 * @node: NUMA node id
 * @nr_pieces: contiguous pieces the region is made of
 * @region_bytes: bytes reserved on the node
 * @free_bytes: bytes not handed out
 * @largest_free: largest contiguous free block in bytes
 */
struct carveout_node_info {
	__u32 node;
	__u32 nr_pieces;
	__u64 region_bytes;
	__u64 free_bytes;
	__u64 largest_free;
};

/**
 * struct carveout_info - CARVEOUT_IOC_INFO
 * @size: sizeof(struct carveout_info) as the caller knows it
 * @flags: must be 0
 * @caps: out, CARVEOUT_CAP_* bits
 * @page_size: out, the page size buffers are rounded to
 * @nr_nodes: out, number of nodes with a region
 * @nodes_cap: in, entries @nodes_ptr has room for (0: do not fill)
 * @slab_max: out, largest size served from sub-page caches
 * @nodes_ptr: in, user pointer to an array of struct carveout_node_info
 * @total_bytes: out, bytes reserved over all nodes
 * @max_alloc: out, largest single buffer possible now
 * @file_limit: out, bytes one open file may hold (0: no limit)
 * @user_limit: out, bytes one user may hold (0: no limit)
 */
struct carveout_info {
	__u32 size;
	__u32 flags;
	__u64 caps;
	__u32 page_size;
	__u32 nr_nodes;
	__u32 nodes_cap;
	__u32 slab_max;
	__u64 nodes_ptr;
	__u64 total_bytes;
	__u64 max_alloc;
	__u64 file_limit;
	__u64 user_limit;
};

/* Allocation policies. */
#define CARVEOUT_POLICY_LOCAL		0	/* calling CPU's node, then nearest */
#define CARVEOUT_POLICY_STRICT		1	/* @node only */
#define CARVEOUT_POLICY_PREFERRED	2	/* @node, then by distance */
#define CARVEOUT_POLICY_DEVICE		3	/* @device's node, then nearest */
#define CARVEOUT_POLICY_MAX		CARVEOUT_POLICY_DEVICE

/* Cache modes for mmap and kernel access (CARVEOUT_ALLOC_CACHE_MASK). */
#define CARVEOUT_ALLOC_CACHED		0x0
#define CARVEOUT_ALLOC_WC		0x1
#define CARVEOUT_ALLOC_UNCACHED		0x2
#define CARVEOUT_ALLOC_CACHE_MASK	0x3
/* Round sub-page requests up to whole pages (no slab). */
#define CARVEOUT_ALLOC_PAGES		0x4
#define CARVEOUT_ALLOC_FLAGS		(CARVEOUT_ALLOC_CACHE_MASK | \
					 CARVEOUT_ALLOC_PAGES)

/**
 * struct carveout_alloc - CARVEOUT_IOC_ALLOC
 * @size: sizeof(struct carveout_alloc) as the caller knows it
 * @flags: CARVEOUT_ALLOC_* bits
 * @length: in, bytes wanted (> 0)
 * @align: in, alignment in bytes, 0 or a power of two (at most the
 *	largest block of a region)
 * @node: in, node for the STRICT and PREFERRED policies
 * @policy: in, CARVEOUT_POLICY_*
 * @device: in, device name for the DEVICE policy (e.g. "0000:00:03.0")
 * @handle: out, the buffer's handle in this file
 * @out_node: out, node the buffer sits on
 * @granted: out, bytes actually reserved for the buffer
 * @mmap_offset: out, offset to pass to mmap(2)
 * @phys_addr: out, physical address (CAP_SYS_ADMIN only, else 0)
 * @page_offset: out, where the buffer starts in its first mapped page
 *	(non-zero only for sub-page buffers)
 * @reserved: must be 0
 */
struct carveout_alloc {
	__u32 size;
	__u32 flags;
	__u64 length;
	__u64 align;
	__s32 node;
	__u32 policy;
	char device[CARVEOUT_DEV_NAME_LEN];
	__u32 handle;
	__u32 out_node;
	__u64 granted;
	__u64 mmap_offset;
	__u64 phys_addr;
	__u32 page_offset;
	__u32 reserved;
};

/**
 * struct carveout_handle - CARVEOUT_IOC_FREE
 * @size: sizeof(struct carveout_handle)
 * @flags: must be 0
 * @handle: in, the buffer to drop from this file
 * @reserved: must be 0
 */
struct carveout_handle {
	__u32 size;
	__u32 flags;
	__u32 handle;
	__u32 reserved;
};

/* DMA directions, as enum dma_data_direction. */
#define CARVEOUT_DMA_BIDIRECTIONAL	0
#define CARVEOUT_DMA_TO_DEVICE		1
#define CARVEOUT_DMA_FROM_DEVICE	2

/**
 * struct carveout_map - CARVEOUT_IOC_MAP and CARVEOUT_IOC_UNMAP
 * @size: sizeof(struct carveout_map)
 * @flags: must be 0
 * @handle: in, the buffer
 * @direction: in, CARVEOUT_DMA_*
 * @device: in, device name on its bus (e.g. PCI "0000:00:03.0")
 * @dma_addr: out (MAP), the address the device uses (an IOVA when an
 *	IOMMU translates); in (UNMAP), which mapping to remove
 * @dma_mask: out (MAP), the device's DMA mask
 */
struct carveout_map {
	__u32 size;
	__u32 flags;
	__u32 handle;
	__u32 direction;
	char device[CARVEOUT_DEV_NAME_LEN];
	__u64 dma_addr;
	__u64 dma_mask;
};

#define CARVEOUT_SYNC_FOR_CPU		0x1
#define CARVEOUT_SYNC_FOR_DEVICE	0x2
#define CARVEOUT_SYNC_FLAGS		(CARVEOUT_SYNC_FOR_CPU | \
					 CARVEOUT_SYNC_FOR_DEVICE)

/**
 * struct carveout_sync - CARVEOUT_IOC_SYNC
 * @size: sizeof(struct carveout_sync)
 * @flags: exactly one of CARVEOUT_SYNC_FOR_CPU, CARVEOUT_SYNC_FOR_DEVICE
 * @handle: in, the buffer
 * @direction: in, CARVEOUT_DMA_*
 * @offset: in, first byte of the range
 * @length: in, bytes in the range (0: to the end of the buffer)
 * @dma_addr: in, the mapping to sync (0: every mapping of the buffer)
 */
struct carveout_sync {
	__u32 size;
	__u32 flags;
	__u32 handle;
	__u32 direction;
	__u64 offset;
	__u64 length;
	__u64 dma_addr;
};

#define CARVEOUT_EXPORT_FLAGS		(0x80000 | 0x2)	/* O_CLOEXEC | O_RDWR */

/**
 * struct carveout_export - CARVEOUT_IOC_EXPORT
 * @size: sizeof(struct carveout_export)
 * @flags: O_CLOEXEC and O_RDWR only (CARVEOUT_EXPORT_FLAGS)
 * @handle: in, the buffer
 * @fd: out, the dma-buf file descriptor
 */
struct carveout_export {
	__u32 size;
	__u32 flags;
	__u32 handle;
	__s32 fd;
};

/**
 * struct carveout_stats - CARVEOUT_IOC_STATS, open to any caller
 * @size: sizeof(struct carveout_stats)
 * @flags: must be 0
 * @node: in, node to report
 * @nr_orders: out, entries filled in @free_blocks
 * @region_bytes: out, bytes reserved on the node
 * @free_bytes: out, bytes free on the node
 * @largest_free: out, largest free block in bytes
 * @requested_bytes: out, bytes callers asked for (live buffers)
 * @granted_bytes: out, bytes reserved for them
 * @nr_buffers: out, live buffers on the node
 * @alloc_count: out, successful allocations since load
 * @free_count: out, frees since load
 * @fail_count: out, failed allocations since load
 * @numa_hit: out, allocations that got the node they wanted (here)
 * @numa_miss: out, allocations served here that wanted another node
 * @numa_foreign: out, allocations that wanted this node, served elsewhere
 * @local_node: out, served here for a task running on this node
 * @other_node: out, served here for a task running on another node
 * @free_blocks: out, free blocks per order (index = order)
 */
struct carveout_stats {
	__u32 size;
	__u32 flags;
	__u32 node;
	__u32 nr_orders;
	__u64 region_bytes;
	__u64 free_bytes;
	__u64 largest_free;
	__u64 requested_bytes;
	__u64 granted_bytes;
	__u64 nr_buffers;
	__u64 alloc_count;
	__u64 free_count;
	__u64 fail_count;
	__u64 numa_hit;
	__u64 numa_miss;
	__u64 numa_foreign;
	__u64 local_node;
	__u64 other_node;
	__u64 free_blocks[40];
};

#define CARVEOUT_IOC_INFO	_IOWR(CARVEOUT_IOC_MAGIC, 0x00, struct carveout_info)
#define CARVEOUT_IOC_ALLOC	_IOWR(CARVEOUT_IOC_MAGIC, 0x01, struct carveout_alloc)
#define CARVEOUT_IOC_FREE	_IOW(CARVEOUT_IOC_MAGIC, 0x02, struct carveout_handle)
#define CARVEOUT_IOC_MAP	_IOWR(CARVEOUT_IOC_MAGIC, 0x03, struct carveout_map)
#define CARVEOUT_IOC_UNMAP	_IOW(CARVEOUT_IOC_MAGIC, 0x04, struct carveout_map)
#define CARVEOUT_IOC_SYNC	_IOW(CARVEOUT_IOC_MAGIC, 0x05, struct carveout_sync)
#define CARVEOUT_IOC_EXPORT	_IOWR(CARVEOUT_IOC_MAGIC, 0x06, struct carveout_export)
#define CARVEOUT_IOC_STATS	_IOWR(CARVEOUT_IOC_MAGIC, 0x07, struct carveout_stats)

#endif /* _UAPI_LINUX_CARVEOUT_H */
