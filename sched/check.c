/*
 * check.c - what GOC_ASSERTS builds check at run time (check.h): failed
 * assertions and the lock-rank order.
 *
 * Owns: each thread's list of held locks (thread-local, so no locking).
 * Invariant: the list holds the locks this thread took and has not yet
 * released, oldest first; a coroutine switch happens with it empty.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

#ifdef GOC_ASSERTS

#define HELD_MAX 16

static const char *const rank_names[GOC_RANK_MAX] = {
    [GOC_RANK_NONE] = "none",       [GOC_RANK_GEN] = "generator",
    [GOC_RANK_TASKSET] = "task set", [GOC_RANK_WATCH] = "task watch list",
    [GOC_RANK_TIMERS] = "timer heap", [GOC_RANK_CHAN] = "channel",
    [GOC_RANK_SYNC] = "mutex/semaphore/event/queue", [GOC_RANK_PFD] = "pollfd",
    [GOC_RANK_NETPOLL] = "netpoller list", [GOC_RANK_GQ] = "global run queue",
    [GOC_RANK_IDLE] = "idle stack",
};

/* One entry per lock held, except channels: a select may hold any number,
 * so they share one entry (the highest address taken, and how many). */
typedef struct held_lock {
    int rank;
    const void *lock;
    int n;
} held_lock;

static _Thread_local held_lock held[HELD_MAX];
static _Thread_local int nheld;

void goc__assert_fail(const char *expr, const char *file, int line, const char *func)
{
    fprintf(stderr, "goc: internal check failed: %s (%s:%d, in %s)\n", expr, file, line, func);
    abort();
}

static const char *rank_name(int rank)
{
    return rank > 0 && rank < GOC_RANK_MAX ? rank_names[rank] : "unranked";
}

/* Several locks of one rank may be held at once only for channels, taken
 * in increasing address order. */
static int may_follow(const held_lock *h, int rank, const void *lock)
{
    if (h->rank < rank)
        return 1;
    return h->rank == rank && rank == GOC_RANK_CHAN && (uintptr_t)h->lock < (uintptr_t)lock;
}

void goc__rank_acquire(int rank, const void *lock)
{
    for (int i = 0; i < nheld; i++) {
        if (!may_follow(&held[i], rank, lock)) {
            fprintf(stderr,
                    "goc: lock order violation: taking a %s lock (rank %d, %p) while holding a "
                    "%s lock (rank %d, %p)\n",
                    rank_name(rank), rank, lock, rank_name(held[i].rank), held[i].rank,
                    held[i].lock);
            abort();
        }
    }
    if (rank == GOC_RANK_CHAN && nheld > 0 && held[nheld - 1].rank == GOC_RANK_CHAN) {
        held[nheld - 1].lock = lock; /* may_follow checked it is higher */
        held[nheld - 1].n++;
        return;
    }
    if (nheld == HELD_MAX) {
        fprintf(stderr, "goc: internal check failed: more than %d locks held\n", HELD_MAX);
        abort();
    }
    held[nheld++] = (held_lock){ rank, lock, 1 };
}

void goc__rank_release(int rank, const void *lock)
{
    for (int i = nheld - 1; i >= 0; i--) {
        if (rank == GOC_RANK_CHAN && held[i].rank == rank && --held[i].n > 0)
            return;
        if ((held[i].lock == lock || rank == GOC_RANK_CHAN) && held[i].rank == rank) {
            for (int j = i; j < nheld - 1; j++)
                held[j] = held[j + 1];
            nheld--;
            return;
        }
    }
    fprintf(stderr, "goc: internal check failed: releasing a %s lock (%p) this thread does not hold\n",
            rank_name(rank), lock);
    abort();
}

void goc__rank_none_held(const char *where)
{
    if (nheld == 0)
        return;
    fprintf(stderr, "goc: internal check failed: %s with a %s lock (%p) held\n", where,
            rank_name(held[nheld - 1].rank), held[nheld - 1].lock);
    abort();
}

#endif /* GOC_ASSERTS */
