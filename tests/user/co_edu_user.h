/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Driving QEMU's edu DMA engine from a test, through the sysfs resource0
 * mapping of its BAR0 (tests/edu/co_edu.h has the registers), with bus
 * addresses that carveout's MAP returned.
 *
 * One engine: callers that DMA from several threads serialise the whole
 * transfer (co_edu_dma() is not reentrant).  QEMU's edu finishes a
 * transfer 100 ms (virtual clock) after it was started, so a test budgets
 * about a tenth of a second per transfer.
 */
#ifndef CO_EDU_USER_H
#define CO_EDU_USER_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "co_edu.h"
#include "co_test.h"

#define CO_EDU_SYSFS		"/sys/bus/pci/devices/" CO_EDU_PCI
#define CO_EDU_VENDOR		0x1234
#define CO_EDU_DEVICE		0x11e8
/* edu masks bus addresses to 28 bits. */
#define CO_EDU_DMA_MASK		((1ULL << 28) - 1)
/*
 * QEMU 7.2 stops the VM on a transfer whose end reaches the end of edu's
 * buffer: the last byte is never used.
 */
#define CO_EDU_XFER_MAX		(CO_EDU_BUF_SIZE - 1)

struct co_edu {
	volatile uint8_t *bar;
	size_t len;
};

static inline unsigned long co_edu_sysfs_hex(const char *file)
{
	char path[128], line[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), CO_EDU_SYSFS "/%s", file);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	return strtoul(line, NULL, 0);
}

/*
 * Map edu's BAR0.  Returns 0, or -1 with @why saying what is missing (for
 * a skip: no edu device in this VM) or wrong (for a failure: @absent 0).
 */
static inline int co_edu_open(struct co_edu *e, char *why, size_t whylen,
			      int *absent)
{
	struct stat st;
	void *p;
	int fd;

	*absent = 0;
	memset(e, 0, sizeof(*e));
	if (access(CO_EDU_SYSFS, F_OK)) {
		*absent = 1;
		snprintf(why, whylen, "no PCI device %s (QEMU -device edu)",
			 CO_EDU_PCI);
		return -1;
	}
	if (co_edu_sysfs_hex("vendor") != CO_EDU_VENDOR ||
	    co_edu_sysfs_hex("device") != CO_EDU_DEVICE) {
		*absent = 1;
		snprintf(why, whylen, "%s is not edu: not programming it",
			 CO_EDU_PCI);
		return -1;
	}
	fd = open(CO_EDU_SYSFS "/resource0", O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || st.st_size < EDU_REG_CMD + 8) {
		snprintf(why, whylen, "%s/resource0: %s", CO_EDU_SYSFS,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(why, whylen, "mmap of resource0: %s", strerror(errno));
		return -1;
	}
	e->bar = p;
	e->len = st.st_size;
	if ((*(volatile uint32_t *)(e->bar + EDU_REG_ID) & 0xff) != 0xed) {
		snprintf(why, whylen, "edu identification register reads %#x",
			 *(volatile uint32_t *)(e->bar + EDU_REG_ID));
		munmap((void *)e->bar, e->len);
		e->bar = NULL;
		return -1;
	}
	return 0;
}

static inline void co_edu_close(struct co_edu *e)
{
	if (e->bar)
		munmap((void *)e->bar, e->len);
	e->bar = NULL;
}

static inline uint64_t co_edu_r64(struct co_edu *e, unsigned int reg)
{
	return *(volatile uint64_t *)(e->bar + reg);
}

static inline void co_edu_w64(struct co_edu *e, unsigned int reg, uint64_t v)
{
	*(volatile uint64_t *)(e->bar + reg) = v;
}

/* Wait (up to 5 s) for the engine to be idle: 0, or -1. */
static inline int co_edu_idle(struct co_edu *e)
{
	int i;

	for (i = 0; i < 2500; i++) {
		if (!(co_edu_r64(e, EDU_REG_CMD) & EDU_CMD_RUN))
			return 0;
		usleep(2000);
	}
	return -1;
}

/*
 * One transfer of @len bytes between bus address @bus and edu's buffer at
 * @edu_off; @to_ram: edu -> RAM, else RAM -> edu.  Out-of-range requests
 * are refused before the device is touched (QEMU would stop the VM).
 * Returns 0 when the engine finished, -1 (errno EINVAL or ETIMEDOUT).
 */
static inline int co_edu_dma(struct co_edu *e, uint64_t bus, uint32_t edu_off,
			     uint32_t len, int to_ram)
{
	uint64_t edu = CO_EDU_BUF_ADDR + edu_off;

	if (!len || edu_off >= CO_EDU_XFER_MAX ||
	    len > CO_EDU_XFER_MAX - edu_off || bus > CO_EDU_DMA_MASK ||
	    len - 1 > CO_EDU_DMA_MASK - bus) {
		errno = EINVAL;
		return -1;
	}
	if (co_edu_idle(e))
		goto timeout;
	co_edu_w64(e, EDU_REG_SRC, to_ram ? edu : bus);
	co_edu_w64(e, EDU_REG_DST, to_ram ? bus : edu);
	co_edu_w64(e, EDU_REG_CNT, len);
	__sync_synchronize();
	co_edu_w64(e, EDU_REG_CMD, EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0));
	if (co_edu_idle(e))
		goto timeout;
	__sync_synchronize();
	return 0;
timeout:
	errno = ETIMEDOUT;
	return -1;
}

#endif /* CO_EDU_USER_H */
