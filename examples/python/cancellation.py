"""cancellation - cancelling a task, and why cancellation is cooperative.

Twin of examples/cancellation.c.
  1. task.cancel() on a task parked in asyncio.sleep: CancelledError is
     raised there, the task cleans up, and awaiting it raises too.
  2. A task that computes for 0.3 s never awaits, so the event loop cannot
     even run the coroutine that wants to cancel it after 0.1 s: the cancel
     is issued 0.2 s late, and lands at the task's next await.
"""
import asyncio
import time

from exutil import log, run

STEP_S = 0.2
CANCEL_AT_S = 0.5
CRUNCH_S = 0.3
CRUNCH_WANT_S = 0.1


async def worker():
    step = 1
    while True:
        log(f"worker: step {step}")
        try:
            await asyncio.sleep(STEP_S)
        except asyncio.CancelledError:
            log(f"worker: cancelled during step {step}, cleaning up")
            raise
        step += 1


async def cancel_a_waiting_task():
    log("main: start the worker, cancel it at 0.5 s")
    t = asyncio.create_task(worker())
    await asyncio.sleep(CANCEL_AT_S)
    log("main: cancel the worker")
    t.cancel()
    try:
        await t
        how = "normally"
    except asyncio.CancelledError:
        how = "cancelled"
    log(f"main: the worker ended {how}")


def spin_for(seconds):
    x = 1
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(1000):
            x = (x * 6364136223846793005 + 1) & 0xFFFFFFFFFFFFFFFF


async def cruncher():
    log("cruncher: computing for 0.3 s without a blocking call")
    spin_for(CRUNCH_S)
    log("cruncher: done computing, now sleeps 0.1 s")
    try:
        await asyncio.sleep(0.1)
    except asyncio.CancelledError:
        log("cruncher: cancelled at its sleep")
        raise
    log("cruncher: finished without being cancelled")


async def cancel_a_computing_task():
    log("main: start the cruncher, cancel it at 0.1 s")
    t0 = time.monotonic()
    t = asyncio.create_task(cruncher())
    await asyncio.sleep(CRUNCH_WANT_S)
    log(f"main: cancel the cruncher | asked for 0.100 s, issued after {time.monotonic() - t0:.3f} s")
    t.cancel()
    try:
        await t
        how = "normally"
    except asyncio.CancelledError:
        how = "cancelled"
    log(f"main: the cruncher ended {how}")


async def main():
    await cancel_a_waiting_task()
    await cancel_a_computing_task()


if __name__ == "__main__":
    run("cancellation", main, "task.cancel(), and why it is cooperative")
