/*
 * soak.c - goc-soak: a randomized soak of the whole runtime (issue 10).
 *
 *   goc-soak [SEED] [--seed N] [--ops N] [--workers N] [--watchdog SEC]
 *            [--pin] [--verbose] [--progress SEC]
 *   env: SOAK_SEED, SOAK_OPS (default 1e6), SOAK_WORKERS (else GOC_WORKERS,
 *        else 2), SOAK_WATCHDOG (s, default 30), SOAK_PROGRESS (s),
 *        SOAK_INJECT=drop|dup (break the soak's own bookkeeping once, to
 *        show that the accounting catches a lost or a duplicated value),
 *        SOAK_INJECT=hang (one actor blocks for good: the watchdog fires).
 *
 * From a seed (printed first, so any failure can be replayed: the mix of
 * operations is the seed's, the interleaving is the machine's) it runs
 * epochs until SOAK_OPS operations are done. An epoch:
 *   - makes a few dozen channel slots (unbuffered and buffered), a few
 *     queue slots (bounded and unbounded), a mutex and a semaphore;
 *   - spawns 4-32 actor coroutines and 0-3 plain pthreads. Actors pick
 *     operations at random: send, recv, trysend, tryrecv, select (1-4
 *     cases, nil cases, a goc_after case, timeouts 0 / short / none, now
 *     and then a malformed one), close (the slot gets a fresh channel; the
 *     closed one stays usable, closed, until the epoch ends), a second
 *     close, spawn / join / cancel / wait_for of child tasks (children run
 *     the same mix and may be cancelled at any point), goc_go, sleep,
 *     yield, goc_after, mutex lock / trylock, semaphore acquire /
 *     tryacquire, queue put / get / join / close and generators (new,
 *     next with timeouts, close). The pthreads do trysend, tryrecv, close
 *     and timeout-0 queue put / get;
 *   - main polls the op count; when nothing completes for 0.5 ms (every
 *     actor may legitimately block on channels nobody serves) it closes
 *     the channel or queue some actor is blocked on, which also exercises
 *     close-while-waiting;
 *   - at the target: stop, seal (no new channels), close everything,
 *     join every actor (they join or cancel their children, close their
 *     generators), wait for the goc_go children, drain every channel and
 *     queue, free everything (each free must succeed), and check.
 *
 * Accounting. Every value sent carries a unique id (per epoch), the
 * sender's number and a check word. A sender marks an id "sent" only when
 * its send / trysend / select case / put returned success, with where it
 * went; a receiver marks it "received" with where it came from. At the
 * end of each epoch every id is sent and received exactly once, at the
 * same channel or queue, or neither: lost, phantom (received though its
 * send failed), duplicated and misrouted values are each reported by id.
 * Also checked: values arrive intact; per receiver, values of one sender
 * through one channel arrive in the order sent (FIFO); a receive that
 * reports a closed channel zeroes the element; no send succeeds on a
 * channel already known closed; each channel / queue is closed
 * successfully exactly once; tryrecv on a closed drained channel gives
 * GOC_ECLOSED; timeouts and sleeps never end early; goc_after delivers a
 * time no earlier than asked; the mutex admits one holder at a time (and
 * a plain counter it guards adds up), the semaphore no more than its
 * permits; generators deliver 0, 1, 2 ... in order with nothing lost,
 * a yield returns 0 only once its value was taken, close waits for fn;
 * join / wait_for return what the child returned; every coroutine ends
 * (a count of our own, and the runtime's list of live coroutines at the
 * end); goc_run returns 0; the ASan build checks for leaks.
 *
 * Hangs: a watchdog (a plain thread) watches the progress counters; if
 * none moves for SOAK_WATCHDOG seconds it prints what every soak
 * coroutine and pthread is doing, each worker's state and every live
 * coroutine with what it waits on (runtime.h internals: the soak is a
 * white-box test like tests/), then exits with status 3. (A hang the
 * runtime itself can see, every coroutine parked with no timer pending,
 * it reports first: goc_run returns GOC_EDEADLK and the soak fails.)
 *
 * Exit status: 0 only if every check passed; 1 on a failed check, 2 on a
 * usage error, 3 when the watchdog found a hang.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "goc.h"
#include "runtime.h" /* watchdog dump: goc__runtime, workers, live coroutines */

/* ---------------------------------------------------------------- limits */

#define MAX_SLOTS 48        /* channel slots per epoch */
#define MAX_CH_ENT 1024     /* channels made per epoch (slots + replacements) */
#define MAX_QSLOTS 4
#define MAX_Q_ENT 256
#define MAX_CTX 4096        /* actors + children + pthreads per epoch */
#define MAX_KIDS 4          /* children an actor holds at once */
#define FIFO_WAYS 64        /* per-receiver FIFO check cache */
#define QCODE 0x8000u       /* where codes: channel entry + 1, or QCODE | queue entry */

#define US ((int64_t)1000)
#define MS ((int64_t)1000000)
#define SEC ((int64_t)1000000000)

/* ------------------------------------------------------------ randomness */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t mix3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t s = a ^ (b * 0xD6E8FEB86659FD93ull) ^ (c * 0xA0761D6478BD642Full);
    return splitmix(&s);
}

static uint32_t rnd(uint64_t *s, uint32_t n) /* 0 .. n-1 */
{
    return n ? (uint32_t)((splitmix(s) >> 32) % n) : 0;
}

static int chance(uint64_t *s, unsigned pct)
{
    return rnd(s, 100) < pct;
}

/* -------------------------------------------------------------- settings */

static uint64_t g_seed;
static uint64_t g_total_ops = 1000000;
static int g_workers = 2;
static int g_watchdog_s = 30;
static int g_progress_s = 0;
static int g_pin = 0;
static int g_verbose = 0;
enum { INJECT_NONE, INJECT_DROP, INJECT_DUP, INJECT_HANG };
static int g_inject = INJECT_NONE;
static _Atomic int g_injected;

/* --------------------------------------------------------------- failures */

static _Atomic long g_failures;
static pthread_mutex_t g_print_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int g_epoch_no;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    long n = atomic_fetch_add(&g_failures, 1);
    if (n >= 40) {
        if (n == 40)
            fprintf(stderr, "soak: FAIL: (further failures not printed)\n");
        return;
    }
    pthread_mutex_lock(&g_print_lock);
    fprintf(stderr, "soak: FAIL [seed %" PRIu64 " epoch %d]: ", g_seed, atomic_load(&g_epoch_no));
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&g_print_lock);
}

static const char *es(int r)
{
    return r >= 0 ? "0" : goc_strerror(r);
}

/* ---------------------------------------------------------------- values */

typedef struct val {
    uint64_t id;       /* 1.. per epoch; 0 only in a zeroed element */
    uint32_t sender;   /* ctx number */
    uint32_t check;
} val;

static uint32_t val_check(uint64_t id, uint32_t sender)
{
    return (uint32_t)(mix3(id, sender, 0x50AC) >> 32) | 1u; /* never 0 */
}

static val mkval(uint64_t id, uint32_t sender)
{
    val v = { id, sender, val_check(id, sender) };
    return v;
}

static void poison(val *v)
{
    memset(v, 0xA5, sizeof *v);
}

static int is_zero(const val *v)
{
    return v->id == 0 && v->sender == 0 && v->check == 0;
}

/* generator elements */
typedef struct gval {
    uint64_t k;
    uint64_t tag;
} gval;

/* ------------------------------------------------------------- the epoch */

typedef struct chent {
    _Atomic(goc_chan *) ch;   /* set once made (release) */
    size_t cap;
    _Atomic int closed;       /* set after a close returned 0 */
    _Atomic int close_ok;     /* closes that returned 0: must end at 1 */
} chent;

typedef struct qent {
    _Atomic(goc_queue *) q;
    size_t maxsize;
    _Atomic int closed;
    _Atomic int close_ok;
} qent;

struct ctx;

typedef struct epoch {
    int index;
    uint64_t target;          /* ops_done to reach */
    _Atomic int stop;
    uint64_t rng;             /* main's */

    pthread_mutex_t ent_lock; /* making and publishing entries; sealed */
    int sealed;
    int nslots;
    _Atomic int slot[MAX_SLOTS];     /* channel entry each slot uses */
    _Atomic int slot_busy[MAX_SLOTS];
    chent ch[MAX_CH_ENT];
    _Atomic int nch;
    int nqslots;
    _Atomic int qslot[MAX_QSLOTS];
    _Atomic int qslot_busy[MAX_QSLOTS];
    qent q[MAX_Q_ENT];
    _Atomic int nq;

    goc_mutex *mu;
    _Atomic int mu_holders;
    uint64_t mu_plain;        /* guarded by mu only */
    _Atomic uint64_t mu_locks;
    goc_sem *sem;
    int64_t sem_permits;
    _Atomic int sem_holders;

    uint64_t id_cap;
    _Atomic uint64_t id_next;
    _Atomic uint64_t *sent_bits, *recv_bits;
    _Atomic uint16_t *dest, *src;
    _Atomic uint32_t *sent_by;

    goc_wg *wg;               /* goc_go children */
    _Atomic long live;        /* soak coroutines running now */
} epoch;

static epoch E;

/* totals */
static _Atomic uint64_t ops_done;
static _Atomic uint64_t main_steps;
static _Atomic(const char *) main_phase = "starting";
static _Atomic uint64_t n_values_chan, n_values_queue, n_values_gen;
static _Atomic uint64_t n_coroutines, n_cancels, n_closes, n_unjams, n_timeouts, n_pthread_ops;
static uint64_t n_epochs;

/* ------------------------------------------------------------ contexts */

enum { K_ACTOR = 1, K_KID, K_GOKID, K_PTHREAD, K_DRAIN };
static const char *kind_name[] = { "?", "actor", "child", "go-child", "pthread", "drain" };

typedef struct fifo_way {
    uint64_t key;             /* where << 32 | sender, 0: empty */
    uint64_t last;
} fifo_way;

typedef struct genst {
    goc_gen *g;
    int limit;
    uint64_t tag;
    _Atomic int started, finished;
    _Atomic int acked;        /* yields that returned 0 */
    int cancelled_yields;
    int received;             /* elements the consumer got */
    uint64_t rng;
} genst;

typedef struct kid {
    goc_task *t;
    struct ctx *c;
    int cancelled;
} kid;

typedef struct ctx {
    int kind;
    uint32_t no;              /* sender number: index in the arena + 1 */
    uint64_t rng;
    int cancellable;          /* a child: its blocking calls may give GOC_ECANCELED */
    int nops;                 /* children: ops to run */
    _Atomic int state;        /* 0 unused, 1 running, 2 finished */
    _Atomic(const char *) doing;
    _Atomic int blk;          /* where code it is blocked on, or 0 */
    _Atomic uint64_t co_id;
    uint64_t ops;
    kid kids[MAX_KIDS];
    int nkids;
    genst *gen;
    pthread_t thread;
    _Atomic int thread_done;
    fifo_way fifo[FIFO_WAYS];
} ctx;

static ctx *g_ctx;            /* arena, MAX_CTX */
static _Atomic int g_nctx;

static ctx *ctx_new(int kind, uint64_t salt)
{
    int i = atomic_fetch_add(&g_nctx, 1);
    if (i >= MAX_CTX) {
        atomic_fetch_sub(&g_nctx, 1);
        return NULL;
    }
    ctx *c = &g_ctx[i];
    /* main's unjam scan may read blk / state of any ctx meanwhile: atomics
     * are (re)set one by one, the rest belongs to the owner */
    atomic_store(&c->blk, 0);
    atomic_store(&c->state, 0);
    atomic_store(&c->co_id, 0);
    atomic_store(&c->thread_done, 0);
    c->cancellable = 0;
    c->nops = 0;
    c->ops = 0;
    c->nkids = 0;
    c->gen = NULL;
    memset(c->kids, 0, sizeof c->kids);
    memset(c->fifo, 0, sizeof c->fifo);
    c->kind = kind;
    c->no = (uint32_t)i + 1;
    c->rng = mix3(g_seed, ((uint64_t)E.index << 20) | (uint64_t)i, salt);
    atomic_store(&c->doing, "created");
    return c;
}

static void set_doing(ctx *c, const char *what)
{
    atomic_store_explicit(&c->doing, what, memory_order_relaxed);
}

static int more(void)
{
    return !atomic_load_explicit(&E.stop, memory_order_relaxed) &&
           atomic_load_explicit(&ops_done, memory_order_relaxed) < E.target;
}

static void op_done(ctx *c)
{
    c->ops++;
    atomic_fetch_add_explicit(&ops_done, 1, memory_order_relaxed);
}

/* ------------------------------------------------------------ bookkeeping */

static uint64_t alloc_id(void)
{
    uint64_t id = atomic_fetch_add_explicit(&E.id_next, 1, memory_order_relaxed) + 1;
    if (id > E.id_cap)
        return 0;
    return id;
}

static int bit_set(_Atomic uint64_t *bits, uint64_t id) /* old value of the bit */
{
    uint64_t m = 1ull << (id & 63);
    return (atomic_fetch_or(&bits[id >> 6], m) & m) != 0;
}

static int bit_get(_Atomic uint64_t *bits, uint64_t id)
{
    return (atomic_load_explicit(&bits[id >> 6], memory_order_relaxed) >> (id & 63)) & 1;
}

static void where_str(uint16_t code, char *buf, size_t n)
{
    if (code == 0)
        snprintf(buf, n, "nowhere");
    else if (code & QCODE)
        snprintf(buf, n, "queue #%u (maxsize %zu)", code & ~QCODE, E.q[code & ~QCODE].maxsize);
    else
        snprintf(buf, n, "channel #%u (cap %zu)", code - 1u, E.ch[code - 1].cap);
}

static void mark_sent(ctx *c, uint64_t id, uint16_t code)
{
    atomic_store_explicit(&E.dest[id], code, memory_order_relaxed);
    atomic_store_explicit(&E.sent_by[id], c->no, memory_order_relaxed);
    if (bit_set(E.sent_bits, id))
        fail("soak bookkeeping: id %" PRIu64 " marked sent twice", id);
    if (code & QCODE)
        atomic_fetch_add_explicit(&n_values_queue, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&n_values_chan, 1, memory_order_relaxed);
}

static _Atomic uint64_t g_recv_count;

/* A value c received from `code` by `how`. */
static void got_val(ctx *c, const val *v, uint16_t code, const char *how)
{
    char w[64];
    uint64_t top = atomic_load(&E.id_next);
    if (v->id == 0 || v->id > top || v->id > E.id_cap || v->check != val_check(v->id, v->sender)) {
        where_str(code, w, sizeof w);
        fail("corrupt value received by %s %u via %s from %s: id %" PRIu64 " sender %u check %08x",
             kind_name[c->kind], c->no, how, w, v->id, v->sender, v->check);
        return;
    }
    uint64_t n = atomic_fetch_add(&g_recv_count, 1) + 1;
    int times = 1;
    if (g_inject == INJECT_DROP && n == 1000 && !atomic_exchange(&g_injected, 1)) {
        fprintf(stderr, "soak: SOAK_INJECT=drop: the bookkeeping forgets id %" PRIu64 "\n", v->id);
        return;
    }
    if (g_inject == INJECT_DUP && n == 1000 && !atomic_exchange(&g_injected, 1)) {
        fprintf(stderr, "soak: SOAK_INJECT=dup: the bookkeeping counts id %" PRIu64 " twice\n", v->id);
        times = 2;
    }
    for (int t = 0; t < times; t++) {
        if (bit_set(E.recv_bits, v->id)) {
            char w0[64];
            where_str(code, w, sizeof w);
            where_str(atomic_load(&E.src[v->id]), w0, sizeof w0);
            fail("DUPLICATE: id %" PRIu64 " (sender %u) received twice: now by %s %u via %s from %s, "
                 "first from %s", v->id, v->sender, kind_name[c->kind], c->no, how, w, w0);
        }
        atomic_store_explicit(&E.src[v->id], code, memory_order_relaxed);
    }
    /* FIFO: from one sender through one channel, ids only grow. */
    uint64_t key = ((uint64_t)code << 32) | v->sender;
    fifo_way *f = &c->fifo[mix3(key, 0, 0) % FIFO_WAYS];
    if (f->key == key && v->id <= f->last) {
        where_str(code, w, sizeof w);
        fail("FIFO: %s %u got id %" PRIu64 " after id %" PRIu64 " from sender %u via %s from %s",
             kind_name[c->kind], c->no, v->id, f->last, v->sender, how, w);
    }
    f->key = key;
    f->last = v->id;
}

static void check_zeroed(ctx *c, const val *v, const char *how, int e)
{
    if (!is_zero(v))
        fail("%s on closed channel #%d returned GOC_ECLOSED without zeroing the element "
             "(id %" PRIu64 ")", how, e, v->id);
    (void)c;
}

/* A blocking call returned r: GOC_ECANCELED is fine only for a child. */
static int canceled_ok(ctx *c, int r, const char *call)
{
    if (r != GOC_ECANCELED)
        return 0;
    if (!c->cancellable)
        fail("%s %u: %s returned GOC_ECANCELED but nobody cancelled it",
             kind_name[c->kind], c->no, call);
    return 1;
}

static void unexpected(ctx *c, const char *call, int r)
{
    fail("%s %u: %s returned %d (%s)", kind_name[c->kind], c->no, call, r, es(r));
}

/* ------------------------------------------------------------- entries */

static size_t pick_cap(uint64_t *rng)
{
    static const size_t caps[] = { 0, 0, 0, 0, 1, 1, 2, 4, 8, 16, 64 };
    return caps[rnd(rng, sizeof caps / sizeof caps[0])];
}

/* Make a channel entry; ent_lock held. -1 once sealed or full. */
static int chent_make_locked(uint64_t *rng)
{
    if (E.sealed)
        return -1;
    int i = atomic_load(&E.nch);
    if (i >= MAX_CH_ENT)
        return -1;
    chent *e = &E.ch[i];
    e->cap = pick_cap(rng);
    atomic_store(&e->closed, 0);
    atomic_store(&e->close_ok, 0);
    goc_chan *ch = goc_chan_make(sizeof(val), e->cap);
    if (!ch) {
        fail("goc_chan_make(%zu, %zu) returned NULL", sizeof(val), e->cap);
        return -1;
    }
    atomic_store_explicit(&e->ch, ch, memory_order_release);
    atomic_store(&E.nch, i + 1);
    return i;
}

static int qent_make_locked(uint64_t *rng)
{
    static const size_t sizes[] = { 0, 1, 2, 4, 16 };
    if (E.sealed)
        return -1;
    int i = atomic_load(&E.nq);
    if (i >= MAX_Q_ENT)
        return -1;
    qent *e = &E.q[i];
    e->maxsize = sizes[rnd(rng, sizeof sizes / sizeof sizes[0])];
    atomic_store(&e->closed, 0);
    atomic_store(&e->close_ok, 0);
    goc_queue *q = goc_queue_new(sizeof(val), e->maxsize);
    if (!q) {
        fail("goc_queue_new returned NULL");
        return -1;
    }
    atomic_store_explicit(&e->q, q, memory_order_release);
    atomic_store(&E.nq, i + 1);
    return i;
}

/* An entry to operate on: mostly a slot's current one, sometimes any
 * channel made this epoch (closed ones included). */
static int pick_chan(uint64_t *rng)
{
    if (chance(rng, 4)) {
        int n = atomic_load(&E.nch);
        int i = (int)rnd(rng, (uint32_t)n);
        if (atomic_load_explicit(&E.ch[i].ch, memory_order_acquire))
            return i;
    }
    return atomic_load_explicit(&E.slot[rnd(rng, (uint32_t)E.nslots)], memory_order_acquire);
}

static int pick_queue(uint64_t *rng)
{
    if (chance(rng, 3)) {
        int n = atomic_load(&E.nq);
        int i = (int)rnd(rng, (uint32_t)n);
        if (atomic_load_explicit(&E.q[i].q, memory_order_acquire))
            return i;
    }
    return atomic_load_explicit(&E.qslot[rnd(rng, (uint32_t)E.nqslots)], memory_order_acquire);
}

static goc_chan *chan_of(int e)
{
    return atomic_load_explicit(&E.ch[e].ch, memory_order_acquire);
}

static goc_queue *queue_of(int e)
{
    return atomic_load_explicit(&E.q[e].q, memory_order_acquire);
}

static void close_chent(int e, const char *who)
{
    int r = goc_chan_close(chan_of(e));
    if (r == 0) {
        if (atomic_fetch_add(&E.ch[e].close_ok, 1) != 0)
            fail("goc_chan_close of channel #%d returned 0 twice (%s)", e, who);
        atomic_store(&E.ch[e].closed, 1);
        atomic_fetch_add_explicit(&n_closes, 1, memory_order_relaxed);
    } else if (r != GOC_ECLOSED) {
        fail("goc_chan_close of channel #%d returned %s (%s)", e, es(r), who);
    }
}

static void close_qent(int e, const char *who)
{
    int r = goc_queue_close(queue_of(e));
    if (r == 0) {
        if (atomic_fetch_add(&E.q[e].close_ok, 1) != 0)
            fail("goc_queue_close of queue #%d returned 0 twice (%s)", e, who);
        atomic_store(&E.q[e].closed, 1);
        atomic_fetch_add_explicit(&n_closes, 1, memory_order_relaxed);
    } else if (r != GOC_ECLOSED) {
        fail("goc_queue_close of queue #%d returned %s (%s)", e, es(r), who);
    }
}

/* Close the channel in slot s and give the slot a fresh one. */
static void replace_slot(uint64_t *rng, int s, const char *who)
{
    if (atomic_exchange(&E.slot_busy[s], 1))
        return; /* someone else is replacing it */
    int old = atomic_load(&E.slot[s]);
    pthread_mutex_lock(&E.ent_lock);
    int fresh = chent_make_locked(rng);
    if (fresh >= 0)
        atomic_store_explicit(&E.slot[s], fresh, memory_order_release);
    pthread_mutex_unlock(&E.ent_lock);
    close_chent(old, who);
    atomic_store(&E.slot_busy[s], 0);
}

static void replace_qslot(uint64_t *rng, int s, const char *who)
{
    if (atomic_exchange(&E.qslot_busy[s], 1))
        return;
    int old = atomic_load(&E.qslot[s]);
    pthread_mutex_lock(&E.ent_lock);
    int fresh = qent_make_locked(rng);
    if (fresh >= 0)
        atomic_store_explicit(&E.qslot[s], fresh, memory_order_release);
    pthread_mutex_unlock(&E.ent_lock);
    close_qent(old, who);
    atomic_store(&E.qslot_busy[s], 0);
}

/* Close the channel or queue at `code` and, if a slot holds it, refill
 * the slot (main's unjam). */
static void unjam_code(uint16_t code)
{
    if (code & QCODE) {
        int e = code & ~QCODE;
        for (int s = 0; s < E.nqslots; s++)
            if (atomic_load(&E.qslot[s]) == e) {
                replace_qslot(&E.rng, s, "unjam");
                return;
            }
        close_qent(e, "unjam");
    } else {
        int e = code - 1;
        for (int s = 0; s < E.nslots; s++)
            if (atomic_load(&E.slot[s]) == e) {
                replace_slot(&E.rng, s, "unjam");
                return;
            }
        close_chent(e, "unjam");
    }
}

/* ------------------------------------------------------------ channel ops */

enum { SEND_BLOCK, SEND_TRY };

static void op_send(ctx *c, int mode)
{
    int e = pick_chan(&c->rng);
    uint64_t id = alloc_id();
    if (!id)
        return;
    val v = mkval(id, c->no);
    int was_closed = atomic_load(&E.ch[e].closed);
    int r;
    if (mode == SEND_TRY) {
        set_doing(c, "goc_chan_trysend");
        r = goc_chan_trysend(chan_of(e), &v);
    } else {
        set_doing(c, "goc_chan_send");
        atomic_store(&c->blk, e + 1);
        r = goc_chan_send(chan_of(e), &v);
        atomic_store(&c->blk, 0);
    }
    if (r == 0) {
        mark_sent(c, id, (uint16_t)(e + 1));
        if (was_closed)
            fail("%s succeeded on channel #%d, closed before the call",
                 mode == SEND_TRY ? "goc_chan_trysend" : "goc_chan_send", e);
    } else if (r == GOC_ECLOSED) {
    } else if (r == GOC_EAGAIN && mode == SEND_TRY) {
    } else if (!canceled_ok(c, r, "goc_chan_send")) {
        unexpected(c, mode == SEND_TRY ? "goc_chan_trysend" : "goc_chan_send", r);
    }
    op_done(c);
}

static void op_recv(ctx *c, int mode)
{
    int e = pick_chan(&c->rng);
    val v;
    poison(&v);
    int r;
    const char *how = mode == SEND_TRY ? "goc_chan_tryrecv" : "goc_chan_recv";
    set_doing(c, how);
    if (mode == SEND_TRY) {
        r = goc_chan_tryrecv(chan_of(e), &v);
    } else {
        atomic_store(&c->blk, e + 1);
        r = goc_chan_recv(chan_of(e), &v);
        atomic_store(&c->blk, 0);
    }
    if (r == 0)
        got_val(c, &v, (uint16_t)(e + 1), how);
    else if (r == GOC_ECLOSED) {
        check_zeroed(c, &v, how, e);
    } else if (r == GOC_EAGAIN && mode == SEND_TRY) {
    } else if (!canceled_ok(c, r, how)) {
        unexpected(c, how, r);
    }
    op_done(c);
}

static void op_select(ctx *c)
{
    enum { MAXC = 6 };
    goc_case cs[MAXC];
    val vals[MAXC];
    uint64_t ids[MAXC];
    int ent[MAXC], was_closed[MAXC];
    int n = 1 + (int)rnd(&c->rng, 4);
    int real = 0;
    for (int i = 0; i < n; i++) {
        ids[i] = 0;
        ent[i] = -1;
        was_closed[i] = 0;
        if (n > 1 && chance(&c->rng, 10)) { /* a nil case: never ready */
            cs[i] = (goc_case){ .ch = NULL, .op = chance(&c->rng, 50) ? GOC_SEND : GOC_RECV,
                                .elem = &vals[i] };
            poison(&vals[i]);
            continue;
        }
        int e = pick_chan(&c->rng);
        ent[i] = e;
        real++;
        if (chance(&c->rng, 50)) {
            uint64_t id = alloc_id();
            if (!id)
                return;
            ids[i] = id;
            vals[i] = mkval(id, c->no);
            was_closed[i] = atomic_load(&E.ch[e].closed);
            cs[i] = (goc_case){ .ch = chan_of(e), .op = GOC_SEND, .elem = &vals[i] };
        } else {
            poison(&vals[i]);
            cs[i] = (goc_case){ .ch = chan_of(e), .op = GOC_RECV, .elem = &vals[i] };
        }
        cs[i].status = 12345;
    }
    /* a goc_after case */
    int after_i = -1;
    goc_chan *after = NULL;
    int64_t after_ns = 0, t_after = 0, after_val = 0;
    if (chance(&c->rng, 15) && n < MAXC) {
        after_ns = chance(&c->rng, 20) ? 0 : (int64_t)rnd(&c->rng, 300) * US;
        t_after = goc_now();
        after = goc_after(after_ns);
        if (!after) {
            fail("goc_after(%" PRId64 ") returned NULL in a coroutine", after_ns);
        } else {
            after_i = n++;
            cs[after_i] = (goc_case){ .ch = after, .op = GOC_RECV, .elem = &after_val };
            real++;
        }
    }
    /* now and then a malformed select: it must do nothing */
    int bad = n < MAXC && chance(&c->rng, 2);
    if (bad) {
        cs[n] = (goc_case){ .ch = chan_of(pick_chan(&c->rng)), .op = 99, .elem = &vals[0] };
        n++;
    }
    int64_t tmo;
    unsigned t = rnd(&c->rng, 100);
    if (t < 25)
        tmo = 0;
    else if (t < 75 || real == 0)
        tmo = 1 + (int64_t)rnd(&c->rng, 500) * US;
    else
        tmo = -1;
    set_doing(c, tmo < 0 ? "goc_select (no timeout)" : "goc_select (timeout)");
    int blk = -1;
    for (int i = 0; i < n; i++)
        if (ent[i] >= 0 && i != after_i) {
            blk = ent[i];
            break;
        }
    if (blk >= 0 && tmo < 0)
        atomic_store(&c->blk, blk + 1);
    int64_t t0 = goc_now();
    int r = goc_select(cs, (size_t)n, tmo);
    int64_t t1 = goc_now();
    atomic_store(&c->blk, 0);
    if (bad) {
        if (r != GOC_EINVAL)
            fail("goc_select with a bad op returned %d (%s), not GOC_EINVAL", r, es(r));
    } else if (r >= 0 && r < n) {
        goc_case *k = &cs[r];
        if (r == after_i) {
            if (k->status != 0)
                fail("goc_select: goc_after case chosen with status %s", es(k->status));
            else if (after_val < t_after + after_ns)
                fail("goc_after(%" PRId64 " ns) delivered %" PRId64 " ns after the call (early)",
                     after_ns, after_val - t_after);
        } else if (k->ch == NULL) {
            fail("goc_select chose nil case %d", r);
        } else if (k->op == GOC_SEND) {
            if (k->status == 0) {
                mark_sent(c, ids[r], (uint16_t)(ent[r] + 1));
                if (was_closed[r])
                    fail("goc_select send case succeeded on channel #%d, closed before the call",
                         ent[r]);
            } else if (k->status != GOC_ECLOSED) {
                fail("goc_select: send case status %d (%s)", k->status, es(k->status));
            }
        } else {
            if (k->status == 0)
                got_val(c, &vals[r], (uint16_t)(ent[r] + 1), "goc_select");
            else if (k->status == GOC_ECLOSED)
                check_zeroed(c, &vals[r], "goc_select recv case", ent[r]);
            else
                fail("goc_select: recv case status %d (%s)", k->status, es(k->status));
        }
    } else if (r == GOC_ETIMEDOUT) {
        atomic_fetch_add_explicit(&n_timeouts, 1, memory_order_relaxed);
        if (tmo <= 0)
            fail("goc_select(timeout %" PRId64 ") returned GOC_ETIMEDOUT", tmo);
        else if (t1 - t0 < tmo)
            fail("goc_select timed out early: %" PRId64 " ns of %" PRId64, t1 - t0, tmo);
    } else if (r == GOC_EAGAIN) {
        if (tmo != 0)
            fail("goc_select(timeout %" PRId64 ") returned GOC_EAGAIN", tmo);
    } else if (!canceled_ok(c, r, "goc_select")) {
        unexpected(c, "goc_select", r);
    }
    if (after) {
        int fr = goc_chan_free(after);
        if (fr != 0)
            fail("goc_chan_free(goc_after channel) after the select returned %s", es(fr));
    }
    op_done(c);
}

static void op_close(ctx *c)
{
    set_doing(c, "close + replace a channel");
    replace_slot(&c->rng, (int)rnd(&c->rng, (uint32_t)E.nslots), kind_name[c->kind]);
    op_done(c);
}

static void op_close_again(ctx *c)
{
    int n = atomic_load(&E.nch);
    int e = (int)rnd(&c->rng, (uint32_t)n);
    if (!chan_of(e) || !atomic_load(&E.ch[e].closed))
        return;
    set_doing(c, "goc_chan_close (again)");
    int r = goc_chan_close(chan_of(e));
    if (r != GOC_ECLOSED)
        fail("closing channel #%d a second time returned %d (%s), not GOC_ECLOSED", e, r, es(r));
    op_done(c);
}

static void op_after(ctx *c)
{
    set_doing(c, "goc_after");
    int64_t ns;
    unsigned k = rnd(&c->rng, 100);
    if (k < 10)
        ns = -(int64_t)rnd(&c->rng, 1000);
    else if (k < 20)
        ns = INT64_MAX;
    else
        ns = (int64_t)rnd(&c->rng, 200) * US;
    int64_t t0 = goc_now();
    goc_chan *a = goc_after(ns);
    if (!a) {
        fail("goc_after returned NULL");
        return;
    }
    int64_t at = 0;
    unsigned how = rnd(&c->rng, 4);
    if (how < 2 && ns != INT64_MAX) {
        int r = goc_chan_recv(a, &at);
        if (r == 0) {
            int64_t want = ns > 0 ? t0 + ns : t0;
            if (at < want)
                fail("goc_after(%" PRId64 ") fired early: %" PRId64 " ns", ns, at - t0);
            if (goc_now() < want)
                fail("goc_after(%" PRId64 ") recv returned early", ns);
        } else if (!canceled_ok(c, r, "goc_chan_recv(goc_after)")) {
            unexpected(c, "goc_chan_recv(goc_after)", r);
        }
    } else if (how == 2) {
        int r = goc_chan_tryrecv(a, &at);
        if (r == 0 && ns > 0 && at < t0 + ns)
            fail("goc_after(%" PRId64 ") fired early (tryrecv)", ns);
        if (r != 0 && r != GOC_EAGAIN)
            unexpected(c, "goc_chan_tryrecv(goc_after)", r);
        if (r == GOC_EAGAIN && ns <= 0)
            fail("goc_after(%" PRId64 "): not ready at once", ns);
    }
    int r = goc_chan_free(a);
    if (r != 0)
        fail("goc_chan_free(goc_after channel) returned %s", es(r));
    op_done(c);
}

static void op_sleep(ctx *c)
{
    set_doing(c, "goc_sleep");
    int64_t ns = chance(&c->rng, 10) ? -1 : (int64_t)rnd(&c->rng, 100) * US;
    int64_t t0 = goc_now();
    int r = goc_sleep(ns);
    int64_t el = goc_now() - t0;
    if (r == 0) {
        if (ns > 0 && el < ns)
            fail("goc_sleep(%" PRId64 ") returned after %" PRId64 " ns (early)", ns, el);
    } else if (!canceled_ok(c, r, "goc_sleep")) {
        unexpected(c, "goc_sleep", r);
    }
    op_done(c);
}

static void op_yield(ctx *c)
{
    set_doing(c, "goc_yield");
    goc_yield();
    op_done(c);
}

/* ------------------------------------------------------------ sync ops */

static void in_section(ctx *c)
{
    unsigned k = rnd(&c->rng, 8);
    if (k == 0)
        (void)goc_sleep((int64_t)rnd(&c->rng, 20) * US);
    else if (k == 1)
        goc_yield();
}

static void op_mutex(ctx *c)
{
    int r;
    int try = chance(&c->rng, 25);
    if (try) {
        set_doing(c, "goc_mutex_trylock");
        r = goc_mutex_trylock(E.mu);
    } else {
        set_doing(c, "goc_mutex_lock");
        r = goc_mutex_lock(E.mu);
    }
    if (r == 0) {
        int h = atomic_fetch_add(&E.mu_holders, 1);
        if (h != 0)
            fail("mutex: %s %u got the lock while %d other holder(s) had it",
                 kind_name[c->kind], c->no, h);
        E.mu_plain++;
        set_doing(c, "holding the mutex");
        in_section(c);
        atomic_fetch_add(&E.mu_locks, 1);
        atomic_fetch_sub(&E.mu_holders, 1);
        int u = goc_mutex_unlock(E.mu);
        if (u != 0)
            fail("goc_mutex_unlock by the holder returned %s", es(u));
    } else if (try && r == GOC_EAGAIN) {
    } else if (!canceled_ok(c, r, "goc_mutex_lock")) {
        unexpected(c, try ? "goc_mutex_trylock" : "goc_mutex_lock", r);
    }
    op_done(c);
}

static void op_sem(ctx *c)
{
    int r;
    int try = chance(&c->rng, 25);
    if (try) {
        set_doing(c, "goc_sem_tryacquire");
        r = goc_sem_tryacquire(E.sem);
    } else {
        set_doing(c, "goc_sem_acquire");
        r = goc_sem_acquire(E.sem);
    }
    if (r == 0) {
        int h = atomic_fetch_add(&E.sem_holders, 1);
        if (h >= E.sem_permits)
            fail("semaphore of %" PRId64 " permits: %d holders", E.sem_permits, h + 1);
        set_doing(c, "holding a permit");
        in_section(c);
        atomic_fetch_sub(&E.sem_holders, 1);
        int u = goc_sem_release(E.sem);
        if (u != 0)
            fail("goc_sem_release returned %s", es(u));
    } else if (try && r == GOC_EAGAIN) {
    } else if (!canceled_ok(c, r, "goc_sem_acquire")) {
        unexpected(c, try ? "goc_sem_tryacquire" : "goc_sem_acquire", r);
    }
    op_done(c);
}

/* ------------------------------------------------------------ queue ops */

static int64_t pick_tmo(ctx *c, int allow_forever)
{
    unsigned k = rnd(&c->rng, 100);
    if (k < 30 || c->kind == K_PTHREAD)
        return 0;
    if (k < 80 || !allow_forever)
        return 1 + (int64_t)rnd(&c->rng, 300) * US;
    return -1;
}

/* A queue put or get that did not move a value: closed, nothing at once,
 * a timeout (never early), a cancel we expect; anything else is wrong. */
static void queue_failure(ctx *c, const char *what, int r, int64_t tmo, int64_t el)
{
    if (r == GOC_ECLOSED || (r == GOC_EAGAIN && tmo == 0))
        return;
    if (r == GOC_ETIMEDOUT && tmo > 0) {
        atomic_fetch_add_explicit(&n_timeouts, 1, memory_order_relaxed);
        if (el < tmo)
            fail("%s timed out early: %" PRId64 " of %" PRId64 " ns", what, el, tmo);
        return;
    }
    if (!canceled_ok(c, r, what))
        unexpected(c, what, r);
}

static void op_qput(ctx *c)
{
    int e = pick_queue(&c->rng);
    uint64_t id = alloc_id();
    if (!id)
        return;
    val v = mkval(id, c->no);
    int64_t tmo = pick_tmo(c, 1);
    int was_closed = atomic_load(&E.q[e].closed);
    set_doing(c, "goc_queue_put");
    if (tmo < 0)
        atomic_store(&c->blk, (int)(QCODE | (unsigned)e));
    int64_t t0 = goc_now();
    int r = goc_queue_put(queue_of(e), &v, tmo);
    int64_t el = goc_now() - t0;
    atomic_store(&c->blk, 0);
    if (r == 0) {
        mark_sent(c, id, (uint16_t)(QCODE | (unsigned)e));
        if (was_closed)
            fail("goc_queue_put succeeded on queue #%d, closed before the call", e);
    } else {
        queue_failure(c, "goc_queue_put", r, tmo, el);
    }
    op_done(c);
}

static void op_qget(ctx *c)
{
    int e = pick_queue(&c->rng);
    val v;
    poison(&v);
    int64_t tmo = pick_tmo(c, 1);
    set_doing(c, "goc_queue_get");
    if (tmo < 0)
        atomic_store(&c->blk, (int)(QCODE | (unsigned)e));
    int64_t t0 = goc_now();
    int r = goc_queue_get(queue_of(e), &v, tmo);
    int64_t el = goc_now() - t0;
    atomic_store(&c->blk, 0);
    if (r == 0) {
        got_val(c, &v, (uint16_t)(QCODE | (unsigned)e), "goc_queue_get");
        int d = goc_queue_task_done(queue_of(e));
        if (d != 0)
            fail("goc_queue_task_done after a get returned %s", es(d));
    } else {
        queue_failure(c, "goc_queue_get", r, tmo, el);
    }
    op_done(c);
}

static void op_qjoin(ctx *c)
{
    int e = pick_queue(&c->rng);
    int64_t tmo = pick_tmo(c, 0); /* join is not woken by close: never forever */
    set_doing(c, "goc_queue_join");
    int r = goc_queue_join(queue_of(e), tmo);
    if (r == 0 || (r == GOC_EAGAIN && tmo == 0) || (r == GOC_ETIMEDOUT && tmo > 0)) {
    } else if (!canceled_ok(c, r, "goc_queue_join")) {
        unexpected(c, "goc_queue_join", r);
    }
    op_done(c);
}

static void op_qclose(ctx *c)
{
    set_doing(c, "close + replace a queue");
    replace_qslot(&c->rng, (int)rnd(&c->rng, (uint32_t)E.nqslots), kind_name[c->kind]);
    op_done(c);
}

/* ------------------------------------------------------------ generators */

static void gen_fn(goc_gen *g, void *arg)
{
    genst *s = arg;
    atomic_fetch_add(&E.live, 1);
    atomic_fetch_add_explicit(&n_coroutines, 1, memory_order_relaxed);
    atomic_store(&s->started, 1);
    for (int k = 0; k < s->limit; k++) {
        unsigned w = rnd(&s->rng, 8);
        if (w == 0)
            (void)goc_sleep((int64_t)rnd(&s->rng, 30) * US);
        else if (w == 1)
            goc_yield();
        gval gv = { (uint64_t)k, s->tag };
        int r = goc_gen_yield(g, &gv);
        if (r == 0) {
            s->acked++;
            if (s->acked != k + 1)
                fail("generator: acked %d after yield %d", s->acked, k);
        } else if (r == GOC_ECANCELED) {
            s->cancelled_yields++;
            int r2 = goc_gen_yield(g, &gv);
            if (r2 != GOC_ECANCELED)
                fail("generator: a yield after GOC_ECANCELED returned %s", es(r2));
            break;
        } else {
            fail("goc_gen_yield returned %d (%s)", r, es(r));
            break;
        }
    }
    atomic_store(&s->finished, 1);
    atomic_fetch_sub(&E.live, 1);
}

static void gen_close(ctx *c)
{
    genst *s = c->gen;
    set_doing(c, "goc_gen_close");
    int r = goc_gen_close(s->g);
    if (r != 0)
        fail("goc_gen_close returned %s", es(r));
    int started = atomic_load(&s->started), finished = atomic_load(&s->finished);
    if (started && !finished)
        fail("goc_gen_close returned before the generator's fn returned");
    if (!started && (s->received || s->acked))
        fail("generator never started but %d received, %d acked", s->received, s->acked);
    if (s->received < s->acked || s->received > s->acked + 1)
        fail("generator: %d received, %d yields returned 0 (received must be acked or acked+1)",
             s->received, s->acked);
    if (s->cancelled_yields > 1)
        fail("generator: %d yields returned GOC_ECANCELED before fn stopped", s->cancelled_yields);
    atomic_fetch_add_explicit(&n_values_gen, (uint64_t)s->received, memory_order_relaxed);
    free(s);
    c->gen = NULL;
}

static void op_gen(ctx *c)
{
    if (!c->gen) {
        set_doing(c, "goc_gen_new");
        genst *s = calloc(1, sizeof *s);
        if (!s) {
            fail("out of memory");
            return;
        }
        s->limit = (int)rnd(&c->rng, 40);
        s->tag = mix3(c->rng, c->no, 7);
        s->rng = s->tag;
        s->g = goc_gen_new(sizeof(gval), gen_fn, s);
        if (!s->g) {
            fail("goc_gen_new returned NULL");
            free(s);
            return;
        }
        c->gen = s;
        op_done(c);
        return;
    }
    genst *s = c->gen;
    if (chance(&c->rng, 12)) {
        gen_close(c);
        op_done(c);
        return;
    }
    gval gv = { 99999, 0 };
    int64_t tmo = pick_tmo(c, 1);
    set_doing(c, "goc_gen_next");
    int r = goc_gen_next(s->g, &gv, tmo);
    if (r == 0) {
        if (gv.tag != s->tag || gv.k != (uint64_t)s->received)
            fail("generator: got element %" PRIu64 " (tag %s), expected %d", gv.k,
                 gv.tag == s->tag ? "ok" : "WRONG", s->received);
        s->received++;
        if (s->received > s->acked + 1)
            fail("generator: %d received but only %d yields returned", s->received, s->acked);
    } else if (r == GOC_ECLOSED) {
        if (s->received != s->limit)
            fail("generator: GOC_ECLOSED after %d of %d elements", s->received, s->limit);
        if (!atomic_load(&s->finished))
            fail("generator: GOC_ECLOSED before fn returned");
    } else if ((r == GOC_EAGAIN && tmo == 0) || (r == GOC_ETIMEDOUT && tmo > 0)) {
    } else if (!canceled_ok(c, r, "goc_gen_next")) {
        unexpected(c, "goc_gen_next", r);
    }
    op_done(c);
}

/* ------------------------------------------------------------ task ops */

#define KID_MAGIC(c) ((void *)(uintptr_t)(0x50AC00000000ull | (c)->no))

static void run_ops(ctx *c, int depth);

static void *kid_main(void *arg)
{
    ctx *c = arg;
    atomic_store(&c->co_id, goc__self() ? goc__self()->id : 0);
    atomic_store(&c->state, 1);
    for (int i = 0; i < c->nops && more(); i++)
        run_ops(c, 1);
    if (c->gen)
        gen_close(c);
    set_doing(c, "returned");
    atomic_store(&c->state, 2);
    atomic_fetch_sub(&E.live, 1);
    return KID_MAGIC(c);
}

static void gokid_main(void *arg)
{
    ctx *c = arg;
    atomic_store(&c->co_id, goc__self() ? goc__self()->id : 0);
    atomic_store(&c->state, 1);
    for (int i = 0; i < c->nops && more(); i++)
        run_ops(c, 1);
    if (c->gen)
        gen_close(c);
    set_doing(c, "returned");
    atomic_store(&c->state, 2);
    goc_wg *wg = E.wg;
    atomic_fetch_sub(&E.live, 1);
    goc_wg_done(wg);
}

static void op_spawn(ctx *c)
{
    if (c->nkids >= MAX_KIDS)
        return;
    ctx *k = ctx_new(K_KID, c->no);
    if (!k)
        return;
    k->cancellable = 1;
    k->nops = 1 + (int)rnd(&c->rng, 30);
    set_doing(c, "goc_spawn");
    atomic_fetch_add(&E.live, 1);
    goc_task *t = goc_spawn(kid_main, k);
    if (!t) {
        atomic_fetch_sub(&E.live, 1);
        fail("goc_spawn returned NULL");
        return;
    }
    atomic_fetch_add_explicit(&n_coroutines, 1, memory_order_relaxed);
    c->kids[c->nkids++] = (kid){ t, k, 0 };
    op_done(c);
}

static void check_join(ctx *c, kid *kd, int r, void *res, const char *call)
{
    if (r == 0) {
        if (res != KID_MAGIC(kd->c))
            fail("%s returned 0 with result %p, not the child's %p", call, res, KID_MAGIC(kd->c));
        if (atomic_load(&kd->c->state) != 2)
            fail("%s returned 0 before the child returned", call);
    } else if (r == GOC_ECANCELED) {
        if (!kd->cancelled)
            fail("%s returned GOC_ECANCELED for a child nobody cancelled", call);
    } else {
        unexpected(c, call, r);
    }
}

static void kid_remove(ctx *c, int i)
{
    c->kids[i] = c->kids[--c->nkids];
}

static void op_join(ctx *c)
{
    if (!c->nkids)
        return;
    int i = (int)rnd(&c->rng, (uint32_t)c->nkids);
    kid kd = c->kids[i];
    kid_remove(c, i);
    set_doing(c, "goc_join");
    void *res = NULL;
    int r = goc_join(kd.t, &res);
    check_join(c, &kd, r, res, "goc_join");
    op_done(c);
}

static void op_cancel(ctx *c)
{
    if (!c->nkids)
        return;
    int i = (int)rnd(&c->rng, (uint32_t)c->nkids);
    kid *kd = &c->kids[i];
    set_doing(c, "goc_cancel");
    int r = goc_cancel(kd->t);
    if (r != 0)
        fail("goc_cancel returned %s", es(r));
    kd->cancelled = 1;
    atomic_fetch_add_explicit(&n_cancels, 1, memory_order_relaxed);
    if (chance(&c->rng, 50)) {
        kid k = *kd;
        kid_remove(c, i);
        set_doing(c, "goc_join (cancelled child)");
        void *res = NULL;
        r = goc_join(k.t, &res);
        check_join(c, &k, r, res, "goc_join (cancelled)");
    }
    op_done(c);
}

static void op_wait_for(ctx *c)
{
    if (!c->nkids)
        return;
    int i = (int)rnd(&c->rng, (uint32_t)c->nkids);
    kid kd = c->kids[i];
    kid_remove(c, i);
    int64_t tmo = chance(&c->rng, 20) ? 0 : (int64_t)rnd(&c->rng, 300) * US;
    set_doing(c, "goc_wait_for");
    void *res = NULL;
    int r = goc_wait_for(kd.t, tmo, &res);
    if (r == GOC_ETIMEDOUT) {
        if (atomic_load(&kd.c->state) != 2)
            fail("goc_wait_for timed out and returned before the child returned");
    } else {
        check_join(c, &kd, r, res, "goc_wait_for");
    }
    op_done(c);
}

static void op_go(ctx *c)
{
    ctx *k = ctx_new(K_GOKID, c->no);
    if (!k)
        return;
    k->nops = 1 + (int)rnd(&c->rng, 30);
    set_doing(c, "goc_go");
    atomic_fetch_add(&E.live, 1);
    goc_wg_add(E.wg, 1);
    int r = goc_go(gokid_main, k);
    if (r != 0) {
        goc_wg_add(E.wg, -1);
        atomic_fetch_sub(&E.live, 1);
        fail("goc_go returned %s", es(r));
        return;
    }
    atomic_fetch_add_explicit(&n_coroutines, 1, memory_order_relaxed);
    op_done(c);
}

/* ------------------------------------------------------------ the mix */

enum {
    OP_SEND, OP_RECV, OP_TRYSEND, OP_TRYRECV, OP_SELECT, OP_CLOSE, OP_CLOSE_AGAIN,
    OP_SPAWN, OP_JOIN, OP_CANCEL, OP_WAIT_FOR, OP_GO, OP_SLEEP, OP_YIELD, OP_AFTER,
    OP_MUTEX, OP_SEM, OP_QPUT, OP_QGET, OP_QJOIN, OP_QCLOSE, OP_GEN, OP_N
};

/* weights per 10000; depth 0 (actors) and depth 1 (children) */
static const int weights[2][OP_N] = {
    /* send recv try try  sel  cls cls2 spn join cncl wfor  go slp yld aft mtx sem put get qj qc gen */
    { 1300, 1300, 900, 900, 1400, 4, 10, 250, 120, 120, 60, 80, 200, 250, 120, 400, 350, 600, 600, 30, 3, 350 },
    { 1300, 1300, 900, 900, 1400, 4, 10, 0, 0, 0, 0, 0, 200, 250, 120, 400, 350, 600, 600, 30, 3, 350 },
};
static int cum[2][OP_N];
static int cum_total[2];

static void mix_init(void)
{
    for (int d = 0; d < 2; d++) {
        int s = 0;
        for (int i = 0; i < OP_N; i++) {
            s += weights[d][i];
            cum[d][i] = s;
        }
        cum_total[d] = s;
    }
}

static void run_ops(ctx *c, int depth)
{
    int x = (int)rnd(&c->rng, (uint32_t)cum_total[depth]);
    int op = 0;
    while (x >= cum[depth][op])
        op++;
    switch (op) {
    case OP_SEND: op_send(c, SEND_BLOCK); break;
    case OP_RECV: op_recv(c, SEND_BLOCK); break;
    case OP_TRYSEND: op_send(c, SEND_TRY); break;
    case OP_TRYRECV: op_recv(c, SEND_TRY); break;
    case OP_SELECT: op_select(c); break;
    case OP_CLOSE: op_close(c); break;
    case OP_CLOSE_AGAIN: op_close_again(c); break;
    case OP_SPAWN: op_spawn(c); break;
    case OP_JOIN: op_join(c); break;
    case OP_CANCEL: op_cancel(c); break;
    case OP_WAIT_FOR: op_wait_for(c); break;
    case OP_GO: op_go(c); break;
    case OP_SLEEP: op_sleep(c); break;
    case OP_YIELD: op_yield(c); break;
    case OP_AFTER: op_after(c); break;
    case OP_MUTEX: op_mutex(c); break;
    case OP_SEM: op_sem(c); break;
    case OP_QPUT: op_qput(c); break;
    case OP_QGET: op_qget(c); break;
    case OP_QJOIN: op_qjoin(c); break;
    case OP_QCLOSE: op_qclose(c); break;
    case OP_GEN: op_gen(c); break;
    }
}

/* SOAK_INJECT=hang: a ticker keeps a timer pending (so the runtime's
 * deadlock detector cannot see it) while one actor waits for good. */
static void ticker_main(void *arg)
{
    (void)arg;
    for (;;)
        goc_sleep(5 * MS);
}

static void inject_hang(ctx *c)
{
    goc_go(ticker_main, NULL);
    goc_chan *never = goc_chan_make(sizeof(val), 0);
    set_doing(c, "SOAK_INJECT=hang: goc_chan_recv on a channel nobody knows");
    fprintf(stderr, "soak: SOAK_INJECT=hang: actor %u blocks for good\n", c->no);
    val v;
    (void)goc_chan_recv(never, &v);
}

static void *actor_main(void *arg)
{
    ctx *c = arg;
    atomic_store(&c->co_id, goc__self() ? goc__self()->id : 0);
    atomic_store(&c->state, 1);
    if (g_inject == INJECT_HANG && E.index == 1 && c->no == 1)
        inject_hang(c);
    while (more())
        run_ops(c, 0);
    /* wind down: children end once everything is closed */
    while (c->nkids) {
        kid kd = c->kids[c->nkids - 1];
        c->nkids--;
        if (chance(&c->rng, 50)) {
            (void)goc_cancel(kd.t);
            kd.cancelled = 1;
        }
        set_doing(c, "winding down: goc_join");
        void *res = NULL;
        int r = goc_join(kd.t, &res);
        check_join(c, &kd, r, res, "goc_join (wind-down)");
    }
    if (c->gen)
        gen_close(c);
    set_doing(c, "returned");
    atomic_store(&c->state, 2);
    atomic_fetch_sub(&E.live, 1);
    return KID_MAGIC(c);
}

/* plain pthreads: try-operations, closes, timeout-0 queue calls */
static void *pthread_main(void *arg)
{
    ctx *c = arg;
    atomic_store(&c->state, 1);
    unsigned n = 0;
    while (more()) {
        unsigned k = rnd(&c->rng, 1000);
        if (k < 450)
            op_send(c, SEND_TRY);
        else if (k < 850)
            op_recv(c, SEND_TRY);
        else if (k < 852)
            op_close(c);
        else if (k < 925)
            op_qput(c);
        else
            op_qget(c);
        atomic_fetch_add_explicit(&n_pthread_ops, 1, memory_order_relaxed);
        if (++n % 8 == 0)
            sched_yield();
        if (n % 128 == 0) {
            struct timespec ts = { 0, 20000 };
            nanosleep(&ts, NULL);
        }
    }
    set_doing(c, "returned");
    atomic_store(&c->state, 2);
    atomic_store(&c->thread_done, 1);
    return NULL;
}

/* ------------------------------------------------------------ the epoch */

static int g_setup_failed;

static void phase(const char *p)
{
    atomic_store(&main_phase, p);
    atomic_fetch_add(&main_steps, 1);
}

/* Reset E for a new epoch of `ops` operations. */
static int epoch_setup(int index, uint64_t ops, uint64_t *mrng)
{
    E.index = index;
    atomic_store(&g_epoch_no, index);
    E.rng = mix3(g_seed, (uint64_t)index, 0xE90C);
    E.target = atomic_load(&ops_done) + ops;
    atomic_store(&E.stop, 0);
    E.sealed = 0;
    atomic_store(&E.nch, 0);
    atomic_store(&E.nq, 0);
    E.nslots = 16 + (int)rnd(&E.rng, MAX_SLOTS - 16 + 1);
    E.nqslots = 1 + (int)rnd(&E.rng, MAX_QSLOTS);
    pthread_mutex_lock(&E.ent_lock);
    for (int s = 0; s < E.nslots; s++) {
        atomic_store(&E.slot[s], chent_make_locked(&E.rng));
        atomic_store(&E.slot_busy[s], 0);
    }
    for (int s = 0; s < E.nqslots; s++) {
        atomic_store(&E.qslot[s], qent_make_locked(&E.rng));
        atomic_store(&E.qslot_busy[s], 0);
    }
    pthread_mutex_unlock(&E.ent_lock);
    for (int s = 0; s < E.nslots; s++)
        if (atomic_load(&E.slot[s]) < 0)
            return -1;
    for (int s = 0; s < E.nqslots; s++)
        if (atomic_load(&E.qslot[s]) < 0)
            return -1;
    E.mu = goc_mutex_new();
    atomic_store(&E.mu_holders, 0);
    E.mu_plain = 0;
    atomic_store(&E.mu_locks, 0);
    E.sem_permits = 1 + (int64_t)rnd(&E.rng, 4);
    E.sem = goc_sem_new(E.sem_permits);
    atomic_store(&E.sem_holders, 0);
    E.wg = goc_wg_new();
    if (!E.mu || !E.sem || !E.wg) {
        fail("goc_mutex_new / goc_sem_new / goc_wg_new returned NULL");
        return -1;
    }
    /* ids: each op allocates at most 4, and ops in flight may overshoot */
    uint64_t cap = ops * 4 + (uint64_t)MAX_CTX * 8 + 1024;
    if (cap > E.id_cap || !E.sent_bits) {
        free(E.sent_bits);
        free(E.recv_bits);
        free(E.dest);
        free(E.src);
        free(E.sent_by);
        E.sent_bits = calloc(cap / 64 + 1, sizeof *E.sent_bits);
        E.recv_bits = calloc(cap / 64 + 1, sizeof *E.recv_bits);
        E.dest = calloc(cap + 1, sizeof *E.dest);
        E.src = calloc(cap + 1, sizeof *E.src);
        E.sent_by = calloc(cap + 1, sizeof *E.sent_by);
        if (!E.sent_bits || !E.recv_bits || !E.dest || !E.src || !E.sent_by) {
            fail("out of memory for %" PRIu64 " ids", cap);
            return -1;
        }
        E.id_cap = cap;
    } else {
        memset((void *)E.sent_bits, 0, (E.id_cap / 64 + 1) * sizeof *E.sent_bits);
        memset((void *)E.recv_bits, 0, (E.id_cap / 64 + 1) * sizeof *E.recv_bits);
        /* dest / src / sent_by are written before they are read */
    }
    atomic_store(&E.id_next, 0);
    atomic_store(&g_nctx, 0);
    (void)mrng;
    return 0;
}

/* All ids of the epoch: sent once <=> received once, at the same place. */
static void epoch_verify(void)
{
    uint64_t top = atomic_load(&E.id_next);
    if (top > E.id_cap)
        top = E.id_cap;
    int lost = 0, phantom = 0, misrouted = 0;
    for (uint64_t id = 1; id <= top; id++) {
        int s = bit_get(E.sent_bits, id), r = bit_get(E.recv_bits, id);
        if (s == r && !s)
            continue;
        char w1[64], w2[64];
        if (s && !r) {
            if (lost++ < 10) {
                where_str(atomic_load(&E.dest[id]), w1, sizeof w1);
                fail("LOST: id %" PRIu64 " (sender %u) was sent to %s successfully, "
                     "never received (nor left in it after close + drain)",
                     id, atomic_load(&E.sent_by[id]), w1);
            }
        } else if (!s && r) {
            if (phantom++ < 10) {
                where_str(atomic_load(&E.src[id]), w1, sizeof w1);
                fail("PHANTOM: id %" PRIu64 " was received from %s, but its send did not "
                     "succeed", id, w1);
            }
        } else if (atomic_load(&E.dest[id]) != atomic_load(&E.src[id])) {
            if (misrouted++ < 10) {
                where_str(atomic_load(&E.dest[id]), w1, sizeof w1);
                where_str(atomic_load(&E.src[id]), w2, sizeof w2);
                fail("MISROUTED: id %" PRIu64 " was sent to %s but received from %s", id, w1, w2);
            }
        }
    }
    if (lost || phantom || misrouted)
        fail("epoch %d: %d lost, %d phantom, %d misrouted values of %" PRIu64 " ids",
             E.index, lost, phantom, misrouted, top);
}

static void epoch_run(void)
{
    /* actors and pthreads */
    int nactors = 4 + (int)rnd(&E.rng, 29);
    int npth = chance(&E.rng, 10) ? 0 : 1 + (int)rnd(&E.rng, 3);
    goc_task *actors[32];
    ctx *actx[32];
    ctx *pth[3];
    phase("spawning actors");
    /* contexts first, while nothing runs that could fill the arena */
    for (int i = 0; i < nactors; i++)
        actx[i] = ctx_new(K_ACTOR, 0xAC);
    for (int i = 0; i < npth; i++)
        pth[i] = ctx_new(K_PTHREAD, 0x97);
    for (int i = 0; i < nactors; i++) {
        ctx *c = actx[i];
        atomic_fetch_add(&E.live, 1);
        actors[i] = goc_spawn(actor_main, c);
        if (!actors[i]) {
            atomic_fetch_sub(&E.live, 1);
            fail("goc_spawn(actor) returned NULL");
        } else {
            atomic_fetch_add_explicit(&n_coroutines, 1, memory_order_relaxed);
        }
    }
    for (int i = 0; i < npth; i++) {
        if (pthread_create(&pth[i]->thread, NULL, pthread_main, pth[i]) != 0) {
            fail("pthread_create failed");
            pth[i] = NULL;
        }
    }

    /* run to the target; unjam when nothing completes */
    phase("running");
    uint64_t last = atomic_load(&ops_done);
    int still = 0;
    while (atomic_load(&ops_done) < E.target) {
        goc_sleep(250 * US); /* polls are not progress: the watchdog ignores them */
        uint64_t now = atomic_load(&ops_done);
        if (now != last) {
            last = now;
            still = 0;
            continue;
        }
        if (++still < 2)
            continue;
        still = 0;
        /* every soak coroutine may be blocked on a channel or queue nobody
         * serves: close a few that somebody is blocked on */
        int n = atomic_load(&g_nctx);
        for (int k = 0; k < 3; k++) {
            int pick = -1, seen = 0;
            for (int i = 0; i < n; i++) {
                int b = atomic_load(&g_ctx[i].blk);
                if (b && rnd(&E.rng, (uint32_t)++seen) == 0)
                    pick = b;
            }
            if (pick <= 0)
                break;
            unjam_code((uint16_t)pick);
            atomic_fetch_add(&n_unjams, 1);
        }
    }

    /* stop, seal, close everything */
    phase("stopping pthreads");
    atomic_store(&E.stop, 1);
    for (int i = 0; i < npth; i++) {
        if (!pth[i])
            continue;
        while (!atomic_load(&pth[i]->thread_done))
            goc_sleep(100 * US);
        pthread_join(pth[i]->thread, NULL);
    }
    phase("closing everything");
    pthread_mutex_lock(&E.ent_lock);
    E.sealed = 1;
    pthread_mutex_unlock(&E.ent_lock);
    int nch = atomic_load(&E.nch), nq = atomic_load(&E.nq);
    for (int e = 0; e < nch; e++)
        if (!atomic_load(&E.ch[e].closed))
            close_chent(e, "epoch end");
    for (int e = 0; e < nq; e++)
        if (!atomic_load(&E.q[e].closed))
            close_qent(e, "epoch end");

    phase("joining actors");
    for (int i = 0; i < nactors; i++) {
        if (!actors[i])
            continue;
        void *res = NULL;
        int r = goc_join(actors[i], &res);
        if (r != 0 || res != KID_MAGIC(actx[i]))
            fail("goc_join(actor %u) returned %s, result %p", actx[i]->no, es(r), res);
    }
    phase("waiting for goc_go children");
    int r = goc_wg_wait(E.wg);
    if (r != 0)
        fail("goc_wg_wait returned %s", es(r));

    /* closes racing the end may still be finishing: wait for slot owners */
    for (int s = 0; s < E.nslots; s++)
        while (atomic_load(&E.slot_busy[s]))
            goc_yield();
    for (int s = 0; s < E.nqslots; s++)
        while (atomic_load(&E.qslot_busy[s]))
            goc_yield();

    /* drain, free, check */
    phase("draining");
    ctx *d = ctx_new(K_DRAIN, 0xD0);
    ctx dummy;
    if (!d) {
        memset(&dummy, 0, sizeof dummy);
        dummy.kind = K_DRAIN;
        d = &dummy;
    }
    for (int e = 0; e < nch; e++) {
        chent *ce = &E.ch[e];
        goc_chan *ch = chan_of(e);
        if (atomic_load(&ce->close_ok) != 1)
            fail("channel #%d: %d closes returned 0 (want 1)", e, atomic_load(&ce->close_ok));
        size_t len = goc_chan_len(ch);
        size_t got = 0;
        for (;;) {
            val v;
            poison(&v);
            int rr = goc_chan_tryrecv(ch, &v);
            if (rr == 0) {
                got_val(d, &v, (uint16_t)(e + 1), "drain");
                got++;
                continue;
            }
            if (rr == GOC_ECLOSED) {
                check_zeroed(d, &v, "drain tryrecv", e);
                break;
            }
            fail("drain: goc_chan_tryrecv on closed channel #%d returned %s", e, es(rr));
            break;
        }
        if (got != len)
            fail("channel #%d: goc_chan_len said %zu, drained %zu", e, len, got);
        if (len > ce->cap)
            fail("channel #%d: goc_chan_len %zu > cap %zu", e, len, ce->cap);
        if (goc_chan_len(ch) != 0)
            fail("channel #%d: not empty after drain", e);
        int fr = goc_chan_free(ch);
        if (fr != 0)
            fail("goc_chan_free(channel #%d) at epoch end returned %s", e, es(fr));
        atomic_store(&ce->ch, NULL);
    }
    for (int e = 0; e < nq; e++) {
        qent *qe = &E.q[e];
        goc_queue *q = queue_of(e);
        if (atomic_load(&qe->close_ok) != 1)
            fail("queue #%d: %d closes returned 0 (want 1)", e, atomic_load(&qe->close_ok));
        size_t len = goc_queue_len(q), got = 0;
        for (;;) {
            val v;
            poison(&v);
            int rr = goc_queue_get(q, &v, 0);
            if (rr == 0) {
                got_val(d, &v, (uint16_t)(QCODE | (unsigned)e), "drain");
                got++;
                int td = goc_queue_task_done(q);
                if (td != 0)
                    fail("drain: goc_queue_task_done returned %s", es(td));
                continue;
            }
            if (rr != GOC_ECLOSED)
                fail("drain: goc_queue_get(timeout 0) on closed queue #%d returned %s", e, es(rr));
            break;
        }
        if (got != len)
            fail("queue #%d: goc_queue_len said %zu, drained %zu", e, len, got);
        if (qe->maxsize && len > qe->maxsize)
            fail("queue #%d: len %zu > maxsize %zu", e, len, qe->maxsize);
        int jr = goc_queue_join(q, 0);
        if (jr != 0)
            fail("queue #%d: goc_queue_join(0) after every get was marked done returned %s",
                 e, es(jr));
        int td = goc_queue_task_done(q);
        if (td != GOC_EINVAL)
            fail("queue #%d: an extra task_done returned %s, not GOC_EINVAL", e, es(td));
        int fr = goc_queue_free(q);
        if (fr != 0)
            fail("goc_queue_free(queue #%d) returned %s", e, es(fr));
        atomic_store(&qe->q, NULL);
    }
    phase("checking");
    if (E.mu_plain != atomic_load(&E.mu_locks))
        fail("mutex: the counter it guards says %" PRIu64 ", %" PRIu64 " lock sections ran",
             E.mu_plain, atomic_load(&E.mu_locks));
    r = goc_mutex_free(E.mu);
    if (r != 0)
        fail("goc_mutex_free returned %s", es(r));
    if (goc_sem_value(E.sem) != E.sem_permits)
        fail("semaphore: value %" PRId64 " at epoch end, %" PRId64 " permits",
             goc_sem_value(E.sem), E.sem_permits);
    r = goc_sem_free(E.sem);
    if (r != 0)
        fail("goc_sem_free returned %s", es(r));
    goc_wg_free(E.wg);
    E.mu = NULL;
    E.sem = NULL;
    E.wg = NULL;
    long live = atomic_load(&E.live);
    if (live != 0)
        fail("%ld soak coroutines still running at epoch end", live);
    int n = atomic_load(&g_nctx);
    for (int i = 0; i < n; i++) {
        ctx *c = &g_ctx[i];
        if (c->kind != K_DRAIN && atomic_load(&c->state) == 1)
            fail("%s %u still running at epoch end (doing %s)", kind_name[c->kind], c->no,
                 atomic_load(&c->doing));
    }
    epoch_verify();
    n_epochs++;
}

static int count_alive_n;
static void count_alive(goc_co *co)
{
    (void)co;
    count_alive_n++;
}

static double g_seconds;
static int g_run_rc;

static void soak_main(void *arg)
{
    (void)arg;
    uint64_t mrng = mix3(g_seed, 0x3A1, 0);
    uint64_t base = g_total_ops / 10;
    if (base < 1000)
        base = 1000;
    if (base > 25000)
        base = 25000; /* long epochs drift into "most actors blocked" */
    int64_t t0 = goc_now();
    for (int ep = 0; atomic_load(&ops_done) < g_total_ops && !g_setup_failed; ep++) {
        uint64_t ops = base / 2 + rnd(&mrng, (uint32_t)base + 1);
        uint64_t left = g_total_ops - atomic_load(&ops_done);
        if (ops > left)
            ops = left;
        phase("epoch setup");
        if (epoch_setup(ep, ops, &mrng) != 0) {
            g_setup_failed = 1;
            break;
        }
        epoch_run();
        if (g_verbose)
            fprintf(stderr, "soak: epoch %d: %d slots, %d queues, %d contexts, ops %" PRIu64 "\n",
                    ep, E.nslots, E.nqslots, atomic_load(&g_nctx), atomic_load(&ops_done));
        if (atomic_load(&g_failures) > 0)
            break; /* one epoch's report is enough to debug */
    }
    /* every coroutine ends: only main is left (the goc_go children may be
     * between goc_wg_done and their return for a moment) */
    phase("waiting for the last coroutines to end");
    goc_runtime *rt = goc__runtime();
    int64_t until = goc_now() + 10 * SEC;
    for (;;) {
        count_alive_n = 0;
        goc__co_each_alive(rt, count_alive);
        if (count_alive_n <= 1 || goc_now() > until)
            break;
        goc_sleep(MS);
    }
    if (count_alive_n != 1)
        fail("%d coroutines alive after the last epoch (only main should be)", count_alive_n);
    g_seconds = (double)(goc_now() - t0) / 1e9;
    phase("goc_run returning");
}

/* ------------------------------------------------------------ watchdog */

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cond = PTHREAD_COND_INITIALIZER;
static int wd_stop;

static void dump_co(goc_co *co)
{
    const char *what = atomic_load_explicit(&co->wait_what, memory_order_relaxed);
    fprintf(stderr, "    coroutine %" PRIu64 "%s: wstate 0x%x on_cpu %u, waiting on %s\n", co->id,
            co->flags & GOC_CO_MAIN ? " (main)" : "", (unsigned)atomic_load(&co->wstate),
            (unsigned)atomic_load(&co->on_cpu), what ? what : "-");
}

static void watchdog_dump(int secs)
{
    alarm(20); /* if the dump itself hangs, SIGALRM ends the process */
    fprintf(stderr,
            "\nsoak: WATCHDOG: no progress for %d s (seed %" PRIu64 ", workers %d, epoch %d, "
            "main: %s, ops %" PRIu64 " of target %" PRIu64 ")\n",
            secs, g_seed, g_workers, atomic_load(&g_epoch_no), atomic_load(&main_phase),
            atomic_load(&ops_done), E.target);
    int n = atomic_load(&g_nctx);
    if (n > MAX_CTX)
        n = MAX_CTX;
    fprintf(stderr, "  soak contexts still running:\n");
    int shown = 0;
    for (int i = 0; i < n; i++) {
        ctx *c = &g_ctx[i];
        if (atomic_load(&c->state) != 1 || shown++ > 200)
            continue;
        int b = atomic_load(&c->blk);
        char w[64] = "";
        if (b)
            where_str((uint16_t)b, w, sizeof w);
        fprintf(stderr, "    %s %u (coroutine %" PRIu64 "): %s%s%s, %" PRIu64 " ops\n",
                kind_name[c->kind], c->no, atomic_load(&c->co_id), atomic_load(&c->doing),
                b ? " on " : "", w, c->ops);
    }
    goc_runtime *rt = goc__runtime();
    if (rt) {
        fprintf(stderr, "  workers:\n");
        for (int i = 0; i < rt->nworkers; i++) {
            goc_worker *w = &rt->workers[i];
            fprintf(stderr, "    worker %d: running coroutine %" PRIu64 ", %" PRIu64
                    " switches, idle %d, blocked %d\n", i, atomic_load(&w->cur_id),
                    atomic_load(&w->nswitch), atomic_load(&w->idle), atomic_load(&w->blocked));
        }
        fprintf(stderr, "  live coroutines (runtime):\n");
        /* the pool lock may be held by a stuck worker: try for a while */
        int locked = 0;
        for (int i = 0; i < 100 && !locked; i++) {
            if (pthread_mutex_trylock(&rt->cos.lock) == 0)
                locked = 1;
            else
                usleep(10000);
        }
        if (!locked)
            fprintf(stderr, "    (coroutine pool lock held: walking without it)\n");
        int k = 0;
        for (goc_co_slab *s = rt->cos.slabs; s; s = s->next)
            for (uint32_t i = 0; i < s->n; i++)
                if (atomic_load(&s->cos[i].life) == GOC_LIFE_ALIVE && k++ < 300)
                    dump_co(&s->cos[i]);
        if (k > 300)
            fprintf(stderr, "    ... %d in all\n", k);
        if (locked)
            pthread_mutex_unlock(&rt->cos.lock);
    } else {
        fprintf(stderr, "  (no runtime running)\n");
    }
    fprintf(stderr, "soak: FAIL: hang (replay: goc-soak --seed %" PRIu64 " --workers %d --ops %"
            PRIu64 "; GOC_DEBUG=1 names coroutines that hold a worker)\n",
            g_seed, g_workers, g_total_ops);
    fflush(stderr);
    fflush(stdout);
    _exit(3); /* not abort(): ctest counts a signal as a crash, whatever it printed */
}

static uint64_t progress(void)
{
    return atomic_load(&ops_done) + atomic_load(&main_steps);
}

static void *watchdog_main(void *arg)
{
    (void)arg;
    uint64_t last = progress();
    struct timespec t_last, t_prog;
    clock_gettime(CLOCK_MONOTONIC, &t_last);
    t_prog = t_last;
    pthread_mutex_lock(&wd_lock);
    while (!wd_stop) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 1;
        pthread_cond_timedwait(&wd_cond, &wd_lock, &dl);
        if (wd_stop)
            break;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t p = progress();
        if (p != last) {
            last = p;
            t_last = now;
        } else if (now.tv_sec - t_last.tv_sec >= g_watchdog_s) {
            watchdog_dump((int)(now.tv_sec - t_last.tv_sec));
        }
        if (g_progress_s > 0 && now.tv_sec - t_prog.tv_sec >= g_progress_s) {
            t_prog = now;
            fprintf(stderr, "soak: ... %" PRIu64 " ops, epoch %d\n", atomic_load(&ops_done),
                    atomic_load(&g_epoch_no));
        }
    }
    pthread_mutex_unlock(&wd_lock);
    return NULL;
}

/* ------------------------------------------------------------ main */

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end == 'e' || *end == 'E' || *end == '.') { /* 1e6 */
        double d = strtod(s, &end);
        if (*end || d < 0 || d > 1.8e19)
            return -1;
        v = (unsigned long long)d;
    } else if (*end || errno) {
        return -1;
    }
    *out = v;
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: goc-soak [SEED] [--seed N] [--ops N] [--workers N] [--watchdog SEC]\n"
            "                [--progress SEC] [--pin] [--verbose]\n"
            "env: SOAK_SEED, SOAK_OPS (default 1e6), SOAK_WORKERS (else GOC_WORKERS, else 2),\n"
            "     SOAK_WATCHDOG (30), SOAK_PROGRESS, SOAK_INJECT=drop|dup|hang\n");
}

int main(int argc, char **argv)
{
    int have_seed = 0;
    const char *env;
    uint64_t u;
    if ((env = getenv("SOAK_SEED")) && *env) {
        if (parse_u64(env, &g_seed)) {
            fprintf(stderr, "soak: bad SOAK_SEED '%s'\n", env);
            return 2;
        }
        have_seed = 1;
    }
    if ((env = getenv("SOAK_OPS")) && *env) {
        if (parse_u64(env, &g_total_ops) || g_total_ops == 0) {
            fprintf(stderr, "soak: bad SOAK_OPS '%s'\n", env);
            return 2;
        }
    }
    if (((env = getenv("SOAK_WORKERS")) && *env) || ((env = getenv("GOC_WORKERS")) && *env)) {
        if (parse_u64(env, &u) || u < 1 || u > 1024) {
            fprintf(stderr, "soak: bad worker count '%s'\n", env);
            return 2;
        }
        g_workers = (int)u;
    }
    if ((env = getenv("SOAK_WATCHDOG")) && *env && !parse_u64(env, &u) && u > 0)
        g_watchdog_s = (int)u;
    if ((env = getenv("SOAK_PROGRESS")) && *env && !parse_u64(env, &u))
        g_progress_s = (int)u;
    if ((env = getenv("SOAK_INJECT")) && *env) {
        if (!strcmp(env, "drop"))
            g_inject = INJECT_DROP;
        else if (!strcmp(env, "dup"))
            g_inject = INJECT_DUP;
        else if (!strcmp(env, "hang"))
            g_inject = INJECT_HANG;
        else {
            fprintf(stderr, "soak: SOAK_INJECT must be drop, dup or hang\n");
            return 2;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;
#define OPT(name) (!strncmp(a, name, strlen(name)) && \
                   (a[strlen(name)] == '=' ? (v = a + strlen(name) + 1, 1) : \
                    a[strlen(name)] == 0 ? (v = i + 1 < argc ? argv[++i] : NULL, 1) : 0))
        if (OPT("--seed")) {
            if (parse_u64(v, &g_seed))
                goto bad;
            have_seed = 1;
        } else if (OPT("--ops")) {
            if (parse_u64(v, &g_total_ops) || !g_total_ops)
                goto bad;
        } else if (OPT("--workers") || OPT("-w")) {
            if (parse_u64(v, &u) || u < 1 || u > 1024)
                goto bad;
            g_workers = (int)u;
        } else if (OPT("--watchdog")) {
            if (parse_u64(v, &u) || !u)
                goto bad;
            g_watchdog_s = (int)u;
        } else if (OPT("--progress")) {
            if (parse_u64(v, &u))
                goto bad;
            g_progress_s = (int)u;
        } else if (!strcmp(a, "--pin")) {
            g_pin = 1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            g_verbose = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            return 0;
        } else if (a[0] != '-' && !parse_u64(a, &g_seed)) {
            have_seed = 1;
        } else {
            goto bad;
        }
        continue;
    bad:
        fprintf(stderr, "soak: bad argument '%s'\n", a);
        usage();
        return 2;
#undef OPT
    }
    if (!have_seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
        g_seed = splitmix(&s) % 1000000000000ull;
    }
    printf("soak: seed=%" PRIu64 " workers=%d ops=%" PRIu64 "\n", g_seed, g_workers, g_total_ops);
    fflush(stdout);
    if (g_progress_s == 0 && g_total_ops >= 10000000)
        g_progress_s = 60;

    mix_init();
    pthread_mutex_init(&E.ent_lock, NULL);
    g_ctx = calloc(MAX_CTX, sizeof *g_ctx);
    if (!g_ctx) {
        fprintf(stderr, "soak: out of memory\n");
        return 1;
    }
    pthread_t wd;
    if (pthread_create(&wd, NULL, watchdog_main, NULL) != 0) {
        fprintf(stderr, "soak: cannot start the watchdog\n");
        return 1;
    }
    goc_config cfg = { .workers = g_workers, .pin = g_pin, .stack_size = 0 };
    g_run_rc = goc_run(&cfg, soak_main, NULL);
    phase("after goc_run");
    if (g_run_rc != 0)
        fail("goc_run returned %d (%s)", g_run_rc, es(g_run_rc));
    pthread_mutex_lock(&wd_lock);
    wd_stop = 1;
    pthread_cond_signal(&wd_cond);
    pthread_mutex_unlock(&wd_lock);
    pthread_join(wd, NULL);

    free(E.sent_bits);
    free(E.recv_bits);
    free(E.dest);
    free(E.src);
    free(E.sent_by);
    free(g_ctx);
    pthread_mutex_destroy(&E.ent_lock);

    long f = atomic_load(&g_failures);
    uint64_t vals = atomic_load(&n_values_chan) + atomic_load(&n_values_queue) +
                    atomic_load(&n_values_gen);
    printf("soak: %s ops=%" PRIu64 " values=%" PRIu64 " (chan %" PRIu64 ", queue %" PRIu64
           ", gen %" PRIu64 ") coroutines=%" PRIu64 " cancels=%" PRIu64 " closes=%" PRIu64
           " timeouts=%" PRIu64 " unjams=%" PRIu64 " pthread_ops=%" PRIu64 " epochs=%" PRIu64
           " seconds=%.2f workers=%d seed=%" PRIu64 "%s\n",
           f ? "FAIL" : "PASS", atomic_load(&ops_done), vals, atomic_load(&n_values_chan),
           atomic_load(&n_values_queue), atomic_load(&n_values_gen), atomic_load(&n_coroutines),
           atomic_load(&n_cancels), atomic_load(&n_closes), atomic_load(&n_timeouts),
           atomic_load(&n_unjams), atomic_load(&n_pthread_ops), n_epochs, g_seconds, g_workers,
           g_seed, f ? "" : "");
    if (f)
        printf("soak: %ld failed check(s); replay with: goc-soak --seed %" PRIu64
               " --workers %d --ops %" PRIu64 "\n", f, g_seed, g_workers, g_total_ops);
    return f ? 1 : 0;
}
