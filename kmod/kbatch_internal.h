/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The core's private header: what the core's files (rings, queues, the
 * poller, lifetime) share with each other and with the KUnit suites in
 * kunit/, and nothing else.  The service (/dev/kbatch) has its own,
 * kmod/dev/dev.h, and uses the core only through <linux/kbatch.h>.
 */
#ifndef _KBATCH_INTERNAL_H
#define _KBATCH_INTERNAL_H

#include <linux/bits.h>
#include <linux/cache.h>
#include <linux/completion.h>
#include <linux/dcache.h>
#include <linux/list.h>
#include <linux/lockdep_types.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/kbatch.h>

/* ---- ring.h, ring.c: one CPU's ring of a queue ---- */
#include "ring.h"

/* ---- queue.c: the queue and its three front ends ---- */

/**
 * struct kbatch_queue - a batch queue
 * @rings: per CPU, that CPU's ring: a push finds its own with one
	this_cpu_read(); others use kbatch_queue_ring()
 * @mode: the front end this queue serves
 * @flags: KBATCH_QUEUE_* given to kbatch_queue_alloc_flags()
 * @fn: the batch callback
 * @data: its argument
 * @dying: set by kbatch_queue_shutdown(); pushes test it (queue.c)
 * @inflight: per CPU, callers inside that outlive their push section
 * @size: slots per ring
 * @shut: kbatch_queue_shutdown() has finished
 * @timeout: how long kbatch_queue_shutdown() waits in all, in jiffies
 * @debugfs: the queue's debugfs folder
 * @dep_key: lockdep class of @dep_map, one per queue
 * @work_key: lockdep class of the rings' works, one per queue
 * @dep_map: "held" while a batch callback runs; see queue.c
 * @dep_name: @dep_map's name, "kbatch_batch:<name>"
 * @name: for debugfs and warnings
 */
struct kbatch_queue {
	struct kbatch_ring * __percpu *rings;
	enum kbatch_mode mode;
	unsigned int flags;
	kbatch_batch_fn fn;
	void *data;
	bool dying;
	unsigned long __percpu *inflight;
	unsigned int size;
	bool shut;
	unsigned long timeout;
	struct dentry *debugfs;
	struct lock_class_key dep_key;
	struct lock_class_key work_key;
	struct lockdep_map dep_map;
	char dep_name[48];
	char name[32];
};

struct kbatch_queue *kbatch_queue_alloc_pos_flags(const char *name,
						  enum kbatch_mode mode,
						  unsigned int ring_size,
						  kbatch_batch_fn fn, void *data,
						  unsigned int flags,
						  unsigned long first);

/* The ring of @cpu, a possible CPU. */
static inline struct kbatch_ring *
kbatch_queue_ring(struct kbatch_queue *queue, unsigned int cpu)
{
	return *per_cpu_ptr(queue->rings, cpu);
}

void kbatch_queue_set_timeout(struct kbatch_queue *queue, unsigned long timeout);

/* How long kbatch_queue_shutdown() waits, in all, before it gives up. */
#define KBATCH_FREE_TIMEOUT	(20 * HZ)

/* ---- stats.c: debugfs ---- */
void kbatch_queue_debugfs_init(struct kbatch_queue *queue);
void kbatch_queue_debugfs_exit(struct kbatch_queue *queue);
struct seq_file;
int kbatch_queue_stats_show(struct seq_file *m, void *unused);

/* ---- kbatch_main.c: module-wide state ---- */

/* The module's debugfs folder, /sys/kernel/debug/kbatch. */
extern struct dentry *kbatch_debugfs_root;
/* Per-CPU workqueue that runs background-mode batches. */
extern struct workqueue_struct *kbatch_wq;

/* ---- poller.c: the poller's statistics and its hooks for KUnit ---- */
struct kbatch_poller;

/**
 * struct kbatch_poller_stats - what a poller has done
 * @cycles: cycles started
 * @polls: poll callbacks run
 * @largest: most items in one cycle's snapshot
 * @kicks: times a wake found the wake set empty and kicked the worker
 * @items: items registered now
 */
struct kbatch_poller_stats {
	u64 cycles;
	u64 polls;
	u64 largest;
	u64 kicks;
	u32 items;
};

/* No worker: kicks are only counted; cycles run by kbatch_poller_run_slice(). */
#define KBATCH_POLLER_MANUAL	BIT(0)

struct kbatch_poller *kbatch_poller_alloc_flags(const char *name,
						unsigned int capacity,
						unsigned int budget,
						unsigned int flags);
bool kbatch_poller_run_slice(struct kbatch_poller *poller);
unsigned int kbatch_poller_run_cycle(struct kbatch_poller *poller,
				     unsigned int max_slices);
void kbatch_poller_get_stats(struct kbatch_poller *poller,
			     struct kbatch_poller_stats *stats);
void kbatch_poller_inject_wake(struct kbatch_poller *poller, u32 index);
struct module;
struct module *kbatch_module(void);
void kbatch_poller_set_dying_hook(struct kbatch_poller *poller,
				  void (*fn)(void *arg), void *arg);
void kbatch_poller_set_gp_hook(struct kbatch_poller *poller,
			       void (*fn)(void *arg), void *arg);
void kbatch_poller_set_timeout(struct kbatch_poller *poller,
			       unsigned long timeout);

#endif /* _KBATCH_INTERNAL_H */
