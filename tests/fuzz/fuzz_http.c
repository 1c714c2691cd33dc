/*
 * fuzz_http.c - libFuzzer harness for the HTTP request parser of
 * examples/http_hello.c (examples/http_parse.h).
 *
 * The input is a byte stream a client sends on one connection, plus a few
 * control bytes. The harness plays the server's connection loop
 * (serve_conn + answer_requests in http_hello.c: an IN_CAP buffer, reads
 * of at most the free space, every complete request answered in order,
 * the connection closed after an error or a request without keep-alive,
 * 431 for a head that cannot fit) and records what the server would
 * answer. It delivers the same stream several ways:
 *   - in one piece (each parse on an exact-size heap copy, so ASan sees
 *     a read one byte past the end or before the start);
 *   - in two pieces, at every split point (streams up to SPLIT_ALL
 *     bytes; longer ones at SPLIT_SOME points spread over the stream);
 *   - in pieces whose sizes come from the input, and one byte at a time
 *     (streams up to BYTEWISE_MAX bytes);
 * and aborts unless every way gives the same answers. In the split runs
 * the bytes of the buffer past the data are poisoned for ASan, so a read
 * past the data is caught there too. Each 200 answer is also checked
 * against its own bytes alone (an exact-size copy: the same answer, and
 * every shorter prefix incomplete), so a request's answer never depends
 * on what follows it, and every answer consumes bytes (the server's loop
 * cannot spin).
 *
 * Input format: byte 0 is ctl.
 *   ctl & 7   nsz: that many piece-size bytes follow (size = byte + 1)
 *   ctl & 8   amplify: 5 bytes follow: off (u16 LE), len (u8, +1),
 *             count (u16 LE): the stream's bytes [off, off+len) are
 *             repeated count more times in place (oversized heads from a
 *             small input), the stream capped at STREAM_MAX bytes
 *   the rest  the stream
 * The upper bits of ctl are ignored, so seeds can begin with '0' (plain
 * stream), '8' (amplify), '1'..'7' (piece sizes).
 *
 * FUZZ_HTTP_PRINT=1 in the environment prints the answers for each input
 * (fuzz_http -runs=0 FILE... shows what a seed or a finding does).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#if defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    include <sanitizer/asan_interface.h>
#    define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#    define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#  endif
#endif
#ifndef POISON
#  define POISON(p, n)   ((void)(p), (void)(n))
#  define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define STREAM_MAX   (64 * 1024)
#define SPLIT_ALL    512
#define SPLIT_SOME   96
#define BYTEWISE_MAX 1024
#define ANSWERS_MAX  (STREAM_MAX / 16 + 2) /* a request is >= 16 bytes */

typedef struct answer {
    int status;
    size_t size;
    int head_only, http10, keep_alive;
} answer;

typedef struct outcome {
    answer *a;
    size_t n;
    size_t consumed; /* bytes of requests answered */
    int closed;      /* the server closed the connection */
} outcome;

#define FUZZ_NAME "fuzz_http"
#include "fuzz_check.h"

/* How the connection's buffer is handed to the parser. */
enum { VIEW_COPY, VIEW_POISON };

typedef struct conn_sim {
    char *in;          /* IN_CAP bytes on the heap */
    size_t in_len;
    int view;
    outcome *out;
} conn_sim;

static int parse_view(conn_sim *c, size_t used, request *r)
{
    size_t len = c->in_len - used;
    int rc;
    if (c->view == VIEW_COPY) {
        char *copy = malloc(len ? len : 1);
        CHECK(copy, "malloc");
        memcpy(copy, c->in + used, len);
        /* An exact-size copy: len 0 gets a 1-byte block, poisoned. */
        if (!len)
            POISON(copy, 1);
        rc = parse_request(copy, len, r);
        if (!len)
            UNPOISON(copy, 1);
        free(copy);
    } else {
        POISON(c->in + c->in_len, IN_CAP - c->in_len);
        rc = parse_request(c->in + used, len, r);
        UNPOISON(c->in + c->in_len, IN_CAP - c->in_len);
    }
    return rc;
}

/* The request's bytes alone give the same answer, and no shorter prefix
 * is complete. */
static void check_alone(const char *req, const request *r)
{
    char *copy = malloc(r->size);
    CHECK(copy, "malloc");
    memcpy(copy, req, r->size);
    request again;
    memset(&again, 0x5a, sizeof again);
    CHECK(parse_request(copy, r->size, &again) == 1, "alone: incomplete, size %zu", r->size);
    CHECK(again.status == r->status && again.size == r->size &&
              again.head_only == r->head_only && again.http10 == r->http10 &&
              again.keep_alive == r->keep_alive,
          "alone: another answer (status %d size %zu vs %d %zu)", again.status,
          again.size, r->status, r->size);
    /* The longest proper prefix: incomplete (the shorter ones are covered
     * by the split runs). */
    CHECK(parse_request(copy, r->size - 1, &again) == 0, "prefix of %zu complete", r->size);
    free(copy);
}

static void record(conn_sim *c, const request *r)
{
    outcome *o = c->out;
    CHECK(o->n < ANSWERS_MAX, "too many answers");
    o->a[o->n++] = (answer){ r->status, r->size, r->head_only, r->http10, r->keep_alive };
}

/* answer_requests of http_hello.c, less the writing: false once the
 * connection must close. */
static int answer_requests(conn_sim *c)
{
    size_t used = 0;
    int open = 1;
    while (open) {
        request r;
        memset(&r, 0xa5, sizeof r);
        int rc = parse_view(c, used, &r);
        CHECK(rc == 0 || rc == 1, "parse_request returned %d", rc);
        if (!rc)
            break;
        CHECK(r.status == 200 || r.status == 400 || r.status == 413 || r.status == 501,
              "status %d", r.status);
        if (r.status == 200) {
            CHECK(r.size >= 4 && r.size <= c->in_len - used,
                  "size %zu of %zu bytes", r.size, c->in_len - used);
            check_alone(c->in + used, &r);
        } else {
            CHECK(r.size == 0, "an error with size %zu", r.size);
            r.keep_alive = false;
        }
        record(c, &r);
        used += r.size;
        c->out->consumed += r.size;
        open = r.keep_alive;
    }
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    if (open && c->in_len == IN_CAP) {
        request big = { .status = 431 };
        record(c, &big);
        open = 0;
    }
    return open;
}

/* Deliver stream[0..n) in pieces: piece(i) gives the i-th size (>= 1). */
typedef size_t (*piece_fn)(void *arg, size_t i);

static void run(const char *stream, size_t n, int view, piece_fn piece, void *arg,
                char *in, outcome *o)
{
    conn_sim c = { .in = in, .in_len = 0, .view = view, .out = o };
    o->n = 0;
    o->consumed = 0;
    o->closed = 0;
    size_t pos = 0, avail = 0, npieces = 0;
    for (;;) {
        if (pos == avail) {
            if (avail == n)
                break; /* the client closed: read returns 0 */
            size_t k = piece(arg, npieces++);
            CHECK(k >= 1, "piece of 0");
            avail = k > n - avail ? n : avail + k;
        }
        size_t room = IN_CAP - c.in_len;
        CHECK(room > 0, "read into a full buffer");
        size_t k = avail - pos < room ? avail - pos : room;
        memcpy(c.in + c.in_len, stream + pos, k);
        c.in_len += k;
        pos += k;
        if (!answer_requests(&c)) {
            o->closed = 1;
            break;
        }
    }
}

static size_t piece_all(void *arg, size_t i) { (void)arg; (void)i; return STREAM_MAX; }
static size_t piece_one(void *arg, size_t i) { (void)arg; (void)i; return 1; }

typedef struct split { size_t at; } split;
static size_t piece_split(void *arg, size_t i)
{
    split *s = arg;
    return i == 0 ? s->at : STREAM_MAX;
}

typedef struct sizes { const uint8_t *sz; size_t n; } sizes;
static size_t piece_sizes(void *arg, size_t i)
{
    sizes *s = arg;
    return (size_t)s->sz[i % s->n] + 1;
}

static void same(const outcome *ref, const outcome *o, const char *how, size_t at)
{
    size_t n = ref->n < o->n ? ref->n : o->n;
    for (size_t i = 0; i < n; i++) {
        const answer *x = &ref->a[i], *y = &o->a[i];
        CHECK(x->status == y->status && x->size == y->size && x->head_only == y->head_only &&
                  x->http10 == y->http10 && x->keep_alive == y->keep_alive,
              "%s %zu: answer %zu differs: status %d size %zu ka %d vs status %d size %zu ka %d",
              how, at, i, x->status, x->size, x->keep_alive, y->status, y->size, y->keep_alive);
    }
    CHECK(ref->n == o->n, "%s %zu: %zu answers vs %zu", how, at, ref->n, o->n);
    CHECK(ref->consumed == o->consumed, "%s %zu: consumed %zu vs %zu", how, at,
          ref->consumed, o->consumed);
    CHECK(ref->closed == o->closed, "%s %zu: closed %d vs %d", how, at, ref->closed, o->closed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    size_t p = 1;
    size_t nsz = ctl & 7;
    if (nsz > size - p)
        nsz = size - p;
    sizes sz = { data + p, nsz };
    p += nsz;
    int amplify = (ctl & 8) && size - p >= 5;
    size_t a_off = 0, a_len = 0, a_count = 0;
    if (amplify) {
        a_off = (size_t)data[p] | (size_t)data[p + 1] << 8;
        a_len = (size_t)data[p + 2] + 1;
        a_count = (size_t)data[p + 3] | (size_t)data[p + 4] << 8;
        p += 5;
    }
    const uint8_t *raw = data + p;
    size_t raw_n = size - p;

    /* Build the stream. */
    char *stream = malloc(STREAM_MAX);
    char *in = malloc(IN_CAP);
    outcome ref = { .a = malloc(ANSWERS_MAX * sizeof(answer)) };
    outcome o = { .a = malloc(ANSWERS_MAX * sizeof(answer)) };
    CHECK(stream && in && ref.a && o.a, "malloc");
    size_t n = raw_n < STREAM_MAX ? raw_n : STREAM_MAX;
    memcpy(stream, raw, n);
    if (amplify && raw_n > 0) {
        a_off %= raw_n;
        if (a_len > raw_n - a_off)
            a_len = raw_n - a_off;
        /* stream = raw[0, off+len) + count x raw[off, off+len) + raw[off+len, ...) */
        size_t k = 0;
        for (size_t i = 0; i < a_off + a_len && k < STREAM_MAX; i++)
            stream[k++] = (char)raw[i];
        for (size_t c = 0; c < a_count && k < STREAM_MAX; c++)
            for (size_t i = 0; i < a_len && k < STREAM_MAX; i++)
                stream[k++] = (char)raw[a_off + i];
        for (size_t i = a_off + a_len; i < raw_n && k < STREAM_MAX; i++)
            stream[k++] = (char)raw[i];
        n = k;
    }

    /* The reference: one piece, exact-size copies. */
    run(stream, n, VIEW_COPY, piece_all, NULL, in, &ref);
    static int print = -1;
    if (print < 0)
        print = getenv("FUZZ_HTTP_PRINT") != NULL;
    if (print) {
        fprintf(stderr, "stream %zu bytes: %zu answers, %zu bytes consumed, %s\n", n, ref.n,
                ref.consumed, ref.closed ? "closed" : "open");
        for (size_t i = 0; i < ref.n; i++)
            fprintf(stderr, "  %d size %zu%s%s%s\n", ref.a[i].status, ref.a[i].size,
                    ref.a[i].head_only ? " HEAD" : "", ref.a[i].http10 ? " 1.0" : "",
                    ref.a[i].keep_alive ? " keep-alive" : "");
    }
    /* The same again, poisoned view: the views agree. */
    run(stream, n, VIEW_POISON, piece_all, NULL, in, &o);
    same(&ref, &o, "poisoned view", 0);

    /* Two pieces. */
    if (n >= 2) {
        size_t points = n - 1 <= SPLIT_ALL ? n - 1 : SPLIT_SOME;
        for (size_t i = 0; i < points; i++) {
            split s = { .at = points == n - 1 ? i + 1 : 1 + (i * (n - 1)) / points };
            run(stream, n, VIEW_POISON, piece_split, &s, in, &o);
            same(&ref, &o, "split at", s.at);
        }
    }
    /* Pieces from the input. */
    if (sz.n > 0) {
        run(stream, n, VIEW_POISON, piece_sizes, &sz, in, &o);
        same(&ref, &o, "input piece sizes", sz.n);
    }
    if (n <= BYTEWISE_MAX) {
        run(stream, n, VIEW_POISON, piece_one, NULL, in, &o);
        same(&ref, &o, "one byte at a time", n);
    }

    free(stream);
    free(in);
    free(ref.a);
    free(o.a);
    return 0;
}
