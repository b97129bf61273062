// SPDX-License-Identifier: GPL-2.0
/*
 * KBATCH_IOC_SUBMIT: check the header, copy every entry in with one copy,
 * check them all, then run them synchronously here or hand them to
 * async.c.  The ABI, with what happens on every error, is at the top of
 * include/uapi/linux/kbatch.h.
 */
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/uaccess.h>

#include "kbatch_internal.h"

static int hdr_check(const struct kbatch_submit *hdr)
{
	if ((hdr->flags & ~KBATCH_SUBMIT_FLAGS) || hdr->reserved32 ||
	    hdr->reserved[0] || hdr->reserved[1])
		return -EINVAL;
	if (!hdr->nr)
		return -EINVAL;
	if (hdr->nr > KBATCH_MAX_ENTRIES)
		return -E2BIG;
	if ((hdr->flags & KBATCH_SUBMIT_ASYNC) && hdr->completions)
		return -EINVAL;
	return 0;
}

/* Copy in and prepare the entries of @hdr; nothing is taken on error. */
static struct kbatch_sub *sub_copy_in(const struct kbatch_submit *hdr)
{
	const void __user *uentries = u64_to_user_ptr(hdr->entries);
	struct kbatch_sub *sub = kbatch_sub_alloc(hdr->nr);
	int ret;

	if (!sub)
		return ERR_PTR(-ENOMEM);
	ret = -EFAULT;
	if (!copy_from_user(sub->sqes, uentries,
			    array_size(hdr->nr, sizeof(*sub->sqes))))
		ret = kbatch_sub_prepare(sub, hdr->flags & KBATCH_SUBMIT_ASYNC);
	if (ret) {
		kbatch_sub_free(sub);
		return ERR_PTR(ret);
	}
	return sub;
}

/*
 * Run @sub here.  The room for completions is zeroed first, so a bad
 * pointer fails the submit before anything runs; a fault on the copy-out
 * after the ops ran (the room was unmapped meanwhile) is -EFAULT with
 * *@done still counting the ops that ran.
 */
static long submit_sync(struct kbatch_sub *sub, const struct kbatch_submit *hdr,
			u32 *done)
{
	void __user *ucqes = u64_to_user_ptr(hdr->completions);
	size_t size = array_size(sub->nr, sizeof(*sub->cqes));

	if (clear_user(ucqes, size))
		return -EFAULT;
	*done = kbatch_sub_run(sub);
	if (copy_to_user(ucqes, sub->cqes, *done * sizeof(*sub->cqes)))
		return -EFAULT;
	return 0;
}

/**
 * kbatch_ioc_submit() - KBATCH_IOC_SUBMIT
 * @file: the open file's context
 * @uhdr: the user's struct kbatch_submit
 *
 * Context: process context, may sleep.
 *
 * Return: 0, or a negative errno (see include/uapi/linux/kbatch.h).
 */
long kbatch_ioc_submit(struct kbatch_file *file,
		       struct kbatch_submit __user *uhdr)
{
	struct kbatch_submit hdr;
	struct kbatch_sub *sub;
	u32 done = 0;
	long ret;

	might_sleep();
	if (copy_from_user(&hdr, uhdr, sizeof(hdr)))
		return -EFAULT;
	ret = hdr_check(&hdr);
	if (ret)
		return ret;
	if (put_user(0, &uhdr->done))
		return -EFAULT;
	sub = sub_copy_in(&hdr);
	if (IS_ERR(sub))
		return PTR_ERR(sub);
	if (hdr.flags & KBATCH_SUBMIT_ASYNC) {
		ret = kbatch_async_submit(file, sub);
		if (ret) {
			kbatch_sub_free(sub);
			return ret;
		}
		/* @sub belongs to the worker now. */
		done = hdr.nr;
	} else {
		ret = submit_sync(sub, &hdr, &done);
		kbatch_sub_free(sub);
	}
	if (put_user(done, &uhdr->done))
		ret = -EFAULT;
	return ret;
}
