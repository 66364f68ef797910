/*++
 * cbuf - growable byte buffer, allocation that never returns NULL
 *
 * Owns: the bytes of each cbuf_t. Thread use: one buffer per thread.
 * DIAGNOSTICS: out of memory prints one line to stderr and aborts.
 *--*/
#include "cbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "pmilter-client: out of memory (%zu bytes)\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void cbuf_reserve(cbuf_t *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

void cbuf_put(cbuf_t *b, const void *data, size_t n)
{
    cbuf_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

void cbuf_putc(cbuf_t *b, char c)
{
    cbuf_reserve(b, 1);
    b->p[b->len++] = c;
}

void cbuf_puts(cbuf_t *b, const char *s)
{
    cbuf_put(b, s, strlen(s));
}

void cbuf_putsz(cbuf_t *b, const char *s)
{
    cbuf_put(b, s, strlen(s) + 1);
}

void cbuf_printf(cbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    cbuf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void cbuf_put_u32(cbuf_t *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
    cbuf_put(b, x, 4);
}

void cbuf_put_u16(cbuf_t *b, uint16_t v)
{
    unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    cbuf_put(b, x, 2);
}

const char *cbuf_str(cbuf_t *b)
{
    cbuf_reserve(b, 0);
    b->p[b->len] = 0;
    return b->p;
}

void cbuf_free(cbuf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
