// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz: ALLOC (and the check that a new buffer reads as zeros), FREE,
 * MAP, UNMAP, SYNC and EXPORT against the model.
 * See fuzz.h.
 */
#define _GNU_SOURCE
#include "fuzz.h"

/* FREE outside the model (a buffer the model does not keep). */
static void free_quiet(int f, uint32_t h)
{
	struct carveout_handle fh = { .size = sizeof(fh), .handle = h };
	struct argvar v = { .usize = sizeof(fh), .min = CARVEOUT_HANDLE_MIN_SIZE };

	call(f, CARVEOUT_IOC_FREE, &fh, sizeof(fh), &v);
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

void op_alloc(int f)
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
	pick_argvar(&v, sizeof(a), CARVEOUT_ALLOC_MIN_SIZE);

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
		    !co_stats(local_fd(), node, &st)) {
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
	got = call(f, CARVEOUT_IOC_ALLOC, &a, sizeof(a), &v);
	if (!judge(K_ALLOC, desc, got, e, alt, ok_alloc) && got == ENOMEM && must)
		report("  (strict %" PRIu64 " bytes on node %" PRId64
		       " with a free block of %llu)", (uint64_t)in.length, node,
		       (unsigned long long)st.largest_free);
	if (got)
		return;
	if (e > 0) {
		/* Succeeded against the model: forget it again. */
		free_quiet(f, a.handle);
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
	    (caller_root(f) && (!a.phys_addr || (in.align &&
					  (a.phys_addr & (in.align - 1))))) ||
	    (!caller_root(f) && a.phys_addr)) {
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
		free_quiet(f, a.handle);
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
	bufs[b].serial = new_serial(files[f].gen);
	fresh_check(b);
}

void free_handle_model(int f, int b)
{
	uint32_t h = bufs[b].handle;

	files[f].freed[rr(8)] = h;
	bufs[b].handle = 0;
	bufs[b].nmaps = 0;
	buf_check_gone(b);
}

void op_free(int f)
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
	pick_argvar(&v, sizeof(h), CARVEOUT_HANDLE_MIN_SIZE);
	b = find_handle(f, h.handle);
	e = argvar_err(&v, sizeof(h));
	if (!e && (h.flags || h.reserved))
		e = EINVAL;
	if (!e && b < 0)
		e = ENOENT;
	got = call(f, CARVEOUT_IOC_FREE, &h, sizeof(h), &v);
	snprintf(desc, sizeof(desc), "slot %d handle %u (buffer %d) arg %d/%u",
		 f, h.handle, b, v.place, v.usize);
	judge(K_FREE, desc, got, e, NULL, ok_free);
	if (!got && b >= 0)
		free_handle_model(f, b);
}

void op_map(int f)
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
	pick_argvar(&v, sizeof(m), CARVEOUT_MAP_MIN_SIZE);
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
	got = call(f, CARVEOUT_IOC_MAP, &m, sizeof(m), &v);
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

void op_unmap(int f)
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
	pick_argvar(&v, sizeof(m), CARVEOUT_MAP_MIN_SIZE);
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
	got = call(f, CARVEOUT_IOC_UNMAP, &m, sizeof(m), &v);
	judge(K_UNMAP, hit >= 0 ? "of a mapping" : "", got, e, NULL, ok_unmap);
	if (!got && hit >= 0) {
		for (i = hit; i + 1 < bufs[b].nmaps; i++) {
			bufs[b].map_addr[i] = bufs[b].map_addr[i + 1];
			bufs[b].map_dir[i] = bufs[b].map_dir[i + 1];
		}
		bufs[b].nmaps--;
	}
}

void op_sync(int f)
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
	pick_argvar(&v, sizeof(s), CARVEOUT_SYNC_MIN_SIZE);
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
	got = call(f, CARVEOUT_IOC_SYNC, &s, sizeof(s), &v);
	judge(K_SYNC, "", got, e, NULL, ok_sync);
}

void dbuf_close(int d)
{
	int b = dbufs[d].buf;

	note("close dma-buf of buffer %d", b);
	x_close(dbufs[d].who, dbufs[d].fd);
	dbufs[d].used = 0;
	bufs[b].dmabufs--;
	buf_check_gone(b);
}

void op_export(int f)
{
	struct carveout_export x;
	struct argvar v;
	int e, b, got, d, r, fdf, fl;
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
	pick_argvar(&v, sizeof(x), CARVEOUT_EXPORT_MIN_SIZE);
	e = argvar_err(&v, sizeof(x));
	/* O_RDONLY or O_RDWR, and O_CLOEXEC: nothing else (no O_WRONLY). */
	if (!e && ((x.flags & ~CARVEOUT_EXPORT_FLAGS) || x.fd))
		e = EINVAL;
	if (!e && b < 0)
		e = ENOENT;
	got = call(f, CARVEOUT_IOC_EXPORT, &x, sizeof(x), &v);
	snprintf(desc, sizeof(desc), "slot %d handle %u (buffer %d) flags %#x "
		 "arg %d/%u -> fd %d", f, x.handle, b, x.flags, v.place, v.usize,
		 x.fd);
	judge(K_EXPORT, desc, got, e ? e : v.place == PL_RO ? EFAULT : -1,
	      e ? NULL : exres, ok_export);
	if (got)
		return;
	if (e || x.fd < 0) {
		if (x.fd >= 0)
			x_close(files[f].who, x.fd);
		return;
	}
	fdf = x_fcntl(files[f].who, x.fd, F_GETFD);
	fl = x_fcntl(files[f].who, x.fd, F_GETFL);
	if (fdf < 0 || fl < 0 || !!(fdf & FD_CLOEXEC) != !!(x.flags & O_CLOEXEC) ||
	    (fl & O_ACCMODE) != (int)(x.flags & O_ACCMODE)) {
		n_mismatch++;
		report("EXPORT flags %#x: dma-buf fd has fd flags %#x, file flags %#x",
		       x.flags, fdf, fl);
	}
	dbufs[d].used = 1;
	dbufs[d].who = files[f].who;
	dbufs[d].fd = x.fd;
	dbufs[d].buf = b;
	dbufs[d].acc = x.flags & O_ACCMODE;
	bufs[b].dmabufs++;
}
