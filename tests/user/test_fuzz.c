// SPDX-License-Identifier: GPL-2.0
/*
 * Seeded ioctl/mmap fuzzer for /dev/carveout.
 *
 * Random sequences of every command with random and boundary arguments
 * (sizes, flags, reserved and output fields, size-field variants, bad and
 * faulting pointers, policies, nodes, device names), mmap/munmap/mremap of
 * buffers and dma-bufs, DMA_BUF_IOCTL_SYNC, close/reopen and fork.  A model
 * of what exists (files, handles, mappings, dma-bufs, DMA mappings) lets
 * most results be asserted exactly; any errno outside a command's
 * documented set is a failure too.  Every buffer mapped in full carries a
 * pattern derived from its file and handle, checked whenever a mapping of
 * it is verified; a buffer never written must read as zeros.  STATS must
 * agree with the model after every op (live buffers, requested and granted
 * bytes per node; a closed file keeps its handles while any mmap of it
 * remains) and, once everything is closed, every region must be free and
 * coalesced.
 *
 * Usage: test_fuzz [SEED [OPS]]   (or CARVEOUT_FUZZ_SEED, CARVEOUT_FUZZ_OPS;
 * CARVEOUT_FUZZ_MAX_SECS stops early at a time limit; CARVEOUT_FUZZ_TRACE
 * prints every op)
 * A failure prints the op index; rerun with the same seed and op count to
 * reproduce it, and with a smaller op count to bisect.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

#include <linux/dma-buf.h>

#include "co_test.h"
#include "tap.h"

/*
 * Default op count: about 75 s in the TCG test VM with the debug kernel
 * (~145 ops/s with STATS checked after every op; ~400 ops/s on the stock
 * kernel).  See the "ops/s" diagnostic line of a run to resize it.
 */
#define DEF_OPS		11000
#define DEF_MAX_SECS	400

#define PG		4096UL
#define MAXF		4	/* device files open at once */
#define MAXH		40	/* live handles per file */
#define MAXB		320	/* buffers alive (handles, mappings, dma-bufs) */
#define MAXV		96	/* CPU mappings */
#define MAXD		20	/* dma-buf fds */
#define MAXM		3	/* DMA mappings per buffer */
#define MAXN		16	/* nodes */
#define HANDLE_MAX	((1U << 23) - 1)	/* CO_HANDLE_MAX */

/* -------------------------------------------------------------------- */
/* PRNG (splitmix64): the whole run follows from the seed.                */

static uint64_t rng;

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(void)
{
	rng += 0x9e3779b97f4a7c15ULL;
	return mix(rng);
}

static uint64_t rr(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static int pct(unsigned int p)
{
	return rr(100) < p;
}

/* -------------------------------------------------------------------- */
/* Model                                                                 */

struct mbuf {
	int used;
	int file;		/* slot of the owning file */
	uint32_t gen;		/* ... and its generation */
	uint32_t handle;	/* 0 once the handle is gone */
	uint64_t length, granted, mmap_offset;
	uint32_t flags, page_offset, node;
	uint64_t seed;		/* pattern seed, from (file, handle) */
	int patterned;		/* written through a full mapping */
	int views, dmabufs;
	int nmaps;
	uint64_t map_addr[MAXM];
	uint32_t map_dir[MAXM];
};

struct mfile {
	int fd;			/* -1: slot closed */
	uint32_t gen;		/* bumps on every open */
	uint32_t freed[8];	/* recently freed handles */
};

struct mview {
	int used;
	char *addr;
	size_t len;		/* bytes, whole pages */
	int buf;
	size_t pgoff;		/* first page of the buffer's span mapped */
	int writable;
	uint32_t dev_gen;	/* through /dev/carveout: the file's generation */
};

struct mdbuf {
	int used;
	int fd;
	int buf;
	int acc;		/* O_RDONLY, O_WRONLY or O_RDWR */
};

static struct mbuf bufs[MAXB];
static struct mfile files[MAXF];
static struct mview views[MAXV];
static struct mdbuf dbufs[MAXD];

static struct carveout_node_info nodes[MAXN];
static int nr_nodes;
static uint64_t total_bytes, largest_piece, region_max;
static int pieces_known;	/* every node is one piece: EFBIG is exact */
static uint32_t slab_max;
static int is_root;
static uint32_t file_gen;

/* Statistics and failures. */
static unsigned long op_idx, nr_ops;
static unsigned long n_unexpected, n_mismatch, n_pattern, n_checked;
static unsigned long n_stats_ok, n_stats_bad, n_child_bad, n_forks;
static unsigned long n_calls[16], n_succ[16];
static unsigned long n_ro_tries, n_ro_refused;
static unsigned int n_reported;

enum { K_INFO, K_ALLOC, K_FREE, K_MAP, K_UNMAP, K_SYNC, K_EXPORT, K_STATS,
       K_BADCMD, K_MMAP, K_MUNMAP, K_MREMAP, K_DMABUF, K_REOPEN, K_FORK,
       K_NR };
static const char *const kname[K_NR] = {
	"INFO", "ALLOC", "FREE", "MAP", "UNMAP", "SYNC", "EXPORT", "STATS",
	"bad-cmd", "mmap", "munmap", "mremap", "dma-buf", "reopen", "fork",
};

static int in_child;
static char desc[128];	/* the current op's arguments, for messages */

/* The last ops, printed when STATS first disagree with the model. */
static char hist[16][144];
static unsigned long hist_op[16];
static unsigned int hist_n;
static int trace;	/* CARVEOUT_FUZZ_TRACE: print every op */

__attribute__((format(printf, 1, 2)))
static void note(const char *fmt, ...)
{
	unsigned int i = hist_n++ % 16;
	va_list ap;

	hist_op[i] = op_idx;
	va_start(ap, fmt);
	vsnprintf(hist[i], sizeof(hist[i]), fmt, ap);
	va_end(ap);
	if (trace)
		printf("# trace op %lu: %s\n", op_idx, hist[i]);
}

static void print_history(void)
{
	unsigned int i = hist_n > 16 ? hist_n - 16 : 0;

	for (; i < hist_n; i++)
		printf("#   op %lu: %s\n", hist_op[i % 16], hist[i % 16]);
}

__attribute__((format(printf, 1, 2)))
static void report(const char *fmt, ...)
{
	va_list ap;

	if (n_reported++ >= 40)
		return;
	printf("# %sop %lu: ", in_child ? "child: " : "", op_idx);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Documented errnos per command (besides 0). */
static const int ok_info[] = { EINVAL, EFAULT, E2BIG, 0 };
static const int ok_alloc[] = { EINVAL, EFAULT, E2BIG, EFBIG, ENODEV, ENOMEM,
				EDQUOT, ENOSPC, EINTR, 0 };
static const int ok_free[] = { EINVAL, EFAULT, E2BIG, ENOENT, 0 };
static const int ok_map[] = { EINVAL, EFAULT, E2BIG, ENOENT, ENODEV, ERANGE,
			      ENOMEM, EBUSY, 0 };
static const int ok_unmap[] = { EINVAL, EFAULT, E2BIG, ENOENT, ENODEV, 0 };
static const int ok_sync[] = { EINVAL, EFAULT, E2BIG, ENOENT, 0 };
static const int ok_export[] = { EINVAL, EFAULT, E2BIG, ENOENT, ENOMEM,
				 EMFILE, 0 };
static const int ok_stats[] = { EINVAL, EFAULT, E2BIG, ENODEV, ENOMEM, 0 };
static const int ok_badcmd[] = { ENOTTY, 0 };
static const int ok_mmap[] = { EINVAL, ENOMEM, EACCES, EOVERFLOW, EPERM,
			       EOPNOTSUPP, 0 };
static const int ok_mremap[] = { EINVAL, EFAULT, ENOMEM, 0 };
static const int ok_dbsync[] = { EINVAL, 0 };

static int in_set(int e, const int *set)
{
	for (; *set; set++)
		if (*set == e)
			return 1;
	return 0;
}

/*
 * Judges one result.  @got: 0 or an errno.  @exp: the expected errno, 0 for
 * success, or -1 for "success or one of @alt"; @alt (0-terminated, may be
 * NULL) lists errnos that are acceptable as well.
 */
static int judge(int k, const char *what, int got, int exp, const int *alt,
		 const int *allowed)
{
	n_calls[k]++;
	if (!got)
		n_succ[k]++;
	note("%s %s: %s (expected %d)", kname[k], what,
	     got ? strerror(got) : "ok", exp);
	if (got && !in_set(got, allowed)) {
		n_unexpected++;
		report("%s %s: errno %d (%s) is not documented", kname[k],
		       what, got, strerror(got));
		return 0;
	}
	if (got == exp || (exp < 0 && !got) || (alt && got && in_set(got, alt)))
		return 1;
	n_mismatch++;
	report("%s %s: expected %s%s, got %s", kname[k], what,
	       exp < 0 ? "one of a set" : exp ? strerror(exp) : "success",
	       alt ? " (or a listed alternative)" : "",
	       got ? strerror(got) : "success");
	return 0;
}

static size_t span_pages(const struct mbuf *b)
{
	return (b->page_offset + b->granted + PG - 1) / PG;
}

static int is_slab(const struct mbuf *b)
{
	return b->granted < PG;
}

static int find_handle(int f, uint32_t h)
{
	int i;

	if (!h)
		return -1;
	for (i = 0; i < MAXB; i++)
		if (bufs[i].used && bufs[i].file == f && bufs[i].handle == h &&
		    bufs[i].gen == files[f].gen)
			return i;
	return -1;
}

static int nr_handles(int f)
{
	int i, n = 0;

	for (i = 0; i < MAXB; i++)
		n += bufs[i].used && bufs[i].file == f && bufs[i].handle &&
		     bufs[i].gen == files[f].gen;
	return n;
}

static void buf_check_gone(int b)
{
	struct mbuf *m = &bufs[b];

	if (!m->handle && !m->views && !m->dmabufs)
		m->used = 0;
}

static int free_slot_buf(void)
{
	int i;

	for (i = 0; i < MAXB; i++)
		if (!bufs[i].used)
			return i;
	return -1;
}

static int nr_used_bufs(void)
{
	int i, n = 0;

	for (i = 0; i < MAXB; i++)
		n += bufs[i].used;
	return n;
}

/* A random live buffer of file @f (or -1). */
static int pick_handle_buf(int f)
{
	int cand[MAXB], n = 0, i;

	for (i = 0; i < MAXB; i++)
		if (bufs[i].used && bufs[i].file == f && bufs[i].handle &&
		    bufs[i].gen == files[f].gen)
			cand[n++] = i;
	return n ? cand[rr(n)] : -1;
}

static int pick_file(void)
{
	int cand[MAXF], n = 0, i;

	for (i = 0; i < MAXF; i++)
		if (files[i].fd >= 0)
			cand[n++] = i;
	return n ? cand[rr(n)] : -1;
}

/* A handle number to use with file @f: mostly live, else stale or junk. */
static uint32_t pick_handle(int f)
{
	int b, g, r = rr(100);

	if (r < 65 && (b = pick_handle_buf(f)) >= 0)
		return bufs[b].handle;
	if (r < 78) {
		g = pick_file();
		if (g >= 0 && (b = pick_handle_buf(g)) >= 0)
			return bufs[b].handle;	/* another file's handle */
	}
	if (r < 88 && files[f].freed[rr(8)])
		return files[f].freed[rr(8)];
	switch (rr(5)) {
	case 0: return 0;
	case 1: return 1 + rr(64);
	case 2: return HANDLE_MAX + rr(3);
	case 3: return ~0U - rr(2);
	default: return (uint32_t)rnd();
	}
}

/* -------------------------------------------------------------------- */
/* Patterns                                                              */

static uint64_t pat(const struct mbuf *b, uint64_t off)
{
	return b->seed ^ (off * 0x9e3779b97f4a7c15ULL);
}

/* Large buffers carry their pattern on a sample of pages. */
static int page_sampled(const struct mbuf *b, size_t pg)
{
	size_t s = span_pages(b);

	return s <= 256 || pg < 4 || pg >= s - 4 || pg % 67 == 0;
}

/*
 * Checks (or writes, @write) the buffer's bytes that view @v shows.  Returns
 * the number of bad words (0 when writing).
 */
static unsigned long view_walk(const struct mview *v, int write)
{
	const struct mbuf *b = &bufs[v->buf];
	size_t pg, npg = v->len / PG, bad = 0;
	uint64_t lo = b->page_offset, hi = b->page_offset + b->granted;

	for (pg = v->pgoff; pg < v->pgoff + npg; pg++) {
		uint64_t x, s, e;

		if (!page_sampled(b, pg))
			continue;
		s = pg * PG > lo ? pg * PG : lo;
		e = (pg + 1) * PG < hi ? (pg + 1) * PG : hi;
		for (x = s; x < e; x += 8) {
			volatile uint64_t *w = (volatile uint64_t *)
				(v->addr + (x - v->pgoff * PG));
			uint64_t want = b->patterned || write ?
					pat(b, x - lo) : 0;

			if (write)
				*w = want;
			else if (*w != want)
				bad++;
		}
	}
	return bad;
}

static int view_verify(int vi)
{
	struct mview *v = &views[vi];
	struct mbuf *b = &bufs[v->buf];
	unsigned long bad;

	if (b->patterned < 0)
		return 0;	/* reported already */
	bad = view_walk(v, 0);
	n_checked++;
	if (bad) {
		n_pattern++;
		report("mapping of buffer (file slot %d, handle %u, %" PRIu64
		       " bytes, node %u) lost its %s: %lu bad words", b->file,
		       b->handle, b->granted, b->node,
		       b->patterned ? "pattern" : "zeros", bad);
		/* Report a corrupted buffer once. */
		b->patterned = -1;
		return 0;
	}
	return 1;
}

/* -------------------------------------------------------------------- */
/* Argument placement: size-field variants, faulting and read-only args. */

enum { PL_NORMAL, PL_EDGE, PL_CROSS, PL_RO, PL_NULL };

struct argvar {
	uint32_t usize;
	int garbage;		/* a non-zero byte past the kernel's struct */
	int place;
};

static char *arena;		/* ARENA_RW bytes then a PROT_NONE page */
static char *ro_page;		/* toggled read-only around a call */
static char *none_page;		/* always PROT_NONE */
#define ARENA_RW	(4 * PG)

static void pick_argvar(struct argvar *v, size_t ksize)
{
	int r = rr(1000);

	memset(v, 0, sizeof(*v));
	v->usize = ksize;
	v->place = PL_NORMAL;
	if (r < 880)
		return;
	if (r < 900) {
		v->usize = rr(ksize);			/* short */
	} else if (r < 930) {
		v->usize = ksize + 1 + rr(r < 915 ? 16 : 3000);	/* zero tail */
	} else if (r < 950) {
		v->usize = ksize + 1 + rr(64);		/* garbage tail */
		v->garbage = 1;
	} else if (r < 960) {
		v->usize = r & 1 ? 0xffffffffU : (1U << 20) + rr(1000);
	} else if (r < 970) {
		v->place = PL_EDGE;
	} else if (r < 980) {
		v->place = PL_CROSS;
	} else if (r < 993) {
		v->place = PL_RO;
	} else {
		v->place = PL_NULL;
	}
}

/*
 * The error the argument alone causes, 0 if none.  Commands read the size,
 * then the struct and its tail (copy_struct_from_user()).
 */
static int argvar_err(const struct argvar *v, size_t ksize)
{
	if (v->place == PL_NULL)
		return EFAULT;
	if (v->usize < ksize)
		return EINVAL;
	if (v->place == PL_CROSS || v->usize > ARENA_RW)
		return EFAULT;
	if (v->garbage)
		return E2BIG;
	return 0;
}

/* Issues @cmd with @st (ksize bytes) placed as @v says; returns 0/errno. */
static int call(int fd, unsigned long cmd, void *st, size_t ksize,
		const struct argvar *v)
{
	size_t n = v->usize > ARENA_RW ? ARENA_RW : v->usize;
	char *p;
	int ret, err;

	if (n < ksize)
		n = ksize;
	switch (v->place) {
	case PL_NULL:
		ret = ioctl(fd, cmd, NULL);
		return ret ? errno : 0;
	case PL_RO:
		memcpy(ro_page, st, ksize);
		*(uint32_t *)ro_page = v->usize;
		mprotect(ro_page, PG, PROT_READ);
		ret = ioctl(fd, cmd, ro_page);
		err = errno;
		mprotect(ro_page, PG, PROT_READ | PROT_WRITE);
		memcpy(st, ro_page, ksize);
		return ret ? err : 0;
	case PL_EDGE:
		p = arena + ARENA_RW - ksize;
		n = ksize;
		break;
	case PL_CROSS:
		p = arena + ARENA_RW - ksize + 8;
		memcpy(p, st, ksize - 8);
		*(uint32_t *)p = v->usize;
		ret = ioctl(fd, cmd, p);
		return ret ? errno : 0;
	default:
		p = arena;
		break;
	}
	memset(p, 0, n);
	memcpy(p, st, ksize);
	*(uint32_t *)p = v->usize;
	if (v->garbage)
		p[ksize + rr(v->usize - ksize)] = 1 + rr(255);
	ret = ioctl(fd, cmd, p);
	err = errno;
	memcpy(st, p, ksize);
	return ret ? err : 0;
}

/* -------------------------------------------------------------------- */
/* Device names                                                          */

enum { DN_EDU, DN_PCI_EDU, DN_GARBAGE, DN_EMPTY, DN_UNTERM, DN_PLATFORM,
       DN_EDU_TAIL };

static int pick_devname(char *name)
{
	int r = rr(100), k, i;

	memset(name, 0, CARVEOUT_DEV_NAME_LEN);
	if (r < 70)
		k = DN_EDU;
	else if (r < 76)
		k = DN_PCI_EDU;
	else if (r < 82)
		k = DN_EDU_TAIL;
	else if (r < 88)
		k = DN_GARBAGE;
	else if (r < 92)
		k = DN_EMPTY;
	else if (r < 96)
		k = DN_UNTERM;
	else
		k = DN_PLATFORM;
	switch (k) {
	case DN_EDU:
		strcpy(name, CO_EDU_PCI);
		break;
	case DN_PCI_EDU:
		strcpy(name, "pci:" CO_EDU_PCI);
		break;
	case DN_EDU_TAIL:	/* bytes after the NUL do not count */
		strcpy(name, CO_EDU_PCI);
		for (i = strlen(CO_EDU_PCI) + 1; i < CARVEOUT_DEV_NAME_LEN; i++)
			name[i] = 'a' + rr(26);
		break;
	case DN_GARBAGE:
		name[0] = 'q';
		for (i = 1; i < 1 + (int)rr(CARVEOUT_DEV_NAME_LEN - 2); i++)
			name[i] = 'a' + rr(26);
		break;
	case DN_UNTERM:
		for (i = 0; i < CARVEOUT_DEV_NAME_LEN; i++)
			name[i] = 'a' + rr(26);
		break;
	case DN_PLATFORM:
		strcpy(name, "platform:nosuchdev");
		break;
	}
	return k;
}

/* Error of a device name for MAP/UNMAP or the DEVICE policy. */
static int devname_err(int k, int *lookup)
{
	*lookup = 0;
	switch (k) {
	case DN_UNTERM:
		return EINVAL;
	case DN_EMPTY:
		return -1;	/* MAP: EINVAL; DEVICE policy: ENODEV */
	case DN_GARBAGE:
	case DN_PLATFORM:
		*lookup = ENODEV;
		return 0;
	default:
		return 0;
	}
}

/* -------------------------------------------------------------------- */
/* Model <-> kernel accounting                                           */

static int any_fd(void)
{
	int i;

	for (i = 0; i < MAXF; i++)
		if (files[i].fd >= 0)
			return files[i].fd;
	return -1;
}

static void stats_check(const char *when)
{
	struct carveout_stats s;
	int i, b, bad = 0;

	for (i = 0; i < nr_nodes; i++) {
		uint64_t nb = 0, req = 0, gr = 0, pages = 0;

		for (b = 0; b < MAXB; b++) {
			if (!bufs[b].used || bufs[b].node != nodes[i].node)
				continue;
			nb++;
			req += bufs[b].length;
			gr += bufs[b].granted;
			if (!is_slab(&bufs[b]))
				pages += bufs[b].granted;
		}
		if (co_stats(any_fd(), nodes[i].node, &s)) {
			bad++;
			report("STATS node %u (%s): %s", nodes[i].node, when,
			       strerror(errno));
			continue;
		}
		if (s.nr_buffers != nb || s.requested_bytes != req ||
		    s.granted_bytes != gr || s.region_bytes != nodes[i].region_bytes ||
		    s.free_bytes > s.region_bytes - pages ||
		    s.largest_free > s.free_bytes) {
			if (bad++ || n_stats_bad)
				continue;
			report("STATS node %u (%s): buffers %llu (model %" PRIu64
			       "), requested %llu (%" PRIu64 "), granted %llu (%"
			       PRIu64 "), free %llu of %llu (model pages %" PRIu64
			       "), largest %llu", nodes[i].node, when,
			       (unsigned long long)s.nr_buffers, nb,
			       (unsigned long long)s.requested_bytes, req,
			       (unsigned long long)s.granted_bytes, gr,
			       (unsigned long long)s.free_bytes,
			       (unsigned long long)s.region_bytes, pages,
			       (unsigned long long)s.largest_free);
			print_history();
		}
	}
	if (bad)
		n_stats_bad++;
	else
		n_stats_ok++;
}

static int node_index(int64_t node)
{
	int i;

	for (i = 0; i < nr_nodes; i++)
		if ((int64_t)nodes[i].node == node)
			return i;
	return -1;
}

/* -------------------------------------------------------------------- */
/* Ops                                                                   */

/*
 * A closed file is released (its handles freed) only when its last
 * mapping goes: every mmap of /dev/carveout holds the file.  Until then
 * its generation is pinned and its handles stay alive, out of reach.
 */
static uint32_t pinned[64];
static unsigned int nr_pinned;

static void forget_gen(uint32_t gen)
{
	int b;

	for (b = 0; b < MAXB; b++) {
		if (!bufs[b].used || bufs[b].gen != gen || !bufs[b].handle)
			continue;
		bufs[b].handle = 0;
		bufs[b].nmaps = 0;	/* freeing the handle unmaps DMA */
		buf_check_gone(b);
	}
}

static int gen_mapped(uint32_t gen)
{
	int i;

	for (i = 0; i < MAXV; i++)
		if (views[i].used && views[i].dev_gen == gen)
			return 1;
	return 0;
}

/* After mappings went away: release closed files no longer mapped. */
static void reap_pinned(void)
{
	unsigned int i;

	for (i = 0; i < nr_pinned; ) {
		if (gen_mapped(pinned[i])) {
			i++;
			continue;
		}
		forget_gen(pinned[i]);
		pinned[i] = pinned[--nr_pinned];
	}
}

static void close_file(int f)
{
	uint32_t gen = files[f].gen;

	close(files[f].fd);
	files[f].fd = -1;
	if (gen_mapped(gen) && nr_pinned < 64)
		pinned[nr_pinned++] = gen;
	else
		forget_gen(gen);
}

static void open_slot(int f)
{
	files[f].fd = co_open();
	files[f].gen = ++file_gen;
	memset(files[f].freed, 0, sizeof(files[f].freed));
	if (files[f].fd < 0) {
		n_unexpected++;
		report("reopen %s: %s", CO_DEV, strerror(errno));
	}
}

static uint64_t pick_length(void)
{
	int r = rr(1000);

	if (r < 20)
		return 0;
	if (r < 300)
		return 1 + rr(slab_max);
	if (r < 330)
		return slab_max + rr(3);
	if (r < 530)
		return 1 + rr(16384);
	if (r < 700)
		return PG * (1 + rr(64)) + (pct(50) ? 0 : rr(7) - 3);
	if (r < 850)
		return 1 + rr(4 << 20);
	if (r < 900)
		return 1 + rr(32 << 20);
	if (r < 930)
		return region_max - PG * rr(3);
	if (r < 950)
		return largest_piece + 1 + rr(2) * (PG - 1);
	if (r < 970)
		return r & 1 ? ~0ULL - rr(2) : 1ULL << (34 + rr(20));
	return 1ULL << rr(28);
}

static void op_alloc(int f)
{
	static const uint32_t good_flags[] = {
		0, 0, 0, 0, CARVEOUT_ALLOC_PAGES, CARVEOUT_ALLOC_WC,
		CARVEOUT_ALLOC_UNCACHED, CARVEOUT_ALLOC_WC | CARVEOUT_ALLOC_PAGES,
	};
	struct carveout_alloc a, in;
	struct carveout_stats st;
	struct argvar v;
	int e = 0, must = 0, dk = -1, lookup = 0, got, r, b;
	const int *alt = NULL;
	static const int nomem[] = { ENOMEM, 0 };
	static const int nodev[] = { ENODEV, 0 };
	static const int inval_nomem[] = { EINVAL, ENOMEM, 0 };
	/* The same, with the result copied back to read-only memory. */
	static const int inval_nomem_fault[] = { EINVAL, ENOMEM, EFAULT, 0 };
	int64_t node;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.length = pick_length();
	r = rr(100);
	a.flags = r < 88 ? good_flags[rr(8)] : r < 93 ?
		  CARVEOUT_ALLOC_CACHE_MASK | (uint32_t)rr(2) * 4 :
		  (uint32_t)rnd() & (pct(50) ? 0xff : ~0U);
	r = rr(100);
	if (r < 80)
		a.align = 0;
	else if (r < 92)
		a.align = 1ULL << rr(28);
	else if (r < 96)
		a.align = (1ULL << rr(20)) * 3;
	else
		a.align = 1ULL << (27 + rr(20));
	r = rr(100);
	a.policy = r < 95 ? (uint32_t)rr(4) : r < 98 ? 4 + rr(4) : (uint32_t)rnd();
	r = rr(100);
	if (r < 75)
		node = nodes[rr(nr_nodes)].node;
	else if (r < 85)
		node = nr_nodes + rr(63 - nr_nodes);	/* no region (< 64) */
	else if (r < 90)
		node = -1 - (int64_t)rr(3);
	else if (r < 95)
		node = 64 + rr(2000);
	else
		node = (int32_t)rnd();
	a.node = (int32_t)node;
	if (a.policy == CARVEOUT_POLICY_DEVICE || pct(6)) {
		dk = pick_devname(a.device);
		if (a.policy != CARVEOUT_POLICY_DEVICE && pct(50))
			dk = DN_EMPTY, memset(a.device, 0, sizeof(a.device));
	}
	if (pct(4)) {
		switch (rr(7)) {
		case 0: a.handle = 1 + rr(5); break;
		case 1: a.out_node = 1; break;
		case 2: a.granted = PG; break;
		case 3: a.mmap_offset = 1ULL << 40; break;
		case 4: a.phys_addr = PG; break;
		case 5: a.page_offset = 64; break;
		default: a.reserved = 1 + rr(100); break;
		}
	}
	pick_argvar(&v, sizeof(a));

	/* The expectation, in the order the kernel checks. */
	e = argvar_err(&v, sizeof(a));
	if (!e && ((a.flags & ~CARVEOUT_ALLOC_FLAGS) ||
		   (a.flags & CARVEOUT_ALLOC_CACHE_MASK) == CARVEOUT_ALLOC_CACHE_MASK ||
		   a.handle || a.out_node || a.granted || a.mmap_offset ||
		   a.phys_addr || a.page_offset || a.reserved))
		e = EINVAL;
	if (!e && (!a.length || (a.align & (a.align - 1)) ||
		   a.policy > CARVEOUT_POLICY_MAX || dk == DN_UNTERM))
		e = EINVAL;
	if (!e && (a.length > largest_piece || a.align > largest_piece)) {
		e = EFBIG;
		if (!pieces_known && a.length <= region_max &&
		    a.align <= region_max)
			e = -1, alt = nomem;
	}
	if (!e && a.policy == CARVEOUT_POLICY_DEVICE) {
		devname_err(dk, &lookup);
		if (dk == DN_EMPTY || lookup)
			e = ENODEV;
	} else if (!e && dk >= 0 && dk != DN_EMPTY) {
		e = EINVAL;
	}
	if (!e && (a.policy == CARVEOUT_POLICY_STRICT ||
		   a.policy == CARVEOUT_POLICY_PREFERRED)) {
		if (node < 0)
			e = EINVAL;
		else if (node >= 64 && a.policy == CARVEOUT_POLICY_STRICT)
			e = EINVAL, alt = nodev;	/* MAX_NUMNODES >= 64 */
		else if (node >= 64)
			e = -1, alt = v.place == PL_RO ? inval_nomem_fault :
							 inval_nomem;
		else if (a.policy == CARVEOUT_POLICY_STRICT && node_index(node) < 0)
			e = ENODEV;
	}
	if (!e) {
		int pages = (a.flags & (CARVEOUT_ALLOC_PAGES |
					CARVEOUT_ALLOC_CACHE_MASK)) ||
			    a.length > slab_max || a.align > 64;

		e = v.place == PL_RO ? EFAULT : -1;
		alt = nomem;
		/* A strict page request a free block can hold must succeed. */
		if (a.policy == CARVEOUT_POLICY_STRICT && pages &&
		    a.align <= PG && v.place != PL_RO &&
		    !co_stats(files[f].fd, node, &st)) {
			uint64_t need = PG;

			while (need < a.length)
				need <<= 1;
			must = st.largest_free >= need;
			if (must)
				e = 0, alt = NULL;
		}
	}

	in = a;
	snprintf(desc, sizeof(desc), "slot %d len %#" PRIx64 " flags %#x align %#"
		 PRIx64 " policy %u node %" PRId64 " arg %d/%u", f,
		 (uint64_t)a.length, a.flags, (uint64_t)a.align, a.policy, node,
		 v.place, v.usize);
	got = call(files[f].fd, CARVEOUT_IOC_ALLOC, &a, sizeof(a), &v);
	if (!judge(K_ALLOC, desc, got, e, alt, ok_alloc) && got == ENOMEM && must)
		report("  (strict %" PRIu64 " bytes on node %" PRId64
		       " with a free block of %llu)", (uint64_t)in.length, node,
		       (unsigned long long)st.largest_free);
	if (got)
		return;
	if (e > 0) {
		/* Succeeded against the model: forget it again. */
		co_free(files[f].fd, a.handle);
		return;
	}
	if (!a.handle || a.handle > HANDLE_MAX || find_handle(f, a.handle) >= 0 ||
	    a.granted < in.length || node_index(a.out_node) < 0 ||
	    (in.policy == CARVEOUT_POLICY_STRICT && (int32_t)a.out_node != in.node) ||
	    !a.mmap_offset || (a.mmap_offset & (PG - 1)) ||
	    (a.granted < PG ? (a.page_offset % 64 || a.granted % 64 ||
			       (in.flags & (CARVEOUT_ALLOC_PAGES |
					    CARVEOUT_ALLOC_CACHE_MASK))) :
			      (a.page_offset || a.granted !=
			       ((in.length + PG - 1) & ~(PG - 1)))) ||
	    (is_root && (!a.phys_addr || (in.align &&
					  (a.phys_addr & (in.align - 1))))) ||
	    (!is_root && a.phys_addr)) {
		n_mismatch++;
		report("ALLOC %" PRIu64 " flags %#x align %#" PRIx64
		       ": bad outputs handle %u node %u granted %" PRIu64
		       " offset %#" PRIx64 " page_offset %u phys %#" PRIx64,
		       (uint64_t)in.length, in.flags, (uint64_t)in.align,
		       a.handle, a.out_node,
		       (uint64_t)a.granted, (uint64_t)a.mmap_offset,
		       a.page_offset, (uint64_t)a.phys_addr);
	}
	b = free_slot_buf();
	if (b < 0 || find_handle(f, a.handle) >= 0) {
		co_free(files[f].fd, a.handle);
		return;
	}
	memset(&bufs[b], 0, sizeof(bufs[b]));
	bufs[b].used = 1;
	bufs[b].file = f;
	bufs[b].gen = files[f].gen;
	bufs[b].handle = a.handle;
	bufs[b].length = in.length;
	bufs[b].granted = a.granted;
	bufs[b].mmap_offset = a.mmap_offset;
	bufs[b].flags = in.flags;
	bufs[b].page_offset = a.page_offset;
	bufs[b].node = a.out_node;
	bufs[b].seed = mix(((uint64_t)files[f].gen << 32) ^ a.handle ^
			   (rng & 0xffff0000ULL));
}

static void free_handle_model(int f, int b)
{
	uint32_t h = bufs[b].handle;

	files[f].freed[rr(8)] = h;
	bufs[b].handle = 0;
	bufs[b].nmaps = 0;
	buf_check_gone(b);
}

static void op_free(int f)
{
	struct carveout_handle h;
	struct argvar v;
	int e, b, got;

	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	h.handle = pick_handle(f);
	if (pct(3))
		h.flags = 1U << rr(32);
	if (pct(3))
		h.reserved = 1 + rr(1000);
	pick_argvar(&v, sizeof(h));
	b = find_handle(f, h.handle);
	e = argvar_err(&v, sizeof(h));
	if (!e && (h.flags || h.reserved))
		e = EINVAL;
	if (!e && b < 0)
		e = ENOENT;
	got = call(files[f].fd, CARVEOUT_IOC_FREE, &h, sizeof(h), &v);
	snprintf(desc, sizeof(desc), "slot %d handle %u (buffer %d) arg %d/%u",
		 f, h.handle, b, v.place, v.usize);
	judge(K_FREE, desc, got, e, NULL, ok_free);
	if (!got && b >= 0)
		free_handle_model(f, b);
}

static void op_map(int f)
{
	struct carveout_map m;
	struct argvar v;
	int e, b, got, dk, lookup, de, i;
	static const int mapres[] = { ENOMEM, ERANGE, 0 };

	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.handle = pick_handle(f);
	b = find_handle(f, m.handle);
	if (b >= 0 && bufs[b].nmaps >= MAXM)
		return;
	m.direction = pct(92) ? rr(3) : 3 + rr(100);
	dk = pick_devname(m.device);
	if (pct(3))
		m.flags = 1U << rr(32);
	if (pct(3))
		m.dma_addr = PG << rr(20);
	if (pct(3))
		m.dma_mask = ~0ULL;
	pick_argvar(&v, sizeof(m));
	de = devname_err(dk, &lookup);
	e = argvar_err(&v, sizeof(m));
	if (!e && (m.flags || m.direction > 2 || de || m.dma_mask || m.dma_addr))
		e = EINVAL;
	if (!e && b < 0)
		e = ENOENT;
	if (!e && lookup)
		e = lookup;
	/* One mapping the device may write per buffer. */
	for (i = 0; !e && m.direction != CARVEOUT_DMA_TO_DEVICE &&
	     i < bufs[b].nmaps; i++)
		if (bufs[b].map_dir[i] != CARVEOUT_DMA_TO_DEVICE)
			e = EBUSY;
	got = call(files[f].fd, CARVEOUT_IOC_MAP, &m, sizeof(m), &v);
	snprintf(desc, sizeof(desc), "slot %d handle %u (buffer %d) dir %u "
		 "dev %.20s arg %d/%u", f, m.handle, b, m.direction, m.device,
		 v.place, v.usize);
	judge(K_MAP, desc, got, e ? e : v.place == PL_RO ? EFAULT : -1,
	      e ? NULL : mapres, ok_map);
	if (got || e)
		return;
	if (!m.dma_mask) {
		n_mismatch++;
		report("MAP: no dma_mask reported");
	}
	bufs[b].map_addr[bufs[b].nmaps] = m.dma_addr;
	bufs[b].map_dir[bufs[b].nmaps] = m.direction;
	bufs[b].nmaps++;
}

static void op_unmap(int f)
{
	struct carveout_map m;
	struct argvar v;
	int e, b, got, dk, lookup, de, i, hit = -1;

	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.handle = pick_handle(f);
	b = find_handle(f, m.handle);
	m.direction = pct(95) ? rr(3) : 3 + rr(100);
	dk = pick_devname(m.device);
	if (b >= 0 && bufs[b].nmaps && pct(80))
		m.dma_addr = bufs[b].map_addr[rr(bufs[b].nmaps)];
	else
		m.dma_addr = pct(50) ? 0 : rnd() & ~(PG - 1);
	if (pct(3))
		m.flags = 1U << rr(32);
	if (pct(3))
		m.dma_mask = 1 + rr(100);
	pick_argvar(&v, sizeof(m));
	de = devname_err(dk, &lookup);
	e = argvar_err(&v, sizeof(m));
	if (!e && (m.flags || m.direction > 2 || de || m.dma_mask))
		e = EINVAL;
	if (!e && b < 0)
		e = ENOENT;
	if (!e && lookup)
		e = lookup;
	if (!e) {
		for (i = 0; i < bufs[b].nmaps; i++)
			if (bufs[b].map_addr[i] == m.dma_addr)
				hit = i;
		if (hit < 0)
			e = ENOENT;
	}
	got = call(files[f].fd, CARVEOUT_IOC_UNMAP, &m, sizeof(m), &v);
	judge(K_UNMAP, hit >= 0 ? "of a mapping" : "", got, e, NULL, ok_unmap);
	if (!got && hit >= 0) {
		for (i = hit; i + 1 < bufs[b].nmaps; i++) {
			bufs[b].map_addr[i] = bufs[b].map_addr[i + 1];
			bufs[b].map_dir[i] = bufs[b].map_dir[i + 1];
		}
		bufs[b].nmaps--;
	}
}

static void op_sync(int f)
{
	struct carveout_sync s;
	struct argvar v;
	int e, b, got, i, r;
	uint64_t len;

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.handle = pick_handle(f);
	b = find_handle(f, s.handle);
	r = rr(100);
	s.flags = r < 45 ? CARVEOUT_SYNC_FOR_CPU : r < 90 ?
		  CARVEOUT_SYNC_FOR_DEVICE : (uint32_t)rr(8) << rr(3);
	s.direction = pct(95) ? rr(3) : 3 + rr(1000);
	if (b >= 0) {
		uint64_t g = bufs[b].granted;

		switch (rr(6)) {
		case 0: s.offset = 0; s.length = 0; break;
		case 1: s.offset = rr(g); s.length = rr(g - s.offset + 1); break;
		case 2: s.offset = rr(g); s.length = 0; break;
		case 3: s.offset = g - rr(2); s.length = rr(3); break;
		case 4: s.offset = rr(g); s.length = ~0ULL - rr(g); break;
		default: s.offset = rnd(); s.length = rnd() >> rr(64); break;
		}
		if (bufs[b].nmaps && pct(50))
			s.dma_addr = bufs[b].map_addr[rr(bufs[b].nmaps)];
		else if (pct(20))
			s.dma_addr = rnd() & ~(PG - 1);
	} else {
		s.length = rr(PG);
	}
	pick_argvar(&v, sizeof(s));
	e = argvar_err(&v, sizeof(s));
	if (!e && ((s.flags != CARVEOUT_SYNC_FOR_CPU &&
		    s.flags != CARVEOUT_SYNC_FOR_DEVICE) || s.direction > 2))
		e = EINVAL;
	if (!e && b < 0)
		e = ENOENT;
	if (!e) {
		uint64_t g = bufs[b].granted;

		len = s.length;
		if (!len && s.offset < g)
			len = g - s.offset;
		if (s.offset >= g || len > g - s.offset)
			e = EINVAL;
	}
	if (!e) {
		e = ENOENT;
		for (i = 0; i < bufs[b].nmaps; i++) {
			if (s.dma_addr && bufs[b].map_addr[i] != s.dma_addr)
				continue;
			if (bufs[b].map_dir[i] != s.direction) {
				if (s.dma_addr) {
					e = EINVAL;
					break;
				}
				continue;
			}
			e = 0;
		}
	}
	got = call(files[f].fd, CARVEOUT_IOC_SYNC, &s, sizeof(s), &v);
	judge(K_SYNC, "", got, e, NULL, ok_sync);
}

static void dbuf_close(int d)
{
	int b = dbufs[d].buf;

	note("close dma-buf of buffer %d", b);
	close(dbufs[d].fd);
	dbufs[d].used = 0;
	bufs[b].dmabufs--;
	buf_check_gone(b);
}

static void op_export(int f)
{
	struct carveout_export x;
	struct argvar v;
	int e, b, got, d, r;
	static const int exres[] = { ENOMEM, EMFILE, 0 };

	for (d = 0; d < MAXD && dbufs[d].used; d++)
		;
	if (d == MAXD) {
		dbuf_close(rr(MAXD));
		for (d = 0; dbufs[d].used; d++)
			;
	}
	memset(&x, 0, sizeof(x));
	x.size = sizeof(x);
	x.handle = pick_handle(f);
	b = find_handle(f, x.handle);
	r = rr(100);
	x.flags = r < 65 ? O_RDWR | O_CLOEXEC : r < 78 ? O_RDWR : r < 86 ?
		  O_RDONLY | (pct(50) ? O_CLOEXEC : 0) : r < 90 ? O_WRONLY :
		  r < 94 ? O_ACCMODE : (uint32_t)rnd() >> rr(32);
	if (pct(3))
		x.fd = 1 + rr(100);
	pick_argvar(&v, sizeof(x));
	e = argvar_err(&v, sizeof(x));
	if (!e && ((x.flags & ~(O_CLOEXEC | O_ACCMODE)) ||
		   (x.flags & O_ACCMODE) == O_ACCMODE || x.fd))
		e = EINVAL;
	if (!e && b < 0)
		e = ENOENT;
	got = call(files[f].fd, CARVEOUT_IOC_EXPORT, &x, sizeof(x), &v);
	snprintf(desc, sizeof(desc), "slot %d handle %u (buffer %d) flags %#x "
		 "arg %d/%u -> fd %d", f, x.handle, b, x.flags, v.place, v.usize,
		 x.fd);
	judge(K_EXPORT, desc, got, e ? e : v.place == PL_RO ? EFAULT : -1,
	      e ? NULL : exres, ok_export);
	if (got)
		return;
	if (e || x.fd < 0) {
		if (x.fd >= 0)
			close(x.fd);
		return;
	}
	if (!!(fcntl(x.fd, F_GETFD) & FD_CLOEXEC) != !!(x.flags & O_CLOEXEC) ||
	    (fcntl(x.fd, F_GETFL) & O_ACCMODE) != (int)(x.flags & O_ACCMODE)) {
		n_mismatch++;
		report("EXPORT flags %#x: dma-buf fd has fd flags %#x, file flags %#x",
		       x.flags, fcntl(x.fd, F_GETFD), fcntl(x.fd, F_GETFL));
	}
	dbufs[d].used = 1;
	dbufs[d].fd = x.fd;
	dbufs[d].buf = b;
	dbufs[d].acc = x.flags & O_ACCMODE;
	bufs[b].dmabufs++;
}

static void op_info(int f)
{
	struct carveout_node_info ni[MAXN];
	struct carveout_info in;
	struct argvar v;
	int e, got, r, i;

	memset(&in, 0, sizeof(in));
	in.size = sizeof(in);
	r = rr(100);
	in.nodes_cap = r < 50 ? MAXN : r < 70 ? rr(3) : 0;
	in.nodes_ptr = (uintptr_t)ni;
	if (pct(5))
		in.nodes_ptr = 0;
	else if (pct(5))
		in.nodes_ptr = (uintptr_t)none_page;
	if (in.nodes_cap > MAXN)
		in.nodes_cap = MAXN;
	if (pct(4)) {
		switch (rr(5)) {
		case 0: in.flags = 1U << rr(32); break;
		case 1: in.caps = 1; break;
		case 2: in.page_size = 4096; break;
		case 3: in.total_bytes = 1; break;
		default: in.user_limit = 1; break;
		}
	}
	pick_argvar(&v, sizeof(in));
	e = argvar_err(&v, sizeof(in));
	if (!e && (in.flags || in.caps || in.page_size || in.total_bytes ||
		   in.user_limit || (in.nodes_cap && !in.nodes_ptr)))
		e = EINVAL;
	if (!e && in.nodes_cap && in.nodes_ptr == (uintptr_t)none_page)
		e = EFAULT;
	if (!e && v.place == PL_RO)
		e = EFAULT;
	got = call(files[f].fd, CARVEOUT_IOC_INFO, &in, sizeof(in), &v);
	judge(K_INFO, "", got, e, NULL, ok_info);
	if (got || e)
		return;
	if ((int)in.nr_nodes != nr_nodes || in.total_bytes != total_bytes ||
	    in.page_size != PG || in.max_alloc > total_bytes) {
		n_mismatch++;
		report("INFO: %u nodes, %llu bytes, page %u, max_alloc %llu",
		       in.nr_nodes, (unsigned long long)in.total_bytes,
		       in.page_size, (unsigned long long)in.max_alloc);
	}
	for (i = 0; i < (int)in.nodes_cap && i < nr_nodes; i++)
		if (ni[i].node != nodes[i].node ||
		    ni[i].region_bytes != nodes[i].region_bytes ||
		    ni[i].free_bytes > ni[i].region_bytes ||
		    ni[i].largest_free > ni[i].free_bytes) {
			n_mismatch++;
			report("INFO node %d: node %u region %llu free %llu largest %llu",
			       i, ni[i].node, (unsigned long long)ni[i].region_bytes,
			       (unsigned long long)ni[i].free_bytes,
			       (unsigned long long)ni[i].largest_free);
		}
}

static void op_stats(int f)
{
	struct carveout_stats s;
	struct argvar v;
	int e, got, r;

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	r = rr(100);
	s.node = r < 80 ? nodes[rr(nr_nodes)].node : r < 90 ? nr_nodes + rr(70) :
		 (uint32_t)rnd();
	if (pct(4)) {
		switch (rr(4)) {
		case 0: s.flags = 1U << rr(32); break;
		case 1: s.nr_orders = 1; break;
		case 2: s.free_bytes = 1; break;
		default: s.free_blocks[rr(40)] = 1; break;
		}
	}
	pick_argvar(&v, sizeof(s));
	e = argvar_err(&v, sizeof(s));
	if (!e && (s.flags || s.nr_orders || s.free_bytes))
		e = EINVAL;
	if (!e) {
		int i;

		for (i = 0; i < 40; i++)
			if (s.free_blocks[i])
				e = EINVAL;
	}
	if (!e && node_index(s.node) < 0)
		e = ENODEV;
	if (!e && v.place == PL_RO)
		e = EFAULT;
	got = call(files[f].fd, CARVEOUT_IOC_STATS, &s, sizeof(s), &v);
	judge(K_STATS, "", got, e, NULL, ok_stats);
}

static void op_badcmd(int f)
{
	static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
					     _IOC_READ | _IOC_WRITE };
	char arg[512];
	unsigned long cmd;
	int got;

	memset(arg, 0, sizeof(arg));
	if (pct(50))	/* a known number with the wrong size or direction */
		cmd = _IOC(dirs[rr(4)], CARVEOUT_IOC_MAGIC, rr(8),
			   8 * rr(60));
	else
		cmd = _IOC(dirs[rr(4)], CARVEOUT_IOC_MAGIC, 8 + rr(248),
			   rr(400));
	switch (cmd) {
	case CARVEOUT_IOC_INFO: case CARVEOUT_IOC_ALLOC: case CARVEOUT_IOC_FREE:
	case CARVEOUT_IOC_MAP: case CARVEOUT_IOC_UNMAP: case CARVEOUT_IOC_SYNC:
	case CARVEOUT_IOC_EXPORT: case CARVEOUT_IOC_STATS:
		return;
	}
	got = ioctl(files[f].fd, cmd, arg) ? errno : 0;
	judge(K_BADCMD, "", got, ENOTTY, NULL, ok_badcmd);
}

static int free_view_slot(void)
{
	int i;

	for (i = 0; i < MAXV; i++)
		if (!views[i].used)
			return i;
	return -1;
}

static int add_view(char *addr, size_t len, int b, size_t pgoff, int wr)
{
	int vi = free_view_slot();

	if (vi < 0) {
		munmap(addr, len);
		return -1;
	}
	views[vi].used = 1;
	views[vi].addr = addr;
	views[vi].len = len;
	views[vi].buf = b;
	views[vi].pgoff = pgoff;
	views[vi].writable = wr;
	views[vi].dev_gen = 0;
	bufs[b].views++;
	return vi;
}

/* A new mapping: verify it; a full writable one stamps the pattern. */
static void new_view(int vi)
{
	struct mview *v = &views[vi];
	struct mbuf *b = &bufs[v->buf];

	if (!view_verify(vi))
		return;
	if (!b->patterned && v->writable && v->pgoff == 0 &&
	    v->len / PG == span_pages(b)) {
		view_walk(v, 1);
		b->patterned = 1;
	}
}

/* mmap of a /dev/carveout buffer (@dfd < 0) or of dma-buf @d. */
static void op_mmap(int f, int d)
{
	uint64_t off = 0, span = 0, pgoff = 0, npg;
	int b = -1, r, e = 0, got, shared = 1, wr, mflags, prot;
	size_t len;
	char *p;

	if (d >= 0) {
		b = dbufs[d].buf;
	} else {
		uint32_t h = pick_handle(f);

		b = find_handle(f, h);
		if (b < 0 && pct(50)) {
			/* Another file's buffer through this file. */
			int i = rr(MAXB);

			if (bufs[i].used && bufs[i].handle)
				b = find_handle(f, bufs[i].handle), h = bufs[i].handle;
		}
		off = (uint64_t)h << 40;
	}
	if (b >= 0) {
		span = span_pages(&bufs[b]);
		if (d < 0)
			off = bufs[b].mmap_offset;
	}
	r = rr(100);
	if (b < 0 || r < 55) {
		pgoff = 0;
		npg = span ? span : 1;
	} else if (r < 75) {
		pgoff = rr(span);
		npg = 1 + rr(span - pgoff);
	} else if (r < 83) {
		pgoff = rr(span + 1);
		npg = span - pgoff + 1 + rr(3);		/* past the end */
	} else if (r < 88) {
		pgoff = span + rr(4);
		npg = 1;
	} else {
		pgoff = 0;
		npg = span;
	}
	len = npg * PG;
	if (pct(3))
		len -= rr(PG);			/* rounded up by mmap */
	if (d < 0)
		off += pgoff * PG;
	else
		off = pgoff * PG;
	if (pct(2))
		off += 1 + rr(PG - 1);		/* unaligned */
	if (pct(2))
		len = 0;
	if (d < 0 && pct(2))
		off = rnd() & ~(PG - 1);	/* garbage */
	shared = !pct(6);
	wr = pct(80);
	prot = PROT_READ | (wr ? PROT_WRITE : 0);
	mflags = shared ? MAP_SHARED : MAP_PRIVATE;
	if (shared && pct(10))
		mflags = MAP_SHARED_VALIDATE;

	/* Expectation. */
	if (!len || (off & (PG - 1)))
		e = EINVAL;
	else if (d >= 0 && (dbufs[d].acc == O_WRONLY ||
			    (shared && wr && dbufs[d].acc != O_RDWR)))
		e = EACCES;
	else if (d < 0 && (off >> 40) > HANDLE_MAX)
		e = EINVAL;
	else if (d < 0 && find_handle(f, off >> 40) != b)
		e = EINVAL;	/* not this file's buffer */
	else if (b < 0 || !shared)
		e = EINVAL;
	else if ((d < 0 ? ((off >> 12) & ((1UL << 28) - 1)) : off >> 12) != pgoff)
		e = EINVAL;	/* garbage offset: judged below */
	else if (d >= 0 && is_slab(&bufs[b]))
		e = EINVAL;
	else if (pgoff >= span || (len + PG - 1) / PG > span - pgoff)
		e = EINVAL;
	if (e == 0 && b < 0)
		e = EINVAL;

	p = mmap(NULL, len, prot, mflags, d >= 0 ? dbufs[d].fd : files[f].fd, off);
	got = p == MAP_FAILED ? errno : 0;
	if (!e && d >= 0 && dbufs[d].acc == O_RDONLY) {
		/*
		 * A shared read-only mapping of a read-only dma-buf: the VMA
		 * has VM_MAYSHARE but not VM_SHARED.  Counted on its own.
		 */
		n_ro_tries++;
		if (got == EINVAL) {
			n_ro_refused++;
			n_calls[K_DMABUF]++;
			return;
		}
	}
	if (d < 0 && (off >> 40) <= HANDLE_MAX && (off & (PG - 1)) == 0 && len &&
	    ((off >> 12) & ((1UL << 28) - 1)) != pgoff) {
		/* Garbage offset: whatever buffer it names, don't judge. */
		n_calls[K_MMAP]++;
		if (got && !in_set(got, ok_mmap)) {
			n_unexpected++;
			report("mmap at %#" PRIx64 ": errno %d", off, got);
		}
		if (!got)
			munmap(p, len);
		return;
	}
	snprintf(desc, sizeof(desc), "%s%d buffer %d off %#" PRIx64 " len %#zx "
		 "%s prot %d", d >= 0 ? "dma-buf " : "slot ", d >= 0 ? d : f, b,
		 off, len, shared ? "shared" : "private", prot);
	judge(d >= 0 ? K_DMABUF : K_MMAP, desc, got, e, NULL, ok_mmap);
	if (got)
		return;
	if (e) {
		munmap(p, len);
		return;
	}
	len = (len + PG - 1) & ~(PG - 1);
	r = add_view(p, len, b, pgoff, wr);
	if (r >= 0) {
		views[r].dev_gen = d < 0 ? files[f].gen : 0;
		new_view(r);
	}
}

static void op_munmap(void)
{
	int vi = rr(MAXV), nv, got;
	struct mview *v = &views[vi], keep;
	size_t npg, a, n;

	if (!v->used)
		return;
	if (pct(50))
		view_verify(vi);
	npg = v->len / PG;
	if (npg < 2 || pct(60)) {
		got = munmap(v->addr, v->len) ? errno : 0;
		snprintf(desc, sizeof(desc), "view %d of buffer %d (%zu pages)",
			 vi, v->buf, npg);
		judge(K_MUNMAP, desc, got, 0, NULL, ok_mmap);
		v->used = 0;
		bufs[v->buf].views--;
		buf_check_gone(v->buf);
		reap_pinned();
		return;
	}
	/* Partial: unmap pages [a, a + n). */
	a = rr(npg);
	n = 1 + rr(npg - a);
	if (a == 0 && n == npg)
		n--;
	got = munmap(v->addr + a * PG, n * PG) ? errno : 0;
	snprintf(desc, sizeof(desc), "view %d of buffer %d: pages %zu+%zu of %zu",
		 vi, v->buf, a, n, npg);
	judge(K_MUNMAP, desc, got, 0, NULL, ok_mmap);
	if (got)
		return;
	keep = *v;
	if (a == 0) {
		v->addr += n * PG;
		v->len -= n * PG;
		v->pgoff += n;
	} else {
		v->len = a * PG;
		if (a + n < npg) {
			nv = add_view(keep.addr + (a + n) * PG,
				      (npg - a - n) * PG, keep.buf,
				      keep.pgoff + a + n, keep.writable);
			if (nv >= 0)
				views[nv].dev_gen = keep.dev_gen;
		}
	}
	view_verify(vi);
}

static void op_mremap(void)
{
	int vi = rr(MAXV), got, r = rr(100);
	struct mview *v = &views[vi];
	size_t npg;
	char *p, *dst;

	if (!v->used)
		return;
	npg = v->len / PG;
	if (r < 30 && npg > 1) {
		/* Shrink in place. */
		size_t keep = 1 + rr(npg - 1);

		p = mremap(v->addr, v->len, keep * PG, 0);
		got = p == MAP_FAILED ? errno : 0;
		snprintf(desc, sizeof(desc), "shrink view %d of buffer %d (%zu pages)",
			 vi, v->buf, npg);
		judge(K_MREMAP, desc, got, 0, NULL, ok_mremap);
		if (!got) {
			if (p != v->addr) {
				n_mismatch++;
				report("mremap shrink moved the mapping");
			}
			v->addr = p;
			v->len = keep * PG;
			view_verify(vi);
		}
	} else if (r < 55) {
		/* Grow: VM_DONTEXPAND refuses. */
		p = mremap(v->addr, v->len, v->len + PG, MREMAP_MAYMOVE);
		got = p == MAP_FAILED ? errno : 0;
		snprintf(desc, sizeof(desc), "grow view %d of buffer %d (%zu pages)",
			 vi, v->buf, npg);
		judge(K_MREMAP, desc, got, EFAULT, NULL, ok_mremap);
		if (!got) {
			munmap(p + v->len, PG);
			v->addr = p;
		}
	} else if (r < 85) {
		/* Move to a fixed new place. */
		dst = mmap(NULL, v->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
		if (dst == MAP_FAILED)
			return;
		p = mremap(v->addr, v->len, v->len,
			   MREMAP_MAYMOVE | MREMAP_FIXED, dst);
		got = p == MAP_FAILED ? errno : 0;
		snprintf(desc, sizeof(desc), "move view %d of buffer %d (%zu pages)",
			 vi, v->buf, npg);
		judge(K_MREMAP, desc, got, 0, NULL, ok_mremap);
		if (got) {
			munmap(dst, v->len);
			return;
		}
		v->addr = p;
		view_verify(vi);
	} else {
		/* old_len 0 duplicates a shared mapping, unless it can't grow. */
		p = mremap(v->addr, 0, PG, MREMAP_MAYMOVE);
		got = p == MAP_FAILED ? errno : 0;
		note("mremap dup view %d of buffer %d: %s", vi, v->buf,
		     got ? strerror(got) : "ok");
		n_calls[K_MREMAP]++;
		if (got && !in_set(got, ok_mremap)) {
			n_unexpected++;
			report("mremap dup: errno %d", got);
		}
		if (!got) {
			int nv = add_view(p, PG, v->buf, v->pgoff, v->writable);

			if (nv >= 0) {
				views[nv].dev_gen = v->dev_gen;
				view_verify(nv);
			}
		}
	}
}

static void op_dmabuf(void)
{
	struct dma_buf_sync s;
	int d = rr(MAXD), r = rr(100), e, got;

	if (!dbufs[d].used)
		return;
	if (r < 25) {
		dbuf_close(d);
		n_calls[K_DMABUF]++;
		return;
	}
	if (r < 70) {
		op_mmap(-1, d);
		return;
	}
	s.flags = pct(85) ? (pct(50) ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END) |
		  (1 + rr(3)) : rnd() >> rr(64);
	e = (s.flags & ~DMA_BUF_SYNC_VALID_FLAGS_MASK) ||
	    !(s.flags & DMA_BUF_SYNC_RW) ? EINVAL : 0;
	got = ioctl(dbufs[d].fd, DMA_BUF_IOCTL_SYNC, &s) ? errno : 0;
	judge(K_DMABUF, "SYNC", got, e, NULL, ok_dbsync);
}

static void op_reopen(void)
{
	int f = rr(MAXF);

	note("close file slot %d (%d handles)", f, nr_handles(f));
	if (files[f].fd >= 0) {
		close_file(f);
		if (f > 0 && pct(50))
			return;		/* leave the slot closed a while */
	}
	open_slot(f);
	n_calls[K_REOPEN]++;
}

static void op_fork(void)
{
	int status, i, k;
	pid_t pid;

	note("fork");
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		n_unexpected++;
		report("fork: %s", strerror(errno));
		return;
	}
	n_forks++;
	if (pid == 0) {
		unsigned long bad0 = n_pattern + n_mismatch + n_unexpected;
		struct carveout_alloc a;
		int cfd, f;

		in_child = 1;
		/* The child sees the parent's mappings. */
		for (k = 0; k < 4; k++) {
			i = rr(MAXV);
			if (views[i].used)
				view_verify(i);
		}
		/* Alloc/map/free on an inherited file: its state comes back. */
		f = pick_file();
		if (f >= 0 && nr_handles(f) < MAXH &&
		    co_alloc(files[f].fd, 1 + rr(3 * PG), CARVEOUT_POLICY_LOCAL, 0,
			     0, &a) == 0) {
			char *p = co_mmap(files[f].fd, &a);

			if (p) {
				memset(p, 0x5c, a.granted);
				if (p[0] != 0x5c || p[a.granted - 1] != 0x5c)
					n_pattern++;
			}
			if (co_free(files[f].fd, a.handle))
				n_mismatch++;
		}
		/* A file of its own, left for exit() to clean up. */
		cfd = co_open();
		for (k = 0; cfd >= 0 && k < 3; k++)
			if (co_alloc(cfd, 1 + rr(64 << 10), CARVEOUT_POLICY_LOCAL,
				     0, 0, &a) == 0 && pct(50))
				co_mmap(cfd, &a);
		/* Close some inherited dma-bufs and files. */
		for (i = 0; i < MAXD; i++)
			if (dbufs[i].used && pct(30))
				close(dbufs[i].fd);
		if (pct(30) && files[0].fd >= 0)
			close(files[0].fd);
		fflush(stdout);
		i = n_pattern + n_mismatch + n_unexpected - bad0;
		_exit(i > 100 ? 100 : i);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		n_child_bad++;
		report("fork: child status %#x", status);
	}
	n_calls[K_FORK]++;
}

static void run_op(void)
{
	int f = pick_file(), r = rr(1000);

	if (f < 0) {
		op_reopen();
		return;
	}
	if (r < 200) {
		if (nr_handles(f) >= MAXH || nr_used_bufs() >= MAXB - 8)
			op_free(f);
		else
			op_alloc(f);
	} else if (r < 320) {
		op_free(f);
	} else if (r < 430) {
		if (free_view_slot() < 0)
			op_munmap();
		else
			op_mmap(f, -1);
	} else if (r < 500) {
		op_munmap();
	} else if (r < 530) {
		op_mremap();
	} else if (r < 580) {
		int i = rr(MAXV);

		if (views[i].used)
			view_verify(i);
	} else if (r < 650) {
		op_map(f);
	} else if (r < 700) {
		op_unmap(f);
	} else if (r < 760) {
		op_sync(f);
	} else if (r < 810) {
		op_export(f);
	} else if (r < 880) {
		op_dmabuf();
	} else if (r < 905) {
		op_info(f);
	} else if (r < 935) {
		op_stats(f);
	} else if (r < 960) {
		op_badcmd(f);
	} else if (r < 985) {
		stats_check("mid-run");
	} else if (r < 997) {
		op_reopen();
	} else {
		op_fork();
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t env_num(const char *argv, const char *env, uint64_t def)
{
	const char *s = argv ? argv : getenv(env);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

int main(int argc, char **argv)
{
	struct carveout_info info;
	struct carveout_stats s;
	uint64_t seed, max_secs;
	unsigned long verified_end = 0, bad_end = 0;
	double t0, dt;
	int i, fd, k;

	tap_plan_begin("carveout ioctl/mmap fuzzer");
	seed = env_num(argc > 1 ? argv[1] : NULL, "CARVEOUT_FUZZ_SEED",
		       mix((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32)));
	nr_ops = env_num(argc > 2 ? argv[2] : NULL, "CARVEOUT_FUZZ_OPS", DEF_OPS);
	max_secs = env_num(NULL, "CARVEOUT_FUZZ_MAX_SECS", DEF_MAX_SECS);
	trace = !!getenv("CARVEOUT_FUZZ_TRACE");
	tap_diag("seed 0x%016" PRIx64, seed);
	tap_diag("ops %lu (reproduce: test_fuzz 0x%" PRIx64 " %lu)", nr_ops,
		 seed, nr_ops);
	rng = seed;
	is_root = geteuid() == 0;

	fd = co_open();
	if (fd < 0)
		tap_bail("cannot open %s: %s", CO_DEV, strerror(errno));
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.nodes_cap = MAXN;
	info.nodes_ptr = (uintptr_t)nodes;
	if (ioctl(fd, CARVEOUT_IOC_INFO, &info) || !info.nr_nodes)
		tap_bail("INFO failed or no region");
	nr_nodes = info.nr_nodes < MAXN ? info.nr_nodes : MAXN;
	total_bytes = info.total_bytes;
	slab_max = info.slab_max;
	pieces_known = 1;
	for (i = 0; i < nr_nodes; i++) {
		if (nodes[i].region_bytes > region_max)
			region_max = nodes[i].region_bytes;
		if (nodes[i].nr_pieces != 1)
			pieces_known = 0;
	}
	largest_piece = region_max;	/* exact when every node is one piece */
	for (i = 0; i < nr_nodes; i++) {
		if (co_stats(fd, nodes[i].node, &s) || s.nr_buffers ||
		    s.free_bytes != s.region_bytes)
			tap_bail("node %u is not idle at the start (another test "
				 "left buffers?)", nodes[i].node);
	}
	close(fd);
	tap_diag("%d node(s), region %" PRIu64 " MiB, slab_max %u", nr_nodes,
		 region_max >> 20, slab_max);

	arena = mmap(NULL, ARENA_RW + 3 * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (arena == MAP_FAILED)
		tap_bail("mmap arena");
	none_page = arena + ARENA_RW;
	ro_page = arena + ARENA_RW + 2 * PG;
	mprotect(none_page, PG, PROT_NONE);

	for (i = 0; i < MAXF; i++)
		files[i].fd = -1;
	open_slot(0);
	open_slot(1);

	t0 = now();
	for (op_idx = 0; op_idx < nr_ops; op_idx++) {
		run_op();
		/* Until the first disagreement, STATS are checked every op. */
		if (!n_stats_bad)
			stats_check("after the op");
		if (op_idx % 256 == 255 && now() - t0 > max_secs) {
			tap_diag("time limit (%" PRIu64 " s): stopping after %lu ops",
				 max_secs, op_idx + 1);
			op_idx++;
			break;
		}
	}
	dt = now() - t0;
	nr_ops = op_idx;
	tap_diag("%lu ops in %.1f s (%.0f ops/s), %lu forks", nr_ops, dt,
		 nr_ops / (dt > 0 ? dt : 1), n_forks);
	for (k = 0; k < K_NR; k++)
		if (n_calls[k])
			tap_diag("  %-8s %6lu calls, %6lu succeeded", kname[k],
				 n_calls[k], n_succ[k]);
	stats_check("end of run");

	/* Verify every mapping one last time, then close everything. */
	for (i = 0; i < MAXV; i++) {
		if (!views[i].used)
			continue;
		verified_end++;
		if (!view_verify(i))
			bad_end++;
		munmap(views[i].addr, views[i].len);
		views[i].used = 0;
		bufs[views[i].buf].views--;
		buf_check_gone(views[i].buf);
	}
	reap_pinned();
	for (i = 0; i < MAXD; i++)
		if (dbufs[i].used)
			dbuf_close(i);
	fd = co_open();
	stats_check("files still open");
	for (i = 0; i < MAXF; i++) {
		if (files[i].fd < 0)
			continue;
		close_file(i);
	}
	files[0].fd = fd;
	stats_check("everything closed");
	files[0].fd = -1;

	tap_ok(!n_unexpected, "%lu ops, %lu errno outside the documented sets",
	       nr_ops, n_unexpected);
	tap_ok(!n_mismatch, "%lu results differ from the model", n_mismatch);
	tap_ok(!n_pattern && !bad_end,
	       "patterns and zeros intact (%lu checks, %lu mappings at the end)",
	       n_checked, verified_end);
	tap_ok(!n_ro_refused,
	       "shared read-only mmap of an O_RDONLY dma-buf works (%lu of %lu refused)",
	       n_ro_refused, n_ro_tries);
	tap_ok(!n_child_bad, "%lu forked children clean", n_forks);
	tap_ok(!n_stats_bad, "STATS agree with the model (%lu checks)",
	       n_stats_ok + n_stats_bad);
	tap_ok(nr_used_bufs() == 0, "model: nothing left alive (%d)",
	       nr_used_bufs());
	co_check_all_free(fd, nodes, nr_nodes);
	close(fd);
	if (tap_fail)
		tap_diag("reproduce: test_fuzz 0x%" PRIx64 " %lu", seed, nr_ops);
	return tap_finish();
}
