// SPDX-License-Identifier: GPL-2.0
/*
 * Table "spill": one CPU takes all the posts, spill on against spill off
 * (KBATCH_QUEUE_SPILL, issue 13 item 5).
 *
 * Every producer runs on the first online CPU: two kthreads bound to it,
 * each posting kb_tasks values in bursts of KS_BURST, two rings' worth,
 * with preemption off (as a flood of interrupts would: the ring's worker
 * cannot run on that CPU meanwhile), and an hrtimer expiring there in
 * hard-irq context that posts KS_TIMER_N values every KS_PERIOD_NS while
 * the threads run, at most as many as the threads.  Rings hold KS_RING
 * values; the callback spends KS_COST_NS per value (ndelay), so that one
 * CPU cannot both post and run everything.  Each value is the
 * time of its post; the callback records post-to-callback latency.
 *
 * Runs alternate, spill on then off, kb_warmup untimed pairs then kb_runs
 * timed ones.  Each timed run prints one line, and each mode a summary of
 * the medians, as key=value pairs (not the "@kb bench" format; report.py
 * reads the summaries, bench/report_parse.py's spill_summaries()):
 *
 *	@kb bench-spill run=R spill=on|off cpus=C ring=S burst=B cost_ns=X
 *		posted=P accepted=A refused=F remote=M post_ns=T
 *		lat_p50_ns=L50 lat_p99_ns=L99 lat_max_ns=LMAX wall_ns=W
 *	@kb bench-spill-summary spill=on|off runs=N cpus=C accepted_pct=A%
 *		post_ns=T lat_p50_ns=L50 lat_p99_ns=L99 lat_max_ns=LMAX
 *		remote_pct=M%
 *
 * (each on one line).  posted: post attempts; accepted, refused (-EAGAIN)
 * and remote (values whose batch ran on another CPU's lane) count values;
 * post_ns: mean ns per post in the threads' bursts, refused ones
 * included, and so is the loop's own counting (the same in both modes);
 * lat_*: percentiles over the accepted values of the time from the post
 * to the callback; wall_ns: from the first post to the end of
 * kbatch_queue_free(), which runs everything accepted.  Summary figures
 * are the medians of the runs' figures, percentages in tenths of a
 * percent, printed as 12.3%.
 */
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>
#include <linux/kbatch.h>

#include "bench.h"

#define KS_RING		256
#define KS_BURST	512
#define KS_TIMER_N	8
#define KS_PERIOD_NS	50000
#define KS_COST_NS	1000
#define KS_THREADS	2

/**
 * struct ks_ctx - one run
 * @queue: the queue
 * @cpu: the CPU every producer runs on
 * @stop: the threads are done: the timer stops
 * @lat: per accepted value, its latency in ns (capped at U32_MAX)
 * @nlat: entries used in @lat
 * @cap: entries in @lat
 * @accepted: values accepted
 * @refused: values refused
 * @remote: values run in a batch of another CPU
 * @posted: post attempts
 * @timer_posts: post attempts of the timer
 * @timer_max: the most the timer may make
 * @post_ns: ns the threads spent in their bursts
 * @timer: the hard-irq producer
 * @timer_done: completed when the timer stops
 * @done: per thread, completed when it exits
 */
struct ks_ctx {
	struct kbatch_queue *queue;
	unsigned int cpu;
	bool stop;
	u32 *lat;
	atomic_t nlat;
	unsigned int cap;
	atomic_long_t accepted;
	atomic_long_t refused;
	atomic_long_t remote;
	atomic_long_t posted;
	unsigned int timer_posts;
	unsigned int timer_max;
	atomic64_t post_ns;
	struct hrtimer timer;
	struct completion timer_done;
	struct completion done[KS_THREADS];
};

static void ks_fn(struct kbatch_batch *batch, void *data)
{
	struct ks_ctx *ctx = data;
	unsigned int n = kbatch_bound(batch), i, slot;
	u64 now = ktime_get_ns();

	if (kbatch_batch_cpu(batch) != ctx->cpu)
		atomic_long_add(n, &ctx->remote);
	for (i = 0; i < n; i++) {
		slot = atomic_inc_return(&ctx->nlat) - 1;
		if (slot < ctx->cap)
			ctx->lat[slot] = min_t(u64, now - kbatch_batch_value(batch, i),
					       U32_MAX);
		ndelay(KS_COST_NS);
	}
}

static void ks_post(struct ks_ctx *ctx)
{
	if (kbatch_post(ctx->queue, ktime_get_ns()))
		atomic_long_inc(&ctx->refused);
	else
		atomic_long_inc(&ctx->accepted);
	atomic_long_inc(&ctx->posted);
}

static enum hrtimer_restart ks_timer_fn(struct hrtimer *timer)
{
	struct ks_ctx *ctx = container_of(timer, struct ks_ctx, timer);
	unsigned int i;

	if (READ_ONCE(ctx->stop) || ctx->timer_posts >= ctx->timer_max) {
		complete(&ctx->timer_done);
		return HRTIMER_NORESTART;
	}
	for (i = 0; i < KS_TIMER_N; i++)
		ks_post(ctx);
	ctx->timer_posts += KS_TIMER_N;
	hrtimer_forward_now(timer, ns_to_ktime(KS_PERIOD_NS));
	return HRTIMER_RESTART;
}

struct ks_thread_arg {
	struct ks_ctx *ctx;
	unsigned int index;
};

static int ks_thread(void *data)
{
	struct ks_thread_arg *arg = data;
	struct ks_ctx *ctx = arg->ctx;
	unsigned int i, j;
	u64 t0;

	if (arg->index == 0)
		hrtimer_start(&ctx->timer, ns_to_ktime(KS_PERIOD_NS),
			      HRTIMER_MODE_REL_PINNED_HARD);
	for (i = 0; i < kb_tasks; i += KS_BURST) {
		preempt_disable();
		t0 = ktime_get_ns();
		for (j = 0; j < KS_BURST; j++)
			ks_post(ctx);
		atomic64_add(ktime_get_ns() - t0, &ctx->post_ns);
		preempt_enable();
		cond_resched();
	}
	kthread_complete_and_exit(&ctx->done[arg->index], 0);
}

/* Start the threads on ctx->cpu and wait for them; false if one failed. */
static bool ks_threads(struct ks_ctx *ctx)
{
	struct ks_thread_arg args[KS_THREADS];
	struct task_struct *t;
	unsigned int i, started = 0;

	for (i = 0; i < KS_THREADS; i++) {
		args[i].ctx = ctx;
		args[i].index = i;
		init_completion(&ctx->done[i]);
		t = kthread_create_on_cpu(ks_thread, &args[i], ctx->cpu,
					  "kb_spill/%u");
		if (IS_ERR(t))
			break;
		wake_up_process(t);
		started++;
	}
	for (i = 0; i < started; i++)
		wait_for_completion(&ctx->done[i]);
	return started == KS_THREADS;
}

static int ks_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* The figures of one run, in the order of struct ks_ctx's report. */
enum { KS_ACC_PCT, KS_POST_NS, KS_P50, KS_P99, KS_MAX, KS_REMOTE_PCT, KS_NFIG };

static int ks_run(bool spill, unsigned int r, bool timed, u64 *fig)
{
	struct ks_ctx *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	unsigned int n, threads_posts = KS_THREADS * kb_tasks;
	long accepted, posted;
	u64 t0, wall;
	int ret = 0;

	if (!ctx)
		return -ENOMEM;
	ctx->cpu = cpumask_first(cpu_online_mask);
	ctx->timer_max = threads_posts;
	ctx->cap = threads_posts + threads_posts + KS_TIMER_N;
	ctx->lat = vmalloc(array_size(ctx->cap, sizeof(*ctx->lat)));
	init_completion(&ctx->timer_done);
	hrtimer_init(&ctx->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	ctx->timer.function = ks_timer_fn;
	ctx->queue = kbatch_queue_alloc_flags("bench-spill", KBATCH_BACKGROUND,
					      KS_RING, ks_fn, ctx,
					      spill ? KBATCH_QUEUE_SPILL : 0);
	if (!ctx->lat || IS_ERR(ctx->queue)) {
		ret = IS_ERR(ctx->queue) ? PTR_ERR(ctx->queue) : -ENOMEM;
		ctx->queue = NULL;
		goto out;
	}
	t0 = ktime_get_ns();
	if (!ks_threads(ctx))
		ret = -ENOMEM;
	WRITE_ONCE(ctx->stop, true);
	wait_for_completion(&ctx->timer_done);
	hrtimer_cancel(&ctx->timer);
	kbatch_queue_free(ctx->queue);
	ctx->queue = NULL;
	wall = ktime_get_ns() - t0;
	accepted = atomic_long_read(&ctx->accepted);
	posted = atomic_long_read(&ctx->posted);
	n = min_t(unsigned int, atomic_read(&ctx->nlat), ctx->cap);
	if (ret || n != accepted) {
		ret = ret ?: -EIO;
		goto out;
	}
	sort(ctx->lat, n, sizeof(*ctx->lat), ks_cmp_u32, NULL);
	fig[KS_ACC_PCT] = posted ? accepted * 1000 / posted : 0;
	fig[KS_POST_NS] = div_u64(atomic64_read(&ctx->post_ns), threads_posts);
	fig[KS_P50] = n ? ctx->lat[n / 2] : 0;
	fig[KS_P99] = n ? ctx->lat[n - 1 - n / 100] : 0;
	fig[KS_MAX] = n ? ctx->lat[n - 1] : 0;
	fig[KS_REMOTE_PCT] = accepted ? atomic_long_read(&ctx->remote) * 1000 /
				       accepted : 0;
	if (timed)
		pr_info("@kb bench-spill run=%u spill=%s cpus=%u ring=%u burst=%u cost_ns=%u posted=%ld accepted=%ld refused=%ld remote=%ld post_ns=%llu lat_p50_ns=%llu lat_p99_ns=%llu lat_max_ns=%llu wall_ns=%llu\n",
			r, spill ? "on" : "off", num_online_cpus(), KS_RING,
			KS_BURST, KS_COST_NS, posted, accepted,
			atomic_long_read(&ctx->refused),
			atomic_long_read(&ctx->remote), fig[KS_POST_NS],
			fig[KS_P50], fig[KS_P99], fig[KS_MAX], wall);
out:
	kbatch_queue_free(ctx->queue);
	vfree(ctx->lat);
	kfree(ctx);
	return ret;
}

static u64 ks_median(u64 (*fig)[KS_NFIG], unsigned int n, unsigned int k)
{
	u64 v[KB_MAX_RUNS];
	unsigned int r;

	for (r = 0; r < n; r++)
		v[r] = fig[r][k];
	sort(v, n, sizeof(*v), kb_cmp_u64, NULL);
	return v[n / 2];
}

static void ks_summary(bool spill, u64 (*fig)[KS_NFIG], unsigned int n)
{
	u64 acc = ks_median(fig, n, KS_ACC_PCT);
	u64 remote = ks_median(fig, n, KS_REMOTE_PCT);

	pr_info("@kb bench-spill-summary spill=%s runs=%u cpus=%u accepted_pct=%llu.%llu%% post_ns=%llu lat_p50_ns=%llu lat_p99_ns=%llu lat_max_ns=%llu remote_pct=%llu.%llu%%\n",
		spill ? "on" : "off", n, num_online_cpus(), acc / 10, acc % 10,
		ks_median(fig, n, KS_POST_NS), ks_median(fig, n, KS_P50),
		ks_median(fig, n, KS_P99), ks_median(fig, n, KS_MAX),
		remote / 10, remote % 10);
}

/**
 * kb_spill_bench() - table "spill": all posts on one CPU, spill on and off
 *
 * Context: process context, may sleep.
 *
 * Return: 0 or a negative errno.
 */
int kb_spill_bench(void)
{
	static u64 fig[2][KB_MAX_RUNS][KS_NFIG];
	unsigned int r, m;
	int ret;

	for (r = 0; r < kb_warmup + kb_runs; r++) {
		for (m = 0; m < 2; m++) {
			ret = ks_run(m == 0, r, r >= kb_warmup,
				     fig[m][r >= kb_warmup ? r - kb_warmup : 0]);
			if (ret) {
				pr_err("kbatch_bench: spill %s: error %d\n",
				       m == 0 ? "on" : "off", ret);
				return ret;
			}
		}
	}
	ks_summary(true, fig[0], kb_runs);
	ks_summary(false, fig[1], kb_runs);
	return 0;
}
