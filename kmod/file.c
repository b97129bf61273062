// SPDX-License-Identifier: GPL-2.0
/*
 * An open /dev/kbatch: its completion queue, read() and poll().
 *
 * The queue is a ring of KBATCH_CQ_ENTRIES completions.  An asynchronous
 * submit first reserves (@promised) a slot for each of its entries, so
 * posting never finds the ring full and nothing accepted is lost.  Slots
 * from @head to @tail hold completions ready to read; producers write only
 * at @tail, the reader copies from @head outside the lock: the slots it
 * copies cannot be written until it moves @head past them.
 *
 * Lifetime: the context is refcounted (the open file, plus each
 * asynchronous submission in flight).  Release marks it detached, so late
 * completions go nowhere, and drops the file's reference; the last
 * reference frees it.
 */
#include <linux/minmax.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kbatch_internal.h"

#define CQ_MASK		(KBATCH_CQ_ENTRIES - 1)
#define CQE_SIZE	sizeof(struct kbatch_cqe)

/**
 * kbatch_file_alloc() - a new, empty file context with one reference
 *
 * Context: process context, may sleep.
 *
 * Return: the context, or NULL.
 */
struct kbatch_file *kbatch_file_alloc(void)
{
	struct kbatch_file *file = kvzalloc(sizeof(*file), GFP_KERNEL_ACCOUNT);

	if (!file)
		return NULL;
	refcount_set(&file->ref, 1);
	spin_lock_init(&file->lock);
	mutex_init(&file->read_lock);
	init_waitqueue_head(&file->wait);
	return file;
}

/**
 * kbatch_file_put() - drop a reference; the last one frees the context
 * @file: the context
 *
 * Context: process context.
 */
void kbatch_file_put(struct kbatch_file *file)
{
	if (!refcount_dec_and_test(&file->ref))
		return;
	mutex_destroy(&file->read_lock);
	kvfree(file);
}

/**
 * kbatch_file_release() - the file is closed: detach it and drop its reference
 * @file: the context
 *
 * Context: process context (the file's release).
 */
void kbatch_file_release(struct kbatch_file *file)
{
	spin_lock(&file->lock);
	file->detached = true;
	spin_unlock(&file->lock);
	kbatch_file_put(file);
}

/**
 * kbatch_file_reserve() - promise room for @n completions
 * @file: the context
 * @n: how many
 *
 * Context: any; takes a spinlock.
 *
 * Return: 0, or -EBUSY (nothing reserved) if the queue would overflow.
 */
int kbatch_file_reserve(struct kbatch_file *file, unsigned int n)
{
	int ret = -EBUSY;

	spin_lock(&file->lock);
	if (n <= KBATCH_CQ_ENTRIES - file->promised) {
		file->promised += n;
		ret = 0;
	}
	spin_unlock(&file->lock);
	return ret;
}

/**
 * kbatch_file_post() - add completions that kbatch_file_reserve() made room for
 * @file: the context
 * @cqes: the completions
 * @n: how many
 *
 * Wakes readers and pollers.  After release, the completions are dropped.
 *
 * Context: any; takes a spinlock.
 */
void kbatch_file_post(struct kbatch_file *file, const struct kbatch_cqe *cqes,
		      unsigned int n)
{
	unsigned int i;
	bool live;

	spin_lock(&file->lock);
	live = !file->detached;
	for (i = 0; live && i < n; i++)
		file->cq[file->tail++ & CQ_MASK] = cqes[i];
	spin_unlock(&file->lock);
	if (live)
		wake_up_interruptible_poll(&file->wait, EPOLLIN | EPOLLRDNORM);
}

static u32 file_ready(struct kbatch_file *file)
{
	u32 n;

	spin_lock(&file->lock);
	n = file->tail - file->head;
	spin_unlock(&file->lock);
	return n;
}

/*
 * Copy up to @want ready completions to @buf.  The lock orders our reads
 * of the slots after the producers' writes (they published @tail under
 * it) and our move of @head after our reads.
 */
static ssize_t copy_ready(struct kbatch_file *file, char __user *buf,
			  u32 want)
{
	u32 head, n, idx, chunk, copied = 0;
	unsigned long left;

	spin_lock(&file->lock);
	head = file->head;
	n = min(file->tail - head, want);
	spin_unlock(&file->lock);
	while (copied < n) {
		idx = (head + copied) & CQ_MASK;
		chunk = min(n - copied, KBATCH_CQ_ENTRIES - idx);
		left = copy_to_user(buf + copied * CQE_SIZE, &file->cq[idx],
				    chunk * CQE_SIZE);
		copied += (chunk * CQE_SIZE - left) / CQE_SIZE;
		if (left)
			break;
	}
	spin_lock(&file->lock);
	file->head += copied;
	file->promised -= copied;
	spin_unlock(&file->lock);
	if (n && !copied)
		return -EFAULT;
	return copied * CQE_SIZE;
}

/**
 * kbatch_file_read() - read() of whole completions
 * @file: the context
 * @buf: the user's buffer
 * @count: its size: a nonzero multiple of sizeof(struct kbatch_cqe)
 * @nonblock: O_NONBLOCK: do not wait
 *
 * Context: process context, may sleep.
 *
 * Return: bytes read (whole completions, at least one); -EINVAL for a bad
 * @count, -EAGAIN if @nonblock and none is ready, -ERESTARTSYS if a signal
 * came while waiting, -EFAULT if none could be copied (none is lost).
 */
ssize_t kbatch_file_read(struct kbatch_file *file, char __user *buf,
			 size_t count, bool nonblock)
{
	u32 want = min_t(size_t, count / CQE_SIZE, KBATCH_CQ_ENTRIES);
	ssize_t ret;

	might_sleep();
	if (!count || count % CQE_SIZE)
		return -EINVAL;
	do {
		if (nonblock && !file_ready(file))
			return -EAGAIN;
		if (wait_event_interruptible(file->wait, file_ready(file)))
			return -ERESTARTSYS;
		/* Readers take turns; another may have emptied the queue. */
		if (mutex_lock_interruptible(&file->read_lock))
			return -ERESTARTSYS;
		ret = copy_ready(file, buf, want);
		mutex_unlock(&file->read_lock);
	} while (!ret);
	return ret;
}

/**
 * kbatch_file_poll() - poll(): readable when a completion is ready
 * @file: the context
 * @filp: the open file
 * @pt: the poll table
 *
 * Context: process context.
 *
 * Return: EPOLLIN | EPOLLRDNORM if at least one completion is ready, else 0.
 */
__poll_t kbatch_file_poll(struct kbatch_file *file, struct file *filp,
			  struct poll_table_struct *pt)
{
	poll_wait(filp, &file->wait, pt);
	return file_ready(file) ? EPOLLIN | EPOLLRDNORM : 0;
}
