// SPDX-License-Identifier: GPL-2.0
/*
 * One CPU's ring of a batch queue: allocation, the full and empty tests,
 * the bound from another CPU and the release of a finished batch.  How the
 * ring works is explained in ring.h, beside its hot paths (push, bound).
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

	atomic_inc(&ring->shared);
	/*
	 * Every push section (preemption disabled: an RCU read-side section)
	 * that read @shared as 0 has ended, its slots stored; every section
	 * that begins after the grace period began sees @shared raised.
	 */
	synchronize_rcu();
	end = kbatch_ring_bound_shared(ring);
	/*
	 * Release: our bound comes before a push that reads @shared as 0 and
	 * uses a CPU-local RMW; pairs with the acquire in post_values()
	 * (queue.c).
	 */
	atomic_dec_return_release(&ring->shared);
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
	atomic_set(&ring->shared, 1);
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
	kfree(ring->ends);
	kfree(ring);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_ring_free);
