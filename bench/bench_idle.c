/*
 * bench_idle.c - idle: what a parked coroutine costs in memory.
 *
 * N coroutines all parked in a receive on one signal channel (elem_size 0,
 * Go's chan struct{}); closing it releases them all. Figure: resident memory
 * growth per coroutine (VmRSS after all N are parked - VmRSS before
 * spawning, / N), plus "pte_bytes" (the same from VmPTE, the page tables)
 * and "wake_ms": from closing the channel until all N have exited.
 *
 * Always one run: a second goc_run in the same process would reuse memory
 * the first one faulted in (freed stacks, allocator arenas), so its RSS
 * growth would read near zero. So not bench_run: the line is put together
 * in bench_idle.
 *
 * --stack-size may be tiny (2048), and the main coroutine gets that stack
 * too: so idle_main reads /proc with read(2) into a static buffer and does
 * no stdio; all reporting happens after goc_run has returned.
 */
#include "workloads.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define IDLE_POLL_NS   INT64_C(1000000)      /* main polls the parked count every 1 ms */
#define IDLE_SETTLE_NS INT64_C(20000000)     /* then lets the last ones finish parking */
#define IDLE_TIMEOUT_NS (INT64_C(120) * ONE_SECOND_NS)

typedef struct idle_ctx {
    long        n;
    goc_chan   *gate;        /* signal channel, closed to release everyone */
    goc_wg     *done;
    atomic_long parked;      /* coroutines that reached their wait */
    atomic_long wait_failed; /* the receive ended other than by the close */
    long        go_failed;   /* goc_go calls that failed */
    bool        all_parked;
    int         done_rc;     /* goc_wg_wait(done) */
    long        rss_before_kb, rss_after_kb, pte_before_kb, pte_after_kb;
    int64_t     wake_ns;
    sample     *s;
} idle_ctx;

/* The value of a "Vm...:" line of /proc/self/status in kB, or -1. Uses no
 * stdio and little stack (see above); only the main coroutine calls it. */
static long proc_status_kb(const char *field)
{
    static char buf[8192];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0)
        return -1;
    size_t len = 0;
    ssize_t got;
    while (len < sizeof buf - 1 && (got = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)got;
    close(fd);
    buf[len] = '\0';

    size_t flen = strlen(field);
    for (char *line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            char *p = line + flen + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            long kb = 0;
            while (*p >= '0' && *p <= '9')
                kb = kb * 10 + (*p++ - '0');
            return kb;
        }
    }
    return -1;
}

static void idle_child(void *arg)
{
    idle_ctx *c = arg;
    atomic_fetch_add(&c->parked, 1);
    if (goc_chan_recv(c->gate, NULL) != GOC_ECLOSED)
        atomic_fetch_add(&c->wait_failed, 1);
    goc_wg_done(c->done);
}

static void idle_main(void *arg)
{
    idle_ctx *c = arg;
    c->s->workers = goc_workers();
    c->gate = goc_chan_make(0, 0);
    c->done = goc_wg_new();
    if (!c->gate || !c->done)
        return;
    goc_wg_add(c->done, (int)c->n);

    c->rss_before_kb = proc_status_kb("VmRSS");
    c->pte_before_kb = proc_status_kb("VmPTE");

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    for (long i = 0; i < c->n; i++) {
        if (goc_go(idle_child, c) != 0) {
            c->go_failed++;
            goc_wg_done(c->done);
        }
    }
    long want = c->n - c->go_failed;
    while (atomic_load(&c->parked) < want && goc_now() - t0 < IDLE_TIMEOUT_NS)
        goc_sleep(IDLE_POLL_NS);
    c->all_parked = atomic_load(&c->parked) == want;
    goc_sleep(IDLE_SETTLE_NS); /* the last to count themselves may not have parked yet */

    c->rss_after_kb = proc_status_kb("VmRSS");
    c->pte_after_kb = proc_status_kb("VmPTE");

    int64_t w0 = goc_now();
    goc_chan_close(c->gate);
    c->done_rc = c->all_parked ? goc_wg_wait(c->done) : -1;
    int64_t w1 = goc_now();
    sample_counts(c->s, &u0, c->n);
    c->wake_ns = w1 - w0;
    c->s->span_ns = w1 - t0;

    c->s->ok = c->all_parked && c->go_failed == 0 && c->done_rc == 0 &&
               atomic_load(&c->wait_failed) == 0 && c->rss_before_kb >= 0 &&
               c->rss_after_kb >= 0;
    if (c->all_parked) { /* otherwise waiters may remain: goc_run cancels them */
        goc_chan_free(c->gate);
        goc_wg_free(c->done);
    }
}

bool bench_idle(const bench_opts *o)
{
    idle_ctx c = { .n = o->n };
    sample s;
    memset(&s, 0, sizeof s);
    c.s = &s;
    atomic_init(&c.parked, 0);
    atomic_init(&c.wait_failed, 0);
    if (!start_runtime(o, o->workers, idle_main, &c))
        s.ok = false;
    if (c.go_failed)
        fprintf(stderr, "idle: %ld goc_go calls failed\n", c.go_failed);
    if (!c.all_parked)
        fprintf(stderr, "idle: only %ld of %ld coroutines parked within %d s\n",
                (long)atomic_load(&c.parked), o->n - c.go_failed,
                (int)(IDLE_TIMEOUT_NS / ONE_SECOND_NS));
    if (atomic_load(&c.wait_failed))
        fprintf(stderr, "idle: %ld goc_wg_wait calls failed\n", (long)atomic_load(&c.wait_failed));

    double per = (double)(c.rss_after_kb - c.rss_before_kb) * 1024.0 / (double)o->n;
    double pte = (double)(c.pte_after_kb - c.pte_before_kb) * 1024.0 / (double)o->n;
    json_begin(o, s.workers, o->n, per, "bytes/coroutine");
    json_num("wake_ms", (double)c.wake_ns / NS_PER_MS);
    json_num("pte_bytes", pte);
    json_int("stack_size", (long long)o->stack_size);
    json_str("parked_on", "channel receive");
    json_counts(&s, "coroutine");
    json_end(s.ok);
    return s.ok;
}
