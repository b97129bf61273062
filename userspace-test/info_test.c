// SPDX-License-Identifier: GPL-2.0
/*
 * KBATCH_IOC_INFO from user space, and the ioctl's answers to bad input.
 * Raw open() and ioctl() throughout: the ABI itself is tested (reserved
 * fields, unknown commands, bad pointers, close()'s return).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kbatch.h>

#include "kselftest_harness.h"

/* Count the CPUs in a sysfs range list such as "0-3" or "0,2-3". */
static int count_cpus(const char *path)
{
	char buf[256], *p = buf;
	int n = 0, a, b, len;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	while (sscanf(p, "%d%n", &a, &len) == 1) {
		p += len;
		b = a;
		if (*p == '-' && sscanf(p + 1, "%d%n", &b, &len) == 1)
			p += len + 1;
		n += b - a + 1;
		if (*p != ',')
			break;
		p++;
	}
	return n;
}

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open("/dev/kbatch", O_RDWR);
	ASSERT_GE(self->fd, 0) TH_LOG("open /dev/kbatch: %s", strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST_F(dev, info_matches_sysfs)
{
	struct kbatch_info info;

	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, ioctl(self->fd, KBATCH_IOC_INFO, &info));
	EXPECT_EQ(KBATCH_ABI_VERSION, (int)info.abi_version);
	/* Every bit this header defines, and no other. */
	EXPECT_EQ(0u, info.features & ~(KBATCH_FEAT_SUBMIT | KBATCH_FEAT_ASYNC |
					KBATCH_FEAT_LOOKUP | KBATCH_FEAT_TIMER |
					KBATCH_FEAT_URING |
					KBATCH_FEAT_URING_TIMER));
	EXPECT_EQ(count_cpus("/sys/devices/system/cpu/possible"),
		  (int)info.possible_cpus);
	EXPECT_EQ(count_cpus("/sys/devices/system/cpu/online"),
		  (int)info.online_cpus);
	for (unsigned int i = 0; i < sizeof(info.reserved) / 8; i++)
		EXPECT_EQ(0ull, info.reserved[i]);
}

TEST_F(dev, unknown_ioctl_is_enotty)
{
	char buf[64] = { 0 };

	EXPECT_EQ(-1, ioctl(self->fd, _IOR(KBATCH_IOC_MAGIC, 0x7f, int), buf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('x', 1)));
	EXPECT_EQ(ENOTTY, errno);
	/* The right number with the wrong size is a different command. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(KBATCH_IOC_MAGIC, 0x00, int), buf));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, info_bad_pointer_is_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	void *map;

	EXPECT_EQ(-1, ioctl(self->fd, KBATCH_IOC_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KBATCH_IOC_INFO, (void *)-4096L));
	EXPECT_EQ(EFAULT, errno);

	/* A read-only page, and a struct that straddles into a hole. */
	map = mmap(NULL, 2 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-1, ioctl(self->fd, KBATCH_IOC_INFO, map));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, munmap((char *)map + page, page));
	ASSERT_EQ(0, mprotect(map, page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(-1, ioctl(self->fd, KBATCH_IOC_INFO, (char *)map + page - 8));
	EXPECT_EQ(EFAULT, errno);
	munmap(map, page);
}

TEST(open_many_and_close)
{
	int fds[64], i;

	for (i = 0; i < 64; i++) {
		fds[i] = open("/dev/kbatch", O_RDWR);
		ASSERT_GE(fds[i], 0);
	}
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, close(fds[i]));
}

TEST_HARNESS_MAIN
