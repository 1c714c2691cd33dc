/*
 * sched.c - the M:N scheduler: workers, run queues, stealing, idling,
 * and goc_run.
 *
 * Owns: the running goc_runtime (g_rt, set and cleared by goc_run, which
 * admits one runtime at a time) and each thread's worker (goc__tls_worker).
 *
 * Each worker loops in its scheduler context, on its thread's own stack:
 * pick a coroutine, switch to it, and when it switches back act on what
 * it asked (yield: back of the ring; park: nothing; exit: clean up).
 * Every switch goes coroutine -> scheduler -> coroutine, as in Go's
 * mcall/schedule, so heavy work (libuv, stealing, freeing stacks) never
 * runs on a coroutine's possibly tiny stack.
 *
 * Where a worker looks for work, in order:
 *   1. every 61st pick (and at a yield with a timer due) its due timers,
 *      the global queue, so it cannot starve, and, while coroutines wait
 *      on them, the netpoller and its loop's thread-pool completions;
 *   2. the next slot (a coroutine just handed a value), at most
 *      GOC_NEXT_STREAK_MAX times in a row so it cannot starve the ring;
 *   3. its ring (bounded FIFO, 256, overflow moves half to global);
 *   4. expired timers, the global queue; the poller, while coroutines
 *      wait on sockets, harvests the netpoller without blocking;
 *   5. stealing half a victim's ring, nearest victims first (hwloc), if
 *      fewer than half the busy workers are already spinning; from a
 *      victim stuck in one coroutine, its next slot and its due timers;
 *   6. otherwise it goes idle: it publishes itself on the idle stack,
 *      looks once more, and blocks in uv_run(UV_RUN_ONCE), where timers
 *      (a timerfd), wake-ups (uv_async), sockets (the netpoller's epoll
 *      fd) and thread-pool completions are one wait.
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
 * Locking: gq_lock (a spinlock: nothing slow happens under it) guards the
 * global queue, idle_lock the idle stack and
 * each worker's `spinning` hand-over while it is idle. Lock order: a
 * worker's timer lock, then gq_lock, then idle_lock. Rings are lock-free
 * (single producer, CAS on head for consumers), as in Go's runq.
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"
#include "trace.h"

/* How long a timer may be overdue on its own worker (busy in one
 * coroutine, or descheduled) before another worker fires it instead. */
#define TIMER_STEAL_GRACE_NS 1000000

static goc_runtime *g_rt;                       /* owned by goc_run */
static _Atomic int g_running;                   /* a goc_run is in progress */
_Thread_local goc_worker *goc__tls_worker __attribute__((tls_model("initial-exec")));

#if defined(__x86_64__)
static inline goc_worker *worker_tls(void)
{
    return goc__tls_worker;
}
#else
__attribute__((noinline)) static goc_worker *worker_tls(void)
{
    goc_worker *w = goc__tls_worker;
    __asm__ volatile("" : "+r"(w) : : "memory");
    return w;
}

goc_worker *goc__worker(void)
{
    return worker_tls();
}
#endif

goc_runtime *goc__runtime(void)
{
    return g_rt;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

void goc__spin_wait(unsigned *spins)
{
    unsigned n = (*spins)++;
    if (n >= 40) {
        sched_yield();
        return;
    }
    for (unsigned k = 1u << (n < 8 ? n : 8); k > 0; k--)
        cpu_relax();
}

void goc__spin_lock_slow(goc_spin *l)
{
    unsigned spins = 0;
    for (;;) {
        while (atomic_load_explicit(&l->v, memory_order_relaxed))
            goc__spin_wait(&spins);
        if (!atomic_exchange_explicit(&l->v, 1, memory_order_acquire))
            return;
    }
}

int64_t goc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int goc_workers(void)
{
    goc_runtime *rt = g_rt;
    return rt ? rt->nworkers : 0;
}

int goc_worker_id(void)
{
    goc_worker *w = goc__worker();
    return w ? w->index : -1;
}

uint32_t goc__rand(void)
{
    static _Thread_local uint32_t outside __attribute__((tls_model("initial-exec"))) = 0x2545F491u;
    goc_worker *w = worker_tls();
    uint32_t *state = w ? &w->rng : &outside;
    uint32_t x = *state; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* ------------------------------------------------------------ chaos */

/* GOC_CHAOS=SEED (any non-zero integer) makes every scheduling decision
 * that may legally go either way go either way at random: which of the
 * next slot and the ring runs next, whether a hand-off goes to the next
 * slot or the ring, where a thief starts among its victims, whether a
 * worker gives up its core at a switch or pauses inside a lock-free
 * window (between reading a ring and claiming from it, between a park's
 * state change and its switch), and whether a hand-off wakes an idle
 * worker after all. Each worker draws from its own generator, seeded
 * from SEED and its index, so one worker replays the same decisions for
 * the same seed. Off, each point costs one predictable branch. */
static uint64_t chaos_next(goc_worker *w)
{
    uint64_t z = (w->chaos_rng += 0x9E3779B97F4A7C15ull); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* 1 with probability 1/2^bits, under chaos only. */
static inline int chaos_coin(goc_worker *w, int bits)
{
    if (__builtin_expect(!w->rt->chaos, 1))
        return 0;
    return (chaos_next(w) & ((1u << bits) - 1)) == 0;
}

/* Under chaos, sometimes stall here: a short spin, or give up the core. */
static void chaos_pause(goc_worker *w)
{
    if (__builtin_expect(!w || !w->rt->chaos, 1))
        return;
    uint64_t r = chaos_next(w);
    if ((r & 15) == 0)
        sched_yield();
    else if ((r & 15) < 4)
        for (unsigned k = (unsigned)(r >> 8) & 1023; k > 0; k--)
            cpu_relax();
}

void goc__chaos_pause(void)
{
    chaos_pause(worker_tls());
}

/* ------------------------------------------------------------ run rings */

static goc_co *ring_pop(goc_ring *r, int shared)
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

/* Take up to half of r's coroutines into batch; returns how many. */
static uint32_t ring_grab(goc_ring *r, goc_co **batch)
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
        chaos_pause(worker_tls()); /* the owner or another thief may move head now */
        /* acq_rel: release our slot reads to the owner; acquire what
         * other consumers released with their head updates */
        if (atomic_compare_exchange_weak_explicit(&r->head, &h, h + n,
                                                  memory_order_acq_rel, memory_order_relaxed))
            return n;
    }
}

/* Owner only: append to the ring; room must be known to exist. */
static void ring_put_unchecked(goc_ring *r, goc_co *co)
{
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->slots[t % GOC_RING_SIZE], co, memory_order_relaxed);
    /* release: a consumer that sees the new tail sees the slot (and the
     * coroutine's state written before it was queued) */
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
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
__attribute__((noinline)) static int ring_spill(goc_worker *w, goc_co *co)
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

static void gq_free_all(goc_runtime *rt)
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

static inline void ring_push(goc_worker *w, goc_co *co)
{
    goc_ring *r = &w->ring;
    /* only the owner pushes (or goc_run, before any worker runs) */
    goc__assert(worker_tls() == w || worker_tls() == NULL);
    for (;;) {
        /* acquire: a thief's CAS on head released the slots it took */
        uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        goc__assert(t - h <= GOC_RING_SIZE);
        if (t - h < GOC_RING_SIZE) {
            ring_put_unchecked(r, co);
            return;
        }
        if (ring_spill(w, co))
            return;
    }
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
    goc_worker *self = worker_tls();
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
    ring_push(w, co);
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

void goc__enqueue_local(goc_worker *w, goc_co *co, int next)
{
    if (goc__tracing())
        goc__trace_ready(co);
    if (next && chaos_coin(w, 1))
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
            ring_push(w, old);
        if (chaos_coin(w, 2))
            goc__wake_idle(w->rt);
        return;
    }
    ring_push(w, co);
    goc__wake_idle(w->rt);
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
    if (w && w->rt == g_rt)
        goc__enqueue_local(w, co, next);
    else
        goc__enqueue_global(g_rt, co);
}

/* --------------------------------------------------------- finding work */

/* Take a fair share of the global queue (at most max) into w's ring; the
 * first one is returned to run. Callers make sure the ring has room. */
static goc_co *global_get(goc_worker *w, uint32_t max)
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
                ring_put_unchecked(&w->ring, co);
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

/* Take the next slot; with one worker there are no thieves to race. */
static inline int take_next(goc_worker *w, goc_co *co)
{
    if (w->rt->nworkers == 1) {
        atomic_store_explicit(&w->runnext, NULL, memory_order_relaxed);
        return 1;
    }
    return atomic_compare_exchange_strong_explicit(&w->runnext, &co, NULL,
                                                   memory_order_acquire, memory_order_relaxed);
}

static inline goc_co *local_pick(goc_worker *w)
{
    goc_co *co = atomic_load_explicit(&w->runnext, memory_order_relaxed);
    if (co && chaos_coin(w, 1))
        co = NULL; /* the ring first this time */
    if (co && w->next_streak < GOC_NEXT_STREAK_MAX && take_next(w, co)) {
        w->next_streak++;
        return co;
    }
    co = ring_pop(&w->ring, w->rt->nworkers > 1);
    if (co) {
        w->next_streak = 0;
        return co;
    }
    co = atomic_load_explicit(&w->runnext, memory_order_relaxed);
    if (co && take_next(w, co)) {
        w->next_streak = 1;
        return co;
    }
    return NULL;
}

/* The victim's timers are overdue by the grace (it is stuck in one
 * coroutine, or descheduled): fire them here, so the coroutines they wake
 * run on this worker instead of waiting for the victim. */
static goc_co *steal_timers(goc_worker *w, goc_worker *v)
{
    int64_t when = atomic_load_explicit(&v->timers.next_when, memory_order_relaxed);
    if (when == INT64_MAX)
        return NULL;
    int64_t now = goc_now();
    if (when > now - TIMER_STEAL_GRACE_NS || goc__timers_run(v, now) == 0)
        return NULL;
    return local_pick(w);
}

static goc_co *steal_from_victim(goc_worker *w, goc_worker *v, uint32_t *taken)
{
    goc_co *batch[GOC_RING_SIZE / 2];
    uint32_t n = ring_grab(&v->ring, batch);
    *taken = n ? n : 1;
    if (n == 0) {
        /* The victim's next slot is its own business while it makes
         * progress; take it only if the victim switched nothing since our
         * last look (it is stuck in a long-running coroutine). */
        uint64_t seen = atomic_load_explicit(&v->nswitch, memory_order_relaxed);
        uint64_t *memo = &w->victim_seen[v->index];
        if (seen != *memo) {
            *memo = seen;
            return NULL;
        }
        if (atomic_load_explicit(&v->runnext, memory_order_relaxed)) {
            goc_co *co = atomic_exchange_explicit(&v->runnext, NULL, memory_order_acquire);
            if (co && goc__tracing())
                goc__trace_steal(w, v, 1, "steal next");
            if (co)
                return co;
        }
        return steal_timers(w, v);
    }
    for (uint32_t i = 0; i + 1 < n; i++)
        ring_put_unchecked(&w->ring, batch[i]);
    if (goc__tracing())
        goc__trace_steal(w, v, n, "steal");
    return batch[n - 1];
}

/* One probe of a victim, counted: tries, successes, coroutines taken (the
 * ones a stolen timer woke count as one). */
static goc_co *steal_from(goc_worker *w, goc_worker *v)
{
    uint32_t taken;
    goc_co *co = steal_from_victim(w, v, &taken);
    goc__count(&w->stats.steal_tries, 1);
    if (co) {
        goc__count(&w->stats.steals, 1);
        goc__count(&w->stats.stolen, taken);
    }
    return co;
}

static goc_co *steal_work(goc_worker *w)
{
    goc_runtime *rt = w->rt;
    int nv = rt->nworkers - 1;
    int start = rt->chaos && nv > 0 ? (int)(chaos_next(w) % (uint64_t)nv) : 0;
    goc__count(&w->stats.spins, 1);
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < nv; i++) {
            goc_co *co = steal_from(w, &rt->workers[w->victims[(i + start) % nv]]);
            if (co)
                return co;
        }
        if (atomic_load_explicit(&rt->gq_len, memory_order_relaxed)) {
            goc_co *co = global_get(w, GOC_RING_SIZE / 2);
            if (co)
                return co;
        }
        cpu_relax();
    }
    return NULL;
}

static void stop_spinning(goc_worker *w)
{
    w->spinning = 0;
    if (atomic_fetch_sub(&w->rt->nspinning, 1) == 1)
        goc__wake_idle(w->rt); /* there may be more where this came from */
}

static int work_visible(goc_worker *w)
{
    goc_runtime *rt = w->rt;
    if (atomic_load(&rt->gq_len) || atomic_load(&rt->stopping))
        return 1;
    for (int i = 0; i < rt->nworkers; i++)
        if (!goc__ring_empty(&rt->workers[i].ring))
            return 1;
    return 0;
}

static void go_idle(goc_worker *w)
{
    goc_runtime *rt = w->rt;
    lock_idle(rt);
    rt->idle_stack[rt->nidle_stack++] = w->index;
    atomic_store(&w->idle, 1);
    atomic_fetch_add(&rt->nidle, 1);
    unlock_idle(rt);
}

/* Leave the idle stack unless a waker already took us off it (then we
 * were woken: w->woken, until we run something or sleep again). */
static void leave_idle(goc_worker *w)
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

/* The earliest deadline the poller should wake for: its own timers, and
 * the other workers' plus the grace (their owners normally fire them). */
static int64_t earliest_timer(goc_worker *w, int poller)
{
    int64_t when = atomic_load_explicit(&w->timers.next_when, memory_order_relaxed);
    if (!poller)
        return when;
    goc_runtime *rt = w->rt;
    for (int i = 0; i < rt->nworkers; i++) {
        int64_t t = atomic_load_explicit(&rt->workers[i].timers.next_when, memory_order_relaxed);
        if (i == w->index || t == INT64_MAX)
            continue;
        t = t > INT64_MAX - TIMER_STEAL_GRACE_NS ? INT64_MAX : t + TIMER_STEAL_GRACE_NS;
        if (t < when)
            when = t;
    }
    return when;
}

static void arm_timerfd(goc_worker *w, int poller)
{
    int64_t when = earliest_timer(w, poller);
    if (when == w->tfd_armed)
        return;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (when != INT64_MAX) {
        if (when <= 0)
            when = 1;
        its.it_value.tv_sec = when / 1000000000;
        its.it_value.tv_nsec = when % 1000000000;
    }
    timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL);
    w->tfd_armed = when;
}

/* Fire the timers of other workers that are overdue by the grace: their
 * owner is stuck in one coroutine or not running at all (Go's stealing
 * runs other Ps' timers too). Fire functions only wake coroutines and may
 * run on any thread; the heap lock orders us with the owner, and what
 * they wake becomes runnable here. Returns how many fired. */
static int fire_overdue_timers(goc_worker *w)
{
    goc_runtime *rt = w->rt;
    int64_t now = 0;
    int n = 0;
    for (int i = 0; i < rt->nworkers; i++) {
        goc_worker *v = &rt->workers[i];
        int64_t t = atomic_load_explicit(&v->timers.next_when, memory_order_relaxed);
        if (v == w || t == INT64_MAX)
            continue;
        if (!now)
            now = goc_now();
        if (t <= now - TIMER_STEAL_GRACE_NS)
            n += goc__timers_run(v, now);
    }
    return n;
}

/* The poller role: the first worker to block while nobody holds it takes
 * it, and keeps it (no epoll_ctl per idle spell) until the monitor finds
 * it neither idle nor harvesting and takes it back. */
static int hold_poller_role(goc_worker *w)
{
    goc_runtime *rt = w->rt;
    int cur = atomic_load_explicit(&rt->poller, memory_order_relaxed);
    if (cur == w->index)
        return 1;
    return cur < 0 && atomic_compare_exchange_strong(&rt->poller, &cur, w->index);
}

static inline int timer_due(goc_worker *w)
{
    int64_t when = atomic_load_explicit(&w->timers.next_when, memory_order_relaxed);
    return when != INT64_MAX && when <= goc_now();
}

static int run_timers_if_due(goc_worker *w)
{
    int64_t when = atomic_load_explicit(&w->timers.next_when, memory_order_relaxed);
    if (when == INT64_MAX)
        return 0;
    int64_t now = goc_now();
    if (when > now)
        return 0;
    return goc__timers_run(w, now);
}

/* The poller (or a worker that could become it), out of work while
 * coroutines wait on sockets, looks at the epoll set once without
 * blocking before it goes idle (Go's findrunnable polls the network
 * before it steals or sleeps). Events are usually there when a server
 * runs dry between requests: harvesting them here takes one epoll_wait,
 * where idling takes the loop's epoll_wait (it only says "the set is
 * readable"), the harvest's own, and the idle bookkeeping. At 2 workers
 * with a Go client at GOMAXPROCS=1, that was 0.64 epoll_wait calls per
 * echo round trip. Other workers do not: what they harvested would be
 * spread over two cores. Returns how many coroutines it made runnable. */
static int harvest_before_idle(goc_worker *w)
{
    goc_runtime *rt = w->rt;
    if (!atomic_load_explicit(&rt->nfd_waiting, memory_order_relaxed))
        return 0;
    int p = atomic_load_explicit(&rt->poller, memory_order_relaxed);
    if (p != w->index && p >= 0)
        return 0;
    return goc__netpoll_harvest(rt, w);
}

/* Sleep until an event for this worker: a wake-up, its timers, its
 * thread-pool completions, and, for the poller only, sockets and the
 * other workers' overdue timers. Returns whether it was the poller. */

/* A worker about to sleep: if a wake-up brought it here and it ran
 * nothing since, that wake-up was wasted (the later scaling work divides
 * these by wake-ups sent). */
static void count_idle_sleep(goc_worker *w, int poller)
{
    goc__count(&w->stats.idle_sleeps, 1);
    if (poller)
        goc__count(&w->stats.netpoll_blocks, 1);
    if (w->woken) {
        w->woken = 0;
        goc__count(&w->stats.wakeups_wasted, 1);
    }
}

static int block_in_loop(goc_worker *w)
{
    int poller = hold_poller_role(w);
    goc__netpoll_watch(w, poller);
    arm_timerfd(w, poller);
    /* seq_cst store, then the deadlock check reads the others' flags: of
     * two workers blocking at once, at least one sees the other blocked
     * (checking only before the store let both miss it and sleep on a
     * deadlock for good, now and then, under load) */
    atomic_store(&w->blocked, 1);
    int64_t idle_since = goc__tracing() ? goc__trace_region_begin() : 0;
    if (!goc__deadlock_check(w)) {
        count_idle_sleep(w, poller);
        uv_run(&w->loop, UV_RUN_ONCE);
    }
    goc__trace_region_end(idle_since, poller ? "idle (netpoll)" : "idle", NULL, 0);
    atomic_store(&w->blocked, 0);
    atomic_fetch_add(&w->rt->unblocks, 1); /* after blocked = 0: see deadlocked_now */
    return poller;
}


/* The slow path: nothing local. Returns NULL once the runtime stops. */
static goc_co *find_work_slow(goc_worker *w)
{
    goc_runtime *rt = w->rt;
    for (;;) {
        goc_co *co;
        run_timers_if_due(w);
        if ((co = local_pick(w)))
            goto found;
        if ((co = global_get(w, GOC_RING_SIZE / 2)))
            goto found;
        if (atomic_load(&rt->stopping))
            return NULL;
        if (harvest_before_idle(w))
            continue;

        if (!w->spinning && rt->nworkers > 1) {
            int busy = rt->nworkers - atomic_load(&rt->nidle);
            if (2 * atomic_load(&rt->nspinning) < busy) {
                w->spinning = 1;
                atomic_fetch_add(&rt->nspinning, 1);
            }
        }
        if (w->spinning) {
            if ((co = steal_work(w)))
                goto found;
            w->spinning = 0;
            atomic_fetch_sub(&rt->nspinning, 1);
            /* A producer may have seen us spinning and not woken anyone. */
            if (work_visible(w))
                continue;
        }

        go_idle(w);
        if (work_visible(w) || (co = local_pick(w)) || goc__deadlock_check(w)) {
            leave_idle(w);
            if (co)
                goto found;
            continue;
        }
        if (block_in_loop(w) && rt->nworkers > 1)
            fire_overdue_timers(w);
        leave_idle(w);
        continue;
    found:
        w->woken = 0;
        if (w->spinning)
            stop_spinning(w);
        return co;
    }
}

static goc_co *find_work(goc_worker *w)
{
    goc_co *co;
    if (--w->tick == 0) {
        w->tick = GOC_GLOBAL_CHECK_TICKS;
        run_timers_if_due(w);
        /* A busy worker still hears sockets and its thread-pool work. */
        if (atomic_load_explicit(&w->rt->nfd_waiting, memory_order_relaxed))
            goc__netpoll_harvest(w->rt, w);
        if (w->pool_pending)
            uv_run(&w->loop, UV_RUN_NOWAIT);
        if ((co = global_get(w, 1)))
            return co;
    }
    if ((co = local_pick(w)))
        return co;
    return find_work_slow(w);
}

/* --------------------------------------------------------- running one */

static int give_stack(goc_worker *w, goc_co *co);

static void wait_off_cpu(goc_co *co)
{
    unsigned spins = 0;
    /* acquire: pairs with the release that clears on_cpu once its
     * registers are saved; only then may we load them */
    while (atomic_load_explicit(&co->on_cpu, memory_order_acquire))
        goc__spin_wait(&spins);
}

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

static void stop_all(goc_runtime *rt)
{
    if (atomic_exchange(&rt->stopping, 1))
        return;
    for (int i = 0; i < rt->nworkers; i++)
        uv_async_send(&rt->workers[i].wake);
}

static void on_exit_of(goc_worker *w, goc_co *co)
{
    goc_runtime *rt = w->rt;
    if (co->stack_kind == GOC_STACK_OWN)
        goc__stack_put_own(&rt->stacks);
    else
        goc__stack_put(&rt->stacks, &w->stacks, co->stack, co->stack_kind);
    co->stack = NULL;
#ifdef GOC_TSAN
    san_tsan_destroy(co->tsan_fiber);
    co->tsan_fiber = NULL;
#endif
    int was_main = (co->flags & GOC_CO_MAIN) != 0;
    atomic_store_explicit(&co->on_cpu, 0, memory_order_release);
    goc__co_finish(w, co);
    atomic_fetch_add(&w->nexited, 1);
    if (was_main) {
        atomic_store(&rt->shutting_down, 1);
        goc__cancel_all(rt);
    }
    if (atomic_load(&rt->shutting_down) && goc__all_exited(rt))
        stop_all(rt);
}

static void set_running(goc_worker *w, goc_co *co)
{
    w->cur = co;
    atomic_store_explicit(&w->cur_id, co->id, memory_order_relaxed);
    atomic_store_explicit(&w->nswitch, atomic_load_explicit(&w->nswitch, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* Make co ready to be switched to on w: off every other CPU, with a stack.
 * A dump may be reading co's stack (dump.c, goc__dump_pin): the load of
 * rt->dumping comes after the store of on_cpu in program order (the
 * signal fence keeps the compiler from swapping them; the dumper's
 * membarrier orders them in hardware), so either the dumper sees on_cpu
 * set and leaves co alone, or we see the dump and wait for its pin. */
static inline void claim(goc_worker *w, goc_co *co)
{
    wait_off_cpu(co);
    atomic_store_explicit(&co->on_cpu, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&w->rt->dumping, memory_order_acquire))
        goc__dump_wait_unpinned(co);
    if (!co->stack && give_stack(w, co) != 0) {
        fprintf(stderr, "goc: out of memory for the stack of coroutine %llu\n",
                (unsigned long long)co->id);
        abort();
    }
    set_running(w, co);
    if (goc__tracing()) /* here, not in set_running: that one stays inlined */
        goc__trace_co_begin(w, co);
}

/* First thing a coroutine does whenever it is resumed, on whatever worker:
 * finish the sanitizer hand-over and release the coroutine that switched
 * directly to us (its registers are saved now). */
static inline goc_worker *after_resume(goc_co *self, int fresh)
{
    goc_worker *w = worker_tls();
#ifdef GOC_ASAN
    san_asan_finish(fresh ? NULL : self->asan_fake, NULL, NULL);
#else
    (void)self;
    (void)fresh;
#endif
    goc_co *prev = w->prev;
    if (prev) {
        w->prev = NULL;
        goc__stack_check_fast(&w->rt->stacks, prev, w->index);
        atomic_store_explicit(&prev->on_cpu, 0, memory_order_release);
    }
    return w;
}

/* Where ASan keeps the fake stack of the context being left (NULL in other
 * builds, where nothing is kept). */
static inline void **asan_slot_of_co(goc_co *co)
{
#ifdef GOC_ASAN
    return &co->asan_fake;
#else
    (void)co;
    return NULL;
#endif
}

static inline void **asan_slot_of_sched(goc_worker *w)
{
#ifdef GOC_ASAN
    return &w->asan_sched_fake;
#else
    (void)w;
    return NULL;
#endif
}

static void san_switch_to_co(goc_worker *w, void **save, goc_co *to)
{
#ifdef GOC_ASAN
    char *lo;
    size_t size;
    goc__stack_bounds(&w->rt->stacks, to, &lo, &size);
    san_asan_start(save, lo, size);
#else
    (void)w;
    (void)save;
#endif
#ifdef GOC_TSAN
    san_tsan_switch(to->tsan_fiber);
#else
    (void)to;
#endif
}

static void run_co(goc_worker *w, goc_co *co)
{
    claim(w, co);
    w->req = GOC_REQ_NONE;
    san_switch_to_co(w, asan_slot_of_sched(w), co);
    goc__ctx_switch(&w->sched_ctx, &co->ctx);
#ifdef GOC_ASAN
    san_asan_finish(w->asan_sched_fake, NULL, NULL);
#endif
    co = w->cur; /* whoever switched back: direct switches may have moved on */
    if (goc__tracing())
        goc__trace_co_end(w, co);
    w->cur = NULL;
    atomic_store_explicit(&w->cur_id, 0, memory_order_relaxed);
    goc__stack_check_fast(&w->rt->stacks, co, w->index);
    switch (w->req) {
    case GOC_REQ_YIELD:
        atomic_store_explicit(&co->on_cpu, 0, memory_order_release);
        ring_push(w, co);
        break;
    case GOC_REQ_PARK:
        atomic_store_explicit(&co->on_cpu, 0, memory_order_release);
        break;
    case GOC_REQ_EXIT:
        on_exit_of(w, co);
        break;
    default:
        fprintf(stderr, "goc: coroutine %llu switched back without a request\n",
                (unsigned long long)co->id);
        abort();
    }
}

/* Called by a coroutine: switch to its worker's scheduler. Returns when
 * the coroutine is resumed, possibly on another worker. */
void goc__switch_to_sched(goc_worker *w, goc_co *co, int req)
{
    w->req = req;
#ifdef GOC_ASAN
    san_asan_start(req == GOC_REQ_EXIT ? NULL : &co->asan_fake,
                   w->asan_sched_bottom, w->asan_sched_size);
#endif
#ifdef GOC_TSAN
    san_tsan_switch(w->tsan_sched_fiber);
#endif
    goc__ctx_switch(&co->ctx, &w->sched_ctx);
    after_resume(co, 0);
}

/* Yield or park: switch straight to the next local coroutine when there
 * is one (one switch instead of two); otherwise, every 61st time so
 * timers and the global queue get their turn, and on a yield with a timer
 * due, go through the scheduler. */
void goc__switch_away(goc_worker *w, goc_co *co, int req)
{
    goc__rank_none_held("a coroutine switching away");
    chaos_pause(w);
    /* A yield lets due timers fire first, as asyncio.sleep(0) does, and a
     * park does not leave them waiting behind the run queue (on a worker
     * whose coroutines each run long, 61 picks can be milliseconds).
     * While a timer is pending that costs a clock read per switch (8 -> 26
     * ns per yield on the project machine); Go's schedule() reads the
     * clock there too. */
    if (timer_due(w))
        w->tick = 1;
    if (--w->tick != 0) {
        goc_co *next = local_pick(w);
        /* next == co: woken before it switched away (goc__timer_add fires
         * at once when out of memory); claim() would wait for itself */
        if (next && next != co && (next->stack || w->stacks.n)) {
            if (req == GOC_REQ_YIELD)
                ring_push(w, co);
            claim(w, next);
            w->prev = co;
            san_switch_to_co(w, asan_slot_of_co(co), next);
            goc__ctx_switch_inline(&co->ctx, &next->ctx);
            after_resume(co, 0);
            return;
        }
        w->handoff = next; /* a fresh stack, or co itself: let the scheduler do it */
    } else {
        w->tick = 1; /* the scheduler's find_work takes the periodic turn */
    }
    goc__switch_to_sched(w, co, req);
}

static void co_entry(void);

static int give_stack(goc_worker *w, goc_co *co)
{
    goc_stack_pool *p = &w->rt->stacks;
    int guarded = 0;
    char *slot;
    if (co->stack_kind == GOC_STACK_OWN) {
        slot = goc__stack_get_own(p, GOC_STACK_DEFAULT);
        guarded = GOC_STACK_OWN;
    } else {
        slot = goc__stack_get(p, &w->stacks, &guarded);
    }
    if (!slot)
        return GOC_ENOMEM;
    co->stack = slot;
    co->stack_kind = (uint8_t)guarded;
    char *lo;
    size_t size;
    goc__stack_bounds(p, co, &lo, &size);
    goc__ctx_make(&co->ctx, lo, size, co_entry);
#ifdef GOC_TSAN
    co->tsan_fiber = san_tsan_create();
#endif
    return 0;
}

/* For goc__start_main (coro.c): main gets its stack before the run starts,
 * so no memory for it is goc_run's GOC_ENOMEM, not claim()'s abort. */
int goc__give_stack(goc_worker *w, goc_co *co)
{
    return give_stack(w, co);
}

void goc__co_body(goc_co *co); /* coro.c: runs the user function */

static void co_entry(void)
{
    goc_worker *w = goc__worker();
    goc_co *co = w->cur;
    after_resume(co, 1);
    goc__co_body(co);
    goc__switch_to_sched(goc__worker(), co, GOC_REQ_EXIT);
    abort(); /* an exited coroutine is never resumed */
}

static void worker_loop(goc_worker *w)
{
    for (;;) {
        goc_co *co = w->handoff;
        w->handoff = NULL;
        if (!co && !(co = find_work(w)))
            return;
        run_co(w, co);
    }
}

/* --------------------------------------------------- worker threads */

static void on_wake(uv_async_t *h)
{
    (void)h; /* the wake-up itself is the message */
}

static void on_timerfd(uv_poll_t *h, int status, int events)
{
    goc_worker *w = h->data;
    uint64_t expirations;
    ssize_t r = read(w->tfd, &expirations, sizeof expirations);
    (void)r;
    (void)status;
    (void)events;
}

static void worker_enter(goc_worker *w)
{
    goc__tls_worker = w;
#ifdef GOC_ASAN
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
    }
    w->asan_sched_bottom = addr;
    w->asan_sched_size = size;
#endif
    if (w->rt->pin)
        goc__topo_bind_thread(w->rt->topo, w->index);
    goc__stack_altstack_enter(&w->altstack_saved);
#ifdef GOC_TSAN
    w->tsan_sched_fiber = san_tsan_current();
#endif
}

static void worker_leave(goc_worker *w)
{
    goc__stack_altstack_leave(w->altstack_saved);
    w->altstack_saved = NULL;
    goc__tls_worker = NULL;
}

static void *worker_thread(void *arg)
{
    goc_worker *w = arg;
    worker_enter(w);
    worker_loop(w);
    worker_leave(w);
    return NULL;
}

static void on_close_noop(uv_handle_t *h)
{
    (void)h;
}

static int worker_init(goc_runtime *rt, goc_worker *w, int index, int *victims, uint64_t *seen)
{
    w->rt = rt;
    w->index = index;
    w->rng = 0x9E3779B9u * (uint32_t)(index + 1);
    w->chaos_rng = rt->chaos * 0x100000001B3ull + (uint64_t)index;
    w->victims = victims;
    w->victim_seen = seen;
    w->tfd = -1;
    w->tfd_armed = INT64_MAX;
    goc__spin_init(&w->timers.lock, GOC_RANK_TIMERS);
    w->tick = GOC_GLOBAL_CHECK_TICKS;
    atomic_store(&w->timers.next_when, INT64_MAX);
    if (uv_loop_init(&w->loop) != 0)
        return GOC_ENOMEM;
    w->loop.data = w;
    if (uv_async_init(&w->loop, &w->wake, on_wake) != 0)
        goto fail_loop;
    w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (w->tfd < 0 || uv_poll_init(&w->loop, &w->tfd_poll, w->tfd) != 0)
        goto fail_async;
    w->tfd_poll.data = w;
    uv_poll_start(&w->tfd_poll, UV_READABLE, on_timerfd);
    uv_unref((uv_handle_t *)&w->tfd_poll); /* the async keeps the loop alive */
    if (goc__netpoll_worker_init(w) != 0) {
        uv_close((uv_handle_t *)&w->tfd_poll, on_close_noop);
        goto fail_async;
    }
    return 0;
fail_async:
    if (w->tfd >= 0)
        close(w->tfd);
    uv_close((uv_handle_t *)&w->wake, on_close_noop);
    uv_run(&w->loop, UV_RUN_NOWAIT);
fail_loop:
    uv_loop_close(&w->loop);
    return GOC_ENOMEM;
}

static void worker_destroy(goc_worker *w)
{
    uv_close((uv_handle_t *)&w->np_poll, on_close_noop);
    uv_close((uv_handle_t *)&w->wake, on_close_noop);
    uv_close((uv_handle_t *)&w->tfd_poll, on_close_noop);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    close(w->tfd);
    if (uv_loop_close(&w->loop) != 0)
        fprintf(stderr, "goc: worker %d loop still had handles at exit\n", w->index);
    goc__timers_free(&w->timers);
    goc__stack_cache_flush(&w->rt->stacks, &w->stacks);
    goc__co_cache_flush(&w->rt->cos, &w->cocache);
}

/* --------------------------------------------------------------- goc_run */

static int parse_workers(const goc_config *cfg, int cores, int *out)
{
    int n = cfg ? cfg->workers : 0;
    if (n < 0)
        return GOC_EINVAL;
    if (n == 0) {
        const char *env = getenv("GOC_WORKERS");
        if (env && *env) {
            char *end;
            long v = strtol(env, &end, 10);
            if (*end || v < 0 || v > 4096)
                return GOC_EINVAL;
            n = (int)v;
        }
    }
    if (n == 0)
        n = cores > 0 ? cores : 1;
    if (n > 4096)
        return GOC_EINVAL;
    *out = n;
    return 0;
}

static void runtime_free(goc_runtime *rt)
{
    if (rt->workers) {
        free((void *)rt->workers[0].victims);
        free(rt->workers[0].victim_seen);
    }
    free(rt->workers);
    free(rt->idle_stack);
    goc__netpoll_free(rt);
    goc__co_pool_destroy(&rt->cos);
    goc__stack_pool_destroy(&rt->stacks);
    if (rt->topo)
        goc__topo_close(rt->topo);
    gq_free_all(rt);
    pthread_mutex_destroy(&rt->idle_lock);
    free(rt);
}

/* GOC_CHAOS from the environment: a non-zero integer, or 0 (off). Nothing
 * is printed (tests check that stderr stays quiet); the chaos tests carry
 * their seed in their names. */
static uint64_t chaos_seed(void)
{
    const char *s = getenv("GOC_CHAOS");
    if (!s || !*s)
        return 0;
    return strtoull(s, NULL, 0); /* a failing chaos test names its seed */
}

/* GOC_DEBUG: a comma-separated list. schedtrace=MS prints a line of
 * statistics every MS ms (monitor.c, stats.c); any other item but "0"
 * (GOC_DEBUG=1, as before) turns on the stall reports. */
static void parse_debug(goc_runtime *rt, const char *dbg)
{
    static const char trace[] = "schedtrace=";
    while (dbg && *dbg) {
        size_t len = strcspn(dbg, ",");
        if (len > sizeof trace - 1 && strncmp(dbg, trace, sizeof trace - 1) == 0) {
            long long ms = strtoll(dbg + sizeof trace - 1, NULL, 10);
            rt->schedtrace_ns = ms > 0 && ms < INT64_MAX / 1000000 ? ms * 1000000 : 0;
        } else if (len > 0 && !(len == 1 && dbg[0] == '0')) {
            rt->debug = 1;
        }
        dbg += len + (dbg[len] == ',');
    }
}

static goc_runtime *runtime_new(const goc_config *cfg, int *err)
{
    goc_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) {
        *err = GOC_ENOMEM;
        return NULL;
    }
    pthread_mutex_init(&rt->idle_lock, NULL);
    goc__spin_init(&rt->gq_lock, GOC_RANK_GQ);
    goc__co_pool_init(&rt->cos);
    size_t stack = cfg && cfg->stack_size ? cfg->stack_size : GOC_STACK_DEFAULT;
    if ((*err = goc__stack_pool_init(&rt->stacks, stack)) != 0)
        goto fail;
    if ((*err = goc__topo_open(&rt->topo)) != 0)
        goto fail;
    if ((*err = parse_workers(cfg, goc__topo_cores(rt->topo), &rt->nworkers)) != 0)
        goto fail;
    rt->pin = cfg ? cfg->pin != 0 : 1;
    if ((*err = goc__topo_plan(rt->topo, rt->nworkers, rt->pin)) != 0)
        goto fail;
    rt->pin = goc__topo_pinned(rt->topo); /* off when oversubscribed (topo.c) */
    rt->chaos = chaos_seed();
    parse_debug(rt, getenv("GOC_DEBUG"));
    atomic_store(&rt->id_gen, 1);
    atomic_store(&rt->poller, -1);
    if ((*err = goc__netpoll_init(rt)) != 0)
        goto fail;

    int n = rt->nworkers;
    rt->workers = aligned_alloc(GOC_CACHELINE, sizeof(goc_worker) * (size_t)n);
    rt->idle_stack = calloc((size_t)n, sizeof(int));
    int *victims = calloc((size_t)n * (size_t)(n > 1 ? n - 1 : 1), sizeof(int));
    uint64_t *seen = calloc((size_t)n * (size_t)n, sizeof(uint64_t));
    if (!rt->workers || !rt->idle_stack || !victims || !seen) {
        free(rt->workers);
        rt->workers = NULL;
        free(victims);
        free(seen);
        *err = GOC_ENOMEM;
        goto fail;
    }
    memset(rt->workers, 0, sizeof(goc_worker) * (size_t)n);
    for (int i = 0; i < n; i++) {
        int *vi = victims + (size_t)i * (size_t)(n > 1 ? n - 1 : 1);
        goc__topo_victims(rt->topo, n, i, vi);
        if ((*err = worker_init(rt, &rt->workers[i], i, vi, seen + (size_t)i * (size_t)n)) != 0) {
            for (int j = 0; j < i; j++)
                worker_destroy(&rt->workers[j]);
            free(victims);
            free(seen);
            free(rt->workers);
            rt->workers = NULL;
            goto fail;
        }
    }
    return rt;
fail:
    runtime_free(rt);
    return NULL;
}

int goc__start_main(goc_runtime *rt, void (*fn)(void *), void *arg); /* coro.c */

int goc_run(const goc_config *cfg, void (*main_fn)(void *), void *arg)
{
    if (!main_fn)
        return GOC_EINVAL;
    if (cfg && (cfg->workers < 0 || (cfg->stack_size && cfg->stack_size < GOC_STACK_MIN) ||
                cfg->stack_size > ((size_t)1 << 30)))
        return GOC_EINVAL;
    if (goc__tls_worker)
        return GOC_EBUSY; /* nested: called from inside a coroutine */
    int expected = 0;
    if (!atomic_compare_exchange_strong(&g_running, &expected, 1))
        return GOC_EBUSY;

    int err = 0;
    goc_runtime *rt = runtime_new(cfg, &err);
    if (!rt) {
        atomic_store(&g_running, 0);
        return err;
    }
    g_rt = rt;
    int traced = goc__trace_runtime_begin(rt); /* GOC_TRACE */
    /* A peer that goes away must not kill the program from inside a write
     * (Go does the same for sockets); a handler of the program's own stays. */
    struct sigaction pipe_old, pipe_ign;
    memset(&pipe_ign, 0, sizeof pipe_ign);
    pipe_ign.sa_handler = SIG_IGN;
    sigemptyset(&pipe_ign.sa_mask);
    sigaction(SIGPIPE, NULL, &pipe_old);
    int pipe_restore = !(pipe_old.sa_flags & SA_SIGINFO) && pipe_old.sa_handler == SIG_DFL;
    if (pipe_restore)
        sigaction(SIGPIPE, &pipe_ign, NULL);
    goc__stack_install_segv_handler();
    goc__dump_signal_install();
    if (rt->pin)
        goc__topo_save_binding(rt->topo);
    if ((err = goc__start_main(rt, main_fn, arg)) != 0)
        goto out;
    rt->started = goc_now();
    if (goc__monitor_start(rt) != 0)
        err = GOC_ENOMEM; /* main never runs */
    for (int i = 1; !err && i < rt->nworkers; i++) {
        goc_worker *w = &rt->workers[i];
        if (pthread_create(&w->thread, NULL, worker_thread, w) != 0) {
            err = GOC_ENOMEM; /* main never runs; stop those we started */
            stop_all(rt);
            break;
        }
        w->started = 1;
    }
    goc_worker *w0 = &rt->workers[0];
    if (!err) {
        worker_enter(w0);
        worker_loop(w0);
        worker_leave(w0);
    }
    for (int i = 1; i < rt->nworkers; i++)
        if (rt->workers[i].started)
            pthread_join(rt->workers[i].thread, NULL);
    goc__dump_signal_restore(); /* before the monitor, which answers it, stops */
    goc__monitor_stop(rt);
    if (atomic_load(&rt->deadlocked))
        err = GOC_EDEADLK;
out:
    goc__dump_signal_restore(); /* no-op if restored above */
    if (rt->pin)
        goc__topo_restore_binding(rt->topo);
    goc__stack_restore_segv_handler();
    if (pipe_restore)
        sigaction(SIGPIPE, &pipe_old, NULL);
    goc__trace_runtime_end(traced);
    for (int i = 0; i < rt->nworkers; i++)
        worker_destroy(&rt->workers[i]);
    g_rt = NULL;
    runtime_free(rt);
    atomic_store(&g_running, 0);
    return err;
}
