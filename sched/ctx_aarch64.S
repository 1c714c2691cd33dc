/*
 * ctx_aarch64.S - context switch for AArch64 (AAPCS64).
 *
 * Saved on the suspended stack (160 bytes): x19-x28, x29 (fp), x30 (lr),
 * d8-d15. The context itself holds only the stack pointer.
 *
 *   void goc__ctx_switch(goc_ctx *from, goc_ctx *to);   x0 = from, x1 = to
 */
        .text
        .globl  goc__ctx_switch
        .hidden goc__ctx_switch
        .type   goc__ctx_switch, %function
        .p2align 4
goc__ctx_switch:
        sub     sp, sp, #160
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8,  d9,  [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mov     x2, sp
        str     x2, [x0]
        ldr     x2, [x1]
        mov     sp, x2
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8,  d9,  [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #160
        ret
        .size   goc__ctx_switch, .-goc__ctx_switch

/* First code a new context runs: x19 holds the entry function. */
        .globl  goc__ctx_start
        .hidden goc__ctx_start
        .type   goc__ctx_start, %function
        .p2align 4
goc__ctx_start:
        mov     x29, #0
        mov     x30, #0
        br      x19
        .size   goc__ctx_start, .-goc__ctx_start
        .section .note.GNU-stack,"",%progbits
