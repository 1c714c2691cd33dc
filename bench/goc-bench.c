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
 * Workers: --workers 0 means one per core (the library decides; the JSON
 * reports the count goc_workers() gave inside the run). Each workload has
 * its own default when --workers is not given (yield: 1, others: 0).
 *
 * The program in files:
 *   goc-bench.c     this: the usage and main(), which dispatches by name
 *   workloads.[ch]  the table of workloads (name, entry point, defaults,
 *                   one-line description); adding one is described there
 *   harness.[ch]    options, statistics, runs and medians, the JSON line;
 *                   how figures are taken is described there
 *   bench_*.c       one workload each, its design in a comment at the top
 */
#include "harness.h"
#include "workloads.h"

#include <stdio.h>
#include <string.h>

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
    for (size_t i = 0; i < n_workloads; i++)
        fprintf(f, "  %-12s%s %s%s\n", workloads[i].name, workloads[i].by_name_only ? "*" : " ",
                workloads[i].what, workloads[i].run ? "" : "  [not yet]");
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
        for (size_t i = 0; i < n_workloads; i++)
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
        for (size_t i = 0; i < n_workloads; i++)
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
