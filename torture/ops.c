// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_torture: ops "torture.0" and "torture.1", registered and
 * unregistered in a loop by a kthread while user space (the VM's
 * submitters, torture/kbatch_torture_user.c) submits them.
 *
 * Each entry's result is args[0] * 3 + 7 (the user program checks it).
 * The handler checks that it never runs once kbatch_unregister_op() of
 * its op has returned; after it returns, no handler call may be running.
 */
#include <linux/atomic.h>
#include <linux/err.h>
#include <linux/kbatch.h>
#include <linux/kthread.h>
#include <linux/sched.h>

#include "torture.h"

/*
 * struct kt_op - one op and what the handler checks
 * @op: the op
 * @live: set before kbatch_register_op(), cleared after
 *	kbatch_unregister_op() returned
 * @registered: the kthread's own view
 * @running: handler calls running
 */
struct kt_op {
	struct kbatch_op op;
	bool live;
	bool registered;
	atomic_t running;
};

static void kt_op_run0(struct kbatch_op_batch *b);
static void kt_op_run1(struct kbatch_op_batch *b);

static struct kt_op kt_ops[] = {
	{ .op = { .name = "torture.0", .run = kt_op_run0 } },
	{ .op = { .name = "torture.1", .run = kt_op_run1 } },
};

static struct task_struct *kt_ops_task;

static void kt_op_run(struct kt_op *o, struct kbatch_op_batch *b)
{
	unsigned int i, n = kbatch_op_batch_len(b);

	atomic_inc(&o->running);
	if (!READ_ONCE(o->live))
		kt_violation("op %s ran after kbatch_unregister_op() returned",
			     o->op.name);
	if (!n)
		kt_violation("op %s: handler called with no entry", o->op.name);
	for (i = 0; i < n; i++)
		kbatch_op_set_result(b, i, kbatch_op_arg(b, i, 0) * 3 + 7);
	kt_count(KT_OPRUN, n);
	kt_maybe_sleep(200);
	atomic_dec(&o->running);
}

static void kt_op_run0(struct kbatch_op_batch *b)
{
	kt_op_run(&kt_ops[0], b);
}

static void kt_op_run1(struct kbatch_op_batch *b)
{
	kt_op_run(&kt_ops[1], b);
}

static void kt_op_unregister(struct kt_op *o)
{
	kbatch_unregister_op(&o->op);
	/*
	 * After the wait in kbatch_unregister_op() no handler runs; one that
	 * starts later is a bug the handler reports when it finds @live
	 * clear.
	 */
	WRITE_ONCE(o->live, false);
	o->registered = false;
	if (atomic_read(&o->running))
		kt_violation("op %s still running after kbatch_unregister_op()",
			     o->op.name);
	kt_count(KT_OPUNREG, 1);
}

static void kt_op_register(struct kt_op *o)
{
	int ret;

	/*
	 * kbatch_register_op() publishes the op with a release
	 * (rcu_assign_pointer(), paired with the rcu_dereference() of a
	 * submit's lookup): a handler that runs sees @live set.
	 */
	WRITE_ONCE(o->live, true);
	ret = kbatch_register_op(&o->op);
	if (ret < 0) {
		WRITE_ONCE(o->live, false);
		if (ret == -ENOMEM)
			kt_count(KT_ENOMEM, 1);
		else
			kt_violation("kbatch_register_op(%s): %d", o->op.name, ret);
		return;
	}
	o->registered = true;
	kt_count(KT_OPREG, 1);
}

static int kt_ops_thread(void *unused)
{
	struct rnd_state rs;
	struct kt_op *o;

	kt_rand_init(&rs, 0x0b5);
	while (!kthread_should_stop()) {
		o = &kt_ops[kt_rand(&rs, ARRAY_SIZE(kt_ops))];
		if (o->registered)
			kt_op_unregister(o);
		else
			kt_op_register(o);
		schedule_timeout_interruptible(1 + kt_rand(&rs, HZ / 10));
	}
	return 0;
}

/**
 * kt_ops_start() - register both ops and start the kthread that cycles them
 *
 * Context: process context, may sleep.
 *
 * Return: 0 or a negative errno.
 */
int kt_ops_start(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kt_ops); i++)
		kt_op_register(&kt_ops[i]);
	kt_ops_task = kthread_run(kt_ops_thread, NULL, "kt_ops");
	if (IS_ERR(kt_ops_task)) {
		int ret = PTR_ERR(kt_ops_task);

		kt_ops_task = NULL;
		return ret;
	}
	return 0;
}

/**
 * kt_ops_stop() - stop the kthread and unregister what is registered
 *
 * Context: process context, may sleep.
 */
void kt_ops_stop(void)
{
	unsigned int i;

	if (kt_ops_task)
		kthread_stop(kt_ops_task);
	kt_ops_task = NULL;
	for (i = 0; i < ARRAY_SIZE(kt_ops); i++)
		if (kt_ops[i].registered)
			kt_op_unregister(&kt_ops[i]);
}
