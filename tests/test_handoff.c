/*
 * test_handoff.c - a coroutine handed a value goes to its waker's next
 * slot and wakes no other worker. If the waker then computes for long
 * without yielding, the monitor must notice and let an idle worker steal
 * the handed-off coroutine: it must not wait for the computation to end.
 */
#include "test_util.h"

typedef struct {
    goc_chan *ch;
    _Atomic int64_t ran_at;   /* when the receiver got its value */
    _Atomic int spinning_done;
} handoff_state;

static void receiver(void *arg)
{
    handoff_state *s = arg;
    int v;
    TU_CHECK_INT_EQ(goc_chan_recv(s->ch, &v), 0);
    atomic_store(&s->ran_at, goc_now());
}

static void main_handoff(void *arg)
{
    handoff_state *s = arg;
    s->ch = goc_chan_make(sizeof(int), 0);
    TU_CHECK(s->ch != NULL);
    TU_CHECK_INT_EQ(goc_go(receiver, s), 0);
    goc_sleep(20 * TU_MS); /* the receiver parks */
    /* Compute a little first, so any worker still spinning after the
     * sleep's wake-up has given up and blocked: nobody is looking. */
    int64_t quiet = goc_now() + 50 * TU_MS;
    while (goc_now() < quiet)
        ;
    int v = 1;
    TU_CHECK_INT_EQ(goc_chan_send(s->ch, &v), 0);
    /* The receiver sits in this worker's next slot; compute without
     * yielding for a long while. */
    int64_t end = goc_now() + (TU_SANITIZED ? 3 : 1) * TU_SEC;
    while (goc_now() < end && atomic_load(&s->ran_at) == 0)
        ;
    atomic_store(&s->spinning_done, 1);
    while (atomic_load(&s->ran_at) == 0)
        goc_yield();
    goc_chan_free(s->ch);
}

static void test_handoff_not_stranded(void **state)
{
    (void)state;
    static handoff_state s;
    memset(&s, 0, sizeof s);
    int64_t t0 = goc_now();
    TU_RUN(NULL, main_handoff, &s);
    int64_t waited = atomic_load(&s.ran_at) - t0;
    if (tu_env_workers() >= 2) {
        /* Another worker took it while main was still computing. */
        if (waited >= (TU_SANITIZED ? 3 : 1) * TU_SEC)
            fail_msg("handed-off coroutine waited %lld ms for the computation to end",
                     (long long)(waited / TU_MS));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handoff_not_stranded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
