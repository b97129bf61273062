// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libkbatch: see libkbatch.h, which is the manual.  Each call is one or a
 * few system calls on the handle's file; the library keeps no state of
 * its own beyond struct kbatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "libkbatch.h"

int kbatch_open(struct kbatch *kb, const char *path, int flags)
{
	int saved = errno, err = 0;

	/* O_NONBLOCK: see take(). */
	kb->fd = open(path ? path : "/dev/kbatch",
		      O_RDWR | O_CLOEXEC | O_NONBLOCK | flags);
	if (kb->fd < 0) {
		err = -errno;
	} else if (ioctl(kb->fd, KBATCH_IOC_INFO, &kb->info)) {
		err = -errno;
		close(kb->fd);
		kb->fd = -1;
	}
	errno = saved;
	return err;
}

void kbatch_close(struct kbatch *kb)
{
	int saved = errno;

	if (kb->fd >= 0)
		close(kb->fd);
	kb->fd = -1;
	errno = saved;
}

int kbatch_lookup(struct kbatch *kb, const char *name, __u32 *op_flags)
{
	struct kbatch_lookup lk;
	size_t len = strlen(name);
	int saved = errno, ret;

	if (len >= sizeof(lk.name))
		return -EINVAL;
	memset(&lk, 0, sizeof(lk));
	memcpy(lk.name, name, len);
	if (ioctl(kb->fd, KBATCH_IOC_LOOKUP, &lk)) {
		ret = -errno;
	} else {
		if (op_flags)
			*op_flags = lk.op_flags;
		ret = (int)lk.opcode;
	}
	errno = saved;
	return ret;
}

/* One KBATCH_IOC_SUBMIT; the number of entries taken, or -errno. */
static int submit(struct kbatch *kb, const struct kbatch_sqe *sqes,
		  struct kbatch_cqe *cqes, unsigned int nr, __u32 flags)
{
	struct kbatch_submit hdr;
	int saved = errno, ret;

	memset(&hdr, 0, sizeof(hdr));
	hdr.entries = (__u64)(unsigned long)sqes;
	hdr.completions = (__u64)(unsigned long)cqes;
	hdr.nr = nr;
	hdr.flags = flags;
	ret = ioctl(kb->fd, KBATCH_IOC_SUBMIT, &hdr) ? -errno : (int)hdr.done;
	errno = saved;
	return ret;
}

int kbatch_submit_sync(struct kbatch *kb, const struct kbatch_sqe *sqes,
		       struct kbatch_cqe *cqes, unsigned int nr)
{
	return submit(kb, sqes, cqes, nr, 0);
}

int kbatch_submit_async(struct kbatch *kb, const struct kbatch_sqe *sqes,
			unsigned int nr)
{
	return submit(kb, sqes, NULL, nr, KBATCH_SUBMIT_ASYNC);
}

/*
 * Take what is ready, up to @max, without waiting: a count or -errno.
 * Sets errno.  The fd must be O_NONBLOCK: a poll() that saw a completion
 * does not keep it for us, as another reader of the handle may take it
 * first, and a blocking read() would then wait for the next one.  So the
 * flag is set again here if the caller cleared it (or made the fd).
 */
static int take(struct kbatch *kb, struct kbatch_cqe *cqes, unsigned int max)
{
	int fl = fcntl(kb->fd, F_GETFL);
	ssize_t n;

	if (fl < 0 || (!(fl & O_NONBLOCK) &&
		       fcntl(kb->fd, F_SETFL, fl | O_NONBLOCK)))
		return -errno;
	/* No more than the queue holds; the byte count cannot wrap. */
	if (kb->info.cq_entries && max > kb->info.cq_entries)
		max = kb->info.cq_entries;
	if (max > INT_MAX / sizeof(*cqes))
		max = INT_MAX / sizeof(*cqes);
	n = read(kb->fd, cqes, (size_t)max * sizeof(*cqes));
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return (int)(n / sizeof(*cqes));
}

int kbatch_peek_cqes(struct kbatch *kb, struct kbatch_cqe *cqes,
		     unsigned int max)
{
	int saved = errno, ret;

	if (!max)
		return -EINVAL;
	ret = take(kb, cqes, max);
	errno = saved;
	return ret;
}

/* Milliseconds left until @deadline (CLOCK_MONOTONIC), at least 0. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Rounded up: poll() must not give up before the deadline. */
	ms = (deadline->tv_sec - now.tv_sec) * 1000LL +
	     (deadline->tv_nsec - now.tv_nsec + 999999) / 1000000;
	return ms < 0 ? 0 : ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* kbatch_wait_cqes() without restoring errno. */
static int wait_cqes(struct kbatch *kb, struct kbatch_cqe *cqes,
		     unsigned int max, int timeout_ms)
{
	struct pollfd p = { .fd = kb->fd, .events = POLLIN };
	int left = timeout_ms < 0 ? -1 : timeout_ms;
	struct timespec deadline;
	int ret;

	if (left > 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += left / 1000;
		deadline.tv_nsec += (left % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	for (;;) {
		ret = take(kb, cqes, max);
		if (ret)
			return ret;
		if (!left)
			return -ETIME;
		/* Another reader may take what woke us: then wait again. */
		if (poll(&p, 1, left) < 0)
			return -errno;
		if (left > 0)
			left = ms_left(&deadline);
	}
}

int kbatch_wait_cqes(struct kbatch *kb, struct kbatch_cqe *cqes,
		     unsigned int max, int timeout_ms)
{
	int saved = errno, ret;

	if (!max)
		return -EINVAL;
	ret = wait_cqes(kb, cqes, max, timeout_ms);
	errno = saved;
	return ret;
}

int kbatch_reap_cqes(struct kbatch *kb, struct kbatch_cqe *cqes,
		     unsigned int nr)
{
	unsigned int got = 0;
	int ret;

	if (!nr || nr > INT_MAX)
		return -EINVAL;
	while (got < nr) {
		ret = kbatch_wait_cqes(kb, cqes + got, nr - got, -1);
		if (ret < 0)
			return ret;
		got += (unsigned int)ret;
	}
	return (int)nr;
}
