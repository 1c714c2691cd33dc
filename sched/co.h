/*
 * co.h - the coroutine struct (never installed).
 *
 * Owns the layout of goc_co, which is also the goc_task handle. Structs
 * come from slabs owned by the runtime (copool.c) and are recycled, never
 * freed, until goc_run returns, so any pointer to one stays valid for the
 * whole run (shutdown and cancel rely on it). The hot half is two cache
 * lines (everything spawn and a switch touch; coro.c checks the size);
 * what only diagnostics read is in its cold half, goc_co_cold.
 *
 * Who writes what: ctx, cur-state fields and the cold half belong to the
 * coroutine itself (or its spawner before it is queued); wstate, on_cpu,
 * refs, join and pinned are shared and only ever changed atomically, by
 * the protocols in park.h and park.c (parking), coro.c (exit and join)
 * and dump.c (pinning).
 */
#ifndef GOC_CO_H
#define GOC_CO_H

#include <stdatomic.h>
#include <stdint.h>

#include "goc.h"
#include "ctx.h"
#include "san.h"
#include "spin.h"

/* life: where a coroutine struct is in its life (relaxed, for shutdown). */
enum { GOC_LIFE_FREE = 0, GOC_LIFE_ALIVE = 1, GOC_LIFE_DEAD = 2 };

enum { GOC_CO_TASK = 1, GOC_CO_MAIN = 2 };

/* join word of a task */
#define GOC_JOIN_NONE ((uintptr_t)0)
#define GOC_JOIN_DONE ((uintptr_t)1)
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
 * array beside its slab's structs (copool.c), one per struct, so that
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

#endif /* GOC_CO_H */
