// SPDX-License-Identifier: GPL-2.0
/*
 * Each open file of /dev/kbatch is a submission context of its own: the
 * entries of one file are never run together with another file's, so one
 * file's results never depend on another file's entries (the top of
 * include/uapi/linux/kbatch.h, THE OPEN FILE).
 *
 * Two submitters on one CPU, each with its own file, submit thousands of
 * batches of SUM and test.agg runs (kbatch_testops: every entry's result
 * tells how many entries its handler call saw and the sum of their
 * args[0]).  Every result must be what the submitter's own submit alone
 * implies; a foreign entry in a run changes the SUM or the count, and so
 * does a run cut in two (each SUM is over its whole run).  As
 * root, one submitter stays root and the other becomes uid 65534, the
 * cross-user case; run as uid 65534, both are that uid.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kbatch.h>

#include "kselftest_harness.h"
#include "kb_test.h"
#include "libkbatch.h"

/*
 * Each side submits SUBMITS batches, or as many as SIDE_NS allows: about
 * 9000 on the debug kernels under emulation, every one a chance for the
 * other side's entries to land in its runs.
 */
#define SUBMITS		20000
#define MIN_SUBMITS	1000
#define SIDE_NS		(8 * 1000000000ll)
#define MAX_RUN		8
#define BATCH		(3 * MAX_RUN + 2)
#define AGG_SHIFT	48

/* One submitter, in shared memory when it is a process. */
struct side {
	__u64 value;		/* its SUM argument and test.agg base */
	int cpu;
	int drop;		/* become uid 65534 first */
	int agg;		/* the opcode of test.agg */
	int *go;		/* both start together (atomic) */
	unsigned long submits;
	unsigned long foreign;	/* results its own submit does not imply */
	int error;		/* -errno of a failed call, or 0 */
	char first[160];	/* the first foreign result */
};

/*
 * Submit @r of side @s: SUM x k1, NOP, test.agg x k2, ECHO, SUM x k3.  The
 * three runs have lengths that vary with @r; @want gets each entry's own
 * result.
 */
static unsigned int build(const struct side *s, unsigned int r,
			  struct kbatch_sqe *sqe, long long *want)
{
	unsigned int k1 = 1 + r % MAX_RUN, k2 = 1 + (r / MAX_RUN) % MAX_RUN;
	unsigned int k3 = 1 + (r * 5 + 3) % MAX_RUN, n = 0, i;
	__u64 agg = 0;

	for (i = 0; i < k1; i++, n++) {
		kbatch_prep_sum(&sqe[n], s->value, n);
		want[n] = k1 * s->value;
	}
	kbatch_prep_nop(&sqe[n], n);
	want[n++] = 0;
	for (i = 0; i < k2; i++)
		agg += s->value + i;
	for (i = 0; i < k2; i++, n++) {
		kbatch_prep(&sqe[n], s->agg, s->value + i, 0, n);
		want[n] = ((long long)k2 << AGG_SHIFT) | agg;
	}
	kbatch_prep_echo(&sqe[n], r, n);
	want[n++] = r;
	for (i = 0; i < k3; i++, n++) {
		kbatch_prep_sum(&sqe[n], s->value, n);
		want[n] = k3 * s->value;
	}
	return n;
}

static void check(struct side *s, const struct kbatch_cqe *cqe,
		  unsigned int n, const long long *want)
{
	for (unsigned int i = 0; i < n; i++) {
		__u64 e = cqe[i].user_data;

		if (e < n && cqe[i].result == want[e])
			continue;
		if (!s->foreign++)
			snprintf(s->first, sizeof(s->first),
				 "submit %lu entry %llu: %lld, its own %lld",
				 s->submits, (unsigned long long)e,
				 (long long)cqe[i].result,
				 e < n ? want[e] : 0);
	}
}

/* Submit batches, sync and async in turn, and check every result. */
static void run_side(struct side *s)
{
	struct kbatch_sqe sqe[BATCH];
	struct kbatch_cqe cqe[BATCH];
	long long want[BATCH];
	struct kbatch kb;
	int ret = kbatch_open(&kb, NULL, 0);
	long long end;
	unsigned int n;

	if (ret) {
		s->error = ret;
		return;
	}
	while (!__atomic_load_n(s->go, __ATOMIC_ACQUIRE))
		;
	end = kb_now_ns() + SIDE_NS;
	for (unsigned int r = 0; !ret && r < SUBMITS && kb_now_ns() < end;
	     r++) {
		n = build(s, r, sqe, want);
		if (r & 1) {
			ret = kbatch_submit_async(&kb, sqe, n);
			if (ret == (int)n)
				ret = kbatch_reap_cqes(&kb, cqe, n);
		} else {
			ret = kbatch_submit_sync(&kb, sqe, cqe, n);
		}
		ret = ret < 0 ? ret : ret == (int)n ? 0 : -EIO;
		if (!ret)
			check(s, cqe, n, want);
		s->submits++;
	}
	s->error = ret;
	kbatch_close(&kb);
}

static int one_cpu(void)
{
	return sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
}

FIXTURE(iso) {
	struct side *side;	/* two, shared with child processes */
	int *go;
};

FIXTURE_SETUP(iso)
{
	struct kbatch kb;
	int agg = kbatch_open(&kb, NULL, 0);
	__u32 flags = ~0u;

	ASSERT_EQ(0, agg) TH_LOG("open /dev/kbatch: %s", strerror(-agg));
	agg = kbatch_lookup(&kb, "test.agg", &flags);
	kbatch_close(&kb);
	ASSERT_GE(agg, KBATCH_OP_DYNAMIC) TH_LOG("kbatch_testops not loaded");
	/* The premise: test.agg did not ask for batches across files. */
	ASSERT_EQ(0u, flags & KBATCH_LOOKUP_SHARED);
	self->side = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->side);
	self->go = (int *)&self->side[2];
	for (int i = 0; i < 2; i++)
		self->side[i] = (struct side){
			.value = i ? 1 : 1000, .cpu = one_cpu(), .agg = agg,
			.go = self->go,
		};
}

FIXTURE_TEARDOWN(iso)
{
	munmap(self->side, 4096);
}

static void report(struct __test_metadata *_metadata, struct side *side)
{
	for (int i = 0; i < 2; i++) {
		TH_LOG("side %d (%s): %lu submits, %lu results not its own %s",
		       i, side[i].drop ? "uid 65534" : "as started",
		       side[i].submits, side[i].foreign, side[i].first);
		EXPECT_EQ(0, side[i].error);
		EXPECT_LE((unsigned long)MIN_SUBMITS, side[i].submits);
		EXPECT_EQ(0ul, side[i].foreign);
	}
}

/* Two processes, the second uid 65534, both on one CPU. */
TEST_F_TIMEOUT(iso, two_users_on_one_cpu, 60)
{
	pid_t pid[2];
	int status;

	self->side[1].drop = 1;
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (pid[i])
			continue;
		if (kb_pin_cpu(self->side[i].cpu) ||
		    (self->side[i].drop && kb_become_nobody()))
			_exit(2);
		run_side(&self->side[i]);
		_exit(0);
	}
	__atomic_store_n(self->go, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("side %d could not pin or drop its uid", i);
	}
	report(_metadata, self->side);
}

static void *side_thread(void *arg)
{
	struct side *s = arg;

	s->error = kb_pin_cpu(s->cpu);
	if (!s->error)
		run_side(s);
	return NULL;
}

/* Two threads of one process, each with its own file, on one CPU. */
TEST_F_TIMEOUT(iso, two_files_of_one_process, 60)
{
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, side_thread,
					    &self->side[i]));
	__atomic_store_n(self->go, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	report(_metadata, self->side);
}

/* The opt-in is visible: test.shared asked for batches across files. */
TEST(shared_op_says_so)
{
	struct kbatch kb;
	__u32 flags = 0;
	int op;

	ASSERT_EQ(0, kbatch_open(&kb, NULL, 0));
	op = kbatch_lookup(&kb, "test.shared", &flags);
	kbatch_close(&kb);
	ASSERT_GE(op, KBATCH_OP_DYNAMIC) TH_LOG("kbatch_testops not loaded");
	EXPECT_EQ(KBATCH_LOOKUP_SHARED, flags);
}

TEST_HARNESS_MAIN
