// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: per-node contiguous regions.
 *
 * At load, each requested node gets a region of physically contiguous
 * memory taken from the page allocator at run time with
 * alloc_contig_range() (the one contiguous allocator exported to modules;
 * it migrates movable pages out of the way).  Candidate ranges are
 * naturally aligned to the piece size, so the buddy arena over a piece can
 * hand out blocks as large as the piece, and are tried from the top of each
 * of the node's zones downwards, leaving low memory to devices with narrow
 * DMA masks.  When no single range of the full size can be had, the
 * request is split into halves, down to carveout.min_piece: a region may
 * be several pieces, each its own arena.  A named boot-time reservation
 * (reserve_mem=, Linux 6.11+) can be used instead.
 *
 * What is reserved at load is the region's floor: never given back before
 * unload.  Above it a region may grow and shrink by whole pieces at run
 * time (co_elastic.c); a piece lives in a slot of co_node.pieces, an array
 * that never moves, and is walked under rcu_read_lock().  Everything left
 * is freed at unload, when nothing can use it any more (the module is
 * pinned by every file, mapping and dma-buf).
 *
 * Lock order: see carveout.h; pieces are added under co_node.grow_lock
 * (or at load, before anyone can see the node).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "carveout.h"
#include "co_compat.h"

#define CO_MAX_PIECES	256

static char *size = "64M";
module_param(size, charp, 0444);
MODULE_PARM_DESC(size, "Region size for every node with memory (K/M/G suffixes; default 64M)");

static char *nodes;
module_param(nodes, charp, 0444);
MODULE_PARM_DESC(nodes, "Per-node region sizes, e.g. \"0:128M,1:64M\" (overrides size)");

static bool best_effort;
module_param(best_effort, bool, 0444);
MODULE_PARM_DESC(best_effort, "Load with the nodes that could be reserved instead of failing");

static char *min_piece = "4M";
module_param(min_piece, charp, 0444);
MODULE_PARM_DESC(min_piece, "Smallest contiguous piece a region may be split into (default 4M)");

static char *reserve_mem;
module_param(reserve_mem, charp, 0444);
MODULE_PARM_DESC(reserve_mem, "Use these reserve_mem= boot reservations by name (comma separated, Linux 6.11+)");

struct co_node *co_nodes[MAX_NUMNODES];
EXPORT_SYMBOL_IF_KUNIT(co_nodes);
unsigned int co_nr_nodes;
EXPORT_SYMBOL_IF_KUNIT(co_nr_nodes);

/**
 * co_parse_size() - parse a byte count with an optional K/M/G/T suffix
 * @s: the text, e.g. "64M"; must hold nothing else
 * @bytes: the result, > 0
 *
 * Context: any.
 * Return: 0, or -EINVAL for malformed text or zero.
 */
int co_parse_size(const char *s, u64 *bytes)
{
	char *end;
	u64 v;

	if (!s || !*s)
		return -EINVAL;
	v = memparse(s, &end);
	if (*end || !v)
		return -EINVAL;
	*bytes = v;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(co_parse_size);

/**
 * co_parse_node_sizes() - parse "node:size,node:size"
 * @s: the text
 * @sizes: per node result, zeroed first; @nr entries
 * @nr: number of entries (node ids must be below it)
 *
 * Context: any.
 * Return: 0, or -EINVAL for malformed text, a node id out of range or a node
 * named twice.
 */
int co_parse_node_sizes(const char *s, u64 *sizes, unsigned int nr)
{
	char buf[32];
	const char *p = s;
	unsigned int nid;
	size_t len;
	char *colon;

	memset(sizes, 0, nr * sizeof(*sizes));
	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		len = strcspn(p, ",");
		if (!len || len >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, p, len);
		buf[len] = '\0';
		colon = strchr(buf, ':');
		if (!colon)
			return -EINVAL;
		*colon = '\0';
		if (kstrtouint(buf, 10, &nid) || nid >= nr || sizes[nid])
			return -EINVAL;
		if (co_parse_size(colon + 1, &sizes[nid]))
			return -EINVAL;
		p += len;
		if (*p == ',' && !*++p)
			return -EINVAL;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(co_parse_node_sizes);

/* Every page of [pfn, pfn + nr) is online, in @zone and not reserved. */
static bool co_range_usable(struct zone *zone, unsigned long pfn,
			    unsigned long nr)
{
	unsigned long end = pfn + nr;
	struct page *page;

	if (pfn < zone->zone_start_pfn || end > zone_end_pfn(zone))
		return false;
	for (; pfn < end; pfn++) {
		page = pfn_to_online_page(pfn);
		if (!page || page_zone(page) != zone || PageReserved(page) ||
		    PageHuge(page))
			return false;
	}
	return true;
}

/**
 * co_zone_allowed() - may a region be taken from a zone?
 * @zone: a zone of a node
 *
 * Never from ZONE_MOVABLE (a long-term pin of a page there makes GUP try
 * to migrate it first, in a loop, and blocks memory offline) nor from
 * ZONE_DEVICE.
 *
 * Context: any.
 * Return: true for a populated zone a region may come from.
 */
VISIBLE_IF_KUNIT bool co_zone_allowed(struct zone *zone)
{
	return populated_zone(zone) && zone_idx(zone) != ZONE_MOVABLE &&
	       !zone_is_zone_device(zone);
}
EXPORT_SYMBOL_IF_KUNIT(co_zone_allowed);

/**
 * co_contig_alloc() - take contiguous pages from the page allocator
 * @nid: node
 * @nr: pages, a multiple of the pageblock size
 * @tries: candidate ranges to try at most (0: every one): bounds the time
 *	an allocation waiting for growth spends
 * @gfp: for alloc_contig_range()'s migrations
 * @pfn: set to the first page
 *
 * The range is naturally aligned to the largest power of two not above
 * @nr, tried from the top of the node's zones downwards.
 *
 * Context: process context, sleeps.
 * Return: 0, -EINTR on a fatal signal, -ENOMEM.
 */
int co_contig_alloc(int nid, unsigned long nr, unsigned int tries,
		    gfp_t gfp, unsigned long *pfn)
{
	unsigned long align = 1UL << ilog2(nr);
	pg_data_t *pgdat = NODE_DATA(nid);
	struct zone *zone;
	unsigned long start;
	int z;

	align = max_t(unsigned long, align, pageblock_nr_pages);
	for (z = MAX_NR_ZONES - 1; z >= 0; z--) {
		zone = &pgdat->node_zones[z];
		if (!co_zone_allowed(zone) || zone_end_pfn(zone) < nr)
			continue;
		start = ALIGN_DOWN(zone_end_pfn(zone) - nr, align);
		for (; start >= zone->zone_start_pfn; start -= align) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
			if (!co_range_usable(zone, start, nr) ||
			    co_should_fail(nr << PAGE_SHIFT))
				goto next;
			if (!co_alloc_contig_range(start, start + nr, gfp)) {
				*pfn = start;
				return 0;
			}
			if (tries && !--tries)
				return -ENOMEM;
next:
			if (start < align)
				break;
		}
	}
	return -ENOMEM;
}

/**
 * co_piece_add() - make [@pfn, @pfn + @nr) a piece of a node's region
 * @cn: the node
 * @pfn: first page, taken from the page allocator by the caller
 * @nr: pages
 * @elastic: above the floor (may be given back at run time)
 *
 * The piece goes into the first empty slot, and allocations see it once
 * its arena is set up.
 *
 * Context: process context; co_node.grow_lock held (or module load).
 * Return: 0, -ENOSPC when every slot is used, -ENOMEM.
 */
int co_piece_add(struct co_node *cn, unsigned long pfn, unsigned long nr,
		 bool elastic)
{
	struct co_piece *p;
	unsigned int i;
	int ret;

	for (i = 0; i < CO_MAX_PIECES; i++)
		if (READ_ONCE(cn->pieces[i].state) == CO_PIECE_EMPTY)
			break;
	if (i == CO_MAX_PIECES)
		return -ENOSPC;
	p = &cn->pieces[i];
	if (co_should_fail(nr))
		return -ENOMEM;
	ret = co_buddy_init(&p->buddy, pfn, nr);
	if (ret)
		return ret;
	p->node = cn;
	p->start_pfn = pfn;
	p->nr_pages = nr;
	p->reserved_mem = false;
	p->elastic = elastic;
	p->free_since = 0;
	atomic_set(&p->users, 0);
	WRITE_ONCE(cn->bytes, cn->bytes + ((u64)nr << PAGE_SHIFT));
	if (elastic)
		atomic_inc(&cn->nr_elastic);
	else
		WRITE_ONCE(cn->floor, cn->floor + ((u64)nr << PAGE_SHIFT));
	/* Publishes the arena to co_piece_live(). */
	smp_store_release(&p->state, CO_PIECE_LIVE);
	if (i >= cn->nr_pieces) /* publishes the slot to co_node_slots() */
		smp_store_release(&cn->nr_pieces, i + 1);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(co_piece_add);

/**
 * co_node_live_pieces() - pieces a node's region is made of now
 * @cn: the node
 *
 * Context: any.
 * Return: the number of live pieces (slots may be empty between them).
 */
unsigned int co_node_live_pieces(struct co_node *cn)
{
	struct co_piece *p;
	unsigned int n = 0;

	rcu_read_lock();
	co_for_each_piece(cn, p)
		n++;
	rcu_read_unlock();
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(co_node_live_pieces);

/**
 * co_piece_nth() - a node's live piece of a given rank
 * @cn: the node
 * @n: rank, from 0, in slot order
 * @count: set to the number of live pieces
 *
 * Context: under rcu_read_lock() (the piece stays until it is dropped).
 * Return: the piece, or NULL when @n >= *@count.
 */
struct co_piece *co_piece_nth(struct co_node *cn, unsigned int n,
			      u32 *count)
{
	struct co_piece *p, *found = NULL;
	u32 i = 0;

	co_for_each_piece(cn, p) {
		if (i == n)
			found = p;
		i++;
	}
	*count = i;
	return found;
}

static int co_piece_init(struct co_node *cn, unsigned long pfn,
			 unsigned long nr, bool reserved_mem)
{
	unsigned int before = cn->nr_pieces;
	int ret;

	ret = co_piece_add(cn, pfn, nr, false);
	if (!ret)
		cn->pieces[before].reserved_mem = reserved_mem;
	return ret;
}

/**
 * co_piece_busy() - is any page of a piece still in use?
 * @p: the piece
 * @allocated: set to the pages its allocator has handed out
 * @referenced: set to the pages with a reference beyond the region's own
 *	(a mapping, a pin, a pipe)
 *
 * Context: process context, sleeps; nothing may allocate from @p.
 * Return: true when either count is not zero.
 */
bool co_piece_busy(struct co_piece *p, unsigned long *allocated,
		   unsigned long *referenced)
{
	unsigned long pfn, end = p->start_pfn + p->nr_pages;

	*allocated = p->nr_pages - co_buddy_free_pages(&p->buddy);
	*referenced = 0;
	for (pfn = p->start_pfn; pfn < end; pfn++) {
		if (page_ref_count(pfn_to_page(pfn)) > 1)
			(*referenced)++;
		if (!(pfn % 4096))
			cond_resched();
	}
	return *allocated || *referenced;
}
EXPORT_SYMBOL_IF_KUNIT(co_piece_busy);

/**
 * co_piece_idle() - is every page of a piece free in its arena?
 * @p: a live piece
 *
 * Context: any; takes the arena's lock.
 * Return: true when the arena has handed out nothing.
 */
bool co_piece_idle(struct co_piece *p)
{
	return co_buddy_free_pages(&p->buddy) == p->nr_pages;
}

/**
 * co_piece_give_back() - give a piece back to the page allocator
 * @p: the piece; nothing may allocate from it any more
 *
 * Unless something still uses a page of it: at unload, module references
 * make that impossible (every buffer, file, mapping and held page pins the
 * module), and at run time the caller checked the arena is wholly free,
 * so a busy piece is a bug elsewhere, and leaking the piece is the only
 * safe answer.  A reserve_mem= piece is not the page allocator's.
 *
 * Context: process context, sleeps.
 */
void co_piece_give_back(struct co_piece *p)
{
	unsigned long allocated, referenced;

	if (p->reserved_mem)
		return;
	if (co_piece_busy(p, &allocated, &referenced)) {
		pr_err("node %d: leaking %lu MiB at pfn %#lx: %lu pages still allocated, %lu referenced at unload\n",
		       p->node->nid, (p->nr_pages << PAGE_SHIFT) >> 20,
		       p->start_pfn, allocated, referenced);
		return;
	}
	free_contig_range(p->start_pfn, p->nr_pages);
}

static void co_node_free(struct co_node *cn)
{
	struct co_piece *p;

	co_elastic_node_exit(cn);
	co_for_each_piece(cn, p) {
		co_piece_give_back(p);
		co_buddy_destroy(&p->buddy);
	}
	kvfree(cn->pieces);
	kfree(cn);
}

static struct co_node *co_node_get(int nid)
{
	struct co_node *cn = co_nodes[nid];

	if (cn)
		return cn;
	cn = co_kzalloc(sizeof(*cn), GFP_KERNEL);
	if (!cn)
		return NULL;
	cn->pieces = co_should_fail(CO_MAX_PIECES * sizeof(*cn->pieces)) ?
		     NULL : kvcalloc(CO_MAX_PIECES, sizeof(*cn->pieces),
				     GFP_KERNEL);
	if (!cn->pieces) {
		kfree(cn);
		return NULL;
	}
	cn->nid = nid;
	co_elastic_node_init(cn);
	co_nodes[nid] = cn;
	return cn;
}

/* Reserve @bytes on @cn's node as one or more contiguous pieces. */
static int co_node_reserve(struct co_node *cn, u64 bytes, u64 min_bytes)
{
	unsigned long want, got = 0, piece, n, pfn, min;
	int ret;

	want = ALIGN(DIV_ROUND_UP(bytes, PAGE_SIZE), pageblock_nr_pages);
	min = ALIGN(DIV_ROUND_UP(min_bytes, PAGE_SIZE), pageblock_nr_pages);
	piece = want;
	while (got < want) {
		n = min(piece, want - got);
		ret = co_contig_alloc(cn->nid, n, 0, GFP_KERNEL | __GFP_NOWARN,
				      &pfn);
		if (ret == -EINTR)
			return ret;
		if (!ret) {
			ret = co_piece_init(cn, pfn, n, false);
			if (ret) {
				free_contig_range(pfn, n);
				return ret;
			}
			got += n;
			continue;
		}
		if (n <= min || cn->nr_pieces == CO_MAX_PIECES) {
			pr_err("node %d: cannot reserve %llu MiB (got %lu MiB in %u pieces; no free contiguous %lu MiB left); try a smaller carveout.size/nodes=, a smaller carveout.min_piece, reserve_mem= at boot, or load earlier\n",
			       cn->nid, bytes >> 20, (got << PAGE_SHIFT) >> 20,
			       cn->nr_pieces, (n << PAGE_SHIFT) >> 20);
			return -ENOMEM;
		}
		piece = max(ALIGN(n / 2, pageblock_nr_pages), min);
	}
	return 0;
}

#ifdef CO_HAVE_RESERVE_MEM
static int co_reserve_named(char *name)
{
	phys_addr_t start, sz;
	unsigned long pfn, nr;
	struct co_node *cn;
	int nid;

	if (!reserve_mem_find_by_name(name, &start, &sz)) {
		pr_err("no reserve_mem= reservation named \"%s\" (boot with reserve_mem=SIZE:ALIGN:%s)\n",
		       name, name);
		return -ENOENT;
	}
	pfn = PFN_UP(start);
	if (PFN_DOWN(start + sz) <= pfn)
		return -EINVAL;
	nr = PFN_DOWN(start + sz) - pfn;
	nid = pfn_to_nid(pfn);
	cn = co_node_get(nid);
	if (!cn)
		return -ENOMEM;
	pr_info("node %d: using reserve_mem \"%s\" at %pa, %lu MiB\n", nid,
		name, &start, (nr << PAGE_SHIFT) >> 20);
	return co_piece_init(cn, pfn, nr, true);
}

static int co_reserve_mem_all(void)
{
	char *list, *p, *name;
	int ret = 0;

	list = kstrdup(reserve_mem, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	p = list;
	while ((name = strsep(&p, ",")) && !ret)
		if (*name)
			ret = co_reserve_named(name);
	kfree(list);
	return ret;
}
#else
static int co_reserve_mem_all(void)
{
	pr_err("carveout.reserve_mem needs Linux 6.11 or later\n");
	return -EOPNOTSUPP;
}
#endif

static void co_report_node(struct co_node *cn)
{
	struct co_piece *p;

	pr_info("node %d: %llu MiB in %u piece%s, ceiling %llu MiB\n", cn->nid,
		cn->bytes >> 20, cn->nr_pieces, cn->nr_pieces == 1 ? "" : "s",
		cn->ceiling >> 20);
	co_for_each_piece(cn, p)
		pr_info("node %d: piece %td: pfn %#lx-%#lx (%lu MiB)%s\n",
			cn->nid, p - cn->pieces, p->start_pfn,
			p->start_pfn + p->nr_pages - 1,
			(p->nr_pages << PAGE_SHIFT) >> 20,
			p->reserved_mem ? " reserve_mem" : "");
}

/* Fill @sizes (bytes per node) from carveout.nodes or carveout.size. */
static int co_regions_sizes(u64 *sizes)
{
	u64 each = 0;
	int nid;

	if (nodes) {
		if (co_parse_node_sizes(nodes, sizes, MAX_NUMNODES)) {
			pr_err("bad carveout.nodes \"%s\" (want e.g. \"0:128M,1:64M\")\n",
			       nodes);
			return -EINVAL;
		}
		for (nid = 0; nid < MAX_NUMNODES; nid++) {
			if (sizes[nid] && !node_state(nid, N_MEMORY)) {
				pr_err("node %d in carveout.nodes has no memory\n",
				       nid);
				return -EINVAL;
			}
		}
	} else if (size && *size && strcmp(size, "0")) {
		if (co_parse_size(size, &each)) {
			pr_err("bad carveout.size \"%s\" (want e.g. 64M)\n",
			       size);
			return -EINVAL;
		}
		for_each_node_state(nid, N_MEMORY)
			sizes[nid] = each;
	}
	return 0;
}

/* Reserve @sizes[nid] bytes on every node that asks for some. */
static int co_regions_reserve(const u64 *sizes, u64 min_bytes)
{
	struct co_node *cn;
	int nid, ret;

	for (nid = 0; nid < MAX_NUMNODES; nid++) {
		if (!sizes[nid])
			continue;
		cn = co_node_get(nid);
		if (!cn)
			return -ENOMEM;
		ret = co_node_reserve(cn, sizes[nid], min_bytes);
		if (ret && best_effort && ret != -EINTR) {
			pr_warn("node %d: skipped (best effort)\n", nid);
			ret = 0;
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* Drop nodes that got nothing; report and count the others. */
static void co_regions_settle(void)
{
	int nid;

	for (nid = 0; nid < MAX_NUMNODES; nid++) {
		if (!co_nodes[nid])
			continue;
		if (!co_nodes[nid]->nr_pieces) {
			co_node_free(co_nodes[nid]);
			co_nodes[nid] = NULL;
			continue;
		}
		co_elastic_node_start(co_nodes[nid]);
		co_report_node(co_nodes[nid]);
		co_nr_nodes++;
	}
}

/**
 * co_regions_init() - reserve every requested region
 *
 * Context: process context (module load), sleeps.
 * Return: 0 with at least one node, or a negative errno with nothing held.
 */
int co_regions_init(void)
{
	u64 *sizes, min_bytes;
	int ret;

	if (co_parse_size(min_piece, &min_bytes)) {
		pr_err("bad carveout.min_piece \"%s\"\n", min_piece);
		return -EINVAL;
	}
	ret = co_elastic_init();
	if (ret)
		return ret;
	sizes = co_kcalloc(MAX_NUMNODES, sizeof(*sizes), GFP_KERNEL);
	if (!sizes) {
		co_elastic_exit();
		return -ENOMEM;
	}
	ret = co_regions_sizes(sizes);
	if (!ret && reserve_mem && *reserve_mem)
		ret = co_reserve_mem_all();
	if (!ret)
		ret = co_regions_reserve(sizes, min_bytes);
	if (!ret) {
		co_regions_settle();
		if (!co_nr_nodes) {
			pr_err("no region reserved on any node\n");
			ret = -ENOMEM;
		}
	}
	kfree(sizes);
	if (ret)
		co_regions_exit();
	return ret;
}

/**
 * co_regions_exit() - give every region back to the page allocator
 *
 * Context: process context (module unload); nothing may use the regions.
 */
void co_regions_exit(void)
{
	struct co_node *cn;

	co_elastic_exit();
	while ((cn = co_node_next(NULL))) {
		co_nodes[cn->nid] = NULL;
		co_node_free(cn);
	}
	co_nr_nodes = 0;
}

/**
 * co_node_find() - the region of a node
 * @nid: node id (any value)
 *
 * Context: any; regions are fixed between load and unload.
 * Return: the node's region, or NULL when it has none.
 */
struct co_node *co_node_find(unsigned int nid)
{
	return nid < MAX_NUMNODES ? co_nodes[nid] : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(co_node_find);

/**
 * co_node_next() - the next node with a region (co_for_each_node())
 * @cn: the current node, or NULL to start
 *
 * Context: any.
 * Return: the node with the next higher id that has a region, or NULL.
 */
struct co_node *co_node_next(struct co_node *cn)
{
	int nid;

	for (nid = cn ? cn->nid + 1 : 0; nid < MAX_NUMNODES; nid++)
		if (co_nodes[nid])
			return co_nodes[nid];
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(co_node_next);

/**
 * co_node_walk_pieces() - call @fn with a snapshot of each piece
 * @cn: the node
 * @fn: called per live piece, by slot, under rcu_read_lock(): must not
 *	sleep
 * @priv: passed to @fn
 *
 * Context: process context; takes each arena's lock for its snapshot.
 * Return: 0, or -ENOMEM.
 */
int co_node_walk_pieces(struct co_node *cn, co_piece_stats_fn fn, void *priv)
{
	struct co_buddy_stats *st;
	struct co_piece *p;

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	rcu_read_lock();
	co_for_each_piece(cn, p) {
		co_buddy_get_stats(&p->buddy, st);
		fn(p, p - cn->pieces, st, priv);
	}
	rcu_read_unlock();
	kfree(st);
	return 0;
}

static void co_node_add_piece(struct co_piece *p, unsigned int index,
			      const struct co_buddy_stats *st, void *priv)
{
	struct co_node_stats *ns = priv;
	unsigned int o, orders = min(st->max_order + 1, CO_STATS_ORDERS);

	ns->free_bytes += (u64)st->free_pages << PAGE_SHIFT;
	ns->clean_bytes += (u64)st->clean_pages << PAGE_SHIFT;
	ns->largest_free = max_t(u64, ns->largest_free,
				 (u64)st->largest_free_pages << PAGE_SHIFT);
	ns->largest_piece = max_t(u64, ns->largest_piece,
				  (u64)p->nr_pages << PAGE_SHIFT);
	for (o = 0; o < orders; o++)
		ns->free_blocks[o] += st->nr_free[o];
	ns->nr_orders = max(ns->nr_orders, orders);
}

/**
 * co_node_get_stats() - a snapshot of a node's region
 * @cn: the node
 * @st: filled
 *
 * Each piece is read under its arena's lock; the node as a whole is not
 * one snapshot while buffers come and go.
 *
 * Context: process context.
 * Return: 0, or -ENOMEM.
 */
int co_node_get_stats(struct co_node *cn, struct co_node_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->region_bytes = READ_ONCE(cn->bytes);
	return co_node_walk_pieces(cn, co_node_add_piece, st);
}
EXPORT_SYMBOL_IF_KUNIT(co_node_get_stats);

/**
 * co_node_free_bytes() - bytes not handed out on a node
 * @cn: the node
 *
 * Context: any; takes the arenas' locks.
 * Return: free bytes over all pieces.
 */
u64 co_node_free_bytes(struct co_node *cn)
{
	struct co_piece *p;
	u64 sum = 0;

	rcu_read_lock();
	co_for_each_piece(cn, p)
		sum += (u64)co_buddy_free_pages(&p->buddy) << PAGE_SHIFT;
	rcu_read_unlock();
	return sum;
}
EXPORT_SYMBOL_IF_KUNIT(co_node_free_bytes);

/**
 * co_regions_largest_piece() - the largest piece of any region
 *
 * Counts the largest piece a region could still grow by.
 *
 * Context: any.
 * Return: its size in bytes; no buffer can be larger.
 */
u64 co_regions_largest_piece(void)
{
	struct co_node *cn;
	struct co_piece *p;
	u64 best = 0;

	co_for_each_node(cn) {
		best = max(best, co_elastic_growable(cn));
		rcu_read_lock();
		co_for_each_piece(cn, p)
			best = max_t(u64, best, (u64)p->nr_pages << PAGE_SHIFT);
		rcu_read_unlock();
	}
	return best;
}

/**
 * co_piece_walk_free() - call @fn for the free blocks of a piece
 * @p: the piece
 * @from: first page of interest (see co_buddy_walk_free_from())
 * @fn: callback; returns non-zero to stop
 * @priv: passed to @fn
 *
 * Context: takes the arena's lock for the walk; @fn must not sleep.
 * Return: 0, or the first non-zero value returned by @fn.
 */
int co_piece_walk_free(struct co_piece *p, unsigned long from,
		       co_buddy_walk_fn fn, void *priv)
{
	return co_buddy_walk_free_from(&p->buddy, from, fn, priv);
}
