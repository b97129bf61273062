// SPDX-License-Identifier: GPL-2.0
/*
 * One CPU's ring of a batch queue: push, bound, release.
 *
 * The write word holds a free-running position and a phase bit:
 *
 *	word = position | phase		(positions step by 2, bit 0 is free)
 *
 * Positions wrap at 2^BITS_PER_LONG like any unsigned long; a length is
 * always an unsigned difference, (end - start) / KB_STEP, never a
 * comparison with '<'.  The slot of a position is (pos / KB_STEP) & mask.
 *
 * Only the ring's own CPU pushes, with interrupts (background, reducer) or
 * preemption (task mode) disabled, so the position bits have one writer
 * and a push needs no loop: it stores the task into its slot and confirms
 * it with one fetch_add (release).  Any CPU may bound: one fetch_xor
 * (acquire) of the phase bit.  Every push whose fetch_add comes before the
 * fetch_xor in the word's modification order is in the batch; every later
 * push sees the flipped phase and leads the next batch.  The pushing CPU
 * recognises that flip by comparing the phase it gets back with
 * @led_phase, the phase of the last batch it opened; so leader election
 * costs no second atomic.
 *
 * Batches of one ring may finish out of order (a task-mode leader can be
 * slower than the one after it).  A finished batch records its end in
 * ends[] at the slot of its start; kbatch_ring_release() then advances
 * @head over every finished batch it can reach, so a slot is reused only
 * when every task of its batch has been completed.
 */
#include <linux/atomic.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <kunit/visibility.h>

#include "kbatch_internal.h"

#define KB_PHASE	1UL
#define KB_STEP		2UL
/* An ends[] entry holds the end position of a finished batch, tagged. */
#define KB_END_VALID	1UL

static unsigned int kb_slot(const struct kbatch_ring *ring, unsigned long pos)
{
	return (pos / KB_STEP) & ring->mask;
}

/**
 * kbatch_ring_len() - number of tasks between two positions
 * @start: the first position
 * @end: one past the last position
 *
 * Return: the count, correct across the wrap of the positions.
 */
unsigned long kbatch_ring_len(unsigned long start, unsigned long end)
{
	return (end - start) / KB_STEP;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_ring_len);

/**
 * kbatch_ring_pos() - the position @i tasks after @start
 * @start: a position
 * @i: an offset in tasks
 *
 * Return: the position, wrapping like the ring's positions.
 */
unsigned long kbatch_ring_pos(unsigned long start, unsigned long i)
{
	return start + i * KB_STEP;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_ring_pos);

/**
 * kbatch_ring_slot() - the slot that holds the task at @pos
 * @ring: the ring
 * @pos: a position inside a batch that has not been released
 *
 * Return: a pointer to the slot.
 */
unsigned long *kbatch_ring_slot(struct kbatch_ring *ring, unsigned long pos)
{
	return &ring->slots[kb_slot(ring, pos)];
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_ring_slot);

static unsigned long kb_tail(struct kbatch_ring *ring)
{
	return atomic_long_read(&ring->word) & ~KB_PHASE;
}

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

	return kbatch_ring_len(head, kb_tail(ring)) >= ring->size;
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
	return smp_load_acquire(&ring->head) == kb_tail(ring);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_ring_empty);

/**
 * kbatch_ring_push() - put a task into the ring
 * @ring: the ring of the CPU we run on
 * @task: the value to store (a request pointer or a background value)
 * @pos: set to the task's position
 *
 * Context: on @ring's CPU, with interrupts disabled, or with preemption
 * disabled if no interrupt handler pushes to this ring.
 *
 * Return: KBATCH_LED if this push opened a batch, KBATCH_FOLLOWED if it
 * joined the open one, -EAGAIN (and nothing stored) if the ring is full.
 */
int kbatch_ring_push(struct kbatch_ring *ring, unsigned long task,
		     unsigned long *pos)
{
	unsigned long tail = kb_tail(ring);
	unsigned long old;

	/*
	 * Acquire: pairs with the release in kbatch_ring_release(), so the
	 * consumer's reads of the slots it released come before our store.
	 */
	if (kbatch_ring_len(smp_load_acquire(&ring->head), tail) >= ring->size) {
		ring->stat_full++;
		return -EAGAIN;
	}
	ring->slots[kb_slot(ring, tail)] = task;
	/*
	 * Release: the slot store above is visible to whoever bounds a batch
	 * that contains @tail; pairs with the acquire in kbatch_ring_bound().
	 */
	old = atomic_long_fetch_add_release(KB_STEP, &ring->word);
	ring->stat_pushes++;
	*pos = tail;
	if ((old & KB_PHASE) == ring->led_phase)
		return KBATCH_FOLLOWED;
	ring->led_phase = old & KB_PHASE;
	return KBATCH_LED;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_ring_push);

/**
 * kbatch_ring_bound() - close the open batch
 * @ring: the ring the batch was pushed to
 *
 * Must be called once per batch, by whoever runs it (its leader or the
 * background worker).
 *
 * Context: any.
 *
 * Return: the end position of the batch: one past its last task.
 */
unsigned long kbatch_ring_bound(struct kbatch_ring *ring)
{
	/*
	 * Acquire: pairs with the release fetch_add of every push before
	 * this one in the word's order, so their slot stores are visible.
	 */
	return atomic_long_fetch_xor_acquire(KB_PHASE, &ring->word) & ~KB_PHASE;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_ring_bound);

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
 * Context: any; takes @ring->lock with interrupts disabled.
 */
void kbatch_ring_release(struct kbatch_ring *ring, unsigned long start,
			 unsigned long end)
{
	unsigned long head, next, flags;
	bool moved;

	spin_lock_irqsave(&ring->lock, flags);
	ring->stat_batches++;
	ring->stat_largest = max(ring->stat_largest, kbatch_ring_len(start, end));
	ring->ends[kb_slot(ring, start)] = end | KB_END_VALID;
	head = ring->head;
	moved = head == start;
	/* Only batches in [head, tail) have a mark; the walk stops at tail. */
	while (moved && (ring->ends[kb_slot(ring, head)] & KB_END_VALID)) {
		next = ring->ends[kb_slot(ring, head)];
		ring->ends[kb_slot(ring, head)] = 0;
		head = next & ~KB_END_VALID;
	}
	/*
	 * Release: our (and every released batch's) reads of these slots
	 * come before a push reuses them; pairs with the acquire in
	 * kbatch_ring_push() and kbatch_ring_full().
	 */
	smp_store_release(&ring->head, head);
	spin_unlock_irqrestore(&ring->lock, flags);

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
	first &= ~KB_PHASE;
	atomic_long_set(&ring->word, first);
	ring->head = first;
	/* The first push sees phase 0 and must lead: */
	ring->led_phase = KB_PHASE;
	ring->size = size;
	ring->mask = size - 1;
	ring->cpu = cpu;
	ring->queue = queue;
	spin_lock_init(&ring->lock);
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
