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
#include <sys/types.h>

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
#define GOC_ENOTFOUND (-ENXIO)     /* name resolution found no address for the host */
/* Network and file calls also return the plain negated errno of the system
 * call that failed: -ECONNREFUSED, -ECONNRESET, -EADDRINUSE, -EMFILE,
 * -ENOENT, ... (GOC_ECLOSED is -EPIPE: a write to a peer that closed). */

/* A short English name for an error code ("operation timed out", ...).
 * Never NULL; unknown codes give "unknown error". */
GOC_API const char *goc_strerror(int err);

/* --------------------------------------------------------------- runtime */

typedef struct goc_config {
    int    workers;    /* 0: one per physical core as hwloc sees it (env
                          GOC_WORKERS overrides); 1: one thread, asyncio-style */
    int    pin;        /* 1: pin worker i to core i with hwloc (all its
                          hyperthreads), when workers <= cores; with more
                          workers than cores none is pinned (the OS balances
                          them, as it does Go's threads) */
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
 * Every handle must be consumed exactly once: by goc_join, goc_gather or
 * goc_wait_for (which free it). */
GOC_API goc_task *goc_spawn(void *(*fn)(void *), void *arg);

/* Names, shown by the deadlock report, goc_dump and the execution trace.
 * A name keeps at most GOC_NAME_MAX - 1 bytes (longer ones are cut); a
 * coroutine without one is called "co-ID".
 *
 * goc_spawn_named / goc_go_named: goc_spawn / goc_go that name the new
 * coroutine (name NULL: none). asyncio: create_task(coro, name=...).
 * goc_set_name: name the calling coroutine; 0, GOC_EINVAL (NULL name) or
 * GOC_EPERM outside a coroutine. asyncio: Task.set_name; Go has no names
 * (pprof labels are the nearest).
 * goc_name / goc_task_name: write the caller's / t's name into buf (cut to
 * size - 1 bytes, NUL-terminated) and return its full length, as
 * snprintf does; GOC_EINVAL for a NULL t, or a NULL buf with size > 0;
 * goc_name returns GOC_EPERM outside a coroutine. t must not have been
 * consumed. asyncio: Task.get_name. */
#define GOC_NAME_MAX 32
GOC_API goc_task *goc_spawn_named(const char *name, void *(*fn)(void *), void *arg);
GOC_API int       goc_go_named(const char *name, void (*fn)(void *), void *arg);
GOC_API int       goc_set_name(const char *name);
GOC_API int       goc_name(char *buf, size_t size);
GOC_API int       goc_task_name(goc_task *t, char *buf, size_t size);

/* Wait for t to end and store its return value in *result (result may be
 * NULL). Always consumes the handle, even when it fails. Returns 0, the
 * error t failed with (goc_fail), GOC_ECANCELED if t was cancelled or the
 * caller is cancelled (t then runs on, detached), GOC_EINVAL for a NULL handle, GOC_EPERM outside a
 * coroutine. asyncio: await task. */
GOC_API int goc_join(goc_task *t, void **result);

/* Ask t to stop: its current or next blocking call returns GOC_ECANCELED.
 * Idempotent; t must not have been joined yet. Returns 0 or GOC_EINVAL.
 * asyncio: task.cancel(); Go: cancelling a context. */
GOC_API int goc_cancel(goc_task *t);

/* 1 if the calling coroutine was cancelled, else 0. */
GOC_API int goc_cancelled(void);

/* Fail the calling task with err (a negative error code) and return NULL,
 * so a task function can end with `return goc_fail(GOC_ETIMEDOUT);`, as
 * Python raises, JS throws (a rejected promise) and Go returns an error.
 * goc_join, goc_gather, goc_wait_for and task groups then report err for
 * it. err >= 0 is ignored (the task succeeds). Outside a coroutine it just
 * returns NULL. */
GOC_API void *goc_fail(int err);

/* 1 once t has returned (its goc_join will not block), 0 while it runs or
 * for NULL. asyncio: task.done(). */
GOC_API int goc_done(goc_task *t);

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
 * They work outside coroutines too. With one worker, coroutines' channel
 * operations take no lock; a call from a thread that is not the worker
 * (these, goc_chan_close, goc_chan_len, a non-blocking goc_select,
 * goc_cancel) announces itself first, so that the worker takes the locks
 * while it is inside: that costs the caller a membarrier(2), microseconds
 * instead of nanoseconds, unless another such call ended within the last
 * few milliseconds. */
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
 * its index. Several ready: one chosen uniformly at random; parked with
 * several cases a later partner could complete (two sends on one channel,
 * say), the one it completes is random too. timeout_ns < 0
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

/* ============================================================== tasks, asyncio style
 *
 * Timeouts here and below follow one rule: timeout_ns < 0 waits forever,
 * 0 does not wait (GOC_EAGAIN where the call would block), > 0 returns
 * GOC_ETIMEDOUT after that long, never early. Every blocking call is a
 * cancellation point (GOC_ECANCELED). */

/* Wait for all n tasks and consume their handles; results[i] gets task i's
 * result (results may be NULL), errs[i] its outcome: 0, the error it
 * failed with (goc_fail), or GOC_ECANCELED (errs may be NULL).
 * flags 0 (fail fast, asyncio.gather, Promise.all): return the first
 * failure as soon as it happens; the tasks still running go on, detached
 * (their errs[i] is GOC_EAGAIN: not known). flags GOC_GATHER_SETTLED
 * (asyncio return_exceptions=True, Promise.allSettled): wait for every task
 * and return 0; the outcomes are in errs. n = 0 returns 0. Returns
 * GOC_EINVAL (NULL tasks with n > 0, a NULL handle, a handle given twice,
 * the caller's own, unknown flags: nothing consumed), GOC_ENOMEM (nothing
 * consumed), GOC_ECANCELED if the caller is cancelled (the tasks that have
 * not returned go on, detached), GOC_EPERM outside a coroutine (consumed,
 * as goc_join). Go: a WaitGroup plus a slice of results. */
#define GOC_GATHER_SETTLED 1
GOC_API int goc_gather(goc_task **tasks, size_t n, void **results, int *errs, int flags);

/* Wait until one of the n tasks has returned and give its index; nothing
 * is consumed (join the winner, cancel or join the rest). Of tasks that had
 * already returned, the lowest index. asyncio.wait(...,
 * return_when=FIRST_COMPLETED), Promise.race; Go: select over done
 * channels. GOC_ETIMEDOUT, GOC_EAGAIN (timeout 0, none returned yet),
 * GOC_ECANCELED, GOC_EINVAL (NULL tasks, n = 0, a NULL handle, the
 * caller's own), GOC_ENOMEM, GOC_EPERM (would wait outside a coroutine). */
GOC_API int goc_wait_first(goc_task **tasks, size_t n, int64_t timeout_ns);

/* Like goc_wait_first, but the first task to succeed (not failed, not
 * cancelled): Promise.any (asyncio: as_completed until one succeeds; Go:
 * select over result channels, skipping errors). When every task has failed, returns the error
 * of the first that failed (in the order this call saw them end; those
 * already ended when it was called come first, by index). Nothing is
 * consumed. */
GOC_API int goc_wait_first_ok(goc_task **tasks, size_t n, int64_t timeout_ns);

/* Join t with a timeout (asyncio.wait_for): 0 and *result as goc_join; on
 * timeout t is cancelled, waited for, and GOC_ETIMEDOUT returned (timeout
 * 0: at once, unless t has already returned). Always consumes t. If the
 * caller is cancelled, t is cancelled too, waited for, and GOC_ECANCELED
 * returned. That wait for a cancelled t is not cut short by a cancel of
 * the caller: when goc_wait_for returns, t has returned (its cleanup ran).
 * *result gets t's return value whenever t returned. GOC_EINVAL (NULL),
 * GOC_EPERM outside a coroutine (consumed). Go: a context.WithTimeout
 * around the call; JS: Promise.race with a timer, then an AbortController. */
GOC_API int goc_wait_for(goc_task *t, int64_t timeout_ns, void **result);

/* A task group (asyncio.TaskGroup, Go's errgroup.Group; JS: Promise.all
 * with an AbortController shared by the tasks): start tasks in it,
 * then wait for all of them. The first task to fail (goc_fail, or
 * cancelled from outside) cancels the others; wait returns that first
 * error, or 0. A task's return value is ignored. goc_group_go: 0,
 * GOC_EINVAL, GOC_ENOMEM, GOC_EPERM (outside a coroutine), GOC_ECANCELED
 * (the group already failed or was cancelled: fn not started).
 * goc_group_cancel cancels every task in it and fails the group with
 * GOC_ECANCELED (unless it had failed already). goc_group_wait: 0 or the
 * first error; if the waiter itself is cancelled, the group is cancelled,
 * waited for (a further cancel does not cut that short), and GOC_ECANCELED
 * returned. free: GOC_EBUSY while tasks still run or a wait is in
 * progress. */
typedef struct goc_group goc_group;
GOC_API goc_group *goc_group_new(void);
GOC_API int        goc_group_go(goc_group *g, void *(*fn)(void *), void *arg);
GOC_API int        goc_group_cancel(goc_group *g);
GOC_API int        goc_group_wait(goc_group *g);
GOC_API int        goc_group_free(goc_group *g);

/* A queue (asyncio.Queue; Go: a buffered channel plus a WaitGroup; JS has
 * none built in, a ReadableStream with a highWaterMark is closest):
 * elements of elem_size bytes, at most maxsize (0: unbounded). put parks
 * while full, get while empty (FIFO among waiters). task_done marks one
 * gotten element as processed (GOC_EINVAL if more than were gotten); join
 * waits until every element put has been marked done. close: later puts
 * return GOC_ECLOSED, gets drain what is left and then return GOC_ECLOSED
 * (asyncio's Queue.shutdown); puts parked on a full queue return
 * GOC_ECLOSED (their elements are not queued); join is not woken; closing
 * twice returns GOC_ECLOSED. A get into a NULL elem discards the element.
 * put, get and join: 0, GOC_ETIMEDOUT, GOC_EAGAIN (timeout 0),
 * GOC_ECANCELED, GOC_EINVAL, GOC_EPERM (would wait outside a coroutine);
 * put also GOC_ENOMEM. A put or get that returns an error moved nothing,
 * however a timeout or cancel raced it. len: elements queued now. new:
 * NULL on ENOMEM or a size that overflows. free: GOC_EBUSY while
 * coroutines wait on it. */
typedef struct goc_queue goc_queue;
GOC_API goc_queue *goc_queue_new(size_t elem_size, size_t maxsize);
GOC_API int        goc_queue_put(goc_queue *q, const void *elem, int64_t timeout_ns);
GOC_API int        goc_queue_get(goc_queue *q, void *elem, int64_t timeout_ns);
GOC_API int        goc_queue_task_done(goc_queue *q);
GOC_API int        goc_queue_join(goc_queue *q, int64_t timeout_ns);
GOC_API int        goc_queue_close(goc_queue *q);
GOC_API size_t     goc_queue_len(goc_queue *q);
GOC_API int        goc_queue_free(goc_queue *q);

/* An event (asyncio.Event; Go: closing a channel, but resettable; JS: a
 * Promise and its resolve function, replaced to reset): wait
 * parks until the event is set (0 at once if it is; GOC_ETIMEDOUT,
 * GOC_EAGAIN for timeout 0, GOC_ECANCELED, GOC_EPERM outside a coroutine);
 * set wakes every waiter; clear resets it. is_set: 1 or 0 (0 for NULL).
 * set, clear, wait: GOC_EINVAL for NULL. free: GOC_EBUSY while coroutines
 * wait. */
typedef struct goc_event goc_event;
GOC_API goc_event *goc_event_new(void);
GOC_API int        goc_event_set(goc_event *e);
GOC_API int        goc_event_clear(goc_event *e);
GOC_API int        goc_event_is_set(goc_event *e);
GOC_API int        goc_event_wait(goc_event *e, int64_t timeout_ns);
GOC_API int        goc_event_free(goc_event *e);

/* A generator (Python's async generator consumed with `async for`; Go: a
 * goroutine sending on a channel the consumer ranges over; JS: async
 * function*). goc_gen_new starts fn(g, arg) in its own coroutine; it runs
 * only while the consumer waits in goc_gen_next. In fn, goc_gen_yield hands
 * one element to the consumer and returns 0 once the consumer asks for the
 * next one, or GOC_ECANCELED when the consumer closed the generator: fn
 * must then clean up and return (later yields return GOC_ECANCELED too).
 * goc_gen_yield returns GOC_EINVAL outside fn's coroutine.
 * goc_gen_next: 0 with an element, GOC_ECLOSED once fn has returned,
 * GOC_ECANCELED, GOC_ETIMEDOUT, GOC_EAGAIN (timeout 0 and no element
 * ready), GOC_EBUSY (another goc_gen_next is waiting: one consumer at a
 * time), GOC_EINVAL, GOC_EPERM. A next that times out (or is cancelled, or
 * has timeout 0) still asked for an element: fn goes on to its next yield,
 * and the element it yields is kept for the following goc_gen_next, never
 * lost. goc_gen_close (always call it, also after GOC_ECLOSED): stops fn
 * at its pending or next yield, waits for it to return (its cleanup has
 * run; a cancel of the caller does not cut that wait short), and frees the
 * generator: 0, or GOC_EBUSY (a goc_gen_next is waiting: nothing done),
 * GOC_EINVAL (called from fn), GOC_EPERM. fn does not start until a
 * goc_gen_next has asked and the generator's coroutine got a worker; a
 * generator closed before fn started never runs it, neither body nor
 * cleanup, even if a goc_gen_next asked first and timed out, was
 * cancelled or had timeout 0 (Python: close() on a generator that never
 * started does not run its body). NULL from goc_gen_new outside a
 * coroutine, on bad input (fn NULL) or ENOMEM. */
typedef struct goc_gen goc_gen;
GOC_API goc_gen *goc_gen_new(size_t elem_size, void (*fn)(goc_gen *g, void *arg), void *arg);
GOC_API int      goc_gen_yield(goc_gen *g, const void *elem);
GOC_API int      goc_gen_next(goc_gen *g, void *elem, int64_t timeout_ns);
GOC_API int      goc_gen_close(goc_gen *g);

/* ============================================================ I/O
 *
 * The netpoller: sockets are non-blocking; a call tries the system call
 * first and, only if it would block, parks the coroutine on its worker's
 * libuv loop until the socket is ready. The thread never blocks. Timeouts
 * as above; closing a socket wakes the coroutines waiting on it with
 * GOC_ECLOSED. SIGPIPE is ignored while a runtime runs, unless the program
 * installed a handler of its own (writes to a closed peer return
 * GOC_ECLOSED). Sockets must be closed before goc_run returns; goc_run
 * closes the fds of those left open. */

typedef struct goc_tcp goc_tcp;

/* Listen on host:port. host NULL or "" listens on every interface (IPv6
 * and IPv4 where the system allows both); "127.0.0.1", "::1", "localhost"
 * and names resolve as with goc_resolve (the first address is used).
 * port 0 picks a free port (see goc_tcp_port). backlog <= 0: SOMAXCONN.
 * SO_REUSEADDR is set. 0 and *out, or GOC_EINVAL, GOC_ENOTFOUND,
 * -EADDRINUSE, -EACCES, -EMFILE ... Go: net.Listen("tcp", addr);
 * asyncio: asyncio.start_server. */
GOC_API int goc_tcp_listen(const char *host, int port, int backlog, goc_tcp **out);

/* Accept one connection (TCP_NODELAY set): 0 and *conn, GOC_ETIMEDOUT,
 * GOC_EAGAIN (timeout 0), GOC_ECANCELED, GOC_ECLOSED (the listener was
 * closed), or -EMFILE/-ENFILE when out of descriptors (the listener stays
 * usable: try again later). Go: Listener.Accept. */
GOC_API int goc_tcp_accept(goc_tcp *l, goc_tcp **conn, int64_t timeout_ns);

/* Connect to host:port (each resolved address in turn until one answers):
 * 0 and *out, -ECONNREFUSED, GOC_ETIMEDOUT, GOC_ENOTFOUND, GOC_ECANCELED
 * ... A connection cannot be made without waiting, so timeout 0 gives
 * GOC_ETIMEDOUT. Go: net.DialTimeout; asyncio: asyncio.open_connection. */
GOC_API int goc_tcp_connect(const char *host, int port, goc_tcp **out, int64_t timeout_ns);

/* Read some bytes (at least 1, at most len): the count, 0 at end of stream
 * (the peer shut down or closed), or an error (-ECONNRESET, GOC_ETIMEDOUT,
 * GOC_EAGAIN, GOC_ECANCELED, GOC_ECLOSED if this socket was closed). len 0
 * returns 0 at once. Go: Conn.Read; asyncio: reader.read(n). */
GOC_API ssize_t goc_tcp_read(goc_tcp *c, void *buf, size_t len, int64_t timeout_ns);

/* Read exactly len bytes: len, or the number read before the end of the
 * stream (< len), or an error (bytes already read are then in buf but not
 * counted). The timeout covers the whole call. Go: io.ReadFull;
 * asyncio: reader.readexactly. */
GOC_API ssize_t goc_tcp_read_full(goc_tcp *c, void *buf, size_t len, int64_t timeout_ns);

/* Write all len bytes, looping over partial writes and parking while the
 * socket buffer is full: len, or an error (GOC_ECLOSED for a peer that
 * closed, -ECONNRESET, GOC_ETIMEDOUT, GOC_ECANCELED). The timeout covers
 * the whole call. Go: Conn.Write; asyncio: writer.write + drain. */
GOC_API ssize_t goc_tcp_write(goc_tcp *c, const void *buf, size_t len, int64_t timeout_ns);

/* Shut down the sending side (the peer reads end of stream); reads still
 * work. Go: TCPConn.CloseWrite; asyncio: writer.write_eof(). */
GOC_API int goc_tcp_shutdown(goc_tcp *c);

/* Close and free the socket. Coroutines parked on it wake with
 * GOC_ECLOSED; calls still running on it must end before it is freed, so
 * close only what no other coroutine will use afterwards. 0 or GOC_EINVAL.
 * Go: Conn.Close; asyncio: writer.close(). */
GOC_API int goc_tcp_close(goc_tcp *s);

/* The local port a socket is bound to (listen with port 0), or an error. */
GOC_API int goc_tcp_port(goc_tcp *s);

/* The file descriptor, for setsockopt and the like (never close it). */
GOC_API int goc_tcp_fd(goc_tcp *s);

/* Resolve host (a name or a numeric address) with libuv's getaddrinfo on
 * its thread pool, parking only the caller. Fills up to max addresses
 * (struct sockaddr_in or sockaddr_in6, port set) into addrs, each of
 * addr_size bytes (use sizeof(struct sockaddr_storage)); returns the count
 * (> 0), GOC_ENOTFOUND, GOC_EINVAL, GOC_ECANCELED. Go: net.LookupHost;
 * asyncio: loop.getaddrinfo. */
GOC_API int goc_resolve(const char *host, int port, void *addrs, size_t addr_size, int max);

/* Files, on libuv's thread pool (the coroutine parks, the worker runs on).
 * open returns a file descriptor or -errno (flags and mode as open(2));
 * read and write take an offset (< 0: the file position) and return the
 * byte count or -errno; read returns 0 at end of file. read_all reads a
 * whole file into a malloc'd buffer (*data, *len; free it with free());
 * write_all creates or truncates path and writes len bytes. They are not
 * cancellation points once submitted (like Go's file calls): they return
 * when the thread pool is done. Go: os.ReadFile / os.WriteFile; asyncio:
 * loop.run_in_executor or aiofiles. */
GOC_API int     goc_fs_open(const char *path, int flags, int mode);
GOC_API ssize_t goc_fs_read(int fd, void *buf, size_t len, int64_t offset);
GOC_API ssize_t goc_fs_write(int fd, const void *buf, size_t len, int64_t offset);
GOC_API int     goc_fs_close(int fd);
GOC_API int     goc_fs_read_all(const char *path, void **data, size_t *len);
GOC_API int     goc_fs_write_all(const char *path, const void *data, size_t len);

/* Run fn(arg) on libuv's thread pool and park only the caller until it
 * returns (asyncio.to_thread; Go needs none: a blocking syscall hands its
 * P to another thread). 0 and *result (result may be NULL). A caller
 * already cancelled gets GOC_ECANCELED and fn never runs; once fn is
 * submitted the caller waits for it to return (fn may use the caller's
 * stack), and returns GOC_ECANCELED, with *result set, if it was cancelled
 * meanwhile. The pool has
 * UV_THREADPOOL_SIZE threads (default 4), shared with files and DNS.
 * GOC_EINVAL, GOC_EPERM outside a coroutine. */
GOC_API int goc_to_thread(void *(*fn)(void *), void *arg, void **result);

/* ============================================================ observability */

/* Execution trace: record what the scheduler does into path as Chrome
 * trace-event JSON, the format ui.perfetto.dev and chrome://tracing open
 * (Go: runtime/trace.Start / Stop and `go tool trace`; asyncio has no
 * equivalent, its debug mode only logs slow callbacks). One track per
 * worker, with a slice for every run of a coroutine (its name, args.id),
 * flow arrows from each waker to the coroutine it woke (channel hand-off,
 * timer, netpoll, goc_to_thread completion, spawn), steals, idle and
 * netpoll waits, and the stack scavenger. The event format is described
 * in sched/trace.c. Setting GOC_TRACE=FILE traces one whole goc_run
 * into FILE instead.
 *
 * goc_trace_start: from any thread, inside a run or before one; 0,
 * GOC_EINVAL (path NULL or empty), GOC_EBUSY (a trace is being recorded
 * already), or open(2)'s -errno. goc_trace_stop: end the trace and finish
 * the file (coroutines running meanwhile are cut at the stop); 0,
 * GOC_EINVAL (no trace being recorded) or write(2)'s -errno. While no
 * trace is recorded, tracing costs one predictable branch per hook. */
GOC_API int goc_trace_start(const char *path);
GOC_API int goc_trace_stop(void);

/* Counters: what the scheduler did, to measure what each worker costs. Counters
 * count from the start of the running goc_run; gauges are a moment's
 * value. Counters are per worker and summed when read, without stopping
 * anything, so one snapshot is not atomic: two fields may be a few events
 * apart. Reading costs microseconds (plus one mincore call per 256 MiB of
 * stack address space for the stack fields); counting costs the scheduler
 * a plain add, no locked instruction.
 *
 * Ratios the counters are made for: wake-ups sent and wasted per operation
 * (wakeups, wakeups_wasted), spinning per operation (spins, steal_tries),
 * netpoll wake-ups per socket event (netpoll_wakeups / netpoll_events).
 *
 * GOC_DEBUG=schedtrace=MS in the environment makes the runtime print one
 * line of these to stderr every MS milliseconds (the monitor samples every
 * 20 ms, so shorter intervals are 20 ms), as GODEBUG=schedtrace=MS does
 * in Go; GOC_DEBUG=1,schedtrace=1000 also reports stalls (see the top):
 *   goc: schedtrace t=1000ms workers=2 idle=1 spinning=0 runq=[3 0]
 *   global=0 live=10 spawned=12 switches=... parks=... steals=ok/tries
 *   stolen=... spins=... wakeups=sent/wasted sleeps=... netpoll=...
 *   timers=fired late_max=...us stack=committed/reserved(KiB) faults=...
 * (one line). */

#define GOC_STATS_VERSION 1

typedef struct goc_stats {
    uint32_t version;          /* in: GOC_STATS_VERSION (what the caller was built with) */
    uint32_t workers;          /* the runtime's workers */
    /* gauges */
    uint32_t idle;             /* workers asleep, waiting for work */
    uint32_t spinning;         /* workers looking for work to steal */
    uint64_t global_queue;     /* coroutines in the global run queue */
    uint64_t live;             /* coroutines alive: spawned and not yet returned
                                  (main included) */
    /* counters */
    uint64_t spawned;          /* coroutines created (goc_go, goc_spawn, main) */
    uint64_t switches;         /* switches into a coroutine (each run of one) */
    uint64_t parks;            /* blocking waits (channel, sync, sleep, I/O ...) */
    uint64_t steal_tries;      /* victims probed by spinning workers */
    uint64_t steals;           /* probes that took work */
    uint64_t stolen;           /* coroutines those took */
    uint64_t spins;            /* searches by a spinning worker (up to 4 rounds over
                                  the other workers and the global queue) */
    uint64_t wakeups;          /* idle workers woken to run new work */
    uint64_t wakeups_wasted;   /* woken workers that slept again without running
                                  anything (another worker got there first) */
    uint64_t idle_sleeps;      /* times a worker blocked in its event loop */
    uint64_t netpoll_polls;    /* non-blocking looks at the socket poller */
    uint64_t netpoll_blocks;   /* idle sleeps of the worker that listens for sockets */
    uint64_t netpoll_events;   /* coroutines made runnable by socket events */
    uint64_t netpoll_wakeups;  /* of wakeups, those sent for socket events */
    uint64_t timers_fired;     /* sleeps, timeouts and goc_after timers that fired */
    uint64_t timer_late_ns;    /* sum over them of (fire time - deadline) */
    uint64_t timer_late_max_ns;/* the worst of them */
    uint64_t stack_reserved;   /* bytes of address space mapped for coroutine stacks */
    uint64_t stack_committed;  /* of those, bytes resident in memory */
    uint64_t faults;           /* page faults of the whole process (getrusage:
                                  minor + major), stacks' first touches among them */
} goc_stats;

/* Fill *out with the running runtime's statistics: 0, GOC_EINVAL for NULL
 * or a version this library does not know (a newer struct than ours), or
 * GOC_EPERM when no goc_run is running (counters start again at 0 with
 * each goc_run; read them before main returns to keep a run's totals).
 * Only fields of out->version are written; the version stays as given.
 * Any thread may call it while goc_run runs; a plain thread must stop
 * before goc_run can return. Go: runtime.ReadMemStats, runtime/metrics.Read,
 * GODEBUG=schedtrace; asyncio: loop.slow_callback_duration and debug mode
 * come closest (it has no counters). The name is not goc_stats: in C a
 * function and a type cannot share it. */
GOC_API int goc_read_stats(goc_stats *out);

/* Coroutine dump: write a dump of every live coroutine to fd: id, name, state (running on
 * worker N / runnable / parked), for a parked one what it waits on (the
 * channel and op, a select's cases, a sleep's deadline, a socket's fd and
 * direction, the WaitGroup, mutex, queue ... address) and for how long
 * (to the monitor's 20 ms tick), where it was spawned, and, when the
 * library was built with libunwind, a symbolised backtrace of each
 * coroutine that is not running (a running one's stack is never read).
 * Safe while workers run: a worker about to resume a coroutine whose
 * stack is being read waits for the dump to let go of it. The dump is
 * built in memory and then written, so fd may be a pipe, but not one that
 * only a coroutine of this runtime drains. Callable from a coroutine or,
 * while goc_run runs, from any thread. 0, GOC_EPERM when no runtime runs,
 * GOC_ENOMEM, or -errno of a failed write.
 * While goc_run runs, SIGQUIT (Ctrl-\) prints the same dump to stderr and
 * the program runs on, as in the JVM, unless the program had its own
 * SIGQUIT handler (or ignored it) when goc_run started.
 * Go: SIGQUIT's goroutine dump (which also exits), pprof's goroutine
 * profile (debug=2); asyncio: asyncio.all_tasks() + Task.print_stack();
 * JVM: jstack / kill -3. */
GOC_API int goc_dump(int fd);

#ifdef __cplusplus
}
#endif
#endif /* GOC_H */
