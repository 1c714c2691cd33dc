/*
 * dns.c - goc_resolve: name resolution (getaddrinfo) on libuv's thread
 * pool, parking only the calling coroutine.
 *
 * Owns nothing beyond one call: the request and its wait (uvreq.h) live
 * on the caller's stack; the addrinfo list libuv returns is copied into
 * the caller's array (IPv4 and IPv6 stream addresses, with the port set)
 * and freed before the call returns. A cancel cannot end the lookup; it
 * is reported once the lookup has completed.
 *
 * Locking: none; libuv's pool does its own.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "uvreq.h"

typedef struct resolve_call {
    uv_getaddrinfo_t req;
    goc_uvreq req_wait;
    int status;
    struct addrinfo *res;
} resolve_call;

static void resolve_done(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    resolve_call *rc = req->data;
    rc->status = status;
    rc->res = res;
    goc__uvreq_done(&rc->req_wait);
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
    int err = goc__uvreq_begin(&rc.req_wait);
    if (err)
        return err;
    int s = uv_getaddrinfo(goc__uvreq_loop(&rc.req_wait), &rc.req, resolve_done, host, NULL, &hints);
    if (s != 0)
        return s == UV_ENOMEM ? GOC_ENOMEM : GOC_ENOTFOUND;
    goc__uvreq_park(&rc.req_wait, "name resolution");
    int n = rc.status == 0 ? copy_addrs(rc.res, port, addrs, addr_size, max) : 0;
    uv_freeaddrinfo(rc.res);
    if (goc_cancelled())
        return GOC_ECANCELED;
    if (rc.status == UV_ENOMEM)
        return GOC_ENOMEM;
    return n > 0 ? n : GOC_ENOTFOUND;
}
