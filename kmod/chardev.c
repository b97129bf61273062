// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kbatch: the character device through which user space reaches
 * kbatch.  Open files pin the module (fops.owner).  The device is the last
 * thing registered at load and the first removed at unload, so no ioctl
 * ever sees a half-built module.
 */
#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "kbatch_internal.h"

/**
 * kbatch_fill_info() - describe this module for KBATCH_IOC_INFO
 * @info: filled in whole, reserved fields zeroed
 *
 * Context: any.
 */
void kbatch_fill_info(struct kbatch_info *info)
{
	memset(info, 0, sizeof(*info));
	info->abi_version = KBATCH_ABI_VERSION;
	info->features = 0;
	info->possible_cpus = num_possible_cpus();
	info->online_cpus = num_online_cpus();
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_fill_info);

static long kbatch_ioc_info(void __user *uarg)
{
	struct kbatch_info info;

	kbatch_fill_info(&info);
	if (copy_to_user(uarg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long kbatch_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KBATCH_IOC_INFO:
		return kbatch_ioc_info(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kbatch_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= kbatch_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice kbatch_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "kbatch",
	.fops	= &kbatch_fops,
	.mode	= 0666,
};

int kbatch_chardev_init(void)
{
	return misc_register(&kbatch_miscdev);
}

void kbatch_chardev_exit(void)
{
	misc_deregister(&kbatch_miscdev);
}
