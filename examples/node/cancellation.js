'use strict';
/*
 * cancellation - cancelling a task, and why cancellation is cooperative.
 *
 * Node.js twin of examples/cancellation.c. A promise has no cancel(): the
 * Node way is an AbortController whose signal the task passes to what it
 * awaits.
 *   1. abort() on a task parked in a sleep: the sleep rejects with an
 *      AbortError, the task cleans up and rethrows, awaiting it rejects.
 *   2. A task that computes for 0.3 s never awaits, so the event loop
 *      cannot even run the code that wants to abort it after 0.1 s: the
 *      abort is issued 0.2 s late, and lands at the task's next await.
 */
const { log, run, sleep, spawn, isAbort } = require('./exutil');

const STEP_S = 0.2;
const CANCEL_AT_S = 0.5;
const CRUNCH_S = 0.3;
const CRUNCH_WANT_S = 0.1;

async function worker(signal) {
    for (let step = 1; ; step++) {
        log(`worker: step ${step}`);
        try {
            await sleep(STEP_S, signal);
        } catch (e) {
            if (isAbort(e))
                log(`worker: cancelled during step ${step}, cleaning up`);
            throw e;
        }
    }
}

/* How a task ended, as the C and Python programs say it. */
async function outcome(task) {
    try {
        await task;
        return 'normally';
    } catch (e) {
        if (!isAbort(e))
            throw e;
        return 'cancelled';
    }
}

async function cancelAWaitingTask() {
    log('main: start the worker, cancel it at 0.5 s');
    const ctl = new AbortController();
    const t = spawn(() => worker(ctl.signal));
    await sleep(CANCEL_AT_S);
    log('main: cancel the worker');
    ctl.abort();
    log(`main: the worker ended ${await outcome(t)}`);
}

function spinFor(seconds) {
    let x = 1n;
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
        for (let i = 0; i < 1000; i++)
            x = BigInt.asUintN(64, x * 6364136223846793005n + 1n);
    }
    return x;
}

async function cruncher(signal) {
    log('cruncher: computing for 0.3 s without a blocking call');
    spinFor(CRUNCH_S);
    log('cruncher: done computing, now sleeps 0.1 s');
    try {
        await sleep(0.1, signal);
    } catch (e) {
        if (isAbort(e))
            log('cruncher: cancelled at its sleep');
        throw e;
    }
    log('cruncher: finished without being cancelled');
}

async function cancelAComputingTask() {
    log('main: start the cruncher, cancel it at 0.1 s');
    const t0 = performance.now();
    const ctl = new AbortController();
    const t = spawn(() => cruncher(ctl.signal));
    await sleep(CRUNCH_WANT_S);
    log('main: cancel the cruncher | asked for 0.100 s, issued after ' +
        `${((performance.now() - t0) / 1000).toFixed(3)} s`);
    ctl.abort();
    log(`main: the cruncher ended ${await outcome(t)}`);
}

async function main() {
    await cancelAWaitingTask();
    await cancelAComputingTask();
}

run('cancellation', main, 'AbortController, and why cancellation is cooperative');
