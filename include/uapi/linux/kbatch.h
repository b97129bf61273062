/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kbatch: the user-space ABI of /dev/kbatch.
 *
 * Every structure here has a fixed size and layout on every architecture:
 * only __u8..__u64 fields, no implicit padding, and reserved fields that the
 * caller must zero (the kernel answers -EINVAL otherwise) and the kernel
 * zeroes on the way out.
 */
#ifndef _UAPI_LINUX_KBATCH_H
#define _UAPI_LINUX_KBATCH_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped on any incompatible change; reported by KBATCH_IOC_INFO. */
#define KBATCH_ABI_VERSION	1

/**
 * struct kbatch_info - what KBATCH_IOC_INFO reports
 * @abi_version: KBATCH_ABI_VERSION of the running module
 * @features: KBATCH_FEAT_* bits of what this module offers
 * @possible_cpus: num_possible_cpus(): CPUs that can ever run
 * @online_cpus: num_online_cpus() at the time of the call
 * @reserved: zero
 */
struct kbatch_info {
	__u32 abi_version;
	__u32 features;
	__u32 possible_cpus;
	__u32 online_cpus;
	__u64 reserved[6];
};

/* No feature bits are defined yet: each front end adds its own. */
#define KBATCH_FEAT_ALL		0u

#define KBATCH_IOC_MAGIC	0xBA

/* Fill a struct kbatch_info. */
#define KBATCH_IOC_INFO		_IOR(KBATCH_IOC_MAGIC, 0x00, struct kbatch_info)

#endif /* _UAPI_LINUX_KBATCH_H */
