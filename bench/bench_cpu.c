/*
 * bench_cpu.c - cpu: how CPU-bound coroutines spread over the workers.
 *
 * N (default 64) coroutines each run the same CPU job: 2^24 steps of
 * xorshift64, summing the states. Figure: ms for all jobs, plus "speedup"
 * = time at 1 worker / time now (the same runs again on one worker when
 * there are more), and "workers_seen" = distinct goc_worker_id() values
 * the jobs ran on. Check: every job's result equals the value computed
 * once up front. The jobs never yield (a cooperative scheduler spreads
 * them only by stealing queued ones).
 */
#include "workloads.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

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

/* Two medians (at the workers asked for, and at 1 for the speedup), so
 * not bench_run: the line is put together here. */
bool bench_cpu(const bench_opts *o)
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
