'use strict';
/*
 * wait_first - the first of several tasks to finish wins.
 *
 * Node.js twin of examples/wait_first.c: Promise.race as the race,
 * Promise.any for the first success, and a race against a 0.05 s timer
 * that passes before any task is done. A promise cannot be cancelled: each
 * mirror gets an AbortController, and aborting it is the task.cancel().
 */
const { log, run, sleep, isAbort } = require('./exutil');

async function askMirror(mid, delay, fails, signal) {
    try {
        await sleep(delay, signal);
    } catch (e) {
        if (isAbort(e))
            log(`mirror ${mid}: cancelled`);
        throw e;
    }
    if (fails) {
        log(`mirror ${mid}: failed`);
        throw new Error('mirror failed');
    }
    log(`mirror ${mid}: answered`);
    return { mid, answer: mid * 100 };
}

/* Start one mirror: its promise, its controller, and whether it settled. */
function startMirror(mid, delay, fails = false) {
    const m = { mid, ctl: new AbortController(), settled: false };
    m.promise = askMirror(mid, delay, fails, m.ctl.signal);
    m.promise.then(() => { m.settled = true; }, () => { m.settled = true; });
    return m;
}

async function cancelTheRest(mirrors) {
    const pending = mirrors.filter((m) => !m.settled);
    pending.forEach((m) => m.ctl.abort());
    await Promise.allSettled(pending.map((m) => m.promise));
}

async function race() {
    log('race: ask mirrors 1, 2, 3 (0.3 s, 0.1 s, 0.2 s)');
    const ms = [startMirror(1, 0.3), startMirror(2, 0.1), startMirror(3, 0.2)];
    const winner = await Promise.race(ms.map((m) => m.promise));
    log(`race: mirror ${winner.mid} was first; cancel the others`);
    await cancelTheRest(ms);
    log(`race: answer ${winner.answer}`);
}

async function firstSuccess() {
    log('first success: mirror 1 fails at 0.1 s, 2 answers at 0.2 s, 3 at 0.3 s');
    const ms = [startMirror(1, 0.1, true), startMirror(2, 0.2), startMirror(3, 0.3)];
    const winner = await Promise.any(ms.map((m) => m.promise));
    log(`first success: mirror ${winner.mid}; cancel the others`);
    await cancelTheRest(ms);
    log(`first success: answer ${winner.answer}`);
}

async function nobodyInTime() {
    log('timeout: the same three mirrors, but wait at most 0.05 s');
    const ms = [startMirror(1, 0.3), startMirror(2, 0.1), startMirror(3, 0.2)];
    const timer = new AbortController();
    const timeout = sleep(0.05, timer.signal).then(() => 'timeout', () => 'timeout');
    const first = await Promise.race([timeout, ...ms.map((m) => m.promise)]);
    timer.abort();
    if (first !== 'timeout')
        throw new Error('a mirror answered within 0.05 s');
    log('timeout: no mirror answered within 0.05 s; cancel them all');
    await cancelTheRest(ms);
    log('timeout: all cancelled');
}

async function main() {
    await race();
    await firstSuccess();
    await nobodyInTime();
}

run('wait_first', main, 'the first task to finish wins (Promise.race, Promise.any)');
