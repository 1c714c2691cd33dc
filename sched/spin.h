/*
 * spin.h - the small locks every layer uses (never installed).
 *
 * Owns nothing: a goc_spin lives inside the object it guards. Nothing
 * slow may happen under one (no park, no syscall, no malloc of unknown
 * size); in a GOC_ASSERTS build each carries its rank and the checker
 * (check.h) aborts on an out-of-order acquire.
 */
#ifndef GOC_SPIN_H
#define GOC_SPIN_H

#include <stdatomic.h>

#include "check.h"

#define GOC_CACHELINE 64

/* A hint to the CPU that this thread is spinning (PAUSE, YIELD). */
static inline void goc__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/* One step of waiting for another thread (a lock holder, a coroutine
 * still switching out): exponential backoff, 1, 2, 4 ... 256 PAUSEs
 * between re-reads, and give up the CPU only once the wait is long (the
 * other thread was preempted). Backing off matters more than reacting
 * fast: a waiter that re-reads a contended line steals it from the holder,
 * which then takes a miss on every write of its critical section (mpmc on
 * 2 workers: 4.6 M msgs/s with tight re-reads, 27-29 M with backoff).
 * *spins counts the steps, starting at 0. */
void goc__spin_wait(unsigned *spins);

/* A test-and-test-and-set spinlock for short critical sections. In a
 * GOC_ASSERTS build it carries its rank (check.h), set by goc__spin_init
 * where its object is made; zeroed memory is an unlocked spinlock. */
typedef struct {
    _Atomic int v;
#ifdef GOC_ASSERTS
    int rank;
#endif
} goc_spin;
static inline void goc__spin_init(goc_spin *l, int rank)
{
    atomic_store_explicit(&l->v, 0, memory_order_relaxed);
#ifdef GOC_ASSERTS
    l->rank = rank;
#else
    (void)rank;
#endif
}
static inline int goc__spin_rank(const goc_spin *l)
{
#ifdef GOC_ASSERTS
    return l->rank;
#else
    (void)l;
    return 0;
#endif
}
void goc__spin_lock_slow(goc_spin *l);
static inline void goc__spin_lock(goc_spin *l)
{
    goc__rank_acquire(goc__spin_rank(l), l);
    if (!atomic_exchange_explicit(&l->v, 1, memory_order_acquire))
        return;
    goc__spin_lock_slow(l);
}
static inline void goc__spin_unlock(goc_spin *l)
{
    goc__assert(atomic_load_explicit(&l->v, memory_order_relaxed) == 1);
    goc__rank_release(goc__spin_rank(l), l);
    atomic_store_explicit(&l->v, 0, memory_order_release);
}

#endif /* GOC_SPIN_H */
