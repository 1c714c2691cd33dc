/*
 * copool.c - the coroutine struct pool.
 *
 * Owns: the slabs of goc_co structs of the running runtime (goc_co_pool),
 * the global free list, the per-worker caches' refills and spills (each
 * cache, goc_co_cache, belongs to its worker; putting a struct back in it
 * is inline in runtime.h), and the struct reserve kept between goc_run
 * calls.
 *
 * The pool. Structs (128 bytes on x86-64: two cache lines) live in mmap'd
 * slabs, 64 KiB growing to 4 MiB, newest first in the slab list; each
 * slab ends with the array of their cold halves (goc_co_cold: the
 * details of a wait, the name, the trace's flow id), which only a park,
 * a name or the trace touches. A slab is carved in order, so
 * cos[n ..] are untouched zero memory (FREE, watch_lock unlocked), never
 * read, not even by goc__co_each_alive. Free structs are linked through
 * next, LIFO: a worker's cache (up to 64; when full it keeps its 32
 * warmest and gives the rest to the pool), then the pool's free list, in
 * the order they were freed, in batches as caches handed them over; a
 * cache refills with the top batch (the most recently freed) and carves
 * new structs only when the list is empty. goc__co_new (coro.c) sets the
 * fields a coroutine needs and relies on the free-state ones (life, refs,
 * watch_lock, watchers, sanitizer state); it never zeroes the struct.
 *
 * The reserve. Structs survive goc_run: when a run ends (every worker's
 * cache flushed back), the pool keeps its oldest slabs, up to CO_KEEP_MAX
 * structs, munmaps the newer ones, and moves the slab list and free list
 * into co_reserve (a static with its own mutex); the next goc_run adopts
 * them. If a struct is not on the free list then (a task never joined, or
 * slabs were unmapped), the free list is rebuilt with every kept struct
 * reset to the free state.
 *
 * Invariant: a goc_co is never freed during a run: it goes back to a free
 * list, so pointers held by wakers, cancellers and shutdown stay valid.
 *
 * Locking: pool->lock guards the slab list, carving and the global free
 * list (taken in batches); caches are owner-only; co_reserve.lock guards
 * the reserve.
 */
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "runtime.h"

#define CO_CACHE_MAX GOC_CO_CACHE_MAX
#define CO_CACHE_MOVE GOC_CO_CACHE_MOVE
#define CO_SLAB_FIRST ((size_t)64 << 10)
#define CO_SLAB_MAX ((size_t)4 << 20)
/* Structs kept across goc_run calls (about 100 MiB at most): as many as
 * goc-bench spawn on one worker has queued at once. */
#define CO_KEEP_MAX ((size_t)1 << 20)

/* ----------------------------------------------------------------- pool */

static struct {
    pthread_mutex_t lock;
    int held;                     /* the fields below hold the last run's structs */
    goc_co_slab *slabs;
    goc_co *free_head;
    size_t free_n, total;
} co_reserve = { .lock = PTHREAD_MUTEX_INITIALIZER };

void goc__co_pool_init(goc_co_pool *p)
{
    pthread_mutex_init(&p->lock, NULL);
    p->slabs = NULL;
    p->free_head = NULL;
    p->free_n = p->total = 0;
    pthread_mutex_lock(&co_reserve.lock);
    if (co_reserve.held) {
        p->slabs = co_reserve.slabs;
        p->free_head = co_reserve.free_head;
        p->free_n = co_reserve.free_n;
        p->total = co_reserve.total;
        co_reserve.held = 0;
    }
    pthread_mutex_unlock(&co_reserve.lock);
}

/* A new slab in front of the list, twice the size of the last one; its
 * memory is zero, so every struct in it is FREE. Pool lock held. */
static goc_co_slab *map_co_slab(goc_co_pool *p)
{
    size_t len = p->slabs ? p->slabs->len * 2 : CO_SLAB_FIRST;
    if (len > CO_SLAB_MAX)
        len = CO_SLAB_MAX;
    goc_co_slab *s = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED)
        return NULL;
    s->len = len;
    s->cap = (uint32_t)((len - offsetof(goc_co_slab, cos)) / (sizeof(goc_co) + sizeof(goc_co_cold)));
    s->cold = (goc_co_cold *)&s->cos[s->cap];
    s->n = 0;
    s->next = p->slabs;
    p->slabs = s;
    return s;
}

/* Link up to `want` never-used structs into the (empty) cache; lock held. */
static void carve_cos(goc_co_pool *p, goc_co_cache *c, uint32_t want)
{
    goc_co_slab *s = p->slabs;
    if ((!s || s->n == s->cap) && !(s = map_co_slab(p)))
        return;
    uint32_t n = s->cap - s->n < want ? s->cap - s->n : want;
    for (uint32_t i = n; i-- > 0;) {
        goc_co *co = &s->cos[s->n + i];
        co->cold = &s->cold[s->n + i];
        co->next = c->head;
        c->head = co;
    }
    s->n += n;
    p->total += n;
    c->n = n;
}

/* The free list is a stack of batches, each a chain of structs linked
 * through next and ending in NULL, as a cache handed it over. A batch's
 * first struct carries the link to the next batch and the batch's length
 * in two fields that a free struct does not use and goc__co_new always
 * sets (arg, id), so that moving a batch touches one struct, not every
 * one: following 32 next pointers through structs last written by
 * another core was a tenth of goc-bench spawn's time at 2 workers. */
static goc_co *batch_below(const goc_co *b)
{
    return b->arg;
}

static uint32_t batch_len(const goc_co *b)
{
    return (uint32_t)b->id;
}

/* Put the chain first .. (n structs, NULL-terminated) on the free list. */
void goc__co_free_list_push(goc_co_pool *p, goc_co *first, uint32_t n)
{
    pthread_mutex_lock(&p->lock);
    first->arg = p->free_head;
    first->id = n;
    p->free_head = first;
    p->free_n += n;
    pthread_mutex_unlock(&p->lock);
}

/* Fill an empty cache: the top batch of the free list (the most recently
 * freed), or never-used structs. */
int goc__co_pool_refill(goc_co_pool *p, goc_co_cache *c)
{
    pthread_mutex_lock(&p->lock);
    goc_co *b = p->free_head;
    if (b) {
        p->free_head = batch_below(b);
        c->head = b;
        c->n = batch_len(b);
        p->free_n -= c->n;
    } else {
        carve_cos(p, c, CO_CACHE_MOVE);
    }
    pthread_mutex_unlock(&p->lock);
    return c->head ? 0 : GOC_ENOMEM;
}

/* A full cache keeps its warmest (first) structs and gives the rest as
 * one batch. */
void goc__co_cache_spill(goc_co_pool *p, goc_co_cache *c)
{
    goc_co *keep_last = c->head;
    for (uint32_t i = 1; i < CO_CACHE_MAX - CO_CACHE_MOVE; i++)
        keep_last = keep_last->next;
    goc_co *first = keep_last->next;
    keep_last->next = NULL;
    uint32_t n = c->n - (CO_CACHE_MAX - CO_CACHE_MOVE);
    c->n -= n;
    goc__co_free_list_push(p, first, n);
}

void goc__co_cache_flush(goc_co_pool *p, goc_co_cache *c)
{
    if (!c->head)
        return;
    goc__co_free_list_push(p, c->head, c->n);
    c->head = NULL;
    c->n = 0;
}

/* Back to the state of a struct on the free list: what goc__co_new does
 * not set and relies on (life, refs, an unlocked watch_lock, no watchers,
 * no sanitizer state). */
static void reset_to_free(goc_co *co)
{
    atomic_store_explicit(&co->life, GOC_LIFE_FREE, memory_order_relaxed);
    atomic_store_explicit(&co->refs, 0, memory_order_relaxed);
    atomic_store_explicit(&co->watch_lock.v, 0, memory_order_relaxed);
    co->watchers = NULL;
#ifdef GOC_ASAN
    co->asan_fake = NULL;
#endif
#ifdef GOC_TSAN
    co->tsan_fiber = NULL;
#endif
}

/* Rebuild the free list from every carved struct (all workers are gone),
 * in batches of CO_CACHE_MOVE. */
static void relink_all(goc_co_pool *p)
{
    p->free_head = NULL;
    p->free_n = 0;
    goc_co *chain = NULL;
    uint32_t n = 0;
    for (goc_co_slab *s = p->slabs; s; s = s->next) {
        for (uint32_t i = s->n; i-- > 0;) {
            goc_co *co = &s->cos[i];
            reset_to_free(co);
            co->next = chain;
            chain = co;
            if (++n == CO_CACHE_MOVE) {
                goc__co_free_list_push(p, chain, n);
                chain = NULL;
                n = 0;
            }
        }
    }
    if (chain)
        goc__co_free_list_push(p, chain, n);
}

/* End of a goc_run (worker caches flushed): keep at most CO_KEEP_MAX
 * structs, the oldest slabs, for the next run. A struct still held (a
 * task never joined) or lost makes the free list be rebuilt; so does
 * unmapping slabs. */
void goc__co_pool_destroy(goc_co_pool *p)
{
    int dropped = 0;
    while (p->slabs && p->total > CO_KEEP_MAX) {
        goc_co_slab *s = p->slabs;
        p->slabs = s->next;
        p->total -= s->n;
        munmap(s, s->len);
        dropped = 1;
    }
    if (dropped || p->free_n != p->total)
        relink_all(p);
    pthread_mutex_lock(&co_reserve.lock);
    if (!co_reserve.held) { /* one runtime at a time: never held here */
        co_reserve.slabs = p->slabs;
        co_reserve.free_head = p->free_head;
        co_reserve.free_n = p->free_n;
        co_reserve.total = p->total;
        co_reserve.held = 1;
        p->slabs = NULL;
    }
    pthread_mutex_unlock(&co_reserve.lock);
    for (goc_co_slab *s = p->slabs, *next; s; s = next) {
        next = s->next;
        munmap(s, s->len);
    }
    p->slabs = NULL;
    p->free_head = NULL;
    p->free_n = p->total = 0;
    pthread_mutex_destroy(&p->lock);
}

/* --------------------------------------------------------- live structs */

void goc__co_each_alive(goc_runtime *rt, void (*fn)(goc_co *co))
{
    pthread_mutex_lock(&rt->cos.lock);
    for (goc_co_slab *s = rt->cos.slabs; s; s = s->next)
        for (uint32_t i = 0; i < s->n; i++)
            if (atomic_load(&s->cos[i].life) == GOC_LIFE_ALIVE)
                fn(&s->cos[i]);
    pthread_mutex_unlock(&rt->cos.lock);
}

goc_co **goc__co_snapshot(goc_runtime *rt, size_t *n)
{
    pthread_mutex_lock(&rt->cos.lock);
    goc_co **all = malloc((rt->cos.total ? rt->cos.total : 1) * sizeof *all);
    size_t k = 0;
    for (goc_co_slab *s = rt->cos.slabs; all && s; s = s->next)
        for (uint32_t i = 0; i < s->n; i++)
            if (atomic_load(&s->cos[i].life) == GOC_LIFE_ALIVE)
                all[k++] = &s->cos[i];
    pthread_mutex_unlock(&rt->cos.lock);
    *n = k;
    return all;
}
