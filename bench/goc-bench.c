/*
 * goc-bench - the project's benchmark program (see shared BENCHMARKS.md).
 *
 *   goc-bench <workload> [--workers N] [--n N] [--stack-size BYTES] [--runs R]
 *   goc-bench all [options]      run every workload that is implemented
 *                                (except the TCP echo pair: it needs a server)
 *   goc-bench list               name the workloads
 *   goc-bench echo-server --port P [--host H] [--workers N]
 *   goc-bench echo-client --port P [--host H] [--conns C] [--msgs M] [--size B]
 *
 * Each workload prints exactly one JSON object on one line on stdout, e.g.
 *
 *   {"workload":"yield","workers":1,"n":5000000,"value":12.3,"unit":"ns/switch","ok":true}
 *
 * and goc-bench exits non-zero when any workload's own check failed
 * ("ok":false) or the runtime refused to start.
 *
 * How figures are taken:
 *   - Only the public API of goc.h is used.
 *   - Every timed span is measured with goc_now() inside the main coroutine,
 *     i.e. after the runtime has started; goc_run's start-up and shut-down
 *     are never inside a measurement.
 *   - One "run" is one goc_run() call: a fresh runtime each time. A workload
 *     is run once; if that run's timed span was under 1 s it is run 4 more
 *     times (5 in all) and every figure reported is the median over the runs
 *     (each field separately). --runs R fixes the number of runs instead.
 *     idle is the exception: it always runs once (see bench_idle).
 *   - A workload is "ok" only if its check passed in every run.
 *   - Main coroutines stay light on stack (--stack-size may be as small as
 *     2048 and the main coroutine gets it too): no stdio, sorting or
 *     allocation inside them; that happens before and after goc_run.
 *
 * Workers: --workers 0 means one per core (the library decides; the JSON
 * reports the count goc_workers() gave inside the run). Each workload has
 * its own default when --workers is not given (yield: 1, others: 0).
 *
 * Adding a workload: write `static bool bench_NAME(const bench_opts *o)`
 * that prints its JSON line with json_begin()/json_*()/json_end() and
 * returns its ok, then fill in its row of the `workloads` table at the
 * bottom.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* open, read, close */
#endif

#include "goc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h> /* isfinite: a macro, no libm needed */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ------------------------------------------------------------ options */

typedef struct bench_opts {
    const char *workload;   /* the name being run (for the JSON) */
    int         workers;    /* as given, or the workload's default */
    bool        workers_set;
    long        n;          /* as given, or the workload's default */
    bool        n_set;
    size_t      stack_size; /* 0: the library's default */
    int         runs;       /* 0: automatic (1, or 5 if a run is under 1 s) */
    /* echo-server / echo-client only (--msgs is another name for --n): */
    const char *host;       /* --host: NULL for 127.0.0.1 */
    int         port;       /* --port; -1: not given */
    long        conns;      /* --conns; 0: the default (64) */
    long        size;       /* --size: bytes per message; 0: the default (64) */
} bench_opts;

/* ------------------------------------------------------------ timing / stats */

#define NS_PER_MS 1000000.0
#define NS_PER_US 1000.0
#define AUTO_RUNS 5
#define ONE_SECOND_NS INT64_C(1000000000)

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n-1] (n >= 1); sorts v in place. */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return (n % 2) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Nearest-rank percentile p (0 < p <= 1) of a sorted array. */
static int64_t percentile_sorted(const int64_t *sorted, size_t n, double p)
{
    double exact = p * (double)n;
    size_t rank = (size_t)exact;
    if ((double)rank < exact)
        rank++; /* ceil without libm */
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

/* Marsaglia's xorshift64 (13, 7, 17): the same generator in the C, Go and
 * Python versions, so the cpu job and the timer durations are identical. */
static inline uint64_t xorshift64(uint64_t x)
{
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

/* ------------------------------------------------------------ JSON output */

static bool json_first;

static void json_key(const char *key)
{
    printf("%s\"%s\":", json_first ? "{" : ",", key);
    json_first = false;
}

static void json_str(const char *key, const char *val)
{
    json_key(key);
    printf("\"%s\"", val); /* only our own fixed ASCII strings: no escaping */
}

static void json_int(const char *key, long long val)
{
    json_key(key);
    printf("%lld", val);
}

static void json_num(const char *key, double val)
{
    json_key(key);
    if (!isfinite(val)) {
        printf("null");
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%.3f", val);
    char *dot = strchr(buf, '.');
    if (dot) { /* trim "12.300" to "12.3", "4096.000" to "4096" */
        char *end = buf + strlen(buf) - 1;
        while (end > dot && *end == '0')
            *end-- = '\0';
        if (end == dot)
            *end = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        strcpy(buf, "0");
    printf("%s", buf);
}

static void json_bool(const char *key, bool val)
{
    json_key(key);
    printf("%s", val ? "true" : "false");
}

/* Every line starts with workload, workers, n, value, unit ... */
static void json_begin(const bench_opts *o, int workers, long n, double value,
                       const char *unit)
{
    json_first = true;
    json_str("workload", o->workload);
    json_int("workers", workers);
    json_int("n", n);
    json_num("value", value);
    json_str("unit", unit);
}

/* ... and ends with ok. */
static void json_end(bool ok)
{
    json_bool("ok", ok);
    printf("}\n");
    fflush(stdout);
}

/* ------------------------------------------------------------ running */

/* What one run (one goc_run call) measured. */
#define SAMPLE_FIGURES 8
#define COUNTS 5
typedef struct sample {
    bool    ok;
    int     workers;                 /* goc_workers() inside the run */
    int64_t span_ns;                 /* the run's timed span: decides repeats */
    double  fig[SAMPLE_FIGURES];     /* the workload's figures; medians per index */
    double  cnt[COUNTS];             /* minflt, nvcsw, nivcsw, wakeups, wasted per operation */
} sample;

/* The process's counts (all threads), and the runtime's wake-ups sent and
 * wasted (goc_read_stats; 0 outside a run), read beside the clock at both
 * ends of a timed span: they do not depend on the host's speed. */
typedef struct count_mark {
    long v[COUNTS];
} count_mark;

static count_mark counts_now(void)
{
    struct rusage r;
    count_mark u = { { 0 } };
    if (getrusage(RUSAGE_SELF, &r) == 0) {
        u.v[0] = r.ru_minflt;
        u.v[1] = r.ru_nvcsw;
        u.v[2] = r.ru_nivcsw;
    }
    goc_stats st = { .version = GOC_STATS_VERSION };
    if (goc_read_stats(&st) == 0) {
        u.v[3] = (long)st.wakeups;
        u.v[4] = (long)st.wakeups_wasted;
    }
    return u;
}

/* The counts since *u0, per operation, into s. */
static void sample_counts(sample *s, const count_mark *u0, double ops)
{
    count_mark u1 = counts_now();
    for (int i = 0; i < COUNTS; i++)
        s->cnt[i] = ops > 0 ? (double)(u1.v[i] - u0->v[i]) / ops : 0;
}

/* A count per operation: 4 significant digits (a fault per 10,000
 * coroutines is a figure, not 0). */
static void json_count(const char *key, double val)
{
    json_key(key);
    if (isfinite(val))
        printf("%.4g", val);
    else
        printf("null");
}

/* minflt, nvcsw, nivcsw, wake-ups sent and wasted per `per` (the
 * operation the value counts). */
static void json_counts(const sample *m, const char *per)
{
    json_count("minflt", m->cnt[0]);
    json_count("nvcsw", m->cnt[1]);
    json_count("nivcsw", m->cnt[2]);
    json_count("wakeups", m->cnt[3]);
    json_count("wasted", m->cnt[4]);
    json_str("counts_per", per);
}

/* One measurement: starts the runtime itself (via start_runtime), fills s. */
typedef void (*measure_fn)(const bench_opts *o, int workers, void *arg, sample *s);

/* goc_run with the options' stack size; workers pinned to cores, except
 * the echo client's: it shares the machine with the server it drives, and
 * pinned it would sit on the cores a 1-worker server pins to first. false
 * if the runtime refused to start (the reason goes to stderr). */
static bool start_runtime(const bench_opts *o, int workers, void (*main_fn)(void *),
                          void *arg)
{
    int pin = strcmp(o->workload, "echo-client") != 0;
    goc_config cfg = { .workers = workers, .pin = pin, .stack_size = o->stack_size };
    int rc = goc_run(&cfg, main_fn, arg);
    if (rc != 0) {
        fprintf(stderr, "goc-bench %s: goc_run failed: %s (%d)\n", o->workload,
                goc_strerror(rc), rc);
        return false;
    }
    return true;
}

/* Run `measure` once; if that took under 1 s, 4 more times; or exactly
 * o->runs times when given. Returns the per-figure medians; ok only if
 * every run was ok; workers from the first run. */
static sample run_median(const bench_opts *o, int workers, measure_fn measure, void *arg)
{
    sample runs[64];
    int want = o->runs > 0 ? o->runs : 1;
    if (want > 64)
        want = 64;
    int done = 0;
    for (; done < want; done++) {
        memset(&runs[done], 0, sizeof runs[done]);
        measure(o, workers, arg, &runs[done]);
        if (!runs[done].ok) {
            done++;
            break; /* a failed check: its figures mean nothing anyway */
        }
        if (o->runs == 0 && done == 0 && runs[0].span_ns < ONE_SECOND_NS)
            want = AUTO_RUNS;
    }

    sample out;
    memset(&out, 0, sizeof out);
    out.ok = true;
    out.workers = runs[0].workers;
    for (int r = 0; r < done; r++)
        out.ok = out.ok && runs[r].ok;
    double col[64];
    for (int f = 0; f < SAMPLE_FIGURES; f++) {
        for (int r = 0; r < done; r++)
            col[r] = runs[r].fig[f];
        out.fig[f] = median(col, done);
    }
    for (int i = 0; i < COUNTS; i++) {
        for (int r = 0; r < done; r++)
            col[r] = runs[r].cnt[i];
        out.cnt[i] = median(col, done);
    }
    for (int r = 0; r < done; r++)
        col[r] = (double)runs[r].span_ns;
    out.span_ns = (int64_t)median(col, done);
    return out;
}

/* ================================================================ spawn
 * N coroutines that each do nothing but goc_wg_done; the main coroutine
 * waits for all. Figure: ns per coroutine (wall / N). */

typedef struct spawn_ctx {
    long    n;
    long    go_failed;
    sample *s;
} spawn_ctx;

static void spawn_child(void *wg)
{
    goc_wg_done(wg);
}

static void spawn_main(void *arg)
{
    spawn_ctx *c = arg;
    c->s->workers = goc_workers();
    goc_wg *wg = goc_wg_new();
    if (!wg)
        return;

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_wg_add(wg, (int)c->n);
    for (long i = 0; i < c->n; i++) {
        if (goc_go(spawn_child, wg) != 0) {
            c->go_failed++;
            goc_wg_done(wg);
        }
    }
    int rc = goc_wg_wait(wg);
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);

    goc_wg_free(wg);
    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)(t1 - t0) / (double)c->n;
    c->s->ok = rc == 0 && c->go_failed == 0;
}

static void spawn_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    (void)arg;
    spawn_ctx c = { .n = o->n, .s = s };
    if (!start_runtime(o, workers, spawn_main, &c))
        s->ok = false;
    if (c.go_failed)
        fprintf(stderr, "spawn: %ld goc_go calls failed\n", c.go_failed);
}

static bool bench_spawn(const bench_opts *o)
{
    sample m = run_median(o, o->workers, spawn_measure, NULL);
    json_begin(o, m.workers, o->n, m.fig[0], "ns/coroutine");
    json_counts(&m, "coroutine");
    json_end(m.ok);
    return m.ok;
}

/* ================================================================ yield
 * Two coroutines each call goc_yield N times; by default on one worker, so
 * every yield is a switch to the other. Figure: ns per switch (wall / 2N).
 * Check: both counters reached N. */

typedef struct yield_ctx {
    long    n;
    long    count[2];
    sample *s;
} yield_ctx;

typedef struct yield_arg {
    long  n;
    long *count;
} yield_arg;

static void *yield_loop(void *arg)
{
    yield_arg *a = arg;
    long i;
    for (i = 0; i < a->n; i++)
        goc_yield();
    *a->count = i;
    return NULL;
}

static void yield_main(void *arg)
{
    yield_ctx *c = arg;
    c->s->workers = goc_workers();
    yield_arg a[2] = { { c->n, &c->count[0] }, { c->n, &c->count[1] } };
    c->count[0] = c->count[1] = 0;

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_task *t[2] = { goc_spawn(yield_loop, &a[0]), goc_spawn(yield_loop, &a[1]) };
    int rc0 = t[0] ? goc_join(t[0], NULL) : -1;
    int rc1 = t[1] ? goc_join(t[1], NULL) : -1;
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, 2.0 * (double)c->n);

    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)(t1 - t0) / (2.0 * (double)c->n);
    c->s->ok = rc0 == 0 && rc1 == 0 && c->count[0] == c->n && c->count[1] == c->n;
}

static void yield_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    (void)arg;
    yield_ctx c = { .n = o->n, .s = s };
    if (!start_runtime(o, workers, yield_main, &c))
        s->ok = false;
}

static bool bench_yield(const bench_opts *o)
{
    sample m = run_median(o, o->workers, yield_measure, NULL);
    json_begin(o, m.workers, o->n, m.fig[0], "ns/switch");
    json_counts(&m, "switch");
    json_end(m.ok);
    return m.ok;
}

/* ================================================================ cpu
 * N (default 64) coroutines each run the same CPU job: 2^24 steps of
 * xorshift64, summing the states. Figure: ms for all jobs, plus "speedup"
 * = time at 1 worker / time now, and "workers_seen" = distinct
 * goc_worker_id() values the jobs ran on. Check: every job's result equals
 * the value computed once up front. The jobs never yield (a cooperative
 * scheduler spreads them only by stealing queued ones). */

#define CPU_STEPS (UINT64_C(1) << 24)
#define CPU_SEED  UINT64_C(0x9E3779B97F4A7C15)
#define CPU_MAX_WORKERS 4096

/* noinline + a seed read from memory: the compiler cannot fold the job. */
__attribute__((noinline)) static uint64_t cpu_job(uint64_t seed, uint64_t steps)
{
    uint64_t x = seed, acc = 0;
    for (uint64_t i = 0; i < steps; i++) {
        x = xorshift64(x);
        acc += x;
    }
    return acc ^ x;
}

typedef struct cpu_arg cpu_arg;

typedef struct cpu_ctx {
    long        n;
    uint64_t    seed;
    uint64_t    expected;
    uint64_t   *results;       /* one per job */
    cpu_arg    *args;          /* one per job */
    goc_task  **tasks;         /* one per job */
    atomic_int *seen;          /* CPU_MAX_WORKERS flags, one per worker id */
    atomic_int  bad_worker_id; /* a job saw an id outside 0..workers-1 */
    bool        join_failed;
    sample     *s;
} cpu_ctx;

struct cpu_arg {
    cpu_ctx *c;
    long     i;
};

static void *cpu_run_job(void *arg)
{
    cpu_arg *a = arg;
    int id = goc_worker_id();
    if (id >= 0 && id < CPU_MAX_WORKERS && id < goc_workers())
        atomic_store(&a->c->seen[id], 1);
    else
        atomic_store(&a->c->bad_worker_id, 1);
    a->c->results[a->i] = cpu_job(a->c->seed, CPU_STEPS);
    return NULL;
}

static void cpu_main(void *arg)
{
    cpu_ctx *c = arg;
    c->s->workers = goc_workers();

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    for (long i = 0; i < c->n; i++)
        c->tasks[i] = goc_spawn(cpu_run_job, &c->args[i]);
    for (long i = 0; i < c->n; i++)
        if (!c->tasks[i] || goc_join(c->tasks[i], NULL) != 0)
            c->join_failed = true;
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);

    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)(t1 - t0) / NS_PER_MS;
    c->s->ok = true; /* the rest of the check is in cpu_measure */
}

static void cpu_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    cpu_ctx *c = arg;
    c->s = s;
    c->join_failed = false;
    for (long i = 0; i < c->n; i++)
        c->results[i] = 0;
    for (int w = 0; w < CPU_MAX_WORKERS; w++)
        atomic_store(&c->seen[w], 0);
    atomic_store(&c->bad_worker_id, 0);
    if (!start_runtime(o, workers, cpu_main, c) || !s->ok) {
        s->ok = false;
        return;
    }

    long wrong = 0;
    for (long i = 0; i < c->n; i++)
        wrong += c->results[i] != c->expected;
    int seen = 0;
    for (int w = 0; w < CPU_MAX_WORKERS; w++)
        seen += atomic_load(&c->seen[w]);
    s->fig[1] = seen;
    s->ok = !c->join_failed && wrong == 0 && !atomic_load(&c->bad_worker_id);
    if (c->join_failed)
        fprintf(stderr, "cpu: a goc_spawn or goc_join failed\n");
    if (wrong)
        fprintf(stderr, "cpu: %ld jobs gave a wrong result\n", wrong);
    if (atomic_load(&c->bad_worker_id))
        fprintf(stderr, "cpu: goc_worker_id() out of range in a job\n");
}

static bool bench_cpu(const bench_opts *o)
{
    static atomic_int seen[CPU_MAX_WORKERS];
    cpu_ctx c = { .n = o->n, .seed = CPU_SEED, .seen = seen };
    c.results = calloc((size_t)o->n, sizeof *c.results);
    c.args = calloc((size_t)o->n, sizeof *c.args);
    c.tasks = calloc((size_t)o->n, sizeof *c.tasks);
    bool ok = false;
    if (!c.results || !c.args || !c.tasks) {
        fprintf(stderr, "cpu: out of memory\n");
        goto out;
    }
    for (long i = 0; i < o->n; i++)
        c.args[i] = (cpu_arg){ &c, i };
    c.expected = cpu_job(c.seed, CPU_STEPS); /* once, up front, outside timing */

    sample tn = run_median(o, o->workers, cpu_measure, &c);
    double speedup = 1.0;
    ok = tn.ok;
    if (tn.workers > 1) { /* the same at 1 worker, for the speedup */
        sample t1 = run_median(o, 1, cpu_measure, &c);
        ok = ok && t1.ok;
        speedup = t1.fig[0] / tn.fig[0];
    }
    json_begin(o, tn.workers, o->n, tn.fig[0], "ms");
    json_num("speedup", speedup);
    json_int("workers_seen", (long long)tn.fig[1]);
    json_counts(&tn, "job");
    json_end(ok);
out:
    free(c.results);
    free(c.args);
    free(c.tasks);
    return ok;
}

/* ================================================================ idle
 * N coroutines all parked in a receive on one signal channel (elem_size 0,
 * Go's chan struct{}); closing it releases them all. Figure: resident memory
 * growth per coroutine (VmRSS after all N are parked - VmRSS before
 * spawning, / N), plus "pte_bytes" (the same from VmPTE, the page tables)
 * and "wake_ms": from closing the channel until all N have exited.
 *
 * Always one run: a second goc_run in the same process would reuse memory
 * the first one faulted in (freed stacks, allocator arenas), so its RSS
 * growth would read near zero.
 *
 * --stack-size may be tiny (2048), and the main coroutine gets that stack
 * too: so idle_main reads /proc with read(2) into a static buffer and does
 * no stdio; all reporting happens after goc_run has returned. */

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

static bool bench_idle(const bench_opts *o)
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

/* ================================================================ timers
 * N coroutines each sleep a pseudo-random 0..100 ms (xorshift64, fixed
 * seed, microsecond steps). Each records its lateness = wake time -
 * deadline, where deadline = goc_now() when it starts to sleep + duration.
 * Figures: p99 lateness in µs (value), "p50_us", "p99_us", and "total_ms"
 * from the first spawn until all have woken. Check: all woke and none woke
 * early (lateness >= 0). Sorting happens after goc_run returns. */

#define TIMER_SEED   UINT64_C(0x2545F4914F6CDD1D)
#define TIMER_MAX_US 100000

typedef struct timer_arg timer_arg;

typedef struct timer_ctx {
    long        n;
    int64_t    *dur_ns;       /* per coroutine, drawn up front */
    int64_t    *late_ns;      /* per coroutine, written by it; INT64_MIN: never woke */
    timer_arg  *args;
    goc_wg     *wg;
    atomic_long sleep_failed; /* goc_sleep returned non-zero */
    long        go_failed;
    int         wait_rc;
    sample     *s;
} timer_ctx;

struct timer_arg {
    timer_ctx *c;
    long       i;
};

static void timer_child(void *arg)
{
    timer_arg *a = arg;
    timer_ctx *c = a->c;
    int64_t d = c->dur_ns[a->i];
    int64_t deadline = goc_now() + d;
    if (goc_sleep(d) != 0)
        atomic_fetch_add(&c->sleep_failed, 1);
    c->late_ns[a->i] = goc_now() - deadline;
    goc_wg_done(c->wg);
}

static void timer_main(void *arg)
{
    timer_ctx *c = arg;
    c->s->workers = goc_workers();
    c->wg = goc_wg_new();
    if (!c->wg)
        return;

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_wg_add(c->wg, (int)c->n);
    for (long i = 0; i < c->n; i++) {
        if (goc_go(timer_child, &c->args[i]) != 0) {
            c->go_failed++;
            goc_wg_done(c->wg);
        }
    }
    c->wait_rc = goc_wg_wait(c->wg);
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);
    goc_wg_free(c->wg);

    c->s->span_ns = t1 - t0;
    c->s->fig[2] = (double)(t1 - t0) / NS_PER_MS;
    c->s->ok = true; /* the rest of the check is in timer_measure */
}

static void timer_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    timer_ctx *c = arg;
    c->s = s;
    c->go_failed = 0;
    c->wait_rc = -1;
    atomic_store(&c->sleep_failed, 0);
    for (long i = 0; i < c->n; i++)
        c->late_ns[i] = INT64_MIN;
    if (!start_runtime(o, workers, timer_main, c) || !s->ok) {
        s->ok = false;
        return;
    }

    /* INT64_MIN (never woke) sorts first and fails the "not early" check */
    qsort(c->late_ns, (size_t)c->n, sizeof *c->late_ns, cmp_i64);
    bool none_early = c->late_ns[0] >= 0;
    s->fig[0] = (double)percentile_sorted(c->late_ns, (size_t)c->n, 0.50) / NS_PER_US;
    s->fig[1] = (double)percentile_sorted(c->late_ns, (size_t)c->n, 0.99) / NS_PER_US;
    s->ok = c->wait_rc == 0 && c->go_failed == 0 && none_early &&
            atomic_load(&c->sleep_failed) == 0;
    if (!none_early)
        fprintf(stderr, "timers: a coroutine woke early or never (min lateness %" PRId64 " ns)\n",
                c->late_ns[0]);
    if (c->go_failed)
        fprintf(stderr, "timers: %ld goc_go calls failed\n", c->go_failed);
    if (atomic_load(&c->sleep_failed))
        fprintf(stderr, "timers: %ld goc_sleep calls failed\n", (long)atomic_load(&c->sleep_failed));
}

static bool bench_timers(const bench_opts *o)
{
    timer_ctx c = { .n = o->n };
    c.dur_ns = calloc((size_t)o->n, sizeof *c.dur_ns);
    c.late_ns = calloc((size_t)o->n, sizeof *c.late_ns);
    c.args = calloc((size_t)o->n, sizeof *c.args);
    atomic_init(&c.sleep_failed, 0);
    bool ok = false;
    if (!c.dur_ns || !c.late_ns || !c.args) {
        fprintf(stderr, "timers: out of memory\n");
        goto out;
    }
    uint64_t x = TIMER_SEED;
    for (long i = 0; i < o->n; i++) {
        x = xorshift64(x);
        c.dur_ns[i] = (int64_t)(x % (TIMER_MAX_US + 1)) * 1000;
        c.args[i] = (timer_arg){ &c, i };
    }

    sample m = run_median(o, o->workers, timer_measure, &c);
    json_begin(o, m.workers, o->n, m.fig[1], "us");
    json_num("p50_us", m.fig[0]);
    json_num("p99_us", m.fig[1]);
    json_num("total_ms", m.fig[2]);
    json_counts(&m, "sleeper");
    json_end(m.ok);
    ok = m.ok;
out:
    free(c.dur_ns);
    free(c.late_ns);
    free(c.args);
    return ok;
}

/* ================================================================ channels
 * The channel workloads below send int64_t values. A coroutine whose
 * channel call fails unexpectedly counts an error (the check then fails)
 * and closes or drains what it must so that nothing is left blocked: a
 * failed check never turns into a hang. */

/* ================================================================ pingpong
 * Two coroutines bounce a counter over two unbuffered channels: A sends c
 * on ping and receives c + 1 on pong, N times; B does the other half.
 * Figure: ns per round trip (wall / N). Check: the counter came back as N. */

typedef struct pingpong_ctx {
    long       n;
    goc_chan  *ping, *pong;
    int64_t    final;
    atomic_int errors;
    sample    *s;
} pingpong_ctx;

/* On a failed call: count it and close both channels, so the other side
 * gets GOC_ECLOSED instead of waiting forever. */
static void pingpong_fail(pingpong_ctx *c)
{
    atomic_fetch_add(&c->errors, 1);
    goc_chan_close(c->ping);
    goc_chan_close(c->pong);
}

static void *pingpong_a(void *arg)
{
    pingpong_ctx *c = arg;
    int64_t v = 0;
    for (long i = 0; i < c->n; i++) {
        if (goc_chan_send(c->ping, &v) != 0 || goc_chan_recv(c->pong, &v) != 0) {
            pingpong_fail(c);
            break;
        }
    }
    c->final = v;
    return NULL;
}

static void *pingpong_b(void *arg)
{
    pingpong_ctx *c = arg;
    int64_t v;
    for (long i = 0; i < c->n; i++) {
        if (goc_chan_recv(c->ping, &v) != 0) {
            pingpong_fail(c);
            break;
        }
        v++;
        if (goc_chan_send(c->pong, &v) != 0) {
            pingpong_fail(c);
            break;
        }
    }
    return NULL;
}

static void pingpong_main(void *arg)
{
    pingpong_ctx *c = arg;
    c->s->workers = goc_workers();
    c->ping = goc_chan_make(sizeof(int64_t), 0);
    c->pong = goc_chan_make(sizeof(int64_t), 0);
    if (!c->ping || !c->pong) {
        atomic_fetch_add(&c->errors, 1);
        goto out;
    }

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_task *a = goc_spawn(pingpong_a, c);
    goc_task *b = goc_spawn(pingpong_b, c);
    if (!a || !b) { /* the one that started must not wait forever */
        atomic_fetch_add(&c->errors, 1);
        goc_chan_close(c->ping);
        goc_chan_close(c->pong);
    }
    int rca = a ? goc_join(a, NULL) : -1;
    int rcb = b ? goc_join(b, NULL) : -1;
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);

    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)(t1 - t0) / (double)c->n;
    c->s->ok = rca == 0 && rcb == 0 && atomic_load(&c->errors) == 0 && c->final == c->n;
out:
    goc_chan_free(c->ping);
    goc_chan_free(c->pong);
}

static void pingpong_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    (void)arg;
    pingpong_ctx c = { .n = o->n, .final = -1, .s = s };
    atomic_init(&c.errors, 0);
    if (!start_runtime(o, workers, pingpong_main, &c))
        s->ok = false;
    if (atomic_load(&c.errors))
        fprintf(stderr, "pingpong: %d channel or spawn calls failed\n", atomic_load(&c.errors));
    if (c.final != c.n)
        fprintf(stderr, "pingpong: counter %" PRId64 ", want %ld\n", c.final, c.n);
}

static bool bench_pingpong(const bench_opts *o)
{
    sample m = run_median(o, o->workers, pingpong_measure, NULL);
    json_begin(o, m.workers, o->n, m.fig[0], "ns/roundtrip");
    json_counts(&m, "roundtrip");
    json_end(m.ok);
    return m.ok;
}

/* ================================================================ mpmc
 * One channel of capacity 128; 4 producers send the ints 0..N-1 (producer
 * p the ones with i % 4 == p); 4 consumers receive and sum until the
 * channel is closed, which the main coroutine does once every producer has
 * been joined. Figure: millions of messages per second (N / wall; higher is
 * better). Check: count == N and sum == N(N-1)/2, exactly. */

#define MPMC_CAP       128
#define MPMC_PRODUCERS 4
#define MPMC_CONSUMERS 4

typedef struct mpmc_ctx mpmc_ctx;

typedef struct mpmc_arg {
    mpmc_ctx *c;
    int       k;     /* producer or consumer number */
    int64_t   sum;   /* consumers: what they received */
    long      count;
} mpmc_arg;

struct mpmc_ctx {
    long       n;
    goc_chan  *ch;
    mpmc_arg   prod[MPMC_PRODUCERS], cons[MPMC_CONSUMERS];
    atomic_int errors;
    int64_t    sum;
    long       count;
    sample    *s;
};

static void *mpmc_producer(void *arg)
{
    mpmc_arg *a = arg;
    for (int64_t i = a->k; i < a->c->n; i += MPMC_PRODUCERS) {
        if (goc_chan_send(a->c->ch, &i) != 0) {
            atomic_fetch_add(&a->c->errors, 1);
            break;
        }
    }
    return NULL;
}

static void *mpmc_consumer(void *arg)
{
    mpmc_arg *a = arg;
    int64_t v, sum = 0;
    long count = 0;
    int rc;
    while ((rc = goc_chan_recv(a->c->ch, &v)) == 0) {
        sum += v;
        count++;
    }
    if (rc != GOC_ECLOSED)
        atomic_fetch_add(&a->c->errors, 1);
    a->sum = sum;
    a->count = count;
    return NULL;
}

static void mpmc_main(void *arg)
{
    mpmc_ctx *c = arg;
    c->s->workers = goc_workers();
    c->ch = goc_chan_make(sizeof(int64_t), MPMC_CAP);
    if (!c->ch) {
        atomic_fetch_add(&c->errors, 1);
        return;
    }
    goc_task *prod[MPMC_PRODUCERS], *cons[MPMC_CONSUMERS];
    bool join_failed = false;

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    for (int k = 0; k < MPMC_PRODUCERS; k++) {
        c->prod[k] = (mpmc_arg){ .c = c, .k = k };
        prod[k] = goc_spawn(mpmc_producer, &c->prod[k]);
    }
    for (int k = 0; k < MPMC_CONSUMERS; k++) {
        c->cons[k] = (mpmc_arg){ .c = c, .k = k };
        cons[k] = goc_spawn(mpmc_consumer, &c->cons[k]);
    }
    for (int k = 0; k < MPMC_PRODUCERS; k++)
        if (!prod[k] || goc_join(prod[k], NULL) != 0)
            join_failed = true;
    goc_chan_close(c->ch);
    for (int k = 0; k < MPMC_CONSUMERS; k++)
        if (!cons[k] || goc_join(cons[k], NULL) != 0)
            join_failed = true;
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);

    goc_chan_free(c->ch);
    c->sum = 0;
    c->count = 0;
    for (int k = 0; k < MPMC_CONSUMERS; k++) {
        c->sum += c->cons[k].sum;
        c->count += c->cons[k].count;
    }
    if (join_failed)
        atomic_fetch_add(&c->errors, 1);
    int64_t want = (int64_t)c->n * (int64_t)(c->n - 1) / 2;
    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)c->n * 1e3 / (double)(t1 - t0); /* n / s / 1e6 */
    c->s->ok = atomic_load(&c->errors) == 0 && c->count == c->n && c->sum == want;
}

static void mpmc_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    (void)arg;
    mpmc_ctx c = { .n = o->n, .s = s };
    atomic_init(&c.errors, 0);
    if (!start_runtime(o, workers, mpmc_main, &c))
        s->ok = false;
    if (!s->ok)
        fprintf(stderr, "mpmc: count %ld sum %" PRId64 ", want %ld and %" PRId64
                        "; %d calls failed\n",
                c.count, c.sum, c.n, (int64_t)c.n * (int64_t)(c.n - 1) / 2,
                atomic_load(&c.errors));
}

static bool bench_mpmc(const bench_opts *o)
{
    sample m = run_median(o, o->workers, mpmc_measure, NULL);
    json_begin(o, m.workers, o->n, m.fig[0], "Mmsg/s");
    json_counts(&m, "message");
    json_end(m.ok);
    return m.ok;
}

/* ================================================================ select
 * 4 unbuffered channels and 4 senders: sender k sends the ints i < N with
 * i % 4 == k (N/4 each, the first N % 4 one more), then closes its channel.
 * The main coroutine receives with goc_select over all 4 (timeout -1); a
 * case that reports GOC_ECLOSED gets a NULL channel (never ready again, as
 * Go's nil channel), until all 4 are closed. Figure: ns per select = wall /
 * N (the N selects that took a value; the 4 that saw a close are not
 * counted). Check: N values received, each channel's count right, and
 * their sum == N(N-1)/2. */

#define SELECT_CHANS 4

typedef struct select_ctx select_ctx;

typedef struct select_arg {
    select_ctx *c;
    int         k;
} select_arg;

struct select_ctx {
    long       n;
    goc_chan  *ch[SELECT_CHANS];
    select_arg args[SELECT_CHANS];
    long       got[SELECT_CHANS];
    int64_t    sum;
    long       selects;
    atomic_int errors;
    sample    *s;
};

static void *select_sender(void *arg)
{
    select_arg *a = arg;
    select_ctx *c = a->c;
    for (int64_t i = a->k; i < c->n; i += SELECT_CHANS) {
        if (goc_chan_send(c->ch[a->k], &i) != 0) {
            atomic_fetch_add(&c->errors, 1);
            break;
        }
    }
    goc_chan_close(c->ch[a->k]);
    return NULL;
}

static void select_main(void *arg)
{
    select_ctx *c = arg;
    c->s->workers = goc_workers();
    goc_task *t[SELECT_CHANS] = { NULL };
    bool made = true;
    for (int k = 0; k < SELECT_CHANS; k++) {
        c->ch[k] = goc_chan_make(sizeof(int64_t), 0);
        c->args[k] = (select_arg){ c, k };
        made = made && c->ch[k];
    }
    if (!made) {
        atomic_fetch_add(&c->errors, 1);
        goto out;
    }

    int64_t v = 0;
    goc_case cases[SELECT_CHANS];
    for (int k = 0; k < SELECT_CHANS; k++)
        cases[k] = (goc_case){ .ch = c->ch[k], .op = GOC_RECV, .elem = &v };

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    for (int k = 0; k < SELECT_CHANS; k++) {
        t[k] = goc_spawn(select_sender, &c->args[k]);
        if (!t[k]) { /* nobody will close it */
            atomic_fetch_add(&c->errors, 1);
            cases[k].ch = NULL;
        }
    }
    int open = 0;
    for (int k = 0; k < SELECT_CHANS; k++)
        open += cases[k].ch != NULL;
    while (open > 0) {
        int i = goc_select(cases, SELECT_CHANS, -1);
        if (i < 0 || i >= SELECT_CHANS) {
            atomic_fetch_add(&c->errors, 1);
            break;
        }
        if (cases[i].status == GOC_ECLOSED) {
            cases[i].ch = NULL;
            open--;
            continue;
        }
        c->selects++;
        c->got[i]++;
        c->sum += v;
    }
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);

    for (int k = 0; k < SELECT_CHANS; k++) /* after a failed select: unblock the senders */
        if (cases[k].ch)
            goc_chan_close(c->ch[k]);
    bool join_failed = false;
    for (int k = 0; k < SELECT_CHANS; k++)
        if (t[k] && goc_join(t[k], NULL) != 0)
            join_failed = true;

    int64_t want = (int64_t)c->n * (int64_t)(c->n - 1) / 2;
    long total = 0;
    bool counts_ok = true;
    for (int k = 0; k < SELECT_CHANS; k++) {
        total += c->got[k];
        counts_ok = counts_ok && c->got[k] == (c->n - k + SELECT_CHANS - 1) / SELECT_CHANS;
    }
    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)(t1 - t0) / (double)c->n;
    c->s->ok = !join_failed && atomic_load(&c->errors) == 0 && counts_ok && total == c->n &&
               c->sum == want;
out:
    for (int k = 0; k < SELECT_CHANS; k++)
        goc_chan_free(c->ch[k]);
}

static void select_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    (void)arg;
    select_ctx c = { .n = o->n, .s = s };
    atomic_init(&c.errors, 0);
    if (!start_runtime(o, workers, select_main, &c))
        s->ok = false;
    if (!s->ok)
        fprintf(stderr, "select: got %ld/%ld/%ld/%ld (%ld selects) sum %" PRId64
                        ", want %ld values summing to %" PRId64 "; %d calls failed\n",
                c.got[0], c.got[1], c.got[2], c.got[3], c.selects, c.sum, c.n,
                (int64_t)c.n * (int64_t)(c.n - 1) / 2, atomic_load(&c.errors));
}

static bool bench_select(const bench_opts *o)
{
    sample m = run_median(o, o->workers, select_measure, NULL);
    json_begin(o, m.workers, o->n, m.fig[0], "ns/select");
    json_counts(&m, "select");
    json_end(m.ok);
    return m.ok;
}

/* ================================================================ sieve
 * The concurrent prime sieve (as in the Go tour): a generator sends 2, 3,
 * 4, ... on an unbuffered channel; the main coroutine receives a prime
 * from the last channel of the chain and starts a filter coroutine after
 * it (reading that channel, passing on what the prime does not divide on a
 * new unbuffered channel). Figure: ms until the K-th prime has arrived.
 * Check: the K primes equal a plain trial division's (computed before the
 * runs; the 3000th is 27449).
 *
 * Shutting down, outside the timing: main sets `stop`; the generator sees
 * it after its next send and closes its channel; a filter closes its output
 * once its input is closed; main drains the last channel, waits on a wg for
 * all of them, and frees the channels. */

#define SIEVE_PRIME_3000 27449

typedef struct sieve_ctx sieve_ctx;

typedef struct sieve_arg {
    sieve_ctx *c;
    goc_chan  *in, *out;
    int64_t    prime;
} sieve_arg;

struct sieve_ctx {
    long        n;
    goc_chan  **chans;  /* n + 1 slots */
    long        nchans; /* made so far */
    sieve_arg  *args;   /* one per filter */
    int64_t    *primes; /* what main received */
    long        got;
    const int64_t *ref; /* the reference primes */
    goc_wg     *wg;
    atomic_int  stop;
    atomic_int  errors;
    sample     *s;
};

static void sieve_generate(void *arg)
{
    sieve_ctx *c = arg;
    goc_chan *out = c->chans[0];
    for (int64_t i = 2; !atomic_load_explicit(&c->stop, memory_order_relaxed); i++) {
        if (goc_chan_send(out, &i) != 0) {
            atomic_fetch_add(&c->errors, 1);
            break;
        }
    }
    goc_chan_close(out);
    goc_wg_done(c->wg);
}

static void sieve_filter(void *arg)
{
    sieve_arg *a = arg;
    int64_t v, prime = a->prime;
    bool failed = false;
    int rc;
    while ((rc = goc_chan_recv(a->in, &v)) == 0) {
        if (v % prime != 0 && !failed && goc_chan_send(a->out, &v) != 0) {
            atomic_fetch_add(&a->c->errors, 1);
            failed = true; /* go on draining the input: the chain must not stall */
        }
    }
    if (rc != GOC_ECLOSED)
        atomic_fetch_add(&a->c->errors, 1);
    goc_chan_close(a->out);
    goc_wg_done(a->c->wg);
}

static void sieve_main(void *arg)
{
    sieve_ctx *c = arg;
    c->s->workers = goc_workers();
    c->wg = goc_wg_new();
    c->chans[0] = goc_chan_make(sizeof(int64_t), 0);
    if (!c->wg || !c->chans[0]) {
        atomic_fetch_add(&c->errors, 1);
        goc_chan_free(c->chans[0]);
        goc_wg_free(c->wg);
        return;
    }
    c->nchans = 1;

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_wg_add(c->wg, 1);
    if (goc_go(sieve_generate, c) != 0) {
        atomic_fetch_add(&c->errors, 1);
        goc_wg_done(c->wg);
        goc_chan_close(c->chans[0]);
    }
    goc_chan *last = c->chans[0]; /* the channel main reads */
    for (long i = 0; i < c->n; i++) {
        int64_t p;
        if (goc_chan_recv(last, &p) != 0) {
            atomic_fetch_add(&c->errors, 1);
            break;
        }
        c->primes[c->got++] = p;
        goc_chan *next = goc_chan_make(sizeof(int64_t), 0);
        if (!next) {
            atomic_fetch_add(&c->errors, 1);
            break;
        }
        c->chans[c->nchans++] = next;
        c->args[i] = (sieve_arg){ c, last, next, p };
        goc_wg_add(c->wg, 1);
        if (goc_go(sieve_filter, &c->args[i]) != 0) {
            atomic_fetch_add(&c->errors, 1);
            goc_wg_done(c->wg);
            goc_chan_close(next); /* main goes on draining `last` itself */
            break;
        }
        last = next;
    }
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);

    atomic_store(&c->stop, 1);
    while (goc_chan_recv(last, NULL) == 0)
        ;
    int wrc = goc_wg_wait(c->wg);
    for (long i = 0; i < c->nchans; i++)
        goc_chan_free(c->chans[i]);
    goc_wg_free(c->wg);

    bool same = c->got == c->n;
    for (long i = 0; same && i < c->n; i++)
        same = c->primes[i] == c->ref[i];
    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)(t1 - t0) / NS_PER_MS;
    c->s->ok = wrc == 0 && atomic_load(&c->errors) == 0 && same &&
               (c->n != 3000 || c->primes[2999] == SIEVE_PRIME_3000);
}

static void sieve_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    sieve_ctx *c = arg;
    c->s = s;
    c->nchans = 0;
    c->got = 0;
    atomic_store(&c->stop, 0);
    atomic_store(&c->errors, 0);
    if (!start_runtime(o, workers, sieve_main, c))
        s->ok = false;
    if (!s->ok)
        fprintf(stderr, "sieve: %ld primes, last %" PRId64 " (want %ld, last %" PRId64
                        "); %d calls failed\n",
                c->got, c->got ? c->primes[c->got - 1] : (int64_t)0, c->n,
                c->ref[c->n - 1], atomic_load(&c->errors));
}

static bool bench_sieve(const bench_opts *o)
{
    sieve_ctx c = { .n = o->n };
    c.chans = calloc((size_t)o->n + 1, sizeof *c.chans);
    c.args = calloc((size_t)o->n, sizeof *c.args);
    c.primes = calloc((size_t)o->n, sizeof *c.primes);
    int64_t *ref = calloc((size_t)o->n, sizeof *ref);
    atomic_init(&c.stop, 0);
    atomic_init(&c.errors, 0);
    bool ok = false;
    if (!c.chans || !c.args || !c.primes || !ref) {
        fprintf(stderr, "sieve: out of memory\n");
        goto out;
    }
    /* the reference: trial division by the primes found so far */
    long k = 0;
    for (int64_t cand = 2; k < o->n; cand++) {
        bool prime = true;
        for (long j = 0; j < k && ref[j] * ref[j] <= cand; j++)
            if (cand % ref[j] == 0) {
                prime = false;
                break;
            }
        if (prime)
            ref[k++] = cand;
    }
    c.ref = ref;

    sample m = run_median(o, o->workers, sieve_measure, &c);
    json_begin(o, m.workers, o->n, m.fig[0], "ms");
    json_int("last_prime", (long long)ref[o->n - 1]);
    json_counts(&m, "prime");
    json_end(m.ok);
    ok = m.ok;
out:
    free(c.chans);
    free(c.args);
    free(c.primes);
    free(ref);
    return ok;
}

/* ================================================================ skynet
 * The skynet tree: the root covers leaves 0..N-1; a node of size > 1 makes
 * a buffered channel of capacity 10, starts its (up to) 10 children with
 * goc_go on even shares of its range, receives their 10 subtotals, frees
 * the channel and sends the sum on its parent's channel; leaf i sends i.
 * The children's arguments live on the parent's stack: it outlives their
 * reading them, as it waits for every child's subtotal. Figure: ms for the
 * whole tree. Check: sum == N(N-1)/2 (499999500000 for 1,000,000 leaves). */

#define SKYNET_FANOUT 10

typedef struct skynet_arg {
    goc_chan   *out;
    int64_t     num, size;
    atomic_int *errors;
} skynet_arg;

static void skynet_node(void *arg)
{
    skynet_arg *a = arg;
    goc_chan *out = a->out;
    int64_t num = a->num, size = a->size;
    atomic_int *errors = a->errors;

    int64_t sum = 0;
    if (size == 1) {
        sum = num;
    } else {
        int64_t kids = size < SKYNET_FANOUT ? size : SKYNET_FANOUT;
        goc_chan *ch = goc_chan_make(sizeof(int64_t), SKYNET_FANOUT);
        if (!ch) {
            atomic_fetch_add(errors, 1);
        } else {
            skynet_arg kid[SKYNET_FANOUT];
            int64_t start = num, started = 0;
            for (int64_t i = 0; i < kids; i++) {
                int64_t share = size / kids + (i < size % kids ? 1 : 0);
                kid[i] = (skynet_arg){ ch, start, share, errors };
                start += share;
                if (goc_go(skynet_node, &kid[i]) != 0)
                    atomic_fetch_add(errors, 1);
                else
                    started++;
            }
            int64_t received = 0;
            for (; received < started; received++) {
                int64_t v;
                if (goc_chan_recv(ch, &v) != 0) {
                    atomic_fetch_add(errors, 1);
                    break;
                }
                sum += v;
            }
            if (received == started) /* else children may still use it: leak it */
                goc_chan_free(ch);
        }
    }
    if (goc_chan_send(out, &sum) != 0)
        atomic_fetch_add(errors, 1);
}

typedef struct skynet_ctx {
    long       n;
    int64_t    sum;
    atomic_int errors;
    sample    *s;
} skynet_ctx;

static void skynet_main(void *arg)
{
    skynet_ctx *c = arg;
    c->s->workers = goc_workers();

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_chan *root = goc_chan_make(sizeof(int64_t), 1);
    if (!root) {
        atomic_fetch_add(&c->errors, 1);
        return;
    }
    skynet_arg a = { root, 0, c->n, &c->errors };
    int rc = goc_go(skynet_node, &a);
    if (rc == 0)
        rc = goc_chan_recv(root, &c->sum);
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, c->n);
    goc_chan_free(root);

    int64_t want = (int64_t)c->n * (int64_t)(c->n - 1) / 2;
    c->s->span_ns = t1 - t0;
    c->s->fig[0] = (double)(t1 - t0) / NS_PER_MS;
    c->s->ok = rc == 0 && atomic_load(&c->errors) == 0 && c->sum == want;
}

static void skynet_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    (void)arg;
    skynet_ctx c = { .n = o->n, .s = s };
    atomic_init(&c.errors, 0);
    if (!start_runtime(o, workers, skynet_main, &c))
        s->ok = false;
    if (!s->ok)
        fprintf(stderr, "skynet: sum %" PRId64 ", want %" PRId64 "; %d calls failed\n", c.sum,
                (int64_t)c.n * (int64_t)(c.n - 1) / 2, atomic_load(&c.errors));
}

static bool bench_skynet(const bench_opts *o)
{
    sample m = run_median(o, o->workers, skynet_measure, NULL);
    json_begin(o, m.workers, o->n, m.fig[0], "ms");
    json_int("fanout", SKYNET_FANOUT);
    json_str("node_chan", "buffered, capacity 10");
    json_counts(&m, "leaf");
    json_end(m.ok);
    return m.ok;
}

/* ================================================================ echo
 * TCP echo on 127.0.0.1, as two commands run side by side:
 *
 *   goc-bench echo-server --port P [--host H] [--workers N]
 *   goc-bench echo-client --port P [--host H] [--conns 64] [--msgs 20000] [--size 64]
 *
 * echo-server listens on H:P (default 127.0.0.1; port 0 picks a free one),
 * says where on stderr ("goc-bench echo-server: listening on
 * 127.0.0.1:P, W workers") and serves until killed: one coroutine per
 * connection reads up to 16 KiB and writes back what it read, until the
 * peer closes. It prints no JSON line: the figure is the client's, and a
 * script measures the server's CPU time from outside (bench/compare.sh),
 * so the same client can drive goc's, Go's and Python's servers alike.
 *
 * echo-client opens --conns connections (all of them before the clock
 * starts), then each coroutine sends --msgs (= --n) messages of --size
 * bytes, one at a time, and waits for the whole echo of one before it
 * sends the next. Figure: round trips/s = conns * msgs / span, the span
 * running from the release of all connections to the last echo. Extra
 * fields: "conns", "msg_size", "round_trips", "secs". Check: every byte
 * of every echo equals what was sent; each message is a pseudo-random
 * pattern seeded by its connection and sequence number, so a reordered,
 * stale or misrouted echo fails it as surely as a corrupted one. Every I/O
 * call has a 10 s timeout: a server that stops answering fails the run
 * instead of hanging it. */

#define ECHO_CONNS          64
#define ECHO_MSG_SIZE       64
/* The client writes a whole message before it reads the echo: a message
 * must fit in the socket buffers on the way, or both ends would wait on a
 * full buffer until the timeout. 64 KiB fits in Linux's defaults. */
#define ECHO_SIZE_MAX       65536
#define ECHO_SERVER_BUF     16384
#define ECHO_IO_TIMEOUT_NS  (10 * ONE_SECOND_NS)
#define ECHO_EMFILE_PAUSE_NS (10 * INT64_C(1000000))
/* Client failures that are not goc errors (positive, so they never clash): */
#define ECHO_SHORT          1 /* the server closed before echoing everything */
#define ECHO_MISMATCH       2 /* an echo differed from what was sent */

static const char *echo_host(const bench_opts *o)
{
    return o->host ? o->host : "127.0.0.1";
}

static const char *echo_strerror(int err)
{
    if (err == ECHO_SHORT)
        return "the server closed the connection early";
    if (err == ECHO_MISMATCH)
        return "an echo differed from the message sent";
    /* goc_strerror names the GOC_E* codes; the plain errno codes that
     * network calls return (-ECONNREFUSED ...) are libc's to name */
    const char *name = goc_strerror(err);
    if (err < 0 && strcmp(name, "unknown error") == 0)
        name = strerror(-err);
    return name;
}

/* ---- server */

typedef struct echo_server_ctx {
    const char *host;
    int         port;
    int         rc; /* why serving stopped */
} echo_server_ctx;

static void echo_serve_conn(void *arg)
{
    goc_tcp *conn = arg;
    unsigned char *buf = malloc(ECHO_SERVER_BUF);
    while (buf) {
        ssize_t n = goc_tcp_read(conn, buf, ECHO_SERVER_BUF, -1);
        if (n <= 0 || goc_tcp_write(conn, buf, (size_t)n, -1) < 0)
            break; /* end of stream, or the peer went away */
    }
    free(buf);
    goc_tcp_close(conn);
}

/* The main coroutine: the accept loop. It returns only on an error. */
static void echo_server_main(void *arg)
{
    echo_server_ctx *c = arg;
    goc_tcp *l = NULL;
    c->rc = goc_tcp_listen(c->host, c->port, 0, &l);
    if (c->rc != 0)
        return;
    fprintf(stderr, "goc-bench echo-server: listening on %s:%d, %d worker%s\n", c->host,
            goc_tcp_port(l), goc_workers(), goc_workers() == 1 ? "" : "s");
    for (;;) {
        goc_tcp *conn;
        int rc = goc_tcp_accept(l, &conn, -1);
        if (rc == 0) {
            if (goc_go(echo_serve_conn, conn) != 0)
                goc_tcp_close(conn);
        } else if (rc == -EMFILE || rc == -ENFILE || rc == GOC_ENOMEM) {
            goc_sleep(ECHO_EMFILE_PAUSE_NS); /* out of descriptors: let some close */
        } else {
            c->rc = rc;
            break;
        }
    }
    goc_tcp_close(l);
}

static bool bench_echo_server(const bench_opts *o)
{
    if (o->port < 0) {
        fprintf(stderr, "goc-bench echo-server: needs --port P (0: pick a free one)\n");
        return false;
    }
    echo_server_ctx c = { .host = echo_host(o), .port = o->port, .rc = 0 };
    if (!start_runtime(o, o->workers, echo_server_main, &c))
        return false;
    fprintf(stderr, "goc-bench echo-server: %s:%d: %s\n", c.host, c.port, echo_strerror(c.rc));
    return false;
}

/* ---- client */

typedef struct echo_ctx echo_ctx;

typedef struct echo_conn {
    echo_ctx      *c;
    long           id;
    unsigned char *out, *in; /* size bytes each, allocated before goc_run */
    long           echoed;   /* round trips whose echo matched */
    int            err;      /* the first failure: a goc error or ECHO_* */
} echo_conn;

struct echo_ctx {
    const char *host;
    int         port;
    long        conns, msgs;
    size_t      size;
    echo_conn  *conn;    /* conns of them */
    goc_chan   *start;   /* closed by main: every connection may go */
    goc_wg     *ready;   /* connected (or failed to) */
    goc_wg     *done;    /* finished */
    int         main_err;
    sample     *s;
};

/* Message seq of connection id: a pattern no other message shares. */
static void echo_fill(unsigned char *buf, size_t size, long id, long seq)
{
    uint64_t x = (((uint64_t)id << 32) ^ (uint64_t)seq) * CPU_SEED | 1;
    for (size_t i = 0; i < size; i++) {
        x = xorshift64(x);
        buf[i] = (unsigned char)(x >> 24);
    }
}

/* One round trip: 0, a goc error, ECHO_SHORT or ECHO_MISMATCH. */
static int echo_round_trip(goc_tcp *s, echo_conn *k, long seq)
{
    size_t size = k->c->size;
    echo_fill(k->out, size, k->id, seq);
    ssize_t n = goc_tcp_write(s, k->out, size, ECHO_IO_TIMEOUT_NS);
    if (n < 0)
        return (int)n;
    n = goc_tcp_read_full(s, k->in, size, ECHO_IO_TIMEOUT_NS);
    if (n < 0)
        return (int)n;
    if ((size_t)n < size)
        return ECHO_SHORT;
    return memcmp(k->in, k->out, size) == 0 ? 0 : ECHO_MISMATCH;
}

static void echo_client_conn(void *arg)
{
    echo_conn *k = arg;
    echo_ctx *c = k->c;
    goc_tcp *s = NULL;
    k->err = goc_tcp_connect(c->host, c->port, &s, ECHO_IO_TIMEOUT_NS);
    goc_wg_done(c->ready);
    int rc = goc_chan_recv(c->start, NULL); /* closed: the start signal */
    if (k->err == 0 && rc != GOC_ECLOSED)
        k->err = rc != 0 ? rc : GOC_EINVAL; /* nobody sends on start */
    for (long seq = 0; k->err == 0 && seq < c->msgs; seq++) {
        k->err = echo_round_trip(s, k, seq);
        if (k->err == 0)
            k->echoed++;
    }
    if (s)
        goc_tcp_close(s);
    goc_wg_done(c->done);
}

static void echo_client_main(void *arg)
{
    echo_ctx *c = arg;
    c->s->workers = goc_workers();
    c->start = goc_chan_make(0, 0);
    c->ready = goc_wg_new();
    c->done = goc_wg_new();
    if (!c->start || !c->ready || !c->done) {
        c->main_err = GOC_ENOMEM;
        goc_chan_free(c->start);
        goc_wg_free(c->ready);
        goc_wg_free(c->done);
        return;
    }
    goc_wg_add(c->ready, (int)c->conns);
    goc_wg_add(c->done, (int)c->conns);
    for (long i = 0; i < c->conns; i++) {
        int rc = goc_go(echo_client_conn, &c->conn[i]);
        if (rc != 0) {
            c->conn[i].err = rc;
            goc_wg_done(c->ready);
            goc_wg_done(c->done);
        }
    }
    int rc = goc_wg_wait(c->ready);

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_chan_close(c->start);
    if (rc == 0)
        rc = goc_wg_wait(c->done);
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, (double)c->conns * (double)c->msgs);

    c->main_err = rc;
    if (rc == 0) { /* otherwise coroutines may still use them: goc_run cancels those */
        goc_chan_free(c->start);
        goc_wg_free(c->ready);
        goc_wg_free(c->done);
    }
    c->s->span_ns = t1 - t0;
}

static void echo_client_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    echo_ctx *c = arg;
    c->s = s;
    c->main_err = 0;
    for (long i = 0; i < c->conns; i++) {
        c->conn[i].echoed = 0;
        c->conn[i].err = 0;
    }
    if (!start_runtime(o, workers, echo_client_main, c)) {
        s->ok = false;
        return;
    }

    long echoed = 0, failed = 0;
    int first_err = 0;
    for (long i = 0; i < c->conns; i++) {
        echoed += c->conn[i].echoed;
        if (c->conn[i].err != 0 && failed++ == 0)
            first_err = c->conn[i].err;
    }
    double secs = (double)s->span_ns / 1e9;
    s->fig[0] = secs > 0 ? (double)echoed / secs : 0;
    s->fig[1] = secs;
    s->ok = c->main_err == 0 && failed == 0 && echoed == c->conns * c->msgs;
    if (c->main_err != 0)
        fprintf(stderr, "echo-client: waiting for the connections: %s\n",
                goc_strerror(c->main_err));
    if (failed)
        fprintf(stderr, "echo-client: %ld of %ld connections to %s:%d failed, the first: %s\n",
                failed, c->conns, c->host, c->port, echo_strerror(first_err));
    if (!s->ok)
        fprintf(stderr, "echo-client: %ld of %ld round trips echoed correctly\n", echoed,
                c->conns * c->msgs);
}

static bool bench_echo_client(const bench_opts *o)
{
    if (o->port <= 0) {
        fprintf(stderr, "goc-bench echo-client: needs --port P (where echo-server listens)\n");
        return false;
    }
    echo_ctx c = {
        .host = echo_host(o),
        .port = o->port,
        .conns = o->conns > 0 ? o->conns : ECHO_CONNS,
        .msgs = o->n,
        .size = (size_t)(o->size > 0 ? o->size : ECHO_MSG_SIZE),
    };
    c.conn = calloc((size_t)c.conns, sizeof *c.conn);
    unsigned char *bufs = c.conn ? malloc((size_t)c.conns * 2 * c.size) : NULL;
    if (!bufs) {
        fprintf(stderr, "echo-client: out of memory\n");
        free(c.conn);
        return false;
    }
    for (long i = 0; i < c.conns; i++)
        c.conn[i] = (echo_conn){ .c = &c, .id = i, .out = bufs + (size_t)i * 2 * c.size,
                                 .in = bufs + ((size_t)i * 2 + 1) * c.size };

    sample m = run_median(o, o->workers, echo_client_measure, &c);
    json_begin(o, m.workers, o->n, m.fig[0], "roundtrips/s");
    json_int("conns", c.conns);
    json_int("msg_size", (long long)c.size);
    json_int("round_trips", c.conns * c.msgs);
    json_num("secs", m.fig[1]);
    json_counts(&m, "roundtrip");
    json_end(m.ok);
    free(bufs);
    free(c.conn);
    return m.ok;
}

/* ================================================================ the table */

typedef struct workload {
    const char *name;
    bool      (*run)(const bench_opts *o); /* NULL: not written yet */
    long        default_n;
    int         default_workers;           /* 0: one per core */
    const char *what;
    bool        by_name_only;              /* not part of `all` */
} workload;

static const workload workloads[] = {
    { "spawn",    bench_spawn,  1000000, 0, "N coroutines that only wg_done; ns/coroutine", false },
    { "yield",    bench_yield,  5000000, 1, "2 coroutines yield N times each; ns/switch", false },
    { "cpu",      bench_cpu,    64,      0, "N jobs of 2^24 xorshift64 steps; ms, speedup", false },
    { "idle",     bench_idle,   1000000, 0, "N parked coroutines; bytes/coroutine, wake_ms", false },
    { "timers",   bench_timers, 100000,  0, "N sleeps of 0..100 ms; lateness p99 us", false },
    { "pingpong", bench_pingpong, 1000000, 0, "counter over two unbuffered channels; ns/roundtrip", false },
    { "mpmc",     bench_mpmc,   4000000, 0, "4 producers, 4 consumers, cap 128; M msgs/s", false },
    { "select",   bench_select, 1000000, 0, "4 senders, 1 receiver selecting; ns/select", false },
    { "sieve",    bench_sieve,  3000,    0, "concurrent prime sieve, first K primes; ms", false },
    { "skynet",   bench_skynet, 1000000, 0, "skynet tree, fan-out 10; ms", false },
    /* TCP echo: a server and a client, run side by side (not in `all`): */
    { "echo-server", bench_echo_server, 0, 0, "TCP echo server on --port, until killed",
      true },
    { "echo-client", bench_echo_client, 20000, 0, "--conns 64 x --msgs 20000 echoes; round trips/s",
      true },
};
#define N_WORKLOADS (sizeof workloads / sizeof workloads[0])

static const workload *find_workload(const char *name)
{
    for (size_t i = 0; i < N_WORKLOADS; i++)
        if (strcmp(workloads[i].name, name) == 0)
            return &workloads[i];
    return NULL;
}

/* ================================================================ main */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: goc-bench <workload|all|list> [--workers N] [--n N]\n"
            "                 [--stack-size BYTES] [--runs R]\n"
            "       goc-bench echo-server --port P [--host H] [--workers N]\n"
            "       goc-bench echo-client --port P [--host H] [--conns C] [--msgs M]\n"
            "                 [--size B] [--workers N] [--runs R]\n"
            "  --workers N      worker threads (0: one per core; default per workload)\n"
            "  --n N            the workload's size (default per workload; for cpu\n"
            "                   the number of jobs; with 'all', every workload's)\n"
            "  --stack-size B   usable stack per coroutine (0: library default)\n"
            "  --runs R         runs to take the median of (default: 1, or 5 if a\n"
            "                   run is under 1 s)\n"
            "  --host H         echo: the address (default 127.0.0.1)\n"
            "  --port P         echo: the port (echo-server: 0 picks a free one)\n"
            "  --conns C        echo-client: connections (default 64)\n"
            "  --msgs M         echo-client: messages per connection (= --n; 20000)\n"
            "  --size B         echo-client: bytes per message (default 64, at most 65536)\n"
            "workloads ('all' runs those without *):\n");
    for (size_t i = 0; i < N_WORKLOADS; i++)
        fprintf(f, "  %-12s%s %s%s\n", workloads[i].name, workloads[i].by_name_only ? "*" : " ",
                workloads[i].what, workloads[i].run ? "" : "  [not yet]");
}

static bool parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = (long)v;
    return true;
}

/* Parse the options after the workload name. false on a bad one. */
static bool parse_opts(int argc, char **argv, bench_opts *o)
{
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;
        char name[32];
        const char *eq = strchr(arg, '=');
        if (eq && (size_t)(eq - arg) < sizeof name) { /* --opt=value */
            memcpy(name, arg, (size_t)(eq - arg));
            name[eq - arg] = '\0';
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", arg);
            if (i + 1 < argc)
                val = argv[++i];
        }
        if (!val) {
            fprintf(stderr, "goc-bench: %s needs a value\n", name);
            return false;
        }
        long v;
        if (strcmp(name, "--workers") == 0 && parse_long(val, 0, 4096, &v)) {
            o->workers = (int)v;
            o->workers_set = true;
        } else if ((strcmp(name, "--n") == 0 || strcmp(name, "--msgs") == 0) &&
                   parse_long(val, 1, INT_MAX, &v)) {
            o->n = v;
            o->n_set = true;
        } else if (strcmp(name, "--stack-size") == 0 && parse_long(val, 0, LONG_MAX, &v)) {
            o->stack_size = (size_t)v;
        } else if (strcmp(name, "--runs") == 0 && parse_long(val, 1, 64, &v)) {
            o->runs = (int)v;
        } else if (strcmp(name, "--host") == 0 && *val) {
            o->host = val;
        } else if (strcmp(name, "--port") == 0 && parse_long(val, 0, 65535, &v)) {
            o->port = (int)v;
        } else if (strcmp(name, "--conns") == 0 && parse_long(val, 1, 100000, &v)) {
            o->conns = v;
        } else if (strcmp(name, "--size") == 0 && parse_long(val, 1, ECHO_SIZE_MAX, &v)) {
            o->size = v;
        } else {
            fprintf(stderr, "goc-bench: bad option %s %s\n", name, val);
            return false;
        }
    }
    return true;
}

/* Run one workload with the user's options over its defaults. */
static bool run_workload(const workload *w, const bench_opts *given)
{
    bench_opts o = *given;
    o.workload = w->name;
    if (!o.workers_set)
        o.workers = w->default_workers;
    if (!o.n_set)
        o.n = w->default_n;
    return w->run(&o);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "list") == 0) {
        for (size_t i = 0; i < N_WORKLOADS; i++)
            if (workloads[i].run)
                printf("%s\n", workloads[i].name);
        return 0;
    }
    bench_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.port = -1;
    if (!parse_opts(argc, argv, &opts)) {
        usage(stderr);
        return 2;
    }

    if (strcmp(argv[1], "all") == 0) {
        bool ok = true;
        for (size_t i = 0; i < N_WORKLOADS; i++)
            if (workloads[i].run && !workloads[i].by_name_only)
                ok = run_workload(&workloads[i], &opts) && ok;
        return ok ? 0 : 1;
    }

    const workload *w = find_workload(argv[1]);
    if (!w) {
        fprintf(stderr, "goc-bench: unknown workload '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    if (!w->run) {
        fprintf(stderr, "goc-bench: workload '%s' is not written yet\n",
                w->name);
        return 2;
    }
    return run_workload(w, &opts) ? 0 : 1;
}
