// SPDX-License-Identifier: GPL-2.0
/*
 * Table 2: the deferred-work poller against a NAPI-style list poller and a
 * work item per wake, with 1,000, 100,000 and 1,000,000 registered items.
 *
 *   kbatch: kbatch_poller_alloc() with room for every item, the default
 *	budget; kbatch_wake() per wake.  Its worker runs in system_unbound_wq.
 *   list (NAPI / lib/irq_poll.c style): a wake test_and_set_bit()s the
 *	item's SCHED bit and, if it was clear, adds the item to the tail of
 *	one spinlocked list, kicking the worker (system_unbound_wq) when the
 *	list was empty.  The worker takes the head under the lock, clears its
 *	bit, polls it through the item's function pointer (as NAPI calls
 *	napi->poll and irq_poll iop->poll), with cond_resched() every 64
 *	polls (the budget).
 *   work: one work_struct per item, queued per wake (the PENDING bit
 *	merges wakes of a queued item) on an ordered workqueue: one worker at
 *	a time, like the two pollers; the work polls.
 *
 * The three pollers share one array of items, set up once per item count,
 * so that their runs can be interleaved: round r takes one sample of each
 * in turn (kb_interleave()); a cost figure spread over KB_SPREAD_PCT is
 * sampled again.
 *
 * Figures (each the median, min and max of kb_runs runs after kb_warmup):
 *   poll-cost: a gate item is woken and its poll holds the worker until
 *	every other item has been woken; nanoseconds from the gate's release
 *	to the last poll, divided by the items: the cost of a poll out of a
 *	backlog, wakes and the worker's wake-up excluded.  A sample repeats
 *	that until PB_COST_POLLS polls were timed (100 backlogs of 1,000
 *	items), so that no figure is a single half-millisecond window.
 *   latency: with every item registered and the poller idle, one item is
 *	woken and the time to its poll taken; mean of PB_LAT_WAKES wakes.
 *   fairness: item 0 wakes itself from every poll (the spinner) while the
 *	others are woken once each; the spinner's polls until every quiet
 *	item has been polled.  Its polls per quiet poll are that divided by
 *	the quiet items (the last column), computed by report.py.
 * Lines: "poller-<figure>,<impl>,1,<items>,<median>,<min>,<max>,<extra>".
 *
 * With kb_insn (the one-vCPU boot with QEMU's kb_insn plugin) only the
 * cost figure runs, and each run is a counted window from the gate's
 * release to the last poll, labelled "poller-cost,<impl>,1,<items>,<polls>".
 */
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/completion.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/kbatch.h>

#include "bench.h"
#include "kb_insn.h"

#define PB_BUDGET	64
#define PB_LAT_WAKES	32
#define PB_COST_POLLS	100000	/* timed polls per cost sample, at least */
#define PB_SCHED	0	/* list poller: the item is on the list */

static const unsigned int pb_items[] = { 1000, 100000, 1000000 };

struct pb_ctx;

struct pb_item {
	struct kbatch_pollable kp;
	struct list_head node;
	unsigned long state;
	struct work_struct work;
	struct pb_ctx *ctx;
	void (*poll)(struct pb_item *item);
	u64 polled_at;
	bool spin;
	bool gate;
};

/**
 * struct pb_impl - one poller
 * @name: its name in the table
 * @setup: register every item; 0 or a negative errno
 * @wake: wake one item, from any context
 * @teardown: stop polling and forget the items
 */
struct pb_impl {
	const char *name;
	int (*setup)(struct pb_ctx *ctx);
	void (*wake)(struct pb_ctx *ctx, struct pb_item *item);
	void (*teardown)(struct pb_ctx *ctx);
};

/**
 * struct pb_ctx - one implementation at one item count
 * @impl: the poller
 * @items: the items
 * @n: how many
 * @polled: quiet polls so far
 * @target: complete @done when @polled reaches it
 * @done: see @target
 * @spins: the spinner's polls
 * @stop: the spinner stops waking itself
 * @spin_done: completed by the spinner's last poll after @stop
 * @gate_in: completed when the gate's poll begins
 * @gate: the gate's poll waits for it
 * @released: when the gate's poll returned
 * @end: when the poll that reached @target ran
 * @wq: the ordered workqueue of "work"
 * @poller: kbatch's poller
 * @lock: the list poller's lock
 * @list: the list poller's scheduled items
 * @kick: the list poller's worker
 * @fig: the figure being sampled (index into pb_figures)
 * @insn: the cost run under way is a kb_insn window; its last poll ends it
 */
struct pb_ctx {
	const struct pb_impl *impl;
	struct pb_item *items;
	unsigned int n;
	atomic_long_t polled;
	long target;
	struct completion done;
	unsigned long spins;
	bool stop;
	struct completion spin_done;
	struct completion gate_in;
	struct completion gate;
	u64 released;
	u64 end;
	struct workqueue_struct *wq;
	struct kbatch_poller *poller;
	spinlock_t lock;	/* @list */
	struct list_head list;
	struct work_struct kick;
	unsigned int fig;
	bool insn;
};

/* ---- the poll every implementation runs ---- */

static void pb_poll(struct pb_item *item)
{
	struct pb_ctx *ctx = item->ctx;

	if (item->gate) {
		complete(&ctx->gate_in);
		wait_for_completion(&ctx->gate);
		ctx->released = ktime_get_ns();
		return;
	}
	if (item->spin) {
		ctx->spins++;
		if (!READ_ONCE(ctx->stop))
			ctx->impl->wake(ctx, item);
		else
			complete(&ctx->spin_done);
		return;
	}
	item->polled_at = ktime_get_ns();
	if (atomic_long_inc_return(&ctx->polled) == READ_ONCE(ctx->target)) {
		if (ctx->insn)
			kb_insn_stop();
		ctx->end = item->polled_at;
		complete(&ctx->done);
	}
}

/* ---- kbatch ---- */

static enum kbatch_poll_ret pb_kbatch_poll(struct kbatch_pollable *kp)
{
	pb_poll(container_of(kp, struct pb_item, kp));
	return KBATCH_POLL_PENDING;
}

static int pb_kbatch_setup(struct pb_ctx *ctx)
{
	unsigned int i;
	int ret;

	ctx->poller = kbatch_poller_alloc("bench", ctx->n, PB_BUDGET);
	if (IS_ERR(ctx->poller))
		return PTR_ERR(ctx->poller);
	for (i = 0; i < ctx->n; i++) {
		ret = kbatch_poller_add(ctx->poller, &ctx->items[i].kp,
					pb_kbatch_poll);
		if (ret)
			return ret;
	}
	return 0;
}

static void pb_kbatch_wake(struct pb_ctx *ctx, struct pb_item *item)
{
	kbatch_wake(&item->kp);
}

static void pb_kbatch_teardown(struct pb_ctx *ctx)
{
	if (!IS_ERR_OR_NULL(ctx->poller))
		kbatch_poller_free(ctx->poller);
	ctx->poller = NULL;
}

/* ---- NAPI-style list poller ---- */

static void pb_list_worker(struct work_struct *work)
{
	struct pb_ctx *ctx = container_of(work, struct pb_ctx, kick);
	struct pb_item *item;
	unsigned int n = 0;

	for (;;) {
		spin_lock_irq(&ctx->lock);
		item = list_first_entry_or_null(&ctx->list, struct pb_item, node);
		if (item)
			list_del_init(&item->node);
		spin_unlock_irq(&ctx->lock);
		if (!item)
			return;
		/*
		 * Clear SCHED before the poll, so that a wake during the poll
		 * queues the item again.
		 */
		clear_bit(PB_SCHED, &item->state);
		/*
		 * Orders the clear before the poll's reads; pairs with the
		 * full barrier of the waker's test_and_set_bit().
		 */
		smp_mb__after_atomic();
		item->poll(item);
		if (++n % PB_BUDGET == 0)
			cond_resched();
	}
}

static int pb_list_setup(struct pb_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < ctx->n; i++)
		ctx->items[i].poll = pb_poll;
	spin_lock_init(&ctx->lock);
	INIT_LIST_HEAD(&ctx->list);
	INIT_WORK(&ctx->kick, pb_list_worker);
	return 0;
}

static void pb_list_wake(struct pb_ctx *ctx, struct pb_item *item)
{
	unsigned long flags;
	bool was_empty;

	if (test_and_set_bit(PB_SCHED, &item->state))
		return;
	spin_lock_irqsave(&ctx->lock, flags);
	was_empty = list_empty(&ctx->list);
	list_add_tail(&item->node, &ctx->list);
	spin_unlock_irqrestore(&ctx->lock, flags);
	if (was_empty)
		queue_work(system_unbound_wq, &ctx->kick);
}

static void pb_list_teardown(struct pb_ctx *ctx)
{
	flush_work(&ctx->kick);
}

/* ---- a work item per wake ---- */

static void pb_work_fn(struct work_struct *work)
{
	pb_poll(container_of(work, struct pb_item, work));
}

static int pb_work_setup(struct pb_ctx *ctx)
{
	unsigned int i;

	ctx->wq = alloc_ordered_workqueue("kb_poll_work", 0);
	if (!ctx->wq)
		return -ENOMEM;
	for (i = 0; i < ctx->n; i++)
		INIT_WORK(&ctx->items[i].work, pb_work_fn);
	return 0;
}

static void pb_work_wake(struct pb_ctx *ctx, struct pb_item *item)
{
	queue_work(ctx->wq, &item->work);
}

static void pb_work_teardown(struct pb_ctx *ctx)
{
	/* Drains every work item first. */
	if (ctx->wq)
		destroy_workqueue(ctx->wq);
}

static const struct pb_impl pb_impls[] = {
	{ "kbatch", pb_kbatch_setup, pb_kbatch_wake, pb_kbatch_teardown },
	{ "list", pb_list_setup, pb_list_wake, pb_list_teardown },
	{ "work", pb_work_setup, pb_work_wake, pb_work_teardown },
};

/* ---- figures ---- */

static void pb_wake_some(struct pb_ctx *ctx, unsigned int first,
			 unsigned int count)
{
	unsigned int i;

	for (i = first; i < first + count; i++)
		ctx->impl->wake(ctx, &ctx->items[i]);
}

/* Wake items @first.. (@count of them) and wait until @count quiet polls. */
static void pb_wake_all(struct pb_ctx *ctx, unsigned int first,
			unsigned int count)
{
	reinit_completion(&ctx->done);
	WRITE_ONCE(ctx->target, atomic_long_read(&ctx->polled) + count);
	pb_wake_some(ctx, first, count);
	wait_for_completion(&ctx->done);
}

/* One gated backlog: nanoseconds from the gate's release to the last poll. */
static u64 pb_cost_once(struct pb_ctx *ctx)
{
	struct pb_item *gate = &ctx->items[0];
	u64 end;

	reinit_completion(&ctx->gate_in);
	reinit_completion(&ctx->gate);
	gate->gate = true;
	ctx->impl->wake(ctx, gate);
	wait_for_completion(&ctx->gate_in);
	reinit_completion(&ctx->done);
	WRITE_ONCE(ctx->target, atomic_long_read(&ctx->polled) + ctx->n - 1);
	pb_wake_some(ctx, 1, ctx->n - 1);
	ctx->insn = kb_insn;
	if (ctx->insn)
		kb_insn_start();
	complete(&ctx->gate);
	wait_for_completion(&ctx->done);
	end = ctx->end;
	gate->gate = false;
	if (ctx->insn)
		pr_info("@kb insn-label poller-cost,%s,1,%u,%u\n",
			ctx->impl->name, ctx->n, ctx->n - 1);
	ctx->insn = false;
	return end - ctx->released;
}

/*
 * The cost per poll over backlogs of at least PB_COST_POLLS polls in all
 * (one counted window with kb_insn, which needs no length).
 */
static u64 pb_cost(struct pb_ctx *ctx)
{
	unsigned int reps = kb_insn ? 1 : DIV_ROUND_UP(PB_COST_POLLS, ctx->n - 1);
	unsigned int r;
	u64 sum = 0;

	for (r = 0; r < reps; r++)
		sum += pb_cost_once(ctx);
	return div64_u64(sum, (u64)reps * (ctx->n - 1));
}

static u64 pb_latency(struct pb_ctx *ctx)
{
	struct pb_item *item;
	u64 t0, sum = 0;
	unsigned int k;

	for (k = 0; k < PB_LAT_WAKES; k++) {
		item = &ctx->items[(u64)k * 7919 % ctx->n];
		t0 = ktime_get_ns();
		pb_wake_all(ctx, item - ctx->items, 1);
		sum += item->polled_at - t0;
	}
	return sum / PB_LAT_WAKES;
}

/* The spinner's polls while every other item is polled once. */
static u64 pb_fairness(struct pb_ctx *ctx)
{
	struct pb_item *spinner = &ctx->items[0];
	u64 spins;

	ctx->spins = 0;
	WRITE_ONCE(ctx->stop, false);
	reinit_completion(&ctx->spin_done);
	spinner->spin = true;
	ctx->impl->wake(ctx, spinner);
	pb_wake_all(ctx, 1, ctx->n - 1);
	spins = READ_ONCE(ctx->spins);
	WRITE_ONCE(ctx->stop, true);
	wait_for_completion(&ctx->spin_done);
	spinner->spin = false;
	return spins;
}

static u64 (*const pb_figures[])(struct pb_ctx *ctx) = {
	pb_cost, pb_latency, pb_fairness,
};

static const char *const pb_figure_names[] = {
	"poller-cost", "poller-latency", "poller-fairness",
};

/* kb_interleave() sample: the current figure of poller @i. */
static s64 pb_sample(void *data, unsigned int i)
{
	struct pb_ctx *ctx = data;

	ctx->impl = &pb_impls[i];
	return pb_figures[ctx->fig](ctx);
}

static int pb_all_figures(struct pb_ctx *ctx)
{
	struct kb_set *set = kzalloc(sizeof(*set), GFP_KERNEL);
	unsigned int f, i;
	int ret = 0;

	if (!set)
		return -ENOMEM;
	for (f = 0; !ret && f < ARRAY_SIZE(pb_figures); f++) {
		if (kb_insn && pb_figures[f] != pb_cost)
			continue;
		memset(set, 0, sizeof(*set));
		set->n = ARRAY_SIZE(pb_impls);
		ctx->fig = f;
		/* Only the cost is a time per operation worth a rerun. */
		ret = kb_interleave(set, pb_sample, ctx, pb_figures[f] == pb_cost);
		for (i = 0; !ret && i < set->n; i++) {
			kb_report(pb_figure_names[f], pb_impls[i].name, 1, ctx->n,
				  set->s[i], kb_runs, ctx->n - 1);
			kb_report_rerun(pb_figure_names[f], pb_impls[i].name, 1,
					ctx->n, set->rerun[i]);
		}
	}
	kfree(set);
	return ret;
}

/* Every poller on one array of @n items. */
static int pb_one(unsigned int n)
{
	struct pb_ctx *ctx;
	unsigned int i, set_up = 0;
	int ret;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->items = kvcalloc(n, sizeof(*ctx->items), GFP_KERNEL);
	ret = -ENOMEM;
	if (!ctx->items)
		goto out;
	ctx->n = n;
	init_completion(&ctx->done);
	init_completion(&ctx->spin_done);
	init_completion(&ctx->gate_in);
	init_completion(&ctx->gate);
	for (i = 0; i < n; i++)
		ctx->items[i].ctx = ctx;
	ret = 0;
	for (; !ret && set_up < ARRAY_SIZE(pb_impls); set_up++)
		ret = pb_impls[set_up].setup(ctx);
	if (!ret)
		ret = pb_all_figures(ctx);
	while (set_up--)
		pb_impls[set_up].teardown(ctx);
out:
	kvfree(ctx->items);
	kfree(ctx);
	return ret;
}

/**
 * kb_poller_bench() - table 2: every poller at every item count
 *
 * Context: process context, may sleep.
 *
 * Return: 0 or a negative errno.
 */
int kb_poller_bench(void)
{
	unsigned int n;
	int ret = 0;

	for (n = 0; !ret && n < ARRAY_SIZE(pb_items); n++)
		ret = pb_one(pb_items[n]);
	return ret;
}
