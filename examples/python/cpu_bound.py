"""cpu_bound - CPU work gets no speedup from asyncio.

Twin of examples/cpu_bound.c. One job is timed alone, then 8 copies run as
tasks at once. A task that never awaits keeps the event loop until it
ends, so the jobs run one after another: the speedup is about 1x, as with
goc --workers 1. (Threads would not help either: the GIL lets one run
Python code at a time; goc with all cores and Go do run them in parallel.)
"""
import asyncio
import time

from exutil import log, run

NJOBS = 8
JOB_STEPS = 1 << 19   # about 0.1 s of pure Python on one core
MASK = (1 << 64) - 1


def cpu_job(seed):
    x = (seed * 0x9E3779B97F4A7C15 + 1) & MASK
    for _ in range(JOB_STEPS):
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
    return x


class Counter:
    done = 0


async def job_task(seed, counter):
    x = cpu_job(seed)
    counter.done += 1
    log(f"{counter.done} of {NJOBS} jobs done")
    return x


async def main():
    log("one job alone: start")
    t = time.monotonic()
    expect = cpu_job(1)
    one = time.monotonic() - t
    log(f"one job alone: done | {one:.3f} s")

    log(f"{NJOBS} jobs at once: start")
    counter = Counter()
    t = time.monotonic()
    tasks = [asyncio.create_task(job_task(1, counter)) for _ in range(NJOBS)]
    results = [await task for task in tasks]
    assert all(r == expect for r in results)
    elapsed = time.monotonic() - t
    speedup = NJOBS * one / elapsed
    log(f"{NJOBS} jobs at once: all done | speedup {speedup:.2f}x ({elapsed:.3f} s)")
    print(f"# speedup {speedup:.2f} ({NJOBS} jobs, 1 thread)")


if __name__ == "__main__":
    run("cpu_bound", main, "8 CPU jobs on asyncio's one thread")
