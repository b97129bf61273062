// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: cancel against a running poll, on every CPU at once.
 *
 * The poll takes no lock (the handshake is told at the top of
 * kmod/poller.c), so cancel must still never return while its item's poll
 * runs, and no poll may start after it returns.  One kthread per online
 * CPU adds an item to a shared real-worker poller, wakes it, sometimes
 * waits until its poll has started, cancels it, and marks it dead; the
 * poll counts any call on a dead item, and the thread any cancel that
 * returned with the poll still inside.  Items re-wake themselves, so the
 * worker is always busy, and some polls return KBATCH_POLL_DONE, so cancel
 * also races the worker's own retire.  The items are freed only at the
 * end, so a late poll is counted rather than a use after free.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/sched.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kbatch.h>
#include <linux/slab.h>

#include "kbatch_internal.h"
#include "kbatch_test.h"

#define PC_ROUNDS	200
#define PC_CAPACITY	4096

struct pc_ctx {
	struct kbatch_poller *poller;
	atomic_t late;		/* polls of a dead item */
	atomic_t inside;	/* cancels that returned during their poll */
	atomic_t raced;		/* cancels that began during their poll */
	atomic_t polls;
};

struct pc_item {
	struct kbatch_pollable pi;
	struct pc_ctx *ctx;
	unsigned int polls;
	bool in_poll;
	bool dead;
};

static enum kbatch_poll_ret pc_poll(struct kbatch_pollable *pi)
{
	struct pc_item *it = container_of(pi, struct pc_item, pi);

	if (READ_ONCE(it->dead))
		atomic_inc(&it->ctx->late);
	WRITE_ONCE(it->in_poll, true);
	WRITE_ONCE(it->polls, it->polls + 1);
	atomic_inc(&it->ctx->polls);
	udelay(10 + it->polls % 4 * 10);
	if (READ_ONCE(it->dead))
		atomic_inc(&it->ctx->late);
	WRITE_ONCE(it->in_poll, false);
	kbatch_wake(pi);
	return it->polls % 5 ? KBATCH_POLL_PENDING : KBATCH_POLL_DONE;
}

/* Add @it, retrying while retired slots wait for their grace period. */
static int pc_add(struct pc_ctx *ctx, struct pc_item *it)
{
	unsigned long end = jiffies + 10 * HZ;
	int ret;

	while ((ret = kbatch_poller_add(ctx->poller, &it->pi, pc_poll)) == -ENOSPC &&
	       time_before(jiffies, end))
		usleep_range(100, 200);
	return ret;
}

/*
 * Wait, bounded, until @it's first poll has begun; yields, so that the
 * worker gets a CPU while every CPU runs one of these threads.
 */
static void pc_wait_polled(struct pc_item *it)
{
	unsigned long end = jiffies + HZ;

	while (!READ_ONCE(it->polls) && time_before(jiffies, end))
		cond_resched();
}

static int pc_thread(void *data)
{
	struct pc_ctx *ctx = data;
	struct pc_item *items;
	unsigned int r;
	int ret = 0;

	items = kcalloc(PC_ROUNDS, sizeof(*items), GFP_KERNEL);
	if (!items)
		return -ENOMEM;
	for (r = 0; r < PC_ROUNDS && !ret; r++) {
		struct pc_item *it = &items[r];

		it->ctx = ctx;
		ret = pc_add(ctx, it);
		if (ret)
			break;
		kbatch_wake(&it->pi);
		if (r % 2)
			pc_wait_polled(it);
		if (READ_ONCE(it->in_poll))
			atomic_inc(&ctx->raced);
		kbatch_poller_cancel(&it->pi);
		if (READ_ONCE(it->in_poll))
			atomic_inc(&ctx->inside);
		WRITE_ONCE(it->dead, true);
	}
	/* Late polls of these items would show in ctx->late before this. */
	msleep(20);
	kfree(items);
	return ret;
}

static void poller_cancel_vs_poll_every_cpu(struct kunit *test)
{
	struct pc_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct kbt_thread **t;
	unsigned int n = 0, i;
	int cpu;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	t = kunit_kcalloc(test, nr_cpu_ids, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	ctx->poller = kbatch_poller_alloc("kunit-cancel-race", PC_CAPACITY, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(ctx->poller));

	for_each_online_cpu(cpu)
		t[n++] = kbt_start(pc_thread, ctx, cpu);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, kbt_join(t[i]), 0);
	kbatch_poller_free(ctx->poller);

	kunit_info(test, "%u CPUs x %u cancels: %d polls, %d cancels began during their poll\n",
		   n, PC_ROUNDS, atomic_read(&ctx->polls),
		   atomic_read(&ctx->raced));
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->late), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->inside), 0);
	/* The race was run, not just the easy orders. */
	KUNIT_EXPECT_GT(test, atomic_read(&ctx->polls), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&ctx->raced), 0);
}

static struct kunit_case poller_cancel_cases[] = {
	KUNIT_CASE(poller_cancel_vs_poll_every_cpu),
	{}
};

static struct kunit_suite poller_cancel_suite = {
	.name = "kbatch_poller_cancel",
	.test_cases = poller_cancel_cases,
};

kunit_test_suite(poller_cancel_suite);
