// SPDX-License-Identifier: GPL-2.0
/*
 * Table 1: nanoseconds per task, kbatch against the kernel's own queues.
 *
 * One producer kthread per CPU (CPUs 0..n-1, started together) does
 * qb_tasks_for(B) tasks per run; a figure is elapsed time (first start to
 * last end, the consumer's work included) divided by them: CPU-nanoseconds
 * per task, flat when the queue scales.  A task is an unsigned long; the
 * consumer adds it to a per-CPU sum, checked after every run.
 *
 * Fire-and-forget queues (kbatch-background, llist, kfifo, ptr_ring,
 * work): the consumer is a work item on the producer's CPU, in a WQ_HIGHPRI
 * per-CPU workqueue like kbatch's own.  "Batch size B" means: the producer
 * pushes B tasks, then sleeps until the consumer has taken them all (B
 * tasks in one consumer call: the last column of each line checks it).
 * The producer is a SCHED_FIFO thread, so the consumer (a normal-priority
 * worker on the same CPU) cannot run before all B are in; no push runs
 * under an outer preempt_disable(): each finds its own per-CPU queue with
 * the protection it needs itself (kbatch: preemption off for the push,
 * which reserves its slot with a CPU-local cmpxchg so that every context
 * shares the ring; the others: get_cpu(), and an interrupt-safe lock
 * where they lock, so that they too take pushes from hardirq).  Every
 * fire-and-forget queue and the reducer are measured twice: pushes from
 * the producer thread ("queue" lines) and pushes from a pinned hrtimer's
 * callback in hardirq ("queue-irq" lines, one CPU, B from 16: at B = 1
 * the hand-over is the whole figure; per batch, the producer starts the
 * timer and sleeps until its callback has pushed the batch, then until
 * the consumer took it).
 * Rounds are interleaved: for one CPU count and batch size, round r runs
 * every implementation once in turn (bench_main.c, kb_interleave()).
 *   kbatch-background: B kbatch_post(); the first opens a batch and queues
 *	the ring's work; the work bounds and reads the batch.
 *   kbatch-post-many: one kbatch_post_many() of the B values, stored in
 *	an array first (the producer's own work).
 *   llist: B llist_add() of nodes preallocated per task; the add that
 *	finds the list empty queues the consumer, which does llist_del_all()
 *	and llist_reverse_order() (the irq_work pattern).
 *   llist-batch: the B nodes linked into a chain, then one
 *	llist_add_batch(); the consumer as for llist.
 *   kfifo: B kfifo_in_spinlocked() (interrupt-safe) of one value, then one
 *	queue_work_on() of the consumer, which drains with
 *	kfifo_out_spinlocked() 64 at a time.  1024 entries, like kbatch's
 *	default ring.
 *   ptr_ring: B ptr_ring_produce_any(), then one queue_work_on(); the
 *	consumer drains with ptr_ring_consume_batched_any() 64 at a time.
 *	1024 entries.
 *   work: B queue_work_on() of one work item per task (preallocated).
 * Request/response (the caller waits for each task's result):
 *   kbatch-task: kbatch_submit_many() of B requests (kbatch_submit() for
 *	B = 1); the caller leads and completes its own batch of B.
 *   work-completion: B work items queued, each with its own completion,
 *	then B wait_for_completion(); the work writes the result.
 * Reducer:
 *   kbatch-reduce: B kbatch_reduce().  With one
 *	producer per CPU every call opens and folds its own batch of one (the
 *	leader folds before returning, nobody else pushes on that CPU), so B
 *	changes nothing here.
 *
 * Atomic read-modify-writes per task, by design (from the code, x86; the
 * in-flight counts of kbatch are this_cpu ops, not atomics; unlocks are
 * plain stores; a wake-up adds a few):
 *   kbatch-background, kbatch-post-many: none per task (a CPU-local
 *	cmpxchg has no LOCK prefix); per batch the bound (CPU-local too), 1
 *	ring lock, about 2 for queue_work_on() (PENDING bit, pool lock): 3/B.
 *   kbatch-task: 1 cmpxchg, per batch 1 cmpxchg (bound) and 1 ring lock:
 *	1 + 2/B (no wake-up: the caller leads its own batch).
 *   kbatch-reduce: 1 cmpxchg + 1 cmpxchg (bound) + 1 ring lock: 3.
 *   llist: 1 cmpxchg, per batch 1 xchg and about 2 for queue_work_on():
 *	1 + 3/B.
 *   llist-batch: per batch 1 cmpxchg, 1 xchg, about 2 for queue_work_on():
 *	4/B.
 *   kfifo: 1 lock; per batch about 2 (queue_work_on) + 1 per 64 taken.
 *   ptr_ring: 1 lock; per batch the same as kfifo.
 *   work: about 3 (PENDING bit, pool lock at queueing and at running).
 *   work-completion: about 5 (work, then the completion's lock twice).
 */
#include <linux/completion.h>
#include <linux/hrtimer.h>
#include <linux/kfifo.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/ptr_ring.h>
#include <linux/sched.h>
#include <linux/sched/prio.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/kbatch.h>

#include "bench.h"
#include "kb_insn.h"

#define QB_RING		1024	/* entries of kfifo and ptr_ring */
#define QB_CHUNK	64	/* what their consumers take per lock */
#define QB_MAX_BATCH	256U

static const unsigned int qb_cpus[] = { 1, 2, 4 };
static const unsigned int qb_batches[] = { 1, 16, 64, QB_MAX_BATCH };

struct qb_node {
	struct llist_node node;
	unsigned long v;
};

struct qb_cpu;

/* A work item per task: fire and forget, or with a completion. */
struct qb_work {
	struct work_struct work;
	struct qb_cpu *pc;
	unsigned long v;
	long result;
	struct completion done;
};

/**
 * struct qb_cpu - one producer CPU's side of every implementation
 * @consumed: tasks the consumer took this run
 * @target: wake the producer when @consumed reaches it
 * @sum: sum of the tasks the consumer took
 * @takes: how many times the consumer (or a task-mode leader) took tasks
 * @push_ns: time spent pushing (and kicking), when splitting
 * @wq: where the producer waits for @target
 * @kick: the consumer work of llist, kfifo and ptr_ring
 * @cpu: the CPU
 * @list: llist
 * @nodes: llist nodes, one per task
 * @vals: kbatch_post_many()'s array, one batch
 * @fifo: kfifo
 * @fifo_lock: its producers' lock
 * @ring: ptr_ring
 * @works: work items, one per task
 * @calls: work items with a completion, one per task of a batch
 * @reqs: kbatch requests, one per task of a batch
 * @timer: pushes a batch in hardirq ("queue-irq")
 * @ctx: the run, for @timer's callback
 * @irq_next: the first task @timer's callback pushes; then the next one
 * @irq_end: the end of its batch
 * @irq_done: @timer's callback has pushed
 *
 * The consumer always runs on @cpu, so @consumed, @target and @sum need no
 * more than READ_ONCE()/WRITE_ONCE() between it and the producer.
 */
struct qb_cpu {
	unsigned long consumed;
	unsigned long target;
	unsigned long sum;
	unsigned long takes;
	u64 push_ns;
	wait_queue_head_t wq;
	struct work_struct kick;
	unsigned int cpu;
	struct llist_head list;
	struct qb_node *nodes;
	unsigned long *vals;
	DECLARE_KFIFO_PTR(fifo, unsigned long);
	spinlock_t fifo_lock;	/* kfifo producers */
	struct ptr_ring ring;
	struct qb_work *works;
	struct qb_work *calls;
	struct kbatch_req *reqs;
	struct hrtimer timer;
	struct qb_ctx *ctx;
	unsigned long irq_next;
	unsigned long irq_end;
	bool irq_done;
} ____cacheline_aligned_in_smp;

struct qb_ctx {
	const struct qb_impl *impl;
	struct qb_cpu *pcs;
	unsigned int ncpus;
	unsigned int batch;
	bool split;
	bool hardirq;
	unsigned int fig;
	unsigned int idx[KB_MAX_FIGS];
	u64 takes[KB_MAX_FIGS];
	u64 total[KB_MAX_FIGS][KB_MAX_RUNS];
	unsigned int ntotal[KB_MAX_FIGS];
	struct kbatch_queue *task_q;
	struct kbatch_queue *bg_q;
	struct kbatch_queue *reduce_q;
};

/**
 * struct qb_impl - one implementation
 * @name: its name in the table
 * @push: push one task on the caller's CPU, from any context; false if
 *	the queue is full
 * @kick: optional, after each batch of pushes: start the consumer on the
 *	caller's CPU
 * @consume: optional consumer work, set as @kick of every CPU
 * @call: request/response: run @b tasks from @first and wait for them;
 *	return the last task's result.  If set, @push is unused.
 * @push_many: push tasks @i up to @end in one call, on the caller's CPU,
 *	from any context; return the next task to push (short of @end if the
 *	queue was full).  If set, @push is unused.
 */
struct qb_impl {
	const char *name;
	bool (*push)(struct qb_ctx *ctx, unsigned long v);
	unsigned long (*push_many)(struct qb_ctx *ctx, unsigned long i,
				   unsigned long end);
	void (*kick)(struct qb_ctx *ctx);
	work_func_t consume;
	long (*call)(struct qb_ctx *ctx, struct qb_cpu *pc, unsigned long first,
		     unsigned int b);
};

static struct workqueue_struct *qb_wq;

/*
 * Tasks per producer per run: kb_tasks at batch size 1, more for larger
 * batches (kb_tasks * B / 4, at most 8 times kb_tasks), so that a run of
 * cheap tasks still lasts tens of milliseconds; divided by the producers,
 * as n producers on n virtual CPUs of a 2-core host take about n times
 * as long (a multiple of QB_MAX_BATCH, at least kb_tasks / 4).
 */
static unsigned long qb_tasks;

static unsigned long qb_max_tasks(void)
{
	return (unsigned long)kb_tasks * 8;
}

static unsigned long qb_tasks_for(unsigned int batch, unsigned int ncpus)
{
	unsigned long n = (unsigned long)kb_tasks * clamp(batch / 4, 1U, 8U);

	n = round_down(n / ncpus, QB_MAX_BATCH);
	return max(n, round_up((unsigned long)kb_tasks / 4, QB_MAX_BATCH));
}

/* ---- consumers ---- */

/* The consumer took @n tasks adding up to @sum; wake the producer if due. */
static void qb_consumed(struct qb_cpu *pc, unsigned long n, unsigned long sum)
{
	pc->takes++;
	pc->sum += sum;
	WRITE_ONCE(pc->consumed, pc->consumed + n);
	if (pc->consumed >= READ_ONCE(pc->target))
		wake_up(&pc->wq);
}

/*
 * Background and reducer batch callback: reads the values where they are,
 * a run of slots at a time, with kbatch_batch_span(), as the llist
 * baseline walks its nodes where they are, without a call per node.
 */
static void qb_value_batch(struct kbatch_batch *batch, void *data)
{
	struct qb_ctx *ctx = data;
	unsigned int n = kbatch_bound(batch), i, j, k;
	const unsigned long *vals;
	unsigned long sum = 0;

	for (i = 0; i < n; i += k) {
		k = kbatch_batch_span(batch, i, &vals);
		for (j = 0; j < k; j++)
			sum += vals[j];
	}
	qb_consumed(&ctx->pcs[kbatch_batch_cpu(batch)], n, sum);
}

static void qb_task_batch(struct kbatch_batch *batch, void *data)
{
	unsigned int n = kbatch_bound(batch), i;
	struct qb_ctx *ctx = data;
	struct kbatch_req *req;

	ctx->pcs[kbatch_batch_cpu(batch)].takes++;
	for (i = 0; i < n; i++) {
		req = kbatch_batch_req(batch, i);
		if (req)
			kbatch_complete(batch, i, req->arg + 1);
	}
}

static void qb_llist_consume(struct work_struct *work)
{
	struct qb_cpu *pc = container_of(work, struct qb_cpu, kick);
	struct llist_node *first;
	unsigned long sum = 0, n = 0;
	struct qb_node *node;

	first = llist_reverse_order(llist_del_all(&pc->list));
	llist_for_each_entry(node, first, node) {
		sum += node->v;
		n++;
	}
	qb_consumed(pc, n, sum);
}

static void qb_kfifo_consume(struct work_struct *work)
{
	struct qb_cpu *pc = container_of(work, struct qb_cpu, kick);
	unsigned long buf[QB_CHUNK], sum = 0, n = 0;
	unsigned int got, i;

	while ((got = kfifo_out_spinlocked(&pc->fifo, buf, QB_CHUNK,
					   &pc->fifo_lock))) {
		for (i = 0; i < got; i++)
			sum += buf[i];
		n += got;
	}
	qb_consumed(pc, n, sum);
}

static void qb_ptr_ring_consume(struct work_struct *work)
{
	struct qb_cpu *pc = container_of(work, struct qb_cpu, kick);
	unsigned long sum = 0, n = 0;
	void *buf[QB_CHUNK];
	int got, i;

	while ((got = ptr_ring_consume_batched_any(&pc->ring, buf, QB_CHUNK)) > 0) {
		/* ptr_ring cannot hold NULL: values are stored plus one. */
		for (i = 0; i < got; i++)
			sum += (unsigned long)buf[i] - 1;
		n += got;
	}
	qb_consumed(pc, n, sum);
}

static void qb_work_fire(struct work_struct *work)
{
	struct qb_work *w = container_of(work, struct qb_work, work);

	qb_consumed(w->pc, 1, w->v);
}

static void qb_work_reply(struct work_struct *work)
{
	struct qb_work *w = container_of(work, struct qb_work, work);

	w->pc->takes++;
	w->result = w->v + 1;
	complete(&w->done);
}

/* ---- pushes: each finds its own CPU's queue ---- */

static bool qb_kbatch_post(struct qb_ctx *ctx, unsigned long v)
{
	return !kbatch_post(ctx->bg_q, v);
}

static unsigned long qb_kbatch_post_many(struct qb_ctx *ctx, unsigned long i,
					 unsigned long end)
{
	unsigned long *vals = ctx->pcs[raw_smp_processor_id()].vals;
	unsigned int j, n = end - i;
	int got;

	for (j = 0; j < n; j++)
		vals[j] = i + j;
	got = kbatch_post_many(ctx->bg_q, vals, n);
	return got > 0 ? i + got : i;
}

static bool qb_kbatch_reduce(struct qb_ctx *ctx, unsigned long v)
{
	return kbatch_reduce(ctx->reduce_q, v) >= 0;
}

static bool qb_llist_push(struct qb_ctx *ctx, unsigned long v)
{
	unsigned int cpu = get_cpu();
	struct qb_cpu *pc = &ctx->pcs[cpu];
	struct qb_node *node = &pc->nodes[v];

	node->v = v;
	if (llist_add(&node->node, &pc->list))
		queue_work_on(cpu, qb_wq, &pc->kick);
	put_cpu();
	return true;
}

static unsigned long qb_llist_push_many(struct qb_ctx *ctx, unsigned long i,
					unsigned long end)
{
	unsigned int cpu = get_cpu();
	struct qb_cpu *pc = &ctx->pcs[cpu];
	struct qb_node *nodes = pc->nodes;
	unsigned long j;

	for (j = i; j < end; j++) {
		nodes[j].v = j;
		nodes[j].node.next = j + 1 < end ? &nodes[j + 1].node : NULL;
	}
	if (llist_add_batch(&nodes[i].node, &nodes[end - 1].node, &pc->list))
		queue_work_on(cpu, qb_wq, &pc->kick);
	put_cpu();
	return end;
}

static bool qb_kfifo_push(struct qb_ctx *ctx, unsigned long v)
{
	struct qb_cpu *pc = &ctx->pcs[get_cpu()];
	bool ret = kfifo_in_spinlocked(&pc->fifo, &v, 1, &pc->fifo_lock);

	put_cpu();
	return ret;
}

static bool qb_ptr_ring_push(struct qb_ctx *ctx, unsigned long v)
{
	struct qb_cpu *pc = &ctx->pcs[get_cpu()];
	bool ret = !ptr_ring_produce_any(&pc->ring, (void *)(v + 1));

	put_cpu();
	return ret;
}

static bool qb_work_push(struct qb_ctx *ctx, unsigned long v)
{
	unsigned int cpu = get_cpu();
	struct qb_work *w = &ctx->pcs[cpu].works[v];

	w->v = v;
	queue_work_on(cpu, qb_wq, &w->work);
	put_cpu();
	return true;
}

static void qb_kick(struct qb_ctx *ctx)
{
	unsigned int cpu = get_cpu();

	queue_work_on(cpu, qb_wq, &ctx->pcs[cpu].kick);
	put_cpu();
}

/* ---- producers ---- */

/* Sleep until the consumer has taken @target tasks. */
static void qb_wait(struct qb_cpu *pc, unsigned long target)
{
	WRITE_ONCE(pc->target, target);
	wait_event(pc->wq, READ_ONCE(pc->consumed) >= target);
	WRITE_ONCE(pc->target, qb_tasks);
}

/*
 * Push tasks @i.. up to the end of their batch, @end.  Return the next
 * task to push; short of @end if the queue was full.
 */
static unsigned long qb_push_batch(struct qb_ctx *ctx, unsigned long i,
				   unsigned long end)
{
	const struct qb_impl *impl = ctx->impl;

	if (impl->push_many) {
		i = impl->push_many(ctx, i, end);
	} else {
		while (i < end && impl->push(ctx, i))
			i++;
	}
	if (impl->kick)
		impl->kick(ctx);
	return i;
}

/* "queue-irq": the batch pushed from hardirq, on the producer's CPU. */
static enum hrtimer_restart qb_irq_push(struct hrtimer *timer)
{
	struct qb_cpu *pc = container_of(timer, struct qb_cpu, timer);

	pc->irq_next = qb_push_batch(pc->ctx, pc->irq_next, pc->irq_end);
	WRITE_ONCE(pc->irq_done, true);
	wake_up(&pc->wq);
	return HRTIMER_NORESTART;
}

/* Push one batch from the producer thread or, for "queue-irq", hardirq. */
static unsigned long qb_push(struct qb_ctx *ctx, struct qb_cpu *pc,
			     unsigned long i, unsigned long end)
{
	u64 t0 = ctx->split ? ktime_get_ns() : 0;

	if (ctx->hardirq) {
		pc->irq_next = i;
		pc->irq_end = end;
		WRITE_ONCE(pc->irq_done, false);
		hrtimer_start(&pc->timer, 0, HRTIMER_MODE_REL_PINNED_HARD);
		wait_event(pc->wq, READ_ONCE(pc->irq_done));
		i = pc->irq_next;
	} else {
		i = qb_push_batch(ctx, i, end);
	}
	if (ctx->split)
		pc->push_ns += ktime_get_ns() - t0;
	return i;
}

/*
 * A batch is handed over: the producer sleeps until the consumer has taken
 * every task pushed so far, so each consumer call takes exactly one batch
 * (the producer runs SCHED_FIFO: the consumer, a normal worker on its
 * CPU, runs only when it sleeps) and every implementation pays the same
 * sleep and wake-up per batch.  If the queue was full, it waits for room.
 */
static int qb_bg_produce(void *data, unsigned int cpu)
{
	struct qb_ctx *ctx = data;
	struct qb_cpu *pc = &ctx->pcs[cpu];
	unsigned long i = 0, end;

	sched_set_fifo_low(current);
	if (kb_insn)
		kb_insn_start();
	while (i < qb_tasks) {
		end = round_down(i, ctx->batch) + ctx->batch;
		i = qb_push(ctx, pc, i, end);
		qb_wait(pc, i < end ? READ_ONCE(pc->consumed) + 1 : i);
	}
	if (kb_insn)
		kb_insn_stop();
	return 0;
}

/* kbatch-task: one batch of @b requests @first..; the last one's result. */
static long qb_task_call(struct qb_ctx *ctx, struct qb_cpu *pc,
			 unsigned long first, unsigned int b)
{
	unsigned int j;
	int ret;

	for (j = 0; j < b; j++)
		pc->reqs[j].arg = first + j;
	if (b == 1)
		ret = kbatch_submit(ctx->task_q, pc->reqs);
	else
		ret = kbatch_submit_many(ctx->task_q, pc->reqs, b);
	return ret < 0 ? ret : pc->reqs[b - 1].result;
}

/* work-completion: @b work items, then wait for each. */
static long qb_work_call(struct qb_ctx *ctx, struct qb_cpu *pc,
			 unsigned long first, unsigned int b)
{
	unsigned int j;

	for (j = 0; j < b; j++) {
		pc->calls[j].v = first + j;
		reinit_completion(&pc->calls[j].done);
		queue_work_on(pc->cpu, qb_wq, &pc->calls[j].work);
	}
	for (j = 0; j < b; j++)
		wait_for_completion(&pc->calls[j].done);
	return pc->calls[b - 1].result;
}

/* Request/response: each call's last result must be its last task + 1. */
static int qb_rr_produce(void *data, unsigned int cpu)
{
	struct qb_ctx *ctx = data;
	unsigned int b = ctx->batch;
	unsigned long i;
	long ret = 0;

	if (kb_insn)
		kb_insn_start();
	for (i = 0; i < qb_tasks; i += b) {
		ret = ctx->impl->call(ctx, &ctx->pcs[cpu], i, b);
		if (ret < 0 || ret != i + b)
			break;
	}
	if (kb_insn)
		kb_insn_stop();
	if (ret < 0)
		return ret;
	return i < qb_tasks ? -EIO : 0;
}

static const struct qb_impl qb_impls[] = {
	{ .name = "kbatch-task", .call = qb_task_call },
	{ .name = "kbatch-background", .push = qb_kbatch_post },
	{ .name = "kbatch-reduce", .push = qb_kbatch_reduce },
	{ .name = "kbatch-post-many", .push_many = qb_kbatch_post_many },
	{ .name = "llist", .push = qb_llist_push, .consume = qb_llist_consume },
	{ .name = "llist-batch", .push_many = qb_llist_push_many,
	  .consume = qb_llist_consume },
	{ .name = "kfifo", .push = qb_kfifo_push, .kick = qb_kick,
	  .consume = qb_kfifo_consume },
	{ .name = "ptr_ring", .push = qb_ptr_ring_push, .kick = qb_kick,
	  .consume = qb_ptr_ring_consume },
	{ .name = "work", .push = qb_work_push },
	{ .name = "work-completion", .call = qb_work_call },
};

/* ---- set-up, runs and the table ---- */

static int qb_cpu_init(struct qb_cpu *pc, unsigned int cpu)
{
	unsigned int i;

	pc->cpu = cpu;
	init_waitqueue_head(&pc->wq);
	hrtimer_init(&pc->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	pc->timer.function = qb_irq_push;
	init_llist_head(&pc->list);
	spin_lock_init(&pc->fifo_lock);
	pc->nodes = kvcalloc(qb_max_tasks(), sizeof(*pc->nodes), GFP_KERNEL);
	pc->works = kvcalloc(qb_max_tasks(), sizeof(*pc->works), GFP_KERNEL);
	pc->calls = kcalloc(QB_MAX_BATCH, sizeof(*pc->calls), GFP_KERNEL);
	pc->reqs = kcalloc(QB_MAX_BATCH, sizeof(*pc->reqs), GFP_KERNEL);
	pc->vals = kcalloc(QB_MAX_BATCH, sizeof(*pc->vals), GFP_KERNEL);
	if (!pc->nodes || !pc->works || !pc->calls || !pc->reqs || !pc->vals ||
	    kfifo_alloc(&pc->fifo, QB_RING, GFP_KERNEL))
		return -ENOMEM;
	if (ptr_ring_init(&pc->ring, QB_RING, GFP_KERNEL)) {
		kfifo_free(&pc->fifo);
		return -ENOMEM;
	}
	for (i = 0; i < qb_max_tasks(); i++) {
		INIT_WORK(&pc->works[i].work, qb_work_fire);
		pc->works[i].pc = pc;
	}
	for (i = 0; i < QB_MAX_BATCH; i++) {
		INIT_WORK(&pc->calls[i].work, qb_work_reply);
		pc->calls[i].pc = pc;
		init_completion(&pc->calls[i].done);
	}
	return 0;
}

/* Free what qb_cpu_init() allocated; safe on a zeroed or partial one. */
static void qb_cpu_exit(struct qb_cpu *pc)
{
	ptr_ring_cleanup(&pc->ring, NULL);
	kfifo_free(&pc->fifo);
	kvfree(pc->nodes);
	kvfree(pc->works);
	kfree(pc->calls);
	kfree(pc->reqs);
	kfree(pc->vals);
}

static void qb_free(struct qb_ctx *ctx)
{
	unsigned int cpu;

	kbatch_queue_free(ctx->task_q);
	kbatch_queue_free(ctx->bg_q);
	kbatch_queue_free(ctx->reduce_q);
	for (cpu = 0; ctx->pcs && cpu < ctx->ncpus; cpu++)
		qb_cpu_exit(&ctx->pcs[cpu]);
	kfree(ctx->pcs);
}

static int qb_alloc(struct qb_ctx *ctx)
{
	unsigned int cpu;
	int ret = 0;

	ctx->ncpus = min(num_online_cpus(), KB_MAX_CPUS);
	ctx->pcs = kcalloc(nr_cpu_ids, sizeof(*ctx->pcs), GFP_KERNEL);
	if (!ctx->pcs)
		return -ENOMEM;
	for (cpu = 0; cpu < ctx->ncpus && !ret; cpu++) {
		ctx->pcs[cpu].ctx = ctx;
		ret = qb_cpu_init(&ctx->pcs[cpu], cpu);
	}
	ctx->task_q = kbatch_queue_alloc("bench-task", KBATCH_TASK, 0,
					 qb_task_batch, ctx);
	ctx->bg_q = kbatch_queue_alloc("bench-bg", KBATCH_BACKGROUND, 0,
				       qb_value_batch, ctx);
	ctx->reduce_q = kbatch_queue_alloc("bench-reduce", KBATCH_REDUCE, 0,
					   qb_value_batch, ctx);
	if (!ret && (IS_ERR(ctx->task_q) || IS_ERR(ctx->bg_q) ||
		     IS_ERR(ctx->reduce_q)))
		ret = -ENOMEM;
	return ret;
}

/* One run: reset the counters, run the producers, check the sums. */
static s64 qb_run(struct qb_ctx *ctx, unsigned int ncpus)
{
	unsigned long want = (unsigned long)qb_tasks * (qb_tasks - 1) / 2;
	bool counted = !ctx->impl->call;
	unsigned int cpu;
	s64 ns;

	for (cpu = 0; cpu < ncpus; cpu++) {
		ctx->pcs[cpu].consumed = 0;
		ctx->pcs[cpu].sum = 0;
		ctx->pcs[cpu].takes = 0;
		ctx->pcs[cpu].push_ns = 0;
		ctx->pcs[cpu].target = qb_tasks;
		if (ctx->impl->consume)
			INIT_WORK(&ctx->pcs[cpu].kick, ctx->impl->consume);
	}
	ns = kb_run_producers(ncpus, ctx->impl->call ? qb_rr_produce : qb_bg_produce,
			      ctx);
	for (cpu = 0; counted && ns >= 0 && cpu < ncpus; cpu++) {
		if (ctx->pcs[cpu].consumed != qb_tasks || ctx->pcs[cpu].sum != want)
			ns = -EIO;
	}
	return ns;
}

/* kb_interleave() sample: one run of implementation @i of the figure. */
static s64 qb_sample(void *data, unsigned int i)
{
	struct qb_ctx *ctx = data;
	unsigned int cpu, ncpus = ctx->fig;
	u64 takes = 0;
	s64 ns;

	ctx->impl = &qb_impls[ctx->idx[i]];
	ns = qb_run(ctx, ncpus);
	if (ns < 0) {
		pr_err("kbatch_bench: %s on %u CPUs, batch %u%s: error %lld\n",
		       ctx->impl->name, ncpus, ctx->batch,
		       ctx->hardirq ? " (hardirq)" : "", ns);
		return ns;
	}
	/* The tasks a consumer took at a time, on average, in the last run. */
	for (cpu = 0; cpu < ncpus; cpu++)
		takes += ctx->pcs[cpu].takes;
	ctx->takes[i] = takes ? div64_u64((u64)qb_tasks * ncpus, takes) : 0;
	/* kb_insn: the window of the run just done, for report.py. */
	if (kb_insn)
		pr_info("@kb insn-label %s,%s,%u,%u,%lu\n",
			ctx->split ? "split" : ctx->hardirq ? "queue-irq" : "queue",
			ctx->impl->name, ncpus, ctx->batch, qb_tasks * ncpus);
	if (!ctx->split)
		return div_u64(ns, qb_tasks);
	/* Split: keep the total of the last kb_runs runs, return the push. */
	ctx->total[i][ctx->ntotal[i]++ % kb_runs] = div_u64(ns, qb_tasks);
	return div_u64(ctx->pcs[0].push_ns, qb_tasks);
}

/*
 * Every implementation that fits the mode at @ncpus CPUs and the batch
 * size set in @ctx, in interleaved rounds (the request/response ones only
 * from threads, and not split).
 */
static int qb_figure(struct qb_ctx *ctx, struct kb_set *set, unsigned int ncpus)
{
	const char *table = ctx->split ? "split" :
			    ctx->hardirq ? "queue-irq" : "queue";
	unsigned int i;
	int ret;

	memset(set, 0, sizeof(*set));
	memset(ctx->ntotal, 0, sizeof(ctx->ntotal));
	for (i = 0; i < ARRAY_SIZE(qb_impls); i++) {
		if (qb_impls[i].call && (ctx->hardirq || ctx->split))
			continue;
		ctx->idx[set->n++] = i;
	}
	ctx->fig = ncpus;
	qb_tasks = qb_tasks_for(ctx->batch, ncpus);
	ret = kb_interleave(set, qb_sample, ctx, true);
	for (i = 0; !ret && i < set->n; i++) {
		const char *name = qb_impls[ctx->idx[i]].name;
		u64 extra = ctx->takes[i];

		if (ctx->split) {
			sort(ctx->total[i], kb_runs, sizeof(u64), kb_cmp_u64, NULL);
			extra = ctx->total[i][kb_runs / 2];
		}
		kb_report(table, name, ncpus, ctx->batch, set->s[i], kb_runs,
			  extra);
		kb_report_rerun(table, name, ncpus, ctx->batch, set->rerun[i]);
	}
	return ret;
}

/*
 * Where the time goes, for the fire-and-forget queues on one CPU at every
 * batch size from 16: the producer's pushes (and kick) against the whole.
 * The rest is the consumer and one hand-over per batch.  Prints
 * "split,<impl>,1,<batch>,<push ns/task median>,<min>,<max>,<total ns/task>".
 */
static int qb_split(struct qb_ctx *ctx, struct kb_set *set)
{
	unsigned int b;
	int ret = 0;

	ctx->split = true;
	for (b = 1; !ret && b < ARRAY_SIZE(qb_batches); b++) {
		ctx->batch = qb_batches[b];
		ret = qb_figure(ctx, set, 1);
	}
	ctx->split = false;
	return ret;
}

/**
 * kb_queue_bench() - table 1: every implementation, CPU count and batch size
 *
 * Context: process context, may sleep; takes minutes under emulation.
 *
 * Return: 0 or a negative errno.
 */
int kb_queue_bench(void)
{
	struct kb_set *set;
	struct qb_ctx *ctx;
	unsigned int c, b, cpu, mode;
	int ret;

	kb_tasks = max(round_down(kb_tasks, QB_MAX_BATCH), QB_MAX_BATCH);
	qb_wq = alloc_workqueue("kb_bench", WQ_HIGHPRI, 0);
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	set = kzalloc(sizeof(*set), GFP_KERNEL);
	ret = -ENOMEM;
	if (!qb_wq || !ctx || !set)
		goto out;
	ret = qb_alloc(ctx);
	for (mode = 0; !ret && mode < 2; mode++) {
		ctx->hardirq = mode;
		for (c = 0; !ret && c < ARRAY_SIZE(qb_cpus); c++) {
			for (b = 0; !ret && b < ARRAY_SIZE(qb_batches); b++) {
				/*
				 * Hardirq producers: one CPU (time budget),
				 * batches where the hand-over is not all.
				 */
				if (qb_cpus[c] > ctx->ncpus ||
				    (mode && (qb_cpus[c] > 1 || b == 0)))
					continue;
				ctx->batch = qb_batches[b];
				ret = qb_figure(ctx, set, qb_cpus[c]);
			}
		}
	}
	ctx->hardirq = false;
	if (!ret)
		ret = qb_split(ctx, set);
	/* Never pending here (a producer waits for its callback); to be sure. */
	for (cpu = 0; ctx->pcs && cpu < ctx->ncpus; cpu++) {
		if (ctx->pcs[cpu].timer.function)
			hrtimer_cancel(&ctx->pcs[cpu].timer);
	}
out:
	/* Drain our consumers before their per-CPU data goes. */
	if (qb_wq)
		destroy_workqueue(qb_wq);
	if (ctx)
		qb_free(ctx);
	kfree(set);
	kfree(ctx);
	return ret;
}
