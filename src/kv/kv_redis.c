/* kv_redis: the Redis backend, over one hiredis connection. A connection
 * belongs to one VM and is used only by the thread that holds that VM, so it
 * needs no lock. It connects on first use; any error (refused, reset, a reply
 * not read within timeout_ms) drops it, since a late reply would answer the
 * next command, and the next connect waits a backoff that doubles from
 * 100 ms to 2 s. add is SET NX PX; incr with a TTL is SET NX PX + INCRBY in
 * one MULTI/EXEC, so the key and its TTL are created together; mget is one
 * MGET. Every call is one round trip: its commands go out in one write.
 * Commands are encoded here (RESP, below) and handed to hiredis ready-made;
 * hiredis parses the replies.
 * Diagnostics: errors are returned in err for the caller to raise. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "kv/kv.h"
#include "kv/kv_internal.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

#define MAX_ENDPOINTS 8

typedef struct endpoint {
    char *host;     /* NULL for a unix socket */
    char *path;     /* unix socket; NULL for TCP */
    int port, db;
    char *password; /* NULL: no AUTH */
} endpoint_t;

struct pm_kv_redis {
    endpoint_t ep[MAX_ENDPOINTS]; /* url's comma-separated list, tried in order */
    int n_ep, current;            /* current: the one connected or tried next */
    int timeout_ms;
    redisContext *c;      /* NULL: not connected */
    long long retry_at;   /* monotonic ms before which no connect is tried */
    int backoff_ms;       /* next wait after a failure */
};

/* One URL, "redis://[:password@]host[:port][/db]" or "unix:/path[?db=N]",
 * len bytes of it. */
static void parse_url(endpoint_t *e, const char *url, size_t len, const char *password)
{
    char *u = pm_strndup(url, len), *p = u;
    e->port = 6379;
    e->password = password && *password ? pm_strdup(password) : NULL;
    if (strncmp(p, "unix:", 5) == 0) {
        char *q = strchr(p + 5, '?');
        if (q && strncmp(q, "?db=", 4) == 0)
            e->db = atoi(q + 4);
        if (q)
            *q = '\0';
        e->path = pm_strdup(p + 5);
        free(u);
        return;
    }
    if (strncmp(p, "redis://", 8) == 0)
        p += 8;
    char *at = strchr(p, '@');
    if (at) {
        char *pw = memchr(p, ':', (size_t)(at - p));
        if (pw && e->password == NULL)
            e->password = pm_strndup(pw + 1, (size_t)(at - pw - 1));
        p = at + 1;
    }
    size_t hlen = strcspn(p, ":/");
    e->host = pm_strndup(p, hlen);
    p += hlen;
    if (*p == ':')
        e->port = (int)strtol(p + 1, &p, 10);
    if (*p == '/')
        e->db = atoi(p + 1);
    free(u);
}

pm_kv_redis_t *pm_kv_redis_new(const char *url, const char *password, int timeout_ms)
{
    pm_kv_redis_t *r = pm_calloc(1, sizeof *r);
    for (const char *p = url; *p && r->n_ep < MAX_ENDPOINTS;) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len > 0)
            parse_url(&r->ep[r->n_ep++], p, len, password);
        p += strcspn(p, ",");
    }
    if (r->n_ep == 0)
        parse_url(&r->ep[r->n_ep++], "redis://127.0.0.1:6379/0", 24, password);
    r->timeout_ms = timeout_ms;
    r->backoff_ms = BACKOFF_MIN_MS;
    return r;
}

static void drop(pm_kv_redis_t *r)
{
    if (r->c)
        redisFree(r->c);
    r->c = NULL;
    r->retry_at = pm_kv_mono_ms() + r->backoff_ms;
    r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
}

pm_kv_redis_t *pm_kv_redis_free(pm_kv_redis_t *r)
{
    if (r == NULL)
        return NULL;
    if (r->c)
        redisFree(r->c);
    for (int i = 0; i < r->n_ep; i++) {
        free(r->ep[i].host);
        free(r->ep[i].path);
        free(r->ep[i].password);
    }
    free(r);
    return NULL;
}

static const char *where(const pm_kv_redis_t *r, char *buf, size_t len)
{
    const endpoint_t *e = &r->ep[r->current];
    if (e->path)
        snprintf(buf, len, "unix:%s", e->path);
    else
        snprintf(buf, len, "%s:%d", e->host, e->port);
    return buf;
}

/* ---- RESP encoding: a command is an array of bulk strings,
 * "*<argc>\r\n" then "$<len>\r\n<bytes>\r\n" per argument. hiredis 0.14's
 * own formatters (redisFormatCommandArgv, redisAppendCommandArgv) cost 4000
 * to 6000 instructions per command through sprintf and sdscatfmt (measured
 * with callgrind): more than the rest of a rate-limit call. */

/* A growing buffer of encoded commands. */
typedef struct {
    char *data; /* owned; freed by send_encoded */
    size_t len, cap;
} resp_t;

/* Room for more bytes at the end. */
static char *room(resp_t *q, size_t more)
{
    if (q->len + more > q->cap) {
        q->cap = q->len + more < 256 ? 512 : (q->len + more) * 2; /* an incr with a TTL fits the first */
        q->data = pm_realloc(q->data, q->cap);
    }
    return q->data + q->len;
}

/* Appends prefix (one of "*$") and n in decimal, then CRLF. */
static void put_count(resp_t *q, char prefix, unsigned long long n)
{
    char text[24], *p = text + sizeof text;
    *--p = '\n';
    *--p = '\r';
    do
        *--p = (char)('0' + n % 10);
    while ((n /= 10) > 0);
    *--p = prefix;
    size_t len = (size_t)(text + sizeof text - p);
    memcpy(room(q, len), p, len);
    q->len += len;
}

static void put_arg(resp_t *q, const char *arg, size_t len)
{
    put_count(q, '$', len);
    char *at = room(q, len + 2);
    memcpy(at, arg, len);
    at[len] = '\r';
    at[len + 1] = '\n';
    q->len += len + 2;
}

/* A command; lens NULL: the arguments are NUL-terminated. */
static void put_command(resp_t *q, int argc, const char **argv, const size_t *lens)
{
    put_count(q, '*', (unsigned long long)argc);
    for (int i = 0; i < argc; i++)
        put_arg(q, argv[i], lens ? lens[i] : strlen(argv[i]));
}

/* Sends a command given as argv and returns its reply, or NULL with err set
 * (the connection is then dropped). A Redis error reply is returned as NULL too. */
static redisReply *command(pm_kv_redis_t *r, int argc, const char **argv, const size_t *lens, char *err, size_t errlen);

/* Connects to r->current and logs in. */
static int connect_one(pm_kv_redis_t *r, char *err, size_t errlen)
{
    char at[256];
    const endpoint_t *e = &r->ep[r->current];
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    r->c = e->path ? redisConnectUnixWithTimeout(e->path, tv) : redisConnectWithTimeout(e->host, e->port, tv);
    if (r->c == NULL || r->c->err) {
        snprintf(err, errlen, "redis %s: %s", where(r, at, sizeof at), r->c ? r->c->errstr : "out of memory");
        if (r->c)
            redisFree(r->c);
        r->c = NULL;
        return -1;
    }
    redisSetTimeout(r->c, tv);
    char db[16];
    snprintf(db, sizeof db, "%d", e->db);
    const char *auth[] = {"AUTH", e->password}, *select[] = {"SELECT", db};
    const char **steps[2] = {e->password ? auth : NULL, e->db ? select : NULL};
    for (int i = 0; i < 2; i++) {
        redisReply *rep = steps[i] ? command(r, 2, steps[i], NULL, err, errlen) : NULL;
        if (steps[i] && rep == NULL) {
            if (r->c)
                redisFree(r->c); /* never keep a connection that is not logged in */
            r->c = NULL;
            return -1;
        }
        if (rep)
            freeReplyObject(rep);
    }
    return 0;
}

/* Tries each URL once, from the current one on; the first that answers
 * becomes current. All failed: the backoff starts. */
static int connect_now(pm_kv_redis_t *r, char *err, size_t errlen)
{
    char at[256];
    long long now = pm_kv_mono_ms();
    if (now < r->retry_at) {
        snprintf(err, errlen, "redis %s is down (next try in %lld ms)", where(r, at, sizeof at), r->retry_at - now);
        return -1;
    }
    for (int i = 0; i < r->n_ep; i++) {
        if (connect_one(r, err, errlen) == 0) {
            r->backoff_ms = BACKOFF_MIN_MS;
            return 0;
        }
        if (i + 1 < r->n_ep)
            r->current = (r->current + 1) % r->n_ep;
    }
    drop(r);
    return -1;
}

/* Reads one reply; NULL with err set (the connection dropped) on an I/O
 * error or a timeout. */
static redisReply *next_reply(pm_kv_redis_t *r, char *err, size_t errlen)
{
    char at[256];
    void *rep = NULL;
    if (redisGetReply(r->c, &rep) != REDIS_OK || rep == NULL) {
        int timeout = r->c->err == REDIS_ERR_IO && strstr(r->c->errstr, "temporarily unavailable");
        if (timeout)
            snprintf(err, errlen, "redis %s: no reply within timeout_ms (%d)", where(r, at, sizeof at), r->timeout_ms);
        else
            snprintf(err, errlen, "redis %s: %s", where(r, at, sizeof at), r->c->errstr[0] ? r->c->errstr : "connection lost");
        drop(r);
        return NULL;
    }
    return rep;
}

/* Queues the encoded commands in q (freed here) for one write, connecting
 * first if needed; their replies are read with next_reply. 0, or -1 with err. */
static int send_encoded(pm_kv_redis_t *r, resp_t *q, char *err, size_t errlen)
{
    int rc = 0;
    if (r->c == NULL && connect_now(r, err, errlen) != 0)
        rc = -1;
    else if (redisAppendFormattedCommand(r->c, q->data, q->len) != REDIS_OK) {
        snprintf(err, errlen, "redis: out of memory");
        drop(r);
        rc = -1;
    }
    free(q->data);
    return rc;
}

static redisReply *command(pm_kv_redis_t *r, int argc, const char **argv, const size_t *lens, char *err, size_t errlen)
{
    resp_t q = {0};
    put_command(&q, argc, argv, lens);
    redisReply *rep = send_encoded(r, &q, err, errlen) == 0 ? next_reply(r, err, errlen) : NULL;
    if (rep && rep->type == REDIS_REPLY_ERROR) {
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
    pm_kv_decimal(ttl_ms, ms);
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

/* With a TTL: MULTI, SET key 0 PX ttl NX, INCRBY, EXEC in one round trip, so
 * the key is created with its TTL and counted atomically, and cannot expire
 * between the two (a Lua script does the same at about 1.4 times Redis's CPU
 * per call, measured; without MULTI a key expiring between SET and INCRBY
 * would come back without a TTL). Without: INCRBY. */
static int redis_incr(void *b, const char *key, size_t klen, long long by, long long ttl_ms, long long *out, char *err,
                      size_t errlen)
{
    pm_kv_redis_t *r = b;
    char sby[24], sms[24];
    const char *incr[] = {"INCRBY", key, pm_kv_decimal(by, sby)}, *set[] = {"SET", key, "0", "PX", pm_kv_decimal(ttl_ms, sms), "NX"};
    size_t incr_lens[] = {6, klen, strlen(sby)}, set_lens[] = {3, klen, 1, 2, strlen(sms), 2};
    if (ttl_ms <= 0) {
        redisReply *rep = command(r, 3, incr, incr_lens, err, errlen);
        if (rep == NULL)
            return -1;
        *out = rep->integer;
        freeReplyObject(rep);
        return 0;
    }
    resp_t q = {0};
    put_command(&q, 1, (const char *[]){"MULTI"}, NULL);
    put_command(&q, 6, set, set_lens);
    put_command(&q, 3, incr, incr_lens);
    put_command(&q, 1, (const char *[]){"EXEC"}, NULL);
    if (send_encoded(r, &q, err, errlen) != 0)
        return -1;
    redisReply *rep = NULL;
    for (int i = 0; i < 4; i++) {
        if (rep)
            freeReplyObject(rep);
        if ((rep = next_reply(r, err, errlen)) == NULL)
            return -1;
    }
    /* EXEC: [SET's reply, INCRBY's reply]; an INCRBY error (not an integer) is an error element */
    int ok = rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 && rep->element[1]->type == REDIS_REPLY_INTEGER;
    if (ok)
        *out = rep->element[1]->integer;
    else
        snprintf(err, errlen, "redis: %s",
                 rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 && rep->element[1]->type == REDIS_REPLY_ERROR
                     ? rep->element[1]->str
                     : "unexpected reply to EXEC");
    freeReplyObject(rep);
    return ok ? 0 : -1;
}

/* One MGET for all n keys; vals[i] is a malloc'd NUL-terminated copy (caller
 * frees) or NULL for an absent key. */
static int redis_mget(void *b, size_t n, const char *const *keys, const size_t *klens, char **vals, size_t *vlens,
                      char *err, size_t errlen)
{
    pm_kv_redis_t *r = b;
    resp_t q = {0};
    put_count(&q, '*', n + 1);
    put_arg(&q, "MGET", 4);
    for (size_t i = 0; i < n; i++)
        put_arg(&q, keys[i], klens[i]);
    redisReply *rep = send_encoded(r, &q, err, errlen) == 0 ? next_reply(r, err, errlen) : NULL;
    if (rep == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n) {
        snprintf(err, errlen, "redis: %s", rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply to MGET");
        freeReplyObject(rep);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = rep->element[i];
        int found = e->type == REDIS_REPLY_STRING;
        vals[i] = found ? pm_strndup(e->str, e->len) : NULL;
        vlens[i] = found ? e->len : 0;
    }
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
    const char *argv[] = {"PEXPIRE", key, pm_kv_decimal(ttl_ms, ms)};
    size_t lens[] = {7, klen, strlen(ms)};
    long long n;
    return integer_command(b, 3, argv, lens, &n, err, errlen) ? -1 : n > 0;
}

const pm_kv_ops_t pm_kv_redis_ops = {redis_get, redis_set, redis_incr, redis_del, redis_ttl, redis_expire, redis_mget};
