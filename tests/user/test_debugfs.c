// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs listings that walk many objects (buffers, node<N>/freemap,
 * node<N>/slabinfo) are read with a cursor, a chunk at a time: read in
 * small pieces they list every object exactly once and agree with a read
 * in one go, and a buffer made after the first chunk was read still shows
 * up in a later chunk (the walk is not a snapshot taken, under a global
 * lock, by the first read()).
 *
 * The buffer registry is sharded per CPU and a listing walks the shards in
 * CPU order, ids increasing within each; so that the new buffer lands after
 * the position the walk has reached, the test stays on one CPU: its
 * buffers share a shard, where a new id sorts after the older ones.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>

#include "co_test.h"
#include "tap.h"

#define DBG		"/sys/kernel/debug/carveout/"
#define NR_BUFS		3000
#define NR_FILES	3

static uint32_t node0;

/* The whole file, read @chunk bytes per read(); NUL-terminated. */
static char *slurp(const char *path, size_t chunk, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *s = malloc(cap + 1);
	ssize_t r;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !s) {
		free(s);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		if (n + chunk > cap) {
			cap = 2 * (n + chunk);
			s = realloc(s, cap + 1);
			if (!s)
				break;
		}
		r = read(fd, s + n, chunk);
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	if (s) {
		s[n] = 0;
		*len = n;
	}
	return s;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Handles of this process's buffers in a "buffers" listing, sorted. */
static unsigned int listed_handles(const char *s, uint32_t *out,
				   unsigned int max)
{
	unsigned int n = 0, handle;
	const char *line;
	int node, pid;

	for (line = s; line && *line; line = strchr(line, '\n'), line += !!line) {
		if (sscanf(line, "%u %d %*s %*s %*s %*s %d", &handle, &node,
			   &pid) == 3 && pid == getpid() && n < max)
			out[n++] = handle;
	}
	qsort(out, n, sizeof(*out), cmp_u32);
	return n;
}

static unsigned int dups(const uint32_t *v, unsigned int n)
{
	unsigned int i, d = 0;

	for (i = 1; i < n; i++)
		d += v[i] == v[i - 1];
	return d;
}

static uint32_t mine[NR_BUFS + 1], seen[2 * NR_BUFS];

static void test_buffers_chunked(int fd)
{
	static const size_t chunks[] = { 13, 61, 4096 };
	struct carveout_alloc a;
	unsigned int i, n = 0, got;
	size_t len;
	char *s;

	for (i = 0; i < NR_BUFS; i++) {
		if (co_alloc(fd, 64, CARVEOUT_POLICY_STRICT, node0, 0, &a))
			break;
		mine[n++] = a.handle;
	}
	if (!tap_ok(n == NR_BUFS, "%u sub-page buffers allocated", n))
		return;
	qsort(mine, n, sizeof(*mine), cmp_u32);
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		s = slurp(DBG "buffers", chunks[i], &len);
		if (!tap_ok(s != NULL, "read buffers %zu bytes at a time",
			    chunks[i]))
			continue;
		got = listed_handles(s, seen, 2 * NR_BUFS);
		tap_ok(got == n && !dups(seen, got) &&
		       !memcmp(seen, mine, n * sizeof(*mine)),
		       "%zu-byte reads: each of the %u buffers listed once (%u lines, %u twice, %zu bytes)",
		       chunks[i], n, got, dups(seen, got), len);
		free(s);
	}
}

/*
 * A buffer made after the first chunk was read is in a later chunk.  The
 * oldest buffer of the first test goes first, leaving a free place at the
 * start of this CPU's shard, behind where the first chunk leaves the walk:
 * a new buffer given that place would be missed.
 */
static void test_buffers_live(int fd)
{
	struct carveout_alloc a;
	char first[4096], *rest = NULL, line[64];
	size_t cap = 0, n = 0;
	ssize_t r;
	int dfd, ok;

	tap_ok(co_free(fd, mine[0]) == 0,
	       "FREE the oldest buffer (handle %u): a free place the walk passes",
	       mine[0]);
	dfd = open(DBG "buffers", O_RDONLY);
	if (!tap_ok(dfd >= 0, "open buffers"))
		return;
	r = read(dfd, first, sizeof(first));
	tap_ok(r > 0 && r <= (ssize_t)sizeof(first), "read its first chunk");
	ok = co_alloc(fd, 64, CARVEOUT_POLICY_STRICT, node0, 0, &a) == 0;
	tap_ok(ok, "ALLOC one more buffer while the listing is open");
	do {
		if (n + 65536 > cap) {
			cap = 2 * (n + 65536);
			rest = realloc(rest, cap + 1);
			if (!rest)
				break;
		}
		r = read(dfd, rest + n, 65536);
		n += r > 0 ? r : 0;
	} while (r > 0);
	close(dfd);
	if (!rest)
		return;
	rest[n] = 0;
	/* Its line: the handle, then the node, in the first two columns. */
	snprintf(line, sizeof(line), "\n%6u  %4u  ", a.handle, node0);
	tap_ok(ok && strstr(rest, line) != NULL,
	       "the new buffer (handle %u) shows up later in the same listing",
	       a.handle);
	free(rest);
	if (ok)
		co_free(fd, a.handle);
}

struct blk {
	unsigned long long pfn;
	unsigned int order;
};

static int cmp_blk(const void *a, const void *b)
{
	const struct blk *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

/*
 * Pages in the free blocks of a freemap listing; *@bad counts lines that
 * do not parse, blocks not aligned to their order and overlapping blocks.
 */
static uint64_t freemap_pages(const char *s, unsigned int *bad)
{
	struct blk *b = NULL;
	unsigned int n = 0, cap = 0, i;
	const char *line;
	uint64_t pages = 0;

	*bad = 0;
	for (line = s; line && *line; line = strchr(line, '\n'), line += !!line) {
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			b = realloc(b, cap * sizeof(*b));
			if (!b) {
				(*bad)++;
				return 0;
			}
		}
		if (sscanf(line, "%llx %u", &b[n].pfn, &b[n].order) != 2 ||
		    b[n].order > 40 || b[n].pfn & ((1ULL << b[n].order) - 1)) {
			(*bad)++;
			continue;
		}
		pages += 1ULL << b[n].order;
		n++;
	}
	qsort(b, n, sizeof(*b), cmp_blk);
	for (i = 1; i < n; i++)
		if (b[i - 1].pfn + (1ULL << b[i - 1].order) > b[i].pfn)
			(*bad)++;
	free(b);
	return pages;
}

/*
 * Two reads of the free map, one in a single read() and one 7 bytes at a
 * time, with STATS before and after.  Memory held back for an outside
 * reference returns in the background (co_buffer.c), so a read is taken
 * again, up to 5 times, while free_bytes moved under it.
 */
static void test_freemap(int fd)
{
	struct carveout_stats st, st2;
	char path[96], *one = NULL, *small = NULL;
	size_t l1 = 0, l2 = 0;
	unsigned int bad, tries = 0;
	uint64_t pages;
	int ok;

	snprintf(path, sizeof(path), DBG "node%u/freemap", node0);
	do {
		free(one);
		free(small);
		ok = co_stats(fd, node0, &st) == 0;
		one = slurp(path, 1 << 20, &l1);
		small = slurp(path, 7, &l2);
		ok = ok && co_stats(fd, node0, &st2) == 0;
	} while (ok && st.free_bytes != st2.free_bytes && ++tries < 5);
	if (!tap_ok(ok && one && small,
		    "STATS and %s, read in one go and 7 bytes at a time (%u retries)",
		    path, tries) ||
	    !tap_ok(st.free_bytes == st2.free_bytes,
		    "free_bytes held still over the reads")) {
		free(one);
		free(small);
		return;
	}
	tap_ok(l1 == l2 && !strcmp(one, small),
	       "both reads list the same blocks (%zu and %zu bytes)", l1, l2);
	pages = freemap_pages(small, &bad);
	tap_ok(bad == 0, "blocks aligned to their order, none overlapping (%u not)",
	       bad);
	tap_ok(pages * 4096 == st.free_bytes,
	       "the blocks add up to STATS free_bytes (%llu vs %llu)",
	       (unsigned long long)pages * 4096,
	       (unsigned long long)st.free_bytes);
	free(one);
	free(small);
}

/* Lines of this process in a slabinfo listing. */
static unsigned int slab_lines(const char *s)
{
	const char *line;
	unsigned int n = 0;
	int pid;

	for (line = s; line && *line; line = strchr(line, '\n'), line += !!line)
		if (*line != '#' && sscanf(line, "%d", &pid) == 1 &&
		    pid == getpid())
			n++;
	return n;
}

static void test_slabinfo(void)
{
	static const unsigned int sizes[] = { 64, 256 };
	struct carveout_alloc a;
	int fds[NR_FILES], i, j, made = 0;
	char path[96], *one, *small;
	size_t l1, l2;

	for (i = 0; i < NR_FILES; i++) {
		fds[i] = co_open();
		for (j = 0; j < 2; j++)
			made += fds[i] >= 0 &&
				co_alloc(fds[i], sizes[j], CARVEOUT_POLICY_STRICT,
					 node0, 0, &a) == 0;
	}
	tap_ok(made == 2 * NR_FILES, "%d files with 64 and 256 byte objects",
	       NR_FILES);
	snprintf(path, sizeof(path), DBG "node%u/slabinfo", node0);
	one = slurp(path, 1 << 20, &l1);
	small = slurp(path, 5, &l2);
	if (tap_ok(one && small, "read %s in one go and 5 bytes at a time",
		   path)) {
		tap_ok(l1 == l2 && !strcmp(one, small),
		       "both reads agree (%zu and %zu bytes)", l1, l2);
		/* The 3000 objects of the first test's file count too. */
		tap_ok(slab_lines(small) == 2 * NR_FILES + 1,
		       "one line per file and size class (%u)",
		       slab_lines(small));
	}
	free(one);
	free(small);
	for (i = 0; i < NR_FILES; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int main(void)
{
	struct carveout_node_info nodes[8];
	cpu_set_t cpus;
	int fd, nr;

	tap_plan_begin("debugfs listings read with a cursor");
	fd = co_open();
	if (fd < 0)
		tap_bail("open " CO_DEV ": %s", strerror(errno));
	nr = co_nodes(fd, nodes, 8);
	if (nr <= 0)
		tap_bail("no node with a region");
	node0 = nodes[0].node;
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	tap_ok(sched_setaffinity(0, sizeof(cpus), &cpus) == 0,
	       "stay on CPU %d", sched_getcpu());
	test_buffers_chunked(fd);
	test_buffers_live(fd);
	test_freemap(fd);
	test_slabinfo();
	close(fd);
	fd = co_open();
	co_check_all_free(fd, nodes, nr);
	close(fd);
	return tap_finish();
}
