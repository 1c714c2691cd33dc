/*
 * fetch_many.c - fetch 10 URLs concurrently, at most 3 at a time, from a
 * local HTTP server.
 *
 * The articles' favourite asyncio program, over a real network: a tiny
 * HTTP server coroutine (on 127.0.0.1, a free port) answers /page/N after
 * a delay of its own (100-300 ms, like a slow backend), and the client
 * fetches the ten pages with plain blocking-style code, one coroutine per
 * fetch. First all at once: the whole batch takes as long as the slowest
 * page, and the server sees ten requests at the same time. Then through a
 * semaphore of 3 permits: never more than three in flight (the server
 * counts them too), each freed permit starts the next page at once, and
 * the batch takes a bit longer than a third of the one-at-a-time sum
 * (3.6 s). Both models give the same timeline: waiting overlaps on one
 * worker (asyncio) as on all cores (Go).
 *
 * The main coroutine takes a permit before it starts each fetch, and the
 * fetch gives it back when it is done (Go's `sem <- token; go fetch()`;
 * asyncio: `await sem.acquire(); create_task(fetch())`), so that the
 * pages start in list order in both models; `async with sem:` inside each
 * task bounds them the same way, but with several workers they would race
 * for the permits.
 *
 * Owns: one `site` (the listener, the page delays, the server's in-flight
 * counters) and one `fetcher` per batch; the counters are atomics, the
 * rest is written before the coroutines that read it start.
 *
 * Twin: examples/python/fetch_many.py. Run:
 *   ./build/examples/fetch_many --workers 1     (asyncio model)
 *   ./build/examples/fetch_many                 (Go model: all cores)
 */
#include "example_util.h"

#include <stdatomic.h>
#include <stdbool.h>

#define NPAGES    10
#define LIMIT     3
#define IO_NS     (5000 * EX_MS) /* no call here should come close */
#define REQ_MAX   1024
#define RESP_MAX  1024

/* How long the server takes over each page, ms: chosen so that no two
 * fetches of the bounded batch end within 100 ms of each other, which
 * keeps the timeline's order the same from run to run. */
static const int page_delay_ms[NPAGES] = { 300, 200, 600, 200, 200, 500, 600, 400, 400, 200 };

/* The server: what it counts lives here. */
typedef struct site {
    goc_tcp *listener;
    int port;
    _Atomic int in_flight; /* requests being answered now */
    _Atomic int most;      /* the largest in_flight since the last reset */
} site;

typedef struct handler_arg {
    site *s;
    goc_tcp *conn;
} handler_arg;

/* ------------------------------------------------------------ the server */

static void raise_most(_Atomic int *most, int now)
{
    int seen = atomic_load(most);
    while (now > seen && !atomic_compare_exchange_weak(most, &seen, now))
        ;
}

/* Read a request head; return the page number asked for (1..NPAGES), or 0. */
static int read_page_request(goc_tcp *conn)
{
    char req[REQ_MAX];
    size_t len = 0;
    while (len < sizeof req - 1) {
        ssize_t n = goc_tcp_read(conn, req + len, sizeof req - 1 - len, IO_NS);
        if (n <= 0)
            return 0;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    int page = 0;
    if (sscanf(req, "GET /page/%d HTTP/1.", &page) != 1 || page < 1 || page > NPAGES)
        return 0;
    return page;
}

static void handle(void *arg)
{
    handler_arg *h = arg;
    site *s = h->s;
    raise_most(&s->most, atomic_fetch_add(&s->in_flight, 1) + 1);

    char resp[RESP_MAX], body[64];
    int page = read_page_request(h->conn);
    if (page > 0) {
        int ms = page_delay_ms[page - 1];
        goc_sleep(ms * EX_MS); /* the slow backend */
        snprintf(body, sizeof body, "page %d, after %d ms", page, ms);
    } else {
        snprintf(body, sizeof body, "no such page");
    }
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     page > 0 ? "200 OK" : "404 Not Found", strlen(body), body);
    ex_check((int)goc_tcp_write(h->conn, resp, (size_t)n, IO_NS), "server: write");

    atomic_fetch_sub(&s->in_flight, 1);
    goc_tcp_close(h->conn);
    free(h);
}

/* The accept loop, until cancelled. */
static void *serve(void *arg)
{
    site *s = arg;
    for (;;) {
        goc_tcp *conn;
        int rc = goc_tcp_accept(s->listener, &conn, -1);
        if (rc == GOC_ECANCELED)
            break;
        if (rc != 0) {
            ex_check(rc, "server: accept");
            break;
        }
        handler_arg *h = malloc(sizeof *h);
        if (h)
            *h = (handler_arg){ s, conn };
        if (!h || goc_go(handle, h) != 0) {
            ex_check(GOC_ENOMEM, "server: start a handler");
            free(h);
            goc_tcp_close(conn);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ the client */

/* GET /page/N: the status code (and the body in body[]), or an error. */
static int fetch(int port, int page, char *body, size_t cap)
{
    goc_tcp *c;
    int rc = goc_tcp_connect("127.0.0.1", port, &c, IO_NS);
    if (rc != 0)
        return rc;
    char req[128], resp[RESP_MAX];
    int n = snprintf(req, sizeof req,
                     "GET /page/%d HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", page);
    ssize_t w = goc_tcp_write(c, req, (size_t)n, IO_NS);
    size_t len = 0;
    ssize_t r = w < 0 ? w : 1;
    while (r > 0 && len < sizeof resp - 1) { /* the server closes when done */
        r = goc_tcp_read(c, resp + len, sizeof resp - 1 - len, IO_NS);
        if (r > 0)
            len += (size_t)r;
    }
    goc_tcp_close(c);
    if (r < 0)
        return (int)r;
    resp[len] = '\0';
    int status = 0;
    const char *start = strstr(resp, "\r\n\r\n");
    if (sscanf(resp, "HTTP/1.1 %d", &status) != 1 || !start)
        return GOC_EINVAL;
    snprintf(body, cap, "%s", start + 4);
    return status;
}

typedef struct fetcher {
    int port;
    goc_sem *sem;          /* NULL: no limit */
    bool log_each;
    _Atomic int in_flight; /* fetches between start and done */
    _Atomic int most;
} fetcher;

typedef struct fetch_job {
    fetcher *f;
    int page;
} fetch_job;

static void *fetch_task(void *arg)
{
    fetch_job *j = arg;
    fetcher *f = j->f;
    char body[128];
    int status = fetch(f->port, j->page, body, sizeof body);
    ex_check(status, "fetch");
    atomic_fetch_sub(&f->in_flight, 1);
    if (f->log_each && status >= 0)
        ex_log("done  /page/%d: %d \"%s\"", j->page, status, body);
    if (status != 200 && status >= 0)
        ex_check(GOC_EINVAL, "fetch: the status is not 200");
    if (f->sem)
        goc_sem_release(f->sem); /* the next page may start */
    return NULL;
}

/* Fetch every page, through f->sem if it has one; return the seconds taken. */
static double fetch_all(fetcher *f)
{
    fetch_job jobs[NPAGES];
    goc_task *tasks[NPAGES];
    int64_t t0 = goc_now();
    for (int i = 0; i < NPAGES; i++) {
        if (f->sem)
            ex_check(goc_sem_acquire(f->sem), "goc_sem_acquire");
        int now = atomic_fetch_add(&f->in_flight, 1) + 1;
        raise_most(&f->most, now);
        if (f->log_each)
            ex_log("start /page/%d | %d in flight", i + 1, now);
        jobs[i] = (fetch_job){ f, i + 1 };
        tasks[i] = goc_spawn(fetch_task, &jobs[i]); /* asyncio.create_task; Go: go */
        if (!tasks[i])
            ex_check(GOC_ENOMEM, "goc_spawn");
    }
    for (int i = 0; i < NPAGES; i++) /* asyncio.gather; Go: wg.Wait() */
        if (tasks[i])
            ex_check(goc_join(tasks[i], NULL), "goc_join");
    return (double)(goc_now() - t0) / 1e9;
}

/* ------------------------------------------------------------ the example */

static int sequential_ms(void)
{
    int sum = 0;
    for (int i = 0; i < NPAGES; i++)
        sum += page_delay_ms[i];
    return sum;
}

static void fetch_many(void)
{
    /* Outlives every use: a handler is done with it before it closes its
     * connection, and each fetch waits for that close (end of stream). */
    site s = { .listener = NULL };
    int rc = goc_tcp_listen("127.0.0.1", 0, 0, &s.listener);
    if (rc != 0) {
        ex_check(rc, "goc_tcp_listen");
        return;
    }
    s.port = goc_tcp_port(s.listener);
    goc_task *server = goc_spawn(serve, &s);
    ex_log("server: listening, pages take 0.2-0.6 s each | 127.0.0.1:%d", s.port);

    ex_log("unbounded: fetch all %d pages at once", NPAGES);
    fetcher all = { .port = s.port, .sem = NULL, .log_each = false };
    double secs = fetch_all(&all);
    ex_log("unbounded: all %d done; the server saw %d at once | took %.3f s", NPAGES,
           atomic_load(&s.most), secs);

    atomic_store(&s.most, 0);
    ex_log("bounded: fetch %d pages, at most %d at a time (a semaphore)", NPAGES, LIMIT);
    fetcher bounded = { .port = s.port, .sem = goc_sem_new(LIMIT), .log_each = true };
    if (!bounded.sem) {
        ex_check(GOC_ENOMEM, "goc_sem_new");
    } else {
        secs = fetch_all(&bounded);
        ex_log("bounded: all %d done; at most %d in flight, the server saw %d at once"
               " | took %.3f s, one at a time would take %.1f s",
               NPAGES, atomic_load(&bounded.most), atomic_load(&s.most), secs,
               sequential_ms() / 1000.0);
        if (atomic_load(&bounded.most) > LIMIT || atomic_load(&s.most) > LIMIT)
            ex_check(GOC_EINVAL, "the limit was exceeded");
        ex_check(goc_sem_free(bounded.sem), "goc_sem_free");
    }

    if (server) { /* stop the accept loop, then close what it used */
        goc_cancel(server);
        goc_join(server, NULL);
    }
    goc_tcp_close(s.listener);
}

int main(int argc, char **argv)
{
    ex_opts o = ex_parse(argc, argv,
                         "fetch_many: 10 pages from a local HTTP server, at most 3 at a time");
    return ex_run(&o, "fetch_many", fetch_many);
}
