/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small wrappers over the carveout uapi shared by the userspace tests.
 * Each returns what the ioctl returned (0 or -1 with errno set).
 */
#ifndef CO_TEST_H
#define CO_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <linux/carveout.h>

#include "tap.h"

#define CO_DEV		"/dev/carveout"
#define CO_EDU_PCI	"0000:00:03.0"

static inline int co_open(void)
{
	return open(CO_DEV, O_RDWR | O_CLOEXEC);
}

/* Allocates @len bytes with @policy on @node; fills @a. */
static inline int co_alloc(int fd, uint64_t len, uint32_t policy, int node,
			   uint32_t flags, struct carveout_alloc *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->length = len;
	a->policy = policy;
	a->node = node;
	a->flags = flags;
	return ioctl(fd, CARVEOUT_IOC_ALLOC, a);
}

static inline int co_alloc_simple(int fd, uint64_t len, struct carveout_alloc *a)
{
	return co_alloc(fd, len, CARVEOUT_POLICY_LOCAL, 0, 0, a);
}

static inline int co_free(int fd, uint32_t handle)
{
	struct carveout_handle h = { .size = sizeof(h), .handle = handle };

	return ioctl(fd, CARVEOUT_IOC_FREE, &h);
}

/* Maps the whole buffer (and its page offset) into this process. */
static inline void *co_mmap(int fd, const struct carveout_alloc *a)
{
	size_t len = (a->page_offset + a->granted + 4095) & ~4095UL;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       a->mmap_offset);

	return p == MAP_FAILED ? NULL : (char *)p + a->page_offset;
}

static inline int co_map(int fd, uint32_t handle, const char *dev,
			 uint32_t dir, struct carveout_map *m)
{
	memset(m, 0, sizeof(*m));
	m->size = sizeof(*m);
	m->handle = handle;
	m->direction = dir;
	strncpy(m->device, dev, sizeof(m->device) - 1);
	return ioctl(fd, CARVEOUT_IOC_MAP, m);
}

static inline int co_unmap(int fd, uint32_t handle, const char *dev,
			   uint64_t dma_addr)
{
	struct carveout_map m;

	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.handle = handle;
	m.dma_addr = dma_addr;
	strncpy(m.device, dev, sizeof(m.device) - 1);
	return ioctl(fd, CARVEOUT_IOC_UNMAP, &m);
}

static inline int co_export(int fd, uint32_t handle, int *dmabuf_fd)
{
	struct carveout_export e = {
		.size = sizeof(e), .handle = handle, .flags = O_RDWR | O_CLOEXEC,
	};
	int ret = ioctl(fd, CARVEOUT_IOC_EXPORT, &e);

	*dmabuf_fd = e.fd;
	return ret;
}

static inline int co_stats(int fd, uint32_t node, struct carveout_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->node = node;
	return ioctl(fd, CARVEOUT_IOC_STATS, s);
}

/* Nodes with a region, filled into @nodes (up to @max); returns the count. */
static inline int co_nodes(int fd, struct carveout_node_info *nodes, int max)
{
	struct carveout_info info;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.nodes_cap = max;
	info.nodes_ptr = (uintptr_t)nodes;
	if (ioctl(fd, CARVEOUT_IOC_INFO, &info))
		return -1;
	return info.nr_nodes < (uint32_t)max ? (int)info.nr_nodes : max;
}

/* Physical frame of a mapped virtual address, from /proc/self/pagemap. */
static inline uint64_t co_virt_to_pfn(const void *va)
{
	uint64_t ent = 0;
	off_t off = ((uintptr_t)va / 4096) * 8;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &ent, 8, off) != 8)
		ent = 0;
	close(fd);
	if (!(ent & (1ULL << 63)))
		return 0;
	return ent & ((1ULL << 55) - 1);
}

/* Sets a writable module parameter, e.g. file_limit. */
static inline int co_set_param(const char *name, unsigned long v)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/carveout/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%lu\n", v);
	return fclose(f);
}

/*
 * Freed write-combined and uncached memory stays converted in the node's
 * pools, allocated in the arena, until an allocation on the node fails:
 * then the pools go back to the arena.  Makes one fail (whole pieces until
 * ENOMEM), so @node has nothing pooled; what it took goes with the file.
 */
static inline void co_drain_pools(uint32_t node)
{
	struct carveout_alloc a;
	struct carveout_stats s;
	uint64_t len;
	int fd = co_open();

	if (fd < 0)
		return;
	if (!co_stats(fd, node, &s) && s.free_bytes != s.region_bytes) {
		for (len = s.region_bytes; len >= 4096;) {
			if (!co_alloc(fd, len, CARVEOUT_POLICY_STRICT, node,
				      CARVEOUT_ALLOC_PAGES, &a))
				continue;
			if (errno != EFBIG)
				break;
			len /= 2;
		}
	}
	close(fd);
}

/*
 * Checks that every node's region is entirely free again (once its pools
 * of converted memory are drained), and fully coalesced where the region
 * is one power-of-two piece.
 */
static inline void co_check_all_free(int fd, const struct carveout_node_info *nodes,
				     int nr)
{
	struct carveout_stats s;
	int i, ok;

	for (i = 0; i < nr; i++) {
		co_drain_pools(nodes[i].node);
		ok = co_stats(fd, nodes[i].node, &s) == 0;
		tap_ok(ok && s.free_bytes == s.region_bytes && s.nr_buffers == 0,
		       "node %u fully free (%llu of %llu, %llu buffers)",
		       nodes[i].node, (unsigned long long)s.free_bytes,
		       (unsigned long long)s.region_bytes,
		       (unsigned long long)s.nr_buffers);
		if (nodes[i].nr_pieces == 1 &&
		    !(s.region_bytes & (s.region_bytes - 1)))
			tap_ok(ok && s.largest_free == s.region_bytes,
			       "node %u fully coalesced (largest free %llu)",
			       nodes[i].node, (unsigned long long)s.largest_free);
	}
}

/* The value (kB) of @key ("MemFree:") in /proc/meminfo, or -1. */
static inline long co_meminfo(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

/*
 * MemFree (kB) with the page cache and reclaimable slab dropped first, so
 * what it shows is what the module took and did not give back.  The best
 * of five readings 200 ms apart: pages freed late (per-CPU lists, deferred
 * vfree and RCU) come back within that, memory kept for good does not
 * (6.1 was seen 35 MiB short in one reading right after module cycles, and
 * at its baseline in the next runs).
 */
static inline long co_memfree_settled(void)
{
	long best = 0, v;
	FILE *f;
	int i;

	for (i = 0; i < 5; i++) {
		if (i)
			usleep(200 * 1000);
		f = fopen("/proc/sys/vm/drop_caches", "w");
		if (f) {
			fputs("3\n", f);
			fclose(f);
		}
		v = co_meminfo("MemFree:");
		if (v > best)
			best = v;
	}
	return best;
}

/*
 * carveout_edu (the runner loads it) opts edu in for MAP through
 * carveout's in-kernel API, so it holds carveout: tests that unload
 * carveout take it out first and load it again after.
 * co_edu_unload(): 1 unloaded, 0 was not loaded, -1 error (errno).
 */
#define CO_EDU_KO	"/lib/carveout/carveout_edu.ko"

static inline int co_edu_unload(void)
{
	if (access("/sys/module/carveout_edu", F_OK))
		return 0;
	return syscall(SYS_delete_module, "carveout_edu", O_NONBLOCK) ? -1 : 1;
}

static inline int co_edu_load(void)
{
	int fd = open(CO_EDU_KO, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

#endif /* CO_TEST_H */
