/*
 * test_util.h - small helpers shared by the goc cmocka tests.
 *
 * Rules the tests follow:
 *   - cmocka's assert_* macros longjmp to the test's setjmp, which is only
 *     valid on the main thread's own stack. Code running inside a coroutine
 *     (on a coroutine stack, possibly on another worker thread) must never
 *     call them. Coroutines use TU_CHECK* instead: a failed check is
 *     recorded (and printed) and TU_RUN() fails the test once goc_run has
 *     returned.
 *   - Every test calls goc_run itself, with cfg.workers = 0 or a NULL cfg,
 *     so the worker count comes from GOC_WORKERS (ctest runs every test
 *     binary with GOC_WORKERS=1 and GOC_WORKERS=2).
 *   - Sanitizer builds (ASan/TSan are 5-20x slower) scale the big counts
 *     down by TU_SAN_DIV; see TU_SCALE().
 */
#ifndef GOC_TEST_UTIL_H
#define GOC_TEST_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "goc.h"

/* ------------------------------------------------------------ sanitizers */

#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define TU_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(TU_ASAN)
#define TU_ASAN 1
#endif
#if __has_feature(thread_sanitizer) && !defined(TU_TSAN)
#define TU_TSAN 1
#endif
#endif

#if defined(TU_TSAN)
#define TU_SANITIZED 1
#define TU_SAN_DIV 100
/* TSan creates a fiber per coroutine and zero-fills its state (hundreds of
 * KiB, first-touched): 2.5-5 ms each on the project's machine, so 10,000
 * live coroutines took 51 s. Counts of coroutines are divided further. */
#define TU_SAN_FIBER_DIV 1000
#elif defined(TU_ASAN)
#define TU_SANITIZED 1
#define TU_SAN_DIV 10
#define TU_SAN_FIBER_DIV 10
#else
#define TU_SANITIZED 0
#define TU_SAN_DIV 1
#define TU_SAN_FIBER_DIV 1
#endif

/* Under GOC_CHAOS (the chaos copies of each test) counts are divided by
 * 10 more: chaos is there to vary interleavings, which a tenth of the
 * iterations explores as well, and it makes each switch dearer. */
static inline long tu_chaos_div(void)
{
    const char *c = getenv("GOC_CHAOS");
    return c && *c && strcmp(c, "0") != 0 ? 10 : 1;
}

/* Big counts (100,000 iterations) are divided by 10 under ASan and by 100
 * under TSan, which are 5-20x slower; TU_SCALE_LIVE is for counts of
 * coroutines created (1,000,000 sleepers), divided by 1000 under TSan.
 * Both divide by 10 more under chaos. The property each test checks does
 * not depend on the count. */
#define TU_SCALE(n) ((n) / TU_SAN_DIV / tu_chaos_div())
#define TU_SCALE_LIVE(n) ((n) / TU_SAN_FIBER_DIV / tu_chaos_div())

#define TU_MS ((int64_t)1000000)
#define TU_SEC ((int64_t)1000000000)

/* ---------------------------------------------- checks inside coroutines */

static atomic_int tu_fail_count;
static char tu_fail_first[512];
static atomic_int tu_fail_claimed;

static inline void tu_check_failed(const char *file, int line, const char *fmt,
                                   ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int n = atomic_fetch_add(&tu_fail_count, 1);
    if (atomic_exchange(&tu_fail_claimed, 1) == 0)
        snprintf(tu_fail_first, sizeof tu_fail_first, "%s:%d: %s", file, line,
                 msg);
    if (n < 20)
        fprintf(stderr, "CHECK FAILED %s:%d: %s\n", file, line, msg);
}

#define TU_CHECK(cond)                                                        \
    do {                                                                      \
        if (!(cond))                                                          \
            tu_check_failed(__FILE__, __LINE__, "%s", #cond);                 \
    } while (0)

#define TU_CHECK_INT_EQ(a, b)                                                 \
    do {                                                                      \
        long long tu_a_ = (long long)(a), tu_b_ = (long long)(b);             \
        if (tu_a_ != tu_b_)                                                   \
            tu_check_failed(__FILE__, __LINE__, "%s == %s (%lld != %lld)",    \
                            #a, #b, tu_a_, tu_b_);                            \
    } while (0)

static inline void tu_checks_reset(void)
{
    atomic_store(&tu_fail_count, 0);
    atomic_store(&tu_fail_claimed, 0);
    tu_fail_first[0] = '\0';
}

/* Fail the current cmocka test if any TU_CHECK failed since the last reset. */
#define TU_ASSERT_NO_CHECK_FAILURES()                                         \
    do {                                                                      \
        int tu_n_ = atomic_load(&tu_fail_count);                              \
        if (tu_n_ != 0)                                                       \
            fail_msg("%d check(s) failed inside coroutines; first: %s",       \
                     tu_n_, tu_fail_first);                                   \
    } while (0)

/* Run goc_run and assert it returned 0 and no TU_CHECK failed. */
#define TU_RUN(cfg, fn, arg)                                                  \
    do {                                                                      \
        tu_checks_reset();                                                    \
        int tu_rc_ = goc_run((cfg), (fn), (arg));                             \
        if (tu_rc_ != 0)                                                      \
            fail_msg("goc_run returned %d (%s)", tu_rc_,                      \
                     goc_strerror(tu_rc_));                                   \
        TU_ASSERT_NO_CHECK_FAILURES();                                        \
    } while (0)

/* A config that takes the worker count from GOC_WORKERS. */
static inline goc_config tu_cfg(size_t stack_size)
{
    goc_config c;
    memset(&c, 0, sizeof c);
    c.workers = 0;
    c.pin = 1;
    c.stack_size = stack_size;
    return c;
}

/* GOC_WORKERS as an int, or 0 when it is unset or not a positive number. */
static inline int tu_env_workers(void)
{
    const char *s = getenv("GOC_WORKERS");
    if (s == NULL || *s == '\0')
        return 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v <= 0 || v > 4096)
        return 0;
    return (int)v;
}

/* Monotonic wall clock of the test itself (independent of goc_now). */
static inline int64_t tu_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * TU_SEC + ts.tv_nsec;
}

/* Busy-spin on the CPU for ns nanoseconds without yielding. */
static inline void tu_spin_ns(int64_t ns)
{
    int64_t end = tu_clock_ns() + ns;
    while (tu_clock_ns() < end) {
        /* burn */
    }
}

/* Inside a coroutine: sleep in small steps until *flag becomes non-zero or
 * timeout_ns passed. Returns 1 if the flag was seen. */
static inline int tu_wait_flag(atomic_int *flag, int64_t timeout_ns)
{
    int64_t end = goc_now() + timeout_ns;
    while (!atomic_load(flag)) {
        if (goc_now() >= end)
            return 0;
        goc_sleep(TU_MS);
    }
    return 1;
}

/* Same with a counter that must reach at least want. */
static inline int tu_wait_count(atomic_long *cnt, long want, int64_t timeout_ns)
{
    int64_t end = goc_now() + timeout_ns;
    while (atomic_load(cnt) < want) {
        if (goc_now() >= end)
            return 0;
        goc_sleep(TU_MS);
    }
    return 1;
}

/* ------------------------------------------------- fork and capture stderr */

typedef struct tu_child {
    int exited;    /* 1: exited normally, see exit_code */
    int exit_code;
    int signaled;  /* 1: killed by signal sig */
    int sig;
    int timed_out; /* 1: the parent had to kill it after the time limit */
    char *err;     /* captured stderr, NUL-terminated (free it) */
    size_t err_len;
} tu_child;

/*
 * Run fn(arg) in a forked child with its stderr captured. The child exits
 * with status 0 if fn returns (fn may _exit itself). A child still running
 * after timeout_s is sent SIGALRM (by its own alarm) and then SIGKILL.
 * Fork before any goc_run in the parent where possible: TSan does not
 * support creating threads in the child of a multi-threaded parent.
 */
static inline void tu_fork_capture(void (*fn)(void *), void *arg,
                                   int timeout_s, tu_child *out)
{
    memset(out, 0, sizeof *out);
    int fds[2];
    if (pipe(fds) != 0)
        fail_msg("pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        alarm((unsigned)timeout_s);
        fn(arg);
        fflush(stdout);
        fflush(stderr);
        _exit(0);
    }
    close(fds[1]);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        fail_msg("out of memory");
    int64_t deadline = tu_clock_ns() + (int64_t)(timeout_s + 5) * TU_SEC;
    int killed = 0;
    for (;;) {
        int64_t left_ms = (deadline - tu_clock_ns()) / TU_MS;
        if (left_ms <= 0 && !killed) {
            kill(pid, SIGKILL);
            killed = 1;
            out->timed_out = 1;
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int pr = poll(&p, 1, killed ? 1000 : (int)(left_ms > 1000 ? 1000 : left_ms));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0)
            continue;
        if (len + 1024 >= cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fail_msg("out of memory");
            }
            buf = nb;
        }
        ssize_t r = read(fds[0], buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fds[0]);
    buf[len] = '\0';
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st)) {
        out->exited = 1;
        out->exit_code = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
        out->signaled = 1;
        out->sig = WTERMSIG(st);
    }
    out->err = buf;
    out->err_len = len;
}

static inline void tu_child_free(tu_child *c)
{
    free(c->err);
    c->err = NULL;
}

/* Print what a child did, for failure messages. */
static inline void tu_child_print(const char *what, const tu_child *c)
{
    fprintf(stderr,
            "---- %s: exited=%d code=%d signaled=%d sig=%d (%s) timed_out=%d\n"
            "---- child stderr (%zu bytes):\n%s\n---- end of child stderr\n",
            what, c->exited, c->exit_code, c->signaled, c->sig,
            c->signaled ? strsignal(c->sig) : "-", c->timed_out, c->err_len,
            c->err ? c->err : "");
}

#endif /* GOC_TEST_UTIL_H */
