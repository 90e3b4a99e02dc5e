// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for elastic regions (carveout_elastic): a piece taken at run
 * time, refused give-back while any page of it is allocated, given back
 * when wholly free; the floor never given back; growth's failures and
 * their reasons; and growth and give-back racing allocations whose bytes
 * are checked.  They run against the first node of the loaded
 * carveout.ko and restore its limits.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/random.h>

#include <linux/carveout.h>

#include <carveout/kapi.h>

#include "carveout.h"
#include "co_kunit.h"

struct co_limits {
	u64 ceiling;
	u64 piece_bytes;
	unsigned int delay;
};

static struct co_node *co_elastic_node(struct kunit *test,
				       struct co_limits *save, u64 room)
{
	struct co_node *cn = co_node_next(NULL);

	KUNIT_ASSERT_NOT_NULL(test, cn);
	mutex_lock(&cn->grow_lock);
	save->ceiling = cn->ceiling;
	save->piece_bytes = cn->piece_bytes;
	save->delay = cn->shrink_delay_ms;
	WRITE_ONCE(cn->ceiling, cn->bytes + room);
	WRITE_ONCE(cn->piece_bytes, SZ_4M);
	/* Only the test gives pieces back. */
	WRITE_ONCE(cn->shrink_delay_ms, 3600 * 1000);
	mutex_unlock(&cn->grow_lock);
	return cn;
}

static void co_elastic_restore(struct co_node *cn, const struct co_limits *s)
{
	mutex_lock(&cn->grow_lock);
	co_elastic_shrink(cn, false, ULONG_MAX, NULL);
	WRITE_ONCE(cn->ceiling, s->ceiling);
	WRITE_ONCE(cn->piece_bytes, s->piece_bytes);
	WRITE_ONCE(cn->shrink_delay_ms, s->delay);
	mutex_unlock(&cn->grow_lock);
	/* Not the hour-long run our growth queued: now, and it re-arms. */
	co_elastic_kick(cn, 0);
}

static struct co_piece *co_last_elastic(struct co_node *cn)
{
	struct co_piece *p, *last = NULL;

	mutex_lock(&cn->grow_lock);
	co_for_each_piece(cn, p)
		if (p->elastic)
			last = p;
	mutex_unlock(&cn->grow_lock);
	return last;
}

static void co_elastic_grow_retire(struct kunit *test)
{
	unsigned long pfn, shrinks;
	struct co_limits save;
	struct co_node *cn;
	struct co_piece *p;
	u64 bytes, floor;
	bool gone;
	int ret;

	cn = co_elastic_node(test, &save, SZ_16M);
	bytes = cn->bytes;
	floor = cn->floor;
	KUNIT_EXPECT_EQ(test, co_elastic_grow(cn, PAGE_SIZE, GFP_NOWAIT),
			-EAGAIN);
	ret = co_elastic_grow(cn, PAGE_SIZE, GFP_KERNEL);
	if (ret) {
		co_elastic_restore(cn, &save);
		kunit_skip(test, "no contiguous 4 MiB on node %d (%d)",
			   cn->nid, ret);
	}
	KUNIT_EXPECT_EQ(test, cn->bytes, bytes + SZ_4M);
	KUNIT_EXPECT_EQ(test, cn->floor, floor);
	p = co_last_elastic(cn);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, p->nr_pages << PAGE_SHIFT, (unsigned long)SZ_4M);

	/* One page allocated keeps the piece. */
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(&p->buddy, 1, 0, 0, &pfn), 0);
	mutex_lock(&cn->grow_lock);
	KUNIT_EXPECT_FALSE(test, co_elastic_retire(p));
	KUNIT_EXPECT_TRUE(test, co_piece_live(p));
	/* The floor's first piece never goes. */
	KUNIT_EXPECT_FALSE(test, co_elastic_retire(&cn->pieces[0]));
	mutex_unlock(&cn->grow_lock);
	KUNIT_EXPECT_EQ(test, co_buddy_free(&p->buddy, pfn, 1), 0);

	shrinks = atomic64_read(&cn->shrink_count);
	mutex_lock(&cn->grow_lock);
	gone = co_elastic_retire(p);
	mutex_unlock(&cn->grow_lock);
	KUNIT_EXPECT_TRUE(test, gone);
	KUNIT_EXPECT_EQ(test, READ_ONCE(p->state), (int)CO_PIECE_EMPTY);
	KUNIT_EXPECT_EQ(test, cn->bytes, bytes);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cn->shrink_count), shrinks + 1);

	/* No room for a piece under the ceiling: -ENOSPC, and why. */
	mutex_lock(&cn->grow_lock);
	WRITE_ONCE(cn->ceiling, cn->bytes + PAGE_SIZE);
	mutex_unlock(&cn->grow_lock);
	KUNIT_EXPECT_EQ(test, co_elastic_grow(cn, PAGE_SIZE, GFP_KERNEL),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cn->last_fail), (int)CO_GROW_CEILING);
	co_elastic_restore(cn, &save);
	KUNIT_EXPECT_EQ(test, cn->bytes, bytes);
}

struct co_racer {
	struct kunit *test;
	int nid;
	unsigned long allocs;
	unsigned long bad;
	unsigned long stray;
};

/* Is @phys inside a live piece of @cn? */
static bool co_in_live_piece(struct co_node *cn, phys_addr_t phys)
{
	struct co_piece *p;
	bool found = false;

	rcu_read_lock();
	co_for_each_piece(cn, p)
		if (co_buddy_contains(&p->buddy, PHYS_PFN(phys)))
			found = true;
	rcu_read_unlock();
	return found;
}

static int co_race_alloc(void *arg)
{
	struct co_racer *r = arg;
	struct co_node *cn = co_node_find(r->nid);
	struct carveout_kbuf *kb;
	size_t size, i;
	u8 *v, tag;

	while (!kthread_should_stop()) {
		size = (1 + get_random_u32_below(256)) * PAGE_SIZE;
		kb = carveout_kbuf_alloc(size, 0, r->nid,
					 CARVEOUT_POLICY_STRICT,
					 CARVEOUT_ALLOC_PAGES);
		if (IS_ERR(kb)) {
			cond_resched();
			continue;
		}
		r->allocs++;
		if (!co_in_live_piece(cn, carveout_kbuf_phys(kb)))
			r->stray++;
		v = carveout_kbuf_vaddr(kb);
		tag = (u8)r->allocs | 1;
		memset(v, tag, size);
		cond_resched();
		for (i = 0; i < size; i += PAGE_SIZE)
			if (v[i] != tag)
				r->bad++;
		carveout_kbuf_free(kb);
	}
	return 0;
}

static void co_elastic_race(struct kunit *test)
{
	struct task_struct *t[2];
	struct co_racer r[2];
	struct co_limits save;
	struct co_node *cn;
	unsigned long grown = 0, freed = 0;
	int i, round;

	cn = co_elastic_node(test, &save, SZ_32M);
	for (i = 0; i < 2; i++) {
		r[i] = (struct co_racer) { .test = test, .nid = cn->nid };
		t[i] = kthread_run(co_race_alloc, &r[i], "co_race%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t[i]));
	}
	for (round = 0; round < 40; round++) {
		if (!co_elastic_grow(cn, PAGE_SIZE << get_random_u32_below(11),
				     GFP_KERNEL))
			grown++;
		usleep_range(2000, 5000);
		mutex_lock(&cn->grow_lock);
		freed += co_elastic_shrink(cn, false, ULONG_MAX, NULL);
		mutex_unlock(&cn->grow_lock);
	}
	for (i = 0; i < 2; i++)
		kthread_stop(t[i]);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, r[i].bad, 0UL);
		KUNIT_EXPECT_EQ(test, r[i].stray, 0UL);
		KUNIT_EXPECT_GT(test, r[i].allocs, 0UL);
	}
	kunit_info(test, "grown %lu times, %lu pages given back, %lu + %lu allocations",
		   grown, freed, r[0].allocs, r[1].allocs);
	co_elastic_restore(cn, &save);
	KUNIT_EXPECT_EQ(test, cn->bytes, cn->floor);
}

static struct kunit_case co_elastic_cases[] = {
	KUNIT_CASE(co_elastic_grow_retire),
	KUNIT_CASE_SLOW(co_elastic_race),
	{}
};

struct kunit_suite carveout_elastic_suite = {
	.name = "carveout_elastic",
	.test_cases = co_elastic_cases,
};
