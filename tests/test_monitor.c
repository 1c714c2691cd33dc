/*
 * test_monitor.c - with GOC_DEBUG=1 the runtime names a coroutine that
 * holds its worker for more than 100 ms without yielding; without it, the
 * runtime prints nothing.
 *
 * Each case runs in a forked child with its stderr captured. The child
 * exits with 10 + the worker id the spinning coroutine ran on, so the
 * parent can look for that number in the message.
 */
#include "test_util.h"

typedef struct {
    goc_wg *wg;
    atomic_int worker;
} mon_state;

static void spinner(void *arg)
{
    mon_state *s = arg;
    atomic_store(&s->worker, goc_worker_id());
    tu_spin_ns(300 * TU_MS); /* no yield, no blocking call */
    goc_wg_done(s->wg);
}

static void main_spin(void *arg)
{
    mon_state *s = arg;
    s->wg = goc_wg_new();
    if (s->wg == NULL) {
        fprintf(stderr, "goc_wg_new failed\n");
        return;
    }
    goc_wg_add(s->wg, 1);
    if (goc_go(spinner, s) != 0) {
        fprintf(stderr, "goc_go failed\n");
        return;
    }
    goc_wg_wait(s->wg);
    goc_wg_free(s->wg);
}

static void child_spin(void *arg)
{
    const char *debug = arg;
    if (debug)
        setenv("GOC_DEBUG", debug, 1);
    else
        unsetenv("GOC_DEBUG");
    mon_state s;
    memset(&s, 0, sizeof s);
    atomic_store(&s.worker, -1);
    int r = goc_run(NULL, main_spin, &s);
    if (r != 0) {
        fprintf(stderr, "goc_run returned %d\n", r);
        _exit(1);
    }
    fflush(stderr);
    _exit(10 + atomic_load(&s.worker));
}

/* The line of err that contains word, copied into line (or "" if none). */
static int find_line(const char *err, const char *word, char *line, size_t n)
{
    const char *p = strcasestr(err, word);
    line[0] = '\0';
    if (p == NULL)
        return 0;
    const char *b = p, *e = p;
    while (b > err && b[-1] != '\n')
        b--;
    while (*e && *e != '\n')
        e++;
    size_t len = (size_t)(e - b);
    if (len >= n)
        len = n - 1;
    memcpy(line, b, len);
    line[len] = '\0';
    return 1;
}

/* Does line contain num as a whole number (not part of a longer one)? */
static int has_number(const char *line, int num)
{
    char pat[32];
    snprintf(pat, sizeof pat, "%d", num);
    size_t pl = strlen(pat);
    for (const char *p = strstr(line, pat); p; p = strstr(p + 1, pat)) {
        int before = p > line && p[-1] >= '0' && p[-1] <= '9';
        int after = p[pl] >= '0' && p[pl] <= '9';
        if (!before && !after)
            return 1;
    }
    return 0;
}

static void test_monitor_reports_blocked_worker(void **state)
{
    (void)state;
    tu_child c;
    tu_fork_capture(child_spin, "1", 30, &c);
    int worker = c.exited ? c.exit_code - 10 : -1;
    char line[512];
    int found = find_line(c.err, "blocked", line, sizeof line);
    if (!c.exited || worker < 0 || !found || !has_number(line, worker)) {
        tu_child_print("GOC_DEBUG=1, 300 ms spin", &c);
        tu_child_free(&c);
        fail_msg("want a normal exit and a line with \"blocked\" naming "
                 "worker %d; got line: \"%s\"", worker, line);
    }
    tu_child_free(&c);
}

static void test_monitor_silent_without_debug(void **state)
{
    (void)state;
    tu_child c;
    tu_fork_capture(child_spin, NULL, 30, &c);
    int worker = c.exited ? c.exit_code - 10 : -1;
    if (!c.exited || worker < 0 || c.err_len != 0) {
        tu_child_print("GOC_DEBUG unset, 300 ms spin", &c);
        tu_child_free(&c);
        fail_msg("want a normal exit and nothing on stderr");
    }
    tu_child_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monitor_reports_blocked_worker),
        cmocka_unit_test(test_monitor_silent_without_debug),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
