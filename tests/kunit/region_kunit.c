// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for carveout's regions (carveout_region) and NUMA placement
 * order (carveout_policy).  They run against the regions the loaded
 * carveout.ko reserved.
 */
#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/topology.h>

#include <linux/carveout.h>

#include <carveout/kapi.h>

#include "carveout.h"
#include "co_kunit.h"

struct co_size_case {
	const char *text;
	int ret;
	u64 bytes;
};

static const struct co_size_case co_size_cases[] = {
	{ "64M", 0, 64ULL << 20 },
	{ "1G", 0, 1ULL << 30 },
	{ "4096", 0, 4096 },
	{ "3k", 0, 3072 },
	{ "0", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "12X", -EINVAL, 0 },
	{ "M", -EINVAL, 0 },
	{ "1M,", -EINVAL, 0 },
};

static void co_size_desc(const struct co_size_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "\"%s\"", c->text);
}

KUNIT_ARRAY_PARAM(co_size, co_size_cases, co_size_desc);

static void co_region_parse_size(struct kunit *test)
{
	const struct co_size_case *c = test->param_value;
	u64 bytes = 0;

	KUNIT_EXPECT_EQ(test, co_parse_size(c->text, &bytes), c->ret);
	if (!c->ret)
		KUNIT_EXPECT_EQ(test, bytes, c->bytes);
}

static void co_region_parse_nodes(struct kunit *test)
{
	u64 sizes[4];

	KUNIT_EXPECT_EQ(test, co_parse_node_sizes("0:128M,1:64M", sizes, 4), 0);
	KUNIT_EXPECT_EQ(test, sizes[0], 128ULL << 20);
	KUNIT_EXPECT_EQ(test, sizes[1], 64ULL << 20);
	KUNIT_EXPECT_EQ(test, sizes[2], 0ULL);
	KUNIT_EXPECT_EQ(test, co_parse_node_sizes("3:1G", sizes, 4), 0);
	KUNIT_EXPECT_EQ(test, sizes[3], 1ULL << 30);
	KUNIT_EXPECT_EQ(test, sizes[0], 0ULL);

	KUNIT_EXPECT_EQ(test, co_parse_node_sizes("0:1M,0:2M", sizes, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, co_parse_node_sizes("4:1M", sizes, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, co_parse_node_sizes("0:", sizes, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, co_parse_node_sizes("0:1M,", sizes, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, co_parse_node_sizes("1M", sizes, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, co_parse_node_sizes("x:1M", sizes, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, co_parse_node_sizes("", sizes, 4), -EINVAL);
}

static void co_region_on_its_node(struct kunit *test)
{
	unsigned int i, seen = 0;
	struct co_piece *p;
	u64 sum;
	int nid;

	for (nid = 0; nid < MAX_NUMNODES; nid++) {
		struct co_node *cn = co_nodes[nid];

		if (!cn)
			continue;
		seen++;
		KUNIT_EXPECT_EQ(test, cn->nid, nid);
		KUNIT_EXPECT_GT(test, cn->nr_pieces, 0U);
		sum = 0;
		for (i = 0; i < cn->nr_pieces; i++) {
			p = &cn->pieces[i];
			sum += (u64)p->nr_pages << PAGE_SHIFT;
			KUNIT_EXPECT_EQ(test, pfn_to_nid(p->start_pfn), nid);
			KUNIT_EXPECT_EQ(test,
					pfn_to_nid(p->start_pfn + p->nr_pages - 1),
					nid);
			KUNIT_EXPECT_PTR_EQ(test, p->node, cn);
			if (!p->reserved_mem)
				KUNIT_EXPECT_EQ(test, p->start_pfn %
						pageblock_nr_pages, 0UL);
			KUNIT_EXPECT_EQ(test, co_buddy_check(&p->buddy), 0);
		}
		KUNIT_EXPECT_EQ(test, sum, cn->bytes);
		KUNIT_EXPECT_LE(test, co_node_free_bytes(cn), cn->bytes);
	}
	KUNIT_EXPECT_EQ(test, seen, co_nr_nodes);
	KUNIT_EXPECT_GT(test, co_nr_nodes, 0U);
}

static bool co_disjoint(const struct co_piece *a, const struct co_piece *b)
{
	return a->start_pfn + a->nr_pages <= b->start_pfn ||
	       b->start_pfn + b->nr_pages <= a->start_pfn;
}

static void co_region_pieces_disjoint(struct kunit *test)
{
	struct co_piece *a, *b;
	unsigned int i, j;
	int n1, n2;

	for (n1 = 0; n1 < MAX_NUMNODES; n1++) {
		if (!co_nodes[n1])
			continue;
		for (n2 = 0; n2 < MAX_NUMNODES; n2++) {
			if (!co_nodes[n2])
				continue;
			for (i = 0; i < co_nodes[n1]->nr_pieces; i++) {
				for (j = 0; j < co_nodes[n2]->nr_pieces; j++) {
					a = &co_nodes[n1]->pieces[i];
					b = &co_nodes[n2]->pieces[j];
					if (a == b)
						continue;
					KUNIT_EXPECT_TRUE(test, co_disjoint(a, b));
				}
			}
		}
	}
}

/* A power-of-two piece aligned to its size is one block of its order. */
static void co_region_natural_blocks(struct kunit *test)
{
	struct co_piece *p;
	int nid;

	for (nid = 0; nid < MAX_NUMNODES; nid++) {
		if (!co_nodes[nid])
			continue;
		p = &co_nodes[nid]->pieces[0];
		if (!is_power_of_2(p->nr_pages) ||
		    p->start_pfn % p->nr_pages)
			continue;
		KUNIT_EXPECT_EQ(test, co_buddy_max_order(&p->buddy),
				(unsigned int)ilog2(p->nr_pages));
	}
}

/*
 * Regions never come from ZONE_MOVABLE or ZONE_DEVICE: the zone test says
 * so for every zone of every node, and every piece taken from the page
 * allocator sits in a zone it allows.
 */
static void co_region_zones(struct kunit *test)
{
	struct co_node *cn;
	struct co_piece *p;
	struct zone *zone;
	int nid, z;

	for_each_online_node(nid) {
		for (z = 0; z < MAX_NR_ZONES; z++) {
			zone = &NODE_DATA(nid)->node_zones[z];
			KUNIT_EXPECT_EQ_MSG(test, co_zone_allowed(zone),
					    populated_zone(zone) &&
					    z != ZONE_MOVABLE &&
					    !zone_is_zone_device(zone),
					    "node %d zone %d", nid, z);
		}
		zone = &NODE_DATA(nid)->node_zones[ZONE_MOVABLE];
		KUNIT_EXPECT_FALSE(test, co_zone_allowed(zone));
	}
	co_for_each_node(cn)
		co_for_each_piece(cn, p)
			if (!p->reserved_mem)
				KUNIT_EXPECT_TRUE(test, co_zone_allowed(
					page_zone(pfn_to_page(p->start_pfn))));
}

static struct co_piece *co_piece_of(phys_addr_t phys)
{
	struct co_piece *p;
	struct co_node *cn;

	co_for_each_node(cn)
		co_for_each_piece(cn, p)
			if (co_buddy_contains(&p->buddy, PHYS_PFN(phys)))
				return p;
	return NULL;
}

/*
 * What unload checks before it gives a piece back: a page allocated, or
 * referenced from outside (a mapping, a pin), keeps the piece.
 */
static void co_region_busy_piece(struct kunit *test)
{
	unsigned long alloc0, ref0, alloc, ref;
	struct carveout_kbuf *kb;
	struct co_piece *p;
	struct page *page;
	phys_addr_t phys;

	kb = carveout_kbuf_alloc(4 * PAGE_SIZE, 0, 0, CARVEOUT_POLICY_LOCAL, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(kb));
	phys = carveout_kbuf_phys(kb);
	p = co_piece_of(phys);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_TRUE(test, co_piece_busy(p, &alloc, &ref));
	carveout_kbuf_free(kb);
	co_piece_busy(p, &alloc0, &ref0);
	/* Other suites' leftovers aside, the 4 pages were counted. */
	KUNIT_EXPECT_EQ(test, alloc, alloc0 + 4);
	KUNIT_EXPECT_EQ(test, ref, ref0);

	/* A free page with an outside reference keeps the piece busy. */
	page = pfn_to_page(PHYS_PFN(phys) + 1);
	get_page(page);
	KUNIT_EXPECT_TRUE(test, co_piece_busy(p, &alloc, &ref));
	KUNIT_EXPECT_EQ(test, alloc, alloc0);
	KUNIT_EXPECT_EQ(test, ref, ref0 + 1);
	put_page(page);
	co_piece_busy(p, &alloc, &ref);
	KUNIT_EXPECT_EQ(test, ref, ref0);
}

static struct kunit_case co_region_cases[] = {
	KUNIT_CASE_PARAM(co_region_parse_size, co_size_gen_params),
	KUNIT_CASE(co_region_parse_nodes),
	KUNIT_CASE(co_region_on_its_node),
	KUNIT_CASE(co_region_pieces_disjoint),
	KUNIT_CASE(co_region_natural_blocks),
	KUNIT_CASE(co_region_zones),
	KUNIT_CASE(co_region_busy_piece),
	{}
};

struct kunit_suite carveout_region_suite = {
	.name = "carveout_region",
	.test_cases = co_region_cases,
};

/* carveout_policy */

static int co_first_node(void)
{
	int nid;

	for (nid = 0; nid < MAX_NUMNODES; nid++)
		if (co_nodes[nid])
			return nid;
	return -1;
}

static int co_node_without_region(void)
{
	int nid;

	for (nid = MAX_NUMNODES - 1; nid >= 0; nid--)
		if (!co_nodes[nid])
			return nid;
	return -1;
}

static void co_policy_strict(struct kunit *test)
{
	struct co_alloc_req req = { .policy = CARVEOUT_POLICY_STRICT };
	int order[MAX_NUMNODES > 64 ? 64 : MAX_NUMNODES];
	int nid;

	req.nid = co_first_node();
	KUNIT_ASSERT_GE(test, req.nid, 0);
	KUNIT_EXPECT_EQ(test, co_pick_nodes(&req, order, ARRAY_SIZE(order)), 1);
	KUNIT_EXPECT_EQ(test, order[0], req.nid);

	nid = co_node_without_region();
	if (nid >= 0) {
		req.nid = nid;
		KUNIT_EXPECT_EQ(test, co_pick_nodes(&req, order,
						    ARRAY_SIZE(order)), -ENODEV);
	}
	req.nid = -1;
	KUNIT_EXPECT_EQ(test, co_pick_nodes(&req, order, ARRAY_SIZE(order)),
			-EINVAL);
	req.nid = MAX_NUMNODES;
	KUNIT_EXPECT_EQ(test, co_pick_nodes(&req, order, ARRAY_SIZE(order)),
			-EINVAL);
}

static void co_policy_preferred_by_distance(struct kunit *test)
{
	struct co_alloc_req req = { .policy = CARVEOUT_POLICY_PREFERRED };
	int order[MAX_NUMNODES > 64 ? 64 : MAX_NUMNODES];
	int nid, n, i;

	for (nid = 0; nid < MAX_NUMNODES; nid++) {
		if (!co_nodes[nid])
			continue;
		req.nid = nid;
		n = co_pick_nodes(&req, order, ARRAY_SIZE(order));
		KUNIT_EXPECT_EQ(test, n, (int)co_nr_nodes);
		KUNIT_EXPECT_EQ(test, order[0], nid);
		for (i = 2; i < n; i++)
			KUNIT_EXPECT_LE(test, node_distance(nid, order[i - 1]),
					node_distance(nid, order[i]));
		for (i = 1; i < n; i++)
			KUNIT_EXPECT_NE(test, order[i], nid);
	}
	/* A preferred node without a region still falls back. */
	req.nid = co_node_without_region();
	if (req.nid >= 0)
		KUNIT_EXPECT_EQ(test, co_pick_nodes(&req, order,
						    ARRAY_SIZE(order)),
				(int)co_nr_nodes);
}

static void co_policy_local(struct kunit *test)
{
	struct co_alloc_req req = { .policy = CARVEOUT_POLICY_LOCAL };
	int order[MAX_NUMNODES > 64 ? 64 : MAX_NUMNODES];
	int n, here;

	preempt_disable();
	here = numa_node_id();
	n = co_pick_nodes(&req, order, ARRAY_SIZE(order));
	preempt_enable();
	KUNIT_EXPECT_EQ(test, n, (int)co_nr_nodes);
	if (co_nodes[here])
		KUNIT_EXPECT_EQ(test, order[0], here);
}

static void co_policy_invalid(struct kunit *test)
{
	struct co_alloc_req req = { .policy = CARVEOUT_POLICY_DEVICE };
	int order[4];

	/* The DEVICE policy needs a device. */
	KUNIT_EXPECT_EQ(test, co_pick_nodes(&req, order, 4), -EINVAL);
	req.policy = CARVEOUT_POLICY_MAX + 1;
	KUNIT_EXPECT_EQ(test, co_pick_nodes(&req, order, 4), -EINVAL);
}

static void co_policy_two_nodes(struct kunit *test)
{
	struct co_alloc_req req = { .policy = CARVEOUT_POLICY_PREFERRED };
	int order[MAX_NUMNODES > 64 ? 64 : MAX_NUMNODES];
	int a = -1, b = -1, nid;

	for (nid = 0; nid < MAX_NUMNODES; nid++) {
		if (!co_nodes[nid])
			continue;
		if (a < 0)
			a = nid;
		else if (b < 0)
			b = nid;
	}
	if (b < 0)
		kunit_skip(test, "needs regions on two nodes");
	req.nid = b;
	KUNIT_ASSERT_EQ(test, co_pick_nodes(&req, order, ARRAY_SIZE(order)),
			(int)co_nr_nodes);
	KUNIT_EXPECT_EQ(test, order[0], b);
	KUNIT_EXPECT_EQ(test, order[1], a);
	/* The output is bounded by @max. */
	KUNIT_EXPECT_EQ(test, co_pick_nodes(&req, order, 1), 1);
	KUNIT_EXPECT_EQ(test, order[0], b);
}

static struct kunit_case co_policy_cases[] = {
	KUNIT_CASE(co_policy_strict),
	KUNIT_CASE(co_policy_preferred_by_distance),
	KUNIT_CASE(co_policy_local),
	KUNIT_CASE(co_policy_invalid),
	KUNIT_CASE(co_policy_two_nodes),
	{}
};

struct kunit_suite carveout_policy_suite = {
	.name = "carveout_policy",
	.test_cases = co_policy_cases,
};
