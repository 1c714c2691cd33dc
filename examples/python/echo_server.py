"""echo_server - a TCP echo server: one task per connection.

Twin of examples/echo_server.c (same timeline). asyncio.start_server runs
serve_conn as a task for each connection: read what came, write it back,
until the peer closes. The demo staggers three clients (client k connects
at k x 0.1 s and sends a line every 0.3 s); the one event loop serves all
three at once. (The C program's --serve mode has no twin here: see
bench/peers/python/goc_peer.py echo-server.)
"""
import asyncio

from exutil import log, run

NCLIENTS = 3
NLINES = 3
BUF_SIZE = 4096


class Server:
    def __init__(self):
        self.served = 0
        self.echoed = 0
        self.open = 0
        self.all_closed = asyncio.Event()


def serve_conn_for(s):
    async def serve_conn(reader, writer):
        s.served += 1
        s.open += 1
        s.all_closed.clear()
        try:
            while data := await reader.read(BUF_SIZE):  # Go: conn.Read
                writer.write(data)                       # Go: conn.Write
                await writer.drain()
                s.echoed += len(data)
        finally:
            writer.close()
            s.open -= 1
            if s.open == 0:
                s.all_closed.set()
    return serve_conn


async def client(port, k):
    await asyncio.sleep(k * 0.1)
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    try:
        for j in range(1, NLINES + 1):
            line = f"line {j} from client {k}".encode()
            writer.write(line)
            echo = await asyncio.wait_for(reader.readexactly(len(line)), 5)
            log(f'client {k}: sent "{echo.decode()}", got it back')
            assert echo == line
            if j < NLINES:
                await asyncio.sleep(0.3)
    finally:
        writer.close()  # the server's read returns b"": end of stream


async def main():
    s = Server()
    server = await asyncio.start_server(serve_conn_for(s), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    log(f"server: listening; {NCLIENTS} clients connect 0.1 s apart, each sends {NLINES} lines"
        f" | 127.0.0.1:{port}")
    await asyncio.gather(*(client(port, k) for k in range(1, NCLIENTS + 1)))
    await s.all_closed.wait()  # every connection has ended
    log(f"server: served {s.served} connections, echoed {s.echoed} bytes")
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    run("echo_server", main, "a TCP echo server, one task per connection")
