/*
 * error.c - goc_strerror: names for the GOC_E* codes (negated errno), and
 * the system's names for the plain -errno codes the I/O calls return.
 */
#include <string.h>

#include "goc.h"

const char *goc_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case GOC_EAGAIN: return "operation would block";
    case GOC_ETIMEDOUT: return "operation timed out";
    case GOC_ECANCELED: return "coroutine was cancelled";
    case GOC_ECLOSED: return "closed (channel closed, or peer gone)";
    case GOC_ENOTFOUND: return "no address found for the host";
    case GOC_ENOMEM: return "out of memory";
    case GOC_EINVAL: return "invalid argument";
    case GOC_EPERM: return "not called from a coroutine";
    case GOC_EBUSY: return "resource busy";
    case GOC_EDEADLK: return "all coroutines are asleep: deadlock";
    default:
        break;
    }
    /* strerrordesc_np is thread-safe and never formats into a buffer. */
    const char *d = err < 0 && err > -4096 ? strerrordesc_np(-err) : NULL;
    return d ? d : "unknown error";
}
