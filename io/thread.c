/*
 * thread.c - goc_to_thread: run a blocking function on libuv's thread
 * pool while only the calling coroutine waits (asyncio.to_thread).
 *
 * Owns nothing beyond one call: the request, its function's result and
 * the wait (uvreq.h) live on the caller's stack. fn runs on a pool
 * thread, never on a worker; its result reaches the caller through the
 * completion callback on the caller's worker, and the release/acquire
 * pair tells TSan so. A cancel cannot end the wait (fn is running); it
 * is reported after fn returns.
 *
 * Locking: none; libuv's pool does its own.
 */
#include "uvreq.h"

typedef struct thread_call {
    uv_work_t req;
    goc_uvreq req_wait;
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
    goc__uvreq_done(&tc->req_wait);
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
    int err = goc__uvreq_begin(&tc.req_wait);
    if (err)
        return err;
    if (uv_queue_work(goc__uvreq_loop(&tc.req_wait), &tc.req, thread_call_run, thread_call_done) != 0)
        return GOC_ENOMEM;
    goc__uvreq_park(&tc.req_wait, "goc_to_thread");
    if (result)
        *result = tc.result;
    return goc_cancelled() ? GOC_ECANCELED : 0;
}
