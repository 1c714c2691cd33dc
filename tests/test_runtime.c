/*
 * test_runtime.c - goc_run, goc_workers, goc_worker_id, goc_now,
 * goc_strerror, argument checking, calls outside a coroutine, and the
 * shutdown rule (main returns -> the rest is cancelled and awaited).
 */
#include "test_util.h"

#include <limits.h>
#include <pthread.h>

/* ------------------------------------------------------ run returns zero */

static void main_set_flag(void *arg)
{
    atomic_int *flag = arg;
    TU_CHECK(goc_workers() >= 1);
    int id = goc_worker_id();
    TU_CHECK(id >= 0 && id < goc_workers());
    atomic_fetch_add(flag, 1);
}

static void test_run_returns_zero_and_runs_main(void **state)
{
    (void)state;
    atomic_int flag = 0;
    /* No runtime yet: documented values outside. */
    assert_int_equal(goc_workers(), 0);
    assert_int_equal(goc_worker_id(), -1);
    TU_RUN(NULL, main_set_flag, &flag);
    assert_int_equal(atomic_load(&flag), 1);
    /* And none after it returned. */
    assert_int_equal(goc_workers(), 0);
    assert_int_equal(goc_worker_id(), -1);
}

/* ---------------------------------------------------------- run twice */

static void child_count(void *arg)
{
    atomic_long *c = arg;
    goc_yield();
    atomic_fetch_add(c, 1);
}

static void main_spawn_some(void *arg)
{
    atomic_long *c = arg;
    for (int i = 0; i < 100; i++)
        TU_CHECK_INT_EQ(goc_go(child_count, c), 0);
    TU_CHECK(tu_wait_count(c, 100, 20 * TU_SEC));
    atomic_fetch_add(c, 1000);
}

static void test_run_twice(void **state)
{
    (void)state;
    atomic_long c = 0;
    TU_RUN(NULL, main_spawn_some, &c);
    assert_int_equal(atomic_load(&c), 1100);
    atomic_store(&c, 0);
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_spawn_some, &c);
    assert_int_equal(atomic_load(&c), 1100);
    /* a third time, with pinning off */
    atomic_store(&c, 0);
    cfg.pin = 0;
    TU_RUN(&cfg, main_spawn_some, &c);
    assert_int_equal(atomic_load(&c), 1100);
}

/* ------------------------------------------------- goc_workers and ids */

#define IDS_N 64
typedef struct {
    atomic_int workers_in_main;
    atomic_int bad_ids;
    atomic_int seen[IDS_N];
    goc_wg *wg;
} ids_state;

static void record_ids(void *arg)
{
    ids_state *s = arg;
    for (int i = 0; i < 50; i++) {
        int id = goc_worker_id();
        int n = goc_workers();
        if (id < 0 || id >= n)
            atomic_fetch_add(&s->bad_ids, 1);
        else if (id < IDS_N)
            atomic_store(&s->seen[id], 1);
        if (i % 10 == 0)
            goc_sleep(100000);
        else
            goc_yield();
    }
    goc_wg_done(s->wg);
}

static void main_ids(void *arg)
{
    ids_state *s = arg;
    atomic_store(&s->workers_in_main, goc_workers());
    s->wg = goc_wg_new();
    TU_CHECK(s->wg != NULL);
    goc_wg_add(s->wg, 32);
    for (int i = 0; i < 32; i++)
        TU_CHECK_INT_EQ(goc_go(record_ids, s), 0);
    TU_CHECK_INT_EQ(goc_wg_wait(s->wg), 0);
    goc_wg_free(s->wg);
}

static void test_workers_and_worker_ids(void **state)
{
    (void)state;
    ids_state s;
    memset(&s, 0, sizeof s);
    TU_RUN(NULL, main_ids, &s);
    int env = tu_env_workers();
    int w = atomic_load(&s.workers_in_main);
    if (env > 0)
        assert_int_equal(w, env);
    else
        assert_true(w >= 1);
    assert_int_equal(atomic_load(&s.bad_ids), 0);

    /* cfg.workers = 0 reads the environment as well */
    memset(&s, 0, sizeof s);
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_ids, &s);
    if (env > 0)
        assert_int_equal(atomic_load(&s.workers_in_main), env);
    assert_int_equal(atomic_load(&s.bad_ids), 0);
}

/* ------------------------------------------------------------ bad input */

static void main_nothing(void *arg)
{
    atomic_int *flag = arg;
    if (flag)
        atomic_fetch_add(flag, 1);
}

static void test_bad_config(void **state)
{
    (void)state;
    atomic_int flag = 0;
    goc_config cfg = tu_cfg(0);

    cfg.workers = -1;
    assert_int_equal(goc_run(&cfg, main_nothing, &flag), GOC_EINVAL);
    cfg.workers = INT_MIN;
    assert_int_equal(goc_run(&cfg, main_nothing, &flag), GOC_EINVAL);
    assert_int_equal(atomic_load(&flag), 0);

    cfg = tu_cfg(0);
    assert_int_equal(goc_run(&cfg, NULL, NULL), GOC_EINVAL);
    assert_int_equal(goc_run(NULL, NULL, NULL), GOC_EINVAL);

    cfg = tu_cfg(GOC_STACK_MIN - 1);
    assert_int_equal(goc_run(&cfg, main_nothing, &flag), GOC_EINVAL);
    cfg = tu_cfg(1);
    assert_int_equal(goc_run(&cfg, main_nothing, &flag), GOC_EINVAL);
    assert_int_equal(atomic_load(&flag), 0);

    /* The runtime is not damaged by the rejected calls. */
    TU_RUN(NULL, main_nothing, &flag);
    assert_int_equal(atomic_load(&flag), 1);

#if !TU_SANITIZED
    /* The minimum itself is accepted (not under sanitizers: their
     * instrumentation makes even a trivial frame larger than 1 KiB). */
    cfg = tu_cfg(GOC_STACK_MIN);
    TU_RUN(&cfg, main_nothing, &flag);
    assert_int_equal(atomic_load(&flag), 2);
#endif
}

/* --------------------------------------------------------- nested goc_run */

typedef struct {
    atomic_int nested_rc;
    atomic_int inner_ran;
    atomic_int thread_rc;
} nested_state;

static void inner_main(void *arg)
{
    nested_state *s = arg;
    atomic_store(&s->inner_ran, 1);
}

static void *foreign_thread_run(void *arg)
{
    nested_state *s = arg;
    atomic_store(&s->thread_rc, goc_run(NULL, inner_main, s));
    return NULL;
}

static void main_nested(void *arg)
{
    nested_state *s = arg;
    atomic_store(&s->nested_rc, goc_run(NULL, inner_main, s));
    /* From another OS thread while this runtime runs: also EBUSY. */
    pthread_t th;
    if (pthread_create(&th, NULL, foreign_thread_run, s) == 0)
        pthread_join(th, NULL);
    else
        TU_CHECK(!"pthread_create failed");
    /* The runtime still works. */
    TU_CHECK_INT_EQ(goc_sleep(TU_MS), 0);
}

static void test_nested_run_is_busy(void **state)
{
    (void)state;
    nested_state s;
    memset(&s, 0, sizeof s);
    TU_RUN(NULL, main_nested, &s);
    assert_int_equal(atomic_load(&s.nested_rc), GOC_EBUSY);
    assert_int_equal(atomic_load(&s.thread_rc), GOC_EBUSY);
    assert_int_equal(atomic_load(&s.inner_ran), 0);
}

/* ---------------------------------------------- calls outside a coroutine */

static void never_called(void *arg)
{
    atomic_int *flag = arg;
    atomic_store(flag, 1);
}

static void *never_called_task(void *arg)
{
    atomic_int *flag = arg;
    atomic_store(flag, 1);
    return NULL;
}

static void check_outside_calls(atomic_int *flag)
{
    TU_CHECK_INT_EQ(goc_sleep(TU_MS), GOC_EPERM);
    TU_CHECK_INT_EQ(goc_sleep(INT64_MAX), GOC_EPERM);
    TU_CHECK_INT_EQ(goc_go(never_called, flag), GOC_EPERM);
    TU_CHECK(goc_spawn(never_called_task, flag) == NULL);
    TU_CHECK_INT_EQ(goc_cancelled(), 0);
    goc_yield(); /* a no-op, must not crash */
    TU_CHECK_INT_EQ(goc_worker_id(), -1);
    int r = goc_join(NULL, NULL);
    TU_CHECK(r == GOC_EPERM || r == GOC_EINVAL);
    goc_wg *wg = goc_wg_new();
    TU_CHECK(wg != NULL);
    if (wg) {
        goc_wg_add(wg, 1);
        /* would block: must refuse instead */
        TU_CHECK_INT_EQ(goc_wg_wait(wg), GOC_EPERM);
        goc_wg_done(wg);
        goc_wg_free(wg);
    }
}

static void *foreign_thread_calls(void *arg)
{
    check_outside_calls(arg);
    return NULL;
}

static void main_foreign_calls(void *arg)
{
    pthread_t th;
    if (pthread_create(&th, NULL, foreign_thread_calls, arg) == 0)
        pthread_join(th, NULL);
    else
        TU_CHECK(!"pthread_create failed");
}

static void test_outside_coroutine_eperm(void **state)
{
    (void)state;
    atomic_int flag = 0;
    tu_checks_reset();
    /* No runtime at all. */
    check_outside_calls(&flag);
    TU_ASSERT_NO_CHECK_FAILURES();
    assert_int_equal(goc_workers(), 0);
    /* A runtime is running, but the caller is a foreign thread. */
    TU_RUN(NULL, main_foreign_calls, &flag);
    assert_int_equal(atomic_load(&flag), 0);
}

/* --------------------------------------------------------- goc_strerror */

static void test_strerror(void **state)
{
    (void)state;
    const int codes[] = {GOC_EAGAIN, GOC_ETIMEDOUT, GOC_ECANCELED,
                         GOC_ECLOSED, GOC_ENOMEM,   GOC_EINVAL,
                         GOC_EPERM,   GOC_EBUSY,    GOC_EDEADLK,
                         GOC_ENOTFOUND, -ECONNREFUSED, -ECONNRESET};
    const size_t n = sizeof codes / sizeof codes[0];
    const char *unknown = goc_strerror(-987654);
    assert_non_null(unknown);
    assert_string_equal(unknown, "unknown error");
    assert_string_equal(goc_strerror(INT_MIN), "unknown error");
    assert_string_equal(goc_strerror(12345), "unknown error");
    assert_string_equal(goc_strerror(-ECONNREFUSED), strerror(ECONNREFUSED));
    assert_non_null(goc_strerror(0));
    for (size_t i = 0; i < n; i++) {
        const char *s = goc_strerror(codes[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_not_equal(s, "unknown error");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, goc_strerror(codes[j]));
    }
    /* codes are negated errno values */
    assert_int_equal(GOC_ECLOSED, -EPIPE);
    assert_int_equal(GOC_ECANCELED, -ECANCELED);
}

/* --------------------------------------------------------------- goc_now */

static void now_monotonic_loop(void *arg)
{
    atomic_int *bad = arg;
    int64_t prev = goc_now();
    for (int i = 0; i < 20000; i++) {
        int64_t t = goc_now();
        if (t < prev)
            atomic_fetch_add(bad, 1);
        prev = t;
        if (i % 1000 == 0)
            goc_yield();
    }
}

static void main_now(void *arg)
{
    atomic_int *bad = arg;
    for (int i = 0; i < 4; i++)
        TU_CHECK_INT_EQ(goc_go(now_monotonic_loop, bad), 0);
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_sleep(20 * TU_MS), 0);
    int64_t t1 = goc_now();
    TU_CHECK(t1 - t0 >= 20 * TU_MS);
    TU_CHECK(t1 - t0 < 20 * TU_SEC);
    now_monotonic_loop(bad);
}

static void test_now_monotonic(void **state)
{
    (void)state;
    int64_t prev = goc_now();
    for (int i = 0; i < 100000; i++) {
        int64_t t = goc_now();
        assert_true(t >= prev);
        prev = t;
    }
    /* It advances with real time, and is in nanoseconds. The reference
     * clock brackets goc_now's two readings (ta before a, tb after b), so
     * the thread being descheduled between two readings cannot make
     * goc_now look fast. */
    int64_t ta = tu_clock_ns(), a = goc_now();
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    int64_t b = goc_now(), tb = tu_clock_ns();
    assert_true(b - a >= 25 * TU_MS); /* a coarse clock may lag a tick */
    assert_true(b - a <= (tb - ta) + 5 * TU_MS);

    atomic_int bad = 0;
    TU_RUN(NULL, main_now, &bad);
    assert_int_equal(atomic_load(&bad), 0);
}

/* ------------------------------------- shutdown: cancel the sleepers */

#define SLEEPERS 50
typedef struct {
    atomic_long started;
    atomic_long ended;
    atomic_long saw_canceled;
    atomic_long saw_cancelled_flag;
    atomic_long second_canceled;
} shutdown_state;

static void sleep_forever(void *arg)
{
    shutdown_state *s = arg;
    atomic_fetch_add(&s->started, 1);
    int r = goc_sleep(INT64_MAX);
    if (r == GOC_ECANCELED)
        atomic_fetch_add(&s->saw_canceled, 1);
    if (goc_cancelled() == 1)
        atomic_fetch_add(&s->saw_cancelled_flag, 1);
    /* Cancellation is sticky: the next blocking call fails too, at once. */
    if (goc_sleep(10 * TU_SEC) == GOC_ECANCELED)
        atomic_fetch_add(&s->second_canceled, 1);
    atomic_fetch_add(&s->ended, 1);
}

static void main_leave_sleepers(void *arg)
{
    shutdown_state *s = arg;
    TU_CHECK_INT_EQ(goc_cancelled(), 0);
    for (int i = 0; i < SLEEPERS; i++)
        TU_CHECK_INT_EQ(goc_go(sleep_forever, s), 0);
    TU_CHECK(tu_wait_count(&s->started, SLEEPERS, 10 * TU_SEC));
    goc_sleep(5 * TU_MS); /* let the last one reach its sleep */
    TU_CHECK_INT_EQ(atomic_load(&s->ended), 0);
    /* return with all of them asleep */
}

static void test_shutdown_cancels_sleepers(void **state)
{
    (void)state;
    shutdown_state s;
    memset(&s, 0, sizeof s);
    int64_t t0 = tu_clock_ns();
    TU_RUN(NULL, main_leave_sleepers, &s);
    int64_t took = tu_clock_ns() - t0;
    assert_int_equal(atomic_load(&s.started), SLEEPERS);
    assert_int_equal(atomic_load(&s.ended), SLEEPERS);
    assert_int_equal(atomic_load(&s.saw_canceled), SLEEPERS);
    assert_int_equal(atomic_load(&s.saw_cancelled_flag), SLEEPERS);
    assert_int_equal(atomic_load(&s.second_canceled), SLEEPERS);
    /* generous: the second sleep is 10 s and must not be waited out */
    assert_true(took < 9 * TU_SEC);
}

/* ----------------------- shutdown: coroutines still queued run and clean up */

#define QUEUED 100
static void queued_child(void *arg)
{
    shutdown_state *s = arg;
    atomic_fetch_add(&s->started, 1);
    if (goc_sleep(INT64_MAX) == GOC_ECANCELED)
        atomic_fetch_add(&s->saw_canceled, 1);
    atomic_fetch_add(&s->ended, 1);
}

static void main_spawn_and_return(void *arg)
{
    /* Return at once: with one worker none of them has run yet. */
    for (int i = 0; i < QUEUED; i++)
        TU_CHECK_INT_EQ(goc_go(queued_child, arg), 0);
}

static void test_shutdown_runs_queued(void **state)
{
    (void)state;
    shutdown_state s;
    memset(&s, 0, sizeof s);
    TU_RUN(NULL, main_spawn_and_return, &s);
    assert_int_equal(atomic_load(&s.started), QUEUED);
    assert_int_equal(atomic_load(&s.saw_canceled), QUEUED);
    assert_int_equal(atomic_load(&s.ended), QUEUED);
}

/* A coroutine that spawns more coroutines while being cancelled: goc_run
 * still returns, and everything that was started has ended. */
static void cascade_child(void *arg)
{
    shutdown_state *s = arg;
    atomic_fetch_add(&s->started, 1);
    goc_sleep(INT64_MAX);
    atomic_fetch_add(&s->ended, 1);
}

static void cascade_parent(void *arg)
{
    shutdown_state *s = arg;
    atomic_fetch_add(&s->started, 1);
    goc_sleep(INT64_MAX);
    /* cancelled: start one more on the way out */
    if (goc_go(cascade_child, s) == 0)
        atomic_fetch_add(&s->second_canceled, 1);
    atomic_fetch_add(&s->ended, 1);
}

static void main_cascade(void *arg)
{
    shutdown_state *s = arg;
    for (int i = 0; i < 10; i++)
        TU_CHECK_INT_EQ(goc_go(cascade_parent, s), 0);
    TU_CHECK(tu_wait_count(&s->started, 10, 10 * TU_SEC));
}

static void test_shutdown_spawn_during_cancel(void **state)
{
    (void)state;
    shutdown_state s;
    memset(&s, 0, sizeof s);
    TU_RUN(NULL, main_cascade, &s);
    /* whatever goc_go answered during shutdown, nothing is left running */
    long started = atomic_load(&s.started);
    assert_true(started >= 10);
    assert_int_equal(started, 10 + atomic_load(&s.second_canceled));
    assert_int_equal(atomic_load(&s.ended), started);
}

/* ----------------------------------------------------------- stack size */

static __attribute__((noinline)) long use_stack(size_t bytes)
{
    volatile unsigned char buf[200 * 1024];
    if (bytes > sizeof buf)
        bytes = sizeof buf;
    for (size_t i = 0; i < bytes; i++)
        buf[i] = (unsigned char)i;
    long sum = 0;
    for (size_t i = 0; i < bytes; i += 4096)
        sum += buf[i];
    sum += buf[bytes - 1];
    return sum;
}

typedef struct {
    atomic_long sum;
    goc_wg *wg;
} big_stack_state;

static void big_stack_child(void *arg)
{
    big_stack_state *s = arg;
    atomic_fetch_add(&s->sum, use_stack(200 * 1024));
    goc_yield(); /* a switch after the deep use: the canary must be intact */
    atomic_fetch_add(&s->sum, use_stack(200 * 1024));
    goc_wg_done(s->wg);
}

static void main_big_stack(void *arg)
{
    big_stack_state *s = arg;
    atomic_fetch_add(&s->sum, use_stack(200 * 1024));
    s->wg = goc_wg_new();
    TU_CHECK(s->wg != NULL);
    goc_wg_add(s->wg, 4);
    for (int i = 0; i < 4; i++)
        TU_CHECK_INT_EQ(goc_go(big_stack_child, s), 0);
    TU_CHECK_INT_EQ(goc_wg_wait(s->wg), 0);
    goc_wg_free(s->wg);
}

static void test_stack_size_honoured(void **state)
{
    (void)state;
    big_stack_state s;
    memset(&s, 0, sizeof s);
    goc_config cfg = tu_cfg(1024 * 1024);
    TU_RUN(&cfg, main_big_stack, &s);
    /* 9 calls; each sums bytes at multiples of 4096 (all 0) and the last */
    long one = (long)(unsigned char)(200 * 1024 - 1);
    assert_int_equal(atomic_load(&s.sum), 9 * one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_returns_zero_and_runs_main),
        cmocka_unit_test(test_run_twice),
        cmocka_unit_test(test_workers_and_worker_ids),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_nested_run_is_busy),
        cmocka_unit_test(test_outside_coroutine_eperm),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_now_monotonic),
        cmocka_unit_test(test_shutdown_cancels_sleepers),
        cmocka_unit_test(test_shutdown_runs_queued),
        cmocka_unit_test(test_shutdown_spawn_during_cancel),
        cmocka_unit_test(test_stack_size_honoured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
