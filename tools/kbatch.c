// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch: a small command-line tool for /dev/kbatch.
 *
 *   kbatch info                     print what KBATCH_IOC_INFO reports
 *   kbatch lookup NAME...           print the opcode of each op
 *   kbatch submit [-a] OP[:ARG]...  submit one batch, print each result
 *   kbatch flood COUNT OP[:ARG]...  submit the batch COUNT times
 *                                   asynchronously and exit at once
 *
 * OP is an op's name (looked up) or an opcode; ARGs are numbers, up to
 * four, separated by colons.  -a submits asynchronously and reads the
 * completions back.  Example: kbatch submit echo:5 sum:1 sum:2 kv.get:7
 * flood leaves its ops in flight when it closes the file and exits (tests
 * of close and unload); it prints how many entries were accepted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libkbatch.h"

static int cmd_info(struct kbatch *kb)
{
	const struct kbatch_info *info = &kb->info;

	printf("abi version    %u\n", info->abi_version);
	printf("features       %#x\n", info->features);
	printf("possible cpus  %u\n", info->possible_cpus);
	printf("online cpus    %u\n", info->online_cpus);
	printf("max entries    %u\n", info->max_entries);
	printf("cq entries     %u\n", info->cq_entries);
	printf("max timers     %u\n", info->max_timers);
	printf("timer max ns   %llu\n", (unsigned long long)info->timer_max_ns);
	return 0;
}

static int cmd_lookup(struct kbatch *kb, int argc, char **argv)
{
	__u32 flags = 0;
	int op;

	for (int i = 0; i < argc; i++) {
		op = kbatch_lookup(kb, argv[i], &flags);
		if (op < 0) {
			fprintf(stderr, "kbatch: %s: %s\n", argv[i], strerror(-op));
			return 1;
		}
		printf("%-16s opcode %d%s%s%s\n", argv[i], op,
		       flags & KBATCH_LOOKUP_ADMIN ? " (CAP_SYS_ADMIN)" : "",
		       flags & KBATCH_LOOKUP_ASYNC ? " (async only)" : "",
		       flags & KBATCH_LOOKUP_SHARED ? " (shared)" : "");
	}
	return 0;
}

/* Parse "OP[:ARG]..." into @sqe; 0 or -1 with a message. */
static int parse_entry(struct kbatch *kb, char *spec, struct kbatch_sqe *sqe,
		       __u64 ud)
{
	char *name = strtok(spec, ":"), *arg, *end;
	unsigned int n = 0;
	int op;

	if (!name)
		return -1;
	op = strtol(name, &end, 0);
	if (*end)
		op = kbatch_lookup(kb, name, NULL);
	if (op < 0) {
		fprintf(stderr, "kbatch: op %s: %s\n", name, strerror(-op));
		return -1;
	}
	kbatch_prep(sqe, op, 0, 0, ud);
	while ((arg = strtok(NULL, ":")) && n < 4)
		sqe->args[n++] = strtoull(arg, NULL, 0);
	return 0;
}

static int cmd_submit(struct kbatch *kb, int argc, char **argv)
{
	int async = argc > 0 && !strcmp(argv[0], "-a"), n, ret;
	struct kbatch_sqe *sqe;
	struct kbatch_cqe *cqe;
	char **specs = argv + async;
	int done = 0;

	n = argc - async;
	sqe = calloc(n ? n : 1, sizeof(*sqe));
	cqe = calloc(n ? n : 1, sizeof(*cqe));
	if (!sqe || !cqe)
		return 1;
	for (int i = 0; i < n; i++)
		if (parse_entry(kb, specs[i], &sqe[i], i))
			return 1;
	if (async)
		ret = kbatch_submit_async(kb, sqe, n);
	else
		ret = kbatch_submit_sync(kb, sqe, cqe, n);
	done = ret;
	if (ret > 0 && async)
		ret = kbatch_reap_cqes(kb, cqe, done);
	if (ret < 0) {
		fprintf(stderr, "kbatch: submit: %s\n", strerror(-ret));
		return 1;
	}
	printf("%s submit: %d of %d entries\n", async ? "async" : "sync",
	       done, n);
	for (int i = 0; i < done; i++) {
		const struct kbatch_sqe *s = &sqe[cqe[i].user_data];
		long long res = cqe[i].result;

		printf("  [%llu] opcode %-3u arg %-10llu -> %lld%s%s\n",
		       (unsigned long long)cqe[i].user_data, s->opcode,
		       (unsigned long long)s->args[0], res,
		       res < 0 && res > -4096 ? " " : "",
		       res < 0 && res > -4096 ? strerror(-res) : "");
	}
	free(sqe);
	free(cqe);
	return 0;
}

/* Submit the batch @count times, asynchronously; read nothing back. */
static int cmd_flood(struct kbatch *kb, int argc, char **argv)
{
	long count = argc > 0 ? strtol(argv[0], NULL, 0) : 0;
	unsigned long taken = 0;
	struct kbatch_sqe *sqe;
	int n = argc - 1, ret = 0;

	if (count <= 0 || n <= 0)
		return 2;
	sqe = calloc(n, sizeof(*sqe));
	if (!sqe)
		return 1;
	for (int i = 0; i < n; i++)
		if (parse_entry(kb, argv[1 + i], &sqe[i], i))
			return 1;
	for (long r = 0; r < count && ret >= 0; r++) {
		ret = kbatch_submit_async(kb, sqe, n);
		if (ret > 0)
			taken += ret;
	}
	printf("flood: %lu entries accepted%s%s\n", taken, ret < 0 ? ", then " : "",
	       ret < 0 ? strerror(-ret) : "");
	free(sqe);
	/* -EBUSY (the completion queue is full) is where a flood stops. */
	return ret < 0 && ret != -EBUSY;
}

static void print_help(void)
{
	fprintf(stderr, "usage: kbatch info\n"
		"       kbatch lookup NAME...\n"
		"       kbatch submit [-a] OP[:ARG]...\n"
		"       kbatch flood COUNT OP[:ARG]...\n");
}

int main(int argc, char **argv)
{
	struct kbatch kb;
	int ret;

	if (argc < 2) {
		print_help();
		return 2;
	}
	ret = kbatch_open(&kb, NULL, 0);
	if (ret) {
		fprintf(stderr, "kbatch: open /dev/kbatch: %s\n", strerror(-ret));
		return 1;
	}
	if (!strcmp(argv[1], "info")) {
		ret = cmd_info(&kb);
	} else if (!strcmp(argv[1], "lookup")) {
		ret = cmd_lookup(&kb, argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "submit")) {
		ret = cmd_submit(&kb, argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "flood")) {
		ret = cmd_flood(&kb, argc - 2, argv + 2);
		if (ret == 2)
			print_help();
	} else {
		print_help();
		ret = 2;
	}
	kbatch_close(&kb);
	return ret;
}
