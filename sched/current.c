/*
 * current.c - who runs here: this thread's worker, the running runtime,
 * and the clock. The bottom of sched/: everything may call it, it calls
 * nothing.
 *
 * Owns: goc__tls_worker (set by runtime.c when a thread becomes a worker,
 * cleared when it stops) and goc__running_rt (set and cleared only by
 * goc_run, runtime.c), and each thread's goc__rand state outside workers.
 *
 * Invariants: a coroutine may resume on another thread, so the worker is
 * read afresh after every switch (park.h says how that is ensured).
 *
 * Locking: none: each is written by its one owner while nobody else can
 * read it, or is per thread.
 */
#include <time.h>

#include "runtime.h"

_Thread_local goc_worker *goc__tls_worker __attribute__((tls_model("initial-exec")));

#if !defined(__x86_64__)
/* A call of its own, so that no compiler caches the thread pointer
 * across a switch (park.h); the asm keeps it from being folded. */
__attribute__((noinline)) goc_worker *goc__worker(void)
{
    goc_worker *w = goc__tls_worker;
    __asm__ volatile("" : "+r"(w) : : "memory");
    return w;
}
#endif

uint32_t goc__rand(void)
{
    static _Thread_local uint32_t outside __attribute__((tls_model("initial-exec"))) = 0x2545F491u;
    goc_worker *w = goc__worker();
    uint32_t *state = w ? &w->rng : &outside;
    uint32_t x = *state; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

goc_runtime *goc__running_rt;

goc_runtime *goc__runtime(void)
{
    return goc__running_rt;
}

int goc_workers(void)
{
    goc_runtime *rt = goc__running_rt;
    return rt ? rt->nworkers : 0;
}

int goc_worker_id(void)
{
    goc_worker *w = goc__worker();
    return w ? w->index : -1;
}

int64_t goc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
