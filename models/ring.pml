/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ring.pml: the batch-queue ring protocol, checked exhaustively with spin.
 *
 * It mirrors, step for step:
 *
 *   kbatch_ring_push()     kmod/ring.h  full test against @head, slot
 *                                       store, fetch_add of KB_STEP on
 *                                       @word, leader test against
 *                                       @led_phase
 *   kbatch_ring_bound()    kmod/ring.h  fetch_xor of the phase bit
 *   kbatch_ring_release()  kmod/ring.c  ends[] mark, in-order walk of
 *                                       @head, under @lock
 *   push_many(), submit_array(), wait_for_room(), wait_done(),
 *   run_batch()            kmod/queue.c task mode: NPROD tasks share one
 *                                       CPU's ring (preemption disabled
 *                                       around a push); a leader bounds,
 *                                       reads and releases its batch
 *                                       from any CPU, so batches finish
 *                                       out of order
 *
 * Positions run free modulo 2^5 (WRAP) and start FIRST, a few pushes
 * before the wrap, as kbatch_queue_alloc_at() lets the KUnit tests do:
 * the model's positions wrap several times over the run just as an
 * unsigned long's do, and every length is an unsigned difference.
 * Tasks carry ids 1..NTASK; the model records where each was pushed.
 *
 * Every atomic RMW and every plain load or store of a shared variable is
 * one step, so the model checks the protocol under sequential
 * consistency; the barriers that give the code that order on a weak
 * machine are argued beside the code (each names its pair).
 *
 * Each assertion below names the mutation of the code that makes it
 * fail; models/check.sh builds each mutation (-DM_...) and expects spin
 * to find the violation.
 *
 * Sizes: -DSIZE=2|4|8 slots, -DNPROD producers (3), -DPUSHES per
 * producer (2).
 */

#ifndef SIZE
#define SIZE	4
#endif
#ifndef NPROD
#define NPROD	3
#endif
#ifndef PUSHES
#define PUSHES	2
#endif
#define NTASK	(NPROD * PUSHES)

#define WRAP	32		/* positions live modulo 2^5 */
#define WMASK	(WRAP - 1)
#define PHASE	1		/* KB_PHASE */
#define STEP	2		/* KB_STEP */
#ifndef FIRST
#define FIRST	(WRAP - 3 * STEP)
#endif

/* kbatch_ring_index(), kbatch_ring_len(), kbatch_ring_pos() */
#define IDX(p)		(((p) / STEP) % SIZE)
#ifdef M_WRAP_LT
/*
 * Mutation: a length computed with a comparison instead of an unsigned
 * difference; at the wrap a full ring looks empty.
 */
#define LEN(s, e)	((e) >= (s) -> ((e) - (s)) / STEP : 0)
#else
#define LEN(s, e)	((((e) - (s)) & WMASK) / STEP)
#endif
#define POS(s, i)	(((s) + (i) * STEP) & WMASK)
#define TAIL(w)		((w) & (WMASK - PHASE))

byte word = FIRST;		/* ring->word: position | phase */
bit led_phase = 1;		/* ring->led_phase: the first push leads */
byte head = FIRST;		/* ring->head */
byte ends[SIZE];		/* ring->ends[]: end | KB_END_VALID, or 0 */
byte slots[SIZE];		/* ring->slots[]: a task id, 0 for none */
bit cpu_busy;			/* preemption disabled on the ring's CPU */

/* Bookkeeping, not part of the protocol. */
byte pos_of[NTASK + 1];		/* where task id was pushed */
bit ran[NTASK + 1];		/* a leader ran it */
byte finished;			/* producers done */

proctype producer(byte me)
{
	byte n, id, tail, old, start, end, blen, i, t, h, nx, k;
	bit led, moved;

next:
	if
	:: n == PUSHES -> goto out
	:: else -> id = me * PUSHES + n + 1
	fi;

push:
	/* push_many(): preempt_disable(); no other push on this CPU now. */
	atomic { cpu_busy == 0 -> cpu_busy = 1 };
	/* kbatch_ring_push() */
	tail = TAIL(word);
#ifndef M_NO_FULL
	if
	:: LEN(head, tail) >= SIZE ->
		/* -EAGAIN; wait_for_room() sleeps until a release makes room. */
		cpu_busy = 0;
		LEN(head, TAIL(word)) < SIZE;
		goto push
	:: else
	fi;
#endif
#ifndef M_STORE_AFTER_FADD
	atomic { slots[IDX(tail)] = id; pos_of[id] = tail };
#endif
	/* atomic_long_fetch_add_release(KB_STEP, &ring->word) */
	atomic { old = word; word = (word + STEP) & WMASK };
#ifdef M_STORE_AFTER_FADD
	/*
	 * Mutation: the slot stored after the fetch_add that confirms it, as
	 * if the release were dropped or the two lines swapped.
	 */
	atomic { slots[IDX(tail)] = id; pos_of[id] = tail };
#endif
	if
	:: (old & PHASE) == led_phase -> led = 0
	:: else ->
		led = 1;
#ifndef M_LED_KEEP
		led_phase = old & PHASE
#endif
	fi;
	cpu_busy = 0;		/* preempt_enable() */

	if
	:: led == 0 ->
		/*
		 * wait_done(): sleep until the leader completes our task.  With
		 * M_LED_KEEP no push after the first bound ever leads again, and
		 * its caller waits here for ever: spin reports an invalid end
		 * state.
		 */
		ran[id] == 1
	:: else ->
		/* run_batch(): the callback may wait; the batch keeps growing. */
		start = tail;
		/* kbatch_ring_bound(): atomic_long_fetch_xor_acquire(KB_PHASE) */
		atomic { end = TAIL(word); word = word ^ PHASE };
		blen = LEN(start, end);
		/*
		 * Our own task is in the batch and the batch fits the ring.
		 * Fails with M_WRAP_LT: once the positions wrap, a batch that
		 * straddles the wrap reads as length 0.
		 */
		assert(blen >= 1 && blen <= SIZE);
		i = 0;
		do
		:: i < blen ->
			t = slots[IDX(POS(start, i))];
			/*
			 * The slot holds the task pushed at this position.  Fails
			 * with M_STORE_AFTER_FADD: the bound can come between the
			 * fetch_add and the store, and the leader reads a slot
			 * that holds an older task (or none).
			 */
			assert(t != 0 && pos_of[t] == POS(start, i));
			/* Each task runs once. */
			assert(ran[t] == 0);
			ran[t] = 1;	/* kbatch_complete() */
			i++
		:: else -> break
		od;
		/* kbatch_ring_release(), under ring->lock */
		atomic {
			ends[IDX(start)] = end | 1;
			h = head;
			moved = (h == start);
			k = 0;
#ifdef M_RELEASE_UNORDERED
			/*
			 * Mutation: head jumps to our end even when an older
			 * batch has not been released.
			 */
			h = end;
			ends[IDX(start)] = 0;
			moved = 0;
#endif
			do
			:: moved && (ends[IDX(h)] & 1) ->
				/*
				 * The walk passes at most SIZE batches.  Fails
				 * with M_NO_CLEAR: a mark left behind is found
				 * again after the ring wraps, and the walk goes
				 * round for ever (under the lock).
				 */
				k++;
				assert(k <= SIZE);
				nx = ends[IDX(h)];
#ifndef M_NO_CLEAR
				ends[IDX(h)] = 0;
#endif
				h = nx & (WMASK - 1)
#ifdef M_NO_WALK
				/* Mutation: head passes our batch only. */
				; break
#endif
			:: else -> break
			od;
			head = h
		}
	fi;
	n++;
	goto next;
out:
	finished++
}

init {
	byte p, k;

	atomic {
		p = 0;
		do
		:: p < NPROD -> run producer(p); p++
		:: else -> break
		od
	}
	finished == NPROD;
	/*
	 * Every task ran, and every slot was released: head caught up with
	 * the tail.  Fails with M_NO_WALK (a batch released before an older
	 * one keeps its slots for ever), M_RELEASE_UNORDERED (head jumps
	 * over a batch still running, then moves back when that one ends)
	 * and M_NO_FULL (a push laps the oldest batch, the tail passes head
	 * by more than a ring, and the positions no longer add up).
	 */
	assert(head == TAIL(word));
	k = 1;
	do
	:: k <= NTASK -> assert(ran[k] == 1); k++
	:: else -> break
	od
}
