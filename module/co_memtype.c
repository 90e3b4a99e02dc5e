// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: memory types, and the pools that keep converted memory.
 *
 * A write-combined or uncached buffer is mapped with that type in user
 * space, so the kernel's linear mapping of its pages must have the same
 * type (x86 allows one type per page): set_memory_wc() / set_memory_uc()
 * switch it, set_memory_wb() switches it back.  Each such call flushes the
 * TLB of every CPU with an IPI and splits the direct map's large pages, so
 * converting at every ALLOC and FREE would let any user who can open the
 * device disturb the whole machine.  Converted memory is therefore kept
 * converted, in pools:
 *
 * - Per node, one pool per type (WC, UC; struct co_memtype_pool in
 *   struct co_node).  A pool is a list of blocks (struct co_memtype_block):
 *   a piece, a first page and a page count, exactly as the arena handed
 *   the block out.  A pooled block stays allocated in its arena, so STATS,
 *   buddyinfo and freemap count it as used; debugfs' summary shows the
 *   pools per node and type.
 * - FREE of a WC/UC buffer puts its block, still converted, at the head of
 *   its node's pool of that type (co_memtype_release()), unless that would
 *   take the node's two pools past memtype_pool_percent of its region.
 * - ALLOC of a WC/UC buffer first looks in the pool of each node it tries,
 *   in the policy's order (co_memtype_take(), from co_place.c), and
 *   converts new memory only when no pooled block fits.  A block serves a
 *   request of exactly its page count (an arena frees a block whole, and a
 *   buffer is charged its granted size), whose alignment and DMA limit it
 *   meets (co_memtype_fits()); the most recently freed fitting block wins.
 *   The buffer is zeroed through the linear mapping, which has the
 *   block's type (co_buffer.c), before anyone sees it.
 * - Memory goes back to write-back and to the arena only when the arena
 *   needs it: when a node cannot serve an allocation of any type while its
 *   pools hold memory (co_memtype_drain(), then placement tries the node
 *   again), when a free finds the pools full, and at unload
 *   (co_memtype_exit()).  A block whose conversion back fails never
 *   returns to the arena: it stays allocated there, with one ratelimited
 *   log line, so its piece is not given back to the page allocator at
 *   unload either (co_region.c).
 *
 * On other architectures WC and UC are not supported (-EOPNOTSUPP at
 * ALLOC) and the pools stay empty.
 *
 * Lock order: co_node.mt_lock protects the node's two pools (their lists
 * and byte counts).  It is innermost among the module's locks: nothing is
 * taken under it, and conversions and arena frees run after it is dropped.
 * It may be taken with mmap_lock held (the last reference of a buffer goes
 * at munmap).  The conversion count is an atomic.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#ifdef CONFIG_X86
#include <asm/set_memory.h>
#endif

#include <linux/carveout.h>

#include "carveout.h"

static unsigned int co_memtype_pool_percent = 25;
module_param_named(memtype_pool_percent, co_memtype_pool_percent, uint, 0644);
MODULE_PARM_DESC(memtype_pool_percent,
		 "Share of each node's region (percent) that freed write-combined or uncached memory may keep its type for reuse (0: convert back at every free; default 25)");

/* Calls of set_memory_*() made, either direction. */
static atomic64_t co_memtype_conversions_count = ATOMIC64_INIT(0);

/**
 * struct co_memtype_block - a free block kept in its memory type
 * @link: entry in co_memtype_pool.blocks (under co_node.mt_lock)
 * @piece: the arena it was allocated from (and stays allocated in)
 * @pfn: first page
 * @nr_pages: pages, as the arena handed them out
 */
struct co_memtype_block {
	struct list_head link;
	struct co_piece *piece;
	unsigned long pfn;
	unsigned long nr_pages;
};

/* The pool index of a buffer's cache mode, or -1 for cached memory. */
static int co_memtype_index(u32 flags)
{
	switch (flags & CARVEOUT_ALLOC_CACHE_MASK) {
	case CARVEOUT_ALLOC_WC:
		return CO_MEMTYPE_WC;
	case CARVEOUT_ALLOC_UNCACHED:
		return CO_MEMTYPE_UC;
	default:
		return -1;
	}
}

#ifdef CONFIG_X86
/* Switch the linear mapping of @nr pages at @pfn to @type. */
static int co_memtype_convert(unsigned long pfn, unsigned long nr, int type)
{
	unsigned long va = (unsigned long)pfn_to_kaddr(pfn);

	atomic64_inc(&co_memtype_conversions_count);
	return type == CO_MEMTYPE_WC ? set_memory_wc(va, nr) :
				       set_memory_uc(va, nr);
}

/* Switch the linear mapping of @nr pages at @pfn back to write-back. */
static int co_memtype_restore(unsigned long pfn, unsigned long nr)
{
	atomic64_inc(&co_memtype_conversions_count);
	return set_memory_wb((unsigned long)pfn_to_kaddr(pfn), nr);
}
#else
static int co_memtype_convert(unsigned long pfn, unsigned long nr, int type)
{
	return -EOPNOTSUPP;
}

static int co_memtype_restore(unsigned long pfn, unsigned long nr)
{
	return -EOPNOTSUPP;
}
#endif

/*
 * Convert a block back to write-back and give it to its arena; if that
 * fails, leak it: memory of another type never goes back.
 */
static void co_memtype_give_back(struct co_piece *piece, unsigned long pfn,
				 unsigned long nr)
{
	if (co_memtype_restore(pfn, nr)) {
		pr_err_ratelimited("cannot restore the memory type of pfn %#lx; leaking %lu pages\n",
				   pfn, nr);
		return;
	}
	WARN_ON_ONCE(co_buddy_free(&piece->buddy, pfn, nr));
	co_zero_kick(piece->node, (u64)nr << PAGE_SHIFT);
}

/**
 * co_memtype_fits() - can a pooled block serve a request?
 * @pfn: the block's first page
 * @nr_pages: its pages
 * @want: pages the request needs
 * @align: alignment the request needs, in pages (0 or 1: none)
 * @limit_pfn: first page the memory must stay below (0: no limit)
 *
 * A block is handed out whole: it serves exactly its own page count.
 *
 * Context: any.
 * Return: true when the block serves the request.
 */
VISIBLE_IF_KUNIT bool co_memtype_fits(unsigned long pfn, unsigned long nr_pages,
				      unsigned long want, unsigned long align,
				      unsigned long limit_pfn)
{
	if (nr_pages != want)
		return false;
	if (align > 1 && !IS_ALIGNED(pfn, align))
		return false;
	return !limit_pfn || pfn + nr_pages <= limit_pfn;
}
EXPORT_SYMBOL_IF_KUNIT(co_memtype_fits);

/**
 * co_memtype_take() - serve a WC/UC request from a node's pool
 * @cn: the node
 * @buf: the buffer; fills piece, phys, granted and converted
 * @req: the request
 * @limit_pfn: first page the memory must stay below (0: no limit)
 *
 * The block still holds its last owner's bytes: the caller zeroes it.
 *
 * Context: process context; takes @cn's mt_lock.
 * Return: 0, or -ENOENT when the request is cached or no block fits.
 */
int co_memtype_take(struct co_node *cn, struct co_buffer *buf,
		    const struct co_alloc_req *req, unsigned long limit_pfn)
{
	unsigned long nr = DIV_ROUND_UP(req->size, PAGE_SIZE);
	unsigned long align = req->align > PAGE_SIZE ?
			      req->align >> PAGE_SHIFT : 0;
	int type = co_memtype_index(req->flags);
	struct co_memtype_block *b, *found = NULL;
	struct co_memtype_pool *pool;

	if (type < 0)
		return -ENOENT;
	pool = &cn->mt_pool[type];
	mutex_lock(&cn->mt_lock);
	list_for_each_entry(b, &pool->blocks, link) {
		if (co_memtype_fits(b->pfn, b->nr_pages, nr, align, limit_pfn)) {
			found = b;
			list_del(&b->link);
			WRITE_ONCE(pool->bytes,
				   pool->bytes - ((u64)b->nr_pages << PAGE_SHIFT));
			break;
		}
	}
	mutex_unlock(&cn->mt_lock);
	if (!found)
		return -ENOENT;
	buf->piece = found->piece;
	buf->phys = PFN_PHYS(found->pfn);
	buf->granted = (u64)found->nr_pages << PAGE_SHIFT;
	buf->converted = true;
	kfree(found);
	return 0;
}

/**
 * co_memtype_set() - give a zeroed buffer's memory the buffer's type
 * @buf: the buffer, placed and zeroed
 *
 * New memory is converted; a pooled block has the type already, and only
 * the zeroes written through its linear mapping are pushed out before the
 * buffer is published.
 *
 * Context: process context, may sleep.
 * Return: 0 (also for cached buffers), -EOPNOTSUPP for WC/UC where the
 * architecture cannot switch memory types, or the conversion's error.
 */
int co_memtype_set(struct co_buffer *buf)
{
	int type = co_memtype_index(buf->flags);
	int ret;

	if (type < 0)
		return 0;
	if (buf->converted) {
		/* Drains the write-combining buffers of the zeroing. */
		wmb();
		return 0;
	}
	ret = co_memtype_convert(PHYS_PFN(buf->phys), buf->granted >> PAGE_SHIFT,
				 type);
	if (!ret)
		buf->converted = true;
	return ret;
}

/* Keep a converted block in its node's pool unless the pools are full. */
static bool co_memtype_pool_put(struct co_node *cn, int type,
				struct co_piece *piece, unsigned long pfn,
				unsigned long nr)
{
	u64 cap = div_u64(cn->bytes * min(READ_ONCE(co_memtype_pool_percent),
					  100U), 100);
	u64 bytes = (u64)nr << PAGE_SHIFT;
	struct co_memtype_block *b;
	bool kept = false;

	if (bytes > cap)
		return false;
	b = co_kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return false;
	b->piece = piece;
	b->pfn = pfn;
	b->nr_pages = nr;
	mutex_lock(&cn->mt_lock);
	if (cn->mt_pool[CO_MEMTYPE_WC].bytes + cn->mt_pool[CO_MEMTYPE_UC].bytes +
	    bytes <= cap) {
		list_add(&b->link, &cn->mt_pool[type].blocks);
		WRITE_ONCE(cn->mt_pool[type].bytes,
			   cn->mt_pool[type].bytes + bytes);
		kept = true;
	}
	mutex_unlock(&cn->mt_lock);
	if (!kept)
		kfree(b);
	return kept;
}

/**
 * co_memtype_release() - give back the memory of a converted buffer
 * @buf: a page buffer whose memory has its type (@buf->converted)
 *
 * The block goes to its node's pool, still converted; when the pools are
 * full it is converted back and freed to its arena, or leaked with one
 * log line when that conversion fails.
 *
 * Context: process context, may sleep.
 */
void co_memtype_release(struct co_buffer *buf)
{
	unsigned long pfn = PHYS_PFN(buf->phys), nr = buf->granted >> PAGE_SHIFT;
	int type = co_memtype_index(buf->flags);

	if (WARN_ON_ONCE(type < 0 || !buf->piece))
		return;
	if (!co_memtype_pool_put(buf->node, type, buf->piece, pfn, nr))
		co_memtype_give_back(buf->piece, pfn, nr);
	buf->converted = false;
}

/**
 * co_memtype_drain() - give a node's pooled memory back to its arena
 * @cn: the node
 *
 * Every pooled block is converted back to write-back and freed to its
 * arena (or leaked, see co_memtype_release()).
 *
 * Context: process context, may sleep; takes @cn's mt_lock.
 * Return: true when the pools held any memory.
 */
bool co_memtype_drain(struct co_node *cn)
{
	struct co_memtype_block *b, *tmp;
	LIST_HEAD(blocks);
	int type;

	mutex_lock(&cn->mt_lock);
	for (type = 0; type < CO_MEMTYPE_NR; type++) {
		list_splice_init(&cn->mt_pool[type].blocks, &blocks);
		WRITE_ONCE(cn->mt_pool[type].bytes, 0);
	}
	mutex_unlock(&cn->mt_lock);
	if (list_empty(&blocks))
		return false;
	list_for_each_entry_safe(b, tmp, &blocks, link) {
		co_memtype_give_back(b->piece, b->pfn, b->nr_pages);
		kfree(b);
		cond_resched();
	}
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(co_memtype_drain);

/**
 * co_memtype_pool_bytes() - bytes a node's pool of one type holds
 * @cn: the node
 * @type: CO_MEMTYPE_WC or CO_MEMTYPE_UC
 *
 * Context: any; a snapshot without the lock.
 * Return: the bytes.
 */
u64 co_memtype_pool_bytes(struct co_node *cn, unsigned int type)
{
	return type < CO_MEMTYPE_NR ? READ_ONCE(cn->mt_pool[type].bytes) : 0;
}
EXPORT_SYMBOL_IF_KUNIT(co_memtype_pool_bytes);

/**
 * co_memtype_conversions() - memory type switches made so far
 *
 * Context: any.
 * Return: the number of set_memory_*() calls, either direction.
 */
u64 co_memtype_conversions(void)
{
	return atomic64_read(&co_memtype_conversions_count);
}
EXPORT_SYMBOL_IF_KUNIT(co_memtype_conversions);

/**
 * co_memtype_init() - set up every node's pools
 *
 * Context: module load, after the regions exist and before any buffer.
 */
void co_memtype_init(void)
{
	struct co_node *cn;
	int type;

	co_for_each_node(cn) {
		mutex_init(&cn->mt_lock);
		for (type = 0; type < CO_MEMTYPE_NR; type++) {
			INIT_LIST_HEAD(&cn->mt_pool[type].blocks);
			cn->mt_pool[type].bytes = 0;
		}
	}
}

/**
 * co_memtype_exit() - convert every pooled block back at unload
 *
 * Context: module unload, after the last buffer went and before the
 * regions go.
 */
void co_memtype_exit(void)
{
	struct co_node *cn;

	co_for_each_node(cn) {
		co_memtype_drain(cn);
		mutex_destroy(&cn->mt_lock);
	}
}
