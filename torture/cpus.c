// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_torture: a kthread takes a random CPU other than 0 offline, or
 * brings an offline one back, every so often, with remove_cpu() and
 * add_cpu(); kbatch must run what a departing CPU's rings hold and lose
 * nothing (queues.c reconciles).  At the end every CPU comes back online.
 */
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched.h>

#include "torture.h"

static struct task_struct *kt_cpus_task;
static unsigned int kt_cpus_interval;

/* Toggle one CPU; failures (a CPU busy being toggled) are only counted. */
static void kt_cpu_toggle(unsigned int cpu)
{
	if (cpu_online(cpu)) {
		if (num_online_cpus() > 1 && !remove_cpu(cpu))
			kt_count(KT_CPUOFF, 1);
	} else if (!add_cpu(cpu)) {
		kt_count(KT_CPUON, 1);
	}
}

static int kt_cpus_thread(void *unused)
{
	unsigned int cpu;
	struct rnd_state rs;

	kt_rand_init(&rs, 0xc9);
	while (!kthread_should_stop()) {
		schedule_timeout_interruptible(msecs_to_jiffies(kt_cpus_interval / 2 +
						kt_rand(&rs, kt_cpus_interval)));
		cpu = 1 + kt_rand(&rs, nr_cpu_ids - 1);
		if (cpu_present(cpu) && !kthread_should_stop())
			kt_cpu_toggle(cpu);
	}
	return 0;
}

/**
 * kt_cpus_start() - start the hotplug kthread
 * @interval_ms: mean time between two toggles
 *
 * Does nothing on a machine with one possible CPU.
 *
 * Context: process context, may sleep.
 *
 * Return: 0 or a negative errno.
 */
int kt_cpus_start(unsigned int interval_ms)
{
	if (nr_cpu_ids < 2)
		return 0;
	kt_cpus_interval = max(interval_ms, 2U);
	kt_cpus_task = kthread_run(kt_cpus_thread, NULL, "kt_cpus");
	if (IS_ERR(kt_cpus_task)) {
		int ret = PTR_ERR(kt_cpus_task);

		kt_cpus_task = NULL;
		return ret;
	}
	return 0;
}

/**
 * kt_cpus_stop() - stop the kthread and bring every present CPU online
 *
 * Context: process context, may sleep.
 */
void kt_cpus_stop(void)
{
	unsigned int cpu;
	int ret;

	if (kt_cpus_task)
		kthread_stop(kt_cpus_task);
	kt_cpus_task = NULL;
	for_each_present_cpu(cpu) {
		if (cpu_online(cpu))
			continue;
		ret = add_cpu(cpu);
		if (ret)
			kt_violation("CPU %u did not come back online: %d", cpu, ret);
		else
			kt_count(KT_CPUON, 1);
	}
}
