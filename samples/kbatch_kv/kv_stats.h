/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User space: read one of kbatch_kv's statistics from debugfs
 * (/sys/kernel/debug/kbatch_kv/stats, lines "NAME: VALUE", written by
 * kv_stats_show() in kbatch_kv.c).  Shared by the tests and the benchmark.
 */
#ifndef _KBATCH_KV_STATS_H
#define _KBATCH_KV_STATS_H

#include <stdio.h>
#include <string.h>

/* The statistic @name, or -1 (no such line, or debugfs is not readable). */
static inline long long kv_stat(const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/kbatch_kv/stats", "r");
	char line[128], key[64];
	long long v, found = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[^:]: %lld", key, &v) == 2 &&
		    !strcmp(key, name))
			found = v;
	if (f)
		fclose(f);
	return found;
}

#endif /* _KBATCH_KV_STATS_H */
