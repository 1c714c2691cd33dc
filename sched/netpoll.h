/*
 * netpoll.h - waiting for file descriptors on the workers' libuv loops
 * (internal; see netpoll.c).
 */
#ifndef GOC_NETPOLL_H
#define GOC_NETPOLL_H

#include "runtime.h"

typedef struct goc_pollfd_handle goc_pollfd_handle;

/* A non-blocking fd that coroutines can wait on. Embed it first in the
 * object that owns the fd: the last reference frees that object. */
typedef struct goc_pollfd {
    int fd;
    goc_runtime *rt;              /* the runtime whose workers hold its handles */
    goc_spin lock;                /* guards closed, rq, wq, handles[] */
    int closed;
    goc_waitq rq, wq;             /* coroutines waiting to read / to write */
    int nhandles;                 /* entries in handles: the runtime's workers */
    goc_pollfd_handle **handles;  /* one per worker that has waited, else NULL */
    _Atomic int refs;             /* owner + running calls + open handles */
} goc_pollfd;

/* Set up pfd (the caller allocated it, zeroed, with malloc) to own fd:
 * one reference, the owner's. 0, GOC_EPERM (not on a worker) or
 * GOC_ENOMEM; fd is not closed on failure. */
int  goc__pollfd_init(goc_pollfd *pfd, int fd);
void goc__pollfd_ref(goc_pollfd *pfd);
/* Drop a reference; the last one closes fd and frees pfd. */
void goc__pollfd_unref(goc_pollfd *pfd);

/* Park the calling coroutine until fd may be ready for dir (UV_READABLE
 * or UV_WRITABLE): 0 (retry the system call; readiness can be spurious),
 * GOC_ETIMEDOUT once goc_now() >= deadline (INT64_MAX: none),
 * GOC_ECANCELED, GOC_ECLOSED (goc__pollfd_close), GOC_ENOMEM, GOC_EPERM. */
int goc__pollfd_wait(goc_pollfd *pfd, int dir, int64_t deadline);

/* Close: wake every waiter with GOC_ECLOSED, close the per-worker libuv
 * handles (on their own threads) and drop the owner's reference. */
void goc__pollfd_close(goc_pollfd *pfd);

/* Timeout (ns; < 0 none, 0 do not wait) to a deadline for
 * goc__pollfd_wait; 0 gives 0 and callers return GOC_EAGAIN for it. */
int64_t goc__io_deadline(int64_t timeout_ns);

#endif /* GOC_NETPOLL_H */
