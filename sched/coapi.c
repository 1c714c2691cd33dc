/*
 * coapi.c - the public coroutine API: goc_go, goc_spawn (and their _named
 * forms), goc_join, goc_cancel, goc_cancelled, goc_yield, goc_sleep, and
 * goc__co_make/goc__co_start, the spawn the layers above use.
 *
 * Owns nothing: it composes the lifecycle (coro.c), parking (park.c,
 * wake.c) and the run queues (runq.c). A new coroutine goes behind its
 * spawner's run queue (Go's and asyncio's order), recording the
 * spawner's return address for the dump. A join consumes the task
 * handle whatever the outcome; a cancelled join leaves the task running,
 * detached.
 *
 * Locking: none of its own; the join word is lock-free (coro.c).
 */
#include "runtime.h"

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

int goc_sleep(int64_t ns)
{
    goc_co *co = goc__self();
    if (!co)
        return GOC_EPERM;
    if (ns <= 0) {
        goc_yield();
        return goc_cancelled() ? GOC_ECANCELED : 0;
    }
    int64_t deadline = goc__deadline(ns);
    if (goc__park_begin(co, "sleep") != 0)
        return GOC_ECANCELED;
    return goc__park_until(co, deadline) == GOC_WS_TIMEDOUT ? 0 : GOC_ECANCELED;
}
