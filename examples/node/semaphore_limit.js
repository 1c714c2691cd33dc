'use strict';
/*
 * semaphore_limit - 10 jobs, at most 2 at a time.
 *
 * Node.js twin of examples/semaphore_limit.c. Node has no semaphore; the
 * one in exutil.js is asyncio.Semaphore's: main takes a permit before it
 * starts each job, the job gives it back when it ends. 10 jobs of 0.2 s
 * take 5 rounds: about 1 s.
 */
const { log, run, sleep, spawn, Semaphore } = require('./exutil');

const NJOBS = 10;
const LIMIT = 2;
const WORK_S = 0.2;

async function runJob(p, i) {
    try {
        p.running++;
        p.most = Math.max(p.most, p.running);
        log(`job ${i} started | ${p.running} running`);
        await sleep(WORK_S);
        p.running--;
        log(`job ${i} finished | ${p.running} running`);
    } finally {
        p.sem.release();
    }
}

async function main() {
    const p = { sem: new Semaphore(LIMIT), running: 0, most: 0 };
    log(`start ${NJOBS} jobs of 0.2 s, at most ${LIMIT} at a time`);
    const tasks = [];
    for (let i = 0; i < NJOBS; i++) {
        await p.sem.acquire();
        tasks.push(spawn(() => runJob(p, i)));
    }
    await Promise.all(tasks);
    log(`all ${NJOBS} jobs finished | at most ${p.most} ran at once`);
    if (p.most > LIMIT)
        throw new Error(`${p.most} jobs ran at once`);
}

run('semaphore_limit', main, '10 jobs, at most 2 at a time');
