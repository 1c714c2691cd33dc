/*
 * solo.c - the other threads' side of solo mode (solo.h says what it is
 * and why it is safe), and the process's asymmetric barrier.
 *
 * Owns goc__solo (the solo worker's section depth, the count of other
 * threads inside shared state, and whether a solo worker runs), each
 * thread's announcement depth, the kept announcement (linger), and the
 * membarrier mode.
 *
 * Invariants: while goc__solo.on, a thread other than the solo worker
 * writes a channel or a coroutine's wstate only between goc__plain_enter
 * and goc__plain_exit; the solo worker uses plain stores only in a section
 * that began with `inside` == 0. on goes 0 -> 1 before the solo worker
 * starts and 1 -> 0 after it stopped (runtime.c), each with a seq_cst
 * store, so a thread that announced itself before on was set is seen by
 * the worker's first section.
 *
 * Locking: none; atomics as described in solo.h.
 */
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "solo.h"

goc_solo_state goc__solo;

static _Thread_local int plain_depth __attribute__((tls_model("initial-exec")));

/* The kept announcement: a plain thread leaving while a solo worker runs
 * keeps its count in `inside` (linger = 1) instead of dropping it, so that
 * the next plain call (of any thread) takes it over without a membarrier:
 * the worker has been taking the locks since that count was made. The
 * monitor drops it once it is goc__solo_linger_ns old (goc__solo_expire).
 * A stream of plain-thread calls costs one membarrier, not one each (the
 * soak at one worker, 1.5 million plain-thread operations: 26.6 s without
 * this). A count kept across a runtime's stop only keeps the next solo
 * worker on the locks until that runtime's monitor drops it. */
_Atomic int64_t goc__solo_linger_ns = 1000000; /* 0: keep nothing (tests) */
static _Atomic int linger;
static _Atomic int64_t linger_since;

/* ------------------------------------------------------ the barrier */

enum { MB_UNKNOWN = 0, MB_PRIVATE, MB_GLOBAL, MB_NONE };
static _Atomic int mb_mode; /* found once; racing finders find the same */

static int find_mb_mode(void)
{
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
        return MB_PRIVATE;
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
        return MB_GLOBAL;
    return MB_NONE;
}

static int barrier_mode(void)
{
    int mode = atomic_load_explicit(&mb_mode, memory_order_relaxed);
    if (mode == MB_UNKNOWN) {
        mode = find_mb_mode();
        atomic_store_explicit(&mb_mode, mode, memory_order_relaxed);
    }
    return mode;
}

int goc__barrier_everywhere(void)
{
    int mode = barrier_mode();
    if (mode == MB_PRIVATE)
        return syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0 ? 0 : -1;
    if (mode == MB_GLOBAL)
        return syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0 ? 0 : -1;
    return -1;
}

/* ------------------------------------------------- the other threads */

void goc__plain_enter(void)
{
    if (plain_depth++ > 0)
        return;
    int kept = 1;
    if (atomic_load_explicit(&linger, memory_order_relaxed) &&
        atomic_compare_exchange_strong(&linger, &kept, 0))
        return; /* counted already, and the worker out of its section */
    atomic_fetch_add(&goc__solo.inside, 1); /* seq_cst: before reading on */
    if (!atomic_load(&goc__solo.on))
        return;
    /* The worker may be in a section that read inside == 0: make its
     * depth store visible, then wait for the section to end. Sections
     * that begin after the barrier see inside > 0 and take the locks. */
    if (goc__barrier_everywhere() != 0) { /* it worked when the runtime started */
        fprintf(stderr, "goc: membarrier(2) failed while a solo worker runs\n");
        abort();
    }
    unsigned spins = 0;
    while (atomic_load_explicit(&goc__solo.depth, memory_order_acquire) != 0)
        goc__spin_wait(&spins);
}

void goc__plain_exit(void)
{
    if (--plain_depth > 0)
        return;
    if (atomic_load_explicit(&goc__solo.on, memory_order_relaxed) &&
        atomic_load_explicit(&goc__solo_linger_ns, memory_order_relaxed) > 0) {
        int none = 0;
        atomic_store_explicit(&linger_since, goc_now(), memory_order_relaxed);
        if (atomic_compare_exchange_strong(&linger, &none, 1))
            return; /* kept (above) */
    }
    /* release: the solo worker's next section, which reads inside == 0
     * with acquire, sees what we wrote */
    atomic_fetch_sub_explicit(&goc__solo.inside, 1, memory_order_release);
}

/* Drop the kept announcement (acquire, then a release of `inside`: what
 * its thread wrote is seen by the worker's next solo section). */
static void drop_kept(void)
{
    int kept = 1;
    if (atomic_compare_exchange_strong(&linger, &kept, 0))
        atomic_fetch_sub_explicit(&goc__solo.inside, 1, memory_order_release);
}

void goc__solo_expire(int64_t now)
{
    if (atomic_load_explicit(&linger, memory_order_relaxed) &&
        now - atomic_load_explicit(&linger_since, memory_order_relaxed) >=
            atomic_load_explicit(&goc__solo_linger_ns, memory_order_relaxed))
        drop_kept();
}

int goc__plain_inside(void)
{
    return plain_depth > 0;
}

/* ------------------------------------------------- start and stop */

int goc__solo_start(int nworkers)
{
    /* Only the expedited barrier (an IPI to this process's CPUs, a few
     * microseconds): the global one waits for a grace period. */
    if (nworkers != 1 || barrier_mode() != MB_PRIVATE)
        return 0;
    atomic_store(&goc__solo.depth, 0);
    atomic_store(&goc__solo.on, 1);
    return 1;
}

void goc__solo_stop(void)
{
    atomic_store(&goc__solo.on, 0);
    drop_kept();
}
