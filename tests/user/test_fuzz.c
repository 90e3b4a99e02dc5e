// SPDX-License-Identifier: GPL-2.0
/*
 * Seeded ioctl/mmap fuzzer for /dev/carveout.  Its state model and its
 * operations are in fuzz/ (fuzz/fuzz.h lists the files); this file runs
 * them.
 *
 * Random sequences of every command with random and boundary arguments
 * (sizes, flags, reserved and output fields, size-field variants against
 * each command's minimum, bad and faulting pointers, policies, nodes,
 * device names), FREEMAP walks and SLABINFO against the model's sub-page
 * buffers, mmap/munmap/mremap of buffers and dma-bufs, DMA_BUF_IOCTL_SYNC,
 * close/reopen and fork.  A model of what exists (files, handles,
 * mappings, dma-bufs, DMA mappings) lets most results be asserted
 * exactly; any errno outside a command's documented set is a failure too.
 * Every buffer mapped in full carries a pattern derived from its file and
 * handle, checked whenever a mapping of it is verified; a buffer never
 * written must read as zeros.  STATS must agree with the model after
 * every op (live buffers, requested and granted bytes per node; a closed
 * file keeps its handles while any mmap of it remains) and, once
 * everything is closed, every region must be free and coalesced.
 *
 * Usage: test_fuzz [SEED [OPS]]   (or CARVEOUT_FUZZ_SEED, CARVEOUT_FUZZ_OPS;
 * CARVEOUT_FUZZ_MAX_SECS stops early at a time limit; CARVEOUT_FUZZ_TRACE
 * prints every op)
 * A failure prints the op index; rerun with the same seed and op count to
 * reproduce it, and with a smaller op count to bisect.
 */
#define _GNU_SOURCE
#include "fuzz/fuzz.h"

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
	} else if (r < 972) {
		op_freemap(f);
	} else if (r < 980) {
		op_slabinfo(f);
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
		co_drain_pools(nodes[i].node);
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
