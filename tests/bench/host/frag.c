// SPDX-License-Identifier: GPL-2.0
/*
 * frag.c - fragmentation and metadata of carveout's allocator core on
 * allocation traces, against first-fit and best-fit reference allocators
 * (bench parts 5 and 6; runs on the host).
 *
 * Built like tests/harness (module/co_buddy.c + co_slab.c against the
 * harness shim, force-included co_internal.h); see tests/bench/run.sh.
 *
 * Every allocator gets the same 1 GiB arena and the same trace.  Size
 * policy is the same for all: requests up to the slab maximum (3584 B) are
 * cache-line (64 B) objects, larger ones whole, page-aligned pages; carveout
 * rounds small requests further to its size classes.
 *
 * Per trace and allocator:
 *   peak_live      max over time of bytes requested by live allocations
 *   peak_footprint max over time of the high-water mark: bytes from the
 *                  arena base to the end of the highest block in use
 *                  (Wilson et al.'s "max heap size")
 *   peak_held      max over time of bytes not free in the arena (granted
 *                  blocks, slab pages, carveout's slab slack)
 *   granted/requested  summed over all successful allocations
 *   largest_free   largest free block at the end of the trace (live
 *                  allocations left in place)
 *   fail           allocations that did not fit
 * Output: "F trace=T alloc=A key=value ..." lines and "M key=value" lines.
 */
#define pr_fmt(fmt) "frag: " fmt
#include "co_internal.h"
#include <malloc.h>
#include <math.h>

#include "../../module/co_slab.h"

#define ARENA_BYTES	(1ULL << 30)
#define ARENA_PAGES	(ARENA_BYTES >> PAGE_SHIFT)
#define BASE_PFN	(1UL << 20)
#define SLAB_MAX	3584
#define MAX_LIVE	200000

/* ---- deterministic RNG ---------------------------------------------- */
static uint64_t rng_state;
static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static double rndf(void)
{
	return (rnd() >> 11) * (1.0 / 9007199254740992.0);
}

/* log-uniform in [lo, hi] */
static uint64_t rnd_size(uint64_t lo, uint64_t hi)
{
	double l = log((double)lo), h = log((double)hi);

	return (uint64_t)exp(l + (h - l) * rndf());
}

/* ---- traces --------------------------------------------------------- */
struct op {
	int alloc;		/* 1 alloc, 0 free */
	uint32_t id;		/* allocation id */
	uint64_t size;
};

struct trace {
	const char *name;
	struct op *ops;
	size_t n, cap;
	uint32_t next_id;
};

static void t_push(struct trace *t, int alloc, uint32_t id, uint64_t size)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 4096;
		t->ops = realloc(t->ops, t->cap * sizeof(*t->ops));
		if (!t->ops)
			abort();
	}
	t->ops[t->n++] = (struct op){ alloc, id, size };
}

/* live set used while generating */
struct gen {
	uint32_t id[MAX_LIVE];
	uint64_t size[MAX_LIVE];
	size_t n;
	uint64_t bytes;
};

static void g_alloc(struct trace *t, struct gen *g, uint64_t size)
{
	if (g->n == MAX_LIVE)
		return;
	g->id[g->n] = t->next_id++;
	g->size[g->n] = size;
	g->bytes += size;
	t_push(t, 1, g->id[g->n], size);
	g->n++;
}

static void g_free_at(struct trace *t, struct gen *g, size_t i)
{
	t_push(t, 0, g->id[i], g->size[i]);
	g->bytes -= g->size[i];
	g->id[i] = g->id[g->n - 1];
	g->size[i] = g->size[g->n - 1];
	g->n--;
}

static void g_free_random(struct trace *t, struct gen *g)
{
	if (g->n)
		g_free_at(t, g, rnd() % g->n);
}

#define MIX_LO	64
#define MIX_HI	(8ULL << 20)

/* ramps: the live set grows steadily (9 allocs for each free) */
static void gen_ramp(struct trace *t, struct gen *g)
{
	while (g->bytes < (256ULL << 20)) {
		g_alloc(t, g, rnd_size(MIX_LO, MIX_HI));
		if (rnd() % 10 == 0)
			g_free_random(t, g);
	}
}

/* peaks: bursts up to 256 MiB, then 95 % freed; survivors stay */
static void gen_peaks(struct trace *t, struct gen *g)
{
	int p;

	for (p = 0; p < 6; p++) {
		while (g->bytes < (256ULL << 20))
			g_alloc(t, g, rnd_size(MIX_LO, MIX_HI));
		size_t keep = g->n / 20;

		while (g->n > keep)
			g_free_random(t, g);
	}
}

/* plateau: fill to 192 MiB, then steady alloc/free around it */
static void gen_plateau(struct trace *t, struct gen *g)
{
	int i;

	while (g->bytes < (192ULL << 20))
		g_alloc(t, g, rnd_size(MIX_LO, MIX_HI));
	for (i = 0; i < 60000; i++) {
		if (g->bytes > (192ULL << 20))
			g_free_random(t, g);
		else
			g_alloc(t, g, rnd_size(MIX_LO, MIX_HI));
	}
}

/*
 * mixed: random mix 64 B .. 8 MiB (log-uniform) with random lifetimes; the
 * target live size wanders between 64 and 256 MiB.
 */
static void gen_mixed(struct trace *t, struct gen *g)
{
	int i;

	for (i = 0; i < 120000; i++) {
		uint64_t target = (64ULL << 20) +
			(uint64_t)((192ULL << 20) * (0.5 + 0.5 * sin(i / 9000.0)));
		double p_alloc = g->bytes < target ? 0.7 : 0.3;

		if (rndf() < p_alloc || !g->n)
			g_alloc(t, g, rnd_size(MIX_LO, MIX_HI));
		else
			g_free_random(t, g);
	}
}

/* ---- allocators ----------------------------------------------------- */
static uint64_t granted_size(uint64_t size)
{
	return size <= SLAB_MAX ? ALIGN(size, 64) : ALIGN(size, PAGE_SIZE);
}

struct extent {
	uint64_t start, len;
};

/* reference: sorted free-extent list, first fit or best fit, coalescing */
struct ref {
	struct extent *ext;
	size_t n, cap;
	int best;
};

static void ref_init(struct ref *r, int best)
{
	r->cap = 1024;
	r->ext = malloc(r->cap * sizeof(*r->ext));
	r->n = 1;
	r->ext[0] = (struct extent){ 0, ARENA_BYTES };
	r->best = best;
}

static int ref_alloc(struct ref *r, uint64_t size, uint64_t *addr)
{
	uint64_t need = granted_size(size);
	uint64_t align = size <= SLAB_MAX ? 64 : PAGE_SIZE;
	size_t i, pick = SIZE_MAX;
	uint64_t pick_waste = UINT64_MAX, a = 0, pa = 0;

	for (i = 0; i < r->n; i++) {
		struct extent *e = &r->ext[i];

		a = ALIGN(e->start, align);
		if (a + need > e->start + e->len)
			continue;
		if (!r->best) {
			pick = i;
			pa = a;
			break;
		}
		if (e->len - need < pick_waste) {
			pick_waste = e->len - need;
			pick = i;
			pa = a;
		}
	}
	if (pick == SIZE_MAX)
		return -ENOMEM;
	struct extent e = r->ext[pick];
	struct extent lo = { e.start, pa - e.start };
	struct extent hi = { pa + need, e.start + e.len - pa - need };
	int nn = (lo.len > 0) + (hi.len > 0);

	if (r->n + 1 >= r->cap) {
		r->cap *= 2;
		r->ext = realloc(r->ext, r->cap * sizeof(*r->ext));
	}
	/* replace ext[pick] by nn extents */
	memmove(&r->ext[pick + nn], &r->ext[pick + 1],
		(r->n - pick - 1) * sizeof(*r->ext));
	r->n = r->n - 1 + nn;
	i = pick;
	if (lo.len)
		r->ext[i++] = lo;
	if (hi.len)
		r->ext[i++] = hi;
	*addr = pa;
	return 0;
}

static void ref_free(struct ref *r, uint64_t addr, uint64_t size)
{
	uint64_t len = granted_size(size);
	size_t lo = 0, hi = r->n, i;

	while (lo < hi) {	/* first extent with start > addr */
		size_t mid = (lo + hi) / 2;

		if (r->ext[mid].start > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	i = lo;
	bool merge_prev = i > 0 && r->ext[i - 1].start + r->ext[i - 1].len == addr;
	bool merge_next = i < r->n && addr + len == r->ext[i].start;

	if (merge_prev && merge_next) {
		r->ext[i - 1].len += len + r->ext[i].len;
		memmove(&r->ext[i], &r->ext[i + 1], (r->n - i - 1) * sizeof(*r->ext));
		r->n--;
	} else if (merge_prev) {
		r->ext[i - 1].len += len;
	} else if (merge_next) {
		r->ext[i].start = addr;
		r->ext[i].len += len;
	} else {
		if (r->n + 1 >= r->cap) {
			r->cap *= 2;
			r->ext = realloc(r->ext, r->cap * sizeof(*r->ext));
		}
		memmove(&r->ext[i + 1], &r->ext[i], (r->n - i) * sizeof(*r->ext));
		r->ext[i] = (struct extent){ addr, len };
		r->n++;
	}
}

static uint64_t ref_highwater(struct ref *r)
{
	if (r->n && r->ext[r->n - 1].start + r->ext[r->n - 1].len == ARENA_BYTES)
		return r->ext[r->n - 1].start;
	return ARENA_BYTES;
}

static uint64_t ref_free_bytes(struct ref *r)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < r->n; i++)
		s += r->ext[i].len;
	return s;
}

static uint64_t ref_largest(struct ref *r)
{
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < r->n; i++)
		m = max(m, r->ext[i].len);
	return m;
}

/* carveout's core */
struct co {
	struct co_buddy b;
	struct co_slab_set *s;
};

static int co_alloc(struct co *c, uint64_t size, uint64_t *addr)
{
	unsigned long pfn;

	if (size <= co_slab_max_size())
		return co_slab_alloc(c->s, size, (u64 *)addr);
	if (co_buddy_alloc(&c->b, DIV_ROUND_UP(size, PAGE_SIZE), 0, 0, &pfn))
		return -ENOMEM;
	*addr = (u64)pfn << PAGE_SHIFT;
	return 0;
}

static int co_free(struct co *c, uint64_t addr, uint64_t size)
{
	if (size <= co_slab_max_size())
		return co_slab_free(c->s, addr, size);
	return co_buddy_free(&c->b, addr >> PAGE_SHIFT, DIV_ROUND_UP(size, PAGE_SIZE));
}

static uint64_t co_granted(uint64_t size)
{
	return size <= co_slab_max_size() ? co_slab_class_size(size) :
		ALIGN(size, PAGE_SIZE);
}

struct hw {
	unsigned long run_start, run_end;
};

static int hw_cb(unsigned long pfn, unsigned int order, void *priv)
{
	struct hw *h = priv;

	if (pfn == h->run_end)
		h->run_end += 1UL << order;
	else {
		h->run_start = pfn;
		h->run_end = pfn + (1UL << order);
	}
	return 0;
}

static uint64_t co_highwater(struct co *c)
{
	struct hw h = { 0, 0 };

	co_buddy_walk_free(&c->b, hw_cb, &h);
	if (h.run_end == BASE_PFN + ARENA_PAGES)
		return (uint64_t)(h.run_start - BASE_PFN) << PAGE_SHIFT;
	return ARENA_BYTES;
}

/* ---- replay --------------------------------------------------------- */
struct result {
	uint64_t peak_live, peak_fp, peak_held, req, granted, largest, fail,
		 bad_free;
};

enum { A_CO, A_FIRST, A_BEST, A_NR };
static const char *const a_name[] = { "carveout", "first_fit", "best_fit" };

static void replay(const struct trace *t, int which, struct result *res)
{
	uint64_t *addr = calloc(t->next_id, sizeof(*addr));
	unsigned char *ok = calloc(t->next_id, 1);
	uint64_t live = 0, held = 0;
	struct ref r = {};
	struct co c = {};
	size_t i;

	memset(res, 0, sizeof(*res));
	shim_set_cpu(0);
	if (which == A_CO) {
		if (co_buddy_init(&c.b, BASE_PFN, ARENA_PAGES))
			abort();
		c.s = co_slab_set_create(&c.b, "frag");
	} else {
		ref_init(&r, which == A_BEST);
	}
	for (i = 0; i < t->n; i++) {
		const struct op *o = &t->ops[i];
		int err;

		if (o->alloc) {
			uint64_t fp;

			if (which == A_CO) {
				unsigned long before = co_buddy_free_pages(&c.b);

				err = co_alloc(&c, o->size, &addr[o->id]);
				if (!err && co_buddy_free_pages(&c.b) != before) {
					fp = co_highwater(&c);
					res->peak_fp = max(res->peak_fp, fp);
				}
				if (!err)
					res->granted += co_granted(o->size);
				held = (ARENA_PAGES - co_buddy_free_pages(&c.b)) << PAGE_SHIFT;
			} else {
				err = ref_alloc(&r, o->size, &addr[o->id]);
				if (!err) {
					res->granted += granted_size(o->size);
					held += granted_size(o->size);
					fp = ref_highwater(&r);
					res->peak_fp = max(res->peak_fp, fp);
				}
			}
			if (err) {
				res->fail++;
				continue;
			}
			ok[o->id] = 1;
			res->req += o->size;
			live += o->size;
			res->peak_live = max(res->peak_live, live);
			res->peak_held = max(res->peak_held, held);
		} else {
			if (!ok[o->id])
				continue;
			ok[o->id] = 0;
			live -= o->size;
			if (which == A_CO) {
				res->bad_free += !!co_free(&c, addr[o->id], o->size);
				held = (ARENA_PAGES - co_buddy_free_pages(&c.b)) << PAGE_SHIFT;
			} else {
				ref_free(&r, addr[o->id], o->size);
				held -= granted_size(o->size);
			}
		}
	}
	if (which == A_CO) {
		struct co_buddy_stats st;

		co_buddy_get_stats(&c.b, &st);
		res->largest = (uint64_t)st.largest_free_pages << PAGE_SHIFT;
		/* tear down: free what is left, then the set */
		for (i = 0; i < t->n; i++) {
			const struct op *o = &t->ops[i];

			if (o->alloc && ok[o->id]) {
				res->bad_free += !!co_free(&c, addr[o->id], o->size);
				ok[o->id] = 0;
			}
		}
		if (co_slab_set_destroy(c.s))
			res->bad_free++;
		co_buddy_destroy(&c.b);
	} else {
		res->largest = ref_largest(&r);
		if (ARENA_BYTES - ref_free_bytes(&r) != held)
			res->bad_free++;	/* accounting check */
		free(r.ext);
	}
	free(addr);
	free(ok);
}

static void meta(void)
{
	struct co_buddy b;
	struct co_slab_set *s;
	struct mallinfo2 m0, m1, m2;
	unsigned long nobj = (64UL << 20) / 64, i;
	u64 *a = malloc(nobj * sizeof(*a));

	shim_set_cpu(0);
	m0 = mallinfo2();
	if (co_buddy_init(&b, BASE_PFN, ARENA_PAGES))
		abort();
	printf("M buddy_meta_1g=%zu buddy_meta_ppm=%.1f\n",
	       co_buddy_metadata_bytes(&b),
	       co_buddy_metadata_bytes(&b) * 1e6 / ARENA_BYTES);
	m1 = mallinfo2();
	s = co_slab_set_create(&b, "meta");
	m2 = mallinfo2();
	printf("M buddy_heap_1g=%zu slab_set_empty=%zu shim_cpus=%d\n",
	       m1.uordblks - m0.uordblks, m2.uordblks - m1.uordblks, SHIM_NR_CPUS);
	for (i = 0; i < nobj; i++)
		if (co_slab_alloc(s, 64, &a[i]))
			break;
	m1 = mallinfo2();
	printf("M slab64_objs=%lu slab64_bytes=%lu slab64_meta=%zu slab64_meta_ppm=%.1f\n",
	       i, i * 64, m1.uordblks - m2.uordblks,
	       (m1.uordblks - m2.uordblks) * 1e6 / (double)(i * 64));
	while (i--)
		co_slab_free(s, a[i], 64);
	co_slab_set_destroy(s);
	co_buddy_destroy(&b);
	free(a);
}

int main(void)
{
	static void (*const gens[])(struct trace *, struct gen *) = {
		gen_ramp, gen_peaks, gen_plateau, gen_mixed,
	};
	static const char *const names[] = { "ramp", "peaks", "plateau", "mixed" };
	static struct gen g;
	unsigned int k;
	int a;

	meta();
	for (k = 0; k < 4; k++) {
		struct trace t = { .name = names[k] };
		struct result res;

		rng_state = 0x9e3779b97f4a7c15ULL + k;
		memset(&g, 0, sizeof(g));
		gens[k](&t, &g);
		for (a = 0; a < A_NR; a++) {
			replay(&t, a, &res);
			printf("F trace=%s alloc=%s ops=%zu peak_live=%llu peak_footprint=%llu peak_held=%llu requested=%llu granted=%llu largest_free=%llu fail=%llu bad=%llu\n",
			       t.name, a_name[a], t.n,
			       (unsigned long long)res.peak_live,
			       (unsigned long long)res.peak_fp,
			       (unsigned long long)res.peak_held,
			       (unsigned long long)res.req,
			       (unsigned long long)res.granted,
			       (unsigned long long)res.largest,
			       (unsigned long long)res.fail,
			       (unsigned long long)res.bad_free);
			fflush(stdout);
		}
		free(t.ops);
	}
	return 0;
}
