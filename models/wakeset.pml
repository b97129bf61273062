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
 * Cancel mode (-DCANCEL) adds the lockless poll and its cancel
 * handshake, mirroring, step for step:
 *
 *   kbatch_poller_poll_index()  kmod/poller.c   W1 s = slots[i], skip if
 *                                               not an item; W2 running =
 *                                               s; W3 smp_mb(); W4 wake
 *                                               the cancel wait queue if
 *                                               it has waiters; W5 skip
 *                                               (running = NULL) if
 *                                               slots[i] != s; W6 poll;
 *                                               W7 on DONE, under the
 *                                               lock, retire i if
 *                                               slots[i] == s; W8 running
 *                                               = NULL (store-release)
 *   kbatch_poller_run_slice()   kmod/poller.c   after the slice's pops:
 *                                               smp_mb(), then wake the
 *                                               wait queue if it has
 *                                               waiters
 *   kbatch_poller_cancel()      kmod/poller.c   C1 under the lock, retire
 *                                               the slot if the item owns
 *                                               it; C2 smp_mb(); C3 return
 *                                               if running != item (or
 *                                               running_task == current:
 *                                               cancel from the item's
 *                                               own poll); C4 loop:
 *                                               prepare_to_wait(), return
 *                                               if running != item, else
 *                                               schedule()
 *   prepare_to_wait(),
 *   wake_up_all()               the kernel      add to the queue and set
 *                                               the task state, then a
 *                                               full barrier; wake_up_all
 *                                               (autoremove) takes every
 *                                               waiter off the queue and
 *                                               makes it runnable;
 *                                               schedule() returns once
 *                                               it is runnable
 *
 * To keep the state space small (3 million states, seconds) cancel mode
 * has two wakers, of items 0 and 2 (one in each leaf word; item 0's poll
 * still wakes item 0 once), WAKES times each.
 *
 * Item 0 is the one cancelled: one canceller process cancels it once and
 * then frees it (freed), while waker 0 keeps waking it (a wake after the
 * free is the owner's bug in the code, but kbatch_wake() only compares
 * the slot, so here it plays a stale wake whose bit must be dropped).
 * Item 0's poll may return DONE, or AGAIN, or cancel item 0 itself (the
 * cancel from the item's own poll, which must not wait).  Items 1 to 3
 * are never cancelled; item 2's polls are the worker's next publication
 * (W2-W4), which, with -DBUDGET=2, wakes the canceller within the slice,
 * while the slice-end check does it otherwise.  Slots go from item to
 * retired only under the lock (one atomic step here) and never back: the
 * model has no index recycling (that waits for a grace period and a new
 * cycle, see the header of poller.c).
 *
 * Cancel mode checks, besides every wake-set assertion of the default
 * mode: no poll of item 0 starts or is still running once a cancel of it
 * returned (freed; its own poll's cancel: gone); no canceller sleeps for
 * ever (no invalid end state); a sleeping canceller is woken before the
 * worker starts another item's poll (the wake-up costs at most one poll,
 * not a slice); slot 0 is retired once.
 *
 * Memory order in cancel mode: the model is sequentially consistent, as
 * the full barriers W3, the slice end's, C2 and prepare_to_wait()'s make
 * the code for the pairs that matter (running against slots[i], running
 * against the wait queue), with one exception: the worker's stores to
 * running go through a store buffer (sb_val), which a separate process
 * drains in order at any time and the worker's full barriers drain at
 * once.  Loads that follow a store in program order may thus pass it, as
 * on every SMP machine (x86 included); that is what W3 and the slice
 * end's barrier are there to stop, and what M_NO_PUBLISH_MB,
 * M_NO_SLICE_END_MB and M_WAKE_BEFORE_PUBLISH break.  The acquire that
 * orders the owner's free after the canceller's load of running (pairing
 * with W8's release), and the order of running_task against running, are
 * outside the model.
 *
 * Each assertion names the mutation of the code that makes it fail;
 * models/check.sh builds each mutation (-DM_...) and expects spin to find
 * the violation.  A canceller or worker that sleeps for ever shows as an
 * invalid end state: M_NO_SLICE_END_WAKE, M_NO_SLICE_END_MB and
 * M_SLICE_END_WAKE_IF_POLLED (the slice's only pop was item 0, skipped at
 * W5 after the canceller queued) leave the canceller asleep after the
 * worker's last slice; M_SELF_WAIT (no running_task test) leaves item
 * 0's own poll waiting for itself; M_NO_CANCEL_RECHECK loses the wake-up
 * of a canceller that queued after the slice end's check.
 */

#ifndef WAKES
#define WAKES	2
#endif
#ifndef BUDGET
#define BUDGET	1
#endif
#define NBITS	4
#ifdef CANCEL
#define NSET	2		/* wakers of items 0 and 2 */
#else
#define NSET	3
#endif

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

#ifdef CANCEL
#define AGAIN	0		/* KBATCH_POLL_AGAIN */
#define DONE	1		/* KBATCH_POLL_DONE */

bit retired0;			/* slots[0] holds a list link, not item 0 */
byte prun;			/* poller->running as memory has it: 0 or b + 1 */
byte sb_val;			/* the worker's buffered store to running */
bit sb_full;			/* ... if any */
bit queued[2];			/* on idle_wq: [0] the canceller, [1] the worker */
bit awake[2];			/* task state TASK_RUNNING */

/* Bookkeeping, not part of the protocol. */
bit freed;			/* the canceller's cancel returned; item 0 freed */
bit gone;			/* item 0's poll cancelled item 0 */
bit csleeps;			/* the canceller saw running == item 0, sleeps */
byte retires;			/* times slot 0 was retired */
bit cdone;			/* the canceller has finished */
#endif

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
#ifdef CANCEL
	/* kbatch_poller_owns(): a wake of a cancelled item does nothing. */
	if
	:: b == 0 && retired0 -> skip
	:: else ->
#endif
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
#ifdef CANCEL
	fi
#endif
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
#ifndef CANCEL
	insnap[b] = 0;
#endif
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

/*
 * kbatch_wakesnap_pop(): the lowest bit of the snapshot, in one step (the
 * snapshot is the worker's own).
 */
inline pop(b)
{
	atomic {
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
}

#ifdef CANCEL
/* The worker's store to poller->running: into its store buffer. */
inline store_running(v)
{
	atomic {
		if
		:: sb_full -> prun = sb_val	/* the older store drains first */
		:: else
		fi;
		sb_val = v;
		sb_full = 1
	}
}

/* smp_mb() in the worker: its store buffer drains. */
inline worker_mb()
{
	atomic {
		if
		:: sb_full -> prun = sb_val; sb_full = 0
		:: else
		fi
	}
}

/* running as the worker reads it: its own buffered store first. */
#define WORKER_RUNNING	(sb_full -> sb_val : prun)

/*
 * if (waitqueue_active()) wake_up_all(): the test, then, under the wait
 * queue's lock, every waiter off the queue and runnable.
 */
inline wake_waiters()
{
	if
	:: queued[0] || queued[1] ->
		atomic {
			if
			:: queued[0] -> queued[0] = 0; awake[0] = 1
			:: else
			fi;
			if
			:: queued[1] -> queued[1] = 0; awake[1] = 1
			:: else
			fi
		}
	:: else
	fi
}

/* Under the poller's lock: retire slot 0 if item 0 still owns it. */
inline retire0()
{
	atomic {
		if
		:: !retired0 -> retired0 = 1; retires++
		:: else
		fi
	}
}

/*
 * kbatch_poller_cancel() of item 0: by the canceller (self == 0) or from
 * item 0's own poll in the worker (self == 1).
 */
inline cancel(self, busy)
{
#ifndef M_CANCEL_RUNNING_FIRST
	retire0();					/* C1 */
#endif
	/* C2: smp_mb(); the model is SC for the canceller's own stores. */
	if						/* C3 */
	:: self -> busy = (WORKER_RUNNING == 1)
	:: else -> busy = (prun == 1)
	fi;
#ifdef M_CANCEL_RUNNING_FIRST
	/* Mutation: test running before retiring the slot. */
	retire0();
#endif
#ifndef M_SELF_WAIT
	/*
	 * running_task == current: the poll of item 0 is this task's own.
	 * Mutation M_SELF_WAIT leaves the test out.
	 */
	if
	:: self -> busy = 0
	:: else
	fi;
#endif
	do						/* C4 */
	:: !busy -> break
	:: else ->
#ifdef M_NO_CANCEL_RECHECK
		/*
		 * Mutation: sleep once queued, without reading running
		 * again (the test was C3's, or the last loop's).
		 */
		atomic { queued[self] = 1; awake[self] = 0 };
		csleeps = !self;
		awake[self];
		csleeps = 0;
		busy = (prun == 1)
#else
		/* prepare_to_wait(): queue, set the state, full barrier. */
		atomic { queued[self] = 1; awake[self] = 0 };
		atomic {
			if
			:: self -> busy = (WORKER_RUNNING == 1)
			:: else -> busy = (prun == 1)
			fi;
			csleeps = busy && !self
		};
		if
		:: !busy -> atomic { queued[self] = 0; awake[self] = 1 }	/* finish_wait() */
		:: else ->
			awake[self];	/* schedule(): until a wake makes it runnable */
			csleeps = 0
		fi
#endif
	od
}

/* Item b's poll callback; item 0 may also be done or cancel itself. */
inline poll_cb(b, old, was_empty, ret, busy)
{
	/*
	 * No poll of item 0 starts after its cancel returned (the owner
	 * freed it) or after its own poll cancelled it.  Fails with
	 * M_NO_RECHECK (W1 saw the item, the cancel then ran whole: it
	 * found running not yet item 0), M_NO_PUBLISH_MB (W5 read the slot
	 * before W2's store reached memory; the cancel read the old running)
	 * and M_CANCEL_RUNNING_FIRST (the cancel read running before it
	 * retired the slot: W1-W5 ran in between).
	 */
	assert(b != 0 || (!freed && !gone));
	/*
	 * A canceller that saw an earlier poll running is awake before the
	 * next poll starts: W4 woke it, or the slice end's check did.
	 * Fails with M_NO_PUBLISH_WAKE and M_WAKE_BEFORE_PUBLISH (the
	 * waiters read before W8's store of NULL reached memory: the
	 * canceller queued after that read and still saw its item), with
	 * -DBUDGET=2, where two polls share a slice; and with
	 * M_NO_CANCEL_RECHECK (the canceller queued after W8 and the slice
	 * end's check, and sleeps though running is no longer its item).
	 * -DLIVENESS_ONLY leaves this out, to show that the first two only
	 * delay the wake-up until the slice ends, while the third loses it
	 * (an invalid end state).
	 */
#ifndef LIVENESS_ONLY
	assert(b == 0 || !(csleeps && !awake[0]));
#endif
	poll_item(b, old, was_empty);
	ret = AGAIN;
	if
	:: b == 0 ->
		if
		:: ret = DONE
		:: skip
		:: cancel(1, busy); gone = 1
		fi
	:: else
	fi;
	/* The poll is still running: the item is not freed yet. */
	assert(b != 0 || !freed)
}

/* kbatch_poller_poll_index(), lockless: W1-W8 of the header. */
inline poll_index(b, old, was_empty, ret, busy, polls)
{
	insnap[b] = 0;	/* popped: polled or skipped, its bit is spent */
	if						/* W1 */
	:: b == 0 && retired0 -> skip
	:: else ->
#ifdef M_WAKE_BEFORE_PUBLISH
		/* Mutation: the waiters read before running is stored. */
		wake_waiters();				/* W4 */
		store_running(b + 1);			/* W2 */
		worker_mb();				/* W3 */
#elif defined(M_NO_PUBLISH_MB)
		/* Mutation: no barrier W3 between W2 and W4-W5. */
		store_running(b + 1);			/* W2 */
		wake_waiters();				/* W4 */
#else
		/*
		 * W2 and W3 as one step: nothing of the worker's comes
		 * between them that another task could see.
		 */
		atomic { store_running(b + 1); worker_mb() };
#ifndef M_NO_PUBLISH_WAKE
		wake_waiters();				/* W4 */
#endif
#endif
		if					/* W5 */
#ifndef M_NO_RECHECK
		:: b == 0 && retired0 -> store_running(0)
#endif
		:: else ->
			poll_cb(b, old, was_empty, ret, busy);	/* W6 */
			polls++;
			if				/* W7 */
			:: ret == DONE ->
#ifdef M_DONE_UNCHECKED
				/* Mutation: retire without the owner test. */
				atomic { retired0 = 1; retires++ }
#else
				retire0()
#endif
			:: else
			fi;
			store_running(0)		/* W8 */
		fi
	fi
}

/* The end of kbatch_poller_run_slice(): a canceller's last chance. */
inline slice_end(polls)
{
#ifdef M_SLICE_END_WAKE_IF_POLLED
	/* Mutation: only a slice that called a poll wakes. */
	if
	:: polls == 0 -> skip
	:: else ->
#endif
#ifndef M_NO_SLICE_END_MB
	worker_mb();
#endif
#ifndef M_NO_SLICE_END_WAKE
	wake_waiters();
#endif
#ifdef M_SLICE_END_WAKE_IF_POLLED
	fi;
#endif
	polls = 0
}

proctype store_buffer()
{
end_drained:
	do
	:: atomic { sb_full -> prun = sb_val; sb_full = 0 }
	od
}

proctype canceller()
{
	bit busy;

	cancel(0, busy);
	freed = 1;
	cdone = 1
}
#endif

/* kbatch_poller_work() looping on kbatch_poller_run_slice(). */
proctype worker()
{
	byte w, c, b, n, old, was_empty;
#ifdef CANCEL
	byte ret, polls;
	bit busy;
#endif

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
#ifdef CANCEL
				:: else ->
					poll_index(b, old, was_empty, ret,
						   busy, polls);
					n++
#else
				:: else -> poll_item(b, old, was_empty); n++
#endif
				fi
			:: else -> break
			od;
#ifdef CANCEL
			slice_end(polls);
#endif
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
#ifdef CANCEL
		run waker(2);
		run store_buffer();
		run canceller()
#else
		run waker(1);
		run waker(2)
#endif
	}
	/*
	 * Quiescence: no waker left, the worker idle and not queued (and the
	 * canceller returned).
	 */
	atomic {
#ifdef CANCEL
		finished == NSET && !pending && !running && cdone ->
		/*
		 * Slot 0 was retired once, by a cancel or by DONE, whichever
		 * came first.  Fails with M_DONE_UNCHECKED: a DONE after the
		 * cancel puts the index on the retired list a second time.
		 */
		assert(retires <= 1);
#else
		finished == NSET && !pending && !running ->
#endif
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
