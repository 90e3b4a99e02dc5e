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
 * - Why growth failed, each case provoked: at the ceiling, and with no
 *   contiguous range as large as the piece needed (larger than the
 *   node's memory); ALLOC says ENOMEM for both, STATS' last_fail and a
 *   kernel log line say which.
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
 * - Stress with DMA: the floor taken whole, so every later buffer lives
 *   in a grown piece; two threads let QEMU's edu device DMA between such
 *   buffers through the IOMMU (carveout's MAP) and into a buffer that
 *   stays mapped for edu throughout, checking every byte each round,
 *   while a thread allocates up to the ceiling and frees (growth, then
 *   idle give-back), another allocates, maps and checks, and the main
 *   thread moves the ceiling and forces shrinks.  Without edu: a skip.
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

#include "co_edu_user.h"
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

/* /dev/kmsg positioned at its end; -1 when it cannot be read. */
static int kmsg_open(void)
{
	int k = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (k >= 0)
		lseek(k, 0, SEEK_END);
	return k;
}

/* Whether a kernel message since kmsg_open() holds @a and then @b. */
static int kmsg_has(int k, const char *a, const char *b)
{
	char rec[2048];
	const char *p;
	ssize_t len;

	for (;;) {
		len = read(k, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;
		if (len <= 0)
			return 0;
		rec[len] = 0;
		p = strstr(rec, a);
		if (p && strstr(p, b))
			return 1;
	}
}

/*
 * Growth's two failures, each provoked: ALLOC says ENOMEM for both (as it
 * always did); STATS' last_fail and the kernel log say which.
 */
static void test_why(void)
{
	struct bufs *b = calloc(1, sizeof(*b));
	struct carveout_stats s0, s;
	struct carveout_alloc a;
	uint64_t grew_at, big = 768 * MiB;
	int k, err, ret;
	char msg[64];

	/* At the ceiling: room for two pieces above the floor, then none. */
	resize(CARVEOUT_RESIZE_CEILING, 0, st0.floor_bytes + 2 * CHUNK, NULL);
	k = kmsg_open();
	s0 = stats();
	err = b ? fill(b, &grew_at) : ENOMEM;
	s = stats();
	tap_ok(err == ENOMEM && s.region_bytes == s.ceiling_bytes &&
	       s.grow_fail_count > s0.grow_fail_count &&
	       s.last_fail == CARVEOUT_GROW_FAIL_CEILING &&
	       s.last_fail_bytes == CHUNK,
	       "at the ceiling (%llu MiB): ALLOC fails with %s; STATS: last_fail %u (\"at the ceiling\"), %llu KiB wanted, %llu failed growths",
	       (unsigned long long)(s.ceiling_bytes / MiB), strerror(err),
	       s.last_fail, (unsigned long long)(s.last_fail_bytes >> 10),
	       (unsigned long long)(s.grow_fail_count - s0.grow_fail_count));
	snprintf(msg, sizeof(msg), "node %u: cannot grow", node);
	tap_ok(k >= 0 && kmsg_has(k, msg, "at ceiling"),
	       "the kernel log says \"%s ...: at ceiling\"", msg);
	if (b)
		drain(b);
	free(b);
	force_shrink();

	/*
	 * No contiguous memory: room under the ceiling, but the piece it
	 * needs (1 GiB, a power of two) is larger than any range the page
	 * allocator has on the node.
	 */
	resize(CARVEOUT_RESIZE_CEILING, 0, st0.floor_bytes + 2048 * MiB, NULL);
	s0 = stats();
	ret = co_alloc(fd, big, CARVEOUT_POLICY_STRICT, node,
		       CARVEOUT_ALLOC_PAGES, &a);
	err = ret ? errno : 0;
	s = stats();
	tap_ok(ret == -1 && err == ENOMEM && s.region_bytes == st0.floor_bytes &&
	       s.grow_fail_count > s0.grow_fail_count &&
	       s.last_fail == CARVEOUT_GROW_FAIL_CONTIG,
	       "%llu MiB below a ceiling of %llu MiB: ALLOC fails with %s; STATS: last_fail %u (\"no contiguous memory\"), %llu MiB wanted",
	       (unsigned long long)(big / MiB),
	       (unsigned long long)(s.ceiling_bytes / MiB),
	       ret ? strerror(err) : "success", s.last_fail,
	       (unsigned long long)(s.last_fail_bytes / MiB));
	tap_ok(k >= 0 && kmsg_has(k, msg, "no contiguous memory"),
	       "the kernel log says \"%s ...: no contiguous memory\"", msg);
	if (!ret)
		co_free(fd, a.handle);
	if (k >= 0)
		close(k);
	resize(CARVEOUT_RESIZE_CEILING, 0, st0.floor_bytes + GROW, NULL);
	force_shrink();
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

/* ---- DMA racing growth and shrink ---------------------------------- */

#define DMA_THREADS	2
#define DMA_ROUNDS	6	/* verified rounds per thread */
#define DMA_XFER	2048	/* bytes per transfer (edu's buffer: 4 KiB) */
#define DMA_KEEP	(256 * 1024)
#define MAX_FLOOR	64

static struct co_edu edu;
static pthread_mutex_t edu_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint64_t pfn, nr;
} floor_pieces[MAX_FLOOR];
static int nr_floor_pieces;

/* The floor's pieces (the region is at its floor), from debugfs. */
static int read_floor_pieces(void)
{
	unsigned int nid, i;
	unsigned long pfn, nr;
	char path[96], line[512];
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/carveout/node%u/buddyinfo", node);
	f = fopen(path, "r");
	if (!f)
		return -1;
	nr_floor_pieces = 0;
	while (fgets(line, sizeof(line), f) && nr_floor_pieces < MAX_FLOOR)
		if (sscanf(line, "Node %u, piece %u, pfn %lx+%lu", &nid, &i,
			   &pfn, &nr) == 4) {
			floor_pieces[nr_floor_pieces].pfn = pfn;
			floor_pieces[nr_floor_pieces++].nr = nr;
		}
	fclose(f);
	return nr_floor_pieces ? 0 : -1;
}

/* 1: @va's page is in a floor piece, 0: elsewhere, -1: no frame known. */
static int in_floor(const void *va)
{
	uint64_t pfn = co_virt_to_pfn(va);
	int i;

	if (!pfn)
		return -1;
	for (i = 0; i < nr_floor_pieces; i++)
		if (pfn >= floor_pieces[i].pfn &&
		    pfn < floor_pieces[i].pfn + floor_pieces[i].nr)
			return 1;
	return 0;
}

/* A buffer mapped for the CPU and for edu. */
struct dbuf {
	struct carveout_alloc a;
	uint8_t *p;
	uint64_t iova;
};

static int sync_buf(const struct dbuf *b, uint32_t flags)
{
	struct carveout_sync s;

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.flags = flags;
	s.handle = b->a.handle;
	s.direction = CARVEOUT_DMA_BIDIRECTIONAL;
	s.dma_addr = b->iova;
	return ioctl(fd, CARVEOUT_IOC_SYNC, &s);
}

/*
 * Allocate @len on the node, mmap it, MAP it for edu.  Returns 0, 1 when
 * the node had no room (the ceiling moved, a burst holds it: try again),
 * -1 on any other error (@why says which).
 */
static int dbuf_get(struct dbuf *b, uint64_t len, char *why, size_t n)
{
	struct carveout_map m;

	memset(b, 0, sizeof(*b));
	if (co_alloc(fd, len, CARVEOUT_POLICY_STRICT, node,
		     CARVEOUT_ALLOC_PAGES, &b->a)) {
		if (errno == ENOMEM || errno == ENOSPC)
			return 1;
		snprintf(why, n, "ALLOC %llu: %s", (unsigned long long)len,
			 strerror(errno));
		return -1;
	}
	b->p = (uint8_t *)co_mmap(fd, &b->a);
	if (!b->p) {
		snprintf(why, n, "mmap: %s", strerror(errno));
		co_free(fd, b->a.handle);
		return -1;
	}
	if (co_map(fd, b->a.handle, CO_EDU_PCI, CARVEOUT_DMA_BIDIRECTIONAL,
		   &m)) {
		snprintf(why, n, "MAP for edu: %s", strerror(errno));
		munmap(b->p, b->a.granted);
		co_free(fd, b->a.handle);
		return -1;
	}
	b->iova = m.dma_addr;
	return 0;
}

static void dbuf_put(struct dbuf *b)
{
	co_unmap(fd, b->a.handle, CO_EDU_PCI, b->iova);
	munmap(b->p, b->a.granted);
	co_free(fd, b->a.handle);
}

struct dma_worker {
	pthread_t t;
	unsigned int seed;
	int rounds;	/* rounds whose bytes all checked */
	int nomem;	/* allocations that found no room, retried */
	int grown;	/* buffers in grown pieces */
	int floor;	/* buffers in the floor (the setup failed) */
	int failed;
	char why[192];
};

/* 1 when each of the @len bytes at @p is @v. */
static int all_are(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static void classify(struct dma_worker *w, const struct dbuf *b)
{
	int f = in_floor(b->p), l = in_floor(b->p + b->a.granted - 4096);

	if (f == 0 && l == 0)
		w->grown++;
	else
		w->floor++;
}

/* A round's layout: A's bytes at so go to B at dof and to K at ko. */
struct xfer {
	uint8_t src[DMA_XFER];
	uint32_t so, dof, ko, eo;	/* eo: in edu's buffer */
	uint8_t bv, kv;			/* what fills B and K elsewhere */
};

/* Random offsets and bytes; the destinations hold their complement. */
static void xfer_prepare(struct dma_worker *w, struct xfer *x,
			 const struct dbuf *a, const struct dbuf *b,
			 const struct dbuf *k)
{
	int i;

	x->so = (rand_r(&w->seed) % (a->a.granted - DMA_XFER)) & ~7U;
	x->dof = (rand_r(&w->seed) % (b->a.granted - DMA_XFER)) & ~7U;
	x->ko = (rand_r(&w->seed) % (DMA_KEEP - DMA_XFER)) & ~7U;
	x->eo = (rand_r(&w->seed) % (CO_EDU_XFER_MAX - DMA_XFER)) & ~7U;
	for (i = 0; i < DMA_XFER; i++)
		x->src[i] = rand_r(&w->seed);
	x->bv = rand_r(&w->seed);
	x->kv = rand_r(&w->seed);
	memset(a->p, (uint8_t)~x->bv, a->a.granted);
	memcpy(a->p + x->so, x->src, DMA_XFER);
	memset(b->p, x->bv, b->a.granted);
	memset(k->p, x->kv, DMA_KEEP);
	for (i = 0; i < DMA_XFER; i++) {
		b->p[x->dof + i] = ~x->src[i];
		k->p[x->ko + i] = ~x->src[i];
	}
}

/* A -> edu, edu -> B, edu -> K, with SYNC around; 0 or -1 (@why). */
static int xfer_run(struct dma_worker *w, const struct xfer *x,
		    const struct dbuf *a, const struct dbuf *b,
		    const struct dbuf *k)
{
	int ret, r[3];

	ret = sync_buf(a, CARVEOUT_SYNC_FOR_DEVICE) |
	      sync_buf(b, CARVEOUT_SYNC_FOR_DEVICE) |
	      sync_buf(k, CARVEOUT_SYNC_FOR_DEVICE);
	pthread_mutex_lock(&edu_lock);
	r[0] = co_edu_dma(&edu, a->iova + x->so, x->eo, DMA_XFER, 0);
	r[1] = r[0] ? -1 : co_edu_dma(&edu, b->iova + x->dof, x->eo, DMA_XFER, 1);
	r[2] = r[1] ? -1 : co_edu_dma(&edu, k->iova + x->ko, x->eo, DMA_XFER, 1);
	pthread_mutex_unlock(&edu_lock);
	ret |= sync_buf(b, CARVEOUT_SYNC_FOR_CPU) |
	       sync_buf(k, CARVEOUT_SYNC_FOR_CPU);
	if (!ret && !r[0] && !r[1] && !r[2])
		return 0;
	snprintf(w->why, sizeof(w->why),
		 "round %d: SYNC %d, edu DMA %d/%d/%d (%s)", w->rounds, ret,
		 r[0], r[1], r[2], strerror(errno));
	return -1;
}

/* Every byte of A, B and K as the round left them? 0 or -1 (@why). */
static int xfer_check(struct dma_worker *w, const struct xfer *x,
		      const struct dbuf *a, const struct dbuf *b,
		      const struct dbuf *k)
{
	uint64_t bn = b->a.granted, an = a->a.granted;
	uint8_t av = ~x->bv;

	if (memcmp(b->p + x->dof, x->src, DMA_XFER) ||
	    memcmp(k->p + x->ko, x->src, DMA_XFER)) {
		snprintf(w->why, sizeof(w->why),
			 "round %d: the bytes edu wrote to B+%#x / K+%#x differ from A+%#x",
			 w->rounds, x->dof, x->ko, x->so);
		return -1;
	}
	if (!all_are(b->p, x->dof, x->bv) ||
	    !all_are(b->p + x->dof + DMA_XFER, bn - x->dof - DMA_XFER, x->bv) ||
	    !all_are(k->p, x->ko, x->kv) ||
	    !all_are(k->p + x->ko + DMA_XFER, DMA_KEEP - x->ko - DMA_XFER,
		     x->kv) ||
	    memcmp(a->p + x->so, x->src, DMA_XFER) ||
	    !all_are(a->p, x->so, av) ||
	    !all_are(a->p + x->so + DMA_XFER, an - x->so - DMA_XFER, av)) {
		snprintf(w->why, sizeof(w->why),
			 "round %d: a byte outside the transfers changed",
			 w->rounds);
		return -1;
	}
	return 0;
}

/*
 * One round: edu copies DMA_XFER bytes of a new buffer A (RAM -> edu) into
 * a new buffer B and into the long-lived K (edu -> RAM); A, B and K are
 * checked byte for byte.  0, 1 (no room: try again) or -1 (@why).
 */
static int dma_round(struct dma_worker *w, const struct dbuf *k)
{
	uint64_t len = (16 + rand_r(&w->seed) % 240) * 4096ULL;
	struct dbuf a, b;
	struct xfer x;
	int ret;

	ret = dbuf_get(&a, len, w->why, sizeof(w->why));
	if (ret)
		return ret;
	ret = dbuf_get(&b, len, w->why, sizeof(w->why));
	if (ret) {
		dbuf_put(&a);
		return ret;
	}
	classify(w, &a);
	classify(w, &b);
	xfer_prepare(w, &x, &a, &b, k);
	ret = xfer_run(w, &x, &a, &b, k) ?: xfer_check(w, &x, &a, &b, k);
	dbuf_put(&b);
	dbuf_put(&a);
	return ret;
}

static void *dma_worker(void *arg)
{
	struct dma_worker *w = arg;
	struct dbuf k;
	int ret;

	do {
		ret = dbuf_get(&k, DMA_KEEP, w->why, sizeof(w->why));
		if (ret > 0) {
			w->nomem++;
			usleep(10 * 1000);
		}
	} while (ret > 0 && !stop);
	if (ret) {
		w->failed = 1;
		return NULL;
	}
	classify(w, &k);
	while (!stop && w->rounds < DMA_ROUNDS) {
		ret = dma_round(w, &k);
		if (ret < 0) {
			w->failed = 1;
			break;
		}
		if (ret > 0) {
			w->nomem++;
			usleep(10 * 1000);
			continue;
		}
		w->rounds++;
	}
	dbuf_put(&k);
	return NULL;
}

/* Allocations up to the ceiling, held a moment, freed: grow, then shrink. */
static void *burst_worker(void *arg)
{
	struct carveout_alloc a[32];
	int n, *bursts = arg;

	while (!stop) {
		for (n = 0; n < 32 && !stop; n++)
			if (co_alloc(fd, CHUNK, CARVEOUT_POLICY_STRICT, node,
				     CARVEOUT_ALLOC_PAGES, &a[n]))
				break;
		usleep(20 * 1000);
		while (n)
			co_free(fd, a[--n].handle);
		(*bursts)++;
		usleep(30 * 1000);
	}
	return NULL;
}

/* Take every free byte of the floor, without growing; returns the count. */
static int take_floor(struct bufs *b)
{
	struct carveout_stats s = stats();

	while (b->n < MAX_BUFS && s.largest_free >= 4096) {
		if (co_alloc(fd, s.largest_free, CARVEOUT_POLICY_STRICT, node,
			     CARVEOUT_ALLOC_PAGES, &b->a[b->n]))
			break;
		b->n++;
		s = stats();
		if (s.region_bytes > s.floor_bytes) {
			/* That one grew the region: not floor, give it back. */
			co_free(fd, b->a[--b->n].handle);
			break;
		}
	}
	return b->n;
}

static int dma_done(const struct dma_worker *w)
{
	int i;

	for (i = 0; i < DMA_THREADS; i++)
		if (!w[i].failed && w[i].rounds < DMA_ROUNDS)
			return 0;
	return 1;
}

static void dma_race(struct dma_worker *dw, int *bursts, int *resizes)
{
	struct worker cw;
	pthread_t bt;
	uint64_t t0 = now_ns();
	int i;

	stop = 0;
	memset(&cw, 0, sizeof(cw));
	cw.seed = 7;
	pthread_create(&cw.t, NULL, stress_worker, &cw);
	pthread_create(&bt, NULL, burst_worker, bursts);
	for (i = 0; i < DMA_THREADS; i++) {
		memset(&dw[i], 0, sizeof(dw[i]));
		dw[i].seed = 100 + i;
		pthread_create(&dw[i].t, NULL, dma_worker, &dw[i]);
	}
	/* At most 60 s: QEMU's edu takes 0.1 s a transfer. */
	for (*resizes = 0; !dma_done(dw) && now_ns() - t0 < 60000000000ULL;
	     (*resizes)++) {
		resize(CARVEOUT_RESIZE_CEILING, 0, st0.floor_bytes +
		       (*resizes & 1 ? GROW : GROW / 2), NULL);
		force_shrink();
		usleep(50 * 1000);
	}
	stop = 1;
	for (i = 0; i < DMA_THREADS; i++)
		pthread_join(dw[i].t, NULL);
	pthread_join(bt, NULL);
	pthread_join(cw.t, NULL);
	if (cw.bad)
		snprintf(dw[0].why, sizeof(dw[0].why),
			 "the CPU worker saw %d changed pages", cw.bad);
	dw[0].failed |= cw.bad != 0;
}

/* The DMA stress's verdicts, from its threads and the node's counts. */
static void dma_report(const struct dma_worker *dw,
		       const struct carveout_stats *s0, int bursts, int resizes)
{
	int i, rounds = 0, grown = 0, fl = 0, nomem = 0, failed = 0;
	struct carveout_stats s = stats();

	for (i = 0; i < DMA_THREADS; i++) {
		rounds += dw[i].rounds;
		grown += dw[i].grown;
		fl += dw[i].floor;
		nomem += dw[i].nomem;
		failed |= dw[i].failed;
		if (dw[i].failed)
			tap_diag("DMA thread %d: %s", i, dw[i].why);
	}
	tap_ok(!failed && rounds == DMA_THREADS * DMA_ROUNDS,
	       "stress with DMA: %d rounds by %d threads (edu copying buffer A into B and into a buffer mapped throughout), every transfer done and every byte as expected",
	       rounds, DMA_THREADS);
	tap_ok(grown > 0 && fl == 0,
	       "every DMA buffer lay in a grown piece (%d of %d, by pagemap against the floor's pieces)",
	       grown, grown + fl);
	tap_ok(s.grow_count > s0->grow_count &&
	       s.shrink_count > s0->shrink_count,
	       "meanwhile the region grew %llu times and gave back %llu pieces (%d resizes with forced shrinks, %d bursts to the ceiling, %d allocations retried)",
	       (unsigned long long)(s.grow_count - s0->grow_count),
	       (unsigned long long)(s.shrink_count - s0->shrink_count),
	       resizes, bursts, nomem);
}

static void test_stress_dma(void)
{
	struct dma_worker dw[DMA_THREADS];
	struct carveout_stats s0, s;
	int absent, bursts = 0, resizes, ret;
	struct bufs *b;
	char why[160];
	uint64_t t0;

	if (co_edu_open(&edu, why, sizeof(why), &absent)) {
		if (absent)
			tap_skip(why, "stress with DMA through edu");
		else
			tap_ok(0, "stress with DMA: edu's BAR0 (%s)", why);
		return;
	}
	resize(CARVEOUT_RESIZE_CEILING, 0, st0.floor_bytes + GROW, NULL);
	force_shrink();
	b = calloc(1, sizeof(*b));
	ret = read_floor_pieces();
	if (!tap_ok(b && stats().region_bytes == st0.floor_bytes && !ret,
		    "DMA stress: the region at its floor, %d floor pieces (debugfs node%u/buddyinfo)",
		    nr_floor_pieces, node))
		goto out;
	take_floor(b);
	s0 = stats();
	tap_ok(s0.region_bytes == s0.floor_bytes && s0.largest_free < 4096,
	       "the floor taken whole by %d buffers: what follows lives in grown pieces",
	       b->n);
	t0 = now_ns();
	dma_race(dw, &bursts, &resizes);
	tap_diag("DMA stress ran %llu ms",
		 (unsigned long long)((now_ns() - t0) / 1000000));
	dma_report(dw, &s0, bursts, resizes);
out:
	if (b)
		drain(b);
	free(b);
	co_edu_close(&edu);
	resize(CARVEOUT_RESIZE_CEILING, 0, st0.floor_bytes + GROW, NULL);
	force_shrink();
	s = stats();
	tap_ok(s.free_bytes == s.region_bytes &&
	       s.region_bytes == st0.floor_bytes,
	       "after the DMA stress: every byte free, region at its floor");
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
	test_why();
	test_pinned();
	test_pressure();
	test_floor();
	test_stress();
	test_stress_dma();
	tap_ok(resize(CARVEOUT_RESIZE_CEILING | CARVEOUT_RESIZE_SHRINK |
		      CARVEOUT_RESIZE_DELAY, 0, st0.floor_bytes, NULL) == 0 &&
	       stats().region_bytes == st0.floor_bytes,
	       "restore: ceiling = floor, region at its floor");
	set_delay(1000);
	close(fd);
	return tap_finish();
}
