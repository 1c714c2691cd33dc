'use strict';
/*
 * echo_server - a TCP echo server: one handler per connection.
 *
 * Node.js twin of examples/echo_server.c (same timeline). net.createServer
 * calls serveConn for each connection; it reads what came and writes it
 * back, until the peer closes (here with the socket as an async iterator,
 * the blocking-style loop goc's coroutine writes; 'data' events are the
 * callback form of the same). The demo staggers three clients (client k
 * connects at k x 0.1 s and sends a line every 0.3 s); the one event loop
 * serves all three at once. (The C program's --serve mode has no twin
 * here: see bench/peers/node/goc_peer.js echo-server.)
 */
const net = require('node:net');
const { once } = require('node:events');
const { log, run, sleep } = require('./exutil');

const NCLIENTS = 3;
const NLINES = 3;

function serveConnFor(s) {
    return async (sock) => {
        s.served++;
        s.open++;
        try {
            for await (const data of sock) {           // Go: conn.Read
                if (!sock.write(data))                 // Go: conn.Write
                    await once(sock, 'drain');
                s.echoed += data.length;
            }
        } catch {
            // the peer went away
        } finally {
            sock.end();
            if (--s.open === 0 && s.allClosed)
                s.allClosed();
        }
    };
}

/* Read exactly n bytes from sock (reader.readexactly), at most 5 s. */
function readExactly(sock, n) {
    return new Promise((resolve, reject) => {
        let got = Buffer.alloc(0);
        const timer = setTimeout(() => done(new Error('echo timed out')), 5000);
        const onData = (chunk) => {
            got = Buffer.concat([got, chunk]);
            if (got.length >= n)
                done(null);
        };
        const onEnd = () => done(new Error('connection closed early'));
        function done(err) {
            clearTimeout(timer);
            sock.off('data', onData);
            sock.off('end', onEnd);
            sock.off('error', done);
            err ? reject(err) : resolve(got);
        }
        sock.on('data', onData);
        sock.on('end', onEnd);
        sock.on('error', done);
    });
}

async function client(port, k) {
    await sleep(k * 0.1);
    const sock = net.connect(port, '127.0.0.1');
    await once(sock, 'connect');
    try {
        for (let j = 1; j <= NLINES; j++) {
            const line = `line ${j} from client ${k}`;
            sock.write(line);
            const echo = await readExactly(sock, Buffer.byteLength(line));
            log(`client ${k}: sent "${echo.toString()}", got it back`);
            if (echo.toString() !== line)
                throw new Error(`client ${k}: the echo differs`);
            if (j < NLINES)
                await sleep(0.3);
        }
    } finally {
        sock.end(); // the server's read sees the end of the stream
    }
}

async function main() {
    const s = { served: 0, echoed: 0, open: 0, allClosed: null };
    const server = net.createServer(serveConnFor(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = server.address().port;
    log(`server: listening; ${NCLIENTS} clients connect 0.1 s apart, each sends ${NLINES} lines` +
        ` | 127.0.0.1:${port}`);
    const clients = [];
    for (let k = 1; k <= NCLIENTS; k++)
        clients.push(client(port, k));
    await Promise.all(clients);
    if (s.open > 0)
        await new Promise((resolve) => { s.allClosed = resolve; }); // every connection has ended
    log(`server: served ${s.served} connections, echoed ${s.echoed} bytes`);
    server.close();
    await once(server, 'close');
}

run('echo_server', main, 'a TCP echo server, one handler per connection');
