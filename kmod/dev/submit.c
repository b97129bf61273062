// SPDX-License-Identifier: GPL-2.0
/*
 * KBATCH_IOC_SUBMIT: the submitter runs its own entries.
 *
 * One submit reads its header and its entries once, into a buffer cached
 * in the open file (no allocation per submit once the file has one big
 * enough), checks every entry before any runs, then walks the entries in
 * runs of one opcode and calls each run's handler once, in its own
 * context.  Nothing is shared with another file's submits: no queue, no
 * batch, no wait (an op that asks for batches across files is the one
 * exception, shared.c).  The ABI, with what happens on every error, is at
 * the top of include/uapi/linux/kbatch.h.
 *
 * Asynchronous submits run the same way and post the completions to the
 * file's completion queue.  Ops marked async_only (TIMER) take their
 * entries' completions over and post them later; they run in a second
 * pass, after the first pass posted every other completion of the submit,
 * and their timers start only once the second pass posted its own (TIMER
 * entries that failed at once), so a deferred completion can never
 * overtake one of its own submit.
 */
#include <linux/capability.h>
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "dev.h"
#include <trace/events/kbatch.h>

/**
 * struct kbatch_buf - room for the entries and completions of one submit
 * @cap: entries it has room for
 * @cqes: @cap completions
 * @sqes: @cap entries
 */
struct kbatch_buf {
	unsigned int cap;
	struct kbatch_cqe *cqes;
	struct kbatch_sqe sqes[];
};

/* A completion result that marks an entry an op took over (deferred pass). */
#define KBATCH_RESULT_DEFERRED	S64_MIN

/*
 * The file's cached buffer, if it is free and big enough; otherwise a new
 * one (the old one is freed), charged to the submitter.  The xchg() hands
 * the buffer to one submit at a time; as a full barrier it orders the
 * previous holder's use before ours (pairs with the cmpxchg() in buf_put()).
 */
static struct kbatch_buf *buf_get(struct kbatch_ctx *ctx, unsigned int nr)
{
	struct kbatch_buf *buf = xchg(&ctx->buf, NULL);
	unsigned int cap;

	if (buf && buf->cap >= nr)
		return buf;
	kvfree(buf);
	cap = max(roundup_pow_of_two(nr), 16UL);
	buf = kvmalloc(struct_size(buf, sqes, cap) +
		       array_size(cap, sizeof(*buf->cqes)), GFP_KERNEL_ACCOUNT);
	if (!buf)
		return NULL;
	buf->cap = cap;
	buf->cqes = (struct kbatch_cqe *)&buf->sqes[cap];
	return buf;
}

/* Give the buffer back to the file, or free it if another took its place. */
static void buf_put(struct kbatch_ctx *ctx, struct kbatch_buf *buf)
{
	/* Full barrier: pairs with the xchg() in buf_get(). */
	if (cmpxchg(&ctx->buf, NULL, buf))
		kvfree(buf);
}

/**
 * kbatch_ctx_free_buf() - free the file's cached submit buffer
 * @ctx: the file, being released
 *
 * Context: process context.
 */
void kbatch_ctx_free_buf(struct kbatch_ctx *ctx)
{
	kvfree(ctx->buf);
	ctx->buf = NULL;
}

static unsigned int run_end(const struct kbatch_sqe *sqes, unsigned int i,
			    unsigned int nr)
{
	u32 opcode = sqes[i].opcode;

	while (++i < nr && sqes[i].opcode == opcode)
		;
	return i;
}

/**
 * kbatch_entries_check() - check every entry before any runs
 * @sqes: the entries, copied in
 * @nr: how many
 * @async: whether the submit is asynchronous
 *
 * Context: process context, in the submitter (checks its capabilities).
 *
 * Return: 0; -EINVAL for an entry with a flag or a reserved field set, or
 * of an asynchronous-only op in a synchronous submit; -EPERM for an entry
 * of an admin op when the caller lacks CAP_SYS_ADMIN.
 */
int kbatch_entries_check(const struct kbatch_sqe *sqes, unsigned int nr,
			 bool async)
{
	bool admin = false, bad = false;
	struct kbatch_op *op;
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (sqes[i].flags || sqes[i].reserved[0] || sqes[i].reserved[1])
			return -EINVAL;
	rcu_read_lock();
	for (i = 0; i < nr; i = run_end(sqes, i, nr)) {
		op = kbatch_op_peek(sqes[i].opcode);
		if (!op)
			continue;
		admin |= op->admin;
		bad |= op->async_only && !async;
	}
	rcu_read_unlock();
	if (bad)
		return -EINVAL;
	if (admin && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_entries_check);

enum run_pass {
	PASS_SYNC,	/* every run; an async-only op fails */
	PASS_NOW,	/* asynchronous, first pass: every op but async-only */
	PASS_LATER,	/* asynchronous, second pass: async-only ops */
};

/* Give every completion of @b its entry's user_data and a result of 0. */
static void cqes_init(struct kbatch_op_batch *b)
{
	unsigned int i;

	for (i = 0; i < b->len; i++) {
		b->cqes[i].user_data = b->sqes[i].user_data;
		b->cqes[i].result = 0;
	}
}

/*
 * Run @b's entries if their op belongs to @pass: look the op up once for
 * the run, hold it across the handler call (kbatch_unregister_op() waits
 * for that), and complete every entry.  Return false, with nothing done,
 * if the run belongs to the other pass.  The op found here may not be the
 * one kbatch_entries_check() saw: an opcode freed by kbatch_unregister_op()
 * can name another op since.  So what the check decided by the op is
 * decided again for the op that runs: async-only in a synchronous submit,
 * and CAP_SYS_ADMIN (in the submitting task, where every run happens).
 */
static bool run_span(struct kbatch_op_batch *b, u32 opcode, enum run_pass pass)
{
	struct kbatch_op *op = kbatch_op_get(opcode);
	bool later = op && op->async_only;
	bool later_pass = pass == PASS_LATER;

	if (pass != PASS_SYNC && later != later_pass) {
		kbatch_op_put(op);
		return false;
	}
	cqes_init(b);
	b->op = op;
	trace_kbatch_op_run(op ? op->name : "", opcode, b->len);
	/* Re-registered since the check: the op it found is not this one. */
	if (later && pass == PASS_SYNC)
		kbatch_op_fail(b, -EINVAL);
	else if (op && op->admin && !capable(CAP_SYS_ADMIN))
		kbatch_op_fail(b, -EPERM);
	else if (pass != PASS_SYNC && fatal_signal_pending(current))
		kbatch_op_fail(b, -ECANCELED);	/* accepted: completed, not run */
	else
		kbatch_op_run(b);
	kbatch_op_put(op);
	this_cpu_inc(kbatch_dev_stats.runs);
	return true;
}

/*
 * One pass over the entries.  Completions of the runs this pass runs are
 * packed at the front of @cqes, from *@packed on, in order (in the
 * synchronous pass, entry i's completion is @cqes[i]), except those an op
 * took over.  @proto says where the runs' completions go.  Return how
 * many entries the pass got through: @nr, or fewer if a synchronous
 * submitter got a fatal signal.
 */
static unsigned int run_pass(const struct kbatch_op_batch *proto,
			     const struct kbatch_sqe *sqes,
			     struct kbatch_cqe *cqes, unsigned int nr,
			     enum run_pass pass, unsigned int *packed)
{
	struct kbatch_op_batch b = *proto;
	unsigned int i, j, end;

	for (i = 0; i < nr; i = end) {
		end = run_end(sqes, i, nr);
		if (pass == PASS_SYNC && fatal_signal_pending(current))
			break;
		/* The pass's free room starts at *@packed <= i. */
		b.sqes = sqes + i;
		b.cqes = cqes + *packed;
		b.len = end - i;
		if (!run_span(&b, sqes[i].opcode, pass))
			continue;
		/* Only async-only ops defer, and S64_MIN is theirs to use. */
		for (j = 0; j < b.len; j++)
			if (pass != PASS_LATER ||
			    b.cqes[j].result != KBATCH_RESULT_DEFERRED)
				cqes[(*packed)++] = b.cqes[j];
	}
	return i;
}

/**
 * kbatch_op_defer() - take over an entry's completion (async-only ops)
 * @b: the batch passed to the handler of an async_only op
 * @i: the entry, below @b->len
 * @cqe: gets the entry's completion, to be posted later with its result:
 *	through kbatch_cq_post() on @b->ctx's completion queue, where its
 *	room stays reserved until then, or, if @b->uring, through
 *	kbatch_uring_complete_later() of the command in @cqe->user_data
 *
 * Context: inside the handler of an async_only op.
 */
void kbatch_op_defer(struct kbatch_op_batch *b, unsigned int i,
		     struct kbatch_cqe *cqe)
{
	*cqe = b->cqes[i];
	b->cqes[i].result = KBATCH_RESULT_DEFERRED;
	this_cpu_inc(kbatch_dev_stats.deferred);
}

/* Post completions of an asynchronous submit where @proto says. */
static void post(const struct kbatch_op_batch *proto,
		 const struct kbatch_cqe *cqes, unsigned int n)
{
	if (proto->uring)
		kbatch_uring_post(cqes, n, proto->issue_flags);
	else
		kbatch_cq_post(&proto->ctx->cq, cqes, n);
}

/*
 * The two passes of an asynchronous submit (see the top of this file);
 * the timers of the second start once all its completions are posted.
 */
static unsigned int run_async(const struct kbatch_op_batch *proto,
			      const struct kbatch_sqe *sqes,
			      struct kbatch_cqe *cqes, unsigned int nr)
{
	struct kbatch_op_batch b = *proto;
	unsigned int done, packed = 0;
	LIST_HEAD(timers);

	b.timers = &timers;
	done = run_pass(&b, sqes, cqes, nr, PASS_NOW, &packed);
	post(&b, cqes, packed);
	packed = 0;
	run_pass(&b, sqes, cqes, nr, PASS_LATER, &packed);
	post(&b, cqes, packed);
	kbatch_timers_start(&timers);
	return done;
}

/* Run checked entries as @proto says (see kbatch_entries_run()). */
static unsigned int entries_run(const struct kbatch_op_batch *proto,
				const struct kbatch_sqe *sqes,
				struct kbatch_cqe *cqes, unsigned int nr)
{
	unsigned int done, packed = 0;

	might_sleep();
	if (!proto->ctx)
		done = run_pass(proto, sqes, cqes, nr, PASS_SYNC, &packed);
	else
		done = run_async(proto, sqes, cqes, nr);
	this_cpu_inc(kbatch_dev_stats.submits);
	this_cpu_add(kbatch_dev_stats.entries, done);
	trace_kbatch_dev_submit(done, proto->uring ? KBATCH_TRACE_URING :
				proto->ctx ? KBATCH_TRACE_ASYNC :
				KBATCH_TRACE_SYNC);
	return done;
}

/**
 * kbatch_entries_run() - run checked entries in the caller's context
 * @ctx: the file whose completion queue gets them (asynchronous, with room
 *	for @nr reserved), or NULL (synchronous)
 * @sqes: the entries
 * @cqes: room for @nr completions
 * @nr: how many
 *
 * Synchronous: entry i's completion is @cqes[i].  Asynchronous: every
 * completion goes to @ctx's queue, those of async-only ops later; @cqes
 * is scratch.
 *
 * Context: process context, may sleep (handlers do).
 *
 * Return: how many entries, from the first, ran: @nr, or (synchronous
 * only) fewer if the caller got a fatal signal.
 */
unsigned int kbatch_entries_run(struct kbatch_ctx *ctx,
				const struct kbatch_sqe *sqes,
				struct kbatch_cqe *cqes, unsigned int nr)
{
	struct kbatch_op_batch proto = { .ctx = ctx };

	return entries_run(&proto, sqes, cqes, nr);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_entries_run);

/**
 * kbatch_entries_run_uring() - run checked entries of io_uring commands
 * @ctx: their file
 * @sqes: the entries; each one's user_data is its command
 * @cqes: scratch room for @nr completions
 * @nr: how many
 * @issue_flags: of the io_uring task-work callback that runs them
 *
 * Every command is completed, those of async-only ops later.
 *
 * Context: io_uring task work of the submitting task; may sleep.
 */
void kbatch_entries_run_uring(struct kbatch_ctx *ctx,
			      const struct kbatch_sqe *sqes,
			      struct kbatch_cqe *cqes, unsigned int nr,
			      unsigned int issue_flags)
{
	struct kbatch_op_batch proto = {
		.ctx = ctx, .uring = true, .issue_flags = issue_flags,
	};

	entries_run(&proto, sqes, cqes, nr);
}

static int hdr_check(const struct kbatch_submit *hdr)
{
	bool async = hdr->flags & KBATCH_SUBMIT_ASYNC;

	if ((hdr->flags & ~KBATCH_SUBMIT_FLAGS) || hdr->reserved32 ||
	    hdr->reserved[0] || hdr->reserved[1])
		return -EINVAL;
	if (!hdr->nr || hdr->nr > KBATCH_MAX_ENTRIES)
		return -EINVAL;
	if (async && hdr->completions)
		return -EINVAL;
	/* A room that cannot be right, refused before anything runs. */
	if (!async && (!hdr->completions ||
		       !access_ok(u64_to_user_ptr(hdr->completions),
				  array_size(hdr->nr, sizeof(struct kbatch_cqe)))))
		return -EFAULT;
	return 0;
}

/* Copy in, check and run the entries of @hdr; *@done gets how many ran. */
static long submit_entries(struct kbatch_ctx *ctx,
			   const struct kbatch_submit *hdr, u32 *done)
{
	bool async = hdr->flags & KBATCH_SUBMIT_ASYNC;
	struct kbatch_buf *buf = buf_get(ctx, hdr->nr);
	long ret;

	if (!buf)
		return -ENOMEM;
	ret = -EFAULT;
	if (copy_from_user(buf->sqes, u64_to_user_ptr(hdr->entries),
			   array_size(hdr->nr, sizeof(*buf->sqes))))
		goto out;
	ret = kbatch_entries_check(buf->sqes, hdr->nr, async);
	if (!ret && async)
		ret = kbatch_cq_reserve(&ctx->cq, hdr->nr);
	if (ret)
		goto out;
	*done = kbatch_entries_run(async ? ctx : NULL, buf->sqes, buf->cqes,
				   hdr->nr);
	if (!async && copy_to_user(u64_to_user_ptr(hdr->completions),
				   buf->cqes, *done * sizeof(*buf->cqes)))
		ret = -EFAULT;
out:
	buf_put(ctx, buf);
	return ret;
}

/**
 * kbatch_ioc_submit() - KBATCH_IOC_SUBMIT
 * @ctx: the open file
 * @uhdr: the user's struct kbatch_submit
 *
 * Context: process context, may sleep.
 *
 * Return: 0, or a negative errno (see include/uapi/linux/kbatch.h).
 */
long kbatch_ioc_submit(struct kbatch_ctx *ctx,
		       struct kbatch_submit __user *uhdr)
{
	struct kbatch_submit hdr;
	u32 done = 0;
	long ret;

	might_sleep();
	if (put_user(0, &uhdr->done) || copy_from_user(&hdr, uhdr, sizeof(hdr)))
		return -EFAULT;
	ret = hdr_check(&hdr);
	if (ret)
		return ret;
	ret = submit_entries(ctx, &hdr, &done);
	if (done && put_user(done, &uhdr->done))
		ret = -EFAULT;
	return ret;
}
