#!/usr/bin/env node
'use strict';
/*
 * goc_peer.js - the Node.js peer of goc-bench (see shared BENCHMARKS.md).
 *
 *   node goc_peer.js <workload|all|list> [--workers N] [--n N] [--runs R]
 *   node goc_peer.js echo-server --port P [--host H]
 *
 * The workloads of goc-bench that have a natural JavaScript form, with the
 * same checks and JSON lines as goc-bench (bench/bench_*.c) and the Python peer
 * (bench/peers/python/goc_peer.py): spawn, yield, timers, pingpong, and a
 * TCP echo server (the HTTP server is http_hello.js beside this file).
 * Node runs JavaScript on one thread with one event loop - libuv's, the
 * loop each goc worker runs - so "workers" is always 1, whatever --workers
 * says (it is accepted so that the same command line works). Not here:
 * cpu (a CPU job on the one thread is the asyncio case, and worker_threads
 * are isolates, not tasks), idle, mpmc, select, sieve and skynet (they
 * need channels and select, which Node does not have; pingpong shows what
 * a promise-built channel costs).
 *
 * Each workload runs once, and 4 more times if that run took under 1 s,
 * every figure being the median of the 5 (--runs R fixes the count); runs
 * follow one another in the same process. Times are process.hrtime.
 *
 * Every line also carries "minflt", "nvcsw" and "nivcsw": the process's
 * minor page faults and voluntary / involuntary context switches
 * (process.resourceUsage(), getrusage RUSAGE_SELF) over the timed span,
 * per operation of the workload; medians like the rest.
 *
 * Only Node's standard library; no npm packages.
 */
const net = require('node:net');

const M64 = (1n << 64n) - 1n;
const AUTO_RUNS = 5;

function xorshift64(x) {
    x ^= (x << 13n) & M64;
    x ^= x >> 7n;
    x ^= (x << 17n) & M64;
    return x;
}

/* Nearest-rank percentile of a sorted array, 0 < p <= 1. */
function percentile(sorted, p) {
    const n = sorted.length;
    const rank = Math.ceil(p * n);
    return sorted[Math.min(Math.max(rank, 1), n) - 1];
}

function median(vals) {
    const s = [...vals].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function nowNs() {
    return process.hrtime.bigint();
}

/* ------------------------------------------------------------ counts */

/* [minflt, nvcsw, nivcsw] of the whole process (getrusage RUSAGE_SELF);
 * read right beside the clock readings that bound a timed span. */
function usageNow() {
    const u = process.resourceUsage();
    return [u.minorPageFault, u.voluntaryContextSwitches, u.involuntaryContextSwitches];
}

function perOp(u0, u1, ops) {
    return u0.map((a, i) => (ops ? (u1[i] - a) / ops : NaN));
}

/* ------------------------------------------------------------ JSON output */

/* Like goc-bench: 3 decimals, trailing zeros trimmed. */
function fmtNum(v) {
    if (!Number.isFinite(v))
        return 'null';
    let s = v.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
    return s === '-0' ? '0' : s;
}

/* 4 significant digits, like goc-bench and Python's "%.4g". */
function fmtCount(v) {
    if (!Number.isFinite(v))
        return 'null';
    if (v === 0)
        return '0';
    const e = Math.floor(Math.log10(Math.abs(v)));
    if (e < -4 || e >= 4)
        return v.toExponential(3).replace(/\.?0+e/, 'e').replace(/e([+-])(\d)$/, 'e$10$2');
    return String(Number(v.toPrecision(4)));
}

function emit(opts, n, value, unit, ok, counts, extra = {}) {
    const parts = [`"workload":"${opts.workload}"`, '"workers":1', `"n":${n}`,
                   `"value":${fmtNum(value)}`, `"unit":"${unit}"`];
    for (const [k, v] of Object.entries(extra)) {
        if (typeof v === 'boolean')
            parts.push(`"${k}":${v}`);
        else if (Number.isInteger(v))
            parts.push(`"${k}":${v}`);
        else if (typeof v === 'number')
            parts.push(`"${k}":${fmtNum(v)}`);
        else
            parts.push(`"${k}":${JSON.stringify(String(v))}`);
    }
    ['minflt', 'nvcsw', 'nivcsw'].forEach((k, i) => parts.push(`"${k}":${fmtCount(counts[i])}`));
    parts.push(`"ok":${ok ? 'true' : 'false'}`);
    process.stdout.write('{' + parts.join(',') + '}\n');
}

/* ------------------------------------------------------------ running */

/* measure() -> {ok, spanNs, figs}; run it once, 4 more times if that took
 * under 1 s (or exactly --runs times); the median of each figure. */
async function runMedian(opts, measure) {
    let want = opts.runs || 1;
    const runs = [];
    while (runs.length < want) {
        const r = await measure();
        runs.push(r);
        if (!r.ok)
            break;
        if (!opts.runs && runs.length === 1 && r.spanNs < 1e9)
            want = AUTO_RUNS;
    }
    const ok = runs.every((r) => r.ok);
    const figs = runs[0].figs.map((_, i) => median(runs.map((r) => r.figs[i])));
    return { ok, figs };
}

/* Time fn() (a promise), with the counts over the same span. */
async function timed(fn) {
    const u0 = usageNow();
    const t0 = nowNs();
    const result = await fn();
    const t1 = nowNs();
    const u1 = usageNow();
    return { result, spanNs: Number(t1 - t0), u0, u1 };
}

/* ================================================================ spawn
 * N async functions that each await null once (so each really suspends
 * and is resumed from the microtask queue, as a spawned task starts
 * later) and then count down a shared counter; the last one resolves the
 * promise main awaits. ns per task. */
async function benchSpawn(opts) {
    const n = opts.n;
    const { ok, figs } = await runMedian(opts, async () => {
        let left = n;
        let resolveDone;
        const done = new Promise((r) => { resolveDone = r; });
        async function child() {
            await null;
            if (--left === 0)
                resolveDone();
        }
        const t = await timed(() => {
            for (let i = 0; i < n; i++)
                child();
            return done;
        });
        return { ok: left === 0, spanNs: t.spanNs,
                 figs: [t.spanNs / n, ...perOp(t.u0, t.u1, n)] };  // per task
    });
    emit(opts, n, figs[0], 'ns/coroutine', ok, figs.slice(-3),
         { spawned_as: 'async function, suspended once at await null' });
    return ok;
}

/* ================================================================ yield
 * 2 async functions each yield N times; ns per switch = wall / 2N. A yield
 * is `await new Promise(r => setImmediate(r))`: a trip through the event
 * loop's check phase, which lets timers and I/O in, as asyncio.sleep(0)
 * and goc_yield do. `await null` only goes through the microtask queue,
 * which never lets the loop turn (a loop of them starves I/O); it is
 * measured too, as "microtask_ns". */
function immediate() {
    return new Promise((resolve) => setImmediate(resolve));
}

async function yieldPair(n, viaImmediate) {
    const count = [0, 0];
    async function loop(k) {
        let i = 0;
        if (viaImmediate) {
            for (; i < n; i++)
                await immediate();
        } else {
            for (; i < n; i++)
                await null;
        }
        count[k] = i;
    }
    const t = await timed(() => Promise.all([loop(0), loop(1)]));
    return { ok: count[0] === n && count[1] === n, t };
}

async function benchYield(opts) {
    const n = opts.n;
    const { ok, figs } = await runMedian(opts, async () => {
        const imm = await yieldPair(n, true);
        const micro = await yieldPair(n, false);
        return { ok: imm.ok && micro.ok, spanNs: imm.t.spanNs + micro.t.spanNs,
                 figs: [imm.t.spanNs / (2 * n), micro.t.spanNs / (2 * n),
                        ...perOp(imm.t.u0, imm.t.u1, 2 * n)] };  // per switch
    });
    emit(opts, n, figs[0], 'ns/switch', ok, figs.slice(-3),
         { via: 'setImmediate', microtask_ns: figs[1],
           note: 'value: await setImmediate (a loop turn); microtask_ns: await null' });
    return ok;
}

/* ================================================================ timers
 * N async functions each sleep a pseudo-random 0..100 ms with setTimeout
 * (the same xorshift64 draws as goc-bench, in µs); lateness = wake -
 * deadline on the monotonic clock. value = p99 in µs, plus p50_us, p99_us,
 * total_ms, earliest_us (the smallest lateness). Check: all woke and
 * none early by more than 5 ms: Node's timers count whole milliseconds of
 * libuv's loop clock (uv_now), which libuv reads from CLOCK_MONOTONIC_COARSE
 * (one kernel tick, 1 to 4 ms, behind); so a timer may fire up to a
 * millisecond plus a tick before a deadline taken from hrtime (seen: 1.25
 * ms early). */
const TIMER_SEED = 0x2545F4914F6CDD1Dn;
const TIMER_MAX_US = 100000n;
const TIMER_SLACK_NS = 5000000;

async function benchTimers(opts) {
    const n = opts.n;
    const durUs = new Array(n);
    let x = TIMER_SEED;
    for (let i = 0; i < n; i++) {
        x = xorshift64(x);
        durUs[i] = Number(x % (TIMER_MAX_US + 1n));
    }
    const { ok, figs } = await runMedian(opts, async () => {
        const late = new Array(n).fill(null);
        function child(i) {
            return new Promise((resolve) => {
                const deadline = process.hrtime.bigint() + BigInt(durUs[i] * 1000);
                setTimeout(() => {
                    late[i] = Number(process.hrtime.bigint() - deadline);
                    resolve();
                }, durUs[i] / 1000);
            });
        }
        const t = await timed(() => {
            const all = [];
            for (let i = 0; i < n; i++)
                all.push(child(i));
            return Promise.all(all);
        });
        const woke = late.every((v) => v !== null);
        const lat = woke ? late.slice().sort((a, b) => a - b) : [-1];
        const good = woke && lat[0] >= -TIMER_SLACK_NS;
        if (!good)
            process.stderr.write(`timers: woke early by ${-lat[0]} ns\n`);
        return { ok: good, spanNs: t.spanNs,
                 figs: [percentile(lat, 0.5) / 1e3, percentile(lat, 0.99) / 1e3, t.spanNs / 1e6,
                        lat[0] / 1e3, ...perOp(t.u0, t.u1, n)] };  // per sleeper
    });
    emit(opts, n, figs[1], 'us', ok, figs.slice(-3),
         { p50_us: figs[0], p99_us: figs[1], total_ms: figs[2], earliest_us: figs[3] });
    return ok;
}

/* ================================================================ pingpong
 * Node has no channels. Chan is an unbuffered (rendezvous) channel built
 * on promises: send(v) resolves when a receiver has taken v, recv()
 * resolves with the value of a sender; whichever comes second completes
 * the hand-over. 2 async functions bounce a counter over two Chans: A
 * sends c on ping and receives c+1 on pong, N times. ns per round trip =
 * wall / N. Check: the counter came back as N. */
class Chan {
    constructor() {
        this.senders = [];   // {value, resolve} waiting for a receiver
        this.receivers = []; // resolve functions waiting for a sender
    }

    send(value) {
        const r = this.receivers.shift();
        if (r) {
            r(value);
            return Promise.resolve();
        }
        return new Promise((resolve) => this.senders.push({ value, resolve }));
    }

    recv() {
        const s = this.senders.shift();
        if (s) {
            s.resolve();
            return Promise.resolve(s.value);
        }
        return new Promise((resolve) => this.receivers.push(resolve));
    }
}

async function benchPingpong(opts) {
    const n = opts.n;
    const { ok, figs } = await runMedian(opts, async () => {
        const ping = new Chan();
        const pong = new Chan();
        let final = null;
        async function a() {
            let c = 0;
            for (let i = 0; i < n; i++) {
                await ping.send(c);
                c = await pong.recv();
            }
            final = c;
        }
        async function b() {
            for (let i = 0; i < n; i++) {
                const v = await ping.recv();
                await pong.send(v + 1);
            }
        }
        const t = await timed(() => Promise.all([a(), b()]));
        const good = final === n;
        if (!good)
            process.stderr.write(`pingpong: counter ${final}, want ${n}\n`);
        return { ok: good, spanNs: t.spanNs,
                 figs: [t.spanNs / n, ...perOp(t.u0, t.u1, n)] };  // per round trip
    });
    emit(opts, n, figs[0], 'ns/roundtrip', ok, figs.slice(-3),
         { note: 'an unbuffered channel built on promises (microtasks)' });
    return ok;
}

/* ================================================================ echo
 * TCP echo, the twin of goc-bench's echo-server: what the Node docs teach,
 * net.createServer with each socket piped into itself (reads of up to
 * 64 KiB written back, pausing the reads while a write is pending:
 * backpressure). It says where it listens on stderr and serves until
 * killed. (The clients are goc-bench's and the Go peer's: bench/compare.sh.) */
function benchEchoServer(opts) {
    if (opts.port === null) {
        process.stderr.write('goc_peer.js echo-server: needs --port P (0: pick a free one)\n');
        return Promise.resolve(false);
    }
    const host = opts.host || '127.0.0.1';
    return new Promise((resolve) => {
        const server = net.createServer((sock) => {
            sock.setNoDelay(true);
            sock.on('error', () => sock.destroy()); // the peer went away
            sock.pipe(sock);
        });
        server.on('error', (e) => {
            process.stderr.write(`goc_peer.js echo-server: ${e.message}\n`);
            resolve(false);
        });
        server.listen(opts.port, host, () => {
            process.stderr.write(`goc_peer.js echo-server: listening on ${host}:` +
                                 `${server.address().port}, 1 thread (node)\n`);
        });
    });
}

/* ================================================================ the table */

const WORKLOADS = {
    spawn: [benchSpawn, 1000000, 'N async functions that count down; ns/coroutine'],
    yield: [benchYield, 5000000, '2 async functions await setImmediate N times each; ns/switch'],
    timers: [benchTimers, 100000, 'N setTimeouts of 0..100 ms; lateness p99 us'],
    pingpong: [benchPingpong, 1000000, 'counter over two promise channels; ns/roundtrip'],
    'echo-server': [benchEchoServer, 0, 'TCP echo server on --port, until killed'],
};
const BY_NAME_ONLY = ['echo-server'];

function usage() {
    process.stderr.write('usage: goc_peer.js <workload|all|list> [--workers N] [--n N] [--runs R]\n' +
                         '       goc_peer.js echo-server --port P [--host H]\n' +
                         "workloads ('all' runs those without *):\n");
    for (const [name, [, , what]] of Object.entries(WORKLOADS))
        process.stderr.write(`  ${name.padEnd(12)}${BY_NAME_ONLY.includes(name) ? '*' : ' '} ${what}\n`);
}

function parseOpts(args) {
    const opts = { n: null, runs: 0, workers: 1, host: null, port: null };
    const keys = { '--workers': 'workers', '--n': 'n', '--runs': 'runs', '--port': 'port',
                   '--stack-size': null };
    for (let i = 0; i < args.length; i++) {
        let name = args[i];
        let val;
        if (name.includes('=')) {
            [name, val] = [name.slice(0, name.indexOf('=')), name.slice(name.indexOf('=') + 1)];
        } else {
            val = args[++i];
        }
        if (val === undefined)
            throw new Error(`${name} needs a value`);
        if (name === '--host') {
            opts.host = val;
            continue;
        }
        if (!(name in keys))
            throw new Error(`unknown option ${name}`);
        const v = Number(val);
        if (!Number.isInteger(v) || v < 0)
            throw new Error(`bad value for ${name}`);
        if (name === '--n' && v < 1)
            throw new Error('--n must be >= 1');
        if (name === '--port' && v > 65535)
            throw new Error(`bad port ${v}`);
        if (keys[name])
            opts[keys[name]] = v;
    }
    return opts;
}

async function main() {
    const argv = process.argv.slice(2);
    if (argv.length < 1) {
        usage();
        return 2;
    }
    if (argv[0] === 'list') {
        process.stdout.write(Object.keys(WORKLOADS).join('\n') + '\n');
        return 0;
    }
    let given;
    try {
        given = parseOpts(argv.slice(1));
    } catch (e) {
        process.stderr.write(`goc_peer.js: ${e.message}\n`);
        usage();
        return 2;
    }
    const names = argv[0] === 'all'
        ? Object.keys(WORKLOADS).filter((w) => !BY_NAME_ONLY.includes(w)) : [argv[0]];
    let ok = true;
    for (const name of names) {
        if (!(name in WORKLOADS)) {
            process.stderr.write(`goc_peer.js: unknown workload '${name}'\n`);
            usage();
            return 2;
        }
        const [fn, defaultN] = WORKLOADS[name];
        const opts = { ...given, workload: name, n: given.n === null ? defaultN : given.n };
        ok = (await fn(opts)) && ok;
    }
    return ok ? 0 : 1;
}

main().then((rc) => { process.exitCode = rc; });
