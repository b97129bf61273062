/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kbatch's tracepoints: the life of a batch (opened, bounded, finished),
 * pushes refused, poller cycles, and /dev/kbatch submits and the op runs
 * they make.  Enable them in tracefs (events/kbatch/) or with perf,
 * bpftrace or trace-cmd; disabled, each costs a patched-out jump.
 *
 * Names are copied into fixed arrays rather than with __string(), whose
 * helpers changed between Linux 6.1 and 6.12.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kbatch

#if !defined(_TRACE_KBATCH_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_KBATCH_H

#include <linux/string.h>
#include <linux/tracepoint.h>

/* Longest name a trace event keeps (queue, poller, op). */
#define KBATCH_TRACE_NAME	32

DECLARE_EVENT_CLASS(kbatch_batch,
	TP_PROTO(const char *queue, unsigned int cpu, unsigned int len),
	TP_ARGS(queue, cpu, len),
	TP_STRUCT__entry(
		__array(char, queue, KBATCH_TRACE_NAME)
		__field(unsigned int, cpu)
		__field(unsigned int, len)
	),
	TP_fast_assign(
		strscpy(__entry->queue, queue, KBATCH_TRACE_NAME);
		__entry->cpu = cpu;
		__entry->len = len;
	),
	TP_printk("queue=%s cpu=%u len=%u", __entry->queue, __entry->cpu,
		  __entry->len)
);

/* A push opened a batch: its caller leads it (len is 1). */
DEFINE_EVENT(kbatch_batch, kbatch_batch_open,
	TP_PROTO(const char *queue, unsigned int cpu, unsigned int len),
	TP_ARGS(queue, cpu, len));

/* The batch's callback bounded it: len tasks are in it. */
DEFINE_EVENT(kbatch_batch, kbatch_batch_bound,
	TP_PROTO(const char *queue, unsigned int cpu, unsigned int len),
	TP_ARGS(queue, cpu, len));

/* The batch's callback returned and its slots were freed. */
DEFINE_EVENT(kbatch_batch, kbatch_batch_done,
	TP_PROTO(const char *queue, unsigned int cpu, unsigned int len),
	TP_ARGS(queue, cpu, len));

/* A post, reduce or submit was refused: err is -EAGAIN or -ESHUTDOWN. */
TRACE_EVENT(kbatch_refused,
	TP_PROTO(const char *queue, unsigned int cpu, int err),
	TP_ARGS(queue, cpu, err),
	TP_STRUCT__entry(
		__array(char, queue, KBATCH_TRACE_NAME)
		__field(unsigned int, cpu)
		__field(int, err)
	),
	TP_fast_assign(
		strscpy(__entry->queue, queue, KBATCH_TRACE_NAME);
		__entry->cpu = cpu;
		__entry->err = err;
	),
	TP_printk("queue=%s cpu=%u err=%d", __entry->queue, __entry->cpu,
		  __entry->err)
);

/* A poller's cycle ended: polled items in slices of at most its budget. */
TRACE_EVENT(kbatch_poller_cycle,
	TP_PROTO(const char *poller, unsigned int polled, unsigned int slices),
	TP_ARGS(poller, polled, slices),
	TP_STRUCT__entry(
		__array(char, poller, KBATCH_TRACE_NAME)
		__field(unsigned int, polled)
		__field(unsigned int, slices)
	),
	TP_fast_assign(
		strscpy(__entry->poller, poller, KBATCH_TRACE_NAME);
		__entry->polled = polled;
		__entry->slices = slices;
	),
	TP_printk("poller=%s polled=%u slices=%u", __entry->poller,
		  __entry->polled, __entry->slices)
);

/* How a /dev/kbatch submit came. */
#define KBATCH_TRACE_SYNC	0
#define KBATCH_TRACE_ASYNC	1
#define KBATCH_TRACE_URING	2

/* A /dev/kbatch submit ran: entries of it, how it came. */
TRACE_EVENT(kbatch_dev_submit,
	TP_PROTO(unsigned int entries, unsigned int how),
	TP_ARGS(entries, how),
	TP_STRUCT__entry(
		__field(unsigned int, entries)
		__field(unsigned int, how)
	),
	TP_fast_assign(
		__entry->entries = entries;
		__entry->how = how;
	),
	TP_printk("entries=%u mode=%s", __entry->entries,
		  __print_symbolic(__entry->how,
				   { KBATCH_TRACE_SYNC, "sync" },
				   { KBATCH_TRACE_ASYNC, "async" },
				   { KBATCH_TRACE_URING, "uring" }))
);

/* A run of entries of one op went to its handler (or failed without). */
TRACE_EVENT(kbatch_op_run,
	TP_PROTO(const char *op, u32 opcode, unsigned int len),
	TP_ARGS(op, opcode, len),
	TP_STRUCT__entry(
		__array(char, op, KBATCH_TRACE_NAME)
		__field(u32, opcode)
		__field(unsigned int, len)
	),
	TP_fast_assign(
		strscpy(__entry->op, op, KBATCH_TRACE_NAME);
		__entry->opcode = opcode;
		__entry->len = len;
	),
	TP_printk("op=%s opcode=%u len=%u", __entry->op, __entry->opcode,
		  __entry->len)
);

#endif /* _TRACE_KBATCH_H */

/* Out of tree: the including object's Kbuild adds this folder to -I. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE kbatch
#include <trace/define_trace.h>
