// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: allocation failure in kbatch's in-kernel allocators, the way
 * syzkaller tests it.  For n = 1, 2, ... the n-th fault-injectable call
 * of this task fails (current->fail_nth, what /proc/self/fail-nth sets),
 * then the allocator runs: it must return a clean ERR_PTR(-ENOMEM), or an
 * object that works, and leave nothing behind (kmemleak checks that at
 * the end of the VM run).  The loop ends when an allocation returns
 * without having reached its n-th call: every call has been failed once.
 *
 * Needs failslab armed for GFP_KERNEL: /sys/kernel/debug/failslab/
 * ignore-gfp-wait = N (scripts/vm/init does it before KUnit runs).  A case
 * where no allocation ever failed fails: the test would prove nothing.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/kbatch.h>
#include <linux/sched.h>

#include "kbatch_internal.h"

#ifdef CONFIG_FAULT_INJECTION

/* Most injection points one allocation may have; a loop past it is a bug. */
#define AF_MAX_CALLS	10000

/* Fail the @n-th injectable call of this task from now on; 0 disarms. */
static void af_arm(unsigned int n)
{
	WRITE_ONCE(current->fail_nth, n);
}

/* Disarm; whether the armed failure was injected. */
static bool af_disarm(void)
{
	unsigned int left = READ_ONCE(current->fail_nth);

	WRITE_ONCE(current->fail_nth, 0);
	return left == 0;
}

/*
 * What one case drives: @alloc makes the object (or an ERR_PTR) as the
 * case's @ctx says; @use checks that a survivor works, then frees it.
 */
struct af_subject {
	void *(*alloc)(struct kunit *test, void *ctx);
	void (*use)(struct kunit *test, void *obj, void *ctx);
};

/*
 * @subject's allocation with each of its fault-injectable calls failing
 * in turn: a clean -ENOMEM with something injected, or an object that
 * works, every time; and at least one call must have failed.
 */
static void af_each(struct kunit *test, const struct af_subject *subject,
		    void *ctx)
{
	unsigned int n, failed = 0;
	bool injected;
	void *obj;

	for (n = 1; n <= AF_MAX_CALLS; n++) {
		af_arm(n);
		obj = subject->alloc(test, ctx);
		injected = af_disarm();
		if (IS_ERR(obj)) {
			KUNIT_ASSERT_EQ_MSG(test, PTR_ERR(obj), -ENOMEM,
					    "call %u failed", n);
			KUNIT_ASSERT_TRUE_MSG(test, injected,
					      "failed with nothing injected");
			failed++;
			continue;
		}
		subject->use(test, obj, ctx);
		if (!injected)
			break;
	}
	KUNIT_EXPECT_LT_MSG(test, n, AF_MAX_CALLS, "the loop never ended");
	KUNIT_EXPECT_GT_MSG(test, failed, 0u,
			    "no allocation failed: is failslab armed (ignore-gfp-wait = N)?");
	kunit_info(test, "%u injectable calls, %u of them fatal\n", n - 1, failed);
}

static void af_fn(struct kbatch_batch *batch, void *data)
{
	unsigned int i, n = kbatch_bound(batch);
	atomic_t *seen = data;

	for (i = 0; i < n; i++) {
		if (kbatch_batch_value(batch, i) == 42)
			atomic_inc(seen);
	}
}

static void af_task_fn(struct kbatch_batch *batch, void *data)
{
	unsigned int i, n = kbatch_bound(batch);

	for (i = 0; i < n; i++)
		kbatch_complete(batch, i, kbatch_batch_req(batch, i)->arg + 1);
}

/* A queue that survived an injected failure works like any other. */
static void af_use_queue(struct kunit *test, struct kbatch_queue *queue,
			 enum kbatch_mode mode, atomic_t *seen)
{
	struct kbatch_req req = { .arg = 41 };

	switch (mode) {
	case KBATCH_TASK:
		KUNIT_EXPECT_EQ(test, kbatch_submit(queue, &req), KBATCH_LED);
		KUNIT_EXPECT_EQ(test, req.result, 42l);
		break;
	case KBATCH_BACKGROUND:
		KUNIT_EXPECT_EQ(test, kbatch_post(queue, 42), 0);
		KUNIT_EXPECT_TRUE(test, kbatch_queue_shutdown(queue));
		KUNIT_EXPECT_EQ(test, atomic_read(seen), 1);
		break;
	case KBATCH_REDUCE:
		KUNIT_EXPECT_EQ(test, kbatch_reduce(queue, 42), KBATCH_LED);
		KUNIT_EXPECT_EQ(test, atomic_read(seen), 1);
		break;
	}
}

static const enum kbatch_mode af_modes[] = {
	KBATCH_TASK, KBATCH_BACKGROUND, KBATCH_REDUCE,
};

static void af_mode_desc(const enum kbatch_mode *mode, char *desc)
{
	static const char * const names[] = { "task", "background", "reduce" };

	strscpy(desc, names[*mode], KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(af_mode, af_modes, af_mode_desc);

/* The queue test's context: its mode, and what its callback saw. */
struct af_queue_ctx {
	enum kbatch_mode mode;
	atomic_t seen;
};

static void *af_queue_alloc(struct kunit *test, void *ctx)
{
	struct af_queue_ctx *q = ctx;

	atomic_set(&q->seen, 0);
	return kbatch_queue_alloc("alloc-fail", q->mode, 64,
				  q->mode == KBATCH_TASK ? af_task_fn : af_fn,
				  &q->seen);
}

static void af_queue_use(struct kunit *test, void *obj, void *ctx)
{
	struct af_queue_ctx *q = ctx;

	af_use_queue(test, obj, q->mode, &q->seen);
	kbatch_queue_free(obj);
}

/*
 * kbatch_queue_alloc() with each of its allocations failing in turn (the
 * queue, its per-CPU counts, the ring table, each CPU's ring and ends,
 * debugfs): -ENOMEM or a working queue, every time.
 */
static void alloc_fail_queue(struct kunit *test)
{
	static const struct af_subject queue = {
		.alloc = af_queue_alloc, .use = af_queue_use,
	};
	struct af_queue_ctx ctx = {
		.mode = *(const enum kbatch_mode *)test->param_value,
	};

	af_each(test, &queue, &ctx);
}

static void *af_spill_queue_alloc(struct kunit *test, void *ctx)
{
	struct af_queue_ctx *q = ctx;

	atomic_set(&q->seen, 0);
	return kbatch_queue_alloc_flags("alloc-fail-spill", q->mode, 64, af_fn,
					&q->seen, KBATCH_QUEUE_SPILL);
}

/*
 * kbatch_queue_alloc_flags(KBATCH_QUEUE_SPILL) with each allocation
 * failing in turn, each CPU's spill lane and its marks included: -ENOMEM
 * or a working queue, every time.
 */
static void alloc_fail_spill_queue(struct kunit *test)
{
	static const struct af_subject queue = {
		.alloc = af_spill_queue_alloc, .use = af_queue_use,
	};
	struct af_queue_ctx ctx = { .mode = KBATCH_BACKGROUND };

	af_each(test, &queue, &ctx);
}

struct af_item {
	struct kbatch_pollable pi;
	struct completion polled;
};

static enum kbatch_poll_ret af_poll(struct kbatch_pollable *pi)
{
	complete(&container_of(pi, struct af_item, pi)->polled);
	return KBATCH_POLL_DONE;
}

/* A poller that survived an injected failure polls what it is woken for. */
static void af_use_poller(struct kunit *test, struct kbatch_poller *poller)
{
	struct af_item item = {};

	init_completion(&item.polled);
	KUNIT_ASSERT_EQ(test, kbatch_poller_add(poller, &item.pi, af_poll), 0);
	kbatch_wake(&item.pi);
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&item.polled,
							    10 * HZ));
	kbatch_poller_cancel(&item.pi);
}

static const unsigned int af_capacities[] = { 1, 100, 5000 };

static void af_capacity_desc(const unsigned int *capacity, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "capacity %u", *capacity);
}

KUNIT_ARRAY_PARAM(af_capacity, af_capacities, af_capacity_desc);

static void *af_poller_alloc(struct kunit *test, void *ctx)
{
	return kbatch_poller_alloc("alloc-fail", *(unsigned int *)ctx, 0);
}

static void af_poller_use(struct kunit *test, void *obj, void *ctx)
{
	af_use_poller(test, obj);
	kbatch_poller_free(obj);
}

/*
 * kbatch_poller_alloc() with each of its allocations failing in turn (the
 * poller, its slots, every level of both wake sets, debugfs).
 */
static void alloc_fail_poller(struct kunit *test)
{
	static const struct af_subject poller = {
		.alloc = af_poller_alloc, .use = af_poller_use,
	};
	unsigned int capacity = *(const unsigned int *)test->param_value;

	af_each(test, &poller, &capacity);
}

static struct kunit_case alloc_fail_cases[] = {
	KUNIT_CASE_PARAM(alloc_fail_queue, af_mode_gen_params),
	KUNIT_CASE(alloc_fail_spill_queue),
	KUNIT_CASE_PARAM(alloc_fail_poller, af_capacity_gen_params),
	{}
};

static struct kunit_suite alloc_fail_suite = {
	.name = "kbatch_alloc_fail",
	.test_cases = alloc_fail_cases,
};

kunit_test_suite(alloc_fail_suite);

#endif /* CONFIG_FAULT_INJECTION */
