/*
 * pool.c - work on libuv's thread pool, parking only the calling
 * coroutine: goc_to_thread, files (goc_fs_*) and name resolution
 * (goc_resolve).
 *
 * Owns: nothing long-lived. Each call puts a libuv request on its own
 * stack, submits it to the current worker's loop, then parks "held"
 * (goc__hold_begin): the request's buffers live on that stack, so a
 * cancel cannot end the wait; only the completion callback, which libuv
 * runs on that worker's loop, releases it. A cancel that arrived meanwhile
 * is reported where the API says so.
 *
 * Invariants: the callback runs on the worker that submitted (libuv
 * requests belong to one loop), after the coroutine has parked, because
 * that loop only runs once the coroutine has switched away. While parked,
 * the call counts in rt->npool_waiting: it is not a deadlock, and a busy
 * worker keeps polling its loop.
 *
 * Locking: none; libuv's pool does its own.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include "runtime.h"

/* What every pool call shares: the parked coroutine. */
typedef struct pool_wait {
    goc_co *co;
    goc_worker *w;   /* whose loop completes the request */
} pool_wait;

/* Before submitting: GOC_EPERM outside a coroutine. */
static int wait_prepare(pool_wait *pw)
{
    pw->co = goc__self();
    if (!pw->co)
        return GOC_EPERM;
    pw->w = goc__worker();
    return 0;
}

/* After submitting, park until the callback calls wait_done. Holding only
 * now is safe: the callback runs on this thread's loop, which cannot run
 * before we have switched away. */
static void wait_park(pool_wait *pw, const char *what)
{
    goc_runtime *rt = pw->w->rt;
    pw->w->pool_pending++; /* we are on its thread; so is the callback */
    atomic_fetch_add_explicit(&rt->npool_waiting, 1, memory_order_relaxed);
    goc__hold_begin(pw->co, what);
    (void)goc__park(pw->co);
    /* seq_cst: ordered after the bump of rt->unblocks by the worker that
     * woke to run us (see deadlocked_now in sched.c) */
    atomic_fetch_sub(&rt->npool_waiting, 1);
}

static void wait_done(pool_wait *pw)
{
    pw->w->pool_pending--;
    goc__release(pw->co);
}

static uv_loop_t *current_loop(void)
{
    return &goc__worker()->loop;
}

/* ------------------------------------------------------------ to_thread */

typedef struct thread_call {
    uv_work_t req;
    pool_wait pw;
    void *(*fn)(void *);
    void *arg;
    void *result;
} thread_call;

static void thread_call_run(uv_work_t *req)
{
    thread_call *tc = req->data;
    tc->result = tc->fn(tc->arg);
    goc__san_release(tc); /* hand result to the loop thread for TSan */
}

static void thread_call_done(uv_work_t *req, int status)
{
    (void)status;
    thread_call *tc = req->data;
    goc__san_acquire(tc);
    wait_done(&tc->pw);
}

int goc_to_thread(void *(*fn)(void *), void *arg, void **result)
{
    if (!fn)
        return GOC_EINVAL;
    if (!goc__self())
        return GOC_EPERM;
    if (goc_cancelled())
        return GOC_ECANCELED;
    thread_call tc = { .fn = fn, .arg = arg };
    tc.req.data = &tc;
    int err = wait_prepare(&tc.pw);
    if (err)
        return err;
    if (uv_queue_work(current_loop(), &tc.req, thread_call_run, thread_call_done) != 0)
        return GOC_ENOMEM;
    wait_park(&tc.pw, "goc_to_thread");
    if (result)
        *result = tc.result;
    return goc_cancelled() ? GOC_ECANCELED : 0;
}

/* ---------------------------------------------------------------- files */

typedef struct fs_call {
    uv_fs_t req;
    pool_wait pw;
    const char *what;            /* for diagnostics while parked */
} fs_call;

static void fs_call_done(uv_fs_t *req)
{
    fs_call *fc = req->data;
    wait_done(&fc->pw);
}

/* Ready fc for a request: 0, or GOC_EPERM outside a coroutine. */
static int fs_begin(fs_call *fc, const char *what)
{
    memset(fc, 0, sizeof *fc);
    fc->req.data = fc;
    fc->what = what;
    return wait_prepare(&fc->pw);
}

/* `submitted` is what uv_fs_*() returned; returns the request's result
 * (>= 0 or a negative errno). */
static ssize_t fs_finish(fs_call *fc, int submitted)
{
    if (submitted != 0)
        return submitted;
    wait_park(&fc->pw, fc->what);
    ssize_t r = fc->req.result;
    uv_fs_req_cleanup(&fc->req);
    return r;
}

int goc_fs_open(const char *path, int flags, int mode)
{
    if (!path)
        return GOC_EINVAL;
    fs_call fc;
    int err = fs_begin(&fc, "file open");
    if (err)
        return err;
    int s = uv_fs_open(current_loop(), &fc.req, path, flags | O_CLOEXEC, mode, fs_call_done);
    return (int)fs_finish(&fc, s);
}

ssize_t goc_fs_read(int fd, void *buf, size_t len, int64_t offset)
{
    if (fd < 0 || (!buf && len) || len > (size_t)SSIZE_MAX)
        return GOC_EINVAL;
    fs_call fc;
    int err = fs_begin(&fc, "file read");
    if (err)
        return err;
    uv_buf_t b = uv_buf_init(buf, (unsigned)(len > UINT32_MAX ? UINT32_MAX : len));
    int s = uv_fs_read(current_loop(), &fc.req, fd, &b, 1, offset < 0 ? -1 : offset, fs_call_done);
    return fs_finish(&fc, s);
}

ssize_t goc_fs_write(int fd, const void *buf, size_t len, int64_t offset)
{
    if (fd < 0 || (!buf && len) || len > (size_t)SSIZE_MAX)
        return GOC_EINVAL;
    fs_call fc;
    int err = fs_begin(&fc, "file write");
    if (err)
        return err;
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)(len > UINT32_MAX ? UINT32_MAX : len));
    int s = uv_fs_write(current_loop(), &fc.req, fd, &b, 1, offset < 0 ? -1 : offset, fs_call_done);
    return fs_finish(&fc, s);
}

int goc_fs_close(int fd)
{
    if (fd < 0)
        return GOC_EINVAL;
    fs_call fc;
    int err = fs_begin(&fc, "file close");
    if (err)
        return err;
    int s = uv_fs_close(current_loop(), &fc.req, fd, fs_call_done);
    return (int)fs_finish(&fc, s);
}

int goc_fs_read_all(const char *path, void **data, size_t *len)
{
    if (!path || !data || !len)
        return GOC_EINVAL;
    *data = NULL;
    *len = 0;
    int fd = goc_fs_open(path, O_RDONLY, 0);
    if (fd < 0)
        return fd;
    size_t cap = 64 * 1024, used = 0;
    char *buf = malloc(cap);
    ssize_t n = buf ? 0 : GOC_ENOMEM;
    while (buf) {
        if (used == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                n = GOC_ENOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        n = goc_fs_read(fd, buf + used, cap - used, -1);
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    goc_fs_close(fd);
    if (n < 0) {
        free(buf);
        return (int)n;
    }
    *data = buf;
    *len = used;
    return 0;
}

int goc_fs_write_all(const char *path, const void *data, size_t len)
{
    if (!path || (!data && len))
        return GOC_EINVAL;
    int fd = goc_fs_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return fd;
    size_t done = 0;
    ssize_t n = 0;
    while (done < len) {
        n = goc_fs_write(fd, (const char *)data + done, len - done, -1);
        if (n <= 0) {
            if (n == 0)
                n = -EIO;
            break;
        }
        done += (size_t)n;
    }
    int cerr = goc_fs_close(fd);
    if (n < 0)
        return (int)n;
    return cerr < 0 ? cerr : 0;
}

/* -------------------------------------------------------------- resolve */

typedef struct resolve_call {
    uv_getaddrinfo_t req;
    pool_wait pw;
    int status;
    struct addrinfo *res;
} resolve_call;

static void resolve_done(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    resolve_call *rc = req->data;
    rc->status = status;
    rc->res = res;
    wait_done(&rc->pw);
}

static int copy_addrs(struct addrinfo *res, int port, void *addrs, size_t addr_size, int max)
{
    int n = 0;
    for (struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            (size_t)ai->ai_addrlen > addr_size)
            continue;
        char *dst = (char *)addrs + (size_t)n * addr_size;
        memset(dst, 0, addr_size);
        memcpy(dst, ai->ai_addr, ai->ai_addrlen);
        if (ai->ai_family == AF_INET)
            ((struct sockaddr_in *)(void *)dst)->sin_port = htons((uint16_t)port);
        else
            ((struct sockaddr_in6 *)(void *)dst)->sin6_port = htons((uint16_t)port);
        n++;
    }
    return n;
}

int goc_resolve(const char *host, int port, void *addrs, size_t addr_size, int max)
{
    if (!host || !*host || !addrs || max <= 0 || port < 0 || port > 65535 ||
        addr_size < sizeof(struct sockaddr_in6))
        return GOC_EINVAL;
    if (!goc__self())
        return GOC_EPERM;
    if (goc_cancelled())
        return GOC_ECANCELED;
    resolve_call rc;
    memset(&rc, 0, sizeof rc);
    rc.req.data = &rc;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int err = wait_prepare(&rc.pw);
    if (err)
        return err;
    int s = uv_getaddrinfo(current_loop(), &rc.req, resolve_done, host, NULL, &hints);
    if (s != 0)
        return s == UV_ENOMEM ? GOC_ENOMEM : GOC_ENOTFOUND;
    wait_park(&rc.pw, "name resolution");
    int n = rc.status == 0 ? copy_addrs(rc.res, port, addrs, addr_size, max) : 0;
    uv_freeaddrinfo(rc.res);
    if (goc_cancelled())
        return GOC_ECANCELED;
    if (rc.status == UV_ENOMEM)
        return GOC_ENOMEM;
    return n > 0 ? n : GOC_ENOTFOUND;
}
