// SPDX-License-Identifier: GPL-2.0
/*
 * The user-space side of make torture: PROCS processes open /dev/kbatch,
 * submit batches synchronously and asynchronously, and close it (now and
 * then with asynchronous ops still in flight), for SECONDS, while
 * kbatch_torture.ko registers and unregisters its ops "torture.0" and
 * "torture.1" (result args[0] * 3 + 7, see torture/ops.c).
 *
 * Every completion must carry its own user_data and the result of its op:
 * NOP 0, ECHO args[0], an unknown opcode -EOPNOTSUPP, a torture op
 * args[0] * 3 + 7, or -EOPNOTSUPP / -ESHUTDOWN if the op was unregistered
 * before or while the entry was queued.  A submit may fail with -ENOMEM
 * (failslab) or, asynchronously, -EBUSY (completion queue full); those are
 * counted.  Prints TAP.
 *
 * With KBT_FAILSLAB=1 in the environment each process marks itself for
 * failslab's task filter (/proc/self/make-it-fail) once it has forked.
 *
 * Usage: kbatch_torture_user SECONDS PROCS
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/kbatch.h>

#include "kbatch_util.h"

#define MAX_BATCH	32
/*
 * Far above any opcode kbatch gives out: ten minutes of register and
 * unregister walk the torture ops through every dynamic opcode, so a
 * small "unknown" opcode would sooner or later name one of them.
 */
#define UNKNOWN_OP	0x7fff0000u
#define MAX_PROCS	16

struct tally {
	unsigned long entries, torture_ok, torture_gone, refused, files;
	char error[200];
};

static time_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Opcode of a torture op, or a stale one if it is not registered now. */
static __u32 torture_opcode(int fd, __u32 *stale)
{
	int op = kb_lookup(fd, rand() & 1 ? "torture.1" : "torture.0", NULL);

	if (op >= 0)
		*stale = op;
	return *stale;
}

static struct kbatch_sqe make_entry(int fd, unsigned int i, __u32 *stale)
{
	__u64 arg = ((__u64)rand() << 8) | i;

	switch (rand() % 4) {
	case 0:
		return kb_sqe(KBATCH_OP_NOP, arg, 0, i);
	case 1:
		return kb_sqe(KBATCH_OP_ECHO, arg, 0, i);
	case 2:
		return kb_sqe(UNKNOWN_OP, arg, 0, i);
	default:
		return kb_sqe(torture_opcode(fd, stale), arg, 0, i);
	}
}

static int check_one(struct tally *t, const struct kbatch_sqe *sqe,
		     const struct kbatch_cqe *cqe)
{
	long long want, got = cqe->result;

	switch (sqe->opcode) {
	case KBATCH_OP_NOP:
		want = 0;
		break;
	case KBATCH_OP_ECHO:
		want = sqe->args[0];
		break;
	case UNKNOWN_OP:
		want = -EOPNOTSUPP;
		break;
	default:
		want = sqe->args[0] * 3 + 7;
		if (got == want) {
			t->torture_ok++;
			return 0;
		}
		if (got == -EOPNOTSUPP || got == -ESHUTDOWN) {
			t->torture_gone++;
			return 0;
		}
	}
	if (got == want)
		return 0;
	snprintf(t->error, sizeof(t->error),
		 "op %u arg %llu user_data %llu: result %lld, expected %lld",
		 sqe->opcode, (unsigned long long)sqe->args[0],
		 (unsigned long long)sqe->user_data, got, want);
	return -1;
}

static int check_all(struct tally *t, const struct kbatch_sqe *sqe,
		     const struct kbatch_cqe *cqe, unsigned int n)
{
	unsigned char seen[MAX_BATCH] = { 0 };
	unsigned int i;

	for (i = 0; i < n; i++) {
		__u64 u = cqe[i].user_data;

		if (u >= n || seen[u]++) {
			snprintf(t->error, sizeof(t->error),
				 "completion %u: bad or repeated user_data %llu",
				 i, (unsigned long long)u);
			return -1;
		}
		if (check_one(t, &sqe[u], &cqe[i]))
			return -1;
	}
	t->entries += n;
	return 0;
}

/* One submit; 1 to close the file with ops in flight, -1 on an error. */
static int one_submit(int fd, struct tally *t, __u32 *stale)
{
	struct kbatch_sqe sqe[MAX_BATCH];
	struct kbatch_cqe cqe[MAX_BATCH];
	unsigned int n = 1 + rand() % MAX_BATCH, i;
	int async = rand() & 1, ret;

	for (i = 0; i < n; i++)
		sqe[i] = make_entry(fd, i, stale);
	ret = async ? kb_async(fd, sqe, n) : kb_sync(fd, sqe, cqe, n);
	if (ret == -ENOMEM || (async && ret == -EBUSY)) {
		t->refused++;
		return 0;
	}
	if (ret) {
		snprintf(t->error, sizeof(t->error), "%s submit of %u: %s",
			 async ? "async" : "sync", n, strerror(-ret));
		return -1;
	}
	if (async && rand() % 8 == 0)
		return 1;
	if (async) {
		ret = kb_read_all(fd, cqe, n);
		if (ret) {
			snprintf(t->error, sizeof(t->error), "read: %s",
				 strerror(-ret));
			return -1;
		}
	}
	return check_all(t, sqe, cqe, n);
}

static void mark_failslab(struct tally *t)
{
	int fd = open("/proc/self/make-it-fail", O_WRONLY);

	if (fd < 0 || write(fd, "1", 1) != 1)
		snprintf(t->error, sizeof(t->error), "make-it-fail: %s",
			 strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void child(struct tally *t, unsigned int id, time_t end)
{
	__u32 stale = KBATCH_OP_DYNAMIC;
	unsigned int rounds;
	int fd, ret = 0;

	srand(id * 7919 + getpid());
	if (getenv("KBT_FAILSLAB") && atoi(getenv("KBT_FAILSLAB")))
		mark_failslab(t);
	while (!ret && !t->error[0] && now() < end) {
		fd = open("/dev/kbatch", O_RDWR);
		if (fd < 0) {
			if (errno == ENOMEM) {
				t->refused++;
				continue;
			}
			snprintf(t->error, sizeof(t->error), "open: %s",
				 strerror(errno));
			return;
		}
		t->files++;
		for (rounds = 1 + rand() % 16; rounds && !ret; rounds--)
			ret = one_submit(fd, t, &stale);
		close(fd);
		if (ret > 0)
			ret = 0;
	}
}

int main(int argc, char **argv)
{
	unsigned int secs, procs, i;
	struct tally *t, sum = { 0 };
	int failed = 0;
	time_t end;

	secs = argc == 3 ? atoi(argv[1]) : 0;
	procs = argc == 3 ? atoi(argv[2]) : 0;
	if (!secs || !procs || procs > MAX_PROCS) {
		fprintf(stderr, "usage: %s SECONDS PROCS (1..%d)\n", argv[0],
			MAX_PROCS);
		return 2;
	}
	t = mmap(NULL, procs * sizeof(*t), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return 2;
	memset(t, 0, procs * sizeof(*t));
	end = now() + secs;
	for (i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 2;
		if (!pid) {
			child(&t[i], i, end);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	printf("1..2\n");
	for (i = 0; i < procs; i++) {
		sum.entries += t[i].entries;
		sum.torture_ok += t[i].torture_ok;
		sum.torture_gone += t[i].torture_gone;
		sum.refused += t[i].refused;
		sum.files += t[i].files;
		if (t[i].error[0]) {
			printf("# process %u: %s\n", i, t[i].error);
			failed = 1;
		}
	}
	printf("%s 1 - every completion right (%lu files, %lu entries, %lu submits refused)\n",
	       failed ? "not ok" : "ok", sum.files, sum.entries, sum.refused);
	printf("%s 2 - torture ops ran (%lu results) and went (%lu entries unregistered)\n",
	       sum.torture_ok && sum.torture_gone ? "ok" : "not ok",
	       sum.torture_ok, sum.torture_gone);
	return failed || !sum.torture_ok || !sum.torture_gone;
}
