/* kv_mem: the embedded key-value store. 64 shards, each a chained hash table
 * with its own mutex and its own LRU list, so sessions touching different keys
 * rarely wait for each other. Each shard keeps at most limit/64 bytes; a write
 * beyond that evicts the shard's least recently used keys (expired keys go
 * first: they sit anywhere, and are reclaimed when touched or evicted). A key
 * and value larger than a shard's share are refused.
 * TTLs run on CLOCK_MONOTONIC milliseconds.
 * Threads: any thread; every operation locks one shard.
 * Diagnostics: evictions are logged at notice, at most once a second. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "kv/kv.h"
#include "kv/kv_internal.h"

#define N_SHARDS 64
#define ENTRY_OVERHEAD 64 /* bytes charged per key besides its key and value */

typedef struct entry {
    struct entry *hnext;        /* hash chain */
    struct entry *older, *newer; /* shard's LRU list */
    uint64_t hash;
    long long expires; /* monotonic ms; 0: never */
    char *val;         /* owned, NUL-terminated, vcap bytes allocated */
    size_t vlen, vcap, klen;
    char key[]; /* klen bytes */
} entry_t;

typedef struct shard {
    pthread_mutex_t lock;
    entry_t **buckets;
    size_t n_buckets, n_keys;
    size_t bytes, limit;
    entry_t *oldest, *newest;
} shard_t;

struct pm_kv_mem {
    shard_t shard[N_SHARDS];
    atomic_ullong evicted;        /* keys evicted to stay under the limit */
    atomic_llong last_evict_log; /* ms of the last eviction notice */
};

long long pm_kv_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *pm_kv_decimal(long long n, char *buf)
{
    char text[24], *p = text + sizeof text;
    unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) > 0);
    if (n < 0)
        *--p = '-';
    size_t len = (size_t)(text + sizeof text - p);
    memcpy(buf, p, len);
    buf[len] = '\0';
    return buf;
}

/* FNV-1a, then a 64-bit finalizer (splitmix64's): FNV alone leaves the high
 * bits, which pick the shard, nearly equal for keys that differ only at the
 * end ("k1", "k2"), and all of them would share a few shards. */
static uint64_t hash_of(const char *key, size_t klen)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < klen; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static size_t entry_bytes(const entry_t *e)
{
    return ENTRY_OVERHEAD + e->klen + e->vlen;
}

static void lru_unlink(shard_t *s, entry_t *e)
{
    if (e->older)
        e->older->newer = e->newer;
    else
        s->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        s->newest = e->older;
    e->older = e->newer = NULL;
}

static void lru_push_newest(shard_t *s, entry_t *e)
{
    e->older = s->newest;
    e->newer = NULL;
    if (s->newest)
        s->newest->newer = e;
    else
        s->oldest = e;
    s->newest = e;
}

static entry_t **slot_of(shard_t *s, uint64_t h, const char *key, size_t klen)
{
    entry_t **p = &s->buckets[h % s->n_buckets];
    while (*p && !((*p)->hash == h && (*p)->klen == klen && memcmp((*p)->key, key, klen) == 0))
        p = &(*p)->hnext;
    return p;
}

static void remove_entry(shard_t *s, entry_t **slot)
{
    entry_t *e = *slot;
    *slot = e->hnext;
    lru_unlink(s, e);
    s->bytes -= entry_bytes(e);
    s->n_keys--;
    free(e->val);
    free(e);
}

/* The live entry for key (moved to the LRU's newest end), or NULL; an expired
 * one is removed on the way. */
static entry_t *lookup(shard_t *s, uint64_t h, const char *key, size_t klen, long long now)
{
    entry_t **slot = slot_of(s, h, key, klen);
    if (*slot == NULL)
        return NULL;
    if ((*slot)->expires && (*slot)->expires <= now) {
        remove_entry(s, slot);
        return NULL;
    }
    lru_unlink(s, *slot);
    lru_push_newest(s, *slot);
    return *slot;
}

static void grow(shard_t *s)
{
    size_t n = s->n_buckets * 2;
    entry_t **b = pm_calloc(n, sizeof *b);
    for (size_t i = 0; i < s->n_buckets; i++)
        for (entry_t *e = s->buckets[i], *next; e; e = next) {
            next = e->hnext;
            e->hnext = b[e->hash % n];
            b[e->hash % n] = e;
        }
    free(s->buckets);
    s->buckets = b;
    s->n_buckets = n;
}

/* Evicts oldest keys until the shard fits its limit, sparing keep. Returns the
 * number evicted. */
static unsigned evict(shard_t *s, const entry_t *keep)
{
    unsigned n = 0;
    while (s->bytes > s->limit && s->oldest && s->oldest != keep) {
        entry_t *e = s->oldest;
        remove_entry(s, slot_of(s, e->hash, e->key, e->klen));
        n++;
    }
    return n;
}

static void note_evictions(pm_kv_mem_t *m, unsigned n)
{
    if (n == 0)
        return;
    unsigned long long total = atomic_fetch_add(&m->evicted, n) + n;
    long long now = pm_kv_mono_ms(), last = atomic_load(&m->last_evict_log);
    if (now - last >= 1000 && atomic_compare_exchange_strong(&m->last_evict_log, &last, now))
        pm_notice("kv: memory_limit reached: evicted least recently used keys (%llu so far)", total);
}

static shard_t *shard_lock(pm_kv_mem_t *m, uint64_t h)
{
    shard_t *s = &m->shard[(h >> 32) % N_SHARDS];
    pthread_mutex_lock(&s->lock);
    return s;
}

/* Stores val under key (new or replacing), with expires (0: none). The caller
 * holds the shard's lock. */
static entry_t *store(shard_t *s, uint64_t h, const char *key, size_t klen, const char *val, size_t vlen,
                      long long expires)
{
    entry_t **slot = slot_of(s, h, key, klen);
    entry_t *e = *slot;
    if (e == NULL) {
        e = pm_calloc(1, sizeof *e + klen);
        e->hash = h;
        e->klen = klen;
        memcpy(e->key, key, klen);
        e->hnext = NULL;
        *slot = e;
        s->n_keys++;
        lru_push_newest(s, e);
    } else {
        s->bytes -= entry_bytes(e);
        lru_unlink(s, e);
        lru_push_newest(s, e);
    }
    if (e->val == NULL || e->vcap < vlen + 1 || e->vcap > 2 * (vlen + 1) + 32) {
        /* a counter's next value fits where the last one was: no malloc per incr */
        free(e->val);
        e->vcap = vlen + 1 < 24 ? 24 : vlen + 1;
        e->val = pm_malloc(e->vcap);
    }
    memcpy(e->val, val, vlen);
    e->val[vlen] = '\0';
    e->vlen = vlen;
    e->expires = expires;
    s->bytes += entry_bytes(e);
    if (s->n_keys > s->n_buckets)
        grow(s);
    return e;
}

static int mem_get(void *b, const char *key, size_t klen, char **val, size_t *vlen, char *err, size_t errlen)
{
    uint64_t h = hash_of(key, klen);
    shard_t *s = shard_lock(b, h);
    entry_t *e = lookup(s, h, key, klen, pm_kv_mono_ms());
    if (e) {
        *val = pm_strndup(e->val, e->vlen);
        *vlen = e->vlen;
    }
    pthread_mutex_unlock(&s->lock);
    return e != NULL;
}

static int mem_set(void *b, const char *key, size_t klen, const char *val, size_t vlen, long long ttl_ms,
                   int only_if_absent, char *err, size_t errlen)
{
    pm_kv_mem_t *m = b;
    uint64_t h = hash_of(key, klen);
    if (ENTRY_OVERHEAD + klen + vlen > m->shard[0].limit) {
        /* it would evict its whole shard and still not fit */
        snprintf(err, errlen, "%zu bytes do not fit in memory_limit (at most %zu per key)", klen + vlen,
                 m->shard[0].limit - ENTRY_OVERHEAD);
        return -1;
    }
    long long now = pm_kv_mono_ms();
    shard_t *s = shard_lock(m, h);
    int stored = 0;
    unsigned evicted = 0;
    if (!only_if_absent || lookup(s, h, key, klen, now) == NULL) {
        entry_t *e = store(s, h, key, klen, val, vlen, ttl_ms > 0 ? now + ttl_ms : 0);
        evicted = evict(s, e);
        stored = 1;
    }
    pthread_mutex_unlock(&s->lock);
    note_evictions(m, evicted);
    return stored;
}

/* A whole decimal integer in 64 bits, as Redis's INCRBY accepts it: "0",
 * or an optional '-' and 1 to 19 digits not starting with 0; nothing else. */
static int parse_integer(const char *s, size_t len, long long *out)
{
    size_t i = len > 0 && s[0] == '-';
    if (len == i || len - i > 19 || (s[i] == '0' && len != 1))
        return -1;
    unsigned long long v = 0, limit = i ? (unsigned long long)INT64_MAX + 1 : INT64_MAX;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = s[0] == '-' ? (long long)(0 - v) : (long long)v;
    return 0;
}

static int mem_incr(void *b, const char *key, size_t klen, long long by, long long ttl_ms, long long *out, char *err,
                    size_t errlen)
{
    pm_kv_mem_t *m = b;
    uint64_t h = hash_of(key, klen);
    long long now = pm_kv_mono_ms();
    shard_t *s = shard_lock(m, h);
    entry_t *e = lookup(s, h, key, klen, now);
    long long v = 0;
    int rc = 0;
    unsigned evicted = 0;
    if (e && parse_integer(e->val, e->vlen, &v) != 0) {
        snprintf(err, errlen, "value is not an integer");
        rc = -1;
    } else if ((by > 0 && v > INT64_MAX - by) || (by < 0 && v < INT64_MIN - by)) {
        snprintf(err, errlen, "increment would overflow");
        rc = -1;
    } else {
        char num[24];
        pm_kv_decimal(v + by, num);
        long long expires = e ? e->expires : ttl_ms > 0 ? now + ttl_ms : 0;
        evicted = evict(s, store(s, h, key, klen, num, strlen(num), expires));
        *out = v + by;
    }
    pthread_mutex_unlock(&s->lock);
    note_evictions(m, evicted);
    return rc;
}

static int mem_del(void *b, const char *key, size_t klen, char *err, size_t errlen)
{
    uint64_t h = hash_of(key, klen);
    shard_t *s = shard_lock(b, h);
    int found = lookup(s, h, key, klen, pm_kv_mono_ms()) != NULL;
    if (found)
        remove_entry(s, slot_of(s, h, key, klen));
    pthread_mutex_unlock(&s->lock);
    return found;
}

static int mem_ttl(void *b, const char *key, size_t klen, long long *ttl_ms, char *err, size_t errlen)
{
    uint64_t h = hash_of(key, klen);
    long long now = pm_kv_mono_ms();
    shard_t *s = shard_lock(b, h);
    entry_t *e = lookup(s, h, key, klen, now);
    int has = e && e->expires;
    if (has)
        *ttl_ms = e->expires - now;
    pthread_mutex_unlock(&s->lock);
    return has;
}

static int mem_expire(void *b, const char *key, size_t klen, long long ttl_ms, char *err, size_t errlen)
{
    uint64_t h = hash_of(key, klen);
    long long now = pm_kv_mono_ms();
    shard_t *s = shard_lock(b, h);
    entry_t *e = lookup(s, h, key, klen, now);
    if (e && ttl_ms <= 0) /* as Redis: a TTL that has passed deletes the key */
        remove_entry(s, slot_of(s, h, key, klen));
    else if (e)
        e->expires = now + ttl_ms;
    pthread_mutex_unlock(&s->lock);
    return e != NULL;
}

const pm_kv_ops_t pm_kv_mem_ops = {mem_get, mem_set, mem_incr, mem_del, mem_ttl, mem_expire, NULL /* mget: get per key */};

pm_kv_mem_t *pm_kv_mem_new(size_t limit)
{
    pm_kv_mem_t *m = pm_calloc(1, sizeof *m);
    for (int i = 0; i < N_SHARDS; i++) {
        shard_t *s = &m->shard[i];
        pthread_mutex_init(&s->lock, NULL);
        s->n_buckets = 16;
        s->buckets = pm_calloc(s->n_buckets, sizeof *s->buckets);
        s->limit = limit / N_SHARDS;
    }
    return m;
}

pm_kv_mem_t *pm_kv_mem_free(pm_kv_mem_t *m)
{
    if (m == NULL)
        return NULL;
    for (int i = 0; i < N_SHARDS; i++) {
        shard_t *s = &m->shard[i];
        while (s->oldest)
            remove_entry(s, slot_of(s, s->oldest->hash, s->oldest->key, s->oldest->klen));
        free(s->buckets);
        pthread_mutex_destroy(&s->lock);
    }
    free(m);
    return NULL;
}

void pm_kv_mem_foreach(pm_kv_mem_t *m,
                       void (*fn)(void *arg, const char *key, size_t klen, const char *val, size_t vlen, long long expires),
                       void *arg)
{
    long long now = pm_kv_mono_ms();
    for (int i = 0; i < N_SHARDS; i++) {
        shard_t *s = &m->shard[i];
        pthread_mutex_lock(&s->lock);
        for (entry_t *e = s->oldest; e; e = e->newer) /* oldest first: a load keeps the LRU order */
            if (!e->expires || e->expires > now)
                fn(arg, e->key, e->klen, e->val, e->vlen, e->expires);
        pthread_mutex_unlock(&s->lock);
    }
}

static size_t sum(pm_kv_mem_t *m, int keys)
{
    size_t n = 0;
    for (int i = 0; i < N_SHARDS; i++) {
        pthread_mutex_lock(&m->shard[i].lock);
        n += keys ? m->shard[i].n_keys : m->shard[i].bytes;
        pthread_mutex_unlock(&m->shard[i].lock);
    }
    return n;
}

size_t pm_kv_mem_bytes(pm_kv_mem_t *m)
{
    return sum(m, 0);
}

size_t pm_kv_mem_keys(pm_kv_mem_t *m)
{
    return sum(m, 1);
}

static pm_kv_mem_t *process_store; /* set once by main before any thread starts */

pm_kv_mem_t *pm_kv_process_store(void)
{
    return process_store;
}

void pm_kv_process_start(size_t limit)
{
    if (process_store == NULL)
        process_store = pm_kv_mem_new(limit);
}

void pm_kv_process_stop(void)
{
    process_store = pm_kv_mem_free(process_store);
}

static atomic_ullong stat_calls, stat_errors, stat_latency_us;

void pm_kv_stats_add(int failed, unsigned long long latency_us)
{
    atomic_fetch_add_explicit(&stat_calls, 1, memory_order_relaxed);
    if (failed)
        atomic_fetch_add_explicit(&stat_errors, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&stat_latency_us, latency_us, memory_order_relaxed);
}

pm_kv_stats_t pm_kv_stats(void)
{
    return (pm_kv_stats_t){atomic_load(&stat_calls), atomic_load(&stat_errors), atomic_load(&stat_latency_us),
                           process_store ? atomic_load(&process_store->evicted) : 0};
}
