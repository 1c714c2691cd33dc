/*
 * guard.c - guard pages: the page size, whether this kernel can put a
 * guard on a page without splitting its mapping, and putting one.
 *
 * Owns: the guard mode, probed once per process (GOC_GUARD_BY_MADVISE
 * where MADV_GUARD_INSTALL works, Linux 6.13+; else by mprotect, each
 * guard splitting a mapping; GOC_STACK_GUARD in the environment may
 * force a fallback, for tests). stack.c decides which slots get a guard;
 * overflow.c reports a fault on one.
 *
 * Invariants: the mode is probed by goc__stack_pool_init, before any
 * worker runs, and never changes after.
 *
 * Locking: none (a relaxed atomic: every prober finds the same mode).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

size_t goc__page_size(void)
{
    static size_t ps;
    if (!ps)
        ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

static _Atomic int guard_mode; /* GOC_GUARD_BY_*; 0 until probed */

static int probe_guard_mode(void)
{
    const char *env = getenv("GOC_STACK_GUARD");
    if (env && strcmp(env, "mprotect") == 0)
        return GOC_GUARD_BY_MPROTECT;
    if (env && strcmp(env, "canary") == 0)
        return GOC_GUARD_NONE;
    int mode = GOC_GUARD_BY_MPROTECT;
    char *scratch = mmap(NULL, goc__page_size(), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (scratch != MAP_FAILED) {
        if (madvise(scratch, goc__page_size(), MADV_GUARD_INSTALL) == 0)
            mode = GOC_GUARD_BY_MADVISE;
        munmap(scratch, goc__page_size());
    }
    return mode;
}

int goc__stack_guard_mode(void)
{
    int mode = atomic_load_explicit(&guard_mode, memory_order_relaxed);
    if (!mode) {
        mode = probe_guard_mode();
        atomic_store_explicit(&guard_mode, mode, memory_order_relaxed);
    }
    return mode;
}

int goc__stack_put_guard(char *slot)
{
    if (goc__stack_guard_mode() == GOC_GUARD_BY_MADVISE)
        return madvise(slot, goc__page_size(), MADV_GUARD_INSTALL) == 0;
    return mprotect(slot, goc__page_size(), PROT_NONE) == 0;
}
