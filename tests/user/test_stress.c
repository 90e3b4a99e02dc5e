// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrent stress: several processes, each with two threads, allocate on
 * both nodes (strict and preferred), mmap, stamp a pattern unique to the
 * process, thread and buffer, verify it, MAP/UNMAP to the edu device,
 * export as dma-buf and verify through the dma-buf's mapping, free, and
 * close/reopen their files.  The threads of a process also share one file:
 * a buffer one thread publishes there, the other maps through the shared
 * handle and verifies.  No buffer may ever show another buffer's data
 * (each is verified before every free and at random times).  At the end
 * every region must be free and coalesced again.
 *
 * Usage: test_stress [SECONDS]   (or CARVEOUT_STRESS_SECS; default 30)
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

#include <linux/dma-buf.h>

#include "co_test.h"
#include "tap.h"

#define NPROC		3
#define NTHR		2
#define NBUF		6	/* buffers a thread holds at once */
#define NPUB		4	/* published buffers per process */
#define DEF_SECS	30
#define PG		4096UL

enum { S_ALLOC, S_NOMEM, S_FREE, S_MMAP, S_VERIFY, S_MAP, S_UNMAP, S_SYNC,
       S_EXPORT, S_DBMAP, S_REOPEN, S_PEER, S_NR };
static const char *const sname[S_NR] = {
	"alloc", "alloc-ENOMEM", "free", "mmap", "verify", "dma-map",
	"dma-unmap", "dma-sync", "export", "dma-buf-mmap", "reopen",
	"peer-verify",
};

/* Shared by every process (MAP_SHARED anonymous). */
struct shared {
	unsigned long ops[S_NR];
	unsigned long errors;		/* unexpected results */
	unsigned long corrupt;		/* a buffer lost its pattern */
	unsigned long foreign;		/* ... and showed another's */
	char msg[8][160];
	unsigned int nmsg;
};

static struct shared *sh;
static int nr_nodes;
static uint32_t node_ids[16];
static double deadline;

__attribute__((format(printf, 1, 2)))
static void fail(const char *fmt, ...)
{
	unsigned int i = __atomic_fetch_add(&sh->nmsg, 1, __ATOMIC_RELAXED);
	va_list ap;

	__atomic_fetch_add(&sh->errors, 1, __ATOMIC_RELAXED);
	if (i >= 8)
		return;
	va_start(ap, fmt);
	vsnprintf(sh->msg[i], sizeof(sh->msg[i]), fmt, ap);
	va_end(ap);
}

static void count(int k)
{
	__atomic_fetch_add(&sh->ops[k], 1, __ATOMIC_RELAXED);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rr(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

/* One buffer: the pattern word at byte i is id << 32 | hash(i). */
struct sbuf {
	int fd;			/* the file it lives in */
	uint32_t handle;
	uint32_t id;		/* proc << 24 | thread << 20 | serial */
	uint64_t granted;
	uint32_t page_offset;
	uint64_t mmap_offset;
	char *map;		/* mapping (page start) */
	size_t maplen;
	uint64_t dma_addr;	/* 0: not DMA-mapped */
	int published;		/* index in the process's table + 1 */
};

static uint64_t word(uint32_t id, uint64_t i)
{
	return (uint64_t)id << 32 | (uint32_t)((i + 1) * 2654435761U);
}

static size_t spanpg(const struct sbuf *b)
{
	return (b->page_offset + b->granted + PG - 1) / PG;
}

/* Large buffers are checked on a sample of pages. */
static int sampled(size_t pg, size_t npg)
{
	return npg <= 64 || pg < 2 || pg >= npg - 2 || pg % 7 == 0;
}

static void stamp(char *base, const struct sbuf *b)
{
	uint64_t *w = (uint64_t *)(base + b->page_offset);
	uint64_t i, n = b->granted / 8;

	for (i = 0; i < n; i++)
		w[i] = word(b->id, i);
}

/* Checks the buffer's bytes through @base (its span's first page). */
static int check(const char *base, const struct sbuf *b, const char *via)
{
	const volatile uint64_t *w = (const volatile uint64_t *)
		(base + b->page_offset);
	uint64_t i, n = b->granted / 8, bad = 0, first = 0, seen = 0;
	size_t npg = spanpg(b);

	for (i = 0; i < n; i++) {
		uint64_t v;

		if (!sampled((b->page_offset + i * 8) / PG, npg)) {
			i |= PG / 8 - 1;	/* skip to the page's end */
			continue;
		}
		v = w[i];
		if (v != word(b->id, i)) {
			if (!bad++) {
				first = i;
				seen = v;
			}
		}
	}
	count(S_VERIFY);
	if (!bad)
		return 1;
	__atomic_fetch_add(&sh->corrupt, 1, __ATOMIC_RELAXED);
	if ((seen >> 32) && (seen >> 32) != b->id)
		__atomic_fetch_add(&sh->foreign, 1, __ATOMIC_RELAXED);
	fail("buffer %#x (%" PRIu64 " bytes) via %s: %" PRIu64
	     " bad words, first at %" PRIu64 ": %#" PRIx64 " (owner id %#" PRIx64 ")",
	     b->id, b->granted, via, bad, first * 8, seen, seen >> 32);
	return 0;
}

/* A process's shared file and the buffers its threads publish there. */
struct proc {
	int shared_fd;
	pthread_mutex_t lock;
	struct sbuf pub[NPUB];
	int pub_used[NPUB];
	int idx;
};

struct thr {
	struct proc *p;
	int idx;
	int own_fd;
	struct rng r;
	struct sbuf b[NBUF];
	int used[NBUF];
	uint32_t serial;
};

static uint64_t pick_size(struct rng *r)
{
	/* 64 B .. 4 MiB, log-uniform. */
	unsigned int sh = 6 + rr(r, 17);

	return (1ULL << sh) + rr(r, 1ULL << sh);
}

static void do_alloc(struct thr *t, int slot)
{
	struct sbuf *b = &t->b[slot];
	struct carveout_alloc a;
	uint64_t len = pick_size(&t->r);
	uint32_t pol = rr(&t->r, 2) ? CARVEOUT_POLICY_STRICT :
				     CARVEOUT_POLICY_PREFERRED;
	int node = node_ids[rr(&t->r, nr_nodes)];
	int fd = rr(&t->r, 3) ? t->own_fd : t->p->shared_fd;
	size_t span;
	void *m;

	if (len > (4ULL << 20))
		len = 4ULL << 20;
	if (co_alloc(fd, len, pol, node, 0, &a)) {
		if (errno == ENOMEM)
			count(S_NOMEM);
		else
			fail("ALLOC %" PRIu64 " on node %d: %s", len, node,
			     strerror(errno));
		return;
	}
	count(S_ALLOC);
	if (pol == CARVEOUT_POLICY_STRICT && (int)a.out_node != node)
		fail("ALLOC strict on node %d landed on node %u", node,
		     a.out_node);
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->handle = a.handle;
	b->id = (uint32_t)t->p->idx << 24 | (uint32_t)t->idx << 20 |
		(++t->serial & 0xfffff);
	b->granted = a.granted;
	b->page_offset = a.page_offset;
	b->mmap_offset = a.mmap_offset;
	span = spanpg(b);
	m = mmap(NULL, span * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 a.mmap_offset);
	if (m == MAP_FAILED) {
		fail("mmap %" PRIu64 " bytes: %s", b->granted, strerror(errno));
		co_free(fd, a.handle);
		return;
	}
	count(S_MMAP);
	b->map = m;
	b->maplen = span * PG;
	t->used[slot] = 1;
	/* A new buffer reads as zeros (first words), then takes its pattern. */
	if (((uint64_t *)(b->map + b->page_offset))[0] ||
	    ((uint64_t *)(b->map + b->page_offset))[b->granted / 8 - 1])
		fail("buffer %#x is not zeroed", b->id);
	stamp(b->map, b);
	check(b->map, b, "new mapping");
}

static void unpublish(struct thr *t, struct sbuf *b)
{
	if (!b->published)
		return;
	pthread_mutex_lock(&t->p->lock);
	t->p->pub_used[b->published - 1] = 0;
	pthread_mutex_unlock(&t->p->lock);
	b->published = 0;
}

static void do_free(struct thr *t, int slot)
{
	struct sbuf *b = &t->b[slot];

	int unmap_first = rr(&t->r, 2);	/* else FREE while mapped */

	check(b->map, b, "before FREE");
	unpublish(t, b);
	if (unmap_first)
		munmap(b->map, b->maplen);
	if (co_free(b->fd, b->handle))
		fail("FREE %#x: %s", b->id, strerror(errno));
	else
		count(S_FREE);
	if (!unmap_first) {
		check(b->map, b, "mapping after FREE");
		munmap(b->map, b->maplen);
	}
	t->used[slot] = 0;
}

static void do_dma(struct thr *t, struct sbuf *b)
{
	struct carveout_map m;
	struct carveout_sync s;

	if (!b->dma_addr) {
		if (co_map(b->fd, b->handle, CO_EDU_PCI, rr(&t->r, 3), &m)) {
			fail("MAP %#x: %s", b->id, strerror(errno));
			return;
		}
		count(S_MAP);
		b->dma_addr = m.dma_addr;
		memset(&s, 0, sizeof(s));
		s.size = sizeof(s);
		s.handle = b->handle;
		s.flags = CARVEOUT_SYNC_FOR_DEVICE;
		s.direction = m.direction;
		s.dma_addr = m.dma_addr;
		if (ioctl(b->fd, CARVEOUT_IOC_SYNC, &s))
			fail("SYNC %#x: %s", b->id, strerror(errno));
		else
			count(S_SYNC);
		return;
	}
	if (co_unmap(b->fd, b->handle, CO_EDU_PCI, b->dma_addr))
		fail("UNMAP %#x: %s", b->id, strerror(errno));
	else
		count(S_UNMAP);
	b->dma_addr = 0;
}

/* Export, map the dma-buf and verify through it. */
static void do_export(struct thr *t, const struct sbuf *b, int fd,
		      uint32_t handle)
{
	struct dma_buf_sync sy;
	int dfd;
	char *q;

	if (co_export(fd, handle, &dfd)) {
		fail("EXPORT %#x: %s", b->id, strerror(errno));
		return;
	}
	count(S_EXPORT);
	if (b->granted >= PG) {
		q = mmap(NULL, spanpg(b) * PG, PROT_READ, MAP_SHARED, dfd, 0);
		if (q == MAP_FAILED) {
			fail("mmap dma-buf of %#x: %s", b->id, strerror(errno));
		} else {
			count(S_DBMAP);
			sy.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ;
			if (ioctl(dfd, DMA_BUF_IOCTL_SYNC, &sy))
				fail("DMA_BUF_IOCTL_SYNC: %s", strerror(errno));
			check(q, b, "dma-buf");
			sy.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
			ioctl(dfd, DMA_BUF_IOCTL_SYNC, &sy);
			if (rr(&t->r, 2))
				munmap(q, spanpg(b) * PG);
			else {
				close(dfd);	/* the mapping outlives the fd */
				dfd = -1;
				check(q, b, "dma-buf after close");
				munmap(q, spanpg(b) * PG);
			}
		}
	}
	if (dfd >= 0)
		close(dfd);
}

/* The peer thread maps a published buffer through the shared handle. */
static void do_peer(struct thr *t)
{
	struct proc *p = t->p;
	struct sbuf b;
	int i = rr(&t->r, NPUB), ok = 0;
	char *q = MAP_FAILED;

	pthread_mutex_lock(&p->lock);
	if (p->pub_used[i]) {
		b = p->pub[i];
		ok = 1;
		q = mmap(NULL, spanpg(&b) * PG, PROT_READ, MAP_SHARED,
			 p->shared_fd, b.mmap_offset);
		if (q == MAP_FAILED)
			fail("peer mmap of %#x: %s", b.id, strerror(errno));
		if (rr(&t->r, 4) == 0)
			do_export(t, &b, p->shared_fd, b.handle);
	}
	pthread_mutex_unlock(&p->lock);
	if (!ok || q == MAP_FAILED)
		return;
	/* The mapping holds the buffer even if its owner frees it now. */
	check(q, &b, "peer mapping");
	count(S_PEER);
	munmap(q, spanpg(&b) * PG);
}

static void reopen_own(struct thr *t)
{
	int i;

	for (i = 0; i < NBUF; i++) {
		if (!t->used[i] || t->b[i].fd != t->own_fd)
			continue;
		check(t->b[i].map, &t->b[i], "before close");
		unpublish(t, &t->b[i]);
		if (rr(&t->r, 2)) {
			munmap(t->b[i].map, t->b[i].maplen);
			t->used[i] = 0;
		}
	}
	close(t->own_fd);
	/* Buffers still mapped outlive the file: check, then drop them. */
	for (i = 0; i < NBUF; i++) {
		if (!t->used[i] || t->b[i].fd != t->own_fd)
			continue;
		check(t->b[i].map, &t->b[i], "after close");
		munmap(t->b[i].map, t->b[i].maplen);
		t->used[i] = 0;
	}
	t->own_fd = co_open();
	if (t->own_fd < 0)
		fail("reopen: %s", strerror(errno));
	count(S_REOPEN);
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	int i, r, slot;

	t->own_fd = co_open();
	if (t->own_fd < 0) {
		fail("open: %s", strerror(errno));
		return NULL;
	}
	while (now() < deadline) {
		slot = rr(&t->r, NBUF);
		r = rr(&t->r, 100);
		if (!t->used[slot]) {
			if (r < 70)
				do_alloc(t, slot);
			else if (r < 85)
				do_peer(t);
			else if (r < 87)
				reopen_own(t);
			continue;
		}
		if (r < 25) {
			do_free(t, slot);
		} else if (r < 45) {
			check(t->b[slot].map, &t->b[slot], "random check");
		} else if (r < 60) {
			do_dma(t, &t->b[slot]);
		} else if (r < 70) {
			do_export(t, &t->b[slot], t->b[slot].fd,
				  t->b[slot].handle);
		} else if (r < 80) {
			do_peer(t);
		} else if (r < 90 && t->b[slot].fd == t->p->shared_fd &&
			   !t->b[slot].published) {
			pthread_mutex_lock(&t->p->lock);
			for (i = 0; i < NPUB && t->p->pub_used[i]; i++)
				;
			if (i < NPUB) {
				t->p->pub[i] = t->b[slot];
				t->p->pub_used[i] = 1;
				t->b[slot].published = i + 1;
			}
			pthread_mutex_unlock(&t->p->lock);
		} else if (r < 92) {
			reopen_own(t);
		}
	}
	for (i = 0; i < NBUF; i++) {
		if (!t->used[i])
			continue;
		if (t->b[i].dma_addr && rr(&t->r, 2))
			do_dma(t, &t->b[i]);	/* else FREE drops it */
		do_free(t, i);
	}
	close(t->own_fd);
	return NULL;
}

static void proc_main(int idx, uint64_t seed)
{
	struct proc p;
	struct thr t[NTHR];
	pthread_t th[NTHR];
	int i;

	memset(&p, 0, sizeof(p));
	p.idx = idx;
	pthread_mutex_init(&p.lock, NULL);
	p.shared_fd = co_open();
	if (p.shared_fd < 0) {
		fail("open: %s", strerror(errno));
		_exit(1);
	}
	for (i = 0; i < NTHR; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].p = &p;
		t[i].idx = i;
		t[i].r.s = seed ^ ((uint64_t)idx << 40) ^ ((uint64_t)i << 32);
		if (pthread_create(&th[i], NULL, thread_main, &t[i])) {
			fail("pthread_create");
			th[i] = 0;
		}
	}
	for (i = 0; i < NTHR; i++)
		if (th[i])
			pthread_join(th[i], NULL);
	close(p.shared_fd);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct carveout_node_info nodes[16];
	const char *env = getenv("CARVEOUT_STRESS_SECS");
	double secs = argc > 1 ? atof(argv[1]) : env ? atof(env) : DEF_SECS;
	unsigned long total = 0;
	pid_t pids[NPROC];
	uint64_t seed = (uint64_t)time(NULL) * 2654435761ULL ^ getpid();
	int fd, i, status, bad_exit = 0;
	double t0, dt;

	tap_plan_begin("carveout concurrent stress");
	if (secs <= 0)
		secs = DEF_SECS;
	fd = co_open();
	if (fd < 0)
		tap_bail("cannot open %s: %s", CO_DEV, strerror(errno));
	nr_nodes = co_nodes(fd, nodes, 16);
	if (nr_nodes < 1)
		tap_bail("no node with a region");
	for (i = 0; i < nr_nodes; i++)
		node_ids[i] = nodes[i].node;
	tap_diag("%d processes x %d threads for %.0f s on %d node(s), seed %#" PRIx64,
		 NPROC, NTHR, secs, nr_nodes, seed);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		tap_bail("mmap shared counters");
	memset(sh, 0, sizeof(*sh));

	t0 = now();
	deadline = t0 + secs;
	fflush(stdout);
	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			proc_main(i + 1, seed);
		if (pids[i] < 0)
			tap_bail("fork: %s", strerror(errno));
	}
	for (i = 0; i < NPROC; i++) {
		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			bad_exit++;
	}
	dt = now() - t0;
	for (i = 0; i < S_NR; i++) {
		total += sh->ops[i];
		tap_diag("  %-13s %7lu (%.1f/s)", sname[i], sh->ops[i],
			 sh->ops[i] / dt);
	}
	tap_diag("%lu operations in %.1f s", total, dt);
	for (i = 0; i < 8 && i < (int)sh->nmsg; i++)
		tap_diag("error: %s", sh->msg[i]);

	tap_ok(!bad_exit, "all %d processes exited cleanly", NPROC);
	tap_ok(sh->ops[S_ALLOC] > 0 && sh->ops[S_FREE] > 0 &&
	       sh->ops[S_MAP] > 0 && sh->ops[S_DBMAP] > 0 && sh->ops[S_PEER] > 0,
	       "every kind of operation ran (alloc %lu, free %lu, map %lu, "
	       "dma-buf mmap %lu, peer %lu)", sh->ops[S_ALLOC], sh->ops[S_FREE],
	       sh->ops[S_MAP], sh->ops[S_DBMAP], sh->ops[S_PEER]);
	tap_ok(!sh->errors || sh->errors == sh->corrupt,
	       "no unexpected errno (%lu errors)", sh->errors - sh->corrupt);
	tap_ok(!sh->corrupt, "no buffer lost its pattern (%lu checks, %lu bad)",
	       sh->ops[S_VERIFY], sh->corrupt);
	tap_ok(!sh->foreign, "no buffer showed another buffer's data (%lu)",
	       sh->foreign);
	co_check_all_free(fd, nodes, nr_nodes);
	close(fd);
	return tap_finish();
}
