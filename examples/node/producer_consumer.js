'use strict';
/*
 * producer_consumer - a bounded queue between a fast producer and a slow
 * consumer: backpressure.
 *
 * Node.js twin of examples/producer_consumer.c. Node has no async queue;
 * exutil.js's Queue is asyncio.Queue(maxsize=2): put waits while the queue
 * is full, join() waits for taskDone on every item, and a null sentinel
 * ends the consumer.
 */
const { log, run, sleep, spawn, Queue } = require('./exutil');

const NITEMS = 6;
const QUEUE_MAX = 2;
const PROCESS_S = 0.3;

async function consumer(q) {
    for (;;) {
        const item = await q.get();
        if (item === null) {
            log('consumer: no more items, exiting');
            return;
        }
        log(`consumer: got item ${item}`);
        await sleep(PROCESS_S);
        q.taskDone();
    }
}

async function main() {
    const q = new Queue(QUEUE_MAX);
    log(`producer: ${NITEMS} items into a queue of at most ${QUEUE_MAX}; ` +
        'the consumer takes 0.3 s each');
    const c = spawn(() => consumer(q));
    for (let i = 1; i <= NITEMS; i++) {
        await q.put(i);
        log(`producer: put item ${i} | ${q.qsize()} queued`);
    }
    log('producer: all items queued; wait until every one is processed');
    await q.join();
    log('producer: every item processed; close the queue');
    await q.put(null);
    await c;
}

run('producer_consumer', main, 'a bounded queue and backpressure');
