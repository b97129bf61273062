// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kbatch: the character device through which user space reaches
 * kbatch, and the service's set-up.  Open files pin the module
 * (fops.owner).  The device is the last thing the service registers and
 * the first it removes, so no ioctl ever sees a half-built service.  Each
 * open file has a context (struct kbatch_ctx, dev.h tells its lifetime);
 * the ioctls are dispatched from here.
 */
#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <kunit/visibility.h>

#include "dev.h"

/*
 * The ABI's layout, on every architecture: sizes and no hidden padding.
 * The one check of it: user space compiles the same header.
 */
static_assert(sizeof(struct kbatch_info) == 64);
static_assert(offsetof(struct kbatch_info, max_entries) == 16);
static_assert(offsetof(struct kbatch_info, max_timers) == 24);
static_assert(offsetof(struct kbatch_info, timer_max_ns) == 32);
static_assert(offsetof(struct kbatch_info, reserved) == 40);
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
			 KBATCH_FEAT_LOOKUP | KBATCH_FEAT_TIMER |
			 KBATCH_FEAT_URING |
			 (KBATCH_URING_CAN_CANCEL ? KBATCH_FEAT_URING_TIMER : 0);
	info->possible_cpus = num_possible_cpus();
	info->online_cpus = num_online_cpus();
	info->max_entries = KBATCH_MAX_ENTRIES;
	info->cq_entries = KBATCH_CQ_ENTRIES;
	info->max_timers = KBATCH_FILE_TIMERS;
	info->timer_max_ns = KBATCH_TIMER_MAX_NS;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_fill_info);

/*
 * Where released files are torn down (see ctx_stop_work()).  A few
 * teardowns run at once, so that a burst of closes neither queues up
 * behind one file's polls nor makes the workqueue start a kworker (and
 * its stack) for each.
 */
#define KBATCH_RELEASE_ACTIVE	8
static struct workqueue_struct *ctx_wq;
/* Teardowns between their two steps: kbatch_dev_exit() waits for them. */
static atomic_t ctx_in_rcu = ATOMIC_INIT(0);

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
	struct kbatch_ctx *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);

	if (!ctx)
		return -ENOMEM;
	kbatch_cq_init(&ctx->cq);
	filp->private_data = ctx;
	return stream_open(inode, filp);
}

/*
 * Tear a released file down, in two steps so that no worker of ctx_wq
 * sleeps for a grace period, which would make other files' teardowns
 * queue behind it.  First its timers, whose polls post to the completion
 * queue: cancelled, their poller killed, which starts the grace period
 * its free needs.  Then, from RCU's callback once that has passed, the
 * rest is freed.  A file without timers is freed in the first step.
 * kbatch_dev_exit() waits for both steps of every teardown before the
 * module's code goes.
 */
static void ctx_free(struct kbatch_ctx *ctx)
{
	/* A timeout may leak, never free what a poll still uses. */
	if (!kbatch_timers_release(ctx)) {
		pr_warn("a released file's timer poll is stuck; leaking the file's state\n");
		return;
	}
	kbatch_uring_release(ctx);
	kbatch_ctx_free_buf(ctx);
	kbatch_cq_destroy(&ctx->cq);
	kfree(ctx);
}

static void ctx_free_work(struct work_struct *work)
{
	atomic_dec(&ctx_in_rcu);
	ctx_free(container_of(to_rcu_work(work), struct kbatch_ctx, free));
}

/* The first step; a file that never used TIMER has no second. */
static void ctx_stop_work(struct work_struct *work)
{
	struct kbatch_ctx *ctx = container_of(work, struct kbatch_ctx, stop);

	if (!ctx->timers) {
		ctx_free(ctx);
		return;
	}
	kbatch_timers_stop(ctx);
	atomic_inc(&ctx_in_rcu);
	INIT_RCU_WORK(&ctx->free, ctx_free_work);
	queue_rcu_work(ctx_wq, &ctx->free);
}

/* No ioctl runs on the file any more. */
static int kbatch_release(struct inode *inode, struct file *filp)
{
	struct kbatch_ctx *ctx = filp->private_data;

	INIT_WORK(&ctx->stop, ctx_stop_work);
	/* queue_work() orders our last use of @ctx before the work runs. */
	queue_work(ctx_wq, &ctx->stop);
	return 0;
}

static ssize_t kbatch_read(struct file *filp, char __user *buf, size_t count,
			   loff_t *ppos)
{
	struct kbatch_ctx *ctx = filp->private_data;

	return kbatch_cq_read(&ctx->cq, buf, count, filp->f_flags & O_NONBLOCK);
}

static __poll_t kbatch_poll(struct file *filp, struct poll_table_struct *pt)
{
	struct kbatch_ctx *ctx = filp->private_data;

	return kbatch_cq_poll(&ctx->cq, filp, pt);
}

static const struct file_operations kbatch_fops = {
	.owner		= THIS_MODULE,
	.open		= kbatch_open,
	.release	= kbatch_release,
	.read		= kbatch_read,
	.poll		= kbatch_poll,
	.unlocked_ioctl	= kbatch_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.uring_cmd	= kbatch_uring_cmd,
};

static struct miscdevice kbatch_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "kbatch",
	.fops	= &kbatch_fops,
	.mode	= 0666,
};

/**
 * kbatch_dev_init() - set up the service: built-in ops, then the device
 *
 * Context: process context, may sleep; module load.
 *
 * Return: 0 or a negative errno, with nothing left set up.
 */
int kbatch_dev_init(void)
{
	int ret;

	ctx_wq = alloc_workqueue("kbatch_release", WQ_UNBOUND,
				 KBATCH_RELEASE_ACTIVE);
	if (!ctx_wq)
		return -ENOMEM;
	kbatch_dev_stats_init();
	ret = kbatch_builtin_ops_init();
	if (ret)
		goto err_stats;
	ret = misc_register(&kbatch_miscdev);
	if (ret)
		goto err_ops;
	return 0;

err_ops:
	kbatch_builtin_ops_exit();
err_stats:
	kbatch_dev_stats_exit();
	destroy_workqueue(ctx_wq);
	return ret;
}

/**
 * kbatch_dev_exit() - take the service down, the device first
 *
 * Context: process context, may sleep; module unload (no file is open).
 */
void kbatch_dev_exit(void)
{
	misc_deregister(&kbatch_miscdev);
	/*
	 * Every teardown's first step; then, if one is still between its
	 * steps, the RCU callbacks that queue the second (destroy_workqueue()
	 * refuses work queued from outside the workqueue while it drains);
	 * then the second steps.  flush_workqueue() orders the first steps'
	 * increments before our read; a second step decrements only once
	 * its callback has queued it, so 0 means no callback is pending.
	 */
	flush_workqueue(ctx_wq);
	if (atomic_read(&ctx_in_rcu))
		rcu_barrier();
	destroy_workqueue(ctx_wq);
	kbatch_builtin_ops_exit();
	kbatch_dev_stats_exit();
}
