// SPDX-License-Identifier: GPL-2.0
/*
 * The kbatch_kv sample module (samples/kbatch_kv), loaded by the VM's
 * /init: batched put/get/del round trips, the admin op from a process
 * without CAP_SYS_ADMIN, concurrent writers, and unloading the module
 * while its ops are in flight.  Run as uid 65534, kv.clear (admin) must be
 * -EPERM wherever root clears the table, and the unload case is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/kbatch.h>

#include "kselftest_harness.h"
#include "libkbatch.h"

#define KV_KO	"/modules/kbatch_kv.ko"
/* An address in the kernel half on x86-64: not in the user address space. */
#define KERNEL_ADDR	0xffff800000000000ull

struct kv {
	struct kbatch kb;
	int put, get, del, clear;
};

static int kv_open(struct kv *kv)
{
	__u32 flags = 0;
	int ret = kbatch_open(&kv->kb, NULL, 0);

	if (ret)
		return ret;
	kv->put = kbatch_lookup(&kv->kb, "kv.put", NULL);
	kv->get = kbatch_lookup(&kv->kb, "kv.get", NULL);
	kv->del = kbatch_lookup(&kv->kb, "kv.del", NULL);
	kv->clear = kbatch_lookup(&kv->kb, "kv.clear", &flags);
	if (kv->put < 0 || kv->get < 0 || kv->del < 0 || kv->clear < 0)
		return -ENOENT;
	return flags == KBATCH_LOOKUP_ADMIN ? 0 : -EINVAL;
}

/* One op, synchronously: its result. */
static long long kv_one(struct kv *kv, int op, __u64 key, __u64 value)
{
	struct kbatch_sqe sqe;
	struct kbatch_cqe cqe;
	int ret;

	kbatch_prep(&sqe, op, key, value, key);
	ret = kbatch_submit_sync(&kv->kb, &sqe, &cqe, 1);
	return ret < 0 ? ret : ret == 1 ? cqe.result : -EIO;
}

FIXTURE(kv) {
	struct kv kv;
};

/* kv.clear: what it returns as root, -EPERM for anyone else. */
static long long clear_want(long long as_root)
{
	return geteuid() ? -EPERM : as_root;
}

FIXTURE_SETUP(kv)
{
	long long n;

	ASSERT_EQ(0, kv_open(&self->kv));
	n = kv_one(&self->kv, self->kv.clear, 0, 0);
	ASSERT_TRUE(geteuid() ? n == -EPERM : n >= 0) TH_LOG("kv.clear: %lld", n);
}

FIXTURE_TEARDOWN(kv)
{
	kbatch_close(&self->kv.kb);
}

TEST_F(kv, ops_have_dynamic_opcodes)
{
	EXPECT_GE(self->kv.put, KBATCH_OP_DYNAMIC);
	EXPECT_GE(self->kv.get, KBATCH_OP_DYNAMIC);
	EXPECT_NE(self->kv.put, self->kv.get);
	EXPECT_NE(self->kv.del, self->kv.clear);
}

TEST_F(kv, batched_round_trips)
{
	struct kbatch_sqe sqe[192];
	struct kbatch_cqe cqe[192];
	unsigned int n = 0, i;

	/* 64 puts, 64 gets of the same keys, 64 dels of every other key. */
	for (i = 0; i < 64; i++, n++)
		kbatch_prep(&sqe[n], self->kv.put, 1000 + i, i * i, n);
	for (i = 0; i < 64; i++, n++)
		kbatch_prep(&sqe[n], self->kv.get, 1000 + i, 0, n);
	for (i = 0; i < 64; i++, n++)
		kbatch_prep(&sqe[n], self->kv.del, 1000 + 2 * i, 0, n);
	ASSERT_EQ(192, kbatch_submit_sync(&self->kv.kb, sqe, cqe, n));
	for (i = 0; i < 64; i++) {
		EXPECT_EQ(0, cqe[i].result);
		EXPECT_EQ(i * i, cqe[64 + i].result);
		EXPECT_EQ(i < 32 ? 0 : -ENOENT, cqe[128 + i].result);
	}
	/* The same gets again, asynchronously: the deleted keys are gone. */
	for (i = 0; i < 64; i++)
		kbatch_prep(&sqe[i], self->kv.get, 1000 + i, 0, i);
	ASSERT_EQ(64, kbatch_submit_async(&self->kv.kb, sqe, 64));
	ASSERT_EQ(64, kbatch_reap_cqes(&self->kv.kb, cqe, 64));
	for (i = 0; i < 64; i++) {
		__u64 k = cqe[i].user_data;

		ASSERT_LT(k, 64u);
		EXPECT_EQ(k % 2 || k >= 64 ? (long long)(k * k) : -ENOENT,
			  cqe[i].result) TH_LOG("key %llu", 1000 + k);
	}
}

TEST_F(kv, errors)
{
	EXPECT_EQ(-ENOENT, kv_one(&self->kv, self->kv.get, 5, 0));
	EXPECT_EQ(-ENOENT, kv_one(&self->kv, self->kv.del, 5, 0));
	EXPECT_EQ(-EINVAL, kv_one(&self->kv, self->kv.put, 5, 1ull << 63));
	EXPECT_EQ(0, kv_one(&self->kv, self->kv.put, 5, 1));
	EXPECT_EQ(0, kv_one(&self->kv, self->kv.put, 5, 2));
	EXPECT_EQ(2, kv_one(&self->kv, self->kv.get, 5, 0));
	EXPECT_EQ(clear_want(1),
		  kv_one(&self->kv, self->kv.clear, 0, 0));
	if (geteuid())
		EXPECT_EQ(0, kv_one(&self->kv, self->kv.del, 5, 0));
}

/* A refused submit applies nothing, not even its valid entries. */
TEST_F(kv, refused_submit_applies_nothing)
{
	struct kbatch_sqe sqe[3];
	struct kbatch_cqe cqe[3];

	kbatch_prep(&sqe[0], self->kv.put, 7, 70, 1);
	kbatch_prep(&sqe[1], self->kv.put, 8, 80, 2);
	kbatch_prep(&sqe[2], self->kv.put, 9, 90, 3);
	/* A malformed entry (a reserved field set): libkbatch passes it on. */
	sqe[2].reserved[1] = 1;
	EXPECT_EQ(-EINVAL, kbatch_submit_sync(&self->kv.kb, sqe, cqe, 3));
	sqe[2].reserved[1] = 0;
	/* Completions outside the user address space: refused up front. */
	EXPECT_EQ(-EFAULT, kbatch_submit_sync(&self->kv.kb, sqe,
					      (struct kbatch_cqe *)KERNEL_ADDR,
					      3));
	EXPECT_EQ(-ENOENT, kv_one(&self->kv, self->kv.get, 7, 0));
	EXPECT_EQ(-ENOENT, kv_one(&self->kv, self->kv.get, 8, 0));
}

/* Completions at a user address that faults: the puts ran, then -EFAULT. */
TEST_F(kv, late_fault_still_applies_the_entries)
{
	long page = sysconf(_SC_PAGESIZE);
	void *hole = mmap(NULL, page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kbatch_submit hdr;
	struct kbatch_sqe sqe[3];

	kbatch_prep(&sqe[0], self->kv.put, 17, 170, 1);
	kbatch_prep(&sqe[1], self->kv.put, 18, 180, 2);
	kbatch_prep(&sqe[2], self->kv.del, 17, 0, 3);
	/* A user address with nothing mapped: it faults only at copy-out. */
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole, page));
	/* Raw ioctl: the header's @done after -EFAULT is what is tested. */
	memset(&hdr, 0, sizeof(hdr));
	hdr.entries = (uintptr_t)sqe;
	hdr.completions = (uintptr_t)hole;
	hdr.nr = 3;
	EXPECT_EQ(-1, ioctl(self->kv.kb.fd, KBATCH_IOC_SUBMIT, &hdr));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(3u, hdr.done);
	EXPECT_EQ(-ENOENT, kv_one(&self->kv, self->kv.get, 17, 0));
	EXPECT_EQ(180, kv_one(&self->kv, self->kv.get, 18, 0));
	EXPECT_EQ(0, kv_one(&self->kv, self->kv.del, 18, 0));
}

static int drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[0].effective &= ~(1u << CAP_SYS_ADMIN);
	data[0].permitted &= ~(1u << CAP_SYS_ADMIN);
	data[0].inheritable &= ~(1u << CAP_SYS_ADMIN);
	return syscall(SYS_capset, &hdr, data);
}

/* The harness runs each test in its own process: dropping is local. */
TEST_F(kv, admin_op_needs_cap_sys_admin)
{
	struct kbatch_sqe sqe[2];
	struct kbatch_cqe cqe[2];

	kbatch_prep(&sqe[0], self->kv.put, 11, 1, 1);
	kbatch_prep(&sqe[1], self->kv.clear, 0, 0, 2);
	ASSERT_EQ(0, kv_one(&self->kv, self->kv.put, 10, 1));
	ASSERT_EQ(0, drop_sys_admin());
	EXPECT_EQ(-EPERM, kbatch_submit_sync(&self->kv.kb, sqe, cqe, 2));
	EXPECT_EQ(-EPERM, kbatch_submit_async(&self->kv.kb, sqe, 2));
	/* Nothing of either ran: key 10 is there, key 11 is not. */
	EXPECT_EQ(1, kv_one(&self->kv, self->kv.get, 10, 0));
	EXPECT_EQ(-ENOENT, kv_one(&self->kv, self->kv.get, 11, 0));
	/* Ops without the flag still work. */
	EXPECT_EQ(1, kbatch_submit_sync(&self->kv.kb, sqe, cqe, 1));
}

struct writer {
	struct kv *kv;
	unsigned int id;
	int ok;
};

#define WRITER_KEYS	512

/* Put this writer's keys in batches of 32, async and sync in turn, then get. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct kbatch_sqe sqe[32];
	struct kbatch_cqe cqe[32];
	struct kbatch kb;
	int opened = !kbatch_open(&kb, NULL, 0), ret = 0;
	__u64 key;

	for (unsigned int b = 0; opened && !ret && b < WRITER_KEYS / 32; b++) {
		for (unsigned int i = 0; i < 32; i++) {
			key = w->id * 100000 + b * 32 + i;
			kbatch_prep(&sqe[i], w->kv->put, key, key * 3, key);
		}
		ret = b & 1 ? kbatch_submit_sync(&kb, sqe, cqe, 32) :
			      kbatch_submit_async(&kb, sqe, 32);
		if (ret == 32 && !(b & 1))
			ret = kbatch_reap_cqes(&kb, cqe, 32);
		ret = ret < 0 ? ret : ret == 32 ? 0 : -EIO;
		for (unsigned int i = 0; !ret && i < 32; i++)
			ret = cqe[i].result;
	}
	for (unsigned int i = 0; opened && !ret && i < WRITER_KEYS; i++) {
		key = w->id * 100000 + i;
		kbatch_prep(&sqe[0], w->kv->get, key, 0, key);
		ret = kbatch_submit_sync(&kb, sqe, cqe, 1);
		ret = ret < 0 ? ret : ret == 1 ? 0 : -EIO;
		if (!ret && cqe[0].result != (long long)key * 3)
			ret = -EIO;
	}
	w->ok = opened && !ret;
	if (opened)
		kbatch_close(&kb);
	return NULL;
}

TEST_F(kv, concurrent_writers)
{
	struct writer w[8];
	pthread_t t[8];

	for (unsigned int i = 0; i < 8; i++) {
		w[i] = (struct writer){ .kv = &self->kv, .id = i + 1 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, writer_main, &w[i]));
	}
	for (unsigned int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		EXPECT_TRUE(w[i].ok) TH_LOG("writer %u", i);
	}
	EXPECT_EQ(clear_want(8 * WRITER_KEYS),
		  kv_one(&self->kv, self->kv.clear, 0, 0));
}

struct racer {
	int put, get;
	int *stop;
	unsigned long ran, shutdown, gone;
	char error[128];
};

/*
 * Submit puts and gets until told to stop.  While kbatch_kv goes away a
 * result may only be right, -ESHUTDOWN (queued when it went) or
 * -EOPNOTSUPP (submitted after).
 */
static void *racer_main(void *arg)
{
	struct racer *r = arg;
	struct kbatch_sqe sqe[16];
	struct kbatch_cqe cqe[16];
	struct kbatch kb;
	int opened = !kbatch_open(&kb, NULL, 0), async = 0;
	long long res;

	while (opened && !__atomic_load_n(r->stop, __ATOMIC_RELAXED) &&
	       !r->error[0]) {
		for (int i = 0; i < 16; i++) {
			if (i & 1)
				kbatch_prep(&sqe[i], r->get, 42, 0, i);
			else
				kbatch_prep(&sqe[i], r->put, 42, 4242, i);
		}
		async = !async;
		if (async) {
			if (kbatch_submit_async(&kb, sqe, 16) != 16 ||
			    kbatch_reap_cqes(&kb, cqe, 16) != 16)
				snprintf(r->error, sizeof(r->error), "async");
		} else if (kbatch_submit_sync(&kb, sqe, cqe, 16) != 16) {
			snprintf(r->error, sizeof(r->error), "sync");
		}
		for (int i = 0; i < 16 && !r->error[0]; i++) {
			res = cqe[i].result;
			if (res == -ESHUTDOWN)
				r->shutdown++;
			else if (res == -EOPNOTSUPP)
				r->gone++;
			else if (res == (cqe[i].user_data & 1 ? 4242 : 0))
				r->ran++;
			else
				snprintf(r->error, sizeof(r->error),
					 "entry %llu: %lld",
					 (unsigned long long)cqe[i].user_data,
					 res);
		}
	}
	if (opened)
		kbatch_close(&kb);
	return NULL;
}

static int load_kv(void)
{
	int fd = open(KV_KO, O_RDONLY), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

TEST_F(kv, unload_with_ops_in_flight)
{
	struct racer r[4];
	pthread_t t[4];
	int stop = 0;
	unsigned long ran = 0, gone = 0;

	if (geteuid())
		SKIP(return, "unloading a module needs root");
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){ .put = self->kv.put, .get = self->kv.get,
				       .stop = &stop };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, racer_main, &r[i]));
	}
	usleep(300 * 1000);
	EXPECT_EQ(0, syscall(SYS_delete_module, "kbatch_kv", O_NONBLOCK))
		TH_LOG("rmmod kbatch_kv: %s", strerror(errno));
	usleep(300 * 1000);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_STREQ("", r[i].error);
		ran += r[i].ran;
		gone += r[i].gone;
		TH_LOG("racer %d: %lu ran, %lu -ESHUTDOWN, %lu -EOPNOTSUPP",
		       i, r[i].ran, r[i].shutdown, r[i].gone);
	}
	EXPECT_GT(ran, 0ul);
	EXPECT_GT(gone, 0ul);
	EXPECT_EQ(-ENOENT, kbatch_lookup(&self->kv.kb, "kv.put", NULL));
	/* Back for the rest of the run, and it works again. */
	ASSERT_EQ(0, load_kv());
	kbatch_close(&self->kv.kb);
	ASSERT_EQ(0, kv_open(&self->kv));
	EXPECT_EQ(-ENOENT, kv_one(&self->kv, self->kv.get, 42, 0));
}

TEST_HARNESS_MAIN
