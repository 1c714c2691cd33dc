/*
 * bench_spawn.c - spawn: what starting a coroutine costs.
 *
 * N coroutines that each do nothing but goc_wg_done; the main coroutine
 * starts them all with goc_go and waits on the wait group. Figure: ns per
 * coroutine (wall / N), spawn to the last one's exit. Check: every goc_go
 * succeeded and the wait returned 0.
 */
#include "workloads.h"

#include <stdio.h>

typedef struct spawn_ctx {
    long    n;
    long    go_failed;
    sample *s;
} spawn_ctx;

static void spawn_child(void *wg)
{
    goc_wg_done(wg);
}

static void spawn_main(void *arg)
{
    spawn_ctx *c = arg;
    c->s->workers = goc_workers();
    goc_wg *wg = goc_wg_new();
    if (!wg)
        return;

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_wg_add(wg, (int)c->n);
    for (long i = 0; i < c->n; i++) {
        if (goc_go(spawn_child, wg) != 0) {
            c->go_failed++;
            goc_wg_done(wg);
        }
    }
    int rc = goc_wg_wait(wg);
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);

    goc_wg_free(wg);
    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)(t1 - t0) / (double)c->n;
    c->s->ok = rc == 0 && c->go_failed == 0;
}

static void spawn_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    (void)arg;
    spawn_ctx c = { .n = o->n, .s = s };
    if (!start_runtime(o, workers, spawn_main, &c))
        s->ok = false;
    if (c.go_failed)
        fprintf(stderr, "spawn: %ld goc_go calls failed\n", c.go_failed);
}

bool bench_spawn(const bench_opts *o)
{
    static const bench_line line = { .unit = "ns/coroutine", .per = "coroutine" };
    return bench_run(o, spawn_measure, NULL, &line);
}
