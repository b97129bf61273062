// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libkbatch: see libkbatch.h, which is the manual.  Each call is one or a
 * few system calls on the handle's file; the library keeps no state of
 * its own beyond struct kbatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "libkbatch.h"

int kbatch_open(struct kbatch *kb, const char *path, int flags)
{
	kb->fd = open(path ? path : "/dev/kbatch", O_RDWR | O_CLOEXEC | flags);
	if (kb->fd < 0)
		return -errno;
	if (ioctl(kb->fd, KBATCH_IOC_INFO, &kb->info)) {
		int err = -errno;

		close(kb->fd);
		kb->fd = -1;
		return err;
	}
	return 0;
}

void kbatch_close(struct kbatch *kb)
{
	if (kb->fd >= 0)
		close(kb->fd);
	kb->fd = -1;
}

int kbatch_lookup(struct kbatch *kb, const char *name, __u32 *op_flags)
{
	struct kbatch_lookup lk;
	size_t len = strlen(name);

	if (len >= sizeof(lk.name))
		return -EINVAL;
	memset(&lk, 0, sizeof(lk));
	memcpy(lk.name, name, len);
	if (ioctl(kb->fd, KBATCH_IOC_LOOKUP, &lk))
		return -errno;
	if (op_flags)
		*op_flags = lk.op_flags;
	return (int)lk.opcode;
}

/* One KBATCH_IOC_SUBMIT; the number of entries taken, or -errno. */
static int submit(struct kbatch *kb, const struct kbatch_sqe *sqes,
		  struct kbatch_cqe *cqes, unsigned int nr, __u32 flags)
{
	struct kbatch_submit hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.entries = (__u64)(unsigned long)sqes;
	hdr.completions = (__u64)(unsigned long)cqes;
	hdr.nr = nr;
	hdr.flags = flags;
	if (ioctl(kb->fd, KBATCH_IOC_SUBMIT, &hdr))
		return -errno;
	return (int)hdr.done;
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

/* Take what is ready, up to @max, without waiting: a count or -errno. */
static int take(struct kbatch *kb, struct kbatch_cqe *cqes, unsigned int max)
{
	struct pollfd p = { .fd = kb->fd, .events = POLLIN };
	ssize_t n;

	/* poll() first: read() of an empty queue waits unless O_NONBLOCK. */
	if (poll(&p, 1, 0) < 0)
		return -errno;
	if (!(p.revents & POLLIN))
		return 0;
	n = read(kb->fd, cqes, (size_t)max * sizeof(*cqes));
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return (int)(n / sizeof(*cqes));
}

int kbatch_peek_cqes(struct kbatch *kb, struct kbatch_cqe *cqes,
		     unsigned int max)
{
	if (!max)
		return -EINVAL;
	return take(kb, cqes, max);
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

int kbatch_wait_cqes(struct kbatch *kb, struct kbatch_cqe *cqes,
		     unsigned int max, int timeout_ms)
{
	struct pollfd p = { .fd = kb->fd, .events = POLLIN };
	struct timespec deadline;
	int ret;

	if (!max)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	for (;;) {
		ret = take(kb, cqes, max);
		if (ret)
			return ret;
		/* Another reader may take what woke us: then wait again. */
		ret = poll(&p, 1, timeout_ms < 0 ? -1 : ms_left(&deadline));
		if (ret < 0)
			return -errno;
		if (!ret)
			return -ETIME;
	}
}

int kbatch_reap_cqes(struct kbatch *kb, struct kbatch_cqe *cqes,
		     unsigned int nr)
{
	unsigned int got = 0;
	int ret;

	if (!nr)
		return -EINVAL;
	while (got < nr) {
		ret = kbatch_wait_cqes(kb, cqes + got, nr - got, -1);
		if (ret < 0)
			return ret;
		got += (unsigned int)ret;
	}
	return (int)nr;
}
