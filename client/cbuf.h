/*++
 * cbuf - growable byte buffer and never-failing allocation for pmilter-client
 *
 * A cbuf_t owns its bytes; cbuf_free() releases them. Every allocation goes through
 * xmalloc/xrealloc, which print a message and abort when memory runs out, so callers
 * need no NULL checks (Postfix mymalloc style). Not shared between threads.
 *--*/
#ifndef PMC_CBUF_H
#define PMC_CBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *p;    /* owned; NUL kept after len when space allows */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
} cbuf_t;

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

void cbuf_reserve(cbuf_t *b, size_t more);
void cbuf_put(cbuf_t *b, const void *data, size_t n);
void cbuf_putc(cbuf_t *b, char c);
void cbuf_puts(cbuf_t *b, const char *s);
void cbuf_printf(cbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s and its terminating NUL (milter string encoding). */
void cbuf_putsz(cbuf_t *b, const char *s);
void cbuf_put_u32(cbuf_t *b, uint32_t v);
void cbuf_put_u16(cbuf_t *b, uint16_t v);
/* Makes p a NUL-terminated C string (the NUL is not counted in len). */
const char *cbuf_str(cbuf_t *b);
void cbuf_free(cbuf_t *b);

#endif
