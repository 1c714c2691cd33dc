'use strict';
/*
 * blocking_call - a blocking call inside an async function, and the way out.
 *
 * Node.js twin of examples/blocking_call.c. A ticker prints a tick every
 * 100 ms while another task makes a 0.5 s blocking call (a real blocking
 * sleep of the thread: Atomics.wait). Made straight from the async
 * function it stops the one event loop: the ticks stop for 0.5 s. Run on a
 * worker_threads thread (what asyncio.to_thread and goc_to_thread do with
 * a thread of their own) the ticks go on.
 *
 * This file is also the worker thread's code (isMainThread is false
 * there): it waits for jobs, runs each blocking call and posts back. The
 * thread is started when the program starts, long before it is needed: a
 * Worker takes tens of ms to start (a whole V8 isolate, not a bare thread
 * as asyncio's executor and goc_to_thread use), which would otherwise show
 * on the timeline.
 */
const { Worker, isMainThread, parentPort } = require('node:worker_threads');

const TICK_S = 0.1;
const NTICKS = 8;
const BLOCK_AT_S = 0.25;
const BLOCK_S = 0.5;

/* Block the calling thread for BLOCK_S seconds, as time.sleep does. */
function blockingIo() {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, BLOCK_S * 1000);
}

if (!isMainThread) {
    parentPort.on('message', () => {
        blockingIo();
        parentPort.postMessage('done');
    });
    return;
}

const { log, run, sleep, spawn } = require('./exutil');

/* A one-thread executor: toThread() runs blockingIo there and resolves
 * when it is back (asyncio.to_thread; goc_to_thread). */
class ThreadExecutor {
    constructor() {
        this.worker = new Worker(__filename);
        this.pending = [];
        this.worker.on('message', () => this.pending.shift()());
    }

    toThread() {
        return new Promise((resolve) => {
            this.pending.push(resolve);
            this.worker.postMessage('run');
        });
    }

    /* Let the program end without waiting for the thread's isolate to be
     * torn down (terminate() takes tens of ms). */
    close() {
        this.worker.unref();
        this.worker.terminate();
    }
}

async function ticker(p) {
    let last = performance.now();
    for (let i = 1; i <= NTICKS; i++) {
        await sleep(TICK_S);
        const now = performance.now();
        p.maxGap = Math.max(p.maxGap, (now - last) / 1000);
        last = now;
        log(`${p.name}: tick ${i}`);
    }
}

async function blocker(p) {
    await sleep(BLOCK_AT_S);
    if (p.executor) {
        log(`${p.name}: blocker runs the 0.5 s call on a thread | worker_threads`);
        await p.executor.toThread();
    } else {
        log(`${p.name}: blocker makes a 0.5 s blocking call`);
        blockingIo();
    }
    log(`${p.name}: blocker is back`);
}

async function runPhase(p) {
    log(`${p.name}: start the ticker and the blocker`);
    const t = spawn(() => ticker(p));
    const b = spawn(() => blocker(p));
    await t;
    await b;
    log(`${p.name}: both done | longest gap between ticks ${p.maxGap.toFixed(2)} s`);
}

async function main() {
    const executor = new ThreadExecutor();
    await runPhase({ name: 'direct', executor: null, maxGap: 0 });
    await runPhase({ name: 'to_thread', executor, maxGap: 0 });
    executor.close();
}

run('blocking_call', main, 'a blocking call freezes the event loop; worker_threads does not');
