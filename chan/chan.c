/*
 * chan.c - channels (select is in select.c, goc_after in after.c; what
 * they share, in chan.h).
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
 *
 * One worker (solo mode, sched/solo.h): every lock is taken inside a
 * section (goc__shared_begin ... goc__shared_end). When the section is the
 * solo worker's and no other thread is inside, the lock, the claim and the
 * park's state change are plain stores; any other thread announces itself
 * first and takes the locks, and the worker, seeing it, takes them too
 * until it has left. A section ends before the operation parks.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"

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
    int mode = goc__shared_begin();
    chan_lock(ch, 0, mode);
    int busy = ch->recvq.head || ch->sendq.head;
    chan_unlock(ch, 0, mode);
    goc__shared_end(mode);
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
    int mode = goc__shared_begin();
    chan_lock(ch, 0, mode);
    size_t n = ch->len;
    chan_unlock(ch, 0, mode);
    goc__shared_end(mode);
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
    int mode = goc__shared_begin();
    chan_lock(ch, 0, mode);
    if (ch->closed) {
        chan_unlock(ch, 0, mode);
        goc__shared_end(mode);
        return GOC_ECLOSED;
    }
    ch->closed = 1;
    /* Claim every waiter now; make them runnable once unlocked. */
    goc_wakeq wake = { 0 };
    int64_t uncount = 0;
    goc_waitq *queues[2] = { &ch->recvq, &ch->sendq };
    for (int q = 0; q < 2; q++) {
        goc_sudog *sg;
        while ((sg = (goc_sudog *)goc__waitq_claim_in(queues[q], mode))) {
            if (q == 0)
                clear_elem(ch, sg->elem);
            sg->fired = 1;
            sg->closed = 1;
            uncount += count_of(sg);
            goc__wakeq_add(&wake, sg->w.co);
        }
    }
    chan_unlock(ch, uncount, mode);
    goc__shared_end(mode);
    goc__wakeq_ready(&wake, 0);
    return 0;
}

/* ------------------------------------------------------------ send/recv */

/* Park on ch's queue for op; the channel is locked in a section of
 * `mode`, and both end here. Returns what chan_op returns. Inlined: a
 * call more on the way back from every park cost pingpong at one worker
 * 6 ns of its 80. */
static inline __attribute__((always_inline)) int chan_park(goc_chan *ch, int op, void *elem,
                                                           goc_co *self, int mode)
{
    const char *what = op == GOC_SEND ? "channel send" : "channel receive";
    int err = goc__park_begin_in(self, what, GOC_WAIT_CHAN, ch, op, mode);
    if (err) {
        chan_unlock(ch, 0, mode);
        goc__shared_end(mode);
        return err;
    }
    /* Parking: counted in flight until our claimer (or, if cancelled, we
     * ourselves) is done with the channel, so a free waits for us. */
    goc_sudog me = { .w = { .co = self }, .elem = elem };
    goc_waitq *q = op == GOC_SEND ? &ch->sendq : &ch->recvq;
    goc__waitq_push(q, &me.w);
    chan_unlock(ch, -ONE_OP, mode);
    goc__shared_end(mode);

    int reason = goc__park(self);
    if (reason != GOC_WS_WOKEN) {
        /* Cancelled: no value moved. Take ourselves off the queue (a
         * waker that lost the claim may have done it already). */
        mode = goc__shared_begin();
        chan_lock(ch, 0, mode);
        goc__waitq_remove(q, &me.w);
        chan_unlock(ch, ONE_OP, mode);
        goc__shared_end(mode);
        return goc__ws_to_err(reason);
    }
    return me.closed ? GOC_ECLOSED : 0; /* the claimer ended our count */
}

/* One operation on one channel, in a section of `mode` that has begun;
 * the section ends here. */
static inline __attribute__((always_inline)) int chan_op_in(goc_chan *ch, int op, void *elem,
                                                            int block, int mode)
{
    chan_lock(ch, 0, mode);
    goc_co *partner;
    int closed;
    int64_t uncount = 0;
    int done = op == GOC_SEND ? try_send_locked(ch, elem, &partner, &closed, &uncount, mode)
                              : try_recv_locked(ch, elem, &partner, &closed, &uncount, mode);
    if (done) {
        chan_unlock(ch, uncount, mode); /* our last touch: partner is claimed, not yet runnable */
        goc__shared_end(mode);
        if (partner)
            goc__ready(partner, 1);
        return closed ? GOC_ECLOSED : 0;
    }
    goc_co *self = goc__self();
    if (!block || !self) {
        chan_unlock(ch, 0, mode);
        goc__shared_end(mode);
        return !block ? GOC_EAGAIN : GOC_EPERM;
    }
    return chan_park(ch, op, elem, self, mode);
}

/* The operation at each mode, as functions of their own: chan_op below
 * only picks one and jumps to it, with no frame of its own (with the
 * locked copy inlined into each call instead, the solo path paid that
 * copy's frame: pingpong at one worker 114 -> 108 ns without it, in one
 * interleaved loop). */
static __attribute__((noinline)) int chan_op_solo_or_plain(goc_chan *ch, int op, void *elem,
                                                           int block, int mode)
{
    return chan_op_in(ch, op, elem, block, mode);
}

static __attribute__((noinline)) int chan_op_locked(goc_chan *ch, int op, void *elem, int block)
{
    return chan_op_in(ch, op, elem, block, GOC_SHARED_LOCKED);
}

/* One blocking or non-blocking operation on one channel. */
static inline __attribute__((always_inline)) int chan_op(goc_chan *ch, int op, void *elem,
                                                        int block)
{
    if (!ch || (op == GOC_SEND && ch->esize && !elem))
        return GOC_EINVAL;
    int mode = goc__shared_begin();
    if (mode == GOC_SHARED_LOCKED)
        return chan_op_locked(ch, op, elem, block);
    return chan_op_solo_or_plain(ch, op, elem, block, mode);
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
