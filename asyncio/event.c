/*
 * event.c - goc_event (asyncio.Event): a flag coroutines wait for.
 *
 * Owns: an event's flag and its queue of parked waiters (qwaiter.h).
 * Setting the flag claims every waiter and makes them runnable after
 * unlocking; clearing it wakes nobody. A wait on a set event returns at
 * once; goc_event_free refuses (GOC_EBUSY) while waiters are parked.
 *
 * Locking: one spinlock per event (rank SYNC) guards all of it.
 */
#include <stdlib.h>

#include "qwaiter.h"

struct goc_event {
    goc_spin lock;
    int set;
    size_t nparked;
    goc_waitq waiters;
};

goc_event *goc_event_new(void)
{
    goc_event *e = calloc(1, sizeof(goc_event));
    if (e)
        goc__spin_init(&e->lock, GOC_RANK_SYNC);
    return e;
}

int goc_event_set(goc_event *e)
{
    if (!e)
        return GOC_EINVAL;
    goc_wakeq l = { 0 };
    goc__spin_lock(&e->lock);
    e->set = 1;
    goc__qw_claim_all(&e->waiters, 0, &e->nparked, &l);
    goc__spin_unlock(&e->lock);
    goc__wakeq_ready(&l, 1);
    return 0;
}

int goc_event_clear(goc_event *e)
{
    if (!e)
        return GOC_EINVAL;
    goc__spin_lock(&e->lock);
    e->set = 0;
    goc__spin_unlock(&e->lock);
    return 0;
}

int goc_event_is_set(goc_event *e)
{
    if (!e)
        return 0;
    goc__spin_lock(&e->lock);
    int set = e->set;
    goc__spin_unlock(&e->lock);
    return set;
}

int goc_event_wait(goc_event *e, int64_t timeout_ns)
{
    if (!e)
        return GOC_EINVAL;
    int64_t deadline = goc__deadline_in(timeout_ns);
    goc__spin_lock(&e->lock);
    if (e->set) {
        goc__spin_unlock(&e->lock);
        return 0;
    }
    goc_co *self = goc__self();
    if (timeout_ns == 0 || !self) {
        goc__spin_unlock(&e->lock);
        return timeout_ns == 0 ? GOC_EAGAIN : GOC_EPERM;
    }
    qwaiter me = { 0 };
    return goc__qw_wait(&e->lock, &e->waiters, &e->nparked, &me, self, deadline, "event", e);
}

int goc_event_free(goc_event *e)
{
    if (!e)
        return GOC_EINVAL;
    goc__spin_lock(&e->lock);
    int busy = e->nparked > 0;
    goc__spin_unlock(&e->lock);
    if (busy)
        return GOC_EBUSY;
    free(e);
    return 0;
}
