/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kbatch: the user-space ABI of /dev/kbatch.
 *
 * Every structure here has a fixed size and layout on every architecture:
 * only __u8..__u64 fields, no implicit padding, and reserved fields that the
 * caller must zero (the kernel answers -EINVAL otherwise) and the kernel
 * zeroes on the way out.  The sizes and offsets are checked with
 * static_assert in kmod/chardev.c and in userspace-test/submit_test.c.
 *
 * SUBMITTING OPERATIONS
 *
 * KBATCH_IOC_SUBMIT takes a struct kbatch_submit that points to @nr
 * submission entries (struct kbatch_sqe), 1 to kbatch_info.max_entries of
 * them.  Before anything runs, the kernel copies all of them in and checks
 * all of them: a bad header or entry (unknown flag, nonzero reserved field)
 * is -EINVAL, an entry of an op that needs CAP_SYS_ADMIN from a caller
 * without it is -EPERM, an unreadable array is -EFAULT; in each case
 * nothing has run.  An opcode that names no op is not an error of the
 * submit: that entry completes with -EOPNOTSUPP and the others run.
 *
 * Synchronous (flags 0): the ioctl returns when every entry has completed;
 * one completion entry (struct kbatch_cqe) per submission entry, in the
 * same order, is written to @completions, room for @nr of them.  That room
 * is zeroed before any op runs, so a bad @completions is -EFAULT with
 * nothing run.  Should the copy-out fault after the ops ran anyway (another
 * thread unmapped the room meanwhile), the ioctl returns -EFAULT and @done
 * still tells how many ops ran.
 *
 * Asynchronous (KBATCH_SUBMIT_ASYNC; @completions must be 0): the ioctl
 * returns once the entries are accepted; their completions are read from
 * the file with read(), in whole struct kbatch_cqe, in completion order,
 * and waited for with poll()/select()/epoll (EPOLLIN: at least one
 * completion is ready).  An open file holds at most kbatch_info.cq_entries
 * completions, counting those of accepted ops not yet complete and those
 * not yet read; a submit that would exceed it is -EBUSY with nothing
 * accepted.  read() of fewer than sizeof(struct kbatch_cqe) bytes or of a
 * size that is not a multiple of it is -EINVAL; with O_NONBLOCK and nothing
 * ready it is -EAGAIN; otherwise it waits (interruptibly) for at least one
 * completion and returns as many as fit.  Closing the file with ops in
 * flight is allowed: they complete into nothing.
 *
 * @done: on success, how many entries were taken: all @nr (asynchronous:
 * accepted; synchronous: ran and completed).  A synchronous submit that
 * returns 0 with @done below @nr (the submitter got a fatal signal) ran
 * exactly the first @done entries and none of the rest.  It is set to 0
 * before anything else happens, so an unwritable header is -EFAULT with
 * nothing run.  (Should writing @done back fail after the entries were
 * taken, because the header was unmapped meanwhile, the ioctl returns
 * -EFAULT; asynchronous entries taken still complete into the file.)
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
 * @max_entries: most entries one KBATCH_IOC_SUBMIT takes
 * @cq_entries: most completions an open file holds (asynchronous submit)
 * @reserved: zero
 */
struct kbatch_info {
	__u32 abi_version;
	__u32 features;
	__u32 possible_cpus;
	__u32 online_cpus;
	__u32 max_entries;
	__u32 cq_entries;
	__u64 reserved[5];
};

/* KBATCH_IOC_SUBMIT, synchronous. */
#define KBATCH_FEAT_SUBMIT	(1u << 0)
/* KBATCH_SUBMIT_ASYNC, read() and poll(). */
#define KBATCH_FEAT_ASYNC	(1u << 1)
/* KBATCH_IOC_LOOKUP and ops registered by other modules. */
#define KBATCH_FEAT_LOOKUP	(1u << 2)
/* KBATCH_OP_TIMER. */
#define KBATCH_FEAT_TIMER	(1u << 3)
#define KBATCH_FEAT_ALL		(KBATCH_FEAT_SUBMIT | KBATCH_FEAT_ASYNC | \
				 KBATCH_FEAT_LOOKUP | KBATCH_FEAT_TIMER)

/*
 * Built-in opcodes.  Ops of other modules get opcodes from
 * KBATCH_OP_DYNAMIC up; look them up by name with KBATCH_IOC_LOOKUP.
 *
 * KBATCH_OP_NOP: result 0.
 * KBATCH_OP_ECHO: result args[0].
 * KBATCH_OP_SUM: result the sum of args[0] of every SUM entry of the run
 *	of SUM entries it was run with (a batch; see include/linux/kbatch.h),
 *	the same for each of them, modulo 2^64.
 * KBATCH_OP_TIMER: asynchronous only (-EINVAL synchronously); result 0,
 *	args[0] nanoseconds after it was run, or -EBUSY at once if too many
 *	timers are in flight.  Its completion is posted by kbatch's fair
 *	poller, so it comes after the other completions of its submit.
 */
#define KBATCH_OP_NOP		0
#define KBATCH_OP_ECHO		1
#define KBATCH_OP_SUM		2
#define KBATCH_OP_TIMER		3
#define KBATCH_OP_DYNAMIC	64

/**
 * struct kbatch_sqe - one submission entry
 * @opcode: KBATCH_OP_* or an opcode from KBATCH_IOC_LOOKUP
 * @flags: zero (no entry flags are defined yet)
 * @user_data: echoed in the entry's completion
 * @args: the op's arguments
 * @reserved: zero
 */
struct kbatch_sqe {
	__u32 opcode;
	__u32 flags;
	__u64 user_data;
	__u64 args[4];
	__u64 reserved[2];
};

/**
 * struct kbatch_cqe - one completion entry
 * @user_data: the entry's @user_data
 * @result: the op's result: a value, or a negative errno
 */
struct kbatch_cqe {
	__u64 user_data;
	__s64 result;
};

/* struct kbatch_submit.flags: return once accepted; read() completions. */
#define KBATCH_SUBMIT_ASYNC	(1u << 0)
#define KBATCH_SUBMIT_FLAGS	KBATCH_SUBMIT_ASYNC

/**
 * struct kbatch_submit - the argument of KBATCH_IOC_SUBMIT
 * @entries: user pointer to @nr struct kbatch_sqe
 * @completions: user pointer to room for @nr struct kbatch_cqe
 *	(synchronous), or 0 (asynchronous)
 * @nr: number of entries, 1 to kbatch_info.max_entries
 * @flags: KBATCH_SUBMIT_* bits
 * @done: out: how many entries were taken (see the top of this file)
 * @reserved32: zero
 * @reserved: zero
 */
struct kbatch_submit {
	__u64 entries;
	__u64 completions;
	__u32 nr;
	__u32 flags;
	__u32 done;
	__u32 reserved32;
	__u64 reserved[2];
};

/* Longest op name, its terminating NUL included. */
#define KBATCH_OP_NAME_MAX	32

/* struct kbatch_lookup.op_flags: the op needs CAP_SYS_ADMIN. */
#define KBATCH_LOOKUP_ADMIN	(1u << 0)

/**
 * struct kbatch_lookup - the argument of KBATCH_IOC_LOOKUP
 * @name: in: the op's name, NUL-terminated (-EINVAL if not)
 * @opcode: out: its opcode
 * @op_flags: out: KBATCH_LOOKUP_* bits
 * @reserved: zero
 *
 * -ENOENT if no op has that name.  An opcode stays valid until its op is
 * unregistered; entries that use it afterwards complete with -EOPNOTSUPP
 * (or, if queued when it went, -ESHUTDOWN).
 */
struct kbatch_lookup {
	__u8 name[KBATCH_OP_NAME_MAX];
	__u32 opcode;
	__u32 op_flags;
	__u64 reserved[3];
};

#define KBATCH_IOC_MAGIC	0xBA

/* Fill a struct kbatch_info. */
#define KBATCH_IOC_INFO		_IOR(KBATCH_IOC_MAGIC, 0x00, struct kbatch_info)
/* Submit a batch of operations. */
#define KBATCH_IOC_SUBMIT	_IOWR(KBATCH_IOC_MAGIC, 0x01, struct kbatch_submit)
/* Resolve an op's name to its opcode. */
#define KBATCH_IOC_LOOKUP	_IOWR(KBATCH_IOC_MAGIC, 0x02, struct kbatch_lookup)

#endif /* _UAPI_LINUX_KBATCH_H */
