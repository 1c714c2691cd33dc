/*
 * ctx_ucontext.c - portable fallback context switch on makecontext /
 * swapcontext. Slower (swapcontext saves the signal mask with a syscall),
 * but it runs anywhere glibc does. CMake compiles it instead of the
 * assembly (and defines GOC_CTX_UCONTEXT=1 for ctx.h) with
 * GOC_CONTEXT=ucontext and on architectures without an assembly back end.
 */
#include <stdlib.h>

#include "ctx.h"

void goc__ctx_make(goc_ctx *c, void *lo, size_t size, void (*entry)(void))
{
    if (getcontext(&c->uc) != 0)
        abort();
    c->uc.uc_stack.ss_sp = lo;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    makecontext(&c->uc, entry, 0);
}

void goc__ctx_switch(goc_ctx *from, goc_ctx *to)
{
    if (swapcontext(&from->uc, &to->uc) != 0)
        abort();
}
