/*
 * test_overflow.c - a coroutine that overflows its stack is reported, never
 * silently corrupts memory: the process aborts with a message that says
 * "stack overflow" and gives the stack size.
 *
 * Each case runs in a forked child. Two detectors are exercised:
 *   - 64 KiB stack, recursion without any switch: only a guard page (and a
 *     SIGSEGV handler on an alternate signal stack) can catch it;
 *   - 2048-byte stack, smaller than a page so no guard page fits, with a
 *     goc_yield in every frame: the canary checked at each switch must.
 * Skipped under ASan, which intercepts the overflow itself.
 */
#include "test_util.h"

static volatile long g_limit = 1L << 40; /* never reached: keeps a base case */

static __attribute__((noinline)) long rec_plain(long depth)
{
    volatile char buf[256];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)(depth + (long)i);
    if (depth >= g_limit)
        return buf[0];
    long r = rec_plain(depth + 1); /* not a tail call: r is used below */
    return r + buf[depth % 256];
}

static __attribute__((noinline)) long rec_yield(long depth)
{
    volatile char buf[256];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)(depth + (long)i);
    goc_yield(); /* every switch checks the canary */
    if (depth >= g_limit)
        return buf[0];
    long r = rec_yield(depth + 1);
    return r + buf[depth % 256];
}

typedef struct {
    size_t stack_size;
    int yield_each_frame;
} ov_case;

static ov_case *g_case;

static void *overflower(void *arg)
{
    (void)arg;
    long r = g_case->yield_each_frame ? rec_yield(0) : rec_plain(0);
    return (void *)(uintptr_t)r;
}

static void main_overflow(void *arg)
{
    (void)arg;
    goc_task *t = goc_spawn(overflower, NULL);
    if (t == NULL) {
        fprintf(stderr, "goc_spawn failed\n");
        return;
    }
    goc_join(t, NULL);
    fprintf(stderr, "the overflowing coroutine returned\n");
}

static void child_overflow(void *arg)
{
    g_case = arg;
    goc_config cfg = tu_cfg(g_case->stack_size);
    int r = goc_run(&cfg, main_overflow, NULL);
    fprintf(stderr, "goc_run returned %d\n", r);
}

/* The message gives the size: in bytes ("65536") or in KiB ("64 KiB"). */
static int mentions_size(const char *s, size_t bytes)
{
    char pat[64];
    snprintf(pat, sizeof pat, "%zu", bytes);
    if (strstr(s, pat))
        return 1;
    if (bytes % 1024 == 0) {
        const char *fmts[] = {"%zu KiB", "%zuKiB", "%zu K", "%zuK", "%zu kB",
                              "%zukB", "%zu KB", "%zuKB", "%zu k", "%zuk"};
        for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
            snprintf(pat, sizeof pat, fmts[i], bytes / 1024);
            if (strstr(s, pat))
                return 1;
        }
    }
    return 0;
}

static void check_overflow(size_t stack_size, int yield_each_frame)
{
    ov_case oc = {stack_size, yield_each_frame};
    tu_child c;
    tu_fork_capture(child_overflow, &oc, 30, &c);
    int aborted = c.signaled && c.sig == SIGABRT;
    int said = strcasestr(c.err, "stack overflow") != NULL;
    int sized = mentions_size(c.err, stack_size);
    if (!aborted || !said || !sized) {
        tu_child_print(yield_each_frame ? "overflow (canary)"
                                        : "overflow (guard page)", &c);
        tu_child_free(&c);
        fail_msg("stack %zu bytes: want SIGABRT (%s), \"stack overflow\" "
                 "(%s), the size (%s)", stack_size, aborted ? "ok" : "no",
                 said ? "ok" : "no", sized ? "ok" : "no");
    }
    tu_child_free(&c);
}

static void test_overflow_guard_page(void **state)
{
    (void)state;
#ifdef TU_ASAN
    (void)check_overflow;
    skip();
#else
    check_overflow(64 * 1024, 0);
#endif
}

static void test_overflow_canary_small_stack(void **state)
{
    (void)state;
#ifdef TU_ASAN
    (void)check_overflow;
    skip();
#else
    check_overflow(2048, 1);
#endif
}

static void test_overflow_canary_big_stack(void **state)
{
    (void)state;
#ifdef TU_ASAN
    (void)check_overflow;
    skip();
#else
    /* yields in every frame: whichever detector fires first, it reports */
    check_overflow(64 * 1024, 1);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overflow_guard_page),
        cmocka_unit_test(test_overflow_canary_small_stack),
        cmocka_unit_test(test_overflow_canary_big_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
