// SPDX-License-Identifier: GPL-2.0
/*
 * Batches across open files, for ops that ask for them (kbatch_op.shared;
 * what it exposes is told in include/linux/kbatch.h).  This is kbatch's
 * task mode used as a driver would use it: each submitter pushes its run
 * as one request into the op's per-CPU queue; the leader of a batch waits
 * for the op's lock (the resource) while the batch keeps growing, then
 * bounds it and hands every run in it to the handler in one call.
 */
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dev.h"

/* Slots per CPU of a shared op's queue: each holds one submitter's run. */
#define SHARED_RING_SIZE	64

/**
 * struct shared_req - one submitter's run, on its stack while it waits
 * @req: the task-mode request
 * @b: the run
 */
struct shared_req {
	struct kbatch_req req;
	struct kbatch_op_batch *b;
};

static struct kbatch_op_batch *batch_run(struct kbatch_batch *batch,
					 unsigned int i)
{
	return container_of(kbatch_batch_req(batch, i), struct shared_req,
			    req)->b;
}

/*
 * Run the @n runs of @batch as one: gather their entries into @sqes and
 * @cqes (room for @total), call the handler once, scatter the results.
 */
static void run_merged(struct kbatch_op *op, struct kbatch_batch *batch,
		       unsigned int n, struct kbatch_sqe *sqes,
		       struct kbatch_cqe *cqes, unsigned int total)
{
	struct kbatch_op_batch m = {
		.op = op, .sqes = sqes, .cqes = cqes, .len = total,
	};
	struct kbatch_op_batch *b;
	unsigned int i, at = 0;

	for (i = 0; i < n; at += b->len, i++) {
		b = batch_run(batch, i);
		memcpy(sqes + at, b->sqes, b->len * sizeof(*sqes));
		memcpy(cqes + at, b->cqes, b->len * sizeof(*cqes));
	}
	op->run(&m);
	for (i = 0, at = 0; i < n; at += b->len, i++) {
		b = batch_run(batch, i);
		memcpy(b->cqes, cqes + at, b->len * sizeof(*cqes));
	}
}

/* The op's batch callback, in the leader's context. */
static void shared_batch(struct kbatch_batch *batch, void *data)
{
	struct kbatch_op *op = data;
	unsigned int n, i, total = 0;
	struct kbatch_sqe *sqes;

	mutex_lock(&op->lock);		/* the batch grows while we wait */
	n = kbatch_bound(batch);
	for (i = 0; i < n; i++)
		total += batch_run(batch, i)->len;
	sqes = n > 1 ? kvmalloc_array(total, sizeof(*sqes) +
				      sizeof(struct kbatch_cqe),
				      GFP_KERNEL_ACCOUNT) : NULL;
	if (sqes) {
		run_merged(op, batch, n, sqes,
			   (struct kbatch_cqe *)(sqes + total), total);
		kvfree(sqes);
	} else {
		/* One run, or no memory to merge: one call per run. */
		for (i = 0; i < n; i++)
			op->run(batch_run(batch, i));
	}
	mutex_unlock(&op->lock);
	for (i = 0; i < n; i++)
		kbatch_complete(batch, i, 0);
}

/**
 * kbatch_shared_run() - run @b through its op's queue, batched with the
 *	runs of other submitters on this CPU
 * @b: the run, of an op with @shared set, a reference held
 *
 * Context: process context, may sleep (uninterruptibly, for the leader).
 */
void kbatch_shared_run(struct kbatch_op_batch *b)
{
	struct shared_req r = { .b = b };
	int ret = kbatch_submit(b->op->queue, &r.req);

	if (ret < 0 || r.req.result < 0)
		kbatch_op_fail(b, ret < 0 ? ret : r.req.result);
}

/**
 * kbatch_shared_init() - give a shared op its queue; nothing for others
 * @op: the op being registered
 *
 * Context: process context, may sleep.
 *
 * Return: 0 or a negative errno.
 */
int kbatch_shared_init(struct kbatch_op *op)
{
	op->queue = NULL;
	if (!op->shared)
		return 0;
	mutex_init(&op->lock);
	op->queue = kbatch_queue_alloc(op->name, KBATCH_TASK, SHARED_RING_SIZE,
				       shared_batch, op);
	if (IS_ERR(op->queue)) {
		int ret = PTR_ERR(op->queue);

		op->queue = NULL;
		mutex_destroy(&op->lock);
		return ret;
	}
	return 0;
}

/**
 * kbatch_shared_exit() - free a shared op's queue; no run may be in it
 * @op: the op, unregistered, with no reference left
 *
 * Its owner frees @op (and may unload the op's code) next, so a queue
 * whose callback is stuck is not left behind: the free is tried again,
 * without limit, each try warning after its timeout, as
 * kbatch_poller_cancel() waits for a poll.
 *
 * Context: process context, may sleep.
 */
void kbatch_shared_exit(struct kbatch_op *op)
{
	if (!op->queue)
		return;
	while (!kbatch_queue_free(op->queue))
		pr_warn("shared op %s: its queue is still busy; trying again\n",
			op->name);
	mutex_destroy(&op->lock);
}
