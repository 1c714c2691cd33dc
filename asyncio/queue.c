/*
 * queue.c - goc_queue (asyncio.Queue).
 *
 * Owns: a queue's ring buffer (grown on demand, up to maxsize elements;
 * unbounded when maxsize is 0), its queues of parked getters, putters and
 * joiners, and the put / get / task_done counters. Waiters (qwaiter.h)
 * live on the parked coroutine's stack.
 *
 * Exactly once, as in chan.c: whoever completes a parked operation first
 * takes its waiter off the queue and claims its coroutine (goc__claim);
 * only then does it move the value (into a getter's buffer, or out of a
 * putter's) and set the waiter's status. A waiter whose claim fails was
 * already woken by its timeout or a cancel: nothing moved for it, and the
 * value goes to the next waiter or the buffer. So a value is never lost
 * or delivered twice, whatever races a put or a get.
 *
 * Invariants (under the lock):
 *   - getters wait only while the buffer is empty, putters only while it
 *     is full (len == maxsize > 0); a put hands its value straight to the
 *     first claimable getter, a get refills the buffer from the first
 *     claimable putter, so FIFO order holds across both;
 *   - unfinished = elements put - task_done calls; undone = elements
 *     gotten - task_done calls (>= 0: task_done refuses to go below);
 *   - nparked counts parked operations from the moment they queue until
 *     their waker claims them or they take themselves off; goc_*_free
 *     refuses while it is non-zero, so nothing is freed under a waiter.
 *
 * Locking: one spinlock per object guards all of it. Claimed coroutines
 * are made runnable after the lock is released; once claimed, a waiter
 * never touches the object again, and a self-woken one touches it only
 * under the lock, to take itself off and uncount itself.
 */
#include <stdlib.h>
#include <string.h>

#include "qwaiter.h"

/* --------------------------------------------------------------- queue */

struct goc_queue {
    goc_spin lock;
    size_t esize, maxsize;        /* maxsize 0: unbounded */
    char *buf;
    size_t cap, head, len;        /* ring of cap slots, len used from head */
    int closed;
    uint64_t unfinished;          /* put and not yet task_done */
    uint64_t undone;              /* gotten and not yet task_done */
    size_t nparked;
    goc_waitq getters, putters, joiners;
};

goc_queue *goc_queue_new(size_t elem_size, size_t maxsize)
{
    if (maxsize && elem_size && maxsize > SIZE_MAX / elem_size)
        return NULL;
    goc_queue *q = calloc(1, sizeof *q);
    if (q) {
        goc__spin_init(&q->lock, GOC_RANK_SYNC);
        q->esize = elem_size;
        q->maxsize = maxsize;
    }
    return q;
}

static void *qslot(goc_queue *q, size_t i)
{
    return q->buf + ((q->head + i) % q->cap) * q->esize;
}

static void copy_elem(goc_queue *q, void *dst, const void *src)
{
    if (q->esize && dst && src)
        memcpy(dst, src, q->esize);
}

/* Room for one more element: 0 or GOC_ENOMEM. */
static int grow(goc_queue *q)
{
    if (q->len < q->cap)
        return 0;
    size_t cap = q->cap ? q->cap * 2 : 8;
    if (q->maxsize && cap > q->maxsize)
        cap = q->maxsize;
    if (cap <= q->cap || (q->esize && cap > SIZE_MAX / q->esize))
        return GOC_ENOMEM;
    char *nb = NULL;
    if (q->esize) {
        nb = malloc(cap * q->esize);
        if (!nb)
            return GOC_ENOMEM;
        for (size_t i = 0; i < q->len; i++)
            memcpy(nb + i * q->esize, qslot(q, i), q->esize);
    }
    free(q->buf);
    q->buf = nb;
    q->cap = cap;
    q->head = 0;
    return 0;
}

static int push_back(goc_queue *q, const void *src)
{
    int rc = grow(q);
    if (rc == 0) {
        if (q->esize)
            memcpy(qslot(q, q->len), src, q->esize);
        q->len++;
    }
    return rc;
}

static void pop_front(goc_queue *q, void *dst)
{
    if (q->esize)
        copy_elem(q, dst, qslot(q, 0));
    q->head = q->cap ? (q->head + 1) % q->cap : 0;
    q->len--;
}

static int full(goc_queue *q)
{
    return q->maxsize && q->len >= q->maxsize;
}

int goc_queue_put(goc_queue *q, const void *elem, int64_t timeout_ns)
{
    if (!q || (q->esize && !elem))
        return GOC_EINVAL;
    int64_t deadline = goc__deadline_in(timeout_ns);
    goc__spin_lock(&q->lock);
    if (q->closed) {
        goc__spin_unlock(&q->lock);
        return GOC_ECLOSED;
    }
    goc_waiter *w = goc__waitq_claim(&q->getters);
    if (w) { /* a getter waits: the buffer is empty, hand it over */
        qwaiter *g = (qwaiter *)w;
        copy_elem(q, g->dst, elem);
        q->nparked--;
        q->unfinished++;
        q->undone++;
        goc__spin_unlock(&q->lock);
        goc__ready(g->w.co, 1);
        return 0;
    }
    if (!full(q)) {
        int rc = push_back(q, elem);
        if (rc == 0)
            q->unfinished++;
        goc__spin_unlock(&q->lock);
        return rc;
    }
    goc_co *self = goc__self();
    if (timeout_ns == 0 || !self) {
        goc__spin_unlock(&q->lock);
        return timeout_ns == 0 ? GOC_EAGAIN : GOC_EPERM;
    }
    qwaiter me = { .src = elem }; /* a get that claims us counts our element */
    return goc__qw_wait(&q->lock, &q->putters, &q->nparked, &me, self, deadline, "queue put", q);
}

int goc_queue_get(goc_queue *q, void *elem, int64_t timeout_ns)
{
    if (!q)
        return GOC_EINVAL;
    int64_t deadline = goc__deadline_in(timeout_ns);
    goc__spin_lock(&q->lock);
    if (q->len > 0) {
        pop_front(q, elem);
        q->undone++;
        goc_co *next = NULL;
        goc_waiter *w = goc__waitq_claim(&q->putters);
        if (w) { /* the buffer was full: a parked put fills the slot we freed */
            qwaiter *p = (qwaiter *)w;
            (void)push_back(q, p->src); /* cannot fail: a slot is free */
            q->unfinished++;
            q->nparked--;
            next = p->w.co;
        }
        goc__spin_unlock(&q->lock);
        if (next)
            goc__ready(next, 0);
        return 0;
    }
    if (q->closed) {
        goc__spin_unlock(&q->lock);
        return GOC_ECLOSED;
    }
    goc_co *self = goc__self();
    if (timeout_ns == 0 || !self) {
        goc__spin_unlock(&q->lock);
        return timeout_ns == 0 ? GOC_EAGAIN : GOC_EPERM;
    }
    qwaiter me = { .dst = elem };
    return goc__qw_wait(&q->lock, &q->getters, &q->nparked, &me, self, deadline, "queue get", q);
}

int goc_queue_task_done(goc_queue *q)
{
    if (!q)
        return GOC_EINVAL;
    goc_wakeq l = { 0 };
    goc__spin_lock(&q->lock);
    if (q->undone == 0) {
        goc__spin_unlock(&q->lock);
        return GOC_EINVAL;
    }
    q->undone--;
    if (--q->unfinished == 0)
        goc__qw_claim_all(&q->joiners, 0, &q->nparked, &l);
    goc__spin_unlock(&q->lock);
    goc__wakeq_ready(&l, 1);
    return 0;
}

int goc_queue_join(goc_queue *q, int64_t timeout_ns)
{
    if (!q)
        return GOC_EINVAL;
    int64_t deadline = goc__deadline_in(timeout_ns);
    goc__spin_lock(&q->lock);
    if (q->unfinished == 0) {
        goc__spin_unlock(&q->lock);
        return 0;
    }
    goc_co *self = goc__self();
    if (timeout_ns == 0 || !self) {
        goc__spin_unlock(&q->lock);
        return timeout_ns == 0 ? GOC_EAGAIN : GOC_EPERM;
    }
    qwaiter me = { 0 };
    return goc__qw_wait(&q->lock, &q->joiners, &q->nparked, &me, self, deadline, "queue join", q);
}

int goc_queue_close(goc_queue *q)
{
    if (!q)
        return GOC_EINVAL;
    goc_wakeq l = { 0 };
    goc__spin_lock(&q->lock);
    if (q->closed) {
        goc__spin_unlock(&q->lock);
        return GOC_ECLOSED;
    }
    q->closed = 1;
    goc__qw_claim_all(&q->getters, GOC_ECLOSED, &q->nparked, &l); /* the buffer is empty */
    goc__qw_claim_all(&q->putters, GOC_ECLOSED, &q->nparked, &l); /* their values stay out */
    goc__spin_unlock(&q->lock);
    goc__wakeq_ready(&l, 1);
    return 0;
}

size_t goc_queue_len(goc_queue *q)
{
    if (!q)
        return 0;
    goc__spin_lock(&q->lock);
    size_t n = q->len;
    goc__spin_unlock(&q->lock);
    return n;
}

int goc_queue_free(goc_queue *q)
{
    if (!q)
        return GOC_EINVAL;
    goc__spin_lock(&q->lock);
    int busy = q->nparked > 0;
    goc__spin_unlock(&q->lock);
    if (busy)
        return GOC_EBUSY;
    free(q->buf);
    free(q);
    return 0;
}
