// SPDX-License-Identifier: GPL-2.0
/*
 * carveout_edu: test-only driver for QEMU's edu device (1234:11e8).
 *
 * It binds edu, gives it the 28-bit DMA mask the device really has, turns
 * on bus mastering, and offers /dev/carveout-edu with one ioctl that imports
 * a dma-buf, maps it for edu through the DMA API (so through the IOMMU) and
 * runs one edu DMA transfer between the buffer and edu's internal 4 KiB
 * buffer, and one that keeps a dma-buf attached and mapped for edu until
 * the file is closed (an importer holding its mapping, as a device driver
 * does while it owns a buffer).  Userspace may also drive edu directly through the sysfs
 * resource0 mapping, with an address from carveout's MAP ioctl: this
 * driver therefore does not claim BAR0 exclusively, and opts edu in for
 * MAP (carveout_dev_allow_map()), so unprivileged users may map buffers for
 * it.  map_optin=0 leaves that out: edu is then a device bound to a driver
 * that did not opt in, which the access tests need.
 *
 * Lock order: co_edu.lock (one transfer at a time).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <carveout/kapi.h>

#include "co_compat.h"
#include "co_edu.h"

static bool map_optin = true;
module_param(map_optin, bool, 0644);
MODULE_PARM_DESC(map_optin, "opt edu in for carveout's MAP at probe (default Y)");

/**
 * struct co_edu - the one bound edu device
 * @pdev: the PCI device
 * @bar: BAR0 mapping
 * @lock: serialises transfers (edu runs one DMA at a time)
 * @misc: /dev/carveout-edu
 */
static struct co_edu {
	struct pci_dev *pdev;
	void __iomem *bar;
	struct mutex lock;	/* one transfer at a time */
	struct miscdevice misc;
} co_edu;

static int co_edu_run(dma_addr_t addr, u32 dir, u32 len, u32 edu_off)
{
	u64 cmd = EDU_CMD_RUN;
	int i;

	lockdep_assert_held(&co_edu.lock);
	if (dir == CO_EDU_TO_DEVICE) {
		writeq(addr, co_edu.bar + EDU_REG_SRC);
		writeq(CO_EDU_BUF_ADDR + edu_off, co_edu.bar + EDU_REG_DST);
	} else {
		writeq(CO_EDU_BUF_ADDR + edu_off, co_edu.bar + EDU_REG_SRC);
		writeq(addr, co_edu.bar + EDU_REG_DST);
		cmd |= EDU_CMD_TO_RAM;
	}
	writeq(len, co_edu.bar + EDU_REG_CNT);
	writeq(cmd, co_edu.bar + EDU_REG_CMD);
	/* edu finishes a transfer about 100 ms (virtual time) later. */
	for (i = 0; i < 500; i++) {
		if (!(readq(co_edu.bar + EDU_REG_CMD) & EDU_CMD_RUN))
			return 0;
		usleep_range(5000, 10000);
	}
	return -ETIMEDOUT;
}

static long co_edu_xfer(struct co_edu_xfer __user *uarg)
{
	enum dma_data_direction ddir;
	struct dma_buf_attachment *att;
	struct co_edu_xfer x;
	struct dma_buf *dbuf;
	struct sg_table *sgt;
	struct scatterlist *sg;
	dma_addr_t addr = 0;
	u64 skip;
	int i, ret;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	/* QEMU stops the VM on a range reaching the buffer's last byte. */
	if (x.dir > CO_EDU_FROM_DEVICE || !x.len || x.edu_off >= CO_EDU_BUF_SIZE ||
	    x.len >= CO_EDU_BUF_SIZE - x.edu_off || x.dma_addr)
		return -EINVAL;
	ddir = x.dir == CO_EDU_TO_DEVICE ? DMA_TO_DEVICE : DMA_FROM_DEVICE;

	dbuf = dma_buf_get(x.fd);
	if (IS_ERR(dbuf))
		return PTR_ERR(dbuf);
	if (x.offset >= dbuf->size || x.len > dbuf->size - x.offset) {
		ret = -EINVAL;
		goto put;
	}
	att = dma_buf_attach(dbuf, &co_edu.pdev->dev);
	if (IS_ERR(att)) {
		ret = PTR_ERR(att);
		goto put;
	}
	sgt = dma_buf_map_attachment_unlocked(att, ddir);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto detach;
	}
	/* Find the DMA segment holding the range; it must not straddle. */
	ret = -EINVAL;
	skip = x.offset;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (skip < sg_dma_len(sg)) {
			if (x.len <= sg_dma_len(sg) - skip) {
				addr = sg_dma_address(sg) + skip;
				ret = 0;
			}
			break;
		}
		skip -= sg_dma_len(sg);
	}
	if (!ret) {
		mutex_lock(&co_edu.lock);
		ret = co_edu_run(addr, x.dir, x.len, x.edu_off);
		mutex_unlock(&co_edu.lock);
	}
	dma_buf_unmap_attachment_unlocked(att, sgt, ddir);
	if (!ret) {
		x.dma_addr = addr;
		if (copy_to_user(uarg, &x, sizeof(x)))
			ret = -EFAULT;
	}
detach:
	dma_buf_detach(dbuf, att);
put:
	dma_buf_put(dbuf);
	return ret;
}

/**
 * struct co_edu_held - a dma-buf an open file keeps mapped for edu
 * @dbuf: the dma-buf (a reference)
 * @att: edu's attachment
 * @sgt: its mapping
 * @dir: the mapping's direction
 */
struct co_edu_held {
	struct dma_buf *dbuf;
	struct dma_buf_attachment *att;
	struct sg_table *sgt;
	enum dma_data_direction dir;
};

static void co_edu_unhold(struct co_edu_held *h)
{
	if (!IS_ERR_OR_NULL(h->sgt))
		dma_buf_unmap_attachment_unlocked(h->att, h->sgt, h->dir);
	if (!IS_ERR_OR_NULL(h->att))
		dma_buf_detach(h->dbuf, h->att);
	dma_buf_put(h->dbuf);
	kfree(h);
}

static long co_edu_attach(struct file *file, struct co_edu_attach __user *uarg)
{
	struct co_edu_attach x;
	struct co_edu_held *h;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	if (x.dir > CO_EDU_FROM_DEVICE || x.pad)
		return -EINVAL;
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	h->dir = x.dir == CO_EDU_TO_DEVICE ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	h->dbuf = dma_buf_get(x.fd);
	if (IS_ERR(h->dbuf)) {
		kfree(h);
		return PTR_ERR(h->dbuf);
	}
	h->att = dma_buf_attach(h->dbuf, &co_edu.pdev->dev);
	if (!IS_ERR(h->att))
		h->sgt = dma_buf_map_attachment_unlocked(h->att, h->dir);
	if (IS_ERR(h->att) || IS_ERR(h->sgt)) {
		long ret = IS_ERR(h->att) ? PTR_ERR(h->att) : PTR_ERR(h->sgt);

		co_edu_unhold(h);
		return ret;
	}
	x.nents = h->sgt->nents;
	x.dma_addr = sg_dma_address(h->sgt->sgl);
	/* Racing calls on one file: the first keeps its mapping. */
	if (cmpxchg(&file->private_data, NULL, h)) {
		co_edu_unhold(h);
		return -EBUSY;
	}
	return copy_to_user(uarg, &x, sizeof(x)) ? -EFAULT : 0;
}

static int co_edu_open(struct inode *inode, struct file *file)
{
	file->private_data = NULL;
	return 0;
}

static int co_edu_release(struct inode *inode, struct file *file)
{
	if (file->private_data)
		co_edu_unhold(file->private_data);
	return 0;
}

static long co_edu_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	switch (cmd) {
	case CO_EDU_IOC_XFER:
		return co_edu_xfer((struct co_edu_xfer __user *)arg);
	case CO_EDU_IOC_ATTACH:
		return co_edu_attach(file, (struct co_edu_attach __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations co_edu_fops = {
	.owner		= THIS_MODULE,
	.open		= co_edu_open,
	.release	= co_edu_release,
	.unlocked_ioctl	= co_edu_ioctl,
};

static int co_edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	int ret;

	if (co_edu.pdev)
		return -EBUSY;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;
	pci_set_master(pdev);
	co_edu.bar = pcim_iomap(pdev, 0, 0);
	if (!co_edu.bar)
		return -ENOMEM;
	dev_info(&pdev->dev, "edu id %#x, DMA mask 28 bits\n",
		 readl(co_edu.bar + EDU_REG_ID));
	co_edu.pdev = pdev;
	mutex_init(&co_edu.lock);
	co_edu.misc.minor = MISC_DYNAMIC_MINOR;
	co_edu.misc.name = "carveout-edu";
	co_edu.misc.fops = &co_edu_fops;
	co_edu.misc.mode = 0600;
	ret = misc_register(&co_edu.misc);
	if (ret)
		goto out;
	/* Users drive edu through resource0: let them MAP for it. */
	if (READ_ONCE(map_optin)) {
		ret = carveout_dev_allow_map(&pdev->dev);
		if (ret)
			misc_deregister(&co_edu.misc);
	}
out:
	if (ret)
		co_edu.pdev = NULL;
	return ret;
}

static void co_edu_remove(struct pci_dev *pdev)
{
	misc_deregister(&co_edu.misc);
	co_edu.pdev = NULL;
}

static const struct pci_device_id co_edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, co_edu_ids);

static struct pci_driver co_edu_driver = {
	.name		= "carveout_edu",
	.id_table	= co_edu_ids,
	.probe		= co_edu_probe,
	.remove		= co_edu_remove,
};
module_pci_driver(co_edu_driver);

MODULE_DESCRIPTION("carveout test driver for QEMU's edu device");
MODULE_LICENSE("GPL");
CO_IMPORT_NS(DMA_BUF);
