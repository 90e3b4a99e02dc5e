// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz: buffer contents, and the cross-owner byte checker.
 * See fuzz.h.
 *
 * Every buffer written carries a pattern of 64-bit words that names its
 * owner: the file generation (an owner: one open of one slot, by one uid)
 * and a serial unique to the buffer, plus a hash of the word's index.
 *
 *   63      56 55          40 39                    16 15            0
 *   | 0xc5   | generation    | serial                 | hash(serial,i) |
 *
 * A buffer never written must read as zeros.  Every read of a buffer's
 * bytes (a mapping of ours, the helper's or a fork child's, a freshly
 * allocated buffer, a pipe after vmsplice, an io_uring fixed buffer dumped
 * with WRITE_FIXED) goes through walk_words(): the buffer's own bytes must
 * be what the model says, and no word anywhere (its own bytes, or the rest
 * of the page a sub-page buffer shares with its file's other objects) may
 * be a pattern word of another generation.  Such a word is decoded back
 * to the owner that wrote it (the serial's table) and counted as a
 * cross-owner violation; the run fails on any.
 *
 * The decoder is checked at start (checker_selftest()): foreign words
 * planted in a pattern, in a real mapping and in a pipe must be flagged,
 * a zero or junk word must not count as foreign.  CARVEOUT_FUZZ_PLANT=OP
 * plants one into a live mapping at op OP, to see a run fail.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/uio.h>

#include "fuzz.h"

#define PAT_MAGIC	0xc5ULL

uint64_t pat_word(uint32_t gen, uint32_t serial, uint64_t idx)
{
	return PAT_MAGIC << 56 | (uint64_t)(gen & 0xffff) << 40 |
	       (uint64_t)(serial & 0xffffff) << 16 |
	       (mix((uint64_t)serial << 32 ^ idx) & 0xffff);
}

static uint32_t word_gen16(uint64_t w)
{
	return (w >> 40) & 0xffff;
}

static uint32_t word_serial(uint64_t w)
{
	return (w >> 16) & 0xffffff;
}

static int word_tagged(uint64_t w)
{
	return w >> 56 == PAT_MAGIC;
}

/* Large buffers carry their pattern on a sample of pages. */
int page_sampled(const struct mbuf *b, size_t pg)
{
	size_t s = span_pages(b);

	return s <= 256 || pg < 4 || pg >= s - 4 || pg % 67 == 0;
}

static void sample(uint64_t *arr, uint32_t *n, uint64_t w)
{
	if (*n < WALK_SAMPLES)
		arr[(*n)++] = w;
}

/*
 * Checks (or writes, @write) @n words at @w holding bytes of buffer @b from
 * byte @off of the buffer on (negative, or past its length: bytes of the
 * page outside the buffer, only checked for other owners' words).  A page
 * a pattern skips (page_sampled()) holds zeros or, written through a pin,
 * the pattern.
 */
void walk_words(volatile uint64_t *w, size_t n, const struct mbuf *b,
		int64_t off, int write, struct walk_res *r)
{
	uint32_t g16 = b->gen & 0xffff;
	size_t i;

	for (i = 0; i < n; i++, off += 8) {
		int mine = off >= 0 && (uint64_t)off < b->granted;
		uint64_t want = 0, got;

		if (mine && (b->patterned > 0 || write))
			want = pat_word(b->gen, b->serial, off / 8);
		if (write) {
			if (mine)
				w[i] = want;
			continue;
		}
		got = w[i];
		r->words++;
		if (word_tagged(got) && word_gen16(got) != g16) {
			r->alien++;
			sample(r->alien_w, &r->nalien, got);
		}
		if (!mine || got == want)
			continue;
		if (want && !got &&
		    !page_sampled(b, (b->page_offset + off) / PG))
			continue;
		r->bad++;
		r->zeros += !got;
		if (r->nbad < WALK_SAMPLES) {
			r->bad_off[r->nbad] = off;
			r->bad_w[r->nbad++] = got;
		}
	}
}

/* Walks the bytes of @b that view @v shows (pages of its span). */
void view_walk(const struct mview *v, const struct mbuf *b, int write,
	       struct walk_res *r)
{
	size_t pg, npg = v->len / PG;
	int64_t lo = b->page_offset;

	memset(r, 0, sizeof(*r));
	for (pg = v->pgoff; pg < v->pgoff + npg; pg++) {
		if (!page_sampled(b, pg))
			continue;
		walk_words((volatile uint64_t *)(v->addr + (pg - v->pgoff) * PG),
			   PG / 8, b, (int64_t)(pg * PG) - lo, write, r);
	}
}

static void describe_gen(char *s, size_t n, uint32_t gen)
{
	if (gen_slot(gen) < 0)
		snprintf(s, n, "a fork child's file, gen %u uid %u", gen,
			 gen_uid(gen));
	else
		snprintf(s, n, "file slot %d gen %u uid %u", gen_slot(gen), gen,
			 gen_uid(gen));
}

/*
 * Judges what a walk of buffer @b's bytes found, read through @where.
 * Foreign words are decoded back to their owner: a violation when the
 * serial exists and was written by another generation.  Returns 1 when
 * everything is as the model says.
 */
static int quiet;	/* the self-test: expected findings, not reported */

int judge_bytes(const struct mbuf *b, const struct walk_res *r,
		const char *where)
{
	char own[64], other[64];
	uint32_t i, sg = 0, ser = 0;
	unsigned long found = 0;

	n_xchecks++;
	n_xwords += r->words;
	for (i = 0; i < r->nalien; i++) {
		uint32_t s = word_serial(r->alien_w[i]), g = serial_gen(s);

		if (g && (g & 0xffff) == word_gen16(r->alien_w[i]) &&
		    g != b->gen) {
			found++;
			sg = g;
			ser = s;
		}
	}
	describe_gen(own, sizeof(own), b->gen);
	if (found) {
		describe_gen(other, sizeof(other), sg);
		n_foreign += r->alien;
		if (!quiet)
			report("CROSS-OWNER: %s of buffer %u (%s, %" PRIu64
			       " bytes, node %u) shows %" PRIu64 " word(s) of "
			       "another owner, e.g. %#" PRIx64 " of buffer %u "
			       "(%s)", where, b->serial, own, b->granted,
			       b->node, r->alien, r->alien_w[0], ser, other);
	}
	if (!r->bad && !found)
		return 1;
	if (!r->bad)
		return 0;
	n_pattern++;
	if (b->patterned >= 0 && !quiet)
		report("%s of buffer %u (%s, handle %u, %" PRIu64 " bytes, node %u)"
		       " lost its %s: %" PRIu64 " bad words (%" PRIu64 " zero), "
		       "first at +%" PRId64 ": %#" PRIx64 " (serial %u)", where,
		       b->serial, own, b->handle, b->granted, b->node,
		       b->patterned ? "pattern" : "zeros", r->bad, r->zeros,
		       r->bad_off[0], r->bad_w[0],
		       word_tagged(r->bad_w[0]) ? word_serial(r->bad_w[0]) : 0);
	return 0;
}

int view_verify(int vi)
{
	struct mview *v = &views[vi];
	struct mbuf *b = &bufs[v->buf];
	struct walk_res r;

	if (b->patterned < 0)
		return 0;	/* reported already */
	x_walk(v, b, 0, &r);
	n_checked++;
	n_xchecks_b += v->who == W_B;
	if (judge_bytes(b, &r, v->who == W_B ? "the helper's mapping" :
			"a mapping")) {
		return 1;
	}
	/* Report a corrupted buffer once. */
	if (r.bad)
		b->patterned = -1;
	return 0;
}

/* Writes @b's pattern through the whole-buffer writable view @v. */
void view_stamp(const struct mview *v, struct mbuf *b)
{
	struct walk_res r;

	x_walk(v, b, 1, &r);
	b->patterned = 1;
}

/* -------------------------------------------------------------------- */
/* The checker's own check                                               */

static int selftest_words(uint32_t ga, uint32_t gb)
{
	static uint64_t page[PG / 8];
	struct mbuf a = { .used = 1, .gen = ga, .granted = PG, .patterned = 1 };
	struct mbuf b = a, slab = a;
	unsigned long f0 = n_foreign, p0 = n_pattern;
	struct walk_res r;
	int ok = 1;

	a.serial = new_serial(ga);
	b.gen = gb;
	b.serial = new_serial(gb);
	/* B's page with one word of A's and one zero: one foreign word. */
	walk_words(page, PG / 8, &b, 0, 1, &r);
	page[100] = pat_word(a.gen, a.serial, 100);
	page[200] = 0;
	memset(&r, 0, sizeof(r));
	walk_words(page, PG / 8, &b, 0, 0, &r);
	ok &= r.bad == 2 && r.zeros == 1 && r.alien == 1;
	ok &= !judge_bytes(&b, &r, "self-test") && n_foreign == f0 + 1;
	/* A pattern-shaped word of no known buffer is not foreign. */
	walk_words(page, PG / 8, &b, 0, 1, &r);
	page[7] = PAT_MAGIC << 56 | 0xffffffULL << 16;
	memset(&r, 0, sizeof(r));
	walk_words(page, PG / 8, &b, 0, 0, &r);
	ok &= r.bad == 1 && !judge_bytes(&b, &r, "self-test (junk)") &&
	      n_foreign == f0 + 1;
	/*
	 * A sub-page buffer at +1024: its own bytes fine, another buffer of
	 * its file before it, another owner's word after it: flagged.
	 */
	slab.gen = gb;
	slab.serial = new_serial(gb);
	slab.granted = 256;
	memset(page, 0, sizeof(page));
	walk_words(page, PG / 8, &b, 0, 1, &r);
	walk_words(page + 128, 32, &slab, 0, 1, &r);
	page[300] = pat_word(a.gen, a.serial, 3);
	memset(&r, 0, sizeof(r));
	walk_words(page, PG / 8, &slab, -1024, 0, &r);
	ok &= r.bad == 0 && r.alien == 1 &&
	      !judge_bytes(&slab, &r, "self-test (sub-page)") &&
	      n_foreign == f0 + 2;
	n_foreign = f0;
	n_pattern = p0;
	return ok;
}

/*
 * Through a real mapping and a pipe: a buffer of file 0 carrying its
 * pattern, one word of file 1's owner planted into it.
 */
static int selftest_mapping(void)
{
	unsigned long f0 = n_foreign, p0 = n_pattern;
	struct carveout_alloc a;
	struct mview v = { .used = 1, .who = W_SELF, .len = PG, .writable = 1 };
	struct mbuf m = { .used = 1, .file = 0, .gen = files[0].gen };
	struct walk_res r;
	uint64_t got[PG / 8];
	size_t n = 0;
	int ok, lid;

	if (co_alloc(files[0].fd, PG, CARVEOUT_POLICY_LOCAL, 0,
		     CARVEOUT_ALLOC_PAGES, &a))
		return 0;
	m.granted = a.granted;
	m.serial = new_serial(m.gen);
	v.addr = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		      files[0].fd, a.mmap_offset);
	if (v.addr == MAP_FAILED) {
		co_free(files[0].fd, a.handle);
		return 0;
	}
	view_walk(&v, &m, 1, &r);
	m.patterned = 1;
	((uint64_t *)v.addr)[17] = pat_word(files[1].gen,
					    new_serial(files[1].gen), 17);
	view_walk(&v, &m, 0, &r);
	ok = !judge_bytes(&m, &r, "self-test mapping") && n_foreign == f0 + 1;
	lid = lpin_take(PIN_PIPE, v.addr, PG, &n);
	if (lid >= 0 && n == PG && lpin_read(lid, got, PG) == (long)PG) {
		memset(&r, 0, sizeof(r));
		walk_words(got, PG / 8, &m, 0, 0, &r);
		ok &= !judge_bytes(&m, &r, "self-test pipe") &&
		      n_foreign == f0 + 2;
	} else {
		ok = 0;
	}
	if (lid >= 0)
		lpin_drop(lid, 0);
	munmap(v.addr, PG);
	co_free(files[0].fd, a.handle);
	n_foreign = f0;
	n_pattern = p0;
	return ok;
}

int checker_selftest(void)
{
	unsigned long x0 = n_xchecks, w0 = n_xwords;
	int ok;

	quiet = 1;
	ok = selftest_words(files[0].gen, files[1].gen);
	ok &= selftest_mapping();
	quiet = 0;
	n_xchecks = x0;
	n_xwords = w0;
	return ok;
}

/*
 * CARVEOUT_FUZZ_PLANT: writes a word of another owner into a mapping of
 * ours that carries its pattern, behind the model's back, and verifies
 * it: the run must fail.
 */
void plant_foreign(void)
{
	int i, vi = -1;
	uint32_t g = 0;

	for (i = 0; i < MAXV && vi < 0; i++)
		if (views[i].used && views[i].who == W_SELF &&
		    views[i].writable && bufs[views[i].buf].patterned > 0 &&
		    !is_slab(&bufs[views[i].buf]) &&
		    span_pages(&bufs[views[i].buf]) <= 256)
			vi = i;
	for (i = 0; i < MAXF && !g; i++)
		if (vi >= 0 && files[i].fd >= 0 &&
		    files[i].gen != bufs[views[vi].buf].gen)
			g = files[i].gen;
	if (vi < 0 || !g) {
		tap_diag("plant: no patterned mapping or no other owner at op %lu",
			 op_idx);
		return;
	}
	tap_diag("plant: a word of gen %u into a mapping of buffer %u at op %lu",
		 g, bufs[views[vi].buf].serial, op_idx);
	((volatile uint64_t *)views[vi].addr)[3] = pat_word(g, new_serial(g), 3);
	view_verify(vi);
}
