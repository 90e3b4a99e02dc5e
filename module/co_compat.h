/* SPDX-License-Identifier: GPL-2.0 */
/*
 * co_compat.h - kernel API differences between the kernels carveout supports
 *
 * Every difference is decided by a feature check on the headers being
 * built against (Kbuild's co_has lines grep them and pass CO_HAVE_*), never
 * by LINUX_VERSION_CODE: distributions backport API changes past version
 * numbers.  Where an API changed its meaning, not only its shape, each
 * known shape has its own check and a kernel matching none of them fails
 * to compile instead of building with a guessed meaning.
 *
 * Proven on Debian's 6.1, 6.12, 7.3 and 7.3-rt kernels and on test kernels
 * built from linux-source-6.12 and 7.3 (tests/vm/kernels.matrix).
 *
 *   CO_IMPORT_NS(ns)         MODULE_IMPORT_NS(): an identifier up to 6.12,
 *                            a string literal from 6.13
 *   co_alloc_contig_range()  alloc_contig_range(): a migratetype up to 6.15,
 *                            acr_flags_t from 6.16
 *   vm_flags_set()           the vm_flags helpers (6.3); before them, the
 *                            flags were written directly
 *   co_devnode_const         struct device_type's devnode() takes a const
 *                            struct device from 6.2
 *   co_page_mapcount()       user page table entries of an order-0 page:
 *                            page_mapcount() up to 6.14, an inline
 *                            folio_mapcount() from 6.12 (preferred)
 *   co_shrinker_create()     shrinker_alloc()/shrinker_register() from
 *                            6.7; a caller-allocated struct shrinker and
 *                            register_shrinker() before
 */
#ifndef _CARVEOUT_CO_COMPAT_H
#define _CARVEOUT_CO_COMPAT_H

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/shrinker.h>
#include <linux/slab.h>

#if defined(CO_HAVE_IMPORT_NS_STRING)
#define CO_IMPORT_NS(ns)	MODULE_IMPORT_NS(#ns)
#elif defined(CO_HAVE_IMPORT_NS_IDENT)
#define CO_IMPORT_NS(ns)	MODULE_IMPORT_NS(ns)
#else
#error "carveout: unknown MODULE_IMPORT_NS() form (see Kbuild, co_has)"
#endif

/**
 * co_alloc_contig_range() - alloc_contig_range() for an ordinary allocation
 * @start: first PFN
 * @end: one past the last PFN
 * @gfp: GFP mask for migration and compaction
 *
 * Up to 6.15 the third argument of alloc_contig_range() is the migratetype
 * of the range (MIGRATE_MOVABLE: an ordinary range); from 6.16 it is
 * acr_flags_t, where the same bit value would mean ACR_FLAGS_CMA.
 *
 * Context: process context, may sleep.
 * Return: 0 when [@start, @end) is allocated, a negative errno otherwise.
 */
static inline int co_alloc_contig_range(unsigned long start, unsigned long end,
					gfp_t gfp)
{
#if defined(CO_HAVE_ACR_FLAGS)
	return alloc_contig_range(start, end, ACR_FLAGS_NONE, gfp);
#elif defined(CO_HAVE_ACR_MIGRATETYPE)
	return alloc_contig_range(start, end, MIGRATE_MOVABLE, gfp);
#else
#error "carveout: unknown alloc_contig_range() signature (see Kbuild, co_has)"
#endif
}

#ifndef CO_HAVE_VM_FLAGS_SET
static inline void vm_flags_set(struct vm_area_struct *vma, unsigned long f)
{
	vma->vm_flags |= f;
}
#endif

#ifdef CO_HAVE_CONST_DEVNODE
#define co_devnode_const const
#else
#define co_devnode_const
#endif

/* How many user page table entries map @page (an order-0 page). */
static inline int co_page_mapcount(struct page *page)
{
#if defined(CO_HAVE_INLINE_FOLIO_MAPCOUNT)
	return folio_mapcount(page_folio(page));
#elif defined(CO_HAVE_PAGE_MAPCOUNT)
	return page_mapcount(page);
#else
#error "carveout: no usable page mapcount helper (see Kbuild, co_has)"
#endif
}

typedef unsigned long (*co_shrink_fn)(struct shrinker *s,
				     struct shrink_control *sc);

/*
 * A registered shrinker named @name, or NULL.  seeks 0: the objects cost
 * nothing to recreate, so reclaim asks for half of them at once.
 */
static inline struct shrinker *co_shrinker_create(const char *name,
						  co_shrink_fn count,
						  co_shrink_fn scan)
{
	struct shrinker *s;

#ifdef CO_HAVE_SHRINKER_ALLOC
	s = shrinker_alloc(0, "%s", name);
	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = 0;
	shrinker_register(s);
#else
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = 0;
	if (register_shrinker(s, "%s", name)) {
		kfree(s);
		return NULL;
	}
#endif
	return s;
}

/* Unregister and free a shrinker of co_shrinker_create() (NULL: none). */
static inline void co_shrinker_destroy(struct shrinker *s)
{
	if (!s)
		return;
#ifdef CO_HAVE_SHRINKER_ALLOC
	shrinker_free(s);
#else
	unregister_shrinker(s);
	kfree(s);
#endif
}

#endif /* _CARVEOUT_CO_COMPAT_H */
