/*
 * bench_pingpong.c - pingpong: a hand-off over unbuffered channels.
 *
 * Two coroutines bounce an int64_t counter over two unbuffered channels:
 * A sends c on ping and receives c + 1 on pong, N times; B does the other
 * half. Figure: ns per round trip (wall / N). Check: the counter came back
 * as N.
 *
 * Channel calls that fail unexpectedly count an error (the check then
 * fails), and the coroutine closes or drains what it must so that nothing
 * is left blocked: a failed check never turns into a hang.
 */
#include "workloads.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>

typedef struct pingpong_ctx {
    long       n;
    goc_chan  *ping, *pong;
    int64_t    final;
    atomic_int errors;
    sample    *s;
} pingpong_ctx;

/* On a failed call: count it and close both channels, so the other side
 * gets GOC_ECLOSED instead of waiting forever. */
static void pingpong_fail(pingpong_ctx *c)
{
    atomic_fetch_add(&c->errors, 1);
    goc_chan_close(c->ping);
    goc_chan_close(c->pong);
}

static void *pingpong_a(void *arg)
{
    pingpong_ctx *c = arg;
    int64_t v = 0;
    for (long i = 0; i < c->n; i++) {
        if (goc_chan_send(c->ping, &v) != 0 || goc_chan_recv(c->pong, &v) != 0) {
            pingpong_fail(c);
            break;
        }
    }
    c->final = v;
    return NULL;
}

static void *pingpong_b(void *arg)
{
    pingpong_ctx *c = arg;
    int64_t v;
    for (long i = 0; i < c->n; i++) {
        if (goc_chan_recv(c->ping, &v) != 0) {
            pingpong_fail(c);
            break;
        }
        v++;
        if (goc_chan_send(c->pong, &v) != 0) {
            pingpong_fail(c);
            break;
        }
    }
    return NULL;
}

static void pingpong_main(void *arg)
{
    pingpong_ctx *c = arg;
    c->s->workers = goc_workers();
    c->ping = goc_chan_make(sizeof(int64_t), 0);
    c->pong = goc_chan_make(sizeof(int64_t), 0);
    if (!c->ping || !c->pong) {
        atomic_fetch_add(&c->errors, 1);
        goto out;
    }

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_task *a = goc_spawn(pingpong_a, c);
    goc_task *b = goc_spawn(pingpong_b, c);
    if (!a || !b) { /* the one that started must not wait forever */
        atomic_fetch_add(&c->errors, 1);
        goc_chan_close(c->ping);
        goc_chan_close(c->pong);
    }
    int rca = a ? goc_join(a, NULL) : -1;
    int rcb = b ? goc_join(b, NULL) : -1;
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);

    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)(t1 - t0) / (double)c->n;
    c->s->ok = rca == 0 && rcb == 0 && atomic_load(&c->errors) == 0 && c->final == c->n;
out:
    goc_chan_free(c->ping);
    goc_chan_free(c->pong);
}

static void pingpong_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    (void)arg;
    pingpong_ctx c = { .n = o->n, .final = -1, .s = s };
    atomic_init(&c.errors, 0);
    if (!start_runtime(o, workers, pingpong_main, &c))
        s->ok = false;
    if (atomic_load(&c.errors))
        fprintf(stderr, "pingpong: %d channel or spawn calls failed\n", atomic_load(&c.errors));
    if (c.final != c.n)
        fprintf(stderr, "pingpong: counter %" PRId64 ", want %ld\n", c.final, c.n);
}

bool bench_pingpong(const bench_opts *o)
{
    static const bench_line line = { .unit = "ns/roundtrip", .per = "roundtrip" };
    return bench_run(o, pingpong_measure, NULL, &line);
}
