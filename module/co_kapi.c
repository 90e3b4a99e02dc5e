// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: the in-kernel API (include/carveout/kapi.h).
 *
 * In-kernel buffers belong to one owner, the kernel client, created at
 * load and exempt from the per-file and per-user limits.  They are whole
 * pages: the client lives as long as the module, so slab caches of its own
 * would pin pages of the region for good.
 *
 * Every live in-kernel buffer holds a reference to this module, so a
 * client that unloads without freeing its buffers keeps carveout loaded
 * (rmmod says it is in use, debugfs "callers" names the site) instead of
 * letting unload take memory still in use.
 *
 * struct carveout_kbuf is struct co_buffer.  The caller of
 * carveout_kbuf_alloc() is recorded as a return address only, and named
 * (%pS) when debugfs prints it: nothing is looked up or formatted per
 * allocation.  So that a site is still named after its module is gone
 * (the case "callers" is for: a client that unloaded without freeing),
 * a module notifier names, as the module goes, the sites of the live
 * buffers that lie in it; the names are formatted once per site and kept
 * in an xarray until unload.
 *
 * Locks: see carveout.h; the call-site xarray's own lock, under a walk of
 * the buffers (co_buffers_rwsem) when a module goes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/fcntl.h>
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/slab.h>

#include <linux/carveout.h>

#include "carveout.h"
#include <carveout/kapi.h>

struct co_file *co_kernel_client;
EXPORT_SYMBOL_IF_KUNIT(co_kernel_client);

/*
 * Call site -> its name ("symbol+off/size [module]"), for the sites of
 * modules that went while they had live buffers; kept until unload.
 */
static DEFINE_XARRAY(co_callsites);

/* The name of a call site: a string that lives until unload, or NULL. */
static const char *co_callsite_name(void *caller)
{
	char *name, *old;

	name = xa_load(&co_callsites, (unsigned long)caller);
	if (name)
		return name;
	name = kasprintf(GFP_KERNEL, "%pS", caller);
	if (!name)
		return NULL;
	old = xa_cmpxchg(&co_callsites, (unsigned long)caller, NULL, name,
			 GFP_KERNEL);
	if (!old)
		return name;
	kfree(name);
	return xa_is_err(old) ? NULL : old;
}

/**
 * co_callsites_name() - name the call sites of live in-kernel buffers
 * @match: true for the call sites to name
 * @priv: passed to @match
 *
 * Sets co_buffer.caller_sym of each live buffer whose call site @match
 * selects and that has no name yet, while the site can still be looked
 * up.  A name that cannot be allocated is left out: debugfs then prints
 * the address.
 *
 * Context: process context, sleeps.
 */
VISIBLE_IF_KUNIT void co_callsites_name(bool (*match)(unsigned long ip,
						      void *priv),
					void *priv)
{
	struct co_buffer *buf;
	u64 pos;

	co_buffers_walk_begin();
	for (pos = 0; (buf = co_buffers_find(&pos)); pos++)
		if (buf->caller && !buf->caller_sym &&
		    match((unsigned long)buf->caller, priv))
			WRITE_ONCE(buf->caller_sym,
				   co_callsite_name(buf->caller));
	co_buffers_walk_end();
}
EXPORT_SYMBOL_IF_KUNIT(co_callsites_name);

static bool co_in_module(unsigned long ip, void *mod)
{
	return within_module(ip, mod);
}

/* A module is going: name its buffers' call sites while it still can be. */
static int co_module_notify(struct notifier_block *nb, unsigned long action,
			    void *mod)
{
	if (action == MODULE_STATE_GOING)
		co_callsites_name(co_in_module, mod);
	return NOTIFY_DONE;
}

static struct notifier_block co_module_nb = {
	.notifier_call = co_module_notify,
};

static inline struct co_buffer *co_buf(const struct carveout_kbuf *buf)
{
	return (struct co_buffer *)buf;
}

/**
 * carveout_kbuf_alloc() - allocate a zeroed, physically contiguous buffer
 * @size: bytes (> 0)
 * @align: alignment in bytes, 0 or a power of two
 * @nid: node for CARVEOUT_POLICY_STRICT and _PREFERRED
 * @policy: CARVEOUT_POLICY_LOCAL, _STRICT or _PREFERRED
 * @flags: CARVEOUT_ALLOC_* cache mode; buffers are always whole pages
 *
 * Context: process context, sleeps.
 * Return: the buffer, or an ERR_PTR (-EINVAL, -ENODEV, -ENOMEM).
 */
struct carveout_kbuf *carveout_kbuf_alloc(size_t size, size_t align, int nid,
					  u32 policy, u32 flags)
{
	struct co_alloc_req req = {
		.size = size, .align = align, .nid = nid, .policy = policy,
		.flags = flags | CARVEOUT_ALLOC_PAGES,
		.caller = (void *)_RET_IP_,
	};
	struct co_buffer *buf;

	might_sleep();
	if (!size || (align & (align - 1)) || policy == CARVEOUT_POLICY_DEVICE ||
	    policy > CARVEOUT_POLICY_MAX || (flags & ~CARVEOUT_ALLOC_FLAGS) ||
	    (flags & CARVEOUT_ALLOC_CACHE_MASK) == CARVEOUT_ALLOC_CACHE_MASK)
		return ERR_PTR(-EINVAL);
	buf = co_buffer_alloc(co_kernel_client, &req);
	if (IS_ERR(buf))
		return ERR_CAST(buf);
	/* Held until carveout_kbuf_free(), so unload cannot pull the memory. */
	__module_get(THIS_MODULE);
	return (struct carveout_kbuf *)buf;
}
EXPORT_SYMBOL_GPL(carveout_kbuf_alloc);

/**
 * carveout_kbuf_free() - drop the caller's buffer
 * @buf: from carveout_kbuf_alloc(); its DMA mappings are removed
 *
 * The memory goes back once exported dma-bufs of it are gone too (they
 * pin carveout themselves).  The module reference the allocation took
 * goes here.
 *
 * Context: process context, sleeps.
 */
void carveout_kbuf_free(struct carveout_kbuf *buf)
{
	co_buffer_kill(co_buf(buf));
	co_buffer_put(co_buf(buf));
	module_put(THIS_MODULE);
}
EXPORT_SYMBOL_GPL(carveout_kbuf_free);

/**
 * carveout_kbuf_phys() - physical address of a buffer
 * @buf: the buffer
 *
 * Context: any.
 * Return: the physical address of its first byte.
 */
phys_addr_t carveout_kbuf_phys(const struct carveout_kbuf *buf)
{
	return co_buf(buf)->phys;
}
EXPORT_SYMBOL_GPL(carveout_kbuf_phys);

/**
 * carveout_kbuf_vaddr() - kernel virtual address of a buffer
 * @buf: the buffer
 *
 * Context: any.
 * Return: its address in the kernel's linear mapping.
 */
void *carveout_kbuf_vaddr(const struct carveout_kbuf *buf)
{
	return phys_to_virt(co_buf(buf)->phys);
}
EXPORT_SYMBOL_GPL(carveout_kbuf_vaddr);

/**
 * carveout_kbuf_size() - usable size of a buffer
 * @buf: the buffer
 *
 * Context: any.
 * Return: bytes reserved for it (at least what was asked for).
 */
size_t carveout_kbuf_size(const struct carveout_kbuf *buf)
{
	return co_buf(buf)->granted;
}
EXPORT_SYMBOL_GPL(carveout_kbuf_size);

/**
 * carveout_node_stats() - a node's figures, as CARVEOUT_IOC_STATS has them
 * @nid: the node
 * @st: filled: region, free and clean bytes, free blocks per order,
 *	counters; @st->size is set to sizeof(*st)
 *
 * Context: process context.
 * Return: 0, -ENODEV (no region on @nid) or -ENOMEM.
 */
int carveout_node_stats(int nid, struct carveout_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->node = nid;
	if (nid < 0)
		return -ENODEV;
	return co_stats_fill(st, nid);
}
EXPORT_SYMBOL_GPL(carveout_node_stats);

/**
 * carveout_kbuf_nid() - node a buffer sits on
 * @buf: the buffer
 *
 * Context: any.
 * Return: the NUMA node id.
 */
int carveout_kbuf_nid(const struct carveout_kbuf *buf)
{
	return co_buf(buf)->node->nid;
}
EXPORT_SYMBOL_GPL(carveout_kbuf_nid);

/**
 * carveout_kbuf_map() - map a buffer for a device (streaming DMA)
 * @buf: the buffer
 * @dev: the device
 * @dir: direction
 * @addr: the address the device uses
 *
 * Context: process context.
 * Return: 0 or a negative errno, see co_dma_map().
 */
int carveout_kbuf_map(struct carveout_kbuf *buf, struct device *dev,
		      enum dma_data_direction dir, dma_addr_t *addr)
{
	return co_dma_map(co_buf(buf), dev, dir, addr);
}
EXPORT_SYMBOL_GPL(carveout_kbuf_map);

/**
 * carveout_kbuf_unmap() - remove a mapping made by carveout_kbuf_map()
 * @buf: the buffer
 * @dev: the device
 * @addr: the address carveout_kbuf_map() returned
 *
 * Context: process context.
 * Return: 0, or -ENOENT when there is no such mapping.
 */
int carveout_kbuf_unmap(struct carveout_kbuf *buf, struct device *dev,
			dma_addr_t addr)
{
	return co_dma_unmap(co_buf(buf), dev, addr);
}
EXPORT_SYMBOL_GPL(carveout_kbuf_unmap);

/**
 * carveout_kbuf_export() - export a buffer as a dma-buf
 * @buf: the buffer; the dma-buf keeps it alive
 * @flags: O_RDWR / O_CLOEXEC for the dma-buf's file
 *
 * Context: process context.
 * Return: the dma-buf, or an ERR_PTR.
 */
struct dma_buf *carveout_kbuf_export(struct carveout_kbuf *buf, int flags)
{
	return co_buffer_export(co_buf(buf), flags);
}
EXPORT_SYMBOL_GPL(carveout_kbuf_export);

/**
 * co_kapi_init() - create the kernel client, watch modules that go
 *
 * Context: module load.
 * Return: 0, -ENOMEM or the error of register_module_notifier().
 */
int co_kapi_init(void)
{
	int ret;

	co_kernel_client = co_kernel_client_create();
	if (!co_kernel_client)
		return -ENOMEM;
	ret = register_module_notifier(&co_module_nb);
	if (ret)
		co_file_put(co_kernel_client);
	return ret;
}

/**
 * co_kapi_exit() - stop watching modules, drop the kernel client
 *
 * Context: module unload; every in-kernel buffer is gone (their users
 * depend on this module).
 */
void co_kapi_exit(void)
{
	unsigned long ip;
	char *name;

	unregister_module_notifier(&co_module_nb);
	co_file_put(co_kernel_client);
	xa_for_each(&co_callsites, ip, name)
		kfree(name);
	xa_destroy(&co_callsites);
}

/**
 * carveout_dmabuf_alloc() - a buffer for the calling task, as a dma-buf
 * @size: bytes (> 0); the buffer is whole pages
 * @nid: node for CARVEOUT_POLICY_STRICT and _PREFERRED
 * @policy: CARVEOUT_POLICY_LOCAL, _STRICT or _PREFERRED
 * @fd_flags: O_RDONLY, O_WRONLY or O_RDWR, and O_CLOEXEC, for the dma-buf
 *	file
 *
 * For front-ends that allocate on a user's behalf (carveout_heap: the
 * dma-buf heaps).  Unlike carveout_kbuf_alloc(), the buffer is the
 * calling task's: it is charged to an owner of its own made for the
 * caller, as an open file of /dev/carveout would be, so the per-user
 * limit counts it with the user's other buffers and the per-file limit
 * applies to it alone, and debugfs names the calling process.  The
 * dma-buf holds the only reference: the memory goes back when the
 * dma-buf's last user goes, and carveout stays loaded until then (the
 * dma-buf's exporter).
 *
 * Context: process context, sleeps.
 * Return: the dma-buf (the caller installs its fd), or an ERR_PTR:
 * -EINVAL, -EFBIG (larger than any piece of a region), -ENODEV (strict
 * node without a region), -EDQUOT (file or user limit), -ENOMEM, -EINTR.
 */
struct dma_buf *carveout_dmabuf_alloc(size_t size, int nid, u32 policy,
				      u32 fd_flags)
{
	struct co_alloc_req req = {
		.size = size, .nid = nid, .policy = policy,
		.flags = CARVEOUT_ALLOC_PAGES,
	};
	struct dma_buf *dmabuf;
	struct co_buffer *buf;
	struct co_file *f;

	might_sleep();
	if (!size || policy == CARVEOUT_POLICY_DEVICE ||
	    policy > CARVEOUT_POLICY_MAX ||
	    (fd_flags & ~(O_ACCMODE | O_CLOEXEC)) ||
	    (fd_flags & O_ACCMODE) == O_ACCMODE)
		return ERR_PTR(-EINVAL);
	if (size > co_regions_largest_piece())
		return ERR_PTR(-EFBIG);
	f = co_file_create();
	if (!f)
		return ERR_PTR(-ENOMEM);
	buf = co_buffer_alloc(f, &req);
	/* The buffer holds its owner; nothing else does. */
	co_file_put(f);
	if (IS_ERR(buf))
		return ERR_CAST(buf);
	dmabuf = co_buffer_export(buf, fd_flags);
	/* The dma-buf holds the buffer now, or the buffer goes here. */
	co_buffer_put(buf);
	return dmabuf;
}
EXPORT_SYMBOL_GPL(carveout_dmabuf_alloc);

/**
 * carveout_dev_allow_map() - let users of /dev/carveout MAP buffers for a
 *	device
 * @dev: a PCI or platform device bound to the calling driver
 *
 * Without it, only CAP_SYS_ADMIN may MAP buffers for a device another
 * driver is bound to.  The opt-in holds while the driver that made it is
 * bound; unbinding (or removing the device) ends it and removes the
 * mappings made under it.  It does not cover a device no IOMMU translates.
 *
 * Context: process context, sleeps; from probe or later.
 * Return: 0; -EINVAL when @dev is not a PCI or platform device or no
 * driver is bound to it; -ENOMEM.
 */
int carveout_dev_allow_map(struct device *dev)
{
	might_sleep();
	return co_access_optin(dev);
}
EXPORT_SYMBOL_GPL(carveout_dev_allow_map);

/**
 * carveout_dev_disallow_map() - withdraw carveout_dev_allow_map()
 * @dev: the device
 *
 * Mappings made through MAP under the opt-in are removed (through the DMA
 * API, before this returns); their owners' UNMAP and SYNC then fail with
 * ENOENT.  Not needed before unbinding: that ends the opt-in anyway.
 *
 * Context: process context, sleeps.
 */
void carveout_dev_disallow_map(struct device *dev)
{
	might_sleep();
	co_access_optout(dev);
}
EXPORT_SYMBOL_GPL(carveout_dev_disallow_map);
