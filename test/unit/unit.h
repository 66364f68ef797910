/* unit: the smallest test harness: CHECK prints "PASS: name" or
 * "FAIL: name: why" (test/run.sh counts them) and records failures. */
#ifndef PM_UNIT_H
#define PM_UNIT_H
#include <stdio.h>
#include <string.h>

static int unit_failures;

#define CHECK(name, cond)                                                                                              \
    do {                                                                                                               \
        if (cond) {                                                                                                    \
            printf("PASS: %s\n", name);                                                                                \
        } else {                                                                                                       \
            printf("FAIL: %s: %s (%s:%d)\n", name, #cond, __FILE__, __LINE__);                                         \
            unit_failures++;                                                                                           \
        }                                                                                                              \
    } while (0)

#define CHECK_STR(name, got, want)                                                                                     \
    do {                                                                                                               \
        const char *g_ = (got), *w_ = (want);                                                                          \
        if (g_ && w_ && strcmp(g_, w_) == 0) {                                                                         \
            printf("PASS: %s\n", name);                                                                                \
        } else {                                                                                                       \
            printf("FAIL: %s: got \"%s\", want \"%s\" (%s:%d)\n", name, g_ ? g_ : "(null)", w_ ? w_ : "(null)",       \
                   __FILE__, __LINE__);                                                                                \
            unit_failures++;                                                                                           \
        }                                                                                                              \
    } while (0)

#endif
