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
 */
#define pr_fmt(fmt) "cobench: "	fmt

#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/random.h>
#include <linux/sched.h>

static unsigned int every = 1024;
module_param(every, uint, 0444);
MODULE_PARM_DESC(every, "keep one page in this many (on average)");

static LIST_HEAD(pinned);
static unsigned long nr_pinned;

static int __init pin_init(void)
{
	gfp_t gfp = (GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM) | __GFP_NOWARN |
		    __GFP_THISNODE;
	unsigned long grabbed = 0;
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
		if (get_random_u32() % every == 0) {
			list_add(&page->lru, &pinned);
			nr_pinned++;
		} else {
			__free_page(page);
		}
	}
	pr_info("M pin grabbed_pages=%lu pinned_pages=%lu every=%u\n",
		grabbed, nr_pinned, every);
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
