// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch's tracepoints through tracefs, as perf or trace-cmd would use
 * them: enable events/kbatch, drive a synchronous and an asynchronous
 * submit (with a TIMER) and, with kbatch_testops, a submit of a shared op
 * (batched through a kbatch queue), and find each event with its fields
 * in the trace.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libkbatch.h"

#define TRACEFS		"/sys/kernel/tracing"

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* The whole trace buffer, NUL-terminated; free() it. */
static char *read_trace(void)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	int fd = open(TRACEFS "/trace", O_RDONLY);
	ssize_t n;

	if (!buf || fd < 0)
		return NULL;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
		if (!buf)
			break;
	}
	close(fd);
	if (buf)
		buf[len] = 0;
	return buf;
}

TEST(events_with_their_fields)
{
	struct kbatch_sqe sqe[3];
	struct kbatch_cqe cqe[3];
	struct kbatch kb;
	char *trace;
	int shared;

	if (geteuid())
		SKIP(return, "tracefs needs root");
	if (access(TRACEFS "/events", F_OK))
		ASSERT_EQ(0, mount("nodev", TRACEFS, "tracefs", 0, NULL));
	ASSERT_EQ(0, kbatch_open(&kb, NULL, 0));
	ASSERT_EQ(0, write_file(TRACEFS "/trace", ""));
	/*
	 * Without record-cmd, enabling kbatch's events patches kbatch's
	 * tracepoints only, not the scheduler's (the tracer records task
	 * names from sched_switch and sched_wakeup): under emulation, Debian's
	 * 6.12 once took an int3 it did not know in ttwu_do_activate() while
	 * that patch ran, and panicked.  The events do not need task names.
	 */
	ASSERT_EQ(0, write_file(TRACEFS "/options/record-cmd", "0"));
	ASSERT_EQ(0, write_file(TRACEFS "/events/kbatch/enable", "1"));

	kbatch_prep_echo(&sqe[0], 1, 0);
	kbatch_prep_echo(&sqe[1], 2, 1);
	kbatch_prep_sum(&sqe[2], 3, 2);
	EXPECT_EQ(3, kbatch_submit_sync(&kb, sqe, cqe, 3));
	kbatch_prep_nop(&sqe[0], 0);
	kbatch_prep_timer(&sqe[1], 1000000, 1);
	EXPECT_EQ(2, kbatch_submit_async(&kb, sqe, 2));
	EXPECT_EQ(2, kbatch_reap_cqes(&kb, cqe, 2));
	shared = kbatch_lookup(&kb, "test.shared", NULL);
	if (shared >= 0) {
		kbatch_prep(&sqe[0], shared, 1, 0, 0);
		kbatch_prep(&sqe[1], shared, 2, 0, 1);
		EXPECT_EQ(2, kbatch_submit_sync(&kb, sqe, cqe, 2));
	}

	ASSERT_EQ(0, write_file(TRACEFS "/events/kbatch/enable", "0"));
	ASSERT_EQ(0, write_file(TRACEFS "/options/record-cmd", "1"));
	kbatch_close(&kb);
	trace = read_trace();
	ASSERT_NE(NULL, trace);
	EXPECT_NE(NULL, strstr(trace, "kbatch_dev_submit: entries=3 mode=sync"));
	EXPECT_NE(NULL, strstr(trace, "kbatch_op_run: op=echo opcode=1 len=2"));
	EXPECT_NE(NULL, strstr(trace, "kbatch_op_run: op=sum opcode=2 len=1"));
	EXPECT_NE(NULL, strstr(trace, "kbatch_dev_submit: entries=2 mode=async"));
	EXPECT_NE(NULL, strstr(trace, "kbatch_op_run: op=timer opcode=3 len=1"));
	EXPECT_NE(NULL, strstr(trace, "kbatch_poller_cycle: poller= polled=1 slices=1"));
	if (shared >= 0) {
		/* One run of two, one batch of one request: the run. */
		EXPECT_NE(NULL, strstr(trace, "kbatch_batch_open: queue=test.shared"));
		EXPECT_NE(NULL, strstr(trace, "kbatch_batch_bound: queue=test.shared"));
		EXPECT_NE(NULL, strstr(trace, "kbatch_batch_done: queue=test.shared"));
		EXPECT_NE(NULL, strstr(trace, "kbatch_op_run: op=test.shared"));
	}
	if (_metadata->passed == 0 || getenv("KB_TRACE_DUMP"))
		fprintf(stderr, "%s", trace);
	free(trace);
}

TEST_HARNESS_MAIN
