/* SPDX-License-Identifier: GPL-2.0 */
/*
 * spill.pml: a ring's spill lane (KBATCH_QUEUE_SPILL), checked
 * exhaustively with spin, shutdown included.
 *
 * It mirrors, step for step:
 *
 *   kbatch_spill_push()     kmod/ring.c  read @head (acquire), read @tail,
 *                                        room test, cmpxchg of @tail (full
 *                                        atomic), per position: value
 *                                        store, seq store (release); then
 *                                        queue_work_on()
 *   spill_values()          kmod/queue.c the push section: preemption off,
 *                                        @dying tested first
 *   spill_work()            kmod/queue.c kbatch_spill_bound() (each seq
 *                                        read with acquire, stop at the
 *                                        first not filled for its
 *                                        position), the batch read, then
 *                                        kbatch_spill_release() (@head,
 *                                        release)
 *   queue_work_on(), the    kernel/      the pending bit: a queue sets it
 *   worker                  workqueue.c  (test-and-set, fully ordered);
 *                                        the worker clears it before it
 *                                        runs the function; one run at a
 *                                        time
 *   kbatch_queue_shutdown() kmod/queue.c set @dying, synchronize_rcu()
 *                                        (every section that saw @dying
 *                                        clear has ended), then wait until
 *                                        the lane's work is neither queued
 *                                        nor running
 *
 * NPROD producers push into one lane.  Each is a push section on some CPU
 * (any context: an interrupt's push is a producer whose steps may come
 * between any two of another's, which arbitrary interleaving covers);
 * producer 0 pushes PAIR values with one reservation, as
 * kbatch_post_many() spills the part its ring had no room for, the
 * others one.  Which lane a push picks (queue.c walks them in CPU order)
 * does not matter here: lanes share nothing, and each is this model.
 * The shutdown starts at any moment, and at its end every value accepted
 * must have run exactly once and the lane must be empty.
 *
 * Positions run free modulo 2^6 (WRAP), start FIRST, a few pushes before
 * the wrap, and step by STEP as in the ring; every length is an unsigned
 * difference.  Each plain load or store of a shared variable is one step
 * and each RMW one atomic step: sequential consistency, with the
 * barriers that give the code this order on a weak machine argued beside
 * it (each names its pair).
 *
 * Each assertion names the mutation of the code that makes it fail;
 * models/check.sh builds each mutation (-DM_...) and expects spin to find
 * the violation.
 *
 * Sizes: -DSIZE=2|4 slots, -DNPROD producers (3), -DPAIR values in
 * producer 0's push (2).
 */

#ifndef SIZE
#define SIZE	2
#endif
#ifndef NPROD
#define NPROD	3
#endif
#ifndef PAIR
#define PAIR	2
#endif
#define NVAL	(PAIR + NPROD - 1)

#define WRAP	64
#define WMASK	(WRAP - 1)
#define STEP	2
#ifndef FIRST
#define FIRST	(WRAP - 3 * STEP)
#endif

#define IDX(p)		(((p) / STEP) % SIZE)
#define LEN(s, e)	((((e) - (s)) & WMASK) / STEP)
#define POS(s, i)	(((s) + (i) * STEP) & WMASK)
#define FILLED(p)	(((p) + 1) & WMASK)

byte tail = FIRST;		/* lane->tail */
byte head = FIRST;		/* lane->head */
byte seq[SIZE];			/* lane->seq[] */
byte slots[SIZE];		/* lane->slots[]: a value id, 0 for none */

bit pending;			/* the work's pending bit */
bit running;			/* the work's function runs */
bit dying;			/* queue->dying */
byte insec;			/* push sections that saw @dying clear */
bit shut;			/* the shutdown has finished its waits */

/* Bookkeeping, not part of the protocol. */
byte pos_of[NVAL + 1];		/* where value id was stored */
bit accepted[NVAL + 1];		/* its push was accepted */
byte ran[NVAL + 1];		/* times the batch callback read it */
byte finished;			/* producers done */

/*
 * queue_work_on(): test_and_set_bit() of the pending bit; queued or not,
 * the bit is set after it.
 */
inline queue_work()
{
	pending = 1
}

/*
 * spill_values() with kbatch_spill_push(): push n values, ids id, id + 1,
 * ..., into the lane.
 */
proctype producer(byte id; byte n)
{
	byte h, t, used, got, room, i, p;

	/* preempt_disable(); queue_live() */
	atomic {
		if
		:: dying -> goto out
		:: else -> insec++
		fi
	};
again:
	h = head;		/* smp_load_acquire(&lane->head) */
	t = tail;		/* READ_ONCE(lane->tail) */
	used = LEN(h, t);
#ifndef M_ROOM_WRAP
	if
	:: used >= SIZE -> goto leave
	:: else
	fi;
	room = SIZE - used;
#else
	/*
	 * Mutation: the room as an unsigned difference with no test that
	 * tail - head fits the lane: a @head that went stale between the two
	 * loads makes it wrap to a large room.
	 */
	room = (SIZE - used) & WMASK;
	if
	:: room == 0 -> goto leave
	:: else
	fi;
#endif
	got = (n < room -> n : room);
	/* try_cmpxchg(&lane->tail, &tail, tail + got * STEP) */
	atomic {
		if
		:: tail == t -> tail = POS(t, got)
		:: else -> goto again
		fi
	};
#ifdef M_QUEUE_FIRST
	/* Mutation: the work queued before the fill. */
	queue_work();
#endif
	i = 0;
	do
	:: i < got ->
		p = POS(t, i);
#ifdef M_SEQ_FIRST
		/* Mutation: the mark stored before the value. */
		seq[IDX(p)] = FILLED(p);
		atomic { slots[IDX(p)] = id + i; pos_of[id + i] = p };
#else
		atomic { slots[IDX(p)] = id + i; pos_of[id + i] = p };
		/* smp_store_release(&lane->seq[...], p + 1) */
		seq[IDX(p)] = FILLED(p);
#endif
		accepted[id + i] = 1;
		i++
	:: else -> break
	od;
#ifdef M_QUEUE_IF_EMPTY
	/*
	 * Mutation: only the push that found the lane empty queues the work,
	 * as if the others could count on its run.
	 */
	if
	:: h == t -> queue_work()
	:: else
	fi;
#elif !defined(M_QUEUE_FIRST)
	queue_work();
#endif
leave:
	insec--;		/* preempt_enable() */
out:
	finished++
}

/* spill_work(): one consumer, run whenever the pending bit was set. */
proctype worker()
{
	byte start, end, p, v, n;

	do
	:: atomic { pending -> pending = 0; running = 1 };
		start = head;
		/* kbatch_spill_bound() */
		end = start;
		n = 0;
		do
		:: n < SIZE ->
#ifndef M_NO_SEQ
			/* smp_load_acquire(&lane->seq[...]) */
			if
			:: seq[IDX(end)] == FILLED(end) -> end = POS(end, 1); n++
			:: else -> break
			fi
#else
			/*
			 * Mutation: take every reserved position, up to
			 * @tail, filled or not.
			 */
			if
			:: end != tail -> end = POS(end, 1); n++
			:: else -> break
			fi
#endif
		:: else -> break
		od;
#ifdef M_RELEASE_EARLY
		/* Mutation: @head released before the batch is read. */
		head = end;
#endif
		/* batch_call(): read every value of the batch */
		p = start;
		do
		:: p != end ->
			v = slots[IDX(p)];
			/*
			 * The slot holds the value stored for its position.
			 * Fails with M_NO_SEQ and M_SEQ_FIRST (a reserved
			 * slot read before its fill) and M_RELEASE_EARLY (a
			 * producer refills a slot still being read).
			 */
			assert(v != 0 && pos_of[v] == p);
			/* Each value runs once. */
			assert(ran[v] == 0);
			ran[v]++;
			p = POS(p, 1)
		:: else -> break
		od;
		/* kbatch_spill_release(): smp_store_release(&lane->head, end) */
		head = end;
		running = 0
	:: atomic { shut && !pending } -> break
	od
}

/* kbatch_queue_shutdown() */
proctype shutdown()
{
	byte k;

	dying = 1;
#ifndef M_NO_GP
	/* synchronize_rcu() */
	insec == 0;
#endif
	/* queue_wait_work(): work_busy() until idle, flush_work() */
	atomic { !pending && !running -> shut = 1 };
	/*
	 * Every value accepted ran exactly once, and the lane is empty.
	 * Fails with M_QUEUE_FIRST and M_QUEUE_IF_EMPTY (a fill no run comes
	 * after: the value stays in the lane), M_NO_GP (a push fills after
	 * the flush) and M_ROOM_WRAP (a reservation laps @head: a value
	 * overwrites one not yet run, and the positions no longer add up).
	 */
	assert(head == tail);
	k = 1;
	do
	:: k <= NVAL -> assert(ran[k] == accepted[k]); k++
	:: else -> break
	od
}

init {
	byte p, i;

	atomic {
		/* kbatch_spill_alloc(): each slot filled a lap before FIRST */
		i = 0;
		do
		:: i < SIZE ->
			p = POS(FIRST, i);
			seq[IDX(p)] = FILLED((p - SIZE * STEP) & WMASK);
			i++
		:: else -> break
		od;
		run worker();
		run producer(1, PAIR);
		p = 1;
		do
		:: p < NPROD -> run producer(PAIR + p, 1); p++
		:: else -> break
		od;
		run shutdown()
	}
}
