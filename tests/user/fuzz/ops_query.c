// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz: INFO (and what it says is charged to the file and to its
 * opener's uid), STATS, FREEMAP, SLABINFO and unknown command numbers.
 * See fuzz.h.
 */
#define _GNU_SOURCE
#include <stddef.h>

#include "fuzz.h"

/*
 * A file's bytes are charged to it and to the uid that opened it, whoever
 * calls: the file SLOT_PASSED is the second uid's though this process uses
 * it.  Only a caller with CAP_SYS_ADMIN sees CARVEOUT_CAP_PHYS.
 */
/*
 * Bytes of slab pages file slot @f holds over all nodes, from its own
 * SLABINFO: a file is charged every page of its sub-page caches.
 */
static uint64_t slab_pages_charged(int f)
{
	static struct carveout_slab_class c[64];
	struct carveout_slabinfo si;
	struct argvar v = { .place = PL_NORMAL };
	uint64_t bytes = 0;
	unsigned int k;
	int i;

	for (i = 0; i < nr_nodes; i++) {
		memset(&si, 0, sizeof(si));
		si.size = v.usize = sizeof(si);
		v.min = CARVEOUT_SLABINFO_MIN_SIZE;
		si.node = nodes[i].node;
		si.classes_cap = 64;
		si.classes_ptr = (uintptr_t)c;
		if (call_out(f, CARVEOUT_IOC_SLABINFO, &si, sizeof(si), &v, c,
			     sizeof(c)))
			return UINT64_MAX;
		for (k = 0; k < si.nr_classes && k < 64; k++)
			bytes += (c[k].slabs_full + c[k].slabs_partial +
				  c[k].slabs_empty) * c[k].slab_pages * PG;
	}
	return bytes;
}

/* Slab pages of every open file of @uid. */
static uint64_t uid_slab_pages(uint32_t uid)
{
	uint64_t sum = 0, one;
	int g;

	for (g = 0; g < MAXF; g++) {
		if (files[g].fd < 0 || files[g].uid != uid)
			continue;
		one = slab_pages_charged(g);
		if (one == UINT64_MAX)
			return UINT64_MAX;
		sum += one;
	}
	return sum;
}

static void info_charges(int f, const struct carveout_info *in)
{
	uint64_t fb[2], ub[2], fs, us;
	int elsewhere;

	charge_bounds(files[f].gen, files[f].uid, fb, ub, &elsewhere);
	fs = slab_pages_charged(f);
	us = uid_slab_pages(files[f].uid);
	if (fs == UINT64_MAX || us == UINT64_MAX) {
		n_mismatch++;
		report("SLABINFO for the charge check failed on file slot %d", f);
		return;
	}
	/*
	 * A held sub-page object that drains between INFO and SLABINFO can
	 * take an empty slab with it: allow one slab per draining object.
	 */
	fb[0] += fs > slab_drain_slack(files[f].gen, 0) ?
		 fs - slab_drain_slack(files[f].gen, 0) : 0;
	fb[1] += fs + slab_drain_slack(files[f].gen, 0);
	ub[0] += us > slab_drain_slack(0, files[f].uid) ?
		 us - slab_drain_slack(0, files[f].uid) : 0;
	/* Closed files' caches live on while their objects do. */
	ub[1] = elsewhere ? UINT64_MAX :
		ub[1] + us + slab_drain_slack(0, files[f].uid);
	n_acct++;
	if (in->file_bytes < fb[0] || in->file_bytes > fb[1] ||
	    in->user_bytes < ub[0] || in->user_bytes > ub[1]) {
		n_mismatch++;
		report("INFO on file slot %d (gen %u, opened by uid %u): file "
		       "%llu bytes (model %" PRIu64 "..%" PRIu64 "), uid %llu "
		       "(model %" PRIu64 "..%" PRIu64 ")", f, files[f].gen,
		       files[f].uid, (unsigned long long)in->file_bytes, fb[0],
		       fb[1], (unsigned long long)in->user_bytes, ub[0], ub[1]);
	}
	if (!!(in->caps & CARVEOUT_CAP_PHYS) != caller_root(f)) {
		n_mismatch++;
		report("INFO on file slot %d: CAP_PHYS %s to a caller %s "
		       "CAP_SYS_ADMIN", f,
		       in->caps & CARVEOUT_CAP_PHYS ? "given" : "refused",
		       caller_root(f) ? "with" : "without");
	}
}

void op_info(int f)
{
	/* Static: at the same address in the second owner's helper. */
	static struct carveout_node_info ni[MAXN];
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
	pick_argvar(&v, sizeof(in), CARVEOUT_INFO_MIN_SIZE);
	e = argvar_err(&v, sizeof(in));
	if (!e && (in.flags || in.caps || in.page_size || in.total_bytes ||
		   in.user_limit || (in.nodes_cap && !in.nodes_ptr)))
		e = EINVAL;
	if (!e && in.nodes_cap && in.nodes_ptr == (uintptr_t)none_page)
		e = EFAULT;
	if (!e && v.place == PL_RO)
		e = EFAULT;
	got = call_out(f, CARVEOUT_IOC_INFO, &in, sizeof(in), &v, ni,
		       in.nodes_ptr == (uintptr_t)ni ? sizeof(ni) : 0);
	judge(K_INFO, "", got, e, NULL, ok_info);
	if (got || e)
		return;
	/* Results go back only up to the caller's size. */
	if ((v.usize <= offsetof(struct carveout_info, file_bytes) && in.file_bytes) ||
	    (v.usize <= offsetof(struct carveout_info, user_bytes) && in.user_bytes)) {
		n_mismatch++;
		report("INFO of %u bytes wrote file_bytes/user_bytes past them",
		       v.usize);
	} else if (v.usize >= sizeof(in) && in.file_bytes > in.user_bytes) {
		n_mismatch++;
		report("INFO: the file holds %llu, more than its user (%llu)",
		       (unsigned long long)in.file_bytes,
		       (unsigned long long)in.user_bytes);
	}
	if (v.usize >= sizeof(in))
		info_charges(f, &in);
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

void op_stats(int f)
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
	pick_argvar(&v, sizeof(s), CARVEOUT_STATS_MIN_SIZE);
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
	got = call(f, CARVEOUT_IOC_STATS, &s, sizeof(s), &v);
	judge(K_STATS, "", got, e, NULL, ok_stats);
}

void op_badcmd(int f)
{
	static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
					     _IOC_READ | _IOC_WRITE };
	char arg[512];
	unsigned long cmd;
	int got, r = rr(3);

	memset(arg, 0, sizeof(arg));
	if (r == 0)	/* a command's number with a direction or a size */
		cmd = _IOC(dirs[rr(4)], CARVEOUT_IOC_MAGIC,
			   CARVEOUT_CMD_INFO + rr(10), 8 * rr(60));
	else if (r == 1)	/* the 0.1 ABI's numbers */
		cmd = _IOC(dirs[rr(4)], CARVEOUT_IOC_MAGIC, rr(8), 8 * rr(60));
	else
		cmd = _IOC(dirs[rr(4)], CARVEOUT_IOC_MAGIC, rr(256), rr(400));
	switch (cmd) {
	case CARVEOUT_IOC_INFO: case CARVEOUT_IOC_ALLOC: case CARVEOUT_IOC_FREE:
	case CARVEOUT_IOC_MAP: case CARVEOUT_IOC_UNMAP: case CARVEOUT_IOC_SYNC:
	case CARVEOUT_IOC_EXPORT: case CARVEOUT_IOC_STATS:
	case CARVEOUT_IOC_FREEMAP: case CARVEOUT_IOC_SLABINFO:
		return;
	}
	got = x_ioctl(files[f].who, files[f].fd, cmd, arg, sizeof(arg));
	judge(K_BADCMD, "", got, ENOTTY, NULL, ok_badcmd);
}

/* Where the last successful FREEMAP stopped, to continue the walk. */
static struct {
	uint32_t node, piece;
	uint64_t next, pages;
} fm_cursor;

static void freemap_args(struct carveout_freemap *m, int *ni,
			 struct carveout_free_block *blocks)
{
	int r = rr(100);

	memset(m, 0, sizeof(*m));
	m->size = sizeof(*m);
	m->node = r < 85 ? nodes[rr(nr_nodes)].node : r < 95 ?
		  nr_nodes + rr(70) : (uint32_t)rnd();
	*ni = node_index(m->node);
	m->piece = *ni >= 0 && pct(95) ? rr(nodes[*ni].nr_pieces) : rr(70);
	if (pct(40) && fm_cursor.pages && fm_cursor.node == m->node &&
	    fm_cursor.piece == m->piece)
		m->start = pct(90) ? fm_cursor.next : fm_cursor.pages;
	m->blocks_cap = pct(97) ? 1 + rr(64) : 0;
	m->blocks_ptr = (uintptr_t)blocks;
	if (pct(3))
		m->blocks_ptr = pct(50) ? 0 : (uintptr_t)none_page;
	if (pct(4)) {
		switch (rr(5)) {
		case 0: m->flags = 1U << rr(32); break;
		case 1: m->reserved = 1 + rr(9); break;
		case 2: m->nr_blocks = 1; break;
		case 3: m->piece_pages = 1; break;
		default: m->next = 1; break;
		}
	}
}

/*
 * A successful FREEMAP: blocks in order inside the piece, a cursor ahead.
 * The first block may hold @start (a cursor from before blocks merged).
 */
static void freemap_check(const struct carveout_freemap *m, int ni,
			  const struct carveout_free_block *b)
{
	uint64_t end = m->nr_blocks && b[0].order < 40 &&
		       b[0].offset + (1ULL << b[0].order) > m->start ?
		       b[0].offset : m->start;
	unsigned int i;
	int bad = m->nr_blocks > m->blocks_cap || m->next > m->piece_pages ||
		  m->nr_pieces != nodes[ni].nr_pieces ||
		  (m->next <= m->start && m->next != m->piece_pages);

	for (i = 0; !bad && i < m->nr_blocks; i++) {
		bad = b[i].order >= 40 || b[i].reserved || b[i].offset < end ||
		      b[i].offset + (1ULL << b[i].order) > m->piece_pages;
		end = b[i].offset + (1ULL << b[i].order);
	}
	if (bad) {
		n_mismatch++;
		report("FREEMAP node %u piece %u from %llu: %u blocks, next %llu of %llu pages",
		       m->node, m->piece, (unsigned long long)m->start,
		       m->nr_blocks, (unsigned long long)m->next,
		       (unsigned long long)m->piece_pages);
	}
	fm_cursor.node = m->node;
	fm_cursor.piece = m->piece;
	fm_cursor.next = m->next;
	fm_cursor.pages = m->piece_pages;
}

void op_freemap(int f)
{
	static struct carveout_free_block blocks[64];
	static const int maybe_fault[] = { EFAULT, 0 };
	struct carveout_freemap m;
	struct argvar v;
	int e, got, ni;

	freemap_args(&m, &ni, blocks);
	pick_argvar(&v, sizeof(m), CARVEOUT_FREEMAP_MIN_SIZE);
	e = argvar_err(&v, sizeof(m));
	/* The order the module checks in: fields, node, piece. */
	if (!e && (m.flags || !m.blocks_cap || m.reserved || m.nr_blocks ||
		   m.piece_pages || m.next))
		e = EINVAL;
	if (!e && ni < 0)
		e = ENODEV;
	if (!e && m.piece >= nodes[ni].nr_pieces)
		e = EINVAL;
	if (!e && v.place == PL_RO)
		e = EFAULT;
	snprintf(desc, sizeof(desc), "node %u piece %u start %llu cap %u",
		 m.node, m.piece, (unsigned long long)m.start, m.blocks_cap);
	got = call_out(f, CARVEOUT_IOC_FREEMAP, &m, sizeof(m), &v, blocks,
		       m.blocks_ptr == (uintptr_t)blocks ? sizeof(blocks) : 0);
	/* A bad blocks_ptr faults only when there is a block to write. */
	if (!e && m.blocks_ptr != (uintptr_t)blocks) {
		judge(K_FREEMAP, desc, got, -1, maybe_fault, ok_freemap);
		return;
	}
	if (judge(K_FREEMAP, desc, got, e, NULL, ok_freemap) && !got)
		freemap_check(&m, ni, blocks);
}

static void slabinfo_check(int f, const struct carveout_slabinfo *s,
			   const struct carveout_slab_class *c)
{
	unsigned int k, n = s->nr_classes < s->classes_cap ? s->nr_classes :
			    s->classes_cap;

	if (!s->nr_classes || s->nr_classes > 64) {
		n_mismatch++;
		report("SLABINFO: %u classes", s->nr_classes);
		return;
	}
	for (k = 0; k < n; k++) {
		uint64_t want[2];

		/* Live (and held) objects, and those that may be draining. */
		slab_bounds(files[f].gen, s->node, c[k].obj_size, want);
		/* All classes are zero while the file has no cache there. */
		if (c[k].objs_in_use >= want[0] && c[k].objs_in_use <= want[1] &&
		    c[k].objs_in_use <= c[k].objs_total &&
		    (!k || !c[k].obj_size || c[k].obj_size > c[k - 1].obj_size))
			continue;
		n_mismatch++;
		report("SLABINFO node %u class %u: %llu in use of %llu (model %llu..%llu)",
		       s->node, c[k].obj_size, (unsigned long long)c[k].objs_in_use,
		       (unsigned long long)c[k].objs_total,
		       (unsigned long long)want[0], (unsigned long long)want[1]);
		return;
	}
}

void op_slabinfo(int f)
{
	static struct carveout_slab_class classes[64];
	struct carveout_slabinfo s;
	struct argvar v;
	int e, got, r = rr(100);

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.node = r < 85 ? nodes[rr(nr_nodes)].node : r < 95 ? nr_nodes + rr(70) :
		 (uint32_t)rnd();
	s.classes_cap = pct(90) ? rr(65) : 0;
	s.classes_ptr = (uintptr_t)classes;
	if (pct(3))
		s.classes_ptr = pct(50) ? 0 : (uintptr_t)none_page;
	if (pct(4)) {
		switch (rr(3)) {
		case 0: s.flags = 1U << rr(32); break;
		case 1: s.reserved = 1 + rr(9); break;
		default: s.nr_classes = 1; break;
		}
	}
	pick_argvar(&v, sizeof(s), CARVEOUT_SLABINFO_MIN_SIZE);
	e = argvar_err(&v, sizeof(s));
	if (!e && (s.flags || s.reserved || s.nr_classes ||
		   (s.classes_cap && !s.classes_ptr)))
		e = EINVAL;
	if (!e && node_index(s.node) < 0)
		e = ENODEV;
	if (!e && s.classes_cap && s.classes_ptr != (uintptr_t)classes)
		e = EFAULT;
	if (!e && v.place == PL_RO)
		e = EFAULT;
	snprintf(desc, sizeof(desc), "node %u cap %u", s.node, s.classes_cap);
	got = call_out(f, CARVEOUT_IOC_SLABINFO, &s, sizeof(s), &v, classes,
		       s.classes_ptr == (uintptr_t)classes ? sizeof(classes) : 0);
	if (judge(K_SLABINFO, desc, got, e, NULL, ok_slabinfo) && !got)
		slabinfo_check(f, &s, classes);
}
