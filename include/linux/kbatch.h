/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kbatch: per-CPU batch queues and a fair deferred-work poller.
 *
 * This header is the contract; how the code keeps it is told in
 * docs/design.md.  Which call may be made where, and what it may wait for
 * ("any" means hardirq, softirq and process context, not NMI; every entry
 * holds on PREEMPT_RT, see below):
 *
 *   call                           context                    may wait for
 *   kbatch_queue_alloc(), _flags() process                    memory
 *   kbatch_submit(), _many()       process (1)                its leader's
 *                                                              callback, room
 *   kbatch_post(), _post_many()    any                        nothing
 *   kbatch_reduce()                any the callback allows    nothing but the
 *                                                              callback it leads
 *   kbatch_bound(), batch          inside the batch callback  nothing
 *     accessors, kbatch_complete()
 *   kbatch_queue_shutdown(),       process (2)                every callback,
 *     kbatch_queue_free()                                      20 s at most
 *   kbatch_poller_alloc()          process                    memory
 *   kbatch_poller_add()            any                        nothing
 *   kbatch_wake()                  any, lockless              nothing
 *   kbatch_poller_cancel()         process (3)                the item's poll
 *   kbatch_poller_kill()           any, interrupts enabled    nothing
 *   kbatch_poller_free()           process (3), not from      every poll
 *                                    its poller's polls
 *
 *   (1) not from the queue's callback, nor holding a lock it takes;
 *   (2) not from a batch callback of the queue.  See WHAT CALLERS MUST NOT
 *       DO below;
 *   (3) not holding a lock that a poll of the poller takes (Lockdep, under
 *       DEFERRED-WORK POLLER below).
 *
 * BATCH QUEUES
 *
 * A queue owns one fixed-size ring per possible CPU; a producer pushes a
 * task into the ring of the CPU it runs on.  The first push after a batch
 * was taken *leads* the next one: its caller (or, in background mode, a
 * worker) runs the queue's batch callback, which may wait for a resource
 * while later pushes on that CPU keep joining, then *bounds* the batch
 * with kbatch_bound(): every push before the bound is in it, every push
 * after it starts the next one.  (A background batch is bounded by its
 * worker when it starts.)  One front end per queue (enum kbatch_mode):
 *
 * - KBATCH_TASK: kbatch_submit().  The caller's struct kbatch_req lives on
 *   its own stack and the slot holds a pointer to it; the leader runs the
 *   callback in its own context, each task's result is written into its
 *   request and its caller woken.  Callers may sleep.  There is no
 *   atomic-context task mode: a follower that could not sleep would spin
 *   on its CPU while its leader may need that CPU (preempted there, or
 *   interrupted by the follower itself).  Callers that cannot sleep use
 *   kbatch_post() or kbatch_reduce(), which never wait for another caller.
 * - KBATCH_BACKGROUND: kbatch_post(), kbatch_post_many().  The slot holds
 *   a value; the call returns at once, and its push never disables
 *   interrupts (except while CPU hotplug has a batch bounded from another
 *   CPU); the post that opens a batch, or spills, queues a work item,
 *   which does, briefly, under the workqueue's raw lock.  The callback
 *   runs in kbatch's per-CPU workqueue.
 * - KBATCH_REDUCE: kbatch_reduce().  The slot holds a value; the leader
 *   folds the batch in its own context, followers return at once.
 *
 * Calling another mode's front end is the caller's bug: the call warns
 * once, returns -EINVAL and pushes nothing, whatever its count.
 *
 * Guarantees:
 *
 * - A full ring: kbatch_submit() sleeps (killably) until room is made,
 *   then pushes on the CPU it then runs on; kbatch_post() and
 *   kbatch_reduce() return -EAGAIN and change nothing, unless the queue
 *   was allocated with KBATCH_QUEUE_SPILL: then the value spills into the
 *   spill lane of the nearest online CPU with room (the next in number
 *   order, wrapping, the caller's own last), and -EAGAIN means every lane
 *   was full too.  Spilled values run in batches of their own, in
 *   kbatch's workqueue on the lane's CPU, in process context (a reducer's
 *   too: its callback must also work there), in no order with respect to
 *   the ring's, and possibly at the same time as a batch of that CPU's
 *   ring.  Nothing accepted is ever dropped or run twice.
 * - kbatch_queue_shutdown() may run while other CPUs push, lead and wait:
 *   from its start new calls fail with -ESHUTDOWN; when it returns true,
 *   every task accepted before has been run and, in task mode, completed,
 *   and no callback runs any more; a call still on its way out (with
 *   -ESHUTDOWN, say) may read the queue's struct until it returns.  Its
 *   waits are bounded (20 s in all): a batch callback that never returns
 *   gets a warning and a queue left unfreed, never a free under it.
 *   kbatch_queue_free() shuts down first if need be, and returns false if
 *   that timed out: the owner must then keep what its callback uses (its
 *   data, its module) and may call it again later.  The owner must stop
 *   calling, and see every call it made return, before it.
 * - CPU hotplug: a push always uses its own CPU's ring (or a spill lane:
 *   an online CPU's, or its own CPU's last, even while that CPU goes);
 *   background and spilled batches pending on a CPU that goes offline
 *   run on another CPU; kbatch waits for nothing while a CPU goes, so
 *   callbacks may take cpus_read_lock() and allocate or free queues.
 *
 * PREEMPT_RT.  What this header allows in hardirq (kbatch_post(),
 * kbatch_reduce() and the batch accessors it runs, kbatch_wake(),
 * kbatch_poller_add()) takes only raw spinlocks, atomics and the
 * workqueue's raw lock, never a spinlock_t.  What RT changes is what
 * "hardirq" and "never sleeps" mean for the caller:
 *
 * - hard-irq context there is an HRTIMER_MODE_*_HARD timer or an
 *   IRQF_NO_THREAD handler; other interrupt handlers and hrtimers run in
 *   threads, which may use every call allowed in process context that
 *   does not sleep;
 * - spinlock_t, rwlock_t and local_lock_t sleep there, and so do the slab
 *   allocator's kmalloc() and kfree(): a reducer callback that runs in
 *   hard-irq context (its leader called kbatch_reduce() there, or with
 *   interrupts disabled or a raw spinlock held) must use none of them.
 *   Background callbacks (a worker) and task-mode callbacks (the caller's
 *   process context) are not affected.
 *
 * WHAT CALLERS MUST NOT DO (lockdep reports both)
 *
 * A task-mode follower sleeps until its leader's callback completes it,
 * and kbatch_queue_shutdown() waits for every callback: both are waits for
 * "the batch callback of this queue", which kbatch tells lockdep about as
 * a lock of its own, named "kbatch_batch:<queue name>".  It is held while
 * a task-mode or background callback runs, and acquired and released by
 * every kbatch_submit(), kbatch_submit_many() and kbatch_queue_shutdown()
 * before they may wait (as flush_work() does with a work's map).  So:
 *
 * - A batch callback must not call kbatch_submit() or
 *   kbatch_submit_many() on its own queue (nor kbatch_queue_shutdown() or
 *   kbatch_queue_free() of it).  Before it bounds its batch, a submit that
 *   lands on the same ring joins the very batch the callback leads and
 *   waits for itself; after, it may follow another leader whose callback
 *   waits for what this one holds.  Lockdep: "possible recursive locking
 *   detected" on kbatch_batch:<name>, at the first such call, whether it
 *   would have hung or not.
 * - A task-mode submitter must not hold a lock that the queue's callback
 *   takes: as a follower it sleeps holding the lock while its leader's
 *   callback waits for it.  Lockdep: "possible circular locking dependency
 *   detected" between that lock and kbatch_batch:<name>, as soon as both
 *   orders have been seen once, in any tasks.
 *
 * The same goes, transitively, for any chain of waits: a callback of queue
 * A that submits to queue B whose callback submits to A, a callback that
 * flushes a work whose function submits to its queue, and so on.  Reducer
 * queues are not annotated: nobody waits for a reducer leader.
 *
 * DEFERRED-WORK POLLER
 *
 * A poller drives many items (struct kbatch_pollable, embedded in the
 * user's object), each with a poll callback.  kbatch_wake() marks an item,
 * from any context; the poller runs in cycles, and a cycle polls every item
 * marked before it began exactly once, however often it was woken.  A wake
 * that arrives during a cycle, even from the item's own poll, is served in
 * the next cycle.  See the poller section below.
 */
#ifndef _LINUX_KBATCH_H
#define _LINUX_KBATCH_H

#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/mutex.h>
#include <linux/percpu-refcount.h>
#include <linux/types.h>

struct kbatch_queue;
struct kbatch_ring;
struct kbatch_spill;
struct task_struct;

/**
 * enum kbatch_mode - the front end a queue serves
 * @KBATCH_TASK: kbatch_submit(): each caller waits for its own result
 * @KBATCH_BACKGROUND: kbatch_post(): fire and forget, batches run in a worker
 * @KBATCH_REDUCE: kbatch_reduce(): the leader folds the batch
 */
enum kbatch_mode {
	KBATCH_TASK,
	KBATCH_BACKGROUND,
	KBATCH_REDUCE,
};

/*
 * kbatch_queue_alloc_flags(): a background or reducer post that finds its
 * CPU's ring full spills into another CPU's spill lane instead of failing.
 */
#define KBATCH_QUEUE_SPILL	BIT(0)

/* Ring size when kbatch_queue_alloc() is passed 0. */
#define KBATCH_RING_DEFAULT	1024
/* Smallest and largest ring sizes; sizes are powers of two. */
#define KBATCH_RING_MIN		2
#define KBATCH_RING_MAX		65536

/**
 * struct kbatch_req - a task-mode request; lives on its caller's stack
 * @arg: the caller's input for the batch callback
 * @ptr: a second input, for callers that pass a pointer
 * @result: the task's result, written by kbatch_complete(); valid once
 *	kbatch_submit() has returned 0 or 1
 *
 * Embed it in a larger on-stack structure to pass more; the callback gets
 * back to that structure with container_of().
 */
struct kbatch_req {
	unsigned long arg;
	void *ptr;
	long result;
	/* private: */
	struct task_struct *waiter;
	int done;
};

/**
 * struct kbatch_batch - one batch, as its callback sees it
 *
 * Lives on the stack of whoever runs the batch (the leader, or the worker
 * in background mode) and is valid only inside the callback.  Use the
 * accessors below; the fields are private.
 */
struct kbatch_batch {
	/* private: */
	struct kbatch_queue *queue;
	struct kbatch_ring *ring;
	struct kbatch_spill *spill;
	unsigned long start;
	unsigned long end;
	unsigned int len;
	bool bounded;
};

/**
 * typedef kbatch_batch_fn - a queue's batch callback
 * @batch: the batch; bound it with kbatch_bound() before reading its tasks
 * @data: the pointer given to kbatch_queue_alloc()
 *
 * Runs in the leader's context (task and reducer modes; it may sleep only
 * if every caller of the queue may) or in kbatch's workqueue (background
 * mode; may sleep).  In task and reducer modes it may wait for a resource
 * before bounding: the batch keeps growing meanwhile.  A background batch
 * is bounded by the worker before the callback starts (so that the bound
 * runs on the ring's CPU, where pushes need no bus lock): kbatch_bound()
 * returns it, and pushes made during the callback form the next batch.
 * In task mode it completes each task with kbatch_complete(); tasks it
 * leaves uncompleted, and the whole batch if it never bounds, are bounded
 * and completed with -ECANCELED when it returns.
 * It must not submit to its own queue, shut it down or free it (see WHAT
 * CALLERS MUST NOT DO above; lockdep reports it).
 */
typedef void (*kbatch_batch_fn)(struct kbatch_batch *batch, void *data);

struct kbatch_queue *kbatch_queue_alloc(const char *name, enum kbatch_mode mode,
					unsigned int ring_size,
					kbatch_batch_fn fn, void *data);
struct kbatch_queue *kbatch_queue_alloc_flags(const char *name,
					      enum kbatch_mode mode,
					      unsigned int ring_size,
					      kbatch_batch_fn fn, void *data,
					      unsigned int flags);
bool kbatch_queue_shutdown(struct kbatch_queue *queue);
bool kbatch_queue_free(struct kbatch_queue *queue);

int kbatch_submit(struct kbatch_queue *queue, struct kbatch_req *req);
int kbatch_submit_many(struct kbatch_queue *queue, struct kbatch_req *reqs,
		       unsigned int n);
int kbatch_post(struct kbatch_queue *queue, unsigned long value);
int kbatch_post_many(struct kbatch_queue *queue, const unsigned long *values,
		     unsigned int n);
int kbatch_reduce(struct kbatch_queue *queue, unsigned long value);

unsigned int kbatch_bound(struct kbatch_batch *batch);
struct kbatch_req *kbatch_batch_req(struct kbatch_batch *batch, unsigned int i);
unsigned long kbatch_batch_value(struct kbatch_batch *batch, unsigned int i);
unsigned int kbatch_batch_values(struct kbatch_batch *batch, unsigned int first,
				 unsigned long *vals, unsigned int n);
unsigned int kbatch_batch_span(struct kbatch_batch *batch, unsigned int first,
			       const unsigned long **vals);
void kbatch_complete(struct kbatch_batch *batch, unsigned int i, long result);
unsigned int kbatch_batch_cpu(struct kbatch_batch *batch);

/* Return values of kbatch_submit() and kbatch_reduce() that succeeded. */
#define KBATCH_FOLLOWED	0
#define KBATCH_LED	1

/*
 * DEFERRED-WORK POLLER
 *
 * kbatch_wake() marks an item and kicks the poller only when nothing was
 * marked before; it never takes a lock the poller holds (the kick queues
 * the poller's work: the workqueue's raw lock).  A cycle takes every item marked so
 * far and polls each once, lowest slot first, at most @budget items per
 * slice with cond_resched() between slices; an unfinished cycle is resumed
 * where it stopped.  Finding the marked items costs time in proportion to
 * them, not to the capacity.  The poller runs in system_unbound_wq.  How
 * (wake set, lockless poll, cancel handshake): docs/design.md, section 3.
 *
 * Contexts: kbatch_wake() from any context, hardirq included, lockless;
 * kbatch_poller_add() from any context but NMI (on PREEMPT_RT too: the
 * poller's lock is a raw spinlock); kbatch_poller_kill() from any context
 * with interrupts enabled (it starts an RCU grace period);
 * kbatch_poller_cancel(), kbatch_poller_alloc() and kbatch_poller_free()
 * may sleep.
 *
 * Capacity is fixed at kbatch_poller_alloc().  A slot freed by cancel or
 * KBATCH_POLL_DONE is reused only after an RCU grace period and a cycle
 * that drops its stale wake bits, so a wake meant for the old owner never
 * reaches the new one; until then kbatch_poller_add() may fail with -ENOSPC.
 * Once kbatch_poller_kill() or kbatch_poller_free() has begun,
 * kbatch_poller_add() fails with -ESHUTDOWN.
 *
 * Lifetime: kbatch_poller_free() may run while other CPUs wake items (from
 * hrtimers, say) and while a poll runs.  The poller is marked dying, and
 * wakes after that are no-ops; an RCU grace period waits out every CPU
 * inside kbatch_wake(); the running poll finishes and the worker is flushed;
 * then the memory is freed.  kbatch_poller_kill() is the first step alone:
 * it marks the poller dying (no poll starts after it) and starts the grace
 * period without waiting, so an owner that kills, then frees from a
 * queue_rcu_work() work, sleeps for no grace period (a lockdep kernel still
 * waits one to drop a named poller's lockdep class).  The wait for the
 * worker is bounded (10 s): past it, free warns, with counts of what is
 * still in flight, and returns false without freeing the poller rather than
 * hang: the owner must then keep what its polls use, and may call it again
 * later (the dying poller keeps kbatch loaded until then).  Items still
 * registered are dropped: their owners must not cancel them once free has
 * been called, nor wake them once it has returned (nor items that left by
 * KBATCH_POLL_DONE; cancelled ones they may).  kbatch_poller_cancel() is not
 * bounded: its caller frees the item next, so it waits for a running poll as
 * long as the poll runs, warning every 10 s, rather than let the item be
 * freed under it.
 *
 * Lockdep: those waits are waits for "the polls of this poller", which
 * kbatch tells lockdep about as a lock of its own, "kbatch_poll:<poller
 * name>", held while a poll runs and acquired and released by
 * kbatch_poller_free() and kbatch_poller_cancel() (but from a poll of the
 * same poller, where cancel never waits) before they may wait.  So neither
 * may be called holding a lock that a poll of that poller takes: lockdep
 * reports "possible circular locking dependency detected" between that
 * lock and kbatch_poll:<name> as soon as both orders have been seen once.
 * Lockdep tells pollers apart, not items: a cancel holding a lock that
 * only other items' polls take is reported too, though it waits only for
 * its own item's poll.  Unnamed pollers (a NULL or "" name: made by the
 * hundred, one per open file, say) are not told apart either: they share
 * one lock, "kbatch_poll:(unnamed)", and need no lockdep class each.
 */
struct kbatch_poller;
struct kbatch_pollable;

/* Most slots a poller may have (capacity of kbatch_poller_alloc()). */
#define KBATCH_POLLER_MAX_CAPACITY	BIT(24)
/* Items polled per slice when kbatch_poller_alloc() is passed 0. */
#define KBATCH_POLLER_DEFAULT_BUDGET	64

/**
 * enum kbatch_poll_ret - what a poll callback answers
 * @KBATCH_POLL_PENDING: not finished; poll again after the next wake
 * @KBATCH_POLL_DONE: finished; the item leaves the poller and is never
 *	polled again (as if kbatch_poller_cancel() had been called)
 */
enum kbatch_poll_ret {
	KBATCH_POLL_PENDING,
	KBATCH_POLL_DONE,
};

/**
 * typedef kbatch_poll_fn - an item's poll callback
 * @item: the item being polled
 *
 * Runs in the poller's worker, process context; it may sleep, but a long
 * sleep delays every other item.  It may call kbatch_wake() on its own item
 * (served in the next cycle) or on any other, and kbatch_poller_add() or
 * kbatch_poller_cancel() on any item (cancelling its own item does not
 * wait); never kbatch_poller_free() of its own poller.
 */
typedef enum kbatch_poll_ret (*kbatch_poll_fn)(struct kbatch_pollable *item);

/**
 * struct kbatch_pollable - a deferred work item; embed it in your object
 * @poll: the poll callback, set by kbatch_poller_add()
 *
 * Zero it before its first kbatch_poller_add(): waking or cancelling a
 * zeroed item does nothing, and so does waking or cancelling an item after
 * kbatch_poller_cancel() of it has returned, even once its poller is freed.
 * An item that left by KBATCH_POLL_DONE still names its poller (its poll
 * may have freed it): once that poller is freed, zero it or add it again
 * before waking or cancelling it.  After cancel (or KBATCH_POLL_DONE) it
 * may be added again, to the same poller or another.
 */
struct kbatch_pollable {
	kbatch_poll_fn poll;
	/* private: */
	struct kbatch_poller *poller;
	u32 index;
};

struct kbatch_poller *kbatch_poller_alloc(const char *name, unsigned int capacity,
					  unsigned int budget);
void kbatch_poller_kill(struct kbatch_poller *poller);
bool kbatch_poller_free(struct kbatch_poller *poller);
int kbatch_poller_add(struct kbatch_poller *poller, struct kbatch_pollable *item,
		      kbatch_poll_fn poll);
void kbatch_wake(struct kbatch_pollable *item);
void kbatch_poller_cancel(struct kbatch_pollable *item);

/*
 * OPS
 *
 * Other modules offer operations to user space through /dev/kbatch: they
 * register a struct kbatch_op with a name and a batch handler, user space
 * resolves the name to an opcode (KBATCH_IOC_LOOKUP) and submits entries
 * with that opcode (KBATCH_IOC_SUBMIT, include/uapi/linux/kbatch.h).
 * kbatch_register_op() returns the opcode it gave the op, from
 * KBATCH_OP_DYNAMIC up (a freed opcode is given again only after every
 * other free one), or -EINVAL (no @run; a @name empty or too long;
 * @async_only set), -EEXIST (an op of that name is registered), -ENOSPC
 * (every opcode is taken), -ENOMEM.
 *
 * The open file is the unit of submission.  A submit runs its own entries
 * in the submitting task: each maximal run of consecutive entries of one
 * op in that submit goes to the op's handler in one call (struct
 * kbatch_op_batch), so a provider takes its lock once per run and sets one
 * result per entry.  A handler call never holds entries of two open files,
 * so one user's entries cannot change another's results or wait for them,
 * unless the provider sets @shared (see struct kbatch_op).
 *
 * Lifetime rule.  A submit holds a reference on the op (a percpu_ref in
 * the op) across each run it hands to it.  kbatch_unregister_op() first
 * makes the opcode unknown to new submits, then waits for every reference:
 * runs that found the op but have not reached its handler complete with
 * -ESHUTDOWN, a handler call already running finishes.  When it returns,
 * no handler call of that op runs or will run, and the op's memory and
 * module may go.  A provider therefore calls kbatch_unregister_op() in its
 * module exit before it tears down anything its handler uses (for an
 * array of ops, kbatch_unregister_ops(): one wait for them all, not one
 * per op); while the wait lasts, the module is pinned by its own exit
 * path (no try_module_get(), so an unload is never refused because ops
 * are in flight: it waits for them instead).
 */

struct kbatch_op_batch;

/**
 * struct kbatch_op - an operation that user space can submit
 * @name: unique name, 1 to KBATCH_OP_NAME_MAX - 1 characters, as user space
 *	looks it up; must stay valid while the op is registered
 * @run: the batch handler: runs the entries of @b (at least one), setting
 *	each one's result with kbatch_op_set_result() (an entry left alone
 *	completes with 0).  Process context; may sleep.  It runs in the
 *	task that submitted the entries (with @shared, in the task of any
 *	submitter of the batch), so it must not rely on current beyond what
 *	the submitter could do itself.  It must not unregister its own op.
 * @admin: entries of this op need CAP_SYS_ADMIN in the submitter; checked
 *	when they are submitted (-EPERM for the whole submit), and again
 *	when they run if their opcode named another op, or none, at the
 *	check (-EPERM for those entries)
 * @shared: batch entries of different open files together: submitters
 *	push their runs into a per-CPU kbatch queue (KBATCH_TASK) of the op,
 *	and the leader of each batch, once no other handler call of the op
 *	runs, hands every run pushed meanwhile to @run in one call.  Handler
 *	calls of a shared op never overlap.  What this exposes, and
 *	KBATCH_LOOKUP_SHARED tells user space: a handler that aggregates
 *	over its batch mixes the inputs of different users; a submitter
 *	waits, uninterruptibly, for the leader of its batch, which may be
 *	another user's task; the leader pays the CPU time and the memory
 *	charge of the whole batch.  Set it only for ops whose results do not
 *	depend on the batch and whose handler is short.  No built-in op sets
 *	it.
 * @async_only: kbatch's own ops only (kbatch_register_op() refuses it):
 *	the handler takes its entries' completions over and posts them later
 *	(TIMER); a synchronous submit of it is -EINVAL
 *
 * Embed it in the provider's data or make it static.  The fields below
 * are kbatch's own.
 */
struct kbatch_op {
	const char *name;
	void (*run)(struct kbatch_op_batch *b);
	bool admin;
	bool shared;
	bool async_only;
	/* private: */
	struct percpu_ref ref;
	struct completion released;
	struct kbatch_queue *queue;
	struct mutex lock;	/* @shared: held by a batch's leader while @run runs */
	u32 opcode;
};

int kbatch_register_op(struct kbatch_op *op);
void kbatch_unregister_op(struct kbatch_op *op);
void kbatch_unregister_ops(struct kbatch_op *ops, unsigned int n);

unsigned int kbatch_op_batch_len(const struct kbatch_op_batch *b);
struct kbatch_op *kbatch_op_batch_op(const struct kbatch_op_batch *b);
u64 kbatch_op_arg(const struct kbatch_op_batch *b, unsigned int i,
		  unsigned int n);
void kbatch_op_set_result(struct kbatch_op_batch *b, unsigned int i, s64 result);

#endif /* _LINUX_KBATCH_H */
