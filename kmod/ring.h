/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One CPU's ring of a batch queue.  The hot paths (push, bound, the slot
 * of a position) are inline here; allocation, release and the remote bound
 * are in ring.c.
 *
 * The write word holds a free-running position and a closed bit:
 *
 *	word = position | closed	(positions step by 2, bit 0 is free)
 *
 * Positions wrap at 2^BITS_PER_LONG like any unsigned long; a length is
 * always an unsigned difference, (end - start) / KB_STEP, never a
 * comparison with '<'.  The slot of a position is (pos / KB_STEP) & mask.
 *
 * Only the ring's own CPU pushes.  A push advances the position and clears
 * the closed bit in one compare-and-exchange of the word; the bound sets
 * the bit in one.  Every push ordered before the bound in the word's
 * modification order is in the batch; the first push after it sees the bit
 * set, so it leads the next batch: leader election costs nothing more.
 * A push checks for room first, against @limit, a cached head + size.
 *
 * Two ways to push, and which one is safe depends on who may bound:
 *
 * - Shared: the slots are stored first, then one full atomic cmpxchg
 *   (release) confirms them; the bound is a full atomic cmpxchg (acquire)
 *   from any CPU.  A failed cmpxchg (a bound came in between) stores the
 *   same slots again and retries.  Storing before confirming is safe only
 *   if no other push on this CPU can come in between: task-mode pushes
 *   (process context only) run with preemption disabled, background and
 *   reducer pushes with interrupts disabled.
 *
 * - Local (background rings, while @gate is 0): with only preemption
 *   disabled, the push first reserves its positions with a CPU-local
 *   cmpxchg (cmpxchg_local(): atomic against interrupts on this CPU, no
 *   LOCK prefix on x86), then stores the slots.  An interrupt that pushes
 *   in between reserves the next positions, so nothing is overwritten.  A
 *   reserved slot is unfilled until its push ends, and nothing marks it:
 *   this is safe because the only bound of a background ring, in its work
 *   item, runs on the ring's CPU with preemption disabled
 *   (kbatch_ring_bound_local()), where it cannot come between the reserve
 *   and the fill of a push (a push runs with preemption disabled, and an
 *   interrupt's push ends before the code it interrupted resumes).
 *
 * The work item runs elsewhere only when its CPU goes offline (the
 * workqueue unbinds the CPU's workers), and the CPU may still push then,
 * or come back.  kbatch_ring_bound_remote() (ring.c) then raises @gate,
 * waits for an RCU grace period (every push section that saw @gate at 0
 * has ended, filled; every later one sees it raised and pushes shared),
 * bounds with the full atomic, and lowers @gate again (release; a push
 * that then reads 0 with acquire sees the bound).  So a local RMW and a
 * remote one are never concurrent.  Task and reducer rings are bounded by
 * their leaders, which may run anywhere: their @gate stays raised.
 *
 * The gate.  A background push reads one word before it reserves: @gate,
 * on the line it writes anyway.  Zero means all three of its conditions
 * at once: the queue is a background queue (other rings are created with
 * KB_GATE_SHARED), it is not shutting down (kbatch_queue_shutdown() adds
 * KB_GATE_DYING to every ring's gate before its grace period, so a
 * section that saw 0 is one the grace period waits for: queue.c's
 * lifetime rule), and no remote bound is in progress (each adds
 * KB_GATE_SHARED for its time).  Any other value sends the push to the
 * slow path, which tells the three apart.
 *
 * Batches of one ring may finish out of order (a task-mode leader can be
 * slower than the one after it).  A finished batch records its end in
 * ends[] at the slot of its start; kbatch_ring_release() then advances
 * @head over every finished batch it can reach, so a slot is reused only
 * when every task of its batch has been completed.
 *
 * Spill lanes (only in queues allocated with KBATCH_QUEUE_SPILL).  No CPU
 * may push into another CPU's ring: a background ring's own CPU reserves
 * with a CPU-local RMW, which a remote LOCK cmpxchg could interleave with,
 * and a remote writer cannot wait for the grace period that would make
 * the ring shared.  So a background or reducer push that finds its own
 * ring full spills into a spill lane (struct kbatch_spill): one more
 * bounded buffer per ring, written by any CPU in any context but NMI,
 * with full atomics only, and drained by its own work item.  The ring's
 * fields and pushes are untouched: the local fast path costs what it did,
 * and the spill is reached only from the branch that already handled a
 * full ring (queue.c, post_spill()).
 *
 * Which lane: the nearest with room, walking the online CPUs in number
 * order from the one after the poster's, wrapping, the poster's own lane
 * last.  Not the least loaded: finding it would read every CPU's ring and
 * lane, remote cache lines, from hard-irq context, for an answer stale
 * before it is used; the walk reads two words per lane and stops at the
 * first with room, so one busy CPU's overflow goes to its neighbour, and
 * to the next as each lane fills.  The poster's own lane comes last
 * because its work runs on the busy CPU itself.
 *
 * A lane's positions step by KB_STEP as a ring's do, and seq[] holds, per
 * slot, the position it was last filled for, plus 1:
 *
 * - reserve: read @head (acquire), then @tail; if tail - head leaves room,
 *   advance @tail over the positions with a full atomic cmpxchg (another
 *   producer won: read both again);
 * - fill: per position p, store the value, then store-release seq = p + 1;
 *   then queue the lane's work on the lane's CPU;
 * - drain (the lane's work; a work item never runs concurrently with
 *   itself, so there is one consumer): from @head, take each position p
 *   whose seq reads p + 1 (acquire), at most a lane's size, and stop at
 *   the first that does not: a reserved but unfilled slot is never read,
 *   and a slot filled a lap ago reads p + 1 - size * KB_STEP.  Run them
 *   as one batch, then store-release @head past them.
 *
 * No fill is left undrained: every fill queues the work after it, and
 * queue_work_on()'s test_and_set_bit() of the pending bit is fully
 * ordered even when the bit was set already, while the worker clears it
 * with a full barrier before it runs (set_work_pool_and_clear_pending()):
 * either this fill queued the work, or a run still to come starts after
 * it.  A run that stopped at an unfilled slot is followed by the run its
 * filler queues.  Teardown: a spill runs, queue_work_on() included, in
 * the push's section that saw the queue's @dying clear, so the shutdown's
 * grace period waits for it, and the flush of the lanes' works that
 * follows drains every lane.  Hotplug: spills target online CPUs, and the
 * lane's work, all full atomics, may run anywhere: a work queued on a CPU
 * that went offline meanwhile runs on another (the workqueue unbinds the
 * pool).  models/spill.pml checks this protocol, with shutdown.
 */
#ifndef _KBATCH_RING_H
#define _KBATCH_RING_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/cache.h>
#include <linux/minmax.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <asm/local.h>

struct kbatch_queue;

#define KB_CLOSED	1UL
#define KB_STEP		2UL

/* The parts of a ring's @gate (see the top of this file). */
#define KB_GATE_SHARED	1
#define KB_GATE_DYING	BIT(30)

/**
 * struct kbatch_ring - one CPU's ring of a queue
 * @word: position of the next push, and the closed bit
 * @limit: a position no push may reach: @head + @size slots when last
 *	read; stale values are lower, so only conservative
 * @gate: zero while a background push may reserve locally: KB_GATE_SHARED
 *	per remote bound in progress, or for good on task and reducer rings,
 *	plus KB_GATE_DYING once the queue shuts down (see the top of ring.h)
 * @mask: @size - 1; read by every push, so it sits on their line
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
 * @first: the position of the ring's first push (pushes = tail - first)
 * @cpu: the CPU that pushes here
 * @size: number of slots, a power of two
 * @ends: per slot, the tagged end of a finished batch starting there
 * @spill: the ring's spill lane, or NULL if the queue does not spill
 * @slots: the tasks
 *
 * The producer fields (written by every push) and the consumer fields
 * (written once per batch) sit on separate cache lines.  @word, @limit
 * and @stat_full are written only by @cpu, except that a bound sets
 * @word's closed bit, and a remote bound does so from another CPU.
 */
struct kbatch_ring {
	unsigned long word ____cacheline_aligned_in_smp;
	unsigned long limit;
	atomic_t gate;
	unsigned int mask;
	local_t stat_full;

	unsigned long head ____cacheline_aligned_in_smp;
	raw_spinlock_t lock;	/* ends[], head and the stats below */
	unsigned long stat_batches;
	unsigned long stat_largest;
	wait_queue_head_t room;
	struct work_struct work;
	unsigned long bg_start;
	struct kbatch_queue *queue;
	unsigned long first;
	unsigned int cpu;
	unsigned int size;
	unsigned long *ends;
	struct kbatch_spill *spill;

	unsigned long slots[] ____cacheline_aligned_in_smp;
};

/**
 * struct kbatch_spill - a ring's spill lane: what other pushes overflow into
 * @tail: position of the next reservation; any CPU, full atomics
 * @head: oldest position not yet drained; written by the lane's work only
 * @stat_batches: batches drained, written by the lane's work only
 * @work: drains the lane: runs its filled positions as one batch
 * @ring: the ring it belongs to: its CPU and queue
 * @first: the position of the lane's first push (spills = tail - first)
 * @size: number of slots, a power of two (the ring's)
 * @mask: @size - 1
 * @seq: per slot, the position it was last filled for, plus 1
 * @slots: the values
 *
 * The protocol is at the top of ring.h.
 */
struct kbatch_spill {
	unsigned long tail ____cacheline_aligned_in_smp;

	unsigned long head ____cacheline_aligned_in_smp;
	unsigned long stat_batches;
	struct work_struct work;
	struct kbatch_ring *ring;
	unsigned long first;
	unsigned int size;
	unsigned int mask;
	unsigned long *seq;

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
	return READ_ONCE(ring->word) & ~KB_CLOSED;
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
 * kbatch_ring_pushes() - pushes the ring has accepted, for the statistics
 * @ring: the ring
 *
 * Context: any; racy while the ring's CPU pushes.
 *
 * Return: the count, modulo 2^(BITS_PER_LONG - 1).
 */
static inline unsigned long kbatch_ring_pushes(struct kbatch_ring *ring)
{
	return kbatch_ring_len(ring->first, kbatch_ring_tail(ring));
}

/*
 * Free slots from @tail on, at most @n.  The cached @limit answers without
 * touching the consumer's cache line; when it shows no room it is
 * refreshed from @head.  Every value stored in @limit was head + size for
 * a head read then, and head only grows, so a stale (even a stale value
 * stored late by an interrupted push) is too low, never too high; the
 * signed difference tells a stale limit below @tail from a full ring.
 */
static __always_inline unsigned int kbatch_ring_room(struct kbatch_ring *ring,
						     unsigned long tail,
						     unsigned int n)
{
	unsigned long limit = READ_ONCE(ring->limit);

	if ((long)(limit - tail) <= 0) {
		/*
		 * Acquire: pairs with the release in kbatch_ring_release(),
		 * so the consumer's reads of the slots it released come
		 * before our stores into them.
		 */
		limit = smp_load_acquire(&ring->head) + ring->size * KB_STEP;
		WRITE_ONCE(ring->limit, limit);
	}
	/* A positive distance is at least one slot: all a single push needs. */
	if (n == 1)
		return (long)(limit - tail) > 0;
	return min_t(unsigned long, n, kbatch_ring_len(tail, limit));
}

/*
 * Copy @n values, a word at a time: a run of slots is short (at most a
 * ring), and a call to memcpy() costs more than it saves.
 */
static __always_inline void kbatch_copy_values(unsigned long *to,
					       const unsigned long *from,
					       unsigned int n)
{
	while (n--)
		*to++ = *from++;
}

/*
 * The @n tasks from position @pos on are at most two runs of slots, as
 * they wrap the ring at most once: the first run, from @pos's slot, is
 * this long; the rest start at slot 0.
 */
static __always_inline unsigned int kbatch_ring_run(struct kbatch_ring *ring,
						    unsigned long pos,
						    unsigned int n)
{
	return min(n, ring->size - kbatch_ring_index(ring, pos));
}

/* Store @n tasks, at most a ring's worth, from position @pos on. */
static __always_inline void kbatch_ring_fill(struct kbatch_ring *ring,
					     unsigned long pos,
					     const unsigned long *tasks,
					     unsigned int n)
{
	unsigned int run;

	if (n == 1) {	/* a single push: folded where @n is constant */
		*kbatch_ring_slot(ring, pos) = tasks[0];
		return;
	}
	run = kbatch_ring_run(ring, pos, n);
	kbatch_copy_values(kbatch_ring_slot(ring, pos), tasks, run);
	kbatch_copy_values(ring->slots, tasks + run, n - run);
}

/* Load @n tasks, at most a ring's worth, from position @pos on. */
static __always_inline void kbatch_ring_copy_out(struct kbatch_ring *ring,
						 unsigned long pos,
						 unsigned long *tasks,
						 unsigned int n)
{
	unsigned int run = kbatch_ring_run(ring, pos, n);

	kbatch_copy_values(tasks, kbatch_ring_slot(ring, pos), run);
	kbatch_copy_values(tasks + run, ring->slots, n - run);
}

/**
 * kbatch_ring_push_shared() - store tasks, then confirm them with a full atomic
 * @ring: the ring of the CPU we run on
 * @tasks: the values to store (request pointers or background values)
 * @n: how many, at least 1
 * @old: set to the word before the push: its position is the first task's,
 *	and KB_CLOSED in it means this push opened a batch (it leads)
 *
 * Context: on @ring's CPU, with interrupts disabled, or with preemption
 * disabled if no interrupt handler pushes to this ring (task mode).  Any
 * CPU may bound meanwhile.
 *
 * Return: the number of tasks pushed, the first so many of @tasks, fewer
 * than @n if the ring has no room for all; 0 if it is full.
 */
static __always_inline unsigned int
kbatch_ring_push_shared(struct kbatch_ring *ring, const unsigned long *tasks,
			unsigned int n, unsigned long *old)
{
	unsigned long word = READ_ONCE(ring->word), tail;
	unsigned int got;

	do {
		tail = word & ~KB_CLOSED;
		got = kbatch_ring_room(ring, tail, n);
		if (!got)
			goto out;
		kbatch_ring_fill(ring, tail, tasks, got);
		/*
		 * Release: the slot stores above are visible to whoever
		 * bounds a batch that holds them; pairs with the acquire in
		 * kbatch_ring_bound_shared().  On failure a bound came in
		 * between (no push can): the slots are still ours, refill.
		 */
	} while (!try_cmpxchg_release(&ring->word, &word,
				      tail + got * KB_STEP));
out:
	if (got < n)
		local_add(n - got, &ring->stat_full);
	*old = word;
	return got;
}

/**
 * kbatch_ring_push_local() - reserve positions with a CPU-local RMW, then fill
 * @ring: the ring of the CPU we run on, with @ring->gate read as 0 in
 *	this same section
 * @tasks: the values to store
 * @n: how many, at least 1
 * @old: as for kbatch_ring_push_shared()
 *
 * Context: on @ring's CPU with preemption disabled (any context: process,
 * softirq, hardirq); pushes from interrupts may nest.  Only a bound on
 * this CPU outside any push section may run meanwhile: see the top of
 * ring.h.
 *
 * Return: as for kbatch_ring_push_shared().
 */
static __always_inline unsigned int
kbatch_ring_push_local(struct kbatch_ring *ring, const unsigned long *tasks,
		       unsigned int n, unsigned long *old)
{
	unsigned long word = READ_ONCE(ring->word), prev, tail;
	unsigned int got;

	do {
		tail = word & ~KB_CLOSED;
		got = kbatch_ring_room(ring, tail, n);
		if (unlikely(!got)) {
			local_add(n, &ring->stat_full);
			*old = word;
			return 0;
		}
		/* Fails only if an interrupt pushed in between: retry. */
		prev = word;
		word = cmpxchg_local(&ring->word, prev, tail + got * KB_STEP);
	} while (word != prev);
	if (got < n)
		local_add(n - got, &ring->stat_full);
	kbatch_ring_fill(ring, tail, tasks, got);
	*old = word;
	return got;
}

/**
 * kbatch_ring_push_local_one() - kbatch_ring_push_local() of one value
 * @ring: as for kbatch_ring_push_local()
 * @task: the value to store
 * @old: as for kbatch_ring_push_local(); left alone if the ring is full
 *
 * Context: as for kbatch_ring_push_local().
 *
 * Return: true if pushed, false if the ring is full.
 */
static __always_inline bool
kbatch_ring_push_local_one(struct kbatch_ring *ring, unsigned long task,
			   unsigned long *old)
{
	unsigned long word = READ_ONCE(ring->word), prev, tail;

	do {
		tail = word & ~KB_CLOSED;
		if (unlikely(!kbatch_ring_room(ring, tail, 1))) {
			local_inc(&ring->stat_full);
			return false;
		}
		/* Fails only if an interrupt pushed in between: retry. */
		prev = word;
		word = cmpxchg_local(&ring->word, prev, tail + KB_STEP);
	} while (unlikely(word != prev));
	ring->slots[kbatch_ring_index(ring, tail)] = task;
	*old = word;
	return true;
}

/**
 * kbatch_ring_bound_shared() - close the open batch, from any CPU
 * @ring: the ring the batch was pushed to; its pushes are shared
 *
 * Must be called once per batch, by whoever runs it (its leader, or the
 * background worker through kbatch_ring_bound_remote()).
 *
 * Context: any.
 *
 * Return: the end position of the batch: one past its last task.
 */
static inline unsigned long kbatch_ring_bound_shared(struct kbatch_ring *ring)
{
	unsigned long word = READ_ONCE(ring->word);

	/*
	 * Acquire: pairs with the release cmpxchg of every push before
	 * this one in the word's order, so their slot stores are visible.
	 */
	while (!try_cmpxchg_acquire(&ring->word, &word, word | KB_CLOSED))
		;
	return word & ~KB_CLOSED;
}

/**
 * kbatch_ring_bound_local() - close the open batch, on the ring's CPU
 * @ring: the ring the batch was pushed to
 *
 * Context: on @ring's CPU, preemption disabled, not inside a push (the
 * background worker); no other CPU bounds this ring meanwhile.  The slot
 * stores of every push in the batch came before, on this CPU.
 *
 * Return: the end position of the batch.
 */
static inline unsigned long kbatch_ring_bound_local(struct kbatch_ring *ring)
{
	unsigned long word = READ_ONCE(ring->word), prev;

	/* Fails only if an interrupt pushed in between: retry. */
	while ((prev = cmpxchg_local(&ring->word, word, word | KB_CLOSED)) != word)
		word = prev;
	return word & ~KB_CLOSED;
}

/**
 * kbatch_spill_slot() - the slot of a spill lane that holds the value at @pos
 * @lane: the lane
 * @pos: a position inside a batch the lane's work is running
 *
 * Return: a pointer to the slot.
 */
static inline unsigned long *kbatch_spill_slot(struct kbatch_spill *lane,
					       unsigned long pos)
{
	return &lane->slots[(pos / KB_STEP) & lane->mask];
}

/* As kbatch_ring_run(), for a spill lane (whose slots are laid out alike). */
static inline unsigned int kbatch_spill_run(struct kbatch_spill *lane,
					    unsigned long pos, unsigned int n)
{
	return min(n, lane->size - (unsigned int)((pos / KB_STEP) & lane->mask));
}

/* ---- ring.c ---- */
unsigned long kbatch_ring_bound_remote(struct kbatch_ring *ring);
bool kbatch_ring_full(struct kbatch_ring *ring);
bool kbatch_ring_empty(struct kbatch_ring *ring);
void kbatch_ring_release(struct kbatch_ring *ring, unsigned long start,
			 unsigned long end);
struct kbatch_ring *kbatch_ring_alloc(struct kbatch_queue *queue,
				      unsigned int cpu, unsigned int size,
				      unsigned long first);
void kbatch_ring_free(struct kbatch_ring *ring);
unsigned int kbatch_spill_push(struct kbatch_spill *lane,
			       const unsigned long *vals, unsigned int n);
unsigned long kbatch_spill_bound(struct kbatch_spill *lane);
void kbatch_spill_release(struct kbatch_spill *lane, unsigned long end);
bool kbatch_spill_empty(struct kbatch_spill *lane);
int kbatch_spill_alloc(struct kbatch_ring *ring, work_func_t fn);

#endif /* _KBATCH_RING_H */
