/*
 * cpu_bound.c - CPU work: no speedup on one worker, near-linear on all cores.
 *
 * The same fixed CPU job (xorshift64 steps) is timed once alone, then 8
 * copies are started at once as tasks and awaited. The speedup is
 * 8 x (one job alone) / (all 8 at once):
 *
 *   --workers 1   about 1x. One thread, one event loop: the jobs run one
 *                 after another, exactly as CPU-bound asyncio tasks do
 *                 (a task that never awaits keeps the loop until it ends,
 *                 and Python's GIL would stop threads from helping too).
 *   all cores     close to min(8, cores)x: the jobs spread over the
 *                 workers by work stealing, as goroutines spread over
 *                 GOMAXPROCS threads.
 *
 * The jobs never yield, like the asyncio twin's: "k of 8 jobs done" lines
 * come one at a time on one worker, several at a time on many.
 *
 * Twin: examples/python/cpu_bound.py (smaller jobs: Python runs the loop
 * about 50x slower; the timeline's order, not its scale, is what compares).
 */
#include "example_util.h"

#define NJOBS     8
#define JOB_STEPS (1ULL << 26)  /* about 0.1-0.2 s on one core */

static _Atomic int jobs_done;   /* owned by the "at once" phase: reset before it */

static uint64_t cpu_job(uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (uint64_t i = 0; i < JOB_STEPS; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

static void *job_task(void *arg)
{
    uint64_t x = cpu_job((uint64_t)(uintptr_t)arg);
    int k = ++jobs_done;
    ex_log("%d of %d jobs done | worker %d", k, NJOBS, goc_worker_id());
    return (void *)(uintptr_t)x;
}

static void cpu_bound(void)
{
    ex_log("one job alone: start");
    int64_t t = goc_now();
    uint64_t expect = cpu_job(1);
    double one = (double)(goc_now() - t) / 1e9;
    ex_log("one job alone: done | %.3f s", one);

    ex_log("%d jobs at once: start", NJOBS);
    jobs_done = 0;
    t = goc_now();
    goc_task *tasks[NJOBS];
    for (int i = 0; i < NJOBS; i++)
        tasks[i] = goc_spawn(job_task, (void *)(uintptr_t)1); /* same job, same result */
    for (int i = 0; i < NJOBS; i++) {
        void *r = NULL;
        ex_check(tasks[i] ? goc_join(tasks[i], &r) : GOC_ENOMEM, "job");
        if ((uint64_t)(uintptr_t)r != expect)
            ex_check(GOC_EINVAL, "a job computed a different result");
    }
    double all = (double)(goc_now() - t) / 1e9;
    double speedup = NJOBS * one / (all > 0 ? all : 1e-9);
    ex_log("%d jobs at once: all done | speedup %.2fx (%.3f s)", NJOBS, speedup, all);
    printf("# speedup %.2f (%d jobs, %d workers)\n", speedup, NJOBS, goc_workers());
}

int main(int argc, char **argv)
{
    ex_opts o = ex_parse(argc, argv, "cpu_bound: 8 CPU jobs, one worker vs all cores");
    return ex_run(&o, "cpu_bound", cpu_bound);
}
