/*
 * runtime.h - internal interface of the scheduler (never installed).
 *
 * The pieces and who owns what:
 *   goc_co       one coroutine; also the goc_task handle. Structs come from
 *                slabs owned by the runtime and are recycled, never freed,
 *                until goc_run returns, so any pointer to one stays valid
 *                for the whole run (shutdown and cancel rely on it).
 *   goc_worker   one OS thread: its run queue (ring + next slot), its
 *                libuv loop, its timer heap, its caches of stacks and
 *                coroutine structs. Only the owner thread touches the loop
 *                and the caches; the ring is shared with thieves through
 *                atomics; the timer heap has a lock because a coroutine
 *                cleaning up a cancelled sleep may run on another worker.
 *   goc_runtime  the running instance (one at a time, owned by goc_run):
 *                workers, the global inject queue, idle bookkeeping,
 *                pools, shutdown state.
 *
 * Parking (the one primitive every blocking call uses):
 *   1. goc__park_begin()  - state RUNNING -> WAITING, or GOC_ECANCELED if a
 *                           cancel is pending (nothing to undo then);
 *   2. register the coroutine where a waker will find it (under that
 *      structure's lock);
 *   3. goc__park()        - switch away; returns the wake reason.
 *   A waker calls goc__wake(co, reason): a CAS WAITING -> reason, so exactly
 *   one of value / close / timeout / cancel wins; the winner makes co
 *   runnable. After it resumes, the coroutine removes its own registrations
 *   under their locks; wakers touch a registration only under that lock,
 *   so a registration living on the coroutine's stack is safe.
 *   If the condition turned true between 1 and 3, goc__park_abort() undoes
 *   step 1 (and still parks once if a waker already won the race).
 *
 * A coroutine is never resumed while its registers are still being saved:
 * on_cpu is 1 from the moment a worker switches to it until its worker has
 * switched back to the scheduler; a worker about to run it waits for 0.
 */
#ifndef GOC_RUNTIME_H
#define GOC_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "goc.h"
#include "ctx.h"
#include "san.h"
#include "check.h"

#define GOC_CACHELINE 64
#define GOC_RING_SIZE 256u          /* per-worker run queue, as in Go */
#define GOC_GLOBAL_CHECK_TICKS 61   /* look at the global queue every 61 picks */
#define GOC_NEXT_STREAK_MAX 3       /* runs in a row from the next slot */

/* wstate: the low bits are the park state, GOC_WS_CANCEL is sticky. */
enum {
    GOC_WS_RUNNING = 0,
    GOC_WS_WAITING = 1,
    GOC_WS_WOKEN = 2,      /* the awaited event happened */
    GOC_WS_TIMEDOUT = 3,   /* a timer fired first */
    GOC_WS_CANCELED = 4,   /* goc_cancel (or shutdown) fired first */
    GOC_WS_CLOSED = 5,     /* the awaited object was closed */
    GOC_WS_HELD = 6,       /* waiting, and cancels do not end the wait
                              (thread-pool work using the caller's stack) */
    GOC_WS_STATE_MASK = 0xff,
    GOC_WS_CANCEL = 0x100,
};

/* life: where a coroutine struct is in its life (relaxed, for shutdown). */
enum { GOC_LIFE_FREE = 0, GOC_LIFE_ALIVE = 1, GOC_LIFE_DEAD = 2 };

/* What a coroutine asks its worker's scheduler when it switches back. */
enum { GOC_REQ_NONE = 0, GOC_REQ_YIELD, GOC_REQ_PARK, GOC_REQ_EXIT };

enum { GOC_CO_TASK = 1, GOC_CO_MAIN = 2 };

/* join word of a task */
#define GOC_JOIN_NONE ((uintptr_t)0)
#define GOC_JOIN_DONE ((uintptr_t)1)

/* ----------------------------------------------------------- small locks */

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

typedef struct goc_worker goc_worker;
typedef struct goc_runtime goc_runtime;

/* ------------------------------------------------------------- counters */

/* A worker's event counters (goc_read_stats, schedtrace). Each one is
 * written only by its worker's own thread, with goc__count: a relaxed load
 * and a relaxed store, a plain add with no locked instruction; any thread
 * may read them with relaxed loads. They have cache lines of their own, so
 * a reader costs the owner at most one miss per read. What a thread that
 * is not a worker of this runtime counts (wake-ups sent by a plain thread
 * or the monitor, the monitor's netpoll harvests) goes to goc_xstats. */
typedef struct goc_wstats {
    _Alignas(GOC_CACHELINE) _Atomic uint64_t parks; /* coroutines parked here */
    _Atomic uint64_t steal_tries;     /* victims probed */
    _Atomic uint64_t steals;          /* probes that took work */
    _Atomic uint64_t stolen;          /* coroutines taken by them */
    _Atomic uint64_t spins;           /* spinning searches (steal_work calls) */
    _Atomic uint64_t wakeups;         /* idle workers woken by this one */
    _Atomic uint64_t wakeups_wasted;  /* woken, then slept again having run nothing */
    _Atomic uint64_t idle_sleeps;     /* blocking waits in uv_run */
    _Alignas(GOC_CACHELINE) _Atomic uint64_t netpoll_blocks; /* idle sleeps as the poller */
    _Atomic uint64_t netpoll_events;  /* coroutines its harvests made runnable */
    _Atomic uint64_t netpoll_wakeups; /* idle workers its harvests woke */
    _Atomic uint64_t timers_fired;    /* timers fired by this thread (any heap) */
    _Atomic uint64_t timer_late_ns;   /* sum over them of fire time - deadline */
    _Atomic uint64_t timer_late_max_ns;
} goc_wstats;

/* The counters bumped by threads that are not workers (atomic adds: rare). */
typedef struct goc_xstats {
    _Alignas(GOC_CACHELINE) _Atomic uint64_t wakeups; /* sent by plain threads, the monitor */
    _Atomic uint64_t netpoll_polls;   /* the monitor's harvests */
    _Atomic uint64_t netpoll_events;
    _Atomic uint64_t netpoll_wakeups;
} goc_xstats;

/* Owner-only bump of a worker counter: no locked RMW (see goc_wstats). */
static inline void goc__count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void goc__count_max(_Atomic uint64_t *c, uint64_t v)
{
    if (v > atomic_load_explicit(c, memory_order_relaxed))
        atomic_store_explicit(c, v, memory_order_relaxed);
}

/* What a parked coroutine waits on, for the dump and the deadlock report.
 * Set by the coroutine itself at park time (a few relaxed stores, plain
 * moves), read by any thread with relaxed loads: a reader racing a new
 * park may mix two descriptions, never crash (obj is only printed, or,
 * for a select, followed only while the coroutine is pinned, parked). */
enum {
    GOC_WAIT_OTHER = 0,   /* what says it all; obj if not 0 */
    GOC_WAIT_CHAN,        /* obj: the channel; arg: GOC_SEND or GOC_RECV */
    GOC_WAIT_SELECT,      /* obj: its goc_case array; arg: the case count */
    GOC_WAIT_FD,          /* arg: fd << 1 | (1 for write) */
};
typedef struct goc_wait {         /* what itself is goc_co's wait_what */
    _Atomic uintptr_t obj;        /* the awaited object's address, or 0 */
    _Atomic int64_t arg;          /* kind-specific, see above */
    _Atomic int64_t until;        /* goc_now() deadline, INT64_MAX: none */
    _Atomic int64_t since;        /* goc_now() at park time, to the monitor's tick (20 ms) */
    _Atomic uint8_t kind;         /* GOC_WAIT_* */
} goc_wait;

/* A coroutine's cold half: what only diagnostics read. It lives in an
 * array beside its slab's structs (coro.c), one per struct, so that
 * spawning, running and ending a coroutine that never parks, is not named
 * and is not traced never touches it: with these fields inside goc_co
 * (200 bytes) goc-bench spawn, whose 10^6 queued coroutines each cost
 * their struct's first touch, was 10-28% slower than at 104 bytes. */
typedef struct goc_co_cold {
    goc_wait wait;                /* valid while wait_what is set */
    uint64_t trace_flow;          /* trace.c: the flow arrow of its last wake-up, or 0 */
    /* goc_set_name's name, NUL-terminated, valid once goc_co's named is
     * set. Written only by the coroutine itself (or its spawner before it
     * is queued), read by any thread (dump, trace, deadlock report) a word
     * at a time with relaxed loads: a torn read mixes two names, never
     * overruns. */
    _Atomic uint64_t name[GOC_NAME_MAX / 8];
} goc_co_cold;

typedef struct goc_co {
    goc_ctx ctx;
    struct goc_co *next;          /* link in queues and free lists */
    _Atomic uint32_t wstate;      /* park state | GOC_WS_CANCEL */
    _Atomic uint32_t on_cpu;      /* 1 while some worker runs on its stack */
    _Atomic uint32_t refs;        /* 1 for running, +1 for a goc_task handle */
    _Atomic uint8_t life;
    uint8_t flags;                /* GOC_CO_TASK, GOC_CO_MAIN */
    uint8_t exit_canceled;        /* cancel was pending when it returned */
    uint8_t stack_kind;           /* GOC_STACK_POOL, _POOL_GUARDED or _OWN */
    char *stack;                  /* base of its stack slot; NULL until first run */
    union {
        void (*go)(void *);       /* goc_go */
        void *(*task)(void *);    /* goc_spawn */
    } fn;
    void *arg;
    void *result;
    int err;                      /* goc_fail's error (< 0), or 0 */
    goc_spin watch_lock;          /* guards watchers (tasks only); beside err: no padding */
    _Atomic uintptr_t join;       /* GOC_JOIN_NONE, GOC_JOIN_DONE or the joiner */
    struct goc_watch *watchers;   /* waits on this task besides its joiner */
    uint64_t id;
    _Atomic uintptr_t spawn_pc;   /* return address in its spawner (goc_go ...) */
    /* 1 while a dump (dump.c) reads its stack: a worker about to run it
     * waits for 0 (see goc__dump_pin). */
    _Atomic uint32_t pinned;
    _Atomic uint8_t named;        /* cold->name is set (release; readers acquire) */
    goc_co_cold *cold;            /* its cold half, fixed for the struct's life */
    /* What it is parked on ("channel receive", "sleep" ...; the details
     * in cold->wait), NULL when not parked. Everything spawn writes lies
     * in these first two cache lines (checked in coro.c). */
    _Atomic(const char *) wait_what;
#ifdef GOC_ASAN
    void *asan_fake;
#endif
#ifdef GOC_TSAN
    void *tsan_fiber;
#endif
} goc_co;

/* ------------------------------------------------------------ wait lists */

/* A waiter on some object's queue; lives on the waiting coroutine's stack. */
typedef struct goc_waiter {
    struct goc_waiter *prev, *next;
    goc_co *co;
    int queued;
} goc_waiter;

typedef struct goc_waitq { goc_waiter *head, *tail; } goc_waitq;

void goc__waitq_push(goc_waitq *q, goc_waiter *w);
void goc__waitq_remove(goc_waitq *q, goc_waiter *w);
goc_waiter *goc__waitq_pop(goc_waitq *q);
/* Pop waiters until one whose coroutine we can claim (goc__claim with
 * GOC_WS_WOKEN); NULL if none. Waiters whose claim fails (already woken by
 * a cancel, a timeout or another select case) are dropped from q. */
goc_waiter *goc__waitq_claim(goc_waitq *q);

/* ------------------------------------------------------- task watchers */

/* Waiting on a task without being its joiner: goc_gather, goc_wait_first,
 * goc_wait_for (chan/task.c) hang a goc_watch on each task they wait for,
 * in their own memory. When the task returns, goc__co_finish calls fn(w)
 * once for every watch still hung, under the task's watch_lock, after its
 * result, err and the DONE join word are published; fn runs in scheduler
 * context and must not block (it wakes its waiter). goc__watch_remove
 * takes the same lock, so once it returns fn is not running and will not
 * run for w: call it for every hung watch, fired or not, before w's memory
 * goes away or its waiter parks on anything else. */
typedef struct goc_watch {
    struct goc_watch *prev, *next;
    goc_co *task;
    void (*fn)(struct goc_watch *w);
    int hung;                     /* on task's list (fn not yet called) */
} goc_watch;

/* 0: hung on task; 1: task already returned (w not hung, fn never runs). */
int  goc__watch_add(goc_co *task, goc_watch *w);
void goc__watch_remove(goc_watch *w);
/* A returned task's outcome: its goc_fail error, GOC_ECANCELED if a cancel
 * was pending when it returned, else 0. */
int  goc__task_err(const goc_co *task);

/* ---------------------------------------------------------------- timers */

typedef struct goc_timer goc_timer;
struct goc_timer {
    int64_t when;                 /* goc_now() deadline */
    uint32_t idx;                 /* heap slot, GOC_TIMER_NONE when not queued */
    goc_worker *owner;            /* whose heap holds it */
    void (*fire)(goc_timer *t);   /* called under the heap lock, on the owner */
    goc_co *co;                   /* for timers that wake a coroutine */
    void *arg;                    /* for other timers (goc_after: its channel) */
};
#define GOC_TIMER_NONE UINT32_MAX

typedef struct goc_heap_slot {
    int64_t when;                 /* copy of t->when: comparisons stay in the array */
    goc_timer *t;
} goc_heap_slot;

typedef struct goc_timers {
    goc_spin lock;
    goc_heap_slot *heap;          /* 4-ary min-heap on when */
    uint32_t len, cap;
    _Atomic int64_t next_when;    /* heap[0]->when or INT64_MAX, readable unlocked */
} goc_timers;

int64_t goc__deadline(int64_t ns);      /* goc_now() + ns, saturating at INT64_MAX */
void goc__timer_add(goc_worker *w, goc_timer *t);
void goc__timer_remove(goc_timer *t);           /* no-op if no longer queued */
int  goc__timers_run(goc_worker *w, int64_t now); /* fire expired; returns count */
/* goc__park with a deadline (INT64_MAX: none) after goc__park_begin and
 * registering: a timer wakes self with GOC_WS_TIMEDOUT if nothing else
 * does first. Returns the wake reason. */
int  goc__park_until(goc_co *self, int64_t deadline);
void goc__timers_free(goc_timers *ts);

/* ---------------------------------------------------------------- stacks */

enum { GOC_STACK_POOL = 0, GOC_STACK_POOL_GUARDED = 1, GOC_STACK_OWN = 2 };

/* Free stack slots are kept as stacks of entries (warmest on top); an
 * entry is the slot's address with bit 0 set when the slot has a guard
 * page. Nothing is written into a free slot (stack.c). */
#define GOC_STACK_CACHE_MAX 64

typedef struct goc_stack_cache {  /* a worker's own free slots */
    uint32_t n;
    uintptr_t slots[GOC_STACK_CACHE_MAX];
} goc_stack_cache;

typedef struct goc_stack_list { uintptr_t *e; size_t n; } goc_stack_list;

typedef struct goc_stack_slab { char *base; size_t len; } goc_stack_slab;

#define GOC_MAX_SLABS 4096

/* Everything the pool keeps across goc_run calls: plain data, moved by
 * assignment into the process-level reserve and back (stack.c). */
typedef struct goc_stack_store {
    size_t slot;                  /* the slot size these slabs are carved in */
    goc_stack_list warm;          /* free, pages still resident */
    goc_stack_list released;      /* free, pages given back (MADV_DONTNEED) */
    size_t list_cap;              /* room in each list; >= ncarved */
    size_t ncarved;               /* slots carved from the slabs */
    size_t warm_low;              /* lowest warm.n since the last scavenge */
    long guard_budget;            /* mprotect guards we may still create */
    char *carve, *carve_end;      /* unused tail of the newest slab */
    size_t next_slab_len;
    goc_stack_slab slabs[GOC_MAX_SLABS];
} goc_stack_store;

typedef struct goc_stack_pool {
    size_t usable;                /* what the user asked for (bytes) */
    size_t slot;                  /* bytes per slot, guard included */
    size_t lo_off;                /* offset of the usable low end in a slot */
    int guardable;                /* slot has a page to spare for a guard */
    size_t warm_max;              /* free slots kept warm, and kept across runs */
    pthread_mutex_t lock;         /* the store: lists, carving, slab table */
    goc_stack_store s;
    _Atomic int nslabs;           /* slabs in s.slabs; read by the SIGSEGV handler */
    goc_stack_slab own;           /* the main coroutine's own stack, if any */
} goc_stack_pool;

/* init adopts the stacks the previous goc_run left in the reserve (same
 * slot size), destroy trims to the bound and leaves them there. */
int   goc__stack_pool_init(goc_stack_pool *p, size_t usable);
void  goc__stack_pool_destroy(goc_stack_pool *p);
char *goc__stack_get(goc_stack_pool *p, goc_stack_cache *c, int *guarded);
void  goc__stack_put(goc_stack_pool *p, goc_stack_cache *c, char *slot, int guarded);
/* Hand a worker's cached slots back to the pool (worker_destroy). */
void  goc__stack_cache_flush(goc_stack_pool *p, goc_stack_cache *c);
/* Give back the pages of free slots that stayed cold a whole interval,
 * beyond the warm bound. For a quiet thread (the monitor, about once a
 * second): safe beside running workers, never called on their path. */
void  goc__stack_scavenge(goc_stack_pool *p);
void  goc__stack_bounds(const goc_stack_pool *p, const goc_co *co, char **lo, size_t *size);
/* The main coroutine's stack: its own guarded mapping of at least the
 * default size, so main can use stdio even when coroutines are tiny. */
char *goc__stack_get_own(goc_stack_pool *p, size_t usable);
void  goc__stack_put_own(goc_stack_pool *p);
/* Abort with a message if co overflowed the stack it runs on (saved sp or
 * canary). Called by the scheduler each time co switches back. */
void  goc__stack_check(const goc_stack_pool *p, const goc_co *co, int worker);
#define GOC_STACK_CANARY_BYTES 64 /* below a slot's usable stack */
/* The same check with the common case inline: a guarded pool stack, whose
 * guard page catches an overflow, so only the saved sp is compared. */
static inline void goc__stack_check_fast(const goc_stack_pool *p, const goc_co *co, int worker)
{
#if !(defined(GOC_CTX_UCONTEXT) && GOC_CTX_UCONTEXT)
    if (co->stack_kind == GOC_STACK_POOL_GUARDED &&
        (const char *)co->ctx.sp >= co->stack + p->lo_off + GOC_STACK_CANARY_BYTES)
        return;
#endif
    goc__stack_check(p, co, worker);
}
int   goc__stack_install_segv_handler(void);
void  goc__stack_restore_segv_handler(void);
int   goc__stack_altstack_enter(void **saved);
void  goc__stack_altstack_leave(void *saved);

/* ------------------------------------------------------- coroutine pool */

typedef struct goc_co_cache {
    goc_co *head;
    uint32_t n;
} goc_co_cache;

/* One mapping of structs, carved in order: cos[0 .. n) have been handed
 * out at least once; the rest are untouched (zero) memory. */
typedef struct goc_co_slab {
    struct goc_co_slab *next;     /* the next older slab */
    size_t len;                   /* bytes mapped */
    uint32_t cap;                 /* structs that fit */
    uint32_t n;                   /* structs carved (under the pool lock) */
    goc_co_cold *cold;            /* cold[i] is cos[i]'s cold half */
    _Alignas(64) goc_co cos[];    /* a struct's hot fields: two whole lines */
} goc_co_slab;

typedef struct goc_co_pool {
    pthread_mutex_t lock;
    goc_co_slab *slabs;           /* every struct made, newest slab first */
    goc_co *free_head;            /* stack of batches (coro.c), the most recently freed on top */
    size_t free_n;
    size_t total;                 /* structs carved, all slabs */
} goc_co_pool;

/* init adopts the structs the previous goc_run left in the reserve;
 * destroy (all workers gone) trims to the bound and leaves them there. */
void goc__co_pool_init(goc_co_pool *p);
void goc__co_cache_flush(goc_co_pool *p, goc_co_cache *c); /* worker_destroy */

/* ----------------------------------------------------------------- rings */

typedef struct goc_ring {
    _Alignas(GOC_CACHELINE) _Atomic uint32_t head; /* owner and thieves (CAS) */
    _Alignas(GOC_CACHELINE) _Atomic uint32_t tail; /* owner only */
    _Atomic(goc_co *) slots[GOC_RING_SIZE];
} goc_ring;

/* Nothing queued in r (a snapshot: the owner may push right after). */
static inline int goc__ring_empty(goc_ring *r)
{
    return atomic_load_explicit(&r->head, memory_order_acquire) ==
           atomic_load_explicit(&r->tail, memory_order_acquire);
}

/* ---------------------------------------------------------------- worker */

struct goc_worker {
    /* owner-only, hot */
    goc_runtime *rt;
    int index;
    int req;                      /* GOC_REQ_* set by the running coroutine */
    goc_co *cur;                  /* coroutine running now, or NULL */
    goc_co *prev;                 /* left by a direct switch; released by the next */
    goc_co *handoff;              /* picked by a coroutine, for the scheduler to run */
    goc_ctx sched_ctx;            /* the scheduler loop, on the thread's stack */
    uint32_t tick;
    uint32_t next_streak;
    uint32_t rng;
    uint64_t chaos_rng;           /* GOC_CHAOS: this worker's decisions (sched.c) */
    int spinning;                 /* counted in rt->nspinning */
    goc_co_cache cocache;
    goc_stack_cache stacks;
    uint64_t id_next, id_end;     /* ids handed out locally */
    const int *victims;           /* other workers, nearest first */
    uint64_t *victim_seen;        /* victim switch count at our last look */

    /* run queue */
    goc_ring ring;
    _Alignas(GOC_CACHELINE) _Atomic(goc_co *) runnext;

    /* counters read by other threads */
    _Alignas(GOC_CACHELINE) _Atomic uint64_t nswitch; /* switches into coroutines */
    _Atomic uint64_t cur_id;      /* id of the running coroutine, 0 if none */
    _Atomic uint64_t nspawned;    /* coroutines created on this worker */
    _Atomic uint64_t nexited;     /* coroutines ended on this worker */
    _Atomic int idle;             /* on the idle stack */
    _Atomic int blocked;          /* inside uv_run, waiting for an event */
    _Atomic uint64_t nharvest;    /* netpoll harvests done (monitor) */

    goc_wstats stats;             /* written by the owner only (see goc_wstats) */
    int woken;                    /* owner: woken by goc__wake_idle, has run nothing since */

    /* timers, loop */
    _Alignas(GOC_CACHELINE) goc_timers timers;
    uv_loop_t loop;
    uv_async_t wake;
    uv_poll_t tfd_poll;
    int tfd;
    int64_t tfd_armed;
    uv_poll_t np_poll;            /* the runtime's netpoll epoll fd, on this loop */
    _Atomic int np_watching;      /* np_poll is started (only the poller's is);
                                     written by the owner, read by tests */
    int pool_pending;             /* thread-pool requests this loop will complete */

    pthread_t thread;
    int started;
    void *altstack_saved;
#ifdef GOC_ASAN
    void *asan_sched_fake;
    const void *asan_sched_bottom;
    size_t asan_sched_size;
#endif
#ifdef GOC_TSAN
    void *tsan_sched_fiber;
#endif
};

struct goc_runtime {
    int nworkers;
    int pin;
    goc_worker *workers;
    /* A dump is pinning coroutines (dump.c); read by every claim, written
     * only around a dump: it shares this read-mostly line. */
    _Atomic int dumping;
    /* goc_now() as of the monitor's last sample: the cheap clock that
     * parks stamp their wait with. */
    _Atomic int64_t coarse_now;
    /* the pools' locks and counters change all the time: not in that line */
    _Alignas(64) goc_stack_pool stacks;
    goc_co_pool cos;
    struct goc_topo *topo;

    /* global inject queue: a list of arrays of coroutine pointers, so that
     * moving a batch never touches the (cold) coroutine structs */
    _Alignas(GOC_CACHELINE) goc_spin gq_lock;
    struct goc_gq_chunk *gq_first, *gq_last, *gq_spare;
    int gq_nspare;
    _Atomic size_t gq_len;

    /* idle workers */
    _Alignas(GOC_CACHELINE) pthread_mutex_t idle_lock;
    int *idle_stack;
    int nidle_stack;
    _Atomic int nidle;
    _Atomic int nspinning;
    /* Workers that left block_in_loop, ever: a deadlock check whose
     * snapshot spans a change of it is void (sched.c, deadlocked_now). */
    _Atomic uint64_t unblocks;
    /* The one worker whose loop watches the netpoller while it idles (Go:
     * one M at a time blocks in netpoll), or -1. Sticky: it stays with its
     * holder across busy spells; the monitor takes it back from a holder
     * that neither idles nor harvests (sched.c, monitor.c). */
    _Atomic int poller;
    uint64_t chaos;               /* GOC_CHAOS seed; 0: every decision as designed */

    /* lifecycle */
    _Alignas(GOC_CACHELINE) _Atomic uint64_t id_gen;
    _Atomic int shutting_down;
    _Atomic int stopping;
    _Atomic int deadlocked;       /* reported once; goc_run returns GOC_EDEADLK */
    /* Coroutines parked on sockets and on the thread pool: they keep the
     * program out of deadlock; while any wait on sockets, busy workers poll
     * the netpoller. */
    _Atomic int64_t nfd_waiting;
    _Atomic int64_t npool_waiting;
    struct goc_netpoll *np;       /* netpoll.c */
    int debug;                    /* GOC_DEBUG asks for stall reports */
    int64_t schedtrace_ns;        /* GOC_DEBUG=schedtrace=MS, in ns; 0: off */
    int64_t started;              /* goc_now() when goc_run started (schedtrace t=) */
    goc_xstats xstats;

    /* monitor */
    pthread_t monitor;
    pthread_mutex_t mon_lock;
    pthread_cond_t mon_cond;
    int mon_stop;
    int mon_started;
};

/* ------------------------------------------------------------- netpoll */

int  goc__netpoll_init(goc_runtime *rt);        /* the epoll set; 0 or GOC_ENOMEM */
void goc__netpoll_free(goc_runtime *rt);        /* closes sockets left open */
int  goc__netpoll_worker_init(goc_worker *w);   /* w's loop handle for the epoll set */
/* Start (on = 1) or stop watching the epoll set from w's loop (owner only;
 * costs an epoll_ctl on the loop when it changes). */
void goc__netpoll_watch(goc_worker *w, int on);
/* Make ready waiters runnable, never blocks. On a worker (w != NULL)
 * they join its ring, and one idle worker is woken only when more than
 * one became runnable; from another thread (w == NULL: the monitor) they
 * go to the global queue. Returns how many became runnable. */
int  goc__netpoll_harvest(goc_runtime *rt, goc_worker *w);

/* ------------------------------------------------------------ internals */

/* This thread's worker, or NULL. A coroutine may resume on another thread,
 * so it must be read afresh after every switch. On x86-64 an initial-exec
 * TLS load is one %fs-relative instruction that no compiler can hoist
 * across the (opaque) switch call, so it is inlined everywhere; elsewhere
 * compilers may cache the thread pointer within a function, so there it
 * is a call to a function of its own (sched.c). */
#if defined(__x86_64__)
extern _Thread_local goc_worker *goc__tls_worker __attribute__((tls_model("initial-exec")));
static inline goc_worker *goc__worker(void)
{
    return goc__tls_worker;
}
#else
goc_worker *goc__worker(void);
#endif
goc_runtime *goc__runtime(void);        /* the running runtime, or NULL */
static inline goc_co *goc__self(void)   /* running coroutine, or NULL */
{
    goc_worker *w = goc__worker();
    return w ? w->cur : NULL;
}

int  goc__park_begin(goc_co *co, const char *what);
/* goc__park_begin with a structured wait: kind GOC_WAIT_*, the awaited
 * object and a kind-specific argument (runtime.h, goc_wait). */
int  goc__park_begin_on(goc_co *co, const char *what, int kind, const void *obj, int64_t arg);
int  goc__park(goc_co *co);             /* returns GOC_WS_* reason */
void goc__chaos_pause(void);            /* GOC_CHAOS: maybe stall here (sched.c) */
void goc__park_abort(goc_co *co);
int  goc__wake(goc_co *co, int reason); /* 1 if this call woke it */
int  goc__claim(goc_co *co, int reason);/* the CAS of goc__wake, without making it runnable:
                                           the winner must goc__ready it (after unlocking) */
void goc__ready(goc_co *co, int next);  /* make runnable (next: the next slot) */
int  goc__ws_to_err(int reason);        /* GOC_WS_* -> 0 / GOC_E* */
/* A wait only its one waker ends (goc_cancel just marks it cancelled):
 * goc__hold_begin, hand co to the waker, goc__park; the waker calls
 * goc__release (from any thread). */
void goc__hold_begin(goc_co *co, const char *what);
void goc__release(goc_co *co);
/* Undo goc__hold_begin before any waker could have been told about co
 * (the awaited event turned out to have happened already). */
void goc__hold_abort(goc_co *co);
void goc__cancel_co(goc_co *co);

uint32_t goc__rand(void);              /* per-worker xorshift */

/* sched.c */
void goc__switch_to_sched(goc_worker *w, goc_co *co, int req);
void goc__switch_away(goc_worker *w, goc_co *co, int req); /* YIELD or PARK */
void goc__enqueue_local(goc_worker *w, goc_co *co, int next);
int  goc__enqueue_global(goc_runtime *rt, goc_co *co); /* 1 if it woke a worker */
/* Make co runnable on w's ring without waking anyone; after a batch the
 * caller calls goc__share_backlog once, which wakes an idle worker only
 * if w's ring holds more than w will run before a woken worker could
 * start (GOC_SHARE_BACKLOG). */
#define GOC_SHARE_BACKLOG 8
void goc__enqueue_quiet(goc_worker *w, goc_co *co);
int  goc__share_backlog(goc_worker *w); /* 1 if it woke a worker */
int  goc__wake_idle(goc_runtime *rt);  /* wake one idle worker if none spins; 1 if woken */
int  goc__has_backlog(goc_worker *w);  /* its ring is not empty (monitor) */
void goc__nudge_stuck(goc_worker *w);

/* coro.c */
goc_co *goc__co_new(goc_worker *w, void *arg, int is_task);
/* Names (coro.c): set copies at most GOC_NAME_MAX - 1 bytes of name;
 * get writes co's name, or "co-ID" when it has none, into buf and
 * returns its length. */
void   goc__co_set_name(goc_co *co, const char *name);
size_t goc__co_name(const goc_co *co, char buf[GOC_NAME_MAX]);
void goc__co_finish(goc_worker *w, goc_co *co);
void goc__co_release(goc_worker *w, goc_co *co);
void goc__co_pool_destroy(goc_co_pool *p);
void goc__cancel_all(goc_runtime *rt);
/* Every coroutine spawned has exited (sched.c; three reads that agree). */
int  goc__all_exited(goc_runtime *rt);
/* deadlock.c: called by a worker about to block; 1 if it found a deadlock,
 * reported it and cancelled everyone (there is work again: the cancelled
 * coroutines). */
int  goc__deadlock_check(goc_worker *w);
/* fn(co) for every live coroutine, pool lock held (shutdown, diagnostics). */
void goc__co_each_alive(goc_runtime *rt, void (*fn)(goc_co *co));
/* The live coroutines now, in a malloc'd array (*n of them), oldest
 * struct first; NULL when out of memory. The structs stay valid for the
 * run, but each may exit (and be reused) at any time after. */
goc_co **goc__co_snapshot(goc_runtime *rt, size_t *n);

/* topo.c */
struct goc_topo;
int  goc__topo_open(struct goc_topo **out);
void goc__topo_close(struct goc_topo *t);
int  goc__topo_cores(struct goc_topo *t);
/* Decide, before any worker starts, how nworkers are placed (topo.c):
 * pinned one per core when pin is set and they fit, else not bound.
 * 0 or GOC_ENOMEM. */
int  goc__topo_plan(struct goc_topo *t, int nworkers, int pin);
int  goc__topo_pinned(struct goc_topo *t);
/* The calling thread is worker `worker`: bind it per the plan (no-op when
 * not pinned). */
int  goc__topo_bind_thread(struct goc_topo *t, int worker);
/* Write the nworkers - 1 other workers into out in the order worker self
 * steals from them: nearest in the hwloc tree first while pinned, index
 * distance otherwise. Returns how many. */
int  goc__topo_victims(struct goc_topo *t, int nworkers, int self, int *out);
void goc__topo_save_binding(struct goc_topo *t);
void goc__topo_restore_binding(struct goc_topo *t);

/* stats.c: schedtrace's line (the monitor prints it) */
void goc__schedtrace_print(goc_runtime *rt, int64_t now);
/* stack.c: bytes of stack slabs mapped, and of those resident (mincore) */
void goc__stack_usage(goc_stack_pool *p, uint64_t *reserved, uint64_t *committed);

/* dump.c */
/* A worker that set co->on_cpu while a dump runs: wait until the dump has
 * let go of co's stack (claim in sched.c; the fast path is one load). */
void goc__dump_wait_unpinned(goc_co *co);
/* The dump the SIGQUIT handler asked for, if any (the monitor, each sample). */
void goc__dump_poll(goc_runtime *rt);
/* Install the SIGQUIT handler if SIGQUIT has its default disposition;
 * restore it at the end of the run. */
void goc__dump_signal_install(void);
void goc__dump_signal_restore(void);

/* monitor.c */
int  goc__monitor_start(goc_runtime *rt);
void goc__monitor_stop(goc_runtime *rt);

#endif
