/*
 * qwaiter.h - the waiter of asyncio/'s objects (queue, event): a wait
 * queue entry with a status word, and the two halves of its protocol.
 *
 * A qwaiter lives on its parked coroutine's stack. A waker claims it
 * (goc__waitq_claim), sets its status and makes its coroutine runnable
 * after unlocking; from then on the waiter never touches the object
 * again. *nparked counts waiters from the moment they queue until they
 * are claimed or take themselves off: an object refuses to be freed
 * while it is non-zero. All of it under the object's one spinlock.
 */
#ifndef GOC_QWAITER_H
#define GOC_QWAITER_H

#include "park.h"

typedef struct qwaiter {
    goc_waiter w;                 /* first: the wait queues link these */
    void *dst;                    /* get: where the value goes (may be NULL) */
    const void *src;              /* put: the value */
    int status;                   /* set by the claimer: 0 or GOC_ECLOSED */
} qwaiter;

/* Claim every waiter of q with the given status (close, set, join). */
static inline void goc__qw_claim_all(goc_waitq *q, int status, size_t *nparked, goc_wakeq *l)
{
    goc_waiter *w;
    while ((w = goc__waitq_claim(q))) {
        ((qwaiter *)w)->status = status;
        (*nparked)--;
        goc__wakeq_add(l, w->co);
    }
}

/* The wait of a blocking call: lock held on entry, released on return.
 * 0 or the waker's status once claimed, else GOC_ETIMEDOUT / GOC_ECANCELED
 * (nothing moved for us then). */
static inline int goc__qw_wait(goc_spin *lock, goc_waitq *q, size_t *nparked, qwaiter *me,
                               goc_co *self, int64_t deadline, const char *what, const void *obj)
{
    if (goc__park_begin_on(self, what, GOC_WAIT_OTHER, obj, 0) != 0) {
        goc__spin_unlock(lock);
        return GOC_ECANCELED;
    }
    me->w.co = self;
    me->status = 0;
    (*nparked)++;
    int reason = goc__waitq_park(q, &me->w, lock, deadline);
    if (reason == GOC_WS_WOKEN)
        return me->status; /* claimed: the object is not ours to touch any more */
    (*nparked)--; /* locked again by goc__waitq_park */
    goc__spin_unlock(lock);
    return goc__ws_to_err(reason);
}

#endif /* GOC_QWAITER_H */
