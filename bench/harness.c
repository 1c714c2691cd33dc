/*
 * harness.c - goc-bench's shared machinery (see harness.h): option
 * parsing, statistics, counts, the runs and their medians, the JSON line.
 */
#include "harness.h"

#include <errno.h>
#include <limits.h>
#include <math.h> /* isfinite: a macro, no libm needed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define AUTO_RUNS 5
#define MAX_RUNS  64 /* --runs is at most this */

/* ------------------------------------------------------------ options */

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

bool parse_opts(int argc, char **argv, bench_opts *o)
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
        } else if (strcmp(name, "--runs") == 0 && parse_long(val, 1, MAX_RUNS, &v)) {
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

/* ------------------------------------------------------------ timing / stats */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return (n % 2) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

int64_t percentile_sorted(const int64_t *sorted, size_t n, double p)
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

/* ------------------------------------------------------------ samples */

count_mark counts_now(void)
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

void sample_counts(sample *s, const count_mark *u0, double ops)
{
    count_mark u1 = counts_now();
    for (int i = 0; i < COUNTS; i++)
        s->cnt[i] = ops > 0 ? (double)(u1.v[i] - u0->v[i]) / ops : 0;
}

/* ------------------------------------------------------------ running */

bool start_runtime(const bench_opts *o, int workers, void (*main_fn)(void *), void *arg)
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

sample run_median(const bench_opts *o, int workers, measure_fn measure, void *arg)
{
    sample runs[MAX_RUNS];
    int want = o->runs > 0 ? o->runs : 1;
    if (want > MAX_RUNS)
        want = MAX_RUNS;
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
    double col[MAX_RUNS];
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

bool bench_run(const bench_opts *o, measure_fn measure, void *arg, const bench_line *line)
{
    sample m = run_median(o, o->workers, measure, arg);
    json_begin(o, m.workers, o->n, m.fig[line->value_fig], line->unit);
    if (line->extra)
        line->extra(o, &m, arg);
    json_counts(&m, line->per);
    json_end(m.ok);
    return m.ok;
}

/* ------------------------------------------------------------ JSON output */

static bool json_first;

static void json_key(const char *key)
{
    printf("%s\"%s\":", json_first ? "{" : ",", key);
    json_first = false;
}

void json_str(const char *key, const char *val)
{
    json_key(key);
    printf("\"%s\"", val); /* only our own fixed ASCII strings: no escaping */
}

void json_int(const char *key, long long val)
{
    json_key(key);
    printf("%lld", val);
}

void json_num(const char *key, double val)
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

void json_bool(const char *key, bool val)
{
    json_key(key);
    printf("%s", val ? "true" : "false");
}

void json_begin(const bench_opts *o, int workers, long n, double value, const char *unit)
{
    json_first = true;
    json_str("workload", o->workload);
    json_int("workers", workers);
    json_int("n", n);
    json_num("value", value);
    json_str("unit", unit);
}

void json_end(bool ok)
{
    json_bool("ok", ok);
    printf("}\n");
    fflush(stdout);
}

void json_count(const char *key, double val)
{
    json_key(key);
    if (isfinite(val))
        printf("%.4g", val);
    else
        printf("null");
}

void json_counts(const sample *m, const char *per)
{
    json_count("minflt", m->cnt[0]);
    json_count("nvcsw", m->cnt[1]);
    json_count("nivcsw", m->cnt[2]);
    json_count("wakeups", m->cnt[3]);
    json_count("wasted", m->cnt[4]);
    json_str("counts_per", per);
}
