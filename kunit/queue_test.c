// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the three front ends of a batch queue, driven by kthreads bound to
 * CPUs: deferred bounding, multi-CPU stress, full rings, pushes from
 * hardirq and from three contexts of one CPU at once, kbatch_post_many(),
 * and a reducer that frees with kmem_cache_free_bulk().
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/hrtimer.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "kbatch_internal.h"
#include "kbatch_test.h"

#define RESULT_MAGIC	0x5a5a5a5aUL

/* Total pushes accepted on every ring of @queue. */
static unsigned long queue_pushes(struct kbatch_queue *queue)
{
	unsigned long n = 0;
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		n += kbatch_ring_pushes(kbatch_queue_ring(queue, cpu));
	return n;
}

static unsigned long queue_stat_full(struct kbatch_queue *queue)
{
	unsigned long n = 0;
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		n += local_read(&kbatch_queue_ring(queue, cpu)->stat_full);
	return n;
}

/* Wait up to five seconds for @queue to have accepted @n pushes. */
static bool wait_for_pushes(struct kbatch_queue *queue, unsigned long n)
{
	unsigned long end = jiffies + 5 * HZ;

	while (queue_pushes(queue) < n && time_before(jiffies, end))
		usleep_range(500, 1000);
	return queue_pushes(queue) == n;
}

/*
 * A gate the first batch waits at before it bounds: "a resource" that a
 * leader waits for while its batch keeps growing.
 */
struct gate {
	struct completion entered;
	struct completion open;
	atomic_t batches;
	unsigned int first_len;
	unsigned long first_sum;
};

static void gate_init(struct gate *g)
{
	init_completion(&g->entered);
	init_completion(&g->open);
	atomic_set(&g->batches, 0);
}

/* Returns true for the first batch, after waiting at the gate. */
static bool gate_pass(struct gate *g)
{
	if (atomic_inc_return(&g->batches) != 1)
		return false;
	complete(&g->entered);
	wait_for_completion(&g->open);
	return true;
}

/* ---- deferred bounding ---- */

struct defer_caller {
	struct kbatch_queue *queue;
	unsigned long arg;
	long result;
	int ret;
};

static void defer_fn(struct kbatch_batch *batch, void *data)
{
	struct gate *g = data;
	bool first = gate_pass(g);
	unsigned int i, n = kbatch_bound(batch);

	if (first)
		g->first_len = n;
	for (i = 0; i < n; i++)
		kbatch_complete(batch, i, kbatch_batch_req(batch, i)->arg * 3);
}

static int defer_thread(void *data)
{
	struct defer_caller *c = data;
	struct kbatch_req req = { .arg = c->arg };

	c->ret = kbatch_submit(c->queue, &req);
	c->result = req.result;
	return 0;
}

/* While the leader waits for its resource, same-CPU pushes join it. */
static void queue_deferred_bound_grows_batch(struct kunit *test)
{
	const int followers = 5;
	unsigned int cpu = cpumask_first(cpu_online_mask);
	struct defer_caller callers[6];
	struct kbt_thread *t[6];
	struct kbatch_queue *queue;
	struct gate g;
	int i;

	gate_init(&g);
	queue = kbatch_queue_alloc("defer", KBATCH_TASK, 64, defer_fn, &g);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	for (i = 0; i <= followers; i++)
		callers[i] = (struct defer_caller){ .queue = queue, .arg = 10 + i };

	t[0] = kbt_start(defer_thread, &callers[0], cpu);
	KUNIT_ASSERT_NOT_NULL(test, t[0]);
	wait_for_completion(&g.entered);
	for (i = 1; i <= followers; i++)
		t[i] = kbt_start(defer_thread, &callers[i], cpu);
	KUNIT_EXPECT_TRUE(test, wait_for_pushes(queue, followers + 1));
	complete(&g.open);
	for (i = 0; i <= followers; i++)
		KUNIT_EXPECT_EQ(test, kbt_join(t[i]), 0);

	KUNIT_EXPECT_EQ(test, g.first_len, followers + 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&g.batches), 1);
	KUNIT_EXPECT_EQ(test, callers[0].ret, KBATCH_LED);
	for (i = 0; i <= followers; i++) {
		if (i)
			KUNIT_EXPECT_EQ(test, callers[i].ret, KBATCH_FOLLOWED);
		KUNIT_EXPECT_EQ(test, callers[i].result, (long)(10 + i) * 3);
	}
	kbatch_queue_free(queue);
}

/* ---- multi-CPU stress, task and background mode ---- */

struct stress {
	struct kbatch_queue *queue;
	atomic_long_t sum;
	atomic_long_t count;
	atomic_long_t accepted_sum;
	atomic_long_t accepted;
	atomic_t wrong;
	atomic_t batches;
	unsigned int per_thread;
};

struct stress_thread {
	struct stress *s;
	unsigned long id;
};

/* Every eighth batch sleeps before bounding: a leader waiting. */
static void stress_maybe_sleep(struct stress *s)
{
	if (atomic_inc_return(&s->batches) % 8 == 0)
		usleep_range(20, 60);
}

static void stress_task_fn(struct kbatch_batch *batch, void *data)
{
	struct stress *s = data;
	struct kbatch_req *req;
	unsigned int i, n;

	stress_maybe_sleep(s);
	n = kbatch_bound(batch);
	for (i = 0; i < n; i++) {
		req = kbatch_batch_req(batch, i);
		atomic_long_add(req->arg, &s->sum);
		atomic_long_inc(&s->count);
		kbatch_complete(batch, i, req->arg ^ RESULT_MAGIC);
	}
}

static void stress_bg_fn(struct kbatch_batch *batch, void *data)
{
	struct stress *s = data;
	unsigned int i, n;

	stress_maybe_sleep(s);
	n = kbatch_bound(batch);
	for (i = 0; i < n; i++) {
		atomic_long_add(kbatch_batch_value(batch, i), &s->sum);
		atomic_long_inc(&s->count);
	}
}

static int stress_task_thread(void *data)
{
	struct stress_thread *st = data;
	struct stress *s = st->s;
	struct kbatch_req req;
	unsigned int i;
	int ret;

	for (i = 0; i < s->per_thread; i++) {
		req.arg = (st->id << 20) | i;
		ret = kbatch_submit(s->queue, &req);
		if (ret < 0 || req.result != (long)(req.arg ^ RESULT_MAGIC))
			atomic_inc(&s->wrong);
		atomic_long_add(req.arg, &s->accepted_sum);
		atomic_long_inc(&s->accepted);
	}
	return 0;
}

static int stress_bg_thread(void *data)
{
	struct stress_thread *st = data;
	struct stress *s = st->s;
	unsigned long v;
	unsigned int i;
	int ret;

	for (i = 0; i < s->per_thread; i++) {
		v = (st->id << 20) | i;
		ret = kbatch_post(s->queue, v);
		if (ret == -EAGAIN) {
			usleep_range(10, 20);
			continue;
		}
		if (ret) {
			atomic_inc(&s->wrong);
			continue;
		}
		atomic_long_add(v, &s->accepted_sum);
		atomic_long_inc(&s->accepted);
	}
	return 0;
}

#define STRESS_THREADS_PER_CPU	2

static void run_stress(struct kunit *test, struct stress *s,
		       int (*fn)(void *))
{
	unsigned int max = nr_cpu_ids * STRESS_THREADS_PER_CPU;
	struct stress_thread *st = kunit_kcalloc(test, max, sizeof(*st), GFP_KERNEL);
	struct kbt_thread **t = kunit_kcalloc(test, max, sizeof(*t), GFP_KERNEL);
	unsigned int cpu, n = 0, i, k;

	KUNIT_ASSERT_NOT_NULL(test, st);
	KUNIT_ASSERT_NOT_NULL(test, t);

	for_each_online_cpu(cpu) {
		for (k = 0; k < STRESS_THREADS_PER_CPU; k++) {
			st[n] = (struct stress_thread){ .s = s, .id = n };
			t[n] = kbt_start(fn, &st[n], cpu);
			KUNIT_EXPECT_NOT_NULL(test, t[n]);
			n++;
		}
	}
	for (i = 0; i < n; i++)
		kbt_join(t[i]);
}

static const unsigned int stress_sizes[] = { 64, 256, 1024, 4096 };

static void size_desc(const unsigned int *size, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "ring %u", *size);
}

KUNIT_ARRAY_PARAM(stress_size, stress_sizes, size_desc);

/*
 * Run @thread_fn on every online CPU against a fresh queue of the
 * parameter's ring size; then every accepted task was processed exactly
 * once (count and sum) and no caller saw a wrong result.
 */
static struct stress *stress_run(struct kunit *test, enum kbatch_mode mode,
				 kbatch_batch_fn fn, int (*thread_fn)(void *),
				 unsigned int per_thread)
{
	unsigned int size = *(const unsigned int *)test->param_value;
	struct stress *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	s->per_thread = per_thread;
	s->queue = kbatch_queue_alloc("stress", mode, size, fn, s);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s->queue));
	run_stress(test, s, thread_fn);
	kbatch_queue_free(s->queue);

	KUNIT_EXPECT_EQ(test, atomic_read(&s->wrong), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&s->accepted), 0l);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->count),
			atomic_long_read(&s->accepted));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->sum),
			atomic_long_read(&s->accepted_sum));
	return s;
}

/* Every task is processed once and every caller gets its own result. */
static void queue_stress_task_mode(struct kunit *test)
{
	struct stress *s = stress_run(test, KBATCH_TASK, stress_task_fn,
				      stress_task_thread, 1000);

	/* Task mode never refuses: every submit was accepted. */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->accepted),
			(long)(num_online_cpus() * STRESS_THREADS_PER_CPU * s->per_thread));
}

static int stress_many_thread(void *data)
{
	struct stress_thread *st = data;
	struct stress *s = st->s;
	struct kbatch_req reqs[16];
	unsigned int i, k, n;
	int ret;

	for (i = 0; i < s->per_thread; i += n) {
		n = min_t(unsigned int, ARRAY_SIZE(reqs), s->per_thread - i);
		for (k = 0; k < n; k++)
			reqs[k].arg = (st->id << 20) | (i + k);
		ret = kbatch_submit_many(s->queue, reqs, n);
		if (ret != n)
			atomic_inc(&s->wrong);
		for (k = 0; k < n; k++) {
			if (reqs[k].result != (long)(reqs[k].arg ^ RESULT_MAGIC))
				atomic_inc(&s->wrong);
			atomic_long_add(reqs[k].arg, &s->accepted_sum);
			atomic_long_inc(&s->accepted);
		}
	}
	return 0;
}

/* Arrays of requests from every CPU: each gets its own result. */
static void queue_stress_submit_many(struct kunit *test)
{
	stress_run(test, KBATCH_TASK, stress_task_fn, stress_many_thread, 1200);
}

/*
 * Submit @n requests as one array to an idle queue of @size slots; every
 * request gets its own result and each is processed once.  Returns the
 * number of batches it took.
 */
static int submit_many_batches(struct kunit *test, unsigned int size,
			       unsigned int n)
{
	struct stress *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	struct kbatch_req *reqs = kunit_kcalloc(test, n, sizeof(*reqs), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_NOT_NULL(test, reqs);
	s->queue = kbatch_queue_alloc("many", KBATCH_TASK, size, stress_task_fn, s);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s->queue));
	for (i = 0; i < n; i++)
		reqs[i].arg = 1000 + i;
	/* A count that would not fit the return value: refused, nothing run. */
	KUNIT_EXPECT_EQ(test, kbatch_submit_many(s->queue, reqs, INT_MAX + 1u),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->count), 0l);
	KUNIT_EXPECT_EQ(test, kbatch_submit_many(s->queue, reqs, n), (int)n);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, reqs[i].result, (long)((1000 + i) ^ RESULT_MAGIC));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->count), (long)n);
	kbatch_queue_free(s->queue);
	return atomic_read(&s->batches);
}

/* One caller's array on an idle queue is one batch. */
static void queue_submit_many_one_batch(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, submit_many_batches(test, 64, 32), 1);
}

/* More requests than slots: run in ring-sized parts, all completed. */
static void queue_submit_many_larger_than_ring(struct kunit *test)
{
	KUNIT_EXPECT_GE(test, submit_many_batches(test, 8, 50), 7);
}

/* Every accepted post is processed exactly once, even across a free. */
static void queue_stress_background_mode(struct kunit *test)
{
	stress_run(test, KBATCH_BACKGROUND, stress_bg_fn, stress_bg_thread, 2000);
}

/* ---- full rings ---- */

static void slow_task_fn(struct kbatch_batch *batch, void *data)
{
	unsigned int i, n;

	/* Let the other threads of this CPU fill the ring meanwhile. */
	usleep_range(20, 40);
	n = kbatch_bound(batch);
	for (i = 0; i < n; i++)
		kbatch_complete(batch, i, kbatch_batch_req(batch, i)->arg ^ RESULT_MAGIC);
}

/*
 * A two-slot ring and six callers on one CPU: callers keep finding it
 * full and sleep for room while batches complete under them; a lost
 * wake-up would hang a caller (and the test).
 */
static void queue_full_task_mode_waits(struct kunit *test)
{
	unsigned int cpu = cpumask_last(cpu_online_mask);
	struct stress *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	struct stress_thread st[6];
	struct kbt_thread *t[6];
	int i;

	KUNIT_ASSERT_NOT_NULL(test, s);
	s->per_thread = 200;
	s->queue = kbatch_queue_alloc("full-task", KBATCH_TASK, 2,
				      slow_task_fn, s);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s->queue));
	for (i = 0; i < 6; i++) {
		st[i] = (struct stress_thread){ .s = s, .id = i };
		t[i] = kbt_start(stress_task_thread, &st[i], cpu);
	}
	for (i = 0; i < 6; i++)
		kbt_join(t[i]);

	KUNIT_EXPECT_EQ(test, atomic_read(&s->wrong), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->accepted), 6l * 200);
	KUNIT_EXPECT_GT(test, queue_stat_full(s->queue), 0ul);
	kbatch_queue_free(s->queue);
}

struct collect {
	struct gate g;
	unsigned long values[8];
	unsigned int len;
};

static void collect_fn(struct kbatch_batch *batch, void *data)
{
	struct collect *c = data;
	bool first = gate_pass(&c->g);
	unsigned int i, n = kbatch_bound(batch);

	if (!first)
		return;
	c->len = n;
	for (i = 0; i < n && i < ARRAY_SIZE(c->values); i++)
		c->values[i] = kbatch_batch_value(batch, i);
}

/*
 * Background mode, atomic context: with the worker held at the gate, posts
 * fill the ring, then get -EAGAIN; nothing accepted is lost.
 */
static void queue_full_background_atomic(struct kunit *test)
{
	struct collect *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct kbatch_queue *queue;
	unsigned long flags;
	int ret[6], i;

	KUNIT_ASSERT_NOT_NULL(test, c);
	gate_init(&c->g);
	queue = kbatch_queue_alloc("full-bg", KBATCH_BACKGROUND, 4, collect_fn, c);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));

	local_irq_save(flags);
	for (i = 0; i < 6; i++)
		ret[i] = kbatch_post(queue, 100 + i);
	local_irq_restore(flags);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, ret[i], 0);
	KUNIT_EXPECT_EQ(test, ret[4], -EAGAIN);
	KUNIT_EXPECT_EQ(test, ret[5], -EAGAIN);

	wait_for_completion(&c->g.entered);
	complete(&c->g.open);
	kbatch_queue_free(queue);
	KUNIT_EXPECT_EQ(test, c->len, 4u);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, c->values[i], 100ul + i);
}

struct reduce_leader {
	struct kbatch_queue *queue;
	int ret;
};

static int reduce_leader_thread(void *data)
{
	struct reduce_leader *l = data;

	l->ret = kbatch_reduce(l->queue, 100);
	return 0;
}

struct reduce_atomic {
	struct kbatch_queue *queue;
	int ret[6];
};

static int reduce_atomic_thread(void *data)
{
	struct reduce_atomic *a = data;
	unsigned long flags;
	int i;

	local_irq_save(flags);
	for (i = 0; i < 6; i++)
		a->ret[i] = kbatch_reduce(a->queue, 101 + i);
	local_irq_restore(flags);
	return 0;
}

/*
 * Reducer, atomic context: while the leader waits at the gate, followers
 * with interrupts off return at once until the ring is full, then get
 * -EAGAIN; the leader folds exactly what was accepted.
 */
static void queue_full_reducer_atomic(struct kunit *test)
{
	unsigned int cpu = cpumask_first(cpu_online_mask);
	struct collect *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct reduce_leader l = { };
	struct reduce_atomic a = { };
	struct kbt_thread *tl, *ta;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, c);
	gate_init(&c->g);
	l.queue = kbatch_queue_alloc("full-reduce", KBATCH_REDUCE, 4, collect_fn, c);
	KUNIT_ASSERT_FALSE(test, IS_ERR(l.queue));
	a.queue = l.queue;

	tl = kbt_start(reduce_leader_thread, &l, cpu);
	wait_for_completion(&c->g.entered);
	ta = kbt_start(reduce_atomic_thread, &a, cpu);
	kbt_join(ta);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, a.ret[i], KBATCH_FOLLOWED);
	for (i = 3; i < 6; i++)
		KUNIT_EXPECT_EQ(test, a.ret[i], -EAGAIN);
	complete(&c->g.open);
	kbt_join(tl);
	KUNIT_EXPECT_EQ(test, l.ret, KBATCH_LED);
	KUNIT_EXPECT_EQ(test, c->len, 4u);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, c->values[i], 100ul + i);
	kbatch_queue_free(l.queue);
}

/* ---- posts from hardirq ---- */

struct irq_poster {
	struct hrtimer timer;
	struct stress s;
	struct completion done;
	unsigned int fired;
	unsigned int not_hardirq;
};

static enum hrtimer_restart irq_post_fn(struct hrtimer *timer)
{
	struct irq_poster *p = container_of(timer, struct irq_poster, timer);
	unsigned long v = ++p->fired;

	if (!in_hardirq())
		p->not_hardirq++;
	if (!kbatch_post(p->s.queue, v)) {
		atomic_long_add(v, &p->s.accepted_sum);
		atomic_long_inc(&p->s.accepted);
	}
	if (p->fired == 300) {
		complete(&p->done);
		return HRTIMER_NORESTART;
	}
	hrtimer_forward_now(timer, ns_to_ktime(50 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

/* Background posts from an hrtimer in hardirq context all get processed. */
static void queue_post_from_hardirq(struct kunit *test)
{
	struct irq_poster *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	init_completion(&p->done);
	p->s.queue = kbatch_queue_alloc("hardirq", KBATCH_BACKGROUND, 64,
					stress_bg_fn, &p->s);
	KUNIT_ASSERT_FALSE(test, IS_ERR(p->s.queue));
	hrtimer_init(&p->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	p->timer.function = irq_post_fn;
	hrtimer_start(&p->timer, ns_to_ktime(50 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_HARD);
	wait_for_completion(&p->done);
	hrtimer_cancel(&p->timer);
	kbatch_queue_free(p->s.queue);

	KUNIT_EXPECT_EQ(test, p->not_hardirq, 0u);
	KUNIT_EXPECT_GT(test, atomic_long_read(&p->s.accepted), 0l);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&p->s.count),
			atomic_long_read(&p->s.accepted));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&p->s.sum),
			atomic_long_read(&p->s.accepted_sum));
}

/* ---- three contexts of one CPU on one ring ---- */

enum { SRC_PROC, SRC_SOFT, SRC_HARD, NR_SRC };

#define MIX_PROC_SEQS	8192	/* values the process context posts */
/*
 * Values per source, at most: a timer posts until the test stops it, and
 * must not run out before mix_thread() has seen one of its values taken.
 */
#define MIX_SEQS	BIT(16)
#define MIX_VALUE(src, seq)	(((unsigned long)(src) << 20) | (seq))

/*
 * Process context, a softirq (an HRTIMER_MODE_SOFT timer) and a hardirq
 * (an HRTIMER_MODE_HARD timer) post on one CPU: every value tells its
 * source and sequence number; acc[] marks the accepted ones, seen[] the
 * ones the callback got.
 */
struct mix {
	struct kbatch_queue *queue;
	struct hrtimer hard, soft;
	unsigned long *acc[NR_SRC];
	unsigned long *seen[NR_SRC];
	unsigned int next[NR_SRC];
	atomic_t dup;
	atomic_t bad;
	atomic_t wrong_ctx;
	atomic_t seen_count;
	unsigned int got[NR_SRC];
	bool stop;
};

static void mix_fn(struct kbatch_batch *batch, void *data)
{
	struct mix *m = data;
	unsigned int i, n = kbatch_bound(batch);
	unsigned long v, src, seq;

	for (i = 0; i < n; i++) {
		v = kbatch_batch_value(batch, i);
		src = v >> 20;
		seq = v & ((1UL << 20) - 1);
		if (src >= NR_SRC || seq >= MIX_SEQS) {
			atomic_inc(&m->bad);
			continue;
		}
		if (test_and_set_bit(seq, m->seen[src]))
			atomic_inc(&m->dup);
		atomic_inc(&m->seen_count);
	}
}

/* Post the next value of @src; returns false once it has posted them all. */
static bool mix_post(struct mix *m, unsigned int src)
{
	unsigned int seq = m->next[src];

	if (seq >= MIX_SEQS)
		return false;
	m->next[src]++;
	if (!kbatch_post(m->queue, MIX_VALUE(src, seq))) {
		__set_bit(seq, m->acc[src]);
		/* Only @src's context writes; mix_thread() reads it. */
		WRITE_ONCE(m->got[src], m->got[src] + 1);
	}
	return true;
}

static enum hrtimer_restart mix_timer(struct mix *m, struct hrtimer *t,
				      unsigned int src, bool ctx_ok)
{
	if (!ctx_ok)
		atomic_inc(&m->wrong_ctx);
	/* A burst of four, so that they also meet each other. */
	if (READ_ONCE(m->stop) || !mix_post(m, src) || !mix_post(m, src) ||
	    !mix_post(m, src) || !mix_post(m, src))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(20 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

static enum hrtimer_restart mix_hard_fn(struct hrtimer *t)
{
	struct mix *m = container_of(t, struct mix, hard);

	return mix_timer(m, t, SRC_HARD, in_hardirq());
}

static enum hrtimer_restart mix_soft_fn(struct hrtimer *t)
{
	struct mix *m = container_of(t, struct mix, soft);

	return mix_timer(m, t, SRC_SOFT, in_serving_softirq());
}

/*
 * The process-context producer, bound to the timers' CPU: posts one by
 * one and in fours with kbatch_post_many(), until it has posted them all.
 * Its posts may keep the ring full throughout, every timer's post
 * refused (seen once on the PREEMPT_RT debug kernel: 85 of its values
 * and none of the softirq's accepted), so it then sleeps, letting the
 * worker empty the ring, until each timer has had a value accepted too
 * (or 10 s have passed).
 */
static int mix_thread(void *data)
{
	unsigned long vals[4], deadline;
	struct mix *m = data;
	unsigned int seq, i;
	int got;

	hrtimer_start(&m->hard, ns_to_ktime(20 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_PINNED_HARD);
	hrtimer_start(&m->soft, ns_to_ktime(30 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_PINNED_SOFT);
	while (m->next[SRC_PROC] < MIX_PROC_SEQS) {
		mix_post(m, SRC_PROC);
		seq = m->next[SRC_PROC];
		if (seq + 4 > MIX_PROC_SEQS)
			continue;
		for (i = 0; i < 4; i++)
			vals[i] = MIX_VALUE(SRC_PROC, seq + i);
		m->next[SRC_PROC] += 4;
		got = kbatch_post_many(m->queue, vals, 4);
		for (i = 0; got > 0 && i < got; i++)
			__set_bit(seq + i, m->acc[SRC_PROC]);
		if (seq % 256 == 0)
			cond_resched();
	}
	deadline = jiffies + 10 * HZ;
	while ((!READ_ONCE(m->got[SRC_SOFT]) || !READ_ONCE(m->got[SRC_HARD])) &&
	       time_before(jiffies, deadline))
		usleep_range(1000, 2000);
	return 0;
}

/*
 * Posts from process context, softirq and hardirq on one CPU, meeting
 * each other inside the push: every accepted value reaches the callback
 * exactly once, and no refused one does.
 */
static void queue_post_three_contexts_one_cpu(struct kunit *test)
{
	unsigned int cpu = cpumask_first(cpu_online_mask);
	struct mix *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	unsigned int src, bits[NR_SRC], total = 0;

	KUNIT_ASSERT_NOT_NULL(test, m);
	for (src = 0; src < NR_SRC; src++) {
		m->acc[src] = kunit_kzalloc(test, BITS_TO_LONGS(MIX_SEQS) *
					    sizeof(long), GFP_KERNEL);
		m->seen[src] = kunit_kzalloc(test, BITS_TO_LONGS(MIX_SEQS) *
					     sizeof(long), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, m->acc[src]);
		KUNIT_ASSERT_NOT_NULL(test, m->seen[src]);
	}
	m->queue = kbatch_queue_alloc("mix", KBATCH_BACKGROUND, 64, mix_fn, m);
	KUNIT_ASSERT_FALSE(test, IS_ERR(m->queue));
	hrtimer_init(&m->hard, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	m->hard.function = mix_hard_fn;
	hrtimer_init(&m->soft, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_SOFT);
	m->soft.function = mix_soft_fn;

	kbt_join(kbt_start(mix_thread, m, cpu));
	WRITE_ONCE(m->stop, true);
	hrtimer_cancel(&m->hard);
	hrtimer_cancel(&m->soft);
	kbatch_queue_free(m->queue);

	for (src = 0; src < NR_SRC; src++) {
		bits[src] = bitmap_weight(m->acc[src], MIX_SEQS);
		total += bits[src];
		KUNIT_EXPECT_TRUE_MSG(test, bitmap_equal(m->acc[src], m->seen[src],
							 MIX_SEQS),
				      "source %u: accepted and seen differ", src);
	}
	kunit_info(test, "accepted: process %u, softirq %u, hardirq %u\n",
		   bits[SRC_PROC], bits[SRC_SOFT], bits[SRC_HARD]);
	KUNIT_EXPECT_GT(test, bits[SRC_PROC], 0u);
	KUNIT_EXPECT_GT(test, bits[SRC_SOFT], 0u);
	KUNIT_EXPECT_GT(test, bits[SRC_HARD], 0u);
	KUNIT_EXPECT_EQ(test, atomic_read(&m->seen_count), total);
	KUNIT_EXPECT_EQ(test, atomic_read(&m->dup), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&m->bad), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&m->wrong_ctx), 0);
}

/*
 * kbatch_post_many(): all of them in order in one batch when they fit;
 * when the ring has room for only some, the first so many are accepted
 * and counted, the rest refused; a full ring gives -EAGAIN, a queue
 * shutting down -ESHUTDOWN; n == 0 does nothing.
 */
static void queue_post_many_partial(struct kunit *test)
{
	struct collect *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	unsigned long vals[6] = { 10, 11, 12, 13, 14, 15 };
	struct kbatch_queue *queue;
	int ret[4], i;

	KUNIT_ASSERT_NOT_NULL(test, c);
	gate_init(&c->g);
	complete(&c->g.open);
	queue = kbatch_queue_alloc("many", KBATCH_BACKGROUND, 8, collect_fn, c);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));

	/* One CPU, preemption off: the worker cannot run in between. */
	preempt_disable();
	ret[0] = kbatch_post_many(queue, vals, 0);
	ret[1] = kbatch_post_many(queue, vals, 5);
	ret[2] = kbatch_post_many(queue, vals, 6);
	ret[3] = kbatch_post_many(queue, vals, 1);
	preempt_enable();
	KUNIT_EXPECT_EQ(test, ret[0], 0);
	KUNIT_EXPECT_EQ(test, ret[1], 5);
	KUNIT_EXPECT_EQ(test, ret[2], 3);
	KUNIT_EXPECT_EQ(test, ret[3], -EAGAIN);
	KUNIT_EXPECT_EQ(test, queue_stat_full(queue), 4ul);
	KUNIT_EXPECT_EQ(test, queue_pushes(queue), 8ul);
	kbatch_queue_shutdown(queue);
	KUNIT_EXPECT_EQ(test, c->len, 8u);
	for (i = 0; i < 5; i++)
		KUNIT_EXPECT_EQ(test, c->values[i], vals[i]);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, c->values[5 + i], vals[i]);
	KUNIT_EXPECT_EQ(test, kbatch_post_many(queue, vals, 2), -ESHUTDOWN);
	kbatch_queue_free(queue);
}

/* ---- a background batch bounded from another CPU ---- */

struct remote {
	struct gate g;
	struct kbatch_queue *queue;
	unsigned int cpu;
	unsigned long values[8];
	unsigned int len;
	int ran_on;
	struct completion second;
};

/* The first batch waits at the gate; the second is recorded. */
static void remote_fn(struct kbatch_batch *batch, void *data)
{
	struct remote *r = data;
	unsigned int i, n = kbatch_bound(batch);

	if (gate_pass(&r->g) || atomic_read(&r->g.batches) != 2)
		return;
	r->len = n;
	for (i = 0; i < n && i < ARRAY_SIZE(r->values); i++)
		r->values[i] = kbatch_batch_value(batch, i);
	r->ran_on = raw_smp_processor_id();
	complete(&r->second);
}

/* Post 11..14, one and then three at once. */
static int remote_post_rest(struct remote *r)
{
	unsigned long vals[3] = { 12, 13, 14 };

	if (kbatch_post(r->queue, 11) ||
	    kbatch_post_many(r->queue, vals, 3) != 3)
		return -EIO;
	return 0;
}

/* On the ring's CPU: open a batch, let it block, then fill the next one. */
static int remote_post_thread(void *data)
{
	struct remote *r = data;

	if (kbatch_post(r->queue, 10))
		return -EIO;
	wait_for_completion(&r->g.entered);
	return remote_post_rest(r);
}

/* The same once the gate is open: the batches run as they come. */
static int remote_post_again(void *data)
{
	struct remote *r = data;

	return kbatch_post(r->queue, 10) ?: remote_post_rest(r);
}

/*
 * A background batch pending on a CPU that goes offline is run, and
 * bounded, on another CPU (kbatch_ring_bound_remote()): it holds exactly
 * what was posted, and the ring takes local pushes again afterwards.
 */
static void queue_background_remote_bound(struct kunit *test)
{
	struct remote *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct kbatch_ring *ring;
	int i, ret;

	KUNIT_ASSERT_NOT_NULL(test, r);
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	gate_init(&r->g);
	init_completion(&r->second);
	r->cpu = cpumask_last(cpu_online_mask);
	r->queue = kbatch_queue_alloc("remote", KBATCH_BACKGROUND, 16,
				      remote_fn, r);
	KUNIT_ASSERT_FALSE(test, IS_ERR(r->queue));
	KUNIT_ASSERT_EQ(test, kbt_join(kbt_start(remote_post_thread, r, r->cpu)), 0);
	/* The second batch is pending on r->cpu's pool; take the CPU away. */
	ret = remove_cpu(r->cpu);
	complete(&r->g.open);
	if (ret) {
		kbatch_queue_free(r->queue);
		KUNIT_FAIL(test, "remove_cpu(%u): %d", r->cpu, ret);
		return;
	}
	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&r->second, 10 * HZ), 0ul);
	KUNIT_EXPECT_EQ(test, r->len, 4u);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, r->values[i], 11ul + i);
	KUNIT_EXPECT_NE(test, r->ran_on, (int)r->cpu);
	ring = kbatch_queue_ring(r->queue, r->cpu);
	KUNIT_EXPECT_EQ(test, atomic_read(&ring->gate), 0);
	KUNIT_EXPECT_EQ(test, add_cpu(r->cpu), 0);
	/* Back online, the ring takes local pushes again. */
	KUNIT_EXPECT_EQ(test, kbt_join(kbt_start(remote_post_again, r, r->cpu)), 0);
	kbatch_queue_shutdown(r->queue);
	KUNIT_EXPECT_EQ(test, kbatch_ring_pushes(ring), 10ul);
	kbatch_queue_free(r->queue);
}

/* ---- reducer: batched frees with kmem_cache_free_bulk() ---- */

struct bulk {
	struct kmem_cache *cache;
	struct mutex lock;	/* the resource a fold waits for */
	struct gate g;
	bool gated;
	atomic_t bulk_calls;
	atomic_t freed;
	atomic_t freed_direct;
	unsigned int largest;
};

#define BULK_CHUNK	16

static void bulk_ctor(void *obj)
{
	memset(obj, 0, 64);
}

/* A cache of its own (a constructor keeps SLUB from merging it), so that
 * kmem_cache_destroy() reports any object the test failed to free.
 */
static struct kmem_cache *bulk_cache_create(void)
{
	return kmem_cache_create("kbatch_test_bulk", 64, 0, 0, bulk_ctor);
}

/* The fold: free the whole batch in chunks, under the cache's "lock". */
static void bulk_free_fn(struct kbatch_batch *batch, void *data)
{
	struct bulk *b = data;
	void *objs[BULK_CHUNK];
	unsigned int i, k, n;

	if (b->gated)
		gate_pass(&b->g);
	mutex_lock(&b->lock);
	n = kbatch_bound(batch);
	for (i = 0; i < n; i += k) {
		k = kbatch_batch_values(batch, i, (unsigned long *)objs, BULK_CHUNK);
		kmem_cache_free_bulk(b->cache, k, objs);
		atomic_inc(&b->bulk_calls);
	}
	atomic_add(n, &b->freed);
	b->largest = max(b->largest, n);
	mutex_unlock(&b->lock);
}

struct bulk_thread {
	struct bulk *b;
	struct kbatch_queue *queue;
	unsigned int count;
};

static int bulk_thread(void *data)
{
	struct bulk_thread *bt = data;
	unsigned int i;
	void *obj;

	for (i = 0; i < bt->count; i++) {
		obj = kmem_cache_alloc(bt->b->cache, GFP_KERNEL);
		if (!obj)
			return -ENOMEM;
		if (kbatch_reduce(bt->queue, (unsigned long)obj) < 0) {
			kmem_cache_free(bt->b->cache, obj);
			atomic_inc(&bt->b->freed_direct);
		}
	}
	return 0;
}

/*
 * While one leader waits, sixteen frees on its CPU become one batch and a
 * single kmem_cache_free_bulk() call.
 */
static void queue_reducer_free_bulk_one_call(struct kunit *test)
{
	unsigned int cpu = cpumask_first(cpu_online_mask);
	struct bulk *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	struct bulk_thread lead, follow;
	struct kbt_thread *tl, *tf;
	struct kbatch_queue *queue;

	KUNIT_ASSERT_NOT_NULL(test, b);
	b->cache = bulk_cache_create();
	KUNIT_ASSERT_NOT_NULL(test, b->cache);
	mutex_init(&b->lock);
	gate_init(&b->g);
	b->gated = true;
	queue = kbatch_queue_alloc("free-bulk", KBATCH_REDUCE, 64, bulk_free_fn, b);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));

	lead = (struct bulk_thread){ .b = b, .queue = queue, .count = 1 };
	follow = (struct bulk_thread){ .b = b, .queue = queue, .count = 15 };
	tl = kbt_start(bulk_thread, &lead, cpu);
	wait_for_completion(&b->g.entered);
	tf = kbt_start(bulk_thread, &follow, cpu);
	KUNIT_EXPECT_EQ(test, kbt_join(tf), 0);
	complete(&b->g.open);
	KUNIT_EXPECT_EQ(test, kbt_join(tl), 0);
	kbatch_queue_free(queue);

	KUNIT_EXPECT_EQ(test, atomic_read(&b->freed), 16);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->bulk_calls), 1);
	KUNIT_EXPECT_EQ(test, b->largest, 16u);
	kmem_cache_destroy(b->cache);
}

/* Frees from every CPU: each object freed once (KASAN and the cache's
 * leak check at destroy watch the rest).
 */
static void queue_reducer_free_bulk_stress(struct kunit *test)
{
	struct bulk *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	struct bulk_thread *bt = kunit_kcalloc(test, nr_cpu_ids * 3, sizeof(*bt), GFP_KERNEL);
	struct kbt_thread **t = kunit_kcalloc(test, nr_cpu_ids * 3, sizeof(*t), GFP_KERNEL);
	struct kbatch_queue *queue;
	unsigned int cpu, n = 0, i, k;

	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, bt);
	KUNIT_ASSERT_NOT_NULL(test, t);
	b->cache = bulk_cache_create();
	KUNIT_ASSERT_NOT_NULL(test, b->cache);
	mutex_init(&b->lock);
	queue = kbatch_queue_alloc("free-bulk", KBATCH_REDUCE, 256, bulk_free_fn, b);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	for_each_online_cpu(cpu) {
		for (k = 0; k < 3; k++) {
			bt[n] = (struct bulk_thread){ .b = b, .queue = queue,
						      .count = 1000 };
			t[n] = kbt_start(bulk_thread, &bt[n], cpu);
			n++;
		}
	}
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, kbt_join(t[i]), 0);
	kbatch_queue_free(queue);

	KUNIT_EXPECT_EQ(test, atomic_read(&b->freed) + atomic_read(&b->freed_direct),
			(int)(n * 1000));
	kunit_info(test, "%d frees in %d bulk calls, largest batch %u\n",
		   atomic_read(&b->freed), atomic_read(&b->bulk_calls), b->largest);
	kmem_cache_destroy(b->cache);
}

/* ---- bulk access ---- */

struct bulk_read {
	unsigned long all[8], tail[8], spans[8];
	unsigned int n_all, n_tail, n_past;
	/* kbatch_batch_span() from 0, the end of that run, 3, and past the end */
	unsigned int run[4];
	bool untouched;
};

static void bulk_read_fn(struct kbatch_batch *batch, void *data)
{
	struct bulk_read *r = data;
	unsigned int n = kbatch_bound(batch), i, k = 0;
	const unsigned long *v, *none = NULL;

	r->n_all = kbatch_batch_values(batch, 0, r->all, ARRAY_SIZE(r->all));
	r->n_tail = kbatch_batch_values(batch, 3, r->tail, ARRAY_SIZE(r->tail));
	r->n_past = kbatch_batch_values(batch, n, r->tail, ARRAY_SIZE(r->tail));
	/* The whole batch, run by run, into spans[]. */
	r->run[0] = kbatch_batch_span(batch, 0, &v);
	for (i = 0; i < r->run[0] && k < ARRAY_SIZE(r->spans); i++)
		r->spans[k++] = v[i];
	r->run[1] = kbatch_batch_span(batch, r->run[0], &v);
	for (i = 0; i < r->run[1] && k < ARRAY_SIZE(r->spans); i++)
		r->spans[k++] = v[i];
	r->run[2] = kbatch_batch_span(batch, 3, &v);
	r->run[3] = kbatch_batch_span(batch, n, &none);
	r->untouched = !none;
}

/* What bulk_read_fn() saw of values 100.. in slots 6, 7, 0, 1, 2 of 8. */
static void bulk_read_check(struct kunit *test, struct bulk_read *r)
{
	int i;

	KUNIT_EXPECT_EQ(test, r->n_all, 5u);
	for (i = 0; i < 5; i++)
		KUNIT_EXPECT_EQ(test, r->all[i], 100ul + i);
	KUNIT_EXPECT_EQ(test, r->n_tail, 2u);
	KUNIT_EXPECT_EQ(test, r->tail[0], 103ul);
	KUNIT_EXPECT_EQ(test, r->tail[1], 104ul);
	KUNIT_EXPECT_EQ(test, r->n_past, 0u);
	/* In place: slots 6 and 7, then 0 to 2; from index 3, slots 1 and 2. */
	KUNIT_EXPECT_EQ(test, r->run[0], 2u);
	KUNIT_EXPECT_EQ(test, r->run[1], 3u);
	for (i = 0; i < 5; i++)
		KUNIT_EXPECT_EQ(test, r->spans[i], 100ul + i);
	KUNIT_EXPECT_EQ(test, r->run[2], 2u);
	KUNIT_EXPECT_EQ(test, r->run[3], 0u);
	KUNIT_EXPECT_TRUE(test, r->untouched);
}

/*
 * kbatch_batch_values() copies, and kbatch_batch_span() shows in two runs,
 * a batch that runs past the end of the slot array (slots 6, 7, 0, 1, 2
 * of 8), in order, from any first index; pushed one by one, then all at
 * once by kbatch_post_many(), whose one reservation fills both runs.
 */
static void queue_batch_values_across_the_end(struct kunit *test)
{
	struct bulk_read *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	unsigned long vals[5] = { 100, 101, 102, 103, 104 };
	struct kbatch_queue *queue;
	unsigned long flags;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, r);
	/* Positions step by 2: the first push lands in slot 6. */
	queue = kbatch_queue_alloc_pos_flags("bulk", KBATCH_BACKGROUND, 8,
					     bulk_read_fn, r, 0, 2 * 6);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	local_irq_save(flags);
	for (i = 0; i < 5; i++)
		kbatch_post(queue, vals[i]);
	local_irq_restore(flags);
	kbatch_queue_free(queue);
	bulk_read_check(test, r);

	memset(r, 0, sizeof(*r));
	queue = kbatch_queue_alloc_pos_flags("bulk", KBATCH_BACKGROUND, 8,
					     bulk_read_fn, r, 0, 2 * 6);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	KUNIT_EXPECT_EQ(test, kbatch_post_many(queue, vals, 5), 5);
	kbatch_queue_free(queue);
	bulk_read_check(test, r);
}

/* ---- statistics ---- */

/*
 * Print @queue's stats file into @buf, as a read of it would; the file
 * must exist in the queue's debugfs folder.  Its length, or -ENOENT.
 */
static ssize_t read_stats(struct kbatch_queue *queue, char *buf, size_t size)
{
	struct seq_file m = { .buf = buf, .size = size - 1, .private = queue };
	struct dentry *file = debugfs_lookup("stats", queue->debugfs);

	if (!file)
		return -ENOENT;
	dput(file);
	kbatch_queue_stats_show(&m, NULL);
	buf[m.count] = 0;
	return m.count;
}

/*
 * /sys/kernel/debug/kbatch/queue-<name>-<n>/stats counts pushes, batches,
 * the largest batch and full events.
 */
static void queue_stats_in_debugfs(struct kunit *test)
{
	struct collect *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	char *buf = kunit_kzalloc(test, 4096, GFP_KERNEL);
	unsigned long pushes, batches, largest, full;
	struct kbatch_queue *queue;
	unsigned long flags;
	char *all;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	gate_init(&c->g);
	complete(&c->g.open);
	queue = kbatch_queue_alloc("stats", KBATCH_BACKGROUND, 4, collect_fn, c);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	/* One CPU, interrupts off: 4 pushes in one batch, then 2 refused. */
	local_irq_save(flags);
	for (i = 0; i < 6; i++)
		kbatch_post(queue, i);
	local_irq_restore(flags);
	kbatch_queue_shutdown(queue);

	KUNIT_ASSERT_GT(test, read_stats(queue, buf, 4096), 0l);
	all = strstr(buf, "\nall");
	KUNIT_ASSERT_NOT_NULL(test, all);
	i = sscanf(all, " all %lu %lu %lu %lu", &pushes, &batches, &largest, &full);
	KUNIT_ASSERT_EQ(test, i, 4);
	KUNIT_EXPECT_EQ(test, pushes, 4ul);
	KUNIT_EXPECT_EQ(test, batches, 1ul);
	KUNIT_EXPECT_EQ(test, largest, 4ul);
	KUNIT_EXPECT_EQ(test, full, 2ul);
	kbatch_queue_free(queue);
}

/* ---- argument checks ---- */

static void nop_fn(struct kbatch_batch *batch, void *data)
{
}

static void queue_alloc_rejects_bad_args(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, PTR_ERR(kbatch_queue_alloc("x", KBATCH_TASK, 3, nop_fn, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(kbatch_queue_alloc("x", KBATCH_TASK, 1, nop_fn, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(kbatch_queue_alloc("x", KBATCH_TASK,
							 KBATCH_RING_MAX * 2, nop_fn, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(kbatch_queue_alloc("x", KBATCH_TASK, 0, NULL, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(kbatch_queue_alloc("x", 7, 0, nop_fn, NULL)),
			-EINVAL);
}

/*
 * The gate a background post reads (ring.h): open (0) on every ring of a
 * background queue, closed on task and reducer rings, and closed with
 * KB_GATE_DYING on every ring by the shutdown, after which a post is
 * refused and pushes nothing.
 */
static void queue_gate_opens_only_for_live_background(struct kunit *test)
{
	static const enum kbatch_mode modes[] = {
		KBATCH_BACKGROUND, KBATCH_TASK, KBATCH_REDUCE,
	};
	struct kbatch_queue *queue;
	unsigned int i, cpu;
	int gate;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		queue = kbatch_queue_alloc("gate", modes[i], 0, nop_fn, NULL);
		KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
		for_each_possible_cpu(cpu) {
			gate = atomic_read(&kbatch_queue_ring(queue, cpu)->gate);
			if (modes[i] == KBATCH_BACKGROUND)
				KUNIT_EXPECT_EQ(test, gate, 0);
			else
				KUNIT_EXPECT_EQ(test, gate, KB_GATE_SHARED);
		}
		KUNIT_EXPECT_TRUE(test, kbatch_queue_shutdown(queue));
		for_each_possible_cpu(cpu) {
			gate = atomic_read(&kbatch_queue_ring(queue, cpu)->gate);
			KUNIT_EXPECT_TRUE(test, gate & KB_GATE_DYING);
		}
		if (modes[i] == KBATCH_BACKGROUND) {
			KUNIT_EXPECT_EQ(test, kbatch_post(queue, 1), -ESHUTDOWN);
			KUNIT_EXPECT_EQ(test, queue_pushes(queue), 0ul);
		}
		kbatch_queue_free(queue);
	}
}

/* A callback that never bounds nor completes still returns every caller. */
static void queue_lazy_callback_cancels(struct kunit *test)
{
	struct kbatch_queue *queue;
	struct kbatch_req req = { .arg = 1, .result = 77 };

	queue = kbatch_queue_alloc("lazy", KBATCH_TASK, 0, nop_fn, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	KUNIT_EXPECT_EQ(test, kbatch_submit(queue, &req), KBATCH_LED);
	KUNIT_EXPECT_EQ(test, req.result, (long)-ECANCELED);
	kbatch_queue_free(queue);
}

/*
 * scripts/results.py's marks: a WARNING from kmod/queue.c between "begin"
 * and "end" is the one a caller's bug must give, not a bug of kbatch.
 */
static void expect_queue_warning(bool begin)
{
	pr_info("kbatch-expect-warn %s kmod/queue.c\n", begin ? "begin" : "end");
}

struct wrong {
	enum kbatch_mode mode;
	unsigned int len;	/* of the last batch */
	unsigned long sum;	/* of its values (background, reducer) */
};

static void wrong_fn(struct kbatch_batch *batch, void *data)
{
	struct wrong *w = data;
	unsigned int i, n = kbatch_bound(batch);

	w->len = n;
	w->sum = 0;
	for (i = 0; i < n; i++) {
		if (w->mode == KBATCH_TASK)
			kbatch_complete(batch, i, kbatch_batch_req(batch, i)->arg + 1);
		else
			w->sum += kbatch_batch_value(batch, i);
	}
}

/* The other front ends' calls on a queue of @w->mode: -EINVAL each. */
static void wrong_calls(struct kunit *test, struct kbatch_queue *queue,
			struct wrong *w)
{
	static const unsigned long vals[] = { 1, 2 };
	struct kbatch_req req = { .arg = 1 };

	expect_queue_warning(true);
	if (w->mode != KBATCH_TASK) {
		KUNIT_EXPECT_EQ(test, kbatch_submit(queue, &req), -EINVAL);
		KUNIT_EXPECT_EQ(test, kbatch_submit_many(queue, &req, 0), -EINVAL);
	}
	if (w->mode != KBATCH_BACKGROUND) {
		KUNIT_EXPECT_EQ(test, kbatch_post(queue, 3), -EINVAL);
		KUNIT_EXPECT_EQ(test, kbatch_post_many(queue, vals, 2), -EINVAL);
		KUNIT_EXPECT_EQ(test, kbatch_post_many(queue, vals, 0), -EINVAL);
	}
	if (w->mode != KBATCH_REDUCE)
		KUNIT_EXPECT_EQ(test, kbatch_reduce(queue, 4), -EINVAL);
	expect_queue_warning(false);
}

/*
 * A call of another front end than the queue's is a caller's bug: it
 * warns, returns -EINVAL and pushes nothing, so the queue's own call that
 * follows runs in a batch of one.
 */
static void queue_wrong_mode_is_einval(struct kunit *test)
{
	static const enum kbatch_mode modes[] = {
		KBATCH_TASK, KBATCH_BACKGROUND, KBATCH_REDUCE,
	};
	struct wrong *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	struct kbatch_req req = { .arg = 41 };
	struct kbatch_queue *queue;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, w);
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		w->mode = modes[i];
		w->len = 0;
		queue = kbatch_queue_alloc("wrong", w->mode, 8, wrong_fn, w);
		KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
		wrong_calls(test, queue, w);
		if (w->mode == KBATCH_TASK) {
			KUNIT_EXPECT_EQ(test, kbatch_submit(queue, &req), KBATCH_LED);
			KUNIT_EXPECT_EQ(test, req.result, 42l);
		} else if (w->mode == KBATCH_BACKGROUND) {
			KUNIT_EXPECT_EQ(test, kbatch_post(queue, 7), 0);
		} else {
			KUNIT_EXPECT_EQ(test, kbatch_reduce(queue, 7), KBATCH_LED);
		}
		kbatch_queue_free(queue);
		KUNIT_EXPECT_EQ(test, w->len, 1u);
		if (w->mode != KBATCH_TASK)
			KUNIT_EXPECT_EQ(test, w->sum, 7ul);
	}
}

static struct kunit_case queue_cases[] = {
	KUNIT_CASE(queue_alloc_rejects_bad_args),
	KUNIT_CASE(queue_lazy_callback_cancels),
	KUNIT_CASE(queue_deferred_bound_grows_batch),
	KUNIT_CASE_PARAM(queue_stress_task_mode, stress_size_gen_params),
	KUNIT_CASE_PARAM(queue_stress_background_mode, stress_size_gen_params),
	KUNIT_CASE_PARAM(queue_stress_submit_many, stress_size_gen_params),
	KUNIT_CASE(queue_submit_many_one_batch),
	KUNIT_CASE(queue_submit_many_larger_than_ring),
	KUNIT_CASE(queue_full_task_mode_waits),
	KUNIT_CASE(queue_full_background_atomic),
	KUNIT_CASE(queue_full_reducer_atomic),
	KUNIT_CASE(queue_post_from_hardirq),
	KUNIT_CASE(queue_post_three_contexts_one_cpu),
	KUNIT_CASE(queue_post_many_partial),
	KUNIT_CASE(queue_background_remote_bound),
	KUNIT_CASE(queue_gate_opens_only_for_live_background),
	KUNIT_CASE(queue_reducer_free_bulk_one_call),
	KUNIT_CASE(queue_reducer_free_bulk_stress),
	KUNIT_CASE(queue_stats_in_debugfs),
	KUNIT_CASE(queue_batch_values_across_the_end),
	KUNIT_CASE(queue_wrong_mode_is_einval),
	{}
};

static struct kunit_suite queue_suite = {
	.name = "kbatch_queue",
	.test_cases = queue_cases,
};

kunit_test_suite(queue_suite);
