/*
 * http_parse.h - the HTTP/1.x request parser of examples/http_hello.c, in
 * a header of its own so that tests/fuzz/fuzz_http.c runs the very same
 * code (each .c file in examples/ is built as a program of its own, hence
 * a header).
 *
 * parse_request(buf, len, &r) looks at the request at the start of
 * buf[0..len): it returns 0 while the request is incomplete (no blank line
 * yet, or the body still coming), else 1 with r.size (head + body bytes)
 * and r.status: 200, or the error to answer before closing (400 malformed
 * request line or Content-Length, 413 a body larger than the buffer, 501
 * Transfer-Encoding). It reads only buf[0..len), keeps no state, and the
 * answer for a complete request does not depend on the bytes after it.
 *
 * Needs _GNU_SOURCE (memmem), which the build defines for every target.
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#define IN_CAP 8192 /* a request head must fit in it */

/* What the server needs to know about one request. */
typedef struct request {
    size_t size;      /* head + body bytes */
    bool head_only;   /* HEAD: answer without a body */
    bool http10;      /* HTTP/1.0: keep-alive only when asked, and said so */
    bool keep_alive;
    int status;       /* 200, or the error to answer before closing */
} request;

/* ------------------------------------------------------------ parsing */

static bool header_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/* Does the comma-separated header value contain token (any case)? */
static bool value_has(const char *v, size_t len, const char *token)
{
    size_t n = strlen(token);
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(v + i, token, n) == 0)
            return true;
    return false;
}

/* A decimal Content-Length; -1 if it is not one. */
static long long parse_length(const char *v, size_t len)
{
    long long n = 0;
    size_t i = 0;
    while (i < len && (v[i] == ' ' || v[i] == '\t'))
        i++;
    if (i == len)
        return -1;
    for (; i < len && v[i] >= '0' && v[i] <= '9'; i++) {
        if (n > (1LL << 40))
            return -1;
        n = n * 10 + (v[i] - '0');
    }
    while (i < len && (v[i] == ' ' || v[i] == '\t'))
        i++;
    return i == len ? n : -1;
}

/* The request line "METHOD TARGET HTTP/1.x": sets head_only and the
 * version's default keep-alive; false if malformed. */
static bool parse_request_line(const char *line, size_t len, request *r)
{
    const char *sp1 = memchr(line, ' ', len);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
    if (!sp1 || sp1 == line || !sp2 || sp2 == sp1 + 1)
        return false;
    const char *version = sp2 + 1;
    size_t vlen = len - (size_t)(version - line);
    if (vlen != 8 || memcmp(version, "HTTP/1.", 7) != 0 ||
        (version[7] != '0' && version[7] != '1'))
        return false;
    r->http10 = version[7] == '0';
    r->keep_alive = !r->http10;
    r->head_only = sp1 - line == 4 && memcmp(line, "HEAD", 4) == 0;
    return true;
}

/* Parse the request at the start of buf[0..len): 0 while it is still
 * incomplete, else its size in r->size and r->status set (200 or an
 * error to answer before closing). */
static int parse_request(const char *buf, size_t len, request *r)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    *r = (request){ .status = 200 };
    const char *line = buf, *stop = end + 2; /* each line ends with \r\n */
    const char *eol = memmem(line, (size_t)(stop - line), "\r\n", 2);
    if (!parse_request_line(line, (size_t)(eol - line), r)) {
        r->status = 400;
        return 1;
    }
    long long body = 0;
    for (line = eol + 2; line < stop; line = eol + 2) {
        eol = memmem(line, (size_t)(stop - line), "\r\n", 2);
        size_t n = (size_t)(eol - line);
        if (header_is(line, n, "Connection")) {
            const char *v = line + 11;
            size_t vn = n - 11;
            if (value_has(v, vn, "close"))
                r->keep_alive = false;
            else if (value_has(v, vn, "keep-alive"))
                r->keep_alive = true;
        } else if (header_is(line, n, "Content-Length")) {
            body = parse_length(line + 15, n - 15);
            if (body < 0)
                r->status = 400;
        } else if (header_is(line, n, "Transfer-Encoding")) {
            r->status = 501;
        }
    }
    size_t head = (size_t)(end + 4 - buf);
    if (r->status != 200)
        return 1;
    if ((unsigned long long)body > IN_CAP - head) {
        r->status = 413; /* a body we would have to stream: not for this server */
        return 1;
    }
    if (head + (size_t)body > len)
        return 0; /* the body is still coming */
    r->size = head + (size_t)body;
    return 1;
}

#endif
