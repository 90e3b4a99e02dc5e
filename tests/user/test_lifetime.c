// SPDX-License-Identifier: GPL-2.0
/*
 * Buffer lifetimes: free while mapped, close while mapped, fork with a
 * mapping, a dma-buf outliving its file, and the whole region free and
 * coalesced again once everything is gone.
 */
#include <stdio.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>

#include "co_test.h"
#include "tap.h"

static struct carveout_stats st0;
static uint32_t node0;

static uint64_t free_now(int fd)
{
	struct carveout_stats s;

	return co_stats(fd, node0, &s) ? 0 : s.free_bytes;
}

static void test_free_while_mapped(int fd)
{
	struct carveout_alloc a;
	unsigned char *p;
	uint64_t before = free_now(fd);

	tap_ok(co_alloc(fd, 1 << 20, CARVEOUT_POLICY_STRICT, node0, 0, &a) == 0,
	       "ALLOC 1 MiB");
	p = co_mmap(fd, &a);
	if (!tap_ok(p != NULL, "mmap it"))
		return;
	memset(p, 0x3c, a.granted);
	tap_ok(co_free(fd, a.handle) == 0, "FREE while mapped");
	tap_ok(p[0] == 0x3c && p[a.granted - 1] == 0x3c,
	       "the mapping keeps the data");
	p[17] = 0x99;
	tap_ok(p[17] == 0x99, "the mapping stays writable");
	tap_ok(free_now(fd) == before - a.granted,
	       "the memory stays in use while mapped");
	munmap(p, a.granted);
	tap_ok(free_now(fd) == before, "munmap gives the memory back");
}

static void test_close_while_mapped(void)
{
	struct carveout_alloc a;
	int fd = co_open(), fd2 = co_open();
	unsigned char *p;
	uint64_t before = free_now(fd2);

	tap_ok(co_alloc(fd, 2 << 20, CARVEOUT_POLICY_STRICT, node0, 0, &a) == 0,
	       "ALLOC 2 MiB in a file");
	p = co_mmap(fd, &a);
	if (!tap_ok(p != NULL, "mmap it"))
		return;
	memset(p, 0xa1, a.granted);
	close(fd);
	tap_ok(p[0] == 0xa1 && p[a.granted - 1] == 0xa1,
	       "close() while mapped keeps the data");
	tap_ok(free_now(fd2) == before - a.granted,
	       "the memory stays in use after close()");
	munmap(p, a.granted);
	tap_ok(free_now(fd2) == before, "the last munmap frees it");
	close(fd2);
}

static void test_fork_shared(int fd)
{
	struct carveout_alloc a;
	volatile unsigned char *p;
	int status;
	pid_t pid;

	tap_ok(co_alloc_simple(fd, 4096, &a) == 0, "ALLOC a page");
	p = co_mmap(fd, &a);
	if (!tap_ok(p != NULL, "mmap it"))
		return;
	p[0] = 1;
	pid = fork();
	if (pid == 0) {
		int ok = p[0] == 1;

		p[1] = 2;
		_exit(ok ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "a forked child sees the parent's data");
	tap_ok(p[1] == 2, "the child's write is shared (MAP_SHARED)");
	tap_ok(co_free(fd, a.handle) == 0, "FREE after the child exited");
	munmap((void *)p, 4096);
}

static void test_dmabuf_outlives_file(void)
{
	struct dma_buf_sync sync;
	struct carveout_alloc a;
	int fd = co_open(), fd2 = co_open(), dfd = -1;
	unsigned char *p, *q;
	uint64_t before = free_now(fd2);

	tap_ok(co_alloc(fd, 64 << 10, CARVEOUT_POLICY_STRICT, node0, 0, &a) == 0,
	       "ALLOC 64 KiB");
	p = co_mmap(fd, &a);
	if (p) {
		memset(p, 0x6b, a.granted);
		munmap(p, a.granted);
	}
	tap_ok(co_export(fd, a.handle, &dfd) == 0 && dfd >= 0, "EXPORT as dma-buf");
	tap_ok(co_free(fd, a.handle) == 0, "FREE the handle");
	close(fd);
	tap_ok(free_now(fd2) == before - a.granted,
	       "the dma-buf keeps the memory after the file is closed");
	q = mmap(NULL, a.granted, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	tap_ok(q != MAP_FAILED, "mmap the dma-buf");
	if (q != MAP_FAILED) {
		sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW;
		ioctl(dfd, DMA_BUF_IOCTL_SYNC, &sync);
		tap_ok(q[0] == 0x6b && q[a.granted - 1] == 0x6b,
		       "the dma-buf holds the data");
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
		tap_ok(ioctl(dfd, DMA_BUF_IOCTL_SYNC, &sync) == 0,
		       "DMA_BUF_IOCTL_SYNC");
		munmap(q, a.granted);
	}
	close(dfd);
	tap_ok(free_now(fd2) == before, "closing the dma-buf frees the memory");
	close(fd2);
}

/* Shows what debugfs says is still alive, to explain a failure. */
static void dump_buffers(void)
{
	char line[256];
	FILE *f = fopen("/sys/kernel/debug/carveout/buffers", "r");

	while (f && fgets(line, sizeof(line), f))
		tap_diag("%.*s", (int)strcspn(line, "\n"), line);
	if (f)
		fclose(f);
}

static void test_all_free(void)
{
	struct carveout_node_info nodes[16];
	struct carveout_stats s;
	int fd = co_open(), n, i;

	n = co_nodes(fd, nodes, 16);
	for (i = 0; i < n; i++) {
		co_drain_pools(nodes[i].node);
		if (!tap_ok(co_stats(fd, nodes[i].node, &s) == 0 &&
			    s.free_bytes == s.region_bytes && s.nr_buffers == 0,
			    "node %u: the whole region is free again (%llu buffers)",
			    nodes[i].node, (unsigned long long)s.nr_buffers))
			dump_buffers();
		if (nodes[i].nr_pieces == 1 &&
		    !(s.region_bytes & (s.region_bytes - 1)))
			tap_ok(s.largest_free == s.region_bytes,
			       "node %u: fully coalesced (largest free %llu)",
			       nodes[i].node,
			       (unsigned long long)s.largest_free);
	}
	close(fd);
}

int main(void)
{
	struct carveout_node_info nodes[16];
	int fd;

	tap_plan_begin("carveout buffer lifetimes");
	fd = co_open();
	if (fd < 0 || co_nodes(fd, nodes, 16) < 1)
		tap_bail("cannot open %s or no region", CO_DEV);
	node0 = nodes[0].node;
	co_stats(fd, node0, &st0);
	test_free_while_mapped(fd);
	test_close_while_mapped();
	test_fork_shared(fd);
	test_dmabuf_outlives_file();
	close(fd);
	test_all_free();
	return tap_finish();
}
