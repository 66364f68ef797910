/* Unit tests for src/kv/kv_mem.c from C, without mruby: the operations, TTL
 * expiry, the byte bound with LRU eviction, atomic incr and add from many
 * threads; then it prints how many incr/s 1, 8 and 32 threads get on one key
 * (all on one shard lock) and on their own keys (spread over the shards). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "kv/kv.h"
#include "../unit/unit.h"

static pm_kv_mem_t *m;
static char err[256];

static int set(const char *k, const char *v, long long ttl, int nx)
{
    return pm_kv_mem_ops.set(m, k, strlen(k), v, strlen(v), ttl, nx, err, sizeof err);
}

/* The value of k, or "(absent)"; static buffer. */
static const char *get(const char *k)
{
    static char out[64];
    char *v;
    size_t len;
    if (pm_kv_mem_ops.get(m, k, strlen(k), &v, &len, err, sizeof err) != 1)
        return "(absent)";
    snprintf(out, sizeof out, "%s", v);
    free(v);
    return out;
}

static long long incr(const char *k, long long by, long long ttl)
{
    long long n = -999;
    if (pm_kv_mem_ops.incr(m, k, strlen(k), by, ttl, &n, err, sizeof err) != 0)
        return -999;
    return n;
}

static void test_operations(void)
{
    CHECK("kv_mem: set stores", set("a", "1", 0, 0) == 1);
    CHECK_STR("kv_mem: get reads it back", get("a"), "1");
    CHECK("kv_mem: add of an existing key stores nothing", set("a", "2", 0, 1) == 0);
    CHECK_STR("kv_mem: ... and the value stays", get("a"), "1");
    CHECK("kv_mem: incr counts on", incr("a", 5, 0) == 6);
    CHECK("kv_mem: incr of text fails", set("t", "x", 0, 0) == 1 && incr("t", 1, 0) == -999);
    CHECK("kv_mem: incr near INT64_MAX fails instead of wrapping",
          set("big", "9223372036854775800", 0, 0) == 1 && incr("big", 100, 0) == -999);
    CHECK("kv_mem: incr to INT64_MIN and back", set("lo", "-9223372036854775807", 0, 0) == 1 &&
                                                   incr("lo", -1, 0) == INT64_MIN && incr("lo", -1, 0) == -999);
    CHECK_STR("kv_mem: ... stored in decimal", get("lo"), "-9223372036854775808");
    CHECK("kv_mem: incr from -9223372036854775808 up", incr("lo", INT64_MAX, 0) == -1 && incr("lo", 1, 0) == 0);
    static const char *const not_integers[] = {"", "-", "+5", " 5", "5 ", "1e3", "0x10", "12a", "--1",
                                               "99999999999999999999", "9223372036854775808", "007", "-0", "00"};
    for (size_t i = 0; i < sizeof not_integers / sizeof *not_integers; i++) {
        char name[64];
        snprintf(name, sizeof name, "kv_mem: incr of \"%s\" fails as Redis's does", not_integers[i]);
        CHECK(name, set("ni", not_integers[i], 0, 0) == 1 && incr("ni", 1, 0) == -999);
    }
    CHECK("kv_mem: \"0\" and \"-7\" are integers", set("z", "0", 0, 0) == 1 && incr("z", 1, 0) == 1 &&
                                                          set("z", "-7", 0, 0) == 1 && incr("z", 1, 0) == -6);
    /* a counter's value is rewritten where it is while it fits: digits grow and shrink */
    long long c = 0;
    for (int i = 0; i < 1005; i++)
        c = incr("grow", 1, 0);
    CHECK_STR("kv_mem: a counter grows from 1 to 1005 digit by digit", get("grow"), "1005");
    CHECK("kv_mem: ... and shrinks to -5", c == 1005 && incr("grow", -1010, 0) == -5);
    CHECK_STR("kv_mem: ... read back", get("grow"), "-5");
    CHECK("kv_mem: a long value then a short one", set("grow", "a long value of forty-odd bytes, xxxxxxxxxxxxxxxx", 0, 0) == 1 &&
                                                      set("grow", "7", 0, 0) == 1 && incr("grow", 1, 0) == 8);
    CHECK_STR("kv_mem: ... read back", get("grow"), "8");
    long long ms = 0;
    CHECK("kv_mem: incr of a new key sets its TTL", incr("n", 1, 5000) == 1 &&
                                                      pm_kv_mem_ops.ttl(m, "n", 1, &ms, err, sizeof err) == 1 &&
                                                      ms > 4000 && ms <= 5000);
    CHECK("kv_mem: delete removes once", pm_kv_mem_ops.del(m, "a", 1, err, sizeof err) == 1 &&
                                             pm_kv_mem_ops.del(m, "a", 1, err, sizeof err) == 0);
    CHECK("kv_mem: expire of an absent key is false", pm_kv_mem_ops.expire(m, "a", 1, 100, err, sizeof err) == 0);
    set("e", "1", 50, 0);
    usleep(80 * 1000);
    CHECK_STR("kv_mem: a key is gone after its TTL", get("e"), "(absent)");
    CHECK("kv_mem: add succeeds on an expired key", set("e", "2", 0, 1) == 1);
}

static void test_lru(void)
{
    pm_kv_mem_t *big = m;
    m = pm_kv_mem_new(64 * 16 * 1024); /* 16 KiB per shard */
    char key[32], val[1001];
    memset(val, 'v', 1000);
    val[1000] = '\0';
    for (int i = 0; i < 4000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        set(key, val, 0, 0);
    }
    CHECK("kv_mem: the byte bound holds", pm_kv_mem_bytes(m) <= 64 * 16 * 1024);
    CHECK("kv_mem: most of the bound is used", pm_kv_mem_bytes(m) > 64 * 16 * 1024 / 2);
    CHECK("kv_mem: the newest key is kept", strcmp(get("k3999"), "(absent)") != 0);
    CHECK_STR("kv_mem: the oldest key is evicted", get("k0"), "(absent)");
    char *huge = calloc(1, 20000);
    memset(huge, 'h', 19999);
    CHECK("kv_mem: a value larger than a shard's share is refused", set("huge", huge, 0, 0) == -1 && strstr(err, "memory_limit"));
    free(huge);
    m = pm_kv_mem_free(m);
    m = big;
}

enum { OPS = 20000 };
static int same_key; /* 1: every thread on "hot"; 0: each on its own keys */

static void *worker(void *arg)
{
    long id = (long)arg;
    char key[32];
    for (int i = 0; i < OPS; i++) {
        if (same_key)
            snprintf(key, sizeof key, "hot");
        else
            snprintf(key, sizeof key, "t%ld-%d", id, i % 64);
        long long n;
        pm_kv_mem_ops.incr(m, key, strlen(key), 1, 0, &n, err, sizeof err);
    }
    return NULL;
}

static double run_threads(int n)
{
    pthread_t t[32];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)n * OPS / ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
}

static void *adder(void *arg)
{
    return (void *)(long)set("once", "x", 0, 1);
}

static void test_threads(void)
{
    same_key = 1;
    run_threads(32);
    CHECK_STR("kv_mem: 32 threads x 20000 incr on one key: exactly 640000", get("hot"), "640000");
    pthread_t t[8];
    long stored = 0;
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, adder, NULL);
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        stored += (long)r;
    }
    CHECK("kv_mem: add from 8 threads at once: exactly one stores", stored == 1);
    for (int threads = 1; threads <= 32; threads = threads == 1 ? 8 : threads * 4) {
        for (same_key = 1; same_key >= 0; same_key--) {
            pm_kv_mem_ops.del(m, "hot", 3, err, sizeof err);
            printf("# %2d threads, %-9s %10.0f incr/s\n", threads, same_key ? "one key" : "own keys", run_threads(threads));
        }
    }
}

int main(void)
{
    m = pm_kv_mem_new((size_t)64 << 20);
    test_operations();
    test_lru();
    test_threads();
    m = pm_kv_mem_free(m);
    return unit_failures ? 1 : 0;
}
