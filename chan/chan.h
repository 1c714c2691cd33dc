/*
 * chan.h - what chan.c (channels, goc_after) and select.c share: the
 * channel's layout, the waiters parked operations queue, the channel lock
 * and the two locked steps that perform a send or a receive. Internal:
 * never installed. The design, its exactly-once rule and the locking
 * rules are in chan.c's opening comment.
 */
#ifndef GOC_CHAN_H
#define GOC_CHAN_H

#include <string.h>

#include "park.h"

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

static inline void *slot(goc_chan *ch, size_t i)
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

static inline void clear_elem(goc_chan *ch, void *dst)
{
    if (ch->esize && dst)
        memset(dst, 0, ch->esize);
}

/* Lock, adding `count` operations in flight (0 or ONE_OP), in a section
 * of mode `mode` (goc__shared_begin, solo.h). In a solo section nobody
 * else is inside: no CAS, the count alone is kept (goc_chan_free reads
 * it), and LOCKED stays clear. */
static inline void chan_lock(goc_chan *ch, int64_t count, int mode)
{
    goc__rank_acquire(GOC_RANK_CHAN, ch);
    int64_t w = atomic_load_explicit(&ch->word, memory_order_relaxed);
    if (mode == GOC_SHARED_SOLO) {
        goc__assert(!(w & LOCKED));
        if (count)
            atomic_store_explicit(&ch->word, w + count, memory_order_relaxed);
        return;
    }
    /* Contended: back off from 32 PAUSEs (about 0.6 us here), as Go's
     * lock2 spins procyield(30) between tries. A channel's critical
     * section is tens of ns; starting from 1 PAUSE a waiter's reads catch
     * the lock in the few ns between its holder's unlock and next lock,
     * and each catch moves the lock's and the buffer's lines to the other
     * core (mpmc at 2 workers: 22.9 -> 28.5 M msgs/s, and no longer
     * swinging by a quarter with a few cycles more or less before the
     * lock). */
    unsigned spins = 5;
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
static inline void chan_unlock(goc_chan *ch, int64_t count, int mode)
{
    int64_t w = atomic_load_explicit(&ch->word, memory_order_relaxed);
    if (mode == GOC_SHARED_SOLO) {
        if (count)
            atomic_store_explicit(&ch->word, w - count, memory_order_release);
    } else {
        goc__assert(w & LOCKED);
        atomic_store_explicit(&ch->word, w - count - LOCKED, memory_order_release);
    }
    goc__rank_release(GOC_RANK_CHAN, ch);
}

/* A claimed plain waiter is counted in flight until now: its claimer ends
 * the count for it, so the woken coroutine never touches the channel. */
static inline int64_t count_of(const goc_sudog *sg)
{
    return sg->in_select ? 0 : ONE_OP;
}

/* A ready case, found with the channel locked (in a section of mode
 * `mode`); performs it. Returns 1 if
 * the operation completed (*partner: a coroutine to make runnable), 0 if
 * it would block. *closed tells a completion by close. */
static inline __attribute__((always_inline)) int try_send_locked(goc_chan *ch, const void *elem, goc_co **partner,
                                  int *closed, int64_t *uncount, int mode)
{
    *partner = NULL;
    *closed = 0;
    if (ch->closed) {
        *closed = 1;
        return 1;
    }
    goc_sudog *r = (goc_sudog *)goc__waitq_claim_in(&ch->recvq, mode);
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

static inline __attribute__((always_inline)) int try_recv_locked(goc_chan *ch, void *elem, goc_co **partner, int *closed,
                                  int64_t *uncount, int mode)
{
    *partner = NULL;
    *closed = 0;
    goc_sudog *s = (goc_sudog *)goc__waitq_claim_in(&ch->sendq, mode);
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

#endif
