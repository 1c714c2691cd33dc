/*
 * test_sync.c - goc_mutex and goc_sem: mutual exclusion, FIFO hand-off,
 * try operations, unlock/release errors, cancellation of a waiter (and its
 * race with the hand-off: no lock or permit is ever lost), GOC_EBUSY on
 * free, bad input and GOC_EPERM outside coroutines.
 */
#include "test_util.h"
#include "tu_whitebox.h"
#include "tu_lanes.h"

/* --------------------------------------------------------------- helpers */

typedef struct {
    goc_mutex *m;
    goc_sem *s;
    int id;
    int rc;
    int unlock_rc;
    int hold_ms;  /* how long to keep it once acquired */
    int release;  /* give it back once acquired */
    int *order;   /* where to record the order of acquisition */
    atomic_int *pos;
    atomic_int started;
    atomic_int acquired;
    atomic_int done;
} lk_arg;

static void lk_init(lk_arg *a, goc_mutex *m, goc_sem *s, int id)
{
    memset(a, 0, sizeof *a);
    a->m = m;
    a->s = s;
    a->id = id;
    a->rc = 12345;
    a->unlock_rc = 12345;
    a->release = 1;
}

static void *lk_task(void *arg)
{
    lk_arg *a = arg;
    atomic_store(&a->started, 1);
    a->rc = a->m ? goc_mutex_lock(a->m) : goc_sem_acquire(a->s);
    if (a->rc == 0) {
        atomic_store(&a->acquired, 1);
        if (a->order)
            a->order[atomic_fetch_add(a->pos, 1)] = a->id;
        if (a->hold_ms)
            goc_sleep(a->hold_ms * TU_MS);
        if (a->release)
            a->unlock_rc = a->m ? goc_mutex_unlock(a->m) : goc_sem_release(a->s);
    }
    atomic_store(&a->done, 1);
    return NULL;
}

/* Wait until the task t running a is parked in its lock or acquire,
 * queued behind the earlier waiters (not "started, and 30 ms later not
 * done": a descheduled worker outlasts that, and then the waiters queue
 * in another order). 1 if it is, and so has not acquired. */
static int lk_wait_parked(lk_arg *a, goc_task *t)
{
    if (!tu_wait_parked(t, 30 * TU_SEC))
        return 0;
    return atomic_load(&a->done) == 0 && atomic_load(&a->acquired) == 0;
}

/* ----------------------------------------------------- mutual exclusion */

/* MX_N lanes (tu_lanes.h) each increment a plain counter under the mutex,
 * yielding while they hold it. */
#define MX_N 8
typedef struct {
    goc_mutex *m;
    long counter; /* plain, guarded by m */
    atomic_int inside;
} mx_state;

enum mx_outcome { MX_INCREMENTED, MX_LOCK_FAILED, MX_UNLOCK_FAILED, MX_OVERLAP, MX_OUTCOMES };

static const char *const mx_outcome_names[MX_OUTCOMES] = {
    "incremented", "lock failed", "unlock failed", "overlap",
};

static int mx_step(tu_lanes *ls, int lane, long i)
{
    mx_state *s = ls->ctx;
    if (goc_mutex_lock(s->m) != 0) {
        tu_lanes_count(ls, lane, MX_LOCK_FAILED);
        return 1;
    }
    if (atomic_fetch_add(&s->inside, 1) != 0)
        tu_lanes_count(ls, lane, MX_OVERLAP);
    long v = s->counter;
    goc_yield(); /* others run while we hold it */
    s->counter = v + 1;
    tu_lanes_count(ls, lane, MX_INCREMENTED);
    atomic_fetch_sub(&s->inside, 1);
    if (goc_mutex_unlock(s->m) != 0)
        tu_lanes_count(ls, lane, MX_UNLOCK_FAILED);
    if (i % 3 == 0)
        goc_yield();
    return 1;
}

static void main_mutex_exclusion(void *arg)
{
    tu_lanes *ls = arg;
    mx_state *s = ls->ctx;
    s->m = goc_mutex_new();
    TU_CHECK(s->m != NULL);
    if (!s->m)
        return;
    tu_lanes_run(ls);
    TU_CHECK_INT_EQ(goc_mutex_trylock(s->m), 0); /* left unlocked */
    TU_CHECK_INT_EQ(goc_mutex_unlock(s->m), 0);
    TU_CHECK_INT_EQ(goc_mutex_free(s->m), 0);
}

static void test_mutex_mutual_exclusion(void **state)
{
    (void)state;
    static const int iteration_ends[] = {MX_INCREMENTED, MX_LOCK_FAILED};
    mx_state s;
    memset(&s, 0, sizeof s);
    tu_lanes ls;
    tu_lanes_init(&ls, &(tu_lanes_spec){.name = "mutex exclusion",
                                        .count = MX_N,
                                        .iters = TU_SCALE(5000),
                                        .step = mx_step,
                                        .ctx = &s,
                                        .outcome_names = mx_outcome_names,
                                        .outcomes = MX_OUTCOMES});
    TU_RUN(NULL, main_mutex_exclusion, &ls);
    tu_lanes_assert_never(&ls, MX_LOCK_FAILED);
    tu_lanes_assert_never(&ls, MX_UNLOCK_FAILED);
    tu_lanes_assert_never(&ls, MX_OVERLAP);
    tu_lanes_assert_each_iteration_once(&ls, iteration_ends, 2);
    assert_int_equal(s.counter, MX_N * ls.iters);
}

/* ---------------------------------------------------- FIFO hand-off */

#define FO_N 6
static void main_mutex_fifo(void *arg)
{
    int *order = arg;
    atomic_int pos = 0;
    goc_mutex *m = goc_mutex_new();
    TU_CHECK(m != NULL);
    if (m == NULL)
        return;
    TU_CHECK_INT_EQ(goc_mutex_lock(m), 0);
    lk_arg a[FO_N];
    goc_task *t[FO_N];
    for (int i = 0; i < FO_N; i++) {
        lk_init(&a[i], m, NULL, i);
        a[i].order = order;
        a[i].pos = &pos;
        a[i].hold_ms = 2;
        t[i] = goc_spawn(lk_task, &a[i]);
        TU_CHECK(t[i] != NULL);
        /* arrive one after the other */
        TU_CHECK(lk_wait_parked(&a[i], t[i]));
    }
    TU_CHECK_INT_EQ(goc_mutex_unlock(m), 0);
    /* handed to the first waiter: not free for a newcomer */
    int tr = goc_mutex_trylock(m);
    TU_CHECK_INT_EQ(tr, GOC_EAGAIN);
    if (tr == 0)
        goc_mutex_unlock(m);
    for (int i = 0; i < FO_N; i++) {
        if (t[i])
            TU_CHECK_INT_EQ(goc_join(t[i], NULL), 0);
        TU_CHECK_INT_EQ(a[i].rc, 0);
        TU_CHECK_INT_EQ(a[i].unlock_rc, 0);
    }
    TU_CHECK_INT_EQ(atomic_load(&pos), FO_N);
    TU_CHECK_INT_EQ(goc_mutex_free(m), 0);
}

static void test_mutex_fifo_handoff(void **state)
{
    (void)state;
    int order[FO_N];
    for (int i = 0; i < FO_N; i++)
        order[i] = -1;
    TU_RUN(NULL, main_mutex_fifo, order);
    for (int i = 0; i < FO_N; i++)
        if (order[i] != i)
            fail_msg("acquisition %d went to waiter %d (order %d %d %d %d %d %d)",
                     i, order[i], order[0], order[1], order[2], order[3],
                     order[4], order[5]);
}

/* ------------------------------------------- trylock, unlock, free, NULL */

static void *unlock_other(void *arg)
{
    return (void *)(intptr_t)goc_mutex_unlock(arg);
}

static void main_mutex_basic(void *arg)
{
    (void)arg;
    goc_mutex *m = goc_mutex_new();
    TU_CHECK(m != NULL);
    if (m == NULL)
        return;
    TU_CHECK_INT_EQ(goc_mutex_unlock(m), GOC_EPERM); /* never locked */
    TU_CHECK_INT_EQ(goc_mutex_trylock(m), 0);
    TU_CHECK_INT_EQ(goc_mutex_trylock(m), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_mutex_free(m), GOC_EBUSY); /* locked */
    TU_CHECK_INT_EQ(goc_mutex_unlock(m), 0);
    TU_CHECK_INT_EQ(goc_mutex_unlock(m), GOC_EPERM); /* twice */
    TU_CHECK_INT_EQ(goc_mutex_lock(m), 0);
    TU_CHECK_INT_EQ(goc_mutex_trylock(m), GOC_EAGAIN);
    /* another coroutine may unlock it */
    goc_task *t = goc_spawn(unlock_other, m);
    TU_CHECK(t != NULL);
    void *res = (void *)(intptr_t)1;
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, &res), 0);
    TU_CHECK_INT_EQ((intptr_t)res, 0);
    TU_CHECK_INT_EQ(goc_mutex_trylock(m), 0);
    TU_CHECK_INT_EQ(goc_mutex_unlock(m), 0);

    /* a waiter makes free refuse too */
    TU_CHECK_INT_EQ(goc_mutex_lock(m), 0);
    lk_arg a;
    lk_init(&a, m, NULL, 0);
    t = goc_spawn(lk_task, &a);
    TU_CHECK(t != NULL);
    TU_CHECK(lk_wait_parked(&a, t));
    TU_CHECK_INT_EQ(goc_mutex_free(m), GOC_EBUSY);
    TU_CHECK_INT_EQ(goc_mutex_unlock(m), 0);
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    TU_CHECK_INT_EQ(a.rc, 0);
    TU_CHECK_INT_EQ(a.unlock_rc, 0);
    TU_CHECK_INT_EQ(goc_mutex_free(m), 0);

    /* NULL */
    TU_CHECK_INT_EQ(goc_mutex_lock(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_mutex_trylock(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_mutex_unlock(NULL), GOC_EINVAL);
    int fr = goc_mutex_free(NULL);
    TU_CHECK(fr == 0 || fr == GOC_EINVAL);
}

static void test_mutex_basic_errors(void **state)
{
    (void)state;
    TU_RUN(NULL, main_mutex_basic, NULL);
}

/* lock outside a coroutine, where it would block: GOC_EPERM */
static void main_lock_and_leave(void *arg)
{
    goc_mutex *m = arg;
    TU_CHECK_INT_EQ(goc_mutex_lock(m), 0);
}

static void main_unlock_and_free(void *arg)
{
    goc_mutex *m = arg;
    TU_CHECK_INT_EQ(goc_mutex_unlock(m), 0);
    TU_CHECK_INT_EQ(goc_mutex_free(m), 0);
}

static void test_mutex_outside_coroutine(void **state)
{
    (void)state;
    goc_mutex *m = goc_mutex_new();
    assert_non_null(m);
    TU_RUN(NULL, main_lock_and_leave, m);
    int64_t t0 = tu_clock_ns();
    assert_int_equal(goc_mutex_lock(m), GOC_EPERM);
    assert_true(tu_clock_ns() - t0 < TU_SEC);
    assert_int_equal(goc_mutex_free(m), GOC_EBUSY);
    TU_RUN(NULL, main_unlock_and_free, m);
}

/* -------------------------------------------------- cancelled lock */

static void main_mutex_cancel(void *arg)
{
    (void)arg;
    goc_mutex *m = goc_mutex_new();
    TU_CHECK(m != NULL);
    if (m == NULL)
        return;
    TU_CHECK_INT_EQ(goc_mutex_lock(m), 0);
    lk_arg a, b;
    lk_init(&a, m, NULL, 0);
    lk_init(&b, m, NULL, 1);
    goc_task *ta = goc_spawn(lk_task, &a);
    TU_CHECK(ta != NULL);
    TU_CHECK(lk_wait_parked(&a, ta));
    goc_task *tb = goc_spawn(lk_task, &b);
    TU_CHECK(tb != NULL);
    TU_CHECK(lk_wait_parked(&b, tb));
    /* cancel the first waiter */
    int64_t t0 = goc_now();
    if (ta) {
        TU_CHECK_INT_EQ(goc_cancel(ta), 0);
        TU_CHECK_INT_EQ(goc_join(ta, NULL), GOC_ECANCELED);
    }
    TU_CHECK(goc_now() - t0 < 5 * TU_SEC);
    TU_CHECK_INT_EQ(a.rc, GOC_ECANCELED);
    TU_CHECK_INT_EQ(atomic_load(&a.acquired), 0);
    /* the lock skips it and goes to the second */
    TU_CHECK_INT_EQ(goc_mutex_unlock(m), 0);
    if (tb)
        TU_CHECK_INT_EQ(goc_join(tb, NULL), 0);
    TU_CHECK_INT_EQ(b.rc, 0);
    TU_CHECK_INT_EQ(b.unlock_rc, 0);
    /* and the mutex still works: free, lockable, waitable */
    TU_CHECK_INT_EQ(goc_mutex_trylock(m), 0);
    lk_init(&a, m, NULL, 2);
    ta = goc_spawn(lk_task, &a);
    TU_CHECK(ta != NULL);
    TU_CHECK(lk_wait_parked(&a, ta));
    if (ta) {
        TU_CHECK_INT_EQ(goc_cancel(ta), 0);
        TU_CHECK_INT_EQ(goc_join(ta, NULL), GOC_ECANCELED);
    }
    TU_CHECK_INT_EQ(goc_mutex_unlock(m), 0);
    /* not handed to the cancelled waiter */
    TU_CHECK_INT_EQ(goc_mutex_trylock(m), 0);
    TU_CHECK_INT_EQ(goc_mutex_unlock(m), 0);
    TU_CHECK_INT_EQ(goc_mutex_free(m), 0);
}

static void test_mutex_lock_cancelled(void **state)
{
    (void)state;
    TU_RUN(NULL, main_mutex_cancel, NULL);
}

/* The hand-off races the cancel: whoever wins, the lock is never lost
 * (handed to a waiter that then reports GOC_ECANCELED) nor doubled. Same
 * for a semaphore permit. */
typedef struct {
    long iters;
    int sem;          /* 0: mutex, 1: semaphore */
    long won, lost;   /* the waiter got it / was cancelled */
    atomic_long bad;
} hr_state;

static void main_handoff_race(void *arg)
{
    hr_state *s = arg;
    goc_mutex *m = s->sem ? NULL : goc_mutex_new();
    goc_sem *sm = s->sem ? goc_sem_new(0) : NULL;
    TU_CHECK(m || sm);
    if (!m && !sm)
        return;
    for (long it = 0; it < s->iters; it++) {
        if (m && goc_mutex_lock(m) != 0) {
            atomic_fetch_add(&s->bad, 1);
            break;
        }
        lk_arg a;
        lk_init(&a, m, sm, 0);
        goc_task *t = goc_spawn(lk_task, &a);
        TU_CHECK(t != NULL);
        if (t == NULL)
            break;
        for (long y = 0; y < it % 4; y++)
            goc_yield();
        int r1, r2 = 0;
        if (it % 2) {
            r1 = m ? goc_mutex_unlock(m) : goc_sem_release(sm);
            r2 = goc_cancel(t);
        } else {
            r2 = goc_cancel(t);
            r1 = m ? goc_mutex_unlock(m) : goc_sem_release(sm);
        }
        int jr = goc_join(t, NULL);
        /* join: GOC_ECANCELED, or 0 when the waiter had already finished
         * (with the lock) before the cancel came */
        int good = r1 == 0 && r2 == 0 &&
                   (jr == GOC_ECANCELED || (jr == 0 && a.rc == 0)) &&
                   (a.rc == GOC_ECANCELED || (a.rc == 0 && a.unlock_rc == 0));
        if (!good) {
            atomic_fetch_add(&s->bad, 1);
            tu_check_failed(__FILE__, __LINE__,
                            "iteration %ld: %s rc %d, cancel rc %d, join rc %d, "
                            "waiter rc %d, its %s rc %d",
                            it, m ? "unlock" : "release", r1, r2, jr, a.rc,
                            m ? "unlock" : "release", a.unlock_rc);
        }
        if (a.rc == 0)
            s->won++;
        else if (a.rc == GOC_ECANCELED)
            s->lost++;
        /* exactly one lock / permit is available again */
        if (m) {
            int tr = goc_mutex_trylock(m);
            if (tr != 0) {
                tu_check_failed(__FILE__, __LINE__,
                                "iteration %ld: the lock was lost (waiter rc %d)",
                                it, a.rc);
                atomic_fetch_add(&s->bad, 1);
                break;
            }
            goc_mutex_unlock(m);
        } else {
            int64_t v = goc_sem_value(sm);
            if (v != 1 || goc_sem_tryacquire(sm) != 0) {
                tu_check_failed(__FILE__, __LINE__,
                                "iteration %ld: %lld permits (want 1; waiter rc %d)",
                                it, (long long)v, a.rc);
                atomic_fetch_add(&s->bad, 1);
                break;
            }
        }
    }
    if (m)
        TU_CHECK_INT_EQ(goc_mutex_free(m), 0);
    else
        TU_CHECK_INT_EQ(goc_sem_free(sm), 0);
}

static void run_handoff_race(int sem)
{
    hr_state s;
    memset(&s, 0, sizeof s);
    s.iters = TU_SCALE(20000);
    s.sem = sem;
    TU_RUN(NULL, main_handoff_race, &s);
    assert_int_equal(atomic_load(&s.bad), 0);
    assert_int_equal(s.won + s.lost, s.iters);
    if (s.won == 0 || s.lost == 0)
        fail_msg("%s: the race never went both ways (won %ld, lost %ld)",
                 sem ? "semaphore" : "mutex", s.won, s.lost);
}

static void test_mutex_handoff_cancel_race(void **state)
{
    (void)state;
    run_handoff_race(0);
}

static void test_sem_handoff_cancel_race(void **state)
{
    (void)state;
    run_handoff_race(1);
}

/* ------------------------------------------------------- semaphores */

/* SM_N lanes (tu_lanes.h) each take one of SM_K permits per round, hold
 * it across a yield or a sleep, and give it back. */
#define SM_N 20
#define SM_K 3
typedef struct {
    goc_sem *s;
    atomic_int inside;
    atomic_int max_inside;
} sm_state;

enum sm_outcome { SM_HELD, SM_ACQUIRE_FAILED, SM_RELEASE_FAILED, SM_OUTCOMES };

static const char *const sm_outcome_names[SM_OUTCOMES] = {
    "held", "acquire failed", "release failed",
};

static int sm_step(tu_lanes *ls, int lane, long r)
{
    sm_state *s = ls->ctx;
    if (goc_sem_acquire(s->s) != 0) {
        tu_lanes_count(ls, lane, SM_ACQUIRE_FAILED);
        return 1;
    }
    int cur = atomic_fetch_add(&s->inside, 1) + 1;
    int mx = atomic_load(&s->max_inside);
    while (cur > mx && !atomic_compare_exchange_weak(&s->max_inside, &mx, cur)) {
    }
    if ((r + lane) % 4 == 0)
        goc_sleep(100000);
    else
        goc_yield();
    tu_lanes_count(ls, lane, SM_HELD);
    atomic_fetch_sub(&s->inside, 1);
    if (goc_sem_release(s->s) != 0)
        tu_lanes_count(ls, lane, SM_RELEASE_FAILED);
    return 1;
}

static void main_sem_limit(void *arg)
{
    tu_lanes *ls = arg;
    sm_state *s = ls->ctx;
    s->s = goc_sem_new(SM_K);
    TU_CHECK(s->s != NULL);
    if (!s->s)
        return;
    TU_CHECK_INT_EQ(goc_sem_value(s->s), SM_K);
    tu_lanes_run(ls);
    TU_CHECK_INT_EQ(goc_sem_value(s->s), SM_K);
    TU_CHECK_INT_EQ(goc_sem_free(s->s), 0);
}

static void test_sem_limits_holders(void **state)
{
    (void)state;
    static const int round_ends[] = {SM_HELD, SM_ACQUIRE_FAILED};
    sm_state s;
    memset(&s, 0, sizeof s);
    tu_lanes ls;
    tu_lanes_init(&ls, &(tu_lanes_spec){.name = "semaphore limit",
                                        .count = SM_N,
                                        .iters = 30,
                                        .step = sm_step,
                                        .ctx = &s,
                                        .outcome_names = sm_outcome_names,
                                        .outcomes = SM_OUTCOMES});
    TU_RUN(NULL, main_sem_limit, &ls);
    tu_lanes_assert_never(&ls, SM_ACQUIRE_FAILED);
    tu_lanes_assert_never(&ls, SM_RELEASE_FAILED);
    tu_lanes_assert_each_iteration_once(&ls, round_ends, 2);
    assert_int_equal(atomic_load(&s.inside), 0);
    /* never more than K, and K were reached */
    assert_int_equal(atomic_load(&s.max_inside), SM_K);
}

static void main_sem_basic(void *arg)
{
    (void)arg;
    goc_sem *s = goc_sem_new(2);
    TU_CHECK(s != NULL);
    if (s == NULL)
        return;
    TU_CHECK_INT_EQ(goc_sem_value(s), 2);
    TU_CHECK_INT_EQ(goc_sem_tryacquire(s), 0);
    TU_CHECK_INT_EQ(goc_sem_value(s), 1);
    TU_CHECK_INT_EQ(goc_sem_acquire(s), 0);
    TU_CHECK_INT_EQ(goc_sem_value(s), 0);
    TU_CHECK_INT_EQ(goc_sem_tryacquire(s), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_sem_value(s), 0);
    TU_CHECK_INT_EQ(goc_sem_release(s), 0);
    TU_CHECK_INT_EQ(goc_sem_value(s), 1);
    TU_CHECK_INT_EQ(goc_sem_release(s), 0);
    TU_CHECK_INT_EQ(goc_sem_release(s), 0); /* counting: past the start */
    TU_CHECK_INT_EQ(goc_sem_value(s), 3);
    for (int i = 0; i < 3; i++)
        TU_CHECK_INT_EQ(goc_sem_tryacquire(s), 0);
    TU_CHECK_INT_EQ(goc_sem_tryacquire(s), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_sem_free(s), 0); /* permits out, no waiters: fine */

    goc_sem *z = goc_sem_new(0);
    TU_CHECK(z != NULL);
    if (z == NULL)
        return;
    TU_CHECK_INT_EQ(goc_sem_value(z), 0);
    TU_CHECK_INT_EQ(goc_sem_tryacquire(z), GOC_EAGAIN);

    /* FIFO, handed to the waiter: release with waiters leaves value 0 */
    int order[5];
    atomic_int pos = 0;
    lk_arg a[5];
    goc_task *t[5];
    for (int i = 0; i < 5; i++) {
        order[i] = -1;
        lk_init(&a[i], NULL, z, i);
        a[i].release = 0;
        a[i].order = order;
        a[i].pos = &pos;
        t[i] = goc_spawn(lk_task, &a[i]);
        TU_CHECK(t[i] != NULL);
        TU_CHECK(lk_wait_parked(&a[i], t[i]));
    }
    TU_CHECK_INT_EQ(goc_sem_free(z), GOC_EBUSY);
    for (int i = 0; i < 5; i++) {
        TU_CHECK_INT_EQ(goc_sem_release(z), 0);
        TU_CHECK_INT_EQ(goc_sem_value(z), 0);
        int tr = goc_sem_tryacquire(z);
        TU_CHECK_INT_EQ(tr, GOC_EAGAIN);
        if (tr == 0)
            goc_sem_release(z);
        if (t[i])
            TU_CHECK_INT_EQ(goc_join(t[i], NULL), 0);
        TU_CHECK_INT_EQ(a[i].rc, 0);
        TU_CHECK_INT_EQ(order[i], i);
        /* the later ones are still waiting */
        for (int j = i + 1; j < 5; j++)
            TU_CHECK_INT_EQ(atomic_load(&a[j].acquired), 0);
    }
    TU_CHECK_INT_EQ(goc_sem_value(z), 0);
    TU_CHECK_INT_EQ(goc_sem_free(z), 0);

    /* bad input */
    TU_CHECK(goc_sem_new(-1) == NULL);
    TU_CHECK(goc_sem_new(INT64_MIN) == NULL);
    TU_CHECK_INT_EQ(goc_sem_acquire(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_sem_tryacquire(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_sem_release(NULL), GOC_EINVAL);
    int fr = goc_sem_free(NULL);
    TU_CHECK(fr == 0 || fr == GOC_EINVAL);
}

static void test_sem_basic(void **state)
{
    (void)state;
    TU_RUN(NULL, main_sem_basic, NULL);
}

static void main_sem_cancel(void *arg)
{
    (void)arg;
    goc_sem *s = goc_sem_new(0);
    TU_CHECK(s != NULL);
    if (s == NULL)
        return;
    lk_arg a, b;
    lk_init(&a, NULL, s, 0);
    lk_init(&b, NULL, s, 1);
    a.release = b.release = 0;
    goc_task *ta = goc_spawn(lk_task, &a);
    TU_CHECK(ta != NULL);
    TU_CHECK(lk_wait_parked(&a, ta));
    goc_task *tb = goc_spawn(lk_task, &b);
    TU_CHECK(tb != NULL);
    TU_CHECK(lk_wait_parked(&b, tb));
    int64_t t0 = goc_now();
    if (ta) {
        TU_CHECK_INT_EQ(goc_cancel(ta), 0);
        TU_CHECK_INT_EQ(goc_join(ta, NULL), GOC_ECANCELED);
    }
    TU_CHECK(goc_now() - t0 < 5 * TU_SEC);
    TU_CHECK_INT_EQ(a.rc, GOC_ECANCELED);
    TU_CHECK_INT_EQ(goc_sem_value(s), 0);
    /* the permit goes to the remaining waiter, not the cancelled one */
    TU_CHECK_INT_EQ(goc_sem_release(s), 0);
    if (tb)
        TU_CHECK_INT_EQ(goc_join(tb, NULL), 0);
    TU_CHECK_INT_EQ(b.rc, 0);
    TU_CHECK_INT_EQ(goc_sem_value(s), 0);
    /* cancel the only waiter: no permit leaked or created */
    lk_init(&a, NULL, s, 2);
    a.release = 0;
    ta = goc_spawn(lk_task, &a);
    TU_CHECK(ta != NULL);
    TU_CHECK(lk_wait_parked(&a, ta));
    if (ta) {
        TU_CHECK_INT_EQ(goc_cancel(ta), 0);
        TU_CHECK_INT_EQ(goc_join(ta, NULL), GOC_ECANCELED);
    }
    TU_CHECK_INT_EQ(a.rc, GOC_ECANCELED);
    TU_CHECK_INT_EQ(goc_sem_value(s), 0);
    TU_CHECK_INT_EQ(goc_sem_release(s), 0);
    TU_CHECK_INT_EQ(goc_sem_value(s), 1);
    TU_CHECK_INT_EQ(goc_sem_tryacquire(s), 0);
    TU_CHECK_INT_EQ(goc_sem_value(s), 0);
    TU_CHECK_INT_EQ(goc_sem_free(s), 0);
}

static void test_sem_acquire_cancelled(void **state)
{
    (void)state;
    TU_RUN(NULL, main_sem_cancel, NULL);
}

/* Releasing past INT64_MAX permits is bad input: it must not wrap the
 * count around to a negative number (nor be signed overflow, which UBSan
 * reports in the address build). */
static void test_sem_release_overflow(void **state)
{
    (void)state;
    goc_sem *s = goc_sem_new(INT64_MAX);
    assert_non_null(s);
    assert_true(goc_sem_value(s) == INT64_MAX);
    int r = goc_sem_release(s);
    if (r != 0 && r != GOC_EINVAL)
        fail_msg("release at INT64_MAX permits returned %d", r);
    int64_t v = goc_sem_value(s);
    if (v < 0)
        fail_msg("release at INT64_MAX permits wrapped the count to %lld",
                 (long long)v);
    assert_int_equal(goc_sem_tryacquire(s), 0);
    assert_int_equal(goc_sem_free(s), 0);
}

static void test_sem_outside_coroutine(void **state)
{
    (void)state;
    goc_sem *s = goc_sem_new(0);
    assert_non_null(s);
    int64_t t0 = tu_clock_ns();
    assert_int_equal(goc_sem_acquire(s), GOC_EPERM);
    assert_true(tu_clock_ns() - t0 < TU_SEC);
    assert_int_equal(goc_sem_tryacquire(s), GOC_EAGAIN);
    assert_int_equal(goc_sem_value(s), 0);
    assert_int_equal(goc_sem_free(s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutex_outside_coroutine),
        cmocka_unit_test(test_sem_outside_coroutine),
        cmocka_unit_test(test_mutex_mutual_exclusion),
        cmocka_unit_test(test_mutex_fifo_handoff),
        cmocka_unit_test(test_mutex_basic_errors),
        cmocka_unit_test(test_mutex_lock_cancelled),
        cmocka_unit_test(test_mutex_handoff_cancel_race),
        cmocka_unit_test(test_sem_limits_holders),
        cmocka_unit_test(test_sem_basic),
        cmocka_unit_test(test_sem_acquire_cancelled),
        cmocka_unit_test(test_sem_handoff_cancel_race),
        cmocka_unit_test(test_sem_release_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
