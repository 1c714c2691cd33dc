/*
 * test_wg.c - goc_wg: counting, waiting, several waiters, cancellation of a
 * waiter, bad input, reuse, and the abort on a negative counter.
 */
#include "test_util.h"

#include <pthread.h>

/* ------------------------------------------- negative counter aborts */

/* These fork; they run first, while the test process has no other thread
 * (TSan does not support threads in the child of a multi-threaded fork). */

static void main_done_below_zero(void *arg)
{
    (void)arg;
    goc_wg *wg = goc_wg_new();
    goc_wg_add(wg, 1);
    goc_wg_done(wg);
    goc_wg_done(wg); /* -1: must abort */
    fprintf(stderr, "survived a negative counter\n");
    goc_wg_free(wg);
}

static void main_add_below_zero(void *arg)
{
    (void)arg;
    goc_wg *wg = goc_wg_new();
    goc_wg_add(wg, 2);
    goc_wg_add(wg, -3); /* -1: must abort */
    fprintf(stderr, "survived a negative counter\n");
    goc_wg_free(wg);
}

typedef struct {
    void (*fn)(void *);
} child_arg;

static void child_run(void *arg)
{
    child_arg *ca = arg;
    int r = goc_run(NULL, ca->fn, NULL);
    fprintf(stderr, "goc_run returned %d\n", r);
}

static void check_negative_aborts(void (*fn)(void *))
{
    tu_child c;
    child_arg ca = {fn};
    tu_fork_capture(child_run, &ca, 20, &c);
    int ok = c.signaled && c.sig == SIGABRT &&
             strcasestr(c.err, "negative") != NULL;
    if (!ok) {
        tu_child_print("negative wg counter", &c);
        tu_child_free(&c);
        fail_msg("expected the child to abort (SIGABRT) with a message "
                 "mentioning \"negative\"");
    }
    tu_child_free(&c);
}

/* Adds racing with a zero crossing. One thread takes the count from 1 to
 * 0 and back, over and over (each done is a zero crossing, which locks
 * the wg); the other holds one count across a short spin each round. An
 * add that lands while the crossing holds the lock must not be lost:
 * when it was (the crossing published 0 over it), the holder's done went
 * below zero and aborted. Run in a child: that abort is the failure. */
#define RACE_ROUNDS 10000000

static atomic_int race_go;

static void race_start(void)
{
    atomic_fetch_add(&race_go, 1);
    while (atomic_load(&race_go) < 2)
        ;
}

static void *race_crosser(void *arg)
{
    goc_wg *wg = arg;
    race_start();
    for (int i = 0; i < RACE_ROUNDS; i++) {
        goc_wg_add(wg, 1);
        goc_wg_done(wg);
    }
    return NULL;
}

static void *race_holder(void *arg)
{
    goc_wg *wg = arg;
    race_start();
    for (int i = 0; i < RACE_ROUNDS; i++) {
        goc_wg_add(wg, 1);
        for (volatile int k = 0; k < 8; k++)
            ;
        goc_wg_done(wg);
    }
    return NULL;
}

static void main_add_races_zero(void *arg)
{
    (void)arg;
    goc_wg *wg = goc_wg_new();
    pthread_t a, b;
    pthread_create(&a, NULL, race_crosser, wg);
    pthread_create(&b, NULL, race_holder, wg);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    /* every add was matched: the count is 0 again, a wait returns at once */
    if (goc_wg_wait(wg) != 0)
        abort();
    goc_wg_free(wg);
}

static void test_wg_add_races_zero_crossing(void **state)
{
    (void)state;
    tu_child c;
    child_arg ca = {main_add_races_zero};
    tu_fork_capture(child_run, &ca, 120, &c);
    int ok = c.exited && c.exit_code == 0 && strstr(c.err, "goc_run returned 0") != NULL;
    if (!ok)
        tu_child_print("adds racing a zero crossing", &c);
    tu_child_free(&c);
    assert_true(ok);
}

static void test_wg_negative_aborts(void **state)
{
    (void)state;
    check_negative_aborts(main_done_below_zero);
    check_negative_aborts(main_add_below_zero);
}

/* ------------------------------------------------------------- basic */

typedef struct {
    long n;
    atomic_long finished;
    atomic_long early_release;
    goc_wg *wg;
} basic_state;

static basic_state *g_basic;

static void basic_worker(void *arg)
{
    uintptr_t i = (uintptr_t)arg;
    if (i % 4 == 0)
        goc_sleep((int64_t)(i % 5) * TU_MS);
    else if (i % 4 == 1)
        goc_yield();
    atomic_fetch_add(&g_basic->finished, 1);
    goc_wg_done(g_basic->wg);
}

static void main_basic(void *arg)
{
    basic_state *s = arg;
    g_basic = s;
    s->wg = goc_wg_new();
    TU_CHECK(s->wg != NULL);
    if (s->wg == NULL)
        return;
    for (int round = 0; round < 3; round++) {
        atomic_store(&s->finished, 0);
        if (round == 1) {
            /* add one at a time */
            for (long i = 0; i < s->n; i++) {
                goc_wg_add(s->wg, 1);
                TU_CHECK_INT_EQ(goc_go(basic_worker, (void *)(uintptr_t)i), 0);
            }
        } else {
            goc_wg_add(s->wg, (int)s->n);
            for (long i = 0; i < s->n; i++)
                TU_CHECK_INT_EQ(goc_go(basic_worker, (void *)(uintptr_t)i), 0);
        }
        TU_CHECK_INT_EQ(goc_wg_wait(s->wg), 0);
        /* wait returned only once every worker had called done */
        if (atomic_load(&s->finished) != s->n)
            atomic_fetch_add(&s->early_release, 1);
        /* the wg is reusable once wait returned (as in Go) */
    }
    goc_wg_free(s->wg);
}

static void test_wg_basic(void **state)
{
    (void)state;
    basic_state s;
    memset(&s, 0, sizeof s);
    s.n = 1000;
    TU_RUN(NULL, main_basic, &s);
    assert_int_equal(atomic_load(&s.early_release), 0);
    assert_int_equal(atomic_load(&s.finished), s.n);
}

/* ------------------------------------------------------- zero counter */

static void main_zero(void *arg)
{
    (void)arg;
    goc_wg *wg = goc_wg_new();
    TU_CHECK(wg != NULL);
    if (wg == NULL)
        return;
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_wg_wait(wg), 0); /* fresh: zero */
    goc_wg_add(wg, 3);
    goc_wg_add(wg, -2);
    goc_wg_done(wg);
    TU_CHECK_INT_EQ(goc_wg_wait(wg), 0); /* back to zero */
    goc_wg_add(wg, 0);
    TU_CHECK_INT_EQ(goc_wg_wait(wg), 0);
    TU_CHECK(goc_now() - t0 < 5 * TU_SEC);
    goc_wg_free(wg);
}

static void test_wg_zero_returns_at_once(void **state)
{
    (void)state;
    TU_RUN(NULL, main_zero, NULL);
}

/* --------------------------------------------------- several waiters */

#define WAITERS 10
typedef struct {
    goc_wg *wg;
    goc_wg *all_out;
    atomic_int released;
    atomic_int bad_rc;
} multi_state;

static void multi_waiter(void *arg)
{
    multi_state *s = arg;
    int r = goc_wg_wait(s->wg);
    if (r != 0)
        atomic_fetch_add(&s->bad_rc, 1);
    atomic_fetch_add(&s->released, 1);
    goc_wg_done(s->all_out);
}

static void main_multi(void *arg)
{
    multi_state *s = arg;
    s->wg = goc_wg_new();
    s->all_out = goc_wg_new();
    TU_CHECK(s->wg != NULL && s->all_out != NULL);
    goc_wg_add(s->wg, 2);
    goc_wg_add(s->all_out, WAITERS);
    for (int i = 0; i < WAITERS; i++)
        TU_CHECK_INT_EQ(goc_go(multi_waiter, s), 0);
    goc_sleep(20 * TU_MS);
    TU_CHECK_INT_EQ(atomic_load(&s->released), 0); /* they do block */
    goc_wg_done(s->wg);
    goc_sleep(20 * TU_MS);
    TU_CHECK_INT_EQ(atomic_load(&s->released), 0); /* still 1 left */
    goc_wg_done(s->wg);
    TU_CHECK_INT_EQ(goc_wg_wait(s->all_out), 0);
    TU_CHECK_INT_EQ(atomic_load(&s->released), WAITERS);
    goc_wg_free(s->wg);
    goc_wg_free(s->all_out);
}

static void test_wg_multiple_waiters(void **state)
{
    (void)state;
    multi_state s;
    memset(&s, 0, sizeof s);
    TU_RUN(NULL, main_multi, &s);
    assert_int_equal(atomic_load(&s.released), WAITERS);
    assert_int_equal(atomic_load(&s.bad_rc), 0);
}

/* ------------------------------------------------------ cancel a waiter */

typedef struct {
    goc_wg *wg;
    atomic_int started;
    atomic_int rc[3];
    atomic_int returned[3];
} cw_state;

static cw_state *g_cw;

static void *cw_waiter(void *arg)
{
    int i = (int)(uintptr_t)arg;
    atomic_fetch_add(&g_cw->started, 1);
    atomic_store(&g_cw->rc[i], goc_wg_wait(g_cw->wg));
    atomic_store(&g_cw->returned[i], 1);
    return NULL;
}

static void main_cancel_waiter(void *arg)
{
    cw_state *s = arg;
    g_cw = s;
    s->wg = goc_wg_new();
    TU_CHECK(s->wg != NULL);
    goc_wg_add(s->wg, 1);
    for (int i = 0; i < 3; i++)
        atomic_store(&s->rc[i], 1);
    goc_task *a = goc_spawn(cw_waiter, (void *)(uintptr_t)0);
    goc_task *b = goc_spawn(cw_waiter, (void *)(uintptr_t)1);
    TU_CHECK(a != NULL && b != NULL);
    int64_t end = goc_now() + 10 * TU_SEC;
    while (atomic_load(&s->started) < 2 && goc_now() < end)
        goc_sleep(TU_MS);
    goc_sleep(10 * TU_MS);
    TU_CHECK_INT_EQ(goc_cancel(a), 0);
    TU_CHECK_INT_EQ(goc_join(a, NULL), GOC_ECANCELED);
    TU_CHECK_INT_EQ(atomic_load(&s->rc[0]), GOC_ECANCELED);
    /* the other waiter is still waiting */
    goc_sleep(10 * TU_MS);
    TU_CHECK_INT_EQ(atomic_load(&s->returned[1]), 0);
    /* and a new waiter can join the wait */
    goc_task *c = goc_spawn(cw_waiter, (void *)(uintptr_t)2);
    TU_CHECK(c != NULL);
    goc_sleep(10 * TU_MS);
    TU_CHECK_INT_EQ(atomic_load(&s->returned[2]), 0);
    goc_wg_done(s->wg);
    TU_CHECK_INT_EQ(goc_join(b, NULL), 0);
    TU_CHECK_INT_EQ(goc_join(c, NULL), 0);
    TU_CHECK_INT_EQ(atomic_load(&s->rc[1]), 0);
    TU_CHECK_INT_EQ(atomic_load(&s->rc[2]), 0);
    /* a cancelled coroutine's wait on a busy wg fails at once */
    goc_wg_add(s->wg, 1);
    for (int i = 0; i < 3; i++)
        atomic_store(&s->returned[i], 0);
    atomic_store(&s->rc[0], 1);
    goc_task *d = goc_spawn(cw_waiter, (void *)(uintptr_t)0);
    TU_CHECK(d != NULL);
    TU_CHECK_INT_EQ(goc_cancel(d), 0);
    TU_CHECK_INT_EQ(goc_join(d, NULL), GOC_ECANCELED);
    TU_CHECK_INT_EQ(atomic_load(&s->rc[0]), GOC_ECANCELED);
    goc_wg_done(s->wg);
    TU_CHECK_INT_EQ(goc_wg_wait(s->wg), 0);
    goc_wg_free(s->wg);
}

static void test_wg_cancel_waiter(void **state)
{
    (void)state;
    cw_state s;
    memset(&s, 0, sizeof s);
    TU_RUN(NULL, main_cancel_waiter, &s);
}

/* ----------------------------------------------------------- bad input */

static void main_null(void *arg)
{
    (void)arg;
    TU_CHECK_INT_EQ(goc_wg_wait(NULL), GOC_EINVAL);
    /* the void functions ignore NULL */
    goc_wg_add(NULL, 1);
    goc_wg_add(NULL, -1);
    goc_wg_done(NULL);
    goc_wg_free(NULL);
    TU_CHECK_INT_EQ(goc_sleep(TU_MS), 0);
}

static void test_wg_null(void **state)
{
    (void)state;
    TU_RUN(NULL, main_null, NULL);
}

/* ------------------------------------------ done from many workers at once */

typedef struct {
    goc_wg *wg;
    atomic_long done_calls;
    atomic_int rounds_bad;
} stress_state;

static void stress_doer(void *arg)
{
    stress_state *s = arg;
    atomic_fetch_add(&s->done_calls, 1);
    goc_wg_done(s->wg);
}

static void main_stress(void *arg)
{
    stress_state *s = arg;
    s->wg = goc_wg_new();
    TU_CHECK(s->wg != NULL);
    const int rounds = TU_SCALE(200), per = 100;
    for (int r = 0; r < rounds; r++) {
        atomic_store(&s->done_calls, 0);
        goc_wg_add(s->wg, per);
        for (int i = 0; i < per; i++)
            TU_CHECK_INT_EQ(goc_go(stress_doer, s), 0);
        TU_CHECK_INT_EQ(goc_wg_wait(s->wg), 0);
        if (atomic_load(&s->done_calls) != per)
            atomic_fetch_add(&s->rounds_bad, 1);
    }
    goc_wg_free(s->wg);
}

static void test_wg_stress_rounds(void **state)
{
    (void)state;
    stress_state s;
    memset(&s, 0, sizeof s);
    TU_RUN(NULL, main_stress, &s);
    assert_int_equal(atomic_load(&s.rounds_bad), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wg_negative_aborts), /* forks: keep first */
        cmocka_unit_test(test_wg_add_races_zero_crossing), /* forks */
        cmocka_unit_test(test_wg_basic),
        cmocka_unit_test(test_wg_zero_returns_at_once),
        cmocka_unit_test(test_wg_multiple_waiters),
        cmocka_unit_test(test_wg_cancel_waiter),
        cmocka_unit_test(test_wg_null),
        cmocka_unit_test(test_wg_stress_rounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
