/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcarveout: a small C library over the carveout uapi.
 *
 * Installed as <carveout/libcarveout.h> next to the uapi header it
 * includes, <carveout/carveout.h> (a copy of the kernel's
 * uapi/linux/carveout.h; the system's <linux/...> belongs to the kernel's
 * own uapi headers).  `pkg-config --cflags carveout` gives the include
 * path, so programs write #include <carveout/libcarveout.h>.
 *
 * A context (struct carveout_ctx) is one open file of /dev/carveout; buffer
 * handles are private to it.  A buffer (struct carveout_buf) is allocated
 * in a context, mapped into this process by the library (its @addr already
 * accounts for the sub-page offset of small buffers), optionally mapped for
 * a device (DMA), synced, exported as a dma-buf, and freed.
 *
 * Errors: functions returning int return 0 (or a non-negative value where
 * documented) on success and -errno on failure; functions returning a
 * pointer return NULL with errno set.  carveout_strerror() and
 * carveout_strerror_op() put an error in words specific to carveout.
 *
 * Thread safety: a context and its buffers may be used from several threads
 * as long as one buffer is not freed while another thread still uses it;
 * the library holds no global state.
 */
#ifndef LIBCARVEOUT_H
#define LIBCARVEOUT_H

#include <stddef.h>
#include <stdint.h>

#include "carveout.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(CARVEOUT_API)
#define CARVEOUT_API __attribute__((visibility("default")))
#elif !defined(CARVEOUT_API)
#define CARVEOUT_API
#endif

/* The device node carveout_open() opens when given NULL. */
#define CARVEOUT_DEV_PATH	"/dev/carveout"

/* Most nodes struct carveout_sysinfo describes. */
#define CARVEOUT_MAX_NODES	64

/* An open file of /dev/carveout (opaque). */
struct carveout_ctx;

/**
 * struct carveout_sysinfo - what CARVEOUT_IOC_INFO reports
 * @caps: CARVEOUT_CAP_* bits
 * @page_size: page size buffers are rounded to
 * @slab_max: largest size served from sub-page caches
 * @total_bytes: bytes reserved over all nodes
 * @max_alloc: largest single buffer possible now
 * @file_limit: bytes one open file may hold (0: no limit)
 * @user_limit: bytes one user may hold (0: no limit)
 * @file_bytes: bytes this context (open file) holds now
 * @user_bytes: bytes the calling user holds now, over all open files
 * @nr_nodes: entries filled in @nodes
 * @nr_nodes_total: nodes with a region (more than @nr_nodes only beyond
 *	CARVEOUT_MAX_NODES)
 * @nodes: per node: id, pieces, region, free and largest free block bytes
 */
struct carveout_sysinfo {
	uint64_t caps;
	uint32_t page_size;
	uint32_t slab_max;
	uint64_t total_bytes;
	uint64_t max_alloc;
	uint64_t file_limit;
	uint64_t user_limit;
	uint64_t file_bytes;
	uint64_t user_bytes;
	unsigned int nr_nodes;
	unsigned int nr_nodes_total;
	struct carveout_node_info nodes[CARVEOUT_MAX_NODES];
};

/**
 * struct carveout_limits - what limits this context and what it holds
 *	(CARVEOUT_IOC_INFO, modules with CARVEOUT_CAP_LIMITS)
 * @file_limit: bytes one open file may hold (0: no limit)
 * @user_limit: the module's per-user limit (0: not set)
 * @eff_user_limit: the per-user limit that applies to this context:
 *	@user_limit, or the default share for a context opened without
 *	CAP_SYS_ADMIN (0: none)
 * @reserve_bytes: bytes of all regions only contexts opened with
 *	CAP_SYS_ADMIN and in-kernel users may take
 * @file_bytes: bytes this context holds now (whole-page buffers and the
 *	pages of its sub-page caches)
 * @user_bytes: bytes the calling user holds now, over all open files
 * @max_handles: live buffers (handles) one context may hold (0: no cap)
 * @nr_handles: live buffers this context holds
 * @max_maps: DMA mappings one context may hold (0: no cap)
 * @nr_maps: DMA mappings this context holds
 * @privileged: non-zero when this context was opened with CAP_SYS_ADMIN:
 *	it may use the reserve and no default per-user limit applies
 */
struct carveout_limits {
	uint64_t file_limit;
	uint64_t user_limit;
	uint64_t eff_user_limit;
	uint64_t reserve_bytes;
	uint64_t file_bytes;
	uint64_t user_bytes;
	uint32_t max_handles;
	uint32_t nr_handles;
	uint32_t max_maps;
	uint32_t nr_maps;
	int privileged;
};

/* carveout_alloc_opts.flags */
#define CARVEOUT_BUF_PAGES	0x1	/* whole pages even for small sizes */
#define CARVEOUT_BUF_NO_MMAP	0x2	/* do not map into this process */

/**
 * struct carveout_alloc_opts - how to allocate; all-zero means "local
 * node, cached, no alignment, mapped"
 * @policy: CARVEOUT_POLICY_LOCAL, _STRICT, _PREFERRED or _DEVICE
 * @node: node for the STRICT and PREFERRED policies
 * @device: device name for the DEVICE policy (e.g. "0000:00:03.0")
 * @align: alignment in bytes: 0 or a power of two
 * @cache: CARVEOUT_ALLOC_CACHED, _WC or _UNCACHED
 * @flags: CARVEOUT_BUF_* bits
 */
struct carveout_alloc_opts {
	unsigned int policy;
	int node;
	const char *device;
	uint64_t align;
	unsigned int cache;
	unsigned int flags;
};

/**
 * struct carveout_buf - a buffer allocated by carveout_buf_alloc()
 * @addr: first byte of the buffer in this process (NULL with
 *	CARVEOUT_BUF_NO_MMAP); @granted bytes are accessible from it
 * @size: bytes asked for
 * @granted: bytes reserved (rounded up to the page or size class)
 * @node: node the buffer sits on
 * @handle: the buffer's handle in its context
 * @phys_addr: physical address (only visible with CAP_SYS_ADMIN, else 0)
 * @dma_addr: device address of the last carveout_buf_map() still in
 *	place (0: none)
 * @cache: cache mode, CARVEOUT_ALLOC_CACHED, _WC or _UNCACHED
 *
 * The remaining fields are the library's; do not change them.
 */
struct carveout_buf {
	void *addr;
	uint64_t size;
	uint64_t granted;
	unsigned int node;
	uint32_t handle;
	uint64_t phys_addr;
	uint64_t dma_addr;
	unsigned int cache;

	/* private */
	struct carveout_ctx *ctx;
	void *map_base;
	size_t map_len;
	uint64_t mmap_offset;
	uint32_t page_offset;
	uint32_t dma_dir;
	char dma_device[CARVEOUT_DEV_NAME_LEN];
};

/* What the failing call was doing, for carveout_strerror_op(). */
enum carveout_op {
	CARVEOUT_OP_ANY = 0,
	CARVEOUT_OP_OPEN,
	CARVEOUT_OP_INFO,
	CARVEOUT_OP_ALLOC,
	CARVEOUT_OP_FREE,
	CARVEOUT_OP_MMAP,
	CARVEOUT_OP_MAP,
	CARVEOUT_OP_UNMAP,
	CARVEOUT_OP_SYNC,
	CARVEOUT_OP_EXPORT,
	CARVEOUT_OP_STATS,
	CARVEOUT_OP_PARSE,
	CARVEOUT_OP_FREEMAP,
	CARVEOUT_OP_SLABINFO,
	CARVEOUT_OP_RESIZE,
};

/**
 * carveout_version() - the version of this library
 *
 * It is the version of the carveout package it was built from (module,
 * library and tool share one).
 *
 * Return: a static string such as "0.3.0".
 */
CARVEOUT_API const char *carveout_version(void);

/**
 * carveout_open() - open /dev/carveout
 * @path: device node, or NULL for CARVEOUT_DEV_PATH
 *
 * Return: a new context, or NULL with errno set (ENOENT: no device node,
 * the module is probably not loaded; EACCES: no permission; ENOMEM).
 */
CARVEOUT_API struct carveout_ctx *carveout_open(const char *path);

/**
 * carveout_close() - close a context
 * @ctx: the context, or NULL (nothing happens)
 *
 * Buffers still allocated in @ctx lose their handles (the kernel frees
 * them once their process mappings are gone).  Their struct carveout_buf
 * stays valid: give it to carveout_buf_free(), which then only unmaps and
 * frees memory; other calls on it fail with -EBADF.
 */
CARVEOUT_API void carveout_close(struct carveout_ctx *ctx);

/**
 * carveout_fd() - the file descriptor behind a context
 * @ctx: the context
 *
 * Return: the descriptor, for raw ioctls; it stays owned by @ctx.
 */
CARVEOUT_API int carveout_fd(const struct carveout_ctx *ctx);

/**
 * carveout_get_info() - capabilities, limits and regions per node
 * @ctx: the context
 * @info: filled on success
 *
 * Return: 0 or -errno.
 */
CARVEOUT_API int carveout_get_info(struct carveout_ctx *ctx,
				   struct carveout_sysinfo *info);

/**
 * carveout_get_limits() - the limits that apply to this context, the
 *	reserve, and what the context holds
 * @ctx: the context
 * @lim: filled on success
 *
 * Return: 0 or -errno; -EOPNOTSUPP from a module older than
 * CARVEOUT_CAP_LIMITS.
 */
CARVEOUT_API int carveout_get_limits(struct carveout_ctx *ctx,
				     struct carveout_limits *lim);

/**
 * carveout_get_stats() - one node's statistics (CARVEOUT_IOC_STATS)
 * @ctx: the context
 * @node: NUMA node id
 * @stats: filled on success: region, free, largest free block, requested
 *	and granted bytes, buffers, counters, free blocks per order
 *
 * The growth fields are also read, with a check of the capability, by
 * carveout_get_elastic().
 *
 * Return: 0, -ENODEV when @node has no region, or another -errno.
 */
CARVEOUT_API int carveout_get_stats(struct carveout_ctx *ctx,
				    unsigned int node,
				    struct carveout_stats *stats);

/**
 * struct carveout_elastic - a node's floor, size, ceiling and growth
 *	history (CARVEOUT_CAP_ELASTIC)
 * @floor_bytes: bytes never given back
 * @region_bytes: bytes the region holds now
 * @ceiling_bytes: bytes it may grow to
 * @low_wmark: free bytes under which it grows in the background (0: only
 *	on demand)
 * @high_wmark: free bytes it keeps when giving idle pieces back
 * @piece_bytes: size of a piece taken for growth
 * @shrink_delay_ms: how long a wholly free piece stays before it goes back
 * @nr_elastic: pieces above the floor now
 * @grow_count: pieces taken at run time
 * @grow_bytes: bytes taken at run time
 * @shrink_count: pieces given back
 * @shrink_bytes: bytes given back
 * @grow_fail_count: growth attempts that failed
 * @last_fail: CARVEOUT_GROW_FAIL_* of the last one
 * @last_fail_bytes: bytes it wanted
 */
struct carveout_elastic {
	uint64_t floor_bytes;
	uint64_t region_bytes;
	uint64_t ceiling_bytes;
	uint64_t low_wmark;
	uint64_t high_wmark;
	uint64_t piece_bytes;
	uint32_t shrink_delay_ms;
	uint32_t nr_elastic;
	uint64_t grow_count;
	uint64_t grow_bytes;
	uint64_t shrink_count;
	uint64_t shrink_bytes;
	uint64_t grow_fail_count;
	uint32_t last_fail;
	uint64_t last_fail_bytes;
};

/**
 * carveout_get_elastic() - a node's floor, size, ceiling and history
 * @ctx: the context
 * @node: NUMA node id
 * @e: filled on success
 *
 * Return: 0, -ENODEV, -EOPNOTSUPP from a module without
 * CARVEOUT_CAP_ELASTIC, or another -errno.
 */
CARVEOUT_API int carveout_get_elastic(struct carveout_ctx *ctx,
				      unsigned int node,
				      struct carveout_elastic *e);

/**
 * carveout_grow_fail_name() - what a CARVEOUT_GROW_FAIL_* value means
 * @why: the value
 *
 * Return: a constant string ("none" for CARVEOUT_GROW_FAIL_NONE).
 */
CARVEOUT_API const char *carveout_grow_fail_name(unsigned int why);

/**
 * struct carveout_resize_opts - what carveout_resize() changes
 * @flags: CARVEOUT_RESIZE_* bits: which of the fields below apply
 * @floor: bytes never given back
 * @ceiling: bytes the region may grow to
 * @low_wmark: grow in the background under this many free bytes
 * @high_wmark: free bytes kept when idle pieces go back
 * @piece_bytes: size of a piece taken for growth
 * @shrink_delay_ms: how long a wholly free piece stays
 */
struct carveout_resize_opts {
	uint32_t flags;
	uint64_t floor;
	uint64_t ceiling;
	uint64_t low_wmark;
	uint64_t high_wmark;
	uint64_t piece_bytes;
	uint32_t shrink_delay_ms;
};

/**
 * carveout_resize() - change a node's floor, ceiling, watermarks
 *	(CARVEOUT_IOC_RESIZE; needs CAP_SYS_ADMIN)
 * @ctx: the context
 * @node: NUMA node id
 * @opts: what to change
 * @after: if not NULL, the node's values afterwards (also after -ENOMEM:
 *	the floor that could be had)
 *
 * Return: 0, or -EPERM, -EINVAL (a ceiling below the floor, crossed
 * watermarks), -ENOMEM (the floor could not be raised: no contiguous
 * memory), -ENODEV, -ENOTTY (a module without RESIZE).
 */
CARVEOUT_API int carveout_resize(struct carveout_ctx *ctx, unsigned int node,
				 const struct carveout_resize_opts *opts,
				 struct carveout_elastic *after);

/**
 * struct carveout_piece_info - one contiguous piece of a node's region
 * @nr_pieces: pieces the node's region is made of
 * @pages: pages in this piece (the free map's positions run 0 .. @pages)
 */
struct carveout_piece_info {
	unsigned int nr_pieces;
	uint64_t pages;
};

/**
 * carveout_get_freemap() - one step of a walk over a piece's free blocks
 * @ctx: the context
 * @node: NUMA node id
 * @piece: piece of the node's region, 0 .. nr_pieces - 1
 * @cursor: in, the page offset to start at (0 for a new walk); out, where
 *	the next step starts; the walk is done when it equals @pinfo->pages
 * @blocks: receives free blocks in address order
 * @cap: room in @blocks (> 0); the kernel may fill fewer
 * @pinfo: if not NULL, receives the piece count and this piece's size
 *
 * Positions are page offsets within the piece, never physical addresses;
 * any caller that can open the device may read them.  Each step is
 * consistent in itself; a walk made of several steps is not one snapshot.
 * carveout_walk_free() does the whole walk.
 *
 * Return: the number of blocks filled, or -errno: -ENODEV (no region on
 * @node), -EINVAL (@piece out of range, @cap 0), -ENOTTY (a module without
 * CARVEOUT_CAP_FREEMAP).
 */
CARVEOUT_API int carveout_get_freemap(struct carveout_ctx *ctx,
				      unsigned int node, unsigned int piece,
				      uint64_t *cursor,
				      struct carveout_free_block *blocks,
				      unsigned int cap,
				      struct carveout_piece_info *pinfo);

/**
 * typedef carveout_free_fn - called by carveout_walk_free() per free block
 * @block: the block: first page (offset in the piece) and order
 * @arg: the caller's argument
 *
 * Return: 0 to go on; anything else stops the walk and is returned.
 */
typedef int (*carveout_free_fn)(const struct carveout_free_block *block,
				void *arg);

/**
 * carveout_walk_free() - every free block of one piece, in address order
 * @ctx: the context
 * @node: NUMA node id
 * @piece: piece of the node's region
 * @fn: called for each free block
 * @arg: passed to @fn
 * @pinfo: if not NULL, receives the piece count and this piece's size
 *	(before the first call of @fn)
 *
 * Walks with CARVEOUT_IOC_FREEMAP's cursor, a bounded batch per call.
 *
 * Return: 0 when the walk reached the end of the piece, @fn's non-zero
 * return, or -errno as carveout_get_freemap(); -EIO if the kernel's
 * cursor did not advance.
 */
CARVEOUT_API int carveout_walk_free(struct carveout_ctx *ctx, unsigned int node,
				    unsigned int piece, carveout_free_fn fn,
				    void *arg,
				    struct carveout_piece_info *pinfo);

/**
 * carveout_get_slabinfo() - this context's own sub-page caches on a node
 * @ctx: the context
 * @node: NUMA node id
 * @classes: receives one entry per size class, by increasing size (object
 *	size, objects per slab and pages per slab are filled even when the
 *	context has no cache on @node; the counts are then 0)
 * @cap: room in @classes (0: only count the classes)
 *
 * Only the calling context's caches are reported: buffers of other open
 * files, even of the same process, never show here.
 *
 * Return: the number of size classes (min(that, @cap) entries filled), or
 * -errno: -ENODEV (no region on @node), -ENOTTY (a module without
 * CARVEOUT_CAP_FREEMAP).
 */
CARVEOUT_API int carveout_get_slabinfo(struct carveout_ctx *ctx,
				       unsigned int node,
				       struct carveout_slab_class *classes,
				       unsigned int cap);

/**
 * carveout_buf_alloc() - allocate a buffer and map it into this process
 * @ctx: the context
 * @size: bytes wanted (> 0)
 * @opts: placement, alignment, cache mode and flags; NULL for defaults
 *
 * The mapping is shared, readable and writable; @addr of the result points
 * at the buffer's first byte.  New buffers read as zeros.
 *
 * Return: a buffer, or NULL with errno set: EINVAL (bad argument), ENODEV
 * (no region on the node / no such device), EFBIG (larger than any region
 * piece), ENOMEM (no free block large enough), EDQUOT (per-file or
 * per-user limit), or the error of mmap(2).
 */
CARVEOUT_API struct carveout_buf *
carveout_buf_alloc(struct carveout_ctx *ctx, uint64_t size,
		   const struct carveout_alloc_opts *opts);

/**
 * carveout_buf_free() - unmap a buffer from this process and free it
 * @buf: the buffer, or NULL (nothing happens)
 *
 * Device mappings made with carveout_buf_map() go away with it; an
 * exported dma-buf keeps the memory alive until its last user is gone.
 *
 * Return: 0, or -errno of CARVEOUT_IOC_FREE (the memory of @buf is
 * released either way).
 */
CARVEOUT_API int carveout_buf_free(struct carveout_buf *buf);

/**
 * carveout_buf_map() - map a buffer for a device's DMA
 * @buf: the buffer
 * @device: device name on its bus, e.g. PCI "0000:00:03.0"
 * @direction: CARVEOUT_DMA_BIDIRECTIONAL, _TO_DEVICE or _FROM_DEVICE
 * @dma_addr: if not NULL, receives the device address
 *
 * On success @buf->dma_addr holds the address too.  A buffer may be
 * mapped several times, for one or several devices.
 *
 * Return: 0 or -errno: -ENODEV (no such device), -ENOENT (buffer gone),
 * -ERANGE (the device's DMA mask cannot reach the buffer and no IOMMU
 * translates), -ENOMEM (mapping failed), -EINVAL.
 */
CARVEOUT_API int carveout_buf_map(struct carveout_buf *buf, const char *device,
				  unsigned int direction, uint64_t *dma_addr);

/**
 * carveout_buf_unmap() - remove one DMA mapping
 * @buf: the buffer
 * @device: the device, or NULL for the device of the last mapping
 * @dma_addr: the address carveout_buf_map() returned, or 0 for
 *	@buf->dma_addr
 *
 * Return: 0 or -errno (-ENOENT: no such mapping; -ENODEV: no such device).
 */
CARVEOUT_API int carveout_buf_unmap(struct carveout_buf *buf,
				    const char *device, uint64_t dma_addr);

/**
 * carveout_buf_sync() - hand a byte range to the CPU or to the device(s)
 * @buf: the buffer
 * @offset: first byte
 * @length: bytes (0: to the end of the buffer)
 * @direction: the mappings' CARVEOUT_DMA_* direction
 * @flags: CARVEOUT_SYNC_FOR_CPU or CARVEOUT_SYNC_FOR_DEVICE
 *
 * Syncs every DMA mapping of @buf made with @direction.
 *
 * Return: 0 or -errno (-ENOENT: the buffer has no DMA mapping; -EINVAL:
 * range outside the buffer, bad direction or flags).
 */
CARVEOUT_API int carveout_buf_sync(struct carveout_buf *buf, uint64_t offset,
				   uint64_t length, unsigned int direction,
				   unsigned int flags);

/**
 * carveout_buf_export() - export a buffer as a dma-buf
 * @buf: the buffer
 * @flags: O_RDWR and/or O_CLOEXEC (0: O_RDWR | O_CLOEXEC)
 *
 * Return: the new dma-buf file descriptor (the caller closes it), or
 * -errno.
 */
CARVEOUT_API int carveout_buf_export(struct carveout_buf *buf, int flags);

/**
 * carveout_strerror() - an error in words specific to carveout
 * @err: an errno value, positive or negative
 *
 * Return: a static string (never NULL); for errors carveout gives no
 * special meaning, strerror()'s text.
 */
CARVEOUT_API const char *carveout_strerror(int err);

/**
 * carveout_strerror_op() - like carveout_strerror(), knowing the operation
 * @err: an errno value, positive or negative
 * @op: what failed; e.g. ENOENT means "module not loaded" for
 *	CARVEOUT_OP_OPEN but "no such buffer or mapping" otherwise
 *
 * Return: a static string (never NULL).
 */
CARVEOUT_API const char *carveout_strerror_op(int err, enum carveout_op op);

/**
 * carveout_parse_size() - parse a size such as "4096", "64K", "1.5M", "2G"
 * @str: the text: a decimal or 0x-hexadecimal number, an optional
 *	fraction (decimal only), an optional suffix K, M, G, T (powers of
 *	1024, either case, optionally followed by "B" or "iB")
 * @bytes: receives the size in bytes
 *
 * A fraction must come out as a whole number of bytes.
 *
 * Return: 0, -EINVAL (not a size) or -ERANGE (does not fit 64 bits).
 */
CARVEOUT_API int carveout_parse_size(const char *str, uint64_t *bytes);

/* carveout_format_size() flags */
#define CARVEOUT_SIZE_ROUND	0x1	/* up to 3 significant digits */

/**
 * carveout_format_size() - print a size with a K/M/G/T suffix
 * @bytes: the size
 * @buf: output buffer
 * @len: its size (24 bytes are always enough)
 * @flags: 0 for exact text ("1536K", "64M", "100"), which
 *	carveout_parse_size() reads back to @bytes; CARVEOUT_SIZE_ROUND for
 *	short approximate text ("1.5M", "63.9M")
 *
 * Return: @buf.
 */
CARVEOUT_API char *carveout_format_size(uint64_t bytes, char *buf, size_t len,
					unsigned int flags);

/**
 * carveout_policy_name() - "local", "strict", "preferred" or "device"
 * @policy: CARVEOUT_POLICY_*
 *
 * Return: the name, or "?" for an unknown policy.
 */
CARVEOUT_API const char *carveout_policy_name(unsigned int policy);

/**
 * carveout_parse_policy() - a policy by name
 * @name: "local", "strict", "preferred" or "device"
 *
 * Return: CARVEOUT_POLICY_*, or -EINVAL.
 */
CARVEOUT_API int carveout_parse_policy(const char *name);

/**
 * carveout_cache_name() - "cached", "wc" or "uncached"
 * @cache: CARVEOUT_ALLOC_CACHED, _WC or _UNCACHED
 *
 * Return: the name, or "?".
 */
CARVEOUT_API const char *carveout_cache_name(unsigned int cache);

/**
 * carveout_parse_cache() - a cache mode by name
 * @name: "cached", "wc" (or "write-combine") or "uncached"
 *
 * Return: CARVEOUT_ALLOC_CACHED, _WC or _UNCACHED, or -EINVAL.
 */
CARVEOUT_API int carveout_parse_cache(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* LIBCARVEOUT_H */
