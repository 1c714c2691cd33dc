/*
 * netpoll.c - the netpoller: coroutines waiting for file descriptors on
 * their workers' libuv loops; and the workers' mailboxes.
 *
 * Owns: goc_pollfd (a non-blocking fd, the coroutines waiting to read or
 * write it, and one uv_poll_t per worker that has waited on it), and each
 * worker's mailbox (goc__post).
 *
 * How a wait goes: a call tries its system call first; only on EAGAIN
 * does it park, queued on the fd's read or write queue and tagged with
 * the worker it runs on. That worker's uv_poll_t for the fd gets the
 * direction added to its interest (uv_poll_start; libuv issues the
 * epoll_ctl on its next poll). When the loop reports the fd ready, the
 * callback wakes one waiter of that worker per ready direction and keeps
 * the interest, so the woken coroutine's next wait costs no system call
 * (Go's netpoller gets the same from edge-triggered epoll; libuv's polls
 * are level-triggered). A direction reported ready with nobody waiting is
 * dropped from the interest, or the loop would spin.
 *
 * Invariants:
 *   - a per-worker handle is touched only by its worker's thread: created
 *     and started by a coroutine running there, stopped by its callback,
 *     closed there (other threads post the close to that worker);
 *   - a waiter is woken exactly once: whoever pops it (callback, close)
 *     claims its coroutine with goc__claim; a timeout or cancel that won
 *     first leaves it queued and the coroutine takes itself off;
 *   - the fd is closed, and pfd freed, only when the last reference goes:
 *     the owner's (dropped by close), each running call's, each handle's
 *     until its close callback. So no loop ever polls a closed fd number
 *     (libuv aborts on that) and no call sees pfd freed under it.
 *
 * Locking: pfd->lock (a spinlock) guards closed, the queues and the
 * handles array; libuv calls are never made under it. A worker's
 * post_lock guards its mailbox.
 */
#include <stdlib.h>
#include <unistd.h>

#include "netpoll.h"

struct goc_pollfd_handle {
    uv_poll_t uv;
    goc_pollfd *pfd;
    int worker;                   /* the worker whose loop it is on */
    int events;                   /* interest started now (owner thread only) */
    goc_post close_post;          /* for a close asked by another thread */
};

/* A parked reader or writer, on the waiting coroutine's stack. */
typedef struct io_waiter {
    goc_waiter w;
    int worker;                   /* the worker whose handle it waits through */
    int closed;                   /* set by the claimer: woken by a close */
} io_waiter;

/* ------------------------------------------------------------- mailbox */

void goc__post(goc_worker *w, goc_post *p)
{
    p->next = NULL;
    goc__spin_lock(&w->post_lock);
    if (w->post_tail)
        w->post_tail->next = p;
    else
        w->post_head = p;
    w->post_tail = p;
    goc__spin_unlock(&w->post_lock);
    uv_async_send(&w->wake);
}

void goc__run_posts(goc_worker *w)
{
    goc__spin_lock(&w->post_lock);
    goc_post *p = w->post_head;
    w->post_head = w->post_tail = NULL;
    goc__spin_unlock(&w->post_lock);
    while (p) {
        goc_post *next = p->next; /* fn may free p */
        p->fn(p);
        p = next;
    }
}

void goc__netpoll_poll(goc_worker *w)
{
    uv_run(&w->loop, UV_RUN_NOWAIT);
}

/* ------------------------------------------------------ references */

int goc__pollfd_init(goc_pollfd *pfd, int fd)
{
    goc_worker *w = goc__worker();
    if (!w)
        return GOC_EPERM;
    pfd->handles = calloc((size_t)w->rt->nworkers, sizeof *pfd->handles);
    if (!pfd->handles)
        return GOC_ENOMEM;
    pfd->fd = fd;
    pfd->rt = w->rt;
    pfd->nhandles = w->rt->nworkers;
    atomic_store_explicit(&pfd->refs, 1, memory_order_relaxed);
    return 0;
}

int64_t goc__io_deadline(int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return INT64_MAX;
    if (timeout_ns == 0)
        return 0;
    return goc__deadline(timeout_ns);
}

void goc__pollfd_ref(goc_pollfd *pfd)
{
    atomic_fetch_add_explicit(&pfd->refs, 1, memory_order_relaxed);
}

void goc__pollfd_unref(goc_pollfd *pfd)
{
    if (atomic_fetch_sub_explicit(&pfd->refs, 1, memory_order_acq_rel) != 1)
        return;
    close(pfd->fd);
    free(pfd->handles);
    free(pfd);
}

/* ------------------------------------------------------------ handles */

static void on_handle_closed(uv_handle_t *uh)
{
    goc_pollfd_handle *h = uh->data;
    goc_pollfd *pfd = h->pfd;
    free(h);
    goc__pollfd_unref(pfd);
}

static void close_handle(goc_pollfd_handle *h)
{
    uv_close((uv_handle_t *)&h->uv, on_handle_closed);
}

static void close_handle_posted(goc_post *p)
{
    goc_pollfd_handle *h = (goc_pollfd_handle *)((char *)p - offsetof(goc_pollfd_handle, close_post));
    close_handle(h);
}

/* Claim the first waiter in q that waits through `worker`; NULL if none.
 * Waiters already woken by a timeout or cancel are dropped on the way. */
static io_waiter *claim_one_of(goc_waitq *q, int worker)
{
    goc_waiter *w = q->head;
    while (w) {
        goc_waiter *next = w->next;
        io_waiter *iw = (io_waiter *)w;
        if (iw->worker == worker) {
            goc__waitq_remove(q, w);
            if (goc__claim(w->co, GOC_WS_WOKEN))
                return iw;
        }
        w = next;
    }
    return NULL;
}

/* Take interest in `events` on this worker's handle (owner thread). */
static void set_interest(goc_pollfd_handle *h, int events);

static void on_poll(uv_poll_t *uh, int status, int events)
{
    goc_pollfd_handle *h = uh->data;
    goc_pollfd *pfd = h->pfd;
    if (status < 0) /* an error on the fd: let every waiter retry its call and see it */
        events = UV_READABLE | UV_WRITABLE;
    io_waiter *reader = NULL, *writer = NULL;
    int keep = h->events;
    goc__spin_lock(&pfd->lock);
    if ((events & UV_READABLE) && (keep & UV_READABLE) &&
        !(reader = claim_one_of(&pfd->rq, h->worker)))
        keep &= ~UV_READABLE;
    if ((events & UV_WRITABLE) && (keep & UV_WRITABLE) &&
        !(writer = claim_one_of(&pfd->wq, h->worker)))
        keep &= ~UV_WRITABLE;
    goc__spin_unlock(&pfd->lock);
    if (reader)
        goc__ready(reader->w.co, 0);
    if (writer)
        goc__ready(writer->w.co, 0);
    set_interest(h, keep);
}

static void set_interest(goc_pollfd_handle *h, int events)
{
    if (events == h->events)
        return;
    h->events = events;
    if (events)
        uv_poll_start(&h->uv, events, on_poll);
    else
        uv_poll_stop(&h->uv);
}

/* This worker's handle for pfd, created on first use. NULL if pfd is
 * closed (*err GOC_ECLOSED) or on ENOMEM. */
static goc_pollfd_handle *handle_of(goc_pollfd *pfd, goc_worker *w, int *err)
{
    int i = w->index;
    if (i >= pfd->nhandles) {
        *err = GOC_EINVAL;
        return NULL;
    }
    goc__spin_lock(&pfd->lock);
    goc_pollfd_handle *h = pfd->handles[i];
    int closed = pfd->closed;
    goc__spin_unlock(&pfd->lock);
    if (h || closed) {
        *err = closed ? GOC_ECLOSED : 0;
        return closed ? NULL : h;
    }
    h = calloc(1, sizeof *h);
    if (!h || uv_poll_init_socket(&w->loop, &h->uv, pfd->fd) != 0) {
        free(h);
        *err = GOC_ENOMEM;
        return NULL;
    }
    h->uv.data = h;
    h->pfd = pfd;
    h->worker = i;
    h->close_post.fn = close_handle_posted;
    goc__pollfd_ref(pfd);
    goc__spin_lock(&pfd->lock);
    closed = pfd->closed;
    if (!closed)
        pfd->handles[i] = h; /* published: a close from now on closes it */
    goc__spin_unlock(&pfd->lock);
    if (closed) {
        close_handle(h);
        *err = GOC_ECLOSED;
        return NULL;
    }
    return h;
}

/* ----------------------------------------------------------------- wait */

static void wake_on_deadline(goc_timer *t)
{
    goc__wake(t->co, GOC_WS_TIMEDOUT);
}

int goc__pollfd_wait(goc_pollfd *pfd, int dir, int64_t deadline)
{
    goc_co *self = goc__self();
    if (!self)
        return GOC_EPERM;
    if (deadline == 0)
        return GOC_EAGAIN;
    if (deadline != INT64_MAX && goc_now() >= deadline)
        return GOC_ETIMEDOUT;
    goc_worker *w = goc__worker();
    goc_runtime *rt = w->rt;
    int err = 0;
    goc_pollfd_handle *h = handle_of(pfd, w, &err);
    if (!h)
        return err;

    goc_waitq *q = dir == UV_READABLE ? &pfd->rq : &pfd->wq;
    io_waiter me = { .w = { .co = self }, .worker = w->index };
    goc__spin_lock(&pfd->lock);
    if (pfd->closed) {
        goc__spin_unlock(&pfd->lock);
        return GOC_ECLOSED;
    }
    if ((err = goc__park_begin(self, dir == UV_READABLE ? "fd readable" : "fd writable"))) {
        goc__spin_unlock(&pfd->lock);
        return err;
    }
    goc__waitq_push(q, &me.w);
    goc__spin_unlock(&pfd->lock);
    /* Still on w's thread, with w's loop not running: nothing can report
     * the fd before we have parked. */
    set_interest(h, h->events | dir);
    atomic_fetch_add_explicit(&rt->nio_waiting, 1, memory_order_relaxed);
    goc_timer t = { .idx = GOC_TIMER_NONE, .fire = wake_on_deadline, .co = self };
    if (deadline != INT64_MAX) {
        t.when = deadline;
        goc__timer_add(w, &t);
    }
    int reason = goc__park(self);
    atomic_fetch_sub_explicit(&rt->nio_waiting, 1, memory_order_relaxed);
    if (deadline != INT64_MAX && reason != GOC_WS_TIMEDOUT)
        goc__timer_remove(&t);
    if (reason == GOC_WS_WOKEN)
        return me.closed ? GOC_ECLOSED : 0; /* our claimer took us off the queue */
    goc__spin_lock(&pfd->lock);
    goc__waitq_remove(q, &me.w);
    goc__spin_unlock(&pfd->lock);
    return goc__ws_to_err(reason);
}

/* ---------------------------------------------------------------- close */

void goc__pollfd_close(goc_pollfd *pfd)
{
    goc_co *wake = NULL;
    goc__spin_lock(&pfd->lock);
    if (pfd->closed) {
        goc__spin_unlock(&pfd->lock);
        return;
    }
    pfd->closed = 1;
    goc_waitq *queues[2] = { &pfd->rq, &pfd->wq };
    for (int q = 0; q < 2; q++) {
        goc_waiter *w;
        while ((w = goc__waitq_claim(queues[q]))) {
            ((io_waiter *)w)->closed = 1;
            w->co->next = wake; /* claimed, so parked: its link is free */
            wake = w->co;
        }
    }
    goc__spin_unlock(&pfd->lock);
    while (wake) {
        goc_co *next = wake->next;
        goc__ready(wake, 0);
        wake = next;
    }
    /* No handle is added once closed is set, so the array is stable. */
    goc_worker *self = goc__worker();
    for (int i = 0; i < pfd->nhandles; i++) {
        goc_pollfd_handle *h = pfd->handles[i];
        if (!h)
            continue;
        if (self && self->rt == pfd->rt && self->index == i)
            close_handle(h);
        else
            goc__post(&pfd->rt->workers[i], &h->close_post);
    }
    goc__pollfd_unref(pfd);
}

/* ------------------------------------------------------------- teardown */

static void close_leftover(uv_handle_t *uh, void *arg)
{
    goc_worker *w = arg;
    if (uh->type != UV_POLL || uh == (uv_handle_t *)&w->tfd_poll || uv_is_closing(uh))
        return;
    goc_pollfd_handle *h = uh->data;
    goc__spin_lock(&h->pfd->lock);
    h->pfd->handles[h->worker] = NULL; /* a close after goc_run has nothing to post */
    goc__spin_unlock(&h->pfd->lock);
    close_handle(h);
}

/* goc_run is ending: sockets nobody closed still have handles on this
 * loop. Close them, so the loop can close; their fds stay open until the
 * program closes the sockets (or exits). */
void goc__netpoll_teardown(goc_worker *w)
{
    uv_walk(&w->loop, close_leftover, w);
}
