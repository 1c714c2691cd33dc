/*
 * ctx_check.c - the context switch on its own, without the runtime, so it
 * can be cross-compiled and run under qemu-user for architectures this
 * machine is not (aarch64). Two contexts ping-pong N times; callee-saved
 * integer and floating-point registers must survive every switch.
 */
#include "ctx.h"

#include <stdio.h>
#include <stdlib.h>

#define N 100000L

static goc_ctx main_ctx, ctx_a, ctx_b;
static volatile long result;

__attribute__((noinline)) static double scale(double x)
{
    return x * 1.0000001;
}

static void body_a(void)
{
    double acc = 1.0;
    long sum = 0;
    for (long i = 0; i < N; i++) {
        acc = scale(acc);
        sum += i;
        goc__ctx_switch(&ctx_a, &ctx_b);
    }
    if (sum != N * (N - 1) / 2) {
        printf("FAIL: integer register clobbered across a switch\n");
        exit(1);
    }
    result = (long)(acc * 1000);
    goc__ctx_switch(&ctx_a, &main_ctx);
}

static void body_b(void)
{
    long keep = 12345;
    for (;;) {
        goc__ctx_switch(&ctx_b, &ctx_a);
        __asm__ volatile("" : "+r"(keep));
        if (keep != 12345) {
            printf("FAIL: callee-saved register clobbered\n");
            exit(1);
        }
    }
}

int main(void)
{
    size_t size = 1 << 16;
    goc__ctx_make(&ctx_a, malloc(size), size, body_a);
    goc__ctx_make(&ctx_b, malloc(size), size, body_b);
    volatile double d = 3.25;
    goc__ctx_switch(&main_ctx, &ctx_a);
    if (d != 3.25 || result != 1010) {
        printf("FAIL: d=%f result=%ld\n", d, (long)result);
        return 1;
    }
    printf("ctx ok: %ld switches\n", 2 * N);
    return 0;
}
