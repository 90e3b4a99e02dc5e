// SPDX-License-Identifier: GPL-2.0
/*
 * carveoutctl map: a picture of each piece of each node's region, one
 * character per cell of pages, drawn from the free blocks FREEMAP reports
 * (page offsets within the piece, in address order).  Any user who may
 * open the device may draw it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"

/* Free pages per cell of one piece, filled block by block. */
struct piece_pic {
	uint64_t pages;		/* pages in the piece */
	uint64_t per;		/* pages per cell */
	unsigned int ncells;
	uint64_t *freec;	/* free pages per cell */
	uint64_t free_pages;
	uint64_t largest;	/* pages in the largest free block */
	uint64_t nr_blocks;
	int bad;		/* a block outside the piece */
};

static int pic_add(const struct carveout_free_block *b, void *arg)
{
	struct piece_pic *p = arg;
	uint64_t s = b->offset, e, c, ce;

	if (b->order >= 64 || !p->freec) {
		p->bad = 1;
		return 0;
	}
	e = s + (1ULL << b->order);
	if (e > p->pages || e < s) {
		p->bad = 1;
		return 0;
	}
	p->free_pages += e - s;
	p->nr_blocks++;
	if (e - s > p->largest)
		p->largest = e - s;
	for (c = s / p->per; s < e; c++, s = ce) {
		ce = (c + 1) * p->per < e ? (c + 1) * p->per : e;
		p->freec[c] += ce - s;
	}
	return 0;
}

static void draw_cells(const struct piece_pic *p, unsigned long page_size)
{
	unsigned int i;
	char a[24];

	printf("    1 cell = %s, '#' used, '+' partly free, ':' mostly free, '.' free\n    |",
	       fmt_round(p->per * page_size, a));
	for (i = 0; i < p->ncells; i++) {
		uint64_t cell = i + 1 == p->ncells ?
				p->pages - (uint64_t)i * p->per : p->per;
		uint64_t f = p->freec[i];

		putchar(f == 0 ? '#' : f >= cell ? '.' : f * 2 >= cell ? ':' : '+');
	}
	printf("|\n");
}

/* Walks one piece's free blocks and draws it in @cols cells. */
static int draw_piece(struct carveout_ctx *ctx, unsigned int node,
		      unsigned int piece, int cols, unsigned long page_size)
{
	struct carveout_piece_info pi;
	struct piece_pic p = { 0 };
	char a[24];
	int ret;

	/* The piece's size first, to size the cells. */
	ret = carveout_get_freemap(ctx, node, piece, &(uint64_t){ 0 },
				   &(struct carveout_free_block){ 0 }, 1, &pi);
	if (ret >= 0) {
		p.pages = pi.pages;
		p.per = pi.pages ? (pi.pages + cols - 1) / cols : 1;
		p.ncells = (unsigned int)((pi.pages + p.per - 1) / p.per);
		p.freec = calloc(p.ncells ? p.ncells : 1, sizeof(*p.freec));
		ret = p.freec ? carveout_walk_free(ctx, node, piece, pic_add, &p,
						   NULL) : -ENOMEM;
	}
	if (ret < 0 || p.bad) {
		errline(carveout_strerror_op(ret < 0 ? ret : EIO,
					     CARVEOUT_OP_FREEMAP),
			"free map of node %u piece %u", node, piece);
		free(p.freec);
		return 1;
	}
	printf("  piece %u: %s, free %" PRIu64 " of %" PRIu64 " pages in %" PRIu64
	       " block%s, largest %" PRIu64 "\n", piece,
	       fmt_round(p.pages * page_size, a), p.free_pages, p.pages,
	       p.nr_blocks, p.nr_blocks == 1 ? "" : "s", p.largest);
	draw_cells(&p, page_size);
	free(p.freec);
	return 0;
}

static void map_summary(const struct carveout_node_info *ni)
{
	char a[24], b[24], c[24], d[24];
	uint64_t used = ni->region_bytes - ni->free_bytes;

	printf("node %u: %s in %u piece%s, used %s (%.1f%%), free %s, largest free block %s\n",
	       ni->node, fmt_round(ni->region_bytes, a), ni->nr_pieces,
	       ni->nr_pieces == 1 ? "" : "s", fmt_round(used, b),
	       ni->region_bytes ? 100.0 * (double)used / (double)ni->region_bytes : 0.0,
	       fmt_round(ni->free_bytes, c), fmt_round(ni->largest_free, d));
}

/* A region that may grow: its floor, ceiling and what it did. */
static void map_elastic(struct carveout_ctx *ctx, unsigned int node)
{
	struct carveout_elastic e;
	char a[24], b[24];

	if (carveout_get_elastic(ctx, node, &e) ||
	    e.ceiling_bytes <= e.floor_bytes)
		return;
	printf("  elastic: floor %s, ceiling %s, %u piece%s above the floor; grown %llu times, given back %llu times, %llu failures (last: %s)\n",
	       fmt_round(e.floor_bytes, a), fmt_round(e.ceiling_bytes, b),
	       e.nr_elastic, e.nr_elastic == 1 ? "" : "s",
	       (unsigned long long)e.grow_count,
	       (unsigned long long)e.shrink_count,
	       (unsigned long long)e.grow_fail_count,
	       carveout_grow_fail_name(e.last_fail));
}

static int draw_map(struct carveout_ctx *ctx, int only_node, int width)
{
	struct carveout_sysinfo info;
	int cols = width - 6 < 10 ? 10 : width - 6;
	unsigned int i, k;
	bool any = false;

	if (get_info(ctx, &info))
		return 1;
	for (i = 0; i < info.nr_nodes; i++) {
		const struct carveout_node_info *ni = &info.nodes[i];

		if (only_node >= 0 && ni->node != (unsigned int)only_node)
			continue;
		if (any)
			printf("\n");
		any = true;
		map_summary(ni);
		map_elastic(ctx, ni->node);
		for (k = 0; k < ni->nr_pieces; k++)
			if (draw_piece(ctx, ni->node, k, cols, info.page_size))
				return 1;
	}
	if (!any) {
		errline(carveout_strerror_op(ENODEV, CARVEOUT_OP_FREEMAP),
			"map of node %d", only_node);
		return 1;
	}
	return 0;
}

static int width_arg(const char *s, int *width)
{
	char *end;

	*width = (int)strtol(s, &end, 10);
	if (!*s || *end || *width < 20 || *width > 1000) {
		errline("give 20 to 1000 columns", "width '%s'", s);
		return 2;
	}
	return 0;
}

int cmd_map(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "width", required_argument, NULL, 'W' },
		{ "watch", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct carveout_ctx *ctx;
	int opt, ret, node = -1, width = 0;
	double watch = 0;

	while ((opt = getopt_long(argc, argv, "n:W:w:h", opts, NULL)) != -1) {
		if (opt == 'n')
			ret = parse_node_arg(optarg, &node);
		else if (opt == 'W')
			ret = width_arg(optarg, &width);
		else if (opt == 'w')
			ret = parse_secs_arg(optarg, &watch);
		else
			return help_or_bad(opt, argv, "n:W:w:h", "map");
		if (ret)
			return ret;
	}
	if (optind < argc)
		return usage_error("map: unexpected argument", argv[optind]);
	ctx = open_ctx();
	if (!ctx)
		return 1;
	if (watch)
		catch_stop_signals();
	do {
		if (watch)
			watch_header("map", watch);
		ret = draw_map(ctx, node, width ? width : term_width());
	} while (!ret && watch && watch_sleep(watch));
	carveout_close(ctx);
	return ret;
}
