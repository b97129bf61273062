// SPDX-License-Identifier: GPL-2.0
/*
 * libkbatch, as its header promises: open and info, lookup, the prep
 * helpers, synchronous and asynchronous submits with their errors, peek,
 * wait (with and without a timeout) and reap, and the io_uring helpers;
 * that errno is left alone, and that threads sharing a handle never wait
 * in peek or past the timeout of wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
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

TEST_F(lib, huge_max_is_clamped)
{
	struct kbatch_sqe sqe;
	struct kbatch_cqe cqe[2];

	/* 0x10000000 completions are 0 bytes in a 32-bit size_t. */
	EXPECT_EQ(0, kbatch_peek_cqes(&self->kb, cqe, 0x10000000u));
	EXPECT_EQ(0, kbatch_peek_cqes(&self->kb, cqe, UINT_MAX));
	EXPECT_EQ(-ETIME, kbatch_wait_cqes(&self->kb, cqe, 0x10000000u, 0));
	kbatch_prep_nop(&sqe, 5);
	ASSERT_EQ(1, kbatch_submit_async(&self->kb, &sqe, 1));
	ASSERT_EQ(1, kbatch_peek_cqes(&self->kb, cqe, 0x10000000u));
	EXPECT_EQ(5u, cqe[0].user_data);
	ASSERT_EQ(1, kbatch_submit_async(&self->kb, &sqe, 1));
	ASSERT_EQ(1, kbatch_wait_cqes(&self->kb, cqe, UINT_MAX, -1));
	EXPECT_EQ(-EINVAL, kbatch_reap_cqes(&self->kb, cqe, (unsigned int)INT_MAX + 1));
}

/* Every function, failing or not, leaves errno as it was. */
TEST_F(lib, errno_left_alone)
{
	struct kbatch_sqe sqe;
	struct kbatch_cqe cqe;
	struct io_uring ring;
	struct kbatch kb;

	errno = EDOM;
	EXPECT_EQ(-ENOENT, kbatch_open(&kb, "/dev/no-such-kbatch", 0));
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(-ENOTTY, kbatch_open(&kb, "/dev/null", 0));
	EXPECT_EQ(EDOM, errno);
	ASSERT_EQ(0, kbatch_open(&kb, NULL, 0));
	kbatch_close(&kb);
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(-ENOENT, kbatch_lookup(&self->kb, "no.such.op", NULL));
	EXPECT_EQ(EDOM, errno);
	kbatch_prep_nop(&sqe, 3);
	EXPECT_EQ(-EINVAL, kbatch_submit_sync(&self->kb, &sqe, &cqe, 0));
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(-EINVAL, kbatch_submit_async(&self->kb, &sqe, 0));
	EXPECT_EQ(EDOM, errno);
	/* Empty: the library's read() fails with EAGAIN, which is no error. */
	EXPECT_EQ(0, kbatch_peek_cqes(&self->kb, &cqe, 1));
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(-EINVAL, kbatch_peek_cqes(&self->kb, &cqe, 0));
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(-ETIME, kbatch_wait_cqes(&self->kb, &cqe, 1, 10));
	EXPECT_EQ(EDOM, errno);
	ASSERT_EQ(1, kbatch_submit_async(&self->kb, &sqe, 1));
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(-EFAULT, kbatch_peek_cqes(&self->kb, (void *)-4096L, 1));
	EXPECT_EQ(EDOM, errno);
	ASSERT_EQ(1, kbatch_reap_cqes(&self->kb, &cqe, 1));
	EXPECT_EQ(3u, cqe.user_data);
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(-EINVAL, kbatch_uring_queue_init(0, &ring, 0));
	EXPECT_EQ(EDOM, errno);
}

TEST_F(lib, open_sets_nonblock_and_peek_keeps_it)
{
	struct kbatch_cqe cqe;
	int fl = fcntl(self->kb.fd, F_GETFL);

	EXPECT_EQ(O_NONBLOCK, fl & O_NONBLOCK);
	/* A caller clears it: the next read of completions sets it again. */
	ASSERT_EQ(0, fcntl(self->kb.fd, F_SETFL, fl & ~O_NONBLOCK));
	EXPECT_EQ(0, kbatch_peek_cqes(&self->kb, &cqe, 1));
	EXPECT_EQ(O_NONBLOCK, fcntl(self->kb.fd, F_GETFL) & O_NONBLOCK);
	ASSERT_EQ(0, fcntl(self->kb.fd, F_SETFL, fl & ~O_NONBLOCK));
	EXPECT_EQ(-ETIME, kbatch_wait_cqes(&self->kb, &cqe, 1, 0));
	EXPECT_EQ(O_NONBLOCK, fcntl(self->kb.fd, F_GETFL) & O_NONBLOCK);
}

/*
 * Threads sharing a handle: SHARE_READERS threads take completions one
 * at a time while the test submits NOPs one at a time, for up to
 * SHARE_NOPS NOPs or SHARE_MS.  When one completion is ready several
 * readers may see it, and all but one lose it: none may then wait for
 * the next.  So after each NOP is taken, every reader must return from
 * a call before the next NOP is submitted; a reader left waiting hangs
 * the test, which alarm() ends.  Readers peek, or (@timeout_ms >= 0)
 * half of them wait with @timeout_ms and half with timeout 0.
 */
#define SHARE_READERS	4
#define SHARE_NOPS	100000
#define SHARE_MS	3000
#define SHARE_SLACK_MS	2000	/* scheduling delays in a busy, emulated VM */

struct share {
	struct kbatch *kb;
	bool stop;			/* atomic */
	unsigned int taken;		/* atomic */
	unsigned char *seen;		/* [user_data], atomic */
};

struct share_reader {
	struct share *s;
	int timeout_ms;			/* < 0: peek; else wait with it */
	unsigned int calls;		/* calls returned (atomic) */
	long long worst_ms;		/* longest call */
	int bad;			/* unexpected returns */
};

static long long ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000LL +
	       (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void *share_reader(void *arg)
{
	struct share_reader *r = arg;
	struct share *s = r->s;
	int none = r->timeout_ms < 0 ? 0 : -ETIME;
	struct kbatch_cqe cqe;
	struct timespec a;
	long long ms;
	int ret;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		ret = r->timeout_ms < 0 ?
		      kbatch_peek_cqes(s->kb, &cqe, 1) :
		      kbatch_wait_cqes(s->kb, &cqe, 1, r->timeout_ms);
		ms = ms_since(&a);
		if (ms > r->worst_ms)
			r->worst_ms = ms;
		if (ret == 1 && cqe.user_data < SHARE_NOPS) {
			__atomic_add_fetch(&s->seen[cqe.user_data], 1,
					   __ATOMIC_RELAXED);
			__atomic_add_fetch(&s->taken, 1, __ATOMIC_RELEASE);
		} else if (ret == none) {
			sched_yield();
		} else {
			r->bad++;
		}
		__atomic_add_fetch(&r->calls, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void share_handle(struct __test_metadata *_metadata,
			 struct kbatch *kb, int timeout_ms)
{
	struct share s = { .kb = kb };
	struct share_reader r[SHARE_READERS];
	pthread_t t[SHARE_READERS];
	struct kbatch_sqe sqe;
	struct kbatch_cqe cqe;
	struct timespec start;
	unsigned int i, n, c;

	s.seen = calloc(SHARE_NOPS, 1);
	ASSERT_NE(NULL, s.seen);
	alarm(25);
	for (i = 0; i < SHARE_READERS; i++) {
		r[i] = (struct share_reader){ .s = &s, .timeout_ms = timeout_ms };
		if (timeout_ms >= 0 && i % 2)
			r[i].timeout_ms = 0;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, share_reader, &r[i]));
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (n = 0; n < SHARE_NOPS && ms_since(&start) < SHARE_MS; n++) {
		kbatch_prep_nop(&sqe, n);
		ASSERT_EQ(1, kbatch_submit_async(kb, &sqe, 1));
		while (__atomic_load_n(&s.taken, __ATOMIC_ACQUIRE) <= n)
			sched_yield();
		/* Nothing is ready now: each reader's call must return. */
		for (i = 0; i < SHARE_READERS; i++) {
			c = __atomic_load_n(&r[i].calls, __ATOMIC_ACQUIRE);
			while (__atomic_load_n(&r[i].calls, __ATOMIC_ACQUIRE) == c)
				sched_yield();
		}
	}
	__atomic_store_n(&s.stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < SHARE_READERS; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, r[i].bad);
		EXPECT_GE((r[i].timeout_ms < 0 ? 0 : r[i].timeout_ms) +
			  SHARE_SLACK_MS, r[i].worst_ms);
	}
	alarm(0);
	TH_LOG("%u NOPs, one at a time", n);
	EXPECT_LT(0u, n);
	EXPECT_EQ(n, s.taken);
	for (i = 0; i < n; i++)
		ASSERT_EQ(1, s.seen[i]) TH_LOG("NOP %u", i);
	EXPECT_EQ(0, kbatch_peek_cqes(kb, &cqe, 1));
	free(s.seen);
}

TEST_F(lib, threads_share_peek)
{
	share_handle(_metadata, &self->kb, -1);
}

/* With O_NONBLOCK cleared by the caller, which the library undoes. */
TEST_F(lib, threads_share_wait_timeout)
{
	int fl = fcntl(self->kb.fd, F_GETFL);

	ASSERT_EQ(0, fcntl(self->kb.fd, F_SETFL, fl & ~O_NONBLOCK));
	share_handle(_metadata, &self->kb, 5);
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
