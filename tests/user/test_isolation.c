// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation between owners, tried as an attacker would: no page reaches a
 * new owner while anyone else can still reach it, and no owner ever sees
 * another owner's bytes.
 *
 * - Handles are cyclic: a freed handle (and its mmap offset) does not name
 *   the next buffer; a stale FREE or mmap fails.
 * - ALLOC/FREE race: threads of one file ALLOC, verify and FREE while
 *   another thread FREEs the handles ALLOC is about to return; ALLOC's
 *   results stay coherent, no handle is ever handed out twice, a stale
 *   FREE/mmap never reaches another thread's buffer, nothing leaks.
 * - Sub-page buffers: after owner A wrote a marker over every page of the
 *   region and freed it, owner B (another file as root, then another uid)
 *   sees only zeros and its own bytes in every page its sub-page buffers
 *   map.  EXPORT of a sub-page buffer makes a dma-buf of whole pages.
 * - Pins: A (uid 1000) maps a buffer, takes page references through a pipe
 *   (vmsplice) or io_uring fixed buffers, unmaps and FREEs it.  The memory
 *   must stay out of the allocator (charged to A, not in free_bytes, shown
 *   in debugfs) until the last reference goes: B, allocating the whole
 *   region, never gets those pages; the pipe still gives A's bytes;
 *   IORING_OP_READ_FIXED/WRITE_FIXED never reach B's buffers.  Once the
 *   pins go the memory comes back within a few seconds.  Unload is refused
 *   while pages are held.
 * - The mapping refaults after MADV_DONTNEED (real pages again, not SIGBUS).
 * - Devices: after A FREEs a page edu could write, edu writing to A's old
 *   DMA address does not reach B, who got the page next (with the IOMMU in
 *   lazy mode the IOTLB would still translate it).
 *
 * Runs as root in the test VM: it gives /dev/carveout to group 1000 (mode
 * 0660) for the unprivileged owner and restores it at the end, and sets
 * file_limit and user_limit to 0 while it runs.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "co_edu.h"
#include "co_ring.h"
#include "co_test.h"
#include "tap.h"

#define PG		4096UL
#define TESTER		1000	/* uid and gid of the unprivileged owner */
#define KO		"/lib/carveout/carveout.ko"
#define KO_ARGS		"size=128M"
#define DEBUGFS		"/sys/kernel/debug/carveout/summary"

#define PAT_A		0xa5	/* the first owner's bytes */
#define PAT_B		0x5b	/* the next owner's bytes */
#define PAT_X		0x58	/* what a READ_FIXED brings in */

#define PIN_LEN		(64UL << 10)	/* a pipe holds 16 pages by default */
#define MAX_BUFS	8192
#define RACE_ITERS	1500
#define CYCLE_ITERS	1000

static uint32_t node0;
static unsigned long saved_file_limit, saved_user_limit;

/* -- owners ------------------------------------------------------------- */

/*
 * Switches real and effective ids, keeping root as the saved id so the test
 * can come back.  The device charges a file to the opener's real uid.
 */
static int become(uid_t uid)
{
	if (!uid)
		return setresuid(0, 0, 0) || setresgid(0, 0, 0) ? -1 : 0;
	return setresgid(uid, uid, 0) || setresuid(uid, uid, 0) ? -1 : 0;
}

static int open_as(uid_t uid)
{
	int fd, err;

	if (become(uid))
		return -1;
	fd = co_open();
	err = errno;
	become(0);
	errno = err;
	return fd;
}

static uint64_t free_bytes(int fd)
{
	struct carveout_stats s;

	return co_stats(fd, node0, &s) ? 0 : s.free_bytes;
}

static uint64_t nr_buffers(int fd)
{
	struct carveout_stats s;

	return co_stats(fd, node0, &s) ? ~0ULL : s.nr_buffers;
}

/* Bytes charged to @uid now, asked by a file of that user (INFO). */
static uint64_t user_bytes(uid_t uid)
{
	struct carveout_info info;
	int fd = open_as(uid);
	uint64_t v = 0;

	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (become(uid) == 0 && ioctl(fd, CARVEOUT_IOC_INFO, &info) == 0)
		v = info.user_bytes;
	become(0);
	close(fd);
	return v;
}

/* "held_kB: N" in debugfs' summary, or -1 when it is not there. */
static long debugfs_held_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen(DEBUGFS, "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "held_kB:", 8))
			v = strtol(line + 8, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits up to @secs for node 0's free bytes to reach @want; returns them. */
static uint64_t wait_free(int fd, uint64_t want, double secs, double *took)
{
	double t0 = now_s();
	uint64_t f;

	while ((f = free_bytes(fd)) < want && now_s() - t0 < secs)
		usleep(50 * 1000);
	*took = now_s() - t0;
	return f;
}

/* Maps a buffer's whole page span; returns the start of its first page. */
static unsigned char *map_span(int fd, const struct carveout_alloc *a,
			       size_t *len)
{
	void *p;

	*len = (a->page_offset + a->granted + PG - 1) & ~(PG - 1);
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 a->mmap_offset);
	return p == MAP_FAILED ? NULL : p;
}

static int all_bytes(const unsigned char *p, size_t len, int v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static size_t count_byte(const unsigned char *p, size_t len, int v)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += p[i] == v;
	return n;
}

/* -- filling a node ----------------------------------------------------- */

struct fill {
	int fd;
	unsigned int n;
	struct carveout_alloc a[MAX_BUFS];
	unsigned char *p[MAX_BUFS];
	size_t len[MAX_BUFS];
	unsigned int not_zero;	/* buffers that were not zero when mapped */
	unsigned int unmapped;	/* buffers that could not be mapped */
};

static struct fill fill_a, fill_b;

/*
 * Allocates node 0 until it is full (halving the size on ENOMEM down to a
 * page), maps every buffer, checks it is zero and writes @pat over it.
 */
static void fill_node(struct fill *fl, int fd, int pat)
{
	uint64_t len = 8UL << 20;
	struct carveout_alloc *a;

	memset(fl, 0, sizeof(*fl));
	fl->fd = fd;
	while (fl->n < MAX_BUFS) {
		a = &fl->a[fl->n];
		if (co_alloc(fd, len, CARVEOUT_POLICY_STRICT, node0,
			     CARVEOUT_ALLOC_PAGES, a)) {
			if (errno != ENOMEM || len == PG)
				break;
			len /= 2;
			continue;
		}
		fl->p[fl->n] = map_span(fd, a, &fl->len[fl->n]);
		if (!fl->p[fl->n]) {
			fl->unmapped++;
		} else {
			if (!all_bytes(fl->p[fl->n], fl->len[fl->n], 0))
				fl->not_zero++;
			memset(fl->p[fl->n], pat, fl->len[fl->n]);
		}
		fl->n++;
	}
}

static void fill_release(struct fill *fl)
{
	unsigned int i;

	for (i = 0; i < fl->n; i++) {
		if (fl->p[i])
			munmap(fl->p[i], fl->len[i]);
		co_free(fl->fd, fl->a[i].handle);
	}
	fl->n = 0;
}

/* Buffers of @fl that overlap [phys, phys + len). */
static unsigned int fill_overlaps(const struct fill *fl, uint64_t phys,
				  uint64_t len)
{
	unsigned int i, n = 0;

	for (i = 0; i < fl->n; i++)
		n += fl->a[i].phys_addr < phys + len &&
		     phys < fl->a[i].phys_addr + fl->a[i].granted;
	return n;
}

/* Buffers of @fl that no longer hold only @pat; bytes equal to @other. */
static unsigned int fill_changed(const struct fill *fl, int pat, int other,
				 size_t *other_bytes)
{
	unsigned int i, n = 0;

	*other_bytes = 0;
	for (i = 0; i < fl->n; i++) {
		if (!fl->p[i])
			continue;
		if (!all_bytes(fl->p[i], fl->len[i], pat))
			n++;
		*other_bytes += count_byte(fl->p[i], fl->len[i], other);
	}
	return n;
}

/* -- handles ------------------------------------------------------------ */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Number of values that occur more than once in @v (sorted in place). */
static unsigned int dups(uint32_t *v, unsigned int n)
{
	unsigned int i, d = 0;

	qsort(v, n, sizeof(*v), cmp_u32);
	for (i = 1; i < n; i++)
		d += v[i] == v[i - 1];
	return d;
}

static void test_cyclic_handles(void)
{
	static uint32_t seen[CYCLE_ITERS];
	struct carveout_alloc x, y, c;
	unsigned int i, n = 0;
	int fd = co_open();
	void *p;

	tap_diag("handles: a freed handle does not name the next buffer");
	if (!tap_ok(co_alloc_simple(fd, PG, &x) == 0, "ALLOC buffer X"))
		return;
	tap_ok(co_free(fd, x.handle) == 0, "FREE X");
	if (!tap_ok(co_alloc_simple(fd, PG, &y) == 0, "ALLOC buffer Y"))
		return;
	tap_ok(y.handle != x.handle && y.mmap_offset != x.mmap_offset,
	       "Y does not get X's handle or mmap offset (X %u, Y %u)",
	       x.handle, y.handle);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 x.mmap_offset);
	tap_ok(p == MAP_FAILED, "mmap of X's stale offset maps nothing (%s)",
	       p == MAP_FAILED ? strerror(errno) : "it mapped a buffer");
	if (p != MAP_FAILED)
		munmap(p, PG);
	tap_errno(co_free(fd, x.handle), ENOENT, "FREE of X's stale handle");
	tap_ok(co_free(fd, y.handle) == 0, "Y survived the stale FREE");

	for (i = 0; i < CYCLE_ITERS; i++) {
		if (co_alloc_simple(fd, PG, &c))
			break;
		seen[n++] = c.handle;
		co_free(fd, c.handle);
	}
	tap_ok(n == CYCLE_ITERS, "%u ALLOC/FREE cycles", n);
	tap_ok(dups(seen, n) == 0,
	       "no handle handed out twice in %u cycles (%u repeats)", n,
	       dups(seen, n));
	close(fd);
}

/*
 * ALLOC/FREE race on one file: NR_WORKERS threads ALLOC, check what ALLOC
 * reported, map, check the buffer is zero, stamp it, FREE it, then try the
 * stale handle and offset again.  A thief thread FREEs the handles the next
 * ALLOCs will return, as fast as it can.
 */
#define NR_WORKERS	2

struct race {
	int fd;
	int stop;
	uint32_t max_handle;		/* highest handle ALLOC returned */
	uint32_t handles[NR_WORKERS][RACE_ITERS];
	unsigned int nr[NR_WORKERS];
	unsigned long bad_result;	/* ALLOC returned incoherent fields */
	unsigned long not_zero;		/* a new buffer showed old bytes */
	unsigned long stale_free;	/* a stale FREE freed something */
	unsigned long stale_mmap;	/* a stale offset mapped something */
	unsigned long stolen;		/* the thief got there first */
	unsigned long thefts;		/* FREEs the thief made succeed */
	unsigned long errors;		/* other unexpected errors */
};

static struct race race;

struct worker {
	int id;
};

static void raise_max(uint32_t *v, uint32_t x)
{
	uint32_t old = __atomic_load_n(v, __ATOMIC_RELAXED);

	while (old < x && !__atomic_compare_exchange_n(v, &old, x, 0,
						       __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

static void *race_worker(void *arg)
{
	int id = ((struct worker *)arg)->id, fd = race.fd;
	struct carveout_alloc a;
	unsigned char *p;
	unsigned int i;
	void *q;
	size_t len;

	for (i = 0; i < RACE_ITERS; i++) {
		if (co_alloc(fd, PG, CARVEOUT_POLICY_STRICT, node0, 0, &a)) {
			__atomic_add_fetch(&race.errors, 1, __ATOMIC_RELAXED);
			continue;
		}
		race.handles[id][race.nr[id]++] = a.handle;
		raise_max(&race.max_handle, a.handle);
		if (!a.handle || a.granted != PG || a.out_node != node0 ||
		    a.mmap_offset != (uint64_t)a.handle << 40 ||
		    a.page_offset)
			__atomic_add_fetch(&race.bad_result, 1,
					   __ATOMIC_RELAXED);
		p = map_span(fd, &a, &len);
		if (!p) {
			/* Only the thief may explain a missing handle. */
			if (co_free(fd, a.handle) == 0)
				__atomic_add_fetch(&race.errors, 1,
						   __ATOMIC_RELAXED);
			__atomic_add_fetch(&race.stolen, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (!all_bytes(p, len, 0))
			__atomic_add_fetch(&race.not_zero, 1, __ATOMIC_RELAXED);
		memset(p, 0x40 + id, len);
		munmap(p, len);
		if (co_free(fd, a.handle))
			__atomic_add_fetch(&race.stolen, 1, __ATOMIC_RELAXED);
		/* The handle is stale now: it must reach nothing. */
		if (co_free(fd, a.handle) == 0)
			__atomic_add_fetch(&race.stale_free, 1,
					   __ATOMIC_RELAXED);
		q = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, a.mmap_offset);
		if (q != MAP_FAILED) {
			__atomic_add_fetch(&race.stale_mmap, 1,
					   __ATOMIC_RELAXED);
			munmap(q, PG);
		}
	}
	return NULL;
}

static void *race_thief(void *arg)
{
	uint32_t h, base;

	(void)arg;
	while (!__atomic_load_n(&race.stop, __ATOMIC_RELAXED)) {
		base = __atomic_load_n(&race.max_handle, __ATOMIC_RELAXED);
		for (h = base + 1; h <= base + 4; h++)
			if (co_free(race.fd, h) == 0)
				__atomic_add_fetch(&race.thefts, 1,
						   __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_alloc_free_race(void)
{
	static uint32_t all[NR_WORKERS * RACE_ITERS];
	struct worker w[NR_WORKERS];
	pthread_t tw[NR_WORKERS], tt;
	unsigned int i, j, n = 0;
	int ok = 1, fd2 = co_open();
	uint64_t base = nr_buffers(fd2);

	tap_diag("ALLOC/FREE race: %d threads allocate, one FREEs the next handles",
		 NR_WORKERS);
	memset(&race, 0, sizeof(race));
	race.fd = co_open();
	ok &= pthread_create(&tt, NULL, race_thief, NULL) == 0;
	for (i = 0; i < NR_WORKERS; i++) {
		w[i].id = i;
		ok &= pthread_create(&tw[i], NULL, race_worker, &w[i]) == 0;
	}
	for (i = 0; i < NR_WORKERS; i++)
		pthread_join(tw[i], NULL);
	__atomic_store_n(&race.stop, 1, __ATOMIC_RELAXED);
	pthread_join(tt, NULL);
	tap_ok(ok, "threads started");
	tap_diag("%lu buffers freed by the thief first, %lu thefts",
		 race.stolen, race.thefts);
	tap_ok(race.bad_result == 0,
	       "ALLOC's results are coherent (%lu incoherent)", race.bad_result);
	tap_ok(race.not_zero == 0, "every new buffer is zero (%lu were not)",
	       race.not_zero);
	tap_ok(race.stale_free == 0,
	       "a stale handle never FREEs another buffer (%lu did)",
	       race.stale_free);
	tap_ok(race.stale_mmap == 0,
	       "a stale mmap offset never maps another buffer (%lu did)",
	       race.stale_mmap);
	tap_ok(race.errors == 0, "no other unexpected result (%lu)",
	       race.errors);
	for (i = 0; i < NR_WORKERS; i++)
		for (j = 0; j < race.nr[i]; j++)
			all[n++] = race.handles[i][j];
	tap_ok(n > 0 && dups(all, n) == 0,
	       "no handle handed out twice over %u ALLOCs (%u repeats)", n,
	       dups(all, n));
	close(race.fd);
	tap_ok(nr_buffers(fd2) == base,
	       "nothing leaked: %llu buffers on node %u, %llu before",
	       (unsigned long long)nr_buffers(fd2), node0,
	       (unsigned long long)base);
	close(fd2);
}

/*
 * ALLOC whose result cannot be written back (the argument is read-only):
 * EFAULT, and nothing is left behind, and no other buffer of the file is
 * touched.
 */
static void test_alloc_efault(void)
{
	struct carveout_alloc keep, *ro;
	int fd = co_open(), ret, err;
	uint64_t base = nr_buffers(fd);
	size_t len;
	unsigned char *p;

	if (!tap_ok(co_alloc(fd, PG, CARVEOUT_POLICY_STRICT, node0, 0,
			     &keep) == 0, "ALLOC a buffer to keep"))
		return;
	ro = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	ro->size = sizeof(*ro);
	ro->length = PG;
	ro->policy = CARVEOUT_POLICY_STRICT;
	ro->node = node0;
	mprotect(ro, PG, PROT_READ);
	ret = ioctl(fd, CARVEOUT_IOC_ALLOC, ro);
	err = errno;
	tap_ok(ret == -1 && err == EFAULT,
	       "ALLOC with a read-only argument: EFAULT (%s)",
	       ret ? strerror(err) : "ok");
	tap_ok(nr_buffers(fd) == base + 1,
	       "the failed ALLOC left no buffer behind");
	p = map_span(fd, &keep, &len);
	tap_ok(!!p, "the other buffer is still there");
	if (p)
		munmap(p, len);
	tap_ok(co_free(fd, keep.handle) == 0, "FREE it");
	munmap(ro, PG);
	close(fd);
}

/* -- sub-page buffers --------------------------------------------------- */

static const unsigned int sub_sizes[] = { 64, 128, 256, 512, 1024, 2048 };
#define NR_SUB	(sizeof(sub_sizes) / sizeof(*sub_sizes))
#define SUB_PER_SIZE	48

struct subbuf {
	struct carveout_alloc a;
	unsigned char *page;
	size_t len;
};

static struct subbuf subs[NR_SUB * SUB_PER_SIZE];

/*
 * A dirties every free page of node 0, frees it and goes; B allocates
 * sub-page buffers and looks at the whole pages they map.
 */
static void test_subpage_residue(uid_t b_uid, uint32_t slab_max)
{
	unsigned int i, j, n = 0, unzero = 0, unmapped = 0, failed = 0;
	size_t foreign = 0, other = 0, k;
	int fa, fb;

	tap_diag("sub-page buffers: B (uid %u) sees none of A's bytes",
		 (unsigned int)b_uid);
	fa = co_open();
	fill_node(&fill_a, fa, PAT_A);
	tap_ok(fill_a.n > 0 && fill_a.unmapped == 0,
	       "A wrote %#x over %u buffers of node %u", PAT_A, fill_a.n,
	       node0);
	fill_release(&fill_a);
	close(fa);

	fb = open_as(b_uid);
	if (!tap_ok(fb >= 0, "B opens the device (%s)",
		    fb >= 0 ? "ok" : strerror(errno)))
		return;
	become(b_uid);
	for (i = 0; i < NR_SUB; i++) {
		if (sub_sizes[i] > slab_max)
			continue;
		for (j = 0; j < SUB_PER_SIZE; j++) {
			struct subbuf *s = &subs[n];

			if (co_alloc(fb, sub_sizes[i], CARVEOUT_POLICY_STRICT,
				     node0, 0, &s->a)) {
				failed++;
				continue;
			}
			n++;
			s->page = map_span(fb, &s->a, &s->len);
			if (!s->page) {
				unmapped++;
				continue;
			}
			if (!all_bytes(s->page + s->a.page_offset,
				       s->a.length, 0))
				unzero++;
			memset(s->page + s->a.page_offset, PAT_B, s->a.length);
		}
	}
	become(0);
	tap_ok(failed == 0 && unmapped == 0,
	       "B allocated and mapped %u sub-page buffers (%u failed, %u unmapped)",
	       n, failed, unmapped);
	tap_ok(unzero == 0, "each sub-page buffer was zero (%u were not)",
	       unzero);
	/* Every byte of every mapped page: zero or B's own. */
	for (i = 0; i < n; i++) {
		if (!subs[i].page)
			continue;
		foreign += count_byte(subs[i].page, subs[i].len, PAT_A);
		for (k = 0; k < subs[i].len; k++)
			other += subs[i].page[k] && subs[i].page[k] != PAT_B &&
				 subs[i].page[k] != PAT_A;
	}
	tap_ok(foreign == 0 && other == 0,
	       "B's mapped pages hold only zeros and B's bytes (%zu bytes of A's, %zu others)",
	       foreign, other);
	for (i = 0; i < n; i++) {
		if (subs[i].page)
			munmap(subs[i].page, subs[i].len);
		co_free(fb, subs[i].a.handle);
	}
	close(fb);
}

static void test_subpage_export(uint32_t slab_max)
{
	struct carveout_alloc a;
	unsigned int i;
	struct stat st;
	off_t end;
	int fd = co_open(), dfd = -1;

	tap_diag("EXPORT of sub-page buffers: dma-bufs of whole pages");
	for (i = 0; i < NR_SUB; i++) {
		if (sub_sizes[i] > slab_max)
			continue;
		if (!tap_ok(co_alloc_simple(fd, sub_sizes[i], &a) == 0 &&
			    co_export(fd, a.handle, &dfd) == 0,
			    "ALLOC and EXPORT %u bytes", sub_sizes[i]))
			continue;
		end = lseek(dfd, 0, SEEK_END);
		tap_ok(end >= (off_t)sub_sizes[i] && end % PG == 0,
		       "%u-byte buffer: dma-buf size %lld is a page multiple",
		       sub_sizes[i], (long long)end);
		if (fstat(dfd, &st))
			st.st_size = -1;
		tap_ok(st.st_size == end, "fstat agrees (%lld)",
		       (long long)st.st_size);
		close(dfd);
		co_free(fd, a.handle);
	}
	close(fd);
}

/* -- pins --------------------------------------------------------------- */

/*
 * A (uid 1000) allocates PIN_LEN bytes on node 0, maps them and writes
 * PAT_A; fills @a and returns the mapping (NULL on failure), the file in
 * *@fd.
 */
static unsigned char *victim_buffer(int *fd, struct carveout_alloc *a)
{
	unsigned char *p = NULL;
	size_t len;

	*fd = open_as(TESTER);
	if (*fd < 0)
		return NULL;
	become(TESTER);
	if (co_alloc(*fd, PIN_LEN, CARVEOUT_POLICY_STRICT, node0,
		     CARVEOUT_ALLOC_PAGES, a) == 0)
		p = map_span(*fd, a, &len);
	become(0);
	if (p)
		memset(p, PAT_A, PIN_LEN);
	return p;
}

/* A's physical address, which A cannot see: root finds it in pagemap. */
static uint64_t phys_of(const void *p)
{
	return co_virt_to_pfn(p) * PG;
}

/* A drops its buffer: unmap, FREE, close. */
static void victim_drop(int fd, const struct carveout_alloc *a,
			unsigned char *p)
{
	munmap(p, PIN_LEN);
	tap_ok(co_free(fd, a->handle) == 0, "A unmaps and FREEs the buffer");
	close(fd);
}

/* What must be true while the pages are pinned and A has let go. */
static void check_held(int fd, uint64_t base)
{
	uint64_t f = free_bytes(fd), ub = user_bytes(TESTER);
	long kb = debugfs_held_kb();

	tap_ok(f + PIN_LEN <= base,
	       "held memory stays out of free_bytes (%llu free, %llu before)",
	       (unsigned long long)f, (unsigned long long)base);
	tap_ok(ub >= PIN_LEN, "held memory stays charged to A's user (%llu bytes)",
	       (unsigned long long)ub);
	tap_ok(kb >= (long)(PIN_LEN >> 10), "debugfs shows it held (held_kB %ld)",
	       kb);
}

/*
 * B (root, another file) takes all of node 0: it must get none of A's
 * pages.  Fills fill_b, stamped PAT_B.
 */
static void check_next_owner(uint64_t a_phys)
{
	int fb = co_open();

	fill_node(&fill_b, fb, PAT_B);
	tap_ok(fill_b.n > 0 && fill_b.unmapped == 0 && fill_b.not_zero == 0,
	       "B takes node %u: %u buffers, all zero when mapped (%u not)",
	       node0, fill_b.n, fill_b.not_zero);
	tap_ok(a_phys && fill_overlaps(&fill_b, a_phys, PIN_LEN) == 0,
	       "none of B's buffers holds a page A's pin still reaches (%u do)",
	       fill_overlaps(&fill_b, a_phys, PIN_LEN));
}

static void next_owner_done(void)
{
	int fd = fill_b.fd;

	fill_release(&fill_b);
	close(fd);
}

static void check_released(int fd, uint64_t base, const char *what)
{
	double took;
	uint64_t f = wait_free(fd, base, 5.0, &took);

	tap_ok(f == base,
	       "%s: the memory is free again within 5 s (%.1f s, %llu of %llu)",
	       what, took, (unsigned long long)f, (unsigned long long)base);
}

static void test_pipe_pin(void)
{
	struct carveout_alloc a;
	unsigned char *p, *got;
	int fa, fd = co_open(), pfd[2] = { -1, -1 };
	uint64_t base = free_bytes(fd), a_phys;
	struct iovec iov;
	ssize_t n = 0, r;

	tap_diag("vmsplice: pages a pipe holds do not reach the next owner");
	p = victim_buffer(&fa, &a);
	if (!tap_ok(!!p, "A (uid %d) allocates and maps %lu KiB",
		    TESTER, PIN_LEN >> 10))
		goto out;
	a_phys = phys_of(p);
	tap_ok(pipe(pfd) == 0, "pipe");
	iov.iov_base = p;
	iov.iov_len = PIN_LEN;
	while (iov.iov_len) {
		r = vmsplice(pfd[1], &iov, 1, SPLICE_F_NONBLOCK);
		if (r <= 0)
			break;
		iov.iov_base = (char *)iov.iov_base + r;
		iov.iov_len -= r;
		n += r;
	}
	if (!tap_ok(n == (ssize_t)PIN_LEN, "vmsplice the mapping into the pipe (%zd bytes)",
		    n))
		goto out;
	victim_drop(fa, &a, p);
	check_held(fd, base);
	check_next_owner(a_phys);

	got = malloc(PIN_LEN);
	n = 0;
	while (got && n < (ssize_t)PIN_LEN &&
	       (r = read(pfd[0], got + n, PIN_LEN - n)) > 0)
		n += r;
	tap_ok(got && n == (ssize_t)PIN_LEN && all_bytes(got, PIN_LEN, PAT_A),
	       "the pipe gives A's bytes (%zu of B's, %zu zeros)",
	       got ? count_byte(got, n, PAT_B) : 0,
	       got ? count_byte(got, n, 0) : 0);
	free(got);
	next_owner_done();
	check_released(fd, base, "pipe drained");
out:
	if (pfd[0] >= 0) {
		close(pfd[0]);
		close(pfd[1]);
	}
	close(fd);
}

static int tmp_file(const char *path, int pat)
{
	unsigned char *b = malloc(PIN_LEN);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd >= 0 && b) {
		memset(b, pat, PIN_LEN);
		if (write(fd, b, PIN_LEN) != (ssize_t)PIN_LEN) {
			close(fd);
			fd = -1;
		}
	}
	free(b);
	return fd;
}

static void test_io_uring_pin(void)
{
	struct carveout_alloc a;
	struct ring r = { .fd = -1 };
	unsigned char *p, *chk = NULL;
	int fa, fd = co_open(), src = -1, dst = -1, res, ret, err;
	uint64_t base = free_bytes(fd), a_phys;
	struct iovec iov;
	unsigned int changed;
	size_t other;

	tap_diag("io_uring fixed buffers: pinned pages do not reach the next owner");
	become(TESTER);
	ret = ring_setup(&r);
	err = errno;
	become(0);
	if (ret && r.fd < 0 && (err == ENOSYS || err == EPERM)) {
		tap_skip(err == ENOSYS ? "no io_uring in this kernel" :
			 "io_uring disabled (kernel.io_uring_disabled)",
			 "io_uring fixed-buffer pins");
		goto out;
	}
	if (!tap_ok(ret == 0, "io_uring ring set up (%s)",
		    ret ? strerror(err) : "ok"))
		goto out;
	p = victim_buffer(&fa, &a);
	if (!tap_ok(!!p, "A (uid %d) allocates and maps %lu KiB",
		    TESTER, PIN_LEN >> 10))
		goto out;
	a_phys = phys_of(p);
	iov.iov_base = p;
	iov.iov_len = PIN_LEN;
	ret = syscall(__NR_io_uring_register, r.fd, IORING_REGISTER_BUFFERS,
		      &iov, 1);
	err = errno;
	if (ret && err == EOPNOTSUPP) {
		/* Linux before 6.3 refuses file-backed fixed buffers. */
		tap_skip("this kernel refuses file-backed fixed buffers (EOPNOTSUPP)",
			 "io_uring fixed-buffer pins");
		victim_drop(fa, &a, p);
		goto out;
	}
	if (!tap_ok(ret == 0, "A registers the mapping as a fixed buffer (%s)",
		    ret ? strerror(err) : "ok")) {
		victim_drop(fa, &a, p);
		goto out;
	}
	victim_drop(fa, &a, p);
	check_held(fd, base);
	check_next_owner(a_phys);

	/* A reads what its registered pages hold now... */
	dst = tmp_file("/tmp/iso-dst", 0);
	res = ring_rw_fixed(&r, IORING_OP_WRITE_FIXED, dst, p, PIN_LEN, 0);
	chk = calloc(1, PIN_LEN);
	if (!chk || pread(dst, chk, PIN_LEN, 0) != (ssize_t)PIN_LEN)
		res = -EIO;
	tap_ok(res == (int)PIN_LEN && all_bytes(chk, PIN_LEN, PAT_A),
	       "WRITE_FIXED after FREE gives A's bytes (res %d, %zu of B's, %zu zeros)",
	       res, chk ? count_byte(chk, PIN_LEN, PAT_B) : 0,
	       chk ? count_byte(chk, PIN_LEN, 0) : 0);
	/* ... and writes into them. */
	src = tmp_file("/tmp/iso-src", PAT_X);
	res = ring_rw_fixed(&r, IORING_OP_READ_FIXED, src, p, PIN_LEN, 0);
	tap_ok(res == (int)PIN_LEN, "READ_FIXED after FREE completes (res %d)",
	       res);
	changed = fill_changed(&fill_b, PAT_B, PAT_X, &other);
	tap_ok(changed == 0 && other == 0,
	       "B's buffers are untouched by A's READ_FIXED (%u changed, %zu bytes of A's read)",
	       changed, other);
	next_owner_done();
	ring_exit(&r);
	check_released(fd, base, "ring closed");
out:
	free(chk);
	ring_exit(&r);
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	unlink("/tmp/iso-src");
	unlink("/tmp/iso-dst");
	close(fd);
}

/*
 * The mapping refaults like shared memory: after MADV_DONTNEED the same
 * pages come back (not SIGBUS), as real pages a pipe can take.
 */
static void test_refault(void)
{
	struct carveout_alloc a;
	unsigned char *p;
	int fd = co_open(), status = -1, pfd[2];
	struct iovec iov;
	size_t len = 0;
	pid_t pid;

	tap_diag("mmap refaults after MADV_DONTNEED");
	if (!tap_ok(co_alloc_simple(fd, PIN_LEN, &a) == 0 &&
		    (p = map_span(fd, &a, &len)), "ALLOC and mmap %lu KiB",
		    PIN_LEN >> 10)) {
		close(fd);
		return;
	}
	memset(p, PAT_A, len);
	tap_ok(madvise(p, len, MADV_DONTNEED) == 0, "MADV_DONTNEED");
	pid = fork();
	if (pid == 0)
		_exit(all_bytes(p, len, PAT_A) ? 0 : 1);
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "reading it again gives the data back (%s)",
	       WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "no signal");
	tap_ok(pipe(pfd) == 0, "pipe");
	iov.iov_base = p;
	iov.iov_len = PG;
	tap_ok(vmsplice(pfd[1], &iov, 1, SPLICE_F_NONBLOCK) == (ssize_t)PG,
	       "a refaulted page can be spliced into a pipe");
	close(pfd[0]);
	close(pfd[1]);
	munmap(p, len);
	co_free(fd, a.handle);
	close(fd);
}

/* -- devices ------------------------------------------------------------ */

#define EDU_RES0	"/sys/bus/pci/devices/" CO_EDU_PCI "/resource0"
#define EDU_LEN		256

static volatile uint64_t *edu_bar;

/* One edu transfer between bus address @bus and edu's buffer (offset 0). */
static int edu_dma(uint64_t bus, int to_ram)
{
	int i;

	edu_bar[EDU_REG_SRC / 8] = to_ram ? CO_EDU_BUF_ADDR : bus;
	edu_bar[EDU_REG_DST / 8] = to_ram ? bus : CO_EDU_BUF_ADDR;
	edu_bar[EDU_REG_CNT / 8] = EDU_LEN;
	__sync_synchronize();
	edu_bar[EDU_REG_CMD / 8] = EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0);
	for (i = 0; i < 2500 && (edu_bar[EDU_REG_CMD / 8] & EDU_CMD_RUN); i++)
		usleep(2000);
	__sync_synchronize();
	return edu_bar[EDU_REG_CMD / 8] & EDU_CMD_RUN ? -1 : 0;
}

/*
 * A maps a page for edu and lets edu write it (the IOMMU now caches the
 * translation), then FREEs it; B gets the same page at once.  edu writing
 * to A's old address must not reach B's page: with a lazily invalidated
 * IOMMU the IOTLB still translates until it is flushed.
 */
static void test_device_after_free(void)
{
	struct carveout_alloc s, a, b[64];
	struct carveout_map ms, ma;
	unsigned char *ps = NULL, *pa = NULL, *pb = NULL;
	int fd = co_open(), fb = co_open(), res, i, n = 0, got = -1;
	size_t ls = 0, la = 0, lb = 0;
	void *bar;

	tap_diag("devices: a freed page is out of the device's reach");
	res = open(EDU_RES0, O_RDWR | O_SYNC | O_CLOEXEC);
	bar = res < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					  MAP_SHARED, res, 0);
	if (res >= 0)
		close(res);
	if (bar == MAP_FAILED) {
		tap_skip("no edu device (" CO_EDU_PCI ")", "DMA after FREE");
		goto out;
	}
	edu_bar = bar;
	if (!tap_ok(co_alloc_simple(fd, PG, &s) == 0 &&
		    (ps = map_span(fd, &s, &ls)) &&
		    co_map(fd, s.handle, CO_EDU_PCI, CARVEOUT_DMA_TO_DEVICE,
			   &ms) == 0,
		    "a source page mapped for edu"))
		goto unmap_bar;
	memset(ps, PAT_X, PG);
	tap_ok(edu_dma(ms.dma_addr, 0) == 0, "edu reads the source");
	if (!tap_ok(co_alloc(fd, PG, CARVEOUT_POLICY_STRICT, node0, 0, &a) == 0 &&
		    (pa = map_span(fd, &a, &la)) &&
		    co_map(fd, a.handle, CO_EDU_PCI,
			   CARVEOUT_DMA_BIDIRECTIONAL, &ma) == 0,
		    "A's page mapped for edu")) {
		if (pa)
			munmap(pa, la);
		goto unmap_bar;
	}
	res = edu_dma(ma.dma_addr, 1);
	tap_ok(res == 0 && all_bytes(pa, EDU_LEN, PAT_X),
	       "edu writes A's page through its address");
	munmap(pa, la);
	pa = NULL;
	tap_ok(co_free(fd, a.handle) == 0, "A FREEs the page (MAP's mapping goes)");
	for (n = 0; n < 64 && got < 0; n++) {
		if (co_alloc(fb, PG, CARVEOUT_POLICY_STRICT, node0, 0, &b[n]))
			break;
		if (b[n].phys_addr == a.phys_addr)
			got = n;
	}
	if (got < 0) {
		tap_skip("B did not get A's page", "DMA to a freed page");
		goto free_b;
	}
	pb = map_span(fb, &b[got], &lb);
	if (pb)
		memset(pb, PAT_B, PG);
	res = edu_dma(ma.dma_addr, 1);
	tap_ok(pb && all_bytes(pb, PG, PAT_B),
	       "edu writing to A's old address does not reach B's page (%zu bytes did)",
	       pb ? count_byte(pb, PG, PAT_X) : 0);
	if (pb)
		munmap(pb, lb);
free_b:
	for (i = 0; i < n; i++)
		co_free(fb, b[i].handle);
unmap_bar:
	munmap(bar, 4096);
	if (ps)
		munmap(ps, ls);
out:
	close(fd);
	close(fb);
}

/* -- unload ------------------------------------------------------------- */

static int module_loaded(void)
{
	return access("/sys/module/carveout", F_OK) == 0;
}

static int load_module(void)
{
	int fd = open(KO, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, KO_ARGS, 0);
	close(fd);
	return ret;
}

static void share_device(void)
{
	if (chown(CO_DEV, 0, TESTER) || chmod(CO_DEV, 0660))
		tap_bail("cannot give %s to group %d: %s", CO_DEV, TESTER,
			 strerror(errno));
}

/* Unload carveout; the held-memory work drops its reference just after. */
static int unload_carveout(void)
{
	int i;

	for (i = 0; i < 20; i++) {
		if (!syscall(SYS_delete_module, "carveout", O_NONBLOCK))
			return 0;
		usleep(100 * 1000);
	}
	return -1;
}

static void test_unload_while_held(void)
{
	struct carveout_alloc a;
	unsigned char *p;
	int fa, fd, pfd[2], ret, err, edu;
	uint64_t base;
	struct iovec iov;

	tap_diag("unload while a pipe holds pages");
	edu = co_edu_unload();
	if (!tap_ok(edu >= 0, "carveout_edu unloads for the while (%s)",
		    edu < 0 ? strerror(errno) : "ok"))
		return;
	fd = co_open();
	base = free_bytes(fd);
	p = victim_buffer(&fa, &a);
	if (!tap_ok(p && pipe(pfd) == 0, "A maps a buffer, makes a pipe")) {
		close(fd);
		return;
	}
	iov.iov_base = p;
	iov.iov_len = PIN_LEN;
	tap_ok(vmsplice(pfd[1], &iov, 1, SPLICE_F_NONBLOCK) > 0,
	       "vmsplice it into the pipe");
	victim_drop(fa, &a, p);
	close(fd);
	ret = syscall(SYS_delete_module, "carveout", O_NONBLOCK);
	err = errno;
	tap_ok(ret == -1 && module_loaded(),
	       "unload refused while a pipe holds pages (%s)",
	       ret ? strerror(err) : "it unloaded");
	close(pfd[0]);
	close(pfd[1]);
	if (!module_loaded()) {
		if (load_module())
			tap_bail("cannot load carveout again: %s",
				 strerror(errno));
		share_device();
		if (edu > 0)
			co_edu_load();
		return;
	}
	fd = co_open();
	check_released(fd, base, "pipe closed");
	close(fd);
	/* Nothing else held carveout: now it goes. */
	ret = unload_carveout();
	tap_ok(ret == 0, "unload succeeds once the pipe is gone (%s)",
	       ret ? strerror(errno) : "ok");
	if (!module_loaded()) {
		if (load_module())
			tap_bail("cannot load carveout again: %s",
				 strerror(errno));
		share_device();
	}
	if (edu > 0) {
		ret = co_edu_load();
		tap_ok(ret == 0, "carveout_edu loads again (%s)",
		       ret ? strerror(errno) : "ok");
	}
}

/* -- main --------------------------------------------------------------- */

static unsigned long read_param(const char *name)
{
	char path[128];
	unsigned long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/carveout/parameters/%s", name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

int main(void)
{
	struct carveout_node_info nodes[16];
	struct carveout_info info;
	struct stat st0;
	int fd;

	tap_plan_begin("carveout isolation between owners");
	if (getuid() != 0)
		tap_bail("must run as root (it switches to uid %d)", TESTER);
	fd = co_open();
	if (fd < 0 || co_nodes(fd, nodes, 16) < 1)
		tap_bail("cannot open %s or no region", CO_DEV);
	node0 = nodes[0].node;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (ioctl(fd, CARVEOUT_IOC_INFO, &info))
		tap_bail("INFO: %s", strerror(errno));
	close(fd);
	if (stat(CO_DEV, &st0))
		tap_bail("stat %s: %s", CO_DEV, strerror(errno));
	saved_file_limit = read_param("file_limit");
	saved_user_limit = read_param("user_limit");
	co_set_param("file_limit", 0);
	co_set_param("user_limit", 0);
	share_device();

	test_cyclic_handles();
	test_alloc_free_race();
	test_alloc_efault();
	if (info.caps & CARVEOUT_CAP_SLAB) {
		test_subpage_export(info.slab_max);
		test_subpage_residue(0, info.slab_max);
		test_subpage_residue(TESTER, info.slab_max);
	} else {
		tap_skip("no sub-page buffers (CARVEOUT_CAP_SLAB)",
			 "sub-page residue and export");
	}
	test_refault();
	test_pipe_pin();
	test_io_uring_pin();
	test_device_after_free();
	test_unload_while_held();

	co_set_param("file_limit", saved_file_limit);
	co_set_param("user_limit", saved_user_limit);
	if (chown(CO_DEV, st0.st_uid, st0.st_gid) ||
	    chmod(CO_DEV, st0.st_mode & 07777))
		tap_diag("cannot restore %s: %s", CO_DEV, strerror(errno));
	fd = co_open();
	if (fd >= 0 && co_nodes(fd, nodes, 16) > 0)
		co_check_all_free(fd, nodes, co_nodes(fd, nodes, 16));
	close(fd);
	return tap_finish();
}
