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
		ws->level[k] = kvcalloc(len[k], sizeof(atomic_long_t),
					GFP_KERNEL_ACCOUNT);
		if (!ws->level[k]) {
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
		kvfree(ws->level[k]);
		ws->level[k] = NULL;
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
 * Return: true if the set was empty before this call (the caller kicks the
 * consumer), false otherwise.
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
		if (atomic_long_fetch_or(mask, &ws->level[k][idx]))
			return false;
	}
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakeset_set);

/*
 * Take word @idx of level @k and everything below it into @snap; returns
 * the bits it stored at that level (its children that held bits) and adds
 * the number of new leaf bits to @count.  Recursion is bounded by the depth.
 */
static unsigned long kbatch_wakeset_drain_word(struct kbatch_wakeset *ws,
					       struct kbatch_wakesnap *snap,
					       unsigned int k, unsigned long idx,
					       unsigned int *count)
{
	/*
	 * Fully ordered: the parent is taken before the children below.
	 * Pairs with the fetch_or of the child before the parent in
	 * kbatch_wakeset_set().
	 */
	unsigned long w = atomic_long_xchg(&ws->level[k][idx], 0);
	unsigned long found = 0, b;

	if (k == 0) {
		*count += hweight_long(w & ~snap->level[0][idx]);
		snap->level[0][idx] |= w;
		return w;
	}
	for_each_set_bit(b, &w, BITS_PER_LONG)
		if (kbatch_wakeset_drain_word(ws, snap, k - 1,
					      idx * BITS_PER_LONG + b, count))
			found |= BIT(b);
	snap->level[k][idx] |= found;
	return found;
}

/**
 * kbatch_wakeset_drain() - move every set bit of @ws into @snap
 * @ws: the shared set; bits set while this runs land in @snap or stay in
 *	@ws for the next drain
 * @snap: the private snapshot, of the same capacity
 *
 * Takes each non-empty word with one xchg, as sbitmap_deferred_clear()
 * does; visits only the words on the paths to set bits.
 *
 * Context: any; only one drain of a set may run at a time.
 * Return: the number of bits added to @snap.
 */
unsigned int kbatch_wakeset_drain(struct kbatch_wakeset *ws,
				  struct kbatch_wakesnap *snap)
{
	unsigned int count = 0;

	if (atomic_long_read(&ws->level[ws->depth - 1][0]))
		kbatch_wakeset_drain_word(ws, snap, ws->depth - 1, 0, &count);
	return count;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakeset_drain);

/**
 * kbatch_wakesnap_init() - allocate an empty snapshot of @nbits bits
 * @snap: the snapshot
 * @nbits: its capacity, as the wake set's
 *
 * Context: process context, may sleep.
 * Return: 0, or -ENOMEM.
 */
int kbatch_wakesnap_init(struct kbatch_wakesnap *snap, unsigned int nbits)
{
	unsigned int len[KBATCH_WAKESET_MAX_DEPTH];
	unsigned int k;

	memset(snap, 0, sizeof(*snap));
	snap->depth = kbatch_wakeset_levels(nbits, len);
	for (k = 0; k < snap->depth; k++) {
		snap->level[k] = kvcalloc(len[k], sizeof(unsigned long),
					  GFP_KERNEL_ACCOUNT);
		if (!snap->level[k]) {
			kbatch_wakesnap_destroy(snap);
			return -ENOMEM;
		}
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakesnap_init);

/**
 * kbatch_wakesnap_destroy() - free a snapshot's words
 * @snap: the snapshot
 *
 * Context: process context.
 */
void kbatch_wakesnap_destroy(struct kbatch_wakesnap *snap)
{
	unsigned int k;

	for (k = 0; k < KBATCH_WAKESET_MAX_DEPTH; k++) {
		kvfree(snap->level[k]);
		snap->level[k] = NULL;
	}
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakesnap_destroy);

/* Pop the lowest bit under word @idx of level @k; -1 if there is none. */
static long kbatch_wakesnap_pop_word(struct kbatch_wakesnap *snap,
				     unsigned int k, unsigned long idx)
{
	unsigned long *w = &snap->level[k][idx];

	while (*w) {
		unsigned long b = __ffs(*w);
		unsigned long child = idx * BITS_PER_LONG + b;
		long bit;

		if (k == 0) {
			*w &= ~BIT(b);
			return child;
		}
		bit = kbatch_wakesnap_pop_word(snap, k - 1, child);
		/* Clear a parent bit whose child is (now) empty. */
		if (!snap->level[k - 1][child])
			*w &= ~BIT(b);
		if (bit >= 0)
			return bit;
	}
	return -1;
}

/**
 * kbatch_wakesnap_pop() - take the lowest set bit of a snapshot
 * @snap: the snapshot
 *
 * Context: the snapshot's owner only.
 * Return: the bit, cleared, or -1 if the snapshot is empty.
 */
long kbatch_wakesnap_pop(struct kbatch_wakesnap *snap)
{
	return kbatch_wakesnap_pop_word(snap, snap->depth - 1, 0);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakesnap_pop);

/**
 * kbatch_wakesnap_clear() - clear one bit of a snapshot
 * @snap: the snapshot
 * @bit: the bit; its parents are left for kbatch_wakesnap_pop() to settle
 *
 * Context: the snapshot's owner only.
 */
void kbatch_wakesnap_clear(struct kbatch_wakesnap *snap, unsigned int bit)
{
	__clear_bit(bit % BITS_PER_LONG, &snap->level[0][bit / BITS_PER_LONG]);
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakesnap_clear);

/**
 * kbatch_wakesnap_empty() - whether a snapshot may hold bits
 * @snap: the snapshot
 *
 * Context: the snapshot's owner only.
 * Return: true if it is empty; false if it holds bits or only parent bits
 * over cleared ones (the next kbatch_wakesnap_pop() then returns -1).
 */
bool kbatch_wakesnap_empty(const struct kbatch_wakesnap *snap)
{
	return !snap->level[snap->depth - 1][0];
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_wakesnap_empty);
