// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: /dev/carveout, its ioctls and mmap.
 *
 * Every open file gets a struct co_file (its handles and private slab
 * caches).  Each ioctl has one handler: copy the size-prefixed argument in
 * (copy_struct_from_user() rules), validate every field, act, copy the
 * result out, and only then make the result visible (a dma-buf fd is
 * installed after the last copy_to_user()).  Handles are looked up in the
 * file's xarray and a buffer reference is taken under the xarray lock, so
 * a concurrent FREE cannot pull the buffer away mid-call.
 *
 * mmap offsets encode the handle (handle << CO_MMAP_SHIFT); each mapping
 * holds a buffer reference through its vm_ops (open on fork and split,
 * close on unmap).  The mapping also pins the file and so the module.
 *
 * Lock order: co_file.lock -> co_buffer.lock (see carveout.h).  The
 * handles xarray's own lock is taken alone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <linux/carveout.h>

#include "carveout.h"
#include "co_compat.h"

static ushort mode = 0600;
module_param(mode, ushort, 0444);
MODULE_PARM_DESC(mode, "Permissions of /dev/carveout (default 0600, 0660 with group)");

static int group = -1;
module_param(group, int, 0444);
MODULE_PARM_DESC(group, "Group id owning /dev/carveout (default: root only)");

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
 * Return: 0, -EFAULT, -EINVAL for a size below the structure, -E2BIG for
 * unknown non-zero trailing bytes.
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

static struct co_buffer *co_lookup(struct co_file *f, u32 handle)
{
	struct co_buffer *buf;

	xa_lock(&f->handles);
	buf = xa_load(&f->handles, handle);
	if (buf)
		co_buffer_get(buf);
	xa_unlock(&f->handles);
	return buf;
}

/* A device name field must hold a NUL-terminated string. */
static bool co_name_ok(const char *name, size_t len)
{
	return strnlen(name, len) < len;
}

static bool co_is_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

static u64 co_largest_free(void)
{
	u64 best = 0;
	int nid;

	for (nid = 0; nid < MAX_NUMNODES; nid++)
		if (co_nodes[nid])
			best = max(best, co_node_largest_free(co_nodes[nid]));
	return best;
}

static u64 co_largest_piece(void)
{
	u64 best = 0;
	unsigned int i;
	int nid;

	for (nid = 0; nid < MAX_NUMNODES; nid++) {
		if (!co_nodes[nid])
			continue;
		for (i = 0; i < co_nodes[nid]->nr_pieces; i++)
			best = max_t(u64, best, (u64)co_nodes[nid]->pieces[i].nr_pages
						<< PAGE_SHIFT);
	}
	return best;
}

static long co_ioctl_info(struct co_file *f, void __user *uarg)
{
	struct carveout_node_info ni;
	struct carveout_info info;
	u32 n = 0;
	int ret, nid;

	ret = co_copy_arg_from_user(&info, sizeof(info), uarg);
	if (ret)
		return ret;
	if (info.flags || info.caps || info.page_size || info.nr_nodes ||
	    info.slab_max || info.total_bytes || info.max_alloc ||
	    info.file_limit || info.user_limit ||
	    (info.nodes_cap && !info.nodes_ptr))
		return -EINVAL;

	info.caps = CARVEOUT_CAP_NUMA | CARVEOUT_CAP_SLAB |
		    CARVEOUT_CAP_DMA_MAP | CARVEOUT_CAP_DMABUF;
	if (IS_ENABLED(CONFIG_X86))
		info.caps |= CARVEOUT_CAP_WC | CARVEOUT_CAP_UNCACHED;
	if (capable(CAP_SYS_ADMIN))
		info.caps |= CARVEOUT_CAP_PHYS;
	info.page_size = PAGE_SIZE;
	info.slab_max = co_slab_max_size();
	info.file_limit = co_file_limit;
	info.user_limit = co_user_limit;
	for (nid = 0; nid < MAX_NUMNODES; nid++) {
		struct co_node *cn = co_nodes[nid];

		if (!cn)
			continue;
		info.total_bytes += cn->bytes;
		if (n < info.nodes_cap) {
			memset(&ni, 0, sizeof(ni));
			ni.node = nid;
			ni.nr_pieces = cn->nr_pieces;
			ni.region_bytes = cn->bytes;
			ni.free_bytes = co_node_free_bytes(cn);
			ni.largest_free = co_node_largest_free(cn);
			if (copy_to_user(u64_to_user_ptr(info.nodes_ptr +
							 n * sizeof(ni)),
					 &ni, sizeof(ni)))
				return -EFAULT;
		}
		n++;
	}
	info.nr_nodes = n;
	info.max_alloc = co_largest_free();
	if (copy_to_user(uarg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long co_ioctl_alloc(struct co_file *f, void __user *uarg)
{
	struct co_alloc_req req = { };
	struct carveout_alloc a;
	struct co_buffer *buf;
	struct device *dev = NULL;
	u32 handle;
	int ret;

	ret = co_copy_arg_from_user(&a, sizeof(a), uarg);
	if (ret)
		return ret;
	if ((a.flags & ~CARVEOUT_ALLOC_FLAGS) ||
	    (a.flags & CARVEOUT_ALLOC_CACHE_MASK) == CARVEOUT_ALLOC_CACHE_MASK ||
	    a.handle || a.out_node || a.granted || a.mmap_offset ||
	    a.phys_addr || a.page_offset || a.reserved)
		return -EINVAL;
	if (!a.length || (a.align & (a.align - 1)) ||
	    a.policy > CARVEOUT_POLICY_MAX ||
	    !co_name_ok(a.device, sizeof(a.device)))
		return -EINVAL;
	if (a.length > co_largest_piece() || a.align > co_largest_piece())
		return -EFBIG;
	if (a.policy == CARVEOUT_POLICY_DEVICE) {
		dev = co_find_device(a.device);
		if (!dev)
			return -ENODEV;
	} else if (!co_is_zero(a.device, sizeof(a.device))) {
		return -EINVAL;
	}

	req.size = a.length;
	req.align = a.align;
	req.nid = a.node;
	req.policy = a.policy;
	req.flags = a.flags;
	req.dev = dev;
	buf = co_buffer_alloc(f, &req);
	put_device(dev);
	if (IS_ERR(buf))
		return PTR_ERR(buf);

	ret = xa_alloc(&f->handles, &handle, buf, XA_LIMIT(1, CO_HANDLE_MAX),
		       GFP_KERNEL);
	if (ret) {
		co_buffer_put(buf);
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	buf->handle = handle;
	a.handle = handle;
	a.out_node = buf->node->nid;
	a.granted = buf->granted;
	a.mmap_offset = (u64)handle << CO_MMAP_SHIFT;
	a.page_offset = offset_in_page(buf->phys);
	if (capable(CAP_SYS_ADMIN))
		a.phys_addr = buf->phys;
	if (copy_to_user(uarg, &a, sizeof(a))) {
		buf = xa_erase(&f->handles, handle);
		if (buf)
			co_buffer_put(buf);
		return -EFAULT;
	}
	return 0;
}

static long co_ioctl_free(struct co_file *f, void __user *uarg)
{
	struct carveout_handle h;
	struct co_buffer *buf;
	int ret;

	ret = co_copy_arg_from_user(&h, sizeof(h), uarg);
	if (ret)
		return ret;
	if (h.flags || h.reserved)
		return -EINVAL;
	buf = xa_erase(&f->handles, h.handle);
	if (!buf)
		return -ENOENT;
	co_buffer_kill(buf);
	co_buffer_put(buf);
	return 0;
}

static bool co_dir_ok(u32 dir)
{
	return dir == CARVEOUT_DMA_BIDIRECTIONAL || dir == CARVEOUT_DMA_TO_DEVICE ||
	       dir == CARVEOUT_DMA_FROM_DEVICE;
}

/* The uapi values are those of enum dma_data_direction. */
static enum dma_data_direction co_dir(u32 dir)
{
	BUILD_BUG_ON(CARVEOUT_DMA_BIDIRECTIONAL != DMA_BIDIRECTIONAL);
	BUILD_BUG_ON(CARVEOUT_DMA_TO_DEVICE != DMA_TO_DEVICE);
	BUILD_BUG_ON(CARVEOUT_DMA_FROM_DEVICE != DMA_FROM_DEVICE);
	return (enum dma_data_direction)dir;
}

static long co_ioctl_map(struct co_file *f, void __user *uarg, bool map)
{
	struct carveout_map m;
	struct co_buffer *buf;
	struct device *dev;
	dma_addr_t addr;
	int ret;

	ret = co_copy_arg_from_user(&m, sizeof(m), uarg);
	if (ret)
		return ret;
	if (m.flags || !co_dir_ok(m.direction) ||
	    !co_name_ok(m.device, sizeof(m.device)) || !m.device[0] ||
	    m.dma_mask || (map && m.dma_addr))
		return -EINVAL;
	buf = co_lookup(f, m.handle);
	if (!buf)
		return -ENOENT;
	dev = co_find_device(m.device);
	if (!dev) {
		ret = -ENODEV;
		goto put_buf;
	}
	if (!map) {
		ret = co_buffer_unmap(buf, dev, m.dma_addr);
		goto put_dev;
	}
	ret = co_buffer_map(buf, dev, co_dir(m.direction), &addr);
	if (ret)
		goto put_dev;
	m.dma_addr = addr;
	m.dma_mask = dma_get_mask(dev);
	if (copy_to_user(uarg, &m, sizeof(m))) {
		co_buffer_unmap(buf, dev, addr);
		ret = -EFAULT;
	}
put_dev:
	put_device(dev);
put_buf:
	co_buffer_put(buf);
	return ret;
}

static long co_ioctl_sync(struct co_file *f, void __user *uarg)
{
	struct carveout_sync s;
	struct co_buffer *buf;
	int ret;

	ret = co_copy_arg_from_user(&s, sizeof(s), uarg);
	if (ret)
		return ret;
	if ((s.flags != CARVEOUT_SYNC_FOR_CPU &&
	     s.flags != CARVEOUT_SYNC_FOR_DEVICE) || !co_dir_ok(s.direction))
		return -EINVAL;
	buf = co_lookup(f, s.handle);
	if (!buf)
		return -ENOENT;
	if (!s.length && s.offset < buf->granted)
		s.length = buf->granted - s.offset;
	if (s.offset >= buf->granted || s.length > buf->granted - s.offset)
		ret = -EINVAL;
	else
		ret = co_buffer_sync(buf, s.flags == CARVEOUT_SYNC_FOR_CPU,
				     s.offset, s.length, s.dma_addr,
				     co_dir(s.direction));
	co_buffer_put(buf);
	return ret;
}

static long co_ioctl_export(struct co_file *f, void __user *uarg)
{
	struct carveout_export e;
	struct dma_buf *dmabuf;
	struct co_buffer *buf;
	int ret, fd;

	ret = co_copy_arg_from_user(&e, sizeof(e), uarg);
	if (ret)
		return ret;
	if ((e.flags & ~(O_CLOEXEC | O_ACCMODE)) ||
	    (e.flags & O_ACCMODE) == O_ACCMODE || e.fd)
		return -EINVAL;
	buf = co_lookup(f, e.handle);
	if (!buf)
		return -ENOENT;
	dmabuf = co_buffer_export(buf, e.flags);
	co_buffer_put(buf);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	fd = get_unused_fd_flags(e.flags & O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	e.fd = fd;
	if (copy_to_user(uarg, &e, sizeof(e))) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	fd_install(fd, dmabuf->file);
	return 0;
}

static long co_ioctl_stats(struct co_file *f, void __user *uarg)
{
	struct co_buddy_stats *bs;
	struct carveout_stats *s;
	struct co_node *cn;
	unsigned int i, o;
	int ret;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	bs = kzalloc(sizeof(*bs), GFP_KERNEL);
	if (!s || !bs) {
		ret = -ENOMEM;
		goto out;
	}
	ret = co_copy_arg_from_user(s, sizeof(*s), uarg);
	if (ret)
		goto out;
	ret = -EINVAL;
	if (s->flags || s->nr_orders || s->region_bytes || s->free_bytes ||
	    !co_is_zero(&s->largest_free,
			sizeof(*s) - offsetof(struct carveout_stats, largest_free)))
		goto out;
	ret = -ENODEV;
	if (s->node >= MAX_NUMNODES || !co_nodes[s->node])
		goto out;
	cn = co_nodes[s->node];
	s->region_bytes = cn->bytes;
	for (i = 0; i < cn->nr_pieces; i++) {
		co_buddy_get_stats(&cn->pieces[i].buddy, bs);
		s->free_bytes += (u64)bs->free_pages << PAGE_SHIFT;
		s->largest_free = max_t(u64, s->largest_free,
					(u64)bs->largest_free_pages << PAGE_SHIFT);
		for (o = 0; o <= bs->max_order && o < ARRAY_SIZE(s->free_blocks); o++)
			s->free_blocks[o] += bs->nr_free[o];
		s->nr_orders = max(s->nr_orders,
				   min_t(u32, bs->max_order + 1,
					 ARRAY_SIZE(s->free_blocks)));
	}
	s->requested_bytes = atomic64_read(&cn->requested);
	s->granted_bytes = atomic64_read(&cn->granted);
	s->nr_buffers = atomic64_read(&cn->nr_buffers);
	s->alloc_count = atomic64_read(&cn->alloc_count);
	s->free_count = atomic64_read(&cn->free_count);
	s->fail_count = atomic64_read(&cn->fail_count);
	s->numa_hit = atomic64_read(&cn->numa_hit);
	s->numa_miss = atomic64_read(&cn->numa_miss);
	s->numa_foreign = atomic64_read(&cn->numa_foreign);
	s->local_node = atomic64_read(&cn->local_node);
	s->other_node = atomic64_read(&cn->other_node);
	ret = copy_to_user(uarg, s, sizeof(*s)) ? -EFAULT : 0;
out:
	kfree(bs);
	kfree(s);
	return ret;
}

static long co_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct co_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case CARVEOUT_IOC_INFO:
		return co_ioctl_info(f, uarg);
	case CARVEOUT_IOC_ALLOC:
		return co_ioctl_alloc(f, uarg);
	case CARVEOUT_IOC_FREE:
		return co_ioctl_free(f, uarg);
	case CARVEOUT_IOC_MAP:
		return co_ioctl_map(f, uarg, true);
	case CARVEOUT_IOC_UNMAP:
		return co_ioctl_map(f, uarg, false);
	case CARVEOUT_IOC_SYNC:
		return co_ioctl_sync(f, uarg);
	case CARVEOUT_IOC_EXPORT:
		return co_ioctl_export(f, uarg);
	case CARVEOUT_IOC_STATS:
		return co_ioctl_stats(f, uarg);
	default:
		return -ENOTTY;
	}
}

static void co_vm_open(struct vm_area_struct *vma)
{
	struct co_buffer *buf = vma->vm_private_data;

	co_buffer_get(buf);
	mutex_lock(&buf->lock);
	buf->nr_mmaps++;
	mutex_unlock(&buf->lock);
}

static void co_vm_close(struct vm_area_struct *vma)
{
	struct co_buffer *buf = vma->vm_private_data;

	mutex_lock(&buf->lock);
	buf->nr_mmaps--;
	mutex_unlock(&buf->lock);
	co_buffer_put(buf);
}

static const struct vm_operations_struct co_vm_ops = {
	.open	= co_vm_open,
	.close	= co_vm_close,
};

static int co_mmap(struct file *file, struct vm_area_struct *vma)
{
	const unsigned int shift = CO_MMAP_SHIFT - PAGE_SHIFT;
	struct co_file *f = file->private_data;
	unsigned long handle = vma->vm_pgoff >> shift;
	struct co_buffer *buf;
	int ret;

	if (handle > CO_HANDLE_MAX)
		return -EINVAL;
	buf = co_lookup(f, handle);
	if (!buf)
		return -EINVAL;
	ret = co_buffer_mmap(buf, vma, vma->vm_pgoff & ((1UL << shift) - 1));
	if (ret) {
		co_buffer_put(buf);
		return ret;
	}
	/* The lookup reference now belongs to the mapping. */
	vma->vm_private_data = buf;
	vma->vm_ops = &co_vm_ops;
	mutex_lock(&buf->lock);
	buf->nr_mmaps++;
	mutex_unlock(&buf->lock);
	return 0;
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
	BUILD_BUG_ON(sizeof(struct carveout_info) % 8);
	BUILD_BUG_ON(sizeof(struct carveout_node_info) % 8);
	BUILD_BUG_ON(sizeof(struct carveout_alloc) % 8);
	BUILD_BUG_ON(sizeof(struct carveout_handle) % 8);
	BUILD_BUG_ON(sizeof(struct carveout_map) % 8);
	BUILD_BUG_ON(sizeof(struct carveout_sync) % 8);
	BUILD_BUG_ON(sizeof(struct carveout_export) % 8);
	BUILD_BUG_ON(sizeof(struct carveout_stats) % 8);
	BUILD_BUG_ON(CARVEOUT_EXPORT_FLAGS != (O_CLOEXEC | O_RDWR));

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
