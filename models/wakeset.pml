/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wakeset.pml: the poller's wake-set protocol, checked exhaustively with
 * spin.
 *
 * It mirrors, step for step:
 *
 *   kbatch_wakeset_set()        kmod/wakeset.c  fetch_or the bit into its
 *                                               word; only if the word
 *                                               was empty, fetch_or the
 *                                               word's bit into the
 *                                               parent; true if the top
 *                                               word was empty
 *   kbatch_wake(),
 *   kbatch_poller_kick()        kmod/poller.c   kick (queue_work()) only
 *                                               on that empty edge
 *   kbatch_wakeset_drain(),
 *   kbatch_wakeset_drain_word() kmod/wakeset.c  read the top word; if set,
 *                                               xchg it with 0, then xchg
 *                                               each child it names
 *   kbatch_poller_work(),
 *   kbatch_poller_run_slice(),
 *   kbatch_poller_begin_cycle() kmod/poller.c   a cycle drains once, at
 *                                               its start, then polls at
 *                                               most BUDGET items per
 *                                               slice until the snapshot
 *                                               is empty
 *   queue_work()                the kernel      PENDING is cleared before
 *                                               the work function runs,
 *                                               so a kick during a run
 *                                               runs it again
 *
 * Four items in two leaf words of two bits under one top word (depth 2,
 * the shape of every deeper set); three wakers: two share a leaf word,
 * the third has the other; each wakes WAKES times.  Item 0's poll wakes
 * item 0 again (once), as an item that stays busy does.
 *
 * Bookkeeping: inws[b] is set in the same step as b's fetch_or and
 * cleared by the drain's xchg that takes it; insnap[b] is set there and
 * cleared by b's poll.  Every atomic RMW and every plain load or store is
 * one step: the model checks the protocol under sequential consistency;
 * the code's fully ordered atomics give it that order.
 *
 * Each assertion names the mutation of the code that makes it fail;
 * models/check.sh builds each mutation (-DM_...) and expects spin to find
 * the violation.
 */

#ifndef WAKES
#define WAKES	2
#endif
#ifndef BUDGET
#define BUDGET	1
#endif
#define NBITS	4
#define NSET	3

byte lvl0[2];			/* ws->level[0]: two words of two bits */
byte top;			/* ws->level[1][0] */
byte snap0[2];			/* snap->level[0] (the worker's own) */
bit pending;			/* the work item's PENDING bit */
bit running;			/* the work function is running */
bit in_cycle;			/* poller->in_cycle */

/* Bookkeeping, not part of the protocol. */
bit inws[NBITS];
bit insnap[NBITS];
byte polled[NBITS];		/* polls of each item in the current cycle */
bit selfwoken;
byte finished;

#define WORD(b)	((b) / 2)
#define MASK(b)	(1 << ((b) % 2))

/* kbatch_poller_kick(): queue_work() sets PENDING unless it is set. */
inline kick()
{
#ifdef M_NO_KICK_IF_RUNNING
	/*
	 * Mutation: skip the kick when the worker runs, as if it would see
	 * the new bit anyway.
	 */
	if
	:: running -> skip
	:: else -> pending = 1
	fi
#else
	pending = 1
#endif
}

/* kbatch_wake() -> kbatch_wakeset_set(), then the kick on the empty edge. */
inline wake(b, old, was_empty)
{
#ifdef M_PARENT_FIRST
	/* Mutation: the parent's bit is set before the child's. */
	atomic { old = top; top = top | (1 << WORD(b)) };
	was_empty = (old == 0);
	atomic { lvl0[WORD(b)] = lvl0[WORD(b)] | MASK(b); inws[b] = 1 };
#else
	atomic {
		old = lvl0[WORD(b)];
		lvl0[WORD(b)] = old | MASK(b);
		inws[b] = 1
	};
	if
	:: old != 0 -> was_empty = 0
	:: else ->
		atomic { old = top; top = old | (1 << WORD(b)) };
		was_empty = (old == 0)
	fi;
#endif
	if
	:: was_empty -> kick()
	:: else -> skip
	fi
}

/* kbatch_wakeset_drain_word() of leaf word j: one xchg. */
inline take_leaf(j, c)
{
#ifdef M_READ_THEN_CLEAR
	/* Mutation: a load and a store instead of one xchg. */
	c = lvl0[j];
	atomic {
		lvl0[j] = 0;
		inws[2 * j] = inws[2 * j] && !(c & 1);
		inws[2 * j + 1] = inws[2 * j + 1] && !(c & 2)
	};
#else
	atomic {
		c = lvl0[j];
		lvl0[j] = 0;
		inws[2 * j] = inws[2 * j] && !(c & 1);
		inws[2 * j + 1] = inws[2 * j + 1] && !(c & 2)
	};
#endif
	insnap[2 * j] = insnap[2 * j] || (c & 1);
	insnap[2 * j + 1] = insnap[2 * j + 1] || (c & 2);
	snap0[j] = snap0[j] | c
}

/* kbatch_wakeset_drain(): parent first, then the children it names. */
inline drain(w, c)
{
	if
	:: top != 0 ->
#ifdef M_CHILD_FIRST
		/* Mutation: children taken before their parent is cleared. */
		w = top;
		if :: w & 1 -> take_leaf(0, c) :: else fi;
		if :: w & 2 -> take_leaf(1, c) :: else fi;
		top = 0
#else
		atomic { w = top; top = 0 };
		if :: w & 1 -> take_leaf(0, c) :: else fi;
		if :: w & 2 -> take_leaf(1, c) :: else fi
#endif
	:: else
	fi
}

/* The item's poll callback: item 0 wakes itself once. */
inline poll_item(b, old, was_empty)
{
	insnap[b] = 0;
	polled[b]++;
	/*
	 * A cycle polls an item at most once, however often it was woken; a
	 * wake during the cycle is for the next one.  Fails with
	 * M_DRAIN_EACH_SLICE: item 0 wakes itself, the next slice's drain
	 * takes the new bit into the running cycle and item 0 is polled
	 * again (and, with a busy item, for ever, starving the others).
	 */
	assert(polled[b] <= 1);
	if
	:: b == 0 && !selfwoken -> selfwoken = 1; wake(0, old, was_empty)
	:: else
	fi
}

/* kbatch_wakesnap_pop(): the lowest bit of the snapshot. */
inline pop(b)
{
	if
	:: snap0[0] & 1 -> b = 0; snap0[0] = snap0[0] & 2
	:: else -> if
		:: snap0[0] & 2 -> b = 1; snap0[0] = 0
		:: else -> if
			:: snap0[1] & 1 -> b = 2; snap0[1] = snap0[1] & 2
			:: else -> if
				:: snap0[1] & 2 -> b = 3; snap0[1] = 0
				:: else -> b = NBITS
				fi
			fi
		fi
	fi
}

/* kbatch_poller_work() looping on kbatch_poller_run_slice(). */
proctype worker()
{
	byte w, c, b, n, old, was_empty;

end_idle:
	do
	:: atomic { pending -> pending = 0; running = 1 };
		do
		:: true ->
#ifdef M_DRAIN_EACH_SLICE
			/* Mutation: every slice drains, not only a new cycle. */
			if
			:: !in_cycle -> polled[0] = 0; polled[1] = 0;
				polled[2] = 0; polled[3] = 0
			:: else
			fi;
			drain(w, c);
#else
			if
			:: !in_cycle ->
				/* kbatch_poller_begin_cycle() */
				polled[0] = 0; polled[1] = 0;
				polled[2] = 0; polled[3] = 0;
				drain(w, c)
			:: else
			fi;
#endif
			n = 0;
			do
			:: n < BUDGET ->
				pop(b);
				if
				:: b == NBITS -> break
				:: else -> poll_item(b, old, was_empty); n++
				fi
			:: else -> break
			od;
			in_cycle = (snap0[0] != 0 || snap0[1] != 0);
			if
			:: in_cycle -> skip	/* cond_resched(), next slice */
			:: else -> break
			fi
		od;
		running = 0
	od
}

proctype waker(byte b)
{
	byte k, old, was_empty;

	do
	:: k < WAKES -> wake(b, old, was_empty); k++
	:: else -> break
	od;
	finished++
}

init {
	byte b;

	atomic {
		run worker();
		run waker(0);
		run waker(1);
		run waker(2)
	}
	/* Quiescence: no waker left, the worker idle and not queued. */
	atomic {
		finished == NSET && !pending && !running ->
		/*
		 * No wake is lost: every bit set was drained and polled, and
		 * the set is empty again.  Fails with M_PARENT_FIRST (a drain
		 * between the two fetch_or takes the parent over an empty
		 * child; the child's bit then has no parent and no kick),
		 * M_CHILD_FIRST (a setter into a just-taken child finds the
		 * parent still set and does not kick; the drain then clears
		 * that parent), M_READ_THEN_CLEAR (a bit set between the load
		 * and the store is wiped) and M_NO_KICK_IF_RUNNING (a wake
		 * after the cycle's drain is left for a worker that is about
		 * to finish).
		 */
		assert(top == 0 && lvl0[0] == 0 && lvl0[1] == 0);
		b = 0;
		do
		:: b < NBITS -> assert(!inws[b] && !insnap[b]); b++
		:: else -> break
		od
	}
}
