// SPDX-License-Identifier: GPL-2.0
/*
 * carveout_heap: carveout's memory as dma-buf heaps.
 *
 * Programs that take their buffers from the dma-buf heap interface
 * (GStreamer, libcamera, Android's allocator, Mesa) open
 * /dev/dma_heap/<name> and issue DMA_HEAP_IOCTL_ALLOC.  This module adds
 * carveout's heaps there, so they get carveout's buffers unchanged:
 *
 *   reserved-contiguous          the calling CPU's node first, then the
 *                                nearest (CARVEOUT_POLICY_LOCAL)
 *   reserved-node<N>-contiguous  node N only (CARVEOUT_POLICY_STRICT); one
 *                                per node with memory at registration
 *
 * The names follow Documentation/userspace-api/dma-buf-heaps.rst: they
 * describe the memory (reserved at load, physically contiguous, on a
 * node), not the allocator, and do not change from one version to the
 * next.
 *
 * A heap cannot be removed: the framework has no call for it, and keeps
 * pointers to the heap's name and operations.  So the module that adds one
 * must stay loaded for good, while carveout must stay free to unload.
 * Hence a module of its own that holds nothing of carveout's: it has no
 * link-time dependency on carveout and reaches it through
 * symbol_get(carveout_dmabuf_alloc) for the length of one allocation.
 * Without carveout loaded, an allocation fails with ENODEV; a dma-buf it
 * made keeps carveout loaded (carveout is its exporter) until the
 * dma-buf's last user goes.  Registering a heap takes a reference to this
 * module that is never dropped, so rmmod says it is in use.  carveout
 * learns whether heaps exist through symbol_get(carveout_heap_count).
 * The other way round, carveout registering itself here, would make one
 * module depend on the other: carveout could not load without this one
 * (which kernels without the heap API do not have), or this one would
 * hold carveout for good.
 *
 * carveout_dmabuf_alloc() charges the calling task's user, so the per-user
 * limit and INFO's user_bytes count heap buffers as they count ALLOC's.
 *
 * Built only against kernels that export dma_heap_add() to modules
 * (Kbuild).  The parameter "enable" turns the heaps off (allocations fail
 * with ENODEV) and on again (registering them if that did not happen).
 *
 * Lock order: co_heap_lock (registration) is taken alone; allocations take
 * no lock of this module.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-heap.h>
#include <linux/err.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/numa.h>
#include <linux/slab.h>
#include <uapi/linux/dma-heap.h>

#include <carveout/kapi.h>

#include "co_compat.h"
#include "heap/co_heap.h"

#define CO_HEAP_NAME_LEN	32

/**
 * struct co_heap - one registered heap; never freed
 * @link: entry in co_heaps
 * @nid: node of the STRICT policy, NUMA_NO_NODE for LOCAL
 * @policy: CARVEOUT_POLICY_LOCAL or _STRICT
 * @name: its name; the framework keeps a pointer to it
 */
struct co_heap {
	struct list_head link;
	int nid;
	u32 policy;
	char name[CO_HEAP_NAME_LEN];
};

/* Protects co_heaps, co_nr_heaps' updates and co_heap_live. */
static DEFINE_MUTEX(co_heap_lock);
static LIST_HEAD(co_heaps);
static unsigned int co_nr_heaps;
/* Set from init until exit: parameter writes may register heaps. */
static bool co_heap_live;
static bool co_heap_enable = true;

static struct dma_buf *co_heap_allocate(struct dma_heap *heap,
					unsigned long len, u32 fd_flags,
					u64 heap_flags)
{
	struct co_heap *h = dma_heap_get_drvdata(heap);
	typeof(carveout_dmabuf_alloc) *alloc;
	struct dma_buf *dmabuf;

	if (heap_flags & ~DMA_HEAP_VALID_HEAP_FLAGS)
		return ERR_PTR(-EINVAL);
	if (!READ_ONCE(co_heap_enable))
		return ERR_PTR(-ENODEV);
	/* carveout stays loaded from here until symbol_put(). */
	alloc = symbol_get(carveout_dmabuf_alloc);
	if (!alloc)
		return ERR_PTR(-ENODEV);
	dmabuf = alloc(len, h->nid, h->policy, fd_flags);
	symbol_put(carveout_dmabuf_alloc);
	return dmabuf;
}

static const struct dma_heap_ops co_heap_ops = {
	.allocate = co_heap_allocate,
};

static bool co_heap_exists(const char *name)
{
	struct co_heap *h;

	lockdep_assert_held(&co_heap_lock);
	list_for_each_entry(h, &co_heaps, link)
		if (!strcmp(h->name, name))
			return true;
	return false;
}

/* Add one heap unless it is there; 0 or a negative errno. */
static int co_heap_add(int nid, u32 policy)
{
	struct dma_heap_export_info exp = { .ops = &co_heap_ops };
	struct dma_heap *heap;
	struct co_heap *h;

	lockdep_assert_held(&co_heap_lock);
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	if (policy == CARVEOUT_POLICY_STRICT)
		snprintf(h->name, sizeof(h->name), "reserved-node%d-contiguous",
			 nid);
	else
		strscpy(h->name, "reserved-contiguous", sizeof(h->name));
	if (co_heap_exists(h->name)) {
		kfree(h);
		return 0;
	}
	h->nid = nid;
	h->policy = policy;
	exp.name = h->name;
	exp.priv = h;
	heap = dma_heap_add(&exp);
	if (IS_ERR(heap)) {
		pr_warn("cannot add heap %s: %ld\n", h->name, PTR_ERR(heap));
		kfree(h);
		return PTR_ERR(heap);
	}
	list_add_tail(&h->link, &co_heaps);
	WRITE_ONCE(co_nr_heaps, co_nr_heaps + 1);
	return 0;
}

/*
 * Add the heaps that are not there yet.  The first one takes the module
 * reference that keeps this module loaded for good; try_module_get()
 * fails once unload has begun, so no heap can appear then.
 * Return: 0 when any heap exists, else the last error.
 */
static int co_heap_register(void)
{
	int nid, ret, err = 0;
	bool first;

	lockdep_assert_held(&co_heap_lock);
	if (!co_heap_live || !try_module_get(THIS_MODULE))
		return -ENODEV;
	first = !co_nr_heaps;
	ret = co_heap_add(NUMA_NO_NODE, CARVEOUT_POLICY_LOCAL);
	if (ret)
		err = ret;
	for_each_node_state(nid, N_MEMORY) {
		ret = co_heap_add(nid, CARVEOUT_POLICY_STRICT);
		if (ret)
			err = ret;
	}
	if (!first || !co_nr_heaps)
		module_put(THIS_MODULE);
	if (first && co_nr_heaps)
		pr_info("%u heaps in /dev/dma_heap\n", co_nr_heaps);
	return co_nr_heaps ? 0 : err;
}

/* "enable": off refuses allocations; on registers what is missing. */
static int co_heap_enable_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret;

	ret = kstrtobool(val, &on);
	if (ret)
		return ret;
	mutex_lock(&co_heap_lock);
	WRITE_ONCE(co_heap_enable, on);
	if (on && co_heap_live)
		ret = co_heap_register();
	mutex_unlock(&co_heap_lock);
	return ret;
}

static const struct kernel_param_ops co_heap_enable_ops = {
	.set = co_heap_enable_set,
	.get = param_get_bool,
};
module_param_cb(enable, &co_heap_enable_ops, &co_heap_enable, 0644);
MODULE_PARM_DESC(enable, "Serve carveout's dma-buf heaps (N: allocations fail with ENODEV; heaps cannot be removed)");

/**
 * carveout_heap_count() - how many of carveout's heaps serve allocations
 *
 * Context: any.
 * Return: the heaps registered, or 0 while "enable" is off.
 */
unsigned int carveout_heap_count(void)
{
	return READ_ONCE(co_heap_enable) ? READ_ONCE(co_nr_heaps) : 0;
}
EXPORT_SYMBOL_GPL(carveout_heap_count);

static int __init co_heap_init(void)
{
	int ret = 0;

	mutex_lock(&co_heap_lock);
	co_heap_live = true;
	if (co_heap_enable)
		ret = co_heap_register();
	if (ret)
		co_heap_live = false;
	mutex_unlock(&co_heap_lock);
	return ret;
}

/* Reached only while no heap was ever registered (they pin the module). */
static void __exit co_heap_exit(void)
{
	mutex_lock(&co_heap_lock);
	co_heap_live = false;
	mutex_unlock(&co_heap_lock);
}

module_init(co_heap_init);
module_exit(co_heap_exit);
MODULE_DESCRIPTION("carveout's reserved contiguous memory as dma-buf heaps");
MODULE_LICENSE("GPL");
MODULE_VERSION(CO_VERSION);
CO_IMPORT_NS(DMA_BUF_HEAP);
