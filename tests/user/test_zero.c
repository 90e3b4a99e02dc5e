// SPDX-License-Identifier: GPL-2.0
/*
 * Background zeroing (module/co_zero.c, module/co_buddy_clean.c): memory an
 * owner frees is zeroed off the allocation path, and allocations take clean
 * memory first, so they skip the memset.
 *
 * - Idle: every node's free memory becomes clean (STATS clean_bytes ==
 *   free_bytes) without any allocation asking for it; debugfs
 *   node<N>/zeroing agrees with STATS.
 * - Served clean: an allocation with clean memory available adds nothing
 *   to STATS sync_zeroed_bytes and reads all zeros; after a pattern is
 *   written and the buffer freed, the same memory comes back clean again
 *   (prezeroed_bytes grows by at least its size) and the pattern is gone.
 * - Zeroing does not show: right after a free, while the background is
 *   busy with that memory, STATS says the whole node is free and, for a
 *   single power-of-two piece, coalesced.
 * - prezero=0: nothing is zeroed in the background (clean_bytes stays
 *   short of free_bytes by what was freed) and allocations zero what they
 *   take (sync_zeroed_bytes grows), all bytes still zero; prezero=1 makes
 *   the node clean again.
 * - Race: owner A fills the node with a pattern and frees it; owner B
 *   takes all of it at once, in pieces of mixed sizes, while the
 *   background zeroes the same memory (its allocations wait for a step
 *   under way on their pages).  B never sees a byte of A's pattern.
 *
 * Runs as root in the test VM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "co_test.h"
#include "tap.h"

#define MIB		(1ULL << 20)
#define PAT_A		0x5a
#define PAT_B		0xa5
#define CLEAN_WAIT_MS	120000	/* TCG zeroes at tens of MB/s at worst */
#define RACE_ROUNDS	6
#define MAX_PARTS	512
#define ZEROING		"/sys/kernel/debug/carveout/node%u/zeroing"

static uint32_t node0;
static uint32_t pieces0;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Polls STATS until every free byte of @node is clean; 0 on time-out. */
static int wait_clean(int fd, uint32_t node, struct carveout_stats *s,
		      uint64_t *ms)
{
	uint64_t t0 = now_ms();

	for (;;) {
		if (co_stats(fd, node, s))
			return 0;
		*ms = now_ms() - t0;
		if (s->clean_bytes == s->free_bytes)
			return 1;
		if (*ms > CLEAN_WAIT_MS)
			return 0;
		sleep_ms(20);
	}
}

/* Index of the first byte of @p[0..@len) that is not @v, or @len. */
static size_t first_not(const unsigned char *p, size_t len, int v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return i;
	return len;
}

/* Allocates @len on node0 (strict), maps it; NULL on failure. */
static unsigned char *alloc_map(int fd, uint64_t len, struct carveout_alloc *a)
{
	void *p;

	if (co_alloc(fd, len, CARVEOUT_POLICY_STRICT, node0,
		     CARVEOUT_ALLOC_PAGES, a))
		return NULL;
	p = co_mmap(fd, a);
	if (!p) {
		co_free(fd, a->handle);
		return NULL;
	}
	return (unsigned char *)p + a->page_offset;
}

static void unmap_free(int fd, const struct carveout_alloc *a, unsigned char *p)
{
	munmap(p - a->page_offset, a->page_offset + a->granted);
	co_free(fd, a->handle);
}

static unsigned long long debugfs_kb(const char *key)
{
	char path[96], name[64];
	unsigned long long v, found = ~0ULL;
	FILE *f;

	snprintf(path, sizeof(path), ZEROING, node0);
	f = fopen(path, "r");
	if (!f)
		return ~0ULL;
	while (fscanf(f, "%63s %llu", name, &v) == 2)
		if (!strcmp(name, key))
			found = v;
	fclose(f);
	return found;
}

static void test_idle(int fd, const struct carveout_node_info *nodes, int nr)
{
	struct carveout_stats s;
	uint64_t ms;
	int i, ok;

	for (i = 0; i < nr; i++) {
		ok = wait_clean(fd, nodes[i].node, &s, &ms);
		tap_ok(ok && s.free_bytes > 0,
		       "node %u: all %llu free bytes zeroed in the background (clean %llu, %llu ms)",
		       nodes[i].node, (unsigned long long)s.free_bytes,
		       (unsigned long long)s.clean_bytes,
		       (unsigned long long)ms);
		if (s.prezero_ns)
			tap_diag("node %u: %llu MiB zeroed in %llu ms of zeroing (%llu MB/s)",
				 nodes[i].node,
				 (unsigned long long)(s.prezeroed_bytes / MIB),
				 (unsigned long long)(s.prezero_ns / 1000000),
				 (unsigned long long)(s.prezeroed_bytes * 1000 /
						      s.prezero_ns));
	}
	wait_clean(fd, node0, &s, &ms);
	tap_ok(debugfs_kb("clean_kB") == s.clean_bytes >> 10 &&
	       debugfs_kb("dirty_kB") == 0 &&
	       debugfs_kb("sync_zeroed_kB") == s.sync_zeroed_bytes >> 10,
	       "debugfs node%u/zeroing: clean_kB %llu = STATS %llu, dirty_kB %llu",
	       node0, debugfs_kb("clean_kB"),
	       (unsigned long long)(s.clean_bytes >> 10), debugfs_kb("dirty_kB"));
}

static void test_served_clean(int fd, uint64_t len)
{
	struct carveout_stats s0, s1;
	struct carveout_alloc a;
	unsigned char *p;
	uint64_t ms;
	size_t bad;
	int ok;

	wait_clean(fd, node0, &s0, &ms);
	p = alloc_map(fd, len, &a);
	if (!tap_ok(p != NULL, "ALLOC %llu MiB on node %u",
		    (unsigned long long)(len / MIB), node0))
		return;
	co_stats(fd, node0, &s1);
	bad = first_not(p, a.granted, 0);
	tap_ok(s1.sync_zeroed_bytes == s0.sync_zeroed_bytes && bad == a.granted,
	       "served from clean memory: nothing zeroed at allocation (sync_zeroed +%llu), all zero (first non-zero at %zu)",
	       (unsigned long long)(s1.sync_zeroed_bytes - s0.sync_zeroed_bytes),
	       bad);
	memset(p, PAT_A, a.granted);
	unmap_free(fd, &a, p);

	ok = wait_clean(fd, node0, &s1, &ms);
	tap_ok(ok && s1.prezeroed_bytes - s0.prezeroed_bytes >= len,
	       "freed memory is clean again after %llu ms (prezeroed +%llu MiB)",
	       (unsigned long long)ms,
	       (unsigned long long)((s1.prezeroed_bytes - s0.prezeroed_bytes) / MIB));
	co_stats(fd, node0, &s0);
	p = alloc_map(fd, len, &a);
	if (!tap_ok(p != NULL, "ALLOC %llu MiB again", (unsigned long long)(len / MIB)))
		return;
	co_stats(fd, node0, &s1);
	bad = first_not(p, a.granted, 0);
	tap_ok(bad == a.granted && s1.sync_zeroed_bytes == s0.sync_zeroed_bytes,
	       "the pattern is gone, and again nothing zeroed at allocation (first non-zero at %zu)",
	       bad);
	unmap_free(fd, &a, p);
}

/* Takes all of node0 in pieces of up to @max bytes; returns the count. */
static int take_all(int fd, struct carveout_alloc *parts, unsigned char **maps,
		    uint64_t max, unsigned int *seed)
{
	uint64_t len = max;
	int n = 0;

	while (n < MAX_PARTS && len >= 4096) {
		len = 4096ULL << (rand_r(seed) % 12);
		if (len > max)
			len = max;
		for (; len >= 4096; len /= 2) {
			maps[n] = alloc_map(fd, len, &parts[n]);
			if (maps[n])
				break;
		}
		if (len >= 4096)
			n++;
	}
	return n;
}

static void free_all(int fd, struct carveout_alloc *parts, unsigned char **maps,
		     int n)
{
	while (n--)
		unmap_free(fd, &parts[n], maps[n]);
}

static void test_prezero_off(int fd)
{
	static struct carveout_alloc parts[MAX_PARTS];
	static unsigned char *maps[MAX_PARTS];
	struct carveout_stats s0, s1;
	uint64_t ms, len = 8 * MIB;
	struct carveout_alloc a;
	unsigned char *p;
	unsigned int seed = 1;
	size_t bad = 0;
	int n, i;

	wait_clean(fd, node0, &s0, &ms);
	if (!tap_ok(co_set_param("prezero", 0) == 0, "prezero=0"))
		return;
	p = alloc_map(fd, len, &a);
	if (!tap_ok(p != NULL, "ALLOC 8 MiB"))
		goto out;
	memset(p, PAT_A, a.granted);
	unmap_free(fd, &a, p);
	sleep_ms(500);
	co_stats(fd, node0, &s1);
	tap_ok(s1.clean_bytes + len <= s1.free_bytes &&
	       s1.prezeroed_bytes == s0.prezeroed_bytes,
	       "prezero=0: the freed 8 MiB stay dirty (clean %llu of %llu free, prezeroed +%llu)",
	       (unsigned long long)s1.clean_bytes,
	       (unsigned long long)s1.free_bytes,
	       (unsigned long long)(s1.prezeroed_bytes - s0.prezeroed_bytes));

	n = take_all(fd, parts, maps, 64 * MIB, &seed);
	co_stats(fd, node0, &s0);
	for (i = 0; i < n && bad == 0; i++)
		if (first_not(maps[i], parts[i].granted, 0) != parts[i].granted)
			bad = i + 1;
	tap_ok(n > 0 && !bad && s0.sync_zeroed_bytes - s1.sync_zeroed_bytes >= len,
	       "allocations zero the dirty memory themselves: %d buffers all zero (sync_zeroed +%llu MiB)",
	       n, (unsigned long long)((s0.sync_zeroed_bytes - s1.sync_zeroed_bytes) / MIB));
	free_all(fd, parts, maps, n);
out:
	n = co_set_param("prezero", 1) == 0 && wait_clean(fd, node0, &s0, &ms);
	tap_ok(n,
	       "prezero=1: node %u clean again after %llu ms", node0,
	       (unsigned long long)ms);
}

/* A fills node0 with PAT_A and frees it; B takes it all and reads zeros. */
static void race_round(int fa, int fb, unsigned int round, uint64_t *seen,
		       uint64_t *clean_b, int *consistent)
{
	static struct carveout_alloc pa[MAX_PARTS], pb[MAX_PARTS];
	static unsigned char *ma[MAX_PARTS], *mb[MAX_PARTS];
	struct carveout_stats s0, s1;
	unsigned int seed = round * 7919 + 1;
	uint64_t total = 0;
	int na, nb, i;

	na = take_all(fa, pa, ma, 16 * MIB, &seed);
	for (i = 0; i < na; i++)
		memset(ma[i], PAT_A ^ round, pa[i].granted);
	free_all(fa, pa, ma, na);
	co_stats(fb, node0, &s0);
	if (s0.free_bytes != s0.region_bytes ||
	    (pieces0 == 1 && !(s0.region_bytes & (s0.region_bytes - 1)) &&
	     s0.largest_free != s0.region_bytes))
		*consistent = 0;
	nb = take_all(fb, pb, mb, 16 * MIB, &seed);
	co_stats(fb, node0, &s1);
	for (i = 0; i < nb; i++) {
		total += pb[i].granted;
		if (first_not(mb[i], pb[i].granted, 0) != pb[i].granted)
			(*seen)++;
		memset(mb[i], PAT_B, pb[i].granted);
	}
	*clean_b += total - (s1.sync_zeroed_bytes - s0.sync_zeroed_bytes);
	free_all(fb, pb, mb, nb);
}

static void test_race(void)
{
	uint64_t seen = 0, clean_b = 0;
	int fa = co_open(), fb = co_open(), consistent = 1;
	unsigned int r;

	if (!tap_ok(fa >= 0 && fb >= 0, "two owners open %s", CO_DEV))
		return;
	for (r = 0; r < RACE_ROUNDS; r++)
		race_round(fa, fb, r, &seen, &clean_b, &consistent);
	tap_ok(consistent,
	       "right after each free, STATS shows node %u all free and coalesced while it is being zeroed",
	       node0);
	tap_ok(seen == 0,
	       "%d rounds: B's buffers taken while A's freed memory was being zeroed hold only zeros (%llu with other bytes)",
	       RACE_ROUNDS, (unsigned long long)seen);
	tap_diag("B got %llu MiB already clean over %d rounds", (unsigned long long)(clean_b / MIB),
		 RACE_ROUNDS);
	close(fa);
	close(fb);
}

int main(void)
{
	struct carveout_node_info nodes[16];
	struct carveout_info info;
	int fd, nr;

	tap_plan_begin("carveout zeroes freed memory in the background");
	if (getuid() != 0)
		tap_bail("must run as root (module parameters)");
	fd = co_open();
	nr = fd < 0 ? -1 : co_nodes(fd, nodes, 16);
	if (nr < 1)
		tap_bail("cannot open %s or no region", CO_DEV);
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (ioctl(fd, CARVEOUT_IOC_INFO, &info))
		tap_bail("INFO: %s", strerror(errno));
	tap_ok(info.caps & CARVEOUT_CAP_PREZERO, "INFO reports CARVEOUT_CAP_PREZERO");
	node0 = nodes[0].node;
	pieces0 = nodes[0].nr_pieces;

	test_idle(fd, nodes, nr);
	test_served_clean(fd, nodes[0].region_bytes / 4 & ~(MIB - 1));
	test_prezero_off(fd);
	test_race();
	co_check_all_free(fd, nodes, nr);
	close(fd);
	return tap_finish();
}
