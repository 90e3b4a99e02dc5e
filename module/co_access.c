// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: who may MAP which device.
 *
 * MAP hands a device the address of a buffer.  Every mapping spends the
 * device's IOVA space (or swiotlb slots), and a device another driver owns
 * (an NVMe disk, a NIC) is not the caller's to spend; for a device that no
 * IOMMU translates the address is the physical one, which only
 * CAP_SYS_ADMIN may learn (as ALLOC's phys_addr).  So MAP is allowed only
 * for a device the caller may drive (co_map_grant()):
 *
 *   - CAP_SYS_ADMIN: any device;
 *   - an IOMMU translates for the device, and its driver opted in
 *     (carveout_dev_allow_map()), or it is bound to a driver that hands
 *     devices to userspace (co_userdrv_names: vfio, uio), or no driver is
 *     bound to it;
 *   - the map_allow parameter (root only) names the device, translated or
 *     not: naming an untranslated device is the admin's grant of the
 *     physical addresses MAP returns for it.
 *
 * Anything else gets EPERM.  Only MAP is checked: UNMAP and SYNC reach
 * only the caller's own mappings, and the in-kernel API maps for the
 * calling driver's own devices.
 *
 * A grant holds for the binding it was made under.  A bus notifier on the
 * PCI and platform buses revokes the mappings made through MAP when a
 * driver binds (BUS_NOTIFY_BIND_DRIVER, before probe), when the driver
 * unbinds (BUS_NOTIFY_UNBIND_DRIVER, before remove: the device still has
 * the DMA configuration the mappings were made with, which unbinding
 * tears down, and DMA-API debug counts leftover mappings right after),
 * when a probe fails, and when the device is deleted
 * (BUS_NOTIFY_DEL_DEVICE, then BUS_NOTIFY_REMOVED_DEVICE, before the
 * IOMMU core releases the device: the notifier's priority is above the
 * IOMMU core's).  It drops the device's opt-in at the same points.
 *
 * MAP looks the device up, then takes its device_lock (the binding
 * cannot change) and co_access_lock (no notifier runs), checks the
 * device is still on its bus (a device past BUS_NOTIFY_REMOVED_DEVICE
 * is not), decides and maps.  A MAP either completes before a notifier
 * runs, which then revokes it, or sees the new state.
 *
 * Opt-ins are kept in co_optins, one entry per device, holding a device
 * reference and the driver that opted in: an opt-in counts only while
 * that driver is the one bound.
 *
 * Lock order: device_lock -> co_access_lock -> co_buffers_rwsem ->
 * co_buffer.lock (see carveout.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/device.h>
#include <linux/moduleparam.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <linux/carveout.h>

#include "carveout.h"

/*
 * Runs before the IOMMU core's notifier (priority 0), which releases a
 * device at BUS_NOTIFY_REMOVED_DEVICE, and before DMA-API debug's.
 */
#define CO_ACCESS_NOTIFIER_PRIORITY	100

/* Drivers that hand their devices to userspace. */
static const char * const co_userdrv_names[] = {
	"vfio-pci", "vfio-platform", "uio_pci_generic", "uio_pdrv_genirq",
	"uio_dmem_genirq",
};

/**
 * struct co_optin - a device whose driver lets users MAP it
 * @link: entry in co_optins
 * @dev: the device (a reference is held)
 * @drv: the driver bound when it opted in
 */
struct co_optin {
	struct list_head link;
	struct device *dev;
	const struct device_driver *drv;
};

/* Protects co_optins and co_map_allow; see the top of this file. */
static DEFINE_MUTEX(co_access_lock);
static LIST_HEAD(co_optins);
/* map_allow: device names separated by ',', or NULL. */
static char *co_map_allow;

/**
 * co_map_grant() - the access rule: may a caller map a device, and why?
 * @f: what is known about the caller and the device
 *
 * Context: any.
 * Return: the grant, CO_GRANT_NONE when MAP must fail with EPERM.
 */
VISIBLE_IF_KUNIT enum co_map_grant co_map_grant(const struct co_map_facts *f)
{
	if (f->admin)
		return CO_GRANT_ADMIN;
	/* Untranslated: the address is physical; only the admin's list. */
	if (!f->translated)
		return f->listed ? CO_GRANT_LISTED : CO_GRANT_NONE;
	if (f->optin)
		return CO_GRANT_OPTIN;
	if (f->userdrv)
		return CO_GRANT_USERDRV;
	if (f->unbound)
		return CO_GRANT_UNBOUND;
	return f->listed ? CO_GRANT_LISTED : CO_GRANT_NONE;
}
EXPORT_SYMBOL_IF_KUNIT(co_map_grant);

static bool co_watched(struct device *dev)
{
	return dev_is_pci(dev) || dev_is_platform(dev);
}

static struct co_optin *co_optin_find(struct device *dev)
{
	struct co_optin *o;

	lockdep_assert_held(&co_access_lock);
	list_for_each_entry(o, &co_optins, link)
		if (o->dev == dev)
			return o;
	return NULL;
}

static void co_optin_drop(struct device *dev)
{
	struct co_optin *o;

	lockdep_assert_held(&co_access_lock);
	o = co_optin_find(dev);
	if (!o)
		return;
	list_del(&o->link);
	put_device(o->dev);
	kfree(o);
}

static bool co_userdrv(const struct device_driver *drv)
{
	unsigned int i;

	for (i = 0; drv && i < ARRAY_SIZE(co_userdrv_names); i++)
		if (!strcmp(drv->name, co_userdrv_names[i]))
			return true;
	return false;
}

/* Does the map_allow entry @tok (@len bytes) name @dev? */
static bool co_entry_names(struct device *dev, const char *tok, size_t len)
{
	const char *name = dev_name(dev);

	if (len > 9 && !strncmp(tok, "platform:", 9)) {
		if (!dev_is_platform(dev))
			return false;
		tok += 9;
		len -= 9;
	} else if (len > 4 && !strncmp(tok, "pci:", 4)) {
		if (!dev_is_pci(dev))
			return false;
		tok += 4;
		len -= 4;
	}
	return strlen(name) == len && !strncmp(name, tok, len);
}

static bool co_listed(struct device *dev)
{
	const char *s = co_map_allow, *e;

	lockdep_assert_held(&co_access_lock);
	for (; s && *s; s = *e ? e + 1 : e) {
		e = strchrnul(s, ',');
		if (co_entry_names(dev, s, e - s))
			return true;
	}
	return false;
}

/* What MAP's decision looks at; device_lock and co_access_lock held. */
static void __co_access_facts(struct device *dev, bool admin,
			      struct co_map_facts *f)
{
	const struct device_driver *drv = dev->driver;
	struct co_optin *o = co_optin_find(dev);

	*f = (struct co_map_facts) {
		.admin = admin,
		.translated = co_dev_translated(dev),
		.optin = drv && o && o->drv == drv,
		.userdrv = co_userdrv(drv),
		.unbound = !drv,
		.listed = co_listed(dev),
	};
}

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * co_access_facts() - what MAP would look at for @dev now
 * @dev: a device
 * @admin: as for a caller with CAP_SYS_ADMIN
 * @f: filled in
 *
 * Context: process context, sleeps.
 */
void co_access_facts(struct device *dev, bool admin, struct co_map_facts *f)
{
	device_lock(dev);
	mutex_lock(&co_access_lock);
	__co_access_facts(dev, admin, f);
	mutex_unlock(&co_access_lock);
	device_unlock(dev);
}
EXPORT_SYMBOL_IF_KUNIT(co_access_facts);
#endif

static int co_match_ptr(struct device *dev, const void *data)
{
	return dev == data;
}

/* Still on its bus, i.e. not past BUS_NOTIFY_REMOVED_DEVICE? */
static bool co_dev_present(struct device *dev)
{
	struct device *found;

	found = bus_find_device(dev->bus, NULL, dev, co_match_ptr);
	put_device(found);
	return !!found;
}

/**
 * co_access_map() - MAP: map a buffer for a device the caller may drive
 * @buf: the caller's buffer
 * @dev: the device, looked up by name
 * @dir: DMA direction
 * @addr: the address the device uses
 *
 * Context: process context, in the caller's ioctl (its capabilities
 * count), sleeps.
 * Return: 0; -EPERM when the caller may not map @dev; -ENODEV when @dev
 * is being removed; -EINTR on a signal while waiting for @dev's driver
 * to finish binding or unbinding; else as co_dma_map_grant().
 */
int co_access_map(struct co_buffer *buf, struct device *dev,
		  enum dma_data_direction dir, dma_addr_t *addr)
{
	struct co_map_facts f;
	enum co_map_grant g;
	int ret;

	ret = device_lock_interruptible(dev);
	if (ret)
		return ret;
	mutex_lock(&co_access_lock);
	if (!co_dev_present(dev)) {
		ret = -ENODEV;
		goto out;
	}
	__co_access_facts(dev, capable(CAP_SYS_ADMIN), &f);
	g = co_map_grant(&f);
	if (g == CO_GRANT_NONE) {
		dev_dbg(dev, "carveout: MAP refused to %s\n", current->comm);
		ret = -EPERM;
		goto out;
	}
	ret = co_dma_map_grant(buf, dev, dir, g, addr);
out:
	mutex_unlock(&co_access_lock);
	device_unlock(dev);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(co_access_map);

/* co_dma_revoke() matches */
static bool co_match_dev(const struct co_dma_map *m, const void *dev)
{
	return m->dev == dev;
}

static bool co_match_optin(const struct co_dma_map *m, const void *dev)
{
	return m->dev == dev && m->grant == CO_GRANT_OPTIN;
}

static bool co_match_unlisted(const struct co_dma_map *m, const void *unused)
{
	return m->grant == CO_GRANT_LISTED && !co_listed(m->dev);
}

static void co_access_report(struct device *dev, unsigned int n,
			     const char *why)
{
	if (n)
		dev_info(dev, "carveout: removed %u DMA mapping%s made through MAP: %s\n",
			 n, n == 1 ? "" : "s", why);
}

/**
 * co_access_optin() - let users of /dev/carveout map a device
 * @dev: a PCI or platform device, bound to the calling driver
 *
 * Context: process context, sleeps; may be called from probe.
 * Return: 0, -EINVAL when @dev is on another bus or has no driver,
 * -ENOMEM.
 */
int co_access_optin(struct device *dev)
{
	struct co_optin *o, *old;

	if (!co_watched(dev) || !dev->driver)
		return -EINVAL;
	o = co_kzalloc(sizeof(*o), GFP_KERNEL);
	if (!o)
		return -ENOMEM;
	o->dev = get_device(dev);
	o->drv = dev->driver;
	mutex_lock(&co_access_lock);
	old = co_optin_find(dev);
	if (old) {
		old->drv = o->drv;
		put_device(o->dev);
		kfree(o);
	} else {
		list_add_tail(&o->link, &co_optins);
	}
	mutex_unlock(&co_access_lock);
	return 0;
}

/**
 * co_access_optout() - withdraw co_access_optin()
 * @dev: the device
 *
 * Mappings made through MAP under the opt-in are removed.
 *
 * Context: process context, sleeps.
 */
void co_access_optout(struct device *dev)
{
	unsigned int n;

	mutex_lock(&co_access_lock);
	co_optin_drop(dev);
	n = co_dma_revoke(co_match_optin, dev);
	mutex_unlock(&co_access_lock);
	co_access_report(dev, n, "its driver withdrew");
}

static const char *co_bus_event(unsigned long action)
{
	switch (action) {
	case BUS_NOTIFY_BIND_DRIVER:
		return "a driver binds";
	case BUS_NOTIFY_UNBIND_DRIVER:
		return "its driver unbinds";
	case BUS_NOTIFY_DRIVER_NOT_BOUND:
		return "a driver failed to bind";
	case BUS_NOTIFY_DEL_DEVICE:
	case BUS_NOTIFY_REMOVED_DEVICE:
		return "the device is removed";
	default:
		return NULL;
	}
}

static int co_access_notify(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	const char *why = co_bus_event(action);
	struct device *dev = data;
	unsigned int n;

	if (!why)
		return NOTIFY_DONE;
	mutex_lock(&co_access_lock);
	co_optin_drop(dev);
	n = co_dma_revoke(co_match_dev, dev);
	mutex_unlock(&co_access_lock);
	co_access_report(dev, n, why);
	return NOTIFY_OK;
}

static struct notifier_block co_platform_nb = {
	.notifier_call = co_access_notify,
	.priority = CO_ACCESS_NOTIFIER_PRIORITY,
};

#ifdef CONFIG_PCI
static struct notifier_block co_pci_nb = {
	.notifier_call = co_access_notify,
	.priority = CO_ACCESS_NOTIFIER_PRIORITY,
};
#endif

/*
 * map_allow: parse @val (names separated by ',' or white space) into
 * "a,b,c"; NULL when it names nothing.
 */
static int co_map_allow_parse(const char *val, char **out)
{
	char *copy, *s, *tok, *list;
	size_t len;
	int ret = 0;

	copy = kstrdup(val, GFP_KERNEL);
	list = kzalloc(strlen(val) + 1, GFP_KERNEL);
	if (!copy || !list) {
		ret = -ENOMEM;
		goto out;
	}
	s = copy;
	while ((tok = strsep(&s, ", \t\n"))) {
		len = strlen(tok);
		if (!len)
			continue;
		if (len >= CARVEOUT_DEV_NAME_LEN || !strcmp(tok, "pci:") ||
		    !strcmp(tok, "platform:")) {
			ret = -EINVAL;
			goto out;
		}
		if (*list)
			strcat(list, ",");
		strcat(list, tok);
	}
	if (*list)
		swap(*out, list);
out:
	kfree(list);
	kfree(copy);
	return ret;
}

/**
 * co_map_allow_store() - replace the map_allow list
 * @val: device names as MAP takes them, separated by ',' or white space
 *
 * Mappings made under the old list for devices the new one does not name
 * are removed.
 *
 * Context: process context, sleeps.
 * Return: 0, -EINVAL for a name MAP could not take, -ENOMEM.
 */
VISIBLE_IF_KUNIT int co_map_allow_store(const char *val)
{
	char *list = NULL;
	unsigned int n;
	int ret;

	ret = co_map_allow_parse(val, &list);
	if (ret)
		return ret;
	mutex_lock(&co_access_lock);
	swap(co_map_allow, list);
	n = co_dma_revoke(co_match_unlisted, NULL);
	mutex_unlock(&co_access_lock);
	kfree(list);
	if (n)
		pr_info("removed %u DMA mapping%s made through MAP: map_allow no longer names the device\n",
			n, n == 1 ? "" : "s");
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(co_map_allow_store);

static int co_map_allow_set(const char *val, const struct kernel_param *kp)
{
	return co_map_allow_store(val);
}

static int co_map_allow_get(char *buf, const struct kernel_param *kp)
{
	int n;

	mutex_lock(&co_access_lock);
	n = scnprintf(buf, PAGE_SIZE, "%s\n", co_map_allow ?: "");
	mutex_unlock(&co_access_lock);
	return n;
}

static void co_map_allow_free(void *arg)
{
	kfree(co_map_allow);
	co_map_allow = NULL;
}

static const struct kernel_param_ops co_map_allow_ops = {
	.set = co_map_allow_set,
	.get = co_map_allow_get,
	.free = co_map_allow_free,
};
module_param_cb(map_allow, &co_map_allow_ops, NULL, 0600);
MODULE_PARM_DESC(map_allow,
		 "devices any user of /dev/carveout may MAP, translated or not (e.g. 0000:03:00.0,platform:NAME)");

/**
 * co_access_init() - watch the PCI and platform buses
 *
 * Context: module load, before /dev/carveout exists.
 * Return: 0 or a negative errno.
 */
int co_access_init(void)
{
	int ret;

	ret = bus_register_notifier(&platform_bus_type, &co_platform_nb);
	if (ret)
		return ret;
#ifdef CONFIG_PCI
	ret = bus_register_notifier(&pci_bus_type, &co_pci_nb);
	if (ret)
		bus_unregister_notifier(&platform_bus_type, &co_platform_nb);
#endif
	return ret;
}

/**
 * co_access_exit() - stop watching the buses, forget the opt-ins
 *
 * Context: module unload, after /dev/carveout is gone.  Drivers that
 * opted in through the in-kernel API depend on this module and are gone
 * too; an opt-in made through symbol_get() may remain and is dropped.
 */
void co_access_exit(void)
{
	struct co_optin *o, *tmp;

#ifdef CONFIG_PCI
	bus_unregister_notifier(&pci_bus_type, &co_pci_nb);
#endif
	bus_unregister_notifier(&platform_bus_type, &co_platform_nb);
	mutex_lock(&co_access_lock);
	list_for_each_entry_safe(o, tmp, &co_optins, link) {
		list_del(&o->link);
		put_device(o->dev);
		kfree(o);
	}
	mutex_unlock(&co_access_lock);
}
