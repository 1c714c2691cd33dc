/*
 * chan.c - channels, select and goc_after.
 *
 * Owns: goc_chan (a ring buffer of cap elements of esize bytes, a queue of
 * parked receivers and one of parked senders) and the waiters ("sudogs",
 * after Go's runtime) that parked operations put on those queues; they
 * live on the parked coroutine's stack.
 *
 * The reference is Go's runtime/chan.go and select.go:
 *   - a value goes straight from a sender to a parked receiver (or back),
 *     and the partner is made runnable in the current worker's next slot,
 *     so a ping-pong stays on one core's cache;
 *   - select locks its channels in address order, polls the cases in a
 *     random order, and if none is ready parks on all of them, queued in
 *     that random order; once woken by one, it takes itself off the others.
 *
 * Exactly once. A waker takes a waiter off a queue and claims its
 * coroutine with goc__claim (a CAS on the park state). Only the winner
 * copies the value and marks the waiter fired; a loser (the coroutine was
 * already woken by a cancel, a timeout or another select case) just moves
 * on to the next waiter. So a value is never lost or delivered twice, and
 * a coroutine woken by a cancel knows that no value moved.
 *
 * Lifetime. An operation that completes at once touches the channel only
 * under its lock, and makes its partner runnable after unlocking, so the
 * partner cannot return before that last touch. An operation that parks
 * counts itself in flight (in ch->word) until its own last touch after
 * waking. goc_chan_free refuses (GOC_EBUSY) while waiters are queued and
 * otherwise lets in-flight operations leave before it frees: freeing right
 * after the last operation returned is safe even when the other side of
 * that operation is still returning.
 *
 * Locking: the LOCKED bit of ch->word guards everything in the channel. Lock
 * order: channels by address (select); a timer heap's lock before a
 * channel's (goc_after fires under the heap lock). Claimed coroutines are
 * made runnable after the channel locks are released.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

typedef struct goc_sudog {
    goc_waiter w;            /* first: the wait queues link these */
    void *elem;              /* send: the value; recv: where it goes (may be NULL) */
    int index;               /* select case, or 0 */
    int fired;               /* set by the claimer: this waiter completed */
    int in_select;           /* a select removes its own in-flight counts */
    int closed;              /* set by the claimer: completed by close */
} goc_sudog;

/* ch->word = operations in flight << 1 | LOCKED: one atomic both locks the
 * channel and counts the operation, one both unlocks and uncounts it. */
#define LOCKED ((int64_t)1)
#define ONE_OP ((int64_t)2)

struct goc_chan {
    /* The lock word has a cache line of its own: a waiter spinning on it
     * must not steal the line the holder is writing the channel state in. */
    _Alignas(GOC_CACHELINE) _Atomic int64_t word;
    _Alignas(GOC_CACHELINE) size_t esize, cap;
    size_t len, recvx, sendx;
    int closed;
    goc_waitq recvq, sendq;
    goc_timer *after;        /* goc_after's timer, stopped by free */
    char *buf;
};

/* ------------------------------------------------------------- helpers */

static void *slot(goc_chan *ch, size_t i)
{
    return ch->buf + i * ch->esize;
}

static inline void copy_elem(goc_chan *ch, void *dst, const void *src)
{
    if (!dst || !src)
        return;
    switch (ch->esize) { /* the common sizes as plain moves, not a call */
    case 0: return;
    case 4: memcpy(dst, src, 4); return;
    case 8: memcpy(dst, src, 8); return;
    case 16: memcpy(dst, src, 16); return;
    default: memcpy(dst, src, ch->esize); return;
    }
}

static void clear_elem(goc_chan *ch, void *dst)
{
    if (ch->esize && dst)
        memset(dst, 0, ch->esize);
}

/* Lock, adding `count` operations in flight (0 or ONE_OP). */
static void chan_lock(goc_chan *ch, int64_t count)
{
    goc__rank_acquire(GOC_RANK_CHAN, ch);
    int64_t w = atomic_load_explicit(&ch->word, memory_order_relaxed);
    unsigned spins = 0;
    for (;;) {
        if (w & LOCKED) {
            goc__spin_wait(&spins);
            w = atomic_load_explicit(&ch->word, memory_order_relaxed);
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(&ch->word, &w, (w + count) | LOCKED,
                                                  memory_order_acquire, memory_order_relaxed))
            return;
    }
}

/* Unlock, removing `count` operations in flight (negative: adding). Every
 * change to the word is made with the lock held, so this is a plain store. */
static void chan_unlock(goc_chan *ch, int64_t count)
{
    int64_t w = atomic_load_explicit(&ch->word, memory_order_relaxed);
    goc__assert(w & LOCKED);
    atomic_store_explicit(&ch->word, w - count - LOCKED, memory_order_release);
    goc__rank_release(GOC_RANK_CHAN, ch);
}

/* A claimed plain waiter is counted in flight until now: its claimer ends
 * the count for it, so the woken coroutine never touches the channel. */
static int64_t count_of(const goc_sudog *sg)
{
    return sg->in_select ? 0 : ONE_OP;
}

/* A ready case, found with the channel locked; performs it. Returns 1 if
 * the operation completed (*partner: a coroutine to make runnable), 0 if
 * it would block. *closed tells a completion by close. */
static int try_send_locked(goc_chan *ch, const void *elem, goc_co **partner, int *closed,
                           int64_t *uncount)
{
    *partner = NULL;
    *closed = 0;
    if (ch->closed) {
        *closed = 1;
        return 1;
    }
    goc_sudog *r = (goc_sudog *)goc__waitq_claim(&ch->recvq);
    if (r) {
        copy_elem(ch, r->elem, elem);
        r->fired = 1;
        *partner = r->w.co;
        *uncount += count_of(r);
        return 1;
    }
    if (ch->len < ch->cap) {
        copy_elem(ch, slot(ch, ch->sendx), elem);
        if (++ch->sendx == ch->cap)
            ch->sendx = 0;
        ch->len++;
        return 1;
    }
    return 0;
}

static int try_recv_locked(goc_chan *ch, void *elem, goc_co **partner, int *closed,
                           int64_t *uncount)
{
    *partner = NULL;
    *closed = 0;
    goc_sudog *s = (goc_sudog *)goc__waitq_claim(&ch->sendq);
    if (s) {
        if (ch->cap == 0) {
            copy_elem(ch, elem, s->elem);
        } else {
            /* Full buffer: take its head, put the sender's value at its tail. */
            copy_elem(ch, elem, slot(ch, ch->recvx));
            copy_elem(ch, slot(ch, ch->recvx), s->elem);
            if (++ch->recvx == ch->cap)
                ch->recvx = 0;
            ch->sendx = ch->recvx;
        }
        s->fired = 1;
        *partner = s->w.co;
        *uncount += count_of(s);
        return 1;
    }
    if (ch->len > 0) {
        copy_elem(ch, elem, slot(ch, ch->recvx));
        if (++ch->recvx == ch->cap)
            ch->recvx = 0;
        ch->len--;
        return 1;
    }
    if (ch->closed) {
        clear_elem(ch, elem);
        *closed = 1;
        return 1;
    }
    return 0;
}

/* -------------------------------------------------------------- make/free */

goc_chan *goc_chan_make(size_t elem_size, size_t capacity)
{
    if (elem_size && capacity > (SIZE_MAX / 2 - sizeof(goc_chan)) / elem_size)
        return NULL;
    size_t bytes = sizeof(goc_chan) + elem_size * capacity;
    bytes = (bytes + GOC_CACHELINE - 1) / GOC_CACHELINE * GOC_CACHELINE;
    goc_chan *ch = aligned_alloc(GOC_CACHELINE, bytes);
    if (!ch)
        return NULL;
    memset(ch, 0, sizeof *ch);
    ch->esize = elem_size;
    ch->cap = capacity;
    ch->buf = (char *)(ch + 1);
    return ch;
}

int goc_chan_free(goc_chan *ch)
{
    if (!ch)
        return GOC_EINVAL;
    chan_lock(ch, 0);
    int busy = ch->recvq.head || ch->sendq.head;
    chan_unlock(ch, 0);
    if (busy)
        return GOC_EBUSY;
    if (ch->after)
        goc__timer_remove(ch->after); /* after this, its fire() is not running */
    while (atomic_load_explicit(&ch->word, memory_order_acquire) != 0) {
        if (goc__self())
            goc_yield(); /* the op still leaving may be queued on this worker */
        else
            sched_yield();
    }
    free(ch->after);
    free(ch);
    return 0;
}

size_t goc_chan_len(goc_chan *ch)
{
    if (!ch)
        return 0;
    chan_lock(ch, 0);
    size_t n = ch->len;
    chan_unlock(ch, 0);
    return n;
}

size_t goc_chan_cap(goc_chan *ch)
{
    return ch ? ch->cap : 0;
}

int goc_chan_close(goc_chan *ch)
{
    if (!ch)
        return GOC_EINVAL;
    chan_lock(ch, 0);
    if (ch->closed) {
        chan_unlock(ch, 0);
        return GOC_ECLOSED;
    }
    ch->closed = 1;
    /* Claim every waiter now; make them runnable once unlocked. Claimed
     * coroutines are parked, so their next links are free to use. */
    goc_co *wake = NULL;
    int64_t uncount = 0;
    goc_waitq *queues[2] = { &ch->recvq, &ch->sendq };
    for (int q = 0; q < 2; q++) {
        goc_sudog *sg;
        while ((sg = (goc_sudog *)goc__waitq_claim(queues[q]))) {
            if (q == 0)
                clear_elem(ch, sg->elem);
            sg->fired = 1;
            sg->closed = 1;
            uncount += count_of(sg);
            sg->w.co->next = wake;
            wake = sg->w.co;
        }
    }
    chan_unlock(ch, uncount);
    while (wake) {
        goc_co *next = wake->next;
        goc__ready(wake, 0);
        wake = next;
    }
    return 0;
}

/* ------------------------------------------------------------ send/recv */

/* One blocking or non-blocking operation on one channel. */
static int chan_op(goc_chan *ch, int op, void *elem, int block)
{
    if (!ch || (op == GOC_SEND && ch->esize && !elem))
        return GOC_EINVAL;
    chan_lock(ch, 0);
    goc_co *partner;
    int closed;
    int64_t uncount = 0;
    int done = op == GOC_SEND ? try_send_locked(ch, elem, &partner, &closed, &uncount)
                              : try_recv_locked(ch, elem, &partner, &closed, &uncount);
    if (done) {
        chan_unlock(ch, uncount); /* our last touch: partner is claimed, not yet runnable */
        if (partner)
            goc__ready(partner, 1);
        return closed ? GOC_ECLOSED : 0;
    }
    goc_co *self = goc__self();
    int err = !block ? GOC_EAGAIN : !self ? GOC_EPERM : 0;
    if (!err)
        err = goc__park_begin_on(self, op == GOC_SEND ? "channel send" : "channel receive",
                                 GOC_WAIT_CHAN, ch, op);
    if (err) {
        chan_unlock(ch, 0);
        return err;
    }
    /* Parking: counted in flight until our claimer (or, if cancelled, we
     * ourselves) is done with the channel, so a free waits for us. */
    goc_sudog me = { .w = { .co = self }, .elem = elem };
    goc__waitq_push(op == GOC_SEND ? &ch->sendq : &ch->recvq, &me.w);
    chan_unlock(ch, -ONE_OP);

    int reason = goc__park(self);
    if (reason != GOC_WS_WOKEN) {
        /* Cancelled: no value moved. Take ourselves off the queue (a
         * waker that lost the claim may have done it already). */
        chan_lock(ch, 0);
        goc__waitq_remove(op == GOC_SEND ? &ch->sendq : &ch->recvq, &me.w);
        chan_unlock(ch, ONE_OP);
        return goc__ws_to_err(reason);
    }
    return me.closed ? GOC_ECLOSED : 0; /* the claimer ended our count */
}

int goc_chan_send(goc_chan *ch, const void *elem)
{
    return chan_op(ch, GOC_SEND, (void *)elem, 1);
}

int goc_chan_recv(goc_chan *ch, void *elem)
{
    return chan_op(ch, GOC_RECV, elem, 1);
}

int goc_chan_trysend(goc_chan *ch, const void *elem)
{
    return chan_op(ch, GOC_SEND, (void *)elem, 0);
}

int goc_chan_tryrecv(goc_chan *ch, void *elem)
{
    return chan_op(ch, GOC_RECV, elem, 0);
}

/* ---------------------------------------------------------------- select */

#define SELECT_INLINE 8

typedef struct select_state {
    goc_case *cases;
    size_t n;
    uint32_t *poll;          /* poll order: a random permutation */
    goc_chan **locks;        /* distinct channels, by address */
    size_t nlocks;
    goc_sudog *sg;           /* one waiter per case */
    goc_chan *done_ch;       /* the channel of the case performed in pass 1 */
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

/* Lock the select's channels in address order; `count` as chan_lock. */
static void lock_all(select_state *st, int64_t count)
{
    for (size_t i = 0; i < st->nlocks; i++)
        chan_lock(st->locks[i], count);
}

static void unlock_all(select_state *st, int64_t count)
{
    for (size_t i = st->nlocks; i-- > 0;)
        chan_unlock(st->locks[i], count);
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
        int done = c->op == GOC_SEND ? try_send_locked(c->ch, c->elem, partner, &closed, uncount)
                                     : try_recv_locked(c->ch, c->elem, partner, &closed, uncount);
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
    if (goc__park_begin_on(self, "select", GOC_WAIT_SELECT, st->cases, (int64_t)st->n) != 0) {
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
        for (size_t i = st->nlocks; i-- > 0;)
            chan_unlock(st->locks[i], st->locks[i] == st->done_ch ? uncount : 0);
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

/* ------------------------------------------------------------ goc_after */

static void after_fire(goc_timer *t)
{
    goc_chan *ch = t->arg;
    int64_t now = goc_now();
    goc_chan_trysend(ch, &now); /* capacity 1, sent once: never blocks */
}

goc_chan *goc_after(int64_t ns)
{
    goc_worker *w = goc__worker();
    if (!goc__self())
        return NULL;
    goc_chan *ch = goc_chan_make(sizeof(int64_t), 1);
    if (!ch)
        return NULL;
    if (ns <= 0) { /* fires at once */
        int64_t now = goc_now();
        goc_chan_trysend(ch, &now);
        return ch;
    }
    goc_timer *t = calloc(1, sizeof *t);
    if (!t) {
        free(ch);
        return NULL;
    }
    t->when = goc__deadline(ns);
    t->idx = GOC_TIMER_NONE;
    t->fire = after_fire;
    t->arg = ch;
    ch->after = t;
    if (t->when != INT64_MAX) /* "never" needs no timer */
        goc__timer_add(w, t);
    return ch;
}
