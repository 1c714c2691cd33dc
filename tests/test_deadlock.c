/*
 * test_deadlock.c - when every coroutine is parked on channels or sync
 * primitives with no timer left to wake any, goc_run prints "goc: all
 * coroutines are asleep - deadlock!" with a line per coroutine, cancels them
 * all, and returns GOC_EDEADLK once they have ended. Programs that only
 * look stuck (a sleeper that will send, a select with a timeout, main
 * returning while others are blocked) are not deadlocks.
 *
 * Every case runs in a forked child with its stderr captured (the parent
 * never starts a runtime, so it stays single-threaded for TSan). The child
 * exits with CODE_DEADLK when goc_run returned GOC_EDEADLK, CODE_OK when it
 * returned 0, and with CODE_CHECK when a check inside it failed (the check
 * is printed on its stderr).
 */
#include "test_util.h"

#define CODE_OK 20
#define CODE_DEADLK 21
#define CODE_OTHER 22
#define CODE_CHECK 23

#define HEADER "all coroutines are asleep - deadlock!"

typedef struct {
    goc_chan *c1, *c2;
    goc_wg *wg;
    goc_mutex *m;
    goc_sem *s;
    int rc_main;
    int rc_a, rc_b;
    atomic_int a_done, b_done;
    atomic_int a_started, b_started;
    int got;
    int64_t t0, t1;
} dl_state;

static dl_state g_dl;

/* ------------------------------------------------------------ scenarios */

/* main receives from a channel nobody sends on */
static void sc_main_recv(void *arg)
{
    (void)arg;
    g_dl.c1 = goc_chan_make(sizeof(int), 0);
    TU_CHECK(g_dl.c1 != NULL);
    int v = -1;
    g_dl.rc_main = goc_chan_recv(g_dl.c1, &v);
}

/* a waits on c1 then would send on c2; b waits on c2 then would send on
 * c1; main waits for both in a WaitGroup */
static void cyc_a(void *arg)
{
    (void)arg;
    atomic_store(&g_dl.a_started, 1);
    int v = 0;
    g_dl.rc_a = goc_chan_recv(g_dl.c1, &v);
    if (g_dl.rc_a == 0)
        goc_chan_send(g_dl.c2, &v);
    atomic_store(&g_dl.a_done, 1);
    goc_wg_done(g_dl.wg);
}

static void cyc_b(void *arg)
{
    (void)arg;
    atomic_store(&g_dl.b_started, 1);
    int v = 0;
    g_dl.rc_b = goc_chan_recv(g_dl.c2, &v);
    if (g_dl.rc_b == 0)
        goc_chan_send(g_dl.c1, &v);
    atomic_store(&g_dl.b_done, 1);
    goc_wg_done(g_dl.wg);
}

static void sc_cycle(void *arg)
{
    (void)arg;
    g_dl.c1 = goc_chan_make(sizeof(int), 0);
    g_dl.c2 = goc_chan_make(sizeof(int), 0);
    g_dl.wg = goc_wg_new();
    TU_CHECK(g_dl.c1 && g_dl.c2 && g_dl.wg);
    goc_wg_add(g_dl.wg, 2);
    TU_CHECK_INT_EQ(goc_go(cyc_a, NULL), 0);
    TU_CHECK_INT_EQ(goc_go(cyc_b, NULL), 0);
    g_dl.rc_main = goc_wg_wait(g_dl.wg);
}

/* a sleeps 200 ms, then sends: not a deadlock */
static void late_sender(void *arg)
{
    (void)arg;
    goc_sleep(200 * TU_MS);
    int v = 4242;
    g_dl.rc_a = goc_chan_send(g_dl.c1, &v);
    atomic_store(&g_dl.a_done, 1);
}

static void sc_late_sender(void *arg)
{
    (void)arg;
    g_dl.c1 = goc_chan_make(sizeof(int), 0);
    TU_CHECK(g_dl.c1 != NULL);
    g_dl.t0 = goc_now();
    TU_CHECK_INT_EQ(goc_go(late_sender, NULL), 0);
    g_dl.got = -1;
    g_dl.rc_main = goc_chan_recv(g_dl.c1, &g_dl.got);
    g_dl.t1 = goc_now();
    TU_CHECK_INT_EQ(g_dl.rc_main, 0);
    TU_CHECK_INT_EQ(g_dl.got, 4242);
    TU_CHECK(g_dl.t1 - g_dl.t0 >= 200 * TU_MS);
}

/* a coroutine blocked for good, main returns: not a deadlock */
static void stuck_forever(void *arg)
{
    (void)arg;
    atomic_store(&g_dl.a_started, 1);
    int v;
    g_dl.rc_a = goc_chan_recv(g_dl.c1, &v);
    atomic_store(&g_dl.a_done, 1);
}

static void sc_main_returns(void *arg)
{
    (void)arg;
    g_dl.c1 = goc_chan_make(sizeof(int), 0);
    TU_CHECK(g_dl.c1 != NULL);
    TU_CHECK_INT_EQ(goc_go(stuck_forever, NULL), 0);
    TU_CHECK(tu_wait_flag(&g_dl.a_started, 10 * TU_SEC));
    goc_yield();
}

/* main selects with a timeout while another coroutine is stuck: the timer
 * keeps it from being a deadlock */
static void sc_select_timeout(void *arg)
{
    (void)arg;
    g_dl.c1 = goc_chan_make(sizeof(int), 0);
    g_dl.c2 = goc_chan_make(sizeof(int), 0);
    TU_CHECK(g_dl.c1 && g_dl.c2);
    TU_CHECK_INT_EQ(goc_go(stuck_forever, NULL), 0);
    int v = -1;
    goc_case c = {.ch = g_dl.c2, .op = GOC_RECV, .elem = &v};
    g_dl.t0 = goc_now();
    g_dl.rc_main = goc_select(&c, 1, 150 * TU_MS);
    g_dl.t1 = goc_now();
    TU_CHECK(g_dl.t1 - g_dl.t0 >= 150 * TU_MS);
}

/* a mutex held across a sleep: waiting for it is not a deadlock */
static void holder(void *arg)
{
    (void)arg;
    TU_CHECK_INT_EQ(goc_mutex_lock(g_dl.m), 0);
    atomic_store(&g_dl.a_started, 1);
    goc_sleep(150 * TU_MS);
    TU_CHECK_INT_EQ(goc_mutex_unlock(g_dl.m), 0);
    atomic_store(&g_dl.a_done, 1);
}

static void sc_mutex_sleep(void *arg)
{
    (void)arg;
    g_dl.m = goc_mutex_new();
    TU_CHECK(g_dl.m != NULL);
    TU_CHECK_INT_EQ(goc_go(holder, NULL), 0);
    TU_CHECK(tu_wait_flag(&g_dl.a_started, 10 * TU_SEC));
    g_dl.rc_main = goc_mutex_lock(g_dl.m);
    if (g_dl.rc_main == 0)
        goc_mutex_unlock(g_dl.m);
}

/* main locks a mutex twice: deadlock on a sync primitive */
static void sc_mutex_twice(void *arg)
{
    (void)arg;
    g_dl.m = goc_mutex_new();
    TU_CHECK(g_dl.m != NULL);
    TU_CHECK_INT_EQ(goc_mutex_lock(g_dl.m), 0);
    g_dl.rc_main = goc_mutex_lock(g_dl.m);
}

/* main acquires from an empty semaphore while a helper waits on a channel */
static void sc_sem_empty(void *arg)
{
    (void)arg;
    g_dl.s = goc_sem_new(0);
    g_dl.c1 = goc_chan_make(0, 0);
    TU_CHECK(g_dl.s && g_dl.c1);
    TU_CHECK_INT_EQ(goc_go(stuck_forever, NULL), 0);
    g_dl.rc_main = goc_sem_acquire(g_dl.s);
}

/* Go's `select {}` */
static void sc_select_forever(void *arg)
{
    (void)arg;
    g_dl.rc_main = goc_select(NULL, 0, -1);
}

static void trivial_main(void *arg)
{
    (void)arg;
    goc_sleep(TU_MS);
}

/* ---------------------------------------------------------- the child */

typedef struct {
    void (*fn)(void *);
    const char *name;
} child_arg;

static void child_run(void *arg)
{
    child_arg *ca = arg;
    memset(&g_dl, 0, sizeof g_dl);
    g_dl.rc_main = g_dl.rc_a = g_dl.rc_b = 12345;
    tu_checks_reset();
    int64_t t0 = tu_clock_ns();
    int r = goc_run(NULL, ca->fn, NULL);
    int64_t el = tu_clock_ns() - t0;
    fprintf(stderr, "[child %s] goc_run returned %d (%s) after %lld ms\n",
            ca->name, r, goc_strerror(r), (long long)(el / TU_MS));
    fprintf(stderr, "[child %s] rc_main=%d rc_a=%d rc_b=%d a_done=%d b_done=%d\n",
            ca->name, g_dl.rc_main, g_dl.rc_a, g_dl.rc_b,
            atomic_load(&g_dl.a_done), atomic_load(&g_dl.b_done));
    /* the runtime can be used again afterwards */
    int r2 = goc_run(NULL, trivial_main, NULL);
    if (r2 != 0)
        tu_check_failed(__FILE__, __LINE__, "second goc_run returned %d", r2);
    if (el > 20 * TU_SEC)
        tu_check_failed(__FILE__, __LINE__, "goc_run took %lld ms",
                        (long long)(el / TU_MS));
    fflush(stderr);
    if (atomic_load(&tu_fail_count) != 0)
        _exit(CODE_CHECK);
    _exit(r == GOC_EDEADLK ? CODE_DEADLK : r == 0 ? CODE_OK : CODE_OTHER);
}

/* --------------------------------------------------------- the parent */

static int count_occurrences(const char *hay, const char *needle)
{
    int n = 0;
    size_t l = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + l, needle))
        n++;
    return n;
}

/* Distinct coroutine ids named in lines after the deadlock header that
 * read "coroutine <number>". */
static int coroutines_named(const char *err)
{
    const char *p = strstr(err, HEADER);
    if (p == NULL)
        return 0;
    unsigned long long ids[64];
    int n = 0;
    while ((p = strstr(p, "coroutine ")) != NULL) {
        p += strlen("coroutine ");
        char *end = NULL;
        unsigned long long id = strtoull(p, &end, 10);
        if (end == p)
            continue;
        int seen = 0;
        for (int i = 0; i < n; i++)
            seen |= ids[i] == id;
        if (!seen && n < 64)
            ids[n++] = id;
    }
    return n;
}

/* Does the text after the deadlock header contain one of the '|'-separated
 * words (case-insensitive)? */
static int mentions_any(const char *err, const char *alts)
{
    const char *rep = strstr(err, HEADER);
    if (rep == NULL)
        return 0;
    /* only the runtime's report: up to the child's own lines */
    const char *end = strstr(rep, "[child ");
    size_t len = end ? (size_t)(end - rep) : strlen(rep);
    char *region = strndup(rep, len);
    if (region == NULL)
        return 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", alts);
    int found = 0;
    for (char *save = NULL, *w = strtok_r(buf, "|", &save); w && !found;
         w = strtok_r(NULL, "|", &save))
        found = strcasestr(region, w) != NULL;
    free(region);
    return found;
}

static void run_child(const char *name, void (*fn)(void *), tu_child *c)
{
    child_arg ca = {fn, name};
    tu_fork_capture(child_run, &ca, 30, c);
}

static void expect_deadlock(const char *name, void (*fn)(void *), int ncoros,
                            const char *const *words, tu_child *c)
{
    run_child(name, fn, c);
    const char *why = NULL;
    if (!c->exited)
        why = "the child did not exit normally";
    else if (c->exit_code == CODE_CHECK)
        why = "a check failed in the child";
    else if (c->exit_code != CODE_DEADLK)
        why = "goc_run did not return GOC_EDEADLK";
    else if (count_occurrences(c->err, HEADER) != 1)
        why = "want the deadlock message exactly once";
    else if (coroutines_named(c->err) < ncoros)
        why = "the report does not name every coroutine";
    for (int i = 0; why == NULL && words && words[i]; i++)
        if (!mentions_any(c->err, words[i]))
            why = "the report does not say what a coroutine waits on";
    if (why) {
        tu_child_print(name, c);
        tu_child_free(c);
        fail_msg("%s: %s (%d coroutines in the program)", name, why, ncoros);
    }
}

static void expect_no_deadlock(const char *name, void (*fn)(void *), tu_child *c)
{
    run_child(name, fn, c);
    const char *why = NULL;
    if (!c->exited)
        why = "the child did not exit normally";
    else if (c->exit_code == CODE_CHECK)
        why = "a check failed in the child";
    else if (c->exit_code != CODE_OK)
        why = "goc_run did not return 0";
    else if (strcasestr(c->err, "deadlock") != NULL)
        why = "a deadlock was reported";
    if (why) {
        tu_child_print(name, c);
        tu_child_free(c);
        fail_msg("%s: %s", name, why);
    }
}

/* Each child reports rc values on its stderr; read one back. */
static int child_value(const tu_child *c, const char *key)
{
    const char *p = strstr(c->err, key);
    if (p == NULL)
        return 99999;
    return atoi(p + strlen(key));
}

static void test_main_recv_nobody_sends(void **state)
{
    (void)state;
    tu_child c;
    static const char *const words[] = {"recv|receive", NULL};
    expect_deadlock("main recv", sc_main_recv, 1, words, &c);
    /* main's recv was cancelled */
    assert_int_equal(child_value(&c, "rc_main="), GOC_ECANCELED);
    tu_child_free(&c);
}

static void test_cycle_with_waitgroup(void **state)
{
    (void)state;
    tu_child c;
    static const char *const words[] = {"WaitGroup|wait group|wg", "recv|receive", NULL};
    expect_deadlock("cycle", sc_cycle, 3, words, &c);
    /* all three were cancelled and ran to their end */
    assert_int_equal(child_value(&c, "rc_main="), GOC_ECANCELED);
    assert_int_equal(child_value(&c, "rc_a="), GOC_ECANCELED);
    assert_int_equal(child_value(&c, "rc_b="), GOC_ECANCELED);
    assert_int_equal(child_value(&c, "a_done="), 1);
    assert_int_equal(child_value(&c, "b_done="), 1);
    tu_child_free(&c);
}

static void test_sync_primitive_deadlocks(void **state)
{
    (void)state;
    tu_child c;
    static const char *const mw[] = {"mutex", NULL};
    expect_deadlock("mutex twice", sc_mutex_twice, 1, mw, &c);
    assert_int_equal(child_value(&c, "rc_main="), GOC_ECANCELED);
    tu_child_free(&c);

    static const char *const sw[] = {"semaphore|sem", NULL};
    expect_deadlock("empty semaphore", sc_sem_empty, 2, sw, &c);
    assert_int_equal(child_value(&c, "rc_main="), GOC_ECANCELED);
    assert_int_equal(child_value(&c, "rc_a="), GOC_ECANCELED);
    tu_child_free(&c);

    expect_deadlock("select {}", sc_select_forever, 1, NULL, &c);
    assert_int_equal(child_value(&c, "rc_main="), GOC_ECANCELED);
    tu_child_free(&c);
}

static void test_late_sender_is_not_deadlock(void **state)
{
    (void)state;
    tu_child c;
    expect_no_deadlock("late sender", sc_late_sender, &c);
    assert_int_equal(child_value(&c, "rc_main="), 0);
    assert_int_equal(child_value(&c, "rc_a="), 0);
    tu_child_free(&c);
}

static void test_not_deadlocks(void **state)
{
    (void)state;
    tu_child c;
    /* main returns: the blocked coroutine is cancelled, goc_run returns 0 */
    expect_no_deadlock("main returns", sc_main_returns, &c);
    assert_int_equal(child_value(&c, "rc_a="), GOC_ECANCELED);
    assert_int_equal(child_value(&c, "a_done="), 1);
    tu_child_free(&c);

    expect_no_deadlock("select with timeout", sc_select_timeout, &c);
    assert_int_equal(child_value(&c, "rc_main="), GOC_ETIMEDOUT);
    tu_child_free(&c);

    expect_no_deadlock("mutex held across a sleep", sc_mutex_sleep, &c);
    assert_int_equal(child_value(&c, "rc_main="), 0);
    assert_int_equal(child_value(&c, "a_done="), 1);
    tu_child_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_main_recv_nobody_sends),
        cmocka_unit_test(test_cycle_with_waitgroup),
        cmocka_unit_test(test_sync_primitive_deadlocks),
        cmocka_unit_test(test_late_sender_is_not_deadlock),
        cmocka_unit_test(test_not_deadlocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
