/*
 * fuzz_api.c - libFuzzer harness for the public API: the input is a
 * program of API calls on a few channels (unbuffered, buffered, a signal
 * channel of elem_size 0), a mutex, a semaphore, a queue, an event, two
 * generator slots and a task group, run by the main coroutine and the
 * coroutines it starts (goc_spawn tasks, goc_go coroutines, group
 * members), inside one goc_run (one worker) per input. The harness keeps
 * its own model of every object and aborts when the runtime disagrees.
 *
 * Input: byte 0 is the config (bit 0: 16 KiB stacks instead of the
 * default; bits 1-7: a GOC_CHAOS seed for the run, 0 for none, so that
 * the input also picks among the scheduling orders the runtime may
 * take), then up to MAX_OPS operations of 3 bytes each: op, a, b (the OP_
 * list below; op is taken modulo NOPS). A SPAWN (or a group GO) takes the
 * next k operations as the new coroutine's program (the parent skips
 * them), so every operation runs at most once: at most MAX_OPS per input.
 * FUZZ_API_TRACE=1 in the environment prints each call and its result.
 *
 * No input can hang: main uses only non-blocking calls and timeouts of
 * at most 100 us (and generator nexts, which a generator that only
 * yields always answers); the other coroutines may also block without a
 * timeout, and are released by cancellation: main cancels the group and
 * every task it can reach, and joins them, at the end, and goc_run
 * cancels what is left (goc_go coroutines, detached tasks) once main
 * returns. Joins go only from a coroutine to tasks started after it, and
 * only main waits for the group, once no member runs, so no cycle of
 * waits can form.
 *
 * What is checked (one worker, so the harness sees a consistent state
 * between calls):
 *   - values: every value sent is unique (an index into a table); a value
 *     received was sent on that channel (or put on the queue), arrives
 *     once, never after its send failed; values from one sender reach
 *     each receiver in the order sent (FIFO); at the end every value
 *     whose send succeeded was received or is still buffered (drained
 *     after goc_run), none other; the signal channel by counts;
 *   - closing: close returns 0 once, then GOC_ECLOSED; a send on a closed
 *     channel returns GOC_ECLOSED; a receive on a closed, empty one
 *     GOC_ECLOSED with the element zeroed; GOC_ECLOSED only from a closed
 *     channel;
 *   - readiness: trysend/tryrecv on a buffered channel succeed exactly
 *     when there is room / an element; a select with a case known ready
 *     performs one and never times out; a select performs only the case
 *     it returns (never the nil one); a timed-out call waited at least
 *     its timeout;
 *   - cancellation: GOC_ECANCELED only in a cancelled coroutine;
 *     goc_cancelled() matches the cancels made; goc_join / goc_wait_for
 *     report the task's outcome (its value, its goc_fail error, or
 *     GOC_ECANCELED), goc_wait_for returns only once the task returned;
 *     goc_done and goc_wait_first agree with the tasks that ended;
 *   - mutex: at most one holder; trylock succeeds on a free mutex; unlock
 *     of a free one is GOC_EPERM; semaphore: permits held plus value never
 *     exceed the initial count, and equal it when nobody waits;
 *   - queue: puts/gets as channels, task_done refused exactly when
 *     nothing is undone, join(0) succeeds exactly when all is done;
 *   - event: is_set and wait(0) follow set/clear;
 *   - generators: fn runs only once asked, never when closed first; each
 *     value 1..n is delivered at most once, in order to each consumer;
 *     GOC_ECLOSED only once fn returned (or was never started) with
 *     every value taken; GOC_EBUSY only beside another next or a close;
 *     close returns only once fn did;
 *   - task group: group_go refused (GOC_ECANCELED) exactly once the group
 *     failed; group_wait returns the first failure (a member's goc_fail,
 *     or the group's cancel);
 *   - at the end: goc_run returned 0 (no deadlock), every coroutine ended,
 *     nothing lost or leaked (ASan/LSan), every object frees with 0.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goc.h>

#define MAX_OPS  64
#define MAX_CO   16
#define NCH      4          /* channels 0..3 */
#define SIG      3          /* channel 3: elem_size 0 */
#define QID      4          /* the queue, as a destination of values */
#define NDEST    5
#define MAX_VALS (MAX_OPS * 6 + 8)
#define QMAX     2
#define NGEN     2          /* generator slots */
#define PERMITS  2
#define EDOM_ERR (-EDOM)    /* what a task that goc_fail's fails with */

static const size_t ch_cap[NCH] = { 0, 1, 3, 2 };
static const int64_t small_tmo[4] = { 0, 1000, 20000, 100000 };

/* The operations, op a b. "mode" is b & 3: 0 try (trysend/tryrecv, or a
 * timeout of 0), 1 select/timeout 0, 2 a small timeout (small_tmo[1 +
 * (b >> 2) % 3]), 3 no timeout (main: the small one instead).
 *   SEND, RECV  channel a % 4, mode
 *   SELECT      a: bits 0-3 the channels, bits 4-7 send (1) or recv;
 *               b: mode, 0x10 add a nil case, 0x20 the first case twice
 *   CLOSE       a % 5: a channel, or 4: the queue
 *   SPAWN       the next a % 8 + 1 ops as a new coroutine; b & 1: goc_go
 *   JOIN        task a % ncoroutines; b & 3: goc_join, wait_for(0),
 *               wait_for(small), goc_join (main: wait_for(small))
 *   CANCEL      task a % ncoroutines
 *   SLEEP       b & 2: yield; b & 1: sleep(small / 2); else sleep(0)
 *   MUTEX       a & 3: trylock, lock (main: trylock), unlock, unlock
 *   SEM         a & 3: tryacquire, acquire (main: try), release, value
 *   QPUT, QGET  mode
 *   QMISC       a & 1: join(mode), else task_done
 *   EVENT       a & 3: set, clear, wait(mode)
 *   FAIL        the coroutine ends with goc_fail(-EDOM)
 *   CHECK       a & 3: goc_cancelled, goc_done + wait_first(0), lens, workers
 *   GEN         slot (a >> 2) % 2; a & 3: new (b % 5 values), next(mode),
 *               close, next(0)
 *   GROUP       a & 3: go (the next b % 8 + 1 ops), cancel, wait (main,
 *               only once no member runs) */
enum {
    OP_SEND, OP_RECV, OP_SELECT, OP_CLOSE, OP_SPAWN, OP_JOIN, OP_CANCEL, OP_SLEEP,
    OP_MUTEX, OP_SEM, OP_QPUT, OP_QGET, OP_QMISC, OP_EVENT, OP_FAIL, OP_CHECK,
    OP_GEN, OP_GROUP, NOPS
};

/* How a blocking-capable call is made: mode 0..3. */
enum { M_TRY, M_ZERO, M_TIMED, M_BLOCK };

enum { V_FREE, V_PENDING, V_OK, V_FAILED };

typedef struct val {
    uint8_t dest, sender, state, received;
    uint32_t seq;
} val;

typedef struct coro {
    int id, is_main, is_go, is_member; /* is_member: of the task group */
    const uint8_t *prog;
    size_t nops;
    goc_task *task;
    int consumed;   /* the handle was given to a join */
    int cancel_req; /* cancelled (goc_cancel) while alive */
    int may_cancel; /* a goc_wait_for on it may cancel it (its timeout) */
    int failing;
    int ended;
    int mutex_held;
    int permits;
    uint32_t next_seq[NDEST];
    uint32_t last_seq[NDEST][MAX_CO];
    unsigned gen_epoch[NGEN]; /* per generator slot: which generator this */
    int gen_last[NGEN];       /* coroutine last got a value from, and that value */
} coro;

typedef struct gen_slot {
    goc_gen *g;
    int n;            /* fn yields 1..n */
    int asked;        /* a goc_gen_next was called */
    int started, ended;
    int inflight;     /* goc_gen_next calls in progress */
    int closing;      /* a goc_gen_close in progress */
    int cut;          /* a yield returned GOC_ECANCELED: fn stopped early */
    unsigned delivered; /* bit v: value v was delivered */
    int ndelivered;
    unsigned epoch;   /* which generator this is, of those in the slot */
} gen_slot;

typedef struct world {
    goc_chan *ch[NCH];
    int closed[NCH];
    long sig_pending, sig_ok, sig_recv;
    goc_mutex *mu;
    int mu_holder; /* coroutine id, -1 */
    int mu_waiters;
    goc_sem *sem;
    int sem_held, sem_waiters;
    goc_queue *q;
    int q_closed, q_put_inflight, q_get_inflight;
    long q_puts_ok, q_gets_ok, q_done;
    goc_event *ev;
    int ev_set;
    val vals[MAX_VALS];
    int nvals;
    coro co[MAX_CO];
    int nco;
    int main_done;
    coro drain; /* the receiver that drains what is left */
    gen_slot gen[NGEN];
    goc_group *grp;
    int grp_err;      /* what goc_group_wait must return: the first failure */
    int grp_alive;    /* members started and not ended */
    int grp_final;    /* main is waiting for the group and freeing it */
    int gen_final;    /* main is closing the generators */
} world;

static world W;

#define FUZZ_NAME "fuzz_api"
#include "fuzz_check.h"

static int trace = -1;
#define TRACE(...)                                                           \
    do {                                                                     \
        if (trace > 0)                                                       \
            fprintf(stderr, __VA_ARGS__);                                    \
    } while (0)

static int cancel_known(const coro *me)
{
    return me->cancel_req || me->may_cancel || W.main_done || (me->is_member && W.grp_err);
}

/* rc may be GOC_ECANCELED only for a cancelled coroutine. */
static void check_cancel(const coro *me, int rc, const char *what)
{
    if (rc == GOC_ECANCELED)
        CHECK(cancel_known(me), "%s: GOC_ECANCELED in coroutine %d, never cancelled", what,
              me->id);
}

/* What a call with this timeout returns when it runs out: GOC_EAGAIN
 * for 0, GOC_ETIMEDOUT for > 0; nothing (1) when it waits forever. */
static int tmo_rc(int64_t tmo)
{
    return tmo == 0 ? GOC_EAGAIN : tmo > 0 ? GOC_ETIMEDOUT : 1;
}

static int64_t tmo_of(const coro *me, int mode, int b)
{
    if (mode == M_ZERO || mode == M_TRY)
        return 0;
    if (mode == M_BLOCK && !me->is_main)
        return -1;
    return small_tmo[1 + (b >> 2) % 3];
}

static int mode_of(const coro *me, int b)
{
    int m = b & 3;
    return m == M_BLOCK && me->is_main ? M_TIMED : m;
}

static void check_waited(int rc, int64_t t0, int64_t tmo, const char *what)
{
    if (rc == GOC_ETIMEDOUT) {
        CHECK(tmo > 0, "%s: GOC_ETIMEDOUT with timeout %lld", what, (long long)tmo);
        int64_t waited = goc_now() - t0;
        CHECK(waited >= tmo, "%s: timed out early: %lld of %lld ns", what, (long long)waited,
              (long long)tmo);
    }
}

/* ------------------------------------------------------------ values */

static int64_t new_value(coro *me, int dest)
{
    if (W.nvals >= MAX_VALS)
        return 0;
    val *v = &W.vals[W.nvals++];
    *v = (val){ .dest = (uint8_t)dest, .sender = (uint8_t)me->id, .state = V_PENDING,
                .seq = ++me->next_seq[dest] };
    return W.nvals; /* value = index + 1: never 0 */
}

static void sent(int64_t v, int ok)
{
    val *x = &W.vals[v - 1];
    CHECK(x->state == V_PENDING, "value %lld: send ended twice", (long long)v);
    if (!ok)
        CHECK(!x->received, "value %lld: its send failed but it was received", (long long)v);
    x->state = ok ? V_OK : V_FAILED;
}

static void received(coro *me, int dest, int64_t v)
{
    CHECK(v >= 1 && v <= W.nvals, "dest %d: received %lld, never sent", dest, (long long)v);
    val *x = &W.vals[v - 1];
    CHECK(x->dest == dest, "value %lld of dest %d received from dest %d", (long long)v,
          x->dest, dest);
    CHECK(!x->received, "value %lld received twice", (long long)v);
    CHECK(x->state == V_PENDING || x->state == V_OK,
          "value %lld received after its send failed", (long long)v);
    CHECK(x->seq > me->last_seq[dest][x->sender],
          "dest %d: from sender %d, seq %u after %u (not FIFO) in receiver %d", dest, x->sender,
          x->seq, me->last_seq[dest][x->sender], me->id);
    me->last_seq[dest][x->sender] = x->seq;
    x->received = 1;
}

/* ------------------------------------------------------------ channels */

static int send_ready(int c)
{
    return W.closed[c] || (ch_cap[c] > 0 && goc_chan_len(W.ch[c]) < ch_cap[c]);
}

static int recv_ready(int c)
{
    return goc_chan_len(W.ch[c]) > 0 || W.closed[c];
}

static void op_send(coro *me, int c, int b)
{
    int mode = mode_of(me, b);
    int64_t tmo = tmo_of(me, mode, b);
    int64_t v = 0;
    if (c != SIG && !(v = new_value(me, c)))
        return;
    int was_closed = W.closed[c], ready = send_ready(c);
    size_t len = goc_chan_len(W.ch[c]);
    const void *elem = c == SIG ? NULL : &v;
    if (c == SIG)
        W.sig_pending++;
    int rc, status = 0;
    int64_t t0 = goc_now();
    if (mode == M_TRY) {
        rc = goc_chan_trysend(W.ch[c], elem);
        CHECK(rc == 0 || rc == GOC_EAGAIN || rc == GOC_ECLOSED, "trysend: %d", rc);
        if (was_closed)
            CHECK(rc == GOC_ECLOSED, "trysend on closed ch %d: %d", c, rc);
        else if (ch_cap[c] > 0)
            CHECK(rc == (len < ch_cap[c] ? 0 : GOC_EAGAIN), "trysend ch %d len %zu: %d", c,
                  len, rc);
        status = rc;
    } else if (mode == M_BLOCK) {
        rc = goc_chan_send(W.ch[c], elem);
        CHECK(rc == 0 || rc == GOC_ECLOSED || rc == GOC_ECANCELED, "send: %d", rc);
        if (was_closed)
            CHECK(rc == GOC_ECLOSED, "send on closed ch %d: %d", c, rc);
        status = rc;
    } else {
        goc_case cs = { .ch = W.ch[c], .op = GOC_SEND, .elem = (void *)elem, .status = 99 };
        rc = goc_select(&cs, 1, tmo);
        CHECK(rc == 0 || rc == tmo_rc(tmo) || rc == GOC_ECANCELED,
              "select send (timeout %lld): %d", (long long)tmo, rc);
        if (ready)
            CHECK(rc == 0, "select send on ready ch %d: %d", c, rc);
        if (rc == 0) {
            CHECK(cs.status == 0 || cs.status == GOC_ECLOSED, "status %d", cs.status);
            if (was_closed)
                CHECK(cs.status == GOC_ECLOSED, "select send on closed ch %d: %d", c, cs.status);
        }
        status = rc == 0 ? cs.status : rc;
    }
    check_waited(rc, t0, tmo, "send");
    check_cancel(me, rc, "send");
    if (status == GOC_ECLOSED)
        CHECK(W.closed[c], "GOC_ECLOSED from open ch %d", c);
    if (c == SIG) {
        W.sig_pending--;
        if (status == 0)
            W.sig_ok++;
    } else {
        sent(v, status == 0);
    }
    TRACE("  co%d send ch%d mode %d v %lld: %d/%d\n", me->id, c, mode, (long long)v, rc, status);
}

static void after_recv(coro *me, int c, int status, int64_t v)
{
    if (status == GOC_ECLOSED) {
        CHECK(W.closed[c], "recv: GOC_ECLOSED from open ch %d", c);
        if (c != SIG)
            CHECK(v == 0, "recv: GOC_ECLOSED but element %lld, not zeroed", (long long)v);
    } else if (status == 0) {
        if (c == SIG) {
            W.sig_recv++;
            CHECK(W.sig_recv <= W.sig_ok + W.sig_pending, "signal from nowhere: %ld > %ld + %ld",
                  W.sig_recv, W.sig_ok, W.sig_pending);
        } else {
            received(me, c, v);
        }
    }
}

static void op_recv(coro *me, int c, int b)
{
    int mode = mode_of(me, b);
    int64_t tmo = tmo_of(me, mode, b);
    int64_t v = 0x5a5a5a5a;
    void *elem = c == SIG ? NULL : &v;
    int was_closed = W.closed[c], ready = recv_ready(c);
    size_t len = goc_chan_len(W.ch[c]);
    int rc, status;
    int64_t t0 = goc_now();
    if (mode == M_TRY) {
        rc = goc_chan_tryrecv(W.ch[c], elem);
        CHECK(rc == 0 || rc == GOC_EAGAIN || rc == GOC_ECLOSED, "tryrecv: %d", rc);
        if (len > 0)
            CHECK(rc == 0, "tryrecv ch %d with %zu buffered: %d", c, len, rc);
        else if (was_closed)
            CHECK(rc == GOC_ECLOSED, "tryrecv closed empty ch %d: %d", c, rc);
        else if (ch_cap[c] > 0)
            CHECK(rc == GOC_EAGAIN, "tryrecv empty buffered ch %d: %d", c, rc);
        status = rc;
    } else if (mode == M_BLOCK) {
        rc = goc_chan_recv(W.ch[c], elem);
        CHECK(rc == 0 || rc == GOC_ECLOSED || rc == GOC_ECANCELED, "recv: %d", rc);
        if (len > 0)
            CHECK(rc == 0, "recv ch %d with %zu buffered: %d", c, len, rc);
        else if (was_closed)
            CHECK(rc == GOC_ECLOSED, "recv closed empty ch %d: %d", c, rc);
        status = rc;
    } else {
        goc_case cs = { .ch = W.ch[c], .op = GOC_RECV, .elem = elem, .status = 99 };
        rc = goc_select(&cs, 1, tmo);
        CHECK(rc == 0 || rc == tmo_rc(tmo) || rc == GOC_ECANCELED,
              "select recv (timeout %lld): %d", (long long)tmo, rc);
        if (ready)
            CHECK(rc == 0, "select recv on ready ch %d: %d", c, rc);
        if (rc == 0) {
            CHECK(cs.status == 0 || cs.status == GOC_ECLOSED, "status %d", cs.status);
            if (len > 0)
                CHECK(cs.status == 0, "select recv ch %d with %zu buffered: %d", c, len,
                      cs.status);
            else if (was_closed)
                CHECK(cs.status == GOC_ECLOSED, "select recv closed empty ch %d: %d", c,
                      cs.status);
        }
        status = rc == 0 ? cs.status : rc;
    }
    check_waited(rc, t0, tmo, "recv");
    check_cancel(me, rc, "recv");
    after_recv(me, c, status, v);
    TRACE("  co%d recv ch%d mode %d: %d/%d v %lld\n", me->id, c, mode, rc, status,
          (long long)v);
}

static void op_select(coro *me, int a, int b)
{
    int mode = mode_of(me, b);
    if (mode == M_TRY)
        mode = M_ZERO;
    int64_t tmo = tmo_of(me, mode, b);
    goc_case cs[NCH + 2];
    int chan_of[NCH + 2];
    int64_t v[NCH + 2];
    size_t n = 0;
    int any_ready = 0;
    size_t len[NCH];
    for (int c = 0; c < NCH; c++)
        len[c] = goc_chan_len(W.ch[c]);
    for (int c = 0; c < NCH; c++) {
        if (!(a >> c & 1))
            continue;
        int send = a >> (4 + c) & 1;
        v[n] = 0x5a5a5a5a;
        if (send && c != SIG && !(v[n] = new_value(me, c)))
            continue;
        cs[n] = (goc_case){ .ch = W.ch[c], .op = send ? GOC_SEND : GOC_RECV,
                            .elem = c == SIG ? NULL : &v[n], .status = 99 };
        chan_of[n] = c;
        any_ready |= send ? send_ready(c) : recv_ready(c);
        if (send && c == SIG)
            W.sig_pending++;
        n++;
    }
    if (n > 0 && (b & 0x20)) { /* the first case again, on the same channel */
        int c = chan_of[0];
        int send = cs[0].op == GOC_SEND;
        v[n] = 0x5a5a5a5a;
        if (!(send && c != SIG && !(v[n] = new_value(me, c)))) {
            cs[n] = (goc_case){ .ch = W.ch[c], .op = cs[0].op,
                                .elem = c == SIG ? NULL : &v[n], .status = 99 };
            chan_of[n] = c;
            if (send && c == SIG)
                W.sig_pending++;
            n++;
        }
    }
    if (b & 0x10) { /* a nil-channel case: never ready */
        cs[n] = (goc_case){ .ch = NULL, .op = (b & 0x40) ? GOC_SEND : GOC_RECV, .elem = NULL };
        chan_of[n] = -1;
        n++;
    }
    int64_t t0 = goc_now();
    int rc = goc_select(n ? cs : NULL, n, tmo);
    TRACE("  co%d select n %zu mask %02x timeout %lld: %d\n", me->id, n, a, (long long)tmo, rc);
    CHECK((rc >= 0 && (size_t)rc < n) || rc == tmo_rc(tmo) ||
              rc == GOC_ECANCELED,
          "select n %zu timeout %lld: %d", n, (long long)tmo, rc);
    if (any_ready)
        CHECK(rc >= 0, "select with a ready case: %d", rc);
    check_waited(rc, t0, tmo, "select");
    check_cancel(me, rc, "select");
    for (size_t i = 0; i < n; i++) {
        int c = chan_of[i];
        if (c < 0) {
            CHECK(rc != (int)i, "select chose the nil case");
            continue;
        }
        int chosen = rc == (int)i;
        int st = chosen ? cs[i].status : -1;
        if (chosen) {
            CHECK(st == 0 || st == GOC_ECLOSED, "select status %d", st);
            if (st == GOC_ECLOSED)
                CHECK(W.closed[c], "select: GOC_ECLOSED from open ch %d", c);
            if (tmo == 0 && ch_cap[c] > 0 && !W.closed[c]) /* buffered: readiness is known */
                CHECK(cs[i].op == GOC_SEND ? len[c] < ch_cap[c] : len[c] > 0,
                      "select chose case %zu (ch %d, len %zu), not ready", i, c, len[c]);
        }
        if (cs[i].op == GOC_SEND) {
            if (c == SIG) {
                W.sig_pending--;
                if (chosen && st == 0)
                    W.sig_ok++;
            } else {
                sent(v[i], chosen && st == 0);
            }
        } else if (chosen) {
            after_recv(me, c, st, v[i]);
        } else if (c != SIG) {
            CHECK(v[i] == 0x5a5a5a5a, "select: a case not chosen got a value");
        }
    }
}

static void op_close(coro *me, int c)
{
    if (c == QID) {
        int rc = goc_queue_close(W.q);
        CHECK(rc == (W.q_closed ? GOC_ECLOSED : 0), "queue close: %d", rc);
        W.q_closed = 1;
        TRACE("  co%d close queue: %d\n", me->id, rc);
        return;
    }
    int rc = goc_chan_close(W.ch[c]);
    CHECK(rc == (W.closed[c] ? GOC_ECLOSED : 0), "close ch %d (closed %d): %d", c, W.closed[c],
          rc);
    W.closed[c] = 1;
    TRACE("  co%d close ch%d: %d\n", me->id, c, rc);
}

/* ------------------------------------------------------------ tasks */

static void interpret(coro *me);

static void *magic(const coro *c) { return (void *)(uintptr_t)(0x1000 + c->id); }

/* The end of a coroutine: give back what it holds. */
static void finish(coro *me)
{
    if (me->mutex_held) {
        CHECK(W.mu_holder == me->id, "holder %d, not %d", W.mu_holder, me->id);
        W.mu_holder = -1;
        me->mutex_held = 0;
        int rc = goc_mutex_unlock(W.mu);
        CHECK(rc == 0, "unlock at the end: %d", rc);
    }
    while (me->permits > 0) {
        me->permits--;
        W.sem_held--;
        int rc = goc_sem_release(W.sem);
        CHECK(rc == 0, "release at the end: %d", rc);
    }
}

static void *task_main(void *arg)
{
    coro *me = arg;
    interpret(me);
    finish(me);
    me->ended = 1;
    TRACE("  co%d ends%s\n", me->id, me->failing ? " (fails)" : "");
    return me->failing ? goc_fail(EDOM_ERR) : magic(me);
}

static void go_main(void *arg)
{
    (void)task_main(arg);
}

static int expected_outcome(const coro *t)
{
    return t->failing ? EDOM_ERR : t->cancel_req ? GOC_ECANCELED : 0;
}

static size_t op_spawn(coro *me, size_t pc, int a, int b)
{
    size_t k = (size_t)(a % 8) + 1;
    if (k > me->nops - pc - 1)
        k = me->nops - pc - 1;
    if (W.nco >= MAX_CO || W.main_done)
        return k;
    coro *c = &W.co[W.nco];
    memset(c, 0, sizeof *c);
    c->id = W.nco++;
    c->is_go = b & 1;
    c->prog = me->prog + 3 * (pc + 1);
    c->nops = k;
    if (c->is_go) {
        int rc = goc_go(go_main, c);
        CHECK(rc == 0, "goc_go: %d", rc);
    } else {
        c->task = goc_spawn(task_main, c);
        CHECK(c->task, "goc_spawn: NULL");
    }
    TRACE("  co%d %s co%d (%zu ops)\n", me->id, c->is_go ? "go" : "spawn", c->id, k);
    return k;
}

/* A task me may join: spawned after it, not yet consumed. */
static coro *joinable(coro *me, int a)
{
    if (W.nco == 0)
        return NULL;
    coro *t = &W.co[a % W.nco];
    if (!t->task || t->consumed || t->id <= me->id)
        return NULL;
    return t;
}

static void op_join(coro *me, int a, int b)
{
    coro *t = joinable(me, a);
    if (!t)
        return;
    int how = b & 3;
    if (me->is_main && how == 0 && !t->ended)
        how = 1;
    if (me->is_main && how == 3)
        how = 2;
    t->consumed = 1;
    int was_ended = t->ended;
    void *res = (void *)1;
    int rc;
    if (how == 0 || how == 3) {
        rc = goc_join(t->task, &res);
        TRACE("  co%d join co%d: %d\n", me->id, t->id, rc);
        if (rc == GOC_ECANCELED && cancel_known(me) && !t->ended)
            return; /* we were cancelled: t runs on, detached */
        CHECK(t->ended, "join returned %d before co%d ended", rc, t->id);
        CHECK(rc == expected_outcome(t) || (rc == GOC_ECANCELED && cancel_known(me)),
              "join co%d: %d, expected %d", t->id, rc, expected_outcome(t));
        if (rc == 0)
            CHECK(res == magic(t), "join co%d: result %p", t->id, res);
        return;
    }
    int64_t tmo = how == 1 ? 0 : small_tmo[1 + (b >> 2) % 3];
    int64_t t0 = goc_now();
    t->may_cancel = 1;
    rc = goc_wait_for(t->task, tmo, &res);
    TRACE("  co%d wait_for co%d %lld: %d\n", me->id, t->id, (long long)tmo, rc);
    CHECK(t->ended, "wait_for returned %d before co%d ended", rc, t->id);
    if (was_ended)
        CHECK(rc == expected_outcome(t), "wait_for ended co%d: %d, expected %d", t->id, rc,
              expected_outcome(t));
    else
        CHECK(rc == expected_outcome(t) || rc == GOC_ETIMEDOUT ||
                  (rc == GOC_ECANCELED && cancel_known(me)),
              "wait_for co%d: %d, expected %d", t->id, rc, expected_outcome(t));
    if (tmo > 0)
        check_waited(rc, t0, tmo, "wait_for");
    check_cancel(me, rc == GOC_ECANCELED && !t->cancel_req ? rc : 0, "wait_for");
    CHECK(res == (t->failing ? NULL : magic(t)), "wait_for co%d: result %p", t->id, res);
}

static void op_cancel(coro *me, int a)
{
    if (W.nco == 0)
        return;
    coro *t = &W.co[a % W.nco];
    if (!t->task || t->consumed)
        return;
    int rc = goc_cancel(t->task);
    CHECK(rc == 0, "cancel: %d", rc);
    if (!t->ended)
        t->cancel_req = 1;
    TRACE("  co%d cancel co%d\n", me->id, t->id);
}

static void op_sleep(coro *me, int b)
{
    if (b & 2) {
        goc_yield();
        return;
    }
    int64_t ns = (b & 1) ? small_tmo[1 + (b >> 2) % 3] / 2 : 0;
    int64_t t0 = goc_now();
    int rc = goc_sleep(ns);
    CHECK(rc == 0 || rc == GOC_ECANCELED, "sleep: %d", rc);
    check_cancel(me, rc, "sleep");
    if (rc == 0 && ns > 0)
        CHECK(goc_now() - t0 >= ns, "slept %lld of %lld ns", (long long)(goc_now() - t0),
              (long long)ns);
}

/* ------------------------------------------------------------ sync */

static void got_mutex(coro *me)
{
    CHECK(W.mu_holder == -1, "co%d got the mutex held by co%d", me->id, W.mu_holder);
    W.mu_holder = me->id;
    me->mutex_held = 1;
}

static void op_mutex(coro *me, int a)
{
    int what = a & 3;
    if (what == 1 && me->is_main)
        what = 0;
    int rc;
    switch (what) {
    case 0:
        rc = goc_mutex_trylock(W.mu);
        CHECK(rc == 0 || rc == GOC_EAGAIN, "trylock: %d", rc);
        if (W.mu_holder >= 0)
            CHECK(rc == GOC_EAGAIN, "trylock of a held mutex: %d", rc);
        else if (W.mu_waiters == 0)
            CHECK(rc == 0, "trylock of a free mutex: %d", rc);
        if (rc == 0)
            got_mutex(me);
        break;
    case 1:
        W.mu_waiters++;
        rc = goc_mutex_lock(W.mu);
        W.mu_waiters--;
        CHECK(rc == 0 || rc == GOC_ECANCELED, "lock: %d", rc);
        check_cancel(me, rc, "lock");
        if (rc == 0)
            got_mutex(me);
        break;
    default:
        if (me->mutex_held) {
            W.mu_holder = -1;
            me->mutex_held = 0;
            rc = goc_mutex_unlock(W.mu);
            CHECK(rc == 0, "unlock: %d", rc);
        } else if (W.mu_holder == -1 && W.mu_waiters == 0) {
            rc = goc_mutex_unlock(W.mu);
            CHECK(rc == GOC_EPERM, "unlock of a free mutex: %d", rc);
        } else {
            return;
        }
    }
    TRACE("  co%d mutex %d: %d\n", me->id, what, rc);
}

static void got_permit(coro *me)
{
    me->permits++;
    W.sem_held++;
    CHECK(W.sem_held <= PERMITS, "%d permits held of %d", W.sem_held, PERMITS);
}

static void check_sem_value(void)
{
    int64_t v = goc_sem_value(W.sem);
    CHECK(v >= 0 && v + W.sem_held <= PERMITS, "sem value %lld with %d held", (long long)v,
          W.sem_held);
    if (W.sem_waiters == 0)
        CHECK(v + W.sem_held == PERMITS, "sem value %lld with %d held, nobody waiting",
              (long long)v, W.sem_held);
}

static void op_sem(coro *me, int a)
{
    int what = a & 3;
    if (what == 1 && me->is_main)
        what = 0;
    int rc = 0;
    switch (what) {
    case 0: {
        int64_t v = goc_sem_value(W.sem);
        rc = goc_sem_tryacquire(W.sem);
        CHECK(rc == (v > 0 ? 0 : GOC_EAGAIN), "tryacquire with value %lld: %d", (long long)v,
              rc);
        if (rc == 0)
            got_permit(me);
        break;
    }
    case 1:
        W.sem_waiters++;
        rc = goc_sem_acquire(W.sem);
        W.sem_waiters--;
        CHECK(rc == 0 || rc == GOC_ECANCELED, "acquire: %d", rc);
        check_cancel(me, rc, "acquire");
        if (rc == 0)
            got_permit(me);
        break;
    case 2:
        if (me->permits == 0)
            return;
        me->permits--;
        W.sem_held--;
        rc = goc_sem_release(W.sem);
        CHECK(rc == 0, "release: %d", rc);
        break;
    default:
        break;
    }
    check_sem_value();
    TRACE("  co%d sem %d: %d\n", me->id, what, rc);
}

/* ------------------------------------------------------------ queue, event */

static void op_qput(coro *me, int b)
{
    int mode = mode_of(me, b);
    int64_t tmo = tmo_of(me, mode, b);
    int64_t v = new_value(me, QID);
    if (!v)
        return;
    int was_closed = W.q_closed;
    size_t len = goc_queue_len(W.q);
    CHECK(len <= QMAX, "queue len %zu", len);
    W.q_put_inflight++;
    int64_t t0 = goc_now();
    int rc = goc_queue_put(W.q, &v, tmo);
    W.q_put_inflight--;
    TRACE("  co%d put %lld timeout %lld: %d\n", me->id, (long long)v, (long long)tmo, rc);
    CHECK(rc == 0 || rc == tmo_rc(tmo) || rc == GOC_ECANCELED ||
              rc == GOC_ECLOSED,
          "put: %d", rc);
    if (was_closed)
        CHECK(rc == GOC_ECLOSED, "put on a closed queue: %d", rc);
    else if (len < QMAX)
        CHECK(rc == 0, "put on a queue with room (%zu): %d", len, rc);
    if (rc == GOC_ECLOSED)
        CHECK(W.q_closed, "put: GOC_ECLOSED from an open queue");
    check_waited(rc, t0, tmo, "put");
    check_cancel(me, rc, "put");
    sent(v, rc == 0);
    if (rc == 0)
        W.q_puts_ok++;
}

static void op_qget(coro *me, int b)
{
    int mode = mode_of(me, b);
    int64_t tmo = tmo_of(me, mode, b);
    int64_t v = 0x5a5a5a5a;
    int was_closed = W.q_closed;
    size_t len = goc_queue_len(W.q);
    W.q_get_inflight++;
    int64_t t0 = goc_now();
    int rc = goc_queue_get(W.q, &v, tmo);
    W.q_get_inflight--;
    TRACE("  co%d get timeout %lld: %d v %lld\n", me->id, (long long)tmo, rc, (long long)v);
    CHECK(rc == 0 || rc == tmo_rc(tmo) || rc == GOC_ECANCELED ||
              rc == GOC_ECLOSED,
          "get: %d", rc);
    if (len > 0)
        CHECK(rc == 0, "get on a queue holding %zu: %d", len, rc);
    else if (was_closed)
        CHECK(rc == GOC_ECLOSED, "get on a closed empty queue: %d", rc);
    if (rc == GOC_ECLOSED)
        CHECK(W.q_closed, "get: GOC_ECLOSED from an open queue");
    check_waited(rc, t0, tmo, "get");
    check_cancel(me, rc, "get");
    if (rc == 0) {
        received(me, QID, v);
        W.q_gets_ok++;
    }
}

static void op_qmisc(coro *me, int a, int b)
{
    int rc;
    if (!(a & 1)) {
        rc = goc_queue_task_done(W.q);
        CHECK(rc == 0 || rc == GOC_EINVAL, "task_done: %d", rc);
        if (W.q_get_inflight == 0)
            CHECK(rc == (W.q_gets_ok > W.q_done ? 0 : GOC_EINVAL),
                  "task_done with %ld gotten, %ld done: %d", W.q_gets_ok, W.q_done, rc);
        if (rc == 0)
            W.q_done++;
        TRACE("  co%d task_done: %d\n", me->id, rc);
        return;
    }
    int mode = mode_of(me, b);
    int64_t tmo = tmo_of(me, mode, b);
    int idle = W.q_put_inflight == 0 && W.q_get_inflight == 0;
    long unfinished = W.q_puts_ok - W.q_done;
    int64_t t0 = goc_now();
    rc = goc_queue_join(W.q, tmo);
    TRACE("  co%d queue join %lld: %d\n", me->id, (long long)tmo, rc);
    CHECK(rc == 0 || rc == tmo_rc(tmo) || rc == GOC_ECANCELED,
          "queue join: %d", rc);
    if (idle && tmo == 0)
        CHECK(rc == (unfinished == 0 ? 0 : GOC_EAGAIN), "queue join(0), %ld unfinished: %d",
              unfinished, rc);
    if (idle && unfinished == 0)
        CHECK(rc == 0, "queue join with nothing unfinished: %d", rc);
    check_waited(rc, t0, tmo, "queue join");
    check_cancel(me, rc, "queue join");
}

static void op_event(coro *me, int a, int b)
{
    int rc;
    switch (a & 3) {
    case 0:
        rc = goc_event_set(W.ev);
        CHECK(rc == 0, "event set: %d", rc);
        W.ev_set = 1;
        break;
    case 1:
        rc = goc_event_clear(W.ev);
        CHECK(rc == 0, "event clear: %d", rc);
        W.ev_set = 0;
        break;
    default: {
        int mode = mode_of(me, b);
        int64_t tmo = tmo_of(me, mode, b);
        int was_set = W.ev_set;
        CHECK(goc_event_is_set(W.ev) == was_set, "is_set %d, expected %d",
              goc_event_is_set(W.ev), was_set);
        int64_t t0 = goc_now();
        rc = goc_event_wait(W.ev, tmo);
        CHECK(rc == 0 || rc == tmo_rc(tmo) || rc == GOC_ECANCELED,
              "event wait: %d", rc);
        if (was_set)
            CHECK(rc == 0, "wait on a set event: %d", rc);
        check_waited(rc, t0, tmo, "event wait");
        check_cancel(me, rc, "event wait");
    }
    }
    TRACE("  co%d event %d: %d\n", me->id, a & 3, rc);
}

static void op_check(coro *me, int a)
{
    switch (a & 3) {
    case 0: {
        int c = goc_cancelled();
        if (me->cancel_req)
            CHECK(c == 1, "co%d: goc_cancelled() 0 after a cancel", me->id);
        else if (c)
            CHECK(cancel_known(me), "co%d: goc_cancelled() 1, never cancelled", me->id);
        break;
    }
    case 1: {
        goc_task *ts[MAX_CO];
        coro *cs[MAX_CO];
        size_t n = 0;
        for (int i = 0; i < W.nco; i++) {
            coro *t = &W.co[i];
            if (!t->task || t->consumed || t == me)
                continue;
            CHECK(goc_done(t->task) == t->ended, "goc_done(co%d) %d, ended %d", t->id,
                  goc_done(t->task), t->ended);
            ts[n] = t->task;
            cs[n++] = t;
        }
        if (n > 0) {
            int rc = goc_wait_first(ts, n, 0);
            size_t first = n;
            for (size_t i = 0; i < n && first == n; i++)
                if (cs[i]->ended)
                    first = i;
            CHECK(rc == (first < n ? (int)first : GOC_EAGAIN) ||
                      (rc == GOC_ECANCELED && cancel_known(me)),
                  "wait_first(0): %d, expected %d", rc, first < n ? (int)first : GOC_EAGAIN);
        }
        break;
    }
    case 2:
        for (int c = 0; c < NCH; c++) {
            CHECK(goc_chan_cap(W.ch[c]) == ch_cap[c], "cap");
            CHECK(goc_chan_len(W.ch[c]) <= ch_cap[c], "len %zu > cap", goc_chan_len(W.ch[c]));
        }
        CHECK(goc_queue_len(W.q) <= QMAX, "queue len");
        CHECK(goc_event_is_set(W.ev) == W.ev_set, "is_set");
        check_sem_value();
        break;
    default:
        CHECK(goc_workers() == 1 && goc_worker_id() == 0, "workers %d, id %d", goc_workers(),
              goc_worker_id());
        break;
    }
}

/* ------------------------------------------------------------ generators */

static void gen_fn(goc_gen *g, void *arg)
{
    gen_slot *gs = arg;
    CHECK(gs->g == g, "gen_fn: another generator");
    CHECK(gs->asked, "a generator started before a goc_gen_next asked");
    gs->started = 1;
    for (int64_t i = 1; i <= gs->n; i++) {
        int rc = goc_gen_yield(g, &i);
        TRACE("  gen %d: yield %lld: %d\n", (int)(gs - W.gen), (long long)i, rc);
        if (rc != 0) {
            CHECK(rc == GOC_ECANCELED, "gen_yield: %d", rc);
            CHECK(gs->closing || W.main_done, "gen_yield: GOC_ECANCELED, not closed");
            gs->cut = 1;
            CHECK(goc_gen_yield(g, &i) == GOC_ECANCELED, "a yield after a close");
            break;
        }
    }
    gs->ended = 1;
}

/* A slot whose generator was closed is cleared once no next on it is
 * still returning. */
static void gen_settle(gen_slot *gs)
{
    if (!gs->g && !gs->inflight && !gs->closing)
        memset(gs, 0, sizeof *gs);
}

static void gen_close(coro *me, gen_slot *gs)
{
    int closing = gs->closing, inflight = gs->inflight;
    gs->closing++;
    int rc = goc_gen_close(gs->g);
    gs->closing--;
    TRACE("  co%d gen_close %d: %d (closing %d, nexts %d)\n", me ? me->id : -1,
          (int)(gs - W.gen), rc, closing, inflight);
    /* Beside a close: GOC_EBUSY. Beside a next: GOC_EBUSY while it
     * waits; once served (it has its value or GOC_ECLOSED, but has not
     * returned yet) it no longer counts, and the close goes ahead. */
    if (closing)
        CHECK(rc == GOC_EBUSY, "gen_close beside another close: %d", rc);
    else if (inflight)
        CHECK(rc == GOC_EBUSY || rc == 0, "gen_close beside a next: %d", rc);
    else
        CHECK(rc == 0, "gen_close: %d", rc);
    if (rc != 0)
        return;
    if (!gs->asked)
        CHECK(!gs->started, "a generator closed before any next ran its body");
    CHECK(!gs->started || gs->ended, "gen_close returned before fn did");
    gs->g = NULL; /* freed */
    gen_settle(gs);
}

static void gen_next(coro *me, gen_slot *gs, int a, int b)
{
    /* The generator only yields, so even an unbounded next returns soon:
     * main may use it too. */
    int mode = b & 3;
    int64_t tmo = (a & 3) == 3 ? 0 : mode == M_BLOCK ? -1 : tmo_of(me, mode, b);
    int busy = gs->inflight > 0 || gs->closing, done = gs->ended;
    int64_t v = 0x5a5a5a5a;
    gs->asked = 1;
    gs->inflight++;
    int64_t t0 = goc_now();
    int rc = goc_gen_next(gs->g, &v, tmo);
    gs->inflight--;
    TRACE("  co%d gen_next %d timeout %lld: %d v %lld (busy %d done %d)\n", me->id,
          (int)(gs - W.gen), (long long)tmo, rc, (long long)v, busy, done);
    CHECK(rc == 0 || rc == GOC_ECLOSED || rc == tmo_rc(tmo) || rc == GOC_ECANCELED ||
              (rc == GOC_EBUSY && busy),
          "gen_next (busy %d): %d", busy, rc);
    /* Once fn returned: the value it yielded last, if no next took it
     * yet (it was asked for by a next that did not wait), else
     * GOC_ECLOSED. Beside another next (which may already have been
     * served, and so no longer counts as waiting) or a close:
     * GOC_EBUSY, or what that next would have got. */
    if (done)
        CHECK(rc == 0 || rc == GOC_ECLOSED, "gen_next after fn returned: %d", rc);
    if (rc == 0) {
        CHECK(v >= 1 && v <= gs->n, "gen_next: %lld, fn yields 1..%d", (long long)v, gs->n);
        CHECK(!(gs->delivered >> v & 1), "gen_next: %lld delivered twice", (long long)v);
        gs->delivered |= 1u << v;
        gs->ndelivered++;
        int slot = (int)(gs - W.gen);
        if (me->gen_epoch[slot] == gs->epoch)
            CHECK(v > me->gen_last[slot], "gen_next: %lld after %d, to one consumer",
                  (long long)v, me->gen_last[slot]);
        me->gen_epoch[slot] = gs->epoch;
        me->gen_last[slot] = (int)v;
    } else if (rc == GOC_ECLOSED) {
        /* fn returned after a demand beyond its last yield: every
         * value was taken, maybe by a next that has not returned. */
        CHECK(gs->ended || ((gs->closing || !gs->g) && !gs->started),
              "GOC_ECLOSED from a running generator");
        if (!gs->ended)
            return; /* closed before fn started: it never will */
        CHECK(gs->cut || gs->ndelivered + gs->inflight >= gs->n,
              "GOC_ECLOSED after %d of %d values", gs->ndelivered, gs->n);
    }
    check_waited(rc, t0, tmo, "gen_next");
    check_cancel(me, rc, "gen_next");
}

static void op_gen(coro *me, int a, int b)
{
    gen_slot *gs = &W.gen[(a >> 2) % NGEN];
    switch (a & 3) {
    case 0:
        if (gs->g || gs->inflight || gs->closing || W.gen_final)
            return;
        static unsigned epochs;
        memset(gs, 0, sizeof *gs);
        gs->epoch = ++epochs;
        gs->n = b % 5;
        gs->g = goc_gen_new(sizeof(int64_t), gen_fn, gs);
        CHECK(gs->g, "gen_new: NULL");
        TRACE("  co%d gen_new %d n %d\n", me->id, (int)(gs - W.gen), gs->n);
        return;
    case 2:
        if (gs->g)
            gen_close(me, gs);
        return;
    default:
        if (!gs->g)
            return;
        gen_next(me, gs, a, b);
        gen_settle(gs);
    }
}

/* ------------------------------------------------------------ the task group */

static void *member_main(void *arg)
{
    coro *me = arg;
    interpret(me);
    finish(me);
    me->ended = 1;
    W.grp_alive--;
    if (me->failing && W.grp_err == 0)
        W.grp_err = EDOM_ERR;
    else if (W.grp_err == 0 && goc_cancelled())
        W.grp_err = GOC_ECANCELED; /* only the group cancels a member: it failed already */
    TRACE("  co%d (member) ends%s\n", me->id, me->failing ? " (fails)" : "");
    return me->failing ? goc_fail(EDOM_ERR) : NULL;
}

static size_t op_group(coro *me, size_t pc, int a, int b)
{
    switch (a & 3) {
    case 0: {
        size_t k = (size_t)(b % 8) + 1;
        if (k > me->nops - pc - 1)
            k = me->nops - pc - 1;
        if (W.nco >= MAX_CO || W.grp_final)
            return k;
        coro *c = &W.co[W.nco];
        memset(c, 0, sizeof *c);
        c->id = W.nco++;
        c->is_member = 1;
        c->prog = me->prog + 3 * (pc + 1);
        c->nops = k;
        int failed = W.grp_err != 0;
        int rc = goc_group_go(W.grp, member_main, c);
        TRACE("  co%d group_go co%d (%zu ops): %d\n", me->id, c->id, k, rc);
        CHECK(rc == (failed ? GOC_ECANCELED : 0), "group_go (group failed %d): %d", failed, rc);
        if (rc == 0)
            W.grp_alive++;
        else
            c->ended = 1; /* never started */
        return k;
    }
    case 1: {
        if (W.grp_final)
            return 0;
        int rc = goc_group_cancel(W.grp);
        CHECK(rc == 0, "group_cancel: %d", rc);
        if (W.grp_err == 0)
            W.grp_err = GOC_ECANCELED;
        TRACE("  co%d group_cancel\n", me->id);
        return 0;
    }
    default:
        /* Only main waits, and only when it will not block: a member
         * waiting for its own group, or one waited for by a task it
         * waits for, would never end. */
        if (me->is_main && W.grp_alive == 0) {
            int rc = goc_group_wait(W.grp);
            TRACE("  co%d group_wait: %d\n", me->id, rc);
            CHECK(rc == W.grp_err, "group_wait: %d, expected %d", rc, W.grp_err);
        }
        return 0;
    }
}

/* ------------------------------------------------------------ the interpreter */

static void interpret(coro *me)
{
    for (size_t pc = 0; pc < me->nops; pc++) {
        const uint8_t *op = me->prog + 3 * pc;
        int a = op[1], b = op[2];
        switch (op[0] % NOPS) {
        case OP_SEND:   op_send(me, a % NCH, b); break;
        case OP_RECV:   op_recv(me, a % NCH, b); break;
        case OP_SELECT: op_select(me, a, b); break;
        case OP_CLOSE:  op_close(me, a % (NCH + 1)); break;
        case OP_SPAWN:  pc += op_spawn(me, pc, a, b); break;
        case OP_JOIN:   op_join(me, a, b); break;
        case OP_CANCEL: op_cancel(me, a); break;
        case OP_SLEEP:  op_sleep(me, b); break;
        case OP_MUTEX:  op_mutex(me, a); break;
        case OP_SEM:    op_sem(me, a); break;
        case OP_QPUT:   op_qput(me, b); break;
        case OP_QGET:   op_qget(me, b); break;
        case OP_QMISC:  op_qmisc(me, a, b); break;
        case OP_EVENT:  op_event(me, a, b); break;
        case OP_FAIL:   me->failing = 1; break;
        case OP_CHECK:  op_check(me, a); break;
        case OP_GEN:    op_gen(me, a, b); break;
        default:        pc += op_group(me, pc, a, b); break;
        }
    }
}

/* Cancel and join every task not joined yet (until none is left: a
 * cancelled task may still spawn). */
static void join_all(void)
{
    for (int again = 1; again;) {
        again = 0;
        for (int i = 0; i < W.nco; i++) {
            coro *t = &W.co[i];
            if (!t->task || t->consumed)
                continue;
            again = 1;
            if (!t->ended) {
                CHECK(goc_cancel(t->task) == 0, "cancel");
                t->cancel_req = 1;
            }
            t->consumed = 1;
            void *res = NULL;
            int rc = goc_join(t->task, &res);
            CHECK(t->ended, "final join returned %d before co%d ended", rc, t->id);
            CHECK(rc == expected_outcome(t), "final join co%d: %d, expected %d", t->id, rc,
                  expected_outcome(t));
            if (rc == 0)
                CHECK(res == magic(t), "final join co%d: result %p", t->id, res);
        }
    }
}

static void main_fn(void *arg)
{
    coro *me = arg;
    W.grp = goc_group_new();
    CHECK(W.grp, "group_new");
    interpret(me);
    finish(me);
    W.grp_final = 1; /* from here on, no one else touches the group */
    if (W.grp_alive > 0) {
        CHECK(goc_group_cancel(W.grp) == 0, "group_cancel");
        if (W.grp_err == 0)
            W.grp_err = GOC_ECANCELED;
    }
    join_all();
    int rc = goc_group_wait(W.grp);
    CHECK(rc == W.grp_err, "final group_wait: %d, expected %d", rc, W.grp_err);
    CHECK(W.grp_alive == 0, "group_wait returned with %d members alive", W.grp_alive);
    join_all(); /* what the members spawned meanwhile */
    CHECK(goc_group_free(W.grp) == 0, "group_free");
    W.grp = NULL;
    /* Fire-and-forget coroutines may still be in a goc_gen_next: it ends
     * soon (the generators only yield). */
    W.gen_final = 1;
    for (int i = 0; i < NGEN; i++) {
        while (W.gen[i].g && (W.gen[i].inflight || W.gen[i].closing))
            goc_sleep(1000);
        if (W.gen[i].g)
            gen_close(me, &W.gen[i]);
    }
    me->ended = 1;
    W.main_done = 1;
}

/* goc_run loads the hwloc topology each time, and hwloc's Linux and x86
 * discovery (sysfs, binding a thread to every CPU in turn) cost more than
 * the rest of a run, 10x under load. One unpinned worker has no use for
 * it: hwloc's no_os component alone gives a one-PU machine at no cost. A
 * HWLOC_COMPONENTS already in the environment is kept. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("HWLOC_COMPONENTS", "no_os,stop", 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (trace < 0)
        trace = getenv("FUZZ_API_TRACE") != NULL;
    memset(&W, 0, sizeof W);
    W.mu_holder = -1;
    for (int c = 0; c < NCH; c++) {
        W.ch[c] = goc_chan_make(c == SIG ? 0 : sizeof(int64_t), ch_cap[c]);
        CHECK(W.ch[c], "chan_make");
    }
    W.mu = goc_mutex_new();
    W.sem = goc_sem_new(PERMITS);
    W.q = goc_queue_new(sizeof(int64_t), QMAX);
    W.ev = goc_event_new();
    CHECK(W.mu && W.sem && W.q && W.ev, "new");

    coro *m = &W.co[0];
    m->id = 0;
    m->is_main = 1;
    m->prog = data + 1;
    m->nops = (size - 1) / 3 < MAX_OPS ? (size - 1) / 3 : MAX_OPS;
    W.nco = 1;
    goc_config cfg = { .workers = 1, .pin = 0,
                       .stack_size = (data[0] & 1) ? 16 * 1024 : 0 };
    if (data[0] >> 1) {
        char seed[8];
        snprintf(seed, sizeof seed, "%d", data[0] >> 1);
        setenv("GOC_CHAOS", seed, 1);
    } else {
        unsetenv("GOC_CHAOS");
    }
    TRACE("input: %zu ops\n", m->nops);
    int rc = goc_run(&cfg, main_fn, m);
    CHECK(rc == 0, "goc_run: %d", rc);

    /* Every coroutine has ended; the model is final. */
    for (int i = 0; i < W.nco; i++)
        CHECK(W.co[i].ended, "co%d did not end", i);
    CHECK(W.mu_holder == -1 && W.mu_waiters == 0, "mutex holder %d", W.mu_holder);
    CHECK(W.sem_held == 0 && W.sem_waiters == 0, "sem");
    CHECK(W.q_put_inflight == 0 && W.q_get_inflight == 0, "queue");
    CHECK(W.sig_pending == 0, "signal sends pending");

    /* Drain what is left, outside the runtime. */
    coro *d = &W.drain;
    d->id = MAX_CO - 1;
    for (int c = 0; c < NCH; c++) {
        int64_t v = 0;
        while ((rc = goc_chan_tryrecv(W.ch[c], c == SIG ? NULL : &v)) == 0) {
            if (c == SIG)
                W.sig_recv++;
            else
                received(d, c, v);
        }
        CHECK(rc == (W.closed[c] ? GOC_ECLOSED : GOC_EAGAIN), "drain ch %d: %d", c, rc);
        CHECK(goc_chan_len(W.ch[c]) == 0, "drained ch %d: len %zu", c, goc_chan_len(W.ch[c]));
    }
    {
        int64_t v = 0;
        while ((rc = goc_queue_get(W.q, &v, 0)) == 0)
            received(d, QID, v);
        CHECK(rc == (W.q_closed ? GOC_ECLOSED : GOC_EAGAIN), "drain queue: %d", rc);
    }
    for (int i = 0; i < W.nvals; i++) {
        val *x = &W.vals[i];
        CHECK(x->state == V_OK || x->state == V_FAILED, "value %d: send never ended", i + 1);
        CHECK(x->received == (x->state == V_OK), "value %d (dest %d): sent %d, received %d",
              i + 1, x->dest, x->state == V_OK, x->received);
    }
    CHECK(W.sig_recv == W.sig_ok, "signals: %ld sent, %ld received", W.sig_ok, W.sig_recv);

    /* Everything is free again, and frees. */
    CHECK(goc_mutex_trylock(W.mu) == 0, "mutex still locked");
    CHECK(goc_mutex_unlock(W.mu) == 0, "unlock");
    CHECK(goc_sem_value(W.sem) == PERMITS, "sem value %lld", (long long)goc_sem_value(W.sem));
    CHECK(goc_mutex_free(W.mu) == 0, "mutex_free");
    CHECK(goc_sem_free(W.sem) == 0, "sem_free");
    CHECK(goc_queue_free(W.q) == 0, "queue_free");
    CHECK(goc_event_free(W.ev) == 0, "event_free");
    for (int c = 0; c < NCH; c++)
        CHECK(goc_chan_free(W.ch[c]) == 0, "chan_free %d", c);
    return 0;
}
