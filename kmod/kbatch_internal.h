/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kbatch's private header: what the module's files share with each other
 * and with the KUnit suites in kunit/, and nothing else.
 */
#ifndef _KBATCH_INTERNAL_H
#define _KBATCH_INTERNAL_H

#include <linux/dcache.h>
#include <uapi/linux/kbatch.h>

/* chardev.c: /dev/kbatch */
int kbatch_chardev_init(void);
void kbatch_chardev_exit(void);
void kbatch_fill_info(struct kbatch_info *info);

/* kbatch_main.c: the module's debugfs folder, /sys/kernel/debug/kbatch. */
extern struct dentry *kbatch_debugfs_root;

#endif /* _KBATCH_INTERNAL_H */
