/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hierarchical wake bitsets for the kbatch poller.
 *
 * A set of @nbits bits is kept in levels of words: level 0 holds the bits,
 * and bit j of a word at level k+1 says that word j of level k may be
 * non-zero.  The top level is a single word.  Finding the set bits visits
 * only the words on the paths to them, so it costs time in proportion to the
 * bits set times the depth (at most 6 levels for 2^32 bits), never to @nbits.
 *
 * A struct kbatch_wakeset has two sides of the same shape.  The shared side
 * is marked by any CPU, from any context, without a lock.  The snapshot is
 * private to the one consumer: kbatch_wakeset_drain() moves every shared
 * bit into it, then the consumer takes it a leaf word at a time
 * (kbatch_wakeset_take()) and walks that word's bits in a register.
 */
#ifndef _KBATCH_WAKESET_H
#define _KBATCH_WAKESET_H

#include <linux/atomic.h>
#include <linux/types.h>

#define KBATCH_WAKESET_MAX_DEPTH	6

/**
 * struct kbatch_wakeset - a lockless hierarchical bitset and its snapshot
 * @depth: number of levels; level @depth - 1 is one word
 * @shared: the words of each level, level 0 first; set by any CPU
 * @snap: the consumer's snapshot, the same shape; a parent bit may be set
 *	over an empty child word (it is cleared when found so), never the
 *	reverse
 */
struct kbatch_wakeset {
	unsigned int depth;
	atomic_long_t *shared[KBATCH_WAKESET_MAX_DEPTH];
	unsigned long *snap[KBATCH_WAKESET_MAX_DEPTH];
};

int kbatch_wakeset_init(struct kbatch_wakeset *ws, unsigned int nbits);
void kbatch_wakeset_destroy(struct kbatch_wakeset *ws);
bool kbatch_wakeset_set(struct kbatch_wakeset *ws, unsigned int bit);
unsigned int kbatch_wakeset_drain(struct kbatch_wakeset *ws);
unsigned long kbatch_wakeset_take(struct kbatch_wakeset *ws,
				  unsigned long *base);
void kbatch_wakeset_forget(struct kbatch_wakeset *ws, unsigned int bit);
bool kbatch_wakeset_snap_empty(const struct kbatch_wakeset *ws);

#endif /* _KBATCH_WAKESET_H */
