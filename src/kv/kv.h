/* kv: the key-value store behind Pmilter::KV, as a plain C API (no mruby).
 * Two backends with the same operations and the same meaning:
 *   memory (kv_mem.c): one store per process, shared by every thread and VM,
 *     created at start and kept across reloads (DESIGN.md decision 9);
 *   redis (kv_redis.c): one hiredis connection per VM, used by the thread that
 *     holds the VM, so it needs no lock.
 * Keys and values are byte strings; incr keeps a decimal integer. TTLs are in
 * milliseconds; 0 means none. Every operation returns -1 with a message in err
 * when the backend failed (down, timeout, a value that is not an integer).
 * Counters (calls, errors, latency) are process-wide atomics, for metrics. */
#ifndef PM_KV_H
#define PM_KV_H
#include <stddef.h>

typedef struct pm_kv_ops {
    /* 1 found (*val is a NUL-terminated malloc'd copy, caller frees), 0 absent */
    int (*get)(void *b, const char *key, size_t klen, char **val, size_t *vlen, char *err, size_t errlen);
    /* 1 stored, 0 not stored because only_if_absent and the key exists */
    int (*set)(void *b, const char *key, size_t klen, const char *val, size_t vlen, long long ttl_ms,
               int only_if_absent, char *err, size_t errlen);
    /* 0 and the new value in *out; the TTL is set only when the key is created */
    int (*incr)(void *b, const char *key, size_t klen, long long by, long long ttl_ms, long long *out, char *err,
                size_t errlen);
    /* 1 deleted, 0 absent */
    int (*del)(void *b, const char *key, size_t klen, char *err, size_t errlen);
    /* 1 and the milliseconds left in *ttl_ms; 0 absent or without a TTL */
    int (*ttl)(void *b, const char *key, size_t klen, long long *ttl_ms, char *err, size_t errlen);
    /* 1 TTL set, 0 absent */
    int (*expire)(void *b, const char *key, size_t klen, long long ttl_ms, char *err, size_t errlen);
    /* 0 and n values at once: vals[i] as get's *val, NULL when absent. NULL
     * op: the caller gets the keys one by one (the memory store, no round trips). */
    int (*mget)(void *b, size_t n, const char *const *keys, const size_t *klens, char **vals, size_t *vlens,
                char *err, size_t errlen);
} pm_kv_ops_t;

/* ---- memory backend ---- */
typedef struct pm_kv_mem pm_kv_mem_t;
extern const pm_kv_ops_t pm_kv_mem_ops;
/* A store that keeps at most limit bytes (keys, values and overhead); beyond,
 * the least recently used keys are evicted (logged at notice). */
pm_kv_mem_t *pm_kv_mem_new(size_t limit);
pm_kv_mem_t *pm_kv_mem_free(pm_kv_mem_t *m);
size_t pm_kv_mem_bytes(pm_kv_mem_t *m); /* bytes held now */
size_t pm_kv_mem_keys(pm_kv_mem_t *m);  /* keys held now, expired ones not yet reclaimed included */
/* The process-wide store: created once by main (pm_kv_process_start), never
 * replaced by a reload. NULL before. */
pm_kv_mem_t *pm_kv_process_store(void);
void pm_kv_process_start(size_t limit);
void pm_kv_process_stop(void);
/* [kv] persist: snapshot to path and load it back (kv_persist.c). */
int pm_kv_mem_save(pm_kv_mem_t *m, const char *path, char *err, size_t errlen);
/* Loads path into m (absent: 0 keys, no error). A corrupt file is moved to
 * path.corrupt and -1 returned with what was loaded before the damage kept. */
int pm_kv_mem_load(pm_kv_mem_t *m, const char *path, size_t *loaded, char *err, size_t errlen);
/* Loads the process store from path (logging the outcome), then saves it
 * every interval seconds (0: only at stop) in a thread of its own. */
void pm_kv_persist_start(const char *path, int interval);
/* Stops the saver thread and writes the last snapshot. Sessions may still
 * be writing: what they write after it is lost, as after any stop. */
void pm_kv_persist_stop(void);

/* ---- redis backend ---- */
typedef struct pm_kv_redis pm_kv_redis_t;
extern const pm_kv_ops_t pm_kv_redis_ops;
/* Nothing is connected yet: the first operation connects. url is
 * "redis://[:password@]host[:port][/db]" or "unix:/path[?db=N]"; password may
 * be NULL. After a failure the connection is dropped and the next attempt
 * waits a backoff (100 ms doubling to 2 s); operations meanwhile fail at once. */
pm_kv_redis_t *pm_kv_redis_new(const char *url, const char *password, int timeout_ms);
pm_kv_redis_t *pm_kv_redis_free(pm_kv_redis_t *r);

/* ---- counters ---- */
typedef struct pm_kv_stats {
    unsigned long long calls, errors, latency_us; /* latency_us: total over all calls */
    unsigned long long evicted;                   /* keys the memory backend evicted for memory_limit */
} pm_kv_stats_t;
void pm_kv_stats_add(int failed, unsigned long long latency_us);
pm_kv_stats_t pm_kv_stats(void);

#endif
