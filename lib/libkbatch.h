/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libkbatch: submit batches of operations to /dev/kbatch.
 *
 * A small C library over the ABI of <linux/kbatch.h> (the uapi header,
 * whose top comment is the contract), shaped like liburing: open a
 * handle, prepare entries, submit them synchronously or asynchronously,
 * and wait for, peek at or reap completions.  <libkbatch-uring.h> adds
 * helpers to submit kbatch entries through an io_uring of liburing.
 *
 * Errors: every function that can fail returns a negative errno (as
 * liburing does); no function changes errno (each restores it after its
 * system calls), and nothing is printed.
 *
 * Threads: a struct kbatch is written only by kbatch_open() and
 * kbatch_close(); every other function only reads it and makes system
 * calls, so any number of threads may use one handle at once.  Entries
 * of concurrent submits on one handle run separately, each in its own
 * caller; completions of asynchronous submits on one handle share its
 * completion queue, and each one is returned to exactly one reader.
 *
 * Link with -lkbatch (pkg-config --libs libkbatch).
 */
#ifndef LIBKBATCH_H
#define LIBKBATCH_H

#include <stddef.h>
#include <string.h>
#include <linux/kbatch.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct kbatch - an open /dev/kbatch
 * @fd: its file descriptor (O_NONBLOCK), for poll()/epoll or io_uring
 * @info: what KBATCH_IOC_INFO reported when it was opened
 */
struct kbatch {
	int fd;
	struct kbatch_info info;
};

/*
 * kbatch_open() - open /dev/kbatch (or @path, if not NULL) and read its
 * info into @kb->info.  @flags: 0, or further open() flags (O_CLOEXEC and
 * O_NONBLOCK are always set).  The library relies on O_NONBLOCK so that
 * no read() of completions waits when threads share the handle:
 * kbatch_peek_cqes() and kbatch_wait_cqes() set it again on @kb->fd if it
 * was cleared (do not clear it while they run).
 * Returns 0, or -errno from open() or the info ioctl (-ENOENT: kbatch is
 * not loaded; -EACCES: no permission on the device).
 */
int kbatch_open(struct kbatch *kb, const char *path, int flags);

/* kbatch_close() - close the handle; entries in flight are dropped. */
void kbatch_close(struct kbatch *kb);

/*
 * kbatch_lookup() - the opcode of the op named @name, and its
 * KBATCH_LOOKUP_* flags in *@op_flags if not NULL.  Returns the opcode
 * (>= 0), -ENOENT if no op has that name, -EINVAL if @name is longer
 * than KBATCH_OP_NAME_MAX - 1.
 */
int kbatch_lookup(struct kbatch *kb, const char *name, __u32 *op_flags);

/*
 * kbatch_prep() - fill @sqe for op @opcode with arguments @a0 and @a1
 * (the others zero) and @user_data; flags and reserved fields zeroed.
 * Never fails.
 */
static inline void kbatch_prep(struct kbatch_sqe *sqe, __u32 opcode,
			       __u64 a0, __u64 a1, __u64 user_data)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opcode;
	sqe->args[0] = a0;
	sqe->args[1] = a1;
	sqe->user_data = user_data;
}

/* The built-in ops, as include/linux/kbatch.h describes them. */
static inline void kbatch_prep_nop(struct kbatch_sqe *sqe, __u64 user_data)
{
	kbatch_prep(sqe, KBATCH_OP_NOP, 0, 0, user_data);
}

static inline void kbatch_prep_echo(struct kbatch_sqe *sqe, __u64 value,
				    __u64 user_data)
{
	kbatch_prep(sqe, KBATCH_OP_ECHO, value, 0, user_data);
}

static inline void kbatch_prep_sum(struct kbatch_sqe *sqe, __u64 value,
				   __u64 user_data)
{
	kbatch_prep(sqe, KBATCH_OP_SUM, value, 0, user_data);
}

static inline void kbatch_prep_timer(struct kbatch_sqe *sqe, __u64 ns,
				     __u64 user_data)
{
	kbatch_prep(sqe, KBATCH_OP_TIMER, ns, 0, user_data);
}

/*
 * kbatch_submit_sync() - run @nr entries and wait for them; completion i
 * of entry i goes to @cqes[i].  Returns how many entries ran (@nr, or
 * fewer only if the caller got a fatal signal), or -errno: -EINVAL (bad
 * entry, @nr 0 or above info.max_entries, an asynchronous-only op),
 * -EPERM (an op needs CAP_SYS_ADMIN), -EFAULT, -ENOMEM.  After -EFAULT
 * from a faulting @cqes the entries may have run: see the uapi header.
 */
int kbatch_submit_sync(struct kbatch *kb, const struct kbatch_sqe *sqes,
		       struct kbatch_cqe *cqes, unsigned int nr);

/*
 * kbatch_submit_async() - submit @nr entries whose completions are read
 * later with kbatch_wait_cqes() or kbatch_peek_cqes().  Returns @nr, or
 * -errno as kbatch_submit_sync() and -EBUSY if the handle's completion
 * queue (info.cq_entries, counting unread completions) has no room for
 * all of them; then nothing was accepted.
 */
int kbatch_submit_async(struct kbatch *kb, const struct kbatch_sqe *sqes,
			unsigned int nr);

/*
 * kbatch_peek_cqes() - take up to @max completions that are ready, without
 * waiting, also when other threads read the same handle.  At most
 * info.cq_entries are taken at once (no more can be ready).  Returns how
 * many (0 if none is ready), or -errno (-EINVAL for @max 0, -EFAULT).
 */
int kbatch_peek_cqes(struct kbatch *kb, struct kbatch_cqe *cqes,
		     unsigned int max);

/*
 * kbatch_wait_cqes() - wait until a completion is ready, then take as many
 * as are ready, up to @max (at most info.cq_entries).  @timeout_ms bounds
 * the wait (negative: no bound, 0: do not wait), also when other threads
 * take the completions it was woken for: then it waits again for the time
 * left.  Returns how many were taken (at least 1), or -errno: -ETIME if
 * none came in time, -EINTR on a signal, -EINVAL for @max 0.
 */
int kbatch_wait_cqes(struct kbatch *kb, struct kbatch_cqe *cqes,
		     unsigned int max, int timeout_ms);

/*
 * kbatch_reap_cqes() - take exactly @nr completions, waiting as long as
 * it takes.  Returns @nr, or -errno (-EINTR on a signal: some may have
 * been taken; -EINVAL for @nr 0 or above INT_MAX).
 */
int kbatch_reap_cqes(struct kbatch *kb, struct kbatch_cqe *cqes,
		     unsigned int nr);

#ifdef __cplusplus
}
#endif

#endif /* LIBKBATCH_H */
