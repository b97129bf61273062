// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: one ring, driven directly from one CPU.  Leader election, the
 * bound, order, the wrap of positions and the reuse of slots.
 */
#include <kunit/test.h>
#include <linux/irqflags.h>

#include "kbatch_internal.h"

static struct kbatch_ring *ring_new(struct kunit *test, unsigned int size,
				    unsigned long first)
{
	struct kbatch_ring *ring = kbatch_ring_alloc(NULL, 0, size, first);

	KUNIT_ASSERT_NOT_NULL(test, ring);
	return ring;
}

/*
 * A shared push with interrupts off, as the ring's contract requires:
 * KBATCH_LED or KBATCH_FOLLOWED, and the task's position, or -EAGAIN.
 */
static int push(struct kbatch_ring *ring, unsigned long v, unsigned long *pos)
{
	unsigned long flags, old;
	unsigned int got;

	local_irq_save(flags);
	got = kbatch_ring_push_shared(ring, &v, 1, &old);
	local_irq_restore(flags);
	if (!got)
		return -EAGAIN;
	*pos = old & ~KB_CLOSED;
	return old & KB_CLOSED ? KBATCH_LED : KBATCH_FOLLOWED;
}

/* The same through a local push (preemption off), as background posts do. */
static int push_local(struct kbatch_ring *ring, const unsigned long *v,
		      unsigned int n, unsigned long *pos)
{
	unsigned long old;
	unsigned int got;

	preempt_disable();
	got = kbatch_ring_push_local(ring, v, n, &old);
	preempt_enable();
	*pos = old & ~KB_CLOSED;
	return got;
}

/* The task @i places after @start. */
static unsigned long task_at(struct kbatch_ring *ring, unsigned long start,
			     unsigned long i)
{
	return *kbatch_ring_slot(ring, kbatch_ring_pos(start, i));
}

/* N pushes before the bound form one batch of N, in push order. */
static void ring_batch_in_order(struct kunit *test)
{
	struct kbatch_ring *ring = ring_new(test, 64, 0);
	unsigned long start, pos, end, i;

	KUNIT_EXPECT_EQ(test, push(ring, 100, &start), KBATCH_LED);
	for (i = 1; i < 40; i++)
		KUNIT_EXPECT_EQ(test, push(ring, 100 + i, &pos), KBATCH_FOLLOWED);
	end = kbatch_ring_bound_shared(ring);
	KUNIT_EXPECT_EQ(test, kbatch_ring_len(start, end), 40ul);
	for (i = 0; i < 40; i++)
		KUNIT_EXPECT_EQ(test, task_at(ring, start, i), 100 + i);
	kbatch_ring_release(ring, start, end);
	KUNIT_EXPECT_TRUE(test, kbatch_ring_empty(ring));
	kbatch_ring_free(ring);
}

/* A push after the bound opens a new batch with a new leader. */
static void ring_push_after_bound_leads(struct kunit *test)
{
	struct kbatch_ring *ring = ring_new(test, 8, 0);
	unsigned long s1, s2, pos, e1, e2;

	KUNIT_EXPECT_EQ(test, push(ring, 1, &s1), KBATCH_LED);
	KUNIT_EXPECT_EQ(test, push(ring, 2, &pos), KBATCH_FOLLOWED);
	e1 = kbatch_ring_bound_shared(ring);
	KUNIT_EXPECT_EQ(test, push(ring, 3, &s2), KBATCH_LED);
	KUNIT_EXPECT_EQ(test, s2, e1);
	KUNIT_EXPECT_EQ(test, push(ring, 4, &pos), KBATCH_FOLLOWED);
	e2 = kbatch_ring_bound_shared(ring);
	KUNIT_EXPECT_EQ(test, kbatch_ring_len(s1, e1), 2ul);
	KUNIT_EXPECT_EQ(test, kbatch_ring_len(s2, e2), 2ul);
	/* Out of order: the second batch finishes first, frees nothing. */
	kbatch_ring_release(ring, s2, e2);
	KUNIT_EXPECT_FALSE(test, kbatch_ring_empty(ring));
	kbatch_ring_release(ring, s1, e1);
	KUNIT_EXPECT_TRUE(test, kbatch_ring_empty(ring));
	kbatch_ring_free(ring);
}

/* A full ring refuses, stores nothing, and takes pushes again once freed. */
static void ring_full_refuses(struct kunit *test)
{
	struct kbatch_ring *ring = ring_new(test, 4, 0);
	unsigned long start, pos, end, i;

	KUNIT_EXPECT_EQ(test, push(ring, 0, &start), KBATCH_LED);
	for (i = 1; i < 4; i++)
		KUNIT_EXPECT_EQ(test, push(ring, i, &pos), KBATCH_FOLLOWED);
	KUNIT_EXPECT_TRUE(test, kbatch_ring_full(ring));
	KUNIT_EXPECT_EQ(test, push(ring, 99, &pos), -EAGAIN);
	KUNIT_EXPECT_EQ(test, local_read(&ring->stat_full), 1l);
	end = kbatch_ring_bound_shared(ring);
	KUNIT_EXPECT_EQ(test, kbatch_ring_len(start, end), 4ul);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, task_at(ring, start, i), i);
	kbatch_ring_release(ring, start, end);
	KUNIT_EXPECT_FALSE(test, kbatch_ring_full(ring));
	KUNIT_EXPECT_EQ(test, push(ring, 5, &pos), KBATCH_LED);
	kbatch_ring_free(ring);
}

/*
 * Positions that start just below the wrap: batches of every length up to
 * the ring size straddle it, and every task comes out exactly once.
 */
static void ring_wrap_keeps_every_task(struct kunit *test)
{
	const unsigned int size = 16;
	struct kbatch_ring *ring = ring_new(test, size, 0UL - 2 * 37);
	unsigned long start, pos, end, next = 0, seen = 0, i, n;

	for (n = 1; n <= size; n++) {
		KUNIT_ASSERT_EQ(test, push(ring, next++, &start), KBATCH_LED);
		for (i = 1; i < n; i++)
			KUNIT_ASSERT_EQ(test, push(ring, next++, &pos),
					KBATCH_FOLLOWED);
		end = kbatch_ring_bound_shared(ring);
		KUNIT_ASSERT_EQ(test, kbatch_ring_len(start, end), n);
		for (i = 0; i < n; i++)
			KUNIT_EXPECT_EQ(test, task_at(ring, start, i), seen++);
		kbatch_ring_release(ring, start, end);
	}
	KUNIT_EXPECT_EQ(test, seen, next);
	/* The walk really crossed zero. */
	KUNIT_EXPECT_LT(test, ring->head, 0UL - 2 * 37);
	KUNIT_EXPECT_TRUE(test, kbatch_ring_empty(ring));
	kbatch_ring_free(ring);
}

/*
 * Many small batches in flight, released in reverse: slots are reused
 * only when every older batch is done, whatever their number.
 */
static void ring_many_batches_released_late(struct kunit *test)
{
	const unsigned int size = 64;
	struct kbatch_ring *ring = ring_new(test, size, 0UL - 2 * 5);
	unsigned long *starts = kunit_kcalloc(test, size, sizeof(*starts), GFP_KERNEL);
	unsigned long *ends = kunit_kcalloc(test, size, sizeof(*ends), GFP_KERNEL);
	unsigned long pos;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, starts);
	KUNIT_ASSERT_NOT_NULL(test, ends);
	for (i = 0; i < size; i++) {
		KUNIT_ASSERT_EQ(test, push(ring, i, &starts[i]), KBATCH_LED);
		ends[i] = kbatch_ring_bound_shared(ring);
	}
	KUNIT_EXPECT_EQ(test, push(ring, 0, &pos), -EAGAIN);
	for (i = size - 1; i > 0; i--) {
		kbatch_ring_release(ring, starts[i], ends[i]);
		KUNIT_EXPECT_TRUE(test, kbatch_ring_full(ring));
	}
	kbatch_ring_release(ring, starts[0], ends[0]);
	KUNIT_EXPECT_TRUE(test, kbatch_ring_empty(ring));
	KUNIT_EXPECT_EQ(test, ring->stat_batches, (unsigned long)size);
	kbatch_ring_free(ring);
}

/*
 * Local pushes of several tasks: one reservation for as many as fit, in
 * order, the rest refused and counted; the cached limit is refreshed once
 * a release makes room, and the count of pushes follows the position.
 */
static void ring_local_push_many_partial(struct kunit *test)
{
	struct kbatch_ring *ring = ring_new(test, 8, 0UL - 2 * 3);
	unsigned long v[12], start, pos, end, i;

	for (i = 0; i < ARRAY_SIZE(v); i++)
		v[i] = 500 + i;
	KUNIT_EXPECT_EQ(test, push_local(ring, v, 5, &start), 5);
	KUNIT_EXPECT_EQ(test, push_local(ring, v + 5, 7, &pos), 3);
	KUNIT_EXPECT_EQ(test, pos, kbatch_ring_pos(start, 5));
	KUNIT_EXPECT_EQ(test, local_read(&ring->stat_full), 4l);
	KUNIT_EXPECT_EQ(test, push_local(ring, v, 1, &pos), 0);
	KUNIT_EXPECT_EQ(test, kbatch_ring_pushes(ring), 8ul);
	preempt_disable();
	end = kbatch_ring_bound_local(ring);
	preempt_enable();
	KUNIT_EXPECT_EQ(test, kbatch_ring_len(start, end), 8ul);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ(test, task_at(ring, start, i), 500 + i);
	kbatch_ring_release(ring, start, end);
	KUNIT_EXPECT_EQ(test, push_local(ring, v + 8, 4, &pos), 4);
	KUNIT_EXPECT_EQ(test, pos, end);
	KUNIT_EXPECT_EQ(test, kbatch_ring_pushes(ring), 12ul);
	kbatch_ring_free(ring);
}

/*
 * A remote bound (kbatch_ring_bound_remote()) closes the batch like a
 * local one, and leaves the ring's pushes local again.
 */
static void ring_remote_bound(struct kunit *test)
{
	struct kbatch_ring *ring = ring_new(test, 8, 0);
	unsigned long v[3] = { 7, 8, 9 }, start, pos, end;

	atomic_set(&ring->gate, 0);
	KUNIT_EXPECT_EQ(test, push_local(ring, v, 2, &start), 2);
	end = kbatch_ring_bound_remote(ring);
	KUNIT_EXPECT_EQ(test, atomic_read(&ring->gate), 0);
	KUNIT_EXPECT_EQ(test, kbatch_ring_len(start, end), 2ul);
	KUNIT_EXPECT_EQ(test, push(ring, v[2], &pos), KBATCH_LED);
	KUNIT_EXPECT_EQ(test, pos, end);
	kbatch_ring_release(ring, start, end);
	kbatch_ring_free(ring);
}

static struct kunit_case ring_cases[] = {
	KUNIT_CASE(ring_local_push_many_partial),
	KUNIT_CASE(ring_remote_bound),
	KUNIT_CASE(ring_batch_in_order),
	KUNIT_CASE(ring_push_after_bound_leads),
	KUNIT_CASE(ring_full_refuses),
	KUNIT_CASE(ring_wrap_keeps_every_task),
	KUNIT_CASE(ring_many_batches_released_late),
	{}
};

static struct kunit_suite ring_suite = {
	.name = "kbatch_ring",
	.test_cases = ring_cases,
};

kunit_test_suite(ring_suite);
