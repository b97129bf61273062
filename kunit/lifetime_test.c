// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the rendezvous at teardown and CPU hotplug.  Queues shut down
 * while every CPU pushes in each mode, a batch callback sleeping through
 * a free, how long a free takes, and CPUs going offline and online under
 * traffic.  Nothing accepted may be lost and every caller must return.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/ktime.h>

#include "kbatch_internal.h"
#include "kbatch_test.h"

struct load {
	struct kbatch_queue *queue;
	atomic_long_t accepted;
	atomic_long_t processed;
	atomic_t refused;
	atomic_t wrong;
	atomic_t batches;
	bool stop;
};

static void load_fn(struct kbatch_batch *batch, void *data)
{
	struct load *l = data;
	struct kbatch_req *req;
	unsigned int i, n;

	if (atomic_inc_return(&l->batches) % 16 == 0)
		usleep_range(100, 200);
	n = kbatch_bound(batch);
	for (i = 0; i < n; i++) {
		if (l->queue->mode == KBATCH_TASK) {
			req = kbatch_batch_req(batch, i);
			kbatch_complete(batch, i, req->arg + 1);
		}
	}
	atomic_long_add(n, &l->processed);
}

/* One call in @l's mode; 1 if accepted, 0 if refused for good, else -1. */
static int load_one(struct load *l, unsigned long i)
{
	struct kbatch_req reqs[4];
	int ret, k;

	switch (l->queue->mode) {
	case KBATCH_TASK:
		if (i % 2) {
			reqs[0].arg = i;
			ret = kbatch_submit(l->queue, &reqs[0]);
			if (ret >= 0 && reqs[0].result != i + 1)
				atomic_inc(&l->wrong);
			ret = ret < 0 ? ret : 1;
			break;
		}
		for (k = 0; k < 4; k++)
			reqs[k].arg = i + k;
		ret = kbatch_submit_many(l->queue, reqs, 4);
		for (k = 0; k < ret; k++) {
			if (reqs[k].result != i + k + 1)
				atomic_inc(&l->wrong);
		}
		break;
	case KBATCH_BACKGROUND:
		ret = kbatch_post(l->queue, i);
		ret = ret ? ret : 1;
		break;
	default:
		ret = kbatch_reduce(l->queue, i);
		ret = ret < 0 ? ret : 1;
		break;
	}
	if (ret > 0)
		atomic_long_add(ret, &l->accepted);
	if (ret == -ESHUTDOWN)
		return 0;
	if (ret == -EAGAIN) {
		usleep_range(10, 20);
		return -1;
	}
	return ret < 0 ? -1 : 1;
}

/* Push until the queue refuses for good (or @l->stop). */
static int load_thread(void *data)
{
	struct load *l = data;
	unsigned long i;

	for (i = 0; !READ_ONCE(l->stop); i++) {
		if (!load_one(l, i)) {
			atomic_inc(&l->refused);
			break;
		}
		if (i % 64 == 0)
			cond_resched();
	}
	return 0;
}

static struct kbt_thread **load_start(struct kunit *test, struct load *l,
				      unsigned int *n, bool bound)
{
	struct kbt_thread **t = kunit_kcalloc(test, 2 * nr_cpu_ids, sizeof(*t),
					      GFP_KERNEL);
	unsigned int cpu;

	KUNIT_ASSERT_NOT_NULL(test, t);
	*n = 0;
	for_each_online_cpu(cpu) {
		int where = bound ? cpu : KBT_ANY_CPU;

		t[(*n)++] = kbt_start(load_thread, l, where);
		t[(*n)++] = kbt_start(load_thread, l, where);
	}
	return t;
}

static const enum kbatch_mode modes[] = {
	KBATCH_TASK, KBATCH_BACKGROUND, KBATCH_REDUCE,
};

static void mode_desc(const enum kbatch_mode *mode, char *desc)
{
	static const char * const names[] = { "task", "background", "reducer" };

	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", names[*mode]);
}

KUNIT_ARRAY_PARAM(mode, modes, mode_desc);

/*
 * Shut a queue down while two threads per CPU push into it: every thread
 * returns, refused for good; accepted == processed; then free it.
 */
static void lifetime_shutdown_under_load(struct kunit *test)
{
	enum kbatch_mode mode = *(const enum kbatch_mode *)test->param_value;
	struct load *l = kunit_kzalloc(test, sizeof(*l), GFP_KERNEL);
	struct kbt_thread **t;
	unsigned int n, i;
	u64 ns;

	KUNIT_ASSERT_NOT_NULL(test, l);
	l->queue = kbatch_queue_alloc("shutdown", mode, 64, load_fn, l);
	KUNIT_ASSERT_FALSE(test, IS_ERR(l->queue));
	t = load_start(test, l, &n, true);
	msleep(100);

	ns = ktime_get_ns();
	KUNIT_EXPECT_TRUE(test, kbatch_queue_shutdown(l->queue));
	ns = ktime_get_ns() - ns;
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, kbt_join(t[i]), 0);
	/* Still valid after the shutdown, and refusing. */
	KUNIT_EXPECT_EQ(test, load_one(l, 0), 0);
	kbatch_queue_free(l->queue);

	KUNIT_EXPECT_EQ(test, atomic_read(&l->refused), (int)n);
	KUNIT_EXPECT_EQ(test, atomic_read(&l->wrong), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&l->accepted), 0l);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&l->processed),
			atomic_long_read(&l->accepted));
	KUNIT_EXPECT_LT(test, ns, 1000ull * NSEC_PER_MSEC);
	kunit_info(test, "shutdown under load: %llu us, %ld tasks\n",
		   ns / 1000, atomic_long_read(&l->accepted));
}

struct sleeper {
	struct completion entered;
	atomic_t calls;
	long result;
	int ret;
	struct kbatch_queue *queue;
};

static void sleeping_fn(struct kbatch_batch *batch, void *data)
{
	struct sleeper *s = data;
	unsigned int i, n;

	if (atomic_inc_return(&s->calls) == 1) {
		complete(&s->entered);
		msleep(200);
	}
	n = kbatch_bound(batch);
	for (i = 0; i < n; i++)
		kbatch_complete(batch, i, kbatch_batch_req(batch, i)->arg * 2);
}

static int sleeper_thread(void *data)
{
	struct sleeper *s = data;
	struct kbatch_req req = { .arg = 21 };

	s->ret = kbatch_submit(s->queue, &req);
	s->result = req.result;
	return 0;
}

/* A free waits for a batch callback that sleeps, which still completes. */
static void lifetime_free_waits_for_sleeping_callback(struct kunit *test)
{
	struct sleeper *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	struct kbt_thread *t;
	u64 ns;

	KUNIT_ASSERT_NOT_NULL(test, s);
	init_completion(&s->entered);
	s->queue = kbatch_queue_alloc("sleeper", KBATCH_TASK, 0, sleeping_fn, s);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s->queue));
	t = kbt_start(sleeper_thread, s, cpumask_first(cpu_online_mask));
	wait_for_completion(&s->entered);

	ns = ktime_get_ns();
	kbatch_queue_free(s->queue);
	ns = ktime_get_ns() - ns;
	KUNIT_EXPECT_EQ(test, kbt_join(t), 0);
	KUNIT_EXPECT_EQ(test, s->ret, KBATCH_LED);
	KUNIT_EXPECT_EQ(test, s->result, 42l);
	/* It really waited for the callback's 200 ms sleep. */
	KUNIT_EXPECT_GE(test, ns, 100ull * NSEC_PER_MSEC);
}

/* An idle queue frees in well under a second (an RCU grace period). */
static void lifetime_free_idle_is_quick(struct kunit *test)
{
	struct kbatch_queue *queue;
	u64 ns;

	queue = kbatch_queue_alloc("idle", KBATCH_BACKGROUND, 0, load_fn, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	ns = ktime_get_ns();
	kbatch_queue_free(queue);
	ns = ktime_get_ns() - ns;
	KUNIT_EXPECT_LT(test, ns, 1000ull * NSEC_PER_MSEC);
	kunit_info(test, "free of an idle queue: %llu us\n", ns / 1000);
}

static unsigned long ring_pushes(struct kbatch_queue *queue, unsigned int cpu)
{
	return kbatch_ring_pushes(kbatch_queue_ring(queue, cpu));
}

/* Whether @cpu's ring of @queue takes a push within five seconds. */
static bool ring_gets_pushes(struct kbatch_queue *queue, unsigned int cpu)
{
	unsigned long before = ring_pushes(queue, cpu);
	unsigned int i;

	for (i = 0; i < 500 && ring_pushes(queue, cpu) == before; i++)
		usleep_range(10000, 20000);
	return ring_pushes(queue, cpu) != before;
}

/* Whether @ring is empty within five seconds. */
static bool ring_drains(struct kbatch_ring *ring)
{
	unsigned int i;

	for (i = 0; i < 500 && !kbatch_ring_empty(ring); i++)
		usleep_range(10000, 20000);
	return kbatch_ring_empty(ring);
}

/* Offline one CPU and bring it back, checking its rings meanwhile. */
static void cycle_cpu(struct kunit *test, struct load *bg, struct load *task,
		      unsigned int cpu)
{
	unsigned long bg_pushes, task_pushes;

	KUNIT_ASSERT_EQ(test, remove_cpu(cpu), 0);
	/* The workqueue runs its pending background batches elsewhere. */
	KUNIT_EXPECT_TRUE(test, ring_drains(kbatch_queue_ring(bg->queue, cpu)));
	bg_pushes = ring_pushes(bg->queue, cpu);
	task_pushes = ring_pushes(task->queue, cpu);
	msleep(20);
	/* Nothing lands on an offline CPU's rings. */
	KUNIT_EXPECT_EQ(test, ring_pushes(bg->queue, cpu), bg_pushes);
	KUNIT_EXPECT_EQ(test, ring_pushes(task->queue, cpu), task_pushes);
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
}

/*
 * CPUs 1..n go offline and come back, twice, while unbound threads post
 * and submit: nothing is lost and the rings work again afterwards.
 */
static void lifetime_cpu_hotplug_under_load(struct kunit *test)
{
	struct load *bg = kunit_kzalloc(test, sizeof(*bg), GFP_KERNEL);
	struct load *task = kunit_kzalloc(test, sizeof(*task), GFP_KERNEL);
	struct kbt_thread **tb, **tt;
	unsigned int nb, nt, i, cpu, round;

	KUNIT_ASSERT_NOT_NULL(test, bg);
	KUNIT_ASSERT_NOT_NULL(test, task);
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	bg->queue = kbatch_queue_alloc("hotplug-bg", KBATCH_BACKGROUND, 256, load_fn, bg);
	task->queue = kbatch_queue_alloc("hotplug-task", KBATCH_TASK, 256, load_fn, task);
	KUNIT_ASSERT_FALSE(test, IS_ERR(bg->queue));
	KUNIT_ASSERT_FALSE(test, IS_ERR(task->queue));
	tb = load_start(test, bg, &nb, false);
	tt = load_start(test, task, &nt, false);

	for (round = 0; round < 2; round++) {
		for_each_present_cpu(cpu) {
			if (cpu != cpumask_first(cpu_online_mask))
				cycle_cpu(test, bg, task, cpu);
		}
	}
	/* Back online, the last CPU's ring takes pushes again. */
	KUNIT_EXPECT_TRUE(test, ring_gets_pushes(bg->queue,
						 cpumask_last(cpu_online_mask)));

	WRITE_ONCE(bg->stop, true);
	WRITE_ONCE(task->stop, true);
	for (i = 0; i < nb; i++)
		kbt_join(tb[i]);
	for (i = 0; i < nt; i++)
		kbt_join(tt[i]);
	kbatch_queue_free(bg->queue);
	kbatch_queue_free(task->queue);
	KUNIT_EXPECT_EQ(test, atomic_read(&task->wrong), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&bg->processed),
			atomic_long_read(&bg->accepted));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&task->processed),
			atomic_long_read(&task->accepted));
}

/*
 * A background callback that takes cpus_read_lock(), and allocates and
 * frees a queue, while its CPU goes offline: the offline must not wait
 * for it (the hotplug lock is held for writing meanwhile), and the
 * callback runs to its end once the CPU is gone.
 */
struct hp_cb {
	struct kbatch_queue *queue;
	unsigned int cpu;
	struct completion entered;
	struct completion go;
	struct completion offline;
	atomic_t calls;
	atomic_t done;
	int offline_ret;
	int alloc_err;
};

static void hp_fn(struct kbatch_batch *batch, void *data)
{
	struct hp_cb *h = data;
	struct kbatch_queue *queue;

	kbatch_bound(batch);
	if (atomic_inc_return(&h->calls) != 1)
		return;
	complete(&h->entered);
	wait_for_completion(&h->go);
	cpus_read_lock();
	cpus_read_unlock();
	queue = kbatch_queue_alloc("hotplug-inner", KBATCH_BACKGROUND, 0, load_fn, NULL);
	if (IS_ERR(queue))
		h->alloc_err = PTR_ERR(queue);
	kbatch_queue_free(queue);
	atomic_inc(&h->done);
}

static int hp_post(void *data)
{
	struct hp_cb *h = data;

	return kbatch_post(h->queue, 1);
}

static int hp_offline(void *data)
{
	struct hp_cb *h = data;

	h->offline_ret = remove_cpu(h->cpu);
	complete(&h->offline);
	return 0;
}

static void lifetime_offline_with_busy_callback(struct kunit *test)
{
	struct hp_cb *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct kbt_thread *t;
	bool offlined;

	KUNIT_ASSERT_NOT_NULL(test, h);
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	init_completion(&h->entered);
	init_completion(&h->go);
	init_completion(&h->offline);
	h->cpu = cpumask_last(cpu_online_mask);
	h->queue = kbatch_queue_alloc("hotplug-busy", KBATCH_BACKGROUND, 0, hp_fn, h);
	KUNIT_ASSERT_FALSE(test, IS_ERR(h->queue));
	KUNIT_ASSERT_EQ(test, kbt_join(kbt_start(hp_post, h, h->cpu)), 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&h->entered, 10 * HZ), 0ul);

	t = kbt_start(hp_offline, h, KBT_ANY_CPU);
	KUNIT_ASSERT_NOT_NULL(test, t);
	/* Let the offline take the hotplug lock, then let the callback go. */
	msleep(200);
	complete(&h->go);
	offlined = wait_for_completion_timeout(&h->offline, 20 * HZ);
	KUNIT_EXPECT_TRUE_MSG(test, offlined, "CPU offline waits for a callback that waits for it");
	if (!offlined)
		return;	/* deadlocked: nothing can be cleaned up */
	kbt_join(t);
	KUNIT_EXPECT_EQ(test, h->offline_ret, 0);
	kbatch_queue_free(h->queue);
	KUNIT_EXPECT_EQ(test, atomic_read(&h->done), 1);
	KUNIT_EXPECT_EQ(test, h->alloc_err, 0);
	if (!h->offline_ret)
		KUNIT_EXPECT_EQ(test, add_cpu(h->cpu), 0);
}

struct stuck {
	struct completion entered;
	struct completion release;
	struct completion go;
	atomic_t calls;
};

static void stuck_fn(struct kbatch_batch *batch, void *data)
{
	struct stuck *st = data;

	kbatch_bound(batch);
	if (atomic_inc_return(&st->calls) != 1)
		return;
	complete(&st->entered);
	wait_for_completion(&st->release);
}

static int stuck_release_later(void *data)
{
	struct stuck *st = data;

	/* Once the test has seen the frees refused, or after 10 s anyway. */
	wait_for_completion_timeout(&st->go, 10 * HZ);
	complete(&st->release);
	return 0;
}

/*
 * A background callback that does not return: the shutdown gives up after
 * its timeout, reports failure and keeps the queue; once the callback
 * has returned, a free completes.
 */
static void lifetime_shutdown_bounded_background(struct kunit *test)
{
	struct stuck *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	struct kbatch_queue *queue;
	struct kbt_thread *t;
	bool shut;
	u64 ns;

	KUNIT_ASSERT_NOT_NULL(test, st);
	init_completion(&st->entered);
	init_completion(&st->release);
	init_completion(&st->go);
	queue = kbatch_queue_alloc("stuck", KBATCH_BACKGROUND, 0, stuck_fn, st);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	kbatch_queue_set_timeout(queue, msecs_to_jiffies(200));
	KUNIT_ASSERT_EQ(test, kbatch_post(queue, 1), 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&st->entered, 10 * HZ), 0ul);
	t = kbt_start(stuck_release_later, st, KBT_ANY_CPU);
	KUNIT_ASSERT_NOT_NULL(test, t);

	ns = ktime_get_ns();
	shut = kbatch_queue_shutdown(queue);
	ns = ktime_get_ns() - ns;
	KUNIT_EXPECT_FALSE(test, shut);
	KUNIT_EXPECT_LT(test, ns, 1000ull * NSEC_PER_MSEC);
	KUNIT_EXPECT_EQ(test, kbatch_post(queue, 2), -ESHUTDOWN);

	/* The callback still runs: free refuses, and may be called again. */
	KUNIT_EXPECT_FALSE(test, kbatch_queue_free(queue));
	complete(&st->go);
	kbt_join(t);
	KUNIT_EXPECT_TRUE(test, kbatch_queue_shutdown(queue));
	KUNIT_EXPECT_TRUE(test, kbatch_queue_free(queue));
}

static struct kunit_case lifetime_cases[] = {
	KUNIT_CASE_PARAM(lifetime_shutdown_under_load, mode_gen_params),
	KUNIT_CASE(lifetime_free_waits_for_sleeping_callback),
	KUNIT_CASE(lifetime_free_idle_is_quick),
	KUNIT_CASE(lifetime_cpu_hotplug_under_load),
	KUNIT_CASE(lifetime_offline_with_busy_callback),
	KUNIT_CASE(lifetime_shutdown_bounded_background),
	{}
};

static struct kunit_suite lifetime_suite = {
	.name = "kbatch_lifetime",
	.test_cases = lifetime_cases,
};

kunit_test_suite(lifetime_suite);
