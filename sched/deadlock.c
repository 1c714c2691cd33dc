/*
 * deadlock.c - Go's "all coroutines are asleep - deadlock!".
 *
 * Owns: the check a worker makes as it is about to block (sched.c calls
 * goc__deadlock_check from its idle path and before it sleeps in its
 * loop), the report, and the cancellation of every coroutine that follows
 * it (goc_run then returns GOC_EDEADLK).
 *
 * Invariant: a deadlock is declared only when nothing can wake anyone:
 * every worker idle and every other one blocked in its loop, no queued
 * coroutine, no pending timer, no socket or thread-pool wait, and
 * coroutines still alive. rt->deadlocked is set once (exchange), so one
 * worker reports.
 *
 * Locking: none; only atomic reads of other workers' state, ordered as
 * deadlocked_now explains, and goc__co_each_alive's pool lock for the
 * report.
 */
#include <stdio.h>

#include "runtime.h"

int goc__all_exited(goc_runtime *rt)
{
    uint64_t s1 = 0, e = 0, s2 = 0;
    for (int i = 0; i < rt->nworkers; i++)
        s1 += atomic_load(&rt->workers[i].nspawned);
    for (int i = 0; i < rt->nworkers; i++)
        e += atomic_load(&rt->workers[i].nexited);
    for (int i = 0; i < rt->nworkers; i++)
        s2 += atomic_load(&rt->workers[i].nspawned);
    return s1 == s2 && s1 == e;
}

/* Called by the last worker about to block. Nothing can wake anyone when
 * every other worker is blocked, no coroutine is queued anywhere, no timer
 * is pending, no coroutine waits for I/O or the thread pool, and
 * coroutines are still alive: they are all parked on channels or sync
 * primitives for good.
 * The reads below are not one snapshot: a worker read as blocked may wake
 * (its loop released a thread-pool call's coroutine), take that coroutine
 * and run it, so that later reads find it neither queued nor counted as
 * waiting. Such a worker stored blocked = 0 and then bumped rt->unblocks,
 * all seq_cst, before anything it did could be read here; so a read that
 * saw its effects is followed by a read of unblocks that sees the bump,
 * and the check is void. (Seen under TSan at 2 workers: "deadlock" while
 * main waited on a file close, once in 30 runs of test_fs.) */
static int deadlocked_now(goc_worker *w)
{
    goc_runtime *rt = w->rt;
    uint64_t unblocks = atomic_load(&rt->unblocks);
    if (atomic_load(&rt->nidle) != rt->nworkers || atomic_load(&rt->stopping))
        return 0;
    for (int i = 0; i < rt->nworkers; i++) {
        goc_worker *v = &rt->workers[i];
        if (v != w && !atomic_load(&v->blocked))
            return 0;
    }
    /* Timers first: a worker firing one (inside its uv_run, so still
     * marked blocked) queues the coroutine it wakes before it publishes
     * the heap's new next_when (release; acquire here), so a heap read
     * empty now means the ring read below shows that coroutine. Reading
     * the ring first could see neither. */
    for (int i = 0; i < rt->nworkers; i++)
        if (atomic_load_explicit(&rt->workers[i].timers.next_when, memory_order_acquire) !=
            INT64_MAX)
            return 0;
    if (atomic_load(&rt->gq_len) || atomic_load(&rt->nfd_waiting) ||
        atomic_load(&rt->npool_waiting))
        return 0;
    for (int i = 0; i < rt->nworkers; i++) {
        goc_worker *v = &rt->workers[i];
        if (!goc__ring_empty(&v->ring) || atomic_load(&v->runnext))
            return 0;
    }
    return !goc__all_exited(rt) && atomic_load(&rt->unblocks) == unblocks;
}

static void print_waiting(goc_co *co)
{
    char name[GOC_NAME_MAX];
    goc__co_name(co, name);
    const char *what = atomic_load_explicit(&co->wait_what, memory_order_relaxed);
    fprintf(stderr, "  coroutine %llu \"%s\"%s: waiting on %s\n", (unsigned long long)co->id,
            name, co->flags & GOC_CO_MAIN ? " (main)" : "", what ? what : "nothing (runnable)");
}

static void report_deadlock(goc_runtime *rt)
{
    fprintf(stderr, "goc: all coroutines are asleep - deadlock!\n");
    goc__co_each_alive(rt, print_waiting);
}

int goc__deadlock_check(goc_worker *w)
{
    goc_runtime *rt = w->rt;
    if (!deadlocked_now(w) || atomic_exchange(&rt->deadlocked, 1))
        return 0;
    report_deadlock(rt);
    atomic_store(&rt->shutting_down, 1);
    goc__cancel_all(rt);
    return 1;
}
