/* SPDX-License-Identifier: GPL-2.0 */
/*
 * co_compat.h - differences between the kernels carveout builds against.
 *
 * Each difference is found by a feature check on the headers being built
 * against (Kbuild's co_has lines define CO_HAVE_*), never by a version
 * number: distributions backport past versions.
 */
#ifndef _CARVEOUT_CO_COMPAT_H
#define _CARVEOUT_CO_COMPAT_H

#include <linux/mm.h>

/* vm_flags became read-only behind vm_flags_set() in 6.3. */
#ifndef CO_HAVE_VM_FLAGS_SET
static inline void vm_flags_set(struct vm_area_struct *vma, unsigned long f)
{
	vma->vm_flags |= f;
}
#endif

/* struct device_type's devnode() takes a const device from 6.2. */
#ifdef CO_HAVE_CONST_DEVNODE
#define co_devnode_const const
#else
#define co_devnode_const
#endif

#endif /* _CARVEOUT_CO_COMPAT_H */
