"""sync_vs_async - three waits of 1 s: one after another, then together.

Twin of examples/sync_vs_async.c (same timeline). Awaiting three 1 s
operations in turn takes 3 s; creating three tasks and awaiting them all
takes about 1 s on the one thread of the event loop.
"""
import asyncio
import time

from exutil import log, run

WAIT_S = 1.0
NWAITS = 3


async def request(i):
    await asyncio.sleep(WAIT_S)
    log(f"concurrent: request {i} done")


async def one_after_another():
    log(f"sequential: {NWAITS} requests of 1 s, one after another")
    t = time.monotonic()
    for i in range(1, NWAITS + 1):
        await asyncio.sleep(WAIT_S)
        log(f"sequential: request {i} done")
    log(f"sequential: all done | took {time.monotonic() - t:.3f} s")


async def all_together():
    log(f"concurrent: {NWAITS} requests of 1 s as tasks, all at once")
    t = time.monotonic()
    tasks = [asyncio.create_task(request(i)) for i in range(1, NWAITS + 1)]
    for task in tasks:
        await task
    log(f"concurrent: all done | took {time.monotonic() - t:.3f} s")


async def main():
    await one_after_another()
    await all_together()


if __name__ == "__main__":
    run("sync_vs_async", main, "three 1 s waits, one after another, then together")
