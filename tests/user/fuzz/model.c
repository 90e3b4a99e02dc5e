// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz: the model: PRNG, what exists, judging results, model queries,
 * file lifecycle and STATS against the model.
 * See fuzz.h.
 */
#define _GNU_SOURCE
#include "fuzz.h"

/* -------------------------------------------------------------------- */
/* PRNG (splitmix64): the whole run follows from the seed.                */

uint64_t rng;

uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t rnd(void)
{
	rng += 0x9e3779b97f4a7c15ULL;
	return mix(rng);
}

uint64_t rr(uint64_t n)
{
	return n ? rnd() % n : 0;
}

int pct(unsigned int p)
{
	return rr(100) < p;
}


struct mbuf bufs[MAXB];
struct mfile files[MAXF];
struct mview views[MAXV];
struct mdbuf dbufs[MAXD];

struct carveout_node_info nodes[MAXN];
int nr_nodes;
uint64_t total_bytes, largest_piece, region_max;
int pieces_known;	/* every node is one piece: EFBIG is exact */
uint32_t slab_max;
int is_root;
uint32_t file_gen;

/* Statistics and failures. */
unsigned long op_idx, nr_ops;
unsigned long n_unexpected, n_mismatch, n_pattern, n_checked;
unsigned long n_stats_ok, n_stats_bad, n_child_bad, n_forks;
unsigned long n_calls[K_NR], n_succ[K_NR];
unsigned long n_ro_tries, n_ro_refused;
static unsigned int n_reported;

const char *const kname[K_NR] = {
	"INFO", "ALLOC", "FREE", "MAP", "UNMAP", "SYNC", "EXPORT", "STATS",
	"bad-cmd", "mmap", "munmap", "mremap", "dma-buf", "reopen", "fork",
	"FREEMAP", "SLABINFO",
};

int in_child;
char desc[128];	/* the current op's arguments, for messages */

/* The last ops, printed when STATS first disagree with the model. */
static char hist[16][144];
static unsigned long hist_op[16];
static unsigned int hist_n;
int trace;	/* CARVEOUT_FUZZ_TRACE: print every op */

__attribute__((format(printf, 1, 2)))
void note(const char *fmt, ...)
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

void print_history(void)
{
	unsigned int i = hist_n > 16 ? hist_n - 16 : 0;

	for (; i < hist_n; i++)
		printf("#   op %lu: %s\n", hist_op[i % 16], hist[i % 16]);
}

__attribute__((format(printf, 1, 2)))
void report(const char *fmt, ...)
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


int in_set(int e, const int *set)
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
int judge(int k, const char *what, int got, int exp, const int *alt,
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

size_t span_pages(const struct mbuf *b)
{
	return (b->page_offset + b->granted + PG - 1) / PG;
}

int is_slab(const struct mbuf *b)
{
	return b->granted < PG;
}

int find_handle(int f, uint32_t h)
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

int nr_handles(int f)
{
	int i, n = 0;

	for (i = 0; i < MAXB; i++)
		n += bufs[i].used && bufs[i].file == f && bufs[i].handle &&
		     bufs[i].gen == files[f].gen;
	return n;
}

void buf_check_gone(int b)
{
	struct mbuf *m = &bufs[b];

	if (!m->handle && !m->views && !m->dmabufs)
		m->used = 0;
}

int free_slot_buf(void)
{
	int i;

	for (i = 0; i < MAXB; i++)
		if (!bufs[i].used)
			return i;
	return -1;
}

int nr_used_bufs(void)
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

int pick_file(void)
{
	int cand[MAXF], n = 0, i;

	for (i = 0; i < MAXF; i++)
		if (files[i].fd >= 0)
			cand[n++] = i;
	return n ? cand[rr(n)] : -1;
}

/* A handle number to use with file @f: mostly live, else stale or junk. */
uint32_t pick_handle(int f)
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
/* Model <-> kernel accounting                                           */

static int any_fd(void)
{
	int i;

	for (i = 0; i < MAXF; i++)
		if (files[i].fd >= 0)
			return files[i].fd;
	return -1;
}

void stats_check(const char *when)
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

int node_index(int64_t node)
{
	int i;

	for (i = 0; i < nr_nodes; i++)
		if ((int64_t)nodes[i].node == node)
			return i;
	return -1;
}

/* -------------------------------------------------------------------- */
/* Files: open, close, and what a close releases                         */

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
void reap_pinned(void)
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

void close_file(int f)
{
	uint32_t gen = files[f].gen;

	close(files[f].fd);
	files[f].fd = -1;
	if (gen_mapped(gen) && nr_pinned < 64)
		pinned[nr_pinned++] = gen;
	else
		forget_gen(gen);
}

void open_slot(int f)
{
	files[f].fd = co_open();
	files[f].gen = ++file_gen;
	memset(files[f].freed, 0, sizeof(files[f].freed));
	if (files[f].fd < 0) {
		n_unexpected++;
		report("reopen %s: %s", CO_DEV, strerror(errno));
	}
}
