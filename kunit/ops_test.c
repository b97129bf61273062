// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the op registry and the submit path.  Ops register and look up by
 * name, a mixed batch reaches each handler as runs of its own entries, in
 * order, and unregistering an op completes its queued entries with
 * -ESHUTDOWN and waits for them.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/string.h>

#include "kbatch_internal.h"
#include "kbatch_test.h"

/* A test op that records the sizes of the runs it is given. */
struct rec_op {
	struct kbatch_op op;
	s64 bias;
	unsigned int calls;
	unsigned int lens[8];
};

static void rec_run(struct kbatch_op_batch *b)
{
	struct rec_op *r = container_of(kbatch_op_batch_op(b), struct rec_op, op);
	unsigned int i;

	if (r->calls < ARRAY_SIZE(r->lens))
		r->lens[r->calls] = kbatch_op_batch_len(b);
	r->calls++;
	for (i = 0; i < kbatch_op_batch_len(b); i++)
		kbatch_op_set_result(b, i, r->bias + kbatch_op_arg(b, i, 1));
}

static void rec_init(struct rec_op *r, const char *name, s64 bias)
{
	memset(r, 0, sizeof(*r));
	r->op.name = name;
	r->op.run = rec_run;
	r->bias = bias;
}

/*
 * A prepared submission with one entry per letter of @pattern: 'a' an
 * entry of opcode @a, 'b' of @b, anything else an unknown opcode; entry i
 * has args[1] = i and user_data = 100 + i.
 */
static struct kbatch_sub *make_sub(struct kunit *test, const char *pattern,
				   u32 a, u32 b)
{
	unsigned int i, n = strlen(pattern);
	struct kbatch_sub *sub = kbatch_sub_alloc(n);

	KUNIT_ASSERT_NOT_NULL(test, sub);
	for (i = 0; i < n; i++) {
		sub->sqes[i].opcode = pattern[i] == 'a' ? a :
				      pattern[i] == 'b' ? b : KBATCH_OPS_MAX + 1;
		sub->sqes[i].args[1] = i;
		sub->sqes[i].user_data = 100 + i;
	}
	KUNIT_ASSERT_EQ(test, kbatch_sub_prepare(sub, true), 0);
	return sub;
}

static void register_and_lookup(struct kunit *test)
{
	struct rec_op a, b;
	struct kbatch_lookup lk = { };
	int op_a, op_b;

	rec_init(&a, "test.a", 0);
	rec_init(&b, "test.a", 0);
	op_a = kbatch_register_op(&a.op);
	KUNIT_ASSERT_GE(test, op_a, KBATCH_OP_DYNAMIC);
	KUNIT_EXPECT_EQ(test, kbatch_register_op(&b.op), -EEXIST);
	b.op.name = "";
	KUNIT_EXPECT_EQ(test, kbatch_register_op(&b.op), -EINVAL);
	b.op.name = "a.name.that.is.far.too.long.for.kbatch";
	KUNIT_EXPECT_EQ(test, kbatch_register_op(&b.op), -EINVAL);
	b.op.name = "test.b";
	b.op.admin = true;
	op_b = kbatch_register_op(&b.op);
	KUNIT_ASSERT_GE(test, op_b, KBATCH_OP_DYNAMIC);
	KUNIT_EXPECT_NE(test, op_a, op_b);

	strscpy(lk.name, "test.b", sizeof(lk.name));
	KUNIT_EXPECT_EQ(test, kbatch_op_lookup(&lk), 0);
	KUNIT_EXPECT_EQ(test, lk.opcode, (u32)op_b);
	KUNIT_EXPECT_EQ(test, lk.op_flags, KBATCH_LOOKUP_ADMIN);

	kbatch_unregister_op(&a.op);
	KUNIT_EXPECT_NULL(test, kbatch_op_get(op_a));
	strscpy(lk.name, "test.a", sizeof(lk.name));
	KUNIT_EXPECT_EQ(test, kbatch_op_lookup(&lk), -ENOENT);
	kbatch_unregister_op(&b.op);
}

/* Runs of one op go to its handler whole and in order; unknown ops fail alone. */
static void mixed_batch_runs(struct kunit *test)
{
	static const char pattern[] = "aaaxxbbaa";
	struct rec_op a, b;
	struct kbatch_sub *sub;
	int op_a, op_b;
	unsigned int i;

	rec_init(&a, "test.runs.a", 1000);
	rec_init(&b, "test.runs.b", 2000);
	op_a = kbatch_register_op(&a.op);
	op_b = kbatch_register_op(&b.op);
	KUNIT_ASSERT_GE(test, op_a, 0);
	KUNIT_ASSERT_GE(test, op_b, 0);

	sub = make_sub(test, pattern, op_a, op_b);
	KUNIT_EXPECT_EQ(test, kbatch_sub_run(sub), strlen(pattern));
	for (i = 0; i < strlen(pattern); i++) {
		s64 want = pattern[i] == 'a' ? 1000 + (s64)i :
			   pattern[i] == 'b' ? 2000 + (s64)i : -EOPNOTSUPP;

		KUNIT_EXPECT_EQ(test, sub->cqes[i].user_data, 100ull + i);
		KUNIT_EXPECT_EQ(test, sub->cqes[i].result, want);
	}
	kbatch_sub_free(sub);
	KUNIT_EXPECT_EQ(test, a.calls, 2u);
	KUNIT_EXPECT_EQ(test, a.lens[0], 3u);
	KUNIT_EXPECT_EQ(test, a.lens[1], 2u);
	KUNIT_EXPECT_EQ(test, b.calls, 1u);
	KUNIT_EXPECT_EQ(test, b.lens[0], 2u);
	kbatch_unregister_op(&a.op);
	kbatch_unregister_op(&b.op);
}

static int unregister_thread(void *data)
{
	kbatch_unregister_op(data);
	return 0;
}

/* Entries accepted before unregister complete with -ESHUTDOWN; it waits. */
static void unregister_with_queued_entries(struct kunit *test)
{
	struct kbatch_sub *sub;
	struct kbt_thread *t;
	struct rec_op a;
	unsigned int i;
	int op;

	rec_init(&a, "test.unreg", 0);
	op = kbatch_register_op(&a.op);
	KUNIT_ASSERT_GE(test, op, 0);
	sub = make_sub(test, "aaaa", op, 0);

	t = kbt_spawn(unregister_thread, &a.op, raw_smp_processor_id());
	KUNIT_ASSERT_NOT_NULL(test, t);
	/* The op leaves the table at once, but unregister waits for us. */
	while (kbatch_op_lookup(&(struct kbatch_lookup){ .name = "test.unreg" })
	       != -ENOENT)
		usleep_range(1000, 2000);
	msleep(50);
	KUNIT_EXPECT_FALSE(test, completion_done(&t->done));
	KUNIT_EXPECT_EQ(test, kbatch_sub_run(sub), 4u);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, sub->cqes[i].result, (s64)-ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, a.calls, 0u);
	kbatch_sub_free(sub);
	KUNIT_EXPECT_EQ(test, kbt_join(t), 0);
}

/* A prepared submission freed without running gives its references back. */
static void free_unrun_submission(struct kunit *test)
{
	struct kbatch_sub *sub;
	struct rec_op a;
	int op;

	rec_init(&a, "test.unrun", 0);
	op = kbatch_register_op(&a.op);
	KUNIT_ASSERT_GE(test, op, 0);
	sub = make_sub(test, "aa", op, 0);
	kbatch_sub_free(sub);
	/* Would wait forever on a leaked reference. */
	kbatch_unregister_op(&a.op);
	KUNIT_EXPECT_EQ(test, a.calls, 0u);
}

static struct kunit_case ops_cases[] = {
	KUNIT_CASE(register_and_lookup),
	KUNIT_CASE(mixed_batch_runs),
	KUNIT_CASE(unregister_with_queued_entries),
	KUNIT_CASE(free_unrun_submission),
	{}
};

static struct kunit_suite ops_suite = {
	.name = "kbatch_ops",
	.test_cases = ops_cases,
};

kunit_test_suite(ops_suite);
