// SPDX-License-Identifier: GPL-2.0
/*
 * carveout_splat.ko: used only by the test harness's self-test.  Loading it
 * prints a WARN splat, which the harness's console scanner must report as a
 * failure.  It is never part of a normal test run.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init co_splat_init(void)
{
	WARN(1, "carveout harness self-test: deliberate splat\n");
	return 0;
}

static void __exit co_splat_exit(void)
{
}

module_init(co_splat_init);
module_exit(co_splat_exit);
MODULE_DESCRIPTION("carveout test harness self-test (deliberate WARN)");
MODULE_LICENSE("GPL");
