// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_nopdev.ko: the floor of table 3.  A misc device, /dev/kbatch_nop,
 * whose ioctl does nothing and returns 0: one ioctl per operation costs at
 * least this much, whatever the driver does.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

static long kb_nop_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return 0;
}

static const struct file_operations kb_nop_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = kb_nop_ioctl,
	.compat_ioctl = kb_nop_ioctl,
};

static struct miscdevice kb_nop_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kbatch_nop",
	.fops = &kb_nop_fops,
	.mode = 0666,
};

module_misc_device(kb_nop_dev);

MODULE_DESCRIPTION("kbatch benchmarks: a device whose ioctl does nothing");
MODULE_AUTHOR("The kbatch developers");
MODULE_LICENSE("GPL");
