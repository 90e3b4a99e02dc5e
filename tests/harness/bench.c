// SPDX-License-Identifier: GPL-2.0
/*
 * bench.c - micro-benchmark of the allocator core (userspace, -O2)
 *
 * ns per alloc+free pair for the buddy (orders 0, 4, 9) and the slab caches
 * (64 B, 512 B; batches of 4 stay in the per-CPU magazines, batches of 32
 * go through the slabs), on one thread and on two threads sharing one arena and one
 * cache set (each thread on its own emulated CPU).  The arena is 1 GiB of
 * fake PFNs with a third of it allocated in scattered small pieces first, so
 * searches are not all trivially at the start.  Shim locks are pthread
 * mutexes, so absolute numbers are pessimistic versus kernel spinlocks.
 */
#define pr_fmt(fmt) "bench: " fmt
#include "co_internal.h"
#include <time.h>

#include "../../module/co_slab.h"

#define ARENA_PAGES	((1UL << 30) / PAGE_SIZE)

struct bench {
	const char *name;
	int slab;
	unsigned long arg;	/* order or byte size */
	unsigned long iters;
	unsigned int batch;	/* allocs before the frees */
};

static const struct bench benches[] = {
	{ "buddy order 0", 0, 0, 2000000, 8 },
	{ "buddy order 4", 0, 4, 2000000, 8 },
	{ "buddy order 9", 0, 9, 1000000, 8 },
	{ "slab 64 B x4", 1, 64, 4000000, 4 },
	{ "slab 512 B x4", 1, 512, 4000000, 4 },
	{ "slab 64 B x32", 1, 64, 2000000, 32 },
	{ "slab 512 B x32", 1, 512, 2000000, 32 },
};

struct worker {
	struct co_buddy *b;
	struct co_slab_set *s;
	const struct bench *bn;
	int cpu;
	double ns;
	int errors;
};

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static void *work(void *p)
{
	struct worker *w = p;
	const struct bench *bn = w->bn;
	unsigned long i, pfn[32];
	unsigned int j, n = bn->batch;
	u64 a[32];
	double t0;

	shim_set_cpu(w->cpu);
	t0 = now_ns();
	for (i = 0; i < bn->iters; i += n) {
		/* in batches, so frees are not always of the last alloc */
		for (j = 0; j < n; j++) {
			if (bn->slab)
				w->errors += !!co_slab_alloc(w->s, bn->arg, &a[j]);
			else
				w->errors += !!co_buddy_alloc(w->b, 1UL << bn->arg,
							      0, 0, &pfn[j]);
		}
		for (j = 0; j < n; j++) {
			if (bn->slab)
				w->errors += !!co_slab_free(w->s, a[j], bn->arg);
			else
				w->errors += !!co_buddy_free(w->b, pfn[j],
							     1UL << bn->arg);
		}
	}
	w->ns = (now_ns() - t0) / bn->iters;
	return NULL;
}

int main(void)
{
	static unsigned long held[ARENA_PAGES / 12];
	struct co_slab_set *s;
	struct co_buddy b;
	unsigned long n = 0, i, x = 1;
	unsigned int k;
	int t;

	if (co_buddy_init(&b, 0x100000, ARENA_PAGES))
		return 1;
	s = co_slab_set_create(&b, "bench");
	if (!s)
		return 1;
	/* fragment: allocate 1..7 pages everywhere, free every other */
	while (n < ARRAY_SIZE(held) &&
	       !co_buddy_alloc(&b, 1 + n % 7, 0, 0, &held[n]))
		n++;
	for (i = 0; i < n; i += 2)
		co_buddy_free(&b, held[i], 1 + i % 7);
	(void)x;
	printf("# arena 1 GiB, %lu pages free after fragmenting, metadata %zu bytes\n",
	       co_buddy_free_pages(&b), co_buddy_metadata_bytes(&b));
	printf("# %-16s %12s %12s  (2 threads: each thread's ns/pair, averaged)\n",
	       "benchmark", "1 thread", "2 threads");
	for (k = 0; k < ARRAY_SIZE(benches); k++) {
		struct worker w[2];
		pthread_t th[2];
		double one, two;
		int err = 0;

		int rep;

		/* best of three, the machine may be busy */
		one = two = 1e12;
		for (rep = 0; rep < 3; rep++) {
			double sum = 0;

			w[0] = (struct worker){ .b = &b, .s = s,
						.bn = &benches[k] };
			work(&w[0]);
			one = w[0].ns < one ? w[0].ns : one;
			err += w[0].errors;
			for (t = 0; t < 2; t++) {
				w[t] = (struct worker){ .b = &b, .s = s,
							.bn = &benches[k],
							.cpu = t };
				pthread_create(&th[t], NULL, work, &w[t]);
			}
			for (t = 0; t < 2; t++) {
				pthread_join(th[t], NULL);
				sum += w[t].ns / 2;
				err += w[t].errors;
			}
			two = sum < two ? sum : two;
		}
		printf("%-18s %9.1f ns %9.1f ns  (per alloc+free pair%s)\n",
		       benches[k].name, one, two, err ? ", ERRORS" : "");
	}
	for (i = 1; i < n; i += 2)
		co_buddy_free(&b, held[i], 1 + i % 7);
	co_slab_set_destroy(s);
	co_buddy_check(&b);
	co_buddy_destroy(&b);
	shim_rcu_barrier();
	return 0;
}
