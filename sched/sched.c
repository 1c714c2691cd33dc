/*
 * sched.c - the M:N scheduler: workers, run queues, stealing, idling,
 * and goc_run.
 *
 * Owns: the running goc_runtime (goc__running_rt, set and cleared by goc_run, which
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
 * Waking idle workers (who wakes whom, and why at most one) is runq.c's;
 * stealing and sleeping, idle.c's; goc_run and the workers' threads,
 * runtime.c's. This file is the loop itself and the switches.
 *
 * Locking: none of its own; a coroutine's on_cpu (a release store when
 * its registers are saved, an acquire wait before anyone loads them)
 * orders the hand-over of a coroutine between workers.
 */
#include <stdio.h>
#include <stdlib.h>

#include "chaos.h"
#include "runq.h"
#include "trace.h"

/* --------------------------------------------------------- finding work */

static goc_co *find_work(goc_worker *w)
{
    goc_co *co;
    if (--w->tick == 0) {
        w->tick = GOC_GLOBAL_CHECK_TICKS;
        goc__timers_run_due(w);
        /* A busy worker still hears sockets and its thread-pool work. */
        if (atomic_load_explicit(&w->rt->nfd_waiting, memory_order_relaxed))
            goc__netpoll_harvest(w->rt, w);
        if (w->pool_pending)
            uv_run(&w->loop, UV_RUN_NOWAIT);
        if ((co = goc__global_get(w, 1)))
            return co;
    }
    if ((co = goc__local_pick(w)))
        return co;
    return goc__find_work_slow(w);
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


void goc__stop_all(goc_runtime *rt)
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
        goc__stop_all(rt);
}

static void set_running(goc_worker *w, goc_co *co)
{
    w->cur = co;
    atomic_store_explicit(&w->cur_id, co->id, memory_order_relaxed);
    atomic_store_explicit(&w->nswitch, atomic_load_explicit(&w->nswitch, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* The worker's half of dump.c's pin hand-shake: a dump runs, so fence
 * and wait until it is done with co's stack. */
static void wait_unpinned(goc_co *co)
{
    atomic_thread_fence(memory_order_seq_cst); /* on_cpu = 1 before reading pinned */
    unsigned spins = 0;
    while (atomic_load_explicit(&co->pinned, memory_order_acquire))
        goc__spin_wait(&spins);
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
        wait_unpinned(co);
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
    goc_worker *w = goc__worker();
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
        goc__ring_push(w, co);
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

/* A timer of w's is due: one relaxed load, and a clock read only then. */
static inline int timer_due(goc_worker *w)
{
    int64_t when = atomic_load_explicit(&w->timers.next_when, memory_order_relaxed);
    return when != INT64_MAX && when <= goc_now();
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
    goc__chaos_point(w);
    /* A yield lets due timers fire first, as asyncio.sleep(0) does, and a
     * park does not leave them waiting behind the run queue (on a worker
     * whose coroutines each run long, 61 picks can be milliseconds).
     * While a timer is pending that costs a clock read per switch (8 -> 26
     * ns per yield on the project machine); Go's schedule() reads the
     * clock there too. */
    if (timer_due(w))
        w->tick = 1;
    if (--w->tick != 0) {
        goc_co *next = goc__local_pick(w);
        /* next == co: woken before it switched away (goc__timer_add fires
         * at once when out of memory); claim() would wait for itself */
        if (next && next != co && (next->stack || w->stacks.n)) {
            if (req == GOC_REQ_YIELD)
                goc__ring_push(w, co);
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

/* For goc_run's start_main (runtime.c): main gets its stack before the
 * run starts, so no memory for it is goc_run's GOC_ENOMEM, not claim()'s
 * abort. */
int goc__give_stack(goc_worker *w, goc_co *co)
{
    return give_stack(w, co);
}

static void co_entry(void)
{
    goc_worker *w = goc__worker();
    goc_co *co = w->cur;
    after_resume(co, 1);
    goc__co_body(co);
    goc__switch_to_sched(goc__worker(), co, GOC_REQ_EXIT);
    abort(); /* an exited coroutine is never resumed */
}

void goc__worker_loop(goc_worker *w)
{
    for (;;) {
        goc_co *co = w->handoff;
        w->handoff = NULL;
        if (!co && !(co = find_work(w)))
            return;
        run_co(w, co);
    }
}
