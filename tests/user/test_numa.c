// SPDX-License-Identifier: GPL-2.0
/*
 * NUMA placement: strict, preferred with fallback, local to the calling
 * CPU; pages checked from userspace with move_pages() and the counters
 * checked in STATS.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "co_test.h"
#include "tap.h"

/* The node of each page of [p, p + len) per move_pages(); -1 if mixed. */
static int pages_node(void *p, size_t len)
{
	size_t n = len / 4096, i;
	void *pages[512];
	int status[512], node = -2;

	if (n > 512)
		n = 512;
	for (i = 0; i < n; i++)
		pages[i] = (char *)p + i * 4096;
	if (syscall(SYS_move_pages, 0, n, pages, NULL, status, 0))
		return -3;
	for (i = 0; i < n; i++) {
		if (node == -2)
			node = status[i];
		else if (status[i] != node)
			return -1;
	}
	return node;
}

static int cpu_node(int cpu)
{
	char path[64];
	int nid;

	for (nid = 0; nid < 64; nid++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/node%d", cpu, nid);
		if (access(path, F_OK) == 0)
			return nid;
	}
	return -1;
}

int main(void)
{
	struct carveout_node_info nodes[16];
	struct carveout_stats s0, s1, t0, t1;
	struct carveout_alloc a, big, b;
	int fd, n, i, cpu, node;
	cpu_set_t set;
	void *p;

	tap_plan_begin("carveout NUMA placement");
	fd = co_open();
	if (fd < 0)
		tap_bail("cannot open %s", CO_DEV);
	n = co_nodes(fd, nodes, 16);
	tap_ok(n >= 1, "%d node(s) with a region", n);

	for (i = 0; i < n; i++) {
		co_stats(fd, nodes[i].node, &s0);
		tap_ok(co_alloc(fd, 256 << 10, CARVEOUT_POLICY_STRICT,
				nodes[i].node, 0, &a) == 0 &&
		       a.out_node == nodes[i].node,
		       "strict allocation on node %u", nodes[i].node);
		p = co_mmap(fd, &a);
		if (tap_ok(p != NULL, "mmap it")) {
			memset(p, 1, a.granted);
			node = pages_node(p, a.granted);
			tap_ok(node == (int)nodes[i].node,
			       "move_pages(): every page is on node %u (got %d)",
			       nodes[i].node, node);
			munmap(p, a.granted);
		}
		co_stats(fd, nodes[i].node, &s1);
		tap_ok(s1.numa_hit == s0.numa_hit + 1,
		       "node %u numa_hit counted", nodes[i].node);
		co_free(fd, a.handle);
	}

	/* Local: the calling CPU's node. */
	for (cpu = 0; cpu < 2; cpu++) {
		node = cpu_node(cpu);
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (node < 0 || sched_setaffinity(0, sizeof(set), &set)) {
			tap_skip("no such CPU", "local allocation on CPU %d", cpu);
			continue;
		}
		co_stats(fd, node, &s0);
		tap_ok(co_alloc_simple(fd, 64 << 10, &a) == 0 &&
		       (int)a.out_node == node,
		       "local allocation on CPU %d lands on node %d (got %u)",
		       cpu, node, a.out_node);
		co_stats(fd, node, &s1);
		tap_ok(s1.local_node == s0.local_node + 1,
		       "node %d local_node counted", node);
		co_free(fd, a.handle);
	}
	CPU_ZERO(&set);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);

	if (n < 2) {
		tap_skip("needs two nodes", "preferred fallback");
		close(fd);
		return tap_finish();
	}
	/* Preferred: fill node B, the next request falls back to node A. */
	co_drain_pools(nodes[1].node);
	co_stats(fd, nodes[1].node, &s0);
	tap_ok(co_alloc(fd, s0.free_bytes, CARVEOUT_POLICY_STRICT,
			nodes[1].node, 0, &big) == 0,
	       "fill node %u (%llu bytes)", nodes[1].node,
	       (unsigned long long)s0.free_bytes);
	tap_errno(co_alloc(fd, 4096, CARVEOUT_POLICY_STRICT, nodes[1].node, 0,
			   &b), ENOMEM, "strict allocation on the full node fails");
	co_stats(fd, nodes[1].node, &s0);
	co_stats(fd, nodes[0].node, &t0);
	tap_ok(co_alloc(fd, 1 << 20, CARVEOUT_POLICY_PREFERRED, nodes[1].node,
			0, &a) == 0 && a.out_node == nodes[0].node,
	       "preferred allocation falls back to node %u", nodes[0].node);
	co_stats(fd, nodes[1].node, &s1);
	co_stats(fd, nodes[0].node, &t1);
	tap_ok(s1.numa_foreign == s0.numa_foreign + 1,
	       "node %u numa_foreign counted", nodes[1].node);
	tap_ok(t1.numa_miss == t0.numa_miss + 1,
	       "node %u numa_miss counted", nodes[0].node);
	p = co_mmap(fd, &a);
	if (p) {
		memset(p, 1, 4096);
		tap_ok(pages_node(p, a.granted) == (int)nodes[0].node,
		       "the fallback buffer's pages are on node %u",
		       nodes[0].node);
		munmap(p, a.granted);
	}
	co_free(fd, a.handle);
	co_free(fd, big.handle);

	/* Device policy: edu's node (no proximity info: the local node). */
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.length = 4096;
	a.policy = CARVEOUT_POLICY_DEVICE;
	strcpy(a.device, CO_EDU_PCI);
	tap_ok(ioctl(fd, CARVEOUT_IOC_ALLOC, &a) == 0,
	       "allocation for device %s", CO_EDU_PCI);
	co_free(fd, a.handle);
	close(fd);
	return tap_finish();
}
