'use strict';
/*
 * exutil.js - what the Node.js twins of examples/*.c share.
 *
 * Each twin prints the same timeline as its C program and its asyncio twin
 * (examples/python/), line for line:
 *
 *   [  0.000s] event text | free comment
 *
 * seconds since main() started; the event text is what examples/compare.py
 * compares, the part after " | " may differ. The last line is always
 * "done". Lines that do not start with '[' are headers and notes.
 *
 * --workers N is accepted so that every program takes the same command
 * line, but Node runs JavaScript on one thread with one event loop (libuv's,
 * as goc's workers are): it is the model goc shows with --workers 1.
 *
 * Also here, because Node has no built-in ones: spawn (asyncio.create_task),
 * sleep with an AbortSignal (asyncio.sleep, cancellable), Semaphore
 * (asyncio.Semaphore) and Queue (asyncio.Queue with task_done/join). Plain
 * CommonJS, no npm packages.
 *
 * Owns: t0, the timeline's origin, set once by run() before main starts.
 * Everything runs on the one JavaScript thread, so nothing needs a lock.
 */
const timers = require('node:timers/promises');

let t0 = process.hrtime.bigint();

function seconds() {
    return Number(process.hrtime.bigint() - t0) / 1e9;
}

/* Print one timeline line (stdout is synchronous for files and pipes on
 * Linux, so a line is out before the next statement runs). */
function log(msg) {
    process.stdout.write(`[${seconds().toFixed(3).padStart(7)}s] ${msg}\n`);
}

/* Parse --workers N (accepted, ignored), then run main on the event loop. */
function run(name, main, what) {
    const args = process.argv.slice(2);
    for (let i = 0; i < args.length; i++) {
        if ((args[i] === '--workers' || args[i] === '-w') && i + 1 < args.length) {
            i++;
        } else if (!args[i].startsWith('--workers=')) {
            process.stderr.write(`${what}\n\nusage: node ${name}.js [--workers N]\n` +
                '  --workers is accepted for symmetry with the C program; Node has one thread\n');
            process.exit(2);
        }
    }
    // The header first: the first use of process.stdout builds the stream,
    // which is not part of the example's time.
    process.stdout.write(`# ${name} | node | 1 thread (asyncio model)\n`);
    t0 = process.hrtime.bigint();
    main().then(() => log('done'), (err) => {
        process.stderr.write(`${name}: ${err && err.stack ? err.stack : err}\n`);
        process.exitCode = 1;
    });
}

/* asyncio.create_task(fn()): start fn once the caller next awaits. A JS
 * async function called directly runs synchronously up to its first
 * await; asyncio (and goc_spawn on one worker) start a task only when its
 * creator yields, which is the order the timelines show. */
function spawn(fn) {
    return Promise.resolve().then(fn);
}

/* asyncio.sleep(s), cancelled through an AbortSignal (rejects with an
 * AbortError, as asyncio.sleep raises CancelledError). */
function sleep(secs, signal) {
    return timers.setTimeout(secs * 1000, undefined, signal ? { signal } : undefined);
}

function isAbort(err) {
    return err && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/* asyncio.Semaphore: acquire() waits for a permit, release() hands it to
 * the longest waiter. */
class Semaphore {
    constructor(permits) {
        this.permits = permits;
        this.waiters = [];
    }

    acquire() {
        if (this.permits > 0 && this.waiters.length === 0) {
            this.permits--;
            return Promise.resolve();
        }
        return new Promise((resolve) => this.waiters.push(resolve));
    }

    release() {
        const next = this.waiters.shift();
        if (next)
            next();
        else
            this.permits++;
    }
}

/* asyncio.Queue(maxsize): put waits while full, get while empty (either
 * may be cancelled through an AbortSignal), taskDone/join count the items
 * not yet processed. */
class Queue {
    constructor(maxsize) {
        this.maxsize = maxsize;
        this.items = [];
        this.getters = [];     // resolve functions of gets waiting for an item
        this.putters = [];     // resolve functions of puts waiting for room
        this.unfinished = 0;
        this.joiners = [];
    }

    qsize() {
        return this.items.length;
    }

    full() {
        return this.maxsize > 0 && this.items.length >= this.maxsize;
    }

    putNowait(item) {
        if (this.full())
            throw new Error('queue full');
        this.items.push(item);
        this.unfinished++;
        const g = this.getters.shift();
        if (g)
            g.wake();
    }

    async put(item, signal) {
        while (this.full())
            await this.wait(this.putters, signal);
        this.putNowait(item);
    }

    async get(signal) {
        while (this.items.length === 0)
            await this.wait(this.getters, signal);
        const item = this.items.shift();
        const p = this.putters.shift();
        if (p)
            p.wake();
        return item;
    }

    taskDone() {
        if (--this.unfinished === 0)
            this.joiners.splice(0).forEach((resolve) => resolve());
    }

    join() {
        if (this.unfinished === 0)
            return Promise.resolve();
        return new Promise((resolve) => this.joiners.push(resolve));
    }

    /* Park on list until woken or until signal aborts (then leave the list). */
    wait(list, signal) {
        return new Promise((resolve, reject) => {
            if (signal && signal.aborted)
                return reject(signal.reason);
            const waiter = {
                wake: () => {
                    if (signal)
                        signal.removeEventListener('abort', onAbort);
                    resolve();
                },
            };
            const onAbort = () => {
                const i = list.indexOf(waiter);
                if (i >= 0)
                    list.splice(i, 1);
                reject(signal.reason);
            };
            if (signal)
                signal.addEventListener('abort', onAbort, { once: true });
            list.push(waiter);
        });
    }
}

module.exports = { log, run, spawn, sleep, isAbort, seconds, Semaphore, Queue };
