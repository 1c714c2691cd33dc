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
 * asyncio.run does). The calling thread becomes worker 0. Returns
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

#ifdef __cplusplus
}
#endif
#endif /* GOC_H */
