/*
 * test_gen.c - goc_gen: full iteration (lazy: the producer never runs
 * ahead), a consumer stopping early (the producer's cleanup runs, nothing
 * leaks under ASan), a generator that returns at once or is closed before
 * it starts (also with a goc_gen_next's demand standing: fn never runs),
 * goc_gen_next timeouts (never early, no value lost) and cancellation,
 * closing while the producer runs or while the closer is cancelled, bad
 * input, and many generators at once.
 */
#include "test_util.h"
#include "tu_whitebox.h"

#include <limits.h>

static void run_main(void (*fn)(void *))
{
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, fn, NULL);
}

/* Yields 1..n (n from the arg), counting what it produced; on close it
 * frees a buffer it allocated (ASan reports a leak if the cleanup never
 * runs) and records that. Value i is not produced before allow >= i: a
 * test that must see a next time out, or a next still waiting when it
 * acts, holds the value back this way instead of betting on work_ns
 * outlasting a short timeout (a worker may be descheduled for longer). */
typedef struct counter_arg {
    int n;
    int64_t work_ns;       /* sleep before each yield */
    atomic_int allow;      /* values that may be produced (INT_MAX: all) */
    atomic_int started;
    atomic_int produced;   /* yields made */
    atomic_int cleaned;    /* closed at a yield: cleanup done */
    atomic_int returned;   /* fn returned (any way) */
    int last_yield_rc;
} counter_arg;

static void counter_init(counter_arg *a, int n, int64_t work_ns)
{
    memset(a, 0, sizeof *a);
    a->n = n;
    a->work_ns = work_ns;
    atomic_store(&a->allow, INT_MAX);
    a->last_yield_rc = 12345;
}

static void counter_gen(goc_gen *g, void *arg)
{
    counter_arg *a = arg;
    atomic_store(&a->started, 1);
    char *scratch = malloc(256); /* leaks unless the cleanup below runs */
    for (int i = 1; i <= a->n; i++) {
        while (atomic_load(&a->allow) < i)
            goc_sleep(TU_MS);
        if (a->work_ns)
            goc_sleep(a->work_ns);
        atomic_fetch_add(&a->produced, 1);
        int rc = goc_gen_yield(g, &i);
        a->last_yield_rc = rc;
        if (rc == GOC_ECANCELED) {
            TU_CHECK_INT_EQ(goc_gen_yield(g, &i), GOC_ECANCELED); /* stays closed */
            free(scratch);
            atomic_store(&a->cleaned, 1);
            atomic_store(&a->returned, 1);
            return;
        }
        TU_CHECK_INT_EQ(rc, 0);
    }
    free(scratch);
    atomic_store(&a->returned, 1);
}

/* ---------------------------------------------------------- full / early */

static void main_full_iteration(void *arg)
{
    (void)arg;
    counter_arg a;
    counter_init(&a, 50, 0);
    goc_gen *g = goc_gen_new(sizeof(int), counter_gen, &a);
    TU_CHECK(g != NULL);
    goc_sleep(10 * TU_MS);
    TU_CHECK_INT_EQ(atomic_load(&a.started), 0); /* lazy: nothing asked yet */
    int v, want = 1;
    while (goc_gen_next(g, &v, -1) == 0) {
        TU_CHECK_INT_EQ(v, want);
        /* The producer waits at its yield: it never runs ahead. */
        goc_sleep(want % 10 == 0 ? TU_MS : 0);
        TU_CHECK_INT_EQ(atomic_load(&a.produced), want);
        want++;
    }
    TU_CHECK_INT_EQ(want, 51);
    TU_CHECK_INT_EQ(atomic_load(&a.returned), 1);
    TU_CHECK_INT_EQ(atomic_load(&a.cleaned), 0);
    TU_CHECK_INT_EQ(goc_gen_next(g, &v, -1), GOC_ECLOSED); /* and again */
    TU_CHECK_INT_EQ(goc_gen_next(g, &v, 0), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_gen_close(g), 0);
}

static void test_full_iteration(void **state)
{
    (void)state;
    run_main(main_full_iteration);
}

static void main_stop_early(void *arg)
{
    (void)arg;
    for (int stop = 1; stop <= 3; stop++) {
        counter_arg a;
        counter_init(&a, 100, stop == 2 ? TU_MS : 0);
        goc_gen *g = goc_gen_new(sizeof(int), counter_gen, &a);
        for (int i = 1; i <= stop; i++) {
            int v = 0;
            TU_CHECK_INT_EQ(goc_gen_next(g, &v, -1), 0);
            TU_CHECK_INT_EQ(v, i);
        }
        TU_CHECK_INT_EQ(goc_gen_close(g), 0);
        /* close returned: the producer's yield saw the close and its cleanup ran. */
        TU_CHECK_INT_EQ(atomic_load(&a.cleaned), 1);
        TU_CHECK_INT_EQ(atomic_load(&a.returned), 1);
        TU_CHECK_INT_EQ(a.last_yield_rc, GOC_ECANCELED);
        TU_CHECK_INT_EQ(atomic_load(&a.produced), stop);
    }
}

static void test_stop_early(void **state)
{
    (void)state;
    run_main(main_stop_early);
}

static void empty_gen(goc_gen *g, void *arg)
{
    (void)g;
    atomic_fetch_add((atomic_int *)arg, 1);
}

static void main_returns_at_once(void *arg)
{
    (void)arg;
    atomic_int ran = 0;
    goc_gen *g = goc_gen_new(sizeof(int), empty_gen, &ran);
    int v = 99;
    TU_CHECK_INT_EQ(goc_gen_next(g, &v, -1), GOC_ECLOSED);
    TU_CHECK_INT_EQ(v, 99);
    TU_CHECK_INT_EQ(atomic_load(&ran), 1);
    TU_CHECK_INT_EQ(goc_gen_close(g), 0);

    /* Closed before anything was asked: fn never runs. */
    g = goc_gen_new(sizeof(int), empty_gen, &ran);
    TU_CHECK_INT_EQ(goc_gen_close(g), 0);
    g = goc_gen_new(sizeof(int), empty_gen, &ran);
    goc_sleep(5 * TU_MS); /* its coroutine has started and waits */
    TU_CHECK_INT_EQ(goc_gen_close(g), 0);
    counter_arg a;
    counter_init(&a, 10, 0);
    g = goc_gen_new(sizeof(int), counter_gen, &a);
    TU_CHECK_INT_EQ(goc_gen_close(g), 0);
    TU_CHECK_INT_EQ(atomic_load(&ran), 1);
    TU_CHECK_INT_EQ(atomic_load(&a.started), 0);
}

static void test_returns_at_once(void **state)
{
    (void)state;
    run_main(main_returns_at_once);
}

/* elem_size 0: a generator of ticks. */
static void tick_gen(goc_gen *g, void *arg)
{
    int n = *(int *)arg;
    for (int i = 0; i < n; i++)
        if (goc_gen_yield(g, NULL) != 0)
            return;
}

static void main_ticks(void *arg)
{
    (void)arg;
    int n = 7, got = 0;
    goc_gen *g = goc_gen_new(0, tick_gen, &n);
    while (goc_gen_next(g, NULL, -1) == 0)
        got++;
    TU_CHECK_INT_EQ(got, 7);
    TU_CHECK_INT_EQ(goc_gen_close(g), 0);
}

static void test_ticks(void **state)
{
    (void)state;
    run_main(main_ticks);
}

/* ---------------------------------------------------- timeouts and cancel */

/* Each value is held back (allow) until the timeouts the test wants have
 * happened: a value that merely takes longer than the timeout can still
 * win when the consumer's worker is descheduled past its timer. */
static void main_next_timeout(void *arg)
{
    (void)arg;
    counter_arg a;
    counter_init(&a, 5, 0);
    atomic_store(&a.allow, 0);
    goc_gen *g = goc_gen_new(sizeof(int), counter_gen, &a);
    int v = -1, want = 1;
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_gen_next(g, &v, 5 * TU_MS), GOC_ETIMEDOUT);
    TU_CHECK(goc_now() - t0 >= 5 * TU_MS);
    TU_CHECK_INT_EQ(v, -1);
    /* The value asked for is not lost: the next call gets it. */
    atomic_store(&a.allow, 1);
    TU_CHECK_INT_EQ(goc_gen_next(g, &v, -1), 0);
    TU_CHECK_INT_EQ(v, want++);
    /* timeout 0 asks, returns GOC_EAGAIN; the value comes later, once
     * however often we poll. */
    TU_CHECK_INT_EQ(goc_gen_next(g, &v, 0), GOC_EAGAIN);
    int rc, polls = 0;
    int64_t end = goc_now() + 10 * TU_SEC;
    while ((rc = goc_gen_next(g, &v, 0)) == GOC_EAGAIN && goc_now() < end) {
        if (++polls == 3)
            atomic_store(&a.allow, 2); /* it comes after a few polls */
        goc_sleep(TU_MS);
    }
    TU_CHECK_INT_EQ(rc, 0);
    TU_CHECK(polls >= 3);
    TU_CHECK_INT_EQ(v, want++);
    TU_CHECK_INT_EQ(atomic_load(&a.produced), want - 1);
    /* Several timeouts in a row for one value: still exactly once. */
    while (want <= 5) {
        for (int k = 0; k < 3; k++)
            TU_CHECK_INT_EQ(goc_gen_next(g, &v, 2 * TU_MS), GOC_ETIMEDOUT);
        atomic_store(&a.allow, want);
        while ((rc = goc_gen_next(g, &v, 2 * TU_MS)) == GOC_ETIMEDOUT && goc_now() < end)
            ;
        TU_CHECK_INT_EQ(rc, 0);
        TU_CHECK_INT_EQ(v, want++);
        TU_CHECK_INT_EQ(atomic_load(&a.produced), want - 1);
    }
    TU_CHECK_INT_EQ(goc_gen_next(g, &v, 10 * TU_SEC), GOC_ECLOSED);
    TU_CHECK_INT_EQ(atomic_load(&a.produced), 5);
    TU_CHECK_INT_EQ(goc_gen_close(g), 0);
}

static void test_next_timeout(void **state)
{
    (void)state;
    run_main(main_next_timeout);
}

typedef struct {
    goc_gen *g;
    int64_t timeout;
    int rc;
    int value;
    atomic_int entered;
    int close_rc;
    int close_after; /* call goc_gen_close after next returns */
    int cancelled_first; /* wait to be cancelled before calling next */
} next_arg;

static void *next_caller(void *arg)
{
    next_arg *n = arg;
    atomic_store(&n->entered, 1);
    while (n->cancelled_first && goc_sleep(TU_SEC) == 0)
        ;
    n->rc = goc_gen_next(n->g, &n->value, n->timeout);
    if (n->close_after)
        n->close_rc = goc_gen_close(n->g);
    return NULL;
}

static void main_next_cancelled(void *arg)
{
    (void)arg;
    counter_arg a;
    counter_init(&a, 3, 0);
    atomic_store(&a.allow, 0); /* no value while the consumer is cancelled */
    goc_gen *g = goc_gen_new(sizeof(int), counter_gen, &a);
    for (int timed = 0; timed < 2; timed++) {
        next_arg n = { .g = g, .timeout = timed ? 100 * TU_SEC : -1, .rc = 12345, .value = -1 };
        goc_task *t = goc_spawn(next_caller, &n);
        TU_CHECK(tu_wait_parked(t, 30 * TU_SEC)); /* inside goc_gen_next */
        goc_cancel(t);
        goc_join(t, NULL);
        TU_CHECK_INT_EQ(n.rc, GOC_ECANCELED);
        TU_CHECK_INT_EQ(n.value, -1);
        atomic_store(&a.allow, timed + 1);
        int v = -1;
        TU_CHECK_INT_EQ(goc_gen_next(g, &v, -1), 0); /* the value was kept */
        TU_CHECK_INT_EQ(v, timed + 1);
    }
    atomic_store(&a.allow, INT_MAX); /* from here on fn may run whenever asked */
    /* A consumer cancelled before it asks asks for nothing. */
    next_arg n = { .g = g, .timeout = -1, .rc = 12345, .cancelled_first = 1 };
    goc_task *t = goc_spawn(next_caller, &n);
    TU_CHECK(tu_wait_flag(&n.entered, 10 * TU_SEC));
    goc_cancel(t);
    goc_join(t, NULL);
    TU_CHECK_INT_EQ(n.rc, GOC_ECANCELED);
    goc_sleep(60 * TU_MS);
    TU_CHECK_INT_EQ(atomic_load(&a.produced), 2);
    int v;
    TU_CHECK_INT_EQ(goc_gen_next(g, &v, -1), 0);
    TU_CHECK_INT_EQ(v, 3);
    TU_CHECK_INT_EQ(goc_gen_close(g), 0);
}

static void test_next_cancelled(void **state)
{
    (void)state;
    run_main(main_next_cancelled);
}

/* Opens a's gate a little later, while the caller waits in goc_gen_close. */
static void *allow_later(void *arg)
{
    counter_arg *a = arg;
    goc_sleep(20 * TU_MS);
    atomic_store(&a->allow, INT_MAX);
    return NULL;
}

/* Close while fn runs: a timed-out next still asked, so fn starts; it is
 * held before its first yield (however late it got a worker: we wait for
 * its started flag, not for some milliseconds). Close waits until fn
 * reaches that yield, which returns GOC_ECANCELED, and fn cleans up. */
static void main_close_while_running(void *arg)
{
    (void)arg;
    counter_arg a;
    counter_init(&a, 10, 0);
    atomic_store(&a.allow, 0);
    goc_gen *g = goc_gen_new(sizeof(int), counter_gen, &a);
    int v;
    TU_CHECK_INT_EQ(goc_gen_next(g, &v, 5 * TU_MS), GOC_ETIMEDOUT); /* held: cannot come */
    TU_CHECK(tu_wait_flag(&a.started, 30 * TU_SEC));
    TU_CHECK_INT_EQ(atomic_load(&a.produced), 0);
    goc_task *t = goc_spawn(allow_later, &a);
    TU_CHECK_INT_EQ(goc_gen_close(g), 0);
    TU_CHECK_INT_EQ(atomic_load(&a.cleaned), 1);
    TU_CHECK_INT_EQ(atomic_load(&a.returned), 1);
    TU_CHECK_INT_EQ(atomic_load(&a.produced), 1);
    TU_CHECK_INT_EQ(a.last_yield_rc, GOC_ECANCELED);
    TU_CHECK_INT_EQ(goc_join(t, NULL), 0);

    /* Close with a value yielded for a timed-out next and not taken. */
    counter_init(&a, 10, 0);
    atomic_store(&a.allow, 0);
    g = goc_gen_new(sizeof(int), counter_gen, &a);
    TU_CHECK_INT_EQ(goc_gen_next(g, &v, 1 * TU_MS), GOC_ETIMEDOUT);
    atomic_store(&a.allow, INT_MAX);
    int64_t end = goc_now() + 30 * TU_SEC;
    while (atomic_load(&a.produced) < 1 && goc_now() < end)
        goc_sleep(TU_MS);
    TU_CHECK_INT_EQ(atomic_load(&a.produced), 1);
    /* Most likely fn now waits in its yield with the value kept; if the
     * close comes first, the yield sees it: the same outcome either way. */
    goc_sleep(2 * TU_MS);
    TU_CHECK_INT_EQ(goc_gen_close(g), 0);
    TU_CHECK_INT_EQ(atomic_load(&a.cleaned), 1);
    TU_CHECK_INT_EQ(atomic_load(&a.produced), 1);
}

static void test_close_while_running(void **state)
{
    (void)state;
    run_main(main_close_while_running);
}

/* Close before fn started, with a demand standing (a next with timeout 0
 * asked and returned at once): fn never runs, neither body nor cleanup,
 * also when the generator's coroutine was already waiting for the demand
 * and was handed it (the second round; the first closes before it ever
 * ran). On one worker nothing runs between our next and our close, so fn
 * cannot have started: exactly that is checked. With more workers another
 * one may start fn in between; then fn runs to its first yield, which
 * sees the close: either nothing ran or fn ran and cleaned up, never a
 * body without its cleanup. */
static void main_close_before_start(void *arg)
{
    (void)arg;
    for (int round = 0; round < 2; round++) {
        counter_arg a;
        counter_init(&a, 10, 0);
        goc_gen *g = goc_gen_new(sizeof(int), counter_gen, &a);
        if (round == 1)
            goc_sleep(5 * TU_MS); /* its coroutine starts and waits (either way is fine) */
        int v = -1;
        TU_CHECK_INT_EQ(goc_gen_next(g, &v, 0), GOC_EAGAIN);
        TU_CHECK_INT_EQ(goc_gen_close(g), 0);
        int started = atomic_load(&a.started);
        if (goc_workers() == 1)
            TU_CHECK_INT_EQ(started, 0);
        TU_CHECK_INT_EQ(atomic_load(&a.returned), started);
        TU_CHECK_INT_EQ(atomic_load(&a.cleaned), started);
        TU_CHECK_INT_EQ(atomic_load(&a.produced), started);
        TU_CHECK_INT_EQ(v, -1);
    }
}

static void test_close_before_start(void **state)
{
    (void)state;
    run_main(main_close_before_start);
}

/* A generator whose cleanup takes a while; the consumer is cancelled and
 * closes it as part of its own cleanup: close still waits for fn. */
typedef struct {
    atomic_int cleaned;
} slow_arg;

static void slow_cleanup_gen(goc_gen *g, void *arg)
{
    slow_arg *s = arg;
    for (int i = 0;; i++) {
        if (goc_gen_yield(g, &i) != 0)
            break;
    }
    int64_t end = goc_now() + 30 * TU_MS;
    while (goc_now() < end)
        goc_yield();
    atomic_store(&s->cleaned, 1);
}

typedef struct {
    slow_arg s;
    atomic_int entered;
    atomic_int cleaned_at_close;
    int close_rc;
} consumer_arg;

static void *cancelled_consumer(void *arg)
{
    consumer_arg *c = arg;
    goc_gen *g = goc_gen_new(sizeof(int), slow_cleanup_gen, &c->s);
    int v;
    TU_CHECK_INT_EQ(goc_gen_next(g, &v, -1), 0);
    atomic_store(&c->entered, 1);
    while (goc_sleep(TU_SEC) == 0) /* until cancelled */
        ;
    c->close_rc = goc_gen_close(g);
    atomic_store(&c->cleaned_at_close, atomic_load(&c->s.cleaned));
    return NULL;
}

static void main_close_cancelled_consumer(void *arg)
{
    (void)arg;
    consumer_arg c;
    memset(&c, 0, sizeof c);
    goc_task *t = goc_spawn(cancelled_consumer, &c);
    TU_CHECK(tu_wait_flag(&c.entered, 10 * TU_SEC));
    goc_cancel(t);
    goc_join(t, NULL);
    TU_CHECK_INT_EQ(c.close_rc, 0);
    TU_CHECK_INT_EQ(atomic_load(&c.cleaned_at_close), 1);
}

static void test_close_cancelled_consumer(void **state)
{
    (void)state;
    run_main(main_close_cancelled_consumer);
}

/* ------------------------------------------------------------- bad input */

typedef struct {
    goc_gen *other;
    int next_rc, close_rc, yield_null_rc;
} self_use_arg;

static void self_use_gen(goc_gen *g, void *arg)
{
    self_use_arg *s = arg;
    int v = 1;
    s->next_rc = goc_gen_next(g, &v, 0);
    s->close_rc = goc_gen_close(g);
    s->yield_null_rc = goc_gen_yield(g, NULL);
    goc_gen_yield(g, &v);
}

static void main_gen_bad_input(void *arg)
{
    (void)arg;
    int v = 0;
    TU_CHECK(goc_gen_new(sizeof(int), NULL, NULL) == NULL);
    TU_CHECK(goc_gen_new(SIZE_MAX, empty_gen, NULL) == NULL);
    TU_CHECK_INT_EQ(goc_gen_next(NULL, &v, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_gen_yield(NULL, &v), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_gen_close(NULL), GOC_EINVAL);

    /* Misuse from inside fn. */
    self_use_arg s = { 0 };
    goc_gen *g = goc_gen_new(sizeof(int), self_use_gen, &s);
    TU_CHECK_INT_EQ(goc_gen_next(g, &v, -1), 0);
    TU_CHECK_INT_EQ(v, 1);
    TU_CHECK_INT_EQ(s.next_rc, GOC_EINVAL);
    TU_CHECK_INT_EQ(s.close_rc, GOC_EINVAL);
    TU_CHECK_INT_EQ(s.yield_null_rc, GOC_EINVAL);
    /* Yield from a coroutine that is not the generator's. */
    TU_CHECK_INT_EQ(goc_gen_yield(g, &v), GOC_EINVAL);
    /* Two consumers at once: the second gets GOC_EBUSY, close too. The
     * first one is parked in goc_gen_next, its value held back. */
    counter_arg a;
    counter_init(&a, 3, 0);
    atomic_store(&a.allow, 0);
    goc_gen *g2 = goc_gen_new(sizeof(int), counter_gen, &a);
    next_arg n = { .g = g2, .timeout = -1, .rc = 12345 };
    goc_task *t = goc_spawn(next_caller, &n);
    TU_CHECK(tu_wait_parked(t, 30 * TU_SEC));
    TU_CHECK_INT_EQ(goc_gen_next(g2, &v, -1), GOC_EBUSY);
    TU_CHECK_INT_EQ(goc_gen_close(g2), GOC_EBUSY);
    atomic_store(&a.allow, INT_MAX);
    goc_join(t, NULL);
    TU_CHECK_INT_EQ(n.rc, 0);
    TU_CHECK_INT_EQ(n.value, 1);
    TU_CHECK_INT_EQ(goc_gen_close(g2), 0);
    TU_CHECK_INT_EQ(goc_gen_close(g), 0);
}

static void test_gen_bad_input(void **state)
{
    (void)state;
    run_main(main_gen_bad_input);
}

static void test_gen_outside_coroutine(void **state)
{
    (void)state;
    atomic_int ran = 0;
    assert_null(goc_gen_new(sizeof(int), empty_gen, &ran));
    assert_int_equal(goc_gen_next(NULL, NULL, 0), GOC_EINVAL);
    assert_int_equal(goc_gen_close(NULL), GOC_EINVAL);
    assert_int_equal(atomic_load(&ran), 0);
}

/* --------------------------------------------------------------- many */

typedef struct {
    int n, stop;       /* stop early after stop values (0: consume all) */
    long long sum;
    counter_arg a;
} many_arg;

static void *many_consumer(void *arg)
{
    many_arg *m = arg;
    goc_gen *g = goc_gen_new(sizeof(int), counter_gen, &m->a);
    TU_CHECK(g != NULL);
    int v, got = 0;
    while ((!m->stop || got < m->stop) && goc_gen_next(g, &v, got % 2 ? -1 : 100 * TU_SEC) == 0) {
        m->sum += v;
        got++;
        if (got % 8 == 0)
            goc_yield();
    }
    TU_CHECK_INT_EQ(goc_gen_close(g), 0);
    TU_CHECK_INT_EQ(atomic_load(&m->a.returned), 1);
    return NULL;
}

static void main_many(void *arg)
{
    (void)arg;
    int ngen = TU_SCALE(400) + 4;
    many_arg *ms = calloc((size_t)ngen, sizeof *ms);
    goc_task **ts = calloc((size_t)ngen, sizeof *ts);
    for (int i = 0; i < ngen; i++) {
        ms[i].n = 50 + i % 13;
        ms[i].stop = i % 3 == 0 ? 1 + i % 17 : 0;
        counter_init(&ms[i].a, ms[i].n, 0);
        ts[i] = goc_spawn(many_consumer, &ms[i]);
    }
    TU_CHECK_INT_EQ(goc_gather(ts, (size_t)ngen, NULL, NULL, 0), 0);
    for (int i = 0; i < ngen; i++) {
        long long k = ms[i].stop ? ms[i].stop : ms[i].n;
        TU_CHECK_INT_EQ(ms[i].sum, k * (k + 1) / 2);
        TU_CHECK_INT_EQ(atomic_load(&ms[i].a.cleaned), ms[i].stop ? 1 : 0);
    }
    free(ms);
    free(ts);
}

static void test_many(void **state)
{
    (void)state;
    run_main(main_many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen_outside_coroutine),
        cmocka_unit_test(test_full_iteration),
        cmocka_unit_test(test_stop_early),
        cmocka_unit_test(test_returns_at_once),
        cmocka_unit_test(test_ticks),
        cmocka_unit_test(test_next_timeout),
        cmocka_unit_test(test_next_cancelled),
        cmocka_unit_test(test_close_while_running),
        cmocka_unit_test(test_close_before_start),
        cmocka_unit_test(test_close_cancelled_consumer),
        cmocka_unit_test(test_gen_bad_input),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
