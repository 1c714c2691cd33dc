/*
 * test_sleep.c - goc_sleep: deadline order, never early, <= 0, cancel,
 * a million concurrent sleepers, and huge durations.
 */
#include "test_util.h"

/* ------------------------------------------------------- deadline order */

#define ORD_N 200
#define ORD_STEP (3 * TU_MS)

/* goc_sleep takes its deadline inside the call: we can only bound it.
 * deadline[i] (taken just before the call) is at or below it. With one
 * worker, nothing runs between that and the sleeper parking, so the clock
 * read by the next coroutine to run there is at or above the time the
 * call took; deadline_hi[i] is that plus the duration (the sleeper leaves
 * its index in `pending`, the next one to run fills it in). A descheduled
 * thread widens the bounds but never makes them wrong. */
typedef struct {
    int64_t dur[ORD_N];
    int64_t deadline[ORD_N];
    int64_t deadline_hi[ORD_N];
    int64_t woke[ORD_N];
    int order[ORD_N];
    atomic_int pending;
    atomic_int next;
    atomic_int rc_bad;
    goc_wg *wg;
} ord_state;

static ord_state *g_ord;

static void ord_bound_pending(ord_state *s)
{
    int p = atomic_exchange(&s->pending, -1);
    if (p >= 0)
        s->deadline_hi[p] = goc_now() + s->dur[p];
}

static void ord_sleeper(void *arg)
{
    int i = (int)(uintptr_t)arg;
    ord_state *s = g_ord;
    ord_bound_pending(s);
    s->deadline[i] = goc_now() + s->dur[i];
    atomic_store(&s->pending, i);
    if (goc_sleep(s->dur[i]) != 0)
        atomic_fetch_add(&s->rc_bad, 1);
    ord_bound_pending(s);
    s->woke[i] = goc_now();
    s->order[atomic_fetch_add(&s->next, 1)] = i;
    goc_wg_done(s->wg);
}

static void main_order(void *arg)
{
    ord_state *s = arg;
    g_ord = s;
    s->wg = goc_wg_new();
    TU_CHECK(s->wg != NULL);
    goc_wg_add(s->wg, ORD_N);
    for (int i = 0; i < ORD_N; i++)
        TU_CHECK_INT_EQ(goc_go(ord_sleeper, (void *)(uintptr_t)i), 0);
    TU_CHECK_INT_EQ(goc_wg_wait(s->wg), 0);
    goc_wg_free(s->wg);
}

static void test_sleep_deadline_order(void **state)
{
    (void)state;
    static ord_state s;
    memset(&s, 0, sizeof s);
    /* durations are a permutation of 1..ORD_N steps, not in spawn order,
     * so waking in registration order would be caught */
    for (int i = 0; i < ORD_N; i++)
        s.dur[i] = (int64_t)(((i * 37) % ORD_N) + 1) * ORD_STEP;
    atomic_store(&s.pending, -1);
    TU_RUN(NULL, main_order, &s);
    assert_int_equal(atomic_load(&s.next), ORD_N);
    assert_int_equal(atomic_load(&s.rc_bad), 0);
    for (int i = 0; i < ORD_N; i++) {
        if (s.woke[i] < s.deadline[i])
            fail_msg("sleeper %d woke %lld ns early", i,
                     (long long)(s.deadline[i] - s.woke[i]));
    }
    if (tu_env_workers() == 1) {
        /* One worker: wake order follows the deadlines. A sleeper that
         * woke after another although its deadline was surely the earlier
         * one (its upper bound below the other's lower bound) is out of
         * order, whatever the scheduling delays. Waking in spawn order
         * would break this: the durations are a permutation, and the
         * bounds are microseconds apart unless the thread was descheduled
         * right there. */
        for (int i = 0; i < ORD_N; i++)
            if (s.deadline_hi[i] < s.deadline[i])
                fail_msg("sleeper %d: no upper bound for its deadline", i);
        for (int k = 1; k < ORD_N; k++) {
            int a = s.order[k - 1], b = s.order[k];
            if (s.deadline_hi[b] < s.deadline[a])
                fail_msg("wake #%d: sleeper %d (deadline +%lld..%lld us) woke "
                         "after sleeper %d (deadline +%lld us or later)",
                         k, b, (long long)(s.deadline[b] - s.deadline[0]) / 1000,
                         (long long)(s.deadline_hi[b] - s.deadline[0]) / 1000,
                         a, (long long)(s.deadline[a] - s.deadline[0]) / 1000);
        }
    }
}

/* ------------------------------------------------------ never wakes early */

static const int64_t early_durs[] = {
    1, 1000, 100000, 999999, 1000000, 1000001, 1500000, 2500000, 10000000,
};
#define EARLY_N (sizeof early_durs / sizeof early_durs[0])

typedef struct {
    atomic_int early;
    atomic_int late;
    atomic_int rc_bad;
    atomic_int done;
} early_state;

static early_state *g_early;

static void early_sleeper(void *arg)
{
    size_t off = (size_t)(uintptr_t)arg;
    for (int round = 0; round < 3; round++) {
        for (size_t k = 0; k < EARLY_N; k++) {
            int64_t d = early_durs[(k + off) % EARLY_N];
            int64_t t0 = goc_now();
            int r = goc_sleep(d);
            int64_t el = goc_now() - t0;
            if (r != 0)
                atomic_fetch_add(&g_early->rc_bad, 1);
            if (el < d)
                atomic_fetch_add(&g_early->early, 1);
            if (el > d + 5 * TU_SEC)
                atomic_fetch_add(&g_early->late, 1);
        }
    }
    atomic_fetch_add(&g_early->done, 1);
}

static void main_early(void *arg)
{
    g_early = arg;
    for (int i = 0; i < 16; i++)
        TU_CHECK_INT_EQ(goc_go(early_sleeper, (void *)(uintptr_t)i), 0);
    /* main sleeps too, with odd sub-millisecond durations */
    for (int i = 0; i < 20; i++) {
        int64_t d = 300000 + i * 77777;
        int64_t t0 = goc_now();
        TU_CHECK_INT_EQ(goc_sleep(d), 0);
        TU_CHECK(goc_now() - t0 >= d);
    }
    int64_t end = goc_now() + 60 * TU_SEC;
    while (atomic_load(&g_early->done) < 16 && goc_now() < end)
        goc_sleep(TU_MS);
    TU_CHECK_INT_EQ(atomic_load(&g_early->done), 16);
}

static void test_sleep_never_early(void **state)
{
    (void)state;
    early_state s;
    memset(&s, 0, sizeof s);
    TU_RUN(NULL, main_early, &s);
    assert_int_equal(atomic_load(&s.done), 16);
    assert_int_equal(atomic_load(&s.rc_bad), 0);
    assert_int_equal(atomic_load(&s.early), 0);
    assert_int_equal(atomic_load(&s.late), 0);
}

/* ------------------------------------------------- zero and negative */

static void flag_setter(void *arg)
{
    atomic_int *flag = arg;
    for (int i = 0; i < 5; i++)
        TU_CHECK_INT_EQ(goc_sleep(0), 0);
    atomic_store(flag, 1);
}

static void main_zero(void *arg)
{
    atomic_int *flag = arg;
    TU_CHECK_INT_EQ(goc_sleep(0), 0);
    TU_CHECK_INT_EQ(goc_sleep(-1), 0);
    TU_CHECK_INT_EQ(goc_sleep(-TU_SEC), 0);
    TU_CHECK_INT_EQ(goc_sleep(INT64_MIN), 0);
    int64_t t0 = goc_now();
    for (int i = 0; i < 1000; i++)
        TU_CHECK_INT_EQ(goc_sleep(0), 0);
    TU_CHECK(goc_now() - t0 < 5 * TU_SEC); /* they do not sleep */
    /* sleep(0) yields: another coroutine gets to run, even on one worker */
    TU_CHECK_INT_EQ(goc_go(flag_setter, flag), 0);
    int64_t end = goc_now() + 20 * TU_SEC;
    while (!atomic_load(flag) && goc_now() < end)
        TU_CHECK_INT_EQ(goc_sleep(-5), 0);
    TU_CHECK(atomic_load(flag) == 1);
}

static void test_sleep_zero_and_negative(void **state)
{
    (void)state;
    atomic_int flag = 0;
    TU_RUN(NULL, main_zero, &flag);
    assert_int_equal(atomic_load(&flag), 1);
}

/* ------------------------------------------------------ cancel a sleeper */

typedef struct {
    atomic_int started;
    atomic_int rc;
    atomic_int finished;
    int64_t slept;
} cs_state;

static void *long_sleeper(void *arg)
{
    cs_state *s = arg;
    int64_t t0 = goc_now(); /* before started: the 20 ms below count from here */
    atomic_store(&s->started, 1);
    atomic_store(&s->rc, goc_sleep(30 * TU_SEC));
    s->slept = goc_now() - t0;
    atomic_store(&s->finished, 1);
    return NULL;
}

static void main_cancel_sleeper(void *arg)
{
    cs_state *s = arg;
    atomic_store(&s->rc, 1);
    goc_task *t = goc_spawn(long_sleeper, s);
    TU_CHECK(t != NULL);
    if (t == NULL)
        return;
    TU_CHECK(tu_wait_flag(&s->started, 10 * TU_SEC));
    goc_sleep(20 * TU_MS);
    TU_CHECK_INT_EQ(atomic_load(&s->finished), 0);
    TU_CHECK_INT_EQ(goc_cancel(t), 0);
    TU_CHECK_INT_EQ(goc_join(t, NULL), GOC_ECANCELED);
    TU_CHECK(tu_wait_flag(&s->finished, 5 * TU_SEC));
}

static void test_sleep_cancel(void **state)
{
    (void)state;
    cs_state s;
    memset(&s, 0, sizeof s);
    int64_t t0 = tu_clock_ns();
    TU_RUN(NULL, main_cancel_sleeper, &s);
    assert_int_equal(atomic_load(&s.finished), 1);
    assert_int_equal(atomic_load(&s.rc), GOC_ECANCELED);
    assert_true(s.slept >= 20 * TU_MS / 2); /* it did sleep until cancelled */
    assert_true(s.slept < 10 * TU_SEC);     /* long before its deadline */
    assert_true(tu_clock_ns() - t0 < 10 * TU_SEC);
}

/* --------------------------------------------- a million concurrent sleepers */

typedef struct {
    long n;
    atomic_long ok;
    atomic_long early;
    atomic_long bad_rc;
    goc_wg *wg;
} mil_state;

static mil_state *g_mil;

static void mil_sleeper(void *arg)
{
    uintptr_t i = (uintptr_t)arg;
    int64_t d = (100 + (int64_t)((i * 7919) % 201)) * TU_MS; /* 100-300 ms */
    int64_t t0 = goc_now();
    int r = goc_sleep(d);
    if (r != 0)
        atomic_fetch_add(&g_mil->bad_rc, 1);
    else if (goc_now() - t0 < d)
        atomic_fetch_add(&g_mil->early, 1);
    else
        atomic_fetch_add(&g_mil->ok, 1);
    goc_wg_done(g_mil->wg);
}

static void main_million(void *arg)
{
    mil_state *s = arg;
    g_mil = s;
    s->wg = goc_wg_new();
    TU_CHECK(s->wg != NULL);
    goc_wg_add(s->wg, (int)s->n);
    long started = 0;
    for (long i = 0; i < s->n; i++) {
        int r = goc_go(mil_sleeper, (void *)(uintptr_t)i);
        if (r != 0) {
            TU_CHECK_INT_EQ(r, 0);
            break;
        }
        started++;
    }
    if (started < s->n)
        goc_wg_add(s->wg, (int)(started - s->n));
    TU_CHECK_INT_EQ(goc_wg_wait(s->wg), 0);
    goc_wg_free(s->wg);
}

static void test_sleep_million(void **state)
{
    (void)state;
    mil_state s;
    memset(&s, 0, sizeof s);
    /* 1,000,000 coroutines alive at once (fewer under sanitizers, chaos) */
    s.n = TU_SCALE_LIVE(1000000);
    int64_t t0 = tu_clock_ns();
    TU_RUN(NULL, main_million, &s);
    int64_t took = tu_clock_ns() - t0;
    assert_int_equal(atomic_load(&s.bad_rc), 0);
    assert_int_equal(atomic_load(&s.early), 0);
    assert_int_equal(atomic_load(&s.ok), s.n);
    fprintf(stderr, "  %ld sleepers finished in %.2f s\n", s.n,
            (double)took / 1e9);
}

/* ------------------------------------------------------------ huge sleeps */

#define HUGE_N 7
typedef struct {
    int64_t dur[HUGE_N];
    atomic_int started[HUGE_N];
    atomic_int finished[HUGE_N];
    atomic_int rc[HUGE_N];
} huge_state;

static huge_state *g_huge;

static void *huge_sleeper(void *arg)
{
    int i = (int)(uintptr_t)arg;
    int64_t d = g_huge->dur[i];
    if (d == 0) /* "just past the clock's range": computed at start */
        d = INT64_MAX - goc_now() + 1;
    atomic_store(&g_huge->started[i], 1);
    atomic_store(&g_huge->rc[i], goc_sleep(d));
    atomic_store(&g_huge->finished[i], 1);
    return NULL;
}

static void main_huge(void *arg)
{
    huge_state *s = arg;
    g_huge = s;
    goc_task *t[HUGE_N];
    for (int i = 0; i < HUGE_N; i++) {
        atomic_store(&s->rc[i], 1);
        t[i] = goc_spawn(huge_sleeper, (void *)(uintptr_t)i);
        TU_CHECK(t[i] != NULL);
    }
    for (int i = 0; i < HUGE_N; i++)
        TU_CHECK(tu_wait_flag(&s->started[i], 10 * TU_SEC));
    /* an overflowed deadline would be in the past and wake at once */
    goc_sleep(100 * TU_MS);
    for (int i = 0; i < HUGE_N; i++)
        TU_CHECK_INT_EQ(atomic_load(&s->finished[i]), 0);
    for (int i = 0; i < HUGE_N; i++)
        if (t[i])
            TU_CHECK_INT_EQ(goc_cancel(t[i]), 0);
    for (int i = 0; i < HUGE_N; i++)
        if (t[i])
            TU_CHECK_INT_EQ(goc_join(t[i], NULL), GOC_ECANCELED);
}

static void test_sleep_huge(void **state)
{
    (void)state;
    huge_state s;
    memset(&s, 0, sizeof s);
    s.dur[0] = INT64_MAX;
    s.dur[1] = INT64_MAX - 1;
    s.dur[2] = INT64_MAX / 2;
    s.dur[3] = 0; /* INT64_MAX - now + 1: now + d overflows by one */
    s.dur[4] = (int64_t)UINT32_MAX * TU_MS + TU_MS; /* 2^32 ms: wraps 32 bits */
    s.dur[5] = (int64_t)UINT32_MAX * TU_MS;
    s.dur[6] = (INT64_MAX / TU_MS) * TU_MS;
    int64_t t0 = tu_clock_ns();
    TU_RUN(NULL, main_huge, &s);
    for (int i = 0; i < HUGE_N; i++) {
        if (atomic_load(&s.rc[i]) != GOC_ECANCELED)
            fail_msg("sleeper %d: goc_sleep returned %d, want GOC_ECANCELED",
                     i, atomic_load(&s.rc[i]));
    }
    assert_true(tu_clock_ns() - t0 < 10 * TU_SEC);
}

/* ------------------------------------------- a yield lets due timers run */

/* asyncio.sleep(0) runs the timers that are due before the yielder gets
 * the loop back. On one worker, a coroutine spinning on goc_yield must see
 * a sleeper whose deadline has passed wake within a yield or two, not
 * after the scheduler's periodic turn (61 picks). */
typedef struct yield_timer_state {
    _Atomic int woke;
    _Atomic int64_t deadline;
    int late_yields;              /* yields begun after the sleeper was due */
} yield_timer_state;

static void yt_sleeper(void *arg)
{
    yield_timer_state *s = arg;
    atomic_store(&s->deadline, goc_now() + TU_MS);
    goc_sleep(TU_MS);
    atomic_store(&s->woke, 1);
}

static void main_yield_timer(void *arg)
{
    yield_timer_state *s = arg;
    TU_CHECK_INT_EQ(goc_go(yt_sleeper, s), 0);
    goc_yield(); /* let it start sleeping */
    int64_t limit = goc_now() + 10 * TU_SEC;
    int64_t due_by = 0;
    while (!atomic_load(&s->woke) && goc_now() < limit) {
        int64_t start = goc_now();
        /* Its timer's deadline is taken inside goc_sleep, after the one it
         * published. One worker: once we see that one, the sleeper has
         * parked (we run only when it switched away), so its timer is due
         * at the latest 1 ms after now, however long the thread was
         * descheduled in between. */
        if (!due_by && atomic_load(&s->deadline))
            due_by = start + TU_MS;
        if (due_by && start > due_by)
            s->late_yields++;
        while (goc_now() - start < 20000)
            ; /* some work between yields: 61 of them take over 1 ms */
        goc_yield();
    }
    TU_CHECK(atomic_load(&s->woke));
    TU_CHECK(s->late_yields <= 2);
    if (s->late_yields > 2)
        fprintf(stderr, "yield: %d yields after the sleeper was due\n", s->late_yields);
}

static void test_yield_runs_due_timers(void **state)
{
    (void)state;
    yield_timer_state s;
    memset(&s, 0, sizeof s);
    goc_config cfg = { .workers = 1, .pin = 0 };
    TU_RUN(&cfg, main_yield_timer, &s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sleep_deadline_order),
        cmocka_unit_test(test_sleep_never_early),
        cmocka_unit_test(test_sleep_zero_and_negative),
        cmocka_unit_test(test_sleep_cancel),
        cmocka_unit_test(test_sleep_huge),
        cmocka_unit_test(test_sleep_million),
        cmocka_unit_test(test_yield_runs_due_timers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
