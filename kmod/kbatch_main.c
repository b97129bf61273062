// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch: per-CPU batch queues and a fair deferred-work poller.
 *
 * Module load and unload.  Each part is set up in order and torn down in
 * the reverse order; /dev/kbatch comes last and goes first.
 */
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/workqueue.h>

#include "kbatch_internal.h"

struct dentry *kbatch_debugfs_root;
struct workqueue_struct *kbatch_wq;

static int __init kbatch_init(void)
{
	int ret;

	kbatch_debugfs_root = debugfs_create_dir("kbatch", NULL);
	kbatch_wq = alloc_workqueue("kbatch", WQ_HIGHPRI, 0);
	if (!kbatch_wq) {
		ret = -ENOMEM;
		goto err_debugfs;
	}
	ret = kbatch_hotplug_init();
	if (ret)
		goto err_wq;
	ret = kbatch_builtin_ops_init();
	if (ret)
		goto err_hotplug;
	ret = kbatch_timer_op_init();
	if (ret)
		goto err_ops;
	ret = kbatch_submit_init();
	if (ret)
		goto err_timer;
	ret = kbatch_async_init();
	if (ret)
		goto err_submit;
	ret = kbatch_chardev_init();
	if (ret)
		goto err_async;
	return 0;

err_async:
	kbatch_async_exit();
err_submit:
	kbatch_submit_exit();
err_timer:
	kbatch_timer_op_exit();
err_ops:
	kbatch_builtin_ops_exit();
err_hotplug:
	kbatch_hotplug_exit();
err_wq:
	destroy_workqueue(kbatch_wq);
err_debugfs:
	debugfs_remove_recursive(kbatch_debugfs_root);
	return ret;
}

static void __exit kbatch_exit(void)
{
	kbatch_chardev_exit();
	kbatch_async_exit();
	kbatch_submit_exit();
	kbatch_timer_op_exit();
	kbatch_builtin_ops_exit();
	kbatch_hotplug_exit();
	destroy_workqueue(kbatch_wq);
	debugfs_remove_recursive(kbatch_debugfs_root);
}

module_init(kbatch_init);
module_exit(kbatch_exit);

MODULE_DESCRIPTION("kbatch: per-CPU batch queues and a fair deferred-work poller");
MODULE_AUTHOR("The kbatch developers");
/* PACKAGE_VERSION of dkms.conf; make check compares the two. */
MODULE_VERSION("0.1.0");
MODULE_LICENSE("GPL");
