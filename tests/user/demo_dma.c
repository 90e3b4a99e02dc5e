// SPDX-License-Identifier: GPL-2.0
/*
 * The DMA part of "make demo": allocate a buffer, map it for QEMU's edu
 * device through the IOMMU, let edu copy bytes inside it with its DMA
 * engine (driven from userspace through sysfs resource0), and show the
 * IOVA, the physical address and the bytes that moved.
 */
#include <stdio.h>
#include <stdlib.h>

#include "co_edu.h"
#include "co_test.h"

#define EDU_RES		"/sys/bus/pci/devices/" CO_EDU_PCI "/resource0"

static volatile uint8_t *bar;

static void w64(unsigned int reg, uint64_t v)
{
	*(volatile uint64_t *)(bar + reg) = v;
}

static int run(uint64_t src, uint64_t dst, uint32_t len, int to_ram)
{
	int i;

	w64(EDU_REG_SRC, src);
	w64(EDU_REG_DST, dst);
	w64(EDU_REG_CNT, len);
	__sync_synchronize();
	w64(EDU_REG_CMD, EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0));
	for (i = 0; i < 2500; i++) {
		if (!(*(volatile uint64_t *)(bar + EDU_REG_CMD) & EDU_CMD_RUN))
			return 0;
		usleep(2000);
	}
	return -1;
}

static int sync_buf(int fd, uint32_t h, uint32_t flags, uint64_t iova)
{
	struct carveout_sync s = {
		.size = sizeof(s), .flags = flags, .handle = h,
		.direction = CARVEOUT_DMA_BIDIRECTIONAL, .dma_addr = iova,
	};

	return ioctl(fd, CARVEOUT_IOC_SYNC, &s);
}

int main(void)
{
	static const char msg[] = "hello from carveout, moved by edu's DMA engine";
	struct carveout_alloc a;
	struct carveout_map m;
	int fd, bfd, len = sizeof(msg);
	char *p;

	fd = co_open();
	bfd = open(EDU_RES, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0 || bfd < 0) {
		perror("open");
		return 1;
	}
	bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
	if (bar == MAP_FAILED || co_alloc_simple(fd, 64 << 10, &a) ||
	    !(p = co_mmap(fd, &a)) ||
	    co_map(fd, a.handle, CO_EDU_PCI, CARVEOUT_DMA_BIDIRECTIONAL, &m)) {
		perror("carveout");
		return 1;
	}
	printf("buffer: 64 KiB on node %u, physical %#llx\n", a.out_node,
	       (unsigned long long)a.phys_addr);
	printf("mapped for edu %s: IOVA %#llx (DMA mask %#llx) -- the IOMMU translates\n",
	       CO_EDU_PCI, (unsigned long long)m.dma_addr,
	       (unsigned long long)m.dma_mask);
	memcpy(p, msg, len);
	sync_buf(fd, a.handle, CARVEOUT_SYNC_FOR_DEVICE, m.dma_addr);
	if (run(m.dma_addr, CO_EDU_BUF_ADDR, len, 0) ||
	    run(CO_EDU_BUF_ADDR, m.dma_addr + 32768, len, 1)) {
		fprintf(stderr, "edu DMA timed out\n");
		return 1;
	}
	sync_buf(fd, a.handle, CARVEOUT_SYNC_FOR_CPU, m.dma_addr);
	printf("edu DMA: IOVA %#llx -> edu buffer -> IOVA %#llx\n",
	       (unsigned long long)m.dma_addr,
	       (unsigned long long)m.dma_addr + 32768);
	printf("bytes at buffer+32 KiB now: \"%s\" (%s)\n", p + 32768,
	       memcmp(p + 32768, msg, len) ? "MISMATCH" : "match");
	co_unmap(fd, a.handle, CO_EDU_PCI, m.dma_addr);
	co_free(fd, a.handle);
	return memcmp(p + 32768, msg, len) != 0;
}
