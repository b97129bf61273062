// SPDX-License-Identifier: GPL-2.0
/*
 * One CPU's ring of a batch queue: allocation, the full and empty tests,
 * the bound from another CPU and the release of a finished batch; and the
 * ring's spill lane.  How both work is explained in ring.h, beside the
 * ring's hot paths (push, bound).
 */
#include <linux/atomic.h>
#include <linux/minmax.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <kunit/visibility.h>

#include "kbatch_internal.h"

/* An ends[] entry holds the end position of a finished batch, tagged. */
#define KB_END_VALID	1UL

/**
 * kbatch_ring_bound_remote() - close a background ring's batch from any CPU
 * @ring: the ring
 *
 * For the background worker when it does not run on @ring's CPU (that CPU
 * went offline, and the workqueue moved the work): makes the ring's pushes
 * shared for the time of the bound, as the top of ring.h explains.
 *
 * Context: process context, may sleep (an RCU grace period).
 *
 * Return: the end position of the batch.
 */
unsigned long kbatch_ring_bound_remote(struct kbatch_ring *ring)
{
	unsigned long end;

	atomic_add(KB_GATE_SHARED, &ring->gate);
	/*
	 * Every push section (preemption disabled: an RCU read-side section)
	 * that read @gate as 0 has ended, its slots stored; every section
	 * that begins after the grace period began sees @gate raised.
	 */
	synchronize_rcu();
	end = kbatch_ring_bound_shared(ring);
	/*
	 * Release: our bound comes before a push that reads @gate as 0 and
	 * uses a CPU-local RMW; pairs with the acquire in post_enter()
	 * (queue.c).
	 */
	atomic_sub_return_release(KB_GATE_SHARED, &ring->gate);
	return end;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_ring_bound_remote);

/**
 * kbatch_ring_full() - whether a push would find no free slot
 * @ring: the ring
 *
 * Context: any.  The answer may be stale by the time it is used; callers
 * that sleep on it re-check after prepare_to_wait().
 *
 * Return: true if every slot is held by a task not yet released.
 */
bool kbatch_ring_full(struct kbatch_ring *ring)
{
	/* Acquire: pairs with the release in kbatch_ring_release(). */
	unsigned long head = smp_load_acquire(&ring->head);

	return kbatch_ring_len(head, kbatch_ring_tail(ring)) >= ring->size;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_ring_full);

/**
 * kbatch_ring_empty() - whether every pushed task has been released
 * @ring: the ring
 *
 * Context: any; meaningful only when nobody can push (teardown, tests).
 *
 * Return: true if no slot is busy.
 */
bool kbatch_ring_empty(struct kbatch_ring *ring)
{
	/* Acquire: pairs with the release in kbatch_ring_release(). */
	return smp_load_acquire(&ring->head) == kbatch_ring_tail(ring);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_ring_empty);

/**
 * kbatch_ring_release() - free the slots of a finished batch
 * @ring: the ring
 * @start: the batch's first position
 * @end: the batch's end, from kbatch_ring_bound()
 *
 * Every task of the batch must have been completed and no slot of it may
 * be read after this call.  Slots become free once every older batch of
 * the ring has been released too; sleepers waiting for room are woken.
 *
 * Context: any, hardirq included (also on PREEMPT_RT: @ring->lock is a
 * raw spinlock, taken with interrupts disabled).  Wakes the task-mode
 * callers waiting for room, through a wait queue whose lock sleeps on
 * PREEMPT_RT: only task queues have such waiters, and their batches are
 * released in process context.
 */
void kbatch_ring_release(struct kbatch_ring *ring, unsigned long start,
			 unsigned long end)
{
	unsigned long head, next, flags;
	bool moved;

	raw_spin_lock_irqsave(&ring->lock, flags);
	ring->stat_batches++;
	ring->stat_largest = max(ring->stat_largest, kbatch_ring_len(start, end));
	ring->ends[kbatch_ring_index(ring, start)] = end | KB_END_VALID;
	head = ring->head;
	moved = head == start;
	/* Only batches in [head, tail) have a mark; the walk stops at tail. */
	while (moved && (ring->ends[kbatch_ring_index(ring, head)] & KB_END_VALID)) {
		next = ring->ends[kbatch_ring_index(ring, head)];
		ring->ends[kbatch_ring_index(ring, head)] = 0;
		head = next & ~KB_END_VALID;
	}
	/*
	 * Release: our (and every released batch's) reads of these slots
	 * come before a push reuses them; pairs with the acquire in
	 * kbatch_ring_room() and kbatch_ring_full().
	 */
	smp_store_release(&ring->head, head);
	raw_spin_unlock_irqrestore(&ring->lock, flags);

	/*
	 * wq_has_sleeper() has a full barrier that pairs with the one in
	 * prepare_to_wait(): either the waiter sees the new head, or we see
	 * it on the queue.
	 */
	if (moved && wq_has_sleeper(&ring->room))
		wake_up_all(&ring->room);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_ring_release);

/**
 * kbatch_ring_alloc() - allocate one CPU's ring
 * @queue: the queue it belongs to
 * @cpu: the CPU that pushes to it
 * @size: number of slots, a power of two
 * @first: the position of the first push (0, or near the wrap in tests)
 *
 * Context: may sleep.
 *
 * The ring's pushes are shared (see ring.h); the caller may make them
 * local before the ring is used.
 *
 * Return: the ring, or NULL.
 */
struct kbatch_ring *kbatch_ring_alloc(struct kbatch_queue *queue,
				      unsigned int cpu, unsigned int size,
				      unsigned long first)
{
	int node = cpu_to_node(cpu);
	struct kbatch_ring *ring;

	ring = kzalloc_node(struct_size(ring, slots, size), GFP_KERNEL, node);
	if (!ring)
		return NULL;
	ring->ends = kcalloc_node(size, sizeof(*ring->ends), GFP_KERNEL, node);
	if (!ring->ends) {
		kfree(ring);
		return NULL;
	}
	first &= ~KB_CLOSED;
	/* Closed: the first push leads. */
	ring->word = first | KB_CLOSED;
	ring->head = first;
	ring->first = first;
	ring->limit = first + size * KB_STEP;
	atomic_set(&ring->gate, KB_GATE_SHARED);
	local_set(&ring->stat_full, 0);
	ring->size = size;
	ring->mask = size - 1;
	ring->cpu = cpu;
	ring->queue = queue;
	raw_spin_lock_init(&ring->lock);
	init_waitqueue_head(&ring->room);
	return ring;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_ring_alloc);

/**
 * kbatch_ring_free() - free a ring no CPU can reach any more
 * @ring: the ring, or NULL
 *
 * Context: may sleep.
 */
void kbatch_ring_free(struct kbatch_ring *ring)
{
	if (!ring)
		return;
	if (ring->spill)
		kfree(ring->spill->seq);
	kfree(ring->spill);
	kfree(ring->ends);
	kfree(ring);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_ring_free);

/* ---- spill lanes: the protocol is at the top of ring.h ---- */

/**
 * kbatch_spill_push() - reserve, fill and hand to the lane's work
 * @lane: the lane, of any CPU's ring
 * @vals: the values, in order
 * @n: how many, at least 1
 *
 * The values land in consecutive positions, the first so many that fit.
 *
 * Context: any but NMI, hardirq included, on any CPU; in a section that
 * saw the queue live (preemption disabled), as for every push.
 *
 * Return: the number pushed; 0 if the lane is full.
 */
unsigned int kbatch_spill_push(struct kbatch_spill *lane,
			       const unsigned long *vals, unsigned int n)
{
	unsigned long head, tail, used, pos;
	unsigned int got, i;

	do {
		/*
		 * Acquire: pairs with the release in kbatch_spill_release(),
		 * so the drain's reads of the slots it released come before
		 * our stores into them.  @head is read first: every position
		 * below it was reserved, so the @tail read after it is not
		 * below it.  A @head gone stale meanwhile makes tail - head
		 * larger than the true fill, even larger than the lane: full.
		 */
		head = smp_load_acquire(&lane->head);
		tail = READ_ONCE(lane->tail);
		used = kbatch_ring_len(head, tail);
		if (used >= lane->size)
			return 0;
		got = min_t(unsigned long, n, lane->size - used);
		/* Full atomic: producers on every CPU race for @tail. */
	} while (!try_cmpxchg(&lane->tail, &tail, kbatch_ring_pos(tail, got)));

	for (i = 0; i < got; i++) {
		pos = kbatch_ring_pos(tail, i);
		*kbatch_spill_slot(lane, pos) = vals[i];
		/*
		 * Release: the value before the mark that it is filled;
		 * pairs with the acquire in kbatch_spill_bound().
		 */
		smp_store_release(&lane->seq[(pos / KB_STEP) & lane->mask],
				  pos + 1);
	}
	/*
	 * After the fill, always: either this queues the work, or a run of
	 * it still to come sees the fill (the top of ring.h says why).
	 */
	queue_work_on(lane->ring->cpu, kbatch_wq, &lane->work);
	return got;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_spill_push);

/**
 * kbatch_spill_bound() - the end of the lane's filled positions from @head
 * @lane: the lane
 *
 * Context: the lane's work (its only consumer), or KUnit with no producer.
 *
 * Return: one past the last position of the batch to run: the first
 * position from @head whose slot is not filled for it, at most a lane's
 * size on; @head itself if there is nothing to run.
 */
unsigned long kbatch_spill_bound(struct kbatch_spill *lane)
{
	unsigned long pos = lane->head;
	unsigned int i;

	for (i = 0; i < lane->size; i++, pos = kbatch_ring_pos(pos, 1)) {
		/*
		 * Acquire: pairs with the release in kbatch_spill_push(),
		 * so the value is read after it was stored.
		 */
		if (smp_load_acquire(&lane->seq[(pos / KB_STEP) & lane->mask]) !=
		    pos + 1)
			break;
	}
	return pos;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_spill_bound);

/**
 * kbatch_spill_release() - free the slots of a drained batch
 * @lane: the lane
 * @end: the batch's end, from kbatch_spill_bound()
 *
 * Context: the lane's work, once no slot of the batch is read any more.
 */
void kbatch_spill_release(struct kbatch_spill *lane, unsigned long end)
{
	lane->stat_batches++;
	/*
	 * Release: our reads of these slots come before a producer reuses
	 * them; pairs with the acquire in kbatch_spill_push().
	 */
	smp_store_release(&lane->head, end);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_spill_release);

/**
 * kbatch_spill_empty() - whether every value pushed has been drained
 * @lane: the lane
 *
 * Context: any; meaningful only when nobody can push (teardown, tests).
 *
 * Return: true if no slot is reserved or filled.
 */
bool kbatch_spill_empty(struct kbatch_spill *lane)
{
	/* Acquire: pairs with the release in kbatch_spill_release(). */
	return smp_load_acquire(&lane->head) == READ_ONCE(lane->tail);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_spill_empty);

/**
 * kbatch_spill_alloc() - give a ring its spill lane
 * @ring: the ring, from kbatch_ring_alloc(), not yet in use
 * @fn: the lane's work function
 *
 * The lane has the ring's size, node and first position.
 *
 * Context: may sleep.
 *
 * Return: 0, or -ENOMEM (the ring is left without a lane).
 */
int kbatch_spill_alloc(struct kbatch_ring *ring, work_func_t fn)
{
	int node = cpu_to_node(ring->cpu);
	struct kbatch_spill *lane;
	unsigned long pos;
	unsigned int i;

	lane = kzalloc_node(struct_size(lane, slots, ring->size), GFP_KERNEL,
			    node);
	if (!lane)
		return -ENOMEM;
	lane->seq = kcalloc_node(ring->size, sizeof(*lane->seq), GFP_KERNEL,
				 node);
	if (!lane->seq) {
		kfree(lane);
		return -ENOMEM;
	}
	lane->size = ring->size;
	lane->mask = ring->mask;
	lane->first = ring->first;
	lane->head = ring->first;
	lane->tail = ring->first;
	/* Each slot filled a lap before the first: never p + 1 for a p to come. */
	for (i = 0; i < lane->size; i++) {
		pos = kbatch_ring_pos(lane->first, i);
		lane->seq[(pos / KB_STEP) & lane->mask] =
			pos - lane->size * KB_STEP + 1;
	}
	lane->ring = ring;
	INIT_WORK(&lane->work, fn);
	ring->spill = lane;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_spill_alloc);
