/*
 * peer_common.h - what the single-thread C peers (libdill, neco) share:
 * the clock, getrusage counts per operation, medians and the JSON line of
 * goc-bench (BENCHMARKS.md), so their figures sit beside goc's unchanged.
 */
#ifndef GOC_PEER_COMMON_H
#define GOC_PEER_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define PEER_RUNS 5

typedef struct peer_sample {
    double value;                 /* the figure: ns per operation */
    double minflt, nvcsw, nivcsw; /* per operation */
    int ok;
} peer_sample;

typedef struct peer_mark {
    int64_t ns;
    struct rusage ru;
} peer_mark;

static inline int64_t peer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline peer_mark peer_mark_now(void)
{
    peer_mark m;
    getrusage(RUSAGE_SELF, &m.ru);
    m.ns = peer_now();
    return m;
}

/* The figure and the counts between a and now, over ops operations. */
static inline peer_sample peer_since(const peer_mark *a, double ops, int ok)
{
    peer_mark b = peer_mark_now();
    peer_sample s;
    s.value = (double)(b.ns - a->ns) / ops;
    s.minflt = (double)(b.ru.ru_minflt - a->ru.ru_minflt) / ops;
    s.nvcsw = (double)(b.ru.ru_nvcsw - a->ru.ru_nvcsw) / ops;
    s.nivcsw = (double)(b.ru.ru_nivcsw - a->ru.ru_nivcsw) / ops;
    s.ok = ok;
    return s;
}

static inline int peer_cmp(const void *a, const void *b)
{
    double x = ((const peer_sample *)a)->value, y = ((const peer_sample *)b)->value;
    return (x > y) - (x < y);
}

/* Print the median of runs samples as a goc-bench JSON line. */
static inline int peer_report(const char *peer, const char *workload, long n, const char *unit,
                              const char *per, peer_sample *runs, int nruns)
{
    int ok = 1;
    for (int i = 0; i < nruns; i++)
        ok &= runs[i].ok;
    qsort(runs, (size_t)nruns, sizeof *runs, peer_cmp);
    const peer_sample *m = &runs[nruns / 2];
    printf("{\"peer\":\"%s\",\"workload\":\"%s\",\"workers\":1,\"n\":%ld,\"value\":%.1f,"
           "\"unit\":\"%s\",\"minflt\":%.5f,\"nvcsw\":%.5f,\"nivcsw\":%.5f,\"per\":\"%s\","
           "\"ok\":%s}\n",
           peer, workload, n, m->value, unit, m->minflt, m->nvcsw, m->nivcsw, per,
           ok ? "true" : "false");
    fflush(stdout);
    return ok;
}

/* argv: [workload] [--n N]; returns the workload name ("all" if none). */
static inline const char *peer_args(int argc, char **argv, long *n)
{
    const char *w = "all";
    *n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
            *n = atol(argv[++i]);
        else
            w = argv[i];
    }
    return w;
}

#endif
