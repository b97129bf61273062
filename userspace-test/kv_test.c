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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/kbatch.h>

#include "kselftest_harness.h"
#include "kbatch_util.h"

#define KV_KO	"/modules/kbatch_kv.ko"
/* An address in the kernel half on x86-64: not in the user address space. */
#define KERNEL_ADDR	0xffff800000000000ull

struct kv {
	int fd;
	int put, get, del, clear;
};

static int kv_open(struct kv *kv)
{
	__u32 flags = 0;

	kv->fd = open("/dev/kbatch", O_RDWR);
	if (kv->fd < 0)
		return -errno;
	kv->put = kb_lookup(kv->fd, "kv.put", NULL);
	kv->get = kb_lookup(kv->fd, "kv.get", NULL);
	kv->del = kb_lookup(kv->fd, "kv.del", NULL);
	kv->clear = kb_lookup(kv->fd, "kv.clear", &flags);
	if (kv->put < 0 || kv->get < 0 || kv->del < 0 || kv->clear < 0)
		return -ENOENT;
	return flags == KBATCH_LOOKUP_ADMIN ? 0 : -EINVAL;
}

/* One op, synchronously: its result. */
static long long kv_one(struct kv *kv, int op, __u64 key, __u64 value)
{
	struct kbatch_sqe sqe = kb_sqe(op, key, value, key);
	struct kbatch_cqe cqe;
	int ret = kb_sync(kv->fd, &sqe, &cqe, 1);

	return ret ? ret : cqe.result;
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
	close(self->kv.fd);
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
		sqe[n] = kb_sqe(self->kv.put, 1000 + i, i * i, n);
	for (i = 0; i < 64; i++, n++)
		sqe[n] = kb_sqe(self->kv.get, 1000 + i, 0, n);
	for (i = 0; i < 64; i++, n++)
		sqe[n] = kb_sqe(self->kv.del, 1000 + 2 * i, 0, n);
	ASSERT_EQ(0, kb_sync(self->kv.fd, sqe, cqe, n));
	for (i = 0; i < 64; i++) {
		EXPECT_EQ(0, cqe[i].result);
		EXPECT_EQ(i * i, cqe[64 + i].result);
		EXPECT_EQ(i < 32 ? 0 : -ENOENT, cqe[128 + i].result);
	}
	/* The same gets again, asynchronously: the deleted keys are gone. */
	for (i = 0; i < 64; i++)
		sqe[i] = kb_sqe(self->kv.get, 1000 + i, 0, i);
	ASSERT_EQ(0, kb_async(self->kv.fd, sqe, 64));
	ASSERT_EQ(0, kb_read_all(self->kv.fd, cqe, 64));
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
	struct kbatch_sqe sqe[3] = {
		kb_sqe(self->kv.put, 7, 70, 1),
		kb_sqe(self->kv.put, 8, 80, 2),
		kb_sqe(self->kv.put, 9, 90, 3),
	};
	struct kbatch_cqe cqe[3];

	sqe[2].reserved[1] = 1;
	EXPECT_EQ(-EINVAL, kb_sync(self->kv.fd, sqe, cqe, 3));
	sqe[2].reserved[1] = 0;
	/* Completions outside the user address space: refused up front. */
	EXPECT_EQ(-EFAULT, kb_sync(self->kv.fd, sqe,
				   (struct kbatch_cqe *)KERNEL_ADDR, 3));
	EXPECT_EQ(-ENOENT, kv_one(&self->kv, self->kv.get, 7, 0));
	EXPECT_EQ(-ENOENT, kv_one(&self->kv, self->kv.get, 8, 0));
}

/* Completions at a user address that faults: the puts ran, then -EFAULT. */
TEST_F(kv, late_fault_still_applies_the_entries)
{
	struct kbatch_sqe sqe[3] = {
		kb_sqe(self->kv.put, 17, 170, 1),
		kb_sqe(self->kv.put, 18, 180, 2),
		kb_sqe(self->kv.del, 17, 0, 3),
	};
	long page = sysconf(_SC_PAGESIZE);
	void *hole = mmap(NULL, page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u32 done;

	/* A user address with nothing mapped: it faults only at copy-out. */
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole, page));
	EXPECT_EQ(-EFAULT, kb_submit(self->kv.fd, sqe, hole, 3, 0, &done));
	EXPECT_EQ(3u, done);
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
	struct kbatch_sqe sqe[2] = {
		kb_sqe(self->kv.put, 11, 1, 1),
		kb_sqe(self->kv.clear, 0, 0, 2),
	};
	struct kbatch_cqe cqe[2];

	ASSERT_EQ(0, kv_one(&self->kv, self->kv.put, 10, 1));
	ASSERT_EQ(0, drop_sys_admin());
	EXPECT_EQ(-EPERM, kb_sync(self->kv.fd, sqe, cqe, 2));
	EXPECT_EQ(-EPERM, kb_async(self->kv.fd, sqe, 2));
	/* Nothing of either ran: key 10 is there, key 11 is not. */
	EXPECT_EQ(1, kv_one(&self->kv, self->kv.get, 10, 0));
	EXPECT_EQ(-ENOENT, kv_one(&self->kv, self->kv.get, 11, 0));
	/* Ops without the flag still work. */
	EXPECT_EQ(0, kb_sync(self->kv.fd, sqe, cqe, 1));
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
	int fd = open("/dev/kbatch", O_RDWR), ret = 0;
	__u64 key;

	for (unsigned int b = 0; fd >= 0 && !ret && b < WRITER_KEYS / 32; b++) {
		for (unsigned int i = 0; i < 32; i++) {
			key = w->id * 100000 + b * 32 + i;
			sqe[i] = kb_sqe(w->kv->put, key, key * 3, key);
		}
		ret = b & 1 ? kb_sync(fd, sqe, cqe, 32) : kb_async(fd, sqe, 32);
		if (!ret && !(b & 1))
			ret = kb_read_all(fd, cqe, 32);
		for (unsigned int i = 0; !ret && i < 32; i++)
			ret = cqe[i].result;
	}
	for (unsigned int i = 0; fd >= 0 && !ret && i < WRITER_KEYS; i++) {
		key = w->id * 100000 + i;
		sqe[0] = kb_sqe(w->kv->get, key, 0, key);
		ret = kb_sync(fd, sqe, cqe, 1);
		if (!ret && cqe[0].result != (long long)key * 3)
			ret = -EIO;
	}
	w->ok = fd >= 0 && !ret;
	if (fd >= 0)
		close(fd);
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
	int fd = open("/dev/kbatch", O_RDWR), async = 0;
	long long res;

	while (fd >= 0 && !__atomic_load_n(r->stop, __ATOMIC_RELAXED) &&
	       !r->error[0]) {
		for (int i = 0; i < 16; i++)
			sqe[i] = i & 1 ? kb_sqe(r->get, 42, 0, i) :
					 kb_sqe(r->put, 42, 4242, i);
		async = !async;
		if (async) {
			if (kb_async(fd, sqe, 16) || kb_read_all(fd, cqe, 16))
				snprintf(r->error, sizeof(r->error), "async");
		} else if (kb_sync(fd, sqe, cqe, 16)) {
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
	if (fd >= 0)
		close(fd);
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
	EXPECT_EQ(-ENOENT, kb_lookup(self->kv.fd, "kv.put", NULL));
	/* Back for the rest of the run, and it works again. */
	ASSERT_EQ(0, load_kv());
	close(self->kv.fd);
	ASSERT_EQ(0, kv_open(&self->kv));
	EXPECT_EQ(-ENOENT, kv_one(&self->kv, self->kv.get, 42, 0));
}

TEST_HARNESS_MAIN
