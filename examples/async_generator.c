/*
 * async_generator.c - a stream of values produced on demand.
 *
 *   1. lazy (Python's async generator with `async for`; JS's async
 *      function*): goc_gen runs the producer only while the consumer waits
 *      in goc_gen_next, so page k+1 is fetched only after page k has been
 *      processed: 0.2 s fetch + 0.1 s processing = 0.3 s a page. The
 *      consumer stops after 3 pages; goc_gen_close makes the producer's
 *      pending goc_gen_yield return GOC_ECANCELED so that it cleans up
 *      (Python: aclose() raises GeneratorExit at the yield).
 *   2. eager (Go: a goroutine sending on a channel the consumer ranges
 *      over): the producer runs ahead, one page buffered, so fetching and
 *      processing overlap: 0.2 s a page. Stopping it takes a cancel.
 *
 * Twin: examples/python/async_generator.py.
 */
#include "example_util.h"

#define FETCH_NS   (200 * EX_MS)
#define PROCESS_NS (100 * EX_MS)
#define MAX_PAGES  10
#define WANT_PAGES 3

static void pages(goc_gen *g, void *arg)
{
    (void)arg;
    for (int page = 1; page <= MAX_PAGES; page++) {
        ex_log("lazy producer: fetching page %d", page);
        if (goc_sleep(FETCH_NS) != 0)
            break;
        if (goc_gen_yield(g, &page) == GOC_ECANCELED) {
            ex_log("lazy producer: closed after page %d, cleaning up", page);
            return;
        }
    }
}

static void lazy(void)
{
    ex_log("lazy: consume %d pages from a generator", WANT_PAGES);
    goc_gen *g = goc_gen_new(sizeof(int), pages, NULL);
    if (!g) {
        ex_check(GOC_ENOMEM, "goc_gen_new");
        return;
    }
    int page, got = 0;
    while (got < WANT_PAGES && goc_gen_next(g, &page, -1) == 0) {
        got++;
        ex_log("lazy consumer: got page %d", page);
        ex_check(goc_sleep(PROCESS_NS), "goc_sleep");
    }
    ex_log("lazy consumer: had enough, close the generator");
    ex_check(goc_gen_close(g), "goc_gen_close");
    ex_log("lazy: generator closed");
}

static void *channel_producer(void *arg)
{
    goc_chan *ch = arg;
    for (int page = 1; page <= MAX_PAGES; page++) {
        ex_log("eager producer: fetching page %d", page);
        if (goc_sleep(FETCH_NS) == GOC_ECANCELED || goc_chan_send(ch, &page) == GOC_ECANCELED) {
            ex_log("eager producer: cancelled while on page %d, cleaning up", page);
            return NULL;
        }
    }
    goc_chan_close(ch);
    return NULL;
}

static void eager(void)
{
    ex_log("eager: consume %d pages from a producer task and a channel of 1", WANT_PAGES);
    goc_chan *ch = goc_chan_make(sizeof(int), 1);
    goc_task *p = ch ? goc_spawn(channel_producer, ch) : NULL;
    if (!p) {
        ex_check(GOC_ENOMEM, "goc_chan_make/goc_spawn");
        if (ch)
            goc_chan_free(ch);
        return;
    }
    int page, got = 0;
    while (got < WANT_PAGES && goc_chan_recv(ch, &page) == 0) {
        got++;
        ex_log("eager consumer: got page %d", page);
        ex_check(goc_sleep(PROCESS_NS), "goc_sleep");
    }
    ex_log("eager consumer: had enough, cancel the producer");
    ex_check(goc_cancel(p), "goc_cancel");
    goc_join(p, NULL); /* GOC_ECANCELED: it was */
    ex_check(goc_chan_free(ch), "goc_chan_free");
    ex_log("eager: producer stopped");
}

static void async_generator(void)
{
    lazy();
    eager();
}

int main(int argc, char **argv)
{
    ex_opts o = ex_parse(argc, argv, "async_generator: values produced on demand");
    return ex_run(&o, "async_generator", async_generator);
}
