/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the user-space tests share besides libkbatch (which they use for
 * everything on /dev/kbatch): the unprivileged user, CPU pinning, a clock,
 * a number read from /proc, and a raw KBATCH_IOC_SUBMIT for the tests of
 * the ABI itself.  Those that can fail return 0 or -errno, so tests can
 * assert on the errno.
 */
#ifndef _KB_TEST_H
#define _KB_TEST_H

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/kbatch.h>

/* The uid the tests use for an unprivileged user ("nobody"). */
#define KB_NOBODY	65534

/* Become uid/gid KB_NOBODY with no supplementary groups.  0 or -errno. */
static inline int kb_become_nobody(void)
{
	if (geteuid() == KB_NOBODY)
		return 0;
	if (setgroups(0, NULL) || setgid(KB_NOBODY) || setuid(KB_NOBODY))
		return -errno;
	return geteuid() == KB_NOBODY ? 0 : -EPERM;
}

/* Run the calling thread on @cpu only.  0 or -errno. */
static inline int kb_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static inline long long kb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/*
 * The number in the first line of /proc file @path that matches @fmt, a
 * scanf() format with one %lld ("MemAvailable: %lld kB"); -1 if no line
 * does or the file cannot be read.
 */
static inline long long kb_proc_number(const char *path, const char *fmt)
{
	char line[256];
	long long n = -1;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/*
 * Raw KBATCH_IOC_SUBMIT of @nr entries, for the tests of the header
 * itself: its @done after an error, which libkbatch does not return.
 * 0 or -errno; *@done (if @done is not NULL) gets the header's @done,
 * which is 0xdead going in.
 */
static inline int kb_raw_submit(int fd, const struct kbatch_sqe *sqes,
				struct kbatch_cqe *cqes, __u32 nr, __u32 flags,
				__u32 *done)
{
	struct kbatch_submit hdr;
	int ret;

	memset(&hdr, 0, sizeof(hdr));
	hdr.entries = (uintptr_t)sqes;
	hdr.completions = (uintptr_t)cqes;
	hdr.nr = nr;
	hdr.flags = flags;
	hdr.done = 0xdead;
	ret = ioctl(fd, KBATCH_IOC_SUBMIT, &hdr) ? -errno : 0;
	if (done)
		*done = hdr.done;
	return ret;
}

#endif /* _KB_TEST_H */
