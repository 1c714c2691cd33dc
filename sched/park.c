/*
 * park.c - the parking side of the park/wake primitive: beginning a
 * wait, parking, aborting, holding, and parking with a deadline (the
 * waker's side is wake.c).
 *
 * Owns no memory. It works on a coroutine's wstate, its description of
 * the wait (wait_what and the cold half's goc_wait, co.h) and the
 * goc_waitq lists that live in the objects waited on. The steps a
 * blocking call takes are in park.h; this file and wake.c keep them true.
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
#include "chaos.h"

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
    return goc__park_begin_in(co, what, kind, obj, arg, GOC_SHARED_LOCKED);
}

int goc__park_begin_in(goc_co *co, const char *what, int kind, const void *obj, int64_t arg,
                       int mode)
{
    uint32_t cur = atomic_load_explicit(&co->wstate, memory_order_relaxed);
    note_wait(co, what, kind, obj, arg);
    if (cur & GOC_WS_CANCEL)
        return GOC_ECANCELED;
    if (mode == GOC_SHARED_SOLO) { /* nothing else writes wstate now */
        atomic_store_explicit(&co->wstate, GOC_WS_WAITING, memory_order_relaxed);
        return 0;
    }
    if (!atomic_compare_exchange_strong(&co->wstate, &cur, GOC_WS_WAITING))
        return GOC_ECANCELED; /* only a cancel changes it under us */
    return 0;
}

int goc__park(goc_co *co)
{
    goc_worker *w = goc__worker();
    goc__chaos_point(w); /* WAITING and still on this stack: a waker must wait for us */
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

/* ------------------------------------------------------ with a deadline */

static void wake_timed_out(goc_timer *t)
{
    goc__wake(t->co, GOC_WS_TIMEDOUT);
}

int goc__park_until(goc_co *self, int64_t deadline)
{
    goc_timer t = { .when = deadline, .idx = GOC_TIMER_NONE, .fire = wake_timed_out, .co = self };
    if (deadline != INT64_MAX) {
        atomic_store_explicit(&self->cold->wait.until, deadline, memory_order_relaxed);
        goc__timer_add(goc__worker(), &t);
    }
    int reason = goc__park(self);
    if (deadline != INT64_MAX && reason != GOC_WS_TIMEDOUT)
        goc__timer_remove(&t); /* after this, wake_timed_out is not running */
    return reason;
}
