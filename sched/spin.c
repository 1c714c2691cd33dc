/*
 * spin.c - the slow halves of spin.h: backing off while another thread
 * holds a spinlock or is still switching a coroutine out.
 *
 * Owns nothing. goc__spin_wait never touches shared memory itself; it
 * only decides how long to wait before the caller re-reads.
 */
#include <sched.h>

#include "spin.h"

void goc__spin_wait(unsigned *spins)
{
    unsigned n = (*spins)++;
    if (n >= 40) {
        sched_yield();
        return;
    }
    for (unsigned k = 1u << (n < 8 ? n : 8); k > 0; k--)
        goc__cpu_relax();
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

