/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by kbatch's KUnit suites: kthreads bound to a CPU, run to
 * the end of their function and joined.
 */
#ifndef _KBATCH_TEST_H
#define _KBATCH_TEST_H

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

struct kbt_thread {
	int (*fn)(void *data);
	void *data;
	int ret;
	struct completion done;
	struct task_struct *task;
};

static inline int kbt_main(void *arg)
{
	struct kbt_thread *t = arg;

	t->ret = t->fn(t->data);
	complete(&t->done);
	return 0;
}

/* kbt_start()'s @cpu for a kthread that may run on any CPU. */
#define KBT_ANY_CPU (-1)

/*
 * Start @fn(@data) in a kthread bound to @cpu, or free to run on any CPU if
 * @cpu is KBT_ANY_CPU; NULL on failure.  @fn runs to its end even if
 * kbt_join() is called first (kthread_stop() alone would skip a thread that
 * has not started yet).  Process context; may sleep.
 */
static inline struct kbt_thread *kbt_start(int (*fn)(void *), void *data, int cpu)
{
	struct kbt_thread *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return NULL;
	t->fn = fn;
	t->data = data;
	init_completion(&t->done);
	t->task = kthread_create(kbt_main, t, "kbatch_test/%d", cpu);
	if (IS_ERR(t->task)) {
		kfree(t);
		return NULL;
	}
	if (cpu != KBT_ANY_CPU)
		kthread_bind(t->task, cpu);
	get_task_struct(t->task);
	wake_up_process(t->task);
	return t;
}

/* Wait for @fn to return and the thread to exit; @fn's return value. */
static inline int kbt_join(struct kbt_thread *t)
{
	int ret;

	if (!t)
		return -ECHILD;
	wait_for_completion(&t->done);
	kthread_stop(t->task);
	put_task_struct(t->task);
	ret = t->ret;
	kfree(t);
	return ret;
}

#endif /* _KBATCH_TEST_H */
