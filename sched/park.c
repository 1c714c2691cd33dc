/*
 * park.c - the park/wake primitive: parking, claiming, holding and
 * cancelling a coroutine's wait, and the wait lists wakers find it on.
 *
 * Owns no memory. It works on a coroutine's wstate, its description of
 * the wait (wait_what and the cold half's goc_wait, co.h) and the
 * goc_waitq lists that live in the objects waited on. The steps a
 * blocking call takes are in park.h; this file keeps them true.
 *
 * Invariants:
 *   - wstate is RUNNING while it runs; only the coroutine itself moves
 *     RUNNING -> WAITING (goc__park_begin); a waker moves WAITING -> reason
 *     by CAS, so exactly one wins; goc_cancel (goc__cancel_co) sets the
 *     sticky CANCEL bit and, if it finds WAITING, it alone finishes the
 *     wake-up;
 *   - a HELD wait (goc__hold_begin) is ended only by its one waker
 *     (goc__release); a cancel just sets the CANCEL bit;
 *   - goc__park returns only after a claim (never in WAITING), and its
 *     acquire load pairs with the claimer's CAS, so what the claimer wrote
 *     for it (a value, a closed flag) is visible;
 *   - a waiter is on one wait list at most, once.
 *
 * Locking: none of its own. wstate changes only by atomic RMW; the wait
 * description is written by the coroutine itself (relaxed stores, read by
 * the dump, the monitor and the deadlock report); a goc_waitq is guarded
 * by the lock of the object it belongs to, which every caller holds.
 * tests/model/park.pml model-checks park, claim and cancel.
 */
#include "runtime.h"

/* ---------------------------------------------------------------- park */

/* While a coroutine runs, the state bits still hold the reason of its last
 * wake-up (only WAITING matters to wakers); clearing them would cost an
 * atomic per park, so the next park_begin's CAS replaces them instead. */
static inline void note_wait(goc_co *co, const char *what, int kind, const void *obj,
                             int64_t arg)
{
    goc_runtime *rt = goc__worker()->rt;
    atomic_store_explicit(&co->cold->wait.kind, (uint8_t)kind, memory_order_relaxed);
    atomic_store_explicit(&co->cold->wait.obj, (uintptr_t)obj, memory_order_relaxed);
    atomic_store_explicit(&co->cold->wait.arg, arg, memory_order_relaxed);
    atomic_store_explicit(&co->cold->wait.until, INT64_MAX, memory_order_relaxed);
    atomic_store_explicit(&co->cold->wait.since,
                          atomic_load_explicit(&rt->coarse_now, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&co->wait_what, what, memory_order_relaxed);
}

static inline void clear_wait(goc_co *co)
{
    atomic_store_explicit(&co->wait_what, NULL, memory_order_relaxed);
}

int goc__park_begin(goc_co *co, const char *what)
{
    return goc__park_begin_on(co, what, GOC_WAIT_OTHER, NULL, 0);
}

int goc__park_begin_on(goc_co *co, const char *what, int kind, const void *obj, int64_t arg)
{
    uint32_t cur = atomic_load_explicit(&co->wstate, memory_order_relaxed);
    note_wait(co, what, kind, obj, arg);
    if (cur & GOC_WS_CANCEL)
        return GOC_ECANCELED;
    if (!atomic_compare_exchange_strong(&co->wstate, &cur, GOC_WS_WAITING))
        return GOC_ECANCELED; /* only a cancel changes it under us */
    return 0;
}

int goc__park(goc_co *co)
{
    goc__chaos_pause(); /* WAITING and still on this stack: a waker must wait for us */
    goc_worker *w = goc__worker();
    goc__count(&w->stats.parks, 1);
    goc__switch_away(w, co, GOC_REQ_PARK);
    /* acquire: pairs with the claimer's CAS, so what it wrote for us
     * (a value, a closed flag) is visible */
    uint32_t now = atomic_load_explicit(&co->wstate, memory_order_acquire);
    goc__assert((now & GOC_WS_STATE_MASK) != GOC_WS_WAITING); /* only a claim resumes us */
    clear_wait(co);
    return (int)(now & GOC_WS_STATE_MASK);
}

void goc__park_abort(goc_co *co)
{
    uint32_t expect = GOC_WS_WAITING;
    if (atomic_compare_exchange_strong(&co->wstate, &expect, GOC_WS_RUNNING)) {
        clear_wait(co);
        return;
    }
    /* A waker won and made us runnable: let that wake-up complete. */
    (void)goc__park(co);
}

int goc__claim(goc_co *co, int reason)
{
    goc__assert(reason != GOC_WS_WAITING && reason != GOC_WS_RUNNING);
    goc__assert(atomic_load_explicit(&co->life, memory_order_relaxed) == GOC_LIFE_ALIVE);
    uint32_t expect = GOC_WS_WAITING;
    return atomic_compare_exchange_strong(&co->wstate, &expect, (uint32_t)reason);
}

int goc__wake(goc_co *co, int reason)
{
    if (!goc__claim(co, reason))
        return 0;
    goc__ready(co, 0);
    return 1;
}

void goc__hold_begin(goc_co *co, const char *what)
{
    note_wait(co, what, GOC_WAIT_OTHER, NULL, 0);
    uint32_t cur = atomic_load_explicit(&co->wstate, memory_order_relaxed);
    while (!atomic_compare_exchange_weak(&co->wstate, &cur,
                                         (cur & GOC_WS_CANCEL) | GOC_WS_HELD))
        ;
}

void goc__hold_abort(goc_co *co)
{
    uint32_t cur = atomic_load_explicit(&co->wstate, memory_order_relaxed);
    while (!atomic_compare_exchange_weak(&co->wstate, &cur,
                                         (cur & GOC_WS_CANCEL) | GOC_WS_RUNNING))
        ;
    clear_wait(co);
}

void goc__release(goc_co *co)
{
    uint32_t cur = atomic_load_explicit(&co->wstate, memory_order_relaxed);
    while (!atomic_compare_exchange_weak(&co->wstate, &cur,
                                         (cur & GOC_WS_CANCEL) | GOC_WS_WOKEN))
        ;
    goc__ready(co, 0);
}

int goc__ws_to_err(int reason)
{
    switch (reason) {
    case GOC_WS_WOKEN: return 0;
    case GOC_WS_TIMEDOUT: return GOC_ETIMEDOUT;
    case GOC_WS_CLOSED: return GOC_ECLOSED;
    default: return GOC_ECANCELED;
    }
}

void goc__cancel_co(goc_co *co)
{
    if (atomic_load(&co->life) != GOC_LIFE_ALIVE)
        return;
    uint32_t old = atomic_fetch_or(&co->wstate, GOC_WS_CANCEL);
    if ((old & GOC_WS_STATE_MASK) != GOC_WS_WAITING || (old & GOC_WS_CANCEL))
        return;
    /* Wakers CAS from plain WAITING, so only we can finish this one. */
    uint32_t expect = GOC_WS_WAITING | GOC_WS_CANCEL;
    if (atomic_compare_exchange_strong(&co->wstate, &expect, GOC_WS_CANCELED | GOC_WS_CANCEL))
        goc__ready(co, 0);
}

/* ----------------------------------------------------------- wait lists */

void goc__waitq_push(goc_waitq *q, goc_waiter *w)
{
    goc__assert(!w->queued); /* a waiter is on one queue at most, once */
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    w->queued = 1;
}

void goc__waitq_remove(goc_waitq *q, goc_waiter *w)
{
    if (!w->queued)
        return;
    goc__assert(w->prev ? w->prev->next == w : q->head == w);
    goc__assert(w->next ? w->next->prev == w : q->tail == w);
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->prev = w->next = NULL;
    w->queued = 0;
}

goc_waiter *goc__waitq_pop(goc_waitq *q)
{
    goc_waiter *w = q->head;
    if (w)
        goc__waitq_remove(q, w);
    return w;
}

goc_waiter *goc__waitq_claim(goc_waitq *q)
{
    goc_waiter *w;
    while ((w = goc__waitq_pop(q)))
        if (goc__claim(w->co, GOC_WS_WOKEN))
            return w;
    return NULL;
}
