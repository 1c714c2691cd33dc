#!/usr/bin/env python3
"""goc_peer.py - the Python asyncio peer of goc-bench (see shared BENCHMARKS.md).

    python3 goc_peer.py <workload|all|list> [--workers N] [--n N] [--runs R] [--stack-size B]
    python3 goc_peer.py echo-server --port P [--host H]
    python3 goc_peer.py echo-client --port P [--host H] [--conns C] [--msgs M] [--size B]

The same workloads, checks and JSON lines as goc-bench (bench/bench_*.c), written the
asyncio way. asyncio is one thread, one event loop: "workers" is always 1,
whatever --workers says (it is accepted so the same command line works).
--stack-size is accepted and ignored (asyncio coroutines have no stacks).

Each run is one asyncio.run() call and is timed inside the loop with
time.perf_counter_ns(); a workload runs once, and 4 more times if that run
took under 1 s, every figure being the median of the 5 (--runs R fixes the
count). idle always runs once.

Default sizes are goc-bench's except where CPython would take far too long
(over a minute): only cpu, which runs 2 jobs instead of 64 and scales its
"ms" to 64 jobs (see bench_cpu; the line carries a "note"). The "n" field
always says what was used. (sieve at K=3000 takes about 16 s and skynet at
1,000,000 leaves about 13 s and 1.5 GB in CPython 3.11 on a 2-core machine:
both keep goc-bench's sizes.)

Every line also carries "minflt", "nvcsw" and "nivcsw": the process's minor
page faults and voluntary / involuntary context switches (getrusage
RUSAGE_SELF) over the timed span, per operation of the workload (see
per_op and each workload's comment); medians like the rest.

Channels are asyncio.Queue; where goc uses an unbuffered channel this uses
Queue(maxsize=1), and select is asyncio.wait(FIRST_COMPLETED) over one get
task per queue (see the "channels" section and each line's "note").
"""
import asyncio
import gc
import resource
import statistics
import sys
import time

M64 = (1 << 64) - 1
AUTO_RUNS = 5


def xorshift64(x):
    """Marsaglia's xorshift64 (13, 7, 17), as in goc-bench (bench/harness.h)."""
    x ^= (x << 13) & M64
    x ^= x >> 7
    x ^= (x << 17) & M64
    return x


def percentile(sorted_vals, p):
    """Nearest-rank percentile of a sorted list, 0 < p <= 1."""
    n = len(sorted_vals)
    exact = p * n
    rank = int(exact)
    if rank < exact:
        rank += 1
    return sorted_vals[min(max(rank, 1), n) - 1]


# ------------------------------------------------------------ counts

def usage_now():
    """(minflt, nvcsw, nivcsw) from getrusage(RUSAGE_SELF); taken right beside
    the clock readings that bound a timed span, so both cover the same work."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_minflt, ru.ru_nvcsw, ru.ru_nivcsw


def per_op(u0, u1, ops):
    """The three counts from u0 to u1 divided by ops, the count the workload's
    value is per (no ops: NaN, printed as null). A measure() appends them to
    its figures, so run_median takes their medians; emit gets figs[-3:]."""
    return [(b - a) / ops if ops else float("nan") for a, b in zip(u0, u1)]


# ------------------------------------------------------------ JSON output

def fmt_num(v):
    """Like goc-bench: 3 decimals, trailing zeros trimmed."""
    if v != v or v in (float("inf"), float("-inf")):
        return "null"
    s = "%.3f" % v
    s = s.rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def emit(opts, n, value, unit, ok, counts, **extra):
    """One JSON line: workload, workers, n, value, unit, extras..., the three
    per-op counts (per_op's), ok."""
    parts = ['"workload":"%s"' % opts["workload"], '"workers":1', '"n":%d' % n,
             '"value":%s' % fmt_num(value), '"unit":"%s"' % unit]
    for k, v in extra.items():
        if isinstance(v, bool):
            parts.append('"%s":%s' % (k, "true" if v else "false"))
        elif isinstance(v, int):
            parts.append('"%s":%d' % (k, v))
        elif isinstance(v, float):
            parts.append('"%s":%s' % (k, fmt_num(v)))
        else:
            parts.append('"%s":"%s"' % (k, v))
    for k, v in zip(("minflt", "nvcsw", "nivcsw"), counts):
        # 4 significant digits, like goc-bench: 1e-4 per task is a figure
        parts.append('"%s":%s' % (k, "null" if v != v else "%.4g" % v))
    parts.append('"ok":%s' % ("true" if ok else "false"))
    print("{" + ",".join(parts) + "}", flush=True)


# ------------------------------------------------------------ running

def run_median(opts, measure):
    """measure() -> (ok, span_ns, [figures]); run it once, 4 more times if that
    took under 1 s (or exactly --runs times); medians per figure."""
    want = opts["runs"] or 1
    runs = []
    while len(runs) < want:
        r = measure()
        runs.append(r)
        if not r[0]:
            break
        if not opts["runs"] and len(runs) == 1 and r[1] < 1_000_000_000:
            want = AUTO_RUNS
    ok = all(r[0] for r in runs)
    figs = [statistics.median(r[2][i] for r in runs) for i in range(len(runs[0][2]))]
    return ok, figs


# ================================================================ spawn
# N tasks that each do nothing but count down a shared counter (the wg), the
# last one sets an Event the main coroutine waits on; ns per task.

def bench_spawn(opts):
    n = opts["n"]

    async def main():
        state = {"left": n}
        done = asyncio.Event()

        async def child():
            state["left"] -= 1
            if state["left"] == 0:
                done.set()

        u0, t0 = usage_now(), time.perf_counter_ns()
        tasks = [asyncio.create_task(child()) for _ in range(n)]
        await done.wait()
        t1, u1 = time.perf_counter_ns(), usage_now()
        ok = state["left"] == 0 and all(t.done() or not t.cancelled() for t in tasks)
        return ok, t1 - t0, [(t1 - t0) / n] + per_op(u0, u1, n)  # per task

    ok, figs = run_median(opts, lambda: asyncio.run(main()))
    emit(opts, n, figs[0], "ns/coroutine", ok, figs[-3:])
    return ok


# ================================================================ yield
# 2 tasks each await asyncio.sleep(0) N times; ns per switch = wall / 2N.

def bench_yield(opts):
    n = opts["n"]

    async def main():
        count = [0, 0]

        async def loop(k):
            i = 0
            while i < n:
                await asyncio.sleep(0)
                i += 1
            count[k] = i

        u0, t0 = usage_now(), time.perf_counter_ns()
        await asyncio.gather(loop(0), loop(1))
        t1, u1 = time.perf_counter_ns(), usage_now()
        ok = count == [n, n]
        return ok, t1 - t0, [(t1 - t0) / (2 * n)] + per_op(u0, u1, 2 * n)  # per switch

    ok, figs = run_median(opts, lambda: asyncio.run(main()))
    emit(opts, n, figs[0], "ns/switch", ok, figs[-3:])
    return ok


# ================================================================ cpu
# N jobs, each 2^24 steps of xorshift64 summing the states, run as
# coroutines on the one loop. One job takes seconds in CPython, so the
# default is 2 jobs instead of 64 and "value" is scaled to 64 jobs
# (measured ms * 64 / n: with one thread the time is linear in the job
# count); "measured_ms" is the raw figure. The expected result is goc-bench's
# (CPU_EXPECTED, checked against one job computed here when n allows).
# The value is ms, not per op: the counts are per job run (/ n, not scaled).

CPU_STEPS = 1 << 24
CPU_SEED = 0x9E3779B97F4A7C15
CPU_JOBS_REF = 64


def cpu_job(seed, steps):
    x, acc = seed, 0
    for _ in range(steps):
        x ^= (x << 13) & M64
        x ^= x >> 7
        x ^= (x << 17) & M64
        acc = (acc + x) & M64
    return acc ^ x


def bench_cpu(opts):
    n = opts["n"]
    results = [None] * n

    async def main():
        async def job(i):
            results[i] = cpu_job(CPU_SEED, CPU_STEPS)

        u0, t0 = usage_now(), time.perf_counter_ns()
        await asyncio.gather(*(job(i) for i in range(n)))
        t1, u1 = time.perf_counter_ns(), usage_now()
        return True, t1 - t0, [(t1 - t0) / 1e6] + per_op(u0, u1, n)  # per job

    _, figs = run_median(opts, lambda: asyncio.run(main()))
    # Computed once, up front in goc-bench; here after the timed runs (same
    # job, same cost), so that a slow Python does not pay for it twice.
    expected = cpu_job(CPU_SEED, CPU_STEPS)
    ok = all(r == expected for r in results)
    measured = figs[0]
    extra = {"speedup": 1.0, "measured_ms": measured, "workers_seen": 1}
    if n != CPU_JOBS_REF:
        extra["note"] = "value scaled to %d jobs from n=%d (one thread: linear)" % (CPU_JOBS_REF, n)
    emit(opts, n, measured * CPU_JOBS_REF / n, "ms", ok, figs[-3:], **extra)
    return ok


# ================================================================ idle
# N tasks parked on one asyncio.Event; RSS growth per task (VmRSS after all
# are parked - before, after gc.collect()), "pte_bytes" from VmPTE,
# "wake_ms" from gate.set() until all have exited. Always one run. The
# counts cover the tasks' whole life, from the "before" reading through
# parking to the last exit after the wake, per task (main's 1 ms polls and
# 20 ms sleep are in them: a few dozen switches, nothing per task).

def proc_status_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def bench_idle(opts):
    n = opts["n"]

    async def main():
        gate = asyncio.Event()
        done = asyncio.Event()
        state = {"parked": 0, "left": n}

        async def child():
            state["parked"] += 1
            await gate.wait()
            state["left"] -= 1
            if state["left"] == 0:
                done.set()

        gc.collect()
        rss0, pte0 = proc_status_kb("VmRSS"), proc_status_kb("VmPTE")
        u0 = usage_now()
        tasks = [asyncio.create_task(child()) for _ in range(n)]
        t0 = time.perf_counter_ns()
        while state["parked"] < n and time.perf_counter_ns() - t0 < 120e9:
            await asyncio.sleep(0.001)
        all_parked = state["parked"] == n
        await asyncio.sleep(0.02)
        rss1, pte1 = proc_status_kb("VmRSS"), proc_status_kb("VmPTE")

        w0 = time.perf_counter_ns()
        gate.set()
        if all_parked:
            await done.wait()
        w1, u1 = time.perf_counter_ns(), usage_now()
        del tasks
        ok = all_parked and state["left"] == 0 and rss0 >= 0 and rss1 >= 0
        return (ok, (rss1 - rss0) * 1024 / n, (pte1 - pte0) * 1024 / n, (w1 - w0) / 1e6,
                per_op(u0, u1, n))  # per parked task

    ok, per, pte, wake_ms, counts = asyncio.run(main())
    emit(opts, n, per, "bytes/coroutine", ok, counts, wake_ms=wake_ms, pte_bytes=pte,
         parked_on="asyncio.Event",
         note="asyncio coroutines have no stacks; --stack-size does not apply")
    return ok


# ================================================================ timers
# N tasks each asyncio.sleep a pseudo-random 0..100 ms (same xorshift64
# draws as goc-bench); lateness = wake - deadline on the monotonic clock.
# value = p99 in µs, plus p50_us, p99_us, total_ms. Check: all woke and none
# early. asyncio may run a timer up to the clock's resolution early (its
# loop treats "when < now + resolution" as due); that much is allowed.

TIMER_SEED = 0x2545F4914F6CDD1D
TIMER_MAX_US = 100000


def bench_timers(opts):
    n = opts["n"]
    durs, x = [], TIMER_SEED
    for _ in range(n):
        x = xorshift64(x)
        durs.append((x % (TIMER_MAX_US + 1)) * 1000)  # ns
    slack_ns = int(time.get_clock_info("monotonic").resolution * 1e9) + 1

    async def main():
        late = [None] * n

        async def child(i):
            d = durs[i]
            deadline = time.monotonic_ns() + d
            await asyncio.sleep(d / 1e9)
            late[i] = time.monotonic_ns() - deadline

        u0, t0 = usage_now(), time.perf_counter_ns()
        await asyncio.gather(*(child(i) for i in range(n)))
        t1, u1 = time.perf_counter_ns(), usage_now()
        woke = all(v is not None for v in late)
        lat = sorted(late) if woke else [-1]
        ok = woke and lat[0] >= -slack_ns
        if not ok:
            print("timers: woke early by %d ns" % -lat[0], file=sys.stderr)
        return ok, t1 - t0, [percentile(lat, 0.5) / 1e3, percentile(lat, 0.99) / 1e3,
                             (t1 - t0) / 1e6] + per_op(u0, u1, n)  # per sleeper

    ok, figs = run_median(opts, lambda: asyncio.run(main()))
    emit(opts, n, figs[1], "us", ok, figs[-3:], p50_us=figs[0], p99_us=figs[1], total_ms=figs[2])
    return ok


# ================================================================ channels
# asyncio has no channels; its channel is asyncio.Queue. It has no
# unbuffered (rendezvous) queue either: where goc and Go use an unbuffered
# channel, this uses asyncio.Queue(maxsize=1), the closest equivalent (a
# sender may be one value ahead of its receiver). Nor can a Queue be closed
# (before 3.13): a None put after the last value says "closed".

UNBUFFERED_NOTE = "asyncio.Queue(maxsize=1) for an unbuffered channel"


# ================================================================ pingpong
# 2 tasks bounce a counter over two queues: A puts c on ping and gets c+1
# back on pong, N times. ns per round trip = wall / N. Check: the counter
# came back as N.

def bench_pingpong(opts):
    n = opts["n"]

    async def main():
        ping, pong = asyncio.Queue(maxsize=1), asyncio.Queue(maxsize=1)
        final = [None]

        async def a():
            c = 0
            for _ in range(n):
                await ping.put(c)
                c = await pong.get()
            final[0] = c

        async def b():
            for _ in range(n):
                v = await ping.get()
                await pong.put(v + 1)

        u0, t0 = usage_now(), time.perf_counter_ns()
        await asyncio.gather(a(), b())
        t1, u1 = time.perf_counter_ns(), usage_now()
        ok = final[0] == n
        if not ok:
            print("pingpong: counter %r, want %d" % (final[0], n), file=sys.stderr)
        return ok, t1 - t0, [(t1 - t0) / n] + per_op(u0, u1, n)  # per round trip

    ok, figs = run_median(opts, lambda: asyncio.run(main()))
    emit(opts, n, figs[0], "ns/roundtrip", ok, figs[-3:], note=UNBUFFERED_NOTE)
    return ok


# ================================================================ mpmc
# One asyncio.Queue(maxsize=128); 4 producers put the ints 0..N-1 (producer
# p the ones with i % 4 == p), 4 consumers get and sum until they get the
# None that main puts once per consumer after every producer is done (a
# Queue cannot be closed). value = N / wall in millions per second. Check:
# count == N and sum == N(N-1)/2 exactly.

MPMC_CAP, MPMC_PRODUCERS, MPMC_CONSUMERS = 128, 4, 4


def bench_mpmc(opts):
    n = opts["n"]
    want = n * (n - 1) // 2

    async def main():
        q = asyncio.Queue(maxsize=MPMC_CAP)
        sums, counts = [0] * MPMC_CONSUMERS, [0] * MPMC_CONSUMERS

        async def producer(p):
            for i in range(p, n, MPMC_PRODUCERS):
                await q.put(i)

        async def consumer(c):
            total = count = 0
            while True:
                v = await q.get()
                if v is None:
                    break
                total += v
                count += 1
            sums[c], counts[c] = total, count

        u0, t0 = usage_now(), time.perf_counter_ns()
        consumers = [asyncio.create_task(consumer(c)) for c in range(MPMC_CONSUMERS)]
        await asyncio.gather(*(producer(p) for p in range(MPMC_PRODUCERS)))
        for _ in range(MPMC_CONSUMERS):
            await q.put(None)
        await asyncio.gather(*consumers)
        t1, u1 = time.perf_counter_ns(), usage_now()
        ok = sum(sums) == want and sum(counts) == n
        if not ok:
            print("mpmc: count %d sum %d, want %d and %d" % (sum(counts), sum(sums), n, want),
                  file=sys.stderr)
        return ok, t1 - t0, [n / ((t1 - t0) / 1e9) / 1e6] + per_op(u0, u1, n)  # per message

    ok, figs = run_median(opts, lambda: asyncio.run(main()))
    emit(opts, n, figs[0], "Mmsg/s", ok, figs[-3:],
         note="asyncio.Queue(maxsize=128); a None per consumer stands for close")
    return ok


# ================================================================ select
# asyncio has no select. The closest honest equivalent: one get() task per
# queue, and asyncio.wait(..., return_when=FIRST_COMPLETED) over the 4;
# every get that completed is taken and a new get task started for its
# queue (the ones still pending are kept, not cancelled). 4 queues of
# maxsize 1, 4 senders (sender k puts the ints i < N with i % 4 == k, then
# None). One wait may return more than one completed get, so value = wall
# / N values received, and "waits" says how many asyncio.wait calls it
# took. Check: N values received, each queue's count right, their sum ==
# N(N-1)/2.

SELECT_CHANS = 4


def bench_select(opts):
    n = opts["n"]
    want = n * (n - 1) // 2

    async def main():
        qs = [asyncio.Queue(maxsize=1) for _ in range(SELECT_CHANS)]

        async def sender(k):
            for i in range(k, n, SELECT_CHANS):
                await qs[k].put(i)
            await qs[k].put(None)

        got = [0] * SELECT_CHANS
        total = waits = 0
        u0, t0 = usage_now(), time.perf_counter_ns()
        senders = [asyncio.create_task(sender(k)) for k in range(SELECT_CHANS)]
        pending = {asyncio.create_task(qs[k].get()): k for k in range(SELECT_CHANS)}
        while pending:
            done, _ = await asyncio.wait(pending.keys(), return_when=asyncio.FIRST_COMPLETED)
            waits += 1
            for t in done:
                k = pending.pop(t)
                v = t.result()
                if v is None:  # closed
                    continue
                got[k] += 1
                total += v
                pending[asyncio.create_task(qs[k].get())] = k
        t1, u1 = time.perf_counter_ns(), usage_now()
        await asyncio.gather(*senders)
        ok = (total == want and sum(got) == n and
              all(got[k] == len(range(k, n, SELECT_CHANS)) for k in range(SELECT_CHANS)))
        if not ok:
            print("select: got %r sum %d, want %d values summing to %d" % (got, total, n, want),
                  file=sys.stderr)
        return ok, t1 - t0, [(t1 - t0) / n, waits] + per_op(u0, u1, n)  # per value received

    ok, figs = run_median(opts, lambda: asyncio.run(main()))
    emit(opts, n, figs[0], "ns/select", ok, figs[-3:], waits=int(figs[1]),
         note="asyncio.wait(FIRST_COMPLETED) over 4 Queue.get tasks, Queue(maxsize=1); "
              "value = wall / values received")
    return ok


# ================================================================ sieve
# The concurrent prime sieve: a generator task puts 2, 3, 4, ... on a
# queue; main gets a prime from the last queue of the chain and starts a
# filter task after it. ms until the K-th prime has arrived. Check: the K
# primes equal those of a plain trial division (the 3000th is 27449).
# Shut down outside the timing: main sets a flag, the generator sees it
# after its next put and puts None, each filter passes None on and ends,
# main drains the last queue. The value is ms for all K, not per op: the
# counts are per prime (/ K), that is per filter stage (each prime adds one
# filter task and one queue).

SIEVE_KNOWN = {3000: 27449}


def reference_primes(k):
    ps = []
    c = 2
    while len(ps) < k:
        for p in ps:
            if p * p > c:
                ps.append(c)
                break
            if c % p == 0:
                break
        else:
            ps.append(c)
        c += 1
    return ps


def bench_sieve(opts):
    n = opts["n"]
    ref = reference_primes(n)

    async def main():
        stop = [False]
        primes = []
        tasks = []

        async def generate(out):
            i = 2
            while not stop[0]:
                await out.put(i)
                i += 1
            await out.put(None)

        async def filt(inq, out, prime):
            while True:
                i = await inq.get()
                if i is None:
                    await out.put(None)
                    return
                if i % prime:
                    await out.put(i)

        u0, t0 = usage_now(), time.perf_counter_ns()
        ch = asyncio.Queue(maxsize=1)
        tasks.append(asyncio.create_task(generate(ch)))
        for _ in range(n):
            prime = await ch.get()
            primes.append(prime)
            ch1 = asyncio.Queue(maxsize=1)
            tasks.append(asyncio.create_task(filt(ch, ch1, prime)))
            ch = ch1
        t1, u1 = time.perf_counter_ns(), usage_now()
        stop[0] = True
        while await ch.get() is not None:
            pass
        await asyncio.gather(*tasks)
        ok = primes == ref and (n not in SIEVE_KNOWN or primes[-1] == SIEVE_KNOWN[n])
        if not ok:
            print("sieve: wrong primes (last %d, want %d)" % (primes[-1], ref[-1]),
                  file=sys.stderr)
        return ok, t1 - t0, [(t1 - t0) / 1e6] + per_op(u0, u1, n)  # per prime

    ok, figs = run_median(opts, lambda: asyncio.run(main()))
    emit(opts, n, figs[0], "ms", ok, figs[-3:], last_prime=ref[-1], note=UNBUFFERED_NOTE)
    return ok


# ================================================================ skynet
# The skynet tree: the root covers leaves 0..N-1; a node of size > 1 makes
# an asyncio.Queue(maxsize=10), starts its (up to) 10 children as tasks on
# even shares of its range, sums the 10 subtotals they put on it and puts
# the sum on its parent's queue; leaf i puts i. ms for the whole tree.
# Check: sum == N(N-1)/2 (499999500000 for 1,000,000 leaves). The value is
# ms for the tree, not per op: the counts are per leaf (/ N; the tree has
# about 1.11 N tasks in all).

SKYNET_FANOUT = 10


async def skynet(out, num, size):
    if size == 1:
        await out.put(num)
        return
    kids = min(SKYNET_FANOUT, size)
    q = asyncio.Queue(maxsize=SKYNET_FANOUT)
    start = num
    tasks = []  # keep references: the loop holds tasks only weakly
    for i in range(kids):
        share = size // kids + (1 if i < size % kids else 0)
        tasks.append(asyncio.create_task(skynet(q, start, share)))
        start += share
    total = 0
    for _ in range(kids):
        total += await q.get()
    await out.put(total)


def bench_skynet(opts):
    n = opts["n"]
    want = n * (n - 1) // 2

    async def main():
        u0, t0 = usage_now(), time.perf_counter_ns()
        root = asyncio.Queue(maxsize=1)
        task = asyncio.create_task(skynet(root, 0, n))
        total = await root.get()
        t1, u1 = time.perf_counter_ns(), usage_now()
        await task
        ok = total == want
        if not ok:
            print("skynet: sum %d, want %d" % (total, want), file=sys.stderr)
        return ok, t1 - t0, [(t1 - t0) / 1e6] + per_op(u0, u1, n)  # per leaf

    ok, figs = run_median(opts, lambda: asyncio.run(main()))
    emit(opts, n, figs[0], "ms", ok, figs[-3:], fanout=SKYNET_FANOUT,
         node_chan="asyncio.Queue(maxsize=10)")
    return ok


# ================================================================ echo
# TCP echo, the twin of goc-bench's echo-server and echo-client:
#
#   goc_peer.py echo-server --port P [--host H]
#   goc_peer.py echo-client --port P [--host H] [--conns 64] [--msgs 20000] [--size 64]
#
# The server is what the asyncio docs teach: asyncio.start_server, one
# handler task per connection that reads up to 16 KiB, writes it back and
# awaits drain(), until the peer closes. It says where it listens on stderr
# and serves until killed. The client opens every connection first, then
# each task sends its messages one at a time, awaiting the whole echo
# (readexactly) before the next; round trips/s over the span from
# releasing the connections to the last echo. Check: every echo equals the
# message sent. A message is its connection's pseudo-random block with
# (connection, sequence) in its first 16 bytes, so reordered or misrouted
# echoes fail too (goc-bench draws a fresh pattern per message; drawing
# 64 bytes of xorshift64 in CPython would cost more than the round trip).
# The counts are the client process's, per round trip echoed.

ECHO_CONNS = 64
ECHO_MSG_SIZE = 64
ECHO_SERVER_BUF = 16384
ECHO_TIMEOUT_S = 10.0


def echo_host(opts):
    return opts.get("host") or "127.0.0.1"


async def echo_serve_conn(reader, writer):
    try:
        while True:
            data = await reader.read(ECHO_SERVER_BUF)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except OSError:
        pass  # the peer went away
    finally:
        writer.close()


def bench_echo_server(opts):
    if opts["port"] is None:
        print("goc_peer.py echo-server: needs --port P (0: pick a free one)", file=sys.stderr)
        return False

    async def main():
        server = await asyncio.start_server(echo_serve_conn, echo_host(opts), opts["port"])
        port = server.sockets[0].getsockname()[1]
        print("goc_peer.py echo-server: listening on %s:%d, 1 thread (asyncio)"
              % (echo_host(opts), port), file=sys.stderr, flush=True)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(main())
    except OSError as e:
        print("goc_peer.py echo-server:", e, file=sys.stderr)
    return False


def echo_block(conn_id, size):
    """Connection conn_id's pseudo-random block of size bytes."""
    x = ((conn_id << 32) * CPU_SEED & M64) | 1
    out = bytearray(size)
    for i in range(size):
        x = xorshift64(x)
        out[i] = (x >> 24) & 0xFF
    return out


async def echo_conn(reader, writer, conn_id, msgs, size):
    """One connection's round trips: (echoed right, error or None)."""
    msg = echo_block(conn_id, size)
    head = min(size, 16)
    try:
        for seq in range(msgs):
            msg[:head] = ((conn_id << 64) | seq).to_bytes(16, "little")[:head]
            writer.write(msg)
            echo = await asyncio.wait_for(reader.readexactly(size), ECHO_TIMEOUT_S)
            if echo != msg:
                return seq, "an echo differed from the message sent"
        return msgs, None
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as e:
        return seq, repr(e)
    finally:
        writer.close()


def bench_echo_client(opts):
    if not opts["port"]:
        print("goc_peer.py echo-client: needs --port P (where echo-server listens)", file=sys.stderr)
        return False
    n = opts["n"]
    conns = opts["conns"] or ECHO_CONNS
    size = opts["size"] or ECHO_MSG_SIZE
    host, port = echo_host(opts), opts["port"]

    async def main():
        streams, errors = [], []
        for _ in range(conns):
            try:
                streams.append(await asyncio.wait_for(
                    asyncio.open_connection(host, port), ECHO_TIMEOUT_S))
            except (OSError, asyncio.TimeoutError) as e:
                errors.append(repr(e))
        u0, t0 = usage_now(), time.perf_counter_ns()
        results = await asyncio.gather(
            *(echo_conn(r, w, i, n, size) for i, (r, w) in enumerate(streams)))
        t1, u1 = time.perf_counter_ns(), usage_now()
        total = sum(k for k, _ in results)
        errors += [e for _, e in results if e]
        ok = not errors and total == conns * n
        if errors:
            print("echo-client: %d of %d connections to %s:%d failed, the first: %s"
                  % (len(errors), conns, host, port, errors[0]), file=sys.stderr)
        if not ok:
            print("echo-client: %d of %d round trips echoed correctly" % (total, conns * n),
                  file=sys.stderr)
        secs = (t1 - t0) / 1e9
        return ok, t1 - t0, [total / secs, secs] + per_op(u0, u1, total)  # per round trip

    ok, figs = run_median(opts, lambda: asyncio.run(main()))
    emit(opts, n, figs[0], "roundtrips/s", ok, figs[-3:], conns=conns, msg_size=size,
         round_trips=conns * n, secs=figs[1])
    return ok


# ================================================================ the table

# name -> (function, default n, what); defaults smaller than goc-bench's
# where CPython would take far too long (the JSON's "n" says what ran).
WORKLOADS = {
    "spawn": (bench_spawn, 1_000_000, "N tasks that only count down; ns/coroutine"),
    "yield": (bench_yield, 5_000_000, "2 tasks sleep(0) N times each; ns/switch"),
    "cpu": (bench_cpu, 2, "N jobs of 2^24 xorshift64 steps; ms scaled to 64 (goc: 64)"),
    "idle": (bench_idle, 1_000_000, "N tasks parked on an Event; bytes/coroutine, wake_ms"),
    "timers": (bench_timers, 100_000, "N sleeps of 0..100 ms; lateness p99 us"),
    "pingpong": (bench_pingpong, 1_000_000, "counter over two queues; ns/roundtrip"),
    "mpmc": (bench_mpmc, 4_000_000, "4 producers, 4 consumers, maxsize 128; M msgs/s"),
    "select": (bench_select, 1_000_000, "4 senders, asyncio.wait over 4 gets; ns/select"),
    "sieve": (bench_sieve, 3000, "concurrent prime sieve, first K primes; ms"),
    "skynet": (bench_skynet, 1_000_000, "skynet tree, fan-out 10; ms"),
    # TCP echo: a server and a client, run side by side (not in "all"):
    "echo-server": (bench_echo_server, 0, "TCP echo server on --port, until killed"),
    "echo-client": (bench_echo_client, 20_000, "--conns 64 x --msgs 20000 echoes; round trips/s"),
}
BY_NAME_ONLY = ("echo-server", "echo-client")


def usage():
    print("usage: goc_peer.py <workload|all|list> [--workers N] [--n N] [--runs R]"
          " [--stack-size B]\n"
          "       goc_peer.py echo-server --port P [--host H]\n"
          "       goc_peer.py echo-client --port P [--host H] [--conns C] [--msgs M] [--size B]\n"
          "workloads ('all' runs those without *):", file=sys.stderr)
    for name, (_, _, what) in WORKLOADS.items():
        print("  %-12s%s %s" % (name, "*" if name in BY_NAME_ONLY else " ", what),
              file=sys.stderr)


def parse_opts(args):
    opts = {"n": None, "runs": 0, "workers": 1, "stack_size": 0,
            "host": None, "port": None, "conns": 0, "size": 0}
    i = 0
    while i < len(args):
        name, val = args[i], None
        if "=" in name:
            name, val = name.split("=", 1)
        elif i + 1 < len(args):
            i += 1
            val = args[i]
        i += 1
        if val is None:
            raise ValueError("%s needs a value" % name)
        if name == "--host" and val:
            opts["host"] = val
            continue
        v = int(val)
        if v < 0:
            raise ValueError("bad value for %s" % name)
        key = {"--workers": "workers", "--n": "n", "--msgs": "n", "--runs": "runs",
               "--stack-size": "stack_size", "--port": "port", "--conns": "conns",
               "--size": "size"}.get(name)
        if key is None:
            raise ValueError("unknown option %s" % name)
        if key in ("n", "conns", "size") and v < 1:
            raise ValueError("%s must be >= 1" % name)
        if key == "port" and v > 65535:
            raise ValueError("bad port %d" % v)
        if key == "size" and v > 65536:  # a message must fit in the socket buffers
            raise ValueError("--size must be <= 65536")
        opts[key] = v
    return opts


def main():
    if len(sys.argv) < 2:
        usage()
        return 2
    if sys.argv[1] == "list":
        print("\n".join(WORKLOADS))
        return 0
    try:
        given = parse_opts(sys.argv[2:])
    except ValueError as e:
        print("goc_peer.py:", e, file=sys.stderr)
        usage()
        return 2
    if sys.argv[1] == "all":
        names = [w for w in WORKLOADS if w not in BY_NAME_ONLY]
    else:
        names = [sys.argv[1]]
    ok = True
    for name in names:
        if name not in WORKLOADS:
            print("goc_peer.py: unknown workload %r" % name, file=sys.stderr)
            usage()
            return 2
        fn, default_n, _ = WORKLOADS[name]
        opts = dict(given, workload=name)
        if opts["n"] is None:
            opts["n"] = default_n
        ok = fn(opts) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
