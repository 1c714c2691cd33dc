/*
 * test_stats.c - goc_read_stats counts what known programs do, and
 * GOC_DEBUG=schedtrace=MS prints lines whose numbers say the same.
 *
 * Each case reads the counters before and after a program with a known
 * lower bound on each count (N spawns, K round trips, N sleeps ...) and
 * checks the difference; counts that depend on the worker count are
 * checked at the count the test runs with (GOC_WORKERS=1 or 2).
 */
#include <alloca.h>

#include "test_util.h"

static goc_stats read_now(void)
{
    goc_stats s;
    memset(&s, 0, sizeof s);
    s.version = GOC_STATS_VERSION;
    int rc = goc_read_stats(&s);
    TU_CHECK_INT_EQ(rc, 0);
    return s;
}

/* Inside a coroutine: sleep until live is back to want (coroutines that
 * finished their work may not have returned yet), up to 5 s. */
static goc_stats wait_live(uint64_t want)
{
    goc_stats s = read_now();
    for (int i = 0; i < 5000 && s.live != want; i++) {
        goc_sleep(TU_MS);
        s = read_now();
    }
    return s;
}

/* ------------------------------------------------------------ bad input */

static void main_bad_input(void *arg)
{
    (void)arg;
    TU_CHECK_INT_EQ(goc_read_stats(NULL), GOC_EINVAL);
    goc_stats s;
    memset(&s, 0, sizeof s);
    TU_CHECK_INT_EQ(goc_read_stats(&s), GOC_EINVAL); /* version 0 */
    s.version = GOC_STATS_VERSION + 1;
    TU_CHECK_INT_EQ(goc_read_stats(&s), GOC_EINVAL);
    TU_CHECK_INT_EQ(s.workers, 0); /* nothing written */
    s.version = GOC_STATS_VERSION;
    TU_CHECK_INT_EQ(goc_read_stats(&s), 0);
    TU_CHECK_INT_EQ(s.version, GOC_STATS_VERSION);
    TU_CHECK_INT_EQ(s.workers, goc_workers());
    TU_CHECK(s.live >= 1); /* main */
    TU_CHECK(s.spawned >= s.live);
}

static void test_stats_bad_input(void **state)
{
    (void)state;
    goc_stats s;
    memset(&s, 0, sizeof s);
    s.version = GOC_STATS_VERSION;
    assert_int_equal(goc_read_stats(&s), GOC_EPERM); /* no runtime */
    assert_int_equal(goc_read_stats(NULL), GOC_EINVAL);
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_bad_input, NULL);
    assert_int_equal(goc_read_stats(&s), GOC_EPERM); /* it has ended */
}

/* --------------------------------------------------------------- spawns */

#define SPAWNS 500

typedef struct {
    goc_chan *gate;
    goc_wg *started;
} spawn_state;

static void blocked_child(void *arg)
{
    spawn_state *st = arg;
    goc_wg_done(st->started);
    goc_chan_recv(st->gate, NULL); /* until closed */
}

static void main_spawns(void *arg)
{
    (void)arg;
    spawn_state st = { goc_chan_make(0, 0), goc_wg_new() };
    goc_stats before = read_now();
    goc_wg_add(st.started, SPAWNS);
    for (int i = 0; i < SPAWNS; i++)
        TU_CHECK_INT_EQ(goc_go(blocked_child, &st), 0);
    goc_wg_wait(st.started);
    goc_stats during = read_now();
    TU_CHECK(during.spawned - before.spawned >= SPAWNS);
    TU_CHECK_INT_EQ(during.live, before.live + SPAWNS); /* all blocked on the gate */
    goc_chan_close(st.gate);
    goc_stats after = wait_live(before.live);
    TU_CHECK_INT_EQ(after.live, before.live);
    TU_CHECK(after.spawned >= during.spawned);
    goc_chan_free(st.gate);
    goc_wg_free(st.started);
}

static void test_stats_spawns(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_spawns, NULL);
}

/* ------------------------------------------------------------- pingpong */

#define ROUNDS 2000

typedef struct {
    goc_chan *ping, *pong;
} pp_state;

static void ponger(void *arg)
{
    pp_state *pp = arg;
    int v;
    while (goc_chan_recv(pp->ping, &v) == 0)
        goc_chan_send(pp->pong, &v);
}

/* Each message of an unbuffered channel makes one side wait for the
 * other: one park per message, and one switch back per park. Counted
 * between two reads, two of them may fall outside: with more than one
 * worker the ponger can park for the first ping before `before` is read,
 * and it counts a park only after it has queued itself, so the last pong
 * can be taken from it before its park is counted. */
static void main_pingpong(void *arg)
{
    (void)arg;
    pp_state pp = { goc_chan_make(sizeof(int), 0), goc_chan_make(sizeof(int), 0) };
    TU_CHECK_INT_EQ(goc_go(ponger, &pp), 0);
    goc_stats before = read_now();
    for (int i = 0; i < ROUNDS; i++) {
        int v = i, back = -1;
        goc_chan_send(pp.ping, &v);
        goc_chan_recv(pp.pong, &back);
        TU_CHECK_INT_EQ(back, i);
    }
    goc_stats after = read_now();
    TU_CHECK(after.parks - before.parks >= 2 * ROUNDS - 2);
    TU_CHECK(after.switches - before.switches >= 2 * ROUNDS - 2);
    goc_chan_close(pp.ping);
    wait_live(before.live - 1);
    goc_chan_free(pp.ping);
    goc_chan_free(pp.pong);
}

static void test_stats_pingpong(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_pingpong, NULL);
}

/* --------------------------------------------------------------- timers */

#define SLEEPERS 50

static void sleeper(void *arg)
{
    goc_wg *wg = arg;
    goc_sleep(2 * TU_MS);
    goc_wg_done(wg);
}

static void main_timers(void *arg)
{
    (void)arg;
    goc_wg *wg = goc_wg_new();
    goc_stats before = read_now();
    goc_wg_add(wg, SLEEPERS);
    for (int i = 0; i < SLEEPERS; i++)
        TU_CHECK_INT_EQ(goc_go(sleeper, wg), 0);
    goc_wg_wait(wg);
    goc_stats after = read_now();
    TU_CHECK(after.timers_fired - before.timers_fired >= SLEEPERS);
    /* every timer fires at or after its deadline: the clock has moved */
    TU_CHECK(after.timer_late_ns > before.timer_late_ns);
    TU_CHECK(after.timer_late_max_ns > 0);
    TU_CHECK(after.timer_late_max_ns <= after.timer_late_ns);
    TU_CHECK(after.timer_late_max_ns < 5 * TU_SEC);
    goc_wg_free(wg);
}

static void test_stats_timers(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_timers, NULL);
}

/* ------------------------------------------------------ steals, wake-ups */

#define FANOUT 64

static void cruncher(void *arg)
{
    goc_wg *wg = arg;
    tu_spin_ns(TU_MS); /* no yield: its worker stays busy, a thief is needed */
    goc_wg_done(wg);
}

static void quick(void *arg)
{
    goc_wg_done(arg);
}

/* A fan-out of busy coroutines queued on main's worker: at 2 workers the
 * other one is woken and steals; at 1 there is nobody to steal or wake.
 * Then bursts of one short coroutine, run by main's worker as soon as
 * main waits: the worker woken for each burst finds nothing (wasted). */
static void main_steals(void *arg)
{
    (void)arg;
    int workers = goc_workers();
    goc_wg *wg = goc_wg_new();
    goc_stats before = read_now();
    goc_wg_add(wg, FANOUT);
    for (int i = 0; i < FANOUT; i++)
        TU_CHECK_INT_EQ(goc_go(cruncher, wg), 0);
    goc_wg_wait(wg);
    for (int i = 0; i < 200; i++) {
        goc_sleep(TU_MS / 5); /* the other worker goes back to sleep */
        goc_wg_add(wg, 1);
        TU_CHECK_INT_EQ(goc_go(quick, wg), 0);
        goc_wg_wait(wg);
    }
    goc_stats after = read_now();
    uint64_t steals = after.steals - before.steals;
    uint64_t tries = after.steal_tries - before.steal_tries;
    uint64_t stolen = after.stolen - before.stolen;
    uint64_t wakeups = after.wakeups - before.wakeups;
    uint64_t wasted = after.wakeups_wasted - before.wakeups_wasted;
    if (workers == 1) {
        TU_CHECK_INT_EQ(after.steal_tries, 0); /* only workers with peers spin */
        TU_CHECK_INT_EQ(after.spins, 0);
    } else {
        TU_CHECK(steals > 0);
        TU_CHECK(tries >= steals);
        TU_CHECK(stolen >= steals);
        TU_CHECK(after.spins - before.spins > 0);
        TU_CHECK(wakeups > 0);
        TU_CHECK(wasted > 0);
        TU_CHECK(after.wakeups_wasted <= after.wakeups);
        TU_CHECK(after.idle_sleeps - before.idle_sleeps > 0);
    }
    goc_wg_free(wg);
}

static void test_stats_steals(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_steals, NULL);
}

/* --------------------------------------------------------------- stacks */

#define DEEP 40
#define DEEP_BYTES (32 * 1024)

typedef struct {
    goc_chan *gate;
    goc_wg *touched;
} deep_state;

static void deep_child(void *arg)
{
    deep_state *st = arg;
    volatile char *p = alloca(DEEP_BYTES); /* on this coroutine's stack */
    for (size_t i = 0; i < DEEP_BYTES; i += 1024)
        p[i] = (char)i;
    goc_wg_done(st->touched);
    goc_chan_recv(st->gate, NULL);
    p[0] = 1;
}

/* DEEP coroutines each with 32 KiB of its stack written, all alive at
 * once: at least DEEP * 32 KiB resident, and no more than reserved. */
static void main_stacks(void *arg)
{
    (void)arg;
    deep_state st = { goc_chan_make(0, 0), goc_wg_new() };
    uint64_t base = read_now().live;
    goc_wg_add(st.touched, DEEP);
    for (int i = 0; i < DEEP; i++)
        TU_CHECK_INT_EQ(goc_go(deep_child, &st), 0);
    goc_wg_wait(st.touched);
    goc_stats s = read_now();
    TU_CHECK(s.stack_committed >= (uint64_t)DEEP * DEEP_BYTES);
    TU_CHECK(s.stack_committed <= s.stack_reserved);
    TU_CHECK(s.stack_reserved >= (uint64_t)DEEP * GOC_STACK_DEFAULT);
    TU_CHECK(s.faults > 0);
    goc_chan_close(st.gate);
    wait_live(base);
    goc_chan_free(st.gate);
    goc_wg_free(st.touched);
}

static void test_stats_stacks(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_stacks, NULL);
}

/* -------------------------------------------------------------- netpoll */

#define MSGS 20

static void echo_server(void *arg)
{
    goc_tcp *l = arg, *c = NULL;
    if (goc_tcp_accept(l, &c, 5 * TU_SEC) != 0)
        return;
    char b;
    while (goc_tcp_read(c, &b, 1, 5 * TU_SEC) == 1) /* parks: no data yet */
        goc_tcp_write(c, &b, 1, 5 * TU_SEC);
    goc_tcp_close(c);
}

/* MSGS one-byte round trips, each read waiting for the peer: each one
 * parks on its socket and is made runnable by the netpoller. */
static void main_netpoll(void *arg)
{
    (void)arg;
    goc_tcp *l = NULL, *c = NULL;
    TU_CHECK_INT_EQ(goc_tcp_listen("127.0.0.1", 0, 8, &l), 0);
    if (!l)
        return;
    TU_CHECK_INT_EQ(goc_go(echo_server, l), 0);
    goc_stats before = read_now();
    TU_CHECK_INT_EQ(goc_tcp_connect("127.0.0.1", goc_tcp_port(l), &c, 5 * TU_SEC), 0);
    for (int i = 0; c && i < MSGS; i++) {
        char b = (char)i, r = 0;
        TU_CHECK_INT_EQ(goc_tcp_write(c, &b, 1, 5 * TU_SEC), 1);
        TU_CHECK_INT_EQ(goc_tcp_read(c, &r, 1, 5 * TU_SEC), 1);
        TU_CHECK_INT_EQ(r, b);
    }
    goc_stats after = read_now();
    TU_CHECK(after.netpoll_events - before.netpoll_events >= MSGS);
    TU_CHECK(after.netpoll_polls + after.netpoll_blocks > before.netpoll_polls + before.netpoll_blocks);
    TU_CHECK(after.netpoll_wakeups <= after.wakeups);
    if (c)
        goc_tcp_close(c);
    wait_live(before.live - 1);
    goc_tcp_close(l);
}

static void test_stats_netpoll(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_netpoll, NULL);
}

/* ----------------------------------------------------------- schedtrace */

#define TRACE_SPAWNS 300
#define TRACE_SLEEPS 10

static void trace_main(void *arg)
{
    (void)arg;
    goc_wg *wg = goc_wg_new();
    goc_wg_add(wg, TRACE_SPAWNS);
    for (int i = 0; i < TRACE_SPAWNS; i++)
        goc_go(quick, wg);
    goc_wg_wait(wg);
    goc_wg_free(wg);
    for (int i = 0; i < TRACE_SLEEPS; i++)
        goc_sleep(TU_MS);
    goc_sleep(400 * TU_MS); /* several 50 ms intervals */
}

static void child_trace(void *arg)
{
    const char *debug = arg;
    if (debug)
        setenv("GOC_DEBUG", debug, 1);
    else
        unsetenv("GOC_DEBUG");
    int rc = goc_run(NULL, trace_main, NULL);
    fflush(stderr);
    _exit(rc == 0 ? 0 : 1);
}

/* The number after "key=" in line, or -1. */
static long long field(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *p = strstr(line, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    if (*p == '[')
        p++;
    return strtoll(p, NULL, 10);
}

static void test_stats_schedtrace(void **state)
{
    (void)state;
    tu_child c;
    tu_fork_capture(child_trace, "schedtrace=50", 30, &c);
    int lines = 0, bad = 0;
    long long last_t = -1, last_spawned = -1, last_switches = -1;
    char line[1024];
    int want_workers = tu_env_workers() ? tu_env_workers() : -1;
    for (const char *p = c.err; (p = strstr(p, "goc: schedtrace ")) != NULL; p++) {
        size_t n = strcspn(p, "\n");
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        long long t = field(line, "t"), spawned = field(line, "spawned");
        long long switches = field(line, "switches");
        lines++;
        /* counters only grow; live <= spawned */
        if (t <= last_t || spawned < last_spawned || switches < last_switches ||
            field(line, "live") < 0 || field(line, "live") > spawned || field(line, "runq") < 0 ||
            (want_workers > 0 && field(line, "workers") != want_workers))
            bad++;
        last_t = t;
        last_spawned = spawned;
        last_switches = switches;
    }
    /* 400 ms at 50 ms: about 8 lines; the last ones come after the spawns
     * (1 + TRACE_SPAWNS, main included) and the short sleeps (timers) */
    if (!c.exited || c.exit_code != 0 || lines < 3 || bad || last_spawned < 1 + TRACE_SPAWNS ||
        field(line, "timers") < TRACE_SLEEPS || strstr(c.err, "blocked for")) {
        tu_child_print("GOC_DEBUG=schedtrace=50", &c);
        tu_child_free(&c);
        fail_msg("want >= 3 well-formed schedtrace lines, the last with spawned >= %d "
                 "and timers >= %d; got %d lines, %d bad, last: \"%s\"",
                 1 + TRACE_SPAWNS, TRACE_SLEEPS, lines, bad, lines ? line : "");
    }
    tu_child_free(&c);
}

static void test_stats_schedtrace_off(void **state)
{
    (void)state;
    tu_child c;
    tu_fork_capture(child_trace, NULL, 30, &c);
    if (!c.exited || c.exit_code != 0 || c.err_len != 0) {
        tu_child_print("GOC_DEBUG unset", &c);
        tu_child_free(&c);
        fail_msg("want a normal exit and nothing on stderr");
    }
    tu_child_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* forks first: TSan wants a single-threaded parent */
        cmocka_unit_test(test_stats_schedtrace),
        cmocka_unit_test(test_stats_schedtrace_off),
        cmocka_unit_test(test_stats_bad_input),
        cmocka_unit_test(test_stats_spawns),
        cmocka_unit_test(test_stats_pingpong),
        cmocka_unit_test(test_stats_timers),
        cmocka_unit_test(test_stats_steals),
        cmocka_unit_test(test_stats_stacks),
        cmocka_unit_test(test_stats_netpoll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
