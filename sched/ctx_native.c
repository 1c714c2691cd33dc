/*
 * ctx_native.c - goc__ctx_make for the assembly back ends (ctx_x86_64.S,
 * ctx_aarch64.S): lays out a new stack so that the first goc__ctx_switch
 * to it "returns" into goc__ctx_start, which jumps to the entry function.
 * CMake compiles it, with the assembly file, on x86-64 and aarch64.
 */
#include <stdint.h>
#include <string.h>

#include "ctx.h"

void goc__ctx_start(void);

void goc__ctx_make(goc_ctx *c, void *lo, size_t size, void (*entry)(void))
{
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
    /* 8 slots popped by goc__ctx_switch: fp control, r15, r14, r13, r12,
     * rbx, rbp, return address. After the ret, goc__ctx_start pushes a
     * fake return address so entry sees rsp % 16 == 8, as after a call. */
    uint64_t *sp = (uint64_t *)(top - 8 * 8);
    memset(sp, 0, 8 * 8);
    sp[0] = 0x1F80 | ((uint64_t)0x037F << 32); /* MXCSR default, x87 control word default */
    sp[4] = (uint64_t)(uintptr_t)entry;        /* r12 */
    sp[7] = (uint64_t)(uintptr_t)goc__ctx_start;
    c->sp = sp;
#elif defined(__aarch64__)
    uint64_t *sp = (uint64_t *)(top - 160);
    memset(sp, 0, 160);
    sp[0] = (uint64_t)(uintptr_t)entry;         /* x19 */
    sp[11] = (uint64_t)(uintptr_t)goc__ctx_start; /* x30 */
    c->sp = sp;
#endif
}
