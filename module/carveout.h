/* SPDX-License-Identifier: GPL-2.0 */
/*
 * carveout: declarations shared between the module's files and its KUnit
 * tests.
 */
#ifndef _CARVEOUT_H
#define _CARVEOUT_H

#include <linux/types.h>

#if IS_ENABLED(CONFIG_KUNIT)
#include <kunit/visibility.h>
#else
#define VISIBLE_IF_KUNIT static
#define EXPORT_SYMBOL_IF_KUNIT(symbol)
#endif

#if IS_ENABLED(CONFIG_KUNIT)
int co_copy_arg_from_user(void *dst, size_t ksize, const void __user *uarg);
#endif

#endif /* _CARVEOUT_H */
