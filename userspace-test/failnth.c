// SPDX-License-Identifier: GPL-2.0
/*
 * failnth: allocation failure in kbatch, the way syzkaller tests it (TAP).
 *
 *   failnth KO
 *
 * For n = 1, 2, ... it arms /proc/thread-self/fail-nth with n, so that the
 * n-th fault-injectable call of this thread fails (failslab, with
 * ignore-gfp-wait = N, set by scripts/vm/init), runs one operation, and
 * disarms.  The loop ends when the operation finishes without reaching
 * its n-th call: each of its allocations has then failed once.  Every
 * failure must be a clean errno (ENOMEM) that changed nothing, every
 * success must have worked, and the module must work afterwards.
 *
 * Operations: loading the module KO (it must be loaded when failnth starts,
 * and is unloaded first), then on /dev/kbatch: open, KBATCH_IOC_INFO,
 * KBATCH_IOC_SUBMIT synchronous and asynchronous (with read() of the
 * completions), and an asynchronous KBATCH_OP_TIMER.  Last, kmemleak is
 * asked for leaks of objects allocated since the run began (the kernel
 * must be booted with kmemleak=on).  Leaves the module loaded.
 * Run by the VM plan "failnth" (scripts/vm/init).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kbatch.h>

#include "kb_test.h"
#include "libkbatch.h"

#define MAX_CALLS	5000
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"

static int nth_fd = -1;
static int tap_n;

static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d ", ok ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void arm(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	if (pwrite(nth_fd, buf, len, 0) != len) {
		perror("failnth: write fail-nth");
		exit(1);
	}
}

/* Disarm; whether the armed failure was injected (the count reached 0). */
static bool disarm(void)
{
	char buf[16] = "";
	bool injected;

	if (pread(nth_fd, buf, sizeof(buf) - 1, 0) <= 0) {
		perror("failnth: read fail-nth");
		exit(1);
	}
	injected = atoi(buf) == 0;
	if (pwrite(nth_fd, "0", 1, 0) != 1) {
		perror("failnth: write fail-nth");
		exit(1);
	}
	return injected;
}

static bool loaded(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/modules", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		found |= !strncmp(line, "kbatch ", 7);
	fclose(f);
	return found;
}

/* An ECHO through a fresh open: whether /dev/kbatch works. */
static bool works(void)
{
	struct kbatch_cqe cqe = { 0 };
	struct kbatch_sqe sqe;
	struct kbatch kb;
	bool ok;

	if (kbatch_open(&kb, NULL, 0))
		return false;
	kbatch_prep_echo(&sqe, 77, 1);
	ok = kbatch_submit_sync(&kb, &sqe, &cqe, 1) == 1 && cqe.result == 77 &&
	     cqe.user_data == 1;
	kbatch_close(&kb);
	return ok;
}

/* No completion arrives within @ms: a failed async submit changed nothing. */
static bool quiet(struct kbatch *kb, int ms)
{
	struct kbatch_cqe cqe;

	return kbatch_wait_cqes(kb, &cqe, 1, ms) == -ETIME;
}

/* Read @nr completions within five seconds each; 0 or -errno. */
static int read_cqes(struct kbatch *kb, struct kbatch_cqe *cqes,
		     unsigned int nr)
{
	unsigned int got = 0;
	int n;

	while (got < nr) {
		n = kbatch_wait_cqes(kb, cqes + got, nr - got, 5000);
		if (n < 0)
			return n == -ETIME ? -ETIMEDOUT : n;
		got += n;
	}
	return 0;
}

/*
 * One operation under test.  @run does the armed part (one system call)
 * and returns 0 or -errno; @check, after disarming, checks a success.  An
 * op whose entries may fail on their own (an async TIMER's allocation is
 * made after the submit returned) sets @entry_err in @check to the
 * error its completion carried, which must then be a clean ENOMEM.
 * @kb is an open /dev/kbatch, unless @run opens it; @fd is the module
 * file of insmod.
 */
struct op {
	const char *name;
	int (*run)(struct op *op);
	bool (*check)(struct op *op);
	bool async;
	struct kbatch kb;
	int fd;
	int ret;
	int entry_err;
	struct kbatch_sqe sqes[4];
	struct kbatch_cqe cqes[4];
};

/* Raw open(): the armed part is one system call, kbatch_open() makes two. */
static int run_open(struct op *op)
{
	op->ret = open("/dev/kbatch", O_RDWR);
	return op->ret < 0 ? -errno : 0;
}

static bool check_open(struct op *op)
{
	struct kbatch_info info;
	bool ok = !ioctl(op->ret, KBATCH_IOC_INFO, &info) &&
		  info.abi_version == KBATCH_ABI_VERSION;

	close(op->ret);
	return ok;
}

/* Raw KBATCH_IOC_INFO: libkbatch makes it only inside kbatch_open(). */
static int run_info(struct op *op)
{
	struct kbatch_info info;

	return ioctl(op->kb.fd, KBATCH_IOC_INFO, &info) ? -errno : 0;
}

static void echo_sqes(struct op *op)
{
	for (int i = 0; i < 4; i++)
		kbatch_prep_echo(&op->sqes[i], 100 + i, i);
}

static bool echo_results(struct op *op)
{
	for (int i = 0; i < 4; i++) {
		if (op->cqes[i].result != 100 + i || op->cqes[i].user_data != (__u64)i)
			return false;
	}
	return true;
}

static int run_sync(struct op *op)
{
	int ret;

	echo_sqes(op);
	memset(op->cqes, 0, sizeof(op->cqes));
	ret = kbatch_submit_sync(&op->kb, op->sqes, op->cqes, 4);
	return ret < 0 ? ret : 0;
}

static int run_async(struct op *op)
{
	int ret;

	echo_sqes(op);
	ret = kbatch_submit_async(&op->kb, op->sqes, 4);
	return ret < 0 ? ret : 0;
}

static bool check_async(struct op *op)
{
	struct kbatch_cqe got[4];
	int i, j, seen = 0;

	if (read_cqes(&op->kb, got, 4))
		return false;
	/* Completion order is not submit order: match by user_data. */
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++)
			if (got[j].user_data == (__u64)i && got[j].result == 100 + i)
				seen++;
	return seen == 4;
}

static int run_timer(struct op *op)
{
	int ret;

	kbatch_prep_timer(&op->sqes[0], 1000, 9);
	ret = kbatch_submit_async(&op->kb, op->sqes, 1);
	return ret < 0 ? ret : 0;
}

static bool check_timer(struct op *op)
{
	struct kbatch_cqe cqe;

	if (read_cqes(&op->kb, &cqe, 1) || cqe.user_data != 9)
		return false;
	op->entry_err = cqe.result;
	return cqe.result == 0 || cqe.result == -ENOMEM;
}

static bool check_sync(struct op *op)
{
	return echo_results(op);
}

static int run_insmod(struct op *op)
{
	return syscall(SYS_finit_module, op->fd, "", 0) ? -errno : 0;
}

static bool check_insmod(struct op *op)
{
	bool ok = works();

	return !syscall(SYS_delete_module, "kbatch", O_NONBLOCK) && ok;
}

/* What is wrong with a failure of @op (-@ret), or NULL if it failed cleanly. */
static const char *failed_badly(struct op *op, int ret, bool injected)
{
	if (ret != -ENOMEM)
		return strerror(-ret);
	if (!injected)
		return "ENOMEM with nothing injected";
	if (op->async && !quiet(&op->kb, 50))
		return "failed, yet a completion came";
	if (!strcmp(op->name, "insmod") && loaded())
		return "failed, yet the module is loaded";
	return NULL;
}

/*
 * Run @op with its n-th call failing, for every n.  One TAP line: the
 * number of calls, how many failures were fatal, and the first problem.
 */
static void fail_each(struct op *op)
{
	unsigned int n, fatal = 0, calls = 0;
	bool ended = false;
	const char *problem;
	char why[160] = "";
	bool injected;
	int ret;

	for (n = 1; n <= MAX_CALLS && !why[0]; n++) {
		arm(n);
		ret = op->run(op);
		injected = disarm();
		if (ret) {
			fatal++;
			problem = failed_badly(op, ret, injected);
			if (problem)
				snprintf(why, sizeof(why), "call %u: %s", n, problem);
			continue;
		}
		op->entry_err = 0;
		if (op->check && !op->check(op))
			snprintf(why, sizeof(why), "call %u: succeeded but did not work", n);
		if (op->entry_err) {
			/* The failure came back in the entry's completion. */
			fatal++;
			if (!injected)
				snprintf(why, sizeof(why), "call %u: %s", n,
					 "its entry failed with nothing injected");
			continue;
		}
		if (!injected) {
			calls = n - 1;
			ended = true;
			break;
		}
	}
	if (!why[0] && !ended)
		snprintf(why, sizeof(why), "still failing after %u calls", MAX_CALLS);
	/* An operation that allocates must have been made to fail. */
	if (!why[0] && calls && !fatal)
		snprintf(why, sizeof(why), "no failure was fatal: is failslab armed?");
	tap(!why[0], "%s with each of its %u allocations failing in turn (%u failed cleanly)%s%s",
	    op->name, calls, fatal, why[0] ? ": " : "", why);
}

/* The kernel's jiffies when the run began; -1 if unknown: all objects count. */
static long long run_jiffies;

/*
 * Whether kmemleak's "comm" line of an object says it was allocated before
 * the run began.  Early boot leaves such objects (ACPI's caches) whatever
 * kbatch does; scripts/vm/init does not scan them away first, as a
 * boot-time scan of the debug kernel takes over half a minute.
 */
static bool before_run(const char *comm)
{
	const char *j = strstr(comm, "jiffies ");
	long long at;

	return run_jiffies > 0 && j && sscanf(j, "jiffies %lld", &at) == 1 &&
	       at < run_jiffies;
}

/*
 * kmemleak's report of the whole run: no unreferenced object allocated
 * since the run began.
 */
static void leaks(void)
{
	int fd, leaked = 0, older = 0, printed = 0;
	char line[512], head[512];
	bool show = false;
	FILE *f;

	fd = open(KMEMLEAK, O_WRONLY);
	if (fd < 0) {
		tap(false, "no leak: no kmemleak (boot with kmemleak=on)");
		return;
	}
	/*
	 * An object is reported once it is 5 s old and found unreferenced
	 * by a scan that left its contents as the one before found them.
	 */
	sleep(6);
	for (int i = 0; i < 2; i++) {
		if (write(fd, "scan", 4) != 4)
			perror("failnth: kmemleak scan");
	}
	close(fd);
	f = fopen(KMEMLEAK, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "unreferenced object", 19)) {
			snprintf(head, sizeof(head), "%s", line);
			continue;
		}
		if (strstr(line, "comm \"")) {
			show = !before_run(line);
			older += !show;
			leaked += show;
			if (show && leaked <= 5)
				printf("# %s", head);
		}
		if (show && leaked <= 5 && printed++ < 100)
			printf("# %s", line);
	}
	if (f)
		fclose(f);
	tap(f && !leaked, "no leak (kmemleak: %d unreferenced objects, %d older than the run)",
	    leaked, older);
}

int main(int argc, char **argv)
{
	struct op ops[] = {
		{ .name = "open", .run = run_open, .check = check_open },
		{ .name = "KBATCH_IOC_INFO", .run = run_info },
		{ .name = "synchronous submit", .run = run_sync, .check = check_sync },
		{ .name = "asynchronous submit", .run = run_async,
		  .check = check_async, .async = true },
		{ .name = "KBATCH_OP_TIMER", .run = run_timer, .check = check_timer,
		  .async = true },
	};
	struct op insmod = { .name = "insmod", .run = run_insmod,
			     .check = check_insmod };
	unsigned int i;

	if (argc != 2) {
		fprintf(stderr, "usage: failnth KO\n");
		return 2;
	}
	run_jiffies = kb_proc_number("/proc/timer_list", "jiffies: %lld");
	printf("1..%zu\n", 3 + ARRAY_SIZE(ops) + 1);
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	insmod.fd = open(argv[1], O_RDONLY);
	if (nth_fd < 0 || insmod.fd < 0 ||
	    syscall(SYS_delete_module, "kbatch", O_NONBLOCK)) {
		printf("Bail out! fail-nth, %s or rmmod kbatch: %s\n", argv[1],
		       strerror(errno));
		return 1;
	}
	fail_each(&insmod);
	tap(!syscall(SYS_finit_module, insmod.fd, "", 0) && works(),
	    "the module loads and works after the insmod loop");
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		ops[i].kb.fd = -1;
		if (ops[i].run != run_open)
			kbatch_open(&ops[i].kb, NULL, 0);
		fail_each(&ops[i]);
		kbatch_close(&ops[i].kb);
	}
	tap(works(), "/dev/kbatch works after the loops");
	leaks();
	return 0;
}
