/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of kbatch_bench.ko share: the run parameters, the
 * producer threads and the report of one figure.
 */
#ifndef _KBATCH_BENCH_H
#define _KBATCH_BENCH_H

#include <linux/types.h>

/* Timed runs per figure (after kb_warmup untimed ones), tasks per producer. */
extern unsigned int kb_runs;
extern unsigned int kb_warmup;
extern unsigned int kb_tasks;
/*
 * Bracket each queue run, and each poller cost run, with kb_insn.h's
 * markers, and label it.
 */
extern bool kb_insn;

/* The most runs of one figure, and the most producer CPUs. */
#define KB_MAX_RUNS	31
#define KB_MAX_CPUS	64U
/* The most figures kb_interleave() takes turns between. */
#define KB_MAX_FIGS	16

/* A figure whose slowest run exceeds its fastest by this (in %) is rerun. */
#define KB_SPREAD_PCT	130

/* One sample of figure @i: a value, or a negative errno. */
typedef s64 (*kb_sample_fn)(void *ctx, unsigned int i);

/**
 * struct kb_set - the samples of figures taken in interleaved rounds
 * @n: figures
 * @s: per figure, kb_runs samples
 * @rerun: per figure, true if its spread made kb_interleave() take its
 *	samples again
 */
struct kb_set {
	unsigned int n;
	u64 s[KB_MAX_FIGS][KB_MAX_RUNS];
	bool rerun[KB_MAX_FIGS];
};

int kb_interleave(struct kb_set *set, kb_sample_fn fn, void *ctx, bool rerun);

/* One producer's job: runs on @cpu; returns 0 or a negative errno. */
typedef int (*kb_producer_fn)(void *ctx, unsigned int cpu);

s64 kb_run_producers(unsigned int ncpus, kb_producer_fn fn, void *ctx);
int kb_cmp_u64(const void *a, const void *b);
void kb_report(const char *table, const char *impl, unsigned int cpus,
	       unsigned int batch, u64 *samples, unsigned int n, u64 extra);
void kb_report_rerun(const char *table, const char *impl, unsigned int cpus,
		     unsigned int batch, bool rerun);

int kb_queue_bench(void);
int kb_prim_bench(void);
int kb_poller_bench(void);
int kb_teardown_bench(void);
int kb_trace_bench(void);
int kb_spill_bench(void);

#endif /* _KBATCH_BENCH_H */
