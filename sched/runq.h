/*
 * runq.h - a worker's run queue, the inline halves (runq.c has the rest).
 *
 * A worker's run queue is its ring (bounded FIFO of GOC_RING_SIZE, single
 * producer: the owner; consumers: the owner and thieves, by CAS on head,
 * as in Go's runq) and its next slot (runnext: one coroutine that runs
 * before the ring, a hand-off's partner). With one worker there are no
 * thieves, and the owner's pops and next-slot takes use no atomic RMW.
 * What is here runs on every switch, so it stays inline.
 */
#ifndef GOC_RUNQ_H
#define GOC_RUNQ_H

#include "chaos.h"
#include "runtime.h"

int goc__ring_spill(goc_worker *w, goc_co *co); /* 0: room appeared meanwhile */
/* Take up to half of r's coroutines into batch; returns how many. */
uint32_t goc__ring_grab(goc_ring *r, goc_co **batch);
/* Take a fair share of the global queue (at most max) into w's ring; the
 * first one is returned to run. Callers make sure the ring has room. */
goc_co *goc__global_get(goc_worker *w, uint32_t max);
void goc__gq_free_all(goc_runtime *rt);
/* The idle stack: go_idle publishes w (nidle + 1, a full barrier);
 * leave_idle takes it off unless a waker already did (then w->woken). */
void goc__go_idle(goc_worker *w);
void goc__leave_idle(goc_worker *w);

/* Take the oldest coroutine off r (shared: thieves may race us). */
static inline goc_co *goc__ring_pop(goc_ring *r, int shared)
{
    if (!shared) { /* one worker: no thieves, no CAS */
        uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
        if (h == atomic_load_explicit(&r->tail, memory_order_relaxed))
            return NULL;
        goc_co *co = atomic_load_explicit(&r->slots[h % GOC_RING_SIZE], memory_order_relaxed);
        atomic_store_explicit(&r->head, h + 1, memory_order_relaxed);
        return co;
    }
    for (;;) {
        /* acquire: a thief's head CAS released its reads of the slots */
        uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        /* relaxed: the owner pops, and tail is its own store */
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        if (h == t)
            return NULL;
        goc_co *co = atomic_load_explicit(&r->slots[h % GOC_RING_SIZE], memory_order_relaxed);
        /* release: our read of the slot happens before the owner reuses it */
        if (atomic_compare_exchange_weak_explicit(&r->head, &h, h + 1,
                                                  memory_order_release, memory_order_relaxed))
            return co;
    }
}


/* Owner only: append to the ring; room must be known to exist. */
static inline void goc__ring_put(goc_ring *r, goc_co *co)
{
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->slots[t % GOC_RING_SIZE], co, memory_order_relaxed);
    /* release: a consumer that sees the new tail sees the slot (and the
     * coroutine's state written before it was queued) */
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}


/* Owner only: append co; a full ring moves half of itself and co to the
 * global queue (runq.c). */
static inline void goc__ring_push(goc_worker *w, goc_co *co)
{
    goc_ring *r = &w->ring;
    /* only the owner pushes (or goc_run, before any worker runs) */
    goc__assert(goc__worker() == w || goc__worker() == NULL);
    for (;;) {
        /* acquire: a thief's CAS on head released the slots it took */
        uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        goc__assert(t - h <= GOC_RING_SIZE);
        if (t - h < GOC_RING_SIZE) {
            goc__ring_put(r, co);
            return;
        }
        if (goc__ring_spill(w, co))
            return;
    }
}


/* Take the next slot; with one worker there are no thieves to race. */
static inline int goc__take_next(goc_worker *w, goc_co *co)
{
    if (w->rt->nworkers == 1) {
        atomic_store_explicit(&w->runnext, NULL, memory_order_relaxed);
        return 1;
    }
    return atomic_compare_exchange_strong_explicit(&w->runnext, &co, NULL,
                                                   memory_order_acquire, memory_order_relaxed);
}

/* The next coroutine to run from w's own queue, or NULL: the next slot
 * (at most GOC_NEXT_STREAK_MAX times in a row), else the ring. */
static inline goc_co *goc__local_pick(goc_worker *w)
{
    goc_co *co = atomic_load_explicit(&w->runnext, memory_order_relaxed);
    if (co && goc__chaos_coin(w, 1))
        co = NULL; /* the ring first this time */
    if (co && w->next_streak < GOC_NEXT_STREAK_MAX && goc__take_next(w, co)) {
        w->next_streak++;
        return co;
    }
    co = goc__ring_pop(&w->ring, w->rt->nworkers > 1);
    if (co) {
        w->next_streak = 0;
        return co;
    }
    co = atomic_load_explicit(&w->runnext, memory_order_relaxed);
    if (co && goc__take_next(w, co)) {
        w->next_streak = 1;
        return co;
    }
    return NULL;
}


#endif /* GOC_RUNQ_H */
