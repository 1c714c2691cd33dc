/*
 * timer.c - per-worker timers (goc__park_until is park.c's, goc_sleep
 * coapi.c's).
 *
 * Owns: each worker's timer heap: a 4-ary min-heap of (deadline, timer)
 * pairs. The deadline is copied into the array so that sifting compares
 * contiguous memory instead of chasing pointers into 100k stacks (that
 * cost 100x in p99 lateness). A timer lives in its user's memory (a sleeping
 * coroutine's frame, later a channel) and is queued on the heap of the
 * worker that created it; that worker fires it from its scheduler loop
 * and sleeps in uv_run until the earliest deadline through a timerfd, so
 * wake-ups are as precise as the kernel's high-resolution timers rather
 * than libuv's millisecond timers.
 *
 * Invariants: t->idx is the heap slot of a queued timer, GOC_TIMER_NONE
 * otherwise; next_when mirrors heap[0]->when (INT64_MAX when empty) so the
 * owner can test for due timers without the lock. A timer fires at or
 * after its deadline, never before.
 *
 * Locking: the heap's spinlock. fire() runs under it, so once a remover
 * has taken and released the lock, no fire() touches that timer anymore:
 * that is what makes timers on coroutine stacks safe.
 */
#include <stdlib.h>
#include <time.h>

#include "runtime.h"
#include "trace.h"

#define ARITY 4

static void set_slot(goc_timers *ts, uint32_t i, goc_heap_slot e)
{
    ts->heap[i] = e;
    e.t->idx = i;
}

#ifdef GOC_ASSERTS
/* The heap property at slot i and its children, and the back indices. */
static int heap_ok_at(const goc_timers *ts, uint32_t i)
{
    for (uint32_t c = i * ARITY + 1; c < ts->len && c <= i * ARITY + ARITY; c++)
        if (ts->heap[c].when < ts->heap[i].when || ts->heap[c].t->idx != c)
            return 0;
    return ts->heap[i].t->idx == i;
}
#endif

static void sift_up(goc_timers *ts, uint32_t i)
{
    goc_heap_slot e = ts->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / ARITY;
        if (ts->heap[parent].when <= e.when)
            break;
        set_slot(ts, i, ts->heap[parent]);
        i = parent;
    }
    set_slot(ts, i, e);
}

static void sift_down(goc_timers *ts, uint32_t i)
{
    goc_heap_slot e = ts->heap[i];
    for (;;) {
        uint32_t first = i * ARITY + 1;
        if (first >= ts->len)
            break;
        uint32_t best = first;
        uint32_t end = first + ARITY < ts->len ? first + ARITY : ts->len;
        for (uint32_t c = first + 1; c < end; c++)
            if (ts->heap[c].when < ts->heap[best].when)
                best = c;
        if (ts->heap[best].when >= e.when)
            break;
        set_slot(ts, i, ts->heap[best]);
        i = best;
    }
    set_slot(ts, i, e);
    goc__assert(heap_ok_at(ts, i));
}


static void publish_next(goc_timers *ts)
{
    goc__assert(ts->len == 0 || heap_ok_at(ts, 0));
    /* release: what a fired timer woke is queued before the heap looks
     * empty (the deadlock check reads next_when first, with acquire) */
    atomic_store_explicit(&ts->next_when, ts->len ? ts->heap[0].when : INT64_MAX,
                          memory_order_release);
}

static void heap_delete(goc_timers *ts, goc_timer *t)
{
    uint32_t i = t->idx;
    t->idx = GOC_TIMER_NONE;
    ts->len--;
    if (i == ts->len)
        return;
    goc_heap_slot last = ts->heap[ts->len];
    set_slot(ts, i, last);
    if (i > 0 && ts->heap[(i - 1) / ARITY].when > last.when)
        sift_up(ts, i);
    else
        sift_down(ts, i);
}

void goc__timer_add(goc_worker *w, goc_timer *t)
{
    goc_timers *ts = &w->timers;
    t->owner = w;
    goc__spin_lock(&ts->lock);
    if (ts->len == ts->cap) {
        uint32_t cap = ts->cap ? ts->cap * 2 : 64;
        goc_heap_slot *h = realloc(ts->heap, cap * sizeof *h);
        if (!h) {
            goc__spin_unlock(&ts->lock);
            /* Without memory we cannot wait; fire at once rather than hang. */
            t->idx = GOC_TIMER_NONE;
            t->fire(t);
            return;
        }
        ts->heap = h;
        ts->cap = cap;
    }
    uint32_t i = ts->len++;
    set_slot(ts, i, (goc_heap_slot){ t->when, t });
    sift_up(ts, i);
    publish_next(ts);
    goc__spin_unlock(&ts->lock);
}

void goc__timer_remove(goc_timer *t)
{
    goc_worker *w = t->owner;
    if (!w)
        return;
    goc_timers *ts = &w->timers;
    goc__spin_lock(&ts->lock);
    if (t->idx != GOC_TIMER_NONE) {
        heap_delete(ts, t);
        publish_next(ts);
    }
    goc__spin_unlock(&ts->lock);
}

/* A fired timer and its lateness go to the firing thread's counters (a
 * worker, possibly not the heap's owner: stolen timers), before the fire:
 * whoever the fire wakes, and whoever that one wakes, sees it counted. */
static void count_fired(goc_worker *me, uint64_t late)
{
    if (!me)
        return;
    goc__count(&me->stats.timers_fired, 1);
    goc__count(&me->stats.timer_late_ns, late);
    goc__count_max(&me->stats.timer_late_max_ns, late);
}

int goc__timers_run(goc_worker *w, int64_t now)
{
    goc_timers *ts = &w->timers;
    int n = 0;
    int64_t since = goc__tracing() ? goc__trace_region_begin() : 0;
    goc_worker *me = goc__worker();
    goc__spin_lock(&ts->lock);
    while (ts->len && ts->heap[0].when <= now) {
        goc_timer *t = ts->heap[0].t;
        uint64_t late = (uint64_t)(now - ts->heap[0].when);
        heap_delete(ts, t);
        count_fired(me, late);
        t->fire(t);
        n++;
    }
    publish_next(ts);
    goc__spin_unlock(&ts->lock);
    if (since)
        goc__trace_region_end(since, n ? "timers" : NULL, "heap", w->index);
    return n;
}

/* Fire w's timers if the earliest is due; returns how many fired. */
int goc__timers_run_due(goc_worker *w)
{
    int64_t when = atomic_load_explicit(&w->timers.next_when, memory_order_relaxed);
    if (when == INT64_MAX)
        return 0;
    int64_t now = goc_now();
    if (when > now)
        return 0;
    return goc__timers_run(w, now);
}

void goc__timers_free(goc_timers *ts)
{
    free(ts->heap);
    ts->heap = NULL;
    ts->len = ts->cap = 0;
}

int64_t goc__deadline_in(int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return INT64_MAX;
    if (timeout_ns == 0)
        return 0;
    return goc__deadline(timeout_ns);
}

int64_t goc__deadline(int64_t ns)
{
    int64_t now = goc_now();
    return ns > INT64_MAX - now ? INT64_MAX : now + ns;
}
