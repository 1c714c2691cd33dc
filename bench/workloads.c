/*
 * workloads.c - the table of goc-bench's workloads: name, entry point,
 * default size and workers, the usage line, and whether `all` runs it.
 * main() looks names up here, `all` and `list` walk it in this order, and
 * the usage prints it.
 */
#include "workloads.h"

#include <string.h>

const workload workloads[] = {
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

const size_t n_workloads = sizeof workloads / sizeof workloads[0];

const workload *find_workload(const char *name)
{
    for (size_t i = 0; i < n_workloads; i++)
        if (strcmp(workloads[i].name, name) == 0)
            return &workloads[i];
    return NULL;
}
