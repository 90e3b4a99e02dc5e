// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz: close/reopen of device files and fork.
 * See fuzz.h.
 *
 * A short-lived child checks the mappings it inherited, allocates on an
 * inherited file and on one of its own (writing patterns under owner
 * tags the parent reserved, so its bytes are recognised anywhere later),
 * and exits; the parent waits for it.
 *
 * A long-lived child keeps some of the mappings it inherited and pins
 * ranges of them into pipes of its own (sometimes unmapping the range it
 * pinned right after), then waits while the parent goes on: FREEs,
 * unmaps, closes, allocates for other owners.  The model counts the
 * child's mappings and pins as references.  Later the child is told to
 * check: every mapping it kept must still show its buffer's bytes and
 * every pipe the pinning owner's bytes (the parent sends the model's
 * current view of each buffer, and judges the child's findings).
 */
#define _GNU_SOURCE
#include <sys/syscall.h>

#include "fuzz.h"

unsigned long n_child_long, n_child_pins, n_child_views;

void op_reopen(void)
{
	int f = rr(MAXF);

	if (f >= SLOT_PASSED && !owner_alive())
		f = rr(SLOT_PASSED);
	note("close file slot %d (%d handles)", f, nr_handles(f));
	if (files[f].fd >= 0) {
		close_file(f);
		if (f > 0 && pct(50))
			return;		/* leave the slot closed a while */
	}
	open_slot(f);
	n_calls[K_REOPEN]++;
}

static int full(int fd, void *p, size_t n, int out)
{
	char *c = p;

	while (n) {
		ssize_t r = out ? write(fd, c, n) : read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= r;
	}
	return 0;
}

/* -------------------------------------------------------------------- */
/* Short-lived children                                                   */

/*
 * In the child: a buffer on @fd, mapped whole, written with the pattern
 * of (@gen, @serial), read back.  Returns the number of problems.
 */
static int child_alloc(int fd, uint32_t gen, uint32_t serial, uint64_t len,
		       int keep)
{
	struct mbuf m = { .used = 1, .gen = gen, .serial = serial };
	struct mview v = { .used = 1, .writable = 1 };
	struct carveout_alloc a;
	struct walk_res r;
	int bad = 0;

	if (co_alloc(fd, len, CARVEOUT_POLICY_LOCAL, 0, 0, &a))
		return 0;
	m.granted = a.granted;
	m.page_offset = a.page_offset;
	v.len = span_pages(&m) * PG;
	v.addr = mmap(NULL, v.len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      a.mmap_offset);
	if (v.addr != MAP_FAILED) {
		view_walk(&v, &m, 0, &r);	/* zeros */
		bad += !!r.bad + !!r.alien;
		view_walk(&v, &m, 1, &r);
		m.patterned = 1;
		view_walk(&v, &m, 0, &r);
		bad += !!r.bad + !!r.alien;
		if (!keep)
			munmap(v.addr, v.len);
	}
	if (!keep && co_free(fd, a.handle))
		bad++;
	return bad;
}

static void short_fork(void)
{
	int f = pick_local_file(), status, i, k;
	uint32_t cgen = new_gen(-1, getuid()), s0, cs[3];
	pid_t pid;

	/* Owner tags for what the child writes: the parent knows them. */
	s0 = f >= 0 ? new_serial(files[f].gen) : 0;
	for (k = 0; k < 3; k++)
		cs[k] = new_serial(cgen);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		n_unexpected++;
		report("fork: %s", strerror(errno));
		return;
	}
	n_forks++;
	if (pid == 0) {
		unsigned long bad0 = n_pattern + n_mismatch + n_unexpected +
				     n_foreign;
		int cfd, bad = 0;

		in_child = 1;
		/* The child sees the parent's mappings. */
		for (k = 0; k < 4; k++) {
			i = rr(MAXV);
			if (views[i].used && views[i].who == W_SELF)
				view_verify(i);
		}
		/* Alloc/map/free on an inherited file: its state comes back. */
		if (f >= 0 && nr_handles(f) < MAXH)
			bad += child_alloc(files[f].fd, files[f].gen, s0,
					   1 + rr(3 * PG), 0);
		/* A file of its own, left for exit() to clean up. */
		cfd = co_open();
		for (k = 0; cfd >= 0 && k < 3; k++)
			bad += child_alloc(cfd, cgen, cs[k], 1 + rr(64 << 10),
					   pct(50));
		/* Close some inherited dma-bufs and files. */
		for (i = 0; i < MAXD; i++)
			if (dbufs[i].used && dbufs[i].who == W_SELF && pct(30))
				close(dbufs[i].fd);
		if (pct(30) && files[0].fd >= 0)
			close(files[0].fd);
		fflush(stdout);
		i = n_pattern + n_mismatch + n_unexpected + n_foreign - bad0 +
		    bad;
		_exit(i > 100 ? 100 : i);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		n_child_bad++;
		report("fork: child status %#x", status);
	}
}

/* -------------------------------------------------------------------- */
/* The long-lived child                                                   */

static struct {
	pid_t pid;
	int cmd, res;		/* our ends: commands to it, results from it */
	unsigned long until;	/* op at which it is told to check */
	int nv, np;
	struct mview v[MAXCV];	/* mappings it keeps (its copies) */
	int unmapped[MAXCV];	/* ... unmapped by it once pinned */
	struct {
		int cv, buf;
		uint64_t off, len;
		int64_t got;	/* bytes its pipe took, or -errno */
	} p[MAXCP];
} ch;

struct ch_ready {
	int64_t got[MAXCP];
};

struct ch_go {
	struct mbuf vb[MAXCV], pb[MAXCP];
};

struct ch_result {
	struct walk_res vr[MAXCV], pr[MAXCP];
	int64_t pn[MAXCP];
};

/* In the child: every fd but its two pipe ends (as 3 and 4) closed. */
static void child_fds(int cmd, int res)
{
	int a = fcntl(cmd, F_DUPFD, 900), b = fcntl(res, F_DUPFD, 900);

	syscall(__NR_close_range, 3, 899, 0);
	syscall(__NR_close_range, (a > b ? a : b) + 1, ~0U, 0);
	dup2(a, 3);
	dup2(b, 4);
	close(a);
	close(b);
}

static void __attribute__((noreturn)) child_main(const int *keep)
{
	static struct ch_result out;
	static uint64_t data[PIN_PAGES * PG / 8];
	struct ch_ready rd;
	struct ch_go go;
	int i, lid[MAXCP];
	size_t got;

	in_child = 2;
	lpin_forget_all();
	for (i = 0; i < MAXV; i++)
		if (views[i].used && views[i].who == W_SELF && !keep[i])
			munmap(views[i].addr, views[i].len);
	for (i = 0; i < ch.np; i++) {
		struct mview *v = &ch.v[ch.p[i].cv];

		lid[i] = lpin_take(PIN_PIPE, v->addr + bufs[v->buf].page_offset +
				   ch.p[i].off - v->pgoff * PG, ch.p[i].len, &got);
		rd.got[i] = lid[i] < 0 ? lid[i] : (int64_t)got;
	}
	for (i = 0; i < ch.nv; i++)
		if (ch.unmapped[i])
			munmap(ch.v[i].addr, ch.v[i].len);
	if (full(4, &rd, sizeof(rd), 1) || full(3, &go, sizeof(go), 0))
		_exit(1);
	/* Told to check: the buffers as the parent's model has them now. */
	for (i = 0; i < ch.nv; i++)
		if (!ch.unmapped[i])
			view_walk(&ch.v[i], &go.vb[i], 0, &out.vr[i]);
	for (i = 0; i < ch.np; i++) {
		if (lid[i] < 0)
			continue;
		out.pn[i] = lpin_read(lid[i], data, rd.got[i]);
		if (out.pn[i] > 0)
			walk_words(data, out.pn[i] / 8, &go.pb[i], ch.p[i].off,
				   0, &out.pr[i]);
	}
	_exit(full(4, &out, sizeof(out), 1) ? 1 : 0);
}

/* Which of our mappings it keeps, which ranges it pins. */
static void child_plan(int *keep)
{
	int i, k, cand[MAXV], n = 0;

	memset(&ch, 0, sizeof(ch));
	for (i = 0; i < MAXV; i++)
		if (views[i].used && views[i].who == W_SELF &&
		    bufs[views[i].buf].patterned >= 0)
			cand[n++] = i;
	for (k = 0; k < MAXCV && n; k++) {
		i = rr(n);
		keep[cand[i]] = 1;
		ch.v[ch.nv++] = views[cand[i]];
		cand[i] = cand[--n];
	}
	for (k = 0; ch.nv && k < MAXCP; k++) {
		int cv = rr(ch.nv);

		if (pct(30) || pin_range(&ch.v[cv], &bufs[ch.v[cv].buf],
					 PIN_PAGES, &ch.p[ch.np].off,
					 &ch.p[ch.np].len))
			continue;
		ch.p[ch.np].cv = cv;
		ch.p[ch.np++].buf = ch.v[cv].buf;
		if (pct(40))
			ch.unmapped[cv] = 1;
	}
}

static void child_start(void)
{
	int keep[MAXV] = { 0 }, cp[2], rp[2], i;
	struct ch_ready rd;

	child_plan(keep);
	if (!ch.nv || pipe2(cp, O_CLOEXEC))
		return;
	if (pipe2(rp, O_CLOEXEC)) {
		close(cp[0]);
		close(cp[1]);
		return;
	}
	note("long-lived child: %d mappings, %d pins", ch.nv, ch.np);
	fflush(stdout);
	ch.pid = fork();
	if (ch.pid == 0) {
		child_fds(cp[0], rp[1]);
		child_main(keep);
	}
	close(cp[0]);
	close(rp[1]);
	ch.cmd = cp[1];
	ch.res = rp[0];
	n_forks++;
	if (ch.pid < 0 || full(ch.res, &rd, sizeof(rd), 0)) {
		n_child_bad++;
		report("long-lived child: %s", ch.pid < 0 ? strerror(errno) :
		       "died before it was ready");
		if (ch.pid > 0)
			waitpid(ch.pid, NULL, 0);
		close(ch.cmd);
		close(ch.res);
		ch.pid = 0;
		return;
	}
	n_child_long++;
	for (i = 0; i < ch.nv; i++) {
		if (ch.unmapped[i])
			continue;
		bufs[ch.v[i].buf].cviews++;
		child_views_add(&ch.v[i]);
		n_child_views++;
	}
	for (i = 0; i < ch.np; i++) {
		ch.p[i].got = rd.got[i];
		if (rd.got[i] > 0) {
			bufs[ch.p[i].buf].pins++;
			n_child_pins++;
		}
	}
	ch.until = op_idx + 20 + rr(400);
}

static void child_unpin(void)
{
	int i;

	for (i = 0; i < ch.np; i++) {
		if (ch.p[i].got <= 0)
			continue;
		bufs[ch.p[i].buf].pins--;
		buf_check_gone(ch.p[i].buf);
	}
}

static void child_unmap(void)
{
	int i;

	for (i = 0; i < ch.nv; i++) {
		if (ch.unmapped[i])
			continue;
		bufs[ch.v[i].buf].cviews--;
		buf_check_gone(ch.v[i].buf);
	}
}

/*
 * The child's references go.  It read its pipes out before exiting, so
 * the pins went first; had it failed, its exit dropped the mappings first
 * (exit_mm() before exit_files()).
 */
static void child_forget(int failed)
{
	if (failed) {
		child_unmap();
		child_unpin();
	} else {
		child_unpin();
		child_unmap();
	}
	child_views_clear();
	reap_pinned();
}

/* Tells the long-lived child to check, judges what it found, reaps it. */
void child_finish(void)
{
	static struct ch_result res;
	struct ch_go go;
	int i, status = 0, failed;

	if (!ch.pid)
		return;
	memset(&go, 0, sizeof(go));
	for (i = 0; i < ch.nv; i++)
		go.vb[i] = bufs[ch.v[i].buf];
	for (i = 0; i < ch.np; i++)
		go.pb[i] = bufs[ch.p[i].buf];
	failed = full(ch.cmd, &go, sizeof(go), 1) ||
		 full(ch.res, &res, sizeof(res), 0);
	close(ch.cmd);
	close(ch.res);
	if (waitpid(ch.pid, &status, 0) != ch.pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		failed = 1;
	ch.pid = 0;
	n_calls[K_FORK]++;
	if (failed) {
		n_child_bad++;
		report("long-lived child: status %#x", status);
	}
	for (i = 0; !failed && i < ch.nv; i++)
		if (!ch.unmapped[i] && bufs[ch.v[i].buf].patterned >= 0)
			judge_bytes(&bufs[ch.v[i].buf], &res.vr[i],
				    "a fork child's mapping");
	for (i = 0; !failed && i < ch.np; i++) {
		if (ch.p[i].got <= 0)
			continue;
		if (res.pn[i] != ch.p[i].got) {
			n_mismatch++;
			report("long-lived child: its pipe gave %" PRId64 " of %"
			       PRId64 " bytes", res.pn[i], ch.p[i].got);
		} else if (bufs[ch.p[i].buf].patterned >= 0) {
			judge_bytes(&bufs[ch.p[i].buf], &res.pr[i],
				    "a fork child's pipe");
		}
	}
	child_forget(failed);
}

/* Is the long-lived child's time to check up? */
int child_due(void)
{
	return ch.pid && op_idx >= ch.until;
}

void op_fork(void)
{
	note("fork");
	if (ch.pid) {
		child_finish();
		return;
	}
	if (pct(50))
		child_start();
	else
		short_fork();
	n_calls[K_FORK]++;
}
