/*
 * test_select.c - goc_select and goc_after: picking a ready case, uniform
 * random choice among ready cases and among parked cases that a partner
 * completes, timeouts (0, > 0, < 0, never early), NULL-channel cases,
 * n = 0, closed channels, one channel twice in one select, select against
 * select, exact delivery under stress, bad input, cancellation, GOC_EBUSY
 * and freeing right after a select, GOC_EPERM outside coroutines, and the
 * goc_after timer channel.
 */
#include "test_util.h"
#include "tu_whitebox.h"

/* --------------------------------------------------------------- helpers */

static goc_case mkcase(goc_chan *ch, int op, void *elem)
{
    goc_case c;
    c.ch = ch;
    c.op = op;
    c.elem = elem;
    c.status = 12345;
    return c;
}

/* A select run by a task, with its outcome. */
typedef struct {
    goc_case cases[4];
    size_t n;
    int64_t timeout;
    int rc;
    atomic_int started;
    atomic_int done;
} sel_arg;

static void *sel_task(void *arg)
{
    sel_arg *a = arg;
    atomic_store(&a->started, 1);
    a->rc = goc_select(a->cases, a->n, a->timeout);
    atomic_store(&a->done, 1);
    return NULL;
}

/* Wait until the task t running a is parked in its select, queued on
 * every case's channel (not "started, and 30 ms later not done": a
 * descheduled worker outlasts that). 1 if it is, and so not done. */
static int sel_wait_parked(sel_arg *a, goc_task *t)
{
    if (!tu_wait_parked(t, 30 * TU_SEC))
        return 0;
    return atomic_load(&a->done) == 0;
}

typedef struct {
    goc_chan *ch;
    int val;
    int64_t delay;
    int rc;
} delayed_arg;

static void *delayed_send(void *arg)
{
    delayed_arg *d = arg;
    goc_sleep(d->delay);
    d->rc = goc_chan_send(d->ch, &d->val);
    return NULL;
}

static void *delayed_recv(void *arg)
{
    delayed_arg *d = arg;
    goc_sleep(d->delay);
    d->rc = goc_chan_recv(d->ch, &d->val);
    return NULL;
}

/* ------------------------------------------------------ picks a ready case */

static void main_picks_ready(void *arg)
{
    (void)arg;
    goc_chan *a = goc_chan_make(sizeof(int), 1);
    goc_chan *b = goc_chan_make(sizeof(int), 1);
    TU_CHECK(a && b);
    if (!a || !b)
        return;
    int five = 5, got = -1;
    TU_CHECK_INT_EQ(goc_chan_trysend(b, &five), 0);
    for (int64_t tmo = -1; tmo <= 1; tmo++) { /* forever, poll, bounded */
        int64_t to = tmo > 0 ? TU_SEC : tmo;
        goc_case c[2] = {mkcase(a, GOC_RECV, &got), mkcase(b, GOC_RECV, &got)};
        got = -1;
        TU_CHECK_INT_EQ(goc_select(c, 2, to), 1);
        TU_CHECK_INT_EQ(got, 5);
        TU_CHECK_INT_EQ(c[1].status, 0);
        TU_CHECK_INT_EQ(goc_chan_len(b), 0);
        TU_CHECK_INT_EQ(goc_chan_trysend(b, &five), 0);
    }
    /* a ready send case: a is empty, b is full */
    int seven = 7;
    goc_case s[2] = {mkcase(b, GOC_SEND, &seven), mkcase(a, GOC_SEND, &seven)};
    TU_CHECK_INT_EQ(goc_select(s, 2, -1), 1);
    TU_CHECK_INT_EQ(s[1].status, 0);
    TU_CHECK_INT_EQ(goc_chan_len(a), 1);
    TU_CHECK_INT_EQ(goc_chan_len(b), 1);
    got = -1;
    TU_CHECK_INT_EQ(goc_chan_recv(a, &got), 0);
    TU_CHECK_INT_EQ(got, 7);
    got = -1;
    TU_CHECK_INT_EQ(goc_chan_recv(b, &got), 0);
    TU_CHECK_INT_EQ(got, 5);
    /* a receive case into NULL discards */
    TU_CHECK_INT_EQ(goc_chan_trysend(a, &seven), 0);
    goc_case d = mkcase(a, GOC_RECV, NULL);
    TU_CHECK_INT_EQ(goc_select(&d, 1, 0), 0);
    TU_CHECK_INT_EQ(goc_chan_len(a), 0);
    /* a parked partner on an unbuffered channel makes a case ready */
    goc_chan *u = goc_chan_make(sizeof(int), 0);
    TU_CHECK(u != NULL);
    if (u) {
        delayed_arg da = {.ch = u, .val = 66, .delay = 0};
        goc_task *t = goc_spawn(delayed_send, &da);
        TU_CHECK(t != NULL);
        TU_CHECK(tu_wait_parked(t, 30 * TU_SEC)); /* in its send, not just soon */
        goc_case c[2] = {mkcase(a, GOC_RECV, &got), mkcase(u, GOC_RECV, &got)};
        got = -1;
        TU_CHECK_INT_EQ(goc_select(c, 2, 0), 1);
        TU_CHECK_INT_EQ(got, 66);
        if (t)
            TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
        TU_CHECK_INT_EQ(da.rc, 0);
        TU_CHECK_INT_EQ(goc_chan_free(u), 0);
    }
    TU_CHECK_INT_EQ(goc_chan_free(a), 0);
    TU_CHECK_INT_EQ(goc_chan_free(b), 0);
}

/* More cases than fit on the stack inline: 20 channels, one ready or
 * made ready later. */
#define MANY 20
static void main_many_cases(void *arg)
{
    (void)arg;
    goc_chan *ch[MANY];
    int got[MANY];
    goc_case c[MANY];
    for (int i = 0; i < MANY; i++) {
        ch[i] = goc_chan_make(sizeof(int), (size_t)(i % 2));
        TU_CHECK(ch[i] != NULL);
        if (ch[i] == NULL)
            return;
    }
    for (int target = 0; target < MANY; target += 3) {
        for (int i = 0; i < MANY; i++) {
            got[i] = -1;
            c[i] = mkcase(ch[i], GOC_RECV, &got[i]);
        }
        int v = 1000 + target;
        if (target % 2) { /* buffered: ready at once */
            TU_CHECK_INT_EQ(goc_chan_trysend(ch[target], &v), 0);
            TU_CHECK_INT_EQ(goc_select(c, MANY, 0), target);
        } else { /* unbuffered: a late sender wakes the parked select */
            delayed_arg d = {.ch = ch[target], .val = v, .delay = 5 * TU_MS};
            goc_task *t = goc_spawn(delayed_send, &d);
            TU_CHECK(t != NULL);
            TU_CHECK_INT_EQ(goc_select(c, MANY, 10 * TU_SEC), target);
            if (t)
                TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
            TU_CHECK_INT_EQ(d.rc, 0);
        }
        for (int i = 0; i < MANY; i++)
            TU_CHECK_INT_EQ(got[i], i == target ? v : -1);
        TU_CHECK_INT_EQ(c[target].status, 0);
    }
    TU_CHECK_INT_EQ(goc_select(c, MANY, 0), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_select(c, MANY, 5 * TU_MS), GOC_ETIMEDOUT);
    /* nothing left queued anywhere */
    for (int i = 0; i < MANY; i++)
        TU_CHECK_INT_EQ(goc_chan_free(ch[i]), 0);
}

static void test_select_many_cases(void **state)
{
    (void)state;
    TU_RUN(NULL, main_many_cases, NULL);
}

static void test_select_picks_ready_case(void **state)
{
    (void)state;
    TU_RUN(NULL, main_picks_ready, NULL);
}

/* ------------------------------------------------- uniform random choice */

#define FAIR_ROUNDS 10000

typedef struct {
    long count[2][4];
    long same_as_prev[2];
} fair_result;

static void main_fair(void *arg)
{
    fair_result *res = arg;
    static const int ns[2] = {2, 4};
    for (int k = 0; k < 2; k++) {
        int n = ns[k];
        goc_chan *ch[4];
        int vals[4];
        goc_case c[4];
        for (int i = 0; i < n; i++) {
            ch[i] = goc_chan_make(sizeof(int), 1);
            TU_CHECK(ch[i] != NULL);
            if (ch[i] == NULL)
                return;
            TU_CHECK_INT_EQ(goc_chan_trysend(ch[i], &i), 0);
        }
        int prev = -1;
        for (int r = 0; r < FAIR_ROUNDS; r++) {
            for (int i = 0; i < n; i++) {
                vals[i] = -1;
                c[i] = mkcase(ch[i], GOC_RECV, &vals[i]);
            }
            int idx = goc_select(c, (size_t)n, (r % 2) ? 0 : -1);
            if (idx < 0 || idx >= n) {
                TU_CHECK(idx >= 0 && idx < n);
                return;
            }
            /* exactly the chosen case was performed */
            for (int i = 0; i < n; i++) {
                if (i == idx) {
                    if (vals[i] != i || c[i].status != 0)
                        TU_CHECK(vals[i] == i && c[i].status == 0);
                } else if (vals[i] != -1) {
                    TU_CHECK_INT_EQ(vals[i], -1);
                }
            }
            res->count[k][idx]++;
            if (idx == prev)
                res->same_as_prev[k]++;
            prev = idx;
            TU_CHECK_INT_EQ(goc_chan_trysend(ch[idx], &idx), 0);
        }
        for (int i = 0; i < n; i++)
            TU_CHECK_INT_EQ(goc_chan_free(ch[i]), 0);
    }
}

static void test_select_uniform_random(void **state)
{
    (void)state;
    fair_result res;
    memset(&res, 0, sizeof res);
    TU_RUN(NULL, main_fair, &res);
    /* 2 cases: 50% each (sd 0.5%); 4 cases: 25% each (sd 0.43%). Bounds are
     * about ten standard deviations wide. */
    for (int i = 0; i < 2; i++)
        if (res.count[0][i] < 4000 || res.count[0][i] > 6000)
            fail_msg("2 cases: case %d chosen %ld of %d times", i,
                     res.count[0][i], FAIR_ROUNDS);
    for (int i = 0; i < 4; i++)
        if (res.count[1][i] < 2000 || res.count[1][i] > 3000)
            fail_msg("4 cases: case %d chosen %ld of %d times", i,
                     res.count[1][i], FAIR_ROUNDS);
    /* random, not a rotation: the same case again about 1/n of the time */
    if (res.same_as_prev[0] < 4000 || res.same_as_prev[0] > 6000)
        fail_msg("2 cases: repeated the previous choice %ld of %d times",
                 res.same_as_prev[0], FAIR_ROUNDS);
    if (res.same_as_prev[1] < 2000 || res.same_as_prev[1] > 3000)
        fail_msg("4 cases: repeated the previous choice %ld of %d times",
                 res.same_as_prev[1], FAIR_ROUNDS);
}

/* --------------------------------- uniform random choice among parked cases */

/* Go's TestPseudoRandomSend, for sends and for receives: a select parked
 * with two cases on one channel, and then a partner. Which case the
 * partner completes must be random too, not always the first one queued.
 * Variant 0: two sends on u (values 1 and 2), then a receive on u.
 * Variant 1: two receives on u, then a send on u. Variant 2: receives on
 * u, b, u (cases 0 and 2 on one channel, another in between), then a send
 * on u. */
#define PARKED_ROUNDS 100
#define PARKED_MIN (PARKED_ROUNDS / 10)

typedef struct {
    long count[3][4]; /* [variant][case chosen] */
} parked_result;

/* One round: park a select on a->cases, then be its partner on u. */
static void parked_round(parked_result *res, int variant, goc_chan *u, goc_chan *b)
{
    int vals[2] = {1, 2}, got[3] = {-1, -1, -1};
    sel_arg a;
    memset(&a, 0, sizeof a);
    a.timeout = -1;
    if (variant == 0) {
        a.n = 2;
        a.cases[0] = mkcase(u, GOC_SEND, &vals[0]);
        a.cases[1] = mkcase(u, GOC_SEND, &vals[1]);
    } else if (variant == 1) {
        a.n = 2;
        a.cases[0] = mkcase(u, GOC_RECV, &got[0]);
        a.cases[1] = mkcase(u, GOC_RECV, &got[1]);
    } else {
        a.n = 3;
        a.cases[0] = mkcase(u, GOC_RECV, &got[0]);
        a.cases[1] = mkcase(b, GOC_RECV, &got[1]);
        a.cases[2] = mkcase(u, GOC_RECV, &got[2]);
    }
    goc_task *t = goc_spawn(sel_task, &a);
    TU_CHECK(t != NULL);
    if (t == NULL)
        return;
    TU_CHECK(sel_wait_parked(&a, t)); /* queued on u before the partner comes */
    int v = 7;
    TU_CHECK_INT_EQ(variant == 0 ? goc_chan_recv(u, &v) : goc_chan_send(u, &v), 0);
    TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    int idx = a.rc;
    if (idx < 0 || idx >= (int)a.n || a.cases[idx].ch != u) {
        TU_CHECK_INT_EQ(idx, 0);
        return;
    }
    TU_CHECK_INT_EQ(a.cases[idx].status, 0);
    if (variant == 0) {
        TU_CHECK_INT_EQ(v, vals[idx]);
    } else {
        for (int i = 0; i < (int)a.n; i++)
            TU_CHECK_INT_EQ(got[i], i == idx ? 7 : -1);
    }
    res->count[variant][idx]++;
}

static void main_parked_random(void *arg)
{
    parked_result *res = arg;
    goc_chan *u = goc_chan_make(sizeof(int), 0);
    goc_chan *b = goc_chan_make(sizeof(int), 0);
    TU_CHECK(u && b);
    if (!u || !b)
        return;
    for (int variant = 0; variant < 3; variant++)
        for (int r = 0; r < PARKED_ROUNDS; r++)
            parked_round(res, variant, u, b);
    /* the cases not chosen left no waiter behind */
    TU_CHECK_INT_EQ(goc_chan_free(u), 0);
    TU_CHECK_INT_EQ(goc_chan_free(b), 0);
}

static void test_select_parked_uniform_random(void **state)
{
    (void)state;
    parked_result res;
    memset(&res, 0, sizeof res);
    TU_RUN(NULL, main_parked_random, &res);
    print_message("parked select, case counts of %d: 2 sends %ld/%ld, 2 recvs %ld/%ld, "
                  "recv u,b,u %ld/%ld/%ld\n", PARKED_ROUNDS, res.count[0][0],
                  res.count[0][1], res.count[1][0], res.count[1][1], res.count[2][0],
                  res.count[2][1], res.count[2][2]);
    /* Each of the two cases on u is chosen with p = 1/2. Fewer than N/10
     * of N = 100 has probability sum_{k<10} C(100,k) / 2^100 = 1.7e-18, so
     * the test fails by chance with probability under 2 * 3 * 1.7e-18 =
     * 1e-17 (two cases, three variants). */
    static const int on_u[3][2] = {{0, 1}, {0, 1}, {0, 2}};
    for (int v = 0; v < 3; v++)
        for (int k = 0; k < 2; k++) {
            int i = on_u[v][k];
            if (res.count[v][i] < PARKED_MIN)
                fail_msg("variant %d: case %d chosen %ld of %d times (other: %ld)", v, i,
                         res.count[v][i], PARKED_ROUNDS, res.count[v][on_u[v][1 - k]]);
        }
}

/* ------------------------------------------------------------- timeouts */

static void main_timeouts(void *arg)
{
    (void)arg;
    goc_chan *e = goc_chan_make(sizeof(int), 2); /* empty */
    goc_chan *u = goc_chan_make(sizeof(int), 0); /* nobody there */
    goc_chan *f = goc_chan_make(sizeof(int), 1); /* full */
    TU_CHECK(e && u && f);
    if (!e || !u || !f)
        return;
    int one = 1, got = -1;
    TU_CHECK_INT_EQ(goc_chan_trysend(f, &one), 0);
    goc_case c[4] = {mkcase(e, GOC_RECV, &got), mkcase(u, GOC_RECV, &got),
                     mkcase(u, GOC_SEND, &one), mkcase(f, GOC_SEND, &one)};

    /* timeout 0: nothing ready, nothing done */
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_select(c, 4, 0), GOC_EAGAIN);
    TU_CHECK(goc_now() - t0 < TU_SEC);
    TU_CHECK_INT_EQ(got, -1);
    TU_CHECK_INT_EQ(goc_chan_len(e), 0);
    TU_CHECK_INT_EQ(goc_chan_len(f), 1);

    /* timeout > 0: ETIMEDOUT, never early */
    static const int64_t waits[] = {1000, 100000, TU_MS, 10 * TU_MS, 50 * TU_MS};
    for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++) {
        t0 = goc_now();
        int r = goc_select(c, 4, waits[i]);
        int64_t el = goc_now() - t0;
        TU_CHECK_INT_EQ(r, GOC_ETIMEDOUT);
        if (el < waits[i])
            tu_check_failed(__FILE__, __LINE__,
                            "timeout %lld ns returned after %lld ns",
                            (long long)waits[i], (long long)el);
        TU_CHECK(el < waits[i] + 5 * TU_SEC);
    }
    TU_CHECK_INT_EQ(got, -1);
    TU_CHECK_INT_EQ(goc_chan_len(e), 0);
    TU_CHECK_INT_EQ(goc_chan_len(f), 1);
    /* the timed-out select left nothing queued */
    TU_CHECK_INT_EQ(goc_chan_trysend(u, &one), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(u, &got), GOC_EAGAIN);

    /* timeout < 0: waits until a sender arrives (late) */
    delayed_arg d = {.ch = e, .val = 123, .delay = 50 * TU_MS};
    t0 = goc_now();
    goc_task *t = goc_spawn(delayed_send, &d);
    TU_CHECK(t != NULL);
    got = -1;
    TU_CHECK_INT_EQ(goc_select(c, 2, -1), 0);
    TU_CHECK(goc_now() - t0 >= 50 * TU_MS);
    TU_CHECK_INT_EQ(got, 123);
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    /* ... and the same through an unbuffered channel */
    d = (delayed_arg){.ch = u, .val = 124, .delay = 50 * TU_MS};
    t0 = goc_now();
    t = goc_spawn(delayed_send, &d);
    TU_CHECK(t != NULL);
    got = -1;
    TU_CHECK_INT_EQ(goc_select(c, 2, -1), 1);
    TU_CHECK(goc_now() - t0 >= 50 * TU_MS);
    TU_CHECK_INT_EQ(got, 124);
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    TU_CHECK_INT_EQ(d.rc, 0);
    /* a long timeout does not get in the way of a value */
    d = (delayed_arg){.ch = u, .val = 125, .delay = 10 * TU_MS};
    t0 = goc_now();
    t = goc_spawn(delayed_send, &d);
    TU_CHECK(t != NULL);
    got = -1;
    TU_CHECK_INT_EQ(goc_select(c, 2, 60 * TU_SEC), 1);
    TU_CHECK(goc_now() - t0 < 30 * TU_SEC);
    TU_CHECK_INT_EQ(got, 125);
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, NULL), 0);

    TU_CHECK_INT_EQ(goc_chan_free(e), 0);
    TU_CHECK_INT_EQ(goc_chan_free(u), 0);
    TU_CHECK_INT_EQ(goc_chan_free(f), 0);
}

static void test_select_timeouts(void **state)
{
    (void)state;
    TU_RUN(NULL, main_timeouts, NULL);
}

/* ----------------------------------------------- NULL channels and n = 0 */

static void main_null_cases(void *arg)
{
    (void)arg;
    goc_chan *b = goc_chan_make(sizeof(int), 1);
    TU_CHECK(b != NULL);
    if (b == NULL)
        return;
    int x = 9, got = -1;
    for (int r = 0; r < 1000; r++) {
        TU_CHECK_INT_EQ(goc_chan_trysend(b, &x), 0);
        goc_case c[3] = {mkcase(NULL, GOC_RECV, &got), mkcase(b, GOC_RECV, &got),
                         mkcase(NULL, GOC_SEND, &x)};
        int idx = goc_select(c, 3, (r % 2) ? 0 : -1);
        if (idx != 1) {
            TU_CHECK_INT_EQ(idx, 1);
            break;
        }
        TU_CHECK_INT_EQ(got, 9);
    }
    /* only NULL channels: never ready */
    goc_case c[2] = {mkcase(NULL, GOC_RECV, &got), mkcase(NULL, GOC_SEND, &x)};
    TU_CHECK_INT_EQ(goc_select(c, 2, 0), GOC_EAGAIN);
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_select(c, 2, 20 * TU_MS), GOC_ETIMEDOUT);
    TU_CHECK(goc_now() - t0 >= 20 * TU_MS);

    /* n = 0: waits out the timeout (cases may be NULL) */
    TU_CHECK_INT_EQ(goc_select(NULL, 0, 0), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_select(c, 0, 0), GOC_EAGAIN);
    t0 = goc_now();
    TU_CHECK_INT_EQ(goc_select(NULL, 0, 30 * TU_MS), GOC_ETIMEDOUT);
    int64_t el = goc_now() - t0;
    TU_CHECK(el >= 30 * TU_MS);
    TU_CHECK(el < 10 * TU_SEC);
    TU_CHECK_INT_EQ(goc_chan_free(b), 0);
}

static void test_select_null_channels_and_n0(void **state)
{
    (void)state;
    TU_RUN(NULL, main_null_cases, NULL);
}

/* ------------------------------------------------------------ closed */

static void main_closed(void *arg)
{
    (void)arg;
    goc_chan *open_ch = goc_chan_make(sizeof(int), 0);
    goc_chan *closed = goc_chan_make(sizeof(int), 0);
    TU_CHECK(open_ch && closed);
    if (!open_ch || !closed)
        return;
    TU_CHECK_INT_EQ(goc_chan_close(closed), 0);
    int got = 42, x = 1;
    for (int64_t to = -1; to <= 0; to++) {
        goc_case c[2] = {mkcase(open_ch, GOC_RECV, &got), mkcase(closed, GOC_RECV, &got)};
        TU_CHECK_INT_EQ(goc_select(c, 2, to), 1);
        TU_CHECK_INT_EQ(c[1].status, GOC_ECLOSED);
        TU_CHECK(got == 42 || got == 0); /* untouched or Go's zero value */
        got = 42;
        goc_case s[2] = {mkcase(open_ch, GOC_SEND, &x), mkcase(closed, GOC_SEND, &x)};
        TU_CHECK_INT_EQ(goc_select(s, 2, to), 1);
        TU_CHECK_INT_EQ(s[1].status, GOC_ECLOSED);
    }
    /* a buffered value is drained first (status 0), then ECLOSED */
    goc_chan *b = goc_chan_make(sizeof(int), 2);
    TU_CHECK(b != NULL);
    if (b == NULL)
        return;
    x = 31;
    TU_CHECK_INT_EQ(goc_chan_trysend(b, &x), 0);
    TU_CHECK_INT_EQ(goc_chan_close(b), 0);
    goc_case r = mkcase(b, GOC_RECV, &got);
    TU_CHECK_INT_EQ(goc_select(&r, 1, -1), 0);
    TU_CHECK_INT_EQ(r.status, 0);
    TU_CHECK_INT_EQ(got, 31);
    r.status = 12345;
    TU_CHECK_INT_EQ(goc_select(&r, 1, -1), 0);
    TU_CHECK_INT_EQ(r.status, GOC_ECLOSED);

    /* closed while the select waits: it wakes with ECLOSED */
    sel_arg sa;
    memset(&sa, 0, sizeof sa);
    goc_chan *later = goc_chan_make(sizeof(int), 0);
    TU_CHECK(later != NULL);
    if (later == NULL)
        return;
    int g1 = -1;
    sa.cases[0] = mkcase(open_ch, GOC_RECV, &g1);
    sa.cases[1] = mkcase(later, GOC_SEND, &x);
    sa.n = 2;
    sa.timeout = -1;
    sa.rc = 999;
    goc_task *t = goc_spawn(sel_task, &sa);
    TU_CHECK(t != NULL);
    TU_CHECK(sel_wait_parked(&sa, t));
    TU_CHECK_INT_EQ(goc_chan_close(later), 0);
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    TU_CHECK_INT_EQ(sa.rc, 1);
    TU_CHECK_INT_EQ(sa.cases[1].status, GOC_ECLOSED);
    TU_CHECK_INT_EQ(g1, -1);
    /* it is no longer queued on open_ch */
    TU_CHECK_INT_EQ(goc_chan_trysend(open_ch, &x), GOC_EAGAIN);

    TU_CHECK_INT_EQ(goc_chan_free(open_ch), 0);
    TU_CHECK_INT_EQ(goc_chan_free(closed), 0);
    TU_CHECK_INT_EQ(goc_chan_free(b), 0);
    TU_CHECK_INT_EQ(goc_chan_free(later), 0);
}

static void test_select_closed_channel(void **state)
{
    (void)state;
    TU_RUN(NULL, main_closed, NULL);
}

/* -------------------------------------- one channel twice in one select */

static void main_same_channel(void *arg)
{
    (void)arg;
    goc_chan *u = goc_chan_make(sizeof(int), 0);
    TU_CHECK(u != NULL);
    if (u == NULL)
        return;
    int out = 5, in = -1;
    /* alone, send and receive on one unbuffered channel never meet */
    goc_case c[2] = {mkcase(u, GOC_SEND, &out), mkcase(u, GOC_RECV, &in)};
    TU_CHECK_INT_EQ(goc_select(c, 2, 0), GOC_EAGAIN);
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_select(c, 2, 30 * TU_MS), GOC_ETIMEDOUT);
    TU_CHECK(goc_now() - t0 >= 30 * TU_MS);
    TU_CHECK_INT_EQ(in, -1);
    /* with a partner it works, whichever side the partner takes */
    for (int k = 0; k < 20; k++) {
        delayed_arg d = {.ch = u, .val = 77, .delay = (k % 2) ? TU_MS : 0};
        goc_task *t = goc_spawn((k / 2) % 2 ? delayed_recv : delayed_send, &d);
        TU_CHECK(t != NULL);
        in = -1;
        int idx = goc_select(c, 2, 10 * TU_SEC);
        if (t)
            TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
        TU_CHECK_INT_EQ(d.rc, 0);
        if ((k / 2) % 2) {
            TU_CHECK_INT_EQ(idx, 0); /* the partner received */
            TU_CHECK_INT_EQ(d.val, 5);
            TU_CHECK_INT_EQ(in, -1);
        } else {
            TU_CHECK_INT_EQ(idx, 1); /* the partner sent */
            TU_CHECK_INT_EQ(in, 77);
        }
    }
    /* twice the same receive case on a buffered channel: one value, one case */
    goc_chan *b = goc_chan_make(sizeof(int), 1);
    TU_CHECK(b != NULL);
    if (b) {
        TU_CHECK_INT_EQ(goc_chan_trysend(b, &out), 0);
        int g0 = -1, g1 = -1;
        goc_case d[2] = {mkcase(b, GOC_RECV, &g0), mkcase(b, GOC_RECV, &g1)};
        int idx = goc_select(d, 2, -1);
        TU_CHECK(idx == 0 || idx == 1);
        TU_CHECK_INT_EQ(g0 + g1, 5 - 1);
        TU_CHECK_INT_EQ(goc_chan_len(b), 0);
        TU_CHECK_INT_EQ(goc_chan_free(b), 0);
    }
    TU_CHECK_INT_EQ(goc_chan_free(u), 0);
}

static void test_select_same_channel_twice(void **state)
{
    (void)state;
    TU_RUN(NULL, main_same_channel, NULL);
}

/* ---------------------------------------------------- select vs select */

#define SS_ROUNDS 2000
typedef struct {
    goc_chan *c1, *c2;
    int id;
    long sent, received;
    long bad;
} ss_arg;

static void *ss_peer(void *arg)
{
    ss_arg *a = arg;
    for (int r = 0; r < SS_ROUNDS; r++) {
        int out = a->id * 1000000 + r;
        int in1 = -1, in2 = -1;
        goc_case c[4] = {mkcase(a->c1, GOC_SEND, &out), mkcase(a->c1, GOC_RECV, &in1),
                         mkcase(a->c2, GOC_SEND, &out), mkcase(a->c2, GOC_RECV, &in2)};
        int idx = goc_select(c, 4, 20 * TU_SEC);
        if (idx < 0) {
            TU_CHECK_INT_EQ(idx, 0);
            return NULL;
        }
        if (idx == 0 || idx == 2) {
            a->sent++;
            if (in1 != -1 || in2 != -1)
                a->bad++;
        } else {
            a->received++;
            int in = idx == 1 ? in1 : in2;
            /* it came from the other peer, in the same round */
            if (in != (1 - a->id) * 1000000 + r)
                a->bad++;
        }
    }
    return NULL;
}

static void main_select_vs_select(void *arg)
{
    (void)arg;
    ss_arg p[2];
    goc_chan *c1 = goc_chan_make(sizeof(int), 0);
    goc_chan *c2 = goc_chan_make(sizeof(int), 0);
    TU_CHECK(c1 && c2);
    if (!c1 || !c2)
        return;
    goc_task *t[2];
    for (int i = 0; i < 2; i++) {
        memset(&p[i], 0, sizeof p[i]);
        p[i].c1 = c1;
        p[i].c2 = c2;
        p[i].id = i;
        t[i] = goc_spawn(ss_peer, &p[i]);
        TU_CHECK(t[i] != NULL);
    }
    for (int i = 0; i < 2; i++)
        if (t[i])
            TU_CHECK_INT_EQ(goc_join(t[i], NULL), 0);
    TU_CHECK_INT_EQ(p[0].bad + p[1].bad, 0);
    TU_CHECK_INT_EQ(p[0].sent + p[0].received, SS_ROUNDS);
    TU_CHECK_INT_EQ(p[0].sent, p[1].received);
    TU_CHECK_INT_EQ(p[1].sent, p[0].received);
    /* both directions were used */
    TU_CHECK(p[0].sent > 0 && p[1].sent > 0);
    TU_CHECK_INT_EQ(goc_chan_free(c1), 0);
    TU_CHECK_INT_EQ(goc_chan_free(c2), 0);
}

static void test_select_against_select(void **state)
{
    (void)state;
    TU_RUN(NULL, main_select_vs_select, NULL);
}

/* ------------------------------------------------------------ stress */

#define ST_CH 4
typedef struct st_state st_state;
typedef struct {
    st_state *s;
    int id;
} st_arg;

struct st_state {
    long n; /* values per sender */
    int select_senders;
    int receivers;
    goc_chan *ch[ST_CH];
    goc_wg *swg, *rwg;
    atomic_llong sum;
    atomic_long count;
    atomic_long bad;
    st_arg sargs[ST_CH];
    st_arg rargs[4];
};

static void st_sender(void *arg)
{
    st_arg *a = arg;
    st_state *s = a->s;
    for (long i = 0; i < s->n; i++) {
        long v = a->id * s->n + i + 1;
        if (s->select_senders) {
            /* any of the channels: select against the receivers' selects */
            goc_case c[ST_CH];
            for (int k = 0; k < ST_CH; k++)
                c[k] = mkcase(s->ch[k], GOC_SEND, &v);
            int idx = goc_select(c, ST_CH, -1);
            if (idx < 0 || idx >= ST_CH || c[idx].status != 0)
                atomic_fetch_add(&s->bad, 1);
        } else if (goc_chan_send(s->ch[a->id], &v) != 0) {
            atomic_fetch_add(&s->bad, 1);
        }
    }
    goc_wg_done(s->swg);
}

static void st_receiver(void *arg)
{
    st_arg *a = arg;
    st_state *s = a->s;
    long v[ST_CH];
    long last[ST_CH];
    goc_case c[ST_CH];
    for (int k = 0; k < ST_CH; k++) {
        c[k] = mkcase(s->ch[k], GOC_RECV, &v[k]);
        last[k] = 0;
    }
    int open = ST_CH;
    long long sum = 0;
    long count = 0;
    while (open > 0) {
        int idx = goc_select(c, ST_CH, -1);
        if (idx < 0 || idx >= ST_CH) {
            atomic_fetch_add(&s->bad, 1);
            break;
        }
        if (c[idx].status == GOC_ECLOSED) {
            c[idx].ch = NULL; /* Go's nil-channel idiom */
            open--;
            continue;
        }
        long x = v[idx];
        if (x < 1 || x > ST_CH * s->n) {
            atomic_fetch_add(&s->bad, 1);
            continue;
        }
        /* with a plain sender per channel and one receiver, each channel
         * delivers in order */
        if (!s->select_senders && s->receivers == 1) {
            if (x <= last[idx] || (x - 1) / s->n != idx)
                atomic_fetch_add(&s->bad, 1);
            last[idx] = x;
        }
        sum += x;
        count++;
    }
    atomic_fetch_add(&s->sum, sum);
    atomic_fetch_add(&s->count, count);
    goc_wg_done(s->rwg);
}

static void main_select_stress(void *arg)
{
    st_state *s = arg;
    for (int k = 0; k < ST_CH; k++) {
        s->ch[k] = goc_chan_make(sizeof(long), 0);
        TU_CHECK(s->ch[k] != NULL);
        if (s->ch[k] == NULL)
            return;
    }
    s->swg = goc_wg_new();
    s->rwg = goc_wg_new();
    TU_CHECK(s->swg && s->rwg);
    if (!s->swg || !s->rwg)
        return;
    goc_wg_add(s->swg, ST_CH);
    goc_wg_add(s->rwg, s->receivers);
    for (int i = 0; i < s->receivers; i++) {
        s->rargs[i] = (st_arg){s, i};
        TU_CHECK_INT_EQ(goc_go(st_receiver, &s->rargs[i]), 0);
    }
    for (int i = 0; i < ST_CH; i++) {
        s->sargs[i] = (st_arg){s, i};
        TU_CHECK_INT_EQ(goc_go(st_sender, &s->sargs[i]), 0);
    }
    TU_CHECK_INT_EQ(goc_wg_wait(s->swg), 0);
    for (int k = 0; k < ST_CH; k++)
        TU_CHECK_INT_EQ(goc_chan_close(s->ch[k]), 0);
    TU_CHECK_INT_EQ(goc_wg_wait(s->rwg), 0);
    for (int k = 0; k < ST_CH; k++)
        TU_CHECK_INT_EQ(goc_chan_free(s->ch[k]), 0);
    goc_wg_free(s->swg);
    goc_wg_free(s->rwg);
}

static void run_stress(int select_senders, int receivers)
{
    st_state *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->n = TU_SCALE(20000);
    s->select_senders = select_senders;
    s->receivers = receivers;
    TU_RUN(NULL, main_select_stress, s);
    long total = ST_CH * s->n;
    long long want = (long long)total * (total + 1) / 2;
    if (atomic_load(&s->bad) != 0 || atomic_load(&s->count) != total ||
        atomic_load(&s->sum) != want)
        fail_msg("select senders %d, receivers %d: bad %ld, count %ld (want %ld), "
                 "sum %lld (want %lld)",
                 select_senders, receivers, atomic_load(&s->bad),
                 atomic_load(&s->count), total, (long long)atomic_load(&s->sum),
                 want);
    free(s);
}

static void test_select_stress_one_receiver(void **state)
{
    (void)state;
    run_stress(0, 1);
}

static void test_select_stress_select_both_sides(void **state)
{
    (void)state;
    run_stress(1, 3);
}

/* ------------------------------------------------------------ bad input */

static void main_bad_input(void *arg)
{
    (void)arg;
    goc_chan *b = goc_chan_make(sizeof(int), 2);
    goc_chan *e = goc_chan_make(sizeof(int), 2);
    goc_chan *sig = goc_chan_make(0, 1);
    TU_CHECK(b && e && sig);
    if (!b || !e || !sig)
        return;
    int x = 3, got = -1;
    TU_CHECK_INT_EQ(goc_chan_trysend(b, &x), 0);

    TU_CHECK_INT_EQ(goc_select(NULL, 1, 0), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_select(NULL, 2, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_select(NULL, 3, 10 * TU_MS), GOC_EINVAL);

    static const int bad_ops[] = {0, 3, -1, GOC_SEND | GOC_RECV, 1000};
    for (size_t i = 0; i < sizeof bad_ops / sizeof bad_ops[0]; i++) {
        /* a ready receive and a ready send next to the bad case: neither
         * may be performed */
        goc_case c[3] = {mkcase(b, GOC_RECV, &got), mkcase(e, GOC_SEND, &x),
                         mkcase(e, bad_ops[i], &x)};
        for (int64_t to = -1; to <= 1; to++) {
            TU_CHECK_INT_EQ(goc_select(c, 3, to), GOC_EINVAL);
            TU_CHECK_INT_EQ(got, -1);
            TU_CHECK_INT_EQ(goc_chan_len(b), 1);
            TU_CHECK_INT_EQ(goc_chan_len(e), 0);
        }
    }
    /* a NULL send element on a sized channel */
    goc_case c[3] = {mkcase(b, GOC_RECV, &got), mkcase(e, GOC_SEND, &x),
                     mkcase(e, GOC_SEND, NULL)};
    TU_CHECK_INT_EQ(goc_select(c, 3, 0), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_select(c, 3, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(got, -1);
    TU_CHECK_INT_EQ(goc_chan_len(b), 1);
    TU_CHECK_INT_EQ(goc_chan_len(e), 0);
    /* ... the bad case first */
    goc_case c2[2] = {mkcase(e, GOC_SEND, NULL), mkcase(b, GOC_RECV, &got)};
    TU_CHECK_INT_EQ(goc_select(c2, 2, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_chan_len(b), 1);
    /* a NULL send element on a signal channel is fine */
    goc_case s1 = mkcase(sig, GOC_SEND, NULL);
    TU_CHECK_INT_EQ(goc_select(&s1, 1, 0), 0);
    TU_CHECK_INT_EQ(s1.status, 0);
    TU_CHECK_INT_EQ(goc_chan_len(sig), 1);

    TU_CHECK_INT_EQ(goc_chan_free(b), 0);
    TU_CHECK_INT_EQ(goc_chan_free(e), 0);
    TU_CHECK_INT_EQ(goc_chan_free(sig), 0);
}

static void test_select_bad_input(void **state)
{
    (void)state;
    TU_RUN(NULL, main_bad_input, NULL);
}

/* --------------------------------------------------------- cancellation */

static void main_select_cancel(void *arg)
{
    (void)arg;
    goc_chan *u = goc_chan_make(sizeof(int), 0);
    goc_chan *f = goc_chan_make(sizeof(int), 1);
    goc_chan *e = goc_chan_make(sizeof(int), 1);
    TU_CHECK(u && f && e);
    if (!u || !f || !e)
        return;
    int one = 1;
    TU_CHECK_INT_EQ(goc_chan_trysend(f, &one), 0);
    static const int64_t touts[] = {-1, 60 * TU_SEC};
    for (int k = 0; k < 2; k++) {
        sel_arg sa;
        memset(&sa, 0, sizeof sa);
        int g = -1, v = 2;
        sa.cases[0] = mkcase(u, GOC_RECV, &g);
        sa.cases[1] = mkcase(f, GOC_SEND, &v);
        sa.cases[2] = mkcase(e, GOC_RECV, &g);
        sa.cases[3] = mkcase(u, GOC_SEND, &v);
        sa.n = 4;
        sa.timeout = touts[k];
        sa.rc = 999;
        goc_task *t = goc_spawn(sel_task, &sa);
        TU_CHECK(t != NULL);
        if (t == NULL)
            continue;
        TU_CHECK(sel_wait_parked(&sa, t));
        /* a select waiter counts as a waiter */
        TU_CHECK_INT_EQ(goc_chan_free(u), GOC_EBUSY);
        TU_CHECK_INT_EQ(goc_chan_free(e), GOC_EBUSY);
        int64_t t0 = goc_now();
        TU_CHECK_INT_EQ(goc_cancel(t), 0);
        TU_CHECK_INT_EQ(goc_join(t, NULL), GOC_ECANCELED);
        TU_CHECK(goc_now() - t0 < 5 * TU_SEC);
        TU_CHECK_INT_EQ(sa.rc, GOC_ECANCELED);
        TU_CHECK_INT_EQ(g, -1);
        /* it left no trace in any queue */
        int x = 5;
        TU_CHECK_INT_EQ(goc_chan_trysend(u, &x), GOC_EAGAIN);
        TU_CHECK_INT_EQ(goc_chan_tryrecv(u, &x), GOC_EAGAIN);
        TU_CHECK_INT_EQ(goc_chan_len(f), 1);
        TU_CHECK_INT_EQ(goc_chan_trysend(e, &x), 0);
        TU_CHECK_INT_EQ(goc_chan_len(e), 1);
        TU_CHECK_INT_EQ(goc_chan_tryrecv(e, &x), 0);
        TU_CHECK_INT_EQ(x, 5);
    }
    TU_CHECK_INT_EQ(goc_chan_free(u), 0);
    TU_CHECK_INT_EQ(goc_chan_free(f), 0);
    TU_CHECK_INT_EQ(goc_chan_free(e), 0);
}

static void test_select_cancelled(void **state)
{
    (void)state;
    TU_RUN(NULL, main_select_cancel, NULL);
}

/* ------------------------------- free right after a select completed */

/* A coroutine selects on two channels; the other side completes the
 * operation on one of them and frees that channel at once, while the
 * selecting coroutine is still waking up and leaving the other queue. */
typedef struct {
    goc_chan *c1, *c2;
    int mode; /* 0: selector receives; 1: selector sends */
    int val;
    int got;
} sf_arg;

typedef struct {
    long n;
    sf_arg *args;
    atomic_long done;
    atomic_long bad;
} sf_state;

static sf_state *g_sf;

static void sf_selector(void *arg)
{
    sf_arg *a = arg;
    goc_chan *c2 = a->c2;
    int g1 = -1, g2 = -1;
    goc_case c[2];
    if (a->mode == 0) {
        c[0] = mkcase(a->c1, GOC_RECV, &g1);
        c[1] = mkcase(c2, GOC_RECV, &g2);
    } else {
        c[0] = mkcase(a->c1, GOC_SEND, &a->val);
        c[1] = mkcase(c2, GOC_SEND, &a->val);
    }
    int idx = goc_select(c, 2, ((a->val - 1) / 2) % 2 ? -1 : 60 * TU_SEC);
    /* c1 may be freed by now */
    if (idx != 0 || (a->mode == 0 && g1 != a->val) || g2 != -1)
        atomic_fetch_add(&g_sf->bad, 1);
    TU_CHECK_INT_EQ(goc_chan_free(c2), 0);
    atomic_fetch_add(&g_sf->done, 1);
}

static void main_select_free_after(void *arg)
{
    sf_state *s = arg;
    g_sf = s;
    for (long i = 0; i < s->n; i++) {
        sf_arg *a = &s->args[i];
        a->mode = (int)(i % 2);
        a->val = (int)i + 1;
        a->c1 = goc_chan_make(sizeof(int), 0);
        a->c2 = goc_chan_make(sizeof(int), 0);
        TU_CHECK(a->c1 && a->c2);
        if (!a->c1 || !a->c2)
            return;
        TU_CHECK_INT_EQ(goc_go(sf_selector, a), 0);
        for (long y = 0; y < (i / 2) % 3; y++)
            goc_yield();
        if (a->mode == 0) {
            TU_CHECK_INT_EQ(goc_chan_send(a->c1, &a->val), 0);
        } else {
            int v = -1;
            TU_CHECK_INT_EQ(goc_chan_recv(a->c1, &v), 0);
            TU_CHECK_INT_EQ(v, a->val);
        }
        TU_CHECK_INT_EQ(goc_chan_free(a->c1), 0);
    }
    TU_CHECK(tu_wait_count(&s->done, s->n, 30 * TU_SEC));
    TU_CHECK_INT_EQ(atomic_load(&s->bad), 0);
}

static void test_select_free_right_after(void **state)
{
    (void)state;
    sf_state s;
    memset(&s, 0, sizeof s);
    s.n = TU_SCALE(10000);
    s.args = calloc((size_t)s.n, sizeof *s.args);
    assert_non_null(s.args);
    TU_RUN(NULL, main_select_free_after, &s);
    free(s.args);
    assert_int_equal(atomic_load(&s.done), s.n);
}

/* ------------------------------------------------------- goc_after */

static void main_after(void *arg)
{
    (void)arg;
    /* fires, not early, with a timestamp at or after the deadline */
    static const int64_t durs[] = {TU_MS, 20 * TU_MS, 60 * TU_MS};
    for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
        int64_t t0 = goc_now();
        goc_chan *a = goc_after(durs[i]);
        TU_CHECK(a != NULL);
        if (a == NULL)
            return;
        TU_CHECK_INT_EQ(goc_chan_cap(a), 1);
        int64_t when = 0;
        TU_CHECK_INT_EQ(goc_chan_recv(a, &when), 0);
        int64_t t1 = goc_now();
        if (t1 - t0 < durs[i] || when < t0 + durs[i] || when > t1)
            tu_check_failed(__FILE__, __LINE__,
                            "goc_after(%lld): returned after %lld ns, value "
                            "%lld ns after the call (recv returned at %lld)",
                            (long long)durs[i], (long long)(t1 - t0),
                            (long long)(when - t0), (long long)(t1 - t0));
        TU_CHECK(t1 - t0 < durs[i] + 5 * TU_SEC);
        /* it fires once */
        goc_case c = mkcase(a, GOC_RECV, &when);
        TU_CHECK_INT_EQ(goc_select(&c, 1, 30 * TU_MS), GOC_ETIMEDOUT);
        TU_CHECK_INT_EQ(goc_chan_free(a), 0);
    }

    /* <= 0 fires at once */
    static const int64_t now_durs[] = {0, -1, -TU_SEC, INT64_MIN};
    for (size_t i = 0; i < sizeof now_durs / sizeof now_durs[0]; i++) {
        int64_t t0 = goc_now();
        goc_chan *a = goc_after(now_durs[i]);
        TU_CHECK(a != NULL);
        if (a == NULL)
            return;
        int64_t when = 0;
        goc_case c = mkcase(a, GOC_RECV, &when);
        TU_CHECK_INT_EQ(goc_select(&c, 1, 5 * TU_SEC), 0);
        TU_CHECK(goc_now() - t0 < TU_SEC);
        TU_CHECK(when >= t0 && when <= goc_now());
        TU_CHECK_INT_EQ(goc_chan_free(a), 0);
    }

    /* INT64_MAX (and near it) never fires: no overflow into the past */
    static const int64_t never[] = {INT64_MAX, INT64_MAX - 1, INT64_MAX / 2};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        goc_chan *a = goc_after(never[i]);
        TU_CHECK(a != NULL);
        if (a == NULL)
            return;
        int64_t when = 0;
        goc_case c = mkcase(a, GOC_RECV, &when);
        TU_CHECK_INT_EQ(goc_select(&c, 1, 50 * TU_MS), GOC_ETIMEDOUT);
        TU_CHECK_INT_EQ(goc_chan_len(a), 0);
        TU_CHECK_INT_EQ(goc_chan_free(a), 0);
    }

    /* as the timeout case of a select */
    goc_chan *u = goc_chan_make(sizeof(int), 0);
    TU_CHECK(u != NULL);
    if (u) {
        int64_t t0 = goc_now();
        goc_chan *a = goc_after(30 * TU_MS);
        TU_CHECK(a != NULL);
        int got = -1;
        int64_t when = 0;
        goc_case c[2] = {mkcase(u, GOC_RECV, &got), mkcase(a, GOC_RECV, &when)};
        TU_CHECK_INT_EQ(goc_select(c, 2, -1), 1);
        TU_CHECK(goc_now() - t0 >= 30 * TU_MS);
        TU_CHECK(when >= t0 + 30 * TU_MS);
        TU_CHECK_INT_EQ(got, -1);
        TU_CHECK_INT_EQ(goc_chan_free(a), 0);
        TU_CHECK_INT_EQ(goc_chan_free(u), 0);
    }
}

static void test_after(void **state)
{
    (void)state;
    TU_RUN(NULL, main_after, NULL);
}

/* Freed before it fires: the timer is stopped (ASan catches a timer that
 * writes into the freed channel). Also freed while it is firing. */
static void main_after_free_early(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        goc_chan *a = goc_after(5 * TU_MS + (i % 7) * TU_MS);
        TU_CHECK(a != NULL);
        if (a == NULL)
            return;
        if (i % 3 == 0)
            goc_yield();
        TU_CHECK_INT_EQ(goc_chan_free(a), 0);
    }
    int n = (int)TU_SCALE(2000);
    for (int i = 0; i < n; i++) {
        /* racing the firing */
        goc_chan *a = goc_after((i % 5) * 100000);
        TU_CHECK(a != NULL);
        if (a == NULL)
            return;
        if (i % 2)
            goc_sleep((i % 4) * 100000);
        TU_CHECK_INT_EQ(goc_chan_free(a), 0);
    }
    /* let any timer that was not stopped go off */
    goc_sleep(50 * TU_MS);
    /* and timers still work */
    goc_chan *a = goc_after(TU_MS);
    TU_CHECK(a != NULL);
    if (a) {
        int64_t when = 0;
        TU_CHECK_INT_EQ(goc_chan_recv(a, &when), 0);
        TU_CHECK(when > 0);
        TU_CHECK_INT_EQ(goc_chan_free(a), 0);
    }
}

static void test_after_free_before_firing(void **state)
{
    (void)state;
    TU_RUN(NULL, main_after_free_early, NULL);
}

/* ------------------------------------------------- outside a coroutine */

static void test_select_outside_coroutine(void **state)
{
    (void)state;
    goc_chan *b = goc_chan_make(sizeof(int), 1);
    assert_non_null(b);
    int x = 4, got = -1;
    goc_case c = mkcase(b, GOC_RECV, &got);
    /* never blocks: works */
    assert_int_equal(goc_select(&c, 1, 0), GOC_EAGAIN);
    /* would block: refused, at once */
    int64_t t0 = tu_clock_ns();
    assert_int_equal(goc_select(&c, 1, -1), GOC_EPERM);
    assert_int_equal(goc_select(&c, 1, 10 * TU_MS), GOC_EPERM);
    assert_true(tu_clock_ns() - t0 < TU_SEC);
    assert_int_equal(goc_chan_trysend(b, &x), 0);
    c.status = 12345;
    assert_int_equal(goc_select(&c, 1, 0), 0);
    assert_int_equal(got, 4);
    assert_int_equal(c.status, 0);
    /* goc_after needs a coroutine */
    assert_null(goc_after(TU_MS));
    assert_int_equal(goc_chan_free(b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_outside_coroutine),
        cmocka_unit_test(test_select_picks_ready_case),
        cmocka_unit_test(test_select_many_cases),
        cmocka_unit_test(test_select_uniform_random),
        cmocka_unit_test(test_select_parked_uniform_random),
        cmocka_unit_test(test_select_timeouts),
        cmocka_unit_test(test_select_null_channels_and_n0),
        cmocka_unit_test(test_select_closed_channel),
        cmocka_unit_test(test_select_same_channel_twice),
        cmocka_unit_test(test_select_against_select),
        cmocka_unit_test(test_select_stress_one_receiver),
        cmocka_unit_test(test_select_stress_select_both_sides),
        cmocka_unit_test(test_select_bad_input),
        cmocka_unit_test(test_select_cancelled),
        cmocka_unit_test(test_select_free_right_after),
        cmocka_unit_test(test_after),
        cmocka_unit_test(test_after_free_before_firing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
