// SPDX-License-Identifier: GPL-2.0
/*
 * co_bench - in-kernel benchmarks of carveout against the kernel's own
 * allocators (the mm/dmapool_test.c / kernel/dma/map_benchmark.c pattern:
 * the work runs at module load, results go to the kernel log, the module
 * is removed again).
 *
 *   insmod co_bench.ko test=fast  [reps=N]   slab / buddy fast paths
 *   insmod co_bench.ko test=large [reps=N] [label=idle|frag] [dirty=1]
 *   insmod co_bench.ko test=meta             metadata of a 1 GiB arena
 *   insmod co_bench.ko test=elastic [reps=N] [label=idle|frag]
 *                          [cma_base=PA cma_size=BYTES]
 *                          node 0's region above its floor (the ceiling
 *                          set before with CARVEOUT_IOC_RESIZE): latency
 *                          of an allocation that grows the region, of the
 *                          same allocation from alloc_contig_range() and
 *                          from the CMA area (dma_alloc), and the return
 *                          to the floor after a burst; first, the
 *                          same sizes served from the floor with the
 *                          ceiling set
 *   insmod co_bench.ko test=elastic floor_only=1 [reps=N] [label=...]
 *                          only those, whatever the ceiling (run before
 *                          the ceiling is set: the same without one)
 *
 * Result lines, parsed by tests/bench/report.py:
 *   cobench: R part=P name=N impl=I thr=T rep=K tot=NS n=OPS ok=OK fail=F
 *     (tot: wall ns of one repetition, averaged over threads; n: alloc+free
 *     pairs per thread; a repetition with fail != 0 is reported but the
 *     report counts its failures separately)
 *   cobench: NA part=P name=N impl=I reason=...
 *   cobench: M key=value ...
 *
 * "co_slab"/"co_buddy" are the allocator core (module/co_buddy.c and
 * co_slab.c compiled into this module) over a fake arena of PFNs that are
 * never touched: the allocator's own cost.  "carveout_kbuf_alloc" is the
 * exported product path (buffer object, region lookup, zeroing).
 */
#define pr_fmt(fmt) "cobench: " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <linux/carveout.h>

#include "co_slab.h"
#include <carveout/kapi.h>

static char *test = "fast";
module_param(test, charp, 0444);
MODULE_PARM_DESC(test, "fast | large | meta | elastic");
static int reps = 7;
module_param(reps, int, 0444);
MODULE_PARM_DESC(reps, "measured repetitions (after one warm-up)");
static char *label = "idle";
module_param(label, charp, 0444);
MODULE_PARM_DESC(label, "state of the machine, copied to the results (idle, frag)");
static int large_max_mb = 256;
module_param(large_max_mb, int, 0444);
MODULE_PARM_DESC(large_max_mb, "largest size of test=large in MiB");
static bool dirty;
module_param(dirty, bool, 0444);
MODULE_PARM_DESC(dirty, "test=large: carveout_kbuf_alloc only, reported as carveout_kbuf_alloc_dirty (run with carveout.prezero=0)");
static bool floor_only;
module_param(floor_only, bool, 0444);
MODULE_PARM_DESC(floor_only, "test=elastic: only allocations from the floor (impl floor_no_ceiling or floor_with_ceiling)");

/* Fake arena: 1 GiB of PFNs at 64 GiB, beyond the VM's memory. */
#define FAKE_PFN	(1UL << 24)
#define FAKE_PAGES	((1UL << 30) >> PAGE_SHIFT)
#define BATCH		16

enum impl {
	I_CO_SLAB, I_KMEM, I_DMAPOOL, I_CO_BUDDY, I_PAGES, I_PAGES_ZERO,
	I_CO_KAPI,
};

static const char *const impl_name[] = {
	[I_CO_SLAB] = "co_slab", [I_KMEM] = "kmem_cache",
	[I_DMAPOOL] = "dma_pool", [I_CO_BUDDY] = "co_buddy",
	[I_PAGES] = "alloc_pages", [I_PAGES_ZERO] = "alloc_pages_zero",
	[I_CO_KAPI] = "carveout_kbuf_alloc",
};

struct fb {
	const char *name;
	enum impl impl;
	unsigned long arg;	/* bytes (slab) or order (pages) */
};

static const struct fb fast_benches[] = {
	{ "slab64", I_CO_SLAB, 64 }, { "slab64", I_KMEM, 64 },
	{ "slab64", I_DMAPOOL, 64 },
	{ "slab1k", I_CO_SLAB, 1024 }, { "slab1k", I_KMEM, 1024 },
	{ "slab1k", I_DMAPOOL, 1024 },
	{ "order0", I_CO_BUDDY, 0 }, { "order0", I_PAGES, 0 },
	{ "order0", I_PAGES_ZERO, 0 }, { "order0", I_CO_KAPI, 0 },
	{ "order4", I_CO_BUDDY, 4 }, { "order4", I_PAGES, 4 },
	{ "order4", I_PAGES_ZERO, 4 }, { "order4", I_CO_KAPI, 4 },
	{ "order9", I_CO_BUDDY, 9 }, { "order9", I_PAGES, 9 },
	{ "order9", I_PAGES_ZERO, 9 }, { "order9", I_CO_KAPI, 9 },
};

struct ctx {
	struct co_buddy buddy;
	struct co_slab_set *set;
	struct kmem_cache *kc;
	struct dma_pool *pool;
	struct device *dev;
	const struct fb *b;
	atomic_t ready;
	int nthreads;
};

struct worker {
	struct ctx *c;
	int cpu;
	unsigned long iters;
	u64 ns;
	unsigned long ok, fail;
	struct completion done;
};

static unsigned long fast_iters(const struct fb *b)
{
	if (b->impl <= I_DMAPOOL)
		return 32768;
	/* zeroing paths and TCG: keep large orders short */
	return max(128UL, 16384UL >> b->arg);
}

static int fast_thread(void *p)
{
	struct worker *w = p;
	struct ctx *c = w->c;
	const struct fb *b = c->b;
	unsigned long i, npages = 1UL << b->arg;
	void *ptr[BATCH];
	u64 addr[BATCH];
	unsigned long pfn[BATCH];
	dma_addr_t dma[BATCH];
	struct page *pg[BATCH];
	struct carveout_kbuf *cb[BATCH];
	bool have[BATCH];
	unsigned int j;
	u64 t0;

	atomic_inc(&c->ready);
	while (atomic_read(&c->ready) < c->nthreads)
		cpu_relax();
	t0 = ktime_get_ns();
	for (i = 0; i < w->iters; i += BATCH) {
		for (j = 0; j < BATCH; j++) {
			switch (b->impl) {
			case I_CO_SLAB:
				have[j] = !co_slab_alloc(c->set, b->arg, &addr[j]);
				break;
			case I_KMEM:
				ptr[j] = kmem_cache_alloc(c->kc, GFP_KERNEL);
				have[j] = ptr[j];
				break;
			case I_DMAPOOL:
				ptr[j] = dma_pool_alloc(c->pool, GFP_KERNEL, &dma[j]);
				have[j] = ptr[j];
				break;
			case I_CO_BUDDY:
				have[j] = !co_buddy_alloc(&c->buddy, npages, 0, 0,
							  &pfn[j]);
				break;
			case I_PAGES:
				pg[j] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, b->arg);
				have[j] = pg[j];
				break;
			case I_PAGES_ZERO:
				pg[j] = alloc_pages(GFP_KERNEL | __GFP_ZERO |
						    __GFP_NOWARN, b->arg);
				have[j] = pg[j];
				break;
			case I_CO_KAPI:
				cb[j] = carveout_kbuf_alloc(PAGE_SIZE << b->arg,
							    0, 0,
							    CARVEOUT_POLICY_LOCAL,
							    0);
				have[j] = !IS_ERR_OR_NULL(cb[j]);
				break;
			}
			if (!have[j])
				w->fail++;
		}
		for (j = 0; j < BATCH; j++) {
			int err = 0;

			if (!have[j])
				continue;
			switch (b->impl) {
			case I_CO_SLAB:
				err = co_slab_free(c->set, addr[j], b->arg);
				break;
			case I_KMEM:
				kmem_cache_free(c->kc, ptr[j]);
				break;
			case I_DMAPOOL:
				dma_pool_free(c->pool, ptr[j], dma[j]);
				break;
			case I_CO_BUDDY:
				err = co_buddy_free(&c->buddy, pfn[j], npages);
				break;
			case I_PAGES:
			case I_PAGES_ZERO:
				__free_pages(pg[j], b->arg);
				break;
			case I_CO_KAPI:
				carveout_kbuf_free(cb[j]);
				break;
			}
			if (err)
				w->fail++;
			else
				w->ok++;
		}
		if (need_resched())
			cond_resched();
	}
	w->ns = ktime_get_ns() - t0;
	complete(&w->done);
	return 0;
}

/* One repetition on @nthreads kthreads pinned to CPUs 0..nthreads-1. */
static int fast_rep(struct ctx *c, int nthreads, u64 *ns, unsigned long *n,
		    unsigned long *ok, unsigned long *fail)
{
	struct worker w[2] = {};
	struct task_struct *t;
	int i;

	c->nthreads = nthreads;
	atomic_set(&c->ready, 0);
	for (i = 0; i < nthreads; i++) {
		w[i].c = c;
		w[i].cpu = i;
		w[i].iters = fast_iters(c->b);
		init_completion(&w[i].done);
	}
	for (i = 0; i < nthreads; i++) {
		t = kthread_create(fast_thread, &w[i], "cobench/%d", i);
		if (IS_ERR(t))
			return PTR_ERR(t);	/* only possible before any start */
		kthread_bind(t, i);
		wake_up_process(t);
	}
	*ns = 0;
	*ok = 0;
	*fail = 0;
	for (i = 0; i < nthreads; i++) {
		wait_for_completion(&w[i].done);
		*ns += w[i].ns;
		*ok += w[i].ok;
		*fail += w[i].fail;
	}
	*ns /= nthreads;
	*n = w[0].iters;
	return 0;
}

static int ctx_prepare(struct ctx *c, const struct fb *b)
{
	c->b = b;
	switch (b->impl) {
	case I_KMEM:
		c->kc = kmem_cache_create("cobench", b->arg, 0, 0, NULL);
		return c->kc ? 0 : -ENOMEM;
	case I_DMAPOOL:
		if (!c->dev)
			return -ENODEV;
		c->pool = dma_pool_create("cobench", c->dev, b->arg, 64, 0);
		return c->pool ? 0 : -ENOMEM;
	default:
		return 0;
	}
}

static void ctx_release(struct ctx *c)
{
	if (c->kc)
		kmem_cache_destroy(c->kc);
	if (c->pool)
		dma_pool_destroy(c->pool);
	c->kc = NULL;
	c->pool = NULL;
	co_slab_drain(c->set);
}

static int run_fast(void)
{
	struct pci_dev *pdev = pci_get_device(0x1234, 0x11e8, NULL);
	struct ctx *c;
	unsigned long n, ok, fail;
	unsigned int i;
	int thr, r, ret;
	u64 ns;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	ret = co_buddy_init(&c->buddy, FAKE_PFN, FAKE_PAGES);
	if (ret)
		goto out;
	c->set = co_slab_set_create(&c->buddy, "cobench");
	if (!c->set) {
		ret = -ENOMEM;
		goto out_buddy;
	}
	c->dev = pdev ? &pdev->dev : NULL;
	for (i = 0; i < ARRAY_SIZE(fast_benches); i++) {
		const struct fb *b = &fast_benches[i];

		for (thr = 1; thr <= min(2U, num_online_cpus()); thr++) {
			ret = ctx_prepare(c, b);
			if (ret) {
				pr_info("NA part=fast name=%s impl=%s thr=%d reason=%s\n",
					b->name, impl_name[b->impl], thr,
					ret == -ENODEV ? "no_edu_device" : "setup_failed");
				ctx_release(c);
				continue;
			}
			for (r = -1; r < reps; r++) {
				if (fast_rep(c, thr, &ns, &n, &ok, &fail))
					break;
				if (r >= 0)
					pr_info("R part=fast name=%s impl=%s thr=%d rep=%d tot=%llu n=%lu ok=%lu fail=%lu\n",
						b->name, impl_name[b->impl], thr, r,
						ns, n, ok, fail);
			}
			ctx_release(c);
		}
	}
	ret = co_slab_set_destroy(c->set);
	if (ret)
		pr_info("M slab_set_destroy=%d\n", ret);
	ret = co_buddy_check(&c->buddy);
	pr_info("M fake_arena_check=%d\n", ret);
out_buddy:
	co_buddy_destroy(&c->buddy);
out:
	kfree(c);
	pci_dev_put(pdev);
	return ret;
}

/* ---- large contiguous buffers ------------------------------------------ */

static bool range_usable(struct zone *zone, unsigned long pfn, unsigned long nr)
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

/*
 * The run-time baseline: a naturally aligned range of @nr pages on @nid
 * taken with alloc_contig_range(), trying candidates from the top of each
 * zone down as carveout's own module/co_region.c does at load.
 */
static int contig_alloc(int nid, unsigned long nr, unsigned long *pfn)
{
	pg_data_t *pgdat = NODE_DATA(nid);
	unsigned long start, align = max_t(unsigned long, nr, pageblock_nr_pages);
	struct zone *zone;
	int z;

	for (z = MAX_NR_ZONES - 1; z >= 0; z--) {
		zone = &pgdat->node_zones[z];
		if (!populated_zone(zone) || zone_end_pfn(zone) < nr)
			continue;
		start = ALIGN_DOWN(zone_end_pfn(zone) - nr, align);
		for (; start >= zone->zone_start_pfn; start -= align) {
			cond_resched();
			if (range_usable(zone, start, nr) &&
			    !alloc_contig_range(start, start + nr, MIGRATE_MOVABLE,
						GFP_KERNEL | __GFP_NOWARN)) {
				*pfn = start;
				return 0;
			}
			if (start < align)
				break;
		}
	}
	return -ENOMEM;
}

enum limpl { L_CO_KAPI, L_CO_BUDDY, L_CONTIG, L_DMA, L_NR };
static const char *const limpl_name[] = {
	[L_CO_KAPI] = "carveout_kbuf_alloc", [L_CO_BUDDY] = "co_buddy",
	[L_CONTIG] = "alloc_contig_range", [L_DMA] = "dma_alloc_cma",
};

static unsigned long long cma_base;
module_param(cma_base, ullong, 0444);
MODULE_PARM_DESC(cma_base, "physical base of the default CMA area");
static unsigned long long cma_size;
module_param(cma_size, ullong, 0444);
MODULE_PARM_DESC(cma_size, "its size in bytes (0: none)");

/*
 * Whether a dma_alloc_cma buffer lies in the default CMA area (given by
 * bench-vm.sh from the boot log), i.e. came from cma_alloc() and not from
 * the page allocator fallback; reported as cma= on the result line.
 */
static bool in_cma(const void *va, size_t size)
{
	struct page *page;
	phys_addr_t pa;

	if (!cma_size)
		return false;
	page = is_vmalloc_addr(va) ? vmalloc_to_page(va) : virt_to_page(va);
	pa = page_to_phys(page);
	return pa >= cma_base && pa + size <= cma_base + cma_size;
}

/*
 * Before each carveout_kbuf_alloc: wait (up to 60 s) until all free memory
 * of node 0 is clean, i.e. the background zeroing of the last repetition's
 * buffer is done, and at least @size bytes are.  Returns whether it is.
 */
static bool wait_clean(size_t size)
{
	struct carveout_stats *st = kzalloc(sizeof(*st), GFP_KERNEL);
	unsigned int i;
	bool ok = false;

	for (i = 0; st && i < 3000; i++) {
		if (carveout_node_stats(0, st))
			break;
		ok = st->clean_bytes >= size &&
		     st->clean_bytes == st->free_bytes;
		if (ok)
			break;
		msleep(20);
	}
	kfree(st);
	return ok;
}

/* The background zeroing's totals on node 0, for the report. */
static void report_zeroing(void)
{
	struct carveout_stats *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (st && !carveout_node_stats(0, st))
		pr_info("M prezeroed_bytes_%s%s=%llu prezero_ns_%s%s=%llu sync_zeroed_bytes_%s%s=%llu\n",
			label, dirty ? "_dirty" : "", st->prezeroed_bytes,
			label, dirty ? "_dirty" : "", st->prezero_ns,
			label, dirty ? "_dirty" : "", st->sync_zeroed_bytes);
	kfree(st);
}

/*
 * One carveout_kbuf_alloc + free of @size, timed, reported as part @part,
 * implementation @impl; clean memory waited for first when @clean_wait.
 */
static void kapi_rep(const char *part, const char *name, const char *impl,
		     size_t size, int r, bool clean_wait)
{
	struct carveout_kbuf *cb;
	bool clean = clean_wait && wait_clean(size);
	u64 t0, ns;

	t0 = ktime_get_ns();
	cb = carveout_kbuf_alloc(size, 0, 0, CARVEOUT_POLICY_STRICT, 0);
	if (!IS_ERR_OR_NULL(cb))
		carveout_kbuf_free(cb);
	ns = ktime_get_ns() - t0;
	if (r >= 0)
		pr_info("R part=%s name=%s impl=%s label=%s thr=1 rep=%d tot=%llu n=1 ok=%d fail=%d clean=%d\n",
			part, name, impl, label, r, ns,
			!IS_ERR_OR_NULL(cb), IS_ERR_OR_NULL(cb), clean);
	cond_resched();
}

static void large_kapi(const char *name, size_t size, int r)
{
	kapi_rep("large", name, dirty ? "carveout_kbuf_alloc_dirty" :
		 "carveout_kbuf_alloc", size, r, !dirty);
}

static void large_kapi_reps(const char *name, size_t size)
{
	int r;

	for (r = -1; r < reps; r++)
		large_kapi(name, size, r);
}

static int run_large(void)
{
	struct pci_dev *pdev = pci_get_device(0x1234, 0x11e8, NULL);
	struct co_buddy *fake;
	unsigned int mb;
	int r, li, ret;

	fake = kzalloc(sizeof(*fake), GFP_KERNEL);
	if (!fake)
		return -ENOMEM;
	ret = co_buddy_init(fake, FAKE_PFN, FAKE_PAGES);
	if (ret) {
		kfree(fake);
		return ret;
	}
	/* The smallest buffer, for "latency independent of size". */
	large_kapi_reps("4K", PAGE_SIZE);
	for (mb = 4; mb <= large_max_mb; mb *= 4) {
		size_t size = (size_t)mb << 20;
		unsigned long nr = size >> PAGE_SHIFT;

		for (li = 0; li < L_NR; li++) {
			if (li == L_CO_KAPI) {
				char name[16];

				snprintf(name, sizeof(name), "%uM", mb);
				large_kapi_reps(name, size);
				continue;
			}
			if (dirty)
				continue;
			if (li == L_DMA && !pdev) {
				pr_info("NA part=large name=%uM impl=%s label=%s reason=no_edu_device\n",
					mb, limpl_name[li], label);
				continue;
			}
			for (r = -1; r < reps; r++) {
				unsigned long pfn = 0;
				bool ok = false, cma = false;
				dma_addr_t dma;
				void *va = NULL;
				u64 t0, ns;

				t0 = ktime_get_ns();
				switch (li) {
				case L_CO_BUDDY:
					ok = !co_buddy_alloc(fake, nr, 0, 0, &pfn);
					if (ok)
						ok = !co_buddy_free(fake, pfn, nr);
					break;
				case L_CONTIG:
					ok = !contig_alloc(0, nr, &pfn);
					if (ok)
						free_contig_range(pfn, nr);
					break;
				case L_DMA:
					/*
					 * Physically contiguous, as carveout's:
					 * with the IOMMU translating, only
					 * FORCE_CONTIGUOUS takes the CMA path
					 * (iommu_dma_alloc_pages ->
					 * dma_alloc_contiguous); without it,
					 * dma_direct_alloc takes it anyway.
					 */
					va = dma_alloc_attrs(&pdev->dev, size, &dma,
							     GFP_KERNEL | __GFP_NOWARN,
							     DMA_ATTR_FORCE_CONTIGUOUS);
					ok = va;
					if (ok) {
						cma = in_cma(va, size);
						dma_free_attrs(&pdev->dev, size, va, dma,
							       DMA_ATTR_FORCE_CONTIGUOUS);
					}
					break;
				}
				ns = ktime_get_ns() - t0;
				if (r >= 0 && li == L_DMA)
					pr_info("R part=large name=%uM impl=%s label=%s thr=1 rep=%d tot=%llu n=1 ok=%d fail=%d cma=%d\n",
						mb, limpl_name[li], label, r, ns,
						ok, !ok, cma);
				else if (r >= 0)
					pr_info("R part=large name=%uM impl=%s label=%s thr=1 rep=%d tot=%llu n=1 ok=%d fail=%d\n",
						mb, limpl_name[li], label, r, ns,
						ok, !ok);
				cond_resched();
			}
		}
	}
	report_zeroing();
	co_buddy_destroy(fake);
	kfree(fake);
	pci_dev_put(pdev);
	return 0;
}

/* ---- elastic regions ---------------------------------------------------- */

#define EL_MAX_HELD	512

/* Node 0's figures; false if they cannot be read. */
static bool node0(struct carveout_stats *st)
{
	return !carveout_node_stats(0, st);
}

/*
 * Take node 0's free memory in buffers of its largest free block, so the
 * next allocation has to grow the region (never grows: each one fits).
 */
static int el_fill(struct carveout_kbuf **held, struct carveout_stats *st)
{
	int n = 0;

	while (n < EL_MAX_HELD && node0(st) && st->free_bytes) {
		held[n] = carveout_kbuf_alloc(st->largest_free, 0, 0,
					      CARVEOUT_POLICY_STRICT, 0);
		if (IS_ERR_OR_NULL(held[n]))
			break;
		n++;
	}
	return n;
}

static void el_free(struct carveout_kbuf **held, int n)
{
	while (n--)
		carveout_kbuf_free(held[n]);
}

/* Wait (up to 30 s) until node 0 is back at its floor; ms waited or -1. */
static long el_wait_floor(struct carveout_stats *st)
{
	u64 t0 = ktime_get_ns();
	unsigned int i;

	for (i = 0; i < 3000; i++) {
		if (node0(st) && st->region_bytes == st->floor_bytes)
			return div_u64(ktime_get_ns() - t0, NSEC_PER_MSEC);
		msleep(10);
	}
	return -1;
}

/* One allocation of @size that must grow the region, timed. */
static void el_grow_once(const char *name, size_t size, int r,
			 struct carveout_stats *st)
{
	struct carveout_kbuf *cb;
	u64 t0, ns;
	bool ok;

	t0 = ktime_get_ns();
	cb = carveout_kbuf_alloc(size, 0, 0, CARVEOUT_POLICY_STRICT, 0);
	ns = ktime_get_ns() - t0;
	ok = !IS_ERR_OR_NULL(cb);
	if (ok)
		carveout_kbuf_free(cb);
	if (r >= 0)
		pr_info("R part=large name=%s impl=carveout_grow label=%s thr=1 rep=%d tot=%llu n=1 ok=%d fail=%d\n",
			name, label, r, ns, ok, !ok);
	el_wait_floor(st);
}

/*
 * One allocation of @size served from the floor (nothing else allocated),
 * with a ceiling above it or not, timed with its free as in section 2.
 */
static void el_floor_once(const char *name, size_t size, int r,
			  bool ceiling)
{
	kapi_rep("elastic", name, ceiling ? "floor_with_ceiling" :
		 "floor_no_ceiling", size, r, true);
}

/* A burst up to the ceiling in 4 MiB buffers, freed: time back to the floor. */
static void el_burst(struct carveout_stats *st)
{
	struct carveout_kbuf **held = kcalloc(EL_MAX_HELD, sizeof(*held),
					      GFP_KERNEL);
	struct sysinfo before, peak, after;
	u64 grown;
	long ms;
	int n = 0;

	if (!held)
		return;
	si_meminfo(&before);
	while (n < EL_MAX_HELD) {
		held[n] = carveout_kbuf_alloc(SZ_4M, 0, 0,
					      CARVEOUT_POLICY_STRICT, 0);
		if (IS_ERR_OR_NULL(held[n]))
			break;
		n++;
	}
	node0(st);
	grown = st->region_bytes - st->floor_bytes;
	si_meminfo(&peak);
	el_free(held, n);
	ms = el_wait_floor(st);
	si_meminfo(&after);
	pr_info("M elastic_burst_%s_grown_bytes=%llu elastic_burst_%s_ceiling=%llu elastic_burst_%s_return_ms=%ld elastic_burst_%s_delay_ms=%u elastic_burst_%s_memfree_kb=%lu/%lu/%lu\n",
		label, grown, label, st->ceiling_bytes, label, ms, label,
		st->shrink_delay_ms, label,
		before.freeram << (PAGE_SHIFT - 10),
		peak.freeram << (PAGE_SHIFT - 10),
		after.freeram << (PAGE_SHIFT - 10));
	kfree(held);
}

/* The same size from alloc_contig_range() on node 0: allocation timed. */
static void el_contig(const char *name, size_t size)
{
	unsigned long nr = size >> PAGE_SHIFT, pfn;
	u64 t0, ns;
	bool ok;
	int r;

	for (r = -1; r < reps; r++) {
		t0 = ktime_get_ns();
		ok = !contig_alloc(0, nr, &pfn);
		ns = ktime_get_ns() - t0;
		if (ok)
			free_contig_range(pfn, nr);
		if (r >= 0)
			pr_info("R part=elastic name=%s impl=alloc_contig_range label=%s thr=1 rep=%d tot=%llu n=1 ok=%d fail=%d\n",
				name, label, r, ns, ok, !ok);
		cond_resched();
	}
}

/*
 * The same size from the CMA area: dma_alloc_attrs(FORCE_CONTIGUOUS) on
 * edu (see run_large()), allocation timed; cma=1 when the buffer lies in
 * the default CMA area (in_cma()), i.e. cma_alloc() served it.
 */
static void el_dma_cma(const char *name, size_t size, struct pci_dev *pdev)
{
	dma_addr_t dma;
	u64 t0, ns;
	void *va;
	bool cma;
	int r;

	if (!pdev || !cma_size) {
		pr_info("NA part=elastic name=%s impl=dma_alloc_cma label=%s reason=%s\n",
			name, label, pdev ? "no_cma_area" : "no_edu_device");
		return;
	}
	for (r = -1; r < reps; r++) {
		t0 = ktime_get_ns();
		va = dma_alloc_attrs(&pdev->dev, size, &dma,
				     GFP_KERNEL | __GFP_NOWARN,
				     DMA_ATTR_FORCE_CONTIGUOUS);
		ns = ktime_get_ns() - t0;
		cma = va && in_cma(va, size);
		if (va)
			dma_free_attrs(&pdev->dev, size, va, dma,
				       DMA_ATTR_FORCE_CONTIGUOUS);
		if (r >= 0)
			pr_info("R part=elastic name=%s impl=dma_alloc_cma label=%s thr=1 rep=%d tot=%llu n=1 ok=%d fail=%d cma=%d\n",
				name, label, r, ns, !!va, !va, cma);
		cond_resched();
	}
}

static int run_elastic(void)
{
	struct pci_dev *pdev = pci_get_device(0x1234, 0x11e8, NULL);
	struct carveout_kbuf **held;
	struct carveout_stats *st;
	unsigned int mb;
	int r, n;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	held = kcalloc(EL_MAX_HELD, sizeof(*held), GFP_KERNEL);
	if (!st || !held || !node0(st))
		goto out;
	/* Served from the floor, with the ceiling set or (before) without. */
	for (mb = 4; mb <= 64; mb *= 4) {
		char name[16];

		snprintf(name, sizeof(name), "%uM", mb);
		for (r = -1; r < reps; r++)
			el_floor_once(name, (size_t)mb << 20, r,
				      st->ceiling_bytes > st->floor_bytes);
	}
	if (floor_only)
		goto out;
	if (st->ceiling_bytes <= st->floor_bytes) {
		pr_info("NA part=large name=4M impl=carveout_grow label=%s reason=no_ceiling\n",
			label);
		goto out;
	}
	n = el_fill(held, st);
	for (mb = 4; mb <= 64; mb *= 4) {
		char name[16];

		snprintf(name, sizeof(name), "%uM", mb);
		for (r = -1; r < reps; r++)
			el_grow_once(name, (size_t)mb << 20, r, st);
		/* The baselines with the floor taken too: the same state. */
		el_contig(name, (size_t)mb << 20);
		el_dma_cma(name, (size_t)mb << 20, pdev);
	}
	el_free(held, n);
	el_burst(st);
out:
	pci_dev_put(pdev);
	kfree(held);
	kfree(st);
	return 0;
}

static int run_meta(void)
{
	struct co_buddy *b;
	int ret;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	ret = co_buddy_init(b, FAKE_PFN, FAKE_PAGES);
	if (!ret) {
		pr_info("M kernel_buddy_meta_1g=%zu struct_co_buddy=%zu\n",
			co_buddy_metadata_bytes(b), sizeof(*b));
		co_buddy_destroy(b);
	}
	kfree(b);
	return ret;
}

static int __init co_bench_init(void)
{
	int ret;

	if (!strcmp(test, "fast"))
		ret = run_fast();
	else if (!strcmp(test, "large"))
		ret = run_large();
	else if (!strcmp(test, "meta"))
		ret = run_meta();
	else if (!strcmp(test, "elastic"))
		ret = run_elastic();
	else
		ret = -EINVAL;
	pr_info("M done test=%s ret=%d\n", test, ret);
	return ret;
}

static void __exit co_bench_exit(void)
{
}

module_init(co_bench_init);
module_exit(co_bench_exit);
MODULE_DESCRIPTION("carveout benchmarks against the kernel's allocators");
MODULE_LICENSE("GPL");
