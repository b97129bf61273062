// SPDX-License-Identifier: GPL-2.0
/*
 * Table 3: operations per second from user space, in the bench VM.
 *
 * Figures (NAME,THREADS,BATCH):
 *   kbatch-sync: KBATCH_IOC_SUBMIT of B KBATCH_OP_NOP entries, waiting for
 *	their B completions (one ioctl per B ops).
 *   kbatch-async: the same with KBATCH_SUBMIT_ASYNC, then read() until
 *	the B completions are in.
 *   io_uring-sync: B IORING_OP_NOP, io_uring_submit_and_wait(B), then the
 *	B completions taken from the ring.
 *   io_uring-async: B IORING_OP_NOP, io_uring_submit(), then
 *	io_uring_wait_cqe_nr(B) and the completions taken.
 *   ioctl: one ioctl per op on /dev/kbatch_nop (kbatch_nopdev.ko), whose
 *	ioctl returns 0: the floor, B does not apply (printed as 1).
 *   kbatch-mixed: kbatch-sync with B mixed entries in runs of four: ECHO,
 *	SUM, kv.put, kv.get (kbatch_kv.ko), every result checked.
 *   kbatch-shared: kbatch-sync, every thread submitting on one shared file.
 * Each thread has its own file or ring (but kbatch-shared), set up before
 * and torn down after the timed region, and reuses one array of entries:
 * a kbatch submit reads the caller's array as it is, an io_uring submit
 * writes each SQE into the ring (io_uring_prep_nop()), as each API is
 * meant to be used.  Threads start together at a barrier; a run is timed
 * from the first thread's start to the last thread's end.
 *
 * Fairness and noise: every figure runs its calibrated number of ops per
 * thread, long enough for a run to take at least MIN_RUN_S (a run that
 * took less is done again, longer, and replaces it); rounds are
 * interleaved (round r runs every figure once, in turn), so a slow spell
 * of the host hits every implementation alike; after the rounds, a figure
 * whose slowest run is more than SPREAD_MAX times its fastest gets a
 * second set of RUNS runs, interleaved with the others that need one, and
 * that set is reported.  Prints, per figure,
 *	"@kb bench user,<name>,<threads>,<batch>,<median>,<min>,<max>,<reruns>"
 * in ops per second, and
 *	"@kb bench user-len,<name>,<threads>,<batch>,<ms median>,<ms min>,<ms max>,<ops per thread>"
 *
 * Usage: kbatch_ubench [RUNS [all|goals|insn]]   ("goals": only the NOP
 * figures of the goals: B 1 and 256, 1 and 4 threads; "insn": one thread,
 * one run per figure of INSN_OPS ops after a warm-up, bracketed by the
 * markers of QEMU's kb_insn plugin (bench/kb_insn.h), each followed by
 *	"@kb insn-label user,<name>,1,<batch>,<ops>"
 * for the guest instructions per op)
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

#include "kb_insn.h"

#define MAX_BATCH	256
#define MAX_THREADS	4
#define MAX_RUNS	31
#define MAX_FIGS	40
#define MIN_RUN_S	0.3
#define CALIB_S		0.05
#define SPREAD_MAX	1.3
#define INSN_OPS	16384
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct job;

struct impl {
	const char *name;
	int (*init)(struct job *job);
	int (*run)(struct job *job);
	void (*fini)(struct job *job);
};

struct figure {
	const struct impl *impl;
	unsigned int threads;
	unsigned int batch;
	unsigned long ops;		/* per thread per run */
	double s[MAX_RUNS];		/* ops per second */
	double len[MAX_RUNS];		/* seconds */
	unsigned int reruns;
};

struct job {
	const struct figure *fig;
	unsigned int id;
	unsigned long ops;
	pthread_barrier_t *start;
	int fd;
	int own_fd;
	struct io_uring ring;
	struct kbatch_submit sub;
	__u64 t0, t1;
	int err;
	struct kbatch_sqe sqes[MAX_BATCH];
	struct kbatch_cqe cqes[MAX_BATCH];
};

static __u32 op_kv_put, op_kv_get;
static int shared_fd = -1;
static int insn_mode;

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
	job->own_fd = 1;
	return job->fd < 0 ? -errno : 0;
}

static int nop_run(struct job *job)
{
	if (ioctl(job->fd, 0, 0))
		return -errno;
	return 0;
}

static void fd_fini(struct job *job)
{
	if (job->own_fd)
		close(job->fd);
}

/* ---- /dev/kbatch ---- */

static int kb_open(struct job *job)
{
	unsigned int b = job->fig->batch;

	job->fd = open("/dev/kbatch", O_RDWR);
	if (job->fd < 0)
		return -errno;
	job->own_fd = 1;
	/* Zeroed entries are KBATCH_OP_NOP; the header is set up once. */
	memset(job->sqes, 0, sizeof(job->sqes));
	memset(&job->sub, 0, sizeof(job->sub));
	job->sub.entries = (__u64)(unsigned long)job->sqes;
	job->sub.completions = (__u64)(unsigned long)job->cqes;
	job->sub.nr = b;
	return 0;
}

static int kb_sync_init(struct job *job)
{
	return kb_open(job);
}

static int kb_async_init(struct job *job)
{
	int ret = kb_open(job);

	job->sub.completions = 0;
	job->sub.flags = KBATCH_SUBMIT_ASYNC;
	return ret;
}

/* kbatch-shared: every thread's submits go to one file (opened by main). */
static int kb_shared_init(struct job *job)
{
	int ret = kb_open(job);

	if (ret)
		return ret;
	close(job->fd);
	job->own_fd = 0;
	job->fd = shared_fd;
	return 0;
}

static int kb_lookup(int fd, const char *name, __u32 *opcode)
{
	struct kbatch_lookup lk;

	memset(&lk, 0, sizeof(lk));
	snprintf((char *)lk.name, sizeof(lk.name), "%s", name);
	if (ioctl(fd, KBATCH_IOC_LOOKUP, &lk))
		return -errno;
	*opcode = lk.opcode;
	return 0;
}

/*
 * kbatch-mixed: runs of four entries of one op, ECHO, SUM, kv.put, kv.get
 * in turn; the kv.get of each run reads the keys its kv.put run wrote.
 * Keys are per thread, so threads never see each other's.
 */
static int kb_mixed_init(struct job *job)
{
	static const __u32 ops[] = { KBATCH_OP_ECHO, KBATCH_OP_SUM, 0, 0 };
	unsigned int i;
	int ret = kb_sync_init(job);

	if (ret)
		return ret;
	for (i = 0; i < job->fig->batch; i++) {
		struct kbatch_sqe *e = &job->sqes[i];
		unsigned int kind = i / 4 % 4;

		e->opcode = kind == 2 ? op_kv_put : kind == 3 ? op_kv_get : ops[kind];
		e->user_data = i;
		e->args[0] = kind >= 2 ? (job->id << 16) | (i / 16 * 4 + i % 4) : i;
		if (kind == 2)
			e->args[1] = i / 16 * 4 + i % 4 + 1;
	}
	return 0;
}

static int kb_submit(struct job *job)
{
	if (ioctl(job->fd, KBATCH_IOC_SUBMIT, &job->sub))
		return -errno;
	return job->sub.done == job->fig->batch ? 0 : -EIO;
}

static int kb_sync_run(struct job *job)
{
	return kb_submit(job);
}

static int kb_async_run(struct job *job)
{
	unsigned int batch = job->fig->batch, got = 0;
	ssize_t n;
	int ret;

	ret = kb_submit(job);
	while (!ret && got < batch) {
		n = read(job->fd, job->cqes, (batch - got) * sizeof(job->cqes[0]));
		if (n < 0)
			return -errno;
		got += n / sizeof(job->cqes[0]);
	}
	return ret;
}

/* The results: ECHO its argument, SUM its run's sum, kv.get the value put. */
static int kb_mixed_run(struct job *job)
{
	unsigned int i, b = job->fig->batch;
	int ret = kb_submit(job);
	__s64 want;

	for (i = 0; !ret && i < b; i++) {
		switch (i / 4 % 4) {
		case 0:
			want = i;
			break;
		case 1:
			want = 4 * (i - i % 4) + 6;
			break;
		case 2:
			want = 0;
			break;
		default:
			want = i / 16 * 4 + i % 4 + 1;
		}
		if (job->cqes[i].result != want || job->cqes[i].user_data != i)
			ret = -EIO;
	}
	return ret;
}

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

static int uring_sync_run(struct job *job)
{
	unsigned int batch = job->fig->batch;
	int ret = uring_prep(job, batch);

	if (!ret && io_uring_submit_and_wait(&job->ring, batch) != (int)batch)
		ret = -EIO;
	return ret ?: uring_reap(job, batch);
}

static int uring_async_run(struct job *job)
{
	unsigned int batch = job->fig->batch;
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

static const struct impl impl_kb_sync = { "kbatch-sync", kb_sync_init, kb_sync_run, fd_fini };
static const struct impl impl_kb_async = { "kbatch-async", kb_async_init, kb_async_run, fd_fini };
static const struct impl impl_kb_mixed = { "kbatch-mixed", kb_mixed_init, kb_mixed_run, fd_fini };
static const struct impl impl_kb_shared = { "kbatch-shared", kb_shared_init, kb_sync_run, fd_fini };
static const struct impl impl_uring_sync = {
	"io_uring-sync", uring_init, uring_sync_run, uring_fini };
static const struct impl impl_uring_async = {
	"io_uring-async", uring_init, uring_async_run, uring_fini };
static const struct impl impl_ioctl = { "ioctl", nop_init, nop_run, fd_fini };

/* ---- runs ---- */

static void *thread_main(void *arg)
{
	struct job *job = arg;
	const struct impl *impl = job->fig->impl;
	unsigned long done, step = impl == &impl_ioctl ? 1 : job->fig->batch;

	pthread_barrier_wait(job->start);
	job->t0 = now_ns();
	if (insn_mode)
		kb_insn_start();
	for (done = 0; done < job->ops && !job->err; done += step)
		job->err = impl->run(job);
	if (insn_mode)
		kb_insn_stop();
	job->t1 = now_ns();
	return NULL;
}

static struct job jobs[MAX_THREADS];

/*
 * One run of @ops per thread: set up, start the threads, time from the
 * first start to the last end, tear down.  Returns the seconds, or a
 * negative errno.
 */
static double run_once(const struct figure *fig, unsigned long ops)
{
	const struct impl *impl = fig->impl;
	pthread_t tids[MAX_THREADS];
	pthread_barrier_t start;
	unsigned int i, inited;
	__u64 t0 = ~0ull, t1 = 0;
	int err = 0;

	if (impl == &impl_kb_shared) {
		shared_fd = open("/dev/kbatch", O_RDWR);
		if (shared_fd < 0)
			return -errno;
	}
	for (inited = 0; !err && inited < fig->threads; inited++) {
		memset(&jobs[inited], 0, sizeof(jobs[0]));
		jobs[inited].fig = fig;
		jobs[inited].id = inited;
		jobs[inited].ops = ops;
		jobs[inited].start = &start;
		err = impl->init(&jobs[inited]);
	}
	if (!err) {
		pthread_barrier_init(&start, NULL, fig->threads);
		for (i = 0; i < fig->threads; i++) {
			if (pthread_create(&tids[i], NULL, thread_main, &jobs[i]))
				abort();
		}
		for (i = 0; i < fig->threads; i++) {
			pthread_join(tids[i], NULL);
			err = err ?: jobs[i].err;
			t0 = jobs[i].t0 < t0 ? jobs[i].t0 : t0;
			t1 = jobs[i].t1 > t1 ? jobs[i].t1 : t1;
		}
		pthread_barrier_destroy(&start);
	} else {
		inited--;
	}
	for (i = 0; i < inited; i++)
		impl->fini(&jobs[i]);
	if (shared_fd >= 0)
		close(shared_fd);
	shared_fd = -1;
	return err ? err : (t1 - t0) / 1e9;
}

static unsigned long round_ops(const struct figure *fig, double ops)
{
	unsigned long n = (unsigned long)ops;

	n += fig->batch - n % fig->batch;
	return n;
}

/* Warm up and choose the ops per run: MIN_RUN_S with a 20% margin. */
static int calibrate(struct figure *fig)
{
	unsigned long ops = round_ops(fig, 1024);
	double s;

	for (;;) {
		s = run_once(fig, ops);
		if (s < 0)
			return (int)s;
		if (s >= CALIB_S)
			break;
		ops = round_ops(fig, ops * 8.0);
	}
	/* Twice: the first may be slow (TCG translating new code). */
	fig->ops = round_ops(fig, ops * MIN_RUN_S * 1.2 / s);
	s = run_once(fig, fig->ops);
	if (s < 0)
		return (int)s;
	if (s < MIN_RUN_S * 1.1)
		fig->ops = round_ops(fig, fig->ops * MIN_RUN_S * 1.2 / s);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double spread(const struct figure *fig, unsigned int runs)
{
	double lo = fig->s[0], hi = fig->s[0];
	unsigned int r;

	for (r = 1; r < runs; r++) {
		lo = fig->s[r] < lo ? fig->s[r] : lo;
		hi = fig->s[r] > hi ? fig->s[r] : hi;
	}
	return hi / lo;
}

static void report(struct figure *fig, unsigned int runs)
{
	unsigned int b = fig->impl == &impl_ioctl ? 1 : fig->batch;

	qsort(fig->s, runs, sizeof(fig->s[0]), cmp_double);
	qsort(fig->len, runs, sizeof(fig->len[0]), cmp_double);
	printf("@kb bench user,%s,%u,%u,%.0f,%.0f,%.0f,%u\n", fig->impl->name,
	       fig->threads, b, fig->s[runs / 2], fig->s[0], fig->s[runs - 1],
	       fig->reruns);
	printf("@kb bench user-len,%s,%u,%u,%.0f,%.0f,%.0f,%lu\n",
	       fig->impl->name, fig->threads, b, fig->len[runs / 2] * 1e3,
	       fig->len[0] * 1e3, fig->len[runs - 1] * 1e3, fig->ops);
	fflush(stdout);
}

static struct figure figs[MAX_FIGS];
static unsigned int nfigs;

static void add(const struct impl *impl, unsigned int threads, unsigned int batch)
{
	if (nfigs < MAX_FIGS)
		figs[nfigs++] = (struct figure){ .impl = impl, .threads = threads,
						 .batch = batch };
}

static void plan(int goals_only, int have_kv)
{
	static const struct impl *nops[] = {
		&impl_kb_sync, &impl_kb_async, &impl_uring_sync, &impl_uring_async,
	};
	static const unsigned int batches[] = { 1, 16, MAX_BATCH };
	static const unsigned int nthreads[] = { 1, MAX_THREADS };
	unsigned int i, t, b;

	for (t = 0; t < ARRAY_SIZE(nthreads); t++) {
		for (i = 0; i < ARRAY_SIZE(nops); i++) {
			for (b = 0; b < ARRAY_SIZE(batches); b++) {
				if (goals_only && batches[b] == 16)
					continue;
				add(nops[i], nthreads[t], batches[b]);
			}
		}
		add(&impl_ioctl, nthreads[t], 1);
		if (goals_only)
			continue;
		if (have_kv) {
			add(&impl_kb_mixed, nthreads[t], 16);
			add(&impl_kb_mixed, nthreads[t], MAX_BATCH);
		}
	}
	if (goals_only)
		return;
	for (b = 0; b < ARRAY_SIZE(batches); b++)
		add(&impl_kb_shared, MAX_THREADS, batches[b]);
}

/* One round over @want (NULL: every figure), sample @r of each. */
static int round_all(const unsigned char *want, unsigned int r)
{
	unsigned int f;
	double s;

	for (f = 0; f < nfigs; f++) {
		if (want && !want[f])
			continue;
		s = run_once(&figs[f], figs[f].ops);
		/* Shorter than MIN_RUN_S (the host sped up): longer, again. */
		while (s >= 0 && s < MIN_RUN_S) {
			figs[f].ops = round_ops(&figs[f],
						figs[f].ops * MIN_RUN_S * 1.2 / s);
			s = run_once(&figs[f], figs[f].ops);
		}
		if (s < 0) {
			printf("@kb bench-error user,%s,%u,%u: %s\n",
			       figs[f].impl->name, figs[f].threads, figs[f].batch,
			       strerror((int)-s));
			return -1;
		}
		figs[f].len[r] = s;
		figs[f].s[r] = (double)figs[f].ops * figs[f].threads / s;
	}
	return 0;
}

/* "insn": one marked run of every one-thread figure, after a warm-up. */
static int insn_figures(void)
{
	unsigned int f;
	double s;

	for (f = 0; f < nfigs; f++) {
		if (figs[f].threads != 1)
			continue;
		insn_mode = 0;
		s = run_once(&figs[f], round_ops(&figs[f], INSN_OPS - 1));
		insn_mode = 1;
		if (s >= 0)
			s = run_once(&figs[f], round_ops(&figs[f], INSN_OPS - 1));
		insn_mode = 0;
		if (s < 0) {
			printf("@kb bench-error user,%s,1,%u: %s\n",
			       figs[f].impl->name, figs[f].batch, strerror((int)-s));
			return 1;
		}
		printf("@kb insn-label user,%s,1,%u,%lu\n", figs[f].impl->name,
		       figs[f].impl == &impl_ioctl ? 1 : figs[f].batch,
		       round_ops(&figs[f], INSN_OPS - 1));
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int runs = argc > 1 ? strtoul(argv[1], NULL, 0) : 5;
	int goals_only = argc > 2 && !strcmp(argv[2], "goals");
	unsigned char again[MAX_FIGS] = {};
	unsigned int f, r, nagain = 0;
	int fd, have_kv;

	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: kbatch_ubench [RUNS [all|goals|insn]]\n");
		return 2;
	}
	fd = open("/dev/kbatch", O_RDWR);
	have_kv = fd >= 0 && !kb_lookup(fd, "kv.put", &op_kv_put) &&
		  !kb_lookup(fd, "kv.get", &op_kv_get);
	if (fd >= 0)
		close(fd);
	if (!have_kv && !goals_only)
		printf("@kb bench-error user: no kv.put/kv.get (kbatch_kv.ko): no kbatch-mixed\n");
	plan(goals_only, have_kv);
	if (argc > 2 && !strcmp(argv[2], "insn"))
		return insn_figures();
	for (f = 0; f < nfigs; f++) {
		if (calibrate(&figs[f])) {
			printf("@kb bench-error user,%s,%u,%u: calibration\n",
			       figs[f].impl->name, figs[f].threads, figs[f].batch);
			return 1;
		}
	}
	for (r = 0; r < runs; r++) {
		if (round_all(NULL, r))
			return 1;
	}
	for (f = 0; f < nfigs; f++) {
		if (spread(&figs[f], runs) > SPREAD_MAX) {
			again[f] = 1;
			figs[f].reruns = 1;
			nagain++;
		}
	}
	for (r = 0; nagain && r < runs; r++) {
		if (round_all(again, r))
			return 1;
	}
	for (f = 0; f < nfigs; f++)
		report(&figs[f], runs);
	return 0;
}
