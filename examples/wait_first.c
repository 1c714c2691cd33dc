/*
 * wait_first.c - the first of several tasks to finish wins.
 *
 *   1. race (asyncio.wait FIRST_COMPLETED, Promise.race; Go: select over
 *      result channels): ask three mirrors, take the first answer, cancel
 *      the other two;
 *   2. first success (Promise.any): the fastest mirror fails, so wait on
 *      for the first one that succeeds;
 *   3. nobody in time: goc_wait_first with a timeout that passes first.
 *
 * goc_wait_first consumes nothing: the caller joins the winner and cancels
 * (then joins) the losers, as it would await or cancel asyncio tasks.
 * Twin: examples/python/wait_first.py.
 */
#include "example_util.h"

#define NMIRRORS 3

typedef struct mirror {
    int id;
    int64_t delay_ns;
    int fails;
} mirror;

static void *ask_mirror(void *arg)
{
    const mirror *m = arg;
    int rc = goc_sleep(m->delay_ns);
    if (rc == GOC_ECANCELED) {
        ex_log("mirror %d: cancelled", m->id);
        return NULL;
    }
    if (m->fails) {
        ex_log("mirror %d: failed", m->id);
        return goc_fail(GOC_ECLOSED);
    }
    ex_log("mirror %d: answered", m->id);
    return (void *)(intptr_t)(m->id * 100);
}

static int start_mirrors(const mirror *m, goc_task **t)
{
    for (int i = 0; i < NMIRRORS; i++) {
        t[i] = goc_spawn(ask_mirror, (void *)&m[i]);
        if (!t[i]) {
            ex_check(GOC_ENOMEM, "goc_spawn");
            for (int k = 0; k < i; k++) {
                goc_cancel(t[k]);
                goc_join(t[k], NULL);
            }
            return GOC_ENOMEM;
        }
    }
    return 0;
}

/* Cancel and join every task but `keep` (-1: all of them). */
static void cancel_the_rest(goc_task **t, int keep)
{
    for (int i = 0; i < NMIRRORS; i++)
        if (i != keep)
            goc_cancel(t[i]);
    for (int i = 0; i < NMIRRORS; i++)
        if (i != keep)
            goc_join(t[i], NULL); /* GOC_ECANCELED, or the loser's own outcome */
}

static void race(void)
{
    static const mirror m[NMIRRORS] = {
        { 1, 300 * EX_MS, 0 }, { 2, 100 * EX_MS, 0 }, { 3, 200 * EX_MS, 0 },
    };
    goc_task *t[NMIRRORS];
    ex_log("race: ask mirrors 1, 2, 3 (0.3 s, 0.1 s, 0.2 s)");
    if (start_mirrors(m, t) != 0)
        return;
    int first = goc_wait_first(t, NMIRRORS, -1);
    if (first < 0) {
        ex_check(first, "goc_wait_first");
        cancel_the_rest(t, -1);
        return;
    }
    ex_log("race: mirror %d was first; cancel the others", m[first].id);
    cancel_the_rest(t, first);
    void *answer = NULL;
    ex_check(goc_join(t[first], &answer), "goc_join");
    ex_log("race: answer %d", (int)(intptr_t)answer);
}

static void first_success(void)
{
    static const mirror m[NMIRRORS] = {
        { 1, 100 * EX_MS, 1 }, { 2, 200 * EX_MS, 0 }, { 3, 300 * EX_MS, 0 },
    };
    goc_task *t[NMIRRORS];
    ex_log("first success: mirror 1 fails at 0.1 s, 2 answers at 0.2 s, 3 at 0.3 s");
    if (start_mirrors(m, t) != 0)
        return;
    int ok = goc_wait_first_ok(t, NMIRRORS, -1);
    if (ok < 0) {
        ex_check(ok, "goc_wait_first_ok");
        cancel_the_rest(t, -1);
        return;
    }
    ex_log("first success: mirror %d; cancel the others", m[ok].id);
    cancel_the_rest(t, ok);
    void *answer = NULL;
    ex_check(goc_join(t[ok], &answer), "goc_join");
    ex_log("first success: answer %d", (int)(intptr_t)answer);
}

static void nobody_in_time(void)
{
    static const mirror m[NMIRRORS] = {
        { 1, 300 * EX_MS, 0 }, { 2, 100 * EX_MS, 0 }, { 3, 200 * EX_MS, 0 },
    };
    goc_task *t[NMIRRORS];
    ex_log("timeout: the same three mirrors, but wait at most 0.05 s");
    if (start_mirrors(m, t) != 0)
        return;
    int rc = goc_wait_first(t, NMIRRORS, 50 * EX_MS);
    if (rc == GOC_ETIMEDOUT)
        ex_log("timeout: no mirror answered within 0.05 s; cancel them all");
    else
        ex_check(rc < 0 ? rc : GOC_EINVAL, "goc_wait_first should have timed out");
    cancel_the_rest(t, -1);
    ex_log("timeout: all cancelled");
}

static void wait_first(void)
{
    race();
    first_success();
    nobody_in_time();
}

int main(int argc, char **argv)
{
    ex_opts o = ex_parse(argc, argv, "wait_first: the first task to finish wins");
    return ex_run(&o, "wait_first", wait_first);
}
