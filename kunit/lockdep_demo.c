// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_lockdep_demo.ko: shows that lockdep reports the three deadlocks
 * include/linux/kbatch.h forbids, without hanging.  Loaded only by the
 * VM plans lockdep-recursive, lockdep-circular and lockdep-poller
 * (scripts/vm/init), each in a boot of its own: lockdep turns itself off
 * after its first report, and a report fails any other run
 * (scripts/results.py expects exactly the one named below in these
 * logs, and nothing else).
 *
 * shape=recursive: a task-mode callback submits to its own queue.  It does
 *	so after bounding, so the nested submit leads a batch of its own and
 *	nothing hangs; before bounding it could have joined its own batch
 *	and waited for itself.  Expected: "possible recursive locking
 *	detected" on kbatch_batch:lockdep-demo.
 * shape=circular: a submitter holds kbatch_demo_lock, which the callback
 *	takes.  The two halves are played in two submits, neither of which
 *	can hang: one holds the lock while the callback leaves it alone, the
 *	other has the callback take it while the submitter holds nothing.
 *	Expected: "possible circular locking dependency detected" between
 *	kbatch_demo_lock and kbatch_batch:lockdep-demo.
 * shape=poller: a poll takes kbatch_demo_lock, and then a canceller holds
 *	it while it cancels the item.  Neither can hang: the poll has
 *	returned, or is about to, before the cancel.  Expected: "possible
 *	circular locking dependency detected" between kbatch_demo_lock and
 *	kbatch_poll:lockdep-demo.
 */
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/kbatch.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/string.h>

static char *shape = "recursive";
module_param(shape, charp, 0444);
MODULE_PARM_DESC(shape, "recursive, circular or poller");

static DEFINE_MUTEX(kbatch_demo_lock);

struct demo {
	struct kbatch_queue *queue;
	bool nest;
	bool take_lock;
	long nested_result;
};

static struct demo demo;

static void demo_fn(struct kbatch_batch *batch, void *data)
{
	struct kbatch_req nested = { .arg = 7 };
	struct demo *d = data;
	unsigned int i, n;

	if (d->take_lock) {
		mutex_lock(&kbatch_demo_lock);
		mutex_unlock(&kbatch_demo_lock);
	}
	n = kbatch_bound(batch);
	for (i = 0; i < n; i++)
		kbatch_complete(batch, i, kbatch_batch_req(batch, i)->arg);
	if (d->nest) {
		d->nest = false;
		/* Bounded already: this leads a new batch and returns. */
		if (kbatch_submit(d->queue, &nested) >= 0)
			d->nested_result = nested.result;
	}
}

static int demo_submit(void)
{
	struct kbatch_req req = { .arg = 1 };
	int ret = kbatch_submit(demo.queue, &req);

	return ret < 0 ? ret : 0;
}

static int demo_recursive(void)
{
	int ret;

	demo.nest = true;
	ret = demo_submit();
	if (!ret && demo.nested_result != 7)
		ret = -EIO;
	return ret;
}

static int demo_circular(void)
{
	int ret;

	mutex_lock(&kbatch_demo_lock);
	ret = demo_submit();
	mutex_unlock(&kbatch_demo_lock);
	if (ret)
		return ret;
	demo.take_lock = true;
	return demo_submit();
}

struct demo_item {
	struct kbatch_pollable item;
	struct completion polled;
};

static enum kbatch_poll_ret demo_poll(struct kbatch_pollable *item)
{
	struct demo_item *d = container_of(item, struct demo_item, item);

	mutex_lock(&kbatch_demo_lock);
	mutex_unlock(&kbatch_demo_lock);
	complete(&d->polled);
	return KBATCH_POLL_PENDING;
}

static int demo_poller(void)
{
	struct kbatch_poller *poller = kbatch_poller_alloc("lockdep-demo", 1, 0);
	struct demo_item d = { };
	int ret;

	if (IS_ERR(poller))
		return PTR_ERR(poller);
	init_completion(&d.polled);
	ret = kbatch_poller_add(poller, &d.item, demo_poll);
	if (!ret) {
		kbatch_wake(&d.item);
		if (!wait_for_completion_timeout(&d.polled, 10 * HZ))
			ret = -ETIMEDOUT;
		mutex_lock(&kbatch_demo_lock);
		kbatch_poller_cancel(&d.item);
		mutex_unlock(&kbatch_demo_lock);
	}
	if (!kbatch_poller_free(poller))
		ret = -EBUSY;
	return ret;
}

/* The shapes of a task-mode queue. */
static int demo_queue(void)
{
	int ret;

	demo.queue = kbatch_queue_alloc("lockdep-demo", KBATCH_TASK, 0,
					demo_fn, &demo);
	if (IS_ERR(demo.queue))
		return PTR_ERR(demo.queue);
	if (!strcmp(shape, "recursive"))
		ret = demo_recursive();
	else if (!strcmp(shape, "circular"))
		ret = demo_circular();
	else
		ret = -EINVAL;
	kbatch_queue_free(demo.queue);
	return ret;
}

static int __init demo_init(void)
{
	int ret = !strcmp(shape, "poller") ? demo_poller() : demo_queue();

	if (!ret)
		pr_info("kbatch_lockdep_demo: shape %s played\n", shape);
	return ret;
}

static void __exit demo_exit(void)
{
}

module_init(demo_init);
module_exit(demo_exit);

MODULE_DESCRIPTION("kbatch: the three deadlocks lockdep must report");
MODULE_LICENSE("GPL");
