/*
 * workloads.h - every goc-bench workload's entry point, and the table
 * main() dispatches on (workloads.c).
 *
 * Adding a workload: write bench/bench_NAME.c with a design comment at the
 * top and `bool bench_NAME(const bench_opts *o)`, which prints its JSON
 * line (bench_run(), or json_begin()/json_*()/json_end()) and returns its
 * ok; declare it here, fill in its row of the table in workloads.c and add
 * the file to bench/CMakeLists.txt.
 */
#ifndef BENCH_WORKLOADS_H
#define BENCH_WORKLOADS_H

#include "harness.h"

#include <stdbool.h>
#include <stddef.h>

bool bench_spawn(const bench_opts *o);
bool bench_yield(const bench_opts *o);
bool bench_cpu(const bench_opts *o);
bool bench_idle(const bench_opts *o);
bool bench_timers(const bench_opts *o);
bool bench_pingpong(const bench_opts *o);
bool bench_mpmc(const bench_opts *o);
bool bench_select(const bench_opts *o);
bool bench_sieve(const bench_opts *o);
bool bench_skynet(const bench_opts *o);
bool bench_echo_server(const bench_opts *o);
bool bench_echo_client(const bench_opts *o);

typedef struct workload {
    const char *name;
    bool      (*run)(const bench_opts *o); /* NULL: not written yet */
    long        default_n;
    int         default_workers;           /* 0: one per core */
    const char *what;                      /* one line, for the usage */
    bool        by_name_only;              /* not part of `all` */
} workload;

extern const workload workloads[];
extern const size_t n_workloads;

/* The row named `name`, or NULL. */
const workload *find_workload(const char *name);

#endif /* BENCH_WORKLOADS_H */
