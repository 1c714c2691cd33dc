/*
 * dill_bench.c - goc-bench's one-thread workloads written with libdill,
 * a C coroutine library a C programmer would pick instead of goc on one
 * thread. Built and run by bench/peers/c/run.sh against libdill built from
 * its public sources (nothing of libdill lives in this repository).
 *
 *   yield     2 coroutines each call yield() N times: ns per switch
 *   pingpong  2 coroutines bounce a counter over two unbuffered channels
 *             N times: ns per round trip
 *   spawn     N coroutines that do nothing, in one bundle, then wait for
 *             all: ns per coroutine (libdill starts each at once, on its
 *             creator's time slice; goc queues it, as Go and asyncio do)
 */
#include <libdill.h>

#include "peer_common.h"

static long g_count[2];

static coroutine void yielder(long n, int who)
{
    long i;
    for (i = 0; i < n; i++)
        if (yield() != 0)
            break;
    g_count[who] = i;
}

static peer_sample run_yield(long n)
{
    g_count[0] = g_count[1] = 0;
    int b = bundle();
    peer_mark t0 = peer_mark_now();
    bundle_go(b, yielder(n, 0));
    bundle_go(b, yielder(n, 1));
    int rc = bundle_wait(b, -1);
    peer_sample s = peer_since(&t0, 2.0 * (double)n, rc == 0 && g_count[0] == n && g_count[1] == n);
    hclose(b);
    return s;
}

static int64_t g_final;

static coroutine void ping(int ping_ch, int pong_ch, long n)
{
    int64_t v = 0;
    for (long i = 0; i < n; i++)
        if (chsend(ping_ch, &v, sizeof v, -1) != 0 || chrecv(pong_ch, &v, sizeof v, -1) != 0)
            break;
    g_final = v;
}

static coroutine void pong(int ping_ch, int pong_ch, long n)
{
    int64_t v;
    for (long i = 0; i < n; i++) {
        if (chrecv(ping_ch, &v, sizeof v, -1) != 0)
            break;
        v++;
        if (chsend(pong_ch, &v, sizeof v, -1) != 0)
            break;
    }
}

static peer_sample run_pingpong(long n)
{
    int pi[2], po[2];
    g_final = -1;
    if (chmake(pi) != 0 || chmake(po) != 0) {
        peer_sample bad = { 0 };
        return bad;
    }
    int b = bundle();
    peer_mark t0 = peer_mark_now();
    bundle_go(b, ping(pi[0], po[0], n));
    bundle_go(b, pong(pi[1], po[1], n));
    int rc = bundle_wait(b, -1);
    peer_sample s = peer_since(&t0, (double)n, rc == 0 && g_final == n);
    hclose(b);
    hclose(pi[0]);
    hclose(pi[1]);
    hclose(po[0]);
    hclose(po[1]);
    return s;
}

static long g_spawned;

static coroutine void nothing(void)
{
    g_spawned++;
}

static peer_sample run_spawn(long n)
{
    g_spawned = 0;
    int b = bundle();
    peer_mark t0 = peer_mark_now();
    long failed = 0;
    for (long i = 0; i < n; i++)
        if (bundle_go(b, nothing()) != 0)
            failed++;
    int rc = bundle_wait(b, -1);
    peer_sample s = peer_since(&t0, (double)n, rc == 0 && failed == 0 && g_spawned == n);
    hclose(b);
    return s;
}

int main(int argc, char **argv)
{
    long n;
    const char *w = peer_args(argc, argv, &n);
    int all = strcmp(w, "all") == 0, ok = 1;
    peer_sample runs[PEER_RUNS];
    if (all || strcmp(w, "yield") == 0) {
        long k = n ? n : 5000000;
        for (int i = 0; i < PEER_RUNS; i++)
            runs[i] = run_yield(k);
        ok &= peer_report("libdill", "yield", k, "ns/switch", "switch", runs, PEER_RUNS);
    }
    if (all || strcmp(w, "pingpong") == 0) {
        long k = n ? n : 1000000;
        for (int i = 0; i < PEER_RUNS; i++)
            runs[i] = run_pingpong(k);
        ok &= peer_report("libdill", "pingpong", k, "ns/roundtrip", "roundtrip", runs, PEER_RUNS);
    }
    if (all || strcmp(w, "spawn") == 0) {
        long k = n ? n : 1000000;
        for (int i = 0; i < PEER_RUNS; i++)
            runs[i] = run_spawn(k);
        ok &= peer_report("libdill", "spawn", k, "ns/coroutine", "coroutine", runs, PEER_RUNS);
    }
    return ok ? 0 : 1;
}
