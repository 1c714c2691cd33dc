/*
 * wake.c - the waker's side of the park protocol (park.h): claiming a
 * parked coroutine, waking it, ending a held wait, cancelling, and
 * claiming the first claimable waiter of a wait list (the lists
 * themselves are inline, park.h).
 *
 * Owns no memory. A waker changes a coroutine's wstate only by CAS from
 * plain WAITING (goc__claim), so of a value, a close, a timeout and a
 * cancel exactly one wins; goc__cancel_co sets the sticky CANCEL bit and,
 * if it finds WAITING, it alone finishes the wake-up (wakers' CAS from
 * plain WAITING fails on it). A HELD wait is ended only by goc__release.
 * The winner makes the coroutine runnable (runq.c), after unlocking what
 * it found it on. A waiter is on one wait list at most, once.
 *
 * Locking: none of its own; a goc_waitq is guarded by the lock of the
 * object it belongs to, which every caller holds. In solo mode a channel's
 * waiters are claimed with plain stores instead (goc__claim_solo, park.h),
 * so a plain thread cancels announced (solo.h). park.c is the other
 * side; tests/model/park.pml model-checks the two together.
 */
#include "runtime.h"

#ifdef GOC_ASSERTS
/* Solo mode's rule (solo.h), where it can be checked: a thread other than
 * the solo worker claims a coroutine parked on channels only announced. */
static int claim_allowed_here(const goc_co *co)
{
    if (!atomic_load_explicit(&goc__solo.on, memory_order_relaxed) || goc__worker() ||
        goc__plain_inside())
        return 1;
    int kind = atomic_load_explicit(&co->cold->wait.kind, memory_order_relaxed);
    return kind != GOC_WAIT_CHAN && kind != GOC_WAIT_SELECT;
}
#endif

int goc__claim(goc_co *co, int reason)
{
    goc__assert(reason != GOC_WS_WAITING && reason != GOC_WS_RUNNING);
    goc__assert(atomic_load_explicit(&co->life, memory_order_relaxed) == GOC_LIFE_ALIVE);
    goc__assert(claim_allowed_here(co));
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

/* Set CANCEL; 1 if co was WAITING and this call must finish the wake-up. */
static int mark_cancelled(goc_co *co)
{
    uint32_t old = atomic_fetch_or(&co->wstate, GOC_WS_CANCEL);
    if ((old & GOC_WS_STATE_MASK) != GOC_WS_WAITING || (old & GOC_WS_CANCEL))
        return 0;
    /* Wakers CAS from plain WAITING, so only we can finish this one. */
    uint32_t expect = GOC_WS_WAITING | GOC_WS_CANCEL;
    return atomic_compare_exchange_strong(&co->wstate, &expect,
                                          GOC_WS_CANCELED | GOC_WS_CANCEL);
}

void goc__cancel_co(goc_co *co)
{
    if (atomic_load(&co->life) != GOC_LIFE_ALIVE)
        return;
    /* From a plain thread: the solo worker may be claiming co with plain
     * stores (solo.h), so announce first, as channel code does. */
    int mode = goc__shared_begin();
    int wake = mark_cancelled(co);
    goc__shared_end(mode);
    if (wake)
        goc__ready(co, 0);
}

void goc__cancel_all(goc_runtime *rt)
{
    goc__co_each_alive(rt, goc__cancel_co);
}

/* ----------------------------------------------------------- wait lists */

goc_waiter *goc__waitq_claim(goc_waitq *q)
{
    goc_waiter *w;
    while ((w = goc__waitq_pop(q)))
        if (goc__claim(w->co, GOC_WS_WOKEN))
            return w;
    return NULL;
}
