// SPDX-License-Identifier: GPL-2.0
/*
 * libkbatch, as its header promises: open and info, lookup, the prep
 * helpers, synchronous and asynchronous submits with their errors, peek,
 * wait (with and without a timeout) and reap, and the io_uring helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libkbatch-uring.h"

FIXTURE(lib) {
	struct kbatch kb;
};

FIXTURE_SETUP(lib)
{
	ASSERT_EQ(0, kbatch_open(&self->kb, NULL, 0));
}

FIXTURE_TEARDOWN(lib)
{
	kbatch_close(&self->kb);
}

TEST(open_errors)
{
	struct kbatch kb;

	EXPECT_EQ(-ENOENT, kbatch_open(&kb, "/dev/no-such-kbatch", 0));
	EXPECT_EQ(-ENOTTY, kbatch_open(&kb, "/dev/null", 0));
}

TEST_F(lib, open_reads_info_and_sets_cloexec)
{
	EXPECT_EQ(KBATCH_ABI_VERSION, (int)self->kb.info.abi_version);
	EXPECT_LT(0u, self->kb.info.max_entries);
	EXPECT_EQ(FD_CLOEXEC, fcntl(self->kb.fd, F_GETFD) & FD_CLOEXEC);
}

TEST_F(lib, lookup)
{
	char longname[KBATCH_OP_NAME_MAX + 1];
	__u32 flags = 0xdead;

	EXPECT_EQ(KBATCH_OP_ECHO, kbatch_lookup(&self->kb, "echo", &flags));
	EXPECT_EQ(0u, flags);
	EXPECT_EQ(KBATCH_OP_TIMER, kbatch_lookup(&self->kb, "timer", &flags));
	EXPECT_EQ(KBATCH_LOOKUP_ASYNC, flags);
	EXPECT_EQ(-ENOENT, kbatch_lookup(&self->kb, "no.such.op", NULL));
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	EXPECT_EQ(-EINVAL, kbatch_lookup(&self->kb, longname, NULL));
}

TEST_F(lib, sync_submit)
{
	struct kbatch_sqe sqe[4];
	struct kbatch_cqe cqe[4];

	kbatch_prep_nop(&sqe[0], 10);
	kbatch_prep_echo(&sqe[1], 42, 11);
	kbatch_prep_sum(&sqe[2], 5, 12);
	kbatch_prep_sum(&sqe[3], 6, 13);
	ASSERT_EQ(4, kbatch_submit_sync(&self->kb, sqe, cqe, 4));
	EXPECT_EQ(10u, cqe[0].user_data);
	EXPECT_EQ(0, cqe[0].result);
	EXPECT_EQ(42, cqe[1].result);
	EXPECT_EQ(11, cqe[2].result);
	EXPECT_EQ(11, cqe[3].result);
	EXPECT_EQ(13u, cqe[3].user_data);

	EXPECT_EQ(-EINVAL, kbatch_submit_sync(&self->kb, sqe, cqe, 0));
	EXPECT_EQ(-EINVAL, kbatch_submit_sync(&self->kb, sqe, cqe,
					      self->kb.info.max_entries + 1));
	kbatch_prep_timer(&sqe[0], 1000, 1);
	EXPECT_EQ(-EINVAL, kbatch_submit_sync(&self->kb, sqe, cqe, 1));
	sqe[1].reserved[0] = 1;
	EXPECT_EQ(-EINVAL, kbatch_submit_sync(&self->kb, &sqe[1], cqe, 1));
}

TEST_F(lib, async_peek_wait_reap)
{
	struct kbatch_sqe sqe[3];
	struct kbatch_cqe cqe[3];
	struct timespec a, b;

	EXPECT_EQ(0, kbatch_peek_cqes(&self->kb, cqe, 3));
	EXPECT_EQ(-EINVAL, kbatch_peek_cqes(&self->kb, cqe, 0));
	clock_gettime(CLOCK_MONOTONIC, &a);
	EXPECT_EQ(-ETIME, kbatch_wait_cqes(&self->kb, cqe, 3, 100));
	clock_gettime(CLOCK_MONOTONIC, &b);
	EXPECT_LE(100, (b.tv_sec - a.tv_sec) * 1000 +
		       (b.tv_nsec - a.tv_nsec) / 1000000);

	kbatch_prep_echo(&sqe[0], 1, 1);
	kbatch_prep_echo(&sqe[1], 2, 2);
	ASSERT_EQ(2, kbatch_submit_async(&self->kb, sqe, 2));
	/* Ops that complete at once are ready when the submit returns. */
	ASSERT_EQ(1, kbatch_peek_cqes(&self->kb, cqe, 1));
	EXPECT_EQ(1, cqe[0].result);
	ASSERT_EQ(1, kbatch_wait_cqes(&self->kb, cqe, 3, -1));
	EXPECT_EQ(2, cqe[0].result);

	kbatch_prep_timer(&sqe[0], 20 * 1000000ULL, 7);
	kbatch_prep_echo(&sqe[1], 3, 8);
	kbatch_prep_timer(&sqe[2], 1, 9);
	ASSERT_EQ(3, kbatch_submit_async(&self->kb, sqe, 3));
	ASSERT_EQ(3, kbatch_reap_cqes(&self->kb, cqe, 3));
	/* The ECHO first; the two timers after it, in either order. */
	EXPECT_EQ(8u, cqe[0].user_data);
	EXPECT_EQ(7u + 9u, cqe[1].user_data + cqe[2].user_data);
	EXPECT_EQ(-EINVAL, kbatch_reap_cqes(&self->kb, cqe, 0));
}

TEST_F(lib, async_queue_full_is_ebusy)
{
	unsigned int n = self->kb.info.max_entries, i, sent = 0;
	struct kbatch_sqe *sqe = calloc(n, sizeof(*sqe));
	struct kbatch_cqe *cqe = calloc(n, sizeof(*cqe));

	ASSERT_NE(NULL, sqe);
	ASSERT_NE(NULL, cqe);
	for (i = 0; i < n; i++)
		kbatch_prep_nop(&sqe[i], i);
	while (sent < self->kb.info.cq_entries) {
		ASSERT_EQ((int)n, kbatch_submit_async(&self->kb, sqe, n));
		sent += n;
	}
	EXPECT_EQ(-EBUSY, kbatch_submit_async(&self->kb, sqe, 1));
	ASSERT_EQ((int)n, kbatch_reap_cqes(&self->kb, cqe, n));
	EXPECT_EQ(1, kbatch_submit_async(&self->kb, sqe, 1));
	free(sqe);
	free(cqe);
}

TEST_F(lib, uring_helpers)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	struct kbatch_sqe e;

	ASSERT_EQ(0, kbatch_uring_queue_init(8, &ring, 0));
	kbatch_prep_echo(&e, 1ULL << 40, 0);
	kbatch_uring_prep(io_uring_get_sqe(&ring), self->kb.fd, &e, 77);
	ASSERT_EQ(1, io_uring_submit_and_wait(&ring, 1));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(77u, cqe->user_data);
	EXPECT_EQ(1LL << 40, kbatch_uring_result(&ring, cqe));
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
}

TEST_HARNESS_MAIN
