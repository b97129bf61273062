// SPDX-License-Identifier: GPL-2.0
/*
 * Batch queues: allocation and teardown, the three front ends (task,
 * background, reducer) and the batch a callback sees.  The ring and its
 * protocol are in ring.h and ring.c; docs/design.md tells the whole story.
 *
 * Lifetime rule.  A CPU may touch a queue's rings only
 *
 *  (a) inside a section with interrupts or preemption disabled (an RCU
 *      read-side section) in which it saw @dying clear (a background post
 *      reads it as KB_GATE_DYING in its ring's @gate: ring.h), or
 *  (b) while it holds an in-flight count (@inflight, per CPU) that it took
 *      in such a section.
 *
 * A background push needs nothing more than (a): it is over when its
 * section ends.  Callers that outlive their push, task-mode callers and
 * reducer leaders, hold a count from before their push until they return.
 * kbatch_queue_shutdown() sets @dying, waits for a grace period (every
 * section that saw @dying clear has ended, and every count taken in one is
 * visible), wakes callers waiting for room so they give up, waits for the
 * counts to sum to zero, and flushes the background work items (which run
 * every batch still in a ring).  The sum can only fall after the grace
 * period, so reading it CPU by CPU never sees zero early.  This is
 * percpu_ref's idea with the grace period moved to the one place that
 * needs it: a post costs a flag test, not a reference.
 *
 * The struct itself stays valid until kbatch_queue_free(), so a call
 * racing with the shutdown gets -ESHUTDOWN rather than a freed queue, and
 * may read the struct until it returns (a post or reduction whose section
 * has ended, to spill or trace its refusal): its owner must stop calling,
 * and see its calls return, before it frees.
 *
 * Every wait of the shutdown is bounded by @timeout: past it the shutdown
 * warns and fails, and kbatch_queue_free() returns false without freeing
 * the queue rather than free it under a callback that still runs.
 *
 * Lockdep.  Waiting for a batch callback is waiting for a lock: each queue
 * has a lockdep map, @dep_map, that the code running a callback holds
 * (run_batch(), task and background modes), and that every task-mode
 * submitter and kbatch_queue_shutdown() acquire and release before they
 * may wait for a callback, as flush_work() does with a work's map.  So a
 * callback that submits to its own queue, or a submitter holding a lock
 * its queue's callback takes, is reported by lockdep the first time the
 * two halves happen, deadlock or not.  Reducer queues are not annotated:
 * nobody sleeps on a reducer leader, and their callbacks may run in
 * hardirq context.
 *
 * CPU hotplug needs nothing here.  A push uses the ring of the CPU it runs
 * on, so nothing lands on an offline CPU's rings.  A background batch
 * pending on a CPU that goes offline is a work item queued on that CPU's
 * pool of kbatch_wq; the workqueue unbinds that pool's workers when the
 * CPU goes (workqueue_offline_cpu()), and they run it on another CPU,
 * where background_bound() takes the remote path (ring.h).
 * kbatch waits for nothing in the hotplug path, so a callback may take
 * cpus_read_lock() or allocate and free queues while CPUs come and go.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "kbatch_internal.h"
#include <trace/events/kbatch.h>

/* With preemption disabled: the ring of the CPU we run on. */
static struct kbatch_ring *local_ring(struct kbatch_queue *queue)
{
	return this_cpu_read(*queue->rings);
}

/*
 * Whether the queue takes pushes; with interrupts or preemption disabled,
 * so that kbatch_queue_shutdown()'s grace period waits for this section.
 */
static bool queue_live(struct kbatch_queue *queue)
{
	return !READ_ONCE(queue->dying);
}

/* Take an in-flight count, in a section where queue_live() held. */
static void queue_inflight_inc(struct kbatch_queue *queue)
{
	__this_cpu_inc(*queue->inflight);
}

/* Enter the queue for a call that may sleep; false if it is dying. */
static bool queue_enter(struct kbatch_queue *queue)
{
	bool live;

	preempt_disable();
	live = queue_live(queue);
	if (live)
		queue_inflight_inc(queue);
	preempt_enable();
	return live;
}

static void queue_leave(struct kbatch_queue *queue)
{
	this_cpu_dec(*queue->inflight);
}

/* ---- the batch, as its callback sees it ---- */

/* The batch is closed at @end. */
static void batch_set_end(struct kbatch_batch *batch, unsigned long end)
{
	batch->end = end;
	batch->len = kbatch_ring_len(batch->start, end);
	batch->bounded = true;
	trace_kbatch_batch_bound(batch->queue->name, batch->ring->cpu,
				 batch->len);
}

/**
 * kbatch_bound() - close the batch and take it whole
 * @batch: the batch passed to the callback
 *
 * Every push confirmed on the batch's ring before this call is in the
 * batch; every push after it opens the next batch, with a new leader.  A
 * second call returns the same length.  A background batch was bounded
 * by its worker before the callback started: this returns its length.
 *
 * Context: inside a batch callback.
 *
 * Return: the number of tasks in the batch (at least 1).
 */
unsigned int kbatch_bound(struct kbatch_batch *batch)
{
	if (!batch->bounded)
		batch_set_end(batch, kbatch_ring_bound_shared(batch->ring));
	return batch->len;
}
EXPORT_SYMBOL_GPL(kbatch_bound);

static unsigned long *batch_slot(struct kbatch_batch *batch, unsigned int i)
{
	unsigned long pos = kbatch_ring_pos(batch->start, i);

	if (WARN_ON_ONCE(!batch->bounded || i >= batch->len))
		return NULL;
	if (batch->spill)
		return kbatch_spill_slot(batch->spill, pos);
	return kbatch_ring_slot(batch->ring, pos);
}

/**
 * kbatch_batch_req() - the request of a task-mode task
 * @batch: a bounded batch of a KBATCH_TASK queue
 * @i: the task's index, below kbatch_bound()'s result; tasks are in push
 *	order
 *
 * Context: inside a batch callback.
 *
 * Return: the caller's request, or NULL once the task has been completed
 * (its caller may have returned: the request is gone).
 */
struct kbatch_req *kbatch_batch_req(struct kbatch_batch *batch, unsigned int i)
{
	unsigned long *slot = batch_slot(batch, i);

	if (!slot || WARN_ON_ONCE(batch->queue->mode != KBATCH_TASK))
		return NULL;
	return (struct kbatch_req *)*slot;
}
EXPORT_SYMBOL_GPL(kbatch_batch_req);

/**
 * kbatch_batch_value() - the value of a background or reducer task
 * @batch: a bounded batch of a KBATCH_BACKGROUND or KBATCH_REDUCE queue
 * @i: the task's index, below kbatch_bound()'s result; tasks are in push
 *	order
 *
 * Context: inside a batch callback.
 *
 * Return: the value given to kbatch_post() or kbatch_reduce().
 */
unsigned long kbatch_batch_value(struct kbatch_batch *batch, unsigned int i)
{
	unsigned long *slot = batch_slot(batch, i);

	if (!slot || WARN_ON_ONCE(batch->queue->mode == KBATCH_TASK))
		return 0;
	return *slot;
}
EXPORT_SYMBOL_GPL(kbatch_batch_value);

/*
 * kbatch_batch_values() of a spill lane's batch, slot by slot; out of
 * line, so that the ring's copy needs no callee-saved registers.
 */
static noinline unsigned int batch_copy_slots(struct kbatch_batch *batch,
					      unsigned int first,
					      unsigned long *vals,
					      unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		vals[i] = *batch_slot(batch, first + i);
	return n;
}

/**
 * kbatch_batch_values() - copy values of a background or reducer batch
 * @batch: a bounded batch of a KBATCH_BACKGROUND or KBATCH_REDUCE queue
 * @first: index of the first value to copy
 * @vals: room for @n values
 * @n: how many to copy at most
 *
 * The bulk form of kbatch_batch_value(), for callbacks that hand the
 * batch on in arrays (kmem_cache_free_bulk(), a device's descriptor ring).
 *
 * Context: inside a batch callback.
 *
 * Return: the number copied: @n, or fewer past the end of the batch.
 */
unsigned int kbatch_batch_values(struct kbatch_batch *batch, unsigned int first,
				 unsigned long *vals, unsigned int n)
{
	if (WARN_ON_ONCE(!batch->bounded || batch->queue->mode == KBATCH_TASK) ||
	    first >= batch->len)
		return 0;
	n = min(n, batch->len - first);
	if (unlikely(batch->spill))
		return batch_copy_slots(batch, first, vals, n);
	kbatch_ring_copy_out(batch->ring, kbatch_ring_pos(batch->start, first),
			     vals, n);
	return n;
}
EXPORT_SYMBOL_GPL(kbatch_batch_values);

/**
 * kbatch_batch_span() - a run of a batch's values, in place
 * @batch: a bounded batch of a KBATCH_BACKGROUND or KBATCH_REDUCE queue
 * @first: index of the run's first value
 * @vals: set to where the value at @first is; the run's values follow it,
 *	in push order
 *
 * The form of kbatch_batch_values() that copies nothing.  A batch's values
 * lie in a ring of slots, so those from @first to the end of the batch
 * are one run or two (where the ring wraps); this gives the first, and a
 * call at @first plus its length gives the next.  The values may be read,
 * not written, until the callback returns.
 *
 * Context: inside a batch callback.
 *
 * Return: the number of values in the run: at least 1 if @first is below
 * kbatch_bound()'s result, 0 (and @vals untouched) if it is not.
 */
unsigned int kbatch_batch_span(struct kbatch_batch *batch, unsigned int first,
			       const unsigned long **vals)
{
	unsigned long pos = kbatch_ring_pos(batch->start, first);
	unsigned int n;

	if (WARN_ON_ONCE(!batch->bounded || batch->queue->mode == KBATCH_TASK) ||
	    first >= batch->len)
		return 0;
	n = batch->len - first;
	if (unlikely(batch->spill)) {
		*vals = kbatch_spill_slot(batch->spill, pos);
		return kbatch_spill_run(batch->spill, pos, n);
	}
	*vals = kbatch_ring_slot(batch->ring, pos);
	return kbatch_ring_run(batch->ring, pos, n);
}
EXPORT_SYMBOL_GPL(kbatch_batch_span);

/**
 * kbatch_complete() - give a task-mode task its result and wake its caller
 * @batch: a bounded batch of a KBATCH_TASK queue
 * @i: the task's index
 * @result: written into the caller's request
 *
 * Completing a task twice is harmless: the second call does nothing.
 * After this call the request must not be touched: its caller may have
 * returned.
 *
 * Context: inside a batch callback; any context the callback runs in.
 */
void kbatch_complete(struct kbatch_batch *batch, unsigned int i, long result)
{
	unsigned long *slot = batch_slot(batch, i);
	struct task_struct *waiter;
	struct kbatch_req *req;

	if (!slot || WARN_ON_ONCE(batch->queue->mode != KBATCH_TASK))
		return;
	req = (struct kbatch_req *)*slot;
	if (!req)
		return;
	*slot = 0;
	req->result = result;
	waiter = req->waiter;
	if (waiter == current) {
		/*
		 * Our own request: nobody sleeps on it and nothing needs
		 * keeping alive.  Release: pairs with wait_done()'s acquire.
		 */
		smp_store_release(&req->done, 1);
		return;
	}
	/*
	 * Once it sees done, the waiter returns (its request goes with its
	 * stack) and may even exit; a task_struct is freed only an RCU grace
	 * period after its task died, so the read-side section keeps @waiter
	 * valid for the wake-up.  Read it before publishing done.
	 */
	rcu_read_lock();
	/* Release: @result before @done; pairs with the acquire in wait_done(). */
	smp_store_release(&req->done, 1);
	wake_up_process(waiter);
	rcu_read_unlock();
}
EXPORT_SYMBOL_GPL(kbatch_complete);

/**
 * kbatch_batch_cpu() - the CPU whose ring the batch was pushed to
 * @batch: the batch
 *
 * Context: inside a batch callback.
 *
 * Return: the CPU number; for a batch of spilled values (a queue with
 * KBATCH_QUEUE_SPILL), the CPU whose spill lane took them.
 */
unsigned int kbatch_batch_cpu(struct kbatch_batch *batch)
{
	return batch->ring->cpu;
}
EXPORT_SYMBOL_GPL(kbatch_batch_cpu);

/* Run the queue's callback on @batch, and bound and complete what it left. */
static void batch_call(struct kbatch_batch *batch)
{
	struct kbatch_queue *queue = batch->queue;
	bool annotate = queue->mode != KBATCH_REDUCE;
	unsigned int i;

	/* Pairs with queue_might_wait(): see the top of this file. */
	if (annotate)
		lock_map_acquire(&queue->dep_map);
	queue->fn(batch, queue->data);
	if (annotate)
		lock_map_release(&queue->dep_map);
	kbatch_bound(batch);
	if (queue->mode == KBATCH_TASK) {
		for (i = 0; i < batch->len; i++)
			kbatch_complete(batch, i, -ECANCELED);
	}
}

/*
 * Run the batch that opened at @start, and free its slots.  A background
 * worker has bounded it already (@end valid); a leader lets the callback
 * bound it.
 */
static void run_batch(struct kbatch_queue *queue, struct kbatch_ring *ring,
		      unsigned long start, bool bounded, unsigned long end)
{
	struct kbatch_batch batch = {
		.queue = queue,
		.ring = ring,
		.start = start,
	};

	if (bounded)
		batch_set_end(&batch, end);
	batch_call(&batch);
	kbatch_ring_release(ring, batch.start, batch.end);
	trace_kbatch_batch_done(queue->name, ring->cpu, batch.len);
}

/*
 * Tell lockdep that the caller may now wait for any batch callback of
 * @queue (a follower for its leader, the shutdown for everyone), so that
 * a lock held here and taken by the callback, or a callback waiting for
 * its own queue, is reported even when this wait happens not to block.
 */
static void queue_might_wait(struct kbatch_queue *queue)
{
	if (queue->mode == KBATCH_REDUCE)
		return;
	lock_map_acquire(&queue->dep_map);
	lock_map_release(&queue->dep_map);
}

/* ---- task mode ---- */

/* Sleep until @ring has room; -ESHUTDOWN if the queue dies meanwhile. */
static int wait_for_room(struct kbatch_queue *queue, struct kbatch_ring *ring)
{
	DEFINE_WAIT(wait);
	int ret = 0;

	for (;;) {
		/*
		 * prepare_to_wait() queues us and sets our state with a full
		 * barrier, pairing with wq_has_sleeper() in
		 * kbatch_ring_release(): either it sees us, or we see the
		 * room it made.
		 */
		prepare_to_wait(&ring->room, &wait, TASK_KILLABLE);
		if (READ_ONCE(queue->dying)) {
			ret = -ESHUTDOWN;
			break;
		}
		if (!kbatch_ring_full(ring))
			break;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		schedule();
	}
	finish_wait(&ring->room, &wait);
	return ret;
}

static void wait_done(struct kbatch_req *req)
{
	/*
	 * Fast path, no barrier: a request the caller completed itself (it
	 * led the batch) or that is already done.  Acquire: as below.
	 */
	if (smp_load_acquire(&req->done))
		return;
	for (;;) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		/*
		 * Acquire: pairs with the release in kbatch_complete(), so
		 * req->result is read only after it was written.  A spurious
		 * wake-up finds done clear and sleeps again.
		 */
		if (smp_load_acquire(&req->done))
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
}

/*
 * Push as many of @reqs as the local ring takes, with preemption off so
 * that they land on one ring.  At most one of them can open a batch: once
 * we lead, nobody else bounds this ring's batch.
 */
static unsigned int push_many(struct kbatch_queue *queue, struct kbatch_req *reqs,
			      unsigned int n, struct kbatch_ring **ringp,
			      unsigned long *lead)
{
	struct kbatch_ring *ring;
	unsigned long task, old;
	unsigned int i;

	*lead = 0;
	preempt_disable();
	ring = local_ring(queue);
	for (i = 0; i < n; i++) {
		reqs[i].waiter = current;
		reqs[i].done = 0;
		task = (unsigned long)&reqs[i];
		/* No interrupt pushes to a task ring: preemption off is enough. */
		if (!kbatch_ring_push_shared(ring, &task, 1, &old))
			break;
		if (old & KB_CLOSED) {
			*lead = old;
			trace_kbatch_batch_open(queue->name, ring->cpu, 1);
		}
	}
	preempt_enable();
	*ringp = ring;
	return i;
}

/*
 * kbatch_submit_many() and kbatch_submit(): push @reqs (in ring-sized
 * parts if the ring fills), run the batch one of them opened, wait for the
 * rest.  *@led says whether this caller ran a batch.
 */
static int submit_array(struct kbatch_queue *queue, struct kbatch_req *reqs,
			unsigned int n, bool *led)
{
	struct kbatch_ring *ring;
	unsigned int done = 0, pushed, i;
	unsigned long lead;
	int ret = 0;

	might_sleep();
	*led = false;
	if (WARN_ON_ONCE(queue->mode != KBATCH_TASK))
		return -EINVAL;
	queue_might_wait(queue);
	if (!queue_enter(queue)) {
		trace_kbatch_refused(queue->name, raw_smp_processor_id(),
				     -ESHUTDOWN);
		return -ESHUTDOWN;
	}
	while (done < n) {
		pushed = push_many(queue, reqs + done, n - done, &ring, &lead);
		if (!pushed) {
			ret = wait_for_room(queue, ring);
			if (ret)
				break;
			continue;
		}
		if (lead) {
			run_batch(queue, ring, lead & ~KB_CLOSED, false, 0);
			*led = true;
		}
		for (i = 0; i < pushed; i++)
			wait_done(&reqs[done + i]);
		done += pushed;
	}
	if (ret && !done)
		trace_kbatch_refused(queue->name, raw_smp_processor_id(), ret);
	queue_leave(queue);
	return done ? done : ret;
}

/**
 * kbatch_submit_many() - run an array of tasks and wait for every result
 * @queue: a KBATCH_TASK queue
 * @reqs: the requests, in memory that stays put until this returns
 * @n: how many
 *
 * Pushes the requests on the local ring one after the other, so they join
 * one batch (two, if another leader's batch was open when we started);
 * leads the batch that one of them opened, if any; then waits for the
 * rest.  When the ring fills, the pushed part is run and waited for before
 * the next part is pushed.
 *
 * Context: process context, may sleep.
 *
 * Return: the number of requests completed, @n unless the queue began to
 * die or a fatal signal came while waiting for room, in which case the
 * first so many are complete and the rest were not run (their @result
 * untouched); or a negative errno (-ESHUTDOWN, -EINTR, -EINVAL) if none
 * was.  -EINVAL too for @n above INT_MAX, whose count would not fit.
 *
 * Must not be called from a batch callback of @queue, nor holding a lock
 * that the callback takes (see kbatch_submit()).
 */
int kbatch_submit_many(struct kbatch_queue *queue, struct kbatch_req *reqs,
		       unsigned int n)
{
	bool led;

	if (n > INT_MAX)
		return -EINVAL;
	return submit_array(queue, reqs, n, &led);
}
EXPORT_SYMBOL_GPL(kbatch_submit_many);

/**
 * kbatch_submit() - run a task in a batch and wait for its result
 * @queue: a KBATCH_TASK queue
 * @req: the request, on the caller's stack; @req->arg and @req->ptr are
 *	inputs, @req->result the output
 *
 * The task joins the open batch of the local CPU's ring, or opens one; the
 * caller that opens it leads it: it runs the queue's callback, which
 * completes every task of the batch, its own included.  A follower sleeps
 * until its task is completed.  If the ring is full the caller sleeps until
 * a batch frees room (killable: -EINTR, nothing pushed).
 *
 * Context: process context, may sleep.
 *
 * Return: KBATCH_LED or KBATCH_FOLLOWED, with @req->result set;
 * -ESHUTDOWN if the queue is being freed, -EINTR on a fatal signal while
 * waiting for room, -EINVAL if @queue is not a task queue.  On error
 * nothing was pushed.
 *
 * Must not be called from a batch callback of @queue, nor holding a lock
 * that the callback takes: a follower would wait for a leader that waits
 * for it.  Lockdep reports both (include/linux/kbatch.h says how).
 */
int kbatch_submit(struct kbatch_queue *queue, struct kbatch_req *req)
{
	bool led;
	int ret = submit_array(queue, req, 1, &led);

	if (ret < 0)
		return ret;
	return led ? KBATCH_LED : KBATCH_FOLLOWED;
}
EXPORT_SYMBOL_GPL(kbatch_submit);

/* ---- background mode and reducer ---- */

/*
 * The push of a background value that opened a batch: queue the ring's
 * work on this CPU (we are still on it: preemption is disabled).  Out of
 * line, so that the common push needs no callee-saved registers.
 */
static noinline void background_lead(struct kbatch_queue *queue,
				     struct kbatch_ring *ring,
				     unsigned long start, unsigned int n)
{
	trace_kbatch_batch_open(queue->name, ring->cpu, n);
	/* queue_work_on() orders this store before the work runs. */
	ring->bg_start = start;
	queue_work_on(ring->cpu, kbatch_wq, &ring->work);
}

/*
 * Spill @n values whose own ring is full into the nearest spill lanes
 * with room: those of the online CPUs after this one, in number order,
 * wrapping, then this CPU's own (ring.h says why).  In a section of its
 * own that sees the queue live, like every push, so that the shutdown's
 * grace period waits for it.  Any context but NMI.
 *
 * Return: the number accepted, the first so many of @vals (0: every lane
 * was full), or -ESHUTDOWN.
 */
static int spill_values(struct kbatch_queue *queue, const unsigned long *vals,
			unsigned int n)
{
	unsigned int self, cpu, got = 0, i;

	preempt_disable();
	if (!queue_live(queue)) {
		preempt_enable();
		return -ESHUTDOWN;
	}
	self = smp_processor_id();
	cpu = self;
	/*
	 * One lap, or at most nr_cpu_ids visits if this CPU is leaving
	 * cpu_online_mask (an interrupt while it goes offline), when the
	 * walk never comes back to it; its own lane comes last either way.
	 */
	for (i = 0; i < nr_cpu_ids && got < n; i++) {
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
		if (cpu == self || cpu >= nr_cpu_ids)
			break;
		got += kbatch_spill_push(kbatch_queue_ring(queue, cpu)->spill,
					 vals + got, n - got);
	}
	if (got < n)
		got += kbatch_spill_push(kbatch_queue_ring(queue, self)->spill,
					 vals + got, n - got);
	preempt_enable();
	return got;
}

/*
 * A post whose local ring took only @got of its @n values: spill the rest
 * if the queue spills, else leave them to the caller.
 *
 * Return: the number accepted in all, or -EAGAIN or -ESHUTDOWN if none.
 */
static int post_full(struct kbatch_queue *queue, const unsigned long *vals,
		     unsigned int n, unsigned int got)
{
	int spilled = 0;

	if (queue->flags & KBATCH_QUEUE_SPILL)
		spilled = spill_values(queue, vals + got, n - got);
	if (got || spilled > 0)
		return got + max(spilled, 0);
	if (!spilled)
		spilled = -EAGAIN;
	trace_kbatch_refused(queue->name, raw_smp_processor_id(), spilled);
	return spilled;
}

/*
 * The end of a post whose local ring took only @got of its @n values,
 * with preemption still disabled: lead if the part it took opened a
 * batch, then post_full().  Out of line, so that the fast path only
 * branches here.
 */
static noinline int post_short(struct kbatch_queue *queue,
			       const unsigned long *vals, unsigned int n,
			       unsigned int got, unsigned long old)
{
	struct kbatch_ring *ring = local_ring(queue);

	if (got && (old & KB_CLOSED))
		background_lead(queue, ring, old & ~KB_CLOSED, got);
	preempt_enable();
	return post_full(queue, vals, n, got);
}

/*
 * The end of a post that pushed @got of its @n values, preemption still
 * disabled: lead if it opened a batch, and re-enable preemption; a short
 * push goes to post_short().  Returns the post's result.
 */
static __always_inline int post_end(struct kbatch_queue *queue,
				    struct kbatch_ring *ring,
				    const unsigned long *vals, unsigned int n,
				    unsigned int got, unsigned long old)
{
	if (unlikely(got != n))
		return post_short(queue, vals, n, got, old);
	if (old & KB_CLOSED)
		background_lead(queue, ring, old & ~KB_CLOSED, got);
	preempt_enable();
	return got;
}

/*
 * A post whose ring's @gate was not 0 (ring.h), preemption disabled: not
 * a background queue, a dying one, or a ring whose batch is being bounded
 * from another CPU, where the push is shared: interrupts off and a full
 * atomic.  Out of line, as post_short().
 */
static noinline int post_gated(struct kbatch_queue *queue,
			       struct kbatch_ring *ring, int gate,
			       const unsigned long *vals, unsigned int n)
{
	unsigned long old, flags;
	unsigned int got;

	if (WARN_ON_ONCE(queue->mode != KBATCH_BACKGROUND)) {
		preempt_enable();
		return -EINVAL;
	}
	if (gate & KB_GATE_DYING) {
		preempt_enable();
		trace_kbatch_refused(queue->name, ring->cpu, -ESHUTDOWN);
		return -ESHUTDOWN;
	}
	local_irq_save(flags);
	got = kbatch_ring_push_shared(ring, vals, n, &old);
	local_irq_restore(flags);
	return post_end(queue, ring, vals, n, got, old);
}

/*
 * Enter a post's section: disable preemption, find the local ring and
 * read its @gate (ring.h) into *@gate.  Returns the ring.
 */
static __always_inline struct kbatch_ring *post_enter(struct kbatch_queue *queue,
						      int *gate)
{
	struct kbatch_ring *ring;

	preempt_disable();
	ring = local_ring(queue);
	/*
	 * Acquire: pairs with the release in kbatch_ring_bound_remote(): a
	 * remote bound that lowered @gate comes before our local RMW.
	 */
	*gate = atomic_read_acquire(&ring->gate);
	return ring;
}

/*
 * kbatch_post_many(): push up to @n values on the local ring with
 * preemption disabled, so that they land on one ring and the section is
 * one kbatch_queue_shutdown()'s grace period waits for.  Hardirq, softirq
 * and process-context pushes on this CPU share the ring with a CPU-local
 * reserve-then-fill while the ring's @gate reads 0; anything else goes to
 * post_gated().  kbatch_post() is this for one value, in a register.
 * Returns the number accepted or a negative errno.
 */
static int post_values(struct kbatch_queue *queue, const unsigned long *vals,
		       unsigned int n)
{
	unsigned int got;
	unsigned long old;
	int gate;
	struct kbatch_ring *ring = post_enter(queue, &gate);

	if (unlikely(gate))
		return post_gated(queue, ring, gate, vals, n);
	got = kbatch_ring_push_local(ring, vals, n, &old);
	return post_end(queue, ring, vals, n, got, old);
}

/*
 * Close a background batch before its callback runs: on the ring's CPU
 * with a CPU-local RMW (no push section can be in progress there while we
 * run), anywhere else through kbatch_ring_bound_remote() (ring.h).
 */
static unsigned long background_bound(struct kbatch_ring *ring)
{
	unsigned long end;

	preempt_disable();
	if (smp_processor_id() == ring->cpu) {
		end = kbatch_ring_bound_local(ring);
		preempt_enable();
		return end;
	}
	preempt_enable();
	return kbatch_ring_bound_remote(ring);
}

static void ring_work(struct work_struct *work)
{
	struct kbatch_ring *ring = container_of(work, struct kbatch_ring, work);
	unsigned long start = ring->bg_start;

	run_batch(ring->queue, ring, start, true, background_bound(ring));
}

/*
 * A spill lane's work: run the values filled from the lane's head on as
 * one batch, then free their slots.  A value filled meanwhile, or behind
 * a slot still being filled, queued the work again (ring.h).
 */
static void spill_work(struct work_struct *work)
{
	struct kbatch_spill *lane = container_of(work, struct kbatch_spill,
						 work);
	struct kbatch_batch batch = {
		.queue = lane->ring->queue,
		.ring = lane->ring,
		.spill = lane,
		.start = lane->head,
	};
	unsigned long end = kbatch_spill_bound(lane);

	if (end == batch.start)
		return;
	batch_set_end(&batch, end);
	batch_call(&batch);
	kbatch_spill_release(lane, end);
	trace_kbatch_batch_done(batch.queue->name, lane->ring->cpu, batch.len);
}

/* kbatch_post()'s post_gated(), with its result. */
static noinline int post_one_gated(struct kbatch_queue *queue,
				   struct kbatch_ring *ring, int gate,
				   unsigned long value)
{
	int ret = post_gated(queue, ring, gate, &value, 1);

	return ret < 0 ? ret : 0;
}

/* kbatch_post()'s post_short() for a full ring, with its result. */
static noinline int post_one_full(struct kbatch_queue *queue,
				  unsigned long value)
{
	int ret;

	preempt_enable();
	ret = post_full(queue, &value, 1, 0);
	return ret < 0 ? ret : 0;
}

/**
 * kbatch_post() - queue a value to be processed in the background
 * @queue: a KBATCH_BACKGROUND queue
 * @value: the task
 *
 * The value joins the open batch of the local CPU's ring; the push that
 * opens a batch queues the ring's work item on this CPU, which runs the
 * callback later.  Never waits; the push never disables interrupts unless
 * the ring's batch is being bounded from another CPU (CPU hotplug), and
 * queue_work_on() does, briefly, for the post that opens a batch.
 *
 * Context: any but NMI, hardirq included; on PREEMPT_RT too.
 *
 * Return: 0 if accepted; -EAGAIN if the local ring is full (and, with
 * KBATCH_QUEUE_SPILL, every spill lane too), -ESHUTDOWN if the queue is
 * being freed, -EINVAL if it is not a background queue.  On error nothing
 * was pushed.
 */
int kbatch_post(struct kbatch_queue *queue, unsigned long value)
{
	unsigned long old;
	int gate;
	struct kbatch_ring *ring = post_enter(queue, &gate);

	if (unlikely(gate))
		return post_one_gated(queue, ring, gate, value);
	if (unlikely(!kbatch_ring_push_local_one(ring, value, &old)))
		return post_one_full(queue, value);
	if (unlikely(old & KB_CLOSED))
		background_lead(queue, ring, old & ~KB_CLOSED, 1);
	preempt_enable();
	return 0;
}
EXPORT_SYMBOL_GPL(kbatch_post);

/**
 * kbatch_post_many() - queue several values with one confirmation
 * @queue: a KBATCH_BACKGROUND queue
 * @values: the tasks, in order
 * @n: how many
 *
 * As kbatch_post() for each value, but the values land on the local CPU's
 * ring together, in order, with one reservation for the lot; they join
 * the same batch.  If the ring has room for only some of them, the first
 * so many are accepted and the rest are left to the caller (partial
 * acceptance, as write() does): nothing past the returned count was
 * pushed.  With KBATCH_QUEUE_SPILL the values the ring has no room for
 * spill (kbatch_queue_alloc_flags()), in order, into one spill lane or
 * more, and so run in other batches than the ring's part.
 *
 * Context: any but NMI, hardirq included; on PREEMPT_RT too.  Preemption
 * stays disabled while the accepted values are copied (at most a ring's
 * worth).
 *
 * Return: the number of values accepted, from 1 to @n (0 if @n is 0);
 * -EAGAIN if the local ring is full (and, with KBATCH_QUEUE_SPILL, every
 * spill lane too; nothing accepted), -ESHUTDOWN if the queue is being
 * freed, -EINVAL if it is not a background queue.
 */
int kbatch_post_many(struct kbatch_queue *queue, const unsigned long *values,
		     unsigned int n)
{
	if (!n)
		return WARN_ON_ONCE(queue->mode != KBATCH_BACKGROUND) ? -EINVAL : 0;
	return post_values(queue, values, n);
}
EXPORT_SYMBOL_GPL(kbatch_post_many);

/*
 * A reduction refused with @ret: spill the value if the ring was full and
 * the queue spills (a lane's work folds it), else refuse.  Out of line,
 * as post_full().
 */
static noinline int reduce_full(struct kbatch_queue *queue,
				unsigned long value, int ret)
{
	if (ret == -EAGAIN && (queue->flags & KBATCH_QUEUE_SPILL)) {
		ret = spill_values(queue, &value, 1);
		if (ret > 0)
			return KBATCH_FOLLOWED;
		if (!ret)
			ret = -EAGAIN;
	}
	trace_kbatch_refused(queue->name, raw_smp_processor_id(), ret);
	return ret;
}

/**
 * kbatch_reduce() - add a value to a batch that its leader folds
 * @queue: a KBATCH_REDUCE queue
 * @value: the task
 *
 * The value joins the open batch of the local CPU's ring and a follower
 * returns at once; the caller that opens a batch runs the callback, which
 * folds the batch, before returning.  Never waits for another caller.
 *
 * Context: any context the queue's callback may run in (it runs in the
 * leader's): hardirq included if the callback never sleeps (on PREEMPT_RT
 * that excludes spinlock_t and the slab allocator too: see the header).
 *
 * Return: KBATCH_LED if this caller folded a batch (its own value
 * included), KBATCH_FOLLOWED if the current leader, or for a spilled
 * value a spill lane's worker (KBATCH_QUEUE_SPILL), will fold the value;
 * -EAGAIN if the local ring is full (and, with KBATCH_QUEUE_SPILL, every
 * spill lane too), -ESHUTDOWN if the queue is being freed, -EINVAL if it
 * is not a reducer queue.  On error nothing was pushed.
 */
int kbatch_reduce(struct kbatch_queue *queue, unsigned long value)
{
	struct kbatch_ring *ring;
	unsigned long flags, old;
	int ret = -ESHUTDOWN;

	if (WARN_ON_ONCE(queue->mode != KBATCH_REDUCE))
		return -EINVAL;
	/*
	 * A reducer leader bounds from wherever it runs by then, so its
	 * ring's pushes are always shared (ring.h): interrupts off for the
	 * store and the cmpxchg that confirms it.  A push that opens a batch
	 * takes an in-flight count for its leader in the same section.
	 */
	local_irq_save(flags);
	ring = local_ring(queue);
	if (queue_live(queue)) {
		ret = kbatch_ring_push_shared(ring, &value, 1, &old) ?
			KBATCH_FOLLOWED : -EAGAIN;
		if (ret == KBATCH_FOLLOWED && (old & KB_CLOSED)) {
			ret = KBATCH_LED;
			trace_kbatch_batch_open(queue->name, ring->cpu, 1);
			queue_inflight_inc(queue);
		}
	}
	local_irq_restore(flags);
	if (unlikely(ret < 0))
		return reduce_full(queue, value, ret);
	if (ret == KBATCH_LED) {
		run_batch(queue, ring, old & ~KB_CLOSED, false, 0);
		queue_leave(queue);
	}
	return ret;
}
EXPORT_SYMBOL_GPL(kbatch_reduce);

/* ---- allocation and teardown ---- */

/* Free a queue, or what kbatch_queue_alloc_pos_flags() got of it before failing. */
static void queue_destroy(struct kbatch_queue *queue)
{
	unsigned int cpu;

	if (queue->rings) {
		for_each_possible_cpu(cpu)
			kbatch_ring_free(kbatch_queue_ring(queue, cpu));
	}
	free_percpu(queue->rings);
	free_percpu(queue->inflight);
	lockdep_unregister_key(&queue->work_key);
	lockdep_unregister_key(&queue->dep_key);
	kfree(queue);
}

/* The queue's lockdep map, named after it: "kbatch_batch:<name>". */
static void queue_lockdep_init(struct kbatch_queue *queue)
{
	snprintf(queue->dep_name, sizeof(queue->dep_name), "kbatch_batch:%s",
		 queue->name);
	lockdep_register_key(&queue->dep_key);
	lockdep_register_key(&queue->work_key);
	lockdep_init_map(&queue->dep_map, queue->dep_name, &queue->dep_key, 0);
}

/*
 * Give the rings' works a lockdep class of the queue's own (@work_key),
 * not the one INIT_WORK() gives every ring of every queue: a background
 * callback may then free another background queue, whose flush_work()
 * lockdep would otherwise take for a work flushing itself.
 */
static void queue_lockdep_init_work(struct kbatch_queue *queue,
				    struct work_struct *work)
{
#ifdef CONFIG_LOCKDEP
	lockdep_init_map(&work->lockdep_map, "(work_completion)kbatch_ring",
			 &queue->work_key, 0);
#endif
}

static int queue_alloc_rings(struct kbatch_queue *queue, unsigned long first)
{
	struct kbatch_ring *ring;
	unsigned int cpu;

	queue->rings = alloc_percpu(struct kbatch_ring *);
	if (!queue->rings)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		ring = kbatch_ring_alloc(queue, cpu, queue->size, first);
		if (!ring)
			return -ENOMEM;
		*per_cpu_ptr(queue->rings, cpu) = ring;
		INIT_WORK(&ring->work, ring_work);
		queue_lockdep_init_work(queue, &ring->work);
		/*
		 * Background rings push locally: their worker bounds, and
		 * their gate opens (ring.h).
		 */
		if (queue->mode == KBATCH_BACKGROUND)
			atomic_set(&ring->gate, 0);
		if (queue->flags & KBATCH_QUEUE_SPILL) {
			if (kbatch_spill_alloc(ring, spill_work))
				return -ENOMEM;
			queue_lockdep_init_work(queue, &ring->spill->work);
		}
	}
	return 0;
}

/**
 * kbatch_queue_alloc_pos_flags() - kbatch_queue_alloc_flags() with a chosen
 *	first position
 * @name: see kbatch_queue_alloc()
 * @mode: see kbatch_queue_alloc()
 * @ring_size: see kbatch_queue_alloc()
 * @fn: see kbatch_queue_alloc()
 * @data: see kbatch_queue_alloc()
 * @flags: see kbatch_queue_alloc_flags()
 * @first: position of every ring's (and spill lane's) first push; tests
 *	start near the wrap
 *
 * Context: may sleep.
 *
 * Return: see kbatch_queue_alloc_flags().
 */
struct kbatch_queue *kbatch_queue_alloc_pos_flags(const char *name,
						  enum kbatch_mode mode,
						  unsigned int ring_size,
						  kbatch_batch_fn fn, void *data,
						  unsigned int flags,
						  unsigned long first)
{
	struct kbatch_queue *queue;
	int ret;

	might_sleep();
	if (!ring_size)
		ring_size = KBATCH_RING_DEFAULT;
	if (!fn || mode > KBATCH_REDUCE || !is_power_of_2(ring_size) ||
	    ring_size < KBATCH_RING_MIN || ring_size > KBATCH_RING_MAX ||
	    (flags & ~KBATCH_QUEUE_SPILL) ||
	    ((flags & KBATCH_QUEUE_SPILL) && mode == KBATCH_TASK))
		return ERR_PTR(-EINVAL);

	queue = kzalloc(sizeof(*queue), GFP_KERNEL);
	if (!queue)
		return ERR_PTR(-ENOMEM);
	queue->flags = flags;
	queue->mode = mode;
	queue->fn = fn;
	queue->data = data;
	queue->size = ring_size;
	queue->timeout = KBATCH_FREE_TIMEOUT;
	strscpy(queue->name, name ?: "queue", sizeof(queue->name));
	queue_lockdep_init(queue);
	queue->inflight = alloc_percpu(unsigned long);
	ret = queue->inflight ? queue_alloc_rings(queue, first) : -ENOMEM;
	if (ret) {
		queue_destroy(queue);
		return ERR_PTR(ret);
	}
	kbatch_queue_debugfs_init(queue);
	return queue;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_queue_alloc_pos_flags);

/**
 * kbatch_queue_alloc() - create a batch queue
 * @name: a name for debugfs (/sys/kernel/debug/kbatch/queue-<name>-<n>)
 * @mode: the front end the queue serves
 * @ring_size: slots per CPU, a power of two from KBATCH_RING_MIN to
 *	KBATCH_RING_MAX; 0 for KBATCH_RING_DEFAULT
 * @fn: the batch callback
 * @data: passed to @fn
 *
 * Allocates one ring per possible CPU on that CPU's node.
 *
 * Context: process context, may sleep.
 *
 * Return: the queue, or ERR_PTR(-EINVAL) for a bad argument,
 * ERR_PTR(-ENOMEM).
 */
struct kbatch_queue *kbatch_queue_alloc(const char *name, enum kbatch_mode mode,
					unsigned int ring_size,
					kbatch_batch_fn fn, void *data)
{
	return kbatch_queue_alloc_pos_flags(name, mode, ring_size, fn, data, 0,
					    0);
}
EXPORT_SYMBOL_GPL(kbatch_queue_alloc);

/**
 * kbatch_queue_alloc_flags() - create a batch queue with options
 * @name: see kbatch_queue_alloc()
 * @mode: see kbatch_queue_alloc()
 * @ring_size: see kbatch_queue_alloc()
 * @fn: see kbatch_queue_alloc()
 * @data: see kbatch_queue_alloc()
 * @flags: 0, or KBATCH_QUEUE_SPILL
 *
 * kbatch_queue_alloc() with @flags.  KBATCH_QUEUE_SPILL (background and
 * reducer queues only) gives each ring a spill lane of the ring's size:
 * a kbatch_post(), kbatch_post_many() or kbatch_reduce() that finds its
 * own CPU's ring full pushes into the lane of the next online CPU that
 * has room instead of failing with -EAGAIN, and that lane's worker runs
 * the spilled values as batches of their own, in process context
 * (kbatch's workqueue), on the lane's CPU (kbatch_batch_cpu()), and may
 * run at the same time as a batch of that CPU's ring (each has its own
 * work item): a callback must not assume one batch per CPU at a time.
 * The local fast path is unchanged; only a push that finds its ring full
 * pays for the spill (full atomics, and a work item queued on the lane's
 * CPU).
 *
 * Context: process context, may sleep.
 *
 * Return: the queue, or ERR_PTR(-EINVAL) for a bad argument (an unknown
 * flag, or KBATCH_QUEUE_SPILL on a KBATCH_TASK queue: its callers sleep
 * for room instead), ERR_PTR(-ENOMEM).
 */
struct kbatch_queue *kbatch_queue_alloc_flags(const char *name,
					      enum kbatch_mode mode,
					      unsigned int ring_size,
					      kbatch_batch_fn fn, void *data,
					      unsigned int flags)
{
	return kbatch_queue_alloc_pos_flags(name, mode, ring_size, fn, data,
					    flags, 0);
}
EXPORT_SYMBOL_GPL(kbatch_queue_alloc_flags);

/*
 * Callers still inside.  Only after the grace period of a shutdown: the
 * counts can then only fall, so a sum read CPU by CPU is never below the
 * true one, and never zero before every caller has left.
 */
static unsigned long queue_inflight(struct kbatch_queue *queue)
{
	unsigned long sum = 0;
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*per_cpu_ptr(queue->inflight, cpu));
	return sum;
}

/* Wait, bounded by @end, for every caller to leave; false if some never did. */
static bool queue_wait_callers(struct kbatch_queue *queue, unsigned long end)
{
	while (queue_inflight(queue)) {
		if (time_after(jiffies, end)) {
			pr_warn("queue %s: %lu callers still inside after %u ms\n",
				queue->name, queue_inflight(queue),
				jiffies_to_msecs(queue->timeout));
			return false;
		}
		usleep_range(100, 200);
	}
	return true;
}

/*
 * Wait, bounded by @end, until @work (of @cpu's ring) is neither queued
 * nor running; false if it still was.  The flush_work() of an idle work
 * returns at once, and is there for its lockdep annotation.
 */
static bool queue_wait_one_work(struct kbatch_queue *queue, unsigned int cpu,
				struct work_struct *work, unsigned long end)
{
	while (work_busy(work)) {
		if (time_after(jiffies, end)) {
			pr_warn("queue %s: batch callback on CPU %u still running after %u ms\n",
				queue->name, cpu,
				jiffies_to_msecs(queue->timeout));
			return false;
		}
		usleep_range(100, 200);
	}
	flush_work(work);
	return true;
}

/*
 * Wait, bounded by @end, until no work of @queue is queued or running;
 * false if one still was.  Background queues queue their rings' works,
 * spilling queues their lanes' works.  No new work is queued once the
 * callers have left (the grace period of the shutdown: a spill queues its
 * lane's work inside its push section), so a work found idle stays idle,
 * and the last run of a lane's work began after the lane's last fill.
 */
static bool queue_wait_work(struct kbatch_queue *queue, unsigned long end)
{
	struct kbatch_ring *ring;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		ring = kbatch_queue_ring(queue, cpu);
		if (queue->mode == KBATCH_BACKGROUND) {
			if (!queue_wait_one_work(queue, cpu, &ring->work, end))
				return false;
			WARN_ON_ONCE(!kbatch_ring_empty(ring));
		}
		if (ring->spill) {
			if (!queue_wait_one_work(queue, cpu, &ring->spill->work,
						 end))
				return false;
			WARN_ON_ONCE(!kbatch_spill_empty(ring->spill));
		}
	}
	return true;
}

/**
 * kbatch_queue_shutdown() - stop a queue, losing no task
 * @queue: the queue
 *
 * May be called while other CPUs push, lead and wait: new calls fail with
 * -ESHUTDOWN, callers waiting for room give up with -ESHUTDOWN, callers
 * already inside finish (every pushed task is run and completed), and
 * every background batch still in a ring is run.  When it returns no CPU
 * touches the rings, but @queue itself stays valid: calls still made on
 * it return -ESHUTDOWN, until kbatch_queue_free().  Calling it again does
 * nothing.
 *
 * Context: process context, may sleep.  Not from a batch callback of
 * @queue, and not concurrently with itself.
 *
 * Every wait is bounded: KBATCH_FREE_TIMEOUT (20 s) for the whole
 * shutdown.  It acquires the queue's lockdep map, so lockdep reports a
 * shutdown from a batch callback of @queue, or while holding a lock that
 * the callback takes.
 *
 * Return: true once every caller has left and every background batch has
 * run; false, with a warning, if a caller was still inside or a
 * background callback still running after KBATCH_FREE_TIMEOUT (a batch
 * callback that never returns).  Calling it again then waits again.
 */
bool kbatch_queue_shutdown(struct kbatch_queue *queue)
{
	unsigned long end;
	unsigned int cpu;

	might_sleep();
	if (queue->shut)
		return true;
	queue_might_wait(queue);
	if (!queue->dying) {
		WRITE_ONCE(queue->dying, true);
		for_each_possible_cpu(cpu)
			atomic_or(KB_GATE_DYING,
				  &kbatch_queue_ring(queue, cpu)->gate);
		/*
		 * Every section that saw @dying clear (a background post: its
		 * gate without KB_GATE_DYING) has ended, and the counts taken
		 * in them are visible; new ones see it set.
		 */
		synchronize_rcu();
	}
	end = jiffies + queue->timeout;
	for_each_possible_cpu(cpu)
		wake_up_all(&kbatch_queue_ring(queue, cpu)->room);
	if (!queue_wait_callers(queue, end) || !queue_wait_work(queue, end)) {
		pr_warn("queue %s: shutdown gave up; the queue will be leaked\n",
			queue->name);
		return false;
	}
	queue->shut = true;
	return true;
}
EXPORT_SYMBOL_GPL(kbatch_queue_shutdown);

/**
 * kbatch_queue_set_timeout() - change how long a shutdown waits, for KUnit
 * @queue: the queue
 * @timeout: in jiffies, for the whole of kbatch_queue_shutdown()
 *
 * Context: any; before kbatch_queue_shutdown().
 */
void kbatch_queue_set_timeout(struct kbatch_queue *queue, unsigned long timeout)
{
	queue->timeout = timeout;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_queue_set_timeout);

/**
 * kbatch_queue_free() - shut a queue down and free it
 * @queue: the queue, or NULL
 *
 * kbatch_queue_shutdown(), then the memory is freed.  The caller must make
 * sure nobody calls into @queue once this has returned true.  If the
 * shutdown timed out, the queue is not freed (with the shutdown's
 * warning) rather than freed under a callback still running: a callback
 * may still run, so the caller must keep what callbacks use (@data, its
 * module) until a later kbatch_queue_free() of the queue returns true.
 *
 * Context: process context, may sleep.  Not from a batch callback of
 * @queue.
 *
 * Return: true if the queue is freed (or @queue is NULL or an error
 * pointer); false if its shutdown timed out.
 */
bool kbatch_queue_free(struct kbatch_queue *queue)
{
	might_sleep();
	if (IS_ERR_OR_NULL(queue))
		return true;
	if (!kbatch_queue_shutdown(queue))
		return false;
	kbatch_queue_debugfs_exit(queue);
	queue_destroy(queue);
	return true;
}
EXPORT_SYMBOL_GPL(kbatch_queue_free);
