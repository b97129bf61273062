// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the header's "hardirq included" promises, kept from a timer that
 * expires in hard-irq context on every kernel (HRTIMER_MODE_*_HARD; on
 * PREEMPT_RT other hrtimers expire in a thread).  Each timer callback
 * checks in_hardirq(), so the test cannot pass from softirq or process
 * context.  What makes a promise fail here is the kernel's own checks: on
 * the PREEMPT_RT debug kernel a spinlock_t taken on these paths is a
 * "sleeping function called from invalid context" and an "Invalid wait
 * context" report, which fail the run.  kbatch_post() from hardirq is in
 * queue_test.c (queue_post_from_hardirq).
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/kbatch.h>
#include <linux/ktime.h>
#include <linux/slab.h>

#include "kbatch_test.h"

#define CT_PERIOD_NS	50000

/* ---- kbatch_reduce(): followers and leaders in hardirq ---- */

#define CT_FOLLOWERS	8
#define CT_LEADS	8
#define CT_LEADER_VALUE	1000

/*
 * The timer pushes CT_FOLLOWERS values while the process-context leader
 * holds its batch open, waits (re-arming, pushing nothing) until that
 * leader has bounded it, then pushes CT_LEADS values, each of which opens
 * and folds its own batch in hard-irq context.  However long the leader is
 * preempted, no push meets a full ring and every result is known.
 */
struct ct_reduce {
	struct kbatch_queue *queue;
	struct hrtimer timer;
	struct completion timer_done;
	unsigned int pushed;
	unsigned int not_hardirq;
	unsigned int followed;
	unsigned int led;
	unsigned int refused;
	unsigned long accepted_sum;
	bool bounded;
	/* Written by the folds. */
	atomic_long_t folded_sum;
	atomic_t folded;
	atomic_t hardirq_folds;
	unsigned int first_len;
	bool timer_started;
	int leader_ret;
};

static enum hrtimer_restart ct_reduce_timer(struct hrtimer *timer)
{
	struct ct_reduce *r = container_of(timer, struct ct_reduce, timer);
	unsigned long v;
	int ret;

	if (!in_hardirq())
		r->not_hardirq++;
	if (r->pushed == CT_FOLLOWERS && !READ_ONCE(r->bounded))
		goto again;
	v = ++r->pushed;
	ret = kbatch_reduce(r->queue, v);
	if (ret == KBATCH_FOLLOWED)
		r->followed++;
	else if (ret == KBATCH_LED)
		r->led++;
	else
		r->refused++;
	if (ret >= 0)
		r->accepted_sum += v;
	if (r->pushed == CT_FOLLOWERS + CT_LEADS) {
		complete(&r->timer_done);
		return HRTIMER_NORESTART;
	}
again:
	hrtimer_forward_now(timer, ns_to_ktime(CT_PERIOD_NS));
	return HRTIMER_RESTART;
}

/*
 * The fold.  The first batch, led from process context, starts the timer
 * on its own CPU and waits for its CT_FOLLOWERS pushes before bounding:
 * those pushes find the batch open and follow.  Every later batch is led
 * by the timer itself and folded in hard-irq context, where this callback
 * never sleeps.
 */
static void ct_reduce_fn(struct kbatch_batch *batch, void *data)
{
	struct ct_reduce *r = data;
	unsigned long end = jiffies + 5 * HZ;
	unsigned long sum = 0;
	unsigned int i, n;
	bool first = !in_hardirq() && !r->timer_started;

	if (first) {
		r->timer_started = true;
		hrtimer_start(&r->timer, ns_to_ktime(CT_PERIOD_NS),
			      HRTIMER_MODE_REL_PINNED_HARD);
		while (READ_ONCE(r->pushed) < CT_FOLLOWERS &&
		       time_before(jiffies, end))
			cpu_relax();
	}
	n = kbatch_bound(batch);
	if (first)
		WRITE_ONCE(r->bounded, true);
	for (i = 0; i < n; i++)
		sum += kbatch_batch_value(batch, i);
	if (in_hardirq())
		atomic_inc(&r->hardirq_folds);
	else
		r->first_len = n;
	atomic_long_add(sum, &r->folded_sum);
	atomic_add(n, &r->folded);
}

static int ct_reduce_leader(void *data)
{
	struct ct_reduce *r = data;

	r->leader_ret = kbatch_reduce(r->queue, CT_LEADER_VALUE);
	return 0;
}

/*
 * kbatch_reduce() from hardirq: as a follower of a batch that a process-
 * context leader folds on the same CPU, and as the leader that folds its
 * own batch in hard-irq context.  Every accepted value is folded once.
 */
static void context_reduce_from_hardirq(struct kunit *test)
{
	struct ct_reduce *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	unsigned int cpu = cpumask_first(cpu_online_mask);

	KUNIT_ASSERT_NOT_NULL(test, r);
	init_completion(&r->timer_done);
	hrtimer_init(&r->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	r->timer.function = ct_reduce_timer;
	r->queue = kbatch_queue_alloc("kunit-ctx-reduce", KBATCH_REDUCE, 64,
				      ct_reduce_fn, r);
	KUNIT_ASSERT_FALSE(test, IS_ERR(r->queue));

	kbt_join(kbt_start(ct_reduce_leader, r, cpu));
	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&r->timer_done, 10 * HZ),
			0ul);
	hrtimer_cancel(&r->timer);
	kbatch_queue_free(r->queue);

	KUNIT_EXPECT_EQ(test, r->not_hardirq, 0u);
	KUNIT_EXPECT_EQ(test, r->leader_ret, KBATCH_LED);
	KUNIT_EXPECT_EQ(test, r->refused, 0u);
	KUNIT_EXPECT_EQ(test, r->followed, (unsigned int)CT_FOLLOWERS);
	KUNIT_EXPECT_EQ(test, r->led, (unsigned int)CT_LEADS);
	/* The first batch: the leader's value and every follower's. */
	KUNIT_EXPECT_EQ(test, r->first_len, CT_FOLLOWERS + 1u);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->hardirq_folds), CT_LEADS);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->folded),
			CT_FOLLOWERS + CT_LEADS + 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&r->folded_sum),
			(long)(r->accepted_sum + CT_LEADER_VALUE));
}

/* ---- the poller: kbatch_poller_add() and kbatch_wake() in hardirq ---- */

#define CT_ITEMS	16

struct ct_poll;

struct ct_item {
	struct kbatch_pollable pi;
	struct ct_poll *owner;
	unsigned int polls;
	int add_ret;
};

struct ct_poll {
	struct kbatch_poller *poller;
	struct ct_item items[CT_ITEMS];
	struct hrtimer timer;
	unsigned int fired;
	unsigned int not_hardirq;
	atomic_t polled;
	struct completion all_polled;
};

/* Each item is polled once after its wakes, then leaves the poller. */
static enum kbatch_poll_ret ct_poll_item(struct kbatch_pollable *pi)
{
	struct ct_item *it = container_of(pi, struct ct_item, pi);

	it->polls++;
	if (atomic_inc_return(&it->owner->polled) == CT_ITEMS)
		complete(&it->owner->all_polled);
	return KBATCH_POLL_DONE;
}

/* One item per expiry: register it and wake it twice, all in hardirq. */
static enum hrtimer_restart ct_poll_timer(struct hrtimer *timer)
{
	struct ct_poll *p = container_of(timer, struct ct_poll, timer);
	struct ct_item *it = &p->items[p->fired++];

	if (!in_hardirq())
		p->not_hardirq++;
	it->add_ret = kbatch_poller_add(p->poller, &it->pi, ct_poll_item);
	kbatch_wake(&it->pi);
	kbatch_wake(&it->pi);
	if (p->fired == CT_ITEMS)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(CT_PERIOD_NS));
	return HRTIMER_RESTART;
}

/*
 * kbatch_poller_add() ("any context but NMI") and kbatch_wake() ("any
 * context, hardirq included") from hardirq, on a poller with its real
 * worker: every item is added, and polled exactly once.
 */
static void context_poller_from_hardirq(struct kunit *test)
{
	struct ct_poll *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, p);
	p->poller = kbatch_poller_alloc("kunit-ctx", CT_ITEMS * 2, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(p->poller));
	init_completion(&p->all_polled);
	for (i = 0; i < CT_ITEMS; i++)
		p->items[i].owner = p;
	hrtimer_init(&p->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	p->timer.function = ct_poll_timer;
	hrtimer_start(&p->timer, ns_to_ktime(CT_PERIOD_NS), HRTIMER_MODE_REL_HARD);

	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&p->all_polled, 10 * HZ),
			0ul);
	hrtimer_cancel(&p->timer);
	kbatch_poller_free(p->poller);

	KUNIT_EXPECT_EQ(test, p->fired, (unsigned int)CT_ITEMS);
	KUNIT_EXPECT_EQ(test, p->not_hardirq, 0u);
	for (i = 0; i < CT_ITEMS; i++) {
		KUNIT_EXPECT_EQ(test, p->items[i].add_ret, 0);
		KUNIT_EXPECT_EQ(test, p->items[i].polls, 1u);
	}
}

static struct kunit_case context_cases[] = {
	KUNIT_CASE(context_reduce_from_hardirq),
	KUNIT_CASE(context_poller_from_hardirq),
	{}
};

static struct kunit_suite context_suite = {
	.name = "kbatch_context",
	.test_cases = context_cases,
};

kunit_test_suite(context_suite);
