/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /dev/kbatch, the service: what its files share with each other and with
 * the KUnit suites.  The service uses kbatch's core only through the
 * exported API (<linux/kbatch.h>), as any other module would.
 *
 * The unit of submission is the open file (struct kbatch_ctx): a submit
 * runs its own entries in its own context (submit.c), completions of
 * asynchronous entries go to the file's completion queue (cq.c), and what
 * a file starts (timers, completion room, io_uring batches) is bounded per
 * file, and a submit's buffer per submit (a file caches one; threads
 * submitting at once get one each), all charged to the memory cgroup of
 * the task whose call allocates it (GFP_KERNEL_ACCOUNT) and gone at
 * release.
 */
#ifndef _KBATCH_DEV_H
#define _KBATCH_DEV_H

#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/kbatch.h>
#include <uapi/linux/kbatch.h>

/* Most entries one KBATCH_IOC_SUBMIT takes. */
#define KBATCH_MAX_ENTRIES	1024
/* Most completions an open file holds; a power of two. */
#define KBATCH_CQ_ENTRIES	4096
/* Most TIMER entries one open file has in flight. */
#define KBATCH_FILE_TIMERS	1024
/* Longest TIMER delay: one hour. */
#define KBATCH_TIMER_MAX_NS	(3600ULL * NSEC_PER_SEC)
/* KBATCH_FEAT_* bits this module may report (kbatch_fill_info()). */
#define KBATCH_FEATURES		(KBATCH_FEAT_SUBMIT | KBATCH_FEAT_ASYNC | \
				 KBATCH_FEAT_LOOKUP | KBATCH_FEAT_TIMER | \
				 KBATCH_FEAT_URING | KBATCH_FEAT_URING_TIMER)
/* Size of the opcode table: built-ins below KBATCH_OP_DYNAMIC. */
#define KBATCH_OPS_MAX		256

struct kbatch_buf;
struct kbatch_timer;
struct kbatch_timers;
struct kbatch_uring;

/**
 * struct kbatch_cq - an open file's completion queue (cq.c)
 * @lock: protects @head, @tail, @promised and the slots between @head
 *	and @tail
 * @read_lock: serialises readers, the only ones to move @head
 * @wait: where read() and poll() wait for completions
 * @head: next completion to read (free-running)
 * @tail: next slot to fill (free-running)
 * @promised: slots taken: completions unread plus those of accepted ops
 *	still in flight; never above KBATCH_CQ_ENTRIES
 * @ring: KBATCH_CQ_ENTRIES slots, allocated at the first asynchronous
 *	submit; NULL before
 */
struct kbatch_cq {
	spinlock_t lock;		/* head, tail, promised, ring slots */
	struct mutex read_lock;		/* one reader at a time */
	wait_queue_head_t wait;
	u32 head;
	u32 tail;
	u32 promised;
	struct kbatch_cqe *ring;
};

/**
 * struct kbatch_ctx - an open /dev/kbatch
 * @cq: its completion queue
 * @buf: a cached submit buffer, taken by one submit at a time (submit.c)
 * @timers: its timers, created by its first TIMER (timer_op.c)
 * @uring: its io_uring commands waiting to run (uring.c)
 * @stop: the first step of its teardown after release() (chardev.c)
 * @free: the second, a grace period later
 *
 * Lives from open() until shortly after release().  Nothing outlives it:
 * its submits run inside the ioctl, which holds the file, and its
 * teardown cancels its timers before freeing it.
 */
struct kbatch_ctx {
	struct kbatch_cq cq;
	struct kbatch_buf *buf;
	struct kbatch_timers *timers;
	struct kbatch_uring *uring;
	struct work_struct stop;
	struct rcu_work free;
};

/**
 * struct kbatch_op_batch - a run of entries of one op, as its handler sees it
 * @op: the op of every entry in the run
 * @sqes: the run's entries, as copied in
 * @cqes: their completions: @user_data set, @result for the handler
 * @len: entries in the run, at least 1
 * @ctx: the file of an asynchronous submit; NULL when synchronous
 * @uring: the entries are io_uring commands (uring.c): each one's
 *	user_data is its struct io_uring_cmd
 * @issue_flags: with @uring: io_uring's flags for the task work that
 *	runs them
 * @timers: with @ctx: the submit's TIMERs, started by kbatch_timers_start()
 *	once every other completion of the submit is posted
 */
struct kbatch_op_batch {
	struct kbatch_op *op;
	const struct kbatch_sqe *sqes;
	struct kbatch_cqe *cqes;
	unsigned int len;
	struct kbatch_ctx *ctx;
	bool uring;
	unsigned int issue_flags;
	struct list_head *timers;
};

/* ---- chardev.c: the device, KBATCH_IOC_INFO and KBATCH_IOC_LOOKUP ---- */
void kbatch_fill_info(struct kbatch_info *info);

/* ---- cq.c: the completion queue ---- */
void kbatch_cq_init(struct kbatch_cq *cq);
void kbatch_cq_destroy(struct kbatch_cq *cq);
int kbatch_cq_reserve(struct kbatch_cq *cq, unsigned int n);
void kbatch_cq_post(struct kbatch_cq *cq, const struct kbatch_cqe *cqes,
		    unsigned int n);
ssize_t kbatch_cq_read(struct kbatch_cq *cq, char __user *buf, size_t count,
		       bool nonblock);
__poll_t kbatch_cq_poll(struct kbatch_cq *cq, struct file *filp,
			struct poll_table_struct *pt);

/* ---- submit.c: KBATCH_IOC_SUBMIT ---- */
int kbatch_entries_check(const struct kbatch_sqe *sqes, unsigned int nr,
			 bool async);
unsigned int kbatch_entries_run(struct kbatch_ctx *ctx,
				const struct kbatch_sqe *sqes,
				struct kbatch_cqe *cqes, unsigned int nr);
void kbatch_op_defer(struct kbatch_op_batch *b, unsigned int i,
		     struct kbatch_cqe *cqe);
void kbatch_entries_run_uring(struct kbatch_ctx *ctx,
			      const struct kbatch_sqe *sqes,
			      struct kbatch_cqe *cqes, unsigned int nr,
			      unsigned int issue_flags);
long kbatch_ioc_submit(struct kbatch_ctx *ctx,
		       struct kbatch_submit __user *uhdr);
void kbatch_ctx_free_buf(struct kbatch_ctx *ctx);

/* ---- ops.c: the op registry ---- */
struct kbatch_op *kbatch_op_get(u32 opcode);
struct kbatch_op *kbatch_op_peek(u32 opcode);
void kbatch_op_put(struct kbatch_op *op);
int kbatch_register_builtin_op(struct kbatch_op *op, u32 opcode);
int kbatch_op_lookup(struct kbatch_lookup *lk);
void kbatch_op_run(struct kbatch_op_batch *b);
void kbatch_op_fail(struct kbatch_op_batch *b, s64 result);

/* ---- shared.c: batches across files, for ops that ask for them ---- */
int kbatch_shared_init(struct kbatch_op *op);
void kbatch_shared_exit(struct kbatch_op *op);
void kbatch_shared_run(struct kbatch_op_batch *b);

/* ---- builtin_ops.c: NOP, ECHO, SUM, TIMER ---- */
int kbatch_builtin_ops_init(void);
void kbatch_builtin_ops_exit(void);

/* ---- timer_op.c: TIMER, driven by a per-file fair poller ---- */
void kbatch_timer_run(struct kbatch_op_batch *b);
void kbatch_timers_start(struct list_head *timers);
void kbatch_timers_stop(struct kbatch_ctx *ctx);
bool kbatch_timers_release(struct kbatch_ctx *ctx);

/* ---- uring.c: IORING_OP_URING_CMD ---- */

/*
 * The io_uring command API moved between the kernels kbatch supports:
 * 6.1 has it in <linux/io_uring.h> with the payload at cmd->cmd and no
 * cancellation; 6.7 on (Debian's 6.12) in <linux/io_uring/cmd.h>, with
 * the SQE at cmd->sqe and cancelable commands.  kmod/Kbuild tells which
 * by looking for that header (KBATCH_HAVE_URING_CMD_H).
 */
#ifdef KBATCH_HAVE_URING_CMD_H
#include <linux/io_uring/cmd.h>
#define kbatch_uring_payload(c)		io_uring_sqe_cmd((c)->sqe)
#define KBATCH_URING_CAN_CANCEL		1
#define kbatch_uring_cancelling(flags)	((flags) & IO_URING_F_CANCEL)
#define kbatch_uring_mark_cancelable(c, flags) \
	io_uring_cmd_mark_cancelable(c, flags)
#else
#include <linux/io_uring.h>
#define kbatch_uring_payload(c)		((c)->cmd)
#define KBATCH_URING_CAN_CANCEL		0
#define kbatch_uring_cancelling(flags)	false
#define kbatch_uring_mark_cancelable(c, flags) do { } while (0)
#endif

int kbatch_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags);
void kbatch_uring_post(const struct kbatch_cqe *cqes, unsigned int n,
		       unsigned int issue_flags);
void kbatch_uring_complete_later(struct io_uring_cmd *cmd, s64 result);
void kbatch_uring_complete_unlocked(struct io_uring_cmd *cmd, s64 result);
void kbatch_uring_set_timer(struct io_uring_cmd *cmd, struct kbatch_timer *t);
struct kbatch_timer *kbatch_uring_timer(struct io_uring_cmd *cmd);
void kbatch_uring_release(struct kbatch_ctx *ctx);
void kbatch_timer_uring_cancel(struct io_uring_cmd *cmd,
			       unsigned int issue_flags);

/* ---- stats.c: what the service did, in debugfs ---- */

/**
 * struct kbatch_dev_stats - per-CPU counters of the service
 * @submits: KBATCH_IOC_SUBMIT calls that ran entries
 * @entries: entries run
 * @runs: handler calls (runs of one op)
 * @deferred: entries whose completion an op took over (TIMER)
 */
struct kbatch_dev_stats {
	unsigned long submits;
	unsigned long entries;
	unsigned long runs;
	unsigned long deferred;
};

DECLARE_PER_CPU(struct kbatch_dev_stats, kbatch_dev_stats);
void kbatch_dev_stats_init(void);
void kbatch_dev_stats_exit(void);

/* ---- the service, set up by the module's init (kbatch_main.c) ---- */
int kbatch_dev_init(void);
void kbatch_dev_exit(void);

#endif /* _KBATCH_DEV_H */
