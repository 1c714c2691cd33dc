/*
 * fuzz_check.h - the fuzz harnesses' CHECK: a failed check prints the
 * harness, the expression and where, then aborts, which libFuzzer records
 * as a finding.
 */
#ifndef GOC_FUZZ_CHECK_H
#define GOC_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s: check failed: %s (%s:%d): ", FUZZ_NAME,     \
                    #cond, __FILE__, __LINE__);                              \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
            abort();                                                         \
        }                                                                    \
    } while (0)

#endif /* GOC_FUZZ_CHECK_H */
