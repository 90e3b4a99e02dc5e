/* SPDX-License-Identifier: GPL-2.0 */
/*
 * co_internal.h - kernel include list for the carveout allocator core
 *
 * co_buddy*.c and co_slab*.c include only this header (through co_buddy.h,
 * co_slab.h and their _priv.h).  The userspace harness in tests/harness/ provides a header with
 * the same include guard and force-includes it first, so this list is never
 * seen there and the same .c files compile against the harness shim (the
 * mm/vma.c + tools/testing/vma/vma_internal.h pattern).
 *
 * Anything the core needs beyond these headers must be added here *and* to
 * tests/harness/co_internal.h.
 */
#ifndef _CARVEOUT_CO_INTERNAL_H
#define _CARVEOUT_CO_INTERNAL_H

#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/build_bug.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/find.h>
#include <linux/gcd.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/limits.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/wait_bit.h>

#if IS_ENABLED(CONFIG_KUNIT)
#include <kunit/visibility.h>
#endif
#ifndef EXPORT_SYMBOL_IF_KUNIT
/* No KUnit (e.g. 6.1): export nothing, but keep the symbol type-checked. */
#define EXPORT_SYMBOL_IF_KUNIT(symbol)	\
	static_assert(!__builtin_types_compatible_p(typeof(symbol), void))
#endif

/*
 * co_report() - report a caller error the core detected and rejected
 * (invalid or double free).  Ratelimited: a buggy or hostile caller can
 * trigger it at will.  The harness shim counts these reports.
 */
#define co_report(fmt, ...)	pr_err_ratelimited(fmt, ##__VA_ARGS__)

#endif /* _CARVEOUT_CO_INTERNAL_H */
