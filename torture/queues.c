// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_torture: batch queues of every mode, allocated and freed while
 * kthreads and timers push into them.
 *
 * A pool of KT_QSLOTS slots holds one queue each (slot % 3 is its mode;
 * half the background and reducer queues spill, KBATCH_QUEUE_SPILL).
 * Every queue generation hands out task ids 0..KT_IDS-1; a task's value
 * is the generation's random tag in the high 32 bits and its id below.
 * The producer sets the id's bit in @accepted when kbatch tells it the
 * task was taken; the batch callback sets it in @run, and finding it set
 * already is a task run twice.  When the queue is retired (shut down and
 * freed), the two bitmaps must be equal: every accepted task ran exactly
 * once, and no refused task ran.  Task-mode callers also check the result
 * the callback gave them.
 *
 * Users (kthreads, hardirq and softirq timers) find a queue under RCU and
 * take a reference on its struct kt_queue; retiring unpublishes the slot,
 * sometimes shuts the queue down while users are still pushing, waits for
 * the users to leave, frees the queue and reconciles.
 */
#include <linux/bitmap.h>
#include <linux/err.h>
#include <linux/kbatch.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include "torture.h"

#define KT_QSLOTS	6
#define KT_IDS		BIT(14)
#define KT_MANY		8
/* Values of a value burst copied at once with kbatch_batch_values(). */
#define KT_BULK		16
/* Longest wait for a queue's users to leave. */
#define KT_USERS_TIMEOUT	(60 * HZ)

struct kt_queue {
	struct kbatch_queue *q;
	enum kbatch_mode mode;
	unsigned int flags;
	refcount_t users;
	atomic_t next_id;
	u32 tag;
	unsigned int size;
	atomic_long_t accepted_n;
	atomic_long_t run_n;
	unsigned long *accepted;
	unsigned long *run;
};

static struct kt_queue __rcu *kt_qslots[KT_QSLOTS];
/* Serialise the churn of each slot. */
static struct mutex kt_qslot_lock[KT_QSLOTS];

/* Set in a request the callback leaves for kbatch to cancel. */
static char kt_left_marker;

static unsigned long kt_value(struct kt_queue *tq, u32 id)
{
	return ((unsigned long)tq->tag << 32) | id;
}

/* The result a task-mode callback gives the task of value @v. */
static long kt_result(unsigned long v)
{
	return (long)(~v & LONG_MAX);
}

/* A task of @tq ran (callback side). */
static void kt_queue_ran(struct kt_queue *tq, unsigned long v)
{
	u32 id = lower_32_bits(v);

	if (upper_32_bits(v) != tq->tag || id >= atomic_read(&tq->next_id) ||
	    id >= KT_IDS) {
		kt_violation("queue mode %d: batch holds %#lx, a value never pushed to it",
			     tq->mode, v);
		return;
	}
	if (test_and_set_bit(id, tq->run))
		kt_violation("queue mode %d: task %u (%#lx) run twice",
			     tq->mode, id, v);
	atomic_long_inc(&tq->run_n);
	kt_count(KT_RUN, 1);
}

/* A task of @tq was taken (producer side). */
static void kt_queue_accepted(struct kt_queue *tq, unsigned long v)
{
	if (test_and_set_bit(lower_32_bits(v), tq->accepted))
		kt_violation("queue mode %d: id %u accepted twice", tq->mode,
			     lower_32_bits(v));
	atomic_long_inc(&tq->accepted_n);
}

static void kt_task_batch(struct kt_queue *tq, struct kbatch_batch *b,
			  unsigned int n)
{
	struct kbatch_req *req;
	unsigned int i;

	for (i = 0; i < n; i++) {
		req = kbatch_batch_req(b, i);
		if (!req) {
			kt_violation("task batch: task %u of %u has no request", i, n);
			continue;
		}
		kt_queue_ran(tq, req->arg);
		if (!get_random_u32_below(64)) {
			/* kbatch must complete it with -ECANCELED. */
			req->ptr = &kt_left_marker;
			kt_count(KT_LEFT, 1);
			continue;
		}
		kbatch_complete(b, i, kt_result(req->arg));
		/* A second completion must change nothing. */
		if (!get_random_u32_below(16))
			kbatch_complete(b, i, -EIO);
	}
}

static void kt_value_batch(struct kt_queue *tq, struct kbatch_batch *b,
			   unsigned int n)
{
	unsigned long vals[KT_BULK];
	unsigned int i, j, got;

	if (get_random_u32_below(2)) {
		for (i = 0; i < n; i++)
			kt_queue_ran(tq, kbatch_batch_value(b, i));
		return;
	}
	for (i = 0; i < n; i += got) {
		got = kbatch_batch_values(b, i, vals, KT_BULK);
		if (got != min_t(unsigned int, KT_BULK, n - i)) {
			kt_violation("kbatch_batch_values(%u of %u) copied %u",
				     i, n, got);
			return;
		}
		for (j = 0; j < got; j++)
			kt_queue_ran(tq, vals[j]);
	}
}

/* The batch callback of every torture queue; @data is its struct kt_queue. */
static void kt_queue_fn(struct kbatch_batch *b, void *data)
{
	struct kt_queue *tq = data;
	unsigned int n;

	kt_count(KT_BATCH, 1);
	/* Wait for a "resource": the batch keeps growing meanwhile. */
	kt_maybe_sleep(300);
	n = kbatch_bound(b);
	if (!n || n > tq->size || kbatch_bound(b) != n) {
		kt_violation("queue mode %d size %u: batch of %u tasks", tq->mode,
			     tq->size, n);
		return;
	}
	if (kbatch_batch_cpu(b) >= nr_cpu_ids)
		kt_violation("batch on CPU %u", kbatch_batch_cpu(b));
	if (tq->mode == KBATCH_TASK)
		kt_task_batch(tq, b, n);
	else
		kt_value_batch(tq, b, n);
}

static struct kt_queue *kt_queue_get(unsigned int slot)
{
	struct kt_queue *tq;

	rcu_read_lock();
	tq = rcu_dereference(kt_qslots[slot]);
	if (tq && !refcount_inc_not_zero(&tq->users))
		tq = NULL;
	rcu_read_unlock();
	return tq;
}

/* Any context: the last user wakes the retirer. */
static void kt_queue_put(struct kt_queue *tq)
{
	if (refcount_dec_and_test(&tq->users))
		wake_up_var(&tq->users);
}

/* A slot of @mode, picked at random. */
static struct kt_queue *kt_queue_pick(struct rnd_state *rs, enum kbatch_mode mode)
{
	return kt_queue_get(mode + 3 * kt_rand(rs, KT_QSLOTS / 3));
}

/* Take @n fresh ids; false once the generation has used them all. */
static bool kt_take_ids(struct kt_queue *tq, unsigned int n, u32 *first)
{
	if (atomic_read(&tq->next_id) + n > KT_IDS)
		return false;
	*first = atomic_fetch_add(n, &tq->next_id);
	return *first + n <= KT_IDS;
}

/* Check what kbatch_submit*() did to request @req, which it completed. */
static void kt_task_check(struct kt_queue *tq, struct kbatch_req *req)
{
	long want = kt_result(req->arg);

	if (req->ptr == &kt_left_marker)
		want = -ECANCELED;
	if (req->result != want)
		kt_violation("task %#lx: result %ld, expected %ld", req->arg,
			     req->result, want);
	kt_queue_accepted(tq, req->arg);
	kt_count(KT_SUBMIT, 1);
}

/* Count an error of a call that may be refused; anything else is wrong. */
static void kt_refused(const char *call, int ret, bool full_ok)
{
	if (ret == -ESHUTDOWN)
		kt_count(KT_ESHUTDOWN, 1);
	else if (ret == -EAGAIN && full_ok)
		kt_count(KT_EAGAIN, 1);
	else
		kt_violation("%s returned %d", call, ret);
}

/**
 * kt_queue_task_traffic() - one kbatch_submit() or kbatch_submit_many()
 * @rs: the caller's random state
 *
 * Context: process context, may sleep.
 */
void kt_queue_task_traffic(struct rnd_state *rs)
{
	struct kbatch_req reqs[KT_MANY];
	unsigned int n = 1 + kt_rand(rs, KT_MANY), i;
	struct kt_queue *tq = kt_queue_pick(rs, KBATCH_TASK);
	int ret, done;
	u32 first;

	if (!tq)
		return;
	if (!kt_take_ids(tq, n, &first))
		goto out;
	memset(reqs, 0, sizeof(reqs));
	for (i = 0; i < n; i++)
		reqs[i].arg = kt_value(tq, first + i);
	if (n == 1 && kt_rand(rs, 2)) {
		ret = kbatch_submit(tq->q, reqs);
		done = ret == KBATCH_LED || ret == KBATCH_FOLLOWED;
	} else {
		ret = kbatch_submit_many(tq->q, reqs, n);
		done = ret > 0 && ret <= n ? ret : 0;
		if (!done && ret >= 0)
			kt_violation("kbatch_submit_many(%u) returned %d", n, ret);
	}
	if (ret < 0)
		kt_refused("kbatch_submit", ret, false);
	for (i = 0; i < done; i++)
		kt_task_check(tq, &reqs[i]);
out:
	kt_queue_put(tq);
}

/* Push one value; true if it was taken. */
static bool kt_push_value(struct kt_queue *tq, unsigned long v, bool reduce)
{
	int ret;

	if (reduce) {
		ret = kbatch_reduce(tq->q, v);
		if (ret == KBATCH_LED || ret == KBATCH_FOLLOWED) {
			kt_queue_accepted(tq, v);
			kt_count(KT_REDUCE, 1);
			return true;
		}
	} else {
		ret = kbatch_post(tq->q, v);
		if (!ret) {
			kt_queue_accepted(tq, v);
			kt_count(KT_POST, 1);
			return true;
		}
	}
	kt_refused(reduce ? "kbatch_reduce" : "kbatch_post", ret, true);
	return false;
}

static void kt_value_burst(struct kt_queue *tq, unsigned int n, bool reduce)
{
	unsigned int i;
	u32 first;

	if (!kt_take_ids(tq, n, &first))
		return;
	for (i = 0; i < n; i++)
		if (!kt_push_value(tq, kt_value(tq, first + i), reduce))
			break;
}

/**
 * kt_queue_value_traffic() - a burst of kbatch_post() or kbatch_reduce()
 * @rs: the caller's random state
 * @reduce: kbatch_reduce() on a reducer queue, else kbatch_post()
 * @max_burst: most values pushed
 *
 * In process context the burst runs, at random, as it is, with bottom
 * halves disabled or with preemption disabled.
 *
 * Context: any (hardirq and softirq timers call it too).
 */
void kt_queue_value_traffic(struct rnd_state *rs, bool reduce,
			    unsigned int max_burst)
{
	struct kt_queue *tq;
	unsigned int n = 1 + kt_rand(rs, max_burst);

	tq = kt_queue_pick(rs, reduce ? KBATCH_REDUCE : KBATCH_BACKGROUND);
	if (!tq)
		return;
	if (!preemptible()) {
		kt_value_burst(tq, n, reduce);
	} else {
		switch (kt_rand(rs, 3)) {
		case 0:
			kt_value_burst(tq, n, reduce);
			break;
		case 1:
			local_bh_disable();
			kt_value_burst(tq, n, reduce);
			local_bh_enable();
			break;
		default:
			preempt_disable();
			kt_value_burst(tq, n, reduce);
			preempt_enable();
			break;
		}
	}
	kt_queue_put(tq);
}

static void kt_queue_destroy(struct kt_queue *tq)
{
	bitmap_free(tq->accepted);
	bitmap_free(tq->run);
	kfree(tq);
}

static struct kt_queue *kt_queue_create(enum kbatch_mode mode,
					struct rnd_state *rs)
{
	struct kt_queue *tq = kzalloc(sizeof(*tq), GFP_KERNEL);
	struct kbatch_queue *q;

	if (tq) {
		tq->accepted = bitmap_zalloc(KT_IDS, GFP_KERNEL);
		tq->run = bitmap_zalloc(KT_IDS, GFP_KERNEL);
	}
	if (!tq || !tq->accepted || !tq->run)
		goto nomem;
	tq->mode = mode;
	tq->tag = prandom_u32_state(rs);
	tq->size = 1U << (1 + kt_rand(rs, 10));
	refcount_set(&tq->users, 1);
	/* Half the background and reducer queues spill (a full ring). */
	if (mode != KBATCH_TASK && kt_rand(rs, 2))
		tq->flags = KBATCH_QUEUE_SPILL;
	q = kbatch_queue_alloc_flags("torture", mode, tq->size, kt_queue_fn, tq,
				     tq->flags);
	if (IS_ERR(q)) {
		if (PTR_ERR(q) != -ENOMEM)
			kt_violation("kbatch_queue_alloc_flags(size %u, flags %#x): %ld",
				     tq->size, tq->flags, PTR_ERR(q));
		goto nomem;
	}
	tq->q = q;
	kt_count(KT_QGEN, 1);
	return tq;
nomem:
	kt_count(KT_ENOMEM, 1);
	if (tq)
		kt_queue_destroy(tq);
	return NULL;
}

/* The first bit set in @a and clear in @b, or KT_IDS. */
static unsigned long kt_first_andnot(const unsigned long *a,
				     const unsigned long *b)
{
	unsigned int i;

	for (i = 0; i < BITS_TO_LONGS(KT_IDS); i++)
		if (a[i] & ~b[i])
			return i * BITS_PER_LONG + __ffs(a[i] & ~b[i]);
	return KT_IDS;
}

/* Every accepted task ran exactly once, and nothing else ran. */
static void kt_queue_reconcile(struct kt_queue *tq)
{
	unsigned long lost, extra;

	lost = kt_first_andnot(tq->accepted, tq->run);
	extra = kt_first_andnot(tq->run, tq->accepted);
	if (lost < KT_IDS)
		kt_violation("queue mode %d: task %lu accepted, never ran (%ld accepted, %ld ran)",
			     tq->mode, lost, atomic_long_read(&tq->accepted_n),
			     atomic_long_read(&tq->run_n));
	if (extra < KT_IDS)
		kt_violation("queue mode %d: task %lu ran but was refused",
			     tq->mode, extra);
	if (atomic_long_read(&tq->accepted_n) != atomic_long_read(&tq->run_n))
		kt_violation("queue mode %d: %ld tasks accepted, %ld ran",
			     tq->mode, atomic_long_read(&tq->accepted_n),
			     atomic_long_read(&tq->run_n));
}

/*
 * Retire an unpublished queue: shut it down first while users may still
 * push (@early), or wait for them and let kbatch_queue_free() shut it down.
 */
static void kt_queue_retire(struct kt_queue *tq, bool early)
{
	if (early && !kbatch_queue_shutdown(tq->q))
		kt_violation("kbatch_queue_shutdown() timed out");
	kt_queue_put(tq);
	if (!wait_var_event_timeout(&tq->users, !refcount_read(&tq->users),
				    KT_USERS_TIMEOUT)) {
		kt_violation("queue mode %d: users still inside after %d s; leaking it",
			     tq->mode, KT_USERS_TIMEOUT / HZ);
		return;
	}
	kbatch_queue_free(tq->q);
	kt_queue_reconcile(tq);
	kt_count(KT_QFREE, 1);
	/* Users that read the slot before it was cleared may still look. */
	synchronize_rcu();
	kt_queue_destroy(tq);
}

/* Retire the queue of @slot and, unless stopping, put a new one there. */
static void kt_queue_replace(unsigned int slot, struct rnd_state *rs)
{
	struct kt_queue *old;

	lockdep_assert_held(&kt_qslot_lock[slot]);
	old = rcu_replace_pointer(kt_qslots[slot], NULL,
				  lockdep_is_held(&kt_qslot_lock[slot]));
	if (old)
		kt_queue_retire(old, rs && kt_rand(rs, 2));
	/*
	 * Release: the new struct is initialised before users see it; pairs
	 * with rcu_dereference() in kt_queue_get().
	 */
	if (rs && !READ_ONCE(kt_stopping))
		rcu_assign_pointer(kt_qslots[slot],
				   kt_queue_create(slot % 3, rs));
}

static bool kt_queue_filled(unsigned int slot)
{
	return rcu_access_pointer(kt_qslots[slot]);
}

static struct lock_class_key kt_qslot_key;

/* The pool of queues, churned by kt_pool_churn() (pool.c). */
const struct kt_pool kt_queue_pool = {
	.n = KT_QSLOTS,
	.lock = kt_qslot_lock,
	.lock_name = "kt_qslot_lock",
	.lock_key = &kt_qslot_key,
	.seed = 0x9e37,
	.replace = kt_queue_replace,
	.filled = kt_queue_filled,
};
