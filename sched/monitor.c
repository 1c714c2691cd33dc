/*
 * monitor.c - a watchdog thread, like a small sysmon.
 *
 * Owns: the monitor thread of the running runtime. Every 20 ms it samples
 * each worker's switch count and running coroutine; a worker whose count
 * has not moved while the same coroutine runs has been held by it since
 * the earlier sample. Past 100 ms, with GOC_DEBUG=1, it names the worker
 * and the coroutine once per stall: the "blocking call inside async code"
 * mistake, which freezes every coroutine queued on that worker.
 *
 * It is also the safety net for hand-offs: a coroutine made runnable in a
 * worker's next slot, or pushed from it into the ring, wakes nobody (it
 * runs there as soon as the current one parks). If that worker instead
 * computes on, or its ring stays non-empty from one sample to the next,
 * the monitor wakes an idle worker, which may then steal that work (as
 * Go's sysmon retakes a P).
 *
 * And for sockets: when nobody harvested the netpoller during a sample
 * while the poller worker was busy, it harvests itself and takes the
 * poller role back (check_netpoll).
 *
 * With GOC_DEBUG=schedtrace=MS it prints the schedtrace line (stats.c)
 * once per MS, at the first sample past it.
 * And it answers SIGQUIT: the handler only raises a flag (dump.c), and
 * the next sample prints the coroutine dump to stderr; each sample also
 * publishes its clock reading (rt->coarse_now), which parks stamp their
 * wait with, so a park costs no clock read.
 *
 * And it drops the announcement a plain thread kept for the next one in
 * solo mode once it is a millisecond old (solo.c), so a one-worker run
 * goes back to plain stores after its plain threads went quiet.
 *
 * And it is the quiet thread that gives stack memory back: about once a
 * second it runs the stack scavenger (stack.c), which releases the pages
 * of free stacks beyond the warm bound that no worker reached since the
 * previous call. Workers never do.
 *
 * Reads only atomics (nswitch, cur_id, the run queue); never touches a
 * coroutine, except through the netpoller's harvest, which makes parked
 * socket waiters runnable as any waker does, and the SIGQUIT dump
 * (dump.c, which pins each parked coroutine it reads).
 * Locking: mon_lock/mon_cond, only to sleep and to be told to stop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runtime.h"

#define SAMPLE_NS 20000000LL
#define STALL_NS 100000000LL
#define SCAVENGE_NS 1000000000LL

typedef struct stall {
    uint64_t nswitch;
    uint64_t id;
    int64_t since;      /* when we first saw it not moving, 0 if moving */
    int reported;
    int backlog;        /* its ring had work at the last sample */
} stall;

static void check_worker(goc_runtime *rt, goc_worker *w, stall *s, int64_t now, int64_t prev)
{
    /* Work queued in its ring at two samples in a row (hand-offs wake
     * nobody): let an idle worker come and share it. */
    int backlog = goc__has_backlog(w);
    if (backlog && s->backlog)
        goc__nudge_stuck(w);
    s->backlog = backlog;

    uint64_t sw = atomic_load_explicit(&w->nswitch, memory_order_relaxed);
    uint64_t id = atomic_load_explicit(&w->cur_id, memory_order_relaxed);
    if (id == 0 || sw != s->nswitch || id != s->id) {
        s->nswitch = sw;
        s->id = id;
        s->since = 0;
        s->reported = 0;
        return;
    }
    if (!s->since)
        s->since = prev;
    goc__nudge_stuck(w);
    if (!s->reported && now - s->since >= STALL_NS) {
        s->reported = 1;
        if (rt->debug)
            fprintf(stderr,
                    "goc: worker %d blocked for %lld ms by coroutine %llu: a blocking call or a "
                    "long computation inside a coroutine stalls every coroutine queued on this "
                    "worker (use goc_yield, or move the blocking call to a thread)\n",
                    w->index, (long long)((now - s->since) / 1000000), (unsigned long long)id);
    }
}

/* Sockets are heard even while the poller is busy: when coroutines wait
 * on sockets and nobody harvested the netpoller for a whole sample while
 * the poller was not blocked on it, harvest here (what it wakes goes to
 * the global queue and wakes an idle worker) and take the role back, so
 * the next worker to idle becomes the poller (Go's sysmon polls the
 * network when nobody did for 10 ms). */
static void check_netpoll(goc_runtime *rt, uint64_t *last_harvests)
{
    uint64_t n = 0;
    for (int i = 0; i < rt->nworkers; i++)
        n += atomic_load_explicit(&rt->workers[i].nharvest, memory_order_relaxed);
    if (n != *last_harvests) {
        *last_harvests = n;
        return;
    }
    if (!atomic_load_explicit(&rt->nfd_waiting, memory_order_relaxed))
        return;
    int p = atomic_load(&rt->poller);
    if (p >= 0 && atomic_load(&rt->workers[p].blocked))
        return; /* it is listening: nothing came */
    if (p >= 0)
        atomic_compare_exchange_strong(&rt->poller, &p, -1);
    goc__netpoll_harvest(rt, NULL);
}

/* The monitor's table, made by goc__monitor_start (so that no memory for
 * it fails goc_run instead of silently stopping the monitor) and freed by
 * monitor_main. One runtime at a time. */
static stall *mon_stalls;

static void *monitor_main(void *arg)
{
    goc_runtime *rt = arg;
    stall *st = mon_stalls;
    int64_t prev = goc_now(), last_scavenge = prev, last_trace = rt->started;
    uint64_t harvests = 0;
    pthread_mutex_lock(&rt->mon_lock);
    while (!rt->mon_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += SAMPLE_NS;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&rt->mon_cond, &rt->mon_lock, &ts);
        if (rt->mon_stop)
            break;
        int64_t now = goc_now();
        atomic_store_explicit(&rt->coarse_now, now, memory_order_relaxed);
        goc__dump_poll(rt);
        goc__solo_expire(now);
        for (int i = 0; i < rt->nworkers; i++)
            check_worker(rt, &rt->workers[i], &st[i], now, prev);
        check_netpoll(rt, &harvests);
        if (rt->schedtrace_ns && now - last_trace >= rt->schedtrace_ns) {
            last_trace = now;
            pthread_mutex_unlock(&rt->mon_lock); /* nor for stderr */
            goc__schedtrace_print(rt, now);
            pthread_mutex_lock(&rt->mon_lock);
        }
        if (now - last_scavenge >= SCAVENGE_NS) {
            last_scavenge = now;
            pthread_mutex_unlock(&rt->mon_lock); /* a stop need not wait for madvise */
            goc__stack_scavenge(&rt->stacks);
            pthread_mutex_lock(&rt->mon_lock);
        }
        prev = now;
    }
    pthread_mutex_unlock(&rt->mon_lock);
    free(st);
    return NULL;
}

int goc__monitor_start(goc_runtime *rt)
{
    pthread_mutex_init(&rt->mon_lock, NULL);
    pthread_cond_init(&rt->mon_cond, NULL);
    rt->mon_stop = 0;
    atomic_store_explicit(&rt->coarse_now, goc_now(), memory_order_relaxed);
    mon_stalls = calloc((size_t)rt->nworkers, sizeof *mon_stalls);
    if (!mon_stalls || pthread_create(&rt->monitor, NULL, monitor_main, rt) != 0) {
        free(mon_stalls);
        mon_stalls = NULL;
        return GOC_ENOMEM;
    }
    rt->mon_started = 1;
    return 0;
}

void goc__monitor_stop(goc_runtime *rt)
{
    if (!rt->mon_started)
        return;
    pthread_mutex_lock(&rt->mon_lock);
    rt->mon_stop = 1;
    pthread_cond_signal(&rt->mon_cond);
    pthread_mutex_unlock(&rt->mon_lock);
    pthread_join(rt->monitor, NULL);
    rt->mon_started = 0;
    pthread_cond_destroy(&rt->mon_cond);
    pthread_mutex_destroy(&rt->mon_lock);
}
