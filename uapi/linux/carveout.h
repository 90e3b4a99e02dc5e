/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * carveout: physically contiguous DMA buffers from per-node reserved regions.
 *
 * Userspace opens /dev/carveout and issues the ioctls below.  Buffers are
 * named by a handle that is private to the open file, and mapped with
 * mmap(2) at the offset CARVEOUT_IOC_ALLOC returned.  Pointers travel as
 * __u64.
 *
 * How the argument structures grow (the iommufd scheme):
 *
 * - The ioctl number names the command only (_IO(CARVEOUT_IOC_MAGIC, nr)):
 *   it does not encode a size, so a structure can grow without a new
 *   number.
 * - Every argument structure starts with "__u32 size": the number of bytes
 *   the caller passes.  Each command has a minimum, CARVEOUT_<CMD>_MIN_SIZE
 *   below: the structure as the first ABI version defined it.  Fields are
 *   only ever added at the end.
 * - size below the minimum: EINVAL.  size larger than the kernel knows:
 *   the bytes the kernel does not know must be zero (E2BIG otherwise), so a
 *   newer caller runs on an older kernel as long as it asks for nothing
 *   new.  size smaller than the kernel knows (an older caller): the fields
 *   past size read as zero, which always means the default.
 * - Results are written back only up to min(size, the kernel's size); the
 *   size field itself is never changed.
 * - Unknown flag bits, non-zero reserved fields and non-zero output fields
 *   on input: EINVAL.  Unknown commands: ENOTTY.
 * - New features are found through CARVEOUT_IOC_INFO's capability bits.
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
#define CARVEOUT_CAP_FREEMAP	0x80ULL	/* FREEMAP and SLABINFO */
#define CARVEOUT_CAP_LIMITS	0x100ULL	/* INFO: reserve, caps, caller's limits */
#define CARVEOUT_CAP_DMA_HEAP	0x200ULL	/* heaps in /dev/dma_heap */
#define CARVEOUT_CAP_PREZERO	0x400ULL	/* background zeroing, STATS clean_bytes */
#define CARVEOUT_CAP_ELASTIC	0x800ULL	/* RESIZE; growth in INFO, STATS */

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
 * @file_bytes: out, bytes this open file holds now: its whole-page
 *	buffers and every page of its sub-page caches (a live sub-page buffer
 *	keeps its whole slab; cached objects and the empty-slab reserve
 *	count too), held memory included
 * @user_bytes: out, bytes the caller's user holds now, over all files
 * @eff_user_limit: out, the per-user limit that applies to this file:
 *	@user_limit when set, else, for a file opened without CAP_SYS_ADMIN,
 *	the carveout.user_share percent of @total_bytes (0: none)
 * @reserve_bytes: out, bytes of all regions (carveout.reserve percent of
 *	each node) that only files opened with CAP_SYS_ADMIN and in-kernel
 *	clients may take; for other files a node is full (ENOMEM) when its
 *	free bytes would drop below its share
 * @max_handles: out, live handles one file may hold (0: no cap); ALLOC
 *	past it fails with EMFILE
 * @nr_handles: out, live handles this file holds
 * @max_maps: out, DMA mappings made through MAP one file may hold (0: no
 *	cap); MAP past it fails with EMFILE
 * @nr_maps: out, DMA mappings made through MAP this file holds
 * @owner_flags: out, CARVEOUT_OWNER_* bits of this file
 * @reserved: must be 0
 * @floor_bytes: out, bytes of all regions that are never given back
 * @ceiling_bytes: out, bytes all regions may grow to (@total_bytes is
 *	what they hold now, between the two)
 *
 * @eff_user_limit and after: CARVEOUT_CAP_LIMITS.  @floor_bytes and
 * after: CARVEOUT_CAP_ELASTIC.
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
	__u64 file_bytes;
	__u64 user_bytes;
	__u64 eff_user_limit;
	__u64 reserve_bytes;
	__u32 max_handles;
	__u32 nr_handles;
	__u32 max_maps;
	__u32 nr_maps;
	__u32 owner_flags;
	__u32 reserved;
	__u64 floor_bytes;
	__u64 ceiling_bytes;
};

/* INFO up to @user_limit is the first version; the caller's bytes came later. */
#define CARVEOUT_INFO_MIN_SIZE		72

/*
 * carveout_info.owner_flags.  PRIVILEGED: the file was opened with
 * CAP_SYS_ADMIN; it may take the reserve and no default user limit
 * applies to it.
 */
#define CARVEOUT_OWNER_PRIVILEGED	0x1

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
 *
 * Limits (see struct carveout_info): EDQUOT when the file or user limit
 * would be exceeded (a sub-page buffer that needs a new slab is charged
 * the slab's pages); ENOMEM when no allowed node has room, a node's
 * reserve counting as no room for a file opened without CAP_SYS_ADMIN;
 * EMFILE when the file already holds max_handles handles.
 *
 * On a node whose region may grow (ceiling above the floor) ENOMEM also
 * means growth failed: which way is in CARVEOUT_IOC_STATS (@grow_fail_count
 * went up, @last_fail is CARVEOUT_GROW_FAIL_CEILING when the ceiling left
 * no room, CARVEOUT_GROW_FAIL_CONTIG when the page allocator had no free
 * contiguous range for the piece) and in a rate-limited kernel log line
 * "node N: cannot grow by ...: at ceiling | no contiguous memory".  The
 * errno stays ENOMEM for both: callers that test for it keep working.
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

#define CARVEOUT_ALLOC_MIN_SIZE		136

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

#define CARVEOUT_HANDLE_MIN_SIZE	16

/* DMA directions, as enum dma_data_direction. */
#define CARVEOUT_DMA_BIDIRECTIONAL	0
#define CARVEOUT_DMA_TO_DEVICE		1
#define CARVEOUT_DMA_FROM_DEVICE	2

/* DMA_TO_DEVICE mappings one buffer may have through MAP (then ENOSPC). */
#define CARVEOUT_MAP_MAX_TO_DEVICE	16

/**
 * struct carveout_map - CARVEOUT_IOC_MAP and CARVEOUT_IOC_UNMAP
 * @size: sizeof(struct carveout_map)
 * @flags: must be 0
 * @handle: in, the buffer
 * @direction: in, CARVEOUT_DMA_*
 * @device: in, device name on its bus (e.g. PCI "0000:00:03.0",
 *	"platform:NAME")
 * @dma_addr: out (MAP), the address the device uses (an IOVA when an
 *	IOMMU translates); in (UNMAP), which mapping to remove
 * @dma_mask: out (MAP), the device's DMA mask
 *
 * MAP is allowed only for a device the caller may drive:
 * - with CAP_SYS_ADMIN, any device;
 * - when an IOMMU translates for the device: a device whose driver opted
 *   in (the in-kernel carveout_dev_allow_map()), a device bound to
 *   vfio-pci, vfio-platform, uio_pci_generic, uio_pdrv_genirq or
 *   uio_dmem_genirq, or a device no driver is bound to;
 * - a device named in the module parameter map_allow (set by root),
 *   translated or not.
 * For a device no IOMMU translates (no IOMMU, iommu=pt, an identity
 * domain) @dma_addr is the physical address as the bus sees it, which
 * only CAP_SYS_ADMIN may learn: there only CAP_SYS_ADMIN and map_allow
 * (the admin naming that device) permit MAP.
 *
 * A mapping made through MAP ends with its handle (FREE, close), and also
 * when a driver binds to or unbinds from the device, when the device is
 * removed, when map_allow stops naming a device it was made under, and
 * when the driver that opted in withdraws.  It is removed through the
 * DMA API while the device is still configured for it; UNMAP and SYNC of
 * it then fail with ENOENT (UNMAP with ENODEV once the device is gone).
 *
 * MAP errors: EACCES @direction lets the device write and the file was
 * opened read-only; EPERM the caller may not map that device (above); ENODEV
 * no such device; ENOENT no such handle, or it is being freed; EBUSY
 * @direction lets the device write and the buffer already has such a
 * mapping (through MAP or a dma-buf attachment); ENOSPC @direction is
 * CARVEOUT_DMA_TO_DEVICE and the buffer has CARVEOUT_MAP_MAX_TO_DEVICE
 * of those; ERANGE no IOMMU translates and the buffer lies above the
 * device's DMA mask; ENOMEM the DMA mapping failed (IOVA space or bounce
 * buffers exhausted); EINTR a signal came while waiting for the device
 * (its driver was probing or unbinding); EINVAL bad flags, direction or
 * name.  UNMAP: ENOENT no such mapping, ENODEV no such device.
 *
 * MAP also fails with EMFILE when the file already holds max_maps
 * mappings (struct carveout_info).
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

#define CARVEOUT_MAP_MIN_SIZE		96

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
 * @dma_addr: in, the mapping to sync (0: every mapping of the buffer:
 *	those made through MAP in @direction, and the mappings of its
 *	dma-buf's attachments, each in the direction its importer mapped
 *	it with, over the same range)
 *
 * DMA_BUF_IOCTL_SYNC on the dma-buf syncs the importers' mappings whole;
 * SYNC syncs only the range.  ENOENT: no such mapping (none at all).
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

#define CARVEOUT_SYNC_MIN_SIZE		40

#define CARVEOUT_EXPORT_FLAGS		(0x80000 | 0x2)	/* O_CLOEXEC | O_RDWR */

/**
 * struct carveout_export - CARVEOUT_IOC_EXPORT
 * @size: sizeof(struct carveout_export)
 * @flags: O_CLOEXEC and O_RDWR only (CARVEOUT_EXPORT_FLAGS); O_RDWR from a
 *	file opened read-only: EACCES, as for a writable mmap
 * @handle: in, the buffer
 * @fd: out, the dma-buf file descriptor
 */
struct carveout_export {
	__u32 size;
	__u32 flags;
	__u32 handle;
	__s32 fd;
};

#define CARVEOUT_EXPORT_MIN_SIZE	16

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
 * @clean_bytes: out, free bytes known to hold only zeros (zeroed in the
 *	background since their last owner freed them); allocations take
 *	these first and do not zero them again
 * @prezeroed_bytes: out, bytes zeroed in the background since load
 * @prezero_ns: out, nanoseconds the background zeroing spent writing them
 * @sync_zeroed_bytes: out, bytes zeroed at allocation time since load (no
 *	clean memory fitted)
 * @floor_bytes: out, bytes of the region never given back
 * @ceiling_bytes: out, bytes the region may grow to
 * @low_wmark: out, free bytes under which it grows in the background
 * @high_wmark: out, free bytes it keeps when giving idle pieces back
 * @piece_bytes: out, size of a piece taken for growth
 * @shrink_delay_ms: out, how long a piece stays free before it goes back
 * @nr_elastic: out, pieces above the floor now
 * @grow_count: out, pieces taken at run time
 * @grow_bytes: out, bytes taken at run time
 * @shrink_count: out, pieces given back at run time
 * @shrink_bytes: out, bytes given back at run time
 * @grow_fail_count: out, growth attempts that failed
 * @last_fail: out, CARVEOUT_GROW_FAIL_* of the last failed attempt (why
 *	the ENOMEM of an ALLOC that needed growth happened; with several
 *	callers failing at once, the reason of one of them)
 * @reserved: 0
 * @last_fail_bytes: out, bytes that attempt wanted
 *
 * @clean_bytes to @sync_zeroed_bytes: CARVEOUT_CAP_PREZERO; @floor_bytes and
 * after: CARVEOUT_CAP_ELASTIC.
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
	__u64 clean_bytes;
	__u64 prezeroed_bytes;
	__u64 prezero_ns;
	__u64 sync_zeroed_bytes;
	__u64 floor_bytes;
	__u64 ceiling_bytes;
	__u64 low_wmark;
	__u64 high_wmark;
	__u64 piece_bytes;
	__u32 shrink_delay_ms;
	__u32 nr_elastic;
	__u64 grow_count;
	__u64 grow_bytes;
	__u64 shrink_count;
	__u64 shrink_bytes;
	__u64 grow_fail_count;
	__u32 last_fail;
	__u32 reserved;
	__u64 last_fail_bytes;
};

/* Why a region last failed to grow (carveout_stats.last_fail). */
#define CARVEOUT_GROW_FAIL_NONE		0	/* never failed */
#define CARVEOUT_GROW_FAIL_CEILING	1	/* the ceiling left no room */
#define CARVEOUT_GROW_FAIL_CONTIG	2	/* no free contiguous memory (fragmented) */
#define CARVEOUT_GROW_FAIL_SLOTS	3	/* no piece slot left */
#define CARVEOUT_GROW_FAIL_NOMEM	4	/* no memory for the arena's metadata */
#define CARVEOUT_GROW_FAIL_INTR		5	/* interrupted by a fatal signal */

#define CARVEOUT_STATS_MIN_SIZE		448

/**
 * struct carveout_free_block - one free block, placed within its piece
 * @offset: first page of the block, counted from the start of the piece
 * @order: the block is 2^@order pages
 * @reserved: 0
 */
struct carveout_free_block {
	__u64 offset;
	__u32 order;
	__u32 reserved;
};

/**
 * struct carveout_freemap - CARVEOUT_IOC_FREEMAP, open to any caller
 * @size: sizeof(struct carveout_freemap)
 * @flags: must be 0
 * @node: in, node to report
 * @piece: in, piece of the node, 0 .. @nr_pieces - 1
 * @start: in, page offset in the piece to start at (0, or @next of the
 *	previous call: a cursor)
 * @blocks_ptr: in, user pointer to @blocks_cap struct carveout_free_block
 * @blocks_cap: in, room at @blocks_ptr (> 0)
 * @nr_blocks: out, entries filled, in address order
 * @nr_pieces: out, pieces the node's region is made of
 * @reserved: must be 0
 * @piece_pages: out, pages in the piece
 * @next: out, page offset to continue at; @piece_pages when the walk is
 *	done
 *
 * Positions are page offsets within a piece, never physical addresses.
 * Each call walks under the arena's lock for at most @blocks_cap blocks
 * (capped by the kernel), so a picture made of several calls is not one
 * snapshot.
 */
struct carveout_freemap {
	__u32 size;
	__u32 flags;
	__u32 node;
	__u32 piece;
	__u64 start;
	__u64 blocks_ptr;
	__u32 blocks_cap;
	__u32 nr_blocks;
	__u32 nr_pieces;
	__u32 reserved;
	__u64 piece_pages;
	__u64 next;
};

#define CARVEOUT_FREEMAP_MIN_SIZE	64

/**
 * struct carveout_slab_class - one size class of the caller's slab caches
 * @obj_size: object size in bytes
 * @objs_per_slab: objects per slab
 * @slab_pages: pages per slab
 * @reserved: 0
 * @objs_in_use: objects the caller holds
 * @objs_cached: free objects parked in per-CPU magazines
 * @objs_total: objects in all slabs of the class
 * @slabs_full: slabs with no free object
 * @slabs_partial: slabs with some free objects
 * @slabs_empty: slabs with only free objects
 */
struct carveout_slab_class {
	__u32 obj_size;
	__u32 objs_per_slab;
	__u32 slab_pages;
	__u32 reserved;
	__u64 objs_in_use;
	__u64 objs_cached;
	__u64 objs_total;
	__u64 slabs_full;
	__u64 slabs_partial;
	__u64 slabs_empty;
};

/**
 * struct carveout_slabinfo - CARVEOUT_IOC_SLABINFO: this file's own slab
 *	caches on one node
 * @size: sizeof(struct carveout_slabinfo)
 * @flags: must be 0
 * @node: in, node to report
 * @classes_cap: in, room at @classes_ptr
 * @classes_ptr: in, user pointer to @classes_cap struct carveout_slab_class
 * @nr_classes: out, size classes (all are filled, up to @classes_cap, by
 *	increasing size; a file without caches on the node gets zeros)
 * @reserved: must be 0
 */
struct carveout_slabinfo {
	__u32 size;
	__u32 flags;
	__u32 node;
	__u32 classes_cap;
	__u64 classes_ptr;
	__u32 nr_classes;
	__u32 reserved;
};

#define CARVEOUT_SLABINFO_MIN_SIZE	32

/**
 * struct carveout_resize - CARVEOUT_IOC_RESIZE: a node's floor, ceiling,
 *	watermarks (CAP_SYS_ADMIN; CARVEOUT_CAP_ELASTIC)
 * @size: sizeof(struct carveout_resize)
 * @flags: in, CARVEOUT_RESIZE_* bits: which fields to set (others are
 *	ignored on input)
 * @node: in, node
 * @shrink_delay_ms: in/out, how long a wholly free piece above the floor
 *	stays before it goes back to the page allocator
 * @floor: in/out, bytes never given back.  Raising it takes (or keeps)
 *	pieces: ENOMEM when the page allocator has no contiguous memory for
 *	it (the floor then is what could be had: read it back).  Lowering it
 *	turns whole pieces above it into elastic ones, given back when idle;
 *	the floor may stay above the value asked for (whole pieces, and the
 *	first piece never leaves)
 * @ceiling: in/out, bytes the region may grow to (>= the floor, else
 *	EINVAL); lowering it below the region's size gives idle pieces back
 * @low_wmark: in/out, grow in the background when free bytes fall below
 *	(0: only on demand)
 * @high_wmark: in/out, free bytes the region keeps when it gives idle
 *	pieces back (0 with @low_wmark > 0 is allowed; else @low_wmark must
 *	not exceed it: EINVAL)
 * @piece_bytes: in/out, size of a piece taken for growth (rounded up to
 *	the page allocator's pageblock)
 * @region_bytes: out, bytes the region holds on return
 *
 * On return every field holds the node's values.  EPERM without
 * CAP_SYS_ADMIN, ENODEV for a node without a region.
 */
struct carveout_resize {
	__u32 size;
	__u32 flags;
	__u32 node;
	__u32 shrink_delay_ms;
	__u64 floor;
	__u64 ceiling;
	__u64 low_wmark;
	__u64 high_wmark;
	__u64 piece_bytes;
	__u64 region_bytes;
};

#define CARVEOUT_RESIZE_MIN_SIZE	64

#define CARVEOUT_RESIZE_FLOOR		0x1	/* set @floor */
#define CARVEOUT_RESIZE_CEILING		0x2	/* set @ceiling */
#define CARVEOUT_RESIZE_WMARKS		0x4	/* set @low_wmark, @high_wmark */
#define CARVEOUT_RESIZE_PIECE		0x8	/* set @piece_bytes */
#define CARVEOUT_RESIZE_DELAY		0x10	/* set @shrink_delay_ms */
#define CARVEOUT_RESIZE_SHRINK		0x20	/* give free elastic pieces back now */
#define CARVEOUT_RESIZE_FLAGS		0x3f

/* Command numbers; the ioctl number carries no size (see the top). */
#define CARVEOUT_CMD_INFO	0x80
#define CARVEOUT_CMD_ALLOC	0x81
#define CARVEOUT_CMD_FREE	0x82
#define CARVEOUT_CMD_MAP	0x83
#define CARVEOUT_CMD_UNMAP	0x84
#define CARVEOUT_CMD_SYNC	0x85
#define CARVEOUT_CMD_EXPORT	0x86
#define CARVEOUT_CMD_STATS	0x87
#define CARVEOUT_CMD_FREEMAP	0x88
#define CARVEOUT_CMD_SLABINFO	0x89
#define CARVEOUT_CMD_RESIZE	0x8a

#define CARVEOUT_IOC_INFO	_IO(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_INFO)	/* struct carveout_info */
#define CARVEOUT_IOC_ALLOC	_IO(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_ALLOC)	/* struct carveout_alloc */
#define CARVEOUT_IOC_FREE	_IO(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_FREE)	/* struct carveout_handle */
#define CARVEOUT_IOC_MAP	_IO(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_MAP)	/* struct carveout_map */
#define CARVEOUT_IOC_UNMAP	_IO(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_UNMAP)	/* struct carveout_map */
#define CARVEOUT_IOC_SYNC	_IO(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_SYNC)	/* struct carveout_sync */
#define CARVEOUT_IOC_EXPORT	_IO(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_EXPORT)	/* struct carveout_export */
#define CARVEOUT_IOC_STATS	_IO(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_STATS)	/* struct carveout_stats */
#define CARVEOUT_IOC_FREEMAP	_IO(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_FREEMAP)	/* struct carveout_freemap */
#define CARVEOUT_IOC_SLABINFO	_IO(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_SLABINFO)	/* struct carveout_slabinfo */
#define CARVEOUT_IOC_RESIZE	_IO(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_RESIZE)	/* carveout_resize */

#endif /* _UAPI_LINUX_CARVEOUT_H */
