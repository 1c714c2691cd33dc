/*
 * trace.h - the execution tracer's hooks (trace.c; internal, never installed).
 *
 * Every hook is called behind goc__tracing():
 *     if (goc__tracing())
 *         goc__trace_ready(co);
 * so with tracing off a hook costs one relaxed load of a global flag and
 * a branch predicted not taken; the hook functions are out of line.
 */
#ifndef GOC_TRACE_H
#define GOC_TRACE_H

#include <stdatomic.h>
#include <stdint.h>

#include "runtime.h"

/* 1 while a trace is being recorded; written only by goc_trace_start and
 * goc_trace_stop (trace.c), under its control lock. Hidden: one
 * PC-relative load, no GOT indirection, even in the -fPIC objects. */
extern _Atomic int goc__trace_on __attribute__((visibility("hidden")));

static inline int goc__tracing(void)
{
    return __builtin_expect(atomic_load_explicit(&goc__trace_on, memory_order_relaxed), 0);
}

/* w starts running co (a switch from its scheduler, or a direct switch,
 * which first closes the slice of the coroutine it replaces). */
void goc__trace_co_begin(goc_worker *w, goc_co *co);
/* co switched back to w's scheduler: close its run slice. */
void goc__trace_co_end(goc_worker *w, goc_co *co);
/* co is made runnable by the calling thread (a wake-up or a spawn): the
 * start of a flow arrow that ends where co next runs. */
void goc__trace_ready(goc_co *co);
/* w took n coroutines from victim's run queue (what: "steal" or
 * "steal next"). */
void goc__trace_steal(goc_worker *w, const goc_worker *victim, uint32_t n, const char *what);

/* A scheduler region on the calling thread's track (idle, timers,
 * netpoll, stack scavenge): begin returns its start time, or 0 if tracing
 * stopped meanwhile; end (call it for every non-zero begin) records it as
 * a slice named what, with one number in its args (argname: arg, argname
 * may be NULL), or nothing when what is NULL (it turned out empty).
 * Wake-ups inside a region start their flow arrows from it. */
int64_t goc__trace_region_begin(void);
void    goc__trace_region_end(int64_t begin, const char *what, const char *argname, int64_t arg);

/* goc_run: note the runtime's worker count (one track each) and start
 * the trace GOC_TRACE names, if set and nothing is being traced; returns
 * 1 if it started one, which goc__trace_runtime_end then stops. */
int  goc__trace_runtime_begin(const goc_runtime *rt);
void goc__trace_runtime_end(int started);

#endif
