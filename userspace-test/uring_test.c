// SPDX-License-Identifier: GPL-2.0
/*
 * KBATCH_URING_CMD: kbatch entries submitted as IORING_OP_URING_CMD
 * commands.  Every built-in op gives the result the ioctl gives; the
 * commands of one io_uring_enter() on one file run as one submit (a run
 * of SUM commands learns the run's sum), never mixed with another file's;
 * bad commands complete with their errno; 64-bit results need CQE32;
 * several threads with rings of their own, or sharing one (their commands
 * never share a batch); and TIMER commands complete later, or are
 * cancelled when the ring goes or the process is killed, even while their
 * completions are on the way.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/kbatch.h>

#include "kselftest_harness.h"
#include "libkbatch.h"
#include "libkbatch-uring.h"
#include "kv_stats.h"

#define RING_ENTRIES	512
#define SEC		1000000000ULL

/* A ring of exactly @flags: for rings without SQE128 or CQE32 on purpose. */
static int ring_init(struct io_uring *ring, unsigned int flags)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	return io_uring_queue_init_params(RING_ENTRIES, ring, &p);
}

/* Queue one kbatch command of @sqe on @fd, io_uring user_data @tag. */
static void queue_cmd(struct io_uring *ring, int fd,
		      const struct kbatch_sqe *sqe, __u64 tag)
{
	struct io_uring_sqe *s = io_uring_get_sqe(ring);

	assert(s);
	kbatch_uring_prep(s, fd, sqe, tag);
}

/*
 * Reap @n completions into res[tag], big[tag] (kbatch_uring_result()) if
 * @big and raw[tag] (big_cqe[0] as the kernel wrote it, on a CQE32 ring)
 * if @raw, tags below @n.  0 or -errno.
 */
static int reap_all(struct io_uring *ring, unsigned int n, long long *res,
		    long long *big, long long *raw)
{
	struct io_uring_cqe *cqe;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = io_uring_wait_cqe(ring, &cqe);
		if (ret)
			return ret;
		if (cqe->user_data >= n)
			return -ERANGE;
		res[cqe->user_data] = cqe->res;
		if (big)
			big[cqe->user_data] = kbatch_uring_result(ring, cqe);
		if (raw)
			raw[cqe->user_data] = (long long)cqe->big_cqe[0];
		io_uring_cqe_seen(ring, cqe);
	}
	return 0;
}

static int reap(struct io_uring *ring, unsigned int n, long long *res,
		long long *big)
{
	return reap_all(ring, n, res, big, NULL);
}

FIXTURE(uring) {
	struct kbatch kb;
	int fd;
	struct io_uring ring;
	struct kbatch_info info;
};

FIXTURE_SETUP(uring)
{
	ASSERT_EQ(0, kbatch_open(&self->kb, NULL, 0));
	self->fd = self->kb.fd;
	self->info = self->kb.info;
	ASSERT_NE(0u, self->info.features & KBATCH_FEAT_URING);
	ASSERT_EQ(0, kbatch_uring_queue_init(RING_ENTRIES, &self->ring, 0));
}

FIXTURE_TEARDOWN(uring)
{
	io_uring_queue_exit(&self->ring);
	kbatch_close(&self->kb);
}

/* The mixed batch of the ioctl tests gives the same results both ways. */
TEST_F(uring, same_results_as_the_ioctl)
{
	struct kbatch_sqe sqe[8];
	struct kbatch_cqe cqe[8];
	long long res[8], big[8];
	unsigned int i;

	kbatch_prep_nop(&sqe[0], 0);
	kbatch_prep_echo(&sqe[1], 42, 0);
	kbatch_prep_echo(&sqe[2], (__u64)-5LL, 0);
	kbatch_prep_sum(&sqe[3], 1, 0);
	kbatch_prep_sum(&sqe[4], 2, 0);
	kbatch_prep_sum(&sqe[5], 3, 0);
	kbatch_prep(&sqe[6], 200, 0, 0, 0);
	kbatch_prep_sum(&sqe[7], 10, 0);
	ASSERT_EQ(8, kbatch_submit_sync(&self->kb, sqe, cqe, 8));
	for (i = 0; i < 8; i++)
		queue_cmd(&self->ring, self->fd, &sqe[i], i);
	ASSERT_EQ(8, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap(&self->ring, 8, res, big));
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(cqe[i].result, big[i]) TH_LOG("entry %u", i);
		EXPECT_EQ(cqe[i].result, res[i]) TH_LOG("entry %u", i);
	}
	/* One submit: the three SUMs are one run, the last its own. */
	EXPECT_EQ(6, res[3]);
	EXPECT_EQ(10, res[7]);
	EXPECT_EQ(-EOPNOTSUPP, res[6]);
}

/* A run of 256 SUMs in one io_uring_enter(): one handler call, one sum. */
TEST_F(uring, one_enter_is_one_batch)
{
	long long res[256];
	unsigned int i;

	for (i = 0; i < 256; i++) {
		struct kbatch_sqe s;

		kbatch_prep_sum(&s, i + 1, 0);
		queue_cmd(&self->ring, self->fd, &s, i);
	}
	ASSERT_EQ(256, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap(&self->ring, 256, res, NULL));
	for (i = 0; i < 256; i++)
		EXPECT_EQ(256 * 257 / 2, res[i]);
}

/* 300 SUMs in one io_uring_enter(): batches of at most 256, one sum each. */
TEST_F(uring, batches_hold_at_most_256)
{
	long long res[300];
	unsigned int i;

	for (i = 0; i < 300; i++) {
		struct kbatch_sqe s;

		kbatch_prep_sum(&s, 1, 0);
		queue_cmd(&self->ring, self->fd, &s, i);
	}
	ASSERT_EQ(300, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap(&self->ring, 300, res, NULL));
	for (i = 0; i < 300; i++)
		EXPECT_EQ(i < 256 ? 256 : 44, res[i]) TH_LOG("cmd %u", i);
}

#define TURN_RINGS	9	/* one more (ring, task) than a file keeps open */
#define TURN_ROUNDS	10

/*
 * @nrings DEFER_TASKRUN rings taking turns on one file, one command each
 * turn, @rounds turns each, never waiting (so no batch runs) until the
 * end; res[i] gets command i's result.
 */
static int take_turns(int fd, unsigned int nrings, unsigned int rounds,
		      long long *res)
{
	unsigned int flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 |
			     IORING_SETUP_SINGLE_ISSUER |
			     IORING_SETUP_DEFER_TASKRUN;
	unsigned int n = nrings * rounds, i, k;
	struct io_uring r[TURN_RINGS];
	long long got[TURN_ROUNDS * 2];
	struct kbatch_sqe s;
	int ret = 0;

	for (k = 0; k < nrings; k++)
		if (ring_init(&r[k], flags))
			return -1;
	for (i = 0; i < n && !ret; i++) {
		kbatch_prep_echo(&s, i, 0);
		queue_cmd(&r[i % nrings], fd, &s, i / nrings);
		if (io_uring_submit(&r[i % nrings]) != 1)
			ret = -1;
	}
	for (k = 0; k < nrings; k++) {
		if (!ret && reap(&r[k], rounds, got, NULL))
			ret = -1;
		for (i = 0; i < rounds && !ret; i++)
			res[i * nrings + k] = got[i];
		io_uring_queue_exit(&r[k]);
	}
	return ret;
}

/*
 * A file keeps an open batch per (ring, task): two rings taking turns
 * share none and cut none, whatever the count.  With more rings taking
 * turns than a file keeps batches open, each command opens a batch; past
 * KBATCH_URING_FILE_BATCHES of them (none has run: the task never waits)
 * commands are refused with -EBUSY, and run again once the task waits.
 */
TEST_F(uring, file_batches_are_bounded)
{
	long long res[TURN_RINGS * TURN_ROUNDS * 4];
	unsigned int i, busy = 0;

	ASSERT_EQ(0, take_turns(self->fd, 2, 2 * TURN_ROUNDS, res));
	for (i = 0; i < 4 * TURN_ROUNDS; i++)
		EXPECT_EQ((long long)i, res[i]) TH_LOG("two rings, command %u", i);

	ASSERT_EQ(0, take_turns(self->fd, TURN_RINGS, TURN_ROUNDS, res));
	for (i = 0; i < TURN_RINGS * TURN_ROUNDS; i++) {
		if (i < KBATCH_URING_FILE_BATCHES || res[i] != -EBUSY)
			EXPECT_EQ((long long)i, res[i]) TH_LOG("command %u", i);
		busy += res[i] == -EBUSY;
	}
	EXPECT_LT(0u, busy);

	/* The task waited: every batch ran, and the file takes commands. */
	ASSERT_EQ(0, take_turns(self->fd, 2, 2, res));
	for (i = 0; i < 4; i++)
		EXPECT_EQ((long long)i, res[i]);
}

/* Two files in one io_uring_enter(): each file's SUMs see only its own. */
TEST_F(uring, files_do_not_mix)
{
	long long res[64];
	struct kbatch other;
	unsigned int i;

	ASSERT_EQ(0, kbatch_open(&other, NULL, 0));
	for (i = 0; i < 64; i++) {
		struct kbatch_sqe s;

		kbatch_prep_sum(&s, i % 2 ? 1000 : 1, 0);
		queue_cmd(&self->ring, i % 2 ? other.fd : self->fd, &s, i);
	}
	ASSERT_EQ(64, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap(&self->ring, 64, res, NULL));
	for (i = 0; i < 64; i++)
		EXPECT_EQ(i % 2 ? 32000 : 32, res[i]) TH_LOG("cmd %u", i);
	kbatch_close(&other);
}

/* 64-bit results: -EOVERFLOW in res, the value in big_cqe[0] (CQE32). */
TEST_F(uring, wide_results)
{
	struct io_uring small;
	long long res[1], big[1];
	struct kbatch_sqe s;

	kbatch_prep_echo(&s, 1ULL << 40, 0);
	queue_cmd(&self->ring, self->fd, &s, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap(&self->ring, 1, res, big));
	EXPECT_EQ(-EOVERFLOW, res[0]);
	EXPECT_EQ(1LL << 40, big[0]);

	ASSERT_EQ(0, ring_init(&small, IORING_SETUP_SQE128));
	queue_cmd(&small, self->fd, &s, 0);
	ASSERT_EQ(1, io_uring_submit(&small));
	ASSERT_EQ(0, reap(&small, 1, res, NULL));
	EXPECT_EQ(-EOVERFLOW, res[0]);
	io_uring_queue_exit(&small);
}

/*
 * Every bad command of the ioctl path, and those only io_uring has; on a
 * CQE32 ring big_cqe[0] holds the error too, as for a command that ran.
 */
TEST_F(uring, bad_commands)
{
	struct kbatch_sqe good, bad[4];
	struct io_uring_sqe *s;
	struct io_uring plain;
	long long res[7], raw[7];
	unsigned int i;

	kbatch_prep_echo(&good, 7, 0);
	/* Malformed entries and raw SQEs: the bad input is what is tested. */
	for (i = 0; i < 4; i++)
		bad[i] = good;
	bad[0].flags = 1;
	bad[1].reserved[0] = 1;
	bad[2].reserved[1] = 1;
	bad[3].user_data = 1;
	for (i = 0; i < 4; i++)
		queue_cmd(&self->ring, self->fd, &bad[i], i);
	queue_cmd(&self->ring, self->fd, &good, 4);
	s = io_uring_get_sqe(&self->ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, s, self->fd, NULL, 0, 0);
	s->cmd_op = KBATCH_URING_CMD + 1;
	s->user_data = 5;
	/* A good entry with the last reserved byte of the command area set. */
	s = io_uring_get_sqe(&self->ring);
	kbatch_uring_prep(s, self->fd, &good, 6);
	((char *)s)[offsetof(struct io_uring_sqe, cmd) + KBATCH_URING_CMD_AREA - 1] = 1;
	ASSERT_EQ(7, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap_all(&self->ring, 7, res, NULL, raw));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(-EINVAL, res[i]) TH_LOG("bad %u", i);
		EXPECT_EQ(-EINVAL, raw[i]) TH_LOG("bad %u", i);
	}
	EXPECT_EQ(7, res[4]);
	EXPECT_EQ(7, raw[4]);
	EXPECT_EQ(-ENOTTY, res[5]);
	EXPECT_EQ(-ENOTTY, raw[5]);
	EXPECT_EQ(-EINVAL, res[6]);
	EXPECT_EQ(-EINVAL, raw[6]);

	/* Without SQE128 a kbatch_sqe does not fit. */
	ASSERT_EQ(0, ring_init(&plain, 0));
	s = io_uring_get_sqe(&plain);
	io_uring_prep_rw(IORING_OP_URING_CMD, s, self->fd, NULL, 0, 0);
	s->cmd_op = KBATCH_URING_CMD;
	s->user_data = 0;
	ASSERT_EQ(1, io_uring_submit(&plain));
	ASSERT_EQ(0, reap(&plain, 1, res, NULL));
	EXPECT_EQ(-EINVAL, res[0]);
	io_uring_queue_exit(&plain);
}

/* An admin op without CAP_SYS_ADMIN: -EPERM, like the ioctl. */
TEST_F(uring, admin_op_needs_cap)
{
	int op = kbatch_lookup(&self->kb, "kv.clear", NULL);
	struct kbatch_sqe s;
	long long res[1], raw[1];

	if (op < 0)
		SKIP(return, "kbatch_kv is not loaded");
	if (geteuid() == 0)
		SKIP(return, "runs as root");
	kbatch_prep(&s, op, 0, 0, 0);
	queue_cmd(&self->ring, self->fd, &s, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap_all(&self->ring, 1, res, NULL, raw));
	EXPECT_EQ(-EPERM, res[0]);
	EXPECT_EQ(-EPERM, raw[0]);
}

/* kbatch_kv's handler gets the 256 kv.get of one io_uring_enter() at once. */
TEST_F(uring, kv_handler_sees_the_whole_enter)
{
	int op = kbatch_lookup(&self->kb, "kv.get", NULL);
	long long res[256], calls;
	unsigned int i;

	if (op < 0)
		SKIP(return, "kbatch_kv is not loaded");
	if (kv_stat("calls") < 0)
		SKIP(return, "no kbatch_kv statistics (debugfs needs root)");
	calls = kv_stat("calls");
	for (i = 0; i < 256; i++) {
		struct kbatch_sqe s;

		kbatch_prep(&s, op, 1u << 30 | i, 0, 0);
		queue_cmd(&self->ring, self->fd, &s, i);
	}
	ASSERT_EQ(256, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap(&self->ring, 256, res, NULL));
	for (i = 0; i < 256; i++)
		EXPECT_EQ(-ENOENT, res[i]);
	EXPECT_EQ(256, kv_stat("last"));
	EXPECT_EQ(calls + 1, kv_stat("calls"));
}

struct worker {
	int fd;
	unsigned int id;
	int bad;
};

/* Rounds of 128 commands per thread: enough for the four to overlap. */
#define WORKER_ROUNDS	5

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct io_uring ring;
	long long res[128];
	unsigned int i, k;

	if (kbatch_uring_queue_init(RING_ENTRIES, &ring, 0)) {
		w->bad = -1;
		return NULL;
	}
	for (k = 0; k < WORKER_ROUNDS; k++) {
		for (i = 0; i < 128; i++) {
			struct kbatch_sqe s;

			kbatch_prep_echo(&s, w->id * 1000000 + k * 128 + i, 0);
			queue_cmd(&ring, w->fd, &s, i);
		}
		if (io_uring_submit(&ring) != 128 || reap(&ring, 128, res, NULL)) {
			w->bad++;
			break;
		}
		for (i = 0; i < 128; i++)
			w->bad += res[i] != w->id * 1000000 + k * 128 + i;
	}
	io_uring_queue_exit(&ring);
	return NULL;
}

/*
 * Four threads, a ring each, on one file: every result is its own.  Each
 * command completes alone on Linux 6.1 (io_uring_cmd_done()), slow on a
 * debug kernel under emulation, so the rounds are few and the harness's
 * default 30 s is raised to 120 for a loaded host.
 */
TEST_F_TIMEOUT(uring, threads_with_rings_of_their_own, 120)
{
	struct worker w[4];
	pthread_t t[4];
	unsigned int i;

	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ .fd = self->fd, .id = i + 1 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_main, &w[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].bad) TH_LOG("thread %u", i);
	}
}

struct sharer {
	struct io_uring *ring;
	struct kbatch *kb;
	int sleep_op;
	int error;
};

/*
 * Thread A of tasks_sharing_a_ring: a SUM of 1 issued by an io_uring
 * worker (IOSQE_ASYNC) opens a batch whose task work is A's, then A
 * sleeps uninterruptibly for a second, so that its task work waits.
 */
static void *sharer_main(void *arg)
{
	struct sharer *sh = arg;
	struct io_uring_sqe *s = io_uring_get_sqe(sh->ring);
	struct kbatch_sqe e;
	struct kbatch_cqe c;

	kbatch_prep_sum(&e, 1, 0);
	kbatch_uring_prep(s, sh->kb->fd, &e, 0);
	io_uring_sqe_set_flags(s, IOSQE_ASYNC);
	if (io_uring_submit(sh->ring) != 1)
		sh->error = 1;
	kbatch_prep(&e, sh->sleep_op, 1000000, 1, 0);
	if (kbatch_submit_sync(sh->kb, &e, &c, 1) != 1 || c.result)
		sh->error = 2;
	return NULL;
}

/*
 * Two threads share a ring and a file.  A's command opens a batch that
 * A's task work will run; B's command, issued while A cannot run it,
 * must not join it: it would run in A (A's credentials, A's memory) and
 * each SUM would count the other's.
 */
TEST_F(uring, tasks_sharing_a_ring_do_not_share_a_batch)
{
	struct sharer sh = { .ring = &self->ring, .kb = &self->kb };
	struct kbatch_sqe e;
	long long res[2];
	pthread_t a;

	sh.sleep_op = kbatch_lookup(&self->kb, "test.sleep", NULL);
	if (sh.sleep_op < 0)
		SKIP(return, "kbatch_testops is not loaded");
	ASSERT_EQ(0, pthread_create(&a, NULL, sharer_main, &sh));
	/* A has submitted, and its worker issued the command, by then. */
	usleep(300000);
	kbatch_prep_sum(&e, 1000, 0);
	queue_cmd(&self->ring, self->fd, &e, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap(&self->ring, 2, res, NULL));
	ASSERT_EQ(0, pthread_join(a, NULL));
	EXPECT_EQ(0, sh.error);
	EXPECT_EQ(1, res[0]);
	EXPECT_EQ(1000, res[1]);
}

static bool timers_cancelable(const struct kbatch_info *info)
{
	return info->features & KBATCH_FEAT_URING_TIMER;
}

/* TIMER commands complete after their delay, or are refused where they cannot be cancelled. */
TEST_F(uring, timers)
{
	struct timespec a, b;
	struct kbatch_sqe s;
	long long res[2];

	kbatch_prep_timer(&s, 50 * 1000000ULL, 0);
	queue_cmd(&self->ring, self->fd, &s, 0);
	kbatch_prep_echo(&s, 3, 0);
	queue_cmd(&self->ring, self->fd, &s, 1);
	clock_gettime(CLOCK_MONOTONIC, &a);
	ASSERT_EQ(2, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap(&self->ring, 2, res, NULL));
	clock_gettime(CLOCK_MONOTONIC, &b);
	EXPECT_EQ(3, res[1]);
	if (!timers_cancelable(&self->info)) {
		EXPECT_EQ(-EOPNOTSUPP, res[0]);
		return;
	}
	EXPECT_EQ(0, res[0]);
	EXPECT_GE((long long)((b.tv_sec - a.tv_sec) * SEC + b.tv_nsec -
			      a.tv_nsec), 50 * 1000000LL);
}

/*
 * Ring teardown with many commands and timers in flight: the ring exits,
 * the timers are cancelled (nothing leaks: the file's timer count comes
 * back, so a full set of max_timers fits again).
 */
TEST_F(uring, ring_exit_with_timers_in_flight)
{
	unsigned int n = self->info.max_timers, round, i, busy;
	struct io_uring ring;
	struct kbatch_sqe s;
	long long res[1];

	kbatch_prep_timer(&s, 3600 * SEC, 0);
	if (!timers_cancelable(&self->info))
		SKIP(return, "this kernel cannot cancel io_uring commands");
	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, ring_init(&ring, IORING_SETUP_SQE128));
		for (i = 0; i < n; i++) {
			if (!io_uring_sq_space_left(&ring))
				ASSERT_GT(io_uring_submit(&ring), 0);
			queue_cmd(&ring, self->fd, &s, i);
		}
		ASSERT_GT(io_uring_submit(&ring), 0);
		usleep(100000);
		io_uring_queue_exit(&ring);
	}
	/*
	 * The file still works, and its timers come back: a ring is torn
	 * down (and its commands cancelled) in the background, so give it
	 * a few seconds to get a whole set of max_timers through again.
	 */
	kbatch_prep_timer(&s, 1000, 0);
	for (round = 0; round < 100; round++) {
		ASSERT_EQ(0, ring_init(&ring, IORING_SETUP_SQE128));
		for (i = 0; i < n; i++) {
			if (!io_uring_sq_space_left(&ring))
				ASSERT_GT(io_uring_submit(&ring), 0);
			queue_cmd(&ring, self->fd, &s, 0);
		}
		ASSERT_GT(io_uring_submit(&ring), 0);
		busy = 0;
		for (i = 0; i < n; i++) {
			ASSERT_EQ(0, reap(&ring, 1, res, NULL));
			busy += res[0] == -EBUSY;
		}
		io_uring_queue_exit(&ring);
		if (!busy)
			break;
		usleep(50000);
	}
	EXPECT_EQ(0u, busy);
}

/*
 * A process exits while the completions of timers that fired are on
 * their way to it: task work it has not run (IORING_SETUP_COOP_TASKRUN
 * sends no interrupt, and it spins in user space).  At exit io_uring
 * cancels those commands before it runs that task work, and the cancel
 * must not touch the timers their polls already took and freed (make
 * check boots Debian's 6.12 with slab poisoning, where it would oops).
 */
TEST_F(uring, exit_with_timer_completions_on_their_way)
{
	unsigned int round, i;
	int status;
	pid_t pid;

	if (!timers_cancelable(&self->info))
		SKIP(return, "this kernel cannot cancel io_uring commands");
	for (round = 0; round < 24; round++) {
		pid = fork();
		ASSERT_GE(pid, 0);
		if (!pid) {
			struct timespec a, b;
			struct io_uring ring;
			struct kbatch_sqe s;

			if (ring_init(&ring, IORING_SETUP_SQE128 |
				      IORING_SETUP_CQE32 |
				      IORING_SETUP_COOP_TASKRUN))
				_exit(1);
			for (i = 0; i < 64; i++) {
				kbatch_prep_timer(&s, i * 10000ULL, 0);
				queue_cmd(&ring, self->fd, &s, i);
			}
			if (io_uring_submit(&ring) != 64)
				_exit(2);
			clock_gettime(CLOCK_MONOTONIC, &a);
			do
				clock_gettime(CLOCK_MONOTONIC, &b);
			while ((b.tv_sec - a.tv_sec) * SEC + b.tv_nsec -
			       a.tv_nsec < (round % 6) * 400000LL);
			_exit(0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status)) TH_LOG("round %u", round);
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("round %u", round);
	}
}

/* Ticks of system time of every CPU so far (/proc/stat, USER_HZ). */
static long long system_ticks(void)
{
	long long user, nice, sys = -1;
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return -1;
	if (fscanf(f, "cpu %lld %lld %lld", &user, &nice, &sys) != 3)
		sys = -1;
	fclose(f);
	return sys;
}

/*
 * A TIMER fires while its submitting task is stopped, so the task work
 * that would complete it cannot run, and another process then drops the
 * ring's last reference.  io_uring's exit worker cancels what is
 * cancelable until nothing is: the command must not stay cancelable with
 * nothing left to cancel, or the worker spins at full speed for as long
 * as the task stays stopped (a stranger's CPU).
 */
TEST_F(uring, stopped_task_does_not_make_ring_exit_spin)
{
	long long before, spent;
	struct io_uring ring;
	struct kbatch_sqe s;
	int status;
	pid_t pid;

	if (!timers_cancelable(&self->info))
		SKIP(return, "this kernel cannot cancel io_uring commands");
	ASSERT_EQ(0, ring_init(&ring, IORING_SETUP_SQE128 | IORING_SETUP_CQE32));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		/* Its own copy of the ring: submit, let go of it, stop. */
		kbatch_prep_timer(&s, 300 * 1000000ULL, 0);
		queue_cmd(&ring, self->fd, &s, 0);
		if (io_uring_submit(&ring) != 1)
			_exit(1);
		io_uring_queue_exit(&ring);
		raise(SIGSTOP);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status));
	usleep(600000);		/* the timer has fired, its poll has run */
	io_uring_queue_exit(&ring);
	usleep(100000);
	before = system_ticks();
	usleep(1000000);
	spent = system_ticks() - before;
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_GE(before, 0);
	/* A spinning worker costs about 100 ticks a second; idle, a few. */
	EXPECT_LT(spent, 40) TH_LOG("%lld ticks of system time in 1 s", spent);
}

/*
 * A task exits with commands gathered but not run (a DEFER_TASKRUN ring
 * it never waited on): io_uring runs their task work in the exiting task
 * or in a kernel worker, where they must not run (a worker has none of
 * the task's credentials or memory).  They are cancelled: the kv.put
 * never happens.
 */
TEST_F(uring, commands_of_an_exiting_task_do_not_run)
{
	int put = kbatch_lookup(&self->kb, "kv.put", NULL);
	int get = kbatch_lookup(&self->kb, "kv.get", NULL);
	__u64 key = 1u << 29 | (getpid() & 0xffff);
	struct kbatch_sqe s;
	struct kbatch_cqe c;
	int status;
	pid_t pid;

	if (put < 0 || get < 0)
		SKIP(return, "kbatch_kv is not loaded");
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct io_uring ring;

		if (ring_init(&ring, IORING_SETUP_SQE128 | IORING_SETUP_CQE32 |
			      IORING_SETUP_SINGLE_ISSUER |
			      IORING_SETUP_DEFER_TASKRUN))
			_exit(1);
		kbatch_prep(&s, put, key, 42, 0);
		queue_cmd(&ring, self->fd, &s, 0);
		_exit(io_uring_submit(&ring) == 1 ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	usleep(200000);		/* an io_uring worker's fallback, if any */
	kbatch_prep(&s, get, key, 0, 0);
	ASSERT_EQ(1, kbatch_submit_sync(&self->kb, &s, &c, 1));
	EXPECT_EQ(-ENOENT, c.result);
}

/* A process killed with thousands of commands in flight goes at once. */
TEST(killed_with_commands_in_flight)
{
	struct timespec a, b;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct io_uring ring;
		struct kbatch_sqe s;
		struct kbatch kb;

		kbatch_prep_echo(&s, 1, 0);
		if (kbatch_open(&kb, NULL, 0) ||
		    ring_init(&ring, IORING_SETUP_SQE128))
			_exit(1);
		for (unsigned int i = 0; ; i++) {
			if (i == kb.info.max_timers &&
			    (kb.info.features & KBATCH_FEAT_URING_TIMER))
				kbatch_prep_timer(&s, 3600 * SEC, 0);
			if (!io_uring_sq_space_left(&ring))
				io_uring_submit(&ring);
			queue_cmd(&ring, kb.fd, &s, i);
			if (i == 2 * kb.info.max_timers)
				io_uring_submit(&ring);
		}
	}
	usleep(300000);
	clock_gettime(CLOCK_MONOTONIC, &a);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	clock_gettime(CLOCK_MONOTONIC, &b);
	EXPECT_TRUE(WIFSIGNALED(status));
	/* Generous for emulation; a timer not cancelled would take an hour. */
	EXPECT_LT((long long)((b.tv_sec - a.tv_sec) * SEC + b.tv_nsec -
			      a.tv_nsec), 10 * (long long)SEC);
}

TEST_HARNESS_MAIN
