// SPDX-License-Identifier: GPL-2.0
/*
 * carveoutctl stats: per-node usage, counters and free blocks per order
 * from STATS, as text tables or --json, once or every --watch SECS.
 * The sub-page caches of other processes are in debugfs (root only):
 * node<N>/slabinfo.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "ctl.h"

struct node_view {
	unsigned int node;
	unsigned int nr_pieces;
	struct carveout_stats st;
};

static int gather(struct carveout_ctx *ctx, int only_node,
		  struct carveout_sysinfo *info, struct node_view *v, int *nr)
{
	unsigned int i;
	int ret, n = 0;

	if (get_info(ctx, info))
		return 1;
	for (i = 0; i < info->nr_nodes; i++) {
		if (only_node >= 0 && info->nodes[i].node != (unsigned int)only_node)
			continue;
		v[n].node = info->nodes[i].node;
		v[n].nr_pieces = info->nodes[i].nr_pieces;
		ret = carveout_get_stats(ctx, v[n].node, &v[n].st);
		if (ret) {
			errline(carveout_strerror_op(ret, CARVEOUT_OP_STATS),
				"stats of node %u", v[n].node);
			return 1;
		}
		n++;
	}
	if (only_node >= 0 && !n) {
		errline(carveout_strerror_op(ENODEV, CARVEOUT_OP_STATS),
			"stats of node %d", only_node);
		return 1;
	}
	*nr = n;
	return 0;
}

static void json_node(const struct node_view *v)
{
	const struct carveout_stats *s = &v->st;
	unsigned int o;

	printf("    {\n      \"node\": %u,\n      \"pieces\": %u,\n", v->node,
	       v->nr_pieces);
#define J(name, val) printf("      \"%s\": %" PRIu64 ",\n", name, (uint64_t)(val))
	J("region_bytes", s->region_bytes);
	J("used_bytes", s->region_bytes - s->free_bytes);
	J("free_bytes", s->free_bytes);
	J("largest_free", s->largest_free);
	J("buffers", s->nr_buffers);
	J("requested_bytes", s->requested_bytes);
	J("granted_bytes", s->granted_bytes);
	J("alloc_count", s->alloc_count);
	J("free_count", s->free_count);
	J("fail_count", s->fail_count);
	J("numa_hit", s->numa_hit);
	J("numa_miss", s->numa_miss);
	J("numa_foreign", s->numa_foreign);
	J("local_node", s->local_node);
	J("other_node", s->other_node);
#undef J
	printf("      \"free_blocks\": [");
	for (o = 0; o < s->nr_orders && o < MAX_ORDERS; o++)
		printf("%s%" PRIu64, o ? ", " : "", (uint64_t)s->free_blocks[o]);
	printf("]\n    }");
}

static void print_stats_json(const struct carveout_sysinfo *info,
			     const struct node_view *v, int nr)
{
	int i;

	printf("{\n  \"version\": \"%s\",\n", carveout_version());
	printf("  \"page_size\": %u,\n  \"slab_max\": %u,\n", info->page_size,
	       info->slab_max);
	printf("  \"total_bytes\": %" PRIu64 ",\n  \"max_alloc\": %" PRIu64 ",\n",
	       info->total_bytes, info->max_alloc);
	printf("  \"file_limit\": %" PRIu64 ",\n  \"user_limit\": %" PRIu64 ",\n",
	       info->file_limit, info->user_limit);
	printf("  \"user_bytes\": %" PRIu64 ",\n", info->user_bytes);
	printf("  \"nodes\": [");
	for (i = 0; i < nr; i++) {
		printf("%s\n", i ? "," : "");
		json_node(&v[i]);
	}
	printf("\n  ]\n}\n");
}

static void print_usage_rows(const struct node_view *v, int nr)
{
	char a[24], b[24], c[24], d[24], e[24], f[24];
	int i;

	printf("%4s  %8s  %8s  %8s  %8s  %7s  %9s  %9s  %7s  %7s  %5s\n",
	       "node", "region", "used", "free", "largest", "buffers",
	       "requested", "granted", "allocs", "frees", "fails");
	for (i = 0; i < nr; i++) {
		const struct carveout_stats *s = &v[i].st;

		printf("%4u  %8s  %8s  %8s  %8s  %7" PRIu64 "  %9s  %9s  %7" PRIu64
		       "  %7" PRIu64 "  %5" PRIu64 "\n", v[i].node,
		       fmt_round(s->region_bytes, a),
		       fmt_round(s->region_bytes - s->free_bytes, b),
		       fmt_round(s->free_bytes, c), fmt_round(s->largest_free, d),
		       (uint64_t)s->nr_buffers, fmt_round(s->requested_bytes, e),
		       fmt_round(s->granted_bytes, f), (uint64_t)s->alloc_count,
		       (uint64_t)s->free_count, (uint64_t)s->fail_count);
	}
}

static void print_numa_rows(const struct node_view *v, int nr)
{
	int i;

	printf("\n%4s  %9s  %9s  %9s  %9s  %9s\n", "numa", "hit", "miss",
	       "foreign", "local", "other");
	for (i = 0; i < nr; i++) {
		const struct carveout_stats *s = &v[i].st;

		printf("%4u  %9" PRIu64 "  %9" PRIu64 "  %9" PRIu64 "  %9" PRIu64
		       "  %9" PRIu64 "\n", v[i].node, (uint64_t)s->numa_hit,
		       (uint64_t)s->numa_miss, (uint64_t)s->numa_foreign,
		       (uint64_t)s->local_node, (uint64_t)s->other_node);
	}
}

static void print_free_blocks(const struct carveout_sysinfo *info,
			      const struct node_view *v, int nr)
{
	unsigned int o, max_orders = 0;
	char a[24], label[32];
	int i;

	for (i = 0; i < nr; i++)
		if (v[i].st.nr_orders > max_orders)
			max_orders = v[i].st.nr_orders;
	printf("\n%-14s", "free blocks");
	for (i = 0; i < nr; i++)
		printf("  %6s%-2u", "node", v[i].node);
	printf("\n");
	for (o = 0; o < max_orders && o < MAX_ORDERS; o++) {
		snprintf(label, sizeof(label), "%6s (o%u)",
			 fmt_size((uint64_t)info->page_size << o, a), o);
		printf("%-14s", label);
		for (i = 0; i < nr; i++)
			printf("  %8" PRIu64, o < v[i].st.nr_orders ?
			       (uint64_t)v[i].st.free_blocks[o] : 0);
		printf("\n");
	}
}

struct stats_args {
	bool json;
	int node;
	double watch;
};

static int stats_options(int argc, char **argv, struct stats_args *sa)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "node", required_argument, NULL, 'n' },
		{ "watch", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "jn:w:h", opts, NULL)) != -1) {
		if (opt == 'j')
			sa->json = true;
		else if (opt == 'n' && parse_node_arg(optarg, &sa->node))
			return 2;
		else if (opt == 'w' && parse_secs_arg(optarg, &sa->watch))
			return 2;
		else if (opt != 'n' && opt != 'w')
			return help_or_bad(opt, argv, "jn:w:h", "stats") ? 2 : -1;
	}
	if (optind < argc)
		return usage_error("stats: unexpected argument", argv[optind]);
	return 0;
}

int cmd_stats(int argc, char **argv)
{
	struct stats_args sa = { .node = -1 };
	struct node_view v[CARVEOUT_MAX_NODES];
	struct carveout_sysinfo info;
	struct carveout_ctx *ctx;
	int ret, nr = 0;

	ret = stats_options(argc, argv, &sa);
	if (ret)
		return ret < 0 ? 0 : ret;
	ctx = open_ctx();
	if (!ctx)
		return 1;
	if (sa.watch)
		catch_stop_signals();
	do {
		ret = gather(ctx, sa.node, &info, v, &nr);
		if (ret)
			break;
		if (sa.watch)
			watch_header("stats", sa.watch);
		if (sa.json) {
			print_stats_json(&info, v, nr);
		} else {
			print_usage_rows(v, nr);
			print_numa_rows(v, nr);
			print_free_blocks(&info, v, nr);
		}
	} while (sa.watch && watch_sleep(sa.watch));
	carveout_close(ctx);
	return ret;
}
