/*
 * bench_select.c - select: one receiver selecting over four channels.
 *
 * 4 unbuffered channels and 4 senders: sender k sends the int64_t values
 * i < N with i % 4 == k (N/4 each, the first N % 4 one more), then closes
 * its channel. The main coroutine receives with goc_select over all 4
 * (timeout -1); a case that reports GOC_ECLOSED gets a NULL channel (never
 * ready again, as Go's nil channel), until all 4 are closed. Figure: ns
 * per select = wall / N (the N selects that took a value; the 4 that saw a
 * close are not counted). Check: N values received, each channel's count
 * right, and their sum == N(N-1)/2.
 *
 * Channel calls that fail unexpectedly count an error (the check then
 * fails), and the coroutine closes or drains what it must so that nothing
 * is left blocked: a failed check never turns into a hang.
 */
#include "workloads.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>

#define SELECT_CHANS 4

typedef struct select_ctx select_ctx;

typedef struct select_arg {
    select_ctx *c;
    int         k;
} select_arg;

struct select_ctx {
    long       n;
    goc_chan  *ch[SELECT_CHANS];
    select_arg args[SELECT_CHANS];
    long       got[SELECT_CHANS];
    int64_t    sum;
    long       selects;
    atomic_int errors;
    sample    *s;
};

static void *select_sender(void *arg)
{
    select_arg *a = arg;
    select_ctx *c = a->c;
    for (int64_t i = a->k; i < c->n; i += SELECT_CHANS) {
        if (goc_chan_send(c->ch[a->k], &i) != 0) {
            atomic_fetch_add(&c->errors, 1);
            break;
        }
    }
    goc_chan_close(c->ch[a->k]);
    return NULL;
}

static void select_main(void *arg)
{
    select_ctx *c = arg;
    c->s->workers = goc_workers();
    goc_task *t[SELECT_CHANS] = { NULL };
    bool made = true;
    for (int k = 0; k < SELECT_CHANS; k++) {
        c->ch[k] = goc_chan_make(sizeof(int64_t), 0);
        c->args[k] = (select_arg){ c, k };
        made = made && c->ch[k];
    }
    if (!made) {
        atomic_fetch_add(&c->errors, 1);
        goto out;
    }

    int64_t v = 0;
    goc_case cases[SELECT_CHANS];
    for (int k = 0; k < SELECT_CHANS; k++)
        cases[k] = (goc_case){ .ch = c->ch[k], .op = GOC_RECV, .elem = &v };

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    for (int k = 0; k < SELECT_CHANS; k++) {
        t[k] = goc_spawn(select_sender, &c->args[k]);
        if (!t[k]) { /* nobody will close it */
            atomic_fetch_add(&c->errors, 1);
            cases[k].ch = NULL;
        }
    }
    int open = 0;
    for (int k = 0; k < SELECT_CHANS; k++)
        open += cases[k].ch != NULL;
    while (open > 0) {
        int i = goc_select(cases, SELECT_CHANS, -1);
        if (i < 0 || i >= SELECT_CHANS) {
            atomic_fetch_add(&c->errors, 1);
            break;
        }
        if (cases[i].status == GOC_ECLOSED) {
            cases[i].ch = NULL;
            open--;
            continue;
        }
        c->selects++;
        c->got[i]++;
        c->sum += v;
    }
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);

    for (int k = 0; k < SELECT_CHANS; k++) /* after a failed select: unblock the senders */
        if (cases[k].ch)
            goc_chan_close(c->ch[k]);
    bool join_failed = false;
    for (int k = 0; k < SELECT_CHANS; k++)
        if (t[k] && goc_join(t[k], NULL) != 0)
            join_failed = true;

    int64_t want = (int64_t)c->n * (int64_t)(c->n - 1) / 2;
    long total = 0;
    bool counts_ok = true;
    for (int k = 0; k < SELECT_CHANS; k++) {
        total += c->got[k];
        counts_ok = counts_ok && c->got[k] == (c->n - k + SELECT_CHANS - 1) / SELECT_CHANS;
    }
    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)(t1 - t0) / (double)c->n;
    c->s->ok = !join_failed && atomic_load(&c->errors) == 0 && counts_ok && total == c->n &&
               c->sum == want;
out:
    for (int k = 0; k < SELECT_CHANS; k++)
        goc_chan_free(c->ch[k]);
}

static void select_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    (void)arg;
    select_ctx c = { .n = o->n, .s = s };
    atomic_init(&c.errors, 0);
    if (!start_runtime(o, workers, select_main, &c))
        s->ok = false;
    if (!s->ok)
        fprintf(stderr, "select: got %ld/%ld/%ld/%ld (%ld selects) sum %" PRId64
                        ", want %ld values summing to %" PRId64 "; %d calls failed\n",
                c.got[0], c.got[1], c.got[2], c.got[3], c.selects, c.sum, c.n,
                (int64_t)c.n * (int64_t)(c.n - 1) / 2, atomic_load(&c.errors));
}

bool bench_select(const bench_opts *o)
{
    static const bench_line line = { .unit = "ns/select", .per = "select" };
    return bench_run(o, select_measure, NULL, &line);
}
