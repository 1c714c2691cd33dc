"""fetch_many - fetch 10 URLs concurrently, at most 3 at a time, from a
local HTTP server.

Twin of examples/fetch_many.c (same timeline). A tiny asyncio HTTP server
on 127.0.0.1 answers /page/N after a delay of its own (0.2-0.6 s); the
client fetches the ten pages with asyncio streams, first all at once (the
batch takes as long as the slowest page, the server sees ten at a time),
then through asyncio.Semaphore(3): never more than three in flight, a
freed permit starts the next page at once. The main coroutine acquires
before it creates each task and the task releases when done, so pages
start in list order (`async with sem:` inside each task bounds them the
same way).
"""
import asyncio
import re
import time

from exutil import log, run

NPAGES = 10
LIMIT = 3
IO_TIMEOUT_S = 5.0
# ms the server takes over each page (as in fetch_many.c)
PAGE_DELAY_MS = [300, 200, 600, 200, 200, 500, 600, 400, 400, 200]


class Site:
    """The server's counters."""

    def __init__(self):
        self.in_flight = 0
        self.most = 0


def server_for(site):
    async def handle(reader, writer):
        site.in_flight += 1
        site.most = max(site.most, site.in_flight)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IO_TIMEOUT_S)
            m = re.match(rb"GET /page/(\d+) HTTP/1\.", head)
            page = int(m.group(1)) if m else 0
            if 1 <= page <= NPAGES:
                ms = PAGE_DELAY_MS[page - 1]
                await asyncio.sleep(ms / 1000)  # the slow backend
                status, body = "200 OK", "page %d, after %d ms" % (page, ms)
            else:
                status, body = "404 Not Found", "no such page"
            writer.write(("HTTP/1.1 %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                          % (status, len(body), body)).encode())
            await writer.drain()
        finally:
            site.in_flight -= 1
            writer.close()
    return handle


async def fetch(port, page):
    """GET /page/N: (status, body)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port),
                                            IO_TIMEOUT_S)
    try:
        writer.write(b"GET /page/%d HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                     % page)
        resp = await asyncio.wait_for(reader.read(), IO_TIMEOUT_S)  # until the server closes
    finally:
        writer.close()
    head, _, body = resp.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


class Fetcher:
    def __init__(self, port, sem, log_each):
        self.port, self.sem, self.log_each = port, sem, log_each
        self.in_flight = 0
        self.most = 0


async def fetch_task(f, page):
    try:
        status, body = await fetch(f.port, page)
        f.in_flight -= 1
        if f.log_each:
            log(f'done  /page/{page}: {status} "{body}"')
        assert status == 200, status
    finally:
        if f.sem:
            f.sem.release()  # the next page may start


async def fetch_all(f):
    t0 = time.monotonic()
    tasks = []
    for i in range(1, NPAGES + 1):
        if f.sem:
            await f.sem.acquire()
        f.in_flight += 1
        f.most = max(f.most, f.in_flight)
        if f.log_each:
            log(f"start /page/{i} | {f.in_flight} in flight")
        tasks.append(asyncio.create_task(fetch_task(f, i)))
    await asyncio.gather(*tasks)
    return time.monotonic() - t0


async def main():
    site = Site()
    server = await asyncio.start_server(server_for(site), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    log(f"server: listening, pages take 0.2-0.6 s each | 127.0.0.1:{port}")

    log(f"unbounded: fetch all {NPAGES} pages at once")
    secs = await fetch_all(Fetcher(port, None, False))
    log(f"unbounded: all {NPAGES} done; the server saw {site.most} at once | took {secs:.3f} s")

    site.most = 0
    log(f"bounded: fetch {NPAGES} pages, at most {LIMIT} at a time (a semaphore)")
    bounded = Fetcher(port, asyncio.Semaphore(LIMIT), True)
    secs = await fetch_all(bounded)
    log(f"bounded: all {NPAGES} done; at most {bounded.most} in flight, the server saw "
        f"{site.most} at once | took {secs:.3f} s, one at a time would take "
        f"{sum(PAGE_DELAY_MS) / 1000:.1f} s")
    assert bounded.most <= LIMIT and site.most <= LIMIT

    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    run("fetch_many", main, "10 pages from a local HTTP server, at most 3 at a time")
