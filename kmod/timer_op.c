// SPDX-License-Identifier: GPL-2.0
/*
 * KBATCH_OP_TIMER: completes args[0] nanoseconds after it ran, driven by
 * the fair poller.  Asynchronous submits only.
 *
 * The handler takes each entry's completion over (kbatch_op_defer()),
 * registers a timer item with the module's poller and starts an hrtimer;
 * the hrtimer's callback (hardirq) marks the item fired and wakes it; the
 * poller's next cycle polls it, and the poll posts the completion to the
 * file and frees the item.  So the expiry of many timers costs a bit set
 * each in hardirq, and their completions are posted in fair cycles.
 *
 * Ownership: a timer is on timer_list from its start until either its poll
 * or timer_op_exit() takes it off (under timer_lock); whoever takes it off
 * completes and frees it.  Each timer holds a reference on its file.
 */
#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "kbatch_internal.h"

/* Most timers in flight, module-wide; more complete with -EBUSY. */
#define KBATCH_TIMERS_MAX	65536

struct kbatch_timer {
	struct kbatch_pollable item;
	struct hrtimer timer;
	struct list_head node;
	struct kbatch_file *file;
	struct kbatch_cqe cqe;
	bool fired;
};

static struct kbatch_poller *timer_poller;
static LIST_HEAD(timer_list);
static DEFINE_SPINLOCK(timer_lock);	/* timer_list */

/* Take @t off timer_list; true if we did (we now own it). */
static bool timer_take(struct kbatch_timer *t)
{
	bool mine;

	spin_lock_irq(&timer_lock);
	mine = !list_empty(&t->node);
	list_del_init(&t->node);
	spin_unlock_irq(&timer_lock);
	return mine;
}

/* Post @t's completion (nowhere, if its file was released) and free it. */
static void timer_finish(struct kbatch_timer *t, s64 result)
{
	t->cqe.result = result;
	kbatch_file_post(t->file, &t->cqe, 1);
	kbatch_file_put(t->file);
	kfree(t);
}

static enum hrtimer_restart timer_fire(struct hrtimer *timer)
{
	struct kbatch_timer *t = container_of(timer, struct kbatch_timer, timer);

	/* Release: pairs with the acquire in timer_poll(). */
	smp_store_release(&t->fired, true);
	kbatch_wake(&t->item);
	return HRTIMER_NORESTART;
}

static enum kbatch_poll_ret timer_poll(struct kbatch_pollable *item)
{
	struct kbatch_timer *t = container_of(item, struct kbatch_timer, item);

	/* Acquire: pairs with the release in timer_fire(). */
	if (!smp_load_acquire(&t->fired) || !timer_take(t))
		return KBATCH_POLL_PENDING;
	/* Let the hrtimer callback return before its timer is freed. */
	hrtimer_cancel(&t->timer);
	/* Our own item: leaves the poller now, without waiting. */
	kbatch_poller_cancel(&t->item);
	timer_finish(t, 0);
	return KBATCH_POLL_DONE;
}

/* Start a timer for entry @i of @b; a negative errno (nothing started) on failure. */
static int timer_start(struct kbatch_op_batch *b, unsigned int i)
{
	struct kbatch_timer *t = kzalloc(sizeof(*t), GFP_KERNEL);
	int ret;

	if (!t)
		return -ENOMEM;
	ret = kbatch_poller_add(timer_poller, &t->item, timer_poll);
	if (ret) {
		kfree(t);
		return ret == -ENOSPC ? -EBUSY : ret;
	}
	t->file = kbatch_op_defer(b, i, &t->cqe);
	if (!t->file) {
		kbatch_poller_cancel(&t->item);
		kfree(t);
		return -EINVAL;
	}
	hrtimer_init(&t->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	t->timer.function = timer_fire;
	spin_lock_irq(&timer_lock);
	list_add_tail(&t->node, &timer_list);
	spin_unlock_irq(&timer_lock);
	hrtimer_start(&t->timer, ns_to_ktime(kbatch_op_arg(b, i, 0)),
		      HRTIMER_MODE_REL);
	return 0;
}

static void timer_run(struct kbatch_op_batch *b)
{
	unsigned int i;
	int ret;

	for (i = 0; i < kbatch_op_batch_len(b); i++) {
		ret = timer_start(b, i);
		if (ret)
			kbatch_op_set_result(b, i, ret);
	}
}

static struct kbatch_op timer_op = { .name = "timer", .run = timer_run };

/**
 * kbatch_timer_op_init() - create the timers' poller and register TIMER
 *
 * Context: process context, may sleep.
 *
 * Return: 0 or a negative errno.
 */
int kbatch_timer_op_init(void)
{
	int ret;

	timer_poller = kbatch_poller_alloc("timer", KBATCH_TIMERS_MAX, 0);
	if (IS_ERR(timer_poller))
		return PTR_ERR(timer_poller);
	ret = kbatch_register_op_at(&timer_op, KBATCH_OP_TIMER);
	if (ret < 0) {
		kbatch_poller_free(timer_poller);
		return ret;
	}
	return 0;
}

/**
 * kbatch_timer_op_exit() - cancel every timer in flight, then free the poller
 *
 * No submit may run any more (the submit queue is gone), so no timer is
 * started meanwhile.  Timers cancelled here complete with -ECANCELED (into
 * nothing: every file is closed by the time the module goes).
 *
 * Context: process context, may sleep.
 */
void kbatch_timer_op_exit(void)
{
	struct kbatch_timer *t;

	kbatch_unregister_op(&timer_op);
	for (;;) {
		spin_lock_irq(&timer_lock);
		t = list_first_entry_or_null(&timer_list, struct kbatch_timer,
					     node);
		if (t)
			list_del_init(&t->node);
		spin_unlock_irq(&timer_lock);
		if (!t)
			break;
		hrtimer_cancel(&t->timer);
		/* Waits for a poll of @t that is running: it will not free it. */
		kbatch_poller_cancel(&t->item);
		timer_finish(t, -ECANCELED);
	}
	kbatch_poller_free(timer_poller);
}
