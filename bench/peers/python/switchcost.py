#!/usr/bin/env python3
"""switchcost.py - asyncio's figures for bench/switchcost.c's table.

    python3 bench/peers/python/switchcost.py [--quick] [--json] [--goc PATH]

  task switch     two asyncio tasks take turns with `await asyncio.sleep(0)`
                  (goc: goc_yield); ns per switch, median of 5 runs
  queue hand-off  two tasks bounce a value over two asyncio.Queue(1)
                  (goc: unbuffered channels); ns per hand-off
  memory          N tasks parked on one asyncio.Event; resident set growth
                  per task (goc: coroutines parked on a channel)

With --goc PATH (build/bench/switchcost), runs that program too (--json)
and prints one table with goc, OS threads, OS processes and asyncio side
by side, measured on this machine in this run. JSON lines as goc-bench's.
"""
import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time

RUNS = 5


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def yielder(n):
    for _ in range(n):
        await asyncio.sleep(0)


async def task_switch_once(n):
    t = time.perf_counter()
    await asyncio.gather(yielder(n), yielder(n))
    return (time.perf_counter() - t) * 1e9 / (2 * n)


async def echo(n, ping, pong):
    for _ in range(n):
        await pong.put(await ping.get())


async def serve(n, ping, pong):
    for i in range(n):
        await ping.put(i)
        if await pong.get() != i:
            raise RuntimeError("lost a value")


async def queue_handoff_once(n):
    ping, pong = asyncio.Queue(1), asyncio.Queue(1)
    t = time.perf_counter()
    await asyncio.gather(echo(n, ping, pong), serve(n, ping, pong))
    return (time.perf_counter() - t) * 1e9 / (2 * n)


async def memory_per_task(n):
    gc.collect()
    event = asyncio.Event()
    before = rss_bytes()
    tasks = [asyncio.create_task(event.wait()) for _ in range(n)]
    await asyncio.sleep(0.01)  # every task runs up to its wait
    parked = rss_bytes()
    event.set()
    await asyncio.gather(*tasks)
    return (parked - before) / n


def median_of(fn, n):
    return statistics.median(asyncio.run(fn(n)) for _ in range(RUNS))


def measure(args):
    return [
        ("switch", "asyncio-task-sleep0", args.n, median_of(task_switch_once, args.n), "ns/switch"),
        ("switch", "asyncio-queue", args.n // 2, median_of(queue_handoff_once, args.n // 2),
         "ns/switch"),
        ("memory", "asyncio-task", args.idle, asyncio.run(memory_per_task(args.idle)),
         "bytes/idle"),
    ]


def json_line(workload, impl, n, value, unit):
    return json.dumps({"workload": workload, "impl": impl, "n": n, "value": round(value, 1),
                       "unit": unit, "ok": value > 0}, separators=(",", ":"))


def run_goc(path, quick):
    cmd = [path, "--json"] + (["--quick"] if quick else [])
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=600)
    figures = {}
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            print(line)
            d = json.loads(line)
            figures[d["impl"]] = d["value"] if d.get("ok") else None
    return figures, p.returncode


def fmt(v, unit=""):
    if v is None:
        return "failed"
    if v >= 100:
        return f"{v:,.0f}{unit}"
    return f"{v:.1f}{unit}"


def side_by_side(goc, py):
    """The articles' table, measured: one row per figure."""
    rows = [
        ("switch, ns (lower is better)",
         fmt(goc.get("goc-coroutine-yield")), fmt(goc.get("thread-futex")),
         fmt(goc.get("process-pipe")), fmt(py["asyncio-task-sleep0"])),
        ("hand-off over a channel / pipe / queue, ns",
         fmt(goc.get("goc-coroutine-channel")), fmt(goc.get("thread-pipe")),
         fmt(goc.get("process-pipe")), fmt(py["asyncio-queue"])),
        ("memory per idle task, bytes",
         fmt(goc.get("goc-coroutine")) + (f" ({fmt(goc['goc-coroutine-2k'])} with 2 KiB stacks)"
                                          if goc.get("goc-coroutine-2k") else ""),
         f"{fmt(goc.get('thread'))} + {fmt(goc.get('thread-kernel-stack'))} kernel",
         "-", fmt(py["asyncio-task"])),
    ]
    head = ("", "goc coroutine", "OS thread", "OS process", "asyncio task")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for r in rows:
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000, help="switches per run")
    ap.add_argument("--idle", type=int, default=10_000, help="idle tasks")
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    ap.add_argument("--json", action="store_true", help="only the JSON lines")
    ap.add_argument("--goc", metavar="PATH", help="bench/switchcost to run beside")
    args = ap.parse_args()
    if args.quick:
        args.n, args.idle = 20_000, 2_000

    goc, goc_rc = ({}, 0)
    if args.goc:
        goc, goc_rc = run_goc(args.goc, args.quick)
    figures = measure(args)
    for f in figures:
        print(json_line(*f))
    if args.json:
        return 0
    py = {impl: value for _, impl, _, value, _ in figures}
    if args.goc:
        print(f"\nCost of a switch and of an idle task, on this machine, in this run "
              f"(Python {sys.version.split()[0]}):\n")
        print(side_by_side(goc, py))
        print("\nswitch: goc_yield between 2 coroutines on 1 worker; 2 threads or 2 processes "
              "pinned to one CPU\ntaking turns through a futex / pipes; asyncio: "
              "`await asyncio.sleep(0)` between 2 tasks.\nhand-off: unbuffered goc "
              "channels; pipes; asyncio.Queue(1). memory: resident set growth per parked\n"
              "coroutine / blocked thread / parked task; a thread also costs a kernel stack "
              "(KernelStack).")
    else:
        print("\nasyncio (Python %s), this machine:" % sys.version.split()[0])
        for workload, impl, n, value, unit in figures:
            print(f"  {impl:24} {value:12.1f} {unit}")
    return 1 if goc_rc else 0


if __name__ == "__main__":
    sys.exit(main())
