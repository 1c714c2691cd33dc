/*
 * test_queue.c - goc_queue and goc_event: FIFO order, backpressure (put
 * parks while full), timeouts (never early), task_done/join, close, cancel
 * of parked puts, gets and joins, a multi-producer multi-consumer stress
 * with exact checksums, cancel and timeout racing put/get with exact
 * accounting (no value lost or delivered twice), bad input, and calls
 * outside coroutines.
 */
#include "test_util.h"
#include "tu_whitebox.h"

static void run_main(void (*fn)(void *))
{
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, fn, NULL);
}

/* A coroutine doing one queue operation, for the parking tests. */
enum { OP_PUT, OP_GET, OP_JOIN };

typedef struct q_op {
    goc_queue *q;
    int op;
    int value;           /* put: what; get: what came */
    int64_t timeout;
    int rc;
    atomic_int entered;
    atomic_int returned;
    goc_task *task;      /* the task doing it (start_op) */
} q_op;

static void *q_op_fn(void *arg)
{
    q_op *o = arg;
    atomic_store(&o->entered, 1);
    if (o->op == OP_PUT)
        o->rc = goc_queue_put(o->q, &o->value, o->timeout);
    else if (o->op == OP_GET)
        o->rc = goc_queue_get(o->q, &o->value, o->timeout);
    else
        o->rc = goc_queue_join(o->q, o->timeout);
    atomic_store(&o->returned, 1);
    return NULL;
}

static goc_task *start_op(q_op *o, goc_queue *q, int op, int value, int64_t timeout)
{
    memset(o, 0, sizeof *o);
    o->q = q;
    o->op = op;
    o->value = value;
    o->timeout = timeout;
    o->rc = 12345;
    goc_task *t = goc_spawn(q_op_fn, o);
    TU_CHECK(t != NULL);
    o->task = t;
    return t;
}

/* Wait until the operation is parked in its call (queued on the queue:
 * not "entered, and 20 ms later not returned", which a descheduled worker
 * outlasts). 1 if it is, and so has not returned. */
static int parked(q_op *o)
{
    if (!tu_wait_parked(o->task, 30 * TU_SEC))
        return 0;
    return !atomic_load(&o->returned);
}

/* ------------------------------------------------------------------ FIFO */

static void main_fifo(void *arg)
{
    (void)arg;
    for (size_t maxsize = 0; maxsize <= 100; maxsize += 100) { /* unbounded, then 100 */
        goc_queue *q = goc_queue_new(sizeof(int), maxsize);
        TU_CHECK(q != NULL);
        for (int i = 0; i < 100; i++)
            TU_CHECK_INT_EQ(goc_queue_put(q, &i, -1), 0);
        TU_CHECK_INT_EQ(goc_queue_len(q), 100);
        for (int i = 0; i < 50; i++) { /* interleave so the ring wraps */
            int v = -1;
            TU_CHECK_INT_EQ(goc_queue_get(q, &v, -1), 0);
            TU_CHECK_INT_EQ(v, i);
            int w = 100 + i;
            TU_CHECK_INT_EQ(goc_queue_put(q, &w, 0), 0);
        }
        for (int i = 50; i < 150; i++) {
            int v = -1;
            TU_CHECK_INT_EQ(goc_queue_get(q, &v, 0), 0);
            TU_CHECK_INT_EQ(v, i);
        }
        TU_CHECK_INT_EQ(goc_queue_len(q), 0);
        TU_CHECK_INT_EQ(goc_queue_free(q), 0);
    }
    /* Large elements. */
    typedef struct { char bytes[1000]; } big;
    goc_queue *q = goc_queue_new(sizeof(big), 0);
    big b;
    for (int i = 0; i < 20; i++) {
        memset(&b, i, sizeof b);
        TU_CHECK_INT_EQ(goc_queue_put(q, &b, -1), 0);
    }
    for (int i = 0; i < 20; i++) {
        TU_CHECK_INT_EQ(goc_queue_get(q, &b, -1), 0);
        TU_CHECK(b.bytes[0] == (char)i && b.bytes[999] == (char)i);
    }
    TU_CHECK_INT_EQ(goc_queue_free(q), 0);
}

static void test_fifo(void **state)
{
    (void)state;
    run_main(main_fifo);
}

/* A getter parked on an empty queue gets the next put directly; getters
 * are served in the order they came. */
static void main_getters_fifo(void *arg)
{
    (void)arg;
    goc_queue *q = goc_queue_new(sizeof(int), 0);
    q_op g[3];
    goc_task *t[3];
    for (int i = 0; i < 3; i++) {
        t[i] = start_op(&g[i], q, OP_GET, -1, -1);
        TU_CHECK(parked(&g[i]));
    }
    for (int i = 0; i < 3; i++) {
        int v = 10 + i;
        TU_CHECK_INT_EQ(goc_queue_put(q, &v, 0), 0);
    }
    TU_CHECK_INT_EQ(goc_gather(t, 3, NULL, NULL, 0), 0);
    for (int i = 0; i < 3; i++) {
        TU_CHECK_INT_EQ(g[i].rc, 0);
        TU_CHECK_INT_EQ(g[i].value, 10 + i);
    }
    TU_CHECK_INT_EQ(goc_queue_len(q), 0);
    TU_CHECK_INT_EQ(goc_queue_free(q), 0);
}

static void test_getters_fifo(void **state)
{
    (void)state;
    run_main(main_getters_fifo);
}

/* ---------------------------------------------------------- backpressure */

static void main_backpressure(void *arg)
{
    (void)arg;
    goc_queue *q = goc_queue_new(sizeof(int), 2);
    for (int i = 1; i <= 2; i++)
        TU_CHECK_INT_EQ(goc_queue_put(q, &i, 0), 0);
    int v = 3;
    TU_CHECK_INT_EQ(goc_queue_put(q, &v, 0), GOC_EAGAIN); /* full */
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_queue_put(q, &v, 20 * TU_MS), GOC_ETIMEDOUT);
    TU_CHECK(goc_now() - t0 >= 20 * TU_MS);
    TU_CHECK_INT_EQ(goc_queue_len(q), 2);

    /* Two puts park, in order; each get lets one in. */
    q_op p[2];
    goc_task *t[2];
    t[0] = start_op(&p[0], q, OP_PUT, 3, -1);
    TU_CHECK(parked(&p[0]));
    t[1] = start_op(&p[1], q, OP_PUT, 4, -1);
    TU_CHECK(parked(&p[1]));
    TU_CHECK_INT_EQ(goc_queue_len(q), 2);
    for (int want = 1; want <= 4; want++) {
        int got = -1;
        TU_CHECK_INT_EQ(goc_queue_get(q, &got, -1), 0);
        TU_CHECK_INT_EQ(got, want);
        TU_CHECK(goc_queue_len(q) <= 2);
    }
    TU_CHECK_INT_EQ(goc_gather(t, 2, NULL, NULL, 0), 0);
    TU_CHECK_INT_EQ(p[0].rc, 0);
    TU_CHECK_INT_EQ(p[1].rc, 0);

    /* Empty: get times out, never early; timeout 0 does not wait. */
    TU_CHECK_INT_EQ(goc_queue_get(q, &v, 0), GOC_EAGAIN);
    int64_t timeouts[3] = { 1, 5 * TU_MS, 30 * TU_MS };
    for (int k = 0; k < 3; k++) {
        t0 = goc_now();
        TU_CHECK_INT_EQ(goc_queue_get(q, &v, timeouts[k]), GOC_ETIMEDOUT);
        TU_CHECK(goc_now() - t0 >= timeouts[k]);
    }
    TU_CHECK_INT_EQ(goc_queue_free(q), 0);
}

static void test_backpressure(void **state)
{
    (void)state;
    run_main(main_backpressure);
}

/* ---------------------------------------------------- task_done and join */

typedef struct {
    goc_queue *q;
    int n;
    atomic_int done_count;
} worker_arg;

static void *slow_worker(void *arg)
{
    worker_arg *a = arg;
    for (int i = 0; i < a->n; i++) {
        int v;
        if (goc_queue_get(a->q, &v, -1) != 0)
            break;
        goc_sleep(5 * TU_MS);
        atomic_fetch_add(&a->done_count, 1);
        TU_CHECK_INT_EQ(goc_queue_task_done(a->q), 0);
    }
    return NULL;
}

static void main_join(void *arg)
{
    (void)arg;
    goc_queue *q = goc_queue_new(sizeof(int), 0);
    TU_CHECK_INT_EQ(goc_queue_join(q, 0), 0); /* nothing put */
    TU_CHECK_INT_EQ(goc_queue_join(q, -1), 0);
    TU_CHECK_INT_EQ(goc_queue_task_done(q), GOC_EINVAL);
    for (int i = 0; i < 3; i++)
        TU_CHECK_INT_EQ(goc_queue_put(q, &i, -1), 0);
    TU_CHECK_INT_EQ(goc_queue_task_done(q), GOC_EINVAL); /* put, not gotten */
    TU_CHECK_INT_EQ(goc_queue_join(q, 0), GOC_EAGAIN);
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_queue_join(q, 10 * TU_MS), GOC_ETIMEDOUT);
    TU_CHECK(goc_now() - t0 >= 10 * TU_MS);

    /* Gotten is not done: join waits for task_done. */
    int v;
    TU_CHECK_INT_EQ(goc_queue_get(q, &v, -1), 0);
    TU_CHECK_INT_EQ(goc_queue_join(q, 0), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_queue_task_done(q), 0);
    TU_CHECK_INT_EQ(goc_queue_task_done(q), GOC_EINVAL); /* one gotten, one done */

    worker_arg wa = { .q = q, .n = 2 };
    goc_task *w = goc_spawn(slow_worker, &wa);
    q_op j[2];
    goc_task *jt[2];
    for (int i = 0; i < 2; i++) /* two joiners, both woken */
        jt[i] = start_op(&j[i], q, OP_JOIN, 0, i ? 100 * TU_SEC : -1);
    TU_CHECK_INT_EQ(goc_queue_join(q, -1), 0);
    TU_CHECK_INT_EQ(atomic_load(&wa.done_count), 2);
    TU_CHECK_INT_EQ(goc_gather(jt, 2, NULL, NULL, 0), 0);
    TU_CHECK_INT_EQ(j[0].rc, 0);
    TU_CHECK_INT_EQ(j[1].rc, 0);
    TU_CHECK_INT_EQ(goc_join(w, NULL), 0);
    TU_CHECK_INT_EQ(goc_queue_task_done(q), GOC_EINVAL);

    /* A put handed straight to a parked getter counts too. */
    q_op g;
    goc_task *gt = start_op(&g, q, OP_GET, 0, -1);
    TU_CHECK(parked(&g));
    v = 9;
    TU_CHECK_INT_EQ(goc_queue_put(q, &v, -1), 0);
    TU_CHECK_INT_EQ(goc_join(gt, NULL), 0);
    TU_CHECK_INT_EQ(g.value, 9);
    TU_CHECK_INT_EQ(goc_queue_join(q, 0), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_queue_task_done(q), 0);
    TU_CHECK_INT_EQ(goc_queue_join(q, 0), 0);
    TU_CHECK_INT_EQ(goc_queue_free(q), 0);
}

static void test_task_done_join(void **state)
{
    (void)state;
    run_main(main_join);
}

/* ------------------------------------------------------------------ close */

static void main_close(void *arg)
{
    (void)arg;
    goc_queue *q = goc_queue_new(sizeof(int), 2);
    /* A parked getter is woken by close. */
    q_op g;
    goc_task *gt = start_op(&g, q, OP_GET, 77, -1);
    TU_CHECK(parked(&g));
    TU_CHECK_INT_EQ(goc_queue_close(q), 0);
    TU_CHECK_INT_EQ(goc_join(gt, NULL), 0);
    TU_CHECK_INT_EQ(g.rc, GOC_ECLOSED);
    TU_CHECK_INT_EQ(g.value, 77); /* untouched */
    TU_CHECK_INT_EQ(goc_queue_close(q), GOC_ECLOSED);
    int v = 1;
    TU_CHECK_INT_EQ(goc_queue_put(q, &v, -1), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_queue_get(q, &v, -1), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_queue_free(q), 0);

    /* Close with elements left and a put parked on the full queue. */
    q = goc_queue_new(sizeof(int), 2);
    for (int i = 1; i <= 2; i++)
        TU_CHECK_INT_EQ(goc_queue_put(q, &i, -1), 0);
    q_op p;
    goc_task *pt = start_op(&p, q, OP_PUT, 3, -1);
    TU_CHECK(parked(&p));
    TU_CHECK_INT_EQ(goc_queue_close(q), 0);
    TU_CHECK_INT_EQ(goc_join(pt, NULL), 0);
    TU_CHECK_INT_EQ(p.rc, GOC_ECLOSED);
    for (int want = 1; want <= 2; want++) { /* drained, the parked put's 3 is not there */
        int got = -1;
        TU_CHECK_INT_EQ(goc_queue_get(q, &got, 0), 0);
        TU_CHECK_INT_EQ(got, want);
    }
    TU_CHECK_INT_EQ(goc_queue_get(q, &v, 0), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_queue_get(q, &v, 10 * TU_SEC), GOC_ECLOSED); /* at once */
    TU_CHECK_INT_EQ(goc_queue_len(q), 0);
    TU_CHECK_INT_EQ(goc_queue_free(q), 0);
}

static void test_close(void **state)
{
    (void)state;
    run_main(main_close);
}

/* ----------------------------------------------------------- cancellation */

static void main_cancel_parked(void *arg)
{
    (void)arg;
    goc_queue *q = goc_queue_new(sizeof(int), 1);
    for (int timed = 0; timed < 2; timed++) {
        int64_t to = timed ? 100 * TU_SEC : -1;
        /* get on empty */
        q_op g;
        goc_task *t = start_op(&g, q, OP_GET, -1, to);
        TU_CHECK(parked(&g));
        TU_CHECK_INT_EQ(goc_queue_free(q), GOC_EBUSY);
        goc_cancel(t);
        goc_join(t, NULL);
        TU_CHECK_INT_EQ(g.rc, GOC_ECANCELED);
        /* put on full: its value never shows up */
        int one = 1;
        TU_CHECK_INT_EQ(goc_queue_put(q, &one, 0), 0);
        q_op p;
        t = start_op(&p, q, OP_PUT, 2, to);
        TU_CHECK(parked(&p));
        TU_CHECK_INT_EQ(goc_queue_free(q), GOC_EBUSY);
        goc_cancel(t);
        goc_join(t, NULL);
        TU_CHECK_INT_EQ(p.rc, GOC_ECANCELED);
        int v = -1;
        TU_CHECK_INT_EQ(goc_queue_get(q, &v, 0), 0);
        TU_CHECK_INT_EQ(v, 1);
        TU_CHECK_INT_EQ(goc_queue_get(q, &v, 0), GOC_EAGAIN);
        /* join with one not done */
        TU_CHECK_INT_EQ(goc_queue_put(q, &one, 0), 0);
        q_op j;
        t = start_op(&j, q, OP_JOIN, 0, to);
        TU_CHECK(parked(&j));
        goc_cancel(t);
        goc_join(t, NULL);
        TU_CHECK_INT_EQ(j.rc, GOC_ECANCELED);
        TU_CHECK_INT_EQ(goc_queue_get(q, &v, 0), 0);
        TU_CHECK_INT_EQ(goc_queue_task_done(q), 0);
        TU_CHECK_INT_EQ(goc_queue_task_done(q), 0);
        TU_CHECK_INT_EQ(goc_queue_task_done(q), GOC_EINVAL); /* the cancelled put never counted */
        TU_CHECK_INT_EQ(goc_queue_join(q, 0), 0);
    }
    TU_CHECK_INT_EQ(goc_queue_free(q), 0);
}

static void test_cancel_parked(void **state)
{
    (void)state;
    run_main(main_cancel_parked);
}

/* Cancel (or a timeout) racing a put that would complete a parked get, many
 * times: either the get got the value, or the get failed and the value is
 * still in the queue. Never both, never neither. */
typedef struct {
    goc_task *victim;
    int spins;
} canceller_arg;

static void *canceller(void *arg)
{
    canceller_arg *c = arg;
    for (int i = 0; i < c->spins; i++)
        goc_yield();
    goc_cancel(c->victim);
    return NULL;
}

/* Timeout rounds: the waiter's timeout (0 now and then: no wait at all)
 * and our pause before completing its operation come close, so that
 * either may fire first. Cancel rounds: a few yields. */
#define RACE_TIMEOUT(r) ((r) % 11 == 2 ? 0 : 100 * 1000)

static void race_pause(int r, int by_timeout)
{
    if (by_timeout)
        goc_sleep((r / 3 % 4) * 40 * 1000);
    else
        for (int i = 0; i < r % 5; i++)
            goc_yield();
}

static void main_cancel_races_get(void *arg)
{
    (void)arg;
    goc_queue *q = goc_queue_new(sizeof(int), 0);
    int rounds = TU_SCALE(3000) + 50;
    int got = 0, left = 0, cancelled = 0, timed_out = 0;
    for (int r = 0; r < rounds; r++) {
        int by_timeout = r % 3 == 2;
        q_op g;
        goc_task *t = start_op(&g, q, OP_GET, -1, by_timeout ? RACE_TIMEOUT(r) : -1);
        canceller_arg ca = { .victim = t, .spins = r % 4 };
        goc_task *c = by_timeout ? NULL : goc_spawn(canceller, &ca);
        race_pause(r, by_timeout);
        int v = r;
        TU_CHECK_INT_EQ(goc_queue_put(q, &v, -1), 0);
        if (c)
            goc_join(c, NULL);
        goc_join(t, NULL);
        int queued = (int)goc_queue_len(q);
        if (g.rc == 0) {
            TU_CHECK_INT_EQ(g.value, r);
            TU_CHECK_INT_EQ(queued, 0);
            got++;
        } else {
            TU_CHECK(g.rc == GOC_ECANCELED || g.rc == GOC_ETIMEDOUT || g.rc == GOC_EAGAIN);
            cancelled += g.rc == GOC_ECANCELED;
            timed_out += g.rc == GOC_ETIMEDOUT;
            TU_CHECK_INT_EQ(queued, 1);
            int w = -1;
            TU_CHECK_INT_EQ(goc_queue_get(q, &w, 0), 0);
            TU_CHECK_INT_EQ(w, r);
            left++;
        }
        TU_CHECK_INT_EQ(goc_queue_task_done(q), 0);
    }
    TU_CHECK_INT_EQ(got + left, rounds);
    TU_CHECK_INT_EQ(goc_queue_len(q), 0);
    TU_CHECK_INT_EQ(goc_queue_join(q, 0), 0);
    TU_CHECK_INT_EQ(goc_queue_free(q), 0);
    fprintf(stderr, "cancel races get: %d rounds: %d got the value, %d not (%d cancelled, "
            "%d timed out)\n", rounds, got, left, cancelled, timed_out);
}

static void test_cancel_races_get(void **state)
{
    (void)state;
    run_main(main_cancel_races_get);
}

/* The same on the put side: a get frees the slot a parked put waits for
 * while a cancel or timeout hits the put. If the put returned 0 its value
 * is in the queue exactly once, else it is not there at all. */
static void main_cancel_races_put(void *arg)
{
    (void)arg;
    goc_queue *q = goc_queue_new(sizeof(int), 1);
    int rounds = TU_SCALE(3000) + 50;
    int in = 0, out = 0;
    for (int r = 0; r < rounds; r++) {
        int first = -r - 1;
        TU_CHECK_INT_EQ(goc_queue_put(q, &first, 0), 0); /* full now */
        int by_timeout = r % 3 == 2;
        q_op p;
        goc_task *t = start_op(&p, q, OP_PUT, r, by_timeout ? RACE_TIMEOUT(r) : -1);
        canceller_arg ca = { .victim = t, .spins = r % 4 };
        goc_task *c = by_timeout ? NULL : goc_spawn(canceller, &ca);
        race_pause(r, by_timeout);
        int v = 0;
        TU_CHECK_INT_EQ(goc_queue_get(q, &v, -1), 0);
        TU_CHECK_INT_EQ(v, first);
        if (c)
            goc_join(c, NULL);
        goc_join(t, NULL);
        int w = 12345;
        int rc = goc_queue_get(q, &w, 0);
        if (p.rc == 0) {
            TU_CHECK_INT_EQ(rc, 0);
            TU_CHECK_INT_EQ(w, r);
            in++;
        } else {
            TU_CHECK(p.rc == GOC_ECANCELED || p.rc == GOC_ETIMEDOUT || p.rc == GOC_EAGAIN);
            TU_CHECK_INT_EQ(rc, GOC_EAGAIN);
            out++;
        }
        TU_CHECK_INT_EQ(goc_queue_len(q), 0);
    }
    TU_CHECK_INT_EQ(in + out, rounds);
    TU_CHECK_INT_EQ(goc_queue_free(q), 0);
    fprintf(stderr, "cancel races put: %d rounds: %d put, %d not\n", rounds, in, out);
}

static void test_cancel_races_put(void **state)
{
    (void)state;
    run_main(main_cancel_races_put);
}

/* ------------------------------------------------------------------ MPMC */

#define NPROD 4
#define NCONS 4

typedef struct {
    goc_queue *q;
    int id;
    long per;
    long long sum;
    long count;
    uint64_t xr;
} mpmc_arg;

static void *mpmc_producer(void *arg)
{
    mpmc_arg *a = arg;
    for (long i = 0; i < a->per; i++) {
        long long v = (long long)a->id * a->per + i + 1;
        int rc = goc_queue_put(a->q, &v, (i % 3) ? -1 : 100 * TU_SEC);
        TU_CHECK_INT_EQ(rc, 0);
        if (i % 64 == 0)
            goc_yield();
    }
    return NULL;
}

static void *mpmc_consumer(void *arg)
{
    mpmc_arg *a = arg;
    for (;;) {
        long long v;
        int rc = goc_queue_get(a->q, &v, (a->count % 2) ? -1 : 100 * TU_SEC);
        if (rc == GOC_ECLOSED)
            break;
        TU_CHECK_INT_EQ(rc, 0);
        a->sum += v;
        a->count++;
        a->xr ^= (uint64_t)v * 0x9E3779B97F4A7C15ull;
        TU_CHECK_INT_EQ(goc_queue_task_done(a->q), 0);
    }
    return NULL;
}

static void main_mpmc(void *arg)
{
    (void)arg;
    long per = TU_SCALE(50000) + 100;
    for (size_t maxsize = 0; maxsize <= 4; maxsize += 4) {
        goc_queue *q = goc_queue_new(sizeof(long long), maxsize);
        mpmc_arg pa[NPROD], ca[NCONS];
        goc_task *pt[NPROD], *ct[NCONS];
        for (int i = 0; i < NCONS; i++) {
            ca[i] = (mpmc_arg){ .q = q, .id = i };
            ct[i] = goc_spawn(mpmc_consumer, &ca[i]);
        }
        for (int i = 0; i < NPROD; i++) {
            pa[i] = (mpmc_arg){ .q = q, .id = i, .per = per };
            pt[i] = goc_spawn(mpmc_producer, &pa[i]);
        }
        TU_CHECK_INT_EQ(goc_gather(pt, NPROD, NULL, NULL, 0), 0);
        TU_CHECK_INT_EQ(goc_queue_join(q, -1), 0); /* every element processed */
        TU_CHECK_INT_EQ(goc_queue_close(q), 0);
        TU_CHECK_INT_EQ(goc_gather(ct, NCONS, NULL, NULL, 0), 0);
        long long sum = 0;
        long count = 0;
        uint64_t xr = 0, want_xr = 0;
        for (int i = 0; i < NCONS; i++) {
            sum += ca[i].sum;
            count += ca[i].count;
            xr ^= ca[i].xr;
        }
        long long n = (long long)NPROD * per;
        for (long long v = 1; v <= n; v++)
            want_xr ^= (uint64_t)v * 0x9E3779B97F4A7C15ull;
        TU_CHECK_INT_EQ(count, n);
        TU_CHECK_INT_EQ(sum, n * (n + 1) / 2);
        TU_CHECK(xr == want_xr);
        TU_CHECK_INT_EQ(goc_queue_len(q), 0);
        TU_CHECK_INT_EQ(goc_queue_free(q), 0);
    }
}

static void test_mpmc(void **state)
{
    (void)state;
    run_main(main_mpmc);
}

/* --------------------------------------------------------------- bad input */

static void main_queue_bad_input(void *arg)
{
    (void)arg;
    int v = 1;
    TU_CHECK(goc_queue_new(SIZE_MAX / 2, 4) == NULL); /* overflows */
    TU_CHECK_INT_EQ(goc_queue_put(NULL, &v, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_queue_get(NULL, &v, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_queue_task_done(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_queue_join(NULL, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_queue_close(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_queue_len(NULL), 0);
    TU_CHECK_INT_EQ(goc_queue_free(NULL), GOC_EINVAL);
    goc_queue *q = goc_queue_new(sizeof(int), 0);
    TU_CHECK_INT_EQ(goc_queue_put(q, NULL, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_queue_put(q, &v, -1), 0);
    TU_CHECK_INT_EQ(goc_queue_get(q, NULL, -1), 0); /* discarded */
    TU_CHECK_INT_EQ(goc_queue_len(q), 0);
    TU_CHECK_INT_EQ(goc_queue_free(q), 0);
    /* elem_size 0: a queue of signals. */
    q = goc_queue_new(0, 2);
    TU_CHECK_INT_EQ(goc_queue_put(q, NULL, 0), 0);
    TU_CHECK_INT_EQ(goc_queue_put(q, NULL, 0), 0);
    TU_CHECK_INT_EQ(goc_queue_put(q, NULL, 0), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_queue_len(q), 2);
    TU_CHECK_INT_EQ(goc_queue_get(q, NULL, 0), 0);
    TU_CHECK_INT_EQ(goc_queue_get(q, &v, 0), 0);
    TU_CHECK_INT_EQ(goc_queue_get(q, NULL, 0), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_queue_free(q), 0);
}

static void test_queue_bad_input(void **state)
{
    (void)state;
    run_main(main_queue_bad_input);
}

static void test_queue_outside_coroutine(void **state)
{
    (void)state;
    goc_queue *q = goc_queue_new(sizeof(int), 1);
    assert_non_null(q);
    int v = 5, w = 0;
    int64_t t0 = tu_clock_ns();
    assert_int_equal(goc_queue_get(q, &w, -1), GOC_EPERM);
    assert_int_equal(goc_queue_get(q, &w, 0), GOC_EAGAIN);
    assert_int_equal(goc_queue_put(q, &v, -1), 0);
    assert_int_equal(goc_queue_put(q, &v, -1), GOC_EPERM);
    assert_int_equal(goc_queue_join(q, -1), GOC_EPERM);
    assert_int_equal(goc_queue_get(q, &w, -1), 0);
    assert_int_equal(w, 5);
    assert_int_equal(goc_queue_task_done(q), 0);
    assert_int_equal(goc_queue_join(q, -1), 0);
    assert_true(tu_clock_ns() - t0 < TU_SEC);
    assert_int_equal(goc_queue_close(q), 0);
    assert_int_equal(goc_queue_free(q), 0);

    goc_event *e = goc_event_new();
    assert_non_null(e);
    assert_int_equal(goc_event_wait(e, -1), GOC_EPERM);
    assert_int_equal(goc_event_wait(e, 0), GOC_EAGAIN);
    assert_int_equal(goc_event_set(e), 0);
    assert_int_equal(goc_event_wait(e, -1), 0);
    assert_int_equal(goc_event_free(e), 0);
}

/* ------------------------------------------------------------------ event */

typedef struct {
    goc_event *e;
    int64_t timeout;
    int rc;
    atomic_int entered, returned;
} ev_arg;

static void *ev_waiter(void *arg)
{
    ev_arg *a = arg;
    atomic_store(&a->entered, 1);
    a->rc = goc_event_wait(a->e, a->timeout);
    atomic_store(&a->returned, 1);
    return NULL;
}

static void main_event(void *arg)
{
    (void)arg;
    goc_event *e = goc_event_new();
    TU_CHECK(e != NULL);
    TU_CHECK_INT_EQ(goc_event_is_set(e), 0);
    TU_CHECK_INT_EQ(goc_event_wait(e, 0), GOC_EAGAIN);
    int64_t timeouts[3] = { 1, 5 * TU_MS, 30 * TU_MS };
    for (int k = 0; k < 3; k++) {
        int64_t t0 = goc_now();
        TU_CHECK_INT_EQ(goc_event_wait(e, timeouts[k]), GOC_ETIMEDOUT);
        TU_CHECK(goc_now() - t0 >= timeouts[k]);
    }
    /* Several waiters, all woken by one set. */
    enum { NW = 5 };
    ev_arg a[NW];
    goc_task *t[NW];
    for (int i = 0; i < NW; i++) {
        a[i] = (ev_arg){ .e = e, .timeout = i % 2 ? 100 * TU_SEC : -1, .rc = 12345 };
        t[i] = goc_spawn(ev_waiter, &a[i]);
    }
    for (int i = 0; i < NW; i++)
        TU_CHECK(tu_wait_parked(t[i], 30 * TU_SEC)); /* all of them wait on e */
    for (int i = 0; i < NW; i++)
        TU_CHECK_INT_EQ(atomic_load(&a[i].returned), 0);
    TU_CHECK_INT_EQ(goc_event_free(e), GOC_EBUSY);
    TU_CHECK_INT_EQ(goc_event_set(e), 0);
    TU_CHECK_INT_EQ(goc_gather(t, NW, NULL, NULL, 0), 0);
    for (int i = 0; i < NW; i++)
        TU_CHECK_INT_EQ(a[i].rc, 0);
    /* Set stays set until cleared. */
    TU_CHECK_INT_EQ(goc_event_is_set(e), 1);
    TU_CHECK_INT_EQ(goc_event_wait(e, 0), 0);
    TU_CHECK_INT_EQ(goc_event_wait(e, -1), 0);
    TU_CHECK_INT_EQ(goc_event_set(e), 0); /* idempotent */
    TU_CHECK_INT_EQ(goc_event_clear(e), 0);
    TU_CHECK_INT_EQ(goc_event_is_set(e), 0);
    TU_CHECK_INT_EQ(goc_event_wait(e, 1 * TU_MS), GOC_ETIMEDOUT);
    /* Cancel a waiter. */
    ev_arg c = { .e = e, .timeout = -1, .rc = 12345 };
    goc_task *ct = goc_spawn(ev_waiter, &c);
    TU_CHECK(tu_wait_parked(ct, 30 * TU_SEC));
    goc_cancel(ct);
    goc_join(ct, NULL);
    TU_CHECK_INT_EQ(c.rc, GOC_ECANCELED);
    TU_CHECK_INT_EQ(goc_event_free(e), 0);
}

static void test_event(void **state)
{
    (void)state;
    run_main(main_event);
}

static void main_event_bad_input(void *arg)
{
    (void)arg;
    TU_CHECK_INT_EQ(goc_event_set(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_event_clear(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_event_is_set(NULL), 0);
    TU_CHECK_INT_EQ(goc_event_wait(NULL, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_event_free(NULL), GOC_EINVAL);
}

static void test_event_bad_input(void **state)
{
    (void)state;
    run_main(main_event_bad_input);
}

/* Set racing a timeout, many times: a waiter returns 0 only if the event was
 * set, and nothing is left queued on the event (free succeeds). */
static void main_event_set_races_timeout(void *arg)
{
    (void)arg;
    int rounds = TU_SCALE(2000) + 50;
    for (int r = 0; r < rounds; r++) {
        goc_event *e = goc_event_new();
        ev_arg a = { .e = e, .timeout = (r % 5) * 2000, .rc = 12345 };
        goc_task *t = goc_spawn(ev_waiter, &a);
        for (int i = 0; i < r % 3; i++)
            goc_yield();
        int set = r % 2;
        if (set)
            goc_event_set(e);
        goc_join(t, NULL);
        TU_CHECK(a.rc == 0 || a.rc == GOC_ETIMEDOUT || a.rc == GOC_EAGAIN);
        if (!set)
            TU_CHECK(a.rc != 0);
        TU_CHECK_INT_EQ(goc_event_free(e), 0);
    }
}

static void test_event_set_races_timeout(void **state)
{
    (void)state;
    run_main(main_event_set_races_timeout);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_outside_coroutine),
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_getters_fifo),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_task_done_join),
        cmocka_unit_test(test_close),
        cmocka_unit_test(test_cancel_parked),
        cmocka_unit_test(test_cancel_races_get),
        cmocka_unit_test(test_cancel_races_put),
        cmocka_unit_test(test_mpmc),
        cmocka_unit_test(test_queue_bad_input),
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_event_bad_input),
        cmocka_unit_test(test_event_set_races_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
