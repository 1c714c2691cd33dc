/*
 * sync_vs_async.c - three waits of 1 s: one after another, then together.
 *
 * The first idea of every asyncio article: awaiting three 1 s operations
 * one after another takes 3 s; starting them as tasks and then waiting for
 * all of them takes about 1 s, even on one thread, because a coroutine
 * that waits gives its thread to the others. The sleeps stand for network
 * requests. Both models give the same timeline: waiting overlaps whether
 * there is one worker (asyncio) or one per core (Go); more cores only
 * help code that computes (see cpu_bound).
 *
 * Twin: examples/python/sync_vs_async.py. Run:
 *   ./build/examples/sync_vs_async --workers 1     (asyncio model)
 *   ./build/examples/sync_vs_async                 (Go model: all cores)
 */
#include "example_util.h"

#define WAIT_NS (1000 * EX_MS)
#define NWAITS  3

/* One "request": wait 1 s. */
static void *request(void *arg)
{
    int i = (int)(intptr_t)arg;
    ex_check(goc_sleep(WAIT_NS), "goc_sleep");
    ex_log("concurrent: request %d done", i);
    return NULL;
}

static void one_after_another(void)
{
    ex_log("sequential: %d requests of 1 s, one after another", NWAITS);
    int64_t t = goc_now();
    for (int i = 1; i <= NWAITS; i++) {
        ex_check(goc_sleep(WAIT_NS), "goc_sleep"); /* asyncio: await asyncio.sleep(1) */
        ex_log("sequential: request %d done", i);
    }
    ex_log("sequential: all done | took %.3f s", (double)(goc_now() - t) / 1e9);
}

static void all_together(void)
{
    ex_log("concurrent: %d requests of 1 s as tasks, all at once", NWAITS);
    int64_t t = goc_now();
    goc_task *tasks[NWAITS];
    for (int i = 0; i < NWAITS; i++) /* asyncio.create_task; Go: go request(i) */
        tasks[i] = goc_spawn(request, (void *)(intptr_t)(i + 1));
    for (int i = 0; i < NWAITS; i++) {
        if (tasks[i] == NULL)
            ex_check(GOC_ENOMEM, "goc_spawn");
        else
            ex_check(goc_join(tasks[i], NULL), "goc_join");
    }
    ex_log("concurrent: all done | took %.3f s", (double)(goc_now() - t) / 1e9);
}

static void sync_vs_async(void)
{
    one_after_another();
    all_together();
}

int main(int argc, char **argv)
{
    ex_opts o = ex_parse(argc, argv, "sync_vs_async: three 1 s waits, one after another, then together");
    return ex_run(&o, "sync_vs_async", sync_vs_async);
}
