// SPDX-License-Identifier: GPL-2.0
/*
 * libcarveout (userspace/lib) against the real module: size parsing and
 * printing, carveout_strerror() texts, open/info/stats, allocation on each
 * node with a usable, zeroed mapping, sub-page and page-rounded buffers,
 * cache modes, alignment, DMA map/sync/unmap with the edu device
 * (carveout_edu binds it), dma-buf export, stats consistency, every error
 * path the library reports, and buffers outliving their context.
 *
 * It links libcarveout.a like any program (tests/user/Makefile).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/stat.h>

#include <carveout/libcarveout.h>

#include "co_test.h"
#include "tap.h"

#define KIB	1024ULL
#define MIB	(1024ULL * KIB)
#define GIB	(1024ULL * MIB)

static struct carveout_ctx *ctx;
static struct carveout_sysinfo info;

/* Checks a -errno return (@ret is evaluated once). */
#define tap_neg(ret, err, what) ({ int _r = (ret); \
	tap_ok(_r == -(err), "%s: %s (got %d)", what, strerror(err), _r); })
/* Checks a NULL-with-errno return. */
#define tap_null(ptr, err, what) ({ const void *_p = (ptr); int _e = errno; \
	tap_ok(!_p && _e == (err), "%s: %s (got %s)", what, strerror(err), \
	       _p ? "success" : strerror(_e)); })

static int all_bytes(const void *p, size_t len, unsigned char v)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i] != v)
			return 0;
	return 1;
}

static void test_parse_size(void)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "0", 0 }, { "4096", 4096 }, { "64K", 64 * KIB },
		{ "64k", 64 * KIB }, { "1M", MIB }, { "1.5M", 3 * MIB / 2 },
		{ "2G", 2 * GIB }, { "1T", 1024 * GIB }, { "0x1000", 4096 },
		{ "1MiB", MIB }, { "1MB", MIB }, { " 8K ", 8 * KIB },
		{ "0.5K", 512 }, { "16777215T", 16777215ULL * 1024 * GIB },
		{ "18446744073709551615", UINT64_MAX },
	};
	static const struct {
		const char *s;
		int err;
	} bad[] = {
		{ "", EINVAL }, { "abc", EINVAL }, { "1Q", EINVAL },
		{ "-1", EINVAL }, { "1.5", EINVAL }, { "0x", EINVAL },
		{ "1K2", EINVAL }, { "1.0001K", EINVAL }, { "K", EINVAL },
		{ "18446744073709551616", ERANGE }, { "16777216T", ERANGE },
	};
	static const uint64_t round_trip[] = {
		0, 1, 100, 4095, 4096, 6144, 3 * MIB / 2, 64 * MIB - 4096,
		128 * MIB, 3 * GIB, 5 * 1024 * GIB, UINT64_MAX,
	};
	unsigned int i, ok = 1;
	char buf[24];
	uint64_t v;
	int ret;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 12345;
		ret = carveout_parse_size(good[i].s, &v);
		tap_ok(ret == 0 && v == good[i].v, "parse_size(\"%s\") = %llu (got %d, %llu)",
		       good[i].s, (unsigned long long)good[i].v, ret,
		       (unsigned long long)v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		ret = carveout_parse_size(bad[i].s, &v);
		tap_ok(ret == -bad[i].err && v == 12345,
		       "parse_size(\"%s\") fails with %s (got %d)", bad[i].s,
		       strerror(bad[i].err), ret);
	}

	tap_ok(!strcmp(carveout_format_size(0, buf, sizeof(buf), 0), "0") &&
	       !strcmp(carveout_format_size(100, buf, sizeof(buf), 0), "100") &&
	       !strcmp(carveout_format_size(4096, buf, sizeof(buf), 0), "4K") &&
	       !strcmp(carveout_format_size(3 * MIB / 2, buf, sizeof(buf), 0), "1536K") &&
	       !strcmp(carveout_format_size(64 * MIB, buf, sizeof(buf), 0), "64M") &&
	       !strcmp(carveout_format_size(2 * GIB, buf, sizeof(buf), 0), "2G"),
	       "format_size exact: 0 100 4K 1536K 64M 2G");
	tap_ok(!strcmp(carveout_format_size(3 * MIB / 2, buf, sizeof(buf),
					    CARVEOUT_SIZE_ROUND), "1.5M") &&
	       !strcmp(carveout_format_size(64 * MIB - 4096 * 25, buf,
					    sizeof(buf), CARVEOUT_SIZE_ROUND), "63.9M") &&
	       !strcmp(carveout_format_size(128 * MIB, buf, sizeof(buf),
					    CARVEOUT_SIZE_ROUND), "128M") &&
	       !strcmp(carveout_format_size(1000, buf, sizeof(buf),
					    CARVEOUT_SIZE_ROUND), "1000"),
	       "format_size rounded: 1.5M 63.9M 128M 1000");
	for (i = 0; i < sizeof(round_trip) / sizeof(round_trip[0]); i++) {
		carveout_format_size(round_trip[i], buf, sizeof(buf), 0);
		if (carveout_parse_size(buf, &v) || v != round_trip[i]) {
			tap_diag("round trip of %llu via \"%s\" failed",
				 (unsigned long long)round_trip[i], buf);
			ok = 0;
		}
	}
	tap_ok(ok, "parse_size reads back every exact format_size text");
	carveout_format_size(UINT64_MAX, buf, 4, 0);
	tap_ok(strlen(buf) == 3, "format_size truncates to its buffer");
}

static void test_strerror(void)
{
	static const struct {
		int err;
		enum carveout_op op;
		const char *want;
	} texts[] = {
		{ ENOMEM, CARVEOUT_OP_ALLOC, "region exhausted" },
		{ EDQUOT, CARVEOUT_OP_ALLOC, "per-file or per-user" },
		{ EMFILE, CARVEOUT_OP_ALLOC, "too many buffers or DMA mappings" },
		{ ENOMEM, CARVEOUT_OP_ALLOC, "reserve kept for root" },
		{ EFBIG, CARVEOUT_OP_ALLOC, "larger than any carveout region" },
		{ ERANGE, CARVEOUT_OP_MAP, "DMA mask" },
		{ ENODEV, CARVEOUT_OP_ALLOC, "no such node or device" },
		{ ENODEV, CARVEOUT_OP_MAP, "no such device" },
		{ ENODEV, CARVEOUT_OP_STATS, "no carveout region on that node" },
		{ ENOENT, CARVEOUT_OP_FREE, "no such buffer handle" },
		{ ENOENT, CARVEOUT_OP_UNMAP, "DMA mapping" },
		{ ENOENT, CARVEOUT_OP_SYNC, "no DMA mapping" },
		{ ENOENT, CARVEOUT_OP_OPEN, "module is not loaded" },
		{ EACCES, CARVEOUT_OP_OPEN, "no permission to open /dev/carveout" },
		{ EPERM, CARVEOUT_OP_OPEN, "no permission to open /dev/carveout" },
		{ EINVAL, CARVEOUT_OP_PARSE, "not a size" },
		{ ENOTTY, CARVEOUT_OP_ANY, "not a carveout device" },
	};
	unsigned int i;
	const char *t;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		t = carveout_strerror_op(-texts[i].err, texts[i].op);
		tap_ok(t && strstr(t, texts[i].want),
		       "strerror_op(-%s, op %d) says \"%s\" (\"%s\")",
		       strerrorname_np(texts[i].err), texts[i].op,
		       texts[i].want, t ? t : "(null)");
	}
	tap_ok(!strcmp(carveout_strerror(ENOMEM), carveout_strerror(-ENOMEM)),
	       "strerror takes positive and negative errors");
	tap_ok(!strcmp(carveout_strerror(EDQUOT),
		       carveout_strerror_op(EDQUOT, CARVEOUT_OP_ANY)),
	       "strerror is strerror_op(CARVEOUT_OP_ANY)");
	tap_ok(!strcmp(carveout_strerror(EMLINK), strerror(EMLINK)),
	       "errors without a carveout meaning use strerror()'s text");
	tap_ok(carveout_strerror(12345) != NULL && carveout_strerror(0) != NULL,
	       "strerror never returns NULL");
	tap_ok(!strcmp(carveout_policy_name(CARVEOUT_POLICY_PREFERRED), "preferred") &&
	       carveout_parse_policy("device") == CARVEOUT_POLICY_DEVICE &&
	       carveout_parse_policy("nearest") == -EINVAL &&
	       carveout_parse_cache("wc") == CARVEOUT_ALLOC_WC &&
	       carveout_parse_cache("write-back") == -EINVAL &&
	       !strcmp(carveout_cache_name(CARVEOUT_ALLOC_UNCACHED), "uncached"),
	       "policy and cache names");
}

static void test_open_info(void)
{
	struct carveout_ctx *bad;
	uint64_t sum = 0, sum_free = 0;
	unsigned int i, ok = 1;

	errno = 0;
	bad = carveout_open("/dev/carveout-does-not-exist");
	tap_null(bad, ENOENT, "open of a missing device node");
	errno = 0;
	bad = carveout_open("/proc/self/status");
	tap_ok(bad != NULL, "open of a file that is not carveout still opens");
	if (bad) {
		struct carveout_sysinfo si;

		tap_neg(carveout_get_info(bad, &si), ENOTTY,
			"info on a file that is not carveout");
		tap_ok(strstr(carveout_strerror(ENOTTY), "not a carveout device") != NULL,
		       "and its text says so");
		carveout_close(bad);
	}
	carveout_close(NULL);

	ctx = carveout_open(NULL);
	if (!ctx)
		tap_bail("cannot open " CARVEOUT_DEV_PATH ": %s",
			 carveout_strerror_op(errno, CARVEOUT_OP_OPEN));
	tap_ok(carveout_fd(ctx) >= 0, "open " CARVEOUT_DEV_PATH);
	tap_ok(carveout_get_info(ctx, &info) == 0, "info");
	tap_ok(info.nr_nodes >= 1 && info.nr_nodes == info.nr_nodes_total,
	       "info: %u node(s)", info.nr_nodes);
	tap_ok(info.page_size == (uint32_t)sysconf(_SC_PAGESIZE),
	       "info: page size %u", info.page_size);
	tap_ok((info.caps & CARVEOUT_CAP_DMA_MAP) && (info.caps & CARVEOUT_CAP_DMABUF) &&
	       (info.caps & CARVEOUT_CAP_PHYS),
	       "info: capabilities %#llx include dma-map, dma-buf and (root) phys",
	       (unsigned long long)info.caps);
	for (i = 0; i < info.nr_nodes; i++) {
		const struct carveout_node_info *n = &info.nodes[i];

		sum += n->region_bytes;
		sum_free += n->free_bytes;
		if (n->free_bytes > n->region_bytes ||
		    n->largest_free > n->free_bytes || !n->nr_pieces)
			ok = 0;
	}
	tap_ok(sum == info.total_bytes, "info: node regions add up to %llu bytes",
	       (unsigned long long)info.total_bytes);
	tap_ok(ok, "info: per node free <= region, largest <= free, pieces >= 1");
	tap_ok(info.max_alloc > 0 && info.max_alloc <= sum_free,
	       "info: max_alloc %llu within the free bytes",
	       (unsigned long long)info.max_alloc);
}

static int stats_of(unsigned int node, struct carveout_stats *st)
{
	return carveout_get_stats(ctx, node, st);
}

/* Buffers and free bytes per node, to check that the test leaves nothing. */
static uint64_t start_state[CARVEOUT_MAX_NODES][2];

static void save_state(void)
{
	struct carveout_stats st;
	unsigned int i;

	for (i = 0; i < info.nr_nodes; i++) {
		co_drain_pools(info.nodes[i].node);
		memset(&st, 0, sizeof(st));
		stats_of(info.nodes[i].node, &st);
		start_state[i][0] = st.nr_buffers;
		start_state[i][1] = st.free_bytes;
	}
}

static void check_state(void)
{
	struct carveout_stats st;
	unsigned int i;
	int ok = 1;

	for (i = 0; i < info.nr_nodes; i++) {
		co_drain_pools(info.nodes[i].node);
		memset(&st, 0, sizeof(st));
		if (stats_of(info.nodes[i].node, &st) ||
		    st.nr_buffers != start_state[i][0] ||
		    st.free_bytes != start_state[i][1]) {
			tap_diag("node %u: %llu buffers, %llu free (at start %llu, %llu)",
				 info.nodes[i].node, (unsigned long long)st.nr_buffers,
				 (unsigned long long)st.free_bytes,
				 (unsigned long long)start_state[i][0],
				 (unsigned long long)start_state[i][1]);
			ok = 0;
		}
	}
	tap_ok(ok, "every node has the buffers and free bytes it had at the start");
}

static void test_stats_consistency(void)
{
	struct carveout_sysinfo now;
	struct carveout_stats st;
	unsigned int i, o;
	int ok = 1;

	tap_ok(carveout_get_info(ctx, &now) == 0, "info for the stats checks");
	for (i = 0; i < now.nr_nodes; i++) {
		const struct carveout_node_info *n = &now.nodes[i];
		uint64_t blocks = 0, largest = 0;

		if (stats_of(n->node, &st)) {
			ok = 0;
			continue;
		}
		for (o = 0; o < st.nr_orders && o < 40; o++) {
			blocks += st.free_blocks[o] * ((uint64_t)now.page_size << o);
			if (st.free_blocks[o])
				largest = (uint64_t)now.page_size << o;
		}
		if (st.region_bytes != n->region_bytes ||
		    st.free_bytes != n->free_bytes ||
		    st.largest_free != n->largest_free || blocks != st.free_bytes ||
		    largest != st.largest_free || st.granted_bytes < st.requested_bytes ||
		    st.region_bytes - st.free_bytes < st.granted_bytes) {
			tap_diag("node %u: region %llu/%llu free %llu/%llu largest %llu/%llu/%llu blocks %llu granted %llu requested %llu",
				 n->node, (unsigned long long)st.region_bytes,
				 (unsigned long long)n->region_bytes,
				 (unsigned long long)st.free_bytes,
				 (unsigned long long)n->free_bytes,
				 (unsigned long long)st.largest_free,
				 (unsigned long long)n->largest_free,
				 (unsigned long long)largest,
				 (unsigned long long)blocks,
				 (unsigned long long)st.granted_bytes,
				 (unsigned long long)st.requested_bytes);
			ok = 0;
		}
	}
	tap_ok(ok, "stats agree with info; free blocks add up to free bytes and the largest block");
	tap_neg(stats_of(63, &st), ENODEV, "stats of a node without a region");
}

/* carveout_walk_free() callback: counts pages and checks the order. */
struct walk_sum {
	uint64_t pages, end, blocks;
	int ok;
	uint64_t stop_after;	/* stop (return 7) after this many blocks */
};

static int sum_block(const struct carveout_free_block *b, void *arg)
{
	struct walk_sum *w = arg;

	if (b->offset < w->end || b->order >= 40)
		w->ok = 0;
	w->end = b->offset + (1ULL << b->order);
	w->pages += 1ULL << b->order;
	w->blocks++;
	return w->stop_after && w->blocks == w->stop_after ? 7 : 0;
}

static void test_freemap(void)
{
	struct carveout_alloc_opts o = { .policy = CARVEOUT_POLICY_STRICT,
					 .flags = CARVEOUT_BUF_NO_MMAP };
	struct carveout_buf *b1, *b2;
	struct carveout_piece_info pi = { 0 };
	struct carveout_free_block fb[2];
	struct carveout_stats st;
	struct walk_sum w;
	uint64_t total = 0, cursor = 0;
	unsigned int node = info.nodes[0].node, k;
	int ret, ok = 1;

	/* Holes: 1M and 3M held, 2M between them freed. */
	o.node = (int)node;
	b1 = carveout_buf_alloc(ctx, MIB, &o);
	b2 = carveout_buf_alloc(ctx, 2 * MIB, &o);
	carveout_buf_free(b2);
	b2 = carveout_buf_alloc(ctx, 3 * MIB, &o);
	tap_ok(b1 && b2, "hold 1M and 3M on node %u", node);
	for (k = 0; k < info.nodes[0].nr_pieces; k++) {
		memset(&w, 0, sizeof(w));
		w.ok = 1;
		ret = carveout_walk_free(ctx, node, k, sum_block, &w, &pi);
		ok = ok && !ret && w.ok && pi.nr_pieces == info.nodes[0].nr_pieces &&
		     w.end <= pi.pages;
		total += w.pages;
	}
	tap_ok(ok && stats_of(node, &st) == 0 &&
	       total * info.page_size == st.free_bytes,
	       "walk_free: blocks in order over every piece, %llu pages = STATS free",
	       (unsigned long long)total);
	memset(&w, 0, sizeof(w));
	w.ok = 1;
	w.stop_after = 1;
	tap_ok(carveout_walk_free(ctx, node, 0, sum_block, &w, NULL) == 7 &&
	       w.blocks == 1, "walk_free stops at the callback's non-zero return");
	ret = carveout_get_freemap(ctx, node, 0, &cursor, fb, 2, &pi);
	tap_ok(ret >= 1 && ret <= 2 && cursor > 0 && cursor <= pi.pages,
	       "get_freemap: %d block(s) of 2, cursor at %llu of %llu pages", ret,
	       (unsigned long long)cursor, (unsigned long long)pi.pages);
	cursor = 0;
	tap_neg(carveout_get_freemap(ctx, node, info.nodes[0].nr_pieces, &cursor,
				     fb, 2, NULL), EINVAL, "get_freemap of a piece past the last");
	tap_neg(carveout_walk_free(ctx, 63, 0, sum_block, &w, NULL), ENODEV,
		"walk_free of a node without a region");
	tap_ok(strstr(carveout_strerror_op(ENODEV, CARVEOUT_OP_FREEMAP), "no carveout region") != NULL,
	       "strerror_op(ENODEV, FREEMAP) names the region");
	carveout_buf_free(b1);
	carveout_buf_free(b2);
}

static void test_slabinfo(void)
{
	struct carveout_alloc_opts o = { .policy = CARVEOUT_POLICY_STRICT };
	struct carveout_slab_class cl[64];
	struct carveout_ctx *other = carveout_open(NULL);
	struct carveout_buf *b;
	int n, nmine, k, mine = -1, theirs;

	o.node = (int)info.nodes[0].node;
	b = carveout_buf_alloc(ctx, 100, &o);
	n = carveout_get_slabinfo(ctx, o.node, cl, 64);
	for (k = 0; b && k < n && k < 64; k++)
		if (cl[k].obj_size == b->granted)
			mine = (int)cl[k].objs_in_use;
	tap_ok(b && n > 0 && mine == 1,
	       "get_slabinfo: our 100-byte buffer in the %llu-byte class (%d in use)",
	       b ? (unsigned long long)b->granted : 0ULL, mine);
	nmine = n;
	n = other ? carveout_get_slabinfo(other, o.node, cl, 64) : -1;
	theirs = 0;
	for (k = 0; k < n && k < 64; k++)
		theirs += (int)cl[k].objs_in_use;
	tap_ok(n == nmine && theirs == 0,
	       "get_slabinfo of another context: %d classes, no object in use (%d)",
	       n, theirs);
	tap_ok(carveout_get_slabinfo(ctx, o.node, NULL, 0) == n,
	       "get_slabinfo with no room: the class count %d", n);
	tap_neg(carveout_get_slabinfo(ctx, 63, cl, 64), ENODEV,
		"get_slabinfo of a node without a region");
	carveout_buf_free(b);
	carveout_close(other);
}

static void test_version_held(void)
{
	struct carveout_alloc_opts o = { .flags = CARVEOUT_BUF_NO_MMAP };
	struct carveout_sysinfo a, b, base;
	struct carveout_limits lim;
	struct carveout_buf *buf;
	unsigned int x, y, z;
	char tail;

	tap_ok(sscanf(carveout_version(), "%u.%u.%u%c", &x, &y, &z, &tail) == 3,
	       "version \"%s\" is MAJOR.MINOR.PATCH", carveout_version());
	/* ctx keeps the pages of the sub-page caches it used: the base. */
	carveout_get_info(ctx, &base);
	buf = carveout_buf_alloc(ctx, 2 * MIB, &o);
	tap_ok(buf && carveout_get_info(ctx, &a) == 0 &&
	       a.file_bytes == base.file_bytes + 2 * MIB &&
	       a.user_bytes >= a.file_bytes, "info: file_bytes %llu (%llu before), user_bytes %llu",
	       (unsigned long long)a.file_bytes, (unsigned long long)base.file_bytes,
	       (unsigned long long)a.user_bytes);
	tap_ok(carveout_get_limits(ctx, &lim) == 0 && lim.file_bytes == a.file_bytes &&
	       lim.user_bytes == a.user_bytes && lim.nr_handles == 1 &&
	       lim.max_handles && lim.max_maps && lim.privileged &&
	       lim.eff_user_limit == lim.user_limit && lim.reserve_bytes < info.total_bytes,
	       "get_limits: the same bytes, 1 handle of %u, root's context privileged",
	       lim.max_handles);
	carveout_buf_free(buf);
	tap_ok(carveout_get_info(ctx, &b) == 0 && b.file_bytes == base.file_bytes &&
	       b.user_bytes == a.user_bytes - 2 * MIB,
	       "info after the free: file_bytes back, user_bytes down by 2M");
}

static void test_alloc_each_node(void)
{
	unsigned int i;

	for (i = 0; i < info.nr_nodes; i++) {
		unsigned int node = info.nodes[i].node;
		struct carveout_alloc_opts o = {
			.policy = CARVEOUT_POLICY_STRICT, .node = (int)node,
		};
		struct carveout_stats before, during, after;
		struct carveout_buf *b;
		unsigned char *p;

		stats_of(node, &before);
		b = carveout_buf_alloc(ctx, MIB, &o);
		if (!tap_ok(b != NULL, "node %u: alloc 1M strict (%s)", node,
			    b ? "ok" : carveout_strerror(errno)))
			continue;
		tap_ok(b->node == node && b->size == MIB && b->granted == MIB,
		       "node %u: buffer on node %u, size %llu, granted %llu", node,
		       b->node, (unsigned long long)b->size,
		       (unsigned long long)b->granted);
		tap_ok(b->handle != 0 && b->phys_addr && !(b->phys_addr & 4095),
		       "node %u: handle %u, phys %#llx page aligned", node,
		       b->handle, (unsigned long long)b->phys_addr);
		tap_ok(b->dma_addr == 0, "node %u: no DMA address before a map", node);
		p = b->addr;
		tap_ok(p != NULL && all_bytes(p, b->granted, 0),
		       "node %u: mapped at %p and zeroed", node, (void *)p);
		if (p) {
			memset(p, 0xa5, b->granted);
			tap_ok(all_bytes(p, b->granted, 0xa5) &&
			       co_virt_to_pfn(p) == b->phys_addr / 4096 &&
			       co_virt_to_pfn(p + b->granted - 1) ==
			       (b->phys_addr + b->granted - 1) / 4096,
			       "node %u: writable, and the mapping is the buffer's memory", node);
		}
		stats_of(node, &during);
		tap_ok(during.free_bytes == before.free_bytes - MIB &&
		       during.nr_buffers == before.nr_buffers + 1 &&
		       during.granted_bytes == before.granted_bytes + MIB,
		       "node %u: stats count the buffer", node);
		tap_ok(carveout_buf_free(b) == 0, "node %u: free", node);
		stats_of(node, &after);
		tap_ok(after.free_bytes == before.free_bytes &&
		       after.nr_buffers == before.nr_buffers,
		       "node %u: stats back to before", node);
	}
}

static void test_alloc_kinds(void)
{
	struct carveout_alloc_opts o;
	struct carveout_buf *b;
	unsigned char *p;

	/* Sub-page: addr is the byte inside the mapped page. */
	b = carveout_buf_alloc(ctx, 100, NULL);
	if (tap_ok(b != NULL, "alloc 100 bytes")) {
		tap_ok(b->granted == 128 && b->addr == (char *)b->map_base + b->page_offset,
		       "granted 128 at page offset %u", b->page_offset);
		p = b->addr;
		tap_ok(all_bytes(p, b->granted, 0) &&
		       co_virt_to_pfn(p) == b->phys_addr / 4096 &&
		       ((uintptr_t)p & 4095) == (b->phys_addr & 4095),
		       "sub-page buffer zeroed, its address matches its physical offset");
		carveout_buf_free(b);
	}

	memset(&o, 0, sizeof(o));
	o.flags = CARVEOUT_BUF_PAGES;
	b = carveout_buf_alloc(ctx, 100, &o);
	tap_ok(b && b->granted == info.page_size && b->page_offset == 0,
	       "CARVEOUT_BUF_PAGES: 100 bytes take a page");
	carveout_buf_free(b);

	o.flags = CARVEOUT_BUF_NO_MMAP;
	b = carveout_buf_alloc(ctx, 8192, &o);
	tap_ok(b && b->addr == NULL && b->map_base == NULL,
	       "CARVEOUT_BUF_NO_MMAP: not mapped");
	tap_ok(b && carveout_buf_free(b) == 0, "free an unmapped buffer");

	memset(&o, 0, sizeof(o));
	o.align = 2 * MIB;
	b = carveout_buf_alloc(ctx, 4096, &o);
	tap_ok(b && !(b->phys_addr & (2 * MIB - 1)), "2M alignment (%#llx)",
	       b ? (unsigned long long)b->phys_addr : 0ULL);
	carveout_buf_free(b);

	memset(&o, 0, sizeof(o));
	o.cache = CARVEOUT_ALLOC_WC;
	b = carveout_buf_alloc(ctx, 8192, &o);
	if (tap_ok(b != NULL && b->cache == CARVEOUT_ALLOC_WC,
		   "alloc a write-combine buffer")) {
		volatile unsigned char *q = b->addr;

		q[0] = 0x11;
		q[8191] = 0x22;
		tap_ok(q[0] == 0x11 && q[8191] == 0x22 && q[100] == 0,
		       "write-combine mapping reads back");
		carveout_buf_free(b);
	}

	/* Behind the IOMMU, the device policy picks edu's node, any address. */
	memset(&o, 0, sizeof(o));
	o.policy = CARVEOUT_POLICY_DEVICE;
	o.device = CO_EDU_PCI;
	b = carveout_buf_alloc(ctx, 64 * KIB, &o);
	tap_ok(b != NULL && b->granted == 64 * KIB,
	       "device policy for edu: 64K on node %d",
	       b ? (int)b->node : -1);
	tap_ok(b && carveout_buf_map(b, CO_EDU_PCI, CARVEOUT_DMA_FROM_DEVICE, NULL) == 0 &&
	       b->dma_addr + b->granted - 1 < (1ULL << 28),
	       "and edu reaches it below its 28-bit mask (IOVA %#llx)",
	       b ? (unsigned long long)b->dma_addr : 0ULL);
	carveout_buf_free(b);
}

static void test_dma(void)
{
	struct carveout_buf *b;
	uint64_t dma = 0, dma2 = 0;
	unsigned char *d;
	struct stat sb;
	int fd, ret;

	b = carveout_buf_alloc(ctx, 3 * 4096, NULL);
	if (!tap_ok(b != NULL, "alloc 12K for DMA"))
		return;
	tap_neg(carveout_buf_sync(b, 0, 0, CARVEOUT_DMA_BIDIRECTIONAL,
				  CARVEOUT_SYNC_FOR_CPU), ENOENT,
		"sync before any DMA mapping");
	ret = carveout_buf_map(b, CO_EDU_PCI, CARVEOUT_DMA_BIDIRECTIONAL, &dma);
	tap_ok(ret == 0 && dma && b->dma_addr == dma,
	       "map to edu: DMA address %#llx (%d)", (unsigned long long)dma, ret);
	tap_ok(dma + b->granted - 1 < (1ULL << 28),
	       "the DMA address fits edu's 28-bit mask");
	tap_ok(carveout_buf_sync(b, 0, 0, CARVEOUT_DMA_BIDIRECTIONAL,
				 CARVEOUT_SYNC_FOR_DEVICE) == 0,
	       "sync the whole buffer for the device");
	tap_ok(carveout_buf_sync(b, 4096, 100, CARVEOUT_DMA_BIDIRECTIONAL,
				 CARVEOUT_SYNC_FOR_CPU) == 0,
	       "sync a range for the CPU");
	tap_neg(carveout_buf_sync(b, 8192, 8192, CARVEOUT_DMA_BIDIRECTIONAL,
				  CARVEOUT_SYNC_FOR_CPU), EINVAL,
		"sync past the end");
	tap_neg(carveout_buf_sync(b, 0, 0, CARVEOUT_DMA_BIDIRECTIONAL,
				  CARVEOUT_SYNC_FOR_CPU | CARVEOUT_SYNC_FOR_DEVICE),
		EINVAL, "sync for CPU and device at once");
	tap_neg(carveout_buf_sync(b, 0, 0, CARVEOUT_DMA_TO_DEVICE,
				  CARVEOUT_SYNC_FOR_DEVICE), ENOENT,
		"sync with a direction no mapping has");

	ret = carveout_buf_map(b, CO_EDU_PCI, CARVEOUT_DMA_TO_DEVICE, &dma2);
	tap_ok(ret == 0 && dma2 != dma && b->dma_addr == dma2,
	       "a second mapping gets its own address, now the buffer's dma_addr");
	tap_ok(carveout_buf_unmap(b, NULL, 0) == 0 && b->dma_addr == 0,
	       "unmap the last mapping by default");
	tap_neg(carveout_buf_unmap(b, CO_EDU_PCI, dma2), ENOENT,
		"unmap it again");
	tap_neg(carveout_buf_unmap(b, NULL, 0), ENOENT,
		"unmap with no last mapping left");
	tap_ok(carveout_buf_unmap(b, CO_EDU_PCI, dma) == 0,
	       "unmap the first mapping by address");
	tap_neg(carveout_buf_map(b, "0000:7f:1f.7", 0, NULL), ENODEV,
		"map to a device that does not exist");
	tap_neg(carveout_buf_map(b, NULL, 0, NULL), EINVAL, "map to no device");
	tap_neg(carveout_buf_map(b, CO_EDU_PCI, 9, NULL), EINVAL,
		"map with a bad direction");
	tap_ok(carveout_buf_map(b, CO_EDU_PCI, CARVEOUT_DMA_FROM_DEVICE, NULL) == 0,
	       "map again, left to free");

	memset(b->addr, 0x3c, b->granted);
	fd = carveout_buf_export(b, 0);
	tap_ok(fd >= 0, "export a dma-buf (fd %d)", fd);
	if (fd >= 0) {
		tap_ok(fstat(fd, &sb) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC,
		       "the dma-buf fd is close-on-exec by default");
		d = mmap(NULL, b->granted, PROT_READ, MAP_SHARED, fd, 0);
		tap_ok(d != MAP_FAILED && all_bytes(d, b->granted, 0x3c),
		       "the dma-buf maps the same bytes");
		if (d != MAP_FAILED)
			munmap(d, b->granted);
	}
	tap_neg(carveout_buf_export(b, 0x100), EINVAL, "export with a bad flag");
	tap_ok(carveout_buf_free(b) == 0, "free a mapped and exported buffer");
	if (fd >= 0)
		close(fd);
}

static void test_errors(void)
{
	struct carveout_alloc_opts o;
	struct carveout_buf *b, *held[64];
	char longname[80];
	int n = 0, i;

	memset(&o, 0, sizeof(o));
	errno = 0;
	b = carveout_buf_alloc(ctx, 0, NULL);
	tap_null(b, EINVAL, "alloc of 0 bytes");
	o.policy = CARVEOUT_POLICY_STRICT;
	o.node = 63;
	b = carveout_buf_alloc(ctx, 4096, &o);
	tap_null(b, ENODEV, "alloc strict on a node without a region");
	o.policy = 99;
	b = carveout_buf_alloc(ctx, 4096, &o);
	tap_null(b, EINVAL, "alloc with an unknown policy");
	memset(&o, 0, sizeof(o));
	b = carveout_buf_alloc(ctx, info.total_bytes * 4, NULL);
	tap_null(b, EFBIG, "alloc larger than any region");
	tap_ok(strstr(carveout_strerror(errno), "larger than any") != NULL,
	       "EFBIG explained: %s", carveout_strerror(errno));
	o.align = 3 * 4096;
	b = carveout_buf_alloc(ctx, 4096, &o);
	tap_null(b, EINVAL, "alloc with a non-power-of-two alignment");
	memset(&o, 0, sizeof(o));
	o.cache = CARVEOUT_ALLOC_CACHE_MASK;
	b = carveout_buf_alloc(ctx, 4096, &o);
	tap_null(b, EINVAL, "alloc with an invalid cache mode");
	memset(&o, 0, sizeof(o));
	o.flags = 0x80;
	b = carveout_buf_alloc(ctx, 4096, &o);
	tap_null(b, EINVAL, "alloc with an unknown library flag");
	memset(&o, 0, sizeof(o));
	o.policy = CARVEOUT_POLICY_DEVICE;
	o.device = "0000:7f:1f.7";
	b = carveout_buf_alloc(ctx, 4096, &o);
	tap_null(b, ENODEV, "alloc for a device that does not exist");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	o.device = longname;
	b = carveout_buf_alloc(ctx, 4096, &o);
	tap_null(b, EINVAL, "alloc with a device name too long for the uapi");

	/*
	 * Exhaust node 0 with its largest blocks: ENOMEM, then give back.
	 * Its pooled WC/UC memory would serve the last request after a drain.
	 */
	co_drain_pools(info.nodes[0].node);
	memset(&o, 0, sizeof(o));
	o.policy = CARVEOUT_POLICY_STRICT;
	o.node = (int)info.nodes[0].node;
	o.flags = CARVEOUT_BUF_NO_MMAP;
	for (;;) {
		struct carveout_stats st;

		if (stats_of(info.nodes[0].node, &st) || !st.largest_free ||
		    n == 64)
			break;
		b = carveout_buf_alloc(ctx, st.largest_free, &o);
		if (!b)
			break;
		held[n++] = b;
	}
	b = carveout_buf_alloc(ctx, 2 * info.page_size, &o);
	tap_null(b, ENOMEM, "alloc strict on an exhausted node");
	tap_ok(n >= 1 && strstr(carveout_strerror(errno), "exhausted"),
	       "ENOMEM explained after %d allocations: %s", n,
	       carveout_strerror(errno));
	carveout_buf_free(b);
	for (i = 0; i < n; i++)
		carveout_buf_free(held[i]);

	/*
	 * Per-file limit, on a new context: ctx keeps the pages of the
	 * sub-page caches it used, and they count.
	 */
	if (tap_ok(co_set_param("file_limit", MIB) == 0, "set file_limit to 1M")) {
		struct carveout_ctx *lc = carveout_open(NULL);
		struct carveout_buf *a = lc ? carveout_buf_alloc(lc, MIB, NULL) : NULL;

		tap_ok(a != NULL, "1M fits the file limit of a new context");
		b = lc ? carveout_buf_alloc(lc, 4096, NULL) : NULL;
		tap_null(b, EDQUOT, "one more page exceeds the file limit");
		tap_ok(strstr(carveout_strerror(errno), "limit reached") != NULL,
		       "EDQUOT explained: %s", carveout_strerror(errno));
		carveout_buf_free(b);
		carveout_buf_free(a);
		carveout_close(lc);
		tap_ok(co_set_param("file_limit", 0) == 0, "lift file_limit");
	}

	b = carveout_buf_alloc(ctx, 4096, NULL);
	if (tap_ok(b != NULL, "alloc to free twice")) {
		struct carveout_handle h = { .size = sizeof(h), .handle = b->handle };

		/* Free the handle behind the library's back. */
		tap_ok(ioctl(carveout_fd(ctx), CARVEOUT_IOC_FREE, &h) == 0,
		       "raw FREE of the handle");
		tap_neg(carveout_buf_map(b, CO_EDU_PCI, 0, NULL), ENOENT,
			"map of a freed handle");
		tap_neg(carveout_buf_export(b, 0), ENOENT, "export of a freed handle");
		tap_neg(carveout_buf_free(b), ENOENT, "library free of a freed handle");
	}
	tap_ok(carveout_buf_free(NULL) == 0, "free(NULL) does nothing");
}

/* Buffers may outlive their context; their mapping keeps the memory. */
static void test_close_first(void)
{
	struct carveout_ctx *c = carveout_open(NULL);
	struct carveout_stats before, after;
	struct carveout_buf *b;
	int ret;

	if (!tap_ok(c != NULL, "open a second context"))
		return;
	stats_of(info.nodes[0].node, &before);
	b = carveout_buf_alloc(c, 64 * KIB, &(struct carveout_alloc_opts){
		.policy = CARVEOUT_POLICY_STRICT, .node = (int)info.nodes[0].node });
	if (!tap_ok(b != NULL, "alloc 64K in it")) {
		carveout_close(c);
		return;
	}
	memset(b->addr, 0x5a, b->granted);
	carveout_close(c);
	tap_ok(all_bytes(b->addr, b->granted, 0x5a),
	       "after close the mapping still holds the data");
	tap_neg(carveout_buf_map(b, CO_EDU_PCI, 0, NULL), EBADF,
		"map after close fails with EBADF");
	ret = carveout_buf_free(b);
	tap_ok(ret == 0, "free after close unmaps (%d)", ret);
	stats_of(info.nodes[0].node, &after);
	tap_ok(after.free_bytes == before.free_bytes &&
	       after.nr_buffers == before.nr_buffers,
	       "the memory is back once the mapping is gone");
}

int main(void)
{
	tap_plan_begin("libcarveout");
	test_parse_size();
	test_strerror();
	test_open_info();
	save_state();
	test_stats_consistency();
	test_alloc_each_node();
	test_alloc_kinds();
	test_dma();
	test_errors();
	test_close_first();
	test_freemap();
	test_slabinfo();
	test_version_held();
	test_stats_consistency();
	/* Our file's sub-page caches keep empty slabs until it closes. */
	carveout_close(ctx);
	ctx = carveout_open(NULL);
	if (!ctx)
		tap_bail("reopen " CARVEOUT_DEV_PATH ": %s", strerror(errno));
	check_state();
	carveout_close(ctx);
	return tap_finish();
}
