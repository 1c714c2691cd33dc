/*
 * test_stack.c - white-box tests of the memory the runtime keeps warm
 * (sched/stack.c, sched/copool.c):
 *   - an idle coroutine's lowest usable stack page is never touched, not
 *     even read (the overflow check must not commit it);
 *   - stacks and coroutine structs survive goc_run: the next run with the
 *     same stack size adopts the same slabs;
 *   - the scavenger gives back the pages of cold free slots beyond the
 *     warm bound, beside running workers, and released slots are reused
 *     before new ones are carved; the end of a run keeps only the bound.
 * Each test uses a stack size of its own, so that what an earlier test
 * left in the reserve (a different slot size) is not adopted.
 */
#include "test_util.h"

#include <sys/mman.h>

#include "runtime.h"

static size_t page(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* 1 if the page holding addr is resident, 0 if not, -1 on error. */
static int resident(const void *addr)
{
    unsigned char v = 0;
    void *pg = (void *)((uintptr_t)addr & ~(uintptr_t)(page() - 1));
    if (mincore(pg, page(), &v) != 0)
        return -1;
    return v & 1;
}

static goc_stack_pool *pool(void)
{
    return &goc__runtime()->stacks;
}

/* ------------------------------------------------- untouched bottom page */

static goc_chan *g_gate;
static goc_co *g_parked;
static atomic_int g_ready;

static void parker(void *arg)
{
    (void)arg;
    g_parked = goc__self();
    for (int i = 0; i < 10; i++)
        goc_yield(); /* every switch runs the overflow check */
    atomic_store(&g_ready, 1);
    goc_chan_recv(g_gate, NULL);
}

static void main_bottom(void *arg)
{
    (void)arg;
    atomic_store(&g_ready, 0);
    g_gate = goc_chan_make(0, 0);
    TU_CHECK(g_gate != NULL);
    TU_CHECK_INT_EQ(goc_go(parker, NULL), 0);
    while (!atomic_load(&g_ready))
        goc_yield();
    goc_sleep(TU_MS); /* it is parked by now */
    char *lo;
    size_t size;
    goc__stack_bounds(pool(), g_parked, &lo, &size);
    if (g_parked->stack_kind == GOC_STACK_POOL_GUARDED)
        TU_CHECK_INT_EQ(resident(lo), 0);
    else
        fprintf(stderr, "note: no guard page on this host; the canary read may map the page\n");
    TU_CHECK_INT_EQ(resident(lo + size - 1), 1);
    goc_chan_close(g_gate);
}

static void test_idle_bottom_page_untouched(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(80 * 1024);
    TU_RUN(&cfg, main_bottom, NULL);
    goc_chan_free(g_gate);
}

/* ------------------------------------------------- survival across runs */

#define SEEN_SLABS 8
typedef struct {
    char *slab0;                  /* first stack slab */
    goc_stack_slab slabs[SEEN_SLABS]; /* the first stack slabs */
    int nslabs;
    goc_co_slab *co_oldest;       /* oldest coroutine slab */
    goc_co *child;                /* the struct the child ran in */
    char *child_stack;
} run_seen;

static void *child_task(void *arg)
{
    (void)arg;
    goc_co *self = goc__self();
    return self->stack;
}

static void main_seen(void *arg)
{
    run_seen *seen = arg;
    goc_task *t = goc_spawn(child_task, NULL);
    TU_CHECK(t != NULL);
    seen->child = (goc_co *)t;
    void *stack = NULL;
    TU_CHECK_INT_EQ(goc_join(t, &stack), 0);
    seen->child_stack = stack;
    goc_runtime *rt = goc__runtime();
    pthread_mutex_lock(&rt->stacks.lock);
    seen->slab0 = rt->stacks.s.slabs[0].base;
    seen->nslabs = atomic_load(&rt->stacks.nslabs);
    if (seen->nslabs > SEEN_SLABS)
        seen->nslabs = SEEN_SLABS;
    memcpy(seen->slabs, rt->stacks.s.slabs, (size_t)seen->nslabs * sizeof *seen->slabs);
    pthread_mutex_unlock(&rt->stacks.lock);
    pthread_mutex_lock(&rt->cos.lock);
    goc_co_slab *s = rt->cos.slabs;
    while (s && s->next)
        s = s->next;
    seen->co_oldest = s;
    pthread_mutex_unlock(&rt->cos.lock);
}

static int in_co_slabs(goc_co_slab *s, const goc_co *co)
{
    for (; s; s = s->next)
        if (co >= s->cos && co < s->cos + s->n)
            return 1;
    return 0;
}

static void test_memory_survives_goc_run(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(96 * 1024);
    run_seen a = { 0 }, b = { 0 };
    TU_RUN(&cfg, main_seen, &a);
    /* Between runs the slabs stay mapped (mincore fails on unmapped
     * memory), so equal addresses below are not the kernel handing the
     * same range out again. */
    unsigned char v;
    assert_int_equal(mincore(a.slab0, page(), &v), 0);
    TU_RUN(&cfg, main_seen, &b);
    assert_ptr_equal(a.slab0, b.slab0);
    assert_ptr_equal(a.co_oldest, b.co_oldest);
    assert_true(in_co_slabs(a.co_oldest, b.child));
    /* The second run's child ran on a stack carved by the first run (in
     * one of its first slabs: with 4 workers, each cache's first batch of
     * slots may come from a slab of its own). */
    int in_first_run = 0;
    for (int i = 0; i < a.nslabs; i++)
        in_first_run |= b.child_stack >= a.slabs[i].base &&
                        b.child_stack < a.slabs[i].base + a.slabs[i].len;
    assert_true(in_first_run);
}

/* ------------------------------------------------------------ scavenger */

#define SCAV_N 300
#define SCAV_WARM 8

static atomic_long g_parked_n;

static void toucher(void *arg)
{
    goc_wg *wg = arg;
    volatile char buf[8192]; /* two pages of stack */
    for (size_t i = 0; i < sizeof buf; i += 512)
        buf[i] = (char)i;
    atomic_fetch_add(&g_parked_n, 1);
    goc_chan_recv(g_gate, NULL);
    goc_wg_done(wg);
}

/* SCAV_N coroutines each touch two pages, park, then all exit. */
static void touch_round(void)
{
    goc_wg *wg = goc_wg_new();
    g_gate = goc_chan_make(0, 0);
    atomic_store(&g_parked_n, 0);
    goc_wg_add(wg, SCAV_N);
    for (int i = 0; i < SCAV_N; i++)
        TU_CHECK_INT_EQ(goc_go(toucher, wg), 0);
    while (atomic_load(&g_parked_n) < SCAV_N)
        goc_sleep(TU_MS / 10);
    goc_chan_close(g_gate);
    TU_CHECK_INT_EQ(goc_wg_wait(wg), 0);
    goc_wg_free(wg);
    goc_chan_free(g_gate);
}

static void quick(void *arg)
{
    goc_yield();
    goc_wg_done(arg);
}

static void main_scavenge(void *arg)
{
    (void)arg;
    goc_stack_pool *p = pool();
    pthread_mutex_lock(&p->lock);
    p->warm_max = SCAV_WARM;
    pthread_mutex_unlock(&p->lock);

    touch_round();
    goc__stack_scavenge(p); /* starts the interval: nothing is cold yet */
    goc__stack_scavenge(p); /* no worker touched the list since */
    pthread_mutex_lock(&p->lock);
    size_t warm = p->s.warm.n, released = p->s.released.n, carved = p->s.ncarved;
    char *cold = released ? (char *)(p->s.released.e[0] & ~(uintptr_t)1) : NULL;
    pthread_mutex_unlock(&p->lock);
    TU_CHECK_INT_EQ(warm, SCAV_WARM);
    TU_CHECK(released > 0);
    if (cold)
        TU_CHECK_INT_EQ(resident(cold + p->slot - 1), 0);

    /* Reuses warm, then released slots. New ones are carved only when the
     * pool is empty, which another worker's cache can make happen. */
    touch_round();
    pthread_mutex_lock(&p->lock);
    size_t released_after = p->s.released.n, carved_after = p->s.ncarved;
    pthread_mutex_unlock(&p->lock);
    TU_CHECK(released_after < released);
    TU_CHECK(carved_after <= carved + (size_t)(goc_workers() - 1) * GOC_STACK_CACHE_MAX);

    /* scavenging beside workers that take and return slots */
    for (int round = 0; round < 20; round++) {
        goc_wg *wg = goc_wg_new();
        goc_wg_add(wg, 50);
        for (int i = 0; i < 50; i++)
            TU_CHECK_INT_EQ(goc_go(quick, wg), 0);
        goc__stack_scavenge(p);
        goc_yield();
        goc__stack_scavenge(p);
        TU_CHECK_INT_EQ(goc_wg_wait(wg), 0);
        goc_wg_free(wg);
    }
}

static void main_after_trim(void *arg)
{
    (void)arg;
    goc_stack_pool *p = pool();
    pthread_mutex_lock(&p->lock);
    TU_CHECK_INT_EQ(p->s.ncarved, SCAV_WARM); /* the end of the last run kept the bound */
    TU_CHECK_INT_EQ(atomic_load(&p->nslabs), 1);
    pthread_mutex_unlock(&p->lock);
    touch_round(); /* and carving resumes after the cut */
}

static void test_scavenger(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(112 * 1024);
    TU_RUN(&cfg, main_scavenge, NULL);
    TU_RUN(&cfg, main_after_trim, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_bottom_page_untouched),
        cmocka_unit_test(test_memory_survives_goc_run),
        cmocka_unit_test(test_scavenger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
