/*
 * topo.c - machine topology through hwloc: how many cores, where each
 * worker runs, and which victims a thief tries first.
 *
 * Owns: the hwloc topology of the running runtime, and the CPU binding of
 * the thread that called goc_run (saved before worker 0 is pinned on it,
 * restored when goc_run returns).
 *
 * Worker i is bound to core i mod cores (all hyperthreads of that core).
 * Victims are ordered by how deep the nearest common ancestor of the two
 * cores sits in the tree (same L2 before same L3 before same package...),
 * ties broken by index distance, so stealing stays close in cache.
 */
#include <hwloc.h>
#include <stdlib.h>

#include "runtime.h"

struct goc_topo {
    hwloc_topology_t t;
    int ncores;
    hwloc_obj_type_t unit;
    hwloc_cpuset_t saved;
    int saved_ok;
};

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
    tp->unit = HWLOC_OBJ_CORE;
    tp->ncores = hwloc_get_nbobjs_by_type(tp->t, HWLOC_OBJ_CORE);
    if (tp->ncores <= 0) {
        tp->unit = HWLOC_OBJ_PU;
        tp->ncores = hwloc_get_nbobjs_by_type(tp->t, HWLOC_OBJ_PU);
    }
    if (tp->ncores <= 0)
        tp->ncores = 1;
    *out = tp;
    return 0;
}

void goc__topo_close(struct goc_topo *tp)
{
    if (tp->saved)
        hwloc_bitmap_free(tp->saved);
    hwloc_topology_destroy(tp->t);
    free(tp);
}

int goc__topo_cores(struct goc_topo *tp)
{
    return tp->ncores;
}

static hwloc_obj_t core_of(struct goc_topo *tp, int worker)
{
    return hwloc_get_obj_by_type(tp->t, tp->unit, (unsigned)(worker % tp->ncores));
}

int goc__topo_bind_thread(struct goc_topo *tp, int worker)
{
    hwloc_obj_t core = core_of(tp, worker);
    if (!core || !core->cpuset)
        return -1;
    return hwloc_set_cpubind(tp->t, core->cpuset, HWLOC_CPUBIND_THREAD);
}

static int closeness(struct goc_topo *tp, int a, int b)
{
    hwloc_obj_t x = core_of(tp, a), y = core_of(tp, b);
    if (!x || !y)
        return 0;
    if (x == y)
        return 1 << 20; /* more workers than cores: same core is nearest */
    hwloc_obj_t anc = hwloc_get_common_ancestor_obj(tp->t, x, y);
    return anc ? (int)anc->depth : 0;
}

int goc__topo_victims(struct goc_topo *tp, int n, int self, int *out)
{
    int k = 0;
    for (int d = 1; d < n; d++)
        out[k++] = (self + d) % n;
    /* insertion sort: nearest first, stable on index distance */
    for (int i = 1; i < k; i++) {
        int v = out[i], cv = closeness(tp, self, v), j = i - 1;
        while (j >= 0 && closeness(tp, self, out[j]) < cv) {
            out[j + 1] = out[j];
            j--;
        }
        out[j + 1] = v;
    }
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
