// SPDX-License-Identifier: GPL-2.0
/*
 * Table 3: operations per second from user space, in the bench VM.
 *
 * Figures (NAME,THREADS,BATCH), every /dev/kbatch one through libkbatch:
 *   kbatch-sync: kbatch_submit_sync() of B KBATCH_OP_NOP entries, waiting
 *	for their B completions (one ioctl per B ops).
 *   kbatch-async: kbatch_submit_async() of them, then kbatch_reap_cqes()
 *	of the B completions.
 *   kbatch-uring: B KBATCH_OP_NOP entries as KBATCH_URING_CMD commands
 *	(kbatch_uring_prep(), a ring of kbatch_uring_queue_init()), then
 *	io_uring_submit_and_wait(B) and the B completions taken, as
 *	io_uring-sync does: one io_uring_enter() per B ops.
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
 * After the figures, unless "insn": kbatch_kv's handler statistics
 * (/sys/kernel/debug/kbatch_kv/stats) around KV_ENTERS io_uring_enter()s
 * of B kv.get commands each, for B 1, 16 and 256:
 *	"@kb kv-batch uring,<B>,<enters>,<calls>,<entries>,<last>"
 * (calls and entries: their increase; the handler saw batches of the
 * submitted size if calls == enters and entries == B * enters).
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
#include "libkbatch.h"
#include "libkbatch-uring.h"
#include "kv_stats.h"

#define MAX_BATCH	256
#define MAX_THREADS	4
#define MAX_RUNS	31
#define MAX_FIGS	48
#define MIN_RUN_S	0.3
#define CALIB_S		0.05
#define SPREAD_MAX	1.3
#define INSN_OPS	16384
#define KV_ENTERS	64
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
	struct kbatch kb;
	struct io_uring ring;
	__u64 t0, t1;
	int err;
	struct kbatch_sqe sqes[MAX_BATCH];
	struct kbatch_cqe cqes[MAX_BATCH];
};

static __u32 op_kv_put, op_kv_get;
static struct kbatch shared_kb = { .fd = -1 };
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

/* ---- /dev/kbatch, through libkbatch ---- */

static int kb_open(struct job *job)
{
	unsigned int i;
	int ret;

	ret = kbatch_open(&job->kb, NULL, 0);
	if (ret)
		return ret;
	job->own_fd = 1;
	/* The entries are prepared once and reused. */
	for (i = 0; i < MAX_BATCH; i++)
		kbatch_prep_nop(&job->sqes[i], 0);
	return 0;
}

static void kb_fini(struct job *job)
{
	if (job->own_fd)
		kbatch_close(&job->kb);
}

/* kbatch-shared: every thread's submits go to one file (opened by main). */
static int kb_shared_init(struct job *job)
{
	int ret = kb_open(job);

	if (ret)
		return ret;
	kbatch_close(&job->kb);
	job->own_fd = 0;
	job->kb = shared_kb;
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
	int ret = kb_open(job);

	if (ret)
		return ret;
	for (i = 0; i < job->fig->batch; i++) {
		unsigned int kind = i / 4 % 4, key = i / 16 * 4 + i % 4;
		__u32 op = kind == 2 ? op_kv_put : kind == 3 ? op_kv_get : ops[kind];

		kbatch_prep(&job->sqes[i], op,
			    kind >= 2 ? (job->id << 16) | key : i,
			    kind == 2 ? key + 1 : 0, i);
	}
	return 0;
}

static int kb_sync_run(struct job *job)
{
	unsigned int b = job->fig->batch;
	int ret = kbatch_submit_sync(&job->kb, job->sqes, job->cqes, b);

	return ret < 0 ? ret : ret == (int)b ? 0 : -EIO;
}

static int kb_async_run(struct job *job)
{
	unsigned int b = job->fig->batch;
	int ret = kbatch_submit_async(&job->kb, job->sqes, b);

	if (ret >= 0)
		ret = ret == (int)b ? kbatch_reap_cqes(&job->kb, job->cqes, b) : -EIO;
	return ret < 0 ? ret : 0;
}

/* The results: ECHO its argument, SUM its run's sum, kv.get the value put. */
static int kb_mixed_run(struct job *job)
{
	unsigned int i, b = job->fig->batch;
	int ret = kb_sync_run(job);
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

/* ---- /dev/kbatch through io_uring (KBATCH_URING_CMD) ---- */

static int kb_uring_init(struct job *job)
{
	int ret = kb_open(job);

	if (ret)
		return ret;
	ret = kbatch_uring_queue_init(MAX_BATCH, &job->ring, 0);
	if (ret)
		kbatch_close(&job->kb);
	return ret;
}

/* Queue @batch commands of job->sqes, io_uring user_data their index. */
static int kb_uring_prep(struct job *job, unsigned int batch)
{
	struct io_uring_sqe *sqe;
	unsigned int i;

	for (i = 0; i < batch; i++) {
		sqe = io_uring_get_sqe(&job->ring);
		if (!sqe)
			return -EBUSY;
		kbatch_uring_prep(sqe, job->kb.fd, &job->sqes[i], i);
	}
	return 0;
}

/* Take @batch completions, all in the ring, each a NOP's 0. */
static int kb_uring_reap(struct job *job, unsigned int batch)
{
	struct io_uring_cqe *cqes[MAX_BATCH];
	unsigned int i, n;
	int bad = 0;

	n = io_uring_peek_batch_cqe(&job->ring, cqes, batch);
	for (i = 0; i < n; i++)
		bad |= kbatch_uring_result(&job->ring, cqes[i]) != 0;
	io_uring_cq_advance(&job->ring, n);
	return n == batch && !bad ? 0 : -EIO;
}

static int kb_uring_run(struct job *job)
{
	unsigned int batch = job->fig->batch;
	int ret = kb_uring_prep(job, batch);

	if (!ret && io_uring_submit_and_wait(&job->ring, batch) != (int)batch)
		ret = -EIO;
	return ret ?: kb_uring_reap(job, batch);
}

static void kb_uring_fini(struct job *job)
{
	io_uring_queue_exit(&job->ring);
	kb_fini(job);
}

static const struct impl impl_kb_sync = { "kbatch-sync", kb_open, kb_sync_run, kb_fini };
static const struct impl impl_kb_async = { "kbatch-async", kb_open, kb_async_run, kb_fini };
static const struct impl impl_kb_uring = {
	"kbatch-uring", kb_uring_init, kb_uring_run, kb_uring_fini };
static const struct impl impl_kb_mixed = { "kbatch-mixed", kb_mixed_init, kb_mixed_run, kb_fini };
static const struct impl impl_kb_shared = { "kbatch-shared", kb_shared_init, kb_sync_run, kb_fini };
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
		err = kbatch_open(&shared_kb, NULL, 0);
		if (err)
			return err;
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
	kbatch_close(&shared_kb);
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
		&impl_kb_sync, &impl_kb_async, &impl_kb_uring, &impl_uring_sync,
		&impl_uring_async,
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

/*
 * kbatch_kv's handler under KBATCH_URING_CMD: KV_ENTERS io_uring_enter()s
 * of @batch kv.get commands (keys never put: each completes -ENOENT),
 * with the handler's statistics before and after.  0 or -errno.
 */
static int kv_batch_check(unsigned int batch)
{
	struct job *job = &jobs[0];
	struct figure fig = { .batch = batch };
	long long calls, entries;
	unsigned int e, i;
	int ret;

	memset(job, 0, sizeof(*job));
	job->fig = &fig;
	ret = kb_uring_init(job);
	if (ret)
		return ret;
	for (i = 0; i < batch; i++)
		kbatch_prep(&job->sqes[i], op_kv_get, 1u << 30 | i, 0, 0);
	calls = kv_stat("calls");
	entries = kv_stat("entries");
	for (e = 0; !ret && e < KV_ENTERS; e++) {
		struct io_uring_cqe *cqes[MAX_BATCH];
		unsigned int n;

		ret = kb_uring_prep(job, batch);
		if (!ret && io_uring_submit_and_wait(&job->ring, batch) != (int)batch)
			ret = -EIO;
		n = ret ? 0 : io_uring_peek_batch_cqe(&job->ring, cqes, batch);
		for (i = 0; i < n; i++)
			if (!ret && kbatch_uring_result(&job->ring, cqes[i]) != -ENOENT)
				ret = -EIO;
		io_uring_cq_advance(&job->ring, n);
		if (!ret && n != batch)
			ret = -EIO;
	}
	if (!ret)
		printf("@kb kv-batch uring,%u,%u,%lld,%lld,%lld\n", batch,
		       KV_ENTERS, kv_stat("calls") - calls,
		       kv_stat("entries") - entries, kv_stat("last"));
	kb_uring_fini(job);
	return ret;
}

/* The kv batch check at 1, 16 and 256 per io_uring_enter(). */
static int kv_batches(void)
{
	static const unsigned int batches[] = { 1, 16, MAX_BATCH };
	unsigned int b;
	int ret;

	if (kv_stat("calls") < 0) {
		printf("@kb bench-error kv-batch: no /sys/kernel/debug/kbatch_kv/stats\n");
		return 1;
	}
	for (b = 0; b < ARRAY_SIZE(batches); b++) {
		ret = kv_batch_check(batches[b]);
		if (ret) {
			printf("@kb bench-error kv-batch uring,%u: %s\n",
			       batches[b], strerror(-ret));
			return 1;
		}
	}
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int runs = argc > 1 ? strtoul(argv[1], NULL, 0) : 5;
	int goals_only = argc > 2 && !strcmp(argv[2], "goals");
	unsigned char again[MAX_FIGS] = {};
	unsigned int f, r, nagain = 0;
	struct kbatch kb;
	int put, get, have_kv = 0;

	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: kbatch_ubench [RUNS [all|goals|insn]]\n");
		return 2;
	}
	if (!kbatch_open(&kb, NULL, 0)) {
		put = kbatch_lookup(&kb, "kv.put", NULL);
		get = kbatch_lookup(&kb, "kv.get", NULL);
		have_kv = put >= 0 && get >= 0;
		op_kv_put = put;
		op_kv_get = get;
		kbatch_close(&kb);
	}
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
	return have_kv && !goals_only ? kv_batches() : 0;
}
