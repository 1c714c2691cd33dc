/*
 * echo_server.c - a TCP echo server: one coroutine per connection.
 *
 *   ./build/examples/echo_server [--workers N]          a demo: the server
 *        and three clients in one program, on 127.0.0.1, then exit
 *   ./build/examples/echo_server --serve [--port 7007] [--workers N]
 *        serve until killed (try: nc 127.0.0.1 7007)
 *
 * The heart of it is serve_conn: read what came, write it back, until the
 * peer closes. It reads like blocking code, one connection at a time, yet
 * thousands of connections can be served at once: a read with nothing to
 * read parks only its coroutine, and its worker runs the others (Go's net
 * package; asyncio's start_server with one task per connection). With
 * --workers 1 it is an asyncio server, one thread and one event loop;
 * with one worker per core (the default) it is Go's model.
 *
 * The demo staggers three clients (client k connects at k x 0.1 s and
 * sends a line every 0.3 s) so that their round trips interleave on the
 * timeline; the server serves all three at once. bench/goc-bench's
 * echo-server is the same server, measured against Go's and asyncio's
 * (bench/compare.sh echo).
 *
 * Owns: a `server` (the listener and its counters, atomics written by the
 * connection coroutines) that outlives every coroutine using it: the demo
 * waits for the connections to end before it stops the accept loop.
 */
#include "example_util.h"

#include <stdatomic.h>
#include <stdbool.h>

#define DEFAULT_PORT 7007
#define NCLIENTS     3
#define NLINES       3
#define BUF_SIZE     4096

typedef struct server {
    goc_tcp *listener;
    bool log_connections;        /* --serve: say when connections come and go */
    goc_wg *conns;               /* connections being served */
    _Atomic long served;         /* connections, since the start */
    _Atomic long echoed;         /* bytes, since the start */
} server;

typedef struct conn_arg {
    server *s;
    goc_tcp *conn;
    long id;
} conn_arg;

/* ------------------------------------------------------------ the server */

static void serve_conn(void *arg)
{
    conn_arg *a = arg;
    char buf[BUF_SIZE];
    long bytes = 0;
    ssize_t n;
    while ((n = goc_tcp_read(a->conn, buf, sizeof buf, -1)) > 0) { /* Go: conn.Read */
        if (goc_tcp_write(a->conn, buf, (size_t)n, -1) < 0)         /* Go: conn.Write */
            break;
        bytes += n;
    }
    atomic_fetch_add(&a->s->echoed, bytes);
    if (a->s->log_connections)
        ex_log("server: connection %ld closed after %ld bytes", a->id, bytes);
    goc_tcp_close(a->conn);
    goc_wg_done(a->s->conns);
    free(a);
}

/* The accept loop: one coroutine per connection, until cancelled. */
static void *accept_loop(void *arg)
{
    server *s = arg;
    for (;;) {
        goc_tcp *conn;
        int rc = goc_tcp_accept(s->listener, &conn, -1); /* Go: ln.Accept() */
        if (rc == -EMFILE || rc == -ENFILE) {
            goc_sleep(10 * EX_MS); /* out of descriptors: let some close */
            continue;
        }
        if (rc != 0) {
            if (rc != GOC_ECANCELED)
                ex_check(rc, "goc_tcp_accept");
            break;
        }
        long id = atomic_fetch_add(&s->served, 1) + 1;
        if (s->log_connections)
            ex_log("server: connection %ld accepted", id);
        conn_arg *a = malloc(sizeof *a);
        if (a)
            *a = (conn_arg){ s, conn, id }; /* serve_conn frees it */
        goc_wg_add(s->conns, 1);
        if (!a || goc_go(serve_conn, a) != 0) { /* Go: go serve(conn) */
            ex_check(GOC_ENOMEM, "start a connection's coroutine");
            goc_wg_done(s->conns);
            goc_tcp_close(conn);
            free(a);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ the demo */

typedef struct client_arg {
    int port;
    int k; /* 1..NCLIENTS */
} client_arg;

static void *client(void *arg)
{
    const client_arg *c = arg;
    goc_sleep(c->k * 100 * EX_MS);
    goc_tcp *conn;
    int rc = goc_tcp_connect("127.0.0.1", c->port, &conn, 5000 * EX_MS);
    if (rc != 0) {
        ex_check(rc, "goc_tcp_connect");
        return NULL;
    }
    for (int j = 1; j <= NLINES; j++) {
        char line[64], echo[64];
        int n = snprintf(line, sizeof line, "line %d from client %d", j, c->k);
        ssize_t w = goc_tcp_write(conn, line, (size_t)n, 5000 * EX_MS);
        ssize_t r = w < 0 ? w : goc_tcp_read_full(conn, echo, (size_t)n, 5000 * EX_MS);
        if (r != n) {
            ex_check(r < 0 ? (int)r : GOC_EINVAL, "echo round trip");
            break;
        }
        echo[n] = '\0';
        ex_log("client %d: sent \"%s\", got it back", c->k, echo);
        if (strcmp(echo, line) != 0)
            ex_check(GOC_EINVAL, "the echo differs");
        if (j < NLINES)
            goc_sleep(300 * EX_MS);
    }
    goc_tcp_close(conn); /* the server's read returns 0: end of stream */
    return NULL;
}

static void demo(server *s)
{
    int port = goc_tcp_port(s->listener);
    ex_log("server: listening; %d clients connect 0.1 s apart, each sends %d lines"
           " | 127.0.0.1:%d", NCLIENTS, NLINES, port);
    client_arg args[NCLIENTS];
    goc_task *clients[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++) {
        args[i] = (client_arg){ port, i + 1 };
        clients[i] = goc_spawn(client, &args[i]);
        if (!clients[i])
            ex_check(GOC_ENOMEM, "goc_spawn");
    }
    for (int i = 0; i < NCLIENTS; i++)
        if (clients[i])
            ex_check(goc_join(clients[i], NULL), "goc_join");
    ex_check(goc_wg_wait(s->conns), "goc_wg_wait"); /* every connection has ended */
    ex_log("server: served %ld connections, echoed %ld bytes", atomic_load(&s->served),
           atomic_load(&s->echoed));
}

/* ------------------------------------------------------------ main */

/* The command line's choices: set by main before goc_run, only read after
 * (ex_run's main function takes no argument). */
static int g_port = DEFAULT_PORT;
static bool g_serve;

static void echo_server(void)
{
    server s = { .log_connections = g_serve };
    s.conns = goc_wg_new();
    int rc = goc_tcp_listen("127.0.0.1", g_serve ? g_port : 0, 0, &s.listener);
    if (rc != 0 || !s.conns) {
        ex_check(rc != 0 ? rc : GOC_ENOMEM, "goc_tcp_listen");
        goc_wg_free(s.conns);
        return;
    }
    goc_task *acceptor = goc_spawn(accept_loop, &s);
    if (!acceptor) {
        ex_check(GOC_ENOMEM, "goc_spawn");
    } else if (g_serve) {
        ex_log("server: listening on 127.0.0.1:%d; try: nc 127.0.0.1 %d",
               goc_tcp_port(s.listener), goc_tcp_port(s.listener));
        goc_join(acceptor, NULL); /* until killed */
        acceptor = NULL;
    } else {
        demo(&s);
        goc_cancel(acceptor); /* stop accepting: goc_tcp_accept returns GOC_ECANCELED */
        goc_join(acceptor, NULL);
    }
    goc_tcp_close(s.listener);
    goc_wg_free(s.conns);
}

int main(int argc, char **argv)
{
    /* --serve and --port are ours; the rest (--workers) is ex_parse's */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest)
        return 1;
    int nrest = 0;
    rest[nrest++] = argv[0];
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--serve") == 0) {
            g_serve = true;
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            long p = strtol(argv[++i], &end, 10);
            if (*end || p < 1 || p > 65535) {
                fprintf(stderr, "echo_server: bad port %s\n", argv[i]);
                return 2;
            }
            g_port = (int)p;
        } else {
            rest[nrest++] = argv[i];
        }
    }
    rest[nrest] = NULL;
    ex_opts o = ex_parse(nrest, rest,
                         "echo_server: a TCP echo server, one coroutine per connection\n"
                         "(--serve [--port P]: serve until killed; default: a demo with 3 clients)");
    free(rest);
    return ex_run(&o, "echo_server", echo_server);
}
