/*
 * runtime.c - goc_run: making a runtime, its workers' threads and loops,
 * and taking them down again.
 *
 * Owns: the running goc_runtime (goc__running_rt, in current.c, set and
 * cleared only by goc_run, which admits one runtime at a time through
 * g_running) and the life of each worker: its thread, its libuv loop and handles (the
 * wake-up async, the timerfd poll, the netpoll handle), its TLS pointer
 * (goc__tls_worker, set on entry and cleared on exit).
 *
 * Order of a run: parse the config, plan the placement (topo.c), make
 * the pools and the workers, install the signal handlers, start main
 * (start_main), the monitor and the other threads; worker 0 is the calling
 * thread. Teardown runs the same steps backwards once every worker's
 * loop has returned (sched.c stops them when main and everything it
 * spawned have exited).
 *
 * Locking: none; what goc_run writes is written before the threads start
 * or after they are joined.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"
#include "runq.h"
#include "trace.h"

static _Atomic int g_running;                   /* a goc_run is in progress */

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
    goc__worker_loop(w);
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

/* -------------------------------------------------------------- the runtime */

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
    goc__gq_free_all(rt);
    pthread_mutex_destroy(&rt->idle_lock);
    free(rt);
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
    rt->chaos = goc__chaos_seed();
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

/* main: spawned on worker 0 before any worker runs, with its stack now,
 * so that no memory for it is goc_run's GOC_ENOMEM rather than an abort. */
static int start_main(goc_runtime *rt, void (*fn)(void *), void *arg)
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
    goc__running_rt = rt;
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
    if ((err = start_main(rt, main_fn, arg)) != 0)
        goto out;
    rt->started = goc_now();
    if (goc__monitor_start(rt) != 0)
        err = GOC_ENOMEM; /* main never runs */
    for (int i = 1; !err && i < rt->nworkers; i++) {
        goc_worker *w = &rt->workers[i];
        if (pthread_create(&w->thread, NULL, worker_thread, w) != 0) {
            err = GOC_ENOMEM; /* main never runs; stop those we started */
            goc__stop_all(rt);
            break;
        }
        w->started = 1;
    }
    goc_worker *w0 = &rt->workers[0];
    if (!err) {
        /* Solo mode (solo.h) from the worker's first section on: the
         * seq_cst store in goc__solo_start comes before it. */
        w0->solo = goc__solo_start(rt->nworkers);
        worker_enter(w0);
        goc__worker_loop(w0);
        worker_leave(w0);
        if (w0->solo)
            goc__solo_stop();
        w0->solo = 0;
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
    goc__running_rt = NULL;
    runtime_free(rt);
    atomic_store(&g_running, 0);
    return err;
}
