// SPDX-License-Identifier: GPL-2.0
/*
 * Table 1c: what the building blocks of a push cost in this VM, so that a
 * push can be explained by counting: kbatch_post() is a preemption
 * disable/enable, one CPU-local cmpxchg (no LOCK prefix) and a few plain
 * loads and stores; llist_add() is one cmpxchg.  Under software emulation the ratios between
 * these differ from hardware (an interrupt-flag change is far dearer), so
 * this table says which part of a gap is emulation.
 *
 * Each figure: ns per operation, one CPU, preemption disabled, KB_PRIM_OPS
 * operations per run.  Prints "prim,<op>,1,0,<median>,<min>,<max>,0".
 */
#include <linux/atomic.h>
#include <linux/irqflags.h>
#include <linux/ktime.h>
#include <linux/percpu-refcount.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "bench.h"

#define KB_PRIM_OPS	65536

struct kb_prim_ctx {
	atomic_long_t word;
	struct percpu_ref ref;
};

static void kb_prim_empty(struct kb_prim_ctx *ctx)
{
	/* Only the loop: subtracted from nothing, shown for reference. */
	barrier();
}

static void kb_prim_irq(struct kb_prim_ctx *ctx)
{
	unsigned long flags;

	local_irq_save(flags);
	local_irq_restore(flags);
}

static void kb_prim_fetch_add(struct kb_prim_ctx *ctx)
{
	atomic_long_fetch_add_release(2, &ctx->word);
}

static void kb_prim_cmpxchg(struct kb_prim_ctx *ctx)
{
	long old = atomic_long_read(&ctx->word);

	atomic_long_cmpxchg(&ctx->word, old, old + 2);
}

static void kb_prim_cmpxchg_local(struct kb_prim_ctx *ctx)
{
	unsigned long *word = (unsigned long *)&ctx->word.counter;
	unsigned long old = READ_ONCE(*word);

	cmpxchg_local(word, old, old + 2);
}

static void kb_prim_preempt(struct kb_prim_ctx *ctx)
{
	preempt_disable();
	preempt_enable();
}

static void kb_prim_ref(struct kb_prim_ctx *ctx)
{
	if (percpu_ref_tryget_live(&ctx->ref))
		percpu_ref_put(&ctx->ref);
}

static void kb_prim_rcu(struct kb_prim_ctx *ctx)
{
	rcu_read_lock();
	rcu_read_unlock();
}

struct kb_prim {
	const char *name;
	void (*op)(struct kb_prim_ctx *ctx);
};

static const struct kb_prim kb_prims[] = {
	{ "loop-only", kb_prim_empty },
	{ "irq-save-restore", kb_prim_irq },
	{ "fetch_add", kb_prim_fetch_add },
	{ "cmpxchg", kb_prim_cmpxchg },
	{ "cmpxchg_local", kb_prim_cmpxchg_local },
	{ "preempt-disable-enable", kb_prim_preempt },
	{ "percpu_ref-get-put", kb_prim_ref },
	{ "rcu_read_lock-unlock", kb_prim_rcu },
};

static u64 kb_prim_run(const struct kb_prim *prim, struct kb_prim_ctx *ctx)
{
	unsigned int i;
	u64 t0;

	preempt_disable();
	t0 = ktime_get_ns();
	for (i = 0; i < KB_PRIM_OPS; i++)
		prim->op(ctx);
	t0 = ktime_get_ns() - t0;
	preempt_enable();
	cond_resched();
	return div_u64(t0, KB_PRIM_OPS);
}

static void kb_prim_release(struct percpu_ref *ref)
{
}

/**
 * kb_prim_bench() - table 1c: the cost of a push's building blocks
 *
 * Context: process context, may sleep.
 *
 * Return: 0 or a negative errno.
 */
int kb_prim_bench(void)
{
	u64 samples[KB_MAX_RUNS];
	struct kb_prim_ctx *ctx;
	unsigned int i, r;
	int ret;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ret = percpu_ref_init(&ctx->ref, kb_prim_release, 0, GFP_KERNEL);
	if (ret) {
		kfree(ctx);
		return ret;
	}
	for (i = 0; i < ARRAY_SIZE(kb_prims); i++) {
		for (r = 0; r < kb_warmup + kb_runs; r++) {
			u64 ns = kb_prim_run(&kb_prims[i], ctx);

			if (r >= kb_warmup)
				samples[r - kb_warmup] = ns;
		}
		kb_report("prim", kb_prims[i].name, 1, 0, samples, kb_runs, 0);
	}
	percpu_ref_exit(&ctx->ref);
	kfree(ctx);
	return 0;
}
