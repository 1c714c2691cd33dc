/*
 * test_fault.c - fault injection (issue 10, item 6): the allocations,
 * mappings, thread creations, libuv initialisations, descriptors and hwloc
 * calls the library makes on the paths of the public API are failed one at
 * a time. Each public call must return its documented error (GOC_ENOMEM,
 * NULL, or for the socket calls the -errno of the system call), crash
 * nothing, leak nothing (LeakSanitizer at exit in the ASan build), and
 * leave the runtime working: the same call made again succeeds, and a
 * goc_run after a failed goc_run works.
 *
 * ---------------------------------------------------------------- design
 *
 * What is wrapped, and why at link time. This binary alone is linked with
 * ld's --wrap (tests/CMakeLists.txt, the "fault" block):
 *
 *   alloc   malloc calloc realloc aligned_alloc
 *   mmap    mmap mprotect          (coroutine slabs, stack slabs, the main
 *                                   coroutine's own stack and its guard,
 *                                   alternate signal stacks, the guard probe)
 *   thread  pthread_create         (workers 1.., the monitor)
 *   uv      uv_loop_init uv_async_init uv_poll_init uv_fs_open
 *           uv_getaddrinfo         (the libuv calls the library makes that
 *                                   can fail synchronously; uv_fs_read,
 *                                   uv_fs_write, uv_fs_close, uv_queue_work
 *                                   fail only on bad arguments: not wrapped)
 *   fd      epoll_create1 timerfd_create socket accept4 (fail with EMFILE)
 *           epoll_ctl (ENOMEM)
 *   hwloc   hwloc_topology_init hwloc_topology_load hwloc_bitmap_alloc
 *
 * (every such call in sched/ and chan/; `nm -u libgoc.a` lists them.)
 * --wrap=malloc makes ld resolve each reference to malloc in the objects of
 * this link, test_fault.o and the members of libgoc.a it pulls in, to
 * __wrap_malloc below, and __real_malloc to the real malloc. So the
 * library's own call sites are redirected and nothing else: libc, libuv,
 * hwloc and cmocka are shared libraries whose internal calls keep their
 * own bindings, and the release library (libgoc.so, libgoc.a) is built
 * exactly as always, with no hook, flag or symbol for this. LD_PRELOAD
 * would also catch libuv's, libc's and cmocka's internal calls and could not
 * tell them from ours; a hook compiled into the library would ship in it.
 * The test's own references go through the wrappers too (tu_fork_capture's
 * malloc, ...); they are only ever made while disarmed.
 *
 * Arming. A wrapper fails only while armed: fault_arm(kind, n) makes the
 * n-th call of that kind from now fail, once; fault_disarm() stops it and
 * says whether a failure was injected, by which function and from where (the
 * caller's address: GOC_FAULT_LOG=1 prints it as an offset in this binary,
 * for addr2line). Calls of other kinds, and every call while disarmed, go
 * straight through. Armed "on this thread" (calls made from a coroutine),
 * only the arming thread's calls count, so another worker's unrelated work
 * (a stolen coroutine taking its stack) is never hit by accident; armed "on
 * every thread" (goc_run), the runtime's own threads count too.
 *
 * The walk. For each path and kind, n = 1, 2, 3, ...: arm n, make the
 * public call, disarm. If nothing was injected the call must have
 * succeeded, and the walk of that kind ends: n - 1 sites were on the path.
 * Otherwise the call must have returned the documented error or, at a site
 * where the library degrades on purpose (listed below as "tolerated"),
 * succeeded anyway; then the same call, unarmed, must succeed. Each walk
 * prints "fault: <path> <kind>: <injected> injected, <tolerated> tolerated".
 * State that survives a call (pools, caches, reserves kept across goc_run)
 * decides which sites the next call reaches, which is why a walk re-arms
 * for each n instead of counting the sites once. goc_run alternates two
 * stack sizes, so that every run carves its stacks afresh (a run adopts the
 * previous run's stacks only when the size matches). What only the first
 * runs of a process reach (the guard probe, the first coroutine slab) is
 * walked in forked children of a process that never ran (test_run_cold,
 * one child per n); the rest in this process, where LeakSanitizer sees it.
 * The tests that fork come first: TSan cannot start threads in the child of
 * a process that had threads. Under ASan the malloc family wraps as well as
 * the rest (ASan's interceptors sit behind __real_malloc).
 *
 * Paths: goc_run (every kind; also with stacks under the default, where
 * main gets a mapping of its own), every constructor (goc_chan_make,
 * goc_after, goc_wg/mutex/sem/event/queue/group_new, goc_gen_new), goc_go,
 * goc_spawn, goc_group_go, goc_queue_put (growth), goc_select (over 8
 * cases), goc_gather (over 16 tasks), goc_wait_first(_ok), goc_tcp_listen,
 * goc_tcp_connect (numeric and by name), goc_tcp_accept, goc_resolve,
 * goc_fs_open, goc_fs_read_all, goc_fs_write_all; the coroutine pool
 * running dry under goc_go, goc_spawn, goc_gen_new and goc_group_go
 * (test_pool_dry); a worker's first timer (test_timer_heap).
 *
 * Tolerated on purpose (the call still succeeds): an alternate signal
 * stack (malloc/mmap, per worker, not in ASan builds: a guard-page hit is
 * then reported without it), the guard probe (mmap, once per process:
 * mprotect guards are used), hwloc_bitmap_alloc (the caller's CPU
 * binding is not restored), the first timer heap of a worker (timer.c fires the timer at
 * once rather than hang: a goc_sleep returns early, a timed wait reports
 * GOC_ETIMEDOUT early; test_timer_heap).
 *
 * Where the runtime stops with a message instead, as Go's runtime does
 * (test_oom_aborts checks the message and that it is an abort, not a
 * crash): a coroutine's stack, taken when the coroutine first runs, not in
 * goc_go (main's is taken by goc_run: GOC_ENOMEM); a chunk of the global
 * run queue, when a full ring spills.
 *
 * Regressions this found (each fails here without its fix): goc_run
 * aborted instead of returning GOC_ENOMEM when main's stack could not be
 * mapped; goc_run went on without its monitor when pthread_create or the
 * monitor's table failed; with 3 or more workers, when a later worker
 * thread could not be created, an earlier one could run main while
 * goc_run returned GOC_ENOMEM; a goc_sleep whose timer fired at once (heap
 * growth failed) spun forever on its own worker; stack refill passed NULL
 * to memcpy when the free lists could not be made (UBSan).
 */
#include "test_util.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <hwloc.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <uv.h>

/* ============================================================ injection */

enum { FK_ALLOC, FK_MMAP, FK_THREAD, FK_UV, FK_FD, FK_HWLOC, FK_N };
#define FB(k) (1u << (k))
#define FB_ALL (FB(FK_N) - 1)
static const char *const fk_name[FK_N] = { "alloc", "mmap", "thread", "uv", "fd", "hwloc" };

static struct {
    atomic_int kind;             /* the armed kind, -1 when disarmed */
    atomic_long countdown;       /* the call that takes it from 1 to 0 fails */
    atomic_int any_thread;
    atomic_ulong owner;          /* pthread_self() of the arming thread */
    atomic_int owner_co;         /* armed in a coroutine: it, by name, on any worker */
    atomic_int fired;
    atomic_int err;              /* the errno injected */
    const char *_Atomic fn;      /* the wrapped function that failed */
    void *_Atomic site;          /* its caller */
} F = { .kind = -1 };

typedef struct fault_result {
    int fired;
    int err;
    const char *fn;
    void *site;
} fault_result;

#define FAULT_OWNER "fault-walker"

/* The call being walked: the arming coroutine wherever it runs (goc_name
 * makes no allocation for a named coroutine), else the arming thread. */
static int fault_owner_here(void)
{
    if (atomic_load(&F.owner_co)) {
        char name[GOC_NAME_MAX];
        return goc_name(name, sizeof name) >= 0 && strcmp(name, FAULT_OWNER) == 0;
    }
    return atomic_load(&F.owner) == (unsigned long)pthread_self();
}

static void fault_arm(int kind, long n, int any_thread)
{
    atomic_store(&F.fired, 0);
    atomic_store(&F.fn, NULL);
    atomic_store(&F.site, NULL);
    atomic_store(&F.countdown, n);
    atomic_store(&F.any_thread, any_thread);
    atomic_store(&F.owner, (unsigned long)pthread_self());
    /* A coroutine may resume on another worker after any park (a file
     * call parks): follow it by its name, not by its thread. */
    atomic_store(&F.owner_co, goc_set_name(FAULT_OWNER) == 0);
    atomic_store(&F.kind, kind);
}

static fault_result fault_disarm(void)
{
    atomic_store(&F.kind, -1);
    fault_result r = { atomic_load(&F.fired), atomic_load(&F.err), atomic_load(&F.fn),
                       atomic_load(&F.site) };
    return r;
}

static int fault_fired(void)
{
    return atomic_load(&F.fired);
}

/* 1 if this call is the one to fail. */
static int fault_hit(int kind, const char *fn, int err, void *site)
{
    if (atomic_load_explicit(&F.kind, memory_order_acquire) != kind)
        return 0;
    if (!atomic_load(&F.any_thread) && !fault_owner_here())
        return 0;
    if (atomic_fetch_sub(&F.countdown, 1) != 1)
        return 0;
    atomic_store(&F.fn, fn);
    atomic_store(&F.site, site);
    atomic_store(&F.err, err);
    atomic_store(&F.fired, 1);
    return 1;
}

#define HIT(kind, fn, err) fault_hit((kind), (fn), (err), __builtin_return_address(0))

/* The wrappers. __real_X is the real X (ld resolves it). */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_mprotect(void *addr, size_t len, int prot);
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __real_uv_loop_init(uv_loop_t *loop);
int __real_uv_async_init(uv_loop_t *loop, uv_async_t *h, uv_async_cb cb);
int __real_uv_poll_init(uv_loop_t *loop, uv_poll_t *h, int fd);
int __real_uv_fs_open(uv_loop_t *loop, uv_fs_t *req, const char *path, int flags, int mode,
                      uv_fs_cb cb);
int __real_uv_getaddrinfo(uv_loop_t *loop, uv_getaddrinfo_t *req, uv_getaddrinfo_cb cb,
                          const char *node, const char *service, const struct addrinfo *hints);
int __real_epoll_create1(int flags);
int __real_timerfd_create(int clockid, int flags);
int __real_socket(int domain, int type, int protocol);
int __real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int __real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
int __real_hwloc_topology_init(hwloc_topology_t *t);
int __real_hwloc_topology_load(hwloc_topology_t t);
hwloc_bitmap_t __real_hwloc_bitmap_alloc(void);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_mprotect(void *addr, size_t len, int prot);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_uv_loop_init(uv_loop_t *loop);
int __wrap_uv_async_init(uv_loop_t *loop, uv_async_t *h, uv_async_cb cb);
int __wrap_uv_poll_init(uv_loop_t *loop, uv_poll_t *h, int fd);
int __wrap_uv_fs_open(uv_loop_t *loop, uv_fs_t *req, const char *path, int flags, int mode,
                      uv_fs_cb cb);
int __wrap_uv_getaddrinfo(uv_loop_t *loop, uv_getaddrinfo_t *req, uv_getaddrinfo_cb cb,
                          const char *node, const char *service, const struct addrinfo *hints);
int __wrap_epoll_create1(int flags);
int __wrap_timerfd_create(int clockid, int flags);
int __wrap_socket(int domain, int type, int protocol);
int __wrap_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
int __wrap_hwloc_topology_init(hwloc_topology_t *t);
int __wrap_hwloc_topology_load(hwloc_topology_t t);
hwloc_bitmap_t __wrap_hwloc_bitmap_alloc(void);

#define FAIL_NULL(kind, fn)                                                   \
    do {                                                                      \
        if (HIT(kind, fn, ENOMEM)) {                                          \
            errno = ENOMEM;                                                   \
            return NULL;                                                      \
        }                                                                     \
    } while (0)

void *__wrap_malloc(size_t n)
{
    FAIL_NULL(FK_ALLOC, "malloc");
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    FAIL_NULL(FK_ALLOC, "calloc");
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    FAIL_NULL(FK_ALLOC, "realloc");
    return __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    FAIL_NULL(FK_ALLOC, "aligned_alloc");
    return __real_aligned_alloc(align, n);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (HIT(FK_MMAP, "mmap", ENOMEM)) {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    return __real_mmap(addr, len, prot, flags, fd, off);
}

int __wrap_mprotect(void *addr, size_t len, int prot)
{
    if (HIT(FK_MMAP, "mprotect", ENOMEM)) {
        errno = ENOMEM;
        return -1;
    }
    return __real_mprotect(addr, len, prot);
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    if (HIT(FK_THREAD, "pthread_create", EAGAIN))
        return EAGAIN;
    return __real_pthread_create(t, a, fn, arg);
}

int __wrap_uv_loop_init(uv_loop_t *loop)
{
    if (HIT(FK_UV, "uv_loop_init", ENOMEM))
        return UV_ENOMEM;
    return __real_uv_loop_init(loop);
}

int __wrap_uv_async_init(uv_loop_t *loop, uv_async_t *h, uv_async_cb cb)
{
    if (HIT(FK_UV, "uv_async_init", ENOMEM))
        return UV_ENOMEM;
    return __real_uv_async_init(loop, h, cb);
}

int __wrap_uv_poll_init(uv_loop_t *loop, uv_poll_t *h, int fd)
{
    if (HIT(FK_UV, "uv_poll_init", ENOMEM))
        return UV_ENOMEM;
    return __real_uv_poll_init(loop, h, fd);
}

int __wrap_uv_fs_open(uv_loop_t *loop, uv_fs_t *req, const char *path, int flags, int mode,
                      uv_fs_cb cb)
{
    if (HIT(FK_UV, "uv_fs_open", ENOMEM))
        return UV_ENOMEM;
    return __real_uv_fs_open(loop, req, path, flags, mode, cb);
}

int __wrap_uv_getaddrinfo(uv_loop_t *loop, uv_getaddrinfo_t *req, uv_getaddrinfo_cb cb,
                          const char *node, const char *service, const struct addrinfo *hints)
{
    if (HIT(FK_UV, "uv_getaddrinfo", ENOMEM))
        return UV_ENOMEM;
    return __real_uv_getaddrinfo(loop, req, cb, node, service, hints);
}

#define FAIL_FD(fn, e)                                                        \
    do {                                                                      \
        if (HIT(FK_FD, fn, e)) {                                              \
            errno = (e);                                                      \
            return -1;                                                        \
        }                                                                     \
    } while (0)

int __wrap_epoll_create1(int flags)
{
    FAIL_FD("epoll_create1", EMFILE);
    return __real_epoll_create1(flags);
}

int __wrap_timerfd_create(int clockid, int flags)
{
    FAIL_FD("timerfd_create", EMFILE);
    return __real_timerfd_create(clockid, flags);
}

int __wrap_socket(int domain, int type, int protocol)
{
    FAIL_FD("socket", EMFILE);
    return __real_socket(domain, type, protocol);
}

int __wrap_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    FAIL_FD("accept4", EMFILE);
    return __real_accept4(fd, addr, len, flags);
}

int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    FAIL_FD("epoll_ctl", ENOMEM);
    return __real_epoll_ctl(epfd, op, fd, ev);
}

int __wrap_hwloc_topology_init(hwloc_topology_t *t)
{
    if (HIT(FK_HWLOC, "hwloc_topology_init", ENOMEM)) {
        errno = ENOMEM;
        return -1;
    }
    return __real_hwloc_topology_init(t);
}

int __wrap_hwloc_topology_load(hwloc_topology_t t)
{
    if (HIT(FK_HWLOC, "hwloc_topology_load", ENOMEM)) {
        errno = ENOMEM;
        return -1;
    }
    return __real_hwloc_topology_load(t);
}

hwloc_bitmap_t __wrap_hwloc_bitmap_alloc(void)
{
    FAIL_NULL(FK_HWLOC, "hwloc_bitmap_alloc");
    return __real_hwloc_bitmap_alloc();
}

/* ================================================================= walk */

/* A site as an offset in the binary that holds it, for addr2line. */
static unsigned long site_offset(void *site)
{
    Dl_info info;
    if (site && dladdr(site, &info) && info.dli_fbase)
        return (unsigned long)((char *)site - (char *)info.dli_fbase);
    return (unsigned long)site;
}

static int fault_log(void)
{
    static int v = -1;
    if (v < 0) {
        const char *s = getenv("GOC_FAULT_LOG");
        v = s && *s && strcmp(s, "0") != 0;
    }
    return v;
}

/* In a forked child: a crash is the child's death, not cmocka's (whose
 * handlers would longjmp into the parent's test from the child). */
static void child_default_signals(void)
{
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
}

typedef struct fpath fpath;
struct fpath {
    const char *name;
    unsigned kinds;          /* FB() of the kinds walked */
    unsigned tolerated;      /* kinds where a hit may leave the call succeeding */
    int fd_errno;            /* 1: an fd failure returns its -errno, 0: GOC_ENOMEM */
    int any_thread;          /* count the runtime's other threads' calls too */
    void (*prep)(fpath *);   /* unarmed, before every call (NULL: none) */
    int (*call)(fpath *);    /* armed: the public call, 0 or the error it
                                returned; what it made goes in obj */
    void (*undo)(fpath *);   /* unarmed, after every call that returned 0:
                                check and free obj (NULL: none) */
    void *ctx;
    void *obj;
    int hits[FK_N];          /* out: failures injected, per kind */
    int tol[FK_N];           /* out: of those, tolerated */
};

#define WALK_MAX 400

/* One call, armed for the n-th call of kind k (n = 0: unarmed). */
static int walk_call(fpath *p, int k, long n, fault_result *fr)
{
    if (p->prep)
        p->prep(p);
    p->obj = NULL;
    if (n > 0)
        fault_arm(k, n, p->any_thread);
    int r = p->call(p);
    fault_result none = { 0 };
    *fr = n > 0 ? fault_disarm() : none;
    if (r == 0 && p->undo)
        p->undo(p);
    return r;
}

static void walk_kind(fpath *p, int k)
{
    int hits = 0, tol = 0;
    for (long n = 1;; n++) {
        if (n > WALK_MAX) {
            tu_check_failed(__FILE__, __LINE__, "%s/%s: more than %d sites", p->name,
                            fk_name[k], WALK_MAX);
            break;
        }
        fault_result fr;
        int r = walk_call(p, k, n, &fr);
        if (!fr.fired) {
            if (r != 0)
                tu_check_failed(__FILE__, __LINE__, "%s/%s n=%ld: nothing injected, returned %d (%s)",
                                p->name, fk_name[k], n, r, goc_strerror(r));
            break;
        }
        hits++;
        int want = k == FK_FD && p->fd_errno ? -fr.err : GOC_ENOMEM;
        if (fault_log())
            printf("fault: %s/%s n=%ld: %s from +0x%lx -> %d%s\n", p->name, fk_name[k], n, fr.fn,
                   site_offset(fr.site), r, r == 0 ? " (tolerated)" : "");
        if (r == 0 && (p->tolerated & FB(k))) {
            tol++;
        } else if (r != want) {
            tu_check_failed(__FILE__, __LINE__,
                            "%s/%s n=%ld: %s failed (from +0x%lx); the call returned %d (%s), want %d (%s)",
                            p->name, fk_name[k], n, fr.fn, site_offset(fr.site), r,
                            goc_strerror(r), want, goc_strerror(want));
        }
        /* the runtime keeps working: the same call, unarmed */
        int again = walk_call(p, k, 0, &fr);
        if (again != 0)
            tu_check_failed(__FILE__, __LINE__, "%s/%s n=%ld: after the failure the call returned %d (%s)",
                            p->name, fk_name[k], n, again, goc_strerror(again));
    }
    p->hits[k] = hits;
    p->tol[k] = tol;
    printf("fault: %-22s %-6s: %2d injected, %d tolerated\n", p->name, fk_name[k], hits, tol);
}

static void walk(fpath *p)
{
    for (int k = 0; k < FK_N; k++)
        if (p->kinds & FB(k))
            walk_kind(p, k);
}

/* ============================================================== goc_run */

typedef struct run_ctx {
    size_t stack;   /* 0: the default */
    int calls;
    atomic_int ran;
} run_ctx;

static void run_main(void *arg)
{
    atomic_store((atomic_int *)arg, 1);
}

#define RUN_WRONG 1 /* a goc_run whose result contradicts whether main ran */

static int run_call(fpath *p)
{
    run_ctx *c = p->ctx;
    /* two sizes in turn: every run carves fresh stacks (stack.c's reserve
     * is adopted only by a run with the same slot size) */
    size_t stack = c->stack ? c->stack : GOC_STACK_DEFAULT;
    goc_config cfg = tu_cfg(c->calls++ % 2 ? stack + 4096 : stack);
    atomic_store(&c->ran, 0);
    int r = goc_run(&cfg, run_main, &c->ran);
    int ran = atomic_load(&c->ran);
    /* Known limit: at 3 or more workers, a worker thread that failed to
     * start after others did fails goc_run with GOC_ENOMEM, but a started
     * worker may have stolen main and run it by then (main is queued
     * before the threads start; starting them first made the deadlock
     * detector miss a cycle now and then). */
    if (r == GOC_ENOMEM && ran && tu_env_workers() >= 3)
        return r;
    if ((r == 0) != (ran == 1)) {
        tu_check_failed(__FILE__, __LINE__, "goc_run returned %d but main %s", r,
                        ran ? "ran" : "did not run");
        return RUN_WRONG;
    }
    return r;
}

/* goc_run from a fresh process: what only the first runs of a process
 * reach (the stack guard probe, the first coroutine slab). One forked
 * child per n; it reports in its exit status. Runs before any goc_run in
 * this process. */
enum { COLD_FIRED = 1, COLD_OK = 2, COLD_RAN = 4, COLD_ENOMEM = 8, COLD_AGAIN = 16 };

typedef struct cold_arg {
    int kind;
    long n;
} cold_arg;

static void cold_child(void *arg)
{
    cold_arg *a = arg;
    child_default_signals();
    run_ctx c = { 0 };
    fpath p = { .ctx = &c };
    fault_arm(a->kind, a->n, 1);
    int r = run_call(&p);
    fault_result fr = fault_disarm();
    int ran = atomic_load(&c.ran);
    int again = run_call(&p);
    fprintf(stderr, "cold %s n=%ld: %s from +0x%lx -> %d, again %d\n", fk_name[a->kind], a->n,
            fr.fn ? fr.fn : "-", site_offset(fr.site), r, again);
    _exit((fr.fired ? COLD_FIRED : 0) | (r == 0 ? COLD_OK : 0) | (ran ? COLD_RAN : 0) |
          (r == GOC_ENOMEM ? COLD_ENOMEM : 0) | (again == 0 ? COLD_AGAIN : 0));
}

static void test_run_cold(void **state)
{
    (void)state;
    const unsigned tolerated = FB(FK_ALLOC) | FB(FK_MMAP) | FB(FK_HWLOC);
    for (int k = 0; k < FK_N; k++) {
        int hits = 0, tol = 0;
        for (long n = 1; n <= WALK_MAX; n++) {
            cold_arg a = { k, n };
            tu_child ch;
            tu_fork_capture(cold_child, &a, 60, &ch);
            int st = ch.exited ? ch.exit_code : -1;
            if (fault_log() && ch.err)
                printf("fault: %s", ch.err);
            int ok = st >= 0 && (st & COLD_AGAIN);
            if (ok && (st & COLD_FIRED)) {
                if (st & COLD_OK)
                    ok = (tolerated & FB(k)) && (st & COLD_RAN);
                else /* main may have run at 3+ workers: see run_call */
                    ok = (st & COLD_ENOMEM) && (!(st & COLD_RAN) || tu_env_workers() >= 3);
            } else if (ok) {
                ok = (st & COLD_OK) && (st & COLD_RAN);
            }
            if (!ok)
                tu_child_print("goc_run from a fresh process", &ch);
            tu_child_free(&ch);
            assert_true(ok);
            if (!(st & COLD_FIRED))
                break;
            hits++;
            tol += (st & COLD_OK) != 0;
        }
        printf("fault: %-22s %-6s: %2d injected, %d tolerated\n", "goc_run (fresh process)",
               fk_name[k], hits, tol);
    }
}

/* goc_run: every site of runtime start and stop, with the injection on
 * every thread (workers, monitor). */
static void test_run_walk(void **state)
{
    (void)state;
    tu_checks_reset();
    run_ctx c = { 0 };
    fpath warm = { .ctx = &c };
    assert_int_equal(run_call(&warm), 0); /* once-per-process sites: test_run_cold */
    fpath p = { .name = "goc_run", .kinds = FB_ALL,
                .tolerated = FB(FK_ALLOC) | FB(FK_MMAP) | FB(FK_HWLOC),
                .any_thread = 1, .call = run_call, .ctx = &c };
    walk(&p);
    /* main's own stack: a stack size under the default */
    run_ctx small = { 0 };
    small.stack = 16 * 1024;
    fpath own = { .name = "goc_run(small stacks)", .kinds = FB(FK_ALLOC) | FB(FK_MMAP),
                  .tolerated = FB(FK_ALLOC) | FB(FK_MMAP), .any_thread = 1, .call = run_call,
                  .ctx = &small };
    walk(&own);
    TU_ASSERT_NO_CHECK_FAILURES();
    /* the wrappers are in the link: every kind is on goc_run's path */
    for (int k = 0; k < FK_N; k++)
        if (p.hits[k] == 0)
            fail_msg("goc_run: no %s failure injected (is test_fault linked with --wrap?)",
                     fk_name[k]);
    assert_true(own.hits[FK_MMAP] >= 2); /* the own stack and its guard */
    /* and a plain goc_run still works */
    assert_int_equal(run_call(&warm), 0);
    TU_ASSERT_NO_CHECK_FAILURES();
}

/* ================================================ calls from a coroutine */

typedef struct hold {
    goc_tcp *s[64];
    int n;
} hold;

static void hold_put(hold *h, goc_tcp *s)
{
    if (h->n < (int)(sizeof h->s / sizeof h->s[0]))
        h->s[h->n++] = s;
    else
        goc_tcp_close(s);
}

static void hold_close(hold *h)
{
    for (int i = 0; i < h->n; i++)
        goc_tcp_close(h->s[i]);
    h->n = 0;
}

/* --------------------------------------------------- constructors & co */

/* Each call makes one thing (armed), its undo checks and frees it. */
#define MAKE_CALL(name, expr)                                                 \
    static int name(fpath *p)                                                 \
    {                                                                         \
        p->obj = (void *)(expr);                                              \
        return p->obj ? 0 : GOC_ENOMEM;                                       \
    }

MAKE_CALL(call_chan_make, goc_chan_make(sizeof(int), 4))
MAKE_CALL(call_after, goc_after(TU_SEC))
MAKE_CALL(call_wg_new, goc_wg_new())
MAKE_CALL(call_mutex_new, goc_mutex_new())
MAKE_CALL(call_sem_new, goc_sem_new(1))
MAKE_CALL(call_event_new, goc_event_new())
MAKE_CALL(call_queue_new, goc_queue_new(sizeof(int), 0))
MAKE_CALL(call_group_new, goc_group_new())

static void undo_chan(fpath *p) { TU_CHECK_INT_EQ(goc_chan_free(p->obj), 0); }
static void undo_wg(fpath *p) { goc_wg_free(p->obj); }
static void undo_mutex(fpath *p) { TU_CHECK_INT_EQ(goc_mutex_free(p->obj), 0); }
static void undo_sem(fpath *p) { TU_CHECK_INT_EQ(goc_sem_free(p->obj), 0); }
static void undo_event(fpath *p) { TU_CHECK_INT_EQ(goc_event_free(p->obj), 0); }
static void undo_queue(fpath *p) { TU_CHECK_INT_EQ(goc_queue_free(p->obj), 0); }
static void undo_group(fpath *p) { TU_CHECK_INT_EQ(goc_group_free(p->obj), 0); }

static int call_select(fpath *p)
{
    goc_chan *ch = p->ctx;
    static int v = 7;
    goc_case cs[9]; /* more than select's 8 inline cases: it allocates */
    for (int i = 0; i < 9; i++)
        cs[i] = (goc_case){ .ch = i == 5 ? ch : NULL, .op = GOC_SEND, .elem = &v };
    int r = goc_select(cs, 9, 0);
    if (r >= 0) {
        TU_CHECK_INT_EQ(r, 5);
        return 0;
    }
    return r;
}

static void undo_select(fpath *p)
{
    int got = 0;
    TU_CHECK_INT_EQ(goc_chan_tryrecv(p->ctx, &got), 0);
    TU_CHECK_INT_EQ(got, 7);
}

static void select_check_empty(fpath *p)
{
    TU_CHECK_INT_EQ(goc_chan_len(p->ctx), 0); /* a failed select performed nothing */
}

/* A put that grows the queue's buffer (a fresh queue each time). */
static void queue_put_prep(fpath *p)
{
    if (p->ctx)
        TU_CHECK_INT_EQ(goc_queue_len(p->ctx), 0); /* the failed put queued nothing */
    else
        p->ctx = goc_queue_new(sizeof(int), 0);
    TU_CHECK(p->ctx != NULL);
}

static int call_queue_put(fpath *p)
{
    static const int v = 3;
    return goc_queue_put(p->ctx, &v, 0);
}

static void undo_queue_put(fpath *p)
{
    int got = 0;
    TU_CHECK_INT_EQ(goc_queue_get(p->ctx, &got, 0), 0);
    TU_CHECK_INT_EQ(got, 3);
    TU_CHECK_INT_EQ(goc_queue_task_done(p->ctx), 0);
    TU_CHECK_INT_EQ(goc_queue_free(p->ctx), 0);
    p->ctx = NULL;
}

static void *task_ret(void *arg)
{
    return arg;
}

static void go_noop(void *arg)
{
    (void)arg;
}

static int call_go(fpath *p)
{
    return goc_go(go_noop, NULL);
}

MAKE_CALL(call_spawn, goc_spawn(task_ret, p))

static void undo_spawn(fpath *p)
{
    void *res = NULL;
    TU_CHECK_INT_EQ(goc_join(p->obj, &res), 0);
    TU_CHECK(res == p);
}

static void group_go_prep(fpath *p)
{
    if (!p->ctx)
        p->ctx = goc_group_new();
    TU_CHECK(p->ctx != NULL);
}

static int call_group_go(fpath *p)
{
    return goc_group_go(p->ctx, task_ret, NULL);
}

static void undo_group_go(fpath *p)
{
    TU_CHECK_INT_EQ(goc_group_wait(p->ctx), 0);
    TU_CHECK_INT_EQ(goc_group_free(p->ctx), 0);
    p->ctx = NULL;
}

static void gen_count(goc_gen *g, void *arg)
{
    for (int i = 0; i < 3; i++)
        if (goc_gen_yield(g, &i) != 0)
            return;
}

MAKE_CALL(call_gen, goc_gen_new(sizeof(int), gen_count, NULL))

static void undo_gen(fpath *p)
{
    int v = -1;
    TU_CHECK_INT_EQ(goc_gen_next(p->obj, &v, -1), 0);
    TU_CHECK_INT_EQ(v, 0);
    TU_CHECK_INT_EQ(goc_gen_close(p->obj), 0);
}

/* gather of 17 tasks (over 16: the duplicate check allocates, and so does
 * the watch table): a failure consumes nothing, the retry consumes them.
 * The tasks have all returned, so nothing parks. */
typedef struct tasks_ctx {
    goc_task *t[17];
    size_t n;
    int have;
} tasks_ctx;

static void tasks_prep(fpath *p)
{
    tasks_ctx *c = p->ctx;
    if (c->have)
        return;
    for (size_t i = 0; i < c->n; i++) {
        c->t[i] = goc_spawn(task_ret, (void *)(uintptr_t)(i + 1));
        TU_CHECK(c->t[i] != NULL);
    }
    for (size_t i = 0; i < c->n; i++)
        while (!goc_done(c->t[i]))
            goc_yield();
    c->have = 1;
}

static void *gather_res[17];

static int call_gather(fpath *p)
{
    tasks_ctx *c = p->ctx;
    return goc_gather(c->t, c->n, gather_res, NULL, 0);
}

static void undo_gather(fpath *p)
{
    tasks_ctx *c = p->ctx;
    c->have = 0; /* consumed */
    for (size_t i = 0; i < c->n; i++)
        TU_CHECK(gather_res[i] == (void *)(uintptr_t)(i + 1));
}

static int call_wait_first(fpath *p)
{
    tasks_ctx *c = p->ctx;
    int r = goc_wait_first(c->t, c->n, 0);
    return r >= 0 ? (r == 0 ? 0 : -1000 - r) : r;
}

static int call_wait_first_ok(fpath *p)
{
    tasks_ctx *c = p->ctx;
    int r = goc_wait_first_ok(c->t, c->n, 0);
    return r >= 0 ? (r == 0 ? 0 : -1000 - r) : r;
}

static void tasks_join(tasks_ctx *c)
{
    if (!c->have)
        return;
    for (size_t i = 0; i < c->n; i++)
        TU_CHECK_INT_EQ(goc_join(c->t[i], NULL), 0);
    c->have = 0;
}

#define COR_KINDS (FB(FK_ALLOC) | FB(FK_MMAP))

static void api_main(void *arg)
{
    goc_chan *sel = goc_chan_make(sizeof(int), 1);
    TU_CHECK(sel != NULL);
    tasks_ctx gather = { .n = 17 }, two = { .n = 2 };
    fpath paths[] = {
        { .name = "goc_chan_make", .call = call_chan_make, .undo = undo_chan },
        { .name = "goc_select(9 cases)", .prep = select_check_empty, .call = call_select,
          .undo = undo_select, .ctx = sel },
        /* a worker's first timer grows its heap; without memory it fires
         * at once (timer.c), so a goc_after can still succeed */
        { .name = "goc_after", .tolerated = FB(FK_ALLOC), .call = call_after, .undo = undo_chan },
        { .name = "goc_wg_new", .call = call_wg_new, .undo = undo_wg },
        { .name = "goc_mutex_new", .call = call_mutex_new, .undo = undo_mutex },
        { .name = "goc_sem_new", .call = call_sem_new, .undo = undo_sem },
        { .name = "goc_event_new", .call = call_event_new, .undo = undo_event },
        { .name = "goc_queue_new", .call = call_queue_new, .undo = undo_queue },
        { .name = "goc_queue_put(grow)", .prep = queue_put_prep, .call = call_queue_put,
          .undo = undo_queue_put },
        { .name = "goc_go", .call = call_go },
        { .name = "goc_spawn", .call = call_spawn, .undo = undo_spawn },
        { .name = "goc_group_new", .call = call_group_new, .undo = undo_group },
        { .name = "goc_group_go", .prep = group_go_prep, .call = call_group_go,
          .undo = undo_group_go },
        { .name = "goc_gen_new", .call = call_gen, .undo = undo_gen },
        { .name = "goc_gather(17)", .prep = tasks_prep, .call = call_gather,
          .undo = undo_gather, .ctx = &gather },
        { .name = "goc_wait_first(2)", .prep = tasks_prep, .call = call_wait_first, .ctx = &two },
        { .name = "goc_wait_first_ok(2)", .prep = tasks_prep, .call = call_wait_first_ok,
          .ctx = &two },
    };
    int total = 0;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        paths[i].kinds = COR_KINDS;
        walk(&paths[i]);
        total += paths[i].hits[FK_ALLOC];
    }
    if (paths[8].ctx) /* queue_put's last queue */
        TU_CHECK_INT_EQ(goc_queue_free(paths[8].ctx), 0);
    if (paths[12].ctx)
        TU_CHECK_INT_EQ(goc_group_free(paths[12].ctx), 0);
    tasks_join(&gather);
    tasks_join(&two);
    TU_CHECK(total >= 17); /* every constructor allocates */
    TU_CHECK_INT_EQ(goc_chan_free(sel), 0);
}

static void test_api_walk(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, api_main, NULL);
}

/* ---------------------------------------------------------------- tcp */

typedef struct net_ctx {
    goc_tcp *l;
    int port;
    hold held;     /* sockets kept open, so each call needs a new pollfd */
    const char *host;
} net_ctx;

static int call_listen(fpath *p)
{
    net_ctx *c = p->ctx;
    goc_tcp *l = NULL;
    int r = goc_tcp_listen("127.0.0.1", 0, 0, &l);
    if (r == 0) {
        TU_CHECK(goc_tcp_port(l) > 0);
        hold_put(&c->held, l);
    } else {
        TU_CHECK(l == NULL);
    }
    return r;
}

static int call_connect(fpath *p)
{
    net_ctx *c = p->ctx;
    goc_tcp *s = NULL;
    /* no deadline: no timer (a worker's first one may need memory, and
     * fires at once without it: test_timer_heap) */
    int r = goc_tcp_connect(c->host, c->port, &s, -1);
    if (r == 0)
        hold_put(&c->held, s);
    else
        TU_CHECK(s == NULL);
    return r;
}

/* Before each accept: one more connection waiting in the backlog. */
static void accept_prep(fpath *p)
{
    net_ctx *c = p->ctx;
    goc_tcp *s = NULL;
    TU_CHECK_INT_EQ(goc_tcp_connect("127.0.0.1", c->port, &s, -1), 0);
    if (s)
        hold_put(&c->held, s);
}

static int call_accept(fpath *p)
{
    net_ctx *c = p->ctx;
    goc_tcp *s = NULL;
    int r = goc_tcp_accept(c->l, &s, -1); /* one is queued: it does not wait */
    if (r == 0)
        hold_put(&c->held, s);
    else
        TU_CHECK(s == NULL);
    return r;
}

static int call_resolve(fpath *p)
{
    struct sockaddr_storage ss[4];
    int r = goc_resolve("localhost", 80, ss, sizeof ss[0], 4);
    return r > 0 ? 0 : r;
}

static void net_main(void *arg)
{
    net_ctx c = { .host = "127.0.0.1" };
    /* the sockets stay open until the end (c.held), so every call needs a
     * new pollfd: the pollfd allocation is on each path */
    fpath listen = { .name = "goc_tcp_listen", .kinds = FB(FK_ALLOC) | FB(FK_FD),
                     .fd_errno = 1, .call = call_listen, .ctx = &c };
    walk(&listen);

    /* connect: to a listener that never accepts (its backlog takes them) */
    TU_CHECK_INT_EQ(goc_tcp_listen("127.0.0.1", 0, 0, &c.l), 0);
    if (!c.l)
        return;
    hold_put(&c.held, c.l);
    c.port = goc_tcp_port(c.l);
    fpath connect = { .name = "goc_tcp_connect", .kinds = FB(FK_ALLOC) | FB(FK_FD),
                      .fd_errno = 1, .call = call_connect, .ctx = &c };
    walk(&connect);
    c.host = "localhost"; /* through goc_resolve (uv_getaddrinfo) */
    fpath byname = { .name = "goc_tcp_connect(name)", .kinds = FB(FK_UV), .call = call_connect,
                     .ctx = &c };
    walk(&byname);
    fpath resolve = { .name = "goc_resolve", .kinds = FB(FK_UV), .call = call_resolve };
    walk(&resolve);

    /* accept, from a listener of its own: -EMFILE leaves the listener
     * usable and the connection queued */
    TU_CHECK_INT_EQ(goc_tcp_listen("127.0.0.1", 0, 0, &c.l), 0);
    if (!c.l)
        return;
    hold_put(&c.held, c.l);
    c.port = goc_tcp_port(c.l);
    fpath accept = { .name = "goc_tcp_accept", .kinds = FB(FK_ALLOC) | FB(FK_FD), .fd_errno = 1,
                     .prep = accept_prep, .call = call_accept, .ctx = &c };
    walk(&accept);
    TU_CHECK(listen.hits[FK_ALLOC] >= 1 && connect.hits[FK_ALLOC] >= 1 &&
             accept.hits[FK_ALLOC] >= 1);
    TU_CHECK(listen.hits[FK_FD] >= 2 && connect.hits[FK_FD] >= 2 && accept.hits[FK_FD] >= 2);
    TU_CHECK(byname.hits[FK_UV] >= 1 && resolve.hits[FK_UV] >= 1);
    hold_close(&c.held);

    /* and sockets still work end to end */
    goc_tcp *l = NULL, *a = NULL, *b = NULL;
    TU_CHECK_INT_EQ(goc_tcp_listen("127.0.0.1", 0, 0, &l), 0);
    if (!l)
        return;
    TU_CHECK_INT_EQ(goc_tcp_connect("127.0.0.1", goc_tcp_port(l), &a, 5 * TU_SEC), 0);
    TU_CHECK_INT_EQ(goc_tcp_accept(l, &b, 5 * TU_SEC), 0);
    if (a && b) {
        char x = 'x', y = 0;
        TU_CHECK_INT_EQ(goc_tcp_write(a, &x, 1, 5 * TU_SEC), 1);
        TU_CHECK_INT_EQ(goc_tcp_read(b, &y, 1, 5 * TU_SEC), 1);
        TU_CHECK_INT_EQ(y, 'x');
    }
    if (a)
        goc_tcp_close(a);
    if (b)
        goc_tcp_close(b);
    goc_tcp_close(l);
}

static void test_net_walk(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, net_main, NULL);
}

/* ------------------------------------------------------------------ fs */

typedef struct fs_ctx {
    char dir[64];
    char big[96];   /* 100 KB: read_all grows its buffer once */
    char out[96];
} fs_ctx;

#define BIG_LEN (100 * 1024)

static int call_fs_open(fpath *p)
{
    fs_ctx *c = p->ctx;
    int fd = goc_fs_open(c->big, O_RDONLY, 0);
    if (fd < 0)
        return fd;
    TU_CHECK_INT_EQ(goc_fs_close(fd), 0);
    return 0;
}

static int call_read_all(fpath *p)
{
    fs_ctx *c = p->ctx;
    void *data = NULL;
    size_t len = 0;
    int r = goc_fs_read_all(c->big, &data, &len);
    if (r == 0) {
        TU_CHECK_INT_EQ(len, BIG_LEN);
        free(data);
    } else {
        TU_CHECK(data == NULL);
    }
    return r;
}

static int call_write_all(fpath *p)
{
    fs_ctx *c = p->ctx;
    return goc_fs_write_all(c->out, "hello", 5);
}

static void fs_main(void *arg)
{
    fs_ctx *c = arg;
    char *buf = malloc(BIG_LEN);
    TU_CHECK(buf != NULL);
    if (!buf)
        return;
    memset(buf, 'b', BIG_LEN);
    TU_CHECK_INT_EQ(goc_fs_write_all(c->big, buf, BIG_LEN), 0);
    free(buf);
    fpath paths[] = {
        { .name = "goc_fs_open", .kinds = FB(FK_ALLOC) | FB(FK_UV), .call = call_fs_open, .ctx = c },
        { .name = "goc_fs_read_all", .kinds = FB(FK_ALLOC) | FB(FK_UV), .call = call_read_all,
          .ctx = c },
        { .name = "goc_fs_write_all", .kinds = FB(FK_ALLOC) | FB(FK_UV), .call = call_write_all,
          .ctx = c },
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        walk(&paths[i]);
        TU_CHECK(paths[i].hits[FK_UV] >= 1);
    }
    TU_CHECK(paths[1].hits[FK_ALLOC] >= 2); /* the buffer and its growth */
}

static void test_fs_walk(void **state)
{
    (void)state;
    fs_ctx c;
    memset(&c, 0, sizeof c);
    snprintf(c.dir, sizeof c.dir, "/tmp/goc_fault_XXXXXX");
    assert_non_null(mkdtemp(c.dir));
    snprintf(c.big, sizeof c.big, "%s/big", c.dir);
    snprintf(c.out, sizeof c.out, "%s/out", c.dir);
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, fs_main, &c);
    unlink(c.big);
    unlink(c.out);
    rmdir(c.dir);
}

/* ======================================= the coroutine pool runs dry */

/* The structs of coroutines come from slabs of a pool kept across runs;
 * goc_go only maps a new slab when every struct is taken. Park coroutines
 * until that happens, with the next mmap failing, once per constructor. */
typedef struct dry_ctx {
    goc_chan *gate;
    goc_group *group;
    goc_task **tasks;
    size_t ntasks, tcap;
    goc_gen **gens;
    size_t ngens, gcap;
} dry_ctx;

static atomic_long parked_done;

static void park_go(void *arg)
{
    goc_chan_recv(arg, NULL);
    atomic_fetch_add(&parked_done, 1);
}

static void *park_task(void *arg)
{
    goc_chan_recv(arg, NULL);
    return NULL;
}

static void gen_never(goc_gen *g, void *arg)
{
    (void)g;
    (void)arg;
}

static void *grow_array(void *a, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return a;
    *cap = *cap ? *cap * 2 : 256;
    void *b = realloc(a, *cap * elem);
    if (!b)
        abort();
    return b;
}

/* One coroutine by constructor `which`: 0, or what the call says on ENOMEM. */
static int dry_one(dry_ctx *c, int which)
{
    switch (which) {
    case 0:
        return goc_go(park_go, c->gate);
    case 1: {
        goc_task *t = goc_spawn(park_task, c->gate);
        if (!t)
            return GOC_ENOMEM;
        c->tasks = grow_array(c->tasks, &c->tcap, c->ntasks, sizeof *c->tasks);
        c->tasks[c->ntasks++] = t;
        return 0;
    }
    case 2: {
        goc_gen *g = goc_gen_new(0, gen_never, NULL);
        if (!g)
            return GOC_ENOMEM;
        c->gens = grow_array(c->gens, &c->gcap, c->ngens, sizeof *c->gens);
        c->gens[c->ngens++] = g;
        return 0;
    }
    default:
        return goc_group_go(c->group, park_task, c->gate);
    }
}

#define DRY_MAX 200000

static void dry_main(void *arg)
{
    static const char *const names[] = { "goc_go", "goc_spawn", "goc_gen_new", "goc_group_go" };
    dry_ctx c = { .gate = goc_chan_make(0, 0), .group = goc_group_new() };
    TU_CHECK(c.gate && c.group);
    if (!c.gate || !c.group)
        return;
    long gos = 0;
    for (int which = 0; which < 4; which++) {
        long made = 0;
        int r = 0;
        fault_result fr = { 0 };
        fault_arm(FK_MMAP, 1, 0);
        while (made < DRY_MAX) {
            r = dry_one(&c, which);
            if (fault_fired())
                break;
            TU_CHECK_INT_EQ(r, 0);
            made++;
        }
        fr = fault_disarm();
        TU_CHECK(fr.fired);
        TU_CHECK_INT_EQ(r, GOC_ENOMEM);
        printf("fault: %-22s mmap  : pool dry after %ld coroutines: %s from +0x%lx -> %d\n",
               names[which], made, fr.fn ? fr.fn : "-", site_offset(fr.site), r);
        TU_CHECK_INT_EQ(dry_one(&c, which), 0); /* and the next one works */
        if (which == 0)
            gos = made + 1;
    }
    TU_CHECK_INT_EQ(goc_chan_close(c.gate), 0);
    for (size_t i = 0; i < c.ntasks; i++)
        TU_CHECK_INT_EQ(goc_join(c.tasks[i], NULL), 0);
    for (size_t i = 0; i < c.ngens; i++)
        TU_CHECK_INT_EQ(goc_gen_close(c.gens[i]), 0);
    TU_CHECK_INT_EQ(goc_group_wait(c.group), 0);
    TU_CHECK_INT_EQ(goc_group_free(c.group), 0);
    free(c.tasks);
    free(c.gens);
    /* the goc_go ones have returned from their recv: free the gate */
    TU_CHECK(tu_wait_count(&parked_done, gos, 30 * TU_SEC));
    TU_CHECK_INT_EQ(goc_chan_free(c.gate), 0);
}

static void test_pool_dry(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    TU_RUN(&cfg, dry_main, NULL);
}

/* ===================================================== the timer heap */

/* A worker's first timer grows its heap; without memory the timer fires
 * at once (timer.c: rather than hang), so the sleep returns early. */
static atomic_int heap_fired;

static void heap_main(void *arg)
{
    fault_arm(FK_ALLOC, 1, 0);
    int64_t t0 = goc_now();
    int r = goc_sleep(50 * TU_MS);
    int64_t took = goc_now() - t0;
    fault_result fr = fault_disarm();
    atomic_store(&heap_fired, fr.fired);
    TU_CHECK_INT_EQ(r, 0);
    if (fr.fired) {
        TU_CHECK(strcmp(fr.fn, "realloc") == 0);
        TU_CHECK(took < 50 * TU_MS); /* it did not wait */
    }
    t0 = goc_now();
    TU_CHECK_INT_EQ(goc_sleep(2 * TU_MS), 0); /* timers work after it */
    TU_CHECK(goc_now() - t0 >= 2 * TU_MS);
    goc_chan *ch = goc_after(TU_MS);
    TU_CHECK(ch != NULL);
    if (ch) {
        int64_t when = 0;
        TU_CHECK_INT_EQ(goc_chan_recv(ch, &when), 0);
        TU_CHECK_INT_EQ(goc_chan_free(ch), 0);
    }
}

/* In a child: before the fix, the sleep spun forever (the coroutine,
 * woken before it switched away, was its own next to run). */
static void heap_child(void *arg)
{
    child_default_signals();
    tu_checks_reset();
    goc_config cfg = tu_cfg(0);
    int r = goc_run(&cfg, heap_main, NULL);
    if (atomic_load(&tu_fail_count))
        fprintf(stderr, "check failed: %s\n", tu_fail_first);
    _exit(r == 0 && !atomic_load(&tu_fail_count) && atomic_load(&heap_fired) ? 0 : 1);
}

static void test_timer_heap(void **state)
{
    (void)state;
    tu_child ch;
    tu_fork_capture(heap_child, NULL, 10, &ch);
    int ok = ch.exited && ch.exit_code == 0;
    if (!ok)
        tu_child_print("goc_sleep, its worker's first timer without memory", &ch);
    tu_child_free(&ch);
    assert_true(ok);
    printf("fault: %-22s alloc :  1 injected, 1 tolerated (the sleep fired at once)\n",
           "timer heap (goc_sleep)");
}

/* ====================================== where the runtime stops instead */

/* A coroutine's stack is taken when it first runs; with no memory for it
 * the runtime aborts with a message. */
static void stack_oom_main(void *arg)
{
    goc_chan *gate = goc_chan_make(0, 0);
    for (int i = 0; i < 100000; i++) {
        fault_arm(FK_MMAP, 1, 1);
        int r = goc_go(park_go, gate);
        fault_disarm();
        if (r != 0) /* the coroutine pool's slab failed instead: go on */
            continue;
        fault_arm(FK_MMAP, 1, 1);
        goc_yield(); /* it runs here (or on the other worker): takes a stack */
        fault_disarm();
    }
    fprintf(stderr, "no abort\n");
}

static void stack_oom_child(void *arg)
{
    child_default_signals();
    goc_config cfg = tu_cfg(0);
    goc_run(&cfg, stack_oom_main, NULL);
}

/* A full ring spills half of itself to the global run queue, in a chunk
 * from malloc; no memory for it aborts with a message. */
static void gq_oom_main(void *arg)
{
    fault_arm(FK_ALLOC, 1, 0);
    for (int i = 0; i < 2000; i++) /* more than a ring (256), none runs */
        goc_go(go_noop, NULL);
    fault_disarm();
    fprintf(stderr, "no abort\n");
}

static void gq_oom_child(void *arg)
{
    child_default_signals();
    goc_config cfg = tu_cfg(0);
    cfg.workers = 1; /* nobody steals from the ring: it fills */
    goc_run(&cfg, gq_oom_main, NULL);
}

static void expect_abort(const char *what, void (*fn)(void *), const char *msg)
{
    tu_child ch;
    tu_fork_capture(fn, NULL, 60, &ch);
    int ok = ch.signaled && ch.sig == SIGABRT && ch.err && strstr(ch.err, msg);
    if (!ok)
        tu_child_print(what, &ch);
    else
        printf("fault: %-22s aborts: \"%s\"\n", what, msg);
    tu_child_free(&ch);
    assert_true(ok);
}

static void test_oom_aborts(void **state)
{
    (void)state;
    expect_abort("coroutine stack", stack_oom_child, "out of memory for the stack of coroutine");
    expect_abort("global run queue", gq_oom_child, "out of memory for the global run queue");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        /* the forking ones first, before any goc_run here: fresh children,
         * and TSan cannot start threads in the child of a process that had
         * threads */
        cmocka_unit_test(test_run_cold),
        cmocka_unit_test(test_oom_aborts),
        cmocka_unit_test(test_timer_heap),
        cmocka_unit_test(test_run_walk),
        cmocka_unit_test(test_api_walk),
        cmocka_unit_test(test_net_walk),
        cmocka_unit_test(test_fs_walk),
        cmocka_unit_test(test_pool_dry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
