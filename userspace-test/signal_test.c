// SPDX-License-Identifier: GPL-2.0
/*
 * Signals during a long synchronous submit (include/uapi/linux/kbatch.h:
 * "A fatal signal stops the submit between two runs").  A child submits
 * test.sleep entries (kbatch_testops) lasting seconds; SIGKILL ~100 ms in
 * must end it at once: the child is reaped within KILL_BOUND_MS, so the
 * submit's wait is killable, within one run (test.sleep sleeps killably)
 * and between runs (test.sleep told to sleep unkillably, one entry per
 * run: only the submit layer can stop there).  A signal that is not fatal
 * does not cut a synchronous submit short: every entry completes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kbatch.h>

#include "kselftest_harness.h"
#include "kb_test.h"
#include "libkbatch.h"

#define KILL_BOUND_MS	1000
#define KILL_AFTER_MS	100
#define MAX_ENTRIES	256

static int sleep_op(void)
{
	struct kbatch kb;
	int op = kbatch_open(&kb, NULL, 0);

	if (op)
		return op;
	op = kbatch_lookup(&kb, "test.sleep", NULL);
	kbatch_close(&kb);
	return op;
}

/*
 * Fork a child that submits @n entries synchronously: test.sleep of @us
 * microseconds (unkillably if @hard), each followed by a NOP when @split
 * (so each sleep is a run of its own).  The child says "go" on @pipefd
 * just before the ioctl.  Returns its pid, or -1.
 */
static pid_t start_sleeper(int op, unsigned int n, __u64 us, int hard,
			   int split, int pipefd)
{
	struct kbatch_sqe sqe[MAX_ENTRIES];
	struct kbatch_cqe cqe[MAX_ENTRIES];
	pid_t pid = fork();
	struct kbatch kb;

	if (pid)
		return pid;
	if (kbatch_open(&kb, NULL, 0))
		_exit(2);
	for (unsigned int i = 0; i < n; i++) {
		if (split && i % 2)
			kbatch_prep_nop(&sqe[i], i);
		else
			kbatch_prep(&sqe[i], op, us, hard, i);
	}
	if (write(pipefd, "g", 1) != 1)
		_exit(3);
	kbatch_submit_sync(&kb, sqe, cqe, n);
	/* Not reached when killed. */
	_exit(4);
}

/*
 * Kill the child @pid (start_sleeper()'s) KILL_AFTER_MS after it said "go"
 * on @rd: it must die of the SIGKILL and be reaped within KILL_BOUND_MS.
 */
static void kill_and_reap(struct __test_metadata *_metadata, pid_t pid,
			  int rd)
{
	long long start, ms;
	int status;
	char c;

	ASSERT_GT(pid, 0);
	ASSERT_EQ(1, read(rd, &c, 1));
	usleep(KILL_AFTER_MS * 1000);
	start = kb_now_ns();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ms = (kb_now_ns() - start) / 1000000;
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("child status %#x", status);
	EXPECT_LT(ms, KILL_BOUND_MS) TH_LOG("reaped %lld ms after SIGKILL", ms);
}

FIXTURE(sig) {
	int op;
	int pipe[2];
};

FIXTURE_SETUP(sig)
{
	self->op = sleep_op();
	ASSERT_GE(self->op, KBATCH_OP_DYNAMIC) TH_LOG("kbatch_testops not loaded");
	ASSERT_EQ(0, pipe(self->pipe));
}

FIXTURE_TEARDOWN(sig)
{
	close(self->pipe[0]);
	close(self->pipe[1]);
}

/* One run of 64 x 100 ms (6.4 s): the handler's killable sleep ends. */
TEST_F(sig, sigkill_ends_a_long_run)
{
	pid_t pid = start_sleeper(self->op, 64, 100000, 0, 0, self->pipe[1]);

	kill_and_reap(_metadata, pid, self->pipe[0]);
}

/*
 * 128 runs of one unkillable 40 ms sleep, NOPs between them (5 s): the
 * submit stops at the first run boundary after the signal.
 */
TEST_F(sig, sigkill_stops_between_runs)
{
	pid_t pid = start_sleeper(self->op, 256, 40000, 1, 1, self->pipe[1]);

	kill_and_reap(_metadata, pid, self->pipe[0]);
}

static int usr1_seen;	/* atomic: written by the handler */

static void on_usr1(int sig)
{
	__atomic_fetch_add(&usr1_seen, 1, __ATOMIC_RELAXED);
}

/* SIGUSR1 (handled) five times during 10 x 50 ms: all ten complete. */
TEST_F(sig, other_signals_do_not_cut_a_submit)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct kbatch_sqe sqe[10];
	struct kbatch_cqe cqe[10];
	pid_t parent = getpid(), pid;
	struct kbatch kb;
	int ret;

	ASSERT_EQ(0, kbatch_open(&kb, NULL, 0));
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	for (int i = 0; i < 10; i++)
		kbatch_prep(&sqe[i], self->op, 50000, 0, i);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		for (int i = 0; i < 5; i++) {
			usleep(60000);
			kill(parent, SIGUSR1);
		}
		_exit(0);
	}
	memset(cqe, 0xa5, sizeof(cqe));
	ret = kbatch_submit_sync(&kb, sqe, cqe, 10);
	waitpid(pid, NULL, 0);
	/* Not an error, and all ten done (the header's @done). */
	EXPECT_LE(0, ret);
	EXPECT_EQ(10, ret);
	for (int i = 0; i < 10; i++) {
		EXPECT_EQ((__u64)i, cqe[i].user_data);
		EXPECT_EQ(0, cqe[i].result) TH_LOG("entry %d", i);
	}
	/* Pending during the ioctl, they are handled when it returns. */
	EXPECT_LT(0, __atomic_load_n(&usr1_seen, __ATOMIC_RELAXED));
	kbatch_close(&kb);
}

TEST_HARNESS_MAIN
