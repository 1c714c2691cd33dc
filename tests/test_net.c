/*
 * test_net.c - the netpoller and TCP (issue 4): goc_tcp_*, goc_resolve.
 *
 * What is checked, against the contract in goc.h:
 *   - running out of descriptors (a forked child with a low RLIMIT_NOFILE):
 *     accept returns -EMFILE/-ENFILE, the connections already accepted keep
 *     being served, and accept works again once descriptors are freed;
 *   - 1,000 concurrent echo connections (all connected at once), byte-exact;
 *   - a 10 MB transfer in both directions at once on one connection, with
 *     small socket buffers so that writes are partial and park, checksummed;
 *   - connect refused; accept, read, read_full and write timeouts (never
 *     early), timeout 0 -> GOC_EAGAIN;
 *   - cancelling a coroutine blocked in accept and in read (the socket stays
 *     usable), and a caller cancelled before it reads;
 *   - closing a socket wakes its parked reader, writer and acceptor with
 *     GOC_ECLOSED;
 *   - a peer reset (SO_LINGER 0) mid-stream -> -ECONNRESET on read, and on
 *     write -ECONNRESET or GOC_ECLOSED;
 *   - peer close reads 0, read_full returns the short count; shutdown: the
 *     peer reads 0 and can still answer;
 *   - writing to a closed peer is an error, never a SIGPIPE;
 *   - IPv6 ::1 and the every-interface listener (skipped without IPv6),
 *     "localhost", port 0 + goc_tcp_port, -EADDRINUSE;
 *   - goc_resolve of a name, a numeric address, an unresolvable name;
 *   - bad input -> GOC_EINVAL, outside a coroutine -> GOC_EPERM.
 *
 * Addresses are always 127.0.0.1 (or ::1) with port 0: no fixed ports.
 * The EMFILE test forks, so it runs first, before any goc_run has started
 * threads in this process (TSan cannot create threads in the child of a
 * multi-threaded parent).
 */
#include "test_util.h"
#include "tu_whitebox.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

/* Timeout for calls that are expected to succeed: generous, so that a bug
 * shows as a failed check instead of a hang, and a loaded machine or a
 * sanitizer build never trips it. */
#define IO_T (30 * TU_SEC)

/* ------------------------------------------------------------- helpers */

static uint64_t prng_next(uint64_t *s)
{
    /* xorshift64*: the test data, reproducible from a seed */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void fill_pattern(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    size_t i = 0;
    while (i < len) {
        uint64_t v = prng_next(&s);
        for (int k = 0; k < 8 && i < len; k++, i++)
            buf[i] = (uint8_t)(v >> (8 * k));
    }
}

/* FNV-1a, 64 bit, continued from h (start with FNV_INIT). */
#define FNV_INIT 0xcbf29ce484222325ULL
static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void set_bufsizes(goc_tcp *c, int bytes)
{
    int fd = goc_tcp_fd(c);
    TU_CHECK(fd >= 0);
    TU_CHECK_INT_EQ(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes), 0);
    TU_CHECK_INT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes), 0);
}

/* Close with SO_LINGER {1, 0}: the peer gets a RST instead of a FIN. */
static void close_with_reset(goc_tcp *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    TU_CHECK_INT_EQ(setsockopt(goc_tcp_fd(c), SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(c), 0);
}

/* A listener on 127.0.0.1 with a kernel-chosen port. */
static goc_tcp *listen_local(int *port)
{
    goc_tcp *l = NULL;
    int rc = goc_tcp_listen("127.0.0.1", 0, 0, &l);
    TU_CHECK_INT_EQ(rc, 0);
    if (rc != 0)
        return NULL;
    *port = goc_tcp_port(l);
    TU_CHECK(*port > 0 && *port <= 65535);
    return l;
}

/* A connected pair over loopback: 0, or -1 after a failed check. */
static int pair_make(goc_tcp **client, goc_tcp **server)
{
    int port = 0;
    *client = *server = NULL;
    goc_tcp *l = listen_local(&port);
    if (!l)
        return -1;
    int rc = goc_tcp_connect("127.0.0.1", port, client, IO_T);
    TU_CHECK_INT_EQ(rc, 0);
    if (rc == 0) {
        rc = goc_tcp_accept(l, server, IO_T);
        TU_CHECK_INT_EQ(rc, 0);
        if (rc != 0) {
            goc_tcp_close(*client);
            *client = NULL;
        }
    }
    TU_CHECK_INT_EQ(goc_tcp_close(l), 0);
    return rc == 0 ? 0 : -1;
}

/* Write s, read it back from the other end, compare. */
static void check_roundtrip(goc_tcp *from, goc_tcp *to, const char *s)
{
    size_t n = strlen(s);
    char buf[128];
    TU_CHECK(n < sizeof buf);
    TU_CHECK_INT_EQ(goc_tcp_write(from, s, n, IO_T), (ssize_t)n);
    memset(buf, 0, sizeof buf);
    TU_CHECK_INT_EQ(goc_tcp_read_full(to, buf, n, IO_T), (ssize_t)n);
    TU_CHECK(memcmp(buf, s, n) == 0);
}

/* An echo handler: read, write back, until end of stream; then close. */
typedef struct echo_conn {
    goc_tcp *c;
    goc_wg *wg; /* done when the handler has closed its socket */
} echo_conn;

static void echo_handler(void *arg)
{
    echo_conn *e = arg;
    size_t cap = 16 * 1024;
    uint8_t *buf = malloc(cap);
    TU_CHECK(buf != NULL);
    while (buf) {
        ssize_t r = goc_tcp_read(e->c, buf, cap, IO_T);
        if (r == 0)
            break;
        if (r < 0) {
            tu_check_failed(__FILE__, __LINE__, "echo read: %zd (%s)", r, goc_strerror((int)r));
            break;
        }
        ssize_t w = goc_tcp_write(e->c, buf, (size_t)r, IO_T);
        if (w != r) {
            tu_check_failed(__FILE__, __LINE__, "echo write: %zd, want %zd (%s)", w, r,
                            w < 0 ? goc_strerror((int)w) : "short");
            break;
        }
    }
    free(buf);
    TU_CHECK_INT_EQ(goc_tcp_close(e->c), 0);
    goc_wg_done(e->wg);
    free(e);
}

static void echo_start(goc_tcp *c, goc_wg *wg)
{
    echo_conn *e = malloc(sizeof *e);
    TU_CHECK(e != NULL);
    if (!e) {
        goc_tcp_close(c);
        return;
    }
    e->c = c;
    e->wg = wg;
    goc_wg_add(wg, 1);
    int rc = goc_go(echo_handler, e);
    TU_CHECK_INT_EQ(rc, 0);
    if (rc != 0) {
        goc_tcp_close(c);
        goc_wg_done(wg);
        free(e);
    }
}

/* ============================================== EMFILE (forked child; first) */

#define EMF_PAIRS 4
#define EMF_HEADROOM 16

typedef struct emf_state {
    int port;
    goc_tcp *l;
    goc_tcp *client[EMF_PAIRS];
    goc_tcp **pending;   /* connected, never accepted: in the backlog */
    int npending, pending_cap;
    int *fillers;        /* /dev/null descriptors plugging holes below the limit */
    int nfillers;
    int accept_err;      /* what accept said with no descriptor left */
    goc_wg *handlers;
} emf_state;

static int highest_open_fd(void)
{
    int hi = -1;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 1024; /* no /proc: assume a lot is open; headroom still applies */
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        int fd = atoi(de->d_name);
        if (fd > hi)
            hi = fd;
    }
    closedir(d);
    return hi;
}

static int local_port_of(goc_tcp *c, int peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = goc_tcp_fd(c);
    int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
                  : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (rc != 0)
        return -1;
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int is_out_of_fds(int err)
{
    return err == -EMFILE || err == -ENFILE;
}

static void main_emfile(void *arg)
{
    emf_state *s = arg;
    s->handlers = goc_wg_new();
    TU_CHECK(s->handlers != NULL);
    s->l = listen_local(&s->port);
    if (!s->l || !s->handlers)
        return;

    /* 1. Some connections, each served by an echo handler. */
    for (int i = 0; i < EMF_PAIRS; i++) {
        goc_tcp *srv = NULL;
        TU_CHECK_INT_EQ(goc_tcp_connect("127.0.0.1", s->port, &s->client[i], IO_T), 0);
        TU_CHECK_INT_EQ(goc_tcp_accept(s->l, &srv, IO_T), 0);
        if (!s->client[i] || !srv)
            return;
        echo_start(srv, s->handlers);
    }
    for (int i = 0; i < EMF_PAIRS; i++)
        check_roundtrip(s->client[i], s->client[i], "before the limit");

    /* 2. Lower the limit, then connect until no descriptor is left: the
     *    kernel completes these handshakes without accept, so they wait
     *    in the listener's backlog. */
    struct rlimit old, low;
    TU_CHECK_INT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    /* Descriptors inherited from whoever started us can leave holes below
     * the highest one; plug them, so that exactly EMF_HEADROOM are free
     * under the new limit. */
    int hi = highest_open_fd();
    s->fillers = calloc((size_t)hi + 1, sizeof *s->fillers);
    TU_CHECK(s->fillers != NULL);
    while (s->fillers && s->nfillers <= hi) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fd > hi) {
            if (fd >= 0)
                close(fd);
            break;
        }
        s->fillers[s->nfillers++] = fd;
    }
    low.rlim_cur = (rlim_t)hi + 1 + EMF_HEADROOM;
    s->pending_cap = EMF_HEADROOM + 8; /* more than can be free */
    s->pending = calloc((size_t)s->pending_cap, sizeof *s->pending);
    TU_CHECK(s->pending != NULL);
    if (!s->pending)
        return;
    TU_CHECK_INT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    int last = 0;
    while (s->npending < s->pending_cap) {
        last = goc_tcp_connect("127.0.0.1", s->port, &s->pending[s->npending], IO_T);
        if (last != 0)
            break;
        s->npending++;
    }
    if (!is_out_of_fds(last))
        tu_check_failed(__FILE__, __LINE__, "connect with no descriptor left: %d (%s), want -EMFILE",
                        last, goc_strerror(last));
    /* each took one of the EMF_HEADROOM free descriptors (the runtime may
     * have taken some for itself meanwhile) */
    TU_CHECK(s->npending >= 1 && s->npending <= EMF_HEADROOM);

    /* 3. Accept has connections waiting but no descriptor for them. */
    for (int k = 0; k < 2; k++) {
        goc_tcp *c = NULL;
        s->accept_err = goc_tcp_accept(s->l, &c, 2 * TU_SEC);
        if (!is_out_of_fds(s->accept_err))
            tu_check_failed(__FILE__, __LINE__, "accept with no descriptor left: %d (%s), want -EMFILE",
                            s->accept_err, goc_strerror(s->accept_err));
        TU_CHECK(c == NULL);
        if (c)
            goc_tcp_close(c);
    }

    /* 4. The connections the server has are still served. */
    for (int i = 0; i < EMF_PAIRS; i++)
        check_roundtrip(s->client[i], s->client[i], "still served at the limit");

    /* 5. Free two descriptors (the client end of pair 0; its handler then
     *    reads end of stream and closes its end): accept works again. */
    TU_CHECK_INT_EQ(goc_tcp_close(s->client[0]), 0);
    s->client[0] = NULL;
    goc_tcp *again = NULL;
    int rc = 0;
    int64_t until = goc_now() + 10 * TU_SEC;
    do {
        rc = goc_tcp_accept(s->l, &again, 2 * TU_SEC);
        if (is_out_of_fds(rc))
            goc_sleep(5 * TU_MS); /* the handler has not closed its end yet */
    } while (is_out_of_fds(rc) && goc_now() < until);
    TU_CHECK_INT_EQ(rc, 0);
    if (again) {
        /* which pending client is it? match the ports */
        int peer_port = local_port_of(again, 1);
        int match = -1;
        for (int k = 0; k < s->npending; k++)
            if (local_port_of(s->pending[k], 0) == peer_port)
                match = k;
        TU_CHECK(match >= 0);
        echo_start(again, s->handlers);
        if (match >= 0)
            check_roundtrip(s->pending[match], s->pending[match], "accepted after freeing");
    }

    /* Clean up; the limit first, so that nothing else can run short. */
    TU_CHECK_INT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
    for (int k = 0; k < s->npending; k++)
        TU_CHECK_INT_EQ(goc_tcp_close(s->pending[k]), 0);
    for (int i = 0; i < EMF_PAIRS; i++)
        if (s->client[i])
            TU_CHECK_INT_EQ(goc_tcp_close(s->client[i]), 0);
    TU_CHECK_INT_EQ(goc_wg_wait(s->handlers), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(s->l), 0);
    goc_wg_free(s->handlers);
    free(s->pending);
    for (int k = 0; k < s->nfillers; k++)
        close(s->fillers[k]);
    free(s->fillers);
}

static void emfile_child(void *arg)
{
    (void)arg;
    static emf_state s;
    memset(&s, 0, sizeof s);
    tu_checks_reset();
    goc_config cfg = tu_cfg(0);
    int rc = goc_run(&cfg, main_emfile, &s);
    int fails = atomic_load(&tu_fail_count);
    fprintf(stderr, "emfile child: goc_run %d, %d failed checks, %d pending clients, accept said %d\n",
            rc, fails, s.npending, s.accept_err);
    _exit(rc == 0 && fails == 0 ? 0 : 1);
}

static void test_net_emfile(void **state)
{
    (void)state;
    tu_child ch;
    tu_fork_capture(emfile_child, NULL, 120, &ch);
    fprintf(stderr, "%s", ch.err ? ch.err : "");
    if (!ch.exited || ch.exit_code != 0) {
        tu_child_print("EMFILE child", &ch);
        tu_child_free(&ch);
        fail_msg("the EMFILE child failed (see its stderr above)");
    }
    tu_child_free(&ch);
}

/* ====================================================== 1,000 echo conns */

#define ECHO_N 1000

typedef struct echo_state {
    int n;
    int port;
    goc_tcp *l;
    goc_wg *connected; /* every client connected: release them at once */
    goc_wg *clients;   /* every client finished */
    goc_wg *handlers;  /* every server-side handler finished */
    goc_chan *start;   /* closed once all n clients are connected */
    atomic_int ok;     /* clients that got their bytes back exactly */
} echo_state;

static echo_state *g_echo;

static size_t echo_msg_len(int i)
{
    return 1 + (size_t)((i * 7919) % 16000);
}

static void echo_client(void *arg)
{
    int i = (int)(uintptr_t)arg;
    echo_state *s = g_echo;
    goc_tcp *c = NULL;
    int rc = goc_tcp_connect("127.0.0.1", s->port, &c, IO_T);
    TU_CHECK_INT_EQ(rc, 0);
    goc_wg_done(s->connected);
    /* wait until every client holds its connection: n are open at once */
    TU_CHECK_INT_EQ(goc_chan_recv(s->start, NULL), GOC_ECLOSED);
    if (rc != 0) {
        goc_wg_done(s->clients);
        return;
    }
    size_t len = echo_msg_len(i);
    uint8_t *out = malloc(len), *in = malloc(len);
    TU_CHECK(out && in);
    if (out && in) {
        fill_pattern(out, len, (uint64_t)i);
        memset(in, 0, len);
        /* in two writes, with a yield between, so the server sees pieces */
        size_t half = len / 2;
        TU_CHECK_INT_EQ(goc_tcp_write(c, out, half, IO_T), (ssize_t)half);
        goc_yield();
        TU_CHECK_INT_EQ(goc_tcp_write(c, out + half, len - half, IO_T), (ssize_t)(len - half));
        ssize_t r = goc_tcp_read_full(c, in, len, IO_T);
        TU_CHECK_INT_EQ(r, (ssize_t)len);
        int same = r == (ssize_t)len && memcmp(in, out, len) == 0;
        if (!same)
            tu_check_failed(__FILE__, __LINE__, "client %d: echo differs", i);
        /* we are done sending: the server sees end of stream, closes, we
         * see end of stream */
        TU_CHECK_INT_EQ(goc_tcp_shutdown(c), 0);
        uint8_t extra;
        TU_CHECK_INT_EQ(goc_tcp_read(c, &extra, 1, IO_T), 0);
        if (same)
            atomic_fetch_add(&s->ok, 1);
    }
    free(out);
    free(in);
    TU_CHECK_INT_EQ(goc_tcp_close(c), 0);
    goc_wg_done(s->clients);
}

static void *echo_acceptor(void *arg)
{
    echo_state *s = arg;
    for (int i = 0; i < s->n; i++) {
        goc_tcp *c = NULL;
        int rc = goc_tcp_accept(s->l, &c, IO_T);
        if (rc != 0) {
            tu_check_failed(__FILE__, __LINE__, "accept #%d: %d (%s)", i, rc, goc_strerror(rc));
            break;
        }
        echo_start(c, s->handlers);
    }
    return NULL;
}

static void main_echo(void *arg)
{
    echo_state *s = arg;
    g_echo = s;
    s->l = listen_local(&s->port);
    s->connected = goc_wg_new();
    s->clients = goc_wg_new();
    s->handlers = goc_wg_new();
    s->start = goc_chan_make(0, 0);
    TU_CHECK(s->connected && s->clients && s->handlers && s->start);
    if (!s->l || !s->connected || !s->clients || !s->handlers || !s->start)
        return;
    goc_task *acc = goc_spawn(echo_acceptor, s);
    TU_CHECK(acc != NULL);
    goc_wg_add(s->connected, s->n);
    goc_wg_add(s->clients, s->n);
    for (int i = 0; i < s->n; i++)
        TU_CHECK_INT_EQ(goc_go(echo_client, (void *)(uintptr_t)i), 0);
    TU_CHECK_INT_EQ(goc_wg_wait(s->connected), 0);
    TU_CHECK_INT_EQ(goc_chan_close(s->start), 0);
    TU_CHECK_INT_EQ(goc_wg_wait(s->clients), 0);
    if (acc)
        TU_CHECK_INT_EQ(goc_join(acc, NULL), 0);
    TU_CHECK_INT_EQ(goc_wg_wait(s->handlers), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(s->l), 0);
    goc_wg_free(s->connected);
    goc_wg_free(s->clients);
    goc_wg_free(s->handlers);
    TU_CHECK_INT_EQ(goc_chan_free(s->start), 0);
}

/* Each connection costs two descriptors here (client and server end). */
static int echo_count_for_fd_limit(int want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    rlim_t need = (rlim_t)want * 2 + 128;
    if (rl.rlim_cur < need && rl.rlim_max != rl.rlim_cur) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < need) {
        int fit = (int)((rl.rlim_cur - 128) / 2);
        fprintf(stderr, "note: RLIMIT_NOFILE %llu: %d echo connections instead of %d\n",
                (unsigned long long)rl.rlim_cur, fit, want);
        return fit;
    }
    return want;
}

static void test_net_echo_1000(void **state)
{
    (void)state;
    static echo_state s;
    memset(&s, 0, sizeof s);
    s.n = echo_count_for_fd_limit(TU_SCALE(ECHO_N));
    assert_true(s.n > 0);
    int64_t t0 = tu_clock_ns();
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_echo, &s);
    assert_int_equal(atomic_load(&s.ok), s.n);
    fprintf(stderr, "echo: %d concurrent connections, byte-exact, in %.0f ms\n", s.n,
            (double)(tu_clock_ns() - t0) / 1e6);
}

/* ========================================== 10 MB both ways, checksummed */

#define XFER_BYTES ((size_t)10 * 1024 * 1024)
#define XFER_BYTES_SAN ((size_t)2 * 1024 * 1024)

typedef struct xfer_end {
    goc_tcp *c;
    uint64_t seed;
    size_t nsend;
    uint64_t sent_sum;   /* checksum of what this end wrote */
    uint64_t recv_sum;   /* checksum of what this end read */
    size_t nrecv;
    goc_wg *wg;
} xfer_end;

static void xfer_writer(void *arg)
{
    xfer_end *e = arg;
    uint8_t *buf = malloc(e->nsend);
    TU_CHECK(buf != NULL);
    if (buf) {
        fill_pattern(buf, e->nsend, e->seed);
        e->sent_sum = fnv1a(FNV_INIT, buf, e->nsend);
        /* one call for all of it: the socket buffer is small, so the write
         * is partial many times over and parks in between */
        ssize_t w = goc_tcp_write(e->c, buf, e->nsend, 4 * IO_T);
        TU_CHECK_INT_EQ(w, (ssize_t)e->nsend);
        free(buf);
    }
    TU_CHECK_INT_EQ(goc_tcp_shutdown(e->c), 0);
    goc_wg_done(e->wg);
}

static void xfer_reader(void *arg)
{
    xfer_end *e = arg;
    const size_t cap = 64 * 1024;
    uint8_t *buf = malloc(cap);
    TU_CHECK(buf != NULL);
    uint64_t h = FNV_INIT, rs = e->seed + 77;
    goc_sleep(20 * TU_MS); /* let the writer fill the buffers and park first */
    while (buf) {
        size_t want = 1 + (size_t)(prng_next(&rs) % cap); /* odd sizes too */
        ssize_t r = goc_tcp_read(e->c, buf, want, 4 * IO_T);
        if (r == 0)
            break;
        if (r < 0) {
            tu_check_failed(__FILE__, __LINE__, "transfer read: %zd (%s)", r, goc_strerror((int)r));
            break;
        }
        TU_CHECK(r <= (ssize_t)want);
        h = fnv1a(h, buf, (size_t)r);
        e->nrecv += (size_t)r;
    }
    e->recv_sum = h;
    free(buf);
    goc_wg_done(e->wg);
}

static void main_xfer(void *arg)
{
    xfer_end *ends = arg; /* [0] client, [1] server */
    if (pair_make(&ends[0].c, &ends[1].c) != 0)
        return;
    goc_wg *wg = goc_wg_new();
    TU_CHECK(wg != NULL);
    if (!wg)
        return;
    goc_wg_add(wg, 4);
    for (int k = 0; k < 2; k++) {
        set_bufsizes(ends[k].c, 16 * 1024);
        ends[k].wg = wg;
        TU_CHECK_INT_EQ(goc_go(xfer_writer, &ends[k]), 0);
        TU_CHECK_INT_EQ(goc_go(xfer_reader, &ends[k]), 0);
    }
    TU_CHECK_INT_EQ(goc_wg_wait(wg), 0);
    goc_wg_free(wg);
    TU_CHECK_INT_EQ(goc_tcp_close(ends[0].c), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(ends[1].c), 0);
}

static void test_net_transfer_10mb(void **state)
{
    (void)state;
    static xfer_end ends[2];
    memset(ends, 0, sizeof ends);
    size_t n = TU_SANITIZED ? XFER_BYTES_SAN : XFER_BYTES;
    ends[0].seed = 1001;
    ends[0].nsend = n;
    ends[1].seed = 2002;
    ends[1].nsend = n + 12345; /* not a round number */
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_xfer, ends);
    for (int k = 0; k < 2; k++) {
        const xfer_end *from = &ends[k], *to = &ends[1 - k];
        assert_int_equal(to->nrecv, from->nsend);
        if (to->recv_sum != from->sent_sum)
            fail_msg("end %d -> end %d: checksum %016llx, sent %016llx", k, 1 - k,
                     (unsigned long long)to->recv_sum, (unsigned long long)from->sent_sum);
    }
}

/* ===================================================== connect refused */

static void main_refused(void *arg)
{
    (void)arg;
    int port = 0;
    goc_tcp *l = listen_local(&port); /* a port that was free a moment ago */
    if (!l)
        return;
    TU_CHECK_INT_EQ(goc_tcp_close(l), 0);
    goc_tcp *c = (goc_tcp *)&c; /* must be overwritten */
    TU_CHECK_INT_EQ(goc_tcp_connect("127.0.0.1", port, &c, IO_T), -ECONNREFUSED);
    TU_CHECK(c == NULL);
}

static void test_net_connect_refused(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_refused, NULL);
}

/* ============================================================ timeouts */

/* Call took at least want_ns (never early) and not absurdly long. */
static void check_elapsed(int64_t t0, int64_t want_ns)
{
    int64_t took = goc_now() - t0;
    if (took < want_ns)
        tu_check_failed(__FILE__, __LINE__, "timed out after %lld us, before the %lld us timeout",
                        (long long)(took / 1000), (long long)(want_ns / 1000));
    if (took > want_ns + 10 * TU_SEC)
        tu_check_failed(__FILE__, __LINE__, "a %lld ms timeout took %lld ms",
                        (long long)(want_ns / TU_MS), (long long)(took / TU_MS));
}

static void main_timeouts(void *arg)
{
    (void)arg;
    int port = 0;
    goc_tcp *l = listen_local(&port);
    if (!l)
        return;
    goc_tcp *c = NULL, *a = NULL, *b = NULL;

    /* accept: nothing pending */
    TU_CHECK_INT_EQ(goc_tcp_accept(l, &c, 0), GOC_EAGAIN);
    TU_CHECK(c == NULL);
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_tcp_accept(l, &c, 50 * TU_MS), GOC_ETIMEDOUT);
    check_elapsed(t0, 50 * TU_MS);
    TU_CHECK(c == NULL);

    TU_CHECK_INT_EQ(goc_tcp_connect("127.0.0.1", port, &a, IO_T), 0);
    TU_CHECK_INT_EQ(goc_tcp_accept(l, &b, IO_T), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(l), 0);
    if (!a || !b)
        return;

    /* read: nothing sent */
    char buf[16];
    TU_CHECK_INT_EQ(goc_tcp_read(a, buf, sizeof buf, 0), GOC_EAGAIN);
    t0 = goc_now();
    TU_CHECK_INT_EQ(goc_tcp_read(a, buf, sizeof buf, 50 * TU_MS), GOC_ETIMEDOUT);
    check_elapsed(t0, 50 * TU_MS);

    /* read_full: 3 of 10 bytes come; the timeout covers the whole call */
    TU_CHECK_INT_EQ(goc_tcp_write(b, "abc", 3, IO_T), 3);
    t0 = goc_now();
    TU_CHECK_INT_EQ(goc_tcp_read_full(a, buf, 10, 100 * TU_MS), GOC_ETIMEDOUT);
    check_elapsed(t0, 100 * TU_MS);
    TU_CHECK(memcmp(buf, "abc", 3) == 0); /* read, just not counted */

    /* the connection still works after timeouts */
    check_roundtrip(b, a, "after timeouts");

    /* write: the peer does not read; small buffers fill up */
    set_bufsizes(a, 8 * 1024);
    set_bufsizes(b, 8 * 1024);
    size_t big = 8 * 1024 * 1024;
    uint8_t *data = calloc(1, big);
    TU_CHECK(data != NULL);
    if (data) {
        TU_CHECK_INT_EQ(goc_tcp_write(a, data, big, 0), GOC_EAGAIN);
        t0 = goc_now();
        TU_CHECK_INT_EQ(goc_tcp_write(a, data, big, 100 * TU_MS), GOC_ETIMEDOUT);
        check_elapsed(t0, 100 * TU_MS);
        free(data);
    }
    TU_CHECK_INT_EQ(goc_tcp_close(a), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(b), 0);
}

static void test_net_timeouts(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_timeouts, NULL);
}

/* ======================================================== cancellation */

typedef struct blocked {
    goc_tcp *sock;
    int64_t timeout;
    atomic_int started;
    atomic_int go;       /* for the pre-cancelled case: wait for this first */
    atomic_int finished; /* the call returned */
    int rc;
    int64_t took;
} blocked;

static void *blocked_accept(void *arg)
{
    blocked *b = arg;
    goc_tcp *c = NULL;
    atomic_store(&b->started, 1);
    int64_t t0 = goc_now();
    b->rc = goc_tcp_accept(b->sock, &c, b->timeout);
    b->took = goc_now() - t0;
    if (c)
        goc_tcp_close(c);
    atomic_store(&b->finished, 1);
    return NULL;
}

static void *blocked_read(void *arg)
{
    blocked *b = arg;
    char buf[64];
    atomic_store(&b->started, 1);
    while (!atomic_load(&b->go))
        goc_yield();
    int64_t t0 = goc_now();
    b->rc = (int)goc_tcp_read(b->sock, buf, sizeof buf, b->timeout);
    b->took = goc_now() - t0;
    atomic_store(&b->finished, 1);
    return NULL;
}

static void *blocked_write(void *arg)
{
    blocked *b = arg;
    size_t big = 8 * 1024 * 1024;
    uint8_t *data = calloc(1, big);
    TU_CHECK(data != NULL);
    atomic_store(&b->started, 1);
    if (data) {
        b->rc = (int)goc_tcp_write(b->sock, data, big, b->timeout);
        free(data);
    }
    atomic_store(&b->finished, 1);
    return NULL;
}

/* Join a task that was woken (cancel, close, reset). A task still blocked
 * long after that is a bug that would hang the test until ctest kills it:
 * say which and stop here instead. */
static int join_blocked(goc_task *t, blocked *b, const char *what)
{
    if (!tu_wait_flag(&b->finished, 30 * TU_SEC)) {
        fprintf(stderr, "FATAL: %s: still blocked 30 s after it should have woken up\n", what);
        abort();
    }
    return goc_join(t, NULL);
}

/* Start fn(b) as a task and wait until it is parked in its call, queued
 * on the socket: a close then wakes it, and it never calls into a socket
 * already closed (not "started, and 50 ms later": a descheduled worker
 * outlasts that). */
static goc_task *start_blocked(void *(*fn)(void *), blocked *b)
{
    atomic_store(&b->started, 0);
    atomic_store(&b->go, 1);
    b->rc = 1;
    goc_task *t = goc_spawn(fn, b);
    TU_CHECK(t != NULL);
    if (t)
        TU_CHECK(tu_wait_parked(t, IO_T));
    return t;
}

static void main_cancel(void *arg)
{
    (void)arg;
    int port = 0;
    goc_tcp *l = listen_local(&port);
    if (!l)
        return;

    /* accept, no timeout */
    blocked b = {.sock = l, .timeout = -1};
    goc_task *t = start_blocked(blocked_accept, &b);
    if (t) {
        TU_CHECK_INT_EQ(goc_cancel(t), 0);
        join_blocked(t, &b, "cancelled accept (no timeout)");
        TU_CHECK_INT_EQ(b.rc, GOC_ECANCELED);
    }
    /* accept with a long timeout: the cancel ends it early */
    b.timeout = 60 * TU_SEC;
    t = start_blocked(blocked_accept, &b);
    if (t) {
        TU_CHECK_INT_EQ(goc_cancel(t), 0);
        join_blocked(t, &b, "cancelled accept (60 s timeout)");
        TU_CHECK_INT_EQ(b.rc, GOC_ECANCELED);
        TU_CHECK(b.took < 30 * TU_SEC);
    }
    /* the listener still works */
    goc_tcp *a = NULL, *s = NULL;
    TU_CHECK_INT_EQ(goc_tcp_connect("127.0.0.1", port, &a, IO_T), 0);
    TU_CHECK_INT_EQ(goc_tcp_accept(l, &s, IO_T), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(l), 0);
    if (!a || !s)
        return;

    /* read, no timeout and with a long one */
    int64_t timeouts[2] = {-1, 60 * TU_SEC};
    for (int k = 0; k < 2; k++) {
        blocked r = {.sock = a, .timeout = timeouts[k]};
        t = start_blocked(blocked_read, &r);
        if (t) {
            TU_CHECK_INT_EQ(goc_cancel(t), 0);
            join_blocked(t, &r, "cancelled read");
            TU_CHECK_INT_EQ(r.rc, GOC_ECANCELED);
            TU_CHECK(r.took < 30 * TU_SEC);
        }
    }
    /* a reader cancelled before it calls read: the read fails at once */
    blocked pre = {.sock = a, .timeout = -1};
    t = goc_spawn(blocked_read, &pre);
    TU_CHECK(t != NULL);
    if (t) {
        TU_CHECK_INT_EQ(goc_cancel(t), 0);
        atomic_store(&pre.go, 1);
        join_blocked(t, &pre, "read cancelled before the call");
        TU_CHECK_INT_EQ(pre.rc, GOC_ECANCELED);
    }
    /* no byte was lost or eaten by the cancelled reads */
    check_roundtrip(s, a, "after cancelled reads");
    check_roundtrip(a, s, "and the other way");
    TU_CHECK_INT_EQ(goc_tcp_close(a), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(s), 0);
}

static void test_net_cancel(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_cancel, NULL);
}

/* =============================================== close wakes the waiters */

static void main_close_wakes(void *arg)
{
    (void)arg;
    goc_tcp *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    if (pair_make(&a, &b) != 0 || pair_make(&c, &d) != 0)
        return;

    /* a reader parked on a */
    blocked r = {.sock = a, .timeout = -1};
    goc_task *tr = start_blocked(blocked_read, &r);
    /* a writer parked on c: d does not read, the buffers are small */
    set_bufsizes(c, 8 * 1024);
    set_bufsizes(d, 8 * 1024);
    blocked w = {.sock = c, .timeout = -1};
    goc_task *tw = start_blocked(blocked_write, &w);
    /* an acceptor parked on a listener */
    int port = 0;
    goc_tcp *l = listen_local(&port);
    blocked acc = {.sock = l, .timeout = -1};
    goc_task *ta = l ? start_blocked(blocked_accept, &acc) : NULL;

    TU_CHECK_INT_EQ(goc_tcp_close(a), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(c), 0);
    if (l)
        TU_CHECK_INT_EQ(goc_tcp_close(l), 0);
    if (tr) {
        TU_CHECK_INT_EQ(join_blocked(tr, &r, "reader on a closed socket"), 0);
        TU_CHECK_INT_EQ(r.rc, GOC_ECLOSED);
    }
    if (tw) {
        TU_CHECK_INT_EQ(join_blocked(tw, &w, "writer on a closed socket"), 0);
        TU_CHECK_INT_EQ(w.rc, GOC_ECLOSED);
    }
    if (ta) {
        TU_CHECK_INT_EQ(join_blocked(ta, &acc, "acceptor on a closed listener"), 0);
        TU_CHECK_INT_EQ(acc.rc, GOC_ECLOSED);
    }
    /* the peers see the close */
    char x;
    TU_CHECK_INT_EQ(goc_tcp_read(b, &x, 1, IO_T), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(b), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(d), 0);
}

static void test_net_close_wakes(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_close_wakes, NULL);
}

/* ========================================================== peer reset */

static void *write_until_error(void *arg)
{
    blocked *b = arg;
    size_t chunk = 64 * 1024;
    uint8_t *data = calloc(1, chunk);
    TU_CHECK(data != NULL);
    atomic_store(&b->started, 1);
    b->rc = 0;
    for (int i = 0; data && i < 100000 && b->rc >= 0; i++) {
        ssize_t w = goc_tcp_write(b->sock, data, chunk, IO_T);
        if (w < 0)
            b->rc = (int)w;
        else
            TU_CHECK_INT_EQ(w, (ssize_t)chunk);
    }
    free(data);
    atomic_store(&b->finished, 1);
    return NULL;
}

static void main_reset(void *arg)
{
    (void)arg;
    goc_tcp *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    if (pair_make(&a, &b) != 0 || pair_make(&c, &d) != 0)
        return;

    /* read side: some bytes arrive, the reader parks, the peer resets */
    uint8_t msg[1000], got[1000];
    fill_pattern(msg, sizeof msg, 5);
    TU_CHECK_INT_EQ(goc_tcp_write(b, msg, sizeof msg, IO_T), (ssize_t)sizeof msg);
    TU_CHECK_INT_EQ(goc_tcp_read_full(a, got, sizeof got, IO_T), (ssize_t)sizeof got);
    TU_CHECK(memcmp(msg, got, sizeof msg) == 0);
    blocked r = {.sock = a, .timeout = IO_T};
    goc_task *t = start_blocked(blocked_read, &r);
    close_with_reset(b);
    if (t) {
        TU_CHECK_INT_EQ(join_blocked(t, &r, "reader of a reset connection"), 0);
        TU_CHECK_INT_EQ(r.rc, -ECONNRESET);
    }
    TU_CHECK_INT_EQ(goc_tcp_close(a), 0);

    /* write side: a writer streams, the peer reads a little and resets */
    set_bufsizes(c, 16 * 1024);
    blocked w = {.sock = c, .timeout = IO_T};
    atomic_store(&w.started, 0);
    goc_task *tw = goc_spawn(write_until_error, &w);
    TU_CHECK(tw != NULL);
    uint8_t *buf = malloc(64 * 1024);
    TU_CHECK(buf != NULL);
    if (buf)
        TU_CHECK_INT_EQ(goc_tcp_read_full(d, buf, 64 * 1024, IO_T), 64 * 1024);
    free(buf);
    close_with_reset(d);
    if (tw) {
        TU_CHECK_INT_EQ(join_blocked(tw, &w, "writer to a reset peer"), 0);
        if (w.rc != -ECONNRESET && w.rc != GOC_ECLOSED)
            tu_check_failed(__FILE__, __LINE__, "write to a reset peer: %d (%s), want -ECONNRESET or GOC_ECLOSED",
                            w.rc, goc_strerror(w.rc));
    }
    TU_CHECK_INT_EQ(goc_tcp_close(c), 0);
}

static void test_net_peer_reset(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_reset, NULL);
}

/* ========================================== peer close, shutdown, SIGPIPE */

static void main_close_shutdown(void *arg)
{
    (void)arg;
    goc_tcp *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL, *f = NULL;
    if (pair_make(&a, &b) != 0 || pair_make(&c, &d) != 0 || pair_make(&e, &f) != 0)
        return;
    char buf[16];

    /* peer close: the bytes sent before it, then 0, and 0 again */
    TU_CHECK_INT_EQ(goc_tcp_write(b, "abc", 3, IO_T), 3);
    TU_CHECK_INT_EQ(goc_tcp_close(b), 0);
    memset(buf, 0, sizeof buf);
    TU_CHECK_INT_EQ(goc_tcp_read_full(a, buf, 10, IO_T), 3); /* short: end of stream */
    TU_CHECK(memcmp(buf, "abc", 3) == 0);
    TU_CHECK_INT_EQ(goc_tcp_read(a, buf, sizeof buf, IO_T), 0);
    TU_CHECK_INT_EQ(goc_tcp_read(a, buf, sizeof buf, IO_T), 0);
    TU_CHECK_INT_EQ(goc_tcp_read_full(a, buf, 4, IO_T), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(a), 0);

    /* shutdown: the peer reads the request, then 0, and still answers */
    TU_CHECK_INT_EQ(goc_tcp_write(c, "ping", 4, IO_T), 4);
    TU_CHECK_INT_EQ(goc_tcp_shutdown(c), 0);
    TU_CHECK(goc_tcp_write(c, "late", 4, IO_T) < 0); /* our sending side is shut */
    memset(buf, 0, sizeof buf);
    TU_CHECK_INT_EQ(goc_tcp_read_full(d, buf, 4, IO_T), 4);
    TU_CHECK(memcmp(buf, "ping", 4) == 0);
    TU_CHECK_INT_EQ(goc_tcp_read(d, buf, sizeof buf, IO_T), 0);
    TU_CHECK_INT_EQ(goc_tcp_write(d, "pong", 4, IO_T), 4);
    TU_CHECK_INT_EQ(goc_tcp_close(d), 0);
    memset(buf, 0, sizeof buf);
    TU_CHECK_INT_EQ(goc_tcp_read_full(c, buf, 4, IO_T), 4);
    TU_CHECK(memcmp(buf, "pong", 4) == 0);
    TU_CHECK_INT_EQ(goc_tcp_read(c, buf, sizeof buf, IO_T), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(c), 0);

    /* writing to a peer that closed: an error, and the process lives (the
     * first write may still be accepted: only the peer's RST tells) */
    TU_CHECK_INT_EQ(goc_tcp_close(f), 0);
    ssize_t w = 0;
    for (int i = 0; i < 1000 && w >= 0; i++) {
        w = goc_tcp_write(e, "data", 4, IO_T);
        if (w >= 0)
            goc_sleep(2 * TU_MS);
    }
    if (w != GOC_ECLOSED && w != -ECONNRESET)
        tu_check_failed(__FILE__, __LINE__, "write to a closed peer: %zd (%s), want GOC_ECLOSED or -ECONNRESET",
                        w, w < 0 ? goc_strerror((int)w) : "no error");
    TU_CHECK(goc_tcp_write(e, "more", 4, IO_T) < 0);

    TU_CHECK_INT_EQ(goc_tcp_close(e), 0);
}

/* Run fn with SIGPIPE at its default action (which kills), so that
 * nothing passes by relying on the test program having ignored it. */
static void run_with_default_sigpipe(void (*fn)(void *))
{
    struct sigaction old, dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    assert_int_equal(sigaction(SIGPIPE, &dfl, &old), 0);
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, fn, NULL);
    sigaction(SIGPIPE, &old, NULL);
}

static void test_net_close_shutdown(void **state)
{
    (void)state;
    run_with_default_sigpipe(main_close_shutdown);
}

/* goc.h: "SIGPIPE is ignored while a runtime runs", so even a plain
 * write(2) on the descriptor (goc_tcp_fd is there for such uses) gets
 * EPIPE instead of killing the process. The write is only tried when the
 * signal is ignored: otherwise it would kill this test program. */
static void main_sigpipe(void *arg)
{
    (void)arg;
    struct sigaction cur;
    TU_CHECK_INT_EQ(sigaction(SIGPIPE, NULL, &cur), 0);
    if (cur.sa_handler != SIG_IGN) {
        tu_check_failed(__FILE__, __LINE__,
                        "SIGPIPE is not ignored while the runtime runs (goc.h: \"SIGPIPE is "
                        "ignored while a runtime runs\")");
        return;
    }
    goc_tcp *a = NULL, *b = NULL;
    if (pair_make(&a, &b) != 0)
        return;
    TU_CHECK_INT_EQ(goc_tcp_close(b), 0);
    ssize_t raw = 0;
    int err = 0;
    for (int i = 0; i < 1000 && raw >= 0; i++) {
        raw = write(goc_tcp_fd(a), "raw", 3);
        err = errno;
        if (raw >= 0)
            goc_sleep(2 * TU_MS);
    }
    TU_CHECK(raw < 0 && (err == EPIPE || err == ECONNRESET));
    TU_CHECK_INT_EQ(goc_tcp_close(a), 0);
}

static void test_net_sigpipe_ignored(void **state)
{
    (void)state;
    run_with_default_sigpipe(main_sigpipe);
}

/* ================================================ IPv6, any, localhost */

typedef struct v6_state {
    int have_v6;
    int v6_listen_err;
} v6_state;

/* Listen on host, connect to connect_host at the same port, talk. */
static void check_listen_connect(const char *host, const char *connect_host)
{
    goc_tcp *l = NULL, *a = NULL, *b = NULL;
    int rc = goc_tcp_listen(host, 0, 0, &l);
    if (rc != 0)
        tu_check_failed(__FILE__, __LINE__, "listen on %s: %d (%s)", host ? host : "(NULL)", rc,
                        goc_strerror(rc));
    if (!l)
        return;
    int port = goc_tcp_port(l);
    TU_CHECK(port > 0);
    rc = goc_tcp_connect(connect_host, port, &a, IO_T);
    if (rc != 0)
        tu_check_failed(__FILE__, __LINE__, "listen on %s, connect to %s: %d (%s)",
                        host ? host : "(NULL)", connect_host, rc, goc_strerror(rc));
    if (a) {
        TU_CHECK_INT_EQ(goc_tcp_accept(l, &b, IO_T), 0);
        if (b) {
            check_roundtrip(a, b, "hello");
            check_roundtrip(b, a, "olleh");
            TU_CHECK_INT_EQ(goc_tcp_close(b), 0);
        }
        TU_CHECK_INT_EQ(goc_tcp_close(a), 0);
    }
    TU_CHECK_INT_EQ(goc_tcp_close(l), 0);
}

static void main_v6(void *arg)
{
    v6_state *s = arg;
    goc_tcp *probe = NULL;
    s->v6_listen_err = goc_tcp_listen("::1", 0, 0, &probe);
    s->have_v6 = s->v6_listen_err == 0;
    if (probe)
        goc_tcp_close(probe);
    else if (s->v6_listen_err != -EADDRNOTAVAIL && s->v6_listen_err != -EAFNOSUPPORT &&
             s->v6_listen_err != -EPROTONOSUPPORT)
        tu_check_failed(__FILE__, __LINE__, "listen on ::1: %d (%s)", s->v6_listen_err,
                        goc_strerror(s->v6_listen_err));

    /* every interface: NULL and "" */
    check_listen_connect(NULL, "127.0.0.1");
    check_listen_connect("", "127.0.0.1");
    check_listen_connect("localhost", "localhost");
    if (s->have_v6) {
        check_listen_connect("::1", "::1");
        check_listen_connect(NULL, "::1"); /* one socket, both families */
    }
}

static void test_net_ipv6_any_localhost(void **state)
{
    (void)state;
    static v6_state s;
    memset(&s, 0, sizeof s);
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_v6, &s);
    if (!s.have_v6) {
        fprintf(stderr, "note: no IPv6 here (listen on ::1: %d): the IPv6 part is skipped\n",
                s.v6_listen_err);
        skip();
    }
}

/* =============================================== port 0, EADDRINUSE */

static void main_ports(void *arg)
{
    (void)arg;
    int port = 0;
    goc_tcp *l = listen_local(&port);
    if (!l)
        return;
    /* goc_tcp_port agrees with the kernel */
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    TU_CHECK(goc_tcp_fd(l) >= 0);
    TU_CHECK_INT_EQ(getsockname(goc_tcp_fd(l), (struct sockaddr *)&sin, &len), 0);
    TU_CHECK_INT_EQ(ntohs(sin.sin_port), port);
    /* a second listener on that port */
    goc_tcp *l2 = (goc_tcp *)&l2;
    TU_CHECK_INT_EQ(goc_tcp_listen("127.0.0.1", port, 16, &l2), -EADDRINUSE);
    /* a negative backlog means SOMAXCONN, and another port 0 is another port */
    goc_tcp *l3 = NULL;
    TU_CHECK_INT_EQ(goc_tcp_listen("127.0.0.1", 0, -5, &l3), 0);
    if (l3) {
        TU_CHECK(goc_tcp_port(l3) > 0);
        TU_CHECK(goc_tcp_port(l3) != port);
        TU_CHECK_INT_EQ(goc_tcp_close(l3), 0);
    }
    /* both ends of a connection know their ports */
    goc_tcp *a = NULL, *b = NULL;
    TU_CHECK_INT_EQ(goc_tcp_connect("127.0.0.1", port, &a, IO_T), 0);
    TU_CHECK_INT_EQ(goc_tcp_accept(l, &b, IO_T), 0);
    if (a && b) {
        TU_CHECK(goc_tcp_port(a) > 0);
        TU_CHECK_INT_EQ(goc_tcp_port(b), port);
        TU_CHECK_INT_EQ(local_port_of(b, 1), goc_tcp_port(a));
        TU_CHECK(goc_tcp_fd(a) >= 0 && goc_tcp_fd(b) >= 0 && goc_tcp_fd(a) != goc_tcp_fd(b));
    }
    if (a)
        goc_tcp_close(a);
    if (b)
        goc_tcp_close(b);
    TU_CHECK_INT_EQ(goc_tcp_close(l), 0);
}

static void test_net_port0(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_ports, NULL);
}

/* ============================================================= resolve */

static void main_resolve(void *arg)
{
    (void)arg;
    struct sockaddr_storage addrs[8];
    memset(addrs, 0xAB, sizeof addrs);
    int n = goc_resolve("localhost", 8080, addrs, sizeof addrs[0], 8);
    TU_CHECK(n > 0 && n <= 8);
    for (int i = 0; i < n; i++) {
        if (addrs[i].ss_family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *)&addrs[i];
            TU_CHECK_INT_EQ(ntohs(in->sin_port), 8080);
            TU_CHECK_INT_EQ(ntohl(in->sin_addr.s_addr) >> 24, 127);
        } else if (addrs[i].ss_family == AF_INET6) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addrs[i];
            TU_CHECK_INT_EQ(ntohs(in6->sin6_port), 8080);
            TU_CHECK(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
        } else {
            tu_check_failed(__FILE__, __LINE__, "address %d: family %d", i, addrs[i].ss_family);
        }
    }

    /* max bounds the count */
    TU_CHECK_INT_EQ(goc_resolve("localhost", 1, addrs, sizeof addrs[0], 1), 1);

    /* numeric */
    memset(addrs, 0, sizeof addrs);
    n = goc_resolve("127.0.0.1", 65535, addrs, sizeof addrs[0], 8);
    TU_CHECK(n >= 1);
    if (n >= 1) {
        struct sockaddr_in *in = (struct sockaddr_in *)&addrs[0];
        TU_CHECK_INT_EQ(in->sin_family, AF_INET);
        TU_CHECK_INT_EQ(ntohs(in->sin_port), 65535);
        TU_CHECK_INT_EQ(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
    }
    /* numeric IPv6: found as ::1, or not found on a system without IPv6 */
    n = goc_resolve("::1", 0, addrs, sizeof addrs[0], 8);
    TU_CHECK(n >= 1 || n == GOC_ENOTFOUND);
    if (n >= 1) {
        TU_CHECK_INT_EQ(addrs[0].ss_family, AF_INET6);
        TU_CHECK(IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&addrs[0])->sin6_addr));
    }

    /* RFC 6761: .invalid never resolves */
    TU_CHECK_INT_EQ(goc_resolve("nonexistent.invalid", 80, addrs, sizeof addrs[0], 8), GOC_ENOTFOUND);
    goc_tcp *c = NULL;
    TU_CHECK_INT_EQ(goc_tcp_connect("nonexistent.invalid", 80, &c, IO_T), GOC_ENOTFOUND);
    TU_CHECK(c == NULL);
    TU_CHECK_INT_EQ(goc_tcp_listen("nonexistent.invalid", 0, 0, &c), GOC_ENOTFOUND);
    TU_CHECK(c == NULL);
}

typedef struct resolve_many {
    goc_wg *wg;
    atomic_int ok;
} resolve_many;

static void resolve_one(void *arg)
{
    resolve_many *m = arg;
    struct sockaddr_storage ss;
    if (goc_resolve("localhost", 80, &ss, sizeof ss, 1) == 1)
        atomic_fetch_add(&m->ok, 1);
    goc_wg_done(m->wg);
}

/* many at once, from many coroutines: all answered (the pool is shared) */
static void main_resolve_many(void *arg)
{
    resolve_many *m = arg;
    m->wg = goc_wg_new();
    TU_CHECK(m->wg != NULL);
    if (!m->wg)
        return;
    goc_wg_add(m->wg, 64);
    for (int i = 0; i < 64; i++)
        TU_CHECK_INT_EQ(goc_go(resolve_one, m), 0);
    TU_CHECK_INT_EQ(goc_wg_wait(m->wg), 0);
    goc_wg_free(m->wg);
}

static void test_net_resolve(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_resolve, NULL);
    static resolve_many m;
    memset(&m, 0, sizeof m);
    TU_RUN(&cfg, main_resolve_many, &m);
    assert_int_equal(atomic_load(&m.ok), 64);
}

/* ========================================================= bad input */

static void main_bad_input(void *arg)
{
    (void)arg;
    goc_tcp *out = NULL;
    /* listen */
    TU_CHECK_INT_EQ(goc_tcp_listen("127.0.0.1", 0, 0, NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_listen("127.0.0.1", -1, 0, &out), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_listen("127.0.0.1", 65536, 0, &out), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_listen("127.0.0.1", INT32_MIN, 0, &out), GOC_EINVAL);
    TU_CHECK(out == NULL);
    /* connect */
    TU_CHECK_INT_EQ(goc_tcp_connect(NULL, 80, &out, IO_T), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_connect("127.0.0.1", 80, NULL, IO_T), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_connect("127.0.0.1", -1, &out, IO_T), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_connect("127.0.0.1", 65536, &out, IO_T), GOC_EINVAL);
    TU_CHECK(out == NULL);
    /* accept */
    TU_CHECK_INT_EQ(goc_tcp_accept(NULL, &out, 0), GOC_EINVAL);
    goc_tcp *a = NULL, *b = NULL;
    if (pair_make(&a, &b) != 0)
        return;
    int port = 0;
    goc_tcp *l = listen_local(&port);
    if (l) {
        TU_CHECK_INT_EQ(goc_tcp_accept(l, NULL, 0), GOC_EINVAL);
        TU_CHECK_INT_EQ(goc_tcp_close(l), 0);
    }
    /* read / write */
    char buf[8];
    TU_CHECK_INT_EQ(goc_tcp_read(NULL, buf, sizeof buf, 0), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_read(a, NULL, 8, 0), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_read(a, buf, 0, -1), 0);    /* len 0: at once */
    TU_CHECK_INT_EQ(goc_tcp_read(a, NULL, 0, -1), 0);
    TU_CHECK_INT_EQ(goc_tcp_read_full(NULL, buf, sizeof buf, 0), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_read_full(a, NULL, 8, 0), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_read_full(a, buf, 0, -1), 0);
    TU_CHECK_INT_EQ(goc_tcp_write(NULL, "x", 1, 0), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_write(a, NULL, 8, 0), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_write(a, buf, 0, 0), 0);
    /* the rest */
    TU_CHECK_INT_EQ(goc_tcp_shutdown(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_close(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_port(NULL), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_tcp_fd(NULL), GOC_EINVAL);
    /* resolve */
    struct sockaddr_storage ss;
    TU_CHECK_INT_EQ(goc_resolve(NULL, 80, &ss, sizeof ss, 1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_resolve("localhost", 80, NULL, sizeof ss, 1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_resolve("localhost", 80, &ss, 0, 1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_resolve("localhost", 80, &ss, sizeof ss, 0), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_resolve("localhost", 80, &ss, sizeof ss, -1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_resolve("localhost", -1, &ss, sizeof ss, 1), GOC_EINVAL);
    TU_CHECK_INT_EQ(goc_resolve("localhost", 65536, &ss, sizeof ss, 1), GOC_EINVAL);
    /* and nothing above broke the pair */
    check_roundtrip(a, b, "still fine");
    TU_CHECK_INT_EQ(goc_tcp_close(a), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(b), 0);
}

static void test_net_bad_input(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, main_bad_input, NULL);

    /* outside a coroutine (no runtime at all): an error, no crash */
    goc_tcp *out = NULL;
    struct sockaddr_storage ss;
    assert_int_equal(goc_tcp_listen("127.0.0.1", 0, 0, &out), GOC_EPERM);
    assert_null(out);
    assert_int_equal(goc_tcp_connect("127.0.0.1", 80, &out, 0), GOC_EPERM);
    assert_null(out);
    assert_int_equal(goc_resolve("localhost", 80, &ss, sizeof ss, 1), GOC_EPERM);
    assert_int_equal(goc_tcp_accept(NULL, &out, 0), GOC_EINVAL);
    assert_int_equal(goc_tcp_read(NULL, &ss, 1, 0), GOC_EINVAL);
    assert_int_equal(goc_tcp_close(NULL), GOC_EINVAL);
}

/* ======================================= a busy worker still polls */

/* One worker that never goes idle (a coroutine keeps yielding) must still
 * hear its sockets: the scheduler harvests the netpoller every 61 picks.
 * Without that the reader below would only wake when the spinner gives up
 * after 10 s. */
typedef struct busy_state {
    goc_tcp *a, *b;
    _Atomic int got;
    int64_t spin_until;
} busy_state;

static void busy_spinner(void *arg)
{
    busy_state *s = arg;
    while (!atomic_load(&s->got) && goc_now() < s->spin_until)
        goc_yield();
}

static void *busy_reader(void *arg)
{
    busy_state *s = arg;
    char c = 0;
    ssize_t n = goc_tcp_read(s->b, &c, 1, -1);
    TU_CHECK(n == 1 && c == 'x');
    atomic_store(&s->got, 1);
    return NULL;
}

static void main_busy_worker(void *arg)
{
    busy_state *s = arg;
    if (pair_make(&s->a, &s->b) != 0)
        return;
    s->spin_until = goc_now() + 10 * TU_SEC;
    goc_task *r = goc_spawn(busy_reader, s);
    TU_CHECK_INT_EQ(goc_go(busy_spinner, s), 0);
    goc_yield(); /* the reader parks on the socket, the spinner starts */
    int64_t t0 = goc_now();
    TU_CHECK_INT_EQ(goc_tcp_write(s->a, "x", 1, IO_T), 1);
    TU_CHECK_INT_EQ(goc_join(r, NULL), 0);
    TU_CHECK(goc_now() - t0 < 5 * TU_SEC); /* not the spinner giving up */
    TU_CHECK_INT_EQ(goc_tcp_close(s->a), 0);
    TU_CHECK_INT_EQ(goc_tcp_close(s->b), 0);
}

static void test_net_busy_worker_polls(void **state)
{
    (void)state;
    busy_state s;
    memset(&s, 0, sizeof s);
    goc_config cfg = tu_cfg(0);
    cfg.workers = 1;
    TU_RUN(&cfg, main_busy_worker, &s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* first: it forks, and must do so before this process has threads */
        cmocka_unit_test(test_net_emfile),
        cmocka_unit_test(test_net_echo_1000),
        cmocka_unit_test(test_net_transfer_10mb),
        cmocka_unit_test(test_net_connect_refused),
        cmocka_unit_test(test_net_timeouts),
        cmocka_unit_test(test_net_cancel),
        cmocka_unit_test(test_net_close_wakes),
        cmocka_unit_test(test_net_peer_reset),
        cmocka_unit_test(test_net_close_shutdown),
        cmocka_unit_test(test_net_sigpipe_ignored),
        cmocka_unit_test(test_net_ipv6_any_localhost),
        cmocka_unit_test(test_net_port0),
        cmocka_unit_test(test_net_resolve),
        cmocka_unit_test(test_net_bad_input),
        cmocka_unit_test(test_net_busy_worker_polls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
