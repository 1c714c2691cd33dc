/*
 * taskgroup_cancel.c - a task group: one task fails, the others are cancelled.
 *
 * asyncio.TaskGroup (Python 3.11) and Go's errgroup share one rule: the
 * tasks of a group succeed or fail together. When one fails, the group
 * cancels the rest and reports the first error; nothing is left running.
 *
 *   1. tasks A (1.0 s), B (fails at 0.2 s), C (0.5 s): at 0.2 s B fails,
 *      A and C are cancelled at their sleeps and clean up, and
 *      goc_group_wait returns B's error - after 0.2 s, not 1.0 s;
 *   2. the same group shape where every task succeeds: wait returns 0
 *      once the slowest is done.
 *
 * Twin: examples/python/taskgroup_cancel.py.
 */
#include "example_util.h"

typedef struct step {
    const char *name;
    int64_t ns;
    int fails;
} step;

static void *member(void *arg)
{
    const step *s = arg;
    ex_log("task %s: started", s->name);
    int rc = goc_sleep(s->ns);
    if (rc == GOC_ECANCELED) {
        ex_log("task %s: cancelled, cleaning up", s->name);
        return NULL;
    }
    if (s->fails) {
        ex_log("task %s: fails", s->name);
        return goc_fail(GOC_EINVAL);
    }
    ex_log("task %s: done", s->name);
    return NULL;
}

static void run_group(const char *label, const step *steps, int n)
{
    goc_group *g = goc_group_new();
    if (!g) {
        ex_check(GOC_ENOMEM, "goc_group_new");
        return;
    }
    ex_log("%s: start tasks A, B, C in a group", label);
    for (int i = 0; i < n; i++)
        ex_check(goc_group_go(g, member, (void *)&steps[i]), "goc_group_go");
    int rc = goc_group_wait(g);
    if (rc == 0)
        ex_log("%s: group done, every task succeeded", label);
    else
        ex_log("%s: group failed | first error: %s", label, goc_strerror(rc));
    ex_check(goc_group_free(g), "goc_group_free");
}

static void taskgroup_cancel(void)
{
    static const step failing[] = {
        { "A", 1000 * EX_MS, 0 }, { "B", 200 * EX_MS, 1 }, { "C", 500 * EX_MS, 0 },
    };
    static const step fine[] = {
        { "A", 300 * EX_MS, 0 }, { "B", 100 * EX_MS, 0 }, { "C", 200 * EX_MS, 0 },
    };
    run_group("failing", failing, 3);
    run_group("all ok", fine, 3);
}

int main(int argc, char **argv)
{
    ex_opts o = ex_parse(argc, argv, "taskgroup_cancel: one task fails, the group cancels the rest");
    return ex_run(&o, "taskgroup_cancel", taskgroup_cancel);
}
