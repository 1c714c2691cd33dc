/*
 * netpoll.c - the netpoller: coroutines waiting for sockets.
 *
 * Owns: the runtime's epoll set (np->epfd) and every goc_pollfd (a
 * non-blocking fd, the coroutines waiting to read or write it, and what
 * the poller saw while nobody waited).
 *
 * Design (Go's netpoller, hosted by libuv's loops): a socket is added to
 * one edge-triggered epoll set once, when it is opened, for reading and
 * writing. A call tries its system call first and parks only on EAGAIN.
 * One idle worker at a time, the poller (idle.c), watches the epoll set's
 * fd from its libuv loop (a uv_poll_t), so while it is blocked in uv_run
 * it wakes for sockets as it does for timers, thread-pool completions and
 * wake-ups; the other idle workers sleep on their own loops and are not
 * woken by socket events (Go: one M at a time in netpoll). When every
 * loop watched the set, one event woke every idle worker and all but one
 * found nothing. A busy worker harvests the set without blocking every 61
 * picks, and the monitor harvests when nobody did for a whole sample.
 * Harvested waiters become runnable on the harvesting worker, which wakes
 * another only for a batch (ready_harvested). No system call is made per
 * wait.
 *
 * Why not a uv_poll_t per socket on each loop: libuv polls are
 * level-triggered and per loop, so every wait after a coroutine moved to
 * another worker cost one or two epoll_ctl calls; measured on the echo
 * benchmark at 2 workers, that made the server use 7.0 us of CPU per
 * round trip against Go's 5.2.
 *
 * Invariants:
 *   - an edge that finds no waiter sets ready[dir]; the next waiter takes
 *     it instead of parking, so no edge is lost between a call's EAGAIN
 *     and its wait. Readiness can be stale (a waiter woken for it just
 *     retries its system call and waits again): that is what makes the
 *     recycling below safe;
 *   - a waiter is woken exactly once: whoever pops it (harvest, close)
 *     claims it with goc__claim; a timeout or cancel that won first leaves
 *     it queued, and the coroutine takes itself off;
 *   - the fd is closed only when the last reference goes (the owner's,
 *     dropped by close, and one per running call), so no call ever uses a
 *     closed or reused fd number;
 *   - goc_pollfd memory is recycled, never freed, until goc_run returns:
 *     an event harvested just before a close and handled after it finds
 *     valid memory, at worst a stale ready flag.
 *
 * Locking: pfd->lock (a spinlock) guards a pollfd's state; np->lock the
 * free list and the list of all pollfds. Never both at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "netpoll.h"
#include "trace.h"

#define HARVEST_MAX 128

typedef struct goc_netpoll {
    int epfd;
    goc_spin lock;
    goc_pollfd *all, *free;
} goc_netpoll;

/* ---------------------------------------------------------- the runtime */

int goc__netpoll_init(goc_runtime *rt)
{
    goc_netpoll *np = calloc(1, sizeof *np);
    if (!np)
        return GOC_ENOMEM;
    goc__spin_init(&np->lock, GOC_RANK_NETPOLL);
    np->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (np->epfd < 0) {
        free(np);
        return GOC_ENOMEM;
    }
    rt->np = np;
    return 0;
}

void goc__netpoll_free(goc_runtime *rt)
{
    goc_netpoll *np = rt->np;
    if (!np)
        return;
    for (goc_pollfd *p = np->all, *next; p; p = next) {
        next = p->next_all;
        if (atomic_load(&p->refs) > 0) /* never closed: goc_run owns what is left */
            close(p->fd);
        free(p);
    }
    close(np->epfd);
    free(np);
    rt->np = NULL;
}

static void on_epoll_ready(uv_poll_t *h, int status, int events)
{
    goc_worker *w = h->data;
    (void)status;
    (void)events;
    goc__netpoll_harvest(w->rt, w);
}

int goc__netpoll_worker_init(goc_worker *w)
{
    if (uv_poll_init(&w->loop, &w->np_poll, w->rt->np->epfd) != 0)
        return GOC_ENOMEM;
    w->np_poll.data = w;
    uv_unref((uv_handle_t *)&w->np_poll); /* sockets alone do not keep a loop alive */
    /* started by goc__netpoll_watch when w takes the poller role */
    atomic_store_explicit(&w->np_watching, 0, memory_order_relaxed);
    return 0;
}

void goc__netpoll_watch(goc_worker *w, int on)
{
    if (on == atomic_load_explicit(&w->np_watching, memory_order_relaxed))
        return;
    if (on)
        uv_poll_start(&w->np_poll, UV_READABLE, on_epoll_ready);
    else
        uv_poll_stop(&w->np_poll);
    atomic_store_explicit(&w->np_watching, on, memory_order_relaxed);
}

/* ------------------------------------------------------------- pollfds */

static goc_pollfd *pollfd_get(goc_netpoll *np)
{
    goc__spin_lock(&np->lock);
    goc_pollfd *p = np->free;
    if (p)
        np->free = p->next_free;
    goc__spin_unlock(&np->lock);
    if (p)
        return p;
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    goc__spin_init(&p->lock, GOC_RANK_PFD);
    goc__spin_lock(&np->lock);
    p->next_all = np->all;
    np->all = p;
    goc__spin_unlock(&np->lock);
    return p;
}

static void pollfd_put(goc_netpoll *np, goc_pollfd *p)
{
    goc__spin_lock(&np->lock);
    p->next_free = np->free;
    np->free = p;
    goc__spin_unlock(&np->lock);
}

goc_pollfd *goc__pollfd_open(int fd, int *err)
{
    goc_worker *w = goc__worker();
    if (!w) {
        *err = GOC_EPERM;
        return NULL;
    }
    goc_netpoll *np = w->rt->np;
    goc_pollfd *p = pollfd_get(np);
    if (!p) {
        *err = GOC_ENOMEM;
        return NULL;
    }
    goc__spin_lock(&p->lock); /* a stale harvester may look at it now */
    p->fd = fd;
    p->np = np;
    p->closed = 0;
    p->ready[GOC_IO_READ] = p->ready[GOC_IO_WRITE] = 0;
    goc__spin_unlock(&p->lock);
    atomic_store_explicit(&p->refs, 1, memory_order_release);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = p };
    if (epoll_ctl(np->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        *err = -errno;
        atomic_store(&p->refs, 0);
        pollfd_put(np, p);
        return NULL;
    }
    return p;
}

void goc__pollfd_ref(goc_pollfd *pfd)
{
    atomic_fetch_add_explicit(&pfd->refs, 1, memory_order_relaxed);
}

void goc__pollfd_unref(goc_pollfd *pfd)
{
    if (atomic_fetch_sub_explicit(&pfd->refs, 1, memory_order_acq_rel) != 1)
        return;
    close(pfd->fd); /* leaves the epoll set with it */
    pollfd_put(pfd->np, pfd);
}

/* --------------------------------------------------------------- harvest */

/* An edge for dir: wake every waiter (each retries its call), or remember
 * it for the next one. Called with pfd->lock held; claimed coroutines are
 * added to *wake, to be made runnable after unlocking. */
static void edge_locked(goc_pollfd *pfd, int dir, goc_wakeq *wake)
{
    goc_waiter *w;
    int woke = 0;
    while ((w = goc__waitq_claim(&pfd->waiters[dir]))) {
        goc__wakeq_add(wake, w->co);
        woke = 1;
    }
    if (!woke)
        pfd->ready[dir] = 1;
}

/* Harvested waiters join w's ring without a wake-up each: the harvester
 * runs them itself, and another worker is woken only for a backlog (at 2
 * workers, a wake-up per socket event more than doubled the echo server's
 * CPU per round trip and halved its throughput). */
static int ready_harvested(goc_runtime *rt, goc_worker *w, goc_wakeq *wake)
{
    int n = 0, woke = 0;
    goc_co *co;
    if (!w) { /* the monitor: to the global queue, counted in rt->xstats */
        while ((co = goc__wakeq_pop(wake))) {
            woke += goc__enqueue_global(rt, co);
            n++;
        }
        atomic_fetch_add_explicit(&rt->xstats.netpoll_polls, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&rt->xstats.netpoll_events, (uint64_t)n, memory_order_relaxed);
        atomic_fetch_add_explicit(&rt->xstats.netpoll_wakeups, (uint64_t)woke,
                                  memory_order_relaxed);
        return n;
    }
    while ((co = goc__wakeq_pop(wake))) {
        goc__enqueue_quiet(w, co);
        n++;
    }
    woke = goc__share_backlog(w);
    goc__count(&w->stats.netpoll_events, (uint64_t)n);
    goc__count(&w->stats.netpoll_wakeups, (uint64_t)woke);
    return n;
}

int goc__netpoll_harvest(goc_runtime *rt, goc_worker *w)
{
    struct epoll_event evs[HARVEST_MAX];
    int64_t since = goc__tracing() ? goc__trace_region_begin() : 0;
    int n = epoll_wait(rt->np->epfd, evs, HARVEST_MAX, 0);
    goc_wakeq wake = { 0 };
    for (int i = 0; i < n; i++) {
        goc_pollfd *pfd = evs[i].data.ptr;
        uint32_t e = evs[i].events;
        goc__spin_lock(&pfd->lock);
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            edge_locked(pfd, GOC_IO_READ, &wake);
        if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
            edge_locked(pfd, GOC_IO_WRITE, &wake);
        goc__spin_unlock(&pfd->lock);
    }
    if (w)
        atomic_store_explicit(&w->nharvest, atomic_load_explicit(&w->nharvest, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    int ready = ready_harvested(rt, w, &wake);
    goc__trace_region_end(since, ready ? "netpoll" : NULL, "ready", ready);
    return ready;
}

/* ----------------------------------------------------------------- close */

void goc__pollfd_close(goc_pollfd *pfd)
{
    goc_wakeq wake = { 0 };
    goc__spin_lock(&pfd->lock);
    if (pfd->closed) {
        goc__spin_unlock(&pfd->lock);
        return;
    }
    pfd->closed = 1;
    for (int dir = 0; dir < 2; dir++) {
        goc_waiter *w;
        while ((w = goc__waitq_claim(&pfd->waiters[dir]))) {
            ((io_waiter *)w)->closed = 1;
            goc__wakeq_add(&wake, w->co);
        }
    }
    goc__spin_unlock(&pfd->lock);
    goc__wakeq_ready(&wake, 0);
    goc__pollfd_unref(pfd);
}
