// SPDX-License-Identifier: GPL-2.0
/*
 * CPU hotplug under traffic: CPUs 1..n go offline and come back, in a
 * loop, while threads submit batches synchronously and asynchronously.
 * Every entry must come back once with its own result, and the service's
 * statistics (debugfs) must count exactly the entries submitted: nothing
 * lost, nothing run twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kbatch.h>

#include "kselftest_harness.h"
#include "libkbatch.h"

#define THREADS		4
#define BATCH		16
#define ROUNDS		3

struct submitter {
	struct kbatch kb;
	unsigned int id;
	bool async;
	bool *stop;		/* read with __atomic_load_n() */
	unsigned long entries;
	unsigned long wrong;
	int error;
};

static void fill(struct kbatch_sqe *sqe, struct submitter *s, unsigned long n)
{
	for (unsigned int i = 0; i < BATCH; i++) {
		__u64 v = ((__u64)s->id << 40) | (n * BATCH + i);

		kbatch_prep_echo(&sqe[i], v, v);
	}
}

static void check(struct submitter *s, const struct kbatch_cqe *cqe)
{
	for (unsigned int i = 0; i < BATCH; i++) {
		if (cqe[i].result != (__s64)cqe[i].user_data)
			s->wrong++;
	}
}

static void *submit_loop(void *arg)
{
	struct submitter *s = arg;
	struct kbatch_sqe sqe[BATCH];
	struct kbatch_cqe cqe[BATCH];
	unsigned long n;
	int ret;

	for (n = 0; !__atomic_load_n(s->stop, __ATOMIC_RELAXED); n++) {
		fill(sqe, s, n);
		if (s->async) {
			ret = kbatch_submit_async(&s->kb, sqe, BATCH);
			if (ret == BATCH)
				ret = kbatch_reap_cqes(&s->kb, cqe, BATCH);
		} else {
			ret = kbatch_submit_sync(&s->kb, sqe, cqe, BATCH);
		}
		if (ret != BATCH) {
			s->error = ret < 0 ? ret : -EIO;
			break;
		}
		check(s, cqe);
		s->entries += BATCH;
	}
	return NULL;
}

static int set_online(unsigned int cpu, int on)
{
	char path[64];
	int fd, ret;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/online", cpu);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ret = write(fd, on ? "1" : "0", 1) == 1 ? 0 : -errno;
	close(fd);
	return ret;
}

/* Entries run, as the service's statistics count them, or -1. */
static long entries_run(void)
{
	FILE *f = fopen("/sys/kernel/debug/kbatch-dev/stats", "r");
	unsigned long n;
	char line[256];
	long found = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "entries: %lu", &n) == 1)
			found = n;
	if (f)
		fclose(f);
	return found;
}

TEST(offline_online_under_traffic)
{
	struct submitter s[THREADS];
	pthread_t t[THREADS];
	bool stop = false;
	unsigned long entries = 0;
	long cpus = sysconf(_SC_NPROCESSORS_CONF), before, after;
	int i, cpu, round;

	if (cpus < 2)
		SKIP(return, "needs two CPUs");
	if (geteuid())
		SKIP(return, "CPU hotplug needs root");
	before = entries_run();
	ASSERT_GE(before, 0) TH_LOG("no service statistics in debugfs");
	for (i = 0; i < THREADS; i++) {
		s[i] = (struct submitter){ .id = i, .async = i % 2, .stop = &stop };
		ASSERT_EQ(0, kbatch_open(&s[i].kb, NULL, 0));
		ASSERT_EQ(0, pthread_create(&t[i], NULL, submit_loop, &s[i]));
	}
	for (round = 0; round < ROUNDS; round++) {
		for (cpu = 1; cpu < cpus; cpu++)
			EXPECT_EQ(0, set_online(cpu, 0)) TH_LOG("offline cpu%d", cpu);
		usleep(100000);
		for (cpu = 1; cpu < cpus; cpu++)
			EXPECT_EQ(0, set_online(cpu, 1)) TH_LOG("online cpu%d", cpu);
		usleep(100000);
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		kbatch_close(&s[i].kb);
		EXPECT_EQ(0, s[i].error);
		EXPECT_EQ(0ul, s[i].wrong);
		EXPECT_GT(s[i].entries, 0ul);
		entries += s[i].entries;
	}
	after = entries_run();
	/* Every entry ran exactly once. */
	EXPECT_EQ((long)entries, after - before);
}

TEST_HARNESS_MAIN
