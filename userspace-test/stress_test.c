// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency: 4 processes of 4 threads each submit batches of mixed ops,
 * synchronously and asynchronously, for a bounded time.  Every user_data
 * must come back exactly once, with the right result.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/kbatch.h>

#include "kselftest_harness.h"
#include "libkbatch.h"

#define PROCS		4
#define THREADS		4
#define SECONDS		3
#define MAX_BATCH	48
#define UNKNOWN_OP	250

struct worker {
	unsigned int id;
	unsigned long submits, entries;
	char error[160];
};

static __u64 seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Entry @i of a batch: the op follows from @seq so the check can redo it. */
static void make_entry(struct kbatch_sqe *sqe, __u64 tag, __u64 seq)
{
	__u32 ops[] = { KBATCH_OP_NOP, KBATCH_OP_ECHO, KBATCH_OP_SUM,
			UNKNOWN_OP };

	kbatch_prep(sqe, ops[(seq * 7 + seq / 3) % 4], seq * 3 + 1, 0,
		    tag | seq);
}

/*
 * The result entry @sqe must get; @run_sum is the sum of its SUM run (the
 * consecutive SUM entries of its own submit around it, and no others).
 */
static int check_result(const struct kbatch_sqe *sqe, long long result,
			long long run_sum)
{
	switch (sqe->opcode) {
	case KBATCH_OP_NOP:
		return result == 0;
	case KBATCH_OP_ECHO:
		return result == (long long)sqe->args[0];
	case KBATCH_OP_SUM:
		return result == run_sum;
	default:
		return result == -EOPNOTSUPP;
	}
}

static int check_batch(struct worker *w, const struct kbatch_sqe *sqe,
		       const struct kbatch_cqe *cqe, unsigned int n,
		       __u64 tag, __u64 first)
{
	unsigned char seen[MAX_BATCH] = { 0 };
	long long run_sum[MAX_BATCH];
	unsigned int a, b;
	__u64 e;

	for (a = 0; a < n; a = b) {
		long long sum = 0;

		for (b = a; b < n && sqe[b].opcode == KBATCH_OP_SUM; b++)
			sum += sqe[b].args[0];
		for (unsigned int j = a; j < b; j++)
			run_sum[j] = sum;
		if (b == a)
			run_sum[b++] = 0;
	}

	for (unsigned int i = 0; i < n; i++) {
		e = cqe[i].user_data - (tag | first);
		if ((cqe[i].user_data & ~0xffffffffull) != tag || e >= n ||
		    seen[e]++) {
			snprintf(w->error, sizeof(w->error),
				 "bad or repeated user_data %#llx",
				 (unsigned long long)cqe[i].user_data);
			return -1;
		}
		if (!check_result(&sqe[e], cqe[i].result, run_sum[e])) {
			snprintf(w->error, sizeof(w->error),
				 "op %u arg %llu: result %lld", sqe[e].opcode,
				 (unsigned long long)sqe[e].args[0],
				 (long long)cqe[i].result);
			return -1;
		}
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct kbatch_sqe sqe[MAX_BATCH];
	struct kbatch_cqe cqe[MAX_BATCH];
	__u64 tag = (__u64)w->id << 32, seq = 0, end = seconds_now() + SECONDS;
	unsigned int n, i;
	struct kbatch kb;
	int ret = kbatch_open(&kb, NULL, 0);

	if (ret) {
		snprintf(w->error, sizeof(w->error), "open: %s", strerror(-ret));
		return NULL;
	}
	srand(w->id);
	while (seconds_now() < end) {
		n = 1 + rand() % MAX_BATCH;
		for (i = 0; i < n; i++)
			make_entry(&sqe[i], tag, seq + i);
		if (w->submits & 1) {
			ret = kbatch_submit_async(&kb, sqe, n);
			if (ret == (int)n)
				ret = kbatch_reap_cqes(&kb, cqe, n);
		} else {
			ret = kbatch_submit_sync(&kb, sqe, cqe, n);
		}
		if (ret != (int)n) {
			snprintf(w->error, sizeof(w->error), "submit: %s",
				 ret < 0 ? strerror(-ret) : "short count");
			break;
		}
		if (check_batch(w, sqe, cqe, n, tag, seq))
			break;
		seq += n;
		w->submits++;
		w->entries += n;
	}
	kbatch_close(&kb);
	return NULL;
}

/* One process: THREADS workers; exit status 0 if all of them were right. */
static int process_main(unsigned int proc)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];
	int bad = 0;

	memset(w, 0, sizeof(w));
	for (unsigned int i = 0; i < THREADS; i++) {
		w[i].id = proc * THREADS + i + 1;
		if (pthread_create(&t[i], NULL, worker_main, &w[i]))
			return 2;
	}
	for (unsigned int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		if (w[i].error[0] || !w[i].submits) {
			fprintf(stderr, "# worker %u: %s (%lu submits)\n",
				w[i].id, w[i].error, w[i].submits);
			bad = 1;
		}
	}
	return bad;
}

TEST(mixed_ops_from_4_processes_of_4_threads)
{
	pid_t pid[PROCS];
	int status;

	for (unsigned int p = 0; p < PROCS; p++) {
		pid[p] = fork();
		ASSERT_GE(pid[p], 0);
		if (!pid[p])
			_exit(process_main(p));
	}
	for (unsigned int p = 0; p < PROCS; p++) {
		ASSERT_EQ(pid[p], waitpid(pid[p], &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("process %u", p);
	}
}

TEST_HARNESS_MAIN
