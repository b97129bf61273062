// SPDX-License-Identifier: GPL-2.0
/*
 * CPU hotplug: a dynamic cpuhp state whose teardown runs what the
 * departing CPU's rings hold (kbatch_queues_cpu_offline()).  Nothing is
 * needed when a CPU comes online: its rings were allocated with the queue
 * and work again as soon as it runs pushes.
 */
#include <linux/cpuhotplug.h>

#include "kbatch_internal.h"

static enum cpuhp_state kbatch_cpuhp_state;

static int kbatch_cpu_offline(unsigned int cpu)
{
	kbatch_queues_cpu_offline(cpu);
	return 0;
}

/**
 * kbatch_hotplug_init() - register kbatch's CPU hotplug state
 *
 * Context: may sleep; module load.
 *
 * Return: 0 or a negative errno.
 */
int kbatch_hotplug_init(void)
{
	int ret;

	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "kbatch:online",
					NULL, kbatch_cpu_offline);
	if (ret < 0)
		return ret;
	kbatch_cpuhp_state = ret;
	return 0;
}

/**
 * kbatch_hotplug_exit() - remove it
 *
 * Context: may sleep; module unload.
 */
void kbatch_hotplug_exit(void)
{
	cpuhp_remove_state_nocalls(kbatch_cpuhp_state);
}
