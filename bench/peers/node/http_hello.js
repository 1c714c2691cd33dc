#!/usr/bin/env node
'use strict';
/*
 * http_hello.js - the Node.js twin of examples/http_hello.c.
 *
 *   node bench/peers/node/http_hello.js [--port 8080] [--host 127.0.0.1]
 *   wrk -t2 -c64 -d5s http://127.0.0.1:8080/
 *
 * An HTTP/1.1 server answering "hello" with keep-alive, on Node's http
 * module (the server the Node docs write): one request handler for every
 * request, the parsing (llhttp), keep-alive and pipelining being the
 * module's. The answer carries the headers Go's net/http sends for the
 * same handler (Date, which the module adds, Content-Length, Content-Type);
 * the module also adds "Connection: keep-alive". keepAliveTimeout is 0:
 * no idle timeout, as http_hello.c and Go's http.ListenAndServe. (Unlike
 * them, the module also takes a chunked request body.) One thread, one
 * libuv event loop; --workers is accepted and ignored.
 */
const http = require('node:http');

const BODY = Buffer.from('hello');
const HEADERS = { 'Content-Length': String(BODY.length),
                  'Content-Type': 'text/plain; charset=utf-8' };

function parseArgs(argv) {
    const opts = { host: '127.0.0.1', port: 8080 };
    for (let i = 0; i < argv.length; i++) {
        const [name, inline] = argv[i].split('=', 2);
        const val = inline !== undefined ? inline : argv[++i];
        if (val === undefined)
            throw new Error(`${name} needs a value`);
        if (name === '--host') {
            opts.host = val;
        } else if (name === '--port' || name === '--workers') {
            const v = Number(val);
            if (!Number.isInteger(v) || v < 0 || v > 65535)
                throw new Error(`bad value for ${name}`);
            if (name === '--port')
                opts.port = v;
        } else {
            throw new Error(`unknown option ${name}`);
        }
    }
    return opts;
}

function main() {
    let opts;
    try {
        opts = parseArgs(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`http_hello: ${e.message}\n` +
                             'usage: http_hello.js [--port 8080] [--host 127.0.0.1] [--workers N]\n');
        process.exit(2);
    }
    const server = http.createServer((req, res) => {
        res.writeHead(200, HEADERS);
        res.end(req.method === 'HEAD' ? undefined : BODY);
    });
    server.keepAliveTimeout = 0;
    server.on('error', (e) => {
        process.stderr.write(`http_hello: ${e.message}\n`);
        process.exit(1);
    });
    server.listen(opts.port, opts.host, () => {
        process.stdout.write(`http_hello (Node.js): listening on http://${opts.host}:` +
                             `${server.address().port}/ (1 thread)\n`);
    });
}

main();
