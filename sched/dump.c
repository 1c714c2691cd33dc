/*
 * dump.c - the coroutine dump (goc_dump) and its SIGQUIT trigger.
 *
 * Owns: dump_lock (one dump at a time, process-wide), the SIGQUIT request
 * flag and the disposition it replaced (installed and restored by goc_run's
 * thread). The barrier it pins with is solo.c's.
 *
 * What a dump reads, and why it is safe while workers run:
 *   - the list of live coroutines: a snapshot taken under the pool lock
 *     (goc__co_snapshot); structs are never freed during a run, so a
 *     pointer stays valid even if its coroutine exits meanwhile;
 *   - ids, names, wait descriptions, spawn sites: words the owner writes
 *     with relaxed stores (runtime.h, goc_wait), read with relaxed loads;
 *   - a coroutine's stack (saved registers, a select's cases, the frames
 *     the unwinder walks): only while the coroutine is pinned. Pinning is
 *     a Dekker hand-shake between co->pinned (the dumper's flag) and
 *     co->on_cpu (the worker's): the dumper stores pinned = 1, fences, and
 *     reads on_cpu; a worker that claims co stores on_cpu = 1 and reads
 *     rt->dumping, and only when a dump runs fences and waits for
 *     pinned == 0 (sched.c, wait_unpinned). The worker's fast path has
 *     no fence: its store and load are ordered by the membarrier(2) the
 *     dumper issues after raising rt->dumping (an asymmetric fence: every
 *     running thread of the process executes a full barrier). So either
 *     the dumper sees on_cpu == 1 (running or being resumed: its stack is
 *     never read, "running on worker N" is printed instead) or the worker
 *     waits until the dumper is done with that stack. Without membarrier
 *     (old kernel, seccomp) no stack is read: the dump has no backtraces
 *     and says so.
 * The dump is formatted into memory and written once every pin is
 * released, so a slow fd never holds a worker.
 *
 * SIGQUIT: the handler only raises sigquit_pending (async-signal-safe);
 * the monitor thread notices it at its next sample (20 ms) and writes the
 * dump to stderr (goc__dump_poll). The program runs on.
 *
 * Backtraces use libunwind (GOC_HAVE_LIBUNWIND): a context is built from
 * the registers the context switch saved on the parked stack (ctx.h) and
 * walked with unw_init_local / unw_step; symbols come from
 * unw_get_proc_name_by_ip, the module from dladdr.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime.h"

#ifdef GOC_HAVE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#define DUMP_MAX_FRAMES 48
#define DUMP_MAX_CASES 16

static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int sigquit_pending;
static struct sigaction sigquit_saved; /* goc_run's thread only */
static int sigquit_installed;

/* ------------------------------------------------------------ the text */

typedef struct dump_buf {
    char *p;
    size_t len, cap;
    int oom;
} dump_buf;

__attribute__((format(printf, 2, 3))) static void out(dump_buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = b->oom ? 0 : vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0 || b->oom)
            return;
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap - b->len <= (size_t)n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ----------------------------------------------------------- pinning */

/* 1: co is off every CPU and stays so until unpin; 0: it runs (or is
 * being resumed) somewhere. */
static int pin(goc_co *co)
{
    atomic_store(&co->pinned, 1);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(&co->on_cpu) == 0)
        return 1;
    atomic_store_explicit(&co->pinned, 0, memory_order_release);
    return 0;
}

static void unpin(goc_co *co)
{
    atomic_store_explicit(&co->pinned, 0, memory_order_release);
}


/* ------------------------------------------------------------ unwinding */

#ifdef GOC_HAVE_LIBUNWIND
#define DUMP_CAN_UNWIND 1

#if defined(__x86_64__) && !(defined(GOC_CTX_UCONTEXT) && GOC_CTX_UCONTEXT)
void goc__ctx_start(void);

/* A saved context resumes either after a call to goc__ctx_switch, or at
 * goc__ctx_start (a fresh one), or at the resume point of
 * goc__ctx_switch_inline (ctx.h), where the stack pointer is 128 bytes
 * (the red zone it stepped over) below the one the function's unwind
 * info expects. A call is told by its encoding: the 5 bytes before pc are
 * a direct call (e8 rel32) whose target is goc__ctx_switch (hidden, so
 * every call to it is direct). */
static int is_inline_resume(uintptr_t pc)
{
    if (pc == (uintptr_t)goc__ctx_start)
        return 0;
    unsigned char op;
    int32_t rel;
    memcpy(&op, (const void *)(pc - 5), 1);
    memcpy(&rel, (const void *)(pc - 4), 4);
    return !(op == 0xe8 && pc + (uintptr_t)(intptr_t)rel == (uintptr_t)goc__ctx_switch);
}

/* The registers ctx_x86_64.S saved: [0] MXCSR and x87 control word, [1]
 * r15, r14, r13, r12, rbx, rbp, [7] the return address. */
static int context_of(const goc_co *co, unw_context_t *uc)
{
    const uint64_t *sp = co->ctx.sp;
    uintptr_t pc = sp[7];
    uintptr_t rsp = (uintptr_t)(sp + 8);
    if (is_inline_resume(pc))
        rsp += 128;
    memset(uc, 0, sizeof *uc);
    greg_t *g = uc->uc_mcontext.gregs;
    g[REG_R15] = (greg_t)sp[1];
    g[REG_R14] = (greg_t)sp[2];
    g[REG_R13] = (greg_t)sp[3];
    g[REG_R12] = (greg_t)sp[4];
    g[REG_RBX] = (greg_t)sp[5];
    g[REG_RBP] = (greg_t)sp[6];
    g[REG_RIP] = (greg_t)pc;
    g[REG_RSP] = (greg_t)rsp;
    return 0;
}
#elif defined(__aarch64__) && !(defined(GOC_CTX_UCONTEXT) && GOC_CTX_UCONTEXT)
/* ctx_aarch64.S: x19-x28 at [0..9], x29 at [10], x30 (the return
 * address) at [11], d8-d15 after; 160 bytes. */
static int context_of(const goc_co *co, unw_context_t *uc)
{
    const uint64_t *sp = co->ctx.sp;
    memset(uc, 0, sizeof *uc);
    for (int i = 0; i < 10; i++)
        uc->uc_mcontext.regs[19 + i] = sp[i];
    uc->uc_mcontext.regs[29] = sp[10];
    uc->uc_mcontext.regs[30] = sp[11];
    uc->uc_mcontext.sp = (uint64_t)(uintptr_t)(sp + 20);
    uc->uc_mcontext.pc = sp[11];
    return 0;
}
#else
static int context_of(const goc_co *co, unw_context_t *uc)
{
    (void)co;
    (void)uc;
    return -1; /* ucontext switch: not supported yet */
}
#endif

/* The return addresses on a pinned coroutine's stack, innermost first. */
static int unwind(const goc_co *co, uintptr_t *pcs, int max)
{
    unw_context_t uc;
    unw_cursor_t cur;
    if (context_of(co, &uc) != 0 || unw_init_local(&cur, &uc) < 0)
        return 0;
    int n = 0;
    do {
        unw_word_t ip = 0;
        if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        pcs[n++] = (uintptr_t)ip;
    } while (n < max && unw_step(&cur) > 0);
    return n;
}

/* The name of the function holding pc and pc's offset in it: libunwind
 * (1.6) names only a cursor's frame, so make a one-frame cursor at pc; it
 * reads the ELF symbol tables, static functions included. */
static int proc_name(uintptr_t pc, char *name, size_t size, unw_word_t *off)
{
    unw_context_t uc;
    unw_cursor_t cur;
    if (unw_getcontext(&uc) != 0)
        return -1;
#if defined(__x86_64__)
    uc.uc_mcontext.gregs[REG_RIP] = (greg_t)pc;
#elif defined(__aarch64__)
    uc.uc_mcontext.pc = pc;
#endif
    if (unw_init_local(&cur, &uc) < 0)
        return -1;
    return unw_get_proc_name(&cur, name, size, off) == 0 ? 0 : -1;
}

/* "func+0xOFF (module)" for a return address (looked up at pc - 1, the
 * call, so that a call ending a function is not given to the next one). */
static void symbolise(dump_buf *b, uintptr_t pc)
{
    char name[256];
    unw_word_t off = 0;
    Dl_info dl;
    const char *mod = "?";
    if (dladdr((void *)pc, &dl) && dl.dli_fname) {
        const char *slash = strrchr(dl.dli_fname, '/');
        mod = slash ? slash + 1 : dl.dli_fname;
    }
    if (proc_name(pc - 1, name, sizeof name, &off) == 0)
        out(b, "%s+0x%llx (%s)", name, (unsigned long long)off + 1, mod);
    else
        out(b, "0x%" PRIxPTR " (%s)", pc, mod);
}
#else
#define DUMP_CAN_UNWIND 0

static int unwind(const goc_co *co, uintptr_t *pcs, int max)
{
    (void)co;
    (void)pcs;
    (void)max;
    return 0;
}

static void symbolise(dump_buf *b, uintptr_t pc)
{
    Dl_info dl;
    if (dladdr((void *)pc, &dl) && dl.dli_sname)
        out(b, "%s+0x%" PRIxPTR, dl.dli_sname, pc - (uintptr_t)dl.dli_saddr);
    else
        out(b, "0x%" PRIxPTR, pc);
}
#endif

/* ---------------------------------------------------------- one coroutine */

static const char *op_name(int op)
{
    return op == GOC_SEND ? "send" : op == GOC_RECV ? "recv" : "?";
}

/* What a pinned, parked coroutine waits on (its wait and its stack are
 * stable while pinned). */
static void describe_wait(dump_buf *b, goc_co *co, int64_t now)
{
    const char *what = atomic_load_explicit(&co->wait_what, memory_order_relaxed);
    int kind = atomic_load_explicit(&co->cold->wait.kind, memory_order_relaxed);
    uintptr_t obj = atomic_load_explicit(&co->cold->wait.obj, memory_order_relaxed);
    int64_t arg = atomic_load_explicit(&co->cold->wait.arg, memory_order_relaxed);
    int64_t until = atomic_load_explicit(&co->cold->wait.until, memory_order_relaxed);
    int64_t since = atomic_load_explicit(&co->cold->wait.since, memory_order_relaxed);
    out(b, "    waiting on: %s", what ? what : "?");
    switch (kind) {
    case GOC_WAIT_CHAN:
        out(b, " (chan %p %s)", (void *)obj, op_name((int)arg));
        break;
    case GOC_WAIT_SELECT: {
        const goc_case *cases = (const goc_case *)obj;
        out(b, " (%lld cases:", (long long)arg);
        for (int64_t i = 0; cases && i < arg && i < DUMP_MAX_CASES; i++) {
            if (cases[i].ch)
                out(b, " [%lld] %s chan %p", (long long)i, op_name(cases[i].op),
                    (void *)cases[i].ch);
            else
                out(b, " [%lld] nil", (long long)i);
        }
        out(b, "%s)", arg > DUMP_MAX_CASES ? " ..." : "");
        break;
    }
    case GOC_WAIT_FD:
        out(b, " (fd %lld %s)", (long long)(arg >> 1), arg & 1 ? "write" : "read");
        break;
    default:
        if (obj)
            out(b, " (%p)", (void *)obj);
        break;
    }
    out(b, "\n");
    if (until != INT64_MAX)
        out(b, "    until: goc_now %lld (in %lld ms)\n", (long long)until,
            (long long)((until - now) / 1000000));
    if (since > 0)
        out(b, "    for: %lld ms\n", (long long)((now - since) / 1000000));
}

static int running_on(goc_runtime *rt, uint64_t id)
{
    for (int i = 0; i < rt->nworkers; i++)
        if (atomic_load_explicit(&rt->workers[i].cur_id, memory_order_relaxed) == id)
            return i;
    return -1;
}

static void dump_one(dump_buf *b, goc_runtime *rt, goc_co *co, int can_pin, int64_t now)
{
    uintptr_t pcs[DUMP_MAX_FRAMES];
    int npcs = 0;
    dump_buf wait = { 0 };
    int pinned = can_pin && pin(co);
    if (pinned && atomic_load(&co->life) != GOC_LIFE_ALIVE) {
        unpin(co); /* exited since the snapshot */
        return;
    }
    char name[GOC_NAME_MAX];
    goc__co_name(co, name);
    uint64_t id = co->id;
    out(b, "coroutine %llu \"%s\"%s: ", (unsigned long long)id, name,
        co->flags & GOC_CO_MAIN ? " (main)" : "");
    uint32_t ws = atomic_load(&co->wstate) & GOC_WS_STATE_MASK;
    if (pinned) {
        int parked = ws == GOC_WS_WAITING || ws == GOC_WS_HELD;
        if (!co->stack)
            out(b, "runnable (not started)\n");
        else
            out(b, "%s\n", parked ? "parked" : "runnable");
        if (parked)
            describe_wait(&wait, co, now);
        if (co->stack)
            npcs = unwind(co, pcs, DUMP_MAX_FRAMES);
        unpin(co);
    } else {
        int w = running_on(rt, id);
        if (w >= 0)
            out(b, "running on worker %d\n", w);
        else if (!can_pin && ws == GOC_WS_WAITING)
            out(b, "parked\n");
        else
            out(b, "running (being switched)\n");
        if (!can_pin && ws == GOC_WS_WAITING) {
            const char *what = atomic_load_explicit(&co->wait_what, memory_order_relaxed);
            out(b, "    waiting on: %s\n", what ? what : "?");
        }
    }
    if (wait.p)
        out(b, "%s", wait.p);
    free(wait.p);
    uintptr_t spc = atomic_load_explicit(&co->spawn_pc, memory_order_relaxed);
    if (spc) {
        out(b, "    spawned at: ");
        symbolise(b, spc);
        out(b, "\n");
    }
    if (npcs > 0) {
        out(b, "    backtrace:\n");
        for (int i = 0; i < npcs; i++) {
            out(b, "      #%d 0x%" PRIxPTR " ", i, pcs[i]);
            symbolise(b, pcs[i]);
            out(b, "\n");
        }
    }
}

/* --------------------------------------------------------------- dump */

static int dump_to(goc_runtime *rt, int fd)
{
    size_t n = 0;
    dump_buf b = { 0 };
    pthread_mutex_lock(&dump_lock);
    atomic_store(&rt->dumping, 1);
    int can_pin = DUMP_CAN_UNWIND && goc__barrier_everywhere() == 0;
    goc_co **all = goc__co_snapshot(rt, &n);
    int64_t now = goc_now();
    out(&b, "goc: coroutine dump: %zu coroutines, %d workers, goc_now %lld\n", n, rt->nworkers,
        (long long)now);
    if (!DUMP_CAN_UNWIND)
        out(&b, "goc: no backtraces: goc was built without libunwind\n");
    else if (!can_pin)
        out(&b, "goc: no backtraces: membarrier(2) is not available\n");
    for (size_t i = 0; all && i < n; i++)
        dump_one(&b, rt, all[i], can_pin, now);
    atomic_store_explicit(&rt->dumping, 0, memory_order_release);
    pthread_mutex_unlock(&dump_lock);
    out(&b, "goc: end of coroutine dump\n");
    int err = !all || b.oom ? GOC_ENOMEM : write_all(fd, b.p, b.len);
    free(all);
    free(b.p);
    return err;
}

int goc_dump(int fd)
{
    goc_runtime *rt = goc__runtime();
    if (!rt)
        return GOC_EPERM;
    return dump_to(rt, fd);
}

/* ------------------------------------------------------------- SIGQUIT */

static void on_sigquit(int sig)
{
    (void)sig;
    atomic_store_explicit(&sigquit_pending, 1, memory_order_relaxed);
}

void goc__dump_poll(goc_runtime *rt)
{
    if (atomic_load_explicit(&sigquit_pending, memory_order_relaxed) &&
        atomic_exchange(&sigquit_pending, 0))
        (void)dump_to(rt, STDERR_FILENO);
}

void goc__dump_signal_install(void)
{
    struct sigaction old, sa;
    if (sigaction(SIGQUIT, NULL, &old) != 0 || (old.sa_flags & SA_SIGINFO) ||
        old.sa_handler != SIG_DFL)
        return; /* the program's own handler, or ignored: keep it */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigquit;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGQUIT, &sa, NULL) != 0)
        return;
    sigquit_saved = old;
    sigquit_installed = 1;
}

void goc__dump_signal_restore(void)
{
    if (!sigquit_installed)
        return;
    sigaction(SIGQUIT, &sigquit_saved, NULL);
    sigquit_installed = 0;
    atomic_store(&sigquit_pending, 0);
}
