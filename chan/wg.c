/*
 * wg.c - goc_wg, a WaitGroup as in Go's sync.WaitGroup.
 *
 * Owns: the counter and the queue of parked waiters.
 * Invariants: count >= 0 (going below is a bug and aborts, as Go panics);
 * when count reaches 0 every waiter queued at that moment is woken.
 * Locking: count is atomic, so done() is one atomic add unless it reaches
 * zero; lock guards the waiter queue. A waiter checks count under the lock
 * and the zero-crossing wakes under the lock, so no wake-up is lost.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../sched/runtime.h"

struct goc_wg {
    _Atomic int64_t count;
    goc_spin lock;
    goc_waitq waiters;
};

goc_wg *goc_wg_new(void)
{
    return calloc(1, sizeof(goc_wg));
}

void goc_wg_free(goc_wg *wg)
{
    free(wg);
}

static void wake_all(goc_wg *wg)
{
    goc__spin_lock(&wg->lock);
    goc_waiter *w;
    while ((w = goc__waitq_pop(&wg->waiters)))
        goc__wake(w->co, GOC_WS_WOKEN);
    goc__spin_unlock(&wg->lock);
}

void goc_wg_add(goc_wg *wg, int delta)
{
    if (!wg || delta == 0)
        return;
    int64_t v = atomic_fetch_add(&wg->count, delta) + delta;
    if (v < 0) {
        fprintf(stderr, "goc: negative WaitGroup counter (goc_wg_add(%p, %d))\n", (void *)wg, delta);
        abort();
    }
    if (v == 0)
        wake_all(wg);
}

void goc_wg_done(goc_wg *wg)
{
    goc_wg_add(wg, -1);
}

int goc_wg_wait(goc_wg *wg)
{
    if (!wg)
        return GOC_EINVAL;
    goc_co *self = goc__self();
    if (!self)
        return GOC_EPERM;
    if (atomic_load(&wg->count) == 0)
        return 0;
    if (goc__park_begin(self, "WaitGroup") != 0)
        return GOC_ECANCELED;
    goc_waiter me = { .co = self };
    goc__spin_lock(&wg->lock);
    if (atomic_load(&wg->count) == 0) {
        goc__spin_unlock(&wg->lock);
        goc__park_abort(self);
        return 0;
    }
    goc__waitq_push(&wg->waiters, &me);
    goc__spin_unlock(&wg->lock);
    int reason = goc__park(self);
    if (reason == GOC_WS_WOKEN)
        return 0;
    goc__spin_lock(&wg->lock);
    goc__waitq_remove(&wg->waiters, &me);
    goc__spin_unlock(&wg->lock);
    return GOC_ECANCELED;
}
