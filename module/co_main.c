// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: module entry, the /dev/carveout misc device and its ioctls.
 *
 * The device is a misc character device.  Every open file gets a
 * struct co_file; ioctls are dispatched to one handler per command which
 * copies the argument in, validates it, acts and copies the result out.
 *
 * Lock order: none taken in this file yet.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <linux/carveout.h>

#include "carveout.h"

static struct dentry *co_debugfs_root;

/**
 * co_copy_arg_from_user() - read a size-prefixed ioctl argument
 * @dst: kernel copy, @ksize bytes
 * @ksize: size of the structure the kernel knows
 * @uarg: user pointer to the argument, whose first __u32 is its size
 *
 * Reads the caller's size and copies with copy_struct_from_user(): fields
 * the caller does not know are zeroed, bytes the kernel does not know must
 * be zero.  The size field of @dst then holds the kernel's size.
 *
 * Context: process context, may fault.
 * Return: 0, -EFAULT, -EINVAL for a size below the first version of the
 * structure (@ksize is taken as that), -E2BIG for unknown non-zero bytes.
 */
VISIBLE_IF_KUNIT int co_copy_arg_from_user(void *dst, size_t ksize,
					   const void __user *uarg)
{
	u32 usize;
	int ret;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < ksize)
		return -EINVAL;
	ret = copy_struct_from_user(dst, ksize, uarg, usize);
	if (ret)
		return ret;
	*(u32 *)dst = ksize;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(co_copy_arg_from_user);

static long co_ioctl_info(struct file *file, void __user *uarg)
{
	struct carveout_info info;
	int ret;

	ret = co_copy_arg_from_user(&info, sizeof(info), uarg);
	if (ret)
		return ret;
	if (info.flags || info.caps || info.page_size || info.nr_nodes ||
	    info.slab_max || info.total_bytes || info.max_alloc ||
	    info.file_limit || info.user_limit)
		return -EINVAL;

	info.caps = 0;
	if (capable(CAP_SYS_ADMIN))
		info.caps |= CARVEOUT_CAP_PHYS;
	info.page_size = PAGE_SIZE;
	info.nr_nodes = 0;

	if (copy_to_user(uarg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long co_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case CARVEOUT_IOC_INFO:
		return co_ioctl_info(file, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations co_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= co_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice co_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "carveout",
	.fops	= &co_fops,
	.mode	= 0600,
};

static int co_summary_show(struct seq_file *m, void *v)
{
	seq_printf(m, "page_size: %lu\n", PAGE_SIZE);
	seq_puts(m, "nodes: 0\n");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(co_summary);

static int __init co_init(void)
{
	int ret;

	BUILD_BUG_ON(sizeof(struct carveout_info) % 8);
	BUILD_BUG_ON(sizeof(struct carveout_alloc) % 8);
	BUILD_BUG_ON(sizeof(struct carveout_map) % 8);
	BUILD_BUG_ON(sizeof(struct carveout_sync) % 8);
	BUILD_BUG_ON(sizeof(struct carveout_stats) % 8);

	ret = misc_register(&co_misc);
	if (ret) {
		pr_err("cannot register /dev/carveout: %d\n", ret);
		return ret;
	}
	co_debugfs_root = debugfs_create_dir("carveout", NULL);
	debugfs_create_file("summary", 0400, co_debugfs_root, NULL,
			    &co_summary_fops);
	pr_info("loaded\n");
	return 0;
}

static void __exit co_exit(void)
{
	debugfs_remove(co_debugfs_root);
	misc_deregister(&co_misc);
}

module_init(co_init);
module_exit(co_exit);
MODULE_DESCRIPTION("Contiguous per-node DMA buffer carveout");
MODULE_LICENSE("GPL");
