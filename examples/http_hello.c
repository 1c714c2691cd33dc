/*
 * http_hello.c - a small HTTP/1.1 server that answers "hello", with
 * keep-alive.
 *
 *   ./build/examples/http_hello [--port 8080] [--host 127.0.0.1] [--workers N]
 *   curl http://127.0.0.1:8080/                      -> hello
 *   wrk -t2 -c64 -d5s http://127.0.0.1:8080/         (bench/compare.sh http)
 *
 * The Go way of writing a server, in C: the main coroutine accepts, and
 * every connection gets a coroutine of its own that reads requests and
 * writes answers as plain blocking-style code. Waiting for the network
 * parks only that coroutine; its worker runs the others meanwhile. With
 * --workers 1 it is an asyncio server (one thread, one event loop); with
 * one worker per core (the default) it is Go's net/http model. Twins, for
 * the comparison: bench/peers/go/http_hello.go (net/http) and
 * bench/peers/python/http_hello.py (asyncio streams).
 *
 * What it speaks: HTTP/1.1 and 1.0 requests of any method and path, all
 * answered "200 OK" and "hello" (HEAD: the headers only), with the headers
 * Go's net/http sends for the same handler (Date, Content-Length,
 * Content-Type). Connections stay open (HTTP/1.1, or 1.0 with
 * "Connection: keep-alive") until the client closes or asks
 * "Connection: close". Pipelined requests are answered in order, in one
 * write per batch read. A request body (Content-Length) is skipped; a
 * chunked one is not supported (501, then close), nor is a malformed
 * request (400) or a head larger than the buffer (431). No idle timeout:
 * the default of Go's http.ListenAndServe too.
 *
 * Owns: each connection's buffers (one malloc'd conn per coroutine, freed
 * by it). No state is shared between connections, so there is no locking:
 * the Date header's cache is per connection too.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif

#include <goc.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http_parse.h" /* request, parse_request, IN_CAP */

#define OUT_CAP       16384 /* answers to a batch of pipelined requests */
#define ANSWER_MAX    256   /* room one answer needs in out */
#define EMFILE_PAUSE  (10 * 1000000LL)  /* ns to wait when out of descriptors */
#define LINGER_NS     (500 * 1000000LL) /* how long to drain a client we refused */

typedef struct server_opts {
    const char *host;
    int port;
    int workers;
} server_opts;

typedef struct conn {
    goc_tcp *sock;
    char in[IN_CAP];
    size_t in_len;
    char out[OUT_CAP];
    size_t out_len;
    bool refused;     /* answered an error: linger before closing */
    time_t date_sec;  /* the second `date` was made for */
    char date[40];    /* "Mon, 02 Jan 2006 15:04:05 GMT" */
} conn;

/* ------------------------------------------------------------ answering */

static const char *date_header(conn *c)
{
    time_t now = time(NULL);
    if (now != c->date_sec) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(c->date, sizeof c->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        c->date_sec = now;
    }
    return c->date;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    default:  return "Not Implemented";
    }
}

/* Append the answer to r to c->out (which has ANSWER_MAX bytes free). */
static void add_answer(conn *c, const request *r)
{
    const char *body = r->status == 200 ? "hello" : reason(r->status);
    const char *connection = !r->keep_alive ? "Connection: close\r\n"
                             : r->http10   ? "Connection: keep-alive\r\n"
                                           : "";
    size_t blen = strlen(body);
    int n = snprintf(c->out + c->out_len, OUT_CAP - c->out_len,
                     "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Length: %zu\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n%s\r\n%s",
                     r->status, reason(r->status), date_header(c), blen, connection,
                     r->head_only ? "" : body);
    if (n > 0 && (size_t)n < OUT_CAP - c->out_len)
        c->out_len += (size_t)n;
}

/* Write what c->out holds: false if the peer went away. */
static bool flush(conn *c)
{
    if (c->out_len == 0)
        return true;
    ssize_t n = goc_tcp_write(c->sock, c->out, c->out_len, -1);
    c->out_len = 0;
    return n >= 0;
}

/* Answer every complete request in c->in; false once the connection must
 * close (the client asked, an error, or a write failed). */
static bool answer_requests(conn *c)
{
    size_t used = 0;
    bool open = true;
    while (open) {
        request r;
        if (!parse_request(c->in + used, c->in_len - used, &r))
            break;
        if (r.status != 200) {
            r.keep_alive = false;
            c->refused = true;
        }
        if (OUT_CAP - c->out_len < ANSWER_MAX && !flush(c))
            return false;
        add_answer(c, &r);
        used += r.size;
        open = r.keep_alive;
    }
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    if (open && c->in_len == IN_CAP) { /* a head that cannot fit */
        add_answer(c, &(request){ .status = 431 });
        c->refused = true;
        open = false;
    }
    return flush(c) && open;
}

/* After an error answer the client may still be sending: closing with
 * unread bytes would make the kernel reset the connection, and the client
 * could lose the answer. So: end our side, then read and drop what comes,
 * for a while (Go's net/http does the same). */
static void linger(conn *c)
{
    if (goc_tcp_shutdown(c->sock) != 0)
        return;
    int64_t deadline = goc_now() + LINGER_NS;
    int64_t left;
    while ((left = deadline - goc_now()) > 0 &&
           goc_tcp_read(c->sock, c->in, IN_CAP, left) > 0)
        ;
}

static void serve_conn(void *arg)
{
    conn *c = arg;
    for (;;) {
        ssize_t n = goc_tcp_read(c->sock, c->in + c->in_len, IN_CAP - c->in_len, -1);
        if (n <= 0)
            break; /* the client closed (0) or went away */
        c->in_len += (size_t)n;
        if (!answer_requests(c))
            break;
    }
    if (c->refused)
        linger(c);
    goc_tcp_close(c->sock);
    free(c);
}

/* ------------------------------------------------------------ the server */

static void serve(void *arg)
{
    const server_opts *o = arg;
    goc_tcp *l;
    int rc = goc_tcp_listen(o->host, o->port, 0, &l);
    if (rc != 0) {
        fprintf(stderr, "http_hello: listen on %s:%d: %s (%d)\n", o->host, o->port,
                rc == -EADDRINUSE ? "address in use" : goc_strerror(rc), rc);
        return;
    }
    printf("http_hello: listening on http://%s:%d/ (%d worker%s)\n", o->host,
           goc_tcp_port(l), goc_workers(), goc_workers() == 1 ? "" : "s");
    fflush(stdout);
    for (;;) {
        goc_tcp *sock;
        rc = goc_tcp_accept(l, &sock, -1);
        if (rc == -EMFILE || rc == -ENFILE || rc == GOC_ENOMEM) {
            goc_sleep(EMFILE_PAUSE); /* let some connections close first */
            continue;
        }
        if (rc != 0)
            break;
        conn *c = malloc(sizeof *c);
        if (c) {
            c->sock = sock;
            c->in_len = c->out_len = 0;
            c->refused = false;
            c->date_sec = 0;
        }
        if (!c || goc_go(serve_conn, c) != 0) {
            goc_tcp_close(sock);
            free(c);
        }
    }
    fprintf(stderr, "http_hello: accept: %s (%d)\n", goc_strerror(rc), rc);
    goc_tcp_close(l);
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--port P] [--host H] [--workers N]\n"
            "  --port P      port to listen on (default 8080; 0 picks a free one)\n"
            "  --host H      address to listen on (default 127.0.0.1)\n"
            "  --workers N   1: one thread, the asyncio model; 0: one per core (default)\n",
            prog);
    exit(2);
}

static int parse_int(const char *s, int min, int max, const char *prog)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > max)
        usage(prog);
    return (int)v;
}

int main(int argc, char **argv)
{
    server_opts o = { .host = "127.0.0.1", .port = 8080, .workers = 0 };
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage(argv[0]);
        if (strcmp(argv[i], "--port") == 0)
            o.port = parse_int(argv[++i], 0, 65535, argv[0]);
        else if (strcmp(argv[i], "--workers") == 0 || strcmp(argv[i], "-w") == 0)
            o.workers = parse_int(argv[++i], 0, 4096, argv[0]);
        else if (strcmp(argv[i], "--host") == 0)
            o.host = argv[++i];
        else
            usage(argv[0]);
    }
    goc_config cfg = { .workers = o.workers, .pin = 1, .stack_size = 0 };
    int rc = goc_run(&cfg, serve, &o);
    if (rc != 0)
        fprintf(stderr, "http_hello: goc_run: %s\n", goc_strerror(rc));
    return 1; /* serving stopped: that is an error for a server */
}
