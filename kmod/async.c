// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous submit: the submit reserves room for all its completions in
 * the open file's completion queue (-EBUSY, nothing accepted, if it would
 * overflow), then a worker of kbatch's submit workqueue, on the
 * submitter's CPU, runs the entries through the submit queue and posts
 * their completions to the file.
 *
 * Each submission in flight holds a reference on the file context, so a
 * file released meanwhile stays allocated until its last submission is
 * done; its completions then go nowhere (kbatch_file_post() drops them).
 * Module unload destroys the workqueue, which runs every queued submission
 * to its end, before the submit queue goes.
 */
#include <linux/workqueue.h>

#include "kbatch_internal.h"

static struct workqueue_struct *async_wq;

static void async_work(struct work_struct *work)
{
	struct kbatch_sub *sub = container_of(work, struct kbatch_sub, work);
	struct kbatch_file *file = sub->file;
	unsigned int done, i, n;

	done = kbatch_sub_run(sub);
	/*
	 * Accepted entries are never dropped: those that could not run say
	 * so.  Deferred entries are posted later by whoever took them over.
	 */
	for (i = 0, n = 0; i < sub->nr; i++) {
		if (i >= done)
			sub->cqes[i].result = -ECANCELED;
		else if (sub->reqs[i].result == KBATCH_REQ_DEFERRED)
			continue;
		sub->cqes[n++] = sub->cqes[i];
	}
	kbatch_file_post(file, sub->cqes, n);
	kbatch_sub_free(sub);
	kbatch_file_put(file);
}

/**
 * kbatch_async_submit() - accept a prepared submission for the background
 * @file: the open file its completions go to
 * @sub: the submission; on success it belongs to the worker
 *
 * Context: process context.
 *
 * Return: 0 if every entry was accepted; -EBUSY, with nothing accepted, if
 * the file's completion queue lacks room for all of them.
 */
int kbatch_async_submit(struct kbatch_file *file, struct kbatch_sub *sub)
{
	int ret = kbatch_file_reserve(file, sub->nr);

	if (ret)
		return ret;
	refcount_inc(&file->ref);
	sub->file = file;
	INIT_WORK(&sub->work, async_work);
	/*
	 * queue_work() is a full barrier before the work can run: the worker
	 * sees @sub as we filled it (pairs with the workqueue's own locking).
	 */
	queue_work(async_wq, &sub->work);
	return 0;
}

/**
 * kbatch_async_init() - create the submit workqueue
 *
 * Context: process context, may sleep.
 *
 * Return: 0 or -ENOMEM.
 */
int kbatch_async_init(void)
{
	async_wq = alloc_workqueue("kbatch_submit", 0, 0);
	return async_wq ? 0 : -ENOMEM;
}

/**
 * kbatch_async_exit() - run every queued submission, then free the workqueue
 *
 * Context: process context, may sleep.
 */
void kbatch_async_exit(void)
{
	destroy_workqueue(async_wq);
}
