// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kbatch: the character device through which user space reaches
 * kbatch.  Open files pin the module (fops.owner).  The device is the last
 * thing registered at load and the first removed at unload, so no ioctl
 * ever sees a half-built module.  Each open file has a context (file.c)
 * holding its completion queue; the ioctls are dispatched from here.
 */
#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "kbatch_internal.h"

/* The ABI's layout, on every architecture: sizes and no hidden padding. */
static_assert(sizeof(struct kbatch_info) == 64);
static_assert(offsetof(struct kbatch_info, max_entries) == 16);
static_assert(offsetof(struct kbatch_info, reserved) == 24);
static_assert(sizeof(struct kbatch_sqe) == 64);
static_assert(offsetof(struct kbatch_sqe, user_data) == 8);
static_assert(offsetof(struct kbatch_sqe, args) == 16);
static_assert(offsetof(struct kbatch_sqe, reserved) == 48);
static_assert(sizeof(struct kbatch_cqe) == 16);
static_assert(offsetof(struct kbatch_cqe, result) == 8);
static_assert(sizeof(struct kbatch_submit) == 48);
static_assert(offsetof(struct kbatch_submit, nr) == 16);
static_assert(offsetof(struct kbatch_submit, done) == 24);
static_assert(offsetof(struct kbatch_submit, reserved) == 32);
static_assert(sizeof(struct kbatch_lookup) == 64);
static_assert(offsetof(struct kbatch_lookup, opcode) == 32);
static_assert(offsetof(struct kbatch_lookup, reserved) == 40);
static_assert((KBATCH_CQ_ENTRIES & (KBATCH_CQ_ENTRIES - 1)) == 0);

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
	info->features = KBATCH_FEAT_SUBMIT | KBATCH_FEAT_ASYNC |
			 KBATCH_FEAT_LOOKUP | KBATCH_FEAT_TIMER;
	info->possible_cpus = num_possible_cpus();
	info->online_cpus = num_online_cpus();
	info->max_entries = KBATCH_MAX_ENTRIES;
	info->cq_entries = KBATCH_CQ_ENTRIES;
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

static long kbatch_ioc_lookup(struct kbatch_lookup __user *uarg)
{
	struct kbatch_lookup lk;
	int ret;

	if (copy_from_user(&lk, uarg, sizeof(lk)))
		return -EFAULT;
	ret = kbatch_op_lookup(&lk);
	if (ret)
		return ret;
	if (copy_to_user(uarg, &lk, sizeof(lk)))
		return -EFAULT;
	return 0;
}

static long kbatch_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KBATCH_IOC_INFO:
		return kbatch_ioc_info(uarg);
	case KBATCH_IOC_SUBMIT:
		return kbatch_ioc_submit(filp->private_data, uarg);
	case KBATCH_IOC_LOOKUP:
		return kbatch_ioc_lookup(uarg);
	default:
		return -ENOTTY;
	}
}

static int kbatch_open(struct inode *inode, struct file *filp)
{
	struct kbatch_file *file = kbatch_file_alloc();

	if (!file)
		return -ENOMEM;
	filp->private_data = file;
	return stream_open(inode, filp);
}

static int kbatch_release(struct inode *inode, struct file *filp)
{
	kbatch_file_release(filp->private_data);
	return 0;
}

static ssize_t kbatch_read(struct file *filp, char __user *buf, size_t count,
			   loff_t *ppos)
{
	return kbatch_file_read(filp->private_data, buf, count,
				filp->f_flags & O_NONBLOCK);
}

static __poll_t kbatch_poll(struct file *filp, struct poll_table_struct *pt)
{
	return kbatch_file_poll(filp->private_data, filp, pt);
}

static const struct file_operations kbatch_fops = {
	.owner		= THIS_MODULE,
	.open		= kbatch_open,
	.release	= kbatch_release,
	.read		= kbatch_read,
	.poll		= kbatch_poll,
	.unlocked_ioctl	= kbatch_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
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
