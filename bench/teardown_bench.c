// SPDX-License-Identifier: GPL-2.0
/*
 * Table 4: how long kbatch_queue_free() takes.
 *
 * free-idle: a background queue nobody has pushed to.
 * free-loaded: a background queue whose every online CPU's ring is full
 *	(KBATCH_RING_DEFAULT tasks, one open batch per CPU whose callback is
 *	still waiting for its "resource", a gate).  The gate opens just before
 *	the free, which then waits for every batch to be run: the time covers
 *	marking the queue dying, its grace period and running every pending
 *	task.
 *
 * The module's unload time is measured from user space (bench/vm.sh).
 */
#include <linux/atomic.h>
#include <linux/err.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <linux/kbatch.h>

#include "bench.h"

#define TB_LOAD		KBATCH_RING_DEFAULT

struct tb_ctx {
	struct kbatch_queue *queue;
	wait_queue_head_t gate_wq;
	bool gate_open;
	atomic_long_t run;
};

/* Background callback: wait for the gate, then take the whole batch. */
static void tb_batch(struct kbatch_batch *batch, void *data)
{
	struct tb_ctx *ctx = data;

	wait_event(ctx->gate_wq, READ_ONCE(ctx->gate_open));
	atomic_long_add(kbatch_bound(batch), &ctx->run);
}

static int tb_load(void *data, unsigned int cpu)
{
	struct tb_ctx *ctx = data;
	unsigned int i;
	int ret;

	for (i = 0; i < TB_LOAD; i++) {
		ret = kbatch_post(ctx->queue, i);
		if (ret)
			return ret;
	}
	return 0;
}

/* One run: allocate, load if @loaded, and time the free. */
static s64 tb_run(struct tb_ctx *ctx, bool loaded)
{
	unsigned int ncpus = num_online_cpus();
	u64 t0;
	s64 ret;

	ctx->gate_open = false;
	atomic_long_set(&ctx->run, 0);
	ctx->queue = kbatch_queue_alloc("bench-free", KBATCH_BACKGROUND, TB_LOAD,
					tb_batch, ctx);
	if (IS_ERR(ctx->queue))
		return PTR_ERR(ctx->queue);
	ret = loaded ? kb_run_producers(ncpus, tb_load, ctx) : 0;
	t0 = ktime_get_ns();
	/* The store is ordered before the waiters' check by wake_up_all(). */
	WRITE_ONCE(ctx->gate_open, true);
	wake_up_all(&ctx->gate_wq);
	kbatch_queue_free(ctx->queue);
	if (ret >= 0)
		ret = ktime_get_ns() - t0;
	if (ret >= 0 && loaded &&
	    atomic_long_read(&ctx->run) != (long)TB_LOAD * ncpus)
		ret = -EIO;
	return ret;
}

static int tb_figure(struct tb_ctx *ctx, const char *name, bool loaded)
{
	u64 samples[KB_MAX_RUNS];
	unsigned int r;
	s64 ns;

	for (r = 0; r < kb_warmup + kb_runs; r++) {
		ns = tb_run(ctx, loaded);
		if (ns < 0) {
			pr_err("kbatch_bench: %s: error %lld\n", name, ns);
			return ns;
		}
		if (r >= kb_warmup)
			samples[r - kb_warmup] = ns;
	}
	kb_report("teardown", name, num_online_cpus(), 0, samples, kb_runs,
		  loaded ? (u64)TB_LOAD * num_online_cpus() : 0);
	return 0;
}

/**
 * kb_teardown_bench() - table 4: free an idle and a loaded queue
 *
 * The last column of each line is the number of tasks pending at the free.
 *
 * Context: process context, may sleep.
 *
 * Return: 0 or a negative errno.
 */
int kb_teardown_bench(void)
{
	struct tb_ctx ctx = {};
	int ret;

	init_waitqueue_head(&ctx.gate_wq);
	ret = tb_figure(&ctx, "free-idle", false);
	if (!ret)
		ret = tb_figure(&ctx, "free-loaded", true);
	return ret;
}
