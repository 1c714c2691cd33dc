'use strict';
/*
 * cpu_bound - CPU work gets no speedup on one event loop.
 *
 * Node.js twin of examples/cpu_bound.c. One job is timed alone, then 8
 * copies run as tasks at once. A task that never awaits keeps the event
 * loop until it ends, so the jobs run one after another: the speedup is
 * about 1x, as with asyncio and goc --workers 1. (worker_threads would run
 * them in parallel, each on a V8 isolate of its own; goc with all cores
 * and Go run them in parallel as coroutines.)
 */
const { log, run, spawn } = require('./exutil');

const NJOBS = 8;
const JOB_STEPS = 1 << 25; // about 0.1 s on one core

/* xorshift64 (13, 7, 17) from seed, JOB_STEPS times, on two 32-bit halves
 * (int32 Numbers: V8 compiles them to machine integer ops, BigInt it
 * does not); the result as a hex string. */
function cpuJob(seed) {
    const x0 = BigInt.asUintN(64, BigInt(seed) * 0x9E3779B97F4A7C15n + 1n);
    let hi = Number(x0 >> 32n) | 0;
    let lo = Number(x0 & 0xFFFFFFFFn) | 0;
    for (let i = 0; i < JOB_STEPS; i++) {
        hi = (hi ^ ((hi << 13) | (lo >>> 19))) | 0;   // x ^= x << 13
        lo = (lo ^ (lo << 13)) | 0;
        lo = (lo ^ ((lo >>> 7) | (hi << 25))) | 0;    // x ^= x >> 7
        hi = (hi ^ (hi >>> 7)) | 0;
        hi = (hi ^ ((hi << 17) | (lo >>> 15))) | 0;   // x ^= x << 17
        lo = (lo ^ (lo << 17)) | 0;
    }
    return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

async function jobTask(seed, counter) {
    const x = cpuJob(seed);
    counter.done++;
    log(`${counter.done} of ${NJOBS} jobs done`);
    return x;
}

async function main() {
    log('one job alone: start');
    let t = performance.now();
    const expect = cpuJob(1);
    const one = (performance.now() - t) / 1000;
    log(`one job alone: done | ${one.toFixed(3)} s`);

    log(`${NJOBS} jobs at once: start`);
    const counter = { done: 0 };
    t = performance.now();
    const tasks = [];
    for (let i = 0; i < NJOBS; i++)
        tasks.push(spawn(() => jobTask(1, counter)));
    const results = await Promise.all(tasks);
    if (!results.every((r) => r === expect))
        throw new Error('a job computed another result');
    const elapsed = (performance.now() - t) / 1000;
    const speedup = NJOBS * one / elapsed;
    log(`${NJOBS} jobs at once: all done | speedup ${speedup.toFixed(2)}x (${elapsed.toFixed(3)} s)`);
    process.stdout.write(`# speedup ${speedup.toFixed(2)} (${NJOBS} jobs, 1 thread)\n`);
}

run('cpu_bound', main, '8 CPU jobs on the one JavaScript thread');
