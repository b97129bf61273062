// SPDX-License-Identifier: GPL-2.0
/*
 * Table 6 ("trace"): what a disabled kbatch tracepoint costs.
 *
 * Two noinline twins of one path, the op run of a /dev/kbatch submit
 * (kmod/dev/submit.c, run_span()): one calls kbatch's own tracepoint
 * kbatch_op_run (exported by kbatch.ko, disabled: the table refuses to
 * run if it is enabled), then completes a run of ECHO entries; the other
 * is the same without the tracepoint.  Each sample is the fastest of
 * TB_REPS timed loops of TB_CALLS calls of one twin (the fastest: an
 * interrupt lands in one loop, not in all), for runs of 1 and 16
 * entries; the four figures are
 * sampled in interleaved rounds (no reruns, so that round r of one twin
 * pairs with round r of the other), and printed as
 *
 *	@kb bench trace,<twin>,1,<len>,<median>,<min>,<max>,<calls>
 *
 * in picoseconds per call, then the paired difference of each round,
 * traced minus plain, signed:
 *
 *	@kb bench-diff trace,<len>,<median>,<min>,<max>
 *
 * With kbatch_bench.insn=1 (the kb_insn boot), each figure instead runs
 * one warm-up and TB_INSN_WINDOWS marked windows of TB_INSN_CALLS calls,
 * each labelled "@kb insn-label trace,<twin>,1,<len>,<calls>", for the
 * guest instructions per call.
 */
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <trace/events/kbatch.h>

#include "bench.h"
#include "kb_insn.h"

#define TB_MAX_LEN	16
#define TB_CALLS	(128U * 1024)
#define TB_REPS		3
#define TB_INSN_CALLS	(16U * 1024)
#define TB_INSN_WINDOWS	3

/**
 * struct tb_run - one run of entries of one op, as run_span() sees it
 * @name: the op's name
 * @opcode: its opcode
 * @len: entries in the run
 * @args: their first argument
 * @res: their results
 */
struct tb_run {
	const char *name;
	u32 opcode;
	unsigned int len;
	u64 args[TB_MAX_LEN];
	s64 res[TB_MAX_LEN];
};

/* The path with its tracepoint, disabled. */
static noinline void tb_run_traced(struct tb_run *r)
{
	unsigned int i;

	trace_kbatch_op_run(r->name, r->opcode, r->len);
	for (i = 0; i < r->len; i++)
		r->res[i] = r->args[i];
}

/* Its twin without the tracepoint. */
static noinline void tb_run_plain(struct tb_run *r)
{
	unsigned int i;

	for (i = 0; i < r->len; i++)
		r->res[i] = r->args[i];
}

static const char *const tb_twins[] = { "tp-disabled", "no-tp" };
static const unsigned int tb_lens[] = { 1, TB_MAX_LEN };

#define TB_FIGS	(ARRAY_SIZE(tb_twins) * ARRAY_SIZE(tb_lens))

/* Figure @i: twin i % 2, run length tb_lens[i / 2]. */
static void tb_setup(struct tb_run *r, unsigned int i)
{
	unsigned int j;

	r->name = "echo";
	r->opcode = 1;
	r->len = tb_lens[i / ARRAY_SIZE(tb_twins)];
	for (j = 0; j < r->len; j++)
		r->args[j] = j + 1;
}

/* @calls calls of figure @i's twin; 0, or -EIO if a result is wrong. */
static int tb_loop(struct tb_run *r, unsigned int i, unsigned int calls)
{
	bool traced = i % ARRAY_SIZE(tb_twins) == 0;
	unsigned int k;

	if (traced)
		for (k = 0; k < calls; k++)
			tb_run_traced(r);
	else
		for (k = 0; k < calls; k++)
			tb_run_plain(r);
	return r->res[r->len - 1] == r->len ? 0 : -EIO;
}

/* kb_sample_fn: ps per call of figure @i (its fastest loop), or -errno. */
static s64 tb_sample(void *ctx, unsigned int i)
{
	struct tb_run *r = ctx;
	u64 t0, ns, best = U64_MAX;
	unsigned int rep;
	int ret = 0;

	tb_setup(r, i);
	for (rep = 0; !ret && rep < TB_REPS; rep++) {
		preempt_disable();
		t0 = ktime_get_ns();
		ret = tb_loop(r, i, TB_CALLS);
		ns = ktime_get_ns() - t0;
		preempt_enable();
		best = min(best, ns);
	}
	return ret ?: (s64)div_u64(best * 1000, TB_CALLS);
}

/* sort() comparison of two s64. */
static int tb_cmp_s64(const void *a, const void *b)
{
	s64 x = *(const s64 *)a, y = *(const s64 *)b;

	return x < y ? -1 : x > y;
}

/* Median, min and max of the paired differences of the two twins. */
static void tb_report_diff(struct kb_set *set, unsigned int len_i)
{
	unsigned int t = len_i * ARRAY_SIZE(tb_twins), r;
	s64 d[KB_MAX_RUNS];

	for (r = 0; r < kb_runs; r++)
		d[r] = (s64)set->s[t][r] - (s64)set->s[t + 1][r];
	sort(d, kb_runs, sizeof(d[0]), tb_cmp_s64, NULL);
	pr_info("@kb bench-diff trace,%u,%lld,%lld,%lld\n", tb_lens[len_i],
		d[kb_runs / 2], d[0], d[kb_runs - 1]);
}

/* kb_insn boot: a warm-up, then marked windows of each figure. */
static int tb_insn(struct tb_run *r)
{
	unsigned int i, w;
	int ret = 0;

	for (i = 0; !ret && i < TB_FIGS; i++) {
		tb_setup(r, i);
		ret = tb_loop(r, i, TB_INSN_CALLS);
		for (w = 0; !ret && w < TB_INSN_WINDOWS; w++) {
			preempt_disable();
			kb_insn_start();
			ret = tb_loop(r, i, TB_INSN_CALLS);
			kb_insn_stop();
			preempt_enable();
			pr_info("@kb insn-label trace,%s,1,%u,%u\n",
				tb_twins[i % ARRAY_SIZE(tb_twins)], r->len,
				TB_INSN_CALLS);
		}
	}
	return ret;
}

/**
 * kb_trace_bench() - table 6: a disabled tracepoint against none
 *
 * Context: process context, may sleep.
 *
 * Return: 0, -EBUSY if kbatch_op_run is enabled (the figures would not
 * be those of a disabled tracepoint), or another negative errno.
 */
int kb_trace_bench(void)
{
	struct kb_set *set;
	struct tb_run *r;
	unsigned int i;
	int ret = -ENOMEM;

	if (trace_kbatch_op_run_enabled()) {
		pr_err("kbatch_bench: trace: kbatch_op_run is enabled\n");
		return -EBUSY;
	}
	set = kzalloc(sizeof(*set), GFP_KERNEL);
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!set || !r)
		goto out;
	if (kb_insn) {
		ret = tb_insn(r);
		goto out;
	}
	set->n = TB_FIGS;
	ret = kb_interleave(set, tb_sample, r, false);
	if (ret)
		goto out;
	/* The differences first: kb_report() sorts the samples in place. */
	for (i = 0; i < ARRAY_SIZE(tb_lens); i++)
		tb_report_diff(set, i);
	for (i = 0; i < TB_FIGS; i++) {
		tb_setup(r, i);
		kb_report("trace", tb_twins[i % ARRAY_SIZE(tb_twins)], 1, r->len,
			  set->s[i], kb_runs, TB_CALLS);
	}
out:
	kfree(r);
	kfree(set);
	return ret;
}
