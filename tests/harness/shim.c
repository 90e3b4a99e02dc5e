// SPDX-License-Identifier: GPL-2.0
/*
 * shim.c - out-of-line parts of the harness shim (see co_internal.h)
 */
#define pr_fmt(fmt) fmt
#include "co_internal.h"

unsigned long shim_reports;
unsigned long shim_warns;
int shim_verbose;
int nr_cpu_ids = SHIM_NR_CPUS;

static unsigned long fail_countdown;
static pthread_mutex_t shim_mu = PTHREAD_MUTEX_INITIALIZER;
static void **graveyard;
static size_t graveyard_nr, graveyard_cap;
static __thread int this_cpu = -1;
static int next_cpu;

void shim_fail_alloc_in(unsigned long n)
{
	__atomic_store_n(&fail_countdown, n, __ATOMIC_RELAXED);
}

bool shim_alloc_should_fail(void)
{
	unsigned long n = __atomic_load_n(&fail_countdown, __ATOMIC_RELAXED);

	if (!n)
		return false;
	__atomic_store_n(&fail_countdown, n - 1, __ATOMIC_RELAXED);
	return n == 1;
}

void shim_lockdep_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "lockdep: %s not held at %s:%d\n", what, file, line);
	abort();
}

int shim_this_cpu(void)
{
	if (this_cpu < 0)
		this_cpu = __atomic_fetch_add(&next_cpu, 1, __ATOMIC_RELAXED) %
			   SHIM_NR_CPUS;
	return this_cpu;
}

void shim_set_cpu(int cpu)
{
	this_cpu = cpu % SHIM_NR_CPUS;
}

void *shim_alloc_percpu(size_t size)
{
	size_t stride = (size + 63) & ~(size_t)63;
	char *base;

	if (shim_alloc_should_fail())
		return NULL;
	base = aligned_alloc(64, SHIM_PCPU_HDR + stride * SHIM_NR_CPUS);
	if (!base)
		return NULL;
	memset(base, 0, SHIM_PCPU_HDR + stride * SHIM_NR_CPUS);
	*(size_t *)base = stride;
	return base + SHIM_PCPU_HDR;
}

void shim_free_percpu(void *p)
{
	if (p)
		free((char *)p - SHIM_PCPU_HDR);
}

void shim_kfree_rcu(void *p)
{
	pthread_mutex_lock(&shim_mu);
	if (graveyard_nr == graveyard_cap) {
		graveyard_cap = graveyard_cap ? 2 * graveyard_cap : 256;
		graveyard = realloc(graveyard, graveyard_cap * sizeof(*graveyard));
		if (!graveyard)
			abort();
	}
	graveyard[graveyard_nr++] = p;
	pthread_mutex_unlock(&shim_mu);
}

void shim_rcu_barrier(void)
{
	size_t i;

	pthread_mutex_lock(&shim_mu);
	for (i = 0; i < graveyard_nr; i++)
		free(graveyard[i]);
	graveyard_nr = 0;
	free(graveyard);
	graveyard = NULL;
	graveyard_cap = 0;
	pthread_mutex_unlock(&shim_mu);
}
