// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_testops: ops that let the user-space tests see from outside what
 * kbatch does with their entries.  It uses only kbatch's exported op API.
 *
 * Ops (look them up by name with KBATCH_IOC_LOOKUP):
 *   test.agg    result: bits 48..62 the number of entries in the handler
 *               call that ran the entry, bits 0..47 the sum of args[0] of
 *               those entries modulo 2^48, the same for each of them.  A
 *               submitter that knows its own runs can tell whether any
 *               other entry was in the call.
 *   test.shared test.agg with kbatch_op.shared set: calls may hold the
 *               entries of several open files (lookup reports
 *               KBATCH_LOOKUP_SHARED), batched through kbatch's queue.
 *   test.sleep  sleeps args[0] microseconds (at most TESTOPS_SLEEP_MAX_US;
 *               -EINVAL above), then result 0.  With args[1] == 0 the
 *               sleep is killable: at a fatal signal the entry whose sleep
 *               was cut and every later killable entry of the call
 *               complete with -EINTR at once.  With args[1] == 1 the entry
 *               sleeps uninterruptibly and ignores fatal signals, so that
 *               only the submit layer can stop a submit of many such runs
 *               early, between runs.  Other values of args[1]: -EINVAL.
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/kbatch.h>

/* The longest test.sleep entry, in microseconds. */
#define TESTOPS_SLEEP_MAX_US	1000000
#define TESTOPS_AGG_LEN_SHIFT	48
#define TESTOPS_AGG_SUM_MASK	(BIT_ULL(TESTOPS_AGG_LEN_SHIFT) - 1)

static void testops_agg_run(struct kbatch_op_batch *b)
{
	unsigned int i, n = kbatch_op_batch_len(b);
	u64 sum = 0;
	s64 result;

	for (i = 0; i < n; i++)
		sum += kbatch_op_arg(b, i, 0);
	result = ((s64)n << TESTOPS_AGG_LEN_SHIFT) |
		 (sum & TESTOPS_AGG_SUM_MASK);
	for (i = 0; i < n; i++)
		kbatch_op_set_result(b, i, result);
}

/*
 * Sleep @us microseconds in @state (TASK_KILLABLE or TASK_UNINTERRUPTIBLE).
 * 0 when the time is up, -EINTR when a fatal signal cut a killable sleep.
 * Process context; sleeps.
 */
static int testops_sleep_us(u64 us, unsigned int state)
{
	ktime_t end = ktime_add_us(ktime_get(), us);

	for (;;) {
		set_current_state(state);
		if ((state & TASK_WAKEKILL) && fatal_signal_pending(current)) {
			__set_current_state(TASK_RUNNING);
			return -EINTR;
		}
		/* 0 once @end has passed; -EINTR on an early wake-up. */
		if (!schedule_hrtimeout(&end, HRTIMER_MODE_ABS))
			return 0;
	}
}

/* One entry; @killed: a fatal signal already cut a killable sleep. */
static s64 testops_sleep_one(u64 us, u64 mode, bool *killed)
{
	s64 ret;

	if (us > TESTOPS_SLEEP_MAX_US || mode > 1)
		return -EINVAL;
	if (mode)
		return testops_sleep_us(us, TASK_UNINTERRUPTIBLE);
	if (*killed)
		return -EINTR;
	ret = testops_sleep_us(us, TASK_KILLABLE);
	*killed = ret == -EINTR;
	return ret;
}

static void testops_sleep_run(struct kbatch_op_batch *b)
{
	unsigned int i, n = kbatch_op_batch_len(b);
	bool killed = false;

	for (i = 0; i < n; i++)
		kbatch_op_set_result(b, i,
				     testops_sleep_one(kbatch_op_arg(b, i, 0),
						       kbatch_op_arg(b, i, 1),
						       &killed));
}

static struct kbatch_op testops_ops[] = {
	{ .name = "test.agg", .run = testops_agg_run },
	{ .name = "test.shared", .run = testops_agg_run, .shared = true },
	{ .name = "test.sleep", .run = testops_sleep_run },
};

static int __init testops_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(testops_ops); i++) {
		ret = kbatch_register_op(&testops_ops[i]);
		if (ret < 0) {
			kbatch_unregister_ops(testops_ops, i);
			return ret;
		}
	}
	return 0;
}

static void __exit testops_exit(void)
{
	kbatch_unregister_ops(testops_ops, ARRAY_SIZE(testops_ops));
}

module_init(testops_init);
module_exit(testops_exit);

MODULE_DESCRIPTION("kbatch test ops: an aggregating op and a killable sleep");
MODULE_AUTHOR("The kbatch developers");
MODULE_LICENSE("GPL");
