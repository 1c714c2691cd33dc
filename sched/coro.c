/*
 * coro.c - coroutine lifecycle and the public coroutine API.
 *
 * Owns: a coroutine's life from goc__co_new to its last release (the
 * structs themselves come from copool.c), ids, names, task watchers, and
 * the public coroutine API (goc_go, goc_spawn, goc_join, goc_cancel,
 * goc_cancelled, goc_yield, goc_set_name and friends). Parking is in
 * park.c.
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


int goc__start_main(goc_runtime *rt, void (*fn)(void *), void *arg)
{
    goc_worker *w0 = &rt->workers[0];
    goc_co *co = goc__co_new(w0, arg, 0);
    if (!co)
        return GOC_ENOMEM;
    co->fn.go = fn;
    co->flags |= GOC_CO_MAIN;
    if (rt->stacks.usable < GOC_STACK_DEFAULT)
        co->stack_kind = GOC_STACK_OWN; /* give_stack maps it */
    /* its stack now, so that no memory for it is GOC_ENOMEM here, not an
     * abort when it first runs; the rest of the batch goes back to the
     * pool for whichever worker runs first (main may be stolen) */
    if (goc__give_stack(w0, co) != 0) {
        goc__co_release(w0, co);
        return GOC_ENOMEM;
    }
    goc__stack_cache_flush(&rt->stacks, &w0->stacks);
    goc__enqueue_local(w0, co, 0);
    return 0;
}

/* ----------------------------------------------------------- public API */

/* pc: the return address in the spawner's caller, symbolised by the dump. */
static goc_co *spawn(const char *name, void *arg, int is_task, void *pc, int *err)
{
    goc_worker *w = goc__worker();
    if (!w || !w->cur) {
        *err = GOC_EPERM;
        return NULL;
    }
    goc_co *co = goc__co_new(w, arg, is_task);
    if (!co) {
        *err = GOC_ENOMEM;
        return NULL;
    }
    if (name)
        goc__co_set_name(co, name);
    atomic_store_explicit(&co->spawn_pc, (uintptr_t)pc, memory_order_relaxed);
    return co;
}

goc_co *goc__co_make(void (*fn)(void *), void *arg, void *pc, int *err)
{
    goc_co *co = spawn(NULL, arg, 0, pc, err);
    if (co)
        co->fn.go = fn;
    return co;
}

void goc__co_start(goc_co *co)
{
    goc__enqueue_local(goc__worker(), co, 0);
}

static int go_from(const char *name, void (*fn)(void *), void *arg, void *pc)
{
    int err = 0;
    if (!fn)
        return GOC_EINVAL;
    goc_co *co = spawn(name, arg, 0, pc, &err);
    if (!co)
        return err;
    co->fn.go = fn;
    goc__co_start(co);
    return 0;
}

static goc_task *spawn_from(const char *name, void *(*fn)(void *), void *arg, void *pc)
{
    int err = 0;
    if (!fn)
        return NULL;
    goc_co *co = spawn(name, arg, 1, pc, &err);
    if (!co)
        return NULL;
    co->fn.task = fn;
    goc__co_start(co);
    return (goc_task *)co;
}

int goc_go_named(const char *name, void (*fn)(void *), void *arg)
{
    return go_from(name, fn, arg, __builtin_return_address(0));
}

int goc_go(void (*fn)(void *), void *arg)
{
    return go_from(NULL, fn, arg, __builtin_return_address(0));
}

goc_task *goc_spawn_named(const char *name, void *(*fn)(void *), void *arg)
{
    return spawn_from(name, fn, arg, __builtin_return_address(0));
}

goc_task *goc_spawn(void *(*fn)(void *), void *arg)
{
    return spawn_from(NULL, fn, arg, __builtin_return_address(0));
}

/* ----------------------------------------------------------------- names */

void goc__co_set_name(goc_co *co, const char *name)
{
    enum { WORDS = GOC_NAME_MAX / 8 };
    char buf[GOC_NAME_MAX] = {0};
    size_t n = strnlen(name, GOC_NAME_MAX - 1);
    memcpy(buf, name, n);
    for (size_t i = 0; i < WORDS; i++) {
        uint64_t word;
        memcpy(&word, buf + 8 * i, 8);
        atomic_store_explicit(&co->cold->name[i], word, memory_order_relaxed);
    }
    /* release: a reader that sees named sees a whole name (the coroutine's
     * later renames may still tear, as documented in runtime.h) */
    atomic_store_explicit(&co->named, 1, memory_order_release);
}

size_t goc__co_name(const goc_co *co, char buf[GOC_NAME_MAX])
{
    enum { WORDS = GOC_NAME_MAX / 8 };
    buf[0] = 0;
    if (atomic_load_explicit(&co->named, memory_order_acquire)) {
        for (size_t i = 0; i < WORDS; i++) {
            uint64_t word = atomic_load_explicit(&co->cold->name[i], memory_order_relaxed);
            memcpy(buf + 8 * i, &word, 8);
        }
        buf[GOC_NAME_MAX - 1] = 0;
    }
    if (buf[0])
        return strlen(buf);
    int len = snprintf(buf, GOC_NAME_MAX, "co-%llu", (unsigned long long)co->id);
    return len > 0 ? (size_t)len : 0;
}

int goc_set_name(const char *name)
{
    goc_co *self = goc__self();
    if (!self)
        return GOC_EPERM;
    if (!name)
        return GOC_EINVAL;
    goc__co_set_name(self, name);
    return 0;
}

static int copy_name(const goc_co *co, char *buf, size_t size)
{
    char name[GOC_NAME_MAX];
    size_t len = goc__co_name(co, name);
    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(buf, name, n);
        buf[n] = 0;
    }
    return (int)len;
}

int goc_name(char *buf, size_t size)
{
    goc_co *self = goc__self();
    if (!self)
        return GOC_EPERM;
    if (!buf && size)
        return GOC_EINVAL;
    return copy_name(self, buf, size);
}

int goc_task_name(goc_task *t, char *buf, size_t size)
{
    if (!t || (!buf && size))
        return GOC_EINVAL;
    return copy_name((const goc_co *)t, buf, size);
}

static int collect(goc_co *t, void **result)
{
    int err = goc__task_outcome(t, result);
    goc__co_release(goc__worker(), t);
    return err;
}

int goc_join(goc_task *task, void **result)
{
    goc_co *t = (goc_co *)task;
    if (!t)
        return GOC_EINVAL;
    goc_co *self = goc__self();
    if (!self || t == self) {
        if (goc__runtime())
            goc__co_release(goc__worker(), t); /* consumed all the same */
        return self ? GOC_EINVAL : GOC_EPERM;
    }
    /* acquire: DONE was released after result and err were written */
    if (atomic_load_explicit(&t->join, memory_order_acquire) == GOC_JOIN_DONE)
        return collect(t, result);
    if (goc__park_begin_on(self, "join", GOC_WAIT_OTHER, t, 0) != 0) {
        goc__co_release(goc__worker(), t);
        return GOC_ECANCELED;
    }
    uintptr_t expect = GOC_JOIN_NONE;
    if (!atomic_compare_exchange_strong_explicit(&t->join, &expect, (uintptr_t)self,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        goc__park_abort(self); /* it finished meanwhile */
        return collect(t, result);
    }
    int reason = goc__park(self);
    if (reason != GOC_WS_WOKEN) {
        expect = (uintptr_t)self;
        atomic_compare_exchange_strong(&t->join, &expect, GOC_JOIN_NONE);
        goc__co_release(goc__worker(), t); /* t runs on, detached */
        return GOC_ECANCELED;
    }
    return collect(t, result);
}

int goc_cancel(goc_task *task)
{
    if (!task)
        return GOC_EINVAL;
    goc__cancel_co((goc_co *)task);
    return 0;
}

void goc__cancel_all(goc_runtime *rt)
{
    goc__co_each_alive(rt, goc__cancel_co);
}

int goc_cancelled(void)
{
    goc_co *co = goc__self();
    return co && (atomic_load_explicit(&co->wstate, memory_order_relaxed) & GOC_WS_CANCEL) != 0;
}

void goc_yield(void)
{
    goc_co *co = goc__self();
    if (co)
        goc__switch_away(goc__worker(), co, GOC_REQ_YIELD);
}
