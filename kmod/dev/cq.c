// SPDX-License-Identifier: GPL-2.0
/*
 * An open file's completion queue: where asynchronous entries complete,
 * read() and poll().
 *
 * The ring of KBATCH_CQ_ENTRIES completions is allocated by the first
 * asynchronous submit, so an open() costs a small context, not the ring.
 * A submit first reserves (@promised) a slot for each of its entries, so
 * posting never finds the ring full and nothing accepted is lost.  Slots
 * from @head to @tail hold completions ready to read; producers write only
 * at @tail, the reader copies from @head outside the lock: the slots it
 * copies cannot be written until it moves @head past them.
 */
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dev.h"

#define CQ_MASK		(KBATCH_CQ_ENTRIES - 1)
#define CQE_SIZE	sizeof(struct kbatch_cqe)

/**
 * kbatch_cq_init() - an empty completion queue, with no ring yet
 * @cq: the queue
 *
 * Context: any.
 */
void kbatch_cq_init(struct kbatch_cq *cq)
{
	spin_lock_init(&cq->lock);
	mutex_init(&cq->read_lock);
	init_waitqueue_head(&cq->wait);
	cq->head = 0;
	cq->tail = 0;
	cq->promised = 0;
	cq->ring = NULL;
}

/**
 * kbatch_cq_destroy() - free the ring; nothing may post or read any more
 * @cq: the queue
 *
 * Context: process context.
 */
void kbatch_cq_destroy(struct kbatch_cq *cq)
{
	mutex_destroy(&cq->read_lock);
	kvfree(cq->ring);
}

/* The ring, allocated (charged to the caller) by the first user. */
static int cq_ring(struct kbatch_cq *cq)
{
	struct kbatch_cqe *ring;

	/* Acquire: pairs with the cmpxchg below, so the ring is seen whole. */
	if (smp_load_acquire(&cq->ring))
		return 0;
	ring = kvmalloc_array(KBATCH_CQ_ENTRIES, CQE_SIZE, GFP_KERNEL_ACCOUNT);
	if (!ring)
		return -ENOMEM;
	/* Full barrier on success: pairs with the acquire above and in readers. */
	if (cmpxchg(&cq->ring, NULL, ring))
		kvfree(ring);
	return 0;
}

/**
 * kbatch_cq_reserve() - promise room for @n completions
 * @cq: the queue
 * @n: how many
 *
 * Allocates the ring on first use.
 *
 * Context: process context, may sleep.
 *
 * Return: 0; -EBUSY (nothing reserved) if the queue would overflow;
 * -ENOMEM.
 */
int kbatch_cq_reserve(struct kbatch_cq *cq, unsigned int n)
{
	int ret = cq_ring(cq);

	if (ret)
		return ret;
	ret = -EBUSY;
	spin_lock(&cq->lock);
	if (n <= KBATCH_CQ_ENTRIES - cq->promised) {
		cq->promised += n;
		ret = 0;
	}
	spin_unlock(&cq->lock);
	return ret;
}

/**
 * kbatch_cq_post() - add completions that kbatch_cq_reserve() made room for
 * @cq: the queue
 * @cqes: the completions
 * @n: how many
 *
 * Wakes readers and pollers.
 *
 * Context: process context; takes a spinlock.
 */
void kbatch_cq_post(struct kbatch_cq *cq, const struct kbatch_cqe *cqes,
		    unsigned int n)
{
	unsigned int i;

	if (!n)
		return;
	spin_lock(&cq->lock);
	for (i = 0; i < n; i++)
		cq->ring[cq->tail++ & CQ_MASK] = cqes[i];
	spin_unlock(&cq->lock);
	wake_up_interruptible_poll(&cq->wait, EPOLLIN | EPOLLRDNORM);
}

static u32 cq_ready(struct kbatch_cq *cq)
{
	u32 n;

	spin_lock(&cq->lock);
	n = cq->tail - cq->head;
	spin_unlock(&cq->lock);
	return n;
}

/*
 * Copy up to @want ready completions to @buf.  The lock orders our reads
 * of the slots after the producers' writes (they published @tail under
 * it) and our move of @head after our reads.
 */
static ssize_t cq_copy(struct kbatch_cq *cq, char __user *buf, u32 want)
{
	u32 head, n, idx, chunk, copied = 0;
	unsigned long left;

	spin_lock(&cq->lock);
	head = cq->head;
	n = min(cq->tail - head, want);
	spin_unlock(&cq->lock);
	while (copied < n) {
		idx = (head + copied) & CQ_MASK;
		chunk = min(n - copied, KBATCH_CQ_ENTRIES - idx);
		left = copy_to_user(buf + copied * CQE_SIZE, &cq->ring[idx],
				    chunk * CQE_SIZE);
		copied += (chunk * CQE_SIZE - left) / CQE_SIZE;
		if (left)
			break;
	}
	spin_lock(&cq->lock);
	cq->head += copied;
	cq->promised -= copied;
	spin_unlock(&cq->lock);
	if (n && !copied)
		return -EFAULT;
	return copied * CQE_SIZE;
}

/**
 * kbatch_cq_read() - read() of whole completions
 * @cq: the queue
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
ssize_t kbatch_cq_read(struct kbatch_cq *cq, char __user *buf, size_t count,
		       bool nonblock)
{
	u32 want = min_t(size_t, count / CQE_SIZE, KBATCH_CQ_ENTRIES);
	ssize_t ret;

	might_sleep();
	if (!count || count % CQE_SIZE)
		return -EINVAL;
	do {
		/* Checked once: another reader may empty the queue meanwhile. */
		if (nonblock) {
			if (!cq_ready(cq))
				return -EAGAIN;
		} else if (wait_event_interruptible(cq->wait, cq_ready(cq))) {
			return -ERESTARTSYS;
		}
		/* Readers take turns; another may have emptied the queue. */
		if (mutex_lock_interruptible(&cq->read_lock))
			return -ERESTARTSYS;
		ret = cq_copy(cq, buf, want);
		mutex_unlock(&cq->read_lock);
	} while (!ret);
	return ret;
}

/**
 * kbatch_cq_poll() - poll(): readable when a completion is ready
 * @cq: the queue
 * @filp: the open file
 * @pt: the poll table
 *
 * Context: process context.
 *
 * Return: EPOLLIN | EPOLLRDNORM if at least one completion is ready, else 0.
 */
__poll_t kbatch_cq_poll(struct kbatch_cq *cq, struct file *filp,
			struct poll_table_struct *pt)
{
	poll_wait(filp, &cq->wait, pt);
	return cq_ready(cq) ? EPOLLIN | EPOLLRDNORM : 0;
}
