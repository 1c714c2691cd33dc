'use strict';
/*
 * gather - start several tasks, wait for all of them.
 *
 * Node.js twin of examples/gather.c: Promise.all with all succeeding,
 * failing fast (it rejects with the first failure; the others run on, as
 * with asyncio.gather), and Promise.allSettled (return_exceptions=True).
 */
const { log, run, sleep } = require('./exutil');

async function fetchUser(user, delay, fails = false) {
    await sleep(delay);
    if (fails) {
        log(`fetch user ${user} failed`);
        throw new Error('operation timed out');
    }
    log(`fetch user ${user} done`);
    return `user_${user}`;
}

async function gatherAll() {
    log('gather: fetch users 1, 2, 3 (0.3 s, 0.1 s, 0.2 s)');
    const results = await Promise.all([fetchUser(1, 0.3), fetchUser(2, 0.1), fetchUser(3, 0.2)]);
    log('gather: results in argument order: ' + results.join(' '));
}

async function gatherFailFast() {
    log('fail fast: fetch users 1, 2, 3; fetch 2 fails after 0.1 s');
    try {
        await Promise.all([fetchUser(1, 0.3), fetchUser(2, 0.1, true), fetchUser(3, 0.2)]);
    } catch (e) {
        log(`fail fast: gather raised the first failure | ${e.message}`);
    }
    await sleep(0.3);
    log('fail fast: the other two fetches finished on their own');
}

async function gatherSettled() {
    log('settled: the same, waiting for every outcome');
    const outcomes = await Promise.allSettled([fetchUser(1, 0.3), fetchUser(2, 0.1, true),
                                               fetchUser(3, 0.2)]);
    const words = outcomes.map((o) => (o.status === 'rejected' ? 'error' : o.value));
    log('settled: outcomes in argument order: ' + words.join(' '));
}

async function main() {
    await gatherAll();
    await gatherFailFast();
    await gatherSettled();
}

run('gather', main, 'wait for several tasks (Promise.all, Promise.allSettled)');
