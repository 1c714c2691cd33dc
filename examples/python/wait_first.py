"""wait_first - the first of several tasks to finish wins.

Twin of examples/wait_first.c: asyncio.wait(return_when=FIRST_COMPLETED)
as a race, a loop of it for the first success (Promise.any), and a timeout
that passes before any task is done.
"""
import asyncio

from exutil import log, run


class MirrorError(Exception):
    pass


async def ask_mirror(mid, delay, fails=False):
    try:
        await asyncio.sleep(delay)
    except asyncio.CancelledError:
        log(f"mirror {mid}: cancelled")
        raise
    if fails:
        log(f"mirror {mid}: failed")
        raise MirrorError("mirror failed")
    log(f"mirror {mid}: answered")
    return mid * 100


async def cancel_the_rest(tasks):
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def race():
    log("race: ask mirrors 1, 2, 3 (0.3 s, 0.1 s, 0.2 s)")
    tasks = {asyncio.create_task(ask_mirror(i, d)): i
             for i, d in ((1, 0.3), (2, 0.1), (3, 0.2))}
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    winner = done.pop()
    log(f"race: mirror {tasks[winner]} was first; cancel the others")
    await cancel_the_rest(pending)
    log(f"race: answer {winner.result()}")


async def first_success():
    log("first success: mirror 1 fails at 0.1 s, 2 answers at 0.2 s, 3 at 0.3 s")
    tasks = {asyncio.create_task(ask_mirror(i, d, f)): i
             for i, d, f in ((1, 0.1, True), (2, 0.2, False), (3, 0.3, False))}
    pending = set(tasks)
    winner = None
    while pending and winner is None:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            if t.exception() is None:
                winner = t
    log(f"first success: mirror {tasks[winner]}; cancel the others")
    await cancel_the_rest(pending)
    log(f"first success: answer {winner.result()}")


async def nobody_in_time():
    log("timeout: the same three mirrors, but wait at most 0.05 s")
    tasks = [asyncio.create_task(ask_mirror(i, d)) for i, d in ((1, 0.3), (2, 0.1), (3, 0.2))]
    done, pending = await asyncio.wait(tasks, timeout=0.05, return_when=asyncio.FIRST_COMPLETED)
    assert not done
    log("timeout: no mirror answered within 0.05 s; cancel them all")
    await cancel_the_rest(pending)
    log("timeout: all cancelled")


async def main():
    await race()
    await first_success()
    await nobody_in_time()


if __name__ == "__main__":
    run("wait_first", main, "the first task to finish wins")
