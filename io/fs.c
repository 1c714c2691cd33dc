/*
 * fs.c - files without blocking a worker: goc_fs_open, read, write,
 * close, and the whole-file helpers, on libuv's thread pool.
 *
 * Owns nothing beyond one call: each call's uv_fs_t and its wait
 * (uvreq.h) live on the caller's stack, and the request is cleaned up
 * before the call returns. Errors are libuv's, which are negative errno
 * values: the API's codes. A cancel cannot end a file call that is in
 * flight (its buffers are the caller's); the call completes.
 *
 * Locking: none; libuv's pool does its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "uvreq.h"

typedef struct fs_call {
    uv_fs_t req;
    goc_uvreq req_wait;
    const char *what;            /* for diagnostics while parked */
} fs_call;

static void fs_call_done(uv_fs_t *req)
{
    fs_call *fc = req->data;
    goc__uvreq_done(&fc->req_wait);
}

/* Ready fc for a request: 0, or GOC_EPERM outside a coroutine. */
static int fs_begin(fs_call *fc, const char *what)
{
    memset(fc, 0, sizeof *fc);
    fc->req.data = fc;
    fc->what = what;
    return goc__uvreq_begin(&fc->req_wait);
}

/* `submitted` is what uv_fs_*() returned; returns the request's result
 * (>= 0 or a negative errno). */
static ssize_t fs_finish(fs_call *fc, int submitted)
{
    if (submitted != 0)
        return submitted;
    goc__uvreq_park(&fc->req_wait, fc->what);
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
    int s = uv_fs_open(goc__uvreq_loop(&fc.req_wait), &fc.req, path, flags | O_CLOEXEC, mode, fs_call_done);
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
    int s = uv_fs_read(goc__uvreq_loop(&fc.req_wait), &fc.req, fd, &b, 1, offset < 0 ? -1 : offset, fs_call_done);
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
    int s = uv_fs_write(goc__uvreq_loop(&fc.req_wait), &fc.req, fd, &b, 1, offset < 0 ? -1 : offset, fs_call_done);
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
    int s = uv_fs_close(goc__uvreq_loop(&fc.req_wait), &fc.req, fd, fs_call_done);
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
