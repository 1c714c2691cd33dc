/*
 * ctx.h - the machine context of a coroutine: the one small interface the
 * scheduler uses to start and switch stacks. Platform code lives beside it:
 * ctx_x86_64.S (SysV), ctx_aarch64.S (AAPCS64), ctx_ucontext.c (fallback);
 * CMake picks the files and defines GOC_CTX_UCONTEXT=1 for the fallback.
 *
 * Invariants: a context is switched to only when it is not running
 * anywhere (the scheduler's on_cpu hand-off guarantees it); the entry
 * function of a new context never returns (it switches away for good).
 */
#ifndef GOC_CTX_H
#define GOC_CTX_H

#include <stddef.h>

#if !defined(GOC_CTX_UCONTEXT) && !defined(__x86_64__) && !defined(__aarch64__)
#  define GOC_CTX_UCONTEXT 1
#endif

#if defined(GOC_CTX_UCONTEXT) && GOC_CTX_UCONTEXT
#  include <ucontext.h>
typedef struct goc_ctx { ucontext_t uc; } goc_ctx;
#else
/* Callee-saved registers live on the suspended stack; only sp is kept. */
typedef struct goc_ctx { void *sp; } goc_ctx;
#endif

/* Prepare c to run entry() on the stack [lo, lo + size) at its first switch. */
void goc__ctx_make(goc_ctx *c, void *lo, size_t size, void (*entry)(void));

/* Save the running context into from, resume to. Returns when something
 * switches back to from. */
void goc__ctx_switch(goc_ctx *from, goc_ctx *to);

/* The same switch, inlined at its call site (same saved layout, so either
 * side may be resumed by the other). Used for coroutine-to-coroutine
 * switches: both sides resume at the same address, and without a call
 * the return-stack predictor stays in step (no miss on the way out). */
#if !(defined(GOC_CTX_UCONTEXT) && GOC_CTX_UCONTEXT) && defined(__x86_64__)
static inline __attribute__((always_inline)) void goc__ctx_switch_inline(goc_ctx *from, goc_ctx *to)
{
    __asm__ volatile(
        "subq    $128, %%rsp\n\t"      /* step over the caller's red zone */
        "leaq    1f(%%rip), %%rax\n\t"
        "pushq   %%rax\n\t"
        "pushq   %%rbp\n\t"
        "pushq   %%rbx\n\t"
        "pushq   %%r12\n\t"
        "pushq   %%r13\n\t"
        "pushq   %%r14\n\t"
        "pushq   %%r15\n\t"
        "subq    $8, %%rsp\n\t"
        "stmxcsr (%%rsp)\n\t"
        "fnstcw  4(%%rsp)\n\t"
        "movl    (%%rsp), %%r8d\n\t"   /* the running FP control state */
        "movzwl  4(%%rsp), %%r9d\n\t"
        "movq    %%rsp, (%0)\n\t"
        "movq    (%1), %%rsp\n\t"
        "cmpl    (%%rsp), %%r8d\n\t"
        "jne     2f\n\t"
        "cmpw    4(%%rsp), %%r9w\n\t"
        "jne     2f\n"
        "3:\n\t"
        "addq    $8, %%rsp\n\t"
        "popq    %%r15\n\t"
        "popq    %%r14\n\t"
        "popq    %%r13\n\t"
        "popq    %%r12\n\t"
        "popq    %%rbx\n\t"
        "popq    %%rbp\n\t"
        "popq    %%rcx\n\t"
        "jmpq    *%%rcx\n"
        "2:\n\t"
        "ldmxcsr (%%rsp)\n\t"
        "fldcw   4(%%rsp)\n\t"
        "jmp     3b\n"
        "1:\n\t"
        "addq    $128, %%rsp\n\t"
        : "+D"(from), "+S"(to) /* hold the other context's values on return */
        :
        : "rax", "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc",
          "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
          "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
}
#else
static inline void goc__ctx_switch_inline(goc_ctx *from, goc_ctx *to)
{
    goc__ctx_switch(from, to);
}
#endif

#endif
