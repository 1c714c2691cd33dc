/*
 * test_many.c - what must hold however many workers there are (issue 13):
 * the designs that keep 64 workers from stepping on each other, checked
 * from the runtime's own state (a white-box test).
 *
 * ctest runs it at 1 and 2 workers and, in the plain build, at 16 and 64
 * (LABELS many); each check here needs at least 4 workers to mean
 * anything, so it takes max(GOC_WORKERS, 4).
 */
#include "test_util.h"
#include "tu_whitebox.h"

static int workers_for_test(void)
{
    int n = tu_env_workers();
    return n > 4 ? n : 4;
}

static void *accept_forever(void *arg)
{
    goc_tcp *conn = NULL;
    int rc = goc_tcp_accept(arg, &conn, -1);
    TU_CHECK_INT_EQ(rc, GOC_ECANCELED);
    return NULL;
}

/* One idle worker at a time, the poller, watches the netpoller's epoll
 * fd (Go: one M in netpoll); the other idle workers sleep on their own
 * wake-ups, so a socket event wakes one thread, not every idle one.
 * With a coroutine parked on a socket and every other worker idle,
 * count the blocked workers whose loop watches the epoll fd: one, not
 * nworkers - 1. (A monitor hand-back of the role can show two for a
 * moment, so only a steady excess fails.) */
static void poller_main(void *arg)
{
    (void)arg;
    goc_runtime *rt = goc__runtime();
    goc_tcp *l = NULL;
    TU_CHECK_INT_EQ(goc_tcp_listen("127.0.0.1", 0, 0, &l), 0);
    if (!l)
        return;
    goc_task *t = goc_spawn(accept_forever, l);
    TU_CHECK(t != NULL);
    TU_CHECK(tu_wait_parked(t, 30 * TU_SEC));
    int samples = 200, crowded = 0, heard = 0;
    for (int s = 0; s < samples; s++) {
        goc_sleep(TU_MS);
        int watching = 0, watching_blocked = 0;
        for (int i = 0; i < rt->nworkers; i++) {
            goc_worker *w = &rt->workers[i];
            int on = atomic_load_explicit(&w->np_watching, memory_order_relaxed);
            watching += on;
            watching_blocked += on && atomic_load(&w->blocked);
        }
        crowded += watching_blocked > 1;
        heard += watching >= 1;
    }
    if (crowded > samples / 10)
        tu_check_failed(__FILE__, __LINE__,
                        "%d of %d samples: more than one idle worker watches the netpoller",
                        crowded, samples);
    if (heard < samples / 2)
        tu_check_failed(__FILE__, __LINE__,
                        "%d of %d samples: no worker watches the netpoller", heard, samples);
    goc_cancel(t);
    goc_join(t, NULL);
    goc_tcp_close(l);
}

static void test_one_idle_worker_watches_netpoller(void **state)
{
    (void)state;
    goc_config cfg = tu_cfg(0);
    cfg.workers = workers_for_test();
    TU_RUN(&cfg, poller_main, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_idle_worker_watches_netpoller),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
