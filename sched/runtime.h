/*
 * runtime.h - the scheduler's private layouts (never installed; included
 * only by sched/ files: the layers above use park.h).
 *
 * The pieces and who owns what:
 *   goc_worker   one OS thread: its run queue (ring + next slot), its
 *                libuv loop, its timer heap, its caches of stacks and
 *                coroutine structs. Only the owner thread touches the loop
 *                and the caches; the ring is shared with thieves through
 *                atomics; the timer heap has a lock because a coroutine
 *                cleaning up a cancelled sleep may run on another worker.
 *   goc_runtime  the running instance (one at a time, owned by goc_run):
 *                workers, the global inject queue, idle bookkeeping,
 *                pools, shutdown state.
 * Coroutines (co.h) and parking (park.h) are described where they are
 * declared.
 *
 * The files of sched/ form layers, each calling only the ones below it
 * (the ctest "layers" checks it on the object files; the table is in
 * cmake/check-layers.cmake), bottom first:
 *   base        current.c (this thread's worker, the running runtime, the
 *               clock), the context switch, spin.c, check.c, chaos.c,
 *               topo.c, guard.c, error.c
 *   diagnostics names.c, then trace.c: sinks the layers above report to;
 *               beside names.c, solo.c (one worker without locked
 *               instructions: the other threads' side, solo.h)
 *   memory      stack.c, overflow.c, copool.c
 *   queues      timer.c (heaps), runq.c (run queues, wake-ups), wake.c
 *               (the waker's side of parking), coro.c (a coroutine's
 *               life), netpoll.c (the epoll set and its harvest)
 *   the loop    deadlock.c, idle.c (stealing, sleeping), sched.c
 *   parking     park.c, then what parks: coapi.c (the coroutine API),
 *               uvreq.c (libuv requests), pollwait.c (sockets)
 *   the run     dump.c, stats.c, monitor.c, runtime.c (goc_run)
 * Above sched/: io/ and chan/, then asyncio/, through park.h (io/ also
 * netpoll.h and uvreq.h). A lower layer that must reach a higher one
 * does it through a function pointer the higher one handed down (a
 * timer's fire, a watch's fn, a coroutine's body).
 */
#ifndef GOC_RUNTIME_H
#define GOC_RUNTIME_H

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "park.h"

#define GOC_RING_SIZE 256u          /* per-worker run queue, as in Go */
#define GOC_GLOBAL_CHECK_TICKS 61   /* look at the global queue every 61 picks */
#define GOC_NEXT_STREAK_MAX 3       /* runs in a row from the next slot */

/* What a coroutine asks its worker's scheduler when it switches back. */
enum { GOC_REQ_NONE = 0, GOC_REQ_YIELD, GOC_REQ_PARK, GOC_REQ_EXIT };

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

/* ---------------------------------------------------------------- timers */

/* A worker's timer heap (timer.c). */
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

int  goc__timers_run(goc_worker *w, int64_t now); /* fire expired; returns count */
int  goc__timers_run_due(goc_worker *w);        /* the same if the earliest is due */
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
/* The main coroutine's stack: its own guarded mapping of at least the
 * default size, so main can use stdio even when coroutines are tiny. */
char *goc__stack_get_own(goc_stack_pool *p, size_t usable);
void  goc__stack_put_own(goc_stack_pool *p);
size_t goc__page_size(void);             /* sysconf's, read once (guard.c) */

/* overflow.c: guards, the overflow check, the SIGSEGV handler. */
enum { GOC_GUARD_BY_MADVISE = 1, GOC_GUARD_BY_MPROTECT = 2, GOC_GUARD_NONE = 3 };
int   goc__stack_guard_mode(void);       /* GOC_GUARD_*, probed on first call */
int   goc__stack_put_guard(char *slot);  /* guard a new slot's first page; 1 if done */
/* Abort with a message if co overflowed the stack it runs on (saved sp or
 * canary). Called by the scheduler each time co switches back. */
void  goc__stack_check(const goc_stack_pool *p, const goc_co *co, int worker);
#define GOC_STACK_CANARY_BYTES 64 /* below a slot's usable stack */
#define GOC_STACK_CANARY_WORD 0xC0C0A5A5DEADBEEFull /* a small slot's canary words */
/* The usable stack of co: [*lo, *lo + *size), canary excluded. Inline:
 * the check below reads it at every switch of an unguarded stack. */
static inline void goc__stack_bounds(const goc_stack_pool *p, const goc_co *co, char **lo,
                                     size_t *size)
{
    if (co->stack_kind == GOC_STACK_OWN) {
        *lo = p->own.base + goc__page_size();
        *size = p->own.len - goc__page_size();
        return;
    }
    *lo = co->stack + p->lo_off + GOC_STACK_CANARY_BYTES;
    *size = p->slot - p->lo_off - GOC_STACK_CANARY_BYTES;
}
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
    goc_co *free_head;            /* stack of batches (copool.c), the most recently freed on top */
    size_t free_n;
    size_t total;                 /* structs carved, all slabs */
} goc_co_pool;

/* copool.c. init adopts the structs the previous goc_run left in the
 * reserve; destroy (all workers gone) trims to the bound and leaves them
 * there. */
void goc__co_pool_init(goc_co_pool *p);
void goc__co_pool_destroy(goc_co_pool *p);
void goc__co_cache_flush(goc_co_pool *p, goc_co_cache *c); /* worker_destroy */
/* fn(co) for every live coroutine, pool lock held (shutdown, diagnostics). */
void goc__co_each_alive(goc_runtime *rt, void (*fn)(goc_co *co));
/* The live coroutines now, in a malloc'd array (*n of them), oldest
 * struct first; NULL when out of memory. The structs stay valid for the
 * run, but each may exit (and be reused) at any time after. */
goc_co **goc__co_snapshot(goc_runtime *rt, size_t *n);

/* A worker's cache holds up to GOC_CO_CACHE_MAX structs; structs move
 * between it and the pool's free list GOC_CO_CACHE_MOVE at a time. */
#define GOC_CO_CACHE_MAX 64
#define GOC_CO_CACHE_MOVE 32
/* Fill an empty cache (goc__co_new); 0 or GOC_ENOMEM. */
int  goc__co_pool_refill(goc_co_pool *p, goc_co_cache *c);
/* Push a NULL-terminated chain of n structs on the free list as a batch. */
void goc__co_free_list_push(goc_co_pool *p, goc_co *first, uint32_t n);
/* A full cache keeps its warmest structs and gives the rest as a batch. */
void goc__co_cache_spill(goc_co_pool *p, goc_co_cache *c);

/* A struct back to the pool (goc__co_release, on every exit: inline).
 * c: the releasing worker's cache, NULL when not on one of this run's
 * workers. */
static inline void goc__co_pool_put(goc_co_pool *p, goc_co_cache *c, goc_co *co)
{
    if (!c) { /* not on a worker: straight to the global list */
        co->next = NULL;
        goc__co_free_list_push(p, co, 1);
        return;
    }
    co->next = c->head;
    c->head = co;
    if (++c->n > GOC_CO_CACHE_MAX)
        goc__co_cache_spill(p, c);
}

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
    goc_co *cur;                  /* coroutine running now, or NULL: first (goc__self) */
    int solo;                     /* the only worker, in solo mode (solo.h): second */
    int index;
    goc_runtime *rt;
    goc_co *prev;                 /* left by a direct switch; released by the next */
    goc_co *handoff;              /* picked by a coroutine, for the scheduler to run */
    goc_ctx sched_ctx;            /* the scheduler loop, on the thread's stack */
    int req;                      /* GOC_REQ_* set by the running coroutine */
    uint32_t tick;
    uint32_t next_streak;
    uint32_t rng;
    uint64_t chaos_rng;           /* GOC_CHAOS: this worker's decisions (chaos.c) */
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
_Static_assert(offsetof(struct goc_worker, cur) == 0,
               "goc__self (park.h) reads a worker's first member");
_Static_assert(offsetof(struct goc_worker, solo) == offsetof(goc_worker_head, solo),
               "goc__shared_begin (solo.h) reads a worker's second member");


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
     * snapshot spans a change of it is void (deadlock.c). */
    _Atomic uint64_t unblocks;
    /* The one worker whose loop watches the netpoller while it idles (Go:
     * one M at a time blocks in netpoll), or -1. Sticky: it stays with its
     * holder across busy spells; the monitor takes it back from a holder
     * that neither idles nor harvests (idle.c, monitor.c). */
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

/* The running runtime: written only by goc_run (runtime.c), before its
 * workers start and after they have stopped; read by anyone. */
extern goc_runtime *goc__running_rt;

/* sched.c */
void goc__worker_loop(goc_worker *w);   /* until the runtime stops */
void goc__stop_all(goc_runtime *rt);    /* every worker's loop returns */
int  goc__give_stack(goc_worker *w, goc_co *co);
void goc__switch_to_sched(goc_worker *w, goc_co *co, int req);
void goc__switch_away(goc_worker *w, goc_co *co, int req); /* YIELD or PARK */

/* idle.c: nothing local; steal or sleep. NULL once the runtime stops. */
goc_co *goc__find_work_slow(goc_worker *w);

/* runq.c (runq.h has the rest) */
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
void goc__co_body(goc_co *co);          /* runs the user function */
void goc__co_finish(goc_worker *w, goc_co *co);

/* wake.c: goc__cancel_co on every live coroutine (shutdown, deadlock) */
void goc__cancel_all(goc_runtime *rt);

/* deadlock.c */
/* Every coroutine spawned has exited (three reads that agree). */
int  goc__all_exited(goc_runtime *rt);
/* Called by a worker about to block; 1 if it found a deadlock, reported
 * it and cancelled everyone (there is work again: the cancelled
 * coroutines). */
int  goc__deadlock_check(goc_worker *w);

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