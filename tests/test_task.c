/*
 * test_task.c - the asyncio-style task API: goc_fail and goc_join's error,
 * goc_done, goc_gather (fail fast and settled), goc_wait_first,
 * goc_wait_first_ok, goc_wait_for and task groups: normal paths, timeouts
 * (never early), cancellation of the caller and of the tasks, bad input,
 * and calls outside a coroutine.
 */
#include "test_util.h"

/* ------------------------------------------------------------- helpers */

/* A task that works (sleeps, or blocks on a channel until it is closed),
 * then succeeds with value or fails with fail. Cancelled, it records that
 * and keeps "cleaning up" (yielding, without blocking) for cleanup_ns. */
typedef struct job {
    int64_t sleep_ns;
    goc_chan *block;      /* non-NULL: receive from it instead of sleeping */
    int fail;             /* < 0: goc_fail(fail) once the work is done */
    intptr_t value;
    int64_t cleanup_ns;
    atomic_int started;
    atomic_int cancelled; /* set at the end of the cleanup */
    atomic_int finished;  /* the work completed (not cancelled) */
    int rc;               /* what the sleep / receive returned */
} job;

static void job_init(job *j, int64_t sleep_ns, int fail, intptr_t value)
{
    memset(j, 0, sizeof *j);
    j->sleep_ns = sleep_ns;
    j->fail = fail;
    j->value = value;
    j->rc = 12345;
}

/* The flags are the job's last touch of *j: the test may reuse it then. */
static void *job_fn(void *arg)
{
    job *j = arg;
    int fail = j->fail;
    intptr_t value = j->value;
    int64_t cleanup_ns = j->cleanup_ns;
    atomic_store(&j->started, 1);
    int rc = j->block ? goc_chan_recv(j->block, NULL) : goc_sleep(j->sleep_ns);
    if (rc == GOC_ECLOSED)
        rc = 0;
    j->rc = rc;
    if (rc == GOC_ECANCELED) {
        int64_t end = goc_now() + cleanup_ns;
        while (goc_now() < end)
            goc_yield();
        atomic_store(&j->cancelled, 1);
        return (void *)(intptr_t)-1;
    }
    atomic_store(&j->finished, 1);
    if (fail < 0)
        return goc_fail(fail);
    return (void *)value;
}

static goc_task *spawn_job(job *j)
{
    goc_task *t = goc_spawn(job_fn, j);
    TU_CHECK(t != NULL);
    return t;
}

/* Wait (sleeping) until every job of js has its started flag. */
static void wait_started(job *js, int n)
{
    for (int i = 0; i < n; i++)
        TU_CHECK(tu_wait_flag(&js[i].started, 10 * TU_SEC));
}

static void run_main(void (*fn)(void *))
{
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, fn, NULL);
}

/* --------------------------------------------------- goc_fail, goc_done */

static void *fail_with(void *arg)
{
    return goc_fail((int)(intptr_t)arg);
}

static void *fail_then_value(void *arg)
{
    (void)arg;
    (void)goc_fail(0);  /* ignored */
    (void)goc_fail(42); /* ignored */
    return (void *)(intptr_t)7;
}

static void main_fail(void *arg)
{
    (void)arg;
    void *r = (void *)1;
    goc_task *t = goc_spawn(fail_with, (void *)(intptr_t)GOC_ETIMEDOUT);
    TU_CHECK_INT_EQ(goc_join(t, &r), GOC_ETIMEDOUT);
    TU_CHECK(r == NULL);

    t = goc_spawn(fail_with, (void *)(intptr_t)-EIO);
    TU_CHECK_INT_EQ(goc_join(t, NULL), -EIO);

    t = goc_spawn(fail_then_value, NULL);
    TU_CHECK_INT_EQ(goc_join(t, &r), 0);
    TU_CHECK(r == (void *)(intptr_t)7);

    /* A failure does not leak into the next task that reuses the struct. */
    for (int i = 0; i < 100; i++) {
        t = goc_spawn(fail_with, (void *)(intptr_t)(i % 2 ? -EIO : 0));
        TU_CHECK_INT_EQ(goc_join(t, NULL), i % 2 ? -EIO : 0);
    }
}

static void test_fail_join(void **state)
{
    (void)state;
    run_main(main_fail);
}

static void main_done(void *arg)
{
    (void)arg;
    TU_CHECK_INT_EQ(goc_done(NULL), 0);
    goc_chan *ch = goc_chan_make(0, 0);
    job j;
    job_init(&j, 0, 0, 5);
    j.block = ch;
    goc_task *t = spawn_job(&j);
    wait_started(&j, 1);
    TU_CHECK_INT_EQ(goc_done(t), 0);
    goc_chan_close(ch);
    int64_t end = goc_now() + 10 * TU_SEC;
    while (!goc_done(t) && goc_now() < end)
        goc_sleep(TU_MS);
    TU_CHECK_INT_EQ(goc_done(t), 1);
    TU_CHECK_INT_EQ(goc_done(t), 1); /* a query consumes nothing */
    void *r = NULL;
    TU_CHECK_INT_EQ(goc_join(t, &r), 0);
    TU_CHECK(r == (void *)(intptr_t)5);
    goc_chan_free(ch);
}

static void test_done(void **state)
{
    (void)state;
    run_main(main_done);
}

/* ---------------------------------------------------------------- gather */

#define NG 5

static void main_gather_order(void *arg)
{
    (void)arg;
    job js[NG];
    goc_task *ts[NG];
    for (int i = 0; i < NG; i++) { /* the last one finishes first */
        job_init(&js[i], (NG - i) * 20 * TU_MS, 0, 100 + i);
        ts[i] = spawn_job(&js[i]);
    }
    void *res[NG];
    int errs[NG];
    TU_CHECK_INT_EQ(goc_gather(ts, NG, res, errs, 0), 0);
    for (int i = 0; i < NG; i++) {
        TU_CHECK(res[i] == (void *)(intptr_t)(100 + i));
        TU_CHECK_INT_EQ(errs[i], 0);
        TU_CHECK_INT_EQ(atomic_load(&js[i].finished), 1);
    }
    /* Settled gives the same when all succeed; NULL results/errs are fine. */
    for (int i = 0; i < NG; i++) {
        job_init(&js[i], i * 5 * TU_MS, 0, i);
        ts[i] = spawn_job(&js[i]);
    }
    TU_CHECK_INT_EQ(goc_gather(ts, NG, NULL, NULL, GOC_GATHER_SETTLED), 0);
    for (int i = 0; i < NG; i++)
        TU_CHECK_INT_EQ(atomic_load(&js[i].finished), 1);
    /* Tasks that have all returned already. */
    for (int i = 0; i < NG; i++) {
        job_init(&js[i], 0, 0, i);
        ts[i] = spawn_job(&js[i]);
    }
    for (int i = 0; i < NG; i++)
        while (!goc_done(ts[i]))
            goc_sleep(TU_MS);
    TU_CHECK_INT_EQ(goc_gather(ts, NG, res, errs, 0), 0);
    for (int i = 0; i < NG; i++)
        TU_CHECK(res[i] == (void *)(intptr_t)i);
}

static void test_gather_results_in_order(void **state)
{
    (void)state;
    run_main(main_gather_order);
}

static void main_gather_fail_fast(void *arg)
{
    (void)arg;
    goc_chan *ch = goc_chan_make(0, 0);
    job js[3];
    goc_task *ts[3];
    for (int i = 0; i < 3; i++) {
        job_init(&js[i], 20 * TU_MS, i == 1 ? -EIO : 0, i);
        if (i != 1)
            js[i].block = ch; /* run until we close ch */
        ts[i] = spawn_job(&js[i]);
    }
    void *res[3] = { (void *)1, (void *)1, (void *)1 };
    int errs[3] = { 1, 1, 1 };
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_gather(ts, 3, res, errs, 0), -EIO);
    TU_CHECK(goc_now() - t0 < 5 * TU_SEC);
    TU_CHECK_INT_EQ(errs[1], -EIO);
    TU_CHECK_INT_EQ(errs[0], GOC_EAGAIN); /* not known: still running */
    TU_CHECK_INT_EQ(errs[2], GOC_EAGAIN);
    TU_CHECK(res[0] == NULL && res[2] == NULL);
    /* The other two go on, detached, and end on their own. */
    TU_CHECK_INT_EQ(atomic_load(&js[0].finished) + atomic_load(&js[2].finished), 0);
    goc_chan_close(ch);
    TU_CHECK(tu_wait_flag(&js[0].finished, 10 * TU_SEC));
    TU_CHECK(tu_wait_flag(&js[2].finished, 10 * TU_SEC));
    TU_CHECK_INT_EQ(atomic_load(&js[0].cancelled) + atomic_load(&js[2].cancelled), 0);
    goc_sleep(5 * TU_MS); /* let them return */
    goc_chan_free(ch);

    /* A task cancelled from outside fails a fail-fast gather too. */
    ch = goc_chan_make(0, 0);
    for (int i = 0; i < 3; i++) {
        job_init(&js[i], 0, 0, i);
        js[i].block = ch;
        ts[i] = spawn_job(&js[i]);
    }
    wait_started(js, 3);
    goc_cancel(ts[2]);
    TU_CHECK_INT_EQ(goc_gather(ts, 3, res, errs, 0), GOC_ECANCELED);
    TU_CHECK_INT_EQ(errs[2], GOC_ECANCELED);
    goc_chan_close(ch);
    TU_CHECK(tu_wait_flag(&js[0].finished, 10 * TU_SEC));
    TU_CHECK(tu_wait_flag(&js[1].finished, 10 * TU_SEC));
    goc_sleep(5 * TU_MS);
    goc_chan_free(ch);
}

static void test_gather_fail_fast(void **state)
{
    (void)state;
    run_main(main_gather_fail_fast);
}

static void main_gather_settled(void *arg)
{
    (void)arg;
    goc_chan *ch = goc_chan_make(0, 0);
    job js[5];
    goc_task *ts[5];
    job_init(&js[0], 30 * TU_MS, 0, 10);
    job_init(&js[1], 5 * TU_MS, -EIO, 11);
    job_init(&js[2], 0, 0, 12);
    js[2].block = ch; /* cancelled below */
    job_init(&js[3], 1 * TU_MS, GOC_ETIMEDOUT, 13);
    job_init(&js[4], 10 * TU_MS, 0, 14);
    for (int i = 0; i < 5; i++)
        ts[i] = spawn_job(&js[i]);
    wait_started(js, 5);
    goc_cancel(ts[2]);
    void *res[5];
    int errs[5];
    TU_CHECK_INT_EQ(goc_gather(ts, 5, res, errs, GOC_GATHER_SETTLED), 0);
    TU_CHECK_INT_EQ(errs[0], 0);
    TU_CHECK_INT_EQ(errs[1], -EIO);
    TU_CHECK_INT_EQ(errs[2], GOC_ECANCELED);
    TU_CHECK_INT_EQ(errs[3], GOC_ETIMEDOUT);
    TU_CHECK_INT_EQ(errs[4], 0);
    TU_CHECK(res[0] == (void *)(intptr_t)10);
    TU_CHECK(res[1] == NULL); /* goc_fail returns NULL */
    TU_CHECK(res[2] == (void *)(intptr_t)-1);
    TU_CHECK(res[4] == (void *)(intptr_t)14);
    TU_CHECK_INT_EQ(atomic_load(&js[2].cancelled), 1);
    goc_chan_free(ch);
}

static void test_gather_settled(void **state)
{
    (void)state;
    run_main(main_gather_settled);
}

typedef struct {
    goc_task **ts;
    size_t n;
    int rc;
    atomic_int entered;
} gather_arg;

static void *gatherer(void *arg)
{
    gather_arg *g = arg;
    atomic_store(&g->entered, 1);
    int errs[4];
    g->rc = goc_gather(g->ts, g->n, NULL, errs, GOC_GATHER_SETTLED);
    return NULL;
}

static void main_gather_cancelled(void *arg)
{
    (void)arg;
    goc_chan *ch = goc_chan_make(0, 0);
    job js[3];
    goc_task *ts[3];
    for (int i = 0; i < 3; i++) {
        job_init(&js[i], 0, 0, i);
        js[i].block = ch;
        ts[i] = spawn_job(&js[i]);
    }
    gather_arg ga = { .ts = ts, .n = 3, .rc = 12345 };
    goc_task *g = goc_spawn(gatherer, &ga);
    TU_CHECK(tu_wait_flag(&ga.entered, 10 * TU_SEC));
    wait_started(js, 3);
    goc_sleep(10 * TU_MS);
    goc_cancel(g);
    TU_CHECK_INT_EQ(goc_join(g, NULL), GOC_ECANCELED);
    TU_CHECK_INT_EQ(ga.rc, GOC_ECANCELED);
    /* The tasks were not cancelled: they go on, detached. */
    TU_CHECK_INT_EQ(atomic_load(&js[0].cancelled) + atomic_load(&js[1].cancelled) +
                        atomic_load(&js[2].cancelled), 0);
    goc_chan_close(ch);
    for (int i = 0; i < 3; i++)
        TU_CHECK(tu_wait_flag(&js[i].finished, 10 * TU_SEC));
    goc_sleep(5 * TU_MS);
    goc_chan_free(ch);
}

static void test_gather_cancelled(void **state)
{
    (void)state;
    run_main(main_gather_cancelled);
}

/* A task that waits until its own handle is published, then tries to wait
 * on itself. */
typedef struct {
    _Atomic(goc_task *) self;
    int gather_rc, first_rc, first_ok_rc, wait_for_rc;
    atomic_int done;
} self_arg;

static void *self_waiter(void *arg)
{
    self_arg *a = arg;
    while (!atomic_load(&a->self))
        goc_sleep(TU_MS);
    goc_task *me = atomic_load(&a->self);
    a->gather_rc = goc_gather(&me, 1, NULL, NULL, 0);
    a->first_rc = goc_wait_first(&me, 1, 0);
    a->first_ok_rc = goc_wait_first_ok(&me, 1, 0);
    a->wait_for_rc = goc_wait_for(me, 0, NULL); /* consumes our handle */
    atomic_store(&a->done, 1);
    return NULL;
}

static void main_bad_input(void *arg)
{
    (void)arg;
    /* n = 0 */
    TU_CHECK_INT_EQ(goc_gather(NULL, 0, NULL, NULL, 0), 0);
    TU_CHECK_INT_EQ(goc_wait_first(NULL, 0, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_wait_first_ok(NULL, 0, -1), GOC_EINVAL);
    /* NULL arrays, NULL handles */
    TU_CHECK_INT_EQ(goc_gather(NULL, 2, NULL, NULL, 0), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_wait_first(NULL, 2, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_wait_first_ok(NULL, 2, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_wait_for(NULL, -1, NULL), GOC_EINVAL);
    job js[20];
    goc_task *ts[20];
    for (int i = 0; i < 20; i++) {
        job_init(&js[i], 0, 0, i);
        ts[i] = spawn_job(&js[i]);
    }
    goc_task *with_null[3] = { ts[0], NULL, ts[1] };
    TU_CHECK_INT_EQ(goc_gather(with_null, 3, NULL, NULL, 0), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_wait_first(with_null, 3, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_wait_first_ok(with_null, 3, -1), GOC_EINVAL);
    /* The same handle twice (small and large arrays), bad flags. */
    goc_task *dup[3] = { ts[0], ts[1], ts[0] };
    TU_CHECK_INT_EQ(goc_gather(dup, 3, NULL, NULL, 0), GOC_EINVAL);
    goc_task *dup_big[20];
    memcpy(dup_big, ts, sizeof dup_big);
    dup_big[17] = ts[3];
    TU_CHECK_INT_EQ(goc_gather(dup_big, 20, NULL, NULL, 0), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_gather(ts, 20, NULL, NULL, 4), GOC_EINVAL);
    /* Nothing was consumed: the handles are still good. */
    void *res[20];
    int errs[20];
    TU_CHECK_INT_EQ(goc_gather(ts, 20, res, errs, 0), 0);
    for (int i = 0; i < 20; i++)
        TU_CHECK(res[i] == (void *)(intptr_t)i);

    /* Waiting on oneself. */
    self_arg sa;
    memset(&sa, 0, sizeof sa);
    goc_task *t = goc_spawn(self_waiter, &sa);
    atomic_store(&sa.self, t);
    TU_CHECK(tu_wait_flag(&sa.done, 10 * TU_SEC));
    TU_CHECK_INT_EQ(sa.gather_rc, GOC_EINVAL);
    TU_CHECK_INT_EQ(sa.first_rc, GOC_EINVAL);
    TU_CHECK_INT_EQ(sa.first_ok_rc, GOC_EINVAL);
    TU_CHECK_INT_EQ(sa.wait_for_rc, GOC_EINVAL);
}

static void test_bad_input(void **state)
{
    (void)state;
    run_main(main_bad_input);
}

static void *sum_task(void *arg)
{
    intptr_t i = (intptr_t)arg;
    if (i % 3 == 0)
        goc_yield();
    if (i % 7 == 0)
        goc_sleep(TU_MS);
    return (void *)(i * 3);
}

static void main_gather_many(void *arg)
{
    (void)arg;
    size_t n = (size_t)TU_SCALE(5000) + 10;
    goc_task **ts = malloc(n * sizeof *ts);
    void **res = malloc(n * sizeof *res);
    int *errs = malloc(n * sizeof *errs);
    for (size_t round = 0; round < 2; round++) {
        for (size_t i = 0; i < n; i++) {
            ts[i] = goc_spawn(sum_task, (void *)(intptr_t)i);
            TU_CHECK(ts[i] != NULL);
        }
        TU_CHECK_INT_EQ(goc_gather(ts, n, res, errs, round ? GOC_GATHER_SETTLED : 0), 0);
        long long sum = 0, want = 0;
        for (size_t i = 0; i < n; i++) {
            sum += (intptr_t)res[i];
            want += (long long)i * 3;
            TU_CHECK_INT_EQ(errs[i], 0);
        }
        TU_CHECK_INT_EQ(sum, want);
    }
    free(ts);
    free(res);
    free(errs);
}

static void test_gather_many(void **state)
{
    (void)state;
    run_main(main_gather_many);
}

/* ------------------------------------------------------------ wait_first */

static void cancel_join_all(goc_task **ts, int n, int keep)
{
    for (int i = 0; i < n; i++)
        if (i != keep)
            goc_cancel(ts[i]);
    for (int i = 0; i < n; i++)
        if (i != keep)
            goc_join(ts[i], NULL);
}

static void main_wait_first(void *arg)
{
    (void)arg;
    job js[3];
    goc_task *ts[3];
    int64_t delays[3] = { 2 * TU_SEC, 20 * TU_MS, 1 * TU_SEC };
    for (int i = 0; i < 3; i++) {
        job_init(&js[i], delays[i], 0, i);
        ts[i] = spawn_job(&js[i]);
    }
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_wait_first(ts, 3, -1), 1);
    TU_CHECK(goc_now() - t0 >= 20 * TU_MS);
    TU_CHECK(goc_now() - t0 < TU_SEC);
    /* Nothing consumed: wait again, same answer, and the winner joins. */
    TU_CHECK_INT_EQ(goc_wait_first(ts, 3, 0), 1);
    void *r = NULL;
    TU_CHECK_INT_EQ(goc_join(ts[1], &r), 0);
    TU_CHECK(r == (void *)(intptr_t)1);
    cancel_join_all(ts, 3, 1);
    TU_CHECK_INT_EQ(atomic_load(&js[0].cancelled) + atomic_load(&js[2].cancelled), 2);

    /* A failure counts as completion for goc_wait_first. */
    for (int i = 0; i < 3; i++) {
        job_init(&js[i], i == 2 ? 10 * TU_MS : 5 * TU_SEC, i == 2 ? -EIO : 0, i);
        ts[i] = spawn_job(&js[i]);
    }
    TU_CHECK_INT_EQ(goc_wait_first(ts, 3, -1), 2);
    TU_CHECK_INT_EQ(goc_join(ts[2], NULL), -EIO);
    cancel_join_all(ts, 3, 2);

    /* Several already done: the lowest index. */
    for (int i = 0; i < 3; i++) {
        job_init(&js[i], i == 0 ? 5 * TU_SEC : 0, 0, i);
        ts[i] = spawn_job(&js[i]);
    }
    while (!goc_done(ts[1]) || !goc_done(ts[2]))
        goc_sleep(TU_MS);
    TU_CHECK_INT_EQ(goc_wait_first(ts, 3, -1), 1);
    TU_CHECK_INT_EQ(goc_wait_first(ts + 2, 1, -1), 0);
    cancel_join_all(ts, 3, -1);
}

static void test_wait_first(void **state)
{
    (void)state;
    run_main(main_wait_first);
}

static void main_wait_first_timeout(void *arg)
{
    (void)arg;
    goc_chan *ch = goc_chan_make(0, 0);
    job js[2];
    goc_task *ts[2];
    for (int i = 0; i < 2; i++) {
        job_init(&js[i], 0, 0, i);
        js[i].block = ch;
        ts[i] = spawn_job(&js[i]);
    }
    TU_CHECK_INT_EQ(goc_wait_first(ts, 2, 0), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_wait_first_ok(ts, 2, 0), GOC_EAGAIN);
    int64_t timeouts[3] = { 1, 10 * TU_MS, 50 * TU_MS };
    for (int k = 0; k < 3; k++) {
        int64_t t0 = goc_now();
        TU_CHECK_INT_EQ(goc_wait_first(ts, 2, timeouts[k]), GOC_ETIMEDOUT);
        TU_CHECK(goc_now() - t0 >= timeouts[k]); /* never early */
        t0 = goc_now();
        TU_CHECK_INT_EQ(goc_wait_first_ok(ts, 2, timeouts[k]), GOC_ETIMEDOUT);
        TU_CHECK(goc_now() - t0 >= timeouts[k]);
    }
    /* A timeout that does not pass: the task ends first. */
    goc_chan_close(ch);
    int i = goc_wait_first(ts, 2, 10 * TU_SEC);
    TU_CHECK(i == 0 || i == 1);
    TU_CHECK_INT_EQ(goc_gather(ts, 2, NULL, NULL, 0), 0);
    goc_chan_free(ch);
}

static void test_wait_first_timeout(void **state)
{
    (void)state;
    run_main(main_wait_first_timeout);
}

typedef struct {
    goc_task **ts;
    size_t n;
    int ok;       /* goc_wait_first_ok instead */
    int64_t timeout;
    int rc;
    atomic_int entered;
} first_arg;

static void *first_waiter(void *arg)
{
    first_arg *a = arg;
    atomic_store(&a->entered, 1);
    a->rc = a->ok ? goc_wait_first_ok(a->ts, a->n, a->timeout) : goc_wait_first(a->ts, a->n, a->timeout);
    return NULL;
}

static void main_wait_first_cancelled(void *arg)
{
    (void)arg;
    goc_chan *ch = goc_chan_make(0, 0);
    job js[2];
    goc_task *ts[2];
    for (int i = 0; i < 2; i++) {
        job_init(&js[i], 0, 0, i);
        js[i].block = ch;
        ts[i] = spawn_job(&js[i]);
    }
    for (int ok = 0; ok < 2; ok++) {
        for (int timed = 0; timed < 2; timed++) {
            first_arg fa = { .ts = ts, .n = 2, .ok = ok, .timeout = timed ? 100 * TU_SEC : -1,
                             .rc = 12345 };
            goc_task *w = goc_spawn(first_waiter, &fa);
            TU_CHECK(tu_wait_flag(&fa.entered, 10 * TU_SEC));
            goc_sleep(5 * TU_MS);
            goc_cancel(w);
            TU_CHECK_INT_EQ(goc_join(w, NULL), GOC_ECANCELED);
            TU_CHECK_INT_EQ(fa.rc, GOC_ECANCELED);
        }
    }
    /* The watched tasks were untouched. */
    TU_CHECK_INT_EQ(goc_done(ts[0]) + goc_done(ts[1]), 0);
    goc_chan_close(ch);
    TU_CHECK_INT_EQ(goc_gather(ts, 2, NULL, NULL, 0), 0);
    goc_chan_free(ch);
}

static void test_wait_first_cancelled(void **state)
{
    (void)state;
    run_main(main_wait_first_cancelled);
}

static void main_wait_first_ok(void *arg)
{
    (void)arg;
    job js[3];
    goc_task *ts[3];
    /* 0 fails first, 1 succeeds next, 2 would succeed last. */
    job_init(&js[0], 5 * TU_MS, -EIO, 0);
    job_init(&js[1], 40 * TU_MS, 0, 1);
    job_init(&js[2], 5 * TU_SEC, 0, 2);
    for (int i = 0; i < 3; i++)
        ts[i] = spawn_job(&js[i]);
    TU_CHECK_INT_EQ(goc_wait_first_ok(ts, 3, -1), 1);
    TU_CHECK_INT_EQ(atomic_load(&js[0].finished), 1);
    TU_CHECK_INT_EQ(goc_join(ts[1], NULL), 0);
    TU_CHECK_INT_EQ(goc_join(ts[0], NULL), -EIO);
    goc_cancel(ts[2]);
    TU_CHECK_INT_EQ(goc_join(ts[2], NULL), GOC_ECANCELED);

    /* All fail: the error of the first to fail (2, then 0, then 1). */
    job_init(&js[0], 30 * TU_MS, -ENOENT, 0);
    job_init(&js[1], 60 * TU_MS, -EPERM, 1);
    job_init(&js[2], 1 * TU_MS, -EIO, 2);
    for (int i = 0; i < 3; i++)
        ts[i] = spawn_job(&js[i]);
    TU_CHECK_INT_EQ(goc_wait_first_ok(ts, 3, 10 * TU_SEC), -EIO);
    TU_CHECK_INT_EQ(goc_gather(ts, 3, NULL, NULL, GOC_GATHER_SETTLED), 0);

    /* Cancelled tasks do not count as success. */
    goc_chan *ch = goc_chan_make(0, 0);
    for (int i = 0; i < 2; i++) {
        job_init(&js[i], 0, 0, i);
        js[i].block = ch;
        ts[i] = spawn_job(&js[i]);
    }
    wait_started(js, 2);
    goc_cancel(ts[0]);
    goc_cancel(ts[1]);
    TU_CHECK_INT_EQ(goc_wait_first_ok(ts, 2, 10 * TU_SEC), GOC_ECANCELED);
    TU_CHECK_INT_EQ(goc_gather(ts, 2, NULL, NULL, GOC_GATHER_SETTLED), 0);

    /* Already done, one ok: found without waiting (timeout 0). */
    job_init(&js[0], 0, -EIO, 0);
    job_init(&js[1], 0, 0, 1);
    for (int i = 0; i < 2; i++)
        ts[i] = spawn_job(&js[i]);
    while (!goc_done(ts[0]) || !goc_done(ts[1]))
        goc_sleep(TU_MS);
    TU_CHECK_INT_EQ(goc_wait_first_ok(ts, 2, 0), 1);
    TU_CHECK_INT_EQ(goc_wait_first(ts, 2, 0), 0);
    TU_CHECK_INT_EQ(goc_gather(ts, 2, NULL, NULL, GOC_GATHER_SETTLED), 0);
    goc_chan_free(ch);
}

static void test_wait_first_ok(void **state)
{
    (void)state;
    run_main(main_wait_first_ok);
}

/* -------------------------------------------------------------- wait_for */

static void main_wait_for(void *arg)
{
    (void)arg;
    job j;
    void *r = NULL;
    /* In time. */
    job_init(&j, 10 * TU_MS, 0, 42);
    TU_CHECK_INT_EQ(goc_wait_for(spawn_job(&j), 10 * TU_SEC, &r), 0);
    TU_CHECK(r == (void *)(intptr_t)42);
    /* In time, but failed. */
    job_init(&j, 1 * TU_MS, -EIO, 42);
    TU_CHECK_INT_EQ(goc_wait_for(spawn_job(&j), 10 * TU_SEC, &r), -EIO);
    /* No timeout. */
    job_init(&j, 1 * TU_MS, 0, 43);
    TU_CHECK_INT_EQ(goc_wait_for(spawn_job(&j), -1, &r), 0);
    TU_CHECK(r == (void *)(intptr_t)43);
    /* Timeout 0 on a task that has returned. */
    job_init(&j, 0, 0, 44);
    goc_task *t = spawn_job(&j);
    while (!goc_done(t))
        goc_sleep(TU_MS);
    TU_CHECK_INT_EQ(goc_wait_for(t, 0, &r), 0);
    TU_CHECK(r == (void *)(intptr_t)44);
}

static void test_wait_for(void **state)
{
    (void)state;
    run_main(main_wait_for);
}

static void main_wait_for_timeout(void *arg)
{
    (void)arg;
    job j;
    void *r = NULL;
    int64_t timeouts[3] = { 0, 1, 30 * TU_MS };
    for (int k = 0; k < 3; k++) {
        job_init(&j, 100 * TU_SEC, 0, 1);
        j.cleanup_ns = 20 * TU_MS; /* the cleanup takes a while */
        goc_task *t = spawn_job(&j);
        if (k == 2)
            wait_started(&j, 1);
        int64_t t0 = goc_now();
        TU_CHECK_INT_EQ(goc_wait_for(t, timeouts[k], &r), GOC_ETIMEDOUT);
        int64_t took = goc_now() - t0;
        TU_CHECK(took >= timeouts[k] + j.cleanup_ns * (k == 2)); /* never early */
        TU_CHECK(took < 50 * TU_SEC);
        /* The task was cancelled and its cleanup has run. */
        TU_CHECK_INT_EQ(atomic_load(&j.cancelled), 1);
        TU_CHECK_INT_EQ(atomic_load(&j.finished), 0);
        TU_CHECK(r == (void *)(intptr_t)-1);
    }
}

static void test_wait_for_timeout(void **state)
{
    (void)state;
    run_main(main_wait_for_timeout);
}

typedef struct {
    job *j;
    int64_t timeout;
    int rc;
    atomic_int entered;
    atomic_int cleaned_at_return; /* the task's cleanup had run when wait_for returned */
} wf_arg;

static void *wait_for_caller(void *arg)
{
    wf_arg *a = arg;
    goc_task *t = spawn_job(a->j);
    atomic_store(&a->entered, 1);
    a->rc = goc_wait_for(t, a->timeout, NULL);
    atomic_store(&a->cleaned_at_return, atomic_load(&a->j->cancelled));
    return NULL;
}

static void main_wait_for_cancelled(void *arg)
{
    (void)arg;
    for (int timed = 0; timed < 2; timed++) {
        job j;
        job_init(&j, 100 * TU_SEC, 0, 1);
        j.cleanup_ns = 40 * TU_MS;
        wf_arg a = { .j = &j, .timeout = timed ? 100 * TU_SEC : -1, .rc = 12345 };
        goc_task *w = goc_spawn(wait_for_caller, &a);
        TU_CHECK(tu_wait_flag(&a.entered, 10 * TU_SEC));
        wait_started(&j, 1);
        goc_sleep(5 * TU_MS);
        goc_cancel(w);
        goc_sleep(10 * TU_MS);
        goc_cancel(w); /* again, during the wait for the task's cleanup */
        TU_CHECK_INT_EQ(goc_join(w, NULL), GOC_ECANCELED);
        TU_CHECK_INT_EQ(a.rc, GOC_ECANCELED);
        TU_CHECK_INT_EQ(atomic_load(&a.cleaned_at_return), 1);
    }
}

static void test_wait_for_cancelled(void **state)
{
    (void)state;
    run_main(main_wait_for_cancelled);
}

/* ---------------------------------------------------------------- groups */

typedef struct member_arg {
    int64_t sleep_ns;     /* < 0: block on ch */
    goc_chan *ch;
    int fail;
    int rc;
    atomic_int started, ended;
    atomic_long *count;
} member_arg;

static void *member_fn(void *arg)
{
    member_arg *m = arg;
    atomic_store(&m->started, 1);
    if (m->count)
        atomic_fetch_add(m->count, 1);
    m->rc = m->sleep_ns < 0 ? goc_chan_recv(m->ch, NULL) : goc_sleep(m->sleep_ns);
    atomic_store(&m->ended, 1);
    if (m->rc == 0 && m->fail)
        return goc_fail(m->fail);
    return NULL;
}

static void member_init(member_arg *m, int64_t sleep_ns, int fail)
{
    memset(m, 0, sizeof *m);
    m->sleep_ns = sleep_ns;
    m->fail = fail;
    m->rc = 12345;
}

static void main_group_first_failure(void *arg)
{
    (void)arg;
    goc_chan *ch = goc_chan_make(0, 0);
    goc_group *g = goc_group_new();
    TU_CHECK(g != NULL);
    member_arg ms[4];
    member_init(&ms[0], 100 * TU_SEC, 0);
    member_init(&ms[1], 20 * TU_MS, -EIO); /* fails first */
    member_init(&ms[2], -1, 0);
    ms[2].ch = ch;
    member_init(&ms[3], 500 * TU_MS, -ENOENT); /* would fail second: cancelled first */
    for (int i = 0; i < 4; i++)
        TU_CHECK_INT_EQ(goc_group_go(g, member_fn, &ms[i]), 0);
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_group_wait(g), -EIO);
    TU_CHECK(goc_now() - t0 < 50 * TU_SEC);
    /* Every member has ended when wait returns; the others saw a cancel. */
    for (int i = 0; i < 4; i++)
        TU_CHECK_INT_EQ(atomic_load(&ms[i].ended), 1);
    TU_CHECK_INT_EQ(ms[0].rc, GOC_ECANCELED);
    TU_CHECK_INT_EQ(ms[1].rc, 0);
    TU_CHECK_INT_EQ(ms[2].rc, GOC_ECANCELED);
    TU_CHECK_INT_EQ(ms[3].rc, GOC_ECANCELED);
    /* A failed group refuses new members; fn never starts. */
    member_arg late;
    member_init(&late, 0, 0);
    TU_CHECK_INT_EQ(goc_group_go(g, member_fn, &late), GOC_ECANCELED);
    TU_CHECK_INT_EQ(goc_group_wait(g), -EIO); /* again: same answer */
    TU_CHECK_INT_EQ(goc_group_free(g), 0);
    goc_sleep(5 * TU_MS);
    TU_CHECK_INT_EQ(atomic_load(&late.started), 0);
    goc_chan_free(ch);
}

static void test_group_first_failure(void **state)
{
    (void)state;
    run_main(main_group_first_failure);
}

static void main_group_ok(void *arg)
{
    (void)arg;
    goc_group *g = goc_group_new();
    TU_CHECK_INT_EQ(goc_group_wait(g), 0); /* empty */
    size_t n = (size_t)TU_SCALE(2000) + 3;
    member_arg *ms = calloc(n, sizeof *ms);
    atomic_long count = 0;
    for (int round = 0; round < 2; round++) {
        goc_chan *gate = goc_chan_make(0, 0);
        for (size_t i = 0; i < n; i++) {
            member_init(&ms[i], (int64_t)(i % 5) * TU_MS, 0);
            ms[i].count = &count;
            if (i == 0) {
                ms[i].sleep_ns = -1; /* runs until the gate closes */
                ms[i].ch = gate;
            }
            TU_CHECK_INT_EQ(goc_group_go(g, member_fn, &ms[i]), 0);
        }
        TU_CHECK_INT_EQ(goc_group_free(g), GOC_EBUSY); /* still running */
        goc_chan_close(gate);
        TU_CHECK_INT_EQ(goc_group_wait(g), 0);
        goc_chan_free(gate);
        for (size_t i = 0; i < n; i++)
            TU_CHECK_INT_EQ(atomic_load(&ms[i].ended), 1);
    }
    TU_CHECK_INT_EQ(atomic_load(&count), 2 * (long)n);
    TU_CHECK_INT_EQ(goc_group_free(g), 0);
    free(ms);
}

static void test_group_ok(void **state)
{
    (void)state;
    run_main(main_group_ok);
}

static void main_group_cancel(void *arg)
{
    (void)arg;
    goc_chan *ch = goc_chan_make(0, 0);
    goc_group *g = goc_group_new();
    member_arg ms[3];
    for (int i = 0; i < 3; i++) {
        member_init(&ms[i], i == 0 ? 100 * TU_SEC : -1, 0);
        ms[i].ch = ch;
        TU_CHECK_INT_EQ(goc_group_go(g, member_fn, &ms[i]), 0);
    }
    for (int i = 0; i < 3; i++)
        TU_CHECK(tu_wait_flag(&ms[i].started, 10 * TU_SEC));
    TU_CHECK_INT_EQ(goc_group_cancel(g), 0);
    TU_CHECK_INT_EQ(goc_group_cancel(g), 0); /* idempotent */
    TU_CHECK_INT_EQ(goc_group_wait(g), GOC_ECANCELED);
    for (int i = 0; i < 3; i++)
        TU_CHECK_INT_EQ(ms[i].rc, GOC_ECANCELED);
    member_arg late;
    member_init(&late, 0, 0);
    TU_CHECK_INT_EQ(goc_group_go(g, member_fn, &late), GOC_ECANCELED);
    TU_CHECK_INT_EQ(goc_group_free(g), 0);
    goc_chan_free(ch);
}

static void test_group_cancel(void **state)
{
    (void)state;
    run_main(main_group_cancel);
}

typedef struct {
    goc_group *g;
    int rc;
    atomic_int entered;
    atomic_int all_ended_at_return;
    member_arg *ms;
    int n;
} gw_arg;

static void *group_waiter(void *arg)
{
    gw_arg *a = arg;
    atomic_store(&a->entered, 1);
    a->rc = goc_group_wait(a->g);
    int all = 1;
    for (int i = 0; i < a->n; i++)
        all &= atomic_load(&a->ms[i].ended);
    atomic_store(&a->all_ended_at_return, all);
    return NULL;
}

/* A member that, cancelled, takes a while to clean up (without blocking). */
static void *slow_cleanup_member(void *arg)
{
    member_arg *m = arg;
    atomic_store(&m->started, 1);
    m->rc = goc_sleep(m->sleep_ns);
    int64_t end = goc_now() + 40 * TU_MS;
    while (m->rc == GOC_ECANCELED && goc_now() < end)
        goc_yield();
    atomic_store(&m->ended, 1);
    return NULL;
}

static void main_group_wait_cancelled(void *arg)
{
    (void)arg;
    goc_group *g = goc_group_new();
    member_arg ms[3];
    for (int i = 0; i < 3; i++) {
        member_init(&ms[i], 100 * TU_SEC, 0);
        TU_CHECK_INT_EQ(goc_group_go(g, slow_cleanup_member, &ms[i]), 0);
    }
    gw_arg a = { .g = g, .rc = 12345, .ms = ms, .n = 3 };
    goc_task *w = goc_spawn(group_waiter, &a);
    TU_CHECK(tu_wait_flag(&a.entered, 10 * TU_SEC));
    for (int i = 0; i < 3; i++)
        TU_CHECK(tu_wait_flag(&ms[i].started, 10 * TU_SEC));
    goc_sleep(5 * TU_MS);
    goc_cancel(w);
    goc_sleep(10 * TU_MS);
    goc_cancel(w); /* again, while it waits for the members' cleanup */
    TU_CHECK_INT_EQ(goc_join(w, NULL), GOC_ECANCELED);
    TU_CHECK_INT_EQ(a.rc, GOC_ECANCELED);
    TU_CHECK_INT_EQ(atomic_load(&a.all_ended_at_return), 1);
    for (int i = 0; i < 3; i++)
        TU_CHECK_INT_EQ(ms[i].rc, GOC_ECANCELED);
    TU_CHECK_INT_EQ(goc_group_wait(g), GOC_ECANCELED);
    TU_CHECK_INT_EQ(goc_group_free(g), 0);
}

static void test_group_wait_cancelled(void **state)
{
    (void)state;
    run_main(main_group_wait_cancelled);
}

static void main_group_bad_input(void *arg)
{
    (void)arg;
    TU_CHECK_INT_EQ(goc_group_go(NULL, member_fn, NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_group_cancel(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_group_wait(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_group_free(NULL), GOC_EINVAL);
    goc_group *g = goc_group_new();
    TU_CHECK_INT_EQ(goc_group_go(g, NULL, NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_group_wait(g), 0);
    TU_CHECK_INT_EQ(goc_group_free(g), 0);
}

static void test_group_bad_input(void **state)
{
    (void)state;
    run_main(main_group_bad_input);
}

/* ----------------------------------------------------- outside coroutines */

static void test_outside_coroutine(void **state)
{
    (void)state;
    assert_null(goc_fail(-EIO));
    assert_int_equal(goc_done(NULL), 0);
    assert_int_equal(goc_gather(NULL, 0, NULL, NULL, 0), 0);
    assert_int_equal(goc_wait_first(NULL, 0, 0), GOC_EINVAL);
    assert_int_equal(goc_wait_for(NULL, 0, NULL), GOC_EINVAL);
    goc_group *g = goc_group_new();
    assert_non_null(g);
    assert_int_equal(goc_group_go(g, member_fn, NULL), GOC_EPERM);
    assert_int_equal(goc_group_wait(g), GOC_EPERM);
    assert_int_equal(goc_group_cancel(g), 0);
    assert_int_equal(goc_group_free(g), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outside_coroutine),
        cmocka_unit_test(test_fail_join),
        cmocka_unit_test(test_done),
        cmocka_unit_test(test_gather_results_in_order),
        cmocka_unit_test(test_gather_fail_fast),
        cmocka_unit_test(test_gather_settled),
        cmocka_unit_test(test_gather_cancelled),
        cmocka_unit_test(test_gather_many),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_wait_first),
        cmocka_unit_test(test_wait_first_timeout),
        cmocka_unit_test(test_wait_first_cancelled),
        cmocka_unit_test(test_wait_first_ok),
        cmocka_unit_test(test_wait_for),
        cmocka_unit_test(test_wait_for_timeout),
        cmocka_unit_test(test_wait_for_cancelled),
        cmocka_unit_test(test_group_first_failure),
        cmocka_unit_test(test_group_ok),
        cmocka_unit_test(test_group_cancel),
        cmocka_unit_test(test_group_wait_cancelled),
        cmocka_unit_test(test_group_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
