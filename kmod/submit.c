// SPDX-License-Identifier: GPL-2.0
/*
 * One submit's entries, checked, resolved to ops and run through the
 * module-wide submit queue (KBATCH_TASK).  The queue's batch callback cuts
 * a batch, which may mix the entries of several submitters on one CPU,
 * into runs of consecutive entries of the same op and hands each run to
 * its op's handler in one call (struct kbatch_op_batch).
 *
 * Ownership of an entry's op reference: taken in kbatch_sub_prepare(),
 * given up by the batch callback just before it completes the entry, or
 * by kbatch_sub_free() for entries that never ran.  req->arg holds the op
 * while the reference is held and 0 after.
 */
#include <linux/capability.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "kbatch_internal.h"

static struct kbatch_queue *submit_queue;

static struct kbatch_op *req_op(struct kbatch_req *req)
{
	return (struct kbatch_op *)req->arg;
}

static struct kbatch_sub *req_sub(struct kbatch_req *req, unsigned int *i)
{
	struct kbatch_sub *sub = req->ptr;

	*i = req - sub->reqs;
	return sub;
}

/* ---- the batch an op handler sees ---- */

static struct kbatch_req *ob_req(const struct kbatch_op_batch *b,
				 unsigned int i)
{
	if (WARN_ON_ONCE(i >= b->len))
		return NULL;
	return kbatch_batch_req(b->batch, b->first + i);
}

/**
 * kbatch_op_batch_len() - how many entries a handler was given
 * @b: the batch passed to the handler
 *
 * Context: inside an op's handler.
 *
 * Return: the number of entries, at least 1.
 */
unsigned int kbatch_op_batch_len(const struct kbatch_op_batch *b)
{
	return b->len;
}
EXPORT_SYMBOL_GPL(kbatch_op_batch_len);

/**
 * kbatch_op_batch_op() - the op whose entries a handler was given
 * @b: the batch passed to the handler
 *
 * For a handler shared by several ops, or to get back to the provider's
 * object that embeds the op (container_of()).
 *
 * Context: inside an op's handler.
 *
 * Return: the op.
 */
struct kbatch_op *kbatch_op_batch_op(const struct kbatch_op_batch *b)
{
	return b->op;
}
EXPORT_SYMBOL_GPL(kbatch_op_batch_op);

/**
 * kbatch_op_arg() - an argument of an entry
 * @b: the batch passed to the handler
 * @i: the entry, below kbatch_op_batch_len(); entries are in submission
 *	order
 * @n: which argument, 0 to 3 (struct kbatch_sqe.args)
 *
 * Context: inside an op's handler.
 *
 * Return: the argument as user space gave it; 0 for an index out of range.
 */
u64 kbatch_op_arg(const struct kbatch_op_batch *b, unsigned int i,
		  unsigned int n)
{
	struct kbatch_req *req = ob_req(b, i);
	struct kbatch_sub *sub;
	unsigned int e;

	if (!req || WARN_ON_ONCE(n >= ARRAY_SIZE(sub->sqes->args)))
		return 0;
	sub = req_sub(req, &e);
	return sub->sqes[e].args[n];
}
EXPORT_SYMBOL_GPL(kbatch_op_arg);

/**
 * kbatch_op_set_result() - set the result user space gets for an entry
 * @b: the batch passed to the handler
 * @i: the entry, below kbatch_op_batch_len()
 * @result: a value, or a negative errno
 *
 * The last call for an entry wins; an entry never set completes with 0.
 *
 * Context: inside an op's handler.
 */
void kbatch_op_set_result(struct kbatch_op_batch *b, unsigned int i, s64 result)
{
	struct kbatch_req *req = ob_req(b, i);
	struct kbatch_sub *sub;
	unsigned int e;

	if (!req)
		return;
	sub = req_sub(req, &e);
	sub->cqes[e].result = result;
}
EXPORT_SYMBOL_GPL(kbatch_op_set_result);

/**
 * kbatch_op_defer() - take over an entry's completion (built-in async ops)
 * @b: the batch passed to the handler
 * @i: the entry, of an asynchronous submit
 * @cqe: gets the entry's completion, to be posted later with its result
 *
 * The submit's worker will not post this entry's completion: the caller
 * posts it with kbatch_file_post() when the op is done (its room in the
 * file's completion queue stays reserved until then) and drops the file
 * reference with kbatch_file_put().
 *
 * Context: inside an op's handler.
 *
 * Return: the file, with a reference for the caller; NULL (nothing
 * deferred) for an entry of a synchronous submit.
 */
struct kbatch_file *kbatch_op_defer(struct kbatch_op_batch *b, unsigned int i,
				    struct kbatch_cqe *cqe)
{
	struct kbatch_req *req = ob_req(b, i);
	struct kbatch_sub *sub;
	unsigned int e;

	if (!req)
		return NULL;
	sub = req_sub(req, &e);
	if (WARN_ON_ONCE(!sub->file))
		return NULL;
	req->result = KBATCH_REQ_DEFERRED;
	*cqe = sub->cqes[e];
	refcount_inc(&sub->file->ref);
	return sub->file;
}

static void ob_set_all(struct kbatch_op_batch *b, s64 result)
{
	unsigned int i;

	for (i = 0; i < b->len; i++)
		kbatch_op_set_result(b, i, result);
}

/* ---- the submit queue's batch callback ---- */

/* Run entries [first, first + len) of @batch, all of @op, and complete them. */
static void run_op(struct kbatch_batch *batch, struct kbatch_op *op,
		   unsigned int first, unsigned int len)
{
	struct kbatch_op_batch b = {
		.op = op, .batch = batch, .first = first, .len = len,
	};
	unsigned int i;

	if (!op)
		ob_set_all(&b, -EOPNOTSUPP);
	else if (kbatch_op_dying(op))
		ob_set_all(&b, -ESHUTDOWN);
	else
		op->run(&b);
	for (i = first; i < first + len; i++)
		kbatch_batch_req(batch, i)->arg = 0;
	if (op)
		kbatch_op_put(op, len);
	/*
	 * Results are in the submits' cqes; the request's own result only
	 * says whether the entry was deferred (kbatch_op_defer()).  The
	 * release in kbatch_complete() orders the handler's writes before the
	 * submitter's acquire of the request's done flag.
	 */
	for (i = first; i < first + len; i++)
		kbatch_complete(batch, i, kbatch_batch_req(batch, i)->result);
}

static void submit_batch(struct kbatch_batch *batch, void *data)
{
	unsigned int len = kbatch_bound(batch), i, j;
	struct kbatch_op *op;

	for (i = 0; i < len; i = j) {
		op = req_op(kbatch_batch_req(batch, i));
		for (j = i + 1; j < len; j++)
			if (req_op(kbatch_batch_req(batch, j)) != op)
				break;
		run_op(batch, op, i, j - i);
	}
}

/* ---- a submission ---- */

/**
 * kbatch_sub_alloc() - allocate a submission of @nr entries, zeroed
 * @nr: 1 to KBATCH_MAX_ENTRIES
 *
 * One allocation holds the requests, the entries and the completions.
 *
 * Context: process context, may sleep.
 *
 * Return: the submission, or NULL.
 */
struct kbatch_sub *kbatch_sub_alloc(unsigned int nr)
{
	size_t head = struct_size_t(struct kbatch_sub, reqs, nr);
	size_t size = head + nr * (sizeof(struct kbatch_sqe) +
				   sizeof(struct kbatch_cqe));
	struct kbatch_sub *sub;

	might_sleep();
	if (WARN_ON_ONCE(!nr || nr > KBATCH_MAX_ENTRIES))
		return NULL;
	sub = kvzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!sub)
		return NULL;
	sub->nr = nr;
	sub->sqes = (struct kbatch_sqe *)((char *)sub + head);
	sub->cqes = (struct kbatch_cqe *)(sub->sqes + nr);
	return sub;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_sub_alloc);

/**
 * kbatch_sub_free() - free a submission, dropping the op references of
 *	entries that never ran
 * @sub: the submission, or NULL
 *
 * Context: process context.
 */
void kbatch_sub_free(struct kbatch_sub *sub)
{
	unsigned int i;

	if (!sub)
		return;
	for (i = 0; i < sub->nr; i++) {
		if (sub->reqs[i].arg)
			kbatch_op_put(req_op(&sub->reqs[i]), 1);
	}
	kvfree(sub);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_sub_free);

static int sqe_check(const struct kbatch_sqe *sqe, bool async)
{
	if (sqe->flags || sqe->reserved[0] || sqe->reserved[1])
		return -EINVAL;
	if (sqe->opcode == KBATCH_OP_TIMER && !async)
		return -EINVAL;
	return 0;
}

/*
 * Resolve the run of entries of one opcode that starts at @first and ends
 * before *@end: one lookup for the run, then one reference per entry
 * taken at once, so a batch of one op costs one RCU section, not one per
 * entry.  -EPERM (nothing taken for this run) for an admin op without
 * CAP_SYS_ADMIN.
 */
static int prepare_run(struct kbatch_sub *sub, unsigned int first,
		       unsigned int *end)
{
	u32 opcode = sub->sqes[first].opcode;
	struct kbatch_op *op;
	unsigned int i;

	for (i = first + 1; i < sub->nr && sub->sqes[i].opcode == opcode; i++)
		;
	*end = i;
	op = kbatch_op_get(opcode);
	if (op && op->admin && !capable(CAP_SYS_ADMIN)) {
		kbatch_op_put(op, 1);
		return -EPERM;
	}
	if (op && *end - first > 1)
		kbatch_op_get_more(op, *end - first - 1);
	for (i = first; i < *end; i++) {
		sub->reqs[i].arg = (unsigned long)op;
		sub->reqs[i].ptr = sub;
		sub->cqes[i].user_data = sub->sqes[i].user_data;
	}
	return 0;
}

/**
 * kbatch_sub_prepare() - check every entry, then resolve each to its op
 * @sub: a submission whose entries were copied in
 * @async: whether it will run asynchronously
 *
 * Checks all entries before resolving any, so a bad one fails the submit
 * with nothing taken.  An entry whose opcode names no op gets no op: it
 * will complete with -EOPNOTSUPP.
 *
 * Context: process context, in the submitter (checks its capabilities).
 *
 * Return: 0; -EINVAL for a bad entry, -EPERM for an entry of an admin op
 * if the caller lacks CAP_SYS_ADMIN.  On error @sub holds no reference.
 */
int kbatch_sub_prepare(struct kbatch_sub *sub, bool async)
{
	unsigned int i, end;
	int ret;

	for (i = 0; i < sub->nr; i++) {
		ret = sqe_check(&sub->sqes[i], async);
		if (ret)
			return ret;
	}
	for (i = 0; i < sub->nr; i = end) {
		if (prepare_run(sub, i, &end))
			goto eperm;
	}
	return 0;
eperm:
	for (i = 0; i < sub->nr; i++) {
		if (sub->reqs[i].arg)
			kbatch_op_put(req_op(&sub->reqs[i]), 1);
		sub->reqs[i].arg = 0;
	}
	return -EPERM;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_sub_prepare);

/**
 * kbatch_sub_run() - run a prepared submission and wait for it
 * @sub: the submission
 *
 * Context: process context, may sleep.
 *
 * Return: how many entries, from the first, ran and have their result in
 * @sub->cqes: @sub->nr unless the caller got a fatal signal while the
 * ring was full or the module is going away.
 */
unsigned int kbatch_sub_run(struct kbatch_sub *sub)
{
	int ret;

	might_sleep();
	ret = kbatch_submit_many(submit_queue, sub->reqs, sub->nr);
	return ret < 0 ? 0 : ret;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_sub_run);

/**
 * kbatch_submit_init() - create the submit queue
 *
 * Context: process context, may sleep.
 *
 * Return: 0 or a negative errno.
 */
int kbatch_submit_init(void)
{
	submit_queue = kbatch_queue_alloc("submit", KBATCH_TASK, 0,
					  submit_batch, NULL);
	return PTR_ERR_OR_ZERO(submit_queue);
}

/**
 * kbatch_submit_exit() - free the submit queue; no submit may be running
 *
 * Context: process context, may sleep.
 */
void kbatch_submit_exit(void)
{
	kbatch_queue_free(submit_queue);
}
