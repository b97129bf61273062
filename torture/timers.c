// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_torture: hrtimers that post, reduce and wake from interrupt
 * context.  Even-numbered timers expire in hardirq context
 * (HRTIMER_MODE_REL_HARD), odd-numbered ones in softirq context
 * (HRTIMER_MODE_REL_SOFT); each re-arms itself with a random period until
 * the test stops.
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/slab.h>

#include "torture.h"

struct kt_timer {
	struct hrtimer timer;
	struct rnd_state rs;
	bool hard;
};

static struct kt_timer *kt_timers;
static unsigned int kt_nr_timers;
static u32 kt_period_ns;

static u64 kt_timer_next(struct kt_timer *t)
{
	return kt_period_ns / 2 + kt_rand(&t->rs, kt_period_ns);
}

static enum hrtimer_restart kt_timer_fn(struct hrtimer *timer)
{
	struct kt_timer *t = container_of(timer, struct kt_timer, timer);

	if (t->hard ? !in_hardirq() : in_hardirq() || !in_serving_softirq())
		kt_violation("timer %s ran in the wrong context",
			     t->hard ? "hard" : "soft");
	kt_count(t->hard ? KT_HARDIRQ : KT_SOFTIRQ, 1);
	switch (kt_rand(&t->rs, 3)) {
	case 0:
		kt_queue_value_traffic(&t->rs, false, 4);
		break;
	case 1:
		kt_queue_value_traffic(&t->rs, true, 4);
		break;
	default:
		kt_poller_wake_any(&t->rs);
		break;
	}
	if (READ_ONCE(kt_stopping))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(kt_timer_next(t)));
	return HRTIMER_RESTART;
}

/**
 * kt_timers_start() - start @n timers
 * @n: how many; half of them hardirq, half softirq
 * @period_us: their mean period
 *
 * Context: process context, may sleep.
 *
 * Return: 0 or -ENOMEM.
 */
int kt_timers_start(unsigned int n, unsigned int period_us)
{
	enum hrtimer_mode mode;
	struct kt_timer *t;
	unsigned int i;

	if (!n)
		return 0;
	kt_timers = kcalloc(n, sizeof(*kt_timers), GFP_KERNEL);
	if (!kt_timers)
		return -ENOMEM;
	kt_nr_timers = n;
	kt_period_ns = max(period_us, 1U) * NSEC_PER_USEC;
	for (i = 0; i < n; i++) {
		t = &kt_timers[i];
		t->hard = !(i & 1);
		mode = t->hard ? HRTIMER_MODE_REL_HARD : HRTIMER_MODE_REL_SOFT;
		kt_rand_init(&t->rs, 0x71 + i);
		hrtimer_init(&t->timer, CLOCK_MONOTONIC, mode);
		t->timer.function = kt_timer_fn;
		hrtimer_start(&t->timer, ns_to_ktime(kt_timer_next(t)), mode);
	}
	return 0;
}

/**
 * kt_timers_stop() - cancel every timer; kt_stopping is already set
 *
 * Context: process context, may sleep.
 */
void kt_timers_stop(void)
{
	unsigned int i;

	for (i = 0; i < kt_nr_timers; i++)
		hrtimer_cancel(&kt_timers[i].timer);
	kfree(kt_timers);
	kt_timers = NULL;
	kt_nr_timers = 0;
}
