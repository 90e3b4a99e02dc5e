/* SPDX-License-Identifier: GPL-2.0 */
/* The KUnit suites of carveout_kunit.ko, registered in main_kunit.c. */
#ifndef _CO_KUNIT_H
#define _CO_KUNIT_H

#include <kunit/test.h>

extern struct kunit_suite carveout_buddy_suite;
extern struct kunit_suite carveout_buddy_clean_suite;
extern struct kunit_suite carveout_slab_suite;
extern struct kunit_suite carveout_uapi_suite;
extern struct kunit_suite carveout_region_suite;
extern struct kunit_suite carveout_policy_suite;
extern struct kunit_suite carveout_buffer_suite;
extern struct kunit_suite carveout_access_suite;
extern struct kunit_suite carveout_elastic_suite;

#endif /* _CO_KUNIT_H */
