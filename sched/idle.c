/*
 * idle.c - a worker with nothing of its own to run: stealing, then
 * sleeping in its libuv loop (steps 4 to 6 of sched.c's list).
 *
 * Owns: the spinning protocol (w->spinning, rt->nspinning: at most half
 * the busy workers search at once, each for 4 rounds), the poller role
 * (rt->poller: one idle worker watches the netpoller), each worker's
 * timerfd arming, and the decision to block. The idle stack itself is
 * runq.c's; the deadlock check that runs before blocking is deadlock.c's.
 *
 * Invariants: a worker blocks only after it published itself idle (nidle
 * + 1, a full barrier) and looked at every queue once more, so a producer
 * either sees it idle and wakes it or it sees the work (runq.c). A timer
 * is overdue for stealing once it is TIMER_STEAL_GRACE_NS past due: its
 * owner is stuck in one coroutine or descheduled, and another worker
 * fires it.
 *
 * Locking: none of its own. Stealing is lock-free (the ring's head CAS);
 * firing another worker's timers takes that heap's lock (timer.c).
 */
#include <string.h>
#include <sys/timerfd.h>

#include "runq.h"
#include "trace.h"

/* How long a timer may be overdue on its own worker (busy in one
 * coroutine, or descheduled) before another worker fires it instead. */
#define TIMER_STEAL_GRACE_NS 1000000

/* ------------------------------------------------------------- stealing */

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
    return goc__local_pick(w);
}

static goc_co *steal_from_victim(goc_worker *w, goc_worker *v, uint32_t *taken)
{
    goc_co *batch[GOC_RING_SIZE / 2];
    uint32_t n = goc__ring_grab(&v->ring, batch);
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
        goc__ring_put(&w->ring, batch[i]);
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
    int start = rt->chaos && nv > 0 ? (int)(goc__chaos_next(w) % (uint64_t)nv) : 0;
    goc__count(&w->stats.spins, 1);
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < nv; i++) {
            goc_co *co = steal_from(w, &rt->workers[w->victims[(i + start) % nv]]);
            if (co)
                return co;
        }
        if (atomic_load_explicit(&rt->gq_len, memory_order_relaxed)) {
            goc_co *co = goc__global_get(w, GOC_RING_SIZE / 2);
            if (co)
                return co;
        }
        goc__cpu_relax();
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


/* -------------------------------------------------------------- sleeping */

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
goc_co *goc__find_work_slow(goc_worker *w)
{
    goc_runtime *rt = w->rt;
    for (;;) {
        goc_co *co;
        goc__timers_run_due(w);
        if ((co = goc__local_pick(w)))
            goto found;
        if ((co = goc__global_get(w, GOC_RING_SIZE / 2)))
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

        goc__go_idle(w);
        if (work_visible(w) || (co = goc__local_pick(w)) || goc__deadlock_check(w)) {
            goc__leave_idle(w);
            if (co)
                goto found;
            continue;
        }
        if (block_in_loop(w) && rt->nworkers > 1)
            fire_overdue_timers(w);
        goc__leave_idle(w);
        continue;
    found:
        w->woken = 0;
        if (w->spinning)
            stop_spinning(w);
        return co;
    }
}
