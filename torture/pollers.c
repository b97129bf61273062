// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_torture: pollers whose items are added, woken, cancelled, finish
 * on their own (KBATCH_POLL_DONE) and are dropped with their poller.
 *
 * A pool of KT_PSLOTS pollers, each with KT_ITEMS items of its own (more
 * than its capacity, so kbatch_poller_add() also meets -ENOSPC).  Items of
 * a poller are only ever added to that poller.  The poll callback checks
 * that it never runs after kbatch_poller_cancel() of its item returned,
 * never after it answered DONE, and never twice at once; it wakes itself
 * or another item now and then.  When a poller is retired, every item
 * still registered is woken once more and must be polled within
 * KT_LIVE_TIMEOUT (a wake is never lost); then some items are cancelled
 * and the poller is freed with the others still registered.
 *
 * Users (kthreads and timers) take a reference on struct kt_poller found
 * under RCU, as in queues.c.
 */
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kbatch.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include "torture.h"

#define KT_PSLOTS	2
#define KT_ITEMS	48
#define KT_USERS_TIMEOUT	(60 * HZ)
#define KT_LIVE_TIMEOUT		(20 * HZ)

struct kt_poller;

/*
 * struct kt_item - one item
 * @p: the kbatch item
 * @tp: its poller
 * @lock: serialises add and cancel of the item
 * @registered: added and not cancelled since (under @lock)
 * @cancelled: set once kbatch_poller_cancel() returned; read by the poll
 * @done: set by the poll that answers KBATCH_POLL_DONE
 * @in_poll: polls running
 * @polls: polls so far
 * @mark: @polls when the retirement woke it, or -1
 */
struct kt_item {
	struct kbatch_pollable p;
	struct kt_poller *tp;
	struct mutex lock;	/* see above */
	bool registered;
	bool cancelled;
	bool done;
	atomic_t in_poll;
	atomic_long_t polls;
	long mark;
};

struct kt_poller {
	struct kbatch_poller *poller;
	refcount_t users;
	struct kt_item items[KT_ITEMS];
};

static struct kt_poller __rcu *kt_pslots[KT_PSLOTS];
static struct mutex kt_pslot_lock[KT_PSLOTS];
static atomic_t kt_poller_names;

static enum kbatch_poll_ret kt_item_poll(struct kbatch_pollable *p)
{
	struct kt_item *it = container_of(p, struct kt_item, p);
	enum kbatch_poll_ret ret = KBATCH_POLL_PENDING;
	u32 r = get_random_u32_below(64);

	if (atomic_inc_return(&it->in_poll) != 1)
		kt_violation("item %td polled twice at once", it - it->tp->items);
	/* Acquire: pairs with the release in kt_item_cancel(). */
	if (smp_load_acquire(&it->cancelled))
		kt_violation("item %td polled after kbatch_poller_cancel() returned",
			     it - it->tp->items);
	if (READ_ONCE(it->done))
		kt_violation("item %td polled after it answered DONE",
			     it - it->tp->items);
	atomic_long_inc(&it->polls);
	kt_count(KT_POLL, 1);
	if (r < 8)
		kbatch_wake(p);
	else if (r < 16)
		kbatch_wake(&it->tp->items[get_random_u32_below(KT_ITEMS)].p);
	else if (r < 18)
		kt_maybe_sleep(500);
	if (r == 63) {
		WRITE_ONCE(it->done, true);
		kt_count(KT_PDONE, 1);
		ret = KBATCH_POLL_DONE;
	}
	atomic_dec(&it->in_poll);
	return ret;
}

static void kt_item_add(struct kt_poller *tp, struct kt_item *it)
{
	int ret;

	mutex_lock(&it->lock);
	if (it->registered && !READ_ONCE(it->done))
		goto out;
	if (it->registered) {
		/* Waits for the poll that answered DONE to return. */
		kbatch_poller_cancel(&it->p);
		it->registered = false;
	}
	WRITE_ONCE(it->done, false);
	WRITE_ONCE(it->cancelled, false);
	ret = kbatch_poller_add(tp->poller, &it->p, kt_item_poll);
	if (!ret) {
		it->registered = true;
		kt_count(KT_PADD, 1);
	} else if (ret == -ENOSPC) {
		kt_count(KT_ENOSPC, 1);
	} else {
		kt_violation("kbatch_poller_add() returned %d", ret);
	}
out:
	mutex_unlock(&it->lock);
}

static void kt_item_cancel(struct kt_item *it)
{
	mutex_lock(&it->lock);
	if (!it->registered)
		goto out;
	kbatch_poller_cancel(&it->p);
	if (atomic_read(&it->in_poll))
		kt_violation("kbatch_poller_cancel() returned while item %td was polled",
			     it - it->tp->items);
	/* Release: pairs with the acquire in kt_item_poll(). */
	smp_store_release(&it->cancelled, true);
	it->registered = false;
	kt_count(KT_PCANCEL, 1);
out:
	mutex_unlock(&it->lock);
}

static struct kt_poller *kt_poller_get(unsigned int slot)
{
	struct kt_poller *tp;

	rcu_read_lock();
	tp = rcu_dereference(kt_pslots[slot]);
	if (tp && !refcount_inc_not_zero(&tp->users))
		tp = NULL;
	rcu_read_unlock();
	return tp;
}

static void kt_poller_put(struct kt_poller *tp)
{
	if (refcount_dec_and_test(&tp->users))
		wake_up_var(&tp->users);
}

/**
 * kt_poller_wake_any() - wake a random item of a random poller
 * @rs: the caller's random state
 *
 * Context: any, hardirq included.
 */
void kt_poller_wake_any(struct rnd_state *rs)
{
	struct kt_poller *tp = kt_poller_get(kt_rand(rs, KT_PSLOTS));

	if (!tp)
		return;
	kbatch_wake(&tp->items[kt_rand(rs, KT_ITEMS)].p);
	kt_count(KT_PWAKE, 1);
	kt_poller_put(tp);
}

/**
 * kt_poller_traffic() - wake, add or cancel a random item
 * @rs: the caller's random state
 *
 * Context: process context, may sleep.
 */
void kt_poller_traffic(struct rnd_state *rs)
{
	struct kt_poller *tp = kt_poller_get(kt_rand(rs, KT_PSLOTS));
	struct kt_item *it;
	unsigned int burst, i;

	if (!tp)
		return;
	it = &tp->items[kt_rand(rs, KT_ITEMS)];
	switch (kt_rand(rs, 4)) {
	case 0:
		kt_item_add(tp, it);
		break;
	case 1:
		kt_item_cancel(it);
		break;
	default:
		burst = 1 + kt_rand(rs, 8);
		for (i = 0; i < burst; i++)
			kbatch_wake(&tp->items[kt_rand(rs, KT_ITEMS)].p);
		kt_count(KT_PWAKE, burst);
		break;
	}
	kt_poller_put(tp);
}

static void kt_poller_destroy(struct kt_poller *tp)
{
	kvfree(tp);
}

static struct kt_poller *kt_poller_create(struct rnd_state *rs)
{
	struct kt_poller *tp = kvzalloc(sizeof(*tp), GFP_KERNEL);
	struct kbatch_poller *poller;
	unsigned int i;
	char name[24];

	if (!tp)
		goto nomem;
	for (i = 0; i < KT_ITEMS; i++) {
		tp->items[i].tp = tp;
		mutex_init(&tp->items[i].lock);
	}
	refcount_set(&tp->users, 1);
	snprintf(name, sizeof(name), "torture%d",
		 atomic_inc_return(&kt_poller_names));
	poller = kbatch_poller_alloc(name, KT_ITEMS / 3 + kt_rand(rs, KT_ITEMS),
				     1 + kt_rand(rs, 16));
	if (IS_ERR(poller)) {
		if (PTR_ERR(poller) != -ENOMEM)
			kt_violation("kbatch_poller_alloc(): %ld", PTR_ERR(poller));
		kt_poller_destroy(tp);
		goto nomem;
	}
	tp->poller = poller;
	kt_count(KT_PGEN, 1);
	return tp;
nomem:
	kt_count(KT_ENOMEM, 1);
	return NULL;
}

/*
 * Wake every item still registered (nobody else adds or cancels now) and
 * wait until each has been polled again or has finished.
 */
static void kt_poller_check_live(struct kt_poller *tp)
{
	unsigned long deadline = jiffies + KT_LIVE_TIMEOUT;
	struct kt_item *it;
	unsigned int i;

	for (i = 0; i < KT_ITEMS; i++) {
		it = &tp->items[i];
		it->mark = -1;
		if (!it->registered || READ_ONCE(it->done))
			continue;
		it->mark = atomic_long_read(&it->polls);
		kbatch_wake(&it->p);
	}
	for (i = 0; i < KT_ITEMS; i++) {
		it = &tp->items[i];
		while (it->mark >= 0 && atomic_long_read(&it->polls) == it->mark &&
		       !READ_ONCE(it->done)) {
			if (time_after(jiffies, deadline)) {
				kt_violation("item %u woken at retirement, not polled in %d s",
					     i, KT_LIVE_TIMEOUT / HZ);
				return;
			}
			usleep_range(500, 1000);
		}
	}
}

static void kt_poller_retire(struct kt_poller *tp, struct rnd_state *rs)
{
	unsigned int i;

	kt_poller_put(tp);
	if (!wait_var_event_timeout(&tp->users, !refcount_read(&tp->users),
				    KT_USERS_TIMEOUT)) {
		kt_violation("poller users still inside after %d s; leaking it",
			     KT_USERS_TIMEOUT / HZ);
		return;
	}
	kt_poller_check_live(tp);
	for (i = 0; i < KT_ITEMS; i++)
		if (!rs || kt_rand(rs, 2))
			kt_item_cancel(&tp->items[i]);
	/* Items still registered are dropped with the poller. */
	kbatch_poller_free(tp->poller);
	synchronize_rcu();
	kt_poller_destroy(tp);
}

static void kt_poller_replace(unsigned int slot, struct rnd_state *rs)
{
	struct kt_poller *old;

	lockdep_assert_held(&kt_pslot_lock[slot]);
	old = rcu_replace_pointer(kt_pslots[slot], NULL,
				  lockdep_is_held(&kt_pslot_lock[slot]));
	if (old)
		kt_poller_retire(old, rs);
	/*
	 * Release: the new struct is initialised before users see it; pairs
	 * with rcu_dereference() in kt_poller_get().
	 */
	if (rs && !READ_ONCE(kt_stopping))
		rcu_assign_pointer(kt_pslots[slot], kt_poller_create(rs));
}

static bool kt_poller_filled(unsigned int slot)
{
	return rcu_access_pointer(kt_pslots[slot]);
}

static struct lock_class_key kt_pslot_key;

/* The pool of pollers, churned by kt_pool_churn() (pool.c). */
const struct kt_pool kt_poller_pool = {
	.n = KT_PSLOTS,
	.lock = kt_pslot_lock,
	.lock_name = "kt_pslot_lock",
	.lock_key = &kt_pslot_key,
	.seed = 0x7f4a,
	.replace = kt_poller_replace,
	.filled = kt_poller_filled,
};
