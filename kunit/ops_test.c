// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the op registry and the submit path of /dev/kbatch.  Ops
 * register and look up by name; a submit's runs reach each handler whole,
 * in order, one call per run; concurrent submitters on one CPU never
 * share a handler call unless the op is shared, and then they do;
 * unregistering an op waits for a handler call that runs, and an array of
 * ops leaves together; an entry whose opcode names an admin op only since
 * its check does not run for a caller without CAP_SYS_ADMIN.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/string.h>

#include "dev/dev.h"
#include "kbatch_test.h"

/* A test op that records the sizes of the runs it is given. */
struct rec_op {
	struct kbatch_op op;
	s64 bias;
	atomic_t calls;
	unsigned int lens[8];
	atomic_t mixed;			/* entries unlike their call's first */
	struct completion *gate;	/* if set, the first call waits for it */
	struct completion entered;
};

static void rec_run(struct kbatch_op_batch *b)
{
	struct rec_op *r = container_of(kbatch_op_batch_op(b), struct rec_op, op);
	unsigned int i, len = kbatch_op_batch_len(b);
	int call = atomic_inc_return(&r->calls) - 1;

	if (call < ARRAY_SIZE(r->lens))
		r->lens[call] = len;
	if (!call && r->gate) {
		complete(&r->entered);
		wait_for_completion(r->gate);
	}
	for (i = 0; i < len; i++) {
		if (kbatch_op_arg(b, i, 2) != kbatch_op_arg(b, 0, 2))
			atomic_inc(&r->mixed);
		kbatch_op_set_result(b, i, r->bias + kbatch_op_arg(b, i, 1));
	}
}

/* A new test op (ops hold a mutex, a completion and more: not on the stack). */
static struct rec_op *rec_new(struct kunit *test, const char *name, s64 bias)
{
	struct rec_op *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->op.name = name;
	r->op.run = rec_run;
	r->bias = bias;
	init_completion(&r->entered);
	return r;
}

/*
 * Entries for each letter of @pattern: 'a' an entry of opcode @a, 'b' of
 * @b, anything else an unknown opcode; entry i has args[1] = i, args[2] =
 * @tag and user_data = 100 + i.
 */
static void fill(struct kbatch_sqe *sqes, const char *pattern, u32 a, u32 b,
		 u64 tag)
{
	unsigned int i;

	for (i = 0; pattern[i]; i++) {
		memset(&sqes[i], 0, sizeof(sqes[i]));
		sqes[i].opcode = pattern[i] == 'a' ? a :
				 pattern[i] == 'b' ? b : KBATCH_OPS_MAX + 1;
		sqes[i].args[1] = i;
		sqes[i].args[2] = tag;
		sqes[i].user_data = 100 + i;
	}
}

static void register_and_lookup(struct kunit *test)
{
	struct rec_op *a, *b;
	struct kbatch_lookup lk = { };
	int op_a, op_b;

	a = rec_new(test, "test.a", 0);
	b = rec_new(test, "test.a", 0);
	op_a = kbatch_register_op(&a->op);
	KUNIT_ASSERT_GE(test, op_a, KBATCH_OP_DYNAMIC);
	KUNIT_EXPECT_EQ(test, kbatch_register_op(&b->op), -EEXIST);
	b->op.name = "";
	KUNIT_EXPECT_EQ(test, kbatch_register_op(&b->op), -EINVAL);
	b->op.name = "a.name.that.is.far.too.long.for.kbatch";
	KUNIT_EXPECT_EQ(test, kbatch_register_op(&b->op), -EINVAL);
	b->op.name = "test.b";
	b->op.async_only = true;
	KUNIT_EXPECT_EQ(test, kbatch_register_op(&b->op), -EINVAL);
	b->op.async_only = false;
	b->op.admin = true;
	b->op.shared = true;
	op_b = kbatch_register_op(&b->op);
	KUNIT_ASSERT_GE(test, op_b, KBATCH_OP_DYNAMIC);
	KUNIT_EXPECT_NE(test, op_a, op_b);

	strscpy(lk.name, "test.b", sizeof(lk.name));
	KUNIT_EXPECT_EQ(test, kbatch_op_lookup(&lk), 0);
	KUNIT_EXPECT_EQ(test, lk.opcode, (u32)op_b);
	KUNIT_EXPECT_EQ(test, lk.op_flags,
			KBATCH_LOOKUP_ADMIN | KBATCH_LOOKUP_SHARED);
	strscpy(lk.name, "timer", sizeof(lk.name));
	KUNIT_EXPECT_EQ(test, kbatch_op_lookup(&lk), 0);
	KUNIT_EXPECT_EQ(test, lk.op_flags, KBATCH_LOOKUP_ASYNC);

	kbatch_unregister_op(&a->op);
	KUNIT_EXPECT_NULL(test, kbatch_op_get(op_a));
	strscpy(lk.name, "test.a", sizeof(lk.name));
	KUNIT_EXPECT_EQ(test, kbatch_op_lookup(&lk), -ENOENT);
	kbatch_unregister_op(&b->op);
}

/* Runs of one op go to its handler whole and in order; unknown ops fail alone. */
static void mixed_batch_runs(struct kunit *test)
{
	static const char pattern[] = "aaaxxbbaa";
	unsigned int i, n = strlen(pattern);
	struct kbatch_sqe *sqes = kunit_kcalloc(test, n, sizeof(*sqes), GFP_KERNEL);
	struct kbatch_cqe *cqes = kunit_kcalloc(test, n, sizeof(*cqes), GFP_KERNEL);
	struct rec_op *a, *b;
	int op_a, op_b;

	a = rec_new(test, "test.runs.a", 1000);
	b = rec_new(test, "test.runs.b", 2000);
	KUNIT_ASSERT_NOT_NULL(test, sqes);
	KUNIT_ASSERT_NOT_NULL(test, cqes);
	op_a = kbatch_register_op(&a->op);
	op_b = kbatch_register_op(&b->op);
	KUNIT_ASSERT_GE(test, op_a, 0);
	KUNIT_ASSERT_GE(test, op_b, 0);

	fill(sqes, pattern, op_a, op_b, 0);
	KUNIT_EXPECT_EQ(test, kbatch_entries_check(sqes, n, false), 0);
	KUNIT_EXPECT_EQ(test, kbatch_entries_run(NULL, sqes, cqes, n), n);
	for (i = 0; i < n; i++) {
		s64 want = pattern[i] == 'a' ? 1000 + (s64)i :
			   pattern[i] == 'b' ? 2000 + (s64)i : -EOPNOTSUPP;

		KUNIT_EXPECT_EQ(test, cqes[i].user_data, 100ull + i);
		KUNIT_EXPECT_EQ(test, cqes[i].result, want);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&a->calls), 2);
	KUNIT_EXPECT_EQ(test, a->lens[0], 3u);
	KUNIT_EXPECT_EQ(test, a->lens[1], 2u);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->calls), 1);
	KUNIT_EXPECT_EQ(test, b->lens[0], 2u);
	kbatch_unregister_op(&a->op);
	kbatch_unregister_op(&b->op);
}

/* Bad entries and async-only ops in a synchronous submit: nothing runs. */
static void check_refuses(struct kunit *test)
{
	struct kbatch_sqe sqes[3];
	struct rec_op *a;
	int op;

	a = rec_new(test, "test.check", 0);
	op = kbatch_register_op(&a->op);
	KUNIT_ASSERT_GE(test, op, 0);
	fill(sqes, "aaa", op, 0, 0);
	sqes[2].reserved[1] = 1;
	KUNIT_EXPECT_EQ(test, kbatch_entries_check(sqes, 3, false), -EINVAL);
	fill(sqes, "aaa", op, 0, 0);
	sqes[1].flags = 1;
	KUNIT_EXPECT_EQ(test, kbatch_entries_check(sqes, 3, true), -EINVAL);
	fill(sqes, "aba", op, KBATCH_OP_TIMER, 0);
	KUNIT_EXPECT_EQ(test, kbatch_entries_check(sqes, 3, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, kbatch_entries_check(sqes, 3, true), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->calls), 0);
	kbatch_unregister_op(&a->op);
}

/* A free built-in opcode, for an op registered where the test wants it. */
#define TEST_FREE_OPCODE	10

/*
 * Checked while its opcode named no op, run once it names an admin op:
 * a caller without CAP_SYS_ADMIN gets -EPERM, and the handler never runs.
 */
static void admin_op_rechecked_at_run(struct kunit *test)
{
	struct rec_op *r = rec_new(test, "test.admin", 0);
	const struct cred *old;
	struct kbatch_sqe sqe;
	struct kbatch_cqe cqe;
	struct cred *c;

	c = prepare_creds();
	KUNIT_ASSERT_NOT_NULL(test, c);
	cap_lower(c->cap_effective, CAP_SYS_ADMIN);
	old = override_creds(c);
	fill(&sqe, "a", TEST_FREE_OPCODE, 0, 0);
	KUNIT_EXPECT_EQ(test, kbatch_entries_check(&sqe, 1, false), 0);
	r->op.admin = true;
	KUNIT_EXPECT_EQ(test, kbatch_register_builtin_op(&r->op, TEST_FREE_OPCODE),
			TEST_FREE_OPCODE);
	KUNIT_EXPECT_EQ(test, kbatch_entries_run(NULL, &sqe, &cqe, 1), 1u);
	KUNIT_EXPECT_EQ(test, cqe.result, (s64)-EPERM);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->calls), 0);
	revert_creds(old);
	put_cred(c);
	/* With the capability it runs. */
	KUNIT_EXPECT_EQ(test, kbatch_entries_run(NULL, &sqe, &cqe, 1), 1u);
	KUNIT_EXPECT_EQ(test, cqe.result, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->calls), 1);
	kbatch_unregister_op(&r->op);
}

struct submitter {
	struct rec_op *r;
	unsigned int n;
	u64 tag;
	unsigned int rounds;
	struct kbatch_sqe sqes[8];
	struct kbatch_cqe cqes[8];
};

static struct submitter *sub_new(struct kunit *test, struct rec_op *r,
				 unsigned int n, u64 tag, unsigned int rounds)
{
	struct submitter *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	s->r = r;
	s->n = n;
	s->tag = tag;
	s->rounds = rounds;
	return s;
}

static int submit_thread(void *data)
{
	struct submitter *s = data;
	unsigned int i, k, bad = 0;
	char pattern[9];

	memset(pattern, 'a', s->n);
	pattern[s->n] = 0;
	for (k = 0; k < s->rounds; k++) {
		fill(s->sqes, pattern, s->r->op.opcode, 0, s->tag);
		if (kbatch_entries_run(NULL, s->sqes, s->cqes, s->n) != s->n)
			bad++;
		for (i = 0; i < s->n; i++)
			bad += s->cqes[i].result != s->r->bias + i;
	}
	return bad;
}

/*
 * Two submitters on one CPU, each of its own "file" (tag), hammering one
 * op: no handler call ever holds entries of both.
 */
static void submitters_never_share(struct kunit *test)
{
	unsigned int cpu = raw_smp_processor_id();
	struct rec_op *a = rec_new(test, "test.private", 7);
	struct kbt_thread *t1, *t2;

	KUNIT_ASSERT_GE(test, kbatch_register_op(&a->op), 0);
	t1 = kbt_start(submit_thread, sub_new(test, a, 3, 1, 2000), cpu);
	t2 = kbt_start(submit_thread, sub_new(test, a, 5, 2, 2000), cpu);
	KUNIT_EXPECT_EQ(test, kbt_join(t1), 0);
	KUNIT_EXPECT_EQ(test, kbt_join(t2), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->calls), 4000);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->mixed), 0);
	kbatch_unregister_op(&a->op);
}

/*
 * A shared op: while one submitter's call holds the op (CPU 0), two
 * submitters push on CPU 1; the leader of their batch waits for the op,
 * then hands both runs to the handler in one call.
 */
static void shared_op_batches_across_files(struct kunit *test)
{
	unsigned int cpu0 = cpumask_first(cpu_online_mask);
	unsigned int cpu1 = cpumask_next(cpu0, cpu_online_mask);
	struct kbt_thread *t0, *t1, *t2;
	DECLARE_COMPLETION_ONSTACK(gate);
	struct rec_op *a;

	if (cpu1 >= nr_cpu_ids)
		kunit_skip(test, "needs two CPUs");
	a = rec_new(test, "test.shared", 0);
	a->op.shared = true;
	a->gate = &gate;
	KUNIT_ASSERT_GE(test, kbatch_register_op(&a->op), 0);
	t0 = kbt_start(submit_thread, sub_new(test, a, 1, 0, 1), cpu0);
	wait_for_completion(&a->entered);
	t1 = kbt_start(submit_thread, sub_new(test, a, 2, 1, 1), cpu1);
	msleep(100);
	t2 = kbt_start(submit_thread, sub_new(test, a, 3, 2, 1), cpu1);
	msleep(300);
	complete(&gate);
	KUNIT_EXPECT_EQ(test, kbt_join(t0), 0);
	KUNIT_EXPECT_EQ(test, kbt_join(t1), 0);
	KUNIT_EXPECT_EQ(test, kbt_join(t2), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->calls), 2);
	KUNIT_EXPECT_EQ(test, a->lens[0], 1u);
	KUNIT_EXPECT_EQ(test, a->lens[1], 5u);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->mixed), 3);
	kbatch_unregister_op(&a->op);
}

/* Whether an op of that name is registered. */
static bool op_known(const char *name)
{
	struct kbatch_lookup lk = {};

	strscpy((char *)lk.name, name, sizeof(lk.name));
	return kbatch_op_lookup(&lk) != -ENOENT;
}

static int unregister_thread(void *data)
{
	kbatch_unregister_op(data);
	return 0;
}

/* Unregister waits for a handler call that runs; later runs find no op. */
static void unregister_waits_for_handler(struct kunit *test)
{
	DECLARE_COMPLETION_ONSTACK(gate);
	struct kbt_thread *ts, *tu;
	struct kbatch_sqe sqes[2];
	struct kbatch_cqe cqes[2];
	struct rec_op *a;
	int op;

	a = rec_new(test, "test.unreg", 0);
	a->gate = &gate;
	op = kbatch_register_op(&a->op);
	KUNIT_ASSERT_GE(test, op, 0);
	ts = kbt_start(submit_thread, sub_new(test, a, 2, 0, 1), KBT_ANY_CPU);
	wait_for_completion(&a->entered);
	tu = kbt_start(unregister_thread, &a->op, KBT_ANY_CPU);
	/* The op leaves the table at once, but unregister waits for us. */
	while (op_known("test.unreg"))
		usleep_range(1000, 2000);
	msleep(50);
	KUNIT_EXPECT_FALSE(test, completion_done(&tu->done));
	fill(sqes, "aa", op, 0, 0);
	KUNIT_EXPECT_EQ(test, kbatch_entries_run(NULL, sqes, cqes, 2), 2u);
	KUNIT_EXPECT_EQ(test, cqes[0].result, (s64)-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, cqes[1].result, (s64)-EOPNOTSUPP);
	complete(&gate);
	KUNIT_EXPECT_EQ(test, kbt_join(ts), 0);
	KUNIT_EXPECT_EQ(test, kbt_join(tu), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->calls), 1);
}

/* Three ops in one array, for kbatch_unregister_ops(); op 2 is shared. */
struct op_trio {
	struct kbatch_op ops[3];
	struct completion entered;	/* op 1's first call is in its handler */
	struct completion gate;		/* ... and waits for this */
	atomic_t calls;
};

static const char *const trio_names[] = { "test.trio0", "test.trio1",
					  "test.trio2" };

/* Each entry's result is its op's index in the trio. */
static void trio_run(struct kbatch_op_batch *b)
{
	struct kbatch_op *op = kbatch_op_batch_op(b);
	unsigned int idx = op->name[strlen(op->name) - 1] - '0', i;
	struct op_trio *t = container_of(op - idx, struct op_trio, ops[0]);

	if (atomic_inc_return(&t->calls) == 1 && idx == 1) {
		complete(&t->entered);
		wait_for_completion(&t->gate);
	}
	for (i = 0; i < kbatch_op_batch_len(b); i++)
		kbatch_op_set_result(b, i, idx);
}

static void trio_register(struct kunit *test, struct op_trio *t)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(t->ops); i++)
		KUNIT_ASSERT_GE(test, kbatch_register_op(&t->ops[i]), 0);
}

/* One entry of @op's opcode; its result. */
static s64 trio_entry(struct kbatch_op *op)
{
	struct kbatch_sqe sqe;
	struct kbatch_cqe cqe;

	fill(&sqe, "a", op->opcode, 0, 0);
	if (kbatch_entries_run(NULL, &sqe, &cqe, 1) != 1)
		return -EIO;
	return cqe.result;
}

static int trio_entry_thread(void *data)
{
	return trio_entry(data) == 1 ? 0 : -EIO;
}

static int unregister_ops_thread(void *data)
{
	struct op_trio *t = data;

	kbatch_unregister_ops(t->ops, ARRAY_SIZE(t->ops));
	return 0;
}

/*
 * kbatch_unregister_ops(): every op of the array leaves the table at
 * once, while a handler call of one of them still runs, and the call
 * waits for it; afterwards the ops are unregistered for good (they
 * register again).
 */
static void unregister_ops_leave_together(struct kunit *test)
{
	struct op_trio *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	struct kbt_thread *ts, *tu;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, t);
	for (i = 0; i < ARRAY_SIZE(t->ops); i++) {
		t->ops[i].name = trio_names[i];
		t->ops[i].run = trio_run;
	}
	t->ops[2].shared = true;
	init_completion(&t->entered);
	init_completion(&t->gate);
	trio_register(test, t);
	ts = kbt_start(trio_entry_thread, &t->ops[1], KBT_ANY_CPU);
	wait_for_completion(&t->entered);
	tu = kbt_start(unregister_ops_thread, t, KBT_ANY_CPU);
	for (i = 0; i < ARRAY_SIZE(t->ops); i++)
		while (op_known(trio_names[i]))
			usleep_range(1000, 2000);
	msleep(50);
	KUNIT_EXPECT_FALSE(test, completion_done(&tu->done));
	KUNIT_EXPECT_EQ(test, trio_entry(&t->ops[0]), (s64)-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, trio_entry(&t->ops[2]), (s64)-EOPNOTSUPP);
	complete(&t->gate);
	KUNIT_EXPECT_EQ(test, kbt_join(ts), 0);
	KUNIT_EXPECT_EQ(test, kbt_join(tu), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->calls), 1);

	trio_register(test, t);
	for (i = 0; i < ARRAY_SIZE(t->ops); i++)
		KUNIT_EXPECT_EQ(test, trio_entry(&t->ops[i]), (s64)i);
	kbatch_unregister_ops(t->ops, ARRAY_SIZE(t->ops));
	for (i = 0; i < ARRAY_SIZE(t->ops); i++)
		KUNIT_EXPECT_FALSE(test, op_known(trio_names[i]));
}

static struct kunit_case ops_cases[] = {
	KUNIT_CASE(register_and_lookup),
	KUNIT_CASE(mixed_batch_runs),
	KUNIT_CASE(check_refuses),
	KUNIT_CASE(admin_op_rechecked_at_run),
	KUNIT_CASE(submitters_never_share),
	KUNIT_CASE(shared_op_batches_across_files),
	KUNIT_CASE(unregister_waits_for_handler),
	KUNIT_CASE(unregister_ops_leave_together),
	{}
};

static struct kunit_suite ops_suite = {
	.name = "kbatch_ops",
	.test_cases = ops_cases,
};

kunit_test_suite(ops_suite);
