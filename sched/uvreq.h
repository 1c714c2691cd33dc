/*
 * uvreq.h - a coroutine's request on its worker's libuv loop (files, DNS,
 * goc_to_thread: the thread-pool calls in io/).
 *
 * The one way above sched/ to wait for libuv: goc__uvreq_begin, submit
 * the request on goc__uvreq_loop, goc__uvreq_park; the request's callback
 * calls goc__uvreq_done. The request lives on the caller's stack, so the
 * wait is "held" (goc__hold_begin): a cancel cannot end it, only the
 * callback does; callers report a cancel that came meanwhile where the
 * API says so. The callback runs on the worker that submitted (a libuv
 * request belongs to one loop), and only after the caller has parked,
 * because that loop runs only once the caller has switched away.
 */
#ifndef GOC_UVREQ_H
#define GOC_UVREQ_H

#include <uv.h>

#include "park.h"

typedef struct goc_uvreq {
    goc_co *co;
    goc_worker *w;                /* whose loop completes the request */
} goc_uvreq;

/* Before submitting: 0, or GOC_EPERM outside a coroutine. */
int goc__uvreq_begin(goc_uvreq *r);
uv_loop_t *goc__uvreq_loop(goc_uvreq *r);
/* After submitting: park until the callback's goc__uvreq_done. */
void goc__uvreq_park(goc_uvreq *r, const char *what);
void goc__uvreq_done(goc_uvreq *r);

#endif /* GOC_UVREQ_H */
