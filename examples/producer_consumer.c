/*
 * producer_consumer.c - a bounded queue between a fast producer and a slow
 * consumer: backpressure.
 *
 * The producer makes 6 items as fast as it can; the consumer needs 0.3 s
 * per item. The queue holds at most 2, so the producer's put parks while
 * the queue is full: it runs only as fast as the consumer, and memory
 * stays bounded (asyncio.Queue(maxsize=2); Go: make(chan T, 2)). Then:
 *   - goc_queue_join waits until every item put has been marked done with
 *     goc_queue_task_done (asyncio's queue.join());
 *   - goc_queue_close ends the consumer's loop: get drains what is left
 *     and then returns GOC_ECLOSED (Go: close(ch) and range; asyncio 3.13:
 *     Queue.shutdown; the Python twin puts a None sentinel).
 *
 * Twin: examples/python/producer_consumer.py.
 */
#include "example_util.h"

#define NITEMS     6
#define QUEUE_MAX  2
#define PROCESS_NS (300 * EX_MS)

static void *consumer(void *arg)
{
    goc_queue *q = arg;
    for (;;) {
        int item;
        int rc = goc_queue_get(q, &item, -1);
        if (rc == GOC_ECLOSED) {
            ex_log("consumer: no more items, exiting");
            return NULL;
        }
        if (rc != 0) {
            ex_check(rc, "goc_queue_get");
            return NULL;
        }
        ex_log("consumer: got item %d", item);
        ex_check(goc_sleep(PROCESS_NS), "goc_sleep"); /* process it */
        ex_check(goc_queue_task_done(q), "goc_queue_task_done");
    }
}

static void producer_consumer(void)
{
    goc_queue *q = goc_queue_new(sizeof(int), QUEUE_MAX);
    if (!q) {
        ex_check(GOC_ENOMEM, "goc_queue_new");
        return;
    }
    ex_log("producer: %d items into a queue of at most %d; the consumer takes 0.3 s each",
           NITEMS, QUEUE_MAX);
    goc_task *c = goc_spawn(consumer, q);
    if (!c) {
        ex_check(GOC_ENOMEM, "goc_spawn");
        goc_queue_free(q);
        return;
    }
    for (int i = 1; i <= NITEMS; i++) {
        ex_check(goc_queue_put(q, &i, -1), "goc_queue_put"); /* parks while full */
        ex_log("producer: put item %d | %zu queued", i, goc_queue_len(q));
    }
    ex_log("producer: all items queued; wait until every one is processed");
    ex_check(goc_queue_join(q, -1), "goc_queue_join");
    ex_log("producer: every item processed; close the queue");
    ex_check(goc_queue_close(q), "goc_queue_close");
    ex_check(goc_join(c, NULL), "goc_join");
    ex_check(goc_queue_free(q), "goc_queue_free");
}

int main(int argc, char **argv)
{
    ex_opts o = ex_parse(argc, argv, "producer_consumer: a bounded queue and backpressure");
    return ex_run(&o, "producer_consumer", producer_consumer);
}
