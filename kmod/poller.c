// SPDX-License-Identifier: GPL-2.0
/*
 * The fair deferred-work poller.
 *
 * Items live in a table of @capacity slots.  A slot holds its item's
 * address, or, while it is on one of the index lists (free, retired,
 * waiting), the next index of its list shifted left by one with bit 0 set.
 * kbatch_wake() checks that the item still owns its slot and sets the
 * slot's bit in the shared side of the wake set (wakeset.c); the call that
 * makes it non-empty kicks the worker.  A cycle drains the shared side into
 * the snapshot, one xchg per word, then polls the snapshot's items in
 * order, at most @budget per slice, taking a leaf word at a time and
 * walking its bits in @word; a wake during the cycle lands in the shared
 * side, so it is served by the next cycle.
 *
 * Index recycling.  Cancel and KBATCH_POLL_DONE put the index on the
 * retired list.  A cycle moves the retired list to the waiting list and
 * starts an RCU grace period; a later cycle that finds that grace period
 * over drains the wake set and then clears those indices' bits, from the
 * snapshot and from the shared words, before putting them on the free
 * list.  By then every kbatch_wake() that saw the old owner has finished
 * (the grace period) and its bit has been dropped: drained into the
 * snapshot, or still in a shared word that no drain could reach yet
 * because another waker, which made that word non-empty, had not marked
 * its parent.  So no stale wake can reach the next owner.
 *
 * The poll and cancel.  A poll takes no lock.  The worker publishes the
 * item in @running, issues a full barrier, and re-reads the slot; it polls
 * only if the item still owns it, then clears @running with a release.
 * Cancel retires the slot under @lock, issues a full barrier, and reads
 * @running; if its item is being polled, it sleeps on @idle_wq until
 * @running changes.  Either the worker's re-read sees the retired slot (no
 * poll), or cancel's read sees the item in @running (it waits for the poll
 * to end): the two barriers make this a store-buffering pair.  The worker
 * wakes @idle_wq after the barrier that follows its next store to
 * @running, the next poll's publication or the end of the slice, so a
 * canceller that queued itself before reading @running is either seen
 * there or sees @running changed (the barrier in prepare_to_wait_event()
 * pairs with it).  Slots change from item to retired only under @lock and
 * never back within a slice (reclaim runs at the start of a cycle, in the
 * worker), so a slot that passed the re-read holds that item for the whole
 * poll, unless the poll returns KBATCH_POLL_DONE or a cancel retires it.
 * models/wakeset.pml checks the handshake (-DCANCEL).
 *
 * Lockdep.  Cancel and free wait for a poll as flush_work() waits for a
 * work, so each poller has a lockdep map, @dep_map, "held" while a poll
 * runs and acquired and released by kbatch_poller_cancel() (but from a
 * poll of the same poller, where it never waits) and kbatch_poller_free()
 * before they may wait.  A canceller holding a lock that the poller's
 * polls take is then reported the first time both halves happen, deadlock
 * or not.  A named poller's class is its own (@dep_key), so pollers that
 * never wait for each other are told apart; the items of one poller are
 * not.  Unnamed pollers, made by the hundred (one per open file), share
 * one class, "kbatch_poll:(unnamed)", with a static key: a key of their
 * own would cost each free a grace period in lockdep_unregister_key(),
 * and each open file a lockdep class, of which there are 8192.
 *
 * Locking: @lock (irq-safe, never taken by kbatch_wake() or a poll) guards
 * the slots and the lists.  It is a raw spinlock, so that
 * kbatch_poller_add() keeps its "any context but NMI" on PREEMPT_RT, where
 * a spinlock_t sleeps; every section under it is a few stores.  The worker
 * is the only user of the snapshot.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kbatch.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <kunit/visibility.h>

#include "kbatch_internal.h"
#include "wakeset.h"
#include <trace/events/kbatch.h>

/* The end of an index list. */
#define KBATCH_NIL		KBATCH_POLLER_MAX_CAPACITY
/*
 * How long free waits for the worker before it warns and gives up (false);
 * how often cancel, which never gives up, warns while it waits.
 */
#define KBATCH_POLLER_TIMEOUT	(10 * HZ)

/*
 * struct kbatch_poller - one poller
 * @lock: guards @slots and the three index lists; raw and irq-safe;
 *	never taken by kbatch_wake() or a poll
 * @slots: per index, the owner's address or a list link (see above)
 * @capacity: number of slots, fixed
 * @budget: most items polled per slice
 * @free_head: free indices
 * @retired_head: indices given up by cancel or KBATCH_POLL_DONE
 * @waiting_head: retired indices waiting for the grace period @waiting_gp
 * @waiting_gp: cookie of start_poll_synchronize_rcu_full(): normal or
 *	expedited, whichever grace period ends first ends it
 * @running: the item being polled, or NULL (see the top of this file)
 * @running_task: the task that runs the current slice, NULL between
 *	slices, so that a cancel from inside a poll knows not to wait for
 *	itself
 * @dying: set by kbatch_poller_kill(); wakes and adds do nothing after it
 * @dying_gp: cookie of the grace period kbatch_poller_kill() started once
 *	@dying was set; kbatch_poller_free() waits for it if it has not ended
 * @pinned: a kbatch_poller_free() gave up on the worker and took a
 *	reference on this module for it; the free that succeeds drops it
 * @in_cycle: the snapshot holds items of an unfinished cycle (worker only)
 * @word: the bits of the leaf word being walked, not yet polled (worker only)
 * @word_base: the index of @word's bit 0 (worker only)
 * @cycle_polled: items polled in the current cycle (worker only)
 * @cycle_slices: slices of the current cycle (worker only)
 * @flags: KBATCH_POLLER_MANUAL or 0
 * @timeout: KBATCH_POLLER_TIMEOUT, or shorter for KUnit
 * @wake: the wake set: its shared side marked by kbatch_wake(), its
 *	snapshot the current cycle's (worker only)
 * @stats: counters; written by the worker, or under @lock for items
 * @kicks: wakes that found @wake empty
 * @idle_wq: where cancel waits for the poll of its item to end; woken
 *	after a barrier, see the top of this file
 * @work: the worker, in system_unbound_wq
 * @debugfs: kbatch/poller-<name>
 * @name: the poller's name
 * @dying_hook: KUnit only: called by kbatch_poller_kill() once @dying is set
 * @dying_arg: its argument
 * @gp_hook: KUnit only: called by kbatch_poller_free() when it has to wait
 *	for @dying_gp
 * @gp_arg: its argument
 * @dep_key: lockdep class of @dep_map, one per named poller
 * @dep_map: "held" while a poll runs (see the top of this file)
 * @dep_name: @dep_map's name, "kbatch_poll:<name>", if the poller is named
 * @rcu: frees the struct a grace period after kbatch_poller_free(), so
 *	that a wake which began before the free returned may still read
 *	@dying
 */
struct kbatch_poller {
	raw_spinlock_t lock; /* see @lock above */
	unsigned long *slots;
	u32 capacity;
	u32 budget;
	u32 free_head;
	u32 retired_head;
	u32 waiting_head;
	struct rcu_gp_oldstate waiting_gp;
	struct rcu_gp_oldstate dying_gp;
	struct kbatch_pollable *running;
	struct task_struct *running_task;
	bool dying;
	bool pinned;
	bool in_cycle;
	unsigned long word;
	unsigned long word_base;
	unsigned int cycle_polled;
	unsigned int cycle_slices;
	unsigned int flags;
	unsigned long timeout;
	struct kbatch_wakeset wake;
	struct kbatch_poller_stats stats;
	atomic_long_t kicks;
	wait_queue_head_t idle_wq;
	struct work_struct work;
	struct dentry *debugfs;
	char name[32];
	void (*dying_hook)(void *arg);
	void *dying_arg;
	void (*gp_hook)(void *arg);
	void *gp_arg;
	struct lock_class_key dep_key;
	struct lockdep_map dep_map;
	char dep_name[48];
	struct rcu_head rcu;
};

static unsigned long kbatch_slot_link(u32 next)
{
	return ((unsigned long)next << 1) | 1;
}

static u32 kbatch_slot_next(unsigned long slot)
{
	return slot >> 1;
}

/* The item that owns @slot, or NULL if the slot is on an index list. */
static struct kbatch_pollable *kbatch_slot_item(unsigned long slot)
{
	return (slot & 1) ? NULL : (struct kbatch_pollable *)slot;
}

/*
 * Whether @item owns slot @index of @poller.  @poller and @index are read
 * one after the other from the item, so while the item is re-added
 * (cancelled from one poller, added to another) they may come from two
 * registrations: the old poller with the new index.  That index may lie
 * beyond the old poller's capacity, so it is checked against it (fixed at
 * allocation) before it indexes anything; within it, the slot names its
 * owner, and a pair that passes is the item's current registration.  The
 * caller is in an RCU read-side section, which keeps @poller's memory.
 */
static bool kbatch_poller_owns(struct kbatch_poller *poller,
			       struct kbatch_pollable *item, u32 index)
{
	return index < poller->capacity &&
	       READ_ONCE(poller->slots[index]) == (unsigned long)item;
}

static void kbatch_poller_kick(struct kbatch_poller *poller)
{
	atomic_long_inc(&poller->kicks);
	if (!(poller->flags & KBATCH_POLLER_MANUAL))
		queue_work(system_unbound_wq, &poller->work);
}

/**
 * kbatch_wake() - mark an item for the poller's next cycle
 * @item: a registered item
 *
 * Sets the item's bit in the wake set and kicks the poller only if the set
 * was empty.  Lockless: never spins on a lock the poller holds.  Waking an
 * item many times before its cycle polls it once.  A wake racing with
 * kbatch_poller_cancel() or KBATCH_POLL_DONE may be dropped or served; it
 * never reaches the item after cancel returns.  After kbatch_poller_free()
 * has begun, wakes do nothing; after it has returned, the item must not be
 * woken unless it was cancelled (struct kbatch_pollable).  A wake racing
 * with a re-add of the item, to the same poller or another, marks it in
 * the poller it is added to or in none.
 *
 * Context: any context, hardirq included.
 */
void kbatch_wake(struct kbatch_pollable *item)
{
	struct kbatch_poller *poller;
	u32 index;

	/*
	 * The read-side section that kbatch_poller_free() and index
	 * recycling wait out with a grace period.
	 */
	rcu_read_lock();
	/* Acquire: pairs with the release in kbatch_poller_add(). */
	poller = smp_load_acquire(&item->poller);
	if (poller && !READ_ONCE(poller->dying)) {
		index = READ_ONCE(item->index);
		if (kbatch_poller_owns(poller, item, index) &&
		    kbatch_wakeset_set(&poller->wake, index))
			kbatch_poller_kick(poller);
	}
	rcu_read_unlock();
}
EXPORT_SYMBOL_GPL(kbatch_wake);

/* Put slot @index on the retired list; the poller's lock is held. */
static void kbatch_poller_retire(struct kbatch_poller *poller, u32 index)
{
	lockdep_assert_held(&poller->lock);
	WRITE_ONCE(poller->slots[index], kbatch_slot_link(poller->retired_head));
	poller->retired_head = index;
	WRITE_ONCE(poller->stats.items, poller->stats.items - 1);
}

/**
 * kbatch_poller_add() - register an item with a poller
 * @poller: the poller
 * @item: the item, embedded in the caller's object and not registered
 * @poll: its poll callback
 *
 * The item is polled only after it is woken.  Its slot comes from the
 * capacity fixed at kbatch_poller_alloc(); a slot freed by cancel or
 * KBATCH_POLL_DONE becomes free again after an RCU grace period, at the
 * start of a later cycle.
 *
 * Context: any context but NMI; never sleeps.
 * Return: 0; -ENOSPC if no slot is free; -ESHUTDOWN if the poller is being
 * freed.
 */
int kbatch_poller_add(struct kbatch_poller *poller, struct kbatch_pollable *item,
		      kbatch_poll_fn poll)
{
	unsigned long flags;
	int ret = 0;
	u32 index;

	raw_spin_lock_irqsave(&poller->lock, flags);
	index = poller->free_head;
	if (poller->dying) {
		ret = -ESHUTDOWN;
	} else if (index == KBATCH_NIL) {
		ret = -ENOSPC;
		/* Let a cycle recycle what is retired. */
		if (poller->retired_head != KBATCH_NIL ||
		    poller->waiting_head != KBATCH_NIL)
			kbatch_poller_kick(poller);
	} else {
		poller->free_head = kbatch_slot_next(poller->slots[index]);
		item->poll = poll;
		WRITE_ONCE(item->index, index);
		WRITE_ONCE(poller->slots[index], (unsigned long)item);
		WRITE_ONCE(poller->stats.items, poller->stats.items + 1);
		/* Release: pairs with the acquire in kbatch_wake(). */
		smp_store_release(&item->poller, poller);
	}
	raw_spin_unlock_irqrestore(&poller->lock, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(kbatch_poller_add);

/*
 * Tell lockdep that the caller may now wait for any poll of @poller (see
 * the top of this file); not from a poll of @poller, which waits for none.
 */
static void kbatch_poller_might_wait(struct kbatch_poller *poller)
{
	if (READ_ONCE(poller->running_task) == current)
		return;
	lock_map_acquire(&poller->dep_map);
	lock_map_release(&poller->dep_map);
}

/* Whether @item is not being polled, for kbatch_poller_wait_poll(). */
static bool kbatch_poller_not_polling(struct kbatch_poller *poller,
				      struct kbatch_pollable *item)
{
	/*
	 * Acquire: pairs with the release that ends the poll, so the poll's
	 * accesses to the item come before the caller frees it.
	 */
	return smp_load_acquire(&poller->running) != item;
}

/*
 * Wait until @item is no longer being polled, however long that takes: the
 * caller frees the item next, so giving up would free it under its poll.
 * A poll that takes longer than the poller's timeout gets a warning each
 * time the timeout passes again.
 */
static void kbatch_poller_wait_poll(struct kbatch_poller *poller,
				    struct kbatch_pollable *item)
{
	unsigned long waited = 0;

	while (!wait_event_timeout(poller->idle_wq,
				   kbatch_poller_not_polling(poller, item),
				   poller->timeout)) {
		waited += poller->timeout;
		pr_warn("poller %s: cancel still waiting after %u ms for the poll of item %p to return\n",
			poller->name, jiffies_to_msecs(waited), item);
	}
}

/**
 * kbatch_poller_cancel() - unregister an item, synchronously
 * @item: an item registered with kbatch_poller_add(); cancelling an item
 *	that is done or already cancelled does nothing, as long as its
 *	poller is not freed (an item cancelled once may be cancelled or
 *	woken again after that too)
 *
 * When it returns, the item's poll callback is not running and will never
 * run again, and the caller may free the item.  If the poll is running,
 * it waits for it to return, without limit: a poll that never returns
 * hangs the cancel (with a warning every 10 s) rather than have its item
 * freed under it.  Called from the item's own poll callback it does not
 * wait (returning KBATCH_POLL_DONE is simpler).  It must return before
 * kbatch_poller_free() is called.
 *
 * Context: process context, may sleep; not holding a lock that a poll of
 * the poller takes (lockdep checks it: see the top of this file).
 */
void kbatch_poller_cancel(struct kbatch_pollable *item)
{
	struct kbatch_poller *poller = READ_ONCE(item->poller);
	unsigned long flags;
	bool busy;

	might_sleep();
	if (!poller)
		return;
	kbatch_poller_might_wait(poller);
	raw_spin_lock_irqsave(&poller->lock, flags);
	if (kbatch_poller_owns(poller, item, item->index))
		kbatch_poller_retire(poller, item->index);
	/*
	 * The item leaves the poller for good: a later wake or cancel reads
	 * NULL and never touches the poller, which may be freed by then.  A
	 * wake that read the pointer before is inside rcu_read_lock(),
	 * which kbatch_poller_free()'s grace period waits out.
	 */
	WRITE_ONCE(item->poller, NULL);
	raw_spin_unlock_irqrestore(&poller->lock, flags);
	/*
	 * Full barrier: the slot is retired before @running is read.  Pairs
	 * with the one in kbatch_poller_poll_index() between publishing
	 * @running and re-reading the slot.
	 */
	smp_mb();
	/*
	 * Acquire: pairs with the release that published @running, so
	 * @running_task is the task of that slice.
	 */
	busy = smp_load_acquire(&poller->running) == item &&
	       READ_ONCE(poller->running_task) != current;
	if (busy)
		kbatch_poller_wait_poll(poller, item);
}
EXPORT_SYMBOL_GPL(kbatch_poller_cancel);

/*
 * Store @item in @running, then wake cancellers waiting for the poll that
 * ran before (see the top of this file).
 */
static void kbatch_poller_publish(struct kbatch_poller *poller,
				  struct kbatch_pollable *item)
{
	/*
	 * Release: @running_task is stored before; pairs with the acquire
	 * in kbatch_poller_cancel().
	 */
	smp_store_release(&poller->running, item);
	/*
	 * Full barrier: @running is stored before the loads that follow:
	 * the caller's re-read of the slot (pairs with the barrier in
	 * kbatch_poller_cancel()) and the wait-queue check below.
	 */
	smp_mb();
	/*
	 * Pairs with the barrier in prepare_to_wait_event() of
	 * kbatch_poller_wait_poll(): a canceller queued before our barrier
	 * is seen here, or reads @running after our store.
	 */
	if (waitqueue_active(&poller->idle_wq))
		wake_up_all(&poller->idle_wq);
}

/*
 * Poll the item in slot @index, if the slot still has one; lockless.
 * Returns whether it polled.
 */
static bool kbatch_poller_poll_index(struct kbatch_poller *poller,
				     unsigned long index)
{
	unsigned long slot = READ_ONCE(poller->slots[index]);
	struct kbatch_pollable *item = kbatch_slot_item(slot);
	enum kbatch_poll_ret ret;

	if (!item)
		return false;
	kbatch_poller_publish(poller, item);
	if (READ_ONCE(poller->slots[index]) != slot) {
		/* Cancelled in between: the next publish wakes its waiter. */
		WRITE_ONCE(poller->running, NULL);
		return false;
	}
	lock_map_acquire(&poller->dep_map);
	ret = item->poll(item);
	lock_map_release(&poller->dep_map);
	if (ret == KBATCH_POLL_DONE) {
		raw_spin_lock_irq(&poller->lock);
		if (poller->slots[index] == slot)
			kbatch_poller_retire(poller, index);
		raw_spin_unlock_irq(&poller->lock);
	}
	/*
	 * Release: the poll's accesses to the item come before @running
	 * changes.  Pairs with the acquire in kbatch_poller_wait_poll().
	 */
	smp_store_release(&poller->running, NULL);
	return true;
}

/*
 * Put the indices of list @head on the free list, after clearing their
 * stale bits, from the snapshot just drained and from the shared words:
 * the grace period that ended before this waited out every wake that saw
 * the old owner, so every such bit has landed, but one may sit in a word
 * whose parent is not marked yet (kbatch_wakeset_forget()).
 */
static void kbatch_poller_reclaim(struct kbatch_poller *poller, u32 head)
{
	u32 index = head, tail;

	do {
		kbatch_wakeset_forget(&poller->wake, index);
		tail = index;
		index = kbatch_slot_next(poller->slots[index]);
	} while (index != KBATCH_NIL);

	raw_spin_lock_irq(&poller->lock);
	WRITE_ONCE(poller->slots[tail], kbatch_slot_link(poller->free_head));
	poller->free_head = head;
	raw_spin_unlock_irq(&poller->lock);
}

/*
 * Take the waiting list if its grace period is over, and return it for
 * kbatch_poller_reclaim() (KBATCH_NIL if there is none); if the waiting
 * list is then empty, move the retired list onto it and start its grace
 * period.  The lists are moved only here, in the worker.
 */
static u32 kbatch_poller_take_reclaimable(struct kbatch_poller *poller)
{
	u32 reclaim = KBATCH_NIL, moved = KBATCH_NIL;
	struct rcu_gp_oldstate gp;

	raw_spin_lock_irq(&poller->lock);
	if (poller->waiting_head != KBATCH_NIL &&
	    poll_state_synchronize_rcu_full(&poller->waiting_gp)) {
		reclaim = poller->waiting_head;
		poller->waiting_head = KBATCH_NIL;
	}
	if (poller->waiting_head == KBATCH_NIL) {
		moved = poller->retired_head;
		poller->retired_head = KBATCH_NIL;
	}
	raw_spin_unlock_irq(&poller->lock);

	if (moved != KBATCH_NIL) {
		/* Needs irqs on; the slots of @moved were retired before it. */
		start_poll_synchronize_rcu_full(&gp);
		raw_spin_lock_irq(&poller->lock);
		poller->waiting_head = moved;
		poller->waiting_gp = gp;
		raw_spin_unlock_irq(&poller->lock);
	}
	return reclaim;
}

/* Start a cycle: take the snapshot of every item woken so far. */
static void kbatch_poller_begin_cycle(struct kbatch_poller *poller)
{
	u32 reclaim = kbatch_poller_take_reclaimable(poller);
	unsigned int n;

	n = kbatch_wakeset_drain(&poller->wake);
	if (reclaim != KBATCH_NIL)
		kbatch_poller_reclaim(poller, reclaim);
	WRITE_ONCE(poller->stats.cycles, poller->stats.cycles + 1);
	if (n > poller->stats.largest)
		WRITE_ONCE(poller->stats.largest, n);
	poller->in_cycle = true;
	poller->cycle_polled = 0;
	poller->cycle_slices = 0;
}

/**
 * kbatch_poller_run_slice() - run one slice of the current cycle
 * @poller: the poller
 *
 * Starts a cycle if none is under way, then polls at most the budget of
 * items of its snapshot; none once the poller is dying.  The worker's
 * loop, and a hook for KUnit to run cycles deterministically on a
 * KBATCH_POLLER_MANUAL poller.
 *
 * Context: process context, may sleep; the poller's worker only.
 * Return: true if the cycle has items left for another slice.
 */
bool kbatch_poller_run_slice(struct kbatch_poller *poller)
{
	unsigned int n = 0, polled = 0;
	unsigned long b;

	might_sleep();
	if (!poller->in_cycle)
		kbatch_poller_begin_cycle(poller);
	WRITE_ONCE(poller->running_task, current);
	while (n < poller->budget && !READ_ONCE(poller->dying)) {
		if (!poller->word) {
			poller->word = kbatch_wakeset_take(&poller->wake,
							   &poller->word_base);
			if (!poller->word)
				break;
		}
		b = __ffs(poller->word);
		poller->word &= poller->word - 1;
		polled += kbatch_poller_poll_index(poller, poller->word_base + b);
		n++;
	}
	/* Wake a canceller of the last poll (see the top of this file). */
	kbatch_poller_publish(poller, NULL);
	/* Our cancels and frees from now on may wait, and lockdep sees them. */
	WRITE_ONCE(poller->running_task, NULL);
	WRITE_ONCE(poller->stats.polls, poller->stats.polls + polled);
	poller->cycle_polled += n;
	poller->cycle_slices++;
	poller->in_cycle = poller->word ||
			   !kbatch_wakeset_snap_empty(&poller->wake);
	if (!poller->in_cycle)
		trace_kbatch_poller_cycle(poller->name, poller->cycle_polled,
					  poller->cycle_slices);
	return poller->in_cycle;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_poller_run_slice);

/**
 * kbatch_poller_run_cycle() - run a whole cycle, slice by slice
 * @poller: a KBATCH_POLLER_MANUAL poller
 * @max_slices: give up after this many slices
 *
 * Context: process context, may sleep; not concurrently with itself.
 * Return: the number of slices the cycle took, or 0 if it had not ended
 * after @max_slices (a cycle that never ends is a bug the caller reports).
 */
unsigned int kbatch_poller_run_cycle(struct kbatch_poller *poller,
				     unsigned int max_slices)
{
	unsigned int slices = 1;

	while (kbatch_poller_run_slice(poller)) {
		if (slices++ == max_slices)
			return 0;
		cond_resched();
	}
	return slices;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_poller_run_cycle);

static void kbatch_poller_work(struct work_struct *work)
{
	struct kbatch_poller *poller = container_of(work, struct kbatch_poller, work);

	while (!READ_ONCE(poller->dying) && kbatch_poller_run_slice(poller))
		cond_resched();
}

/**
 * kbatch_poller_get_stats() - read a poller's statistics
 * @poller: the poller
 * @stats: filled in; each field is read once, the set is not atomic
 *
 * Context: any.
 */
void kbatch_poller_get_stats(struct kbatch_poller *poller,
			     struct kbatch_poller_stats *stats)
{
	stats->cycles = READ_ONCE(poller->stats.cycles);
	stats->polls = READ_ONCE(poller->stats.polls);
	stats->largest = READ_ONCE(poller->stats.largest);
	stats->items = READ_ONCE(poller->stats.items);
	stats->kicks = atomic_long_read(&poller->kicks);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_poller_get_stats);

/**
 * kbatch_poller_inject_wake() - set a slot's wake bit, owner or not
 * @poller: the poller
 * @index: the slot
 *
 * Plays a stale kbatch_wake() that passed its ownership check just before
 * the item was cancelled.  For KUnit.
 *
 * Context: any.
 */
void kbatch_poller_inject_wake(struct kbatch_poller *poller, u32 index)
{
	if (kbatch_wakeset_set(&poller->wake, index))
		kbatch_poller_kick(poller);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_poller_inject_wake);

/**
 * kbatch_poller_set_dying_hook() - call @fn when kbatch_poller_kill() has
 *	marked @poller dying, before its grace period
 * @poller: the poller
 * @fn: the hook; it runs in the caller of kbatch_poller_kill() (or of
 *	kbatch_poller_free(), which kills first)
 * @arg: its argument
 *
 * Lets KUnit keep waking items right up to the moment wakes turn into
 * no-ops.  Set it before kbatch_poller_kill() or kbatch_poller_free() is
 * called.
 *
 * Context: any.
 */
void kbatch_poller_set_dying_hook(struct kbatch_poller *poller,
				  void (*fn)(void *arg), void *arg)
{
	poller->dying_hook = fn;
	poller->dying_arg = arg;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_poller_set_dying_hook);

/**
 * kbatch_poller_set_gp_hook() - call @fn when kbatch_poller_free() has to
 *	sleep for the grace period that kbatch_poller_kill() started
 * @poller: the poller
 * @fn: the hook; it runs in the caller of kbatch_poller_free()
 * @arg: its argument
 *
 * Lets KUnit see whether a free waited for a grace period of its own.
 *
 * Context: any; before kbatch_poller_free() is called.
 */
void kbatch_poller_set_gp_hook(struct kbatch_poller *poller,
			       void (*fn)(void *arg), void *arg)
{
	poller->gp_hook = fn;
	poller->gp_arg = arg;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_poller_set_gp_hook);

/**
 * kbatch_poller_set_timeout() - shorten the poller's timeout, for KUnit
 * @poller: the poller
 * @timeout: in jiffies: how long kbatch_poller_free() waits for the worker,
 *	and how often kbatch_poller_cancel() warns while it waits
 *
 * Context: any; before the waits it changes.
 */
void kbatch_poller_set_timeout(struct kbatch_poller *poller,
			       unsigned long timeout)
{
	poller->timeout = timeout;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_poller_set_timeout);

static int kbatch_poller_stats_show(struct seq_file *m, void *unused)
{
	struct kbatch_poller *poller = m->private;
	struct kbatch_poller_stats s;

	kbatch_poller_get_stats(poller, &s);
	seq_printf(m, "capacity: %u\nbudget: %u\nitems: %u\n",
		   poller->capacity, poller->budget, s.items);
	seq_printf(m, "cycles: %llu\npolls: %llu\nlargest_cycle: %llu\nkicks: %llu\n",
		   s.cycles, s.polls, s.largest, s.kicks);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kbatch_poller_stats);

/* /sys/kernel/debug/kbatch/poller-<name>/stats */
static void kbatch_poller_debugfs_init(struct kbatch_poller *poller)
{
	char dname[48];

	snprintf(dname, sizeof(dname), "poller-%s", poller->name);
	poller->debugfs = debugfs_create_dir(dname, kbatch_debugfs_root);
	debugfs_create_file("stats", 0444, poller->debugfs, poller,
			    &kbatch_poller_stats_fops);
}

static void kbatch_poller_destroy(struct kbatch_poller *poller)
{
	debugfs_remove_recursive(poller->debugfs);
	kbatch_wakeset_destroy(&poller->wake);
	kvfree(poller->slots);
	if (poller->name[0])
		lockdep_unregister_key(&poller->dep_key);
	/*
	 * A wake that began after the grace period of kbatch_poller_kill()
	 * had started is not waited for, and reads @dying (set before it,
	 * so the wake does nothing else): the struct outlives it.
	 */
	kfree_rcu(poller, rcu);
}

/* The class of every unnamed poller (see the top of this file). */
static struct lock_class_key kbatch_poller_unnamed_key;

/*
 * The poller's lockdep map: a class of its own, "kbatch_poll:<name>", for
 * a named poller; the shared one for an unnamed poller.
 */
static void kbatch_poller_lockdep_init(struct kbatch_poller *poller)
{
	if (!poller->name[0]) {
		lockdep_init_map(&poller->dep_map, "kbatch_poll:(unnamed)",
				 &kbatch_poller_unnamed_key, 0);
		return;
	}
	snprintf(poller->dep_name, sizeof(poller->dep_name), "kbatch_poll:%s",
		 poller->name);
	lockdep_register_key(&poller->dep_key);
	lockdep_init_map(&poller->dep_map, poller->dep_name, &poller->dep_key,
			 0);
}

static int kbatch_poller_init_slots(struct kbatch_poller *poller)
{
	u32 i;

	poller->slots = kvcalloc(poller->capacity, sizeof(*poller->slots),
				 GFP_KERNEL_ACCOUNT);
	if (!poller->slots)
		return -ENOMEM;
	for (i = 0; i < poller->capacity; i++)
		poller->slots[i] = kbatch_slot_link(i + 1 < poller->capacity ?
						    i + 1 : KBATCH_NIL);
	poller->free_head = 0;
	poller->retired_head = KBATCH_NIL;
	poller->waiting_head = KBATCH_NIL;
	return 0;
}

/**
 * kbatch_poller_alloc_flags() - kbatch_poller_alloc() with flags
 * @name: as for kbatch_poller_alloc()
 * @capacity: as for kbatch_poller_alloc()
 * @budget: as for kbatch_poller_alloc()
 * @flags: 0, or KBATCH_POLLER_MANUAL: no worker; kicks are only counted and
 *	cycles run by kbatch_poller_run_slice() (for KUnit)
 *
 * Context: process context, may sleep.
 * Return: the poller, or an ERR_PTR().
 */
struct kbatch_poller *kbatch_poller_alloc_flags(const char *name,
						unsigned int capacity,
						unsigned int budget,
						unsigned int flags)
{
	struct kbatch_poller *poller;

	might_sleep();
	if (!capacity || capacity > KBATCH_POLLER_MAX_CAPACITY)
		return ERR_PTR(-EINVAL);
	poller = kzalloc(sizeof(*poller), GFP_KERNEL_ACCOUNT);
	if (!poller)
		return ERR_PTR(-ENOMEM);
	strscpy(poller->name, name ?: "", sizeof(poller->name));
	kbatch_poller_lockdep_init(poller);
	poller->capacity = capacity;
	poller->budget = budget ?: KBATCH_POLLER_DEFAULT_BUDGET;
	poller->flags = flags;
	poller->timeout = KBATCH_POLLER_TIMEOUT;
	raw_spin_lock_init(&poller->lock);
	init_waitqueue_head(&poller->idle_wq);
	INIT_WORK(&poller->work, kbatch_poller_work);
	if (kbatch_poller_init_slots(poller) ||
	    kbatch_wakeset_init(&poller->wake, capacity)) {
		kbatch_poller_destroy(poller);
		return ERR_PTR(-ENOMEM);
	}
	if (poller->name[0])
		kbatch_poller_debugfs_init(poller);
	return poller;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_poller_alloc_flags);

/**
 * kbatch_poller_alloc() - create a poller and its worker
 * @name: names the poller in debugfs (kbatch/poller-<name>/stats) and
 *	its lockdep class; NULL (or "") for a poller without a debugfs
 *	folder that shares one class with every other unnamed poller (one
 *	per open file, say: see the top of this file)
 * @capacity: the most items it holds at once, 1 to
 *	KBATCH_POLLER_MAX_CAPACITY; fixed for its life.  Memory is about
 *	8 bytes per slot plus two bits per slot for the wake sets.
 * @budget: the most items polled per slice; 0 for
 *	KBATCH_POLLER_DEFAULT_BUDGET
 *
 * The poller runs its cycles in system_unbound_wq when it is kicked.  Its
 * memory is charged to the caller's memory cgroup (GFP_KERNEL_ACCOUNT).
 *
 * Context: process context, may sleep.
 * Return: the poller, ERR_PTR(-EINVAL) for a bad capacity, or
 * ERR_PTR(-ENOMEM).
 */
struct kbatch_poller *kbatch_poller_alloc(const char *name, unsigned int capacity,
					  unsigned int budget)
{
	return kbatch_poller_alloc_flags(name, capacity, budget, 0);
}
EXPORT_SYMBOL_GPL(kbatch_poller_alloc);

/* Wait, bounded, until the worker is neither queued nor running. */
static bool kbatch_poller_wait_worker(struct kbatch_poller *poller)
{
	unsigned long deadline = jiffies + poller->timeout;

	while (work_busy(&poller->work)) {
		if (time_after(jiffies, deadline))
			return false;
		usleep_range(1000, 2000);
	}
	return true;
}

/**
 * kbatch_poller_kill() - stop a poller's wakes and adds; the first half of
 *	kbatch_poller_free()
 * @poller: the poller
 *
 * Marks the poller dying: kbatch_wake() and kbatch_poller_add() do nothing
 * after it (add fails with -ESHUTDOWN); the poll that is running, if
 * any, finishes, and no other starts.  It starts the RCU grace period that
 * the free must wait for, so a free called once a grace period has passed
 * (from queue_rcu_work(), say) sleeps for none but the polls' own.
 * Killing a poller twice does nothing more.
 *
 * Context: any context with interrupts enabled (process or softirq, locks
 * held or not); never sleeps.
 */
void kbatch_poller_kill(struct kbatch_poller *poller)
{
	unsigned long flags;
	bool was_dying;

	/* start_poll_synchronize_rcu_full() may wake RCU's kthread. */
	lockdep_assert_irqs_enabled();
	raw_spin_lock_irqsave(&poller->lock, flags);
	was_dying = poller->dying;
	WRITE_ONCE(poller->dying, true);
	raw_spin_unlock_irqrestore(&poller->lock, flags);
	if (was_dying)
		return;
	/*
	 * Pairs with rcu_read_lock() in kbatch_wake(): once this grace
	 * period ends, no CPU is inside kbatch_wake() with this poller.
	 */
	start_poll_synchronize_rcu_full(&poller->dying_gp);
	if (poller->dying_hook)
		poller->dying_hook(poller->dying_arg);
}
EXPORT_SYMBOL_GPL(kbatch_poller_kill);

/**
 * kbatch_poller_free() - stop a poller and free it
 * @poller: the poller, or NULL
 *
 * May run while other CPUs wake its items and while a poll runs.  The
 * poller is killed (kbatch_poller_kill()), if it was not, so wakes and
 * adds after that do nothing; the grace period the kill started waits
 * out every CPU inside kbatch_wake(), slept for here unless it has ended;
 * the poll that is running finishes and the worker is flushed; then the
 * memory is freed.  Items still registered are dropped without being
 * polled again; their owners must not cancel them once this has been
 * called, nor wake them once it has returned, nor items that left by
 * KBATCH_POLL_DONE (struct kbatch_pollable).
 *
 * If the worker is still busy after 10 s, it warns and returns false
 * rather than hang or free memory in use: a poll may still be running, so
 * the caller must keep what polls use (its items and what they reach),
 * and the poller, still dying, keeps this module loaded until a later
 * call frees it.  Calling kbatch_poller_free() again is the only use of a
 * poller it has refused to free.
 *
 * Context: process context, may sleep; not from a poll callback of the
 * poller, nor holding a lock that one takes (lockdep checks it: see the
 * top of this file).
 *
 * Return: true if the poller is freed (or @poller is NULL); false if its
 * worker was still busy.
 */
bool kbatch_poller_free(struct kbatch_poller *poller)
{
	might_sleep();
	if (!poller)
		return true;
	kbatch_poller_might_wait(poller);
	kbatch_poller_kill(poller);
	/* The grace period kbatch_poller_kill() started (see there). */
	if (!poll_state_synchronize_rcu_full(&poller->dying_gp)) {
		if (poller->gp_hook)
			poller->gp_hook(poller->gp_arg);
		synchronize_rcu();
	}
	if (!kbatch_poller_wait_worker(poller)) {
		pr_warn("poller %s: worker still busy after %u ms (polling %p), %u items registered; not freed\n",
			poller->name, jiffies_to_msecs(poller->timeout),
			READ_ONCE(poller->running),
			READ_ONCE(poller->stats.items));
		/* The worker runs this module's code: keep it loaded. */
		if (!poller->pinned)
			__module_get(THIS_MODULE);
		poller->pinned = true;
		return false;
	}
	cancel_work_sync(&poller->work);
	if (poller->pinned)
		module_put(THIS_MODULE);
	kbatch_poller_destroy(poller);
	return true;
}
EXPORT_SYMBOL_GPL(kbatch_poller_free);
