/*
 * task.c - asyncio-style waits on tasks: goc_fail, goc_done, goc_gather,
 * goc_wait_first(_ok), goc_wait_for, and task groups (goc_group_*).
 *
 * Owns: the multi-task wait (multi_wait, below) and goc_group.
 *
 * Waiting on several tasks. A task has one joiner slot (its join word), so
 * these calls hang a goc_watch on every task instead (sched/coro.c): the
 * task's exit calls on_task_end under the task's watch_lock, which pushes
 * the watch on the waiter's lock-free `ready` stack and wakes the waiter
 * (goc__wake: exactly once per park, a loser just finds the stack on its
 * next look). The waiter checks the stack after goc__park_begin, so a push
 * is never missed: either it sees the push, or the pusher sees WAITING.
 * Invariants:
 *   - every watch hung is removed (goc__watch_remove) before the call
 *     returns and before its task's handle is released: after that no
 *     on_task_end runs for it, so no stale wake-up reaches a later park of
 *     the waiter and the watch memory can go;
 *   - a task's outcome (result, err) is read only after its watch fired or
 *     goc_done saw it: both are after the task published them;
 *   - gather consumes each handle exactly once: as its task ends, or at
 *     the end for the tasks that go on detached.
 * A wait that must not be cut short by the waiter's own cancellation
 * (wait_for waiting for the task it cancelled) parks "held"
 * (goc__hold_begin), woken only by the task's exit.
 *
 * Groups. Members are plain coroutines running member_body, linked on the
 * group's list while they run, so a cancel always reaches a live
 * coroutine. The first member to end failed records the group's error and
 * cancels the rest. Locking: g->lock guards everything in the group; a
 * member's last touch of the group is its unlock; a woken waiter takes the
 * lock once more before it returns and counts itself in nwaiting until
 * then, so goc_group_free can never free a group something still touches.
 */
#include <limits.h>
#include <stdlib.h>

#include "park.h"

/* ------------------------------------------------------------ fail, done */

void *goc_fail(int err)
{
    goc_co *self = goc__self();
    if (self && err < 0)
        self->err = err;
    return NULL;
}

int goc_done(goc_task *t)
{
    return t && goc__task_returned((goc_co *)t);
}

/* -------------------------------------------------------- multi_wait */

typedef struct multi_wait multi_wait;

typedef struct task_watch {
    goc_watch w;                  /* first: on_task_end gets &w */
    multi_wait *m;
    size_t index;
    struct task_watch *ready_next;
    int added;                    /* goc__watch_add was called: remove it */
    int consumed;                 /* gather: the handle was released */
} task_watch;

struct multi_wait {
    goc_co *self;                 /* the waiter; NULL outside a coroutine */
    goc_task **tasks;
    size_t n;
    task_watch *ws;
    task_watch one;               /* ws when n == 1: no allocation */
    _Atomic(task_watch *) ready;  /* pushed by task exits, newest first */
    task_watch *fifo, *fifo_tail; /* taken from ready, oldest first (owner only) */
    int64_t deadline;             /* INT64_MAX: none */
    int nonblocking;              /* timeout 0 */
    int timer_on;
    goc_timer timer;
    _Atomic int timed_out;
    const char *what;
};

static void fifo_push(multi_wait *m, task_watch *tw)
{
    tw->ready_next = NULL;
    if (m->fifo_tail)
        m->fifo_tail->ready_next = tw;
    else
        m->fifo = tw;
    m->fifo_tail = tw;
}

static task_watch *fifo_pop(multi_wait *m)
{
    task_watch *tw = m->fifo;
    if (tw) {
        m->fifo = tw->ready_next;
        if (!m->fifo)
            m->fifo_tail = NULL;
    }
    return tw;
}

/* Scheduler context, under the task's watch_lock: the task returned. */
static void on_task_end(goc_watch *w)
{
    task_watch *tw = (task_watch *)w;
    multi_wait *m = tw->m;
    task_watch *head = atomic_load(&m->ready);
    do {
        tw->ready_next = head;
    } while (!atomic_compare_exchange_weak(&m->ready, &head, tw));
    goc__wake(m->self, GOC_WS_WOKEN);
}

static void on_deadline(goc_timer *t)
{
    multi_wait *m = t->arg;
    atomic_store(&m->timed_out, 1);
    goc__wake(t->co, GOC_WS_TIMEDOUT);
}

/* Move what task exits pushed to the fifo, oldest first. 1 if any. */
static int take_ready(multi_wait *m)
{
    task_watch *list = atomic_exchange(&m->ready, NULL);
    if (!list)
        return 0;
    task_watch *rev = NULL;
    while (list) {
        task_watch *next = list->ready_next;
        list->ready_next = rev;
        rev = list;
        list = next;
    }
    while (rev) {
        task_watch *next = rev->ready_next;
        fifo_push(m, rev);
        rev = next;
    }
    return 1;
}

/* Watch the n tasks (n >= 1). The ones that already returned are queued
 * at once, in index order. A call that cannot park (timeout 0, or outside
 * a coroutine) only looks at which are done. 0 or GOC_ENOMEM. */
static int mw_begin(multi_wait *m, goc_task **tasks, size_t n, int64_t timeout_ns,
                    const char *what)
{
    m->self = goc__self();
    m->tasks = tasks;
    m->n = n;
    m->ws = n == 1 ? &m->one : calloc(n, sizeof(task_watch));
    if (!m->ws)
        return GOC_ENOMEM;
    atomic_init(&m->ready, NULL);
    m->fifo = m->fifo_tail = NULL;
    m->deadline = goc__deadline_in(timeout_ns);
    m->nonblocking = timeout_ns == 0;
    m->timer_on = 0;
    atomic_init(&m->timed_out, 0);
    m->what = what;
    int can_park = m->self && !m->nonblocking;
    for (size_t i = 0; i < n; i++) {
        task_watch *tw = &m->ws[i];
        tw->m = m;
        tw->index = i;
        tw->added = 0;
        tw->consumed = 0;
        tw->w.fn = on_task_end;
        if (!can_park) {
            if (goc_done(tasks[i]))
                fifo_push(m, tw);
            continue;
        }
        tw->added = 1;
        if (goc__watch_add((goc_co *)tasks[i], &tw->w) != 0)
            fifo_push(m, tw);
    }
    return 0;
}

/* The next task to have returned (its index), or GOC_ETIMEDOUT,
 * GOC_ECANCELED, GOC_EAGAIN (timeout 0), GOC_EPERM (would park outside a
 * coroutine). Parks as needed; tolerates stale wake-ups of its own. */
static int mw_next(multi_wait *m)
{
    for (;;) {
        task_watch *tw = fifo_pop(m);
        if (tw)
            return (int)tw->index;
        if (take_ready(m))
            continue;
        if (atomic_load(&m->timed_out))
            return GOC_ETIMEDOUT;
        if (m->nonblocking)
            return GOC_EAGAIN;
        if (!m->self)
            return GOC_EPERM;
        if (m->deadline != INT64_MAX && !m->timer_on) {
            m->timer = (goc_timer){ .when = m->deadline, .idx = GOC_TIMER_NONE,
                                    .fire = on_deadline, .co = m->self, .arg = m };
            goc__timer_add(goc__worker(), &m->timer);
            m->timer_on = 1;
        }
        if (goc__park_begin(m->self, m->what) != 0)
            return GOC_ECANCELED;
        if (atomic_load(&m->ready) || atomic_load(&m->timed_out)) {
            goc__park_abort(m->self);
            continue;
        }
        (void)goc__park(m->self); /* the loop reads why */
    }
}

/* Unhook task i's watch; after this its on_task_end is not running. */
static void mw_settle(multi_wait *m, size_t i)
{
    task_watch *tw = &m->ws[i];
    if (tw->added) {
        goc__watch_remove(&tw->w);
        tw->added = 0;
    }
}

static void mw_end(multi_wait *m)
{
    if (m->timer_on)
        goc__timer_remove(&m->timer); /* after this, on_deadline is not running */
    for (size_t i = 0; i < m->n; i++)
        mw_settle(m, i);
    if (m->ws != &m->one)
        free(m->ws);
    m->ws = NULL;
}

/* ------------------------------------------------------------ helpers */

static void release_handle(goc_co *t)
{
    if (goc__runtime())
        goc__co_release(goc__worker(), t);
}

/* Common checks on a task array; 0 or GOC_EINVAL. */
static int check_tasks(goc_task **tasks, size_t n)
{
    if (!tasks || n == 0 || n > INT_MAX)
        return GOC_EINVAL;
    goc_co *self = goc__self();
    for (size_t i = 0; i < n; i++)
        if (!tasks[i] || (goc_co *)tasks[i] == self)
            return GOC_EINVAL;
    return 0;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(goc_task *const *)a, y = (uintptr_t)*(goc_task *const *)b;
    return (x > y) - (x < y);
}

/* 1 if some handle appears twice (it would be consumed twice), 0 if not,
 * GOC_ENOMEM. */
static int has_duplicates(goc_task **tasks, size_t n)
{
    if (n <= 16) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (tasks[i] == tasks[j])
                    return 1;
        return 0;
    }
    goc_task **s = malloc(n * sizeof *s);
    if (!s)
        return GOC_ENOMEM;
    for (size_t i = 0; i < n; i++)
        s[i] = tasks[i];
    qsort(s, n, sizeof *s, cmp_ptr);
    int dup = 0;
    for (size_t i = 1; i < n && !dup; i++)
        dup = s[i] == s[i - 1];
    free(s);
    return dup;
}

/* A wait goc_cancel cannot cut short: until t returns. */
typedef struct held_watch {
    goc_watch w;                  /* first */
    goc_co *waiter;
} held_watch;

static void on_task_end_release(goc_watch *w)
{
    goc__release(((held_watch *)w)->waiter);
}

static void wait_returned_held(goc_co *self, goc_co *t, const char *what)
{
    if (goc_done((goc_task *)t))
        return;
    held_watch hw = { .waiter = self };
    hw.w.fn = on_task_end_release;
    goc__hold_begin(self, what);
    if (goc__watch_add(t, &hw.w) != 0) {
        goc__hold_abort(self); /* it returned meanwhile */
        return;
    }
    (void)goc__park(self);
    goc__watch_remove(&hw.w);
}

/* ------------------------------------------------------------- gather */

int goc_gather(goc_task **tasks, size_t n, void **results, int *errs, int flags)
{
    if (n == 0)
        return 0;
    if ((flags & ~GOC_GATHER_SETTLED) != 0 || check_tasks(tasks, n) != 0)
        return GOC_EINVAL;
    int dup = has_duplicates(tasks, n);
    if (dup)
        return dup < 0 ? dup : GOC_EINVAL;
    goc_co *self = goc__self();
    if (!self) {
        for (size_t i = 0; i < n; i++)
            release_handle((goc_co *)tasks[i]);
        return GOC_EPERM;
    }
    for (size_t i = 0; i < n; i++) {
        if (results)
            results[i] = NULL;
        if (errs)
            errs[i] = GOC_EAGAIN;
    }
    multi_wait m;
    int rc = mw_begin(&m, tasks, n, -1, "gather");
    if (rc != 0)
        return rc;
    size_t left = n;
    rc = 0;
    while (left > 0) {
        int i = mw_next(&m);
        if (i < 0) {
            rc = i; /* GOC_ECANCELED */
            break;
        }
        mw_settle(&m, (size_t)i);
        goc_co *t = (goc_co *)tasks[i];
        int err = goc__task_outcome(t, results ? &results[i] : NULL);
        if (errs)
            errs[i] = err;
        m.ws[i].consumed = 1;
        release_handle(t);
        left--;
        if (err != 0 && !(flags & GOC_GATHER_SETTLED)) {
            rc = err;
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!m.ws[i].consumed) {
            mw_settle(&m, i);
            release_handle((goc_co *)tasks[i]); /* it runs on, detached */
        }
    }
    mw_end(&m);
    return rc;
}

/* --------------------------------------------------------- wait_first */

int goc_wait_first(goc_task **tasks, size_t n, int64_t timeout_ns)
{
    int rc = check_tasks(tasks, n);
    if (rc != 0)
        return rc;
    multi_wait m;
    if ((rc = mw_begin(&m, tasks, n, timeout_ns, "wait_first")) != 0)
        return rc;
    rc = mw_next(&m);
    mw_end(&m);
    return rc;
}

int goc_wait_first_ok(goc_task **tasks, size_t n, int64_t timeout_ns)
{
    int rc = check_tasks(tasks, n);
    if (rc != 0)
        return rc;
    multi_wait m;
    if ((rc = mw_begin(&m, tasks, n, timeout_ns, "wait_first_ok")) != 0)
        return rc;
    size_t failed = 0;
    int first_err = 0;
    for (;;) {
        rc = mw_next(&m);
        if (rc < 0)
            break;
        int err = goc__task_err((goc_co *)tasks[rc]);
        if (err == 0)
            break; /* rc: the winner */
        if (failed++ == 0)
            first_err = err;
        if (failed == n) {
            rc = first_err;
            break;
        }
    }
    mw_end(&m);
    return rc;
}

/* ----------------------------------------------------------- wait_for */

int goc_wait_for(goc_task *task, int64_t timeout_ns, void **result)
{
    goc_co *t = (goc_co *)task;
    if (!t)
        return GOC_EINVAL;
    goc_co *self = goc__self();
    if (!self || t == self) {
        release_handle(t); /* consumed all the same, as goc_join */
        return self ? GOC_EINVAL : GOC_EPERM;
    }
    multi_wait m;
    int rc = mw_begin(&m, &task, 1, timeout_ns, "wait_for"); /* n == 1: no allocation */
    if (rc == 0)
        rc = mw_next(&m);
    mw_end(&m);
    if (rc < 0) { /* timed out (or timeout 0 and not done), or we were cancelled */
        goc__cancel_co(t);
        wait_returned_held(self, t, "wait_for: the task it cancelled");
    }
    int err = goc__task_outcome(t, result); /* the result, whatever ended the wait */
    if (rc < 0)
        rc = rc == GOC_ECANCELED ? GOC_ECANCELED : GOC_ETIMEDOUT;
    else
        rc = err;
    release_handle(t);
    return rc;
}

/* -------------------------------------------------------------- groups */

typedef struct member {
    struct member *prev, *next;
    goc_group *g;
    goc_co *co;
    void *(*fn)(void *);          /* NULL: refused at birth, never run */
    void *arg;
} member;

typedef struct group_waiter {
    goc_waiter w;                 /* first */
    int held;                     /* parked with goc__hold_begin */
} group_waiter;

struct goc_group {
    goc_spin lock;
    member *members;              /* running members */
    size_t running;
    size_t nwaiting;              /* inside goc_group_wait */
    int err;                      /* the first failure, or 0 */
    int failed;                   /* err is set: goc_group_go refuses */
    goc_waitq waiters;
};

goc_group *goc_group_new(void)
{
    goc_group *g = calloc(1, sizeof(goc_group));
    if (g)
        goc__spin_init(&g->lock, GOC_RANK_TASKSET);
    return g;
}

static void link_member(goc_group *g, member *m)
{
    m->prev = NULL;
    m->next = g->members;
    if (m->next)
        m->next->prev = m;
    g->members = m;
}

static void unlink_member(goc_group *g, member *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        g->members = m->next;
    if (m->next)
        m->next->prev = m->prev;
}

/* g->lock held. Record err as the group's failure unless it failed
 * already (the first one wins), and cancel every running member. */
static void fail_locked(goc_group *g, int err)
{
    if (!g->failed) {
        g->failed = 1;
        g->err = err;
    }
    for (member *m = g->members; m; m = m->next)
        goc__cancel_co(m->co); /* linked: alive, so the pointer is good */
}

/* g->lock held; the last member just ended: wake every waiter. They take
 * the lock again before returning, so they cannot leave before us. */
static void wake_waiters_locked(goc_group *g)
{
    goc_waiter *w;
    while ((w = goc__waitq_pop(&g->waiters))) {
        if (((group_waiter *)w)->held)
            goc__release(w->co);
        else
            goc__wake(w->co, GOC_WS_WOKEN); /* a loser was cancelled: it copes */
    }
}

static void member_body(void *arg)
{
    member *m = arg;
    goc_group *g = m->g;
    int err = 0;
    if (m->fn) {
        (void)m->fn(m->arg);
        goc_co *self = goc__self();
        err = self->err < 0 ? self->err : goc_cancelled() ? GOC_ECANCELED : 0;
    }
    goc__spin_lock(&g->lock);
    unlink_member(g, m);
    if (err != 0 && !g->failed)
        fail_locked(g, err); /* the others are cancelled once, by the first */
    if (--g->running == 0)
        wake_waiters_locked(g);
    goc__spin_unlock(&g->lock); /* our last touch of g */
    free(m);
}

int goc_group_go(goc_group *g, void *(*fn)(void *), void *arg)
{
    if (!g || !fn)
        return GOC_EINVAL;
    if (!goc__self())
        return GOC_EPERM;
    goc__spin_lock(&g->lock);
    int failed = g->failed;
    goc__spin_unlock(&g->lock);
    if (failed)
        return GOC_ECANCELED;
    member *m = malloc(sizeof *m);
    if (!m)
        return GOC_ENOMEM;
    int err = 0;
    goc_co *co = goc__co_make(member_body, m, __builtin_return_address(0), &err);
    if (!co) {
        free(m);
        return err;
    }
    *m = (member){ .g = g, .co = co, .fn = fn, .arg = arg };
    goc__spin_lock(&g->lock);
    /* The group may have failed since we looked: then the coroutine (it
     * exists now) only does the bookkeeping, fn never starts. */
    int refused = g->failed;
    if (refused)
        m->fn = NULL;
    link_member(g, m);
    g->running++;
    goc__spin_unlock(&g->lock);
    goc__co_start(co);
    return refused ? GOC_ECANCELED : 0;
}

int goc_group_cancel(goc_group *g)
{
    if (!g)
        return GOC_EINVAL;
    goc__spin_lock(&g->lock);
    fail_locked(g, GOC_ECANCELED);
    goc__spin_unlock(&g->lock);
    return 0;
}

/* g->lock held, running > 0: park until the last member ends, whatever
 * goc_cancel says. Returns with the lock held. */
static void wait_held_locked(goc_group *g, goc_co *self)
{
    group_waiter me = { .w.co = self, .held = 1 };
    goc__hold_begin(self, "task group (cancelled waiter)");
    goc__waitq_push(&g->waiters, &me.w);
    goc__spin_unlock(&g->lock);
    (void)goc__park(self);
    goc__spin_lock(&g->lock); /* the waker unlocks after waking us */
}

int goc_group_wait(goc_group *g)
{
    if (!g)
        return GOC_EINVAL;
    goc_co *self = goc__self();
    if (!self)
        return GOC_EPERM;
    goc__spin_lock(&g->lock);
    if (g->running == 0) {
        int err = g->err;
        goc__spin_unlock(&g->lock);
        return err;
    }
    g->nwaiting++;
    int cancelled = 1;
    if (goc__park_begin(self, "task group") == 0) {
        group_waiter me = { .w.co = self, .held = 0 };
        cancelled = goc__waitq_park(&g->waiters, &me.w, &g->lock, INT64_MAX) != GOC_WS_WOKEN;
        if (!cancelled)
            goc__spin_lock(&g->lock); /* a cancelled wait comes back locked */
    }
    int rc = cancelled ? GOC_ECANCELED : g->err;
    if (cancelled && g->running > 0) {
        /* We were cancelled: cancel the group and wait for it to end. */
        fail_locked(g, GOC_ECANCELED);
        wait_held_locked(g, self);
    }
    g->nwaiting--;
    goc__spin_unlock(&g->lock);
    return rc;
}

int goc_group_free(goc_group *g)
{
    if (!g)
        return GOC_EINVAL;
    goc__spin_lock(&g->lock);
    int busy = g->running > 0 || g->nwaiting > 0;
    goc__spin_unlock(&g->lock);
    if (busy)
        return GOC_EBUSY;
    free(g);
    return 0;
}
