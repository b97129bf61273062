// SPDX-License-Identifier: GPL-2.0
/*
 * The built-in ops, registered at their fixed opcodes like any other op:
 * NOP, ECHO and SUM (see include/uapi/linux/kbatch.h).  Being kbatch's
 * own, they read and write their run's arrays directly rather than
 * through the exported accessors.
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

static struct kbatch_op builtin_nop = { .name = "nop", .run = nop_run };
static struct kbatch_op builtin_echo = { .name = "echo", .run = echo_run };
static struct kbatch_op builtin_sum = { .name = "sum", .run = sum_run };

static struct {
	struct kbatch_op *op;
	u32 opcode;
} builtins[] = {
	{ &builtin_nop, KBATCH_OP_NOP },
	{ &builtin_echo, KBATCH_OP_ECHO },
	{ &builtin_sum, KBATCH_OP_SUM },
};

/* Unregister the first @n built-ins, last first. */
static void builtins_unregister(unsigned int n)
{
	while (n--)
		kbatch_unregister_op(builtins[n].op);
}

/**
 * kbatch_builtin_ops_exit() - unregister the built-in ops
 *
 * Context: process context, may sleep.
 */
void kbatch_builtin_ops_exit(void)
{
	builtins_unregister(ARRAY_SIZE(builtins));
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
		ret = kbatch_register_builtin_op(builtins[i].op,
						 builtins[i].opcode);
		if (ret < 0) {
			builtins_unregister(i);
			return ret;
		}
	}
	return 0;
}
