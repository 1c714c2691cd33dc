/*
 * check.h - invariants as code, and the lock-rank checker.
 *
 * Owns nothing shared: the checker's state is per thread (the locks this
 * thread holds, in order).
 *
 * goc__assert(e): in a GOC_ASSERTS build (cmake -DGOC_ASSERTS=ON; on by
 * default in sanitizer builds; `make test` runs a fourth configuration
 * with it) a false e aborts with the expression, file, line and function.
 * Otherwise it compiles to nothing, and e is not evaluated: an assertion
 * must not have side effects. The checks are cheap (a compare, a load)
 * so that debug builds can keep them.
 *
 * Lock ranks (Go's lockrank.go is the model). Every lock has a rank; a
 * thread may take a lock only if every lock it holds has a lower rank, or
 * the same rank when that rank allows several at once in address order
 * (channels: select locks them sorted). Taking a lock out of order aborts
 * with both names. Locks are released before a coroutine switches away,
 * so at every switch the thread holds none; the switch asserts it. The
 * order, outermost first, is the enum below; each entry says why a lock
 * of the next rank may be taken under it.
 */
#ifndef GOC_CHECK_H
#define GOC_CHECK_H

#include <stdint.h>

typedef enum goc_lock_rank {
    GOC_RANK_NONE = 0,
    GOC_RANK_GEN,       /* a generator (asyncio/gen.c): claims under it, wakes after */
    GOC_RANK_TASKSET,   /* goc_wait_first & co (asyncio/task.c): hang watches under it */
    GOC_RANK_WATCH,     /* a task's watch list: watch fns wake waiters under it */
    GOC_RANK_TIMERS,    /* a worker's timer heap: goc_after sends on a channel under it */
    GOC_RANK_CHAN,      /* channels, several in address order (select) */
    GOC_RANK_SYNC,      /* mutex, semaphore, event, queue (chan/sync.c, queue.c) */
    GOC_RANK_PFD,       /* a pollfd's waiters and ready edges */
    GOC_RANK_NETPOLL,   /* the netpoller's list of pollfds */
    GOC_RANK_GQ,        /* the global run queue: a ready coroutine goes there */
    GOC_RANK_IDLE,      /* the idle stack: waking a worker */
    GOC_RANK_MAX
} goc_lock_rank;

#ifdef GOC_ASSERTS
void goc__assert_fail(const char *expr, const char *file, int line, const char *func);
#define goc__assert(e) ((e) ? (void)0 : goc__assert_fail(#e, __FILE__, __LINE__, __func__))
void goc__rank_acquire(int rank, const void *lock);
void goc__rank_release(int rank, const void *lock);
void goc__rank_none_held(const char *where); /* aborts if this thread holds a lock */
#else
#define goc__assert(e) ((void)0)
static inline void goc__rank_acquire(int rank, const void *lock) { (void)rank; (void)lock; }
static inline void goc__rank_release(int rank, const void *lock) { (void)rank; (void)lock; }
static inline void goc__rank_none_held(const char *where) { (void)where; }
#endif

#endif /* GOC_CHECK_H */
