/*
 * test_chan.c - channels: unbuffered rendezvous, buffered FIFO order,
 * multi-producer multi-consumer stress, close (drain, wake-ups, errors),
 * trysend/tryrecv, signal channels, discarding receives, len/cap, bad
 * input, goc_chan_free (GOC_EBUSY, and freeing right after the last
 * operation while the other side is still returning), the concurrent prime
 * sieve, cancellation and timeout races with exact accounting, and
 * GOC_EPERM outside coroutines.
 */
#include "test_util.h"
#include "tu_whitebox.h"
#include "tu_lanes.h"

#include <limits.h>
#include <pthread.h>
#include <unistd.h>
#include <sched.h>

#if defined(TU_ASAN)
/* goc_chan_make must answer NULL for sizes that overflow. If the library
 * passes such a size on to calloc, let ASan's allocator return NULL (as
 * glibc's does) instead of aborting: a wrapped-around small allocation is
 * still caught, because then the result is not NULL. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
#endif

/* ------------------------------------------------------------- helpers */

/* One blocking operation run by a task, with its outcome. */
typedef struct {
    goc_chan *ch;
    int val;  /* the value to send */
    int got;  /* the value received */
    int rc;
    atomic_int started;
    atomic_int done;
} op_arg;

static void op_init(op_arg *o, goc_chan *ch, int val)
{
    memset(o, 0, sizeof *o);
    o->ch = ch;
    o->val = val;
    o->got = -1;
    o->rc = 12345;
}

static void *op_send(void *arg)
{
    op_arg *o = arg;
    atomic_store(&o->started, 1);
    o->rc = goc_chan_send(o->ch, &o->val);
    atomic_store(&o->done, 1);
    return NULL;
}

static void *op_recv(void *arg)
{
    op_arg *o = arg;
    atomic_store(&o->started, 1);
    o->rc = goc_chan_recv(o->ch, &o->got);
    atomic_store(&o->done, 1);
    return NULL;
}

/* Wait until the task t running o is parked in its call: queued on the
 * channel, where a try call or a free finds it. (Not "it started and 30 ms
 * passed": its worker may be descheduled for longer.) Returns 1 if it is
 * (and so still blocked). */
static int wait_parked(op_arg *o, goc_task *t)
{
    if (!tu_wait_parked(t, 30 * TU_SEC))
        return 0;
    return atomic_load(&o->done) == 0;
}

/* ------------------------------------------------ unbuffered rendezvous */

typedef struct {
    goc_chan *ch;
    int n;
    atomic_int sent; /* sends that have returned 0 */
} rv_state;

static void *rv_sender(void *arg)
{
    rv_state *s = arg;
    for (int i = 1; i <= s->n; i++) {
        int v = i;
        int r = goc_chan_send(s->ch, &v);
        TU_CHECK_INT_EQ(r, 0);
        if (r != 0)
            break;
        atomic_fetch_add(&s->sent, 1);
    }
    return NULL;
}

static void main_rendezvous(void *arg)
{
    rv_state *s = arg;
    s->ch = goc_chan_make(sizeof(int), 0);
    TU_CHECK(s->ch != NULL);
    if (s->ch == NULL)
        return;
    TU_CHECK_INT_EQ(goc_chan_cap(s->ch), 0);
    goc_task *t = goc_spawn(rv_sender, s);
    TU_CHECK(t != NULL);
    if (t == NULL)
        return;
    /* nobody receives yet: the first send cannot have completed */
    goc_sleep(50 * TU_MS);
    TU_CHECK_INT_EQ(atomic_load(&s->sent), 0);
    for (int i = 1; i <= s->n; i++) {
        /* give the sender every chance to run ahead if it could */
        for (int k = 0; k < 3; k++)
            goc_yield();
        if (i % 40 == 0)
            goc_sleep(TU_MS);
        /* i - 1 values were taken so far: at most i - 1 sends are done */
        int sent = atomic_load(&s->sent);
        if (sent > i - 1)
            TU_CHECK_INT_EQ(sent, i - 1);
        int v = 0;
        TU_CHECK_INT_EQ(goc_chan_recv(s->ch, &v), 0);
        TU_CHECK_INT_EQ(v, i);
    }
    TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    TU_CHECK_INT_EQ(atomic_load(&s->sent), s->n);
    TU_CHECK_INT_EQ(goc_chan_len(s->ch), 0);
    TU_CHECK_INT_EQ(goc_chan_free(s->ch), 0);
}

static void test_unbuffered_rendezvous(void **state)
{
    (void)state;
    rv_state s;
    memset(&s, 0, sizeof s);
    s.n = 200;
    TU_RUN(NULL, main_rendezvous, &s);
    assert_int_equal(atomic_load(&s.sent), 200);
}

/* -------------------------------------------------- buffered FIFO order */

typedef struct {
    uint64_t seq;
    uint64_t neg;   /* ~seq: catches torn copies */
    char tag[8];
} big_elem;

typedef struct {
    goc_chan *ch;
    long n;
} fifo_arg;

static void *fifo_producer(void *arg)
{
    fifo_arg *f = arg;
    for (long i = 0; i < f->n; i++) {
        big_elem e;
        e.seq = (uint64_t)i;
        e.neg = ~(uint64_t)i;
        snprintf(e.tag, sizeof e.tag, "v%ld", i % 100000);
        int r = goc_chan_send(f->ch, &e);
        TU_CHECK_INT_EQ(r, 0);
        if (r != 0)
            break;
        if (i % 97 == 0)
            goc_yield();
    }
    return NULL;
}

static void main_fifo(void *arg)
{
    (void)arg;
    /* 1. single coroutine: fill, overfill, drain, and wrap the ring */
    goc_chan *b = goc_chan_make(sizeof(int), 5);
    TU_CHECK(b != NULL);
    if (b == NULL)
        return;
    TU_CHECK_INT_EQ(goc_chan_cap(b), 5);
    for (int i = 0; i < 5; i++) {
        TU_CHECK_INT_EQ(goc_chan_trysend(b, &i), 0);
        TU_CHECK_INT_EQ(goc_chan_len(b), i + 1);
    }
    int x = 99;
    TU_CHECK_INT_EQ(goc_chan_trysend(b, &x), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_chan_len(b), 5);
    for (int i = 0; i < 5; i++) {
        int v = -1;
        TU_CHECK_INT_EQ(goc_chan_tryrecv(b, &v), 0);
        TU_CHECK_INT_EQ(v, i);
    }
    TU_CHECK_INT_EQ(goc_chan_tryrecv(b, &x), GOC_EAGAIN);
    TU_CHECK_INT_EQ(x, 99); /* untouched on failure */
    /* keep 3 in flight while going around the ring many times */
    int next_in = 0, next_out = 0;
    for (int i = 0; i < 3; i++, next_in++)
        TU_CHECK_INT_EQ(goc_chan_send(b, &next_in), 0);
    for (int round = 0; round < 1000; round++) {
        TU_CHECK_INT_EQ(goc_chan_send(b, &next_in), 0);
        next_in++;
        int v = -1;
        TU_CHECK_INT_EQ(goc_chan_recv(b, &v), 0);
        if (v != next_out)
            TU_CHECK_INT_EQ(v, next_out);
        next_out++;
        TU_CHECK_INT_EQ(goc_chan_len(b), 3);
    }
    TU_CHECK_INT_EQ(goc_chan_free(b), 0); /* buffered values are not waiters */

    /* 2. producer and consumer coroutines, several capacities, a 24-byte
     * element */
    static const size_t caps[] = {1, 3, 16, 1000};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        fifo_arg f;
        f.n = 20000;
        f.ch = goc_chan_make(sizeof(big_elem), caps[c]);
        TU_CHECK(f.ch != NULL);
        if (f.ch == NULL)
            return;
        goc_task *t = goc_spawn(fifo_producer, &f);
        TU_CHECK(t != NULL);
        long bad = 0;
        for (long i = 0; i < f.n; i++) {
            big_elem e;
            memset(&e, 0xab, sizeof e);
            int r = goc_chan_recv(f.ch, &e);
            char want_tag[8];
            snprintf(want_tag, sizeof want_tag, "v%ld", i % 100000);
            if (r != 0 || e.seq != (uint64_t)i || e.neg != ~(uint64_t)i ||
                strcmp(e.tag, want_tag) != 0) {
                if (bad++ < 3)
                    tu_check_failed(__FILE__, __LINE__,
                                    "cap %zu: element %ld: rc %d seq %llu",
                                    caps[c], i, r, (unsigned long long)e.seq);
            }
            if (i % 89 == 0)
                goc_yield();
        }
        if (t)
            TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
        TU_CHECK_INT_EQ(goc_chan_len(f.ch), 0);
        TU_CHECK_INT_EQ(goc_chan_free(f.ch), 0);
    }
}

static void test_buffered_fifo(void **state)
{
    (void)state;
    TU_RUN(NULL, main_fifo, NULL);
}

/* ------------------------------------------- many producers, many consumers */

#define MP_P 8
#define MP_C 8

typedef struct mp_state mp_state;
typedef struct {
    mp_state *s;
    int id;
} mp_arg;

struct mp_state {
    goc_chan *ch;
    long n; /* values per producer */
    goc_wg *prod_wg;
    goc_wg *cons_wg;
    atomic_llong sum;
    atomic_long count;
    atomic_long dup;
    atomic_long order_bad;
    atomic_long send_err;
    atomic_uchar *seen;
    mp_arg pargs[MP_P];
    mp_arg cargs[MP_C];
};

static void mp_producer(void *arg)
{
    mp_arg *a = arg;
    mp_state *s = a->s;
    for (long i = 0; i < s->n; i++) {
        long v = (long)a->id * s->n + i;
        if (goc_chan_send(s->ch, &v) != 0)
            atomic_fetch_add(&s->send_err, 1);
        if ((i + a->id) % 64 == 0)
            goc_yield();
    }
    goc_wg_done(s->prod_wg);
}

static void mp_consumer(void *arg)
{
    mp_arg *a = arg;
    mp_state *s = a->s;
    long last[MP_P];
    for (int p = 0; p < MP_P; p++)
        last[p] = -1;
    long long sum = 0;
    long count = 0;
    for (;;) {
        long v = -1;
        int r = goc_chan_recv(s->ch, &v);
        if (r == GOC_ECLOSED)
            break;
        TU_CHECK_INT_EQ(r, 0);
        if (r != 0)
            break;
        if (v < 0 || v >= (long)MP_P * s->n) {
            TU_CHECK(v >= 0 && v < (long)MP_P * s->n);
            continue;
        }
        if (atomic_exchange(&s->seen[v], 1) != 0)
            atomic_fetch_add(&s->dup, 1);
        /* one producer's values reach any one consumer in order */
        int p = (int)(v / s->n);
        if (v <= last[p])
            atomic_fetch_add(&s->order_bad, 1);
        last[p] = v;
        sum += v;
        count++;
        if ((count + a->id) % 50 == 0)
            goc_yield();
    }
    atomic_fetch_add(&s->sum, sum);
    atomic_fetch_add(&s->count, count);
    goc_wg_done(s->cons_wg);
}

static void main_mpmc(void *arg)
{
    mp_state *s = arg;
    static const size_t caps[] = {0, 1, 16};
    long total = (long)MP_P * s->n;
    s->seen = calloc((size_t)total, sizeof *s->seen);
    TU_CHECK(s->seen != NULL);
    if (s->seen == NULL)
        return;
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        memset((void *)s->seen, 0, (size_t)total * sizeof *s->seen);
        atomic_store(&s->sum, 0);
        atomic_store(&s->count, 0);
        atomic_store(&s->dup, 0);
        atomic_store(&s->order_bad, 0);
        atomic_store(&s->send_err, 0);
        s->ch = goc_chan_make(sizeof(long), caps[c]);
        s->prod_wg = goc_wg_new();
        s->cons_wg = goc_wg_new();
        TU_CHECK(s->ch && s->prod_wg && s->cons_wg);
        if (!s->ch || !s->prod_wg || !s->cons_wg)
            return;
        goc_wg_add(s->prod_wg, MP_P);
        goc_wg_add(s->cons_wg, MP_C);
        for (int i = 0; i < MP_C; i++) {
            s->cargs[i].s = s;
            s->cargs[i].id = i;
            TU_CHECK_INT_EQ(goc_go(mp_consumer, &s->cargs[i]), 0);
        }
        for (int i = 0; i < MP_P; i++) {
            s->pargs[i].s = s;
            s->pargs[i].id = i;
            TU_CHECK_INT_EQ(goc_go(mp_producer, &s->pargs[i]), 0);
        }
        TU_CHECK_INT_EQ(goc_wg_wait(s->prod_wg), 0);
        TU_CHECK_INT_EQ(goc_chan_close(s->ch), 0);
        TU_CHECK_INT_EQ(goc_wg_wait(s->cons_wg), 0);
        long long want = (long long)total * (total - 1) / 2;
        if (atomic_load(&s->count) != total || atomic_load(&s->sum) != want ||
            atomic_load(&s->dup) != 0 || atomic_load(&s->order_bad) != 0 ||
            atomic_load(&s->send_err) != 0)
            tu_check_failed(__FILE__, __LINE__,
                            "cap %zu: count %ld (want %ld) sum %lld (want %lld) "
                            "dup %ld order_bad %ld send_err %ld",
                            caps[c], atomic_load(&s->count), total,
                            (long long)atomic_load(&s->sum), want,
                            atomic_load(&s->dup), atomic_load(&s->order_bad),
                            atomic_load(&s->send_err));
        TU_CHECK_INT_EQ(goc_chan_len(s->ch), 0);
        TU_CHECK_INT_EQ(goc_chan_free(s->ch), 0);
        goc_wg_free(s->prod_wg);
        goc_wg_free(s->cons_wg);
    }
    free((void *)s->seen);
}

static void test_mpmc_stress(void **state)
{
    (void)state;
    mp_state *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->n = TU_SCALE(20000);
    TU_RUN(NULL, main_mpmc, s);
    free(s);
}

/* ---------------------------------------------------------------- close */

static void main_close_drains(void *arg)
{
    (void)arg;
    goc_chan *ch = goc_chan_make(sizeof(int), 8);
    TU_CHECK(ch != NULL);
    if (ch == NULL)
        return;
    for (int i = 10; i < 15; i++)
        TU_CHECK_INT_EQ(goc_chan_send(ch, &i), 0);
    TU_CHECK_INT_EQ(goc_chan_close(ch), 0);
    TU_CHECK_INT_EQ(goc_chan_len(ch), 5);
    TU_CHECK_INT_EQ(goc_chan_cap(ch), 8);
    /* no more sends, by any route */
    int x = 1;
    TU_CHECK_INT_EQ(goc_chan_send(ch, &x), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_trysend(ch, &x), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_len(ch), 5);
    /* the buffered values come out first, in order */
    for (int i = 10; i < 15; i++) {
        int v = -1;
        int r = (i % 2) ? goc_chan_recv(ch, &v) : goc_chan_tryrecv(ch, &v);
        TU_CHECK_INT_EQ(r, 0);
        TU_CHECK_INT_EQ(v, i);
    }
    TU_CHECK_INT_EQ(goc_chan_len(ch), 0);
    /* then closed, every time; the element is left alone or zeroed (Go
     * gives the zero value; the API does not say), never anything else */
    for (int k = 0; k < 3; k++) {
        int v = 777;
        TU_CHECK_INT_EQ(goc_chan_recv(ch, &v), GOC_ECLOSED);
        TU_CHECK(v == 777 || v == 0);
        v = 777;
        TU_CHECK_INT_EQ(goc_chan_tryrecv(ch, &v), GOC_ECLOSED);
        TU_CHECK(v == 777 || v == 0);
        TU_CHECK_INT_EQ(goc_chan_recv(ch, NULL), GOC_ECLOSED);
    }
    /* close twice */
    TU_CHECK_INT_EQ(goc_chan_close(ch), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_free(ch), 0);

    /* unbuffered: send and recv on closed */
    ch = goc_chan_make(sizeof(int), 0);
    TU_CHECK(ch != NULL);
    if (ch == NULL)
        return;
    TU_CHECK_INT_EQ(goc_chan_close(ch), 0);
    TU_CHECK_INT_EQ(goc_chan_send(ch, &x), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_trysend(ch, &x), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_recv(ch, &x), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(ch, &x), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_close(ch), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_close(ch), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_free(ch), 0);
}

static void test_close_drains_then_closed(void **state)
{
    (void)state;
    TU_RUN(NULL, main_close_drains, NULL);
}

#define CW_N 5
static void main_close_wakes_all(void *arg)
{
    (void)arg;
    goc_chan *ur = goc_chan_make(sizeof(int), 0); /* receivers wait */
    goc_chan *us = goc_chan_make(sizeof(int), 0); /* senders wait */
    goc_chan *br = goc_chan_make(sizeof(int), 4); /* empty: receivers wait */
    goc_chan *bs = goc_chan_make(sizeof(int), 1); /* full: senders wait */
    TU_CHECK(ur && us && br && bs);
    if (!ur || !us || !br || !bs)
        return;
    int first = 77;
    TU_CHECK_INT_EQ(goc_chan_trysend(bs, &first), 0);
    op_arg ops[4][CW_N];
    goc_task *t[4][CW_N];
    goc_chan *chs[4] = {ur, us, br, bs};
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < CW_N; i++) {
            op_init(&ops[k][i], chs[k], 100 * k + i);
            t[k][i] = goc_spawn((k % 2) ? op_send : op_recv, &ops[k][i]);
            TU_CHECK(t[k][i] != NULL);
        }
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < CW_N; i++)
            TU_CHECK(tu_wait_flag(&ops[k][i].started, 10 * TU_SEC));
    goc_sleep(50 * TU_MS);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < CW_N; i++)
            TU_CHECK_INT_EQ(atomic_load(&ops[k][i].done), 0);
    int64_t t0 = goc_now();
    for (int k = 0; k < 4; k++)
        TU_CHECK_INT_EQ(goc_chan_close(chs[k]), 0);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < CW_N; i++) {
            if (t[k][i])
                TU_CHECK_INT_EQ(goc_join(t[k][i], NULL), 0);
            TU_CHECK_INT_EQ(ops[k][i].rc, GOC_ECLOSED);
            if (k % 2 == 0) /* untouched or zeroed, as above */
                TU_CHECK(ops[k][i].got == -1 || ops[k][i].got == 0);
        }
    TU_CHECK(goc_now() - t0 < 5 * TU_SEC);
    /* the value buffered before the close is still delivered, and only it */
    int v = -1;
    TU_CHECK_INT_EQ(goc_chan_len(bs), 1);
    TU_CHECK_INT_EQ(goc_chan_recv(bs, &v), 0);
    TU_CHECK_INT_EQ(v, 77);
    TU_CHECK_INT_EQ(goc_chan_recv(bs, &v), GOC_ECLOSED);
    for (int k = 0; k < 4; k++)
        TU_CHECK_INT_EQ(goc_chan_free(chs[k]), 0);
}

static void test_close_wakes_all_waiters(void **state)
{
    (void)state;
    TU_RUN(NULL, main_close_wakes_all, NULL);
}

/* ---------------------------------------------------- trysend / tryrecv */

typedef struct {
    goc_chan *ch;
    atomic_int got_rc;
    int got;
    atomic_int perm_rc;
} thr_arg;

/* A plain thread (not a coroutine): tryrecv until it takes the value that a
 * parked coroutine sends; a blocking recv from here must say GOC_EPERM. */
static void *thr_tryrecv(void *arg)
{
    thr_arg *a = arg;
    goc_chan *empty = goc_chan_make(sizeof(int), 0);
    int dummy = 0;
    atomic_store(&a->perm_rc, empty ? goc_chan_recv(empty, &dummy) : -1);
    if (empty)
        goc_chan_free(empty);
    int64_t end = tu_clock_ns() + 10 * TU_SEC;
    int r = GOC_EAGAIN;
    while (tu_clock_ns() < end) {
        r = goc_chan_tryrecv(a->ch, &a->got);
        if (r != GOC_EAGAIN)
            break;
        usleep(1000);
    }
    atomic_store(&a->got_rc, r);
    return NULL;
}

static void main_try_ops(void *arg)
{
    (void)arg;
    int x = 5, v = -1;
    /* unbuffered, nobody on the other side */
    goc_chan *u = goc_chan_make(sizeof(int), 0);
    TU_CHECK(u != NULL);
    if (u == NULL)
        return;
    TU_CHECK_INT_EQ(goc_chan_trysend(u, &x), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(u, &v), GOC_EAGAIN);
    TU_CHECK_INT_EQ(v, -1);

    /* a parked sender: tryrecv takes its value and the send completes */
    op_arg s;
    op_init(&s, u, 4242);
    goc_task *t = goc_spawn(op_send, &s);
    TU_CHECK(t != NULL);
    TU_CHECK(wait_parked(&s, t));
    TU_CHECK_INT_EQ(goc_chan_trysend(u, &x), GOC_EAGAIN); /* sender, not receiver */
    TU_CHECK_INT_EQ(goc_chan_tryrecv(u, &v), 0);
    TU_CHECK_INT_EQ(v, 4242);
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    TU_CHECK_INT_EQ(s.rc, 0);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(u, &v), GOC_EAGAIN);

    /* a parked receiver: trysend hands it the value */
    op_arg r;
    op_init(&r, u, 0);
    t = goc_spawn(op_recv, &r);
    TU_CHECK(t != NULL);
    TU_CHECK(wait_parked(&r, t));
    TU_CHECK_INT_EQ(goc_chan_tryrecv(u, &v), GOC_EAGAIN);
    x = 31337;
    TU_CHECK_INT_EQ(goc_chan_trysend(u, &x), 0);
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    TU_CHECK_INT_EQ(r.rc, 0);
    TU_CHECK_INT_EQ(r.got, 31337);
    TU_CHECK_INT_EQ(goc_chan_trysend(u, &x), GOC_EAGAIN);

    /* a parked sender served by a plain thread's tryrecv */
    op_init(&s, u, 999);
    t = goc_spawn(op_send, &s);
    TU_CHECK(t != NULL);
    thr_arg ta;
    memset(&ta, 0, sizeof ta);
    ta.ch = u;
    ta.got = -1;
    atomic_store(&ta.got_rc, 1);
    pthread_t th;
    int pr = pthread_create(&th, NULL, thr_tryrecv, &ta);
    TU_CHECK_INT_EQ(pr, 0);
    if (pr == 0) {
        /* Wait by sleeping, not in goc_join: a timer keeps the runtime
         * from calling this a deadlock while only the thread can help. */
        int64_t end = goc_now() + 15 * TU_SEC;
        while (atomic_load(&ta.got_rc) == 1 && goc_now() < end)
            goc_sleep(TU_MS);
        pthread_join(th, NULL);
        TU_CHECK_INT_EQ(atomic_load(&ta.got_rc), 0);
        TU_CHECK_INT_EQ(ta.got, 999);
        TU_CHECK_INT_EQ(atomic_load(&ta.perm_rc), GOC_EPERM);
    } else {
        goc_chan_close(u);
    }
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    TU_CHECK_INT_EQ(s.rc, pr == 0 ? 0 : GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_free(u), 0);

    /* buffered */
    goc_chan *b = goc_chan_make(sizeof(int), 2);
    TU_CHECK(b != NULL);
    if (b == NULL)
        return;
    TU_CHECK_INT_EQ(goc_chan_tryrecv(b, &v), GOC_EAGAIN);
    x = 1;
    TU_CHECK_INT_EQ(goc_chan_trysend(b, &x), 0);
    x = 2;
    TU_CHECK_INT_EQ(goc_chan_trysend(b, &x), 0);
    x = 3;
    TU_CHECK_INT_EQ(goc_chan_trysend(b, &x), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_chan_len(b), 2);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(b, &v), 0);
    TU_CHECK_INT_EQ(v, 1);
    TU_CHECK_INT_EQ(goc_chan_trysend(b, &x), 0);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(b, &v), 0);
    TU_CHECK_INT_EQ(v, 2);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(b, &v), 0);
    TU_CHECK_INT_EQ(v, 3);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(b, &v), GOC_EAGAIN);
    /* a parked sender on a full buffer: tryrecv frees a slot and the
     * sender's value follows in order */
    x = 10;
    TU_CHECK_INT_EQ(goc_chan_trysend(b, &x), 0);
    x = 11;
    TU_CHECK_INT_EQ(goc_chan_trysend(b, &x), 0);
    op_init(&s, b, 12);
    t = goc_spawn(op_send, &s);
    TU_CHECK(t != NULL);
    TU_CHECK(wait_parked(&s, t));
    TU_CHECK_INT_EQ(goc_chan_len(b), 2);
    for (int want = 10; want <= 12; want++) {
        v = -1;
        TU_CHECK_INT_EQ(goc_chan_tryrecv(b, &v), 0);
        TU_CHECK_INT_EQ(v, want);
        if (want == 10 && t) {
            TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
            t = NULL;
            TU_CHECK_INT_EQ(s.rc, 0);
        }
    }
    TU_CHECK_INT_EQ(goc_chan_tryrecv(b, &v), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_chan_free(b), 0);
}

static void test_trysend_tryrecv(void **state)
{
    (void)state;
    TU_RUN(NULL, main_try_ops, NULL);
}

/* ---------------------------------------- signal channels, NULL receive */

static void signal_sender(void *arg)
{
    goc_chan *ch = arg;
    for (int i = 0; i < 100; i++)
        TU_CHECK_INT_EQ(goc_chan_send(ch, NULL), 0);
}

static void main_signal(void *arg)
{
    (void)arg;
    goc_chan *u = goc_chan_make(0, 0);
    goc_chan *b = goc_chan_make(0, 3);
    TU_CHECK(u && b);
    if (!u || !b)
        return;
    TU_CHECK_INT_EQ(goc_chan_cap(b), 3);
    TU_CHECK_INT_EQ(goc_chan_trysend(u, NULL), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(u, NULL), GOC_EAGAIN);
    for (int i = 0; i < 3; i++)
        TU_CHECK_INT_EQ(goc_chan_trysend(b, NULL), 0);
    TU_CHECK_INT_EQ(goc_chan_trysend(b, NULL), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_chan_len(b), 3);
    /* a non-NULL element pointer is fine too, and nothing is copied */
    char guard[8];
    memset(guard, 'G', sizeof guard);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(b, guard), 0);
    TU_CHECK_INT_EQ(goc_chan_recv(b, NULL), 0);
    TU_CHECK_INT_EQ(goc_chan_recv(b, guard), 0);
    for (size_t i = 0; i < sizeof guard; i++)
        TU_CHECK_INT_EQ(guard[i], 'G');
    TU_CHECK_INT_EQ(goc_chan_tryrecv(b, NULL), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_chan_len(b), 0);

    /* unbuffered rendezvous of 100 signals */
    TU_CHECK_INT_EQ(goc_go(signal_sender, u), 0);
    for (int i = 0; i < 100; i++)
        TU_CHECK_INT_EQ(goc_chan_recv(u, NULL), 0);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(u, NULL), GOC_EAGAIN);

    /* close as a broadcast */
    TU_CHECK_INT_EQ(goc_chan_close(u), 0);
    TU_CHECK_INT_EQ(goc_chan_recv(u, NULL), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_send(u, NULL), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_free(u), 0);
    TU_CHECK_INT_EQ(goc_chan_free(b), 0);
}

static void test_signal_channels(void **state)
{
    (void)state;
    TU_RUN(NULL, main_signal, NULL);
}

static void main_recv_null(void *arg)
{
    (void)arg;
    goc_chan *b = goc_chan_make(sizeof(int), 4);
    TU_CHECK(b != NULL);
    if (b == NULL)
        return;
    for (int i = 1; i <= 3; i++)
        TU_CHECK_INT_EQ(goc_chan_send(b, &i), 0);
    TU_CHECK_INT_EQ(goc_chan_recv(b, NULL), 0);   /* drops 1 */
    TU_CHECK_INT_EQ(goc_chan_tryrecv(b, NULL), 0); /* drops 2 */
    int v = -1;
    TU_CHECK_INT_EQ(goc_chan_recv(b, &v), 0);
    TU_CHECK_INT_EQ(v, 3);
    TU_CHECK_INT_EQ(goc_chan_free(b), 0);

    /* from a parked sender on an unbuffered channel */
    goc_chan *u = goc_chan_make(sizeof(int), 0);
    TU_CHECK(u != NULL);
    if (u == NULL)
        return;
    op_arg s;
    op_init(&s, u, 5);
    goc_task *t = goc_spawn(op_send, &s);
    TU_CHECK(t != NULL);
    TU_CHECK(wait_parked(&s, t));
    TU_CHECK_INT_EQ(goc_chan_recv(u, NULL), 0);
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    TU_CHECK_INT_EQ(s.rc, 0);
    /* and with the receiver parked first */
    op_init(&s, u, 6);
    t = goc_spawn(op_send, &s);
    TU_CHECK(t != NULL);
    TU_CHECK_INT_EQ(goc_chan_recv(u, NULL), 0);
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    TU_CHECK_INT_EQ(s.rc, 0);
    TU_CHECK_INT_EQ(goc_chan_free(u), 0);
}

static void test_recv_into_null_discards(void **state)
{
    (void)state;
    TU_RUN(NULL, main_recv_null, NULL);
}

/* ----------------------------------------------------- len, cap, bad input */

static void main_len_cap_bad(void *arg)
{
    (void)arg;
    TU_CHECK_INT_EQ(goc_chan_len(NULL), 0);
    TU_CHECK_INT_EQ(goc_chan_cap(NULL), 0);
    goc_chan *b = goc_chan_make(sizeof(double), 10);
    TU_CHECK(b != NULL);
    if (b == NULL)
        return;
    TU_CHECK_INT_EQ(goc_chan_cap(b), 10);
    TU_CHECK_INT_EQ(goc_chan_len(b), 0);
    double d = 1.5;
    for (int i = 0; i < 7; i++)
        TU_CHECK_INT_EQ(goc_chan_send(b, &d), 0);
    TU_CHECK_INT_EQ(goc_chan_len(b), 7);
    TU_CHECK_INT_EQ(goc_chan_cap(b), 10);
    double e = 0;
    TU_CHECK_INT_EQ(goc_chan_recv(b, &e), 0);
    TU_CHECK(e == 1.5);
    TU_CHECK_INT_EQ(goc_chan_len(b), 6);

    /* unbuffered: len stays 0 even with a parked sender (as in Go) */
    goc_chan *u = goc_chan_make(sizeof(int), 0);
    TU_CHECK(u != NULL);
    if (u == NULL)
        return;
    op_arg s;
    op_init(&s, u, 8);
    goc_task *t = goc_spawn(op_send, &s);
    TU_CHECK(t != NULL);
    TU_CHECK(wait_parked(&s, t));
    TU_CHECK_INT_EQ(goc_chan_len(u), 0);
    TU_CHECK_INT_EQ(goc_chan_cap(u), 0);
    int v = 0;
    TU_CHECK_INT_EQ(goc_chan_recv(u, &v), 0);
    TU_CHECK_INT_EQ(v, 8);
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, NULL), 0);

    /* NULL channels */
    int x = 1;
    TU_CHECK_INT_EQ(goc_chan_send(NULL, &x), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_chan_recv(NULL, &x), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_chan_trysend(NULL, &x), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(NULL, &x), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_chan_close(NULL), GOC_EINVAL);
    int fr = goc_chan_free(NULL);
    TU_CHECK(fr == 0 || fr == GOC_EINVAL);

    /* NULL element for a sized send: rejected, nothing sent */
    TU_CHECK_INT_EQ(goc_chan_send(b, NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_chan_trysend(b, NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_chan_len(b), 6);
    TU_CHECK_INT_EQ(goc_chan_send(u, NULL), GOC_EINVAL); /* would block: still EINVAL */
    TU_CHECK_INT_EQ(goc_chan_trysend(u, NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_chan_free(u), 0);
    TU_CHECK_INT_EQ(goc_chan_free(b), 0);
}

static void test_len_cap_bad_input(void **state)
{
    (void)state;
    TU_RUN(NULL, main_len_cap_bad, NULL);
    /* sizes whose product (or product plus a header) overflows */
    assert_null(goc_chan_make(SIZE_MAX, 2));
    assert_null(goc_chan_make(2, SIZE_MAX));
    assert_null(goc_chan_make(SIZE_MAX / 2 + 1, 2));
    assert_null(goc_chan_make(SIZE_MAX / 3 + 2, 3));
    assert_null(goc_chan_make((size_t)1 << (sizeof(size_t) * 4),
                              (size_t)1 << (sizeof(size_t) * 4)));
    assert_null(goc_chan_make(1, SIZE_MAX));
    assert_null(goc_chan_make(SIZE_MAX, SIZE_MAX));
}

/* ------------------------------------------------------ free while busy */

static void main_free_busy(void *arg)
{
    (void)arg;
    goc_chan *u = goc_chan_make(sizeof(int), 0);
    TU_CHECK(u != NULL);
    if (u == NULL)
        return;

    /* a parked receiver: EBUSY, then the channel still works */
    op_arg r;
    op_init(&r, u, 0);
    goc_task *t = goc_spawn(op_recv, &r);
    TU_CHECK(t != NULL);
    TU_CHECK(wait_parked(&r, t));
    TU_CHECK_INT_EQ(goc_chan_free(u), GOC_EBUSY);
    TU_CHECK_INT_EQ(goc_chan_free(u), GOC_EBUSY);
    int x = 4711;
    TU_CHECK_INT_EQ(goc_chan_send(u, &x), 0);
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    TU_CHECK_INT_EQ(r.rc, 0);
    TU_CHECK_INT_EQ(r.got, 4711);

    /* a parked sender: EBUSY; close wakes it */
    op_arg s;
    op_init(&s, u, 1);
    t = goc_spawn(op_send, &s);
    TU_CHECK(t != NULL);
    TU_CHECK(wait_parked(&s, t));
    TU_CHECK_INT_EQ(goc_chan_free(u), GOC_EBUSY);
    TU_CHECK_INT_EQ(goc_chan_close(u), 0);
    if (t)
        TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    TU_CHECK_INT_EQ(s.rc, GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_free(u), 0);

    /* a parked receiver cancelled: then free is fine */
    u = goc_chan_make(sizeof(int), 2);
    TU_CHECK(u != NULL);
    if (u == NULL)
        return;
    op_init(&r, u, 0);
    t = goc_spawn(op_recv, &r);
    TU_CHECK(t != NULL);
    TU_CHECK(wait_parked(&r, t));
    TU_CHECK_INT_EQ(goc_chan_free(u), GOC_EBUSY);
    if (t) {
        TU_CHECK_INT_EQ(goc_cancel(t), 0);
        TU_CHECK_INT_EQ(goc_join(t, NULL), GOC_ECANCELED);
    }
    TU_CHECK_INT_EQ(r.rc, GOC_ECANCELED);
    TU_CHECK_INT_EQ(goc_chan_free(u), 0);
}

static void test_free_busy(void **state)
{
    (void)state;
    TU_RUN(NULL, main_free_busy, NULL);
}

/* ------------------------------ free right after the last operation */

/* The side that returns first frees the channel at once, while the other
 * side may still be on its way out of its call. Under ASan/TSan any touch
 * of the freed channel by the late side is reported. */
typedef struct {
    goc_chan *ch;
    int val;
    int mode;
    atomic_int started;
} fa_arg;

typedef struct {
    long n;
    fa_arg *args;
    long total;
    atomic_long late_done; /* late sides that finished */
    atomic_long late_bad;
} fa_state;

static fa_state *g_fa;

enum { FA_RECV_FREES, FA_SEND_FREES, FA_BUF_RECV_FREES, FA_CLOSE_FREES, FA_MODES };

static void fa_late(void *arg)
{
    fa_arg *a = arg;
    int r, v = -1;
    atomic_store(&a->started, 1);
    switch (a->mode) {
    case FA_RECV_FREES:
    case FA_BUF_RECV_FREES:
        r = goc_chan_send(a->ch, &a->val);
        if (r != 0)
            atomic_fetch_add(&g_fa->late_bad, 1);
        break;
    case FA_SEND_FREES:
        r = goc_chan_recv(a->ch, &v);
        if (r != 0 || v != a->val)
            atomic_fetch_add(&g_fa->late_bad, 1);
        break;
    default: /* FA_CLOSE_FREES */
        r = goc_chan_recv(a->ch, &v);
        if (r != GOC_ECLOSED)
            atomic_fetch_add(&g_fa->late_bad, 1);
        break;
    }
    /* a->ch may be freed now: never touch it again */
    atomic_fetch_add(&g_fa->late_done, 1);
}

static void *fa_late_task(void *arg)
{
    fa_late(arg);
    return NULL;
}

static void main_free_after_last_op(void *arg)
{
    fa_state *s = arg;
    g_fa = s;
    long i = 0;
    for (int mode = 0; mode < FA_MODES; mode++) {
        /* close needs its receiver parked first (a wait): fewer rounds */
        long rounds = mode == FA_CLOSE_FREES ? s->n / 20 + 1 : s->n;
        for (long k = 0; k < rounds; k++, i++) {
            fa_arg *a = &s->args[i];
            a->mode = mode;
            a->val = (int)i + 1;
            a->ch = goc_chan_make(sizeof(int), mode == FA_BUF_RECV_FREES ? 1 : 0);
            TU_CHECK(a->ch != NULL);
            if (a->ch == NULL)
                return;
            if (mode == FA_BUF_RECV_FREES) {
                int pre = -(int)i;
                TU_CHECK_INT_EQ(goc_chan_trysend(a->ch, &pre), 0);
            }
            /* close must know when its receiver has parked: a handle */
            goc_task *late = NULL;
            if (mode == FA_CLOSE_FREES)
                TU_CHECK((late = goc_spawn(fa_late_task, a)) != NULL);
            else
                TU_CHECK_INT_EQ(goc_go(fa_late, a), 0);
            /* vary who gets there first */
            for (long y = 0; y < (k % 3); y++)
                goc_yield();
            int v = 0;
            switch (mode) {
            case FA_RECV_FREES:
                TU_CHECK_INT_EQ(goc_chan_recv(a->ch, &v), 0);
                TU_CHECK_INT_EQ(v, a->val);
                break;
            case FA_BUF_RECV_FREES:
                TU_CHECK_INT_EQ(goc_chan_recv(a->ch, &v), 0);
                TU_CHECK_INT_EQ(v, -(int)i);
                TU_CHECK_INT_EQ(goc_chan_recv(a->ch, &v), 0);
                TU_CHECK_INT_EQ(v, a->val);
                break;
            case FA_SEND_FREES:
                TU_CHECK_INT_EQ(goc_chan_send(a->ch, &a->val), 0);
                break;
            default:
                /* the receiver must be parked in its recv before the
                 * close, or it would call recv on a freed channel */
                TU_CHECK(tu_wait_parked(late, 30 * TU_SEC));
                TU_CHECK_INT_EQ(goc_chan_close(a->ch), 0);
                break;
            }
            TU_CHECK_INT_EQ(goc_chan_free(a->ch), 0);
            if (late)
                goc_join(late, NULL); /* after the free: it may still be returning */
        }
    }
    s->total = i;
    TU_CHECK(tu_wait_count(&s->late_done, i, 30 * TU_SEC));
    TU_CHECK_INT_EQ(atomic_load(&s->late_bad), 0);
}

static void test_free_right_after_last_op(void **state)
{
    (void)state;
    fa_state s;
    memset(&s, 0, sizeof s);
    s.n = TU_SCALE(10000);
    s.args = calloc((size_t)(FA_MODES * s.n), sizeof *s.args);
    assert_non_null(s.args);
    TU_RUN(NULL, main_free_after_last_op, &s);
    free(s.args);
    assert_true(s.total > 3 * s.n);
    assert_int_equal(atomic_load(&s.late_done), s.total);
}

/* -------------------------------------------------- concurrent prime sieve */

typedef struct {
    goc_chan *in;
    goc_chan *out;
    int p;
    int limit;
    goc_wg *wg;
} sieve_arg;

static void sieve_gen(void *arg)
{
    sieve_arg *a = arg;
    for (int i = 2; i <= a->limit; i++)
        if (goc_chan_send(a->out, &i) != 0)
            break;
    TU_CHECK_INT_EQ(goc_chan_close(a->out), 0);
    goc_wg_done(a->wg);
}

static void sieve_filter(void *arg)
{
    sieve_arg *a = arg;
    int v;
    int r;
    while ((r = goc_chan_recv(a->in, &v)) == 0) {
        if (v % a->p != 0 && goc_chan_send(a->out, &v) != 0)
            break;
    }
    TU_CHECK_INT_EQ(r, GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_chan_close(a->out), 0);
    goc_wg_done(a->wg);
}

typedef struct {
    int n;
    int limit; /* the n-th prime */
    int *primes;
} sieve_state;

static void main_sieve(void *arg)
{
    sieve_state *s = arg;
    goc_chan **ch = calloc((size_t)s->n + 1, sizeof *ch);
    sieve_arg *args = calloc((size_t)s->n + 1, sizeof *args);
    goc_wg *wg = goc_wg_new();
    TU_CHECK(ch && args && wg);
    if (!ch || !args || !wg)
        return;
    ch[0] = goc_chan_make(sizeof(int), 0);
    TU_CHECK(ch[0] != NULL);
    goc_wg_add(wg, 1);
    args[s->n] = (sieve_arg){.out = ch[0], .limit = s->limit, .wg = wg};
    TU_CHECK_INT_EQ(goc_go(sieve_gen, &args[s->n]), 0);
    for (int i = 0; i < s->n; i++) {
        int p = -1;
        TU_CHECK_INT_EQ(goc_chan_recv(ch[i], &p), 0);
        s->primes[i] = p;
        ch[i + 1] = goc_chan_make(sizeof(int), 0);
        TU_CHECK(ch[i + 1] != NULL);
        if (ch[i + 1] == NULL)
            return;
        args[i] = (sieve_arg){.in = ch[i], .out = ch[i + 1], .p = p, .wg = wg};
        goc_wg_add(wg, 1);
        TU_CHECK_INT_EQ(goc_go(sieve_filter, &args[i]), 0);
    }
    /* nothing is left past the n-th prime */
    int extra = 0;
    TU_CHECK_INT_EQ(goc_chan_recv(ch[s->n], &extra), GOC_ECLOSED);
    TU_CHECK_INT_EQ(goc_wg_wait(wg), 0);
    for (int i = 0; i <= s->n; i++)
        TU_CHECK_INT_EQ(goc_chan_free(ch[i]), 0);
    goc_wg_free(wg);
    free(ch);
    free(args);
}

static int is_prime_slow(int v)
{
    if (v < 2)
        return 0;
    for (int d = 2; d * d <= v; d++)
        if (v % d == 0)
            return 0;
    return 1;
}

static void test_prime_sieve(void **state)
{
    (void)state;
    sieve_state s;
#if defined(TU_TSAN)
    s.n = 200; /* 1223 */
#else
    s.n = 1000; /* 7919 */
#endif
    /* the n-th prime, the slow way */
    int count = 0, v = 1;
    while (count < s.n)
        if (is_prime_slow(++v))
            count++;
    s.limit = v;
    s.primes = calloc((size_t)s.n, sizeof(int));
    assert_non_null(s.primes);
    TU_RUN(NULL, main_sieve, &s);
    int want = 1;
    for (int i = 0; i < s.n; i++) {
        while (!is_prime_slow(++want)) {
        }
        if (s.primes[i] != want)
            fail_msg("prime #%d: got %d, want %d", i + 1, s.primes[i], want);
    }
    if (s.n == 1000)
        assert_int_equal(s.primes[999], 7919);
    else
        assert_int_equal(s.primes[199], 1223);
    free(s.primes);
}

/* ------------------------------------------------ cancellation of a blocked op */

static void main_cancel_blocked(void *arg)
{
    (void)arg;
    goc_chan *u = goc_chan_make(sizeof(int), 0);
    goc_chan *full = goc_chan_make(sizeof(int), 1);
    goc_chan *empty = goc_chan_make(sizeof(int), 1);
    TU_CHECK(u && full && empty);
    if (!u || !full || !empty)
        return;
    int pre = 1;
    TU_CHECK_INT_EQ(goc_chan_trysend(full, &pre), 0);

    struct {
        goc_chan *ch;
        void *(*fn)(void *);
    } cases[] = {
        {u, op_recv}, {u, op_send}, {full, op_send}, {empty, op_recv},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        op_arg o;
        op_init(&o, cases[c].ch, 50 + (int)c);
        goc_task *t = goc_spawn(cases[c].fn, &o);
        TU_CHECK(t != NULL);
        if (t == NULL)
            continue;
        TU_CHECK(wait_parked(&o, t));
        int64_t t0 = goc_now();
        TU_CHECK_INT_EQ(goc_cancel(t), 0);
        TU_CHECK_INT_EQ(goc_join(t, NULL), GOC_ECANCELED);
        TU_CHECK(goc_now() - t0 < 5 * TU_SEC);
        TU_CHECK_INT_EQ(o.rc, GOC_ECANCELED);
        TU_CHECK_INT_EQ(o.got, -1);
    }
    /* no cancelled waiter is left behind in any queue */
    int x = 9, v = -1;
    TU_CHECK_INT_EQ(goc_chan_trysend(u, &x), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(u, &v), GOC_EAGAIN);
    TU_CHECK_INT_EQ(goc_chan_len(full), 1);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(full, &v), 0);
    TU_CHECK_INT_EQ(v, 1);
    TU_CHECK_INT_EQ(goc_chan_tryrecv(full, &v), GOC_EAGAIN); /* 52 never went in */
    TU_CHECK_INT_EQ(goc_chan_trysend(empty, &x), 0);
    TU_CHECK_INT_EQ(goc_chan_len(empty), 1); /* no cancelled receiver took it */
    TU_CHECK_INT_EQ(goc_chan_free(u), 0);
    TU_CHECK_INT_EQ(goc_chan_free(full), 0);
    TU_CHECK_INT_EQ(goc_chan_free(empty), 0);

    /* cancelled before it first ran: its first blocking call fails */
    u = goc_chan_make(sizeof(int), 0);
    TU_CHECK(u != NULL);
    if (u == NULL)
        return;
    op_arg o;
    op_init(&o, u, 0);
    goc_task *t = goc_spawn(op_recv, &o);
    TU_CHECK(t != NULL);
    if (t) {
        TU_CHECK_INT_EQ(goc_cancel(t), 0);
        TU_CHECK_INT_EQ(goc_join(t, NULL), GOC_ECANCELED);
        TU_CHECK_INT_EQ(o.rc, GOC_ECANCELED);
    }
    TU_CHECK_INT_EQ(goc_chan_free(u), 0);
}

static void test_cancel_blocked_ops(void **state)
{
    (void)state;
    TU_RUN(NULL, main_cancel_blocked, NULL);
}

/* -------------------------------------- cancel races with exact accounting */

/* Both race tests run in lanes (tu_lanes.h): each lane's iteration makes
 * a channel, races two coroutines on it and counts how the race ended. */
#define CR_LANES 8

enum cr_outcome {
    CR_SENT,      /* the send completed */
    CR_RECEIVED,  /* the receive completed */
    CR_DRAINED,   /* a value left in the channel, taken after the close */
    CR_RECV_WON,  /* cancelled receiver still got the value */
    CR_RECV_LOST, /* receiver cancelled, no value */
    CR_MISMATCH,
    CR_OUTCOMES
};

static const char *const cr_outcome_names[CR_OUTCOMES] = {
    "sent", "received", "drained", "recv won", "recv lost", "mismatch",
};

/* One iteration of a cancel-race lane; ls->ctx is the channel's capacity. */
static int cr_step(tu_lanes *ls, int lane, long it)
{
    size_t cap = *(const size_t *)ls->ctx;
    goc_chan *ch = goc_chan_make(sizeof(int), cap);
    TU_CHECK(ch != NULL);
    if (ch == NULL)
        return 0;
    op_arg r, w;
    op_init(&r, ch, 0);
    op_init(&w, ch, (int)(lane * ls->iters + it) + 1);
    goc_task *rt = NULL, *wt = NULL;
    int mode = (int)((it + lane) % 7);
    switch (mode) {
    case 0: /* cancel at once */
        rt = goc_spawn(op_recv, &r);
        wt = goc_spawn(op_send, &w);
        goc_cancel(rt);
        break;
    case 1: /* sender first, then a receiver cancelled after a yield */
        wt = goc_spawn(op_send, &w);
        rt = goc_spawn(op_recv, &r);
        goc_yield();
        goc_cancel(rt);
        break;
    case 2: /* receiver likely parked, cancel and send race */
        rt = goc_spawn(op_recv, &r);
        goc_yield();
        wt = goc_spawn(op_send, &w);
        goc_cancel(rt);
        break;
    case 3: /* let the hand-off happen, then cancel */
        rt = goc_spawn(op_recv, &r);
        wt = goc_spawn(op_send, &w);
        goc_yield();
        goc_yield();
        goc_cancel(rt);
        break;
    case 4: /* cancel between the two spawns */
        rt = goc_spawn(op_recv, &r);
        goc_yield();
        goc_cancel(rt);
        wt = goc_spawn(op_send, &w);
        break;
    case 5: /* the receiver is parked; we hand it the value and cancel it
             * before it ran again: it must report the value */
        rt = goc_spawn(op_recv, &r);
        goc_yield();
        goc_yield();
        w.rc = goc_chan_trysend(ch, &w.val);
        goc_cancel(rt);
        break;
    default: /* the mirror image: a parked sender, our tryrecv, cancel */
        wt = goc_spawn(op_send, &w);
        goc_yield();
        goc_yield();
        r.rc = goc_chan_tryrecv(ch, &r.got);
        goc_cancel(wt);
        break;
    }
    TU_CHECK((rt != NULL || mode == 6) && (wt != NULL || mode == 5));
    if (rt)
        goc_join(rt, NULL); /* 0 or GOC_ECANCELED: it was cancelled */
    if (wt && mode == 6) {
        goc_join(wt, NULL); /* cancelled: returns without the close */
        wt = NULL;
    }
    /* unblock a sender nobody will take from */
    TU_CHECK_INT_EQ(goc_chan_close(ch), 0);
    if (wt)
        TU_CHECK_INT_EQ(goc_join(wt, NULL), 0);
    long drained = 0;
    int v;
    while (goc_chan_tryrecv(ch, &v) == 0) {
        drained++;
        if (v != w.val)
            tu_lanes_count(ls, lane, CR_MISMATCH);
    }
    int send_ok = w.rc == 0;
    int recv_ok = r.rc == 0;
    /* ECANCELED only for the cancelled side, EAGAIN only for our own
     * try call, ECLOSED only for a sender left waiting */
    int rgood = r.rc == 0 || r.rc == (mode == 6 ? GOC_EAGAIN : GOC_ECANCELED);
    int wgood = w.rc == 0 || w.rc == (mode == 5   ? GOC_EAGAIN
                                      : mode == 6 ? GOC_ECANCELED
                                                  : GOC_ECLOSED);
    if (!rgood || !wgood ||
        (recv_ok && r.got != w.val) || send_ok != recv_ok + drained) {
        tu_lanes_count(ls, lane, CR_MISMATCH);
        tu_check_failed(__FILE__, __LINE__,
                        "cap %zu lane %d iter %ld mode %d: send rc %d, recv "
                        "rc %d got %d (sent %d), drained %ld",
                        cap, lane, it, mode, w.rc, r.rc, r.got, w.val,
                        drained);
    }
    tu_lanes_add(ls, lane, CR_SENT, send_ok);
    tu_lanes_add(ls, lane, CR_RECEIVED, recv_ok);
    tu_lanes_add(ls, lane, CR_DRAINED, drained);
    tu_lanes_count(ls, lane, recv_ok ? CR_RECV_WON : CR_RECV_LOST);
    TU_CHECK_INT_EQ(goc_chan_free(ch), 0);
    return 1;
}

static void test_cancel_race_accounting(void **state)
{
    (void)state;
    static const size_t caps[] = {0, 1};
    static const int sent_parts[] = {CR_RECEIVED, CR_DRAINED};
    static const int race_ends[] = {CR_RECV_WON, CR_RECV_LOST};
    for (size_t c = 0; c < 2; c++) {
        size_t cap = caps[c];
        char name[40];
        snprintf(name, sizeof name, "cancel race, cap %zu", cap);
        tu_lanes ls;
        tu_lanes_init(&ls, &(tu_lanes_spec){.name = name,
                                            .count = CR_LANES,
                                            .iters = TU_SCALE(100000) / 2 / CR_LANES,
                                            .step = cr_step,
                                            .ctx = &cap,
                                            .outcome_names = cr_outcome_names,
                                            .outcomes = CR_OUTCOMES});
        TU_RUN(NULL, tu_lanes_main, &ls);
        tu_lanes_assert_never(&ls, CR_MISMATCH);
        /* every completed send is accounted for exactly once */
        tu_lanes_assert_balanced(&ls, CR_SENT, sent_parts, 2);
        tu_lanes_assert_each_iteration_once(&ls, race_ends, 2);
        /* both outcomes of the race happened */
        long won = tu_lanes_total(&ls, CR_RECV_WON);
        long lost = tu_lanes_total(&ls, CR_RECV_LOST);
        if (won == 0 || lost == 0)
            fail_msg("cap %zu: the race never went both ways (won %ld, lost %ld)",
                     cap, won, lost);
    }
}

/* ---------------------------------- timeout races with exact accounting */

typedef struct {
    goc_chan *ch;
    int val;
    int got;
    int64_t timeout;
    int rc; /* select's result: 0 = done, or an error */
} ts_op;

static void *ts_send(void *arg)
{
    ts_op *o = arg;
    goc_case c = {.ch = o->ch, .op = GOC_SEND, .elem = &o->val, .status = 1};
    o->rc = goc_select(&c, 1, o->timeout);
    if (o->rc == 0)
        TU_CHECK_INT_EQ(c.status, 0);
    return NULL;
}

static void *ts_recv(void *arg)
{
    ts_op *o = arg;
    goc_case c = {.ch = o->ch, .op = GOC_RECV, .elem = &o->got, .status = 1};
    o->rc = goc_select(&c, 1, o->timeout);
    if (o->rc == 0)
        TU_CHECK_INT_EQ(c.status, 0);
    return NULL;
}

enum tr_outcome { TR_DELIVERED, TR_MISSED, TR_CANCELLED, TR_BAD, TR_OUTCOMES };

static const char *const tr_outcome_names[TR_OUTCOMES] = {
    "delivered", "missed", "cancelled", "bad",
};

/* One iteration of a timeout-race lane. */
static int tr_step(tu_lanes *ls, int lane, long it)
{
    static const int64_t touts[] = {0, 1000, 20000, 200000, 1000000};
    goc_chan *ch = goc_chan_make(sizeof(int), 0);
    TU_CHECK(ch != NULL);
    if (ch == NULL)
        return 0;
    unsigned h = (unsigned)(it * 2654435761u) ^ (unsigned)lane;
    ts_op r = {.ch = ch, .got = -1, .rc = 1, .timeout = touts[h % 5]};
    ts_op w = {.ch = ch, .val = (int)(lane * ls->iters + it) + 1, .rc = 1,
               .timeout = touts[(h / 5) % 5]};
    /* the both-zero pair can never meet; make one side wait */
    if (r.timeout == 0 && w.timeout == 0)
        w.timeout = 200000;
    goc_task *rt, *wt;
    int late = it % 37 == 7;
    if (late) {
        /* The select is parked with a 1 ms timeout; we hand it the
         * value, then hold the worker until the timer is due before it
         * can run: the value won, the timeout must lose. */
        r.timeout = TU_MS;
        rt = goc_spawn(ts_recv, &r);
        goc_yield();
        goc_yield();
        w.rc = goc_chan_trysend(ch, &w.val);
        tu_spin_ns(2 * TU_MS);
        wt = NULL;
    } else if (h & 64) {
        rt = goc_spawn(ts_recv, &r);
        for (unsigned y = 0; y < (h >> 8) % 3; y++)
            goc_yield();
        wt = goc_spawn(ts_send, &w);
    } else {
        wt = goc_spawn(ts_send, &w);
        for (unsigned y = 0; y < (h >> 8) % 3; y++)
            goc_yield();
        rt = goc_spawn(ts_recv, &r);
    }
    TU_CHECK(rt != NULL && (wt != NULL || late));
    int cancelled = (it % 7 == 3) && rt;
    if (cancelled) {
        goc_yield();
        goc_cancel(rt);
    }
    if (rt)
        goc_join(rt, NULL);
    if (wt)
        TU_CHECK_INT_EQ(goc_join(wt, NULL), 0);
    int rok = r.rc == 0, wok = w.rc == 0;
    int rgood = rok || r.rc == GOC_ETIMEDOUT || r.rc == GOC_EAGAIN ||
                (cancelled && r.rc == GOC_ECANCELED);
    int wgood = wok || w.rc == GOC_ETIMEDOUT || w.rc == GOC_EAGAIN;
    if (!rgood || !wgood || rok != wok || (rok && r.got != w.val) ||
        (!rok && r.got != -1)) {
        tu_lanes_count(ls, lane, TR_BAD);
        tu_check_failed(__FILE__, __LINE__,
                        "lane %d iter %ld: send rc %d (timeout %lld), recv rc "
                        "%d (timeout %lld%s) got %d want %d",
                        lane, it, w.rc, (long long)w.timeout, r.rc,
                        (long long)r.timeout, cancelled ? ", cancelled" : "",
                        r.got, w.val);
    }
    if (rok)
        tu_lanes_count(ls, lane, TR_DELIVERED);
    else if (r.rc == GOC_ECANCELED)
        tu_lanes_count(ls, lane, TR_CANCELLED);
    else
        tu_lanes_count(ls, lane, TR_MISSED);
    /* nobody is left waiting on it */
    TU_CHECK_INT_EQ(goc_chan_free(ch), 0);
    return 1;
}

static void test_timeout_race_accounting(void **state)
{
    (void)state;
    static const int race_ends[] = {TR_DELIVERED, TR_MISSED, TR_CANCELLED};
    tu_lanes ls;
    tu_lanes_init(&ls, &(tu_lanes_spec){.name = "timeout race",
                                        .count = CR_LANES,
                                        .iters = TU_SCALE(20000) / CR_LANES,
                                        .step = tr_step,
                                        .outcome_names = tr_outcome_names,
                                        .outcomes = TR_OUTCOMES});
    TU_RUN(NULL, tu_lanes_main, &ls);
    tu_lanes_assert_never(&ls, TR_BAD);
    tu_lanes_assert_each_iteration_once(&ls, race_ends, 3);
    long delivered = tu_lanes_total(&ls, TR_DELIVERED);
    long missed = tu_lanes_total(&ls, TR_MISSED);
    if (delivered == 0 || missed == 0)
        fail_msg("the race never went both ways (delivered %ld, missed %ld)",
                 delivered, missed);
}

/* ---------------------------------------------- outside any coroutine */

static void test_outside_coroutine(void **state)
{
    (void)state;
    int x = 3, v = -1;
    goc_chan *u = goc_chan_make(sizeof(int), 0);
    assert_non_null(u);
    /* would block: refused, not hung */
    assert_int_equal(goc_chan_send(u, &x), GOC_EPERM);
    assert_int_equal(goc_chan_recv(u, &v), GOC_EPERM);
    assert_int_equal(goc_chan_trysend(u, &x), GOC_EAGAIN);
    assert_int_equal(goc_chan_tryrecv(u, &v), GOC_EAGAIN);
    assert_int_equal(v, -1);
    assert_int_equal(goc_chan_free(u), 0);

    /* the non-blocking calls work without a runtime */
    goc_chan *b = goc_chan_make(sizeof(int), 2);
    assert_non_null(b);
    assert_int_equal(goc_chan_tryrecv(b, &v), GOC_EAGAIN);
    assert_int_equal(goc_chan_recv(b, &v), GOC_EPERM); /* empty */
    x = 1;
    assert_int_equal(goc_chan_trysend(b, &x), 0);
    x = 2;
    assert_int_equal(goc_chan_trysend(b, &x), 0);
    assert_int_equal(goc_chan_trysend(b, &x), GOC_EAGAIN);
    assert_int_equal(goc_chan_send(b, &x), GOC_EPERM); /* full */
    assert_int_equal(goc_chan_len(b), 2);
    assert_int_equal(goc_chan_tryrecv(b, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(goc_chan_close(b), 0);
    assert_int_equal(goc_chan_trysend(b, &x), GOC_ECLOSED);
    assert_int_equal(goc_chan_tryrecv(b, &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(goc_chan_tryrecv(b, &v), GOC_ECLOSED);
    assert_int_equal(goc_chan_close(b), GOC_ECLOSED);
    assert_int_equal(goc_chan_free(b), 0);
}

/* ------------------------------------ plain threads racing the workers */

/* Plain threads are the wakers a one-worker fast path must never miss
 * (issue 14): here they trysend, tryrecv and cancel while coroutines
 * block on the same channel, at every worker count. Exact accounting:
 * every id is received once, by a coroutine or a plain thread, nothing is
 * lost or doubled, and a cancelled receiver loses no value. */
#define PT_SENDERS 3             /* plain threads (trysend) */
#define PT_CO_SENDERS 2          /* coroutines (send): the workers busy on the channel too */
#define PT_RECEIVERS 4
#define PT_IDS(s) ((PT_SENDERS + PT_CO_SENDERS) * (s)->per_sender)

typedef struct pt_state {
    goc_chan *ch;
    long per_sender;                 /* ids each plain sender sends */
    _Atomic int *seen;               /* seen[id]: times id was received */
    _Atomic long taken_by_threads;   /* received by the plain tryrecv thread */
    _Atomic long taken_by_cos;       /* received by coroutines */
    _Atomic int senders_left;
    _Atomic int stop_taker;
    _Atomic int taker_done;
    goc_task *receivers[PT_RECEIVERS];
    _Atomic int canceller_done;
    _Atomic int bad_ids;             /* ids out of range (never sent) */
    _Atomic int bad_rcs;             /* a plain thread's unexpected return code */
} pt_state;

typedef struct pt_sender {
    pt_state *s;
    int index;
} pt_sender;

/* Called by coroutines and plain threads: no cmocka here, only counts. */
static void pt_count(pt_state *s, int id)
{
    if (id < 0 || id >= PT_IDS(s))
        atomic_fetch_add(&s->bad_ids, 1);
    else
        atomic_fetch_add(&s->seen[id], 1);
}

static void *pt_send_thread(void *arg)
{
    pt_sender *a = arg;
    pt_state *s = a->s;
    for (long i = 0; i < s->per_sender; i++) {
        int id = (int)(a->index * s->per_sender + i);
        int rc;
        while ((rc = goc_chan_trysend(s->ch, &id)) == GOC_EAGAIN)
            sched_yield();
        if (rc != 0)
            atomic_fetch_add(&s->bad_rcs, 1);
    }
    atomic_fetch_sub(&s->senders_left, 1);
    return NULL;
}

static void *pt_take_thread(void *arg)
{
    pt_state *s = arg;
    int id;
    while (!atomic_load(&s->stop_taker)) {
        if (goc_chan_tryrecv(s->ch, &id) == 0) {
            pt_count(s, id);
            atomic_fetch_add(&s->taken_by_threads, 1);
        } else {
            sched_yield();
        }
    }
    atomic_store(&s->taker_done, 1);
    return NULL;
}

/* Cancels receivers 0 and 1 from a plain thread while they may be parked. */
static void *pt_cancel_thread(void *arg)
{
    pt_state *s = arg;
    usleep(2000);
    goc_cancel(s->receivers[0]);
    usleep(2000);
    goc_cancel(s->receivers[1]);
    atomic_store(&s->canceller_done, 1);
    return NULL;
}

static void *pt_co_sender(void *arg)
{
    pt_sender *a = arg;
    pt_state *s = a->s;
    for (long i = 0; i < s->per_sender; i++) {
        int id = (int)(a->index * s->per_sender + i);
        TU_CHECK_INT_EQ(goc_chan_send(s->ch, &id), 0);
    }
    return NULL;
}

static void *pt_receiver(void *arg)
{
    pt_state *s = arg;
    int id;
    int rc;
    while ((rc = goc_chan_recv(s->ch, &id)) == 0) {
        pt_count(s, id);
        atomic_fetch_add(&s->taken_by_cos, 1);
    }
    TU_CHECK(rc == GOC_ECLOSED || rc == GOC_ECANCELED);
    return NULL;
}

/* Wait for a plain thread's flag with timers, so the runtime does not call
 * it a deadlock while only plain threads can help. */
static int pt_wait(_Atomic int *flag, int want)
{
    int64_t end = goc_now() + 60 * TU_SEC;
    while (atomic_load(flag) != want && goc_now() < end)
        goc_sleep(TU_MS);
    return atomic_load(flag) == want;
}

static void pt_main(void *arg)
{
    pt_state *s = arg;
    for (int i = 0; i < PT_RECEIVERS; i++) {
        s->receivers[i] = goc_spawn(pt_receiver, s);
        TU_CHECK(s->receivers[i] != NULL);
    }
    pthread_t senders[PT_SENDERS], taker, canceller;
    pt_sender args[PT_SENDERS + PT_CO_SENDERS];
    goc_task *co_senders[PT_CO_SENDERS];
    for (int i = 0; i < PT_CO_SENDERS; i++) {
        args[PT_SENDERS + i] = (pt_sender){ .s = s, .index = PT_SENDERS + i };
        co_senders[i] = goc_spawn(pt_co_sender, &args[PT_SENDERS + i]);
        TU_CHECK(co_senders[i] != NULL);
    }
    for (int i = 0; i < PT_SENDERS; i++) {
        args[i] = (pt_sender){ .s = s, .index = i };
        TU_CHECK_INT_EQ(pthread_create(&senders[i], NULL, pt_send_thread, &args[i]), 0);
    }
    TU_CHECK_INT_EQ(pthread_create(&taker, NULL, pt_take_thread, s), 0);
    TU_CHECK_INT_EQ(pthread_create(&canceller, NULL, pt_cancel_thread, s), 0);
    TU_CHECK(pt_wait(&s->senders_left, 0));
    TU_CHECK(pt_wait(&s->canceller_done, 1));
    for (int i = 0; i < PT_CO_SENDERS; i++)
        if (co_senders[i])
            TU_CHECK_INT_EQ(goc_join(co_senders[i], NULL), 0);
    /* let the receivers drain what is buffered, then stop everyone */
    while (goc_chan_len(s->ch) > 0)
        goc_sleep(TU_MS);
    atomic_store(&s->stop_taker, 1);
    TU_CHECK(pt_wait(&s->taker_done, 1));
    for (int i = 0; i < PT_SENDERS; i++)
        pthread_join(senders[i], NULL);
    pthread_join(taker, NULL);
    pthread_join(canceller, NULL);
    TU_CHECK_INT_EQ(goc_chan_close(s->ch), 0);
    for (int i = 0; i < PT_RECEIVERS; i++) {
        if (!s->receivers[i])
            continue;
        int rc = goc_join(s->receivers[i], NULL);
        TU_CHECK(rc == 0 || (i < 2 && rc == GOC_ECANCELED)); /* 0 and 1 were cancelled */
    }
}

static void pt_run(size_t cap)
{
    pt_state s;
    memset(&s, 0, sizeof s);
    s.per_sender = TU_SCALE(20000L);
    long total = PT_IDS(&s);
    s.seen = calloc((size_t)total, sizeof *s.seen);
    assert_non_null(s.seen);
    s.ch = goc_chan_make(sizeof(int), cap);
    assert_non_null(s.ch);
    atomic_store(&s.senders_left, PT_SENDERS);
    TU_RUN(NULL, pt_main, &s);
    assert_int_equal(atomic_load(&s.bad_ids), 0);
    assert_int_equal(atomic_load(&s.bad_rcs), 0);
    long got = atomic_load(&s.taken_by_threads) + atomic_load(&s.taken_by_cos);
    for (long id = 0; id < total; id++)
        if (atomic_load(&s.seen[id]) != 1)
            fail_msg("cap %zu: id %ld received %d times (of %ld sent; %ld by coroutines, %ld by "
                     "the plain thread)", cap, id, atomic_load(&s.seen[id]), total,
                     atomic_load(&s.taken_by_cos), atomic_load(&s.taken_by_threads));
    assert_int_equal(got, total);
    assert_int_equal(goc_chan_free(s.ch), 0);
    free(s.seen);
}

static void test_plain_threads_race_workers(void **state)
{
    (void)state;
    pt_run(0);
    pt_run(8);
}

/* ------------------------- plain threads inside a busy one-worker run */

/* The sharper guard of solo mode (sched/solo.h): the worker never parks in
 * its hot loop, so its channel sections run back to back, while a plain
 * thread (one, so the two share the machine's two cores) trysends and
 * tryrecvs on the same buffered channel without pausing, and another
 * cancels coroutines the worker is handing values to. A plain thread that
 * wrote while the worker used plain stores would lose or double an id
 * (buffer indices, length) or let a cancel and a hand-off both win.
 * Exact accounting, as above. */
#define BW_PARKERS 64            /* coroutines that park once on the unbuffered channel */

typedef struct bw_state {
    goc_chan *buf, *unb;
    long per;                        /* ids the plain thread and the churner each send */
    long total;                      /* 2 * per, then BW_PARKERS to hand over */
    _Atomic int *seen;
    _Atomic int plain_done;
    _Atomic int cancels_done;
    int handed;                      /* ids trysent into unb successfully (the churner's) */
    _Atomic int parked_got;          /* parkers that received one */
    _Atomic int parked_cancelled;
    _Atomic int bad;
    goc_task *parkers[BW_PARKERS];
} bw_state;

static void bw_count(bw_state *s, int id)
{
    if (id < 0 || id >= s->total)
        atomic_fetch_add(&s->bad, 1);
    else
        atomic_fetch_add(&s->seen[id], 1);
}

/* Sends ids [0, per) into buf, taking one out whenever it is full. */
static void *bw_plain_thread(void *arg)
{
    bw_state *s = arg;
    int v;
    for (int id = 0; id < s->per; id++) {
        int rc;
        while ((rc = goc_chan_trysend(s->buf, &id)) == GOC_EAGAIN)
            if (goc_chan_tryrecv(s->buf, &v) == 0)
                bw_count(s, v);
        if (rc != 0)
            atomic_fetch_add(&s->bad, 1);
        if (goc_chan_len(s->buf) > 4)
            atomic_fetch_add(&s->bad, 1);
    }
    atomic_store(&s->plain_done, 1);
    return NULL;
}

static void *bw_cancel_thread(void *arg)
{
    bw_state *s = arg;
    for (int i = 0; i < BW_PARKERS; i++) {
        usleep(200 + (unsigned)(i % 7) * 100);
        goc_cancel(s->parkers[(i * 37) % BW_PARKERS]); /* a permutation: 37 is prime to 64 */
    }
    atomic_store(&s->cancels_done, 1);
    return NULL;
}

static void *bw_parker(void *arg)
{
    bw_state *s = arg;
    int id = -1;
    int rc = goc_chan_recv(s->unb, &id);
    if (rc == 0) {
        bw_count(s, id);
        atomic_fetch_add(&s->parked_got, 1);
    } else if (rc == GOC_ECANCELED) {
        atomic_fetch_add(&s->parked_cancelled, 1);
    } else {
        atomic_fetch_add(&s->bad, 1);
    }
    return NULL;
}

/* One step of the churner: the next parker id into unb if one waits. */
static void bw_hand_over(bw_state *s)
{
    int id = (int)(2 * s->per) + s->handed;
    if (id < s->total && goc_chan_trysend(s->unb, &id) == 0)
        s->handed++;
}

/* On the worker, never parking: ids [per, 2 per) into buf, taking one out
 * whenever it is full, and the parkers' ids into unb; then what is left. */
static void bw_churn(bw_state *s)
{
    int v;
    for (int id = (int)s->per; id < 2 * s->per; id++) {
        while (goc_chan_trysend(s->buf, &id) == GOC_EAGAIN)
            if (goc_chan_tryrecv(s->buf, &v) == 0)
                bw_count(s, v);
        bw_hand_over(s);
        if (id % 64 == 0)
            goc_yield();
    }
    while (!atomic_load(&s->plain_done) || !atomic_load(&s->cancels_done)) {
        if (goc_chan_tryrecv(s->buf, &v) == 0)
            bw_count(s, v);
        bw_hand_over(s);
        goc_yield();
    }
    while (goc_chan_tryrecv(s->buf, &v) == 0)
        bw_count(s, v);
}

static void bw_main(void *arg)
{
    bw_state *s = arg;
    for (int i = 0; i < BW_PARKERS; i++) {
        s->parkers[i] = goc_spawn(bw_parker, s);
        TU_CHECK(s->parkers[i] != NULL);
    }
    goc_yield(); /* let them park */
    pthread_t plain, canceller;
    TU_CHECK_INT_EQ(pthread_create(&plain, NULL, bw_plain_thread, s), 0);
    TU_CHECK_INT_EQ(pthread_create(&canceller, NULL, bw_cancel_thread, s), 0);
    bw_churn(s);
    pthread_join(plain, NULL);
    pthread_join(canceller, NULL);
    for (int i = 0; i < BW_PARKERS; i++)
        if (s->parkers[i])
            (void)goc_join(s->parkers[i], NULL);
}

static void bw_run(int64_t linger_ns)
{
    int64_t linger_was = atomic_load(&goc__solo_linger_ns);
    atomic_store(&goc__solo_linger_ns, linger_ns);
    bw_state s;
    memset(&s, 0, sizeof s);
    s.per = TU_SCALE(100000L);
    s.total = 2 * s.per + BW_PARKERS;
    s.seen = calloc((size_t)s.total, sizeof *s.seen);
    assert_non_null(s.seen);
    s.buf = goc_chan_make(sizeof(int), 4);
    s.unb = goc_chan_make(sizeof(int), 0);
    assert_non_null(s.buf);
    assert_non_null(s.unb);
    TU_RUN(NULL, bw_main, &s);
    assert_int_equal(atomic_load(&s.bad), 0);
    long sent = 2 * s.per;
    for (long id = 0; id < sent; id++)
        if (atomic_load(&s.seen[id]) != 1)
            fail_msg("buffered: id %ld received %d times", id, atomic_load(&s.seen[id]));
    /* The unbuffered hand-offs: each id trysent successfully reached
     * exactly one parker, a cancelled parker got none. */
    for (long id = sent; id < s.total; id++)
        if (atomic_load(&s.seen[id]) != (id < sent + s.handed))
            fail_msg("unbuffered: id %ld received %d times (%d handed over)", id,
                     atomic_load(&s.seen[id]), s.handed);
    assert_int_equal(atomic_load(&s.parked_got), s.handed);
    assert_int_equal(atomic_load(&s.parked_got) + atomic_load(&s.parked_cancelled), BW_PARKERS);
    assert_int_equal(goc_chan_free(s.buf), 0);
    assert_int_equal(goc_chan_free(s.unb), 0);
    free(s.seen);
    atomic_store(&goc__solo_linger_ns, linger_was);
}

/* Twice: with every plain call announcing itself afresh (a membarrier
 * and a wait each: the gate under the most traffic), then as shipped
 * (calls taking over the announcement the previous one kept). */
static void test_plain_threads_busy_worker(void **state)
{
    (void)state;
    bw_run(0);
    bw_run(atomic_load(&goc__solo_linger_ns));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outside_coroutine),
        cmocka_unit_test(test_unbuffered_rendezvous),
        cmocka_unit_test(test_buffered_fifo),
        cmocka_unit_test(test_mpmc_stress),
        cmocka_unit_test(test_close_drains_then_closed),
        cmocka_unit_test(test_close_wakes_all_waiters),
        cmocka_unit_test(test_trysend_tryrecv),
        cmocka_unit_test(test_signal_channels),
        cmocka_unit_test(test_recv_into_null_discards),
        cmocka_unit_test(test_len_cap_bad_input),
        cmocka_unit_test(test_free_busy),
        cmocka_unit_test(test_free_right_after_last_op),
        cmocka_unit_test(test_prime_sieve),
        cmocka_unit_test(test_cancel_blocked_ops),
        cmocka_unit_test(test_cancel_race_accounting),
        cmocka_unit_test(test_timeout_race_accounting),
        cmocka_unit_test(test_plain_threads_race_workers),
        cmocka_unit_test(test_plain_threads_busy_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
