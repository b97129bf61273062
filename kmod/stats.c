// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics in debugfs: /sys/kernel/debug/kbatch/queue-<name>-<n>/stats
 * prints, per possible CPU, the pushes accepted, the batches run, the
 * largest batch, the pushes refused because the ring was full (spilled
 * or not), and for a queue with KBATCH_QUEUE_SPILL the values the CPU's
 * spill lane took and the batches it ran (0 without).
 *
 * The counters are read without synchronisation while CPUs update them: a
 * line may mix values of slightly different moments, never torn ones.
 * Pushes are not counted: they are the distance the ring's write position
 * has run from its first position (kbatch_ring_pushes()).
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <kunit/visibility.h>

#include "kbatch_internal.h"

static unsigned long stat_read(const unsigned long *counter)
{
	/* Read racily on purpose: see the top of this file. */
	return data_race(*counter);
}

/**
 * kbatch_queue_stats_show() - print a queue's statistics
 * @m: the seq_file; m->private is the queue
 * @unused: unused
 *
 * Context: may sleep.
 *
 * Return: 0.
 */
int kbatch_queue_stats_show(struct seq_file *m, void *unused)
{
	struct kbatch_queue *queue = m->private;
	unsigned long pushes = 0, batches = 0, largest = 0, full = 0;
	unsigned long spilled = 0, sbatches = 0, sp, sb;
	struct kbatch_ring *ring;
	unsigned int cpu;

	seq_printf(m, "%-6s %14s %14s %10s %10s %14s %14s\n", "cpu", "pushes",
		   "batches", "largest", "full", "spilled", "spill_batches");
	for_each_possible_cpu(cpu) {
		ring = kbatch_queue_ring(queue, cpu);
		sp = 0;
		sb = 0;
		if (ring->spill) {
			sp = kbatch_ring_len(ring->spill->first,
					     READ_ONCE(ring->spill->tail));
			sb = stat_read(&ring->spill->stat_batches);
		}
		seq_printf(m, "%-6u %14lu %14lu %10lu %10lu %14lu %14lu\n", cpu,
			   kbatch_ring_pushes(ring),
			   stat_read(&ring->stat_batches),
			   stat_read(&ring->stat_largest),
			   local_read(&ring->stat_full), sp, sb);
		pushes += kbatch_ring_pushes(ring);
		batches += stat_read(&ring->stat_batches);
		largest = max(largest, stat_read(&ring->stat_largest));
		full += local_read(&ring->stat_full);
		spilled += sp;
		sbatches += sb;
	}
	seq_printf(m, "%-6s %14lu %14lu %10lu %10lu %14lu %14lu\n", "all",
		   pushes, batches, largest, full, spilled, sbatches);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_queue_stats_show);

DEFINE_SHOW_ATTRIBUTE(kbatch_queue_stats);

/**
 * kbatch_queue_debugfs_init() - create the queue's debugfs folder
 * @queue: the queue, fully set up
 *
 * Context: may sleep.
 */
void kbatch_queue_debugfs_init(struct kbatch_queue *queue)
{
	static atomic_t serial = ATOMIC_INIT(0);
	char name[48];

	snprintf(name, sizeof(name), "queue-%s-%d", queue->name,
		 atomic_inc_return(&serial));
	queue->debugfs = debugfs_create_dir(name, kbatch_debugfs_root);
	debugfs_create_file("stats", 0444, queue->debugfs, queue,
			    &kbatch_queue_stats_fops);
}

/**
 * kbatch_queue_debugfs_exit() - remove it; waits for readers to finish
 * @queue: the queue
 *
 * Context: may sleep.
 */
void kbatch_queue_debugfs_exit(struct kbatch_queue *queue)
{
	debugfs_remove_recursive(queue->debugfs);
}
