#!/usr/bin/env python3
"""http_hello.py - the Python asyncio twin of examples/http_hello.c.

    python3 bench/peers/python/http_hello.py [--port 8080] [--host 127.0.0.1]
    wrk -t2 -c64 -d5s http://127.0.0.1:8080/

An HTTP/1.1 server answering "hello" with keep-alive, on asyncio streams
(asyncio.start_server): one handler task per connection reads a request
head with readuntil, skips a Content-Length body, and writes the answer
with the headers Go's net/http sends (Date, Content-Length, Content-Type).
HTTP/1.0 keeps the connection only when asked; "Connection: close" closes
it; a chunked body gets 501, a malformed request 400. Pipelined requests
are answered in order (one write each). Only the standard library: this is the server the
asyncio articles write, one thread and one event loop. --workers is
accepted and ignored (asyncio has one thread).
"""
import argparse
import asyncio
import sys
from email.utils import formatdate

HEAD_MAX = 8192


class DateCache:
    """The Date header, made once per second."""

    def __init__(self, loop):
        self.loop, self.sec, self.value = loop, None, b""

    def get(self):
        now = int(self.loop.time())
        if now != self.sec:
            self.sec = now
            self.value = formatdate(usegmt=True).encode()
        return self.value


def parse_head(head):
    """(status, keep_alive, http10, head_only, body_length) for one head."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or parts[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
        return 400, False, False, False, 0
    http10 = parts[2] == b"HTTP/1.0"
    keep_alive, status, length = not http10, 200, 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        value = value.strip().lower()
        if name == b"connection":
            if b"close" in value:
                keep_alive = False
            elif b"keep-alive" in value:
                keep_alive = True
        elif name == b"content-length":
            if not value.isdigit():
                status = 400
            else:
                length = int(value)
        elif name == b"transfer-encoding":
            status = 501
    return status, keep_alive, http10, parts[0] == b"HEAD", length


REASONS = {200: b"OK", 400: b"Bad Request", 431: b"Request Header Fields Too Large",
           501: b"Not Implemented"}


def answer(status, keep_alive, http10, head_only, date):
    body = b"hello" if status == 200 else REASONS[status]
    conn = (b"" if keep_alive and not http10 else
            b"Connection: keep-alive\r\n" if keep_alive else b"Connection: close\r\n")
    return b"".join([b"HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Length: %d\r\n"
                     b"Content-Type: text/plain; charset=utf-8\r\n" % (status, REASONS[status],
                                                                       date, len(body)),
                     conn, b"\r\n", b"" if head_only else body])


async def serve_conn(reader, writer, dates):
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break  # the client closed
            except asyncio.LimitOverrunError:
                writer.write(answer(431, False, False, False, dates.get()))
                break
            status, keep_alive, http10, head_only, length = parse_head(head[:-4])
            if status == 200 and length:
                await reader.readexactly(length)
            if status != 200:
                keep_alive = False
            writer.write(answer(status, keep_alive, http10, head_only, dates.get()))
            await writer.drain()
            if not keep_alive:
                break
    except (OSError, asyncio.IncompleteReadError):
        pass  # the client went away
    finally:
        writer.close()


async def main(host, port):
    dates = DateCache(asyncio.get_running_loop())
    server = await asyncio.start_server(lambda r, w: serve_conn(r, w, dates), host, port,
                                        limit=HEAD_MAX)
    bound = server.sockets[0].getsockname()[1]
    print("http_hello (Python asyncio): listening on http://%s:%d/ (1 thread)" % (host, bound),
          flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="HTTP/1.1 keep-alive server answering hello")
    ap.add_argument("--port", type=int, default=8080, help="0 picks a free one")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--workers", type=int, default=1, help="ignored: asyncio has one thread")
    args = ap.parse_args()
    try:
        asyncio.run(main(args.host, args.port))
    except OSError as e:
        sys.exit("http_hello: %s" % e)
