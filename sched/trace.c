/*
 * trace.c - the execution tracer: Chrome trace-event JSON, the format
 * Perfetto (ui.perfetto.dev) and chrome://tracing open. Started by
 * goc_trace_start(path) or GOC_TRACE=FILE (for one goc_run), ended by
 * goc_trace_stop.
 *
 * Owns: the one trace session (g_tr), its file, and the event buffers:
 * one per worker index, made by that worker on its first event and kept
 * (reused by later sessions) until the process ends, plus one "other
 * threads" buffer for threads that are not workers: the monitor, libuv's
 * thread pool, goc_run's own thread before it becomes worker 0, plain
 * threads waking coroutines (goc_chan_trysend ...).
 *
 * Recording. An event is a fixed-size binary record appended to the
 * calling worker's buffer: no lock, no formatting, one clock read. A full
 * buffer is formatted and written by its owner there and then, under
 * file_lock (one write(2) per 64 KiB of JSON; the formatter needs a few
 * hundred bytes of stack, so it may run on a small coroutine stack).
 * Other threads append to the other-threads buffer under file_lock: their
 * wake-ups start flow arrows from that track, each from a zero-length
 * slice named for its reason.
 *
 * Stopping while workers run. An owner brackets each append with its
 * buffer's busy flag: exchange it to 1, then read goc__trace_on; store 0
 * (release) when done. goc_trace_stop clears goc__trace_on, then waits
 * for every busy flag to read 0 (acquire). Both sides are seq_cst, so
 * either the owner sees tracing off, or stop waits for its append; after
 * the wait no owner touches its buffer until the next start, and stop
 * writes it out. A buffer carries the number of the session it was last
 * written in; an owner finding an older one resets it.
 *
 * Events (pid 1; tid: the worker index, TRACE_TID_OTHER for other
 * threads; ts and dur: microseconds since the start, three decimals):
 *   ph X, cat "run", name: the coroutine's name (goc_set_name, else
 *       "co-ID"), args {"id": ID}: one run of a coroutine, from the switch
 *       to it until it switches away (yield, park, exit);
 *   ph X, cat "sched": a scheduler region: "idle" (a worker blocked in its
 *       loop), "idle (netpoll)" (the poller, also waiting for sockets),
 *       "timers" (args.heap: the worker whose heap they came from; another
 *       worker's when it was stuck), "netpoll" (a harvest, args.ready),
 *       "stack scavenge" (the monitor giving stack pages back,
 *       args.released); and a zero-length slice named for the reason of a
 *       wake-up made outside any run or region;
 *   ph s / ph f, cat "wake", name "wake", same id: a flow arrow from the
 *       waker (inside its run or region slice; args {"reason": R, "to":
 *       ID}) to the start of the woken coroutine's next run ("bp": "e").
 *       R is what the coroutine was parked on (co->wait_what: "chan
 *       recv", "sleep", "to_thread" ...), or "spawn" for a new one;
 *   ph i, cat "sched", name "steal" / "steal next", args {"from": V,
 *       "n": N}: coroutines taken from worker V's run queue / next slot;
 *   ph M: process_name, and thread_name "worker N" / "other threads"
 *       (written at the end).
 * Flow ids are (track + 1) << 32 | a count per track: unique within a
 * session and below 2^53 (exact as a JavaScript number). A coroutine made
 * runnable carries its flow id and the session number in co->cold->trace_flow;
 * an arrow that started in an earlier session is dropped.
 *
 * Locking: ctl_lock serializes start and stop and is taken first;
 * file_lock guards the file, the output chunk and the other-threads
 * buffer. An owner flushing a full buffer holds its busy flag and takes
 * file_lock; stop waits for busy flags holding only ctl_lock. Timers fire
 * under their heap's spinlock, so with tracing on a flush may happen
 * under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

#define TRACE_BUF_EVENTS 4096
#define TRACE_MAX_WORKERS 4096     /* parse_workers' bound */
#define TRACE_TID_OTHER 65000
#define TRACE_OUT_SIZE 65536
#define TRACE_ROOM 4               /* free events a hook may use */
#define TRACE_FLOW_MASK ((UINT64_C(1) << 48) - 1)

enum { EV_RUN, EV_REGION, EV_FLOW_START, EV_FLOW_END, EV_STEAL };

typedef struct trace_ev {
    int64_t ts;                /* goc_now() */
    int64_t dur;               /* ns; slices */
    uint64_t id;               /* run, flow start: coroutine id; flow end: flow id; steal: n */
    int64_t arg;               /* region: its number; flow start: flow id; steal: victim */
    const char *label;         /* region name, flow reason or steal kind (static strings) */
    const char *argname;       /* region: its number's name, or NULL */
    uint8_t kind;              /* EV_* */
    char name[GOC_NAME_MAX];   /* run: the coroutine's name */
} trace_ev;

typedef struct trace_buf {
    _Atomic int busy;          /* its owner is appending */
    uint32_t session;          /* session of the fields below */
    uint32_t len;
    int depth;                 /* regions open */
    goc_co *open;              /* coroutine whose run slice is open, or NULL */
    int64_t open_ts;
    uint32_t nflow;            /* flow ids handed out */
    int tid;
    trace_ev ev[TRACE_BUF_EVENTS];
} trace_buf;

_Atomic int goc__trace_on;

static struct {
    pthread_mutex_t ctl_lock;
    pthread_mutex_t file_lock;
    int fd;                    /* -1: no session */
    int64_t t0;                /* goc_now() at the start */
    _Atomic uint32_t session;  /* number of the current (or last) session */
    _Atomic int run_workers;   /* workers of the latest goc_run */
    _Atomic uint64_t dropped;  /* events lost: no memory for a buffer */
    int first;                 /* nothing written after the header yet */
    int err;                   /* first write error, or 0 */
    size_t outlen;
    char out[TRACE_OUT_SIZE];
    trace_buf other;           /* other threads; under file_lock */
    _Atomic(trace_buf *) bufs[TRACE_MAX_WORKERS];
} g_tr = { .ctl_lock = PTHREAD_MUTEX_INITIALIZER, .file_lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

/* ------------------------------------------------------------ output */

/* The output chunk and the file: callers hold file_lock. */
static void out_drain(void)
{
    size_t off = 0;
    while (off < g_tr.outlen) {
        ssize_t n = write(g_tr.fd, g_tr.out + off, g_tr.outlen - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (!g_tr.err)
                g_tr.err = n < 0 ? -errno : GOC_ENOMEM;
            break;
        }
        off += (size_t)n;
    }
    g_tr.outlen = 0;
}

static void out_bytes(const char *s, size_t n)
{
    if (g_tr.outlen + n > TRACE_OUT_SIZE)
        out_drain();
    memcpy(g_tr.out + g_tr.outlen, s, n);
    g_tr.outlen += n;
}

static void out_str(const char *s)
{
    out_bytes(s, strlen(s));
}

/* s as a JSON string; quotes, backslashes and control bytes escaped. */
static void out_json_str(const char *s)
{
    static const char hex[] = "0123456789abcdef";
    out_bytes("\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            out_bytes(e, 2);
        } else if (c < 0x20) {
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            out_bytes(e, 6);
        } else {
            out_bytes((const char *)&c, 1);
        }
    }
    out_bytes("\"", 1);
}

static void out_u64(uint64_t v)
{
    char buf[24];
    int i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    out_bytes(buf + i, sizeof buf - (size_t)i);
}

static void out_i64(int64_t v)
{
    if (v < 0) {
        out_bytes("-", 1);
        out_u64((uint64_t)0 - (uint64_t)v);
    } else {
        out_u64((uint64_t)v);
    }
}

/* ns as microseconds with three decimals (negative clamps to 0). */
static void out_us(int64_t ns)
{
    if (ns < 0)
        ns = 0;
    out_u64((uint64_t)ns / 1000);
    char frac[4] = { '.', (char)('0' + ns / 100 % 10), (char)('0' + ns / 10 % 10),
                     (char)('0' + ns % 10) };
    out_bytes(frac, 4);
}

/* The start of one event object: its separator, ph, pid, tid and ts. */
static void out_event_head(const char *ph, int tid, int64_t ts)
{
    out_str(g_tr.first ? "\n{\"ph\":\"" : ",\n{\"ph\":\"");
    g_tr.first = 0;
    out_str(ph);
    out_str("\",\"pid\":1,\"tid\":");
    out_i64(tid);
    out_str(",\"ts\":");
    out_us(ts - g_tr.t0);
}

static void out_slice(const trace_ev *e, int tid, const char *cat, const char *name)
{
    out_event_head("X", tid, e->ts);
    out_str(",\"dur\":");
    out_us(e->dur);
    out_str(",\"cat\":\"");
    out_str(cat);
    out_str("\",\"name\":");
    out_json_str(name);
    out_str(",\"args\":{");
    if (e->kind == EV_RUN) {
        out_str("\"id\":");
        out_u64(e->id);
    } else if (e->argname) {
        out_json_str(e->argname);
        out_str(":");
        out_i64(e->arg);
    }
    out_str("}}");
}

static void out_event(const trace_ev *e, int tid)
{
    switch (e->kind) {
    case EV_RUN:
        out_slice(e, tid, "run", e->name);
        break;
    case EV_REGION:
        out_slice(e, tid, "sched", e->label);
        break;
    case EV_FLOW_START:
        out_event_head("s", tid, e->ts);
        out_str(",\"cat\":\"wake\",\"name\":\"wake\",\"id\":");
        out_i64(e->arg);
        out_str(",\"args\":{\"reason\":");
        out_json_str(e->label);
        out_str(",\"to\":");
        out_u64(e->id);
        out_str("}}");
        break;
    case EV_FLOW_END:
        out_event_head("f", tid, e->ts);
        out_str(",\"bp\":\"e\",\"cat\":\"wake\",\"name\":\"wake\",\"id\":");
        out_u64(e->id);
        out_str("}");
        break;
    case EV_STEAL:
        out_event_head("i", tid, e->ts);
        out_str(",\"s\":\"t\",\"cat\":\"sched\",\"name\":");
        out_json_str(e->label);
        out_str(",\"args\":{\"from\":");
        out_i64(e->arg);
        out_str(",\"n\":");
        out_u64(e->id);
        out_str("}}");
        break;
    }
}

static void out_thread_name(int tid, const char *name)
{
    out_str(g_tr.first ? "\n" : ",\n");
    g_tr.first = 0;
    out_str("{\"ph\":\"M\",\"pid\":1,\"tid\":");
    out_i64(tid);
    out_str(",\"name\":\"thread_name\",\"args\":{\"name\":");
    out_json_str(name);
    out_str("}}");
}

/* Write b's events out and empty it; file_lock held. */
static void flush_locked(trace_buf *b)
{
    for (uint32_t i = 0; i < b->len; i++)
        out_event(&b->ev[i], b->tid);
    b->len = 0;
}

/* ----------------------------------------------------------- buffers */

/* A buffer found holding an older session's state starts afresh. */
static void sync_session(trace_buf *b)
{
    uint32_t s = atomic_load_explicit(&g_tr.session, memory_order_relaxed);
    if (b->session == s)
        return;
    b->session = s;
    b->len = 0;
    b->depth = 0;
    b->open = NULL;
    b->nflow = 0;
}

static trace_buf *buf_new(int tid)
{
    trace_buf *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    atomic_init(&b->busy, 0);
    b->session = 0; /* no session is numbered 0 */
    b->len = 0;
    b->depth = 0;
    b->open = NULL;
    b->nflow = 0;
    b->tid = tid;
    return b;
}

/* The calling worker's buffer, marked busy and with room for TRACE_ROOM
 * events; NULL if tracing is off (or no memory for it). */
static trace_buf *own_begin(goc_worker *w)
{
    trace_buf *b = atomic_load_explicit(&g_tr.bufs[w->index], memory_order_relaxed);
    if (!b) {
        if (!(b = buf_new(w->index))) {
            atomic_fetch_add_explicit(&g_tr.dropped, 1, memory_order_relaxed);
            return NULL;
        }
        atomic_store_explicit(&g_tr.bufs[w->index], b, memory_order_release);
    }
    atomic_exchange(&b->busy, 1);
    if (!atomic_load(&goc__trace_on)) {
        atomic_store_explicit(&b->busy, 0, memory_order_release);
        return NULL;
    }
    sync_session(b);
    if (b->len + TRACE_ROOM > TRACE_BUF_EVENTS) {
        pthread_mutex_lock(&g_tr.file_lock);
        flush_locked(b);
        pthread_mutex_unlock(&g_tr.file_lock);
    }
    return b;
}

static void own_end(trace_buf *b)
{
    atomic_store_explicit(&b->busy, 0, memory_order_release);
}

/* The other-threads buffer with file_lock held and room for TRACE_ROOM
 * events; NULL (lock released) if tracing is off. */
static trace_buf *other_begin(void)
{
    pthread_mutex_lock(&g_tr.file_lock);
    if (!atomic_load(&goc__trace_on)) {
        pthread_mutex_unlock(&g_tr.file_lock);
        return NULL;
    }
    trace_buf *b = &g_tr.other;
    b->tid = TRACE_TID_OTHER;
    sync_session(b);
    if (b->len + TRACE_ROOM > TRACE_BUF_EVENTS)
        flush_locked(b);
    return b;
}

static void other_end(void)
{
    pthread_mutex_unlock(&g_tr.file_lock);
}

/* Callers made room (own_begin, other_begin). */
static trace_ev *push(trace_buf *b, uint8_t kind, int64_t ts)
{
    trace_ev *e = &b->ev[b->len++];
    e->kind = kind;
    e->ts = ts;
    e->dur = 0;
    e->id = 0;
    e->arg = 0;
    e->label = NULL;
    e->argname = NULL;
    return e;
}

static void push_region(trace_buf *b, int64_t begin, int64_t end, const char *what,
                        const char *argname, int64_t arg)
{
    trace_ev *e = push(b, EV_REGION, begin);
    e->dur = end - begin;
    e->label = what;
    e->argname = argname;
    e->arg = arg;
}

static void close_run(trace_buf *b, int64_t now)
{
    goc_co *co = b->open;
    trace_ev *e = push(b, EV_RUN, b->open_ts);
    e->dur = now - b->open_ts;
    e->id = co->id;
    goc__co_name(co, e->name);
    b->open = NULL;
}

/* ------------------------------------------------------------- hooks */

void goc__trace_co_begin(goc_worker *w, goc_co *co)
{
    trace_buf *b = own_begin(w);
    if (!b)
        return;
    int64_t now = goc_now();
    if (b->open)
        close_run(b, now); /* a direct switch: the coroutine it replaces */
    b->open = co;
    b->open_ts = now;
    uint64_t flow = co->cold->trace_flow;
    if (flow) {
        co->cold->trace_flow = 0;
        if ((flow >> 48) == (b->session & 0xffff))
            push(b, EV_FLOW_END, now)->id = flow & TRACE_FLOW_MASK;
    }
    own_end(b);
}

void goc__trace_co_end(goc_worker *w, goc_co *co)
{
    trace_buf *b = own_begin(w);
    if (!b)
        return;
    if (b->open == co)
        close_run(b, goc_now());
    own_end(b);
}

/* The flow start of a wake-up, on b's track; from a zero-length slice
 * named for its reason when no slice is open there. */
static void flow_start(trace_buf *b, goc_co *co, int in_slice)
{
    int64_t now = goc_now();
    const char *why = atomic_load_explicit(&co->wait_what, memory_order_relaxed);
    if (!why)
        why = "spawn";
    if (!in_slice)
        push_region(b, now, now, why, NULL, 0);
    uint64_t flow = ((uint64_t)(b->tid + 1) << 32) | ++b->nflow;
    trace_ev *e = push(b, EV_FLOW_START, now);
    e->arg = (int64_t)flow;
    e->id = co->id;
    e->label = why;
    co->cold->trace_flow = ((uint64_t)(b->session & 0xffff) << 48) | flow;
}

void goc__trace_ready(goc_co *co)
{
    goc_worker *w = goc__worker();
    trace_buf *b;
    if (!w) {
        if ((b = other_begin())) {
            flow_start(b, co, 0);
            other_end();
        }
        return;
    }
    if ((b = own_begin(w))) {
        flow_start(b, co, b->open || b->depth);
        own_end(b);
    }
}

void goc__trace_steal(goc_worker *w, const goc_worker *victim, uint32_t n, const char *what)
{
    trace_buf *b = own_begin(w);
    if (!b)
        return;
    trace_ev *e = push(b, EV_STEAL, goc_now());
    e->label = what;
    e->arg = victim->index;
    e->id = n;
    own_end(b);
}

int64_t goc__trace_region_begin(void)
{
    goc_worker *w = goc__worker();
    int64_t now = goc_now();
    if (!w)
        return atomic_load(&goc__trace_on) ? now : 0;
    trace_buf *b = own_begin(w);
    if (!b)
        return 0;
    b->depth++;
    own_end(b);
    return now;
}

void goc__trace_region_end(int64_t begin, const char *what, const char *argname, int64_t arg)
{
    if (!begin)
        return;
    goc_worker *w = goc__worker();
    int64_t now = goc_now();
    trace_buf *b;
    if (!w) {
        if ((b = other_begin())) {
            if (what && begin >= g_tr.t0)
                push_region(b, begin, now, what, argname, arg);
            other_end();
        }
        return;
    }
    if (!(b = own_begin(w)))
        return;
    if (b->depth > 0)
        b->depth--;
    if (what && begin >= g_tr.t0) /* else nothing to show, or it began before this session */
        push_region(b, begin, now, what, argname, arg);
    own_end(b);
}

/* --------------------------------------------------------------- API */

int goc_trace_start(const char *path)
{
    if (!path || !*path)
        return GOC_EINVAL;
    pthread_mutex_lock(&g_tr.ctl_lock);
    if (g_tr.fd >= 0) {
        pthread_mutex_unlock(&g_tr.ctl_lock);
        return GOC_EBUSY;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = -errno;
        pthread_mutex_unlock(&g_tr.ctl_lock);
        return err;
    }
    pthread_mutex_lock(&g_tr.file_lock);
    g_tr.fd = fd;
    g_tr.err = 0;
    g_tr.outlen = 0;
    g_tr.t0 = goc_now();
    atomic_store_explicit(&g_tr.dropped, 0, memory_order_relaxed);
    uint32_t s = atomic_load_explicit(&g_tr.session, memory_order_relaxed) + 1;
    if ((s & 0xffff) == 0)
        s++; /* 0 would match a coroutine's cleared trace_flow */
    atomic_store_explicit(&g_tr.session, s, memory_order_relaxed);
    out_str("{\"traceEvents\":[\n"
            "{\"ph\":\"M\",\"pid\":1,\"tid\":0,\"name\":\"process_name\","
            "\"args\":{\"name\":\"goc\"}}");
    g_tr.first = 0;
    pthread_mutex_unlock(&g_tr.file_lock);
    atomic_store(&goc__trace_on, 1);
    pthread_mutex_unlock(&g_tr.ctl_lock);
    return 0;
}

/* Wait until b's owner is out of its append (tracing is off already). */
static void wait_not_busy(trace_buf *b)
{
    unsigned spins = 0;
    while (atomic_load_explicit(&b->busy, memory_order_acquire))
        goc__spin_wait(&spins);
}

/* Write out the worker buffers of this session, closing the run slices
 * still open (a coroutine that called goc_trace_stop, or others running
 * meanwhile); returns how many worker tracks there are. file_lock held. */
static int flush_workers_locked(int64_t now)
{
    uint32_t s = atomic_load_explicit(&g_tr.session, memory_order_relaxed);
    int ntracks = atomic_load(&g_tr.run_workers);
    for (int i = 0; i < TRACE_MAX_WORKERS; i++) {
        trace_buf *b = atomic_load_explicit(&g_tr.bufs[i], memory_order_acquire);
        if (!b || b->session != s)
            continue;
        if (b->open)
            close_run(b, now); /* own_begin left room */
        flush_locked(b);
        if (i + 1 > ntracks)
            ntracks = i + 1;
    }
    return ntracks;
}

int goc_trace_stop(void)
{
    pthread_mutex_lock(&g_tr.ctl_lock);
    if (g_tr.fd < 0) {
        pthread_mutex_unlock(&g_tr.ctl_lock);
        return GOC_EINVAL;
    }
    atomic_store(&goc__trace_on, 0);
    int64_t now = goc_now();
    for (int i = 0; i < TRACE_MAX_WORKERS; i++) {
        trace_buf *b = atomic_load_explicit(&g_tr.bufs[i], memory_order_acquire);
        if (b)
            wait_not_busy(b);
    }
    pthread_mutex_lock(&g_tr.file_lock);
    int ntracks = flush_workers_locked(now);
    int other = g_tr.other.session == atomic_load_explicit(&g_tr.session, memory_order_relaxed);
    if (other)
        flush_locked(&g_tr.other);
    for (int i = 0; i < ntracks; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker %d", i);
        out_thread_name(i, name);
    }
    if (other)
        out_thread_name(TRACE_TID_OTHER, "other threads");
    out_str("\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"dropped\":");
    out_u64(atomic_load_explicit(&g_tr.dropped, memory_order_relaxed));
    out_str("}}\n");
    out_drain();
    if (close(g_tr.fd) != 0 && !g_tr.err)
        g_tr.err = -errno;
    g_tr.fd = -1;
    int err = g_tr.err;
    pthread_mutex_unlock(&g_tr.file_lock);
    pthread_mutex_unlock(&g_tr.ctl_lock);
    return err;
}

int goc__trace_runtime_begin(const goc_runtime *rt)
{
    atomic_store(&g_tr.run_workers, rt->nworkers);
    const char *path = getenv("GOC_TRACE");
    if (!path || !*path)
        return 0;
    int err = goc_trace_start(path);
    if (err == 0)
        return 1;
    if (err != GOC_EBUSY) /* busy: the program traces on its own */
        fprintf(stderr, "goc: GOC_TRACE=%s: %s\n", path, strerror(-err));
    return 0;
}

void goc__trace_runtime_end(int started)
{
    if (!started)
        return;
    int err = goc_trace_stop();
    if (err)
        fprintf(stderr, "goc: GOC_TRACE: writing the trace: %s\n", strerror(-err));
}
