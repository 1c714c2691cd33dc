/*
 * neco_bench.c - goc-bench's one-thread workloads written with neco, a C
 * coroutine library a C programmer would pick instead of goc on one
 * thread. Built and run by bench/peers/c/run.sh against neco built from
 * its public sources (nothing of neco lives in this repository).
 *
 *   yield     2 coroutines each call neco_yield() N times: ns per switch
 *   pingpong  2 coroutines bounce a counter over two unbuffered channels
 *             N times: ns per round trip
 *   spawn     N coroutines that each call neco_waitgroup_done, then wait
 *             for all: ns per coroutine (neco starts each at once)
 */
#include "neco.h"

#include "peer_common.h"

typedef struct bench_args {
    const char *workload;
    long n;
    int ok;
} bench_args;

static long g_count[2];
static neco_waitgroup g_wg;

static void yielder(int argc, void *argv[])
{
    (void)argc;
    long n = *(long *)argv[0];
    int who = *(int *)argv[1];
    long i;
    for (i = 0; i < n; i++)
        if (neco_yield() != NECO_OK)
            break;
    g_count[who] = i;
    neco_waitgroup_done(&g_wg);
}

static peer_sample run_yield(long n)
{
    int zero = 0, one = 1;
    g_count[0] = g_count[1] = 0;
    neco_waitgroup_init(&g_wg);
    neco_waitgroup_add(&g_wg, 2);
    peer_mark t0 = peer_mark_now();
    int rc = neco_start(yielder, 2, &n, &zero) | neco_start(yielder, 2, &n, &one);
    rc |= neco_waitgroup_wait(&g_wg);
    return peer_since(&t0, 2.0 * (double)n, rc == NECO_OK && g_count[0] == n && g_count[1] == n);
}

static int64_t g_final;

static void ping(int argc, void *argv[])
{
    (void)argc;
    neco_chan *pi = argv[0], *po = argv[1];
    long n = *(long *)argv[2];
    int64_t v = 0;
    for (long i = 0; i < n; i++)
        if (neco_chan_send(pi, &v) != NECO_OK || neco_chan_recv(po, &v) != NECO_OK)
            break;
    g_final = v;
    neco_waitgroup_done(&g_wg);
}

static void pong(int argc, void *argv[])
{
    (void)argc;
    neco_chan *pi = argv[0], *po = argv[1];
    long n = *(long *)argv[2];
    int64_t v;
    for (long i = 0; i < n; i++) {
        if (neco_chan_recv(pi, &v) != NECO_OK)
            break;
        v++;
        if (neco_chan_send(po, &v) != NECO_OK)
            break;
    }
    neco_waitgroup_done(&g_wg);
}

static peer_sample run_pingpong(long n)
{
    neco_chan *pi, *po;
    peer_sample bad = { 0 };
    if (neco_chan_make(&pi, sizeof(int64_t), 0) != NECO_OK ||
        neco_chan_make(&po, sizeof(int64_t), 0) != NECO_OK)
        return bad;
    g_final = -1;
    neco_waitgroup_init(&g_wg);
    neco_waitgroup_add(&g_wg, 2);
    peer_mark t0 = peer_mark_now();
    int rc = neco_start(ping, 3, pi, po, &n) | neco_start(pong, 3, pi, po, &n);
    rc |= neco_waitgroup_wait(&g_wg);
    peer_sample s = peer_since(&t0, (double)n, rc == NECO_OK && g_final == n);
    neco_chan_release(pi);
    neco_chan_release(po);
    return s;
}

static void nothing(int argc, void *argv[])
{
    (void)argc;
    (void)argv;
    neco_waitgroup_done(&g_wg);
}

static peer_sample run_spawn(long n)
{
    neco_waitgroup_init(&g_wg);
    peer_mark t0 = peer_mark_now();
    long failed = 0;
    neco_waitgroup_add(&g_wg, (int)n);
    for (long i = 0; i < n; i++)
        if (neco_start(nothing, 0) != NECO_OK) {
            failed++;
            neco_waitgroup_done(&g_wg);
        }
    int rc = neco_waitgroup_wait(&g_wg);
    return peer_since(&t0, (double)n, rc == NECO_OK && failed == 0);
}

static void bench_main(int argc, void *argv[])
{
    (void)argc;
    bench_args *a = argv[0];
    int all = strcmp(a->workload, "all") == 0;
    peer_sample runs[PEER_RUNS];
    a->ok = 1;
    if (all || strcmp(a->workload, "yield") == 0) {
        long k = a->n ? a->n : 5000000;
        for (int i = 0; i < PEER_RUNS; i++)
            runs[i] = run_yield(k);
        a->ok &= peer_report("neco", "yield", k, "ns/switch", "switch", runs, PEER_RUNS);
    }
    if (all || strcmp(a->workload, "pingpong") == 0) {
        long k = a->n ? a->n : 1000000;
        for (int i = 0; i < PEER_RUNS; i++)
            runs[i] = run_pingpong(k);
        a->ok &= peer_report("neco", "pingpong", k, "ns/roundtrip", "roundtrip", runs, PEER_RUNS);
    }
    if (all || strcmp(a->workload, "spawn") == 0) {
        long k = a->n ? a->n : 1000000;
        for (int i = 0; i < PEER_RUNS; i++)
            runs[i] = run_spawn(k);
        a->ok &= peer_report("neco", "spawn", k, "ns/coroutine", "coroutine", runs, PEER_RUNS);
    }
}

int main(int argc, char **argv)
{
    bench_args a = { 0 };
    a.workload = peer_args(argc, argv, &a.n);
    int rc = neco_start(bench_main, 1, &a);
    if (rc != NECO_OK) {
        fprintf(stderr, "neco_start: %s\n", neco_strerror(rc));
        return 1;
    }
    return a.ok ? 0 : 1;
}
