// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: KBATCH_IOC_INFO reports this machine and this module truthfully.
 */
#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/stddef.h>

#include "dev/dev.h"

static void info_reports_cpus(struct kunit *test)
{
	struct kbatch_info info;

	kbatch_fill_info(&info);
	KUNIT_EXPECT_EQ(test, info.possible_cpus, num_possible_cpus());
	KUNIT_EXPECT_EQ(test, info.online_cpus, num_online_cpus());
	KUNIT_EXPECT_LE(test, info.online_cpus, info.possible_cpus);
}

static void info_reports_abi(struct kunit *test)
{
	struct kbatch_info info;

	kbatch_fill_info(&info);
	KUNIT_EXPECT_EQ(test, info.abi_version, KBATCH_ABI_VERSION);
	KUNIT_EXPECT_EQ(test, info.features & ~KBATCH_FEATURES, 0u);
}

static void info_zeroes_reserved(struct kunit *test)
{
	struct kbatch_info info;
	unsigned int i;

	memset(&info, 0xa5, sizeof(info));
	kbatch_fill_info(&info);
	KUNIT_EXPECT_EQ(test, info.reserved32, 0u);
	for (i = 0; i < ARRAY_SIZE(info.reserved); i++)
		KUNIT_EXPECT_EQ(test, info.reserved[i], 0ull);
}

static void info_reports_limits(struct kunit *test)
{
	struct kbatch_info info;

	kbatch_fill_info(&info);
	KUNIT_EXPECT_EQ(test, info.max_entries, KBATCH_MAX_ENTRIES);
	KUNIT_EXPECT_EQ(test, info.cq_entries, KBATCH_CQ_ENTRIES);
	KUNIT_EXPECT_EQ(test, info.max_timers, KBATCH_FILE_TIMERS);
	KUNIT_EXPECT_EQ(test, info.timer_max_ns, KBATCH_TIMER_MAX_NS);
	KUNIT_EXPECT_LE(test, info.max_timers, info.cq_entries);
}

static void info_layout_is_fixed(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct kbatch_info), 64);
	KUNIT_EXPECT_EQ(test, offsetof(struct kbatch_info, max_entries), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct kbatch_info, max_timers), 24);
	KUNIT_EXPECT_EQ(test, offsetof(struct kbatch_info, timer_max_ns), 32);
	KUNIT_EXPECT_EQ(test, offsetof(struct kbatch_info, reserved), 40);
}

static struct kunit_case info_cases[] = {
	KUNIT_CASE(info_reports_cpus),
	KUNIT_CASE(info_reports_abi),
	KUNIT_CASE(info_zeroes_reserved),
	KUNIT_CASE(info_reports_limits),
	KUNIT_CASE(info_layout_is_fixed),
	{}
};

static struct kunit_suite info_suite = {
	.name = "kbatch_info",
	.test_cases = info_cases,
};

kunit_test_suite(info_suite);
