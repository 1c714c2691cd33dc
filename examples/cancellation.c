/*
 * cancellation.c - cancelling a task, and why cancellation is cooperative.
 *
 *   1. A worker task loops "one step every 0.2 s". At 0.5 s the main
 *      coroutine cancels it: the sleep it is parked in returns
 *      GOC_ECANCELED (asyncio raises CancelledError there), the worker
 *      cleans up and returns, and goc_join reports GOC_ECANCELED.
 *   2. A cruncher computes for 0.3 s without a single blocking call; the
 *      main coroutine wants to cancel it after 0.1 s. A cancel is only
 *      noticed at a blocking call, so the cruncher finishes its 0.3 s
 *      either way, and is cancelled at its next sleep. With one worker
 *      (asyncio model) it is worse: the main coroutine itself cannot run
 *      while the cruncher holds the only thread, so the cancel is issued
 *      0.2 s late. With all cores (Go model) another worker can run the
 *      main coroutine on time and issue the cancel at 0.1 s: an idle
 *      worker fires the stuck worker's due timers, as Go's scheduler
 *      does.
 *
 * goc_cancel is asyncio's task.cancel() and Go's context cancel: a request,
 * never a kill. C code gets the error code at the blocking call and runs
 * its cleanup, which is why a cancelled coroutine always gets to run.
 *
 * Twin: examples/python/cancellation.py.
 */
#include "example_util.h"

#define STEP_NS     (200 * EX_MS)
#define CANCEL_AT   (500 * EX_MS)
#define CRUNCH_NS   (300 * EX_MS)
#define CRUNCH_WANT (100 * EX_MS)

static void *worker(void *arg)
{
    (void)arg;
    for (int step = 1;; step++) {
        ex_log("worker: step %d", step);
        int rc = goc_sleep(STEP_NS);
        if (rc == GOC_ECANCELED) {
            ex_log("worker: cancelled during step %d, cleaning up", step);
            return NULL; /* goc_join reports GOC_ECANCELED */
        }
        ex_check(rc, "goc_sleep");
    }
}

static void cancel_a_waiting_task(void)
{
    ex_log("main: start the worker, cancel it at 0.5 s");
    goc_task *t = goc_spawn(worker, NULL);
    if (!t) {
        ex_check(GOC_ENOMEM, "goc_spawn");
        return;
    }
    ex_check(goc_sleep(CANCEL_AT), "goc_sleep");
    ex_log("main: cancel the worker");
    ex_check(goc_cancel(t), "goc_cancel");
    int rc = goc_join(t, NULL);
    ex_log("main: the worker ended %s", rc == GOC_ECANCELED ? "cancelled" : "normally");
}

/* Pure computation: no blocking call, so no cancellation point. */
static void spin_for(int64_t ns)
{
    volatile uint64_t x = 1;
    int64_t end = goc_now() + ns;
    while (goc_now() < end)
        for (int i = 0; i < 1000; i++)
            x = x * 6364136223846793005ULL + 1;
}

static void *cruncher(void *arg)
{
    (void)arg;
    ex_log("cruncher: computing for 0.3 s without a blocking call");
    spin_for(CRUNCH_NS);
    ex_log("cruncher: done computing, now sleeps 0.1 s");
    if (goc_sleep(100 * EX_MS) == GOC_ECANCELED) {
        ex_log("cruncher: cancelled at its sleep");
        return NULL; /* goc_join reports GOC_ECANCELED */
    }
    ex_log("cruncher: finished without being cancelled");
    return NULL;
}

static void cancel_a_computing_task(void)
{
    ex_log("main: start the cruncher, cancel it at 0.1 s");
    int64_t t0 = goc_now();
    goc_task *t = goc_spawn(cruncher, NULL);
    if (!t) {
        ex_check(GOC_ENOMEM, "goc_spawn");
        return;
    }
    ex_check(goc_sleep(CRUNCH_WANT), "goc_sleep");
    ex_log("main: cancel the cruncher | asked for 0.100 s, issued after %.3f s",
           (double)(goc_now() - t0) / 1e9);
    ex_check(goc_cancel(t), "goc_cancel");
    int rc = goc_join(t, NULL);
    ex_log("main: the cruncher ended %s", rc == GOC_ECANCELED ? "cancelled" : "normally");
}

static void cancellation(void)
{
    cancel_a_waiting_task();
    cancel_a_computing_task();
}

int main(int argc, char **argv)
{
    ex_opts o = ex_parse(argc, argv, "cancellation: goc_cancel, and why it is cooperative");
    return ex_run(&o, "cancellation", cancellation);
}
