/*
 * chaos.c - GOC_CHAOS: scheduling decisions taken at random, to shake out
 * interleavings the tests would otherwise never see.
 *
 * Owns each worker's chaos generator (goc_worker.chaos_rng, touched only
 * by its worker) and the parsing of the seed. runtime.h has the inline
 * halves (goc__chaos_coin, goc__chaos_point) that the scheduler's hot
 * paths test: one predictable branch each while chaos is off.
 *
 * GOC_CHAOS=SEED (any non-zero integer) makes every scheduling decision
 * that may legally go either way go either way at random: which of the
 * next slot and the ring runs next, whether a hand-off goes to the next
 * slot or the ring, where a thief starts among its victims, whether a
 * worker gives up its core at a switch or pauses inside a lock-free
 * window (between reading a ring and claiming from it, between a park's
 * state change and its switch), and whether a hand-off wakes an idle
 * worker after all. Each worker draws from its own generator, seeded
 * from SEED and its index, so one worker replays the same decisions for
 * the same seed. Off, each point costs one predictable branch.
 */
#include <sched.h>
#include <stdlib.h>

#include "chaos.h"

uint64_t goc__chaos_next(goc_worker *w)
{
    uint64_t z = (w->chaos_rng += 0x9E3779B97F4A7C15ull); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Under chaos, sometimes stall here: a short spin, or give up the core. */
void goc__chaos_stall(goc_worker *w)
{
    uint64_t r = goc__chaos_next(w);
    if ((r & 15) == 0)
        sched_yield();
    else if ((r & 15) < 4)
        for (unsigned k = (unsigned)(r >> 8) & 1023; k > 0; k--)
            goc__cpu_relax();
}

/* GOC_CHAOS from the environment: a non-zero integer, or 0 (off). Nothing
 * is printed (tests check that stderr stays quiet); the chaos tests carry
 * their seed in their names. */
uint64_t goc__chaos_seed(void)
{
    const char *s = getenv("GOC_CHAOS");
    if (!s || !*s)
        return 0;
    return strtoull(s, NULL, 0); /* a failing chaos test names its seed */
}
