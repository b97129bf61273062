/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The old hand-rolled helpers: build entries, submit them, read
 * completions, look ops up.  Each returns 0 or -errno.  Only torture's
 * user-space submitter (torture/kbatch_torture_user.c) still uses them;
 * the tests and the kbatch tool use libkbatch (lib/libkbatch.h), and the
 * tests' other helpers are in kb_test.h.  Remove this file once torture
 * moves to libkbatch.
 */
#ifndef _KBATCH_UTIL_H
#define _KBATCH_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kbatch.h>

#include "kb_test.h"

static inline struct kbatch_sqe kb_sqe(__u32 opcode, __u64 arg0, __u64 arg1,
				       __u64 user_data)
{
	struct kbatch_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = opcode;
	sqe.args[0] = arg0;
	sqe.args[1] = arg1;
	sqe.user_data = user_data;
	return sqe;
}

/* Submit @nr entries through kb_test.h's raw ioctl.  0 or -errno. */
static inline int kb_sync(int fd, const struct kbatch_sqe *sqes,
			  struct kbatch_cqe *cqes, __u32 nr)
{
	return kb_raw_submit(fd, sqes, cqes, nr, 0, NULL);
}

static inline int kb_async(int fd, const struct kbatch_sqe *sqes, __u32 nr)
{
	return kb_raw_submit(fd, sqes, NULL, nr, KBATCH_SUBMIT_ASYNC, NULL);
}

/* Read exactly @nr completions, blocking.  0 or -errno. */
static inline int kb_read_all(int fd, struct kbatch_cqe *cqes, unsigned int nr)
{
	unsigned int got = 0;
	ssize_t n;

	while (got < nr) {
		n = read(fd, cqes + got, (nr - got) * sizeof(*cqes));
		if (n < 0)
			return -errno;
		if (n == 0 || n % sizeof(*cqes))
			return -EIO;
		got += n / sizeof(*cqes);
	}
	return 0;
}

/* The opcode of op @name, or -errno. */
static inline int kb_lookup(int fd, const char *name, __u32 *op_flags)
{
	struct kbatch_lookup lk;

	memset(&lk, 0, sizeof(lk));
	strncpy((char *)lk.name, name, sizeof(lk.name) - 1);
	if (ioctl(fd, KBATCH_IOC_LOOKUP, &lk))
		return -errno;
	if (op_flags)
		*op_flags = lk.op_flags;
	return lk.opcode;
}

#endif /* _KBATCH_UTIL_H */
