/*
 * park.h - what the scheduler offers the layers above it (never installed).
 *
 * Channels, select, sync, tasks, queues, generators and I/O block, wake,
 * sleep and spawn only through this header; the worker, its rings, stacks
 * and libuv loop stay private to sched/ (runtime.h), and nothing here
 * needs <uv.h>.
 *
 * Parking (the one primitive every blocking call uses):
 *   1. goc__park_begin()  - state RUNNING -> WAITING, or GOC_ECANCELED if a
 *                           cancel is pending (nothing to undo then);
 *   2. register the coroutine where a waker will find it (under that
 *      structure's lock);
 *   3. goc__park()        - switch away; returns the wake reason.
 *   A waker calls goc__wake(co, reason): a CAS WAITING -> reason, so exactly
 *   one of value / close / timeout / cancel wins; the winner makes co
 *   runnable. After it resumes, the coroutine removes its own registrations
 *   under their locks; wakers touch a registration only under that lock,
 *   so a registration living on the coroutine's stack is safe.
 *   If the condition turned true between 1 and 3, goc__park_abort() undoes
 *   step 1 (and still parks once if a waker already won the race).
 *
 * A coroutine is never resumed while its registers are still being saved:
 * on_cpu is 1 from the moment a worker switches to it until its worker has
 * switched back to the scheduler; a worker about to run it waits for 0.
 */
#ifndef GOC_PARK_H
#define GOC_PARK_H

#include <stdint.h>

#include "co.h"
#include "solo.h"

typedef struct goc_worker goc_worker;   /* opaque above sched/ */
typedef struct goc_runtime goc_runtime;

/* wstate: the low bits are the park state, GOC_WS_CANCEL is sticky. */
enum {
    GOC_WS_RUNNING = 0,
    GOC_WS_WAITING = 1,
    GOC_WS_WOKEN = 2,      /* the awaited event happened */
    GOC_WS_TIMEDOUT = 3,   /* a timer fired first */
    GOC_WS_CANCELED = 4,   /* goc_cancel (or shutdown) fired first */
    GOC_WS_CLOSED = 5,     /* the awaited object was closed */
    GOC_WS_HELD = 6,       /* waiting, and cancels do not end the wait
                              (thread-pool work using the caller's stack) */
    GOC_WS_STATE_MASK = 0xff,
    GOC_WS_CANCEL = 0x100,
};

/* ------------------------------------------------------------ wait lists */

/* A waiter on some object's queue; lives on the waiting coroutine's stack. */
typedef struct goc_waiter {
    struct goc_waiter *prev, *next;
    goc_co *co;
    int queued;
} goc_waiter;

typedef struct goc_waitq { goc_waiter *head, *tail; } goc_waitq;

/* Queue w at the tail (a waiter is on one queue at most, once). Inline,
 * as the pop and the remove: a channel hand-off runs one of each. */
static inline void goc__waitq_push(goc_waitq *q, goc_waiter *w)
{
    goc__assert(!w->queued);
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    w->queued = 1;
}

/* Take w off q; a no-op if it is not queued (a waker took it off). */
static inline void goc__waitq_remove(goc_waitq *q, goc_waiter *w)
{
    if (!w->queued)
        return;
    goc__assert(w->prev ? w->prev->next == w : q->head == w);
    goc__assert(w->next ? w->next->prev == w : q->tail == w);
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->prev = w->next = NULL;
    w->queued = 0;
}

static inline goc_waiter *goc__waitq_pop(goc_waitq *q)
{
    goc_waiter *w = q->head;
    if (w)
        goc__waitq_remove(q, w);
    return w;
}
/* Pop waiters until one whose coroutine we can claim (goc__claim with
 * GOC_WS_WOKEN); NULL if none. Waiters whose claim fails (already woken by
 * a cancel, a timeout or another select case) are dropped from q. */
goc_waiter *goc__waitq_claim(goc_waitq *q);

/* ------------------------------------------------------- task watchers */

/* Waiting on a task without being its joiner: goc_gather, goc_wait_first,
 * goc_wait_for (asyncio/task.c) hang a goc_watch on each task they wait for,
 * in their own memory. When the task returns, goc__co_finish calls fn(w)
 * once for every watch still hung, under the task's watch_lock, after its
 * result, err and the DONE join word are published; fn runs in scheduler
 * context and must not block (it wakes its waiter). goc__watch_remove
 * takes the same lock, so once it returns fn is not running and will not
 * run for w: call it for every hung watch, fired or not, before w's memory
 * goes away or its waiter parks on anything else. */
typedef struct goc_watch {
    struct goc_watch *prev, *next;
    goc_co *task;
    void (*fn)(struct goc_watch *w);
    int hung;                     /* on task's list (fn not yet called) */
} goc_watch;

/* 0: hung on task; 1: task already returned (w not hung, fn never runs). */
int  goc__watch_add(goc_co *task, goc_watch *w);
void goc__watch_remove(goc_watch *w);
/* A returned task's outcome: its goc_fail error, GOC_ECANCELED if a cancel
 * was pending when it returned, else 0. */
int  goc__task_err(const goc_co *task);
/* The same, with its return value in *result (if result). */
static inline int goc__task_outcome(const goc_co *task, void **result)
{
    if (result)
        *result = task->result;
    return goc__task_err(task);
}
/* task has returned: its join word is DONE (acquire: released after its
 * result and error were written). */
static inline int goc__task_returned(const goc_co *task)
{
    return atomic_load_explicit(&task->join, memory_order_acquire) == GOC_JOIN_DONE;
}

/* ---------------------------------------------------------------- timers */

typedef struct goc_timer goc_timer;
struct goc_timer {
    int64_t when;                 /* goc_now() deadline */
    uint32_t idx;                 /* heap slot, GOC_TIMER_NONE when not queued */
    goc_worker *owner;            /* whose heap holds it */
    void (*fire)(goc_timer *t);   /* called under the heap lock, on the owner */
    goc_co *co;                   /* for timers that wake a coroutine */
    void *arg;                    /* for other timers (goc_after: its channel) */
};
#define GOC_TIMER_NONE UINT32_MAX

int64_t goc__deadline(int64_t ns);      /* goc_now() + ns, saturating at INT64_MAX */
/* The deadline of an API timeout: < 0 is none (INT64_MAX), 0 is already
 * past (0: pollers test for it), else goc__deadline(timeout_ns). */
int64_t goc__deadline_in(int64_t timeout_ns);
void goc__timer_add(goc_worker *w, goc_timer *t);
void goc__timer_remove(goc_timer *t);           /* no-op if no longer queued */
/* goc__park with a deadline (INT64_MAX: none) after goc__park_begin and
 * registering: a timer wakes self with GOC_WS_TIMEDOUT if nothing else
 * does first. Returns the wake reason. */
int  goc__park_until(goc_co *self, int64_t deadline);

/* ------------------------------------------------------------- parking */

/* This thread's worker, or NULL. A coroutine may resume on another thread,
 * so it must be read afresh after every switch. On x86-64 an initial-exec
 * TLS load is one %fs-relative instruction that no compiler can hoist
 * across the (opaque) switch call, so it is inlined everywhere; elsewhere
 * compilers may cache the thread pointer within a function, so there it
 * is a call to a function of its own (current.c). */
#if defined(__x86_64__)
extern _Thread_local goc_worker *goc__tls_worker __attribute__((tls_model("initial-exec")));
static inline goc_worker *goc__worker(void)
{
    return goc__tls_worker;
}
#else
goc_worker *goc__worker(void);
#endif
goc_runtime *goc__runtime(void);        /* the running runtime, or NULL */
/* The running coroutine, or NULL. A worker's first member is the
 * coroutine it runs (runtime.h asserts it), so this reads no more of the
 * worker than that, and the worker's layout stays private to sched/. */
static inline goc_co *goc__self(void)
{
    goc_worker *w = goc__worker();
    return w ? *(goc_co *const *)(const void *)w : NULL;
}

int  goc__park_begin(goc_co *co, const char *what);
/* goc__park_begin with a structured wait: kind GOC_WAIT_*, the awaited
 * object and a kind-specific argument (runtime.h, goc_wait). */
int  goc__park_begin_on(goc_co *co, const char *what, int kind, const void *obj, int64_t arg);
int  goc__park(goc_co *co);             /* returns GOC_WS_* reason */
void goc__park_abort(goc_co *co);
int  goc__wake(goc_co *co, int reason); /* 1 if this call woke it */
int  goc__claim(goc_co *co, int reason);/* the CAS of goc__wake, without making it runnable:
                                           the winner must goc__ready it (after unlocking) */

/* ------------------------------------------- one worker, no atomics */

/* Around a write of a channel or of a coroutine's wstate: the mode
 * (solo.h) the code between uses, passed to goc__shared_end. */
static inline int goc__shared_begin(void)
{
    return goc__shared_begin_on(goc__worker());
}
/* goc__park_begin_on in a section of mode `mode`, and goc__claim inside a
 * GOC_SHARED_SOLO section: nothing else writes wstate then, so a load and
 * a store, no CAS. */
int  goc__park_begin_in(goc_co *co, const char *what, int kind, const void *obj, int64_t arg,
                        int mode);
static inline int goc__claim_solo(goc_co *co, int reason)
{
    if (atomic_load_explicit(&co->wstate, memory_order_relaxed) != GOC_WS_WAITING)
        return 0;
    atomic_store_explicit(&co->wstate, (uint32_t)reason, memory_order_relaxed);
    return 1;
}
/* goc__waitq_claim in a section of mode `mode`. */
static inline goc_waiter *goc__waitq_claim_in(goc_waitq *q, int mode)
{
    if (!q->head)
        return NULL; /* no call for the common case, inside a critical section */
    if (mode != GOC_SHARED_SOLO)
        return goc__waitq_claim(q);
    goc_waiter *w;
    while ((w = goc__waitq_pop(q)))
        if (goc__claim_solo(w->co, GOC_WS_WOKEN))
            return w;
    return NULL;
}
void goc__ready(goc_co *co, int next);  /* make runnable (next: the next slot) */
int  goc__ws_to_err(int reason);        /* GOC_WS_* -> 0 / GOC_E* */
/* A wait only its one waker ends (goc_cancel just marks it cancelled):
 * goc__hold_begin, hand co to the waker, goc__park; the waker calls
 * goc__release (from any thread). */
void goc__hold_begin(goc_co *co, const char *what);
void goc__release(goc_co *co);
/* Undo goc__hold_begin before any waker could have been told about co
 * (the awaited event turned out to have happened already). */
void goc__hold_abort(goc_co *co);
void goc__cancel_co(goc_co *co);

uint32_t goc__rand(void);              /* per-worker xorshift */

/* -------------------------------------------- the waits of wait queues */

/* The wait of every object guarded by a goc_spin (queue, event, mutex,
 * semaphore, socket): self has begun its park (goc__park_begin*), lock is
 * held and guards q. Queue w (w->co is self), release the lock, park
 * until a waker claims w or deadline (INT64_MAX: none) passes. Returns
 * the wake reason. GOC_WS_WOKEN: a waker claimed w, took it off q and may
 * have left word in the waiter; the lock is not held and the object is
 * not ours to touch any more. Anything else (a timeout, a cancel): w is
 * off q (a waker that lost the claim may have taken it off already) and
 * the lock is held again, for the caller's own bookkeeping; the caller
 * unlocks. Channels
 * and WaitGroups wait in their own way because their lock is not a
 * goc_spin: a bit of a word that also counts the operations in flight
 * (chan.h, wg.c), released and uncounted in one atomic. */
static inline int goc__waitq_park(goc_waitq *q, goc_waiter *w, goc_spin *lock, int64_t deadline)
{
    goc__waitq_push(q, w);
    goc__spin_unlock(lock);
    int reason = goc__park_until(w->co, deadline);
    if (reason != GOC_WS_WOKEN) {
        goc__spin_lock(lock);
        goc__waitq_remove(q, w);
    }
    return reason;
}

/* Coroutines claimed under an object's lock, made runnable once it is
 * released (so a woken coroutine never waits for the waker's lock, and
 * cannot free the object before the waker's last touch). A stack linked
 * through co->next: a claimed coroutine is parked, so its link is free. */
typedef struct goc_wakeq { goc_co *top; } goc_wakeq;

static inline void goc__wakeq_add(goc_wakeq *q, goc_co *co)
{
    co->next = q->top;
    q->top = co;
}

static inline goc_co *goc__wakeq_pop(goc_wakeq *q)
{
    goc_co *co = q->top;
    if (co)
        q->top = co->next; /* read before it may run */
    return co;
}

/* Make all of them runnable, the first one claimed last: into the next
 * slot when first_next (it was handed something and should run next, as
 * a channel hand-off), behind the ring otherwise. */
static inline void goc__wakeq_ready(goc_wakeq *q, int first_next)
{
    goc_co *co;
    while ((co = goc__wakeq_pop(q)))
        goc__ready(co, first_next && !q->top);
}

/* -------------------------------------------------------------- spawning */

/* A new coroutine that will run fn(arg) on this worker, not yet runnable
 * (so its spawner can record it first), or NULL with *err GOC_EPERM (not
 * on a coroutine) or GOC_ENOMEM. pc: the spawner's return address, for
 * the dump. goc__co_start makes it runnable, behind this worker's queue. */
goc_co *goc__co_make(void (*fn)(void *), void *arg, void *pc, int *err);
void goc__co_start(goc_co *co);
/* Names (names.c): set copies at most GOC_NAME_MAX - 1 bytes of name;
 * get writes co's name, or "co-ID" when it has none, into buf and
 * returns its length. */
void   goc__co_set_name(goc_co *co, const char *name);
size_t goc__co_name(const goc_co *co, char buf[GOC_NAME_MAX]);
/* Drop a task handle's reference (goc_task_free). */
void goc__co_release(goc_worker *w, goc_co *co);

#endif /* GOC_PARK_H */
