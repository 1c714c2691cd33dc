/*
 * gather.c - start several tasks, wait for all of them (asyncio.gather).
 *
 *   1. three fetches of 0.3 s, 0.1 s and 0.2 s run together: all done after
 *      0.3 s (the longest, not the sum), results in argument order however
 *      they finished;
 *   2. fail fast (asyncio.gather, Promise.all): fetch 2 fails at 0.1 s and
 *      goc_gather returns its error at once; the other two are not
 *      cancelled, they run on, detached, as in asyncio;
 *   3. settled (return_exceptions=True, Promise.allSettled): wait for all
 *      three and get each one's outcome.
 *
 * Go has no gather: a WaitGroup and a slice of results (or errgroup).
 * Twin: examples/python/gather.py.
 */
#include "example_util.h"

#define NFETCH 3

typedef struct fetch {
    int user;
    int64_t delay_ns;
    int fails;  /* 1: fail instead of answering */
} fetch;

static void *fetch_user(void *arg)
{
    const fetch *f = arg;
    int rc = goc_sleep(f->delay_ns); /* the request */
    if (rc != 0)
        return goc_fail(rc);
    if (f->fails) {
        ex_log("fetch user %d failed", f->user);
        return goc_fail(GOC_ETIMEDOUT);
    }
    ex_log("fetch user %d done", f->user);
    return (void *)(intptr_t)f->user;
}

static int start_all(const fetch *f, goc_task **tasks)
{
    for (int i = 0; i < NFETCH; i++) {
        tasks[i] = goc_spawn(fetch_user, (void *)&f[i]);
        if (!tasks[i]) {
            ex_check(GOC_ENOMEM, "goc_spawn");
            for (int k = 0; k < i; k++)
                goc_join(tasks[k], NULL);
            return GOC_ENOMEM;
        }
    }
    return 0;
}

static void gather_all(void)
{
    static const fetch f[NFETCH] = {
        { 1, 300 * EX_MS, 0 }, { 2, 100 * EX_MS, 0 }, { 3, 200 * EX_MS, 0 },
    };
    goc_task *tasks[NFETCH];
    ex_log("gather: fetch users 1, 2, 3 (0.3 s, 0.1 s, 0.2 s)");
    if (start_all(f, tasks) != 0)
        return;
    void *results[NFETCH];
    int rc = goc_gather(tasks, NFETCH, results, NULL, 0);
    ex_check(rc, "goc_gather");
    if (rc == 0)
        ex_log("gather: results in argument order: user_%d user_%d user_%d",
               (int)(intptr_t)results[0], (int)(intptr_t)results[1],
               (int)(intptr_t)results[2]);
}

static void gather_fail_fast(void)
{
    static const fetch f[NFETCH] = {
        { 1, 300 * EX_MS, 0 }, { 2, 100 * EX_MS, 1 }, { 3, 200 * EX_MS, 0 },
    };
    goc_task *tasks[NFETCH];
    ex_log("fail fast: fetch users 1, 2, 3; fetch 2 fails after 0.1 s");
    if (start_all(f, tasks) != 0)
        return;
    int rc = goc_gather(tasks, NFETCH, NULL, NULL, 0);
    ex_log("fail fast: gather raised the first failure | %s", goc_strerror(rc));
    if (rc != GOC_ETIMEDOUT)
        ex_check(GOC_EINVAL, "goc_gather did not report fetch 2's failure");
    /* Fetches 1 and 3 were not cancelled: they finish on their own. */
    ex_check(goc_sleep(300 * EX_MS), "goc_sleep");
    ex_log("fail fast: the other two fetches finished on their own");
}

static void gather_settled(void)
{
    static const fetch f[NFETCH] = {
        { 1, 300 * EX_MS, 0 }, { 2, 100 * EX_MS, 1 }, { 3, 200 * EX_MS, 0 },
    };
    goc_task *tasks[NFETCH];
    ex_log("settled: the same, waiting for every outcome");
    if (start_all(f, tasks) != 0)
        return;
    void *results[NFETCH];
    int errs[NFETCH];
    ex_check(goc_gather(tasks, NFETCH, results, errs, GOC_GATHER_SETTLED), "goc_gather");
    char line[128] = "";
    for (int i = 0; i < NFETCH; i++) {
        char one[40];
        if (errs[i] == 0)
            snprintf(one, sizeof one, " user_%d", (int)(intptr_t)results[i]);
        else
            snprintf(one, sizeof one, " error");
        strncat(line, one, sizeof line - strlen(line) - 1);
    }
    ex_log("settled: outcomes in argument order:%s", line);
}

static void gather(void)
{
    gather_all();
    gather_fail_fast();
    gather_settled();
}

int main(int argc, char **argv)
{
    ex_opts o = ex_parse(argc, argv, "gather: wait for several tasks (asyncio.gather)");
    return ex_run(&o, "gather", gather);
}
