// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - TAP runner for the allocator core in userspace
 *
 * Runs the KUnit suites (tests/kunit/buddy_kunit.c and slab_kunit.c, built against kunit/test.h
 * here), harness-only cases that need the shim (report counting, allocation
 * failure injection, several CPUs, threads) and the random-operation fuzzer.
 *
 * Usage: co_test [-s SEED] [-n OPS] [-v]   (or CO_SEED / CO_OPS in the env)
 */
#define pr_fmt(fmt) "harness: " fmt
#include "co_internal.h"
#include <kunit/test.h>
#include <time.h>
#include <unistd.h>

#include "../../module/co_slab.h"
#include "fuzz.h"

/* ---- mini KUnit runtime -------------------------------------------------- */

struct kunit_shim_res {
	struct kunit_shim_res *next;
};

void kunit_shim_fail(struct kunit *test, const char *file, int line,
		     const char *fmt, ...)
{
	va_list ap;

	test->failed = 1;
	fprintf(stdout, "    # %s: %s:%d: ", test->name, file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

void kunit_shim_msg(struct kunit *test, const char *fmt, ...)
{
	va_list ap;

	if (!fmt[0])
		return;
	fprintf(stdout, "    # ");
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

void kunit_shim_log(struct kunit *test, const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "    # %s: ", test->name);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
}

void *kunit_kzalloc(struct kunit *test, size_t size, gfp_t gfp)
{
	struct kunit_shim_res *r = calloc(1, sizeof(*r) + size);

	(void)gfp;
	if (!r)
		return NULL;
	r->next = test->res;
	test->res = r;
	return r + 1;
}

static void kunit_shim_free_res(struct kunit *test)
{
	while (test->res) {
		struct kunit_shim_res *r = test->res;

		test->res = r->next;
		free(r);
	}
}

/* ---- TAP ------------------------------------------------------------------ */

static unsigned int tap_n, tap_pass, tap_fail, tap_skip;

static void tap(int ok, int skip, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (skip)
		tap_skip++;
	else if (ok)
		tap_pass++;
	else
		tap_fail++;
	printf("%s %u - ", ok || skip ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("%s\n", skip ? " # SKIP" : "");
	fflush(stdout);
}

static void run_case(struct kunit_suite *suite, struct kunit_case *kc,
		     const void *param, const char *desc)
{
	struct kunit test = { .name = kc->name, .param_value = param };
	unsigned long warns = shim_warns;

	if (!setjmp(test.abort)) {
		if (suite->init)
			suite->init(&test);
		kc->run_case(&test);
	}
	if (suite->exit)
		suite->exit(&test);
	kunit_shim_free_res(&test);
	shim_rcu_barrier();
	if (shim_warns != warns) {
		printf("    # %s: %lu WARN_ON fired\n", kc->name,
		       shim_warns - warns);
		test.failed = 1;
	}
	tap(!test.failed, test.skipped && !test.failed, "%s.%s%s%s%s",
	    suite->name, kc->name, desc ? " (" : "", desc ? desc : "",
	    desc ? ")" : "");
}

static void run_suite(struct kunit_suite *suite)
{
	struct kunit_case *kc;

	printf("# suite %s\n", suite->name);
	for (kc = suite->test_cases; kc->run_case; kc++) {
		char desc[KUNIT_PARAM_DESC_SIZE];
		const void *p;

		if (!kc->generate_params) {
			run_case(suite, kc, NULL, NULL);
			continue;
		}
		desc[0] = 0;
		for (p = kc->generate_params(NULL, desc); p;
		     p = kc->generate_params(p, desc)) {
			run_case(suite, kc, p, desc);
			desc[0] = 0;
		}
	}
}

/* ---- harness-only cases ---------------------------------------------------- */

#define H_EXPECT(c)							\
	do {								\
		if (!(c)) {						\
			printf("    # %s:%d: expected %s\n", __FILE__,	\
			       __LINE__, #c);				\
			ok = 0;						\
		}							\
	} while (0)

/* Invalid frees are reported once each through co_report(). */
static int h_reports(void)
{
	struct co_buddy b;
	struct co_slab_set *s;
	unsigned long pfn, before;
	u64 a;
	int ok = 1;

	H_EXPECT(!co_buddy_init(&b, 0x1001, 100));
	s = co_slab_set_create(&b, "reports");
	H_EXPECT(s);
	H_EXPECT(!co_buddy_alloc(&b, 2, 0, 0, &pfn));
	H_EXPECT(!co_slab_alloc(s, 64, &a));
	before = shim_reports;
	H_EXPECT(co_buddy_free(&b, pfn, 3) == -EINVAL);
	H_EXPECT(shim_reports == before + 1);
	H_EXPECT(co_buddy_free(&b, pfn + 1, 1) == -EINVAL);
	H_EXPECT(co_slab_free(s, a + 64, 64) == -EINVAL);
	H_EXPECT(co_slab_free(s, a, 0) == -EINVAL);
	H_EXPECT(shim_reports == before + 4);
	H_EXPECT(!co_buddy_free(&b, pfn, 2));
	H_EXPECT(!co_slab_free(s, a, 64));
	H_EXPECT(co_slab_free(s, a, 64) == -EINVAL);
	H_EXPECT(shim_reports == before + 5);
	H_EXPECT(!co_slab_set_destroy(s));
	H_EXPECT(co_buddy_free_pages(&b) == 100);
	co_buddy_destroy(&b);
	return ok;
}

/* Every allocation inside init/create/grow can fail cleanly. */
static int h_enomem(void)
{
	struct co_buddy b;
	struct co_slab_set *s;
	unsigned long n;
	int ok = 1, ret;
	u64 a;

	for (n = 1; n <= 2; n++) {
		shim_fail_alloc_in(n);
		H_EXPECT(co_buddy_init(&b, 0x1000, 300) == -ENOMEM);
	}
	shim_fail_alloc_in(0);
	H_EXPECT(!co_buddy_init(&b, 0x1000, 3000));
	for (n = 1; n <= 3; n++) {
		shim_fail_alloc_in(n);
		H_EXPECT(!co_slab_set_create(&b, "enomem"));
	}
	shim_fail_alloc_in(0);
	s = co_slab_set_create(&b, "enomem");
	H_EXPECT(s);
	/* slow path: descriptor, then directory leaf */
	for (n = 1; n <= 2; n++) {
		shim_fail_alloc_in(n);
		ret = co_slab_alloc(s, 100, &a);
		H_EXPECT(ret == -ENOMEM);
		H_EXPECT(co_buddy_free_pages(&b) == 3000);
		H_EXPECT(!co_slab_set_check(s));
	}
	shim_fail_alloc_in(0);
	H_EXPECT(!co_slab_alloc(s, 100, &a));
	/* checker needs memory too */
	shim_fail_alloc_in(1);
	H_EXPECT(co_slab_set_check(s) == -ENOMEM);
	shim_fail_alloc_in(0);
	H_EXPECT(!co_slab_free(s, a, 100));
	H_EXPECT(!co_slab_set_destroy(s));
	H_EXPECT(!co_buddy_check(&b));
	H_EXPECT(co_buddy_free_pages(&b) == 3000);
	co_buddy_destroy(&b);
	return ok;
}

/* Objects cross CPUs; double frees are caught whichever magazine holds them. */
static int h_cross_cpu(void)
{
	struct co_slab_class_stats st;
	struct co_slab_set *s;
	struct co_buddy b;
	u64 a[64];
	int ok = 1, i;

	H_EXPECT(!co_buddy_init(&b, 0x3, 500));
	s = co_slab_set_create(&b, "cpus");
	H_EXPECT(s);
	shim_set_cpu(0);
	for (i = 0; i < 64; i++)
		H_EXPECT(!co_slab_alloc(s, 200, &a[i]));
	for (i = 0; i < 64; i++) {
		shim_set_cpu(i % SHIM_NR_CPUS);
		H_EXPECT(!co_slab_free(s, a[i], 200));
		shim_set_cpu((i + 1) % SHIM_NR_CPUS);
		H_EXPECT(co_slab_free(s, a[i], 200) == -EINVAL);
	}
	H_EXPECT(!co_slab_set_check(s));
	co_slab_get_stats(s, co_slab_class_index(200), &st);
	H_EXPECT(st.objs_in_use == 0);
	H_EXPECT(st.objs_cached > 0 &&
		 st.objs_cached <= SHIM_NR_CPUS * st.mag_size);
	/* objects parked on CPU 3 are handed out on CPU 3 */
	shim_set_cpu(3);
	for (i = 0; i < 64; i++)
		H_EXPECT(!co_slab_alloc(s, 200, &a[i]));
	H_EXPECT(!co_slab_set_check(s));
	for (i = 0; i < 64; i++)
		H_EXPECT(!co_slab_free(s, a[i], 200));
	co_slab_drain(s);
	co_slab_get_stats(s, co_slab_class_index(200), &st);
	H_EXPECT(st.objs_cached == 0);
	H_EXPECT(!co_slab_set_destroy(s));
	H_EXPECT(co_buddy_free_pages(&b) == 500);
	co_buddy_destroy(&b);
	shim_set_cpu(0);
	return ok;
}

/* Out of pages, objects parked in another CPU's magazine are reclaimed. */
static int h_stranded(void)
{
	struct co_slab_class_stats st;
	struct co_slab_set *s;
	struct co_buddy b;
	int ok = 1, i, n;
	u64 a[64];

	H_EXPECT(!co_buddy_init(&b, 0x77, 1));
	s = co_slab_set_create(&b, "stranded");
	H_EXPECT(s);
	co_slab_get_stats(s, co_slab_class_index(64), &st);
	/* a whole magazine's worth, all of the one page's objects at most */
	n = min_t(int, st.mag_size, 64);
	H_EXPECT(n >= CO_SLAB_MAG_MIN);
	shim_set_cpu(0);
	for (i = 0; i < 64; i++)
		H_EXPECT(!co_slab_alloc(s, 64, &a[i]));
	H_EXPECT(co_slab_alloc(s, 64, &a[0]) == -ENOMEM);
	shim_set_cpu(1);
	for (i = 0; i < n; i++)
		H_EXPECT(!co_slab_free(s, a[i], 64));
	shim_set_cpu(0);
	for (i = 0; i < n; i++)
		H_EXPECT(!co_slab_alloc(s, 64, &a[i]));
	H_EXPECT(!co_slab_set_check(s));
	for (i = 0; i < 64; i++)
		H_EXPECT(!co_slab_free(s, a[i], 64));
	H_EXPECT(!co_slab_set_destroy(s));
	H_EXPECT(co_buddy_free_pages(&b) == 1);
	co_buddy_destroy(&b);
	return ok;
}

struct h_thread_arg {
	struct co_slab_set *s;
	struct co_buddy *b;
	int cpu;
	int errors;
};

static void *h_thread(void *p)
{
	struct h_thread_arg *t = p;
	unsigned long pfn[16];
	u64 a[32], x = t->cpu + 1;
	int i, round;

	shim_set_cpu(t->cpu);
	for (round = 0; round < 2000; round++) {
		x = x * 6364136223846793005ULL + 1;
		for (i = 0; i < 32; i++)
			if (co_slab_alloc(t->s, 1 + (x >> 33) % 2048, &a[i]))
				t->errors++;
		for (i = 0; i < 32; i++)
			if (co_slab_free(t->s, a[i], 1 + (x >> 33) % 2048))
				t->errors++;
		for (i = 0; i < 16; i++)
			if (co_buddy_alloc(t->b, 1 + i % 3, 0, 0, &pfn[i]))
				t->errors++;
		for (i = 0; i < 16; i++)
			if (co_buddy_free(t->b, pfn[i], 1 + i % 3))
				t->errors++;
	}
	return NULL;
}

/* Two threads on one set and one arena. */
static int h_threads(void)
{
	struct h_thread_arg t[2];
	pthread_t th[2];
	struct co_slab_set *s;
	struct co_buddy b;
	int ok = 1, i;

	H_EXPECT(!co_buddy_init(&b, 0x10001, 4000));
	s = co_slab_set_create(&b, "threads");
	H_EXPECT(s);
	for (i = 0; i < 2; i++) {
		t[i] = (struct h_thread_arg){ .s = s, .b = &b, .cpu = i };
		pthread_create(&th[i], NULL, h_thread, &t[i]);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		H_EXPECT(!t[i].errors);
	}
	H_EXPECT(!co_slab_set_check(s));
	H_EXPECT(!co_buddy_check(&b));
	H_EXPECT(!co_slab_set_destroy(s));
	H_EXPECT(co_buddy_free_pages(&b) == 4000);
	co_buddy_destroy(&b);
	return ok;
}

/* Report the metadata cost of a 1 GiB arena and the class table. */
static int h_sizes(void)
{
	unsigned long nr = (1UL << 30) / PAGE_SIZE;
	struct co_slab_class_stats st;
	struct co_slab_set *s;
	struct co_buddy b;
	unsigned int c;
	int ok = 1;

	H_EXPECT(!co_buddy_init(&b, 0x140000, nr));
	printf("# 1 GiB arena: max order %u, metadata %zu bytes (%.4f%% of the arena)\n",
	       co_buddy_max_order(&b), co_buddy_metadata_bytes(&b),
	       100.0 * co_buddy_metadata_bytes(&b) / (nr * PAGE_SIZE));
	H_EXPECT(co_buddy_metadata_bytes(&b) * 500 <= nr * PAGE_SIZE);
	s = co_slab_set_create(&b, "sizes");
	H_EXPECT(s);
	printf("# class  size  pages objs  waste%%(mean over requests)\n");
	for (c = 0; c < co_slab_nr_classes(); c++) {
		size_t prev = c ? 0 : 0;

		co_slab_get_stats(s, c, &st);
		if (c) {
			struct co_slab_class_stats p;

			co_slab_get_stats(s, c - 1, &p);
			prev = p.obj_size;
		}
		printf("# %5u %5zu %5u %4u  %5.1f\n", c, st.obj_size,
		       st.slab_pages, st.objs_per_slab,
		       100.0 * (st.obj_size - prev - 1) / 2 / st.obj_size);
	}
	H_EXPECT(!co_slab_set_destroy(s));
	co_buddy_destroy(&b);
	return ok;
}

/* ---- fuzzer ---------------------------------------------------------------- */

static u64 splitmix(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int run_fuzz(u64 seed, u64 ops)
{
	u64 st = seed, done = 0, arenas = 0, per;
	struct timespec t0, t1;
	char desc[128];
	int ok = 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (done < ops && ok) {
		struct fz *f = fz_new(splitmix(&st));
		u64 i;

		if (!f) {
			printf("    # fz_new failed\n");
			return 0;
		}
		arenas++;
		fz_describe(f, desc, sizeof(desc));
		per = 5000 + splitmix(&st) % 40000;
		for (i = 0; i < per && done < ops; i++, done++) {
			if (fz_step(f, splitmix(&st))) {
				printf("    # seed %#llx, %s, failed at op %llu of this arena\n",
				       (unsigned long long)seed, desc,
				       (unsigned long long)i);
				ok = 0;
				break;
			}
		}
		if (fz_end(f)) {
			printf("    # seed %#llx, %s: teardown failed\n",
			       (unsigned long long)seed, desc);
			ok = 0;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	{
		char sum[512];

		fz_summary(sum, sizeof(sum));
		printf("# fuzz: %s\n", sum);
	}
	printf("# fuzz: seed %#llx, %llu ops over %llu arenas, checkers after every op, %.1f s\n",
	       (unsigned long long)seed, (unsigned long long)done,
	       (unsigned long long)arenas,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return ok;
}

int main(int argc, char **argv)
{
	u64 seed = 0, ops = 1000000;
	unsigned long warns;
	int opt;

	const char *env;

	env = getenv("CO_SEED");
	if (env && *env)
		seed = strtoull(env, NULL, 0);
	else
		seed = (u64)time(NULL) * 2654435761ULL ^ getpid();
	env = getenv("CO_OPS");
	if (env && *env)
		ops = strtoull(env, NULL, 0);
	while ((opt = getopt(argc, argv, "s:n:v")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			ops = strtoull(optarg, NULL, 0);
			break;
		case 'v':
			shim_verbose = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-s seed] [-n ops] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	printf("# seed %#llx (rerun with CO_SEED=%#llx), fuzz ops %llu\n",
	       (unsigned long long)seed, (unsigned long long)seed,
	       (unsigned long long)ops);

	run_suite(&carveout_buddy_suite);
	run_suite(&carveout_buddy_clean_suite);
	run_suite(&carveout_slab_suite);

	printf("# harness\n");
	warns = shim_warns;
	tap(h_reports(), 0, "harness.invalid_frees_reported_once");
	tap(h_enomem(), 0, "harness.enomem_injection");
	tap(h_cross_cpu(), 0, "harness.cross_cpu_magazines");
	tap(h_stranded(), 0, "harness.reclaim_other_cpu_magazines");
	tap(h_threads(), 0, "harness.two_threads");
	tap(h_sizes(), 0, "harness.sizes");
	shim_rcu_barrier();
	tap(shim_warns == warns, 0, "harness.no_warnings");

	tap(run_fuzz(seed, ops), 0, "fuzz.random_ops (%llu ops, seed %#llx)",
	    (unsigned long long)ops, (unsigned long long)seed);

	printf("1..%u\n", tap_n);
	printf("# Totals: pass:%u fail:%u skip:%u\n", tap_pass, tap_fail,
	       tap_skip);
	return tap_fail ? 1 : 0;
}
