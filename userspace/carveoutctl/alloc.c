// SPDX-License-Identifier: GPL-2.0
/*
 * carveoutctl alloc: allocate a buffer with the given placement, alignment
 * and cache mode, optionally map it for a device's DMA, print where it is
 * (for a sub-page buffer also its size class, from SLABINFO), and free it
 * at once or after SIGINT/SIGTERM (--hold).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

#define ALLOC_OPTSTRING	"n:p:d:a:c:Pm:D:Hh"

struct alloc_args {
	struct carveout_alloc_opts ao;
	const char *size_arg;
	const char *map_dev;
	uint64_t size;
	int dir;
	int policy;		/* -1: from the other options */
	bool have_node;
	bool hold;
};

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

static int device_arg(const char *s, const char **dst)
{
	if (strlen(s) >= CARVEOUT_DEV_NAME_LEN) {
		errline("name too long", "device '%s'", s);
		return 2;
	}
	*dst = s;
	return 0;
}

static int align_arg(const char *s, uint64_t *align)
{
	if (parse_size_arg("alignment", s, align))
		return 2;
	if (*align & (*align - 1)) {
		errline("must be a power of two", "alignment '%s'", s);
		return 2;
	}
	return 0;
}

/* One option; 0 to go on, 2 on a bad value. */
static int alloc_option(int opt, const char *arg, struct alloc_args *a)
{
	int v;

	switch (opt) {
	case 'n':
		a->have_node = true;
		return parse_node_arg(arg, &a->ao.node);
	case 'p':
		a->policy = carveout_parse_policy(arg);
		if (a->policy >= 0)
			return 0;
		errline("give local, strict, preferred or device", "policy '%s'", arg);
		return 2;
	case 'd':
		return device_arg(arg, &a->ao.device);
	case 'a':
		return align_arg(arg, &a->ao.align);
	case 'c':
		v = carveout_parse_cache(arg);
		if (v < 0) {
			errline("give cached, wc or uncached", "cache mode '%s'", arg);
			return 2;
		}
		a->ao.cache = v;
		return 0;
	case 'P':
		a->ao.flags |= CARVEOUT_BUF_PAGES;
		return 0;
	case 'm':
		return device_arg(arg, &a->map_dev);
	case 'D':
		a->dir = parse_dir(arg);
		if (a->dir >= 0)
			return 0;
		errline("give bidi, to-device or from-device", "direction '%s'", arg);
		return 2;
	case 'H':
		a->hold = true;
		return 0;
	}
	return 2;
}

/* --node alone means "this node only"; --device alone, its node. */
static int resolve_policy(struct alloc_args *a)
{
	int p = a->policy;

	if (p < 0)
		p = a->have_node ? CARVEOUT_POLICY_STRICT :
		    a->ao.device ? CARVEOUT_POLICY_DEVICE : CARVEOUT_POLICY_LOCAL;
	if (p == CARVEOUT_POLICY_DEVICE && !a->ao.device)
		return usage_error("alloc: the device policy needs --device", NULL);
	if (p != CARVEOUT_POLICY_DEVICE && a->ao.device)
		return usage_error("alloc: --device goes with --policy device", NULL);
	if ((p == CARVEOUT_POLICY_STRICT || p == CARVEOUT_POLICY_PREFERRED) &&
	    !a->have_node)
		return usage_error("alloc: this policy needs --node", NULL);
	if (a->have_node && (p == CARVEOUT_POLICY_LOCAL ||
			     p == CARVEOUT_POLICY_DEVICE))
		return usage_error("alloc: --node goes with --policy strict or preferred",
				   NULL);
	a->policy = p;
	a->ao.policy = p;
	return 0;
}

/* 0: go on; 2: usage error; -1: --help was printed (exit 0). */
static int alloc_args_parse(int argc, char **argv, struct alloc_args *a)
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
	int opt;

	while ((opt = getopt_long(argc, argv, ALLOC_OPTSTRING, opts, NULL)) != -1) {
		if (opt == 'h' || opt == '?' || opt == ':')
			return help_or_bad(opt, argv, ALLOC_OPTSTRING, "alloc") ? 2 : -1;
		if (alloc_option(opt, optarg, a))
			return 2;
	}
	if (optind >= argc)
		return usage_error("alloc: missing SIZE", NULL);
	if (optind + 1 < argc)
		return usage_error("alloc: unexpected argument", argv[optind + 1]);
	a->size_arg = argv[optind];
	if (parse_size_arg("size", a->size_arg, &a->size))
		return 2;
	if (!a->size) {
		errline("a buffer needs at least one byte", "size '%s'", a->size_arg);
		return 2;
	}
	return resolve_policy(a);
}

/* A sub-page buffer: its size class in this file's caches. */
static void print_slab(struct carveout_ctx *ctx, const struct carveout_buf *buf)
{
	struct carveout_slab_class cl[64];
	int n, k;

	n = carveout_get_slabinfo(ctx, buf->node, cl, 64);
	for (k = 0; k < n && k < 64; k++) {
		if (cl[k].obj_size != buf->granted)
			continue;
		printf("slab:     %u-byte objects, %llu of %llu in use, %u per slab of %u page%s\n",
		       cl[k].obj_size, (unsigned long long)cl[k].objs_in_use,
		       (unsigned long long)cl[k].objs_total, cl[k].objs_per_slab,
		       cl[k].slab_pages, cl[k].slab_pages == 1 ? "" : "s");
		return;
	}
	if (n < 0)
		printf("slab:     %s\n", carveout_strerror_op(n, CARVEOUT_OP_SLABINFO));
}

static void print_buf(struct carveout_ctx *ctx, const struct alloc_args *a,
		      const struct carveout_buf *buf)
{
	char s[24];

	printf("handle:   %u\n", buf->handle);
	printf("node:     %u\n", buf->node);
	printf("size:     %s (%" PRIu64 " bytes)\n", fmt_size(a->size, s), a->size);
	printf("granted:  %s (%" PRIu64 " bytes)\n", fmt_size(buf->granted, s),
	       buf->granted);
	printf("policy:   %s\n", carveout_policy_name(a->policy));
	printf("cache:    %s\n", carveout_cache_name(buf->cache));
	printf("mmap:     %p\n", buf->addr);
	if (buf->granted < (uint64_t)sysconf(_SC_PAGESIZE) &&
	    !(a->ao.flags & CARVEOUT_BUF_PAGES))
		print_slab(ctx, buf);
}

static void hold_until_signal(const struct carveout_buf *buf)
{
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

static int use_buf(struct carveout_ctx *ctx, const struct alloc_args *a,
		   struct carveout_buf *buf)
{
	int ret;

	print_buf(ctx, a, buf);
	if (a->map_dev) {
		ret = carveout_buf_map(buf, a->map_dev, a->dir, NULL);
		if (ret) {
			errline(carveout_strerror_op(ret, CARVEOUT_OP_MAP),
				"map buffer %u to %s", buf->handle, a->map_dev);
			return 1;
		}
		printf("dma:      %#" PRIx64 " (%s, %s)\n", buf->dma_addr,
		       a->map_dev, dir_name(a->dir));
	}
	if (buf->phys_addr)
		printf("phys:     %#" PRIx64 "\n", buf->phys_addr);
	else
		printf("phys:     hidden (needs CAP_SYS_ADMIN)\n");
	if (a->hold)
		hold_until_signal(buf);
	return 0;
}

int cmd_alloc(int argc, char **argv)
{
	struct alloc_args a = { .dir = CARVEOUT_DMA_BIDIRECTIONAL, .policy = -1 };
	struct carveout_buf *buf;
	struct carveout_ctx *ctx;
	char where[96] = "";
	int ret;

	ret = alloc_args_parse(argc, argv, &a);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (a.policy == CARVEOUT_POLICY_DEVICE)
		snprintf(where, sizeof(where), " near %s", a.ao.device);
	else if (a.have_node)
		snprintf(where, sizeof(where), " on node %d", a.ao.node);
	ctx = open_ctx();
	if (!ctx)
		return 1;
	buf = carveout_buf_alloc(ctx, a.size, &a.ao);
	if (!buf) {
		errline(carveout_strerror_op(errno, CARVEOUT_OP_ALLOC),
			"alloc %s%s", a.size_arg, where);
		carveout_close(ctx);
		return 1;
	}
	if (use_buf(ctx, &a, buf)) {
		carveout_buf_free(buf);
		carveout_close(ctx);
		return 1;
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
