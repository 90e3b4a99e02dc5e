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
 * Locks, declared here and in the allocator core.  What each protects:
 *
 *   co_access_lock (co_access.c)  who may MAP: the drivers' opt-ins and
 *                                 the map_allow list; held across MAP's
 *                                 decision and mapping, and across the
 *                                 revocation of mappings that lost their
 *                                 grant (bus notifier, map_allow writes)
 *   co_files_lock (co_owner.c)    co_files, the list of owners
 *   co_buffers_rwsem (co_buffer.c) the registry of live buffers (per-CPU
 *                                 xarrays, each also under its own lock):
 *                                 removal takes it for reading, a walker
 *                                 (debugfs, revocation) for writing, and
 *                                 may then use any buffer it finds
 *   co_file.lock                  creation of a file's per-node slab sets
 *                                 and the zeroing of a page entering one
 *   co_held_lock (co_buffer.c)    co_held_list, buffers whose pages are
 *                                 still referenced from outside
 *   co_buffer.lock                a buffer's DMA mappings, dma-buf
 *                                 attachments and dead flag
 *   co_node.mt_lock               a node's pools of write-combined and
 *     (co_memtype.c)              uncached memory
 *   co_node.grow_lock             a node's pieces changing: a piece
 *     (co_elastic.c)              taken, given back, moved between floor
 *                                 and elastic; the node's size, floor,
 *                                 ceiling and watermarks.  Readers of the
 *                                 pieces take rcu_read_lock() instead
 *   xarray locks                  co_file.handles, the registry shards,
 *                                 the per-user accounts and the call-site
 *                                 names; each alone
 *   co_buddy.lock, slab locks     the allocator core: see struct co_buddy
 *                                 in co_buddy.h and co_slab_priv.h
 *
 * Lock order (outermost first), as the code nests them:
 *
 *   device_lock -> co_access_lock            (MAP decides and maps with
 *                                             the device's binding held
 *                                             still; the driver core calls
 *                                             the bus notifier and drivers
 *                                             opt in under device_lock)
 *   kernel_param_lock -> co_access_lock      (a write to map_allow)
 *   co_access_lock -> co_buffers_rwsem       (revocation walks every
 *                                             buffer's mappings)
 *   co_access_lock -> co_buffer.lock         (MAP adds a mapping)
 *   co_buffers_rwsem -> co_buffer.lock       (debugfs lists mappings)
 *   co_buffers_rwsem -> xarray locks         (a walk names the call
 *                                             sites of a module that
 *                                             goes, co_kapi.c)
 *   co_files_lock -> slab locks              (debugfs and SLABINFO read
 *                                             slab statistics)
 *   co_file.lock -> slab and buddy locks     (a slab set is created)
 *   co_file.lock -> co_slab_pages' xa lock   (a page enters a slab)
 *   co_buffer.lock -> co_iova_mutex          (a streaming map or unmap,
 *                                             co_dma.c; innermost)
 *   co_buffer.lock -> the DMA API            (map, unmap, sync)
 *   mmap_lock -> co_buffers_rwsem, co_buffer.lock
 *                                            (munmap drops a buffer's last
 *                                             reference: it leaves the
 *                                             registry)
 *   mmap_lock -> co_node.mt_lock             (munmap drops a buffer's last
 *                                             reference; its block goes to
 *                                             a pool)
 *   co_node.grow_lock -> co_buddy.lock       (a piece is checked wholly
 *                                             free before it is given
 *                                             back; growth and give-back
 *                                             call alloc_contig_range()
 *                                             and free_contig_range()
 *                                             under it, so reclaim may run
 *                                             under it: the shrinker only
 *                                             ever trylocks it)
 *
 * The pieces of a node are walked under rcu_read_lock() (allocation,
 * statistics, free maps), never under grow_lock, and nothing in such a
 * walk sleeps or allocates memory.  A piece leaves only after a grace
 * period (co_elastic.c).
 *
 * co_held_lock is taken alone: held buffers are finished after it is
 * dropped.  co_node.mt_lock is innermost: nothing is taken under it, and the
 * memory type conversions and arena frees of pooled blocks run after it is
 * dropped.  co_buffers_rwsem and co_files_lock are never held together, and no
 * module lock is taken inside a core lock or an xarray lock.  A buffer's
 * last reference is dropped with none of these locks held.
 */
#ifndef _CARVEOUT_H
#define _CARVEOUT_H

#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/workqueue.h>
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
 * @elastic: above the floor: given back once wholly free and idle
 * @state: enum co_piece_state, read with READ_ONCE() under
 *	rcu_read_lock(), written under co_node.grow_lock
 * @free_since: jiffies when the shrink worker first saw the piece wholly
 *	free (0: not free); under co_node.grow_lock
 * @users: allocations running on the piece outside a read-side section
 *	(they may sleep): a piece with users is not given back
 *
 * A piece lives in a slot of co_node.pieces; the slot array never moves,
 * so a pointer to a piece (co_buffer.piece) stays valid.  A slot is empty
 * until a piece is taken into it and again after the piece is given back.
 */
struct co_piece {
	struct co_buddy buddy;
	struct co_node *node;
	unsigned long start_pfn;
	unsigned long nr_pages;
	bool reserved_mem;
	bool elastic;
	int state;
	unsigned long free_since;
	atomic_t users;
};

/**
 * enum co_piece_state - a slot of co_node.pieces
 * @CO_PIECE_EMPTY: no piece (never taken, or given back)
 * @CO_PIECE_LIVE: allocations may be served from the piece
 * @CO_PIECE_RETIRING: being given back: allocations skip it
 */
enum co_piece_state {
	CO_PIECE_EMPTY,
	CO_PIECE_LIVE,
	CO_PIECE_RETIRING,
};

/**
 * enum co_grow_fail - why a node's region last failed to grow
 * @CO_GROW_OK: it never failed
 * @CO_GROW_CEILING: the ceiling leaves no room for another piece
 * @CO_GROW_CONTIG: the page allocator had no free contiguous range (a
 *	fragmented machine, or memory short)
 * @CO_GROW_SLOTS: every piece slot of the node is used
 * @CO_GROW_NOMEM: the arena's own metadata could not be allocated
 * @CO_GROW_INTR: a fatal signal interrupted the attempt
 *
 * The values are uapi: CARVEOUT_GROW_FAIL_* in struct carveout_stats.
 */
enum co_grow_fail {
	CO_GROW_OK,
	CO_GROW_CEILING,
	CO_GROW_CONTIG,
	CO_GROW_SLOTS,
	CO_GROW_NOMEM,
	CO_GROW_INTR,
};

/* The memory types a node keeps pools of (co_memtype.c). */
enum co_memtype {
	CO_MEMTYPE_WC,
	CO_MEMTYPE_UC,
	CO_MEMTYPE_NR,
};

/**
 * struct co_memtype_pool - free blocks of a node kept in one memory type
 * @blocks: struct co_memtype_block (co_memtype.c), most recently freed
 *	first; each stays allocated in its arena
 * @bytes: bytes in @blocks
 *
 * Both fields are protected by co_node.mt_lock.
 */
struct co_memtype_pool {
	struct list_head blocks;
	u64 bytes;
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
 * @prezeroed: bytes zeroed in the background (co_zero.c)
 * @prezero_ns: time spent writing them
 * @sync_zeroed: bytes zeroed at allocation time (co_buffer.c)
 * @zero_task: the node's zeroing thread (constant while loaded)
 * @zero_kick: set when a step's worth of memory was freed, cleared by the
 *	thread
 * @zero_pending: bytes freed since the thread last looked, below a step
 * @dir: debugfs directory
 * @mt_lock: protects @mt_pool
 * @mt_pool: per memory type (enum co_memtype), freed blocks kept in that
 *	type for reuse (co_memtype.c)
 * @grow_lock: serialises changes of the pieces and of the fields below
 * @floor: bytes of the pieces that are not elastic: never given back
 * @ceiling: bytes the region may grow to
 * @low_wmark: free bytes under which the region grows in the background
 * @high_wmark: free bytes the region keeps when it shrinks while idle
 * @piece_bytes: size of a piece taken for growth (a larger one when an
 *	allocation needs it)
 * @shrink_delay_ms: how long a piece stays wholly free before it is
 *	given back
 * @nr_elastic: live elastic pieces
 * @grow_work: background growth (co_elastic.c)
 * @shrink_work: idle give-back (co_elastic.c)
 * @grow_count: pieces taken at run time
 * @grow_bytes: bytes taken at run time
 * @shrink_count: pieces given back at run time
 * @shrink_bytes: bytes given back at run time
 * @grow_fail_count: growth attempts that failed
 * @last_fail: enum co_grow_fail of the last failure
 * @last_fail_bytes: bytes the last failed attempt wanted
 *
 * Counters are atomics.  @bytes, @floor, @ceiling, the watermarks and the
 * last failure are written under @grow_lock and read with READ_ONCE().
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
	atomic64_t prezeroed;
	atomic64_t prezero_ns;
	atomic64_t sync_zeroed;
	struct task_struct *zero_task;
	atomic_t zero_kick;
	atomic64_t zero_pending;
	struct dentry *dir;
	struct mutex mt_lock;	/* mt_pool */
	struct co_memtype_pool mt_pool[CO_MEMTYPE_NR];
	struct mutex grow_lock;	/* pieces, sizes, watermarks */
	u64 floor;
	u64 ceiling;
	u64 low_wmark;
	u64 high_wmark;
	u64 piece_bytes;
	unsigned int shrink_delay_ms;
	atomic_t nr_elastic;
	struct work_struct grow_work;
	struct delayed_work shrink_work;
	atomic64_t grow_count;
	atomic64_t grow_bytes;
	atomic64_t shrink_count;
	atomic64_t shrink_bytes;
	atomic64_t grow_fail_count;
	int last_fail;
	u64 last_fail_bytes;
};

/**
 * struct co_file - state of one open file (or one in-kernel client)
 * @ref: the open file and each buffer allocated through it
 * @lock: serialises the creation of @slab sets and the zeroing of pages
 *	entering them
 * @handles: handle -> struct co_buffer, under the xarray's own lock; each
 *	entry holds a buffer reference; handles are allocated cyclically
 * @next_handle: cursor of the cyclic handle allocation
 * @id: unique over the module's life, never reused: names the owner of
 *	a slab page (co_place.c)
 * @slab: per node, this file's private slab caches (created on first use)
 * @bytes: bytes this owner holds: whole-page buffers and the pages of its
 *	slabs (co_owner.c)
 * @nr_handles: live handles, and handles ALLOC is filling in
 *	(carveout.max_handles)
 * @nr_maps: streaming DMA mappings made through MAP (carveout.max_maps)
 * @user: the owner's per-user account
 * @pid: tgid of the opener
 * @comm: command name of the opener
 * @kernel: the in-kernel client: no limits apply, nothing is charged to a
 *	memory cgroup
 * @privileged: opened with CAP_SYS_ADMIN (or the in-kernel client): may
 *	use the reserve, and no default user limit applies
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
	atomic_t nr_handles;
	atomic_t nr_maps;
	struct co_user *user;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	bool kernel;
	bool privileged;
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
 * enum co_map_grant - why a DMA mapping of a buffer was allowed
 * @CO_GRANT_NONE: it is not: MAP fails with EPERM
 * @CO_GRANT_KERNEL: an in-kernel user mapped it (the kapi); never revoked
 * @CO_GRANT_ADMIN: the caller had CAP_SYS_ADMIN
 * @CO_GRANT_OPTIN: the device's driver opted in (carveout_dev_allow_map())
 * @CO_GRANT_USERDRV: the device is bound to a driver that hands devices to
 *	userspace (vfio, uio)
 * @CO_GRANT_UNBOUND: no driver is bound to the device
 * @CO_GRANT_LISTED: the device is named in the map_allow parameter
 *
 * Every grant but CO_GRANT_KERNEL ends when the device's driver binding
 * changes or the device goes; CO_GRANT_OPTIN also when the driver
 * withdraws, CO_GRANT_LISTED when map_allow stops naming the device.
 */
enum co_map_grant {
	CO_GRANT_NONE,
	CO_GRANT_KERNEL,
	CO_GRANT_ADMIN,
	CO_GRANT_OPTIN,
	CO_GRANT_USERDRV,
	CO_GRANT_UNBOUND,
	CO_GRANT_LISTED,
};

/**
 * struct co_map_facts - what MAP's decision looks at (co_access.c)
 * @admin: the caller has CAP_SYS_ADMIN
 * @translated: an IOMMU translates for the device (co_dev_translated())
 * @optin: the device's current driver opted in
 * @userdrv: the device is bound to vfio-pci, vfio-platform or a uio driver
 * @unbound: no driver is bound to the device
 * @listed: map_allow names the device
 */
struct co_map_facts {
	bool admin;
	bool translated;
	bool optin;
	bool userdrv;
	bool unbound;
	bool listed;
};

/**
 * struct co_dma_map - one streaming DMA mapping of a buffer
 * @link: entry in co_buffer.maps
 * @dev: the device (a reference is held)
 * @addr: DMA address the device uses
 * @dir: direction given at map time
 * @grant: why it was allowed
 *
 * All fields are fixed once the mapping is on the list; the list is
 * protected by co_buffer.lock.
 */
struct co_dma_map {
	struct list_head link;
	struct device *dev;
	dma_addr_t addr;
	enum dma_data_direction dir;
	enum co_map_grant grant;
};

/**
 * struct co_dmabuf_att - one importer's view of an exported buffer
 * @link: entry in co_buffer.attachments
 * @dev: the importing device
 * @sgt: the buffer as a table of contiguous chunks
 * @mapped: @sgt is DMA-mapped for @dev
 * @dir: direction of that mapping
 * @cur: the DMA segment where the last ranged sync stopped
 * @cur_i: its index in @sgt
 * @cur_start: its first byte in the dma-buf
 */
struct co_dmabuf_att {
	struct list_head link;
	struct device *dev;
	struct sg_table sgt;
	bool mapped;
	enum dma_data_direction dir;
	struct scatterlist *cur;
	unsigned int cur_i;
	u64 cur_start;
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
 * @caller: allocation call site for in-kernel users (a return address),
 *	else NULL; printed with %pS
 * @caller_sym: @caller as "symbol+off/size [module]" once the module it
 *	lies in is going (co_kapi.c), so it can be shown after the module is
 *	gone; NULL until then.  Set once, read with READ_ONCE()
 * @lock: protects @maps, @attachments, @dead
 * @maps: streaming DMA mappings made through MAP (struct co_dma_map)
 * @attachments: dma-buf attachments (struct co_dmabuf_att)
 * @dead: the handle was freed: no new DMA mappings
 * @nr_mmaps: live userspace mappings through /dev/carveout
 * @shard: the CPU whose registry shard holds the buffer (co_buffer.c)
 * @id: index in that shard
 * @held: the last reference went while a page was still referenced from
 *	outside (a pipe, io_uring, O_DIRECT...): the memory waits on
 *	@held_link until nobody references it (co_buffer.c)
 * @held_link: entry in co_held_list (protected by co_held_lock)
 * @clean: the memory was known to hold zeros when it was taken
 *	(co_buddy_alloc_clean()): co_buffer_alloc() does not zero it again
 * @converted: the linear mapping of the memory has the buffer's memory
 *	type (a pooled block, or co_memtype_set() converted it), so the
 *	memory goes back through co_memtype_release()
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
	struct mutex lock;	/* maps, attachments, dead */
	struct list_head maps;
	struct list_head attachments;
	bool dead;
	atomic_t nr_mmaps;
	unsigned int shard;
	u32 id;
	bool held;
	struct list_head held_link;
	bool clean;
	bool converted;
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

/* co_region.c: the regions, and the one way to walk and measure them */
extern struct co_node *co_nodes[MAX_NUMNODES];
extern unsigned int co_nr_nodes;
int co_regions_init(void);
void co_regions_exit(void);
int co_parse_size(const char *s, u64 *bytes);
int co_parse_node_sizes(const char *s, u64 *sizes, unsigned int nr);
struct co_node *co_node_next(struct co_node *cn);
struct co_node *co_node_find(unsigned int nid);

/* Every node with a region, by increasing node id. */
#define co_for_each_node(cn) \
	for ((cn) = co_node_next(NULL); (cn); (cn) = co_node_next(cn))

/**
 * co_piece_live() - may allocations be served from a piece?
 * @p: a slot of co_node.pieces
 *
 * Context: under rcu_read_lock() or co_node.grow_lock.
 * Return: true for a live piece.
 */
static inline bool co_piece_live(const struct co_piece *p)
{
	/* Pairs with the release in co_elastic.c: the arena is set up. */
	return smp_load_acquire(&p->state) == CO_PIECE_LIVE;
}

/**
 * co_node_slots() - slots of a node's region that may hold a piece
 * @cn: the node
 *
 * Context: any.
 * Return: one past the highest slot ever used.
 */
static inline unsigned int co_node_slots(struct co_node *cn)
{
	/* Pairs with co_piece_add(): the slot is set up before it counts. */
	return smp_load_acquire(&cn->nr_pieces);
}

/**
 * co_piece_next() - the first live piece at or after a slot
 * @cn: the node
 * @p: a slot of @cn->pieces (or one past the last)
 *
 * Context: under rcu_read_lock() or co_node.grow_lock.
 * Return: the piece, or NULL.
 */
static inline struct co_piece *co_piece_next(struct co_node *cn,
					     struct co_piece *p)
{
	for (; p < cn->pieces + co_node_slots(cn); p++)
		if (co_piece_live(p))
			return p;
	return NULL;
}

/*
 * Every live piece of @cn's region, by slot.  Under rcu_read_lock() (the
 * piece stays until the walk ends) or co_node.grow_lock.
 */
#define co_for_each_piece(cn, p) \
	for ((p) = co_piece_next((cn), (cn)->pieces); (p); \
	     (p) = co_piece_next((cn), (p) + 1))

/* Orders reported per node: as many as struct carveout_stats carries. */
#define CO_STATS_ORDERS		40

/**
 * struct co_node_stats - a snapshot of one node's region
 * @region_bytes: bytes reserved
 * @free_bytes: bytes not handed out
 * @clean_bytes: free bytes known to hold only zeros
 * @largest_free: bytes in the largest free block
 * @largest_piece: bytes in the largest piece
 * @nr_orders: orders with an entry in @free_blocks
 * @free_blocks: free blocks per order, over all pieces
 */
struct co_node_stats {
	u64 region_bytes;
	u64 free_bytes;
	u64 clean_bytes;
	u64 largest_free;
	u64 largest_piece;
	unsigned int nr_orders;
	u64 free_blocks[CO_STATS_ORDERS];
};

typedef void (*co_piece_stats_fn)(struct co_piece *p, unsigned int index,
				  const struct co_buddy_stats *st, void *priv);
int co_node_walk_pieces(struct co_node *cn, co_piece_stats_fn fn, void *priv);
int co_node_get_stats(struct co_node *cn, struct co_node_stats *st);
u64 co_node_free_bytes(struct co_node *cn);
u64 co_regions_largest_piece(void);
int co_contig_alloc(int nid, unsigned long nr, unsigned int tries,
		    gfp_t gfp, unsigned long *pfn);
int co_piece_add(struct co_node *cn, unsigned long pfn, unsigned long nr,
		 bool elastic);
void co_piece_give_back(struct co_piece *p);
bool co_piece_idle(struct co_piece *p);
bool co_piece_busy(struct co_piece *p, unsigned long *allocated,
		   unsigned long *referenced);
unsigned int co_node_live_pieces(struct co_node *cn);
struct co_piece *co_piece_nth(struct co_node *cn, unsigned int n,
			      u32 *count);
int co_piece_walk_free(struct co_piece *p, unsigned long from,
		       co_buddy_walk_fn fn, void *priv);
#if IS_ENABLED(CONFIG_KUNIT)
struct zone;
bool co_zone_allowed(struct zone *zone);
int co_dmabuf_build_sgt(struct sg_table *sgt, struct device *dev,
			phys_addr_t start, u64 size);
extern struct module *const co_module;
#endif

/* co_elastic.c: regions that grow and shrink at run time */
extern unsigned int co_grow_tries;
int co_elastic_init(void);
void co_elastic_node_init(struct co_node *cn);
void co_elastic_node_start(struct co_node *cn);
void co_elastic_node_exit(struct co_node *cn);
const char *co_grow_fail_name(int why);
void co_elastic_exit(void);
int co_elastic_grow(struct co_node *cn, u64 need, gfp_t gfp);
void co_elastic_allocated(struct co_node *cn);
void co_elastic_freed(struct co_piece *p);
u64 co_elastic_growable(struct co_node *cn);
int co_grow_floor(struct co_node *cn, u64 bytes);
void co_elastic_kick(struct co_node *cn, unsigned long delay);
bool co_elastic_retire(struct co_piece *p);
unsigned long co_elastic_shrink(struct co_node *cn, bool idle_only,
				unsigned long max_pages, unsigned long *next);

/**
 * struct co_resize - new limits of a node's region (CARVEOUT_IOC_RESIZE)
 * @floor: bytes never given back
 * @ceiling: bytes the region may grow to
 * @low_wmark: see co_node.low_wmark
 * @high_wmark: see co_node.high_wmark
 * @piece_bytes: see co_node.piece_bytes
 * @shrink_delay_ms: see co_node.shrink_delay_ms
 * @set: CARVEOUT_RESIZE_* bits: which fields apply
 */
struct co_resize {
	u64 floor;
	u64 ceiling;
	u64 low_wmark;
	u64 high_wmark;
	u64 piece_bytes;
	u32 shrink_delay_ms;
	u32 set;
};

int co_elastic_resize(struct co_node *cn, const struct co_resize *r);

/* co_owner.c: owners (open files, the kernel client), users and limits */
extern struct list_head co_files;
extern struct mutex co_files_lock;
extern unsigned long co_file_limit;
extern unsigned long co_user_limit;
extern unsigned int co_user_share;
extern unsigned int co_reserve_pct;
extern unsigned int co_max_handles;
extern unsigned int co_max_maps;
struct co_file *co_file_create(void);
struct co_file *co_kernel_client_create(void);
void co_file_put(struct co_file *f);
struct co_slab_set *co_file_slab(struct co_file *f, struct co_node *cn);
struct co_buffer *co_file_lookup(struct co_file *f, u32 handle);
bool co_charge(struct co_file *f, u64 bytes);
void co_uncharge(struct co_file *f, u64 bytes);
u64 co_file_user_limit(const struct co_file *f);
u64 co_reserve_bytes(const struct co_node *cn);
bool co_reserve_ok(const struct co_file *f, struct co_node *cn, u64 extra);
int co_handle_take(struct co_file *f);
void co_handle_drop(struct co_file *f);
int co_map_take(struct co_file *f);
void co_map_drop(struct co_file *f);
gfp_t co_file_gfp(const struct co_file *f);
void co_users_exit(void);

/* co_dma.c: streaming DMA for devices named by userspace */
struct device *co_find_device(const char *name);
bool co_dev_translated(struct device *dev);
bool co_dma_has_writer(struct co_buffer *buf);
void co_dma_unmap_all(struct co_buffer *buf);
int co_dma_map(struct co_buffer *buf, struct device *dev,
	       enum dma_data_direction dir, dma_addr_t *addr);
int co_dma_map_grant(struct co_buffer *buf, struct device *dev,
		     enum dma_data_direction dir, enum co_map_grant grant,
		     dma_addr_t *addr);
typedef bool (*co_dma_match_fn)(const struct co_dma_map *m, const void *arg);
unsigned int co_dma_revoke(co_dma_match_fn match, const void *arg);
int co_dma_unmap(struct co_buffer *buf, struct device *dev, dma_addr_t addr);
int co_dma_sync(struct co_buffer *buf, bool for_cpu, u64 offset, u64 len,
		dma_addr_t addr, enum dma_data_direction dir);
void co_dma_flush_lazy(struct device *dev);
void co_iova_lock(void);
void co_iova_unlock(void);

/* co_access.c: who may MAP which device */
int co_access_map(struct co_buffer *buf, struct device *dev,
		  enum dma_data_direction dir, dma_addr_t *addr);
int co_access_optin(struct device *dev);
void co_access_optout(struct device *dev);
int co_access_init(void);
void co_access_exit(void);
#if IS_ENABLED(CONFIG_KUNIT)
enum co_map_grant co_map_grant(const struct co_map_facts *f);
void co_access_facts(struct device *dev, bool admin, struct co_map_facts *f);
int co_map_allow_store(const char *val);
#endif

/* co_place.c: which node and which memory a request gets */
int co_pick_nodes(const struct co_alloc_req *req, int *order, int max);
bool co_use_slab(const struct co_alloc_req *req);
int co_place(struct co_file *f, struct co_buffer *buf,
	     const struct co_alloc_req *req, unsigned long limit_pfn);
void co_place_release(struct co_buffer *buf);
int co_place_init(void);
void co_place_exit(void);

/* co_ioctl.c: the ioctls; STATS's figures serve the in-kernel API too */
struct carveout_stats;
int co_stats_fill(struct carveout_stats *s, unsigned int nid);

/* co_zero.c: background zeroing of freed memory */
int co_zero_start(void);
void co_zero_stop(void);
void co_zero_kick(struct co_node *cn, u64 bytes);

/* co_memtype.c: memory types and the pools of converted memory */
void co_memtype_init(void);
int co_memtype_take(struct co_node *cn, struct co_buffer *buf,
		    const struct co_alloc_req *req, unsigned long limit_pfn);
int co_memtype_set(struct co_buffer *buf);
void co_memtype_release(struct co_buffer *buf);
bool co_memtype_drain(struct co_node *cn);
u64 co_memtype_pool_bytes(struct co_node *cn, unsigned int type);
u64 co_memtype_conversions(void);
void co_memtype_exit(void);
#if IS_ENABLED(CONFIG_KUNIT)
bool co_memtype_fits(unsigned long pfn, unsigned long nr_pages,
		     unsigned long want, unsigned long align,
		     unsigned long limit_pfn);
#endif

/* co_buffer.c: a buffer's life, from zeroed memory to its last reference */
struct co_buffer *co_buffer_alloc(struct co_file *f,
				  const struct co_alloc_req *req);
/* co_buffers_find()'s position past the last buffer. */
#define CO_BUFFERS_END		((u64)U32_MAX << 32)
void co_buffers_walk_begin(void);
void co_buffers_walk_end(void);
struct co_buffer *co_buffers_find(u64 *pos);
int co_buffers_init(void);
void co_buffer_put(struct co_buffer *buf);
void co_buffer_kill(struct co_buffer *buf);
extern atomic64_t co_held_bytes;
void co_buffers_exit(void);

/**
 * co_buffer_get() - take a reference to a buffer
 * @buf: the buffer; the caller already holds a reference or the lock of a
 *	table that does
 */
static inline void co_buffer_get(struct co_buffer *buf)
{
	kref_get(&buf->ref);
}

/* The page holding a physical address of a region. */
static inline struct page *co_phys_page(phys_addr_t phys)
{
	return pfn_to_page(PHYS_PFN(phys));
}

/* co_mmap.c: user mappings of buffers */
unsigned long co_buffer_span(const struct co_buffer *buf);
int co_buffer_mmap(struct co_buffer *buf, struct vm_area_struct *vma,
		   unsigned long pgoff);
vm_fault_t co_buffer_fault(struct co_buffer *buf, struct vm_fault *vmf);
int co_mmap_handle(struct co_file *f, struct vm_area_struct *vma);

/* co_dmabuf.c: the dma-buf exporter */
struct dma_buf *co_buffer_export(struct co_buffer *buf, int flags);
unsigned int co_dmabuf_sync(struct co_buffer *buf, bool for_cpu, u64 offset,
			    u64 len);

/**
 * struct co_ucmd - one ioctl call
 * @f: the caller's owner state
 * @mode: the mode the caller's file was opened with (FMODE_READ,
 *	FMODE_WRITE): a file opened read-only hands out no writable access
 * @uarg: the caller's argument
 * @cmd: the kernel's copy of it, @ksize bytes
 * @usize: the size the caller gave
 * @ksize: the size the kernel knows
 */
struct co_ucmd {
	struct co_file *f;
	fmode_t mode;
	void __user *uarg;
	void *cmd;
	u32 usize;
	u32 ksize;
};

/* co_ioctl.c: the ioctl dispatcher and its commands */
long co_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
#if IS_ENABLED(CONFIG_KUNIT)
int co_ucmd_copy_in(struct co_ucmd *uc, u32 min_size, u32 ksize);
int co_ucmd_respond(struct co_ucmd *uc);
#endif

/* co_dev.c: /dev/carveout */
int co_dev_init(void);
void co_dev_exit(void);

/* co_kapi.c: the in-kernel API */
extern struct co_file *co_kernel_client;
int co_kapi_init(void);
void co_kapi_exit(void);
#if IS_ENABLED(CONFIG_KUNIT)
void co_callsites_name(bool (*match)(unsigned long ip, void *priv),
		       void *priv);
#endif

/* co_debugfs.c */
void co_debugfs_init(void);
extern const struct file_operations co_buffers_fops, co_callers_fops,
	co_slabinfo_fops, co_freemap_fops;
void co_debugfs_exit(void);

#endif /* _CARVEOUT_H */
