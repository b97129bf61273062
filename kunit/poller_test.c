// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the fair deferred-work poller.  Most cases run cycles by hand on a
 * KBATCH_POLLER_MANUAL poller, so that they can name the cycle each poll
 * belongs to; the races run the real worker against hrtimers.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/kbatch.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/timer.h>
#include <linux/vmalloc.h>

#include "kbatch_internal.h"
#include "kbatch_test.h"

struct pt_item {
	struct kbatch_pollable pi;
	struct kbatch_poller *poller;
	unsigned int polls;
	unsigned int left;
	u64 woken_cycle;
	u64 polled_cycle;
	u64 bad;
	int next;
	int *log;
	unsigned int *log_len;
	struct pt_item *late;
	unsigned int nlate;
	struct completion done;
};

static struct pt_item *pt_item(struct kbatch_pollable *pi)
{
	return container_of(pi, struct pt_item, pi);
}

static u64 pt_cycle_count(struct kbatch_poller *poller)
{
	struct kbatch_poller_stats s;

	kbatch_poller_get_stats(poller, &s);
	return s.cycles;
}

static struct kbatch_poller *pt_manual(struct kunit *test, unsigned int capacity,
				       unsigned int budget)
{
	struct kbatch_poller *poller;

	poller = kbatch_poller_alloc_flags("kunit", capacity, budget,
					   KBATCH_POLLER_MANUAL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(poller));
	return poller;
}

/* Run one cycle by hand; a cycle that never ends fails the test. */
static unsigned int pt_cycle(struct kunit *test, struct kbatch_poller *poller)
{
	unsigned int slices = kbatch_poller_run_cycle(poller, 1000);

	KUNIT_ASSERT_NE_MSG(test, slices, 0u, "the cycle never ended");
	return slices;
}

static struct pt_item *pt_items(struct kunit *test, struct kbatch_poller *poller,
				unsigned int n, kbatch_poll_fn poll)
{
	struct pt_item *items = kunit_kcalloc(test, n, sizeof(*items), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, items);
	for (i = 0; i < n; i++) {
		items[i].poller = poller;
		init_completion(&items[i].done);
		KUNIT_ASSERT_EQ(test, kbatch_poller_add(poller, &items[i].pi, poll), 0);
	}
	return items;
}

/*
 * A real-worker poller with one item, woken once; returns once the item
 * has signalled @done (from its poll callback).
 */
static struct pt_item *pt_worker_item(struct kunit *test,
				      struct kbatch_poller **pollerp,
				      const char *name, kbatch_poll_fn poll)
{
	struct kbatch_poller *poller = kbatch_poller_alloc(name, 4, 0);
	struct pt_item *it;

	KUNIT_ASSERT_FALSE(test, IS_ERR(poller));
	*pollerp = poller;
	it = pt_items(test, poller, 1, poll);
	kbatch_wake(&it->pi);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&it->done, 10 * HZ), 0ul);
	return it;
}

static enum kbatch_poll_ret pt_poll_count(struct kbatch_pollable *pi)
{
	struct pt_item *it = pt_item(pi);

	it->polls++;
	it->polled_cycle = pt_cycle_count(it->poller);
	return KBATCH_POLL_PENDING;
}

static enum kbatch_poll_ret pt_poll_spin(struct kbatch_pollable *pi)
{
	pt_poll_count(pi);
	kbatch_wake(pi);
	return KBATCH_POLL_PENDING;
}

/* Only the wake that makes the wake set non-empty kicks the poller. */
static void poller_kicks_on_empty_edge(struct kunit *test)
{
	struct kbatch_poller *poller = pt_manual(test, 16, 0);
	struct pt_item *it = pt_items(test, poller, 3, pt_poll_count);
	struct kbatch_poller_stats s;

	kbatch_wake(&it[0].pi);
	kbatch_wake(&it[1].pi);
	kbatch_wake(&it[2].pi);
	kbatch_wake(&it[0].pi);
	kbatch_poller_get_stats(poller, &s);
	KUNIT_EXPECT_EQ(test, s.kicks, 1ull);
	pt_cycle(test, poller);
	KUNIT_EXPECT_EQ(test, it[0].polls, 1u);
	KUNIT_EXPECT_EQ(test, it[1].polls, 1u);
	KUNIT_EXPECT_EQ(test, it[2].polls, 1u);
	kbatch_wake(&it[1].pi);
	kbatch_poller_get_stats(poller, &s);
	KUNIT_EXPECT_EQ(test, s.kicks, 2ull);
	KUNIT_EXPECT_EQ(test, s.items, 3u);
	kbatch_poller_free(poller);
}

/* An item that wakes itself on every poll is polled once per cycle. */
static void poller_spinning_item(struct kunit *test)
{
	struct kbatch_poller *poller = pt_manual(test, 4, 0);
	struct pt_item *it = pt_items(test, poller, 1, pt_poll_spin);
	struct kbatch_poller_stats s;
	unsigned int k;

	kbatch_wake(&it->pi);
	for (k = 1; k <= 50; k++) {
		pt_cycle(test, poller);
		KUNIT_ASSERT_EQ(test, it->polls, k);
	}
	kbatch_poller_get_stats(poller, &s);
	KUNIT_EXPECT_EQ(test, s.cycles, 50ull);
	KUNIT_EXPECT_EQ(test, s.polls, 50ull);
	kbatch_poller_free(poller);
}

static enum kbatch_poll_ret pt_poll_spin_worker(struct kbatch_pollable *pi)
{
	struct pt_item *it = pt_item(pi);
	u64 cycle = pt_cycle_count(it->poller);

	if (it->polls && cycle != it->polled_cycle + 1)
		it->bad++;
	it->polled_cycle = cycle;
	if (++it->polls == 200) {
		complete(&it->done);
		return KBATCH_POLL_DONE;
	}
	kbatch_wake(pi);
	return KBATCH_POLL_PENDING;
}

/* The same on the real worker: each poll comes from the next cycle. */
static void poller_spinning_item_worker(struct kunit *test)
{
	struct kbatch_poller *poller;
	struct pt_item *it = pt_worker_item(test, &poller, "kunit-spin",
					    pt_poll_spin_worker);

	kbatch_poller_free(poller);
	KUNIT_EXPECT_EQ(test, it->polls, 200u);
	KUNIT_EXPECT_EQ(test, it->bad, 0ull);
}

#define PT_BUSY		8
#define PT_ONCE		1000

/* A busy item; the first also wakes the late half of the once-items. */
static enum kbatch_poll_ret pt_poll_busy(struct kbatch_pollable *pi)
{
	struct pt_item *it = pt_item(pi);
	unsigned int i;

	for (i = 0; i < it->nlate; i++) {
		it->late[i].woken_cycle = pt_cycle_count(it->poller);
		kbatch_wake(&it->late[i].pi);
	}
	it->nlate = 0;
	return pt_poll_spin(pi);
}

/* Busy items never delay a woken item past the first following cycle. */
static void poller_starvation(struct kunit *test)
{
	struct kbatch_poller *poller = pt_manual(test, 2048, 16);
	struct pt_item *busy = pt_items(test, poller, PT_BUSY, pt_poll_busy);
	struct pt_item *once = pt_items(test, poller, PT_ONCE, pt_poll_count);
	unsigned int i, cycles;

	busy[0].late = &once[PT_ONCE / 2];
	busy[0].nlate = PT_ONCE / 2;
	for (i = 0; i < PT_BUSY; i++)
		kbatch_wake(&busy[i].pi);
	for (i = 0; i < PT_ONCE / 2; i++) {
		once[i].woken_cycle = pt_cycle_count(poller);
		kbatch_wake(&once[i].pi);
	}
	for (cycles = 1; cycles <= 4; cycles++)
		pt_cycle(test, poller);

	for (i = 0; i < PT_ONCE; i++) {
		KUNIT_ASSERT_EQ_MSG(test, once[i].polls, 1u, "item %u", i);
		KUNIT_ASSERT_EQ_MSG(test, once[i].polled_cycle,
				    once[i].woken_cycle + 1, "item %u", i);
	}
	for (i = 0; i < PT_BUSY; i++)
		KUNIT_EXPECT_EQ(test, busy[i].polls, 4u);
	kbatch_poller_free(poller);
}

/* Produce the next value of a sequence, then wake self or finish. */
static enum kbatch_poll_ret pt_poll_sequence(struct kbatch_pollable *pi)
{
	struct pt_item *it = pt_item(pi);

	it->polls++;
	it->log[(*it->log_len)++] = it->next++;
	if (--it->left == 0)
		return KBATCH_POLL_DONE;
	kbatch_wake(pi);
	return KBATCH_POLL_PENDING;
}

/* Two self-waking producers alternate strictly; done items stay done. */
static void poller_interleaving(struct kunit *test)
{
	static const int want[] = { 1, 5, 2, 6, 3, 7, 4, 8 };
	struct kbatch_poller *poller = pt_manual(test, 8, 0);
	struct pt_item *it = pt_items(test, poller, 2, pt_poll_sequence);
	unsigned int len = 0, i;
	int log[16];

	for (i = 0; i < 2; i++) {
		it[i].next = 1 + 4 * i;
		it[i].left = 4;
		it[i].log = log;
		it[i].log_len = &len;
		kbatch_wake(&it[i].pi);
	}
	for (i = 0; i < 6; i++)
		pt_cycle(test, poller);
	KUNIT_ASSERT_EQ(test, len, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++)
		KUNIT_EXPECT_EQ_MSG(test, log[i], want[i], "position %u", i);

	kbatch_wake(&it[0].pi);
	pt_cycle(test, poller);
	KUNIT_EXPECT_EQ(test, it[0].polls, 4u);
	kbatch_poller_free(poller);
}

/* More woken items than the budget: slices, each item polled once. */
static void poller_budget(struct kunit *test)
{
	struct kbatch_poller *poller = pt_manual(test, 256, 8);
	struct pt_item *it = pt_items(test, poller, 100, pt_poll_spin);
	struct kbatch_poller_stats s;
	unsigned int i, slices = 0;
	bool more;

	for (i = 0; i < 100; i++)
		kbatch_wake(&it[i].pi);
	do {
		more = kbatch_poller_run_slice(poller);
		slices++;
		kbatch_poller_get_stats(poller, &s);
		KUNIT_ASSERT_EQ(test, s.polls, (u64)min(8 * slices, 100u));
		KUNIT_ASSERT_EQ(test, s.cycles, 1ull);
	} while (more && slices < 100);
	KUNIT_EXPECT_EQ(test, slices, 13u);
	for (i = 0; i < 100; i++)
		KUNIT_ASSERT_EQ(test, it[i].polls, 1u);

	/* They all woke themselves: the next cycle polls each once more. */
	KUNIT_EXPECT_EQ(test, pt_cycle(test, poller), 13u);
	for (i = 0; i < 100; i++)
		KUNIT_ASSERT_EQ(test, it[i].polls, 2u);
	kbatch_poller_get_stats(poller, &s);
	KUNIT_EXPECT_EQ(test, s.largest, 100ull);
	kbatch_poller_free(poller);
}

/* A stale wake of a cancelled item never polls it or its index's heir. */
static void poller_stale_wake_after_recycle(struct kunit *test)
{
	struct kbatch_poller *poller = pt_manual(test, 2, 1);
	struct pt_item *it = pt_items(test, poller, 2, pt_poll_count);
	struct pt_item *c = &it[0], *a = &it[1];
	struct pt_item *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	b->poller = poller;
	KUNIT_ASSERT_EQ(test, a->pi.index, 1u);
	kbatch_poller_cancel(&a->pi);
	/* Not recycled at once. */
	KUNIT_EXPECT_EQ(test, kbatch_poller_add(poller, &b->pi, pt_poll_count),
			-ENOSPC);
	pt_cycle(test, poller);
	/* A wake of a that passed its check just before the cancel. */
	kbatch_poller_inject_wake(poller, 1);
	synchronize_rcu();
	kbatch_wake(&c->pi);
	/* The cycle that recycles index 1 polls c, within its budget of 1. */
	kbatch_poller_run_slice(poller);
	KUNIT_EXPECT_EQ(test, c->polls, 1u);
	KUNIT_ASSERT_EQ(test, kbatch_poller_add(poller, &b->pi, pt_poll_count), 0);
	KUNIT_EXPECT_EQ(test, b->pi.index, 1u);
	kbatch_poller_run_slice(poller);
	pt_cycle(test, poller);
	KUNIT_EXPECT_EQ(test, b->polls, 0u);
	KUNIT_EXPECT_EQ(test, a->polls, 0u);

	/* A late wake of a is dropped; b's own wakes reach it. */
	kbatch_wake(&a->pi);
	pt_cycle(test, poller);
	KUNIT_EXPECT_EQ(test, b->polls, 0u);
	kbatch_wake(&b->pi);
	pt_cycle(test, poller);
	KUNIT_EXPECT_EQ(test, b->polls, 1u);
	KUNIT_EXPECT_EQ(test, a->polls, 0u);
	kbatch_poller_free(poller);
}

/*
 * A cancelled item may be woken and cancelled again after its poller is
 * freed: it no longer names the poller (KASAN would catch the access).
 */
static void poller_cancelled_item_outlives_poller(struct kunit *test)
{
	struct kbatch_poller *poller = pt_manual(test, 2, 0);
	struct kbatch_pollable item = {};

	KUNIT_ASSERT_EQ(test, kbatch_poller_add(poller, &item, pt_poll_count), 0);
	kbatch_poller_cancel(&item);
	KUNIT_EXPECT_NULL(test, READ_ONCE(item.poller));
	kbatch_poller_free(poller);
	kbatch_wake(&item);
	kbatch_poller_cancel(&item);
	KUNIT_EXPECT_NULL(test, READ_ONCE(item.poller));
}

static void pt_count_call(void *arg)
{
	(*(unsigned int *)arg)++;
}

struct pt_kill {
	struct timer_list timer;
	struct kbatch_poller *poller;
	struct completion done;
};

static void pt_kill_timer(struct timer_list *timer)
{
	struct pt_kill *k = from_timer(k, timer, timer);

	kbatch_poller_kill(k->poller);
	complete(&k->done);
}

/* Kill @poller from softirq: a timer's callback. */
static void pt_kill_in_softirq(struct kunit *test, struct kbatch_poller *poller)
{
	struct pt_kill k = { .poller = poller };
	unsigned long left;

	init_completion(&k.done);
	timer_setup_on_stack(&k.timer, pt_kill_timer, 0);
	mod_timer(&k.timer, jiffies + 1);
	left = wait_for_completion_timeout(&k.done, 10 * HZ);
	del_timer_sync(&k.timer);
	destroy_timer_on_stack(&k.timer);
	KUNIT_ASSERT_NE(test, left, 0ul);
}

/*
 * kbatch_poller_kill(), from softirq, stops wakes, adds and polls at once
 * and does nothing more the second time; a free a grace period later
 * sleeps for none of its own, a free right after a kill does.
 */
static void poller_kill_then_free(struct kunit *test)
{
	struct kbatch_poller *poller = pt_manual(test, 4, 0);
	struct pt_item *it = pt_items(test, poller, 1, pt_poll_count);
	unsigned int dyings = 0, gp_waits = 0;
	struct kbatch_pollable extra = {};
	struct kbatch_poller_stats s;

	kbatch_poller_set_dying_hook(poller, pt_count_call, &dyings);
	kbatch_poller_set_gp_hook(poller, pt_count_call, &gp_waits);
	kbatch_wake(&it->pi);
	pt_kill_in_softirq(test, poller);
	KUNIT_EXPECT_EQ(test, dyings, 1u);
	KUNIT_EXPECT_EQ(test, kbatch_poller_add(poller, &extra, pt_poll_count),
			-ESHUTDOWN);
	kbatch_poller_run_slice(poller);
	KUNIT_EXPECT_EQ(test, it->polls, 0u);
	kbatch_wake(&it->pi);
	kbatch_poller_get_stats(poller, &s);
	KUNIT_EXPECT_EQ(test, s.kicks, 1ull);
	kbatch_poller_kill(poller);
	KUNIT_EXPECT_EQ(test, dyings, 1u);
	synchronize_rcu();
	KUNIT_EXPECT_TRUE(test, kbatch_poller_free(poller));
	KUNIT_EXPECT_EQ(test, gp_waits, 0u);

	/* The contrast: no grace period has passed since the kill. */
	poller = pt_manual(test, 4, 0);
	kbatch_poller_set_gp_hook(poller, pt_count_call, &gp_waits);
	kbatch_poller_kill(poller);
	KUNIT_EXPECT_TRUE(test, kbatch_poller_free(poller));
	KUNIT_EXPECT_EQ(test, gp_waits, 1u);
}

struct pt_reader {
	struct completion in;
	unsigned int ms;
};

/* An RCU reader that stays in its read-side section for @ms. */
static int pt_rcu_reader(void *arg)
{
	struct pt_reader *r = arg;

	rcu_read_lock();
	complete(&r->in);
	mdelay(r->ms);
	rcu_read_unlock();
	return 0;
}

/*
 * An unnamed poller (one per open file) shares its lockdep class: its
 * free, a grace period after its kill, waits for no grace period at all,
 * not even on a lockdep kernel, where a class of its own would cost one
 * in lockdep_unregister_key().  An RCU reader holds a grace period up for
 * a second meanwhile; the free must not wait for it.
 */
static void poller_unnamed_free_waits_for_no_reader(struct kunit *test)
{
	struct kbatch_poller *poller;
	struct pt_reader r = { .ms = 1000 };
	struct kbt_thread *reader;
	s64 ms;
	ktime_t t0;

	poller = kbatch_poller_alloc_flags(NULL, 4, 0, KBATCH_POLLER_MANUAL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(poller));
	kbatch_poller_kill(poller);
	synchronize_rcu();
	init_completion(&r.in);
	reader = kbt_start(pt_rcu_reader, &r, KBT_ANY_CPU);
	KUNIT_ASSERT_NOT_NULL(test, reader);
	wait_for_completion(&r.in);
	t0 = ktime_get();
	KUNIT_EXPECT_TRUE(test, kbatch_poller_free(poller));
	ms = ktime_ms_delta(ktime_get(), t0);
	KUNIT_EXPECT_EQ(test, kbt_join(reader), 0);
	KUNIT_EXPECT_LT_MSG(test, ms, 500, "the free waited for the reader");
}

/* Capacity is fixed at creation and bounds the items registered at once. */
static void poller_capacity(struct kunit *test)
{
	struct kbatch_poller *poller = pt_manual(test, 2, 0);
	struct pt_item *it = pt_items(test, poller, 2, pt_poll_count);
	struct kbatch_pollable extra = {};

	KUNIT_EXPECT_EQ(test, kbatch_poller_add(poller, &extra, pt_poll_count),
			-ENOSPC);
	KUNIT_EXPECT_NE(test, it[0].pi.index, it[1].pi.index);
	kbatch_poller_free(poller);
	poller = kbatch_poller_alloc("kunit", 0, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(poller), -EINVAL);
	poller = kbatch_poller_alloc("kunit", KBATCH_POLLER_MAX_CAPACITY + 1, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(poller), -EINVAL);
}

static enum kbatch_poll_ret pt_poll_cancel_self(struct kbatch_pollable *pi)
{
	struct pt_item *it = pt_item(pi);

	it->polls++;
	kbatch_poller_cancel(pi);
	complete(&it->done);
	return KBATCH_POLL_PENDING;
}

/* An item may cancel itself from its own poll, on the real worker. */
static void poller_cancel_from_own_poll(struct kunit *test)
{
	struct kbatch_poller *poller;
	struct pt_item *it = pt_worker_item(test, &poller, "kunit-self",
					    pt_poll_cancel_self);
	struct kbatch_poller_stats s;

	kbatch_wake(&it->pi);
	msleep(20);
	kbatch_poller_get_stats(poller, &s);
	KUNIT_EXPECT_EQ(test, s.items, 0u);
	kbatch_poller_free(poller);
	KUNIT_EXPECT_EQ(test, it->polls, 1u);
}

static enum kbatch_poll_ret pt_poll_slow(struct kbatch_pollable *pi)
{
	struct pt_item *it = pt_item(pi);

	complete(&it->done);
	msleep(50);
	WRITE_ONCE(it->polls, it->polls + 1);
	return KBATCH_POLL_PENDING;
}

/* Cancel during the item's poll returns only once that poll has ended. */
static void poller_cancel_waits_for_poll(struct kunit *test)
{
	struct kbatch_poller *poller;
	struct pt_item *it = pt_worker_item(test, &poller, "kunit-slow",
					    pt_poll_slow);

	kbatch_poller_cancel(&it->pi);
	KUNIT_EXPECT_EQ(test, READ_ONCE(it->polls), 1u);
	kbatch_wake(&it->pi);
	msleep(20);
	KUNIT_EXPECT_EQ(test, READ_ONCE(it->polls), 1u);
	kbatch_poller_free(poller);
}

struct pt_stuck {
	struct kbatch_pollable pi;
	struct completion entered;
	struct completion release;
	struct completion cancelled;
	bool returned;
};

static enum kbatch_poll_ret pt_poll_stuck(struct kbatch_pollable *pi)
{
	struct pt_stuck *st = container_of(pi, struct pt_stuck, pi);

	complete(&st->entered);
	wait_for_completion(&st->release);
	WRITE_ONCE(st->returned, true);
	return KBATCH_POLL_PENDING;
}

static int pt_cancel_thread(void *data)
{
	struct pt_stuck *st = data;

	kbatch_poller_cancel(&st->pi);
	complete(&st->cancelled);
	/* Cancel returned: the poll must be over. */
	return READ_ONCE(st->returned) ? 0 : -EBUSY;
}

/*
 * A real-worker poller with a 50 ms timeout whose one item's poll is
 * running, stuck until @st->release.
 */
static struct kbatch_poller *pt_stuck_poll(struct kunit *test,
					   struct pt_stuck *st)
{
	struct kbatch_poller *poller;

	init_completion(&st->entered);
	init_completion(&st->release);
	init_completion(&st->cancelled);
	poller = kbatch_poller_alloc("kunit-stuck", 4, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(poller));
	kbatch_poller_set_timeout(poller, msecs_to_jiffies(50));
	KUNIT_ASSERT_EQ(test, kbatch_poller_add(poller, &st->pi, pt_poll_stuck), 0);
	kbatch_wake(&st->pi);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&st->entered, 10 * HZ), 0ul);
	return poller;
}

/*
 * A poll that outlasts the poller's timeout many times over: cancel keeps
 * waiting (a timeout may leak, never free what is in use) and returns
 * only once the poll has returned.
 */
static void poller_cancel_outlasts_timeout(struct kunit *test)
{
	struct pt_stuck *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	struct kbatch_poller *poller;
	struct kbt_thread *t;

	KUNIT_ASSERT_NOT_NULL(test, st);
	poller = pt_stuck_poll(test, st);
	t = kbt_start(pt_cancel_thread, st, KBT_ANY_CPU);
	KUNIT_ASSERT_NOT_NULL(test, t);
	/* Ten timeouts later, cancel is still waiting. */
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&st->cancelled,
							  msecs_to_jiffies(500)), 0ul);
	complete(&st->release);
	KUNIT_EXPECT_EQ(test, kbt_join(t), 0);
	KUNIT_EXPECT_TRUE(test, completion_done(&st->cancelled));
	kbatch_poller_free(poller);
}

/*
 * A poll that outlasts the poller's timeout: free returns false and frees
 * nothing (a timeout may leak, never free what is in use), kbatch stays
 * loaded for the worker, and a free once the poll is over frees it.
 */
static void poller_free_outlasted_by_poll(struct kunit *test)
{
	struct pt_stuck *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	struct module *mod = kbatch_module();
	struct kbatch_poller *poller;
	int refs;

	KUNIT_ASSERT_NOT_NULL(test, st);
	KUNIT_ASSERT_NOT_NULL(test, mod);
	poller = pt_stuck_poll(test, st);
	refs = module_refcount(mod);
	KUNIT_EXPECT_FALSE(test, kbatch_poller_free(poller));
	KUNIT_EXPECT_EQ(test, module_refcount(mod), refs + 1);
	/* Still polling: refused again, and the module is pinned once. */
	KUNIT_EXPECT_FALSE(test, kbatch_poller_free(poller));
	KUNIT_EXPECT_EQ(test, module_refcount(mod), refs + 1);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(st->returned));

	complete(&st->release);
	kbatch_poller_set_timeout(poller, 10 * HZ);
	KUNIT_EXPECT_TRUE(test, kbatch_poller_free(poller));
	KUNIT_EXPECT_TRUE(test, READ_ONCE(st->returned));
	KUNIT_EXPECT_EQ(test, module_refcount(mod), refs);
}

static enum kbatch_poll_ret pt_poll_count_only(struct kbatch_pollable *pi)
{
	pt_item(pi)->polls++;
	return KBATCH_POLL_PENDING;
}

static u64 pt_kicks(struct kbatch_poller *poller)
{
	struct kbatch_poller_stats s;

	kbatch_poller_get_stats(poller, &s);
	return s.kicks;
}

/*
 * An item cancelled from poller A (capacity 1) and re-added to poller B,
 * where it gets index 1, while a kbatch_wake() runs: the wake may read
 * the old poller and the new index.  Play that torn read: the wake must
 * not index A past its capacity (KASAN would report the read) nor mark
 * anything; a real wake afterwards reaches the item in B.
 */
static void poller_wake_races_readd(struct kunit *test)
{
	struct kbatch_poller *a = pt_manual(test, 1, 0);
	struct kbatch_poller *b = pt_manual(test, 2, 0);
	struct pt_item *filler, *it;

	filler = pt_items(test, b, 1, pt_poll_count_only);
	it = pt_items(test, a, 1, pt_poll_count_only);
	kbatch_poller_cancel(&it->pi);
	KUNIT_ASSERT_EQ(test, kbatch_poller_add(b, &it->pi, pt_poll_count_only), 0);
	KUNIT_ASSERT_EQ(test, it->pi.index, 1u);

	/* The torn pair: A with B's index. */
	WRITE_ONCE(it->pi.poller, a);
	kbatch_wake(&it->pi);
	WRITE_ONCE(it->pi.poller, b);
	KUNIT_EXPECT_EQ(test, pt_kicks(a), 0ull);
	KUNIT_EXPECT_EQ(test, pt_kicks(b), 0ull);
	pt_cycle(test, a);
	pt_cycle(test, b);
	KUNIT_EXPECT_EQ(test, it->polls, 0u);

	kbatch_wake(&it->pi);
	pt_cycle(test, b);
	KUNIT_EXPECT_EQ(test, it->polls, 1u);
	KUNIT_EXPECT_EQ(test, filler->polls, 0u);
	kbatch_poller_free(a);
	kbatch_poller_free(b);
}

/* The poller's statistics are in debugfs, and go with it. */
static void poller_debugfs(struct kunit *test)
{
	struct kbatch_poller *poller;
	struct dentry *root, *dir;

	poller = kbatch_poller_alloc_flags("kunit-dbg", 4, 0, KBATCH_POLLER_MANUAL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(poller));
	root = debugfs_lookup("kbatch", NULL);
	KUNIT_ASSERT_NOT_NULL(test, root);
	dir = debugfs_lookup("poller-kunit-dbg", root);
	KUNIT_EXPECT_NOT_NULL(test, dir);
	dput(dir);
	kbatch_poller_free(poller);
	dir = debugfs_lookup("poller-kunit-dbg", root);
	KUNIT_EXPECT_NULL(test, dir);
	dput(dir);
	dput(root);
}

/* Races with wakes from hardirq: hrtimers wake items every 50 us. */
#define PT_TIMERS	16
#define PT_PERIOD_NS	50000

struct pt_race {
	atomic_t polls;
	atomic_t after_cancel;
	bool stop;
};

struct pt_titem {
	struct kbatch_pollable pi;
	struct hrtimer timer;
	struct pt_race *race;
	bool cancelled;
};

static enum hrtimer_restart pt_timer_fn(struct hrtimer *timer)
{
	struct pt_titem *it = container_of(timer, struct pt_titem, timer);

	if (READ_ONCE(it->race->stop))
		return HRTIMER_NORESTART;
	kbatch_wake(&it->pi);
	hrtimer_forward_now(timer, ns_to_ktime(PT_PERIOD_NS));
	return HRTIMER_RESTART;
}

static enum kbatch_poll_ret pt_poll_race(struct kbatch_pollable *pi)
{
	struct pt_titem *it = container_of(pi, struct pt_titem, pi);

	/* Started, or still running, after cancel returned? */
	if (READ_ONCE(it->cancelled))
		atomic_inc(&it->race->after_cancel);
	atomic_inc(&it->race->polls);
	udelay(5);
	if (READ_ONCE(it->cancelled))
		atomic_inc(&it->race->after_cancel);
	return KBATCH_POLL_PENDING;
}

static struct pt_titem *pt_race_start(struct kunit *test,
				      struct kbatch_poller *poller,
				      struct pt_race *race)
{
	struct pt_titem *it = kunit_kcalloc(test, PT_TIMERS, sizeof(*it), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, it);
	for (i = 0; i < PT_TIMERS; i++) {
		it[i].race = race;
		KUNIT_ASSERT_EQ(test, kbatch_poller_add(poller, &it[i].pi,
							pt_poll_race), 0);
		hrtimer_init(&it[i].timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
		it[i].timer.function = pt_timer_fn;
		hrtimer_start(&it[i].timer, ns_to_ktime(PT_PERIOD_NS * (i + 1)),
			      HRTIMER_MODE_REL_HARD);
	}
	return it;
}

/*
 * Let the race run for @ms, and at least until a poll ran: on a loaded
 * host a vCPU may not run the poller for longer than @ms, and a race with
 * no poll in it proves nothing.  Gives up after 10 s (the caller's
 * expectation of polls > 0 then fails).
 */
static void pt_race_run(struct pt_race *race, unsigned int ms)
{
	unsigned long end = jiffies + 10 * HZ;

	msleep(ms);
	while (!atomic_read(&race->polls) && time_before(jiffies, end))
		usleep_range(1000, 2000);
}

static void pt_race_stop(struct pt_titem *it, struct pt_race *race)
{
	unsigned int i;

	WRITE_ONCE(race->stop, true);
	for (i = 0; i < PT_TIMERS; i++)
		hrtimer_cancel(&it[i].timer);
}

/* No poll after cancel returns, while hrtimers keep waking the item. */
static void poller_hardirq_wake_vs_cancel(struct kunit *test)
{
	struct kbatch_poller *poller = kbatch_poller_alloc("kunit-cancel", 64, 4);
	struct pt_race *race = kunit_kzalloc(test, sizeof(*race), GFP_KERNEL);
	struct pt_titem *it;
	unsigned int i;
	int polls;

	KUNIT_ASSERT_FALSE(test, IS_ERR(poller));
	KUNIT_ASSERT_NOT_NULL(test, race);
	it = pt_race_start(test, poller, race);
	pt_race_run(race, 30);
	for (i = 0; i < PT_TIMERS; i++) {
		kbatch_poller_cancel(&it[i].pi);
		WRITE_ONCE(it[i].cancelled, true);
		usleep_range(100, 200);
	}
	polls = atomic_read(&race->polls);
	msleep(20);
	KUNIT_EXPECT_EQ(test, atomic_read(&race->polls), polls);
	KUNIT_EXPECT_EQ(test, atomic_read(&race->after_cancel), 0);
	KUNIT_EXPECT_GT(test, polls, 0);
	pt_race_stop(it, race);
	kbatch_poller_free(poller);
}

/* Runs inside kbatch_poller_free(), once wakes have become no-ops. */
static void pt_race_dying(void *arg)
{
	struct pt_race *race = arg;

	WRITE_ONCE(race->stop, true);
}

/*
 * Free while hrtimers wake items and polls run.  The timers wake until the
 * poller is marked dying; the wakes still in flight then race with the
 * grace period, and no poll runs after free returns.
 */
static void poller_hardirq_wake_vs_free(struct kunit *test)
{
	unsigned int round;

	for (round = 0; round < 3; round++) {
		struct kbatch_poller *poller = kbatch_poller_alloc("kunit-free", 64, 4);
		struct pt_race *race = kunit_kzalloc(test, sizeof(*race), GFP_KERNEL);
		struct pt_titem *it;
		int polls;

		KUNIT_ASSERT_FALSE(test, IS_ERR(poller));
		KUNIT_ASSERT_NOT_NULL(test, race);
		it = pt_race_start(test, poller, race);
		kbatch_poller_set_dying_hook(poller, pt_race_dying, race);
		pt_race_run(race, 10 + 5 * round);
		kbatch_poller_free(poller);
		polls = atomic_read(&race->polls);
		KUNIT_EXPECT_TRUE(test, READ_ONCE(race->stop));
		pt_race_stop(it, race);
		msleep(20);
		KUNIT_EXPECT_EQ(test, atomic_read(&race->polls), polls);
		KUNIT_EXPECT_GT(test, polls, 0);
	}
}

static enum kbatch_poll_ret pt_poll_nop(struct kbatch_pollable *pi)
{
	return KBATCH_POLL_PENDING;
}

#define PT_SCALE_ROUNDS	7
#define PT_SCALE_CYCLES	50
#define PT_SCALE_WOKEN	10

struct pt_scale {
	struct kbatch_poller *poller;
	struct kbatch_pollable *items;
	unsigned int capacity;
	u64 best;
};

static void pt_scale_setup(struct kunit *test, struct pt_scale *sc,
			   unsigned int capacity)
{
	unsigned int i;

	sc->capacity = capacity;
	sc->best = U64_MAX;
	sc->items = vzalloc(array_size(capacity, sizeof(*sc->items)));
	KUNIT_ASSERT_NOT_NULL(test, sc->items);
	sc->poller = pt_manual(test, capacity, 0);
	for (i = 0; i < capacity; i++)
		KUNIT_ASSERT_EQ(test, kbatch_poller_add(sc->poller, &sc->items[i],
							pt_poll_nop), 0);
}

/* One round: PT_SCALE_CYCLES cycles with PT_SCALE_WOKEN woken items. */
static void pt_scale_round(struct kunit *test, struct pt_scale *sc,
			   unsigned int r)
{
	unsigned int i, c, stride = sc->capacity / PT_SCALE_WOKEN;
	u64 t = ktime_get_ns();

	for (c = 0; c < PT_SCALE_CYCLES; c++) {
		for (i = 0; i < PT_SCALE_WOKEN; i++)
			kbatch_wake(&sc->items[i * stride + (c * 7 + r) % stride]);
		pt_cycle(test, sc->poller);
	}
	sc->best = min(sc->best, (ktime_get_ns() - t) / PT_SCALE_CYCLES);
}

static void pt_scale_teardown(struct kunit *test, struct pt_scale *sc)
{
	struct kbatch_poller_stats s;

	kbatch_poller_get_stats(sc->poller, &s);
	KUNIT_EXPECT_EQ(test, s.polls,
			(u64)PT_SCALE_ROUNDS * PT_SCALE_CYCLES * PT_SCALE_WOKEN);
	kbatch_poller_free(sc->poller);
	vfree(sc->items);
}

/*
 * A cycle's cost does not grow with the number of items.  Rounds of the two
 * sizes alternate, and the best round of each counts.  The bound is 3x:
 * on the debug kernel in the VM a cycle of 10 polls costs about 100-150 us
 * and one linear scan of 1,000,000 bits about 300-370 us (wakeset_scale
 * reports it), so a poller that scanned its capacity would measure 3.5x or
 * more (12x with one atomic read per word); this one measures 1.0-1.4x.
 */
static void poller_scale(struct kunit *test)
{
	struct pt_scale small, large;
	unsigned int r;
	u64 ratio;

	pt_scale_setup(test, &small, 1000);
	pt_scale_setup(test, &large, 1000000);
	for (r = 0; r < PT_SCALE_ROUNDS; r++) {
		pt_scale_round(test, &small, r);
		pt_scale_round(test, &large, r);
	}
	ratio = div64_u64(large.best * 100, max(small.best, 1ull));
	kunit_info(test, "cycle with %u woken: %llu ns at 1000 items, %llu ns at 1000000 items, ratio %llu.%02llu\n",
		   PT_SCALE_WOKEN, small.best, large.best, ratio / 100, ratio % 100);
	KUNIT_EXPECT_LT(test, ratio, 300ull);
	pt_scale_teardown(test, &small);
	pt_scale_teardown(test, &large);
}

static struct kunit_case poller_cases[] = {
	KUNIT_CASE(poller_kicks_on_empty_edge),
	KUNIT_CASE(poller_spinning_item),
	KUNIT_CASE(poller_spinning_item_worker),
	KUNIT_CASE(poller_starvation),
	KUNIT_CASE(poller_interleaving),
	KUNIT_CASE(poller_budget),
	KUNIT_CASE(poller_stale_wake_after_recycle),
	KUNIT_CASE(poller_cancelled_item_outlives_poller),
	KUNIT_CASE(poller_kill_then_free),
	KUNIT_CASE(poller_unnamed_free_waits_for_no_reader),
	KUNIT_CASE(poller_capacity),
	KUNIT_CASE(poller_cancel_from_own_poll),
	KUNIT_CASE(poller_cancel_waits_for_poll),
	KUNIT_CASE(poller_cancel_outlasts_timeout),
	KUNIT_CASE(poller_free_outlasted_by_poll),
	KUNIT_CASE(poller_wake_races_readd),
	KUNIT_CASE(poller_debugfs),
	KUNIT_CASE(poller_hardirq_wake_vs_cancel),
	KUNIT_CASE(poller_hardirq_wake_vs_free),
	KUNIT_CASE(poller_scale),
	{}
};

static struct kunit_suite poller_suite = {
	.name = "kbatch_poller",
	.test_cases = poller_cases,
};

kunit_test_suite(poller_suite);
