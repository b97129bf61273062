// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch: a small command-line tool for /dev/kbatch.
 *
 *   kbatch info          print what KBATCH_IOC_INFO reports
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kbatch.h>

static int open_dev(void)
{
	int fd = open("/dev/kbatch", O_RDWR);

	if (fd < 0)
		fprintf(stderr, "kbatch: open /dev/kbatch: %s\n", strerror(errno));
	return fd;
}

static int cmd_info(int fd)
{
	struct kbatch_info info;

	if (ioctl(fd, KBATCH_IOC_INFO, &info)) {
		fprintf(stderr, "kbatch: KBATCH_IOC_INFO: %s\n", strerror(errno));
		return 1;
	}
	printf("abi version    %u\n", info.abi_version);
	printf("features       %#x\n", info.features);
	printf("possible cpus  %u\n", info.possible_cpus);
	printf("online cpus    %u\n", info.online_cpus);
	return 0;
}

static void print_help(void)
{
	fprintf(stderr, "usage: kbatch info\n");
}

int main(int argc, char **argv)
{
	int fd, ret;

	if (argc < 2) {
		print_help();
		return 2;
	}
	fd = open_dev();
	if (fd < 0)
		return 1;
	if (!strcmp(argv[1], "info")) {
		ret = cmd_info(fd);
	} else {
		print_help();
		ret = 2;
	}
	close(fd);
	return ret;
}
