#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the console log of `make bench` into CSV, ratios, tables and plots.

Usage: report.py [--insn INSN-LOG] OUTDIR LOG [ERMS-LOG]
       report.py --bugs LOG...

Reads the logs through bench/report_parse.py (which tells the lines it
reads), judges the goals with bench/report_goals.py, writes
OUTDIR/<table>.csv, OUTDIR/ratios.csv, OUTDIR/summary.md and, with gnuplot,
OUTDIR/queue-batch<B>.png (ns per task against producer CPUs), and prints
summary.md: the tables in Markdown and each goal, met or missed.  A
figure whose slowest run is more than SPREAD_MAX times its fastest is
flagged (⚠).  ERMS-LOG holds the user-space goal figures of a second boot
under a CPU model with ERMS ("rep movsb"), reported beside the main ones.
INSN-LOG: the one-vCPU boot with QEMU's kb_insn plugin, which gives guest
instructions per op, a count that host noise does not move.

--bugs: print every kernel report in the logs (scripts/results.py's list
of patterns) and exit 1 if there is any.
"""
import os
import shutil
import subprocess
import sys
import time

from report_goals import (FREE_GOAL_MS, RATIOS, SPREAD_MAX, flagged,
                          insn_goals, kv_batch_goal, over_spread,
                          poller_goals, trace_goal, user_goals)
from report_parse import (bug_lines, insn_windows, kv_batches, parse,
                          spill_summaries, trace_diffs, trace_insn)

QUEUE_IMPLS = ["kbatch-task", "work-completion", "kbatch-background",
               "kbatch-post-many", "kbatch-reduce", "llist", "llist-batch",
               "kfifo", "ptr_ring", "work"]
# Atomic read-modify-writes per task by design (counted from the code, not
# measured), for batch size b.  W = 4: what one work item costs (PENDING
# bit, pool lock when queued and when run, the worker's wake-up); H = 64:
# kfifo and ptr_ring consumers take one lock per 64 tasks.  percpu_ref
# get/put are this_cpu operations, not atomics; unlocks are plain stores.
W, H = 4, 64
ATOMICS = {
    "kbatch-task": lambda b: 1 + 2 / b,
    "work-completion": lambda b: W + 4,
    "kbatch-background": lambda b: (1 + W) / b,
    "kbatch-post-many": lambda b: (1 + W) / b,
    "kbatch-reduce": lambda b: 3,
    "llist": lambda b: 1 + (1 + W) / b,
    "llist-batch": lambda b: (2 + W) / b,
    "kfifo": lambda b: 1 + (W + 1) / b + 1 / H,
    "ptr_ring": lambda b: 1 + (W + 1) / b + 1 / H,
    "work": lambda b: W,
}


def cell(v, scale=1.0, fmt="{:.0f}"):
    """median (min-max), flagged when max/min exceeds SPREAD_MAX."""
    flag = " ⚠" if over_spread(v) else ""
    return (fmt.format(v[0] / scale) + " (" + fmt.format(v[1] / scale) + "-" +
            fmt.format(v[2] / scale) + ")" + flag)


def write_csv(path, head, lines):
    with open(path, "w") as f:
        f.write(",".join(head) + "\n")
        for line in lines:
            f.write(",".join(str(x) for x in line) + "\n")


def queue_tables(rows, out, md, table="queue",
                 title="### 1. Queue: ns per task, pushes from a thread "
                       "(median, min-max of the runs)\n"):
    q = {(k[1], k[2], k[3]): v for k, v in rows.items() if k[0] == table}
    if not q:
        md.append(f"Table {table}: no results.\n")
        return {}
    write_csv(os.path.join(out, f"{table}.csv"),
              ["impl", "cpus", "batch", "ns_per_task_median", "min", "max",
               "avg_tasks_taken"],
              [[i, c, b] + v for (i, c, b), v in sorted(q.items())])
    cpus = sorted({c for _, c, _ in q})
    batches = sorted({b for _, _, b in q})
    md.append(title)
    for b in batches:
        md.append(f"Batch size {b}:\n")
        md.append("| implementation | " +
                  " | ".join(f"{c} CPU{'s' if c > 1 else ''}" for c in cpus) +
                  " | tasks taken per consumer call | atomic RMWs per task "
                  "(by design) |")
        md.append("|---|" + "---:|" * (len(cpus) + 2))
        for impl in QUEUE_IMPLS:
            if not any(k[0] == impl for k in q):
                continue
            cells = []
            for c in cpus:
                v = q.get((impl, c, b))
                cells.append(cell(v) if v else "-")
            taken = q.get((impl, cpus[-1], b))
            md.append(f"| {impl} | " + " | ".join(cells) +
                      f" | {taken[3] if taken else '-'} | "
                      f"{ATOMICS[impl](b):.2f} |")
        md.append("")
    return q


def ratio_tables(q, out, md, title="1b. Ratios", csv="ratios.csv",
                 suffix=""):
    cpus = sorted({c for _, c, _ in q})
    batches = sorted({b for _, _, b in q})
    lines, goals = [], []
    md.append(f"### {title} (kbatch / baseline, median over median; "
              "below 1 means kbatch is faster)\n")
    md.append("| ratio | goal | " + " | ".join(
        f"{c} CPU, B={b}" for b in batches for c in cpus) + " |")
    md.append("|---|---|" + "---:|" * (len(cpus) * len(batches)))
    for name, a, base, goal, *only in RATIOS:
        if not any(k[0] == a for k in q):
            continue
        cells, met, total = [], 0, 0
        for b in batches:
            for c in cpus:
                va, vb = q.get((a, c, b)), q.get((base, c, b))
                if only and b not in only[0]:
                    cells.append("")
                    continue
                if not va or not vb or not vb[0]:
                    cells.append("-")
                    continue
                r = va[0] / vb[0]
                lines.append([a, base, c, b, f"{r:.3f}"])
                ok = goal is None or r <= goal
                total += 1
                met += ok
                cells.append(f"{r:.2f}" + ("" if ok else " ✗"))
        g = f"≤ {goal}" if goal is not None else "-"
        md.append(f"| {name} | {g} | " + " | ".join(cells) + " |")
        if goal is not None:
            goals.append((f"{name} ≤ {goal}x{suffix}", met, total, ""))
    md.append("")
    write_csv(os.path.join(out, csv),
              ["kbatch", "baseline", "cpus", "batch", "ratio"], lines)
    return goals


def split_table(rows, out, md):
    """Tables 1c and 1d; returns 1c's {(impl, batch): figure}."""
    sp = {(k[1], k[3]): v for k, v in rows.items() if k[0] == "split"}
    prim = {k[1]: v for k, v in rows.items() if k[0] == "prim"}
    if sp:
        write_csv(os.path.join(out, "split.csv"),
                  ["impl", "batch", "push_ns_median", "min", "max",
                   "total_ns_median"],
                  [[i, b] + v for (i, b), v in sp.items()])
        batches = sorted({b for _, b in sp})
        md.append("### 1c. Where the time goes: 1 CPU, pushes from a thread "
                  "(ns per task: push (producer, min-max) / whole)\n")
        md.append("| implementation | " + " | ".join(
            f"B={b}" for b in batches) + " |")
        md.append("|---|" + "---:|" * len(batches))
        for impl in QUEUE_IMPLS:
            if not any(i == impl for i, _ in sp):
                continue
            cells = [f"{cell(sp[(impl, b)])} / {sp[(impl, b)][3]}"
                     if (impl, b) in sp else "-" for b in batches]
            md.append(f"| {impl} | " + " | ".join(cells) + " |")
        md.append("")
    if prim:
        write_csv(os.path.join(out, "prim.csv"),
                  ["op", "ns_median", "min", "max"],
                  [[o] + v[:3] for o, v in prim.items()])
        md.append("### 1d. Building blocks in this VM (ns per operation, "
                  "loop included)\n")
        md.append("| operation | ns |")
        md.append("|---|---:|")
        for op, v in prim.items():
            md.append(f"| {op} | {cell(v)} |")
        md.append("")
    return sp


def work_gap(goals, sp):
    """Why a missed background / work goal at B=16 and up is missed, from
    table 1c at B=16: [] if it is not missed."""
    if all(met == total for name, met, total, _ in goals
           if name.startswith("background / work from")):
        return []
    kb = sp.get(("kbatch-background", 16))
    if not kb:
        return []
    return [f"\nWhy the background / work goals from B=16 are missed: of "
            f"kbatch's {kb[3]} ns per task at B=16 (one CPU, table 1c), the "
            f"post is {kb[0]} ns; the rest is the batch's hand-over (one "
            "queue_work_on() and a worker wake-up per batch, several "
            "microseconds under emulation) and the callback, shared by "
            "only 16 tasks.  The ratio falls as batches grow.\n"]


def flat_gap(goals, igoals, cost):
    """Why the poller's flatness is missed in time when it is met in
    instructions: [] otherwise.  @cost: table 2's medians by (poller,
    items)."""
    def flat(gs):
        return [g for g in gs if g[0].startswith("poller cost per poll flat")]
    t, i = flat(goals), flat(igoals)
    if not t or not i or t[0][1] == t[0][2] or i[0][1] != i[0][2]:
        return []
    base = [v for (p, _), v in cost.items() if p == "list" and v]
    lst = (f"; the list poller, whose work per poll does not grow either, "
           f"spreads {max(base) / min(base):.2f}x over the same item counts "
           "(table 2)" if len(base) > 1 else "")
    return [f"\nThe poller's flatness is missed in time ({t[0][3]}) and met "
            f"in guest instructions ({i[0][3]}, table 5): the work per poll "
            "does not grow with the items, so the time difference does not "
            "come from more work per poll, nor from short samples (each "
            "times at least 100,000 polls); the item counts are measured one "
            f"after the other, not interleaved{lst}.\n"]


def post_gap(goals, sp, per):
    """Why a missed background / llist goal is missed, from tables 1c and
    5 at the largest batch: [] if no such goal is missed."""
    if all(met == total for name, met, total, _ in goals
           if name.startswith("background / llist")):
        return []
    b = max((b for i, b in sp if i == "kbatch-background"), default=None)
    if b is None or ("llist", b) not in sp:
        return []
    kb, ll = sp[("kbatch-background", b)], sp[("llist", b)]
    text = (f"\nWhy the background / llist goals are missed: at B={b}, one "
            f"CPU, kbatch's post costs {kb[0]} ns against llist_add()'s "
            f"{ll[0]} ns, and the whole path {kb[3]} against {ll[3]} ns "
            "(table 1c)")
    ki, li = per.get(("queue", "kbatch-background", b)), \
        per.get(("queue", "llist", b))
    if ki and li:
        text += f"; {ki:.0f} against {li:.0f} guest instructions per task " \
                "on the whole path (table 5)"
    return [text + ".  Both are one read-modify-write of a per-CPU word "
            "and one store per task; kbatch's post adds what its contract "
            "needs (a call into the module, one gate word for queue mode, "
            "liveness and hotplug, room in the ring), so it reaches parity "
            "with llist, not 0.8x of it.\n"]


POLLERS = ["kbatch", "list", "work"]


def poller_tables(rows, out, md):
    """Table 2; returns the cost per poll, {(impl, items): ns}."""
    p = {(k[0], k[1], k[3]): v for k, v in rows.items()
         if k[0].startswith("poller-")}
    if not p:
        md.append("Table 2 (poller): no results.\n")
        return {}
    write_csv(os.path.join(out, "poller.csv"),
              ["figure", "impl", "items", "median", "min", "max",
               "quiet_items"],
              [[f, i, n] + v for (f, i, n), v in sorted(p.items())])
    items = sorted({n for _, _, n in p})
    head = "| poller | " + " | ".join(f"{n:,} items" for n in items) + " |"
    rule = "|---|" + "---:|" * len(items)
    titles = {
        "poller-cost": "ns per poll out of a backlog of woken items (wakes "
                       "excluded)",
        "poller-latency": "wake-to-poll latency of one item, idle poller "
                          "(µs)",
        "poller-fairness": "spinner's polls per poll of a quiet item "
                           "(spinner's polls in brackets)",
    }
    md.append("### 2. Poller (median, min-max of the runs)\n")
    for fig, title in titles.items():
        md.append(f"{title}:\n")
        md.append(head)
        md.append(rule)
        for impl in POLLERS:
            cells = []
            for n in items:
                v = p.get((fig, impl, n))
                if not v:
                    cells.append("-")
                elif fig == "poller-latency":
                    cells.append(f"{v[0] / 1000:.1f} ({v[1] / 1000:.1f}-"
                                 f"{v[2] / 1000:.1f})")
                elif fig == "poller-fairness":
                    cells.append(f"{v[0] / max(v[3], 1):.6f} ({v[0]})")
                else:
                    cells.append(cell(v))
            md.append(f"| {impl} | " + " | ".join(cells) + " |")
        md.append("")
    cost = {(i, n): v[0] for (f, i, n), v in p.items() if f == "poller-cost"}
    md.append("Ratios of cost per poll (kbatch / baseline): " + "; ".join(
        f"{n:,} items: " + ", ".join(
            f"/{b} {cost[('kbatch', n)] / cost[(b, n)]:.2f}"
            for b in POLLERS[1:] if cost.get((b, n)) and cost.get(("kbatch", n)))
        for n in items) + "\n")
    return cost


def plot_poller(rows, out):
    cost = {(k[1], k[3]): v[0] for k, v in rows.items() if k[0] == "poller-cost"}
    if not cost:
        return []
    return gnuplot_lines(
        os.path.join(out, "poller-cost"), sorted({n for _, n in cost}),
        {i: {n: v for (j, n), v in cost.items() if j == i} for i in POLLERS},
        "cost per poll against registered items", "items",
        "ns per polled item (median)", "set logscale x\nset yrange [0:*]")


USER_IMPLS = ["kbatch-sync", "kbatch-async", "kbatch-uring", "io_uring-sync",
              "io_uring-async", "ioctl", "kbatch-mixed", "kbatch-shared"]
USER_NOTES = {
    "kbatch-uring": "NOPs as KBATCH_URING_CMD, one io_uring_enter() per call",
    "kbatch-mixed": "runs of 4: ECHO, SUM, kv.put, kv.get, results checked",
    "kbatch-shared": "every thread on one file",
}


def kv_batch(log, md):
    """kbatch_kv's handler statistics around uring_cmd submits: a goal."""
    rows = kv_batches(log)
    if not rows:
        md.append("kbatch_kv batch check: no results.\n")
        return kv_batch_goal(rows)
    md.append("kbatch_kv's handler under uring_cmd (debugfs kbatch_kv/stats "
              "before and after io_uring_enter()s of B kv.get commands "
              "each):\n")
    md.append("| path | B | enters | handler calls | entries | last |")
    md.append("|---|---:|---:|---:|---:|---:|")
    for how, b, enters, calls, entries, last in rows:
        md.append(f"| {how} | {b} | {enters} | {calls} | {entries} | {last} |")
    md.append("")
    return kv_batch_goal(rows)


def user_table(rows, out, md, title="3. User space", csv="user.csv"):
    """Table 3; returns the goals: (name, met, total, detail)."""
    u = {(k[1], k[2], k[3]): v for k, v in rows.items() if k[0] == "user"}
    ln = {(k[1], k[2], k[3]): v for k, v in rows.items() if k[0] == "user-len"}
    if not u:
        md.append(f"Table {title}: no results.\n")
        return []
    write_csv(os.path.join(out, csv),
              ["impl", "threads", "batch", "ops_per_s_median", "min", "max",
               "reruns", "run_ms_median", "run_ms_min", "ops_per_thread"],
              [[i, t, b] + v[:4] + (ln.get((i, t, b), [""] * 4)[:2] +
                                    ln.get((i, t, b), [""] * 4)[3:])
               for (i, t, b), v in sorted(u.items())])
    threads = sorted({t for _, t, _ in u})
    batches = sorted({b for _, _, b in u})
    cols = [(t, b) for t in threads for b in batches]
    md.append(f"### {title}: thousands of ops per second (median, "
              "min-max)\n")
    md.append("| path | " + " | ".join(
        f"{t} thr, {b}/call" for t, b in cols) + " |")
    md.append("|---|" + "---:|" * len(cols))
    for impl in USER_IMPLS:
        if not any(k[0] == impl for k in u):
            continue
        cells = [cell(u[(impl, t, b)], 1e3) if (impl, t, b) in u else "-"
                 for t, b in cols]
        note = f" ({USER_NOTES[impl]})" if impl in USER_NOTES else ""
        md.append(f"| {impl}{note} | " + " | ".join(cells) + " |")
    md.append("")
    if ln:
        short = min(v[1] for v in ln.values())
        reruns = sum(v[3] for v in u.values())
        md.append(f"Every run took at least {short} ms (goal: 300); "
                  f"{reruns} figure(s) spread over {SPREAD_MAX}x and were "
                  "run again (the second set is shown).\n")
    if not any(k[0].startswith("kbatch") for k in u):
        md.append("No /dev/kbatch rows: this build has no KBATCH_IOC_SUBMIT."
                  "\n")
        return []
    return user_goals(u)


def teardown_table(rows, out, md):
    t = {k[1]: (k[2], v) for k, v in rows.items() if k[0] == "teardown"}
    if not t:
        md.append("Table 4 (teardown): no results.\n")
        return None
    write_csv(os.path.join(out, "teardown.csv"),
              ["what", "cpus", "median_us", "min_us", "max_us", "extra"],
              [[w, c, v[0] / 1000, v[1] / 1000, v[2] / 1000, v[3]]
               for w, (c, v) in t.items()])
    md.append("### 4. Teardown (ms: median, min-max)\n")
    md.append("| what | ms | notes |")
    md.append("|---|---:|---|")
    notes = {
        "free-idle": "kbatch_queue_free() of a background queue never used",
        "free-loaded": "every CPU's ring full (pending tasks in the last "
                       "column of teardown.csv), all run by the free",
        "rmmod-kbatch": "`rmmod kbatch` of the idle module, timed from user "
                        "space (/proc/timer_list)",
    }
    for w, (c, v) in t.items():
        md.append(f"| {w} | {v[0] / 1e6:.2f} ({v[1] / 1e6:.2f}-"
                  f"{v[2] / 1e6:.2f}) | {notes.get(w, '')} |")
    md.append("")
    loaded = t.get("free-loaded")
    return loaded[1][0] / 1e6 if loaded else None


SPILL_COLS = [("accepted_pct", "posts accepted"),
              ("post_ns", "ns per post"),
              ("lat_p50_ns", "latency p50 (µs)"),
              ("lat_p99_ns", "latency p99 (µs)"),
              ("lat_max_ns", "latency max (µs)"),
              ("remote_pct", "run on other CPUs")]


def spill_table(log, out, md):
    """Table 7: one CPU takes every post, spill on against spill off."""
    t = spill_summaries(log)
    if not t:
        md.append("Table 7 (spill): no results.\n")
        return
    write_csv(os.path.join(out, "spill.csv"), ["spill"] + [k for k, _ in SPILL_COLS],
              [[m] + [t[m].get(k, "") for k, _ in SPILL_COLS] for m in t])
    md.append("### 7. Spill: every producer on one CPU (bench/spill_bench.c; "
              "medians of the runs)\n")
    md.append("| spill | " + " | ".join(h for _, h in SPILL_COLS) + " |")
    md.append("|---|" + "---:|" * len(SPILL_COLS))
    for m in ("on", "off"):
        if m not in t:
            continue
        cells = []
        for k, _ in SPILL_COLS:
            v = t[m].get(k, "-")
            if k.startswith("lat_") and v.isdigit():
                v = f"{int(v) / 1000:.0f}"
            cells.append(v)
        md.append(f"| {m} | " + " | ".join(cells) + " |")
    md.append("\nLatency counts accepted values only: with spill off, the "
              "refused ones never ran.\n")


def gnuplot_lines(base, xs, series, title, xlabel, ylabel, settings):
    """Plot each series ({x: y}) against xs into base.png; [] on failure."""
    if not shutil.which("gnuplot"):
        return []
    names = list(series)
    with open(base + ".dat", "w") as f:
        f.write("x " + " ".join(names) + "\n")
        for x in xs:
            f.write(f"{x} " + " ".join(str(series[n].get(x, "NaN"))
                                       for n in names) + "\n")
    script = f"""
set terminal pngcairo size 900,600 noenhanced
set output '{base}.png'
set title '{title}'
set xlabel '{xlabel}'
set ylabel '{ylabel}'
{settings}
set key outside right
plot for [i=2:{len(names) + 1}] '{base}.dat' using 1:i with linespoints title columnhead(i)
"""
    r = subprocess.run(["gnuplot"], input=script, text=True,
                       capture_output=True)
    if r.returncode:
        print(f"gnuplot: {r.stderr.strip()}", file=sys.stderr)
        return []
    return [base + ".png"]


def plot(q, out):
    pngs = []
    cpus = sorted({c for _, c, _ in q})
    for b in sorted({b for _, _, b in q}):
        series = {i: {c: v[0] for (j, c, bb), v in q.items()
                      if j == i and bb == b}
                  for i in QUEUE_IMPLS if any(k[0] == i for k in q)}
        pngs += gnuplot_lines(
            os.path.join(out, f"queue-batch{b}"), cpus, series,
            f"ns per task against producer CPUs, batch size {b}",
            "producer CPUs", "ns per task (median; log scale)",
            "set logscale y\nset xtics (" + ", ".join(map(str, cpus)) + ")")
    return pngs


def insn_table(log, out, md):
    """Table 5: guest instructions per op from the kb_insn boot."""
    counts, labels = insn_windows(log)
    if not counts or len(counts) != len(labels):
        md.append(f"Table 5 (instructions): {len(counts)} counted windows "
                  f"for {len(labels)} labels in {log}: not reported.\n")
        return {}
    per = {}
    for n, (t, i, b, ops) in zip(counts, labels):
        per[(t, i, b)] = n / ops
    write_csv(os.path.join(out, "insn.csv"),
              ["table", "impl", "batch", "insns_per_op"],
              [[t, i, b, f"{v:.1f}"] for (t, i, b), v in sorted(per.items())])
    md.append("### 5. Guest instructions per op (QEMU kb_insn plugin, one "
              "vCPU, one run; deterministic up to interrupts)\n")
    titles = {"queue": "Table 1, pushes from a thread, 1 CPU (per task)",
              "queue-irq": "Table 1e, pushes from hardirq, 1 CPU (per task)",
              "poller-cost": "Table 2, cost of a poll out of a backlog (per "
                             "poll; columns: items registered)",
              "user": "Table 3, one thread (per op, kernel and user space)"}
    for t, title in titles.items():
        col = "{:,} items" if t == "poller-cost" else "B={}"
        rows = {(i, b): v for (tt, i, b), v in per.items() if tt == t}
        if not rows:
            continue
        batches = sorted({b for _, b in rows})
        impls = []
        for i, _ in rows:
            if i not in impls:
                impls.append(i)
        md.append(f"{title}:\n")
        md.append("| implementation | " + " | ".join(
            col.format(b) for b in batches) + " |")
        md.append("|---|" + "---:|" * len(batches))
        for i in impls:
            md.append(f"| {i} | " + " | ".join(
                f"{rows[(i, b)]:.0f}" if (i, b) in rows else "-"
                for b in batches) + " |")
        md.append("")
    return per


def trace_table(rows, log, insn_log, out, md):
    """Table 6: a disabled tracepoint against none; returns goals."""
    t = {(k[1], k[3]): v for k, v in rows.items() if k[0] == "trace"}
    diffs = trace_diffs(log)
    if not t:
        md.append("Table 6 (trace): no results.\n")
        return []
    ins = trace_insn(insn_log) if insn_log else {}
    lens = sorted({b for _, b in t})
    sync1 = rows.get(("user", "kbatch-sync", 1, 1))
    submit_ns = 1e9 / sync1[0] if sync1 and sync1[0] else None
    lines, goals = [], []
    md.append("### 6. A disabled tracepoint: ps per call of one op run "
              "(median, min-max), and guest instructions per call\n")
    md.append("Twins of /dev/kbatch's op run (bench/trace_bench.c): one "
              "calls kbatch's tracepoint kbatch_op_run, disabled, the other "
              "is the same code without it.  Difference: traced minus "
              "plain, paired by interleaved round (median, min-max); "
              "instructions: the kb_insn boot, median (min-max) of its "
              "windows.\n")
    md.append("| entries per run | tp-disabled | no-tp | difference | "
              "insns tp-disabled | insns no-tp | insn difference |")
    md.append("|---:|---:|---:|---:|---:|---:|---:|")
    for b in lens:
        a, p = t.get(("tp-disabled", b)), t.get(("no-tp", b))
        d = diffs.get(b)
        ia, ip = ins.get(("tp-disabled", b)), ins.get(("no-tp", b))

        def med(v):
            return sorted(v)[len(v) // 2]

        icell = (lambda v: f"{med(v):.1f} ({min(v):.1f}-{max(v):.1f})"
                 if v else "-")
        idiff = med(ia) - med(ip) if ia and ip else None
        md.append(f"| {b} | {cell(a) if a else '-'} | {cell(p) if p else '-'}"
                  f" | {f'{d[0]:+d} ({d[1]:+d} to {d[2]:+d})' if d else '-'}"
                  f" | {icell(ia)} | {icell(ip)} | "
                  f"{f'{idiff:+.1f}' if idiff is not None else '-'} |")
        lines.append([b] + (a[:3] if a else [""] * 3) + (p[:3] if p else [""] * 3)
                     + (d if d else [""] * 3)
                     + [f"{med(ia):.1f}" if ia else "",
                        f"{med(ip):.1f}" if ip else ""])
        if a and p and d:
            goals.append(trace_goal(b, p, d, idiff,
                                    med(ip) if ip else None, submit_ns))
    md.append("")
    write_csv(os.path.join(out, "trace.csv"),
              ["entries", "tp_ps_median", "tp_min", "tp_max", "plain_ps_median",
               "plain_min", "plain_max", "diff_median", "diff_min",
               "diff_max", "tp_insns", "plain_insns"], lines)
    return goals


def bugs(logs):
    """Print every kernel report in @logs; 1 if there is any."""
    found = 0
    for log, line in bug_lines(logs):
        print(f"{log}: {line.rstrip()}", file=sys.stderr)
        found += 1
    return 1 if found else 0


def goal_lines(goals):
    md = []
    for name, met, total, detail in goals:
        verdict = "met" if total and met == total else "missed"
        md.append(f"- {name}: **{verdict}** (met in {met} of {total} "
                  "configurations" + (f": {detail}" if detail else "") + ")")
    return md


def main():
    if sys.argv[1] == "--bugs":
        return bugs(sys.argv[2:])
    args = sys.argv[1:]
    insn_log = None
    if args[0] == "--insn":
        insn_log = args[1]
        args = args[2:]
    out, log = args[0], args[1]
    erms_log = args[2] if len(args) > 2 else None
    os.makedirs(out, exist_ok=True)
    header, cpu, rows, reruns = parse(log)
    md = ["# kbatch benchmark results (generated by `make bench`)\n",
          f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
          "by `make bench` (bench/run.sh; bench/report.py wrote "
          "this file).\n"]
    if header:
        md.append(f"VM: {header[0]} CPUs, kernel {header[1]}, QEMU software "
                  f"emulation (TCG), CPU model: {cpu or 'unknown'}.  Every "
                  "figure: median of the timed runs after a warm-up, with "
                  f"min and max; ⚠ marks a figure whose max/min exceeds "
                  f"{SPREAD_MAX}x.\n")
    q = queue_tables(rows, out, md)
    goals = ratio_tables(q, out, md) if q else []
    qi = queue_tables(rows, out, md, "queue-irq",
                      "### 1e. Queue: ns per task, pushes from hardirq (an "
                      "hrtimer per batch; median, min-max)\n")
    if qi:
        goals += ratio_tables(qi, out, md, "1f. Ratios, pushes from hardirq",
                              "ratios-irq.csv", " (hardirq)")
    sp = split_table(rows, out, md)
    pcost = poller_tables(rows, out, md)
    goals += poller_goals(pcost)
    ugoals = user_table(rows, out, md)
    goals += ugoals
    if any(k[0] == "user" and k[1] == "kbatch-uring" for k in rows):
        goals += kv_batch(log, md)
    egoals = []
    if erms_log:
        _, ecpu, erows, ereruns = parse(erms_log)
        reruns |= ereruns  # none today: its user figures count their own
        egoals = user_table(erows, out, md,
                            title=f"3e. User space again, CPU model {ecpu}",
                            csv="user-erms.csv")
    free_ms = teardown_table(rows, out, md)
    spill_table(log, out, md)
    per = insn_table(insn_log, out, md) if insn_log else {}
    igoals = insn_goals(per) if per else []
    goals += trace_table(rows, log, insn_log, out, md)
    md.append("## Goals\n")
    md += goal_lines(goals)
    if free_ms is not None:
        verdict = "met" if free_ms < FREE_GOAL_MS else "missed"
        md.append(f"- free a loaded queue < {FREE_GOAL_MS:.0f} ms: "
                  f"**{verdict}** ({free_ms:.2f} ms)")
    md += post_gap(goals, sp, per)
    md += work_gap(goals, sp)
    md += flat_gap(goals, igoals, pcost)
    if egoals:
        md.append(f"\nThe user-space goals under {ecpu}:\n")
        md += goal_lines(egoals)
    if igoals:
        md.append("\nThe goals judged on guest instructions per op (table 5, "
                  "deterministic; a rate ratio is the inverse instruction "
                  "ratio):\n")
        md += goal_lines(igoals)
    flags = flagged(rows)
    write_csv(os.path.join(out, "flagged.csv"), ["table", "impl", "cpus",
                                                 "batch", "rerun"],
              [list(k) + [int(k in reruns or (k[0] == "user" and
                                               rows[k][3] > 0))]
               for k in flags])
    nrerun = len(reruns) + sum(1 for k, v in rows.items()
                               if k[0] == "user" and v[3] > 0)
    md.append(f"\n{nrerun} figure(s) spread over {SPREAD_MAX}x were sampled "
              f"a second time; {len(flags)} of {len(rows)} are still over it "
              "(⚠ in the tables, list in build/results/flagged.csv).")
    pngs = plot(q, out) + plot_poller(rows, out)
    if pngs:
        md.append("\nPlots (not kept in git): " + ", ".join(
            os.path.basename(p) for p in pngs) + " in build/results/.")
    text = "\n".join(md) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    print(text)
    if not rows:
        print("kbatch: no benchmark results in the log", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
