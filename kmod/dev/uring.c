// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kbatch through io_uring: IORING_OP_URING_CMD entries carrying one
 * struct kbatch_sqe each (the ABI is in include/uapi/linux/kbatch.h).
 *
 * io_uring hands us its commands one at a time.  To give an op's handler
 * a batch, a command is checked and copied into the file's open batch
 * and completes later (-EIOCBQUEUED); the first command of a batch asks
 * io_uring to call us back in its task (io_uring_cmd_complete_in_task()),
 * which happens once the task is done submitting: so every kbatch command
 * of one io_uring_enter() on one file lands in one batch, which then runs
 * as one submit (submit.c) in the submitting task.  A batch that fills up
 * is closed and the next command opens another.  Batches hold commands
 * of one file only, like every other submit, of one ring only (the
 * io_uring flags the callback gets, which say how to complete a command,
 * hold for its own ring) and of one task only (the callback runs in the
 * task of the batch's first command: another task's entries must not run
 * with its credentials and memory).  So a file keeps an open batch per
 * (ring, task) that submits to it, up to URING_OPEN of them; a command of
 * one more pair closes the open batch next in turn, which still runs.
 *
 * Memory: a file holds at most KBATCH_URING_FILE_BATCHES batches (open,
 * waiting for their task's task work, or kept spare), each ~22 KiB; a
 * command that needs one more is refused with -EBUSY.  Without the bound
 * a task that never runs its task work (DEFER_TASKRUN, never waiting)
 * with more rings than URING_OPEN taking turns would open a batch per
 * command, without limit.
 *
 * TIMER completes later, from its file's poller, through a task-work
 * callback again; it needs io_uring's cancellation of commands (Linux
 * 6.7 on) so that a ring can be torn down with timers in flight: on older
 * kernels it is refused.
 */
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/io_uring_types.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "dev.h"

/* Open batches per file: one per (ring, task) submitting at once. */
#define URING_OPEN	8

/**
 * struct uring_batch - kbatch commands of one file waiting to run
 * @ring: the io_uring they all come from (compared, never dereferenced)
 * @task: the task that submitted them all (compared, never dereferenced)
 * @n: how many
 * @cmds: the commands
 * @sqes: their entries, copied at issue; user_data holds the command
 * @cqes: room for their completions
 */
struct uring_batch {
	const void *ring;
	const void *task;
	unsigned int n;
	struct io_uring_cmd *cmds[KBATCH_URING_BATCH];
	struct kbatch_sqe sqes[KBATCH_URING_BATCH];
	struct kbatch_cqe cqes[KBATCH_URING_BATCH];
};

/**
 * struct kbatch_uring - a file's io_uring state
 * @lock: guards the fields below
 * @open: the batches that new commands join, one per (ring, task); NULL
 *	in a free place
 * @next: the place whose batch a command of one more pair closes
 * @spare: a free batch, kept for the next one
 * @batches: batches allocated (open, waiting to run, running, spare), at
 *	most KBATCH_URING_FILE_BATCHES
 */
struct kbatch_uring {
	spinlock_t lock;		/* all below */
	struct uring_batch *open[URING_OPEN];
	unsigned int next;
	struct uring_batch *spare;
	unsigned int batches;
};

/**
 * struct uring_pdu - what kbatch keeps in a command
 * @batch: the first command of a batch: the batch it runs
 * @timer: a TIMER in flight: its timer, for cancellation
 * @result: a deferred command's result, for the task-work callback
 */
struct uring_pdu {
	struct uring_batch *batch;
	struct kbatch_timer *timer;
	s64 result;
};

static struct uring_pdu *cmd_pdu(struct io_uring_cmd *cmd)
{
	BUILD_BUG_ON(sizeof(struct uring_pdu) > sizeof(cmd->pdu));
	return (struct uring_pdu *)cmd->pdu;
}

/* Complete @cmd with @result: the low 32 bits if they say it all, and res2. */
static void cmd_done(struct io_uring_cmd *cmd, s64 result,
		     unsigned int issue_flags)
{
	ssize_t res = result == (s32)result ? result : -EOVERFLOW;

	io_uring_cmd_done(cmd, res, result, issue_flags);
}

/**
 * kbatch_uring_post() - complete commands whose entries ran
 * @cqes: their completions; user_data is the command
 * @n: how many
 * @issue_flags: of the task-work callback that ran them
 *
 * Context: io_uring task work of the submitting task.
 */
void kbatch_uring_post(const struct kbatch_cqe *cqes, unsigned int n,
		       unsigned int issue_flags)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		cmd_done((struct io_uring_cmd *)(uintptr_t)cqes[i].user_data,
			 cqes[i].result, issue_flags);
}

/**
 * kbatch_uring_set_timer() - remember the TIMER of a command, for cancel
 * @cmd: the command
 * @t: its timer, or NULL once the timer is taken off its file's list
 *
 * Context: the task work that runs the command's entry; with NULL, under
 * the lock of the file's timers (timer_op.c says why).
 */
void kbatch_uring_set_timer(struct io_uring_cmd *cmd, struct kbatch_timer *t)
{
	cmd_pdu(cmd)->timer = t;
}

/**
 * kbatch_uring_timer() - the TIMER of a command being cancelled
 * @cmd: the command
 *
 * Context: io_uring's cancellation of @cmd, under the lock of the file's
 * timers.
 *
 * Return: the timer kbatch_uring_set_timer() remembered, NULL if it was
 * taken off its file's list.
 */
struct kbatch_timer *kbatch_uring_timer(struct io_uring_cmd *cmd)
{
	return cmd_pdu(cmd)->timer;
}

static void uring_late_done(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	cmd_done(cmd, cmd_pdu(cmd)->result, issue_flags);
}

/**
 * kbatch_uring_complete_later() - complete a deferred command (TIMER)
 * @cmd: the command
 * @result: its result
 *
 * Completion goes through io_uring task work, where io_uring's locking
 * is known.
 *
 * Context: any but hardirq.
 */
void kbatch_uring_complete_later(struct io_uring_cmd *cmd, s64 result)
{
	cmd_pdu(cmd)->result = result;
	io_uring_cmd_complete_in_task(cmd, uring_late_done);
}

/**
 * kbatch_uring_complete_unlocked() - complete a cancelable command now
 * @cmd: the command, marked cancelable (TIMER)
 * @result: its result
 *
 * io_uring_cmd_done() without the ring's lock: it takes the lock to drop
 * the command from the ring's cancelable list, and io_uring posts the
 * completion through its own task work.  Not through
 * kbatch_uring_complete_later(): until that task work ran in the
 * submitting task, which a stopped task never does, the command would
 * stay cancelable, kbatch's cancel would find nothing to do, and a ring
 * torn down meanwhile would have io_uring's exit worker call it again and
 * again at full speed.  On kernels without cancelable commands it is
 * kbatch_uring_complete_later().
 *
 * Context: process context, may sleep; not under the ring's lock (the
 * timers' poller worker).
 */
void kbatch_uring_complete_unlocked(struct io_uring_cmd *cmd, s64 result)
{
	might_sleep();
	if (KBATCH_URING_CAN_CANCEL)
		cmd_done(cmd, result, IO_URING_F_UNLOCKED);
	else
		kbatch_uring_complete_later(cmd, result);
}

static struct kbatch_uring *uring_get(struct kbatch_ctx *ctx, gfp_t gfp)
{
	struct kbatch_uring *u;

	/* Acquire: pairs with the cmpxchg below; @u is seen whole. */
	u = smp_load_acquire(&ctx->uring);
	if (u)
		return u;
	u = kzalloc(sizeof(*u), gfp);
	if (!u)
		return NULL;
	spin_lock_init(&u->lock);
	/* Full barrier on success: pairs with the acquire above. */
	if (cmpxchg(&ctx->uring, NULL, u)) {
		kfree(u);
		u = ctx->uring;
	}
	return u;
}

/*
 * Whether a task-work callback runs where a batch must not: in a kernel
 * worker (io_uring's fallback, with none of the submitter's credentials
 * or memory) or in a task on its way out (its commands were gathered
 * but it never came back to run them: cancelled, as the entries of an
 * asynchronous submit a fatal signal catches).  Linux 6.12 passes this
 * as IO_URING_F_TASK_DEAD; 6.1 does not, so ask as io_uring does.
 */
static bool uring_task_dead(void)
{
	return current->flags & (PF_EXITING | PF_KTHREAD);
}

/* The task-work callback of a batch's first command: run the batch. */
static void uring_flush(struct io_uring_cmd *first, unsigned int issue_flags)
{
	struct uring_batch *b = cmd_pdu(first)->batch;
	/*
	 * The commands hold the file until they complete, and the last
	 * completion may drop the last reference (on 6.1 even at once, in
	 * a worker): hold it ourselves, for @u after the run.
	 */
	struct file *file = get_file(first->file);
	struct kbatch_ctx *ctx = file->private_data;
	struct kbatch_uring *u = ctx->uring;
	unsigned int i;

	spin_lock(&u->lock);
	for (i = 0; i < URING_OPEN; i++)
		if (u->open[i] == b)
			u->open[i] = NULL;	/* closed: no command joins it */
	spin_unlock(&u->lock);
	if (uring_task_dead()) {
		for (i = 0; i < b->n; i++)
			cmd_done(b->cmds[i], -ECANCELED, issue_flags);
	} else {
		kbatch_entries_run_uring(ctx, b->sqes, b->cqes, b->n,
					 issue_flags);
	}
	b->n = 0;
	spin_lock(&u->lock);
	if (!u->spare) {
		u->spare = b;
		b = NULL;
	} else {
		u->batches--;
	}
	spin_unlock(&u->lock);
	kfree(b);
	fput(file);
}

/*
 * The place of the open batch of (@ring, @task), or of a free place, or
 * else @u->next, whose batch a new one replaces (it closes, and still
 * runs); the places are replaced in turn.  @u->lock is held.
 */
static unsigned int uring_place(struct kbatch_uring *u, const void *ring,
				const void *task, bool *found)
{
	unsigned int i, free = URING_OPEN;

	*found = false;
	for (i = 0; i < URING_OPEN; i++) {
		struct uring_batch *b = u->open[i];

		if (b && b->ring == ring && b->task == task) {
			*found = true;
			return i;
		}
		if (!b && free == URING_OPEN)
			free = i;
	}
	return free < URING_OPEN ? free : u->next;
}

/*
 * Add @cmd with entry @sqe to its (ring, task)'s open batch of the file:
 * -EIOCBQUEUED, or -EAGAIN (no memory), or -EBUSY (the file has
 * KBATCH_URING_FILE_BATCHES already; see the top of this file).
 */
static int uring_queue(struct kbatch_ctx *ctx, struct io_uring_cmd *cmd,
		       const struct kbatch_sqe *sqe, unsigned int issue_flags)
{
	gfp_t gfp = issue_flags & IO_URING_F_NONBLOCK ? GFP_NOWAIT : GFP_KERNEL;
	struct kbatch_uring *u = uring_get(ctx, gfp | __GFP_ACCOUNT);
	struct io_kiocb *req = cmd_to_io_kiocb(cmd);
	const void *ring = req->ctx, *task = req->task;
	struct uring_batch *b, *fresh = NULL;
	unsigned int i, place;
	bool found, full;

	if (!u)
		return -EAGAIN;
	for (;;) {
		spin_lock(&u->lock);
		place = uring_place(u, ring, task, &found);
		b = u->open[place];
		if (found)
			break;
		if (u->spare || (fresh && u->batches < KBATCH_URING_FILE_BATCHES)) {
			/* @b, if any, is another pair's: its callback runs it. */
			if (b)
				u->next = (place + 1) % URING_OPEN;
			b = u->spare ?: fresh;
			if (b == fresh) {
				fresh = NULL;
				u->batches++;
			} else {
				u->spare = NULL;
			}
			b->n = 0;
			b->ring = ring;
			b->task = task;
			u->open[place] = b;
			break;
		}
		full = u->batches >= KBATCH_URING_FILE_BATCHES;
		spin_unlock(&u->lock);
		if (full) {
			kfree(fresh);
			return -EBUSY;
		}
		fresh = kmalloc(sizeof(*fresh), gfp | __GFP_ACCOUNT);
		if (!fresh)
			return -EAGAIN;	/* io_uring retries where it may sleep */
	}
	i = b->n++;
	b->cmds[i] = cmd;
	b->sqes[i] = *sqe;
	b->sqes[i].user_data = (uintptr_t)cmd;
	if (b->n == KBATCH_URING_BATCH)
		u->open[place] = NULL;
	spin_unlock(&u->lock);
	kfree(fresh);
	if (!i) {
		cmd_pdu(cmd)->batch = b;
		io_uring_cmd_complete_in_task(cmd, uring_flush);
	}
	return -EIOCBQUEUED;
}

/* Check a command and copy its entry to @sqe; 0 or the errno to refuse it. */
static int uring_check(struct io_uring_cmd *cmd, unsigned int issue_flags,
		       struct kbatch_sqe *sqe)
{
	const u8 *area = kbatch_uring_payload(cmd);
	struct kbatch_op *op;
	bool later;
	int ret;

	BUILD_BUG_ON(sizeof(*sqe) > KBATCH_URING_CMD_AREA);
	if (cmd->cmd_op != KBATCH_URING_CMD)
		return -ENOTTY;
	if (!(issue_flags & IO_URING_F_SQE128))
		return -EINVAL;
	memcpy(sqe, area, sizeof(*sqe));
	if (sqe->user_data ||
	    memchr_inv(area + sizeof(*sqe), 0,
		       KBATCH_URING_CMD_AREA - sizeof(*sqe)))
		return -EINVAL;
	ret = kbatch_entries_check(sqe, 1, true);
	if (ret)
		return ret;
	rcu_read_lock();
	op = kbatch_op_peek(sqe->opcode);
	later = op && op->async_only;
	rcu_read_unlock();
	if (later && !KBATCH_URING_CAN_CANCEL)
		return -EOPNOTSUPP;
	return 0;
}

/**
 * kbatch_uring_cmd() - file_operations.uring_cmd of /dev/kbatch
 * @cmd: the command
 * @issue_flags: io_uring's
 *
 * A command refused here completes at once, through io_uring_cmd_done()
 * like every other, so that a CQE32 ring gets the error in big_cqe[0]
 * too (the uapi header promises the whole result there); but for -EAGAIN
 * from a nonblocking issue, which io_uring issues again where it may
 * sleep.
 *
 * Context: process context (the submitting task or an io_uring worker).
 *
 * Return: -EIOCBQUEUED (it completes later, or has completed), -EAGAIN
 * (nonblocking issue only), or 0 for a cancellation.
 */
int kbatch_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct kbatch_ctx *ctx = cmd->file->private_data;
	struct kbatch_sqe sqe;
	int ret;

	if (kbatch_uring_cancelling(issue_flags)) {
		kbatch_timer_uring_cancel(cmd, issue_flags);
		return 0;
	}
	ret = uring_check(cmd, issue_flags, &sqe);
	if (!ret)
		ret = uring_queue(ctx, cmd, &sqe, issue_flags);
	if (ret == -EIOCBQUEUED ||
	    (ret == -EAGAIN && (issue_flags & IO_URING_F_NONBLOCK)))
		return ret;
	cmd_done(cmd, ret, issue_flags);
	return -EIOCBQUEUED;
}

/**
 * kbatch_uring_release() - free a file's io_uring state
 * @ctx: the file, released: no command of it is in flight (each holds
 *	the file)
 *
 * Context: process context.
 */
void kbatch_uring_release(struct kbatch_ctx *ctx)
{
	struct kbatch_uring *u = ctx->uring;

	if (!u)
		return;
	WARN_ON_ONCE(memchr_inv(u->open, 0, sizeof(u->open)));
	kfree(u->spare);
	kfree(u);
	ctx->uring = NULL;
}
