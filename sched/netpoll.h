/*
 * netpoll.h - coroutines waiting for sockets (internal): the pollfd and
 * its waiters (netpoll.c registers, harvests and closes; pollwait.c
 * waits). io/tcp.c uses it; it needs no more of the scheduler than
 * park.h.
 */
#ifndef GOC_NETPOLL_H
#define GOC_NETPOLL_H

#include "park.h"

enum { GOC_IO_READ = 0, GOC_IO_WRITE = 1 };

/* A non-blocking fd registered with the runtime's netpoller. Memory is
 * recycled, not freed, until goc_run returns. */
typedef struct goc_pollfd {
    goc_spin lock;                /* guards everything below but refs */
    int fd;
    struct goc_netpoll *np;       /* its runtime's netpoller (free list) */
    int closed;
    int ready[2];                 /* an edge came with nobody waiting */
    goc_waitq waiters[2];         /* parked readers / writers */
    _Atomic int refs;             /* owner + running calls; the last closes fd */
    struct goc_pollfd *next_all;  /* every pollfd of the runtime (teardown) */
    struct goc_pollfd *next_free;
} goc_pollfd;

/* A parked reader or writer, on the waiting coroutine's stack. */
typedef struct io_waiter {
    goc_waiter w;
    int closed;                   /* set by the claimer: woken by a close */
} io_waiter;

/* Register fd (non-blocking) with the netpoller; it is closed when the
 * last reference goes. NULL and *err (GOC_EPERM outside a worker,
 * GOC_ENOMEM, -errno); fd is not closed on failure. */
goc_pollfd *goc__pollfd_open(int fd, int *err);
void goc__pollfd_ref(goc_pollfd *pfd);
void goc__pollfd_unref(goc_pollfd *pfd);

/* Park the calling coroutine until fd may be ready for dir: 0 (retry the
 * system call; readiness can be stale), GOC_EAGAIN for deadline 0,
 * GOC_ETIMEDOUT once goc_now() >= deadline (INT64_MAX: none),
 * GOC_ECANCELED, GOC_ECLOSED (goc__pollfd_close), GOC_EPERM. */
int goc__pollfd_wait(goc_pollfd *pfd, int dir, int64_t deadline); /* pollwait.c */

/* Wake every waiter with GOC_ECLOSED and drop the owner's reference. */
void goc__pollfd_close(goc_pollfd *pfd);


#endif /* GOC_NETPOLL_H */
