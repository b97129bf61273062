// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_lockdep_demo.ko: shows that lockdep reports the two deadlocks
 * include/linux/kbatch.h forbids, without hanging.  Loaded only by the
 * VM plans lockdep-recursive and lockdep-circular (scripts/vm/init), each
 * in a boot of its own: lockdep turns itself off after its first report,
 * and a report fails any other run (scripts/results.py expects exactly
 * the one named below in these two logs, and nothing else).
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
 */
#include <linux/err.h>
#include <linux/kbatch.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/string.h>

static char *shape = "recursive";
module_param(shape, charp, 0444);
MODULE_PARM_DESC(shape, "recursive or circular");

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

static int __init demo_init(void)
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
	if (!ret)
		pr_info("kbatch_lockdep_demo: shape %s played\n", shape);
	return ret;
}

static void __exit demo_exit(void)
{
}

module_init(demo_init);
module_exit(demo_exit);

MODULE_DESCRIPTION("kbatch: the two deadlocks lockdep must report");
MODULE_LICENSE("GPL");
