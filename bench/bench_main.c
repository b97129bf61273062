// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_bench.ko: kbatch side by side with the kernel's own primitives.
 *
 * Nothing runs at load.  Writing a table's name to
 * /sys/kernel/debug/kbatch_bench/run runs it in the writer's context and
 * prints one line per figure on the console:
 *
 *	@kb bench <table>,<impl>,<cpus>,<batch>,<median>,<min>,<max>,<extra>
 *
 * Tables: "queue" (ns per task, queue_bench.c), "prim" (ns per building
 * block of a push, prim_bench.c), "poller" (poll cost, latency and
 * fairness, poller_bench.c), "teardown" (ns per kbatch_queue_free(),
 * teardown_bench.c), "trace" (a disabled tracepoint against none,
 * trace_bench.c) and "spill" (every post on one CPU, spill on and off,
 * spill_bench.c, which prints its own "@kb bench-spill" lines).  Every figure is the median, min
 * and max of kb_runs timed runs that follow kb_warmup untimed ones.
 */
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/ktime.h>
#include <linux/uaccess.h>

#include "bench.h"

unsigned int kb_runs = 5;
module_param_named(runs, kb_runs, uint, 0644);
MODULE_PARM_DESC(runs, "timed runs per figure (at least 1)");
unsigned int kb_warmup = 1;
module_param_named(warmup, kb_warmup, uint, 0644);
MODULE_PARM_DESC(warmup, "untimed runs before the timed ones");
unsigned int kb_tasks = 4096;
module_param_named(tasks, kb_tasks, uint, 0644);
MODULE_PARM_DESC(tasks, "tasks per producer per run (a multiple of 256)");

bool kb_insn;
module_param_named(insn, kb_insn, bool, 0644);
MODULE_PARM_DESC(insn, "mark each queue run and poller cost run for QEMU's kb_insn plugin");

static struct dentry *kb_dir;

/* ---- producer threads ---- */

/**
 * struct kb_producers - one run of producer threads
 * @fn: the job
 * @ctx: its argument
 * @ncpus: threads, bound to CPUs 0..@ncpus - 1
 * @ready: threads at the start barrier
 * @err: the first error a job returned
 * @start: per thread, when it passed the barrier
 * @end: per thread, when its job returned
 * @done: per thread, completed as the thread exits
 */
struct kb_producers {
	kb_producer_fn fn;
	void *ctx;
	unsigned int ncpus;
	atomic_t ready;
	atomic_t err;
	u64 start[KB_MAX_CPUS];
	u64 end[KB_MAX_CPUS];
	struct completion done[KB_MAX_CPUS];
};

struct kb_thread_arg {
	struct kb_producers *run;
	unsigned int cpu;
};

static int kb_producer_thread(void *data)
{
	struct kb_thread_arg *arg = data;
	struct kb_producers *run = arg->run;
	unsigned int cpu = arg->cpu;
	int ret;

	/*
	 * Start barrier: every thread spins here until all are bound and
	 * running, so the jobs overlap.  Only the count matters, no data is
	 * published through it, so no ordering is needed.  @ncpus drops if
	 * a thread could not be started.
	 */
	atomic_inc(&run->ready);
	while (atomic_read(&run->ready) < READ_ONCE(run->ncpus))
		cpu_relax();
	run->start[cpu] = ktime_get_ns();
	ret = run->fn(run->ctx, cpu);
	run->end[cpu] = ktime_get_ns();
	if (ret)
		atomic_cmpxchg(&run->err, 0, ret);
	kthread_complete_and_exit(&run->done[cpu], 0);
}

/* Start the threads; on failure, let those started run.  Return how many. */
static unsigned int kb_start_threads(struct kb_producers *run,
				     struct kb_thread_arg *args)
{
	struct task_struct *t;
	unsigned int cpu;

	for (cpu = 0; cpu < run->ncpus; cpu++) {
		args[cpu].run = run;
		args[cpu].cpu = cpu;
		init_completion(&run->done[cpu]);
		t = kthread_create_on_cpu(kb_producer_thread, &args[cpu], cpu,
					  "kb_prod/%u");
		if (IS_ERR(t)) {
			WRITE_ONCE(run->ncpus, cpu);
			break;
		}
		wake_up_process(t);
	}
	return cpu;
}

/**
 * kb_run_producers() - run @fn on CPUs 0..@ncpus - 1 at once
 * @ncpus: how many producers (at most the online CPUs, CPUs 0.. online)
 * @fn: the job of each producer
 * @ctx: passed to @fn
 *
 * Context: process context, may sleep.
 *
 * Return: the nanoseconds from the first producer's start to the last
 * one's end, or a negative errno.
 */
s64 kb_run_producers(unsigned int ncpus, kb_producer_fn fn, void *ctx)
{
	struct kb_thread_arg *args;
	struct kb_producers *run;
	u64 first = U64_MAX, last = 0;
	unsigned int cpu, started;
	s64 ret;

	if (!ncpus || ncpus > KB_MAX_CPUS || ncpus > num_online_cpus())
		return -EINVAL;
	run = kzalloc(sizeof(*run), GFP_KERNEL);
	args = kcalloc(ncpus, sizeof(*args), GFP_KERNEL);
	ret = -ENOMEM;
	if (!run || !args)
		goto out;
	run->fn = fn;
	run->ctx = ctx;
	run->ncpus = ncpus;
	started = kb_start_threads(run, args);
	for (cpu = 0; cpu < started; cpu++) {
		wait_for_completion(&run->done[cpu]);
		first = min(first, run->start[cpu]);
		last = max(last, run->end[cpu]);
	}
	ret = atomic_read(&run->err) ?: (s64)(last - first);
	if (started < ncpus)
		ret = -ENOMEM;
out:
	kfree(args);
	kfree(run);
	return ret;
}

/* ---- interleaved rounds ---- */

/* True if the slowest of @n samples exceeds the fastest by KB_SPREAD_PCT. */
static bool kb_noisy(const u64 *s, unsigned int n)
{
	u64 lo = U64_MAX, hi = 0;
	unsigned int r;

	for (r = 0; r < n; r++) {
		lo = min(lo, s[r]);
		hi = max(hi, s[r]);
	}
	return hi * 100 > lo * KB_SPREAD_PCT;
}

/* kb_warmup untimed rounds (if @warm), then kb_runs rounds of the @want. */
static int kb_rounds(struct kb_set *set, kb_sample_fn fn, void *ctx,
		     const bool *want, bool warm)
{
	unsigned int r, i, first = warm ? 0 : kb_warmup;
	s64 v;

	for (r = first; r < kb_warmup + kb_runs; r++) {
		for (i = 0; i < set->n; i++) {
			if (want && !want[i])
				continue;
			v = fn(ctx, i);
			if (v < 0)
				return v;
			if (r >= kb_warmup)
				set->s[i][r - kb_warmup] = v;
		}
	}
	return 0;
}

/**
 * kb_interleave() - sample @set->n figures in interleaved rounds
 * @set: the figures; @set->n set by the caller, the rest filled
 * @fn: takes one sample of one figure
 * @ctx: passed to @fn
 * @rerun: take every figure whose spread exceeds KB_SPREAD_PCT again
 *
 * Round r takes one sample of every figure in turn, so that a slow spell
 * of the host lands on every implementation alike instead of on one whole
 * figure.  kb_warmup rounds are thrown away.  With @rerun, the figures
 * whose slowest sample exceeds their fastest by more than KB_SPREAD_PCT
 * get kb_runs new samples, again interleaved among themselves, which
 * replace the first set; @set->rerun says which.
 *
 * Context: process context, may sleep.
 *
 * Return: 0 or the first negative errno of @fn.
 */
int kb_interleave(struct kb_set *set, kb_sample_fn fn, void *ctx, bool rerun)
{
	unsigned int i, noisy = 0;
	int ret;

	ret = kb_rounds(set, fn, ctx, NULL, true);
	for (i = 0; !ret && rerun && i < set->n; i++) {
		set->rerun[i] = kb_noisy(set->s[i], kb_runs);
		noisy += set->rerun[i];
	}
	if (!ret && noisy)
		ret = kb_rounds(set, fn, ctx, set->rerun, false);
	return ret;
}

/* ---- reporting ---- */

/* sort() comparison of two u64. */
int kb_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/**
 * kb_report() - print one figure: median, min and max of @samples
 * @table: the table's name
 * @impl: the implementation measured
 * @cpus: producer CPUs
 * @batch: batch size (0 where it does not apply)
 * @samples: the timed runs; sorted in place
 * @n: how many (at least 1)
 * @extra: a last column whose meaning is the table's
 */
void kb_report(const char *table, const char *impl, unsigned int cpus,
	       unsigned int batch, u64 *samples, unsigned int n, u64 extra)
{
	sort(samples, n, sizeof(*samples), kb_cmp_u64, NULL);
	pr_info("@kb bench %s,%s,%u,%u,%llu,%llu,%llu,%llu\n", table, impl,
		cpus, batch, samples[n / 2], samples[0], samples[n - 1], extra);
}

/**
 * kb_report_rerun() - say that a figure was sampled a second time
 * @table: the table's name
 * @impl: the implementation measured
 * @cpus: producer CPUs
 * @batch: batch size (0 where it does not apply)
 * @rerun: print nothing if false
 */
void kb_report_rerun(const char *table, const char *impl, unsigned int cpus,
		     unsigned int batch, bool rerun)
{
	if (rerun)
		pr_info("@kb bench-rerun %s,%s,%u,%u\n", table, impl, cpus, batch);
}

/* ---- debugfs trigger ---- */

static ssize_t kb_run_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	char buf[16];
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	strim(buf);
	kb_runs = clamp(kb_runs, 1U, (unsigned int)KB_MAX_RUNS);
	if (!strcmp(buf, "queue"))
		ret = kb_queue_bench();
	else if (!strcmp(buf, "prim"))
		ret = kb_prim_bench();
	else if (!strcmp(buf, "poller"))
		ret = kb_poller_bench();
	else if (!strcmp(buf, "teardown"))
		ret = kb_teardown_bench();
	else if (!strcmp(buf, "trace"))
		ret = kb_trace_bench();
	else if (!strcmp(buf, "spill"))
		ret = kb_spill_bench();
	else
		ret = -EINVAL;
	return ret ?: len;
}

static const struct file_operations kb_run_fops = {
	.owner = THIS_MODULE,
	.write = kb_run_write,
};

static int __init kb_init(void)
{
	kb_dir = debugfs_create_dir("kbatch_bench", NULL);
	debugfs_create_file("run", 0200, kb_dir, NULL, &kb_run_fops);
	return 0;
}

static void __exit kb_exit(void)
{
	debugfs_remove_recursive(kb_dir);
}

module_init(kb_init);
module_exit(kb_exit);

MODULE_DESCRIPTION("kbatch benchmarks: kbatch against the kernel's own primitives");
MODULE_AUTHOR("The kbatch developers");
MODULE_LICENSE("GPL");
