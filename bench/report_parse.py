# SPDX-License-Identifier: GPL-2.0
"""Read the console logs of `make bench` into plain data (bench/report.py).

The lines read, wherever they sit on a console line:

- "@kb bench TABLE,IMPL,CPUS,BATCH,MEDIAN,MIN,MAX,EXTRA": one figure of
  kbatch_bench.ko or kbatch_ubench (bench/bench_main.c,
  bench/user/kbatch_ubench.c);
- "@kb bench-sample TABLE,IMPL,CPUS,BATCH,NS": one run of a figure timed
  by bench/vm.sh, aggregated here into median, min, max and the number of
  runs;
- "@kb bench-rerun TABLE,IMPL,CPUS,BATCH": a kernel figure sampled twice;
- "@kb plan bench cpus N kernel RELEASE" and "@kb bench-cpu MODEL"
  (bench/vm.sh);
- "@kb insn N COUNT" (QEMU's kb_insn plugin, bench/tcg/kb_insn.c), paired
  in order with "@kb insn-label TABLE,IMPL,CPUS,B,OPS" (the guest);
- "@kb bench-diff trace,LEN,MEDIAN,MIN,MAX" (bench/trace_bench.c);
- "@kb kv-batch HOW,B,ENTERS,CALLS,ENTRIES,LAST" (kbatch_ubench);
- "@kb bench-spill-summary KEY=VALUE ..." (bench/spill_bench.c);
- kernel reports: scripts/results.py's BUG_RE, the one list of kernel-bug
  patterns.

Nothing here formats or judges: bench/report_goals.py judges,
bench/report.py writes the tables.
"""
import collections
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "scripts"))
from results import BUG_RE  # noqa: E402  one list of kernel-bug patterns

LINE_RE = re.compile(r"@kb bench ([\w-]+),([\w+-]+),(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)")
SAMPLE_RE = re.compile(r"@kb bench-sample ([\w-]+),([\w+-]+),(\d+),(\d+),(-?\d+)")
PLAN_RE = re.compile(r"@kb plan bench cpus (\d+) kernel (\S+)")
CPU_RE = re.compile(r"@kb bench-cpu (.*)$")
RERUN_RE = re.compile(r"@kb bench-rerun ([\w-]+),([\w+-]+),(\d+),(\d+)")
INSN_RE = re.compile(r"@kb insn (\d+) (\d+)")
LABEL_RE = re.compile(r"@kb insn-label ([\w-]+),([\w+-]+),(\d+),(\d+),(\d+)")
TRACE_DIFF_RE = re.compile(r"@kb bench-diff trace,(\d+),(-?\d+),(-?\d+),(-?\d+)")
SPILL_RE = re.compile(r"@kb bench-spill-summary (.*)$")
KV_BATCH_RE = re.compile(r"@kb kv-batch (\w+),(\d+),(\d+),(-?\d+),(-?\d+),(-?\d+)")


def parse(log):
    """(header, cpu, rows, reruns) of @log.

    header: (CPUs, kernel release) or None; cpu: the CPU model or None;
    rows: {(table, impl, cpus, batch): [median, min, max, extra]} in the
    order first seen, bench-sample figures last (extra: their number of
    runs); reruns: the set of (table, impl, cpus, batch) sampled twice.
    """
    rows = collections.OrderedDict()
    samples = collections.defaultdict(list)
    reruns = set()
    header = None
    cpu = None
    with open(log, errors="replace") as f:
        for line in f:
            m = PLAN_RE.search(line)
            if m:
                header = (int(m.group(1)), m.group(2))
            m = CPU_RE.search(line)
            if m:
                cpu = m.group(1).strip()
            m = RERUN_RE.search(line)
            if m:
                reruns.add((m.group(1), m.group(2), int(m.group(3)),
                            int(m.group(4))))
            m = LINE_RE.search(line)
            if m:
                t, impl = m.group(1), m.group(2)
                nums = [int(x) for x in m.groups()[2:]]
                rows[(t, impl, nums[0], nums[1])] = nums[2:]
            m = SAMPLE_RE.search(line)
            if m:
                key = (m.group(1), m.group(2), int(m.group(3)), int(m.group(4)))
                samples[key].append(int(m.group(5)))
    for key, vals in samples.items():
        vals.sort()
        rows[key] = [vals[len(vals) // 2], vals[0], vals[-1], len(vals)]
    return header, cpu, rows, reruns


def insn_windows(log):
    """(counts, labels) of the kb_insn boot's @log, each in log order.

    counts: the guest instructions of each window; labels: (table, impl,
    batch, ops) of each.  The i-th count belongs to the i-th label when the
    two lists are as long as each other.
    """
    counts, labels = [], []
    with open(log, errors="replace") as f:
        for line in f:
            for m in INSN_RE.finditer(line):
                counts.append(int(m.group(2)))
            m = LABEL_RE.search(line)
            if m:
                labels.append((m.group(1), m.group(2), int(m.group(4)),
                               int(m.group(5))))
    return counts, labels


def trace_insn(log):
    """{(twin, len): [instructions per call of each window]} of table 6."""
    counts, labels = insn_windows(log)
    per = collections.defaultdict(list)
    if len(counts) != len(labels):
        return {}
    for n, (t, i, b, ops) in zip(counts, labels):
        if t == "trace":
            per[(i, b)].append(n / ops)
    return per


def trace_diffs(log):
    """{len: [median, min, max]} of the paired trace differences in @log."""
    diffs = {}
    with open(log, errors="replace") as f:
        for line in f:
            m = TRACE_DIFF_RE.search(line)
            if m:
                diffs[int(m.group(1))] = [int(x) for x in m.groups()[1:]]
    return diffs


def kv_batches(log):
    """[(how, B, enters, calls, entries, last)] of the kv-batch lines."""
    rows = []
    with open(log, errors="replace") as f:
        for line in f:
            m = KV_BATCH_RE.search(line)
            if m:
                rows.append((m.group(1),) + tuple(int(x) for x in m.groups()[1:]))
    return rows


def spill_summaries(log):
    """{"on"|"off": {key: value}} of the spill table's summary lines;
    values as printed (strings)."""
    rows = {}
    with open(log, errors="replace") as f:
        for line in f:
            m = SPILL_RE.search(line)
            if m:
                kv = dict(w.split("=", 1) for w in m.group(1).split()
                          if "=" in w)
                if "spill" in kv:
                    rows[kv["spill"]] = kv
    return rows


def bug_lines(logs):
    """(log, line) of every kernel report in @logs, in order."""
    for log in logs:
        with open(log, errors="replace") as f:
            for line in f:
                if BUG_RE.search(line):
                    yield log, line
