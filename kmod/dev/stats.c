// SPDX-License-Identifier: GPL-2.0
/*
 * What the service did, in /sys/kernel/debug/kbatch-dev/stats: submits
 * that ran entries, entries run, handler calls (runs of one op), and
 * entries whose completion an op took over.  Per-CPU counters, summed
 * when read; a read racing with submits may mix moments, never tear.
 */
#include <linux/debugfs.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>

#include "dev.h"

DEFINE_PER_CPU(struct kbatch_dev_stats, kbatch_dev_stats);

static struct dentry *stats_dir;

static int kbatch_dev_stats_show(struct seq_file *m, void *unused)
{
	struct kbatch_dev_stats sum = { }, s;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		/* Read racily on purpose: see the top of this file. */
		s = data_race(per_cpu(kbatch_dev_stats, cpu));
		sum.submits += s.submits;
		sum.entries += s.entries;
		sum.runs += s.runs;
		sum.deferred += s.deferred;
	}
	seq_printf(m, "submits: %lu\nentries: %lu\nruns: %lu\ndeferred: %lu\n",
		   sum.submits, sum.entries, sum.runs, sum.deferred);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kbatch_dev_stats);

/**
 * kbatch_dev_stats_init() - create the statistics file
 *
 * Context: process context, may sleep.
 */
void kbatch_dev_stats_init(void)
{
	stats_dir = debugfs_create_dir("kbatch-dev", NULL);
	debugfs_create_file("stats", 0444, stats_dir, NULL,
			    &kbatch_dev_stats_fops);
}

/**
 * kbatch_dev_stats_exit() - remove it; waits for readers to finish
 *
 * Context: process context, may sleep.
 */
void kbatch_dev_stats_exit(void)
{
	debugfs_remove_recursive(stats_dir);
}
