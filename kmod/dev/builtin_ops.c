// SPDX-License-Identifier: GPL-2.0
/*
 * The built-in ops, registered at their fixed opcodes like any other op:
 * NOP, ECHO, SUM and TIMER (see include/uapi/linux/kbatch.h; TIMER's
 * handler is in timer_op.c).  Being kbatch's own, they read and write
 * their run's arrays directly rather than through the exported
 * accessors.
 */
#include "dev.h"

static void nop_run(struct kbatch_op_batch *b)
{
}

static void echo_run(struct kbatch_op_batch *b)
{
	unsigned int i;

	for (i = 0; i < b->len; i++)
		b->cqes[i].result = b->sqes[i].args[0];
}

/* A reducer: every entry of the run learns the sum of the run. */
static void sum_run(struct kbatch_op_batch *b)
{
	unsigned int i;
	u64 sum = 0;

	for (i = 0; i < b->len; i++)
		sum += b->sqes[i].args[0];
	for (i = 0; i < b->len; i++)
		b->cqes[i].result = (s64)sum;
}

/* Indexed by opcode: NOP, ECHO, SUM and TIMER are opcodes 0 to 3. */
static struct kbatch_op builtins[] = {
	[KBATCH_OP_NOP] = { .name = "nop", .run = nop_run },
	[KBATCH_OP_ECHO] = { .name = "echo", .run = echo_run },
	[KBATCH_OP_SUM] = { .name = "sum", .run = sum_run },
	[KBATCH_OP_TIMER] = { .name = "timer", .run = kbatch_timer_run,
			      .async_only = true },
};

/**
 * kbatch_builtin_ops_exit() - unregister the built-in ops
 *
 * Context: process context, may sleep.
 */
void kbatch_builtin_ops_exit(void)
{
	kbatch_unregister_ops(builtins, ARRAY_SIZE(builtins));
}

/**
 * kbatch_builtin_ops_init() - register the built-in ops
 *
 * Context: process context, may sleep.
 *
 * Return: 0 or a negative errno, with nothing registered.
 */
int kbatch_builtin_ops_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(builtins); i++) {
		ret = kbatch_register_builtin_op(&builtins[i], i);
		if (ret < 0) {
			kbatch_unregister_ops(builtins, i);
			return ret;
		}
	}
	return 0;
}
