// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: elastic regions, grown and shrunk by whole pieces at run time.
 *
 * A node's region has a floor, the pieces reserved at load (or raised
 * later by CARVEOUT_IOC_RESIZE): never given back before unload, so an
 * allocation that fits in it is as fast and as certain as ever.  Above the
 * floor it may grow up to a ceiling by elastic pieces, each taken with
 * alloc_contig_range() (co_contig_alloc()):
 *
 * - in the background (grow_work) when the free bytes fall below the low
 *   watermark after an allocation, ahead of need;
 * - synchronously when an allocation finds no piece that can serve it
 *   (co_place.c): one piece large enough for the request, trying at most
 *   carveout.grow_tries candidate ranges, so a fragmented machine fails
 *   the allocation quickly instead of compacting for seconds.
 *
 * Growth is best effort: it fails when the ceiling leaves no room or when
 * the page allocator has no contiguous range; the failure and its reason
 * are recorded (STATS, debugfs) and logged, rate limited.
 *
 * It shrinks by giving wholly free elastic pieces back to the page
 * allocator: when a piece has stayed free for shrink_delay_ms and the free
 * bytes stay at or above the high watermark without it (shrink_work,
 * armed when a buffer on an elastic piece is freed), and under memory
 * pressure, when the kernel's shrinker asks (any wholly free elastic
 * piece, at once).  The floor is never given back.
 *
 * Pieces live in the slots of co_node.pieces (co_region.c); the slot array
 * never moves, so co_buffer.piece stays valid.  Readers (allocation,
 * statistics, free maps) walk the slots under rcu_read_lock() and skip all
 * but CO_PIECE_LIVE ones; nothing on the allocation path takes a node-wide
 * lock.  Giving a piece back, under co_node.grow_lock:
 *
 *   1. the slot becomes CO_PIECE_RETIRING: new walks skip it;
 *   2. the arena is checked wholly free under its lock; if not, the piece
 *      goes back to LIVE;
 *   3. synchronize_rcu(): a walker that saw it LIVE before 1 has left its
 *      read-side section.  An allocation (it may sleep: it may wait for a
 *      zeroing step, co_zero.c) runs outside the section but counts itself
 *      in the piece's users first, inside it; so after the grace period
 *      every allocation that saw the piece LIVE is counted, and new ones
 *      skip it.  A piece with users is kept.  (An allocation also re-reads
 *      the state after it allocated and gives the block back if the piece
 *      started retiring.)  The zeroing thread writes to free pages of a
 *      piece inside a read-side section, so it is done with the piece too;
 *   4. the arena is checked again, with every page's reference count
 *      (co_piece_busy()); only then free_contig_range().
 *
 * Why no one can reach a page given back (isolation): every page-granular
 * buffer holds its block in the arena until its memory is released
 * (co_buffer.c), and a buffer's memory is released only after its last
 * reference (handle, mmap, dma-buf, DMA mapping, in-kernel user) went and
 * after every outside reference to its pages (a pipe, an io_uring fixed
 * buffer, a GUP pin) went too (the held list).  Sub-page buffers and their
 * slabs live only in slot 0, which is never elastic; pooled write-combined
 * and uncached blocks stay allocated in their arena.  So a wholly free
 * arena has no user mapping, no pin and no DMA mapping; step 4's page
 * reference check is a second line, and a piece that fails it is kept.
 *
 * Locks: co_node.grow_lock, then the arena locks (carveout.h).  The
 * shrinker only trylocks grow_lock: growth calls alloc_contig_range()
 * under it, which may reclaim.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/shrinker.h>
#include <linux/workqueue.h>

#include <linux/carveout.h>

#include "carveout.h"
#include "co_compat.h"

static char *ceiling;
module_param(ceiling, charp, 0444);
MODULE_PARM_DESC(ceiling, "Size every region may grow to at run time (K/M/G; default: the floor, carveout.size/nodes, i.e. no growth)");

static char *elastic_piece = "4M";
module_param(elastic_piece, charp, 0444);
MODULE_PARM_DESC(elastic_piece, "Size of a piece taken for growth (default 4M; larger when one allocation needs it)");

static char *low_watermark;
module_param(low_watermark, charp, 0444);
MODULE_PARM_DESC(low_watermark, "Grow in the background when a region's free bytes fall below this (default 0: only on demand)");

static char *high_watermark;
module_param(high_watermark, charp, 0444);
MODULE_PARM_DESC(high_watermark, "Free bytes a region keeps when it gives idle pieces back (default 0)");

static unsigned int shrink_delay_ms = 1000;
module_param(shrink_delay_ms, uint, 0444);
MODULE_PARM_DESC(shrink_delay_ms, "How long a piece stays wholly free before it is given back (default 1000)");

unsigned int co_grow_tries = 16;
module_param_named(grow_tries, co_grow_tries, uint, 0644);
MODULE_PARM_DESC(grow_tries, "Contiguous ranges an allocation tries when it grows its region (default 16)");

static struct workqueue_struct *co_elastic_wq;
static struct shrinker *co_shrinker;
static u64 co_param_ceiling, co_param_piece, co_param_low, co_param_high;

static const char *const co_grow_fail_names[] = {
	[CO_GROW_OK] = "none",
	[CO_GROW_CEILING] = "at ceiling",
	[CO_GROW_CONTIG] = "no contiguous memory",
	[CO_GROW_SLOTS] = "no piece slot",
	[CO_GROW_NOMEM] = "no memory for the arena",
	[CO_GROW_INTR] = "interrupted",
};

/**
 * co_grow_fail_name() - what a growth failure reason means
 * @why: enum co_grow_fail
 *
 * Context: any.
 * Return: a constant string.
 */
const char *co_grow_fail_name(int why)
{
	if (why < 0 || why >= ARRAY_SIZE(co_grow_fail_names))
		return "?";
	return co_grow_fail_names[why];
}

static void co_grow_failed(struct co_node *cn, int why, u64 bytes)
{
	atomic64_inc(&cn->grow_fail_count);
	WRITE_ONCE(cn->last_fail, why);
	WRITE_ONCE(cn->last_fail_bytes, bytes);
	pr_info_ratelimited("node %d: cannot grow by %llu KiB (%llu of %llu MiB): %s\n",
			    cn->nid, bytes >> 10, READ_ONCE(cn->bytes) >> 20,
			    READ_ONCE(cn->ceiling) >> 20,
			    co_grow_fail_name(why));
}

/* Run the idle give-back one delay from now, unless it is queued. */
static void co_elastic_arm(struct co_node *cn)
{
	if (co_elastic_wq)
		queue_delayed_work(co_elastic_wq, &cn->shrink_work,
				   msecs_to_jiffies(READ_ONCE(cn->shrink_delay_ms)));
}

/* Pages of a piece that serves @need bytes, a block of them aligned. */
static unsigned long co_grow_pages(struct co_node *cn, u64 need)
{
	unsigned long nr = DIV_ROUND_UP(need, PAGE_SIZE);

	if (need > cn->piece_bytes)
		nr = roundup_pow_of_two(nr);
	else
		nr = DIV_ROUND_UP(cn->piece_bytes, PAGE_SIZE);
	return ALIGN(nr, pageblock_nr_pages);
}

/*
 * Take one piece serving @need bytes; grow_lock held.  An elastic piece
 * stays under the ceiling (a smaller one when the request still fits).
 */
static int co_grow_one(struct co_node *cn, u64 need, bool elastic,
		       unsigned int tries, gfp_t gfp)
{
	unsigned long nr = co_grow_pages(cn, need), min, room, pfn;
	int ret, why;

	lockdep_assert_held(&cn->grow_lock);
	if (elastic) {
		room = cn->ceiling > cn->bytes ?
		       (cn->ceiling - cn->bytes) >> PAGE_SHIFT : 0;
		room = ALIGN_DOWN(room, pageblock_nr_pages);
		min = ALIGN(DIV_ROUND_UP(need, PAGE_SIZE), pageblock_nr_pages);
		if (need > cn->piece_bytes)
			min = roundup_pow_of_two(min);
		if (nr > room)
			nr = room >= min ? room : 0;
		if (!nr) {
			co_grow_failed(cn, CO_GROW_CEILING, need);
			return -ENOSPC;
		}
	}
	ret = co_contig_alloc(cn->nid, nr, tries, gfp, &pfn);
	if (ret) {
		co_grow_failed(cn, ret == -EINTR ? CO_GROW_INTR :
				   CO_GROW_CONTIG, (u64)nr << PAGE_SHIFT);
		return ret;
	}
	ret = co_piece_add(cn, pfn, nr, elastic);
	if (ret) {
		free_contig_range(pfn, nr);
		why = ret == -ENOSPC ? CO_GROW_SLOTS : CO_GROW_NOMEM;
		co_grow_failed(cn, why, (u64)nr << PAGE_SHIFT);
		return ret;
	}
	atomic64_inc(&cn->grow_count);
	atomic64_add((u64)nr << PAGE_SHIFT, &cn->grow_bytes);
	/* Its memory held other data: zero it ahead of need. */
	co_zero_kick(cn, (u64)nr << PAGE_SHIFT);
	/* A piece nobody ends up using goes back when idle, too. */
	if (elastic)
		co_elastic_arm(cn);
	return 0;
}

/**
 * co_elastic_grow() - grow a region for an allocation that found no room
 * @cn: the node
 * @need: bytes the allocation needs in one block (size or alignment)
 * @gfp: the allocation's context; no growth unless it may sleep
 *
 * Takes one piece, trying at most carveout.grow_tries ranges.
 *
 * Context: process context, sleeps.
 * Return: 0 when a piece was added; -EAGAIN when @gfp may not sleep,
 * -ENOSPC at the ceiling (or with no slot left), -ENOMEM when the page
 * allocator had no contiguous range, -EINTR.
 */
int co_elastic_grow(struct co_node *cn, u64 need, gfp_t gfp)
{
	int ret;

	if (!gfpflags_allow_blocking(gfp))
		return -EAGAIN;
	if (READ_ONCE(cn->ceiling) <= READ_ONCE(cn->floor))
		return -ENOSPC;
	if (mutex_lock_killable(&cn->grow_lock))
		return -EINTR;
	ret = co_grow_one(cn, need, true, READ_ONCE(co_grow_tries),
			  (gfp & GFP_KERNEL) | __GFP_NOWARN);
	mutex_unlock(&cn->grow_lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(co_elastic_grow);

/**
 * co_grow_floor() - take a floor piece
 * @cn: the node
 * @bytes: at least this many bytes (one elastic piece's size, or more)
 *
 * Context: process context, sleeps; co_node.grow_lock held.
 * Return: 0, -ENOMEM, -ENOSPC, -EINTR.
 */
int co_grow_floor(struct co_node *cn, u64 bytes)
{
	return co_grow_one(cn, bytes, false, 0, GFP_KERNEL | __GFP_NOWARN);
}

/**
 * co_elastic_kick() - run the idle give-back after a delay
 * @cn: the node
 * @delay: jiffies; ULONG_MAX: nothing to do
 *
 * Replaces a pending run: the delay may just have been shortened.
 *
 * Context: any.
 */
void co_elastic_kick(struct co_node *cn, unsigned long delay)
{
	if (delay != ULONG_MAX && co_elastic_wq)
		mod_delayed_work(co_elastic_wq, &cn->shrink_work, delay);
}
EXPORT_SYMBOL_IF_KUNIT(co_elastic_kick);

/**
 * co_elastic_growable() - the largest piece a region could still grow by
 * @cn: the node
 *
 * Context: any.
 * Return: bytes, 0 at the ceiling.
 */
u64 co_elastic_growable(struct co_node *cn)
{
	u64 bytes = READ_ONCE(cn->bytes), top = READ_ONCE(cn->ceiling);
	unsigned long room;

	if (top <= bytes)
		return 0;
	room = ALIGN_DOWN((top - bytes) >> PAGE_SHIFT, pageblock_nr_pages);
	return room ? (u64)rounddown_pow_of_two(room) << PAGE_SHIFT : 0;
}

/* Background growth: up to the low watermark, as long as it works. */
static void co_grow_work(struct work_struct *w)
{
	struct co_node *cn = container_of(w, struct co_node, grow_work);

	mutex_lock(&cn->grow_lock);
	while (cn->low_wmark && cn->bytes < cn->ceiling &&
	       co_node_free_bytes(cn) < cn->low_wmark &&
	       !co_grow_one(cn, cn->piece_bytes, true, 0,
			    GFP_KERNEL | __GFP_NOWARN))
		;
	mutex_unlock(&cn->grow_lock);
}

/**
 * co_elastic_allocated() - an allocation was served on a node
 * @cn: the node
 *
 * Queues background growth when the free bytes fell below the low
 * watermark: free is estimated as region minus granted bytes, cheaply.
 *
 * Context: any.
 */
void co_elastic_allocated(struct co_node *cn)
{
	u64 low = READ_ONCE(cn->low_wmark), bytes = READ_ONCE(cn->bytes);
	u64 granted = atomic64_read(&cn->granted);

	if (!low || bytes >= READ_ONCE(cn->ceiling) || !co_elastic_wq)
		return;
	if (bytes < granted || bytes - granted < low)
		queue_work(co_elastic_wq, &cn->grow_work);
}

/**
 * co_elastic_freed() - memory of a node went back to an arena
 * @p: the piece it went back to (NULL for a slab object)
 *
 * Notes when an elastic piece became wholly free, and arms the idle
 * give-back.
 *
 * Context: any.
 */
void co_elastic_freed(struct co_piece *p)
{
	struct co_node *cn;

	if (!p || !READ_ONCE(p->elastic) || !co_elastic_wq)
		return;
	cn = p->node;
	/* Now free, the piece may be given back: look at it under RCU. */
	rcu_read_lock();
	if (co_piece_live(p) && co_piece_idle(p))
		WRITE_ONCE(p->free_since, jiffies | 1);
	rcu_read_unlock();
	co_elastic_arm(cn);
}

/**
 * co_elastic_retire() - give a wholly free elastic piece back
 * @p: the piece
 *
 * See the top of this file for the steps.
 *
 * Context: process context, sleeps; co_node.grow_lock held.
 * Return: true when the piece went back to the page allocator.
 */
bool co_elastic_retire(struct co_piece *p)
{
	struct co_node *cn = p->node;
	unsigned long allocated, referenced;
	u64 bytes = (u64)p->nr_pages << PAGE_SHIFT;

	lockdep_assert_held(&cn->grow_lock);
	if (!co_piece_live(p) || !p->elastic || p->reserved_mem ||
	    p == cn->pieces)
		return false;
	WRITE_ONCE(p->state, CO_PIECE_RETIRING);
	/* Order the store before the arena check (its lock orders, too). */
	smp_mb();
	if (!co_piece_idle(p))
		goto keep;
	synchronize_rcu();
	/*
	 * An allocation that saw the piece live holds a user until it is
	 * done (it may sleep, outside its read-side section); the acquire
	 * pairs with its release, so what it did to the arena is seen.
	 */
	if (atomic_read_acquire(&p->users))
		goto keep;
	if (co_piece_busy(p, &allocated, &referenced)) {
		pr_warn_once("node %d: keeping piece at pfn %#lx: %lu pages allocated, %lu referenced\n",
			     cn->nid, p->start_pfn, allocated, referenced);
		goto keep;
	}
	co_piece_give_back(p);
	co_buddy_destroy(&p->buddy);
	WRITE_ONCE(cn->bytes, cn->bytes - bytes);
	atomic_dec(&cn->nr_elastic);
	atomic64_inc(&cn->shrink_count);
	atomic64_add(bytes, &cn->shrink_bytes);
	/* The slot may take a new piece (co_piece_add(), under grow_lock). */
	smp_store_release(&p->state, CO_PIECE_EMPTY);
	return true;
keep:
	/* Pairs with co_piece_live(): allocations may use it again. */
	smp_store_release(&p->state, CO_PIECE_LIVE);
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(co_elastic_retire);

/* An idle-shrink candidate: free long enough, free bytes stay high. */
static bool co_shrink_due(struct co_node *cn, struct co_piece *p, u64 free,
			  unsigned long *next)
{
	unsigned long delay = msecs_to_jiffies(cn->shrink_delay_ms);
	unsigned long since = READ_ONCE(p->free_since);

	if (!since) {
		WRITE_ONCE(p->free_since, jiffies | 1);
		*next = min(*next, delay);
		return false;
	}
	if (time_before(jiffies, since + delay)) {
		*next = min(*next, since + delay - jiffies);
		return false;
	}
	return free >= ((u64)p->nr_pages << PAGE_SHIFT) + cn->high_wmark ||
	       cn->bytes > cn->ceiling;
}

/**
 * co_elastic_shrink() - give wholly free elastic pieces back
 * @cn: the node
 * @idle_only: only pieces free for shrink_delay_ms whose bytes the
 *	region does not need to stay at its high watermark (else any wholly
 *	free elastic piece: memory pressure, or asked for)
 * @max_pages: stop once this many pages went back
 * @next: for @idle_only, lowered to the jiffies until the next piece
 *	is due (may be NULL otherwise)
 *
 * Context: process context, sleeps; co_node.grow_lock held.
 * Return: pages given back.
 */
unsigned long co_elastic_shrink(struct co_node *cn, bool idle_only,
				unsigned long max_pages, unsigned long *next)
{
	u64 free = co_node_free_bytes(cn);
	unsigned long done = 0;
	struct co_piece *p;
	unsigned int i;

	lockdep_assert_held(&cn->grow_lock);
	for (i = cn->nr_pieces; i-- > 1 && done < max_pages;) {
		p = &cn->pieces[i];
		if (!co_piece_live(p) || !p->elastic)
			continue;
		if (!co_piece_idle(p)) {
			WRITE_ONCE(p->free_since, 0);
			continue;
		}
		if (idle_only && !co_shrink_due(cn, p, free, next))
			continue;
		if (co_elastic_retire(p)) {
			done += p->nr_pages;
			free -= (u64)p->nr_pages << PAGE_SHIFT;
		}
	}
	return done;
}
EXPORT_SYMBOL_IF_KUNIT(co_elastic_shrink);

static void co_shrink_work(struct work_struct *w)
{
	struct co_node *cn = container_of(to_delayed_work(w), struct co_node,
					  shrink_work);
	unsigned long next = ULONG_MAX;

	mutex_lock(&cn->grow_lock);
	co_elastic_shrink(cn, true, ULONG_MAX, &next);
	mutex_unlock(&cn->grow_lock);
	co_elastic_kick(cn, next);
}

/* Pages of wholly free elastic pieces, all nodes. */
static unsigned long co_shrinker_count(struct shrinker *s,
				       struct shrink_control *sc)
{
	unsigned long n = 0;
	struct co_node *cn;
	struct co_piece *p;

	co_for_each_node(cn) {
		if (!atomic_read(&cn->nr_elastic))
			continue;
		rcu_read_lock();
		co_for_each_piece(cn, p)
			if (p->elastic && p != cn->pieces && co_piece_idle(p))
				n += p->nr_pages;
		rcu_read_unlock();
	}
	return n;
}

static unsigned long co_shrinker_scan(struct shrinker *s,
				      struct shrink_control *sc)
{
	unsigned long done = 0;
	struct co_node *cn;

	co_for_each_node(cn) {
		if (!atomic_read(&cn->nr_elastic) ||
		    !mutex_trylock(&cn->grow_lock))
			continue;
		done += co_elastic_shrink(cn, false,
					  sc->nr_to_scan - min(done,
							       sc->nr_to_scan),
					  NULL);
		mutex_unlock(&cn->grow_lock);
		if (done >= sc->nr_to_scan)
			break;
	}
	return done ? done : SHRINK_STOP;
}

static int co_param_bytes(const char *name, const char *s, u64 *bytes)
{
	*bytes = 0;
	if (!s || !*s || !strcmp(s, "0"))
		return 0;
	if (co_parse_size(s, bytes)) {
		pr_err("bad carveout.%s \"%s\" (want e.g. 64M)\n", name, s);
		return -EINVAL;
	}
	return 0;
}

/**
 * co_elastic_init() - parse the parameters, start the workqueue and the
 *	shrinker
 *
 * Context: module load, before the regions are reserved.
 * Return: 0, -EINVAL for a bad parameter, -ENOMEM.
 */
int co_elastic_init(void)
{
	int ret;

	ret = co_param_bytes("ceiling", ceiling, &co_param_ceiling) ?:
	      co_param_bytes("elastic_piece", elastic_piece, &co_param_piece) ?:
	      co_param_bytes("low_watermark", low_watermark, &co_param_low) ?:
	      co_param_bytes("high_watermark", high_watermark, &co_param_high);
	if (ret)
		return ret;
	if (co_param_low && co_param_high && co_param_low > co_param_high) {
		pr_err("carveout.low_watermark above carveout.high_watermark\n");
		return -EINVAL;
	}
	co_param_piece = max_t(u64, ALIGN(co_param_piece ?: SZ_4M,
					  pageblock_nr_pages << PAGE_SHIFT),
			       pageblock_nr_pages << PAGE_SHIFT);
	co_elastic_wq = alloc_workqueue("carveout_elastic", WQ_UNBOUND, 0);
	if (!co_elastic_wq)
		return -ENOMEM;
	co_shrinker = co_shrinker_create("carveout", co_shrinker_count,
					 co_shrinker_scan);
	if (!co_shrinker) {
		destroy_workqueue(co_elastic_wq);
		co_elastic_wq = NULL;
		return -ENOMEM;
	}
	return 0;
}

/**
 * co_elastic_exit() - stop the shrinker and every node's work
 *
 * Context: module unload (or a failed load), the nodes still exist.
 */
void co_elastic_exit(void)
{
	struct co_node *cn;

	co_shrinker_destroy(co_shrinker);
	co_shrinker = NULL;
	co_for_each_node(cn) {
		cancel_work_sync(&cn->grow_work);
		cancel_delayed_work_sync(&cn->shrink_work);
	}
	if (co_elastic_wq)
		destroy_workqueue(co_elastic_wq);
	co_elastic_wq = NULL;
}

/**
 * co_elastic_node_init() - set up a node's growth state
 * @cn: a node being made, before it has pieces
 *
 * Context: module load.
 */
void co_elastic_node_init(struct co_node *cn)
{
	mutex_init(&cn->grow_lock);
	INIT_WORK(&cn->grow_work, co_grow_work);
	INIT_DELAYED_WORK(&cn->shrink_work, co_shrink_work);
}

/**
 * co_elastic_node_start() - a node's limits from the parameters
 * @cn: a node with its floor reserved
 *
 * Context: module load.
 */
void co_elastic_node_start(struct co_node *cn)
{
	cn->ceiling = max(cn->bytes, co_param_ceiling);
	cn->piece_bytes = co_param_piece;
	cn->low_wmark = co_param_low;
	cn->high_wmark = co_param_high;
	cn->shrink_delay_ms = shrink_delay_ms;
}

/**
 * co_elastic_node_exit() - a node goes
 * @cn: the node, whose works are stopped (co_elastic_exit())
 *
 * Context: module unload.
 */
void co_elastic_node_exit(struct co_node *cn)
{
	mutex_destroy(&cn->grow_lock);
}
