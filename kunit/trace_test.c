// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: kbatch's tracepoints fire where they say, with the fields they
 * say.  Probes are attached directly (register_trace_*()), so the suite
 * needs tracepoints, not tracefs.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <trace/events/kbatch.h>

#include "kbatch_internal.h"
#include "dev/dev.h"

/* What the probes saw, for the queue or poller named @name. */
struct seen {
	const char *name;
	unsigned int cpu;
	unsigned int open, bound, done, bound_len, done_len;
	unsigned int refused;
	int refused_err;
	unsigned int cycles, polled;
	unsigned int submits, submit_entries, submit_how;
	unsigned int op_runs, op_len;
	char op_name[KBATCH_TRACE_NAME];
};

static void probe_open(void *data, const char *queue, unsigned int cpu,
		       unsigned int len)
{
	struct seen *s = data;

	if (!strcmp(queue, s->name)) {
		s->open++;
		s->cpu = cpu;
	}
}

static void probe_bound(void *data, const char *queue, unsigned int cpu,
			unsigned int len)
{
	struct seen *s = data;

	if (!strcmp(queue, s->name)) {
		s->bound++;
		s->bound_len = len;
	}
}

static void probe_done(void *data, const char *queue, unsigned int cpu,
		       unsigned int len)
{
	struct seen *s = data;

	if (!strcmp(queue, s->name)) {
		s->done++;
		s->done_len = len;
	}
}

static void probe_refused(void *data, const char *queue, unsigned int cpu,
			  int err)
{
	struct seen *s = data;

	if (!strcmp(queue, s->name)) {
		s->refused++;
		s->refused_err = err;
	}
}

static void probe_cycle(void *data, const char *poller, unsigned int polled,
			unsigned int slices)
{
	struct seen *s = data;

	if (!strcmp(poller, s->name)) {
		s->cycles++;
		s->polled += polled;
	}
}

static void probe_submit(void *data, unsigned int entries, unsigned int how)
{
	struct seen *s = data;

	s->submits++;
	s->submit_entries = entries;
	s->submit_how = how;
}

static void probe_op_run(void *data, const char *op, u32 opcode,
			 unsigned int len)
{
	struct seen *s = data;

	s->op_runs++;
	s->op_len = len;
	strscpy(s->op_name, op, sizeof(s->op_name));
}

/* Attach every probe to @s; detach with probes_off(). */
static int probes_on(struct seen *s)
{
	int ret;

	ret = register_trace_kbatch_batch_open(probe_open, s);
	ret = ret ?: register_trace_kbatch_batch_bound(probe_bound, s);
	ret = ret ?: register_trace_kbatch_batch_done(probe_done, s);
	ret = ret ?: register_trace_kbatch_refused(probe_refused, s);
	ret = ret ?: register_trace_kbatch_poller_cycle(probe_cycle, s);
	ret = ret ?: register_trace_kbatch_dev_submit(probe_submit, s);
	ret = ret ?: register_trace_kbatch_op_run(probe_op_run, s);
	return ret;
}

static void probes_off(struct seen *s)
{
	unregister_trace_kbatch_batch_open(probe_open, s);
	unregister_trace_kbatch_batch_bound(probe_bound, s);
	unregister_trace_kbatch_batch_done(probe_done, s);
	unregister_trace_kbatch_refused(probe_refused, s);
	unregister_trace_kbatch_poller_cycle(probe_cycle, s);
	unregister_trace_kbatch_dev_submit(probe_submit, s);
	unregister_trace_kbatch_op_run(probe_op_run, s);
	/* No probe runs on @s once this returns. */
	tracepoint_synchronize_unregister();
}

static void fold(struct kbatch_batch *batch, void *data)
{
	kbatch_bound(batch);
}

/* A reducer's batch: opened, bounded and done, on the caller's CPU. */
static void batch_events(struct kunit *test)
{
	struct seen s = { .name = "trace-reduce", .cpu = ~0u };
	struct kbatch_queue *q;
	unsigned int cpu;
	int ret;

	q = kbatch_queue_alloc(s.name, KBATCH_REDUCE, 4, fold, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(q));
	KUNIT_ASSERT_EQ(test, probes_on(&s), 0);
	migrate_disable();
	cpu = raw_smp_processor_id();
	ret = kbatch_reduce(q, 7);
	migrate_enable();
	probes_off(&s);
	KUNIT_EXPECT_EQ(test, s.cpu, cpu);
	KUNIT_EXPECT_EQ(test, ret, KBATCH_LED);
	KUNIT_EXPECT_EQ(test, s.open, 1u);
	KUNIT_EXPECT_EQ(test, s.bound, 1u);
	KUNIT_EXPECT_EQ(test, s.bound_len, 1u);
	KUNIT_EXPECT_EQ(test, s.done, 1u);
	KUNIT_EXPECT_EQ(test, s.done_len, 1u);
	kbatch_queue_free(q);
}

static void never_runs(struct kbatch_batch *batch, void *data)
{
}

/* A post to a shut-down queue is refused with -ESHUTDOWN, and traced. */
static void refused_event(struct kunit *test)
{
	struct seen s = { .name = "trace-refused" };
	struct kbatch_queue *q;

	q = kbatch_queue_alloc(s.name, KBATCH_BACKGROUND, 4, never_runs, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(q));
	kbatch_queue_shutdown(q);
	KUNIT_ASSERT_EQ(test, probes_on(&s), 0);
	KUNIT_EXPECT_EQ(test, kbatch_post(q, 1), -ESHUTDOWN);
	probes_off(&s);
	KUNIT_EXPECT_EQ(test, s.refused, 1u);
	KUNIT_EXPECT_EQ(test, s.refused_err, -ESHUTDOWN);
	kbatch_queue_free(q);
}

struct traced_item {
	struct kbatch_pollable item;
	struct completion polled;
};

static enum kbatch_poll_ret traced_poll(struct kbatch_pollable *item)
{
	struct traced_item *t = container_of(item, struct traced_item, item);

	complete(&t->polled);
	return KBATCH_POLL_DONE;
}

/* A poller cycle that polls one item says so. */
static void poller_cycle_event(struct kunit *test)
{
	struct seen s = { .name = "trace-poller" };
	struct traced_item t = { };
	struct kbatch_poller *p;

	init_completion(&t.polled);
	p = kbatch_poller_alloc(s.name, 8, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(p));
	KUNIT_ASSERT_EQ(test, probes_on(&s), 0);
	KUNIT_ASSERT_EQ(test, kbatch_poller_add(p, &t.item, traced_poll), 0);
	kbatch_wake(&t.item);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&t.polled, 5 * HZ),
			0ul);
	kbatch_poller_free(p);		/* the cycle has ended by now */
	probes_off(&s);
	KUNIT_EXPECT_EQ(test, s.cycles, 1u);
	KUNIT_EXPECT_EQ(test, s.polled, 1u);
}

/* A /dev/kbatch submit and its runs: entries, mode, op and run length. */
static void dev_events(struct kunit *test)
{
	struct kbatch_sqe sqes[3] = {
		{ .opcode = KBATCH_OP_ECHO }, { .opcode = KBATCH_OP_ECHO },
		{ .opcode = KBATCH_OP_SUM },
	};
	struct kbatch_cqe cqes[3];
	struct seen s = { .name = "" };

	KUNIT_ASSERT_EQ(test, probes_on(&s), 0);
	KUNIT_EXPECT_EQ(test, kbatch_entries_run(NULL, sqes, cqes, 3), 3u);
	probes_off(&s);
	KUNIT_EXPECT_EQ(test, s.submits, 1u);
	KUNIT_EXPECT_EQ(test, s.submit_entries, 3u);
	KUNIT_EXPECT_EQ(test, s.submit_how, (unsigned int)KBATCH_TRACE_SYNC);
	KUNIT_EXPECT_EQ(test, s.op_runs, 2u);
	KUNIT_EXPECT_STREQ(test, s.op_name, "sum");
	KUNIT_EXPECT_EQ(test, s.op_len, 1u);
}

static struct kunit_case trace_cases[] = {
	KUNIT_CASE(batch_events),
	KUNIT_CASE(refused_event),
	KUNIT_CASE(poller_cycle_event),
	KUNIT_CASE(dev_events),
	{}
};

static struct kunit_suite trace_suite = {
	.name = "kbatch_trace",
	.test_cases = trace_cases,
};

kunit_test_suite(trace_suite);
