/*
 * sync.c - goc_mutex and goc_sem: a coroutine mutex and a counting
 * semaphore.
 *
 * Owns: the lock state or permit count, and a FIFO queue of parked
 * waiters (goc_waiter on the waiter's stack).
 *
 * Hand-off: unlock (release) does not let the lock (permit) go free while
 * someone waits: it claims the longest waiter (goc__claim) and passes
 * ownership to it, so no waiter starves and a barging newcomer cannot
 * overtake the queue. A waiter whose claim fails (it was cancelled) is
 * skipped; a cancelled waiter that was not claimed takes itself off the
 * queue, so no permit or ownership is ever lost.
 *
 * Locking: each object's spinlock guards its state and queue. The claimed
 * waiter is made runnable after the spinlock is released, so once it runs
 * the object is no longer touched by the releaser (freeing it is safe).
 */
#include <stdlib.h>

#include "park.h"

struct goc_mutex {
    goc_spin lock;
    int locked;
    goc_waitq waiters;
};

struct goc_sem {
    goc_spin lock;
    int64_t permits;
    goc_waitq waiters;
};

/* Park on q (its object's lock held by the caller, released here). Returns
 * 0 once ownership was handed to us, or the error that woke us instead. */
static int wait_for_handoff(goc_spin *lock, goc_waitq *q, goc_co *self, const char *what,
                            const void *obj)
{
    if (goc__park_begin_on(self, what, GOC_WAIT_OTHER, obj, 0) != 0) {
        goc__spin_unlock(lock);
        return GOC_ECANCELED;
    }
    goc_waiter me = { .co = self };
    int reason = goc__waitq_park(q, &me, lock, INT64_MAX);
    if (reason != GOC_WS_WOKEN)
        goc__spin_unlock(lock); /* locked again by goc__waitq_park */
    return goc__ws_to_err(reason);
}

/* ----------------------------------------------------------------- mutex */

goc_mutex *goc_mutex_new(void)
{
    goc_mutex *m = calloc(1, sizeof(goc_mutex));
    if (m)
        goc__spin_init(&m->lock, GOC_RANK_SYNC);
    return m;
}

int goc_mutex_trylock(goc_mutex *m)
{
    if (!m)
        return GOC_EINVAL;
    goc__spin_lock(&m->lock);
    int ok = !m->locked;
    m->locked = 1;
    goc__spin_unlock(&m->lock);
    return ok ? 0 : GOC_EAGAIN;
}

int goc_mutex_lock(goc_mutex *m)
{
    if (!m)
        return GOC_EINVAL;
    goc__spin_lock(&m->lock);
    if (!m->locked) {
        m->locked = 1;
        goc__spin_unlock(&m->lock);
        return 0;
    }
    goc_co *self = goc__self();
    if (!self) {
        goc__spin_unlock(&m->lock);
        return GOC_EPERM;
    }
    return wait_for_handoff(&m->lock, &m->waiters, self, "mutex", m);
}

int goc_mutex_unlock(goc_mutex *m)
{
    if (!m)
        return GOC_EINVAL;
    goc__spin_lock(&m->lock);
    if (!m->locked) {
        goc__spin_unlock(&m->lock);
        return GOC_EPERM;
    }
    goc_waiter *w = goc__waitq_claim(&m->waiters);
    goc_co *next = w ? w->co : NULL;
    if (!next)
        m->locked = 0; /* else it stays locked: ownership moves to next */
    goc__spin_unlock(&m->lock);
    if (next)
        goc__ready(next, 0);
    return 0;
}

int goc_mutex_free(goc_mutex *m)
{
    if (!m)
        return GOC_EINVAL;
    goc__spin_lock(&m->lock);
    int busy = m->locked || m->waiters.head;
    goc__spin_unlock(&m->lock);
    if (busy)
        return GOC_EBUSY;
    free(m);
    return 0;
}

/* ------------------------------------------------------------- semaphore */

goc_sem *goc_sem_new(int64_t permits)
{
    if (permits < 0)
        return NULL;
    goc_sem *s = calloc(1, sizeof(goc_sem));
    if (s) {
        goc__spin_init(&s->lock, GOC_RANK_SYNC);
        s->permits = permits;
    }
    return s;
}

int goc_sem_tryacquire(goc_sem *s)
{
    if (!s)
        return GOC_EINVAL;
    goc__spin_lock(&s->lock);
    int ok = s->permits > 0 && !s->waiters.head;
    if (ok)
        s->permits--;
    goc__spin_unlock(&s->lock);
    return ok ? 0 : GOC_EAGAIN;
}

int goc_sem_acquire(goc_sem *s)
{
    if (!s)
        return GOC_EINVAL;
    goc__spin_lock(&s->lock);
    if (s->permits > 0 && !s->waiters.head) {
        s->permits--;
        goc__spin_unlock(&s->lock);
        return 0;
    }
    goc_co *self = goc__self();
    if (!self) {
        goc__spin_unlock(&s->lock);
        return GOC_EPERM;
    }
    return wait_for_handoff(&s->lock, &s->waiters, self, "semaphore", s);
}

int goc_sem_release(goc_sem *s)
{
    if (!s)
        return GOC_EINVAL;
    goc__spin_lock(&s->lock);
    goc_waiter *w = goc__waitq_claim(&s->waiters);
    goc_co *next = w ? w->co : NULL;
    if (!next) {
        if (s->permits == INT64_MAX) { /* more releases than can be counted */
            goc__spin_unlock(&s->lock);
            return GOC_EINVAL;
        }
        s->permits++; /* else the permit goes straight to next */
    }
    goc__spin_unlock(&s->lock);
    if (next)
        goc__ready(next, 0);
    return 0;
}

int64_t goc_sem_value(goc_sem *s)
{
    if (!s)
        return 0;
    goc__spin_lock(&s->lock);
    int64_t v = s->permits;
    goc__spin_unlock(&s->lock);
    return v;
}

int goc_sem_free(goc_sem *s)
{
    if (!s)
        return GOC_EINVAL;
    goc__spin_lock(&s->lock);
    int busy = s->waiters.head != NULL;
    goc__spin_unlock(&s->lock);
    if (busy)
        return GOC_EBUSY;
    free(s);
    return 0;
}
