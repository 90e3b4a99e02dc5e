// SPDX-License-Identifier: GPL-2.0
/*
 * carveoutctl info: what INFO reports (capabilities, limits, what the
 * caller's user holds; the limits that apply to carveoutctl's own file,
 * the reserve and that file's handles and mappings against their caps;
 * regions per node), the pieces of each region from
 * FREEMAP and the sub-page size classes from SLABINFO.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "ctl.h"

#define MAX_CLASSES	64

static const struct {
	uint64_t bit;
	const char *name;
} cap_names[] = {
	{ CARVEOUT_CAP_NUMA, "numa" },
	{ CARVEOUT_CAP_SLAB, "sub-page" },
	{ CARVEOUT_CAP_DMA_MAP, "dma-map" },
	{ CARVEOUT_CAP_DMABUF, "dma-buf" },
	{ CARVEOUT_CAP_WC, "write-combine" },
	{ CARVEOUT_CAP_UNCACHED, "uncached" },
	{ CARVEOUT_CAP_PHYS, "physical-addresses" },
	{ CARVEOUT_CAP_FREEMAP, "free-map" },
	{ CARVEOUT_CAP_LIMITS, "limits" },
	{ CARVEOUT_CAP_ELASTIC, "elastic" },
};

static const char *limit_text(uint64_t v, char *buf)
{
	return v ? fmt_size(v, buf) : "none";
}

static void print_summary(const struct carveout_sysinfo *info)
{
	char a[24], b[24];
	unsigned int k;

	printf("carveout %s: %u node%s, %s reserved, page size %s, sub-page buffers up to %u bytes\n",
	       carveout_version(), info->nr_nodes_total,
	       info->nr_nodes_total == 1 ? "" : "s",
	       fmt_size(info->total_bytes, a), fmt_size(info->page_size, b),
	       info->slab_max);
	printf("capabilities:");
	for (k = 0; k < sizeof(cap_names) / sizeof(cap_names[0]); k++)
		if (info->caps & cap_names[k].bit)
			printf(" %s", cap_names[k].name);
	printf("\nlargest buffer now: %s\n", fmt_size(info->max_alloc, a));
	printf("limits: per open file %s, per user %s\n",
	       limit_text(info->file_limit, a), limit_text(info->user_limit, b));
	printf("held by uid %u: %s over all open files\n", (unsigned int)getuid(),
	       fmt_size(info->user_bytes, a));
}

static const char *cap_text(uint32_t v, char *buf)
{
	if (!v)
		return "no cap";
	snprintf(buf, 24, "cap %u", v);
	return buf;
}

/* What applies to carveoutctl's own open file, and what it holds. */
static void print_limits(const struct carveout_limits *lim)
{
	char a[24], b[24], c[24];

	printf("limits for this file: per user %s%s, reserve %s kept for CAP_SYS_ADMIN and in-kernel users (%s)\n",
	       limit_text(lim->eff_user_limit, a),
	       !lim->user_limit && lim->eff_user_limit ? " (default share)" : "",
	       fmt_size(lim->reserve_bytes, b),
	       lim->privileged ? "this file may use it" :
				 "this file may not use it");
	printf("held by this file: %s, %u handle%s (%s), %u DMA mapping%s (%s)\n",
	       fmt_size(lim->file_bytes, a), lim->nr_handles,
	       lim->nr_handles == 1 ? "" : "s", cap_text(lim->max_handles, b),
	       lim->nr_maps, lim->nr_maps == 1 ? "" : "s",
	       cap_text(lim->max_maps, c));
}

static void print_nodes(const struct carveout_sysinfo *info)
{
	char a[24], b[24], c[24];
	unsigned int i;

	printf("\n%4s  %6s  %10s  %10s  %10s\n", "node", "pieces", "region",
	       "free", "largest");
	for (i = 0; i < info->nr_nodes; i++) {
		const struct carveout_node_info *n = &info->nodes[i];

		printf("%4u  %6u  %10s  %10s  %10s\n", n->node, n->nr_pieces,
		       fmt_size(n->region_bytes, a), fmt_size(n->free_bytes, b),
		       fmt_size(n->largest_free, c));
	}
}

/* Floor, size and ceiling per node, and how each grew and shrank. */
static void print_elastic(struct carveout_ctx *ctx,
			  const struct carveout_sysinfo *info)
{
	char a[24], b[24], c[24], d[24], e_[24];
	struct carveout_elastic e;
	unsigned int i;

	printf("\n%4s  %10s  %10s  %10s  %7s  %10s  %7s  %10s  %5s  %s\n",
	       "node", "floor", "region", "ceiling", "grown", "grown_by",
	       "shrunk", "given_back", "fail", "last failure");
	for (i = 0; i < info->nr_nodes; i++) {
		if (carveout_get_elastic(ctx, info->nodes[i].node, &e))
			continue;
		printf("%4u  %10s  %10s  %10s  %7llu  %10s  %7llu  %10s  %5llu  %s\n",
		       info->nodes[i].node, fmt_size(e.floor_bytes, a),
		       fmt_size(e.region_bytes, b),
		       fmt_size(e.ceiling_bytes, c),
		       (unsigned long long)e.grow_count,
		       fmt_size(e.grow_bytes, d),
		       (unsigned long long)e.shrink_count,
		       fmt_size(e.shrink_bytes, e_),
		       (unsigned long long)e.grow_fail_count,
		       carveout_grow_fail_name(e.last_fail));
	}
}

/* Each piece's size, from the first step of a free-map walk. */
static int print_pieces(struct carveout_ctx *ctx,
			const struct carveout_sysinfo *info)
{
	struct carveout_piece_info pi;
	struct carveout_free_block fb;
	unsigned int i, k;
	uint64_t cursor;
	char a[24];
	int ret;

	printf("\n%4s  %5s  %10s  %10s\n", "node", "piece", "pages", "size");
	for (i = 0; i < info->nr_nodes; i++) {
		for (k = 0; k < info->nodes[i].nr_pieces; k++) {
			cursor = 0;
			ret = carveout_get_freemap(ctx, info->nodes[i].node, k,
						   &cursor, &fb, 1, &pi);
			if (ret < 0) {
				errline(carveout_strerror_op(ret, CARVEOUT_OP_FREEMAP),
					"pieces of node %u", info->nodes[i].node);
				return 1;
			}
			printf("%4u  %5u  %10llu  %10s\n", info->nodes[i].node, k,
			       (unsigned long long)pi.pages,
			       fmt_size(pi.pages * info->page_size, a));
		}
	}
	return 0;
}

static int print_classes(struct carveout_ctx *ctx,
			 const struct carveout_sysinfo *info)
{
	struct carveout_slab_class cl[MAX_CLASSES];
	int n, k;

	if (!info->nr_nodes || !(info->caps & CARVEOUT_CAP_SLAB))
		return 0;
	n = carveout_get_slabinfo(ctx, info->nodes[0].node, cl, MAX_CLASSES);
	if (n < 0) {
		errline(carveout_strerror_op(n, CARVEOUT_OP_SLABINFO),
			"size classes");
		return 1;
	}
	/* A module may report zeros to a file without caches: nothing to show. */
	if (!n || !cl[0].obj_size)
		return 0;
	printf("\nsub-page size classes (bytes/objects per slab/pages per slab):\n");
	for (k = 0; k < n && k < MAX_CLASSES; k++)
		printf("  %4u/%u/%u%s", cl[k].obj_size, cl[k].objs_per_slab,
		       cl[k].slab_pages, k % 6 == 5 || k + 1 == n ? "\n" : "");
	return 0;
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct carveout_sysinfo info;
	struct carveout_limits lim;
	struct carveout_ctx *ctx;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		return help_or_bad(opt, argv, "h", "info");
	if (optind < argc)
		return usage_error("info: unexpected argument", argv[optind]);
	ctx = open_ctx();
	if (!ctx)
		return 1;
	ret = get_info(ctx, &info);
	if (!ret) {
		print_summary(&info);
		if ((info.caps & CARVEOUT_CAP_LIMITS) &&
		    !carveout_get_limits(ctx, &lim))
			print_limits(&lim);
		print_nodes(&info);
		if (info.caps & CARVEOUT_CAP_ELASTIC)
			print_elastic(ctx, &info);
	}
	if (!ret && (info.caps & CARVEOUT_CAP_FREEMAP))
		ret = print_pieces(ctx, &info);
	if (!ret && (info.caps & CARVEOUT_CAP_FREEMAP))
		ret = print_classes(ctx, &info);
	carveout_close(ctx);
	return ret;
}
