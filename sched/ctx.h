/*
 * ctx.h - the machine context of a coroutine: the one small interface the
 * scheduler uses to start and switch stacks. Platform code lives beside it:
 * ctx_x86_64.S (SysV), ctx_aarch64.S (AAPCS64), ctx_ucontext.c (fallback,
 * selected with -DGOC_CTX_UCONTEXT=1 or on any other architecture).
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

#endif
