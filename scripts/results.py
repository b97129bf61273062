#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge the console logs of kbatch's test VMs.

Usage: results.py LOG...

Counts every KUnit case (KTAP printed while kbatch_test.ko loads), every
user-space test (TAP lines tagged "@kb tap NAME"), and every harness step
("@kb step ok|fail NAME").  A test fails when it says "not ok", when its
plan and its results disagree, when its program exits non-zero, or when the
VM never reached "@kb done".  Any kernel report of a bug anywhere in a log
fails the run too (an allocation failure the kernel warns about is not
one: the allocation-failure tests provoke them), except in the logs of the lockdep plans
(lockdep-<shape>.log): there the one lockdep report the plan provokes
(kunit/lockdep_demo.c) must be present, naming the expected locks, and is
the only report allowed.  The last line printed is "N passed, N failed".
"""
import re
import sys

BUG_PATTERNS = [
    r"\bBUG:", r"\bWARNING:", r"\bKASAN\b", r"\bKCSAN\b", r"\bUBSAN:",
    r"DEBUG_LOCKS_WARN_ON", r"INFO: trying to register non-static key",
    r"turning off the locking correctness validator", r"possible recursive locking",
    r"sleeping function called from invalid context",
    r"INFO: task .* blocked for more than", r"\bOops\b",
    r"general protection fault", r"Kernel panic", r"kernel BUG at",
    r"Unable to handle", r"rcu: INFO: .*stall", r"\bODEBUG:",
    r"list_(add|del) corruption", r"refcount_t:", r"segfault at",
    r"Call Trace:", r"Modules linked in:",
]
BUG_RE = re.compile("|".join(BUG_PATTERNS))
# An allocation failure the kernel warns about (with a stack) is not a bug:
# userspace-test/failnth.c provokes them on purpose.  The "Call Trace:"
# that follows such a line within ALLOC_WARN_LINES lines belongs to it.
ALLOC_WARN_RE = re.compile(
    r"(vmalloc error|page allocation failure): |percpu: allocation failed")
ALLOC_WARN_LINES = 4
# In a fail-nth boot only: the tracing core's own WARN_ON_ONCE when it
# cannot allocate a trace event's field while a module (kbatch, with its
# tracepoints) loads; the whole report, to its end marker, is the
# allocation failure's, not a bug of kbatch.
FAILNTH_WARN_RE = re.compile(
    r"WARNING: .* at kernel/trace/trace_events\.c:\d+ event_define_fields")
WARN_END_RE = re.compile(r"---\[ end trace ")
# A KUnit test that calls kbatch wrongly on purpose (a caller's bug, which
# kbatch answers with WARN_ON_ONCE and an errno) brackets the calls with
# these marks (kunit/queue_test.c); a WARNING from the file they name,
# between them, is expected, to its end marker.
EXPECT_WARN_RE = re.compile(r"kbatch-expect-warn (begin|end) (\S+)")
# Per lockdep plan: the report's header and the locks it must name.
LOCKDEP_EXPECT = {
    "lockdep-recursive": (
        "WARNING: possible recursive locking detected",
        ["kbatch_batch:lockdep-demo"]),
    "lockdep-circular": (
        "WARNING: possible circular locking dependency detected",
        ["kbatch_batch:lockdep-demo", "kbatch_demo_lock"]),
    "lockdep-poller": (
        "WARNING: possible circular locking dependency detected",
        ["kbatch_poll:lockdep-demo", "kbatch_demo_lock"]),
}
# Lines of an expected lockdep report that BUG_RE matches.
LOCKDEP_REPORT_RE = re.compile(
    r"WARNING: possible (recursive|circular) locking|Call Trace:")
# How many lines after its header a report names its locks in.
LOCKDEP_REPORT_LINES = 120
STAMP_RE = re.compile(r"^\[\s*\d+\.\d+\] ?")
RESULT_RE = re.compile(r"^( *)(not ok|ok) \d+ (?:- )?(.*?)(?: # (SKIP.*))?$")
PLAN_RE = re.compile(r"^( *)1\.\.(\d+)")
SUBTEST_RE = re.compile(r"^( *)# Subtest: (\S+)")


class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.problems = []

    def result(self, ok, skip, name):
        if skip:
            self.skipped += 1
        elif ok:
            self.passed += 1
        else:
            self.failed += 1
            self.problems.append("not ok: " + name)

    def fail(self, why):
        self.failed += 1
        self.problems.append(why)


def judge_ktap(lines, tally, where):
    """KTAP of a 6.1 test module.

    A suite opens with "# Subtest: NAME" and its plan at depth 1 (four
    spaces), its cases report at that same depth, parameters of a
    parameterised case nest one level deeper, and the suite's own result
    closes it at depth 0.
    """
    suites = {}
    order = []
    stack = []
    for line in lines:
        m = SUBTEST_RE.match(line)
        if m:
            depth = len(m.group(1)) // 4
            del stack[max(depth - 1, 0):]
            stack.append(m.group(2))
            if depth == 1:
                suites[m.group(2)] = {"plan": None, "cases": 0, "done": False}
                order.append(m.group(2))
            continue
        m = PLAN_RE.match(line)
        if m and len(m.group(1)) // 4 == 1 and stack:
            suites[stack[0]]["plan"] = int(m.group(2))
            continue
        m = RESULT_RE.match(line)
        if not m:
            continue
        depth = len(m.group(1)) // 4
        ok, name, skip = m.group(2) == "ok", m.group(3), m.group(4)
        if depth == 1 and stack:
            suites[stack[0]]["cases"] += 1
            tally.result(ok, skip, "%s %s.%s" % (where, stack[0], name))
        elif depth == 0 and name in suites:
            suites[name]["done"] = True
    if not order:
        tally.fail("%s: no KUnit suite ran" % where)
    for s in order:
        st = suites[s]
        if not st["done"] or st["plan"] != st["cases"]:
            tally.fail("%s: suite %s planned %s cases, reported %d%s" % (
                where, s, st["plan"], st["cases"],
                "" if st["done"] else ", never finished"))


def judge_tap(name, lines, tally, where):
    plan, count, rc = None, 0, None
    for line in lines:
        if line.startswith("exit "):
            rc = int(line.split()[1])
            continue
        m = PLAN_RE.match(line)
        if m and not m.group(1):
            plan = int(m.group(2))
            continue
        m = RESULT_RE.match(line)
        if m and not m.group(1):
            count += 1
            tally.result(m.group(2) == "ok", m.group(4),
                         "%s %s: %s" % (where, name, m.group(3)))
    if plan is None or plan != count:
        tally.fail("%s %s: planned %s tests, reported %d" %
                   (where, name, plan, count))
    if rc != 0:
        tally.fail("%s %s: exit status %s" % (where, name, rc))


def judge_lockdep(where, lines, bugs, tally):
    """A lockdep plan's log: its one expected report, and no other."""
    header, names = LOCKDEP_EXPECT[where]
    starts = [i for i, line in enumerate(lines) if header in line]
    if len(starts) != 1:
        tally.fail("%s: expected one \"%s\", found %d" %
                   (where, header, len(starts)))
    else:
        report = "\n".join(lines[starts[0]:starts[0] + LOCKDEP_REPORT_LINES])
        missing = [n for n in names if n not in report]
        if missing:
            tally.fail("%s: the lockdep report does not name %s" %
                       (where, ", ".join(missing)))
        else:
            tally.result(True, None, "%s lockdep report" % where)
    return [b for b in bugs if not LOCKDEP_REPORT_RE.search(b)]


def judge_log(path, tally):
    where = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    ktap, taps, tap_order = [], {}, []
    in_kunit = done = kunit_ran = False
    bugs, lines = [], []
    alloc_warn = -ALLOC_WARN_LINES - 1
    in_expected_warn = False
    expect_warn_re = None
    try:
        f = open(path, errors="replace")
    except OSError as e:
        tally.fail("%s: no log (%s)" % (where, e.strerror))
        return
    with f:
        for raw in f:
            raw = raw.rstrip("\r\n")
            line = STAMP_RE.sub("", raw)
            lines.append(line)
            if line.startswith("@kb "):
                words = line[4:].split(" ", 2)
                kind = words[0]
                if kind == "kunit-begin":
                    in_kunit = kunit_ran = True
                elif kind == "kunit-end":
                    in_kunit = False
                elif kind == "done":
                    done = True
                elif kind == "step":
                    rest = line[len("@kb step "):]
                    ok = rest.startswith("ok ")
                    tally.result(ok, None, "%s step %s" % (where, rest))
                elif kind == "tap" and len(words) >= 2:
                    name = words[1]
                    if name not in taps:
                        taps[name] = []
                        tap_order.append(name)
                    taps[name].append(words[2] if len(words) > 2 else "")
                continue
            if in_kunit:
                ktap.append(line)
            mark = EXPECT_WARN_RE.search(line)
            if mark:
                expect_warn_re = None if mark.group(1) == "end" else \
                    re.compile(r"WARNING: .* at \S*%s:\d+ " %
                               re.escape(mark.group(2)))
                continue
            if in_expected_warn:
                in_expected_warn = not WARN_END_RE.search(line)
                continue
            if ((where.startswith("failnth") and FAILNTH_WARN_RE.search(line))
                    or (expect_warn_re and expect_warn_re.search(line))):
                in_expected_warn = True
                continue
            if ALLOC_WARN_RE.search(line):
                alloc_warn = len(lines)
            elif BUG_RE.search(line):
                if (line.strip() == "Call Trace:" and
                        len(lines) - alloc_warn <= ALLOC_WARN_LINES):
                    continue
                bugs.append(raw)
    if kunit_ran:
        judge_ktap(ktap, tally, where)
    for name in tap_order:
        judge_tap(name, taps[name], tally, where)
    if not done:
        tally.fail("%s: the VM did not finish its plan (timeout or crash)"
                   % where)
    if where in LOCKDEP_EXPECT:
        bugs = judge_lockdep(where, lines, bugs, tally)
    if bugs:
        tally.fail("%s: the kernel reported %d bug line(s)" % (where, len(bugs)))
        tally.problems.extend("  " + b for b in bugs[:60])


def main():
    tally = Tally()
    for path in sys.argv[1:]:
        judge_log(path, tally)
    for p in tally.problems:
        print(p)
    tail = ", %d skipped" % tally.skipped if tally.skipped else ""
    print("%d passed, %d failed%s" % (tally.passed, tally.failed, tail))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
