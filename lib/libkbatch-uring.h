/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libkbatch-uring: kbatch entries through an io_uring of liburing
 * (KBATCH_URING_CMD, see the IO_URING section of <linux/kbatch.h>).
 * Header only: include it after <liburing.h> and link with -luring.
 *
 *	struct io_uring ring;
 *	kbatch_uring_queue_init(256, &ring, 0);
 *	kbatch_prep_echo(&e, 42, 0);
 *	kbatch_uring_prep(io_uring_get_sqe(&ring), kb.fd, &e, my_tag);
 *	io_uring_submit_and_wait(&ring, 1);
 *	io_uring_wait_cqe(&ring, &cqe);
 *	result = kbatch_uring_result(&ring, cqe);	// 42
 *
 * Threads: as liburing's, per ring.
 */
#ifndef LIBKBATCH_URING_H
#define LIBKBATCH_URING_H

#include <errno.h>
#include <stddef.h>
#include <liburing.h>
#include "libkbatch.h"

/*
 * kbatch_uring_queue_init() - io_uring_queue_init_params() with what
 * kbatch commands need: IORING_SETUP_SQE128 (an entry is 64 bytes) and
 * IORING_SETUP_CQE32 (64-bit results), plus @flags.  Returns 0 or -errno;
 * errno is left alone.
 */
static inline int kbatch_uring_queue_init(unsigned int entries,
					  struct io_uring *ring,
					  unsigned int flags)
{
	struct io_uring_params p;
	int saved = errno, ret;

	memset(&p, 0, sizeof(p));
	p.flags = flags | IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
	ret = io_uring_queue_init_params(entries, ring, &p);
	errno = saved;
	return ret;
}

/*
 * kbatch_uring_prep() - make @sqe a kbatch command on the open
 * /dev/kbatch @fd carrying @entry (its user_data must be 0; io_uring's
 * @user_data identifies the command).  Never fails.
 */
static inline void kbatch_uring_prep(struct io_uring_sqe *sqe, int fd,
				     const struct kbatch_sqe *entry,
				     __u64 user_data)
{
	char *area = (char *)sqe + offsetof(struct io_uring_sqe, cmd);

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = KBATCH_URING_CMD;
	/* The command area runs on into the second half of a 128-byte SQE. */
	memcpy(area, entry, sizeof(*entry));
	/* Its reserved tail; the slot may hold another command's bytes. */
	memset(area + sizeof(*entry), 0, KBATCH_URING_CMD_AREA - sizeof(*entry));
	io_uring_sqe_set_data64(sqe, user_data);
}

/*
 * kbatch_uring_result() - the 64-bit result of a kbatch command's @cqe.
 * It is cqe->res, unless that is -EOVERFLOW: the command ran and its
 * result does not fit in 32 bits; then it is big_cqe[0] on a CQE32 ring
 * (the whole result), and -EOVERFLOW on others.  big_cqe[0] is used
 * only then, as a command refused before it ran (by kbatch, or by
 * io_uring itself: a bad fd, say) may leave it 0.
 */
static inline __s64 kbatch_uring_result(const struct io_uring *ring,
					const struct io_uring_cqe *cqe)
{
	if (cqe->res == -EOVERFLOW && (ring->flags & IORING_SETUP_CQE32))
		return (__s64)cqe->big_cqe[0];
	return cqe->res;
}

#endif /* LIBKBATCH_URING_H */
