#!/usr/bin/env python3
"""goc_peer.py - the Python asyncio peer of goc-bench (see shared BENCHMARKS.md).

    python3 goc_peer.py <workload|all|list> [--workers N] [--n N] [--runs R] [--stack-size B]

The same workloads, checks and JSON lines as bench/goc-bench.c, written the
asyncio way. asyncio is one thread, one event loop: "workers" is always 1,
whatever --workers says (it is accepted so the same command line works).
--stack-size is accepted and ignored (asyncio coroutines have no stacks).

Each run is one asyncio.run() call and is timed inside the loop with
time.perf_counter_ns(); a workload runs once, and 4 more times if that run
took under 1 s, every figure being the median of the 5 (--runs R fixes the
count). idle always runs once.

Default sizes are goc-bench's except where CPython would take far too long
(over a minute): only cpu, which runs 2 jobs instead of 64 and scales its
"ms" to 64 jobs (see bench_cpu; the line carries a "note"). The "n" field
always says what was used.
"""
import asyncio
import gc
import statistics
import sys
import time

M64 = (1 << 64) - 1
AUTO_RUNS = 5


def xorshift64(x):
    """Marsaglia's xorshift64 (13, 7, 17), as in goc-bench.c."""
    x ^= (x << 13) & M64
    x ^= x >> 7
    x ^= (x << 17) & M64
    return x


def percentile(sorted_vals, p):
    """Nearest-rank percentile of a sorted list, 0 < p <= 1."""
    n = len(sorted_vals)
    exact = p * n
    rank = int(exact)
    if rank < exact:
        rank += 1
    return sorted_vals[min(max(rank, 1), n) - 1]


# ------------------------------------------------------------ JSON output

def fmt_num(v):
    """Like goc-bench: 3 decimals, trailing zeros trimmed."""
    if v != v or v in (float("inf"), float("-inf")):
        return "null"
    s = "%.3f" % v
    s = s.rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def emit(opts, n, value, unit, ok, **extra):
    """One JSON line: workload, workers, n, value, unit, extras..., ok."""
    parts = ['"workload":"%s"' % opts["workload"], '"workers":1', '"n":%d' % n,
             '"value":%s' % fmt_num(value), '"unit":"%s"' % unit]
    for k, v in extra.items():
        if isinstance(v, bool):
            parts.append('"%s":%s' % (k, "true" if v else "false"))
        elif isinstance(v, int):
            parts.append('"%s":%d' % (k, v))
        elif isinstance(v, float):
            parts.append('"%s":%s' % (k, fmt_num(v)))
        else:
            parts.append('"%s":"%s"' % (k, v))
    parts.append('"ok":%s' % ("true" if ok else "false"))
    print("{" + ",".join(parts) + "}", flush=True)


# ------------------------------------------------------------ running

def run_median(opts, measure):
    """measure() -> (ok, span_ns, [figures]); run it once, 4 more times if that
    took under 1 s (or exactly --runs times); medians per figure."""
    want = opts["runs"] or 1
    runs = []
    while len(runs) < want:
        r = measure()
        runs.append(r)
        if not r[0]:
            break
        if not opts["runs"] and len(runs) == 1 and r[1] < 1_000_000_000:
            want = AUTO_RUNS
    ok = all(r[0] for r in runs)
    figs = [statistics.median(r[2][i] for r in runs) for i in range(len(runs[0][2]))]
    return ok, figs


# ================================================================ spawn
# N tasks that each do nothing but count down a shared counter (the wg), the
# last one sets an Event the main coroutine waits on; ns per task.

def bench_spawn(opts):
    n = opts["n"]

    async def main():
        state = {"left": n}
        done = asyncio.Event()

        async def child():
            state["left"] -= 1
            if state["left"] == 0:
                done.set()

        t0 = time.perf_counter_ns()
        tasks = [asyncio.create_task(child()) for _ in range(n)]
        await done.wait()
        t1 = time.perf_counter_ns()
        ok = state["left"] == 0 and all(t.done() or not t.cancelled() for t in tasks)
        return ok, t1 - t0, [(t1 - t0) / n]

    ok, figs = run_median(opts, lambda: asyncio.run(main()))
    emit(opts, n, figs[0], "ns/coroutine", ok)
    return ok


# ================================================================ yield
# 2 tasks each await asyncio.sleep(0) N times; ns per switch = wall / 2N.

def bench_yield(opts):
    n = opts["n"]

    async def main():
        count = [0, 0]

        async def loop(k):
            i = 0
            while i < n:
                await asyncio.sleep(0)
                i += 1
            count[k] = i

        t0 = time.perf_counter_ns()
        await asyncio.gather(loop(0), loop(1))
        t1 = time.perf_counter_ns()
        return count == [n, n], t1 - t0, [(t1 - t0) / (2 * n)]

    ok, figs = run_median(opts, lambda: asyncio.run(main()))
    emit(opts, n, figs[0], "ns/switch", ok)
    return ok


# ================================================================ cpu
# N jobs, each 2^24 steps of xorshift64 summing the states, run as
# coroutines on the one loop. One job takes seconds in CPython, so the
# default is 2 jobs instead of 64 and "value" is scaled to 64 jobs
# (measured ms * 64 / n: with one thread the time is linear in the job
# count); "measured_ms" is the raw figure. The expected result is goc-bench's
# (CPU_EXPECTED, checked against one job computed here when n allows).

CPU_STEPS = 1 << 24
CPU_SEED = 0x9E3779B97F4A7C15
CPU_JOBS_REF = 64


def cpu_job(seed, steps):
    x, acc = seed, 0
    for _ in range(steps):
        x ^= (x << 13) & M64
        x ^= x >> 7
        x ^= (x << 17) & M64
        acc = (acc + x) & M64
    return acc ^ x


def bench_cpu(opts):
    n = opts["n"]
    results = [None] * n

    async def main():
        async def job(i):
            results[i] = cpu_job(CPU_SEED, CPU_STEPS)

        t0 = time.perf_counter_ns()
        await asyncio.gather(*(job(i) for i in range(n)))
        t1 = time.perf_counter_ns()
        return True, t1 - t0, [(t1 - t0) / 1e6]

    _, figs = run_median(opts, lambda: asyncio.run(main()))
    # Computed once, up front in goc-bench; here after the timed runs (same
    # job, same cost), so that a slow Python does not pay for it twice.
    expected = cpu_job(CPU_SEED, CPU_STEPS)
    ok = all(r == expected for r in results)
    measured = figs[0]
    extra = {"speedup": 1.0, "measured_ms": measured, "workers_seen": 1}
    if n != CPU_JOBS_REF:
        extra["note"] = "value scaled to %d jobs from n=%d (one thread: linear)" % (CPU_JOBS_REF, n)
    emit(opts, n, measured * CPU_JOBS_REF / n, "ms", ok, **extra)
    return ok


# ================================================================ idle
# N tasks parked on one asyncio.Event; RSS growth per task (VmRSS after all
# are parked - before, after gc.collect()), "pte_bytes" from VmPTE,
# "wake_ms" from gate.set() until all have exited. Always one run.

def proc_status_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def bench_idle(opts):
    n = opts["n"]

    async def main():
        gate = asyncio.Event()
        done = asyncio.Event()
        state = {"parked": 0, "left": n}

        async def child():
            state["parked"] += 1
            await gate.wait()
            state["left"] -= 1
            if state["left"] == 0:
                done.set()

        gc.collect()
        rss0, pte0 = proc_status_kb("VmRSS"), proc_status_kb("VmPTE")
        tasks = [asyncio.create_task(child()) for _ in range(n)]
        t0 = time.perf_counter_ns()
        while state["parked"] < n and time.perf_counter_ns() - t0 < 120e9:
            await asyncio.sleep(0.001)
        all_parked = state["parked"] == n
        await asyncio.sleep(0.02)
        rss1, pte1 = proc_status_kb("VmRSS"), proc_status_kb("VmPTE")

        w0 = time.perf_counter_ns()
        gate.set()
        if all_parked:
            await done.wait()
        w1 = time.perf_counter_ns()
        del tasks
        ok = all_parked and state["left"] == 0 and rss0 >= 0 and rss1 >= 0
        return ok, (rss1 - rss0) * 1024 / n, (pte1 - pte0) * 1024 / n, (w1 - w0) / 1e6

    ok, per, pte, wake_ms = asyncio.run(main())
    emit(opts, n, per, "bytes/coroutine", ok, wake_ms=wake_ms, pte_bytes=pte,
         parked_on="asyncio.Event",
         note="asyncio coroutines have no stacks; --stack-size does not apply")
    return ok


# ================================================================ timers
# N tasks each asyncio.sleep a pseudo-random 0..100 ms (same xorshift64
# draws as goc-bench); lateness = wake - deadline on the monotonic clock.
# value = p99 in µs, plus p50_us, p99_us, total_ms. Check: all woke and none
# early. asyncio may run a timer up to the clock's resolution early (its
# loop treats "when < now + resolution" as due); that much is allowed.

TIMER_SEED = 0x2545F4914F6CDD1D
TIMER_MAX_US = 100000


def bench_timers(opts):
    n = opts["n"]
    durs, x = [], TIMER_SEED
    for _ in range(n):
        x = xorshift64(x)
        durs.append((x % (TIMER_MAX_US + 1)) * 1000)  # ns
    slack_ns = int(time.get_clock_info("monotonic").resolution * 1e9) + 1

    async def main():
        late = [None] * n

        async def child(i):
            d = durs[i]
            deadline = time.monotonic_ns() + d
            await asyncio.sleep(d / 1e9)
            late[i] = time.monotonic_ns() - deadline

        t0 = time.perf_counter_ns()
        await asyncio.gather(*(child(i) for i in range(n)))
        t1 = time.perf_counter_ns()
        woke = all(v is not None for v in late)
        lat = sorted(late) if woke else [-1]
        ok = woke and lat[0] >= -slack_ns
        if not ok:
            print("timers: woke early by %d ns" % -lat[0], file=sys.stderr)
        return ok, t1 - t0, [percentile(lat, 0.5) / 1e3, percentile(lat, 0.99) / 1e3,
                             (t1 - t0) / 1e6]

    ok, figs = run_median(opts, lambda: asyncio.run(main()))
    emit(opts, n, figs[1], "us", ok, p50_us=figs[0], p99_us=figs[1], total_ms=figs[2])
    return ok


# ================================================================ the table

# name -> (function, default n, what); defaults smaller than goc-bench's
# where CPython would take far too long (the JSON's "n" says what ran).
WORKLOADS = {
    "spawn": (bench_spawn, 1_000_000, "N tasks that only count down; ns/coroutine"),
    "yield": (bench_yield, 5_000_000, "2 tasks sleep(0) N times each; ns/switch"),
    "cpu": (bench_cpu, 2, "N jobs of 2^24 xorshift64 steps; ms scaled to 64 (goc: 64)"),
    "idle": (bench_idle, 1_000_000, "N tasks parked on an Event; bytes/coroutine, wake_ms"),
    "timers": (bench_timers, 100_000, "N sleeps of 0..100 ms; lateness p99 us"),
}


def usage():
    print("usage: goc_peer.py <workload|all|list> [--workers N] [--n N] [--runs R]"
          " [--stack-size B]", file=sys.stderr)
    for name, (_, _, what) in WORKLOADS.items():
        print("  %-9s %s" % (name, what), file=sys.stderr)


def parse_opts(args):
    opts = {"n": None, "runs": 0, "workers": 1, "stack_size": 0}
    i = 0
    while i < len(args):
        name, val = args[i], None
        if "=" in name:
            name, val = name.split("=", 1)
        elif i + 1 < len(args):
            i += 1
            val = args[i]
        i += 1
        if val is None:
            raise ValueError("%s needs a value" % name)
        v = int(val)
        if v < 0:
            raise ValueError("bad value for %s" % name)
        key = {"--workers": "workers", "--n": "n", "--runs": "runs",
               "--stack-size": "stack_size"}.get(name)
        if key is None:
            raise ValueError("unknown option %s" % name)
        if key == "n" and v < 1:
            raise ValueError("--n must be >= 1")
        opts[key] = v
    return opts


def main():
    if len(sys.argv) < 2:
        usage()
        return 2
    if sys.argv[1] == "list":
        print("\n".join(WORKLOADS))
        return 0
    try:
        given = parse_opts(sys.argv[2:])
    except ValueError as e:
        print("goc_peer.py:", e, file=sys.stderr)
        usage()
        return 2
    names = list(WORKLOADS) if sys.argv[1] == "all" else [sys.argv[1]]
    ok = True
    for name in names:
        if name not in WORKLOADS:
            print("goc_peer.py: unknown workload %r" % name, file=sys.stderr)
            usage()
            return 2
        fn, default_n, _ = WORKLOADS[name]
        opts = dict(given, workload=name)
        if opts["n"] is None:
            opts["n"] = default_n
        ok = fn(opts) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
