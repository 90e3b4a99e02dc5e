// SPDX-License-Identifier: GPL-2.0
/*
 * carveoutctl: look at and use carveout from the shell.
 *
 *   info    regions per node, pieces, capabilities, limits
 *   stats   per-node usage, counters, free blocks per order, sub-page caches
 *           (--json for scripts, --watch for a top-style view)
 *   alloc   allocate (and optionally DMA-map) a buffer, print where it is,
 *           free it again or hold it until SIGINT/SIGTERM
 *   map     a picture per node of used and free memory
 *
 * Everything goes through libcarveout except what only debugfs knows
 * (piece layout, per-cache usage), which is read from
 * /sys/kernel/debug/carveout/ when readable (root) and left out otherwise.
 *
 * Errors print one line, "carveoutctl: <what>: <reason>", and exit 1;
 * usage errors exit 2.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "libcarveout.h"

#ifndef CARVEOUT_VERSION
#define CARVEOUT_VERSION "0.1.0"
#endif

#define PROG		"carveoutctl"
#define MAX_ORDERS	40
#define MAX_PIECES	64

static const char *dev_path;
static const char *dbg_dir = "/sys/kernel/debug/carveout";
static volatile sig_atomic_t stop_signal;

static const char usage_text[] =
"Usage: " PROG " [--dev PATH] [--debugfs DIR] COMMAND [OPTIONS]\n"
"\n"
"Commands:\n"
"  info                      regions per node, pieces, capabilities, limits\n"
"  stats [--json] [--node N] [--watch SECS]\n"
"                            usage, counters and free blocks per node\n"
"  alloc SIZE [--node N | --policy local|strict|preferred|device]\n"
"        [--device NAME] [--align A] [--cache cached|wc|uncached]\n"
"        [--pages] [--map DEVICE] [--dir bidi|to-device|from-device] [--hold]\n"
"                            allocate a buffer and print where it is\n"
"  map [--node N] [--width COLS] [--watch SECS]\n"
"                            picture of used and free memory per node\n"
"\n"
"Global options:\n"
"  --dev PATH        device node (default /dev/carveout)\n"
"  --debugfs DIR     carveout's debugfs directory\n"
"                    (default /sys/kernel/debug/carveout)\n"
"  -h, --help        this text (also after a command)\n"
"  -V, --version     print the version\n"
"\n"
"Sizes take K, M, G, T suffixes (powers of 1024): 4096, 64K, 1.5M, 2G.\n"
"See carveoutctl(1).\n";

/* One line, "carveoutctl: <what>: <reason>". */
__attribute__((format(printf, 2, 3)))
static void errline(const char *reason, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", reason);
}

static int usage_error(const char *what, const char *arg)
{
	char reason[96];

	snprintf(reason, sizeof(reason), "see '" PROG " --help'");
	if (arg)
		errline(reason, "%s '%s'", what, arg);
	else
		errline(reason, "%s", what);
	return 2;
}

/* Reports a getopt failure in the one-line format (opterr is 0). */
static int bad_option(char **argv, const char *optstring, const char *cmd)
{
	const char *arg = argv[optind - 1];
	char what[96];

	if (optopt && optopt != ':' && strchr(optstring, optopt)) {
		snprintf(what, sizeof(what), "%s: option needs an argument", cmd);
		return usage_error(what, arg);
	}
	snprintf(what, sizeof(what), "%s: unknown option", cmd);
	return usage_error(what, arg);
}

static char *fmt_size(uint64_t v, char *buf)
{
	return carveout_format_size(v, buf, 24, 0);
}

static char *fmt_round(uint64_t v, char *buf)
{
	return carveout_format_size(v, buf, 24, CARVEOUT_SIZE_ROUND);
}

static int parse_size_arg(const char *what, const char *s, uint64_t *v)
{
	int ret = carveout_parse_size(s, v);

	if (ret) {
		errline(carveout_strerror_op(ret, CARVEOUT_OP_PARSE),
			"%s '%s'", what, s);
		return 2;
	}
	return 0;
}

static int parse_node_arg(const char *s, int *node)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > 65535) {
		errline("not a node number", "node '%s'", s);
		return 2;
	}
	*node = (int)v;
	return 0;
}

static int parse_secs_arg(const char *s, double *secs)
{
	char *end;

	errno = 0;
	*secs = strtod(s, &end);
	if (!*s || *end || errno || !(*secs >= 0.1) || *secs > 86400) {
		errline("give seconds between 0.1 and 86400", "watch interval '%s'", s);
		return 2;
	}
	return 0;
}

static struct carveout_ctx *open_ctx(void)
{
	struct carveout_ctx *ctx = carveout_open(dev_path);

	if (!ctx)
		errline(carveout_strerror_op(errno, CARVEOUT_OP_OPEN), "open %s",
			dev_path ? dev_path : CARVEOUT_DEV_PATH);
	return ctx;
}

/* A whole small file, NUL-terminated; NULL with errno set. */
static char *read_text(const char *fmt, ...)
{
	char path[512], *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;
	va_list ap;
	FILE *f;
	int err;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	err = ferror(f) ? EIO : 0;
	fclose(f);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* ---- debugfs parsing ---------------------------------------------------- */

struct piece {
	unsigned long start_pfn;
	unsigned long nr_pages;
	unsigned int nr_orders;
	unsigned long nr_free[MAX_ORDERS];
};

/*
 * node<N>/buddyinfo: "Node 0, piece 0, pfn 0x28000+32768  c0 c1 ..." per
 * piece.  Returns the number of pieces, or -errno.
 */
static int read_buddyinfo(int node, struct piece *pieces, int max)
{
	char *text = read_text("%s/node%d/buddyinfo", dbg_dir, node);
	char *line, *save = NULL;
	int n = 0;

	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		struct piece *p = &pieces[n];
		unsigned int pi;
		int nid, pos = 0;
		char *s, *end;

		memset(p, 0, sizeof(*p));
		if (sscanf(line, "Node %d, piece %u, pfn %lx+%lu%n", &nid, &pi,
			   &p->start_pfn, &p->nr_pages, &pos) != 4 || !pos)
			continue;
		for (s = line + pos; p->nr_orders < MAX_ORDERS; s = end) {
			unsigned long v = strtoul(s, &end, 10);

			if (end == s)
				break;
			p->nr_free[p->nr_orders++] = v;
		}
		n++;
	}
	free(text);
	return n;
}

struct slab_row {
	int pid;
	char comm[17];
	unsigned long objsize, active, cached, total, slab_pages;
};

/*
 * node<N>/slabinfo: a "#" header, then "pid comm(16 wide) objsize active
 * cached total slab_pages per_slab full partial empty" per owner and class.
 * Returns the rows (malloc'd, *nr of them), or NULL with errno set.
 */
static struct slab_row *read_slabinfo(int node, int *nr)
{
	char *text = read_text("%s/node%d/slabinfo", dbg_dir, node);
	char *line, *save = NULL;
	struct slab_row *rows = NULL, *nrows;
	int n = 0, cap = 0;

	*nr = 0;
	if (!text)
		return NULL;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct slab_row r;
		int pos = 0, i;

		if (line[0] == '#')
			continue;
		memset(&r, 0, sizeof(r));
		if (sscanf(line, "%d %n", &r.pid, &pos) != 1 || !pos ||
		    strlen(line + pos) < 17)
			continue;
		/* comm is %-16s: sixteen columns, may hold spaces. */
		memcpy(r.comm, line + pos, 16);
		for (i = 15; i >= 0 && r.comm[i] == ' '; i--)
			r.comm[i] = '\0';
		if (sscanf(line + pos + 16, "%lu %lu %lu %lu %lu", &r.objsize,
			   &r.active, &r.cached, &r.total, &r.slab_pages) != 5)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nrows = realloc(rows, cap * sizeof(*rows));
			if (!nrows) {
				free(rows);
				free(text);
				errno = ENOMEM;
				return NULL;
			}
			rows = nrows;
		}
		rows[n++] = r;
	}
	free(text);
	if (!rows)
		rows = malloc(sizeof(*rows));	/* readable, but empty */
	*nr = n;
	return rows;
}

/* ---- info ---------------------------------------------------------------- */

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
};

static const char *limit_text(uint64_t v, char *buf)
{
	return v ? fmt_size(v, buf) : "none";
}

static int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct carveout_sysinfo info;
	struct carveout_ctx *ctx;
	char a[24], b[24], c[24];
	unsigned int i, k;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage_text, stdout);
			return 0;
		}
		return bad_option(argv, "h", "info");
	}
	if (optind < argc)
		return usage_error("info: unexpected argument", argv[optind]);
	ctx = open_ctx();
	if (!ctx)
		return 1;
	ret = carveout_get_info(ctx, &info);
	if (ret) {
		errline(carveout_strerror_op(ret, CARVEOUT_OP_INFO), "info");
		carveout_close(ctx);
		return 1;
	}
	printf("carveout: %u node%s, %s reserved, page size %s, sub-page buffers up to %u bytes\n",
	       info.nr_nodes_total, info.nr_nodes_total == 1 ? "" : "s",
	       fmt_size(info.total_bytes, a), fmt_size(info.page_size, b),
	       info.slab_max);
	printf("capabilities:");
	for (k = 0; k < sizeof(cap_names) / sizeof(cap_names[0]); k++)
		if (info.caps & cap_names[k].bit)
			printf(" %s", cap_names[k].name);
	printf("\nlargest buffer now: %s\n", fmt_size(info.max_alloc, a));
	printf("limits: per open file %s, per user %s\n",
	       limit_text(info.file_limit, a), limit_text(info.user_limit, b));
	printf("\n%4s  %6s  %10s  %10s  %10s\n", "node", "pieces", "region",
	       "free", "largest");
	for (i = 0; i < info.nr_nodes; i++) {
		const struct carveout_node_info *n = &info.nodes[i];

		printf("%4u  %6u  %10s  %10s  %10s\n", n->node, n->nr_pieces,
		       fmt_size(n->region_bytes, a), fmt_size(n->free_bytes, b),
		       fmt_size(n->largest_free, c));
	}
	for (i = 0; i < info.nr_nodes; i++) {
		struct piece pieces[MAX_PIECES];
		int np = read_buddyinfo(info.nodes[i].node, pieces, MAX_PIECES);

		if (np < 0) {
			if (i == 0)
				printf("\npiece layout: %s not readable (%s)\n",
				       dbg_dir, strerror(-np));
			break;
		}
		if (i == 0)
			printf("\n%4s  %5s  %-18s  %-18s  %10s\n", "node",
			       "piece", "phys start", "phys end", "size");
		for (k = 0; k < (unsigned int)np; k++) {
			uint64_t start = (uint64_t)pieces[k].start_pfn *
					 info.page_size;
			uint64_t len = (uint64_t)pieces[k].nr_pages *
				       info.page_size;

			printf("%4u  %5u  %#018" PRIx64 "  %#018" PRIx64 "  %10s\n",
			       info.nodes[i].node, k, start, start + len - 1,
			       fmt_size(len, a));
		}
	}
	carveout_close(ctx);
	return 0;
}

/* ---- stats --------------------------------------------------------------- */

struct node_view {
	unsigned int node;
	unsigned int nr_pieces;
	struct carveout_stats st;
	struct slab_row *slab;		/* NULL: not readable */
	int nr_slab;
};

static int gather(struct carveout_ctx *ctx, int only_node,
		  struct carveout_sysinfo *info, struct node_view *v, int *nr)
{
	unsigned int i;
	int ret, n = 0;

	ret = carveout_get_info(ctx, info);
	if (ret) {
		errline(carveout_strerror_op(ret, CARVEOUT_OP_INFO), "info");
		return 1;
	}
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
		v[n].slab = read_slabinfo(v[n].node, &v[n].nr_slab);
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

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_stats_json(const struct carveout_sysinfo *info,
			     const struct node_view *v, int nr)
{
	int i, k;
	unsigned int o;

	printf("{\n  \"page_size\": %u,\n  \"slab_max\": %u,\n", info->page_size,
	       info->slab_max);
	printf("  \"total_bytes\": %" PRIu64 ",\n  \"max_alloc\": %" PRIu64 ",\n",
	       info->total_bytes, info->max_alloc);
	printf("  \"file_limit\": %" PRIu64 ",\n  \"user_limit\": %" PRIu64 ",\n",
	       info->file_limit, info->user_limit);
	printf("  \"nodes\": [");
	for (i = 0; i < nr; i++) {
		const struct carveout_stats *s = &v[i].st;

		printf("%s\n    {\n", i ? "," : "");
		printf("      \"node\": %u,\n      \"pieces\": %u,\n", v[i].node,
		       v[i].nr_pieces);
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
			printf("%s%" PRIu64, o ? ", " : "",
			       (uint64_t)s->free_blocks[o]);
		printf("],\n      \"slab\": ");
		if (!v[i].slab) {
			printf("null\n    }");
			continue;
		}
		printf("[");
		for (k = 0; k < v[i].nr_slab; k++) {
			const struct slab_row *r = &v[i].slab[k];

			printf("%s\n        {\"owner_pid\": %d, \"comm\": ",
			       k ? "," : "", r->pid);
			json_string(r->comm);
			printf(", \"objsize\": %lu, \"active\": %lu, \"cached\": %lu, \"total\": %lu, \"slab_pages\": %lu}",
			       r->objsize, r->active, r->cached, r->total,
			       r->slab_pages);
		}
		printf("%s]\n    }", v[i].nr_slab ? "\n      " : "");
	}
	printf("\n  ]\n}\n");
}

static void print_stats_text(const struct carveout_sysinfo *info,
			     const struct node_view *v, int nr)
{
	char a[24], b[24], c[24], d[24], e[24], f[24];
	unsigned int o, max_orders = 0;
	int i, k;

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
		if (s->nr_orders > max_orders)
			max_orders = s->nr_orders;
	}

	printf("\n%4s  %9s  %9s  %9s  %9s  %9s\n", "numa", "hit", "miss",
	       "foreign", "local", "other");
	for (i = 0; i < nr; i++) {
		const struct carveout_stats *s = &v[i].st;

		printf("%4u  %9" PRIu64 "  %9" PRIu64 "  %9" PRIu64 "  %9" PRIu64
		       "  %9" PRIu64 "\n", v[i].node, (uint64_t)s->numa_hit,
		       (uint64_t)s->numa_miss, (uint64_t)s->numa_foreign,
		       (uint64_t)s->local_node, (uint64_t)s->other_node);
	}

	printf("\n%-14s", "free blocks");
	for (i = 0; i < nr; i++)
		printf("  %6s%-2u", "node", v[i].node);
	printf("\n");
	for (o = 0; o < max_orders && o < MAX_ORDERS; o++) {
		char label[32];

		snprintf(label, sizeof(label), "%6s (o%u)",
			 fmt_size((uint64_t)info->page_size << o, a), o);
		printf("%-14s", label);
		for (i = 0; i < nr; i++)
			printf("  %8" PRIu64, o < v[i].st.nr_orders ?
			       (uint64_t)v[i].st.free_blocks[o] : 0);
		printf("\n");
	}

	for (i = 0; i < nr; i++) {
		if (!v[i].slab) {
			if (i == 0)
				printf("\nsub-page caches: %s/node%u/slabinfo not readable (needs root)\n",
				       dbg_dir, v[i].node);
			break;
		}
		printf("\nsub-page caches, node %u:", v[i].node);
		if (!v[i].nr_slab) {
			printf(" none\n");
			continue;
		}
		printf("\n%7s  %-16s  %7s  %7s  %7s  %7s  %10s\n", "pid", "comm",
		       "objsize", "active", "cached", "total", "slab_pages");
		for (k = 0; k < v[i].nr_slab; k++) {
			const struct slab_row *r = &v[i].slab[k];

			printf("%7d  %-16s  %7lu  %7lu  %7lu  %7lu  %10lu\n",
			       r->pid, r->comm, r->objsize, r->active,
			       r->cached, r->total, r->slab_pages);
		}
	}
}

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Sleeps @secs unless a stop signal comes; returns false when it came. */
static bool watch_sleep(double secs)
{
	struct timespec ts = {
		.tv_sec = (time_t)secs,
		.tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9),
	};

	fflush(stdout);
	while (!stop_signal && nanosleep(&ts, &ts) && errno == EINTR)
		;
	return !stop_signal;
}

static void watch_header(const char *what, double secs)
{
	char when[32];
	time_t now = time(NULL);

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	printf("\033[H\033[2J" PROG " %s, every %gs, %s (Ctrl-C quits)\n\n",
	       what, secs, when);
}

static int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "node", required_argument, NULL, 'n' },
		{ "watch", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct node_view v[CARVEOUT_MAX_NODES];
	struct carveout_sysinfo info;
	struct carveout_ctx *ctx;
	int opt, ret, nr = 0, i, node = -1;
	bool json = false;
	double watch = 0;

	while ((opt = getopt_long(argc, argv, "jn:w:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'n':
			if (parse_node_arg(optarg, &node))
				return 2;
			break;
		case 'w':
			if (parse_secs_arg(optarg, &watch))
				return 2;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return bad_option(argv, "jn:w:h", "stats");
		}
	}
	if (optind < argc)
		return usage_error("stats: unexpected argument", argv[optind]);
	ctx = open_ctx();
	if (!ctx)
		return 1;
	if (watch)
		catch_stop_signals();
	do {
		ret = gather(ctx, node, &info, v, &nr);
		if (ret)
			break;
		if (watch)
			watch_header("stats", watch);
		if (json)
			print_stats_json(&info, v, nr);
		else
			print_stats_text(&info, v, nr);
		for (i = 0; i < nr; i++)
			free(v[i].slab);
	} while (watch && watch_sleep(watch));
	carveout_close(ctx);
	return ret;
}

/* ---- alloc --------------------------------------------------------------- */

static int parse_dir(const char *s)
{
	if (!strcmp(s, "bidi") || !strcmp(s, "bidirectional"))
		return CARVEOUT_DMA_BIDIRECTIONAL;
	if (!strcmp(s, "to-device") || !strcmp(s, "to"))
		return CARVEOUT_DMA_TO_DEVICE;
	if (!strcmp(s, "from-device") || !strcmp(s, "from"))
		return CARVEOUT_DMA_FROM_DEVICE;
	return -EINVAL;
}

static const char *dir_name(unsigned int dir)
{
	static const char *const names[] = { "bidirectional", "to-device",
					     "from-device" };

	return dir < 3 ? names[dir] : "?";
}

static int cmd_alloc(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "policy", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'd' },
		{ "align", required_argument, NULL, 'a' },
		{ "cache", required_argument, NULL, 'c' },
		{ "pages", no_argument, NULL, 'P' },
		{ "map", required_argument, NULL, 'm' },
		{ "dir", required_argument, NULL, 'D' },
		{ "hold", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct carveout_alloc_opts ao;
	const char *map_dev = NULL, *size_arg;
	struct carveout_buf *buf;
	struct carveout_ctx *ctx;
	int opt, ret, dir = CARVEOUT_DMA_BIDIRECTIONAL, policy = -1;
	char a[24], b[24], where[64];
	bool hold = false, have_node = false;
	uint64_t size;

	memset(&ao, 0, sizeof(ao));
	while ((opt = getopt_long(argc, argv, "n:p:d:a:c:Pm:D:Hh", opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (parse_node_arg(optarg, &ao.node))
				return 2;
			have_node = true;
			break;
		case 'p':
			policy = carveout_parse_policy(optarg);
			if (policy < 0) {
				errline("give local, strict, preferred or device",
					"policy '%s'", optarg);
				return 2;
			}
			break;
		case 'd':
			if (strlen(optarg) >= CARVEOUT_DEV_NAME_LEN) {
				errline("name too long", "device '%s'", optarg);
				return 2;
			}
			ao.device = optarg;
			break;
		case 'a':
			if (parse_size_arg("alignment", optarg, &ao.align))
				return 2;
			if (ao.align & (ao.align - 1)) {
				errline("must be a power of two",
					"alignment '%s'", optarg);
				return 2;
			}
			break;
		case 'c':
			ret = carveout_parse_cache(optarg);
			if (ret < 0) {
				errline("give cached, wc or uncached",
					"cache mode '%s'", optarg);
				return 2;
			}
			ao.cache = ret;
			break;
		case 'P':
			ao.flags |= CARVEOUT_BUF_PAGES;
			break;
		case 'm':
			if (strlen(optarg) >= CARVEOUT_DEV_NAME_LEN) {
				errline("name too long", "device '%s'", optarg);
				return 2;
			}
			map_dev = optarg;
			break;
		case 'D':
			dir = parse_dir(optarg);
			if (dir < 0) {
				errline("give bidi, to-device or from-device",
					"direction '%s'", optarg);
				return 2;
			}
			break;
		case 'H':
			hold = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return bad_option(argv, "n:p:d:a:c:Pm:D:Hh", "alloc");
		}
	}
	if (optind >= argc)
		return usage_error("alloc: missing SIZE", NULL);
	if (optind + 1 < argc)
		return usage_error("alloc: unexpected argument", argv[optind + 1]);
	size_arg = argv[optind];
	if (parse_size_arg("size", size_arg, &size))
		return 2;
	if (!size) {
		errline("a buffer needs at least one byte", "size '%s'", size_arg);
		return 2;
	}

	/* --node alone means "this node only"; --device alone, its node. */
	if (policy < 0)
		policy = have_node ? CARVEOUT_POLICY_STRICT :
			 ao.device ? CARVEOUT_POLICY_DEVICE :
				     CARVEOUT_POLICY_LOCAL;
	if (policy == CARVEOUT_POLICY_DEVICE && !ao.device)
		return usage_error("alloc: the device policy needs --device", NULL);
	if (policy != CARVEOUT_POLICY_DEVICE && ao.device)
		return usage_error("alloc: --device goes with --policy device", NULL);
	if ((policy == CARVEOUT_POLICY_STRICT ||
	     policy == CARVEOUT_POLICY_PREFERRED) && !have_node)
		return usage_error("alloc: this policy needs --node", NULL);
	if (have_node && (policy == CARVEOUT_POLICY_LOCAL ||
			  policy == CARVEOUT_POLICY_DEVICE))
		return usage_error("alloc: --node goes with --policy strict or preferred",
				   NULL);
	ao.policy = policy;

	if (policy == CARVEOUT_POLICY_DEVICE)
		snprintf(where, sizeof(where), " near %s", ao.device);
	else if (have_node)
		snprintf(where, sizeof(where), " on node %d", ao.node);
	else
		where[0] = '\0';

	ctx = open_ctx();
	if (!ctx)
		return 1;
	buf = carveout_buf_alloc(ctx, size, &ao);
	if (!buf) {
		errline(carveout_strerror_op(errno, CARVEOUT_OP_ALLOC),
			"alloc %s%s", size_arg, where);
		carveout_close(ctx);
		return 1;
	}
	printf("handle:   %u\n", buf->handle);
	printf("node:     %u\n", buf->node);
	printf("size:     %s (%" PRIu64 " bytes)\n", fmt_size(size, a), size);
	printf("granted:  %s (%" PRIu64 " bytes)\n", fmt_size(buf->granted, b),
	       buf->granted);
	printf("policy:   %s\n", carveout_policy_name(policy));
	printf("cache:    %s\n", carveout_cache_name(buf->cache));
	printf("mmap:     %p\n", buf->addr);
	if (map_dev) {
		ret = carveout_buf_map(buf, map_dev, dir, NULL);
		if (ret) {
			errline(carveout_strerror_op(ret, CARVEOUT_OP_MAP),
				"map buffer %u to %s", buf->handle, map_dev);
			carveout_buf_free(buf);
			carveout_close(ctx);
			return 1;
		}
		printf("dma:      %#" PRIx64 " (%s, %s)\n", buf->dma_addr,
		       map_dev, dir_name(dir));
	}
	if (buf->phys_addr)
		printf("phys:     %#" PRIx64 "\n", buf->phys_addr);
	else
		printf("phys:     hidden (needs CAP_SYS_ADMIN)\n");

	if (hold) {
		sigset_t block, old;

		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		sigprocmask(SIG_BLOCK, &block, &old);
		catch_stop_signals();
		printf("holding buffer %u (pid %d) until SIGINT or SIGTERM\n",
		       buf->handle, (int)getpid());
		fflush(stdout);
		while (!stop_signal)
			sigsuspend(&old);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	ret = carveout_buf_free(buf);
	carveout_close(ctx);
	if (ret) {
		errline(carveout_strerror_op(ret, CARVEOUT_OP_FREE), "free");
		return 1;
	}
	printf("freed buffer\n");
	return 0;
}

/* ---- map ----------------------------------------------------------------- */

/*
 * A free-block list (one "pfn order" line per free block) gives exact
 * positions.  carveout does not have one in debugfs yet; the picture uses
 * node<N>/freemap when it appears and proportions otherwise.
 */
struct free_block {
	unsigned long pfn;
	unsigned int order;
};

static struct free_block *read_freemap(int node, int *nr)
{
	char *text = read_text("%s/node%d/freemap", dbg_dir, node);
	struct free_block *blocks = NULL, *nb;
	char *line, *save = NULL;
	int n = 0, cap = 0;

	*nr = 0;
	if (!text)
		return NULL;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct free_block fb;
		char *end;

		if (line[0] == '#')
			continue;
		fb.pfn = strtoul(line, &end, 0);
		if (end == line)
			continue;
		fb.order = (unsigned int)strtoul(end, &end, 10);
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			nb = realloc(blocks, cap * sizeof(*blocks));
			if (!nb)
				break;
			blocks = nb;
		}
		blocks[n++] = fb;
	}
	free(text);
	if (!blocks)
		blocks = malloc(sizeof(*blocks));
	*nr = n;
	return blocks;
}

static int term_width(void)
{
	struct winsize ws;

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/* Exact picture of one piece: each cell is @per pages. */
static void draw_exact(const struct piece *p, const struct free_block *fb,
		       int nfb, int cols, unsigned long page_size)
{
	unsigned long per = (p->nr_pages + cols - 1) / cols, *freec;
	unsigned int ncells, i;
	char a[24];
	int k;

	if (!per)
		per = 1;
	ncells = (p->nr_pages + per - 1) / per;
	freec = calloc(ncells, sizeof(*freec));
	if (!freec)
		return;
	for (k = 0; k < nfb; k++) {
		unsigned long s = fb[k].pfn, e = s + (1UL << fb[k].order), x;

		if (s < p->start_pfn || e > p->start_pfn + p->nr_pages)
			continue;
		for (x = s; x < e; x++)
			freec[(x - p->start_pfn) / per]++;
	}
	printf("    1 cell = %s, '#' used, '+' partly free, ':' mostly free, '.' free\n    |",
	       fmt_round((uint64_t)per * page_size, a));
	for (i = 0; i < ncells; i++) {
		unsigned long cell = i + 1 == ncells ?
				     p->nr_pages - (unsigned long)i * per : per;

		putchar(freec[i] == 0 ? '#' : freec[i] >= cell ? '.' :
			freec[i] * 2 >= cell ? ':' : '+');
	}
	printf("|\n");
	free(freec);
}

/*
 * Proportional bar: used pages first, then free pages in blocks of 2 MiB
 * and up, then smaller free blocks.  Positions are not known.
 */
static void draw_bar(uint64_t total, uint64_t used, uint64_t free_big,
		     int cols)
{
	int nu, nb, nf, i;

	if (!total)
		return;
	nu = (int)((used * cols + total / 2) / total);
	if (used && !nu)
		nu = 1;
	nb = (int)((free_big * cols + total / 2) / total);
	if (nu + nb > cols)
		nb = cols - nu;
	nf = cols - nu - nb;
	printf("    |");
	for (i = 0; i < nu; i++)
		putchar('#');
	for (i = 0; i < nb; i++)
		putchar('.');
	for (i = 0; i < nf; i++)
		putchar('-');
	printf("|\n");
}

/* The smallest order whose blocks are at least 2 MiB. */
static unsigned int big_order(unsigned long page_size)
{
	unsigned int o = 0;

	while ((page_size << o) < (2UL << 20))
		o++;
	return o;
}

static void map_summary(unsigned int node, uint64_t region, uint64_t free_b,
			uint64_t largest, unsigned int pieces)
{
	char a[24], b[24], c[24], d[24];

	printf("node %u: %s in %u piece%s, used %s (%.1f%%), free %s, largest free block %s\n",
	       node, fmt_round(region, a), pieces, pieces == 1 ? "" : "s",
	       fmt_round(region - free_b, b),
	       region ? 100.0 * (double)(region - free_b) / (double)region : 0.0,
	       fmt_round(free_b, c), fmt_round(largest, d));
}

static int draw_map(struct carveout_ctx *ctx, int only_node, int width)
{
	struct carveout_sysinfo info;
	unsigned int i, o, bo;
	int ret, cols = width - 6;
	bool any = false, exact_note = false;

	if (cols < 10)
		cols = 10;
	ret = carveout_get_info(ctx, &info);
	if (ret) {
		errline(carveout_strerror_op(ret, CARVEOUT_OP_INFO), "info");
		return 1;
	}
	bo = big_order(info.page_size);
	for (i = 0; i < info.nr_nodes; i++) {
		const struct carveout_node_info *ni = &info.nodes[i];
		struct piece pieces[MAX_PIECES];
		struct free_block *fb;
		int np, nfb, k;

		if (only_node >= 0 && ni->node != (unsigned int)only_node)
			continue;
		if (any)
			printf("\n");
		any = true;
		map_summary(ni->node, ni->region_bytes, ni->free_bytes,
			    ni->largest_free, ni->nr_pieces);
		np = read_buddyinfo(ni->node, pieces, MAX_PIECES);
		if (np <= 0) {
			/* Not root: whole-node proportions from STATS. */
			struct carveout_stats st;
			uint64_t big = 0;

			ret = carveout_get_stats(ctx, ni->node, &st);
			if (ret) {
				errline(carveout_strerror_op(ret, CARVEOUT_OP_STATS),
					"stats of node %u", ni->node);
				return 1;
			}
			for (o = bo; o < st.nr_orders && o < MAX_ORDERS; o++)
				big += st.free_blocks[o] *
				       ((uint64_t)info.page_size << o);
			printf("  whole node (debugfs not readable: pieces not shown)\n");
			draw_bar(st.region_bytes,
				 st.region_bytes - st.free_bytes, big, cols);
			continue;
		}
		fb = read_freemap(ni->node, &nfb);
		for (k = 0; k < np; k++) {
			const struct piece *p = &pieces[k];
			uint64_t free_pages = 0, big = 0;

			for (o = 0; o < p->nr_orders; o++) {
				free_pages += (uint64_t)p->nr_free[o] << o;
				if (o >= bo)
					big += (uint64_t)p->nr_free[o] << o;
			}
			printf("  piece %d: pfn %#lx+%lu, free %" PRIu64 " of %lu pages\n",
			       k, p->start_pfn, p->nr_pages, free_pages,
			       p->nr_pages);
			if (fb) {
				draw_exact(p, fb, nfb, cols, info.page_size);
			} else {
				draw_bar(p->nr_pages, p->nr_pages - free_pages,
					 big, cols);
				exact_note = true;
			}
		}
		free(fb);
	}
	if (!any) {
		errline(carveout_strerror_op(ENODEV, CARVEOUT_OP_STATS),
			"map of node %d", only_node);
		return 1;
	}
	if (exact_note)
		printf("\n'#' used, '.' free in blocks of %s and more, '-' free in smaller blocks.\n"
		       "Proportions from buddyinfo, not positions: the exact layout needs node<N>/freemap in debugfs.\n",
		       fmt_size((uint64_t)info.page_size << bo, (char[24]){ 0 }));
	return 0;
}

static int cmd_map(int argc, char **argv)
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
		switch (opt) {
		case 'n':
			if (parse_node_arg(optarg, &node))
				return 2;
			break;
		case 'W': {
			char *end;

			width = (int)strtol(optarg, &end, 10);
			if (!*optarg || *end || width < 20 || width > 1000) {
				errline("give 20 to 1000 columns", "width '%s'",
					optarg);
				return 2;
			}
			break;
		}
		case 'w':
			if (parse_secs_arg(optarg, &watch))
				return 2;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return bad_option(argv, "n:W:w:h", "map");
		}
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'D' },
		{ "debugfs", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ }
	};
	const char *cmd;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'D':
			dev_path = optarg;
			break;
		case 'G':
			dbg_dir = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf(PROG " " CARVEOUT_VERSION "\n");
			return 0;
		default:
			return bad_option(argv, "+hV", PROG);
		}
	}
	if (optind >= argc)
		return usage_error("missing command", NULL);
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: start over, forget the "+" mode */
	if (!strcmp(cmd, "info"))
		return cmd_info(argc, argv);
	if (!strcmp(cmd, "stats"))
		return cmd_stats(argc, argv);
	if (!strcmp(cmd, "alloc"))
		return cmd_alloc(argc, argv);
	if (!strcmp(cmd, "map"))
		return cmd_map(argc, argv);
	if (!strcmp(cmd, "help"))
		return fputs(usage_text, stdout) == EOF;
	return usage_error("unknown command", cmd);
}
