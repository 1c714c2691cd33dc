/*
 * coro.c - a coroutine's life: made (goc__co_new), run (goc__co_body),
 * finished (goc__co_finish: its joiner and watchers told), released.
 *
 * Owns: a coroutine's life from goc__co_new to its last release (the
 * structs themselves come from copool.c), ids and task watchers. The
 * scheduler (sched.c) runs and finishes coroutines; the public API that
 * makes and joins them is coapi.c; names are names.c's; parking is
 * park.c's and wake.c's.
 *
 * Invariants:
 *   - refs counts owners: 1 for the running coroutine, +1 for a task
 *     handle; the last release returns the struct to a free list;
 *   - life goes FREE -> ALIVE (created) -> DEAD (returned) -> FREE.
 *
 * Locking: the join word is lock-free (NONE -> joiner -> DONE, or
 * NONE -> DONE); a worker takes ids from the runtime's id_gen by an
 * atomic add, ID_BATCH at a time; watchers are below.
 *
 * Watchers (for asyncio/task.c: gather, wait_first, wait_for): a task's
 * watch_lock guards its list of goc_watch. A watch is hung only while the
 * join word is not DONE (checked under the lock); the exit publishes DONE
 * before taking the lock, then calls every hung watch's fn under it and
 * empties the list, so no watch is missed or called twice and the list is
 * empty whenever the struct goes back to the pool.
 */
#include <stdio.h>
#include <string.h>

#include "runtime.h"

#define ID_BATCH 64

static uint64_t next_id(goc_worker *w)
{
    if (w->id_next == w->id_end) {
        w->id_next = atomic_fetch_add(&w->rt->id_gen, ID_BATCH);
        w->id_end = w->id_next + ID_BATCH;
    }
    return w->id_next++;
}

/* A new coroutine, not yet queued. The caller enqueues it. */
/* goc__co_new's stores stay in the struct's two cache lines (see goc_co
 * in runtime.h); checked where the layout is the usual LP64 one. */
#if !(defined(GOC_CTX_UCONTEXT) && GOC_CTX_UCONTEXT) && UINTPTR_MAX == UINT64_MAX && \
    !defined(GOC_ASAN) && !defined(GOC_TSAN) && !defined(GOC_ASSERTS)
_Static_assert(sizeof(goc_co) == 128, "goc_co: the hot half outgrew two cache lines");
#endif

goc_co *goc__co_new(goc_worker *w, void *arg, int is_task)
{
    goc_runtime *rt = w->rt;
    if (!w->cocache.head && goc__co_pool_refill(&rt->cos, &w->cocache) != 0)
        return NULL;
    goc_co *co = w->cocache.head;
    w->cocache.head = co->next;
    w->cocache.n--;

    co->next = NULL;
    co->stack = NULL;
    co->arg = arg;
    co->result = NULL;
    co->err = 0;
    co->watchers = NULL; /* watch_lock is left alone: always free here */
    goc__assert(atomic_load_explicit(&co->watch_lock.v, memory_order_relaxed) == 0);
#ifdef GOC_ASSERTS
    co->watch_lock.rank = GOC_RANK_WATCH;
#endif
    co->flags = is_task ? GOC_CO_TASK : 0;
    co->stack_kind = GOC_STACK_POOL;
    co->exit_canceled = 0;
    atomic_store_explicit(&co->wait_what, NULL, memory_order_relaxed);
    atomic_store_explicit(&co->spawn_pc, 0, memory_order_relaxed);
    atomic_store_explicit(&co->named, 0, memory_order_relaxed);
    co->id = next_id(w);
    atomic_store_explicit(&co->on_cpu, 0, memory_order_relaxed);
    atomic_store_explicit(&co->refs, is_task ? 2 : 1, memory_order_relaxed);
    atomic_store_explicit(&co->join, GOC_JOIN_NONE, memory_order_relaxed);
    atomic_store_explicit(&co->wstate, GOC_WS_RUNNING, memory_order_relaxed);
    /* Pairs with goc__cancel_all: either it sees us ALIVE, or we see the
     * shutdown and are born cancelled. */
    atomic_store(&co->life, GOC_LIFE_ALIVE);
    if (atomic_load(&rt->shutting_down))
        atomic_fetch_or(&co->wstate, GOC_WS_CANCEL);
    atomic_store_explicit(&w->nspawned, atomic_load_explicit(&w->nspawned, memory_order_relaxed) + 1,
                          memory_order_release);
    return co;
}

void goc__co_release(goc_worker *w, goc_co *co)
{
    /* acq_rel: the last owner sees every other owner's last touches */
    if (atomic_fetch_sub_explicit(&co->refs, 1, memory_order_acq_rel) != 1)
        return;
    atomic_store_explicit(&co->life, GOC_LIFE_FREE, memory_order_relaxed);
    goc_runtime *rt = goc__runtime();
    goc__co_pool_put(&rt->cos, w && w->rt == rt ? &w->cocache : NULL, co);
}

void goc__co_body(goc_co *co)
{
    if (co->flags & GOC_CO_TASK)
        co->result = co->fn.task(co->arg);
    else
        co->fn.go(co->arg);
}

/* Call every watch hung on a task that just returned (its DONE is
 * published, so no new watch can be hung). */
static void fire_watchers(goc_co *co)
{
    goc__spin_lock(&co->watch_lock);
    goc_watch *wt;
    while ((wt = co->watchers)) {
        co->watchers = wt->next;
        if (co->watchers)
            co->watchers->prev = NULL;
        wt->prev = wt->next = NULL;
        wt->hung = 0;
        wt->fn(wt);
    }
    goc__spin_unlock(&co->watch_lock);
}

/* Scheduler context, after co returned and left its stack. */
void goc__co_finish(goc_worker *w, goc_co *co)
{
    co->exit_canceled = (atomic_load(&co->wstate) & GOC_WS_CANCEL) != 0;
    atomic_store(&co->life, GOC_LIFE_DEAD);
    if (co->flags & GOC_CO_TASK) {
        /* release: result and err before DONE for a joiner that reads it;
         * acquire: the joiner's registration, if it came first */
        uintptr_t j = atomic_exchange_explicit(&co->join, GOC_JOIN_DONE, memory_order_acq_rel);
        if (j != GOC_JOIN_NONE && j != GOC_JOIN_DONE)
            goc__wake((goc_co *)j, GOC_WS_WOKEN);
        fire_watchers(co);
    }
    goc__co_release(w, co);
}

int goc__watch_add(goc_co *task, goc_watch *w)
{
    w->task = task;
    w->prev = NULL;
    goc__spin_lock(&task->watch_lock);
    if (atomic_load_explicit(&task->join, memory_order_acquire) == GOC_JOIN_DONE) {
        goc__spin_unlock(&task->watch_lock);
        w->hung = 0;
        return 1;
    }
    w->next = task->watchers;
    if (w->next)
        w->next->prev = w;
    task->watchers = w;
    w->hung = 1;
    goc__spin_unlock(&task->watch_lock);
    return 0;
}

void goc__watch_remove(goc_watch *w)
{
    goc_co *task = w->task;
    goc__spin_lock(&task->watch_lock);
    if (w->hung) {
        if (w->prev)
            w->prev->next = w->next;
        else
            task->watchers = w->next;
        if (w->next)
            w->next->prev = w->prev;
        w->prev = w->next = NULL;
        w->hung = 0;
    }
    goc__spin_unlock(&task->watch_lock);
}

int goc__task_err(const goc_co *task)
{
    if (task->err < 0)
        return task->err;
    return task->exit_canceled ? GOC_ECANCELED : 0;
}
