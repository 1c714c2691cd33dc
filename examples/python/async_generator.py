"""async_generator - a stream of values produced on demand.

Twin of examples/async_generator.c: an async generator consumed with
`async for` runs only when asked for the next value (lazy: 0.3 s a page);
a producer task feeding a Queue(maxsize=1) runs ahead (eager: 0.2 s a
page) and has to be cancelled to stop.
"""
import asyncio
import contextlib

from exutil import log, run

FETCH_S = 0.2
PROCESS_S = 0.1
MAX_PAGES = 10
WANT_PAGES = 3


async def pages():
    page = 0
    try:
        for page in range(1, MAX_PAGES + 1):
            log(f"lazy producer: fetching page {page}")
            await asyncio.sleep(FETCH_S)
            yield page
    except GeneratorExit:
        log(f"lazy producer: closed after page {page}, cleaning up")
        raise


async def lazy():
    log(f"lazy: consume {WANT_PAGES} pages from a generator")
    got = 0
    async with contextlib.aclosing(pages()) as gen:
        async for page in gen:
            got += 1
            log(f"lazy consumer: got page {page}")
            await asyncio.sleep(PROCESS_S)
            if got == WANT_PAGES:
                log("lazy consumer: had enough, close the generator")
                break
    log("lazy: generator closed")


async def channel_producer(q):
    page = 0
    try:
        for page in range(1, MAX_PAGES + 1):
            log(f"eager producer: fetching page {page}")
            await asyncio.sleep(FETCH_S)
            await q.put(page)
    except asyncio.CancelledError:
        log(f"eager producer: cancelled while on page {page}, cleaning up")
        raise


async def eager():
    log(f"eager: consume {WANT_PAGES} pages from a producer task and a channel of 1")
    q = asyncio.Queue(maxsize=1)
    p = asyncio.create_task(channel_producer(q))
    for _ in range(WANT_PAGES):
        page = await q.get()
        log(f"eager consumer: got page {page}")
        await asyncio.sleep(PROCESS_S)
    log("eager consumer: had enough, cancel the producer")
    p.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await p
    log("eager: producer stopped")


async def main():
    await lazy()
    await eager()


if __name__ == "__main__":
    run("async_generator", main, "values produced on demand")
