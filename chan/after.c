/*
 * after.c - goc_after: a channel of capacity 1 that a timer fills once,
 * Go's time.After, the timeout case of a select.
 *
 * Owns the goc_timer it allocates (ch->after), which goc_chan_free
 * removes and frees, so a channel freed before it fires never sees it.
 * The timer fires on the worker that made it, under that heap's lock,
 * so the channel's lock nests inside it (check.h: TIMERS before CHAN);
 * the send never blocks: one value into an empty buffer of one.
 */
#include <stdlib.h>

#include "chan.h"

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
