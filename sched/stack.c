/*
 * stack.c - coroutine stacks: carving, caching, keeping memory warm,
 * giving it back.
 *
 * Owns: the stack slabs of the running runtime (goc_stack_pool), the
 * per-worker caches of free slots (goc_stack_cache, owned by the worker),
 * and the reserve: the process-level home of the slabs between goc_run
 * calls.
 *
 * Layout. Stacks are carved from large anonymous mappings (slabs, growing
 * from 4 MiB to 1 GiB, MAP_NORESERVE, no transparent huge pages), so pages
 * are committed only when touched and 1,000,000 stacks need a few dozen
 * mappings, far under vm.max_map_count. Every slot has the same size:
 *
 *   usable >= page:  [ guard page | canary | usable ............ ] top
 *   usable <  page:  [ canary | usable ] packed, 64-byte aligned
 *
 * A coroutine touches its stack from the top down: an idle one has one
 * page resident (the top), and nothing here reads or writes any other page
 * of its slot. The lowest usable page (with the canary at its bottom) stays
 * untouched unless the coroutine itself goes that deep.
 *
 * Guards. Which kind of guard a slot gets, and how an overflow is caught
 * and reported, is overflow.c's. The pool decides when it carves a slot
 * whether it gets a guard (under the lock: the mprotect budget is the
 * store's), then, outside the lock, installs it or, in a small slot,
 * writes the pattern canary.
 *
 * Free slots. Nothing is written into a free slot (a link there would
 * keep a page that we want to give back). Free slots are entries (the
 * address, bit 0 set when it has a guard) in stacks of entries, LIFO so
 * the most recently freed slot, still in cache and RAM, is reused first:
 *   - each worker's cache, a fixed array of 64; when full, the 32 coldest
 *     go to the pool; when empty, 32 come from the pool;
 *   - the pool's warm list (pages resident), the top the warmest;
 *   - the pool's released list (pages given back), used when the warm list
 *     is empty, before carving new slots.
 * Both lists always have room for every slot carved, so handing slots
 * back never allocates; only carving grows them.
 *
 * The scavenger (Go's is the model). Up to pool->warm_max (STACK_WARM_MAX)
 * free slots stay warm. goc__stack_scavenge, called by a quiet thread (the monitor, about
 * once a second), gives back the pages (MADV_DONTNEED, mapping and guard
 * stay) of warm slots beyond that bound that no worker reached since the
 * previous call: the LIFO list's bottom below its low-water mark. It takes
 * them out of the warm list under the lock, madvises outside it (no worker
 * can take them meanwhile), and pushes them onto the released list under
 * the lock. Workers never madvise or munmap. Small slots share pages with
 * their neighbours and are never released during a run.
 *
 * The reserve. Stacks survive goc_run: when a run ends (every slot free,
 * worker caches flushed back), the pool keeps the first warm_max slots
 * carved (munmaps the rest: pages, page tables and address space; a guard
 * keeps its page table alive, so released slots are not free forever),
 * releases the warm ones beyond the bound, and moves its store (slab
 * table, lists, carve pointer) into the reserve, a static owned by this
 * file under its own mutex. The next goc_run adopts it if its slot size is
 * the same, else unmaps it. If a run ends with slots unaccounted for, its
 * store is unmapped whole instead.
 *
 * Locking: pool->lock guards the store (lists, carving, slab table); the
 * caches are owner-only; reserve.lock guards the reserve. The slab table
 * is append-only during a run and read lock-free by the signal handler
 * (nslabs is published with release); it shrinks only at the end of a
 * run, after the handler is gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime.h"
#include "trace.h"

#define CANARY_BYTES GOC_STACK_CANARY_BYTES
#define CACHE_MOVE (GOC_STACK_CACHE_MAX / 2)
#define SLAB_FIRST ((size_t)4 << 20)
#define SLAB_MAX ((size_t)1 << 30)
#define CANARY_WORD GOC_STACK_CANARY_WORD
#define LIST_FIRST_CAP 256
/* Free slots kept warm, and slots kept across goc_run (pool->warm_max):
 * a page or two resident each, so 256-512 MiB at most. Measured peaks:
 * goc-bench skynet (1,000,000 leaves) holds about 13,900 stacks on 1 or 2
 * workers, timers (100,000 sleeps of 0-100 ms) 40,000-58,000. */
#define STACK_WARM_MAX ((size_t)65536)

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static long read_max_map_count(void)
{
    long v = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = 65530;
        fclose(f);
    }
    return v;
}

/* ---------------------------------------------------------------- entries */

static uintptr_t entry_of(char *slot, int guarded)
{
    return (uintptr_t)slot | (uintptr_t)(guarded != 0);
}

static char *entry_slot(uintptr_t e)
{
    return (char *)(e & ~(uintptr_t)1);
}

static int entry_guarded(uintptr_t e)
{
    return (int)(e & 1);
}

/* Push n entries, bottom first, onto l (room is always there). */
static void list_push(goc_stack_list *l, const uintptr_t *e, size_t n)
{
    memcpy(l->e + l->n, e, n * sizeof *e);
    l->n += n;
}

/* Take the top n entries of l into out[0 .. n), keeping their order. */
static void list_pop_top(goc_stack_list *l, uintptr_t *out, size_t n)
{
    if (n == 0)
        return; /* l->e may be NULL: lists not made yet (carving failed) */
    l->n -= n;
    memcpy(out, l->e + l->n, n * sizeof *out);
}

/* Take the bottom n entries (the coldest) of l into out. */
static void list_take_bottom(goc_stack_list *l, uintptr_t *out, size_t n)
{
    memcpy(out, l->e, n * sizeof *out);
    memmove(l->e, l->e + n, (l->n - n) * sizeof *l->e);
    l->n -= n;
}

/* Give both lists room for `need` entries; lock held. */
static int lists_make_room(goc_stack_store *s, size_t need)
{
    if (need <= s->list_cap)
        return 0;
    size_t cap = s->list_cap ? s->list_cap : LIST_FIRST_CAP;
    while (cap < need)
        cap *= 2;
    uintptr_t *w = realloc(s->warm.e, cap * sizeof *w);
    if (!w)
        return GOC_ENOMEM;
    s->warm.e = w;
    uintptr_t *r = realloc(s->released.e, cap * sizeof *r);
    if (!r)
        return GOC_ENOMEM; /* warm has the extra room; list_cap unchanged */
    s->released.e = r;
    s->list_cap = cap;
    return 0;
}

/* ----------------------------------------------------------------- store */

static void store_init(goc_stack_store *s, size_t slot)
{
    memset(s, 0, sizeof *s);
    s->slot = slot;
    s->next_slab_len = SLAB_FIRST;
    long budget = (read_max_map_count() - 8192) / 4;
    s->guard_budget = budget > 0 ? budget : 0;
}

static void store_unmap(goc_stack_store *s, int nslabs)
{
    for (int i = 0; i < nslabs; i++)
        munmap(s->slabs[i].base, s->slabs[i].len);
    free(s->warm.e);
    free(s->released.e);
    memset(s, 0, sizeof *s);
}

static struct {
    pthread_mutex_t lock;
    int held;                     /* store holds the last run's stacks */
    int nslabs;
    goc_stack_store store;
} reserve = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Take the reserve's stacks if they have p's slot size; else unmap them. */
static int adopt_reserve(goc_stack_pool *p)
{
    int adopted = 0;
    pthread_mutex_lock(&reserve.lock);
    if (reserve.held && reserve.store.slot == p->slot) {
        p->s = reserve.store;
        atomic_store_explicit(&p->nslabs, reserve.nslabs, memory_order_release);
        p->s.warm_low = p->s.warm.n;
        adopted = 1;
    } else if (reserve.held) {
        store_unmap(&reserve.store, reserve.nslabs);
    }
    reserve.held = 0;
    pthread_mutex_unlock(&reserve.lock);
    return adopted;
}

static void leave_in_reserve(goc_stack_pool *p)
{
    pthread_mutex_lock(&reserve.lock);
    if (reserve.held) /* one runtime at a time: not expected */
        store_unmap(&reserve.store, reserve.nslabs);
    reserve.store = p->s;
    reserve.nslabs = atomic_load(&p->nslabs);
    reserve.held = 1;
    pthread_mutex_unlock(&reserve.lock);
    memset(&p->s, 0, sizeof p->s);
    atomic_store(&p->nslabs, 0);
}

int goc__stack_pool_init(goc_stack_pool *p, size_t usable)
{
    size_t ps = goc__page_size();
    memset(p, 0, sizeof *p);
    p->usable = usable;
    p->warm_max = STACK_WARM_MAX;
    if (usable >= ps) {
        p->guardable = 1;
        p->lo_off = ps;
        p->slot = ps + round_up(usable + CANARY_BYTES, ps);
    } else {
        p->guardable = 0;
        p->lo_off = 0;
        p->slot = round_up(usable + CANARY_BYTES, 64);
    }
    if (pthread_mutex_init(&p->lock, NULL) != 0)
        return GOC_ENOMEM;
    goc__stack_guard_mode();
    if (!adopt_reserve(p))
        store_init(&p->s, p->slot);
    return 0;
}

/* ------------------------------------------------------- giving pages back */

static int cmp_entry(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* MADV_DONTNEED the usable pages of n free slots that no one else can
 * take; runs of adjacent slots go in one call (guards survive it). */
static void release_pages(const goc_stack_pool *p, uintptr_t *e, size_t n)
{
    qsort(e, n, sizeof *e, cmp_entry);
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && entry_slot(e[j]) == entry_slot(e[j - 1]) + p->slot)
            j++;
        char *lo = entry_slot(e[i]) + p->lo_off;
        char *hi = entry_slot(e[j - 1]) + p->slot;
        madvise(lo, (size_t)(hi - lo), MADV_DONTNEED);
        i = j;
    }
}

/* Warm slots beyond the bound that stayed below the low-water mark (no
 * worker took or put them since the last scavenge); lock held. */
static size_t cold_excess(const goc_stack_pool *p)
{
    const goc_stack_store *s = &p->s;
    if (s->warm.n <= p->warm_max)
        return 0;
    return min_size(s->warm.n - p->warm_max, s->warm_low);
}

void goc__stack_scavenge(goc_stack_pool *p)
{
    goc_stack_store *s = &p->s;
    pthread_mutex_lock(&p->lock);
    size_t want = p->guardable ? cold_excess(p) : 0;
    if (!want)
        s->warm_low = s->warm.n;
    pthread_mutex_unlock(&p->lock);
    if (!want)
        return;

    int64_t since = goc__tracing() ? goc__trace_region_begin() : 0;
    uintptr_t *batch = malloc(want * sizeof *batch);
    pthread_mutex_lock(&p->lock);
    size_t n = batch ? min_size(want, cold_excess(p)) : 0;
    list_take_bottom(&s->warm, batch, n);
    s->warm_low = s->warm.n;
    pthread_mutex_unlock(&p->lock);
    if (n) {
        release_pages(p, batch, n);
        pthread_mutex_lock(&p->lock);
        list_push(&s->released, batch, n);
        pthread_mutex_unlock(&p->lock);
    }
    free(batch);
    goc__trace_region_end(since, n ? "stack scavenge" : NULL, "released", (int64_t)n);
}

/* ------------------------------------------------------ end of a goc_run */

typedef struct { const char *lo, *hi; } addr_range;

static int cmp_range(const void *a, const void *b)
{
    const char *x = ((const addr_range *)a)->lo, *y = ((const addr_range *)b)->lo;
    return x < y ? -1 : x > y;
}

static int in_ranges(const addr_range *r, size_t n, const char *a)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a < r[mid].lo)
            hi = mid;
        else if (a >= r[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

/* Drop from l the entries outside the kept ranges, keeping the order;
 * returns how many of the dropped had a guard. */
static size_t list_keep_in(goc_stack_list *l, const addr_range *r, size_t nr)
{
    size_t kept = 0, guarded_dropped = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (in_ranges(r, nr, entry_slot(l->e[i])))
            l->e[kept++] = l->e[i];
        else
            guarded_dropped += (size_t)entry_guarded(l->e[i]);
    }
    l->n = kept;
    return guarded_dropped;
}

static size_t slots_carved_in(const goc_stack_pool *p, int i, int nslabs)
{
    const goc_stack_slab *sl = &p->s.slabs[i];
    size_t end = i == nslabs - 1 ? (size_t)(p->s.carve - sl->base) : sl->len;
    return end / p->slot;
}

static size_t slab_len_after(int nslabs)
{
    size_t len = SLAB_FIRST;
    for (int i = 0; i < nslabs && len < SLAB_MAX; i++)
        len *= 2;
    return len;
}

/* Keep the first `keep` slots carved and unmap the rest: the tail of the
 * slab where the count runs out, the slabs after it. Every slot is free
 * (in a list); the entries of the unmapped ones leave the lists. */
static void keep_first_slots(goc_stack_pool *p, size_t keep)
{
    goc_stack_store *s = &p->s;
    int nslabs = atomic_load(&p->nslabs);
    if (s->ncarved <= keep || nslabs == 0)
        return;
    size_t before = 0;
    int cut = 0;
    while (cut < nslabs - 1 && before + slots_carved_in(p, cut, nslabs) <= keep)
        before += slots_carved_in(p, cut++, nslabs);
    goc_stack_slab *sl = &s->slabs[cut];
    size_t cut_off = round_up((keep - before) * p->slot, goc__page_size());
    size_t kept_in_cut = min_size(cut_off / p->slot, slots_carved_in(p, cut, nslabs));

    addr_range *r = malloc((size_t)(cut + 1) * sizeof *r);
    if (!r)
        return; /* keep them all */
    size_t nr = 0;
    for (int i = 0; i < cut; i++)
        r[nr++] = (addr_range){ s->slabs[i].base, s->slabs[i].base + s->slabs[i].len };
    if (kept_in_cut)
        r[nr++] = (addr_range){ sl->base, sl->base + kept_in_cut * p->slot };
    qsort(r, nr, sizeof *r, cmp_range);
    size_t guards = list_keep_in(&s->warm, r, nr) + list_keep_in(&s->released, r, nr);
    free(r);
    if (goc__stack_guard_mode() == GOC_GUARD_BY_MPROTECT)
        s->guard_budget += (long)guards;

    for (int i = cut + 1; i < nslabs; i++)
        munmap(s->slabs[i].base, s->slabs[i].len);
    if (kept_in_cut) {
        if (cut_off < sl->len)
            munmap(sl->base + cut_off, sl->len - cut_off);
        sl->len = cut_off;
        s->carve = sl->base + kept_in_cut * p->slot;
        s->carve_end = sl->base + cut_off;
        nslabs = cut + 1;
    } else { /* the slab before, if any, is carved to its end */
        munmap(sl->base, sl->len);
        s->carve = s->carve_end = cut ? s->slabs[cut - 1].base + s->slabs[cut - 1].len : NULL;
        nslabs = cut;
    }
    atomic_store(&p->nslabs, nslabs);
    s->ncarved = before + kept_in_cut;
    s->next_slab_len = slab_len_after(nslabs);
}

void goc__stack_pool_destroy(goc_stack_pool *p)
{
    goc__stack_put_own(p);
    goc_stack_store *s = &p->s;
    int all_free = s->warm.n + s->released.n == s->ncarved;
    if (all_free && s->ncarved > 0) {
        keep_first_slots(p, p->warm_max);
        s->warm_low = s->warm.n; /* a quiet time: every free slot counts as cold */
        goc__stack_scavenge(p);
        leave_in_reserve(p);
    } else {
        store_unmap(s, atomic_load(&p->nslabs));
        atomic_store(&p->nslabs, 0);
    }
    pthread_mutex_destroy(&p->lock);
}

/* ---------------------------------------------------- main's own stack */

char *goc__stack_get_own(goc_stack_pool *p, size_t usable)
{
    size_t len = goc__page_size() + round_up(usable, goc__page_size());
    char *base = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    if (mprotect(base, goc__page_size(), PROT_NONE) != 0) {
        munmap(base, len);
        return NULL;
    }
    p->own.base = base;
    p->own.len = len;
    return base;
}

void goc__stack_put_own(goc_stack_pool *p)
{
    if (p->own.base)
        munmap(p->own.base, p->own.len);
    p->own.base = NULL;
    p->own.len = 0;
}

/* ------------------------------------------------------------ usage */

#define USAGE_VEC 65536 /* mincore bytes per call: 256 MiB of 4 KiB pages */

/* Resident pages of [base, base + len), a page-aligned mapping. */
static uint64_t resident_bytes(char *base, size_t len, unsigned char *vec)
{
    size_t page = goc__page_size(), pages = len / page, count = 0;
    for (size_t at = 0; at < pages;) {
        size_t n = pages - at < USAGE_VEC ? pages - at : USAGE_VEC;
        if (mincore(base + at * page, n * page, vec) != 0)
            break;
        for (size_t i = 0; i < n; i++)
            count += vec[i] & 1;
        at += n;
    }
    return (uint64_t)count * page;
}

/* Reserved: the slabs' address space; committed: their resident pages,
 * by mincore (cost: one byte per 4 KiB reserved, 256 MiB per call). The
 * slab table is read as the SIGSEGV handler reads it: entries below
 * nslabs (acquire) are written before it is published and stay put until
 * goc_run ends. Main's own stack is not counted (it is unmapped while the
 * runtime runs). Any thread; allocates the mincore vector. */
void goc__stack_usage(goc_stack_pool *p, uint64_t *reserved, uint64_t *committed)
{
    int n = atomic_load_explicit(&p->nslabs, memory_order_acquire);
    unsigned char *vec = malloc(USAGE_VEC);
    *reserved = *committed = 0;
    for (int i = 0; i < n; i++) {
        *reserved += p->s.slabs[i].len;
        if (vec)
            *committed += resident_bytes(p->s.slabs[i].base, p->s.slabs[i].len, vec);
    }
    free(vec);
}

/* ------------------------------------------------------------- carving */

static int map_slab(goc_stack_pool *p)
{
    goc_stack_store *s = &p->s;
    int n = atomic_load_explicit(&p->nslabs, memory_order_relaxed);
    if (n >= GOC_MAX_SLABS)
        return GOC_ENOMEM;
    size_t len = s->next_slab_len;
    if (len < p->slot * 16)
        len = round_up(p->slot * 16, goc__page_size());
    char *base = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return GOC_ENOMEM;
#ifdef MADV_NOHUGEPAGE
    madvise(base, len, MADV_NOHUGEPAGE); /* a huge page would commit 2 MiB of stacks at once */
#endif
    s->slabs[n].base = base;
    s->slabs[n].len = len;
    atomic_store_explicit(&p->nslabs, n + 1, memory_order_release);
    s->carve = base;
    s->carve_end = base + len;
    if (s->next_slab_len < SLAB_MAX)
        s->next_slab_len *= 2;
    return 0;
}

/* Whether a new slot gets a guard; lock held (the mprotect budget is
 * shared). goc__stack_put_guard installs it outside the lock. */
static int plan_guard(goc_stack_pool *p)
{
    if (!p->guardable)
        return 0;
    switch (goc__stack_guard_mode()) {
    case GOC_GUARD_BY_MADVISE:
        return 1;
    case GOC_GUARD_BY_MPROTECT:
        if (p->s.guard_budget <= 0)
            return 0;
        p->s.guard_budget--;
        return 1;
    default:
        return 0;
    }
}

/* Carve up to `want` new slots into out[]; lock held. */
static size_t carve_slots(goc_stack_pool *p, uintptr_t *out, size_t want)
{
    goc_stack_store *s = &p->s;
    if (lists_make_room(s, s->ncarved + want) != 0)
        return 0;
    size_t n = 0;
    while (n < want) {
        if ((size_t)(s->carve_end - s->carve) < p->slot && map_slab(p) != 0)
            break;
        char *slot = s->carve;
        s->carve += p->slot;
        s->ncarved++;
        out[n++] = entry_of(slot, plan_guard(p));
    }
    return n;
}
/* Finish new slots outside the lock (they are the caller's alone): the
 * planned guard, or the pattern canary of a small slot. A slot whose
 * guard fails falls back to the zero canary. */
static void prepare_new_slots(const goc_stack_pool *p, uintptr_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *slot = entry_slot(e[i]);
        if (!p->guardable) {
            for (int k = 0; k < CANARY_BYTES / 8; k++)
                ((uint64_t *)slot)[k] = CANARY_WORD;
        } else if (entry_guarded(e[i]) && !goc__stack_put_guard(slot)) {
            e[i] = entry_of(slot, 0);
        }
    }
}

/* ------------------------------------------------------ caches and lists */

/* Fill an empty cache: up to 32 free slots, released ones below the warm
 * ones (so the warmest, on top, are taken first); new slots are carved
 * only when the pool has no free one. */
static void refill(goc_stack_pool *p, goc_stack_cache *c)
{
    goc_stack_store *s = &p->s;
    pthread_mutex_lock(&p->lock);
    size_t warm = min_size(CACHE_MOVE, s->warm.n);
    size_t released = min_size(CACHE_MOVE - warm, s->released.n);
    size_t fresh = 0;
    if (warm + released == 0)
        fresh = carve_slots(p, c->slots, CACHE_MOVE / 2);
    list_pop_top(&s->released, c->slots, released);
    list_pop_top(&s->warm, c->slots + released, warm);
    if (s->warm.n < s->warm_low)
        s->warm_low = s->warm.n;
    pthread_mutex_unlock(&p->lock);
    prepare_new_slots(p, c->slots, fresh);
    c->n = (uint32_t)(fresh + released + warm);
}

char *goc__stack_get(goc_stack_pool *p, goc_stack_cache *c, int *guarded)
{
    if (c->n == 0)
        refill(p, c);
    if (c->n == 0)
        return NULL;
    uintptr_t e = c->slots[--c->n];
    *guarded = entry_guarded(e);
    return entry_slot(e);
}

/* Move the n coldest (bottom) entries of a cache onto the warm list. */
static void spill_coldest(goc_stack_pool *p, goc_stack_cache *c, uint32_t n)
{
    pthread_mutex_lock(&p->lock);
    list_push(&p->s.warm, c->slots, n);
    pthread_mutex_unlock(&p->lock);
    memmove(c->slots, c->slots + n, (c->n - n) * sizeof *c->slots);
    c->n -= n;
}

void goc__stack_put(goc_stack_pool *p, goc_stack_cache *c, char *slot, int guarded)
{
    if (c->n == GOC_STACK_CACHE_MAX)
        spill_coldest(p, c, CACHE_MOVE);
    c->slots[c->n++] = entry_of(slot, guarded);
}

void goc__stack_cache_flush(goc_stack_pool *p, goc_stack_cache *c)
{
    if (c->n)
        spill_coldest(p, c, c->n);
}
