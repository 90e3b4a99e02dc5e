// SPDX-License-Identifier: GPL-2.0
/*
 * test_elastic: regions that grow above their floor and shrink back.
 *
 * On the first node, with RESIZE (ceiling = floor + 64 MiB, 4 MiB pieces):
 * - RESIZE's errors: EPERM without CAP_SYS_ADMIN, EINVAL for a ceiling
 *   below the floor, crossed watermarks or unknown flags, ENODEV.
 * - Growth on demand: with the floor full, the next allocation succeeds
 *   by growing the region (grow_count, region_bytes); allocations go on
 *   until the ceiling, never past it, and the failure says why; the
 *   memory is usable (a pattern written and read back); free memory
 *   (MemFree plus the per-CPU free lists) shows the growth.
 * - Shrink when idle: once everything is freed the region goes back to
 *   its floor by itself (shrink_count, shrink_bytes) and free memory
 *   shows it.
 * - A pinned freed buffer (pages in a pipe by vmsplice) keeps its piece:
 *   a forced shrink leaves it; once the pipe is closed it goes.
 * - Shrink under memory pressure: with the idle delay out of reach, a
 *   memory hog (a child touching anonymous memory past MemFree) makes the
 *   kernel's shrinker take the free pieces back.
 * - The floor is never given back (forced shrinks, the hog); raising it
 *   takes pieces, lowering it makes them elastic and they go back.
 * - Stress: threads allocating, writing, mapping, checking and freeing
 *   while another thread resizes and forces shrinks; no byte of a live
 *   buffer changes; afterwards every byte is free and the region is at
 *   its floor.
 *
 * Waits for the region to change have a generous bound (no timing is
 * asserted).  Runs as root; restores the node's limits at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "co_test.h"

#define MiB		(1024ULL * 1024)
#define GROW		(64 * MiB)
#define CHUNK		(4 * MiB)
#define MAX_BUFS	256

static int fd;
static uint32_t node;
static struct carveout_stats st0;

static int resize(uint32_t flags, uint64_t floor, uint64_t ceiling,
		  struct carveout_resize *out)
{
	struct carveout_resize r;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.flags = flags;
	r.node = node;
	r.floor = floor;
	r.ceiling = ceiling;
	r.piece_bytes = CHUNK;
	r.shrink_delay_ms = 300;
	if (flags & CARVEOUT_RESIZE_WMARKS)
		r.low_wmark = r.high_wmark = 0;
	if (ioctl(fd, CARVEOUT_IOC_RESIZE, &r))
		return -1;
	if (out)
		*out = r;
	return 0;
}

static int set_delay(uint32_t ms)
{
	struct carveout_resize r;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.flags = CARVEOUT_RESIZE_DELAY;
	r.node = node;
	r.shrink_delay_ms = ms;
	return ioctl(fd, CARVEOUT_IOC_RESIZE, &r);
}

static int force_shrink(void)
{
	return resize(CARVEOUT_RESIZE_SHRINK, 0, 0, NULL);
}

static struct carveout_stats stats(void)
{
	struct carveout_stats s;

	if (co_stats(fd, node, &s))
		memset(&s, 0, sizeof(s));
	return s;
}

/* Pages on the per-CPU free lists (kB), from /proc/zoneinfo: not in MemFree. */
static long pcp_kb(void)
{
	char line[256];
	long sum = 0, v;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %ld", &v) == 1)
			sum += v;
	fclose(f);
	return sum * 4;
}

/* Wait (at most @secs) until the region is back at its floor. */
static int wait_floor(int secs)
{
	struct carveout_stats s;
	int i;

	for (i = 0; i < secs * 10; i++) {
		s = stats();
		if (s.region_bytes == s.floor_bytes)
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}

struct bufs {
	struct carveout_alloc a[MAX_BUFS];
	uint64_t ns[MAX_BUFS];	/* how long each ALLOC took */
	int n;
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* Figures for the README, never asserted: ALLOC from the floor vs growing. */
static void report_latency(const struct bufs *b, uint64_t grew_at)
{
	uint64_t floor_sum = 0, grow_sum = 0;
	int i, nf = 0, ng = 0;

	for (i = 0; i < b->n; i++) {
		if (i + 1 < (int)grew_at) {
			floor_sum += b->ns[i];
			nf++;
		} else {
			grow_sum += b->ns[i];
			ng++;
		}
	}
	if (nf && ng)
		tap_diag("ALLOC 4 MiB: %llu us from the floor, %llu us growing by a piece (means of %d and %d; TCG)",
			 (unsigned long long)(floor_sum / nf / 1000),
			 (unsigned long long)(grow_sum / ng / 1000), nf, ng);
}

/* Allocate CHUNKs on the node until it fails; returns the errno. */
static int fill(struct bufs *b, uint64_t *grew_at)
{
	struct carveout_stats s;

	uint64_t t;

	*grew_at = 0;
	while (b->n < MAX_BUFS) {
		t = now_ns();
		if (co_alloc(fd, CHUNK, CARVEOUT_POLICY_STRICT, node,
			     CARVEOUT_ALLOC_PAGES, &b->a[b->n]))
			return errno;
		b->ns[b->n] = now_ns() - t;
		b->n++;
		s = stats();
		if (!*grew_at && s.region_bytes > st0.floor_bytes)
			*grew_at = b->n;
	}
	return 0;
}

static void drain(struct bufs *b)
{
	while (b->n)
		co_free(fd, b->a[--b->n].handle);
}

static void test_errors(void)
{
	struct carveout_resize r;
	pid_t pid;
	int st;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.node = node;
	r.flags = 0x1000;
	tap_errno(ioctl(fd, CARVEOUT_IOC_RESIZE, &r), EINVAL,
		  "RESIZE with an unknown flag");
	tap_errno(resize(CARVEOUT_RESIZE_CEILING, 0, st0.floor_bytes - MiB,
			 NULL), EINVAL, "RESIZE: a ceiling below the floor");
	r.flags = CARVEOUT_RESIZE_WMARKS;
	r.low_wmark = 8 * MiB;
	r.high_wmark = 4 * MiB;
	tap_errno(ioctl(fd, CARVEOUT_IOC_RESIZE, &r), EINVAL,
		  "RESIZE: low watermark above the high one");
	r.flags = 0;
	r.node = 999;
	tap_errno(ioctl(fd, CARVEOUT_IOC_RESIZE, &r), ENODEV,
		  "RESIZE of a node without a region");
	pid = fork();
	if (!pid) {
		r.node = node;
		if (setuid(65534))
			_exit(2);
		_exit(ioctl(fd, CARVEOUT_IOC_RESIZE, &r) == -1 &&
		      errno == EPERM ? 0 : 1);
	}
	tap_ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	       !WEXITSTATUS(st), "RESIZE without CAP_SYS_ADMIN: EPERM");
}

static void test_grow_shrink(void)
{
	struct bufs *b = calloc(1, sizeof(*b));
	struct carveout_stats s;
	long base, peak, after, grown_kb;
	uint64_t grew_at, t0;
	int err, ok = 1, i;
	char *p;

	base = co_memfree_settled() + pcp_kb();
	err = fill(b, &grew_at);
	s = stats();
	tap_ok(grew_at > 0 && s.grow_count > st0.grow_count,
	       "growth on demand: allocation %llu of %llu MiB grew the region (grow_count %llu)",
	       (unsigned long long)grew_at,
	       (unsigned long long)(CHUNK / MiB),
	       (unsigned long long)s.grow_count);
	tap_ok(err == ENOMEM && s.region_bytes <= s.ceiling_bytes &&
	       s.region_bytes > st0.floor_bytes,
	       "filled to %llu MiB (floor %llu, ceiling %llu), then ENOMEM (%s)",
	       (unsigned long long)(s.region_bytes / MiB),
	       (unsigned long long)(s.floor_bytes / MiB),
	       (unsigned long long)(s.ceiling_bytes / MiB), strerror(err));
	tap_ok(s.last_fail == CARVEOUT_GROW_FAIL_CEILING ||
	       s.last_fail == CARVEOUT_GROW_FAIL_CONTIG,
	       "the failure says why: %s",
	       s.last_fail == CARVEOUT_GROW_FAIL_CEILING ? "at the ceiling" :
	       s.last_fail == CARVEOUT_GROW_FAIL_CONTIG ?
	       "no contiguous memory" : "?");
	report_latency(b, grew_at);
	tap_diag("grown by %llu MiB in %llu pieces; %llu MiB granted",
		 (unsigned long long)((s.region_bytes - s.floor_bytes) / MiB),
		 (unsigned long long)s.nr_elastic,
		 (unsigned long long)(s.granted_bytes / MiB));
	p = b->n ? co_mmap(fd, &b->a[b->n - 1]) : NULL;
	if (p) {
		memset(p, 0x5a, CHUNK);
		ok = p[0] == 0x5a && p[CHUNK - 1] == 0x5a;
		munmap(p, CHUNK);
	}
	tap_ok(p && ok, "the last buffer (above the floor) holds what was written");
	peak = co_memfree_settled() + pcp_kb();
	tap_ok(peak <= base - (long)((s.region_bytes - st0.floor_bytes) >> 10) +
	       16384,
	       "free memory shows the growth: %ld kB -> %ld kB (grown %llu kB)",
	       base, peak,
	       (unsigned long long)((s.region_bytes - st0.floor_bytes) >> 10));
	grown_kb = (long)((s.region_bytes - st0.floor_bytes) >> 10);
	drain(b);
	t0 = now_ns();
	tap_ok(wait_floor(60), "idle: back at the floor by itself");
	tap_diag("back at the floor %llu ms after the last free (idle delay 300 ms)",
		 (unsigned long long)((now_ns() - t0) / 1000000));
	s = stats();
	tap_ok(s.shrink_count > st0.shrink_count &&
	       s.shrink_bytes - st0.shrink_bytes >= s.grow_bytes - st0.grow_bytes,
	       "shrink history: %llu pieces, %llu MiB given back",
	       (unsigned long long)(s.shrink_count - st0.shrink_count),
	       (unsigned long long)((s.shrink_bytes - st0.shrink_bytes) / MiB));
	/*
	 * Free memory is MemFree plus the per-CPU free lists: 6.1 keeps
	 * tens of MiB of a large free_contig_range() there.  Pages freed late
	 * (RCU, deferred frees) come back within seconds.
	 */
	for (i = 0; i < 10; i++) {
		after = co_memfree_settled() + pcp_kb();
		if (after - peak >= grown_kb - 16384)
			break;
	}
	tap_ok(after - peak >= grown_kb - 16384,
	       "free memory (MemFree + per-CPU lists) shows the give-back: %ld kB -> %ld kB (%ld kB given back; %ld kB before the burst)",
	       peak, after, grown_kb, base);
	tap_ok(s.free_bytes == s.region_bytes, "everything free on the node");
	free(b);
}

/* Grow by at least one piece and free it all again; returns the growth. */
static uint64_t grow_then_free(void)
{
	struct bufs *b = calloc(1, sizeof(*b));
	uint64_t grew_at, grown;

	fill(b, &grew_at);
	grown = stats().region_bytes - st0.floor_bytes;
	drain(b);
	free(b);
	return grown;
}

static void test_pinned(void)
{
	struct bufs *b = calloc(1, sizeof(*b));
	struct carveout_alloc last;
	uint64_t grew_at;
	struct iovec iov;
	int pfd[2] = { -1, -1 };
	ssize_t n;
	char *p;

	/* The buffer that grew the region sits on an elastic piece. */
	while (b->n < MAX_BUFS && !co_alloc(fd, CHUNK, CARVEOUT_POLICY_STRICT,
					   node, CARVEOUT_ALLOC_PAGES,
					   &b->a[b->n])) {
		b->n++;
		if (stats().region_bytes > st0.floor_bytes)
			break;
	}
	grew_at = stats().region_bytes > st0.floor_bytes;
	if (!tap_ok(grew_at && b->n, "a buffer above the floor")) {
		drain(b);
		free(b);
		return;
	}
	last = b->a[--b->n];
	p = co_mmap(fd, &last);
	tap_ok(p && pipe(pfd) == 0, "map it, make a pipe");
	iov.iov_base = p;
	iov.iov_len = 4096;
	n = p ? vmsplice(pfd[1], &iov, 1, SPLICE_F_NONBLOCK) : -1;
	tap_ok(n == 4096, "vmsplice a page of it into the pipe");
	if (p)
		munmap(p, CHUNK);
	co_free(fd, last.handle);
	drain(b);
	force_shrink();
	tap_ok(stats().region_bytes > st0.floor_bytes,
	       "freed but pinned: a forced shrink keeps its piece (%llu MiB above the floor)",
	       (unsigned long long)((stats().region_bytes - st0.floor_bytes) / MiB));
	close(pfd[0]);
	close(pfd[1]);
	/* The held memory comes back asynchronously (co_buffer.c). */
	for (n = 0; n < 100 && stats().region_bytes > st0.floor_bytes; n++) {
		force_shrink();
		usleep(100 * 1000);
	}
	tap_ok(stats().region_bytes == st0.floor_bytes,
	       "pipe closed: the piece goes back");
	free(b);
}

static void test_pressure(void)
{
	struct carveout_stats s, t;
	uint64_t grown;
	long target;
	pid_t pid;
	int st;

	set_delay(3600 * 1000);
	grown = grow_then_free();
	s = stats();
	if (!tap_ok(grown > 0 && s.region_bytes > s.floor_bytes,
		    "grown by %llu MiB, all free, idle give-back out of reach",
		    (unsigned long long)(grown / MiB)))
		goto out;
	target = co_memfree_settled() + (long)(grown >> 11);
	pid = fork();
	if (!pid) {
		long done;
		char *m;

		/* Until the region shrinks, at most MemFree + grown / 2. */
		for (done = 0; done < target; done += 4096) {
			m = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m == MAP_FAILED)
				_exit(1);
			memset(m, 1, 4 * MiB);
			if (stats().region_bytes < s.region_bytes)
				_exit(0);
		}
		_exit(3);
	}
	tap_ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	       !WEXITSTATUS(st),
	       "a memory hog touching anonymous memory (up to %ld MiB) saw the region shrink (status %#x)",
	       target >> 10, st);
	t = stats();
	tap_ok(t.shrink_count > s.shrink_count && t.region_bytes < s.region_bytes,
	       "under pressure the shrinker gave %llu MiB back",
	       (unsigned long long)((s.region_bytes - t.region_bytes) / MiB));
	tap_ok(t.region_bytes >= t.floor_bytes &&
	       t.floor_bytes == st0.floor_bytes,
	       "the floor stayed (%llu MiB)",
	       (unsigned long long)(t.floor_bytes / MiB));
out:
	set_delay(300);
	force_shrink();
}

static void test_floor(void)
{
	struct carveout_resize r;
	struct carveout_stats s;
	int ret;

	force_shrink();
	tap_ok(stats().region_bytes == st0.floor_bytes,
	       "a forced shrink leaves the floor (%llu MiB)",
	       (unsigned long long)(st0.floor_bytes / MiB));
	ret = resize(CARVEOUT_RESIZE_FLOOR, st0.floor_bytes + 8 * MiB, 0, &r);
	tap_ok(!ret && r.floor >= st0.floor_bytes + 8 * MiB,
	       "raise the floor by 8 MiB: floor %llu MiB, region %llu MiB",
	       (unsigned long long)(r.floor / MiB),
	       (unsigned long long)(r.region_bytes / MiB));
	force_shrink();
	s = stats();
	tap_ok(s.region_bytes == r.floor && s.floor_bytes == r.floor,
	       "a forced shrink keeps the raised floor");
	ret = resize(CARVEOUT_RESIZE_FLOOR, st0.floor_bytes, 0, &r);
	tap_ok(!ret && r.floor == st0.floor_bytes && r.region_bytes > r.floor,
	       "lower it again: floor %llu MiB, region %llu MiB",
	       (unsigned long long)(r.floor / MiB),
	       (unsigned long long)(r.region_bytes / MiB));
	tap_ok(wait_floor(60) && stats().region_bytes == st0.floor_bytes,
	       "the pieces above the lowered floor go back");
}

struct worker {
	pthread_t t;
	unsigned int seed;
	int bad;
	int allocs;
};

static volatile int stop;

static void *stress_worker(void *arg)
{
	struct worker *w = arg;
	struct carveout_alloc a[8];
	unsigned char *p[8];
	int i, k;

	memset(p, 0, sizeof(p));
	while (!stop) {
		for (i = 0; i < 8; i++) {
			uint64_t len = (1 + rand_r(&w->seed) % 512) * 4096ULL;

			p[i] = NULL;
			if (co_alloc(fd, len, CARVEOUT_POLICY_STRICT, node,
				     CARVEOUT_ALLOC_PAGES, &a[i]))
				continue;
			w->allocs++;
			p[i] = co_mmap(fd, &a[i]);
			if (p[i])
				memset(p[i], i + 1, len);
		}
		for (i = 0; i < 8; i++) {
			if (!p[i])
				continue;
			for (k = 0; k < (int)a[i].length; k += 4096)
				if (p[i][k] != i + 1)
					w->bad++;
			munmap(p[i], (a[i].length + 4095) & ~4095ULL);
			co_free(fd, a[i].handle);
		}
	}
	return NULL;
}

static void test_stress(void)
{
	struct worker w[3];
	struct carveout_stats s;
	int i, bad = 0, allocs = 0, rounds;

	stop = 0;
	for (i = 0; i < 3; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].seed = i + 1;
		pthread_create(&w[i].t, NULL, stress_worker, &w[i]);
	}
	for (rounds = 0; rounds < 60; rounds++) {
		resize(CARVEOUT_RESIZE_CEILING, 0, st0.floor_bytes +
		       (rounds & 1 ? GROW : GROW / 2), NULL);
		force_shrink();
		usleep(50 * 1000);
	}
	stop = 1;
	for (i = 0; i < 3; i++) {
		pthread_join(w[i].t, NULL);
		bad += w[i].bad;
		allocs += w[i].allocs;
	}
	s = stats();
	tap_ok(bad == 0, "stress: %d allocations by 3 threads during 60 resizes and forced shrinks, no byte changed",
	       allocs);
	tap_diag("stress: grown %llu times, given back %llu times",
		 (unsigned long long)(s.grow_count - st0.grow_count),
		 (unsigned long long)(s.shrink_count - st0.shrink_count));
	resize(CARVEOUT_RESIZE_CEILING, 0, st0.floor_bytes + GROW, NULL);
	force_shrink();
	s = stats();
	tap_ok(s.free_bytes == s.region_bytes &&
	       s.region_bytes == st0.floor_bytes,
	       "after the stress: every byte free, region at its floor");
}

int main(void)
{
	struct carveout_node_info nodes[8];
	struct carveout_info info;

	tap_plan_begin("carveout elastic regions: growth, shrink, floor");
	fd = co_open();
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (fd < 0 || ioctl(fd, CARVEOUT_IOC_INFO, &info) ||
	    !(info.caps & CARVEOUT_CAP_ELASTIC)) {
		tap_skip("no CARVEOUT_CAP_ELASTIC", "elastic regions");
		return tap_finish();
	}
	if (co_nodes(fd, nodes, 8) < 1)
		tap_bail("no node");
	node = nodes[0].node;
	tap_ok(info.floor_bytes <= info.total_bytes &&
	       info.total_bytes <= info.ceiling_bytes,
	       "INFO: floor %llu <= size %llu <= ceiling %llu",
	       (unsigned long long)info.floor_bytes,
	       (unsigned long long)info.total_bytes,
	       (unsigned long long)info.ceiling_bytes);
	st0 = stats();
	tap_ok(st0.region_bytes == st0.floor_bytes,
	       "node %u starts at its floor, %llu MiB", node,
	       (unsigned long long)(st0.floor_bytes / MiB));
	test_errors();
	tap_ok(resize(CARVEOUT_RESIZE_CEILING | CARVEOUT_RESIZE_PIECE |
		      CARVEOUT_RESIZE_DELAY | CARVEOUT_RESIZE_WMARKS, 0,
		      st0.floor_bytes + GROW, NULL) == 0,
	       "RESIZE: ceiling = floor + %llu MiB, %llu MiB pieces, 300 ms idle delay",
	       GROW / MiB, CHUNK / MiB);
	st0 = stats();
	test_grow_shrink();
	test_pinned();
	test_pressure();
	test_floor();
	test_stress();
	tap_ok(resize(CARVEOUT_RESIZE_CEILING | CARVEOUT_RESIZE_SHRINK |
		      CARVEOUT_RESIZE_DELAY, 0, st0.floor_bytes, NULL) == 0 &&
	       stats().region_bytes == st0.floor_bytes,
	       "restore: ceiling = floor, region at its floor");
	set_delay(1000);
	close(fd);
	return tap_finish();
}
