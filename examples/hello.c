/*
 * hello.c - goc's headline in one program (this is what `make demo` runs).
 *
 * The same code runs twice, and only one setting changes:
 *
 *   run 1: workers = 1          the Python asyncio model: one thread, one
 *                               event loop, coroutines take turns
 *   run 2: workers = all cores  the Go model: one worker thread per core,
 *                               coroutines spread over them (work stealing)
 *
 * Each run starts 16 coroutines at once:
 *   - 8 sleepers that each sleep 1 s (stand-ins for waiting on the network);
 *   - 8 crunchers that each run the same fixed CPU job (xorshift64 steps).
 *
 * What to look for in the output:
 *   - the sleeps overlap in BOTH models: 8 sleeps of 1 s end after ~1 s,
 *     not 8 s. Waiting is concurrent even on a single thread.
 *   - the CPU work only gets faster with more workers: on one worker the
 *     8 jobs share one core; on N workers they run N at a time.
 *
 * Scheduling is cooperative, as in asyncio: a coroutine keeps its worker
 * until it blocks or calls goc_yield(). The crunchers therefore yield every
 * slice of work, so the sleepers wake on time even with one worker. (Remove
 * the goc_yield() call and watch the sleepers oversleep under workers = 1:
 * asyncio behaves the same way. GOC_DEBUG=1 names such coroutines.)
 *
 * Uses only the public API in goc.h.
 */
#include <goc.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SLEEPERS   8
#define CRUNCHERS  8
#define SLEEP_NS   1000000000LL      /* 1 s */
#define JOB_STEPS  (1ULL << 28)      /* one CPU job: ~0.4-0.6 s on one core */
#define SLICE      (1ULL << 16)      /* steps between two goc_yield() calls */

/* What one run measured. */
typedef struct run {
    const char *model;     /* "asyncio" or "Go" */
    int         workers;   /* asked for (0 = all cores) */
    int         got;       /* goc_workers() inside the run */
    int64_t     t0;        /* goc_now() when the run started */
    int64_t     slept[SLEEPERS];     /* when each sleeper woke, ns after t0 */
    int         sleep_rc[SLEEPERS];  /* what each goc_sleep returned */
    int64_t     crunched[CRUNCHERS]; /* when each cruncher finished */
    double      sleeps_s;  /* when the last sleeper woke, s */
    double      cpu_s;     /* when the last cruncher finished, s */
    double      wall_s;    /* the whole run */
    uint64_t    checksum;  /* the CPU jobs' results, xor-ed */
    int         errors;    /* failed goc calls (counted by the main coroutine) */
} run;

/* The argument of one sleeper or cruncher. */
typedef struct job {
    run *r;
    int  i;
} job;

static double secs(int64_t ns) { return (double)ns / 1e9; }

/* One line of the timeline: "  +1.002 s  worker 1  sleeper 3 woke up". */
static void say(const run *r, const char *who, int i, const char *what)
{
    printf("  +%.3f s  worker %d  %s %d %s\n",
           secs(goc_now() - r->t0), goc_worker_id(), who, i, what);
}

/* A sleeper: sleeps 1 s, notes when it woke, and signs off on the WaitGroup. */
typedef struct sleeper_arg {
    job     j;
    goc_wg *wg;
} sleeper_arg;

static void sleeper(void *arg)
{
    sleeper_arg *s = arg;
    run *r = s->j.r;
    r->sleep_rc[s->j.i] = goc_sleep(SLEEP_NS);
    r->slept[s->j.i] = goc_now() - r->t0;
    say(r, "sleeper ", s->j.i, "woke up");
    goc_wg_done(s->wg);
}

/* A cruncher: a fixed amount of pure CPU work (xorshift64), in slices with a
 * goc_yield() between them so the other coroutines on its worker get turns.
 * Returns the final state, which goc_join hands to whoever waits on it. */
static void *cruncher(void *arg)
{
    job *j = arg;
    uint64_t x = 0x9E3779B97F4A7C15ULL * (uint64_t)(j->i + 1);
    for (uint64_t done = 0; done < JOB_STEPS; done += SLICE) {
        for (uint64_t k = 0; k < SLICE; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        goc_yield();
    }
    j->r->crunched[j->i] = goc_now() - j->r->t0;
    say(j->r, "cruncher", j->i, "finished its job");
    return (void *)(uintptr_t)x;
}

/* The main coroutine of one run: start everything at once, wait for all. */
static void demo(void *arg)
{
    run *r = arg;
    r->got = goc_workers();
    r->t0 = goc_now();
    printf("\n== %s model: %d worker%s ==\n", r->model, r->got,
           r->got == 1 ? " (one thread, one event loop)" : "s (one thread per core)");

    /* 8 sleepers, fire and forget (Go's `go f()`), counted by a WaitGroup. */
    goc_wg *wg = goc_wg_new();
    sleeper_arg sleepers[SLEEPERS];
    goc_wg_add(wg, SLEEPERS);
    for (int i = 0; i < SLEEPERS; i++) {
        sleepers[i] = (sleeper_arg){ .j = { r, i }, .wg = wg };
        if (goc_go(sleeper, &sleepers[i]) != 0) {
            r->errors++;
            goc_wg_done(wg);
        }
    }

    /* 8 crunchers, as tasks we join (asyncio's create_task + await). */
    job jobs[CRUNCHERS];
    goc_task *tasks[CRUNCHERS];
    for (int i = 0; i < CRUNCHERS; i++) {
        jobs[i] = (job){ r, i };
        tasks[i] = goc_spawn(cruncher, &jobs[i]);
        if (tasks[i] == NULL)
            r->errors++;
    }

    /* Wait for everything; collect the crunchers' results. */
    r->checksum = 0;
    for (int i = 0; i < CRUNCHERS; i++) {
        void *result = NULL;
        if (tasks[i] == NULL || goc_join(tasks[i], &result) != 0)
            r->errors++;
        r->checksum ^= (uint64_t)(uintptr_t)result;
    }
    if (goc_wg_wait(wg) != 0)
        r->errors++;
    goc_wg_free(wg);

    int64_t end = goc_now() - r->t0;
    int64_t last_sleep = 0, last_cpu = 0;
    for (int i = 0; i < SLEEPERS; i++) {
        if (r->slept[i] > last_sleep) last_sleep = r->slept[i];
        if (r->sleep_rc[i] != 0) r->errors++;
    }
    for (int i = 0; i < CRUNCHERS; i++)
        if (r->crunched[i] > last_cpu) last_cpu = r->crunched[i];
    r->sleeps_s = secs(last_sleep);
    r->cpu_s = secs(last_cpu);
    r->wall_s = secs(end);
    printf("  all done after %.3f s\n", r->wall_s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* show the timeline as it happens */

    printf("goc %d.%d.%d demo: %d coroutines sleep 1 s each, %d run the same CPU job.\n"
           "The same program runs under two models; only `workers` changes.\n",
           GOC_VERSION_MAJOR, GOC_VERSION_MINOR, GOC_VERSION_PATCH, SLEEPERS, CRUNCHERS);

    /* Run 1: the asyncio model. Run 2: the Go model (workers = 0: one per
     * core as hwloc counts them; the GOC_WORKERS environment variable
     * overrides that). */
    run runs[2] = {
        { .model = "asyncio", .workers = 1 },
        { .model = "Go",      .workers = 0 },
    };
    for (int k = 0; k < 2; k++) {
        goc_config cfg = { .workers = runs[k].workers, .pin = 1, .stack_size = 0 };
        int rc = goc_run(&cfg, demo, &runs[k]);
        if (rc != 0) {
            fprintf(stderr, "goc_run: %s\n", goc_strerror(rc));
            return 1;
        }
    }

    printf("\n%-8s %8s %20s %20s %9s\n",
           "model", "workers", "last sleeper woke", "last CPU job done", "wall");
    for (int k = 0; k < 2; k++)
        printf("%-8s %8d %18.2f s %18.2f s %7.2f s\n", runs[k].model,
               runs[k].got, runs[k].sleeps_s, runs[k].cpu_s, runs[k].wall_s);

    printf("\nSleeping overlaps in both models: 8 x 1 s of sleep took %.1f s and %.1f s.\n",
           runs[0].sleeps_s, runs[1].sleeps_s);
    if (runs[1].got > 1)
        printf("CPU work runs in parallel only with more workers: %.1fx faster on %d workers.\n",
               runs[0].cpu_s / (runs[1].cpu_s > 0 ? runs[1].cpu_s : 1), runs[1].got);
    else
        printf("This machine has one core, so the Go model has one worker too: "
               "no CPU speedup to show.\n");

    int errors = runs[0].errors + runs[1].errors;
    if (runs[0].checksum != runs[1].checksum) {
        fprintf(stderr, "the CPU jobs disagree: %016" PRIx64 " vs %016" PRIx64 "\n",
                runs[0].checksum, runs[1].checksum);
        errors++;
    }
    if (errors) {
        fprintf(stderr, "%d goc call(s) failed\n", errors);
        return 1;
    }
    return 0;
}
