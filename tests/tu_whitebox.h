/*
 * tu_whitebox.h - "this task is parked in its blocking call", read from
 * the runtime's own state, for the tests that must know it.
 *
 * "It set a started flag and then we slept N ms" does not say that: the
 * worker running it can be descheduled for longer than any such sleep (a
 * loaded 2-core CI machine, TSan's 5-15x), and then a trysend finds no
 * receiver, a free finds no waiter and frees, a FIFO test sees two
 * waiters queue in the other order. These helpers wait for the fact
 * itself, with a bound only for a test that would otherwise hang.
 *
 * Include it after test_util.h, in a test that knows the task's only
 * blocking call is the one it means (a task parked in goc_sleep is parked
 * too).
 */
#ifndef GOC_TU_WHITEBOX_H
#define GOC_TU_WHITEBOX_H

#include "test_util.h"
#include "runtime.h"

/* 1 once t is parked: it went through goc__park_begin (state WAITING) or
 * goc__hold_begin (HELD) and its worker has switched away from it (on_cpu
 * 0). Every blocking call registers the coroutine where its waker will
 * find it, under that object's lock, before it switches away, so from now
 * on the task is queued on what it waits for: a free sees it (GOC_EBUSY),
 * a trysend hands it the value, a close wakes it. A task not yet run, or
 * woken and not yet run again, is not parked. */
static inline int tu_task_parked(goc_task *t)
{
    goc_co *co = (goc_co *)t;
    if (co == NULL)
        return 0;
    uint32_t st = atomic_load(&co->wstate) & GOC_WS_STATE_MASK;
    return (st == GOC_WS_WAITING || st == GOC_WS_HELD) && atomic_load(&co->on_cpu) == 0;
}

/* Inside a coroutine: sleep in small steps until t is parked or
 * timeout_ns passed. Returns 1 if it is parked. */
static inline int tu_wait_parked(goc_task *t, int64_t timeout_ns)
{
    int64_t end = goc_now() + timeout_ns;
    while (!tu_task_parked(t)) {
        if (goc_now() >= end)
            return 0;
        goc_sleep(TU_MS);
    }
    return 1;
}

#endif /* GOC_TU_WHITEBOX_H */
