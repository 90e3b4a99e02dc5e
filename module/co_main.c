// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: module entry.
 *
 * Load: set up the buffer registry (co_buffer.c), reserve the regions
 * (co_region.c), work out the order nodes are tried in (co_place.c), set
 * up the pools of converted memory (co_memtype.c), start zeroing the
 * regions (co_zero.c), publish debugfs, watch the PCI and platform buses
 * for MAP's grants (co_access.c), then register /dev/carveout last so
 * nobody can reach a half-made module.  Unload runs in reverse: the pools
 * are converted back once the last buffer is gone and before the regions
 * go; it is only possible when no file, mapping, dma-buf, in-kernel buffer
 * or held memory (pages still referenced from outside, see co_buffer.c)
 * is left, since each of them pins the module.  Should a page of a region
 * still be in use at unload all the same, its piece is leaked with one log
 * line (co_region.c), never handed back.
 *
 * Lock order: no locks taken here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "carveout.h"
#include "co_compat.h"

#if IS_ENABLED(CONFIG_KUNIT)
/* For KUnit: this module, to read its reference count. */
struct module *const co_module = THIS_MODULE;
EXPORT_SYMBOL_IF_KUNIT(co_module);
#endif

static int __init co_init(void)
{
	int ret;

	ret = co_fault_init();
	if (ret)
		return ret;
	ret = co_buffers_init();
	if (ret)
		goto buffers_exit;
	ret = co_regions_init();
	if (ret)
		goto buffers_exit;
	ret = co_place_init();
	if (ret)
		goto regions_exit;
	co_memtype_init();
	ret = co_zero_start();
	if (ret)
		goto regions_exit;
	ret = co_kapi_init();
	if (ret)
		goto zero_stop;
	co_debugfs_init();
	ret = co_access_init();
	if (ret)
		goto debugfs_exit;
	ret = co_dev_init();
	if (ret) {
		pr_err("cannot register /dev/carveout: %d\n", ret);
		goto access_exit;
	}
	pr_info("ready: %u node%s\n", co_nr_nodes, co_nr_nodes == 1 ? "" : "s");
	return 0;

access_exit:
	co_access_exit();
debugfs_exit:
	co_debugfs_exit();
	co_kapi_exit();
zero_stop:
	co_zero_stop();
regions_exit:
	co_memtype_exit();
	co_place_exit();
	co_regions_exit();
	co_users_exit();
buffers_exit:
	co_buffers_exit();
	return ret;
}

static void __exit co_exit(void)
{
	co_dev_exit();
	co_access_exit();
	co_debugfs_exit();
	co_kapi_exit();
	co_buffers_exit();
	co_zero_stop();
	co_memtype_exit();
	co_place_exit();
	co_regions_exit();
	co_users_exit();
}

module_init(co_init);
module_exit(co_exit);
MODULE_DESCRIPTION("Contiguous per-node DMA buffers from reserved regions");
MODULE_LICENSE("GPL");
MODULE_VERSION(CO_VERSION);
CO_IMPORT_NS(DMA_BUF);
