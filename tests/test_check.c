/*
 * test_check.c - the GOC_ASSERTS checker itself (sched/check.h): a false
 * goc__assert aborts naming the expression; taking locks against their
 * ranks aborts naming both; channels may nest in address order only;
 * releasing a lock not held aborts. Each case runs in a forked child and
 * must die of SIGABRT with the expected words on stderr. In a build
 * without GOC_ASSERTS the checks compile to nothing and these tests skip.
 */
#include "test_util.h"

#include <signal.h>
#include <sys/wait.h>

#include "runtime.h"

#ifdef GOC_ASSERTS

/* Run fn in a child with stderr to a pipe; 1 if it died of SIGABRT and
 * its stderr contains `want`. */
static int dies_saying(void (*fn)(void), const char *want)
{
    int fds[2];
    if (pipe(fds) != 0)
        return 0;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0); /* did not abort */
    }
    close(fds[1]);
    char buf[1024];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(buf, want) != NULL;
}

static void false_assert(void)
{
    int x = 1;
    goc__assert(x == 2);
}

static void out_of_order(void)
{
    goc_spin gq, timers;
    goc__spin_init(&gq, GOC_RANK_GQ);
    goc__spin_init(&timers, GOC_RANK_TIMERS);
    goc__spin_lock(&gq);
    goc__spin_lock(&timers); /* timers before gq is the rule */
}

static void in_order(void)
{
    goc_spin gq, timers;
    goc__spin_init(&gq, GOC_RANK_GQ);
    goc__spin_init(&timers, GOC_RANK_TIMERS);
    goc__spin_lock(&timers);
    goc__spin_lock(&gq);
    goc__spin_unlock(&gq);
    goc__spin_unlock(&timers);
    abort(); /* reached: the order was accepted */
}

static void same_rank_twice(void)
{
    goc_spin a, b;
    goc__spin_init(&a, GOC_RANK_SYNC);
    goc__spin_init(&b, GOC_RANK_SYNC);
    goc__spin_lock(&a);
    goc__spin_lock(&b);
}

static void chans_descending(void)
{
    char two[2] = { 0, 0 };
    goc__rank_acquire(GOC_RANK_CHAN, &two[1]);
    goc__rank_acquire(GOC_RANK_CHAN, &two[0]);
}

static void chans_ascending(void)
{
    char two[2] = { 0, 0 };
    goc__rank_acquire(GOC_RANK_CHAN, &two[0]);
    goc__rank_acquire(GOC_RANK_CHAN, &two[1]);
    goc__rank_release(GOC_RANK_CHAN, &two[1]);
    goc__rank_release(GOC_RANK_CHAN, &two[0]);
    abort();
}

static void release_unheld(void)
{
    int x = 0;
    goc__rank_release(GOC_RANK_GQ, &x);
}

static void test_assert_aborts(void **state)
{
    (void)state;
    assert_true(dies_saying(false_assert, "internal check failed: x == 2"));
}

static void test_rank_order(void **state)
{
    (void)state;
    assert_true(dies_saying(out_of_order, "taking a timer heap lock"));
    assert_true(dies_saying(out_of_order, "holding a global run queue lock"));
    /* the accepted order reaches the abort() at its end, not a report */
    assert_false(dies_saying(in_order, "lock order violation"));
    assert_true(dies_saying(in_order, ""));
    assert_true(dies_saying(same_rank_twice, "lock order violation"));
    assert_true(dies_saying(chans_descending, "taking a channel lock"));
    assert_false(dies_saying(chans_ascending, "lock order violation"));
    assert_true(dies_saying(release_unheld, "does not hold"));
}

/* A real runtime run with the checker on: channels, a select over two of
 * them, a timer; every lock is taken in rank order and none is held at a
 * switch (any report would abort this test). */
static void checked_main(void *arg)
{
    (void)arg;
    goc_chan *a = goc_chan_make(sizeof(int), 1), *b = goc_chan_make(sizeof(int), 0);
    int v = 7;
    assert_int_equal(goc_chan_send(a, &v), 0);
    goc_case cs[2] = { { .ch = a, .op = GOC_RECV, .elem = &v }, { .ch = b, .op = GOC_RECV, .elem = &v } };
    assert_int_equal(goc_select(cs, 2, 10 * TU_MS), 0);
    assert_int_equal(goc_sleep(TU_MS), 0);
    goc_chan_free(a);
    goc_chan_free(b);
}

static void test_runtime_under_checks(void **state)
{
    (void)state;
    TU_RUN(NULL, checked_main, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assert_aborts),
        cmocka_unit_test(test_rank_order),
        cmocka_unit_test(test_runtime_under_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* no GOC_ASSERTS: nothing to check */

static void test_checks_compiled_out(void **state)
{
    (void)state;
    skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_checks_compiled_out) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
