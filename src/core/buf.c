/* buf: capped growable buffer (see buf.h). */
#include "core/buf.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void pm_buf_init(pm_buf_t *b, size_t limit)
{
    memset(b, 0, sizeof *b);
    b->limit = limit;
}

size_t pm_buf_append(pm_buf_t *b, const void *data, size_t len)
{
    size_t room = b->limit - b->len;
    if (len > room) {
        len = room;
        b->truncated = 1;
    }
    if (len == 0)
        return 0;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        b->data = pm_realloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return len;
}

void pm_buf_reset(pm_buf_t *b)
{
    free(b->data);
    size_t limit = b->limit;
    pm_buf_init(b, limit);
}
