/* alloc: malloc wrappers that abort with a message instead of returning NULL. */
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t len)
{
    fprintf(stderr, "pmilter: fatal: out of memory allocating %zu bytes\n", len);
    abort();
}

void *pm_malloc(size_t len)
{
    void *p = malloc(len ? len : 1);
    if (p == NULL)
        out_of_memory(len);
    return p;
}

void *pm_calloc(size_t n, size_t len)
{
    void *p = calloc(n ? n : 1, len ? len : 1);
    if (p == NULL)
        out_of_memory(n * len);
    return p;
}

void *pm_realloc(void *ptr, size_t len)
{
    void *p = realloc(ptr, len ? len : 1);
    if (p == NULL)
        out_of_memory(len);
    return p;
}

char *pm_strndup(const char *s, size_t len)
{
    char *p = pm_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *pm_strdup(const char *s)
{
    return pm_strndup(s, strlen(s));
}

void *pm_free(void *ptr)
{
    free(ptr);
    return NULL;
}
