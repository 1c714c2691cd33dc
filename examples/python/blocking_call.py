"""blocking_call - a blocking call inside a coroutine, and the way out.

Twin of examples/blocking_call.c. A ticker prints a tick every 100 ms while
another coroutine makes a 0.5 s blocking call: time.sleep straight from the
coroutine stops the one event loop (the ticks stop for 0.5 s);
asyncio.to_thread runs it on a thread and the ticks go on.
"""
import asyncio
import time

from exutil import log, run

TICK_S = 0.1
NTICKS = 8
BLOCK_AT_S = 0.25
BLOCK_S = 0.5


class Phase:
    def __init__(self, name, offload):
        self.name = name
        self.offload = offload
        self.max_gap = 0.0


async def ticker(p):
    last = time.monotonic()
    for i in range(1, NTICKS + 1):
        await asyncio.sleep(TICK_S)
        now = time.monotonic()
        p.max_gap = max(p.max_gap, now - last)
        last = now
        log(f"{p.name}: tick {i}")


def blocking_io():
    time.sleep(BLOCK_S)


async def blocker(p):
    await asyncio.sleep(BLOCK_AT_S)
    if p.offload:
        log(f"{p.name}: blocker runs the 0.5 s call on a thread | asyncio.to_thread")
        await asyncio.to_thread(blocking_io)
    else:
        log(f"{p.name}: blocker makes a 0.5 s blocking call")
        blocking_io()
    log(f"{p.name}: blocker is back")


async def run_phase(p):
    log(f"{p.name}: start the ticker and the blocker")
    t = asyncio.create_task(ticker(p))
    b = asyncio.create_task(blocker(p))
    await t
    await b
    log(f"{p.name}: both done | longest gap between ticks {p.max_gap:.2f} s")


async def main():
    await run_phase(Phase("direct", False))
    await run_phase(Phase("to_thread", True))


if __name__ == "__main__":
    run("blocking_call", main, "a blocking call freezes the event loop; asyncio.to_thread does not")
