/*
 * wait_for_timeout.c - put a time limit on a task (asyncio.wait_for).
 *
 *   1. a 1 s operation with a 0.5 s limit: at 0.5 s goc_wait_for cancels
 *      it, waits for its cleanup, and returns GOC_ETIMEDOUT;
 *   2. a 0.2 s operation with the same limit: its result comes back at
 *      0.2 s, the limit never mattered;
 *   3. the Go way, on a channel: select on the result channel and a
 *      timeout (Go: select with time.After; asyncio: wait_for(queue.get())).
 *      The producer is not cancelled there: its late value just lands in
 *      the channel's buffer, which nobody reads any more.
 *
 * Twin: examples/python/wait_for_timeout.py.
 */
#include "example_util.h"

#define LIMIT_NS (500 * EX_MS)

static void *operation(void *arg)
{
    int64_t ns = *(const int64_t *)arg;
    if (goc_sleep(ns) == GOC_ECANCELED) {
        ex_log("operation: cancelled, cleaning up");
        return NULL;
    }
    ex_log("operation: finished");
    return (void *)(intptr_t)42;
}

static void limit(int64_t *ns, const char *label)
{
    ex_log("%s: start an operation of %.1f s with a 0.5 s limit", label, (double)*ns / 1e9);
    goc_task *t = goc_spawn(operation, ns);
    if (!t) {
        ex_check(GOC_ENOMEM, "goc_spawn");
        return;
    }
    void *result = NULL;
    int rc = goc_wait_for(t, LIMIT_NS, &result);
    if (rc == GOC_ETIMEDOUT)
        ex_log("%s: timed out", label);
    else if (rc == 0)
        ex_log("%s: got result %d", label, (int)(intptr_t)result);
    else
        ex_check(rc, "goc_wait_for");
}

static void producer(void *arg)
{
    goc_chan *ch = arg;
    if (goc_sleep(LIMIT_NS) != 0)
        return;
    int v = 7;
    ex_check(goc_chan_send(ch, &v), "goc_chan_send"); /* buffered: never blocks here */
    ex_log("channel: the producer sent its value, too late");
}

static void select_with_timeout(void)
{
    goc_chan *ch = goc_chan_make(sizeof(int), 1);
    if (!ch) {
        ex_check(GOC_ENOMEM, "goc_chan_make");
        return;
    }
    ex_log("channel: wait at most 0.3 s for a value that comes after 0.5 s");
    ex_check(goc_go(producer, ch), "goc_go");
    int v = 0;
    goc_case c[] = { { .ch = ch, .op = GOC_RECV, .elem = &v } };
    int rc = goc_select(c, 1, 300 * EX_MS);
    if (rc == GOC_ETIMEDOUT)
        ex_log("channel: timed out");
    else
        ex_check(rc < 0 ? rc : GOC_EINVAL, "goc_select should have timed out");
    ex_check(goc_sleep(300 * EX_MS), "goc_sleep"); /* let the producer finish */
    ex_log("channel: %zu value left unread in the buffer", goc_chan_len(ch));
    ex_check(goc_chan_free(ch), "goc_chan_free");
}

static void wait_for_timeout(void)
{
    int64_t slow = 1000 * EX_MS, fast = 200 * EX_MS;
    limit(&slow, "slow");
    limit(&fast, "fast");
    select_with_timeout();
}

int main(int argc, char **argv)
{
    ex_opts o = ex_parse(argc, argv, "wait_for_timeout: a time limit on a task");
    return ex_run(&o, "wait_for_timeout", wait_for_timeout);
}
