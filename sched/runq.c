/*
 * runq.c - run queues and wake-ups: each worker's ring (the parts that
 * are not inline: runq.h), the global inject queue, the idle stack, and
 * making a coroutine runnable (goc__ready and the goc__enqueue_* calls).
 *
 * Owns: rt's global queue (gq_*) and idle stack (idle_stack, nidle,
 * nspinning's hand-over), and the ring protocol. The ring has one
 * producer (its owner; goc_run before any worker runs) and many
 * consumers (the owner and thieves, by CAS on head). A full ring moves
 * half of itself to the global queue (the owner claims the slots with the
 * CAS first, then copies them).
 *
 * Waking, compared with Go's proc.go and Tokio. A worker with nothing to
 * do should cost nothing, and a wake-up should go only where it finds
 * work:
 *   - Making work runnable wakes at most one idle worker, and only when no
 *     worker is spinning already (Go's wakep: the spinner will find it,
 *     and when it does and stops spinning it wakes the next one, so one
 *     burst wakes workers one at a time). Spinning is bounded: 4 rounds
 *     over the victims and the global queue, then the worker idles; at
 *     most half the busy workers spin (one at 2 workers).
 *   - A hand-off into the next slot, and the coroutine it displaces, wake
 *     nobody: they run here as soon as the current coroutine parks (as
 *     Tokio's LIFO slot). Nor does one coroutine made runnable by the
 *     netpoller: the harvester runs it; only a batch wakes someone
 *     (netpoll.c; Tokio's "more than one task queued" rule, with a larger
 *     batch because a wake-up costs a context switch on both sides, and
 *     at 2 workers a wake-up per socket event more than doubled the echo
 *     server's CPU per round trip).
 *   - One idle worker at a time, the poller, watches the netpoller (Go:
 *     one M blocked in netpoll); the others sleep on their own loops, so a
 *     socket event wakes one thread, not every idle one. The poller also
 *     sleeps only until the other workers' earliest timer plus a grace,
 *     and fires timers its peers left overdue (busy in one coroutine, or
 *     descheduled by the OS), as Go's stealing runs other Ps' timers.
 *   - The publish-then-check order: a producer's release store of the
 *     work is followed by a seq_cst fence before it reads nidle (Go's
 *     "#StoreLoad-style memory barrier" on the submitter side); a worker
 *     going idle increments nidle (a full barrier) before it looks at the
 *     queues once more. Either the producer sees the idle worker or the
 *     worker sees the work.
 *   - A wake-up is an eventfd write (uv_async_send), made only for a
 *     worker taken off the idle stack; libuv skips the write while an
 *     earlier one is still pending.
 *   - The monitor (sysmon) is the safety net: it wakes an idle worker for
 *     a ring that stays non-empty across two samples or a worker stuck in
 *     one coroutine with work queued, and harvests the netpoller when the
 *     poller was busy for a whole sample.
 *
 *
 * Locking: gq_lock (a spinlock: nothing slow happens under it) guards the
 * global queue, idle_lock the idle stack and each worker's `spinning`
 * hand-over while it is idle. Lock order: a worker's timer lock, then
 * gq_lock, then idle_lock.
 */
#include <stdio.h>
#include <stdlib.h>

#include "runq.h"
#include "trace.h"

/* ------------------------------------------------------------ run rings */

uint32_t goc__ring_grab(goc_ring *r, goc_co **batch)
{
    for (;;) {
        uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        /* acquire: pairs with the owner's tail release, so the slots below
         * t hold the coroutines it published */
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
        uint32_t n = t - h;
        n -= n / 2;
        if (n == 0)
            return 0;
        if (n > GOC_RING_SIZE / 2)
            continue; /* h and t read at different times */
        for (uint32_t i = 0; i < n; i++)
            batch[i] = atomic_load_explicit(&r->slots[(h + i) % GOC_RING_SIZE],
                                            memory_order_relaxed);
        goc__chaos_point(goc__worker()); /* the owner or another thief may move head now */
        /* acq_rel: release our slot reads to the owner; acquire what
         * other consumers released with their head updates */
        if (atomic_compare_exchange_weak_explicit(&r->head, &h, h + n,
                                                  memory_order_acq_rel, memory_order_relaxed))
            return n;
    }
}


/* ------------------------------------------------------- global queue */

#define GQ_CHUNK (GOC_RING_SIZE / 2 + 1) /* a ring spill: half a ring, plus one */
#define GQ_SPARE_MAX 8

typedef struct goc_gq_chunk {
    struct goc_gq_chunk *next;
    uint32_t head, tail;          /* cos[head..tail) are queued */
    goc_co *cos[GQ_CHUNK];
} goc_gq_chunk;

/* A chunk from the spares or malloc. Out of memory here leaves runnable
 * coroutines nowhere to go: like Go's runtime, we stop with a message. */
static goc_gq_chunk *gq_chunk_new(goc_runtime *rt)
{
    goc__spin_lock(&rt->gq_lock);
    goc_gq_chunk *c = rt->gq_spare;
    if (c) {
        rt->gq_spare = c->next;
        rt->gq_nspare--;
    }
    goc__spin_unlock(&rt->gq_lock);
    if (!c && !(c = malloc(sizeof *c))) {
        fprintf(stderr, "goc: out of memory for the global run queue\n");
        abort();
    }
    c->next = NULL;
    c->head = c->tail = 0;
    return c;
}

/* Under gq_lock: append a filled chunk. */
static void gq_append_locked(goc_runtime *rt, goc_gq_chunk *c)
{
    if (rt->gq_last)
        rt->gq_last->next = c;
    else
        rt->gq_first = c;
    rt->gq_last = c;
    atomic_fetch_add_explicit(&rt->gq_len, c->tail - c->head, memory_order_relaxed);
}

static void global_push_one(goc_runtime *rt, goc_co *co)
{
    goc__spin_lock(&rt->gq_lock);
    goc_gq_chunk *last = rt->gq_last;
    if (last && last->tail < GQ_CHUNK) {
        last->cos[last->tail++] = co;
        atomic_fetch_add_explicit(&rt->gq_len, 1, memory_order_relaxed);
        goc__spin_unlock(&rt->gq_lock);
        return;
    }
    goc__spin_unlock(&rt->gq_lock);
    goc_gq_chunk *c = gq_chunk_new(rt);
    c->cos[c->tail++] = co;
    goc__spin_lock(&rt->gq_lock);
    gq_append_locked(rt, c);
    goc__spin_unlock(&rt->gq_lock);
}

/* Ring full: move half of it, plus co, to the global queue. It claims the
 * slots with the CAS first (from then on only the owner, us, writes
 * them), then copies the pointers. */
__attribute__((noinline)) int goc__ring_spill(goc_worker *w, goc_co *co)
{
    goc_ring *r = &w->ring;
    uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t n = (t - h) / 2;
    if (n != GOC_RING_SIZE / 2)
        return 0; /* a thief made room meanwhile */
    if (!atomic_compare_exchange_strong_explicit(&r->head, &h, h + n,
                                                 memory_order_acq_rel, memory_order_relaxed))
        return 0;
    goc_gq_chunk *c = gq_chunk_new(w->rt);
    for (uint32_t i = 0; i < n; i++)
        c->cos[i] = atomic_load_explicit(&r->slots[(h + i) % GOC_RING_SIZE], memory_order_relaxed);
    c->cos[n] = co;
    c->tail = n + 1;
    goc__spin_lock(&w->rt->gq_lock);
    gq_append_locked(w->rt, c);
    goc__spin_unlock(&w->rt->gq_lock);
    return 1;
}

void goc__gq_free_all(goc_runtime *rt)
{
    goc_gq_chunk *lists[2] = { rt->gq_first, rt->gq_spare };
    for (int i = 0; i < 2; i++) {
        for (goc_gq_chunk *c = lists[i], *next; c; c = next) {
            next = c->next;
            free(c);
        }
    }
    rt->gq_first = rt->gq_last = rt->gq_spare = NULL;
}


goc_co *goc__global_get(goc_worker *w, uint32_t max)
{
    goc_runtime *rt = w->rt;
    if (atomic_load_explicit(&rt->gq_len, memory_order_relaxed) == 0)
        return NULL;
    goc_gq_chunk *emptied = NULL;
    goc_co *first = NULL;
    goc__spin_lock(&rt->gq_lock);
    size_t len = atomic_load_explicit(&rt->gq_len, memory_order_relaxed);
    size_t n = len / (size_t)rt->nworkers + 1;
    if (n > len)
        n = len;
    if (n > max)
        n = max;
    atomic_fetch_sub_explicit(&rt->gq_len, n, memory_order_relaxed);
    while (n > 0) {
        goc_gq_chunk *c = rt->gq_first;
        while (n > 0 && c->head < c->tail) {
            goc_co *co = c->cos[c->head++];
            if (!first)
                first = co;
            else
                goc__ring_put(&w->ring, co);
            n--;
        }
        if (c->head == c->tail) {
            rt->gq_first = c->next;
            if (!rt->gq_first)
                rt->gq_last = NULL;
            if (rt->gq_nspare < GQ_SPARE_MAX) {
                c->next = rt->gq_spare;
                rt->gq_spare = c;
                rt->gq_nspare++;
            } else {
                c->next = emptied;
                emptied = c;
            }
        }
    }
    goc__spin_unlock(&rt->gq_lock);
    while (emptied) {
        goc_gq_chunk *next = emptied->next;
        free(emptied);
        emptied = next;
    }
    return first;
}


/* ----------------------------------------------------------- wake-ups */

/* Take an idle worker off the idle stack, idle_lock held: the newest one
 * that is not the poller (the poller hears sockets and timers while it
 * sleeps; keep it there), else the poller. */
static goc_worker *pop_idle_locked(goc_runtime *rt)
{
    int poller = atomic_load_explicit(&rt->poller, memory_order_relaxed);
    int at = rt->nidle_stack - 1;
    for (int i = at; i >= 0; i--) {
        if (rt->idle_stack[i] != poller) {
            at = i;
            break;
        }
    }
    goc_worker *v = &rt->workers[rt->idle_stack[at]];
    rt->idle_stack[at] = rt->idle_stack[--rt->nidle_stack];
    return v;
}

static void lock_idle(goc_runtime *rt)
{
    goc__rank_acquire(GOC_RANK_IDLE, &rt->idle_lock);
    pthread_mutex_lock(&rt->idle_lock);
}

static void unlock_idle(goc_runtime *rt)
{
    pthread_mutex_unlock(&rt->idle_lock);
    goc__rank_release(GOC_RANK_IDLE, &rt->idle_lock);
}

void goc__go_idle(goc_worker *w)
{
    goc_runtime *rt = w->rt;
    lock_idle(rt);
    rt->idle_stack[rt->nidle_stack++] = w->index;
    atomic_store(&w->idle, 1);
    atomic_fetch_add(&rt->nidle, 1);
    unlock_idle(rt);
}

void goc__leave_idle(goc_worker *w)
{
    goc_runtime *rt = w->rt;
    lock_idle(rt);
    if (!atomic_load(&w->idle)) {
        w->woken = 1;
    } else {
        for (int i = 0; i < rt->nidle_stack; i++) {
            if (rt->idle_stack[i] == w->index) {
                rt->idle_stack[i] = rt->idle_stack[--rt->nidle_stack];
                break;
            }
        }
        atomic_store(&w->idle, 0);
        atomic_fetch_sub(&rt->nidle, 1);
    }
    unlock_idle(rt);
}


/* Wake one idle worker if there is one and nobody is spinning already
 * (Go's wakep). The caller has just published work (a ring tail, the
 * global queue, a timer) with a release store; the fence orders that
 * store before the loads of nidle and nspinning. Without it the store
 * can wait in the store buffer while we read nidle == 0, and a worker
 * that went idle meanwhile (its increment of nidle is a full barrier)
 * reads the old tail and sleeps: a lost wake-up that only the monitor
 * repairs, 20-40 ms later. That is Dekker's pattern, and it needs
 * StoreLoad order on x86 too. */
/* A wake-up is counted by the thread that sends it: its own worker's
 * counter, or the runtime's for plain threads and the monitor. */
static void count_wakeup(goc_runtime *rt)
{
    goc_worker *self = goc__worker();
    if (self && self->rt == rt)
        goc__count(&self->stats.wakeups, 1);
    else
        atomic_fetch_add_explicit(&rt->xstats.wakeups, 1, memory_order_relaxed);
}

int goc__wake_idle(goc_runtime *rt)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&rt->nidle, memory_order_relaxed) == 0 ||
        atomic_load_explicit(&rt->nspinning, memory_order_relaxed) != 0)
        return 0;
    int zero = 0;
    if (!atomic_compare_exchange_strong(&rt->nspinning, &zero, 1))
        return 0;
    goc_worker *v = NULL;
    lock_idle(rt);
    if (rt->nidle_stack > 0) {
        v = pop_idle_locked(rt);
        atomic_store(&v->idle, 0);
        atomic_fetch_sub(&rt->nidle, 1);
        v->spinning = 1; /* handed over: it counts in nspinning now */
    }
    unlock_idle(rt);
    if (!v) {
        atomic_fetch_sub(&rt->nspinning, 1);
        return 0;
    }
    uv_async_send(&v->wake);
    count_wakeup(rt);
    return 1;
}

void goc__enqueue_quiet(goc_worker *w, goc_co *co)
{
    if (goc__tracing())
        goc__trace_ready(co);
    goc__ring_push(w, co);
}

/* A wake-up costs a context switch on both sides (tens of microseconds on
 * a VM); a worker that finds the ring drained by then wasted it. A few
 * coroutines are run sooner here than by a worker still waking up. */
int goc__share_backlog(goc_worker *w)
{
    goc_ring *r = &w->ring;
    uint32_t n = atomic_load_explicit(&r->tail, memory_order_relaxed) -
                 atomic_load_explicit(&r->head, memory_order_relaxed);
    return n >= GOC_SHARE_BACKLOG ? goc__wake_idle(w->rt) : 0;
}

/* goc__enqueue_local, inlined into goc__ready: a channel hand-off's path. */
static inline void enqueue_local(goc_worker *w, goc_co *co, int next)
{
    if (goc__tracing())
        goc__trace_ready(co);
    if (next && goc__chaos_coin(w, 1))
        next = 0; /* the ring, and a wake-up, instead of the next slot */
    if (next) {
        goc_co *old;
        if (w->rt->nworkers == 1) { /* no thieves: no atomic exchange */
            old = atomic_load_explicit(&w->runnext, memory_order_relaxed);
            atomic_store_explicit(&w->runnext, co, memory_order_relaxed);
        } else {
            /* acq_rel: publish co to a thief; acquire the one we displace */
            old = atomic_exchange_explicit(&w->runnext, co, memory_order_acq_rel);
        }
        /* The next slot runs here as soon as the running coroutine parks:
         * a hand-off (channel partner) needs no other worker. Neither does
         * the coroutine it displaces into the ring: that is the previous
         * link of the same hand-off chain (a select taking from several
         * parked senders readies them one by one), and waking an idle
         * worker to steal it spreads one core's work over two, with every
         * channel line bouncing between them (select at 2 workers: 258 ns
         * with the wake-up, 127 without). The monitor wakes an idle worker
         * for a ring that stays non-empty from one sample to the next. */
        if (old)
            goc__ring_push(w, old);
        if (goc__chaos_coin(w, 2))
            goc__wake_idle(w->rt);
        return;
    }
    goc__ring_push(w, co);
    goc__wake_idle(w->rt);
}

void goc__enqueue_local(goc_worker *w, goc_co *co, int next)
{
    enqueue_local(w, co, next);
}

int goc__has_backlog(goc_worker *w)
{
    return !goc__ring_empty(&w->ring);
}

/* The monitor's nudge: w has not switched for a whole sample and has work
 * queued (its next slot or ring); let an idle worker come and steal it. */
void goc__nudge_stuck(goc_worker *w)
{
    if (atomic_load_explicit(&w->runnext, memory_order_relaxed) || !goc__ring_empty(&w->ring) ||
        atomic_load_explicit(&w->timers.next_when, memory_order_relaxed) <= goc_now())
        goc__wake_idle(w->rt);
}

int goc__enqueue_global(goc_runtime *rt, goc_co *co)
{
    if (goc__tracing())
        goc__trace_ready(co);
    global_push_one(rt, co);
    /* Nobody spinning and nobody idle means every worker is busy and will
     * look at the global queue within 61 picks. */
    return goc__wake_idle(rt);
}

void goc__ready(goc_co *co, int next)
{
    goc_worker *w = goc__worker();
    if (w && w->rt == goc__running_rt)
        enqueue_local(w, co, next);
    else
        goc__enqueue_global(goc__running_rt, co);
}
