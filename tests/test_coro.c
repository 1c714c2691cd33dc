/*
 * test_coro.c - coroutines: goc_spawn/goc_join, goc_go, goc_yield ordering
 * and fairness, cancellation, spreading CPU-bound work over workers, and
 * stack use within the default stack.
 */
#include "test_util.h"

/* ------------------------------------------------- spawn and join many */

static void *ret_arg_times_3(void *arg)
{
    uintptr_t v = (uintptr_t)arg;
    if (v % 7 == 0)
        goc_yield();
    return (void *)(v * 3 + 1);
}

typedef struct {
    long n;
    atomic_long joined_ok;
    unsigned long long sum;
} many_state;

static void main_spawn_join_many(void *arg)
{
    many_state *s = arg;
    goc_task **t = calloc((size_t)s->n, sizeof *t);
    TU_CHECK(t != NULL);
    if (t == NULL)
        return;
    for (long i = 0; i < s->n; i++) {
        t[i] = goc_spawn(ret_arg_times_3, (void *)(uintptr_t)(i + 1));
        TU_CHECK(t[i] != NULL);
        /* give the other worker something to steal now and then */
        if (i % 4096 == 0)
            goc_yield();
    }
    for (long i = 0; i < s->n; i++) {
        if (t[i] == NULL)
            continue;
        void *res = NULL;
        int r = goc_join(t[i], &res);
        TU_CHECK_INT_EQ(r, 0);
        if (r == 0) {
            atomic_fetch_add(&s->joined_ok, 1);
            s->sum += (uintptr_t)res;
            /* each result belongs to its own task */
            if ((uintptr_t)res != (uintptr_t)(i + 1) * 3 + 1)
                TU_CHECK_INT_EQ((uintptr_t)res, (uintptr_t)(i + 1) * 3 + 1);
        }
    }
    free(t);
}

static void test_spawn_join_many(void **state)
{
    (void)state;
    many_state s;
    memset(&s, 0, sizeof s);
    s.n = TU_SCALE_LIVE(100000);
    TU_RUN(NULL, main_spawn_join_many, &s);
    unsigned long long n = (unsigned long long)s.n;
    /* sum over i=1..n of 3i+1 */
    assert_int_equal(atomic_load(&s.joined_ok), s.n);
    assert_true(s.sum == 3ULL * n * (n + 1) / 2 + n);
}

/* ---------------------------------------------------- a tree of spawns */

/* 2^13 - 1 coroutines; 2^9 - 1 under TSan (a fiber each, see TU_SAN_FIBER_DIV) */
#if TU_SAN_FIBER_DIV >= 1000
#define TREE_DEPTH 8
#else
#define TREE_DEPTH 12
#endif

static void *tree(void *arg)
{
    uintptr_t depth = (uintptr_t)arg;
    if (depth == 0)
        return (void *)(uintptr_t)1;
    goc_task *a = goc_spawn(tree, (void *)(depth - 1));
    goc_task *b = goc_spawn(tree, (void *)(depth - 1));
    TU_CHECK(a != NULL && b != NULL);
    void *ra = NULL, *rb = NULL;
    if (a)
        TU_CHECK_INT_EQ(goc_join(a, &ra), 0);
    if (b)
        TU_CHECK_INT_EQ(goc_join(b, &rb), 0);
    return (void *)((uintptr_t)ra + (uintptr_t)rb + 1);
}

static void main_tree(void *arg)
{
    uintptr_t *out = arg;
    goc_task *t = goc_spawn(tree, (void *)(uintptr_t)TREE_DEPTH);
    TU_CHECK(t != NULL);
    void *r = NULL;
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, &r), 0);
    *out = (uintptr_t)r;
}

static void test_spawn_tree(void **state)
{
    (void)state;
    uintptr_t r = 0;
    TU_RUN(NULL, main_tree, &r);
    /* leaves: 2^depth (value 1 each), inner nodes 2^depth - 1 (+1 each) */
    assert_int_equal(r, (1u << TREE_DEPTH) + (1u << TREE_DEPTH) - 1);
}

/* ------------------------------------------------ goc_go many with a wg */

typedef struct {
    long n;
    atomic_long sum;
    atomic_long count;
    goc_wg *wg;
} go_state;

static go_state *g_go;

static void go_child(void *arg)
{
    uintptr_t v = (uintptr_t)arg;
    if (v % 3 == 0)
        goc_yield();
    atomic_fetch_add(&g_go->sum, (long)v);
    atomic_fetch_add(&g_go->count, 1);
    goc_wg_done(g_go->wg);
}

static void main_go_many(void *arg)
{
    go_state *s = arg;
    g_go = s;
    s->wg = goc_wg_new();
    TU_CHECK(s->wg != NULL);
    goc_wg_add(s->wg, (int)s->n);
    for (long i = 0; i < s->n; i++)
        TU_CHECK_INT_EQ(goc_go(go_child, (void *)(uintptr_t)(i + 1)), 0);
    TU_CHECK_INT_EQ(goc_wg_wait(s->wg), 0);
    /* wait returned: every child has counted */
    TU_CHECK_INT_EQ(atomic_load(&s->count), s->n);
    goc_wg_free(s->wg);
}

static void test_go_many_wg(void **state)
{
    (void)state;
    go_state s;
    memset(&s, 0, sizeof s);
    s.n = TU_SCALE_LIVE(100000);
    TU_RUN(NULL, main_go_many, &s);
    assert_int_equal(atomic_load(&s.count), s.n);
    assert_int_equal(atomic_load(&s.sum), s.n * (s.n + 1) / 2);
}

/* ---------------------------------------------------- bad arguments */

static void main_bad_args(void *arg)
{
    (void)arg;
    TU_CHECK_INT_EQ(goc_go(NULL, NULL), GOC_EINVAL);
    TU_CHECK(goc_spawn(NULL, NULL) == NULL);
    TU_CHECK_INT_EQ(goc_join(NULL, NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_cancel(NULL), GOC_EINVAL);
    /* the caller is fine afterwards */
    TU_CHECK_INT_EQ(goc_cancelled(), 0);
    TU_CHECK_INT_EQ(goc_sleep(TU_MS), 0);
}

static void test_bad_args(void **state)
{
    (void)state;
    TU_RUN(NULL, main_bad_args, NULL);
}

/* --------------------------------------------------- yield interleaving */

/* Three coroutines record their name and yield, YI_ROUNDS times each. On
 * one worker a yielder goes to the back of the FIFO run queue, so the
 * record is round-robin: every 3 consecutive entries are A, B and C in
 * some order. (With two coroutines a LIFO "next slot" would alternate too;
 * three tell FIFO from LIFO.) */
#define YI_N 3
#define YI_ROUNDS 50
typedef struct {
    atomic_int pos;
    char order[YI_N * YI_ROUNDS + 1];
    atomic_int done[YI_N];
} yi_state;

static yi_state *g_yi;

static void *yi_worker(void *arg)
{
    char me = (char)(uintptr_t)arg;
    for (int i = 0; i < YI_ROUNDS; i++) {
        int p = atomic_fetch_add(&g_yi->pos, 1);
        if (p < YI_N * YI_ROUNDS)
            g_yi->order[p] = me;
        goc_yield();
    }
    atomic_store(&g_yi->done[me - 'A'], 1);
    return NULL;
}

static void main_yield_interleave(void *arg)
{
    g_yi = arg;
    goc_task *t[YI_N];
    for (int i = 0; i < YI_N; i++) {
        t[i] = goc_spawn(yi_worker, (void *)(uintptr_t)('A' + i));
        TU_CHECK(t[i] != NULL);
    }
    for (int i = 0; i < YI_N; i++)
        if (t[i])
            TU_CHECK_INT_EQ(goc_join(t[i], NULL), 0);
}

static void test_yield_interleave(void **state)
{
    (void)state;
    yi_state s;
    memset(&s, 0, sizeof s);
    TU_RUN(NULL, main_yield_interleave, &s);
    assert_int_equal(atomic_load(&s.pos), YI_N * YI_ROUNDS);
    for (int i = 0; i < YI_N; i++)
        assert_int_equal(atomic_load(&s.done[i]), 1);
    if (tu_env_workers() == 1) {
        for (int i = YI_N; i < YI_N * YI_ROUNDS; i++) {
            if (s.order[i] != s.order[i - YI_N])
                fail_msg("not round-robin at %d: %s", i, s.order);
        }
        assert_true(s.order[0] != s.order[1] && s.order[1] != s.order[2] &&
                    s.order[0] != s.order[2]);
    }
}

/* A coroutine that polls a flag with goc_yield sees another coroutine set
 * it, even on one worker. */
static void set_flag_later(void *arg)
{
    atomic_int *flag = arg;
    for (int i = 0; i < 10; i++)
        goc_yield();
    atomic_store(flag, 1);
}

static void main_yield_poll(void *arg)
{
    atomic_int *flag = arg;
    TU_CHECK_INT_EQ(goc_go(set_flag_later, flag), 0);
    int64_t end = goc_now() + 20 * TU_SEC;
    while (!atomic_load(flag) && goc_now() < end)
        goc_yield();
    TU_CHECK(atomic_load(flag) == 1);
}

static void test_yield_lets_others_run(void **state)
{
    (void)state;
    atomic_int flag = 0;
    TU_RUN(NULL, main_yield_poll, &flag);
    assert_int_equal(atomic_load(&flag), 1);
}

/* --------------------------------------------------------- yield fairness */

typedef struct {
    long iters;
    atomic_int spinners_done;
    atomic_int stop;
    atomic_long third_yields;
    atomic_long third_at_finish;
    goc_wg *wg;
} fair_state;

static fair_state *g_fair;

static void fair_spinner(void *arg)
{
    (void)arg;
    for (long i = 0; i < g_fair->iters; i++)
        goc_yield();
    if (atomic_fetch_add(&g_fair->spinners_done, 1) == 1) {
        /* the last of the two: snapshot the third's progress */
        atomic_store(&g_fair->third_at_finish,
                     atomic_load(&g_fair->third_yields));
        atomic_store(&g_fair->stop, 1);
    }
    goc_wg_done(g_fair->wg);
}

static void fair_third(void *arg)
{
    (void)arg;
    while (!atomic_load(&g_fair->stop)) {
        atomic_fetch_add(&g_fair->third_yields, 1);
        goc_yield();
    }
    goc_wg_done(g_fair->wg);
}

static void main_fairness(void *arg)
{
    fair_state *s = arg;
    g_fair = s;
    s->wg = goc_wg_new();
    TU_CHECK(s->wg != NULL);
    goc_wg_add(s->wg, 3);
    TU_CHECK_INT_EQ(goc_go(fair_spinner, NULL), 0);
    TU_CHECK_INT_EQ(goc_go(fair_spinner, NULL), 0);
    TU_CHECK_INT_EQ(goc_go(fair_third, NULL), 0);
    TU_CHECK_INT_EQ(goc_wg_wait(s->wg), 0);
    goc_wg_free(s->wg);
}

static void test_yield_fairness(void **state)
{
    (void)state;
    fair_state s;
    memset(&s, 0, sizeof s);
    s.iters = TU_SCALE(100000);
    TU_RUN(NULL, main_fairness, &s);
    assert_int_equal(atomic_load(&s.spinners_done), 2);
    long third = atomic_load(&s.third_at_finish);
    /* with one worker and a FIFO it gets about iters turns */
    if (third < s.iters / 100)
        fail_msg("third coroutine starved: %ld yields while the two others "
                 "yielded %ld times each", third, s.iters);
}

/* ------------------------------------------------------------ cancellation */

typedef struct {
    atomic_int started;
    atomic_int sleep_rc;
    atomic_int finished;
    atomic_int cancelled_at_start;
    atomic_int cancelled_at_end;
    int64_t woke_at;
} sleeper_state;

static void *sleeper_10s(void *arg)
{
    sleeper_state *s = arg;
    atomic_store(&s->cancelled_at_start, goc_cancelled());
    atomic_store(&s->started, 1);
    atomic_store(&s->sleep_rc, goc_sleep(10 * TU_SEC));
    s->woke_at = goc_now();
    atomic_store(&s->cancelled_at_end, goc_cancelled());
    atomic_store(&s->finished, 1);
    return (void *)(uintptr_t)0x1234;
}

static void main_cancel_sleeping(void *arg)
{
    sleeper_state *s = arg;
    goc_task *t = goc_spawn(sleeper_10s, s);
    TU_CHECK(t != NULL);
    if (t == NULL)
        return;
    TU_CHECK(tu_wait_flag(&s->started, 10 * TU_SEC));
    goc_sleep(10 * TU_MS); /* it is asleep by now */
    TU_CHECK_INT_EQ(atomic_load(&s->finished), 0);
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_cancel(t), 0);
    TU_CHECK_INT_EQ(goc_cancel(t), 0); /* idempotent */
    int r = goc_join(t, NULL);
    int64_t t1 = goc_now();
    TU_CHECK_INT_EQ(r, GOC_ECANCELED);
    TU_CHECK(t1 - t0 < 5 * TU_SEC);
    TU_CHECK(tu_wait_flag(&s->finished, 5 * TU_SEC));
    TU_CHECK_INT_EQ(atomic_load(&s->sleep_rc), GOC_ECANCELED);
    TU_CHECK(s->woke_at - t0 < 5 * TU_SEC);
    TU_CHECK_INT_EQ(atomic_load(&s->cancelled_at_start), 0);
    TU_CHECK_INT_EQ(atomic_load(&s->cancelled_at_end), 1);
    /* the canceller itself is not cancelled */
    TU_CHECK_INT_EQ(goc_cancelled(), 0);
    TU_CHECK_INT_EQ(goc_sleep(TU_MS), 0);
}

static void test_cancel_sleeping_task(void **state)
{
    (void)state;
    sleeper_state s;
    memset(&s, 0, sizeof s);
    int64_t t0 = tu_clock_ns();
    TU_RUN(NULL, main_cancel_sleeping, &s);
    assert_true(tu_clock_ns() - t0 < 8 * TU_SEC);
    assert_int_equal(atomic_load(&s.sleep_rc), GOC_ECANCELED);
}

static void main_cancel_before_run(void *arg)
{
    sleeper_state *s = arg;
    /* No blocking call between spawn and cancel: with one worker the task
     * cannot have started. */
    goc_task *t = goc_spawn(sleeper_10s, s);
    TU_CHECK(t != NULL);
    if (t == NULL)
        return;
    TU_CHECK_INT_EQ(goc_cancel(t), 0);
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_join(t, NULL), GOC_ECANCELED);
    TU_CHECK(goc_now() - t0 < 5 * TU_SEC);
    TU_CHECK(tu_wait_flag(&s->finished, 5 * TU_SEC));
}

static void test_cancel_before_first_run(void **state)
{
    (void)state;
    sleeper_state s;
    memset(&s, 0, sizeof s);
    TU_RUN(NULL, main_cancel_before_run, &s);
    /* it still ran (C code must get to clean up) ... */
    assert_int_equal(atomic_load(&s.started), 1);
    assert_int_equal(atomic_load(&s.finished), 1);
    /* ... and its first blocking call failed */
    assert_int_equal(atomic_load(&s.sleep_rc), GOC_ECANCELED);
    assert_int_equal(atomic_load(&s.cancelled_at_end), 1);
    if (tu_env_workers() == 1)
        assert_int_equal(atomic_load(&s.cancelled_at_start), 1);
}

/* goc_cancelled() turns to 1 for a task that never blocks. */
static void *poll_cancelled(void *arg)
{
    atomic_int *seen = arg;
    int64_t end = goc_now() + 20 * TU_SEC;
    while (!goc_cancelled() && goc_now() < end)
        goc_yield();
    atomic_store(seen, goc_cancelled());
    return NULL;
}

static void main_cancelled_flag(void *arg)
{
    atomic_int *seen = arg;
    goc_task *t = goc_spawn(poll_cancelled, seen);
    TU_CHECK(t != NULL);
    if (t == NULL)
        return;
    goc_sleep(5 * TU_MS);
    TU_CHECK_INT_EQ(atomic_load(seen), 0);
    TU_CHECK_INT_EQ(goc_cancel(t), 0);
    /* t was cancelled: join says so even though t returned normally */
    TU_CHECK_INT_EQ(goc_join(t, NULL), GOC_ECANCELED);
}

static void test_cancelled_flag(void **state)
{
    (void)state;
    atomic_int seen = 0;
    TU_RUN(NULL, main_cancelled_flag, &seen);
    assert_int_equal(atomic_load(&seen), 1);
}

/* ------------------------------------------------------------------ join */

static void *slow_result(void *arg)
{
    goc_sleep(20 * TU_MS);
    return arg;
}

static void *fast_result(void *arg)
{
    return arg;
}

static void main_join_results(void *arg)
{
    (void)arg;
    static int a, b, c;
    void *r = NULL;

    /* joined while it still runs */
    goc_task *t = goc_spawn(slow_result, &a);
    TU_CHECK(t != NULL);
    TU_CHECK_INT_EQ(goc_join(t, &r), 0);
    TU_CHECK(r == &a);

    /* joined after it ended */
    t = goc_spawn(fast_result, &b);
    TU_CHECK(t != NULL);
    goc_sleep(10 * TU_MS);
    r = NULL;
    TU_CHECK_INT_EQ(goc_join(t, &r), 0);
    TU_CHECK(r == &b);

    /* result pointer may be NULL */
    t = goc_spawn(slow_result, &c);
    TU_CHECK(t != NULL);
    TU_CHECK_INT_EQ(goc_join(t, NULL), 0);

    /* a NULL result value comes through as NULL */
    t = goc_spawn(fast_result, NULL);
    TU_CHECK(t != NULL);
    r = &a;
    TU_CHECK_INT_EQ(goc_join(t, &r), 0);
    TU_CHECK(r == NULL);

    /* join consumes the handle even when it fails (a cancelled task):
     * ASan's leak check catches a handle left behind */
    t = goc_spawn(slow_result, &a);
    TU_CHECK(t != NULL);
    goc_cancel(t);
    TU_CHECK_INT_EQ(goc_join(t, NULL), GOC_ECANCELED);
}

static void test_join_results(void **state)
{
    (void)state;
    TU_RUN(NULL, main_join_results, NULL);
}

/* The joiner is cancelled: join returns GOC_ECANCELED at once, the joined
 * task runs on detached, and its handle is still freed (ASan). */
typedef struct {
    atomic_int inner_done;
    atomic_int join_rc;
    atomic_int joiner_started;
} joiner_state;

static void *slow_inner(void *arg)
{
    joiner_state *s = arg;
    goc_sleep(500 * TU_MS);
    atomic_store(&s->inner_done, 1);
    return NULL;
}

static void *joiner(void *arg)
{
    joiner_state *s = arg;
    goc_task *inner = goc_spawn(slow_inner, s);
    TU_CHECK(inner != NULL);
    atomic_store(&s->joiner_started, 1);
    atomic_store(&s->join_rc, goc_join(inner, NULL));
    return NULL;
}

static void main_cancel_joiner(void *arg)
{
    joiner_state *s = arg;
    atomic_store(&s->join_rc, 1);
    goc_task *j = goc_spawn(joiner, s);
    TU_CHECK(j != NULL);
    TU_CHECK(tu_wait_flag(&s->joiner_started, 10 * TU_SEC));
    goc_sleep(5 * TU_MS);
    TU_CHECK_INT_EQ(goc_cancel(j), 0);
    TU_CHECK_INT_EQ(goc_join(j, NULL), GOC_ECANCELED);
    TU_CHECK_INT_EQ(atomic_load(&s->join_rc), GOC_ECANCELED);
    /* the inner task was not cancelled: it finishes on its own */
    TU_CHECK_INT_EQ(atomic_load(&s->inner_done), 0);
    TU_CHECK(tu_wait_flag(&s->inner_done, 10 * TU_SEC));
}

static void test_cancel_joiner(void **state)
{
    (void)state;
    joiner_state s;
    memset(&s, 0, sizeof s);
    TU_RUN(NULL, main_cancel_joiner, &s);
    assert_int_equal(atomic_load(&s.join_rc), GOC_ECANCELED);
    assert_int_equal(atomic_load(&s.inner_done), 1);
}

/* ------------------------------------------------- CPU-bound on workers */

#define CPU_N 8
typedef struct {
    atomic_int ids[CPU_N];
    atomic_int bad;
    int workers;
    goc_wg *wg;
} cpu_state;

static cpu_state *g_cpu;
static atomic_int g_cpu_next;

static void cpu_bound(void *arg)
{
    (void)arg;
    int me = atomic_fetch_add(&g_cpu_next, 1);
    int id0 = goc_worker_id();
    tu_spin_ns(50 * TU_MS); /* no yield: keeps its worker */
    int id1 = goc_worker_id();
    if (id0 != id1) /* a coroutine never moves while it does not switch */
        atomic_fetch_add(&g_cpu->bad, 1);
    atomic_store(&g_cpu->ids[me], id1);
    goc_wg_done(g_cpu->wg);
}

static void main_cpu_bound(void *arg)
{
    cpu_state *s = arg;
    g_cpu = s;
    atomic_store(&g_cpu_next, 0);
    s->workers = goc_workers();
    s->wg = goc_wg_new();
    TU_CHECK(s->wg != NULL);
    goc_wg_add(s->wg, CPU_N);
    for (int i = 0; i < CPU_N; i++)
        TU_CHECK_INT_EQ(goc_go(cpu_bound, NULL), 0);
    TU_CHECK_INT_EQ(goc_wg_wait(s->wg), 0);
    goc_wg_free(s->wg);
}

static void test_cpu_bound_spread(void **state)
{
    (void)state;
    cpu_state s;
    memset(&s, 0, sizeof s);
    TU_RUN(NULL, main_cpu_bound, &s);
    assert_int_equal(atomic_load(&s.bad), 0);
    int distinct = 0, seen[64] = {0};
    for (int i = 0; i < CPU_N; i++) {
        int id = atomic_load(&s.ids[i]);
        assert_in_range(id, 0, s.workers - 1);
        if (id < 64 && !seen[id]) {
            seen[id] = 1;
            distinct++;
        }
    }
    if (s.workers == 1)
        assert_int_equal(distinct, 1);
    else
        assert_true(distinct > 1); /* idle workers stole work */
}

/* ----------------------------------------------- recursion on the stack */

static __attribute__((noinline)) long recurse(int depth)
{
    volatile char buf[256];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)(depth + (int)i);
    long r = buf[depth % 256];
    if (depth > 0) {
        if (depth % 16 == 0)
            goc_yield(); /* switches with a deep stack */
        r += recurse(depth - 1);
    }
    return r + buf[0];
}

static void *deep(void *arg)
{
    (void)arg;
    /* 64 frames x 256 bytes = 16 KiB of locals in the default 64 KiB */
    return (void *)(uintptr_t)recurse(64);
}

static void main_deep(void *arg)
{
    long *out = arg;
    goc_task *t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = goc_spawn(deep, NULL);
        TU_CHECK(t[i] != NULL);
    }
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        if (t[i])
            TU_CHECK_INT_EQ(goc_join(t[i], &r), 0);
        out[i] = (long)(uintptr_t)r;
    }
    out[4] = recurse(64);
}

/* Names: given at spawn, set by the coroutine itself, cut to
 * GOC_NAME_MAX - 1 bytes, "co-ID" when none; bad input is an error. */
static void *named_child(void *arg)
{
    char buf[GOC_NAME_MAX];
    TU_CHECK_INT_EQ(goc_name(buf, sizeof buf), 6);
    TU_CHECK(strcmp(buf, "worker") == 0);
    TU_CHECK_INT_EQ(goc_set_name("renamed by itself"), 0);
    return arg;
}

static void *unnamed_child(void *arg)
{
    return arg;
}

static void main_names(void *arg)
{
    (void)arg;
    char buf[GOC_NAME_MAX];
    TU_CHECK_INT_EQ(goc_set_name(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_set_name("main loop"), 0);
    TU_CHECK_INT_EQ(goc_name(buf, sizeof buf), 9);
    TU_CHECK(strcmp(buf, "main loop") == 0);
    /* like snprintf: the full length, the copy cut to size - 1 */
    char small[5];
    TU_CHECK_INT_EQ(goc_name(small, sizeof small), 9);
    TU_CHECK(strcmp(small, "main") == 0);
    TU_CHECK_INT_EQ(goc_name(NULL, 0), 9);
    TU_CHECK_INT_EQ(goc_name(NULL, 4), GOC_EINVAL);

    goc_task *t = goc_spawn_named("worker", named_child, NULL);
    TU_CHECK(t != NULL);
    TU_CHECK_INT_EQ(goc_task_name(t, buf, sizeof buf), 6);
    TU_CHECK(strcmp(buf, "worker") == 0);
    while (!goc_done(t))
        goc_yield();
    TU_CHECK(goc_task_name(t, buf, sizeof buf) > 0);
    TU_CHECK(strcmp(buf, "renamed by itself") == 0);
    TU_CHECK_INT_EQ(goc_join(t, NULL), 0);

    /* too long: cut, never overrun */
    char longname[100];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    t = goc_spawn_named(longname, unnamed_child, NULL);
    TU_CHECK(t != NULL);
    TU_CHECK_INT_EQ(goc_task_name(t, buf, sizeof buf), GOC_NAME_MAX - 1);
    TU_CHECK(strncmp(buf, longname, GOC_NAME_MAX - 1) == 0);
    TU_CHECK_INT_EQ(goc_join(t, NULL), 0);

    /* no name: "co-ID", distinct for distinct coroutines */
    goc_task *a = goc_spawn(unnamed_child, NULL);
    goc_task *b = goc_spawn_named(NULL, unnamed_child, NULL);
    TU_CHECK(a != NULL && b != NULL);
    char na[GOC_NAME_MAX], nb[GOC_NAME_MAX];
    goc_task_name(a, na, sizeof na);
    goc_task_name(b, nb, sizeof nb);
    TU_CHECK(strncmp(na, "co-", 3) == 0 && strncmp(nb, "co-", 3) == 0);
    TU_CHECK(strcmp(na, nb) != 0);
    TU_CHECK_INT_EQ(goc_task_name(NULL, buf, sizeof buf), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_task_name(a, NULL, 8), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_join(a, NULL), 0);
    TU_CHECK_INT_EQ(goc_join(b, NULL), 0);
    TU_CHECK_INT_EQ(goc_go_named("fire", NULL, NULL), GOC_EINVAL);
    TU_CHECK(goc_spawn_named("x", NULL, NULL) == NULL);
}

static void test_names(void **state)
{
    (void)state;
    char buf[8];
    assert_int_equal(goc_set_name("outside"), GOC_EPERM);
    assert_int_equal(goc_name(buf, sizeof buf), GOC_EPERM);
    TU_RUN(NULL, main_names, NULL);
}


static void test_deep_recursion_default_stack(void **state)
{
    (void)state;
    long out[5] = {0};
    TU_RUN(NULL, main_deep, out);
    long expect = 0;
    for (int d = 64; d >= 0; d--) {
        /* buf[i] = depth + i (as char); r = buf[depth % 256] + buf[0] */
        expect += (long)(char)(d + d % 256) + (long)(char)d;
    }
    for (int i = 0; i < 5; i++)
        assert_int_equal(out[i], expect);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_join_many),
        cmocka_unit_test(test_spawn_tree),
        cmocka_unit_test(test_go_many_wg),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_yield_interleave),
        cmocka_unit_test(test_yield_lets_others_run),
        cmocka_unit_test(test_yield_fairness),
        cmocka_unit_test(test_cancel_sleeping_task),
        cmocka_unit_test(test_cancel_before_first_run),
        cmocka_unit_test(test_cancelled_flag),
        cmocka_unit_test(test_join_results),
        cmocka_unit_test(test_cancel_joiner),
        cmocka_unit_test(test_cpu_bound_spread),
        cmocka_unit_test(test_deep_recursion_default_stack),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
