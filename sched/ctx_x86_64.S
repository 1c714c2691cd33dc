/*
 * ctx_x86_64.S - context switch for x86-64 System V.
 *
 * Saved on the suspended stack, top to bottom: the return address, rbp,
 * rbx, r12-r15, then MXCSR and the x87 control word (callee-saved by the
 * ABI). The context itself holds only the stack pointer. rax and rcx are
 * caller-saved scratch.
 *
 *   void goc__ctx_switch(goc_ctx *from, goc_ctx *to);   rdi = from, rsi = to
 */
        .text
        .globl  goc__ctx_switch
        .hidden goc__ctx_switch
        .type   goc__ctx_switch, @function
        .p2align 4
goc__ctx_switch:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        /* The state just saved is the running one: keep it in r8/r9 to
         * compare with the other side's (reading it again after the stack
         * switch cost a second stmxcsr + fnstcw, a quarter of a yield). */
        movl    (%rsp), %r8d
        movzwl  4(%rsp), %r9d
        movq    %rsp, (%rdi)
        movq    (%rsi), %rsp
        /* Restore the FP control state only where it differs: ldmxcsr and
         * fldcw are slow, and contexts almost never change them. */
        cmpl    (%rsp), %r8d
        jne     2f
        cmpw    4(%rsp), %r9w
        jne     2f
1:      addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        /* pop + jmp rather than ret: the return stack predicts a return to
         * our own caller and would miss on every switch (3x slower). */
        popq    %rcx
        jmpq    *%rcx
2:      ldmxcsr (%rsp)
        fldcw   4(%rsp)
        jmp     1b
        .cfi_endproc
        .size   goc__ctx_switch, .-goc__ctx_switch

/* First code a new context runs: r12 holds the entry function. The stack
 * is aligned as at a function's entry after a call. */
        .globl  goc__ctx_start
        .hidden goc__ctx_start
        .type   goc__ctx_start, @function
        .p2align 4
goc__ctx_start:
        .cfi_startproc
        .cfi_undefined rip
        xorl    %ebp, %ebp
        pushq   %rbp            /* fake return address 0: backtraces end here */
        jmpq    *%r12
        .cfi_endproc
        .size   goc__ctx_start, .-goc__ctx_start
        .section .note.GNU-stack,"",@progbits
