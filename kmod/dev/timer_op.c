// SPDX-License-Identifier: GPL-2.0
/*
 * KBATCH_OP_TIMER: completes args[0] nanoseconds after it ran, driven by
 * a fair poller of its open file.  Asynchronous submits only.
 *
 * An open file's first TIMER gives it a struct kbatch_timers: a poller of
 * its own and a list of its timers in flight, bounded by
 * KBATCH_FILE_TIMERS, so one file's timers neither use up a limit that
 * other files share nor wait behind their polls.  The handler takes each
 * entry's completion over (kbatch_op_defer()) and registers a timer item
 * with the file's poller; once the submit has posted its other
 * completions, kbatch_timers_start() starts an hrtimer for each (submit.c
 * says why); the hrtimer's callback marks
 * the item fired and wakes it; the poller's next cycle polls it, and the
 * poll posts the completion to the file and frees the timer.  So the
 * expiry of many timers costs a bit set each in the hrtimer's callback
 * (hardirq; a softirq thread on PREEMPT_RT, which HRTIMER_MODE_REL
 * gives there), and
 * their completions are posted in fair cycles.
 *
 * Ownership: a timer is on its file's list from its start until its
 * poll, io_uring's cancel of its command or the file's release takes it
 * off (under the list's lock); whoever takes it off frees it, but for
 * the cancel.  That one holds the ring's lock, which a poll may take, so
 * it must not wait for a poll: it leaves the timer on the list, buried
 * (timer_bury()), and wakes it, and the poll that takes it next stops its
 * hrtimer, frees it and completes nothing.  An io_uring command points to
 * its timer only until the timer is taken off the list or buried: the
 * taker clears the pointer under the same lock, so a cancel that comes
 * after the poll took the timer finds nothing, and never follows a
 * pointer to freed memory.  The poll then completes the command with
 * io_uring's ring lock (kbatch_uring_complete_unlocked()), which the
 * cancel holds, so a cancel that found nothing is followed at once by a
 * command no longer cancelable, never by one left to cancel again.
 * Release cancels every timer still on the list, then frees the poller,
 * which waits for a poll still running; so nothing of a file outlives its
 * release.
 */
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "dev.h"

/*
 * Slots of a file's poller: an index freed by a finished timer is reused
 * only after a grace period, so twice the limit keeps the poller from
 * running out of indices before the file reaches its limit.
 */
#define TIMER_POLLER_SLOTS	(2 * KBATCH_FILE_TIMERS)

/**
 * struct kbatch_timers - one open file's timers
 * @poller: polls the file's fired timers
 * @cq: the file's completion queue
 * @lock: guards @list and @count
 * @list: the timers in flight
 * @count: how many, at most KBATCH_FILE_TIMERS
 */
struct kbatch_timers {
	struct kbatch_poller *poller;
	struct kbatch_cq *cq;
	spinlock_t lock;		/* list, count */
	struct list_head list;
	unsigned int count;
};

/**
 * struct kbatch_timer - one TIMER entry in flight
 * @item: its item in the file's poller
 * @timer: the hrtimer
 * @node: on its file's list while in flight
 * @owner: its file's timers
 * @start: on its submit's list until kbatch_timers_start() starts it
 * @cqe: its completion, taken over from the submit
 * @ucmd: the io_uring command it completes, or NULL (the file's queue)
 * @ns: its delay
 * @fired: set by the hrtimer's callback, or when @t is buried
 * @buried: its command was cancelled: its poll frees it and completes
 *	nothing (set under the list's lock)
 */
struct kbatch_timer {
	struct kbatch_pollable item;
	struct hrtimer timer;
	struct list_head node;
	struct list_head start;
	struct kbatch_timers *owner;
	struct kbatch_cqe cqe;
	struct io_uring_cmd *ucmd;
	u64 ns;
	bool fired;
	bool buried;
};

/*
 * Take @t, on its file's list, off it; the caller holds the list's lock
 * and now owns @t.  Its command, if any, forgets it (see the top).
 */
static void timer_unlist(struct kbatch_timer *t)
{
	list_del_init(&t->node);
	if (t->ucmd)
		kbatch_uring_set_timer(t->ucmd, NULL);
}

/* Take @t off its file's list; true if we did (we now own it). */
static bool timer_take(struct kbatch_timer *t)
{
	struct kbatch_timers *ts = t->owner;
	bool mine;

	spin_lock(&ts->lock);
	mine = !list_empty(&t->node);
	if (mine)
		timer_unlist(t);
	spin_unlock(&ts->lock);
	return mine;
}

/* Free a timer taken off its list, and count it out of its file. */
static void timer_free(struct kbatch_timer *t)
{
	struct kbatch_timers *ts = t->owner;

	kfree(t);
	spin_lock(&ts->lock);
	ts->count--;
	spin_unlock(&ts->lock);
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
	struct kbatch_timers *ts = t->owner;

	/* Acquire: pairs with the release in timer_fire() or timer_bury(). */
	if (!smp_load_acquire(&t->fired) || !timer_take(t))
		return KBATCH_POLL_PENDING;
	/* Stop the hrtimer (a buried one may be armed) before the free. */
	hrtimer_cancel(&t->timer);
	/* Our own item: leaves the poller now, without waiting. */
	kbatch_poller_cancel(&t->item);
	/* A buried timer's command completed when it was cancelled. */
	if (!t->buried) {
		if (t->ucmd)
			kbatch_uring_complete_unlocked(t->ucmd, 0);
		else
			kbatch_cq_post(ts->cq, &t->cqe, 1);
	}
	timer_free(t);
	return KBATCH_POLL_DONE;
}

/* The file's timers, created by its first TIMER; NULL without memory. */
static struct kbatch_timers *timers_get(struct kbatch_ctx *ctx)
{
	struct kbatch_timers *ts;

	/* Acquire: pairs with the cmpxchg below; @ts is seen whole. */
	ts = smp_load_acquire(&ctx->timers);
	if (ts)
		return ts;
	ts = kzalloc(sizeof(*ts), GFP_KERNEL_ACCOUNT);
	if (!ts)
		return NULL;
	ts->poller = kbatch_poller_alloc(NULL, TIMER_POLLER_SLOTS, 0);
	if (IS_ERR(ts->poller)) {
		kfree(ts);
		return NULL;
	}
	ts->cq = &ctx->cq;
	spin_lock_init(&ts->lock);
	INIT_LIST_HEAD(&ts->list);
	/* Full barrier on success: pairs with the acquire above. */
	if (!cmpxchg(&ctx->timers, NULL, ts))
		return ts;
	/* Another thread of the file won the race. */
	kbatch_poller_free(ts->poller);
	kfree(ts);
	return ctx->timers;
}

/* Count one more timer in flight for the file; false at its limit. */
static bool timers_reserve(struct kbatch_timers *ts)
{
	bool ok;

	spin_lock(&ts->lock);
	ok = ts->count < KBATCH_FILE_TIMERS;
	if (ok)
		ts->count++;
	spin_unlock(&ts->lock);
	return ok;
}

static void timers_unreserve(struct kbatch_timers *ts)
{
	spin_lock(&ts->lock);
	ts->count--;
	spin_unlock(&ts->lock);
}

/* Grace periods one run of TIMER entries may wait for its poller's slots. */
#define TIMER_ADD_WAITS	4

/*
 * Register @t with its file's poller.  The file is below its limit, so
 * the poller has room, unless the indices of timers that ended recently
 * (cancelled by io_uring, say) still wait for their grace period: the
 * failed add kicked a cycle to recycle them; wait a grace period and try
 * again, while @waits, the run's budget of such waits, lasts.  A budget
 * per run, not per entry: after a ring's teardown cancelled a file's
 * whole set of timers, each of the next run's entries would otherwise
 * wait its own grace periods, over 30 s for 1024 entries on a loaded
 * PREEMPT_RT machine.
 */
static int timer_add(struct kbatch_timers *ts, struct kbatch_timer *t,
		     unsigned int *waits)
{
	int ret;

	while ((ret = kbatch_poller_add(ts->poller, &t->item, timer_poll)) ==
	       -ENOSPC && *waits) {
		--*waits;
		synchronize_rcu();
	}
	return ret;
}

/*
 * Set up a timer for entry @i of @b and put it on the submit's list, for
 * kbatch_timers_start(); a negative errno, nothing set up.
 */
static int timer_prepare(struct kbatch_op_batch *b, unsigned int i,
			 struct kbatch_timers *ts, unsigned int *waits)
{
	u64 ns = b->sqes[i].args[0];
	struct kbatch_timer *t;
	int ret;

	if (ns > KBATCH_TIMER_MAX_NS)
		return -EINVAL;
	if (!timers_reserve(ts))
		return -EBUSY;
	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	ret = t ? timer_add(ts, t, waits) : -ENOMEM;
	if (ret) {
		kfree(t);
		timers_unreserve(ts);
		return ret == -ENOSPC ? -EBUSY : ret;
	}
	t->owner = ts;
	t->ns = ns;
	kbatch_op_defer(b, i, &t->cqe);
	if (b->uring) {
		t->ucmd = (struct io_uring_cmd *)(uintptr_t)t->cqe.user_data;
		kbatch_uring_set_timer(t->ucmd, t);
		/* Before it can complete: io_uring may cancel it from now on. */
		kbatch_uring_mark_cancelable(t->ucmd, b->issue_flags);
	}
	hrtimer_init(&t->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	t->timer.function = timer_fire;
	spin_lock(&ts->lock);
	list_add_tail(&t->node, &ts->list);
	spin_unlock(&ts->lock);
	list_add_tail(&t->start, b->timers);
	return 0;
}

/**
 * kbatch_timer_run() - TIMER's handler: set up a timer for each entry
 * @b: the run, of an asynchronous submit
 *
 * The timers start in kbatch_timers_start(), once the submit has posted
 * every other completion: so none of them can complete before those.
 *
 * Context: process context, may sleep (the file's first TIMER allocates).
 */
void kbatch_timer_run(struct kbatch_op_batch *b)
{
	struct kbatch_timers *ts = timers_get(b->ctx);
	unsigned int i, waits = TIMER_ADD_WAITS;
	int ret;

	for (i = 0; i < b->len; i++) {
		ret = ts ? timer_prepare(b, i, ts, &waits) : -ENOMEM;
		if (ret)
			b->cqes[i].result = ret;
	}
}

/**
 * kbatch_timers_start() - start the timers kbatch_timer_run() set up
 * @timers: the submit's list of them; each leaves it before it starts
 *
 * Until now nothing could take these timers: none has fired, io_uring
 * cancels a command only outside the task work that runs it, and the
 * file is open.  A started one may fire, be polled and freed at once, so
 * the next one is found first.
 *
 * Context: the submit, process context or io_uring task work.
 */
void kbatch_timers_start(struct list_head *timers)
{
	struct kbatch_timer *t, *next;

	list_for_each_entry_safe(t, next, timers, start) {
		list_del(&t->start);
		hrtimer_start(&t->timer, ns_to_ktime(t->ns), HRTIMER_MODE_REL);
	}
}

/* Stop a timer taken off its list; a poll of it that runs cannot own it. */
static void timer_cancel(struct kbatch_timer *t)
{
	hrtimer_cancel(&t->timer);
	/* Waits for a poll of @t that is running. */
	kbatch_poller_cancel(&t->item);
}

/*
 * Leave @t, on its list, to its poll (or the file's release, if that
 * comes first), which frees it without completing its command: the
 * command forgets it and completes now.  The caller holds the list's
 * lock, which the poll needs to take @t: so we are done with @t before
 * it can be freed.
 */
static void timer_bury(struct kbatch_timer *t)
{
	kbatch_uring_set_timer(t->ucmd, NULL);
	t->ucmd = NULL;
	t->buried = true;
	/* Release: pairs with the acquire in timer_poll(), as timer_fire(). */
	smp_store_release(&t->fired, true);
	kbatch_wake(&t->item);
}

/**
 * kbatch_timer_uring_cancel() - io_uring cancels a TIMER command
 * @cmd: the command, whose timer is in flight
 * @issue_flags: io_uring's, with IO_URING_F_CANCEL
 *
 * If the timer's poll has not taken it, the command completes with
 * -ECANCELED and the timer is buried, for its next poll to free;
 * otherwise the poll completes it, taking the ring's lock we hold to make
 * it not cancelable any more (the top of this file).  As a poll may take
 * that lock, this waits for no poll (kbatch_poller_cancel() would, and
 * lockdep would report it as a lock order against the poll).
 *
 * Context: io_uring's cancellation, process context, under the ring's lock.
 */
void kbatch_timer_uring_cancel(struct io_uring_cmd *cmd,
			       unsigned int issue_flags)
{
	struct kbatch_ctx *ctx = cmd->file->private_data;
	/* Set before this command could be cancelled; the command holds the file. */
	struct kbatch_timers *ts = READ_ONCE(ctx->timers);
	struct kbatch_timer *t;
	bool buried;

	/* Not through the timer: once its poll took it, it may be freed. */
	spin_lock(&ts->lock);
	t = kbatch_uring_timer(cmd);
	buried = t;
	if (buried)
		timer_bury(t);
	spin_unlock(&ts->lock);
	if (buried)
		io_uring_cmd_done(cmd, -ECANCELED, -ECANCELED, issue_flags);
}

/**
 * kbatch_timers_stop() - cancel every timer of a closing file, kill its poller
 * @ctx: the file, released: no submit runs on it any more
 *
 * Their completions go nowhere.  Waits only for polls of this file's
 * timers that are running.  The poller is killed (kbatch_poller_kill()),
 * so kbatch_timers_release() a grace period later sleeps for none.
 *
 * Context: process context, may sleep.
 */
void kbatch_timers_stop(struct kbatch_ctx *ctx)
{
	struct kbatch_timers *ts = ctx->timers;
	struct kbatch_timer *t;

	if (!ts)
		return;
	for (;;) {
		spin_lock(&ts->lock);
		t = list_first_entry_or_null(&ts->list, struct kbatch_timer,
					     node);
		if (t)
			timer_unlist(t);
		spin_unlock(&ts->lock);
		if (!t)
			break;
		timer_cancel(t);
		timer_free(t);
	}
	kbatch_poller_kill(ts->poller);
}

/**
 * kbatch_timers_release() - free the timers of a file after kbatch_timers_stop()
 * @ctx: the file
 *
 * Returns once no poll of the file's timers runs and everything is freed;
 * or, if a poll was still running when the poller's free timed out, false,
 * with the timers' memory left to that poll: the caller must then leave
 * the file's completion queue (which the poll posts to) and everything it
 * reaches allocated too.
 *
 * Context: process context, may sleep.
 *
 * Return: true if the timers are freed (or the file had none).
 */
bool kbatch_timers_release(struct kbatch_ctx *ctx)
{
	struct kbatch_timers *ts = ctx->timers;

	if (!ts)
		return true;
	/* Waits for polls still running, which own their timers. */
	if (!kbatch_poller_free(ts->poller))
		return false;
	kfree(ts);
	ctx->timers = NULL;
	return true;
}
