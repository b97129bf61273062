// SPDX-License-Identifier: GPL-2.0
/*
 * KBATCH_OP_TIMER's bounds (include/uapi/linux/kbatch.h): a delay above
 * kbatch_info.timer_max_ns completes with -EINVAL; a file with
 * kbatch_info.max_timers timers in flight gets -EBUSY for one more, and
 * that limit is the file's own, so another file's TIMER still runs; a
 * timer ends with its file (close() cancels it and frees everything), so
 * open/TIMER/close cycles pin no memory; and a TIMER's completion comes
 * after every other completion of its submit, under load too.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/kbatch.h>

#include "kselftest_harness.h"
#include "kb_test.h"
#include "libkbatch.h"

#define MS		1000000ull
#define CYCLES		1000
/*
 * MemAvailable may come back this much below where it was.  A file that
 * used a TIMER holds about 90 KB (its 64 KB completion ring, its timer
 * poller, its buffer), so files pinned after close would cost about
 * 90 MB per 1000 cycles.  What the page allocator keeps of a burst of
 * frees is not pinned but is not counted as available either: in the VM
 * (Debian 6.1) 1000 cycles left MemAvailable 8 to 18 MB lower with slab,
 * vmalloc and per-CPU memory all back where they were; a second burst
 * then cost nothing more.  Across 18 boots of make check's five kernels
 * the measured burst (after the warm-up burst) left it 11.5 to 24.5 MB
 * lower, on the debug kernels most.  48 MB is twice that and about half
 * a pinned context per cycle.
 */
#define MEM_SLACK_KB	(48 * 1024)

FIXTURE(timer) {
	struct kbatch kb;
};

FIXTURE_SETUP(timer)
{
	int ret = kbatch_open(&self->kb, NULL, 0);

	ASSERT_EQ(0, ret) TH_LOG("open /dev/kbatch: %s", strerror(-ret));
	ASSERT_GT(self->kb.info.max_timers, 0u);
	ASSERT_GT(self->kb.info.timer_max_ns, 0ull);
}

FIXTURE_TEARDOWN(timer)
{
	kbatch_close(&self->kb);
}

/* A delay that never fires during a test, at most timer_max_ns. */
static __u64 long_delay(const struct kbatch_info *info)
{
	return info->timer_max_ns < 600000 * MS ? info->timer_max_ns :
						  600000 * MS;
}

/* Read one completion within @ms; 0 or -errno (-ETIMEDOUT). */
static int read_one(struct kbatch *kb, struct kbatch_cqe *cqe, int ms)
{
	int ret = kbatch_wait_cqes(kb, cqe, 1, ms);

	if (ret == -ETIME)
		return -ETIMEDOUT;
	return ret == 1 ? 0 : ret < 0 ? ret : -EIO;
}

TEST_F(timer, delay_above_the_maximum_is_einval)
{
	struct kbatch_sqe sqe[3];
	struct kbatch_cqe cqe;
	int seen[4] = { 0 };

	kbatch_prep_timer(&sqe[0], self->kb.info.timer_max_ns + 1, 1);
	kbatch_prep_timer(&sqe[1], ~0ull, 2);
	kbatch_prep_timer(&sqe[2], 1 * MS, 3);
	ASSERT_EQ(3, kbatch_submit_async(&self->kb, sqe, 3));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, read_one(&self->kb, &cqe, 10000));
		ASSERT_LT(cqe.user_data, 4ull);
		seen[cqe.user_data]++;
		EXPECT_EQ(cqe.user_data == 3 ? 0 : -EINVAL, cqe.result)
			TH_LOG("timer %llu", (unsigned long long)cqe.user_data);
	}
	EXPECT_EQ(1, seen[1]);
	EXPECT_EQ(1, seen[2]);
	EXPECT_EQ(1, seen[3]);
}

/*
 * A TIMER that fails at once is one of its submit's completions too: a
 * timer of the same submit that fires at once completes after it, however
 * long the rest of the submit takes (here, setting up many more timers).
 * Rounds on fresh files (closing one cancels its timers), up to 8 or
 * until 3 s have passed: a debug kernel gets through one or two, its
 * slower setup making each round's window wider.
 */
TEST_F(timer, fires_after_the_timers_of_its_submit_that_failed)
{
	unsigned int n = self->kb.info.max_timers - 1, i, round;
	struct timespec t0, t;
	struct kbatch_sqe *sqe;
	struct kbatch_cqe cqe;
	struct kbatch kb;

	if (n + 2 > self->kb.info.max_entries)
		n = self->kb.info.max_entries - 2;
	sqe = calloc(n + 2, sizeof(*sqe));
	ASSERT_NE(NULL, sqe);
	kbatch_prep_timer(&sqe[0], 0, 0);
	for (i = 1; i <= n; i++)
		kbatch_prep_timer(&sqe[i], long_delay(&self->kb.info), i);
	kbatch_prep_timer(&sqe[n + 1], self->kb.info.timer_max_ns + 1, n + 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (round = 0; round < 8; round++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (round && t.tv_sec - t0.tv_sec >= 3)
			break;
		ASSERT_EQ(0, kbatch_open(&kb, NULL, 0));
		ASSERT_EQ((int)n + 2, kbatch_submit_async(&kb, sqe, n + 2));
		ASSERT_EQ(0, read_one(&kb, &cqe, 10000));
		EXPECT_EQ(n + 1, cqe.user_data) TH_LOG("round %u", round);
		EXPECT_EQ(-EINVAL, cqe.result);
		ASSERT_EQ(0, read_one(&kb, &cqe, 10000));
		EXPECT_EQ(0ull, cqe.user_data) TH_LOG("round %u", round);
		EXPECT_EQ(0, cqe.result);
		kbatch_close(&kb);
	}
	free(sqe);
}

/*
 * Start @n long timers on @kb, in submits of at most max_entries.  0 or
 * -errno.
 */
static int start_timers(struct kbatch *kb, unsigned int n, __u64 tag)
{
	const struct kbatch_info *info = &kb->info;
	struct kbatch_sqe *sqe = calloc(info->max_entries, sizeof(*sqe));
	unsigned int k;
	int ret = sqe ? 0 : -ENOMEM;

	for (unsigned int i = 0; !ret && i < n; i += k) {
		k = n - i < info->max_entries ? n - i : info->max_entries;
		for (unsigned int j = 0; j < k; j++)
			kbatch_prep_timer(&sqe[j], long_delay(info), tag + i + j);
		ret = kbatch_submit_async(kb, sqe, k);
		ret = ret < 0 ? ret : ret == (int)k ? 0 : -EIO;
	}
	free(sqe);
	return ret;
}

/*
 * File A at its timer limit: one timer more is -EBUSY at once (when its
 * completion queue has room for it), and file B's TIMER runs.
 */
TEST_F(timer, limit_is_per_file)
{
	unsigned int max = self->kb.info.max_timers, cq = self->kb.info.cq_entries;
	struct kbatch_sqe sqe;
	struct kbatch_cqe cqe;
	struct kbatch b;

	kbatch_prep_timer(&sqe, long_delay(&self->kb.info), 1u << 30);
	ASSERT_EQ(0, kbatch_open(&b, NULL, 0));
	ASSERT_EQ(0, start_timers(&self->kb, max < cq ? max : cq, 0));
	if (max < cq) {
		ASSERT_EQ(1, kbatch_submit_async(&self->kb, &sqe, 1));
		ASSERT_EQ(0, read_one(&self->kb, &cqe, 10000));
		EXPECT_EQ(1ull << 30, cqe.user_data);
		EXPECT_EQ(-EBUSY, cqe.result);
	}
	kbatch_prep_timer(&sqe, 1 * MS, 7);
	ASSERT_EQ(1, kbatch_submit_async(&b, &sqe, 1));
	ASSERT_EQ(0, read_one(&b, &cqe, 10000));
	EXPECT_EQ(7ull, cqe.user_data);
	EXPECT_EQ(0, cqe.result);
	kbatch_close(&b);
}

static long mem_available_kb(void)
{
	return kb_proc_number("/proc/meminfo", "MemAvailable: %lld kB");
}

/*
 * MemAvailable once it has settled: two readings 200 ms apart within
 * 256 kB (memory that earlier tests freed after a grace period is back),
 * or the last reading after 5 s.
 */
static long settled_mem_available_kb(void)
{
	long prev = mem_available_kb(), now = prev;

	for (int i = 0; i < 25; i++) {
		usleep(200 * 1000);
		now = mem_available_kb();
		if (labs(now - prev) < 256)
			break;
		prev = now;
	}
	return now;
}

/* One open/TIMER(timer_max_ns)/close cycle.  0 or -errno. */
static int timer_cycle(const struct kbatch_info *info)
{
	struct kbatch_sqe sqe;
	struct kbatch kb;
	int ret = kbatch_open(&kb, NULL, 0);

	if (ret)
		return ret;
	kbatch_prep_timer(&sqe, info->timer_max_ns, 1);
	ret = kbatch_submit_async(&kb, &sqe, 1);
	kbatch_close(&kb);
	return ret < 0 ? ret : ret == 1 ? 0 : -EIO;
}

TEST_F_TIMEOUT(timer, closed_files_pin_no_memory, 120)
{
	long before, after = -1;
	int i;

	/* Warm the caches the cycles use (see MEM_SLACK_KB), then measure. */
	for (i = 0; i < CYCLES; i++)
		ASSERT_EQ(0, timer_cycle(&self->kb.info));
	before = settled_mem_available_kb();
	ASSERT_GT(before, 0);
	for (i = 0; i < CYCLES; i++)
		ASSERT_EQ(0, timer_cycle(&self->kb.info)) TH_LOG("cycle %d", i);
	/* Memory freed after a grace period comes back within seconds. */
	for (i = 0; i < 50; i++) {
		after = mem_available_kb();
		if (after >= before - MEM_SLACK_KB)
			break;
		usleep(100 * 1000);
	}
	TH_LOG("MemAvailable %ld kB before, %ld kB after %d cycles",
	       before, after, CYCLES);
	EXPECT_GE(after, before - MEM_SLACK_KB);
}

struct loader {
	int *stop;
	int error;
};

/* Load: sync ECHO batches on a file of its own until told to stop. */
static void *load_main(void *arg)
{
	struct loader *l = arg;
	struct kbatch_sqe sqe[64];
	struct kbatch_cqe cqe[64];
	struct kbatch kb;
	int ret;

	l->error = kbatch_open(&kb, NULL, 0);
	for (int i = 0; i < 64; i++)
		kbatch_prep_echo(&sqe[i], i, i);
	while (!l->error && !__atomic_load_n(l->stop, __ATOMIC_RELAXED)) {
		ret = kbatch_submit_sync(&kb, sqe, cqe, 64);
		l->error = ret < 0 ? ret : ret == 64 ? 0 : -EIO;
	}
	kbatch_close(&kb);
	return NULL;
}

#define ORDER_SUBMITS	1000
#define ORDER_ENTRIES	6	/* ECHO, ECHO, TIMER, ECHO, TIMER, ECHO */

/*
 * Reads whatever is ready and checks the order: when a TIMER of submit s
 * completes, every other entry of s has completed before it.  Returns how
 * many completions it read, or -errno.
 */
static int drain(struct kbatch *kb, unsigned char *seen, unsigned long *wrong,
		 int block)
{
	struct kbatch_cqe cqe[64];
	unsigned int s, e;
	int n;

	n = block ? kbatch_wait_cqes(kb, cqe, 1, -1) :
		    kbatch_peek_cqes(kb, cqe, 64);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		s = cqe[i].user_data / ORDER_ENTRIES;
		e = cqe[i].user_data % ORDER_ENTRIES;
		if (s >= ORDER_SUBMITS)
			return -EIO;
		seen[s] |= 1u << e;
		/* Entries 2 and 4 are timers; 0, 1, 3, 5 must be in. */
		if ((e == 2 || e == 4) && (seen[s] & 0x2b) != 0x2b)
			(*wrong)++;
	}
	return n;
}

TEST_F_TIMEOUT(timer, completes_after_the_rest_of_its_submit, 120)
{
	unsigned char *seen = calloc(ORDER_SUBMITS, 1);
	struct loader l[3];
	pthread_t t[3];
	unsigned long wrong = 0;
	unsigned int pending = 0, s;
	int stop = 0, got;

	ASSERT_NE(NULL, seen);
	for (int i = 0; i < 3; i++) {
		l[i] = (struct loader){ .stop = &stop };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, load_main, &l[i]));
	}
	for (s = 0; s < ORDER_SUBMITS; s++) {
		struct kbatch_sqe sqe[ORDER_ENTRIES];
		__u64 ud = s * ORDER_ENTRIES;

		for (int e = 0; e < ORDER_ENTRIES; e++) {
			if (e == 2 || e == 4)
				kbatch_prep_timer(&sqe[e], e == 2 ? 0 : 1000, ud + e);
			else
				kbatch_prep_echo(&sqe[e], s, ud + e);
		}
		while (pending + ORDER_ENTRIES > self->kb.info.cq_entries) {
			got = drain(&self->kb, seen, &wrong, 1);
			ASSERT_GT(got, 0);
			pending -= got;
		}
		ASSERT_EQ(ORDER_ENTRIES,
			  kbatch_submit_async(&self->kb, sqe, ORDER_ENTRIES));
		pending += ORDER_ENTRIES;
		got = drain(&self->kb, seen, &wrong, 0);
		ASSERT_GE(got, 0);
		pending -= got;
	}
	while (pending) {
		got = drain(&self->kb, seen, &wrong, 1);
		ASSERT_GT(got, 0);
		pending -= got;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, l[i].error);
	}
	for (s = 0; s < ORDER_SUBMITS; s++)
		ASSERT_EQ(0x3f, seen[s]) TH_LOG("submit %u", s);
	EXPECT_EQ(0ul, wrong) TH_LOG("%lu timers read before the rest of their submit",
				     wrong);
	free(seen);
}

TEST_HARNESS_MAIN
