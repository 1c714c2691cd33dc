/*
 * chaos.h - the inline halves of GOC_CHAOS (chaos.c has the rest).
 *
 * Each point costs one predictable branch while chaos is off (rt->chaos
 * is 0); on, it draws from the calling worker's own generator.
 */
#ifndef GOC_CHAOS_H
#define GOC_CHAOS_H

#include "runtime.h"

uint64_t goc__chaos_next(goc_worker *w);  /* this worker's next draw */
void goc__chaos_stall(goc_worker *w);     /* a short spin, or give up the core */
uint64_t goc__chaos_seed(void);           /* GOC_CHAOS, or 0 */

/* 1 with probability 1/2^bits, under chaos only. */
static inline int goc__chaos_coin(goc_worker *w, int bits)
{
    if (__builtin_expect(!w->rt->chaos, 1))
        return 0;
    return (goc__chaos_next(w) & ((1u << bits) - 1)) == 0;
}


/* Under chaos, sometimes stall here (w may be NULL: not a worker). */
static inline void goc__chaos_point(goc_worker *w)
{
    if (__builtin_expect(w && w->rt->chaos, 0))
        goc__chaos_stall(w);
}

#endif /* GOC_CHAOS_H */
