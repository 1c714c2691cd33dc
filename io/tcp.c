/*
 * tcp.c - TCP sockets for coroutines: listen, accept, connect, read,
 * write, shutdown, close.
 *
 * Owns: goc_tcp, a non-blocking socket plus its goc_pollfd (netpoll.c).
 * Every call tries the system call first and parks on the netpoller only
 * when it would block, as Go's net package does; timeouts are one
 * deadline for the whole call (read_full and write loop under it).
 *
 * Invariants: a call holds a reference on the socket for as long as it
 * runs, so a close from another coroutine wakes it (GOC_ECLOSED) but never
 * frees the socket or its fd under it. Writes use MSG_NOSIGNAL: a peer
 * that went away is GOC_ECLOSED (-EPIPE), never a SIGPIPE.
 *
 * Locking: none of its own; the pollfd's lock guards the waiters.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netpoll.h"

#define RESOLVE_MAX 8

/* A socket is its pollfd (recycled by netpoll.c). */
struct goc_tcp {
    goc_pollfd pfd;
};

/* ------------------------------------------------------------- helpers */

/* The socket for fd, registered with the netpoller; on failure fd is
 * closed and *err set. */
static goc_tcp *tcp_wrap(int fd, int *err)
{
    goc_pollfd *pfd = goc__pollfd_open(fd, err);
    if (!pfd)
        close(fd);
    return (goc_tcp *)pfd;
}

static int new_socket(int family)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int valid_port(int port)
{
    return port >= 0 && port <= 65535;
}

/* A numeric address needs no lookup (and no thread pool). */
static int parse_numeric(const char *host, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        return 1;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        return 1;
    }
    return 0;
}

static int resolve(const char *host, int port, struct sockaddr_storage *addrs, int max)
{
    if (parse_numeric(host, port, &addrs[0]))
        return 1;
    return goc_resolve(host, port, addrs, sizeof *addrs, max);
}

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* ------------------------------------------------------------- listen */

static int listen_on(const struct sockaddr_storage *ss, int backlog, int dual_stack, goc_tcp **out)
{
    int fd = new_socket(ss->ss_family);
    if (fd < 0)
        return fd;
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (dual_stack)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, (const struct sockaddr *)ss, addr_len(ss)) != 0 || listen(fd, backlog) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    int err;
    *out = tcp_wrap(fd, &err);
    return *out ? 0 : err;
}

int goc_tcp_listen(const char *host, int port, int backlog, goc_tcp **out)
{
    if (!out || !valid_port(port))
        return GOC_EINVAL;
    *out = NULL;
    if (!goc__self())
        return GOC_EPERM;
    if (backlog <= 0)
        backlog = SOMAXCONN;
    struct sockaddr_storage addrs[RESOLVE_MAX];
    if (!host || !*host) { /* every interface: IPv6 and IPv4 on one socket if we can */
        memset(&addrs[0], 0, sizeof addrs[0]);
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addrs[0];
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_any;
        in6->sin6_port = htons((uint16_t)port);
        int err = listen_on(&addrs[0], backlog, 1, out);
        if (err != -EAFNOSUPPORT && err != -EADDRNOTAVAIL)
            return err;
        return goc_tcp_listen("0.0.0.0", port, backlog, out);
    }
    int n = resolve(host, port, addrs, RESOLVE_MAX);
    if (n < 0)
        return n;
    return listen_on(&addrs[0], backlog, 0, out);
}

/* ------------------------------------------------------------- accept */

int goc_tcp_accept(goc_tcp *l, goc_tcp **conn, int64_t timeout_ns)
{
    if (!l || !conn)
        return GOC_EINVAL;
    *conn = NULL;
    if (!goc__self())
        return GOC_EPERM;
    int64_t deadline = goc__deadline_in(timeout_ns);
    goc__pollfd_ref(&l->pfd);
    int err;
    for (;;) {
        int fd = accept4(l->pfd.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            set_nodelay(fd);
            *conn = tcp_wrap(fd, &err);
            break;
        }
        err = -errno;
        if (err == -EINTR || err == -ECONNABORTED)
            continue;
        if (err != -EAGAIN && err != -EWOULDBLOCK)
            break; /* -EMFILE and the like: the caller decides; we stay usable */
        if ((err = goc__pollfd_wait(&l->pfd, GOC_IO_READ, deadline)) != 0)
            break;
    }
    goc__pollfd_unref(&l->pfd);
    return *conn ? 0 : err;
}

/* ------------------------------------------------------------ connect */

/* One address: 0 and *out, or an error. */
static int connect_one(const struct sockaddr_storage *ss, int64_t deadline, goc_tcp **out)
{
    int fd = new_socket(ss->ss_family);
    if (fd < 0)
        return fd;
    int err = 0;
    goc_tcp *s = tcp_wrap(fd, &err);
    if (!s)
        return err;
    if (connect(fd, (const struct sockaddr *)ss, addr_len(ss)) != 0) {
        err = -errno;
        if (err == -EINPROGRESS || err == -EINTR) {
            err = goc__pollfd_wait(&s->pfd, GOC_IO_WRITE, deadline);
            if (err == GOC_EAGAIN) /* timeout 0: a connect cannot be done at once */
                err = GOC_ETIMEDOUT;
            if (!err) {
                int soerr = 0;
                socklen_t len = sizeof soerr;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
                    soerr = errno;
                err = -soerr;
            }
        }
    }
    if (err) {
        goc_tcp_close(s);
        return err;
    }
    set_nodelay(fd);
    *out = s;
    return 0;
}

int goc_tcp_connect(const char *host, int port, goc_tcp **out, int64_t timeout_ns)
{
    if (!out || !host || !*host || !valid_port(port) || port == 0)
        return GOC_EINVAL;
    *out = NULL;
    if (!goc__self())
        return GOC_EPERM;
    int64_t deadline = goc__deadline_in(timeout_ns);
    struct sockaddr_storage addrs[RESOLVE_MAX];
    int n = resolve(host, port, addrs, RESOLVE_MAX);
    if (n < 0)
        return n;
    int err = GOC_ENOTFOUND;
    for (int i = 0; i < n; i++) {
        err = connect_one(&addrs[i], deadline, out);
        if (!err || err == GOC_ECANCELED || err == GOC_ETIMEDOUT)
            break;
    }
    return err;
}

/* ------------------------------------------------------- read / write */

/* One read: bytes (> 0), 0 at end of stream, or an error. */
static ssize_t read_some(goc_tcp *c, void *buf, size_t len, int64_t deadline)
{
    for (;;) {
        ssize_t n = recv(c->pfd.fd, buf, len, 0);
        if (n >= 0)
            return n;
        int err = -errno;
        if (err == -EINTR)
            continue;
        if (err != -EAGAIN && err != -EWOULDBLOCK)
            return err;
        if ((err = goc__pollfd_wait(&c->pfd, GOC_IO_READ, deadline)) != 0)
            return err;
    }
}

ssize_t goc_tcp_read(goc_tcp *c, void *buf, size_t len, int64_t timeout_ns)
{
    if (!c || (!buf && len))
        return GOC_EINVAL;
    if (len == 0)
        return 0;
    goc__pollfd_ref(&c->pfd);
    ssize_t n = read_some(c, buf, len, goc__deadline_in(timeout_ns));
    goc__pollfd_unref(&c->pfd);
    return n;
}

ssize_t goc_tcp_read_full(goc_tcp *c, void *buf, size_t len, int64_t timeout_ns)
{
    if (!c || (!buf && len))
        return GOC_EINVAL;
    int64_t deadline = goc__deadline_in(timeout_ns);
    goc__pollfd_ref(&c->pfd);
    size_t got = 0;
    ssize_t r = 0;
    while (got < len) {
        r = read_some(c, (char *)buf + got, len - got, deadline);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    goc__pollfd_unref(&c->pfd);
    return r < 0 ? r : (ssize_t)got;
}

ssize_t goc_tcp_write(goc_tcp *c, const void *buf, size_t len, int64_t timeout_ns)
{
    if (!c || (!buf && len) || len > (size_t)SSIZE_MAX)
        return GOC_EINVAL;
    int64_t deadline = goc__deadline_in(timeout_ns);
    goc__pollfd_ref(&c->pfd);
    size_t done = 0;
    ssize_t err = 0;
    while (done < len) {
        ssize_t n = send(c->pfd.fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);
        if (n >= 0) {
            done += (size_t)n;
            continue;
        }
        err = -errno;
        if (err == -EINTR)
            continue;
        if (err != -EAGAIN && err != -EWOULDBLOCK)
            break;
        if ((err = goc__pollfd_wait(&c->pfd, GOC_IO_WRITE, deadline)) != 0)
            break;
    }
    goc__pollfd_unref(&c->pfd);
    return done == len ? (ssize_t)len : err;
}

/* -------------------------------------------------------------- the rest */

int goc_tcp_shutdown(goc_tcp *c)
{
    if (!c)
        return GOC_EINVAL;
    return shutdown(c->pfd.fd, SHUT_WR) == 0 ? 0 : -errno;
}

int goc_tcp_close(goc_tcp *s)
{
    if (!s)
        return GOC_EINVAL;
    goc__pollfd_close(&s->pfd);
    return 0;
}

int goc_tcp_port(goc_tcp *s)
{
    if (!s)
        return GOC_EINVAL;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(s->pfd.fd, (struct sockaddr *)&ss, &len) != 0)
        return -errno;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int goc_tcp_fd(goc_tcp *s)
{
    return s ? s->pfd.fd : GOC_EINVAL;
}
