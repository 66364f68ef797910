/* kv_redis: the Redis backend, over one hiredis connection. A connection
 * belongs to one VM and is used only by the thread that holds that VM, so it
 * needs no lock. It connects on first use; any error (refused, reset, a reply
 * not read within timeout_ms) drops it, since a late reply would answer the
 * next command, and the next connect waits a backoff that doubles from
 * 100 ms to 2 s. add is SET NX PX; incr with a TTL is one Lua script, so the
 * key and its TTL are created together.
 * Diagnostics: errors are returned in err for the caller to raise. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "kv/kv.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

struct pm_kv_redis {
    char *host;     /* NULL for a unix socket */
    char *path;     /* unix socket; NULL for TCP */
    int port, db;
    char *password; /* NULL: no AUTH */
    int timeout_ms;
    redisContext *c;      /* NULL: not connected */
    long long retry_at;   /* monotonic ms before which no connect is tried */
    int backoff_ms;       /* next wait after a failure */
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "redis://[:password@]host[:port][/db]" or "unix:/path[?db=N]". */
static void parse_url(pm_kv_redis_t *r, const char *url)
{
    r->port = 6379;
    if (strncmp(url, "unix:", 5) == 0) {
        const char *q = strchr(url + 5, '?');
        r->path = q ? pm_strndup(url + 5, (size_t)(q - url - 5)) : pm_strdup(url + 5);
        if (q && strncmp(q, "?db=", 4) == 0)
            r->db = atoi(q + 4);
        return;
    }
    const char *p = strncmp(url, "redis://", 8) == 0 ? url + 8 : url;
    const char *at = strchr(p, '@');
    if (at) {
        const char *pw = memchr(p, ':', (size_t)(at - p));
        if (pw && r->password == NULL)
            r->password = pm_strndup(pw + 1, (size_t)(at - pw - 1));
        p = at + 1;
    }
    size_t hlen = strcspn(p, ":/");
    r->host = pm_strndup(p, hlen);
    p += hlen;
    if (*p == ':')
        r->port = (int)strtol(p + 1, (char **)&p, 10);
    if (*p == '/')
        r->db = atoi(p + 1);
}

pm_kv_redis_t *pm_kv_redis_new(const char *url, const char *password, int timeout_ms)
{
    pm_kv_redis_t *r = pm_calloc(1, sizeof *r);
    r->password = password && *password ? pm_strdup(password) : NULL;
    parse_url(r, url);
    r->timeout_ms = timeout_ms;
    r->backoff_ms = BACKOFF_MIN_MS;
    return r;
}

static void drop(pm_kv_redis_t *r)
{
    if (r->c)
        redisFree(r->c);
    r->c = NULL;
    r->retry_at = now_ms() + r->backoff_ms;
    r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
}

pm_kv_redis_t *pm_kv_redis_free(pm_kv_redis_t *r)
{
    if (r == NULL)
        return NULL;
    if (r->c)
        redisFree(r->c);
    free(r->host);
    free(r->path);
    free(r->password);
    free(r);
    return NULL;
}

static const char *where(const pm_kv_redis_t *r, char *buf, size_t len)
{
    if (r->path)
        snprintf(buf, len, "unix:%s", r->path);
    else
        snprintf(buf, len, "%s:%d", r->host, r->port);
    return buf;
}

/* Sends a command given as argv and returns its reply, or NULL with err set
 * (the connection is then dropped). A Redis error reply is returned as NULL too. */
static redisReply *command(pm_kv_redis_t *r, int argc, const char **argv, const size_t *lens, char *err, size_t errlen);

static int connect_now(pm_kv_redis_t *r, char *err, size_t errlen)
{
    char at[256];
    long long now = now_ms();
    if (now < r->retry_at) {
        snprintf(err, errlen, "redis %s is down (next try in %lld ms)", where(r, at, sizeof at), r->retry_at - now);
        return -1;
    }
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    r->c = r->path ? redisConnectUnixWithTimeout(r->path, tv) : redisConnectWithTimeout(r->host, r->port, tv);
    if (r->c == NULL || r->c->err) {
        snprintf(err, errlen, "redis %s: %s", where(r, at, sizeof at), r->c ? r->c->errstr : "out of memory");
        drop(r);
        return -1;
    }
    redisSetTimeout(r->c, tv);
    char db[16];
    snprintf(db, sizeof db, "%d", r->db);
    const char *auth[] = {"AUTH", r->password}, *select[] = {"SELECT", db};
    redisReply *rep;
    if (r->password) {
        if ((rep = command(r, 2, auth, NULL, err, errlen)) == NULL) {
            drop(r); /* never keep a connection that is not logged in */
            return -1;
        }
        freeReplyObject(rep);
    }
    if (r->db) {
        if ((rep = command(r, 2, select, NULL, err, errlen)) == NULL) {
            drop(r);
            return -1;
        }
        freeReplyObject(rep);
    }
    r->backoff_ms = BACKOFF_MIN_MS;
    return 0;
}

static redisReply *command(pm_kv_redis_t *r, int argc, const char **argv, const size_t *lens, char *err, size_t errlen)
{
    char at[256];
    if (r->c == NULL && connect_now(r, err, errlen) != 0)
        return NULL;
    redisReply *rep = redisCommandArgv(r->c, argc, argv, lens);
    if (rep == NULL) {
        int timeout = r->c->err == REDIS_ERR_IO && strstr(r->c->errstr, "temporarily unavailable");
        snprintf(err, errlen, "redis %s: %s", where(r, at, sizeof at),
                 timeout ? "timeout" : r->c->errstr[0] ? r->c->errstr : "connection lost");
        if (timeout)
            snprintf(err, errlen, "redis %s: no reply within timeout_ms (%d)", where(r, at, sizeof at), r->timeout_ms);
        drop(r);
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "redis: %s", rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

static int redis_get(void *b, const char *key, size_t klen, char **val, size_t *vlen, char *err, size_t errlen)
{
    const char *argv[] = {"GET", key};
    size_t lens[] = {3, klen};
    redisReply *rep = command(b, 2, argv, lens, err, errlen);
    if (rep == NULL)
        return -1;
    int found = rep->type == REDIS_REPLY_STRING;
    if (found) {
        *val = pm_strndup(rep->str, rep->len);
        *vlen = rep->len;
    }
    freeReplyObject(rep);
    return found;
}

static int redis_set(void *b, const char *key, size_t klen, const char *val, size_t vlen, long long ttl_ms,
                     int only_if_absent, char *err, size_t errlen)
{
    char ms[24];
    snprintf(ms, sizeof ms, "%lld", ttl_ms);
    const char *argv[6] = {"SET", key, val};
    size_t lens[6] = {3, klen, vlen};
    int argc = 3;
    if (ttl_ms > 0) {
        argv[argc] = "PX", lens[argc++] = 2;
        argv[argc] = ms, lens[argc++] = strlen(ms);
    }
    if (only_if_absent)
        argv[argc] = "NX", lens[argc++] = 2;
    redisReply *rep = command(b, argc, argv, lens, err, errlen);
    if (rep == NULL)
        return -1;
    int stored = rep->type == REDIS_REPLY_STATUS; /* "OK"; NX on an existing key gives nil */
    freeReplyObject(rep);
    return stored;
}

/* INCRBY, and the TTL only when this call created the key. */
static const char incr_script[] = "local created = redis.call('EXISTS', KEYS[1]) == 0\n"
                                  "local n = redis.call('INCRBY', KEYS[1], ARGV[1])\n"
                                  "if created and tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n"
                                  "return n\n";

static int redis_incr(void *b, const char *key, size_t klen, long long by, long long ttl_ms, long long *out, char *err,
                      size_t errlen)
{
    char sby[24], sms[24];
    snprintf(sby, sizeof sby, "%lld", by);
    snprintf(sms, sizeof sms, "%lld", ttl_ms);
    const char *argv[] = {"EVAL", incr_script, "1", key, sby, sms};
    size_t lens[] = {4, sizeof incr_script - 1, 1, klen, strlen(sby), strlen(sms)};
    redisReply *rep = command(b, 6, argv, lens, err, errlen);
    if (rep == NULL)
        return -1;
    *out = rep->integer;
    freeReplyObject(rep);
    return 0;
}

/* Commands whose reply is an integer: DEL, PTTL, PEXPIRE. */
static int integer_command(void *b, int argc, const char **argv, const size_t *lens, long long *out, char *err,
                           size_t errlen)
{
    redisReply *rep = command(b, argc, argv, lens, err, errlen);
    if (rep == NULL)
        return -1;
    *out = rep->integer;
    freeReplyObject(rep);
    return 0;
}

static int redis_del(void *b, const char *key, size_t klen, char *err, size_t errlen)
{
    const char *argv[] = {"DEL", key};
    size_t lens[] = {3, klen};
    long long n;
    return integer_command(b, 2, argv, lens, &n, err, errlen) ? -1 : n > 0;
}

static int redis_ttl(void *b, const char *key, size_t klen, long long *ttl_ms, char *err, size_t errlen)
{
    const char *argv[] = {"PTTL", key};
    size_t lens[] = {4, klen};
    long long n;
    if (integer_command(b, 2, argv, lens, &n, err, errlen))
        return -1;
    if (n < 0) /* -2 absent, -1 no TTL */
        return 0;
    *ttl_ms = n;
    return 1;
}

static int redis_expire(void *b, const char *key, size_t klen, long long ttl_ms, char *err, size_t errlen)
{
    char ms[24];
    snprintf(ms, sizeof ms, "%lld", ttl_ms);
    const char *argv[] = {"PEXPIRE", key, ms};
    size_t lens[] = {7, klen, strlen(ms)};
    long long n;
    return integer_command(b, 3, argv, lens, &n, err, errlen) ? -1 : n > 0;
}

const pm_kv_ops_t pm_kv_redis_ops = {redis_get, redis_set, redis_incr, redis_del, redis_ttl, redis_expire};
