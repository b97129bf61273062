// SPDX-License-Identifier: GPL-2.0
/*
 * The op registry, a table from opcode to struct kbatch_op, and the
 * accessors an op's handler uses.  Writers (register, unregister) take
 * ops_mutex; submitters read the table under RCU and take a reference on
 * the op for each run they hand to it (see the lifetime rule in
 * include/linux/kbatch.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/export.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "dev.h"

static struct kbatch_op __rcu *ops_table[KBATCH_OPS_MAX];
static DEFINE_MUTEX(ops_mutex);
/* Where the search for a free dynamic opcode starts: opcodes are reused late. */
static u32 ops_next = KBATCH_OP_DYNAMIC;

/**
 * kbatch_op_peek() - the op of an opcode, without a reference
 * @opcode: from a submission entry
 *
 * Context: inside rcu_read_lock(); the op stays valid until
 * rcu_read_unlock() (kbatch_unregister_ops() waits a grace period).
 *
 * Return: the op, or NULL if no op has that opcode.
 */
struct kbatch_op *kbatch_op_peek(u32 opcode)
{
	if (opcode >= KBATCH_OPS_MAX)
		return NULL;
	return rcu_dereference(ops_table[opcode]);
}

/**
 * kbatch_op_get() - the op of an opcode, with a reference for one run
 * @opcode: from a submission entry
 *
 * Context: any; does not sleep.
 *
 * Return: the op, to be released with kbatch_op_put(); NULL if no op has
 * that opcode or it is being unregistered.
 */
struct kbatch_op *kbatch_op_get(u32 opcode)
{
	struct kbatch_op *op;

	rcu_read_lock();
	op = kbatch_op_peek(opcode);
	if (op && !percpu_ref_tryget_live(&op->ref))
		op = NULL;
	rcu_read_unlock();
	return op;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_op_get);

/**
 * kbatch_op_put() - drop a reference taken by kbatch_op_get()
 * @op: the op, or NULL; it may be freed once this returns
 *
 * Context: any.
 */
void kbatch_op_put(struct kbatch_op *op)
{
	if (op)
		percpu_ref_put(&op->ref);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_op_put);

/**
 * kbatch_op_fail() - complete every entry of a run with @result, unrun
 * @b: the run
 * @result: a negative errno
 *
 * Context: any.
 */
void kbatch_op_fail(struct kbatch_op_batch *b, s64 result)
{
	unsigned int i;

	for (i = 0; i < b->len; i++)
		b->cqes[i].result = result;
}

/**
 * kbatch_op_run() - hand a run to its op's handler
 * @b: the run; @b->op is its op with a reference held, or NULL if the
 *	opcode names no op
 *
 * Entries of no op complete with -EOPNOTSUPP, those of an op being
 * unregistered with -ESHUTDOWN, without reaching a handler.
 *
 * Context: process context, may sleep (the handler may).
 */
void kbatch_op_run(struct kbatch_op_batch *b)
{
	if (!b->op)
		kbatch_op_fail(b, -EOPNOTSUPP);
	else if (percpu_ref_is_dying(&b->op->ref))
		kbatch_op_fail(b, -ESHUTDOWN);
	else if (b->op->shared)
		kbatch_shared_run(b);
	else
		b->op->run(b);
}

static void op_released(struct percpu_ref *ref)
{
	struct kbatch_op *op = container_of(ref, struct kbatch_op, ref);

	complete(&op->released);
}

static struct kbatch_op *op_by_name(const char *name)
{
	struct kbatch_op *op;
	unsigned int i;

	lockdep_assert_held(&ops_mutex);
	for (i = 0; i < KBATCH_OPS_MAX; i++) {
		op = rcu_dereference_protected(ops_table[i],
					       lockdep_is_held(&ops_mutex));
		if (op && !strcmp(op->name, name))
			return op;
	}
	return NULL;
}

/* A free dynamic opcode, searching round from ops_next. */
static int op_free_slot(void)
{
	u32 n = KBATCH_OPS_MAX - KBATCH_OP_DYNAMIC, i, opcode;

	lockdep_assert_held(&ops_mutex);
	for (i = 0; i < n; i++) {
		opcode = KBATCH_OP_DYNAMIC + (ops_next - KBATCH_OP_DYNAMIC + i) % n;
		if (!rcu_access_pointer(ops_table[opcode])) {
			ops_next = opcode + 1;
			return opcode;
		}
	}
	return -ENOSPC;
}

static int op_check(const struct kbatch_op *op)
{
	size_t len;

	if (!op->name || !op->run || (op->shared && op->async_only))
		return -EINVAL;
	len = strnlen(op->name, KBATCH_OP_NAME_MAX);
	if (!len || len >= KBATCH_OP_NAME_MAX)
		return -EINVAL;
	return 0;
}

static int op_insert(struct kbatch_op *op, int opcode)
{
	int ret;

	lockdep_assert_held(&ops_mutex);
	if (op_by_name(op->name))
		return -EEXIST;
	if (opcode < 0)
		opcode = op_free_slot();
	if (opcode < 0)
		return opcode;
	if (rcu_access_pointer(ops_table[opcode]))
		return -EEXIST;
	init_completion(&op->released);
	ret = percpu_ref_init(&op->ref, op_released, 0, GFP_KERNEL);
	if (ret)
		return ret;
	ret = kbatch_shared_init(op);
	if (ret) {
		percpu_ref_exit(&op->ref);
		return ret;
	}
	op->opcode = opcode;
	/* Publish the initialised op; pairs with rcu_dereference() in kbatch_op_get(). */
	rcu_assign_pointer(ops_table[opcode], op);
	return opcode;
}

/**
 * kbatch_register_builtin_op() - register a built-in op at its fixed opcode
 * @op: the op
 * @opcode: below KBATCH_OP_DYNAMIC
 *
 * Context: process context, may sleep.
 *
 * Return: @opcode, or a negative errno as kbatch_register_op().
 */
int kbatch_register_builtin_op(struct kbatch_op *op, u32 opcode)
{
	int ret = op_check(op);

	might_sleep();
	if (ret)
		return ret;
	if (opcode >= KBATCH_OP_DYNAMIC)
		return -EINVAL;
	mutex_lock(&ops_mutex);
	ret = op_insert(op, opcode);
	mutex_unlock(&ops_mutex);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_register_builtin_op);

/**
 * kbatch_register_op() - offer an op to user space
 * @op: the op, with @name, @run and @admin set; kbatch owns its private
 *	fields until kbatch_unregister_op() returns
 *
 * The op gets a free opcode from KBATCH_OP_DYNAMIC up; user space finds it
 * by name with KBATCH_IOC_LOOKUP.  A freed opcode is given out again only
 * after every other free one, so a stale opcode rarely meets a new op.
 *
 * Context: process context, may sleep.
 *
 * Return: the opcode; -EINVAL for a missing handler, a bad name or
 * @async_only set (only kbatch's built-in ops may defer), -EEXIST
 * if an op of that name is registered, -ENOSPC if every opcode is taken,
 * -ENOMEM.
 */
int kbatch_register_op(struct kbatch_op *op)
{
	int ret = op_check(op);

	might_sleep();
	if (!ret && op->async_only)
		ret = -EINVAL;	/* deferring completions is kbatch's own */
	if (ret)
		return ret;
	mutex_lock(&ops_mutex);
	ret = op_insert(op, -1);
	mutex_unlock(&ops_mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(kbatch_register_op);

/* How often kbatch_unregister_ops() warns while a handler call holds an op. */
#define KBATCH_UNREGISTER_WARN	(10 * HZ)

/* Take @op out of the table; false (and a warning) if it was not in it. */
static bool op_unlink(struct kbatch_op *op)
{
	lockdep_assert_held(&ops_mutex);
	if (WARN_ON_ONCE(op->opcode >= KBATCH_OPS_MAX ||
			 rcu_access_pointer(ops_table[op->opcode]) != op))
		return false;
	RCU_INIT_POINTER(ops_table[op->opcode], NULL);
	return true;
}

/* Wait until no submit holds a reference on @op, warning now and then. */
static void op_wait_released(struct kbatch_op *op)
{
	while (!wait_for_completion_timeout(&op->released,
					    KBATCH_UNREGISTER_WARN))
		pr_warn("unregistering op %s: a handler call still runs\n",
			op->name);
}

/*
 * Unregister up to BITS_PER_LONG ops with one wait for them all: their
 * percpu_ref kills run their grace periods side by side, and one more
 * grace period covers every reader of the table.
 */
static void ops_unregister_some(struct kbatch_op *ops, unsigned int n)
{
	unsigned long mine = 0;
	unsigned int i;

	mutex_lock(&ops_mutex);
	for (i = 0; i < n; i++)
		if (op_unlink(&ops[i]))
			__set_bit(i, &mine);
	mutex_unlock(&ops_mutex);
	/* Submitters that found an op before it left the table hold references. */
	for_each_set_bit(i, &mine, n)
		percpu_ref_kill(&ops[i].ref);
	for_each_set_bit(i, &mine, n)
		op_wait_released(&ops[i]);
	/* Wait out readers that found an op and failed to get a reference. */
	if (mine)
		synchronize_rcu();
	for_each_set_bit(i, &mine, n) {
		kbatch_shared_exit(&ops[i]);
		percpu_ref_exit(&ops[i].ref);
	}
}

/**
 * kbatch_unregister_ops() - withdraw an array of ops and wait until no
 *	entry uses any of them
 * @ops: the first of @n registered ops, contiguous in memory
 * @n: how many; 0 does nothing
 *
 * New submits no longer find their opcodes (their entries complete with
 * -EOPNOTSUPP); runs that found an op but have not reached its handler
 * complete with -ESHUTDOWN; a handler call already running is waited for,
 * as long as it takes: an op's memory and code must outlive it.  Every
 * 10 seconds of waiting it warns, naming the op.  The ops leave together
 * and share their waits (two grace periods for up to BITS_PER_LONG ops,
 * where one kbatch_unregister_op() per op pays two each), so a module
 * with several ops unloads faster.  An op of @ops that is not registered
 * is skipped with a warning.  See the lifetime rule at the top of the
 * OPS section.
 *
 * Context: process context, may sleep; not from the handler of one of
 * @ops.
 */
void kbatch_unregister_ops(struct kbatch_op *ops, unsigned int n)
{
	unsigned int i;

	might_sleep();
	for (i = 0; i < n; i += BITS_PER_LONG)
		ops_unregister_some(ops + i, min_t(unsigned int, n - i,
						   BITS_PER_LONG));
}
EXPORT_SYMBOL_GPL(kbatch_unregister_ops);

/**
 * kbatch_unregister_op() - withdraw an op and wait until no entry uses it
 * @op: a registered op
 *
 * kbatch_unregister_ops() of one op.
 *
 * Context: process context, may sleep; not from @op's own handler.
 */
void kbatch_unregister_op(struct kbatch_op *op)
{
	kbatch_unregister_ops(op, 1);
}
EXPORT_SYMBOL_GPL(kbatch_unregister_op);

/**
 * kbatch_op_lookup() - KBATCH_IOC_LOOKUP: fill in an op's opcode and flags
 * @lk: the request, copied in; @lk->name must be NUL-terminated and the
 *	reserved fields zero; @lk->opcode and @lk->op_flags are outputs
 *
 * Context: process context, may sleep.
 *
 * Return: 0; -EINVAL for a bad request, -ENOENT if no op has that name.
 */
int kbatch_op_lookup(struct kbatch_lookup *lk)
{
	struct kbatch_op *op;
	unsigned int i;
	int ret = 0;

	if (!memchr(lk->name, 0, sizeof(lk->name)))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(lk->reserved); i++)
		if (lk->reserved[i])
			return -EINVAL;
	mutex_lock(&ops_mutex);
	op = op_by_name((const char *)lk->name);
	if (op) {
		lk->opcode = op->opcode;
		lk->op_flags = (op->admin ? KBATCH_LOOKUP_ADMIN : 0) |
			       (op->async_only ? KBATCH_LOOKUP_ASYNC : 0) |
			       (op->shared ? KBATCH_LOOKUP_SHARED : 0);
	} else {
		ret = -ENOENT;
	}
	mutex_unlock(&ops_mutex);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_op_lookup);

/* ---- what an op's handler sees of its run ---- */

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
	if (WARN_ON_ONCE(i >= b->len || n >= ARRAY_SIZE(b->sqes->args)))
		return 0;
	return b->sqes[i].args[n];
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
	if (!WARN_ON_ONCE(i >= b->len))
		b->cqes[i].result = result;
}
EXPORT_SYMBOL_GPL(kbatch_op_set_result);
