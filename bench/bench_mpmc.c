/*
 * bench_mpmc.c - mpmc: many producers and consumers on one buffered channel.
 *
 * One channel of capacity 128; 4 producers send the int64_t values 0..N-1
 * (producer p the ones with i % 4 == p); 4 consumers receive and sum until
 * the channel is closed, which the main coroutine does once every producer
 * has been joined. Figure: millions of messages per second (N / wall;
 * higher is better). Check: count == N and sum == N(N-1)/2, exactly.
 *
 * Channel calls that fail unexpectedly count an error (the check then
 * fails), and the coroutine closes or drains what it must so that nothing
 * is left blocked: a failed check never turns into a hang.
 */
#include "workloads.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>

#define MPMC_CAP       128
#define MPMC_PRODUCERS 4
#define MPMC_CONSUMERS 4

typedef struct mpmc_ctx mpmc_ctx;

typedef struct mpmc_arg {
    mpmc_ctx *c;
    int       k;     /* producer or consumer number */
    int64_t   sum;   /* consumers: what they received */
    long      count;
} mpmc_arg;

struct mpmc_ctx {
    long       n;
    goc_chan  *ch;
    mpmc_arg   prod[MPMC_PRODUCERS], cons[MPMC_CONSUMERS];
    atomic_int errors;
    int64_t    sum;
    long       count;
    sample    *s;
};

static void *mpmc_producer(void *arg)
{
    mpmc_arg *a = arg;
    for (int64_t i = a->k; i < a->c->n; i += MPMC_PRODUCERS) {
        if (goc_chan_send(a->c->ch, &i) != 0) {
            atomic_fetch_add(&a->c->errors, 1);
            break;
        }
    }
    return NULL;
}

static void *mpmc_consumer(void *arg)
{
    mpmc_arg *a = arg;
    int64_t v, sum = 0;
    long count = 0;
    int rc;
    while ((rc = goc_chan_recv(a->c->ch, &v)) == 0) {
        sum += v;
        count++;
    }
    if (rc != GOC_ECLOSED)
        atomic_fetch_add(&a->c->errors, 1);
    a->sum = sum;
    a->count = count;
    return NULL;
}

static void mpmc_main(void *arg)
{
    mpmc_ctx *c = arg;
    c->s->workers = goc_workers();
    c->ch = goc_chan_make(sizeof(int64_t), MPMC_CAP);
    if (!c->ch) {
        atomic_fetch_add(&c->errors, 1);
        return;
    }
    goc_task *prod[MPMC_PRODUCERS], *cons[MPMC_CONSUMERS];
    bool join_failed = false;

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    for (int k = 0; k < MPMC_PRODUCERS; k++) {
        c->prod[k] = (mpmc_arg){ .c = c, .k = k };
        prod[k] = goc_spawn(mpmc_producer, &c->prod[k]);
    }
    for (int k = 0; k < MPMC_CONSUMERS; k++) {
        c->cons[k] = (mpmc_arg){ .c = c, .k = k };
        cons[k] = goc_spawn(mpmc_consumer, &c->cons[k]);
    }
    for (int k = 0; k < MPMC_PRODUCERS; k++)
        if (!prod[k] || goc_join(prod[k], NULL) != 0)
            join_failed = true;
    goc_chan_close(c->ch);
    for (int k = 0; k < MPMC_CONSUMERS; k++)
        if (!cons[k] || goc_join(cons[k], NULL) != 0)
            join_failed = true;
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);

    goc_chan_free(c->ch);
    c->sum = 0;
    c->count = 0;
    for (int k = 0; k < MPMC_CONSUMERS; k++) {
        c->sum += c->cons[k].sum;
        c->count += c->cons[k].count;
    }
    if (join_failed)
        atomic_fetch_add(&c->errors, 1);
    int64_t want = (int64_t)c->n * (int64_t)(c->n - 1) / 2;
    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)c->n * 1e3 / (double)(t1 - t0); /* n / s / 1e6 */
    c->s->ok = atomic_load(&c->errors) == 0 && c->count == c->n && c->sum == want;
}

static void mpmc_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    (void)arg;
    mpmc_ctx c = { .n = o->n, .s = s };
    atomic_init(&c.errors, 0);
    if (!start_runtime(o, workers, mpmc_main, &c))
        s->ok = false;
    if (!s->ok)
        fprintf(stderr, "mpmc: count %ld sum %" PRId64 ", want %ld and %" PRId64
                        "; %d calls failed\n",
                c.count, c.sum, c.n, (int64_t)c.n * (int64_t)(c.n - 1) / 2,
                atomic_load(&c.errors));
}

bool bench_mpmc(const bench_opts *o)
{
    static const bench_line line = { .unit = "Mmsg/s", .per = "message" };
    return bench_run(o, mpmc_measure, NULL, &line);
}
