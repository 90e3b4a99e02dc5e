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
 * mappings, dma-bufs, DMA mappings, pins) lets most results be asserted
 * exactly; any errno outside a command's documented set is a failure too.
 *
 * Two users' buffers coexist: as root, two of the six device files belong
 * to a second uid (FUZZ_UID): one opened by a helper process running as
 * that uid and used through it (its mappings and pins in the helper's
 * address space), one opened by the helper and passed back, so root uses
 * a file charged to the other uid.  INFO must charge every buffer to its
 * file and to the uid that opened the file.
 *
 * The attacker's tricks: pages pinned through a mapping by vmsplice()
 * into a pipe or by an io_uring fixed-buffer registration, then the
 * mapping unmapped, the handle freed, the file closed while pinned; a
 * long-lived fork child keeping mappings and pins across the parent's
 * FREEs.  The module must hold such memory back until the pin goes.
 *
 * Contents: every buffer written carries a pattern naming its owner (file
 * slot and generation, buffer serial); every new buffer must read as
 * zeros; every read of a mapping (ours, the helper's, a child's), a pipe,
 * or a fixed buffer is checked: the owner's bytes as the model has them,
 * and no word of another owner's pattern anywhere (cross-owner
 * violations, counted; the run fails on any).  The checker proves it
 * can fail at start (a planted foreign word must be flagged);
 * CARVEOUT_FUZZ_PLANT=OP plants one at op OP to see a whole run fail.
 *
 * The reserve and the default per-user share are off for the run (the
 * model has every file unlimited; test_limits proves them); a file is
 * charged its slab pages, read from its own SLABINFO.
 *
 * STATS must agree with the model after every op (live buffers, requested
 * and granted bytes per node; a closed file keeps its handles while any
 * mmap of it remains; a buffer let go while pinned stays counted, and
 * may take a moment to go after its pin) and, once everything is closed,
 * every region must be free and coalesced.
 *
 * Usage: test_fuzz [SEED [OPS]]   (or CARVEOUT_FUZZ_SEED, CARVEOUT_FUZZ_OPS;
 * CARVEOUT_FUZZ_MAX_SECS stops early at a time limit; CARVEOUT_FUZZ_TRACE
 * prints every op)
 * A failure prints the op index; rerun with the same seed and op count to
 * reproduce it, and with a smaller op count to bisect.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"

static void run_op(void)
{
	int f = pick_file(), r = rr(1000);

	if (child_due()) {
		child_finish();
		return;
	}
	if (f < 0) {
		op_reopen();
		return;
	}
	if (r < 190) {
		if (nr_handles(f) >= MAXH || nr_used_bufs() >= MAXB - 8)
			op_free(f);
		else
			op_alloc(f);
	} else if (r < 300) {
		op_free(f);
	} else if (r < 410) {
		if (free_view_slot() < 0)
			op_munmap();
		else
			op_mmap(f, -1);
	} else if (r < 480) {
		op_munmap();
	} else if (r < 510) {
		op_mremap();
	} else if (r < 560) {
		int i = rr(MAXV);

		if (views[i].used)
			view_verify(i);
	} else if (r < 625) {
		op_map(f);
	} else if (r < 670) {
		op_unmap(f);
	} else if (r < 725) {
		op_sync(f);
	} else if (r < 775) {
		op_export(f);
	} else if (r < 845) {
		op_dmabuf();
	} else if (r < 870) {
		op_info(f);
	} else if (r < 900) {
		op_stats(f);
	} else if (r < 925) {
		op_badcmd(f);
	} else if (r < 937) {
		op_freemap(f);
	} else if (r < 945) {
		op_slabinfo(f);
	} else if (r < 950) {
		stats_check("mid-run");
	} else if (r < 962) {
		op_reopen();
	} else if (r < 966) {
		op_fork();
	} else {
		op_pin();
	}
}

/* The device goes to FUZZ_UID's group for the second owner, and back. */
static struct stat dev_st;
static pid_t main_pid;
static int dev_shared;

static void dev_restore(void)
{
	if (!dev_shared || getpid() != main_pid)
		return;
	dev_shared = 0;
	if (chown(CO_DEV, dev_st.st_uid, dev_st.st_gid) ||
	    chmod(CO_DEV, dev_st.st_mode & 07777))
		tap_diag("cannot restore %s: %s", CO_DEV, strerror(errno));
}

static void second_owner_start(void)
{
	uint32_t uid = getuid();

	main_pid = getpid();
	if (is_root) {
		if (stat(CO_DEV, &dev_st))
			tap_bail("stat %s: %s", CO_DEV, strerror(errno));
		if (chown(CO_DEV, 0, FUZZ_UID) || chmod(CO_DEV, 0660))
			tap_bail("cannot give %s to group %d: %s", CO_DEV,
				 FUZZ_UID, strerror(errno));
		dev_shared = 1;
		atexit(dev_restore);
		uid = FUZZ_UID;
	}
	if (owner_start(uid))
		tap_diag("no second owner: %s", strerror(errno));
}

static unsigned long verified_end, bad_end;
static int owner_ok;
static uint32_t helper_uid = ~0U;

/*
 * End of the run: the long-lived child checks, pins are read back and
 * released, every mapping is verified one last time, then everything is
 * closed and the helper ends.
 */
static void finish_run(void)
{
	int i, fd;

	child_finish();
	for (i = 0; i < MAXP; i++)
		if (pins[i].used)
			pin_release(i, 0);
	stats_check("end of run");
	for (i = 0; i < MAXV; i++) {
		if (!views[i].used)
			continue;
		verified_end++;
		if (!view_verify(i))
			bad_end++;
		x_munmap(views[i].who, views[i].addr, views[i].len);
		views[i].used = 0;
		bufs[views[i].buf].views--;
		buf_check_gone(views[i].buf);
	}
	reap_pinned();
	for (i = 0; i < MAXD; i++)
		if (dbufs[i].used)
			dbuf_close(i);
	fd = co_open();
	drain_settle(5.0);
	stats_check("files still open");
	for (i = 0; i < MAXF; i++) {
		if (files[i].fd < 0)
			continue;
		close_file(i);
	}
	owner_ok = owner_alive() && !owner_stop();
	files[0].fd = fd;
	files[0].who = W_SELF;
	drain_settle(5.0);
	stats_check("everything closed");
	close(fd);
	files[0].fd = -1;
}

static void diag_counts(void)
{
	tap_diag("pins: %lu vmsplice, %lu io_uring (%lu unsupported%s%s, "
		 "%lu refused), %lu let go of right after pinning, %lu read "
		 "back (%lu bytes), %lu READ_FIXED writes through a pin, %lu "
		 "dropped without waiting", n_pin_splice, n_pin_uring,
		 n_pin_unsupp, uring_why ? ": " : "", uring_why ? uring_why : "",
		 n_pin_refused, n_pin_letgo, n_pin_read, n_pin_bytes,
		 n_pin_fill, n_pin_quick);
	tap_diag("cross-owner checks: %lu reads (%lu by or for the second "
		 "owner), %lu words, %lu foreign", n_xchecks, n_xchecks_b,
		 n_xwords, n_foreign);
	tap_diag("second owner uid %u: %lu requests to its helper; %lu INFO "
		 "charge checks; %lu buffers drained after their pin",
		 b_uid, n_rpc, n_acct, n_drained);
	tap_diag("long-lived children: %lu, holding %lu mappings and %lu pins "
		 "across the parent's ops", n_child_long, n_child_views,
		 n_child_pins);
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

/*
 * The model has every file unlimited: the reserve and the default per-user
 * share (test_limits proves them) are off while it runs, as root.
 */
static const char *const limit_params[] = { "reserve", "user_share" };
static unsigned long limit_saved[2];
static int limit_have[2];

static void limits_off(void)
{
	char path[128];
	unsigned int i;
	FILE *f;

	for (i = 0; i < 2 && geteuid() == 0; i++) {
		snprintf(path, sizeof(path),
			 "/sys/module/carveout/parameters/%s", limit_params[i]);
		f = fopen(path, "r");
		limit_have[i] = f && fscanf(f, "%lu", &limit_saved[i]) == 1;
		if (f)
			fclose(f);
		if (limit_have[i] && co_set_param(limit_params[i], 0))
			tap_bail("cannot set carveout.%s=0", limit_params[i]);
	}
}

static void limits_restore(void)
{
	unsigned int i;

	for (i = 0; i < 2; i++)
		if (limit_have[i])
			co_set_param(limit_params[i], limit_saved[i]);
}

int main(int argc, char **argv)
{
	struct carveout_info info;
	struct carveout_stats s;
	uint64_t seed, max_secs, plant_op;
	double t0, dt;
	int i, fd, k;

	tap_plan_begin("carveout ioctl/mmap fuzzer");
	seed = env_num(argc > 1 ? argv[1] : NULL, "CARVEOUT_FUZZ_SEED",
		       mix((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32)));
	nr_ops = env_num(argc > 2 ? argv[2] : NULL, "CARVEOUT_FUZZ_OPS", DEF_OPS);
	max_secs = env_num(NULL, "CARVEOUT_FUZZ_MAX_SECS", DEF_MAX_SECS);
	trace = !!getenv("CARVEOUT_FUZZ_TRACE");
	plant_op = env_num(NULL, "CARVEOUT_FUZZ_PLANT", ~0ULL);
	tap_diag("seed 0x%016" PRIx64, seed);
	tap_diag("ops %lu (reproduce: test_fuzz 0x%" PRIx64 " %lu)", nr_ops,
		 seed, nr_ops);
	rng = seed;
	is_root = geteuid() == 0;
	signal(SIGPIPE, SIG_IGN);	/* a child's pipe: a failure, not a kill */

	limits_off();
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

	second_owner_start();
	for (i = 0; i < MAXF; i++)
		files[i].fd = -1;
	open_slot(0);
	open_slot(1);
	open_slot(SLOT_PASSED);
	open_slot(SLOT_B);
	if (owner_alive())
		helper_uid = owner_uid();
	tap_diag("second owner: uid %u, file slots %d (passed to us) and %d "
		 "(in its helper)%s", b_uid, SLOT_PASSED, SLOT_B,
		 files[SLOT_B].fd < 0 ? ": NOT OPEN" : "");
	tap_ok(checker_selftest(),
	       "cross-owner checker self-test: foreign words planted in a "
	       "pattern, a sub-page buffer's page, a mapping and a pipe are "
	       "flagged, zeros and junk are not foreign");

	t0 = now();
	for (op_idx = 0; op_idx < nr_ops; op_idx++) {
		if (op_idx == plant_op)
			plant_foreign();
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
	finish_run();
	diag_counts();

	fd = co_open();
	tap_ok(!n_unexpected, "%lu ops, %lu errno outside the documented sets",
	       nr_ops, n_unexpected);
	tap_ok(!n_mismatch, "%lu results differ from the model", n_mismatch);
	tap_ok(!n_pattern && !bad_end,
	       "patterns and zeros intact (%lu checks, %lu mappings at the end)",
	       n_checked, verified_end);
	tap_ok(!n_foreign,
	       "no owner's bytes in another owner's buffer (%lu violations in "
	       "%lu checked reads of mappings, new buffers, pipes and fixed "
	       "buffers)", n_foreign, n_xchecks);
	tap_ok(!n_ro_refused,
	       "shared read-only mmap of an O_RDONLY dma-buf works (%lu of %lu refused)",
	       n_ro_refused, n_ro_tries);
	tap_ok(!n_child_bad, "%lu forked children clean (%lu long-lived)",
	       n_forks, n_child_long);
	tap_ok(!n_stats_bad, "STATS agree with the model (%lu checks)",
	       n_stats_ok + n_stats_bad);
	tap_ok(nr_used_bufs() == 0 && !nr_draining(),
	       "model: nothing left alive (%d, %d draining)", nr_used_bufs(),
	       nr_draining());
	if (is_root)
		tap_ok(owner_ok && helper_uid == b_uid,
		       "second uid %u: its helper ran as uid %u, served %lu "
		       "requests and exited cleanly", b_uid, helper_uid, n_rpc);
	else
		tap_skip("not root: no second uid", "second owner");
	if (n_pin_uring)
		tap_ok(n_pin_read, "io_uring fixed-buffer pins: %lu registered, "
		       "%lu of all pins read back", n_pin_uring, n_pin_read);
	else
		tap_skip(uring_why ? uring_why : "none attempted",
			 "io_uring fixed-buffer pins (%lu unsupported)",
			 n_pin_unsupp);
	co_check_all_free(fd, nodes, nr_nodes);
	close(fd);
	dev_restore();
	limits_restore();
	if (tap_fail)
		tap_diag("reproduce: test_fuzz 0x%" PRIx64 " %lu", seed, nr_ops);
	return tap_finish();
}
