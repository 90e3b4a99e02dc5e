// SPDX-License-Identifier: GPL-2.0
/*
 * A mapping of a carveout buffer behaves like a shared file mapping, tried
 * as an attacker would: every way the kernel lets a process reshape,
 * protect, copy or hand off a mapping either does what it does on shared
 * memory or fails cleanly, and none of them lets a page reach a new owner
 * while anyone can still reach it.
 *
 * - Read-only: a file opened O_RDONLY maps its buffers read-only; neither
 *   mmap nor mprotect nor a FOLL_FORCE write through /proc/self/mem nor a
 *   dma-buf EXPORT gives write access.  MAP_PRIVATE is refused (EINVAL): a
 *   private copy-on-write mapping of carveout pages is not offered, for
 *   /dev/carveout and for its dma-bufs.
 * - mprotect on a file opened O_RDWR moves a view between PROT_NONE,
 *   PROT_READ and PROT_READ|PROT_WRITE; views share their bytes.
 * - fork: parent and child share the pages.  After the parent FREEs and
 *   unmaps, the child still reads and refaults its bytes and holds the
 *   memory: the next owner B (root, another file), taking the whole node,
 *   gets none of it, and none of B's bytes shows in the child.  The memory
 *   comes back when the child exits.  MADV_DONTFORK and MADV_WIPEONFORK do
 *   exactly what they do on a memfd mapping; MADV_DOFORK works or, where
 *   the kernel keeps VM_SPECIAL mappings out of children, fails.
 * - Partial munmap: the pieces left keep working (and refault at the right
 *   page); the buffer's memory stays held, whole, until the last piece goes.
 * - mremap: shrinking and moving (all of a mapping or a piece of it) work;
 *   growing, duplicating (old_size 0) and MREMAP_DONTUNMAP fail as on any
 *   VM_DONTEXPAND mapping, and mmap beyond a buffer fails: no page of
 *   another buffer is ever reachable.
 * - madvise (every advice that applies to a file mapping) and mlock leave
 *   the mapping giving the buffer's bytes.
 * - O_DIRECT on a real block device (the VM's virtio-blk scratch disk,
 *   throttled by QEMU so that I/O stays in flight; brd where that is all
 *   the kernel has): a round trip through carveout mappings gives the same
 *   bytes.  Owner A (uid 1000) starts Linux AIO O_DIRECT reads into (or
 *   writes from) its buffer, unmaps and FREEs it while they are in flight;
 *   the memory stays held while the I/O pins it, B taking the node gets
 *   none of it, reads land only in A's held pages, and writes take A's
 *   bytes to the disk.
 *
 * Runs as root in the test VM: it gives /dev/carveout to group 1000 (mode
 * 0660) for the unprivileged owner and restores it at the end, and sets
 * file_limit and user_limit to 0 while it runs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "co_disk.h"
#include "co_owner.h"
#include "co_test.h"
#include "tap.h"

#ifndef MADV_COLD
#define MADV_COLD		20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT		21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102
#endif

#define PG		CO_PG
#define TESTER		CO_TESTER

#define PAT_A		0xa5	/* the first owner's bytes */
#define PAT_B		0x5b	/* the next owner's bytes */
#define PAT_C		0xc3	/* what a child writes */
#define PAT_P		0x3c	/* what the parent writes after the fork */
#define PAT_D		0xd7	/* what the disk holds for the reads */

#define FORK_PAGES	16
#define PIECES		16	/* pages of the partial munmap and mremap tests */

/* The scratch disk's layout (its serial: co_disk.h). */
#define RT_LEN		(1UL << 20)	/* the round trip */
#define DISK_RT		0
#define NR_IO		128		/* pages, one AIO request each */
#define DISK_R		(1UL << 20)	/* in-flight reads: every other page */
#define DISK_W		(2UL << 20)	/* in-flight writes: every other page */

static uint32_t node0;
static uint64_t caps;
static struct co_fill fill_b;

/* -- helpers ------------------------------------------------------------ */

/*
 * Touches @p (a read, or a write of one byte) in a child; returns 0 when
 * the child survived, the signal that killed it, or -1.
 */
static int probe(void *p, int write)
{
	volatile unsigned char *v = p;
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (write)
			*v = 1;
		else
			(void)*v;
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static const char *probe_str(int r)
{
	return r > 0 ? strsignal(r) : r ? "error" : "no fault";
}

/* mmap that unmaps again on success: 0, or -1 with errno. */
static long try_mmap(size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		return -1;
	munmap(p, len);
	return 0;
}

/* Is all of [p, p + len) mapped? */
static int is_mapped(void *p, size_t len)
{
	unsigned char vec[64];

	return len / PG <= sizeof(vec) && mincore(p, len, vec) == 0;
}

/* Bytes of pages [first, first + n) of @p that are not @base + page. */
static size_t wrong_pages(const unsigned char *p, unsigned int first,
			  unsigned int n, int base)
{
	size_t k, bad = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		for (k = 0; k < PG; k++)
			bad += p[i * PG + k] != ((base + first + i) & 0xff);
	return bad;
}

/* Fills each page of @p with @base + its page index in the buffer. */
static void stamp_pages(unsigned char *p, unsigned int first, unsigned int n,
			int base)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		memset(p + i * PG, (base + first + i) & 0xff, PG);
}

/*
 * A (uid 1000) allocates @len bytes of whole pages on node 0 and maps
 * them; fills @a, returns the mapping (NULL on failure), the file in *@fd.
 */
static unsigned char *victim_buffer(int *fd, size_t len,
				    struct carveout_alloc *a)
{
	unsigned char *p = NULL;
	size_t mlen;

	*fd = co_open_as(TESTER, O_RDWR);
	if (*fd < 0)
		return NULL;
	co_become(TESTER);
	if (co_alloc(*fd, len, CARVEOUT_POLICY_STRICT, node0,
		     CARVEOUT_ALLOC_PAGES, a) == 0)
		p = co_map_span(*fd, a, &mlen);
	co_become(0);
	if (!p) {
		close(*fd);
		*fd = -1;
	}
	return p;
}

/* What must be true while A's @len bytes are held after A let go. */
static void check_held(int fd, uint64_t base, size_t len, int buffer_gone)
{
	uint64_t f = co_free_bytes(fd, node0), ub = co_user_bytes(TESTER);
	long kb = co_held_kb();

	tap_ok(f + len <= base,
	       "the memory stays out of free_bytes (%llu free, %llu before)",
	       (unsigned long long)f, (unsigned long long)base);
	tap_ok(ub >= len, "it stays charged to A's user (%llu bytes)",
	       (unsigned long long)ub);
	if (buffer_gone)
		tap_ok(kb >= (long)(len >> 10),
		       "debugfs shows it held (held_kB %ld)", kb);
}

/* B (root, another file) takes all of node 0, stamped PAT_B. */
static void next_owner(uint64_t a_phys, size_t a_len, const char *what)
{
	int fb = co_open();

	co_fill_node(&fill_b, fb, node0, PAT_B);
	tap_ok(fill_b.n > 0 && !fill_b.unmapped && !fill_b.not_zero,
	       "B takes node %u: %u buffers, all zero when mapped (%u not)",
	       node0, fill_b.n, fill_b.not_zero);
	if (what)
		tap_ok(a_phys && co_fill_overlaps(&fill_b, a_phys, a_len) == 0,
		       "none of B's buffers holds a page %s (%u do)", what,
		       co_fill_overlaps(&fill_b, a_phys, a_len));
}

static void next_owner_done(void)
{
	int fd = fill_b.fd;

	co_fill_release(&fill_b);
	close(fd);
}

static void check_released(int fd, uint64_t base, const char *what)
{
	double took;
	uint64_t f = co_wait_free(fd, node0, base, 5.0, &took);

	tap_ok(f == base,
	       "%s: the memory is free again within 5 s (%.1f s, %llu of %llu)",
	       what, took, (unsigned long long)f, (unsigned long long)base);
}

static int export_buf(int fd, uint32_t handle, int flags, int *dfd)
{
	struct carveout_export e = {
		.size = sizeof(e), .handle = handle, .flags = flags,
	};
	int ret = ioctl(fd, CARVEOUT_IOC_EXPORT, &e);

	*dfd = ret ? -1 : e.fd;
	return ret;
}

/* -- read-only files ---------------------------------------------------- */

/* A read-only dma-buf cannot be mapped, or made, writable. */
static void readonly_dmabuf(int fd, const struct carveout_alloc *a,
			    size_t len)
{
	unsigned char *q;
	int dfd;

	tap_errno(export_buf(fd, a->handle, O_RDWR | O_CLOEXEC, &dfd), EACCES,
		  "EXPORT O_RDWR from a file opened O_RDONLY");
	if (dfd >= 0)
		close(dfd);
	if (!tap_ok(export_buf(fd, a->handle, O_CLOEXEC, &dfd) == 0,
		    "EXPORT O_RDONLY from it works"))
		return;
	tap_errno(try_mmap(len, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0),
		  EACCES, "read-only dma-buf: mmap PROT_WRITE, MAP_SHARED");
	tap_errno(try_mmap(len, PROT_READ, MAP_PRIVATE, dfd, 0), EINVAL,
		  "read-only dma-buf: MAP_PRIVATE");
	q = mmap(NULL, len, PROT_READ, MAP_SHARED, dfd, 0);
	if (tap_ok(q != MAP_FAILED, "read-only dma-buf: mmap PROT_READ works")) {
		tap_errno(mprotect(q, len, PROT_READ | PROT_WRITE), EACCES,
			  "read-only dma-buf: mprotect to PROT_WRITE");
		tap_ok(probe(q, 1) == SIGSEGV,
		       "read-only dma-buf: a write through it faults (%s)",
		       probe_str(probe(q, 1)));
		munmap(q, len);
	}
	close(dfd);
}

/* MAP from a read-only file: the device may read the buffer, not write. */
static void readonly_map(int fd, const struct carveout_alloc *a)
{
	static const uint32_t dirs[] = { CARVEOUT_DMA_FROM_DEVICE,
					 CARVEOUT_DMA_BIDIRECTIONAL };
	static const char *const what[] = { "MAP FROM_DEVICE",
					    "MAP BIDIRECTIONAL" };
	struct carveout_map m;
	unsigned int i;

	if (access("/sys/bus/pci/devices/" CO_EDU_PCI, F_OK)) {
		tap_skip("no edu device (" CO_EDU_PCI ")",
			 "MAP from the read-only file");
		return;
	}
	for (i = 0; i < 2; i++)
		tap_errno(co_map(fd, a->handle, CO_EDU_PCI, dirs[i], &m), EACCES,
			  what[i]);
	if (tap_ok(co_map(fd, a->handle, CO_EDU_PCI, CARVEOUT_DMA_TO_DEVICE,
			  &m) == 0, "MAP TO_DEVICE works"))
		tap_ok(co_unmap(fd, a->handle, CO_EDU_PCI, m.dma_addr) == 0,
		       "UNMAP it");
}

static void test_readonly(void)
{
	const size_t len = 4 * PG;
	struct carveout_alloc a;
	unsigned char *p, x = PAT_A;
	int fd = open(CO_DEV, O_RDONLY | O_CLOEXEC), mem, r;
	ssize_t w;

	tap_diag("read-only file: no way to write its buffers");
	if (!tap_ok(fd >= 0 && co_alloc(fd, len, CARVEOUT_POLICY_STRICT, node0,
					 CARVEOUT_ALLOC_PAGES, &a) == 0,
		    "a file opened O_RDONLY allocates %zu KiB (%s)", len >> 10,
		    strerror(errno)))
		goto out;
	tap_errno(try_mmap(len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			   a.mmap_offset), EACCES,
		  "mmap PROT_WRITE, MAP_SHARED on the read-only file");
	tap_errno(try_mmap(len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
			   a.mmap_offset), EINVAL,
		  "MAP_PRIVATE, PROT_READ|PROT_WRITE on the read-only file");
	tap_errno(try_mmap(len, PROT_READ, MAP_PRIVATE, fd, a.mmap_offset),
		  EINVAL, "MAP_PRIVATE, PROT_READ on the read-only file");
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, a.mmap_offset);
	if (!tap_ok(p != MAP_FAILED, "mmap PROT_READ, MAP_SHARED works"))
		goto free;
	tap_ok(co_all_bytes(p, len, 0), "it reads the buffer (zero)");
	tap_errno(mprotect(p, len, PROT_READ | PROT_WRITE), EACCES,
		  "mprotect to PROT_READ|PROT_WRITE");
	r = probe(p, 1);
	tap_ok(r == SIGSEGV, "a write through the mapping faults (%s)",
	       probe_str(r));
	mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	w = mem < 0 ? -1 : pwrite(mem, &x, 1, (off_t)(uintptr_t)p);
	tap_ok(mem >= 0 && w != 1,
	       "a FOLL_FORCE write through /proc/self/mem is refused (%s)",
	       w == 1 ? "it wrote" : strerror(errno));
	if (mem >= 0)
		close(mem);
	if (caps & CARVEOUT_CAP_DMABUF)
		readonly_dmabuf(fd, &a, len);
	else
		tap_skip("no dma-bufs (CARVEOUT_CAP_DMABUF)",
			 "read-only dma-buf exports");
	readonly_map(fd, &a);
	tap_ok(co_all_bytes(p, len, 0), "the buffer is still all zero");
	munmap(p, len);
free:
	tap_ok(co_free(fd, a.handle) == 0, "FREE it");
out:
	if (fd >= 0)
		close(fd);
}

/* -- mprotect and MAP_PRIVATE on a writable file ------------------------- */

static void rw_dmabuf(int fd, const struct carveout_alloc *a, size_t len,
		      unsigned char *view)
{
	unsigned char *q;
	int dfd;

	if (!tap_ok(export_buf(fd, a->handle, O_RDWR | O_CLOEXEC, &dfd) == 0,
		    "EXPORT O_RDWR"))
		return;
	tap_errno(try_mmap(len, PROT_READ | PROT_WRITE, MAP_PRIVATE, dfd, 0),
		  EINVAL, "dma-buf: MAP_PRIVATE");
	q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	if (tap_ok(q != MAP_FAILED, "dma-buf: mmap PROT_READ|PROT_WRITE")) {
		memset(q, PAT_C, len);
		tap_ok(co_all_bytes(view, len, PAT_C),
		       "dma-buf mapping and buffer mapping share their bytes");
		munmap(q, len);
	}
	close(dfd);
}

static void test_rw_views(void)
{
	const size_t len = 4 * PG;
	struct carveout_alloc a;
	unsigned char *p, *v;
	int fd = co_open(), r;

	tap_diag("mprotect on a file opened O_RDWR; MAP_PRIVATE");
	if (!tap_ok(co_alloc(fd, len, CARVEOUT_POLICY_STRICT, node0,
			     CARVEOUT_ALLOC_PAGES, &a) == 0,
		    "ALLOC %zu KiB", len >> 10))
		goto out;
	tap_errno(try_mmap(len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
			   a.mmap_offset), EINVAL,
		  "MAP_PRIVATE, PROT_READ|PROT_WRITE");
	tap_errno(try_mmap(len, PROT_READ, MAP_PRIVATE, fd, a.mmap_offset),
		  EINVAL, "MAP_PRIVATE, PROT_READ");
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, a.mmap_offset);
	v = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 a.mmap_offset);
	if (!tap_ok(p != MAP_FAILED && v != MAP_FAILED,
		    "a PROT_READ view and a writable view"))
		goto free;
	memset(v, PAT_A, len);
	tap_ok(co_all_bytes(p, len, PAT_A),
	       "the PROT_READ view sees the other view's bytes");
	r = probe(p, 1);
	tap_ok(r == SIGSEGV, "writing the PROT_READ view faults (%s)",
	       probe_str(r));
	tap_ok(mprotect(p, len, PROT_READ | PROT_WRITE) == 0,
	       "mprotect it to PROT_READ|PROT_WRITE (%s)", strerror(errno));
	memset(p, PAT_B, len);
	tap_ok(co_all_bytes(v, len, PAT_B), "its writes reach the other view");
	r = mprotect(p, len, PROT_NONE) ? -1 : probe(p, 0);
	tap_ok(r == SIGSEGV, "PROT_NONE: a read faults (%s)", probe_str(r));
	tap_ok(mprotect(p, len, PROT_READ) == 0 && co_all_bytes(p, len, PAT_B),
	       "PROT_READ again: the bytes are there");
	if (caps & CARVEOUT_CAP_DMABUF)
		rw_dmabuf(fd, &a, len, v);
	else
		tap_skip("no dma-bufs (CARVEOUT_CAP_DMABUF)", "dma-buf mmap");
free:
	if (p != MAP_FAILED)
		munmap(p, len);
	if (v != MAP_FAILED)
		munmap(v, len);
	tap_ok(co_free(fd, a.handle) == 0, "FREE it");
out:
	close(fd);
}

/* -- fork ---------------------------------------------------------------- */

struct fork_report {
	size_t wrong;		/* bytes other than PAT_C / PAT_P / PAT_A */
	size_t theirs;		/* bytes of B's */
	int dontneed;		/* MADV_DONTNEED's result */
	size_t wrong_refault;	/* wrong bytes after it */
};

/* What the child expects: its page 0, the parent's page 1, A's rest. */
static size_t fork_wrong(const unsigned char *p)
{
	size_t k, bad = 0;

	for (k = 0; k < FORK_PAGES * PG; k++)
		bad += p[k] != (k < PG ? PAT_C : k < 2 * PG ? PAT_P : PAT_A);
	return bad;
}

/* The child: runs commands from @cmd ('w' write, 'c' check), replies. */
static void __attribute__((noreturn)) fork_child(unsigned char *p, int cmd,
						 int rep)
{
	struct fork_report r;
	char c;

	while (read(cmd, &c, 1) == 1) {
		memset(&r, 0, sizeof(r));
		if (c == 'w') {
			memset(p, PAT_C, PG);
		} else {
			r.wrong = fork_wrong(p);
			r.theirs = co_count_byte(p, FORK_PAGES * PG, PAT_B);
			r.dontneed = madvise(p, FORK_PAGES * PG, MADV_DONTNEED);
			r.wrong_refault = fork_wrong(p);
		}
		if (write(rep, &r, sizeof(r)) != sizeof(r))
			break;
	}
	_exit(0);
}

static int fork_ask(int cmd, int rep, char c, struct fork_report *r)
{
	return write(cmd, &c, 1) == 1 &&
	       read(rep, r, sizeof(*r)) == (ssize_t)sizeof(*r);
}

/* After fork, the parent FREEs and unmaps; the child keeps the memory. */
static void fork_after_free(unsigned char *p, size_t len, int fa,
			    uint32_t handle, int fd, uint64_t base,
			    int cmd, int rep)
{
	uint64_t a_phys = co_phys_of(p);
	struct fork_report r;

	memset(p + PG, PAT_P, PG);
	tap_ok(co_free(fa, handle) == 0 && munmap(p, len) == 0,
	       "the parent FREEs and unmaps the buffer");
	close(fa);
	check_held(fd, base, len, 0);
	next_owner(a_phys, len, "the child still maps");
	tap_ok(fork_ask(cmd, rep, 'c', &r) && r.wrong == 0 && r.theirs == 0,
	       "the child still reads its bytes and the parent's (%zu wrong, %zu of B's)",
	       r.wrong, r.theirs);
	tap_ok(r.dontneed == 0 && r.wrong_refault == 0,
	       "MADV_DONTNEED in the child after FREE: the same bytes fault back (%zu wrong)",
	       r.wrong_refault);
	next_owner_done();
}

static void test_fork(void)
{
	const size_t len = FORK_PAGES * PG;
	struct carveout_alloc a;
	int fa, fd = co_open(), cmd[2], rep[2], status = -1;
	uint64_t base = co_free_bytes(fd, node0);
	struct fork_report r;
	unsigned char *p;
	pid_t pid;

	tap_diag("fork: the child shares the pages and holds them after the parent FREEs");
	p = victim_buffer(&fa, len, &a);
	if (!tap_ok(p && pipe(cmd) == 0 && pipe(rep) == 0,
		    "A (uid %d) maps %zu KiB", TESTER, len >> 10))
		goto out;
	memset(p, PAT_A, len);
	pid = fork();
	if (pid == 0) {
		close(cmd[1]);
		close(rep[0]);
		fork_child(p, cmd[0], rep[1]);
	}
	close(cmd[0]);
	close(rep[1]);
	if (!tap_ok(pid > 0 && fork_ask(cmd[1], rep[0], 'w', &r),
		    "fork; the child writes page 0")) {
		munmap(p, len);
		co_free(fa, a.handle);
		close(fa);
		goto reap;
	}
	tap_ok(co_all_bytes(p, PG, PAT_C),
	       "the parent sees the child's write (shared)");
	fork_after_free(p, len, fa, a.handle, fd, base, cmd[1], rep[0]);
reap:
	close(cmd[1]);
	close(rep[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "the child exits cleanly");
	check_released(fd, base, "child gone");
out:
	close(fd);
}

/* The fork-related advice on @p, as results: 0, an errno, or a probe. */
static void fork_advice(unsigned char *p, size_t len, int res[5])
{
	res[0] = madvise(p, len, MADV_WIPEONFORK) ? errno : 0;
	if (!res[0])
		madvise(p, len, MADV_KEEPONFORK);
	res[1] = madvise(p, len, MADV_DONTFORK) ? errno : 0;
	res[2] = probe(p, 0);
	res[3] = madvise(p, len, MADV_DOFORK) ? errno : 0;
	res[4] = probe(p, 0);
}

static const char *advice_str(int i, int r)
{
	return i == 2 || i == 4 ? probe_str(r) : r ? strerror(r) : "ok";
}

/*
 * WIPEONFORK and DONTFORK as on a memfd.  DOFORK: newer kernels (7.3 of
 * the matrix, not 6.1) refuse to clear VM_DONTCOPY on a VM_SPECIAL
 * mapping (carveout's are VM_MIXEDMAP, so that faults can insert pages):
 * either it works or the child keeps going without the mapping.
 */
static void test_fork_advice(void)
{
	static const char *const what[5] = {
		"MADV_WIPEONFORK", "MADV_DONTFORK",
		"a child after MADV_DONTFORK reads the address",
		"MADV_DOFORK", "a child after MADV_DOFORK reads it",
	};
	const size_t len = 4 * PG;
	int shm[5], co[5], i, fd = co_open(), mfd;
	struct carveout_alloc a;
	unsigned char *p, *m;

	tap_diag("MADV_DONTFORK and MADV_WIPEONFORK: as on a memfd mapping");
	mfd = memfd_create("co-shm", MFD_CLOEXEC);
	m = mfd < 0 || ftruncate(mfd, len) ? MAP_FAILED :
		mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (!tap_ok(m != MAP_FAILED, "a memfd mapping to compare with"))
		goto out;
	memset(m, PAT_A, len);
	fork_advice(m, len, shm);
	munmap(m, len);
	tap_ok(shm[0] == EINVAL && !shm[1] && shm[2] == SIGSEGV && !shm[3] &&
	       !shm[4], "memfd: WIPEONFORK refused, DONTFORK hides it from a child, DOFORK undoes that");
	if (!tap_ok(co_alloc_simple(fd, len, &a) == 0 &&
		    (p = co_map_span(fd, &a, (size_t[]){ 0 })),
		    "a carveout mapping"))
		goto out;
	memset(p, PAT_A, len);
	fork_advice(p, len, co);
	for (i = 0; i < 3; i++)
		tap_ok(co[i] == shm[i], "%s: %s, as on the memfd (%s)", what[i],
		       advice_str(i, co[i]), advice_str(i, shm[i]));
	tap_ok(!co[3] || co[3] == EINVAL, "%s: %s (ok, or EINVAL on VM_SPECIAL)",
	       what[3], advice_str(3, co[3]));
	tap_ok(co[4] == (co[3] ? SIGSEGV : 0),
	       "%s: %s, as DOFORK said", what[4], advice_str(4, co[4]));
	munmap(p, len);
	co_free(fd, a.handle);
out:
	if (mfd >= 0)
		close(mfd);
	close(fd);
}

/* -- partial munmap ------------------------------------------------------ */

/* The two pieces left of the mapping hold pages 0-5 and 10-15. */
static size_t pieces_wrong(unsigned char *p, int base)
{
	return wrong_pages(p, 0, 6, base) +
	       wrong_pages(p + 10 * PG, 10, 6, base);
}

static void test_partial_munmap(void)
{
	const size_t len = PIECES * PG;
	struct carveout_alloc a;
	int fa, fd = co_open(), r;
	uint64_t base = co_free_bytes(fd, node0), a_phys;
	unsigned char *p;

	tap_diag("partial munmap: the pieces work, the memory is held until the last goes");
	p = victim_buffer(&fa, len, &a);
	if (!tap_ok(!!p, "A (uid %d) maps %zu KiB", TESTER, len >> 10))
		goto out;
	a_phys = co_phys_of(p);
	stamp_pages(p, 0, PIECES, 0x40);
	tap_ok(munmap(p + 6 * PG, 4 * PG) == 0, "munmap pages 6-9");
	r = probe(p + 6 * PG, 0);
	tap_ok(r == SIGSEGV, "the hole faults (%s)", probe_str(r));
	tap_ok(pieces_wrong(p, 0x40) == 0, "both pieces keep their bytes");
	stamp_pages(p, 0, 6, 0x80);
	stamp_pages(p + 10 * PG, 10, 6, 0x80);
	tap_ok(madvise(p, 6 * PG, MADV_DONTNEED) == 0 &&
	       madvise(p + 10 * PG, 6 * PG, MADV_DONTNEED) == 0 &&
	       pieces_wrong(p, 0x80) == 0,
	       "writes to both pieces stick, and refault at the right pages");

	tap_ok(co_free(fa, a.handle) == 0, "A FREEs the buffer");
	close(fa);
	check_held(fd, base, len, 0);
	next_owner(a_phys, len, "of A's buffer while two pieces are mapped");
	tap_ok(pieces_wrong(p, 0x80) == 0,
	       "A's pieces hold A's bytes (%zu of B's)",
	       co_count_byte(p, 6 * PG, PAT_B) +
	       co_count_byte(p + 10 * PG, 6 * PG, PAT_B));
	next_owner_done();

	munmap(p, 6 * PG);
	check_held(fd, base, len, 0);
	next_owner(a_phys, len, "of A's buffer while its last piece is mapped");
	tap_ok(wrong_pages(p + 10 * PG, 10, 6, 0x80) == 0,
	       "the last piece holds A's bytes");
	next_owner_done();
	munmap(p + 10 * PG, 6 * PG);
	check_released(fd, base, "last piece unmapped");
out:
	close(fd);
}

/* -- mremap --------------------------------------------------------------- */

static void mremap_grow(unsigned char *q)
{
	void *r;

	r = mremap(q, 8 * PG, PIECES * PG, MREMAP_MAYMOVE);
	tap_ok(r == MAP_FAILED && errno == EFAULT,
	       "grow to the buffer's size fails: EFAULT (%s)",
	       r == MAP_FAILED ? strerror(errno) : "it grew");
	r = mremap(q, 8 * PG, 4 * PIECES * PG, MREMAP_MAYMOVE);
	tap_ok(r == MAP_FAILED && errno == EFAULT,
	       "grow beyond the buffer fails: EFAULT (%s)",
	       r == MAP_FAILED ? strerror(errno) : "it grew");
	r = mremap(q, 0, 8 * PG, MREMAP_MAYMOVE);
	tap_ok(r == MAP_FAILED && errno == EFAULT,
	       "old_size 0 (duplicate the mapping) fails: EFAULT (%s)",
	       r == MAP_FAILED ? strerror(errno) : "it duplicated");
	r = mremap(q, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
	tap_ok(r == MAP_FAILED && errno == EINVAL,
	       "MREMAP_DONTUNMAP fails: EINVAL (%s)",
	       r == MAP_FAILED ? strerror(errno) : "it moved");
	tap_ok(is_mapped(q, 8 * PG) && wrong_pages(q, 0, 8, 0x20) == 0,
	       "the mapping is unchanged after the failed calls");
}

/* mmap beyond the end of a buffer fails. */
static void mmap_bounds(int fd, const struct carveout_alloc *a)
{
	tap_errno(try_mmap((PIECES + 1) * PG, PROT_READ, MAP_SHARED, fd,
			   a->mmap_offset), EINVAL,
		  "mmap one page longer than the buffer");
	tap_errno(try_mmap(2 * PG, PROT_READ, MAP_SHARED, fd,
			   a->mmap_offset + (PIECES - 1) * PG), EINVAL,
		  "mmap of its last page and one more");
	tap_errno(try_mmap(PG, PROT_READ, MAP_SHARED, fd,
			   a->mmap_offset + PIECES * PG), EINVAL,
		  "mmap at the page after the buffer");
}

static void test_mremap(void)
{
	const size_t len = PIECES * PG;
	struct carveout_alloc a, y;
	unsigned char *p = NULL, *q, *m, *v = NULL, *pv = NULL;
	int fd = co_open();
	uint64_t base = co_free_bytes(fd, node0);
	size_t ylen;

	tap_diag("mremap: shrink and move work, growing and duplicating fail");
	if (!tap_ok(co_alloc(fd, len, CARVEOUT_POLICY_STRICT, node0,
			     CARVEOUT_ALLOC_PAGES, &a) == 0 &&
		    co_alloc(fd, len, CARVEOUT_POLICY_STRICT, node0,
			     CARVEOUT_ALLOC_PAGES, &y) == 0 &&
		    (p = co_map_span(fd, &a, (size_t[]){ 0 })) &&
		    (v = co_map_span(fd, &a, (size_t[]){ 0 })) &&
		    (pv = co_map_span(fd, &y, &ylen)),
		    "two buffers of %zu KiB, one mapped twice", len >> 10))
		goto out;
	stamp_pages(p, 0, PIECES, 0x20);
	memset(pv, PAT_B, ylen);
	munmap(pv, ylen);
	mmap_bounds(fd, &a);

	q = mremap(p, len, 8 * PG, 0);
	tap_ok(q == p && !is_mapped(p + 8 * PG, 8 * PG) &&
	       wrong_pages(q, 0, 8, 0x20) == 0,
	       "shrink to 8 pages in place: the tail is gone, the head intact");
	mremap_grow(q);

	m = mmap(NULL, 8 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	q = mremap(p, 8 * PG, 8 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, m);
	tap_ok(q == m && !is_mapped(p, 8 * PG) && wrong_pages(q, 0, 8, 0x20) == 0,
	       "move (MREMAP_FIXED): the bytes moved with it, the old range is gone");
	memset(q + 3 * PG, PAT_C, PG);
	tap_ok(co_all_bytes(v + 3 * PG, PG, PAT_C),
	       "a write through the moved mapping reaches the buffer");
	m = mremap(q + 4 * PG, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
		   p);
	tap_ok(m == p && madvise(m, 2 * PG, MADV_DONTNEED) == 0 &&
	       wrong_pages(m, 4, 2, 0x20) == 0 && wrong_pages(q, 0, 3, 0x20) == 0,
	       "move pages 4-5 out of the middle: they refault as pages 4-5");

	tap_ok(co_free(fd, a.handle) == 0, "FREE the buffer, three pieces still mapped");
	tap_ok(wrong_pages(q, 0, 3, 0x20) == 0 && wrong_pages(m, 4, 2, 0x20) == 0 &&
	       wrong_pages(q + 6 * PG, 6, 2, 0x20) == 0 &&
	       co_count_byte(v, len, PAT_B) == 0,
	       "no mapping shows the other buffer's bytes");
	munmap(q, 8 * PG);
	munmap(m, 2 * PG);
	munmap(v, len);
	co_free(fd, y.handle);
	check_released(fd, base, "every piece unmapped");
out:
	close(fd);
}

/* -- madvise and mlock --------------------------------------------------- */

static void test_madvise(void)
{
	static const struct { int advice; const char *name; } adv[] = {
		{ MADV_DONTNEED, "MADV_DONTNEED" }, { MADV_COLD, "MADV_COLD" },
		{ MADV_PAGEOUT, "MADV_PAGEOUT" }, { MADV_WILLNEED, "MADV_WILLNEED" },
		{ MADV_POPULATE_READ, "MADV_POPULATE_READ" },
		{ MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE" },
		{ MADV_REMOVE, "MADV_REMOVE" }, { MADV_FREE, "MADV_FREE" },
		{ MADV_MERGEABLE, "MADV_MERGEABLE" },
		{ MADV_HUGEPAGE, "MADV_HUGEPAGE" },
		{ MADV_COLLAPSE, "MADV_COLLAPSE" },
		{ MADV_GUARD_INSTALL, "MADV_GUARD_INSTALL" },
		{ MADV_DONTDUMP, "MADV_DONTDUMP" },
	};
	const size_t len = PIECES * PG;
	struct carveout_alloc a;
	unsigned char *p = NULL, *v = NULL;
	int fd = co_open(), r;
	unsigned int i;

	tap_diag("madvise and mlock leave the buffer's bytes in place");
	if (!tap_ok(co_alloc(fd, len, CARVEOUT_POLICY_STRICT, node0,
			     CARVEOUT_ALLOC_PAGES, &a) == 0 &&
		    (p = co_map_span(fd, &a, (size_t[]){ 0 })) &&
		    (v = co_map_span(fd, &a, (size_t[]){ 0 })),
		    "a buffer of %zu KiB mapped twice", len >> 10))
		goto out;
	stamp_pages(p, 0, PIECES, 0x60);
	for (i = 0; i < sizeof(adv) / sizeof(*adv); i++) {
		r = madvise(p, len, adv[i].advice);
		tap_ok(wrong_pages(p, 0, PIECES, 0x60) == 0,
		       "%s (%s): the mapping still gives the buffer's bytes",
		       adv[i].name, r ? strerror(errno) : "ok");
	}
	r = mlock(p, len);
	tap_ok(wrong_pages(p, 0, PIECES, 0x60) == 0 && munlock(p, len) == r,
	       "mlock (%s) and munlock: the bytes stay", r ? strerror(errno) : "ok");
	memset(p, PAT_C, len);
	tap_ok(co_all_bytes(v, len, PAT_C),
	       "a write after all that still reaches the buffer");
	munmap(p, len);
	munmap(v, len);
	co_free(fd, a.handle);
out:
	close(fd);
}

/* -- O_DIRECT ------------------------------------------------------------- */

static char disk_path[64];
static int disk_sync;	/* brd: each I/O completes before its call returns */

/* The scratch disk (co_disk.h). */
static const char *find_disk(void)
{
	return co_find_disk(disk_path, sizeof(disk_path), &disk_sync);
}

/* A byte that depends on its offset, so misplaced bytes show. */
static unsigned char rt_byte(size_t off)
{
	return (unsigned char)(off * 31 + (off >> 12) * 7 + 1);
}

static void test_odirect_roundtrip(int disk)
{
	struct carveout_alloc x, y;
	unsigned char *px = NULL, *py = NULL, *chk = NULL;
	int fd = co_open();
	ssize_t w = -1, r = -1;
	size_t i;

	tap_diag("O_DIRECT round trip through carveout mappings (%s)", disk_path);
	if (!tap_ok(co_alloc(fd, RT_LEN, CARVEOUT_POLICY_STRICT, node0,
			     CARVEOUT_ALLOC_PAGES, &x) == 0 &&
		    co_alloc(fd, RT_LEN, CARVEOUT_POLICY_STRICT, node0,
			     CARVEOUT_ALLOC_PAGES, &y) == 0 &&
		    (px = co_map_span(fd, &x, (size_t[]){ 0 })) &&
		    (py = co_map_span(fd, &y, (size_t[]){ 0 })),
		    "two mapped buffers of %lu KiB", RT_LEN >> 10))
		goto out;
	for (i = 0; i < RT_LEN; i++)
		px[i] = rt_byte(i);
	w = pwrite(disk, px, RT_LEN, DISK_RT);
	tap_ok(w == (ssize_t)RT_LEN, "O_DIRECT write from a mapping (%zd: %s)",
	       w, w < 0 ? strerror(errno) : "ok");
	r = pread(disk, py, RT_LEN, DISK_RT);
	tap_ok(r == (ssize_t)RT_LEN && !memcmp(px, py, RT_LEN),
	       "O_DIRECT read into another mapping gives the same bytes (%zd: %s)",
	       r, r < 0 ? strerror(errno) : "ok");
	chk = aligned_alloc(PG, RT_LEN);
	r = chk ? pread(disk, chk, RT_LEN, DISK_RT) : -1;
	tap_ok(r == (ssize_t)RT_LEN && !memcmp(px, chk, RT_LEN),
	       "the disk holds them (read into ordinary memory)");
	free(chk);
	munmap(px, RT_LEN);
	munmap(py, RT_LEN);
	co_free(fd, x.handle);
	co_free(fd, y.handle);
out:
	close(fd);
}

struct aio {
	aio_context_t ctx;
	struct iocb cb[NR_IO];
	struct io_event ev[NR_IO];
	int submitted;
	int done;
	int bad;		/* completions of other than one page */
};

/*
 * Collects completions: those there are now (@secs 0), or all of them,
 * waiting up to @secs for each next one.
 */
static void aio_reap(struct aio *io, long secs)
{
	struct timespec ts = { .tv_sec = secs };
	long n, i;

	while (io->done < io->submitted) {
		n = syscall(__NR_io_getevents, io->ctx, secs ? 1 : 0,
			    io->submitted - io->done, io->ev, &ts);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			io->bad += io->ev[i].res != (long long)PG;
		io->done += n;
	}
}

/* Starts one page of I/O per page of @p: page i at disk @off + 2 i pages. */
static int aio_start(struct aio *io, int disk, unsigned char *p, int write,
		     off_t off)
{
	struct iocb *cbs[NR_IO];
	long n;
	int i;

	for (i = 0; i < NR_IO; i++) {
		memset(&io->cb[i], 0, sizeof(io->cb[i]));
		io->cb[i].aio_lio_opcode = write ? IOCB_CMD_PWRITE :
						   IOCB_CMD_PREAD;
		io->cb[i].aio_fildes = disk;
		io->cb[i].aio_buf = (uintptr_t)(p + i * PG);
		io->cb[i].aio_nbytes = PG;
		io->cb[i].aio_offset = off + 2 * i * PG;
		cbs[i] = &io->cb[i];
	}
	n = syscall(__NR_io_submit, io->ctx, NR_IO, cbs);
	io->submitted = n > 0 ? n : 0;
	return n;
}

/* The disk pages the in-flight writes went to: A's bytes, the gaps zero. */
static unsigned int written_wrong(const unsigned char *chk)
{
	unsigned int i, bad = 0;

	for (i = 0; i < NR_IO; i++)
		bad += !co_all_bytes(chk + 2 * i * PG, PG, PAT_A) ||
		       !co_all_bytes(chk + (2 * i + 1) * PG, PG, 0);
	return bad;
}

/* While the I/O is in flight: A's memory held, B gets none of it. */
static void inflight_held(struct aio *io, int fd, uint64_t base,
			  uint64_t a_phys, size_t len)
{
	int left;

	check_held(fd, base, len, 1);
	next_owner(0, 0, NULL);
	aio_reap(io, 0);
	left = io->submitted - io->done;
	if (left)
		tap_ok(co_fill_overlaps(&fill_b, a_phys, len) == 0,
		       "none of B's buffers holds a page the I/O pins (%u do; %d I/Os still in flight)",
		       co_fill_overlaps(&fill_b, a_phys, len), left);
	else
		tap_skip("every I/O completed before B had taken the node",
			 "B gets no page the I/O pins");
}

/* A starts the I/O, unmaps and FREEs; returns the I/Os in flight then. */
static int inflight_start(struct aio *io, int disk, int write, off_t off,
			  uint64_t *a_phys)
{
	const size_t len = NR_IO * PG;
	struct carveout_alloc a;
	unsigned char *p;
	long n;
	int fa;

	p = victim_buffer(&fa, len, &a);
	if (!tap_ok(!!p, "A (uid %d) maps %zu KiB", TESTER, len >> 10))
		return -1;
	memset(p, PAT_A, len);
	*a_phys = co_phys_of(p);
	n = aio_start(io, disk, p, write, off);
	tap_ok(n == NR_IO, "A starts %d one-page O_DIRECT %ss (%ld: %s)",
	       NR_IO, write ? "write" : "read", n,
	       n < 0 ? strerror(errno) : "ok");
	tap_ok(munmap(p, len) == 0 && co_free(fa, a.handle) == 0,
	       "A unmaps and FREEs the buffer");
	close(fa);
	aio_reap(io, 0);
	tap_diag("%d of %d I/Os in flight after the FREE",
		 io->submitted - io->done, io->submitted);
	return io->submitted - io->done;
}

/*
 * A starts NR_IO one-page O_DIRECT reads into (or writes from) its buffer,
 * then unmaps and FREEs it while they are in flight; B takes the node.
 */
static void test_odirect_inflight(int disk, int write)
{
	const char *what = write ? "write" : "read";
	const size_t len = NR_IO * PG;
	const off_t off = write ? DISK_W : DISK_R;
	static struct aio io;
	unsigned char *chk = NULL;
	int fd = co_open(), left;
	uint64_t base, a_phys = 0;
	unsigned int changed;
	size_t other;
	ssize_t r;

	tap_diag("O_DIRECT %ss in flight while A unmaps and FREEs (%s)", what,
		 disk_path);
	memset(&io, 0, sizeof(io));
	if (disk_sync) {
		tap_skip("brd completes each I/O before the submitting call returns",
			 "O_DIRECT %ss in flight", what);
		goto out;
	}
	chk = aligned_alloc(PG, 2 * len);
	if (!chk)
		tap_bail("out of memory");
	memset(chk, write ? 0 : PAT_D, 2 * len);
	r = pwrite(disk, chk, 2 * len, off);
	if (!tap_ok(r == (ssize_t)(2 * len), "the disk area is prepared (%s)",
		    r < 0 ? strerror(errno) : "ok"))
		goto out;
	if (syscall(__NR_io_setup, NR_IO, &io.ctx)) {
		if (errno == ENOSYS)
			tap_skip("no Linux AIO (CONFIG_AIO)", "O_DIRECT in flight");
		else
			tap_ok(0, "io_setup: %s", strerror(errno));
		goto out;
	}
	base = co_free_bytes(fd, node0);
	left = inflight_start(&io, disk, write, off, &a_phys);
	if (left < 0)
		goto destroy;
	if (left)
		inflight_held(&io, fd, base, a_phys, len);
	else
		tap_skip("every I/O completed before the FREE",
			 "memory held while the I/O is in flight");
	aio_reap(&io, 120);
	tap_ok(io.submitted == NR_IO && io.done == io.submitted && !io.bad,
	       "every %s completed with one page (%d of %d, %d short or failed)",
	       what, io.done, io.submitted, io.bad);
	if (fill_b.n) {
		changed = co_fill_changed(&fill_b, PAT_B, write ? PAT_A : PAT_D,
					  &other);
		tap_ok(!changed && !other,
		       "B's buffers hold only B's bytes (%u changed, %zu bytes of %s)",
		       changed, other, write ? "A's" : "the disk's");
		next_owner_done();
	}
	if (write) {
		r = pread(disk, chk, 2 * len, off);
		tap_ok(r == (ssize_t)(2 * len) && !written_wrong(chk),
		       "the disk got A's bytes in every page written (%u wrong)",
		       r == (ssize_t)(2 * len) ? written_wrong(chk) : NR_IO);
	}
	check_released(fd, base, "I/O complete");
destroy:
	syscall(__NR_io_destroy, io.ctx);
out:
	free(chk);
	close(fd);
}

static void test_odirect(void)
{
	const char *why = find_disk();
	int disk;

	if (why) {
		tap_skip(why, "O_DIRECT round trip and I/O in flight");
		return;
	}
	disk = open(disk_path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (!tap_ok(disk >= 0, "open %s with O_DIRECT (%s)", disk_path,
		    disk < 0 ? strerror(errno) : "ok"))
		return;
	test_odirect_roundtrip(disk);
	test_odirect_inflight(disk, 0);
	test_odirect_inflight(disk, 1);
	close(disk);
}

/* -- main ----------------------------------------------------------------- */

int main(void)
{
	struct carveout_node_info nodes[16];
	unsigned long file_limit, user_limit;
	struct carveout_info info;
	struct stat st0;
	int fd;

	tap_plan_begin("carveout mappings behave like shared memory");
	if (getuid() != 0)
		tap_bail("must run as root (it switches to uid %d)", TESTER);
	fd = co_open();
	if (fd < 0 || co_nodes(fd, nodes, 16) < 1)
		tap_bail("cannot open %s or no region", CO_DEV);
	node0 = nodes[0].node;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (ioctl(fd, CARVEOUT_IOC_INFO, &info))
		tap_bail("INFO: %s", strerror(errno));
	caps = info.caps;
	close(fd);
	if (stat(CO_DEV, &st0))
		tap_bail("stat %s: %s", CO_DEV, strerror(errno));
	file_limit = co_read_param("file_limit");
	user_limit = co_read_param("user_limit");
	co_set_param("file_limit", 0);
	co_set_param("user_limit", 0);
	co_share_device();

	test_readonly();
	test_rw_views();
	test_fork();
	test_fork_advice();
	test_partial_munmap();
	test_mremap();
	test_madvise();
	test_odirect();

	co_set_param("file_limit", file_limit);
	co_set_param("user_limit", user_limit);
	if (chown(CO_DEV, st0.st_uid, st0.st_gid) ||
	    chmod(CO_DEV, st0.st_mode & 07777))
		tap_diag("cannot restore %s: %s", CO_DEV, strerror(errno));
	fd = co_open();
	if (fd >= 0 && co_nodes(fd, nodes, 16) > 0)
		co_check_all_free(fd, nodes, co_nodes(fd, nodes, 16));
	close(fd);
	return tap_finish();
}
