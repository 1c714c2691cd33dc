'use strict';
/*
 * wait_for_timeout - put a time limit on a task.
 *
 * Node.js twin of examples/wait_for_timeout.c. asyncio.wait_for's Node form
 * is an AbortSignal.timeout(ms) handed to the operation: when the limit
 * passes the signal aborts and the operation's await rejects with a
 * TimeoutError. On a queue, get(signal) with that signal is the Go
 * select-with-timeout.
 */
const { log, run, sleep, spawn, isAbort, Queue } = require('./exutil');

const LIMIT_S = 0.5;

async function operation(seconds, signal) {
    try {
        await sleep(seconds, signal);
    } catch (e) {
        if (isAbort(e))
            log('operation: cancelled, cleaning up');
        throw e;
    }
    log('operation: finished');
    return 42;
}

async function limit(seconds, label) {
    log(`${label}: start an operation of ${seconds.toFixed(1)} s with a 0.5 s limit`);
    try {
        const result = await operation(seconds, AbortSignal.timeout(LIMIT_S * 1000));
        log(`${label}: got result ${result}`);
    } catch (e) {
        if (!isAbort(e))
            throw e;
        log(`${label}: timed out`);
    }
}

async function producer(q) {
    await sleep(LIMIT_S);
    q.putNowait(7);
    log('channel: the producer sent its value, too late');
}

async function selectWithTimeout() {
    const q = new Queue(1);
    log('channel: wait at most 0.3 s for a value that comes after 0.5 s');
    spawn(() => producer(q));
    try {
        await q.get(AbortSignal.timeout(300));
    } catch (e) {
        if (!isAbort(e))
            throw e;
        log('channel: timed out');
    }
    await sleep(0.3);
    log(`channel: ${q.qsize()} value left unread in the buffer`);
}

async function main() {
    await limit(1.0, 'slow');
    await limit(0.2, 'fast');
    await selectWithTimeout();
}

run('wait_for_timeout', main, 'a time limit on a task (AbortSignal.timeout)');
