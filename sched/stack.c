/*
 * stack.c - coroutine stacks: carving, caching, overflow detection.
 *
 * Owns: the stack slabs of the running runtime (goc_stack_pool) and the
 * per-worker caches of free slots (goc_stack_cache, owned by the worker).
 *
 * Layout. Stacks are carved from large anonymous mappings (slabs, growing
 * from 4 MiB to 1 GiB, MAP_NORESERVE, no transparent huge pages), so pages
 * are committed only when touched and 1,000,000 stacks need a few dozen
 * mappings, far under vm.max_map_count. Every slot has the same size:
 *
 *   usable >= page:  [ guard page | canary | usable ............ ] top
 *   usable <  page:  [ canary | usable ] packed, 64-byte aligned
 *
 * Overflow detection, always on:
 *   - a PROT_NONE guard page, while the mapping budget allows (each guard
 *     splits a mapping in two; we keep half of vm.max_map_count spare);
 *     a fault there is reported by our SIGSEGV handler on an alternate
 *     signal stack, naming the coroutine and its stack size;
 *   - otherwise a 64-byte canary below the usable area, checked (with the
 *     saved stack pointer) every time the coroutine switches back to its
 *     scheduler. Big slots use zeros as the canary: a never-touched page
 *     reads as zeros and costs no memory. Small slots use a pattern.
 *
 * Locking: pool->lock guards the global free list and carving; the caches
 * are owner-only. The slab table is append-only and read lock-free by the
 * signal handler (nslabs is published with release).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime.h"

#define CANARY_BYTES 64
#define CACHE_MAX 64
#define CACHE_MOVE 32
#define SLAB_FIRST ((size_t)4 << 20)
#define SLAB_MAX ((size_t)1 << 30)
#define CANARY_WORD 0xC0C0A5A5DEADBEEFull

static size_t page_size(void)
{
    static size_t ps;
    if (!ps)
        ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
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

int goc__stack_pool_init(goc_stack_pool *p, size_t usable)
{
    size_t ps = page_size();
    memset(p, 0, sizeof *p);
    p->usable = usable;
    if (usable >= ps) {
        p->guardable = 1;
        p->lo_off = ps;
        p->slot = ps + round_up(usable + CANARY_BYTES, ps);
    } else {
        p->guardable = 0;
        p->lo_off = 0;
        p->slot = round_up(usable + CANARY_BYTES, 64);
    }
    long budget = (read_max_map_count() - 8192) / 4;
    p->guard_budget = budget > 0 ? budget : 0;
    p->next_slab_len = SLAB_FIRST;
    if (pthread_mutex_init(&p->lock, NULL) != 0)
        return GOC_ENOMEM;
    return 0;
}

void goc__stack_pool_destroy(goc_stack_pool *p)
{
    goc__stack_put_own(p);
    int n = atomic_load(&p->nslabs);
    atomic_store(&p->nslabs, 0);
    for (int i = 0; i < n; i++)
        munmap(p->slabs[i].base, p->slabs[i].len);
    pthread_mutex_destroy(&p->lock);
}

/* The usable stack of co: [*lo, *lo + *size), canary excluded. */
void goc__stack_bounds(const goc_stack_pool *p, const goc_co *co, char **lo, size_t *size)
{
    if (co->stack_kind == GOC_STACK_OWN) {
        *lo = p->own.base + page_size();
        *size = p->own.len - page_size();
        return;
    }
    *lo = co->stack + p->lo_off + CANARY_BYTES;
    *size = p->slot - p->lo_off - CANARY_BYTES;
}

char *goc__stack_get_own(goc_stack_pool *p, size_t usable)
{
    size_t len = page_size() + round_up(usable, page_size());
    char *base = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    if (mprotect(base, page_size(), PROT_NONE) != 0) {
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

/* While a slot is free, its top two words hold the free-list link and
 * whether it has a guard page. */
static char **slot_link(const goc_stack_pool *p, char *slot)
{
    return (char **)(slot + p->slot - sizeof(char *));
}

static uintptr_t *slot_guarded(const goc_stack_pool *p, char *slot)
{
    return (uintptr_t *)(slot + p->slot - 2 * sizeof(char *));
}

static int map_slab(goc_stack_pool *p)
{
    int n = atomic_load_explicit(&p->nslabs, memory_order_relaxed);
    if (n >= GOC_MAX_SLABS)
        return GOC_ENOMEM;
    size_t len = p->next_slab_len;
    if (len < p->slot * 16)
        len = round_up(p->slot * 16, page_size());
    char *base = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return GOC_ENOMEM;
#ifdef MADV_NOHUGEPAGE
    madvise(base, len, MADV_NOHUGEPAGE); /* a huge page would commit 2 MiB of stacks at once */
#endif
    p->slabs[n].base = base;
    p->slabs[n].len = len;
    atomic_store_explicit(&p->nslabs, n + 1, memory_order_release);
    p->carve = base;
    p->carve_end = base + len;
    if (p->next_slab_len < SLAB_MAX)
        p->next_slab_len *= 2;
    return 0;
}

/* Carve one new slot; pool lock held. */
static char *carve_slot(goc_stack_pool *p)
{
    if ((size_t)(p->carve_end - p->carve) < p->slot && map_slab(p) != 0)
        return NULL;
    char *slot = p->carve;
    p->carve += p->slot;
    *slot_guarded(p, slot) = 0;
    if (p->guardable && p->guard_budget > 0 &&
        mprotect(slot, page_size(), PROT_NONE) == 0) {
        p->guard_budget--;
        *slot_guarded(p, slot) = 1;
    } else if (!p->guardable)
        for (int i = 0; i < CANARY_BYTES / 8; i++)
            ((uint64_t *)slot)[i] = CANARY_WORD;
    return slot;
}

/* Refill an empty cache from the global free list, or carve new slots. */
static void refill(goc_stack_pool *p, goc_stack_cache *c)
{
    pthread_mutex_lock(&p->lock);
    while (c->n < CACHE_MOVE && p->free_head) {
        char *s = p->free_head;
        p->free_head = *slot_link(p, s);
        p->free_n--;
        *slot_link(p, s) = c->head;
        c->head = s;
        c->n++;
    }
    while (c->n < CACHE_MOVE / 2) {
        char *s = carve_slot(p);
        if (!s)
            break;
        *slot_link(p, s) = c->head;
        c->head = s;
        c->n++;
    }
    pthread_mutex_unlock(&p->lock);
}

char *goc__stack_get(goc_stack_pool *p, goc_stack_cache *c, int *guarded)
{
    if (!c->head)
        refill(p, c);
    char *s = c->head;
    if (s) {
        c->head = *slot_link(p, s);
        c->n--;
        *guarded = (int)*slot_guarded(p, s);
    }
    return s;
}

void goc__stack_put(goc_stack_pool *p, goc_stack_cache *c, char *slot, int guarded)
{
    *slot_guarded(p, slot) = (uintptr_t)guarded;
    *slot_link(p, slot) = c->head;
    c->head = slot;
    if (++c->n <= CACHE_MAX)
        return;
    pthread_mutex_lock(&p->lock);
    while (c->n > CACHE_MAX - CACHE_MOVE) {
        char *s = c->head;
        c->head = *slot_link(p, s);
        c->n--;
        *slot_link(p, s) = p->free_head;
        p->free_head = s;
        p->free_n++;
    }
    pthread_mutex_unlock(&p->lock);
}

/* ------------------------------------------------------- overflow report */

static void put_str(char *buf, size_t *at, size_t cap, const char *s)
{
    while (*s && *at + 1 < cap)
        buf[(*at)++] = *s++;
}

static void put_u64(char *buf, size_t *at, size_t cap, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && *at + 1 < cap)
        buf[(*at)++] = tmp[--n];
}

/* Async-signal-safe: formats with no allocation and writes once. */
static void report_overflow(const char *how, uint64_t id, size_t size, int worker)
{
    char buf[256];
    size_t at = 0;
    put_str(buf, &at, sizeof buf, "goc: stack overflow in coroutine ");
    put_u64(buf, &at, sizeof buf, id);
    put_str(buf, &at, sizeof buf, " on worker ");
    put_u64(buf, &at, sizeof buf, (uint64_t)worker);
    put_str(buf, &at, sizeof buf, " (stack size ");
    put_u64(buf, &at, sizeof buf, size);
    put_str(buf, &at, sizeof buf, " bytes, ");
    put_str(buf, &at, sizeof buf, how);
    put_str(buf, &at, sizeof buf, "); raise goc_config.stack_size\n");
    ssize_t r = write(STDERR_FILENO, buf, at);
    (void)r;
}

void goc__stack_check(const goc_stack_pool *p, const goc_co *co, int worker)
{
#if !(defined(GOC_CTX_UCONTEXT) && GOC_CTX_UCONTEXT)
    char *usable_lo;
    size_t size;
    goc__stack_bounds(p, co, &usable_lo, &size);
    if ((char *)co->ctx.sp < usable_lo) {
        report_overflow("stack pointer below the stack", co->id, size, worker);
        abort();
    }
#endif
    if (co->stack_kind != GOC_STACK_POOL)
        return;
    char *lo = co->stack + p->lo_off;
    const uint64_t *w = (const uint64_t *)lo;
    uint64_t want = p->guardable ? 0 : CANARY_WORD;
    for (int i = 0; i < CANARY_BYTES / 8; i++) {
        if (w[i] != want) {
            report_overflow("canary overwritten", co->id, p->usable, worker);
            abort();
        }
    }
}

static struct sigaction old_segv;
static int segv_installed;

#ifndef GOC_ASAN /* ASan reports stack overflows itself */
static int guard_hit(const goc_runtime *rt, const char *addr)
{
    const goc_stack_pool *p = &rt->stacks;
    if (p->own.base && addr >= p->own.base && addr < p->own.base + page_size())
        return 1;
    if (!p->guardable)
        return 0;
    int n = atomic_load_explicit(&p->nslabs, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        const char *b = p->slabs[i].base;
        if (addr >= b && addr < b + p->slabs[i].len)
            return (size_t)(addr - b) % p->slot < page_size();
    }
    return 0;
}

static void on_segv(int sig, siginfo_t *si, void *uctx)
{
    goc_runtime *rt = goc__runtime();
    goc_worker *w = goc__worker();
    if (rt && w && w->cur && guard_hit(rt, (const char *)si->si_addr)) {
        char *lo;
        size_t size;
        goc__stack_bounds(&rt->stacks, w->cur, &lo, &size);
        report_overflow("guard page hit", w->cur->id, w->cur->stack_kind == GOC_STACK_OWN ? size : rt->stacks.usable, w->index);
        signal(SIGABRT, SIG_DFL);
        abort();
    }
    /* Not ours: put the previous disposition back and let the fault recur. */
    sigaction(SIGSEGV, &old_segv, NULL);
    (void)sig;
    (void)uctx;
}

#endif

int goc__stack_install_segv_handler(void)
{
#ifdef GOC_ASAN
    return 0;
#else
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &old_segv) != 0)
        return -1;
    segv_installed = 1;
    return 0;
#endif
}

void goc__stack_restore_segv_handler(void)
{
    if (segv_installed) {
        sigaction(SIGSEGV, &old_segv, NULL);
        segv_installed = 0;
    }
}

#define ALTSTACK_SIZE (64 * 1024)

/* Give this thread an alternate signal stack, so that a fault on a guard
 * page can still be reported. *saved remembers the previous one. */
int goc__stack_altstack_enter(void **saved)
{
    *saved = NULL;
#ifdef GOC_ASAN
    return 0;
#else
    stack_t *old = malloc(sizeof *old);
    if (!old)
        return GOC_ENOMEM;
    void *mem = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        free(old);
        return GOC_ENOMEM;
    }
    stack_t ss = { .ss_sp = mem, .ss_size = ALTSTACK_SIZE, .ss_flags = 0 };
    if (sigaltstack(&ss, old) != 0) {
        munmap(mem, ALTSTACK_SIZE);
        free(old);
        return GOC_ENOMEM;
    }
    *saved = old;
    return 0;
#endif
}

void goc__stack_altstack_leave(void *saved)
{
    stack_t *old = saved;
    if (!old)
        return;
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_ONSTACK)) {
        sigaltstack(old->ss_flags & SS_DISABLE ? &(stack_t){ .ss_flags = SS_DISABLE } : old, NULL);
        munmap(cur.ss_sp, cur.ss_size);
    }
    free(old);
}
