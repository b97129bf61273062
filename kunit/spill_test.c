// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: spill lanes (KBATCH_QUEUE_SPILL).  Every producer runs on one CPU
 * (kthreads bound to it, and an hrtimer that expires there in hard-irq
 * context), on small rings, as when one CPU takes all the interrupts.
 * With spill on, posts the CPU's ring has no room for land in the other
 * CPUs' lanes while they have room; with spill off, the full ring refuses
 * as before.  Every value carries its own index, and the callback marks
 * it in a bitmap: each accepted value must be delivered exactly once, and
 * the count and the sum must match what was accepted, through a shutdown
 * in the middle of the traffic and through CPU hotplug too.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/preempt.h>

#include "kbatch_internal.h"
#include "kbatch_test.h"

#define SP_RING		4	/* slots per ring and per lane */
#define SP_PRODS	3	/* two kthreads and the hrtimer */
#define SP_TIMER	2	/* the hrtimer's producer index */
#define SP_SEQS		BIT(16)	/* values per producer, at most */
#define SP_BURST	(2 * SP_RING)
#define SP_PERIOD_NS	20000

/* Value @seq of producer @p, never 0; its index in the bitmap is v - 1. */
#define SP_VALUE(p, seq)	((((unsigned long)(p) << 16) | (seq)) + 1)

/**
 * struct sp - one test's queue, producers and tallies
 * @queue: the queue under test
 * @cpu: the CPU every producer runs on
 * @gate: while not completed, background callbacks wait at it, so that
 *	no ring or lane frees a slot
 * @gated: the callback waits at @gate
 * @stop: producers stop posting
 * @seen: per value index, delivered
 * @wrong: values delivered twice, or never posted
 * @delivered: values the callback read
 * @delivered_sum: their sum
 * @remote: values delivered in a batch of another CPU than @cpu
 * @accepted: values posted and accepted
 * @accepted_sum: their sum
 * @refused: posts refused with -EAGAIN
 * @shutdown: posts refused with -ESHUTDOWN
 * @other: posts that failed otherwise
 * @seqs: per producer, values posted so far
 * @per_prod: values each producer posts, at most SP_SEQS
 * @burst: thread producers post in bursts of this many, preemption off
 * @timer: the hard-irq producer
 * @timer_done: completed when the timer stops
 * @not_hardirq: timer expiries that were not in hard-irq context
 */
struct sp {
	struct kbatch_queue *queue;
	unsigned int cpu;
	struct completion gate;
	bool gated;
	bool stop;
	unsigned long *seen;
	atomic_t wrong;
	atomic_long_t delivered;
	atomic_long_t delivered_sum;
	atomic_long_t remote;
	atomic_long_t accepted;
	atomic_long_t accepted_sum;
	atomic_long_t refused;
	atomic_long_t shutdown;
	atomic_long_t other;
	unsigned int seqs[SP_PRODS];
	unsigned int per_prod;
	unsigned int burst;
	struct hrtimer timer;
	struct completion timer_done;
	unsigned int not_hardirq;
};

static void sp_deliver(struct sp *s, struct kbatch_batch *batch,
		       unsigned long v)
{
	unsigned long idx = v - 1;

	if (idx >= SP_PRODS * SP_SEQS || test_and_set_bit(idx, s->seen))
		atomic_inc(&s->wrong);
	atomic_long_inc(&s->delivered);
	atomic_long_add(v, &s->delivered_sum);
	if (kbatch_batch_cpu(batch) != s->cpu)
		atomic_long_inc(&s->remote);
}

/*
 * The callback: waits at the gate while it is closed, then reads the
 * batch, a third of it one value at a time, a third in place and the
 * rest in bulk.
 */
static void sp_fn(struct kbatch_batch *batch, void *data)
{
	struct sp *s = data;
	unsigned int n = kbatch_bound(batch), i, got, k;
	const unsigned long *run;
	unsigned long vals[8];

	if (READ_ONCE(s->gated))
		wait_for_completion(&s->gate);
	for (i = 0; i < n / 3; i++)
		sp_deliver(s, batch, kbatch_batch_value(batch, i));
	while (i < 2 * n / 3) {
		got = kbatch_batch_span(batch, i, &run);
		if (!got) {
			atomic_inc(&s->wrong);
			break;
		}
		got = min(got, 2 * n / 3 - i);
		for (k = 0; k < got; k++)
			sp_deliver(s, batch, run[k]);
		i += got;
	}
	while (i < n) {
		got = kbatch_batch_values(batch, i, vals, ARRAY_SIZE(vals));
		if (!got) {
			atomic_inc(&s->wrong);
			break;
		}
		for (k = 0; k < got; k++)
			sp_deliver(s, batch, vals[k]);
		i += got;
	}
}

/* Tally the result of a post (or of a kbatch_post_many() of @n). */
static void sp_tally(struct sp *s, const unsigned long *vals, unsigned int n,
		     int ret)
{
	unsigned int i;

	if (ret == -EAGAIN)
		atomic_long_add(n, &s->refused);
	else if (ret == -ESHUTDOWN)
		atomic_long_add(n, &s->shutdown);
	else if (ret < 0 || ret > (int)n)
		atomic_long_add(n, &s->other);
	if (ret < 0 || ret > (int)n)
		return;
	for (i = 0; i < (unsigned int)ret; i++) {
		atomic_long_inc(&s->accepted);
		atomic_long_add(vals[i], &s->accepted_sum);
	}
	atomic_long_add(n - ret, &s->refused);
}

static void sp_post_one(struct sp *s, unsigned int p)
{
	unsigned long v = SP_VALUE(p, s->seqs[p]++);
	int ret = kbatch_post(s->queue, v);

	sp_tally(s, &v, 1, ret ? ret : 1);
}

static enum hrtimer_restart sp_timer_fn(struct hrtimer *timer)
{
	struct sp *s = container_of(timer, struct sp, timer);

	if (!in_hardirq())
		s->not_hardirq++;
	if (READ_ONCE(s->stop) || s->seqs[SP_TIMER] >= s->per_prod) {
		complete(&s->timer_done);
		return HRTIMER_NORESTART;
	}
	sp_post_one(s, SP_TIMER);
	hrtimer_forward_now(timer, ns_to_ktime(SP_PERIOD_NS));
	return HRTIMER_RESTART;
}

/*
 * A thread producer on @s->cpu: bursts of @s->burst values with
 * preemption off (the ring's worker cannot run on this CPU meanwhile),
 * one kbatch_post() at a time for producer 0, one kbatch_post_many() per
 * burst for producer 1.  Producer 0 starts the hrtimer, pinned here.
 */
static int sp_thread(struct sp *s, unsigned int p)
{
	unsigned long vals[SP_BURST];
	unsigned int i, n;
	int ret;

	if (p == 0)
		hrtimer_start(&s->timer, ns_to_ktime(SP_PERIOD_NS),
			      HRTIMER_MODE_REL_PINNED_HARD);
	while (!READ_ONCE(s->stop) && s->seqs[p] < s->per_prod) {
		n = min(s->burst, s->per_prod - s->seqs[p]);
		preempt_disable();
		if (p == 0) {
			for (i = 0; i < n; i++)
				sp_post_one(s, p);
		} else {
			for (i = 0; i < n; i++)
				vals[i] = SP_VALUE(p, s->seqs[p]++);
			ret = kbatch_post_many(s->queue, vals, n);
			sp_tally(s, vals, n, ret);
		}
		preempt_enable();
		if (atomic_long_read(&s->shutdown))
			break;
		cond_resched();
	}
	return 0;
}

static int sp_thread0(void *data)
{
	return sp_thread(data, 0);
}

static int sp_thread1(void *data)
{
	return sp_thread(data, 1);
}

/* A background queue of SP_RING slots per ring, positions from @first. */
static struct sp *sp_new(struct kunit *test, unsigned int flags,
			 unsigned int per_prod, bool gated, unsigned long first)
{
	struct sp *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	s->seen = kunit_kzalloc(test, BITS_TO_LONGS(SP_PRODS * SP_SEQS) *
				sizeof(long), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s->seen);
	s->cpu = cpumask_first(cpu_online_mask);
	s->per_prod = per_prod;
	s->burst = SP_BURST;
	s->gated = gated;
	init_completion(&s->gate);
	init_completion(&s->timer_done);
	hrtimer_init(&s->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	s->timer.function = sp_timer_fn;
	s->queue = kbatch_queue_alloc_pos_flags("spill", KBATCH_BACKGROUND,
						SP_RING, sp_fn, s, flags, first);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s->queue));
	return s;
}

/* Start both thread producers on @s->cpu (the first starts the timer). */
static void sp_start(struct kunit *test, struct sp *s, struct kbt_thread **t)
{
	t[0] = kbt_start(sp_thread0, s, s->cpu);
	t[1] = kbt_start(sp_thread1, s, s->cpu);
	KUNIT_ASSERT_NOT_NULL(test, t[0]);
	KUNIT_ASSERT_NOT_NULL(test, t[1]);
}

/* Join the threads and the timer. */
static void sp_join(struct kunit *test, struct sp *s, struct kbt_thread **t)
{
	KUNIT_EXPECT_EQ(test, kbt_join(t[0]), 0);
	KUNIT_EXPECT_EQ(test, kbt_join(t[1]), 0);
	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&s->timer_done,
							  30 * HZ), 0ul);
	hrtimer_cancel(&s->timer);
	KUNIT_EXPECT_EQ(test, s->not_hardirq, 0u);
}

/* After the queue's shutdown: every value accepted delivered once. */
static void sp_check_delivered(struct kunit *test, struct sp *s)
{
	KUNIT_EXPECT_EQ(test, atomic_read(&s->wrong), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->other), 0l);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->delivered),
			atomic_long_read(&s->accepted));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->delivered_sum),
			atomic_long_read(&s->accepted_sum));
}

static const bool spill_on_off[] = { true, false };

static void spill_desc(const bool *on, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "spill %s", *on ? "on" : "off");
}

KUNIT_ARRAY_PARAM(spill, spill_on_off, spill_desc);

static unsigned int sp_flags(struct kunit *test)
{
	return *(const bool *)test->param_value ? KBATCH_QUEUE_SPILL : 0;
}

/*
 * No slot is freed (every callback waits at the gate) while all three
 * producers post, on one CPU, twice what every ring and lane together
 * hold.  With spill on, exactly the CPU's ring and then every online
 * CPU's lane fill up (no post is refused while a lane has room); with
 * spill off, exactly the ring.  Then the gate opens: each accepted value
 * is delivered once.
 */
static void spill_fills_every_lane(struct kunit *test)
{
	unsigned int flags = sp_flags(test);
	unsigned int lanes = flags ? num_online_cpus() : 0;
	unsigned int room = SP_RING * (1 + lanes);
	struct kbt_thread *t[2];
	struct sp *s;
	long total;

	s = sp_new(test, flags, room * 2 / SP_PRODS + 1, true, 0);
	sp_start(test, s, t);
	sp_join(test, s, t);
	total = atomic_long_read(&s->accepted) + atomic_long_read(&s->refused);
	KUNIT_EXPECT_EQ(test, total, (long)SP_PRODS * s->per_prod);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->accepted), (long)room);
	complete_all(&s->gate);
	KUNIT_EXPECT_TRUE(test, kbatch_queue_shutdown(s->queue));
	sp_check_delivered(test, s);
	if (flags && lanes > 1)
		KUNIT_EXPECT_GT(test, atomic_long_read(&s->remote), 0l);
	if (!flags)
		KUNIT_EXPECT_EQ(test, atomic_long_read(&s->remote), 0l);
	kbatch_queue_free(s->queue);
}

/*
 * Traffic, the callbacks running: each thread's burst is twice the ring,
 * with preemption off, so without spill each burst is partly refused;
 * with spill the rest lands in lanes, drained on other CPUs.  Every
 * value accepted is delivered once.
 */
static void spill_one_cpu_traffic(struct kunit *test)
{
	unsigned int flags = sp_flags(test);
	struct kbt_thread *t[2];
	struct sp *s;

	s = sp_new(test, flags, 4096, false, 0);
	sp_start(test, s, t);
	sp_join(test, s, t);
	KUNIT_EXPECT_TRUE(test, kbatch_queue_shutdown(s->queue));
	sp_check_delivered(test, s);
	kunit_info(test, "spill %s: %ld accepted, %ld refused, %ld run on other CPUs\n",
		   flags ? "on" : "off", atomic_long_read(&s->accepted),
		   atomic_long_read(&s->refused), atomic_long_read(&s->remote));
	if (!flags) {
		/* Each burst from a thread finds at most a ring's room. */
		KUNIT_EXPECT_GE(test, atomic_long_read(&s->refused),
				(long)(2 * 4096 / SP_BURST * (SP_BURST - SP_RING)));
		KUNIT_EXPECT_EQ(test, atomic_long_read(&s->remote), 0l);
	} else if (num_online_cpus() > 1) {
		KUNIT_EXPECT_GT(test, atomic_long_read(&s->remote), 0l);
	}
	kbatch_queue_free(s->queue);
}

/*
 * A shutdown in the middle of spill traffic (once values have run on
 * other CPUs' lanes, and while the producers still post): once it has
 * returned, everything accepted has been delivered, exactly once,
 * nothing runs any more and posts are refused.
 */
static void spill_shutdown_under_traffic(struct kunit *test)
{
	unsigned long end = jiffies + 10 * HZ;
	struct kbt_thread *t[2];
	long delivered, sum;
	struct sp *s;

	s = sp_new(test, KBATCH_QUEUE_SPILL, SP_SEQS, false, 0);
	sp_start(test, s, t);
	while ((atomic_long_read(&s->accepted) < SP_SEQS / 16 ||
		(num_online_cpus() > 1 && !atomic_long_read(&s->remote))) &&
	       time_before(jiffies, end))
		usleep_range(1000, 2000);
	KUNIT_EXPECT_TRUE(test, kbatch_queue_shutdown(s->queue));
	KUNIT_EXPECT_EQ(test, kbatch_post(s->queue, 1), -ESHUTDOWN);
	/* Nothing runs after the shutdown: these are final. */
	delivered = atomic_long_read(&s->delivered);
	sum = atomic_long_read(&s->delivered_sum);
	WRITE_ONCE(s->stop, true);
	sp_join(test, s, t);
	sp_check_delivered(test, s);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->delivered), delivered);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->delivered_sum), sum);
	/* The shutdown came while they posted: some posts met it. */
	KUNIT_EXPECT_GT(test, atomic_long_read(&s->shutdown), 0l);
	kunit_info(test, "%ld accepted before the shutdown, %ld run on other CPUs, %ld posts refused by it\n",
		   atomic_long_read(&s->accepted), atomic_long_read(&s->remote),
		   atomic_long_read(&s->shutdown));
	kbatch_queue_free(s->queue);
}

/*
 * Every other CPU goes offline and comes back while spill traffic flows
 * from the first: lanes of CPUs that go, and works queued on them, are
 * drained wherever the workqueue runs them.
 */
static void spill_cpu_hotplug(struct kunit *test)
{
	struct kbt_thread *t[2];
	unsigned int cpu;
	struct sp *s;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	s = sp_new(test, KBATCH_QUEUE_SPILL, SP_SEQS, false, 0);
	sp_start(test, s, t);
	for_each_present_cpu(cpu) {
		if (cpu == s->cpu)
			continue;
		KUNIT_ASSERT_EQ(test, remove_cpu(cpu), 0);
		msleep(20);
		KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
		msleep(20);
	}
	WRITE_ONCE(s->stop, true);
	sp_join(test, s, t);
	KUNIT_EXPECT_TRUE(test, kbatch_queue_shutdown(s->queue));
	sp_check_delivered(test, s);
	KUNIT_EXPECT_GT(test, atomic_long_read(&s->remote), 0l);
	kbatch_queue_free(s->queue);
}

/* ---- reducer ---- */

#define SR_TIMER_PUSHES	3

/*
 * The first batch is led from process context on @cpu; before it bounds,
 * its callback starts a hard-irq timer there that pushes
 * SR_TIMER_PUSHES values: one joins the batch (the ring of KBATCH_RING_MIN
 * slots is then full), the others spill (and are folded by a lane's
 * worker) or are refused.
 */
struct sr {
	struct kbatch_queue *queue;
	struct hrtimer timer;
	struct completion timer_done;
	unsigned int pushed;
	unsigned int followed;
	unsigned int refused;
	unsigned int other;
	unsigned int not_hardirq;
	unsigned long accepted_sum;
	bool started;
	atomic_long_t folded;
	atomic_long_t folded_sum;
	atomic_long_t worker_folds;
	int leader_ret;
};

static enum hrtimer_restart sr_timer_fn(struct hrtimer *timer)
{
	struct sr *r = container_of(timer, struct sr, timer);
	unsigned long v = 100 + r->pushed;
	int ret;

	if (!in_hardirq())
		r->not_hardirq++;
	ret = kbatch_reduce(r->queue, v);
	if (ret == KBATCH_FOLLOWED)
		r->followed++;
	else if (ret == -EAGAIN)
		r->refused++;
	else
		r->other++;
	if (ret >= 0)
		r->accepted_sum += v;
	if (++r->pushed == SR_TIMER_PUSHES) {
		complete(&r->timer_done);
		return HRTIMER_NORESTART;
	}
	hrtimer_forward_now(timer, ns_to_ktime(SP_PERIOD_NS));
	return HRTIMER_RESTART;
}

static void sr_fn(struct kbatch_batch *batch, void *data)
{
	struct sr *r = data;
	unsigned long end = jiffies + 10 * HZ;
	unsigned int i, n;

	bool worker = current->flags & PF_WQ_WORKER;

	if (!r->started && !in_hardirq() && !worker) {
		r->started = true;
		hrtimer_start(&r->timer, ns_to_ktime(SP_PERIOD_NS),
			      HRTIMER_MODE_REL_PINNED_HARD);
		while (READ_ONCE(r->pushed) < SR_TIMER_PUSHES &&
		       time_before(jiffies, end))
			cpu_relax();
	}
	if (worker)
		atomic_long_inc(&r->worker_folds);
	n = kbatch_bound(batch);
	for (i = 0; i < n; i++) {
		atomic_long_inc(&r->folded);
		atomic_long_add(kbatch_batch_value(batch, i), &r->folded_sum);
	}
}

static int sr_leader(void *data)
{
	struct sr *r = data;

	r->leader_ret = kbatch_reduce(r->queue, 1);
	return 0;
}

/*
 * A reducer's ring is full while its leader holds the batch open: with
 * spill on, the timer's pushes past the ring spill and a lane's worker
 * folds them; with spill off, they are refused.  Exact counts.
 */
static void spill_reducer(struct kunit *test)
{
	unsigned int flags = sp_flags(test);
	struct sr *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	unsigned int cpu = cpumask_first(cpu_online_mask);
	long spilled = flags ? SR_TIMER_PUSHES - 1 : 0;

	KUNIT_ASSERT_NOT_NULL(test, r);
	init_completion(&r->timer_done);
	hrtimer_init(&r->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	r->timer.function = sr_timer_fn;
	r->queue = kbatch_queue_alloc_flags("spill-reduce", KBATCH_REDUCE,
					    KBATCH_RING_MIN, sr_fn, r, flags);
	KUNIT_ASSERT_FALSE(test, IS_ERR(r->queue));
	KUNIT_ASSERT_EQ(test, kbt_join(kbt_start(sr_leader, r, cpu)), 0);
	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&r->timer_done,
							  10 * HZ), 0ul);
	hrtimer_cancel(&r->timer);
	KUNIT_EXPECT_TRUE(test, kbatch_queue_shutdown(r->queue));

	KUNIT_EXPECT_EQ(test, r->leader_ret, KBATCH_LED);
	KUNIT_EXPECT_EQ(test, r->not_hardirq, 0u);
	KUNIT_EXPECT_EQ(test, r->other, 0u);
	KUNIT_EXPECT_EQ(test, r->followed, 1u + spilled);
	KUNIT_EXPECT_EQ(test, r->refused, SR_TIMER_PUSHES - 1u - spilled);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&r->folded), 2 + spilled);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&r->folded_sum),
			(long)(1 + r->accepted_sum));
	if (flags)
		KUNIT_EXPECT_GT(test, atomic_long_read(&r->worker_folds), 0l);
	else
		KUNIT_EXPECT_EQ(test, atomic_long_read(&r->worker_folds), 0l);
	kbatch_queue_free(r->queue);
}

/* ---- the API ---- */

static void sp_nop_fn(struct kbatch_batch *batch, void *data)
{
}

/* Task mode and unknown flags are refused; the flag is opt-in. */
static void spill_alloc_flags(struct kunit *test)
{
	unsigned int cpu = cpumask_first(cpu_online_mask);
	struct kbatch_queue *queue;

	queue = kbatch_queue_alloc_flags("x", KBATCH_TASK, 4, sp_nop_fn, NULL,
					 KBATCH_QUEUE_SPILL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(queue), -EINVAL);
	queue = kbatch_queue_alloc_flags("x", KBATCH_BACKGROUND, 4, sp_nop_fn,
					 NULL, BIT(1));
	KUNIT_EXPECT_EQ(test, PTR_ERR(queue), -EINVAL);
	queue = kbatch_queue_alloc_flags("x", KBATCH_REDUCE, 4, sp_nop_fn, NULL,
					 KBATCH_QUEUE_SPILL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	KUNIT_EXPECT_NOT_NULL(test, kbatch_queue_ring(queue, cpu)->spill);
	kbatch_queue_free(queue);
	queue = kbatch_queue_alloc("x", KBATCH_BACKGROUND, 4, sp_nop_fn, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	KUNIT_EXPECT_NULL(test, kbatch_queue_ring(queue, cpu)->spill);
	kbatch_queue_free(queue);
}

/*
 * A lane alone, its positions starting near the wrap: the callback holds
 * what it took at the gate, so pushes refuse at the lane's size whenever
 * its work runs; the positions wrap like a ring's; and the bound stops at
 * a reserved slot not yet filled.
 */
static void spill_lane_wrap(struct kunit *test)
{
	struct sp *s = sp_new(test, KBATCH_QUEUE_SPILL, 0, true, -3 * KB_STEP);
	unsigned long vals[SP_RING + 1], pos;
	struct kbatch_spill *lane = kbatch_queue_ring(s->queue, s->cpu)->spill;
	unsigned int i, round, seq = 0;

	for (round = 0; round < 3; round++) {
		reinit_completion(&s->gate);
		for (i = 0; i < ARRAY_SIZE(vals); i++)
			vals[i] = SP_VALUE(0, seq + i);
		KUNIT_EXPECT_EQ(test, kbatch_spill_push(lane, vals, 2), 2u);
		KUNIT_EXPECT_EQ(test, kbatch_spill_push(lane, vals + 2, 3), 2u);
		KUNIT_EXPECT_EQ(test, kbatch_spill_push(lane, vals + 4, 1), 0u);
		sp_tally(s, vals, SP_RING, SP_RING);
		seq += SP_RING;
		complete_all(&s->gate);
		flush_work(&lane->work);
		KUNIT_EXPECT_TRUE(test, kbatch_spill_empty(lane));
		KUNIT_EXPECT_EQ(test, atomic_long_read(&s->delivered), (long)seq);
	}
	/* The positions wrapped: the first was 3 steps before it. */
	KUNIT_EXPECT_LT(test, lane->tail, lane->first);
	/* A reservation not yet filled stops the bound. */
	pos = lane->tail;
	lane->tail = kbatch_ring_pos(pos, 1);
	KUNIT_EXPECT_EQ(test, kbatch_spill_bound(lane), pos);
	lane->tail = pos;
	KUNIT_EXPECT_TRUE(test, kbatch_queue_shutdown(s->queue));
	sp_check_delivered(test, s);
	kbatch_queue_free(s->queue);
}

static struct kunit_case spill_cases[] = {
	KUNIT_CASE(spill_alloc_flags),
	KUNIT_CASE(spill_lane_wrap),
	KUNIT_CASE_PARAM(spill_fills_every_lane, spill_gen_params),
	KUNIT_CASE_PARAM(spill_one_cpu_traffic, spill_gen_params),
	KUNIT_CASE_PARAM(spill_reducer, spill_gen_params),
	KUNIT_CASE(spill_shutdown_under_traffic),
	KUNIT_CASE(spill_cpu_hotplug),
	{}
};

static struct kunit_suite spill_suite = {
	.name = "kbatch_spill",
	.test_cases = spill_cases,
};

kunit_test_suite(spill_suite);
