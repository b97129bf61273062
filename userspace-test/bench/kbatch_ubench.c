// SPDX-License-Identifier: GPL-2.0
/*
 * Table 3: operations per second from user space, in the test VM.
 *
 *   kbatch-sync: KBATCH_IOC_SUBMIT of B KBATCH_OP_NOP entries, waiting for
 *	their B completions (one ioctl per B ops).
 *   kbatch-async: the same with KBATCH_SUBMIT_ASYNC, then read() until
 *	the B completions are in.
 *   io_uring-sync: B IORING_OP_NOP, io_uring_submit_and_wait(B), then the
 *	B completions taken from the ring.
 *   io_uring-async: B IORING_OP_NOP, io_uring_submit(), then
 *	io_uring_wait_cqe_nr(B) and the completions taken.
 *   ioctl: one ioctl per op on /dev/kbatch_nop (kbatch_nopdev.ko), whose
 *	ioctl returns 0: the floor, B does not apply.
 * Each thread has its own file and ring; threads start together (a
 * barrier).  Figure: total ops / wall time, median, min and max of RUNS
 * runs after one warm-up.  Prints
 * "@kb bench user,<impl>,<threads>,<batch>,<median>,<min>,<max>,0".
 *
 * Usage: kbatch_ubench [OPS-PER-THREAD [RUNS]]
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/kbatch.h>

#define MAX_BATCH	256
#define MAX_THREADS	4
#define MAX_RUNS	31
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct job;

struct impl {
	const char *name;
	int (*init)(struct job *job);
	int (*run)(struct job *job, unsigned int batch);
	void (*fini)(struct job *job);
};

struct job {
	const struct impl *impl;
	unsigned int batch;
	unsigned long ops;
	pthread_barrier_t *start;
	int fd;
	struct io_uring ring;
	int err;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- the floor: one ioctl per op ---- */

static int nop_init(struct job *job)
{
	job->fd = open("/dev/kbatch_nop", O_RDWR);
	return job->fd < 0 ? -errno : 0;
}

static int nop_run(struct job *job, unsigned int batch)
{
	unsigned int i;

	for (i = 0; i < batch; i++) {
		if (ioctl(job->fd, 0, 0))
			return -errno;
	}
	return 0;
}

static void fd_fini(struct job *job)
{
	close(job->fd);
}

/* ---- /dev/kbatch ---- */

#ifdef KBATCH_IOC_SUBMIT
static int kb_init(struct job *job)
{
	job->fd = open("/dev/kbatch", O_RDWR);
	return job->fd < 0 ? -errno : 0;
}

static int kb_submit(struct job *job, unsigned int batch, __u32 flags,
		     struct kbatch_cqe *cqes)
{
	struct kbatch_sqe sqes[MAX_BATCH];
	struct kbatch_submit sub;

	memset(sqes, 0, batch * sizeof(sqes[0]));
	memset(&sub, 0, sizeof(sub));
	sub.entries = (__u64)(unsigned long)sqes;
	sub.completions = flags ? 0 : (__u64)(unsigned long)cqes;
	sub.nr = batch;
	sub.flags = flags;
	if (ioctl(job->fd, KBATCH_IOC_SUBMIT, &sub))
		return -errno;
	return sub.done == batch ? 0 : -EIO;
}

static int kb_sync_run(struct job *job, unsigned int batch)
{
	struct kbatch_cqe cqes[MAX_BATCH];

	return kb_submit(job, batch, 0, cqes);
}

static int kb_async_run(struct job *job, unsigned int batch)
{
	struct kbatch_cqe cqes[MAX_BATCH];
	unsigned int got = 0;
	ssize_t n;
	int ret;

	ret = kb_submit(job, batch, KBATCH_SUBMIT_ASYNC, NULL);
	while (!ret && got < batch) {
		n = read(job->fd, cqes, (batch - got) * sizeof(cqes[0]));
		if (n < 0)
			return -errno;
		got += n / sizeof(cqes[0]);
	}
	return ret;
}
#endif

/* ---- io_uring ---- */

static int uring_init(struct job *job)
{
	return io_uring_queue_init(MAX_BATCH, &job->ring, 0);
}

static int uring_prep(struct job *job, unsigned int batch)
{
	struct io_uring_sqe *sqe;
	unsigned int i;

	for (i = 0; i < batch; i++) {
		sqe = io_uring_get_sqe(&job->ring);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_nop(sqe);
	}
	return 0;
}

/* Take @batch completions, which are all in the ring. */
static int uring_reap(struct job *job, unsigned int batch)
{
	struct io_uring_cqe *cqes[MAX_BATCH];
	unsigned int n;

	n = io_uring_peek_batch_cqe(&job->ring, cqes, batch);
	io_uring_cq_advance(&job->ring, n);
	return n == batch ? 0 : -EIO;
}

static int uring_sync_run(struct job *job, unsigned int batch)
{
	int ret = uring_prep(job, batch);

	if (!ret && io_uring_submit_and_wait(&job->ring, batch) != (int)batch)
		ret = -EIO;
	return ret ?: uring_reap(job, batch);
}

static int uring_async_run(struct job *job, unsigned int batch)
{
	struct io_uring_cqe *cqe;
	int ret = uring_prep(job, batch);

	if (!ret && io_uring_submit(&job->ring) != (int)batch)
		ret = -EIO;
	if (!ret)
		ret = io_uring_wait_cqe_nr(&job->ring, &cqe, batch);
	return ret ?: uring_reap(job, batch);
}

static void uring_fini(struct job *job)
{
	io_uring_queue_exit(&job->ring);
}

static const struct impl impls[] = {
#ifdef KBATCH_IOC_SUBMIT
	{ "kbatch-sync", kb_init, kb_sync_run, fd_fini },
	{ "kbatch-async", kb_init, kb_async_run, fd_fini },
#endif
	{ "io_uring-sync", uring_init, uring_sync_run, uring_fini },
	{ "io_uring-async", uring_init, uring_async_run, uring_fini },
	{ "ioctl", nop_init, nop_run, fd_fini },
};

/* ---- runs ---- */

static void *thread_main(void *arg)
{
	struct job *job = arg;
	unsigned long done;

	pthread_barrier_wait(job->start);
	for (done = 0; done < job->ops && !job->err; done += job->batch)
		job->err = job->impl->run(job, job->batch);
	return NULL;
}

/* One run: ops per second over every thread, or a negative errno. */
static double run_once(const struct impl *impl, unsigned int threads,
		       unsigned int batch, unsigned long ops)
{
	struct job jobs[MAX_THREADS] = {};
	pthread_t tids[MAX_THREADS];
	pthread_barrier_t start;
	unsigned int i, inited;
	int err = 0;
	__u64 t0;

	for (inited = 0; !err && inited < threads; inited++) {
		jobs[inited] = (struct job){ .impl = impl, .batch = batch,
					     .ops = ops, .start = &start };
		err = impl->init(&jobs[inited]);
	}
	if (err) {
		for (i = 0; i + 1 < inited; i++)
			impl->fini(&jobs[i]);
		return err;
	}
	pthread_barrier_init(&start, NULL, threads + 1);
	for (i = 0; i < threads; i++) {
		if (pthread_create(&tids[i], NULL, thread_main, &jobs[i]))
			abort();
	}
	pthread_barrier_wait(&start);
	t0 = now_ns();
	for (i = 0; i < threads; i++) {
		pthread_join(tids[i], NULL);
		err = err ?: jobs[i].err;
		impl->fini(&jobs[i]);
	}
	t0 = now_ns() - t0;
	pthread_barrier_destroy(&start);
	return err ? err : (double)ops * threads * 1e9 / t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int figure(const struct impl *impl, unsigned int threads,
		  unsigned int batch, unsigned long ops, unsigned int runs)
{
	double s[MAX_RUNS];
	unsigned int r;

	for (r = 0; r <= runs; r++) {
		double v = run_once(impl, threads, batch, ops);

		if (v < 0) {
			printf("@kb bench-error user,%s,%u,%u: %s\n", impl->name,
			       threads, batch, strerror((int)-v));
			return -1;
		}
		if (r)
			s[r - 1] = v;
	}
	qsort(s, runs, sizeof(s[0]), cmp_double);
	printf("@kb bench user,%s,%u,%u,%.0f,%.0f,%.0f,0\n", impl->name,
	       threads, batch, s[runs / 2], s[0], s[runs - 1]);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned int batches[] = { 1, 16, MAX_BATCH };
	static const unsigned int nthreads[] = { 1, MAX_THREADS };
	unsigned long ops = argc > 1 ? strtoul(argv[1], NULL, 0) : 16384;
	unsigned int runs = argc > 2 ? strtoul(argv[2], NULL, 0) : 5;
	unsigned int i, t, b;
	int ret = 0;

	if (runs < 1 || runs > MAX_RUNS || ops < MAX_BATCH) {
		fprintf(stderr, "usage: kbatch_ubench [OPS-PER-THREAD [RUNS]]\n");
		return 2;
	}
	ops -= ops % MAX_BATCH;
	for (i = 0; i < ARRAY_SIZE(impls); i++) {
		for (t = 0; t < ARRAY_SIZE(nthreads); t++) {
			for (b = 0; b < ARRAY_SIZE(batches); b++) {
				/* The floor has no batch: one ioctl per op. */
				if (impls[i].run == nop_run && batches[b] != 1)
					continue;
				ret |= figure(&impls[i], nthreads[t], batches[b],
					      ops, runs);
			}
		}
	}
	return ret ? 1 : 0;
}
