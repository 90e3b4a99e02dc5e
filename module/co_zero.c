// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: background zeroing of freed memory.
 *
 * Buffers are handed out zeroed.  Writing the zeros at allocation time
 * costs as much as the buffer is large (a 256 MiB buffer is a 256 MiB
 * memset), so memory an owner frees is zeroed in the background instead
 * and allocations take memory that is already clean when there is some
 * (co_buddy_alloc_clean() prefers it and says whether it got it); with
 * none that fits, co_buffer.c zeroes at allocation time as before.
 *
 * One kernel thread per node, allowed on that node's CPUs, at the lowest
 * priority (nice 19).  It sleeps until CO_ZERO_STEP bytes were freed on its
 * node (co_zero_kick(); smaller frees add up, so a loop of small
 * allocations does not wake it at every free), or for CO_ZERO_LINGER after
 * a smaller amount, then zeroes the node's dirty free pages one step of at
 * most CO_ZERO_STEP bytes at a time (co_buddy_zero_begin() /
 * co_buddy_zero_end(): the pages stay free, allocations that take them
 * wait for the step), with cond_resched() between steps, and backs off
 * for a tick whenever another task wants its CPU.  carveout.prezero=0
 * turns it off; memory is then zeroed only at allocation time.
 *
 * Why writing to free pages is safe: co_buddy_clean.c.
 *
 * Lock order: no locks of its own; the arena lock inside the buddy calls.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/stat.h>
#include <linux/topology.h>

#include "carveout.h"

/* Bytes zeroed per step: what an allocation may have to wait for. */
#define CO_ZERO_STEP	SZ_1M
/* How long less than a step's worth of freed memory waits to be zeroed. */
#define CO_ZERO_LINGER	(HZ / 10)

static bool co_prezero = true;

static int co_prezero_set(const char *val, const struct kernel_param *kp)
{
	struct co_node *cn;
	int ret;

	ret = param_set_bool(val, kp);
	if (!ret)
		co_for_each_node(cn)
			co_zero_kick(cn, CO_ZERO_STEP);
	return ret;
}

static const struct kernel_param_ops co_prezero_ops = {
	.set = co_prezero_set,
	.get = param_get_bool,
};
module_param_cb(prezero, &co_prezero_ops, &co_prezero, 0644);
MODULE_PARM_DESC(prezero, "Zero freed memory in the background (default on)");

/*
 * One step on the first piece of @cn with dirty free pages; false if none.
 * The whole step runs in one RCU read-side section: a piece given back
 * waits for it (synchronize_rcu() before free_contig_range(), co_elastic.c),
 * so no zero is written to memory that left the region.
 */
static bool co_zero_step(struct co_node *cn)
{
	unsigned int order = ilog2(CO_ZERO_STEP >> PAGE_SHIFT);
	unsigned long pfn, nr;
	struct co_piece *p;
	bool did = false;
	u64 t0;

	rcu_read_lock();
	co_for_each_piece(cn, p) {
		if (co_buddy_zero_begin(&p->buddy, order, &pfn, &nr))
			continue;
		t0 = ktime_get_ns();
		memset(pfn_to_kaddr(pfn), 0, nr << PAGE_SHIFT);
		co_buddy_zero_end(&p->buddy);
		atomic64_add(ktime_get_ns() - t0, &cn->prezero_ns);
		atomic64_add((u64)nr << PAGE_SHIFT, &cn->prezeroed);
		did = true;
		break;
	}
	rcu_read_unlock();
	return did;
}

/*
 * Sleep until a kick, or for CO_ZERO_LINGER once less than a step's worth
 * of memory was freed (the first such free wakes an indefinite sleep to
 * start the clock).
 */
static void co_zero_sleep(struct co_node *cn)
{
	for (;;) {
		set_current_state(TASK_IDLE);
		if (atomic_xchg(&cn->zero_kick, 0) || kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			return;
		}
		if (atomic64_read(&cn->zero_pending)) {
			schedule_timeout(CO_ZERO_LINGER);
			return;
		}
		schedule();
	}
}

static int co_zero_thread(void *data)
{
	struct co_node *cn = data;

	set_user_nice(current, MAX_NICE);
	while (!kthread_should_stop()) {
		/* This round zeroes what was freed so far. */
		atomic64_set(&cn->zero_pending, 0);
		while (READ_ONCE(co_prezero) && co_zero_step(cn) &&
		       !kthread_should_stop()) {
			/* Someone else wants this CPU: let them have it. */
			if (!single_task_running())
				schedule_timeout_idle(1);
			cond_resched();
		}
		co_zero_sleep(cn);
	}
	return 0;
}

/**
 * co_zero_kick() - memory was freed on a node: zero it in the background
 * @cn: the node
 * @bytes: how much
 *
 * Wakes the node's thread once CO_ZERO_STEP bytes have been freed since
 * it last went to sleep; less is zeroed after CO_ZERO_LINGER.
 *
 * Context: any.
 */
void co_zero_kick(struct co_node *cn, u64 bytes)
{
	s64 old = atomic64_fetch_add(bytes, &cn->zero_pending);

	if (old + bytes >= CO_ZERO_STEP)
		atomic_set(&cn->zero_kick, 1);
	else if (old)
		return;
	if (cn->zero_task)
		wake_up_process(cn->zero_task);
}

/**
 * co_zero_start() - start a zeroing thread per node
 *
 * The whole region starts dirty (it held other data before it was
 * reserved), so each thread goes to work at once.
 *
 * Context: module load, after co_regions_init().
 * Return: 0 or the error of kthread_create_on_node().
 */
int co_zero_start(void)
{
	const struct cpumask *cpus;
	struct task_struct *t;
	struct co_node *cn;

	co_for_each_node(cn) {
		t = kthread_create_on_node(co_zero_thread, cn, cn->nid,
					   "carveout_zero/%d", cn->nid);
		if (IS_ERR(t)) {
			co_zero_stop();
			return PTR_ERR(t);
		}
		cpus = cpumask_of_node(cn->nid);
		if (cpumask_intersects(cpus, cpu_online_mask))
			set_cpus_allowed_ptr(t, cpus);
		cn->zero_task = t;
		co_zero_kick(cn, CO_ZERO_STEP);
	}
	return 0;
}

/**
 * co_zero_stop() - stop the zeroing threads
 *
 * Each thread finishes its step first: no range is left half zeroed.
 *
 * Context: module load failure or unload, before co_regions_exit().
 */
void co_zero_stop(void)
{
	struct co_node *cn;

	co_for_each_node(cn) {
		if (cn->zero_task)
			kthread_stop(cn->zero_task);
		cn->zero_task = NULL;
	}
}
