// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: buffers, their owners, placement, DMA mappings and dma-buf.
 *
 * A buffer is a physically contiguous range of one node's region: whole
 * pages from a piece's buddy arena, or, below a page, one object of the
 * owner's private slab caches (so a page never holds two owners' data).
 * It is zeroed before anyone sees it.  Write-combined and uncached buffers
 * are always whole pages, and their kernel mapping is switched to the same
 * memory type while they live, so no page is ever mapped with two types.
 *
 * Placement walks the nodes in the policy's order (the wanted node first,
 * then the others by node distance) and counts what numastat counts.
 *
 * Ownership and lifetime (see carveout.h): the owner's handle, every mmap,
 * every exported dma-buf and every in-kernel user hold a reference.  DMA
 * mappings made with MAP belong to the handle: freeing the handle removes
 * them (a device must not keep an IOVA to memory its owner gave up), while
 * CPU mappings and dma-bufs keep the memory alive until they go.
 *
 * Bytes are charged to the owning file and to its user when the buffer is
 * made and uncharged when its memory goes back, against carveout.file_limit
 * and carveout.user_limit.
 *
 * Lock order (outermost first):
 *   co_file.lock -> co_buffer.lock -> co_buffers_lock
 *   co_files_lock and co_users' xarray lock are taken alone.
 * co_buffer.lock protects the buffer's DMA mappings, dma-buf attachments
 * and its dead flag.  co_buffers_lock protects the list of live buffers
 * (debugfs), co_files_lock the list of owners.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cleanup.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/topology.h>
#ifdef CONFIG_X86
#include <asm/set_memory.h>
#endif

#include <linux/carveout.h>

#include "carveout.h"
#include "co_compat.h"

unsigned long co_file_limit;
EXPORT_SYMBOL_IF_KUNIT(co_file_limit);
module_param_named(file_limit, co_file_limit, ulong, 0644);
MODULE_PARM_DESC(file_limit, "Bytes one open file may hold (0: no limit)");

unsigned long co_user_limit;
EXPORT_SYMBOL_IF_KUNIT(co_user_limit);
module_param_named(user_limit, co_user_limit, ulong, 0644);
MODULE_PARM_DESC(user_limit, "Bytes one user may hold over all files (0: no limit)");

LIST_HEAD(co_buffers);
/* Protects co_buffers, the list of live buffers (for debugfs). */
DEFINE_MUTEX(co_buffers_lock);
LIST_HEAD(co_files);
/* Protects co_files, the list of owners (for debugfs). */
DEFINE_MUTEX(co_files_lock);

/* uid -> struct co_user; entries live until unload. */
static DEFINE_XARRAY(co_users);

static inline struct page *co_phys_page(phys_addr_t phys)
{
	return pfn_to_page(PHYS_PFN(phys));
}

static struct co_user *co_user_get(kuid_t uid)
{
	unsigned long key = from_kuid(&init_user_ns, uid);
	struct co_user *u, *old;

	u = xa_load(&co_users, key);
	if (u)
		return u;
	u = co_kzalloc(sizeof(*u), GFP_KERNEL);
	if (!u)
		return NULL;
	u->uid = uid;
	old = xa_cmpxchg(&co_users, key, NULL, u, GFP_KERNEL);
	if (xa_is_err(old)) {
		kfree(u);
		return NULL;
	}
	if (old) {
		kfree(u);
		return old;
	}
	return u;
}

/**
 * co_users_exit() - free the per-user accounts
 *
 * Context: module unload, when no buffer is left.
 */
void co_users_exit(void)
{
	struct co_user *u;
	unsigned long key;

	xa_for_each(&co_users, key, u) {
		WARN_ON_ONCE(atomic64_read(&u->bytes));
		kfree(u);
	}
	xa_destroy(&co_users);
}

/**
 * co_file_create() - make the state of a new owner
 *
 * Context: process context; charges the current user.
 * Return: the owner with one reference, or NULL.
 */
struct co_file *co_file_create(void)
{
	struct co_file *f;

	f = co_kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	f->slab = co_kcalloc(nr_node_ids, sizeof(*f->slab), GFP_KERNEL);
	f->user = co_user_get(current_uid());
	if (!f->slab || !f->user) {
		kfree(f->slab);
		kfree(f);
		return NULL;
	}
	kref_init(&f->ref);
	mutex_init(&f->lock);
	xa_init_flags(&f->handles, XA_FLAGS_ALLOC1);
	f->pid = task_tgid_nr(current);
	get_task_comm(f->comm, current);
	mutex_lock(&co_files_lock);
	list_add_tail(&f->link, &co_files);
	mutex_unlock(&co_files_lock);
	return f;
}
EXPORT_SYMBOL_IF_KUNIT(co_file_create);

static void co_file_release(struct kref *ref)
{
	struct co_file *f = container_of(ref, struct co_file, ref);
	int nid;

	mutex_lock(&co_files_lock);
	list_del(&f->link);
	mutex_unlock(&co_files_lock);
	for (nid = 0; nid < nr_node_ids; nid++) {
		if (!f->slab[nid])
			continue;
		co_slab_drain(f->slab[nid]);
		/* Every object is gone: each buffer held a file reference. */
		WARN_ON_ONCE(co_slab_set_destroy(f->slab[nid]));
	}
	WARN_ON_ONCE(!xa_empty(&f->handles));
	xa_destroy(&f->handles);
	mutex_destroy(&f->lock);
	kfree(f->slab);
	kfree(f);
}

/**
 * co_file_put() - drop a reference to an owner
 * @f: the owner
 *
 * Context: process context.
 */
void co_file_put(struct co_file *f)
{
	kref_put(&f->ref, co_file_release);
}
EXPORT_SYMBOL_IF_KUNIT(co_file_put);

static struct co_slab_set *co_file_slab(struct co_file *f, struct co_node *cn)
{
	struct co_slab_set *s;
	char name[32];

	mutex_lock(&f->lock);
	s = f->slab[cn->nid];
	if (!s) {
		snprintf(name, sizeof(name), "pid%d-node%d", f->pid, cn->nid);
		/* A file's sub-page objects live in the node's first piece. */
		s = co_slab_set_create(&cn->pieces[0].buddy, name);
		f->slab[cn->nid] = s;
	}
	mutex_unlock(&f->lock);
	return s;
}

/* Does @dev reach memory through a translating IOMMU? */
static bool co_dev_translated(struct device *dev)
{
	struct iommu_domain *dom;

	if (!device_iommu_mapped(dev))
		return false;
	dom = iommu_get_domain_for_dev(dev);
	return dom && dom->type != IOMMU_DOMAIN_IDENTITY;
}

/**
 * co_pick_nodes() - the nodes to try for a request, best first
 * @req: the request
 * @order: filled with node ids
 * @max: room in @order
 *
 * The wanted node (the policy's) comes first, then, unless the policy is
 * strict, every other node with a region by increasing distance.
 *
 * Context: any.
 * Return: number of nodes in @order; -EINVAL for a bad node or policy,
 * -ENODEV when a strict request names a node without a region.
 */
int co_pick_nodes(const struct co_alloc_req *req, int *order, int max)
{
	int want, nid, n = 0, i, j;

	switch (req->policy) {
	case CARVEOUT_POLICY_LOCAL:
		want = numa_node_id();
		break;
	case CARVEOUT_POLICY_STRICT:
	case CARVEOUT_POLICY_PREFERRED:
		if (req->nid < 0 || req->nid >= MAX_NUMNODES)
			return -EINVAL;
		want = req->nid;
		break;
	case CARVEOUT_POLICY_DEVICE:
		if (!req->dev)
			return -EINVAL;
		want = dev_to_node(req->dev);
		if (want == NUMA_NO_NODE)
			want = numa_node_id();
		break;
	default:
		return -EINVAL;
	}
	if (req->policy == CARVEOUT_POLICY_STRICT) {
		if (!co_nodes[want])
			return -ENODEV;
		order[0] = want;
		return 1;
	}
	if (co_nodes[want] && n < max)
		order[n++] = want;
	for (nid = 0; nid < MAX_NUMNODES && n < max; nid++) {
		if (!co_nodes[nid] || nid == want)
			continue;
		/* Insertion by distance from the wanted node. */
		for (i = n; i > 0 && order[i - 1] != want &&
		     node_distance(want, order[i - 1]) > node_distance(want, nid); i--)
			;
		for (j = n; j > i; j--)
			order[j] = order[j - 1];
		order[i] = nid;
		n++;
	}
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(co_pick_nodes);

static bool co_charge(struct co_file *f, u64 bytes)
{
	u64 fb, ub;

	fb = atomic64_add_return(bytes, &f->bytes);
	ub = atomic64_add_return(bytes, &f->user->bytes);
	if (f->kernel)
		return true;
	if ((co_file_limit && fb > co_file_limit) ||
	    (co_user_limit && ub > co_user_limit)) {
		atomic64_sub(bytes, &f->bytes);
		atomic64_sub(bytes, &f->user->bytes);
		return false;
	}
	return true;
}

static void co_uncharge(struct co_file *f, u64 bytes)
{
	atomic64_sub(bytes, &f->bytes);
	atomic64_sub(bytes, &f->user->bytes);
}

static bool co_use_slab(const struct co_alloc_req *req)
{
	return req->size <= co_slab_max_size() &&
	       !(req->flags & (CARVEOUT_ALLOC_PAGES | CARVEOUT_ALLOC_CACHE_MASK)) &&
	       (!req->align || req->align <= CO_SLAB_ALIGN);
}

/* Take the memory for @buf on @cn; fills phys, granted, piece or slab. */
static int co_node_take(struct co_file *f, struct co_node *cn,
			struct co_buffer *buf, const struct co_alloc_req *req,
			unsigned long limit_pfn)
{
	unsigned long pfn, nr, align;
	struct co_slab_set *s;
	unsigned int i;
	u64 addr;

	if (co_use_slab(req)) {
		s = co_file_slab(f, cn);
		if (s && (!limit_pfn || cn->pieces[0].start_pfn +
			  cn->pieces[0].nr_pages <= limit_pfn) &&
		    !co_slab_alloc(s, req->size, &addr)) {
			buf->slab = s;
			buf->phys = addr;
			buf->granted = co_slab_class_size(req->size);
			return 0;
		}
		/* Fall back to whole pages. */
	}
	nr = DIV_ROUND_UP(req->size, PAGE_SIZE);
	align = req->align > PAGE_SIZE ? req->align >> PAGE_SHIFT : 0;
	for (i = 0; i < cn->nr_pieces; i++) {
		if (!co_buddy_alloc(&cn->pieces[i].buddy, nr, align, limit_pfn,
				    &pfn)) {
			buf->piece = &cn->pieces[i];
			buf->phys = PFN_PHYS(pfn);
			buf->granted = (u64)nr << PAGE_SHIFT;
			return 0;
		}
	}
	return -ENOMEM;
}

static void co_memory_give_back(struct co_buffer *buf)
{
	if (buf->slab)
		WARN_ON_ONCE(co_slab_free(buf->slab, buf->phys, buf->size));
	else
		WARN_ON_ONCE(co_buddy_free(&buf->piece->buddy,
					   PHYS_PFN(buf->phys),
					   buf->granted >> PAGE_SHIFT));
}

/* Zero the buffer through the kernel's linear mapping. */
static int co_buffer_zero(struct co_buffer *buf)
{
	u8 *p = phys_to_virt(buf->phys);
	u64 done, chunk;

	for (done = 0; done < buf->granted; done += chunk) {
		chunk = min_t(u64, buf->granted - done, SZ_1M);
		memset(p + done, 0, chunk);
		if (done + chunk < buf->granted) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

static int co_set_memtype(struct co_buffer *buf, bool restore)
{
#ifdef CONFIG_X86
	unsigned long va = (unsigned long)phys_to_virt(buf->phys);
	int nr = buf->granted >> PAGE_SHIFT;

	switch (buf->flags & CARVEOUT_ALLOC_CACHE_MASK) {
	case CARVEOUT_ALLOC_WC:
		return restore ? set_memory_wb(va, nr) : set_memory_wc(va, nr);
	case CARVEOUT_ALLOC_UNCACHED:
		return restore ? set_memory_wb(va, nr) : set_memory_uc(va, nr);
	default:
		return 0;
	}
#else
	return (buf->flags & CARVEOUT_ALLOC_CACHE_MASK) ? -EOPNOTSUPP : 0;
#endif
}

/*
 * Take memory for @buf from the first node in the policy's order that can
 * serve it; count numastat.  Fills buf->node and the fields of
 * co_node_take().
 */
static int co_buffer_place(struct co_file *f, struct co_buffer *buf,
			   const struct co_alloc_req *req,
			   unsigned long limit_pfn)
{
	int *order __free(kfree) = NULL;
	struct co_node *cn;
	int n, i;

	order = kmalloc_array(max(co_nr_nodes, 1U), sizeof(*order), GFP_KERNEL);
	if (!order)
		return -ENOMEM;
	n = co_pick_nodes(req, order, co_nr_nodes);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		cn = co_nodes[order[i]];
		if (!co_node_take(f, cn, buf, req, limit_pfn))
			break;
		atomic64_inc(&cn->fail_count);
	}
	if (i == n)
		return -ENOMEM;

	/* numastat: the first node in @order is the one the policy wanted. */
	buf->node = cn;
	if (i == 0) {
		atomic64_inc(&cn->numa_hit);
	} else {
		atomic64_inc(&cn->numa_miss);
		atomic64_inc(&co_nodes[order[0]]->numa_foreign);
	}
	atomic64_inc(cn->nid == numa_node_id() ? &cn->local_node :
						  &cn->other_node);
	return 0;
}

/**
 * co_buffer_alloc() - allocate a zeroed buffer
 * @f: the owner; the buffer takes a reference to it
 * @req: the request (validated by the caller)
 *
 * Context: process context, sleeps.
 * Return: the buffer with one reference, or an ERR_PTR: -EINVAL (bad node
 * or policy), -ENODEV (strict node without a region), -EDQUOT (file or
 * user limit), -ENOMEM (no node could serve), -EINTR (killed while
 * zeroing).
 */
struct co_buffer *co_buffer_alloc(struct co_file *f,
				  const struct co_alloc_req *req)
{
	unsigned long limit_pfn = 0;
	struct co_buffer *buf;
	struct co_node *cn;
	u64 charge;
	int ret;

	might_sleep();
	/* Without a translating IOMMU the device must reach the bytes. */
	if (req->dev && !co_dev_translated(req->dev))
		limit_pfn = PHYS_PFN(min_t(u64, dma_get_mask(req->dev),
					   U64_MAX - PAGE_SIZE) + 1);

	charge = co_use_slab(req) ? co_slab_class_size(req->size) :
				    PAGE_ALIGN(req->size);
	if (!co_charge(f, charge))
		return ERR_PTR(-EDQUOT);

	buf = co_kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf) {
		co_uncharge(f, charge);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&buf->ref);
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->maps);
	INIT_LIST_HEAD(&buf->attachments);
	buf->size = req->size;
	buf->flags = req->flags;
	buf->caller = req->caller;
	if (req->caller)
		buf->caller_sym = co_callsite_name(req->caller);
	buf->pid = task_tgid_nr(current);
	get_task_comm(buf->comm, current);

	ret = co_buffer_place(f, buf, req, limit_pfn);
	if (ret)
		goto fail;
	cn = buf->node;
	if (buf->granted != charge) {
		/* A slab request that fell back to pages. */
		co_uncharge(f, charge);
		if (!co_charge(f, buf->granted)) {
			ret = -EDQUOT;
			goto give_back;
		}
		charge = buf->granted;
	}
	ret = co_buffer_zero(buf);
	if (ret)
		goto give_back;
	ret = co_set_memtype(buf, false);
	if (ret)
		goto give_back;

	atomic64_inc(&cn->alloc_count);
	atomic64_inc(&cn->nr_buffers);
	atomic64_add(buf->size, &cn->requested);
	atomic64_add(buf->granted, &cn->granted);

	kref_get(&f->ref);
	buf->owner = f;
	mutex_lock(&co_buffers_lock);
	list_add_tail(&buf->link, &co_buffers);
	mutex_unlock(&co_buffers_lock);
	return buf;

give_back:
	co_memory_give_back(buf);
fail:
	co_uncharge(f, charge);
	mutex_destroy(&buf->lock);
	kfree(buf);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_IF_KUNIT(co_buffer_alloc);

static void co_unmap_all(struct co_buffer *buf)
{
	struct co_dma_map *m, *tmp;

	lockdep_assert_held(&buf->lock);
	list_for_each_entry_safe(m, tmp, &buf->maps, link) {
		dma_unmap_page_attrs(m->dev, m->addr, buf->granted, m->dir, 0);
		list_del(&m->link);
		put_device(m->dev);
		kfree(m);
	}
}

static void co_buffer_release(struct kref *ref)
{
	struct co_buffer *buf = container_of(ref, struct co_buffer, ref);
	struct co_node *cn = buf->node;
	struct co_file *f = buf->owner;

	mutex_lock(&co_buffers_lock);
	list_del(&buf->link);
	mutex_unlock(&co_buffers_lock);

	mutex_lock(&buf->lock);
	co_unmap_all(buf);
	WARN_ON_ONCE(!list_empty(&buf->attachments));
	mutex_unlock(&buf->lock);

	if (co_set_memtype(buf, true))
		pr_err_ratelimited("cannot restore the memory type of %pa; leaking %llu bytes\n",
				   &buf->phys, buf->granted);
	else
		co_memory_give_back(buf);

	atomic64_dec(&cn->nr_buffers);
	atomic64_sub(buf->size, &cn->requested);
	atomic64_sub(buf->granted, &cn->granted);
	atomic64_inc(&cn->free_count);
	co_uncharge(f, buf->granted);
	mutex_destroy(&buf->lock);
	kfree(buf);
	co_file_put(f);
}

/**
 * co_buffer_get() - take a reference to a buffer
 * @buf: the buffer
 *
 * Context: any.
 */
void co_buffer_get(struct co_buffer *buf)
{
	kref_get(&buf->ref);
}
EXPORT_SYMBOL_IF_KUNIT(co_buffer_get);

/**
 * co_buffer_put() - drop a reference; the last one frees the memory
 * @buf: the buffer
 *
 * Context: process context.
 */
void co_buffer_put(struct co_buffer *buf)
{
	kref_put(&buf->ref, co_buffer_release);
}
EXPORT_SYMBOL_IF_KUNIT(co_buffer_put);

/**
 * co_buffer_kill() - the owner gave the buffer up: remove its DMA mappings
 * @buf: the buffer
 *
 * CPU mappings and dma-bufs keep the memory; devices mapped through MAP
 * lose their addresses now.
 *
 * Context: process context.
 */
void co_buffer_kill(struct co_buffer *buf)
{
	mutex_lock(&buf->lock);
	buf->dead = true;
	co_unmap_all(buf);
	mutex_unlock(&buf->lock);
}
EXPORT_SYMBOL_IF_KUNIT(co_buffer_kill);

/**
 * co_find_device() - find a device by its name on the PCI or platform bus
 * @name: e.g. "0000:00:03.0", optionally prefixed "pci:" or "platform:"
 *
 * Context: process context.
 * Return: the device with a reference held, or NULL.
 */
struct device *co_find_device(const char *name)
{
	struct device *dev = NULL;

	if (!strncmp(name, "platform:", 9))
		return bus_find_device_by_name(&platform_bus_type, NULL, name + 9);
	if (!strncmp(name, "pci:", 4))
		name += 4;
#ifdef CONFIG_PCI
	dev = bus_find_device_by_name(&pci_bus_type, NULL, name);
#endif
	if (!dev)
		dev = bus_find_device_by_name(&platform_bus_type, NULL, name);
	return dev;
}
EXPORT_SYMBOL_IF_KUNIT(co_find_device);

/**
 * struct co_dmabuf_att - one importer's view of an exported buffer
 * @link: entry in co_buffer.attachments
 * @dev: the importing device
 * @sgt: the buffer as a table of contiguous chunks
 * @mapped: @sgt is DMA-mapped for @dev
 * @dir: direction of that mapping
 */
struct co_dmabuf_att {
	struct list_head link;
	struct device *dev;
	struct sg_table sgt;
	bool mapped;
	enum dma_data_direction dir;
};

/*
 * Streaming mappings a device may write must not overlap (the DMA API's
 * cache maintenance cannot serve two writers of one cache line): a buffer
 * has at most one mapping that is not DMA_TO_DEVICE, through MAP or a
 * dma-buf attachment.
 */
static bool co_buffer_has_writer(struct co_buffer *buf)
{
	struct co_dmabuf_att *a;
	struct co_dma_map *m;

	lockdep_assert_held(&buf->lock);
	list_for_each_entry(m, &buf->maps, link)
		if (m->dir != DMA_TO_DEVICE)
			return true;
	list_for_each_entry(a, &buf->attachments, link)
		if (a->mapped && a->dir != DMA_TO_DEVICE)
			return true;
	return false;
}

/**
 * co_buffer_map() - map a buffer for a device (streaming DMA)
 * @buf: the buffer
 * @dev: the device; the mapping keeps a reference to it
 * @dir: DMA direction
 * @addr: the address the device uses
 *
 * Context: process context.
 * Return: 0; -ENOENT when the handle was freed; -ERANGE when the device,
 * with no IOMMU translating, cannot reach the buffer (allocate with the
 * DEVICE policy to place it below the device's mask); -EBUSY when @dir
 * lets the device write and another such mapping exists; -ENOMEM when the
 * mapping failed.
 */
int co_buffer_map(struct co_buffer *buf, struct device *dev,
		  enum dma_data_direction dir, dma_addr_t *addr)
{
	struct co_dma_map *m;
	int ret = 0;

	if (!co_dev_translated(dev) &&
	    buf->phys + buf->granted - 1 > dma_get_mask(dev)) {
		dev_dbg(dev, "carveout: buffer at %pa above DMA mask %#llx\n",
			&buf->phys, dma_get_mask(dev));
		return -ERANGE;
	}
	m = co_kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	mutex_lock(&buf->lock);
	if (buf->dead) {
		ret = -ENOENT;
		goto out;
	}
	if (dir != DMA_TO_DEVICE && co_buffer_has_writer(buf)) {
		ret = -EBUSY;
		goto out;
	}
	m->addr = dma_map_page_attrs(dev, co_phys_page(buf->phys),
				     offset_in_page(buf->phys), buf->granted,
				     dir, 0);
	if (dma_mapping_error(dev, m->addr)) {
		ret = -ENOMEM;
		goto out;
	}
	m->dev = get_device(dev);
	m->dir = dir;
	list_add_tail(&m->link, &buf->maps);
	*addr = m->addr;
	m = NULL;
out:
	mutex_unlock(&buf->lock);
	kfree(m);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(co_buffer_map);

/**
 * co_buffer_unmap() - remove one DMA mapping
 * @buf: the buffer
 * @dev: the device
 * @addr: the address MAP returned
 *
 * Context: process context.
 * Return: 0, or -ENOENT when no such mapping exists.
 */
int co_buffer_unmap(struct co_buffer *buf, struct device *dev,
		    dma_addr_t addr)
{
	struct co_dma_map *m;

	mutex_lock(&buf->lock);
	list_for_each_entry(m, &buf->maps, link) {
		if (m->dev == dev && m->addr == addr) {
			dma_unmap_page_attrs(dev, addr, buf->granted, m->dir, 0);
			list_del(&m->link);
			mutex_unlock(&buf->lock);
			put_device(m->dev);
			kfree(m);
			return 0;
		}
	}
	mutex_unlock(&buf->lock);
	return -ENOENT;
}
EXPORT_SYMBOL_IF_KUNIT(co_buffer_unmap);

/**
 * co_buffer_sync() - hand a byte range to the CPU or to the device(s)
 * @buf: the buffer
 * @for_cpu: true: for the CPU; false: for the device
 * @offset: first byte
 * @len: bytes (validated by the caller)
 * @addr: the mapping to sync, or 0 for every mapping
 * @dir: direction; must be the mapping's
 *
 * Context: process context.
 * Return: 0; -ENOENT when @addr names no mapping (or there is none);
 * -EINVAL when @dir is not the mapping's direction.
 */
int co_buffer_sync(struct co_buffer *buf, bool for_cpu, u64 offset,
		   u64 len, dma_addr_t addr, enum dma_data_direction dir)
{
	struct co_dma_map *m;
	int ret = -ENOENT;

	mutex_lock(&buf->lock);
	list_for_each_entry(m, &buf->maps, link) {
		if (addr && m->addr != addr)
			continue;
		if (m->dir != dir) {
			if (addr) {
				ret = -EINVAL;
				break;
			}
			continue;
		}
		if (for_cpu)
			dma_sync_single_range_for_cpu(m->dev, m->addr, offset,
						      len, m->dir);
		else
			dma_sync_single_range_for_device(m->dev, m->addr,
							 offset, len, m->dir);
		ret = 0;
	}
	mutex_unlock(&buf->lock);
	return ret;
}

/* Pages a buffer spans (a sub-page object spans its page). */
static unsigned long co_buffer_span(const struct co_buffer *buf)
{
	return PFN_UP(buf->phys + buf->granted) - PFN_DOWN(buf->phys);
}

/**
 * co_buffer_mmap() - insert a buffer's pages into a user mapping
 * @buf: the buffer
 * @vma: the mapping
 * @pgoff: page offset inside the buffer of the mapping's first page
 *
 * Pages go in as real pages (not a PFN map), so get_user_pages() works on
 * the mapping (O_DIRECT, io_uring fixed buffers).
 *
 * Context: process context, mmap lock held.
 * Return: 0, -EINVAL for a private mapping or a bounds violation, or the
 * error of vm_insert_pages().
 */
int co_buffer_mmap(struct co_buffer *buf, struct vm_area_struct *vma,
		   unsigned long pgoff)
{
	unsigned long span = co_buffer_span(buf);
	unsigned long nr = vma_pages(vma), done = 0, batch, left, i;
	unsigned long pfn = PFN_DOWN(buf->phys) + pgoff;
	struct page **pages;
	int ret = 0;

	/* Shared only (read-only shared mappings clear VM_SHARED). */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (pgoff >= span || nr > span - pgoff)
		return -EINVAL;
	switch (buf->flags & CARVEOUT_ALLOC_CACHE_MASK) {
	case CARVEOUT_ALLOC_WC:
		vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
		break;
	case CARVEOUT_ALLOC_UNCACHED:
		vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
		break;
	}
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);

	pages = kmalloc_array(min(nr, 512UL), sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	while (done < nr) {
		batch = min(nr - done, 512UL);
		for (i = 0; i < batch; i++)
			pages[i] = pfn_to_page(pfn + done + i);
		left = batch;
		ret = vm_insert_pages(vma, vma->vm_start + (done << PAGE_SHIFT),
				      pages, &left);
		if (ret)
			break;
		done += batch;
	}
	kfree(pages);
	return ret;
}

/* dma-buf export. */

/* A scatterlist entry holds at most UINT_MAX bytes: use 1 GiB chunks. */
#define CO_SG_CHUNK	SZ_1G

static int co_dmabuf_attach(struct dma_buf *dmabuf,
			    struct dma_buf_attachment *att)
{
	struct co_buffer *buf = dmabuf->priv;
	struct co_dmabuf_att *a;
	struct scatterlist *sg;
	unsigned int nents;
	u64 done = 0, len;
	int ret;

	a = co_kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	nents = DIV_ROUND_UP_ULL(buf->granted, CO_SG_CHUNK);
	ret = sg_alloc_table(&a->sgt, nents, GFP_KERNEL);
	if (ret) {
		kfree(a);
		return ret;
	}
	for (sg = a->sgt.sgl; sg; sg = sg_next(sg)) {
		len = min_t(u64, buf->granted - done, CO_SG_CHUNK);
		sg_set_page(sg, co_phys_page(buf->phys + done), len,
			    offset_in_page(buf->phys + done));
		done += len;
	}
	a->dev = att->dev;
	att->priv = a;
	mutex_lock(&buf->lock);
	list_add_tail(&a->link, &buf->attachments);
	mutex_unlock(&buf->lock);
	return 0;
}

static void co_dmabuf_detach(struct dma_buf *dmabuf,
			     struct dma_buf_attachment *att)
{
	struct co_buffer *buf = dmabuf->priv;
	struct co_dmabuf_att *a = att->priv;

	mutex_lock(&buf->lock);
	list_del(&a->link);
	mutex_unlock(&buf->lock);
	sg_free_table(&a->sgt);
	kfree(a);
}

static struct sg_table *co_dmabuf_map(struct dma_buf_attachment *att,
				      enum dma_data_direction dir)
{
	struct co_buffer *buf = att->dmabuf->priv;
	struct co_dmabuf_att *a = att->priv;
	int ret;

	mutex_lock(&buf->lock);
	if (dir != DMA_TO_DEVICE && co_buffer_has_writer(buf)) {
		mutex_unlock(&buf->lock);
		return ERR_PTR(-EBUSY);
	}
	ret = dma_map_sgtable(att->dev, &a->sgt, dir, 0);
	if (!ret) {
		a->mapped = true;
		a->dir = dir;
	}
	mutex_unlock(&buf->lock);
	return ret ? ERR_PTR(ret) : &a->sgt;
}

static void co_dmabuf_unmap(struct dma_buf_attachment *att,
			    struct sg_table *sgt, enum dma_data_direction dir)
{
	struct co_buffer *buf = att->dmabuf->priv;
	struct co_dmabuf_att *a = att->priv;

	mutex_lock(&buf->lock);
	a->mapped = false;
	mutex_unlock(&buf->lock);
	dma_unmap_sgtable(att->dev, sgt, dir, 0);
}

static int co_dmabuf_cpu_access(struct dma_buf *dmabuf, bool begin)
{
	struct co_buffer *buf = dmabuf->priv;
	struct co_dmabuf_att *a;

	mutex_lock(&buf->lock);
	list_for_each_entry(a, &buf->attachments, link) {
		if (!a->mapped)
			continue;
		if (begin)
			dma_sync_sgtable_for_cpu(a->dev, &a->sgt, a->dir);
		else
			dma_sync_sgtable_for_device(a->dev, &a->sgt, a->dir);
	}
	mutex_unlock(&buf->lock);
	return 0;
}

static int co_dmabuf_begin_cpu(struct dma_buf *dmabuf,
			       enum dma_data_direction dir)
{
	return co_dmabuf_cpu_access(dmabuf, true);
}

static int co_dmabuf_end_cpu(struct dma_buf *dmabuf,
			     enum dma_data_direction dir)
{
	return co_dmabuf_cpu_access(dmabuf, false);
}

static int co_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct co_buffer *buf = dmabuf->priv;

	/* A sub-page object shares its page with its owner's other objects. */
	if (buf->slab)
		return -EINVAL;
	return co_buffer_mmap(buf, vma, vma->vm_pgoff);
}

static int co_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct co_buffer *buf = dmabuf->priv;

	iosys_map_set_vaddr(map, phys_to_virt(buf->phys));
	return 0;
}

static void co_dmabuf_release(struct dma_buf *dmabuf)
{
	co_buffer_put(dmabuf->priv);
}

static const struct dma_buf_ops co_dmabuf_ops = {
	.attach			= co_dmabuf_attach,
	.detach			= co_dmabuf_detach,
	.map_dma_buf		= co_dmabuf_map,
	.unmap_dma_buf		= co_dmabuf_unmap,
	.begin_cpu_access	= co_dmabuf_begin_cpu,
	.end_cpu_access		= co_dmabuf_end_cpu,
	.mmap			= co_dmabuf_mmap,
	.vmap			= co_dmabuf_vmap,
	.release		= co_dmabuf_release,
};

/**
 * co_buffer_export() - export a buffer as a dma-buf
 * @buf: the buffer; the dma-buf takes a reference
 * @flags: O_RDWR / O_CLOEXEC for the dma-buf file
 *
 * Context: process context.
 * Return: the dma-buf (the caller installs its fd), or an ERR_PTR.
 */
struct dma_buf *co_buffer_export(struct co_buffer *buf, int flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp);
	struct dma_buf *dmabuf;

	exp.owner = THIS_MODULE;
	exp.ops = &co_dmabuf_ops;
	exp.size = buf->slab ? buf->granted : co_buffer_span(buf) << PAGE_SHIFT;
	exp.flags = flags;
	exp.priv = buf;
	if (co_should_fail(exp.size))
		return ERR_PTR(-ENOMEM);
	co_buffer_get(buf);
	dmabuf = dma_buf_export(&exp);
	if (IS_ERR(dmabuf))
		co_buffer_put(buf);
	return dmabuf;
}
