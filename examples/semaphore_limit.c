/*
 * semaphore_limit.c - 10 jobs, at most 2 at a time.
 *
 * A semaphore with 2 permits bounds how many jobs run at once: the usual
 * way to be polite to a server (asyncio.Semaphore; Go: a buffered channel
 * of tokens). Each job takes 0.2 s of waiting, so 10 jobs take 5 rounds:
 * about 1 s, in both models - the limit, not the number of cores, sets
 * the pace.
 *
 * The main coroutine takes a permit before it starts each job, and the job
 * gives it back when it ends (Go's `sem <- token; go job()`; in asyncio,
 * `await sem.acquire(); create_task(job())`). Taking the permit inside the
 * job (`async with sem:`) bounds the work just as well, but with several
 * workers the jobs would race for the permits and start in any order;
 * this way they start in order in both models.
 *
 * Twin: examples/python/semaphore_limit.py.
 */
#include "example_util.h"

#define NJOBS   10
#define LIMIT   2
#define WORK_NS (200 * EX_MS)

typedef struct pool {
    goc_sem *sem;
    goc_wg *wg;
    _Atomic int running;  /* jobs between started and finished */
    _Atomic int most;     /* the largest `running` seen */
} pool;

typedef struct job {
    pool *p;
    int id;
} job;

static void note_running(pool *p, int now)
{
    int most = p->most;
    while (now > most && !atomic_compare_exchange_weak(&p->most, &most, now))
        ;
}

static void run_job(void *arg)
{
    job *j = arg;
    pool *p = j->p;
    int now = ++p->running;
    note_running(p, now);
    ex_log("job %d started | %d running", j->id, now);
    ex_check(goc_sleep(WORK_NS), "goc_sleep"); /* the job's I/O */
    now = --p->running;
    ex_log("job %d finished | %d running", j->id, now);
    ex_check(goc_sem_release(p->sem), "goc_sem_release");
    goc_wg_done(p->wg);
}

static void semaphore_limit(void)
{
    pool p = { .sem = goc_sem_new(LIMIT), .wg = goc_wg_new() };
    if (!p.sem || !p.wg) {
        ex_check(GOC_ENOMEM, "goc_sem_new/goc_wg_new");
        return;
    }
    job jobs[NJOBS];
    ex_log("start %d jobs of 0.2 s, at most %d at a time", NJOBS, LIMIT);
    for (int i = 0; i < NJOBS; i++) {
        ex_check(goc_sem_acquire(p.sem), "goc_sem_acquire"); /* parks while 2 run */
        jobs[i] = (job){ &p, i };
        goc_wg_add(p.wg, 1);
        int rc = goc_go(run_job, &jobs[i]);
        if (rc != 0) {
            ex_check(rc, "goc_go");
            goc_wg_done(p.wg);
            goc_sem_release(p.sem);
        }
    }
    ex_check(goc_wg_wait(p.wg), "goc_wg_wait");
    ex_log("all %d jobs finished | at most %d ran at once", NJOBS, (int)p.most);
    if (p.most > LIMIT)
        ex_check(GOC_EINVAL, "the semaphore let more than LIMIT jobs run");
    goc_wg_free(p.wg);
    ex_check(goc_sem_free(p.sem), "goc_sem_free");
}

int main(int argc, char **argv)
{
    ex_opts o = ex_parse(argc, argv, "semaphore_limit: 10 jobs, at most 2 at a time");
    return ex_run(&o, "semaphore_limit", semaphore_limit);
}
