/*
 * gen.c - goc_gen: generators, a coroutine that yields values to one
 * consumer on demand (Python's async generators, JS's async function*).
 *
 * Owns: the generator (its one-element slot and hand-off state) and its
 * coroutine, which runs gen_body: wait for the first demand, run fn, then
 * mark the generator finished and wake whoever waits for that.
 *
 * Hand-off. goc_gen_next raises `demand` and wakes the producer if it is
 * parked (at its start or in goc_gen_yield); the producer runs fn up to its
 * next goc_gen_yield, which clears demand, passes the value straight into
 * the parked consumer's buffer (claimed first, as in chan.c) and parks
 * until the next demand. So fn runs only while the consumer waits, and
 * goc_gen_yield(v) returns once the consumer asks for the value after v.
 * A consumer whose goc_gen_next timed out or was cancelled leaves its
 * demand standing: the value fn yields for it waits in `slot` for the next
 * goc_gen_next, so no value is ever lost or delivered twice.
 * Invariants (under the lock): has_value implies !demand; demand is only
 * ever raised by goc_gen_next and cleared by a yield or by fn's end;
 * prod_wait / cons_wait point at a parked coroutine's stack and are
 * cleared by whoever claims it, or by the coroutine itself once it woke
 * for another reason.
 *
 * Closing. goc_gen_close sets `closing`, wakes a parked producer (its
 * yield returns GOC_ECANCELED, later ones too) and parks "held" (a cancel
 * of the closer does not end the wait) until gen_body marks the generator
 * finished: fn has returned, its cleanup has run. Only then is it freed;
 * gen_body's unlock after `finished` is its last touch of the generator.
 *
 * Starting. fn starts at one point, under the lock: gen_body, asked for a
 * value, sees `closing` still clear. A close that takes the lock first
 * wins, even when a goc_gen_next asked before it (and timed out, or was
 * cancelled, or had timeout 0) and the producer was already claimed and
 * only waits for a worker: then fn never runs, no body and no cleanup, as
 * closing a Python generator that never started. A close after that point
 * finds fn running and waits for it to reach a yield.
 *
 * Locking: g->lock guards all state. Claimed coroutines are made runnable
 * after the lock is released, into the next slot: producer and consumer
 * alternate on one worker like a channel ping-pong.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "park.h"

typedef struct gen_waiter {
    goc_co *co;
    void *dst;                    /* consumer: where the value goes (may be NULL) */
    int status;                   /* set by the claimer */
} gen_waiter;

struct goc_gen {
    goc_spin lock;
    size_t esize;
    void (*fn)(goc_gen *g, void *arg);
    void *arg;
    goc_co *prod;                 /* the generator's coroutine */
    gen_waiter *prod_wait;        /* producer parked for a demand */
    gen_waiter *cons_wait;        /* consumer parked in goc_gen_next */
    goc_co *closer;               /* goc_gen_close parked (held) until finished */
    int demand;                   /* a value was asked for and not yet yielded */
    int has_value;                /* slot holds a yielded value nobody took */
    int closing;                  /* goc_gen_close was called */
    int finished;                 /* fn returned (or never ran: closed first) */
    _Alignas(max_align_t) char slot[];
};


/* g->lock held on entry, released on return. The producer waits for the
 * next demand: 0 once asked, GOC_ECANCELED once closed or cancelled.
 * wake (may be NULL) is made runnable after the unlock. */
static int wait_demand(goc_gen *g, goc_co *self, goc_co *wake)
{
    int rc;
    if (g->closing)
        rc = GOC_ECANCELED;
    else if (g->demand)
        rc = 0;
    else if (goc__park_begin(self, "generator: waiting for goc_gen_next") != 0)
        rc = GOC_ECANCELED;
    else {
        gen_waiter me = { .co = self, .status = 0 };
        g->prod_wait = &me;
        goc__spin_unlock(&g->lock);
        if (wake)
            goc__ready(wake, 1);
        if (goc__park(self) == GOC_WS_WOKEN)
            return me.status; /* claimed: 0 (asked) or GOC_ECANCELED (closed) */
        goc__spin_lock(&g->lock);
        if (g->prod_wait == &me)
            g->prod_wait = NULL;
        goc__spin_unlock(&g->lock);
        return GOC_ECANCELED;
    }
    goc__spin_unlock(&g->lock);
    if (wake)
        goc__ready(wake, 1);
    return rc;
}

/* g->lock held: claim the parked producer with status; its coroutine, to
 * make runnable after the unlock, or NULL. */
static goc_co *claim_producer(goc_gen *g, int status)
{
    gen_waiter *p = g->prod_wait;
    if (!p || !goc__claim(p->co, GOC_WS_WOKEN))
        return NULL; /* running, or woken by a cancel: it will look again */
    p->status = status;
    g->prod_wait = NULL;
    return p->co;
}

static void gen_body(void *arg)
{
    goc_gen *g = arg;
    goc_co *self = goc__self();
    goc__spin_lock(&g->lock);
    if (wait_demand(g, self, NULL) == 0) {
        /* Asked. A close since then (we may have waited for a worker
         * after the claim) still comes first: fn never starts. */
        goc__spin_lock(&g->lock);
        int start = !g->closing;
        goc__spin_unlock(&g->lock);
        if (start)
            g->fn(g, g->arg);
    }
    goc__spin_lock(&g->lock);
    g->finished = 1;
    g->demand = 0;
    goc_co *cons = NULL, *closer = g->closer;
    gen_waiter *c = g->cons_wait;
    if (c && goc__claim(c->co, GOC_WS_WOKEN)) {
        c->status = GOC_ECLOSED;
        cons = c->co;
        g->cons_wait = NULL;
    }
    goc__spin_unlock(&g->lock); /* our last touch of g */
    if (cons)
        goc__ready(cons, 1);
    if (closer)
        goc__release(closer);
}

goc_gen *goc_gen_new(size_t elem_size, void (*fn)(goc_gen *g, void *arg), void *arg)
{
    if (!fn || elem_size > SIZE_MAX / 2)
        return NULL;
    if (!goc__self())
        return NULL;
    goc_gen *g = calloc(1, sizeof *g + elem_size);
    if (!g)
        return NULL;
    goc__spin_init(&g->lock, GOC_RANK_GEN);
    g->esize = elem_size;
    g->fn = fn;
    g->arg = arg;
    int err = 0;
    goc_co *co = goc__co_make(gen_body, g, __builtin_return_address(0), &err);
    if (!co) {
        free(g);
        return NULL;
    }
    g->prod = co;
    goc__co_start(co);
    return g;
}

int goc_gen_yield(goc_gen *g, const void *elem)
{
    if (!g || (g->esize && !elem))
        return GOC_EINVAL;
    goc_co *self = goc__self();
    goc__spin_lock(&g->lock);
    if (!self || self != g->prod || g->finished) {
        goc__spin_unlock(&g->lock);
        return GOC_EINVAL; /* only fn, in the generator's coroutine, yields */
    }
    if (g->closing || goc_cancelled()) {
        goc__spin_unlock(&g->lock);
        return GOC_ECANCELED;
    }
    goc_co *cons = NULL;
    gen_waiter *c = g->cons_wait;
    g->demand = 0;
    if (c && goc__claim(c->co, GOC_WS_WOKEN)) {
        if (g->esize && c->dst)
            memcpy(c->dst, elem, g->esize);
        c->status = 0;
        cons = c->co;
        g->cons_wait = NULL;
    } else { /* nobody waits now (timed out or cancelled): keep it */
        if (g->esize)
            memcpy(g->slot, elem, g->esize);
        g->has_value = 1;
    }
    return wait_demand(g, self, cons);
}

int goc_gen_next(goc_gen *g, void *elem, int64_t timeout_ns)
{
    if (!g)
        return GOC_EINVAL;
    int64_t deadline = goc__deadline_in(timeout_ns);
    goc_co *self = goc__self();
    goc__spin_lock(&g->lock);
    if (self && self == g->prod && !g->finished) {
        goc__spin_unlock(&g->lock);
        return GOC_EINVAL; /* fn consuming its own generator would deadlock */
    }
    if (g->has_value) {
        if (g->esize && elem)
            memcpy(elem, g->slot, g->esize);
        g->has_value = 0;
        goc__spin_unlock(&g->lock);
        return 0;
    }
    if (g->finished) {
        goc__spin_unlock(&g->lock);
        return GOC_ECLOSED;
    }
    if (g->cons_wait || g->closing) {
        goc__spin_unlock(&g->lock);
        return GOC_EBUSY; /* one consumer at a time */
    }
    if (!self) {
        goc__spin_unlock(&g->lock);
        return GOC_EPERM;
    }
    if (timeout_ns != 0 && goc__park_begin(self, "generator: goc_gen_next") != 0) {
        goc__spin_unlock(&g->lock);
        return GOC_ECANCELED; /* nothing asked */
    }
    g->demand = 1;
    goc_co *prod = claim_producer(g, 0);
    if (timeout_ns == 0) { /* asked, but do not wait: a later next gets it */
        goc__spin_unlock(&g->lock);
        if (prod)
            goc__ready(prod, 0);
        return GOC_EAGAIN;
    }
    gen_waiter me = { .co = self, .dst = elem, .status = 0 };
    g->cons_wait = &me;
    goc__spin_unlock(&g->lock);
    if (prod)
        goc__ready(prod, 1);
    int reason = goc__park_until(self, deadline);
    if (reason == GOC_WS_WOKEN)
        return me.status; /* 0 with the value in elem, or GOC_ECLOSED */
    goc__spin_lock(&g->lock);
    if (g->cons_wait == &me)
        g->cons_wait = NULL; /* the demand stands: its value waits in slot */
    goc__spin_unlock(&g->lock);
    return goc__ws_to_err(reason);
}

int goc_gen_close(goc_gen *g)
{
    if (!g)
        return GOC_EINVAL;
    goc_co *self = goc__self();
    if (!self)
        return GOC_EPERM;
    goc__spin_lock(&g->lock);
    int rc = 0;
    if (self == g->prod && !g->finished)
        rc = GOC_EINVAL; /* fn cannot wait for its own end */
    else if (g->cons_wait || g->closing)
        rc = GOC_EBUSY;  /* a goc_gen_next (or close) is still in progress */
    if (rc != 0) {
        goc__spin_unlock(&g->lock);
        return rc;
    }
    g->closing = 1;
    if (!g->finished) {
        goc_co *prod = claim_producer(g, GOC_ECANCELED);
        goc__hold_begin(self, "goc_gen_close: the generator's cleanup");
        g->closer = self;
        goc__spin_unlock(&g->lock);
        if (prod)
            goc__ready(prod, 1);
        (void)goc__park(self); /* until gen_body saw fn return */
        goc__spin_lock(&g->lock);
    }
    goc__spin_unlock(&g->lock);
    free(g);
    return 0;
}
