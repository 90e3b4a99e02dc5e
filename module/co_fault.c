// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: fault injection at the module's own allocation points.
 *
 * With CONFIG_FAULT_INJECTION, every allocation the module makes outside
 * the allocator core goes through co_should_fail() (see co_kzalloc()), and
 * so does each attempt to take a contiguous range.  The attribute is
 * configured like the kernel's own ones: at load with
 * carveout.fail_alloc=<interval>,<probability>,<space>,<times> (so a test
 * can fail the Nth allocation of the load), and at run time under
 * /sys/kernel/debug/carveout/fail/.  Unlike failslab it touches nothing
 * outside the module, so an injected failure tests carveout's error paths
 * rather than the module loader's.
 *
 * Lock order: none.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fault-inject.h>
#include <linux/module.h>

#include "carveout.h"

static DECLARE_FAULT_ATTR(co_fail_attr);

static char *fail_alloc;
module_param(fail_alloc, charp, 0444);
MODULE_PARM_DESC(fail_alloc, "Inject allocation failures: <interval>,<probability>,<space>,<times> (fault injection kernels)");

/**
 * co_should_fail() - ask the fault attribute whether to fail an allocation
 * @size: bytes the caller is about to allocate
 *
 * Context: any.
 * Return: true when the caller must behave as if the allocation failed.
 */
bool co_should_fail(size_t size)
{
	return should_fail(&co_fail_attr, size);
}

/**
 * co_fault_init() - apply carveout.fail_alloc
 *
 * Context: module load, before the first allocation.
 * Return: 0, or -EINVAL for a malformed parameter.
 */
int co_fault_init(void)
{
	if (fail_alloc && *fail_alloc &&
	    !setup_fault_attr(&co_fail_attr, fail_alloc)) {
		pr_err("bad carveout.fail_alloc \"%s\"\n", fail_alloc);
		return -EINVAL;
	}
	/*
	 * Attributes dump a stack per failure by default, which reads like
	 * a splat; debugfs fail/verbose turns that back on.
	 */
	co_fail_attr.verbose = 0;
	return 0;
}

/**
 * co_fault_debugfs() - expose the attribute under @parent/fail/
 * @parent: carveout's debugfs directory
 *
 * Context: module load.
 */
void co_fault_debugfs(struct dentry *parent)
{
	fault_create_debugfs_attr("fail", parent, &co_fail_attr);
}
