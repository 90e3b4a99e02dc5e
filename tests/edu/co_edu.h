/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * carveout_edu: a test-only driver for QEMU's edu PCI device, used by
 * carveout's tests as a real DMA master behind the IOMMU and as a dma-buf
 * importer.  Not part of the product.
 */
#ifndef _CO_EDU_H
#define _CO_EDU_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * edu's internal DMA buffer, as the device addresses it.  QEMU 7.2 aborts
 * the VM on a transfer whose end reaches CO_EDU_BUF_ADDR + CO_EDU_BUF_SIZE:
 * keep edu_off + len below CO_EDU_BUF_SIZE.
 */
#define CO_EDU_BUF_ADDR		0x40000
#define CO_EDU_BUF_SIZE		4096

/* edu's BAR0 registers (QEMU hw/misc/edu.c). */
#define EDU_REG_ID		0x00
#define EDU_REG_SRC		0x80	/* source bus address */
#define EDU_REG_DST		0x88	/* destination bus address */
#define EDU_REG_CNT		0x90	/* bytes */
#define EDU_REG_CMD		0x98
#define EDU_CMD_RUN		0x1	/* start; clears when done */
#define EDU_CMD_TO_RAM		0x2	/* edu buffer -> RAM */

/* Directions of a transfer. */
#define CO_EDU_TO_DEVICE	0	/* RAM -> edu buffer */
#define CO_EDU_FROM_DEVICE	1	/* edu buffer -> RAM */

/**
 * struct co_edu_xfer - DMA between a dma-buf and edu's buffer
 * @fd: in, the dma-buf (imported and mapped for edu for this call)
 * @dir: in, CO_EDU_TO_DEVICE or CO_EDU_FROM_DEVICE
 * @offset: in, byte offset in the dma-buf
 * @len: in, bytes; @edu_off + @len < CO_EDU_BUF_SIZE
 * @edu_off: in, offset in edu's buffer
 * @dma_addr: out, the address edu used (an IOVA under an IOMMU)
 */
struct co_edu_xfer {
	__s32 fd;
	__u32 dir;
	__u64 offset;
	__u32 len;
	__u32 edu_off;
	__u64 dma_addr;
};

#define CO_EDU_IOC_XFER		_IOWR(0xC6, 0x00, struct co_edu_xfer)

/**
 * struct co_edu_attach - keep a dma-buf attached and mapped for edu
 * @fd: in, the dma-buf
 * @dir: in, CO_EDU_TO_DEVICE or CO_EDU_FROM_DEVICE (the DMA direction)
 * @nents: out, DMA segments of the mapping
 * @dma_addr: out, the address of its first segment
 *
 * The mapping stays until the file is closed; one per open file (EBUSY).
 */
struct co_edu_attach {
	__s32 fd;
	__u32 dir;
	__u32 nents;
	__u32 pad;
	__u64 dma_addr;
};

#define CO_EDU_IOC_ATTACH	_IOWR(0xC6, 0x01, struct co_edu_attach)

#endif /* _CO_EDU_H */
