// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: /dev/carveout, the character device.
 *
 * Every open file gets an owner (struct co_file, co_owner.c): its handles
 * and private slab caches.  ioctls go to the dispatcher (co_ioctl.c),
 * mmap to co_mmap.c.  Closing the file frees every handle it still has.
 *
 * Locks: see carveout.h; none is taken here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include <linux/carveout.h>

#include "carveout.h"
#include "co_compat.h"

static ushort mode = 0600;
module_param(mode, ushort, 0444);
MODULE_PARM_DESC(mode, "Permissions of /dev/carveout (default 0600, 0660 with group)");

static int group = -1;
module_param(group, int, 0444);
MODULE_PARM_DESC(group, "Group id owning /dev/carveout (default: root only)");

static int co_mmap(struct file *file, struct vm_area_struct *vma)
{
	return co_mmap_handle(file->private_data, vma);
}

static int co_open(struct inode *inode, struct file *file)
{
	struct co_file *f;

	f = co_file_create();
	if (!f)
		return -ENOMEM;
	file->private_data = f;
	return nonseekable_open(inode, file);
}

static int co_release(struct inode *inode, struct file *file)
{
	struct co_file *f = file->private_data;
	struct co_buffer *buf;
	unsigned long handle;

	xa_for_each(&f->handles, handle, buf) {
		xa_erase(&f->handles, handle);
		co_buffer_kill(buf);
		co_buffer_put(buf);
		cond_resched();
	}
	co_file_put(f);
	return 0;
}

static const struct file_operations co_fops = {
	.owner		= THIS_MODULE,
	.open		= co_open,
	.release	= co_release,
	.unlocked_ioctl	= co_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= co_mmap,
};

static dev_t co_devt;
static struct cdev co_cdev;
static struct device *co_device;

static struct class co_class = {
	.name = "carveout",
};

/* devtmpfs asks this for the node's mode and owner. */
static char *co_devnode(co_devnode_const struct device *dev, umode_t *m,
			kuid_t *uid, kgid_t *gid)
{
	umode_t perm = mode & 0777;

	if (group >= 0) {
		if (gid)
			*gid = make_kgid(&init_user_ns, group);
		if (perm == 0600)
			perm = 0660;
	}
	if (m)
		*m = perm;
	return NULL;
}

static const struct device_type co_devtype = {
	.name = "carveout",
	.devnode = co_devnode,
};

static void co_device_release(struct device *dev)
{
	kfree(dev);
}

/**
 * co_dev_init() - register /dev/carveout
 *
 * Context: module load.
 * Return: 0 or a negative errno.
 */
int co_dev_init(void)
{
	int ret;

	if (group >= 0 && !gid_valid(make_kgid(&init_user_ns, group))) {
		pr_err("carveout.group=%d is not a valid group id\n", group);
		return -EINVAL;
	}
	ret = alloc_chrdev_region(&co_devt, 0, 1, "carveout");
	if (ret)
		return ret;
	ret = class_register(&co_class);
	if (ret)
		goto unregister_region;
	co_device = kzalloc(sizeof(*co_device), GFP_KERNEL);
	if (!co_device) {
		ret = -ENOMEM;
		goto unregister_class;
	}
	device_initialize(co_device);
	co_device->devt = co_devt;
	co_device->class = &co_class;
	co_device->type = &co_devtype;
	co_device->release = co_device_release;
	ret = dev_set_name(co_device, "carveout");
	if (ret)
		goto put_device;
	cdev_init(&co_cdev, &co_fops);
	co_cdev.owner = THIS_MODULE;
	ret = cdev_device_add(&co_cdev, co_device);
	if (ret)
		goto put_device;
	return 0;

put_device:
	put_device(co_device);
unregister_class:
	class_unregister(&co_class);
unregister_region:
	unregister_chrdev_region(co_devt, 1);
	return ret;
}

/**
 * co_dev_exit() - remove /dev/carveout
 *
 * Context: module unload.
 */
void co_dev_exit(void)
{
	cdev_device_del(&co_cdev, co_device);
	put_device(co_device);
	class_unregister(&co_class);
	unregister_chrdev_region(co_devt, 1);
}
