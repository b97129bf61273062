/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kbatch's private header: what the module's files share with each other
 * and with the KUnit suites in kunit/, and nothing else.
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
#include <uapi/linux/kbatch.h>

/* ---- ring.h, ring.c: one CPU's ring of a queue ---- */
#include "ring.h"

bool kbatch_ring_full(struct kbatch_ring *ring);
bool kbatch_ring_empty(struct kbatch_ring *ring);
void kbatch_ring_release(struct kbatch_ring *ring, unsigned long start,
			 unsigned long end);
struct kbatch_ring *kbatch_ring_alloc(struct kbatch_queue *queue,
				      unsigned int cpu, unsigned int size,
				      unsigned long first);
void kbatch_ring_free(struct kbatch_ring *ring);

/* ---- queue.c: the queue and its three front ends ---- */

/**
 * struct kbatch_queue - a batch queue
 * @rings: one ring per possible CPU, indexed by CPU number
 * @mode: the front end this queue serves
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
	struct kbatch_ring **rings;
	enum kbatch_mode mode;
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

struct kbatch_queue *kbatch_queue_alloc_at(const char *name,
					   enum kbatch_mode mode,
					   unsigned int ring_size,
					   kbatch_batch_fn fn, void *data,
					   unsigned long first);

void kbatch_queue_set_timeout(struct kbatch_queue *queue, unsigned long timeout);

/* How long kbatch_queue_shutdown() waits, in all, before it gives up. */
#define KBATCH_FREE_TIMEOUT	(20 * HZ)

/* ---- stats.c: debugfs ---- */
void kbatch_queue_debugfs_init(struct kbatch_queue *queue);
void kbatch_queue_debugfs_exit(struct kbatch_queue *queue);
struct seq_file;
int kbatch_queue_stats_show(struct seq_file *m, void *unused);

/* ---- chardev.c: /dev/kbatch ---- */
int kbatch_chardev_init(void);
void kbatch_chardev_exit(void);
void kbatch_fill_info(struct kbatch_info *info);

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
void kbatch_poller_set_dying_hook(struct kbatch_poller *poller,
				  void (*fn)(void *arg), void *arg);
void kbatch_poller_set_timeout(struct kbatch_poller *poller,
			       unsigned long timeout);

/* ==== /dev/kbatch: submission, ops and open files ==== */

#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/refcount.h>

/* Most entries one KBATCH_IOC_SUBMIT takes. */
#define KBATCH_MAX_ENTRIES	1024
/* Most completions an open file holds; a power of two. */
#define KBATCH_CQ_ENTRIES	4096
/* Size of the opcode table: built-ins below KBATCH_OP_DYNAMIC. */
#define KBATCH_OPS_MAX		256

/* ---- ops.c: the op registry ---- */
struct kbatch_op *kbatch_op_get(u32 opcode);
void kbatch_op_get_more(struct kbatch_op *op, unsigned int n);
void kbatch_op_put(struct kbatch_op *op, unsigned int n);
bool kbatch_op_dying(struct kbatch_op *op);
int kbatch_op_lookup(struct kbatch_lookup *lk);
int kbatch_register_op_at(struct kbatch_op *op, u32 opcode);

/* ---- builtin_ops.c: NOP, ECHO, SUM ---- */
int kbatch_builtin_ops_init(void);
void kbatch_builtin_ops_exit(void);

/* ---- timer_op.c: TIMER, driven by the fair poller ---- */
int kbatch_timer_op_init(void);
void kbatch_timer_op_exit(void);

/* ---- submit.c: one submit's entries, run through the submit queue ---- */

/**
 * struct kbatch_op_batch - a run of entries of one op, as its handler sees it
 * @op: the op of every entry in the run
 * @batch: the queue batch the run belongs to
 * @first: index of the run's first entry in @batch
 * @len: entries in the run
 */
struct kbatch_op_batch {
	struct kbatch_op *op;
	struct kbatch_batch *batch;
	unsigned int first;
	unsigned int len;
};

struct kbatch_file;

/**
 * struct kbatch_sub - one KBATCH_IOC_SUBMIT, in one allocation
 * @file: asynchronous: the open file its completions go to (a reference)
 * @work: asynchronous: runs the entries in kbatch's submit worker
 * @nr: number of entries
 * @sqes: the entries, as copied in
 * @cqes: their completions, in the same order
 * @reqs: one request per entry: @arg is its op (NULL if none), @ptr its
 *	sqe, @result its result
 */
struct kbatch_sub {
	struct kbatch_file *file;
	struct work_struct work;
	unsigned int nr;
	struct kbatch_sqe *sqes;
	struct kbatch_cqe *cqes;
	struct kbatch_req reqs[];
};

/* kbatch_req.result of an entry whose completion was taken over. */
#define KBATCH_REQ_DEFERRED	1

struct kbatch_file *kbatch_op_defer(struct kbatch_op_batch *b, unsigned int i,
				    struct kbatch_cqe *cqe);
struct kbatch_sub *kbatch_sub_alloc(unsigned int nr);
void kbatch_sub_free(struct kbatch_sub *sub);
int kbatch_sub_prepare(struct kbatch_sub *sub, bool async);
unsigned int kbatch_sub_run(struct kbatch_sub *sub);
int kbatch_submit_init(void);
void kbatch_submit_exit(void);

/* ---- submit_ioctl.c: KBATCH_IOC_SUBMIT ---- */
long kbatch_ioc_submit(struct kbatch_file *file,
		       struct kbatch_submit __user *uhdr);

/* ---- async.c: asynchronous submit ---- */
int kbatch_async_submit(struct kbatch_file *file, struct kbatch_sub *sub);
int kbatch_async_init(void);
void kbatch_async_exit(void);

/* ---- file.c: an open file's completion queue ---- */

/**
 * struct kbatch_file - what an open /dev/kbatch holds
 * @ref: one for the open file, one per asynchronous submit in flight
 * @lock: protects @head, @tail, @promised, @detached and the slots of @cq
 *	between @head and @tail
 * @read_lock: serialises readers, the only ones to move @head
 * @wait: where read() and poll() wait for completions
 * @head: next completion to read (free-running)
 * @tail: next slot to fill (free-running)
 * @promised: slots taken: completions unread plus those of accepted ops
 *	still in flight; never above KBATCH_CQ_ENTRIES
 * @detached: the file was released; completions go nowhere
 * @cq: the completion ring
 */
struct kbatch_file {
	refcount_t ref;
	spinlock_t lock;		/* head, tail, promised, detached, cq */
	struct mutex read_lock;	/* one reader at a time */
	wait_queue_head_t wait;
	u32 head;
	u32 tail;
	u32 promised;
	bool detached;
	struct kbatch_cqe cq[KBATCH_CQ_ENTRIES];
};

struct kbatch_file *kbatch_file_alloc(void);
void kbatch_file_release(struct kbatch_file *file);
void kbatch_file_put(struct kbatch_file *file);
int kbatch_file_reserve(struct kbatch_file *file, unsigned int n);
void kbatch_file_post(struct kbatch_file *file, const struct kbatch_cqe *cqes,
		      unsigned int n);
ssize_t kbatch_file_read(struct kbatch_file *file, char __user *buf,
			 size_t count, bool nonblock);
__poll_t kbatch_file_poll(struct kbatch_file *file, struct file *filp,
			  struct poll_table_struct *pt);

#endif /* _KBATCH_INTERNAL_H */
