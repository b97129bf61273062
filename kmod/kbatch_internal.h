/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kbatch's private header: what the module's files share with each other
 * and with the KUnit suites in kunit/, and nothing else.
 */
#ifndef _KBATCH_INTERNAL_H
#define _KBATCH_INTERNAL_H

#include <linux/bits.h>
#include <linux/dcache.h>
#include <linux/types.h>
#include <uapi/linux/kbatch.h>

/* chardev.c: /dev/kbatch */
int kbatch_chardev_init(void);
void kbatch_chardev_exit(void);
void kbatch_fill_info(struct kbatch_info *info);

/* kbatch_main.c: the module's debugfs folder, /sys/kernel/debug/kbatch. */
extern struct dentry *kbatch_debugfs_root;

/*
 * poller.c: the deferred-work poller's statistics and its hooks for KUnit.
 */
struct kbatch_poller;

/**
 * struct kbatch_poller_stats - what a poller has done
 * @cycles: cycles started
 * @polls: poll callbacks run
 * @largest: most items in one cycle's snapshot
 * @kicks: times a wake found the wake set empty and kicked the worker
 * @items: items registered now
 */
struct kbatch_poller_stats {
	u64 cycles;
	u64 polls;
	u64 largest;
	u64 kicks;
	u32 items;
};

/* No worker: kicks are only counted; cycles run by kbatch_poller_run_slice(). */
#define KBATCH_POLLER_MANUAL	BIT(0)

struct kbatch_poller *kbatch_poller_alloc_flags(const char *name,
						unsigned int capacity,
						unsigned int budget,
						unsigned int flags);
bool kbatch_poller_run_slice(struct kbatch_poller *poller);
unsigned int kbatch_poller_run_cycle(struct kbatch_poller *poller,
				     unsigned int max_slices);
void kbatch_poller_get_stats(struct kbatch_poller *poller,
			     struct kbatch_poller_stats *stats);
void kbatch_poller_inject_wake(struct kbatch_poller *poller, u32 index);
void kbatch_poller_set_dying_hook(struct kbatch_poller *poller,
				  void (*fn)(void *arg), void *arg);

#endif /* _KBATCH_INTERNAL_H */
