// SPDX-License-Identifier: GPL-2.0
/*
 * carveout's dma-buf heaps (carveout_heap.ko), as a dma-heap client sees
 * them: /dev/dma_heap/<name> and DMA_HEAP_IOCTL_ALLOC, nothing else.
 * The kernel's own dmabuf-heaps selftest runs over the same heaps
 * (runner.sh, kselftest:dmabuf-heaps); this test checks what it cannot:
 *
 * - Presence: INFO's CARVEOUT_CAP_DMA_HEAP is set exactly when
 *   carveout_heap is loaded, and then there is reserved-contiguous and one
 *   reserved-node<N>-contiguous per node with memory; without it no heap
 *   of carveout's exists and the rest is skipped with the reason (the
 *   kernel's lack of dma-buf heaps, or of an exported dma_heap_add()).
 * - Placement and guarantees: a node heap's buffer comes out of that
 *   node's region (STATS free bytes) and nowhere else, is physically
 *   contiguous (pagemap), zeroed after a previous owner's bytes, and its
 *   memory returns when the dma-buf goes; reserved-contiguous serves the
 *   calling CPU's node.
 * - The ioctl's flags: fd_flags are honoured (O_CLOEXEC, a read-only
 *   dma-buf cannot be mapped writable), unknown heap or fd flags fail with
 *   EINVAL, a buffer larger than any region with EFBIG.
 * - Accounting and limits: a heap buffer is charged to the allocating
 *   user (INFO user_bytes of that user, not root's), counts against
 *   user_limit together with the user's ALLOC buffers, and file_limit
 *   bounds each heap buffer on its own; debugfs names the process.
 * - libcamera, as the README has it: a udev-style link
 *   /dev/dma_heap/linux,cma to a node heap, opened and allocated from the
 *   way libcamera's DmaBufAllocator does, buffer named with
 *   DMA_BUF_SET_NAME.
 * - Lifetime: carveout_heap cannot be unloaded; its "enable" parameter
 *   turns allocations off (ENODEV, capability cleared) and on again;
 *   carveout cannot be unloaded while a heap buffer lives, can be once it
 *   is gone, the heaps stay and fail with ENODEV until carveout is loaded
 *   again, then serve again.
 *
 * Runs as root in the test VM (switching to uid 1000 for the user checks),
 * restores the device's and heaps' permissions and the limits, and leaves
 * carveout loaded with the runner's arguments.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "co_owner.h"
#include "co_test.h"
#include "tap.h"

#define HEAP_DIR	"/dev/dma_heap"
#define HEAP_ANY	"reserved-contiguous"
#define CMA_LINK	HEAP_DIR "/linux,cma"	/* libcamera's first choice */
#define FRONT_SYS	"/sys/module/carveout_heap"
#define ENABLE_PARAM	FRONT_SYS "/parameters/enable"
#define KO		"/lib/carveout/carveout.ko"
#define KO_ARGS		"size=128M"	/* as runner.sh loads it */
#define MIB		(1UL << 20)
#define MAX_NODES	16

static struct carveout_node_info nodes[MAX_NODES];
static int nr_nodes;

static void heap_path(char *buf, size_t len, int node)
{
	if (node < 0)
		snprintf(buf, len, HEAP_DIR "/" HEAP_ANY);
	else
		snprintf(buf, len, HEAP_DIR "/reserved-node%d-contiguous", node);
}

static int heap_open(int node)
{
	char path[128];

	heap_path(path, sizeof(path), node);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* DMA_HEAP_IOCTL_ALLOC on @node's heap (-1: reserved-contiguous). */
static int heap_alloc(int node, uint64_t len, uint32_t fd_flags,
		      uint64_t heap_flags)
{
	struct dma_heap_allocation_data d = {
		.len = len, .fd_flags = fd_flags, .heap_flags = heap_flags,
	};
	int hfd = heap_open(node), ret, err;

	if (hfd < 0)
		return -1;
	ret = ioctl(hfd, DMA_HEAP_IOCTL_ALLOC, &d);
	err = errno;
	close(hfd);
	errno = err;
	return ret ? -1 : (int)d.fd;
}

static uint64_t caps_now(void)
{
	struct carveout_info info;
	int fd = co_open();
	uint64_t caps = 0;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (fd >= 0 && !ioctl(fd, CARVEOUT_IOC_INFO, &info))
		caps = info.caps;
	if (fd >= 0)
		close(fd);
	return caps;
}

static uint64_t node_free(int node)
{
	int fd = co_open();
	uint64_t v = fd < 0 ? 0 : co_free_bytes(fd, node);

	if (fd >= 0)
		close(fd);
	return v;
}

/* Our heaps in /dev/dma_heap: reserved-contiguous and the node heaps. */
static int count_our_heaps(int *node_heaps)
{
	struct dirent *de;
	DIR *d = opendir(HEAP_DIR);
	int n = 0, node;
	char tail[64];

	*node_heaps = 0;
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, HEAP_ANY)) {
			n++;
		} else if (sscanf(de->d_name, "reserved-node%d-%63s", &node,
				  tail) == 2 && !strcmp(tail, "contiguous")) {
			n++;
			(*node_heaps)++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* Nodes with memory, from sysfs ("0-1", "0,2"): the count. */
static int nodes_with_memory(void)
{
	char line[256], *p = line;
	int n = 0, a, b, used;
	FILE *f = fopen("/sys/devices/system/node/has_memory", "r");

	if (!f)
		return 1;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	while (sscanf(p, "%d%n", &a, &used) == 1) {
		p += used;
		b = a;
		if (*p == '-' && sscanf(p + 1, "%d%n", &b, &used) == 1)
			p += 1 + used;
		n += b - a + 1;
		if (*p != ',')
			break;
		p++;
	}
	return n;
}

#define NO_HEAPS	"no " HEAP_DIR ": the kernel has no dma-buf heaps " \
			"(CONFIG_DMABUF_HEAPS)"
#define NO_EXPORT	"carveout_heap is built only where the kernel " \
			"exports dma_heap_add() to modules"

/*
 * Is carveout_heap there?  Without it, check that nothing of ours is and
 * say why; with it, check INFO and the names.  Returns 1 to go on.
 */
static int check_presence(void)
{
	int front = access(FRONT_SYS, F_OK) == 0, ours, node_heaps, i;
	uint64_t caps = caps_now();
	char path[128];

	ours = count_our_heaps(&node_heaps);
	if (!front) {
		tap_ok(!(caps & CARVEOUT_CAP_DMA_HEAP),
		       "INFO: no CARVEOUT_CAP_DMA_HEAP without carveout_heap");
		tap_ok(ours == 0, "no heap of carveout's in %s (%d)", HEAP_DIR,
		       ours);
		tap_skip(access(HEAP_DIR, F_OK) ? NO_HEAPS ", and " NO_EXPORT :
			 "carveout_heap not loaded: " NO_EXPORT,
			 "carveout's dma-buf heaps");
		return 0;
	}
	tap_ok(caps & CARVEOUT_CAP_DMA_HEAP,
	       "INFO reports CARVEOUT_CAP_DMA_HEAP with carveout_heap loaded");
	tap_ok(access(HEAP_DIR "/" HEAP_ANY, F_OK) == 0, "%s/%s exists",
	       HEAP_DIR, HEAP_ANY);
	for (i = 0; i < nr_nodes; i++) {
		heap_path(path, sizeof(path), nodes[i].node);
		tap_ok(access(path, F_OK) == 0, "%s exists", path);
	}
	tap_ok(node_heaps == nodes_with_memory(),
	       "one node heap per node with memory (%d heaps, %d nodes)",
	       node_heaps, nodes_with_memory());
	return 1;
}

/* Are the @len bytes at @p one physically contiguous run? */
static int phys_contiguous(const void *p, size_t len)
{
	size_t n = len / CO_PG, i;
	uint64_t *ent = calloc(n, 8);
	int fd = open("/proc/self/pagemap", O_RDONLY), ok = ent && fd >= 0;
	off_t off = (uintptr_t)p / CO_PG * 8;

	if (ok && pread(fd, ent, n * 8, off) != (ssize_t)(n * 8))
		ok = 0;
	for (i = 0; ok && i < n; i++) {
		ent[i] &= (1ULL << 55) - 1;
		if (!ent[i] || (i && ent[i] != ent[i - 1] + 1))
			ok = 0;
	}
	if (fd >= 0)
		close(fd);
	free(ent);
	return ok;
}

/* What a node heap's buffer is, where it comes from, and that it goes. */
static void test_node_heap(int node)
{
	uint64_t before[MAX_NODES], after;
	size_t len = 4 * MIB;
	int fd, i, elsewhere = 0;
	unsigned char *p;

	for (i = 0; i < nr_nodes; i++)
		before[i] = node_free(nodes[i].node);
	fd = heap_alloc(node, len, O_RDWR | O_CLOEXEC, 0);
	if (!tap_ok(fd >= 0, "node %d heap: 4 MiB (%s)", node,
		    fd < 0 ? strerror(errno) : "ok"))
		return;
	for (i = 0; i < nr_nodes; i++) {
		after = node_free(nodes[i].node);
		if ((int)nodes[i].node == node)
			tap_ok(before[i] - after == len,
			       "node %d heap: node %d's region gave %llu bytes",
			       node, node, (unsigned long long)(before[i] - after));
		else if (after != before[i])
			elsewhere++;
	}
	tap_ok(!elsewhere, "node %d heap: no other node gave memory", node);
	tap_ok((fcntl(fd, F_GETFD) & FD_CLOEXEC) &&
	       lseek(fd, 0, SEEK_END) == (off_t)len,
	       "node %d heap: O_CLOEXEC dma-buf of 4 MiB", node);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (tap_ok(p != MAP_FAILED, "node %d heap: mmap", node)) {
		tap_ok(co_all_bytes(p, len, 0), "node %d heap: zeroed", node);
		tap_ok(phys_contiguous(p, len),
		       "node %d heap: physically contiguous", node);
		memset(p, 0xa5, len);
		munmap(p, len);
	}
	close(fd);
	for (i = 0; i < nr_nodes && (int)nodes[i].node != node; i++)
		;
	tap_ok(i < nr_nodes && node_free(node) == before[i],
	       "node %d heap: the memory is back once the dma-buf is closed",
	       node);
}

/* A previous owner's bytes never show: allocate again over 0xa5. */
static void test_zeroed_again(int node)
{
	size_t len = 4 * MIB;
	int fd = heap_alloc(node, len, O_RDWR | O_CLOEXEC, 0);
	unsigned char *p = MAP_FAILED;

	if (fd >= 0)
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	tap_ok(p != MAP_FAILED && co_all_bytes(p, len, 0),
	       "node %d heap: zeroed after a previous buffer's 0xa5", node);
	if (p != MAP_FAILED)
		munmap(p, len);
	if (fd >= 0)
		close(fd);
}

/* A CPU of @node from sysfs, or -1. */
static int cpu_of_node(int node)
{
	char path[96], line[256];
	int cpu = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist",
		 node);
	f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f))
		sscanf(line, "%d", &cpu);
	if (f)
		fclose(f);
	return cpu;
}

/* reserved-contiguous serves the node of the CPU that asks. */
static void test_any_heap(void)
{
	cpu_set_t old, one;
	uint64_t before;
	int i, cpu, fd, node;

	sched_getaffinity(0, sizeof(old), &old);
	for (i = 0; i < nr_nodes; i++) {
		node = nodes[i].node;
		cpu = cpu_of_node(node);
		if (cpu < 0) {
			tap_skip("no CPU on this node", "%s on node %d",
				 HEAP_ANY, node);
			continue;
		}
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		sched_setaffinity(0, sizeof(one), &one);
		before = node_free(node);
		fd = heap_alloc(-1, MIB, O_RDWR | O_CLOEXEC, 0);
		tap_ok(fd >= 0 && before - node_free(node) == MIB,
		       "%s from CPU %d: 1 MiB from node %d's region", HEAP_ANY,
		       cpu, node);
		if (fd >= 0)
			close(fd);
	}
	sched_setaffinity(0, sizeof(old), &old);
}

/* fd_flags as the caller gave them; bad flags and sizes refused. */
static void test_flags(int node)
{
	int fd = heap_alloc(node, MIB, O_RDONLY, 0);
	void *p;

	if (tap_ok(fd >= 0, "O_RDONLY allocation")) {
		tap_ok(!(fcntl(fd, F_GETFD) & FD_CLOEXEC) &&
		       (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY,
		       "O_RDONLY without O_CLOEXEC: a read-only dma-buf, no FD_CLOEXEC");
		tap_errno((long)mmap(NULL, MIB, PROT_READ | PROT_WRITE,
				     MAP_SHARED, fd, 0),
			  EACCES, "read-only dma-buf: writable mmap");
		p = mmap(NULL, MIB, PROT_READ, MAP_SHARED, fd, 0);
		tap_ok(p != MAP_FAILED, "read-only dma-buf: read-only mmap");
		if (p != MAP_FAILED)
			munmap(p, MIB);
		close(fd);
	}
	tap_errno(heap_alloc(node, MIB, O_RDWR, 1), EINVAL,
		  "unknown heap_flags");
	tap_errno(heap_alloc(node, MIB, O_RDWR | O_NONBLOCK, 0), EINVAL,
		  "unknown fd_flags");
	tap_errno(heap_alloc(node, 0, O_RDWR, 0), EINVAL, "length 0");
	tap_errno(heap_alloc(node, 1UL << 40, O_RDWR, 0), EFBIG,
		  "1 TiB, larger than any region");
}

/* As uid @uid: a heap buffer of @len on @node; its fd or -1. */
static int heap_alloc_as(uid_t uid, int node, uint64_t len)
{
	int fd, err;

	if (co_become(uid))
		return -1;
	fd = heap_alloc(node, len, O_RDWR | O_CLOEXEC, 0);
	err = errno;
	co_become(0);
	errno = err;
	return fd;
}

/* Heap buffers are charged to their user, like ALLOC's. */
static void test_accounting(int node)
{
	uint64_t root0 = co_user_bytes(0), t0 = co_user_bytes(CO_TESTER);
	int fd;

	fd = heap_alloc_as(0, node, 4 * MIB);
	tap_ok(fd >= 0 && co_user_bytes(0) - root0 == 4 * MIB,
	       "root's heap buffer: charged to root (INFO user_bytes)");
	if (fd >= 0)
		close(fd);
	tap_ok(co_user_bytes(0) == root0, "root's charge goes with the dma-buf");

	fd = heap_alloc_as(CO_TESTER, node, 4 * MIB);
	tap_ok(fd >= 0 && co_user_bytes(CO_TESTER) - t0 == 4 * MIB &&
	       co_user_bytes(0) == root0,
	       "uid %d's heap buffer: charged to uid %d, not to root",
	       CO_TESTER, CO_TESTER);
	if (fd >= 0)
		close(fd);
	tap_ok(co_user_bytes(CO_TESTER) == t0,
	       "uid %d's charge goes with the dma-buf", CO_TESTER);
}

/* user_limit counts heap and ALLOC buffers together. */
static void test_user_limit(int node)
{
	struct carveout_alloc a;
	int fd[3], cfd, i;

	co_set_param("user_limit", 6 * MIB);
	fd[0] = heap_alloc_as(CO_TESTER, node, 4 * MIB);
	fd[1] = heap_alloc_as(CO_TESTER, node, 4 * MIB);
	tap_ok(fd[0] >= 0 && fd[1] == -1 && errno == EDQUOT,
	       "user_limit 6 MiB: 4 MiB from the heap, then 4 more: EDQUOT");
	fd[2] = heap_alloc_as(CO_TESTER, node, 2 * MIB);
	tap_ok(fd[2] >= 0, "user_limit 6 MiB: 2 more MiB from the heap fit");
	cfd = co_open_as(CO_TESTER, O_RDWR);
	tap_ok(cfd >= 0 && !co_become(CO_TESTER) &&
	       co_alloc(cfd, CO_PG, CARVEOUT_POLICY_LOCAL, 0,
			CARVEOUT_ALLOC_PAGES, &a) == -1 && errno == EDQUOT,
	       "user_limit 6 MiB held through the heap: ALLOC of a page: EDQUOT");
	co_become(0);
	if (cfd >= 0)
		close(cfd);
	for (i = 0; i < 3; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	co_set_param("user_limit", 0);
}

/* file_limit bounds each heap buffer, each being an owner of its own. */
static void test_file_limit(int node)
{
	int fd[3], i, ok = 1;

	co_set_param("file_limit", 2 * MIB);
	tap_errno(heap_alloc(node, 4 * MIB, O_RDWR, 0), EDQUOT,
		  "file_limit 2 MiB: a 4 MiB heap buffer");
	for (i = 0; i < 3; i++) {
		fd[i] = heap_alloc(node, 2 * MIB, O_RDWR | O_CLOEXEC, 0);
		ok &= fd[i] >= 0;
	}
	tap_ok(ok, "file_limit 2 MiB: three 2 MiB heap buffers, each its own");
	for (i = 0; i < 3; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	co_set_param("file_limit", 0);
}

/* debugfs "buffers" names the allocating process. */
static void test_debugfs(int node)
{
	char line[512], comm[32] = "test_heap", want[64];
	int fd = heap_alloc(node, MIB, O_RDWR | O_CLOEXEC, 0), seen = 0;
	FILE *f = fopen("/proc/self/comm", "r");

	if (f && fgets(comm, sizeof(comm), f))
		comm[strcspn(comm, "\n")] = 0;
	if (f)
		fclose(f);
	snprintf(want, sizeof(want), " %d  %-16s", getpid(), comm);
	f = fopen("/sys/kernel/debug/carveout/buffers", "r");
	while (f && fgets(line, sizeof(line), f))
		seen += strstr(line, want) != NULL;
	if (f)
		fclose(f);
	tap_ok(fd >= 0 && seen == 1,
	       "debugfs buffers: the heap buffer, under pid %d (%s)", getpid(),
	       comm);
	if (fd >= 0)
		close(fd);
}

/* The dma-buf's name in /proc/self/fdinfo, as DMA_BUF_SET_NAME set it. */
static int fdinfo_name_is(int fd, const char *name)
{
	char path[64], line[128], want[96];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(want, sizeof(want), "name:\t%s\n", name);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		found |= !strcmp(line, want);
	if (f)
		fclose(f);
	return found;
}

/*
 * libcamera (DmaBufAllocator's CMA heap) and rpicam-apps look for
 * /dev/dma_heap/linux,cma.  Link that name to a node heap, as the
 * README's udev rule does, and allocate the way libcamera does.
 */
static void test_libcamera_link(int node)
{
	struct dma_heap_allocation_data d = {
		.len = MIB, .fd_flags = O_CLOEXEC | O_RDWR,
	};
	uint64_t before = node_free(node);
	char target[64];
	int hfd, fd = -1;

	if (access(CMA_LINK, F_OK) == 0) {
		tap_skip("the kernel has a heap of that name", "libcamera via %s",
			 CMA_LINK);
		return;
	}
	snprintf(target, sizeof(target), "reserved-node%d-contiguous", node);
	if (!tap_ok(symlink(target, CMA_LINK) == 0, "link %s -> %s", CMA_LINK,
		    target))
		return;
	hfd = open(CMA_LINK, O_RDONLY | O_CLOEXEC);
	if (hfd >= 0 && !ioctl(hfd, DMA_HEAP_IOCTL_ALLOC, &d))
		fd = d.fd;
	tap_ok(fd >= 0 && before - node_free(node) == MIB,
	       "as libcamera: 1 MiB through %s, from node %d's region",
	       CMA_LINK, node);
	tap_ok(fd >= 0 && !ioctl(fd, DMA_BUF_SET_NAME_B, "frame-0") &&
	       fdinfo_name_is(fd, "frame-0"),
	       "as libcamera: DMA_BUF_SET_NAME names the buffer");
	if (fd >= 0)
		close(fd);
	if (hfd >= 0)
		close(hfd);
	unlink(CMA_LINK);
}

static int mod_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK);
}

static int carveout_load(void)
{
	int fd = open(KO, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, KO_ARGS, 0);
	close(fd);
	return ret;
}

static int write_enable(const char *v)
{
	FILE *f = fopen(ENABLE_PARAM, "w");

	if (!f)
		return -1;
	fputs(v, f);
	return fclose(f);
}

/* carveout_heap stays; its parameter turns allocations off and on. */
static void test_front_end(int node)
{
	int fd;

	tap_ok(mod_unload("carveout_heap") == -1 &&
	       (errno == EWOULDBLOCK || errno == EBUSY) &&
	       access(FRONT_SYS, F_OK) == 0,
	       "carveout_heap cannot be unloaded: its heaps cannot be removed");
	tap_ok(write_enable("0") == 0, "enable=0");
	tap_errno(heap_alloc(node, MIB, O_RDWR, 0), ENODEV,
		  "enable=0: allocation");
	tap_ok(!(caps_now() & CARVEOUT_CAP_DMA_HEAP),
	       "enable=0: INFO clears CARVEOUT_CAP_DMA_HEAP");
	tap_ok(write_enable("1") == 0, "enable=1");
	fd = heap_alloc(node, MIB, O_RDWR | O_CLOEXEC, 0);
	tap_ok(fd >= 0 && (caps_now() & CARVEOUT_CAP_DMA_HEAP),
	       "enable=1: allocations and CARVEOUT_CAP_DMA_HEAP are back");
	if (fd >= 0)
		close(fd);
}

/*
 * carveout unloads under its heaps once no heap buffer is left; they fail
 * with ENODEV until it is back.  Leaves carveout loaded as the runner did.
 */
static void test_unload(int node)
{
	int fd = heap_alloc(node, MIB, O_RDWR | O_CLOEXEC, 0), ret, edu;

	edu = co_edu_unload();
	if (!tap_ok(edu >= 0, "carveout_edu unloads for the while (%s)",
		    edu < 0 ? strerror(errno) : "ok")) {
		if (fd >= 0)
			close(fd);
		return;
	}

	tap_ok(fd >= 0 && mod_unload("carveout") == -1 &&
	       access("/sys/module/carveout", F_OK) == 0,
	       "a live heap buffer keeps carveout loaded");
	if (fd >= 0)
		close(fd);
	ret = mod_unload("carveout");
	if (!tap_ok(ret == 0, "carveout unloads once the heap buffer is gone (%s)",
		    ret ? strerror(errno) : "ok")) {
		if (edu > 0)
			co_edu_load();
		return;
	}
	tap_ok(access(HEAP_DIR "/" HEAP_ANY, F_OK) == 0,
	       "the heaps stay without carveout");
	tap_errno(heap_alloc(node, MIB, O_RDWR, 0), ENODEV,
		  "node heap without carveout");
	tap_errno(heap_alloc(-1, MIB, O_RDWR, 0), ENODEV,
		  HEAP_ANY " without carveout");
	ret = carveout_load();
	if (!tap_ok(ret == 0, "carveout loads again (%s)",
		    ret ? strerror(errno) : "ok"))
		tap_bail("carveout is not loaded any more");
	if (edu > 0) {
		ret = co_edu_load();
		tap_ok(ret == 0, "carveout_edu loads again (%s)",
		       ret ? strerror(errno) : "ok");
	}
	fd = heap_alloc(node, MIB, O_RDWR | O_CLOEXEC, 0);
	tap_ok(fd >= 0, "the heaps serve the new carveout");
	if (fd >= 0)
		close(fd);
}

/* Sets the mode of our heaps (0666 opens them to uid CO_TESTER). */
static int share_heaps(mode_t mode)
{
	char path[128];
	int i, ret = chmod(HEAP_DIR "/" HEAP_ANY, mode);

	for (i = 0; i < nr_nodes; i++) {
		heap_path(path, sizeof(path), nodes[i].node);
		ret |= chmod(path, mode);
	}
	return ret;
}

int main(void)
{
	unsigned long file_limit, user_limit;
	struct stat st0;
	int fd, i, node0;

	tap_plan_begin("carveout's dma-buf heaps");
	if (getuid() != 0)
		tap_bail("must run as root (it switches to uid %d)", CO_TESTER);
	fd = co_open();
	nr_nodes = fd < 0 ? -1 : co_nodes(fd, nodes, MAX_NODES);
	if (nr_nodes < 1)
		tap_bail("cannot open %s or no region", CO_DEV);
	close(fd);
	node0 = nodes[0].node;
	if (!check_presence())
		return tap_finish();
	if (stat(CO_DEV, &st0))
		tap_bail("stat %s: %s", CO_DEV, strerror(errno));
	file_limit = co_read_param("file_limit");
	user_limit = co_read_param("user_limit");
	co_set_param("file_limit", 0);
	co_set_param("user_limit", 0);
	co_share_device();
	if (share_heaps(0666))
		tap_bail("cannot open the heaps to uid %d", CO_TESTER);

	for (i = 0; i < nr_nodes; i++) {
		test_node_heap(nodes[i].node);
		test_zeroed_again(nodes[i].node);
	}
	test_any_heap();
	test_flags(node0);
	test_accounting(node0);
	test_user_limit(node0);
	test_file_limit(node0);
	test_debugfs(node0);
	test_libcamera_link(node0);
	test_front_end(node0);

	co_set_param("file_limit", file_limit);
	co_set_param("user_limit", user_limit);
	share_heaps(0600);
	if (chown(CO_DEV, st0.st_uid, st0.st_gid) ||
	    chmod(CO_DEV, st0.st_mode & 07777))
		tap_diag("cannot restore %s: %s", CO_DEV, strerror(errno));
	/* Last: the device is made anew, as the runner's module made it. */
	test_unload(node0);
	return tap_finish();
}
