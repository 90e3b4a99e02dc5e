// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz: mmap, munmap and mremap of buffers and dma-bufs,
 * DMA_BUF_IOCTL_SYNC, and the zero check of every new buffer.  Mappings of
 * the second owner's files and dma-bufs are made in its helper process.
 * See fuzz.h.
 */
#define _GNU_SOURCE
#include "fuzz.h"

int free_view_slot(void)
{
	int i;

	for (i = 0; i < MAXV; i++)
		if (!views[i].used)
			return i;
	return -1;
}

static int add_view(int who, char *addr, size_t len, int b, size_t pgoff,
		    int wr)
{
	int vi = free_view_slot();

	if (vi < 0) {
		x_munmap(who, addr, len);
		return -1;
	}
	views[vi].used = 1;
	views[vi].who = who;
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
	    v->len / PG == span_pages(b))
		view_stamp(v, b);
}

/* Unmaps view @vi whole and lets the model know. */
void view_close(int vi)
{
	struct mview *v = &views[vi];
	int got;

	got = x_munmap(v->who, v->addr, v->len);
	snprintf(desc, sizeof(desc), "view %d of buffer %d (%zu pages)",
		 vi, v->buf, v->len / PG);
	judge(K_MUNMAP, desc, got, 0, NULL, ok_mmap);
	v->used = 0;
	bufs[v->buf].views--;
	buf_check_gone(v->buf);
	reap_pinned();
}

/*
 * A buffer ALLOC just made must read as zeros, in its own bytes and (a
 * sub-page buffer) in the rest of its page: no other owner's bytes.  Its
 * owner maps it whole, checks it, and mostly writes its pattern.  Buffers
 * over 4 MiB are checked one time in five (each mmap maps every page).
 */
void fresh_check(int b)
{
	struct mbuf *m = &bufs[b];
	int f = m->file, err;
	struct mview v = { .used = 1, .who = files[f].who, .buf = b,
			   .writable = 1 };
	struct walk_res r;

	if (span_pages(m) > 1024 && !pct(20))
		return;
	v.len = span_pages(m) * PG;
	v.addr = x_mmap(v.who, v.len, PROT_READ | PROT_WRITE, MAP_SHARED,
			files[f].fd, m->mmap_offset, &err);
	snprintf(desc, sizeof(desc), "new buffer %u slot %d (%zu pages)",
		 m->serial, f, v.len / PG);
	if (!judge(K_FRESH, desc, v.addr ? 0 : err, 0, NULL, ok_mmap))
		return;
	x_walk(&v, m, 0, &r);
	n_checked++;
	n_xchecks_b += v.who == W_B;
	if (!judge_bytes(m, &r, "a new buffer") && r.bad)
		m->patterned = -1;
	else if (pct(75))
		view_stamp(&v, m);
	x_munmap(v.who, v.addr, v.len);
}

/* mmap of a /dev/carveout buffer (@dfd < 0) or of dma-buf @d. */
void op_mmap(int f, int d)
{
	uint64_t off = 0, span = 0, pgoff = 0, npg;
	int b = -1, r, e = 0, got, shared = 1, wr, mflags, prot, who;
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

	who = d >= 0 ? dbufs[d].who : files[f].who;
	p = x_mmap(who, len, prot, mflags, d >= 0 ? dbufs[d].fd : files[f].fd,
		   off, &got);
	if (p)
		got = 0;
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
			x_munmap(who, p, len);
		return;
	}
	snprintf(desc, sizeof(desc), "%s%d buffer %d off %#" PRIx64 " len %#zx "
		 "%s prot %d", d >= 0 ? "dma-buf " : "slot ", d >= 0 ? d : f, b,
		 off, len, shared ? "shared" : "private", prot);
	judge(d >= 0 ? K_DMABUF : K_MMAP, desc, got, e, NULL, ok_mmap);
	if (got)
		return;
	if (e) {
		x_munmap(who, p, len);
		return;
	}
	len = (len + PG - 1) & ~(PG - 1);
	r = add_view(who, p, len, b, pgoff, wr);
	if (r >= 0) {
		views[r].dev_gen = d < 0 ? files[f].gen : 0;
		new_view(r);
	}
}

void op_munmap(void)
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
		view_close(vi);
		return;
	}
	/* Partial: unmap pages [a, a + n). */
	a = rr(npg);
	n = 1 + rr(npg - a);
	if (a == 0 && n == npg)
		n--;
	got = x_munmap(v->who, v->addr + a * PG, n * PG);
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
			nv = add_view(keep.who, keep.addr + (a + n) * PG,
				      (npg - a - n) * PG, keep.buf,
				      keep.pgoff + a + n, keep.writable);
			if (nv >= 0)
				views[nv].dev_gen = keep.dev_gen;
		}
	}
	view_verify(vi);
}

void op_mremap(void)
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

		p = x_mremap(v->who, v->addr, v->len, keep * PG, 0, NULL, &got);
		if (p)
			got = 0;
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
		p = x_mremap(v->who, v->addr, v->len, v->len + PG,
			     MREMAP_MAYMOVE, NULL, &got);
		if (p)
			got = 0;
		snprintf(desc, sizeof(desc), "grow view %d of buffer %d (%zu pages)",
			 vi, v->buf, npg);
		judge(K_MREMAP, desc, got, EFAULT, NULL, ok_mremap);
		if (!got) {
			x_munmap(v->who, p + v->len, PG);
			v->addr = p;
		}
	} else if (r < 85) {
		/* Move to a fixed new place. */
		dst = x_mmap(v->who, v->len, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &got);
		if (!dst)
			return;
		p = x_mremap(v->who, v->addr, v->len, v->len,
			     MREMAP_MAYMOVE | MREMAP_FIXED, dst, &got);
		if (p)
			got = 0;
		snprintf(desc, sizeof(desc), "move view %d of buffer %d (%zu pages)",
			 vi, v->buf, npg);
		judge(K_MREMAP, desc, got, 0, NULL, ok_mremap);
		if (got) {
			x_munmap(v->who, dst, v->len);
			return;
		}
		v->addr = p;
		view_verify(vi);
	} else {
		/* old_len 0 duplicates a shared mapping, unless it can't grow. */
		p = x_mremap(v->who, v->addr, 0, PG, MREMAP_MAYMOVE, NULL, &got);
		if (p)
			got = 0;
		note("mremap dup view %d of buffer %d: %s", vi, v->buf,
		     got ? strerror(got) : "ok");
		n_calls[K_MREMAP]++;
		if (got && !in_set(got, ok_mremap)) {
			n_unexpected++;
			report("mremap dup: errno %d", got);
		}
		if (!got) {
			int nv = add_view(v->who, p, PG, v->buf, v->pgoff,
					  v->writable);

			if (nv >= 0) {
				views[nv].dev_gen = v->dev_gen;
				view_verify(nv);
			}
		}
	}
}

void op_dmabuf(void)
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
	got = x_ioctl(dbufs[d].who, dbufs[d].fd, DMA_BUF_IOCTL_SYNC, &s,
		      sizeof(s));
	judge(K_DMABUF, "SYNC", got, e, NULL, ok_dbsync);
}
