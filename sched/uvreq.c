/*
 * uvreq.c - parking a coroutine on its worker's libuv loop until a
 * request completes (uvreq.h says how callers use it).
 *
 * Owns the bookkeeping of such waits: each worker's pool_pending (its
 * loop has requests to complete, so a busy worker still polls the loop
 * now and then: sched.c) and rt->npool_waiting (coroutines waiting on the
 * pool are not deadlocked: deadlock.c).
 *
 * Invariants: pool_pending is touched only on its worker's thread (the
 * caller before it parks, the callback on that loop); npool_waiting's
 * decrement is seq_cst, ordered after the rt->unblocks bump of the worker
 * that woke to run us (deadlock.c).
 *
 * Locking: none.
 */
#include "runtime.h"
#include "uvreq.h"

int goc__uvreq_begin(goc_uvreq *r)
{
    r->co = goc__self();
    if (!r->co)
        return GOC_EPERM;
    r->w = goc__worker();
    return 0;
}

uv_loop_t *goc__uvreq_loop(goc_uvreq *r)
{
    return &r->w->loop;
}

/* Holding only now is safe: the callback runs on this thread's loop,
 * which cannot run before we have switched away. */
void goc__uvreq_park(goc_uvreq *r, const char *what)
{
    goc_runtime *rt = r->w->rt;
    r->w->pool_pending++; /* we are on its thread; so is the callback */
    atomic_fetch_add_explicit(&rt->npool_waiting, 1, memory_order_relaxed);
    goc__hold_begin(r->co, what);
    (void)goc__park(r->co);
    atomic_fetch_sub(&rt->npool_waiting, 1); /* seq_cst: see deadlock.c */
}

void goc__uvreq_done(goc_uvreq *r)
{
    r->w->pool_pending--;
    goc__release(r->co);
}
