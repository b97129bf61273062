// SPDX-License-Identifier: GPL-2.0
/*
 * KBATCH_IOC_SUBMIT from user space: every built-in op synchronously and
 * asynchronously, KBATCH_IOC_LOOKUP, read() and poll() on the completion
 * queue, its bound, and the answers to bad input.  Entries are prepared
 * and submitted with libkbatch; the tests of the ABI itself (the header's
 * @done and reserved fields, bad pointers, read()'s own answers) make
 * the raw calls, each said so where it is.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/kbatch.h>

#include "kselftest_harness.h"
#include "kb_test.h"
#include "libkbatch.h"

#define UNKNOWN_OP	200
/* An address in the kernel half on x86-64: not in the user address space. */
#define KERNEL_ADDR	0xffff800000000000ull

/*
 * A mixed batch and the result each entry must get: NOP, ECHO of a
 * positive and a negative value, a run of four SUMs, an unknown opcode in
 * the middle of the batch, then a run of two SUMs (a separate run).
 */
static unsigned int mixed_batch(struct kbatch_sqe *sqe, long long *want)
{
	unsigned int n = 0;

	want[n] = 0;
	kbatch_prep(&sqe[n++], KBATCH_OP_NOP, 0, 0, 100);
	want[n] = 42;
	kbatch_prep(&sqe[n++], KBATCH_OP_ECHO, 42, 0, 101);
	want[n] = -5;
	kbatch_prep(&sqe[n++], KBATCH_OP_ECHO, (__u64)-5LL, 0, 102);
	for (int i = 1; i <= 4; i++) {
		want[n] = 10;
		kbatch_prep(&sqe[n++], KBATCH_OP_SUM, i, 0, 102 + i);
	}
	want[n] = -EOPNOTSUPP;
	kbatch_prep(&sqe[n++], UNKNOWN_OP, 0, 0, 107);
	want[n] = 30;
	kbatch_prep(&sqe[n++], KBATCH_OP_SUM, 10, 0, 108);
	want[n] = 30;
	kbatch_prep(&sqe[n++], KBATCH_OP_SUM, 20, 0, 109);
	return n;
}

/*
 * Nothing is ready on @fd: a raw non-blocking read() fails with EAGAIN
 * (libkbatch hides that answer; it is the ABI).  Leaves @fd non-blocking.
 */
static void expect_nothing_ready(struct __test_metadata *_metadata, int fd)
{
	struct kbatch_cqe cqe;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	EXPECT_EQ(-1, read(fd, &cqe, sizeof(cqe)));
	EXPECT_EQ(EAGAIN, errno);
}

/* Fill the completion queue of @kb with async entries of @opcode. */
static int fill_cq(struct kbatch *kb, __u32 opcode, __u64 arg)
{
	const struct kbatch_info *info = &kb->info;
	struct kbatch_sqe *sqe = calloc(info->max_entries, sizeof(*sqe));
	int ret = sqe ? 0 : -ENOMEM;

	for (unsigned int i = 0; !ret && i < info->max_entries; i++)
		kbatch_prep(&sqe[i], opcode, arg, 0, i);
	for (unsigned int n = 0; !ret && n < info->cq_entries;
	     n += info->max_entries) {
		ret = kbatch_submit_async(kb, sqe, info->max_entries);
		ret = ret < 0 ? ret : ret == (int)info->max_entries ? 0 : -EIO;
	}
	free(sqe);
	return ret;
}

FIXTURE(dev) {
	struct kbatch kb;
};

FIXTURE_SETUP(dev)
{
	int ret = kbatch_open(&self->kb, NULL, 0);

	ASSERT_EQ(0, ret) TH_LOG("open /dev/kbatch: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(dev)
{
	kbatch_close(&self->kb);
}

TEST_F(dev, info_reports_features_and_limits)
{
	__u32 need = KBATCH_FEAT_SUBMIT | KBATCH_FEAT_ASYNC |
		     KBATCH_FEAT_LOOKUP | KBATCH_FEAT_TIMER;

	EXPECT_EQ(need, self->kb.info.features & need);
	EXPECT_GE(self->kb.info.max_entries, 1u);
	EXPECT_GE(self->kb.info.cq_entries, self->kb.info.max_entries);
	EXPECT_GT(self->kb.info.max_timers, 0u);
	EXPECT_GT(self->kb.info.timer_max_ns, 0ull);
	EXPECT_EQ(0u, self->kb.info.reserved32);
	for (unsigned int i = 0; i < 3; i++)
		EXPECT_EQ(0ull, self->kb.info.reserved[i]);
}

TEST_F(dev, sync_every_builtin_op)
{
	struct kbatch_sqe sqe[16];
	struct kbatch_cqe cqe[16];
	long long want[16];
	unsigned int n = mixed_batch(sqe, want);
	int done;

	memset(cqe, 0xa5, sizeof(cqe));
	done = kbatch_submit_sync(&self->kb, sqe, cqe, n);
	ASSERT_LE(0, done);
	EXPECT_EQ((int)n, done);
	for (unsigned int i = 0; i < n; i++) {
		EXPECT_EQ(sqe[i].user_data, cqe[i].user_data);
		EXPECT_EQ(want[i], cqe[i].result) TH_LOG("entry %u", i);
	}
	/* Room past nr is left alone. */
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ull, cqe[n].user_data);
}

TEST_F(dev, async_every_builtin_op)
{
	struct kbatch_sqe sqe[16];
	struct kbatch_cqe cqe[16];
	long long want[16];
	unsigned int n = mixed_batch(sqe, want);
	int seen[16] = { 0 };
	int done;

	done = kbatch_submit_async(&self->kb, sqe, n);
	ASSERT_LE(0, done);
	EXPECT_EQ((int)n, done);
	ASSERT_EQ((int)n, kbatch_reap_cqes(&self->kb, cqe, n));
	for (unsigned int i = 0; i < n; i++) {
		unsigned int e = cqe[i].user_data - 100;

		ASSERT_LT(e, n);
		seen[e]++;
		EXPECT_EQ(want[e], cqe[i].result) TH_LOG("entry %u", e);
	}
	for (unsigned int i = 0; i < n; i++)
		EXPECT_EQ(1, seen[i]);
	/* Nothing more. */
	expect_nothing_ready(_metadata, self->kb.fd);
}

/*
 * Ops that complete at once are in the completion queue when the async
 * submit returns: a non-blocking read gets every one of them.
 */
TEST_F(dev, async_completions_are_ready_when_submit_returns)
{
	struct kbatch_sqe sqe[16];
	struct kbatch_cqe cqe[17];
	long long want[16];
	unsigned int n = mixed_batch(sqe, want);
	int fl = fcntl(self->kb.fd, F_GETFL);

	/* Raw read(): one non-blocking read() must get every completion. */
	ASSERT_EQ(0, fcntl(self->kb.fd, F_SETFL, fl | O_NONBLOCK));
	for (int round = 0; round < 100; round++) {
		ASSERT_EQ((int)n, kbatch_submit_async(&self->kb, sqe, n));
		ASSERT_EQ((ssize_t)(n * sizeof(*cqe)),
			  read(self->kb.fd, cqe, sizeof(cqe)))
			TH_LOG("round %d: %s", round, strerror(errno));
		for (unsigned int i = 0; i < n; i++)
			EXPECT_EQ(want[cqe[i].user_data - 100], cqe[i].result);
	}
}

TEST_F(dev, timer_is_async_only)
{
	struct kbatch_sqe sqe;
	struct kbatch_cqe cqe;

	kbatch_prep_timer(&sqe, 1000, 1);
	EXPECT_EQ(-EINVAL, kbatch_submit_sync(&self->kb, &sqe, &cqe, 1));
	EXPECT_EQ(KBATCH_OP_TIMER, kbatch_lookup(&self->kb, "timer", NULL));
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

#define MS	1000000ull

/*
 * Timers complete, each not before its delay, and poll() says readable
 * whenever a completion is there to read.  Their order is not asserted: a
 * VM starved by its host can deliver two expired timers in one poller
 * cycle, in slot order.
 */
TEST_F(dev, timers_complete_after_their_delay)
{
	struct pollfd pfd = { .fd = self->kb.fd, .events = POLLIN };
	long long start = now_ms(), at;
	struct kbatch_sqe sqe[4];
	struct kbatch_cqe cqe;
	int seen[4] = { 0 };

	kbatch_prep_timer(&sqe[0], 900 * MS, 3);
	kbatch_prep_timer(&sqe[1], 300 * MS, 1);
	kbatch_prep_echo(&sqe[2], 5, 0);
	kbatch_prep_timer(&sqe[3], 600 * MS, 2);

	ASSERT_EQ(4, kbatch_submit_async(&self->kb, sqe, 4));
	for (unsigned int i = 0; i < 4; i++) {
		ASSERT_EQ(1, poll(&pfd, 1, 30000));
		at = now_ms() - start;
		ASSERT_EQ(1, kbatch_reap_cqes(&self->kb, &cqe, 1));
		ASSERT_LT(cqe.user_data, 4ull);
		seen[cqe.user_data]++;
		EXPECT_EQ(cqe.user_data ? 0 : 5, cqe.result);
		/* The ECHO first: timers come after the rest of the submit. */
		EXPECT_EQ(i == 0, cqe.user_data == 0);
		/* Timer k was due 300 * k ms after the submit, not before. */
		EXPECT_GE(at, 300 * (long long)cqe.user_data)
			TH_LOG("timer %llu after %lld ms", cqe.user_data, at);
	}
	for (unsigned int i = 0; i < 4; i++)
		EXPECT_EQ(1, seen[i]);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
}

/* Many timers at once, up to the file's limit: each completes once. */
TEST_F(dev, many_timers)
{
	unsigned int n = self->kb.info.max_entries < self->kb.info.max_timers ?
			 self->kb.info.max_entries : self->kb.info.max_timers;
	struct kbatch_sqe *sqe = calloc(n, sizeof(*sqe));
	struct kbatch_cqe *cqe = calloc(n, sizeof(*cqe));
	unsigned char *seen = calloc(n, 1);

	ASSERT_NE(NULL, sqe);
	ASSERT_NE(NULL, cqe);
	ASSERT_NE(NULL, seen);
	for (unsigned int i = 0; i < n; i++)
		kbatch_prep(&sqe[i], KBATCH_OP_TIMER, (i % 50) * MS, 0, i);
	ASSERT_EQ((int)n, kbatch_submit_async(&self->kb, sqe, n));
	ASSERT_EQ((int)n, kbatch_reap_cqes(&self->kb, cqe, n));
	for (unsigned int i = 0; i < n; i++) {
		ASSERT_LT(cqe[i].user_data, n);
		EXPECT_EQ(0, seen[cqe[i].user_data]++);
		EXPECT_EQ(0, cqe[i].result);
	}
	free(sqe);
	free(cqe);
	free(seen);
}

/*
 * Timers hold their room in the completion queue until they complete: as
 * many long timers as the file may have (at most cq_entries), NOPs for the
 * rest of the room, and one entry more is -EBUSY.  Reading the NOPs back
 * leaves nothing ready: the timers still hold their room.
 */
TEST_F(dev, pending_timers_count_against_the_queue)
{
	unsigned int cq = self->kb.info.cq_entries, max = self->kb.info.max_entries;
	unsigned int timers = self->kb.info.max_timers < cq ?
			      self->kb.info.max_timers : cq, k;
	__u64 delay = self->kb.info.timer_max_ns < 5000 * MS ?
		      self->kb.info.timer_max_ns : 5000 * MS;
	struct kbatch_sqe *sqe = calloc(max, sizeof(*sqe));
	struct kbatch_cqe *cqe = calloc(cq, sizeof(*cqe));

	ASSERT_NE(NULL, sqe);
	ASSERT_NE(NULL, cqe);
	ASSERT_GT(timers, 0u);
	for (unsigned int i = 0; i < timers; i += k) {
		k = timers - i < max ? timers - i : max;
		for (unsigned int j = 0; j < k; j++)
			kbatch_prep(&sqe[j], KBATCH_OP_TIMER, delay, 0, 1u << 20);
		ASSERT_EQ((int)k, kbatch_submit_async(&self->kb, sqe, k));
	}
	for (unsigned int i = timers; i < cq; i += k) {
		k = cq - i < max ? cq - i : max;
		for (unsigned int j = 0; j < k; j++)
			kbatch_prep(&sqe[j], KBATCH_OP_NOP, 0, 0, i + j);
		ASSERT_EQ((int)k, kbatch_submit_async(&self->kb, sqe, k));
	}
	kbatch_prep(&sqe[0], KBATCH_OP_NOP, 0, 0, 0);
	EXPECT_EQ(-EBUSY, kbatch_submit_async(&self->kb, sqe, 1));
	ASSERT_EQ((int)(cq - timers), kbatch_reap_cqes(&self->kb, cqe, cq - timers));
	for (unsigned int i = 0; i < cq - timers; i++)
		EXPECT_GT(1ull << 20, cqe[i].user_data);
	expect_nothing_ready(_metadata, self->kb.fd);
	free(sqe);
	free(cqe);
	/* Closed with every timer pending: close() cancels them. */
}

TEST_F(dev, lookup_builtins_and_errors)
{
	struct kbatch_lookup lk;
	__u32 flags = 7;

	EXPECT_EQ(KBATCH_OP_NOP, kbatch_lookup(&self->kb, "nop", &flags));
	EXPECT_EQ(0u, flags);
	flags = 7;
	EXPECT_EQ(KBATCH_OP_ECHO, kbatch_lookup(&self->kb, "echo", &flags));
	EXPECT_EQ(0u, flags);
	flags = 7;
	EXPECT_EQ(KBATCH_OP_SUM, kbatch_lookup(&self->kb, "sum", &flags));
	EXPECT_EQ(0u, flags);
	EXPECT_EQ(KBATCH_OP_TIMER, kbatch_lookup(&self->kb, "timer", &flags));
	EXPECT_EQ(KBATCH_LOOKUP_ASYNC, flags);
	EXPECT_EQ(-ENOENT, kbatch_lookup(&self->kb, "no.such.op", NULL));
	EXPECT_EQ(-ENOENT, kbatch_lookup(&self->kb, "", NULL));

	/* Raw ioctl()s: malformed lookups (no NUL, a reserved field set). */
	memset(&lk, 'a', sizeof(lk.name));
	memset(lk.reserved, 0, sizeof(lk.reserved));
	EXPECT_EQ(-1, ioctl(self->kb.fd, KBATCH_IOC_LOOKUP, &lk));
	EXPECT_EQ(EINVAL, errno);
	memset(&lk, 0, sizeof(lk));
	strcpy((char *)lk.name, "echo");
	lk.reserved[2] = 1;
	EXPECT_EQ(-1, ioctl(self->kb.fd, KBATCH_IOC_LOOKUP, &lk));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->kb.fd, KBATCH_IOC_LOOKUP, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, bad_counts)
{
	unsigned int max = self->kb.info.max_entries;
	struct kbatch_sqe *sqe = calloc(max + 1, sizeof(*sqe));
	struct kbatch_cqe *cqe = calloc(max + 1, sizeof(*cqe));
	__u32 done;

	ASSERT_NE(NULL, sqe);
	ASSERT_NE(NULL, cqe);
	/* Raw ABI: the header's @done is tested (kb_raw_submit() passes 0xdead). */
	EXPECT_EQ(-EINVAL, kb_raw_submit(self->kb.fd, sqe, cqe, 0, 0, &done));
	EXPECT_EQ(0u, done);
	EXPECT_EQ(-EINVAL, kb_raw_submit(self->kb.fd, sqe, NULL, 0,
					 KBATCH_SUBMIT_ASYNC, &done));
	EXPECT_EQ(0u, done);
	EXPECT_EQ(-EINVAL, kb_raw_submit(self->kb.fd, sqe, cqe, max + 1, 0, &done));
	EXPECT_EQ(0u, done);
	EXPECT_EQ(-EINVAL, kb_raw_submit(self->kb.fd, sqe, NULL, max + 1,
					 KBATCH_SUBMIT_ASYNC, &done));
	EXPECT_EQ(0u, done);
	EXPECT_EQ(-EINVAL, kb_raw_submit(self->kb.fd, sqe, cqe, ~0u, 0, &done));
	EXPECT_EQ(0u, done);
	/* Exactly the limit is fine. */
	EXPECT_EQ(0, kb_raw_submit(self->kb.fd, sqe, cqe, max, 0, &done));
	EXPECT_EQ(max, done);
	free(sqe);
	free(cqe);
}

TEST_F(dev, bad_flags_and_reserved)
{
	struct kbatch_sqe sqe[4];
	struct kbatch_cqe cqe[4];
	struct kbatch_submit hdr;
	__u32 done;

	for (int i = 0; i < 4; i++)
		kbatch_prep(&sqe[i], KBATCH_OP_ECHO, i, 0, i);
	/* Raw ABI: a refused header still gets @done 0 (0xdead went in). */
	EXPECT_EQ(-EINVAL, kb_raw_submit(self->kb.fd, sqe, cqe, 4, 1u << 31, &done));
	EXPECT_EQ(0u, done);
	/* Async takes no completion pointer. */
	EXPECT_EQ(-EINVAL, kb_raw_submit(self->kb.fd, sqe, cqe, 4,
					 KBATCH_SUBMIT_ASYNC, &done));
	EXPECT_EQ(0u, done);

	/* Raw ioctl()s: the header's reserved fields are what is tested. */
	memset(&hdr, 0, sizeof(hdr));
	hdr.entries = (uintptr_t)sqe;
	hdr.completions = (uintptr_t)cqe;
	hdr.nr = 4;
	hdr.reserved32 = 1;
	hdr.done = 0xdead;
	EXPECT_EQ(-1, ioctl(self->kb.fd, KBATCH_IOC_SUBMIT, &hdr));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0u, hdr.done);
	hdr.reserved32 = 0;
	hdr.reserved[1] = 1;
	hdr.done = 0xdead;
	EXPECT_EQ(-1, ioctl(self->kb.fd, KBATCH_IOC_SUBMIT, &hdr));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0u, hdr.done);

	/* A bad last entry fails the whole submit: nothing ran. */
	memset(cqe, 0xa5, sizeof(cqe));
	sqe[3].reserved[0] = 1;
	EXPECT_EQ(-EINVAL, kb_raw_submit(self->kb.fd, sqe, cqe, 4, 0, &done));
	EXPECT_EQ(0u, done);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ull, cqe[0].user_data);
	sqe[3].reserved[0] = 0;
	sqe[3].flags = 1;
	EXPECT_EQ(-EINVAL, kb_raw_submit(self->kb.fd, sqe, NULL, 4,
					 KBATCH_SUBMIT_ASYNC, &done));
	EXPECT_EQ(0u, done);
	sqe[3].flags = 0;
	/* Nothing of the refused async submit was accepted. */
	expect_nothing_ready(_metadata, self->kb.fd);
}

TEST_F(dev, bad_pointers)
{
	long page = sysconf(_SC_PAGESIZE);
	struct kbatch_sqe sqe[4], *edge;
	struct kbatch_cqe cqe[4];
	char *map;
	__u32 done;

	for (int i = 0; i < 4; i++)
		kbatch_prep(&sqe[i], KBATCH_OP_ECHO, i, 0, i);
	/* Raw ABI: bad header and array pointers, and @done after them. */
	EXPECT_EQ(-1, ioctl(self->kb.fd, KBATCH_IOC_SUBMIT, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-EFAULT, kb_raw_submit(self->kb.fd, NULL, cqe, 4, 0, &done));
	EXPECT_EQ(-EFAULT, kb_raw_submit(self->kb.fd, (void *)-4096L, cqe, 4, 0,
					 &done));
	EXPECT_EQ(-EFAULT, kb_raw_submit(self->kb.fd, NULL, NULL, 4,
					 KBATCH_SUBMIT_ASYNC, &done));
	EXPECT_EQ(0u, done);
	/*
	 * Completions at 0 or outside the user address space: -EFAULT
	 * before anything runs.
	 */
	EXPECT_EQ(-EFAULT, kb_raw_submit(self->kb.fd, sqe, (void *)KERNEL_ADDR, 4, 0,
					 &done));
	EXPECT_EQ(0u, done);
	EXPECT_EQ(-EFAULT, kb_raw_submit(self->kb.fd, sqe, NULL, 4, 0, &done));
	EXPECT_EQ(0u, done);

	/* Two pages, the second unmapped: arrays that run into the hole. */
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + page, page));
	edge = (struct kbatch_sqe *)(map + page) - 2;
	memcpy(edge, sqe, 2 * sizeof(*sqe));
	EXPECT_EQ(-EFAULT, kb_raw_submit(self->kb.fd, edge, cqe, 3, 0, &done));
	EXPECT_EQ(0, kb_raw_submit(self->kb.fd, edge, cqe, 2, 0, &done));
	EXPECT_EQ(2u, done);
	EXPECT_EQ(1, cqe[1].result);
	/* Completions that run into the hole: -EFAULT after the run. */
	EXPECT_EQ(-EFAULT, kb_raw_submit(self->kb.fd, sqe, (struct kbatch_cqe *)
					 (map + page) - 3, 4, 0, &done));
	EXPECT_EQ(4u, done);
	/* Read-only completions: the same. */
	ASSERT_EQ(0, mprotect(map, page, PROT_READ));
	EXPECT_EQ(-EFAULT, kb_raw_submit(self->kb.fd, sqe, (void *)map, 4, 0, &done));
	EXPECT_EQ(4u, done);
	munmap(map, page);
}

/* A header that cannot take @done back: refused before anything runs. */
TEST_F(dev, read_only_header)
{
	long page = sysconf(_SC_PAGESIZE);
	struct kbatch_cqe cqe = { 0, 0 };
	struct kbatch_submit *hdr;
	struct kbatch_sqe sqe;

	/* Raw ioctl: a header in read-only memory is what is tested. */
	kbatch_prep_echo(&sqe, 1, 1);
	hdr = mmap(NULL, page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hdr);
	memset(hdr, 0, sizeof(*hdr));
	hdr->entries = (uintptr_t)&sqe;
	hdr->completions = (uintptr_t)&cqe;
	hdr->nr = 1;
	ASSERT_EQ(0, mprotect(hdr, page, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->kb.fd, KBATCH_IOC_SUBMIT, hdr));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0ull, cqe.user_data);
	munmap(hdr, page);
}

TEST_F(dev, read_sizes_and_nonblock)
{
	struct kbatch_sqe sqe[3];
	struct kbatch_cqe cqe[8];
	int fl = fcntl(self->kb.fd, F_GETFL);

	/* Raw read()s: read()'s own answers to sizes and O_NONBLOCK are tested. */
	ASSERT_EQ(0, fcntl(self->kb.fd, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-1, read(self->kb.fd, cqe, sizeof(cqe)));
	EXPECT_EQ(EAGAIN, errno);
	for (int i = 0; i < 3; i++)
		kbatch_prep(&sqe[i], KBATCH_OP_ECHO, i + 7, 0, i);
	ASSERT_EQ(3, kbatch_submit_async(&self->kb, sqe, 3));
	ASSERT_EQ(0, fcntl(self->kb.fd, F_SETFL, fl));
	/* Short and unaligned sizes are refused and consume nothing. */
	EXPECT_EQ(-1, read(self->kb.fd, cqe, 8));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->kb.fd, cqe, sizeof(*cqe) + 8));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->kb.fd, cqe, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->kb.fd, (void *)-4096L, sizeof(*cqe)));
	EXPECT_EQ(EFAULT, errno);
	/* One at a time, then the rest with room to spare. */
	ASSERT_EQ((ssize_t)sizeof(*cqe), read(self->kb.fd, cqe, sizeof(*cqe)));
	EXPECT_EQ(7, cqe[0].result);
	ASSERT_EQ((ssize_t)(2 * sizeof(*cqe)), read(self->kb.fd, cqe, sizeof(cqe)));
	EXPECT_EQ(8, cqe[0].result);
	EXPECT_EQ(9, cqe[1].result);
	ASSERT_EQ(0, fcntl(self->kb.fd, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-1, read(self->kb.fd, cqe, sizeof(cqe)));
	EXPECT_EQ(EAGAIN, errno);
}

struct poller {
	int fd;
	int ret;
	short revents;
	struct timespec woke;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	p->ret = poll(&pfd, 1, 10000);
	p->revents = pfd.revents;
	clock_gettime(CLOCK_MONOTONIC, &p->woke);
	return NULL;
}

TEST_F(dev, poll_wakes_when_completions_are_ready)
{
	struct pollfd pfd = { .fd = self->kb.fd, .events = POLLIN };
	struct poller p = { .fd = self->kb.fd, .ret = -2 };
	struct timespec before;
	struct kbatch_sqe sqe;
	struct kbatch_cqe cqe;
	pthread_t t;

	kbatch_prep_nop(&sqe, 9);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, poll_thread, &p));
	usleep(200 * 1000);
	/* Still asleep: nothing is ready. */
	EXPECT_EQ(-2, __atomic_load_n(&p.ret, __ATOMIC_ACQUIRE));
	clock_gettime(CLOCK_MONOTONIC, &before);
	ASSERT_EQ(1, kbatch_submit_async(&self->kb, &sqe, 1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(1, p.ret);
	EXPECT_EQ(POLLIN, p.revents & (POLLIN | POLLERR | POLLHUP));
	EXPECT_GE(p.woke.tv_sec * 1000000000ll + p.woke.tv_nsec,
		  before.tv_sec * 1000000000ll + before.tv_nsec);
	/* Stays readable until read, then not. */
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(1, kbatch_reap_cqes(&self->kb, &cqe, 1));
	EXPECT_EQ(9ull, cqe.user_data);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
}

TEST_F(dev, epoll_reports_completions)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[2];
	struct kbatch_sqe sqe[2];
	struct kbatch_cqe cqe[2];
	int ep = epoll_create1(0);

	kbatch_prep_echo(&sqe[0], 5, 1);
	kbatch_prep_echo(&sqe[1], 6, 2);
	ASSERT_GE(ep, 0);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->kb.fd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 0));
	ASSERT_EQ(2, kbatch_submit_async(&self->kb, sqe, 2));
	EXPECT_EQ(1, epoll_wait(ep, out, 2, 10000));
	EXPECT_NE(0u, out[0].events & EPOLLIN);
	ASSERT_EQ(2, kbatch_reap_cqes(&self->kb, cqe, 2));
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 0));
	close(ep);
}

/* Fill the completion queue, then one entry more is refused, whole. */
TEST_F(dev, async_overflow_is_ebusy)
{
	unsigned int max = self->kb.info.max_entries, cq = self->kb.info.cq_entries;
	struct kbatch_sqe *sqe = calloc(max, sizeof(*sqe));
	struct kbatch_cqe *cqe = calloc(cq, sizeof(*cqe));
	unsigned int taken = 0, n;
	__u32 done;

	ASSERT_NE(NULL, sqe);
	ASSERT_NE(NULL, cqe);
	for (unsigned int i = 0; i < max; i++)
		kbatch_prep(&sqe[i], KBATCH_OP_ECHO, i, 0, i);
	while (taken < cq) {
		n = cq - taken < max ? cq - taken : max;
		ASSERT_EQ((int)n, kbatch_submit_async(&self->kb, sqe, n));
		taken += n;
	}
	/* Raw ABI: the header's @done after -EBUSY is tested too. */
	EXPECT_EQ(-EBUSY, kb_raw_submit(self->kb.fd, sqe, NULL, 1,
					KBATCH_SUBMIT_ASYNC, &done));
	EXPECT_EQ(0u, done);
	/* Reading one makes room for exactly one. */
	ASSERT_EQ(1, kbatch_reap_cqes(&self->kb, cqe, 1));
	EXPECT_EQ(-EBUSY, kbatch_submit_async(&self->kb, sqe, 2));
	EXPECT_EQ(1, kbatch_submit_async(&self->kb, sqe, 1));
	/* Everything accepted comes back, nothing else. */
	ASSERT_EQ((int)(cq), kbatch_reap_cqes(&self->kb, cqe, cq));
	for (unsigned int i = 0; i < cq; i++)
		EXPECT_EQ((long long)cqe[i].user_data, cqe[i].result);
	expect_nothing_ready(_metadata, self->kb.fd);
	free(sqe);
	free(cqe);
}

/* Sync submits do not use the completion queue: they work when it is full. */
TEST_F(dev, sync_works_with_full_queue)
{
	struct kbatch_sqe sqe;
	struct kbatch_cqe cqe;

	kbatch_prep_echo(&sqe, 77, 1);
	ASSERT_EQ(0, fill_cq(&self->kb, KBATCH_OP_NOP, 0));
	EXPECT_EQ(1, kbatch_submit_sync(&self->kb, &sqe, &cqe, 1));
	EXPECT_EQ(77, cqe.result);
}

/*
 * Closing with async ops in flight: they complete into nothing.  50 files
 * of 1024 entries and 8 of 256 can outlast the harness's default 30 s on
 * a debug kernel on a loaded host, so it has 120 (the fixture's own file
 * is unused).
 */
TEST_F_TIMEOUT(dev, close_with_async_in_flight, 120)
{
	struct kbatch_sqe sqe[256];
	struct kbatch kb;

	for (int i = 0; i < 256; i++)
		kbatch_prep(&sqe[i], i % 4,
			    i % 4 == KBATCH_OP_TIMER ? 1000 * i : i, 0, i);
	for (int round = 0; round < 50; round++) {
		ASSERT_EQ(0, kbatch_open(&kb, NULL, 0));
		for (int k = 0; k < 4; k++)
			ASSERT_EQ(256, kbatch_submit_async(&kb, sqe, 256));
		/* close() itself, not kbatch_close(): its return is tested. */
		ASSERT_EQ(0, close(kb.fd));
	}
	/* And from a process that exits without closing. */
	for (int round = 0; round < 8; round++) {
		pid_t pid = fork();
		int status;

		ASSERT_GE(pid, 0);
		if (!pid) {
			_exit(kbatch_open(&kb, NULL, 0) ||
			      kbatch_submit_async(&kb, sqe, 256) != 256);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_EQ(0, WEXITSTATUS(status));
	}
}

TEST_HARNESS_MAIN
