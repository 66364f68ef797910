/* alloc: allocation that never returns NULL (Postfix mymalloc style).
 * Out of memory is an environment failure: log and abort, so callers need
 * no NULL checks.
 * Threads: any (thin wrappers over malloc). */
#ifndef PM_ALLOC_H
#define PM_ALLOC_H
#include <stddef.h>

void *pm_malloc(size_t len);
void *pm_calloc(size_t n, size_t len);
void *pm_realloc(void *ptr, size_t len);
char *pm_strdup(const char *s);
char *pm_strndup(const char *s, size_t len);
/* Frees ptr and returns NULL, so `p = pm_free(p)` leaves nothing dangling. */
void *pm_free(void *ptr);

#endif
