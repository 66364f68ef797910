/* kv_persist: snapshots of the memory store ([kv] persist), so a restart
 * does not reset greylisting. A snapshot is written to PATH.tmp and renamed
 * over PATH, so a crash mid-write leaves the previous one. Expiry times are
 * saved as wall-clock milliseconds; keys that expired while pmilter was down
 * are skipped at load. A snapshot that cannot be read is moved to
 * PATH.corrupt (kept for the operator) and the store starts empty.
 * Threads: main loads before serving; the saver thread (and main at stop)
 * save; each shard is locked while it is written.
 * Diagnostics: returned in err; the caller logs. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "kv/kv.h"
#include "kv/kv_internal.h"

static const char MAGIC[8] = "PMKV\0\0\0\1";

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct {
    FILE *f;
    long long now_mono, now_wall;
    int failed;
} writer_t;

/* One record: u32 klen, u32 vlen, i64 wall-clock expiry (0: none), key, value. */
static void write_entry(void *arg, const char *key, size_t klen, const char *val, size_t vlen, long long expires)
{
    writer_t *w = arg;
    uint32_t kl = (uint32_t)klen, vl = (uint32_t)vlen;
    int64_t exp = expires ? expires - w->now_mono + w->now_wall : 0;
    if (fwrite(&kl, sizeof kl, 1, w->f) != 1 || fwrite(&vl, sizeof vl, 1, w->f) != 1 ||
        fwrite(&exp, sizeof exp, 1, w->f) != 1 || fwrite(key, 1, klen, w->f) != klen || fwrite(val, 1, vlen, w->f) != vlen)
        w->failed = 1;
}

int pm_kv_mem_save(pm_kv_mem_t *m, const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    writer_t w = {fopen(tmp, "w"), pm_kv_mono_ms(), wall_ms(), 0};
    if (w.f == NULL) {
        snprintf(err, errlen, "kv persist: cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    w.failed = fwrite(MAGIC, sizeof MAGIC, 1, w.f) != 1;
    pm_kv_mem_foreach(m, write_entry, &w);
    if (fflush(w.f) != 0 || fsync(fileno(w.f)) != 0)
        w.failed = 1;
    if (fclose(w.f) != 0 || w.failed || rename(tmp, path) != 0) {
        snprintf(err, errlen, "kv persist: cannot write %s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Reads n bytes or fails. */
static int read_all(FILE *f, void *buf, size_t n)
{
    return n == 0 || fread(buf, 1, n, f) == n ? 0 : -1;
}

int pm_kv_mem_load(pm_kv_mem_t *m, const char *path, size_t *loaded, char *err, size_t errlen)
{
    *loaded = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0; /* the first start */
        snprintf(err, errlen, "kv persist: cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char magic[sizeof MAGIC];
    int bad = read_all(f, magic, sizeof magic) != 0 || memcmp(magic, MAGIC, sizeof MAGIC) != 0;
    long long now_wall = wall_ms();
    char *key = NULL, *val = NULL;
    while (!bad) {
        uint32_t kl, vl;
        int64_t exp;
        if (fread(&kl, sizeof kl, 1, f) != 1)
            break; /* the end */
        /* a damaged length must not make us allocate more than 256 MiB */
        if (read_all(f, &vl, sizeof vl) || read_all(f, &exp, sizeof exp) || kl > (1u << 28) || vl > (1u << 28)) {
            bad = 1;
            break;
        }
        key = pm_realloc(key, kl + 1);
        val = pm_realloc(val, vl + 1);
        if (read_all(f, key, kl) || read_all(f, val, vl)) {
            bad = 1;
            break;
        }
        if (exp && exp <= now_wall)
            continue; /* expired while pmilter was down */
        char e[64];
        pm_kv_mem_ops.set(m, key, kl, val, vl, exp ? exp - now_wall : 0, 0, e, sizeof e);
        (*loaded)++;
    }
    free(key);
    free(val);
    fclose(f);
    if (bad) {
        char aside[4096];
        snprintf(aside, sizeof aside, "%s.corrupt", path);
        rename(path, aside);
        snprintf(err, errlen, "kv persist: %s is not a pmilter snapshot or is cut short; moved to %s, %zu keys loaded",
                 path, aside, *loaded);
        return -1;
    }
    return 0;
}

static struct {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int running, stop;
    char *path;
    int interval; /* seconds */
} saver = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void save_logged(void)
{
    char err[512];
    if (pm_kv_mem_save(pm_kv_process_store(), saver.path, err, sizeof err) != 0)
        pm_warn("%s", err);
}

static void *saver_main(void *arg)
{
    pthread_mutex_lock(&saver.lock);
    while (!saver.stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += saver.interval;
        if (pthread_cond_timedwait(&saver.wake, &saver.lock, &until) == ETIMEDOUT && !saver.stop) {
            pthread_mutex_unlock(&saver.lock);
            save_logged();
            pthread_mutex_lock(&saver.lock);
        }
    }
    pthread_mutex_unlock(&saver.lock);
    return NULL;
}

void pm_kv_persist_start(const char *path, int interval)
{
    char err[512];
    size_t loaded = 0;
    saver.path = pm_strdup(path);
    saver.interval = interval;
    if (pm_kv_mem_load(pm_kv_process_store(), path, &loaded, err, sizeof err) != 0)
        pm_warn("%s", err);
    else
        pm_notice("kv persist: %zu keys loaded from %s", loaded, path);
    if (interval > 0 && pthread_create(&saver.thread, NULL, saver_main, NULL) == 0)
        saver.running = 1;
}

void pm_kv_persist_stop(void)
{
    if (saver.path == NULL)
        return;
    if (saver.running) {
        pthread_mutex_lock(&saver.lock);
        saver.stop = 1;
        pthread_cond_signal(&saver.wake);
        pthread_mutex_unlock(&saver.lock);
        pthread_join(saver.thread, NULL);
        saver.running = 0;
    }
    save_logged(); /* the last word: what the store held at stop */
    saver.path = pm_free(saver.path);
}
