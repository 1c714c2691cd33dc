/*
 * test_dump.c - goc_dump and the SIGQUIT dump.
 *
 * A "hung" program: coroutines parked on a channel receive nobody sends
 * to, a long sleep, a select, a WaitGroup and a mutex, plus a running one
 * (a spinner on another worker at 2 workers; main itself, the caller, at
 * 1). The dump must show each one's id, name, state, what it waits on
 * (with the object's address and op, the sleep's deadline), the spawn
 * site and, when goc was built with libunwind (GOC_TEST_BACKTRACES), a
 * backtrace naming the test function that parked.
 *   - dump_content: goc_dump into a memfd, checked line by line;
 *   - sigquit: a forked child runs the hung program, the parent sends it
 *     SIGQUIT, reads the dump from the child's stderr and checks it, then
 *     releases the child, which must finish normally (it kept running);
 *   - no_runtime: GOC_EPERM outside goc_run.
 */
#include "test_util.h"

#include <fcntl.h>
#include <sys/mman.h>

typedef struct hung {
    goc_chan *rx_ch, *sel_a, *sel_b;
    goc_wg *wg;
    goc_mutex *mu;
    goc_task *rx, *sleeper, *sel, *wg_waiter, *mu_waiter, *spinner;
    atomic_int spin_started, spin_stop;
    int64_t sleep_deadline_lo, sleep_deadline_hi; /* goc_now bounds of the sleep's deadline */
    char sleeper_name[GOC_NAME_MAX];
} hung;

#define SLEEP_NS (60 * TU_SEC)

/* Each parks, then checks the outcome (so the park is no tail call and
 * its frame is on the stack). */
__attribute__((noinline)) static void *dump_rx_fn(void *arg)
{
    hung *h = arg;
    int v = 0;
    TU_CHECK_INT_EQ(goc_chan_recv(h->rx_ch, &v), GOC_ECLOSED);
    return NULL;
}

__attribute__((noinline)) static void *dump_sleep_fn(void *arg)
{
    (void)arg;
    TU_CHECK_INT_EQ(goc_sleep(SLEEP_NS), GOC_ECANCELED);
    return NULL;
}

__attribute__((noinline)) static void *dump_select_fn(void *arg)
{
    hung *h = arg;
    int in = 0, out = 7;
    goc_case cases[2] = {
        { .ch = h->sel_a, .op = GOC_RECV, .elem = &in },
        { .ch = h->sel_b, .op = GOC_SEND, .elem = &out },
    };
    int r = goc_select(cases, 2, -1);
    TU_CHECK(r == 0 || r == 1);
    return NULL;
}

__attribute__((noinline)) static void *dump_wg_fn(void *arg)
{
    hung *h = arg;
    TU_CHECK_INT_EQ(goc_wg_wait(h->wg), 0);
    return NULL;
}

__attribute__((noinline)) static void *dump_mutex_fn(void *arg)
{
    hung *h = arg;
    TU_CHECK_INT_EQ(goc_mutex_lock(h->mu), 0);
    goc_mutex_unlock(h->mu);
    return NULL;
}

static void *dump_spin_fn(void *arg)
{
    hung *h = arg;
    atomic_store(&h->spin_started, 1);
    while (!atomic_load(&h->spin_stop)) {
        /* hold the worker: running, never parked */
    }
    return NULL;
}

/* Called by main: start the hung coroutines. */
static void hung_start(hung *h)
{
    memset(h, 0, sizeof *h);
    h->rx_ch = goc_chan_make(sizeof(int), 0);
    h->sel_a = goc_chan_make(sizeof(int), 0);
    h->sel_b = goc_chan_make(sizeof(int), 0);
    h->wg = goc_wg_new();
    h->mu = goc_mutex_new();
    TU_CHECK(h->rx_ch && h->sel_a && h->sel_b && h->wg && h->mu);
    goc_wg_add(h->wg, 1);
    TU_CHECK_INT_EQ(goc_mutex_lock(h->mu), 0);
    h->rx = goc_spawn_named("rx", dump_rx_fn, h);
    h->sleep_deadline_lo = goc_now() + SLEEP_NS;
    h->sleeper = goc_spawn(dump_sleep_fn, h); /* unnamed: "co-ID" */
    h->sel = goc_spawn_named("sel", dump_select_fn, h);
    h->wg_waiter = goc_spawn_named("wgw", dump_wg_fn, h);
    h->mu_waiter = goc_spawn_named("muw", dump_mutex_fn, h);
    if (goc_workers() >= 2) {
        h->spinner = goc_spawn_named("spin", dump_spin_fn, h);
        TU_CHECK(tu_wait_flag(&h->spin_started, 10 * TU_SEC));
    }
    TU_CHECK(h->rx && h->sleeper && h->sel && h->wg_waiter && h->mu_waiter);
    goc_task_name(h->sleeper, h->sleeper_name, sizeof h->sleeper_name);
    goc_sleep(20 * TU_MS);
    h->sleep_deadline_hi = goc_now() + SLEEP_NS;
}

/* Called by main: release everything and join. */
static void hung_finish(hung *h)
{
    goc_chan_close(h->rx_ch);
    goc_cancel(h->sleeper);
    goc_chan_close(h->sel_a);
    goc_wg_done(h->wg);
    goc_mutex_unlock(h->mu);
    atomic_store(&h->spin_stop, 1);
    goc_task *all[] = { h->rx, h->sleeper, h->sel, h->wg_waiter, h->mu_waiter, h->spinner };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i])
            TU_CHECK(goc_join(all[i], NULL) == 0 || all[i] == h->sleeper);
    goc_chan_free(h->rx_ch);
    goc_chan_free(h->sel_a);
    goc_chan_free(h->sel_b);
    goc_wg_free(h->wg);
    goc_mutex_free(h->mu);
}

/* ----------------------------------------------------- reading a dump */

/* The block of the dump about the coroutine named name: from its
 * "coroutine ID "name"" line to the next coroutine line (malloc'd), or
 * NULL. *id gets its id. */
static char *block_of(const char *dump, const char *name, unsigned long long *id)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", name);
    for (const char *p = dump; (p = strstr(p, "\ncoroutine ")); p++) {
        const char *line = p + 1;
        const char *eol = strchr(line, '\n');
        const char *q = strstr(line, pat);
        if (!q || !eol || q > eol)
            continue;
        if (id)
            *id = strtoull(line + strlen("coroutine "), NULL, 10);
        const char *end = strstr(eol, "\ncoroutine ");
        if (!end)
            end = strstr(eol, "\ngoc: end of coroutine dump");
        if (!end)
            end = eol + strlen(eol);
        return strndup(line, (size_t)(end - line) + 1);
    }
    return NULL;
}

static int has(const char *block, const char *fmt, ...)
{
    char want[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(want, sizeof want, fmt, ap);
    va_end(ap);
    if (block && strstr(block, want))
        return 1;
    fprintf(stderr, "dump: want \"%s\" in:\n%s\n", want, block ? block : "(no block)");
    return 0;
}

/* The backtrace lines of a block (after "backtrace:") mention fn. */
static int backtrace_names(const char *block, const char *fn)
{
#ifdef GOC_TEST_BACKTRACES
    const char *bt = block ? strstr(block, "    backtrace:\n") : NULL;
    /* and exact from the first frame: every park switches away from
     * goc__park, so the frames are goc__switch_* (one or two, as the
     * compiler inlined them) and then goc__park (a context rebuilt from
     * the wrong stack pointer finds stale return addresses instead) */
    int exact = 0;
    for (const char *l = bt ? strchr(bt, '\n') : NULL; l && l[1] == ' '; l = strchr(l + 1, '\n')) {
        const char *eol = strchr(l + 1, '\n');
        const char *park = strstr(l + 1, " goc__park+0x");
        const char *sw = strstr(l + 1, " goc__switch_");
        if (park && (!eol || park < eol)) {
            exact = 1;
            break;
        }
        if (!sw || (eol && sw > eol))
            break;
    }
    if (bt && strstr(bt, fn) && exact)
        return 1;
    fprintf(stderr, "dump: want a backtrace naming %s in:\n%s\n", fn, block ? block : "(none)");
    return 0;
#else
    (void)block;
    (void)fn;
    return 1;
#endif
}

static int spawned_by(const char *block, const char *fn)
{
#ifdef GOC_TEST_BACKTRACES
    return has(block, "    spawned at: %s+0x", fn);
#else
    (void)fn;
    return has(block, "    spawned at: ");
#endif
}

/* 0 when the dump shows the hung program as it is; the number of failed
 * expectations otherwise (quiet: 1 to print nothing). */
static int check_dump(const char *dump, const hung *h, int main_running, int workers)
{
    int bad = 0;
    unsigned long long id = 0;
    bad += !has(dump, "goc: coroutine dump: ");
    bad += !has(dump, "goc: end of coroutine dump");
#ifdef GOC_TEST_BACKTRACES
    bad += strstr(dump, "no backtraces") != NULL;
#endif

    char *b = block_of(dump, "rx", NULL);
    bad += !has(b, "\"rx\": parked\n");
    bad += !has(b, "    waiting on: channel receive (chan %p recv)\n", (void *)h->rx_ch);
    bad += !has(b, "    for: ");
    bad += !spawned_by(b, "hung_start");
    bad += !backtrace_names(b, "dump_rx_fn");
    free(b);

    b = block_of(dump, h->sleeper_name, &id);
    char want[64];
    snprintf(want, sizeof want, "co-%llu", id);
    bad += !(id > 0 && strcmp(want, h->sleeper_name) == 0); /* the id is the coroutine's */
    bad += !has(b, "\": parked\n");
    bad += !has(b, "    waiting on: sleep\n");
    const char *u = b ? strstr(b, "    until: goc_now ") : NULL;
    long long until = u ? strtoll(u + strlen("    until: goc_now "), NULL, 10) : 0;
    if (until < h->sleep_deadline_lo || until > h->sleep_deadline_hi) {
        fprintf(stderr, "dump: sleep deadline %lld not in [%lld, %lld]\n", until,
                (long long)h->sleep_deadline_lo, (long long)h->sleep_deadline_hi);
        bad++;
    }
    bad += !backtrace_names(b, "dump_sleep_fn");
    free(b);

    b = block_of(dump, "sel", NULL);
    bad += !has(b, "\"sel\": parked\n");
    bad += !has(b, "    waiting on: select (2 cases: [0] recv chan %p [1] send chan %p)\n",
                (void *)h->sel_a, (void *)h->sel_b);
    bad += !backtrace_names(b, "dump_select_fn");
    free(b);

    b = block_of(dump, "wgw", NULL);
    bad += !has(b, "\"wgw\": parked\n");
    bad += !has(b, "    waiting on: WaitGroup (%p)\n", (void *)h->wg);
    bad += !backtrace_names(b, "dump_wg_fn");
    free(b);

    b = block_of(dump, "muw", NULL);
    bad += !has(b, "\"muw\": parked\n");
    bad += !has(b, "    waiting on: mutex (%p)\n", (void *)h->mu);
    bad += !backtrace_names(b, "dump_mutex_fn");
    free(b);

    if (workers >= 2) {
        b = block_of(dump, "spin", NULL);
        bad += !has(b, "\"spin\": running on worker ");
        bad += b && strstr(b, "backtrace:") != NULL; /* a running stack is never read */
        free(b);
    }
    if (main_running) {
        bad += !has(dump, "(main): running on worker ");
    }
    return bad;
}

/* The dump of the running runtime, NUL-terminated (malloc'd), via a memfd. */
static char *dump_now(void)
{
    int fd = memfd_create("goc-dump", 0);
    if (fd < 0)
        return NULL;
    int rc = goc_dump(fd);
    TU_CHECK_INT_EQ(rc, 0);
    off_t len = lseek(fd, 0, SEEK_CUR);
    char *s = calloc(1, (size_t)len + 2);
    s[0] = '\n'; /* so that the first line matches "\ncoroutine " too */
    if (s && pread(fd, s + 1, (size_t)len, 0) != len) {
        free(s);
        s = NULL;
    }
    close(fd);
    return s;
}

/* ----------------------------------------------------------- goc_dump */

static void content_main(void *arg)
{
    (void)arg;
    hung h;
    hung_start(&h);
    /* the coroutines park in their own time: look until they all have */
    char *d = NULL;
    int bad = 1;
    int64_t end = goc_now() + 10 * TU_SEC;
    static const char quiet_path[] = "/dev/null";
    while (bad && goc_now() < end) {
        free(d);
        d = dump_now();
        TU_CHECK(d != NULL);
        if (!d)
            break;
        int saved = dup(STDERR_FILENO), null = open(quiet_path, O_WRONLY);
        dup2(null, STDERR_FILENO); /* the misses before all are parked */
        bad = check_dump(d, &h, goc_workers() == 1, goc_workers());
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(null);
        if (bad)
            goc_sleep(10 * TU_MS);
    }
    if (d && getenv("GOC_TEST_DUMP_SHOW")) /* to look at one */
        fprintf(stderr, "%s\n", d);
    if (d && bad) {
        check_dump(d, &h, goc_workers() == 1, goc_workers()); /* say what is wrong */
        fprintf(stderr, "---- the dump ----\n%s\n", d);
    }
    TU_CHECK_INT_EQ(bad, 0);
    free(d);
    hung_finish(&h);
}

static void dump_content(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, content_main, NULL);
}

/* ------------------------------------------------------------ SIGQUIT */

typedef struct sq_child {
    int ready_w;   /* child -> parent: the hung program is up */
    int release_r; /* parent -> child: finish now */
    hung h;
} sq_child;

static void sigquit_child_main(void *arg)
{
    sq_child *c = arg;
    hung_start(&c->h);
    /* tell the parent where things are, then wait to be released */
    if (write(c->ready_w, &c->h, sizeof c->h) != (ssize_t)sizeof c->h)
        TU_CHECK(0);
    char byte;
    int64_t end = goc_now() + 30 * TU_SEC;
    while (read(c->release_r, &byte, 1) != 1 && goc_now() < end)
        goc_sleep(5 * TU_MS);
    hung_finish(&c->h);
    fprintf(stderr, "child: finished after the dump\n");
}

/* Read from fd into *buf until want appears or timeout; returns 1 if seen. */
static int read_until(int fd, char **buf, size_t *len, size_t *cap, const char *want,
                      int64_t timeout_ns)
{
    int64_t end = tu_clock_ns() + timeout_ns;
    for (;;) {
        if (*buf && strstr(*buf, want))
            return 1;
        int64_t left = (end - tu_clock_ns()) / TU_MS;
        if (left <= 0)
            return 0;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        if (*cap - *len < 4096) {
            *cap = *cap * 2 + 8192;
            *buf = realloc(*buf, *cap);
        }
        ssize_t n = read(fd, *buf + *len, *cap - *len - 1);
        if (n <= 0)
            return *buf && strstr(*buf, want);
        *len += (size_t)n;
        (*buf)[*len] = 0;
    }
}

static void sigquit(void **state)
{
    (void)state;
    int err_p[2], ready_p[2], rel_p[2];
    assert_int_equal(pipe(err_p), 0);
    assert_int_equal(pipe(ready_p), 0);
    assert_int_equal(pipe(rel_p), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(err_p[1], STDERR_FILENO);
        close(err_p[0]);
        close(ready_p[0]);
        close(rel_p[1]);
        fcntl(rel_p[0], F_SETFL, O_NONBLOCK);
        alarm(60);
        static sq_child c;
        c.ready_w = ready_p[1];
        c.release_r = rel_p[0];
        goc_config cfg = tu_cfg(0);
        tu_checks_reset();
        int rc = goc_run(&cfg, sigquit_child_main, &c);
        fflush(stderr);
        _exit(rc == 0 && atomic_load(&tu_fail_count) == 0 ? 0 : 3);
    }
    close(err_p[1]);
    close(ready_p[1]);
    close(rel_p[0]);
    hung h;
    ssize_t got = read(ready_p[0], &h, sizeof h);
    assert_int_equal(got, (ssize_t)sizeof h);

    /* the coroutines park in their own time: ask until the dump shows them all */
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int bad = 1;
    int workers = tu_env_workers() ? tu_env_workers() : 1;
    for (int tries = 0; bad && tries < 50; tries++) {
        size_t from = len;
        assert_int_equal(kill(pid, SIGQUIT), 0);
        if (!read_until(err_p[0], &buf, &len, &cap, "goc: end of coroutine dump", 10 * TU_SEC))
            break;
        /* the dump just written: from its header on */
        const char *d = strstr(buf + from, "goc: coroutine dump: ");
        if (!d)
            continue;
        char *copy = malloc(strlen(d) + 2);
        copy[0] = '\n';
        strcpy(copy + 1, d);
        int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
        dup2(null, STDERR_FILENO);
        bad = check_dump(copy, &h, 0, workers);
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(null);
        if (bad && tries == 49)
            check_dump(copy, &h, 0, workers);
        free(copy);
        /* the next dump must be a new one */
        char *e;
        while ((e = strstr(buf, "goc: end of coroutine dump")))
            memcpy(e, "goc: END of coroutine dump", 5 + 3);
        usleep(20000);
    }
    /* main is parked in its release loop (a sleep), not running: not checked */
    assert_int_equal(write(rel_p[1], "x", 1), 1);
    read_until(err_p[0], &buf, &len, &cap, "\x01never", 30 * TU_SEC); /* to EOF */
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    int finished = buf && strstr(buf, "child: finished after the dump") != NULL;
    if (bad || !finished || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "---- child stderr ----\n%s\n", buf ? buf : "");
    free(buf);
    close(err_p[0]);
    close(ready_p[0]);
    close(rel_p[1]);
    assert_int_equal(bad, 0);
    assert_true(finished);                    /* it kept running after SIGQUIT */
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* -------------------------------------------------------------- errors */

static void no_runtime(void **state)
{
    (void)state;
    assert_int_equal(goc_dump(STDERR_FILENO), GOC_EPERM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigquit), /* first: fork before any goc_run (TSan) */
        cmocka_unit_test(dump_content),
        cmocka_unit_test(no_runtime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
