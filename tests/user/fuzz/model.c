// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz: the model: PRNG, what exists, judging results, model queries,
 * buffer lifetime (held and draining buffers), owners (file generations
 * and pattern serials), file lifecycle and STATS against the model.
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
struct mpin pins[MAXP];

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
unsigned long n_foreign, n_xchecks, n_xwords, n_xchecks_b;
unsigned long n_acct, n_drained;
static unsigned int n_reported;

const char *const kname[K_NR] = {
	"INFO", "ALLOC", "FREE", "MAP", "UNMAP", "SYNC", "EXPORT", "STATS",
	"bad-cmd", "mmap", "munmap", "mremap", "dma-buf", "reopen", "fork",
	"FREEMAP", "SLABINFO", "fresh", "pin", "unpin",
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

/* -------------------------------------------------------------------- */
/* Buffer lifetime: live, held while pinned, draining                    */

static struct mdrain drains[MAXDR];
static int nr_drains;

static void drain_add(const struct mbuf *m)
{
	struct mdrain *d;

	if (nr_drains == MAXDR)
		drain_settle(5.0);
	if (nr_drains == MAXDR)
		memmove(drains, drains + 1, --nr_drains * sizeof(*drains));
	d = &drains[nr_drains++];
	d->node = m->node;
	d->gen = m->gen;
	d->uid = gen_uid(m->gen);
	d->length = m->length;
	d->granted = m->granted;
	d->slab = is_slab(m);
	n_drained++;
}

int nr_draining(void)
{
	return nr_drains;
}

/*
 * Could a pin on another sub-page buffer hold @m's page?  A file's
 * sub-page buffers on a node share pages, and which do is not known here.
 */
static int page_maybe_pinned(int b)
{
	const struct mbuf *m = &bufs[b];
	int i;

	if (!is_slab(m))
		return 0;
	for (i = 0; i < MAXB; i++)
		if (i != b && bufs[i].used && bufs[i].pins &&
		    is_slab(&bufs[i]) && bufs[i].gen == m->gen &&
		    bufs[i].node == m->node)
			return 1;
	return 0;
}

/*
 * After a reference went: a buffer nothing references any more is gone,
 * or held while a pin remains; one that was held goes back from the
 * module's delayed work, some time after its last pin went.
 */
void buf_check_gone(int b)
{
	struct mbuf *m = &bufs[b];

	if (!m->used || m->handle || m->views || m->dmabufs || m->cviews)
		return;
	if (m->pins) {
		m->held = 1;
		return;
	}
	if (m->held || m->linger || page_maybe_pinned(b))
		drain_add(m);
	m->used = 0;
}

/* Bytes charged to file generation @gen and to @uid: [sure, sure + maybe]. */
/*
 * Whole-page bytes charged to generation @gen and to @uid: a sub-page
 * buffer charges nothing itself, its file is charged its slabs' pages
 * (see slab_pages_charged()).  *@slab_elsewhere says whether a closed
 * file of @uid may still hold slab pages: any live buffer of it keeps the
 * file, and so its caches, alive.
 */
void charge_bounds(uint32_t gen, uint32_t uid, uint64_t fb[2], uint64_t ub[2],
		   int *slab_elsewhere)
{
	int b;

	fb[0] = fb[1] = ub[0] = ub[1] = 0;
	*slab_elsewhere = 0;
	for (b = 0; b < MAXB; b++) {
		if (!bufs[b].used)
			continue;
		/* Any live buffer keeps its closed file's caches. */
		*slab_elsewhere |= gen_uid(bufs[b].gen) == uid &&
				   !gen_open(bufs[b].gen);
		if (is_slab(&bufs[b]))
			continue;
		if (bufs[b].gen == gen)
			fb[0] += bufs[b].granted;
		if (gen_uid(bufs[b].gen) == uid)
			ub[0] += bufs[b].granted;
	}
	fb[1] = fb[0];
	ub[1] = ub[0];
	for (b = 0; b < nr_drains; b++) {
		*slab_elsewhere |= drains[b].uid == uid &&
				   !gen_open(drains[b].gen);
		if (drains[b].slab)
			continue;
		if (drains[b].gen == gen)
			fb[1] += drains[b].granted;
		if (drains[b].uid == uid)
			ub[1] += drains[b].granted;
	}
}

/*
 * Bytes a draining sub-page object of generation @gen (or, with @gen 0,
 * of @uid) may free with its slab: the largest slab is 16 pages.
 */
uint64_t slab_drain_slack(uint32_t gen, uint32_t uid)
{
	uint64_t n = 0;
	int b;

	for (b = 0; b < nr_drains; b++)
		n += drains[b].slab &&
		     (gen ? drains[b].gen == gen : drains[b].uid == uid);
	return n * 16 * PG;
}

/* Whether generation @gen's file is still open in its slot. */
int gen_open(uint32_t gen)
{
	int f = gen_slot(gen);

	return f >= 0 && f < MAXF && files[f].fd >= 0 && files[f].gen == gen;
}

/* Sub-page objects of @size that generation @gen may still hold on @node. */
void slab_bounds(uint32_t gen, uint32_t node, uint32_t size, uint64_t o[2])
{
	int b;

	o[0] = 0;
	for (b = 0; b < MAXB; b++)
		o[0] += bufs[b].used && bufs[b].gen == gen &&
			is_slab(&bufs[b]) && bufs[b].node == node &&
			bufs[b].granted == size;
	o[1] = o[0];
	for (b = 0; b < nr_drains; b++)
		o[1] += drains[b].gen == gen && drains[b].slab &&
			drains[b].node == node && drains[b].granted == size;
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

/* An open file whose fd is in this process. */
int pick_local_file(void)
{
	int cand[MAXF], n = 0, i;

	for (i = 0; i < MAXF; i++)
		if (files[i].fd >= 0 && files[i].who == W_SELF)
			cand[n++] = i;
	return n ? cand[rr(n)] : -1;
}

/* Does the caller of an ioctl on file @f have CAP_SYS_ADMIN? */
int caller_root(int f)
{
	return is_root && files[f].who == W_SELF;
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

/* An fd of an open file in this process (STATS are the same for all). */
int local_fd(void)
{
	int i;

	for (i = 0; i < MAXF; i++)
		if (files[i].fd >= 0 && files[i].who == W_SELF)
			return files[i].fd;
	return -1;
}

/* What the model says about node @i: sure values, and what may drain. */
struct node_model {
	uint64_t nb, req, gr, pages;		/* sure */
	uint64_t mnb, mreq, mgr;		/* draining: maybe still there */
};

static void node_model(int i, struct node_model *nm)
{
	int b;

	memset(nm, 0, sizeof(*nm));
	for (b = 0; b < MAXB; b++) {
		if (!bufs[b].used || bufs[b].node != nodes[i].node)
			continue;
		nm->nb++;
		nm->req += bufs[b].length;
		nm->gr += bufs[b].granted;
		if (!is_slab(&bufs[b]))
			nm->pages += bufs[b].granted;
	}
	for (b = 0; b < nr_drains; b++) {
		if (drains[b].node != nodes[i].node)
			continue;
		nm->mnb++;
		nm->mreq += drains[b].length;
		nm->mgr += drains[b].granted;
	}
}

/* Forget node @node's draining buffers: STATS showed them gone. */
static void drain_forget(uint32_t node)
{
	int i, n = 0;

	for (i = 0; i < nr_drains; i++)
		if (drains[i].node != node)
			drains[n++] = drains[i];
	nr_drains = n;
}

static int in_range(uint64_t v, uint64_t lo, uint64_t extra)
{
	return v >= lo && v - lo <= extra;
}

void stats_check(const char *when)
{
	struct carveout_stats s;
	struct node_model nm;
	int i, bad = 0;

	for (i = 0; i < nr_nodes; i++) {
		node_model(i, &nm);
		if (co_stats(local_fd(), nodes[i].node, &s)) {
			bad++;
			report("STATS node %u (%s): %s", nodes[i].node, when,
			       strerror(errno));
			continue;
		}
		if (!in_range(s.nr_buffers, nm.nb, nm.mnb) ||
		    !in_range(s.requested_bytes, nm.req, nm.mreq) ||
		    !in_range(s.granted_bytes, nm.gr, nm.mgr) ||
		    s.region_bytes != nodes[i].region_bytes ||
		    s.free_bytes > s.region_bytes - nm.pages ||
		    s.largest_free > s.free_bytes) {
			if (bad++ || n_stats_bad)
				continue;
			report("STATS node %u (%s): buffers %llu (model %" PRIu64
			       " + %" PRIu64 " draining), requested %llu (%" PRIu64
			       "), granted %llu (%" PRIu64 "), free %llu of %llu "
			       "(model pages %" PRIu64 "), largest %llu",
			       nodes[i].node, when,
			       (unsigned long long)s.nr_buffers, nm.nb, nm.mnb,
			       (unsigned long long)s.requested_bytes, nm.req,
			       (unsigned long long)s.granted_bytes, nm.gr,
			       (unsigned long long)s.free_bytes,
			       (unsigned long long)s.region_bytes, nm.pages,
			       (unsigned long long)s.largest_free);
			print_history();
			continue;
		}
		if (nm.mnb && s.nr_buffers == nm.nb)
			drain_forget(nodes[i].node);
	}
	if (bad)
		n_stats_bad++;
	else
		n_stats_ok++;
}

/*
 * Waits up to @secs for the draining buffers to go (the module looks again
 * at most once a second).  Returns how many may still be there.
 */
int drain_settle(double secs)
{
	struct carveout_stats s;
	struct node_model nm;
	int i, tries;

	for (tries = 0; nr_drains && tries < secs * 20; tries++) {
		for (i = 0; i < nr_nodes; i++) {
			node_model(i, &nm);
			if (nm.mnb && !co_stats(local_fd(), nodes[i].node, &s) &&
			    s.nr_buffers == nm.nb)
				drain_forget(nodes[i].node);
		}
		if (nr_drains)
			usleep(50000);
	}
	return nr_drains;
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

/* Device mappings a long-lived fork child holds: their files' generations. */
static uint32_t child_gens[MAXCV];
static int nr_child_gens;

void child_views_add(const struct mview *v)
{
	if (v->dev_gen && nr_child_gens < MAXCV)
		child_gens[nr_child_gens++] = v->dev_gen;
}

void child_views_clear(void)
{
	nr_child_gens = 0;
}

static int gen_mapped(uint32_t gen)
{
	int i;

	for (i = 0; i < MAXV; i++)
		if (views[i].used && views[i].dev_gen == gen)
			return 1;
	for (i = 0; i < nr_child_gens; i++)
		if (child_gens[i] == gen)
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

	x_close(files[f].who, files[f].fd);
	files[f].fd = -1;
	if (gen_mapped(gen) && nr_pinned < 64)
		pinned[nr_pinned++] = gen;
	else
		forget_gen(gen);
}

/*
 * Opens slot @f: slots below SLOT_PASSED here, SLOT_PASSED by the second
 * owner's helper (the fd comes back over its socket), SLOT_B in the helper.
 */
void open_slot(int f)
{
	int err;

	files[f].who = f == SLOT_B ? W_B : W_SELF;
	files[f].uid = f >= SLOT_PASSED ? b_uid : getuid();
	if (f >= SLOT_PASSED && !owner_alive()) {
		files[f].fd = -1;
		return;
	}
	files[f].fd = f < SLOT_PASSED ? co_open() : x_open(W_B, f == SLOT_PASSED);
	err = errno;
	files[f].gen = new_gen(f, files[f].uid);
	memset(files[f].freed, 0, sizeof(files[f].freed));
	if (files[f].fd < 0) {
		n_unexpected++;
		report("reopen %s (slot %d): %s", CO_DEV, f, strerror(err));
	}
}

/* -------------------------------------------------------------------- */
/* Owners: file generations and pattern serials                          */

struct gen_info {
	int slot;
	uint32_t uid;
};
static struct gen_info *gens;
static uint32_t cap_gens;
static uint32_t *ser_gen;
static uint32_t nr_serials, cap_serials;

static void *grow(void *p, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t n = *cap ? *cap : 256;

	if (need < *cap)
		return p;
	while (n <= need)
		n *= 2;
	p = realloc(p, n * elem);
	if (!p)
		tap_bail("out of memory for the owner tables");
	memset((char *)p + *cap * elem, 0, (n - *cap) * elem);
	*cap = n;
	return p;
}

/* A new file generation: an owner, opened in @slot by @uid. */
uint32_t new_gen(int slot, uint32_t uid)
{
	uint32_t g = ++file_gen;

	gens = grow(gens, &cap_gens, g, sizeof(*gens));
	gens[g].slot = slot;
	gens[g].uid = uid;
	return g;
}

int gen_slot(uint32_t gen)
{
	return gen < cap_gens ? gens[gen].slot : -1;
}

uint32_t gen_uid(uint32_t gen)
{
	return gen < cap_gens ? gens[gen].uid : ~0U;
}

/* A pattern serial for a new buffer of generation @gen (never 0). */
uint32_t new_serial(uint32_t gen)
{
	uint32_t s = ++nr_serials;

	ser_gen = grow(ser_gen, &cap_serials, s, sizeof(*ser_gen));
	ser_gen[s] = gen;
	return s;
}

/* The generation that wrote serial @serial's pattern, or 0 if none. */
uint32_t serial_gen(uint32_t serial)
{
	return serial && serial <= nr_serials ? ser_gen[serial] : 0;
}
