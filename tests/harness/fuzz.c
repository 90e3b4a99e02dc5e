// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz.c - random operations against a reference model, checkers after each
 *
 * Model: per page "raw" (a direct buddy allocation covers it), the number of
 * live slab objects on it and their owner set; per 64-byte unit whether a live
 * object covers it; lists of live raw allocations and live objects.
 *
 * The second set has an owner (struct co_slab_owner) with a page budget:
 * the pages it is charged must always be the pages of its slabs, a grow
 * past the budget must fail with its -EDQUOT and only then, and destroying
 * the set must leave nothing charged.
 *
 * Checked after every operation: co_buddy_check(), co_slab_set_check() on
 * both sets, and that every result agrees with the model (no overlap with
 * anything live, alignment, limit, no page shared by two sets, invalid frees
 * rejected and counted exactly once, valid ones accepted).  In buddy-only
 * arenas the model also predicts exactly when an allocation must succeed and
 * the number of free pages.
 */
#define pr_fmt(fmt) "fuzz: " fmt
#include "co_internal.h"
#include "fuzz.h"

#define FZ_MAX_RAW	2048
#define FZ_MAX_OBJ	4096
#define FZ_UNIT		CO_SLAB_ALIGN
#define FZ_UNITS_PER_PAGE (PAGE_SIZE / FZ_UNIT)

struct fz_raw {
	unsigned long pfn, nr;
};

struct fz_obj {
	u64 addr;
	size_t size;
	int set;
};

struct fz {
	struct co_buddy b;
	struct co_slab_set *set[2];
	bool mixed;
	unsigned int free_bias;	/* 0..3: how often allocations become frees */
	unsigned long start, nr;
	u8 *raw;		/* per page: covered by a raw allocation */
	u8 *zeroed;		/* per page: zeroed since last handed out */
	u16 *objs;		/* per page: live objects */
	s8 *owner;		/* per page: set owning the live objects */
	u8 *unit;		/* per 64-byte unit: covered by a live object */
	struct fz_raw *rl;
	unsigned int nr_raw;
	struct fz_obj *ol;
	unsigned int nr_obj;
	struct fz_raw last_raw;
	struct fz_obj last_obj;
	unsigned long raw_pages;
	unsigned long budget;	/* pages set 1's owner may be charged */
	unsigned long charged;	/* pages set 1's owner is charged */
	bool wrong_arena;	/* a callback named another arena */
	u64 ops;
};

static int fz_charge(void *priv, struct co_buddy *b, unsigned long pages)
{
	struct fz *f = priv;

	f->wrong_arena |= b != &f->b;
	if (f->charged + pages > f->budget)
		return -EDQUOT;
	f->charged += pages;
	return 0;
}

static void fz_uncharge(void *priv, struct co_buddy *b, unsigned long pages)
{
	struct fz *f = priv;

	f->wrong_arena |= b != &f->b || pages > f->charged;
	f->charged -= pages;
}

/* What the operations did, over all arenas (printed by the runner). */
static struct {
	u64 raw_ok, raw_nomem, raw_free, slab_ok, slab_nomem, slab_quota;
	u64 slab_free;
	u64 invalid, drains, cpu_switches, stats, zero_steps, raw_clean;
} fz_count;

void fz_summary(char *buf, size_t len)
{
	snprintf(buf, len,
		 "raw alloc %llu ok (%llu clean)/%llu ENOMEM, raw free %llu, slab alloc %llu ok/%llu ENOMEM/%llu EDQUOT, slab free %llu, invalid frees %llu, drains %llu, cpu switches %llu, stats checks %llu, zeroing steps %llu",
		 fz_count.raw_ok, fz_count.raw_clean, fz_count.raw_nomem,
		 fz_count.raw_free,
		 fz_count.slab_ok, fz_count.slab_nomem, fz_count.slab_quota,
		 fz_count.slab_free,
		 fz_count.invalid, fz_count.drains, fz_count.cpu_switches,
		 fz_count.stats, fz_count.zero_steps);
}

#define FZ_FAIL(f, fmt, ...)						\
	({								\
		fprintf(stderr, "# fuzz FAIL op %llu: " fmt "\n",	\
			(unsigned long long)(f)->ops, ##__VA_ARGS__);	\
		-1;							\
	})

void fz_describe(struct fz *f, char *buf, size_t len)
{
	snprintf(buf, len, "arena %#lx+%lu%s", f->start, f->nr,
		 f->mixed ? " mixed" : " buddy-only");
}

struct fz *fz_new(u64 param)
{
	struct fz *f = calloc(1, sizeof(*f));
	unsigned long start, nr;

	if (!f)
		return NULL;
	/* odd sizes and starts around interesting alignments */
	nr = 1 + param % 4000;
	if ((param >> 12) % 4 == 0)
		nr = 1 + param % 64;
	start = ((param >> 16) % 0x4000) * (((param >> 30) % 3) ? 1 : 512);
	start += (param >> 32) % 3 == 0 ? 0x100000 : 0;
	f->mixed = (param >> 40) % 4 != 0;
	f->free_bias = (param >> 44) % 4;
	f->start = start;
	f->nr = nr;
	if (co_buddy_init(&f->b, start, nr))
		goto err;
	f->raw = calloc(nr, 1);
	f->zeroed = calloc(nr, 1);
	f->objs = calloc(nr, sizeof(*f->objs));
	f->owner = calloc(nr, 1);
	f->unit = calloc(nr * FZ_UNITS_PER_PAGE, 1);
	f->rl = calloc(FZ_MAX_RAW, sizeof(*f->rl));
	f->ol = calloc(FZ_MAX_OBJ, sizeof(*f->ol));
	if (!f->raw || !f->zeroed || !f->objs || !f->owner || !f->unit || !f->rl || !f->ol)
		abort();
	if (f->mixed) {
		struct co_slab_owner owner = {
			.charge = fz_charge, .uncharge = fz_uncharge,
			.priv = f, .gfp = GFP_KERNEL_ACCOUNT,
		};

		f->budget = (param >> 48) % 2 ? ULONG_MAX :
			    1 + (param >> 49) % nr;
		f->set[0] = co_slab_set_create(&f->b, "fz0");
		f->set[1] = co_slab_set_create_owned(&f->b, "fz1", &owner);
		if (!f->set[0] || !f->set[1])
			abort();
	}
	return f;
err:
	free(f);
	return NULL;
}

/* Is [pfn, pfn + n) free of raw allocations and live objects? */
static bool fz_pages_clear(struct fz *f, unsigned long pfn, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		if (f->raw[pfn - f->start + i] || f->objs[pfn - f->start + i])
			return false;
	return true;
}

/* Buddy-only: could an allocation succeed (a fully free aligned block)? */
static bool fz_fits(struct fz *f, unsigned long nr, unsigned long align,
		    unsigned long limit)
{
	unsigned int order = order_base_2(nr);
	unsigned long blk, p, end = f->start + f->nr;

	if (nr > f->nr)
		return false;
	if (align > 1)
		order = max_t(unsigned int, order, ilog2(align));
	if (order >= BITS_PER_LONG - 1)
		return false;
	blk = 1UL << order;
	if (limit && limit < end)
		end = limit;
	for (p = ALIGN(f->start, blk); p + nr <= end &&
	     p + blk <= f->start + f->nr; p += blk)
		if (fz_pages_clear(f, p, blk))
			return true;
	return false;
}

static int fz_expect_invalid(struct fz *f, int ret, unsigned long before,
			     const char *what)
{
	if (ret != -EINVAL)
		return FZ_FAIL(f, "%s: expected -EINVAL, got %d", what, ret);
	if (shim_reports != before + 1)
		return FZ_FAIL(f, "%s: %lu reports for one invalid free", what,
			       shim_reports - before);
	fz_count.invalid++;
	return 0;
}

static int fz_raw_alloc(struct fz *f, u64 r)
{
	unsigned long nr, align = 0, limit = 0, pfn, i;
	bool clean;
	int ret;

	switch ((r >> 8) % 8) {
	case 0:
		nr = 1 + (r >> 12) % (f->nr + 2);
		break;
	case 1: case 2:
		nr = 1 + (r >> 12) % 64;
		break;
	default:
		nr = 1 + (r >> 12) % 6;
		break;
	}
	if ((r >> 24) % 4 == 0)
		align = 1UL << ((r >> 28) % 12);
	if ((r >> 32) % 6 == 0)
		limit = f->start + (r >> 36) % (f->nr + 16);
	if (f->nr_raw == FZ_MAX_RAW)
		return 0;
	ret = co_buddy_alloc_clean(&f->b, nr, align, limit, &pfn, &clean);
	if (ret) {
		if (ret != -ENOMEM)
			return FZ_FAIL(f, "raw alloc %lu: %d", nr, ret);
		if (!f->mixed && fz_fits(f, nr, align, limit))
			return FZ_FAIL(f, "raw alloc %lu align %lu limit %#lx failed but fits",
				       nr, align, limit);
		fz_count.raw_nomem++;
		return 0;
	}
	if (pfn < f->start || pfn + nr > f->start + f->nr)
		return FZ_FAIL(f, "raw alloc %#lx+%lu outside the arena", pfn, nr);
	if (align > 1 && pfn % align)
		return FZ_FAIL(f, "raw alloc %#lx not aligned to %lu", pfn, align);
	if (limit && pfn + nr > limit)
		return FZ_FAIL(f, "raw alloc %#lx+%lu above limit %#lx", pfn, nr,
			       limit);
	if (!fz_pages_clear(f, pfn, nr))
		return FZ_FAIL(f, "raw alloc %#lx+%lu overlaps live memory", pfn,
			       nr);
	for (i = 0; i < nr; i++) {
		if (clean && !f->zeroed[pfn - f->start + i])
			return FZ_FAIL(f, "raw alloc %#lx+%lu said clean, page %#lx was not zeroed",
				       pfn, nr, pfn + i);
		f->zeroed[pfn - f->start + i] = 0;
		f->raw[pfn - f->start + i] = 1;
	}
	fz_count.raw_clean += clean;
	f->raw_pages += nr;
	f->rl[f->nr_raw].pfn = pfn;
	f->rl[f->nr_raw++].nr = nr;
	fz_count.raw_ok++;
	return 0;
}

static int fz_raw_free(struct fz *f, u64 r);

/*
 * A background zeroing step (co_zero.c does the writing): its pages are
 * free, and a raw free in the middle of it is allowed.  Pages of slabs are
 * not tracked here: they are never said clean, as KUnit checks.
 */
static int fz_zero_step(struct fz *f, u64 r)
{
	unsigned long pfn, nr, i;
	int ret;

	ret = co_buddy_zero_begin(&f->b, (r >> 8) % 7, &pfn, &nr);
	if (ret)
		return ret == -ENOENT || ret == -EBUSY ? 0 :
		       FZ_FAIL(f, "zero_begin: %d", ret);
	for (i = 0; i < nr; i++) {
		if (f->raw[pfn - f->start + i] || f->objs[pfn - f->start + i])
			return FZ_FAIL(f, "zero step %#lx+%lu covers live page %#lx",
				       pfn, nr, pfn + i);
		f->zeroed[pfn - f->start + i] = 1;
	}
	if ((r >> 12) & 1) {
		ret = fz_raw_free(f, r >> 13);
		if (ret)
			return ret;
	}
	co_buddy_zero_end(&f->b);
	fz_count.zero_steps++;
	return 0;
}

static int fz_raw_free(struct fz *f, u64 r)
{
	unsigned int k;
	unsigned long i;
	struct fz_raw a;
	int ret;

	if (!f->nr_raw)
		return 0;
	k = (r >> 8) % f->nr_raw;
	a = f->rl[k];
	ret = co_buddy_free(&f->b, a.pfn, a.nr);
	if (ret)
		return FZ_FAIL(f, "raw free %#lx+%lu: %d", a.pfn, a.nr, ret);
	for (i = 0; i < a.nr; i++)
		f->raw[a.pfn - f->start + i] = 0;
	f->raw_pages -= a.nr;
	f->rl[k] = f->rl[--f->nr_raw];
	f->last_raw = a;
	fz_count.raw_free++;
	return 0;
}

static bool fz_raw_live(struct fz *f, unsigned long pfn, unsigned long nr)
{
	unsigned int k;

	for (k = 0; k < f->nr_raw; k++)
		if (f->rl[k].pfn == pfn && f->rl[k].nr == nr)
			return true;
	return false;
}

static int fz_raw_invalid(struct fz *f, u64 r)
{
	unsigned long pfn, nr, before;

	switch ((r >> 8) % 4) {
	case 0:		/* double free */
		if (!f->last_raw.nr)
			return 0;
		pfn = f->last_raw.pfn;
		nr = f->last_raw.nr;
		break;
	case 1:		/* wrong size or middle of a live allocation */
		if (!f->nr_raw)
			return 0;
		pfn = f->rl[(r >> 12) % f->nr_raw].pfn;
		nr = f->rl[(r >> 12) % f->nr_raw].nr;
		if ((r >> 32) & 1 && nr > 1)
			pfn += 1 + (r >> 33) % (nr - 1);
		else
			nr += (r >> 32) & 2 ? 1 : -1;
		break;
	default:	/* anywhere, including outside */
		pfn = f->start + (r >> 12) % (f->nr + 8) - 4;
		nr = (r >> 40) % 12;
		break;
	}
	if (nr && fz_raw_live(f, pfn, nr))
		return 0;
	/* in mixed arenas slabs are buddy allocations the model cannot see */
	if (f->mixed && co_buddy_is_allocation(&f->b, pfn, nr))
		return 0;
	before = shim_reports;
	return fz_expect_invalid(f, co_buddy_free(&f->b, pfn, nr), before,
				 "raw free");
}

static int fz_slab_alloc(struct fz *f, u64 r)
{
	int set = (r >> 4) & 1, ret;
	size_t size, cls;
	unsigned long pfn, u, i, first;
	u64 addr;

	switch ((r >> 8) % 4) {
	case 0:
		size = 1 + (r >> 12) % co_slab_max_size();
		break;
	case 1:
		size = 1 + (r >> 12) % 200;
		break;
	default:
		size = 64 * (1 + (r >> 12) % 12) - (r >> 20) % 3;
		break;
	}
	if (f->nr_obj == FZ_MAX_OBJ)
		return 0;
	ret = co_slab_alloc(f->set[set], size, &addr);
	cls = co_slab_class_size(size);
	if (ret) {
		struct co_slab_class_stats st;

		co_slab_get_stats(f->set[set], co_slab_class_index(size), &st);
		/* only when a slab would take set 1 past its budget */
		if (ret == -EDQUOT && set == 1 &&
		    f->charged + st.slab_pages > f->budget) {
			fz_count.slab_quota++;
			return 0;
		}
		if (ret != -ENOMEM)
			return FZ_FAIL(f, "slab alloc %zu: %d", size, ret);
		/* only when the buddy cannot give a slab either */
		if (!co_buddy_alloc(&f->b, st.slab_pages,
				    roundup_pow_of_two(st.slab_pages), 0, &pfn)) {
			co_buddy_free(&f->b, pfn, st.slab_pages);
			return FZ_FAIL(f, "slab alloc %zu: -ENOMEM with pages free",
				       size);
		}
		fz_count.slab_nomem++;
		return 0;
	}
	if (addr % CO_SLAB_ALIGN)
		return FZ_FAIL(f, "object %#llx misaligned", addr);
	pfn = addr >> PAGE_SHIFT;
	if (pfn < f->start || ((addr + cls - 1) >> PAGE_SHIFT) >= f->start + f->nr)
		return FZ_FAIL(f, "object %#llx outside the arena", addr);
	first = (addr - ((u64)f->start << PAGE_SHIFT)) / FZ_UNIT;
	for (u = first; u < first + cls / FZ_UNIT; u++)
		if (f->unit[u])
			return FZ_FAIL(f, "object %#llx+%zu overlaps an object",
				       addr, cls);
	for (i = pfn; i <= (addr + cls - 1) >> PAGE_SHIFT; i++) {
		unsigned long rel = i - f->start;

		if (f->raw[rel])
			return FZ_FAIL(f, "object %#llx on a raw page", addr);
		if (f->objs[rel] && f->owner[rel] != set)
			return FZ_FAIL(f, "object %#llx shares page %#lx with set %d",
				       addr, i, f->owner[rel]);
		f->objs[rel]++;
		f->owner[rel] = set;
	}
	for (u = first; u < first + cls / FZ_UNIT; u++)
		f->unit[u] = 1;
	f->ol[f->nr_obj].addr = addr;
	f->ol[f->nr_obj].size = size;
	f->ol[f->nr_obj++].set = set;
	fz_count.slab_ok++;
	return 0;
}

static void fz_obj_forget(struct fz *f, unsigned int k)
{
	struct fz_obj o = f->ol[k];
	size_t cls = co_slab_class_size(o.size);
	unsigned long first = (o.addr - ((u64)f->start << PAGE_SHIFT)) / FZ_UNIT;
	unsigned long u, i;

	for (u = first; u < first + cls / FZ_UNIT; u++)
		f->unit[u] = 0;
	for (i = o.addr >> PAGE_SHIFT; i <= (o.addr + cls - 1) >> PAGE_SHIFT; i++)
		f->objs[i - f->start]--;
	f->ol[k] = f->ol[--f->nr_obj];
	f->last_obj = o;
}

static int fz_slab_free(struct fz *f, u64 r)
{
	unsigned int k;
	int ret;

	if (!f->nr_obj)
		return 0;
	k = (r >> 8) % f->nr_obj;
	ret = co_slab_free(f->set[f->ol[k].set], f->ol[k].addr, f->ol[k].size);
	if (ret)
		return FZ_FAIL(f, "slab free %#llx size %zu: %d", f->ol[k].addr,
			       f->ol[k].size, ret);
	fz_obj_forget(f, k);
	fz_count.slab_free++;
	return 0;
}

static bool fz_obj_live(struct fz *f, int set, u64 addr, size_t size)
{
	unsigned int k;

	for (k = 0; k < f->nr_obj; k++)
		if (f->ol[k].addr == addr && f->ol[k].set == set &&
		    f->ol[k].size == size)
			return true;
	return false;
}

static int fz_slab_invalid(struct fz *f, u64 r)
{
	unsigned long before;
	struct fz_obj o;

	switch ((r >> 8) % 5) {
	case 0:		/* double free */
		o = f->last_obj;
		if (!o.size)
			return 0;
		break;
	case 1:		/* middle of an object */
		if (!f->nr_obj)
			return 0;
		o = f->ol[(r >> 12) % f->nr_obj];
		o.addr += FZ_UNIT * (1 + (r >> 32) % 4);
		break;
	case 2:		/* wrong size */
		if (!f->nr_obj)
			return 0;
		o = f->ol[(r >> 12) % f->nr_obj];
		o.size += (r >> 32) & 1 ? 1 : -1;
		break;
	case 3:		/* other set */
		if (!f->nr_obj)
			return 0;
		o = f->ol[(r >> 12) % f->nr_obj];
		o.set ^= 1;
		break;
	default:	/* anywhere */
		o.addr = ((u64)f->start << PAGE_SHIFT) +
			 ((r >> 12) % (f->nr * PAGE_SIZE + 2 * PAGE_SIZE)) -
			 PAGE_SIZE;
		o.addr &= (r >> 50) & 1 ? ~63ULL : ~0ULL;
		o.size = 1 + (r >> 52) % co_slab_max_size();
		o.set = (r >> 63) & 1;
		break;
	}
	if (fz_obj_live(f, o.set, o.addr, o.size))
		return 0;
	before = shim_reports;
	return fz_expect_invalid(f, co_slab_free(f->set[o.set], o.addr, o.size),
				 before, "slab free");
}

/*
 * One set's class snapshots: objects and requested bytes in use, buddy
 * pages held by its slabs; every class has its objects in use or cached
 * within its slabs.
 */
static int fz_set_stats(struct fz *f, int s, unsigned long *live, u64 *req,
			unsigned long *pages)
{
	struct co_slab_class_stats st[CO_SLAB_NR_CLASSES];
	unsigned int c, n = co_slab_nr_classes();

	if (n != ARRAY_SIZE(st))
		return FZ_FAIL(f, "%u size classes, expected %zu", n,
			       ARRAY_SIZE(st));
	for (c = 0; c < n; c++)
		co_slab_get_stats(f->set[s], c, &st[c]);
	for (c = 0; c < n; c++) {
		if (st[c].objs_in_use + st[c].objs_cached > st[c].objs_total ||
		    st[c].objs_total != (st[c].slabs_full + st[c].slabs_partial +
					 st[c].slabs_empty) * st[c].objs_per_slab)
			return FZ_FAIL(f, "set %d class %u: %lu+%lu objs, %lu in %lu+%lu+%lu slabs",
				       s, c, st[c].objs_in_use,
				       st[c].objs_cached, st[c].objs_total,
				       st[c].slabs_full, st[c].slabs_partial,
				       st[c].slabs_empty);
		*live += st[c].objs_in_use;
		*req += st[c].requested_bytes;
		*pages += st[c].objs_total / st[c].objs_per_slab *
			  st[c].slab_pages;
	}
	return 0;
}

/* Statistics agree with the model. */
static int fz_stats(struct fz *f)
{
	unsigned long live[2] = { 0, 0 }, st_live[2] = { 0, 0 }, pages = 0;
	u64 req[2] = { 0, 0 }, st_req[2] = { 0, 0 };
	struct co_buddy_stats bs;
	unsigned int k;
	int s, ret;

	co_buddy_get_stats(&f->b, &bs);
	if (bs.free_pages != co_buddy_free_pages(&f->b))
		return FZ_FAIL(f, "stats free pages");
	if (!f->mixed && bs.free_pages != f->nr - f->raw_pages)
		return FZ_FAIL(f, "free pages %lu, model %lu", bs.free_pages,
			       f->nr - f->raw_pages);
	if (!f->mixed && bs.nr_allocs != f->nr_raw)
		return FZ_FAIL(f, "%lu allocations, model %u", bs.nr_allocs,
			       f->nr_raw);
	if (!f->mixed)
		return 0;
	for (k = 0; k < f->nr_obj; k++) {
		live[f->ol[k].set]++;
		req[f->ol[k].set] += f->ol[k].size;
	}
	for (s = 0; s < 2; s++) {
		unsigned long before = pages;

		ret = fz_set_stats(f, s, &st_live[s], &st_req[s], &pages);
		if (ret)
			return ret;
		if (st_live[s] != live[s] || st_req[s] != req[s])
			return FZ_FAIL(f, "set %d: stats %lu objs %llu bytes, model %lu %llu",
				       s, st_live[s], st_req[s], live[s], req[s]);
		if (s == 1 && (pages - before != f->charged || f->wrong_arena))
			return FZ_FAIL(f, "set 1 holds %lu pages, its owner is charged %lu%s",
				       pages - before, f->charged,
				       f->wrong_arena ? " (wrong arena)" : "");
	}
	if (f->nr - bs.free_pages != f->raw_pages + pages)
		return FZ_FAIL(f, "%lu pages used, model %lu raw + %lu in slabs",
			       f->nr - bs.free_pages, f->raw_pages, pages);
	return 0;
}

int fz_step(struct fz *f, u64 r)
{
	int kind = r & 15, ret = 0;

	f->ops++;
	if (!f->mixed && kind >= 7 && kind <= 13)
		kind = kind % 4 ? 0 : 4;
	/* arenas differ in occupancy: turn some allocations into frees */
	if ((r >> 61) < f->free_bias * 2) {
		if (kind <= 3)
			kind = 4;
		else if (kind >= 7 && kind <= 9)
			kind = 10;
	}
	switch (kind) {
	case 0: case 1: case 2: case 3:
		ret = fz_raw_alloc(f, r);
		break;
	case 4: case 5:
		ret = fz_raw_free(f, r);
		break;
	case 6:
		ret = fz_raw_invalid(f, r);
		break;
	case 7: case 8: case 9:
		ret = fz_slab_alloc(f, r);
		break;
	case 10: case 11:
		ret = fz_slab_free(f, r);
		break;
	case 12:
		ret = fz_slab_invalid(f, r);
		break;
	case 13:
		co_slab_drain(f->set[(r >> 4) & 1]);
		fz_count.drains++;
		break;
	case 14:
		shim_set_cpu((r >> 4) % SHIM_NR_CPUS);
		fz_count.cpu_switches++;
		break;
	default:
		if ((r >> 4) & 1) {
			ret = fz_zero_step(f, r);
			break;
		}
		ret = fz_stats(f);
		fz_count.stats++;
		break;
	}
	if (ret)
		return ret;
	if (co_buddy_check(&f->b))
		return FZ_FAIL(f, "co_buddy_check after op kind %d", kind);
	if (f->mixed && (co_slab_set_check(f->set[0]) ||
			 co_slab_set_check(f->set[1])))
		return FZ_FAIL(f, "co_slab_set_check after op kind %d", kind);
	return 0;
}

static void fz_free_model(struct fz *f)
{
	free(f->raw);
	free(f->zeroed);
	free(f->objs);
	free(f->owner);
	free(f->unit);
	free(f->rl);
	free(f->ol);
	free(f);
}

int fz_end(struct fz *f)
{
	struct co_buddy_stats st;
	int ret = 0, s;

	while (f->nr_raw && !ret)
		ret = fz_raw_free(f, 0);
	while (f->nr_obj && !ret)
		ret = fz_slab_free(f, 0);
	for (s = 0; s < 2 && !ret; s++)
		if (f->set[s] && co_slab_set_destroy(f->set[s]))
			ret = FZ_FAIL(f, "set %d destroy failed", s);
	if (!ret && (f->charged || f->wrong_arena))
		ret = FZ_FAIL(f, "set 1's owner still charged %lu pages%s",
			      f->charged, f->wrong_arena ? " (wrong arena)" : "");
	if (!ret && co_buddy_check(&f->b))
		ret = FZ_FAIL(f, "final co_buddy_check");
	co_buddy_get_stats(&f->b, &st);
	if (!ret && (st.free_pages != f->nr ||
		     st.largest_free_order != (int)co_buddy_max_order(&f->b)))
		ret = FZ_FAIL(f, "arena not pristine: %lu free, largest order %d",
			      st.free_pages, st.largest_free_order);
	if (!ret)
		co_buddy_destroy(&f->b);
	shim_rcu_barrier();
	fz_free_model(f);
	return ret;
}
