// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_torture: a randomized stress test of kbatch, in the style of
 * rcutorture and locktorture.
 *
 * Loading the module starts a controller kthread that sets up the pools
 * (queues.c, pollers.c), registers the ops (ops.c), starts the hotplug
 * kthread (cpus.c), the timers (timers.c) and @nthreads worker kthreads,
 * each doing a random mix of operations drawn with the weights w_*.  Every
 * @stat_interval seconds it prints a line of counters; after @duration
 * seconds (or at rmmod, whichever comes first) it stops everything,
 * retires every queue and poller (which reconciles them) and prints
 *
 *	kbatch_torture: SUCCESS
 * or
 *	kbatch_torture: FAILURE (...)
 *
 * FAILURE means a violation (each is printed as "kbatch_torture:
 * VIOLATION: ...", the first KT_MAX_REPORTS of them) or a kind of traffic
 * that made no progress.  The module stays loaded until rmmod.
 *
 * With failslab=1, the worker kthreads are marked for fault injection
 * (/proc/<pid>/make-it-fail), so that failslab with task-filter set fails
 * only their allocations; -ENOMEM is then counted, never a violation.
 */
#include <linux/err.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "torture.h"

#define KT_MAX_REPORTS	20

static int duration = 60;
module_param(duration, int, 0444);
MODULE_PARM_DESC(duration, "seconds to run (default 60)");
static ulong seed;
module_param(seed, ulong, 0444);
MODULE_PARM_DESC(seed, "random seed; 0 picks one (printed at start)");
static int stat_interval = 5;
module_param(stat_interval, int, 0444);
MODULE_PARM_DESC(stat_interval, "seconds between statistics lines (default 5)");
static int nthreads;
module_param(nthreads, int, 0444);
MODULE_PARM_DESC(nthreads, "worker kthreads; 0 for one per online CPU");
static int nr_timers = 4;
module_param(nr_timers, int, 0444);
MODULE_PARM_DESC(nr_timers, "hrtimers, half hardirq, half softirq (default 4)");
static int timer_us = 500;
module_param(timer_us, int, 0444);
MODULE_PARM_DESC(timer_us, "mean timer period in microseconds (default 500)");
static int hotplug_ms = 300;
module_param(hotplug_ms, int, 0444);
MODULE_PARM_DESC(hotplug_ms, "mean ms between CPU offline/online; 0 disables");
static bool ops = true;
module_param(ops, bool, 0444);
MODULE_PARM_DESC(ops, "register and unregister ops torture.0 and torture.1");
static bool failslab;
module_param(failslab, bool, 0444);
MODULE_PARM_DESC(failslab, "mark the workers for failslab's task-filter");

/* The mix: relative weights of the workers' operations. */
static int w_task = 40;
module_param(w_task, int, 0444);
MODULE_PARM_DESC(w_task, "weight of kbatch_submit()/kbatch_submit_many()");
static int w_post = 40;
module_param(w_post, int, 0444);
MODULE_PARM_DESC(w_post, "weight of kbatch_post() bursts");
static int w_reduce = 30;
module_param(w_reduce, int, 0444);
MODULE_PARM_DESC(w_reduce, "weight of kbatch_reduce() bursts");
static int w_poller = 40;
module_param(w_poller, int, 0444);
MODULE_PARM_DESC(w_poller, "weight of poller add/wake/cancel");
static int w_qchurn = 1;
module_param(w_qchurn, int, 0444);
MODULE_PARM_DESC(w_qchurn, "weight of queue retire and realloc");
static int w_pchurn = 1;
module_param(w_pchurn, int, 0444);
MODULE_PARM_DESC(w_pchurn, "weight of poller retire and realloc");

atomic_long_t kt_counters[KT_NR_COUNTERS];
bool kt_stopping;
static atomic_long_t kt_violations;
static struct task_struct *kt_controller_task;
static struct task_struct **kt_workers;
static unsigned int kt_nr_workers;
static unsigned long kt_start;

static const char * const kt_names[KT_NR_COUNTERS] = {
	[KT_SUBMIT] = "submit", [KT_POST] = "post", [KT_REDUCE] = "reduce",
	[KT_RUN] = "run", [KT_BATCH] = "batches", [KT_LEFT] = "left",
	[KT_EAGAIN] = "eagain", [KT_ESHUTDOWN] = "eshutdown",
	[KT_ENOMEM] = "enomem", [KT_QGEN] = "qalloc", [KT_QFREE] = "qfree",
	[KT_PADD] = "padd", [KT_ENOSPC] = "enospc", [KT_PWAKE] = "wake",
	[KT_PCANCEL] = "cancel", [KT_POLL] = "polls", [KT_PDONE] = "pdone",
	[KT_PGEN] = "palloc", [KT_OPREG] = "opreg", [KT_OPUNREG] = "opunreg",
	[KT_OPRUN] = "opruns", [KT_CPUOFF] = "cpuoff", [KT_CPUON] = "cpuon",
	[KT_HARDIRQ] = "hardirq", [KT_SOFTIRQ] = "softirq",
};

/**
 * kt_violation() - record a broken invariant
 * @fmt: what broke
 *
 * Context: any.
 */
void kt_violation(const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	if (atomic_long_inc_return(&kt_violations) > KT_MAX_REPORTS)
		return;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_err("kbatch_torture: VIOLATION: %pV\n", &vaf);
	va_end(args);
}

/**
 * kt_rand_init() - seed a private generator from the module's seed
 * @rs: the generator
 * @stream: tells the caller's generator from the others
 *
 * Context: any.
 */
void kt_rand_init(struct rnd_state *rs, unsigned long stream)
{
	prandom_seed_state(rs, seed ^ (stream * 0x9e3779b97f4a7c15ULL));
}

/**
 * kt_maybe_sleep() - sometimes sleep up to @max_us, if we may sleep
 * @max_us: the longest sleep
 *
 * Context: any; sleeps only when preemptible.
 */
void kt_maybe_sleep(unsigned int max_us)
{
	if (!preemptible() || get_random_u32_below(4))
		return;
	usleep_range(10, 10 + get_random_u32_below(max_us));
}

static void kt_print_stats(const char *what)
{
	char line[512];
	int len, i;

	len = scnprintf(line, sizeof(line), "%s t=%us", what,
			jiffies_to_msecs(jiffies - kt_start) / 1000);
	for (i = 0; i < KT_NR_COUNTERS; i++)
		len += scnprintf(line + len, sizeof(line) - len, " %s=%ld",
				 kt_names[i], atomic_long_read(&kt_counters[i]));
	pr_info("kbatch_torture: %s violations=%ld\n", line,
		atomic_long_read(&kt_violations));
}

/* One of the mix's operations, drawn with the weights w_*. */
static unsigned int kt_pick(struct rnd_state *rs, int total)
{
	const int weights[] = { w_task, w_post, w_reduce, w_poller, w_qchurn,
				w_pchurn };
	int r = kt_rand(rs, total);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(weights) - 1; i++) {
		if (r < weights[i])
			break;
		r -= weights[i];
	}
	return i;
}

static int kt_worker(void *arg)
{
	int total = w_task + w_post + w_reduce + w_poller + w_qchurn + w_pchurn;
	unsigned long n = 0;
	struct rnd_state rs;

	kt_rand_init(&rs, 1000 + (unsigned long)arg);
#ifdef CONFIG_FAULT_INJECTION
	if (failslab)
		current->make_it_fail = 1;
#endif
	while (!kthread_should_stop()) {
		switch (kt_pick(&rs, total)) {
		case 0:
			kt_queue_task_traffic(&rs);
			break;
		case 1:
			kt_queue_value_traffic(&rs, false, 32);
			break;
		case 2:
			kt_queue_value_traffic(&rs, true, 32);
			break;
		case 3:
			kt_poller_traffic(&rs);
			break;
		case 4:
			kt_pool_churn(&kt_queue_pool, &rs);
			break;
		default:
			kt_pool_churn(&kt_poller_pool, &rs);
			break;
		}
		/* Leave the CPUs to user space and the workqueues now and then. */
		if (!(++n % 64))
			schedule_timeout_interruptible(1);
		cond_resched();
	}
	return 0;
}

static int kt_workers_start(void)
{
	unsigned int i;

	kt_nr_workers = nthreads > 0 ? nthreads : num_online_cpus();
	kt_workers = kcalloc(kt_nr_workers, sizeof(*kt_workers), GFP_KERNEL);
	if (!kt_workers)
		return -ENOMEM;
	for (i = 0; i < kt_nr_workers; i++) {
		kt_workers[i] = kthread_run(kt_worker, (void *)(unsigned long)i,
					    "kt_worker/%u", i);
		if (IS_ERR(kt_workers[i])) {
			int ret = PTR_ERR(kt_workers[i]);

			kt_workers[i] = NULL;
			return ret;
		}
	}
	return 0;
}

static void kt_workers_stop(void)
{
	unsigned int i;

	for (i = 0; kt_workers && i < kt_nr_workers; i++)
		if (kt_workers[i])
			kthread_stop(kt_workers[i]);
	kfree(kt_workers);
	kt_workers = NULL;
}

static int kt_setup(void)
{
	int ret;

	ret = kt_pool_init(&kt_queue_pool);
	if (!ret)
		ret = kt_pool_init(&kt_poller_pool);
	if (!ret && ops)
		ret = kt_ops_start();
	if (!ret && hotplug_ms > 0)
		ret = kt_cpus_start(hotplug_ms);
	if (!ret)
		ret = kt_timers_start(nr_timers, timer_us);
	if (!ret)
		ret = kt_workers_start();
	return ret;
}

/* Stop in the reverse order: users first, then what they used. */
static void kt_teardown(void)
{
	WRITE_ONCE(kt_stopping, true);
	kt_timers_stop();
	kt_workers_stop();
	kt_cpus_stop();
	kt_ops_stop();
	kt_pool_exit(&kt_poller_pool);
	kt_pool_exit(&kt_queue_pool);
}

/* A kind of traffic that was asked for and never happened. */
static bool kt_stalled(bool wanted, enum kt_counter c)
{
	if (!wanted || atomic_long_read(&kt_counters[c]))
		return false;
	pr_err("kbatch_torture: no progress: %s stayed 0\n", kt_names[c]);
	return true;
}

static void kt_verdict(void)
{
	bool stalled = false;

	stalled |= kt_stalled(w_task > 0, KT_SUBMIT);
	stalled |= kt_stalled(w_post > 0, KT_POST);
	stalled |= kt_stalled(w_reduce > 0, KT_REDUCE);
	stalled |= kt_stalled(w_poller > 0, KT_POLL);
	stalled |= kt_stalled(w_qchurn > 0, KT_QFREE);
	stalled |= kt_stalled(ops, KT_OPREG);
	stalled |= kt_stalled(hotplug_ms > 0 && nr_cpu_ids > 1, KT_CPUOFF);
	stalled |= kt_stalled(nr_timers > 0, KT_HARDIRQ);
	stalled |= kt_stalled(nr_timers > 1, KT_SOFTIRQ);
	kt_print_stats("end");
	if (atomic_long_read(&kt_violations) || stalled)
		pr_err("kbatch_torture: FAILURE (%ld violations%s)\n",
		       atomic_long_read(&kt_violations),
		       stalled ? ", no progress" : "");
	else
		pr_info("kbatch_torture: SUCCESS\n");
}

static int kt_controller(void *unused)
{
	unsigned long end;
	int ret;

	kt_start = jiffies;
	end = kt_start + duration * HZ;
	ret = kt_setup();
	if (ret)
		kt_violation("setup failed: %d", ret);
	while (!ret && !kthread_should_stop() && time_before(jiffies, end)) {
		schedule_timeout_interruptible(min_t(unsigned long,
						     stat_interval * HZ,
						     end - jiffies));
		kt_print_stats("running");
	}
	kt_teardown();
	kt_verdict();
	/* Stay until rmmod, as the torture modules do. */
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static int __init kt_init(void)
{
	if (duration <= 0 || stat_interval <= 0 || nthreads < 0 ||
	    nr_timers < 0 || timer_us <= 0 || hotplug_ms < 0 || w_task < 0 ||
	    w_post < 0 || w_reduce < 0 || w_poller < 0 || w_qchurn < 0 ||
	    w_pchurn < 0 ||
	    !(w_task + w_post + w_reduce + w_poller + w_qchurn + w_pchurn))
		return -EINVAL;
	if (!seed)
		seed = get_random_u64() ?: 1;
	pr_info("kbatch_torture: start: duration=%d seed=%lu nthreads=%d nr_timers=%d timer_us=%d hotplug_ms=%d ops=%d failslab=%d mix=task:%d,post:%d,reduce:%d,poller:%d,qchurn:%d,pchurn:%d\n",
		duration, seed, nthreads, nr_timers, timer_us, hotplug_ms, ops,
		failslab, w_task, w_post, w_reduce, w_poller, w_qchurn, w_pchurn);
	kt_controller_task = kthread_create(kt_controller, NULL, "kt_controller");
	if (IS_ERR(kt_controller_task))
		return PTR_ERR(kt_controller_task);
	get_task_struct(kt_controller_task);
	wake_up_process(kt_controller_task);
	return 0;
}

/* Ends a test still running early, with its verdict. */
static void __exit kt_exit(void)
{
	kthread_stop(kt_controller_task);
	put_task_struct(kt_controller_task);
}

module_init(kt_init);
module_exit(kt_exit);

MODULE_DESCRIPTION("kbatch torture test");
MODULE_AUTHOR("The kbatch developers");
MODULE_LICENSE("GPL");
