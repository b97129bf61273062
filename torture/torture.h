/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kbatch_torture: what the parts of the torture module share.
 *
 * main.c    parameters, the controller kthread, statistics, the verdict
 * pool.c    slots of RCU-published objects, churned under a mutex each
 * queues.c  a pool of batch queues of every mode, churned while producers
 *           push; every accepted task is checked to be run exactly once
 * pollers.c a pool of pollers whose items are added, woken, cancelled and
 *           dropped; nothing may be polled after cancel or DONE
 * ops.c     ops registered and unregistered while user space submits them
 * cpus.c    CPUs taken offline and brought back online
 * timers.c  hrtimers (hardirq and softirq) that post, reduce and wake
 *
 * Only kbatch's exported API (include/linux/kbatch.h) is used.
 */
#ifndef _KBATCH_TORTURE_H
#define _KBATCH_TORTURE_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/prandom.h>
#include <linux/types.h>

/* Counters shown on every statistics line. */
enum kt_counter {
	KT_SUBMIT,		/* task-mode requests completed */
	KT_POST,		/* kbatch_post() accepted */
	KT_REDUCE,		/* kbatch_reduce() accepted */
	KT_RUN,			/* tasks seen by a batch callback */
	KT_BATCH,		/* batch callbacks */
	KT_LEFT,		/* task-mode tasks left to -ECANCELED on purpose */
	KT_EAGAIN,		/* post/reduce refused: ring full */
	KT_ESHUTDOWN,		/* calls refused: queue shutting down */
	KT_ENOMEM,		/* allocations that failed (failslab) */
	KT_QGEN,		/* queues allocated */
	KT_QFREE,		/* queues freed and reconciled */
	KT_PADD,		/* kbatch_poller_add() that succeeded */
	KT_ENOSPC,		/* kbatch_poller_add() with no free slot */
	KT_PWAKE,		/* kbatch_wake() calls */
	KT_PCANCEL,		/* kbatch_poller_cancel() of registered items */
	KT_POLL,		/* poll callbacks */
	KT_PDONE,		/* poll callbacks that answered DONE */
	KT_PGEN,		/* pollers allocated */
	KT_OPREG,		/* kbatch_register_op() that succeeded */
	KT_OPUNREG,		/* kbatch_unregister_op() */
	KT_OPRUN,		/* op entries run */
	KT_CPUOFF,		/* CPUs taken offline */
	KT_CPUON,		/* CPUs brought online */
	KT_HARDIRQ,		/* hardirq timer callbacks */
	KT_SOFTIRQ,		/* softirq timer callbacks */
	KT_NR_COUNTERS
};

extern atomic_long_t kt_counters[KT_NR_COUNTERS];

static inline void kt_count(enum kt_counter c, long n)
{
	atomic_long_add(n, &kt_counters[c]);
}

/* Whether the test is ending: workers and timers stop. */
extern bool kt_stopping;

void kt_violation(const char *fmt, ...) __printf(1, 2);

/* A random number below @n (n > 0) from a private generator. */
static inline u32 kt_rand(struct rnd_state *rs, u32 n)
{
	return prandom_u32_state(rs) % n;
}

void kt_rand_init(struct rnd_state *rs, unsigned long stream);

/* Sleep a little when the context allows it (batch and poll callbacks). */
void kt_maybe_sleep(unsigned int max_us);

/**
 * struct kt_pool - slots of RCU-published objects (pool.c)
 * @n: number of slots
 * @lock: per slot, held while its object is replaced
 * @lock_name: the locks' name for lockdep
 * @lock_key: the locks' lockdep class, one per pool, as a mutex_init()
 *	in the owner's file would give
 * @seed: the stream of kt_pool_init()'s random state
 * @replace: with the slot's lock held, retire its object if any and, if
 *	@rs is not NULL and the test is not stopping, publish a new one
 * @filled: whether the slot holds an object
 */
struct kt_pool {
	unsigned int n;
	struct mutex *lock;	/* see @lock above */
	const char *lock_name;
	struct lock_class_key *lock_key;
	unsigned long seed;
	void (*replace)(unsigned int slot, struct rnd_state *rs);
	bool (*filled)(unsigned int slot);
};

void kt_pool_churn(const struct kt_pool *pool, struct rnd_state *rs);
int kt_pool_init(const struct kt_pool *pool);
void kt_pool_exit(const struct kt_pool *pool);

/* queues.c */
extern const struct kt_pool kt_queue_pool;
void kt_queue_task_traffic(struct rnd_state *rs);
void kt_queue_value_traffic(struct rnd_state *rs, bool reduce,
			    unsigned int max_burst);

/* pollers.c */
extern const struct kt_pool kt_poller_pool;
void kt_poller_traffic(struct rnd_state *rs);
void kt_poller_wake_any(struct rnd_state *rs);

/* ops.c */
int kt_ops_start(void);
void kt_ops_stop(void);

/* cpus.c */
int kt_cpus_start(unsigned int interval_ms);
void kt_cpus_stop(void);

/* timers.c */
int kt_timers_start(unsigned int n, unsigned int period_us);
void kt_timers_stop(void);

#endif /* _KBATCH_TORTURE_H */
