/*
 * names.c - coroutine names: goc_set_name, goc_name, goc_task_name, and
 * the internal reader the dump, the trace and the deadlock report use.
 *
 * Owns: the name in each coroutine's cold half (co.h): at most
 * GOC_NAME_MAX - 1 bytes and a NUL, written only by the coroutine itself
 * (or its spawner before it is queued), published by a release store of
 * `named`; any thread reads it a word at a time with relaxed loads after
 * an acquire of `named`. A read racing a rename may mix two names, never
 * overrun. A coroutine without a name reads as "co-ID".
 *
 * Locking: none.
 */
#include <stdio.h>
#include <string.h>

#include "runtime.h"

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
