/*
 * stats.c - goc_read_stats and the schedtrace line.
 *
 * Owns nothing: it only reads. The counters live where they are bumped:
 *   - goc_worker: nswitch, nspawned, nexited, nharvest and the goc_wstats
 *     block, each written only by that worker's thread (goc__count: a
 *     relaxed load and store, no locked instruction on the hot paths);
 *   - goc_runtime.xstats: what threads that are not workers count (plain
 *     threads' and the monitor's wake-ups, the monitor's netpoll
 *     harvests), with atomic adds;
 *   - the stack pool's slab table (reserved and resident bytes).
 * A snapshot sums them with relaxed loads while everything runs, so it is
 * not atomic: fields may be a few events apart, and live is clamped at 0.
 *
 * Invariant: nothing here writes shared state, takes a lock a worker takes,
 * or touches a coroutine; so it is safe from any thread while goc_run
 * runs, the monitor included (it prints schedtrace lines from here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "runtime.h"

static uint64_t load(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static void add_worker(goc_stats *out, const goc_worker *w, uint64_t *exited)
{
    const goc_wstats *s = &w->stats;
    *exited += load(&w->nexited);
    out->spawned += load(&w->nspawned);
    out->switches += load(&w->nswitch);
    out->netpoll_polls += load(&w->nharvest);
    out->parks += load(&s->parks);
    out->steal_tries += load(&s->steal_tries);
    out->steals += load(&s->steals);
    out->stolen += load(&s->stolen);
    out->spins += load(&s->spins);
    out->wakeups += load(&s->wakeups);
    out->wakeups_wasted += load(&s->wakeups_wasted);
    out->idle_sleeps += load(&s->idle_sleeps);
    out->netpoll_blocks += load(&s->netpoll_blocks);
    out->netpoll_events += load(&s->netpoll_events);
    out->netpoll_wakeups += load(&s->netpoll_wakeups);
    out->timers_fired += load(&s->timers_fired);
    out->timer_late_ns += load(&s->timer_late_ns);
    uint64_t late_max = load(&s->timer_late_max_ns);
    if (late_max > out->timer_late_max_ns)
        out->timer_late_max_ns = late_max;
}

static void add_external(goc_stats *out, const goc_xstats *x)
{
    out->wakeups += load(&x->wakeups);
    out->netpoll_polls += load(&x->netpoll_polls);
    out->netpoll_events += load(&x->netpoll_events);
    out->netpoll_wakeups += load(&x->netpoll_wakeups);
}

static uint64_t process_faults(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
}

/* Every field of version 1 (the only version so far). */
static void collect(goc_runtime *rt, goc_stats *out)
{
    uint32_t version = out->version;
    memset(out, 0, sizeof *out);
    out->version = version;
    out->workers = (uint32_t)rt->nworkers;
    out->idle = (uint32_t)atomic_load_explicit(&rt->nidle, memory_order_relaxed);
    out->spinning = (uint32_t)atomic_load_explicit(&rt->nspinning, memory_order_relaxed);
    out->global_queue = atomic_load_explicit(&rt->gq_len, memory_order_relaxed);
    uint64_t exited = 0;
    for (int i = 0; i < rt->nworkers; i++)
        add_worker(out, &rt->workers[i], &exited);
    add_external(out, &rt->xstats);
    out->live = out->spawned > exited ? out->spawned - exited : 0;
    goc__stack_usage(&rt->stacks, &out->stack_reserved, &out->stack_committed);
    out->faults = process_faults();
}

int goc_read_stats(goc_stats *out)
{
    if (!out || out->version != GOC_STATS_VERSION)
        return GOC_EINVAL;
    goc_runtime *rt = goc__runtime();
    if (!rt)
        return GOC_EPERM;
    collect(rt, out);
    return 0;
}

/* ------------------------------------------------------------ schedtrace */

/* Coroutines queued on w: its ring plus its next slot. */
static unsigned runq_len(goc_worker *w)
{
    uint32_t t = atomic_load_explicit(&w->ring.tail, memory_order_relaxed);
    uint32_t h = atomic_load_explicit(&w->ring.head, memory_order_relaxed);
    unsigned n = t - h <= GOC_RING_SIZE ? t - h : 0; /* read apart: skip */
    return n + (atomic_load_explicit(&w->runnext, memory_order_relaxed) != NULL);
}

/* "[3 0 1]": each worker's queue, in buf of 12 bytes per worker plus 3
 * (a number and its space take at most 11). */
static void format_runqs(goc_runtime *rt, char *buf)
{
    size_t at = 0;
    buf[at++] = '[';
    for (int i = 0; i < rt->nworkers; i++)
        at += (size_t)sprintf(buf + at, "%s%u", i ? " " : "", runq_len(&rt->workers[i]));
    strcpy(buf + at, "]");
}

/* One line, written with one fprintf so that lines from other threads do
 * not cut into it. Called by the monitor. */
void goc__schedtrace_print(goc_runtime *rt, int64_t now)
{
    goc_stats s = { .version = GOC_STATS_VERSION };
    collect(rt, &s);
    size_t qlen = (size_t)rt->nworkers * 12 + 3;
    char *runq = malloc(qlen);
    if (!runq)
        return;
    format_runqs(rt, runq);
    fprintf(stderr,
            "goc: schedtrace t=%lldms workers=%u idle=%u spinning=%u runq=%s global=%llu "
            "live=%llu spawned=%llu switches=%llu parks=%llu steals=%llu/%llu stolen=%llu "
            "spins=%llu wakeups=%llu/%llu sleeps=%llu netpoll=%llu/%llu/%llu/%llu "
            "timers=%llu late_max=%lluus stack=%llu/%lluKiB faults=%llu\n",
            (long long)((now - rt->started) / 1000000), s.workers, s.idle, s.spinning, runq,
            (unsigned long long)s.global_queue, (unsigned long long)s.live,
            (unsigned long long)s.spawned, (unsigned long long)s.switches,
            (unsigned long long)s.parks, (unsigned long long)s.steals,
            (unsigned long long)s.steal_tries, (unsigned long long)s.stolen,
            (unsigned long long)s.spins, (unsigned long long)s.wakeups,
            (unsigned long long)s.wakeups_wasted, (unsigned long long)s.idle_sleeps,
            (unsigned long long)s.netpoll_polls, (unsigned long long)s.netpoll_blocks,
            (unsigned long long)s.netpoll_events, (unsigned long long)s.netpoll_wakeups,
            (unsigned long long)s.timers_fired, (unsigned long long)(s.timer_late_max_ns / 1000),
            (unsigned long long)(s.stack_committed / 1024),
            (unsigned long long)(s.stack_reserved / 1024), (unsigned long long)s.faults);
    free(runq);
}
