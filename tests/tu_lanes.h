/*
 * tu_lanes.h - N coroutines in lanes, with exact accounting.
 *
 * Several tests run the same harness: N coroutines ("lanes"), each told
 * its index, each running `iters` iterations of one operation and counting
 * how every iteration ended; main waits for all of them, then checks the
 * totals exactly: no iteration lost, none counted twice. This header owns
 * that harness; what an iteration does, and what its outcomes mean, stay
 * in the test.
 *
 *   - tu_lanes_init (the test's thread) describes the run: a name for the
 *     failure messages, the lanes, the iterations, the step, the outcomes.
 *   - tu_lanes_run (inside a coroutine), or tu_lanes_main as goc_run's
 *     main, starts the lanes with their index and waits for all of them in
 *     a WaitGroup. It has no timeout of its own, as the tests had none: a
 *     lane stuck for good is a deadlock that goc_run reports (GOC_EDEADLK,
 *     which TU_RUN fails on), and ctest's TIMEOUT bounds the rest.
 *   - The iteration loop is the harness's: each lane calls step(ls, lane,
 *     iteration) `iters` times, and the step counts how the iteration
 *     ended with tu_lanes_count / tu_lanes_add. Counts live in
 *     tally[lane][outcome], written only by that lane's coroutine (plain
 *     longs: one writer, read once goc_run has returned).
 *   - The checks run on the test's thread after TU_RUN (cmocka asserts):
 *     every lane ran all its iterations and each ended in exactly one of
 *     the given outcomes, and the sums over the lanes match; an outcome
 *     that must never happen did not; an outcome equals the sum of others.
 *     A failure names the run, the lane and that lane's counts.
 *
 * Include it after test_util.h.
 */
#ifndef GOC_TU_LANES_H
#define GOC_TU_LANES_H

#include "test_util.h"

enum { TU_LANES_MAX = 32, TU_LANES_MAX_OUTCOMES = 8 };

typedef struct tu_lanes tu_lanes;

/* One iteration of a lane: do it, count how it ended. Returns 1 to go on,
 * 0 to stop this lane (after a failed TU_CHECK): the lane is then short of
 * iterations, which tu_lanes_assert_each_iteration_once reports. */
typedef int (*tu_lane_step)(tu_lanes *ls, int lane, long iteration);

typedef struct tu_lanes_spec {
    const char *name; /* names the run in failure messages */
    int count;        /* lanes, at most TU_LANES_MAX */
    long iters;       /* iterations per lane */
    tu_lane_step step;
    void *ctx; /* the test's shared state, for the step */
    const char *const *outcome_names; /* outcomes, at most TU_LANES_MAX_OUTCOMES */
    int outcomes;
} tu_lanes_spec;

/* What a lane's coroutine is given: the run and its own index. */
typedef struct tu_lane_slot {
    tu_lanes *ls;
    int index;
} tu_lane_slot;

struct tu_lanes {
    char name[64];
    int count;
    long iters;
    tu_lane_step step;
    void *ctx;
    const char *const *outcome_names;
    int outcomes;
    goc_wg *wg;
    tu_lane_slot slots[TU_LANES_MAX];
    long ran[TU_LANES_MAX]; /* iterations each lane completed */
    long tally[TU_LANES_MAX][TU_LANES_MAX_OUTCOMES];
};

/* --------------------------------------------------- describing a run */

static inline void tu_lanes_init(tu_lanes *ls, const tu_lanes_spec *spec)
{
    if (spec->count < 1 || spec->count > TU_LANES_MAX || spec->outcomes < 1 ||
        spec->outcomes > TU_LANES_MAX_OUTCOMES || spec->step == NULL)
        fail_msg("%s: bad lanes spec (%d lanes, %d outcomes)", spec->name,
                 spec->count, spec->outcomes);
    memset(ls, 0, sizeof *ls);
    snprintf(ls->name, sizeof ls->name, "%s", spec->name);
    ls->count = spec->count;
    ls->iters = spec->iters;
    ls->step = spec->step;
    ls->ctx = spec->ctx;
    ls->outcome_names = spec->outcome_names;
    ls->outcomes = spec->outcomes;
    for (int lane = 0; lane < ls->count; lane++)
        ls->slots[lane] = (tu_lane_slot){.ls = ls, .index = lane};
}

/* ------------------------------------------- inside the coroutines */

/* In a step: this lane's iteration ended `amount` times in `outcome`. */
static inline void tu_lanes_add(tu_lanes *ls, int lane, int outcome, long amount)
{
    TU_CHECK(outcome >= 0 && outcome < ls->outcomes);
    if (outcome >= 0 && outcome < ls->outcomes)
        ls->tally[lane][outcome] += amount;
}

static inline void tu_lanes_count(tu_lanes *ls, int lane, int outcome)
{
    tu_lanes_add(ls, lane, outcome, 1);
}

static inline void tu_lane_main(void *arg)
{
    tu_lane_slot *slot = arg;
    tu_lanes *ls = slot->ls;
    for (long it = 0; it < ls->iters; it++) {
        if (!ls->step(ls, slot->index, it))
            break;
        ls->ran[slot->index]++;
    }
    goc_wg_done(ls->wg);
}

static inline void tu_lanes_spawn(tu_lanes *ls, int lane)
{
    goc_wg_add(ls->wg, 1);
    int rc = goc_go(tu_lane_main, &ls->slots[lane]);
    if (rc != 0) {
        tu_check_failed(__FILE__, __LINE__, "%s: lane %d: goc_go returned %d",
                        ls->name, lane, rc);
        goc_wg_done(ls->wg);
    }
}

/* Inside a coroutine: run every lane, return once all have finished. */
static inline void tu_lanes_run(tu_lanes *ls)
{
    ls->wg = goc_wg_new();
    TU_CHECK(ls->wg != NULL);
    if (ls->wg == NULL)
        return;
    for (int lane = 0; lane < ls->count; lane++)
        tu_lanes_spawn(ls, lane);
    int rc = goc_wg_wait(ls->wg);
    TU_CHECK_INT_EQ(rc, 0);
    /* Not waited for (cancelled): a lane may still be running and will
     * call goc_wg_done, so the WaitGroup is left to it. */
    if (rc == 0)
        goc_wg_free(ls->wg);
    ls->wg = NULL;
}

/* goc_run's main for a test with nothing to do around the lanes. */
static inline void tu_lanes_main(void *arg)
{
    tu_lanes_run(arg);
}

/* ------------------------------------ after goc_run: the accounting */

static inline long tu_lanes_lane_sum(const tu_lanes *ls, int lane,
                                     const int *outcomes, int n)
{
    long sum = 0;
    for (int i = 0; i < n; i++)
        sum += ls->tally[lane][outcomes[i]];
    return sum;
}

static inline long tu_lanes_total(const tu_lanes *ls, int outcome)
{
    long sum = 0;
    for (int lane = 0; lane < ls->count; lane++)
        sum += ls->tally[lane][outcome];
    return sum;
}

/* "sent 3, received 2, ..." for one lane, for failure messages. */
static inline const char *tu_lanes_describe(const tu_lanes *ls, int lane,
                                            char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int o = 0; o < ls->outcomes && used < size; o++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s %ld",
                                 o ? ", " : "", ls->outcome_names[o],
                                 ls->tally[lane][o]);
    return buf;
}

/* Every lane ran all its iterations, and each iteration was counted in
 * exactly one of outcomes[0..n): per lane, and summed over the lanes. */
static inline void tu_lanes_assert_each_iteration_once(const tu_lanes *ls,
                                                       const int *outcomes, int n)
{
    char counts[256];
    long total = 0;
    for (int lane = 0; lane < ls->count; lane++) {
        if (ls->ran[lane] != ls->iters)
            fail_msg("%s: lane %d ran %ld of its %ld iterations (%s)", ls->name,
                     lane, ls->ran[lane], ls->iters,
                     tu_lanes_describe(ls, lane, counts, sizeof counts));
        long counted = tu_lanes_lane_sum(ls, lane, outcomes, n);
        if (counted != ls->ran[lane])
            fail_msg("%s: lane %d ran %ld iterations but counted %ld outcomes (%s)",
                     ls->name, lane, ls->ran[lane], counted,
                     tu_lanes_describe(ls, lane, counts, sizeof counts));
        total += counted;
    }
    long want = (long)ls->count * ls->iters;
    if (total != want)
        fail_msg("%s: %ld outcomes over %d lanes, want %ld", ls->name, total,
                 ls->count, want);
}

/* No lane ever counted `outcome`. */
static inline void tu_lanes_assert_never(const tu_lanes *ls, int outcome)
{
    char counts[256];
    for (int lane = 0; lane < ls->count; lane++)
        if (ls->tally[lane][outcome] != 0)
            fail_msg("%s: lane %d: %s %ld times, want never (%s)", ls->name,
                     lane, ls->outcome_names[outcome], ls->tally[lane][outcome],
                     tu_lanes_describe(ls, lane, counts, sizeof counts));
}

/* In every lane, and so in total, `outcome` is the sum of parts[0..n). */
static inline void tu_lanes_assert_balanced(const tu_lanes *ls, int outcome,
                                            const int *parts, int n)
{
    char counts[256];
    for (int lane = 0; lane < ls->count; lane++)
        if (ls->tally[lane][outcome] != tu_lanes_lane_sum(ls, lane, parts, n))
            fail_msg("%s: lane %d: %s %ld, but its parts sum to %ld (%s)",
                     ls->name, lane, ls->outcome_names[outcome],
                     ls->tally[lane][outcome], tu_lanes_lane_sum(ls, lane, parts, n),
                     tu_lanes_describe(ls, lane, counts, sizeof counts));
}

#endif /* GOC_TU_LANES_H */
