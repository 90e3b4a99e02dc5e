// SPDX-License-Identifier: GPL-2.0
/*
 * cobench-user - carveout's userspace benchmarks, run inside the bench VM.
 *
 *   cobench-user user REPS [CMA_HEAP]
 *                                   ALLOC + mmap + first touch + munmap +
 *                                   FREE, 4 KiB / 1 MiB / 64 MiB, against
 *                                   DMA_HEAP_IOCTL_ALLOC on
 *                                   /dev/dma_heap/system and on the CMA
 *                                   heap /dev/dma_heap/CMA_HEAP (default:
 *                                   the first other entry of /dev/dma_heap;
 *                                   n/a if absent) and anonymous mmap (a
 *                                   reference only: not contiguous);
 *                                   COBENCH_SIZES=4K,1M in the environment
 *                                   runs only the sizes it names
 *   cobench-user map REPS LABEL     MAP + UNMAP of a 4 KiB and a 2 MiB
 *                                   buffer for 0000:00:03.0 (QEMU's edu)
 *   cobench-user sync REPS           CPU sync of a 64 MiB exported buffer
 *                                   that edu keeps mapped (carveout_edu's
 *                                   CO_EDU_IOC_ATTACH), 4 KiB at a time
 *                                   over the whole buffer: carveout's
 *                                   SYNC of the 4 KiB range (for the CPU,
 *                                   then for the device) against
 *                                   DMA_BUF_IOCTL_SYNC START + END, which
 *                                   syncs the whole buffer each step, and
 *                                   carveout's SYNC of the whole buffer
 *   cobench-user touch REPS         mmap + first touch + munmap of a
 *                                   2 MiB, 64 MiB and 256 MiB buffer
 *                                   (ALLOC and FREE outside the timing),
 *                                   with the page faults taken, against
 *                                   anonymous memory with 4 KiB pages
 *                                   (MADV_NOHUGEPAGE) and with
 *                                   transparent huge pages
 *                                   (MADV_HUGEPAGE, 2 MiB aligned): what
 *                                   PMD mappings save
 *   cobench-user resize NODE CEILING_MB DELAY_MS
 *                                   CARVEOUT_IOC_RESIZE: NODE's ceiling
 *                                   (0: back to its floor) and idle
 *                                   give-back delay, for co_bench.ko
 *                                   test=elastic
 *   cobench-user frag FILE_MB LOCK_MB READY_FILE
 *                                   fill FILE_MB of tmpfs page cache, mlock
 *                                   LOCK_MB of anonymous memory and unmap
 *                                   every other page of it, touch
 *                                   READY_FILE, then sleep until killed
 *
 * Output lines (same format as co_bench.ko, see tests/bench/report.py):
 *   R part=P name=N impl=I thr=1 rep=K tot=NS n=OPS ok=OK fail=F
 *   NA part=P name=N impl=I reason=...
 *   M touch_faults_N_I=F            page faults of one mmap + touch
 *   M touch_pmd_kb_N_carveout=K     KiB of the touched mapping that
 *                                   smaps counts as PMD-mapped
 * Every call is checked; failed operations are counted in fail=.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/carveout.h>
#include <linux/dma-buf.h>

#include "co_edu.h"

/* <linux/dma-heap.h>, absent from some libc header sets */
struct cb_dma_heap_allocation_data {
	uint64_t len;
	uint32_t fd;
	uint32_t fd_flags;
	uint64_t heap_flags;
};
#define CB_DMA_HEAP_IOCTL_ALLOC \
	_IOWR('H', 0x0, struct cb_dma_heap_allocation_data)

#define EDU_DEV "0000:00:03.0"

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
}

static long page_size;

/* Write one byte in every page: the first touch. */
static void touch(volatile char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += page_size)
		p[i] = 1;
}

static int co_fd = -1;

static int co_alloc(size_t len, uint32_t *handle, uint64_t *off, uint32_t *pgoff)
{
	struct carveout_alloc a = {
		.size = sizeof(a), .length = len,
		.policy = CARVEOUT_POLICY_LOCAL,
	};

	if (ioctl(co_fd, CARVEOUT_IOC_ALLOC, &a))
		return -errno;
	*handle = a.handle;
	*off = a.mmap_offset;
	if (pgoff)
		*pgoff = a.page_offset;
	return 0;
}

static int co_free(uint32_t handle)
{
	struct carveout_handle h = { .size = sizeof(h), .handle = handle };

	return ioctl(co_fd, CARVEOUT_IOC_FREE, &h) ? -errno : 0;
}

/* One ALLOC + mmap + touch + munmap + FREE; 0 on success. */
static int op_carveout(size_t len)
{
	uint32_t h;
	uint64_t off;
	void *p;
	int bad = 0;

	if (co_alloc(len, &h, &off, NULL))
		return -1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, co_fd, off);
	if (p == MAP_FAILED) {
		bad = 1;
	} else {
		touch(p, len);
		bad |= munmap(p, len) != 0;
	}
	bad |= co_free(h) != 0;
	return bad ? -1 : 0;
}

static int heap_fd = -1, cma_heap_fd = -1;

static int heap_op(int fd, size_t len)
{
	struct cb_dma_heap_allocation_data d = {
		.len = len, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	void *p;
	int bad = 0;

	if (ioctl(fd, CB_DMA_HEAP_IOCTL_ALLOC, &d))
		return -1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, 0);
	if (p == MAP_FAILED) {
		bad = 1;
	} else {
		touch(p, len);
		bad |= munmap(p, len) != 0;
	}
	bad |= close(d.fd) != 0;
	return bad ? -1 : 0;
}

static int op_dmaheap(size_t len)
{
	return heap_op(heap_fd, len);
}

static int op_cmaheap(size_t len)
{
	return heap_op(cma_heap_fd, len);
}

static int op_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	touch(p, len);
	return munmap(p, len) ? -1 : 0;
}

struct usize {
	const char *name;
	size_t len;
	unsigned long iters;
	unsigned long cma_iters;	/* cma_alloc() migrates: slower */
};

static const struct usize usizes[] = {
	{ "4K", 4096, 1000, 250 }, { "1M", 1 << 20, 80, 40 },
	{ "64M", 64 << 20, 3, 3 },
};

/* The CMA heap is named after the CMA area ("reserved" for the default). */
static const char *find_cma_heap(void)
{
	static char name[256];
	struct dirent *e;
	DIR *d = opendir("/dev/dma_heap");

	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "system"))
			continue;
		snprintf(name, sizeof(name), "%s", e->d_name);
		closedir(d);
		return name;
	}
	closedir(d);
	return NULL;
}

/* Repetition @r of @op (-1: the warm-up, not reported). */
static void run_rep(const char *part, const char *name, const char *impl,
		    int (*op)(size_t), size_t len, unsigned long iters, int r)
{
	unsigned long i, ok = 0, fail = 0;
	uint64_t t0 = now_ns();

	for (i = 0; i < iters; i++) {
		if (op(len))
			fail++;
		else
			ok++;
	}
	if (r >= 0)
		printf("R part=%s name=%s impl=%s thr=1 rep=%d tot=%llu n=%lu ok=%lu fail=%lu\n",
		       part, name, impl, r,
		       (unsigned long long)(now_ns() - t0), iters, ok, fail);
	fflush(stdout);
}

static void run_op(const char *part, const char *name, const char *impl,
		   int (*op)(size_t), size_t len, unsigned long iters, int reps)
{
	int r;

	for (r = -1; r < reps; r++)
		run_rep(part, name, impl, op, len, iters, r);
}

/* Is @name among the comma-separated COBENCH_SIZES (all if unset)? */
static int size_wanted(const char *name)
{
	const char *only = getenv("COBENCH_SIZES");
	size_t len = strlen(name);
	const char *p;

	if (!only)
		return 1;
	for (p = only; (p = strstr(p, name)); p += len)
		if ((p == only || p[-1] == ',') && (!p[len] || p[len] == ','))
			return 1;
	return 0;
}

static int cmd_user(int reps, const char *cma_heap)
{
	char path[300];
	unsigned int i;
	int r;

	co_fd = open("/dev/carveout", O_RDWR | O_CLOEXEC);
	heap_fd = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (!cma_heap)
		cma_heap = find_cma_heap();
	if (cma_heap) {
		snprintf(path, sizeof(path), "/dev/dma_heap/%s", cma_heap);
		cma_heap_fd = open(path, O_RDONLY | O_CLOEXEC);
		printf("I dma_heap_cma=%s open=%s\n", cma_heap,
		       cma_heap_fd >= 0 ? "yes" : strerror(errno));
	}
	for (i = 0; i < sizeof(usizes) / sizeof(usizes[0]); i++) {
		const struct usize *u = &usizes[i];

		if (!size_wanted(u->name))
			continue;
		if (co_fd < 0)
			printf("NA part=user name=%s impl=carveout reason=no_/dev/carveout\n",
			       u->name);
		if (heap_fd < 0)
			printf("NA part=user name=%s impl=dmaheap_system reason=no_/dev/dma_heap/system_(CONFIG_DMABUF_HEAPS_not_set)\n",
			       u->name);
		if (cma_heap_fd < 0)
			printf("NA part=user name=%s impl=dmaheap_cma reason=no_CMA_heap_in_/dev/dma_heap_(CONFIG_DMABUF_HEAPS_CMA_or_CMA_area_missing)\n",
			       u->name);
		/*
		 * Repetitions alternate between the implementations, so a
		 * change of the host's load hits them alike.
		 */
		for (r = -1; r < reps; r++) {
			if (co_fd >= 0)
				run_rep("user", u->name, "carveout", op_carveout,
					u->len, u->iters, r);
			if (heap_fd >= 0)
				run_rep("user", u->name, "dmaheap_system",
					op_dmaheap, u->len, u->iters, r);
			if (cma_heap_fd >= 0)
				run_rep("user", u->name, "dmaheap_cma",
					op_cmaheap, u->len, u->cma_iters, r);
			run_rep("user", u->name, "anon_mmap", op_anon, u->len,
				u->iters, r);
		}
	}
	return 0;
}

#define SZ_2M	(2ul << 20)

static long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

/* mmap + touch + munmap of carveout buffer @off; -1 on error. */
static int touch_carveout(size_t len, uint64_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, co_fd,
		       off);

	if (p == MAP_FAILED)
		return -1;
	touch(p, len);
	return munmap(p, len) ? -1 : 0;
}

/*
 * KiB of the mapping at @p that /proc/self/smaps counts as mapped with PMD
 * entries (FilePmdMapped, AnonHugePages), or -1 if it is not found.
 */
static long pmd_kb(void *p)
{
	char line[256], want[32];
	FILE *f = fopen("/proc/self/smaps", "r");
	long kb = -1, v;
	int in = 0;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ')) {
			in = !strncmp(line, want, strlen(want));
			if (in)
				kb = 0;
		} else if (in && (sscanf(line, "FilePmdMapped: %ld", &v) == 1 ||
				  sscanf(line, "AnonHugePages: %ld", &v) == 1)) {
			kb += v;
		}
	}
	fclose(f);
	return kb;
}

/* Untimed: map and touch carveout buffer @off, return pmd_kb() of it. */
static long carveout_pmd_kb(size_t len, uint64_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, co_fd,
		       off);
	long kb;

	if (p == MAP_FAILED)
		return -1;
	touch(p, len);
	kb = pmd_kb(p);
	munmap(p, len);
	return kb;
}

/*
 * The same for anonymous memory, 2 MiB aligned, @advice on it (none when
 * negative: a kernel without THP maps 4 KiB pages anyway and refuses the
 * advice with EINVAL).
 */
static int touch_anon(size_t len, int advice)
{
	char *raw = mmap(NULL, len + SZ_2M, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;
	int bad;

	if (raw == MAP_FAILED)
		return -1;
	p = (char *)(((uintptr_t)raw + SZ_2M - 1) & ~(SZ_2M - 1));
	bad = advice >= 0 && madvise(p, len, advice) != 0;
	touch(p, len);
	return munmap(raw, len + SZ_2M) || bad ? -1 : 0;
}

enum { T_CARVEOUT, T_ANON_4K, T_ANON_THP, T_NR };
static const char *const t_impl[T_NR] = {
	"carveout", "anon_4k", "anon_thp",
};

/* Whether MADV_HUGEPAGE is accepted: the kernel has THP. */
static int have_thp(void)
{
	size_t len = 2 * SZ_2M;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ok;

	if (p == MAP_FAILED)
		return 0;
	ok = !madvise(p, len, MADV_HUGEPAGE);
	munmap(p, len);
	return ok;
}

static int thp;

/* One timed repetition of @impl; faults of the last one in *@flt. */
static void touch_rep(const char *name, int impl, size_t len, uint64_t off,
		      int rep, long *flt)
{
	long f0 = minor_faults();
	uint64_t t0 = now_ns();
	int err;

	if (impl == T_CARVEOUT)
		err = touch_carveout(len, off);
	else
		err = touch_anon(len, impl == T_ANON_THP ? MADV_HUGEPAGE :
				 thp ? MADV_NOHUGEPAGE : -1);
	*flt = minor_faults() - f0;
	if (rep >= 0)
		printf("R part=touch name=%s impl=%s thr=1 rep=%d tot=%llu n=1 ok=%d fail=%d\n",
		       name, t_impl[impl], rep,
		       (unsigned long long)(now_ns() - t0), !err, !!err);
}

static int cmd_touch(int reps)
{
	static const struct usize tsizes[] = {
		{ "2M", 2ul << 20, 0, 0 }, { "64M", 64ul << 20, 0, 0 },
		{ "256M", 256ul << 20, 0, 0 },
	};
	unsigned int i;
	uint64_t off;
	uint32_t h;
	long flt = 0;
	int impl, r;

	co_fd = open("/dev/carveout", O_RDWR | O_CLOEXEC);
	thp = have_thp();
	for (i = 0; i < sizeof(tsizes) / sizeof(tsizes[0]); i++) {
		const struct usize *u = &tsizes[i];

		for (impl = 0; impl < T_NR; impl++) {
			if (impl == T_ANON_THP && !thp) {
				printf("NA part=touch name=%s impl=anon_thp reason=no_transparent_huge_pages_in_this_kernel_(MADV_HUGEPAGE:_EINVAL)\n",
				       u->name);
				continue;
			}
			if (impl == T_CARVEOUT &&
			    (co_fd < 0 || co_alloc(u->len, &h, &off, NULL))) {
				printf("NA part=touch name=%s impl=carveout reason=ALLOC_failed_(%s)\n",
				       u->name, strerror(errno));
				continue;
			}
			for (r = -1; r < reps; r++)
				touch_rep(u->name, impl, u->len, off, r, &flt);
			printf("M touch_faults_%s_%s=%ld\n", u->name,
			       t_impl[impl], flt);
			if (impl == T_CARVEOUT)
				printf("M touch_pmd_kb_%s_carveout=%ld\n",
				       u->name, carveout_pmd_kb(u->len, off));
			if (impl == T_CARVEOUT && co_free(h))
				printf("I touch_free_%s=%s\n", u->name,
				       strerror(errno));
		}
		fflush(stdout);
	}
	printf("NA part=touch name=1G impl=all reason=the_VM's_NUMA_nodes_have_1_GiB_each:_no_1_GiB_buffer\n");
	return 0;
}

static int cmd_map(int reps, const char *label)
{
	static const struct usize msizes[] = {
		{ "4K", 4096, 2000, 0 }, { "2M", 2 << 20, 1000, 0 },
	};
	char impl[64];
	unsigned int i;

	snprintf(impl, sizeof(impl), "map_%s", label);
	co_fd = open("/dev/carveout", O_RDWR | O_CLOEXEC);
	if (co_fd < 0) {
		printf("NA part=map name=all impl=%s reason=no_/dev/carveout\n", impl);
		return 1;
	}
	for (i = 0; i < 2; i++) {
		const struct usize *u = &msizes[i];
		unsigned long j, ok, fail;
		uint64_t off, t0;
		uint32_t h;
		int r, err;

		err = co_alloc(u->len, &h, &off, NULL);
		if (err) {
			printf("NA part=map name=%s impl=%s reason=alloc_failed_%d\n",
			       u->name, impl, -err);
			continue;
		}
		for (r = -1; r < reps; r++) {
			ok = fail = 0;
			t0 = now_ns();
			for (j = 0; j < u->iters; j++) {
				struct carveout_map m = {
					.size = sizeof(m), .handle = h,
					.direction = CARVEOUT_DMA_BIDIRECTIONAL,
				};

				strcpy(m.device, EDU_DEV);
				if (ioctl(co_fd, CARVEOUT_IOC_MAP, &m)) {
					if (!fail)
						fprintf(stderr, "map %s: %s\n",
							u->name, strerror(errno));
					fail++;
					continue;
				}
				m.dma_mask = 0;
				if (ioctl(co_fd, CARVEOUT_IOC_UNMAP, &m))
					fail++;
				else
					ok++;
			}
			if (r >= 0)
				printf("R part=map name=%s impl=%s thr=1 rep=%d tot=%llu n=%lu ok=%lu fail=%lu\n",
				       u->name, impl, r,
				       (unsigned long long)(now_ns() - t0),
				       u->iters, ok, fail);
			fflush(stdout);
		}
		if (co_free(h))
			fprintf(stderr, "free failed\n");
	}
	return 0;
}

#define SYNC_BUF	(64UL << 20)
#define SYNC_STEP	4096UL

static uint32_t sync_handle;
static int sync_dfd = -1;
static size_t sync_off;

/* One 4 KiB step: carveout's SYNC of that range, for the CPU and back. */
static int op_sync_range(size_t len)
{
	struct carveout_sync s = {
		.size = sizeof(s), .handle = sync_handle,
		.direction = CARVEOUT_DMA_FROM_DEVICE, .offset = sync_off,
		.length = len,
	};
	int ret;

	s.flags = CARVEOUT_SYNC_FOR_CPU;
	ret = ioctl(co_fd, CARVEOUT_IOC_SYNC, &s);
	s.flags = CARVEOUT_SYNC_FOR_DEVICE;
	ret |= ioctl(co_fd, CARVEOUT_IOC_SYNC, &s);
	sync_off = (sync_off + len) % SYNC_BUF;
	return ret;
}

/* The same ioctl over the whole buffer: what the range saves, alone. */
static int op_sync_whole(size_t len)
{
	struct carveout_sync s = {
		.size = sizeof(s), .handle = sync_handle,
		.direction = CARVEOUT_DMA_FROM_DEVICE,
	};
	int ret;

	(void)len;
	s.flags = CARVEOUT_SYNC_FOR_CPU;
	ret = ioctl(co_fd, CARVEOUT_IOC_SYNC, &s);
	s.flags = CARVEOUT_SYNC_FOR_DEVICE;
	ret |= ioctl(co_fd, CARVEOUT_IOC_SYNC, &s);
	return ret;
}

/* The same step through the dma-buf: the whole buffer, for the CPU and back. */
static int op_sync_dmabuf(size_t len)
{
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	int ret;

	(void)len;
	ret = ioctl(sync_dfd, DMA_BUF_IOCTL_SYNC, &s);
	s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	ret |= ioctl(sync_dfd, DMA_BUF_IOCTL_SYNC, &s);
	return ret;
}

static int cmd_sync(int reps)
{
	struct carveout_export e = { .size = sizeof(e), .flags = O_RDWR | O_CLOEXEC };
	struct co_edu_attach at = { .dir = CO_EDU_FROM_DEVICE };
	unsigned long steps = SYNC_BUF / SYNC_STEP;
	int edu, err;
	uint64_t off;

	co_fd = open("/dev/carveout", O_RDWR | O_CLOEXEC);
	edu = open("/dev/carveout-edu", O_RDWR | O_CLOEXEC);
	if (co_fd < 0 || edu < 0) {
		printf("NA part=sync name=64M_4K impl=all reason=no_%s\n",
		       co_fd < 0 ? "/dev/carveout" : "/dev/carveout-edu_(carveout_edu)");
		return 1;
	}
	err = co_alloc(SYNC_BUF, &sync_handle, &off, NULL);
	e.handle = sync_handle;
	if (err || ioctl(co_fd, CARVEOUT_IOC_EXPORT, &e)) {
		printf("NA part=sync name=64M_4K impl=all reason=alloc_or_export_failed\n");
		return 1;
	}
	sync_dfd = e.fd;
	at.fd = sync_dfd;
	if (ioctl(edu, CO_EDU_IOC_ATTACH, &at)) {
		printf("NA part=sync name=64M_4K impl=all reason=edu_attach_failed_%d\n",
		       errno);
		return 1;
	}
	printf("I sync_buffer=64M edu_dma_segments=%u\n", at.nents);
	run_op("sync", "64M_4K", "carveout_range", op_sync_range, SYNC_STEP,
	       steps, reps);
	run_op("sync", "64M_4K", "carveout_whole", op_sync_whole, SYNC_STEP,
	       steps, reps);
	run_op("sync", "64M_4K", "dmabuf_whole", op_sync_dmabuf, SYNC_STEP,
	       steps, reps);
	close(edu);
	close(sync_dfd);
	co_free(sync_handle);
	return 0;
}

static int cmd_frag(long file_mb, long lock_mb, const char *ready)
{
	size_t chunk = 1 << 20, lock_len = (size_t)lock_mb << 20, i;
	char *buf = malloc(chunk), *p;
	long m;
	int fd;

	if (!buf)
		return 1;
	memset(buf, 0xa5, chunk);
	fd = open("/tmp/cobench-fill", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return perror("fill"), 1;
	for (m = 0; m < file_mb; m++)
		if (write(fd, buf, chunk) != (ssize_t)chunk)
			return perror("write"), 1;
	close(fd);
	p = mmap(NULL, lock_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return perror("mmap"), 1;
	if (mlock(p, lock_len))
		return perror("mlock"), 1;
	for (i = 0; i < lock_len; i += 2 * page_size)
		if (munmap(p + i, page_size))
			return perror("munmap"), 1;
	fd = open(ready, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	for (;;)
		pause();
}

static int cmd_resize(unsigned int node, unsigned long ceiling_mb,
		      unsigned int delay_ms)
{
	struct carveout_resize r = {
		.size = sizeof(r), .node = node,
		.flags = CARVEOUT_RESIZE_CEILING | CARVEOUT_RESIZE_DELAY,
		.shrink_delay_ms = delay_ms,
	};
	struct carveout_stats s = { .size = sizeof(s), .node = node };
	int fd = open("/dev/carveout", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return perror("/dev/carveout"), 1;
	if (ioctl(fd, CARVEOUT_IOC_STATS, &s))
		return perror("STATS"), 1;
	r.ceiling = ceiling_mb ? ceiling_mb << 20 : s.floor_bytes;
	if (ioctl(fd, CARVEOUT_IOC_RESIZE, &r))
		return perror("RESIZE"), 1;
	printf("I elastic_node=%u floor=%llu ceiling=%llu shrink_delay_ms=%u\n",
	       node, (unsigned long long)r.floor,
	       (unsigned long long)r.ceiling, r.shrink_delay_ms);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	page_size = sysconf(_SC_PAGESIZE);
	if (argc >= 3 && !strcmp(argv[1], "user"))
		return cmd_user(atoi(argv[2]), argc >= 4 ? argv[3] : NULL);
	if (argc >= 4 && !strcmp(argv[1], "map"))
		return cmd_map(atoi(argv[2]), argv[3]);
	if (argc >= 3 && !strcmp(argv[1], "touch"))
		return cmd_touch(atoi(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "sync"))
		return cmd_sync(atoi(argv[2]));
	if (argc >= 5 && !strcmp(argv[1], "resize"))
		return cmd_resize(atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
	if (argc >= 5 && !strcmp(argv[1], "frag"))
		return cmd_frag(atol(argv[2]), atol(argv[3]), argv[4]);
	fprintf(stderr, "usage: cobench-user user REPS [CMA_HEAP] | touch REPS | map REPS LABEL | sync REPS | resize NODE CEILING_MB DELAY_MS | frag FILE_MB LOCK_MB READY\n");
	return 2;
}
