/*
 * bench_echo.c - echo-server and echo-client: TCP echo on 127.0.0.1, as
 * two commands run side by side:
 *
 *   goc-bench echo-server --port P [--host H] [--workers N]
 *   goc-bench echo-client --port P [--host H] [--conns 64] [--msgs 20000] [--size 64]
 *
 * echo-server listens on H:P (default 127.0.0.1; port 0 picks a free one),
 * says where on stderr ("goc-bench echo-server: listening on
 * 127.0.0.1:P, W workers") and serves until killed: one coroutine per
 * connection reads up to 16 KiB and writes back what it read, until the
 * peer closes. It prints no JSON line: the figure is the client's, and a
 * script measures the server's CPU time from outside (bench/compare.sh),
 * so the same client can drive goc's, Go's and Python's servers alike.
 *
 * echo-client opens --conns connections (all of them before the clock
 * starts), then each coroutine sends --msgs (= --n) messages of --size
 * bytes, one at a time, and waits for the whole echo of one before it
 * sends the next. Figure: round trips/s = conns * msgs / span, the span
 * running from the release of all connections to the last echo. Extra
 * fields: "conns", "msg_size", "round_trips", "secs". Check: every byte
 * of every echo equals what was sent; each message is a pseudo-random
 * pattern seeded by its connection and sequence number, so a reordered,
 * stale or misrouted echo fails it as surely as a corrupted one. Every I/O
 * call has a 10 s timeout: a server that stops answering fails the run
 * instead of hanging it. --size is at most ECHO_SIZE_MAX (harness.h).
 */
#include "workloads.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h> /* ssize_t */

#define ECHO_CONNS          64
#define ECHO_MSG_SIZE       64
#define ECHO_SEED           UINT64_C(0x9E3779B97F4A7C15) /* the cpu job's seed */
#define ECHO_SERVER_BUF     16384
#define ECHO_IO_TIMEOUT_NS  (10 * ONE_SECOND_NS)
#define ECHO_EMFILE_PAUSE_NS (10 * INT64_C(1000000))
/* Client failures that are not goc errors (positive, so they never clash): */
#define ECHO_SHORT          1 /* the server closed before echoing everything */
#define ECHO_MISMATCH       2 /* an echo differed from what was sent */

static const char *echo_host(const bench_opts *o)
{
    return o->host ? o->host : "127.0.0.1";
}

static const char *echo_strerror(int err)
{
    if (err == ECHO_SHORT)
        return "the server closed the connection early";
    if (err == ECHO_MISMATCH)
        return "an echo differed from the message sent";
    /* goc_strerror names the GOC_E* codes; the plain errno codes that
     * network calls return (-ECONNREFUSED ...) are libc's to name */
    const char *name = goc_strerror(err);
    if (err < 0 && strcmp(name, "unknown error") == 0)
        name = strerror(-err);
    return name;
}

/* ---- server */

typedef struct echo_server_ctx {
    const char *host;
    int         port;
    int         rc; /* why serving stopped */
} echo_server_ctx;

static void echo_serve_conn(void *arg)
{
    goc_tcp *conn = arg;
    unsigned char *buf = malloc(ECHO_SERVER_BUF);
    while (buf) {
        ssize_t n = goc_tcp_read(conn, buf, ECHO_SERVER_BUF, -1);
        if (n <= 0 || goc_tcp_write(conn, buf, (size_t)n, -1) < 0)
            break; /* end of stream, or the peer went away */
    }
    free(buf);
    goc_tcp_close(conn);
}

/* The main coroutine: the accept loop. It returns only on an error. */
static void echo_server_main(void *arg)
{
    echo_server_ctx *c = arg;
    goc_tcp *l = NULL;
    c->rc = goc_tcp_listen(c->host, c->port, 0, &l);
    if (c->rc != 0)
        return;
    fprintf(stderr, "goc-bench echo-server: listening on %s:%d, %d worker%s\n", c->host,
            goc_tcp_port(l), goc_workers(), goc_workers() == 1 ? "" : "s");
    for (;;) {
        goc_tcp *conn;
        int rc = goc_tcp_accept(l, &conn, -1);
        if (rc == 0) {
            if (goc_go(echo_serve_conn, conn) != 0)
                goc_tcp_close(conn);
        } else if (rc == -EMFILE || rc == -ENFILE || rc == GOC_ENOMEM) {
            goc_sleep(ECHO_EMFILE_PAUSE_NS); /* out of descriptors: let some close */
        } else {
            c->rc = rc;
            break;
        }
    }
    goc_tcp_close(l);
}

bool bench_echo_server(const bench_opts *o)
{
    if (o->port < 0) {
        fprintf(stderr, "goc-bench echo-server: needs --port P (0: pick a free one)\n");
        return false;
    }
    echo_server_ctx c = { .host = echo_host(o), .port = o->port, .rc = 0 };
    if (!start_runtime(o, o->workers, echo_server_main, &c))
        return false;
    fprintf(stderr, "goc-bench echo-server: %s:%d: %s\n", c.host, c.port, echo_strerror(c.rc));
    return false;
}

/* ---- client */

typedef struct echo_ctx echo_ctx;

typedef struct echo_conn {
    echo_ctx      *c;
    long           id;
    unsigned char *out, *in; /* size bytes each, allocated before goc_run */
    long           echoed;   /* round trips whose echo matched */
    int            err;      /* the first failure: a goc error or ECHO_* */
} echo_conn;

struct echo_ctx {
    const char *host;
    int         port;
    long        conns, msgs;
    size_t      size;
    echo_conn  *conn;    /* conns of them */
    goc_chan   *start;   /* closed by main: every connection may go */
    goc_wg     *ready;   /* connected (or failed to) */
    goc_wg     *done;    /* finished */
    int         main_err;
    sample     *s;
};

/* Message seq of connection id: a pattern no other message shares. */
static void echo_fill(unsigned char *buf, size_t size, long id, long seq)
{
    uint64_t x = (((uint64_t)id << 32) ^ (uint64_t)seq) * ECHO_SEED | 1;
    for (size_t i = 0; i < size; i++) {
        x = xorshift64(x);
        buf[i] = (unsigned char)(x >> 24);
    }
}

/* One round trip: 0, a goc error, ECHO_SHORT or ECHO_MISMATCH. */
static int echo_round_trip(goc_tcp *s, echo_conn *k, long seq)
{
    size_t size = k->c->size;
    echo_fill(k->out, size, k->id, seq);
    ssize_t n = goc_tcp_write(s, k->out, size, ECHO_IO_TIMEOUT_NS);
    if (n < 0)
        return (int)n;
    n = goc_tcp_read_full(s, k->in, size, ECHO_IO_TIMEOUT_NS);
    if (n < 0)
        return (int)n;
    if ((size_t)n < size)
        return ECHO_SHORT;
    return memcmp(k->in, k->out, size) == 0 ? 0 : ECHO_MISMATCH;
}

static void echo_client_conn(void *arg)
{
    echo_conn *k = arg;
    echo_ctx *c = k->c;
    goc_tcp *s = NULL;
    k->err = goc_tcp_connect(c->host, c->port, &s, ECHO_IO_TIMEOUT_NS);
    goc_wg_done(c->ready);
    int rc = goc_chan_recv(c->start, NULL); /* closed: the start signal */
    if (k->err == 0 && rc != GOC_ECLOSED)
        k->err = rc != 0 ? rc : GOC_EINVAL; /* nobody sends on start */
    for (long seq = 0; k->err == 0 && seq < c->msgs; seq++) {
        k->err = echo_round_trip(s, k, seq);
        if (k->err == 0)
            k->echoed++;
    }
    if (s)
        goc_tcp_close(s);
    goc_wg_done(c->done);
}

static void echo_client_main(void *arg)
{
    echo_ctx *c = arg;
    c->s->workers = goc_workers();
    c->start = goc_chan_make(0, 0);
    c->ready = goc_wg_new();
    c->done = goc_wg_new();
    if (!c->start || !c->ready || !c->done) {
        c->main_err = GOC_ENOMEM;
        goc_chan_free(c->start);
        goc_wg_free(c->ready);
        goc_wg_free(c->done);
        return;
    }
    goc_wg_add(c->ready, (int)c->conns);
    goc_wg_add(c->done, (int)c->conns);
    for (long i = 0; i < c->conns; i++) {
        int rc = goc_go(echo_client_conn, &c->conn[i]);
        if (rc != 0) {
            c->conn[i].err = rc;
            goc_wg_done(c->ready);
            goc_wg_done(c->done);
        }
    }
    int rc = goc_wg_wait(c->ready);

    count_mark u0 = counts_now();
    int64_t t0 = goc_now();
    goc_chan_close(c->start);
    if (rc == 0)
        rc = goc_wg_wait(c->done);
    int64_t t1 = goc_now();
    sample_counts(c->s, &u0, (double)c->conns * (double)c->msgs);

    c->main_err = rc;
    if (rc == 0) { /* otherwise coroutines may still use them: goc_run cancels those */
        goc_chan_free(c->start);
        goc_wg_free(c->ready);
        goc_wg_free(c->done);
    }
    c->s->span_ns = t1 - t0;
}

static void echo_client_measure(const bench_opts *o, int workers, void *arg, sample *s)
{
    echo_ctx *c = arg;
    c->s = s;
    c->main_err = 0;
    for (long i = 0; i < c->conns; i++) {
        c->conn[i].echoed = 0;
        c->conn[i].err = 0;
    }
    if (!start_runtime(o, workers, echo_client_main, c)) {
        s->ok = false;
        return;
    }

    long echoed = 0, failed = 0;
    int first_err = 0;
    for (long i = 0; i < c->conns; i++) {
        echoed += c->conn[i].echoed;
        if (c->conn[i].err != 0 && failed++ == 0)
            first_err = c->conn[i].err;
    }
    double secs = (double)s->span_ns / 1e9;
    s->fig[0] = secs > 0 ? (double)echoed / secs : 0;
    s->fig[1] = secs;
    s->ok = c->main_err == 0 && failed == 0 && echoed == c->conns * c->msgs;
    if (c->main_err != 0)
        fprintf(stderr, "echo-client: waiting for the connections: %s\n",
                goc_strerror(c->main_err));
    if (failed)
        fprintf(stderr, "echo-client: %ld of %ld connections to %s:%d failed, the first: %s\n",
                failed, c->conns, c->host, c->port, echo_strerror(first_err));
    if (!s->ok)
        fprintf(stderr, "echo-client: %ld of %ld round trips echoed correctly\n", echoed,
                c->conns * c->msgs);
}

/* fig[0] round trips/s (the value), fig[1] secs */
static void echo_client_fields(const bench_opts *o, const sample *m, void *arg)
{
    (void)o;
    const echo_ctx *c = arg;
    json_int("conns", c->conns);
    json_int("msg_size", (long long)c->size);
    json_int("round_trips", c->conns * c->msgs);
    json_num("secs", m->fig[1]);
}

static const bench_line echo_client_line = {
    .unit = "roundtrips/s", .per = "roundtrip", .extra = echo_client_fields
};

bool bench_echo_client(const bench_opts *o)
{
    if (o->port <= 0) {
        fprintf(stderr, "goc-bench echo-client: needs --port P (where echo-server listens)\n");
        return false;
    }
    echo_ctx c = {
        .host = echo_host(o),
        .port = o->port,
        .conns = o->conns > 0 ? o->conns : ECHO_CONNS,
        .msgs = o->n,
        .size = (size_t)(o->size > 0 ? o->size : ECHO_MSG_SIZE),
    };
    c.conn = calloc((size_t)c.conns, sizeof *c.conn);
    unsigned char *bufs = c.conn ? malloc((size_t)c.conns * 2 * c.size) : NULL;
    if (!bufs) {
        fprintf(stderr, "echo-client: out of memory\n");
        free(c.conn);
        return false;
    }
    for (long i = 0; i < c.conns; i++)
        c.conn[i] = (echo_conn){ .c = &c, .id = i, .out = bufs + (size_t)i * 2 * c.size,
                                 .in = bufs + ((size_t)i * 2 + 1) * c.size };

    bool ok = bench_run(o, echo_client_measure, &c, &echo_client_line);
    free(bufs);
    free(c.conn);
    return ok;
}

