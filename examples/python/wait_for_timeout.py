"""wait_for_timeout - put a time limit on a task.

Twin of examples/wait_for_timeout.c: asyncio.wait_for cancels the task
when the limit passes; on a queue, wait_for(queue.get()) is the Go
select-with-timeout.
"""
import asyncio

from exutil import log, run

LIMIT_S = 0.5


async def operation(seconds):
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        log("operation: cancelled, cleaning up")
        raise
    log("operation: finished")
    return 42


async def limit(seconds, label):
    log(f"{label}: start an operation of {seconds:.1f} s with a 0.5 s limit")
    try:
        result = await asyncio.wait_for(operation(seconds), LIMIT_S)
        log(f"{label}: got result {result}")
    except asyncio.TimeoutError:
        log(f"{label}: timed out")


async def producer(q):
    await asyncio.sleep(LIMIT_S)
    q.put_nowait(7)
    log("channel: the producer sent its value, too late")


async def select_with_timeout():
    q = asyncio.Queue(maxsize=1)
    log("channel: wait at most 0.3 s for a value that comes after 0.5 s")
    asyncio.create_task(producer(q))
    try:
        await asyncio.wait_for(q.get(), 0.3)
    except asyncio.TimeoutError:
        log("channel: timed out")
    await asyncio.sleep(0.3)
    log(f"channel: {q.qsize()} value left unread in the buffer")


async def main():
    await limit(1.0, "slow")
    await limit(0.2, "fast")
    await select_with_timeout()


if __name__ == "__main__":
    run("wait_for_timeout", main, "a time limit on a task")
