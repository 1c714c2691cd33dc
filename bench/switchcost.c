/*
 * switchcost.c - what a switch and an idle task cost: goc coroutines
 * against OS threads and OS processes, measured on this machine.
 *
 * The articles compare coroutines, threads and processes with a table of
 * rough figures; this program measures that table:
 *
 *   switch, ns per switch (lower is better)
 *     goc coroutine   two coroutines on one worker take turns with
 *                     goc_yield (asyncio: await asyncio.sleep(0))
 *     goc channel     two coroutines on one worker bounce a value over
 *                     unbuffered channels (a hand-off: send, wake, switch)
 *     thread (futex)  two threads pinned to one CPU take turns through a
 *                     futex: each turn is one kernel context switch
 *     thread (pipe)   the same through two pipes
 *     process (pipe)  two processes pinned to one CPU, through two pipes:
 *                     a thread switch plus an address-space switch
 *   memory, bytes per idle task (resident set growth / N)
 *     goc coroutine   N coroutines parked on a channel receive, with the
 *                     default stack size and with 2 KiB stacks
 *     thread          N threads blocked on a condition variable; the
 *                     kernel also keeps a stack per thread (KernelStack
 *                     in /proc/meminfo, system-wide, shown separately)
 *
 * Each switch figure is the median of 5 runs. Output: a table on stdout,
 * and one JSON line per figure (--json: only those), in goc-bench's
 * format. bench/peers/python/switchcost.py measures asyncio's figures and,
 * given --goc PATH, runs this program and prints both side by side.
 *
 * Owns nothing global: each measurement sets up and tears down its own
 * threads, processes or runtime. The process test forks before any thread
 * or runtime exists.
 */
#include <goc.h>

#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNS 5

/* Sanitizers grow every frame: a 2 KiB stack is too small for them, and
 * their shadow memory makes resident-set figures meaningless anyway. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

typedef struct opts {
    long coro_n;   /* switches per coroutine run */
    long os_n;     /* round trips per thread/process run */
    long idle_n;   /* idle coroutines and threads */
    int json_only;
} opts;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* One run of a switch measurement: ns per switch, or -1 if it failed.
 * cpu: where an OS ping-pong is pinned; variant: the measurement's own
 * choice (yield or channel, futex or pipe). */
typedef double (*switch_run)(long n, int cpu, int variant);

/* The median of RUNS runs, or -1 as soon as one fails. */
static double median_of_runs(switch_run run, long n, int cpu, int variant)
{
    double v[RUNS];
    for (int r = 0; r < RUNS; r++)
        if ((v[r] = run(n, cpu, variant)) < 0)
            return -1;
    return median(v, RUNS);
}

/* Resident set size of this process, bytes. */
static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* KernelStack from /proc/meminfo, bytes (system-wide), or -1. */
static long kernel_stack_bytes(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "KernelStack: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

/* The first CPU this process may run on: both sides of a ping-pong are
 * pinned there, so that every hand-off is a real context switch rather
 * than a wake-up of another, possibly sleeping, CPU. */
static int first_cpu(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set))
            return c;
    return -1;
}

static void pin_self_to(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set); /* 0: the calling thread */
}

/* ------------------------------------------------------- goc coroutines */

typedef struct coro_bench {
    long n;
    goc_chan *ping, *pong;
    int ok;
    int64_t ns;  /* measured inside the runtime: start-up not counted */
} coro_bench;

static void *yielder(void *arg)
{
    coro_bench *b = arg;
    for (long i = 0; i < b->n; i++)
        goc_yield();
    return NULL;
}

/* Two coroutines take turns, n yields each: 2n switches. The main
 * coroutine only starts and joins them. */
static void yield_pair(void *arg)
{
    coro_bench *b = arg;
    int64_t t = now_ns();
    goc_task *x = goc_spawn(yielder, b), *y = goc_spawn(yielder, b);
    int ok = x && y;
    if (x && goc_join(x, NULL) != 0)
        ok = 0;
    if (y && goc_join(y, NULL) != 0)
        ok = 0;
    b->ns = now_ns() - t;
    b->ok = ok;
}

static void *chan_echo(void *arg)
{
    coro_bench *b = arg;
    long v;
    for (long i = 0; i < b->n; i++)
        if (goc_chan_recv(b->ping, &v) != 0 || goc_chan_send(b->pong, &v) != 0)
            return NULL;
    return NULL;
}

static void *chan_serve(void *arg)
{
    coro_bench *b = arg;
    for (long i = 0; i < b->n; i++) {
        long v = i;
        if (goc_chan_send(b->ping, &v) != 0 || goc_chan_recv(b->pong, &v) != 0 || v != i)
            return NULL;
    }
    b->ok = 1;
    return NULL;
}

/* n round trips over two unbuffered channels: 2n hand-offs. */
static void chan_pair(void *arg)
{
    coro_bench *b = arg;
    int64_t t = now_ns();
    goc_task *x = goc_spawn(chan_echo, b), *y = goc_spawn(chan_serve, b);
    if (x)
        goc_join(x, NULL);
    if (y)
        goc_join(y, NULL);
    b->ns = now_ns() - t;
    if (!x || !y)
        b->ok = 0;
}

/* One run on a fresh one-worker runtime, which pins its own worker. */
static double goc_switch_once(long n, int cpu, int use_chan)
{
    (void)cpu;
    coro_bench b = { .n = n };
    if (use_chan) {
        b.ping = goc_chan_make(sizeof(long), 0);
        b.pong = goc_chan_make(sizeof(long), 0);
        if (!b.ping || !b.pong) {
            goc_chan_free(b.ping);
            goc_chan_free(b.pong);
            return -1;
        }
    }
    goc_config cfg = { .workers = 1, .pin = 1 };
    int rc = goc_run(&cfg, use_chan ? chan_pair : yield_pair, &b);
    if (use_chan) {
        goc_chan_free(b.ping);
        goc_chan_free(b.pong);
    }
    if (rc != 0 || !b.ok)
        return -1;
    return (double)b.ns / (2.0 * (double)n);
}

/* ------------------------------------------------------------ threads */

typedef struct futex_pp {
    _Atomic int turn; /* 0: A's turn, 1: B's */
    long n;
    int cpu;
} futex_pp;

static void futex_wait(_Atomic int *addr, int val)
{
    syscall(SYS_futex, (int *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic int *addr)
{
    syscall(SYS_futex, (int *)addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void futex_take_turns(futex_pp *p, int me)
{
    for (long i = 0; i < p->n; i++) {
        int t;
        while ((t = atomic_load(&p->turn)) != me)
            futex_wait(&p->turn, t);
        atomic_store(&p->turn, !me);
        futex_wake(&p->turn);
    }
}

static void *futex_b(void *arg)
{
    futex_pp *p = arg;
    pin_self_to(p->cpu);
    futex_take_turns(p, 1);
    return NULL;
}

typedef struct pipe_pp {
    int ab[2], ba[2]; /* A writes ab, B reads it; and back */
    long n;
    int cpu;
} pipe_pp;

static int pipe_side(int rd, int wr, long n, int starts)
{
    char c = 0;
    for (long i = 0; i < n; i++) {
        if (starts && write(wr, &c, 1) != 1)
            return -1;
        if (read(rd, &c, 1) != 1)
            return -1;
        if (!starts && write(wr, &c, 1) != 1)
            return -1;
    }
    return 0;
}

static void *pipe_b(void *arg)
{
    pipe_pp *p = arg;
    pin_self_to(p->cpu);
    pipe_side(p->ab[0], p->ba[1], p->n, 0);
    return NULL;
}

/* Run one thread ping-pong; ns per switch (2 per round trip). */
static double thread_switch_once(long n, int cpu, int use_pipe)
{
    cpu_set_t saved;
    sched_getaffinity(0, sizeof saved, &saved);
    pin_self_to(cpu);
    pthread_t th;
    double result = -1;
    if (use_pipe) {
        pipe_pp p = { .n = n, .cpu = cpu };
        if (pipe(p.ab) != 0)
            goto out;
        if (pipe(p.ba) != 0) {
            close(p.ab[0]);
            close(p.ab[1]);
            goto out;
        }
        int64_t t = now_ns();
        if (pthread_create(&th, NULL, pipe_b, &p) == 0) {
            int rc = pipe_side(p.ba[0], p.ab[1], n, 1);
            pthread_join(th, NULL);
            if (rc == 0)
                result = (double)(now_ns() - t) / (2.0 * (double)n);
        }
        close(p.ab[0]); close(p.ab[1]); close(p.ba[0]); close(p.ba[1]);
    } else {
        futex_pp p = { .turn = 0, .n = n, .cpu = cpu };
        int64_t t = now_ns();
        if (pthread_create(&th, NULL, futex_b, &p) == 0) {
            futex_take_turns(&p, 0);
            pthread_join(th, NULL);
            result = (double)(now_ns() - t) / (2.0 * (double)n);
        }
    }
out:
    sched_setaffinity(0, sizeof saved, &saved);
    return result;
}

/* ---------------------------------------------------------- processes */

static double process_switch_once(long n, int cpu, int variant)
{
    (void)variant; /* there is only the pipe */
    int ab[2], ba[2];
    if (pipe(ab) != 0)
        return -1;
    if (pipe(ba) != 0) {
        close(ab[0]);
        close(ab[1]);
        return -1;
    }
    cpu_set_t saved;
    sched_getaffinity(0, sizeof saved, &saved);
    pin_self_to(cpu);
    fflush(stdout);
    double result = -1;
    int64_t t = now_ns();
    pid_t pid = fork();
    if (pid == 0) { /* B: already pinned (affinity is inherited) */
        _exit(pipe_side(ab[0], ba[1], n, 0) == 0 ? 0 : 1);
    }
    if (pid > 0) {
        int rc = pipe_side(ba[0], ab[1], n, 1);
        int status = 0;
        waitpid(pid, &status, 0);
        if (rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            result = (double)(now_ns() - t) / (2.0 * (double)n);
    }
    close(ab[0]); close(ab[1]); close(ba[0]); close(ba[1]);
    sched_setaffinity(0, sizeof saved, &saved);
    return result;
}

/* ------------------------------------------------------------- memory */

typedef struct idle_bench {
    long n;
    goc_chan *gate;        /* closed to release every idle coroutine */
    _Atomic long parked;   /* coroutines that reached their receive */
    _Atomic long ended;
    long rss_before, rss_parked;
} idle_bench;

static void idle_one(void *arg)
{
    idle_bench *b = arg;
    atomic_fetch_add(&b->parked, 1);
    goc_chan_recv(b->gate, NULL);     /* parks until the close */
    atomic_fetch_add(&b->ended, 1);
}

static void idle_main(void *arg)
{
    idle_bench *b = arg;
    b->rss_before = rss_bytes();
    long started = 0;
    for (; started < b->n; started++)
        if (goc_go(idle_one, b) != 0)
            break;
    while (atomic_load(&b->parked) < started)
        goc_sleep(1000000);
    goc_sleep(10000000); /* the last ones reach their receive */
    b->rss_parked = rss_bytes();
    goc_chan_close(b->gate);
    while (atomic_load(&b->ended) < started)
        goc_sleep(1000000);
    b->n = started;
}

/* Bytes of resident memory per parked coroutine (stack_size 0: default). */
static double coroutine_memory(long n, size_t stack_size)
{
    idle_bench b = { .n = n, .gate = goc_chan_make(0, 0) };
    if (!b.gate)
        return -1;
    goc_config cfg = { .workers = 1, .pin = 1, .stack_size = stack_size };
    int rc = goc_run(&cfg, idle_main, &b);
    goc_chan_free(b.gate);
    if (rc != 0 || b.n != n || b.rss_before < 0 || b.rss_parked < 0)
        return -1;
    return (double)(b.rss_parked - b.rss_before) / (double)n;
}

typedef struct thread_idle {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    long waiting;
    int go;
} thread_idle;

static void *idle_thread(void *arg)
{
    thread_idle *ti = arg;
    pthread_mutex_lock(&ti->lock);
    ti->waiting++;
    pthread_cond_broadcast(&ti->cond);
    while (!ti->go)
        pthread_cond_wait(&ti->cond, &ti->lock);
    pthread_mutex_unlock(&ti->lock);
    return NULL;
}

/* Bytes of resident memory per blocked thread (default attributes: an
 * 8 MiB stack reserved, a few pages of it touched), and the growth of the
 * kernel's stacks per thread. *made: threads actually created. */
static double thread_memory(long n, double *kernel_per, long *made)
{
    thread_idle ti = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
    pthread_t *th = calloc((size_t)n, sizeof *th);
    if (!th)
        return -1;
    long rss0 = rss_bytes(), ks0 = kernel_stack_bytes();
    long k = 0;
    for (; k < n; k++)
        if (pthread_create(&th[k], NULL, idle_thread, &ti) != 0)
            break;
    pthread_mutex_lock(&ti.lock);
    while (ti.waiting < k)
        pthread_cond_wait(&ti.cond, &ti.lock);
    pthread_mutex_unlock(&ti.lock);
    long rss1 = rss_bytes(), ks1 = kernel_stack_bytes();
    pthread_mutex_lock(&ti.lock);
    ti.go = 1;
    pthread_cond_broadcast(&ti.cond);
    pthread_mutex_unlock(&ti.lock);
    for (long i = 0; i < k; i++)
        pthread_join(th[i], NULL);
    free(th);
    *made = k;
    if (k == 0 || rss0 < 0 || rss1 < 0)
        return -1;
    *kernel_per = (ks0 >= 0 && ks1 >= 0) ? (double)(ks1 - ks0) / (double)k : -1;
    return (double)(rss1 - rss0) / (double)k;
}

/* -------------------------------------------------------------- output */

static void json(const char *workload, const char *impl, long n, double value, const char *unit)
{
    printf("{\"workload\":\"%s\",\"impl\":\"%s\",\"n\":%ld,\"value\":%.1f,\"unit\":\"%s\","
           "\"ok\":%s}\n",
           workload, impl, n, value < 0 ? 0.0 : value, unit, value < 0 ? "false" : "true");
}

static void row(const char *what, double value, const char *unit, const char *note)
{
    if (value < 0)
        printf("  %-34s %12s  %-10s %s\n", what, "failed", unit, note);
    else
        printf("  %-34s %12.1f  %-10s %s\n", what, value, unit, note);
}

static long parse_long(const char *s, const char *what)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v <= 0) {
        fprintf(stderr, "switchcost: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

static opts parse(int argc, char **argv)
{
    opts o = { .coro_n = 2000000, .os_n = 100000, .idle_n = 10000, .json_only = 0 };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            o.json_only = 1;
        else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
            o.coro_n = parse_long(argv[++i], "--n");
        else if (strcmp(argv[i], "--os-n") == 0 && i + 1 < argc)
            o.os_n = parse_long(argv[++i], "--os-n");
        else if (strcmp(argv[i], "--idle") == 0 && i + 1 < argc)
            o.idle_n = parse_long(argv[++i], "--idle");
        else if (strcmp(argv[i], "--quick") == 0) {
            o.coro_n = 200000;
            o.os_n = 10000;
            o.idle_n = 2000;
        } else {
            fprintf(stderr,
                    "usage: %s [--quick] [--n SWITCHES] [--os-n ROUNDTRIPS] [--idle N] [--json]\n",
                    argv[0]);
            exit(2);
        }
    }
    return o;
}

int main(int argc, char **argv)
{
    opts o = parse(argc, argv);
    int cpu = first_cpu();

    /* Processes first: fork before any thread exists. */
    double proc = median_of_runs(process_switch_once, o.os_n, cpu, 0);
    double thr_futex = median_of_runs(thread_switch_once, o.os_n, cpu, 0);
    double thr_pipe = median_of_runs(thread_switch_once, o.os_n, cpu, 1);
    double co_yield = median_of_runs(goc_switch_once, o.coro_n, cpu, 0);
    double co_chan = median_of_runs(goc_switch_once, o.coro_n / 2, cpu, 1);
    double co_mem = coroutine_memory(o.idle_n, 0);
    double co_mem_small = SANITIZED ? -1 : coroutine_memory(o.idle_n, 2048);
    double kernel_per = -1;
    long made = 0;
    double th_mem = thread_memory(o.idle_n, &kernel_per, &made);

    json("switch", "goc-coroutine-yield", o.coro_n, co_yield, "ns/switch");
    json("switch", "goc-coroutine-channel", o.coro_n / 2, co_chan, "ns/switch");
    json("switch", "thread-futex", o.os_n, thr_futex, "ns/switch");
    json("switch", "thread-pipe", o.os_n, thr_pipe, "ns/switch");
    json("switch", "process-pipe", o.os_n, proc, "ns/switch");
    json("memory", "goc-coroutine", o.idle_n, co_mem, "bytes/idle");
    if (!SANITIZED)
        json("memory", "goc-coroutine-2k", o.idle_n, co_mem_small, "bytes/idle");
    json("memory", "thread", made, th_mem, "bytes/idle");
    json("memory", "thread-kernel-stack", made, kernel_per, "bytes/idle");
    if (o.json_only)
        return 0;

    char note[128];
    printf("\nswitch cost (median of %d runs; threads and processes pinned to CPU %d)\n", RUNS,
           cpu);
    row("goc coroutine, goc_yield", co_yield, "ns/switch", "2 coroutines, 1 worker");
    row("goc coroutine, unbuffered channel", co_chan, "ns/switch", "2 hand-offs per round trip");
    row("OS thread, futex", thr_futex, "ns/switch", "");
    row("OS thread, pipe", thr_pipe, "ns/switch", "");
    row("OS process, pipe", proc, "ns/switch", "");
    printf("\nmemory per idle task (resident set growth / N)\n");
    snprintf(note, sizeof note, "N = %ld, default %zu KiB stacks", o.idle_n,
             GOC_STACK_DEFAULT / 1024);
    row("goc coroutine parked on a channel", co_mem, "bytes", note);
    if (!SANITIZED)
        row("  the same, 2 KiB stacks", co_mem_small, "bytes", "goc_config.stack_size = 2048");
    snprintf(note, sizeof note, "N = %ld, default 8 MiB stacks reserved", made);
    row("OS thread blocked on a condvar", th_mem, "bytes", note);
    row("  + kernel stack per thread", kernel_per, "bytes", "KernelStack, system-wide");
    int ok = co_yield > 0 && co_chan > 0 && thr_futex > 0 && thr_pipe > 0 && proc > 0 &&
             co_mem > 0 && (co_mem_small > 0 || SANITIZED) && th_mem > 0;
    return ok ? 0 : 1;
}
