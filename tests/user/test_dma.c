// SPDX-License-Identifier: GPL-2.0
/*
 * Real DMA through the IOMMU with QEMU's edu device.
 *
 * carveout_edu (tests/edu) binds edu with its 28-bit DMA mask and bus
 * mastering on.  This test drives edu's DMA engine itself, through the
 * sysfs resource0 mapping of BAR0, with the addresses carveout's MAP
 * returns, and checks that:
 *  (a) bytes really move RAM -> edu -> RAM through IOVAs (!= physical,
 *      inside the mask) for page and sub-page buffers, and nothing else is
 *      written;
 *  (b) after UNMAP the old IOVA, and an IOVA never mapped, no longer reach
 *      the memory (the IOMMU blocks the writes and reports DMAR faults);
 *  (c) an exported dma-buf is imported by another driver (carveout_edu),
 *      its bytes are seen through both the carveout and the dma-buf
 *      mappings, and it outlives /dev/carveout;
 *  (d) a mapped buffer is physically contiguous (pagemap);
 *  (e) MAP/UNMAP/SYNC fail as documented on bad devices, handles,
 *      addresses and directions.
 * The DMAR fault lines (b) makes the kernel print are expected.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/carveout.h>

#include "co_edu.h"
#include "co_test.h"
#include "tap.h"

#define EDU_SYSFS	"/sys/bus/pci/devices/" CO_EDU_PCI
#define EDU_EDU_DEV	"/dev/carveout-edu"
#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8

/* edu masks bus addresses to 28 bits; carveout_edu sets that mask. */
#define EDU_DMA_MASK	((1ULL << 28) - 1)
#define EDU_TIMEOUT_US	5000000
/*
 * Longest transfer, and end of the usable part of edu's buffer: QEMU 7.2's
 * edu_check_range() wants the end of a transfer strictly inside the buffer
 * (a transfer ending at 0x41000 is a hw_error that kills the VM), so the
 * last byte of the 4 KiB buffer is never used.
 */
#define EDU_XFER_MAX	(CO_EDU_BUF_SIZE - 1)

#define KIB		1024UL
#define MIB		(1024UL * KIB)

static volatile uint8_t *edu_bar;
static size_t edu_bar_len;
static long page_size;

/* A buffer and its carveout mapping. */
struct cobuf {
	struct carveout_alloc a;
	uint8_t *p;
	void *map;
	size_t maplen;
};

static uint64_t rng_state;

static uint8_t rng_byte(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint8_t)(rng_state >> 24);
}

static void fill_random(uint8_t *p, size_t len, uint64_t seed)
{
	size_t i;

	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	for (i = 0; i < len; i++)
		p[i] = rng_byte();
}

static void edu_w64(unsigned int reg, uint64_t v)
{
	*(volatile uint64_t *)(edu_bar + reg) = v;
}

static uint64_t edu_r64(unsigned int reg)
{
	return *(volatile uint64_t *)(edu_bar + reg);
}

static uint32_t edu_r32(unsigned int reg)
{
	return *(volatile uint32_t *)(edu_bar + reg);
}

/* Waits until edu's DMA engine is idle; 0, or -1 on timeout. */
static int edu_wait_idle(void)
{
	long waited;

	for (waited = 0; waited < EDU_TIMEOUT_US; waited += 2000) {
		if (!(edu_r64(EDU_REG_CMD) & EDU_CMD_RUN))
			return 0;
		usleep(2000);
	}
	return -1;
}

/*
 * One edu DMA between bus address @bus and edu's buffer at @edu_off.
 * @to_ram: edu buffer -> RAM, else RAM -> edu buffer.  The edu side is
 * checked before the device is touched: QEMU aborts the VM on a range
 * outside edu's buffer.  Returns 0 when the engine finished.
 */
static int edu_dma(uint64_t bus, uint32_t edu_off, uint32_t len, int to_ram)
{
	uint64_t edu_addr = CO_EDU_BUF_ADDR + edu_off;

	if (!len || edu_off >= EDU_XFER_MAX ||
	    len > EDU_XFER_MAX - edu_off || bus > EDU_DMA_MASK ||
	    len - 1 > EDU_DMA_MASK - bus)
		tap_bail("internal: edu transfer out of range (bus %#llx edu_off %u len %u)",
			 (unsigned long long)bus, edu_off, len);
	if (edu_wait_idle())
		return -1;
	if (to_ram) {
		edu_w64(EDU_REG_SRC, edu_addr);
		edu_w64(EDU_REG_DST, bus);
	} else {
		edu_w64(EDU_REG_SRC, bus);
		edu_w64(EDU_REG_DST, edu_addr);
	}
	edu_w64(EDU_REG_CNT, len);
	__sync_synchronize();
	edu_w64(EDU_REG_CMD, EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0));
	if (edu_wait_idle())
		return -1;
	__sync_synchronize();
	return 0;
}

static int co_sync(int fd, uint32_t handle, uint32_t flags, uint32_t dir,
		   uint64_t off, uint64_t len, uint64_t dma_addr)
{
	struct carveout_sync s;

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.flags = flags;
	s.handle = handle;
	s.direction = dir;
	s.offset = off;
	s.length = len;
	s.dma_addr = dma_addr;
	return ioctl(fd, CARVEOUT_IOC_SYNC, &s);
}

static int buf_alloc(int fd, uint64_t len, uint32_t flags, struct cobuf *b)
{
	memset(b, 0, sizeof(*b));
	if (co_alloc(fd, len, CARVEOUT_POLICY_LOCAL, 0, flags, &b->a))
		return -1;
	b->maplen = (b->a.page_offset + b->a.granted + page_size - 1) &
		    ~(page_size - 1);
	b->p = co_mmap(fd, &b->a);
	if (!b->p) {
		co_free(fd, b->a.handle);
		return -1;
	}
	b->map = b->p - b->a.page_offset;
	return 0;
}

static void buf_unmap(struct cobuf *b)
{
	if (b->map)
		munmap(b->map, b->maplen);
	b->map = NULL;
	b->p = NULL;
}

/* Live buffers on every node, from STATS (-1 on error). */
static long long live_buffers(int fd)
{
	struct carveout_node_info nodes[64];
	struct carveout_stats s;
	long long sum = 0;
	int n, i;

	n = co_nodes(fd, nodes, 64);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (co_stats(fd, nodes[i].node, &s))
			return -1;
		sum += s.nr_buffers;
	}
	return sum;
}

static int read_sysfs_hex(const char *path, unsigned long *v)
{
	char line[64];
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	*v = strtoul(line, NULL, 0);
	return 0;
}

/* Opens edu's BAR0 through sysfs; bails out when it is missing. */
static void edu_open_bar(void)
{
	unsigned long vendor = 0, device = 0;
	struct stat st;
	void *p;
	int fd;

	if (read_sysfs_hex(EDU_SYSFS "/vendor", &vendor) ||
	    read_sysfs_hex(EDU_SYSFS "/device", &device))
		tap_bail("no PCI device %s: the VM must have QEMU's edu device", CO_EDU_PCI);
	if (!tap_ok(vendor == EDU_VENDOR && device == EDU_DEVICE,
		    "%s is edu (%04lx:%04lx)", CO_EDU_PCI, vendor, device))
		tap_bail("%s is not edu: refusing to program it", CO_EDU_PCI);
	fd = open(EDU_SYSFS "/resource0", O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		tap_bail("cannot open %s/resource0: %s", EDU_SYSFS, strerror(errno));
	if (fstat(fd, &st) || st.st_size < EDU_REG_CMD + 8)
		tap_bail("resource0 of %s has no usable size", CO_EDU_PCI);
	edu_bar_len = st.st_size;
	p = mmap(NULL, edu_bar_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		tap_bail("cannot mmap %s/resource0: %s", EDU_SYSFS, strerror(errno));
	edu_bar = p;
	tap_ok((edu_r32(EDU_REG_ID) & 0xff) == 0xed,
	       "edu identification register through resource0 (%#x)",
	       edu_r32(EDU_REG_ID));
	tap_ok(edu_wait_idle() == 0, "edu DMA engine is idle");
}

/*
 * Copies @len bytes of @b at @src to @b at @dst through edu's buffer at
 * @edu_off, with the mapping at @iova (direction @dir); checks the bytes.
 */
static void dma_case(int fd, struct cobuf *b, uint64_t iova, uint32_t dir,
		     uint64_t src, uint64_t dst, uint32_t len, uint32_t edu_off,
		     uint64_t seed)
{
	size_t n = b->a.granted;
	uint8_t *before = malloc(n);
	int r1, r2, s1, s2, differed, outside_ok;
	size_t i;

	if (!before)
		tap_bail("out of memory");
	fill_random(b->p + src, len, seed);
	/* The destination holds the complement: every byte must change. */
	for (i = 0; i < len; i++)
		b->p[dst + i] = (uint8_t)~b->p[src + i];
	differed = memcmp(b->p + dst, b->p + src, len) != 0;
	memcpy(before, b->p, n);

	s1 = co_sync(fd, b->a.handle, CARVEOUT_SYNC_FOR_DEVICE, dir, 0, 0, iova);
	r1 = edu_dma(iova + src, edu_off, len, 0);
	r2 = edu_dma(iova + dst, edu_off, len, 1);
	s2 = co_sync(fd, b->a.handle, CARVEOUT_SYNC_FOR_CPU, dir, dst, len, iova);

	tap_ok(s1 == 0 && s2 == 0, "%u B @%#llx: SYNC for_device, for_cpu (%d, %d)",
	       len, (unsigned long long)src, s1, s2);
	tap_ok(r1 == 0 && r2 == 0,
	       "%u B: edu RAM@%#llx -> edu+%#x -> RAM@%#llx completes",
	       len, (unsigned long long)(iova + src), edu_off,
	       (unsigned long long)(iova + dst));
	tap_ok(differed && memcmp(b->p + dst, b->p + src, len) == 0,
	       "%u B: buffer[%#llx..+%u) now holds the bytes of buffer[%#llx..) (differed before)",
	       len, (unsigned long long)dst, len, (unsigned long long)src);
	outside_ok = memcmp(b->p, before, dst) == 0 &&
		     memcmp(b->p + dst + len, before + dst + len, n - dst - len) == 0;
	tap_ok(outside_ok, "%u B: no byte outside the destination changed", len);
	free(before);
}

/* /dev/kmsg positioned at its end, to find the DMAR faults we cause. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Scans new kernel messages for DMAR faults; sets bit i of the result when
 * a fault names the page of @addrs[i].  Waits up to about 2 s.
 */
static unsigned int kmsg_dmar_faults(int fd, const uint64_t *addrs, int n)
{
	unsigned int found = 0, all = (1U << n) - 1;
	char rec[8192];
	int tries, i;
	ssize_t len;

	for (tries = 0; tries < 200 && found != all; tries++) {
		for (;;) {
			const char *p;
			uint64_t fa;

			len = read(fd, rec, sizeof(rec) - 1);
			if (len < 0 && errno == EPIPE)
				continue;
			if (len <= 0)
				break;
			rec[len] = 0;
			if (!strstr(rec, "DMAR"))
				continue;
			p = strstr(rec, "fault addr ");
			if (!p)
				continue;
			fa = strtoull(p + strlen("fault addr "), NULL, 16);
			for (i = 0; i < n; i++)
				if ((fa & ~0xfffULL) == (addrs[i] & ~0xfffULL))
					found |= 1U << i;
		}
		if (found != all)
			usleep(10000);
	}
	return found;
}

/* (a) and (b): MAP, DMA from userspace, UNMAP, blocked DMA. */
static void test_map_dma(int fd)
{
	struct cobuf b, small, src;
	struct carveout_map m, ms, mx;
	uint64_t iova, never, faults[2];
	uint8_t *snap, *snap_src;
	unsigned int found;
	int ret, kfd;
	size_t i;

	/* (a) a 64 KiB page buffer. */
	if (!tap_ok(buf_alloc(fd, 64 * KIB, 0, &b) == 0, "ALLOC+mmap 64 KiB"))
		tap_bail("cannot allocate: %s", strerror(errno));
	tap_ok(b.a.phys_addr != 0, "root sees the physical address (%#llx)",
	       (unsigned long long)b.a.phys_addr);
	ret = co_map(fd, b.a.handle, CO_EDU_PCI, CARVEOUT_DMA_BIDIRECTIONAL, &m);
	if (!tap_ok(ret == 0, "MAP 64 KiB to %s bidirectional (%s)", CO_EDU_PCI,
		    ret ? strerror(errno) : "ok"))
		tap_bail("cannot map for edu");
	iova = m.dma_addr;
	tap_diag("64 KiB buffer: phys %#llx iova %#llx mask %#llx",
		 (unsigned long long)b.a.phys_addr, (unsigned long long)iova,
		 (unsigned long long)m.dma_mask);
	tap_ok(m.dma_mask == EDU_DMA_MASK, "MAP reports edu's 28-bit DMA mask (%#llx)",
	       (unsigned long long)m.dma_mask);
	tap_ok(iova != b.a.phys_addr, "dma_addr %#llx is an IOVA, not the physical address %#llx",
	       (unsigned long long)iova, (unsigned long long)b.a.phys_addr);
	tap_ok(iova + b.a.granted - 1 <= EDU_DMA_MASK && iova + b.a.granted > iova,
	       "the whole mapping lies below 2^28");
	tap_ok((iova & (page_size - 1)) == (b.a.phys_addr & (page_size - 1)),
	       "IOVA keeps the in-page offset");

	dma_case(fd, &b, iova, CARVEOUT_DMA_BIDIRECTIONAL, 0, 32 * KIB, EDU_XFER_MAX, 0, 1);
	dma_case(fd, &b, iova, CARVEOUT_DMA_BIDIRECTIONAL, 4096 + 7, 8192 - 300,
		 1000, 3000, 2);
	dma_case(fd, &b, iova, CARVEOUT_DMA_BIDIRECTIONAL,
		 b.a.granted - EDU_XFER_MAX, 12 * KIB + 1, EDU_XFER_MAX, 0, 3);
	dma_case(fd, &b, iova, CARVEOUT_DMA_BIDIRECTIONAL, 100, 50000, 1,
		 EDU_XFER_MAX - 1, 4);

	/* A sub-page buffer (slab object inside a page). */
	if (!tap_ok(buf_alloc(fd, 256, 0, &small) == 0, "ALLOC+mmap 256 B")) {
		tap_bail("cannot allocate 256 B: %s", strerror(errno));
	}
	tap_diag("256 B buffer: granted %llu, page offset %u",
		 (unsigned long long)small.a.granted, small.a.page_offset);
	ret = co_map(fd, small.a.handle, CO_EDU_PCI, CARVEOUT_DMA_BIDIRECTIONAL, &ms);
	tap_ok(ret == 0, "MAP 256 B (%s)", ret ? strerror(errno) : "ok");
	if (ret == 0) {
		tap_ok(ms.dma_addr != small.a.phys_addr &&
		       ms.dma_addr + small.a.granted - 1 <= EDU_DMA_MASK,
		       "256 B: IOVA %#llx != phys %#llx, below 2^28",
		       (unsigned long long)ms.dma_addr,
		       (unsigned long long)small.a.phys_addr);
		tap_ok((ms.dma_addr & (page_size - 1)) ==
		       (small.a.phys_addr & (page_size - 1)),
		       "256 B: IOVA keeps the object's offset in its page (%#llx)",
		       (unsigned long long)(ms.dma_addr & (page_size - 1)));
		dma_case(fd, &small, ms.dma_addr, CARVEOUT_DMA_BIDIRECTIONAL, 0,
			 128, 128, 64, 5);
		ret = co_unmap(fd, small.a.handle, CO_EDU_PCI, ms.dma_addr);
		tap_ok(ret == 0, "UNMAP 256 B");
	}

	/*
	 * (b) Load edu with known bytes through a second mapped buffer and
	 * read them back, so a write to a dead IOVA would change something.
	 */
	if (!tap_ok(buf_alloc(fd, 8 * KIB, 0, &src) == 0, "ALLOC+mmap 8 KiB source"))
		tap_bail("cannot allocate: %s", strerror(errno));
	ret = co_map(fd, src.a.handle, CO_EDU_PCI, CARVEOUT_DMA_BIDIRECTIONAL, &mx);
	if (!tap_ok(ret == 0, "MAP 8 KiB source"))
		tap_bail("cannot map for edu");
	dma_case(fd, &src, mx.dma_addr, CARVEOUT_DMA_BIDIRECTIONAL, 0, 4096, EDU_XFER_MAX,
		 0, 6);

	snap = malloc(b.a.granted);
	snap_src = malloc(src.a.granted);
	if (!snap || !snap_src)
		tap_bail("out of memory");
	/* edu's bytes must differ from what the target holds. */
	tap_ok(memcmp(b.p, src.p, EDU_XFER_MAX) != 0,
	       "edu holds bytes different from the target buffer's");

	ret = co_unmap(fd, b.a.handle, CO_EDU_PCI, iova);
	tap_ok(ret == 0, "UNMAP the 64 KiB mapping (%s)", ret ? strerror(errno) : "ok");
	tap_errno(co_sync(fd, b.a.handle, CARVEOUT_SYNC_FOR_CPU,
			  CARVEOUT_DMA_BIDIRECTIONAL, 0, 0, iova),
		  ENOENT, "SYNC on the removed mapping");
	/* Lazy IOTLB flushing completes within milliseconds; give it time. */
	usleep(200000);
	memcpy(snap, b.p, b.a.granted);
	memcpy(snap_src, src.p, src.a.granted);

	kfd = kmsg_open();
	ret = edu_dma(iova, 0, EDU_XFER_MAX, 1);
	tap_ok(ret == 0, "edu -> old IOVA %#llx: engine finishes",
	       (unsigned long long)iova);
	tap_ok(memcmp(b.p, snap, b.a.granted) == 0,
	       "write to the unmapped IOVA did not reach the buffer");

	/* An IOVA never handed out: well below everything allocated. */
	never = ((iova < mx.dma_addr ? iova : mx.dma_addr) / 2) & ~(uint64_t)(page_size - 1);
	if (never == 0)
		never = page_size;
	ret = edu_dma(never, 0, EDU_XFER_MAX, 1);
	tap_ok(ret == 0, "edu -> never-mapped IOVA %#llx: engine finishes",
	       (unsigned long long)never);
	tap_ok(memcmp(b.p, snap, b.a.granted) == 0 &&
	       memcmp(src.p, snap_src, src.a.granted) == 0,
	       "write to the never-mapped IOVA changed no buffer");

	if (kfd >= 0) {
		faults[0] = iova;
		faults[1] = never;
		found = kmsg_dmar_faults(kfd, faults, 2);
		tap_ok(found & 1, "the IOMMU reported a DMAR fault at the old IOVA");
		tap_ok(found & 2, "the IOMMU reported a DMAR fault at the never-mapped IOVA");
		close(kfd);
	} else {
		tap_skip("no /dev/kmsg", "DMAR fault at the old IOVA");
		tap_skip("no /dev/kmsg", "DMAR fault at the never-mapped IOVA");
	}

	/* edu still works, and really held different bytes. */
	for (i = 0; i < EDU_XFER_MAX; i++)
		src.p[4096 + i] = (uint8_t)~src.p[i];
	ret = co_sync(fd, src.a.handle, CARVEOUT_SYNC_FOR_DEVICE,
		      CARVEOUT_DMA_BIDIRECTIONAL, 0, 0, mx.dma_addr);
	ret |= edu_dma(mx.dma_addr + 4096, 0, EDU_XFER_MAX, 1);
	ret |= co_sync(fd, src.a.handle, CARVEOUT_SYNC_FOR_CPU,
		       CARVEOUT_DMA_BIDIRECTIONAL, 0, 0, mx.dma_addr);
	tap_ok(ret == 0 && memcmp(src.p + 4096, src.p, EDU_XFER_MAX) == 0 &&
	       memcmp(src.p, snap, EDU_XFER_MAX) != 0,
	       "edu still works after the faults and held the blocked bytes");

	tap_ok(co_unmap(fd, src.a.handle, CO_EDU_PCI, mx.dma_addr) == 0,
	       "UNMAP the source");
	free(snap);
	free(snap_src);
	buf_unmap(&b);
	buf_unmap(&small);
	buf_unmap(&src);
	tap_ok(co_free(fd, b.a.handle) == 0 && co_free(fd, small.a.handle) == 0 &&
	       co_free(fd, src.a.handle) == 0, "FREE the buffers");
}

/* (d) Contiguity through pagemap, and DMA at the far end of the mapping. */
static void test_contig(int fd)
{
	struct cobuf b;
	struct carveout_map m;
	uint64_t pfn0, pfn, npages, i, bad = 0;
	int ret;

	if (!tap_ok(buf_alloc(fd, 2 * MIB, 0, &b) == 0, "ALLOC+mmap 2 MiB")) {
		tap_diag("cannot allocate 2 MiB: %s", strerror(errno));
		return;
	}
	npages = b.a.granted / page_size;
	pfn0 = co_virt_to_pfn(b.p);
	tap_ok(pfn0 != 0 && pfn0 == b.a.phys_addr / page_size,
	       "pagemap: first PFN %#llx is phys_addr >> page shift (%#llx)",
	       (unsigned long long)pfn0,
	       (unsigned long long)(b.a.phys_addr / page_size));
	for (i = 1; i < npages; i++) {
		pfn = co_virt_to_pfn(b.p + i * page_size);
		if (pfn != pfn0 + i) {
			if (!bad)
				tap_diag("page %llu: PFN %#llx, want %#llx",
					 (unsigned long long)i,
					 (unsigned long long)pfn,
					 (unsigned long long)(pfn0 + i));
			bad++;
		}
	}
	tap_ok(pfn0 != 0 && bad == 0, "pagemap: all %llu PFNs are consecutive (%llu off)",
	       (unsigned long long)npages, (unsigned long long)bad);

	ret = co_map(fd, b.a.handle, CO_EDU_PCI, CARVEOUT_DMA_BIDIRECTIONAL, &m);
	if (tap_ok(ret == 0 && m.dma_addr != b.a.phys_addr &&
		   m.dma_addr + b.a.granted - 1 <= EDU_DMA_MASK,
		   "MAP 2 MiB: IOVA %#llx below 2^28", (unsigned long long)m.dma_addr)) {
		dma_case(fd, &b, m.dma_addr, CARVEOUT_DMA_BIDIRECTIONAL, 0,
			 b.a.granted - EDU_XFER_MAX, EDU_XFER_MAX, 0, 7);
		tap_ok(co_unmap(fd, b.a.handle, CO_EDU_PCI, m.dma_addr) == 0,
		       "UNMAP 2 MiB");
	}
	buf_unmap(&b);
	tap_ok(co_free(fd, b.a.handle) == 0, "FREE 2 MiB");
}

/* (e) Error paths. */
static void test_errors(int fd)
{
	char noname[CARVEOUT_DEV_NAME_LEN], path[256];
	struct carveout_alloc a;
	struct carveout_map m;
	struct stat st;
	uint64_t addr;
	int ret, i;

	/* A PCI name no device has (checked in sysfs). */
	for (i = 0x1f; i >= 0; i--) {
		snprintf(noname, sizeof(noname), "0000:fe:%02x.7", i);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", noname);
		if (stat(path, &st) != 0) {
			snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s", noname);
			if (stat(path, &st) != 0)
				break;
		}
	}
	ret = co_alloc_simple(fd, 4096, &a);
	if (!tap_ok(ret == 0, "ALLOC 4 KiB"))
		return;
	ret = co_map(fd, a.handle, noname, CARVEOUT_DMA_BIDIRECTIONAL, &m);
	tap_errno(ret, ENODEV, "MAP to a device that does not exist");

	ret = co_map(fd, a.handle, CO_EDU_PCI, CARVEOUT_DMA_TO_DEVICE, &m);
	if (tap_ok(ret == 0, "MAP TO_DEVICE")) {
		addr = m.dma_addr;
		ret = co_unmap(fd, a.handle, CO_EDU_PCI, addr + page_size);
		tap_errno(ret, ENOENT, "UNMAP of an address never mapped");
		ret = co_sync(fd, a.handle, CARVEOUT_SYNC_FOR_CPU,
			      CARVEOUT_DMA_FROM_DEVICE, 0, 0, addr);
		tap_errno(ret, EINVAL, "SYNC FROM_DEVICE on a TO_DEVICE mapping");
		ret = co_sync(fd, a.handle, CARVEOUT_SYNC_FOR_DEVICE,
			      CARVEOUT_DMA_TO_DEVICE, 0, 0, addr);
		tap_ok(ret == 0, "SYNC TO_DEVICE on that mapping works");
		tap_ok(co_unmap(fd, a.handle, CO_EDU_PCI, addr) == 0,
		       "UNMAP of the real address works");
		tap_errno(co_unmap(fd, a.handle, CO_EDU_PCI, addr), ENOENT,
			  "second UNMAP of the same address");
	}
	tap_ok(co_free(fd, a.handle) == 0, "FREE 4 KiB");
	ret = co_map(fd, a.handle, CO_EDU_PCI, CARVEOUT_DMA_BIDIRECTIONAL, &m);
	tap_errno(ret, ENOENT, "MAP of a freed handle");
}

static int dmabuf_sync(int dfd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(dfd, DMA_BUF_IOCTL_SYNC, &s);
}

static int edu_xfer(int efd, int dfd, uint32_t dir, uint64_t off,
		    uint32_t len, uint32_t edu_off, uint64_t *dma_addr)
{
	struct co_edu_xfer x;
	int ret;

	memset(&x, 0, sizeof(x));
	x.fd = dfd;
	x.dir = dir;
	x.offset = off;
	x.len = len;
	x.edu_off = edu_off;
	ret = ioctl(efd, CO_EDU_IOC_XFER, &x);
	if (dma_addr)
		*dma_addr = x.dma_addr;
	return ret;
}

/* (c) dma-buf imported by carveout_edu; lifetime beyond /dev/carveout. */
static void test_dmabuf(int fd, int efd)
{
	uint8_t pat[4096], pat2[4096], edu_now[4096];
	uint64_t a1 = 0, a2 = 0, phys;
	long long base, live;
	struct cobuf b;
	int dfd, ret, sfd, r1, r2, s1, s2;
	uint8_t *dm;
	off_t dsize;

	sfd = co_open();
	if (!tap_ok(sfd >= 0, "second /dev/carveout for STATS"))
		return;
	base = live_buffers(sfd);

	if (!tap_ok(buf_alloc(fd, 64 * KIB, 0, &b) == 0, "ALLOC+mmap 64 KiB to export")) {
		close(sfd);
		return;
	}
	phys = b.a.phys_addr;
	fill_random(pat, sizeof(pat), 8);
	memcpy(b.p, pat, sizeof(pat));

	ret = co_export(fd, b.a.handle, &dfd);
	if (!tap_ok(ret == 0 && dfd >= 0, "EXPORT O_RDWR|O_CLOEXEC (%s)",
		    ret ? strerror(errno) : "ok"))
		tap_bail("cannot export");
	tap_ok(fcntl(dfd, F_GETFD) & FD_CLOEXEC, "dma-buf fd is close-on-exec");
	dsize = lseek(dfd, 0, SEEK_END);
	tap_ok(dsize == (off_t)b.a.granted, "dma-buf size %lld is the buffer's %llu",
	       (long long)dsize, (unsigned long long)b.a.granted);
	dm = mmap(NULL, b.a.granted, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	if (!tap_ok(dm != MAP_FAILED, "mmap the dma-buf (%s)",
		    dm == MAP_FAILED ? strerror(errno) : "ok"))
		tap_bail("cannot mmap the dma-buf");

	/* buffer[0..) -> edu -> buffer[20 KiB + 256 ..). */
	r1 = edu_xfer(efd, dfd, CO_EDU_TO_DEVICE, 0, EDU_XFER_MAX, 0, &a1);
	tap_ok(r1 == 0, "carveout_edu imports the dma-buf: buffer -> edu (%s)",
	       r1 ? strerror(errno) : "ok");
	tap_ok(r1 == 0 && a1 != phys && a1 + EDU_XFER_MAX - 1 <= EDU_DMA_MASK,
	       "importer's dma_addr %#llx is an IOVA (phys %#llx) below 2^28",
	       (unsigned long long)a1, (unsigned long long)phys);
	r2 = edu_xfer(efd, dfd, CO_EDU_FROM_DEVICE, 20 * KIB + 256, EDU_XFER_MAX, 0, &a2);
	tap_ok(r2 == 0 && a2 != phys + 20 * KIB + 256 && a2 + EDU_XFER_MAX - 1 <= EDU_DMA_MASK,
	       "edu -> buffer at +20.25 KiB through the dma-buf (IOVA %#llx)",
	       (unsigned long long)a2);
	tap_ok(memcmp(b.p + 20 * KIB + 256, pat, EDU_XFER_MAX) == 0,
	       "bytes arrived, seen through the carveout mapping");
	s1 = dmabuf_sync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	ret = memcmp(dm + 20 * KIB + 256, pat, EDU_XFER_MAX);
	s2 = dmabuf_sync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	tap_ok(s1 == 0 && s2 == 0, "DMA_BUF_IOCTL_SYNC start/end read");
	tap_ok(ret == 0, "bytes arrived, seen through the dma-buf mapping");

	/* CPU writes through the dma-buf mapping, edu moves them. */
	fill_random(pat2, sizeof(pat2), 9);
	s1 = dmabuf_sync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	memcpy(dm + 40 * KIB, pat2, 2048);
	s2 = dmabuf_sync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	tap_ok(s1 == 0 && s2 == 0, "DMA_BUF_IOCTL_SYNC start/end write");
	tap_ok(memcmp(b.p + 40 * KIB, pat2, 2048) == 0,
	       "dma-buf mapping and carveout mapping show the same bytes");
	r1 = edu_xfer(efd, dfd, CO_EDU_TO_DEVICE, 40 * KIB, 2048, 1024, NULL);
	r2 = edu_xfer(efd, dfd, CO_EDU_FROM_DEVICE, 48 * KIB + 100, 2048, 1024, NULL);
	tap_ok(r1 == 0 && r2 == 0 && memcmp(b.p + 48 * KIB + 100, pat2, 2048) == 0,
	       "2 KiB written through the dma-buf mmap moved by edu to +48 KiB");

	/* Drop every carveout reference but the dma-buf's. */
	buf_unmap(&b);
	close(fd);
	live = live_buffers(sfd);
	tap_ok(base >= 0 && live == base + 1,
	       "after closing /dev/carveout the exported buffer alone lives (%lld, base %lld)",
	       live, base);
	r1 = edu_xfer(efd, dfd, CO_EDU_FROM_DEVICE, 60 * KIB, EDU_XFER_MAX, 0, NULL);
	tap_ok(r1 == 0, "edu -> dma-buf after /dev/carveout is closed (%s)",
	       r1 ? strerror(errno) : "ok");
	s1 = dmabuf_sync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	/* edu holds pat with pat2's first 2 KiB at 1 KiB. */
	memcpy(edu_now, pat, sizeof(edu_now));
	memcpy(edu_now + 1024, pat2, 2048);
	tap_ok(memcmp(dm + 60 * KIB, edu_now, EDU_XFER_MAX) == 0,
	       "the new bytes are there");
	tap_ok(memcmp(dm, pat, EDU_XFER_MAX) == 0 &&
	       memcmp(dm + 20 * KIB + 256, pat, EDU_XFER_MAX) == 0 &&
	       memcmp(dm + 40 * KIB, pat2, 2048) == 0 &&
	       memcmp(dm + 48 * KIB + 100, pat2, 2048) == 0,
	       "earlier bytes are intact");
	s2 = dmabuf_sync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	tap_ok(s1 == 0 && s2 == 0, "DMA_BUF_IOCTL_SYNC after /dev/carveout is closed");

	munmap(dm, b.a.granted);
	tap_ok(close(dfd) == 0, "close the dma-buf");
	live = live_buffers(sfd);
	tap_ok(base >= 0 && live == base,
	       "closing the dma-buf freed the buffer (%lld, base %lld)", live, base);
	close(sfd);
}

int main(void)
{
	struct carveout_info info;
	int fd, efd, ret;

	tap_plan_begin("carveout: real DMA through the IOMMU with QEMU's edu");
	page_size = sysconf(_SC_PAGESIZE);

	fd = co_open();
	if (!tap_ok(fd >= 0, "open %s", CO_DEV))
		tap_bail("cannot open %s: %s", CO_DEV, strerror(errno));
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	ret = ioctl(fd, CARVEOUT_IOC_INFO, &info);
	tap_ok(ret == 0 && (info.caps & CARVEOUT_CAP_DMA_MAP) &&
	       (info.caps & CARVEOUT_CAP_DMABUF) && (info.caps & CARVEOUT_CAP_PHYS),
	       "INFO: DMA_MAP, DMABUF and PHYS capabilities (caps %#llx)",
	       (unsigned long long)info.caps);

	efd = open(EDU_EDU_DEV, O_RDWR | O_CLOEXEC);
	if (efd < 0)
		tap_bail("cannot open %s (%s): the runner loads carveout_edu before the user tests",
			 EDU_EDU_DEV, strerror(errno));
	edu_open_bar();

	test_map_dma(fd);
	test_contig(fd);
	test_errors(fd);
	/* Last: it closes @fd. */
	test_dmabuf(fd, efd);

	close(efd);
	munmap((void *)edu_bar, edu_bar_len);
	return tap_finish();
}
