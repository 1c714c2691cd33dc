/*
 * bench_yield.c - yield: what a switch between two coroutines costs.
 *
 * Two coroutines each call goc_yield N times; by default on one worker, so
 * every yield is a switch to the other. Figure: ns per switch (wall / 2N),
 * from spawning both to joining both. Check: both counters reached N.
 */
#include "workloads.h"

typedef struct yield_ctx {
    long    n;
    long    count[2];
    sample *s;
} yield_ctx;

typedef struct yield_arg {
    long  n;
    long *count;
} yield_arg;

static void *yield_loop(void *arg)
{
    yield_arg *a = arg;
    long i;
    for (i = 0; i < a->n; i++)
        goc_yield();
    *a->count = i;
    return NULL;
}

static void yield_main(void *arg)
{
    yield_ctx *c = arg;
    c->s->workers = goc_workers();
    yield_arg a[2] = { { c->n, &c->count[0] }, { c->n, &c->count[1] } };
    c->count[0] = c->count[1] = 0;

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_task *t[2] = { goc_spawn(yield_loop, &a[0]), goc_spawn(yield_loop, &a[1]) };
    int rc0 = t[0] ? goc_join(t[0], NULL) : -1;
    int rc1 = t[1] ? goc_join(t[1], NULL) : -1;
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, 2.0 * (double)c->n);

    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)(t1 - t0) / (2.0 * (double)c->n);
    c->s->ok = rc0 == 0 && rc1 == 0 && c->count[0] == c->n && c->count[1] == c->n;
}

static void yield_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    (void)arg;
    yield_ctx c = { .n = o->n, .s = s };
    if (!start_runtime(o, workers, yield_main, &c))
        s->ok = false;
}

bool bench_yield(const bench_opts *o)
{
    static const bench_line line = { .unit = "ns/switch", .per = "switch" };
    return bench_run(o, yield_measure, NULL, &line);
}
