#!/usr/bin/env python3
"""compare.py - goc's comparison examples next to their asyncio twins.

    python3 examples/compare.py [--build DIR] [--only NAME,...] [-v] [--demo] [--strict]
                                [--node NODE]

Runs every comparison example four ways, one after another:

    build/examples/NAME --workers 1     goc, the asyncio model (one worker)
    build/examples/NAME                 goc, the Go model (one worker per core)
    python3 examples/python/NAME.py     the Python asyncio twin
    node examples/node/NAME.js          the Node.js twin (skipped, with a
                                        note, where there is no node)

and prints a table: the wall time of each (the time of the program's own
"done" line, so interpreter start-up is not counted), whether the order
of events matches the Python twin's, and whether the Node.js twin's matches
goc --workers 1's. Node runs JavaScript on one thread with one libuv event
loop, as goc does with one worker: its timeline should be goc's there,
except where NODE_DIFF says why not (none so far).

Order of events: each program prints a timeline of "[  0.000s] event"
lines (examples/example_util.h, examples/python/exutil.py); the text after
" | " is a comment and is not compared. Events less than GAP seconds apart
count as simultaneous: the timeline is cut into moments wherever two
consecutive events are further apart, and two timelines match when they
have the same moments with the same events in each (in any order within a
moment - two coroutines woken by the same tick may print in either order).

With one worker goc should match asyncio everywhere. With all cores it
should too, except where the Go model is the point (blocking_call,
cancellation, cpu_bound: other workers go on while one is busy); those rows
say "differs (expected)". On a one-core machine both goc runs are the same.

The Node.js twins are the same programs written the way Node writes them:
Promise.all / allSettled for gather, Promise.race / any for wait_first,
AbortController and AbortSignal.timeout for cancellation and time limits,
worker_threads for blocking_call's offloaded call; a semaphore and a
bounded queue (Node has neither) are in examples/node/exutil.js. Where JS
differs from goc by nature, as asyncio does (no preemption of a CPU loop:
cancellation's late cancel, cpu_bound's 1x), goc --workers 1 behaves the
same way, so the order still matches.

Exit status: 1 if a program failed (non-zero exit, no "done" line, time
out); with --strict also if a --workers 1 run does not match Python, or a
Node.js twin does not match goc --workers 1 (where NODE_DIFF does not
excuse it).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The examples, in the order of the articles' ideas.
EXAMPLES = [
    "sync_vs_async",
    "gather",
    "wait_first",
    "taskgroup_cancel",
    "semaphore_limit",
    "producer_consumer",
    "wait_for_timeout",
    "cancellation",
    "blocking_call",
    "async_generator",
    "cpu_bound",
    "fetch_many",
]

# Run only when named with --only: echo_server's clients are 0.1 s apart,
# which a busy machine can blur into one moment (its twins are in
# examples/python and examples/node all the same).
ON_REQUEST = ["echo_server"]

# Where the Go model is meant to differ from asyncio when there are several
# workers, and why.
EXPECTED_DIFF = {
    "blocking_call": "another worker keeps ticking",
    "cancellation": "the cancel is issued on time",
    "cpu_bound": "jobs run in parallel",
}

# Where a Node.js twin is meant to differ from goc --workers 1, and why
# (name -> reason). Empty: each Node twin shows the asyncio model's order.
NODE_DIFF = {}

# --demo: the headline, for someone who has read the articles (make demo).
DEMO = {
    "sync_vs_async": "Three 1 s waits take 3 s one after another and 1 s together, in both "
                     "models:\nwaiting overlaps even on one thread.",
    "blocking_call": "A blocking call inside a coroutine stops the one-thread event loop (the "
                     "ticks stop);\nwith all cores only its own worker stops. goc_to_thread "
                     "(asyncio.to_thread) fixes both.",
    "cpu_bound": "CPU work gets no faster on one thread (asyncio, and the GIL for threads); "
                 "with one\nworker per core it runs in parallel, as goroutines do.",
}

GAP = 0.025  # seconds: events closer than this are simultaneous
LINE = re.compile(r"^\[\s*(-?\d+\.\d+)s\] (.*)$")
WORKERS = re.compile(r"^# \S+ \| goc \| (\d+) worker")


class Run:
    """One run of one program: its timeline, wall time and status."""

    def __init__(self, label, cmd):
        self.label = label
        self.cmd = cmd
        self.events = []      # (seconds, event text without the comment)
        self.lines = []       # the raw timeline lines
        self.wall = None      # seconds, from the "done" line
        self.workers = None   # goc runs: the worker count it reported
        self.error = None     # why it failed, or None
        self.skipped = None   # why it was not run (no interpreter), or None

    def execute(self, timeout):
        try:
            p = subprocess.run(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=timeout, cwd=ROOT)
        except subprocess.TimeoutExpired:
            self.error = f"timed out after {timeout} s"
            return self
        except OSError as e:
            self.error = str(e)
            return self
        for raw in p.stdout.splitlines():
            m = WORKERS.match(raw)
            if m:
                self.workers = int(m.group(1))
            m = LINE.match(raw)
            if not m:
                continue
            self.lines.append(raw)
            t, text = float(m.group(1)), m.group(2).split(" | ", 1)[0].rstrip()
            self.events.append((t, text))
            if text == "done":
                self.wall = t
        if p.returncode != 0:
            err = p.stderr.strip().splitlines()
            self.error = f"exit status {p.returncode}" + (f": {err[-1]}" if err else "")
        elif self.wall is None:
            self.error = "no 'done' line"
        return self


def moments(events):
    """Cut a timeline into moments: lists of events closer than GAP apart."""
    out, last = [], None
    for t, text in events:
        if last is None or t - last > GAP:
            out.append([])
        out[-1].append(text)
        last = t
    return [sorted(m) for m in out]


def first_difference(a, b):
    """The first moment where timelines a and b differ, as a short text."""
    ma, mb = moments(a.events), moments(b.events)
    for i in range(max(len(ma), len(mb))):
        x = ma[i] if i < len(ma) else ["(nothing)"]
        y = mb[i] if i < len(mb) else ["(nothing)"]
        if x != y:
            return (f"moment {i + 1}: {a.label}: {'; '.join(x)}\n"
                    f"{' ' * (len(str(i + 1)) + 9)}{b.label}: {'; '.join(y)}")
    return None


def same_order(a, b):
    return moments(a.events) == moments(b.events)


def fmt_wall(r):
    if r is None:
        return "-"
    if r.skipped:
        return "skipped"
    if r.error:
        return "FAILED"
    return f"{r.wall:.2f} s"


def run_example(name, args):
    """Run the four versions of one example; None where one is missing."""
    exe = os.path.join(args.build, "examples", name)
    twin = os.path.join(ROOT, "examples", "python", name + ".py")
    js = os.path.join(ROOT, "examples", "node", name + ".js")
    w1 = allc = py = nd = None
    if os.access(exe, os.X_OK):
        w1 = Run("goc --workers 1", [exe, "--workers", "1"]).execute(args.timeout)
        allc = Run("goc all cores", [exe]).execute(args.timeout)
    if os.path.exists(twin):
        py = Run("python", [args.python, twin]).execute(args.timeout)
    if os.path.exists(js):
        nd = Run("node", [args.node, js])
        if args.node_missing:
            nd.skipped = args.node_missing
        else:
            nd.execute(args.timeout)
    return w1, allc, py, nd


def order_cell(name, goc, py, model_has_workers, expected=None):
    if goc is None or py is None:
        return "-"
    if goc.error or py.error or goc.skipped or py.skipped:
        return "-"
    if same_order(goc, py):
        return "yes"
    if expected is None:
        expected = EXPECTED_DIFF if model_has_workers else {}
    if name in expected:
        return f"differs (expected: {expected[name]})"
    return "NO"


def print_table(rows, cores):
    head = ["example", "goc --workers 1", f"goc all cores ({cores})", "python asyncio",
            "node", "order: w1 = python", "order: all cores = python", "order: node = w1"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))


def clip(text, width):
    return text if len(text) <= width else text[:width - 1] + "~"


def print_demo(name, w1, allc, py, nd):
    """Both goc timelines of one example side by side, and Python's verdict."""
    print(f"\n=== {name}: " + DEMO[name].replace("\n", "\n    "))
    width = max(64, (shutil.get_terminal_size((132, 40)).columns - 4) // 2)
    left = w1.lines if w1 else ["(not built)"]
    right = allc.lines if allc else ["(not built)"]
    cores = allc.workers if allc and allc.workers else "?"
    print(f"  {'goc --workers 1: the asyncio model':{width}}  goc, {cores} workers: the Go model")
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        print(f"  {clip(a, width):{width}}  {clip(b, width)}")
    if py and not py.error and w1 and not w1.error:
        verdict = "the same events in the same order" if same_order(w1, py) else "a different order"
        print(f"  Python asyncio twin: {py.wall:.2f} s, {verdict} as goc --workers 1.")
    if nd and not nd.error and not nd.skipped and w1 and not w1.error:
        verdict = "the same events in the same order" if same_order(w1, nd) else "a different order"
        print(f"  Node.js twin: {nd.wall:.2f} s, {verdict} as goc --workers 1.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="the CMake build directory (default: build/)")
    ap.add_argument("--python", default=sys.executable or "python3",
                    help="the Python interpreter for the twins")
    ap.add_argument("--node", default="node",
                    help="the Node.js interpreter for the Node twins (default: node)")
    ap.add_argument("--only", default="", help="comma-separated example names")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per run")
    ap.add_argument("--strict", action="store_true",
                    help="also fail when a --workers 1 timeline differs from Python's")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every timeline")
    ap.add_argument("--demo", action="store_true",
                    help="the headline examples, timelines side by side (make demo)")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)

    names = list(DEMO) if args.demo else EXAMPLES
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in EXAMPLES + ON_REQUEST]
        if unknown:
            ap.error("unknown example(s): " + ", ".join(unknown))

    if shutil.which(args.python) is None and not os.path.exists(args.python):
        print(f"compare.py: no Python interpreter '{args.python}'", file=sys.stderr)
        return 1
    args.node_missing = None
    if shutil.which(args.node) is None and not os.access(args.node, os.X_OK):
        args.node_missing = (f"no Node.js interpreter '{args.node}' (Debian: apt-get install "
                             "nodejs; or --node PATH): the Node.js twins were skipped")

    rows, notes, failed, mismatched, cores = [], [], 0, 0, "?"
    t_start = time.monotonic()
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        w1, allc, py, nd = run_example(name, args)
        if allc and allc.workers:
            cores = str(allc.workers)
        multi = bool(allc and allc.workers and allc.workers > 1)
        row = [name, fmt_wall(w1), fmt_wall(allc), fmt_wall(py), fmt_wall(nd),
               order_cell(name, w1, py, False), order_cell(name, allc, py, multi),
               order_cell(name, nd, w1, False, NODE_DIFF)]
        if w1 is None:
            row[1] = row[2] = "not built"
            notes.append(f"{name}: {os.path.join(args.build, 'examples', name)} is not built")
        for r in (w1, allc, py, nd):
            if r is not None and r.error:
                failed += 1
                notes.append(f"{name}: {r.label} failed: {r.error}")
        if row[5] == "NO":
            mismatched += 1
            notes.append(f"{name}: --workers 1 and python differ at\n  "
                         + first_difference(w1, py))
        if row[6] == "NO":
            notes.append(f"{name}: all cores and python differ at\n  "
                         + first_difference(allc, py))
        if row[7] == "NO":
            mismatched += 1
            notes.append(f"{name}: node and --workers 1 differ at\n  "
                         + first_difference(nd, w1))
        rows.append(row)
        if args.demo:
            print_demo(name, w1, allc, py, nd)
        if args.verbose:
            for r in (w1, allc, py, nd):
                if r is not None and not r.skipped:
                    print(f"\n--- {name}: {r.label} ({' '.join(r.cmd)})")
                    print("\n".join(r.lines) if r.lines else "(no timeline)")
            print()

    print()
    print_table(rows, cores)
    print(f"\n{len(names)} examples in {time.monotonic() - t_start:.0f} s. Wall: each "
          "program's own 'done' time. Order: the same events at the same moments "
          f"(events < {GAP * 1000:.0f} ms apart count as simultaneous).")
    if args.node_missing:
        notes.insert(0, args.node_missing)
    for n in notes:
        print("note: " + n)
    if failed or (args.strict and mismatched):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
