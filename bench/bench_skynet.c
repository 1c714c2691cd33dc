/*
 * bench_skynet.c - skynet: a million coroutines in a tree.
 *
 * The skynet tree: the root covers leaves 0..N-1; a node of size > 1 makes
 * a buffered channel of capacity 10, starts its (up to) 10 children with
 * goc_go on even shares of its range, receives their 10 subtotals, frees
 * the channel and sends the sum on its parent's channel; leaf i sends i.
 * The children's arguments live on the parent's stack: it outlives their
 * reading them, as it waits for every child's subtotal. Figure: ms for the
 * whole tree. Check: sum == N(N-1)/2 (499999500000 for 1,000,000 leaves).
 */
#include "workloads.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>

#define SKYNET_FANOUT 10

typedef struct skynet_arg {
    goc_chan   *out;
    int64_t     num, size;
    atomic_int *errors;
} skynet_arg;

static void skynet_node(void *arg)
{
    skynet_arg *a = arg;
    goc_chan *out = a->out;
    int64_t num = a->num, size = a->size;
    atomic_int *errors = a->errors;

    int64_t sum = 0;
    if (size == 1) {
        sum = num;
    } else {
        int64_t kids = size < SKYNET_FANOUT ? size : SKYNET_FANOUT;
        goc_chan *ch = goc_chan_make(sizeof(int64_t), SKYNET_FANOUT);
        if (!ch) {
            atomic_fetch_add(errors, 1);
        } else {
            skynet_arg kid[SKYNET_FANOUT];
            int64_t start = num, started = 0;
            for (int64_t i = 0; i < kids; i++) {
                int64_t share = size / kids + (i < size % kids ? 1 : 0);
                kid[i] = (skynet_arg){ ch, start, share, errors };
                start += share;
                if (goc_go(skynet_node, &kid[i]) != 0)
                    atomic_fetch_add(errors, 1);
                else
                    started++;
            }
            int64_t received = 0;
            for (; received < started; received++) {
                int64_t v;
                if (goc_chan_recv(ch, &v) != 0) {
                    atomic_fetch_add(errors, 1);
                    break;
                }
                sum += v;
            }
            if (received == started) /* else children may still use it: leak it */
                goc_chan_free(ch);
        }
    }
    if (goc_chan_send(out, &sum) != 0)
        atomic_fetch_add(errors, 1);
}

typedef struct skynet_ctx {
    long       n;
    int64_t    sum;
    atomic_int errors;
    sample    *s;
} skynet_ctx;

static void skynet_main(void *arg)
{
    skynet_ctx *c = arg;
    c->s->workers = goc_workers();

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_chan *root = goc_chan_make(sizeof(int64_t), 1);
    if (!root) {
        atomic_fetch_add(&c->errors, 1);
        return;
    }
    skynet_arg a = { root, 0, c->n, &c->errors };
    int rc = goc_go(skynet_node, &a);
    if (rc == 0)
        rc = goc_chan_recv(root, &c->sum);
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);
    goc_chan_free(root);

    int64_t want = (int64_t)c->n * (int64_t)(c->n - 1) / 2;
    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)(t1 - t0) / NS_PER_MS;
    c->s->ok = rc == 0 && atomic_load(&c->errors) == 0 && c->sum == want;
}

static void skynet_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    (void)arg;
    skynet_ctx c = { .n = o->n, .s = s };
    atomic_init(&c.errors, 0);
    if (!start_runtime(o, workers, skynet_main, &c))
        s->ok = false;
    if (!s->ok)
        fprintf(stderr, "skynet: sum %" PRId64 ", want %" PRId64 "; %d calls failed\n", c.sum,
                (int64_t)c.n * (int64_t)(c.n - 1) / 2, atomic_load(&c.errors));
}

static void skynet_fields(const bench_opts *o, const sample *m, void *arg)
{
    (void)o;
    (void)m;
    (void)arg;
    json_int("fanout", SKYNET_FANOUT);
    json_str("node_chan", "buffered, capacity 10");
}

bool bench_skynet(const bench_opts *o)
{
    static const bench_line line = { .unit = "ms", .per = "leaf", .extra = skynet_fields };
    return bench_run(o, skynet_measure, NULL, &line);
}
