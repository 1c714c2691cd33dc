/*
 * test_trace.c - the execution trace (goc_trace_start / goc_trace_stop,
 * GOC_TRACE): the file is parsed with a strict JSON parser and checked
 * against the Chrome trace-event format's fields and the runtime's
 * behaviour:
 *   - structure: {"traceEvents":[...]}, every event's required fields, a
 *     thread_name per worker and per track used, run slices on one track
 *     never overlapping, every flow start inside a slice of its track and
 *     every flow end at the start of the run slice of the coroutine it
 *     names (args.to);
 *   - a ping-pong between two named coroutines: one hand-off per message,
 *     each a flow arrow from the sender's run to the receiver's next run,
 *     alternating in time, 2N of them;
 *   - blocking_call's shape: a coroutine stuck in usleep holds its worker;
 *     at 2 workers the ticker keeps running on the other worker, woken by
 *     timers fired there; at 1 worker it does not run at all meanwhile;
 *   - a plain thread waking a coroutine (goc_chan_trysend): the arrow
 *     starts on the "other threads" track;
 *   - GOC_TRACE=FILE traces a whole goc_run;
 *   - the API's errors.
 */
#include <pthread.h>

#include "test_util.h"

/* ------------------------------------------------------- a JSON parser */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jv {
    jtype t;
    double num;
    char *str;            /* J_STR */
    size_t n;             /* J_ARR, J_OBJ: members */
    char **keys;          /* J_OBJ */
    struct jv **vals;     /* J_ARR, J_OBJ */
} jv;

typedef struct jp {
    const char *s, *end;
    const char *err;
} jp;

static void jv_free(jv *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        if (v->keys)
            free(v->keys[i]);
        jv_free(v->vals[i]);
    }
    free(v->keys);
    free(v->vals);
    free(v->str);
    free(v);
}

static void jp_ws(jp *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\n' || *p->s == '\r' || *p->s == '\t'))
        p->s++;
}

static jv *jp_value(jp *p, int depth);

static char *jp_string(jp *p)
{
    if (p->s >= p->end || *p->s != '"') {
        p->err = "expected a string";
        return NULL;
    }
    p->s++;
    size_t cap = 16, len = 0;
    char *out = malloc(cap);
    while (p->s < p->end && *p->s != '"') {
        unsigned char c = (unsigned char)*p->s++;
        if (c < 0x20) {
            p->err = "control byte in a string";
            free(out);
            return NULL;
        }
        if (c == '\\') {
            if (p->s >= p->end)
                break;
            char e = *p->s++;
            switch (e) {
            case '"': case '\\': case '/': c = (unsigned char)e; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4; i++, p->s++) {
                    char h = p->s < p->end ? *p->s : 0;
                    int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                          : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                    if (d < 0) {
                        p->err = "bad \\u escape";
                        free(out);
                        return NULL;
                    }
                    v = v * 16 + (unsigned)d;
                }
                c = v < 0x80 ? (unsigned char)v : '?';
                break;
            }
            default:
                p->err = "bad escape";
                free(out);
                return NULL;
            }
        }
        if (len + 2 > cap)
            out = realloc(out, cap *= 2);
        out[len++] = (char)c;
    }
    if (p->s >= p->end) {
        p->err = "unterminated string";
        free(out);
        return NULL;
    }
    p->s++;
    out[len] = 0;
    return out;
}

static int jp_number(jp *p, double *out)
{
    const char *b = p->s;
    if (p->s < p->end && *p->s == '-')
        p->s++;
    if (p->s >= p->end || *p->s < '0' || *p->s > '9')
        return 0;
    if (*p->s == '0') {
        p->s++;
    } else {
        while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
            p->s++;
    }
    if (p->s < p->end && *p->s == '.') {
        p->s++;
        if (p->s >= p->end || *p->s < '0' || *p->s > '9')
            return 0;
        while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
            p->s++;
    }
    if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
        p->s++;
        if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
            p->s++;
        if (p->s >= p->end || *p->s < '0' || *p->s > '9')
            return 0;
        while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
            p->s++;
    }
    char tmp[64];
    size_t n = (size_t)(p->s - b);
    if (n >= sizeof tmp)
        return 0;
    memcpy(tmp, b, n);
    tmp[n] = 0;
    *out = strtod(tmp, NULL);
    return 1;
}

static void jv_push(jv *v, char *key, jv *val)
{
    v->vals = realloc(v->vals, (v->n + 1) * sizeof *v->vals);
    if (v->t == J_OBJ)
        v->keys = realloc(v->keys, (v->n + 1) * sizeof *v->keys), v->keys[v->n] = key;
    v->vals[v->n++] = val;
}

static jv *jp_members(jp *p, jv *v, int depth)
{
    char close = v->t == J_OBJ ? '}' : ']';
    p->s++;
    jp_ws(p);
    if (p->s < p->end && *p->s == close) {
        p->s++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        jp_ws(p);
        if (v->t == J_OBJ) {
            if (!(key = jp_string(p)))
                break;
            jp_ws(p);
            if (p->s >= p->end || *p->s != ':') {
                p->err = "expected ':'";
                free(key);
                break;
            }
            p->s++;
        }
        jv *m = jp_value(p, depth + 1);
        if (!m) {
            free(key);
            break;
        }
        jv_push(v, key, m);
        jp_ws(p);
        if (p->s < p->end && *p->s == ',') {
            p->s++;
            continue;
        }
        if (p->s < p->end && *p->s == close) {
            p->s++;
            return v;
        }
        p->err = "expected ',' or the closing bracket";
        break;
    }
    jv_free(v);
    return NULL;
}

static jv *jp_value(jp *p, int depth)
{
    jp_ws(p);
    if (depth > 32) {
        p->err = "too deep";
        return NULL;
    }
    if (p->s >= p->end) {
        p->err = "unexpected end";
        return NULL;
    }
    jv *v = calloc(1, sizeof *v);
    char c = *p->s;
    if (c == '{' || c == '[') {
        v->t = c == '{' ? J_OBJ : J_ARR;
        return jp_members(p, v, depth);
    }
    if (c == '"') {
        v->t = J_STR;
        if ((v->str = jp_string(p)))
            return v;
    } else if (p->end - p->s >= 4 && !memcmp(p->s, "null", 4)) {
        v->t = J_NULL;
        p->s += 4;
        return v;
    } else if (p->end - p->s >= 4 && !memcmp(p->s, "true", 4)) {
        v->t = J_BOOL;
        v->num = 1;
        p->s += 4;
        return v;
    } else if (p->end - p->s >= 5 && !memcmp(p->s, "false", 5)) {
        v->t = J_BOOL;
        p->s += 5;
        return v;
    } else {
        v->t = J_NUM;
        if (jp_number(p, &v->num))
            return v;
        p->err = "bad value";
    }
    free(v);
    return NULL;
}

static jv *jv_get(const jv *o, const char *key)
{
    if (!o || o->t != J_OBJ)
        return NULL;
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->keys[i], key))
            return o->vals[i];
    return NULL;
}

static const char *jv_str(const jv *o, const char *key)
{
    jv *v = jv_get(o, key);
    return v && v->t == J_STR ? v->str : NULL;
}

static int jv_num(const jv *o, const char *key, double *out)
{
    jv *v = jv_get(o, key);
    if (!v || v->t != J_NUM)
        return 0;
    *out = v->num;
    return 1;
}

/* ------------------------------------------------- the trace's events */

typedef struct tev {
    char ph;
    const char *name, *cat, *bp;
    const char *reason;   /* flow starts: args.reason; metadata: args.name */
    int tid;
    double ts, dur, id;   /* id: flows */
    double co;            /* run slices: args.id; flow starts: args.to */
} tev;

typedef struct trace {
    jv *root;
    tev *ev;
    size_t n;
    int nworkers;
} trace;

#define TS_EPS 0.0015 /* us: timestamps are printed to the nanosecond */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Parse path and check every event's fields; fails the test on error. */
static void trace_load(trace *t, const char *path)
{
    memset(t, 0, sizeof *t);
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text)
        fail_msg("cannot read %s", path);
    jp p = { text, text + len, NULL };
    t->root = jp_value(&p, 0);
    if (t->root)
        jp_ws(&p);
    if (!t->root || p.s != p.end)
        fail_msg("%s: invalid JSON at byte %ld: %s", path, (long)(p.s - text),
                 p.err ? p.err : "trailing data");
    free(text);
    jv *events = jv_get(t->root, "traceEvents");
    if (!events || events->t != J_ARR)
        fail_msg("no traceEvents array");
    t->ev = calloc(events->n + 1, sizeof *t->ev);
    for (size_t i = 0; i < events->n; i++) {
        jv *o = events->vals[i];
        tev *e = &t->ev[t->n++];
        double pid = 0, tid = 0;
        const char *ph = jv_str(o, "ph");
        if (o->t != J_OBJ || !ph || strlen(ph) != 1 || !jv_num(o, "pid", &pid) ||
            !jv_num(o, "tid", &tid) || !(e->name = jv_str(o, "name")))
            fail_msg("event %zu: no ph, pid, tid or name", i);
        e->ph = ph[0];
        e->tid = (int)tid;
        e->cat = jv_str(o, "cat");
        jv *args = jv_get(o, "args");
        if (e->ph == 'M') {
            if (!(e->reason = jv_str(args, "name")))
                fail_msg("metadata event %zu without args.name", i);
            continue;
        }
        if (!jv_num(o, "ts", &e->ts) || e->ts < 0 || !e->cat)
            fail_msg("event %zu (%s): no ts or cat", i, e->name);
        switch (e->ph) {
        case 'X':
            if (!jv_num(o, "dur", &e->dur) || e->dur < 0)
                fail_msg("slice %zu (%s): no dur", i, e->name);
            if (!strcmp(e->cat, "run") && !jv_num(args, "id", &e->co))
                fail_msg("run slice %zu (%s): no args.id", i, e->name);
            break;
        case 's':
        case 'f':
            if (!jv_num(o, "id", &e->id))
                fail_msg("flow event %zu: no id", i);
            e->bp = jv_str(o, "bp");
            if (e->ph == 'f' && (!e->bp || strcmp(e->bp, "e")))
                fail_msg("flow end %zu: bp is not \"e\"", i);
            if (e->ph == 's' && (!(e->reason = jv_str(args, "reason")) || !jv_num(args, "to", &e->co)))
                fail_msg("flow start %zu: no args.reason or args.to", i);
            break;
        case 'i':
            break;
        default:
            fail_msg("event %zu: unexpected ph '%c'", i, e->ph);
        }
    }
}

static void trace_free(trace *t)
{
    jv_free(t->root);
    free(t->ev);
}

static int is_run(const tev *e)
{
    return e->ph == 'X' && !strcmp(e->cat, "run");
}

static const tev *thread_name(const trace *t, int tid)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->ev[i].ph == 'M' && !strcmp(t->ev[i].name, "thread_name") && t->ev[i].tid == tid)
            return &t->ev[i];
    return NULL;
}

/* The innermost slice on tid containing ts. */
static const tev *slice_at(const trace *t, int tid, double ts)
{
    const tev *best = NULL;
    for (size_t i = 0; i < t->n; i++) {
        const tev *e = &t->ev[i];
        if (e->ph == 'X' && e->tid == tid && e->ts - TS_EPS <= ts && ts <= e->ts + e->dur + TS_EPS &&
            (!best || e->dur < best->dur))
            best = e;
    }
    return best;
}

/* The run slice on tid that starts at ts. */
static const tev *run_starting(const trace *t, int tid, double ts)
{
    for (size_t i = 0; i < t->n; i++) {
        const tev *e = &t->ev[i];
        if (is_run(e) && e->tid == tid && e->ts > ts - TS_EPS && e->ts < ts + TS_EPS)
            return e;
    }
    return NULL;
}

static const tev *flow_end_of(const trace *t, double id)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->ev[i].ph == 'f' && t->ev[i].id == id)
            return &t->ev[i];
    return NULL;
}

/* The format and the runtime's invariants, for any trace. */
static void check_structure(const trace *t, int nworkers)
{
    for (int w = 0; w < nworkers; w++) {
        const tev *m = thread_name(t, w);
        if (!m)
            fail_msg("no thread_name for worker %d", w);
    }
    size_t nrun = 0;
    for (size_t i = 0; i < t->n; i++) {
        const tev *e = &t->ev[i];
        if (e->ph != 'M' && !thread_name(t, e->tid))
            fail_msg("event %zu (%s) on tid %d, which has no thread_name", i, e->name, e->tid);
        if (!is_run(e))
            continue;
        nrun++;
        if (e->tid < 0 || e->tid >= nworkers)
            fail_msg("run slice %s on tid %d: not a worker", e->name, e->tid);
        /* one coroutine at a time per worker */
        for (size_t j = i + 1; j < t->n; j++) {
            const tev *o = &t->ev[j];
            if (is_run(o) && o->tid == e->tid && o->ts < e->ts + e->dur - TS_EPS &&
                e->ts < o->ts + o->dur - TS_EPS)
                fail_msg("run slices %s and %s overlap on worker %d", e->name, o->name, e->tid);
        }
    }
    if (nrun == 0)
        fail_msg("no run slices");
    for (size_t i = 0; i < t->n; i++) {
        const tev *s = &t->ev[i];
        if (s->ph == 'f') {
            int found = 0;
            for (size_t j = 0; j < t->n; j++)
                found += t->ev[j].ph == 's' && t->ev[j].id == s->id;
            if (found != 1)
                fail_msg("flow end %.0f has %d starts", s->id, found);
            const tev *r = run_starting(t, s->tid, s->ts);
            if (!r)
                fail_msg("flow end %.0f at %.3f on %d: no run slice starts there", s->id, s->ts, s->tid);
        }
        if (s->ph != 's')
            continue;
        if (!slice_at(t, s->tid, s->ts))
            fail_msg("flow start %.0f (%s) at %.3f on tid %d is in no slice", s->id, s->reason,
                     s->ts, s->tid);
        const tev *f = flow_end_of(t, s->id);
        if (!f)
            continue; /* its coroutine had not run yet when the trace stopped */
        if (f->ts < s->ts - TS_EPS)
            fail_msg("flow %.0f ends before it starts", s->id);
        const tev *r = run_starting(t, f->tid, f->ts);
        if (!r || r->co != s->co)
            fail_msg("flow %.0f (%s) to coroutine %.0f ends at a run of %s", s->id, s->reason, s->co,
                     r ? r->name : "nothing");
    }
}

static char g_path[256];

static const char *trace_path(const char *what)
{
    snprintf(g_path, sizeof g_path, "/tmp/goc_test_trace_%d_%s.json", (int)getpid(), what);
    return g_path;
}

static int nworkers_env(void)
{
    int n = tu_env_workers();
    return n ? n : 1;
}

/* ------------------------------------------------------------ ping-pong */

#define PP_ROUNDS 20

typedef struct pp {
    goc_chan *to_pong, *to_ping;
    int got[PP_ROUNDS];
    const char *path;
} pp;

static void *ping(void *arg)
{
    pp *s = arg;
    for (int i = 0; i < PP_ROUNDS; i++) {
        TU_CHECK_INT_EQ(goc_chan_send(s->to_pong, &i), 0);
        int v = -1;
        TU_CHECK_INT_EQ(goc_chan_recv(s->to_ping, &v), 0);
        TU_CHECK_INT_EQ(v, i);
    }
    return NULL;
}

static void *pong(void *arg)
{
    pp *s = arg;
    for (int i = 0; i < PP_ROUNDS; i++) {
        int v = -1;
        TU_CHECK_INT_EQ(goc_chan_recv(s->to_pong, &v), 0);
        s->got[i] = v;
        TU_CHECK_INT_EQ(goc_chan_send(s->to_ping, &v), 0);
    }
    return NULL;
}

/* Tracing started and stopped inside the run, by main itself. */
static void pp_main(void *arg)
{
    pp *s = arg;
    TU_CHECK_INT_EQ(goc_trace_start(s->path), 0);
    s->to_pong = goc_chan_make(sizeof(int), 0);
    s->to_ping = goc_chan_make(sizeof(int), 0);
    goc_task *a = goc_spawn_named("ping", ping, s);
    goc_task *b = goc_spawn_named("pong", pong, s);
    TU_CHECK(a && b);
    TU_CHECK_INT_EQ(goc_join(a, NULL), 0);
    TU_CHECK_INT_EQ(goc_join(b, NULL), 0);
    TU_CHECK_INT_EQ(goc_trace_stop(), 0);
    goc_chan_free(s->to_pong);
    goc_chan_free(s->to_ping);
}

static int run_named(const tev *r, const char *name)
{
    return r && is_run(r) && !strcmp(r->name, name);
}

static void test_trace_pingpong(void **state)
{
    (void)state;
    static pp s;
    memset(&s, 0, sizeof s);
    s.path = trace_path("pingpong");
    TU_RUN(NULL, pp_main, &s);
    trace t;
    trace_load(&t, s.path);
    check_structure(&t, nworkers_env());

    /* every hand-off between ping and pong, in the order they happened */
    const tev *hops[4 * PP_ROUNDS];
    size_t nhops = 0;
    for (size_t i = 0; i < t.n; i++) {
        const tev *e = &t.ev[i];
        if (e->ph != 's')
            continue;
        const tev *from = slice_at(&t, e->tid, e->ts);
        const tev *f = flow_end_of(&t, e->id);
        const tev *to = f ? run_starting(&t, f->tid, f->ts) : NULL;
        int pp_from = run_named(from, "ping") || run_named(from, "pong");
        int pp_to = run_named(to, "ping") || run_named(to, "pong");
        if (!pp_from || !pp_to)
            continue;
        if (!strcmp(from->name, to->name))
            fail_msg("a flow from %s to itself", from->name);
        if (strncmp(e->reason, "channel ", 8))
            fail_msg("hand-off %s -> %s with reason %s", from->name, to->name, e->reason);
        if (nhops == 4 * PP_ROUNDS)
            fail_msg("too many hand-offs");
        size_t k = nhops++;
        while (k > 0 && hops[k - 1]->ts > e->ts) { /* insertion sort by time */
            hops[k] = hops[k - 1];
            k--;
        }
        hops[k] = e;
    }
    /* one per message: ping's send to pong, pong's reply to ping */
    if (nhops != 2 * PP_ROUNDS)
        fail_msg("%zu hand-offs between ping and pong, expected %d", nhops, 2 * PP_ROUNDS);
    for (size_t k = 1; k < nhops; k++) {
        const tev *a = slice_at(&t, hops[k - 1]->tid, hops[k - 1]->ts);
        const tev *b = slice_at(&t, hops[k]->tid, hops[k]->ts);
        if (!strcmp(a->name, b->name))
            fail_msg("hand-offs %zu and %zu both from %s: not alternating", k - 1, k, a->name);
        const tev *fa = flow_end_of(&t, hops[k - 1]->id);
        if (fa->ts > hops[k]->ts + TS_EPS)
            fail_msg("hand-off %zu starts before the coroutine it answers ran", k);
    }
    for (int i = 0; i < PP_ROUNDS; i++)
        assert_int_equal(s.got[i], i);
    trace_free(&t);
    unlink(s.path);
}

/* -------------------------------------------------------- blocking call */

#define BC_TICK (20 * TU_MS)
#define BC_TICKS 25
#define BC_BLOCK_AT (60 * TU_MS)
#define BC_BLOCK_US 300000

static void *bc_ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < BC_TICKS; i++)
        TU_CHECK_INT_EQ(goc_sleep(BC_TICK), 0);
    return NULL;
}

static void *bc_blocker(void *arg)
{
    (void)arg;
    TU_CHECK_INT_EQ(goc_sleep(BC_BLOCK_AT), 0);
    usleep(BC_BLOCK_US); /* blocks the worker's thread */
    return NULL;
}

static void bc_main(void *arg)
{
    (void)arg;
    goc_task *t = goc_spawn_named("ticker", bc_ticker, NULL);
    goc_task *b = goc_spawn_named("blocker", bc_blocker, NULL);
    TU_CHECK(t && b);
    TU_CHECK_INT_EQ(goc_join(t, NULL), 0);
    TU_CHECK_INT_EQ(goc_join(b, NULL), 0);
}

/* Tracing started before goc_run and stopped after it. */
static void test_trace_blocking_call(void **state)
{
    (void)state;
    const char *path = trace_path("blocking");
    assert_int_equal(goc_trace_start(path), 0);
    TU_RUN(NULL, bc_main, NULL);
    assert_int_equal(goc_trace_stop(), 0);
    trace t;
    trace_load(&t, path);
    int nw = nworkers_env();
    check_structure(&t, nw);

    const tev *block = NULL;
    for (size_t i = 0; i < t.n; i++)
        if (run_named(&t.ev[i], "blocker") && t.ev[i].dur >= 0.8 * BC_BLOCK_US)
            block = &t.ev[i];
    if (!block)
        fail_msg("no run of the blocker as long as its usleep");
    int inside = 0, elsewhere = 0, timer_woken = 0;
    for (size_t i = 0; i < t.n; i++) {
        const tev *e = &t.ev[i];
        if (!run_named(e, "ticker") || e->ts <= block->ts || e->ts >= block->ts + block->dur)
            continue;
        inside++;
        elsewhere += e->tid != block->tid;
        /* woken by a timer fired on its worker: a flow from a timers slice */
        for (size_t j = 0; j < t.n; j++) {
            const tev *f = &t.ev[j];
            if (f->ph != 'f' || f->tid != e->tid || f->ts < e->ts - TS_EPS || f->ts > e->ts + TS_EPS)
                continue;
            for (size_t k = 0; k < t.n; k++) {
                const tev *s = &t.ev[k];
                if (s->ph != 's' || s->id != f->id)
                    continue;
                const tev *from = slice_at(&t, s->tid, s->ts);
                timer_woken += from && !strcmp(from->name, "timers") && !strcmp(s->reason, "sleep");
            }
        }
    }
    if (nw == 1) {
        /* the asyncio model: the only thread is stuck, nothing else runs */
        if (inside != 0)
            fail_msg("%d ticker runs while the blocker held the only worker", inside);
    } else {
        /* the Go model: the ticker goes on on the other worker(s) */
        if (inside < 3)
            fail_msg("only %d ticker runs while the blocker held worker %d (%.0f us)", inside,
                     block->tid, block->dur);
        if (elsewhere != inside)
            fail_msg("%d of %d ticker runs on the blocked worker %d", inside - elsewhere, inside,
                     block->tid);
        if (timer_woken != inside)
            fail_msg("%d of %d ticker runs woken by a timer flow", timer_woken, inside);
    }
    trace_free(&t);
    unlink(path);
}

/* ---------------------------------------------- a waker that is no worker */

typedef struct foreign {
    goc_chan *ch;
    int got;
    atomic_int done;
} foreign;

static void *plain_thread(void *arg)
{
    foreign *s = arg;
    int v = 42;
    /* unbuffered: it succeeds only once the catcher is parked in recv */
    for (int i = 0; i < 10000; i++) {
        if (goc_chan_trysend(s->ch, &v) == 0)
            return NULL;
        usleep(1000);
    }
    return NULL;
}

static void *catcher(void *arg)
{
    foreign *s = arg;
    TU_CHECK_INT_EQ(goc_chan_recv(s->ch, &s->got), 0);
    atomic_store(&s->done, 1);
    return NULL;
}

static void foreign_main(void *arg)
{
    foreign *s = arg;
    s->ch = goc_chan_make(sizeof(int), 0);
    goc_task *c = goc_spawn_named("catcher", catcher, s);
    pthread_t th;
    TU_CHECK_INT_EQ(pthread_create(&th, NULL, plain_thread, s), 0);
    /* a sleeping main keeps the deadlock check quiet: the runtime cannot
     * see the plain thread that will wake the catcher */
    TU_CHECK(tu_wait_flag(&s->done, 10 * TU_SEC));
    TU_CHECK_INT_EQ(goc_join(c, NULL), 0);
    pthread_join(th, NULL);
    goc_chan_free(s->ch);
}

static void test_trace_foreign_waker(void **state)
{
    (void)state;
    static foreign s;
    memset(&s, 0, sizeof s);
    const char *path = trace_path("foreign");
    assert_int_equal(goc_trace_start(path), 0);
    TU_RUN(NULL, foreign_main, &s);
    assert_int_equal(goc_trace_stop(), 0);
    assert_int_equal(s.got, 42);
    trace t;
    trace_load(&t, path);
    check_structure(&t, nworkers_env());
    int from_other = 0;
    for (size_t i = 0; i < t.n; i++) {
        const tev *e = &t.ev[i];
        if (e->ph != 's' || strcmp(e->reason, "channel receive"))
            continue;
        const tev *f = flow_end_of(&t, e->id);
        const tev *to = f ? run_starting(&t, f->tid, f->ts) : NULL;
        const tev *m = thread_name(&t, e->tid);
        if (run_named(to, "catcher") && m && !strcmp(m->reason, "other threads"))
            from_other++;
    }
    if (from_other != 1)
        fail_msg("%d wake-ups of the catcher from the other-threads track, expected 1", from_other);
    trace_free(&t);
    unlink(path);
}

/* ------------------------------------------------------------ GOC_TRACE */

static void *env_child(void *arg)
{
    (void)arg;
    TU_CHECK_INT_EQ(goc_sleep(TU_MS), 0);
    return NULL;
}

static void env_main(void *arg)
{
    (void)arg;
    goc_task *c = goc_spawn_named("envchild", env_child, NULL);
    TU_CHECK_INT_EQ(goc_join(c, NULL), 0);
}

static void test_trace_env(void **state)
{
    (void)state;
    const char *path = trace_path("env");
    unlink(path);
    setenv("GOC_TRACE", path, 1);
    tu_checks_reset();
    int rc = goc_run(NULL, env_main, NULL);
    unsetenv("GOC_TRACE");
    assert_int_equal(rc, 0);
    TU_ASSERT_NO_CHECK_FAILURES();
    /* the trace ended with the run */
    assert_int_equal(goc_trace_stop(), GOC_EINVAL);
    trace t;
    trace_load(&t, path);
    check_structure(&t, nworkers_env());
    int runs = 0, slept = 0;
    for (size_t i = 0; i < t.n; i++) {
        const tev *e = &t.ev[i];
        runs += run_named(e, "envchild");
        if (e->ph == 's' && !strcmp(e->reason, "sleep")) {
            const tev *f = flow_end_of(&t, e->id);
            slept += f && run_named(run_starting(&t, f->tid, f->ts), "envchild");
        }
    }
    /* it runs, sleeps, and runs again when its timer wakes it */
    if (runs < 2 || slept != 1)
        fail_msg("envchild: %d runs, %d wake-ups by its sleep", runs, slept);
    trace_free(&t);
    unlink(path);
}

/* ------------------------------------------------------------------ API */

static void test_trace_api_errors(void **state)
{
    (void)state;
    assert_int_equal(goc_trace_start(NULL), GOC_EINVAL);
    assert_int_equal(goc_trace_start(""), GOC_EINVAL);
    assert_int_equal(goc_trace_start("/nonexistent-goc-dir/x.json"), -ENOENT);
    assert_int_equal(goc_trace_stop(), GOC_EINVAL);
    const char *path = trace_path("api");
    assert_int_equal(goc_trace_start(path), 0);
    assert_int_equal(goc_trace_start(path), GOC_EBUSY);
    assert_int_equal(goc_trace_stop(), 0);
    assert_int_equal(goc_trace_stop(), GOC_EINVAL);
    /* an empty trace is still a valid file */
    trace t;
    trace_load(&t, path);
    for (size_t i = 0; i < t.n; i++)
        if (t.ev[i].ph != 'M')
            fail_msg("an event in a trace of nothing: %s", t.ev[i].name);
    trace_free(&t);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_api_errors),
        cmocka_unit_test(test_trace_pingpong),
        cmocka_unit_test(test_trace_blocking_call),
        cmocka_unit_test(test_trace_foreign_waker),
        cmocka_unit_test(test_trace_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
