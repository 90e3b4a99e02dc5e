// SPDX-License-Identifier: GPL-2.0
/*
 * carveout_kunit.ko: every KUnit suite of carveout, run when the module
 * loads.  Suites reach carveout.ko internals through EXPORT_SYMBOL_IF_KUNIT.
 */
#include <kunit/test.h>
#include <linux/module.h>

#include "co_compat.h"
#include "co_kunit.h"

kunit_test_suites(&carveout_buddy_suite, &carveout_buddy_clean_suite,
		  &carveout_slab_suite,
		  &carveout_uapi_suite, &carveout_region_suite,
		  &carveout_policy_suite, &carveout_buffer_suite,
		  &carveout_access_suite, &carveout_elastic_suite);

MODULE_DESCRIPTION("KUnit tests for carveout");
MODULE_LICENSE("GPL");
CO_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
CO_IMPORT_NS(DMA_BUF);
