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
 * struct kbatch_wakeset is shared: any CPU sets bits in it, from any
 * context, without a lock.  struct kbatch_wakesnap is private to the
 * poller: kbatch_wakeset_drain() moves every set bit into it, then the
 * poller pops them one at a time.
 */
#ifndef _KBATCH_WAKESET_H
#define _KBATCH_WAKESET_H

#include <linux/atomic.h>
#include <linux/types.h>

#define KBATCH_WAKESET_MAX_DEPTH	6

/**
 * struct kbatch_wakeset - a lockless hierarchical bitset that CPUs mark
 * @depth: number of levels; level @depth - 1 is one word
 * @level: the words of each level, level 0 first
 */
struct kbatch_wakeset {
	unsigned int depth;
	atomic_long_t *level[KBATCH_WAKESET_MAX_DEPTH];
};

/**
 * struct kbatch_wakesnap - a private hierarchical bitset: one snapshot
 * @depth: number of levels, as in the wakeset it is drained from
 * @level: the words of each level; a parent bit may be set over an empty
 *	child word (it is cleared when found so), never the reverse
 */
struct kbatch_wakesnap {
	unsigned int depth;
	unsigned long *level[KBATCH_WAKESET_MAX_DEPTH];
};

int kbatch_wakeset_init(struct kbatch_wakeset *ws, unsigned int nbits);
void kbatch_wakeset_destroy(struct kbatch_wakeset *ws);
bool kbatch_wakeset_set(struct kbatch_wakeset *ws, unsigned int bit);

int kbatch_wakesnap_init(struct kbatch_wakesnap *snap, unsigned int nbits);
void kbatch_wakesnap_destroy(struct kbatch_wakesnap *snap);
unsigned int kbatch_wakeset_drain(struct kbatch_wakeset *ws,
				  struct kbatch_wakesnap *snap);
long kbatch_wakesnap_pop(struct kbatch_wakesnap *snap);
void kbatch_wakesnap_clear(struct kbatch_wakesnap *snap, unsigned int bit);
bool kbatch_wakesnap_empty(const struct kbatch_wakesnap *snap);

#endif /* _KBATCH_WAKESET_H */
