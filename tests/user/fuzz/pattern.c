// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz: buffer contents: each buffer's pattern, checked (or zeros) through
 * every mapping of it.
 * See fuzz.h.
 */
#define _GNU_SOURCE
#include "fuzz.h"

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
unsigned long view_walk(const struct mview *v, int write)
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

int view_verify(int vi)
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
