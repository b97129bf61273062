/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One CPU's ring of a batch queue.  The hot paths (push, bound, the slot
 * of a position) are inline here; allocation and release are in ring.c.
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
#ifndef _KBATCH_RING_H
#define _KBATCH_RING_H

#include <linux/atomic.h>
#include <linux/cache.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

struct kbatch_queue;

#define KB_PHASE	1UL
#define KB_STEP		2UL

/**
 * struct kbatch_ring - one CPU's ring of a queue
 * @word: position of the next push, and the phase bit (see ring.c)
 * @led_phase: phase of the last batch a push on this CPU opened
 * @stat_pushes: pushes accepted
 * @stat_full: pushes refused because the ring was full
 * @head: oldest position not yet released; slots from here are busy
 * @lock: serialises kbatch_ring_release() and the stats below; raw, so
 *	that a reducer leader in hard-irq context may take it on PREEMPT_RT
 *	too; it covers a walk of at most @size finished batches
 * @stat_batches: batches released
 * @stat_largest: largest batch released
 * @room: where task-mode callers wait for a free slot
 * @work: runs the open batch in background mode
 * @bg_start: first position of the batch @work will run
 * @queue: the queue this ring belongs to
 * @cpu: the CPU that pushes here
 * @size: number of slots, a power of two
 * @mask: @size - 1
 * @ends: per slot, the tagged end of a finished batch starting there
 * @slots: the tasks
 *
 * The producer fields (written by every push) and the consumer fields
 * (written once per batch) sit on separate cache lines.  @word,
 * @led_phase and the producer stats are written only by @cpu, with
 * interrupts or preemption disabled; @word's phase bit is also flipped by
 * kbatch_ring_bound() from any CPU.
 */
struct kbatch_ring {
	atomic_long_t word ____cacheline_aligned_in_smp;
	unsigned long led_phase;
	unsigned long stat_pushes;
	unsigned long stat_full;

	unsigned long head ____cacheline_aligned_in_smp;
	raw_spinlock_t lock;	/* ends[], head and the stats below */
	unsigned long stat_batches;
	unsigned long stat_largest;
	wait_queue_head_t room;
	struct work_struct work;
	unsigned long bg_start;
	struct kbatch_queue *queue;
	unsigned int cpu;
	unsigned int size;
	unsigned int mask;
	unsigned long *ends;

	unsigned long slots[] ____cacheline_aligned_in_smp;
};

/* Index in slots[] of a position. */
static inline unsigned int kbatch_ring_index(const struct kbatch_ring *ring,
					     unsigned long pos)
{
	return (pos / KB_STEP) & ring->mask;
}

/* Position of the next push. */
static inline unsigned long kbatch_ring_tail(struct kbatch_ring *ring)
{
	return atomic_long_read(&ring->word) & ~KB_PHASE;
}

/**
 * kbatch_ring_len() - number of tasks between two positions
 * @start: the first position
 * @end: one past the last position
 *
 * Return: the count, correct across the wrap of the positions.
 */
static inline unsigned long kbatch_ring_len(unsigned long start,
					    unsigned long end)
{
	return (end - start) / KB_STEP;
}

/**
 * kbatch_ring_pos() - the position @i tasks after @start
 * @start: a position
 * @i: an offset in tasks
 *
 * Return: the position, wrapping like the ring's positions.
 */
static inline unsigned long kbatch_ring_pos(unsigned long start,
					    unsigned long i)
{
	return start + i * KB_STEP;
}

/**
 * kbatch_ring_slot() - the slot that holds the task at @pos
 * @ring: the ring
 * @pos: a position inside a batch that has not been released
 *
 * Return: a pointer to the slot.
 */
static inline unsigned long *kbatch_ring_slot(struct kbatch_ring *ring,
					      unsigned long pos)
{
	return &ring->slots[kbatch_ring_index(ring, pos)];
}

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
static inline int kbatch_ring_push(struct kbatch_ring *ring, unsigned long task,
				   unsigned long *pos)
{
	unsigned long tail = kbatch_ring_tail(ring);
	unsigned long old;

	/*
	 * Acquire: pairs with the release in kbatch_ring_release(), so the
	 * consumer's reads of the slots it released come before our store.
	 */
	if (kbatch_ring_len(smp_load_acquire(&ring->head), tail) >= ring->size) {
		ring->stat_full++;
		return -EAGAIN;
	}
	ring->slots[kbatch_ring_index(ring, tail)] = task;
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
static inline unsigned long kbatch_ring_bound(struct kbatch_ring *ring)
{
	/*
	 * Acquire: pairs with the release fetch_add of every push before
	 * this one in the word's order, so their slot stores are visible.
	 */
	return atomic_long_fetch_xor_acquire(KB_PHASE, &ring->word) & ~KB_PHASE;
}

/* ---- ring.c ---- */
bool kbatch_ring_full(struct kbatch_ring *ring);
bool kbatch_ring_empty(struct kbatch_ring *ring);
void kbatch_ring_release(struct kbatch_ring *ring, unsigned long start,
			 unsigned long end);
struct kbatch_ring *kbatch_ring_alloc(struct kbatch_queue *queue,
				      unsigned int cpu, unsigned int size,
				      unsigned long first);
void kbatch_ring_free(struct kbatch_ring *ring);

#endif /* _KBATCH_RING_H */
