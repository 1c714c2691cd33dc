'use strict';
/*
 * sync_vs_async - three waits of 1 s: one after another, then together.
 *
 * Node.js twin of examples/sync_vs_async.c (same timeline). Awaiting three
 * 1 s operations in turn takes 3 s; starting three and awaiting them all
 * (Promise.all) takes about 1 s on the one thread of the event loop.
 */
const { log, run, sleep, spawn } = require('./exutil');

const WAIT_S = 1.0;
const NWAITS = 3;

async function request(i) {
    await sleep(WAIT_S);
    log(`concurrent: request ${i} done`);
}

async function oneAfterAnother() {
    log(`sequential: ${NWAITS} requests of 1 s, one after another`);
    const t = performance.now();
    for (let i = 1; i <= NWAITS; i++) {
        await sleep(WAIT_S);
        log(`sequential: request ${i} done`);
    }
    log(`sequential: all done | took ${((performance.now() - t) / 1000).toFixed(3)} s`);
}

async function allTogether() {
    log(`concurrent: ${NWAITS} requests of 1 s as tasks, all at once`);
    const t = performance.now();
    const tasks = [];
    for (let i = 1; i <= NWAITS; i++)
        tasks.push(spawn(() => request(i)));
    await Promise.all(tasks);
    log(`concurrent: all done | took ${((performance.now() - t) / 1000).toFixed(3)} s`);
}

async function main() {
    await oneAfterAnother();
    await allTogether();
}

run('sync_vs_async', main, 'three 1 s waits, one after another, then together');
