// SPDX-License-Identifier: GPL-2.0
/*
 * carveoutctl top: a live view of carveout, refreshed every --delay
 * seconds: per node the region, used and free memory, the largest free
 * block, live buffers and the rates of allocations, frees and failures
 * since the previous frame (STATS); then the processes that map the most
 * of /dev/carveout (their /proc/PID/maps, readable for one's own processes
 * and, for root, for all).  Plain ANSI: on a terminal each frame starts by
 * clearing the screen; otherwise frames follow each other, for scripts.
 * -n COUNT stops after COUNT frames.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define TOP_OWNERS_MAX	64

struct top_args {
	double delay;
	long count;
	int owners;
	bool bytes;
};

struct top_node {
	unsigned int node;
	struct carveout_stats st;
};

struct top_frame {
	struct carveout_sysinfo info;
	struct top_node nodes[CARVEOUT_MAX_NODES];
	unsigned int nr;
	double when;
};

struct top_owner {
	int pid;
	char comm[17];
	uint64_t bytes;
	unsigned int maps;
};

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int top_gather(struct carveout_ctx *ctx, struct top_frame *f)
{
	unsigned int i;
	int ret;

	if (get_info(ctx, &f->info))
		return 1;
	f->when = now_secs();
	f->nr = f->info.nr_nodes;
	for (i = 0; i < f->nr; i++) {
		f->nodes[i].node = f->info.nodes[i].node;
		ret = carveout_get_stats(ctx, f->nodes[i].node, &f->nodes[i].st);
		if (ret) {
			errline(carveout_strerror_op(ret, CARVEOUT_OP_STATS),
				"stats of node %u", f->nodes[i].node);
			return 1;
		}
	}
	return 0;
}

/* Bytes of @dev mapped by process @pid, and how many mappings. */
static int owner_maps(int pid, const char *dev, struct top_owner *o)
{
	unsigned long long start, end;
	char path[64], line[512];
	size_t dlen = strlen(dev);
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	o->bytes = 0;
	o->maps = 0;
	while (fgets(line, sizeof(line), f)) {
		p = strchr(line, '/');
		if (!p || strncmp(p, dev, dlen) || (p[dlen] != '\n' && p[dlen]))
			continue;
		if (sscanf(line, "%llx-%llx", &start, &end) != 2)
			continue;
		o->bytes += end - start;
		o->maps++;
	}
	fclose(f);
	return 0;
}

static void owner_comm(struct top_owner *o)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", o->pid);
	strcpy(o->comm, "?");
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(o->comm, sizeof(o->comm), f))
		o->comm[strcspn(o->comm, "\n")] = 0;
	fclose(f);
}

/* Keeps @top sorted by bytes, largest first; returns the new count. */
static int owner_insert(struct top_owner *top, int nr, int cap,
			const struct top_owner *o)
{
	int i;

	if (nr == cap && top[nr - 1].bytes >= o->bytes)
		return nr;
	if (nr < cap)
		nr++;
	for (i = nr - 1; i > 0 && top[i - 1].bytes < o->bytes; i--)
		top[i] = top[i - 1];
	top[i] = *o;
	return nr;
}

static int top_owners(struct top_owner *top, int cap)
{
	const char *dev = dev_path ? dev_path : CARVEOUT_DEV_PATH;
	struct top_owner o;
	struct dirent *de;
	int i, nr = 0;
	DIR *d;

	if (cap <= 0)
		return 0;
	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		memset(&o, 0, sizeof(o));
		o.pid = atoi(de->d_name);
		if (owner_maps(o.pid, dev, &o) || !o.maps)
			continue;
		nr = owner_insert(top, nr, cap, &o);
	}
	closedir(d);
	for (i = 0; i < nr; i++)
		owner_comm(&top[i]);
	return nr;
}

static const char *top_size(const struct top_args *ta, uint64_t v, char *buf)
{
	if (!ta->bytes)
		return fmt_round(v, buf);
	snprintf(buf, 24, "%" PRIu64, v);
	return buf;
}

/* "%.1f" of a counter's rate since @prev, or "-" on the first frame. */
static const char *top_rate(uint64_t now, uint64_t before, double secs,
			    bool have, char *buf)
{
	if (!have || secs <= 0 || now < before)
		return "-";
	snprintf(buf, 24, "%.1f", (double)(now - before) / secs);
	return buf;
}

static void top_nodes(const struct top_args *ta, const struct top_frame *f,
		      const struct top_frame *prev)
{
	char a[24], b[24], c[24], d[24], r1[24], r2[24], r3[24];
	bool have = prev && prev->nr == f->nr;
	double secs = have ? f->when - prev->when : 0;
	unsigned int i;

	printf("%-5s %12s %12s %12s %12s %8s %9s %9s %9s\n", "node", "region",
	       "used", "free", "largest", "buffers", "allocs/s", "frees/s",
	       "fails/s");
	for (i = 0; i < f->nr; i++) {
		const struct carveout_stats *s = &f->nodes[i].st;
		const struct carveout_stats *p = have ? &prev->nodes[i].st : s;

		printf("%-5u %12s %12s %12s %12s %8" PRIu64 " %9s %9s %9s\n",
		       f->nodes[i].node, top_size(ta, s->region_bytes, a),
		       top_size(ta, s->region_bytes - s->free_bytes, b),
		       top_size(ta, s->free_bytes, c),
		       top_size(ta, s->largest_free, d), (uint64_t)s->nr_buffers,
		       top_rate(s->alloc_count, p->alloc_count, secs, have, r1),
		       top_rate(s->free_count, p->free_count, secs, have, r2),
		       top_rate(s->fail_count, p->fail_count, secs, have, r3));
	}
}

static void top_print_owners(const struct top_args *ta)
{
	struct top_owner top[TOP_OWNERS_MAX];
	int i, nr;
	char a[24];

	if (!ta->owners)
		return;
	nr = top_owners(top, ta->owners);
	printf("\nowners: processes by bytes of %s they map (/proc/PID/maps)\n",
	       dev_path ? dev_path : CARVEOUT_DEV_PATH);
	printf("%-8s %-16s %12s %6s\n", "pid", "comm", "mapped", "maps");
	for (i = 0; i < nr; i++)
		printf("%-8d %-16s %12s %6u\n", top[i].pid, top[i].comm,
		       top_size(ta, top[i].bytes, a), top[i].maps);
	if (!nr)
		printf("(none%s)\n", geteuid() ? " of the processes you may see" : "");
}

static void top_frame_print(const struct top_args *ta, bool tty, long n,
			    const struct top_frame *f,
			    const struct top_frame *prev)
{
	char when[32], a[24], b[24], c[24], d[24];
	uint64_t free_b = 0, largest = 0;
	time_t t = time(NULL);
	unsigned int i;

	for (i = 0; i < f->nr; i++) {
		free_b += f->nodes[i].st.free_bytes;
		if (f->nodes[i].st.largest_free > largest)
			largest = f->nodes[i].st.largest_free;
	}
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
	printf("%s" PROG " top, every %gs, %s, frame %ld%s\n",
	       tty ? "\033[H\033[2J" : (n > 1 ? "\n" : ""), ta->delay, when, n,
	       tty ? " (Ctrl-C quits)" : "");
	printf("total: %u nodes, %s reserved, %s used, %s free, largest block %s\n\n",
	       f->nr, top_size(ta, f->info.total_bytes, a),
	       top_size(ta, f->info.total_bytes - free_b, b),
	       top_size(ta, free_b, c), top_size(ta, largest, d));
	top_nodes(ta, f, prev);
	top_print_owners(ta);
}

static int top_options(int argc, char **argv, struct top_args *ta)
{
	static const struct option opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "owners", required_argument, NULL, 'o' },
		{ "bytes", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	char *end;
	long v;
	int opt;

	while ((opt = getopt_long(argc, argv, "d:n:o:bh", opts, NULL)) != -1) {
		if (opt == 'd') {
			if (parse_secs_arg(optarg, &ta->delay))
				return 2;
			continue;
		}
		if (opt == 'b') {
			ta->bytes = true;
			continue;
		}
		if (opt != 'n' && opt != 'o')
			return help_or_bad(opt, argv, "d:n:o:bh", "top") ? 2 : -1;
		errno = 0;
		v = strtol(optarg, &end, 10);
		if (!*optarg || *end || errno || v < 0 ||
		    (opt == 'o' && v > TOP_OWNERS_MAX)) {
			errline(opt == 'n' ? "give a count, 0 for no end" :
				"give 0 to 64", "top: '%s'", optarg);
			return 2;
		}
		if (opt == 'n')
			ta->count = v;
		else
			ta->owners = (int)v;
	}
	if (optind < argc)
		return usage_error("top: unexpected argument", argv[optind]);
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct top_args ta = { .delay = 1.0, .owners = 10 };
	struct top_frame *f[2];
	struct carveout_ctx *ctx;
	bool tty = isatty(STDOUT_FILENO);
	long n;
	int ret;

	ret = top_options(argc, argv, &ta);
	if (ret)
		return ret < 0 ? 0 : ret;
	f[0] = calloc(1, sizeof(*f[0]));
	f[1] = calloc(1, sizeof(*f[1]));
	ctx = f[0] && f[1] ? open_ctx() : NULL;
	if (!ctx) {
		if (!f[0] || !f[1])
			errline(strerror(ENOMEM), "top");
		free(f[0]);
		free(f[1]);
		return 1;
	}
	catch_stop_signals();
	for (n = 1; ; n++) {
		ret = top_gather(ctx, f[n & 1]);
		if (ret)
			break;
		top_frame_print(&ta, tty, n, f[n & 1], n > 1 ? f[!(n & 1)] : NULL);
		if ((ta.count && n >= ta.count) || !watch_sleep(ta.delay))
			break;
	}
	carveout_close(ctx);
	free(f[0]);
	free(f[1]);
	return ret;
}
