/*
 * harness.h - what every goc-bench workload shares: the options, the
 * clock and statistics, one measured run (a sample), the median over
 * runs, and the JSON line.
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
 *     idle is the exception: it always runs once (see bench_idle.c).
 *   - A workload is "ok" only if its check passed in every run.
 *   - Main coroutines stay light on stack (--stack-size may be as small as
 *     2048 and the main coroutine gets it too): no stdio, sorting or
 *     allocation inside them; that happens before and after goc_run.
 *
 * A workload's part: a main coroutine that takes the time and the counts
 * around its work and fills a `sample`; a measure_fn that starts the
 * runtime on it with start_runtime() and checks what it left; and an entry
 * point `bool bench_NAME(const bench_opts *o)`, which in most workloads is
 * one call to bench_run() (run_median + the JSON line).
 */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* open, read, close, getrusage */
#endif

#include "goc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* The echo client writes a whole message before it reads the echo: a
 * message must fit in the socket buffers on the way, or both ends would
 * wait on a full buffer until the timeout. 64 KiB fits in Linux's
 * defaults. --size is checked against it. */
#define ECHO_SIZE_MAX 65536

/* Parse the options after the workload name (argv[2] on) into *o, which
 * the caller has zeroed (and set port = -1). false on a bad one; the
 * reason goes to stderr. */
bool parse_opts(int argc, char **argv, bench_opts *o);

/* ------------------------------------------------------------ timing / stats */

#define NS_PER_MS 1000000.0
#define NS_PER_US 1000.0
#define ONE_SECOND_NS INT64_C(1000000000)

/* For qsort over int64_t. */
int cmp_i64(const void *a, const void *b);

/* Median of v[0..n-1] (n >= 1); sorts v in place. */
double median(double *v, int n);

/* Nearest-rank percentile p (0 < p <= 1) of a sorted array. */
int64_t percentile_sorted(const int64_t *sorted, size_t n, double p);

/* Marsaglia's xorshift64 (13, 7, 17): the same generator in the C, Go and
 * Python versions, so the cpu job and the timer durations are identical. */
static inline uint64_t xorshift64(uint64_t x)
{
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

/* ------------------------------------------------------------ samples */

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

count_mark counts_now(void);

/* The counts since *u0, per operation, into s. */
void sample_counts(sample *s, const count_mark *u0, double ops);

/* ------------------------------------------------------------ running */

/* One measurement: starts the runtime itself (via start_runtime), fills s. */
typedef void (*measure_fn)(const bench_opts *o, int workers, void *arg, sample *s);

/* goc_run with the options' stack size; workers pinned to cores, except
 * the echo client's: it shares the machine with the server it drives, and
 * pinned it would sit on the cores a 1-worker server pins to first. false
 * if the runtime refused to start (the reason goes to stderr). */
bool start_runtime(const bench_opts *o, int workers, void (*main_fn)(void *), void *arg);

/* Run `measure` once; if that took under 1 s, 4 more times; or exactly
 * o->runs times when given. Returns the per-figure medians; ok only if
 * every run was ok; workers from the first run. */
sample run_median(const bench_opts *o, int workers, measure_fn measure, void *arg);

/* What a workload's JSON line says beyond the common fields. */
typedef struct bench_line {
    const char *unit;      /* the unit of "value" */
    int         value_fig; /* "value" is the median sample's fig[value_fig] */
    const char *per;       /* "counts_per": the operation the counts are per */
    /* The workload's own fields, printed after "unit" and before the
     * counts (json_int() ...), or NULL for none. arg: run_median's. */
    void (*extra)(const bench_opts *o, const sample *m, void *arg);
} bench_line;

/* The usual workload: run_median(o, o->workers, measure, arg), then its
 * JSON line: workload, workers, n, value, unit, the extra fields, the
 * counts, ok. Returns ok. */
bool bench_run(const bench_opts *o, measure_fn measure, void *arg, const bench_line *line);

/* ------------------------------------------------------------ JSON output */

/* Every line starts with workload, workers, n, value, unit ... */
void json_begin(const bench_opts *o, int workers, long n, double value, const char *unit);
void json_str(const char *key, const char *val); /* val: fixed ASCII, not escaped */
void json_int(const char *key, long long val);
void json_num(const char *key, double val);      /* %.3f, trailing zeros trimmed */
void json_bool(const char *key, bool val);
/* A count per operation: 4 significant digits (a fault per 10,000
 * coroutines is a figure, not 0). */
void json_count(const char *key, double val);
/* minflt, nvcsw, nivcsw, wake-ups sent and wasted per `per` (the
 * operation the value counts), then counts_per. */
void json_counts(const sample *m, const char *per);
/* ... and ends with ok. */
void json_end(bool ok);

#endif /* BENCH_HARNESS_H */
