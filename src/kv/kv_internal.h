/* kv_internal: what kv_persist.c and kv_redis.c share with kv_mem.c; not for
 * other layers. Threads: any. */
#ifndef PM_KV_INTERNAL_H
#define PM_KV_INTERNAL_H
#include <stddef.h>

#include "kv/kv.h"

/* CLOCK_MONOTONIC milliseconds, the clock of the store's expiry times. */
long long pm_kv_mono_ms(void);
/* n as NUL-terminated decimal text in buf (24 bytes), returned: snprintf
 * cost a third of an incr, more than encoding a whole Redis command. */
const char *pm_kv_decimal(long long n, char *buf);
/* Calls fn for every live key, one shard locked at a time; expires is
 * monotonic ms (0: none). fn must not call back into the store. */
void pm_kv_mem_foreach(pm_kv_mem_t *m,
                       void (*fn)(void *arg, const char *key, size_t klen, const char *val, size_t vlen, long long expires),
                       void *arg);
#endif
