"""producer_consumer - a bounded queue between a fast producer and a slow
consumer: backpressure.

Twin of examples/producer_consumer.c: asyncio.Queue(maxsize=2), put parks
while the queue is full, queue.join() waits for task_done on every item,
and a None sentinel ends the consumer (Queue.shutdown needs Python 3.13).
"""
import asyncio

from exutil import log, run

NITEMS = 6
QUEUE_MAX = 2
PROCESS_S = 0.3


async def consumer(q):
    while True:
        item = await q.get()
        if item is None:
            log("consumer: no more items, exiting")
            return
        log(f"consumer: got item {item}")
        await asyncio.sleep(PROCESS_S)
        q.task_done()


async def main():
    q = asyncio.Queue(maxsize=QUEUE_MAX)
    log(f"producer: {NITEMS} items into a queue of at most {QUEUE_MAX}; "
        "the consumer takes 0.3 s each")
    c = asyncio.create_task(consumer(q))
    for i in range(1, NITEMS + 1):
        await q.put(i)
        log(f"producer: put item {i} | {q.qsize()} queued")
    log("producer: all items queued; wait until every one is processed")
    await q.join()
    log("producer: every item processed; close the queue")
    await q.put(None)
    await c


if __name__ == "__main__":
    run("producer_consumer", main, "a bounded queue and backpressure")
