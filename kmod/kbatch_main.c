// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch: per-CPU batch queues and a fair deferred-work poller.
 *
 * Module load and unload.  Each part is set up in order and torn down in
 * the reverse order; the service (/dev/kbatch, kmod/dev/) comes last and
 * goes first.
 */
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/workqueue.h>
#include <kunit/visibility.h>

#include "kbatch_internal.h"
#include "dev/dev.h"

/* kbatch's tracepoints are defined here, once for the module. */
#define CREATE_TRACE_POINTS
#include <trace/events/kbatch.h>

/* For other modules' probes (the KUnit suites attach to them). */
EXPORT_TRACEPOINT_SYMBOL_GPL(kbatch_batch_open);
EXPORT_TRACEPOINT_SYMBOL_GPL(kbatch_batch_bound);
EXPORT_TRACEPOINT_SYMBOL_GPL(kbatch_batch_done);
EXPORT_TRACEPOINT_SYMBOL_GPL(kbatch_refused);
EXPORT_TRACEPOINT_SYMBOL_GPL(kbatch_poller_cycle);
EXPORT_TRACEPOINT_SYMBOL_GPL(kbatch_dev_submit);
EXPORT_TRACEPOINT_SYMBOL_GPL(kbatch_op_run);

struct dentry *kbatch_debugfs_root;
struct workqueue_struct *kbatch_wq;

/**
 * kbatch_module() - the module that holds kbatch's code
 *
 * For KUnit, which checks the references a refused kbatch_poller_free()
 * takes on it.
 *
 * Context: any.
 * Return: THIS_MODULE of kbatch.
 */
struct module *kbatch_module(void)
{
	return THIS_MODULE;
}
EXPORT_SYMBOL_IF_KUNIT(kbatch_module);

static int __init kbatch_init(void)
{
	int ret;

	kbatch_debugfs_root = debugfs_create_dir("kbatch", NULL);
	kbatch_wq = alloc_workqueue("kbatch", WQ_HIGHPRI, 0);
	if (!kbatch_wq) {
		ret = -ENOMEM;
		goto err_debugfs;
	}
	ret = kbatch_dev_init();
	if (ret)
		goto err_wq;
	return 0;

err_wq:
	destroy_workqueue(kbatch_wq);
err_debugfs:
	debugfs_remove_recursive(kbatch_debugfs_root);
	return ret;
}

static void __exit kbatch_exit(void)
{
	kbatch_dev_exit();
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
