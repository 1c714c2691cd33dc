/*
 * goc.h - Go-style concurrency for C: the public API.
 *
 * Stackful coroutines on an M:N work-stealing scheduler (one worker thread
 * per core, pinned with hwloc), CSP channels with select, and a netpoller
 * built on libuv. With one worker it is the Python asyncio model (one
 * thread, one event loop); with one worker per core it is the Go model.
 * The same program runs both ways: set goc_config.workers or GOC_WORKERS.
 *
 * Conventions (as in libuv):
 *   - every public name starts with goc_ / GOC_; all handles are opaque;
 *   - functions that can fail return int: 0 (or a non-negative result) on
 *     success, a negative error code (a negated errno value) otherwise;
 *   - bad input returns GOC_EINVAL; it never crashes or hangs the runtime.
 *
 * Scheduling is cooperative: a coroutine keeps its worker until it makes a
 * blocking call (channel op, sleep, join, wait, I/O) or calls goc_yield(),
 * as in asyncio and in Go before 1.14. A coroutine that computes for long
 * without yielding delays everything else queued on its worker; run with
 * GOC_DEBUG=1 and the runtime names any coroutine that holds a worker for
 * more than 100 ms.
 */
#ifndef GOC_H
#define GOC_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  define GOC_API
#elif defined(__GNUC__)
#  define GOC_API __attribute__((visibility("default")))
#else
#  define GOC_API
#endif

#define GOC_VERSION_MAJOR 0
#define GOC_VERSION_MINOR 1
#define GOC_VERSION_PATCH 0

/* ---------------------------------------------------------------- errors */

#define GOC_EAGAIN    (-EAGAIN)    /* a non-blocking call would block */
#define GOC_ETIMEDOUT (-ETIMEDOUT) /* the timeout passed */
#define GOC_ECANCELED (-ECANCELED) /* the calling coroutine was cancelled */
#define GOC_ECLOSED   (-EPIPE)     /* the channel is closed */
#define GOC_ENOMEM    (-ENOMEM)    /* out of memory */
#define GOC_EINVAL    (-EINVAL)    /* a bad argument (NULL handle, size 0, ...) */
#define GOC_EPERM     (-EPERM)     /* called outside a coroutine where one is required */
#define GOC_EBUSY     (-EBUSY)     /* a handle freed while coroutines still wait on it,
                                      or goc_run called while a runtime is running */
#define GOC_EDEADLK   (-EDEADLK)   /* goc_run: every coroutine was asleep on channels or
                                      sync primitives with nothing left to wake them */

/* A short English name for an error code ("operation timed out", ...).
 * Never NULL; unknown codes give "unknown error". */
GOC_API const char *goc_strerror(int err);

/* --------------------------------------------------------------- runtime */

typedef struct goc_config {
    int    workers;    /* 0: one per physical core as hwloc sees it (env
                          GOC_WORKERS overrides); 1: one thread, asyncio-style */
    int    pin;        /* 1: pin each worker to its own core with hwloc */
    size_t stack_size; /* usable stack per coroutine; 0: the default (64 KiB).
                          Memory is committed only as it is touched: an idle
                          coroutine costs about one page. Sizes of a page or
                          more get a guard page while the process has
                          mappings to spare; every stack has a canary checked
                          at each switch. Overflow aborts with a message
                          naming the coroutine and the size. Minimum 1024.
                          Below a page, stacks are packed (2 KiB: ~2.2 KB per
                          idle coroutine) and code must stay shallow: no
                          stdio, no deep recursion. The main coroutine always
                          gets at least the default size. */
} goc_config;

/* Default stack size and the smallest accepted one. */
#define GOC_STACK_DEFAULT ((size_t)64 * 1024)
#define GOC_STACK_MIN     ((size_t)1024)

/* Start the runtime (cfg may be NULL: defaults, pin = 1), run main_fn(arg)
 * as the first coroutine, and return 0 once it has returned, after
 * cancelling the coroutines still alive and waiting for them to end (as
 * asyncio.run does). If every coroutine is ever parked on channels or sync
 * primitives with no timer to wake any, it prints "goc: all coroutines are
 * asleep - deadlock!" and what each waits on, cancels them all, and returns
 * GOC_EDEADLK once they have ended (Go can only crash there). Only
 * coroutines and timers count as possible wakers: a plain thread that might
 * still goc_chan_trysend does not keep a program out of that state. The calling thread becomes worker 0. Returns
 * GOC_EINVAL for a bad config or a NULL main_fn, GOC_EBUSY when called from
 * inside a coroutine or while another goc_run is running, GOC_ENOMEM when
 * threads or loops cannot be created. May be called again after it returns.
 * Go: func main(). asyncio: asyncio.run(main()). */
GOC_API int goc_run(const goc_config *cfg, void (*main_fn)(void *), void *arg);

GOC_API int     goc_workers(void);   /* workers of the running runtime; 0 if none */
GOC_API int     goc_worker_id(void); /* 0..workers-1 for the caller's current worker;
                                        -1 outside the runtime's workers */
GOC_API int64_t goc_now(void);       /* monotonic clock, ns */

/* ------------------------------------------------------------ coroutines */

typedef struct goc_task goc_task;

/* Like Go's `go fn(arg)`: start a coroutine, fire and forget. Returns 0,
 * GOC_EINVAL (fn NULL), GOC_EPERM (no runtime running on this thread),
 * GOC_ENOMEM. */
GOC_API int goc_go(void (*fn)(void *), void *arg);

/* Like asyncio.create_task: start fn(arg) and return a handle to wait on
 * with goc_join. NULL on bad input, outside a coroutine, or out of memory.
 * Every handle must be joined exactly once (goc_join frees it). */
GOC_API goc_task *goc_spawn(void *(*fn)(void *), void *arg);

/* Wait for t to end and store its return value in *result (result may be
 * NULL). Always consumes the handle, even when it fails. Returns 0,
 * GOC_ECANCELED if t was cancelled or the caller is cancelled (t then runs
 * on, detached), GOC_EINVAL for a NULL handle, GOC_EPERM outside a
 * coroutine. asyncio: await task. */
GOC_API int goc_join(goc_task *t, void **result);

/* Ask t to stop: its current or next blocking call returns GOC_ECANCELED.
 * Idempotent; t must not have been joined yet. Returns 0 or GOC_EINVAL.
 * asyncio: task.cancel(); Go: cancelling a context. */
GOC_API int goc_cancel(goc_task *t);

/* 1 if the calling coroutine was cancelled, else 0. */
GOC_API int goc_cancelled(void);

/* Let the other runnable coroutines run; the caller goes to the back of
 * its worker's queue. A no-op outside a coroutine. Go: runtime.Gosched();
 * asyncio: await asyncio.sleep(0). */
GOC_API void goc_yield(void);

/* Park the caller for ns nanoseconds (<= 0: just yield). Returns 0,
 * GOC_ECANCELED, or GOC_EPERM outside a coroutine. Never wakes early.
 * Go: time.Sleep; asyncio: await asyncio.sleep. */
GOC_API int goc_sleep(int64_t ns);

/* -------------------------------------------------------------- channels */

typedef struct goc_chan goc_chan;

/* A channel of elements of elem_size bytes (copied in and out).
 * capacity 0: unbuffered (a send completes only when a receiver has taken
 * the value); elem_size 0: a signal channel, like Go's chan struct{}.
 * NULL on ENOMEM (or a size that overflows). Go: make(chan T, n);
 * asyncio: asyncio.Queue(maxsize=n). */
GOC_API goc_chan *goc_chan_make(size_t elem_size, size_t capacity);

/* Blocking send and receive, FIFO per channel. send returns 0, GOC_ECLOSED
 * (closed: where Go would panic), GOC_ECANCELED, GOC_EINVAL (NULL channel,
 * NULL elem with elem_size > 0), GOC_EPERM (would block outside a
 * coroutine). recv returns 0, or GOC_ECLOSED once the channel is closed and
 * drained (the element is then zeroed, as Go gives the zero value); a NULL
 * elem discards the value. Both are cancellation points:
 * a value is never lost or delivered twice when a cancel races it. */
GOC_API int goc_chan_send(goc_chan *ch, const void *elem);
GOC_API int goc_chan_recv(goc_chan *ch, void *elem);

/* Non-blocking: GOC_EAGAIN instead of blocking (Go's select with default).
 * They work outside coroutines too. */
GOC_API int goc_chan_trysend(goc_chan *ch, const void *elem);
GOC_API int goc_chan_tryrecv(goc_chan *ch, void *elem);

/* Close: wakes every waiter (receivers get GOC_ECLOSED once the buffer is
 * drained, senders GOC_ECLOSED). GOC_ECLOSED if already closed. */
GOC_API int goc_chan_close(goc_chan *ch);

GOC_API size_t goc_chan_len(goc_chan *ch); /* buffered elements now; 0 for NULL */
GOC_API size_t goc_chan_cap(goc_chan *ch); /* capacity; 0 for NULL */

/* Free a channel: GOC_EBUSY while coroutines wait on it (nothing is freed).
 * Freeing right after the last operation returned is safe, even if the
 * other side of that operation has not yet returned from its call. A
 * select woken on another channel takes itself off this one's queue as it
 * returns; until then a free may still see it and return GOC_EBUSY. */
GOC_API int goc_chan_free(goc_chan *ch);

/* ---------------------------------------------------------------- select */

enum { GOC_SEND = 1, GOC_RECV = 2 };

typedef struct goc_case {
    goc_chan *ch;  /* NULL: this case is never ready (Go's nil channel) */
    int op;        /* GOC_SEND or GOC_RECV */
    void *elem;    /* value to send, or where to store the received value (may be NULL) */
    int status;    /* out: 0, or GOC_ECLOSED for the chosen case */
} goc_case;

/* Block until one case can proceed, perform exactly that one, and return
 * its index. Several ready: one chosen uniformly at random. timeout_ns < 0
 * waits forever, 0 never blocks (returns GOC_EAGAIN: Go's default), > 0
 * returns GOC_ETIMEDOUT after that long (never early). A case on a closed
 * channel is ready, with status GOC_ECLOSED. GOC_EINVAL (nothing performed)
 * for NULL cases with n > 0, a bad op, a NULL send elem on a channel with
 * elem_size > 0; GOC_ECANCELED; GOC_EPERM if it would block outside a
 * coroutine. n = 0 waits out the timeout (Go's select {}). */
GOC_API int goc_select(goc_case *cases, size_t n, int64_t timeout_ns);

/* ------------------------------------------------------------------ time */

/* Like Go's time.After: a channel (capacity 1, elem int64_t) that receives
 * goc_now() at firing, once, ns from now (<= 0: at once). Free it with
 * goc_chan_free, after it fired or instead of waiting (that stops the
 * timer). NULL outside a coroutine or on ENOMEM. INT64_MAX means never. */
GOC_API goc_chan *goc_after(int64_t ns);

/* ------------------------------------------------------------------ sync */

typedef struct goc_wg goc_wg;

/* A WaitGroup, as in Go's sync.WaitGroup. goc_wg_new returns NULL on
 * ENOMEM. goc_wg_add with a negative delta counts down; driving the counter
 * below zero is a bug that aborts with a message (Go panics). NULL handles
 * are ignored by the void functions. goc_wg_wait returns 0 once the counter
 * is zero, GOC_ECANCELED, GOC_EINVAL (NULL) or GOC_EPERM (outside a
 * coroutine). goc_wg_free must not race with waiters. */
GOC_API goc_wg *goc_wg_new(void);
GOC_API void    goc_wg_add(goc_wg *wg, int delta);
GOC_API void    goc_wg_done(goc_wg *wg);
GOC_API int     goc_wg_wait(goc_wg *wg);
GOC_API void    goc_wg_free(goc_wg *wg);

/* A coroutine mutex (Go's sync.Mutex, asyncio.Lock): a contended lock parks
 * the coroutine, never the thread; unlock hands the lock to the longest
 * waiter (FIFO), so no waiter starves. Any coroutine may unlock.
 * lock: 0, GOC_ECANCELED, GOC_EINVAL, GOC_EPERM (outside a coroutine);
 * trylock: 0 or GOC_EAGAIN; unlock: 0, or GOC_EPERM if not locked;
 * free: GOC_EBUSY while locked or waited on. */
typedef struct goc_mutex goc_mutex;
GOC_API goc_mutex *goc_mutex_new(void);
GOC_API int        goc_mutex_lock(goc_mutex *m);
GOC_API int        goc_mutex_trylock(goc_mutex *m);
GOC_API int        goc_mutex_unlock(goc_mutex *m);
GOC_API int        goc_mutex_free(goc_mutex *m);

/* A counting semaphore (asyncio.Semaphore; Go: a buffered channel or
 * x/sync/semaphore). goc_sem_new(n): n permits, NULL if n < 0 or ENOMEM.
 * acquire takes one, parking while none is left (FIFO): 0, GOC_ECANCELED,
 * GOC_EINVAL, GOC_EPERM; tryacquire: 0 or GOC_EAGAIN; release returns one
 * (0, or GOC_EINVAL for NULL or a count already at INT64_MAX); value:
 * permits available now; free: GOC_EBUSY while coroutines wait. */
typedef struct goc_sem goc_sem;
GOC_API goc_sem *goc_sem_new(int64_t permits);
GOC_API int      goc_sem_acquire(goc_sem *s);
GOC_API int      goc_sem_tryacquire(goc_sem *s);
GOC_API int      goc_sem_release(goc_sem *s);
GOC_API int64_t  goc_sem_value(goc_sem *s);
GOC_API int      goc_sem_free(goc_sem *s);

#ifdef __cplusplus
}
#endif
#endif /* GOC_H */
