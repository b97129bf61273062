/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ring.pml: the batch-queue ring protocol, checked exhaustively with spin.
 *
 * It mirrors, step for step:
 *
 *   kbatch_ring_room()         kmod/ring.h  the cached limit, refreshed
 *                                           from @head when it shows no room
 *   kbatch_ring_push_shared()  kmod/ring.h  room, slot store, cmpxchg of
 *                                           @word (position + STEP, closed
 *                                           bit cleared); a failure (a bound
 *                                           came in between) stores again
 *   kbatch_ring_push_local()   kmod/ring.h  room, cmpxchg_local of @word
 *                                           (reserve), then the slot store
 *   kbatch_ring_bound_shared() kmod/ring.h  set the closed bit (full atomic)
 *   kbatch_ring_bound_local()  kmod/ring.h  the same with cmpxchg_local
 *   kbatch_ring_bound_remote() kmod/ring.c  raise @gate, grace period,
 *                                           shared bound, lower @gate
 *   kbatch_ring_release()      kmod/ring.c  ends[] mark, in-order walk of
 *                                           @head, under @lock
 *   task mode (default)        kmod/queue.c push_many(), submit_array(),
 *                                           wait_for_room(), wait_done(),
 *                                           run_batch(): NPROD tasks share
 *                                           one CPU's ring (preemption
 *                                           disabled around a push); a
 *                                           leader bounds, reads and
 *                                           releases its batch from any
 *                                           CPU, so batches finish out of
 *                                           order
 *   background mode (-DBG)     kmod/queue.c kbatch_post(), post_values(),
 *                                           background_bound(),
 *                                           ring_work(): a process-context
 *                                           producer and an interrupt
 *                                           handler push on the ring's CPU;
 *                                           the interrupt may come between
 *                                           any two steps of the process
 *                                           push, reserve and fill
 *                                           included; the worker runs each
 *                                           batch either on the ring's CPU
 *                                           (local bound) or, as after CPU
 *                                           hotplug, on another CPU (remote
 *                                           bound), chosen anew each time
 *
 * Positions run free modulo 2^6 (WRAP) and start FIRST, a few pushes
 * before the wrap, as kbatch_queue_alloc_at() lets the KUnit tests do:
 * the model's positions wrap several times over the run just as an
 * unsigned long's do, and every length is an unsigned difference.
 * Tasks carry ids 1..NTASK; the model records where each was pushed.
 *
 * Every atomic RMW and every plain load or store of a shared variable is
 * one step, so the model checks the protocol under sequential
 * consistency; the barriers that give the code that order on a weak
 * machine are argued beside the code (each names its pair).  A CPU-local
 * cmpxchg (no LOCK prefix) is two steps, its load and its store: no other
 * context of the same CPU can come between them (an interrupt does not
 * split an instruction), but another CPU can.  A grace period waits until
 * every push section that read @gate as 0 has ended.
 *
 * Each assertion below names the mutation of the code that makes it
 * fail; models/check.sh builds each mutation (-DM_...) and expects spin
 * to find the violation.
 *
 * Sizes: -DSIZE=2|4|8 slots, -DNPROD producers (3), -DPUSHES per
 * producer (2); in background mode one process producer and one
 * interrupt handler, PUSHES each.
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
#ifdef BG
#define NTASK	(2 * PUSHES)
#else
#define NTASK	(NPROD * PUSHES)
#endif

#define WRAP	64		/* positions live modulo 2^6 */
#define WMASK	(WRAP - 1)
#define CLOSED	1		/* KB_CLOSED */
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
#define TAIL(w)		((w) & (WMASK - CLOSED))
/* (long)(l - t) > 0, in the model's 6-bit positions */
#define AHEAD(l, t)	((((l) - (t)) & WMASK) != 0 && (((l) - (t)) & WMASK) < WRAP / 2)

byte word = FIRST | CLOSED;	/* ring->word: position | closed; first push leads */
byte limit = (FIRST + SIZE * STEP) & WMASK;	/* ring->limit */
byte head = FIRST;		/* ring->head */
byte ends[SIZE];		/* ring->ends[]: end | KB_END_VALID, or 0 */
byte slots[SIZE];		/* ring->slots[]: a task id, 0 for none */

/* Bookkeeping, not part of the protocol. */
byte pos_of[NTASK + 1];		/* where task id was pushed */
bit ran[NTASK + 1];		/* a leader or the worker ran it */
bit accepted[NTASK + 1];	/* its push was accepted */
byte finished;			/* producers done */

/*
 * The batch that opened at start: read every task once, check each slot
 * holds the task pushed at its position.
 */
inline run_tasks(start, end, blen, i, t)
{
	blen = LEN(start, end);
	/*
	 * The batch fits the ring.  Fails with M_WRAP_LT: once the positions
	 * wrap, a batch that straddles the wrap reads as length 0.
	 */
	assert(blen >= 1 && blen <= SIZE);
	i = 0;
	do
	:: i < blen ->
		t = slots[IDX(POS(start, i))];
		/*
		 * The slot holds the task pushed at this position.  Fails with
		 * M_STORE_AFTER_CONFIRM (a bound between the cmpxchg and the
		 * store) and M_FILL_FIRST (an interrupt pushes into the slot a
		 * local push stored before it reserved).
		 */
		assert(t != 0 && pos_of[t] == POS(start, i));
		/* Each task runs once. */
		assert(ran[t] == 0);
		ran[t] = 1;	/* kbatch_complete() */
		i++
	:: else -> break
	od
}

/* kbatch_ring_release(), under ring->lock */
inline release(start, end, h, nx, k, moved)
{
	atomic {
		ends[IDX(start)] = end | 1;
		h = head;
		moved = (h == start);
		k = 0;
#ifdef M_RELEASE_UNORDERED
		/*
		 * Mutation: head jumps to our end even when an older batch has
		 * not been released.
		 */
		h = end;
		ends[IDX(start)] = 0;
		moved = 0;
#endif
		do
		:: moved && (ends[IDX(h)] & 1) ->
			/*
			 * The walk passes at most SIZE batches.  Fails with
			 * M_NO_CLEAR: a mark left behind is found again after
			 * the ring wraps, and the walk goes round for ever
			 * (under the lock).
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
}

/*
 * The new word of a push at tail.  Fails with M_KEEP_CLOSED (a push that
 * leaves the closed bit set): every later push leads too, and two workers
 * or leaders read the same tasks.
 */
#ifdef M_KEEP_CLOSED
#define PUSHED(w, tail)	(((tail) + STEP) & WMASK | ((w) & CLOSED))
#else
#define PUSHED(w, tail)	(((tail) + STEP) & WMASK)
#endif

#ifndef BG

/* ---- task mode ---- */

bit cpu_busy;			/* preemption disabled on the ring's CPU */

proctype producer(byte me)
{
	byte n, id, w, tail, start, end, blen, i, t, h, nx, k;
	bit moved;

next:
	if
	:: n == PUSHES -> goto out
	:: else -> id = me * PUSHES + n + 1
	fi;

push:
	/* push_many(): preempt_disable(); no other push on this CPU now. */
	atomic { cpu_busy == 0 -> cpu_busy = 1 };
	/* kbatch_ring_push_shared() */
	w = word;
again:
	tail = TAIL(w);
	/* kbatch_ring_room(): the cached limit, refreshed from head */
	if
	:: AHEAD(limit, tail)
	:: else -> limit = (head + SIZE * STEP) & WMASK
	fi;
#ifndef M_NO_FULL
	if
	:: !AHEAD(limit, tail) ->
		/* -EAGAIN; wait_for_room() sleeps until a release makes room. */
		cpu_busy = 0;
		LEN(head, TAIL(word)) < SIZE;
		goto push
	:: else
	fi;
#endif
#ifndef M_STORE_AFTER_CONFIRM
	atomic { slots[IDX(tail)] = id; pos_of[id] = tail };
#endif
	/* try_cmpxchg_release(&ring->word, &word, tail + STEP) */
	atomic {
		if
		:: word == w -> word = PUSHED(w, tail)
		:: else -> w = word; goto again
		fi
	};
#ifdef M_STORE_AFTER_CONFIRM
	/*
	 * Mutation: the slot stored after the cmpxchg that confirms it, as if
	 * the release were dropped or the two lines swapped.
	 */
	atomic { slots[IDX(tail)] = id; pos_of[id] = tail };
#endif
	accepted[id] = 1;
	cpu_busy = 0;		/* preempt_enable() */

	if
	:: (w & CLOSED) == 0 ->
		/* wait_done(): sleep until the leader completes our task. */
		ran[id] == 1
	:: else ->
		/* run_batch(): the callback may wait; the batch keeps growing. */
		start = tail;
		/* kbatch_ring_bound_shared(): set the closed bit, acquire */
		atomic { end = TAIL(word); word = word | CLOSED };
		run_tasks(start, end, blen, i, t);
		release(start, end, h, nx, k, moved)
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

#else /* BG */

/* ---- background mode ---- */

/* On the ring's CPU: */
bit inirq;		/* the interrupt handler runs */
bit inrmw;		/* between the load and the store of a cmpxchg_local */
bit irqoff;		/* the process producer disabled interrupts */
byte psec;		/* preemption disabled by: 1 the producer, 2 the worker */
byte nlocal;		/* push sections that read @gate as 0 (RCU readers) */
byte shared;		/* ring->gate, remote bounds only (mode and dying not modelled) */
bit work_pending;	/* the ring's work is queued */
byte bg_start;		/* ring->bg_start */

/*
 * A step of context me on the ring's CPU: the interrupt handler (me == 1)
 * runs alone there; the process producer (me == 0) not while the handler
 * runs, nor inside the handler's cmpxchg_local.
 */
#define ON_CPU(me)	(me == 1 || (inirq == 0 && inrmw == 0))

/*
 * kbatch_post() or post_values(), and background_lead(): push task id,
 * from context me.
 */
inline post(me, id, w, v, tail, loc, ok)
{
	/* preempt_disable(); atomic_read_acquire(&ring->shared) */
	atomic {
		ON_CPU(me) && (me == 1 || psec == 0) ->
		if
		:: me == 0 -> psec = 1
		:: else
		fi;
		if
#ifndef M_IGNORE_SHARED
		:: shared == 0 -> loc = 1; nlocal++
		:: else -> loc = 0
#else
		/* Mutation: local pushes even while a remote bound runs. */
		:: loc = 1; nlocal++
#endif
		fi
	};
	if
	:: loc ->
		/* kbatch_ring_push_local() */
		atomic { ON_CPU(me) -> w = word };
lagain:
		tail = TAIL(w);
		atomic {
			ON_CPU(me) ->
			if
			:: AHEAD(limit, tail)
			:: else -> limit = (head + SIZE * STEP) & WMASK
			fi
		};
		if
		:: atomic { ON_CPU(me) && !AHEAD(limit, tail) } -> goto refused
		:: atomic { ON_CPU(me) && AHEAD(limit, tail) }
		fi;
#ifdef M_FILL_FIRST
		/* Mutation: the slot stored before the reservation. */
		atomic { ON_CPU(me) -> slots[IDX(tail)] = id; pos_of[id] = tail };
#endif
		/* cmpxchg_local(): its load, then its store */
		atomic { ON_CPU(me) -> inrmw = 1; v = word };
		atomic {
			if
			:: v == w -> word = PUSHED(w, tail); ok = 1
			:: else -> w = v; ok = 0
			fi;
			inrmw = 0
		};
		if
		:: !ok -> goto lagain
		:: else
		fi;
#ifndef M_FILL_FIRST
		atomic { ON_CPU(me) -> slots[IDX(tail)] = id; pos_of[id] = tail };
#endif
	:: else ->
		/* local_irq_save(); kbatch_ring_push_shared() */
		atomic { ON_CPU(me) -> irqoff = 1 };
		atomic { ON_CPU(me) -> w = word };
sagain:
		tail = TAIL(w);
		atomic {
			ON_CPU(me) ->
			if
			:: AHEAD(limit, tail)
			:: else -> limit = (head + SIZE * STEP) & WMASK
			fi
		};
		if
		:: atomic { ON_CPU(me) && !AHEAD(limit, tail) } -> irqoff = 0; goto refused
		:: atomic { ON_CPU(me) && AHEAD(limit, tail) }
		fi;
		atomic { ON_CPU(me) -> slots[IDX(tail)] = id; pos_of[id] = tail };
		/* try_cmpxchg_release(): one full atomic step */
		atomic {
			ON_CPU(me) ->
			if
			:: word == w -> word = PUSHED(w, tail)
			:: else -> w = word; goto sagain
			fi
		};
		atomic { ON_CPU(me) -> irqoff = 0 }
	fi;
	accepted[id] = 1;
	/* background_lead(): queue_work_on() */
	atomic {
		ON_CPU(me) ->
		if
		:: w & CLOSED -> bg_start = tail; work_pending = 1
		:: else
		fi
	};
refused:
	/* preempt_enable() */
	atomic {
		ON_CPU(me) ->
		if
		:: loc -> nlocal--
		:: else
		fi;
		if
		:: me == 0 -> psec = 0
		:: else
		fi
	}
}

proctype task_producer()
{
	byte n, w, v, tail;
	bit loc, ok;

	do
	:: n < PUSHES -> post(0, n + 1, w, v, tail, loc, ok); n++
	:: else -> break
	od;
	finished++
}

/* Interrupts: each push is one handler, anywhere the CPU takes them. */
proctype irq_producer()
{
	byte n, w, v, tail;
	bit loc, ok;

	do
	:: n < PUSHES ->
		atomic { inirq == 0 && inrmw == 0 && irqoff == 0 -> inirq = 1 };
		post(1, PUSHES + n + 1, w, v, tail, loc, ok);
		inirq = 0;
		n++
	:: else -> break
	od;
	finished++
}

/* ring_work(): background_bound(), then the batch, then its release. */
proctype worker()
{
	byte start, end, w, v, blen, i, t, h, nx, k;
	bit moved, ok;

	do
	:: atomic { work_pending -> work_pending = 0; start = bg_start };
		if
		:: /* on the ring's CPU: kbatch_ring_bound_local() */
			atomic { inirq == 0 && inrmw == 0 && psec == 0 -> psec = 2 };
			atomic { inirq == 0 && inrmw == 0 -> w = word };
			do
			:: atomic { inirq == 0 && inrmw == 0 -> inrmw = 1; v = word };
				atomic {
					if
					:: v == w -> word = w | CLOSED; ok = 1
					:: else -> w = v; ok = 0
					fi;
					inrmw = 0
				};
				if
				:: ok -> break
				:: else
				fi
			od;
			end = TAIL(w);
			atomic { inirq == 0 && inrmw == 0 -> psec = 0 }
		:: /* elsewhere: kbatch_ring_bound_remote() */
			shared++;
#ifndef M_NO_GP
			/* synchronize_rcu() */
			nlocal == 0;
#endif
#ifndef M_REMOTE_LOCAL_RMW
			atomic { end = TAIL(word); word = word | CLOSED };
#else
			/*
			 * Mutation: the remote bound with a CPU-local cmpxchg
			 * and no grace period: a push on the ring's CPU can
			 * come between its load and its store.
			 */
			w = word;
			word = w | CLOSED;
			end = TAIL(w);
#endif
			shared--
		fi;
		run_tasks(start, end, blen, i, t);
		release(start, end, h, nx, k, moved)
	:: atomic { finished == 2 && !work_pending } -> break
	od
}

init {
	byte k;

	atomic {
		run task_producer();
		run irq_producer();
		run worker()
	}
	(_nr_pr == 1);
	/*
	 * Every accepted task ran, no refused one did, and every slot was
	 * released.  Fails with M_NO_GP, M_IGNORE_SHARED and
	 * M_REMOTE_LOCAL_RMW: a local store of the word overwrites the
	 * remote bound's closed bit (the next batch gets no worker), or a
	 * remote store overwrites a local reservation (a position is handed
	 * out twice).
	 */
	assert(head == TAIL(word));
	k = 1;
	do
	:: k <= NTASK -> assert(ran[k] == accepted[k]); k++
	:: else -> break
	od
}

#endif /* BG */
