// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz: close/reopen of device files and fork.
 * See fuzz.h.
 */
#define _GNU_SOURCE
#include "fuzz.h"

void op_reopen(void)
{
	int f = rr(MAXF);

	note("close file slot %d (%d handles)", f, nr_handles(f));
	if (files[f].fd >= 0) {
		close_file(f);
		if (f > 0 && pct(50))
			return;		/* leave the slot closed a while */
	}
	open_slot(f);
	n_calls[K_REOPEN]++;
}

void op_fork(void)
{
	int status, i, k;
	pid_t pid;

	note("fork");
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		n_unexpected++;
		report("fork: %s", strerror(errno));
		return;
	}
	n_forks++;
	if (pid == 0) {
		unsigned long bad0 = n_pattern + n_mismatch + n_unexpected;
		struct carveout_alloc a;
		int cfd, f;

		in_child = 1;
		/* The child sees the parent's mappings. */
		for (k = 0; k < 4; k++) {
			i = rr(MAXV);
			if (views[i].used)
				view_verify(i);
		}
		/* Alloc/map/free on an inherited file: its state comes back. */
		f = pick_file();
		if (f >= 0 && nr_handles(f) < MAXH &&
		    co_alloc(files[f].fd, 1 + rr(3 * PG), CARVEOUT_POLICY_LOCAL, 0,
			     0, &a) == 0) {
			char *p = co_mmap(files[f].fd, &a);

			if (p) {
				memset(p, 0x5c, a.granted);
				if (p[0] != 0x5c || p[a.granted - 1] != 0x5c)
					n_pattern++;
			}
			if (co_free(files[f].fd, a.handle))
				n_mismatch++;
		}
		/* A file of its own, left for exit() to clean up. */
		cfd = co_open();
		for (k = 0; cfd >= 0 && k < 3; k++)
			if (co_alloc(cfd, 1 + rr(64 << 10), CARVEOUT_POLICY_LOCAL,
				     0, 0, &a) == 0 && pct(50))
				co_mmap(cfd, &a);
		/* Close some inherited dma-bufs and files. */
		for (i = 0; i < MAXD; i++)
			if (dbufs[i].used && pct(30))
				close(dbufs[i].fd);
		if (pct(30) && files[0].fd >= 0)
			close(files[0].fd);
		fflush(stdout);
		i = n_pattern + n_mismatch + n_unexpected - bad0;
		_exit(i > 100 ? 100 : i);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		n_child_bad++;
		report("fork: child status %#x", status);
	}
	n_calls[K_FORK]++;
}
