/*
 * solo.h - one worker without locked instructions (never installed).
 *
 * With one worker (the asyncio model) every coroutine runs on one thread,
 * so a channel operation between two coroutines needs no lock and no CAS:
 * nothing else runs at that moment. What else can touch a channel or a
 * coroutine's park state is another thread: a plain thread calling
 * goc_chan_trysend, goc_chan_close or goc_cancel, the monitor, a libuv
 * pool thread. solo.c keeps the two apart.
 *
 * What the solo worker writes with plain stores: a channel (its lock
 * word, buffer and wait queues), the wstate of the coroutine it parks on
 * a channel, and the wstate of the channel waiters it claims. Channel
 * code brackets each locked stretch with goc__shared_begin() and
 * goc__shared_end(), which answer one of three modes:
 *   GOC_SHARED_SOLO    the solo worker, no other thread inside: plain
 *                      loads and stores (chan_lock without a CAS,
 *                      goc__claim_solo, goc__park_begin_in);
 *   GOC_SHARED_LOCKED  a worker of a runtime with several, or the solo
 *                      worker while another thread is inside: the locks
 *                      and CASes, as always;
 *   GOC_SHARED_PLAIN   any other thread: announced first (solo.c), then
 *                      the locks and CASes.
 *
 * Why the two never overlap (an asymmetric Dekker, as liburcu's membarrier
 * flavour and the dump's pinning use): the solo worker stores depth = 1,
 * then loads `inside` with no fence between; another thread adds itself to
 * `inside`, issues membarrier(2) (every running thread of the process
 * executes a full barrier), then waits until depth is 0. Whichever side's
 * store the barrier finds first is seen by the other: either the worker's
 * load finds `inside` > 0 (it takes the LOCKED path, whose locks order it
 * with the other thread) or the other thread finds depth > 0 and waits
 * for the section to end (release store of depth, acquire load). A
 * section is short runtime code (a channel operation up to its unlock;
 * never a park, never user code), so the wait is short, and a coroutine
 * stuck in a blocking call holds no section: a plain thread it waits for
 * never waits on it.
 *
 * Besides channel code, only goc_cancel can write that wstate (the
 * running coroutine's, or a channel waiter's): off the worker it
 * announces itself too (wake.c). Other wakers (a semaphore's release, the
 * monitor's netpoll harvest, a timer on the worker) claim coroutines
 * parked on other objects, never written in a section, and keep their
 * CAS; a checked build asserts that no unannounced thread claims a
 * coroutine parked on a channel. tests/model/solo.pml checks the gate
 * over an x86-TSO store buffer, with a mutant for each of its three
 * steps.
 *
 * The cost is on the rare side: a plain thread's entry is an atomic add,
 * a membarrier (microseconds) while a solo worker runs, and a spin; the
 * worker's is a thread-local load, two plain stores and a load. A plain
 * thread leaving keeps its count for the next plain call to take over
 * (no membarrier then: the worker has taken the locks since the count was
 * made); the monitor drops it at its first sample (every 20 ms) once it
 * is a millisecond old, and the worker goes back to plain stores.
 * Without membarrier (old kernel, seccomp) there is no solo mode.
 */
#ifndef GOC_SOLO_H
#define GOC_SOLO_H

#include <stdatomic.h>

#include "co.h"
#include "spin.h"

enum { GOC_SHARED_LOCKED = 0, GOC_SHARED_SOLO = 1, GOC_SHARED_PLAIN = 2 };

typedef struct goc_solo_state {
    /* Sections the solo worker has open: written by it alone. */
    _Alignas(GOC_CACHELINE) _Atomic int depth;
    /* Other threads inside shared state (announced, not yet left). */
    _Alignas(GOC_CACHELINE) _Atomic int inside;
    _Atomic int on;                 /* a solo worker runs (solo.c) */
} goc_solo_state;

/* Process-wide, owned by solo.c: a plain thread does not know which
 * runtime (if any) a channel it touches belongs to. One runtime runs at a
 * time. */
extern goc_solo_state goc__solo;

/* The part of a worker every layer may read (runtime.h asserts the
 * layout): what it runs, and whether it is the solo worker. */
typedef struct goc_worker_head {
    goc_co *cur;
    int solo;
} goc_worker_head;

/* Announce / end a write of shared state from a thread that is not a
 * worker. Nests (per thread). */
void goc__plain_enter(void);
void goc__plain_exit(void);
int  goc__plain_inside(void);       /* this thread has announced itself */

/* Runtime start and stop (runtime.c): solo mode for a runtime with one
 * worker, if membarrier works. 1 if on. */
int  goc__solo_start(int nworkers);
void goc__solo_stop(void);
/* The monitor, each sample: drop an announcement a plain thread kept for
 * the next one (solo.c) once it is old. */
void goc__solo_expire(int64_t now);
/* How long a kept announcement lasts; 0 keeps none, so that every plain
 * call announces itself afresh (white-box tests of the gate). */
extern _Atomic int64_t goc__solo_linger_ns;

/* A full barrier on every running thread of the process (membarrier);
 * 0, or -1 where there is none. Also the dump's (dump.c). */
int  goc__barrier_everywhere(void);

/* w: this thread's worker or NULL (park.h's goc__worker). */
static inline int goc__shared_begin_on(const void *w)
{
    if (!w) {
        goc__plain_enter();
        return GOC_SHARED_PLAIN;
    }
    if (!((const goc_worker_head *)w)->solo)
        return GOC_SHARED_LOCKED;
    int d = atomic_load_explicit(&goc__solo.depth, memory_order_relaxed);
    atomic_store_explicit(&goc__solo.depth, d + 1, memory_order_relaxed);
    /* No fence: an entering thread's membarrier orders this store before
     * the load below (see the top). Only the compiler must not swap them. */
    atomic_signal_fence(memory_order_seq_cst);
    if (d == 0 && atomic_load_explicit(&goc__solo.inside, memory_order_acquire) != 0) {
        atomic_store_explicit(&goc__solo.depth, 0, memory_order_release);
        return GOC_SHARED_LOCKED;
    }
    return GOC_SHARED_SOLO;
}

static inline void goc__shared_end(int mode)
{
    if (mode == GOC_SHARED_SOLO) {
        int d = atomic_load_explicit(&goc__solo.depth, memory_order_relaxed);
        /* release: what the section wrote is seen by a thread that waited
         * for depth 0 */
        atomic_store_explicit(&goc__solo.depth, d - 1, memory_order_release);
    } else if (mode == GOC_SHARED_PLAIN) {
        goc__plain_exit();
    }
}

#endif
