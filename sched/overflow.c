/*
 * overflow.c - coroutine stack overflows: catching them and reporting them.
 *
 * Owns: the check at each switch (goc__stack_check; its common case is
 * inline in runtime.h), the process's SIGSEGV handler while goc_run runs,
 * and each worker thread's alternate signal stack. The slots themselves,
 * their layout and which of them get a guard are stack.c's; the guards
 * themselves, guard.c's.
 *
 * Overflow detection, always on, in this order of preference:
 *   1. MADV_GUARD_INSTALL (Linux 6.13+): a guard on the slot's first page
 *      that splits no mapping, so every slot has one; it survives
 *      MADV_DONTNEED. Probed once per process on a scratch page.
 *   2. else a PROT_NONE guard page by mprotect, while the mapping budget
 *      allows (each splits a mapping in two; we keep half of
 *      vm.max_map_count spare);
 *   3. else the canary: 64 bytes below the usable area, checked (with the
 *      saved stack pointer) every time the coroutine switches back to its
 *      scheduler. Big slots use zeros: an untouched page reads as zeros.
 *      That read is the last resort (old kernels, beyond the mprotect
 *      budget): on a host without a shared zero page it commits a page.
 *      Small slots (under a page) use a written pattern: their memory is
 *      touched anyway.
 *   A fault on a guard is reported by our SIGSEGV handler on an alternate
 *   signal stack, naming the coroutine and its stack size. Guarded slots
 *   get only the saved-sp check at a switch. GOC_STACK_GUARD=mprotect or
 *   =canary in the environment forces a fallback (for tests).
 * A fault that is not on a guard puts the previous SIGSEGV disposition
 * back and recurs. Under ASan there is neither handler nor alternate
 * stack: ASan reports stack overflows itself. A report is
 * async-signal-safe (formatted with no allocation, written once) and
 * ends in abort().
 *
 * Locking: none. The handler reads the pool's slab table lock-free, as
 * stack.c's locking allows; goc_run installs the handler before its
 * workers start and restores it after they are joined; each worker thread
 * enters and leaves its own alternate stack.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime.h"

#define CANARY_BYTES GOC_STACK_CANARY_BYTES
#define CANARY_WORD GOC_STACK_CANARY_WORD

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
    if (p->own.base && addr >= p->own.base && addr < p->own.base + goc__page_size())
        return 1;
    if (!p->guardable)
        return 0;
    int n = atomic_load_explicit(&p->nslabs, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        const char *b = p->s.slabs[i].base;
        if (addr >= b && addr < b + p->s.slabs[i].len)
            return (size_t)(addr - b) % p->slot < goc__page_size();
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
