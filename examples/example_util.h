/*
 * example_util.h - what the comparison examples share: the command line
 * and the timeline.
 *
 * Every comparison example (sync_vs_async, gather, ..., cpu_bound) runs one
 * model per invocation:
 *
 *   ./build/examples/NAME --workers 1    the Python asyncio model
 *   ./build/examples/NAME                all cores: the Go model
 *
 * and prints a timeline, one event per line, in a format its asyncio twin
 * in examples/python/ prints too, so that examples/compare.py can set the
 * two side by side:
 *
 *   [  0.000s] event text | free comment
 *
 * The time is seconds since the example's main coroutine started. The
 * event text is what compare.py compares; anything after " | " is a
 * comment that may differ between runs (measured figures, worker ids).
 * Lines that do not start with '[' are headers and notes. The last
 * timeline line is always "done"; its time is the example's wall time.
 *
 * Owns: ex_t0, the timeline's origin. ex_run sets it once, from inside the
 * main coroutine, before that coroutine starts anything; everything else
 * only reads it, so no lock is needed. ex_failures counts unexpected
 * errors (atomic; any coroutine may add one); ex_run turns it into the
 * exit status. Lines are written with one fputs
 * each, on a line-buffered stdout, so lines from different workers never
 * mix.
 *
 * Header-only on purpose (static functions): each example is one .c file
 * that CMake builds on its own.
 */
#ifndef GOC_EXAMPLE_UTIL_H
#define GOC_EXAMPLE_UTIL_H

#include <goc.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EX_MS ((int64_t)1000000) /* nanoseconds in a millisecond */

/* What the command line asked for. */
typedef struct ex_opts {
    int workers; /* --workers N: 0 = one per core (the default), 1 = asyncio model */
} ex_opts;

static int64_t ex_t0;            /* the timeline's origin (goc_now), set by ex_run */
static _Atomic int ex_failures;  /* goc calls that failed unexpectedly (ex_check) */

/* Parse "--workers N" (also "--workers=N", "-w N"). Prints the usage and
 * exits on anything else: an example is a program, not a library. */
static ex_opts ex_parse(int argc, char **argv, const char *what)
{
    ex_opts o = { .workers = 0 };
    for (int i = 1; i < argc; i++) {
        const char *val = NULL;
        if ((strcmp(argv[i], "--workers") == 0 || strcmp(argv[i], "-w") == 0) && i + 1 < argc)
            val = argv[++i];
        else if (strncmp(argv[i], "--workers=", 10) == 0)
            val = argv[i] + 10;
        if (val) {
            char *end;
            long n = strtol(val, &end, 10);
            if (*end == '\0' && n >= 0 && n <= 4096) {
                o.workers = (int)n;
                continue;
            }
        }
        fprintf(stderr,
                "%s\n\nusage: %s [--workers N]\n"
                "  --workers 1   one thread, one event loop: the Python asyncio model\n"
                "  --workers 0   one worker per core: the Go model (the default)\n",
                what, argv[0]);
        exit(2);
    }
    return o;
}

/* Seconds on the timeline. */
static double ex_secs(void)
{
    return (double)(goc_now() - ex_t0) / 1e9;
}

/* Print one timeline line: "[  1.234s] " and the formatted event. */
__attribute__((format(printf, 1, 2))) static void ex_log(const char *fmt, ...)
{
    char line[512];
    int n = snprintf(line, sizeof line, "[%7.3fs] ", ex_secs());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    strcat(line, "\n");
    fputs(line, stdout);
}

/* The example's main coroutine and what ex_run hands it. */
typedef struct ex_main {
    const char *name;
    void (*fn)(void);
} ex_main;

static void ex_main_co(void *arg)
{
    const ex_main *m = arg;
    ex_t0 = goc_now();
    int w = goc_workers();
    printf("# %s | goc | %d worker%s (%s model)\n", m->name, w, w == 1 ? "" : "s",
           w == 1 ? "asyncio" : "Go");
    m->fn();
    ex_log("done");
}

/* Run fn as the main coroutine under the model o asks for and return the
 * process exit status. The timeline starts when fn starts. */
static int ex_run(const ex_opts *o, const char *name, void (*fn)(void))
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    goc_config cfg = { .workers = o->workers, .pin = 1, .stack_size = 0 };
    ex_main m = { name, fn };
    int rc = goc_run(&cfg, ex_main_co, &m);
    if (rc != 0) {
        fprintf(stderr, "%s: goc_run: %s\n", name, goc_strerror(rc));
        return 1;
    }
    return ex_failures ? 1 : 0;
}

/* Report a goc call that failed where the example expected success, and
 * keep going (an example shows behaviour, it does not hide errors); the
 * program then exits with status 1. */
static void ex_check(int rc, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "unexpected: %s: %s\n", what, goc_strerror(rc));
        ex_failures++;
    }
}

#endif /* GOC_EXAMPLE_UTIL_H */
