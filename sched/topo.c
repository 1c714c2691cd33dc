/*
 * topo.c - machine topology through hwloc: how many cores, where each
 * worker runs, and which victims a thief tries first.
 *
 * Owns: the hwloc topology of the running runtime (struct goc_topo,
 * topo.h), the record of what each worker asked hwloc to bind it to, and
 * the CPU binding of the thread that called goc_run (saved before worker
 * 0 is pinned on it, restored when goc_run returns).
 *
 * The plan (goc__topo_plan, once, before any worker starts):
 *   - Pinning: with pin on and no more workers than cores, worker i is
 *     bound to core i (all hyperthreads of that core), cores in hwloc's
 *     logical order, so neighbouring workers share caches. With more
 *     workers than cores (oversubscription) no worker is bound: pinning
 *     round-robin would stack workers on cores the OS could not balance
 *     (3 workers on 2 cores: two share one core while the other core has
 *     one), so the OS scheduler places them, as it places Go's threads.
 *   - Victims: while pinned, ordered by how deep the nearest common
 *     ancestor of the two cores sits in the tree (same L2 before same L3
 *     before same NUMA node before same package before the rest), ties
 *     broken by index distance, so stealing stays close in cache. Without
 *     pinning cores mean nothing: index distance only.
 *
 * Invariants: asked[i] is written only by worker i's thread (in
 * goc__topo_bind_thread), before it runs anything; everything else is
 * read-only once the plan is made. No locks.
 */
#include <stdlib.h>

#include "runtime.h"
#include "topo.h"

static void count_cores(struct goc_topo *tp)
{
    tp->unit = HWLOC_OBJ_CORE;
    tp->ncores = hwloc_get_nbobjs_by_type(tp->t, HWLOC_OBJ_CORE);
    if (tp->ncores <= 0) {
        tp->unit = HWLOC_OBJ_PU;
        tp->ncores = hwloc_get_nbobjs_by_type(tp->t, HWLOC_OBJ_PU);
    }
    if (tp->ncores <= 0)
        tp->ncores = 1;
}

/* hwloc reads HWLOC_SYNTHETIC / HWLOC_XMLFILE from the environment here:
 * that is how the tests load machines we do not have. */
int goc__topo_open(struct goc_topo **out)
{
    struct goc_topo *tp = calloc(1, sizeof *tp);
    if (!tp)
        return GOC_ENOMEM;
    if (hwloc_topology_init(&tp->t) != 0) {
        free(tp);
        return GOC_ENOMEM;
    }
    if (hwloc_topology_load(tp->t) != 0) {
        hwloc_topology_destroy(tp->t);
        free(tp);
        return GOC_ENOMEM;
    }
    count_cores(tp);
    *out = tp;
    return 0;
}

static void free_asked(struct goc_topo *tp)
{
    if (!tp->asked)
        return;
    for (int i = 0; i < tp->nworkers; i++)
        if (tp->asked[i])
            hwloc_bitmap_free(tp->asked[i]);
    free(tp->asked);
    tp->asked = NULL;
}

void goc__topo_close(struct goc_topo *tp)
{
    free_asked(tp);
    if (tp->saved)
        hwloc_bitmap_free(tp->saved);
    hwloc_topology_destroy(tp->t);
    free(tp);
}

int goc__topo_cores(struct goc_topo *tp)
{
    return tp->ncores;
}

int goc__topo_plan(struct goc_topo *tp, int nworkers, int pin)
{
    free_asked(tp);
    tp->nworkers = nworkers;
    atomic_store_explicit(&tp->nasked, 0, memory_order_relaxed);
    tp->pinned = pin && nworkers <= tp->ncores;
    tp->asked = calloc((size_t)nworkers, sizeof *tp->asked);
    if (!tp->asked)
        return GOC_ENOMEM;
    for (int i = 0; i < nworkers; i++)
        if (!(tp->asked[i] = hwloc_bitmap_alloc()))
            return GOC_ENOMEM; /* goc__topo_close frees the rest */
    return 0;
}

int goc__topo_pinned(struct goc_topo *tp)
{
    return tp->pinned;
}

/* Only meaningful while pinned: then worker < ncores. */
static hwloc_obj_t core_of(struct goc_topo *tp, int worker)
{
    return hwloc_get_obj_by_type(tp->t, tp->unit, (unsigned)worker);
}

int goc__topo_bind_thread(struct goc_topo *tp, int worker)
{
    if (!tp->pinned)
        return 0;
    hwloc_obj_t core = core_of(tp, worker);
    if (!core || !core->cpuset)
        return -1;
    hwloc_bitmap_copy(tp->asked[worker], core->cpuset);
    atomic_fetch_add_explicit(&tp->nasked, 1, memory_order_release);
    return hwloc_set_cpubind(tp->t, core->cpuset, HWLOC_CPUBIND_THREAD);
}

/* Depth of the deepest object holding both workers' cores: higher is
 * nearer. */
static int closeness(struct goc_topo *tp, int a, int b)
{
    hwloc_obj_t x = core_of(tp, a), y = core_of(tp, b);
    if (!x || !y)
        return 0;
    hwloc_obj_t anc = hwloc_get_common_ancestor_obj(tp->t, x, y);
    return anc ? (int)anc->depth : 0;
}

int goc__topo_victims(struct goc_topo *tp, int n, int self, int *out)
{
    int k = 0;
    if (!tp->pinned) {
        for (int d = 1; d < n; d++)
            out[k++] = (self + d) % n;
        return k;
    }
    /* nearest first: one pass per tree depth, deepest first, each pass in
     * index-distance order (n * depth ancestor walks, no sort) */
    for (int depth = hwloc_topology_get_depth(tp->t) - 1; depth >= 0; depth--)
        for (int d = 1; d < n; d++)
            if (closeness(tp, self, (self + d) % n) == depth)
                out[k++] = (self + d) % n;
    return k;
}

void goc__topo_save_binding(struct goc_topo *tp)
{
    tp->saved = hwloc_bitmap_alloc();
    tp->saved_ok = tp->saved && hwloc_get_cpubind(tp->t, tp->saved, HWLOC_CPUBIND_THREAD) == 0;
}

void goc__topo_restore_binding(struct goc_topo *tp)
{
    if (tp->saved_ok)
        hwloc_set_cpubind(tp->t, tp->saved, HWLOC_CPUBIND_THREAD);
}
