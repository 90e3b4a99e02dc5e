// SPDX-License-Identifier: GPL-2.0
/*
 * co_bench_pin - fragment the page allocator for carveout's benchmarks.
 *
 * At load, takes every free page of every node (without reclaim, so it
 * stops at the watermarks), keeps about one page in @every at random and
 * frees the rest.  The kept pages are movable-type pages that nothing can
 * migrate (like pages pinned by get_user_pages), scattered over all of
 * memory that was free: ranges containing one cannot be had by
 * alloc_contig_range() or the buddy allocator.  Freed at unload.
 *
 * Pages inside the CMA area given by @cma_base/@cma_size are never kept:
 * the kernel keeps unmovable allocations out of CMA pageblocks and
 * migrates long-term pins (FOLL_LONGTERM) out of them, so a pinned page
 * there would fragment CMA in a way no real workload can.  Movable data
 * in CMA (page cache, anonymous memory) is left to cobench-user frag.
 */
#define pr_fmt(fmt) "cobench: "	fmt

#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/random.h>
#include <linux/sched.h>

static unsigned int every = 1024;
module_param(every, uint, 0444);
MODULE_PARM_DESC(every, "keep one page in this many (on average)");

static unsigned long long cma_base;
module_param(cma_base, ullong, 0444);
MODULE_PARM_DESC(cma_base, "physical base of the CMA area to leave alone");
static unsigned long long cma_size;
module_param(cma_size, ullong, 0444);
MODULE_PARM_DESC(cma_size, "its size in bytes (0: no CMA area)");

static LIST_HEAD(pinned);
static unsigned long nr_pinned;

static int __init pin_init(void)
{
	gfp_t gfp = (GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM) | __GFP_NOWARN |
		    __GFP_THISNODE;
	unsigned long grabbed = 0, in_cma = 0;
	phys_addr_t pa;
	struct page *page, *tmp;
	LIST_HEAD(grab);
	int nid;

	if (!every)
		return -EINVAL;
	for_each_online_node(nid) {
		while ((page = alloc_pages_node(nid, gfp, 0))) {
			list_add(&page->lru, &grab);
			grabbed++;
			if (!(grabbed & 4095))
				cond_resched();
		}
	}
	list_for_each_entry_safe(page, tmp, &grab, lru) {
		list_del(&page->lru);
		pa = page_to_phys(page);
		if (cma_size && pa >= cma_base && pa - cma_base < cma_size) {
			in_cma++;
			__free_page(page);
		} else if (get_random_u32() % every == 0) {
			list_add(&page->lru, &pinned);
			nr_pinned++;
		} else {
			__free_page(page);
		}
	}
	pr_info("M pin grabbed_pages=%lu pinned_pages=%lu every=%u grabbed_in_cma=%lu\n",
		grabbed, nr_pinned, every, in_cma);
	return 0;
}

static void __exit pin_exit(void)
{
	struct page *page, *tmp;

	list_for_each_entry_safe(page, tmp, &pinned, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
}

module_init(pin_init);
module_exit(pin_exit);
MODULE_DESCRIPTION("carveout benchmarks: scattered unmovable pages");
MODULE_LICENSE("GPL");
