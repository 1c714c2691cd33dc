/*
 * pollwait.c - a coroutine waiting on a socket: goc__pollfd_wait, the
 * one call io/tcp.c makes when a system call would block.
 *
 * Owns nothing: the waiter (io_waiter, netpoll.h) lives on the waiting
 * coroutine's stack, queued on its pollfd until an edge (netpoll.c's
 * harvest), a close, the deadline or a cancel ends the wait. A readiness
 * edge that came with nobody waiting is remembered on the pollfd and
 * consumed here: the caller retries its system call at once.
 *
 * Invariants: while parked the wait counts in rt->nfd_waiting (busy
 * workers keep polling the netpoller, and the deadlock check knows a
 * socket may still wake it), from before the pollfd lock is released.
 *
 * Locking: pfd->lock, as netpoll.c says.
 */
#include "netpoll.h"
#include "runtime.h"

/* pfd->lock held and the park begun: wait for an edge, the deadline, a
 * close or a cancel (the lock is released on return). Counted in nfd_waiting
 * from before the lock is released, so the deadlock check never finds
 * this coroutine parked and uncounted. */
static int park_for_edge(goc_pollfd *pfd, int dir, io_waiter *me, int64_t deadline)
{
    goc_runtime *rt = goc__worker()->rt;
    atomic_fetch_add_explicit(&rt->nfd_waiting, 1, memory_order_relaxed);
    int reason = goc__waitq_park(&pfd->waiters[dir], &me->w, &pfd->lock, deadline);
    atomic_fetch_sub(&rt->nfd_waiting, 1); /* seq_cst: see deadlock.c */
    if (reason == GOC_WS_WOKEN)
        return me->closed ? GOC_ECLOSED : 0; /* our claimer took us off the queue */
    goc__spin_unlock(&pfd->lock); /* locked again by goc__waitq_park */
    return goc__ws_to_err(reason);
}

int goc__pollfd_wait(goc_pollfd *pfd, int dir, int64_t deadline)
{
    goc_co *self = goc__self();
    if (!self)
        return GOC_EPERM;
    if (deadline != 0 && deadline != INT64_MAX && goc_now() >= deadline)
        return GOC_ETIMEDOUT;
    io_waiter me = { .w = { .co = self } };
    int err = 0;
    goc__spin_lock(&pfd->lock);
    if (pfd->closed) {
        err = GOC_ECLOSED;
    } else if (pfd->ready[dir]) {
        pfd->ready[dir] = 0; /* an edge we missed: retry the call */
    } else if (deadline == 0) {
        err = GOC_EAGAIN;
    } else if ((err = goc__park_begin_on(self, dir == GOC_IO_READ ? "socket read" : "socket write",
                                             GOC_WAIT_FD, pfd, (int64_t)pfd->fd << 1 | (dir != GOC_IO_READ))) == 0) {
        return park_for_edge(pfd, dir, &me, deadline);
    }
    goc__spin_unlock(&pfd->lock);
    return err;
}
