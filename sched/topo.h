/*
 * topo.h - the topology state of a runtime (topo.c), for goc_run and for
 * the white-box topology tests (tests/test_topo.c), which read what goc
 * asked hwloc for: with a synthetic topology (HWLOC_SYNTHETIC) nothing is
 * really bound, so the record is the only evidence.
 */
#ifndef GOC_TOPO_H
#define GOC_TOPO_H

#include <hwloc.h>
#include <stdatomic.h>

struct goc_topo {
    hwloc_topology_t t;
    int ncores;                /* cores, or PUs where hwloc sees no cores */
    hwloc_obj_type_t unit;     /* HWLOC_OBJ_CORE or HWLOC_OBJ_PU */
    /* Set by goc__topo_plan, before any worker starts. */
    int nworkers;
    int pinned;                /* each worker gets a core of its own */
    /* asked[i]: the cpuset worker i's thread asked hwloc_set_cpubind for,
     * written by that thread before the call; empty if it never asked
     * (not pinned). Read by tests after the workers started. */
    hwloc_cpuset_t *asked;
    _Atomic int nasked;        /* workers that wrote asked[] (release) */
    hwloc_cpuset_t saved;      /* goc_run's caller's binding */
    int saved_ok;
};

#endif
