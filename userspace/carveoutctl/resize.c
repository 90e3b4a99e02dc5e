// SPDX-License-Identifier: GPL-2.0
/*
 * carveoutctl resize: a node's floor, ceiling, watermarks, piece size and
 * idle delay (CARVEOUT_IOC_RESIZE, CAP_SYS_ADMIN), or a give-back of every
 * wholly free piece above the floor now (--shrink).  Without --node every
 * node with a region.  Prints each node's values afterwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"

static void print_node(unsigned int node, const struct carveout_elastic *e)
{
	char a[24], b[24], c[24], d[24], f[24], g[24];

	printf("node %u: floor %s, region %s, ceiling %s, low watermark %s, high watermark %s, piece %s, idle delay %u ms\n",
	       node, fmt_size(e->floor_bytes, a), fmt_size(e->region_bytes, b),
	       fmt_size(e->ceiling_bytes, c), fmt_size(e->low_wmark, d),
	       fmt_size(e->high_wmark, f), fmt_size(e->piece_bytes, g),
	       e->shrink_delay_ms);
}

static int resize_node(struct carveout_ctx *ctx, unsigned int node,
		       const struct carveout_resize_opts *o)
{
	struct carveout_elastic e = { 0 };
	int ret;

	ret = carveout_resize(ctx, node, o, &e);
	if (ret && ret != -ENOMEM) {
		errline(carveout_strerror_op(ret, CARVEOUT_OP_RESIZE),
			"resize node %u", node);
		return 1;
	}
	print_node(node, &e);
	if (ret) {
		errline(carveout_strerror_op(ret, CARVEOUT_OP_RESIZE),
			"resize node %u", node);
		return 1;
	}
	return 0;
}

static int parse_opt(int opt, struct carveout_resize_opts *o, int *node)
{
	char *end;

	switch (opt) {
	case 'n':
		return parse_node_arg(optarg, node);
	case 'f':
		o->flags |= CARVEOUT_RESIZE_FLOOR;
		return parse_size_arg("floor", optarg, &o->floor);
	case 'c':
		o->flags |= CARVEOUT_RESIZE_CEILING;
		return parse_size_arg("ceiling", optarg, &o->ceiling);
	case 'l':
		o->flags |= CARVEOUT_RESIZE_WMARKS;
		return parse_size_arg("low watermark", optarg, &o->low_wmark);
	case 'H':
		o->flags |= CARVEOUT_RESIZE_WMARKS;
		return parse_size_arg("high watermark", optarg, &o->high_wmark);
	case 'p':
		o->flags |= CARVEOUT_RESIZE_PIECE;
		return parse_size_arg("piece", optarg, &o->piece_bytes);
	case 'd':
		o->flags |= CARVEOUT_RESIZE_DELAY;
		o->shrink_delay_ms = (uint32_t)strtoul(optarg, &end, 10);
		if (!*optarg || *end) {
			errline("not a number of milliseconds", "delay '%s'",
				optarg);
			return 2;
		}
		return 0;
	case 's':
		o->flags |= CARVEOUT_RESIZE_SHRINK;
		return 0;
	default:
		return -1;
	}
}

int cmd_resize(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "floor", required_argument, NULL, 'f' },
		{ "ceiling", required_argument, NULL, 'c' },
		{ "low", required_argument, NULL, 'l' },
		{ "high", required_argument, NULL, 'H' },
		{ "piece", required_argument, NULL, 'p' },
		{ "delay", required_argument, NULL, 'd' },
		{ "shrink", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct carveout_resize_opts o = { 0 };
	struct carveout_sysinfo info;
	struct carveout_ctx *ctx;
	int opt, node = -1, ret = 0;
	unsigned int i;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		ret = parse_opt(opt, &o, &node);
		if (ret < 0)
			return help_or_bad(opt, argv, "h", "resize");
		if (ret)
			return ret;
	}
	if (optind < argc)
		return usage_error("resize: unexpected argument", argv[optind]);
	ctx = open_ctx();
	if (!ctx)
		return 1;
	if (node >= 0) {
		ret = resize_node(ctx, (unsigned int)node, &o);
	} else if (!get_info(ctx, &info)) {
		for (i = 0; i < info.nr_nodes; i++)
			ret |= resize_node(ctx, info.nodes[i].node, &o);
	} else {
		ret = 1;
	}
	carveout_close(ctx);
	return ret;
}
