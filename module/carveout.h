/* SPDX-License-Identifier: GPL-2.0 */
/*
 * carveout: declarations shared between the module's files and its KUnit
 * tests.
 *
 * Objects and their lifetimes:
 *
 * - struct co_node: one per NUMA node with a region, made at load, freed at
 *   unload.  A region is one or more contiguous pieces; each piece is one
 *   buddy arena (struct co_piece).
 * - struct co_file: one per open file of /dev/carveout.  It owns the
 *   file's handles and its private slab caches (one set per node).  It is
 *   reference counted: the open file holds one reference and every buffer
 *   it allocated holds one, so the slab caches outlive the file while a
 *   mapping or a dma-buf still uses one of their objects.
 * - struct co_buffer: one contiguous buffer.  Reference counted: the
 *   file's handle, each mmap of it, each exported dma-buf and each
 *   in-kernel user hold one.  Its memory goes back to the allocator when
 *   the last reference goes.
 *
 * Lock order (outermost first):
 *   co_file.lock -> co_buffer.lock -> co_buffers_lock
 *   co_files_lock is taken alone.
 *   The allocator core's locks (co_buddy.lock, slab locks) are innermost
 *   and never held across calls out of the core.
 */
#ifndef _CARVEOUT_H
#define _CARVEOUT_H

#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>

#include "co_buddy.h"
#include "co_slab.h"

#if IS_ENABLED(CONFIG_KUNIT)
#include <kunit/visibility.h>
#else
#define VISIBLE_IF_KUNIT static
#endif

struct dentry;
struct device;
struct vm_area_struct;
struct vm_fault;

/* mmap offsets: handle << CO_MMAP_SHIFT, so a buffer may span 1 TiB. */
#define CO_MMAP_SHIFT		40
#define CO_HANDLE_MAX		((1U << (63 - CO_MMAP_SHIFT)) - 1)
/* The page index inside the buffer, in an mmap page offset. */
#define CO_MMAP_PGOFF_MASK	((1UL << (CO_MMAP_SHIFT - PAGE_SHIFT)) - 1)

/**
 * struct co_piece - one physically contiguous piece of a node's region
 * @buddy: the allocator over the piece
 * @node: the node this piece belongs to
 * @start_pfn: first page
 * @nr_pages: pages in the piece
 * @reserved_mem: the piece is a reserve_mem= reservation (not given back
 *	to the page allocator at unload)
 */
struct co_piece {
	struct co_buddy buddy;
	struct co_node *node;
	unsigned long start_pfn;
	unsigned long nr_pages;
	bool reserved_mem;
};

/**
 * struct co_node - a NUMA node's region
 * @nid: node id
 * @nr_pieces: entries in @pieces
 * @pieces: the contiguous pieces, each an arena
 * @bytes: bytes reserved over all pieces
 * @numa_hit: allocations served here that wanted this node
 * @numa_miss: allocations served here that wanted another node
 * @numa_foreign: allocations that wanted this node and were served elsewhere
 * @local_node: served here for a task running on this node
 * @other_node: served here for a task running elsewhere
 * @nr_buffers: live buffers
 * @requested: bytes asked for by live buffers
 * @granted: bytes reserved for live buffers
 * @alloc_count: successful allocations
 * @free_count: buffers freed
 * @fail_count: allocations this node could not serve
 * @dir: debugfs directory
 *
 * Counters are atomics; the pieces are fixed after load.
 */
struct co_node {
	int nid;
	unsigned int nr_pieces;
	struct co_piece *pieces;
	u64 bytes;
	atomic64_t numa_hit;
	atomic64_t numa_miss;
	atomic64_t numa_foreign;
	atomic64_t local_node;
	atomic64_t other_node;
	atomic64_t nr_buffers;
	atomic64_t requested;
	atomic64_t granted;
	atomic64_t alloc_count;
	atomic64_t free_count;
	atomic64_t fail_count;
	struct dentry *dir;
};

/**
 * struct co_file - state of one open file (or one in-kernel client)
 * @ref: the open file and each buffer allocated through it
 * @lock: protects the creation of @slab sets and the zeroing of pages
 *	entering them
 * @handles: handle -> struct co_buffer; each entry holds a buffer reference
 * @next_handle: where the cyclic handle allocation goes on (xarray lock)
 * @id: unique over the module's life, never reused (names the owner of a
 *	slab page)
 * @slab: per node, this file's private slab caches (created on first use)
 * @bytes: granted bytes of live buffers charged to this file
 * @user: the owner's per-user account
 * @pid: tgid of the opener
 * @comm: command name of the opener
 * @kernel: the in-kernel client: no limits apply
 * @link: entry in co_files (protected by co_files_lock)
 */
struct co_file {
	struct kref ref;
	struct mutex lock;	/* slab set creation, slab page zeroing */
	struct xarray handles;
	u32 next_handle;
	u64 id;
	struct co_slab_set **slab;
	atomic64_t bytes;
	struct co_user *user;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	bool kernel;
	struct list_head link;
};

/**
 * struct co_user - bytes held per user, for the per-user limit
 * @uid: the user
 * @bytes: granted bytes of live buffers charged to the user
 */
struct co_user {
	kuid_t uid;
	atomic64_t bytes;
};

/**
 * struct co_dma_map - one streaming DMA mapping of a buffer
 * @link: entry in co_buffer.maps
 * @dev: the device (a reference is held)
 * @addr: DMA address the device uses
 * @dir: direction given at map time
 */
struct co_dma_map {
	struct list_head link;
	struct device *dev;
	dma_addr_t addr;
	enum dma_data_direction dir;
};

/**
 * struct co_buffer - one contiguous buffer
 * @ref: handle, mmaps, dma-bufs and in-kernel users
 * @owner: the file (or in-kernel client) that allocated it; holds a ref
 * @node: node it sits on
 * @piece: arena of a page-granular buffer; NULL for a slab object
 * @slab: slab set of a sub-page buffer; NULL for pages
 * @phys: physical address of the first byte
 * @size: bytes asked for
 * @granted: bytes reserved
 * @flags: CARVEOUT_ALLOC_* flags
 * @handle: handle in @owner (0 for in-kernel buffers)
 * @pid: tgid of the allocating task
 * @comm: its command name
 * @caller: allocation call site for in-kernel users, else NULL
 * @caller_sym: @caller as "symbol+off/size [module]" (co_callsite_name()),
 *	so it can be shown after the calling module is gone
 * @lock: protects @maps, @attachments, @dead, @nr_mmaps
 * @maps: streaming DMA mappings made through MAP (struct co_dma_map)
 * @attachments: dma-buf attachments (struct co_dmabuf_att)
 * @dead: the handle was freed: no new DMA mappings
 * @nr_mmaps: live userspace mappings through /dev/carveout
 * @link: entry in co_buffers (protected by co_buffers_lock)
 * @held: the last reference went while pages were still referenced from
 *	outside (a pipe, io_uring, O_DIRECT...): the memory waits on
 *	@held_link in co_held_list (co_held_lock) until they go
 * @held_link: entry in co_held_list
 */
struct co_buffer {
	struct kref ref;
	struct co_file *owner;
	struct co_node *node;
	struct co_piece *piece;
	struct co_slab_set *slab;
	phys_addr_t phys;
	u64 size;
	u64 granted;
	u32 flags;
	u32 handle;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	void *caller;
	const char *caller_sym;
	struct mutex lock;	/* maps, attachments, dead, nr_mmaps */
	struct list_head maps;
	struct list_head attachments;
	bool dead;
	unsigned int nr_mmaps;
	struct list_head link;
	bool held;
	struct list_head held_link;
};

/**
 * struct co_alloc_req - what an allocation asks for
 * @size: bytes
 * @align: alignment in bytes (0 or a power of two)
 * @nid: node for the STRICT and PREFERRED policies
 * @policy: CARVEOUT_POLICY_*
 * @flags: CARVEOUT_ALLOC_*
 * @dev: device for the DEVICE policy, or NULL
 * @caller: call site, for in-kernel users
 */
struct co_alloc_req {
	u64 size;
	u64 align;
	int nid;
	u32 policy;
	u32 flags;
	struct device *dev;
	void *caller;
};

/* co_fault.c: fault injection at the module's allocation points. */
#ifdef CONFIG_FAULT_INJECTION
bool co_should_fail(size_t size);
int co_fault_init(void);
void co_fault_debugfs(struct dentry *parent);
#else
static inline bool co_should_fail(size_t size)
{
	return false;
}

static inline int co_fault_init(void)
{
	return 0;
}

static inline void co_fault_debugfs(struct dentry *parent)
{
}
#endif

static inline void *co_kzalloc(size_t size, gfp_t gfp)
{
	return co_should_fail(size) ? NULL : kzalloc(size, gfp);
}

static inline void *co_kcalloc(size_t n, size_t size, gfp_t gfp)
{
	return co_should_fail(n * size) ? NULL : kcalloc(n, size, gfp);
}

/* co_region.c */
extern struct co_node *co_nodes[MAX_NUMNODES];
extern unsigned int co_nr_nodes;
int co_regions_init(void);
void co_regions_exit(void);
u64 co_node_free_bytes(struct co_node *cn);
u64 co_node_largest_free(struct co_node *cn);
int co_parse_size(const char *s, u64 *bytes);
int co_parse_node_sizes(const char *s, u64 *sizes, unsigned int nr);

/* co_buffer.c */
extern struct list_head co_buffers;
extern struct mutex co_buffers_lock;
extern struct list_head co_files;
extern struct mutex co_files_lock;
extern unsigned long co_file_limit;
extern unsigned long co_user_limit;
struct co_file *co_file_create(void);
void co_file_put(struct co_file *f);
struct co_buffer *co_buffer_alloc(struct co_file *f,
				  const struct co_alloc_req *req);
void co_buffer_get(struct co_buffer *buf);
void co_buffer_put(struct co_buffer *buf);
void co_buffer_kill(struct co_buffer *buf);
int co_buffer_map(struct co_buffer *buf, struct device *dev,
		  enum dma_data_direction dir, dma_addr_t *addr);
int co_buffer_unmap(struct co_buffer *buf, struct device *dev,
		    dma_addr_t addr);
int co_buffer_sync(struct co_buffer *buf, bool for_cpu, u64 offset,
		   u64 len, dma_addr_t addr, enum dma_data_direction dir);
int co_buffer_mmap(struct co_buffer *buf, struct vm_area_struct *vma,
		   unsigned long pgoff);
vm_fault_t co_buffer_fault(struct co_buffer *buf, struct vm_fault *vmf);
extern atomic64_t co_held_bytes;
void co_buffers_exit(void);
struct dma_buf *co_buffer_export(struct co_buffer *buf, int flags);
struct device *co_find_device(const char *name);
int co_pick_nodes(const struct co_alloc_req *req, int *order, int max);
void co_users_exit(void);

/* co_dev.c */
int co_dev_init(void);
void co_dev_exit(void);

/* co_kapi.c */
extern struct co_file *co_kernel_client;
int co_kapi_init(void);
const char *co_callsite_name(void *caller);
void co_kapi_exit(void);

/* co_debugfs.c */
void co_debugfs_init(void);
void co_debugfs_exit(void);

#if IS_ENABLED(CONFIG_KUNIT)
int co_copy_arg_from_user(void *dst, size_t ksize, const void __user *uarg);
#endif

#endif /* _CARVEOUT_H */
