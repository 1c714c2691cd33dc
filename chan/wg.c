/*
 * wg.c - goc_wg, a WaitGroup as in Go's sync.WaitGroup.
 *
 * Owns: the counter and the queue of parked waiters.
 *
 * state = count << 1 | LOCKED. The lock bit guards the waiter queue and
 * lives in the same word as the count, so the last goc_wg_done can end
 * with one store that publishes "zero, unlocked": after that store it
 * never touches the wg again. That is what makes it safe to free the wg
 * as soon as goc_wg_wait returns (as Go allows), even while the goc_wg_done
 * that released it is still returning:
 *   - a waiter that reads count 0 and no lock returns at once;
 *   - a woken waiter waits until the lock bit is clear before returning;
 *   - the zero crossing happens only with the lock held, and no count
 *     changes while the lock is held (adds wait for it): the crossing's
 *     final store of 0 cannot overwrite an add.
 * Invariants: count >= 0 (going below is a bug and aborts, as Go panics).
 */
#include <stdio.h>
#include <stdlib.h>

#include "park.h"

#define LOCKED ((int64_t)1)

struct goc_wg {
    _Atomic int64_t state;
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

/* Set the lock bit; returns the state with the bit set. */
static int64_t lock_state(goc_wg *wg)
{
    unsigned spins = 0;
    int64_t s = atomic_load(&wg->state);
    for (;;) {
        if (s & LOCKED) {
            goc__spin_wait(&spins);
            s = atomic_load(&wg->state);
            continue;
        }
        if (atomic_compare_exchange_weak(&wg->state, &s, s | LOCKED))
            return s | LOCKED;
    }
}

static void unlock_state(goc_wg *wg)
{
    atomic_fetch_and(&wg->state, ~LOCKED);
}

static void wait_unlocked(goc_wg *wg)
{
    unsigned spins = 0;
    while (atomic_load(&wg->state) & LOCKED)
        goc__spin_wait(&spins);
}

static void negative(goc_wg *wg, int delta)
{
    fprintf(stderr, "goc: negative WaitGroup counter (goc_wg_add(%p, %d))\n", (void *)wg, delta);
    abort();
}

void goc_wg_add(goc_wg *wg, int delta)
{
    if (!wg || delta == 0)
        return;
    int64_t d = (int64_t)delta * 2;
    int64_t s = atomic_load(&wg->state);
    unsigned spins = 0;
    for (;;) {
        if (s & LOCKED) {
            /* A zero crossing (or a waiter registering) holds the word:
             * the crossing publishes 0 with a plain store, so an add that
             * slipped in now would be lost (and a later done would go
             * below zero). Wait for the lock, as the waiters' side does. */
            goc__spin_wait(&spins);
            s = atomic_load(&wg->state);
            continue;
        }
        int64_t count = (s >> 1) + delta;
        if (count < 0)
            negative(wg, delta);
        if (count > 0 || (s >> 1) == 0) { /* no zero crossing */
            if (atomic_compare_exchange_weak(&wg->state, &s, s + d))
                return;
            continue;
        }
        break;
    }
    /* Zero crossing: take the lock, wake everyone, publish 0 unlocked. */
    s = lock_state(wg);
    if ((s >> 1) + delta != 0) { /* someone added meanwhile */
        atomic_fetch_add(&wg->state, d);
        unlock_state(wg);
        return;
    }
    goc_waiter *w;
    while ((w = goc__waitq_pop(&wg->waiters)))
        goc__wake(w->co, GOC_WS_WOKEN);
    atomic_store(&wg->state, 0); /* the last touch */
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
    if (atomic_load(&wg->state) == 0)
        return 0;
    if (goc__park_begin_on(self, "WaitGroup", GOC_WAIT_OTHER, wg, 0) != 0)
        return GOC_ECANCELED;
    goc_waiter me = { .co = self };
    int64_t s = lock_state(wg);
    if ((s >> 1) == 0) {
        unlock_state(wg);
        goc__park_abort(self);
        return 0;
    }
    goc__waitq_push(&wg->waiters, &me);
    unlock_state(wg);
    int reason = goc__park(self);
    if (reason == GOC_WS_WOKEN) {
        wait_unlocked(wg); /* let the waker finish with the wg */
        return 0;
    }
    lock_state(wg);
    goc__waitq_remove(&wg->waiters, &me);
    unlock_state(wg);
    return GOC_ECANCELED;
}
