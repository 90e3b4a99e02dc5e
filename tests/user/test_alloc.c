// SPDX-License-Identifier: GPL-2.0
/*
 * ALLOC, FREE, STATS, SYNC, EXPORT argument checking, mmap rules, zeroing,
 * sub-page isolation, per-file and per-user limits, cache modes.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "co_test.h"
#include "tap.h"

static int fd;

static uint64_t node_free(int node)
{
	struct carveout_stats s;

	if (co_stats(fd, node, &s))
		return 0;
	return s.free_bytes;
}

static void test_info(struct carveout_node_info *nodes, int *nr)
{
	struct carveout_info info;
	uint64_t sum = 0;
	int i;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.nodes_cap = 16;
	info.nodes_ptr = (uintptr_t)nodes;
	tap_ok(ioctl(fd, CARVEOUT_IOC_INFO, &info) == 0, "INFO with a node array");
	tap_ok(info.nr_nodes >= 1, "INFO reports %u node(s) with a region",
	       info.nr_nodes);
	for (i = 0; i < (int)info.nr_nodes && i < 16; i++)
		sum += nodes[i].region_bytes;
	tap_ok(sum == info.total_bytes && sum > 0,
	       "node regions add up to total_bytes (%llu)",
	       (unsigned long long)info.total_bytes);
	tap_ok((info.caps & (CARVEOUT_CAP_NUMA | CARVEOUT_CAP_SLAB |
			     CARVEOUT_CAP_DMA_MAP | CARVEOUT_CAP_DMABUF)) ==
	       (CARVEOUT_CAP_NUMA | CARVEOUT_CAP_SLAB | CARVEOUT_CAP_DMA_MAP |
		CARVEOUT_CAP_DMABUF), "INFO capabilities");
	tap_ok(info.slab_max >= 2048 && info.slab_max < 4096,
	       "sub-page buffers up to %u bytes", info.slab_max);
	tap_ok(info.max_alloc > 0 && info.max_alloc <= info.total_bytes,
	       "max_alloc %llu within the regions",
	       (unsigned long long)info.max_alloc);
	*nr = info.nr_nodes < 16 ? info.nr_nodes : 16;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.nodes_cap = 1;
	tap_errno(ioctl(fd, CARVEOUT_IOC_INFO, &info), EINVAL,
		  "INFO with nodes_cap but no array");
}

static void test_alloc_errors(const struct carveout_node_info *nodes)
{
	struct carveout_alloc a;
	int ret;

	ret = co_alloc(fd, 0, CARVEOUT_POLICY_LOCAL, 0, 0, &a);
	tap_errno(ret, EINVAL, "ALLOC of 0 bytes");
	ret = co_alloc(fd, 4096, CARVEOUT_POLICY_LOCAL, 0, 0x80, &a);
	tap_errno(ret, EINVAL, "ALLOC with an unknown flag");
	ret = co_alloc(fd, 4096, CARVEOUT_POLICY_LOCAL, 0,
		       CARVEOUT_ALLOC_CACHE_MASK, &a);
	tap_errno(ret, EINVAL, "ALLOC with an invalid cache mode");
	ret = co_alloc(fd, 4096, 99, 0, 0, &a);
	tap_errno(ret, EINVAL, "ALLOC with an unknown policy");
	ret = co_alloc(fd, 4096, CARVEOUT_POLICY_STRICT, -1, 0, &a);
	tap_errno(ret, EINVAL, "ALLOC strict on node -1");
	ret = co_alloc(fd, 4096, CARVEOUT_POLICY_STRICT, 63, 0, &a);
	tap_errno(ret, ENODEV, "ALLOC strict on a node without a region");

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.length = 4096;
	a.align = 3 * 4096;
	tap_errno(ioctl(fd, CARVEOUT_IOC_ALLOC, &a), EINVAL,
		  "ALLOC with a non-power-of-two alignment");
	a.align = 0;
	a.reserved = 1;
	tap_errno(ioctl(fd, CARVEOUT_IOC_ALLOC, &a), EINVAL,
		  "ALLOC with a non-zero reserved field");
	a.reserved = 0;
	a.handle = 5;
	tap_errno(ioctl(fd, CARVEOUT_IOC_ALLOC, &a), EINVAL,
		  "ALLOC with a non-zero output field");
	a.handle = 0;
	strcpy(a.device, CO_EDU_PCI);
	tap_errno(ioctl(fd, CARVEOUT_IOC_ALLOC, &a), EINVAL,
		  "ALLOC with a device under the LOCAL policy");
	a.policy = CARVEOUT_POLICY_DEVICE;
	strcpy(a.device, "0000:7f:1f.7");
	tap_errno(ioctl(fd, CARVEOUT_IOC_ALLOC, &a), ENODEV,
		  "ALLOC for a device that does not exist");
	memset(a.device, 'x', sizeof(a.device));
	tap_errno(ioctl(fd, CARVEOUT_IOC_ALLOC, &a), EINVAL,
		  "ALLOC with an unterminated device name");

	ret = co_alloc(fd, nodes[0].region_bytes * 64, CARVEOUT_POLICY_LOCAL,
		       0, 0, &a);
	tap_errno(ret, EFBIG, "ALLOC larger than any region");
	ret = co_alloc(fd, nodes[0].region_bytes, CARVEOUT_POLICY_STRICT,
		       nodes[0].node, 0, &a);
	if (ret == 0) {
		/* The whole region was free: a second byte cannot fit. */
		struct carveout_alloc b;

		tap_errno(co_alloc(fd, 4096, CARVEOUT_POLICY_STRICT,
				   nodes[0].node, 0, &b), ENOMEM,
			  "ALLOC strict on a full node");
		tap_ok(co_free(fd, a.handle) == 0, "FREE of a whole region");
	} else {
		tap_errno(ret, ENOMEM, "ALLOC strict of a region in use");
	}
}

static void test_alloc_basic(const struct carveout_node_info *nodes)
{
	struct carveout_alloc a, b;
	uint64_t before = node_free(nodes[0].node);
	unsigned char *p;
	size_t i;

	tap_ok(co_alloc(fd, 3 * 4096 + 1, CARVEOUT_POLICY_STRICT,
			nodes[0].node, 0, &a) == 0, "ALLOC 3 pages + 1 byte");
	tap_ok(a.granted == 4 * 4096, "granted rounds up to 4 pages (%llu)",
	       (unsigned long long)a.granted);
	tap_ok(a.handle != 0 && a.mmap_offset != 0 && a.page_offset == 0,
	       "handle %u, mmap offset %#llx", a.handle,
	       (unsigned long long)a.mmap_offset);
	tap_ok(a.phys_addr != 0 && (a.phys_addr & 4095) == 0,
	       "root sees the page-aligned physical address %#llx",
	       (unsigned long long)a.phys_addr);
	tap_ok(a.out_node == nodes[0].node, "placed on node %u", a.out_node);
	tap_ok(node_free(nodes[0].node) == before - a.granted,
	       "STATS free bytes drop by the granted size");
	p = co_mmap(fd, &a);
	tap_ok(p != NULL, "mmap the buffer");
	if (p) {
		for (i = 0; i < a.granted && !p[i]; i++)
			;
		tap_ok(i == a.granted, "a new buffer reads as zeros");
		memset(p, 0x5a, a.granted);
		munmap(p, a.granted);
	}
	tap_ok(co_free(fd, a.handle) == 0, "FREE");
	tap_errno(co_free(fd, a.handle), ENOENT, "FREE of a freed handle");
	tap_errno(co_free(fd, 0), ENOENT, "FREE of handle 0");
	tap_ok(node_free(nodes[0].node) == before, "FREE gives the pages back");

	/* Reuse: the same pages come back (lowest address first), zeroed. */
	tap_ok(co_alloc(fd, 3 * 4096 + 1, CARVEOUT_POLICY_STRICT,
			nodes[0].node, 0, &b) == 0, "ALLOC again");
	tap_diag("reused pages: %s", b.phys_addr == a.phys_addr ? "yes" : "no");
	p = co_mmap(fd, &b);
	if (tap_ok(p != NULL, "mmap the new buffer")) {
		for (i = 0; i < b.granted && !p[i]; i++)
			;
		tap_ok(i == b.granted, "reused memory is zeroed");
		munmap(p, b.granted);
	}
	co_free(fd, b.handle);

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.length = 4096;
	a.align = 2 << 20;
	tap_ok(ioctl(fd, CARVEOUT_IOC_ALLOC, &a) == 0 &&
	       (a.phys_addr & ((2 << 20) - 1)) == 0,
	       "2 MiB alignment honoured (%#llx)",
	       (unsigned long long)a.phys_addr);
	tap_ok(a.granted == 4096, "aligned 4 KiB buffer is granted 4 KiB");
	co_free(fd, a.handle);
}

/* A secret written by another process never reaches us. */
static void test_zero_across_processes(const struct carveout_node_info *nodes)
{
	struct carveout_alloc a;
	unsigned char *p;
	int status, found = 0;
	pid_t pid;
	size_t i;

	pid = fork();
	if (pid == 0) {
		int cfd = co_open();
		struct carveout_alloc c;
		unsigned char *q;

		if (cfd < 0 || co_alloc(cfd, 1 << 20, CARVEOUT_POLICY_STRICT,
					nodes[0].node, 0, &c))
			_exit(2);
		q = co_mmap(cfd, &c);
		if (!q)
			_exit(3);
		memset(q, 0xc3, c.granted);
		munmap(q, c.granted);
		co_free(cfd, c.handle);
		close(cfd);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "process A wrote a secret into 1 MiB and freed it");
	tap_ok(co_alloc(fd, 1 << 20, CARVEOUT_POLICY_STRICT, nodes[0].node, 0,
			&a) == 0, "process B allocates 1 MiB");
	p = co_mmap(fd, &a);
	if (tap_ok(p != NULL, "process B maps it")) {
		for (i = 0; i < a.granted; i++)
			found |= p[i];
		tap_ok(!found, "process B sees only zeros");
		munmap(p, a.granted);
	}
	co_free(fd, a.handle);
}

static void test_mmap_rules(void)
{
	struct carveout_alloc a;
	unsigned char *p, *q;
	struct iovec remote;
	char copy[64];
	int pfd[2];
	ssize_t n;
	void *m;

	tap_ok(co_alloc_simple(fd, 4 * 4096, &a) == 0, "ALLOC 4 pages for mmap");
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
		 a.mmap_offset);
	tap_ok(m == MAP_FAILED && errno == EINVAL, "a private mapping is refused");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	m = mmap(NULL, 5 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 a.mmap_offset);
	tap_ok(m == MAP_FAILED && errno == EINVAL, "a mapping past the end is refused");
	if (m != MAP_FAILED)
		munmap(m, 5 * 4096);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 a.mmap_offset + 4 * 4096);
	tap_ok(m == MAP_FAILED && errno == EINVAL,
	       "a mapping starting past the end is refused");
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 a.mmap_offset + (1ULL << 40) * 77);
	tap_ok(m == MAP_FAILED && errno == EINVAL,
	       "a mapping of an unknown handle is refused");

	p = co_mmap(fd, &a);
	tap_ok(p != NULL, "mmap all 4 pages");
	if (!p)
		return;
	memset(p, 0, 4 * 4096);
	p[2 * 4096] = 0x77;
	q = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, a.mmap_offset + 2 * 4096);
	tap_ok(q != MAP_FAILED && q[0] == 0x77,
	       "a mapping at a page offset sees the same page");
	if (q != MAP_FAILED)
		munmap(q, 4096);

	/* Partial munmap: the remaining pages stay mapped and intact. */
	p[0] = 1;
	p[3 * 4096] = 3;
	tap_ok(munmap(p + 4096, 4096) == 0, "unmap the second page only");
	tap_ok(p[0] == 1 && p[3 * 4096] == 3 && p[2 * 4096] == 0x77,
	       "the other pages keep their data");

	/*
	 * Real pages: get_user_pages() works on the mapping.  vmsplice()
	 * pins the user pages into a pipe; on a PFN map it fails (EFAULT).
	 */
	memset(p + 2 * 4096, 0x42, 64);
	remote.iov_base = p + 2 * 4096;
	remote.iov_len = sizeof(copy);
	if (pipe(pfd) == 0) {
		n = vmsplice(pfd[1], &remote, 1, 0);
		tap_ok(n == 64 && read(pfd[0], copy, 64) == 64 &&
		       copy[0] == 0x42 && copy[63] == 0x42,
		       "get_user_pages() works on the mapping (vmsplice: %zd)", n);
		close(pfd[0]);
		close(pfd[1]);
	} else {
		tap_ok(0, "pipe for the vmsplice check");
	}

	/* Contiguity: consecutive page frames matching phys_addr. */
	tap_ok(co_virt_to_pfn(p) == a.phys_addr >> 12 &&
	       co_virt_to_pfn(p + 3 * 4096) == (a.phys_addr >> 12) + 3,
	       "pagemap shows the buffer's physical frames");

	munmap(p, 4096);
	munmap(p + 2 * 4096, 2 * 4096);
	co_free(fd, a.handle);
}

static void test_subpage(void)
{
	struct carveout_alloc a, b;
	int fd2 = co_open();
	unsigned char *p;
	size_t i;

	tap_ok(co_alloc_simple(fd, 100, &a) == 0, "ALLOC 100 bytes");
	tap_ok(a.granted == 128, "100 bytes are granted 128 (got %llu)",
	       (unsigned long long)a.granted);
	tap_ok(a.phys_addr % 64 == 0 && a.page_offset % 64 == 0,
	       "sub-page buffers are cache-line aligned");
	p = co_mmap(fd, &a);
	if (tap_ok(p != NULL, "mmap a sub-page buffer")) {
		for (i = 0; i < a.granted && !p[i]; i++)
			;
		tap_ok(i == a.granted, "sub-page buffer is zeroed");
		tap_ok(co_virt_to_pfn(p) == a.phys_addr >> 12,
		       "sub-page mapping lands on its page");
		munmap(p - a.page_offset, 4096);
	}
	tap_ok(fd2 >= 0 && co_alloc_simple(fd2, 100, &b) == 0,
	       "another file allocates 100 bytes");
	tap_ok(b.phys_addr >> 12 != a.phys_addr >> 12,
	       "two files' sub-page buffers never share a page");
	co_free(fd, a.handle);
	close(fd2);

	tap_ok(co_alloc(fd, 100, CARVEOUT_POLICY_LOCAL, 0, CARVEOUT_ALLOC_PAGES,
			&a) == 0 && a.granted == 4096 && a.page_offset == 0,
	       "CARVEOUT_ALLOC_PAGES rounds a small buffer to a page");
	co_free(fd, a.handle);
}

/* At most one mapping a device may write; read-only mappings may overlap. */
static void test_one_writer(void)
{
	struct carveout_map m1, m2, m3;
	struct carveout_alloc a;

	tap_ok(co_alloc_simple(fd, 8192, &a) == 0, "ALLOC for overlapping MAPs");
	tap_ok(co_map(fd, a.handle, CO_EDU_PCI, CARVEOUT_DMA_BIDIRECTIONAL,
		      &m1) == 0, "MAP bidirectional");
	tap_errno(co_map(fd, a.handle, CO_EDU_PCI, CARVEOUT_DMA_FROM_DEVICE, &m2),
		  EBUSY, "a second device-writable MAP");
	tap_ok(co_map(fd, a.handle, CO_EDU_PCI, CARVEOUT_DMA_TO_DEVICE, &m3) == 0,
	       "a read-only MAP next to it");
	tap_ok(co_unmap(fd, a.handle, CO_EDU_PCI, m1.dma_addr) == 0,
	       "UNMAP the writable one");
	tap_ok(co_map(fd, a.handle, CO_EDU_PCI, CARVEOUT_DMA_FROM_DEVICE,
		      &m2) == 0, "now a device-writable MAP is possible again");
	tap_ok(co_free(fd, a.handle) == 0, "FREE removes both mappings");
}

static void test_foreign_handles(void)
{
	struct carveout_alloc a;
	struct carveout_map m;
	int fd2 = co_open();
	void *p;

	tap_ok(co_alloc_simple(fd, 8192, &a) == 0, "ALLOC in file 1");
	tap_errno(co_free(fd2, a.handle), ENOENT, "file 2 cannot FREE it");
	tap_errno(co_map(fd2, a.handle, CO_EDU_PCI, 0, &m), ENOENT,
		  "file 2 cannot MAP it");
	p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd2, a.mmap_offset);
	tap_ok(p == MAP_FAILED && errno == EINVAL, "file 2 cannot mmap it");
	close(fd2);
	tap_ok(co_free(fd, a.handle) == 0, "file 1 still owns it");
}

static void test_other_ioctls(void)
{
	struct carveout_export e;
	struct carveout_stats s;
	struct carveout_sync y;
	struct carveout_alloc a;

	tap_errno(co_stats(fd, 63, &s), ENODEV, "STATS of a node without a region");
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.flags = 1;
	tap_errno(ioctl(fd, CARVEOUT_IOC_STATS, &s), EINVAL, "STATS with flags");
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.free_blocks[3] = 1;
	tap_errno(ioctl(fd, CARVEOUT_IOC_STATS, &s), EINVAL,
		  "STATS with a non-zero output field");

	co_alloc_simple(fd, 8192, &a);
	memset(&y, 0, sizeof(y));
	y.size = sizeof(y);
	y.handle = a.handle;
	y.flags = CARVEOUT_SYNC_FOR_CPU;
	tap_errno(ioctl(fd, CARVEOUT_IOC_SYNC, &y), ENOENT,
		  "SYNC of a buffer without DMA mappings");
	y.flags = CARVEOUT_SYNC_FOR_CPU | CARVEOUT_SYNC_FOR_DEVICE;
	tap_errno(ioctl(fd, CARVEOUT_IOC_SYNC, &y), EINVAL, "SYNC with both flags");
	y.flags = CARVEOUT_SYNC_FOR_DEVICE;
	y.offset = 4096;
	y.length = 8192;
	tap_errno(ioctl(fd, CARVEOUT_IOC_SYNC, &y), EINVAL, "SYNC past the end");
	y.offset = 0;
	y.length = 0;
	y.direction = 7;
	tap_errno(ioctl(fd, CARVEOUT_IOC_SYNC, &y), EINVAL,
		  "SYNC with a bad direction");

	memset(&e, 0, sizeof(e));
	e.size = sizeof(e);
	e.handle = a.handle;
	e.flags = 0x100;
	tap_errno(ioctl(fd, CARVEOUT_IOC_EXPORT, &e), EINVAL,
		  "EXPORT with a bad flag");
	e.flags = O_RDWR;
	e.fd = 3;
	tap_errno(ioctl(fd, CARVEOUT_IOC_EXPORT, &e), EINVAL,
		  "EXPORT with a non-zero fd field");
	e.fd = 0;
	e.handle = 9999;
	tap_errno(ioctl(fd, CARVEOUT_IOC_EXPORT, &e), ENOENT,
		  "EXPORT of an unknown handle");
	co_free(fd, a.handle);
}

/* Bytes a file (or, @user, its user) holds, from INFO. */
static uint64_t held(int f, int user)
{
	struct carveout_info in;

	memset(&in, 0, sizeof(in));
	in.size = sizeof(in);
	if (ioctl(f, CARVEOUT_IOC_INFO, &in))
		return ~0ULL;
	return user ? in.user_bytes : in.file_bytes;
}

/*
 * fd holds the page of the sub-page cache test_subpage() used (a file
 * keeps an empty slab): the file limit is tried on a new file, and the
 * user limit is set from what the user holds now.
 */
static void test_limits(void)
{
	struct carveout_alloc a, b, c;
	int fd2 = co_open(), fd3 = co_open();
	uint64_t mine = held(fd, 0), user;

	tap_ok(mine >= 4096 && mine != ~0ULL,
	       "fd still holds its sub-page cache's page (%llu bytes)",
	       (unsigned long long)mine);
	tap_ok(co_set_param("file_limit", mine) == 0,
	       "set file_limit to what fd holds");
	tap_errno(co_alloc_simple(fd, 4096, &b), EDQUOT,
		  "the cache's pages count: no page left for fd");
	tap_ok(co_set_param("file_limit", 1 << 20) == 0, "set file_limit to 1 MiB");
	tap_ok(held(fd3, 0) == 0 && co_alloc_simple(fd3, 1 << 20, &a) == 0,
	       "1 MiB fits the file limit of a new file");
	tap_errno(co_alloc_simple(fd3, 4096, &b), EDQUOT,
		  "one more page exceeds the file limit");
	tap_ok(co_alloc_simple(fd2, 4096, &b) == 0,
	       "another file has its own limit");
	co_set_param("file_limit", 0);

	user = held(fd2, 1);
	tap_ok(user >= (1 << 20) + 4096 + mine &&
	       co_set_param("user_limit", user + 4096) == 0,
	       "set user_limit to what the user holds (%llu) + 1 page",
	       (unsigned long long)user);
	tap_ok(co_alloc_simple(fd2, 4096, &c) == 0,
	       "the user may still take a page");
	tap_errno(co_alloc_simple(fd2, 4096, &c), EDQUOT,
		  "the user limit counts every file of the user");
	co_set_param("user_limit", 0);
	co_free(fd3, a.handle);
	close(fd2);
	close(fd3);
	tap_ok(co_alloc_simple(fd, 4096, &a) == 0, "limits lifted again");
	co_free(fd, a.handle);
}

static void test_cache_modes(void)
{
	static const uint32_t modes[] = { CARVEOUT_ALLOC_WC,
					  CARVEOUT_ALLOC_UNCACHED };
	static const char *const names[] = { "write-combine", "uncached" };
	struct carveout_alloc a;
	volatile unsigned char *p;
	int i, ok;

	for (i = 0; i < 2; i++) {
		ok = co_alloc(fd, 100, CARVEOUT_POLICY_LOCAL, 0, modes[i], &a) == 0;
		tap_ok(ok && a.granted == 4096,
		       "%s buffer is whole pages", names[i]);
		if (!ok)
			continue;
		p = co_mmap(fd, &a);
		if (tap_ok(p != NULL, "mmap a %s buffer", names[i])) {
			p[0] = 0x11;
			p[4095] = 0x22;
			tap_ok(p[0] == 0x11 && p[4095] == 0x22 && p[100] == 0,
			       "%s mapping reads back", names[i]);
			munmap((void *)p, 4096);
		}
		tap_ok(co_free(fd, a.handle) == 0, "FREE a %s buffer", names[i]);
	}
}

int main(void)
{
	struct carveout_node_info nodes[16];
	int nr = 0;

	tap_plan_begin("carveout ALLOC/FREE/mmap/limits");
	fd = co_open();
	if (fd < 0)
		tap_bail("cannot open %s: %s", CO_DEV, strerror(errno));
	memset(nodes, 0, sizeof(nodes));
	test_info(nodes, &nr);
	if (!nr)
		tap_bail("no node with a region");
	test_alloc_errors(nodes);
	test_alloc_basic(nodes);
	test_zero_across_processes(nodes);
	test_mmap_rules();
	test_subpage();
	test_foreign_handles();
	test_one_writer();
	test_other_ioctls();
	test_limits();
	test_cache_modes();
	close(fd);
	return tap_finish();
}
