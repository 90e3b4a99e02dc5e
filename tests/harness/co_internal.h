/* SPDX-License-Identifier: GPL-2.0 */
/*
 * co_internal.h - userspace replacement for module/co_internal.h
 *
 * Same include guard as the kernel header: the harness force-includes this
 * file (-include) before compiling module/co_buddy*.c and module/co_slab*.c,
 * so their #include "co_internal.h" becomes a no-op and they build against
 * these shims (like tools/testing/vma/vma_internal.h for mm/vma.c).
 *
 * Emulation choices:
 *  - spinlock_t and struct mutex are pthread mutexes that remember their
 *    owner, so lockdep_assert_held() really checks: a core helper called
 *    without the lock it asserts aborts the test run.
 *  - per-CPU data: SHIM_NR_CPUS slots at a fixed stride; a thread's CPU is
 *    fixed (round robin on first use, or set with shim_set_cpu()), so a
 *    single-threaded test can play several CPUs.
 *  - RCU: readers are free; kfree_rcu() parks the object until
 *    shim_rcu_barrier(), which callers invoke only when no reader can run.
 *  - Allocation failures can be injected with shim_fail_alloc_in().
 *  - co_report() and WARN*() count into shim_reports / shim_warns.
 */
#ifndef _CARVEOUT_CO_INTERNAL_H
#define _CARVEOUT_CO_INTERNAL_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

#ifndef KBUILD_MODNAME
#define KBUILD_MODNAME "carveout"
#endif

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef unsigned long long u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef long long s64;
typedef unsigned int gfp_t;

#define GFP_KERNEL	0u
#define __GFP_ACCOUNT	0x400000u
#define GFP_KERNEL_ACCOUNT	(GFP_KERNEL | __GFP_ACCOUNT)
#define __percpu
#define __rcu
#define __must_check	__attribute__((warn_unused_result))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)

#define BITS_PER_LONG	64
#define U64_MAX		UINT64_MAX
#define BIT(n)		(1UL << (n))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define DIV_ROUND_UP_ULL(n, d)	DIV_ROUND_UP((unsigned long long)(n), (d))
#define BITS_TO_LONGS(n)	DIV_ROUND_UP((n), BITS_PER_LONG)
#define ALIGN(x, a)		(((x) + (a) - 1) & ~((typeof(x))(a) - 1))
#define ALIGN_DOWN(x, a)	((x) & ~((typeof(x))(a) - 1))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define BUILD_BUG_ON(c)		_Static_assert(!(c), #c)
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define min(a, b)	({ typeof(a) _a = (a); typeof(b) _b = (b); _a < _b ? _a : _b; })
#define max(a, b)	({ typeof(a) _a = (a); typeof(b) _b = (b); _a > _b ? _a : _b; })
#define min_t(t, a, b)	({ t _a = (a); t _b = (b); _a < _b ? _a : _b; })
#define max_t(t, a, b)	({ t _a = (a); t _b = (b); _a > _b ? _a : _b; })
#define clamp_t(t, v, lo, hi)	min_t(t, max_t(t, v, lo), hi)

#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

#define struct_size(p, member, n) \
	(sizeof(*(p)) + (size_t)(n) * sizeof((p)->member[0]))
#define struct_size_t(type, member, n) \
	struct_size((type *)NULL, member, n)

static inline u64 div64_u64(u64 a, u64 b)
{
	return a / b;
}

/* ---- error pointers (include/linux/err.h) ----------------------------- */

#define MAX_ERRNO	4095
#define IS_ERR_VALUE(x)	((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)

static inline void *ERR_PTR(long error)
{
	return (void *)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return IS_ERR_VALUE((unsigned long)ptr);
}

/* ---- reporting ---------------------------------------------------------- */

extern unsigned long shim_reports;	/* co_report() calls */
extern unsigned long shim_warns;	/* WARN_ON*() that fired */
extern int shim_verbose;		/* print co_report() messages */

#define pr_err(fmt, ...)  fprintf(stderr, "E " pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...) fprintf(stderr, "W " pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...) fprintf(stderr, "I " pr_fmt(fmt), ##__VA_ARGS__)
#define pr_debug(fmt, ...) do { } while (0)
#define pr_err_ratelimited pr_err
#define co_report(fmt, ...)						\
	do {								\
		__atomic_fetch_add(&shim_reports, 1, __ATOMIC_RELAXED);\
		if (shim_verbose)					\
			fprintf(stderr, "R " pr_fmt(fmt), ##__VA_ARGS__); \
	} while (0)

#define WARN_ON(c) ({							\
	bool __c = !!(c);						\
	if (__c) {							\
		__atomic_fetch_add(&shim_warns, 1, __ATOMIC_RELAXED);	\
		fprintf(stderr, "WARNING: %s:%d: %s\n", __FILE__,	\
			__LINE__, #c);					\
	}								\
	__c;								\
})
#define WARN_ON_ONCE(c)	WARN_ON(c)

#define might_sleep()	do { } while (0)
#define cond_resched()	do { } while (0)
/* Waiting for a variable: the harness's threads poll it. */
#define wait_var_event(var, cond) \
	do { while (!(cond)) sched_yield(); } while (0)
#define wake_up_var(var)	do { (void)(var); } while (0)
/* As module/co_internal.h without KUnit: type-check the symbol only. */
#define EXPORT_SYMBOL_IF_KUNIT(sym) \
	_Static_assert(!__builtin_types_compatible_p(typeof(sym), void), #sym)

/* ---- memory ------------------------------------------------------------- */

/* Fail the n-th allocation from now (1 = the next one); 0 = never. */
void shim_fail_alloc_in(unsigned long n);
bool shim_alloc_should_fail(void);

static inline void *kmalloc(size_t n, gfp_t gfp)
{
	(void)gfp;
	return shim_alloc_should_fail() ? NULL : malloc(n ? n : 1);
}

static inline void *kzalloc(size_t n, gfp_t gfp)
{
	(void)gfp;
	return shim_alloc_should_fail() ? NULL : calloc(1, n ? n : 1);
}

static inline void *kcalloc(size_t n, size_t sz, gfp_t gfp)
{
	(void)gfp;
	return shim_alloc_should_fail() ? NULL : calloc(n ? n : 1, sz);
}

#define kmalloc_array(n, sz, gfp)	kmalloc((n) * (sz), gfp)
#define kvcalloc(n, sz, gfp)		kcalloc(n, sz, gfp)
#define kfree(p)			free((void *)(p))
#define kvfree(p)			free((void *)(p))

/* ---- locks -------------------------------------------------------------- */

struct shim_lock {
	pthread_mutex_t m;
	pthread_t owner;
	int held;
};

typedef struct shim_lock spinlock_t;

struct mutex {
	struct shim_lock l;
};

static inline void shim_lock_init(struct shim_lock *l)
{
	pthread_mutex_init(&l->m, NULL);
	l->held = 0;
}

static inline void shim_lock(struct shim_lock *l)
{
	pthread_mutex_lock(&l->m);
	l->owner = pthread_self();
	__atomic_store_n(&l->held, 1, __ATOMIC_RELAXED);
}

static inline void shim_unlock(struct shim_lock *l)
{
	__atomic_store_n(&l->held, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&l->m);
}

static inline bool shim_lock_held(struct shim_lock *l)
{
	return __atomic_load_n(&l->held, __ATOMIC_RELAXED) &&
	       pthread_equal(l->owner, pthread_self());
}

void shim_lockdep_fail(const char *what, const char *file, int line);

#define spin_lock_init(l)	shim_lock_init(l)
#define spin_lock(l)		shim_lock(l)
#define spin_unlock(l)		shim_unlock(l)
#define mutex_init(x)		shim_lock_init(&(x)->l)
#define mutex_destroy(x)	pthread_mutex_destroy(&(x)->l.m)
#define mutex_lock(x)		shim_lock(&(x)->l)
#define mutex_unlock(x)		shim_unlock(&(x)->l)
#define __shim_lockp(x)	_Generic((x),					\
	struct mutex *: &((struct mutex *)(void *)(x))->l,		\
	const struct mutex *: &((struct mutex *)(void *)(x))->l,	\
	spinlock_t *: (struct shim_lock *)(void *)(x),			\
	const spinlock_t *: (struct shim_lock *)(void *)(x))
#define lockdep_is_held(x)	shim_lock_held(__shim_lockp(x))
#define lockdep_assert_held(x)						\
	do {								\
		if (!lockdep_is_held(x))				\
			shim_lockdep_fail(#x, __FILE__, __LINE__);	\
	} while (0)

/* ---- per-CPU ------------------------------------------------------------ */

#define SHIM_NR_CPUS		4
#define SHIM_PCPU_HDR		64

extern int nr_cpu_ids;
int shim_this_cpu(void);
void shim_set_cpu(int cpu);
void *shim_alloc_percpu(size_t size);
void shim_free_percpu(void *p);

static inline size_t shim_pcpu_stride(const void *p)
{
	return *(const size_t *)((const char *)p - SHIM_PCPU_HDR);
}

#define alloc_percpu(type)	((type *)shim_alloc_percpu(sizeof(type)))
#define alloc_percpu_gfp(type, gfp)	((void)(gfp), alloc_percpu(type))
#define __alloc_percpu_gfp(size, align, gfp) \
	((void)(align), (void)(gfp), shim_alloc_percpu(size))
#define free_percpu(p)		shim_free_percpu(p)
#define per_cpu_ptr(p, cpu)						\
	((typeof(p))((char *)(p) + (size_t)(cpu) * shim_pcpu_stride(p)))
#define this_cpu_ptr(p)		per_cpu_ptr(p, shim_this_cpu())
#define get_cpu_ptr(p)		this_cpu_ptr(p)
#define raw_cpu_ptr(p)		this_cpu_ptr(p)
#define put_cpu_ptr(p)		do { (void)(p); } while (0)
#define for_each_possible_cpu(cpu) \
	for ((cpu) = 0; (cpu) < SHIM_NR_CPUS; (cpu)++)

/* ---- RCU ---------------------------------------------------------------- */

struct rcu_head {
	struct rcu_head *next;
};

void shim_kfree_rcu(void *p);
void shim_rcu_barrier(void);

#define rcu_read_lock()			do { } while (0)
#define rcu_read_unlock()		do { } while (0)
#define rcu_dereference(p)		__atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define rcu_dereference_check(p, c)	rcu_dereference(p)
#define rcu_dereference_protected(p, c)	(p)
#define rcu_access_pointer(p)		__atomic_load_n(&(p), __ATOMIC_RELAXED)
#define rcu_assign_pointer(p, v)	__atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define RCU_INIT_POINTER(p, v)		__atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
#define kfree_rcu(p, field)		shim_kfree_rcu(p)

/* ---- bit operations ----------------------------------------------------- */

static inline unsigned long __ffs(unsigned long w)
{
	return __builtin_ctzl(w);
}

static inline int fls_long(unsigned long x)
{
	return x ? BITS_PER_LONG - __builtin_clzl(x) : 0;
}

static inline int fls(unsigned int x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}

#define ilog2(n)	((unsigned int)(fls_long((unsigned long)(n)) - 1))

static inline unsigned int order_base_2(unsigned long n)
{
	return n > 1 ? fls_long(n - 1) : 0;
}

static inline bool is_power_of_2(unsigned long n)
{
	return n && !(n & (n - 1));
}

static inline unsigned long roundup_pow_of_two(unsigned long n)
{
	return 1UL << order_base_2(n);
}

static inline unsigned long gcd(unsigned long a, unsigned long b)
{
	while (b) {
		unsigned long t = a % b;

		a = b;
		b = t;
	}
	return a;
}

#define BIT_WORD(nr)	((nr) / BITS_PER_LONG)
#define BIT_MASK(nr)	(1UL << ((nr) % BITS_PER_LONG))

static inline bool test_bit(unsigned long nr, const unsigned long *addr)
{
	return (__atomic_load_n(&addr[BIT_WORD(nr)], __ATOMIC_RELAXED) >>
		(nr % BITS_PER_LONG)) & 1;
}

static inline void __set_bit(unsigned long nr, unsigned long *addr)
{
	addr[BIT_WORD(nr)] |= BIT_MASK(nr);
}

static inline void __clear_bit(unsigned long nr, unsigned long *addr)
{
	addr[BIT_WORD(nr)] &= ~BIT_MASK(nr);
}

static inline void set_bit(unsigned long nr, unsigned long *addr)
{
	__atomic_fetch_or(&addr[BIT_WORD(nr)], BIT_MASK(nr), __ATOMIC_RELAXED);
}

static inline void clear_bit(unsigned long nr, unsigned long *addr)
{
	__atomic_fetch_and(&addr[BIT_WORD(nr)], ~BIT_MASK(nr),
			   __ATOMIC_RELAXED);
}

static inline bool test_and_clear_bit(unsigned long nr, unsigned long *addr)
{
	return __atomic_fetch_and(&addr[BIT_WORD(nr)], ~BIT_MASK(nr),
				  __ATOMIC_SEQ_CST) & BIT_MASK(nr);
}

static inline bool test_and_set_bit(unsigned long nr, unsigned long *addr)
{
	return __atomic_fetch_or(&addr[BIT_WORD(nr)], BIT_MASK(nr),
				 __ATOMIC_SEQ_CST) & BIT_MASK(nr);
}

static inline unsigned long shim_find_next(const unsigned long *addr,
					   unsigned long size,
					   unsigned long off, unsigned long inv)
{
	unsigned long w, i;

	if (off >= size)
		return size;
	i = BIT_WORD(off);
	w = (addr[i] ^ inv) & (~0UL << (off % BITS_PER_LONG));
	while (!w) {
		if (++i >= BITS_TO_LONGS(size))
			return size;
		w = addr[i] ^ inv;
	}
	off = i * BITS_PER_LONG + __ffs(w);
	return off < size ? off : size;
}

#define find_next_bit(a, s, o)		shim_find_next((a), (s), (o), 0)
#define find_next_zero_bit(a, s, o)	shim_find_next((a), (s), (o), ~0UL)
#define find_first_bit(a, s)		shim_find_next((a), (s), 0, 0)
#define find_first_zero_bit(a, s)	shim_find_next((a), (s), 0, ~0UL)

#define for_each_set_bit(bit, addr, size)				\
	for ((bit) = find_first_bit((addr), (size));			\
	     (bit) < (size);						\
	     (bit) = find_next_bit((addr), (size), (bit) + 1))

static inline unsigned int bitmap_weight(const unsigned long *map,
					 unsigned int nbits)
{
	unsigned int i, n = 0;

	for (i = 0; i < nbits / BITS_PER_LONG; i++)
		n += __builtin_popcountl(map[i]);
	if (nbits % BITS_PER_LONG)
		n += __builtin_popcountl(map[i] &
					 (BIT(nbits % BITS_PER_LONG) - 1));
	return n;
}

static inline void bitmap_set(unsigned long *map, unsigned long start,
			      unsigned long len)
{
	for (; len && start % BITS_PER_LONG; len--, start++)
		__set_bit(start, map);
	for (; len >= BITS_PER_LONG; len -= BITS_PER_LONG,
	     start += BITS_PER_LONG)
		map[BIT_WORD(start)] = ~0UL;
	for (; len; len--, start++)
		__set_bit(start, map);
}

static inline void bitmap_clear(unsigned long *map, unsigned long start,
				unsigned long len)
{
	for (; len && start % BITS_PER_LONG; len--, start++)
		__clear_bit(start, map);
	for (; len >= BITS_PER_LONG; len -= BITS_PER_LONG,
	     start += BITS_PER_LONG)
		map[BIT_WORD(start)] = 0;
	for (; len; len--, start++)
		__clear_bit(start, map);
}

/* ---- misc --------------------------------------------------------------- */

static inline void sort(void *base, size_t num, size_t size,
			int (*cmp)(const void *, const void *), void *swap)
{
	(void)swap;
	qsort(base, num, size, cmp);
}

static inline long strscpy(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size);

	if (n == size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = 0;
		return -E2BIG;
	}
	memcpy(dst, src, n + 1);
	return n;
}

/* ---- lists (include/linux/list.h subset) -------------------------------- */

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }

static inline void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l;
	l->prev = l;
}

static inline void __list_add(struct list_head *n, struct list_head *prev,
			      struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static inline void list_add(struct list_head *n, struct list_head *head)
{
	__list_add(n, head, head->next);
}

static inline void list_add_tail(struct list_head *n, struct list_head *head)
{
	__list_add(n, head->prev, head);
}

static inline void list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	e->next = (struct list_head *)0x100;
	e->prev = (struct list_head *)0x122;
}

static inline void list_move(struct list_head *e, struct list_head *head)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	list_add(e, head);
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

#define list_entry(ptr, type, member)	container_of(ptr, type, member)
#define list_first_entry(ptr, type, member) \
	list_entry((ptr)->next, type, member)
#define list_first_entry_or_null(ptr, type, member) \
	(list_empty(ptr) ? NULL : list_first_entry(ptr, type, member))
#define list_next_entry(pos, member) \
	list_entry((pos)->member.next, typeof(*(pos)), member)
#define list_for_each_entry(pos, head, member)				\
	for (pos = list_first_entry(head, typeof(*pos), member);	\
	     &pos->member != (head);					\
	     pos = list_next_entry(pos, member))
#define list_for_each_entry_safe(pos, n, head, member)			\
	for (pos = list_first_entry(head, typeof(*pos), member),	\
	     n = list_next_entry(pos, member);				\
	     &pos->member != (head);					\
	     pos = n, n = list_next_entry(n, member))

#endif /* _CARVEOUT_CO_INTERNAL_H */
