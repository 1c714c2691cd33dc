/*
 * bench_timers.c - timers: how late sleeping coroutines wake.
 *
 * N coroutines each sleep a pseudo-random 0..100 ms (xorshift64, fixed
 * seed, microsecond steps). Each records its lateness = wake time -
 * deadline, where deadline = goc_now() when it starts to sleep + duration.
 * Figures: p99 lateness in µs (value), "p50_us", "p99_us", and "total_ms"
 * from the first spawn until all have woken. Check: all woke and none woke
 * early (lateness >= 0). Sorting happens after goc_run returns.
 */
#include "workloads.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define TIMER_SEED   UINT64_C(0x2545F4914F6CDD1D)
#define TIMER_MAX_US 100000

typedef struct timer_arg timer_arg;

typedef struct timer_ctx {
    long        n;
    int64_t    *dur_ns;       /* per coroutine, drawn up front */
    int64_t    *late_ns;      /* per coroutine, written by it; INT64_MIN: never woke */
    timer_arg  *args;
    goc_wg     *wg;
    atomic_long sleep_failed; /* goc_sleep returned non-zero */
    long        go_failed;
    int         wait_rc;
    sample     *s;
} timer_ctx;

struct timer_arg {
    timer_ctx *c;
    long       i;
};

static void timer_child(void *arg)
{
    timer_arg *a = arg;
    timer_ctx *c = a->c;
    int64_t d = c->dur_ns[a->i];
    int64_t deadline = goc_now() + d;
    if (goc_sleep(d) != 0)
        atomic_fetch_add(&c->sleep_failed, 1);
    c->late_ns[a->i] = goc_now() - deadline;
    goc_wg_done(c->wg);
}

static void timer_main(void *arg)
{
    timer_ctx *c = arg;
    c->s->workers = goc_workers();
    c->wg = goc_wg_new();
    if (!c->wg)
        return;

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_wg_add(c->wg, (int)c->n);
    for (long i = 0; i < c->n; i++) {
        if (goc_go(timer_child, &c->args[i]) != 0) {
            c->go_failed++;
            goc_wg_done(c->wg);
        }
    }
    c->wait_rc = goc_wg_wait(c->wg);
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);
    goc_wg_free(c->wg);

    c->s->span_ns = t1 - t0;
    c->s->fig[2] = (double)(t1 - t0) / NS_PER_MS;
    c->s->ok = true; /* the rest of the check is in timer_measure */
}

static void timer_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    timer_ctx *c = arg;
    c->s = s;
    c->go_failed = 0;
    c->wait_rc = -1;
    atomic_store(&c->sleep_failed, 0);
    for (long i = 0; i < c->n; i++)
        c->late_ns[i] = INT64_MIN;
    if (!start_runtime(o, workers, timer_main, c) || !s->ok) {
        s->ok = false;
        return;
    }

    /* INT64_MIN (never woke) sorts first and fails the "not early" check */
    qsort(c->late_ns, (size_t)c->n, sizeof *c->late_ns, cmp_i64);
    bool none_early = c->late_ns[0] >= 0;
    s->fig[0] = (double)percentile_sorted(c->late_ns, (size_t)c->n, 0.50) / NS_PER_US;
    s->fig[1] = (double)percentile_sorted(c->late_ns, (size_t)c->n, 0.99) / NS_PER_US;
    s->ok = c->wait_rc == 0 && c->go_failed == 0 && none_early &&
            atomic_load(&c->sleep_failed) == 0;
    if (!none_early)
        fprintf(stderr, "timers: a coroutine woke early or never (min lateness %" PRId64 " ns)\n",
                c->late_ns[0]);
    if (c->go_failed)
        fprintf(stderr, "timers: %ld goc_go calls failed\n", c->go_failed);
    if (atomic_load(&c->sleep_failed))
        fprintf(stderr, "timers: %ld goc_sleep calls failed\n", (long)atomic_load(&c->sleep_failed));
}

/* fig[0] p50, fig[1] p99 (also the value), fig[2] total */
static void timer_fields(const bench_opts *o, const sample *m, void *arg)
{
    (void)o;
    (void)arg;
    json_num("p50_us", m->fig[0]);
    json_num("p99_us", m->fig[1]);
    json_num("total_ms", m->fig[2]);
}

static const bench_line timer_line = {
    .unit = "us", .value_fig = 1, .per = "sleeper", .extra = timer_fields
};

bool bench_timers(const bench_opts *o)
{
    timer_ctx c = { .n = o->n };
    c.dur_ns = calloc((size_t)o->n, sizeof *c.dur_ns);
    c.late_ns = calloc((size_t)o->n, sizeof *c.late_ns);
    c.args = calloc((size_t)o->n, sizeof *c.args);
    atomic_init(&c.sleep_failed, 0);
    bool ok = false;
    if (!c.dur_ns || !c.late_ns || !c.args) {
        fprintf(stderr, "timers: out of memory\n");
        goto out;
    }
    uint64_t x = TIMER_SEED;
    for (long i = 0; i < o->n; i++) {
        x = xorshift64(x);
        c.dur_ns[i] = (int64_t)(x % (TIMER_MAX_US + 1)) * 1000;
        c.args[i] = (timer_arg){ &c, i };
    }

    ok = bench_run(o, timer_measure, &c, &timer_line);
out:
    free(c.dur_ns);
    free(c.late_ns);
    free(c.args);
    return ok;
}
