/* A program built against an installed goc (see tests/consumer/CMakeLists.txt):
 * its main coroutine spawns a task, joins it and checks the result. */
#include <goc.h>
#include <stdint.h>
#include <stdio.h>

static void *square(void *arg)
{
    intptr_t x = (intptr_t)arg;
    goc_yield();
    return (void *)(x * x);
}

static void main_co(void *arg)
{
    int *ok = arg;
    goc_task *t = goc_spawn(square, (void *)(intptr_t)12);
    void *result = NULL;
    if (t == NULL) {
        fprintf(stderr, "consumer: goc_spawn returned NULL\n");
        return;
    }
    int rc = goc_join(t, &result);
    if (rc != 0) {
        fprintf(stderr, "consumer: goc_join: %s\n", goc_strerror(rc));
        return;
    }
    if ((intptr_t)result != 144) {
        fprintf(stderr, "consumer: expected 144, got %ld\n", (long)(intptr_t)result);
        return;
    }
    *ok = 1;
}

int main(void)
{
    int ok = 0;
    int rc = goc_run(NULL, main_co, &ok);
    if (rc != 0) {
        fprintf(stderr, "consumer: goc_run: %s\n", goc_strerror(rc));
        return 1;
    }
    if (!ok)
        return 1;
    printf("consumer: goc %d.%d.%d works (12*12 = 144)\n",
           GOC_VERSION_MAJOR, GOC_VERSION_MINOR, GOC_VERSION_PATCH);
    return 0;
}
