// SPDX-License-Identifier: GPL-2.0
/*
 * Hierarchical wake bitsets: see wakeset.h.
 *
 * The protocol between kbatch_wakeset_set() and kbatch_wakeset_drain():
 *
 *   set:   fetch_or the bit into its word; only if the word was empty,
 *          fetch_or the word's bit into its parent, and so on up.
 *   drain: xchg the top word with 0, then xchg each child its bits name,
 *          and so on down: a parent is always taken before its children.
 *
 * Both are fully ordered value-returning atomics.  A setter that finds its
 * word non-empty stops: whoever made the word non-empty has marked (or will
 * mark) the parent, or a drain has taken the parent and has yet to take
 * this word.  A drain that takes a word leaves it empty, so the next setter
 * into it marks the parent again.  No bit is ever lost, and the set goes
 * from empty to non-empty exactly when a setter finds the top word empty.
 */
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "wakeset.h"

/* Number of levels for @nbits bits; fills @len with each level's words. */
static unsigned int kbatch_wakeset_levels(unsigned int nbits,
					  unsigned int len[KBATCH_WAKESET_MAX_DEPTH])
{
	unsigned int depth = 0, n = max(nbits, 1u);

	do {
		n = DIV_ROUND_UP(n, BITS_PER_LONG);
		len[depth++] = n;
	} while (n > 1);
	return depth;
}

/**
 * kbatch_wakeset_init() - allocate an empty wake set of @nbits bits
 * @ws: the set
 * @nbits: its capacity, at least 1
 *
 * Allocates both sides, the shared one and the snapshot.
 *
 * Context: process context, may sleep.
 * Return: 0, or -ENOMEM.
 */
int kbatch_wakeset_init(struct kbatch_wakeset *ws, unsigned int nbits)
{
	unsigned int len[KBATCH_WAKESET_MAX_DEPTH];
	unsigned int k;

	memset(ws, 0, sizeof(*ws));
	ws->depth = kbatch_wakeset_levels(nbits, len);
	for (k = 0; k < ws->depth; k++) {
		ws->shared[k] = kvcalloc(len[k], sizeof(atomic_long_t),
					 GFP_KERNEL_ACCOUNT);
		ws->snap[k] = kvcalloc(len[k], sizeof(unsigned long),
				       GFP_KERNEL_ACCOUNT);
		if (!ws->shared[k] || !ws->snap[k]) {
			kbatch_wakeset_destroy(ws);
			return -ENOMEM;
		}
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakeset_init);

/**
 * kbatch_wakeset_destroy() - free a wake set's words
 * @ws: the set; nobody may set bits in it any more
 *
 * Context: process context.
 */
void kbatch_wakeset_destroy(struct kbatch_wakeset *ws)
{
	unsigned int k;

	for (k = 0; k < KBATCH_WAKESET_MAX_DEPTH; k++) {
		kvfree(ws->shared[k]);
		kvfree(ws->snap[k]);
		ws->shared[k] = NULL;
		ws->snap[k] = NULL;
	}
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakeset_destroy);

/**
 * kbatch_wakeset_set() - set one bit
 * @ws: the set
 * @bit: the bit, below the set's capacity
 *
 * Lockless; never spins.
 *
 * Context: any context, hardirq and NMI included.
 * Return: true if the shared side was empty before this call (the caller
 * kicks the consumer), false otherwise.
 */
bool kbatch_wakeset_set(struct kbatch_wakeset *ws, unsigned int bit)
{
	unsigned long idx = bit;
	unsigned int k;

	for (k = 0; k < ws->depth; k++) {
		unsigned long mask = BIT(idx % BITS_PER_LONG);

		idx /= BITS_PER_LONG;
		/*
		 * Fully ordered: this word's bit is visible before the parent's
		 * bit set on the next turn.  Pairs with the xchg of the parent
		 * before the child in kbatch_wakeset_drain_word().
		 */
		if (atomic_long_fetch_or(mask, &ws->shared[k][idx]))
			return false;
	}
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakeset_set);

/*
 * Take shared word @idx of level @k and everything below it into the
 * snapshot; returns the bits it stored at that level (its children that
 * held bits) and adds the number of new leaf bits to @count.  Recursion is
 * bounded by the depth.
 */
static unsigned long kbatch_wakeset_drain_word(struct kbatch_wakeset *ws,
					       unsigned int k, unsigned long idx,
					       unsigned int *count)
{
	/*
	 * Fully ordered: the parent is taken before the children below.
	 * Pairs with the fetch_or of the child before the parent in
	 * kbatch_wakeset_set().
	 */
	unsigned long w = atomic_long_xchg(&ws->shared[k][idx], 0);
	unsigned long found = 0, b;

	if (k == 0) {
		*count += hweight_long(w & ~ws->snap[0][idx]);
		ws->snap[0][idx] |= w;
		return w;
	}
	for_each_set_bit(b, &w, BITS_PER_LONG)
		if (kbatch_wakeset_drain_word(ws, k - 1, idx * BITS_PER_LONG + b,
					      count))
			found |= BIT(b);
	ws->snap[k][idx] |= found;
	return found;
}

/**
 * kbatch_wakeset_drain() - move every shared bit into the snapshot
 * @ws: the set; bits set while this runs land in the snapshot or stay
 *	shared for the next drain
 *
 * Takes each non-empty word with one xchg, as sbitmap_deferred_clear()
 * does; visits only the words on the paths to set bits.
 *
 * Context: any; the consumer only (one drain of a set at a time).
 * Return: the number of bits added to the snapshot.
 */
unsigned int kbatch_wakeset_drain(struct kbatch_wakeset *ws)
{
	unsigned int count = 0;

	if (atomic_long_read(&ws->shared[ws->depth - 1][0]))
		kbatch_wakeset_drain_word(ws, ws->depth - 1, 0, &count);
	return count;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakeset_drain);

/*
 * Take the lowest non-empty leaf word under snapshot word @idx of level
 * @k, whole; 0 if there is none.  Parent bits found over empty children,
 * or emptied by the take, are cleared on the way back up.
 */
static unsigned long kbatch_wakeset_take_word(struct kbatch_wakeset *ws,
					      unsigned int k, unsigned long idx,
					      unsigned long *base)
{
	unsigned long *w = &ws->snap[k][idx], bits;

	if (k == 0) {
		bits = *w;
		*w = 0;
		*base = idx * BITS_PER_LONG;
		return bits;
	}
	while (*w) {
		unsigned long b = __ffs(*w);
		unsigned long child = idx * BITS_PER_LONG + b;

		bits = kbatch_wakeset_take_word(ws, k - 1, child, base);
		if (!ws->snap[k - 1][child])
			*w &= ~BIT(b);
		if (bits)
			return bits;
	}
	return 0;
}

/**
 * kbatch_wakeset_take() - take the snapshot's lowest non-empty leaf word
 * @ws: the set
 * @base: set to the bit number of the word's bit 0
 *
 * The caller walks the returned bits itself (__ffs(), then w &= w - 1):
 * one descent of the levels serves up to BITS_PER_LONG bits.
 *
 * Context: the consumer only.
 * Return: the word's bits, now cleared from the snapshot; 0 if the
 * snapshot is empty.
 */
unsigned long kbatch_wakeset_take(struct kbatch_wakeset *ws,
				  unsigned long *base)
{
	return kbatch_wakeset_take_word(ws, ws->depth - 1, 0, base);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakeset_take);

/**
 * kbatch_wakeset_forget() - clear one bit, on both sides
 * @ws: the set
 * @bit: the bit, which no setter may set any more (a setter that still
 *	could would set it again); its parents are left as they are
 *
 * Clears the bit from the snapshot and from the shared leaf word.  The
 * shared side matters when the bit's setter found its word non-empty and
 * stopped, and the one that made the word non-empty has yet to mark the
 * parent: no drain reaches the word until it does, so the bit would
 * outlive this call and reach whoever the bit stands for next.  A shared
 * word left empty under a marked parent is harmless (a drain takes 0), and
 * the next setter into it marks the parent again: the protocol at the top
 * of this file holds.  Parents in the snapshot are settled by
 * kbatch_wakeset_take().
 *
 * Context: the consumer only.
 */
void kbatch_wakeset_forget(struct kbatch_wakeset *ws, unsigned int bit)
{
	unsigned long word = bit / BITS_PER_LONG, mask = BIT(bit % BITS_PER_LONG);

	/* An RMW, as the setters' fetch_or into the same word is. */
	atomic_long_andnot(mask, &ws->shared[0][word]);
	ws->snap[0][word] &= ~mask;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakeset_forget);

/**
 * kbatch_wakeset_snap_empty() - whether the snapshot may hold bits
 * @ws: the set
 *
 * Context: the consumer only.
 * Return: true if it is empty; false if it holds bits or only parent bits
 * over cleared ones (the next kbatch_wakeset_take() then returns 0).
 */
bool kbatch_wakeset_snap_empty(const struct kbatch_wakeset *ws)
{
	return !ws->snap[ws->depth - 1][0];
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakeset_snap_empty);
