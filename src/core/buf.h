/* buf: a growable byte buffer with a hard cap (our vstring). Appending past
 * the cap keeps what fits and marks the buffer truncated, so memory per
 * session stays bounded whatever the MTA sends.
 * Threads: a buffer belongs to one owner (a session); no locking. */
#ifndef PM_BUF_H
#define PM_BUF_H
#include <stddef.h>

typedef struct pm_buf {
    char *data;    /* owned; NUL-terminated for convenience, may hold NULs */
    size_t len;    /* bytes kept */
    size_t cap;    /* bytes allocated */
    size_t limit;  /* most bytes ever kept */
    int truncated; /* something was dropped because of limit */
} pm_buf_t;

void pm_buf_init(pm_buf_t *b, size_t limit);
/* Appends what fits under the limit; returns the number of bytes kept. */
size_t pm_buf_append(pm_buf_t *b, const void *data, size_t len);
/* Empties the buffer and frees its memory. */
void pm_buf_reset(pm_buf_t *b);

#endif
