/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kbatch: the user-space ABI of /dev/kbatch.
 *
 * Every structure here has a fixed size and layout on every architecture:
 * only __u8..__u64 fields, no implicit padding, and reserved fields that the
 * caller must zero (the kernel answers -EINVAL otherwise) and the kernel
 * zeroes on the way out.  The sizes and offsets are checked with
 * static_assert in kmod/dev/chardev.c and in userspace-test/submit_test.c.
 *
 * THE OPEN FILE
 *
 * Each open file is a submission context of its own, like an io_uring
 * instance: the entries of one file are never batched, run or completed
 * together with another file's, so nothing one file submits changes the
 * results of another or makes it wait.  (The one exception is an op whose
 * provider asks for batches across files; KBATCH_IOC_LOOKUP reports it
 * with KBATCH_LOOKUP_SHARED.  No built-in op does.)  What a file starts is bounded per
 * file (kbatch_info: @max_entries per submit, @cq_entries completions,
 * @max_timers timers), charged to the memory cgroup of the task whose
 * call allocates it (the submitter, for what a submit needs), and ends
 * with the file: once it is closed, its timers are cancelled, every
 * completion not read is dropped and its memory freed (in the background,
 * within moments, and always before the module can be unloaded).  Threads
 * sharing one file share its limits.
 *
 * SUBMITTING OPERATIONS
 *
 * KBATCH_IOC_SUBMIT takes a struct kbatch_submit that points to @nr
 * submission entries (struct kbatch_sqe), 1 to kbatch_info.max_entries of
 * them.  @done is set to 0 before anything else happens, so an unwritable
 * header is -EFAULT with nothing run.  Then the header is checked (unknown
 * flag, nonzero reserved field, @nr of 0 or above max_entries, @completions
 * given with KBATCH_SUBMIT_ASYNC: -EINVAL), every entry is copied in once
 * (an unreadable array: -EFAULT) and every entry is checked (unknown flag,
 * nonzero reserved field, an op marked asynchronous-only in a synchronous
 * submit: -EINVAL; an op that needs CAP_SYS_ADMIN from a caller without
 * it: -EPERM); in each of these cases nothing has run.  No memory for
 * the submit's copy of its entries (or, for the file's first asynchronous
 * submit, for its completion queue) is -ENOMEM, with nothing run either.
 * An opcode that names no op is not an error of the submit: that entry
 * completes with -EOPNOTSUPP and the others run.
 *
 * The submitting thread runs the entries itself, in order: each maximal
 * run of consecutive entries of one op goes to that op's handler in one
 * call (a batch), so a provider pays its locking once per run.
 *
 * Synchronous (flags 0): the ioctl returns when every entry has completed;
 * one completion entry (struct kbatch_cqe) per submission entry, in the
 * same order, is written to @completions, room for @nr of them.  A room
 * at address 0, or not in the user address space at all (of a 64-bit
 * process: in a 32-bit one, a room past 4 GiB is found bad only when it is
 * written), is -EFAULT before anything runs; otherwise the room is written
 * only after the entries ran, so a
 * room that faults (not mapped, read-only, or unmapped meanwhile by
 * another thread) is -EFAULT with the entries run and @done telling how
 * many.  A fatal signal stops the
 * submit between two runs: it returns with @done below @nr, having run
 * exactly the first @done entries and none of the rest.  (A run of an op
 * that batches across files, KBATCH_LOOKUP_SHARED, that the signal stops
 * while it waits to join a batch completes with -EINTR and is counted in
 * @done.)
 *
 * Asynchronous (KBATCH_SUBMIT_ASYNC; @completions must be 0): the entries
 * run the same way, and their completions go to the file's completion
 * queue instead; those of ops that complete at once (every built-in op
 * but TIMER) are in it when the ioctl returns, those of deferred ops
 * (TIMER) follow later.  Completions are read from the file with read(),
 * in whole struct kbatch_cqe, in completion order, and waited for with
 * poll()/select()/epoll (EPOLLIN: at least one completion is ready).  An
 * open file holds at most kbatch_info.cq_entries completions, counting
 * those of accepted ops not yet complete and those not yet read; a submit
 * that would exceed it is -EBUSY with nothing accepted.  read() of fewer
 * than sizeof(struct kbatch_cqe) bytes or of a size that is not a
 * multiple of it is -EINVAL; with O_NONBLOCK and nothing ready it is
 * -EAGAIN (it may still wait, interruptibly, for another read() of the
 * same file to finish copying out); otherwise it waits (interruptibly) for
 * at least one completion and returns as many as fit.  A thread with a fatal signal pending still
 * has every entry of its asynchronous submit accepted, but those not run
 * yet complete with -ECANCELED instead of running.  Closing the file with
 * ops in flight is allowed: they are cancelled or complete into nothing.
 *
 * @done: on success, how many entries were taken: all @nr (asynchronous:
 * accepted; synchronous: ran and completed), or fewer after a fatal
 * signal as above.  (Should writing @done back fail after the entries
 * were taken, because the header was unmapped meanwhile, the ioctl
 * returns -EFAULT; asynchronous entries taken still complete into the
 * file.)
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
 * @max_timers: most KBATCH_OP_TIMER entries one open file has in flight
 * @reserved32: zero
 * @timer_max_ns: longest KBATCH_OP_TIMER delay, in nanoseconds
 * @reserved: zero
 */
struct kbatch_info {
	__u32 abi_version;
	__u32 features;
	__u32 possible_cpus;
	__u32 online_cpus;
	__u32 max_entries;
	__u32 cq_entries;
	__u32 max_timers;
	__u32 reserved32;
	__u64 timer_max_ns;
	__u64 reserved[3];
};

/* KBATCH_IOC_SUBMIT, synchronous. */
#define KBATCH_FEAT_SUBMIT	(1u << 0)
/* KBATCH_SUBMIT_ASYNC, read() and poll(). */
#define KBATCH_FEAT_ASYNC	(1u << 1)
/* KBATCH_IOC_LOOKUP and ops registered by other modules. */
#define KBATCH_FEAT_LOOKUP	(1u << 2)
/* KBATCH_OP_TIMER. */
#define KBATCH_FEAT_TIMER	(1u << 3)
/* KBATCH_URING_CMD through io_uring. */
#define KBATCH_FEAT_URING	(1u << 4)
/* ... including KBATCH_OP_TIMER (kernels that cancel io_uring commands). */
#define KBATCH_FEAT_URING_TIMER	(1u << 5)

/*
 * Built-in opcodes.  Ops of other modules get opcodes from
 * KBATCH_OP_DYNAMIC up; look them up by name with KBATCH_IOC_LOOKUP.
 *
 * KBATCH_OP_NOP: result 0.
 * KBATCH_OP_ECHO: result args[0].
 * KBATCH_OP_SUM: result the sum of args[0] of every entry of its run (the
 *	maximal sequence of consecutive SUM entries of its submit that
 *	contains it), the same for each of them, modulo 2^64.
 * KBATCH_OP_TIMER: asynchronous only (-EINVAL synchronously); result 0,
 *	args[0] nanoseconds after it was run.  It completes at once with
 *	-EINVAL if args[0] is above kbatch_info.timer_max_ns, with -EBUSY
 *	if its file already has kbatch_info.max_timers timers in flight (or,
 *	rarely, just after it had: a finished timer's place is reused after
 *	an RCU grace period), and with -ENOMEM without memory.  Its
 *	completion is posted by kbatch's fair poller, after the other
 *	completions of its submit, those of TIMER entries that fail at once
 *	included.
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
/* ... the op is asynchronous only (-EINVAL in a synchronous submit). */
#define KBATCH_LOOKUP_ASYNC	(1u << 1)
/*
 * ... the op's entries from different open files may share one batch:
 * its handler sees them together, so they can see each other's effects
 * (a SUM-like op would mix their inputs), and a submit may wait, not
 * interruptibly, for another file's submitter that leads the batch.
 */
#define KBATCH_LOOKUP_SHARED	(1u << 2)

/**
 * struct kbatch_lookup - the argument of KBATCH_IOC_LOOKUP
 * @name: in: the op's name, NUL-terminated (-EINVAL if not)
 * @opcode: out: its opcode
 * @op_flags: out: KBATCH_LOOKUP_* bits
 * @reserved: zero
 *
 * -ENOENT if no op has that name.  An opcode stays valid until its op is
 * unregistered; entries that use it afterwards complete with -EOPNOTSUPP
 * (or, if queued when it went, -ESHUTDOWN), until an op registered later
 * gets the same opcode: opcodes are handed out in turn, so a freed one is
 * reused only once every other free one was, but it is reused.  An entry
 * whose opcode changed op between the checks of its submit and its run
 * completes with -EPERM if the new op needs CAP_SYS_ADMIN and the
 * submitter lacks it, with -EINVAL if it is asynchronous-only and the
 * submit synchronous, else it runs the new op.
 */
struct kbatch_lookup {
	__u8 name[KBATCH_OP_NAME_MAX];
	__u32 opcode;
	__u32 op_flags;
	__u64 reserved[3];
};

/*
 * IO_URING
 *
 * /dev/kbatch also takes its entries as IORING_OP_URING_CMD commands from
 * an io_uring set up with IORING_SETUP_SQE128 (the command area holds 80
 * bytes): the io_uring SQE's @fd is an open /dev/kbatch, its @cmd_op
 * KBATCH_URING_CMD and its command area one struct kbatch_sqe, whose
 * @user_data must be 0 (io_uring's own user_data identifies the command),
 * followed by 16 reserved bytes that must be 0 (KBATCH_URING_CMD_AREA).
 * Each command completes with one io_uring CQE: @res is the entry's
 * result, or kbatch's error for a command it refused (below), if it fits
 * in 32 bits, else -EOVERFLOW; on a ring set up with IORING_SETUP_CQE32
 * the whole 64-bit result or error is in big_cqe[0].  (A command io_uring
 * fails before kbatch sees it, a bad @fd say, has its error in @res only:
 * read big_cqe[0] when @res is -EOVERFLOW.)
 *
 * The kbatch commands one task submits on one open file through one ring
 * are gathered until io_uring runs that task's task work, which it does
 * once io_uring_enter() is done submitting (on a ring set up with
 * IORING_SETUP_DEFER_TASKRUN, only when the task waits for completions,
 * so commands of several io_uring_enter() calls may gather), and at most
 * KBATCH_URING_BATCH together, in at most KBATCH_URING_FILE_BATCHES such
 * batches per file (a command that would need one more completes with
 * -EBUSY); then they run as one submit of that file, in that task (if the
 * task is exiting by then, they complete with -ECANCELED instead): each
 * run of consecutive commands of one op reaches its handler in one
 * call, as with KBATCH_IOC_SUBMIT, and the same rules hold: commands of
 * two open files, or of two tasks, never share a batch, and a file's
 * limits (timers) count its commands too.  A longer sequence, or one cut
 * because more than eight (ring, task) pairs submit to the file at once
 * (each has a batch of its own open, up to eight), reaches its handler in
 * several calls (KBATCH_OP_SUM then sums each part).
 *
 * A command that cannot be taken completes at once with a negative @res:
 * -EINVAL (ring without SQE128; a flag, a reserved field or @user_data of
 * the kbatch_sqe set, or a byte of the command area after it), -EPERM
 * (an op that needs CAP_SYS_ADMIN), -ENOTTY (another @cmd_op),
 * -EOPNOTSUPP (KBATCH_OP_TIMER on a kernel that cannot cancel io_uring
 * commands, before Linux 6.7: see KBATCH_FEAT_URING_TIMER), -EAGAIN (no
 * memory to queue it now), -EBUSY (the file's batches, above).  An
 * opcode that names no op completes with -EOPNOTSUPP too, and so does
 * every command on a ring set up with IORING_SETUP_IOPOLL (io_uring's
 * answer: /dev/kbatch does not poll for completions).  TIMER commands
 * complete later; tearing the ring down, or the task exiting, cancels
 * those still pending (-ECANCELED).
 */
#define KBATCH_IOC_MAGIC	0xBA

/* io_uring_sqe.cmd_op of a kbatch command. */
#define KBATCH_URING_CMD	_IOWR(KBATCH_IOC_MAGIC, 0x10, struct kbatch_sqe)
/* Bytes of an SQE128 command area: one struct kbatch_sqe, then zeros. */
#define KBATCH_URING_CMD_AREA	80
/* Most commands of one io_uring batch. */
#define KBATCH_URING_BATCH	256
/* Most io_uring batches of one open file at a time (IO_URING above). */
#define KBATCH_URING_FILE_BATCHES	64

/* Fill a struct kbatch_info. */
#define KBATCH_IOC_INFO		_IOR(KBATCH_IOC_MAGIC, 0x00, struct kbatch_info)
/* Submit a batch of operations. */
#define KBATCH_IOC_SUBMIT	_IOWR(KBATCH_IOC_MAGIC, 0x01, struct kbatch_submit)
/* Resolve an op's name to its opcode. */
#define KBATCH_IOC_LOOKUP	_IOWR(KBATCH_IOC_MAGIC, 0x02, struct kbatch_lookup)

#endif /* _UAPI_LINUX_KBATCH_H */
