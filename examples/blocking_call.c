/*
 * blocking_call.c - a blocking call inside a coroutine, and the way out.
 *
 * A ticker coroutine prints a tick every 100 ms. Meanwhile another
 * coroutine makes a 0.5 s blocking call (usleep, standing for any call
 * that blocks the thread: a synchronous HTTP client, a database driver,
 * time.sleep in Python):
 *
 *   direct      the blocking call made straight from the coroutine.
 *               One worker (asyncio model): the only thread is stuck in
 *               usleep, so the event loop stops and the ticks stop for
 *               0.5 s - the classic asyncio mistake. All cores (Go model):
 *               only the worker running the blocking call is stuck; what
 *               the other workers run keeps going, and an idle worker
 *               fires the stuck worker's due timers (as Go's scheduler
 *               does), so the ticker keeps ticking.
 *   to_thread   the same call handed to goc_to_thread (asyncio.to_thread):
 *               it runs on libuv's thread pool, only the calling coroutine
 *               waits, and the ticker keeps ticking in both models.
 *
 * Run with GOC_DEBUG=1 to have the runtime name the coroutine that held
 * its worker for more than 100 ms.
 *
 * Twin: examples/python/blocking_call.py.
 */
#include <unistd.h>

#include "example_util.h"

#define TICK_NS   (100 * EX_MS)
#define NTICKS    8
#define BLOCK_AT  (250 * EX_MS) /* between two ticks */
#define BLOCK_US  500000        /* the blocking call: 0.5 s */

typedef struct phase {
    const char *name;  /* "direct" or "to_thread" */
    int offload;       /* 1: through goc_to_thread */
    int64_t max_gap;   /* the longest time between two ticks, ns */
} phase;

static void *ticker(void *arg)
{
    phase *p = arg;
    int64_t last = goc_now();
    for (int i = 1; i <= NTICKS; i++) {
        if (goc_sleep(TICK_NS) != 0)
            break;
        int64_t now = goc_now();
        if (now - last > p->max_gap)
            p->max_gap = now - last;
        last = now;
        ex_log("%s: tick %d | worker %d", p->name, i, goc_worker_id());
    }
    return NULL;
}

/* The blocking call itself: it knows nothing about coroutines. */
static void *blocking_io(void *arg)
{
    (void)arg;
    usleep(BLOCK_US);
    return NULL;
}

static void *blocker(void *arg)
{
    phase *p = arg;
    ex_check(goc_sleep(BLOCK_AT), "goc_sleep");
    if (p->offload) {
        ex_log("%s: blocker runs the 0.5 s call on a thread | goc_to_thread", p->name);
        ex_check(goc_to_thread(blocking_io, NULL, NULL), "goc_to_thread");
    } else {
        ex_log("%s: blocker makes a 0.5 s blocking call | worker %d", p->name,
               goc_worker_id());
        blocking_io(NULL);
    }
    ex_log("%s: blocker is back", p->name);
    return NULL;
}

static void run_phase(phase *p)
{
    ex_log("%s: start the ticker and the blocker", p->name);
    goc_task *t = goc_spawn_named("ticker", ticker, p);
    goc_task *b = goc_spawn_named("blocker", blocker, p);
    ex_check(t ? goc_join(t, NULL) : GOC_ENOMEM, "ticker");
    ex_check(b ? goc_join(b, NULL) : GOC_ENOMEM, "blocker");
    ex_log("%s: both done | longest gap between ticks %.2f s", p->name,
           (double)p->max_gap / 1e9);
}

static void blocking_call(void)
{
    phase direct = { "direct", 0, 0 };
    phase offload = { "to_thread", 1, 0 };
    run_phase(&direct);
    run_phase(&offload);
}

int main(int argc, char **argv)
{
    ex_opts o = ex_parse(argc, argv, "blocking_call: a blocking call freezes one worker; goc_to_thread does not");
    return ex_run(&o, "blocking_call", blocking_call);
}
