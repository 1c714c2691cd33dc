/*
 * test_topo.c - worker placement on machines we do not have.
 *
 * hwloc loads a synthetic topology from HWLOC_SYNTHETIC (read at
 * hwloc_topology_load, so setenv before goc_run or goc__topo_open is
 * enough). On a synthetic machine nothing is really bound, so the tests
 * read what goc asked hwloc for (struct goc_topo, topo.h: a white-box
 * test) and each worker's victim list (runtime.h).
 *
 * The machine below: 2 packages x 2 NUMA nodes x 2 L3 x 2 cores x 2
 * hyperthreads, 16 cores, 32 PUs. Core c (logical index) holds PUs 2c and
 * 2c+1, shares its L3 with the cores c/2 names, its NUMA node with c/4,
 * its package with c/8. The expected victim order is computed from that
 * arithmetic, not from hwloc: nearest level first (same L3, same NUMA
 * node, same package, the rest), in index-distance order within a level.
 */
#include "test_util.h"
#include "runtime.h"
#include "topo.h"

#include <sched.h>

#define SYNTH "pack:2 numa:2 l3:2 core:2 pu:2"
#define SYNTH_CORES 16

/* How near two cores of SYNTH are: 3 same L3, 2 same NUMA node, 1 same
 * package, 0 otherwise. */
static int synth_level(int a, int b)
{
    if (a / 2 == b / 2)
        return 3;
    if (a / 4 == b / 4)
        return 2;
    if (a / 8 == b / 8)
        return 1;
    return 0;
}

/* The victims worker self of n should try, nearest first. */
static void expected_victims(int n, int self, int (*level)(int, int), int *out)
{
    int k = 0;
    for (int lv = 3; lv >= 0; lv--)
        for (int d = 1; d < n; d++)
            if (level(self, (self + d) % n) == lv)
                out[k++] = (self + d) % n;
}

static char *saved_env(const char *name)
{
    const char *v = getenv(name);
    return v ? strdup(v) : NULL;
}

static void restore_env(const char *name, char *v)
{
    if (v) {
        setenv(name, v, 1);
        free(v);
    } else {
        unsetenv(name);
    }
}

static struct goc_topo *open_synthetic(const char *desc)
{
    setenv("HWLOC_SYNTHETIC", desc, 1);
    struct goc_topo *tp = NULL;
    int rc = goc__topo_open(&tp);
    unsetenv("HWLOC_SYNTHETIC");
    assert_int_equal(rc, 0);
    return tp;
}

static void check_victims(struct goc_topo *tp, int n, int (*level)(int, int))
{
    int got[SYNTH_CORES * 4], want[SYNTH_CORES * 4];
    for (int self = 0; self < n; self++) {
        assert_int_equal(goc__topo_victims(tp, n, self, got), n - 1);
        expected_victims(n, self, level, want);
        for (int k = 0; k < n - 1; k++) {
            if (got[k] != want[k])
                fail_msg("%d workers: worker %d's victim %d is %d, want %d", n, self, k,
                         got[k], want[k]);
        }
    }
}

/* One worker per core: cores sharing the L3 first, then the NUMA node,
 * then the package, then the other package. */
static void test_victim_order_one_per_core(void **state)
{
    (void)state;
    struct goc_topo *tp = open_synthetic(SYNTH);
    assert_int_equal(goc__topo_cores(tp), SYNTH_CORES);
    assert_int_equal(goc__topo_plan(tp, SYNTH_CORES, 1), 0);
    assert_true(goc__topo_pinned(tp));
    check_victims(tp, SYNTH_CORES, synth_level);
    /* spelled out once, for worker 5 (L3 {4,5}, NUMA {4..7}, package {0..7}) */
    int got[SYNTH_CORES];
    goc__topo_victims(tp, SYNTH_CORES, 5, got);
    const int want5[] = {4, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15};
    assert_memory_equal(got, want5, sizeof want5);
    goc__topo_close(tp);
}

/* Fewer workers than cores: workers 0..5 on cores 0..5, same order. */
static void test_victim_order_fewer_workers(void **state)
{
    (void)state;
    struct goc_topo *tp = open_synthetic(SYNTH);
    assert_int_equal(goc__topo_plan(tp, 6, 1), 0);
    assert_true(goc__topo_pinned(tp));
    check_victims(tp, 6, synth_level);
    goc__topo_close(tp);
}

/* 4 packages of 4 cores, no L3 or NUMA level: same package first. */
static int flat_level(int a, int b)
{
    return a / 4 == b / 4 ? 1 : 0;
}

static void test_victim_order_packages_only(void **state)
{
    (void)state;
    struct goc_topo *tp = open_synthetic("pack:4 core:4 pu:1");
    assert_int_equal(goc__topo_cores(tp), 16);
    assert_int_equal(goc__topo_plan(tp, 16, 1), 0);
    check_victims(tp, 16, flat_level);
    goc__topo_close(tp);
}

/* More workers than cores, or pin off: nobody is bound, and victims go in
 * plain index order (placement is the OS's). */
static int no_level(int a, int b)
{
    (void)a;
    (void)b;
    return 0;
}

static void test_oversubscribed_plan(void **state)
{
    (void)state;
    struct goc_topo *tp = open_synthetic(SYNTH);
    assert_int_equal(goc__topo_plan(tp, SYNTH_CORES + 1, 1), 0);
    assert_false(goc__topo_pinned(tp));
    check_victims(tp, SYNTH_CORES + 1, no_level);
    assert_int_equal(goc__topo_bind_thread(tp, 3), 0);
    assert_true(hwloc_bitmap_iszero(tp->asked[3]));
    assert_int_equal(goc__topo_plan(tp, 4, 0), 0);
    assert_false(goc__topo_pinned(tp));
    check_victims(tp, 4, no_level);
    goc__topo_close(tp);
}

/* ------------------------------------------- goc_run on the synthetic box */

static atomic_int g_nworkers;

/* Wait (bounded) until every worker's thread asked for its binding. */
static int wait_all_asked(struct goc_topo *tp, int n)
{
    int64_t end = goc_now() + 30 * TU_SEC;
    while (atomic_load_explicit(&tp->nasked, memory_order_acquire) < n) {
        if (goc_now() >= end)
            return 0;
        goc_sleep(TU_MS);
    }
    return 1;
}

static void synthetic_main(void *arg)
{
    (void)arg;
    goc_runtime *rt = goc__runtime();
    int n = goc_workers();
    atomic_store(&g_nworkers, n);
    TU_CHECK_INT_EQ(n, SYNTH_CORES);
    if (n != SYNTH_CORES)
        return;
    struct goc_topo *tp = rt->topo;
    TU_CHECK(goc__topo_pinned(tp));
    TU_CHECK(wait_all_asked(tp, n));
    hwloc_bitmap_t want = hwloc_bitmap_alloc();
    for (int i = 0; i < n; i++) {
        /* worker i on core i: both of its hyperthreads, nothing else */
        hwloc_bitmap_zero(want);
        hwloc_bitmap_set_range(want, (unsigned)(2 * i), 2 * i + 1);
        if (!hwloc_bitmap_isequal(tp->asked[i], want)) {
            char buf[64];
            hwloc_bitmap_list_snprintf(buf, sizeof buf, tp->asked[i]);
            tu_check_failed(__FILE__, __LINE__, "worker %d asked for PUs %s, want %d-%d", i,
                            buf, 2 * i, 2 * i + 1);
        }
        /* the scheduler steals in the order the topology gives */
        int exp[SYNTH_CORES];
        expected_victims(n, i, synth_level, exp);
        for (int k = 0; k < n - 1; k++)
            TU_CHECK_INT_EQ(rt->workers[i].victims[k], exp[k]);
    }
    hwloc_bitmap_free(want);
}

/* No GOC_WORKERS, no cfg: one worker per core of the synthetic machine,
 * each asked to be bound to its own core's PUs, victims nearest first. */
static void test_run_default_workers_and_binding(void **state)
{
    (void)state;
    char *workers = saved_env("GOC_WORKERS");
    unsetenv("GOC_WORKERS");
    setenv("HWLOC_SYNTHETIC", SYNTH, 1);
    tu_checks_reset();
    int rc = goc_run(NULL, synthetic_main, NULL);
    unsetenv("HWLOC_SYNTHETIC");
    restore_env("GOC_WORKERS", workers);
    assert_int_equal(rc, 0);
    assert_int_equal(atomic_load(&g_nworkers), SYNTH_CORES);
    TU_ASSERT_NO_CHECK_FAILURES();
}

/* ------------------------------------------------ the real machine, pinned */

static hwloc_topology_t g_real;
static hwloc_bitmap_t g_caller_set;

typedef struct probe_arg {
    int pinned;
    goc_wg *wg;
} probe_arg;

/* On worker w (no switch between reading the id and the affinity), the
 * thread's real CPU affinity: core w's PUs when pinned, the caller's
 * own set when not. */
static void affinity_probe(void *arg)
{
    probe_arg *pa = arg;
    int w = goc_worker_id();
    hwloc_bitmap_t now = hwloc_bitmap_alloc();
    TU_CHECK(hwloc_get_cpubind(g_real, now, HWLOC_CPUBIND_THREAD) == 0);
    if (pa->pinned) {
        hwloc_obj_t core = hwloc_get_obj_by_type(g_real, HWLOC_OBJ_CORE, (unsigned)w);
        if (!core)
            core = hwloc_get_obj_by_type(g_real, HWLOC_OBJ_PU, (unsigned)w);
        TU_CHECK(core != NULL);
        if (core)
            TU_CHECK(hwloc_bitmap_isequal(now, core->cpuset));
    } else {
        TU_CHECK(hwloc_bitmap_isequal(now, g_caller_set));
    }
    hwloc_bitmap_free(now);
    goc_wg_done(pa->wg);
}

static void real_main(void *arg)
{
    int pinned = *(int *)arg;
    goc_runtime *rt = goc__runtime();
    TU_CHECK_INT_EQ(goc__topo_pinned(rt->topo), pinned);
    TU_CHECK_INT_EQ(rt->pin, pinned);
    if (pinned)
        TU_CHECK(wait_all_asked(rt->topo, goc_workers()));
    else
        TU_CHECK_INT_EQ(atomic_load(&rt->topo->nasked), 0);
    /* probe from many coroutines: they land on several workers */
    probe_arg pa = {pinned, goc_wg_new()};
    TU_CHECK(pa.wg != NULL);
    if (!pa.wg)
        return;
    for (int i = 0; i < 64; i++) {
        goc_wg_add(pa.wg, 1);
        TU_CHECK_INT_EQ(goc_go(affinity_probe, &pa), 0);
    }
    TU_CHECK_INT_EQ(goc_wg_wait(pa.wg), 0);
    goc_wg_free(pa.wg);
    /* and main itself, wherever it runs now */
    goc_wg *one = goc_wg_new();
    probe_arg self = {pinned, one};
    goc_wg_add(one, 1);
    affinity_probe(&self);
    goc_wg_free(one);
}

static void run_real(int workers, int want_pinned)
{
    hwloc_topology_init(&g_real);
    assert_int_equal(hwloc_topology_load(g_real), 0);
    g_caller_set = hwloc_bitmap_alloc();
    assert_int_equal(hwloc_get_cpubind(g_real, g_caller_set, HWLOC_CPUBIND_THREAD), 0);
    goc_config cfg = tu_cfg(0);
    cfg.workers = workers;
    TU_RUN(&cfg, real_main, &want_pinned);
    /* the caller's own binding is back */
    hwloc_bitmap_t after = hwloc_bitmap_alloc();
    assert_int_equal(hwloc_get_cpubind(g_real, after, HWLOC_CPUBIND_THREAD), 0);
    assert_true(hwloc_bitmap_isequal(after, g_caller_set));
    hwloc_bitmap_free(after);
    hwloc_bitmap_free(g_caller_set);
    hwloc_topology_destroy(g_real);
}

static int real_cores(void)
{
    hwloc_topology_t t;
    hwloc_topology_init(&t);
    hwloc_topology_load(t);
    int n = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
    if (n <= 0)
        n = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
    hwloc_topology_destroy(t);
    return n > 0 ? n : 1;
}

/* One worker per core of this machine: each thread really runs on its
 * core, and the caller gets its binding back. */
static void test_real_pinned(void **state)
{
    (void)state;
    run_real(real_cores(), 1);
}

/* Oversubscribed (more workers than cores): no thread is bound, every
 * worker keeps the caller's affinity, the caller's binding is unchanged. */
static void test_real_oversubscribed_unpinned(void **state)
{
    (void)state;
    run_real(real_cores() + 1, 0);
    run_real(4 * real_cores(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_victim_order_one_per_core),
        cmocka_unit_test(test_victim_order_fewer_workers),
        cmocka_unit_test(test_victim_order_packages_only),
        cmocka_unit_test(test_oversubscribed_plan),
        cmocka_unit_test(test_run_default_workers_and_binding),
        cmocka_unit_test(test_real_pinned),
        cmocka_unit_test(test_real_oversubscribed_unpinned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
