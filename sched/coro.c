/*
 * coro.c - coroutine lifecycle and the park/wake primitive.
 *
 * Owns: the coroutine struct pool (slabs of goc_co, a global free list,
 * and per-worker caches), the struct reserve kept between goc_run calls,
 * ids, names, and the public coroutine API (goc_go, goc_spawn, goc_join,
 * goc_cancel, goc_cancelled, goc_yield, goc_set_name and friends).
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
 * new structs only when the list is empty. goc__co_new sets the fields a coroutine needs and relies on the
 * free-state ones (life, refs, watch_lock, watchers, sanitizer state);
 * it never zeroes the struct.
 *
 * The reserve. Structs survive goc_run: when a run ends (every worker's
 * cache flushed back), the pool keeps its oldest slabs, up to CO_KEEP_MAX
 * structs, munmaps the newer ones, and moves the slab list and free list
 * into co_reserve (a static with its own mutex); the next goc_run adopts
 * them. If a struct is not on the free list then (a task never joined, or
 * slabs were unmapped), the free list is rebuilt with every kept struct
 * reset to the free state.
 *
 * Invariants:
 *   - a goc_co is never freed during a run: it goes back to a free list,
 *     so pointers held by wakers, cancellers and shutdown stay valid;
 *   - refs counts owners: 1 for the running coroutine, +1 for a task
 *     handle; the last release returns the struct to a free list;
 *   - life goes FREE -> ALIVE (created) -> DEAD (returned) -> FREE;
 *   - wstate is RUNNING while it runs; only the coroutine itself moves
 *     RUNNING -> WAITING (goc__park_begin); a waker moves WAITING -> reason
 *     by CAS, so exactly one wins; goc_cancel sets the sticky CANCEL bit and,
 *     if it finds WAITING, it alone finishes the wake-up.
 *
 * Locking: pool->lock guards the slab list, carving and the global free
 * list (taken in batches); caches are owner-only; co_reserve.lock guards
 * the reserve; the join word is lock-free (NONE ->
 * joiner -> DONE, or NONE -> DONE).
 *
 * Watchers (for asyncio/task.c: gather, wait_first, wait_for): a task's
 * watch_lock guards its list of goc_watch. A watch is hung only while the
 * join word is not DONE (checked under the lock); the exit publishes DONE
 * before taking the lock, then calls every hung watch's fn under it and
 * empties the list, so no watch is missed or called twice and the list is
 * empty whenever the struct goes back to the pool.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime.h"

#define CO_CACHE_MAX 64
#define CO_CACHE_MOVE 32
#define ID_BATCH 64
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
static void free_list_push(goc_co_pool *p, goc_co *first, uint32_t n)
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
static int pool_refill(goc_co_pool *p, goc_co_cache *c)
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
static void cache_spill(goc_co_pool *p, goc_co_cache *c)
{
    goc_co *keep_last = c->head;
    for (uint32_t i = 1; i < CO_CACHE_MAX - CO_CACHE_MOVE; i++)
        keep_last = keep_last->next;
    goc_co *first = keep_last->next;
    keep_last->next = NULL;
    uint32_t n = c->n - (CO_CACHE_MAX - CO_CACHE_MOVE);
    c->n -= n;
    free_list_push(p, first, n);
}

static void pool_put(goc_co_pool *p, goc_co_cache *c, goc_co *co)
{
    if (!c) { /* not on a worker: straight to the global list */
        co->next = NULL;
        free_list_push(p, co, 1);
        return;
    }
    co->next = c->head;
    c->head = co;
    if (++c->n > CO_CACHE_MAX)
        cache_spill(p, c);
}

void goc__co_cache_flush(goc_co_pool *p, goc_co_cache *c)
{
    if (!c->head)
        return;
    free_list_push(p, c->head, c->n);
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
                free_list_push(p, chain, n);
                chain = NULL;
                n = 0;
            }
        }
    }
    if (chain)
        free_list_push(p, chain, n);
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

static uint64_t next_id(goc_worker *w)
{
    if (w->id_next == w->id_end) {
        w->id_next = atomic_fetch_add(&w->rt->id_gen, ID_BATCH);
        w->id_end = w->id_next + ID_BATCH;
    }
    return w->id_next++;
}

/* A new coroutine, not yet queued. The caller enqueues it. */
/* goc__co_new's stores stay in the struct's two cache lines (see goc_co
 * in runtime.h); checked where the layout is the usual LP64 one. */
#if !(defined(GOC_CTX_UCONTEXT) && GOC_CTX_UCONTEXT) && UINTPTR_MAX == UINT64_MAX && \
    !defined(GOC_ASAN) && !defined(GOC_TSAN) && !defined(GOC_ASSERTS)
_Static_assert(sizeof(goc_co) == 128, "goc_co: the hot half outgrew two cache lines");
#endif

goc_co *goc__co_new(goc_worker *w, void *arg, int is_task)
{
    goc_runtime *rt = w->rt;
    if (!w->cocache.head && pool_refill(&rt->cos, &w->cocache) != 0)
        return NULL;
    goc_co *co = w->cocache.head;
    w->cocache.head = co->next;
    w->cocache.n--;

    co->next = NULL;
    co->stack = NULL;
    co->arg = arg;
    co->result = NULL;
    co->err = 0;
    co->watchers = NULL; /* watch_lock is left alone: always free here */
    goc__assert(atomic_load_explicit(&co->watch_lock.v, memory_order_relaxed) == 0);
#ifdef GOC_ASSERTS
    co->watch_lock.rank = GOC_RANK_WATCH;
#endif
    co->flags = is_task ? GOC_CO_TASK : 0;
    co->stack_kind = GOC_STACK_POOL;
    co->exit_canceled = 0;
    atomic_store_explicit(&co->wait_what, NULL, memory_order_relaxed);
    atomic_store_explicit(&co->spawn_pc, 0, memory_order_relaxed);
    atomic_store_explicit(&co->named, 0, memory_order_relaxed);
    co->id = next_id(w);
    atomic_store_explicit(&co->on_cpu, 0, memory_order_relaxed);
    atomic_store_explicit(&co->refs, is_task ? 2 : 1, memory_order_relaxed);
    atomic_store_explicit(&co->join, GOC_JOIN_NONE, memory_order_relaxed);
    atomic_store_explicit(&co->wstate, GOC_WS_RUNNING, memory_order_relaxed);
    /* Pairs with goc__cancel_all: either it sees us ALIVE, or we see the
     * shutdown and are born cancelled. */
    atomic_store(&co->life, GOC_LIFE_ALIVE);
    if (atomic_load(&rt->shutting_down))
        atomic_fetch_or(&co->wstate, GOC_WS_CANCEL);
    atomic_store_explicit(&w->nspawned, atomic_load_explicit(&w->nspawned, memory_order_relaxed) + 1,
                          memory_order_release);
    return co;
}

void goc__co_release(goc_worker *w, goc_co *co)
{
    /* acq_rel: the last owner sees every other owner's last touches */
    if (atomic_fetch_sub_explicit(&co->refs, 1, memory_order_acq_rel) != 1)
        return;
    atomic_store_explicit(&co->life, GOC_LIFE_FREE, memory_order_relaxed);
    goc_runtime *rt = goc__runtime();
    pool_put(&rt->cos, w && w->rt == rt ? &w->cocache : NULL, co);
}

void goc__co_body(goc_co *co)
{
    if (co->flags & GOC_CO_TASK)
        co->result = co->fn.task(co->arg);
    else
        co->fn.go(co->arg);
}

/* Call every watch hung on a task that just returned (its DONE is
 * published, so no new watch can be hung). */
static void fire_watchers(goc_co *co)
{
    goc__spin_lock(&co->watch_lock);
    goc_watch *wt;
    while ((wt = co->watchers)) {
        co->watchers = wt->next;
        if (co->watchers)
            co->watchers->prev = NULL;
        wt->prev = wt->next = NULL;
        wt->hung = 0;
        wt->fn(wt);
    }
    goc__spin_unlock(&co->watch_lock);
}

/* Scheduler context, after co returned and left its stack. */
void goc__co_finish(goc_worker *w, goc_co *co)
{
    co->exit_canceled = (atomic_load(&co->wstate) & GOC_WS_CANCEL) != 0;
    atomic_store(&co->life, GOC_LIFE_DEAD);
    if (co->flags & GOC_CO_TASK) {
        /* release: result and err before DONE for a joiner that reads it;
         * acquire: the joiner's registration, if it came first */
        uintptr_t j = atomic_exchange_explicit(&co->join, GOC_JOIN_DONE, memory_order_acq_rel);
        if (j != GOC_JOIN_NONE && j != GOC_JOIN_DONE)
            goc__wake((goc_co *)j, GOC_WS_WOKEN);
        fire_watchers(co);
    }
    goc__co_release(w, co);
}

int goc__watch_add(goc_co *task, goc_watch *w)
{
    w->task = task;
    w->prev = NULL;
    goc__spin_lock(&task->watch_lock);
    if (atomic_load_explicit(&task->join, memory_order_acquire) == GOC_JOIN_DONE) {
        goc__spin_unlock(&task->watch_lock);
        w->hung = 0;
        return 1;
    }
    w->next = task->watchers;
    if (w->next)
        w->next->prev = w;
    task->watchers = w;
    w->hung = 1;
    goc__spin_unlock(&task->watch_lock);
    return 0;
}

void goc__watch_remove(goc_watch *w)
{
    goc_co *task = w->task;
    goc__spin_lock(&task->watch_lock);
    if (w->hung) {
        if (w->prev)
            w->prev->next = w->next;
        else
            task->watchers = w->next;
        if (w->next)
            w->next->prev = w->prev;
        w->prev = w->next = NULL;
        w->hung = 0;
    }
    goc__spin_unlock(&task->watch_lock);
}

int goc__task_err(const goc_co *task)
{
    if (task->err < 0)
        return task->err;
    return task->exit_canceled ? GOC_ECANCELED : 0;
}


int goc__start_main(goc_runtime *rt, void (*fn)(void *), void *arg)
{
    goc_worker *w0 = &rt->workers[0];
    goc_co *co = goc__co_new(w0, arg, 0);
    if (!co)
        return GOC_ENOMEM;
    co->fn.go = fn;
    co->flags |= GOC_CO_MAIN;
    if (rt->stacks.usable < GOC_STACK_DEFAULT)
        co->stack_kind = GOC_STACK_OWN; /* give_stack maps it */
    /* its stack now, so that no memory for it is GOC_ENOMEM here, not an
     * abort when it first runs; the rest of the batch goes back to the
     * pool for whichever worker runs first (main may be stolen) */
    if (goc__give_stack(w0, co) != 0) {
        goc__co_release(w0, co);
        return GOC_ENOMEM;
    }
    goc__stack_cache_flush(&rt->stacks, &w0->stacks);
    goc__enqueue_local(w0, co, 0);
    return 0;
}

/* ---------------------------------------------------------------- park */

/* While a coroutine runs, the state bits still hold the reason of its last
 * wake-up (only WAITING matters to wakers); clearing them would cost an
 * atomic per park, so the next park_begin's CAS replaces them instead. */
static inline void note_wait(goc_co *co, const char *what, int kind, const void *obj,
                             int64_t arg)
{
    goc_runtime *rt = goc__worker()->rt;
    atomic_store_explicit(&co->cold->wait.kind, (uint8_t)kind, memory_order_relaxed);
    atomic_store_explicit(&co->cold->wait.obj, (uintptr_t)obj, memory_order_relaxed);
    atomic_store_explicit(&co->cold->wait.arg, arg, memory_order_relaxed);
    atomic_store_explicit(&co->cold->wait.until, INT64_MAX, memory_order_relaxed);
    atomic_store_explicit(&co->cold->wait.since,
                          atomic_load_explicit(&rt->coarse_now, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&co->wait_what, what, memory_order_relaxed);
}

static inline void clear_wait(goc_co *co)
{
    atomic_store_explicit(&co->wait_what, NULL, memory_order_relaxed);
}

int goc__park_begin(goc_co *co, const char *what)
{
    return goc__park_begin_on(co, what, GOC_WAIT_OTHER, NULL, 0);
}

int goc__park_begin_on(goc_co *co, const char *what, int kind, const void *obj, int64_t arg)
{
    uint32_t cur = atomic_load_explicit(&co->wstate, memory_order_relaxed);
    note_wait(co, what, kind, obj, arg);
    if (cur & GOC_WS_CANCEL)
        return GOC_ECANCELED;
    if (!atomic_compare_exchange_strong(&co->wstate, &cur, GOC_WS_WAITING))
        return GOC_ECANCELED; /* only a cancel changes it under us */
    return 0;
}

int goc__park(goc_co *co)
{
    goc__chaos_pause(); /* WAITING and still on this stack: a waker must wait for us */
    goc_worker *w = goc__worker();
    goc__count(&w->stats.parks, 1);
    goc__switch_away(w, co, GOC_REQ_PARK);
    /* acquire: pairs with the claimer's CAS, so what it wrote for us
     * (a value, a closed flag) is visible */
    uint32_t now = atomic_load_explicit(&co->wstate, memory_order_acquire);
    goc__assert((now & GOC_WS_STATE_MASK) != GOC_WS_WAITING); /* only a claim resumes us */
    clear_wait(co);
    return (int)(now & GOC_WS_STATE_MASK);
}

void goc__park_abort(goc_co *co)
{
    uint32_t expect = GOC_WS_WAITING;
    if (atomic_compare_exchange_strong(&co->wstate, &expect, GOC_WS_RUNNING)) {
        clear_wait(co);
        return;
    }
    /* A waker won and made us runnable: let that wake-up complete. */
    (void)goc__park(co);
}

int goc__claim(goc_co *co, int reason)
{
    goc__assert(reason != GOC_WS_WAITING && reason != GOC_WS_RUNNING);
    goc__assert(atomic_load_explicit(&co->life, memory_order_relaxed) == GOC_LIFE_ALIVE);
    uint32_t expect = GOC_WS_WAITING;
    return atomic_compare_exchange_strong(&co->wstate, &expect, (uint32_t)reason);
}

int goc__wake(goc_co *co, int reason)
{
    if (!goc__claim(co, reason))
        return 0;
    goc__ready(co, 0);
    return 1;
}

void goc__hold_begin(goc_co *co, const char *what)
{
    note_wait(co, what, GOC_WAIT_OTHER, NULL, 0);
    uint32_t cur = atomic_load_explicit(&co->wstate, memory_order_relaxed);
    while (!atomic_compare_exchange_weak(&co->wstate, &cur,
                                         (cur & GOC_WS_CANCEL) | GOC_WS_HELD))
        ;
}

void goc__hold_abort(goc_co *co)
{
    uint32_t cur = atomic_load_explicit(&co->wstate, memory_order_relaxed);
    while (!atomic_compare_exchange_weak(&co->wstate, &cur,
                                         (cur & GOC_WS_CANCEL) | GOC_WS_RUNNING))
        ;
    clear_wait(co);
}

void goc__release(goc_co *co)
{
    uint32_t cur = atomic_load_explicit(&co->wstate, memory_order_relaxed);
    while (!atomic_compare_exchange_weak(&co->wstate, &cur,
                                         (cur & GOC_WS_CANCEL) | GOC_WS_WOKEN))
        ;
    goc__ready(co, 0);
}

int goc__ws_to_err(int reason)
{
    switch (reason) {
    case GOC_WS_WOKEN: return 0;
    case GOC_WS_TIMEDOUT: return GOC_ETIMEDOUT;
    case GOC_WS_CLOSED: return GOC_ECLOSED;
    default: return GOC_ECANCELED;
    }
}

void goc__cancel_co(goc_co *co)
{
    if (atomic_load(&co->life) != GOC_LIFE_ALIVE)
        return;
    uint32_t old = atomic_fetch_or(&co->wstate, GOC_WS_CANCEL);
    if ((old & GOC_WS_STATE_MASK) != GOC_WS_WAITING || (old & GOC_WS_CANCEL))
        return;
    /* Wakers CAS from plain WAITING, so only we can finish this one. */
    uint32_t expect = GOC_WS_WAITING | GOC_WS_CANCEL;
    if (atomic_compare_exchange_strong(&co->wstate, &expect, GOC_WS_CANCELED | GOC_WS_CANCEL))
        goc__ready(co, 0);
}

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

void goc__cancel_all(goc_runtime *rt)
{
    goc__co_each_alive(rt, goc__cancel_co);
}

/* ----------------------------------------------------------- wait lists */

void goc__waitq_push(goc_waitq *q, goc_waiter *w)
{
    goc__assert(!w->queued); /* a waiter is on one queue at most, once */
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    w->queued = 1;
}

void goc__waitq_remove(goc_waitq *q, goc_waiter *w)
{
    if (!w->queued)
        return;
    goc__assert(w->prev ? w->prev->next == w : q->head == w);
    goc__assert(w->next ? w->next->prev == w : q->tail == w);
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->prev = w->next = NULL;
    w->queued = 0;
}

goc_waiter *goc__waitq_pop(goc_waitq *q)
{
    goc_waiter *w = q->head;
    if (w)
        goc__waitq_remove(q, w);
    return w;
}

goc_waiter *goc__waitq_claim(goc_waitq *q)
{
    goc_waiter *w;
    while ((w = goc__waitq_pop(q)))
        if (goc__claim(w->co, GOC_WS_WOKEN))
            return w;
    return NULL;
}

/* ----------------------------------------------------------- public API */

/* pc: the return address in the spawner's caller, symbolised by the dump. */
static goc_co *spawn(const char *name, void *arg, int is_task, void *pc, int *err)
{
    goc_worker *w = goc__worker();
    if (!w || !w->cur) {
        *err = GOC_EPERM;
        return NULL;
    }
    goc_co *co = goc__co_new(w, arg, is_task);
    if (!co) {
        *err = GOC_ENOMEM;
        return NULL;
    }
    if (name)
        goc__co_set_name(co, name);
    atomic_store_explicit(&co->spawn_pc, (uintptr_t)pc, memory_order_relaxed);
    return co;
}

goc_co *goc__co_make(void (*fn)(void *), void *arg, void *pc, int *err)
{
    goc_co *co = spawn(NULL, arg, 0, pc, err);
    if (co)
        co->fn.go = fn;
    return co;
}

void goc__co_start(goc_co *co)
{
    goc__enqueue_local(goc__worker(), co, 0);
}

static int go_from(const char *name, void (*fn)(void *), void *arg, void *pc)
{
    int err = 0;
    if (!fn)
        return GOC_EINVAL;
    goc_co *co = spawn(name, arg, 0, pc, &err);
    if (!co)
        return err;
    co->fn.go = fn;
    goc__co_start(co);
    return 0;
}

static goc_task *spawn_from(const char *name, void *(*fn)(void *), void *arg, void *pc)
{
    int err = 0;
    if (!fn)
        return NULL;
    goc_co *co = spawn(name, arg, 1, pc, &err);
    if (!co)
        return NULL;
    co->fn.task = fn;
    goc__co_start(co);
    return (goc_task *)co;
}

int goc_go_named(const char *name, void (*fn)(void *), void *arg)
{
    return go_from(name, fn, arg, __builtin_return_address(0));
}

int goc_go(void (*fn)(void *), void *arg)
{
    return go_from(NULL, fn, arg, __builtin_return_address(0));
}

goc_task *goc_spawn_named(const char *name, void *(*fn)(void *), void *arg)
{
    return spawn_from(name, fn, arg, __builtin_return_address(0));
}

goc_task *goc_spawn(void *(*fn)(void *), void *arg)
{
    return spawn_from(NULL, fn, arg, __builtin_return_address(0));
}

/* ----------------------------------------------------------------- names */

void goc__co_set_name(goc_co *co, const char *name)
{
    enum { WORDS = GOC_NAME_MAX / 8 };
    char buf[GOC_NAME_MAX] = {0};
    size_t n = strnlen(name, GOC_NAME_MAX - 1);
    memcpy(buf, name, n);
    for (size_t i = 0; i < WORDS; i++) {
        uint64_t word;
        memcpy(&word, buf + 8 * i, 8);
        atomic_store_explicit(&co->cold->name[i], word, memory_order_relaxed);
    }
    /* release: a reader that sees named sees a whole name (the coroutine's
     * later renames may still tear, as documented in runtime.h) */
    atomic_store_explicit(&co->named, 1, memory_order_release);
}

size_t goc__co_name(const goc_co *co, char buf[GOC_NAME_MAX])
{
    enum { WORDS = GOC_NAME_MAX / 8 };
    buf[0] = 0;
    if (atomic_load_explicit(&co->named, memory_order_acquire)) {
        for (size_t i = 0; i < WORDS; i++) {
            uint64_t word = atomic_load_explicit(&co->cold->name[i], memory_order_relaxed);
            memcpy(buf + 8 * i, &word, 8);
        }
        buf[GOC_NAME_MAX - 1] = 0;
    }
    if (buf[0])
        return strlen(buf);
    int len = snprintf(buf, GOC_NAME_MAX, "co-%llu", (unsigned long long)co->id);
    return len > 0 ? (size_t)len : 0;
}

int goc_set_name(const char *name)
{
    goc_co *self = goc__self();
    if (!self)
        return GOC_EPERM;
    if (!name)
        return GOC_EINVAL;
    goc__co_set_name(self, name);
    return 0;
}

static int copy_name(const goc_co *co, char *buf, size_t size)
{
    char name[GOC_NAME_MAX];
    size_t len = goc__co_name(co, name);
    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(buf, name, n);
        buf[n] = 0;
    }
    return (int)len;
}

int goc_name(char *buf, size_t size)
{
    goc_co *self = goc__self();
    if (!self)
        return GOC_EPERM;
    if (!buf && size)
        return GOC_EINVAL;
    return copy_name(self, buf, size);
}

int goc_task_name(goc_task *t, char *buf, size_t size)
{
    if (!t || (!buf && size))
        return GOC_EINVAL;
    return copy_name((const goc_co *)t, buf, size);
}

static int collect(goc_co *t, void **result)
{
    if (result)
        *result = t->result;
    int err = goc__task_err(t);
    goc__co_release(goc__worker(), t);
    return err;
}

int goc_join(goc_task *task, void **result)
{
    goc_co *t = (goc_co *)task;
    if (!t)
        return GOC_EINVAL;
    goc_co *self = goc__self();
    if (!self || t == self) {
        if (goc__runtime())
            goc__co_release(goc__worker(), t); /* consumed all the same */
        return self ? GOC_EINVAL : GOC_EPERM;
    }
    /* acquire: DONE was released after result and err were written */
    if (atomic_load_explicit(&t->join, memory_order_acquire) == GOC_JOIN_DONE)
        return collect(t, result);
    if (goc__park_begin_on(self, "join", GOC_WAIT_OTHER, t, 0) != 0) {
        goc__co_release(goc__worker(), t);
        return GOC_ECANCELED;
    }
    uintptr_t expect = GOC_JOIN_NONE;
    if (!atomic_compare_exchange_strong_explicit(&t->join, &expect, (uintptr_t)self,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        goc__park_abort(self); /* it finished meanwhile */
        return collect(t, result);
    }
    int reason = goc__park(self);
    if (reason != GOC_WS_WOKEN) {
        expect = (uintptr_t)self;
        atomic_compare_exchange_strong(&t->join, &expect, GOC_JOIN_NONE);
        goc__co_release(goc__worker(), t); /* t runs on, detached */
        return GOC_ECANCELED;
    }
    return collect(t, result);
}

int goc_cancel(goc_task *task)
{
    if (!task)
        return GOC_EINVAL;
    goc__cancel_co((goc_co *)task);
    return 0;
}

int goc_cancelled(void)
{
    goc_co *co = goc__self();
    return co && (atomic_load_explicit(&co->wstate, memory_order_relaxed) & GOC_WS_CANCEL) != 0;
}

void goc_yield(void)
{
    goc_co *co = goc__self();
    if (co)
        goc__switch_away(goc__worker(), co, GOC_REQ_YIELD);
}
