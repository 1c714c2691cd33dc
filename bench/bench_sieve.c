/*
 * bench_sieve.c - sieve: a long chain of coroutines and channels.
 *
 * The concurrent prime sieve (as in the Go tour): a generator sends 2, 3,
 * 4, ... on an unbuffered channel; the main coroutine receives a prime
 * from the last channel of the chain and starts a filter coroutine after
 * it (reading that channel, passing on what the prime does not divide on a
 * new unbuffered channel). Figure: ms until the K-th prime has arrived.
 * Check: the K primes equal a plain trial division's (computed before the
 * runs; the 3000th is 27449).
 *
 * Shutting down, outside the timing: main sets `stop`; the generator sees
 * it after its next send and closes its channel; a filter closes its output
 * once its input is closed; main drains the last channel, waits on a wg for
 * all of them, and frees the channels. A failed channel call counts an
 * error; the chain is still drained, so a failed check never hangs.
 */
#include "workloads.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define SIEVE_PRIME_3000 27449

typedef struct sieve_ctx sieve_ctx;

typedef struct sieve_arg {
    sieve_ctx *c;
    goc_chan  *in, *out;
    int64_t    prime;
} sieve_arg;

struct sieve_ctx {
    long        n;
    goc_chan  **chans;  /* n + 1 slots */
    long        nchans; /* made so far */
    sieve_arg  *args;   /* one per filter */
    int64_t    *primes; /* what main received */
    long        got;
    const int64_t *ref; /* the reference primes */
    goc_wg     *wg;
    atomic_int  stop;
    atomic_int  errors;
    sample     *s;
};

static void sieve_generate(void *arg)
{
    sieve_ctx *c = arg;
    goc_chan *out = c->chans[0];
    for (int64_t i = 2; !atomic_load_explicit(&c->stop, memory_order_relaxed); i++) {
        if (goc_chan_send(out, &i) != 0) {
            atomic_fetch_add(&c->errors, 1);
            break;
        }
    }
    goc_chan_close(out);
    goc_wg_done(c->wg);
}

static void sieve_filter(void *arg)
{
    sieve_arg *a = arg;
    int64_t v, prime = a->prime;
    bool failed = false;
    int rc;
    while ((rc = goc_chan_recv(a->in, &v)) == 0) {
        if (v % prime != 0 && !failed && goc_chan_send(a->out, &v) != 0) {
            atomic_fetch_add(&a->c->errors, 1);
            failed = true; /* go on draining the input: the chain must not stall */
        }
    }
    if (rc != GOC_ECLOSED)
        atomic_fetch_add(&a->c->errors, 1);
    goc_chan_close(a->out);
    goc_wg_done(a->c->wg);
}

static void sieve_main(void *arg)
{
    sieve_ctx *c = arg;
    c->s->workers = goc_workers();
    c->wg = goc_wg_new();
    c->chans[0] = goc_chan_make(sizeof(int64_t), 0);
    if (!c->wg || !c->chans[0]) {
        atomic_fetch_add(&c->errors, 1);
        goc_chan_free(c->chans[0]);
        goc_wg_free(c->wg);
        return;
    }
    c->nchans = 1;

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_wg_add(c->wg, 1);
    if (goc_go(sieve_generate, c) != 0) {
        atomic_fetch_add(&c->errors, 1);
        goc_wg_done(c->wg);
        goc_chan_close(c->chans[0]);
    }
    goc_chan *last = c->chans[0]; /* the channel main reads */
    for (long i = 0; i < c->n; i++) {
        int64_t p;
        if (goc_chan_recv(last, &p) != 0) {
            atomic_fetch_add(&c->errors, 1);
            break;
        }
        c->primes[c->got++] = p;
        goc_chan *next = goc_chan_make(sizeof(int64_t), 0);
        if (!next) {
            atomic_fetch_add(&c->errors, 1);
            break;
        }
        c->chans[c->nchans++] = next;
        c->args[i] = (sieve_arg){ c, last, next, p };
        goc_wg_add(c->wg, 1);
        if (goc_go(sieve_filter, &c->args[i]) != 0) {
            atomic_fetch_add(&c->errors, 1);
            goc_wg_done(c->wg);
            goc_chan_close(next); /* main goes on draining `last` itself */
            break;
        }
        last = next;
    }
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);

    atomic_store(&c->stop, 1);
    while (goc_chan_recv(last, NULL) == 0)
        ;
    int wrc = goc_wg_wait(c->wg);
    for (long i = 0; i < c->nchans; i++)
        goc_chan_free(c->chans[i]);
    goc_wg_free(c->wg);

    bool same = c->got == c->n;
    for (long i = 0; same && i < c->n; i++)
        same = c->primes[i] == c->ref[i];
    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)(t1 - t0) / NS_PER_MS;
    c->s->ok = wrc == 0 && atomic_load(&c->errors) == 0 && same &&
               (c->n != 3000 || c->primes[2999] == SIEVE_PRIME_3000);
}

static void sieve_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    sieve_ctx *c = arg;
    c->s = s;
    c->nchans = 0;
    c->got = 0;
    atomic_store(&c->stop, 0);
    atomic_store(&c->errors, 0);
    if (!start_runtime(o, workers, sieve_main, c))
        s->ok = false;
    if (!s->ok)
        fprintf(stderr, "sieve: %ld primes, last %" PRId64 " (want %ld, last %" PRId64
                        "); %d calls failed\n",
                c->got, c->got ? c->primes[c->got - 1] : (int64_t)0, c->n,
                c->ref[c->n - 1], atomic_load(&c->errors));
}

static void sieve_fields(const bench_opts *o, const sample *m, void *arg)
{
    (void)m;
    const sieve_ctx *c = arg;
    json_int("last_prime", (long long)c->ref[o->n - 1]);
}

static const bench_line sieve_line = { .unit = "ms", .per = "prime", .extra = sieve_fields };

bool bench_sieve(const bench_opts *o)
{
    sieve_ctx c = { .n = o->n };
    c.chans = calloc((size_t)o->n + 1, sizeof *c.chans);
    c.args = calloc((size_t)o->n, sizeof *c.args);
    c.primes = calloc((size_t)o->n, sizeof *c.primes);
    int64_t *ref = calloc((size_t)o->n, sizeof *ref);
    atomic_init(&c.stop, 0);
    atomic_init(&c.errors, 0);
    bool ok = false;
    if (!c.chans || !c.args || !c.primes || !ref) {
        fprintf(stderr, "sieve: out of memory\n");
        goto out;
    }
    /* the reference: trial division by the primes found so far */
    long k = 0;
    for (int64_t cand = 2; k < o->n; cand++) {
        bool prime = true;
        for (long j = 0; j < k && ref[j] * ref[j] <= cand; j++)
            if (cand % ref[j] == 0) {
                prime = false;
                break;
            }
        if (prime)
            ref[k++] = cand;
    }
    c.ref = ref;

    ok = bench_run(o, sieve_measure, &c, &sieve_line);
out:
    free(c.chans);
    free(c.args);
    free(c.primes);
    free(ref);
    return ok;
}
