/*
 * select.c - goc_select: one of several channel operations, the first
 * ready, or a wait on all of them.
 *
 * Go's selectgo is the reference. Pass 1 locks the cases' channels in
 * address order (each once), polls the cases in a random order and
 * performs the first ready one. Pass 2, if none was ready, queues a waiter
 * per case, in that same random order (so a partner that finds several of
 * our waiters on its channel completes a random one, not the first case),
 * and parks once. Pass 3, once woken, locks again and takes the waiters
 * that did not fire off their queues. A waker claims the select's
 * coroutine with one CAS, so exactly one case completes (chan.c).
 *
 * Owns: nothing beyond one call: the waiters and the lock and poll arrays
 * live on the caller's stack (on the heap above SELECT_INLINE cases).
 *
 * Locking: the channels' locks in address order, no other lock held, all
 * in one section (sched/solo.h: with one worker and no plain thread
 * inside, plain stores); the coroutine a completed case woke is made
 * runnable after they are all released.
 */
#include <stdlib.h>

#include "chan.h"

#define SELECT_INLINE 8

typedef struct select_state {
    goc_case *cases;
    size_t n;
    uint32_t *poll;          /* poll order: a random permutation */
    goc_chan **locks;        /* distinct channels, by address */
    size_t nlocks;
    goc_sudog *sg;           /* one waiter per case */
    goc_chan *done_ch;       /* the channel of the case performed in pass 1 */
    int mode;                /* of the section the locks are held in */
} select_state;

/* Selects are small: an insertion sort beats qsort's call overhead. */
static void sort_by_address(goc_chan **a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        goc_chan *x = a[i];
        size_t j = i;
        for (; j > 0 && (uintptr_t)a[j - 1] > (uintptr_t)x; j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

/* Begin a section (solo.h) and lock the select's channels in address
 * order; `count` as chan_lock. */
static void lock_all(select_state *st, int64_t count)
{
    st->mode = goc__shared_begin();
    for (size_t i = 0; i < st->nlocks; i++)
        chan_lock(st->locks[i], count, st->mode);
}

/* Unlock them, the channel of the case performed in pass 1 uncounting
 * `done_uncount`, the others `count`, and end the section. */
static void unlock_all_but(select_state *st, int64_t count, int64_t done_uncount)
{
    for (size_t i = st->nlocks; i-- > 0;)
        chan_unlock(st->locks[i], st->locks[i] == st->done_ch ? done_uncount : count, st->mode);
    goc__shared_end(st->mode);
}

static void unlock_all(select_state *st, int64_t count)
{
    unlock_all_but(st, count, count);
}

static int validate(goc_case *cases, size_t n)
{
    if (n && !cases)
        return GOC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        goc_case *c = &cases[i];
        if (c->op != GOC_SEND && c->op != GOC_RECV)
            return GOC_EINVAL;
        if (c->ch && c->op == GOC_SEND && c->ch->esize && !c->elem)
            return GOC_EINVAL;
    }
    return 0;
}

static void prepare(select_state *st)
{
    size_t n = st->n;
    for (size_t i = 0; i < n; i++) {
        uint32_t j = (uint32_t)(goc__rand() % (i + 1)); /* inside-out shuffle */
        st->poll[i] = st->poll[j];
        st->poll[j] = (uint32_t)i;
    }
    st->nlocks = 0;
    for (size_t i = 0; i < n; i++)
        if (st->cases[i].ch)
            st->locks[st->nlocks++] = st->cases[i].ch;
    sort_by_address(st->locks, st->nlocks);
    size_t k = 0;
    for (size_t i = 0; i < st->nlocks; i++)
        if (k == 0 || st->locks[k - 1] != st->locks[i])
            st->locks[k++] = st->locks[i];
    st->nlocks = k;
}

/* Pass 1: the first ready case in poll order, performed; -1 if none. */
static int poll_cases(select_state *st, goc_co **partner, int64_t *uncount)
{
    for (size_t k = 0; k < st->n; k++) {
        uint32_t i = st->poll[k];
        goc_case *c = &st->cases[i];
        if (!c->ch)
            continue;
        int closed;
        int done = c->op == GOC_SEND
                       ? try_send_locked(c->ch, c->elem, partner, &closed, uncount, st->mode)
                       : try_recv_locked(c->ch, c->elem, partner, &closed, uncount, st->mode);
        if (done) {
            st->done_ch = c->ch;
            c->status = closed ? GOC_ECLOSED : 0;
            return (int)i;
        }
    }
    return -1;
}

static goc_waitq *queue_of(goc_case *c)
{
    return c->op == GOC_SEND ? &c->ch->sendq : &c->ch->recvq;
}

/* Pass 2: a waiter per case, queued in poll order, not case order. A
 * partner takes the first waiter on its channel's queue, so when several
 * cases share a channel, which one it completes is as random as pass 1's
 * choice (Go's TestPseudoRandomSend); in case order it would always be the
 * first. All the locks are held by now, so this order need not be theirs. */
static void enqueue_all(select_state *st, goc_co *self)
{
    for (size_t k = 0; k < st->n; k++) {
        uint32_t i = st->poll[k];
        goc_case *c = &st->cases[i];
        st->sg[i] = (goc_sudog){ .w = { .co = self }, .elem = c->elem, .index = (int)i,
                                 .in_select = 1 };
        if (c->ch)
            goc__waitq_push(queue_of(c), &st->sg[i].w);
    }
}

/* Pass 2 and 3: park on every case, then take ourselves off the others. */
static int park_on_all(select_state *st, goc_co *self, int64_t timeout_ns)
{
    if (goc__park_begin_in(self, "select", GOC_WAIT_SELECT, st->cases, (int64_t)st->n,
                           st->mode) != 0) {
        unlock_all(st, 0);
        return GOC_ECANCELED;
    }
    enqueue_all(st, self);
    unlock_all(st, -ONE_OP); /* in flight on each until our last touch */
    int reason = goc__park_until(self, timeout_ns > 0 ? goc__deadline(timeout_ns) : INT64_MAX);

    lock_all(st, 0);
    int chosen = -1;
    for (size_t i = 0; i < st->n; i++) {
        goc_case *c = &st->cases[i];
        if (st->sg[i].fired) {
            chosen = (int)i;
            c->status = st->sg[i].closed ? GOC_ECLOSED : 0;
        } else if (c->ch) {
            goc__waitq_remove(queue_of(c), &st->sg[i].w);
        }
    }
    unlock_all(st, ONE_OP);
    if (reason == GOC_WS_WOKEN && chosen >= 0)
        return chosen;
    return goc__ws_to_err(reason);
}

static int select_run(select_state *st, int64_t timeout_ns)
{
    prepare(st);
    lock_all(st, 0);
    goc_co *partner = NULL;
    int64_t uncount = 0;
    int chosen = poll_cases(st, &partner, &uncount);
    if (chosen >= 0) {
        unlock_all_but(st, 0, uncount);
        if (partner)
            goc__ready(partner, 1);
        return chosen;
    }
    goc_co *self = goc__self();
    if (timeout_ns == 0 || !self) {
        unlock_all(st, 0);
        return timeout_ns == 0 ? GOC_EAGAIN : GOC_EPERM;
    }
    return park_on_all(st, self, timeout_ns);
}

int goc_select(goc_case *cases, size_t n, int64_t timeout_ns)
{
    int err = validate(cases, n);
    if (err)
        return err;
    uint32_t poll_small[SELECT_INLINE];
    goc_chan *locks_small[SELECT_INLINE];
    goc_sudog sg_small[SELECT_INLINE];
    select_state st = { .cases = cases, .n = n, .poll = poll_small,
                        .locks = locks_small, .sg = sg_small };
    void *heap = NULL;
    if (n > SELECT_INLINE) {
        heap = malloc(n * (sizeof(uint32_t) + sizeof(goc_chan *) + sizeof(goc_sudog)));
        if (!heap)
            return GOC_ENOMEM;
        st.sg = heap;
        st.locks = (goc_chan **)(st.sg + n);
        st.poll = (uint32_t *)(st.locks + n);
    }
    int r = select_run(&st, timeout_ns);
    free(heap);
    return r;
}
