// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_torture: a pool of slots, each holding an RCU-published object
 * (a queue, a poller) that churn retires and replaces under the slot's
 * mutex while users look it up under rcu_read_lock().  What an object is,
 * and how it is retired and created, is the owner's replace() callback
 * (queues.c, pollers.c); this file only walks the slots.
 */
#include <linux/mutex.h>

#include "torture.h"

/**
 * kt_pool_churn() - retire the object of a random slot and put a new one
 * @pool: the pool
 * @rs: the caller's random state
 *
 * A slot being replaced by another thread is left alone.
 *
 * Context: process context, may sleep.
 */
void kt_pool_churn(const struct kt_pool *pool, struct rnd_state *rs)
{
	unsigned int slot = kt_rand(rs, pool->n);

	if (!mutex_trylock(&pool->lock[slot]))
		return;
	pool->replace(slot, rs);
	mutex_unlock(&pool->lock[slot]);
}

/**
 * kt_pool_init() - fill every slot
 * @pool: the pool
 *
 * Context: process context, may sleep.
 *
 * Return: 0, or -ENOMEM if an object could not be allocated (the slots
 * filled stay filled; kt_pool_exit() empties them).
 */
int kt_pool_init(const struct kt_pool *pool)
{
	struct rnd_state rs;
	unsigned int slot;
	int ret = 0;

	kt_rand_init(&rs, pool->seed);
	for (slot = 0; slot < pool->n; slot++) {
		__mutex_init(&pool->lock[slot], pool->lock_name,
			     pool->lock_key);
		mutex_lock(&pool->lock[slot]);
		pool->replace(slot, &rs);
		if (!pool->filled(slot))
			ret = -ENOMEM;
		mutex_unlock(&pool->lock[slot]);
	}
	return ret;
}

/**
 * kt_pool_exit() - retire every slot's object, leaving the slots empty
 * @pool: the pool
 *
 * Context: process context, may sleep; after every user has stopped.
 */
void kt_pool_exit(const struct kt_pool *pool)
{
	unsigned int slot;

	for (slot = 0; slot < pool->n; slot++) {
		mutex_lock(&pool->lock[slot]);
		pool->replace(slot, NULL);
		mutex_unlock(&pool->lock[slot]);
	}
}
